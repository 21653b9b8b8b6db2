"""Placement model: hand-solved instances for every objective and rule, merging, solvers.

Unit economics used throughout (chosen so optima are easy to work out on paper):
a static scanner gives 1 scan/day x 100 days = 100 scans/yr and costs 1000/10 + 100 = 200
a year; a weekly mobile day gives 1 scan x 10 weeks = 10 scans/yr and costs 3 x 10 = 30 a
year (unless a test changes it); utilisation ceiling 100 %; no install cost.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from placement_inputs import UNIT_ECONOMICS, od_table, sites, zones

from netplan import InfeasibleError, ValidationError
from netplan.optimise import PlacementModel, Status
from netplan.optimise._base import status_from_gap

BASE = {
    **UNIT_ECONOMICS,
    "install_gbp": 0,
    "tracer_primary_minutes": 120,
    "tracer_backup_minutes": 240,
    "decay_factor": lambda minutes: 2.0 ** (np.asarray(minutes, dtype=float) / 100.0),
}


def model(od: pd.DataFrame, dem: pd.DataFrame, sit: pd.DataFrame, **kw) -> PlacementModel:
    return PlacementModel.from_od(od, dem, sit, **{**BASE, **kw})


def row(result, site: str) -> pd.Series:
    return result.sites.set_index("site_id").loc[site]


@pytest.mark.parametrize("solver", ["cbc", "highs"])
def test_cost_static_plus_mobile_hand_solved(solver: str) -> None:
    # 150 scans at one site: 2 scanners 400; 1 scanner + 5 mobile days 200 + 150 = 350 (best)
    m = model(od_table({("a", "S1"): 20}), zones({"a": 150}), sites(["S1"]))
    r = m.solve(solver=solver)
    assert r.status == Status.OPTIMAL
    assert r.is_optimal
    assert r.totals["annual_cost_gbp"] == pytest.approx(350)
    s1 = row(r, "S1")
    assert (s1["decision"], s1["static_scanners"], s1["mobile_days_per_week"]) == ("both", 1, 5)
    assert s1["capacity_scans_per_year"] == 150
    assert s1["utilisation"] == pytest.approx(1.0)
    assert r.totals["cost_per_scan_gbp"] == pytest.approx(350 / 150)
    # static and mobile may not share a site -> 2 scanners, 400
    r2 = model(
        od_table({("a", "S1"): 20}), zones({"a": 150}), sites(["S1"]), allow_static_and_mobile=False
    ).solve(solver=solver)
    assert r2.totals["annual_cost_gbp"] == pytest.approx(400)
    assert row(r2, "S1")["decision"] == "static"


def test_install_cost_and_contract_sites() -> None:
    # S1 is a contract site (no install), S2 new (install 500 -> 50/yr); mobile too dear
    od = od_table({("a", "S1"): 40, ("a", "S2"): 10})
    sit = sites(["S1", "S2"], is_contract=[True, False])
    kw = {"install_gbp": 500, "mobile_gbp_per_day": 1000}
    r = model(od, zones({"a": 50}), sit, **kw).solve()
    assert r.open_sites == ["S1"]
    assert r.totals["annual_cost_gbp"] == pytest.approx(200)
    r = model(od, zones({"a": 50}), sit, forbid=["S1"], **kw).solve()
    assert r.open_sites == ["S2"]
    assert r.totals["annual_cost_gbp"] == pytest.approx(250)
    assert r.totals["install_gbp_per_year"] == pytest.approx(50)
    r = model(od, zones({"a": 50}), sit, lock_open=["S2"], **kw).solve()
    assert "S2" in r.open_sites
    assert r.totals["annual_cost_gbp"] == pytest.approx(250)
    r = model(od, zones({"a": 50}), sit, lock_static=["S1", "S2"], **kw).solve()
    assert r.open_sites == ["S1", "S2"]
    assert r.totals["annual_cost_gbp"] == pytest.approx(450)
    assert r.totals["capital_gbp"] == pytest.approx(2500)


def test_uncovered_zones_reported_with_reasons() -> None:
    od = od_table({("near", "S1"): 30, ("far", "S1"): 75, ("forb", "S2"): 10, ("notr", "S3"): 10})
    cyc = pd.DataFrame(
        {
            "site_id": ["S1", "S2", "S3"],
            "cyclotron_id": ["C", "C", "C"],
            "minutes": [30.0, 30.0, 200.0],
        }
    )
    m = model(
        od,
        zones({"near": 10, "far": 10, "forb": 10, "notr": 10}),
        sites(["S1", "S2", "S3"]),
        forbid=["S2"],
        cyclotron_minutes=cyc,
    )
    r = m.solve()
    z = r.zones.set_index("zone_id")
    assert z.loc["near", "covered"]
    assert z.loc["near", "site_id"] == "S1"
    assert z.loc["far", "uncovered_reason"] == "no candidate within 60 minutes"
    assert "forbidden" in z.loc["forb", "uncovered_reason"]
    assert "tracer" in z.loc["notr", "uncovered_reason"]
    assert not z.loc[["far", "forb", "notr"], "covered"].any()
    assert r.totals["uncovered_scans_per_year"] == pytest.approx(30)
    assert any("no candidate within 60 minutes" in msg for msg in r.messages)
    assert row(r, "S3")["decision"] == "closed"


def test_tracer_primary_limit_binds() -> None:
    # S1 (cheap contract site) is 150 min from the only cyclotron: may not open
    od = od_table({("a", "S1"): 10, ("a", "S2"): 50})
    cyc = pd.DataFrame(
        {"site_id": ["S1", "S2"], "cyclotron_id": ["C", "C"], "minutes": [150.0, 60.0]}
    )
    sit = sites(["S1", "S2"], is_contract=[True, False])
    r = model(
        od, zones({"a": 80}), sit, cyclotron_minutes=cyc, install_gbp=500, mobile_gbp_per_day=1000
    ).solve()
    assert r.open_sites == ["S2"]
    s2 = row(r, "S2")
    assert (s2["tracer_source"], s2["tracer_minutes"]) == ("C", 60.0)
    assert r.totals["annual_cost_gbp"] == pytest.approx(250)


def test_tracer_backup_requirement_binds() -> None:
    od = od_table({("a", "S1"): 10, ("a", "S2"): 50})
    cyc = pd.DataFrame(
        {
            "site_id": ["S1", "S1", "S2", "S2"],
            "cyclotron_id": ["C1", "C2", "C1", "C2"],
            "minutes": [50.0, 300.0, 100.0, 200.0],
        }
    )
    sit = sites(["S1", "S2"])
    free = model(od, zones({"a": 80}), sit, cyclotron_minutes=cyc, mobile_gbp_per_day=1000).solve()
    assert row(free, "S1")["decision"] != "closed" or row(free, "S2")["decision"] != "closed"
    locked = model(
        od,
        zones({"a": 80}),
        sit,
        cyclotron_minutes=cyc,
        require_backup=True,
        mobile_gbp_per_day=1000,
    ).solve()
    assert locked.open_sites == ["S2"]
    s2 = row(locked, "S2")
    assert (s2["backup_source"], s2["backup_minutes"]) == ("C2", 200.0)
    with pytest.raises(InfeasibleError, match="back-up"):
        model(
            od, zones({"a": 80}), sit, cyclotron_minutes=cyc, require_backup=True, lock_open=["S1"]
        )


@pytest.mark.parametrize("solver", ["cbc", "highs"])
def test_cyclotron_capacity_binds(solver: str) -> None:
    # a (100 scans = 1 dose/day) at S1, 0 min from C (factor 1); b (100) at S2, 100 min
    # (factor 2). 2 doses/day: a fully (1) + half of b (0.5 x 2 = 1) -> 50 scans uncovered
    od = od_table({("a", "S1"): 10, ("b", "S2"): 10})
    cyc = pd.DataFrame(
        {"site_id": ["S1", "S2"], "cyclotron_id": ["C", "C"], "minutes": [0.0, 100.0]}
    )
    kw = {"cyclotron_minutes": cyc, "mobile_gbp_per_day": 1000}
    full = model(
        od, zones({"a": 100, "b": 100}), sites(["S1", "S2"]), cyclotron_doses_per_day=3, **kw
    ).solve(solver=solver)
    assert full.totals["uncovered_scans_per_year"] == pytest.approx(0, abs=1e-6)
    tight = model(
        od, zones({"a": 100, "b": 100}), sites(["S1", "S2"]), cyclotron_doses_per_day={"C": 2}, **kw
    ).solve(solver=solver)
    assert tight.totals["uncovered_scans_per_year"] == pytest.approx(50)
    z = tight.zones.set_index("zone_id")
    assert z.loc["a", "covered"]
    assert not z.loc["b", "covered"]
    assert z.loc["b", "uncovered_share"] == pytest.approx(0.5)
    assert z.loc["b", "uncovered_reason"].startswith("not assigned")


@pytest.mark.parametrize(
    ("fleet", "expected"),
    [
        ({}, 270),  # 3 sites x 3 mobile days
        ({"mobile_units": 1}, 490),  # 5 days: one mobile + 2 static
        ({"mobile_units": 2, "max_sites_per_unit": 1}, 380),  # 2 mobile sites + 1 static
        ({"mobile_units": 2}, 270),  # 9 days <= 10
    ],
)
def test_mobile_fleet_limits_bind(fleet: dict, expected: float) -> None:
    od = od_table({("a", "S1"): 10, ("b", "S2"): 10, ("c", "S3"): 10})
    r = model(od, zones({"a": 30, "b": 30, "c": 30}), sites(["S1", "S2", "S3"]), **fleet).solve()
    assert r.totals["annual_cost_gbp"] == pytest.approx(expected)
    assert r.totals["uncovered_scans_per_year"] == pytest.approx(0, abs=1e-6)
    if "mobile_units" in fleet:
        assert r.totals["mobile_days_per_week"] <= 5 * fleet["mobile_units"]


def test_objective_drive_time() -> None:
    od = od_table({("a", "S1"): 10, ("a", "S2"): 30, ("b", "S2"): 20, ("b", "S1"): 40})
    r = model(
        od, zones({"a": 100, "b": 50}), sites(["S1", "S2"]), objective="drive_time", p_sites=1
    ).solve()
    # S1: 100*10 + 50*40 = 3000; S2: 100*30 + 50*20 = 4000
    assert r.open_sites == ["S1"]
    assert r.stages[0]["objective"] == pytest.approx(3000)
    assert r.totals["annual_cost_gbp"] == pytest.approx(350)  # 150 scans: 1 scanner + 5 days
    assert row(r, "S1")["mean_minutes"] == pytest.approx(3000 / 150)
    assert row(r, "S1")["max_minutes"] == 40
    assert "drive_time" in r.messages[0]


@pytest.mark.parametrize("solver", ["cbc", "highs"])
def test_objective_max_coverage(solver: str) -> None:
    od = od_table({("a", "S1"): 10, ("c", "S1"): 20, ("c", "S3"): 5, ("b", "S2"): 10})
    dem = zones({"a": 1, "b": 3, "c": 2.5}, population={"a": 100, "b": 300, "c": 250})
    r = model(od, dem, sites(["S1", "S2", "S3"]), objective="max_coverage", p_sites=1).solve(
        solver=solver
    )
    assert r.open_sites == ["S1"]
    assert r.stages[0]["objective"] == pytest.approx(-350)
    assert r.totals["annual_cost_gbp"] == pytest.approx(30)  # one mobile day covers 3.5 scans
    assert "population/demand" not in " ".join(r.messages)  # ratio is 100 everywhere


def test_max_coverage_refuses_inexact_merge() -> None:
    od = od_table({("a", "S1"): 10, ("b", "S1"): 20})
    dem = zones({"a": 1, "b": 1}, population={"a": 100, "b": 300})
    m = model(od, dem, sites(["S1"]), objective="max_coverage", p_sites=1)
    assert not m.merged
    assert "population/demand" in m.merge_note
    with pytest.raises(ValidationError, match="not exact"):
        model(od, dem, sites(["S1"]), objective="max_coverage", p_sites=1, merge_zones=True)


def test_objective_cover_then_cost_vs_cost() -> None:
    # budget 1500 buys one scanner; mobile not allowed; 2 zones of 100 at separate sites
    od = od_table({("a", "S1"): 10, ("b", "S2"): 10})
    kw = {"capital_budget_gbp": 1500, "max_mobile_days_per_site": 0}
    lex = model(
        od, zones({"a": 100, "b": 100}), sites(["S1", "S2"]), objective="cover_then_cost", **kw
    ).solve()
    assert lex.stages[0]["objective"] == pytest.approx(100)  # uncovered scans
    assert lex.totals["annual_cost_gbp"] == pytest.approx(200)
    assert lex.totals["uncovered_scans_per_year"] == pytest.approx(100)
    cheap = model(
        od,
        zones({"a": 100, "b": 100}),
        sites(["S1", "S2"]),
        objective="cost",
        uncovered_penalty_gbp_per_scan=1.0,
        **kw,
    ).solve()
    assert cheap.totals["annual_cost_gbp"] == 0  # penalty 100/zone < 200 per scanner
    assert cheap.totals["uncovered_scans_per_year"] == pytest.approx(200)


def test_lot_minimum_and_p_sites() -> None:
    od = od_table({("a", "S1"): 10, ("a", "S2"): 10, ("a", "S3"): 10})
    sit = sites(["S1", "S2", "S3"], lot=["N", "N", "S"])
    r = model(
        od, zones({"a": 50}), sit, min_sites_per_lot={"S": 1, "N": 1}, mobile_gbp_per_day=1000
    ).solve()
    assert "S3" in r.open_sites
    assert len(r.open_sites) == 2
    assert r.totals["annual_cost_gbp"] == pytest.approx(400)
    r = model(od, zones({"a": 50}), sit, p_sites=3).solve()
    assert len(r.open_sites) == 3


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"lock_open": ["S1"], "forbid": ["S1"]}, "locked and forbidden"),
        ({"p_sites": 3}, "p_sites=3"),
        ({"min_sites_per_lot": {"N": 2}}, "lot 'N' needs 2"),
        ({"lock_static": ["S1"], "capital_budget_gbp": 500}, "budget"),
    ],
)
def test_contradictory_rules_explained(kw: dict, match: str) -> None:
    od = od_table({("a", "S1"): 10, ("a", "S2"): 10})
    with pytest.raises(InfeasibleError, match=match) as err:
        model(od, zones({"a": 10}), sites(["S1", "S2"], lot=["N", "S"]), **kw)
    assert err.value.status == "Infeasible"


@pytest.mark.parametrize("solver", ["cbc", "highs"])
def test_infeasible_in_solver_explained(solver: str) -> None:
    # two sites required in lot N but the budget buys one scanner and mobile is off
    od = od_table({("a", "S1"): 10, ("a", "S2"): 10})
    m = model(
        od,
        zones({"a": 10}),
        sites(["S1", "S2"], lot=["N", "N"]),
        min_sites_per_lot={"N": 2},
        capital_budget_gbp=1000,
        max_mobile_days_per_site=0,
    )
    with pytest.raises(InfeasibleError, match="capital budget") as err:
        m.solve(solver=solver)
    assert err.value.status in {"Infeasible", "infeasible"}


def test_presolve_lot_and_site_capacity_messages() -> None:
    od = od_table({("a", "S1"): 10})
    m = model(od, zones({"a": 1000}), sites(["S1"], lot=["N"]))
    text = " ".join(m.messages)
    assert "lot 'N'" in text
    assert "at least 750 scans/yr will be uncovered" in text
    r = m.solve()
    assert r.totals["uncovered_scans_per_year"] == pytest.approx(750)
    assert row(r, "S1")["static_scanners"] == 2
    assert row(r, "S1")["mobile_days_per_week"] == 5


def test_population_within_thresholds_uses_od_all() -> None:
    od_all = od_table({("a", "S1"): 20, ("b", "S1"): 50, ("c", "S1"): 80})
    od = od_all[od_all["minutes"] <= 60]
    dem = zones({"a": 10, "b": 10, "c": 10}, population={"a": 1, "b": 2, "c": 4})
    r = model(od, dem, sites(["S1"]), od_all=od_all, mobile_gbp_per_day=1000).solve()
    assert r.totals["population_within_30_minutes"] == 1
    assert r.totals["population_within_60_minutes"] == 3
    assert r.totals["population_within_90_minutes"] == 7
    assert r.totals["share_within_60_minutes_static"] == pytest.approx(3 / 7)
    r2 = model(od, dem, sites(["S1"])).solve()  # od stops at 60: 90 unknown
    assert np.isnan(r2.totals["population_within_90_minutes"])


def test_result_is_frozen_and_model_not_mutated() -> None:
    m = model(od_table({("a", "S1"): 20}), zones({"a": 150}), sites(["S1"]))
    before = m.matrix.A.shape
    r1, r2 = m.solve(solver="cbc"), m.solve(solver="highs")
    assert m.matrix.A.shape == before
    with pytest.raises(AttributeError):
        r1.status = Status.FEASIBLE  # type: ignore[misc]
    assert r1.totals["annual_cost_gbp"] == r2.totals["annual_cost_gbp"]
    assert "proven optimal" in repr(r1)


def test_status_never_optimal_above_tolerance() -> None:
    assert status_from_gap(0.0, proven=True) == Status.OPTIMAL
    assert status_from_gap(0.02, proven=True) == Status.FEASIBLE
    assert status_from_gap(None, proven=False) == Status.FEASIBLE


def test_bad_inputs() -> None:
    od = od_table({("a", "S1"): 20})
    with pytest.raises(ValidationError, match="objective"):
        model(od, zones({"a": 1}), sites(["S1"]), objective="fast")
    with pytest.raises(ValidationError, match="unknown site"):
        model(od, zones({"a": 1}), sites(["S1"]), forbid=["S9"])
    with pytest.raises(ValidationError, match="p_sites"):
        model(od, zones({"a": 1}), sites(["S1"]), objective="max_coverage")
    with pytest.raises(ValidationError, match="scans_per_year"):
        model(od, pd.DataFrame({"id": ["a"], "scans_per_year": [-1.0]}), sites(["S1"]))


# ------------------------------------------------------------ random instances
def _random_instance(seed: int, n_zones: int, n_sites: int):
    rng = np.random.default_rng(seed)
    minutes = rng.uniform(5, 90, size=(n_zones, n_sites)).round()
    # duplicate some rows' reachable sets so merging has something to do
    minutes[n_zones // 2 :] = minutes[: n_zones - n_zones // 2] + rng.uniform(
        0, 1, size=(n_zones - n_zones // 2, n_sites)
    ).round(1)
    zs = [f"z{i}" for i in range(n_zones)]
    ss = [f"S{j}" for j in range(n_sites)]
    od = pd.DataFrame(
        [(zs[i], ss[j], minutes[i, j]) for i in range(n_zones) for j in range(n_sites)],
        columns=["origin_id", "destination_id", "minutes"],
    )
    dem = zones({z: float(v) for z, v in zip(zs, rng.integers(5, 80, n_zones), strict=False)})
    sit = sites(ss, is_contract=list(rng.random(n_sites) < 0.5))
    return od, dem, sit


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 12), st.integers(2, 5))
def test_merging_is_exact_and_solvers_agree(seed: int, n_zones: int, n_sites: int) -> None:
    od, dem, sit = _random_instance(seed, n_zones, n_sites)
    kw = {"install_gbp": 300, "mobile_units": 1}
    merged = model(od, dem, sit, merge_zones=True, **kw)
    plain = model(od, dem, sit, merge_zones=False, **kw)
    assert merged.n_groups <= plain.n_groups == n_zones
    a = merged.solve(solver="highs")
    b = plain.solve(solver="highs")
    c = merged.solve(solver="cbc")
    assert a.is_optimal
    assert b.is_optimal
    assert c.is_optimal
    assert a.objective_value == pytest.approx(b.objective_value, rel=1e-6)
    assert a.objective_value == pytest.approx(c.objective_value, rel=1e-6)
    assert a.totals["uncovered_scans_per_year"] == pytest.approx(
        b.totals["uncovered_scans_per_year"], abs=1e-6
    )
    # every zone's assigned scans add up to what sites report
    assert a.sites["assigned_scans_per_year"].sum() == pytest.approx(
        a.totals["assigned_scans_per_year"]
    )


@pytest.mark.parametrize("solver", ["cbc", "highs"])
def test_hard_coverage_with_infinite_penalty(solver: str) -> None:
    od = od_table({("a", "S1"): 20, ("far", "S1"): 90})
    r = model(
        od, zones({"a": 150, "far": 5}), sites(["S1"]), uncovered_penalty_gbp_per_scan=float("inf")
    ).solve(solver=solver)
    assert r.totals["annual_cost_gbp"] == pytest.approx(350)
    assert r.zones.set_index("zone_id").loc["far", "uncovered_reason"] == (
        "no candidate within 60 minutes"
    )
    # 1000 scans cannot be served by 2 scanners + 5 mobile days: explained, not crashed
    m = model(
        od, zones({"a": 1000, "far": 5}), sites(["S1"]), uncovered_penalty_gbp_per_scan=float("inf")
    )
    with pytest.raises(InfeasibleError, match="infeasible"):
        m.solve(solver=solver)


def test_sites_as_geodataframe() -> None:
    sit = sites(["S1"], lon=[-1.5], lat=[53.8])
    r = model(od_table({("a", "S1"): 20}), zones({"a": 150}), sit).solve()
    gdf = r.sites_gdf(sit)
    assert gdf.crs.to_epsg() == 4326
    assert (gdf.geometry.x.iloc[0], gdf.geometry.y.iloc[0]) == (-1.5, 53.8)
    assert gdf["decision"].iloc[0] == "both"


@pytest.mark.parametrize("solver", ["cbc", "highs"])
def test_region_cuts_hand_solved_and_exact(solver: str) -> None:
    # a (150) reaches S1, S2; b (30) reaches S2 only. Region {S1, S2} needs 180 scans =
    # 1.8 scanners (a row); region {S2} needs 30 < half a scanner (no row). Optimum: two
    # scanners (400) beat one scanner + 8 mobile days (200 + 240 = 440).
    od = od_table({("a", "S1"): 10, ("a", "S2"): 30, ("b", "S2"): 20})
    dem, sit = zones({"a": 150, "b": 30}), sites(["S1", "S2"])
    with_cuts = model(od, dem, sit, region_cuts=True)
    without = model(od, dem, sit, region_cuts=False)
    assert with_cuts.n_region_cuts == 1
    assert with_cuts.matrix.A.shape[0] == without.matrix.A.shape[0] + 1
    for m in (with_cuts, without):
        r = m.solve(solver=solver)
        assert r.is_optimal
        assert r.totals["annual_cost_gbp"] == pytest.approx(400)
        assert r.totals["static_scanners"] == 2
        assert r.totals["uncovered_scans_per_year"] == pytest.approx(0)


@settings(max_examples=6, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 12), st.integers(2, 5))
def test_region_cuts_and_start_keep_the_optimum(seed: int, n_zones: int, n_sites: int) -> None:
    od, dem, sit = _random_instance(seed, n_zones, n_sites)
    kw = {"install_gbp": 300, "mobile_units": 1, "static_scans_per_day": 0.4}
    plain = model(od, dem, sit, region_cuts=False, **kw).solve(solver="highs", warm_start=False)
    cuts = model(od, dem, sit, **kw)
    a = cuts.solve(solver="highs")  # region cuts + restricted-MIP start (defaults)
    b = cuts.solve(solver="cbc")
    assert plain.is_optimal
    assert a.is_optimal
    assert b.is_optimal
    assert a.objective_value == pytest.approx(plain.objective_value, rel=1e-6)
    assert b.objective_value == pytest.approx(plain.objective_value, rel=1e-6)


@pytest.mark.parametrize("solver", ["cbc", "highs"])
def test_reassign_sends_zones_to_the_nearest_site_with_room(solver: str) -> None:
    # Two locked static sites of 100 scans/yr each; demand 200 fits exactly. Minimum
    # scan-minutes by hand: c (50 scans) -> S1 at 5 min; S1's other 50 scans go to a,
    # which saves 20 min/scan at S1 (10 vs 30) against b's 5 (20 vs 25); the other half
    # of a and all of b go to S2. Means: S1 (50x5 + 50x10)/100 = 7.5, S2 (50x30 + 50x25)/100
    # = 27.5. Without reassign the MIP may send any zone to either site.
    od = od_table(
        {
            ("a", "S1"): 10, ("a", "S2"): 30,
            ("b", "S1"): 20, ("b", "S2"): 25,
            ("c", "S1"): 5, ("c", "S2"): 50,
        }
    )  # fmt: skip
    demand = zones({"a": 100, "b": 50, "c": 50})
    m = model(od, demand, sites(["S1", "S2"]), lock_static=["S1", "S2"], max_static_per_site=1)
    r = m.solve(solver=solver)
    assert r.totals["annual_cost_gbp"] == pytest.approx(400.0)
    z = r.zones.set_index("zone_id")
    assert z.loc["c", "site_id"] == "S1"
    assert z.loc["c", "share"] == pytest.approx(1.0)
    assert z.loc["b", "site_id"] == "S2"
    assert z.loc["b", "share"] == pytest.approx(1.0)
    assert z.loc["a", "share"] == pytest.approx(0.5)
    s = r.sites.set_index("site_id")
    assert s.loc["S1", "mean_minutes"] == pytest.approx(7.5)
    assert s.loc["S2", "mean_minutes"] == pytest.approx(27.5)
    assert s["assigned_scans_per_year"].tolist() == pytest.approx([100.0, 100.0])
    assert any("nearest open site with room" in msg for msg in r.messages)


@settings(max_examples=6, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 12), st.integers(2, 5))
def test_master_start_keeps_the_optimum_of_cover_then_cost(
    seed: int, n_zones: int, n_sites: int
) -> None:
    od, dem, sit = _random_instance(seed, n_zones, n_sites)
    kw = {"install_gbp": 300, "mobile_units": 1, "static_scans_per_day": 0.4}
    m = model(od, dem, sit, objective="cover_then_cost", **kw)
    plain = m.solve(solver="highs", warm_start=False)
    started = m.solve(solver="highs")  # master plan -> restricted MIP -> start (default)
    assert plain.is_optimal
    assert started.is_optimal
    assert started.objective_value == pytest.approx(plain.objective_value, rel=1e-6)
    assert started.totals["uncovered_scans_per_year"] == pytest.approx(
        plain.totals["uncovered_scans_per_year"],
        abs=1e-4,  # the held stage's tolerance
    )


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 7), st.integers(2, 5))
def test_capacity_check_matches_hall_by_enumeration(seed: int, n_zones: int, n_sites: int) -> None:
    """The max-flow check names a short set exactly when some set of sites cannot take the
    zones that can reach only it (checked over every subset of sites)."""
    from itertools import combinations

    from netplan.optimise._master import CapacityCuts

    od, dem, sit = _random_instance(seed, n_zones, n_sites)
    m = model(od, dem, sit, merge_zones=False)
    cuts = CapacityCuts(m)
    rng = np.random.default_rng(seed)
    x = np.zeros(len(cuts.cols))
    off, n = m._off, m.n_sites
    x[off["s"] : off["s"] + n] = rng.integers(0, 3, n)
    x[off["m"] : off["m"] + n] = rng.integers(0, 4, n)
    cap = cuts.capacity(x)
    reach = [set(m.ps[m.pz == z]) for z in range(m.n_zones)]
    short_by_hand = False
    for k in range(1, n + 1):
        for S in combinations(range(n), k):
            need = sum(m.d[z] for z in range(m.n_zones) if reach[z] and reach[z] <= set(S))
            if need > cap[list(S)].sum() + 1e-6 * max(need, 1):
                short_by_hand = True
    found = cuts.violated(x)
    assert bool(found) == short_by_hand
    for S in found:  # every set named is really short
        inside = [z for z in range(m.n_zones) if reach[z] and reach[z] <= set(S.tolist())]
        assert m.d[inside].sum() > cap[S].sum()
