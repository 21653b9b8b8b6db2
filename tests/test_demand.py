"""Tests for netplan.demand and the documented defaults, on the real ONS totals."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from netplan import ValidationError, data, defaults, demand

ENGLAND_LSOAS = 32_844
ENGLAND_POPULATION = 55_977_178


@pytest.fixture(scope="module")
def zones() -> gpd.GeoDataFrame:
    return demand.load_zones()


@pytest.fixture
def toy() -> gpd.GeoDataFrame:
    df = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "name": ["Adur 001A", "Adur 001B", "Leeds 001A"],
            "population": [1000, 3000, 6000],
            "lon": [-0.3, -0.31, -1.5],
            "lat": [50.83, 50.84, 53.8],
        }
    )
    return demand.zones_from_points(df)


# ----------------------------------------------------------------------------- zones
def test_zones_real_totals(zones):
    assert len(zones) == ENGLAND_LSOAS
    assert zones["id"].is_unique
    assert int(zones["population"].sum()) == ENGLAND_POPULATION
    assert zones["icb_code"].nunique() == 42
    assert zones["subicb_code"].nunique() == 106
    assert list(zones.columns) == demand.ZONE_COLUMNS
    assert zones.crs.to_epsg() == 4326
    assert zones[["msoa_name", "icb_code", "icb_name", "lot"]].notna().all().all()


def test_zone_lots_cover_phase1_share(zones):
    pop = zones.groupby("lot")["population"].sum()
    assert set(pop.index) == {*demand.LOTS, demand.OUTSIDE_LOTS}
    share = pop.drop(demand.OUTSIDE_LOTS).sum() / ENGLAND_POPULATION
    # LGC 5082106: the four Phase 1 lots cover about 53-58 % of England
    assert 0.53 <= share <= 0.58
    assert int(pop.drop(demand.OUTSIDE_LOTS).sum()) == 31_573_136
    london = zones[zones["icb_name"].str.contains("London")]
    assert (london["lot"] == demand.OUTSIDE_LOTS).all()


def test_icb_lots_file_matches_lookup(zones):
    lots = demand.load_icb_lots()
    assert len(lots) == 42
    assert set(lots["icb_code"]) == set(zones["icb_code"])
    pop = zones.groupby("icb_code")["population"].sum()
    assert lots.set_index("icb_code")["population_2018"].to_dict() == pop.to_dict()
    assert lots["reasoning"].str.len().min() > 20


def test_msoa_names_match_age_bands(zones):
    bands = data.load_msoa_age_bands()
    missing = set(zones["msoa_name"]) - set(bands["msoa_name"])
    assert missing == {"Isles of Scilly 001"}


# ----------------------------------------------------------------------------- defaults
def test_imd_quintiles_hold_a_fifth_of_england_each(zones):
    q = demand.imd_quintiles(zones)
    assert q.dtype == "Int64"
    # only the Isles of Scilly (no MSOA in the ONS table) have no score
    assert zones.loc[q.isna(), "name"].str.startswith("Isles of Scilly").all()
    assert int(zones.loc[q.isna(), "population"].sum()) < 5_000
    share = zones.groupby(q)["population"].sum() / zones["population"].sum()
    assert share.index.tolist() == [1, 2, 3, 4, 5]
    assert share.to_numpy() == pytest.approx([0.2] * 5, abs=0.002)
    # quintile 1 is the most deprived: the scores fall from quintile 1 to 5
    imd = data.load_msoa_imd().set_index("msoa_name")["imd_2019_score"]
    mean_score = zones["msoa_name"].map(imd).groupby(q).mean()
    assert mean_score.is_monotonic_decreasing
    # the zones of one MSOA share a quintile
    assert (zones.assign(q=q).groupby("msoa_name")["q"].nunique(dropna=False) == 1).all()


def test_imd_quintiles_are_national_for_a_study_area(zones):
    rutland = zones[zones["name"].str.startswith("Rutland")]
    local = demand.imd_quintiles(rutland)
    national = demand.imd_quintiles(zones).loc[rutland.index]
    assert local.tolist() == national.tolist()
    # Rutland is among the least deprived places in England
    assert local.astype(float).mean() > 3.5


def test_imd_quintiles_hand_solved():
    imd = pd.DataFrame(
        {"msoa_name": ["A 001", "A 002", "A 003"], "imd_2019_score": [40.0, 20.0, 10.0]}
    )
    # populations 50 / 30 / 20 %: midpoints 0.25, 0.65, 0.9 -> quintiles 2, 4, 5
    ref = pd.DataFrame(
        {"name": ["A 001A", "A 002A", "A 003A", "B 001A"], "population": [50, 30, 20, 7]}
    )
    q = demand.imd_quintiles(ref, imd=imd, reference=ref)
    assert q.iloc[:3].tolist() == [2, 4, 5]
    assert q.isna().iloc[3]  # MSOA B 001 has no score
    assert q.attrs["thresholds"][:2] == [np.inf, 40.0]


def test_defaults_every_entry_sourced():
    table = defaults.describe()
    assert set(table["section"]) == set(defaults.SECTIONS)
    assert table["source"].str.len().min() > 10
    assert set(table["confidence"]) <= {"H", "M", "L"}
    assert table["key"].is_unique


def test_default_tracer_mix_is_2017_production_share():
    d = defaults.load_defaults()["demand"]
    doses = d["tracer_production_doses"]
    total_2017 = sum(v[2017] for v in doses.values())
    assert total_2017 == 101_590
    for tracer, share in d["tracer_mix"].items():
        assert share == pytest.approx(doses[tracer][2017] / total_2017, abs=5e-6)
    total_2016 = sum(v[2016] for v in doses.values())
    assert d["annual_growth"] == pytest.approx(total_2017 / total_2016 - 1, abs=5e-4)
    for tracer, rate in d["tracer_growth"].items():
        raw = doses[tracer][2017] / doses[tracer][2016] - 1
        assert rate == pytest.approx(min(raw, d["max_tracer_growth"]), abs=5e-4)


def test_default_rate_is_contract_scans_over_lot_population(zones):
    in_lots = zones.loc[zones["lot"] != demand.OUTSIDE_LOTS, "population"].sum()
    rate = defaults.get("demand.rate_per_1000")
    scans = defaults.get("demand.scans_delivered")[2017]
    assert rate == pytest.approx(scans / in_lots * 1000, abs=0.005)


# ----------------------------------------------------------------------------- model
def test_base_year_total_equals_rate_times_population(zones):
    p = demand.DemandParams.from_defaults()
    out = demand.estimate_demand(zones, p, year=p.base_year)
    expected = ENGLAND_POPULATION * p.rate_per_1000 / 1000
    assert out["scans_per_year"].sum() == pytest.approx(expected, rel=1e-12)
    assert out["scans_per_year"].sum() == pytest.approx(124_269.33516, rel=1e-9)
    per_zone = zones["population"] * p.rate_per_1000 / 1000
    pd.testing.assert_series_equal(out["scans_per_year"], per_zone, check_names=False)
    tracer_cols = [f"scans_{t}" for t in p.tracer_mix]
    assert out[tracer_cols].sum(axis=1).equals(out["scans_per_year"])
    assert out["scans_fdg"].sum() == pytest.approx(expected * p.tracer_mix["fdg"])
    assert isinstance(out, gpd.GeoDataFrame)
    assert len(out) == ENGLAND_LSOAS


def test_age_weighting_keeps_national_total_and_moves_demand(zones):
    p = demand.DemandParams.from_defaults(age_weighting=True, year=2017)
    out = demand.estimate_demand(zones, p)
    assert out["scans_per_year"].sum() == pytest.approx(
        ENGLAND_POPULATION * p.rate_per_1000 / 1000, rel=1e-9
    )
    weighted_mean = (out["age_factor"] * out["population"]).sum() / ENGLAND_POPULATION
    assert weighted_mean == pytest.approx(1.0, rel=1e-12)
    # the oldest MSOA gets a higher factor than the youngest
    bands = data.load_msoa_age_bands().set_index("msoa_name")
    bands = bands[bands.index.isin(set(zones["msoa_name"]))]
    older = (bands["age_65_79"] + bands["age_80_plus"]) / bands["all_persons"]
    f = out.groupby("msoa_name")["age_factor"].first()
    assert f[older.idxmax()] > 1.3 > 0.8 > f[older.idxmin()]


def test_age_factors_hand_solved(toy):
    bands = pd.DataFrame(
        {
            "msoa_name": ["Adur 001", "Leeds 001"],
            "all_persons": [100, 100],
            "age_0_64": [100, 50],
            "age_65_79": [0, 50],
            "age_80_plus": [0, 0],
        }
    )
    w = {"age_0_64": 1.0, "age_65_79": 3.0, "age_80_plus": 3.0}
    f = demand.age_factors(toy, w, age_bands=bands)
    # raw factors 1, 1, 2; population-weighted mean (4000*1 + 6000*2)/10000 = 1.6
    assert f.tolist() == pytest.approx([1 / 1.6, 1 / 1.6, 2 / 1.6])


def test_growth_total_mode_compounds(toy):
    p = demand.DemandParams(
        year=2027, base_year=2017, rate_per_1000=2.0, growth_mode="total", annual_growth=0.1
    )
    out = demand.estimate_demand(toy, p)
    assert out["scans_per_year"].sum() == pytest.approx(20.0 * 1.1**10)
    back = demand.estimate_demand(toy, p, year=2015)
    assert back["scans_per_year"].sum() == pytest.approx(20.0 / 1.1**2)


def test_growth_by_tracer_compounds_each_tracer(zones):
    p = demand.DemandParams.from_defaults(year=2027)
    out = demand.estimate_demand(zones, p)
    base = ENGLAND_POPULATION * p.rate_per_1000 / 1000
    for tracer, share in p.tracer_mix.items():
        expected = base * share * (1 + p.tracer_growth[tracer]) ** 10
        assert out[f"scans_{tracer}"].sum() == pytest.approx(expected, rel=1e-9)
    assert out["scans_fdg"].sum() == pytest.approx(base * 0.9647 * 1.128**10, rel=1e-9)


def test_growth_year_table(toy):
    p = demand.DemandParams(
        year=2019, base_year=2017, rate_per_1000=1.0, annual_growth={2018: 0.5, 2019: 0.2}
    )
    assert p.growth_factor() == pytest.approx(1.8)
    assert demand.estimate_demand(toy, p)["scans_per_year"].sum() == pytest.approx(18.0)
    with pytest.raises(ValidationError, match=r"year\(s\) \[2020\]"):
        p.growth_factor(year=2020)


def test_params_frozen_and_serialisable():
    p = demand.DemandParams.from_defaults(rate_per_1000=3.0, tracer_mix={"18F-FDG": 1.0},
                                          growth_mode="total")  # fmt: skip
    assert p.tracer_mix == {"fdg": 1.0}
    assert p.to_dict()["rate_per_1000"] == 3.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.year = 2030  # type: ignore[misc]


# ----------------------------------------------------------------------------- aggregate
@pytest.mark.parametrize(
    ("level", "rows"), [("msoa", 6791), ("subicb", 106), ("icb", 42), ("lot", 5), ("england", 1)]
)
def test_aggregate_levels_keep_totals(zones, level, rows):
    p = demand.DemandParams.from_defaults()
    out = demand.aggregate(demand.estimate_demand(zones, p), level)
    assert len(out) == rows
    assert int(out["population"].sum()) == ENGLAND_POPULATION
    assert int(out["n_zones"].sum()) == ENGLAND_LSOAS
    assert out["id"].is_unique
    assert out.crs.to_epsg() == 4326
    assert out["lon"].between(-6.5, 2).all()


def test_aggregate_hand_solved(toy):
    toy = toy.assign(msoa_name=demand.msoa_name_of(toy["name"]))
    out = demand.aggregate(toy, "msoa").set_index("id")
    assert out.loc["Adur 001", "population"] == 4000
    assert out.loc["Adur 001", "lon"] == pytest.approx((-0.3 * 1000 - 0.31 * 3000) / 4000)


# ----------------------------------------------------------------------------- bad input
def _zones_table(**changes):
    df = pd.DataFrame(
        {"id": ["a", "b", "c"], "population": [10, 20, 30],
         "lon": [-1.5, -1.6, -1.7], "lat": [53.8, 53.7, 53.6]}
    )  # fmt: skip
    for col, values in changes.items():
        df[col] = values
    return df


@pytest.mark.parametrize(
    ("table", "match"),
    [
        (_zones_table(id=["a", "a", "c"]), r"duplicate 'id'.*a"),
        (_zones_table(population=[10, 0, 30]), r"zero, negative or missing in row\(s\) b"),
        (_zones_table(population=[10, 20, -3]), r"row\(s\) c"),
        (_zones_table(lon=[-1.5, None, -1.7]), r"'lon' is missing.*b"),
        (_zones_table(lon=[53.8, -1.6, -1.7], lat=[-1.5, 53.7, 53.6]), r"swapped"),
        (_zones_table(lon=[-1.5, -1.6, 10.0]), r"outside Great Britain"),
        (_zones_table().drop(columns="population"), r"missing column"),
    ],
)
def test_bad_zones_raise(table, match):
    with pytest.raises(ValidationError, match=match):
        demand.zones_from_points(table)
    with pytest.raises(ValidationError, match=match):
        demand.estimate_demand(table, demand.DemandParams(2017, 2017, 1.0))


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"tracer_mix": {"fdg": 0.9, "psma": 0.1}}, r"unknown tracer.*psma"),
        ({"tracer_mix": {"fdg": 0.5}}, "sum to 1"),
        ({"tracer_growth": {"fdg": 0.1, "gallium": 0.1}}, "gallium"),
        ({"tracer_mix": {"fdg": 0.9, "naf": 0.1}, "tracer_growth": {"fdg": 0.1}}, r"\['naf'\]"),
        ({"rate_per_1000": -1}, "rate_per_1000"),
        ({"annual_growth": -1.5}, "> -1"),
        ({"growth_mode": "linear"}, "growth_mode"),
        ({"age_weights": {"age_0_64": 1}}, "age_weights"),
        ({"rate": 2.0}, r"unknown demand parameter.*rate_per_1000"),
    ],
)
def test_bad_params_raise(overrides, match):
    with pytest.raises(ValidationError, match=match):
        demand.DemandParams.from_defaults(**overrides)


def test_unknown_level_raises(toy):
    with pytest.raises(ValidationError, match="unknown aggregation level 'region'"):
        demand.aggregate(toy, "region")


def test_icb_lots_unknown_lot_raises(tmp_path):
    bad = demand.load_icb_lots()
    bad.loc[0, "lot"] = "Midlands"
    path = tmp_path / "lots.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(ValidationError, match=r"unknown lot.*Midlands"):
        demand.load_icb_lots(path)
