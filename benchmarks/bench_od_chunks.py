"""Measure chunked OD tables (``netplan.od_chunks``) and extrapolate to full-detail England.

Two measured cases, on the largest networks the data mirror holds:

- ``england-major-roads``: every LSOA centroid (32,844) to every hospital of the NHS list,
  to 90 minutes, in chunks of ``--dest-chunk`` destinations;
- ``rutland`` (full-detail OSM): ``--points`` random graph nodes to as many others, in
  chunks of ``--dest-chunk``.

Each chunk's time and peak memory (tracemalloc: the chunk's own allocations, the graph
excluded) are printed, with the graph's own size. The full-detail England figure (about
19 M graph nodes, the Geofabrik extract, issue 18) is an *extrapolation* from the Rutland
search cost per graph node and destination, not a measurement.

Run::

    NETPLAN_DATA_MIRROR=../shared/data .venv/bin/python benchmarks/bench_od_chunks.py
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ENGLAND_FULL_NODES = 19_000_000  # issue 18: "the full-detail England network (about 19 M)"


def _graph_mb(G: object) -> float:
    return sum(v.nbytes for v in vars(G).values() if isinstance(v, np.ndarray)) / 2**20


def _run(name: str, G: object, origins: pd.DataFrame, dests: pd.DataFrame, chunk: int,
         max_minutes: float | None, executor: str, workers: int) -> pd.DataFrame:  # fmt: skip
    from netplan.od_chunks import od_to_parquet

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        stats = od_to_parquet(
            G, origins, dests, Path(tmp) / "od", chunk_size=chunk, executor=executor,
            workers=workers, max_minutes=max_minutes, on_outside="drop",
        )  # fmt: skip
        wall = time.perf_counter() - t0
        size = sum(f.stat().st_size for f in (Path(tmp) / "od").rglob("*.parquet"))
    print(
        f"{name}: {len(origins):,} x {len(dests):,} points, {len(stats)} chunks of {chunk} on "
        f"{executor}: {wall:.1f} s wall, {int(stats['rows'].sum()):,} rows, "
        f"{size / 2**20:.1f} MB Parquet; per chunk median {stats['seconds'].median():.2f} s, "
        f"peak memory max {stats['peak_memory_mb'].max():.0f} MB; graph "
        f"{len(G.lon):,} nodes, {_graph_mb(G):.0f} MB",  # type: ignore[attr-defined]
        flush=True,
    )
    return stats


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dest-chunk", type=int, default=100)
    p.add_argument("--points", type=int, default=2000)
    p.add_argument("--executor", default="serial")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--skip-england", action="store_true", help="only the Rutland case")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from netplan import data, demand, network

    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} at start")
    if not args.skip_england:
        G = network.graph_from_name("england-major-roads")
        zones = pd.DataFrame(demand.load_zones()[["id", "lon", "lat"]])
        hosp = pd.DataFrame(data.load_hospitals()[["id", "lon", "lat"]]).dropna()
        _run("england-major-roads", G, zones, hosp, args.dest_chunk, 90.0, args.executor,
             args.workers)  # fmt: skip

    R = network.graph_from_name("rutland")
    rng = np.random.default_rng(1)
    k = rng.choice(len(R.lon), size=2 * args.points, replace=False)
    pts = pd.DataFrame({"id": np.arange(len(k)).astype(str), "lon": R.lon[k], "lat": R.lat[k]})
    o, d = pts.iloc[: args.points], pts.iloc[args.points :]
    stats = _run("rutland (full detail)", R, o, d, args.dest_chunk, None, args.executor, 1)
    # a chunk searches once per destination over the whole (small) graph: cost per node
    per_node_dest = stats["seconds"].sum() / (len(R.lon) * len(d))
    per_node_mb = _graph_mb(R) / len(R.lon)
    dest = 208  # the England default's candidate sites
    est_s = per_node_dest * ENGLAND_FULL_NODES * dest
    print(
        f"extrapolated (not measured) full-detail England, {ENGLAND_FULL_NODES / 1e6:.0f} M "
        f"nodes: graph about {per_node_mb * ENGLAND_FULL_NODES / 1024:.1f} GB per worker; "
        f"32,844 zones x {dest} sites about {est_s / 3600:.1f} h of search on one core "
        f"({per_node_dest * 1e9:.1f} ns per node and destination, from Rutland), i.e. "
        f"{est_s / 3600 / 2:.1f} h on 2 workers; a chunk of {args.dest_chunk} destinations "
        f"about {per_node_dest * ENGLAND_FULL_NODES * args.dest_chunk / 60:.0f} min"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
