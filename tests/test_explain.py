"""Tests of netplan.explain: who is not served, the rule excluding each site, the fix."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from netplan import explain
from netplan.scenario import Scenario

SMALL = Path(__file__).resolve().parents[1] / "scenarios" / "rutland_small.yaml"

COSTS = explain.FixCosts.from_defaults(
    static_capital_gbp=1_200_000,
    install_gbp=1_400_000,
    contract_install_gbp=0,
    static_running_gbp_per_year=875_000,
    annualisation_years=10,
    mobile_gbp_per_day=4_000,
    mobile_weeks_per_year=50,
    static_scans_per_year=5_500,
    mobile_scans_per_day=10,
    target_utilisation=0.85,
    max_static_per_site=2,
    max_mobile_days_per_site=3,
    cyclotron_capital_gbp=1_000_000,
    cyclotron_running_gbp_per_year=875_000,
    max_tracer_minutes=480,
    half_life_minutes=109.7,
)


@pytest.fixture
def instance() -> dict[str, pd.DataFrame]:
    """Four groups of zones, each kept from its sites by one rule, and one served zone.

    west: SW is 20 min away but 300 min from the cyclotron (primary limit 240);
    far: the only site, SF, is 80 min away (standard 60);
    town: SC is 25 min away, supplied, but closed (3,000 scans/yr: one static scanner);
    eye: the only site within reach, SE, is not eligible; SG is 70 min away.
    """
    zones = pd.DataFrame(
        {
            "zone_id": ["w1", "w2", "f1", "c1", "e1", "ok"],
            "name": [
                "Westtown 001A", "Westtown 002A", "Farland 001A", "Bigtown 001A",
                "Eyeham 001A", "Served 001A",
            ],
            "icb_name": ["West ICB", "West ICB", "Far ICB", "Town ICB", "Eye ICB", "Town ICB"],
            "population": [5000, 3000, 2000, 20000, 1000, 9000],
            "scans_per_year": [50.0, 30.0, 20.0, 3000.0, 10.0, 90.0],
            "covered": [False, False, False, False, False, True],
            "uncovered_share": [1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
        }
    )  # fmt: skip
    od = pd.DataFrame(
        {
            "origin_id": ["w1", "w2", "w2", "f1", "c1", "e1", "e1", "ok"],
            "destination_id": ["SW", "SW", "SX", "SF", "SC", "SE", "SG", "SO"],
            "minutes": [20.0, 30.0, 50.0, 80.0, 25.0, 15.0, 70.0, 10.0],
        }
    )
    sites = pd.DataFrame(
        {
            "site_id": ["SW", "SX", "SF", "SC", "SE", "SO", "SG"],
            "name": ["West General", "West Minor", "Far General", "Town General", "Eye Unit",
                     "Open General", "Eyeham General"],
            "decision": ["closed", "closed", "closed", "closed", "closed", "static", "closed"],
            "static_scanners": [0, 0, 0, 0, 0, 1, 0],
            "capacity_scans_per_year": [0.0, 0.0, 0.0, 0.0, 0.0, 5500.0, 0.0],
            "assigned_scans_per_year": [0.0, 0.0, 0.0, 0.0, 0.0, 90.0, 0.0],
            "eligible": [True, True, True, True, False, True, True],
            "eligibility_reason": ["", "", "", "", "eye hospital", "", ""],
        }
    )  # fmt: skip
    cyc = pd.DataFrame(
        {
            "cyclotron_id": ["G"] * 7,
            "site_id": ["SW", "SX", "SF", "SC", "SE", "SO", "SG"],
            "minutes": [300.0, 330.0, 100.0, 90.0, 60.0, 50.0, 80.0],
        }
    )
    return {"zones": zones, "od": od, "sites": sites, "cyc": cyc}


def _explain(instance: dict[str, pd.DataFrame]) -> pd.DataFrame:
    out = explain.explain_uncovered(
        instance["zones"],
        instance["od"],
        instance["sites"],
        drive_minutes=60,
        cyclotron_minutes=instance["cyc"],
        primary_minutes=240,
        backup_minutes=360,
        cyclotron_names={"G": "Guildford"},
        costs=COSTS,
    )
    return out.set_index("place")


def test_clusters_are_named_and_counted(instance) -> None:
    out = _explain(instance)
    assert sorted(out.index) == ["Bigtown", "Eyeham", "Farland", "Westtown"]
    assert out["cluster"].tolist() == [1, 2, 3, 4]  # most people first
    west = out.loc["Westtown"]
    assert west["icbs"] == "West ICB"
    assert west["zones"] == 2
    assert west["population"] == 8000
    assert west["unserved_scans_per_year"] == pytest.approx(80.0)
    # the served zone is in no cluster
    assert out["population"].sum() == 31000


def test_out_of_tracer_reach_names_the_rule_and_the_limit_fix(instance) -> None:
    west = _explain(instance).loc["Westtown"]
    assert west["site_1_id"] == "SW"
    assert west["site_1_minutes"] == pytest.approx((50 * 20 + 30 * 30) / 80, abs=0.06)
    assert west["site_1_within_standard"] == 1.0
    assert west["site_1_rule"] == "tracer: 300 min from Guildford, over the 240-min primary limit"
    assert west["site_2_rule"] == "tracer: 330 min from Guildford, over the 240-min primary limit"
    assert west["fix_kind"] == "tracer_limit"
    assert west["fix_site"] == "SW"
    factor = 2 ** (300 / 109.7)
    assert f"from 240 to 300 min at SW West General (decay factor {factor:.1f}" in west["fix"]
    # opening SW for 80 scans/yr: one mobile day a week is cheaper than a static scanner
    assert "open it for 1 mobile day a week" in west["fix"]
    assert west["fix_annual_cost_gbp"] == pytest.approx(4_000 * 50)
    assert west["fix_capital_gbp"] == 0
    # the alternative: a new cyclotron near SW, with its price
    assert "a new cyclotron near SW West General" in west["alternatives"]
    assert "(£1.18m/yr, capital £1.00m)" in west["alternatives"]  # 1.0m / 10 + 875k + 200k


def test_out_of_drive_reach_names_the_standard_fix(instance) -> None:
    far = _explain(instance).loc["Farland"]
    assert far["site_1_id"] == "SF"
    assert far["site_1_rule"] == "drive 80 min, over the 60-min standard"
    assert far["site_1_within_standard"] == 0.0
    assert far["fix_kind"] == "standard"
    assert far["fix"].startswith("an 80-minute standard (from 60)")
    assert "served from SF Far General" in far["fix"]
    assert far["fix_annual_cost_gbp"] == pytest.approx(200_000)


def test_closed_site_in_reach_is_opened_with_its_cost(instance) -> None:
    town = _explain(instance).loc["Bigtown"]
    assert town["site_1_rule"].startswith("reachable and supplied but not opened")
    assert town["fix_kind"] == "open_site"
    # 3,000 scans/yr: one static scanner (8 mobile days would exceed 3 a week)
    assert "open it as a static site (1 static scanner)" in town["fix"]
    assert town["fix_capital_gbp"] == pytest.approx(1_200_000 + 1_400_000)
    assert town["fix_annual_cost_gbp"] == pytest.approx(260_000 + 875_000)


def test_ineligible_site_is_named_as_such(instance) -> None:
    eye = _explain(instance).loc["Eyeham"]
    assert eye["site_1_id"] == "SE"
    assert eye["site_1_rule"] == "not eligible: eye hospital"
    assert eye["site_2_id"] == "SG"
    assert eye["fix_kind"] == "standard"
    assert "70-minute standard" in eye["fix"]


def test_full_open_site_gets_more_capacity(instance) -> None:
    inst = dict(instance)
    sites = inst["sites"].copy()
    sites.loc[sites["site_id"] == "SC", ["decision", "static_scanners"]] = ["static", 1]
    sites.loc[sites["site_id"] == "SC", "capacity_scans_per_year"] = 5500.0
    sites.loc[sites["site_id"] == "SC", "assigned_scans_per_year"] = 5500 * 0.85
    inst["sites"] = sites
    town = _explain(inst).loc["Bigtown"]
    assert town["site_1_rule"] == "open, capacity taken (utilisation 85 %)"
    assert town["fix_kind"] == "add_capacity"
    assert "add 1 static scanner" in town["fix"]
    assert town["fix_capital_gbp"] == pytest.approx(1_200_000)  # no second install


def test_zones_out_of_every_reach_form_one_cluster_per_icb(instance) -> None:
    zones = pd.concat(
        [
            instance["zones"],
            pd.DataFrame(
                {
                    "zone_id": ["i1", "i2"],
                    "name": ["Island 001A", "Island 002A"],
                    "icb_name": ["Far ICB", "Far ICB"],
                    "icb_code": ["F", "F"],
                    "population": [700, 300],
                    "scans_per_year": [7.0, 3.0],
                    "covered": [False, False],
                    "uncovered_share": [1.0, 1.0],
                }
            ),
        ],
        ignore_index=True,
    )
    out = _explain({**instance, "zones": zones})
    island = out.loc["Island"]
    assert island["zones"] == 2
    assert island["population"] == 1000
    assert pd.isna(island["site_1_id"])
    assert island["fix"].startswith("no candidate within the 80 minutes searched")


def test_everyone_served_gives_an_empty_table(instance) -> None:
    zones = instance["zones"].assign(covered=True, uncovered_share=0.0)
    out = explain.explain_uncovered(zones, instance["od"], instance["sites"], drive_minutes=60)
    assert out.empty
    assert {"fix", "site_1_rule", "fix_annual_cost_gbp"} <= set(out.columns)


def test_missing_columns_are_named(instance) -> None:
    with pytest.raises(explain.ValidationError, match="scans_per_year"):
        explain.explain_uncovered(
            instance["zones"].drop(columns="scans_per_year"),
            instance["od"],
            instance["sites"],
            drive_minutes=60,
        )


def test_rutland_with_a_tight_tracer_limit_is_explained(tmp_path: Path) -> None:
    # Oakham's cyclotron is 1.3 min from the Oakham site: a 1-minute limit supplies nobody
    s = Scenario.from_yaml(SMALL).with_overrides(
        {"cyclotrons": {"primary_minutes": 1, "backup_minutes": 30}, "allow_uncovered": True}
    )
    r = s.run()
    u = r.uncovered
    assert len(u) == 1
    row = u.iloc[0]
    assert row["place"] == "Rutland"
    assert row["population"] == r.totals["population"]
    assert row["site_1_id"] == "OAKHAM"
    assert row["site_1_rule"].startswith("tracer: ")
    assert row["site_1_rule"].endswith("over the 1-min primary limit")
    assert row["fix_kind"] == "tracer_limit"
    assert "from 1 to 2 min at OAKHAM" in row["fix"]
    assert math.isfinite(row["fix_annual_cost_gbp"])
    paths = r.to_folder(tmp_path / "tight")
    csv = pd.read_csv(paths["uncovered"])
    assert csv.loc[0, "fix_kind"] == "tracer_limit"
    html = paths["report"].read_text(encoding="utf-8")
    assert ">Who is not served, and what would it take</h2>" in html
    assert "raise the primary tracer limit from 1 to 2 min at OAKHAM" in html
