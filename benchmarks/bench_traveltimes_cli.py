"""Benchmark ``netplan traveltimes`` end to end against a plain scipy script.

32,844 English LSOA centroids x 150 NHS-sector hospitals in England (a fixed random draw),
pairs within 90 minutes on ``england-major-roads``. Each command runs in a fresh process
(warm data cache), best and median of ``--repeat`` runs: ``netplan traveltimes`` to CSV and
to Parquet, and ``benchmarks/scipy_traveltimes.py`` (same graph, same snapping, scipy
multi-source Dijkstra, pandas CSV). Also timed in this process: ``od_matrix`` (the compute),
and writing the 3.97 M-pair table (every NHS hospital in England, 90 min) as CSV and
Parquet. Wall and CPU seconds; on a shared machine the wall times carry the load.

"In-process" is printed two ways: the *search* (``od_matrix`` on a loaded graph whose k-d
tree is built: snapping, search, table) and the *job* (what the command does after its
imports, in an interpreter that has them: read both CSVs, load the cached graph as a new
object, ``od_matrix`` with its k-d tree, write the file). The whole process adds the
interpreter's start and the imports, also timed alone.

    NETPLAN_DATA_MIRROR=../shared/data .venv/bin/python benchmarks/bench_traveltimes_cli.py
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from netplan import data, network, traveltime  # noqa: E402


def _inputs(folder: Path) -> tuple[Path, Path, pd.DataFrame]:
    import geopandas as gpd

    zones = pd.DataFrame(data.load_lsoa_zones()[["id", "lon", "lat"]])
    hosp = data.load_hospitals()
    england = data.load_england_outline()
    england = england[england["country"] == "England"]
    nhs = hosp[hosp["sector"].str.startswith("NHS")]
    nhs = gpd.sjoin(nhs, england[["geometry"]], predicate="within")
    every = pd.DataFrame(nhs[["id", "lon", "lat"]]).drop_duplicates("id").sort_values("id")
    pick = np.sort(np.random.default_rng(21).choice(len(every), 150, replace=False))
    o, d = folder / "lsoa.csv", folder / "sites150.csv"
    zones.to_csv(o, index=False)
    every.iloc[pick].to_csv(d, index=False)
    return o, d, every


def _child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _run(argv: list[str], repeat: int) -> tuple[float, float, float]:
    """(best wall, median wall, median CPU) seconds of a fresh process."""
    walls, cpus = [], []
    for _ in range(repeat):
        c0, t0 = _child_cpu(), time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=os.environ.copy())
        walls.append(time.perf_counter() - t0)
        cpus.append(_child_cpu() - c0)
    return min(walls), float(np.median(walls)), float(np.median(cpus))


#: What ``netplan traveltimes`` imports before its work (the command's own modules).
_IMPORTS = "import netplan.cli, netplan.network, netplan.traveltime, netplan.odio, scipy.spatial"


def _job(o: Path, d: Path, out: Path, fmt: str) -> None:
    """The command's steps in this process (imports done): read, load, compute, write."""
    from netplan import cli, odio

    origins, dests = cli._read_points(o, "--origins"), cli._read_points(d, "--destinations")
    G = network.graph_from_name("england-major-roads")  # from the disk cache, a new object
    od = traveltime.od_matrix(G, origins, dests, max_minutes=90.0, on_outside="drop")
    odio.write_od(od, out, fmt=fmt)


def _timed(fn, *args, **kw) -> tuple[object, float, float]:
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    warnings.simplefilter("ignore", UserWarning)  # the snapping warnings, known for this draw
    tmp = Path(tempfile.mkdtemp(prefix="bench_tt_"))
    o, d, every = _inputs(tmp)
    py = sys.executable
    common = ["--origins", str(o), "--destinations", str(d), "--max-minutes", "90"]
    # nearest-node snapping (--snap-nodes 1), as the plain scipy script does
    netplan_cmd = [py, "-m", "netplan", "traveltimes", "--on-outside", "drop", "--snap-nodes", "1"]
    netplan_cmd += common
    rows = {
        "netplan traveltimes (CSV)": _run([*netplan_cmd, "--out", str(tmp / "a.csv")], args.repeat),
        "netplan traveltimes (Parquet)": _run(
            [*netplan_cmd, "--out", str(tmp / "a.parquet")], args.repeat
        ),
        "scipy script (CSV)": _run(
            [
                py,
                str(ROOT / "benchmarks" / "scipy_traveltimes.py"),
                *common,
                "--out",
                str(tmp / "s.csv"),
            ],
            args.repeat,
        ),
    }
    G = network.graph_from_name("england-major-roads")
    zones, sites = pd.read_csv(o, dtype={"id": str}), pd.read_csv(d, dtype={"id": str})
    kw = {"max_minutes": 90.0, "on_outside": "drop", "snap_nodes": 1}
    computes = []
    for _ in range(args.repeat):
        traveltime._clear_reduced_cache(G)
        od, dt, cpu = _timed(traveltime.od_matrix, G, zones, sites, **kw)
        computes.append((dt, cpu))
    search = min(computes)
    jobs = {
        fmt: min(_timed(_job, o, d, tmp / f"job.{fmt}", fmt)[1:] for _ in range(args.repeat))
        for fmt in ("csv", "parquet")
    }
    imports = _run([py, "-c", _IMPORTS], args.repeat)
    print(f"32,844 LSOAs x 150 sites <= 90 min: {len(od):,} pairs; {args.repeat} fresh runs each")
    print(
        f"  in-process search (od_matrix: snap + search + table, graph loaded, k-d tree "
        f"built): {search[0]:.2f} s wall, {search[1]:.2f} s CPU"
    )
    for fmt, (w, c) in jobs.items():
        print(
            f"  in-process job, {fmt:<7} (what the command runs after its imports: read the "
            f"CSVs, load the cached graph, od_matrix, write): {w:.2f} s wall, {c:.2f} s CPU"
        )
    print(
        f"  fresh process, start + the command's imports only: best {imports[0]:.2f} s, "
        f"CPU {imports[2]:.2f} s"
    )
    for name, (best, med, c) in rows.items():
        print(f"  {name:<32} best {best:5.2f} s  median {med:5.2f} s  CPU {c:5.2f} s")
    a = pd.read_csv(tmp / "a.csv", dtype={"origin_id": str, "destination_id": str})
    s = pd.read_csv(tmp / "s.csv", dtype={"origin_id": str, "destination_id": str})
    m = a.merge(s, on=["origin_id", "destination_id"], how="outer", indicator=True)
    both = m["_merge"] == "both"
    diff = np.abs(m.loc[both, "minutes_x"] - m.loc[both, "minutes_y"]).max()
    print(
        f"  same pairs: {both.sum():,}; only netplan {int((m['_merge'] == 'left_only').sum())}, "
        f"only scipy {int((m['_merge'] == 'right_only').sum())} (ferry legs); "
        f"max |difference| {diff:.3f} min"
    )
    scipy_best, scipy_cpu = rows["scipy script (CSV)"][0], rows["scipy script (CSV)"][2]
    for fmt, name in (("csv", "CSV"), ("parquet", "Parquet")):
        best, _, cpu = rows[f"netplan traveltimes ({name})"]
        print(
            f"  {name:<8} whole process / in-process job {best / jobs[fmt][0]:.2f} "
            f"(CPU {cpu / jobs[fmt][1]:.2f}), / in-process search {best / search[0]:.2f} "
            f"(CPU {cpu / search[1]:.2f}); scipy script (CSV) / netplan {scipy_best / best:.2f} "
            f"(CPU {scipy_cpu / cpu:.2f})"
        )
    # the 3.97 M-pair table: every NHS hospital in England
    big = traveltime.od_matrix(G, zones, every, **kw)
    _, w_csv, c_csv = _timed(traveltime.to_csv, big, tmp / "big.csv")
    _, w_pq, c_pq = _timed(traveltime.to_parquet, big, tmp / "big.parquet")
    _, w_pd, c_pd = _timed(big.to_csv, tmp / "big_pandas.csv", index=False, float_format="%.3f")
    same = (tmp / "big.csv").read_bytes() == (tmp / "big_pandas.csv").read_bytes()
    print(
        f"{len(big):,} pairs ({len(every)} NHS hospitals): write CSV {w_csv:.2f} s "
        f"(CPU {c_csv:.2f}), Parquet {w_pq:.2f} s (CPU {c_pq:.2f}); pandas to_csv "
        f"{w_pd:.2f} s (CPU {c_pd:.2f}); same bytes as pandas: {same}"
    )


if __name__ == "__main__":
    main()
