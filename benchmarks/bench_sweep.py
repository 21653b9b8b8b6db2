"""Benchmark the executors: a 12-scenario sweep and 200 uncertainty draws of England.

1. **Sweep**: ``rutland_small`` over ``drive_minutes=20,25,30,40`` x
   ``fleet.mobile_units=1,2,3`` (12 runs) with the ``serial`` executor, ``processes``
   (``--workers`` processes) and ``dask`` (a LocalCluster of ``--workers`` single-threaded
   worker processes). The shared inputs (graph, demand, drive times) are built once per
   executor and counted in its time. Prints each time, its ratio to serial, and checks
   that the three comparison tables are the same bytes.
2. **Uncertainty**: ``--draws`` demand draws of the fixed England plan (``--plan`` a
   ``sites.csv`` of ``netplan run england``; without it the plan is solved first, which
   is timed apart), on each executor named in ``--uncertainty-executors``.

Run (about 10 min on 2 busy cores)::

    NETPLAN_DATA_MIRROR=../shared/data .venv/bin/python benchmarks/bench_sweep.py \\
        --workers 2 --plan outputs/england/sites.csv
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path


def _sweep(workers: int) -> None:
    from netplan import report
    from netplan.scenario import Scenario, sweep_variants
    from netplan.scenario.batch import run_scenarios

    base = Scenario.from_yaml("rutland_small")
    variants = sweep_variants(base, ["drive_minutes=20,25,30,40", "fleet.mobile_units=1,2,3"])
    times, tables = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for executor in ("serial", "processes", "dask"):
            t0 = time.perf_counter()
            results = run_scenarios(variants, executor=executor, workers=workers)
            times[executor] = time.perf_counter() - t0
            paths = report.write_comparison(results, Path(tmp) / executor, title="bench")
            tables[executor] = paths["comparison_csv"].read_bytes()
            print(
                f"sweep of {len(variants)} on {executor:9s}: {times[executor]:7.1f} s", flush=True
            )
    for executor in ("processes", "dask"):
        print(f"  {executor} / serial time: {times[executor] / times['serial']:.2f}")
    same = tables["serial"] == tables["processes"] == tables["dask"]
    print(f"  comparison.csv identical on all executors: {same}")


def _uncertainty(draws: int, plan: Path | None, executors: list[str], workers: int) -> None:
    import pandas as pd

    from netplan.scenario import Scenario
    from netplan.scenario.batch import shared_inputs
    from netplan.scenario.pipeline import run_scenario
    from netplan.scenario.uncertainty import (
        evaluate_draws,
        plan_from_run,
        sample_draws,
    )

    s = Scenario.from_yaml("england")
    t0 = time.perf_counter()
    inputs = shared_inputs(s)
    print(f"England inputs (graph, demand, drive times): {time.perf_counter() - t0:.1f} s")
    if plan is None:
        t0 = time.perf_counter()
        quick = s.with_overrides({"outputs.map": False})
        sites = run_scenario(quick, inputs=inputs).sites
        print(f"England plan solved: {time.perf_counter() - t0:.1f} s")
    else:
        sites = pd.read_csv(plan, dtype={"site_id": str})
    fixed = plan_from_run(s, sites, inputs)
    sample = sample_draws(draws, seed=1, base=fixed.settings["demand_params"])
    for executor in executors:
        t0 = time.perf_counter()
        table = evaluate_draws(fixed, sample, executor=executor, workers=workers)
        dt = time.perf_counter() - t0
        share = table["share_served_within_standard"]
        print(
            f"uncertainty, {draws} draws of the England plan on {executor}: {dt:.1f} s "
            f"({dt / draws:.2f} s a draw); served within standard median {share.median():.4f}, "
            f"5-95 % {share.quantile(0.05):.4f}-{share.quantile(0.95):.4f}",
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--draws", type=int, default=200)
    p.add_argument("--plan", type=Path, help="sites.csv of an England run (default: solve)")
    p.add_argument("--uncertainty-executors", default="serial,dask")
    p.add_argument("--skip-sweep", action="store_true")
    p.add_argument("--skip-uncertainty", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} at start")
    if not args.skip_sweep:
        _sweep(args.workers)
    if not args.skip_uncertainty:
        _uncertainty(args.draws, args.plan, args.uncertainty_executors.split(","), args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
