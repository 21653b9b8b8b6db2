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

import logging
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import settings
from ._errors import ValidationError
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
    import shapely

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
    for i, site in s.iterrows():
        ok = valid[i]
        t_node = np.min(times[row[i, ok]] + entries.minutes[i, ok, None], axis=0)
        key = (
            tuple(entries.nodes[i, ok].tolist()),
            tuple(entries.minutes[i, ok].tolist()),
            *sorted(opts.items()),
        )
        polys = _site_polygons(G, t_node, thresholds, key=key, **opts)
        for T, geom in zip(thresholds, polys, strict=True):
            if simplify_m > 0 and not geom.is_empty:
                geom = shapely.simplify(geom, simplify_m, preserve_topology=True)
            rows.append({"site_id": site["id"], "minutes": T, "geometry": geom})
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=settings.projected_crs)
    gdf = gdf.to_crs(settings.geographic_crs)
    logger.info(
        "isochrones: %d site(s) x %d threshold(s), %.2f s",
        len(s),
        len(thresholds),
        time.perf_counter() - t0,
    )
    return gdf


#: Vertices per quarter circle of the access discs and of the corridor ends.
_DISC_QUAD_SEGS = 8
_CORRIDOR_QUAD_SEGS = 4


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
    gives the same area as building it from scratch. With ``key`` the (unsimplified)
    polygons are cached on ``G`` per site and threshold.
    """
    cache = G._cache.setdefault("isochrones", {}) if key is not None else {}
    out: list[object] = []
    inner, inner_T = None, None
    for T in thresholds:
        hit = cache.get((key, T)) if key is not None else None
        if hit is None:
            hit = _reach_polygon(G, t_node, T, inner=inner, inner_T=inner_T, **kw)  # type: ignore[arg-type]
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
    if include_access and len(keep):
        far_r = np.where(full[keep] & (t_node[n1[keep]] <= T), radius_m[n1[keep]], 0.0)
        length_m = np.hypot(x1[keep] - x0[keep], y1[keep] - y0[keep])
        inradius = np.cos(np.pi / (4 * _DISC_QUAD_SEGS)) * (1.0 - 1e-9)
        covered = length_m + 2.0 * buffer_m <= inradius * (radius_m[n0[keep]] + far_r)
        keep = keep[~covered]
    parts = [] if inner is None else [inner]
    if len(keep):
        coords = np.stack(
            [np.column_stack([x0[keep], y0[keep]]), np.column_stack([x1[keep], y1[keep]])],
            axis=1,
        )
        lines = shapely.linestrings(coords)
        # Buffer segments one by one and merge (much faster than buffering a multi-line).
        parts.append(
            shapely.union_all(shapely.buffer(lines, buffer_m, quad_segs=_CORRIDOR_QUAD_SEGS))
        )
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
    if len(disc):
        discs = shapely.buffer(
            shapely.points(G.x[disc], G.y[disc]), radius_m[disc], quad_segs=_DISC_QUAD_SEGS
        )
        parts.append(shapely.union_all(discs))
    if not parts:
        return shapely.Polygon()
    return shapely.union_all(parts)


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
