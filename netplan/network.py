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

import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import settings
from ._errors import NetworkError, ValidationError
from .graph import (
    _ARRAYS,
    _CLASS_CODE,
    _CLASSES,
    DRIVABLE,
    DriveGraph,
    _assemble,
    _cache_key,
    _file_id,
    _osm_factor,
    _to_bng,
)
from .osm import (
    _drivable,
    _way_direction,
    graph_from_bbox,
    graph_from_file,
    graph_from_osmnx,
    graph_from_place,
    graph_from_polygon,
)
from .speeds import OSRM_SPEEDS_KPH, UK_IMPLICIT_KPH, SpeedModel, parse_maxspeed

if TYPE_CHECKING:
    from .profiles import DensitySurface, SpeedProfile

#: Public names, with those re-exported from netplan.graph, netplan.osm and netplan.speeds
#: (this module was once all of them; users import them from here).
__all__ = [
    "BUILTIN",
    "DRIVABLE",
    "OSRM_SPEEDS_KPH",
    "UK_IMPLICIT_KPH",
    "_ARRAYS",
    "DriveGraph",
    "SpeedModel",
    "_drivable",
    "_way_direction",
    "graph_from_bbox",
    "graph_from_edge_list",
    "graph_from_file",
    "graph_from_name",
    "graph_from_osmnx",
    "graph_from_place",
    "graph_from_polygon",
    "parse_maxspeed",
]

logger = logging.getLogger(__name__)


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
    from ._validate import check_lonlat, check_positive

    check_positive(edges, "length_km", source=f"{source} edges")
    check_lonlat(nodes, source=f"{source} nodes", id_column="node", bounds=(-180, -90, 180, 90))
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
    repair_gaps: bool = True,
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
    repair_gaps
        On ``england-major-roads`` (a network derived from OSM's major roads), join each
        dead end to any node within 150 m that is over 2 km away by road, a link the
        derivation lost (:func:`netplan._gaps.join_gaps`). Ignored for OSM files, whose
        minor roads hold those links.

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
    from ._gaps import MAX_GAP_M, MIN_ROAD_M

    gaps = [MAX_GAP_M, MIN_ROAD_M] if repair_gaps and name == "england-major-roads" else None
    key = _cache_key(
        f"name:{name}:{source_id}",
        speed_model,
        include_service=include_service,
        profile=profile.hash if profile is not None else None,
        **({"gap_repair_m": gaps} if gaps else {}),  # old keys stand for unrepaired graphs
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
            logger.warning("rebuilding the cached graph of %s: %s", name, exc)
            with contextlib.suppress(OSError):
                cache.unlink()
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
        if gaps:
            from ._gaps import join_gaps

            G = join_gaps(G, max_gap_m=gaps[0], min_road_m=gaps[1])
    else:
        G = graph_from_file(path, speed_model=speed_model, include_service=include_service)
        G.profile = profile
    if profile is not None and profile.ferries:
        from .ferries import add_ferries

        G = add_ferries(G, profile)
    G.key = key
    if use_cache:
        try:
            G.save(cache)
        except OSError as exc:  # a read-only cache only costs time
            logger.warning("cannot cache the graph of %s (%s); it is rebuilt next time", name, exc)
    return G
