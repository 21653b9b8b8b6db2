"""The England default end to end, stage by stage.

Runs ``python -m netplan run scenarios/england.yaml`` in a fresh process (warm data cache)
``--repeat`` times and prints, for the last run, the stage table the run recorded in
``scenario.resolved.yaml`` (``stage_timings``: inputs, drive times, the placement's model
build and each solve stage, capacity, isochrones, each writer) with each stage's share of
the process's wall time; what the stages do not cover (interpreter start, imports, reading
the scenario, moving the folder into place) is the ``process`` row. Then the process wall
and CPU time of every run, and the placement solve's median and worst.

    NETPLAN_DATA_MIRROR=../shared/data .venv/bin/python benchmarks/bench_run.py [--repeat 3]

On a shared machine wall times carry the load; CPU times (user + system of the child)
show the work.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "england.yaml")
    p.add_argument("--repeat", type=int, default=1)
    args = p.parse_args()
    runs = []
    for k in range(args.repeat):
        out = Path(tempfile.mkdtemp(prefix="bench_run_")) / "out"
        cmd = [sys.executable, "-m", "netplan", "run", str(args.scenario), "--out", str(out)]
        c0, t0 = _child_cpu(), time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=os.environ.copy(), cwd=ROOT)
        wall, cpu = time.perf_counter() - t0, _child_cpu() - c0
        prov = yaml.safe_load((out / "scenario.resolved.yaml").read_text(encoding="utf-8"))[
            "provenance"
        ]
        # the placement step's wall time less its model build: every solve stage, the
        # zones' assignment and what lies between them
        solve = float(prov["timings_s"]["placement"]) - float(prov.get("build_time_s") or 0.0)
        # the proof: the stages a solver proves (all but the travel stage's local search)
        proof = sum(
            s for label, s in prov.get("placement_stages_s") or [] if label != "patient_minutes"
        )
        runs.append((wall, cpu, prov, solve, proof))
        print(
            f"run {k + 1}: {wall:.1f} s wall, {cpu:.1f} s CPU, placement solve {solve:.1f} s "
            f"(proven optimal in {proof:.1f} s), {prov['solver_status']} (gap {prov['mip_gap']})"
        )
    wall, cpu, prov, _, _ = runs[-1]
    rows = [(r["group"], r["stage"], float(r["seconds"])) for r in prov["stage_timings"]]
    rows.append(("process", "start, imports, scenario, folder", wall - sum(r[2] for r in rows)))
    print(f"\n{args.scenario.name}: stages of the last run ({wall:.1f} s wall)")
    print(f"{'group':<10}{'stage':<34}{'seconds':>9}{'share':>8}")
    for group, stage, sec in rows:
        print(f"{group:<10}{stage:<34}{sec:9.2f}{100 * sec / wall:7.1f}%")
    walls = [r[0] for r in runs]
    solves = [r[3] for r in runs]
    print(
        f"\nprocess wall: median {np.median(walls):.1f} s, worst {max(walls):.1f} s; CPU "
        f"median {np.median([r[1] for r in runs]):.1f} s"
    )
    print(f"placement solve: median {np.median(solves):.1f} s, worst {max(solves):.1f} s")
    proofs = [r[4] for r in runs]
    print(
        f"placement proven optimal in: median {np.median(proofs):.1f} s, worst {max(proofs):.1f} s"
    )


if __name__ == "__main__":
    main()
