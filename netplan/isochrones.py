"""Isochrones: the area from which a site is reachable by road within a time threshold.

For each site and threshold the polygon is built from the *reachable edges* of the drive
graph (not a convex hull): every edge fully within the time budget, plus the part of an
edge that can be driven before the budget runs out, each buffered by ``buffer_m`` (EPSG:27700)
and merged. With ``include_access`` each reached node also gets a disc whose radius is
the distance the remaining time buys on the access leg (straight line, ``detour_factor``,
``access_speed_kph``), which makes major-road-only graphs give areas rather than ribbons.
Polygons are simplified (``simplify_m``) for web maps and returned in WGS84.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import settings
from ._errors import OutputError, ValidationError
from ._io import atomic_path
from ._snapping import DEFAULT_SNAP_NODES, check_snap_nodes, entry_nodes
from ._validate import check_number
from .traveltime import (
    DEFAULT_ACCESS_SPEED_KPH,
    DEFAULT_DETOUR_FACTOR,
    DEFAULT_MAX_SNAP_KM,
    _access_model,
    node_times,
    snap,
)

if TYPE_CHECKING:
    import geopandas as gpd

    from .graph import DriveGraph

logger = logging.getLogger(__name__)

#: Output formats of :func:`to_file` by extension (GDAL drivers).
FORMATS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".fgb": "FlatGeobuf"}


def isochrones(
    G: DriveGraph,
    sites: pd.DataFrame,
    *,
    minutes: Sequence[float] = (30, 45, 60),
    buffer_m: float = 100.0,
    simplify_m: float = 50.0,
    direction: str = "to_site",
    include_access: bool | None = None,
    max_snap_km: float = DEFAULT_MAX_SNAP_KM,
    detour_factor: float | None = None,
    access_speed_kph: float | None = None,
    snap_nodes: int = DEFAULT_SNAP_NODES,
) -> gpd.GeoDataFrame:
    """Return reachable-area polygons for each site and threshold.

    Parameters
    ----------
    G
        The drive graph.
    sites
        ``id, lon, lat`` (WGS84) or a point GeoDataFrame with ``id``.
    minutes
        Thresholds (door-to-door minutes, the site's own access leg included).
    buffer_m
        Half-width of the corridor drawn around each reachable edge.
    simplify_m
        Douglas-Peucker tolerance for the output polygons (0 keeps every vertex).
    direction
        {"to_site", "from_site"}: area whose drivers reach the site within the threshold
        (patients travelling in; the default, consistent with ``od_matrix(zones, sites)``)
        or area reached driving out of the site.
    include_access
        Add access-leg discs around reached nodes (radius capped at ``max_snap_km``).
        Default: True for ``detail="major"`` graphs, False for full-detail ones.
    max_snap_km, detour_factor, access_speed_kph
        As :func:`netplan.traveltime.snap`. Left as None on a graph with a speed profile,
        the site's leg is the profile's and the access discs use the profile's detour
        factor at its suburban access speed (half way between rural and urban in pace).
    snap_nodes
        Entry nodes of each site, as :func:`netplan.traveltime.od_matrix` (default 4): a
        node's time is the fastest over the site's entry nodes of road time + that entry's
        access leg, so the polygons agree with the OD tables.

    Returns
    -------
    geopandas.GeoDataFrame
        ``site_id, minutes, geometry`` (EPSG:4326), one row per site and threshold,
        sorted by site then threshold.

    Raises
    ------
    ValidationError
        Bad thresholds, direction or site table.
    NetworkError
        Sites outside the network.
    """
    import geopandas as gpd

    if isinstance(minutes, (str, bytes)) or not isinstance(minutes, Iterable):
        minutes = [minutes]  # type: ignore[list-item]
    thresholds = sorted({check_number(m, "isochrones: minutes") for m in minutes})
    if not thresholds:
        msg = f"isochrones: minutes must be positive numbers, got {list(minutes)!r}."
        raise ValidationError(msg)
    check_number(buffer_m, "isochrones: buffer_m")
    check_number(simplify_m, "isochrones: simplify_m", allow_equal=True)
    if direction not in {"to_site", "from_site"}:
        msg = f"isochrones: direction must be 'to_site' or 'from_site', got {direction!r}."
        raise ValidationError(msg)
    if buffer_m <= 0 or simplify_m < 0:
        msg = f"isochrones: buffer_m must be > 0 and simplify_m >= 0; got {buffer_m}, {simplify_m}."
        raise ValidationError(msg)
    if include_access is None:
        include_access = G.detail == "major"
    t0 = time.perf_counter()
    s = snap(
        G,
        sites,
        max_snap_km=max_snap_km,
        detour_factor=detour_factor,
        access_speed_kph=access_speed_kph,
        source="sites",
    )
    if G.profile is not None and detour_factor is None and access_speed_kph is None:
        disc_detour = G.profile.detour_factor
        disc_speed = float(G.profile.access_speed_kph(np.array([0.5]))[0])
    else:
        disc_detour = DEFAULT_DETOUR_FACTOR if detour_factor is None else detour_factor
        disc_speed = DEFAULT_ACCESS_SPEED_KPH if access_speed_kph is None else access_speed_kph
    reverse = direction == "to_site"
    # Times from (or, on the reversed graph, to) each site's entry nodes, up to the largest
    # threshold; a node's time to the site is the fastest entry's road time + access leg.
    leg = _access_model(G, detour_factor=detour_factor, access_speed_kph=access_speed_kph)
    entries = entry_nodes(G, s, snap_nodes=check_snap_nodes(snap_nodes), access=leg)
    valid = entries.nodes >= 0
    uniq, inv = np.unique(entries.nodes[valid], return_inverse=True)
    times = node_times(G, uniq, reverse=reverse, max_minutes=thresholds[-1])
    row = np.zeros(entries.nodes.shape, dtype=np.int64)
    row[valid] = inv
    rows: list[dict[str, object]] = []
    opts = {
        "reverse": reverse,
        "buffer_m": float(buffer_m),
        "include_access": bool(include_access),
        "max_snap_km": float(max_snap_km),
        "detour_factor": float(disc_detour),
        "access_speed_kph": float(disc_speed),
    }

    def one_site(i: int) -> list[object]:
        ok = valid[i]
        t_node = np.min(times[row[i, ok]] + entries.minutes[i, ok, None], axis=0)
        key = (
            tuple(entries.nodes[i, ok].tolist()),
            tuple(entries.minutes[i, ok].tolist()),
            *sorted(opts.items()),
        )
        return _site_polygons(G, t_node, thresholds, key=key, **opts)

    # GEOS releases the GIL in shapely's union, the bulk of the work: sites in threads
    # (the polygons do not depend on the order; England's 28 contract sites x 30/60 min on
    # 2 cores: 4.2 s in one thread, see benchmarks/bench_isochrones.py)
    workers = min(len(s), os.cpu_count() or 1, _MAX_THREADS)
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            per_site = list(pool.map(one_site, range(len(s))))
    else:
        per_site = [one_site(i) for i in range(len(s))]
    for site_id, polys in zip(s["id"], per_site, strict=True):
        rows.extend(
            {"site_id": site_id, "minutes": T, "geometry": geom}
            for T, geom in zip(thresholds, polys, strict=True)
        )
    geoms = _simplify(np.array([r["geometry"] for r in rows], dtype=object), simplify_m)
    gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs=settings.projected_crs)
    gdf = gdf.to_crs(settings.geographic_crs)
    logger.info(
        "isochrones: %d site(s) x %d threshold(s), %.2f s",
        len(s),
        len(thresholds),
        time.perf_counter() - t0,
    )
    return gdf


def _simplify(geoms: np.ndarray, tolerance_m: float) -> np.ndarray:
    """Douglas-Peucker ``geoms`` at ``tolerance_m``, keeping them valid polygons.

    The plain algorithm (about 5x faster than the topology-preserving one) is kept where
    its result is a valid polygon at least as large as ``1 - tolerance`` per metre of
    boundary allows; the rest are simplified preserving topology.
    """
    import shapely

    if tolerance_m <= 0 or not len(geoms):
        return geoms
    out = shapely.simplify(geoms, tolerance_m, preserve_topology=False)
    shrink = shapely.length(geoms) * tolerance_m
    bad = ~shapely.is_valid(out) | (shapely.area(out) < shapely.area(geoms) - shrink)
    bad |= shapely.get_type_id(out) != shapely.get_type_id(geoms)
    if bad.any():
        out[bad] = shapely.simplify(geoms[bad], tolerance_m, preserve_topology=True)
    return out


#: At most this many threads build the sites' polygons.
_MAX_THREADS = 8

#: Vertices per quarter circle of the access discs and of the corridor ends.
_DISC_QUAD_SEGS = 8
_CORRIDOR_QUAD_SEGS = 4


def _graph_digest(G: DriveGraph) -> str:
    """A content hash of the graph as the polygons see it (key, nodes, edges, minutes) and
    of this module's source, so an edited module never reads its old polygons."""
    if "isochrone_digest" not in G._cache:
        h = hashlib.sha256(str(G.key).encode())
        h.update(Path(__file__).read_bytes())
        for a in (G.x, G.y, G.edge_u, G.edge_v, G.edge_minutes):
            h.update(np.ascontiguousarray(a).tobytes())
        G._cache["isochrone_digest"] = h.hexdigest()[:24]
    return G._cache["isochrone_digest"]


def _cache_root() -> Path:
    """The folder of the isochrone disk cache."""
    return settings.cache_folder / "isochrones"


def _disk_path(G: DriveGraph, key: tuple, T: float) -> Path:
    digest = hashlib.sha256(repr((_graph_digest(G), key, float(T))).encode()).hexdigest()
    return _cache_root() / _graph_digest(G) / f"{digest[:32]}.wkb"


def _read_cached(path: Path) -> object | None:
    import shapely

    try:
        return shapely.from_wkb(path.read_bytes())
    except (OSError, ValueError, shapely.errors.GEOSException):
        return None  # missing or corrupt: built again (and rewritten)


def _write_cached(path: Path, geom: object) -> None:
    import shapely

    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(shapely.to_wkb(geom))
    except (OSError, OutputError) as exc:  # a read-only cache costs only the time
        logger.debug("isochrone cache not written (%s)", exc)


def _site_polygons(
    G: DriveGraph,
    t_node: np.ndarray,
    thresholds: Sequence[float],
    *,
    key: tuple | None = None,
    **kw: object,
) -> list[object]:
    """One site's polygons for ascending ``thresholds``, each built on the one before.

    The polygon at ``T`` is the one at the previous threshold plus only what the extra time
    adds (edges not driven in full before, access discs that were still growing), which
    gives the same area as building it from scratch. With ``key`` (the site's entry nodes,
    their access minutes and the options) the (unsimplified) polygons are cached per site
    and threshold on ``G`` and on disk under ``settings.cache_folder / "isochrones"``
    (by a content hash of the graph), so the next run on the same network and sites
    reads them (England default: 41 sites x 2 thresholds, seconds built, 0.4 s read). The
    disk copy is WKB, which keeps every coordinate bit for bit.
    """
    cache = G._cache.setdefault("isochrones", {}) if key is not None else {}
    out: list[object] = []
    inner, inner_T = None, None
    for T in thresholds:
        hit = cache.get((key, T)) if key is not None else None
        path = _disk_path(G, key, T) if hit is None and key is not None else None
        if path is not None:
            hit = _read_cached(path)
        if hit is None:
            hit = _reach_polygon(G, t_node, T, inner=inner, inner_T=inner_T, **kw)  # type: ignore[arg-type]
            if path is not None:
                _write_cached(path, hit)
        if key is not None:
            cache[(key, T)] = hit
        out.append(hit)
        inner, inner_T = hit, T
    return out


def _reach_polygon(
    G: DriveGraph,
    t_node: np.ndarray,
    T: float,
    *,
    reverse: bool,
    buffer_m: float,
    include_access: bool,
    max_snap_km: float,
    detour_factor: float,
    access_speed_kph: float,
    inner: object | None = None,
    inner_T: float | None = None,
) -> object:
    """Union of buffered reachable (part-)edges and optional access discs.

    ``inner`` is this site's polygon at a smaller threshold ``inner_T`` (same options):
    the edges it holds in full and the discs that had reached their cap are not drawn
    again. A corridor that lies inside the access discs at its two ends is not drawn
    either (it would not change the union): with a corridor of length ``L`` and discs of
    radius ``r0``, ``r1`` (polygons whose inner radius is ``r cos(pi / 4q)``), every point
    of the corridor is within ``s + b`` of one end or ``L - s + b`` of the other, so it is
    covered when ``L + 2b <= cos(pi / 4q) (r0 + r1)``. On major-road graphs this leaves
    out more than nine in ten corridors, which is where the union spent its time.
    """
    import shapely

    u, v, w = G.edge_u, G.edge_v, G.edge_minutes
    # The graph end where the budget is counted from: u when driving out (from_site),
    # v when driving in (to_site: time at a point on u->v is time(v) + remaining edge).
    near, far = (v, u) if reverse else (u, v)
    t_near = t_node[near]
    ok = t_near < T
    spare = T - t_near[ok]
    w_ok = w[ok]
    frac = np.clip(np.divide(spare, w_ok, out=np.ones_like(spare), where=w_ok > 0), 0, 1)
    n0, n1 = near[ok], far[ok]
    x0, y0 = G.x[n0], G.y[n0]
    x1 = x0 + (G.x[n1] - x0) * frac
    y1 = y0 + (G.y[n1] - y0) * frac
    # A two-way street driven in full appears twice (u->v, v->u): draw it once.
    full = frac >= 1.0
    a, b = np.minimum(n0[full], n1[full]), np.maximum(n0[full], n1[full])
    _, first = np.unique(a * G.n_nodes + b, return_index=True)
    keep = np.concatenate([np.flatnonzero(full)[first], np.flatnonzero(~full)])
    reached = np.flatnonzero(t_node <= T)
    cap_m = max_snap_km * 1000.0
    radius_m = np.zeros(G.n_nodes)
    if include_access and len(reached):
        r = np.minimum(
            (T - t_node[reached]) / 60.0 * access_speed_kph / detour_factor * 1000.0, cap_m
        )
        radius_m[reached] = np.where(r > buffer_m, r, 0.0)
    if inner is not None:
        # edges already driven in full at the smaller threshold are in ``inner``
        done = (t_near[ok] + w_ok)[keep] <= inner_T
        keep = keep[~done]
    # Each disc gets as few vertices as keep it within the capped disc's own deviation
    # from its circle (a 5-km disc with 8 vertices a quarter: 24 m), at least 2 a quarter.
    dev_m = cap_m * (1.0 - np.cos(np.pi / (4 * _DISC_QUAD_SEGS)))
    quad_segs = _quad_segs(radius_m, dev_m)
    inradius = np.cos(np.pi / (4 * quad_segs)) * (1.0 - 1e-9)
    if include_access and len(keep):
        far_r = np.where(full[keep] & (t_node[n1[keep]] <= T), radius_m[n1[keep]], 0.0)
        length_m = np.hypot(x1[keep] - x0[keep], y1[keep] - y0[keep])
        far_in = np.where(far_r > 0, inradius[n1[keep]] * far_r, 0.0)
        covered = length_m + 2.0 * buffer_m <= inradius[n0[keep]] * radius_m[n0[keep]] + far_in
        keep = keep[~covered]
    disc = reached[radius_m[reached] > 0]
    if inner is not None and len(disc):
        # a disc at its cap before is the same disc now (and already in ``inner``)
        disc = disc[
            (inner_T - t_node[disc]) / 60.0 * access_speed_kph / detour_factor * 1000.0 < cap_m
        ]
    capped = reached[radius_m[reached] >= cap_m]
    if len(disc) and len(capped) > 6:
        # discs inside their capped neighbours' discs: same union without them
        redundant = _surrounded(G.x[capped], G.y[capped], cap_m)
        disc = np.setdiff1d(disc, capped[redundant], assume_unique=True)
    # One union of everything (the smaller threshold's polygon, corridors, discs): cheaper
    # than merging corridors and discs apart and then the two.
    before = np.empty(0 if inner is None else 1, dtype=object)
    before[:] = [] if inner is None else [inner]
    corridor_q = int(_quad_segs(np.array([buffer_m]), dev_m)[0])
    corridors = _capsules(x0[keep], y0[keep], x1[keep], y1[keep], buffer_m, corridor_q)
    discs = _discs(G.x[disc], G.y[disc], radius_m[disc], quad_segs[disc])
    core = None
    if len(disc) >= _CORE_MIN_DISCS:
        core, discs, corridors = _core_first(G, disc, radius_m, cap_m, discs, corridors)
    parts = [before, np.array([core] if core is not None else [], dtype=object)]
    return shapely.union_all(np.concatenate([*parts, corridors, discs]))


#: From this many discs on, a polygon is drawn core first (:func:`_core_first`).
_CORE_MIN_DISCS = 1000


def _core_first(
    G: DriveGraph,
    disc: np.ndarray,
    radius_m: np.ndarray,
    cap_m: float,
    discs: np.ndarray,
    corridors: np.ndarray,
) -> tuple[object, np.ndarray, np.ndarray]:
    """Merge a sparse core of the capped discs first, then only what pokes out of it.

    The core is one capped disc per square of side ``cap_m / 3`` (a fifth of the discs);
    every other disc, and every corridor, that lies inside the core's union is left out:
    the union is the same, and far fewer shapes go into it.
    """
    import shapely

    x, y, r = G.x[disc], G.y[disc], radius_m[disc]
    capped = np.flatnonzero(r >= cap_m)
    cell = np.floor(np.column_stack([x[capped], y[capped]]) / (cap_m / 3)).astype(np.int64)
    pick = capped[np.unique(cell, axis=0, return_index=True)[1]]
    core = shapely.union_all(discs[pick])
    rest = np.ones(len(disc), dtype=bool)
    rest[pick] = False
    shapely.prepare(core)
    discs = discs[rest & ~shapely.contains(core, discs)]
    if len(corridors):
        corridors = corridors[~shapely.contains(core, corridors)]
    return core, discs, corridors


def _quad_segs(radius_m: np.ndarray, dev_m: float) -> np.ndarray:
    """Vertices per quarter circle so that a disc's chords stay within ``dev_m`` of its circle.

    A chord of angle ``a`` lies ``r (1 - cos(a / 2))`` inside the circle; with ``q`` vertices
    a quarter ``a = pi / 2q``. Rounded up to a power of two between 2 and
    ``_DISC_QUAD_SEGS``, so that a coarser polygon's vertices are some of the finer one's
    and it lies inside it: the union can only shrink, by at most ``dev_m``.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        half = np.arccos(np.clip(1.0 - dev_m / radius_m, -1.0, 1.0))
        q = np.nan_to_num(np.pi / (4.0 * half), nan=2.0, posinf=2.0)
    q = 2.0 ** np.ceil(np.log2(np.maximum(q, 2.0)) - 1e-9)
    return np.minimum(q, _DISC_QUAD_SEGS).astype(np.int64)


def _discs(x: np.ndarray, y: np.ndarray, r: np.ndarray, quad_segs: np.ndarray) -> np.ndarray:
    """Disc polygons (the vertices ``shapely.buffer`` would give), built as arrays."""
    import shapely

    out = np.empty(len(x), dtype=object)
    for q in np.unique(quad_segs):
        i = np.flatnonzero(quad_segs == q)
        a = np.linspace(0.0, 2.0 * np.pi, 4 * int(q) + 1)
        a[-1] = 0.0  # closed ring: the last vertex is the first
        ring = np.stack(
            [x[i, None] + r[i, None] * np.cos(a), y[i, None] + r[i, None] * np.sin(a)], axis=-1
        )
        out[i] = shapely.polygons(ring)
    return out


def _capsules(
    x0: np.ndarray,
    y0: np.ndarray,
    x1: np.ndarray,
    y1: np.ndarray,
    b: float,
    quad_segs: int,
) -> np.ndarray:
    """Round-capped corridors of half-width ``b`` around segments, built as arrays.

    The same shape as ``shapely.buffer(segment, b, quad_segs=quad_segs)``: a half circle of
    ``2 quad_segs`` chords at each end, joined by the two sides.
    """
    import shapely

    if not len(x0):
        return np.empty(0, dtype=object)
    theta = np.arctan2(y1 - y0, x1 - x0)
    half = np.linspace(-np.pi / 2, np.pi / 2, 2 * quad_segs + 1)
    a1 = theta[:, None] + half  # around the far end, from its right side to its left
    a0 = a1 + np.pi  # around the near end, from the left side back to the right
    xs = np.concatenate([x1[:, None] + b * np.cos(a1), x0[:, None] + b * np.cos(a0)], axis=1)
    ys = np.concatenate([y1[:, None] + b * np.sin(a1), y0[:, None] + b * np.sin(a0)], axis=1)
    ring = np.stack([xs, ys], axis=-1)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)
    return shapely.polygons(ring)


def _surrounded(x: np.ndarray, y: np.ndarray, r_m: float) -> np.ndarray:
    """Which of these equal discs (radius ``r_m``, as polygons) the others cover.

    A disc of radius ``R`` at ``p`` lies inside discs of radius ``R' = R cos(pi / 4q)`` (the
    inner radius of the disc polygons) centred at distance ``d`` from ``p`` in each of six
    fixed 60-degree sectors around it when ``R^2 - R d + d^2 <= R'^2`` and ``d <= R'``: a
    point ``p + s e`` (``s <= R``) is within ``sqrt(s^2 - s d + d^2)`` of the centre in the
    sector of ``e``. Only discs that are kept count as covering, so dropping the covered
    ones leaves the union as it was.
    """
    from scipy.spatial import cKDTree

    rp = r_m * np.cos(np.pi / (4 * _DISC_QUAD_SEGS)) * (1.0 - 1e-9)
    # the range of d where the bound holds: roots of d^2 - R d + R^2 - R'^2 = 0
    root = np.sqrt(max(r_m**2 - 4 * (r_m**2 - rp**2), 0.0))
    d_lo, d_hi = (r_m - root) / 2, min((r_m + root) / 2, rp)
    flags = np.zeros((len(x), 6), dtype=bool)
    if d_lo < d_hi:
        pairs = cKDTree(np.column_stack([x, y])).query_pairs(d_hi, output_type="ndarray")
        i, j = pairs[:, 0], pairs[:, 1]
        dx, dy = x[j] - x[i], y[j] - y[i]
        ok = np.hypot(dx, dy) >= d_lo
        i, j, dx, dy = i[ok], j[ok], dx[ok], dy[ok]
        sector = (np.floor(np.arctan2(dy, dx) / (np.pi / 3)).astype(np.int64) + 6) % 6
        # Only kept discs may cover: one disc per grid cell of R / 3 is kept whatever its
        # neighbours (without this, a dense cluster would drop its middle discs too).
        cell = np.floor(np.column_stack([x, y]) / (r_m / 3)).astype(np.int64)
        rep = np.zeros(len(x), dtype=bool)
        rep[np.unique(cell, axis=0, return_index=True)[1]] = True
        flags[i[rep[j]], sector[rep[j]]] = True
        flags[j[rep[i]], (sector[rep[i]] + 3) % 6] = True
        return flags.all(axis=1) & ~rep
    return flags.all(axis=1)


def to_file(gdf: gpd.GeoDataFrame, path: str | Path, *, driver: str | None = None) -> Path:
    """Write isochrones to GeoJSON, GeoPackage, ... (by extension), atomically.

    Raises
    ------
    ValidationError
        If the extension is not one geopandas can write.
    """
    path = Path(path)
    drivers = FORMATS
    driver = driver or drivers.get(path.suffix.lower())
    if driver is None:
        msg = f"{path}: unknown output format; use one of {sorted(drivers)}."
        raise ValidationError(msg)
    layer = "".join(c if c.isalnum() else "_" for c in path.stem) or "isochrones"
    with atomic_path(path) as tmp:
        gdf.to_file(tmp, driver=driver, layer=layer)
    return path
