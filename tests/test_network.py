"""Tests for netplan.network: speed model, OSM parsing, edge lists, caching."""

from __future__ import annotations

import json
import time
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString

from netplan import NetworkError, ValidationError, network
from netplan.network import DriveGraph, SpeedModel, parse_maxspeed

DATA = Path(__file__).parent / "data" / "network"
MPH = 1.609344


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("30", 30.0),
        ("50 km/h", 50.0),
        ("50kmh", 50.0),
        ("30 mph", 30 * MPH),
        ("30mph", 30 * MPH),
        ("20 MPH", 20 * MPH),
        ("10 knots", 18.52),
        ("GB:nsl_single", 60 * MPH),
        ("UK:nsl_single", 60 * MPH),
        ("GB:nsl_dual", 70 * MPH),
        ("GB:motorway", 70 * MPH),
        ("GB:nsl_restricted", 30 * MPH),
        ("GB:zone20", 20 * MPH),
        ("national", 60 * MPH),
        ("walk", 6.0),
        ("30 mph;40 mph", 30 * MPH),
        ("40|30", 30.0),
        (["30 mph", "50 mph"], 30 * MPH),
        (48, 48.0),
        (None, None),
        ("", None),
        ("none", None),
        ("signals", None),
        ("variable", None),
        ("0", None),
        ("fast", None),
        ("DE:urban", None),
        (float("nan"), None),
        ("junk;also junk", None),
    ],
)
def test_parse_maxspeed(value: object, expected: float | None) -> None:
    got = parse_maxspeed(value)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, rel=1e-9)


def test_speed_model_defaults_and_factors() -> None:
    m = SpeedModel()
    assert m.speed_kph("motorway") == 90.0  # OSRM car.lua class speed
    assert m.speed_kph("residential") == 25.0
    assert m.speed_kph("motorway", "70 mph") == pytest.approx(70 * MPH * 0.8)
    assert m.speed_kph("secondary", "junk") == 55.0  # unparsable tag: class speed
    assert m.speed_kph("no_such_class") == 10.0
    m2 = SpeedModel(
        congestion={"primary": 0.5},
        calibration=0.9,
        maxspeed_factor=1.0,
        speeds_kph={"primary": 60},
    )
    assert m2.speed_kph("primary") == pytest.approx(60 * 0.5 * 0.9)
    assert m2.speed_kph("primary", "40") == pytest.approx(40 * 0.5 * 0.9)
    assert m2.speeds_kph["motorway"] == 90.0  # other classes keep their defaults
    assert SpeedModel(use_maxspeed=False).speed_kph("primary", "20") == 65.0


def test_speed_model_roundtrip_and_errors() -> None:
    m = SpeedModel(congestion={"trunk": 0.8}, calibration=1.1)
    d = json.loads(json.dumps(m.to_dict()))
    assert SpeedModel.from_dict(d) == m
    assert SpeedModel.from_dict(d).key() == m.key() != SpeedModel().key()
    with pytest.raises(ValidationError, match="unknown key"):
        SpeedModel.from_dict({"speed": 3})
    with pytest.raises(ValidationError, match="positive"):
        SpeedModel(calibration=0)
    with pytest.raises(ValidationError, match="'primary'"):
        SpeedModel(speeds_kph={"primary": -5})


def test_tags_rules() -> None:
    d = network._drivable
    assert d({"highway": "primary"}, include_service=False) == "primary"
    assert d({"highway": "footway"}, include_service=False) is None
    assert d({"highway": "service"}, include_service=False) is None
    assert d({"highway": "service"}, include_service=True) == "service"
    assert d({"highway": "residential", "access": "private"}, include_service=False) is None
    assert (
        d({"highway": "residential", "access": "no", "motorcar": "yes"}, include_service=False)
        == "residential"
    )
    assert d({"highway": "residential", "motor_vehicle": "no"}, include_service=False) is None
    w = network._way_direction
    assert w({"oneway": "yes"}, "primary") == 1
    assert w({"oneway": "-1"}, "primary") == -1
    assert w({"junction": "roundabout"}, "tertiary") == 1
    assert w({}, "motorway") == 1
    assert w({"oneway": "no"}, "motorway") == 0
    assert w({}, "primary") == 0
    assert w({"oneway": "reversible"}, "primary") is None


@pytest.mark.parametrize("engine", ["osmium", "osmnx"])
def test_tiny_osm_oneway_access_roundabout(engine: str) -> None:
    G = network.graph_from_file(DATA / "tiny.osm", engine=engine)
    edges = set(zip(G.edges_frame()["u"], G.edges_frame()["v"], strict=True))
    assert {(1, 2), (2, 1), (2, 3), (3, 2)} <= edges  # two-way residential
    assert (3, 4) in edges
    assert (4, 3) not in edges  # oneway=yes
    assert (5, 4) in edges
    assert (4, 5) not in edges  # oneway=-1: drawn 4->5, driven 5->4
    assert {(5, 6), (6, 7), (7, 5)} <= edges  # roundabout: one way round
    assert (6, 5) not in edges
    assert 8 not in set(G.node_ids)  # private road and footway dropped
    assert G.n_nodes == 7
    assert G.n_edges == 11
    ef = G.edges_frame().set_index(["u", "v"])
    # residential with maxspeed 20 mph: 20 mph x 0.8 (OSRM speed_reduction)
    assert ef.loc[(1, 2), "speed_kph"] == pytest.approx(20 * MPH * 0.8)
    assert ef.loc[(5, 4), "speed_kph"] == pytest.approx(60 * MPH * 0.8)  # GB:nsl_single
    row = ef.loc[(1, 2)]
    assert row["minutes"] == pytest.approx(row["length_m"] / 1000 / row["speed_kph"] * 60)
    # 0.005 deg of longitude at 53.8 N is about 329 m
    assert row["length_m"] == pytest.approx(328.4, abs=0.5)


def test_xml_engines_agree_on_leeds(mirror: Path, tmp_path: Path) -> None:
    import osmium

    pbf = mirror / "osm" / "leeds-its-example.osm.pbf"
    xml = tmp_path / "leeds-its-example.osm"  # the same extract as OSM XML, made here
    with osmium.SimpleWriter(str(xml)) as writer:
        for obj in osmium.FileProcessor(str(pbf)):
            writer.add(obj)
    G1 = network.graph_from_file(pbf)
    G2 = network.graph_from_file(xml, engine="osmnx")
    assert (G1.n_nodes, G1.n_edges) == (G2.n_nodes, G2.n_edges) == (175, 326)
    e1 = G1.edges_frame().sort_values(["u", "v", "minutes"], ignore_index=True)
    e2 = G2.edges_frame().sort_values(["u", "v", "minutes"], ignore_index=True)
    pd.testing.assert_frame_equal(e1[["u", "v", "highway"]], e2[["u", "v", "highway"]])
    np.testing.assert_allclose(e1["minutes"], e2["minutes"], rtol=1e-6)


def test_rutland_graph(mirror: Path) -> None:
    G = network.graph_from_file(mirror / "osm" / "rutland-2018-02-27.osm.pbf")
    assert G.n_nodes == 14_947
    assert G.n_edges == 29_902
    assert G.main_component.sum() > 0.95 * G.n_nodes
    ef = G.edges_frame()
    assert set(ef["highway"]) >= {"trunk", "primary", "secondary", "residential"}
    # Rutland lies at about E 480-510 km, N 290-320 km in British National Grid.
    assert 470_000 < G.x.min() < G.x.max() < 510_000
    assert 290_000 < G.y.min() < G.y.max() < 320_000
    assert (ef["minutes"] > 0).all()


@pytest.mark.parametrize(
    ("content", "name", "match"),
    [
        (b"", "empty.osm.pbf", "empty"),
        (b"this is not a protobuf file" * 20, "corrupt.osm.pbf", "cannot read"),
        (b"<osm><node id=", "corrupt.osm", "cannot read OSM XML"),
        (None, "missing.osm.pbf", "not found"),
    ],
)
def test_bad_osm_files(tmp_path: Path, content: bytes | None, name: str, match: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(NetworkError, match=match):
        network.graph_from_file(path)


@pytest.mark.parametrize("engine", ["osmium", "osmnx"])
def test_osm_file_without_roads(engine: str) -> None:
    with pytest.raises(NetworkError, match="no drivable roads"):
        network.graph_from_file(DATA / "no_roads.osm", engine=engine)


def test_unknown_network_name() -> None:
    with pytest.raises(NetworkError, match="unknown network 'atlantis'"):
        network.graph_from_name("atlantis")


def test_save_load_and_networkx(tmp_path: Path) -> None:
    G = network.graph_from_file(DATA / "tiny.osm", engine="osmium")
    path = G.save(tmp_path / "g.npz")
    H = DriveGraph.load(path)
    for name in network._ARRAYS:
        np.testing.assert_array_equal(getattr(G, name), getattr(H, name))
    assert (H.key, H.source, H.speed_model) == (G.key, G.source, G.speed_model)
    Gx = H.to_networkx()
    assert isinstance(Gx, nx.MultiDiGraph)
    assert Gx.graph["crs"] == "EPSG:27700"
    assert (Gx.number_of_nodes(), Gx.number_of_edges()) == (7, 11)
    data = Gx.get_edge_data(3, 4)[0]
    assert data["travel_time"] == pytest.approx(data["travel_time_s"] / 60)
    assert data["highway"] == "primary"
    assert set(Gx.nodes[1]) == {"x", "y", "lon", "lat"}
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    with pytest.raises(NetworkError, match="cannot read drive graph"):
        DriveGraph.load(bad)


def test_graph_from_name_cache() -> None:
    sm = SpeedModel(calibration=0.95)
    G1 = network.graph_from_name("leeds", speed_model=sm)
    t0 = time.perf_counter()
    G2 = network.graph_from_name("leeds", speed_model=sm)
    assert time.perf_counter() - t0 < 1.0
    assert G1.key == G2.key
    np.testing.assert_array_equal(G1.edge_minutes, G2.edge_minutes)
    G3 = network.graph_from_name("leeds", speed_model=SpeedModel())
    assert G3.key != G1.key  # speed settings are part of the key
    np.testing.assert_allclose(G1.edge_minutes * 0.95, G3.edge_minutes)
    G4 = network.graph_from_name("leeds")  # the default profile, recorded on the graph
    assert G4.profile is not None
    assert G4.profile.name == "free_flow"
    assert G4.key not in {G1.key, G3.key}


def test_edge_list_motorway_matching() -> None:
    # Three nodes on a west-east line, 10 km apart (EPSG:27700 -> WGS84 round trip is exact
    # enough); a motorway runs along the first edge only, the second edge crosses it.
    nodes = pd.DataFrame(
        {
            "node": [10, 11, 12, 13],
            "lon": [-1.50, -1.35, -1.20, -1.425],
            "lat": [53.00, 53.00, 53.00, 52.95],
        }
    )
    edges = pd.DataFrame({"u": [10, 11, 13], "v": [11, 12, 10], "length_km": [10.0, 10.0, 7.0]})
    mw = gpd.GeoDataFrame(
        geometry=[LineString([(-1.52, 53.0005), (-1.33, 53.0005)])], crs="EPSG:4326"
    )
    G = network.graph_from_edge_list(nodes, edges, motorways=mw)
    ef = G.edges_frame().set_index(["u", "v"])
    assert ef.loc[(10, 11), "highway"] == "motorway"
    assert ef.loc[(11, 10), "highway"] == "motorway"  # two-way
    assert ef.loc[(11, 12), "highway"] == "major"
    assert ef.loc[(13, 10), "highway"] == "major"
    assert ef.loc[(10, 11), "minutes"] == pytest.approx(10 / 90 * 60)
    assert ef.loc[(11, 12), "minutes"] == pytest.approx(10 / 65 * 60)
    assert G.detail == "major"
    with pytest.raises(ValidationError, match="missing from the node table"):
        network.graph_from_edge_list(
            nodes, pd.DataFrame({"u": [10], "v": [99], "length_km": [1.0]})
        )
    with pytest.raises(ValidationError, match="missing column"):
        network.graph_from_edge_list(nodes, pd.DataFrame({"u": [10], "v": [11]}))


def test_england_major_roads() -> None:
    G = network.graph_from_name("england-major-roads")
    # the mirror's nodes plus 4 ferry terminals (3 on the Isle of Wight, 1 on St Mary's)
    assert G.n_nodes == 19_973 + 4
    assert sorted(G.islands) == ["Isle of Wight", "Isles of Scilly"]
    ef = G.edges_frame()
    ferry = ef["highway"] == "ferry"
    assert ferry.sum() == 2 * 4  # each route both ways
    island_roads = 3 * 2  # between the three Wight terminals, both ways
    gap_links = 2 * 39  # netplan._gaps: dead ends joined across gaps of <= 150 m, both ways
    assert G.n_edges == 2 * 30_479 + gap_links + 8 + island_roads
    assert G.main_component.all()  # the mirror network is one component
    road = ef.iloc[: 2 * 30_479]
    km = road.groupby("highway")["length_m"].sum() / 2000  # two-way, km
    assert km.sum() == pytest.approx(38_790, rel=0.001)  # mirror README total
    # Matched motorway length: England and Wales have roughly 3,000 km of motorway.
    assert 2_000 < km["motorway"] < 3_500


def test_overpass_recorded_response(monkeypatch: pytest.MonkeyPatch, mirror: Path) -> None:
    """graph_from_bbox through osmnx with a recorded Overpass response (no network)."""
    import osmnx as ox

    response = json.loads((DATA / "overpass_leeds.json").read_text())
    calls: list[str] = []

    def fake_download(polygon: object, network_type: str, custom_filter: object) -> object:
        calls.append(str(custom_filter))
        yield response

    monkeypatch.setattr(ox._overpass, "_download_overpass_network", fake_download)
    G = network.graph_from_bbox((-1.565, 53.80, -1.545, 53.815))
    assert calls
    assert '"highway"~"^(motorway|' in calls[0]
    assert "private|no" in calls[0]
    ref = network.graph_from_file(mirror / "osm" / "leeds-its-example.osm.pbf")
    assert (G.n_nodes, G.n_edges) == (ref.n_nodes, ref.n_edges)
    np.testing.assert_allclose(np.sort(G.edge_minutes), np.sort(ref.edge_minutes), rtol=1e-6)


@pytest.mark.network
def test_graph_from_place_live() -> None:
    G = network.graph_from_place("Oakham, Rutland, England")
    assert G.n_nodes > 500
    assert G.main_component.sum() > 0.9 * G.n_nodes
