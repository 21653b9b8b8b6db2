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
    assert len(candidates) == 208  # 306 with the filter before the PET-CT rule (all_acute)
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
    assert not names.str.contains(
        "Mental Health|Community|Eye|Orthopaedic|Rehabilitation|War Memorial|Cottage|"
        "Children|Women|Dental|Hospice|Treatment Centre"
    ).any()
    assert "RJ122" in set(candidates["id"])  # St Thomas'


# ----------------------------------------------------------------------------- eligibility
@pytest.fixture(scope="module")
def table():
    return sites.candidate_table()


def test_candidate_table_shape_and_counts(table):
    assert list(table.columns) == [*sites.TABLE_COLUMNS, "geometry"]
    assert table["id"].is_unique
    assert set(table["status"]) <= set(sites.STATUSES)
    # one row per hospital of the list in England: 1,209 with coordinates, 2 outside England
    # (a Wrexham hospital and an Isles of Scilly site beyond the simplified ICB polygons)
    assert len(table) == len(data.load_hospitals()) - 2 == 1_207
    counts = table["status"].value_counts().to_dict()
    assert counts == {"excluded": 996, "candidate": 180, "contract": 28, "duplicate": 3}
    assert sum(counts.values()) == len(table)
    eligible = table["status"].isin(["contract", "candidate", "included", "extra"])
    assert (table["eligible"] == eligible).all()
    assert int(table["eligible"].sum()) == 208
    assert (table["reason"].str.len() > 5).all()
    assert set(table.loc[table["eligible"], "rule"]) == {"contract", "acute", "cancer_centre"}
    assert set(table["rule"]) <= set(sites.RULE_LABELS) | {"contract"}
    # candidate_sites() is the eligible rows, with its usual columns
    cands = sites.candidate_sites_from_table(table)
    assert set(cands["id"]) == set(table.loc[table["eligible"], "id"])
    assert list(cands.columns) == [*sites.CANDIDATE_COLUMNS, "geometry"]


@pytest.mark.parametrize(
    ("ods", "rule", "reason"),
    [
        ("RHW03", "eye", "eye hospital or unit"),  # Prince Charles Eye Unit, Windsor
        ("RCBP9", "rehabilitation", "rehabilitation hospital"),  # White Cross, York
        ("RHU10", "memorial", "war-memorial or memorial community hospital"),  # Gosport
        ("RAN01", "orthopaedic", "specialist orthopaedic hospital"),  # RNOH Stanmore
        ("RAN02", "orthopaedic", "specialist orthopaedic hospital"),  # RNOH Bolsover Street
        ("RBZ98", "community", "community hospital (NHS.uk address or web page)"),  # Torrington
        ("RNNBE", "community", "community hospital (NHS.uk address or web page)"),  # Penrith
        ("RCB05", "community", "community hospital, Easingwold"),  # St Monicas
        ("RNA04", "outpatient", "Stourbridge"),  # Corbett
        ("RGM21", "heart_chest", "specialist heart and chest hospital"),  # Royal Papworth
        ("RP401", "children", "children's hospital"),  # Great Ormond Street
        ("RDEEB", "closed", "Colchester General"),  # Essex County Hospital
        ("NT211", "independent", "not an NHS trust hospital"),
    ],
)
def test_rule_excludes_non_hosts_with_their_reason(table, ods, rule, reason):
    row = table.set_index("id").loc[ods]
    assert not row["eligible"]
    assert row["status"] == "excluded"
    assert row["rule"] == rule
    assert reason in row["reason"]


@pytest.mark.parametrize(
    ("ods", "rule"),
    [
        ("RR801", "acute"),  # Leeds General Infirmary
        ("RJ122", "acute"),  # St Thomas'
        ("RXPDA", "acute"),  # Darlington Memorial: acute despite its name
        ("RBV01", "cancer_centre"),  # The Christie
        ("RPY01", "cancer_centre"),  # The Royal Marsden (London)
        ("RAS02", "cancer_centre"),  # Mount Vernon Cancer Centre
        ("R1K01", "acute"),  # Northwick Park: NHS.uk says Independent Sector
        ("R0A02", "acute"),  # Manchester Royal Infirmary: Independent Sector, UNKNOWN
    ],
)
def test_acute_hospitals_and_cancer_centres_are_eligible(table, ods, rule):
    row = table.set_index("id").loc[ods]
    assert row["eligible"]
    assert row["status"] == "candidate"
    assert row["rule"] == rule


def test_every_contract_site_is_eligible(table, contract):
    rows = table.set_index("id").loc[contract["id"]]
    assert rows["eligible"].all()
    assert (rows["status"] == "contract").all()
    assert rows["is_contract"].all()
    assert int(table["is_contract"].sum()) == 28
    # Broadgreen is listed as Independent Sector, yet is a contract site
    assert rows.loc["REMAH", "status"] == "contract"
    assert (rows["lot"] == contract.set_index("id")["lot"]).all()


def test_duplicates_name_the_site_they_merge_into(table):
    row = table.set_index("id").loc["RBL20"]  # Clatterbridge Hospital, same campus as REN20
    assert row["status"] == "duplicate"
    assert not row["eligible"]
    assert "REN20" in row["reason"]
    assert "within 250 m" in row["reason"]


def test_no_acute_hospital_of_the_old_filter_is_lost(table):
    old = sites.candidate_table(eligibility="all_acute")
    assert int(old["eligible"].sum()) == 306  # the filter before the rule, unchanged
    lost = table.set_index("id").loc[sorted(set(old.loc[old["eligible"], "id"]) -
                                            set(table.loc[table["eligible"], "id"]))]  # fmt: skip
    # every newly excluded site says why, by a rule or a curated role
    assert (lost["status"] == "excluded").all()
    assert not lost["rule"].isin(["acute", "cancer_centre"]).any()
    # the ones with big-hospital words are the reviewed list (community, outpatient,
    # orthopaedic and heart-and-chest sites; see data/site_roles.csv)
    big = lost[lost["name"].str.contains("General|Royal|Universit|Infirmary", case=False)]
    assert set(big["rule"]) <= {"community", "outpatient", "orthopaedic", "heart_chest"}
    assert len(big) == 15


def test_include_overrides_the_rule_and_exclude_forbids():
    t = sites.candidate_table(include=["RHW03"], exclude=["RJ122"]).set_index("id")
    assert t.loc["RHW03", "status"] == "included"
    assert t.loc["RHW03", "eligible"]
    assert "scenario override (include)" in t.loc["RHW03", "reason"]
    assert "eye hospital or unit" in t.loc["RHW03", "reason"]
    assert t.loc["RJ122", "status"] == "forbidden"
    assert not t.loc["RJ122", "eligible"]
    mapped = sites.candidate_table(include={"RHW03": "sites.lock_open"}).set_index("id")
    assert "scenario override (sites.lock_open)" in mapped.loc["RHW03", "reason"]
    cands = sites.candidate_sites(include=["RHW03"])
    assert "RHW03" in set(cands["id"])
    assert len(cands) == 209


def test_lock_of_an_excluded_site_says_why():
    with pytest.raises(ValidationError, match=r"lock.*RHW03: excluded, eye hospital or unit"):
        sites.candidate_sites(lock=["RHW03"])


def test_eligibility_none_keeps_every_hospital():
    t = sites.candidate_table(eligibility="none")
    assert set(t["status"]) == {"contract", "candidate", "duplicate"}
    with pytest.raises(ValidationError, match="eligibility must be one of"):
        sites.candidate_table(eligibility="acute_only")


def test_classify_on_toy_rows():
    h = pd.DataFrame(
        {
            "id": ["RX101", "RX102", "RX103", "RX104", "NT101", "RY101"],
            "name": ["Town General", "Town Eye Unit", "Town Cancer Centre", "Town Hospital",
                     "Spire Town", "Town Hospital"],
            "sector": ["NHS Sector"] * 3 + ["Independent Sector"] * 2 + ["NHS Sector"],
            "sub_type": "Hospital",
            "parent_ods": ["RX1"] * 4 + ["NT1", "RY1"],
            "parent_name": ["Town Hospitals NHS Trust"] * 4 + ["Spire", "Town Community NHS"],
            "website": ["", "", "", "", "", ""],
        }
    )  # fmt: skip
    roles = pd.DataFrame(columns=sites._eligibility.ROLE_COLUMNS)
    got = sites.classify_hospitals(h, roles=roles)["rule"].tolist()
    assert got == ["acute", "eye", "cancer_centre", "not_nhs_hospital", "independent",
                   "non_acute_trust"]  # fmt: skip
    rescue = pd.DataFrame([{"id": "RX104", "name": "Town Hospital", "role": "acute",
                            "reason": "acute, mislabelled", "confidence": "H"}])  # fmt: skip
    out = sites.classify_hospitals(h, roles=rescue).set_index(h["id"])
    assert out.loc["RX104", "eligible"]
    assert out.loc["RX104", "reason"] == "acute, mislabelled"
    assert sites.classify_hospitals(h, "none")["eligible"].all()
    # the filter before the rule let eye *units* through (only "Eye Hospital|Eye Infirmary")
    old = sites.classify_hospitals(h, "all_acute")["eligible"].tolist()
    assert old == [True, True, True, False, False, False]


def test_site_roles_are_hospitals_of_the_list():
    roles = sites.load_site_roles()
    hospitals = data.load_hospitals().set_index("id")
    assert roles["id"].isin(hospitals.index).all()
    listed = hospitals.loc[roles["id"], "name"].str.strip().to_numpy()
    assert (roles["name"] == listed).all()
    assert set(roles["role"]) <= set(sites._eligibility.ROLES)


def test_bad_site_roles_raise(tmp_path):
    path = tmp_path / "roles.csv"
    path.write_text("id,name,role,reason,confidence\nRX1,x,spa,,Q\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"role outside.*confidence outside.*no reason"):
        sites.load_site_roles(path)


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
