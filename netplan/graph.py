"""The drive-graph container: :class:`DriveGraph` and the helpers every graph builder shares.

Owns the compact routable graph (nodes in EPSG:27700 and WGS84, directed edges with length,
minutes, speed, class and urban share, CSR matrices, the KD-tree of snappable nodes,
``save``/``load`` as ``.npz``) and the pieces the builders in :mod:`netplan.osm` and
:mod:`netplan.network` share (coordinate transforms, graph assembly, cache keys). It
imports no builder.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse import csgraph

from ._errors import NetworkError
from ._geo import _to_bng
from ._io import atomic_path

# re-exported: netplan.network.SpeedModel etc. stay where users import them
from .speeds import OSRM_SPEEDS_KPH as OSRM_SPEEDS_KPH
from .speeds import UK_IMPLICIT_KPH as UK_IMPLICIT_KPH
from .speeds import SpeedModel
from .speeds import parse_maxspeed as parse_maxspeed

if TYPE_CHECKING:
    import networkx as nx
    from scipy.spatial import cKDTree

    from .profiles import SpeedProfile

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
            with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                arrays = {name: z[name] for name in (*_ARRAYS, "edge_urban_share")}
            if not isinstance(meta, dict):
                msg = "its metadata is not a mapping"
                raise ValueError(msg)
            if meta.get("format_version") != _FORMAT_VERSION:
                msg = f"drive graph {path} has format {meta.get('format_version')}; rebuild it."
                raise NetworkError(msg)
            _check_arrays(arrays)
            G = cls(
                **arrays,
                source=meta["source"],
                detail=meta["detail"],
                key=meta["key"],
                speed_model=SpeedModel.from_dict(meta["speed_model"]),
                profile=_profile_from_meta(meta.get("profile"), meta.get("profile_source")),
                islands=meta.get("islands") or {},
                crs=meta["crs"],
            )
        except NetworkError:
            raise
        except Exception as exc:
            detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
            msg = f"cannot read drive graph {path} ({detail}); delete it and build the graph again"
            raise NetworkError(msg) from exc
        return G

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
def _check_arrays(arrays: Mapping[str, np.ndarray]) -> None:
    """Raise ValueError unless the arrays of a saved graph fit together."""
    n = len(arrays["node_ids"])
    m = len(arrays["edge_u"])
    for name in ("x", "y", "lon", "lat"):
        if len(arrays[name]) != n:
            msg = f"{name} has {len(arrays[name])} values for {n} nodes"
            raise ValueError(msg)
    for name in (
        "edge_v",
        "edge_length_m",
        "edge_minutes",
        "edge_speed_kph",
        "edge_class",
        "edge_urban_share",
    ):
        if len(arrays[name]) != m:
            msg = f"{name} has {len(arrays[name])} values for {m} edges"
            raise ValueError(msg)
    for name in ("edge_u", "edge_v"):
        a = arrays[name]
        if m and (a.min() < 0 or a.max() >= n):
            msg = f"{name} names nodes outside 0..{n - 1}"
            raise ValueError(msg)
    minutes = arrays["edge_minutes"]
    if m and not (np.all(np.isfinite(minutes)) and minutes.min() >= 0):
        msg = "edge_minutes holds negative or non-finite values"
        raise ValueError(msg)


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
