"""What multi-node snapping and gap repair change in netplan's drive times (issue 20).

For each combination of entry nodes per point (``snap_nodes`` 1 and 4) and gap repair of
``england-major-roads`` (off / on), prints

- the share of England's mid-2018 population within 60 minutes of the 28 contract
  hospitals, at the ``free_flow`` and ``daytime`` profiles (as
  ``tests/test_profiles.py::test_contract_sites_reach_95_to_99_percent_within_60_minutes``);
- Rutland: the national profile on the major-road network against full-detail OSM
  (``rutland``, the same ``snap_nodes``) for trips between Rutland's LSOAs of at least 5
  minutes, with :func:`netplan.calibrate.agreement` (as
  ``tests/test_profiles.py::test_rutland_major_roads_vs_full_detail``): median relative
  error, mean bias (minutes), median ratio, Pearson r;
- the OD time of the 32,844 zones x 28 sites table (60-minute cap, free flow).

``--sweep`` adds the same figures for 2, 3, 6, 8 and 12 entry nodes (gap repair on).

    NETPLAN_DATA_MIRROR=../shared/data .venv/bin/python benchmarks/snapping_report.py --sweep
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from netplan import calibrate, data, network, profiles, traveltime  # noqa: E402


def _coverage(G: network.DriveGraph, zones: pd.DataFrame, sites: pd.DataFrame, k: int) -> dict:
    out: dict[str, float] = {}
    for name in ("free_flow", "daytime"):
        Gp = G if name == "free_flow" else G.with_profile(profiles.load_profile(name))
        t0 = time.perf_counter()
        od = traveltime.od_matrix(Gp, zones, sites, max_minutes=60, on_outside="warn", snap_nodes=k)
        if name == "free_flow":
            out["od_seconds"] = time.perf_counter() - t0
        reached = zones["id"].isin(od["origin_id"])
        out[name] = zones.loc[reached, "population"].sum() / zones["population"].sum()
    return out


def _rutland(G: network.DriveGraph, full: network.DriveGraph, k: int) -> dict:
    z = data.load_lsoa_zones("E")
    inside = z[z["lon"].between(-0.78, -0.47) & z["lat"].between(52.56, 52.73)]
    pts = inside[["id", "lon", "lat"]].reset_index(drop=True)
    a = traveltime.od_matrix(full, pts, pts, snap_nodes=k)
    b = traveltime.od_matrix(G, pts, pts, snap_nodes=k)
    j = a.merge(b, on=["origin_id", "destination_id"], suffixes=("_full", "_major"))
    j = j[j["minutes_full"] >= 5]
    return calibrate.agreement(j["minutes_major"].to_numpy(), j["minutes_full"].to_numpy())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true", help="also 2, 3, 6, 8, 12 entry nodes")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # long snaps of a few rural zones, named elsewhere
    zones = data.load_lsoa_zones("E")[["id", "lon", "lat", "population"]]
    sites = pd.read_csv(ROOT / "data" / "contract_sites.csv")[["id", "lon", "lat"]]
    full = network.graph_from_name("rutland")
    rows = []
    runs = [(False, 1), (False, 4), (True, 1), (True, 4)]
    if args.sweep:
        runs += [(True, k) for k in (2, 3, 6, 8, 12)]
    graphs = {}
    for repair, k in runs:
        if repair not in graphs:
            graphs[repair] = network.graph_from_name("england-major-roads", repair_gaps=repair)
        G = graphs[repair]
        cov = _coverage(G, zones, sites, k)
        rut = _rutland(G, full, k)
        rows.append(
            {
                "snap_nodes": k,
                "gap_repair": "on" if repair else "off",
                "60 min free_flow %": round(100 * cov["free_flow"], 2),
                "60 min daytime %": round(100 * cov["daytime"], 2),
                "Rutland median rel. error %": round(100 * rut["median_rel_error"], 1),
                "Rutland bias min": round(rut["mean_bias_minutes"], 2),
                "Rutland median ratio": round(rut["median_ratio"], 3),
                "Rutland r": round(rut["pearson_r"], 3),
                "Rutland n": rut["n"],
                "OD s": round(cov["od_seconds"], 2),
            }
        )
    table = pd.DataFrame(rows)
    print("28 contract sites, England mid-2018 population within 60 min; Rutland major-road")
    print("network vs full-detail OSM (trips >= 5 min between Rutland LSOAs)")
    print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
