"""Isochrones of the 28 contract sites at 30 and 60 minutes on ``england-major-roads``.

Times :func:`netplan.isochrones.isochrones` cold (the graph's polygon cache cleared, an empty
disk cache), again in the same process (the graph's cache) and as a new process would (the
graph's cache cleared, the polygons read from the disk cache), and,
with ``--naive``, the same polygons drawn as the plain union of every buffered reachable
(part-)edge and access disc, each threshold from scratch (the method before the pruning),
and prints the largest relative difference of the (simplified, 50 m) areas.

    NETPLAN_DATA_MIRROR=../shared/data .venv/bin/python benchmarks/bench_isochrones.py --naive
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from netplan import isochrones, network, sites, traveltime


def _naive(G, site_df, minutes) -> list[float]:
    """Areas (km2) of the plain unions, simplified like the module's output."""
    s = traveltime.snap(G, site_df, source="sites")
    detour = G.profile.detour_factor
    speed = float(G.profile.access_speed_kph(np.array([0.5]))[0])
    times = traveltime.node_times(G, s["node"].to_numpy(), reverse=True, max_minutes=max(minutes))
    areas = []
    u, v, w = G.edge_u, G.edge_v, G.edge_minutes
    for i in range(len(s)):
        t = times[i] + float(s["access_minutes"].iloc[i])
        for T in minutes:
            ok = t[v] < T
            frac = np.clip((T - t[v][ok]) / np.where(w[ok] > 0, w[ok], 1.0), 0, 1)
            x0, y0 = G.x[v[ok]], G.y[v[ok]]
            x1, y1 = x0 + (G.x[u[ok]] - x0) * frac, y0 + (G.y[u[ok]] - y0) * frac
            lines = shapely.linestrings(
                np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], axis=1)
            )
            reached = np.flatnonzero(t <= T)
            r = np.minimum((T - t[reached]) / 60.0 * speed / detour, 5.0) * 1000.0
            big = r > 100.0
            discs = shapely.buffer(
                shapely.points(G.x[reached[big]], G.y[reached[big]]), r[big], quad_segs=8
            )
            geom = shapely.union_all(
                [
                    shapely.union_all(shapely.buffer(lines, 100.0, quad_segs=4)),
                    shapely.union_all(discs),
                ]
            )
            areas.append(shapely.simplify(geom, 50.0, preserve_topology=True).area / 1e6)
    return areas


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--naive", action="store_true", help="also time the plain union")
    args = p.parse_args()
    G = network.graph_from_name("england-major-roads")
    contract = sites.load_contract_sites()
    df = contract[["id"]].copy()
    df["lon"], df["lat"] = contract.geometry.x, contract.geometry.y
    minutes = (30, 60)
    G._cache.pop("isochrones", None)
    empty = Path(tempfile.mkdtemp(prefix="bench_iso_"))
    isochrones._cache_root = lambda: empty  # an empty isochrone cache (the rest stays warm)
    c0, t0 = time.process_time(), time.perf_counter()
    gdf = isochrones.isochrones(G, df, minutes=minutes)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    c0, t0 = time.process_time(), time.perf_counter()
    isochrones.isochrones(G, df, minutes=minutes)
    wall2 = time.perf_counter() - t0
    G._cache.pop("isochrones", None)
    c0, t0 = time.process_time(), time.perf_counter()
    isochrones.isochrones(G, df, minutes=minutes)
    wall3, cpu3 = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"{len(df)} sites x {len(minutes)} thresholds: built {wall:.2f} s wall, {cpu:.2f} s CPU; "
        f"again in-process {wall2:.2f} s wall; from the disk cache {wall3:.2f} s wall, "
        f"{cpu3:.2f} s CPU"
    )
    if args.naive:
        c0, t0 = time.process_time(), time.perf_counter()
        ref = np.array(_naive(G, df, minutes))
        print(
            f"plain union: {time.perf_counter() - t0:.2f} s wall, "
            f"{time.process_time() - c0:.2f} s CPU"
        )
        got = gdf.to_crs(27700).area.to_numpy() / 1e6
        print(
            f"areas: largest relative difference {np.max(np.abs(got / ref - 1)):.2e} "
            f"(total {got.sum():,.0f} km2)"
        )


if __name__ == "__main__":
    main()
