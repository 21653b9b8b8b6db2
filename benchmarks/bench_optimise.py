"""Benchmark the placement model on the England default scenario, in one run.

The model is exactly the one ``netplan run scenarios/england.yaml`` solves
(``Scenario.placement_model()``): 32,844 LSOA zones, the candidate sites of the scenario
(28 contract hospitals + NHS acute hospitals), England major-road drive times, the
60-minute standard, four cyclotrons (primary 240 min, back-up 360 min), 4 mobile units of
at most 3 sites each, objective ``cover_then_cost``. Measures the model build time and the
solve time to proven optimality (or the gap reached at the time limit), with and without
exact zone merging, for three methods on the same model:

- ``highs``: the default, HiGHS (highspy) through the exact site decomposition
  (:mod:`netplan.optimise._decompose`);
- ``highs-mip``: the monolithic MIP in HiGHS (``solve(decompose=False)``, with its
  master-plan warm start);
- ``cbc``: the monolithic MIP in CBC through PuLP.

Run::

    NETPLAN_DATA_MIRROR=../shared/data .venv/bin/python benchmarks/bench_optimise.py \\
        --time-limit 60

Targets (issue 5): build < 10 s; solved to optimality < 60 s with HiGHS on 2 cores.

With ``--scaling`` the default method (``highs``, zones merged) is timed on growing parts
of England instead: whole ICBs taken north to south (by their zones' mean latitude) until
they hold 1/8, 1/4, 1/2 and all of the 32,844 zones (``--fractions``), every other setting
the scenario's. It prints each size's model (zones, merged groups, pairs, columns, rows),
build and solve time, status and gap, and time per model column against the full size's
(issue 21: time should grow no faster than the model)::

    .venv/bin/python benchmarks/bench_optimise.py --scaling --time-limit 120
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from netplan import NetplanError  # noqa: E402
from netplan.scenario import Scenario  # noqa: E402


def _row(merge: str, solver: str, model, build_s: float, res, wall: float) -> dict:
    tot = res.totals
    return {
        "merge": merge,
        "solver": solver,
        "groups": model.n_groups,
        "pairs": model.n_group_pairs,
        "columns": len(model.matrix.cost),
        "rows": model.matrix.A.shape[0],
        "build_s": round(build_s, 2),
        "solve_s": round(res.runtime_s, 1),
        "wall_s": round(wall, 1),
        "status": str(res.status),
        "gap": None if res.mip_gap is None else round(res.mip_gap, 4),
        "cost_gbp_per_year": round(tot["annual_cost_gbp"]),
        "open_sites": int(tot["open_sites"]),
        "static_scanners": int(tot["static_scanners"]),
        "mobile_days": int(tot["mobile_days_per_week"]),
        "covered_share": round(tot["covered_share_of_demand"], 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "england.yaml"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per stage")
    parser.add_argument("--solvers", default="highs,highs-mip,cbc")
    parser.add_argument("--merge", default="on,off")
    parser.add_argument("--objective", default=None, help="override the scenario's objective")
    parser.add_argument("--scaling", action="store_true", help="time growing parts of England")
    parser.add_argument("--fractions", default="0.125,0.25,0.5,1", help="with --scaling")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    warnings.simplefilter("ignore", UserWarning)  # snapping notes, reported by `netplan run`

    scenario = Scenario.from_yaml(args.scenario)
    if args.objective:
        scenario = scenario.with_overrides({"objective": args.objective})
    print(
        f"scenario {scenario.name}: objective {scenario.objective}, "
        f"{scenario.drive_minutes:g}-minute standard, network {scenario.network.name}, "
        f"{scenario.fleet.mobile_units} mobile units; time limit {args.time_limit:g} s per "
        f"stage, {args.threads} threads"
    )
    if args.scaling:
        return _scaling(scenario, args)
    rows = []
    for merge in args.merge.split(","):
        t0 = time.perf_counter()
        model = scenario.placement_model(merge_zones=(merge == "on"))
        inputs_s = time.perf_counter() - t0 - model.build_time_s
        build_s = model.build_time_s
        print(f"\nmerge={merge}: {model}")
        print(f"  inputs (network, demand, sites, drive times) {inputs_s:.1f} s")
        print(f"  model build {build_s:.2f} s")
        for m in model.messages:
            print(f"  pre-solve: {m}")
        for solver in args.solvers.split(","):
            t1 = time.perf_counter()
            try:
                res = model.solve(
                    solver=solver.split("-")[0],
                    time_limit_s=args.time_limit,
                    threads=args.threads,
                    decompose=False if solver.endswith("-mip") else None,
                )
            except NetplanError as exc:  # e.g. no solution within the time limit
                wall = time.perf_counter() - t1
                print(f"  {solver}: no result after {wall:.1f} s: {exc}")
                rows.append({"merge": merge, "solver": solver, "wall_s": round(wall, 1),
                             "status": "no solution"})  # fmt: skip
                continue
            wall = time.perf_counter() - t1
            rows.append(_row(merge, solver, model, build_s, res, wall))
            stages = "; ".join(
                f"{st['stage']} {st['status']} gap {st['mip_gap']} in {st['runtime_s']:.1f} s"
                for st in res.stages
            )
            print(f"  {solver}: {res!r}\n    stages: {stages}")
    table = pd.DataFrame(rows)
    print("\n" + table.to_string(index=False))
    done = table.dropna(subset=["solve_s"]) if "solve_s" in table else table.iloc[0:0]
    for solver in done["solver"].unique():
        sub = done[done["solver"] == solver].set_index("merge")
        if {"on", "off"} <= set(sub.index):
            ratio = sub.loc["off", "build_s"] / sub.loc["on", "build_s"]
            print(
                f"{solver}: build off/on = {ratio:.1f}x, "
                f"gap on {sub.loc['on', 'gap']} vs off {sub.loc['off', 'gap']}"
            )
    for merge in done["merge"].unique():
        sub = done[done["merge"] == merge].set_index("solver")
        if {"highs", "highs-mip"} <= set(sub.index):
            print(
                f"merge={merge}: decomposition {sub.loc['highs', 'status']} in "
                f"{sub.loc['highs', 'solve_s']} s (gap {sub.loc['highs', 'gap']}) vs monolithic "
                f"HiGHS {sub.loc['highs-mip', 'status']} in {sub.loc['highs-mip', 'solve_s']} s "
                f"(gap {sub.loc['highs-mip', 'gap']})"
            )
    return 0


def icbs_north_to_south(fractions: list[float]) -> list[list[str]]:
    """ICB codes per fraction: whole ICBs, north to south, until they hold that share of zones."""
    from netplan import demand

    zones = demand.load_zones()
    by_icb = zones.groupby("icb_code").agg(lat=("lat", "mean"), zones=("id", "size"))
    by_icb = by_icb.sort_values("lat", ascending=False)
    share = by_icb["zones"].cumsum() / by_icb["zones"].sum()
    out = []
    for f in fractions:
        n = int((share < f - 1e-9).sum()) + 1  # the ICB that crosses the fraction is in
        out.append(list(by_icb.index[:n]))
    return out


def _scaling(scenario: Scenario, args: argparse.Namespace) -> int:
    fractions = [float(f) for f in args.fractions.split(",")]
    rows = []
    for f, icbs in zip(fractions, icbs_north_to_south(fractions), strict=True):
        part = scenario if f >= 1 else scenario.with_overrides({"demand.area.icbs": icbs})
        t0 = time.perf_counter()
        model = part.placement_model(merge_zones=True)
        inputs_s = time.perf_counter() - t0 - model.build_time_s
        t1 = time.perf_counter()
        try:
            res = model.solve(solver="highs", time_limit_s=args.time_limit, threads=args.threads)
        except NetplanError as exc:
            print(f"{f:g} of England: no result after {time.perf_counter() - t1:.1f} s: {exc}")
            continue
        row = _row("on", "highs", model, model.build_time_s, res, time.perf_counter() - t1)
        row = {"fraction": f, "icbs": len(icbs), "zones": model.n_zones, **row}
        row["inputs_s"] = round(inputs_s, 1)
        rows.append(row)
        print(
            f"{f:g} of England ({len(icbs)} ICBs, {model.n_zones:,} zones): build "
            f"{model.build_time_s:.1f} s, solve {res.runtime_s:.1f} s, {res.status} "
            f"(gap {res.mip_gap})",
            flush=True,
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return 1
    full = table.iloc[-1]
    table["solve_s_per_1k_columns"] = (1000 * table["solve_s"] / table["columns"]).round(3)
    table["size_vs_last"] = (table["columns"] / full["columns"]).round(3)
    table["solve_vs_last"] = (table["solve_s"] / max(full["solve_s"], 1e-9)).round(3)
    cols = ["fraction", "icbs", "zones", "groups", "pairs", "columns", "rows", "inputs_s",
            "build_s", "solve_s", "status", "gap", "cost_gbp_per_year", "open_sites",
            "size_vs_last", "solve_vs_last", "solve_s_per_1k_columns"]  # fmt: skip
    print("\n" + table[cols].to_string(index=False))
    worse = table[table["solve_s"] > full["solve_s"]]
    print(
        f"sizes solved slower than the largest ({full['fraction']:g}): "
        f"{', '.join(f'{x:g}' for x in worse['fraction']) or 'none'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
