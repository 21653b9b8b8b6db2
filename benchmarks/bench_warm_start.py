"""Benchmark a sweep with and without the warm start (issue 21).

Runs the sweep of ``--scenario`` over ``--set`` twice in this process on the same shared
inputs: from cold (every run solved from scratch, ``run_scenarios(warm_start=False)``) and
warm (``netplan sweep --warm-start``: the first run first, the others started from its plan). Prints
each run's placement step and proof (the stages a solver proves) both ways, their totals and
ratio, and checks that both ways reach the same proven optimum (the cost stage's bound) for
every run. The shared inputs (graph, demand, drive times) are built once, before both.

    NETPLAN_DATA_MIRROR=../shared/data .venv/bin/python benchmarks/bench_warm_start.py \\
        --set fleet.mobile_units=4,3,6
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from netplan.scenario import Scenario, sweep_variants  # noqa: E402
from netplan.scenario.batch import run_scenarios  # noqa: E402


def _times(result) -> tuple[float, float, float]:
    """(placement step s, proof s, proven cost optimum £/yr) of one run."""
    prov = result.provenance
    solve = float(prov["timings_s"]["placement"]) - float(prov.get("build_time_s") or 0.0)
    stages = prov.get("placement_stages_s") or []
    proof = sum(s for label, s in stages if label != "patient_minutes")
    travel = prov.get("travel") or {}
    optimum = travel.get("cost_plan_gbp_per_year", result.totals.get("annual_cost_gbp"))
    return solve, proof, float(optimum)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "england.yaml")
    p.add_argument("--set", action="append", default=None, metavar="KEY=V1,V2")
    args = p.parse_args()
    warnings.simplefilter("ignore", UserWarning)  # snapping notes, reported by `netplan run`
    sets = args.set or ["fleet.mobile_units=4,3,6"]
    variants = sweep_variants(Scenario.from_yaml(args.scenario), sets)
    run_scenarios(variants[:1], warm_start=False)  # the data caches, outside the timings
    table = {}
    for label, warm in (("cold", False), ("warm", True)):
        t0 = time.perf_counter()
        results = run_scenarios(variants, warm_start=warm)
        table[label] = ([_times(r) for r in results], time.perf_counter() - t0, results)
    print(f"sweep of {args.scenario.name} over {' '.join(sets)}: {len(variants)} runs")
    print(f"{'run':<36}{'cold solve':>11}{'proof':>7}{'warm solve':>12}{'proof':>7}  optimum")
    for k, v in enumerate(variants):
        (cs, cp, co), (ws, wp, wo) = table["cold"][0][k], table["warm"][0][k]
        cc = table["cold"][2][k].totals.get("annual_cost_gbp")
        wc = table["warm"][2][k].totals.get("annual_cost_gbp")
        same = "same" if abs(co - wo) <= 1e-6 * co else "DIFFERENT"
        print(
            f"{v.name:<36}{cs:10.1f}s{cp:6.1f}s{ws:11.1f}s{wp:6.1f}s  £{co:,.0f} / £{wo:,.0f} "
            f"{same} (final plans £{cc:,.0f} / £{wc:,.0f})"
        )
    for what, i in (("placement steps", 0), ("proofs", 1)):
        cold = sum(t[i] for t in table["cold"][0])
        warm = sum(t[i] for t in table["warm"][0])
        print(f"{what}: cold {cold:.1f} s, warm {warm:.1f} s, cold / warm {cold / warm:.2f}")
    print(f"whole sweeps: cold {table['cold'][1]:.1f} s, warm {table['warm'][1]:.1f} s")


if __name__ == "__main__":
    main()
