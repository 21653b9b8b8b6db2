"""Tests of netplan.scenario: validation messages, extends, overrides, YAML round trip, runs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from netplan import InfeasibleError, ScenarioError, defaults
from netplan.scenario import Scenario, parse_set, sweep_variants

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SMALL = SCENARIOS / "rutland_small.yaml"


def _write(folder: Path, name: str, doc: object) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(doc) if not isinstance(doc, str) else doc, encoding="utf-8")
    return path


def test_defaults_come_from_defaults_yaml() -> None:
    s = Scenario()
    assert s.drive_minutes == defaults.get("service.drive_standard_minutes") == 60
    assert s.demand.rate_per_1000 == defaults.get("demand.rate_per_1000")
    assert s.scanners.static_scans_per_day == defaults.get("scanners.static_scans_per_day")
    assert s.costs.mobile_gbp_per_day == defaults.get("costs.mobile_gbp_per_day")
    assert s.cyclotrons.primary_minutes == defaults.get("tracer.max_delivery_minutes_primary")


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_scenarios_load(path: Path) -> None:
    s = Scenario.from_yaml(path)
    assert s.name == path.stem
    assert s.source == path


def test_shipped_variants_override_the_base() -> None:
    base = Scenario.from_yaml(SCENARIOS / "england.yaml")
    assert Scenario.from_yaml(SCENARIOS / "standard_45.yaml").drive_minutes == 45
    assert base.drive_minutes == 60
    static = Scenario.from_yaml(SCENARIOS / "all_static.yaml")
    assert static.fleet.mobile_units == 0
    assert not static.fleet.allow_mobile
    assert static.cyclotrons.ids == base.cyclotrons.ids  # inherited
    assert Scenario.from_yaml(SCENARIOS / "growth_2025.yaml").demand.year == 2025
    mobile = Scenario.from_yaml(SCENARIOS / "mobile_led.yaml")
    assert mobile.sites.static_allowed == ["RTD01", "RTRAT"]
    assert mobile.sites.candidates == "contract"


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"drive_minute": 45}, r"unknown key 'drive_minute'; did you mean 'drive_minutes'\?"),
        (
            {"fleet": {"mobile_unit": 3}},
            r"unknown key 'fleet.mobile_unit'; did you mean "
            r"'mobile_units'\?",
        ),
        ({"solver": {"nmae": "highs"}}, r"'solver.nmae'; did you mean 'name'\?"),
        ({"drive_minutes": "sixty"}, r"drive_minutes: Input should be a valid number.*'sixty'"),
        ({"drive_minutes": -5}, r"drive_minutes: Input should be greater than 0"),
        ({"fleet": {"mobile_units": 2.5}}, r"fleet.mobile_units: Input should be a valid integer"),
        ({"objective": "cheapest"}, r"objective: Input should be 'cost', 'drive_time'"),
        ({"solver": {"name": "gurobi"}}, r"solver.name: Input should be 'highs' or 'cbc'"),
        ({"sites": {"lock_open": "RTD01"}}, r"sites.lock_open: Input should be a valid list"),
        (
            {"cyclotrons": {"primary_minutes": 200, "backup_minutes": 100}},
            r"backup_minutes \(100\) must be >= cyclotrons.primary_minutes",
        ),
    ],
)
def test_bad_scenarios_are_explained_with_file_and_key(
    tmp_path: Path, doc: dict, expected: str
) -> None:
    path = _write(tmp_path, "bad.yaml", doc)
    with pytest.raises(ScenarioError, match=expected) as info:
        Scenario.from_yaml(path)
    assert str(path) in str(info.value)


def test_several_errors_are_listed_together(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.yaml", {"drive_minutes": 0, "fleet": {"mobile_units": -1}})
    with pytest.raises(ScenarioError) as info:
        Scenario.from_yaml(path)
    text = str(info.value)
    assert "drive_minutes" in text
    assert "fleet.mobile_units" in text


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="not found"):
        Scenario.from_yaml(tmp_path / "missing.yaml")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        Scenario.from_yaml(_write(tmp_path, "broken.yaml", "name: [unclosed\n"))
    with pytest.raises(ScenarioError, match="must be a mapping"):
        Scenario.from_yaml(_write(tmp_path, "list.yaml", "- a\n- b\n"))


def test_extends_deep_merges_and_names_the_right_file(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "base.yaml",
        {
            "name": "base",
            "fleet": {"mobile_units": 7, "max_sites_per_unit": 2},
            "drive_minutes": 50,
        },
    )
    sub = tmp_path / "sub"
    sub.mkdir()
    child = _write(
        sub,
        "child.yaml",
        {"extends": "../base.yaml", "name": "child", "fleet": {"mobile_units": 3}},
    )
    s = Scenario.from_yaml(child)
    assert (s.name, s.drive_minutes) == ("child", 50)
    assert (s.fleet.mobile_units, s.fleet.max_sites_per_unit) == (3, 2)  # merged, not replaced
    # an error in the base is reported against the base file
    _write(tmp_path, "base.yaml", {"name": "base", "fleet": {"max_sites_per_unit": "two"}})
    with pytest.raises(ScenarioError, match=r"base\.yaml: fleet.max_sites_per_unit"):
        Scenario.from_yaml(child)


def test_extends_cycle_and_missing_base(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", {"extends": "b.yaml"})
    _write(tmp_path, "b.yaml", {"extends": "a.yaml"})
    with pytest.raises(ScenarioError, match="cycle"):
        Scenario.from_yaml(tmp_path / "a.yaml")
    _write(tmp_path, "c.yaml", {"extends": "nowhere.yaml"})
    with pytest.raises(ScenarioError, match=r"nowhere.yaml not found \(named by `extends`"):
        Scenario.from_yaml(tmp_path / "c.yaml")


def test_with_overrides() -> None:
    s = Scenario(name="x")
    t = s.with_overrides(
        {"drive_minutes": 45, "fleet.mobile_units": 0, "costs": {"mobile_gbp_per_day": 1.0}}
    )
    assert (t.drive_minutes, t.fleet.mobile_units, t.costs.mobile_gbp_per_day) == (45, 0, 1.0)
    assert t.costs.static_install_gbp == s.costs.static_install_gbp  # merged
    assert s.drive_minutes == 60  # the original is unchanged
    with pytest.raises(ScenarioError, match="did you mean 'drive_minutes'"):
        s.with_overrides({"drive_mins": 45})
    with pytest.raises(ScenarioError, match="did you mean 'fleet'"):
        s.with_overrides({"flet.mobile_units": 1})
    with pytest.raises(ScenarioError, match="greater than 0"):
        s.with_overrides({"drive_minutes": 0})


def test_yaml_round_trip(tmp_path: Path) -> None:
    s = Scenario.from_yaml(SCENARIOS / "mobile_led.yaml")
    out = s.to_yaml(tmp_path / "resolved.yaml", extra={"netplan_version": "test"})
    doc = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert doc["provenance"] == {"netplan_version": "test"}
    del doc["provenance"]
    again = Scenario.from_dict(doc)
    assert again.to_dict() == s.to_dict()
    assert "extends" not in doc  # resolved: no reference to the base left


def test_sweep_variants() -> None:
    assert parse_set("fleet.mobile_units=0, 4") == ("fleet.mobile_units", [0, 4])
    variants = sweep_variants(Scenario(name="e"), ["drive_minutes=45,60", "fleet.mobile_units=0,4"])
    assert [v.name for v in variants] == [
        "e-drive_minutes=45-mobile_units=0",
        "e-drive_minutes=45-mobile_units=4",
        "e-drive_minutes=60-mobile_units=0",
        "e-drive_minutes=60-mobile_units=4",
    ]
    assert [v.drive_minutes for v in variants] == [45, 45, 60, 60]
    with pytest.raises(ScenarioError, match="KEY=V1,V2"):
        parse_set("drive_minutes")
    with pytest.raises(ScenarioError, match="did you mean 'drive_minutes'"):
        sweep_variants(Scenario(), ["drive_minute=45"])


# ------------------------------------------------------------------ runs (small, real data)
@pytest.fixture(scope="module")
def small_result():
    return Scenario.from_yaml(SMALL).run()


def test_small_run_figures_are_consistent(small_result) -> None:
    r = small_result
    t = r.totals
    zones = r.zones
    assert t["zones"] == len(zones)
    assert len(zones) > 0
    assert set(zones["name"].str[:7]) == {"Rutland"}
    assert t["population"] == int(zones["population"].sum())
    # coverage is monotone in the threshold and matches the per-zone minutes
    shares = [t[f"share_within_{m}_min"] for m in (30, 45, 60, 90)]
    assert shares == sorted(shares)
    within_30 = zones.loc[zones["nearest_open_minutes"] <= 30, "population"].sum()
    assert t["population_within_30_min"] == round(within_30)
    # capacity covers the assigned demand under the utilisation ceiling
    open_sites = r.sites[r.sites["open"]]
    assert t["sites_open"] == len(open_sites) >= 1
    assert (
        open_sites["assigned_scans_per_year"] <= 0.85 * open_sites["capacity_scans_per_year"] + 1e-6
    ).all()
    assert t["demand_scans_per_year"] == pytest.approx(zones["scans_per_year"].sum(), abs=0.1)
    assert t["cost_per_scan_gbp"] == pytest.approx(
        t["annual_cost_gbp"] / t["assigned_scans_per_year"], rel=1e-3
    )
    # tracer: the only cyclotron supplies every open site
    cyc = r.cyclotrons.set_index("cyclotron_id")
    assert cyc.loc["oakham_cyc", "sites_primary"] == len(open_sites)
    assert cyc.loc["oakham_cyc", "doses_per_day"] == pytest.approx(
        open_sites["assigned_scans_per_year"].sum() / r.scenario.scanners.working_days_per_year
    )
    # coverage table: England row equals the headline
    row = r.coverage.set_index("level").loc["all"]
    assert row["within_30_min"] == t["population_within_30_min"]
    assert r.provenance["network_key"]
    assert set(r.provenance["data_versions"]) >= {"osm-rutland", "ons-lsoa-population"}
    summary = r.summary()
    assert summary.index.tolist() == ["rutland_small"]


def test_coverage_by_imd_quintile_adds_up_to_england(small_result) -> None:
    r = small_result
    zones, cov = r.zones, r.coverage
    assert zones["imd_quintile"].notna().all()
    imd = cov[cov["level"] == "imd_quintile"]
    england = cov.set_index("level").loc["all"]
    assert len(imd) == zones["imd_quintile"].nunique() >= 1
    assert imd["population"].sum() == england["population"] == r.totals["population"]
    assert imd["scans_per_year"].sum() == pytest.approx(england["scans_per_year"], abs=0.01)
    # demand served within the standard: the assigned scans of the open sites
    assert imd["served_scans_per_year"].sum() == pytest.approx(
        r.totals["assigned_scans_per_year"], abs=0.1
    )
    assert england["share_served_within_standard"] == pytest.approx(
        r.totals["assigned_scans_per_year"] / r.totals["demand_scans_per_year"], abs=1e-4
    )
    # the England mean drive time is the quintiles' population-weighted mean
    has = zones["minutes"].notna()
    w = zones[has].groupby("imd_quintile")["population"].sum()
    means = imd.assign(q=imd["name"].str[1].astype(int)).set_index("q")["mean_assigned_minutes"]
    assert float((w * means).sum() / w.sum()) == pytest.approx(
        england["mean_assigned_minutes"], abs=1e-2
    )


def test_placement_model_is_the_one_run_solves(small_result) -> None:
    s = Scenario.from_yaml(SMALL)
    model = s.placement_model()
    assert model.n_sites == 3
    assert model.n_zones == small_result.totals["zones"]
    assert model.drive_minutes == 30
    res = model.solve(solver=s.solver.name, time_limit_s=s.solver.time_limit_s)
    assert res.totals["annual_cost_gbp"] == pytest.approx(small_result.totals["annual_cost_gbp"])
    assert s.placement_model(merge_zones=False).n_groups == model.n_zones
    with pytest.raises(TypeError):
        s.placement_model(no_such_option=1)


def test_unknown_site_id_is_named_with_file_and_key(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "bad_site.yaml",
        {"extends": str(SMALL), "name": "bad", "sites": {"lock_open": ["OAKHAMM", "ZZZ99"]}},
    )
    with pytest.raises(ScenarioError) as info:
        Scenario.from_yaml(path).run()
    text = str(info.value)
    assert str(path) in text
    assert "sites.lock_open" in text
    assert "'OAKHAMM' (did you mean 'OAKHAM'?)" in text
    assert "'ZZZ99'" in text


def test_infeasible_standard_is_explained(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "strict.yaml",
        {"extends": str(SMALL), "name": "strict", "drive_minutes": 2, "allow_uncovered": False},
    )
    with pytest.raises(InfeasibleError, match=r"drive_minutes = 2 cannot be met: .* zone\(s\)"):
        Scenario.from_yaml(path).run()


def test_unnamed_variant_takes_its_file_name(tmp_path: Path) -> None:
    path = _write(tmp_path, "longer_drive.yaml", {"extends": str(SMALL), "drive_minutes": 40})
    assert Scenario.from_yaml(path).name == "longer_drive"


# ------------------------------------------------------------------ candidate eligibility
def test_small_run_writes_candidates_csv(small_result, tmp_path: Path) -> None:
    import pandas as pd

    from netplan import data

    paths = small_result.to_folder(tmp_path / "out")
    cand = pd.read_csv(paths["candidates"], dtype={"id": str})
    sites_csv = pd.read_csv(paths["sites"], dtype={"site_id": str})
    # a row per hospital of the NHS.uk list in England (2 lie outside) and per user site
    assert len(cand) == len(data.load_hospitals()) - 2 + 3
    assert cand["id"].is_unique
    assert {"id", "eligible", "status", "reason", "opened", "is_contract"} <= set(cand.columns)
    extra = cand.set_index("id").loc[["OAKHAM", "UPPINGHAM", "EMPINGHAM"]]
    assert (extra["status"] == "extra").all()
    # sites.candidates: none leaves every eligible hospital out, each saying so
    offered = cand[cand["status"] == "not_offered"]
    assert len(offered) == 208
    assert offered["reason"].str.startswith("left out by sites.candidates = 'none'").all()
    # opened agrees with sites.csv
    opened = cand.set_index("id")["opened"]
    plan = sites_csv.set_index("site_id")["open"]
    assert (opened.loc[plan.index] == plan).all()
    assert not opened.drop(plan.index).any()
    html = paths["report"].read_text(encoding="utf-8")
    assert "Candidate hospitals: the NHS.uk list holds 1,207 hospitals in England" in html
    assert "candidates.csv" in html


def test_scenario_eligibility_overrides() -> None:
    from netplan import sites
    from netplan.scenario.pipeline import _candidate_table, _sites_and_cyclotrons

    s = Scenario(name="x")
    assert s.sites.eligibility == defaults.get("sites.eligibility") == "pet_ct_host"
    assert s.sites.contract_preference.install_saving is True
    assert s.sites.contract_preference.lock is False
    t = s.with_overrides(
        {
            "sites.include": ["RCBP9"],
            "sites.lock_open": ["RHW03"],
            "sites.forbid": ["RJ122", "RHU10"],
            "sites.exclude": ["RR801"],
        }
    )
    table = _candidate_table(t, forbid=True).set_index("id")
    assert table.loc["RCBP9", "status"] == "included"
    assert "scenario override (sites.include)" in table.loc["RCBP9", "reason"]
    assert table.loc["RHW03", "status"] == "included"
    assert "scenario override (sites.lock_open)" in table.loc["RHW03", "reason"]
    for ods in ("RJ122", "RHU10", "RR801"):
        assert table.loc[ods, "status"] == "forbidden"
    assert "sites.forbid" in table.loc["RJ122", "reason"]
    cands, _ = _sites_and_cyclotrons(t, sites)
    ids = set(cands["id"])
    assert {"RCBP9", "RHW03"} <= ids
    assert {"RJ122", "RHU10"} <= ids  # forbidden: kept in the model as closed sites
    assert "RR801" not in ids  # excluded: removed
    assert cands.set_index("id")["install_saving"].eq(cands.set_index("id")["is_contract"]).all()
    # the old filter and no rule
    old, _ = _sites_and_cyclotrons(s.with_overrides({"sites.eligibility": "all_acute"}), sites)
    assert len(old) == 306
    with pytest.raises(ScenarioError, match=r"sites\.eligibility"):
        s.with_overrides({"sites.eligibility": "acute"})
    # contract preference
    pref = s.with_overrides({"sites.contract_preference": {"lock": True, "install_saving": False}})
    cands, _ = _sites_and_cyclotrons(pref, sites)
    by_id = cands.set_index("id")
    assert by_id.loc[by_id["is_contract"], "locked"].all()
    assert int(by_id["locked"].sum()) == 28
    assert not by_id["install_saving"].any()
    clash = pref.with_overrides({"sites.forbid": ["RJE01"]})
    with pytest.raises(ScenarioError, match=r"contract_preference.lock.*RJE01"):
        _sites_and_cyclotrons(clash, sites)


def test_candidate_table_built_once_per_scenario(monkeypatch: pytest.MonkeyPatch) -> None:
    from netplan.scenario import pipeline

    calls = []
    build = pipeline._build_candidate_table
    monkeypatch.setattr(pipeline, "_build_candidate_table", lambda *a: calls.append(1) or build(*a))
    t = Scenario(name="x").with_overrides({"sites.forbid": ["RJ122"]})
    plain = pipeline._candidate_table(t).set_index("id")
    marked = pipeline._candidate_table(t, forbid=True).set_index("id")
    again = pipeline._candidate_table(t).set_index("id")
    assert len(calls) == 1
    # the forbid marks go on a copy: the plain table is the same each time
    assert plain.loc["RJ122", "status"] == again.loc["RJ122", "status"] != "forbidden"
    assert marked.loc["RJ122", "status"] == "forbidden"
    assert (marked.drop("RJ122")["status"] == plain.drop("RJ122")["status"]).all()
    other = t.model_copy(update={"sites": t.sites.model_copy(update={"forbid": []})})
    pipeline._candidate_table(other)  # other rules: built again
    assert len(calls) == 2


def test_placement_model_reads_install_saving_and_locked() -> None:
    from placement_inputs import UNIT_ECONOMICS, od_table, sites, zones

    from netplan.optimise import PlacementModel

    # S1 is a contract site 40 min away, S2 a new site 10 min away; install 500 -> 50/yr
    od = od_table({("a", "S1"): 40, ("a", "S2"): 10})
    kw = {**UNIT_ECONOMICS, "install_gbp": 500, "mobile_gbp_per_day": 1000}

    def solve(**cols):
        sit = sites(["S1", "S2"], is_contract=[True, False], **cols)
        return PlacementModel.from_od(od, zones({"a": 50}), sit, **kw).solve()

    assert solve().open_sites == ["S1"]  # the saving makes the contract site cheaper
    r = solve(install_saving=[False, False])  # no saving: equal cost, the nearer site
    assert r.totals["install_gbp_per_year"] == pytest.approx(50)
    r = solve(install_saving=[True, False], locked=[False, True])
    assert "S2" in r.open_sites
    assert r.totals["annual_cost_gbp"] == pytest.approx(250)
