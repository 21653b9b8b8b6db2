"""Benchmark netplan travel-time tables against networkx and pandana.

Run (one process, offline mirror):

    NETPLAN_DATA_MIRROR=../shared/data .venv/bin/python benchmarks/bench_traveltime.py

(a) England major roads: 32,844 English LSOA centroids x every NHS-sector hospital in
    England, full table of pairs within 90 minutes.
(b) Rutland full-detail OSM: 2,000 random points x 20 random sites, all pairs.
Each is compared on the same graph and pairs with networkx ``single_source_dijkstra_path_length``
(one run per site on the reversed graph, cutoff 90 min) and pandana (contraction
hierarchies, ``nodes_in_range`` per site; AGPL, benchmark-only: ``pip install pandana``),
whose preprocessing is timed too. netplan reduces the graph for the snapped nodes inside
od_matrix (cached on the graph): the cache is cleared before every timed run (best of 5),
so each includes the reduction; a line also gives the time with it cached. Also measures
the Rutland build rate used to estimate a full England Geofabrik build. Options:
``--nx-sample N`` times networkx on N sites and scales linearly (default: all sites).
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse import csgraph

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a source tree

from netplan import data, network, settings, traveltime

MAX_MINUTES = 90.0


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(fn, *args, trace=True, **kwargs):
    """Run ``fn``; return (result, seconds, tracemalloc peak in MB, 0 when not traced)."""
    gc.collect()
    if trace:  # tracemalloc slows allocation-heavy code: time without it where it matters
        tracemalloc.start()
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    dt = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    return out, dt, peak / 2**20


def _networkx(
    G: network.DriveGraph, so: pd.DataFrame, sd: pd.DataFrame, sample: int | None
) -> tuple[float, float, int, dict[int, dict[int, float]], pd.DataFrame]:
    """What an osmnx user does: per-site Dijkstra on the reversed networkx graph, then a table.

    Returns (Dijkstra seconds, end-to-end seconds incl. the same long table, pairs, results,
    table); times are scaled linearly when only ``sample`` sites are run.
    """
    Gx = nx.DiGraph()
    Gx.add_nodes_from(range(G.n_nodes))
    A = G.csr.tocoo()
    # reversed edges: v -> u with the u -> v time, so a search from a site gives times to it
    Gx.add_weighted_edges_from(
        zip(A.col.tolist(), A.row.tolist(), A.data.tolist(), strict=True), weight="travel_time"
    )
    site_nodes = np.unique(sd["node"].to_numpy())
    todo = site_nodes if sample is None else site_nodes[:sample]
    wanted = set(so["node"].tolist())
    t0 = time.perf_counter()
    results: dict[int, dict[int, float]] = {}
    for s in todo:
        lengths = nx.single_source_dijkstra_path_length(
            Gx, int(s), cutoff=MAX_MINUTES, weight="travel_time"
        )
        results[int(s)] = {k: v for k, v in lengths.items() if k in wanted}
    t_dijkstra = time.perf_counter() - t0
    # the same long table: node pairs -> point pairs, access legs, cut-off
    node_pairs = pd.DataFrame(
        [(s, o, t) for s, d in results.items() for o, t in d.items()],
        columns=["d_node", "o_node", "net"],
    )
    tab = node_pairs.merge(
        so.rename(columns={"node": "o_node", "id": "origin_id", "access_minutes": "acc_o"}),
        on="o_node",
    )
    tab = tab.merge(
        sd.rename(columns={"node": "d_node", "id": "destination_id", "access_minutes": "acc_d"}),
        on="d_node",
    )
    tab["minutes"] = tab["net"] + tab["acc_o"] + tab["acc_d"]
    tab = tab.loc[tab["minutes"] <= MAX_MINUTES, ["origin_id", "destination_id", "minutes"]]
    t_total = time.perf_counter() - t0
    scale = len(site_nodes) / len(todo)
    return t_dijkstra * scale, t_total * scale, int(len(tab) * scale), results, tab


def _same_table(od: pd.DataFrame, tab: pd.DataFrame, so: pd.DataFrame, sd: pd.DataFrame) -> str:
    """Compare the two long tables pair by pair (ids mapped to input positions)."""

    def keyed(t: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        o = pd.Index(so["id"]).get_indexer(t["origin_id"])
        d = pd.Index(sd["id"]).get_indexer(t["destination_id"])
        key = o.astype(np.int64) * len(sd) + d
        order = np.argsort(key, kind="stable")
        return key[order], t["minutes"].to_numpy()[order]

    k1, m1 = keyed(od)
    k2, m2 = keyed(tab)
    if len(k1) != len(k2) or not np.array_equal(k1, k2):
        return f"DIFFERENT pairs ({len(k1):,} vs {len(k2):,})"
    return f"same {len(k1):,} pairs, max |minutes difference| {np.abs(m1 - m2).max():.2e}"


def _pandana(
    G: network.DriveGraph, site_nodes: np.ndarray, origin_nodes: np.ndarray
) -> tuple[float, float, pd.DataFrame] | None:
    try:
        import pandana
    except ImportError:
        print("  pandana: not installed (pip install pandana; AGPL, benchmark only) - skipped")
        return None
    A = G.csr.tocoo()
    nodes = pd.DataFrame({"x": G.x, "y": G.y})
    # reversed edges, so ranges from a site are times *to* the site (one-way streets)
    # pandana keeps about 3 decimals of each edge weight: give it milli-minutes, else its
    # times drift by up to 0.4 min over Rutland's many short edges
    edges = pd.DataFrame(
        {"from": A.col.astype(np.int64), "to": A.row.astype(np.int64), "minutes": A.data * 1000.0}
    )
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = pandana.Network(
            nodes["x"], nodes["y"], edges["from"], edges["to"], edges[["minutes"]], twoway=False
        )
    prep = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = net.nodes_in_range(list(map(int, site_nodes)), MAX_MINUTES * 1000.0)
    res = res[res["destination"].isin(origin_nodes)]
    col = next(c for c in res.columns if c not in {"source", "destination"})
    res = res.assign(minutes=res[col] / 1000.0)
    query = time.perf_counter() - t0
    return prep, query, res


def bench_case(
    name: str,
    G: network.DriveGraph,
    origins: pd.DataFrame,
    sites: pd.DataFrame,
    *,
    nx_sample: int | None,
) -> None:
    """Time netplan, networkx and pandana on one graph and pair set."""
    print(f"\n== {name}: {G}")
    print(f"  {len(origins):,} origins x {len(sites):,} sites, within {MAX_MINUTES:g} min")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # far-snapped points are expected (islands)

        def run() -> tuple:
            return _timed(
                traveltime.od_matrix,
                G,
                origins,
                sites,
                max_minutes=MAX_MINUTES,
                on_outside="warn",
                snap_nodes=1,  # nearest nodes, as the networkx and pandana runs below
                trace=False,
            )

        runs = []
        for _ in range(5):  # the first run also builds the CSR, KD-tree and components
            # every run reduces the graph again: no reduced graph cached from the last run
            traveltime._clear_reduced_cache(G)
            od, dt_run, _ = run()
            runs.append(dt_run)
        dt = min(runs)
        warm = min(run()[1] for _ in range(3))
        traveltime._clear_reduced_cache(G)
        _, _, peak = _timed(
            traveltime.od_matrix,
            G,
            origins,
            sites,
            max_minutes=MAX_MINUTES,
            on_outside="warn",
            snap_nodes=1,
        )
        so = traveltime.snap(G, origins, on_outside="warn")
        sd = traveltime.snap(G, sites, on_outside="warn")
    print(
        f"  netplan od_matrix (snap + Dijkstra + access legs + table): best {dt:.2f} s "
        f"(runs: {', '.join(f'{r:.2f}' for r in runs)} s; first is cold), {len(od):,} pairs; "
        f"tracemalloc peak {peak:,.0f} MB, process max RSS {_rss_mb():,.0f} MB"
    )
    site_nodes = np.unique(sd["node"].to_numpy())
    origin_nodes = np.unique(so["node"].to_numpy())
    snapped = np.union1d(site_nodes, origin_nodes)
    red_s = []
    for _ in range(5):
        traveltime._clear_reduced_cache(G)
        red = traveltime._reduced_graph(G, snapped)
        red_s.append(red.seconds)
    print(
        f"  reduced graph for {len(snapped):,} snapped nodes: {G.n_nodes:,} -> "
        f"{red.csr.shape[0]:,} nodes, {G.csr.nnz:,} -> {red.csr.nnz:,} edges (dead ends, "
        f"chains, junction bypasses), built in best {min(red_s) * 1000:.1f} ms of 5 (inside "
        f"od_matrix's time above); od_matrix with it cached: best {warm:.2f} s"
    )
    red_dt = min(
        _timed(
            csgraph.dijkstra,
            red.csr_reverse,
            indices=red.pos[site_nodes],
            limit=MAX_MINUTES,
            trace=False,
        )[1]
        for _ in range(3)
    )
    net_dt = min(
        _timed(
            traveltime.node_times, G, site_nodes, reverse=True, max_minutes=MAX_MINUTES, trace=False
        )[1]
        for _ in range(3)
    )
    print(
        f"  netplan network part only (multi-source Dijkstra, {len(site_nodes)} sources): "
        f"{min(red_s) + red_dt:.2f} s (reduce the graph + Dijkstra on it; "
        f"on the whole graph: {net_dt:.2f} s)"
    )
    nx_dij, nx_total, nx_pairs, nx_res, nx_tab = _networkx(G, so, sd, nx_sample)
    note = "" if nx_sample is None else f" (timed on {nx_sample} sites, scaled)"
    print(
        f"  networkx single_source_dijkstra_path_length{note}: Dijkstra {nx_dij:.2f} s, "
        f"with the same table {nx_total:.2f} s ({nx_pairs:,} pairs)"
    )
    print(
        f"  RATIO networkx / netplan: end-to-end {nx_total / dt:.1f}x, "
        f"network part {nx_dij / (min(red_s) + red_dt):.1f}x "
        f"(whole-graph Dijkstra {nx_dij / net_dt:.1f}x)"
    )
    times = traveltime.node_times(G, np.array(list(nx_res)), reverse=True, max_minutes=MAX_MINUTES)
    diff = max(
        (abs(times[i, o] - t) for i, s in enumerate(nx_res) for o, t in nx_res[s].items()),
        default=0.0,
    )
    print(
        f"  max |netplan - networkx| over {sum(map(len, nx_res.values())):,} node pairs: "
        f"{diff:.2e} min"
    )
    if nx_sample is None:
        print(f"  netplan table vs networkx table: {_same_table(od, nx_tab, so, sd)}")
    pd_res = _pandana(G, site_nodes, origin_nodes)
    if pd_res is not None:
        prep, query, res = pd_res
        print(
            f"  pandana: preprocessing (CH) {prep:.2f} s + range queries {query:.2f} s "
            f"= {prep + query:.2f} s ({len(res):,} node pairs)"
        )
        print(
            f"  RATIO pandana / netplan: incl. preprocessing {(prep + query) / dt:.1f}x "
            f"(end-to-end), network part vs queries only {query / net_dt:.1f}x"
        )
        pos = {int(s): i for i, s in enumerate(site_nodes)}
        full = traveltime.node_times(G, site_nodes, reverse=True)
        ours = full[[pos[int(s)] for s in res["source"]], res["destination"].to_numpy()]
        err = np.abs(ours - res["minutes"].to_numpy())
        print(
            f"  |netplan - pandana|: max {err.max():.3f} min, median {np.median(err):.1e}, "
            f"{(err > 0.01).mean():.1%} of pairs differ by > 0.01 min (pandana rounds weights)"
        )


def bench_rutland_build(mirror_pbf: Path) -> network.DriveGraph:
    """Time an uncached Rutland build and report its rate."""
    size_mb = mirror_pbf.stat().st_size / 2**20
    runs = [_timed(network.graph_from_file, mirror_pbf, trace=False)[1] for _ in range(3)]
    dt = min(runs)  # untraced; the memory run below is slower under tracemalloc
    G, _, peak = _timed(network.graph_from_file, mirror_pbf)
    osm_nodes = 113_647  # data mirror README
    print(f"\n== Rutland build from {mirror_pbf.name} ({size_mb:.2f} MB, {osm_nodes:,} OSM nodes)")
    print(
        f"  best of 3: {dt:.2f} s (runs {', '.join(f'{r:.2f}' for r in runs)})"
        f" -> {osm_nodes / dt:,.0f} OSM nodes/s, {size_mb / dt:.1f} MB/s of pbf, "
        f"{G.n_nodes / dt:,.0f} graph nodes/s; tracemalloc peak {peak:.0f} MB "
        f"({peak / max(G.n_nodes, 1) * 2**20:.0f} bytes per graph node)"
    )
    england_mb = 1400.0
    scale = england_mb / size_mb
    print(
        f"  England Geofabrik (~{england_mb:,.0f} MB) scaled by file size (x{scale:,.0f}): "
        f"~{dt * scale / 60:.0f} min, ~{G.n_nodes * scale / 1e6:.0f} M graph nodes, "
        f"~{peak * scale / 1024:.1f} GB Python peak + pyosmium node-location store "
        "(sparse: ~16 bytes per OSM node)"
    )
    return G


def main() -> None:
    """Run both benchmark cases."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--nx-sample",
        type=int,
        default=None,
        help="time networkx on this many sites and scale (default: all)",
    )
    args = ap.parse_args()
    settings.cache_folder = Path(tempfile.mkdtemp(prefix="netplan-bench-"))
    print(f"cache: {settings.cache_folder} (fresh, so builds are uncached)")

    # (a) England major roads
    G, dt, _ = _timed(network.graph_from_name, "england-major-roads")
    _, dt2, _ = _timed(network.graph_from_name, "england-major-roads")
    print(f"england-major-roads: build {dt:.2f} s, cached load {dt2 * 1000:.0f} ms")
    zones = data.load_lsoa_zones()[["id", "lon", "lat"]]
    hosp = data.load_hospitals()
    import geopandas as gpd

    england = data.load_england_outline()
    england = england[england["country"] == "England"]
    nhs = hosp[hosp["sector"].str.startswith("NHS")]
    nhs = gpd.sjoin(nhs, england[["geometry"]], predicate="within")
    sites = pd.DataFrame(nhs[["id", "lon", "lat"]]).drop_duplicates("id")
    print(f"sites: {len(sites)} NHS-sector hospitals in England (data.load_hospitals)")
    bench_case("(a) England major roads", G, zones, sites, nx_sample=args.nx_sample)

    # (b) Rutland full detail
    R = bench_rutland_build(data.dataset_path("osm-rutland"))
    rng = np.random.default_rng(42)
    idx = rng.choice(np.flatnonzero(R.main_component), 2020, replace=False)
    pts = pd.DataFrame(
        {"id": [f"p{i}" for i in range(len(idx))], "lon": R.lon[idx], "lat": R.lat[idx]}
    )
    bench_case("(b) Rutland full detail", R, pts.iloc[20:], pts.iloc[:20], nx_sample=None)


if __name__ == "__main__":
    main()
