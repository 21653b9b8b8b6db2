"""Snapping points to a drive graph and origin-destination travel-time tables.

A trip's time is ``access leg at the origin + network time + access leg at the
destination``. Each point is snapped to the nearest node of the graph's largest strongly
connected component (KD-tree in EPSG:27700); its access leg is the straight-line distance x
``detour_factor`` driven at ``access_speed_kph``.

Network times come from multi-source Dijkstra (``scipy.sparse.csgraph.dijkstra``) run from
the side with fewer distinct nodes: forward from origins, or on the reversed graph from
destinations, so origin -> destination times are right on one-way streets either way.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.sparse import csgraph

from . import settings
from ._errors import NetworkError, ValidationError
from ._io import atomic_path
from ._validate import check_columns, check_lonlat, check_unique

if TYPE_CHECKING:
    from .network import DriveGraph

logger = logging.getLogger(__name__)

#: Straight-line to road distance factor for access legs. 1.3 is a typical road-network
#: circuity (*derived*: Boscoe, Henry & Zdeb 2012, Prof. Geogr. 64(2), report mean
#: driving/straight-line ratios of about 1.4 for short US trips; UK local roads are denser).
DEFAULT_DETOUR_FACTOR = 1.3
#: Access-leg speed: OSRM car profile's residential/unclassified speed (DOMAIN.md 7b).
DEFAULT_ACCESS_SPEED_KPH = 25.0
#: Snap distance above which a point is reported in a warning.
DEFAULT_MAX_SNAP_KM = 5.0

_MEMORY_CELLS = 25_000_000  # max float64 cells of one Dijkstra block (200 MB)
_BLOCK_CELLS = 2_000_000  # float64 cells of one (origin points x destination nodes) block


def _points_frame(points: pd.DataFrame, *, source: str) -> pd.DataFrame:
    """Validate ``id, lon, lat`` (WGS84) and return them, ids kept in input order."""
    if not isinstance(points, pd.DataFrame):
        msg = f"{source}: expected a DataFrame with columns id, lon, lat; got {type(points)}."
        raise ValidationError(msg)
    df = points
    if ("lon" not in df.columns or "lat" not in df.columns) and "geometry" in df.columns:
        gdf = df.to_crs(settings.geographic_crs) if getattr(df, "crs", None) else df
        df = pd.DataFrame(
            {
                "id": df["id"] if "id" in df.columns else df.index,
                "lon": gdf.geometry.x,
                "lat": gdf.geometry.y,
            }
        )
    check_columns(df, ["id", "lon", "lat"], source=source)
    if len(df) == 0:
        msg = f"{source}: no points; give at least one row with id, lon, lat."
        raise ValidationError(msg)
    check_unique(df, "id", source=source)
    df = check_lonlat(
        df[["id", "lon", "lat"]].reset_index(drop=True), source=source, id_column="id"
    )
    return df


def snap(
    G: DriveGraph,
    points: pd.DataFrame,
    *,
    max_snap_km: float = DEFAULT_MAX_SNAP_KM,
    detour_factor: float = DEFAULT_DETOUR_FACTOR,
    access_speed_kph: float = DEFAULT_ACCESS_SPEED_KPH,
    on_outside: str = "raise",
    source: str = "points",
) -> pd.DataFrame:
    """Snap points to the nearest routable node and compute their access legs.

    Parameters
    ----------
    G
        The drive graph.
    points
        DataFrame with ``id, lon, lat`` (WGS84), or a GeoDataFrame of points with ``id``.
    max_snap_km
        Points snapped further than this are named in one ``UserWarning``. Points outside
        the network's extent (bounding box in EPSG:27700) grown by ``max_snap_km`` raise
        :class:`NetworkError`.
    detour_factor
        Road distance / straight-line distance for the access leg.
    access_speed_kph
        Speed of the access leg.
    on_outside
        {"raise", "warn", "drop"}: what to do with points outside the network's extent
        (e.g. the Isles of Scilly for ``england-major-roads``): raise NetworkError, keep them
        (snapped, with long access legs, named in the warning) or leave them out.
    source
        Name used in messages (e.g. the CSV file).

    Returns
    -------
    pandas.DataFrame
        ``id, node`` (position in ``G``), ``node_id`` (source id), ``snap_km``,
        ``access_minutes``; one row per point, in input order.

    Raises
    ------
    ValidationError
        Missing columns, duplicate ids, non-numeric, swapped or non-GB coordinates.
    NetworkError
        Points far outside the network.
    """
    if detour_factor < 1 or access_speed_kph <= 0 or max_snap_km <= 0:
        msg = (
            f"snap: detour_factor must be >= 1 and access_speed_kph, max_snap_km > 0; "
            f"got {detour_factor}, {access_speed_kph}, {max_snap_km}."
        )
        raise ValidationError(msg)
    df = _points_frame(points, source=source)
    from .network import _to_bng

    x, y = _to_bng(df["lon"].to_numpy(), df["lat"].to_numpy())
    tree, idx = G.kdtree
    dist_m, k = tree.query(np.column_stack([x, y]))
    snap_km = dist_m / 1000.0
    pad = max_snap_km * 1000.0
    far = (
        (x < G.x.min() - pad)
        | (x > G.x.max() + pad)
        | (y < G.y.min() - pad)
        | (y > G.y.max() + pad)
    )
    if on_outside not in {"raise", "warn", "drop"}:
        msg = f"snap: on_outside must be 'raise', 'warn' or 'drop', got {on_outside!r}."
        raise ValidationError(msg)
    if far.any() and on_outside == "raise":
        ids = df["id"][far].astype(str).tolist()
        msg = (
            f"{source}: {int(far.sum())} point(s) lie outside the road network {G.source!r} "
            f"(beyond its extent plus {max_snap_km:g} km; first ids: {ids[:10]}, "
            f"{snap_km[far].max():.1f} km from the nearest road at worst). Use a network "
            "that covers them, drop the points or pass on_outside='warn' (or 'drop')."
        )
        raise NetworkError(msg)
    if far.any() and on_outside == "drop":
        logger.warning(
            "%s: %d point(s) outside the network left out: %s",
            source,
            int(far.sum()),
            ", ".join(df["id"][far].astype(str).tolist()[:10]),
        )
        keep = ~far
        df, x, y = df[keep].reset_index(drop=True), x[keep], y[keep]
        snap_km, k = snap_km[keep], k[keep]
    warn = snap_km > max_snap_km
    if warn.any():
        ids = df["id"][warn].astype(str).tolist()
        more = f" and {len(ids) - 10} more" if len(ids) > 10 else ""
        msg = (
            f"{source}: {len(ids)} point(s) snapped more than {max_snap_km:g} km to the "
            f"road network: {', '.join(ids[:10])}{more} (max {snap_km[warn].max():.1f} km); "
            "their access legs are estimates."
        )
        warnings.warn(msg, UserWarning, stacklevel=2)
    node = idx[k]
    return pd.DataFrame(
        {
            "id": df["id"].to_numpy(),
            "node": node.astype(np.int64),
            "node_id": G.node_ids[node],
            "snap_km": snap_km,
            "access_minutes": snap_km * detour_factor / access_speed_kph * 60.0,
        }
    )


def node_times(
    G: DriveGraph,
    nodes: np.ndarray,
    *,
    reverse: bool = False,
    max_minutes: float | None = None,
    n_jobs: int | None = None,
) -> np.ndarray:
    """Shortest network times (minutes) from each of ``nodes`` to every node.

    Parameters
    ----------
    G
        The drive graph.
    nodes
        Source node positions.
    reverse
        Run on the reversed graph: row i then holds times *to* ``nodes[i]``.
    max_minutes
        Stop the search past this time (unreached cells are ``inf``).
    n_jobs
        Threads (scipy's Dijkstra releases the GIL); default: the CPUs available.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(nodes), G.n_nodes)``.
    """
    A = G.csr_reverse if reverse else G.csr
    limit = np.inf if max_minutes is None else float(max_minutes)
    nodes = np.asarray(nodes, dtype=np.int64)
    n_jobs = n_jobs or _cpus()
    if n_jobs < 2 or len(nodes) < 8 * n_jobs:
        return csgraph.dijkstra(A, directed=True, indices=nodes, limit=limit)
    out = np.empty((len(nodes), G.n_nodes))
    bounds = np.linspace(0, len(nodes), n_jobs + 1).astype(int)

    def run(k: int) -> None:
        lo, hi = bounds[k], bounds[k + 1]
        out[lo:hi] = csgraph.dijkstra(A, directed=True, indices=nodes[lo:hi], limit=limit)

    with ThreadPoolExecutor(n_jobs) as pool:
        list(pool.map(run, range(n_jobs)))
    return out


def _cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def od_matrix(
    G: DriveGraph,
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    *,
    max_minutes: float | None = None,
    max_snap_km: float = DEFAULT_MAX_SNAP_KM,
    detour_factor: float = DEFAULT_DETOUR_FACTOR,
    access_speed_kph: float = DEFAULT_ACCESS_SPEED_KPH,
    on_outside: str = "raise",
) -> pd.DataFrame:
    """Drive times between every origin and destination, in long form.

    Parameters
    ----------
    G
        The drive graph.
    origins, destinations
        ``id, lon, lat`` tables (WGS84) or point GeoDataFrames with ``id``.
    max_minutes
        Keep only pairs within this time (door to door, access legs included).
    max_snap_km, detour_factor, access_speed_kph, on_outside
        Passed to :func:`snap`.

    Returns
    -------
    pandas.DataFrame
        ``origin_id, destination_id, minutes`` (float), sorted by origin then destination
        input order; unreachable pairs are left out.

    Raises
    ------
    ValidationError, NetworkError
        As :func:`snap`.

    Examples
    --------
    >>> import pandas as pd
    >>> from netplan.network import graph_from_edge_list
    >>> nodes = pd.DataFrame({"node": [1, 2], "lon": [-1.50, -1.40], "lat": [53.8, 53.8]})
    >>> edges = pd.DataFrame({"u": [1], "v": [2], "length_km": [6.5]})
    >>> G = graph_from_edge_list(nodes, edges)  # 'major' roads: 65 km/h
    >>> od_matrix(G, nodes.rename(columns={"node": "id"}).head(1),
    ...           nodes.rename(columns={"node": "id"}).tail(1)).round(2)
       origin_id  destination_id  minutes
    0          1               2      6.0
    """
    t0 = time.perf_counter()
    kw = {
        "max_snap_km": max_snap_km,
        "detour_factor": detour_factor,
        "access_speed_kph": access_speed_kph,
        "on_outside": on_outside,
    }
    so = snap(G, origins, source="origins", **kw)
    sd = snap(G, destinations, source="destinations", **kw)
    o_node, d_node = so["node"].to_numpy(), sd["node"].to_numpy()
    o_acc, d_acc = so["access_minutes"].to_numpy(), sd["access_minutes"].to_numpy()
    o_nodes, o_inv = _unique_in_order(o_node)
    d_nodes, d_inv = _unique_in_order(d_node)
    # Network budget: the trip must fit after the shortest access legs at both ends.
    cap = np.inf if max_minutes is None else float(max_minutes)
    limit = cap - o_acc.min() - d_acc.min()
    d_groups = _Groups(d_inv, len(d_nodes))
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    from_dest = len(d_nodes) <= len(o_nodes)
    if limit >= 0 and from_dest:
        # Dijkstra from destination nodes on the reversed graph: times *to* them.
        step = max(1, _MEMORY_CELLS // G.n_nodes)
        for j0 in range(0, len(d_nodes), step):
            D = node_times(G, d_nodes[j0 : j0 + step], reverse=True, max_minutes=limit)
            # Origin points in row blocks: small, reused buffers are much faster than one
            # (all points x all destination nodes) array, and keep memory low.
            rows = max(1, _BLOCK_CELLS // D.shape[0])
            for r0 in range(0, len(so), rows):
                pts = np.arange(r0, min(r0 + rows, len(so)))
                block = D[:, o_node[pts]].T  # (origin points x destination nodes)
                parts.append(_expand(block, pts, j0, o_acc, d_acc, d_groups, cap))
    elif limit >= 0:
        step = max(1, _MEMORY_CELLS // max(G.n_nodes, len(d_nodes)))
        for i0 in range(0, len(o_nodes), step):
            F = node_times(G, o_nodes[i0 : i0 + step], reverse=False, max_minutes=limit)
            pts = np.flatnonzero((o_inv >= i0) & (o_inv < i0 + step))
            block = F[:, d_nodes][o_inv[pts] - i0]  # (origin points x destination nodes)
            parts.append(_expand(block, pts, 0, o_acc, d_acc, d_groups, cap))
    if parts:
        oi, di, minutes = (np.concatenate(p) for p in zip(*parts, strict=True))
    else:
        oi = di = np.zeros(0, dtype=np.int64)
        minutes = np.zeros(0)
    key = oi * len(sd) + di
    if len(key) > 1 and not (np.diff(key) > 0).all():
        order = np.argsort(key, kind="stable")
        oi, di, minutes = oi[order], di[order], minutes[order]
    out = pd.DataFrame(
        {
            "origin_id": so["id"].to_numpy()[oi],
            "destination_id": sd["id"].to_numpy()[di],
            "minutes": minutes,
        }
    )
    logger.info(
        "OD matrix: %s origins x %s destinations -> %s pairs, %.2f s (from %s)",
        f"{len(so):,}",
        f"{len(sd):,}",
        f"{len(out):,}",
        time.perf_counter() - t0,
        "destinations, reversed graph" if from_dest else "origins",
    )
    return out


def _unique_in_order(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique values in order of first appearance, and each value's position among them."""
    uniq, first, inv = np.unique(values, return_index=True, return_inverse=True)
    perm = np.argsort(first)
    rank = np.empty(len(perm), dtype=np.int64)
    rank[perm] = np.arange(len(perm))
    return uniq[perm], rank[inv]


class _Groups:
    """Destination points grouped by destination node (CSR-style)."""

    def __init__(self, inv: np.ndarray, n_groups: int) -> None:
        self.members = np.argsort(inv, kind="stable")
        self.counts = np.bincount(inv, minlength=n_groups)
        self.starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]])


def _expand(
    block: np.ndarray,
    pts: np.ndarray,
    col0: int,
    o_acc: np.ndarray,
    d_acc: np.ndarray,
    groups: _Groups,
    cap: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Turn an (origin point x destination node) block into point pairs within ``cap``.

    ``block[i, j]`` is the network time from origin point ``pts[i]``'s node to destination
    node ``col0 + j``; the access legs of both ends are added here.
    """
    partial = block + o_acc[pts][:, None]
    r, c = np.nonzero(partial <= cap - d_acc.min() if np.isfinite(cap) else np.isfinite(partial))
    c = c + col0
    cnt = groups.counts[c]
    if (cnt == 1).all():  # usual case: one destination point per node
        dpt = groups.members[groups.starts[c]]
        base = partial[r, c - col0]
        ri = r
    else:
        ri = np.repeat(r, cnt)
        base = np.repeat(partial[r, c - col0], cnt)
        offs = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        dpt = groups.members[np.repeat(groups.starts[c], cnt) + offs]
    total = base + d_acc[dpt]
    ok = total <= cap
    return pts[ri[ok]], dpt[ok], total[ok]


def to_csv(od: pd.DataFrame, path: str | Path, *, decimals: int = 3) -> Path:
    """Write an OD table to CSV atomically (minutes rounded to ``decimals``).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        od.to_csv(tmp, index=False, float_format=f"%.{decimals}f")
    return path
