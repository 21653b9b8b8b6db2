"""Repair small gaps of the derived major-road network: dead ends that stop short of a road.

The mirror's England and Wales major-road network (``roads-major-nodes`` /
``roads-major-edges``) is derived from OSM by keeping motorway, trunk and primary ways, so a
major road that meets another through a short minor-road link, a slip road tagged
differently, or a node moved by the 0.001-degree rounding ends a few metres from the road it
joins in reality. Such a dead end makes every trip through it take a long way round.

:func:`find_gaps` finds each *dead end* (a node with one neighbour) that lies within
``max_gap_m`` (150 m) of another node whose road distance from it is over ``min_road_m``
(2 km, or unreachable): a link missing from the derived network, since two real roads 150 m
apart with no link between them within 2 km are rare among major roads, while a
dual carriageway's two sides, a roundabout or a junction's slip roads are joined within a
few hundred metres and are left alone. :func:`join_gaps` adds a straight two-way edge for
each such pair at the profile's major-road speed. :func:`netplan.network.graph_from_name`
applies it to ``england-major-roads`` only (full-detail OSM graphs have their links).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

if TYPE_CHECKING:
    from .graph import DriveGraph
    from .profiles import DensitySurface

logger = logging.getLogger(__name__)

#: A dead end this close to another node (straight line, metres) may be a missing link.
MAX_GAP_M = 150.0
#: ... if the road distance between them is longer than this (metres).
MIN_ROAD_M = 2_000.0
_BLOCK_CELLS = 20_000_000  # float64 cells of one bounded Dijkstra block


def find_gaps(
    x: np.ndarray,
    y: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    length_m: np.ndarray,
    *,
    max_gap_m: float = MAX_GAP_M,
    min_road_m: float = MIN_ROAD_M,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of nodes to join: a dead end and a node near it but far by road.

    Parameters
    ----------
    x, y
        Node coordinates in metres (EPSG:27700).
    u, v, length_m
        Edges (node positions) and their lengths; direction is ignored.
    max_gap_m
        Largest straight-line gap to join.
    min_road_m
        Join only when the road distance (either direction) is longer than this.

    Returns
    -------
    tuple of numpy.ndarray
        ``(a, b, gap_m)``, one row per pair (``a < b``), sorted.

    Examples
    --------
    Two roads, a 100 m gap between a dead end (node 1) and the other road's node 2:

    >>> x = np.array([0.0, 1000.0, 1100.0, 1100.0]); y = np.array([0.0, 0.0, 0.0, 900.0])
    >>> a, b, gap = find_gaps(x, y, np.array([0, 2]), np.array([1, 3]), np.array([1e3, 9e2]))
    >>> a.tolist(), b.tolist(), gap.round(1).tolist()
    ([1], [2], [100.0])
    """
    from scipy.spatial import cKDTree

    n = len(x)
    empty = np.zeros(0, dtype=np.int64)
    if n == 0 or len(u) == 0:
        return empty, empty, np.zeros(0)
    keep = u != v
    u, v, w = u[keep], v[keep], np.maximum(np.asarray(length_m, dtype=float)[keep], 1e-6)
    pair = np.unique(np.minimum(u, v) * n + np.maximum(u, v))
    deg = np.bincount(pair // n, minlength=n) + np.bincount(pair % n, minlength=n)
    dead = np.flatnonzero(deg == 1)
    if not len(dead):
        return empty, empty, np.zeros(0)
    xy = np.column_stack([x, y])
    near = cKDTree(xy).query_ball_point(xy[dead], r=max_gap_m)
    src = np.repeat(dead, [len(c) for c in near])
    dst = np.concatenate([np.asarray(c, dtype=np.int64) for c in near])
    src, dst = src[dst != src], dst[dst != src]
    if not len(src):
        return empty, empty, np.zeros(0)
    # road distance from each such dead end, searched no farther than min_road_m
    L = sp.csr_array((w, (u, v)), shape=(n, n))
    starts, inv = np.unique(src, return_inverse=True)
    far = np.zeros(len(src), dtype=bool)
    step = max(1, _BLOCK_CELLS // n)
    for b0 in range(0, len(starts), step):
        rows = slice(b0, b0 + step)
        dist = csgraph.dijkstra(L, directed=False, indices=starts[rows], limit=min_road_m)
        here = (inv >= b0) & (inv < b0 + step)
        far[here] = dist[inv[here] - b0, dst[here]] > min_road_m
    a, b = np.minimum(src[far], dst[far]), np.maximum(src[far], dst[far])
    key = np.unique(a * n + b)
    a, b = key // n, key % n
    return a, b, np.hypot(x[a] - x[b], y[a] - y[b])


def join_gaps(
    G: DriveGraph,
    *,
    max_gap_m: float = MAX_GAP_M,
    min_road_m: float = MIN_ROAD_M,
    density: DensitySurface | None = None,
) -> DriveGraph:
    """``G`` with a straight two-way ``major`` edge across every gap of :func:`find_gaps`.

    The new edges run at the profile's ``major`` speed for the urban share at their
    mid-point (``G.speed_model``'s ``major`` speed without a profile) and are appended after
    ``G``'s edges. The number of links added is logged at INFO.

    Returns
    -------
    DriveGraph
        A new graph (``G`` itself when there is nothing to join).
    """
    from .graph import _CLASS_CODE, _osm_factor

    t = np.column_stack([G.edge_u, G.edge_v])
    a, b, gap_m = find_gaps(
        G.x, G.y, t[:, 0], t[:, 1], G.edge_length_m, max_gap_m=max_gap_m, min_road_m=min_road_m
    )
    logger.info(
        "major-road gaps: %d link(s) added (dead ends within %g m of a node over %g km away "
        "by road), %.1f km in all",
        len(a),
        max_gap_m,
        min_road_m / 1000,
        gap_m.sum() / 1000,
    )
    if not len(a):
        return G
    length = np.maximum(gap_m, 1.0)
    prof = G.profile
    share = np.zeros(len(a))
    if prof is not None:
        if density is None:
            from .profiles import density_surface

            density = density_surface()
        mx, my = (G.x[a] + G.x[b]) / 2, (G.y[a] + G.y[b]) / 2
        share = density.urban_share(prof, mx, my) if density is not None else share + 0.5
        speed = prof.major_speed_kph("major", share) * _osm_factor(prof, "major")
    else:
        speed = np.full(len(a), G.speed_model.speed_kph("major"))
    two = lambda arr: np.concatenate([arr, arr])  # noqa: E731 (both directions)
    return dataclasses.replace(
        G,
        edge_u=np.concatenate([G.edge_u, a, b]),
        edge_v=np.concatenate([G.edge_v, b, a]),
        edge_length_m=np.concatenate([G.edge_length_m, two(length)]),
        edge_minutes=np.concatenate([G.edge_minutes, two(length / 1000.0 / speed * 60.0)]),
        edge_speed_kph=np.concatenate([G.edge_speed_kph, two(speed)]),
        edge_class=np.concatenate(
            [G.edge_class, np.full(2 * len(a), _CLASS_CODE["major"], dtype=np.int8)]
        ),
        edge_urban_share=np.concatenate([G.urban_share, two(share)]),
        _cache={},
    )
