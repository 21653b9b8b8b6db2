"""Benchmark the placement model on the England default, in one run.

England: 32,844 LSOA zones (netplan.demand), the candidate sites of netplan.sites (NHS acute
hospitals + contract sites), England major-road drive times (netplan.network /
netplan.traveltime), the 60-minute standard, tracer supply from the default cyclotrons.
Measures model build time and solve time (to proven optimality, or the gap reached) with
HiGHS (highspy, direct) and CBC (PuLP), with and without exact zone merging.

Run::

    NETPLAN_DATA_MIRROR=/work/shared/data .venv/bin/python benchmarks/bench_optimise.py \
        --threads 2 --time-limit 300

Targets (issue 5): build < 10 s; solved to optimality < 60 s with HiGHS on 2 cores.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from netplan import NetplanError, demand, network, sites, traveltime
from netplan.optimise import PlacementModel


def _inputs(max_minutes: float) -> tuple[pd.DataFrame, ...]:
    t0 = time.perf_counter()
    G = network.graph_from_name("england-major-roads")
    zones = demand.load_zones()
    dem = demand.estimate_demand(zones)
    cand = sites.candidate_sites()
    cyc = sites.load_cyclotrons()
    t1 = time.perf_counter()
    od = traveltime.od_matrix(
        G,
        dem[["id", "lon", "lat"]],
        cand[["id", "lon", "lat"]],
        max_minutes=max_minutes,
        on_outside="drop",
    )
    cm = traveltime.od_matrix(
        G, cand[["id", "lon", "lat"]], cyc[["id", "lon", "lat"]], max_minutes=300, on_outside="drop"
    )
    cm = cm.rename(columns={"origin_id": "site_id", "destination_id": "cyclotron_id"})
    t2 = time.perf_counter()
    print(
        f"inputs: {len(dem):,} zones, {len(cand):,} candidate sites, {len(cyc)} cyclotrons; "
        f"load {t1 - t0:.1f} s, OD {t2 - t1:.1f} s ({len(od):,} pairs <= {max_minutes:g} min)"
    )
    return dem, cand, cyc, od, cm


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--time-limit", type=float, default=300.0)
    parser.add_argument("--solvers", default="highs,cbc")
    parser.add_argument("--merge", default="on,off")
    parser.add_argument("--objective", default="cost")
    parser.add_argument("--mobile-units", type=int, default=10)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)

    dem, cand, _cyc, od90, cm = _inputs(90.0)
    od60 = od90[od90["minutes"] <= 60.0]
    rows = []
    for merge in args.merge.split(","):
        t0 = time.perf_counter()
        model = PlacementModel.from_od(
            od60,
            dem,
            cand,
            od_all=od90,
            cyclotron_minutes=cm,
            objective=args.objective,
            drive_minutes=60,
            mobile_units=args.mobile_units,
            merge_zones=(merge == "on"),
        )
        build_s = time.perf_counter() - t0
        print(f"\nmerge={merge}: {model}; build {build_s:.2f} s")
        for m in model.messages:
            print(f"  pre-solve: {m}")
        for solver in args.solvers.split(","):
            t1 = time.perf_counter()
            try:
                res = model.solve(solver=solver, time_limit_s=args.time_limit, threads=args.threads)
            except NetplanError as exc:  # e.g. no solution within the time limit
                wall = time.perf_counter() - t1
                print(f"  {solver}: no result after {wall:.1f} s: {exc}")
                rows.append(
                    {
                        "merge": merge,
                        "solver": solver,
                        "groups": model.n_groups,
                        "build_s": round(build_s, 2),
                        "wall_s": round(wall, 2),
                        "status": "no solution",
                    }
                )
                continue
            wall = time.perf_counter() - t1
            tot = res.totals
            rows.append(
                {
                    "merge": merge,
                    "solver": solver,
                    "groups": model.n_groups,
                    "pairs": model.n_group_pairs,
                    "columns": len(model.matrix.cost),
                    "rows": model.matrix.A.shape[0],
                    "build_s": round(build_s, 2),
                    "solver_build_s": round(res.build_time_s - model.build_time_s, 2),
                    "solve_s": round(res.runtime_s, 2),
                    "wall_s": round(wall, 2),
                    "status": str(res.status),
                    "gap": res.mip_gap,
                    "cost_gbp_per_year": round(tot["annual_cost_gbp"]),
                    "open_sites": int(tot["open_sites"]),
                    "static_scanners": int(tot["static_scanners"]),
                    "mobile_days": int(tot["mobile_days_per_week"]),
                    "covered_share": round(tot["covered_share_of_demand"], 5),
                    "pop_within_60_static": round(tot["share_within_60_minutes_static"], 4),
                }
            )
            print(f"  {solver}: {res!r}")
    table = pd.DataFrame(rows)
    print("\n" + table.to_string(index=False))
    for solver in table["solver"].unique():
        sub = table[table["solver"] == solver].set_index("merge")
        if {"on", "off"} <= set(sub.index) and sub["solve_s"].notna().all():
            build = sub.loc["off", "build_s"] / sub.loc["on", "build_s"]
            solve = sub.loc["off", "solve_s"] / max(sub.loc["on", "solve_s"], 1e-3)
            print(f"{solver}: build off/on = {build:.1f}x, solve off/on = {solve:.1f}x")
    if {"highs", "cbc"} <= set(table["solver"]):
        for merge in table["merge"].unique():
            sub = table[table["merge"] == merge].set_index("solver")
            if sub["solve_s"].isna().any():
                continue
            print(
                f"merge={merge}: cbc/highs solve = "
                f"{sub.loc['cbc', 'solve_s'] / max(sub.loc['highs', 'solve_s'], 1e-3):.1f}x"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
