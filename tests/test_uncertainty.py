"""Plan robustness: hand-solved fixed plans, the demand factor, cyclotron failures, the CLI."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from netplan import ValidationError, demand
from netplan.scenario.uncertainty import (
    FixedPlan,
    binding_sites,
    cyclotron_failures,
    draw_factor,
    draw_params,
    evaluate_draws,
    evaluate_plan,
    sample_draws,
    standards,
)

SMALL = Path(__file__).resolve().parents[1] / "scenarios" / "rutland_small.yaml"


def _plan(*, cyc_minutes: dict[tuple[str, str], float] | None = None) -> FixedPlan:
    """Two sites, three zones. Site A: one static scanner, 10 scans/day x 100 days x 0.8 =
    800 usable scans/yr; site B: one mobile day a week, 5 scans x 40 weeks x 0.8 = 160.
    z1 (600 scans) reaches A only, z2 (300) A and B, z3 (100) B only, z4 (50) nothing."""
    sites = pd.DataFrame(
        {"site_id": ["A", "B"], "static_scanners": [1, 0], "mobile_days_per_week": [0, 1]}
    )
    zones = pd.DataFrame(
        {
            "id": ["z1", "z2", "z3", "z4"],
            "scans_per_year": [600.0, 300.0, 100.0, 50.0],
            "population": [1, 1, 1, 1],
        }
    )
    od = pd.DataFrame(
        [
            ("z1", "A", 10.0),
            ("z2", "A", 40.0),
            ("z2", "B", 20.0),
            ("z3", "B", 5.0),
            ("z4", "A", 95.0),
        ],
        columns=["origin_id", "destination_id", "minutes"],
    )
    cyc_minutes = cyc_minutes or {("c1", "A"): 30.0, ("c2", "A"): 100.0, ("c2", "B"): 20.0}
    cyc_od = pd.DataFrame(
        [(c, s, m) for (c, s), m in cyc_minutes.items()],
        columns=["origin_id", "destination_id", "minutes"],
    )
    cyclos = pd.DataFrame({"id": ["c1", "c2"], "daily_capacity_doses": [4.0, 2.0]})
    settings = {
        "drive_minutes": 60.0,
        "static_scans_per_day": 10.0,
        "mobile_scans_per_day": 5.0,
        "working_days_per_year": 100.0,
        "mobile_weeks_per_year": 40.0,
        "target_utilisation": 0.8,
        "primary_minutes": 120.0,
        "backup_minutes": 240.0,
        "dose_activity_mbq": 370.0,
        "fixed_days": 4.0,
        "target_days": (5, 7),
        "demand_params": demand.DemandParams.from_defaults(),
    }
    return FixedPlan(sites, zones, od, cyc_od, cyclos, settings)


def test_fixed_plan_serves_what_the_capacities_allow() -> None:
    out = evaluate_plan(_plan())
    # A: z1 600 + 200 of z2 = 800 (full); B: z3 100 + 60 of z2 = 160 (full); z2 loses 40
    assert out["demand_scans_per_year"] == pytest.approx(1050.0)
    assert out["served_scans_per_year"] == pytest.approx(960.0)
    assert out["capacity_shortfall_scans_per_year"] == pytest.approx(40.0)  # z4 out of reach
    assert out["share_served_within_standard"] == pytest.approx(960 / 1050)
    assert out["mean_utilisation"] == pytest.approx(960 / 1200)
    assert out["sites_full"] == 2
    assert sorted(out["full_sites"]) == ["A", "B"]
    # doses a day: A 800/100 = 8 from c1 (capacity 4), B 160/100 = 1.6 from c2 (capacity 2)
    assert out["max_cyclotron_load"] == pytest.approx(2.0)
    assert out["cyclotrons_over_capacity"] == 1


def test_lower_demand_fits_and_goes_to_the_nearest_site() -> None:
    out = evaluate_plan(_plan(), factor=0.5)
    # 300 + 150 + 50 in reach (z4: 25 out of reach); z2's 150 go to B (20 min) while it has
    # room (160 - 50 = 110), the other 40 to A
    assert out["served_scans_per_year"] == pytest.approx(500.0)
    assert out["capacity_shortfall_scans_per_year"] == pytest.approx(0.0, abs=1e-6)
    assert out["full_sites"] == ["B"]
    assert out["max_utilisation"] == pytest.approx(160 / 200)


def test_each_cyclotron_failing_in_turn() -> None:
    table = cyclotron_failures(_plan(), factor=0.5).set_index("failed_cyclotron")
    # c1 down: A (340 scans) goes to c2, 100 min away (within the 240-min back-up)
    assert table.loc["c1", "sites_affected"] == 1
    assert table.loc["c1", "sites_resupplied"] == 1
    assert table.loc["c1", "scans_affected_per_year"] == pytest.approx(340.0)
    assert table.loc["c1", "max_load"] == pytest.approx((340 + 160) / 100 / 2.0)
    # c2 down: B has no other cyclotron at all, so it is unsupplied
    assert table.loc["c2", "sites_unsupplied"] == 1
    assert table.loc["c2", "unsupplied_sites"] == "B"
    assert table.loc["c2", "scans_unsupplied_per_year"] == pytest.approx(160.0)


def test_draw_factor_matches_the_demand_model() -> None:
    base = demand.DemandParams.from_defaults()
    draws = sample_draws(5, seed=3, base=base)
    zones = pd.DataFrame({"id": ["a", "b"], "population": [1000.0, 2500.0]})
    before = demand.estimate_demand(zones, base)["scans_per_year"].to_numpy()
    for _, draw in draws.iterrows():
        after = demand.estimate_demand(zones, draw_params(base, draw))["scans_per_year"]
        assert after.to_numpy() == pytest.approx(before * draw_factor(base, draw), rel=1e-12)


def test_draws_are_reproducible_and_inside_their_ranges() -> None:
    base = demand.DemandParams.from_defaults()
    a = sample_draws(400, seed=7, base=base)
    assert a.equals(sample_draws(400, seed=7, base=base))
    assert not a.equals(sample_draws(400, seed=8, base=base))
    assert a["rate_per_1000"].between(2.16, 2.80).all()
    assert a["growth_multiplier"].between(0.5, 1.69).all()
    mix = a[[c for c in a.columns if c.startswith("mix_")]].sum(axis=1)
    assert mix.to_numpy() == pytest.approx(1.0)
    # triangular mean (low + mode + high) / 3
    assert a["rate_per_1000"].mean() == pytest.approx((2.16 + 2.22 + 2.80) / 3, abs=0.02)
    assert a["mix_fdg"].mean() == pytest.approx(base.tracer_mix["fdg"], abs=0.002)
    with pytest.raises(ValidationError, match="--draws must be >= 1"):
        sample_draws(0, seed=1, base=base)


def test_standards_and_binding_sites_over_draws() -> None:
    plan = _plan()
    draws = pd.DataFrame({"draw": [0, 1, 2], "growth_multiplier": 1.0, "rate_per_1000": 2.22})
    base = plan.settings["demand_params"]
    for t, share in base.tracer_mix.items():
        draws[f"mix_{t}"] = share
    draws["rate_per_1000"] = [base.rate_per_1000 * f for f in (0.5, 1.0, 0.25)]
    table = evaluate_draws(plan, draws)
    assert table["demand_factor"].to_numpy() == pytest.approx([0.5, 1.0, 0.25])
    met = standards(table)
    assert met["meets_capacity"].tolist() == [True, False, True]
    assert not met["meets_coverage"].any()  # z4 is never in reach: at most 1000/1050
    sites = binding_sites(table, plan).set_index("site_id")
    assert sites.loc["B", "draws_full"] == 2  # factors 0.5 and 1
    assert sites.loc["A", "draws_full"] == 1


def test_cli_uncertainty_on_rutland(tmp_path: Path) -> None:
    from netplan.cli import main

    out = tmp_path / "unc"
    assert main(["uncertainty", str(SMALL), "--draws", "6", "--seed", "2", "--out", str(out)]) == 0
    draws = pd.read_csv(out / "uncertainty_draws.csv")
    assert len(draws) == 6
    summary = pd.read_csv(out / "uncertainty_summary.csv").set_index("figure")
    # one mobile day: 500 scans/yr, ceiling 85 %; Rutland's ~130 scans always fit
    assert summary.loc["probability_meets_capacity", "mean"] == 1.0
    assert math.isclose(
        summary.loc["demand_scans_per_year", "median"],
        float(draws["demand_scans_per_year"].median()),
        rel_tol=1e-5,
    )
    fail = pd.read_csv(out / "cyclotron_failures.csv")
    assert fail["sites_unsupplied"].tolist() == [1]  # the only cyclotron
    text = (out / "uncertainty.md").read_text()
    assert "OpenStreetMap contributors (ODbL)" in text
    assert "Open Government Licence v3.0" in text
    marker = (out / ".netplan-output").read_text()
    for name in ("uncertainty_draws.csv", "uncertainty.md", "cyclotron_failures.csv"):
        assert name in marker
    (out / "notes.txt").write_text("mine")
    assert main(["uncertainty", str(SMALL), "--draws", "2", "--out", str(out)]) == 0
    assert (out / "notes.txt").read_text() == "mine"


def test_resolve_scales_the_demand_of_each_draw() -> None:
    from netplan.scenario import Scenario
    from netplan.scenario.uncertainty import run_uncertainty

    result = run_uncertainty(Scenario.from_yaml(SMALL), draws=2, seed=4, resolve=True)
    d = result.draws
    # the re-solved run's demand is the draw's demand (totals round to 0.1 scans)
    assert d["resolved_demand_scans_per_year"].to_numpy() == pytest.approx(
        d["demand_scans_per_year"].to_numpy(), abs=0.06
    )
    assert (d["resolved_unserved_scans_per_year"] == 0).all()
