"""A plain scipy drive-time table: what a user writes without netplan's search.

The same job as ``netplan traveltimes`` end to end, on the same graph and with the same
snapping (netplan's cached ``england-major-roads`` graph and :func:`netplan.traveltime.snap`),
then one multi-source ``scipy.sparse.csgraph.dijkstra`` from the destination nodes on the
reversed, unreduced graph, the access legs of both ends added, pairs over the cap dropped
and the table written with pandas (``float_format="%.3f"``). No ferry legs (islands): the
benchmark reports how many pairs that changes.

    python benchmarks/scipy_traveltimes.py --origins o.csv --destinations d.csv \\
        --out od.csv --max-minutes 90
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import csgraph

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a source tree

from netplan import network, traveltime


def main() -> None:
    t0 = time.perf_counter()
    p = argparse.ArgumentParser()
    p.add_argument("--network", default="england-major-roads")
    p.add_argument("--origins", type=Path, required=True)
    p.add_argument("--destinations", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--max-minutes", type=float, default=90.0)
    args = p.parse_args()
    origins = pd.read_csv(args.origins, dtype={"id": str})
    dests = pd.read_csv(args.destinations, dtype={"id": str})
    G = network.graph_from_name(args.network)
    so = traveltime.snap(G, origins, source="origins", on_outside="drop")
    sd = traveltime.snap(G, dests, source="destinations", on_outside="drop")
    cap = args.max_minutes
    o_acc = so["access_minutes"].to_numpy()
    d_acc = sd["access_minutes"].to_numpy()
    # rows: destinations; columns: every node (times from the node to the destination)
    D = csgraph.dijkstra(G.csr_reverse, indices=sd["node"].to_numpy(), limit=cap)
    times = D[:, so["node"].to_numpy()].T + o_acc[:, None] + d_acc[None, :]
    i, j = np.nonzero(times <= cap)
    od = pd.DataFrame(
        {
            "origin_id": so["id"].to_numpy()[i],
            "destination_id": sd["id"].to_numpy()[j],
            "minutes": times[i, j],
        }
    )
    od.to_csv(args.out, index=False, float_format="%.3f")
    print(f"{len(od):,} pairs written to {args.out} in {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
