"""Snapping points to a drive graph and origin-destination travel-time tables.

A trip's time is ``access leg at the origin + network time + access leg at the
destination``. Each point is snapped to the nearest node of the graph's largest strongly
connected component (KD-tree in EPSG:27700); its access leg is the straight-line distance x
``detour_factor`` driven at ``access_speed_kph``. :func:`od_matrix` lets each point enter
the graph at its ``snap_nodes`` nearest nodes (default 4, each with its own access leg) and
takes the fastest combination exactly (:mod:`netplan._snapping`).

Network times come from multi-source Dijkstra (``scipy.sparse.csgraph.dijkstra``) run from
the side with fewer distinct nodes: forward from origins, or on the reversed graph from
destinations, so origin -> destination times are right on one-way streets either way.
:func:`od_matrix` first reduces the graph for the snapped nodes (dead-end trees and chains
without a snapped node removed, junctions bypassed where that adds no edges), which keeps
the times between snapped nodes (to ~1e-12 min of float rounding) and makes the search
about a third cheaper on ``england-major-roads``.
"""

from __future__ import annotations

import hashlib
import logging
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse import csgraph

from ._errors import NetworkError, ValidationError
from ._snapping import (
    DEFAULT_SNAP_NODES,
    check_snap_nodes,
    entry_nodes,
    entry_times,
    nearest_node_times,
    take_groups,
)
from ._validate import check_columns, check_lonlat, check_number, check_unique

if TYPE_CHECKING:
    from .graph import DriveGraph

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
_REDUCE_GRAPH = True  # search a reduced graph (False: the whole graph, for comparisons)
_MAX_BYPASS_ROUNDS = 8  # junction-bypass rounds, at most
_MIN_BYPASS_SHARE = 0.02  # stop once fewer nodes than this share can be bypassed


def _points_frame(points: pd.DataFrame, *, source: str) -> pd.DataFrame:
    """Validate ``id, lon, lat`` (WGS84) and return them, ids kept in input order."""
    if not isinstance(points, pd.DataFrame):
        msg = f"{source}: expected a DataFrame with columns id, lon, lat; got {type(points)}."
        raise ValidationError(msg)
    df = points
    if ("lon" not in df.columns or "lat" not in df.columns) and "geometry" in df.columns:
        from ._geo import lonlat_of

        df = lonlat_of(df, source=source)  # polygons -> representative points, with a note
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
    detour_factor: float | None = None,
    access_speed_kph: float | None = None,
    on_outside: str = "raise",
    source: str = "points",
) -> pd.DataFrame:
    """Snap points to the nearest routable node and compute their access legs.

    With a graph built from a speed profile (``G.profile``, the default of
    :func:`netplan.network.graph_from_name`), the access leg is the profile's: straight line
    x its detour factor at a speed between its rural and urban access speeds by the
    population density around the point, plus its terminal minutes; points on an island of
    the profile snap to that island's nodes (its ferry terminals). Giving ``detour_factor``
    or ``access_speed_kph`` instead fixes a constant access leg (1.3 and 25 km/h when only
    one is given, or for graphs without a profile).

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
        Road distance / straight-line distance for a constant access leg.
    access_speed_kph
        Speed of a constant access leg.
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
        ``access_minutes``, ``urban_share`` (NaN for a constant access leg), ``island``
        (the island's name, or ``""``) and the point's ``lon, lat``; one row per point, in
        input order.

    Raises
    ------
    ValidationError
        Missing columns, duplicate ids, non-numeric, swapped or non-GB coordinates.
    NetworkError
        Points far outside the network.
    """
    profile = G.profile if detour_factor is None and access_speed_kph is None else None
    access_leg = _access_model(G, detour_factor=detour_factor, access_speed_kph=access_speed_kph)
    detour_factor = DEFAULT_DETOUR_FACTOR if detour_factor is None else detour_factor
    access_speed_kph = DEFAULT_ACCESS_SPEED_KPH if access_speed_kph is None else access_speed_kph
    if not (detour_factor >= 1 and access_speed_kph > 0 and max_snap_km > 0):
        msg = (
            f"snap: detour_factor must be >= 1 and access_speed_kph, max_snap_km > 0; "
            f"got {detour_factor}, {access_speed_kph}, {max_snap_km}."
        )
        raise ValidationError(msg)
    df = _points_frame(points, source=source)
    from ._geo import _to_bng

    x, y = _to_bng(df["lon"].to_numpy(), df["lat"].to_numpy())
    tree, idx = G.kdtree
    dist_m, k = tree.query(np.column_stack([x, y]))
    node = idx[k]
    island = np.full(len(df), "", dtype=object)
    if G.islands and profile is not None:
        from .ferries import island_masks

        masks = island_masks(profile, df["lon"].to_numpy(), df["lat"].to_numpy())
        for name, on in masks.items():
            nodes = np.asarray(G.islands.get(name, []), dtype=np.int64)
            if not on.any() or not len(nodes):
                continue
            d2 = np.hypot(x[on, None] - G.x[nodes], y[on, None] - G.y[nodes])
            j = np.argmin(d2, axis=1)
            node[on] = nodes[j]
            dist_m[on] = d2[np.arange(len(j)), j]
            island[on] = name
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
        snap_km, node, island = snap_km[keep], node[keep], island[keep]
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
    if profile is not None:
        from .profiles import density_surface

        surface = density_surface()
        share = surface.urban_share(profile, x, y) if surface is not None else np.full(len(df), 0.5)
    else:
        share = np.full(len(df), np.nan)
    access = access_leg(snap_km, share)
    return pd.DataFrame(
        {
            "id": df["id"].to_numpy(),
            "node": node.astype(np.int64),
            "node_id": G.node_ids[node],
            "snap_km": snap_km,
            "access_minutes": access,
            "urban_share": share,
            "island": island,
            "lon": df["lon"].to_numpy(),
            "lat": df["lat"].to_numpy(),
        }
    )


def _access_model(
    G: DriveGraph, *, detour_factor: float | None, access_speed_kph: float | None
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``access(straight_km, urban_share) -> minutes`` as :func:`snap` computes access legs."""
    if detour_factor is None and access_speed_kph is None and G.profile is not None:
        return G.profile.access_minutes
    detour = DEFAULT_DETOUR_FACTOR if detour_factor is None else detour_factor
    speed = DEFAULT_ACCESS_SPEED_KPH if access_speed_kph is None else access_speed_kph
    return lambda km, _share: km * detour / speed * 60.0


def node_times(
    G: DriveGraph,
    nodes: np.ndarray,
    *,
    reverse: bool = False,
    max_minutes: float | None = None,
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

    Returns
    -------
    numpy.ndarray
        float64, shape ``(len(nodes), G.n_nodes)``.

    Notes
    -----
    One call of ``scipy.sparse.csgraph.dijkstra``. It holds the GIL (scipy 1.17: a thread
    pool gave no speed-up, measured), so the sources are not split over threads.
    """
    A = G.csr_reverse if reverse else G.csr
    max_minutes = check_number(max_minutes, "node_times: max_minutes", allow_none=True)
    limit = np.inf if max_minutes is None else float(max_minutes)
    nodes = np.asarray(nodes, dtype=np.int64)
    return csgraph.dijkstra(A, directed=True, indices=nodes, limit=limit)


def od_matrix(
    G: DriveGraph,
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    *,
    max_minutes: float | None = None,
    max_snap_km: float = DEFAULT_MAX_SNAP_KM,
    detour_factor: float | None = None,
    access_speed_kph: float | None = None,
    on_outside: str = "raise",
    snap_nodes: int = DEFAULT_SNAP_NODES,
) -> pd.DataFrame:
    """Drive times between every origin and destination, in long form.

    ``od.attrs`` carries the metadata (network, its key, the speed profile and its hash),
    which :func:`to_csv` writes beside the table. Trips between two points on the same
    island take the shorter of the ferry-network time and a direct island leg.

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
    snap_nodes
        Entry nodes per point (default 4): each point joins the graph at its nearest node
        and the next nearest ones within ``max(2 x nearest, nearest + 3 km)``, each with its
        own access leg, and a trip takes the fastest combination (exact; see
        :mod:`netplan._snapping`). 1 snaps every point to its nearest node only.

    Returns
    -------
    pandas.DataFrame
        ``origin_id, destination_id, minutes``, one row per reachable pair (unreachable
        pairs and pairs over ``max_minutes`` are left out), sorted by origin then
        destination, both in input order. The id columns have the dtype of the input ids
        as :func:`snap` returns them (``str`` for text ids under pandas 3, ``int64`` for
        integer ids); ``minutes`` is float64.

    Raises
    ------
    ValidationError, NetworkError
        As :func:`snap`; also a ``max_minutes`` that is not a positive finite number.

    Examples
    --------
    >>> import pandas as pd
    >>> from netplan.network import graph_from_edge_list
    >>> nodes = pd.DataFrame({"node": [1, 2], "lon": [-1.50, -1.40], "lat": [53.8, 53.8]})
    >>> edges = pd.DataFrame({"u": [1], "v": [2], "length_km": [6.5]})
    >>> G = graph_from_edge_list(nodes, edges)  # no profile: 'major' roads 65 km/h
    >>> od_matrix(G, nodes.rename(columns={"node": "id"}).head(1),
    ...           nodes.rename(columns={"node": "id"}).tail(1)).round(2)
       origin_id  destination_id  minutes
    0          1               2      6.0
    """
    max_minutes = check_number(max_minutes, "od_matrix: max_minutes", allow_none=True)
    snap_nodes = check_snap_nodes(snap_nodes, "od_matrix: snap_nodes")
    t0 = time.perf_counter()
    kw = {
        "max_snap_km": max_snap_km,
        "detour_factor": detour_factor,
        "access_speed_kph": access_speed_kph,
        "on_outside": on_outside,
    }
    so = snap(G, origins, source="origins", **kw)
    sd = snap(G, destinations, source="destinations", **kw)
    cap = np.inf if max_minutes is None else float(max_minutes)
    if snap_nodes == 1:
        # A smaller graph with the same times between the snapped nodes (positions in it)
        red = _reduced_graph(G, np.concatenate([so["node"].to_numpy(), sd["node"].to_numpy()]))
        n_per_p, q, minutes, from_dest = nearest_node_times(
            red.csr,
            red.csr_reverse,
            red.pos[so["node"].to_numpy()],
            so["access_minutes"].to_numpy(),
            red.pos[sd["node"].to_numpy()],
            sd["access_minutes"].to_numpy(),
            cap=cap,
            memory_cells=_MEMORY_CELLS,
        )
    else:
        # every point enters the graph at up to snap_nodes nodes (netplan._snapping)
        leg = _access_model(G, detour_factor=detour_factor, access_speed_kph=access_speed_kph)
        eo = entry_nodes(G, so, snap_nodes=snap_nodes, access=leg)
        ed = entry_nodes(G, sd, snap_nodes=snap_nodes, access=leg)
        both = np.concatenate([eo.nodes.ravel(), ed.nodes.ravel()])
        red = _reduced_graph(G, both[both >= 0])  # every entry node is kept
        o_pos = np.where(eo.nodes >= 0, red.pos[eo.nodes], -1)
        d_pos = np.where(ed.nodes >= 0, red.pos[ed.nodes], -1)
        n_per_p, q, minutes = entry_times(
            red.csr,
            red.csr_reverse,
            o_pos,
            eo.minutes,
            d_pos,
            ed.minutes,
            cap=cap,
            memory_cells=_MEMORY_CELLS,
        )
        from_dest = len(sd) <= len(so)
    # Ids by repeat/take on the id arrays: no per-row validation of the values.
    out = pd.DataFrame(
        {
            "origin_id": so["id"].array.repeat(n_per_p),
            "destination_id": sd["id"].array.take(q),
            "minutes": minutes,
        },
        copy=False,
    )
    if (so["island"] != "").any() and (sd["island"] != "").any():
        from .ferries import island_pairs

        out = island_pairs(G, so, sd, out, cap)
    out.attrs.update(od_metadata(G, snap_nodes=snap_nodes))
    logger.info(
        "OD matrix: %s origins x %s destinations -> %s pairs, %.2f s (from %s)",
        f"{len(so):,}",
        f"{len(sd):,}",
        f"{len(out):,}",
        time.perf_counter() - t0,
        "destinations, reversed graph" if from_dest else "origins",
    )
    return out


def od_metadata(G: DriveGraph, *, snap_nodes: int = DEFAULT_SNAP_NODES) -> dict[str, str]:
    """What an OD table's times rest on: network, graph key, speed profile, its hash and
    the entry nodes per point (``snap_nodes``)."""
    from ._version import __version__

    prof = G.profile
    return {
        "network": str(G.source),
        "network_key": str(G.key),
        "profile": prof.name if prof is not None else "speed model (no profile)",
        "profile_hash": prof.hash if prof is not None else G.speed_model.key(),
        "snap_nodes": str(snap_nodes),
        "netplan_version": __version__,
    }


class _Reduced(NamedTuple):
    """A drive graph reduced for exact searches between a fixed set of nodes.

    ``csr`` and ``csr_reverse`` (minutes) are over the kept nodes only; ``pos[i]`` is node
    ``i``'s row in them (-1 if removed) and ``nodes[r]`` maps row ``r`` back to a node.
    """

    key: str
    csr: sp.csr_array
    csr_reverse: sp.csr_array
    pos: np.ndarray
    nodes: np.ndarray
    seconds: float


def _reduced_graph(G: DriveGraph, nodes: np.ndarray) -> _Reduced:
    """Reduce ``G`` so that searches between ``nodes`` do less work, with the same times.

    Each step leaves the shortest times between the kept nodes unchanged (up to float
    rounding, ~1e-12 min), and no node of ``nodes`` is removed:

    1. nodes outside the largest strongly connected component go (a path between two of
       its nodes never leaves it);
    2. dead-end trees go: nodes with a single neighbour (either direction), repeatedly;
    3. chains of pass-through nodes (two neighbours, with two-way edges to both, or one
       edge in from one and one edge out to the other: a one-way street) become one edge
       per direction with the summed minutes;
    4. junctions whose bypass edges (in-neighbour -> out-neighbour, summed minutes) are
       no more than their own edges are replaced by those bypasses, a set of non-adjacent
       junctions per round, while a round still finds >= 2 % of the nodes.

    The fastest edge is kept where edges end up parallel. The kept nodes are numbered in
    10 km bands of northing, then by easting: neighbours then sit close in memory, which
    makes scipy's Dijkstra about 15 % faster on ``england-major-roads`` (measured).

    Parameters
    ----------
    G
        The drive graph.
    nodes
        Node positions that must stay (snapped origins and destinations), all in
        ``G.main_component``.

    Returns
    -------
    _Reduced
        The reduced graph. The last one is cached on ``G``, keyed by the node set
        (:func:`_clear_reduced_cache` forgets it).
    """
    n = G.n_nodes
    nodes = np.unique(np.asarray(nodes, dtype=np.int64))
    if not _REDUCE_GRAPH or not G.main_component[nodes].all():
        # the plain graph: for comparisons, or nodes off the main component (not snapped)
        every = np.arange(n, dtype=np.int64)
        return _Reduced("", G.csr, G.csr_reverse, every, every, 0.0)
    key = hashlib.sha1(nodes.tobytes()).hexdigest()
    hit = G._cache.get("reduced")
    if hit is not None and hit.key == key:
        return hit
    t0 = time.perf_counter()
    keep = np.zeros(n, dtype=bool)
    keep[nodes] = True
    alive = G.main_component.copy()
    A = G.csr
    u = np.repeat(np.arange(n, dtype=np.int64), np.diff(A.indptr))
    v = A.indices.astype(np.int64)
    ok = alive[u] & alive[v] & (u != v)
    u, v, w = _merge_edges(n, u[ok], v[ok], A.data[ok])  # sorted by (u, v)
    _prune_dead_ends(n, u, v, keep, alive)
    ok = alive[u] & alive[v]
    u, v, w = _contract_chains(n, u[ok], v[ok], w[ok], keep, alive)
    u, v, w = _bypass_junctions(n, u, v, w, keep, alive)
    kept = np.flatnonzero(alive)
    kept = kept[np.lexsort((G.x[kept], G.y[kept] // 10_000.0))]
    pos = np.full(n, -1, dtype=np.int64)
    pos[kept] = np.arange(len(kept))
    m = len(kept)
    red = _Reduced(
        key,
        sp.csr_array((w, (pos[u], pos[v])), shape=(m, m)),
        sp.csr_array((w, (pos[v], pos[u])), shape=(m, m)),
        pos,
        kept,
        time.perf_counter() - t0,
    )
    G._cache["reduced"] = red
    logger.info(
        "reduced graph for %s kept nodes: %s -> %s nodes, %s -> %s edges, %.1f ms",
        f"{len(nodes):,}",
        f"{n:,}",
        f"{m:,}",
        f"{A.nnz:,}",
        f"{len(u):,}",
        red.seconds * 1000,
    )
    return red


def _clear_reduced_cache(G: DriveGraph) -> None:
    """Forget the reduced graph cached on ``G`` (benchmarks time cold calls)."""
    G._cache.pop("reduced", None)


def _merge_edges(
    n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort edges by ``(u, v)`` and keep the fastest of parallel ones.

    Inputs made of a few sorted runs sort in about linear time (timsort).
    """
    k = u * n + v
    order = np.argsort(k, kind="stable")
    k = k[order]
    first = np.flatnonzero(np.concatenate(([True], k[1:] != k[:-1])))
    k = k[first]
    return k // n, k % n, np.minimum.reduceat(w[order], first) if len(k) else w[:0]


def _sorted_unique(a: np.ndarray) -> np.ndarray:
    """``np.unique`` by sorting (faster than numpy 2's hash table on small arrays)."""
    a = np.sort(a)
    return a[np.concatenate(([True], a[1:] != a[:-1]))] if len(a) else a


def _neighbour_count(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Number of distinct neighbours of each node, either direction."""
    pair = _sorted_unique(np.minimum(u, v) * n + np.maximum(u, v))
    return np.bincount(pair // n, minlength=n) + np.bincount(pair % n, minlength=n)


def _prune_dead_ends(
    n: int, u: np.ndarray, v: np.ndarray, keep: np.ndarray, alive: np.ndarray
) -> None:
    """Mark dead-end trees without kept nodes as not ``alive`` (in place).

    Each round peels the leaves (one neighbour) off the trees and then looks only at the
    neighbours of those leaves.
    """
    deg = _neighbour_count(n, u, v)
    # neighbours of node i (both directions, repeats allowed): nbr[start[i]:start[i + 1]]
    src = np.concatenate([u, v])
    nbr = np.concatenate([v, u])[np.argsort(src, kind="stable")]
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=start[1:])
    leaf = np.flatnonzero((deg <= 1) & ~keep & alive)
    while len(leaf):
        alive[leaf] = False
        idx, cnt = take_groups(start, leaf)
        # each leaf's one live neighbour (listed once per direction): one degree less
        pair = np.repeat(leaf, cnt) * n + nbr[idx]
        near = _sorted_unique(pair[alive[nbr[idx]]]) % n
        np.subtract.at(deg, near, 1)
        near = _sorted_unique(near)
        leaf = near[(deg[near] <= 1) & ~keep[near]]


def _contract_chains(
    n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray, keep: np.ndarray, alive: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Replace chains of pass-through nodes without kept nodes by single edges.

    ``u, v, w`` are the directed edges between alive nodes, sorted by ``(u, v)``, without
    parallel edges or loops. Contracted nodes are marked not ``alive`` (in place).

    Returns
    -------
    tuple of numpy.ndarray
        The new edges ``u, v, w``, sorted by ``(u, v)``, fastest of parallel edges only.
    """
    out_deg = np.bincount(u, minlength=n)
    in_deg = np.bincount(v, minlength=n)
    deg = _neighbour_count(n, u, v)
    # two neighbours, with two-way edges to both or one edge in and one out (one-way)
    through = ~keep & alive & (deg == 2) & (in_deg == out_deg) & (out_deg >= 1)
    if not through.any():
        return u, v, w
    first = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(out_deg, out=first[1:])
    n_e = len(u)
    # the successor of edge u -> v when v passes through: v's out-edge not back to u
    e1 = np.minimum(first[v], n_e - 1)
    back = (out_deg[v] == 2) & (v[e1] == u)
    nxt = np.where(through[v], np.where(back, e1 + 1, e1), n_e)  # n_e: the chain ends
    # pointer jumping: after k rounds each edge has summed 2**k edges of its chain
    jump, total, end = np.append(nxt, n_e), np.append(w, 0.0), np.append(v, -1)
    for _ in range(64):  # (only a cycle of pass-through nodes would never end)
        more = np.flatnonzero(jump != n_e)
        if not len(more):
            break
        j = jump[more]
        total[more] += total[j]
        end[more] = end[j]
        jump[more] = jump[j]
    start = ~through[u] & (jump[:-1] == n_e)  # chains start at a node not passing through
    alive[through] = False
    cu, cv, cw = u[start], end[:-1][start], total[:-1][start]
    loop = cu == cv
    return _merge_edges(n, cu[~loop], cv[~loop], cw[~loop])


def _bypass_junctions(
    n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray, keep: np.ndarray, alive: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Replace junctions by bypass edges where that adds no edges (in place on ``alive``).

    Node ``s`` with in-neighbours ``X`` and out-neighbours ``Y`` is replaced by edges
    ``x -> y`` (``x != y``) of minutes ``w(x, s) + w(s, y)``, if there are no more of them
    than ``s``'s own edges. Each round takes a set of such nodes no two of which are
    adjacent, preferring the ones that remove the most edges.

    Returns
    -------
    tuple of numpy.ndarray
        The new edges ``u, v, w``, sorted by ``(u, v)``, fastest of parallel edges only.
    """
    tie = (np.arange(n) * 0.6180339887498949) % 1.0  # distinct tie-breaks in [0, 1)
    for _ in range(_MAX_BYPASS_ROUNDS):
        if not len(u):
            break
        out_deg = np.bincount(u, minlength=n)
        in_deg = np.bincount(v, minlength=n)
        k, rev = u * n + v, v * n + u  # k is sorted
        at = np.minimum(np.searchsorted(k, rev), len(k) - 1)
        two_way = np.bincount(u[k[at] == rev], minlength=n)  # neighbours both ways
        gain = in_deg * out_deg - two_way - in_deg - out_deg  # bypasses - own edges
        cand = alive & ~keep & (gain <= 0)
        if np.count_nonzero(cand) < _MIN_BYPASS_SHARE * np.count_nonzero(alive):
            break
        rank = gain + tie
        both = np.flatnonzero(cand[u] & cand[v])
        take = cand.copy()
        take[np.where(rank[u[both]] > rank[v[both]], u[both], v[both])] = False
        # bypasses x -> s -> y of the taken nodes s (x and y are not taken)
        e_in = np.flatnonzero(take[v])
        first = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(out_deg, out=first[1:])
        idx, cnt = take_groups(first, v[e_in])
        bu, bv = np.repeat(u[e_in], cnt), v[idx]
        bw = np.repeat(w[e_in], cnt) + w[idx]
        ok = bu != bv
        stay = ~take[u] & ~take[v]
        alive[take] = False
        u, v, w = _merge_edges(
            n,
            np.concatenate([u[stay], bu[ok]]),
            np.concatenate([v[stay], bv[ok]]),
            np.concatenate([w[stay], bw[ok]]),
        )
    return u, v, w


def to_csv(od: pd.DataFrame, path: str | Path, *, decimals: int = 3) -> Path:
    """Write an OD table to CSV atomically (minutes rounded to ``decimals``).

    The table's metadata (``od.attrs``: network, profile and its hash, netplan version) go
    to ``<path>.meta.json`` beside it, so every table names the assumptions behind it.
    Written through pyarrow (:mod:`netplan.odio`); :func:`to_parquet` writes Parquet.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    from .odio import write_od

    return write_od(od, path, fmt="csv", decimals=decimals)


def to_parquet(od: pd.DataFrame, path: str | Path) -> Path:
    """Write an OD table to Parquet atomically (float64 minutes, metadata in the file too)."""
    from .odio import write_od

    return write_od(od, path, fmt="parquet")
