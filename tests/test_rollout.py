"""Tests of the multi-year roll-out: RolloutModel on hand-solved instances, its rules, the
scenario keys and the ``netplan rollout`` command."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from cli import main
from netplan import ScenarioError
from netplan.optimise import RolloutModel
from netplan.report import read_marker
from netplan.scenario import Scenario
from netplan.scenario.rollout import initial_scanners

SMALL = Path(__file__).resolve().parents[1] / "scenarios" / "rutland_small.yaml"
YEARS = [2015, 2016, 2017]

# Two sites, three years. Site A serves zone a (600 scans a year), site B zone b (450).
# A static scanner carries 1,000 scans a year and costs 1,000 to buy (charged 100 a year
# over L = 10 years) plus 300 a year to run: 400 a year. One mobile day a week carries 150
# scans a year and costs 4 x 50 weeks = 200 a year, so zone a needs 4 days (800 a year) and
# zone b 3 days (600 a year). A static scanner saves 400 a year at A and 200 at B.
HAND = {
    "drive_minutes": 60,
    "static_scans_per_year": 1000,
    "mobile_scans_per_day_week": 150,
    "target_utilisation": 1.0,
    "static_capital_gbp": 1000,
    "static_running_gbp_per_year": 300,
    "mobile_gbp_per_day": 4,
    "mobile_weeks_per_year": 50,
    "annualisation_years": 10,
    "discount_rate": 0.0,
}


def _two_sites(
    demand_b: tuple[float, float, float] = (450, 450, 450),
    initial_b: int = 0,
    *,
    max_static: int = 1,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    by_year = {y: [600.0, d] for y, d in zip(YEARS, demand_b, strict=True)}
    demand = pd.DataFrame({"id": ["a", "b"], **by_year})
    od = pd.DataFrame(
        {"origin_id": ["a", "b"], "destination_id": ["A", "B"], "minutes": [10.0, 20.0]}
    )
    sites = pd.DataFrame(
        {
            "id": ["A", "B"],
            "name": ["Site A", "Site B"],
            "max_static_scanners": max_static,
            "max_mobile_days": 5,
            "install_gbp": 0.0,
            "initial_static_scanners": [0, initial_b],
        }
    )
    return demand, od, sites


def _scanners(result, site: str) -> list[int]:
    p = result.plan
    return p.loc[p["site_id"] == site, "static_scanners"].tolist()


def test_hand_instance_without_budget_installs_both_at_once() -> None:
    r = RolloutModel(*_two_sites(), **HAND).solve()
    assert r.status == "optimal"
    assert _scanners(r, "A") == [1, 1, 1]
    assert _scanners(r, "B") == [1, 1, 1]
    assert r.years["capital_gbp"].tolist() == [2000.0, 0.0, 0.0]
    assert r.years["annual_cost_gbp"].tolist() == [800.0, 800.0, 800.0]
    assert r.objective == pytest.approx(2400.0, abs=1e-3)


def test_hand_instance_yearly_budget_delays_the_second_site() -> None:
    # 1,000 a year buys one scanner: A first (it saves 400 a year against B's 200), B a
    # year later; B is served by 3 mobile days meanwhile: 1000 + 800 + 800 = 2600
    r = RolloutModel(*_two_sites(), **HAND, capital_gbp_per_year=1000).solve()
    assert _scanners(r, "A") == [1, 1, 1]
    assert _scanners(r, "B") == [0, 1, 1]
    p = r.plan
    assert p.loc[p["site_id"] == "B", "mobile_days_per_week"].tolist() == [3, 0, 0]
    assert p.loc[p["site_id"] == "A", "mobile_days_per_week"].tolist() == [0, 0, 0]
    assert r.years["capital_gbp"].tolist() == [1000.0, 1000.0, 0.0]
    assert r.years["annual_cost_gbp"].tolist() == [1000.0, 800.0, 800.0]
    assert r.objective == pytest.approx(2600.0, abs=1e-3)
    assert r.years["share_within_standard"].tolist() == [1.0, 1.0, 1.0]
    # cost per scan: 1000 / 1050 scans, then 800 / 1050
    assert r.years["cost_per_scan_gbp"].tolist() == pytest.approx(
        [1000 / 1050, 800 / 1050, 800 / 1050]
    )
    assert r.years["mean_drive_minutes"].iloc[0] == pytest.approx((600 * 10 + 450 * 20) / 1050)


def test_hand_instance_budget_profile_and_discounting() -> None:
    # no capital in 2015: all mobile (800 + 600); A in 2016, B in 2017. At 3.5 % the costs
    # 1400, 1000, 800 are discounted by 1, 1/1.035, 1/1.035^2.
    kw = {**HAND, "discount_rate": 0.035}
    r = RolloutModel(
        *_two_sites(), **kw, capital_gbp_per_year={2015: 0, 2016: 1000, 2017: 1000}
    ).solve()
    assert _scanners(r, "A") == [0, 1, 1]
    assert _scanners(r, "B") == [0, 0, 1]
    assert r.years["annual_cost_gbp"].tolist() == [1400.0, 1000.0, 800.0]
    expected = 1400 + 1000 / 1.035 + 800 / 1.035**2
    assert r.years["discounted_cost_gbp"].sum() == pytest.approx(expected)
    assert r.objective == pytest.approx(expected, rel=1e-6)


def test_hand_instance_total_budget_buys_one_scanner() -> None:
    r = RolloutModel(*_two_sites(), **HAND, capital_total_gbp=1000).solve()
    assert _scanners(r, "A") == [1, 1, 1]
    assert _scanners(r, "B") == [0, 0, 0]
    assert r.objective == pytest.approx(3000.0, abs=1e-3)


def test_installed_scanners_stay_unless_removal_is_paid_for() -> None:
    # B starts with one scanner; zone b's demand stops after 2015. Without a removal cost
    # the scanner stays (and runs, 400 a year); at 50 it is removed in 2016 and only its
    # capital charge (100 a year) remains: 800 + (400 + 50 + 100) + (400 + 100) = 1850.
    tables = _two_sites(demand_b=(450, 0, 0), initial_b=1)
    kept = RolloutModel(*tables, **HAND, capital_gbp_per_year=1000).solve()
    assert _scanners(kept, "B") == [1, 1, 1]
    assert kept.plan["scanners_removed"].sum() == 0
    assert kept.objective == pytest.approx(2400.0, abs=1e-3)
    removed = RolloutModel(
        *tables, **HAND, capital_gbp_per_year=1000, removal_gbp_per_scanner=50
    ).solve()
    assert _scanners(removed, "B") == [1, 0, 0]
    p = removed.plan
    assert p.loc[p["site_id"] == "B", "scanners_removed"].tolist() == [0, 1, 0]
    assert p.loc[p["site_id"] == "B", "annual_cost_gbp"].tolist() == [400.0, 150.0, 100.0]
    assert removed.objective == pytest.approx(1850.0, abs=1e-3)
    # removal dearer than the running cost it saves: kept
    dear = RolloutModel(*tables, **HAND, removal_gbp_per_scanner=10_000).solve()
    assert _scanners(dear, "B") == [1, 1, 1]


def test_cyclotron_capacity_limits_the_static_scanners_every_year() -> None:
    # one cyclotron, factor 1, 100 working days: a static scanner orders 1000 / 100 = 10
    # doses a day, a mobile day a week 150 / 100 = 1.5. At 15 a day A static (10) and B's
    # 3 mobile days (4.5) fit, both static (20) do not: 400 + 600 a year, 3000 in all.
    flows = pd.DataFrame({"site_id": ["A", "B"], "cyclotron_id": ["c", "c"], "factor": 1.0})
    kw = {**HAND, "cyclotron_flows": flows, "working_days_per_year": 100}
    r = RolloutModel(*_two_sites(), **kw, cyclotron_doses_per_day={"c": 15}).solve()
    assert _scanners(r, "A") == [1, 1, 1]
    assert _scanners(r, "B") == [0, 0, 0]
    assert r.objective == pytest.approx(3000.0, abs=1e-3)
    free = RolloutModel(*_two_sites(), **kw, cyclotron_doses_per_day={"c": 20}).solve()
    assert _scanners(free, "B") == [1, 1, 1]
    with pytest.raises(ValueError, match=r"no capacity for cyclotron\(s\) \['c'\]"):
        RolloutModel(*_two_sites(), **kw, cyclotron_doses_per_day={"d": 1})


def _random_instance(seed: int):
    rng = np.random.default_rng(seed)
    n_sites, n_zones, years = 4, 12, [2015, 2016, 2017, 2018]
    growth = 1.0 + 0.2 * np.arange(len(years))
    base = rng.uniform(100, 900, n_zones)
    demand = pd.DataFrame({"id": [f"z{i}" for i in range(n_zones)]})
    for y, g in zip(years, growth, strict=True):
        demand[y] = base * g
    rows = [
        (f"z{i}", f"S{j}", float(rng.uniform(5, 70)))
        for i, j in itertools.product(range(n_zones), range(n_sites))
        if rng.random() < 0.6
    ]
    od = pd.DataFrame(rows, columns=["origin_id", "destination_id", "minutes"])
    sites = pd.DataFrame(
        {
            "id": [f"S{j}" for j in range(n_sites)],
            "max_static_scanners": 2,
            "max_mobile_days": 3,
            "install_gbp": rng.choice([0.0, 1400.0], n_sites),
            "initial_static_scanners": rng.integers(0, 2, n_sites),
        }
    )
    budget = {y: float(rng.choice([0, 1200, 2600, 5000])) for y in years}
    return demand, od, sites, budget


@pytest.mark.parametrize("seed", range(5))
def test_capital_never_exceeds_the_budget_and_scanners_never_disappear(seed: int) -> None:
    demand, od, sites, budget = _random_instance(seed)
    kw = {**HAND, "static_capital_gbp": 1200, "static_scans_per_year": 2000, "mobile_units": 2}
    r = RolloutModel(
        demand, od, sites, **kw, capital_gbp_per_year=budget, capital_total_gbp=6000
    ).solve()
    years = r.years.set_index("year")
    for y, b in budget.items():
        assert years.loc[y, "capital_gbp"] <= b + 1e-6
    assert years["capital_gbp"].sum() <= 6000 + 1e-6
    # capital recomputed from the plan: scanners bought plus installs at new static sites
    p = r.plan.sort_values(["site_id", "year"])
    init = sites.set_index("id")["initial_static_scanners"]
    install = sites.set_index("id")["install_gbp"]
    for sid, f in p.groupby("site_id"):
        s = f["static_scanners"].to_numpy()
        assert (np.diff(np.concatenate([[init[sid]], s])) >= 0).all()  # no removal allowed
        assert f["scanners_removed"].sum() == 0
        added = np.diff(np.concatenate([[init[sid]], s]))
        first = np.flatnonzero(s > 0)
        built = np.zeros(len(s))
        if init[sid] == 0 and len(first):
            built[first[0]] = install[sid]
        assert f["capital_gbp"].to_numpy() == pytest.approx(1200 * added + built)
    # the fleet: at most 2 units x 5 days each year; capacity is respected
    assert (years["mobile_days_per_week"] <= 10).all()
    assert (r.plan["demand_scans"] <= r.plan["capacity_scans"] * (1 + 1e-6) + 1e-3).all()


def test_unreachable_zone_is_reported_as_shortfall() -> None:
    demand, od, sites = _two_sites()
    demand = pd.concat(
        [demand, pd.DataFrame({"id": ["far"], **{y: [100.0] for y in YEARS}})], ignore_index=True
    )
    r = RolloutModel(demand, od, sites, **HAND).solve()
    assert r.years["share_within_standard"].tolist() == pytest.approx([1050 / 1150] * 3)
    assert r.years["served_scans"].tolist() == pytest.approx([1050.0] * 3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"capital_gbp_per_year": {2015: 10}}, r"no budget for year\(s\) \[2016, 2017\]"),
        ({"capital_gbp_per_year": -5.0}, r"capital_gbp_per_year must be >= 0"),
        ({"discount_rate": -0.1}, r"discount_rate must be a finite number >= 0"),
        ({"removal_gbp_per_scanner": float("nan")}, r"removal_gbp_per_scanner must be"),
    ],
)
def test_bad_model_values_raise_clear_errors(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        RolloutModel(*_two_sites(), **{**HAND, **kwargs})


def test_bad_demand_years_raise() -> None:
    demand, od, sites = _two_sites()
    with pytest.raises(ValueError, match="consecutive whole years"):
        RolloutModel(demand.drop(columns=[2016]), od, sites, **HAND)


# ------------------------------------------------------------------ scenario keys
@pytest.mark.parametrize(
    ("rollout", "match"),
    [
        (
            {"capital_per_year": 5},
            r"unknown key 'rollout.capital_per_year'; did you mean 'capital_gbp_per_year'",
        ),
        (
            {"start_year": 2020, "end_year": 2018},
            r"end_year \(2018\) is before start_year \(2020\)",
        ),
        (
            {"start_year": 2015, "end_year": 2016, "capital_gbp_per_year": {2015: 1}},
            r"missing: \[2016\]",
        ),
        ({"initial": "mobile"}, r"initial must be 'mobile_led', 'none', a mapping"),
        ({"initial": {"RTD01": -1}}, r"not whole numbers >= 0"),
        ({"discount_rate": 0.9}, r"rollout\.discount_rate"),
        ({"capital_total_gbp": -1}, r"rollout\.capital_total_gbp"),
    ],
)
def test_bad_rollout_keys_are_named(rollout: dict, match: str) -> None:
    with pytest.raises(ScenarioError, match=match):
        Scenario.from_dict({"rollout": rollout}, source="my.yaml")


def test_rollout_defaults_come_from_defaults_yaml() -> None:
    r = Scenario().rollout
    assert (r.start_year, r.end_year) == (2015, 2024)
    assert r.discount_rate == 0.035
    assert r.capital_total_gbp == 87_000_000
    assert r.saving_target == 0.18
    assert r.initial == "mobile_led"
    assert r.removal_gbp_per_scanner is None


def test_initial_state_from_csv_and_its_errors(tmp_path: Path) -> None:
    good = tmp_path / "existing.csv"
    good.write_text("site_id,static_scanners\nOAKHAM,2\nUPPINGHAM,0\n", encoding="utf-8")
    s = Scenario.from_dict({"rollout": {"initial": "existing.csv"}}, source=tmp_path / "s.yaml")
    assert initial_scanners(s, {"OAKHAM", "UPPINGHAM"}) == {"OAKHAM": 2}
    with pytest.raises(ScenarioError, match=r"names site\(s\) \['OAKHAM'\] that are not candidate"):
        initial_scanners(s, {"UPPINGHAM"})
    bad = tmp_path / "bad.csv"
    bad.write_text("site_id,static_scanners\nOAKHAM,1.5\n", encoding="utf-8")
    s = Scenario.from_dict({"rollout": {"initial": "bad.csv"}}, source=tmp_path / "s.yaml")
    with pytest.raises(ScenarioError, match=r"bad.csv, line 2: static_scanners must be a whole"):
        initial_scanners(s, {"OAKHAM"})
    s = Scenario.from_dict({"rollout": {"initial": "missing.csv"}}, source=tmp_path / "s.yaml")
    with pytest.raises(ScenarioError, match=r"missing\.csv"):
        initial_scanners(s, {"OAKHAM"})
    # the named mobile-led state keeps only the sites the scenario offers
    s = Scenario.from_dict({}, source=tmp_path / "s.yaml")
    assert initial_scanners(s, {"RTD01", "X"}) == {"RTD01": 1}


# ------------------------------------------------------------------------- CLI
def test_cli_rollout_writes_its_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "small_rollout.yaml"
    scenario.write_text(
        yaml.safe_dump(
            {
                "extends": str(SMALL),
                "name": "small_rollout",
                "fleet": {"mobile_units": 0},
                "rollout": {
                    "start_year": 2018,
                    "end_year": 2020,
                    "initial": "none",
                    "capital_gbp_per_year": {2018: 2_600_000, 2019: 0, 2020: 2_600_000},
                },
            }
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert main(["rollout", str(scenario), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "status optimal" in printed
    assert "rollout_report.html" in printed
    marker = read_marker(out)
    assert set(marker) == {
        "rollout.csv",
        "rollout_summary.csv",
        "rollout_report.html",
        "rollout_map.html",
        "scenario.resolved.yaml",
    }
    plan = pd.read_csv(out / "rollout.csv")
    assert list(plan.columns) == [
        "year",
        "site_id",
        "site_name",
        "static_scanners",
        "mobile_days_per_week",
        "capital_gbp",
        "capacity_scans",
        "demand_scans",
        "utilisation",
    ]
    summary = pd.read_csv(out / "rollout_summary.csv")
    # no mobile units: one scanner (GBP 1.2 m) and its new site (GBP 1.4 m) in 2018 carry
    # Rutland's few hundred scans a year to 2020
    assert summary["capital_gbp"].tolist() == [2_600_000, 0, 0]
    assert summary["static_scanners"].tolist() == [1, 1, 1]
    assert summary["demand_scans"].is_monotonic_increasing
    for col in ("share_within_standard", "cost_per_scan_gbp", "meets_saving_target"):
        assert col in summary
    page = (out / "rollout_report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in page
    assert "OpenStreetMap" in page
    map_page = (out / "rollout_map.html").read_text(encoding="utf-8")
    assert "2018/19" in map_page
    assert "2020/21" in map_page
    # a second run into the same folder replaces netplan's files; a user file stays
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    assert main(["rollout", str(scenario), "--out", str(out)]) == 0
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_cli_rollout_bad_initial_site_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(
        yaml.safe_dump({"extends": str(SMALL), "rollout": {"initial": {"NOPE": 1}}}),
        encoding="utf-8",
    )
    assert main(["rollout", str(scenario), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "rollout.initial names site(s) ['NOPE'] that are not candidate sites" in err
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()
