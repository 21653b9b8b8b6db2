"""Where data enters the Python API: a table of bad inputs to the main constructors and
functions, and property-based tests (hypothesis) of the CSV, YAML and number validators.

Every bad input must raise a netplan error that is also a ``ValueError`` (or, for places
that cannot be written, an ``OSError``), with a message naming the option, row or key,
never a raw pydantic, shapely, numpy or pathlib error.
"""

from __future__ import annotations

import io
import math
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from netplan import NetplanError, ValidationError, _io, _validate, _yaml
from netplan.optimise import LSCP, MCLP, PlacementModel
from netplan.scenario import FleetSection, NetworkSection, Scenario

HERE = Path(__file__).resolve().parent


# ------------------------------------------------------------------------ a tiny model
def _model(
    od: pd.DataFrame | None = None,
    demand: pd.DataFrame | None = None,
    sites: pd.DataFrame | None = None,
    **options: Any,
) -> PlacementModel:
    od = (
        pd.DataFrame({"origin_id": ["a", "b"], "destination_id": ["S", "S"], "minutes": [10.0, 20]})
        if od is None
        else od
    )
    demand = (
        pd.DataFrame({"id": ["a", "b"], "scans_per_year": [100.0, 100.0]})
        if demand is None
        else demand
    )
    sites = pd.DataFrame({"id": ["S"]}) if sites is None else sites
    return PlacementModel.from_od(od, demand, sites, **options)


def _od(**column: list[Any]) -> pd.DataFrame:
    base = {"origin_id": ["a", "b"], "destination_id": ["S", "S"], "minutes": [10.0, 20.0]}
    base.update(column)
    return pd.DataFrame(base)


def _graph() -> Any:
    from netplan.network import graph_from_edge_list

    nodes = pd.DataFrame({"node": [1, 2], "lon": [-1.50, -1.40], "lat": [53.8, 53.8]})
    return graph_from_edge_list(nodes, pd.DataFrame({"u": [1], "v": [2], "length_km": [6.5]}))


def _points() -> pd.DataFrame:
    return pd.DataFrame({"id": ["p"], "lon": [-1.45], "lat": [53.8]})


def _set(obj: Any, name: str, value: Any) -> None:
    setattr(obj, name, value)


API_CASES: list[tuple[str, Callable[[], Any], str]] = [
    ("scenario-negative", lambda: Scenario(drive_minutes=-1), "drive_minutes: Input should be greater than 0"),
    ("scenario-bool", lambda: Scenario(drive_minutes=True), "drive_minutes: Input should be a valid number"),
    ("scenario-nan", lambda: Scenario(drive_minutes=math.nan), "drive_minutes: Input should be a finite number"),
    ("scenario-inf-cost", lambda: Scenario(costs={"mobile_gbp_per_day": math.inf}), "costs.mobile_gbp_per_day"),
    ("scenario-nested-type", lambda: Scenario(fleet={"mobile_units": "x"}), "fleet.mobile_units"),
    ("scenario-unknown-key", lambda: Scenario(drive_minute=30), "unknown key 'drive_minute'"),
    ("scenario-name-list", lambda: Scenario(name=["a"]), "name: Input should be a valid string"),
    ("scenario-float-id", lambda: Scenario(sites={"lock_open": [1.1]}), "sites.lock_open.0"),
    ("scenario-assign", lambda: _set(Scenario(), "drive_minutes", math.nan), "drive_minutes"),
    ("section-direct", lambda: NetworkSection(calibration=0), "NetworkSection: calibration"),
    ("section-assign", lambda: _set(FleetSection(), "mobile_units", -3), "mobile_units"),
    ("from-dict-bool", lambda: Scenario.from_dict({"drive_minutes": "yes"}), "YAML reads yes/no"),
    ("from-yaml-int", lambda: Scenario.from_yaml(123), "expected the path of a YAML file"),
    ("from-yaml-folder", lambda: Scenario.from_yaml(HERE), "is a folder, not a scenario file"),
    ("from-yaml-missing", lambda: Scenario.from_yaml("nowhere/x.yaml"), "not found"),
    ("overrides-bool", lambda: Scenario().with_overrides({"drive_minutes": False}), "drive_minutes"),
    ("overrides-not-a-section", lambda: Scenario().with_overrides({"name.x": 1}), "is not a section"),
    ("model-no-sites", lambda: _model(sites=pd.DataFrame({"id": []})), "sites: no candidate sites"),
    ("model-sites-not-a-frame", lambda: _model(sites=None or []), "sites: no candidate sites"),
    ("model-no-zones", lambda: _model(demand=pd.DataFrame({"id": [], "scans_per_year": []})), "demand: no zones"),
    ("model-unknown-zone", lambda: _model(od=_od(origin_id=["a", "zz"])), "match no zones (row 1: 'zz')"),
    ("model-unknown-site", lambda: _model(od=_od(destination_id=["S", "T"])), "match no sites (row 1: 'T')"),
    ("model-id-type", lambda: _model(od=_od(destination_id=[1, 1]), sites=pd.DataFrame({"id": ["1"]})), "same spelling and type"),
    ("model-negative-minutes", lambda: _model(od=_od(minutes=[10.0, -1.0])), "row 1: b -> S = -1.0"),
    ("model-nan-minutes", lambda: _model(od=_od(minutes=[np.nan, 1.0])), "row 0: a -> S = nan"),
    ("model-inf-minutes", lambda: _model(od=_od(minutes=[np.inf, 1.0])), "negative, missing or non-finite"),
    ("model-text-minutes", lambda: _model(od=_od(minutes=["ten", "1"])), "row 0: a -> S = 'ten'"),
    ("model-bool-minutes", lambda: _model(od=_od(minutes=[True, False])), "holds true/false values"),
    ("model-od-not-a-frame", lambda: _model(od=[1, 2]), "od: expected a DataFrame"),
    ("model-od-columns", lambda: _model(od=pd.DataFrame({"from": ["a"]})), "missing column(s)"),
    ("model-cyclotron-unknown-site", lambda: _model(cyclotron_minutes=pd.DataFrame({"site_id": ["X"], "cyclotron_id": ["c"], "minutes": [5.0]})), "cyclotron_minutes: 1 row(s) name site_id"),
    ("model-cyclotron-negative", lambda: _model(cyclotron_minutes=pd.DataFrame({"site_id": ["S"], "cyclotron_id": ["c"], "minutes": [-5.0]})), "cyclotron_minutes: 1 row(s) have negative"),
    ("model-negative-demand", lambda: _model(demand=pd.DataFrame({"id": ["a", "b"], "scans_per_year": [1.0, -1.0]})), "scans_per_year must be finite and >= 0"),
    ("model-nan-standard", lambda: _model(drive_minutes=math.nan), "drive_minutes"),
    ("mclp-negative", lambda: MCLP.from_od(_od(minutes=[-1.0, 2.0]), max_cost=5, p=1), "MCLP od: 1 row(s) have negative"),
    ("lscp-unknown-demand", lambda: LSCP.from_od(_od(), demand_ids=["a"], max_cost=30), "LSCP od: 1 row(s) name origin_id values"),
    ("lscp-unknown-site", lambda: LSCP.from_od(_od(), site_ids=["T"], max_cost=30), "match no site ids"),
    ("od-max-nan", lambda: __import__("netplan.traveltime").traveltime.od_matrix(_graph(), _points(), _points(), max_minutes=math.nan), "od_matrix: max_minutes must be a positive finite number"),
    ("od-max-negative", lambda: __import__("netplan.traveltime").traveltime.od_matrix(_graph(), _points(), _points(), max_minutes=-5), "od_matrix: max_minutes"),
    ("od-max-text", lambda: __import__("netplan.traveltime").traveltime.od_matrix(_graph(), _points(), _points(), max_minutes="30"), "got '30'"),
    ("od-points-empty-id", lambda: __import__("netplan.traveltime").traveltime.od_matrix(_graph(), _points().assign(id=[" "]), _points()), "empty 'id'"),
    ("od-line-points", lambda: __import__("netplan.traveltime").traveltime.od_matrix(_graph(), _lines(), _points()), "origins: geometries must be points or polygons (polygons are reduced to a representative point), got ['LineString']"),
    ("snap-nan-detour", lambda: __import__("netplan.traveltime").traveltime.snap(_graph(), _points(), detour_factor=math.nan), "detour_factor must be >= 1"),
    ("iso-nan", lambda: __import__("netplan.isochrones").isochrones.isochrones(_graph(), _points(), minutes=[math.nan]), "isochrones: minutes must be a positive finite number"),
    ("iso-bool", lambda: __import__("netplan.isochrones").isochrones.isochrones(_graph(), _points(), minutes=[True]), "got True"),
    ("iso-buffer-nan", lambda: __import__("netplan.isochrones").isochrones.isochrones(_graph(), _points(), minutes=[10], buffer_m=math.nan), "buffer_m"),
    ("edge-list-negative-length", lambda: __import__("netplan.network").network.graph_from_edge_list(pd.DataFrame({"node": [1, 2], "lon": [-1.5, -1.4], "lat": [53.8, 53.8]}), pd.DataFrame({"u": [1], "v": [2], "length_km": [-6.5]})), "'length_km' is zero, negative or missing"),
    ("edge-list-nan-coordinate", lambda: __import__("netplan.network").network.graph_from_edge_list(pd.DataFrame({"node": [1, 2], "lon": [-1.5, math.nan], "lat": [53.8, 53.8]}), pd.DataFrame({"u": [1], "v": [2], "length_km": [6.5]})), "'lon' is missing or not a number"),
    ("demand-bool-year", lambda: __import__("netplan.demand").demand.DemandParams.from_defaults(year=True), "demand.year must be a whole year"),
    ("demand-inf-growth", lambda: __import__("netplan.demand").demand.DemandParams.from_defaults(annual_growth=math.inf), "demand.annual_growth"),
    ("profile-file-duplicate", lambda: __import__("netplan.profiles").profiles.load_profile(_file("p.yaml", "name: a\nname: b\n")), "key 'name' is given twice"),
    ("profile-file-latin-1", lambda: __import__("netplan.profiles").profiles.load_profile(_file("p.yaml", b"name: caf\xe9\n")), "not UTF-8 text: byte 0xe9 at offset 9"),
    ("graph-load-garbage", lambda: __import__("netplan.graph").graph.DriveGraph.load(_file("g.npz", b"PK\x03\x04 garbage")), "cannot read drive graph"),
    ("graph-load-missing", lambda: __import__("netplan.graph").graph.DriveGraph.load(Path("/nonexistent/g.npz")), "cannot read drive graph"),
    ("od-to-csv-folder", lambda: __import__("netplan.traveltime").traveltime.to_csv(pd.DataFrame({"a": [1]}), _folder("odcsv")), "is a folder"),
    ("iso-to-file-folder", lambda: __import__("netplan.isochrones").isochrones.to_file(_empty_iso(), _folder("iso.gpkg")), "is a folder"),
    ("check-output-under-file", lambda: _io.check_output_file(_file("f.txt", "x") / "out.csv"), "is a file, not a folder"),
    ("read-csv-latin-1", lambda: _validate.read_csv_table(_file("x.csv", b"id\n\xe9\n")), "x.csv: not UTF-8 text: byte 0xe9 at offset 3 (line 2)"),
    ("read-csv-empty", lambda: _validate.read_csv_table(_file("x.csv", "  \n")), "is empty"),
    ("read-csv-missing", lambda: _validate.read_csv_table(_file("x.csv", "id,lon\nA,1\n"), required=["id", "lat"]), "missing column(s) ['lat']"),
]  # fmt: skip

_TMP: list[Path] = []


def _file(name: str, content: str | bytes) -> Path:
    path = _TMP[0] / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _folder(name: str) -> Path:
    path = _TMP[0] / name
    path.mkdir(exist_ok=True)
    return path


def _lines() -> Any:
    import geopandas as gpd
    import shapely

    return gpd.GeoDataFrame(
        {"id": ["p"]}, geometry=[shapely.LineString([(-1.46, 53.79), (-1.44, 53.81)])], crs=4326
    )


def _polygons() -> Any:
    import geopandas as gpd
    import shapely

    return gpd.GeoDataFrame(
        {"id": ["p"]}, geometry=[shapely.box(-1.46, 53.79, -1.44, 53.81)], crs=4326
    )


def _empty_iso() -> Any:
    import geopandas as gpd

    return gpd.GeoDataFrame({"site_id": ["s"]}, geometry=gpd.points_from_xy([0], [0]), crs=4326)


@pytest.mark.parametrize(
    ("make", "expect"), [c[1:] for c in API_CASES], ids=[c[0] for c in API_CASES]
)
def test_api_refuses_bad_input_with_a_netplan_error(
    make: Callable[[], Any], expect: str, tmp_path: Path
) -> None:
    _TMP[:] = [tmp_path]
    with pytest.raises(NetplanError) as info:
        make()
    assert isinstance(info.value, (ValueError, OSError))
    assert (
        type(info.value).__module__ == "netplan._errors" or "netplan" in type(info.value).__module__
    )
    assert expect in str(info.value)
    assert "\n" not in str(info.value)


def test_ids_come_back_exactly_as_given(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "sites:\n  candidates: none\n  extra:\n"
        "    - {id: 007, name: a, lon: -0.7, lat: 52.6}\n"
        "    - {id: 1.10, name: b, lon: -0.6, lat: 52.6}\n"
        "    - {id: 1e3, name: c, lon: -0.5, lat: 52.6}\n"
        "  lock_open: [007, 0x1F]\nname: 2020\n",
        encoding="utf-8",
    )
    s = Scenario.from_yaml(path)
    assert [e.id for e in s.sites.extra] == ["007", "1.10", "1e3"]
    assert s.sites.lock_open == ["007", "0x1F"]
    assert s.name == "2020"
    again = tmp_path / "again.yaml"
    s.to_yaml(again)
    assert [e.id for e in Scenario.from_yaml(again).sites.extra] == ["007", "1.10", "1e3"]


def test_a_resolved_scenario_runs_again(tmp_path: Path) -> None:
    s = Scenario(name="x", drive_minutes=45)
    s.to_yaml(tmp_path / "r.yaml", extra={"netplan_version": "0", "mip_gap": 0.0})
    assert Scenario.from_yaml(tmp_path / "r.yaml").drive_minutes == 45


# ------------------------------------------------------------------------ properties
ids_text = st.text(
    alphabet=string.ascii_letters + string.digits + " .-_/é'\"",
    min_size=1,
    max_size=12,
).filter(lambda t: t.strip() == t and t.strip())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ids=st.lists(ids_text, min_size=1, max_size=8, unique=True))
@example(ids=["007", "1.10", "NA", "nan", "1e3", "0x1F", "TRUE"])
def test_csv_ids_round_trip_exactly(ids: list[str]) -> None:
    frame = pd.DataFrame({"id": ids, "lon": -1.0, "lat": 53.0})
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    data = buf.getvalue().encode("utf-8")
    path = Path(_tmpdir()) / "ids.csv"
    path.write_bytes(data)
    back = _validate.read_csv_table(path, required=["id", "lon", "lat"])
    assert back["id"].tolist() == ids
    assert back["lon"].tolist() == [-1.0] * len(ids)


def _tmpdir() -> str:
    import tempfile

    if not _TMPDIR:
        _TMPDIR.append(tempfile.mkdtemp(prefix="netplan-hyp-"))
    return _TMPDIR[0]


_TMPDIR: list[str] = []

numeric_tokens = st.one_of(
    st.from_regex(r"\A0[0-7]{1,4}\Z"),  # YAML 1.1 octal
    st.from_regex(r"\A[1-9][0-9]{0,3}\.[0-9]{0,3}0\Z"),  # trailing zeros
    st.from_regex(r"\A[0-9]{1,3}(\.[0-9]+)?e[0-9]\Z"),
    st.from_regex(r"\A0x[0-9A-F]{1,3}\Z"),
    st.sampled_from(["yes", "no", "on", "off", "true", "False"]),
)


@settings(max_examples=150, deadline=None)
@given(tokens=st.lists(numeric_tokens, min_size=1, max_size=6))
def test_yaml_scalars_keep_their_text(tokens: list[str]) -> None:
    doc = _yaml.load("ids: [" + ", ".join(tokens) + "]\n")
    texts = [_yaml.text_of(v) if _yaml.text_of(v) is not None else v for v in doc["ids"]]
    assert texts == tokens
    # as scenario ids they are exactly the text written
    s = Scenario.from_dict(_yaml.load("sites: {lock_open: [" + ", ".join(tokens) + "]}\n"))
    assert s.sites.lock_open == tokens


keys = st.from_regex(r"\A[a-z][a-z_]{0,8}\Z")


@settings(max_examples=100, deadline=None)
@given(
    mapping=st.dictionaries(keys, st.integers(0, 99), min_size=1, max_size=6),
    data=st.data(),
)
def test_duplicate_yaml_keys_are_always_refused(mapping: dict[str, int], data: Any) -> None:
    lines = [f"{k}: {v}" for k, v in mapping.items()]
    dup = data.draw(st.sampled_from(sorted(mapping)))
    at = data.draw(st.integers(0, len(lines)))
    lines.insert(at, f"{dup}: 1")
    first = min(i for i, line in enumerate(lines) if line.startswith(f"{dup}:")) + 1
    second = max(i for i, line in enumerate(lines) if line.startswith(f"{dup}:")) + 1
    with pytest.raises(ValidationError) as info:
        _yaml.load("\n".join(lines) + "\n", source="f.yaml")
    msg = str(info.value)
    assert f"f.yaml: line {second}: key '{dup}' is given twice" in msg
    assert f"first on line {first}" in msg


@settings(max_examples=300, deadline=None)
@given(
    value=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(-(10**6), 10**6),
        st.booleans(),
        st.text(max_size=4),
        st.none(),
    )
)
def test_check_number_accepts_exactly_the_positive_finite_numbers(value: Any) -> None:
    ok = (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )
    if ok:
        assert _validate.check_number(value, "x") == float(value)
    else:
        with pytest.raises(ValidationError, match="x must be a positive finite number"):
            _validate.check_number(value, "x")


@settings(max_examples=150, deadline=None)
@given(
    minutes=st.lists(
        st.floats(min_value=0, max_value=1e4, allow_nan=False), min_size=1, max_size=10
    ),
    bad=st.one_of(st.just(-1.0), st.just(math.nan), st.just(math.inf), st.just(-math.inf)),
    data=st.data(),
)
def test_check_od_names_the_first_bad_row(minutes: list[float], bad: float, data: Any) -> None:
    od = pd.DataFrame(
        {
            "origin_id": [f"z{i}" for i in range(len(minutes))],
            "destination_id": "S",
            "minutes": minutes,
        }
    )
    _validate.check_od(od, origins=od["origin_id"], destinations=["S"])  # clean: passes
    row = data.draw(st.integers(0, len(minutes) - 1))
    od.loc[row, "minutes"] = bad
    with pytest.raises(ValidationError, match=rf"row {row}: z{row} -> S"):
        _validate.check_od(od)


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=40))
@example(raw=b"\xef\xbb\xbfid\n\xe9")
def test_decode_utf8_names_the_first_bad_byte(raw: bytes) -> None:
    bom = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
    try:
        expected = raw[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = bom + exc.start
        line = raw.count(b"\n", 0, offset) + 1
        with pytest.raises(ValidationError) as info:
            _io.decode_utf8(raw, source="f.csv")
        msg = str(info.value)
        assert msg.startswith(f"f.csv: not UTF-8 text: byte 0x{raw[offset]:02x}")
        assert f"at offset {offset} (line {line})" in msg
    else:
        assert _io.decode_utf8(raw, source="f.csv") == expected
