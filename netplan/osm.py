"""Drive graphs from OpenStreetMap: ``.osm.pbf`` (pyosmium), ``.osm`` XML and Overpass (osmnx).

Owns which OSM ways are drivable (OSRM car-profile rules: classes, ``access``, ``oneway``,
roundabouts) and how they become a :class:`~netplan.graph.DriveGraph` with a
:class:`~netplan.speeds.SpeedModel`'s speeds. Named and edge-list graphs live in
:mod:`netplan.network`.
"""

from __future__ import annotations

import logging
import time
from array import array
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import NetworkError, ValidationError

# re-exported: netplan.network.SpeedModel etc. stay where users import them
from .speeds import OSRM_SPEEDS_KPH as OSRM_SPEEDS_KPH
from .speeds import UK_IMPLICIT_KPH as UK_IMPLICIT_KPH
from .speeds import SpeedModel
from .speeds import parse_maxspeed as parse_maxspeed

if TYPE_CHECKING:
    import networkx as nx


from ._geo import _haversine_m
from .graph import (
    _CLASS_CODE,
    DRIVABLE,
    DriveGraph,
    _assemble,
    _cache_key,
    _file_id,
)

logger = logging.getLogger(__name__)

_NO_ACCESS = {"no", "private"}
_YES = {"yes", "true", "1"}
_REVERSE = {"-1", "reverse"}


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
