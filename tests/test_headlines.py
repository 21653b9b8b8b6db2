"""Headline figures that say what the plan does: served demand, shortfall, flags, capital.

A capacity-short version of ``rutland_small`` (demand raised to 100 scans per 1,000 and only
one mobile unit, no static scanners) cannot serve its zones: the summary must say so, not
"100 % within the standard, optimal"."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from netplan.scenario import Scenario

SMALL = Path(__file__).resolve().parents[1] / "scenarios" / "rutland_small.yaml"


@pytest.fixture(scope="module")
def short(tmp_path_factory):
    s = Scenario.from_yaml(SMALL).with_overrides(
        {
            "demand.rate_per_1000": 100.0,
            "fleet.allow_static": False,
            "fleet.mobile_units": 1,
            "objective": "cover_then_cost",
            "outputs.map": False,
            "outputs.xlsx": False,
            "outputs.gpkg": False,
        }
    )
    result = s.run()
    out = tmp_path_factory.mktemp("short") / "run"
    result.to_folder(out)
    return result, out


def test_capacity_shortfall_is_not_reported_as_full_coverage(short) -> None:
    result, out = short
    t = result.totals
    demand = t["demand_scans_per_year"]
    capacity = t["capacity_scans_per_year"]
    assert capacity < demand  # one unit, five days: short by construction
    # every zone has an open site in reach, yet only capacity/demand of it is served
    assert t["share_in_reach_within_standard"] == pytest.approx(1.0)
    assert t["share_of_demand_served_within_standard"] == pytest.approx(
        t["assigned_scans_per_year"] / demand, rel=1e-4
    )
    assert t["share_within_standard"] < 0.6
    assert t["unserved_scans_per_year"] == pytest.approx(demand - t["assigned_scans_per_year"])
    assert t["unserved_population"] > 0
    assert "not served" in t["flags"]
    summary = pd.read_csv(out / "summary.csv").iloc[0]
    assert summary["share_within_standard"] < 0.6
    assert "not served" in summary["flags"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="flags"' in html
    assert "scans/yr not served" in html


def test_mobile_led_baseline_and_capital_are_like_for_like(short) -> None:
    result, _ = short
    t, s = result.totals, result.scenario
    # all-mobile baseline on the same demand: the day rate over the scans of a day at the
    # target utilisation
    per_scan = s.costs.mobile_gbp_per_day / (
        s.scanners.mobile_scans_per_day * s.scanners.target_utilisation
    )
    assert t["mobile_led_cost_per_scan_gbp"] == pytest.approx(per_scan, rel=1e-6)
    assert t["saving_vs_mobile_led"] == pytest.approx(
        1 - t["cost_per_scan_gbp"] / per_scan, abs=1e-5
    )
    # no static scanners: no capital; the per-site capital sums to the total
    assert t["capital_investment_gbp"] == 0.0
    assert result.sites["capital_gbp"].sum() == pytest.approx(t["capital_investment_gbp"])
    assert t["contract_investment_gbp"] == 87e6
