"""Multi-node snapping: every point enters the road graph at several nearby nodes.

On a sparse network (``england-major-roads`` has no minor roads) the one nearest node is
often a poor way in: behind a junction, on the far carriageway, at the end of a spur. So each
point gets up to ``snap_nodes`` *entry nodes*: its nearest node and the next nearest ones
within :func:`candidate_radius_km` (``max(2 x nearest, nearest + 3 km)``), each with its own
access leg from the same access model as the nearest one. A trip's time is then

.. math::  t(o, d) = \\min_{a \\in E(o),\\, b \\in E(d)} \\mathrm{acc}(o, a)
           + \\mathrm{road}(a, b) + \\mathrm{acc}(b, d)

computed exactly by one Dijkstra search per point of the smaller side: that point is a
*virtual node* joined to its entry nodes by edges of its access minutes (on the reversed
graph for destinations), so the search yields ``min_b road(a, b) + acc(b, d)`` at every node
``a`` at once; the other side takes the minimum over its own entry nodes of access + that
time. Virtual nodes have edges out only (never in), so no path passes through one.

:func:`netplan.traveltime.od_matrix` calls these helpers (``snap_nodes > 1``); they take
plain arrays and matrices and import no netplan module above them
(:mod:`netplan._geo`, :mod:`netplan.defaults`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse import csgraph

from . import defaults
from ._errors import ValidationError

if TYPE_CHECKING:
    from .graph import DriveGraph

logger = logging.getLogger(__name__)

#: Entry nodes per point by default: ``network.snap_nodes`` in ``defaults.yaml`` (4).
DEFAULT_SNAP_NODES: int = int(defaults.get("network.snap_nodes"))
#: Candidate radius: entry nodes lie within ``max(RADIUS_FACTOR x nearest, nearest +
#: RADIUS_EXTRA_KM)`` (:func:`candidate_radius_km`).
RADIUS_FACTOR = 2.0
RADIUS_EXTRA_KM = 3.0
MAX_SNAP_NODES = 16


class Entries(NamedTuple):
    """Entry nodes of points: row ``i`` is point ``i``, column 0 its nearest node.

    ``nodes`` are graph positions (``-1`` pads rows with fewer candidates), ``km`` the
    straight-line snap distances and ``minutes`` the access legs (``inf`` where padded).
    """

    nodes: np.ndarray
    km: np.ndarray
    minutes: np.ndarray


def check_snap_nodes(snap_nodes: object, where: str = "snap_nodes") -> int:
    """Return ``snap_nodes`` as an int in 1..16, or raise naming the fix."""
    ok = isinstance(snap_nodes, (int, np.integer)) and not isinstance(snap_nodes, bool)
    if not ok or not 1 <= int(snap_nodes) <= MAX_SNAP_NODES:  # type: ignore[arg-type]
        msg = (
            f"{where} must be a whole number from 1 to {MAX_SNAP_NODES} (entry nodes per "
            f"point; 1 = the nearest node only), got {snap_nodes!r}."
        )
        raise ValidationError(msg)
    return int(snap_nodes)  # type: ignore[arg-type]


def candidate_radius_km(nearest_km: np.ndarray) -> np.ndarray:
    """Farthest entry node allowed: ``max(2 x nearest, nearest + 3 km)``.

    Examples
    --------
    >>> candidate_radius_km(np.array([0.0, 1.0, 5.0])).tolist()
    [3.0, 4.0, 10.0]
    """
    d = np.asarray(nearest_km, dtype=float)
    return np.maximum(RADIUS_FACTOR * d, d + RADIUS_EXTRA_KM)


def entry_nodes(
    G: DriveGraph,
    snapped: pd.DataFrame,
    *,
    snap_nodes: int,
    access: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> Entries:
    """Up to ``snap_nodes`` entry nodes per snapped point, nearest first.

    Parameters
    ----------
    G
        The drive graph the points were snapped to.
    snapped
        The frame of :func:`netplan.traveltime.snap` (``node``, ``snap_km``,
        ``access_minutes``, ``urban_share``, ``island``, ``lon``, ``lat``).
    snap_nodes
        Entry nodes per point at most (1: the snapped node only).
    access
        ``access(km, urban_share) -> minutes``: the access model ``snap`` used.

    Returns
    -------
    Entries
        Column 0 is ``snapped``'s own node, snap distance and access minutes, bit for bit;
        the others are the next nearest snappable nodes (mainland points: the graph's
        KD-tree; island points: their island's nodes) within :func:`candidate_radius_km`.
    """
    from ._geo import _to_bng

    n, k = len(snapped), int(snap_nodes)
    nodes = np.full((n, k), -1, dtype=np.int64)
    km = np.full((n, k), np.inf)
    nodes[:, 0] = snapped["node"].to_numpy()
    km[:, 0] = snapped["snap_km"].to_numpy()
    if k > 1 and n:
        x, y = _to_bng(snapped["lon"].to_numpy(), snapped["lat"].to_numpy())
        island = snapped["island"].to_numpy()
        tree, idx = G.kdtree
        groups = [("", idx)] + [
            (name, np.asarray(v, dtype=np.int64)) for name, v in G.islands.items()
        ]
        for name, pool in groups:
            on = np.flatnonzero(island == name)
            if not len(on) or not len(pool):
                continue
            kk = min(k, len(pool))
            if name == "":
                dist_m, j = tree.query(np.column_stack([x[on], y[on]]), k=kk)
                near = idx[np.reshape(j, (len(on), kk))]
                dist_m = np.reshape(dist_m, (len(on), kk))
            else:
                d2 = np.hypot(x[on, None] - G.x[pool], y[on, None] - G.y[pool])
                j = np.argsort(d2, axis=1, kind="stable")[:, :kk]
                near, dist_m = pool[j], np.take_along_axis(d2, j, axis=1)
            _fill_others(nodes, km, on, near, dist_m / 1000.0)
    far = km > candidate_radius_km(km[:, :1])
    far[:, 0] = False
    nodes[far], km[far] = -1, np.inf
    minutes = np.full((n, k), np.inf)
    minutes[:, 0] = snapped["access_minutes"].to_numpy()
    if k > 1:
        share = np.broadcast_to(snapped["urban_share"].to_numpy()[:, None], (n, k - 1))
        other = nodes[:, 1:] >= 0
        minutes[:, 1:][other] = access(km[:, 1:][other], share[other])
    return Entries(nodes, km, minutes)


def _fill_others(
    nodes: np.ndarray, km: np.ndarray, rows: np.ndarray, near: np.ndarray, near_km: np.ndarray
) -> None:
    """Put the nearest candidates other than column 0's node into columns 1.. (in place)."""
    k = nodes.shape[1]
    other = near != nodes[rows, :1]
    # column 0's node is usually the first candidate; keep the first k - 1 others in order
    rank = np.cumsum(other, axis=1)
    take = other & (rank <= k - 1)
    r, c = np.nonzero(take)
    nodes[rows[r], rank[r, c]] = near[r, c]
    km[rows[r], rank[r, c]] = near_km[r, c]


def with_virtual_sources(A: sp.csr_array, pos: np.ndarray, minutes: np.ndarray) -> sp.csr_array:
    """``A`` plus one node per row of ``pos``, with edges to its valid entries.

    Virtual node ``m + i`` (``m = A.shape[0]``) gets an edge to ``pos[i, j]`` of weight
    ``minutes[i, j]`` for every ``pos[i, j] >= 0`` (explicit zeros are kept: csgraph treats
    a stored zero as an edge) and no edges in.
    """
    m, n_v = A.shape[0], len(pos)
    ok = pos >= 0
    rows = np.repeat(np.arange(m, m + n_v, dtype=np.int64), ok.sum(axis=1))
    coo = A.tocoo()
    data = np.concatenate([coo.data, minutes[ok]])
    r = np.concatenate([coo.row.astype(np.int64), rows])
    c = np.concatenate([coo.col.astype(np.int64), pos[ok]])
    return sp.csr_array((data, (r, c)), shape=(m + n_v, m + n_v))


def entry_times(
    csr: sp.csr_array,
    csr_reverse: sp.csr_array,
    o_pos: np.ndarray,
    o_min: np.ndarray,
    d_pos: np.ndarray,
    d_min: np.ndarray,
    *,
    cap: float,
    memory_cells: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Door-to-door times between points given by their entry nodes, within ``cap``.

    Parameters
    ----------
    csr, csr_reverse
        The (reduced) graph and its reverse, minutes.
    o_pos, d_pos
        Entry nodes of origins and destinations as rows of ``csr`` (``-1`` padding),
        shape ``(points, k)``.
    o_min, d_min
        Their access minutes (``inf`` padding).
    cap
        Keep pairs within this many minutes (``inf``: every reachable pair).
    memory_cells
        Float64 cells of one Dijkstra block at most.

    Returns
    -------
    tuple of numpy.ndarray
        ``(n_per_origin, destination, minutes)``: the pairs origin by origin (input order),
        destinations ascending within each, as :func:`netplan.traveltime.od_matrix` lays
        them out.
    """
    n_o, n_d = len(o_pos), len(d_pos)
    from_dest = n_d <= n_o
    # search from virtual nodes of the smaller side; gather the other side's entries
    if from_dest:
        A = with_virtual_sources(csr_reverse, d_pos, d_min)
        gather_pos, gather_min, n_s = o_pos, o_min, n_d
    else:
        A = with_virtual_sources(csr, o_pos, o_min)
        gather_pos, gather_min, n_s = d_pos, d_min, n_o
    m = csr.shape[0]
    n_g, k = gather_pos.shape
    # the search may stop once only the shortest access leg of the other side fits
    limit = cap - float(np.min(gather_min)) + 1e-9 if np.isfinite(cap) else np.inf
    empty = np.zeros(0, dtype=np.int64)
    if limit < 0:
        return np.zeros(n_o, dtype=np.int64), empty, np.zeros(0)
    safe = np.where(gather_pos >= 0, gather_pos, 0)
    step = max(1, memory_cells // max(A.shape[0], n_g * k))
    rows_out, cols_out, times_out = [], [], []
    for b0 in range(0, n_s, step):
        src = np.arange(b0, min(b0 + step, n_s))
        D = csgraph.dijkstra(A, directed=True, indices=m + src, limit=limit)
        # (sources, gathered points, k): search time at each entry + its access leg
        T = D[:, safe.ravel()].reshape(len(src), n_g, k)
        T += gather_min[None]
        best = T.min(axis=2)  # padded entries are inf
        if from_dest:
            best = np.ascontiguousarray(best.T)  # (origins, destinations of this block)
        near = best <= cap if np.isfinite(cap) else np.isfinite(best)
        r, c = np.nonzero(near)
        times_out.append(best[r, c])
        if from_dest:
            rows_out.append(r)
            cols_out.append(c + b0)
        else:
            rows_out.append(r + b0)
            cols_out.append(c)
    o_idx, d_idx = np.concatenate(rows_out), np.concatenate(cols_out)
    minutes = np.concatenate(times_out)
    if from_dest and len(rows_out) > 1:
        order = np.argsort(o_idx, kind="stable")  # blocks stay in destination order
        o_idx, d_idx, minutes = o_idx[order], d_idx[order], minutes[order]
    return np.bincount(o_idx, minlength=n_o), d_idx, minutes


def nearest_node_times(
    csr: sp.csr_array,
    csr_reverse: sp.csr_array,
    o_node: np.ndarray,
    o_acc: np.ndarray,
    d_node: np.ndarray,
    d_acc: np.ndarray,
    *,
    cap: float,
    memory_cells: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Pairs within ``cap`` with every point at its nearest node (``snap_nodes=1``).

    ``o_node``, ``d_node`` are the points' nodes as rows of ``csr`` and ``o_acc``, ``d_acc``
    their access minutes. Points sharing a node are searched from (or reached) once.

    Returns
    -------
    tuple
        ``(n_per_origin, destination, minutes)`` as :func:`entry_times`, and whether the
        search ran from the destinations.
    """
    # Distinct origin nodes: each is searched from (or reached) once, however many points.
    o_nodes, o_inv = np.unique(o_node, return_inverse=True)
    o_min = np.full(len(o_nodes), np.inf)
    np.minimum.at(o_min, o_inv, o_acc)
    from_dest = len(np.unique(d_node)) <= len(o_nodes)
    # 2. (origin node, destination point) times, grouped by origin node in CSR form
    starts, q, minutes = _node_point_times(
        (csr, csr_reverse),
        o_nodes,
        o_min,
        d_node,
        d_acc,
        cap=cap,
        from_dest=from_dest,
        memory_cells=memory_cells,
    )
    # 3. Origin points in input order, each taking its node's row, within the cap.
    idx, n_per_p = take_groups(starts, o_inv)
    minutes = minutes[idx]
    minutes += np.repeat(o_acc, n_per_p)
    if np.isfinite(cap):
        ok = minutes <= cap
        # few pairs fail here: count them per origin point from their positions
        ends = np.cumsum(n_per_p)
        failed = np.searchsorted(ends, np.flatnonzero(~ok), side="right")
        n_per_p = n_per_p - np.bincount(failed, minlength=len(o_node))
        idx, minutes = idx[ok], minutes[ok]
    return n_per_p, q[idx], minutes, from_dest


def _node_point_times(
    red: tuple[sp.csr_array, sp.csr_array],
    o_nodes: np.ndarray,
    o_min: np.ndarray,
    d_node: np.ndarray,
    d_acc: np.ndarray,
    *,
    cap: float,
    from_dest: bool,
    memory_cells: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Times from origin nodes to destination points (network + destination access leg).

    Node positions are rows of the graph ``red`` (forward and reversed CSR). Multi-source
    Dijkstra runs from the side with fewer distinct nodes: on the reversed graph from
    destination nodes (blocks of destination points) or forward from origin nodes (blocks of
    origin nodes); a block holds at most ``memory_cells`` times. A pair is kept if it can
    fit within ``cap`` with ``o_min``, the shortest access leg at its origin node; the exact
    test per origin point comes later.

    Returns
    -------
    tuple of numpy.ndarray
        ``(starts, q, minutes)``: origin node ``k``'s pairs are ``starts[k]:starts[k + 1]``,
        with destination point positions ``q`` (ascending) and their times.
    """
    # Network budget: the trip must fit after the shortest access legs at both ends (with
    # 1e-9 min of slack for the reduced graph's summed edges: the exact test comes later).
    limit = cap - o_min.min() - d_acc.min() + 1e-9
    n_o, n_d = len(o_nodes), len(d_node)
    if limit < 0:
        return np.zeros(n_o + 1, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
    # 1e-9 min of slack: this test only prunes, the exact one per point comes later
    room = (cap + 1e-9) - o_min[:, None] if np.isfinite(cap) else None
    n_nodes = red[0].shape[0]
    step = max(1, memory_cells // max(n_nodes, n_o, n_d))
    counts, qs, times = [], [], []
    for b0 in range(0, n_d if from_dest else n_o, step):
        if from_dest:
            cols = slice(b0, min(b0 + step, n_d))
            nodes, inv = np.unique(d_node[cols], return_inverse=True)
            # (origin nodes x destination nodes) times, then one column per point
            block = csgraph.dijkstra(red[1], indices=nodes, limit=limit)
            # (numpy lays D[:, idx] out column-major, so this transpose does not copy)
            block = np.ascontiguousarray(block[:, o_nodes].T)
            if not np.array_equal(inv, np.arange(len(inv))):  # shared or unsorted nodes
                block = block.take(inv, axis=1)
            rows = slice(None)
        else:
            rows, cols = slice(b0, min(b0 + step, n_o)), slice(None)
            block = csgraph.dijkstra(red[0], indices=o_nodes[rows], limit=limit)
            block = block.take(d_node, axis=1)
        block += d_acc[cols]
        near = np.isfinite(block) if room is None else block <= room[rows]
        flat = np.flatnonzero(near)
        counts.append(np.count_nonzero(near, axis=1))
        times.append(block.ravel()[flat])
        row = np.repeat(np.arange(len(counts[-1])), counts[-1])
        qs.append(flat - row * block.shape[1] + (cols.start or 0))
    q, minutes = np.concatenate(qs), np.concatenate(times)
    if from_dest and len(counts) > 1:
        # blocks of destination points -> one row per origin node, q still ascending
        n_b = len(counts)
        block_starts = np.zeros(n_b * n_o + 1, dtype=np.int64)
        np.cumsum(np.concatenate(counts), out=block_starts[1:])
        wanted = (np.arange(n_b) * n_o + np.arange(n_o)[:, None]).ravel()
        idx, _ = take_groups(block_starts, wanted)
        q, minutes = q[idx], minutes[idx]
        counts = [np.sum(counts, axis=0)]
    starts = np.zeros(n_o + 1, dtype=np.int64)
    np.cumsum(np.concatenate(counts), out=starts[1:])
    return starts, q, minutes


def take_groups(starts: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate the index ranges of groups ``wanted`` (CSR gather).

    Returns
    -------
    tuple of numpy.ndarray
        The positions (group ``wanted[0]``'s, then ``wanted[1]``'s, ...) and the count taken
        for each entry of ``wanted``.
    """
    first, counts = starts[wanted], starts[wanted + 1] - starts[wanted]
    ends = np.cumsum(counts)
    total = int(ends[-1]) if len(ends) else 0
    dtype = np.int32 if max(total, int(starts[-1])) < 2**31 else np.int64
    idx = np.repeat((first - ends + counts).astype(dtype), counts)
    idx += np.arange(total, dtype=dtype)
    return idx, counts
