"""Islands and their car ferries: zones on islands are never driven across the water.

Owns the sea crossings of a :class:`~netplan.profiles.SpeedProfile` (``ferries`` in
``netplan/profiles.yaml``: the Isle of Wight's three car ferries, the Isles of Scilly's
Scillonian). :func:`add_ferries` adds to a drive graph, for each listed island, a node at
each island terminal, island-road edges between the terminals (straight line x detour at the
profile's rural access speed) and a ferry edge each way between every island terminal and the
nearest mainland node (check-in + crossing + the short mainland leg). The island's nodes are
recorded on the graph (``G.islands``) so that :func:`netplan.traveltime.snap` snaps island
points to island nodes only, and mainland points never to them.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._errors import DataError

if TYPE_CHECKING:
    from .graph import DriveGraph
    from .profiles import SpeedProfile

logger = logging.getLogger(__name__)

#: A mainland terminal farther than this from the graph means the graph does not reach it.
MAX_TERMINAL_SNAP_KM = 5.0
#: Island polygons are grown by this much so coastal centroids count as on the island.
ISLAND_BUFFER_M = 1_000.0


def island_masks(profile: SpeedProfile, lon: np.ndarray, lat: np.ndarray) -> dict[str, np.ndarray]:
    """For each island of ``profile``, which of the WGS84 points lie on it.

    An island is the polygon of the England outline that contains its ``island_point``
    (grown by :data:`ISLAND_BUFFER_M`); without that polygon (or the outline dataset), its
    ``bbox``.
    """
    import shapely

    from ._geo import _to_bng

    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    parts = _outline_parts()
    out: dict[str, np.ndarray] = {}
    x, y = _to_bng(lon, lat)
    pts = shapely.points(x, y)
    for isl in profile.ferries:
        poly = None
        if parts is not None:
            px, py = _to_bng(np.array([isl["island_point"][0]]), np.array([isl["island_point"][1]]))
            here = shapely.points(px[0], py[0])
            for part in parts:
                if part.contains(here):
                    poly = part.buffer(ISLAND_BUFFER_M)
                    break
        if poly is not None:
            mask = shapely.contains(poly, pts)
        else:
            x0, y0, x1, y1 = isl["bbox"]
            mask = (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
        out[str(isl["island"])] = np.asarray(mask, dtype=bool)
    return out


def _outline_parts() -> list[Any] | None:
    """Polygons of the England outline in EPSG:27700, small islands included (read once per
    version of the cached file: every snap of island-aware graphs asks for them)."""
    from . import data

    try:
        path = data.dataset_path("boundary-england-wales")
    except (DataError, OSError) as exc:
        logger.warning("England outline unavailable (%s): islands found by bounding box", exc)
        return None
    stat = path.stat()
    return _outline_parts_cached(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}")


@functools.lru_cache(maxsize=2)
def _outline_parts_cached(stamp: str) -> list[Any] | None:
    """The outline's polygons; kept as WKB in ``settings.cache_folder/derived`` (keyed by the
    file's stamp), so later processes read them without geopandas (0.5-0.7 s of imports in
    ``netplan traveltimes``)."""
    import shapely

    from . import data, settings
    from ._io import atomic_path

    key = hashlib.sha1(stamp.encode()).hexdigest()[:16]
    cache = Path(settings.cache_folder) / "derived" / f"england-outline-parts-{key}.wkb"
    if cache.is_file():
        try:
            return list(shapely.from_wkb(cache.read_bytes()).geoms)
        except Exception as exc:
            logger.warning("rebuilding unreadable derived file %s (%s)", cache, exc)
    try:
        outline = data.load_england_outline()
    except (DataError, OSError) as exc:
        logger.warning("England outline unavailable (%s): islands found by bounding box", exc)
        return None
    geoms = outline.to_crs(settings.projected_crs).geometry
    parts: list[Any] = []
    for g in geoms:
        parts.extend(getattr(g, "geoms", [g]))
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(cache) as tmp:
            tmp.write_bytes(shapely.to_wkb(shapely.MultiPolygon(parts)))
    except OSError as exc:  # a read-only cache only costs time
        logger.warning("cannot cache %s (%s)", cache, exc)
    return parts


def add_ferries(G: DriveGraph, profile: SpeedProfile) -> DriveGraph:
    """Return ``G`` with the profile's island terminals, island roads and ferry edges."""
    from ._geo import _to_bng
    from .graph import _CLASS_CODE

    if not profile.ferries:
        return G
    tree, idx = G.kdtree
    masks = island_masks(profile, G.lon, G.lat)
    lon, lat = list(G.lon), list(G.lat)
    node_ids = list(G.node_ids)
    new_u: list[int] = []
    new_v: list[int] = []
    new_len: list[float] = []
    new_min: list[float] = []
    new_cls: list[int] = []
    islands: dict[str, list[int]] = {}
    rural = float(profile.access_speed_kph(np.array([0.0]))[0])
    next_id = int(G.node_ids.max()) + 1
    checkin = profile.checkin_minutes
    for isl in profile.ferries:
        name = str(isl["island"])
        routes = list(isl["routes"])
        ml_lon = np.array([r["mainland"][0] for r in routes], dtype=float)
        ml_lat = np.array([r["mainland"][1] for r in routes], dtype=float)
        mx, my = _to_bng(ml_lon, ml_lat)
        dist, k = tree.query(np.column_stack([mx, my]))
        if (dist > MAX_TERMINAL_SNAP_KM * 1000).all():
            continue  # the graph does not reach this island's mainland terminals
        existing = [int(i) for i in np.flatnonzero(masks[name] & G.main_component)]
        terminals: list[int] = []
        for r_i, (r, d_m, kk) in enumerate(zip(routes, dist, k, strict=True)):
            if d_m > MAX_TERMINAL_SNAP_KM * 1000:
                continue
            pos = len(node_ids)
            node_ids.append(next_id)
            next_id += 1
            lon.append(float(r["island"][0]))
            lat.append(float(r["island"][1]))
            terminals.append(pos)
            ix, iy = _to_bng(np.array([r["island"][0]]), np.array([r["island"][1]]))
            crossing_km = float(np.hypot(ix[0] - mx[r_i], iy[0] - my[r_i])) / 1000.0
            land_leg = float(profile.access_minutes(np.array([d_m / 1000.0]), np.array([0.5]))[0])
            minutes = checkin + float(r["crossing_minutes"]) + land_leg
            mainland = int(idx[kk])
            for a, b in ((pos, mainland), (mainland, pos)):
                new_u.append(a)
                new_v.append(b)
                new_len.append(crossing_km * 1000.0)
                new_min.append(minutes)
                new_cls.append(_CLASS_CODE["ferry"])
        # island roads: between terminals, and from each terminal to the nearest island node
        tx, ty = _to_bng(
            np.array([lon[t] for t in terminals]), np.array([lat[t] for t in terminals])
        )
        pairs = [(a, b) for a in range(len(terminals)) for b in range(len(terminals)) if a != b]
        for a, b in pairs:
            km = float(np.hypot(tx[a] - tx[b], ty[a] - ty[b])) / 1000.0 * profile.detour_factor
            new_u.append(terminals[a])
            new_v.append(terminals[b])
            new_len.append(km * 1000.0)
            new_min.append(km / rural * 60.0)
            new_cls.append(_CLASS_CODE["unclassified"])
        if existing:
            ex = np.asarray(existing)
            for t_i, t in enumerate(terminals):
                j = int(np.argmin(np.hypot(G.x[ex] - tx[t_i], G.y[ex] - ty[t_i])))
                km = float(np.hypot(G.x[ex[j]] - tx[t_i], G.y[ex[j]] - ty[t_i])) / 1000.0
                km *= profile.detour_factor
                for a, b in ((t, int(ex[j])), (int(ex[j]), t)):
                    new_u.append(a)
                    new_v.append(b)
                    new_len.append(km * 1000.0)
                    new_min.append(km / rural * 60.0)
                    new_cls.append(_CLASS_CODE["unclassified"])
        islands[name] = existing + terminals
        logger.info("ferries: %s reached by %d route(s)", name, len(terminals))
    if not islands:
        return G
    lon_a, lat_a = np.asarray(lon), np.asarray(lat)
    x, y = _to_bng(lon_a, lat_a)
    new_len_a = np.asarray(new_len)
    new_min_a = np.asarray(new_min)
    return dataclasses.replace(
        G,
        node_ids=np.asarray(node_ids, dtype=np.int64),
        x=x,
        y=y,
        lon=lon_a,
        lat=lat_a,
        edge_u=np.concatenate([G.edge_u, np.asarray(new_u, dtype=np.int64)]),
        edge_v=np.concatenate([G.edge_v, np.asarray(new_v, dtype=np.int64)]),
        edge_length_m=np.concatenate([G.edge_length_m, new_len_a]),
        edge_minutes=np.concatenate([G.edge_minutes, new_min_a]),
        edge_speed_kph=np.concatenate(
            [G.edge_speed_kph, new_len_a / 1000.0 / np.maximum(new_min_a, 1e-9) * 60.0]
        ),
        edge_class=np.concatenate([G.edge_class, np.asarray(new_cls, dtype=np.int8)]),
        edge_urban_share=np.concatenate([G.urban_share, np.zeros(len(new_u))]),
        islands=islands,
        _cache={},
    )


def island_pairs(
    G: DriveGraph,
    so: pd.DataFrame,
    sd: pd.DataFrame,
    out: pd.DataFrame,
    cap: float,
) -> pd.DataFrame:
    """Replace same-island pairs of an OD table by min(network time, direct island leg).

    Called by :func:`netplan.traveltime.od_matrix` with its snapped points (``so``, ``sd``,
    which name each point's island) and its table ``out``; returns the table in the same
    order (origins, then destinations, in input order).
    """
    prof = G.profile
    if prof is None:
        return out
    from ._geo import _to_bng

    ox, oy = _to_bng(so["lon"].to_numpy(), so["lat"].to_numpy())
    dx, dy = _to_bng(sd["lon"].to_numpy(), sd["lat"].to_numpy())
    rows = []
    for name in sorted(set(so["island"]) - {""}):
        oi = np.flatnonzero(so["island"].to_numpy() == name)
        di = np.flatnonzero(sd["island"].to_numpy() == name)
        if not len(oi) or not len(di):
            continue
        km = np.hypot(ox[oi, None] - dx[di], oy[oi, None] - dy[di]) / 1000.0
        share = (so["urban_share"].to_numpy()[oi, None] + sd["urban_share"].to_numpy()[di]) / 2
        direct = prof.access_minutes(km, share) + prof.terminal_minutes
        rows.append(
            pd.DataFrame(
                {
                    "origin_id": np.repeat(so["id"].to_numpy()[oi], len(di)),
                    "destination_id": np.tile(sd["id"].to_numpy()[di], len(oi)),
                    "direct": direct.ravel(),
                }
            )
        )
    if not rows:
        return out
    direct = pd.concat(rows, ignore_index=True)
    merged = out.merge(direct, on=["origin_id", "destination_id"], how="outer")
    merged["minutes"] = np.fmin(merged["minutes"].to_numpy(), merged["direct"].to_numpy())
    merged = merged[merged["minutes"] <= cap] if np.isfinite(cap) else merged
    o_rank = pd.Series(np.arange(len(so)), index=so["id"].to_numpy())
    d_rank = pd.Series(np.arange(len(sd)), index=sd["id"].to_numpy())
    order = np.lexsort(
        (
            d_rank.loc[merged["destination_id"]].to_numpy(),
            o_rank.loc[merged["origin_id"]].to_numpy(),
        )
    )
    res = merged.iloc[order][["origin_id", "destination_id", "minutes"]]
    return res.reset_index(drop=True)
