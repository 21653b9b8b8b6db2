"""Drive graphs from OpenStreetMap files, Overpass (osmnx) or edge lists, with a UK speed model.

Every builder returns the same compact, routable :class:`DriveGraph`: nodes with coordinates
in EPSG:27700 (and WGS84), directed edges with length and free-flow travel time in minutes,
and a CSR matrix (``scipy.sparse``) for fast multi-source Dijkstra in
:mod:`netplan.traveltime`.

Sources
-------
- :func:`graph_from_file`: ``.osm.pbf`` (pyosmium) or ``.osm``/``.osm.xml`` (osmnx).
- :func:`graph_from_place`, :func:`graph_from_polygon`, :func:`graph_from_bbox`: Overpass
  through osmnx (online).
- :func:`graph_from_edge_list`: node and edge tables, e.g. the mirror's England and Wales
  major-road network.
- :func:`graph_from_name`: built-ins ``england-major-roads``, ``rutland``, ``leeds`` or any
  OSM file path, cached on disk under ``settings.cache_folder/graphs``.

Drivable network (as OSRM's car profile): ``highway`` in motorway, trunk, primary, secondary,
tertiary (and their ``_link`` roads), unclassified, residential, living_street; ``service``
optional. Ways tagged ``access``/``motor_vehicle``/``motorcar`` = no/private, ``area=yes`` or
``oneway=reversible`` are dropped. ``oneway=yes/true/1`` keeps the drawn direction,
``oneway=-1/reverse`` the opposite one, ``junction=roundabout/circular`` and
``highway=motorway`` imply one-way (OSRM's ``implied_oneway``).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import time
import zipfile
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse import csgraph

from . import settings
from ._errors import NetworkError, ValidationError
from ._io import atomic_path

# re-exported: netplan.network.SpeedModel etc. stay where users import them
from .speeds import OSRM_SPEEDS_KPH as OSRM_SPEEDS_KPH
from .speeds import UK_IMPLICIT_KPH as UK_IMPLICIT_KPH
from .speeds import SpeedModel
from .speeds import parse_maxspeed as parse_maxspeed

if TYPE_CHECKING:
    import networkx as nx
    from scipy.spatial import cKDTree

    from .profiles import DensitySurface, SpeedProfile

logger = logging.getLogger(__name__)

_FORMAT_VERSION = 3  # 2: profile and urban share; 3: motorway matching by chord sagitta
#: Drivable classes (``service`` only when asked for).
DRIVABLE = (
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
    "unclassified",
    "residential",
    "living_street",
)
_CLASSES = (*DRIVABLE, "service", "major", "ferry")
_CLASS_CODE = {c: i for i, c in enumerate(_CLASSES)}

_NO_ACCESS = {"no", "private"}
_YES = {"yes", "true", "1"}
_REVERSE = {"-1", "reverse"}


@dataclass(eq=False)
class DriveGraph:
    """A compact directed road graph with travel times in minutes.

    Attributes
    ----------
    node_ids
        Source node ids (OSM ids, or the edge list's ids), int64, one per node.
    x, y
        Node coordinates in EPSG:27700 (metres).
    lon, lat
        Node coordinates in WGS84.
    edge_u, edge_v
        Directed edges as node positions (0..n-1), int64. Each edge is a straight segment
        between its two nodes (graphs are not simplified), which is all the geometry
        isochrones need.
    edge_length_m, edge_minutes, edge_speed_kph
        Per-edge length, free-flow travel time and speed.
    edge_class
        Per-edge highway class code: ``CLASSES[code]``.
    source
        Where the graph came from (file path, place query, ...).
    detail
        ``"full"`` (every street) or ``"major"`` (major roads only; snapping then relies
        more on access legs).
    key
        Hash of the source and the speed settings (cache key).
    speed_model
        The :class:`SpeedModel` used for travel times.
    profile
        The :class:`~netplan.profiles.SpeedProfile` the graph was built with (None for a graph
        built from a bare :class:`SpeedModel`); it also sets the access legs of
        :func:`netplan.traveltime.snap`.
    edge_urban_share
        Per-edge urban share (0 rural .. 1 urban) of major-road edges, from the population
        density around them; zeros where the profile does not use it.
    """

    node_ids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length_m: np.ndarray
    edge_minutes: np.ndarray
    edge_speed_kph: np.ndarray
    edge_class: np.ndarray
    source: str = ""
    detail: str = "full"
    key: str = ""
    speed_model: SpeedModel = field(default_factory=SpeedModel)
    profile: SpeedProfile | None = None
    edge_urban_share: np.ndarray | None = None
    crs: str = "EPSG:27700"
    islands: dict[str, list[int]] = field(default_factory=dict)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    CLASSES = _CLASSES

    def __repr__(self) -> str:
        return (
            f"DriveGraph({self.n_nodes:,} nodes, {self.n_edges:,} edges, detail={self.detail!r}, "
            f"source={self.source!r}, key={self.key!r})"
        )

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_ids)

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return len(self.edge_u)

    @property
    def csr(self) -> sp.csr_array:
        """Travel-time matrix (minutes), ``csr[u, v]`` = fastest parallel edge u->v."""
        if "csr" not in self._cache:
            n = self.n_nodes
            # Keep the fastest of parallel edges: sort by time, drop later duplicates.
            order = np.lexsort((self.edge_minutes, self.edge_v, self.edge_u))
            u, v = self.edge_u[order], self.edge_v[order]
            w = self.edge_minutes[order]
            first = np.ones(len(u), dtype=bool)
            first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
            # csgraph ignores explicit zeros; zero-length segments get a tiny positive time.
            w = np.maximum(w[first], 1e-9)
            self._cache["csr"] = sp.csr_array((w, (u[first], v[first])), shape=(n, n))
        return self._cache["csr"]

    @property
    def csr_reverse(self) -> sp.csr_array:
        """The reversed graph (``csr_reverse[v, u]`` = time of u->v), for to-destination runs."""
        if "csr_rev" not in self._cache:
            self._cache["csr_rev"] = sp.csr_array(self.csr.T)
        return self._cache["csr_rev"]

    @property
    def main_component(self) -> np.ndarray:
        """Boolean mask of nodes in the largest strongly connected component.

        Points are snapped only to these nodes so every snapped pair is mutually reachable.
        """
        if "main" not in self._cache:
            _, labels = csgraph.connected_components(self.csr, directed=True, connection="strong")
            counts = np.bincount(labels)
            self._cache["main"] = labels == int(np.argmax(counts))
        return self._cache["main"]

    @property
    def kdtree(self) -> tuple[cKDTree, np.ndarray]:
        """KD-tree over the main-component nodes (EPSG:27700) and their node positions."""
        if "kdtree" not in self._cache:
            from scipy.spatial import cKDTree

            on_land = self.main_component.copy()
            for nodes in self.islands.values():  # island nodes take island points only
                on_land[np.asarray(nodes, dtype=np.int64)] = False
            idx = np.flatnonzero(on_land)
            self._cache["kdtree"] = (cKDTree(np.column_stack([self.x[idx], self.y[idx]])), idx)
        return self._cache["kdtree"]

    def edges_frame(self) -> pd.DataFrame:
        """Return the edges as a DataFrame ``u, v`` (source ids) with length, class, minutes."""
        return pd.DataFrame(
            {
                "u": self.node_ids[self.edge_u],
                "v": self.node_ids[self.edge_v],
                "length_m": self.edge_length_m,
                "highway": np.asarray(self.CLASSES, dtype=object)[self.edge_class],
                "speed_kph": self.edge_speed_kph,
                "minutes": self.edge_minutes,
            }
        )

    def to_networkx(self) -> nx.MultiDiGraph:
        """Return an osmnx-style ``networkx.MultiDiGraph``.

        Graph attribute ``crs`` is ``"EPSG:27700"``; nodes carry ``x``, ``y`` (EPSG:27700),
        ``lon``, ``lat``; edges carry ``length`` (m), ``highway``, ``speed_kph``,
        ``travel_time`` (**minutes**, netplan's unit; osmnx uses seconds) and
        ``travel_time_s`` (seconds).
        """
        import networkx as nx

        G = nx.MultiDiGraph(crs=self.crs, name=self.source, netplan_key=self.key)
        ids = self.node_ids.tolist()
        G.add_nodes_from(
            (nid, {"x": x, "y": y, "lon": lo, "lat": la})
            for nid, x, y, lo, la in zip(
                ids,
                self.x.tolist(),
                self.y.tolist(),
                self.lon.tolist(),
                self.lat.tolist(),
                strict=True,
            )
        )
        classes = np.asarray(self.CLASSES, dtype=object)[self.edge_class].tolist()
        G.add_edges_from(
            (
                ids[u],
                ids[v],
                {
                    "length": ln,
                    "highway": h,
                    "speed_kph": s,
                    "travel_time": m,
                    "travel_time_s": m * 60.0,
                },
            )
            for u, v, ln, h, s, m in zip(
                self.edge_u.tolist(),
                self.edge_v.tolist(),
                self.edge_length_m.tolist(),
                classes,
                self.edge_speed_kph.tolist(),
                self.edge_minutes.tolist(),
                strict=True,
            )
        )
        return G

    def save(self, path: str | Path) -> Path:
        """Write the graph to ``path`` (``.npz``), atomically."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "format_version": _FORMAT_VERSION,
            "source": self.source,
            "detail": self.detail,
            "key": self.key,
            "speed_model": self.speed_model.to_dict(),
            "profile": self.profile.to_dict() if self.profile is not None else None,
            "profile_source": self.profile.source if self.profile is not None else None,
            "islands": {k: [int(i) for i in v] for k, v in self.islands.items()},
            "crs": self.crs,
        }
        arrays = {name: getattr(self, name) for name in _ARRAYS}
        arrays["edge_urban_share"] = self.urban_share
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, meta=np.array(json.dumps(meta)), **arrays)
        return path

    @classmethod
    def load(cls, path: str | Path) -> DriveGraph:
        """Read a graph written by :meth:`save`.

        Raises
        ------
        NetworkError
            If the file is missing, corrupt or from another format version.
        """
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                arrays = {name: z[name] for name in (*_ARRAYS, "edge_urban_share")}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            msg = f"cannot read drive graph {path}: {exc}. Delete it and build the graph again."
            raise NetworkError(msg) from exc
        if meta.get("format_version") != _FORMAT_VERSION:
            msg = f"drive graph {path} has format {meta.get('format_version')}; rebuild it."
            raise NetworkError(msg)
        return cls(
            **arrays,
            source=meta["source"],
            detail=meta["detail"],
            key=meta["key"],
            speed_model=SpeedModel.from_dict(meta["speed_model"]),
            profile=_profile_from_meta(meta.get("profile"), meta.get("profile_source")),
            islands=meta.get("islands") or {},
            crs=meta["crs"],
        )

    @property
    def urban_share(self) -> np.ndarray:
        """Per-edge urban share (zeros when not computed)."""
        if self.edge_urban_share is None:
            return np.zeros(len(self.edge_u))
        return self.edge_urban_share

    def with_profile(self, profile: SpeedProfile) -> DriveGraph:
        """A copy whose motorway and ``major`` edges run at ``profile``'s speeds.

        Uses the stored per-edge urban shares (no rebuild); other classes keep their speeds.
        This is how :mod:`netplan.calibrate` evaluates candidate profiles quickly.
        """
        speed = self.edge_speed_kph.copy()
        cls = self.edge_class
        for group in ("motorway", "major"):
            on = cls == _CLASS_CODE[group]
            speed[on] = profile.major_speed_kph(group, self.urban_share[on]) * _osm_factor(
                profile, group
            )
        G = dataclasses.replace(
            self,
            edge_speed_kph=speed,
            edge_minutes=self.edge_length_m / 1000.0 / speed * 60.0,
            profile=profile,
            _cache={},
            key=f"{self.key}|{profile.hash}",
        )
        return G


def _profile_from_meta(
    d: Mapping[str, Any] | None, source: str | None = None
) -> SpeedProfile | None:
    if not d:
        return None
    from .profiles import SpeedProfile

    d = dict(d)
    return SpeedProfile(str(d.pop("name")), d, source=source or "cached graph")


def _osm_factor(profile: SpeedProfile, cls: str) -> float:
    """The profile's congestion x calibration multiplier of class ``cls``."""
    osm = profile.content["osm"]
    return float(dict(osm.get("congestion") or {}).get(cls, 1.0)) * float(
        osm.get("calibration", 1.0)
    )


_ARRAYS = (
    "node_ids",
    "x",
    "y",
    "lon",
    "lat",
    "edge_u",
    "edge_v",
    "edge_length_m",
    "edge_minutes",
    "edge_speed_kph",
    "edge_class",
)


# ------------------------------------------------------------------------------- helpers
@functools.lru_cache(maxsize=4)
def _transformer(src: str, dst: str) -> Any:
    from pyproj import Transformer

    return Transformer.from_crs(src, dst, always_xy=True)


def _to_bng(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    tr = _transformer(settings.geographic_crs, settings.projected_crs)
    x, y = tr.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def _haversine_m(
    lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray
) -> np.ndarray:
    r = 6_371_009.0  # mean Earth radius (m), as osmnx's great_circle
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dlmb = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * r * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def _assemble(
    node_ids: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    length_m: np.ndarray,
    speed_kph: np.ndarray,
    cls: np.ndarray,
    *,
    source: str,
    detail: str,
    key: str,
    speed_model: SpeedModel,
) -> DriveGraph:
    """Drop unused nodes, compute minutes and return the DriveGraph."""
    if len(u) == 0:
        msg = (
            f"{source}: no drivable roads found (highway=motorway ... residential, "
            "living_street); check the file or area covers roads."
        )
        raise NetworkError(msg)
    used = np.zeros(len(node_ids), dtype=bool)
    used[u] = True
    used[v] = True
    remap = np.cumsum(used) - 1
    lon, lat = lon[used], lat[used]
    x, y = _to_bng(lon, lat)
    minutes = length_m / 1000.0 / speed_kph * 60.0
    return DriveGraph(
        node_ids=np.asarray(node_ids[used], dtype=np.int64),
        x=x,
        y=y,
        lon=lon,
        lat=lat,
        edge_u=remap[u].astype(np.int64),
        edge_v=remap[v].astype(np.int64),
        edge_length_m=np.asarray(length_m, dtype=float),
        edge_minutes=minutes,
        edge_speed_kph=np.asarray(speed_kph, dtype=float),
        edge_class=np.asarray(cls, dtype=np.int8),
        source=source,
        detail=detail,
        key=key,
        speed_model=speed_model,
    )


def _way_direction(tags: Mapping[str, str], highway: str) -> int | None:
    """Return 1 (drawn direction), -1 (reverse), 0 (both) or None (not routable)."""
    oneway = str(tags.get("oneway", "")).strip().lower()
    if oneway in _YES:
        return 1
    if oneway in _REVERSE:
        return -1
    if oneway in {"reversible", "alternating"}:
        return None
    if oneway == "no":
        return 0
    if str(tags.get("junction", "")).lower() in {"roundabout", "circular"}:
        return 1
    return 1 if highway == "motorway" else 0


def _drivable(tags: Mapping[str, str], *, include_service: bool) -> str | None:
    """Return the highway class if the way is drivable, else None."""
    highway = tags.get("highway")
    if highway not in _CLASS_CODE or highway in {"major", "ferry"}:
        return None
    if highway == "service" and not include_service:
        return None
    for key in ("motor_vehicle", "motorcar", "access"):
        value = tags.get(key)
        if value is not None:
            if str(value).lower() in _NO_ACCESS:
                return None
            break  # the most specific tag present decides (motorcar=yes overrides access=no)
    if str(tags.get("area", "")).lower() == "yes":
        return None
    return highway


def _cache_key(source_id: str, speed_model: SpeedModel, **options: object) -> str:
    text = json.dumps(
        {"v": _FORMAT_VERSION, "source": source_id, "speed": speed_model.to_dict(), **options},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _file_id(path: Path) -> str:
    st = path.stat()
    return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"


# ------------------------------------------------------------------------------ builders
def graph_from_file(
    path: str | Path,
    *,
    speed_model: SpeedModel | None = None,
    include_service: bool = False,
    engine: str | None = None,
    node_cache: str = "flex_mem",
) -> DriveGraph:
    """Build a drive graph from an OSM file.

    ``.osm.pbf`` is read with pyosmium (fast, streams large files); ``.osm``/``.osm.xml`` with
    osmnx. Every way node is kept (no simplification), so edges are straight segments.

    Parameters
    ----------
    path
        The OSM file.
    speed_model
        Speeds (default :class:`SpeedModel`).
    include_service
        Also route on ``highway=service`` roads.
    engine
        {"osmium", "osmnx"}; default by extension (``.osm``/``.xml``: osmnx, else osmium).
        pyosmium reads XML too. The osmnx engine keeps osmnx's one-way rules, which do not
        imply one-way for an untagged ``highway=motorway`` and do not see ``motorcar=yes``
        overrides of ``access=no``.
    node_cache
        pyosmium node-location store (osmium engine): ``"flex_mem"`` (default, fine up to
        country extracts), ``"sparse_mem_array"`` (about 16 bytes per OSM node: ~3 GB for
        England) or ``"dense_file_array,PATH"`` to keep locations on disk.

    Returns
    -------
    DriveGraph

    Raises
    ------
    NetworkError
        If the file is missing, empty, corrupt or has no drivable roads.
    """
    path = Path(path)
    speed_model = speed_model or SpeedModel()
    if not path.is_file():
        msg = f"OSM file {path} not found; give an existing .osm.pbf or .osm file."
        raise NetworkError(msg)
    if path.stat().st_size == 0:
        msg = f"OSM file {path} is empty; download it again (e.g. from download.geofabrik.de)."
        raise NetworkError(msg)
    name = path.name.lower()
    if engine is None:
        engine = "osmnx" if name.endswith((".osm", ".osm.xml", ".xml")) else "osmium"
    if engine not in {"osmium", "osmnx"}:
        msg = f"graph_from_file: engine must be 'osmium' or 'osmnx', got {engine!r}."
        raise ValidationError(msg)
    key = _cache_key(_file_id(path), speed_model, include_service=include_service, engine=engine)
    t0 = time.perf_counter()
    if engine == "osmnx":
        G = _graph_from_osm_xml(path, speed_model, include_service=include_service, key=key)
    else:
        G = _graph_from_pbf(
            path, speed_model, include_service=include_service, key=key, node_cache=node_cache
        )
    logger.info(
        "graph from %s: %s nodes, %s edges, %.1f s",
        path.name,
        f"{G.n_nodes:,}",
        f"{G.n_edges:,}",
        time.perf_counter() - t0,
    )
    return G


def _graph_from_pbf(
    path: Path,
    speed_model: SpeedModel,
    *,
    include_service: bool,
    key: str,
    node_cache: str = "flex_mem",
) -> DriveGraph:
    import osmium

    # Typed arrays (8 bytes an item) rather than lists of Python objects (~32 bytes).
    refs = array("q")
    lons = array("d")
    lats = array("d")
    way_len = array("q")
    way_dir = array("b")
    way_speed = array("d")
    way_cls = array("b")
    try:
        fp = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations(node_cache)
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for way in fp:
            tags = way.tags
            highway = _drivable(tags, include_service=include_service)
            if highway is None:
                continue
            direction = _way_direction(tags, highway)
            if direction is None:
                continue
            n = 0
            for nd in way.nodes:
                loc = nd.location
                if not loc.valid():
                    continue  # node outside the extract: drop it, join its neighbours
                refs.append(nd.ref)
                lons.append(loc.lon)
                lats.append(loc.lat)
                n += 1
            if n < 2:
                del refs[len(refs) - n :], lons[len(lons) - n :], lats[len(lats) - n :]
                continue
            way_len.append(n)
            way_dir.append(direction)
            way_speed.append(speed_model.speed_kph(highway, tags.get("maxspeed")))
            way_cls.append(_CLASS_CODE[highway])
    except RuntimeError as exc:
        msg = f"cannot read OSM file {path}: {exc}. Is it a complete .osm.pbf file?"
        raise NetworkError(msg) from exc
    ref_arr = np.frombuffer(refs, dtype=np.int64) if len(refs) else np.zeros(0, np.int64)
    lengths = np.frombuffer(way_len, dtype=np.int64) if len(way_len) else np.zeros(0, np.int64)
    node_ids, first, inv = np.unique(ref_arr, return_index=True, return_inverse=True)
    lon_arr = np.frombuffer(lons, dtype=float)[first] if len(lons) else np.zeros(0)
    lat_arr = np.frombuffer(lats, dtype=float)[first] if len(lats) else np.zeros(0)
    # Segment k joins way-node k and k+1 unless k is the last node of its way.
    last = np.cumsum(lengths) - 1 if len(lengths) else np.zeros(0, dtype=np.int64)
    seg = np.ones(len(ref_arr), dtype=bool)
    seg[last] = False
    seg_start = np.flatnonzero(seg)
    way_of_seg = np.repeat(np.arange(len(lengths)), np.maximum(lengths - 1, 0))
    a, b = inv[seg_start], inv[seg_start + 1]
    length_m = _haversine_m(lon_arr[a], lat_arr[a], lon_arr[b], lat_arr[b])
    direction = np.asarray(way_dir, dtype=np.int8)[way_of_seg]
    speed = np.asarray(way_speed, dtype=float)[way_of_seg]
    cls = np.asarray(way_cls, dtype=np.int8)[way_of_seg]
    fwd, bwd = direction >= 0, direction <= 0
    u = np.concatenate([a[fwd], b[bwd]])
    v = np.concatenate([b[fwd], a[bwd]])
    return _assemble(
        node_ids,
        lon_arr,
        lat_arr,
        u,
        v,
        np.concatenate([length_m[fwd], length_m[bwd]]),
        np.concatenate([speed[fwd], speed[bwd]]),
        np.concatenate([cls[fwd], cls[bwd]]),
        source=str(path),
        detail="full",
        key=key,
        speed_model=speed_model,
    )


def _graph_from_osm_xml(
    path: Path, speed_model: SpeedModel, *, include_service: bool, key: str
) -> DriveGraph:
    import osmnx as ox

    try:
        Gx = ox.graph_from_xml(path, bidirectional=False, simplify=False, retain_all=True)
    except Exception as exc:  # osmnx raises many kinds on bad XML (ParseError, ValueError ...)
        msg = f"cannot read OSM XML file {path}: {exc}. Is it a valid .osm file with roads?"
        raise NetworkError(msg) from exc
    return graph_from_osmnx(
        Gx, speed_model=speed_model, include_service=include_service, source=str(path), key=key
    )


def graph_from_osmnx(
    Gx: nx.MultiDiGraph,
    *,
    speed_model: SpeedModel | None = None,
    include_service: bool = False,
    source: str = "osmnx",
    key: str | None = None,
) -> DriveGraph:
    """Convert an unsimplified osmnx graph (WGS84, ``bidirectional=False``) to a DriveGraph.

    Edges keep osmnx's direction handling (one-way and ``oneway=-1`` already applied); they
    are filtered to the drivable classes and access rules above and timed with
    ``speed_model``. A way with a list of ``highway`` values takes the first one.

    Raises
    ------
    NetworkError
        If no drivable edge remains.
    """
    speed_model = speed_model or SpeedModel()
    us: list[int] = []
    vs: list[int] = []
    lengths: list[float] = []
    speeds: list[float] = []
    classes: list[int] = []
    for u, v, data in Gx.edges(data=True):
        tags = {
            k: (val[0] if isinstance(val, list) else val)
            for k, val in data.items()
            if k in {"highway", "access", "motor_vehicle", "motorcar", "area"}
        }
        highway = _drivable(tags, include_service=include_service)
        if highway is None or str(data.get("oneway", "")).lower() in {"reversible"}:
            continue
        us.append(u)
        vs.append(v)
        lengths.append(float(data.get("length", np.nan)))
        speeds.append(speed_model.speed_kph(highway, data.get("maxspeed")))
        classes.append(_CLASS_CODE[highway])
    nodes = list(Gx.nodes)
    node_ids = np.asarray(nodes, dtype=np.int64)
    pos = {n: i for i, n in enumerate(nodes)}
    lon = np.asarray([Gx.nodes[n]["x"] for n in nodes], dtype=float)
    lat = np.asarray([Gx.nodes[n]["y"] for n in nodes], dtype=float)
    u_idx = np.asarray([pos[n] for n in us], dtype=np.int64)
    v_idx = np.asarray([pos[n] for n in vs], dtype=np.int64)
    length_m = np.asarray(lengths, dtype=float)
    if len(u_idx):
        missing = ~np.isfinite(length_m)
        length_m[missing] = _haversine_m(
            lon[u_idx[missing]], lat[u_idx[missing]], lon[v_idx[missing]], lat[v_idx[missing]]
        )
    key = key or _cache_key(f"osmnx:{source}", speed_model, include_service=include_service)
    return _assemble(
        node_ids,
        lon,
        lat,
        u_idx,
        v_idx,
        length_m,
        np.asarray(speeds, dtype=float),
        np.asarray(classes, dtype=np.int8),
        source=source,
        detail="full",
        key=key,
        speed_model=speed_model,
    )


def _overpass_filter(include_service: bool) -> str:
    classes = "|".join((*DRIVABLE, "service") if include_service else DRIVABLE)
    return (
        f'["highway"~"^({classes})$"]["area"!~"yes"]["access"!~"^(private|no)$"]'
        '["motor_vehicle"!~"^(private|no)$"]["motorcar"!~"^(private|no)$"]'
    )


def graph_from_place(
    query: str | dict[str, str],
    *,
    speed_model: SpeedModel | None = None,
    include_service: bool = False,
) -> DriveGraph:
    """Download the drivable network of a place from Overpass (osmnx; needs internet).

    Raises
    ------
    NetworkError
        If the download fails or the place has no drivable roads.
    """
    import osmnx as ox

    return _from_overpass(
        lambda flt: ox.graph_from_place(query, custom_filter=flt, simplify=False, retain_all=True),
        f"place:{query}",
        speed_model,
        include_service,
    )


def graph_from_polygon(
    polygon: Any,
    *,
    speed_model: SpeedModel | None = None,
    include_service: bool = False,
) -> DriveGraph:
    """Download the drivable network inside a WGS84 shapely polygon (osmnx; needs internet)."""
    import osmnx as ox

    return _from_overpass(
        lambda flt: ox.graph_from_polygon(
            polygon, custom_filter=flt, simplify=False, retain_all=True
        ),
        f"polygon:{getattr(polygon, 'wkt', polygon)}",
        speed_model,
        include_service,
    )


def graph_from_bbox(
    bbox: tuple[float, float, float, float],
    *,
    speed_model: SpeedModel | None = None,
    include_service: bool = False,
) -> DriveGraph:
    """Download the drivable network in ``bbox`` = (left, bottom, right, top) WGS84 degrees.

    The order is osmnx 2's (west, south, east, north).
    """
    import osmnx as ox

    return _from_overpass(
        lambda flt: ox.graph_from_bbox(bbox, custom_filter=flt, simplify=False, retain_all=True),
        f"bbox:{tuple(bbox)}",
        speed_model,
        include_service,
    )


def _from_overpass(
    fetch: Any, source: str, speed_model: SpeedModel | None, include_service: bool
) -> DriveGraph:
    try:
        Gx = fetch(_overpass_filter(include_service))
    except Exception as exc:  # osmnx raises InsufficientResponseError, HTTP errors, ...
        msg = f"Overpass download for {source} failed: {exc}. Check the query and your connection."
        raise NetworkError(msg) from exc
    return graph_from_osmnx(
        Gx, speed_model=speed_model, include_service=include_service, source=source
    )


def graph_from_edge_list(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    speed_model: SpeedModel | None = None,
    motorways: Any = None,
    motorway_tolerance_m: float = 250.0,
    major_class: str = "major",
    source: str = "edge list",
    profile: SpeedProfile | str | None = None,
    density: DensitySurface | None = None,
) -> DriveGraph:
    """Build a two-way drive graph from node and edge tables.

    Parameters
    ----------
    nodes
        ``node, lon, lat`` (WGS84).
    edges
        ``u, v, length_km``; optional ``highway`` (class) and ``oneway`` (bool) columns.
    speed_model
        Speeds (default :class:`SpeedModel`).
    motorways
        Optional GeoDataFrame of motorway centre lines (any CRS). An edge without a
        ``highway`` value is classed ``motorway`` when at least 4 of 5 points along it
        (at 10, 30, 50, 70 and 90 % of the straight segment) lie within
        ``motorway_tolerance_m`` of a motorway line in EPSG:27700; otherwise
        ``major_class``. End points are skipped so roads that merely meet or cross a
        motorway at a junction stay major roads; the tolerance covers the mirror's 0.001
        degree node rounding (under about 70 m) plus chord-versus-curve offsets.
    motorway_tolerance_m
        See ``motorways``.
    major_class
        Class of the other edges: ``"major"`` (OSRM primary, 65 km/h, by default;
        conservative because the mirror mixes trunk and primary roads) or any OSM class.
    source
        Label kept on the graph.
    profile
        A :class:`~netplan.profiles.SpeedProfile` (or its name): motorway and ``major``
        edges then run at the profile's rural-to-urban speeds by the population density
        around their mid-points (``density``, default the ONS LSOA surface), other classes at
        its OSM class speeds; ``speed_model`` is then ignored.
    density
        The density surface for ``profile`` (default :func:`netplan.profiles.density_surface`).

    Returns
    -------
    DriveGraph
        With ``detail="major"``.

    Raises
    ------
    ValidationError
        If a column is missing or an edge names an unknown node.
    NetworkError
        If there are no edges.
    """
    from ._validate import check_columns

    if profile is not None:
        from .profiles import density_surface, load_profile

        profile = load_profile(profile)
        speed_model = profile.speed_model()
        density = density if density is not None else density_surface()
    speed_model = speed_model or SpeedModel()
    check_columns(nodes, ["node", "lon", "lat"], source=f"{source} nodes")
    check_columns(edges, ["u", "v", "length_km"], source=f"{source} edges")
    node_ids = nodes["node"].to_numpy(dtype=np.int64)
    order = np.argsort(node_ids)
    sorted_ids = node_ids[order]
    lon = nodes["lon"].to_numpy(dtype=float)
    lat = nodes["lat"].to_numpy(dtype=float)

    def _pos(col: str) -> np.ndarray:
        ids = edges[col].to_numpy(dtype=np.int64)
        p = np.minimum(np.searchsorted(sorted_ids, ids), len(sorted_ids) - 1)
        bad = sorted_ids[p] != ids
        if bad.any():
            msg = (
                f"{source} edges: column {col!r} names node(s) {ids[bad][:10].tolist()} "
                "missing from the node table; fix the tables."
            )
            raise ValidationError(msg)
        return order[p]

    if len(edges) == 0 or len(nodes) == 0:
        msg = f"{source}: the edge list is empty; no drivable roads."
        raise NetworkError(msg)
    a, b = _pos("u"), _pos("v")
    length_m = edges["length_km"].to_numpy(dtype=float) * 1000.0
    if "highway" in edges.columns:
        cls_names = edges["highway"].fillna(major_class).astype(str).to_numpy()
    else:
        cls_names = np.full(len(edges), major_class, dtype=object)
        if motorways is not None and len(motorways):
            x, y = _to_bng(lon, lat)
            is_mw = _match_motorways(x[a], y[a], x[b], y[b], motorways, motorway_tolerance_m)
            cls_names[is_mw] = "motorway"
            logger.info(
                "edge list: %d of %d edges matched to motorways (%.0f km)",
                int(is_mw.sum()),
                len(is_mw),
                length_m[is_mw].sum() / 1000,
            )
    unknown = sorted(set(cls_names) - set(_CLASS_CODE))
    if unknown:
        msg = f"{source} edges: unknown highway class(es) {unknown}; use {list(_CLASSES)}."
        raise ValidationError(msg)
    cls = np.asarray([_CLASS_CODE[c] for c in cls_names], dtype=np.int8)
    speed = np.asarray([speed_model.speed_kph(c) for c in cls_names], dtype=float)
    share = np.zeros(len(cls_names))
    if profile is not None:
        x, y = _to_bng(lon, lat)
        if density is not None:
            share = density.urban_share(profile, (x[a] + x[b]) / 2, (y[a] + y[b]) / 2)
        else:
            share[:] = 0.5  # no population data: half way between rural and urban
        for group in ("motorway", "major"):
            on = cls_names == group
            speed[on] = profile.major_speed_kph(group, share[on]) * _osm_factor(profile, group)
    oneway = (
        edges["oneway"].fillna(False).astype(bool).to_numpy()
        if "oneway" in edges.columns
        else np.zeros(len(edges), dtype=bool)
    )
    two = ~oneway
    key = _cache_key(
        f"edges:{source}",
        speed_model,
        major_class=major_class,
        tol=motorway_tolerance_m,
        profile=profile.hash if profile is not None else None,
    )
    G = _assemble(
        node_ids,
        lon,
        lat,
        np.concatenate([a, b[two]]),
        np.concatenate([b, a[two]]),
        np.concatenate([length_m, length_m[two]]),
        np.concatenate([speed, speed[two]]),
        np.concatenate([cls, cls[two]]),
        source=source,
        detail="major",
        key=key,
        speed_model=speed_model,
    )
    G.profile = profile
    G.edge_urban_share = np.concatenate([share, share[two]])
    return G


def _match_motorways(
    x0: np.ndarray,
    y0: np.ndarray,
    x1: np.ndarray,
    y1: np.ndarray,
    motorways: Any,
    tolerance_m: float,
) -> np.ndarray:
    """Edges that run along a motorway (see :func:`graph_from_edge_list`).

    An edge is a straight chord between its end nodes, while the road curves: the chord of
    a long edge strays from the motorway line by its sagitta. So the interior points are
    tested against ``max(tolerance_m, 8 % of the chord)`` (the sagitta of an arc that turns
    through about 36 degrees), and both end points must lie within ``tolerance_m`` of a
    motorway, which keeps roads that cross or leave a motorway at a junction out.
    """
    import shapely

    lines = motorways.to_crs(settings.projected_crs).geometry.to_numpy()
    tree = shapely.STRtree(lines)
    chord = np.hypot(x1 - x0, y1 - y0)
    fractions = np.array([0.1, 0.3, 0.5, 0.7, 0.9])
    px = (x0[:, None] + (x1 - x0)[:, None] * fractions).ravel()
    py = (y0[:, None] + (y1 - y0)[:, None] * fractions).ravel()
    tol = np.repeat(np.maximum(tolerance_m, 0.08 * chord), len(fractions))
    dist = _nearest_distance(tree, lines, shapely.points(px, py))
    inner = (dist <= tol).reshape(-1, len(fractions)).sum(axis=1) >= 4
    ends = _nearest_distance(tree, lines, shapely.points(np.r_[x0, x1], np.r_[y0, y1]))
    both_ends = (ends[: len(x0)] <= tolerance_m) & (ends[len(x0) :] <= tolerance_m)
    return inner & both_ends


def _nearest_distance(tree: Any, lines: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Distance (m) from each point to the nearest motorway line."""
    import shapely

    i_pt, i_line = tree.query_nearest(pts, all_matches=False)
    out = np.full(len(pts), np.inf)
    out[i_pt] = shapely.distance(pts[i_pt], lines[i_line])
    return out


# ------------------------------------------------------------------------- named graphs
BUILTIN = ("england-major-roads", "rutland", "leeds")


def graph_from_name(
    name_or_path: str | Path,
    *,
    speed_model: SpeedModel | None = None,
    include_service: bool = False,
    use_cache: bool = True,
    profile: SpeedProfile | str | None = None,
) -> DriveGraph:
    """Return a built-in network or the graph of an OSM file, cached on disk.

    Parameters
    ----------
    name_or_path
        ``"england-major-roads"`` (national default: the mirror's England and Wales major
        roads with OS motorways), ``"rutland"``, ``"leeds"`` (full-detail OSM extracts) or
        the path of an ``.osm.pbf``/``.osm`` file.
    speed_model
        A bare :class:`SpeedModel` (legacy; no profile, constant access legs). Ignored
        when ``profile`` is given.
    include_service
        Route on service roads too (OSM sources only).
    profile
        Speed profile name or file (default ``"free_flow"`` unless ``speed_model`` is
        given): see :mod:`netplan.profiles`. The graph records it and its hash.
    use_cache
        Read and write ``settings.cache_folder/graphs/<key>.npz``, keyed by the source and
        the speed settings; a cached graph loads in well under a second.

    Raises
    ------
    NetworkError
        If the name is unknown and no such file exists, or the file has no roads.
    """
    from . import data
    from .profiles import load_profile

    if profile is not None or speed_model is None:
        profile = load_profile(profile)
        speed_model = profile.speed_model()
    name = str(name_or_path)
    if name == "england-major-roads":
        source_id = "|".join(
            _file_id(data.dataset_path(d))
            for d in ("roads-major-nodes", "roads-major-edges", "os-motorways")
        )
    else:
        if name not in BUILTIN and not Path(name).is_file():
            msg = (
                f"unknown network {name!r}: give one of {list(BUILTIN)} "
                "or the path of an .osm.pbf/.osm file."
            )
            raise NetworkError(msg)
        path = data.osm_path(name)
        source_id = _file_id(Path(path))
    key = _cache_key(
        f"name:{name}:{source_id}",
        speed_model,
        include_service=include_service,
        profile=profile.hash if profile is not None else None,
    )
    cache = Path(settings.cache_folder) / "graphs" / f"{key}.npz"
    if use_cache and cache.is_file():
        try:
            G = DriveGraph.load(cache)
            logger.info("graph %s loaded from cache %s", name, cache)
            if profile is not None:  # same content (the key has its hash); keep its name
                G.profile = profile
            return G
        except NetworkError as exc:
            logger.warning("ignoring unreadable cached graph: %s", exc)
    if name == "england-major-roads":
        nodes, edges = data.load_major_roads()
        G = graph_from_edge_list(
            nodes,
            edges,
            speed_model=speed_model,
            motorways=data.load_motorways(),
            source=name,
            profile=profile,
        )
    else:
        G = graph_from_file(path, speed_model=speed_model, include_service=include_service)
        G.profile = profile
    if profile is not None and profile.ferries:
        from .ferries import add_ferries

        G = add_ferries(G, profile)
    G.key = key
    if use_cache:
        G.save(cache)
    return G
