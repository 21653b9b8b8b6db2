"""Tests for netplan.sites: contract sites, candidate hospitals, cyclotrons, lots."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from netplan import ValidationError, data, demand, settings, sites

CONTRACT_BY_LOT = {
    "North West": ["Broadgreen", "Clatterbridge Cancer Centre", "Royal Stoke University Hospital"],
    "North East, Yorkshire & the Humber": [
        "Bradford Royal Infirmary", "Castle Hill", "Cumberland Infirmary",
        "James Cook University Hospital", "Lincoln County", "Freeman", "Northern General",
        "St James's (Leeds)",
    ],
    "Birmingham, East Midlands & East Anglia": [
        "Addenbrooke's", "Colchester General", "Glenfield", "Norfolk & Norwich",
        "Northampton General", "Queen Elizabeth (Birmingham)", "University Hospital Coventry",
    ],
    "South & South West": [
        "Cobalt (Cheltenham)", "Poole", "Kent & Canterbury", "Maidstone", "Musgrove Park",
        "Plymouth Oncology Centre (Derriford)", "Portsmouth (Queen Alexandra)", "Royal Cornwall",
        "Southampton General", "Southmead",
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def contract():
    return sites.load_contract_sites()


@pytest.fixture(scope="module")
def candidates():
    return sites.candidate_sites()


# ----------------------------------------------------------------------------- contract
def test_contract_sites_28_by_lot(contract):
    assert len(contract) == 28
    assert contract["lot"].value_counts().to_dict() == {
        "North West": 3,
        "North East, Yorkshire & the Humber": 8,
        "Birmingham, East Midlands & East Anglia": 7,
        "South & South West": 10,
    }
    for lot, names in CONTRACT_BY_LOT.items():
        assert sorted(contract.loc[contract["lot"] == lot, "contract_name"]) == sorted(names)
    assert contract["id"].is_unique
    assert contract.crs.to_epsg() == 4326
    assert list(contract.columns[:7]) == sites.CONTRACT_COLUMNS


def test_contract_sites_match_nhs_list(contract):
    hospitals = data.load_hospitals().set_index("id")
    assert set(contract["ods_code"]) <= set(hospitals.index)
    matched = hospitals.loc[contract["id"]]
    np.testing.assert_allclose(contract["lon"], matched["lon"].astype(float), atol=1e-6)
    np.testing.assert_allclose(contract["lat"], matched["lat"].astype(float), atol=1e-6)
    assert contract.set_index("id").loc["RRK15", "name"] == "Queen Elizabeth Hospital Birmingham"
    assert contract.set_index("id").loc["RR813", "name"] == "St James's Hospital"
    # only Cobalt (no public coordinates) is approximate; every row says how it was matched
    assert contract.loc[contract["approximate"], "contract_name"].tolist() == [
        "Cobalt (Cheltenham)"
    ]
    assert contract["match_note"].str.len().min() > 10


def test_contract_lot_agrees_with_icb_mapping(contract):
    assert (contract["lot"] == contract["icb_code"].map(
        demand.load_icb_lots().set_index("icb_code")["lot"])).all()  # fmt: skip


# ----------------------------------------------------------------------------- candidates
def test_candidates_real_counts(candidates):
    assert 150 <= len(candidates) <= 400
    assert len(candidates) == 306
    assert candidates["id"].is_unique
    assert list(candidates.columns) == [*sites.CANDIDATE_COLUMNS, "geometry"]
    assert int(candidates["is_contract"].sum()) == 28
    assert candidates[["lot", "icb_code"]].notna().all().all()
    assert candidates["icb_code"].nunique() == 42
    assert not candidates["locked"].any()


def test_candidates_deduplicated(candidates):
    xy = candidates.to_crs(settings.projected_crs).geometry
    x, y = xy.x.to_numpy(), xy.y.to_numpy()
    d = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    np.fill_diagonal(d, np.inf)
    assert d.min() > sites.DEDUPLICATE_WITHIN_M
    # Clatterbridge Hospital (RBL20) shares the contract site's campus and is dropped
    assert "RBL20" not in set(candidates["id"])
    assert "REN20" in set(candidates["id"])


def test_candidates_filter_excludes_non_acute(candidates):
    names = candidates["name"]
    assert not names.str.contains("Mental Health|Community Hospital|Eye Hospital").any()
    assert "RJ122" in set(candidates["id"])  # St Thomas'


def test_candidates_include_exclude_lock_extra():
    extra = pd.DataFrame({"id": ["NEW1"], "name": ["New centre, Leeds"],
                          "lon": [-1.55], "lat": [53.80]})  # fmt: skip
    out = sites.candidate_sites(
        include=["NT211"], exclude=["RJ122"], lock=["RR813", "NEW1"], extra=extra
    ).set_index("id")
    assert "NT211" in out.index  # an independent hospital added on request
    assert "RJ122" not in out.index
    assert out.loc[["RR813", "NEW1"], "locked"].all()
    assert int(out["locked"].sum()) == 2
    assert out.loc["NEW1", "icb_code"] == "E54000054"  # West Yorkshire
    assert out.loc["NEW1", "lot"] == "North East, Yorkshire & the Humber"


def test_assign_icb_lot_known_points():
    pts = sites.validate_sites(
        pd.DataFrame({"id": ["leeds", "soho", "truro"], "name": ["a", "b", "c"],
                      "lon": [-1.52, -0.13, -5.07], "lat": [53.81, 51.51, 50.26]})
    ).set_index("id")  # fmt: skip
    assert pts.loc["leeds", "icb_code"] == "E54000054"
    assert pts.loc["soho", "lot"] == demand.OUTSIDE_LOTS
    assert pts.loc["truro", "lot"] == "South & South West"


# ----------------------------------------------------------------------------- cyclotrons
def test_cyclotrons_default_and_inactive():
    cy = sites.load_cyclotrons()
    assert sorted(cy["id"]) == ["guildford", "keele", "preston", "sutton"]
    assert cy["approximate"].all()
    assert (cy["daily_capacity_doses"] > 0).all()
    everything = sites.load_cyclotrons(include_inactive=True)
    assert len(everything) == 8
    assert not everything.set_index("id").loc["dinnington", "active_default"]
    assert everything["id"].is_unique


# ----------------------------------------------------------------------------- bad input
def _site_table(**changes):
    df = pd.DataFrame(
        {"id": ["A", "B", "C"], "name": ["a", "b", "c"],
         "lon": [-1.5, -2.2, -0.1], "lat": [53.8, 53.0, 51.5]}
    )  # fmt: skip
    for col, values in changes.items():
        df[col] = values
    return df


@pytest.mark.parametrize(
    ("table", "match"),
    [
        (_site_table(id=["A", "A", "C"]), r"duplicate 'id'.*A"),
        (_site_table(lat=[53.8, None, 51.5]), r"'lat' is missing.*B"),
        (_site_table(lon=[53.8, -2.2, -0.1], lat=[-1.5, 53.0, 51.5]), "swapped"),
        (_site_table(lon=[-3.18, -2.2, -0.1], lat=[51.48, 53.0, 51.5]), r"outside England.*A"),
        (_site_table(lon=[-1.5, -3.19, -0.1], lat=[53.8, 55.95, 51.5]), r"outside England.*B"),
        (_site_table(lon=[-1.5, -2.2, 12.0]), "outside Great Britain"),
        (_site_table().drop(columns="lon"), "missing column"),
    ],
)
def test_bad_sites_raise(table, match):
    with pytest.raises(ValidationError, match=match):
        sites.validate_sites(table)


def _write_contract(tmp_path, change):
    df = pd.read_csv(sites.CONTRACT_SITES_FILE, dtype=str)
    change(df)
    path = tmp_path / "contract.csv"
    df.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (
            lambda df: df.__setitem__("ods_code", df["ods_code"].replace("RJE01", "XXX99")),
            r"ODS code\(s\) \['XXX99'\]",
        ),
        (lambda df: df.__setitem__("id", df["id"].replace("RJE01", "REMAH")), "duplicate 'id'"),
        (
            lambda df: df.__setitem__("lot", df["lot"].replace("North West", "Mersey")),
            "lot outside",
        ),
        (lambda df: df.loc.__setitem__((0, "lat"), ""), r"'lat' is missing.*REMAH"),
    ],
)
def test_bad_contract_file_raises(tmp_path, change, match):
    with pytest.raises(ValidationError, match=match):
        sites.load_contract_sites(_write_contract(tmp_path, change))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"include": ["NOPE1"]}, r"include.*NOPE1"),
        ({"exclude": ["NOPE2"]}, r"exclude.*NOPE2"),
        ({"lock": ["NOPE3"]}, r"lock.*NOPE3"),
        ({"exclude": ["RJ122"], "lock": ["RJ122"]}, "both excluded and locked"),
        (
            {"extra": pd.DataFrame({"id": ["RJ122"], "name": ["x"], "lon": [-1.0], "lat": [52.0]})},
            "already exist",
        ),
    ],
)
def test_bad_candidate_options_raise(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        sites.candidate_sites(**kwargs)


def test_bad_cyclotron_capacity_raises(tmp_path):
    df = pd.read_csv(sites.CYCLOTRONS_FILE)
    df.loc[df["id"] == "keele", "daily_capacity_doses"] = 0
    path = tmp_path / "cyc.csv"
    df.to_csv(path, index=False)
    with pytest.raises(ValidationError, match=r"daily_capacity_doses.*keele"):
        sites.load_cyclotrons(path=path)
