"""Tests for netplan.traveltime: snapping and OD tables against networkx Dijkstra."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from scipy.sparse import csgraph

import cli
from netplan import NetworkError, ValidationError, network, traveltime
from netplan.network import DriveGraph


@pytest.fixture(scope="module")
def rutland(mirror: Path) -> DriveGraph:
    return network.graph_from_file(mirror / "osm" / "rutland-2018-02-27.osm.pbf")


@pytest.fixture(scope="module")
def leeds(mirror: Path) -> DriveGraph:
    return network.graph_from_file(mirror / "osm" / "leeds-its-example.osm.pbf")


def _random_points(G: DriveGraph, n: int, seed: int, prefix: str) -> pd.DataFrame:
    """Points near random main-component nodes, offset by up to ~200 m."""
    rng = np.random.default_rng(seed)
    idx = rng.choice(np.flatnonzero(G.main_component), n, replace=False)
    return pd.DataFrame(
        {
            "id": [f"{prefix}{i}" for i in range(n)],
            "lon": G.lon[idx] + rng.uniform(-0.002, 0.002, n),
            "lat": G.lat[idx] + rng.uniform(-0.001, 0.001, n),
        }
    )


def _expected_od(G: DriveGraph, origins: pd.DataFrame, dests: pd.DataFrame) -> pd.DataFrame:
    """Reference: networkx single_source_dijkstra_path_length + the same access legs.

    Nearest-node snapping (``snap_nodes=1``); tests/test_snapping.py checks several entry
    nodes per point against networkx with virtual nodes.
    """
    Gx = G.to_networkx()
    so, sd = traveltime.snap(G, origins), traveltime.snap(G, dests)
    rows = []
    for _, o in so.iterrows():
        lengths = nx.single_source_dijkstra_path_length(Gx, o["node_id"], weight="travel_time")
        for _, d in sd.iterrows():
            if d["node_id"] in lengths:
                rows.append(
                    (
                        o["id"],
                        d["id"],
                        o["access_minutes"] + lengths[d["node_id"]] + d["access_minutes"],
                    )
                )
    return pd.DataFrame(rows, columns=["origin_id", "destination_id", "minutes"])


def _compare(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    got = got.sort_values(["origin_id", "destination_id"], ignore_index=True)
    expected = expected.sort_values(["origin_id", "destination_id"], ignore_index=True)
    assert list(got.columns) == ["origin_id", "destination_id", "minutes"]
    pd.testing.assert_frame_equal(
        got[["origin_id", "destination_id"]], expected[["origin_id", "destination_id"]]
    )
    np.testing.assert_allclose(got["minutes"], expected["minutes"], rtol=0, atol=1e-6)


def test_od_equals_networkx_leeds(leeds: DriveGraph) -> None:
    o = _random_points(leeds, 12, 1, "o")
    d = _random_points(leeds, 5, 2, "d")
    expected = _expected_od(leeds, o, d)
    assert len(expected) == 60
    _compare(traveltime.od_matrix(leeds, o, d, snap_nodes=1), expected)  # runs from destinations
    _compare(
        traveltime.od_matrix(leeds, o.head(3), d, snap_nodes=1),  # runs from origins
        expected[expected["origin_id"].isin(o["id"].head(3))],
    )


def test_od_equals_networkx_rutland(rutland: DriveGraph) -> None:
    o = _random_points(rutland, 40, 3, "o")
    d = _random_points(rutland, 6, 4, "d")
    expected = _expected_od(rutland, o, d)
    assert len(expected) == 240
    _compare(traveltime.od_matrix(rutland, o, d, snap_nodes=1), expected)
    # from the origin side (fewer origins) on the forward graph gives the same table
    _compare(
        traveltime.od_matrix(
            rutland, d.rename(columns={"id": "x"}).assign(id=d["id"]), o, snap_nodes=1
        )[["origin_id", "destination_id", "minutes"]],
        _expected_od(rutland, d, o),
    )
    cut = traveltime.od_matrix(rutland, o, d, max_minutes=15, snap_nodes=1)
    _compare(cut, expected[expected["minutes"] <= 15])
    assert 0 < len(cut) < len(expected)


def test_real_one_way_pair(rutland: DriveGraph) -> None:
    # A one-way residential street in Oakham (OSM nodes 1584843926 -> 18355118): driving
    # with the flow is one 0.225-min edge; against it, a 0.631-min loop round the block.
    a = pd.DataFrame({"id": ["A"], "lon": [-0.7317546], "lat": [52.6715913]})
    b = pd.DataFrame({"id": ["B"], "lon": [-0.7318438], "lat": [52.6707505]})
    ab = traveltime.od_matrix(rutland, a, b)["minutes"].item()
    ba = traveltime.od_matrix(rutland, b, a)["minutes"].item()
    s = traveltime.snap(rutland, pd.concat([a, b]))
    assert s["node_id"].tolist() == [1584843926, 18355118]
    acc = s["access_minutes"].sum()
    assert ab - acc == pytest.approx(0.22485, abs=1e-4)
    assert ba - acc == pytest.approx(0.63066, abs=1e-4)
    both = traveltime.od_matrix(rutland, pd.concat([a, b]), pd.concat([a, b]))
    assert both.set_index(["origin_id", "destination_id"]).loc[("A", "B"), "minutes"] == (
        pytest.approx(ab)
    )


def test_hand_solved_edge_list() -> None:
    # A 6.5 km major road at 65 km/h takes 6 minutes; a 9 km motorway-classed edge 6 min.
    nodes = pd.DataFrame({"node": [1, 2, 3], "lon": [-1.5, -1.4, -1.3], "lat": [53.8] * 3})
    edges = pd.DataFrame(
        {"u": [1, 2], "v": [2, 3], "length_km": [6.5, 9.0], "highway": ["major", "motorway"]}
    )
    G = network.graph_from_edge_list(nodes, edges)
    pts = nodes.rename(columns={"node": "id"})
    od = traveltime.od_matrix(G, pts, pts).set_index(["origin_id", "destination_id"])
    acc = traveltime.snap(G, pts).set_index("id")["access_minutes"]
    assert acc.max() < 1e-6  # points on their nodes
    assert od.loc[(1, 3), "minutes"] == pytest.approx(12.0, abs=1e-6)
    assert od.loc[(3, 1), "minutes"] == pytest.approx(12.0, abs=1e-6)
    assert od.loc[(2, 2), "minutes"] == pytest.approx(0.0, abs=1e-6)
    # an access leg: 1 km north of node 1 -> 1 km x 1.3 / 25 km/h = 3.12 min
    off = pd.DataFrame({"id": ["p"], "lon": [-1.5], "lat": [53.8 + 1 / 111.25]})
    s = traveltime.snap(G, off)
    assert s["snap_km"].item() == pytest.approx(1.0, abs=0.01)
    assert s["access_minutes"].item() == pytest.approx(s["snap_km"].item() * 1.3 / 25 * 60)


def test_snap_warning_and_outside(rutland: DriveGraph) -> None:
    pts = pd.DataFrame({"id": ["near", "far"], "lon": [-0.7275, -0.85], "lat": [52.6705, 52.52]})
    with pytest.warns(UserWarning, match=r"1 point\(s\) snapped more than 5 km.*far"):
        s = traveltime.snap(rutland, pts)
    assert s.set_index("id").loc["far", "snap_km"] > 5
    leeds_pt = pd.DataFrame({"id": ["leeds"], "lon": [-1.55], "lat": [53.80]})
    with pytest.raises(NetworkError, match=r"outside the road network.*leeds"):
        traveltime.snap(rutland, leeds_pt)
    both = pd.concat([pts.head(1), leeds_pt])
    dropped = traveltime.snap(rutland, both, on_outside="drop")
    assert dropped["id"].tolist() == ["near"]
    with pytest.warns(UserWarning, match="leeds"):
        kept = traveltime.snap(rutland, both, on_outside="warn")
    assert kept["id"].tolist() == ["near", "leeds"]


@pytest.mark.parametrize(
    ("table", "match"),
    [
        (pd.DataFrame({"id": ["a"], "lon": ["west"], "lat": [52.6]}), "not a number"),
        (pd.DataFrame({"id": ["a"], "lon": [52.67], "lat": [-0.72]}), "swapped"),
        (pd.DataFrame({"id": ["a"], "lon": [np.nan], "lat": [52.6]}), "missing or not a number"),
        (pd.DataFrame({"id": ["a"], "x": [-0.7], "y": [52.6]}), "missing column"),
        (pd.DataFrame({"id": ["a", "a"], "lon": [-0.7, -0.71], "lat": [52.6, 52.6]}), "duplicate"),
        (pd.DataFrame({"id": [], "lon": [], "lat": []}), "no points"),
        (pd.DataFrame({"id": ["a"], "lon": [500000.0], "lat": [300000.0]}), "outside Great"),
    ],
)
def test_bad_points(rutland: DriveGraph, table: pd.DataFrame, match: str) -> None:
    ok = pd.DataFrame({"id": ["s"], "lon": [-0.7275], "lat": [52.6705]})
    with pytest.raises(ValidationError, match=match):
        traveltime.od_matrix(rutland, table, ok)


def test_cli_traveltimes(tmp_path: Path) -> None:
    o = tmp_path / "o.csv"
    d = tmp_path / "d.csv"
    out = tmp_path / "od.csv"
    o.write_text("id,lon,lat\na,-0.65,52.65\nb,-0.55,52.62\n")
    d.write_text("id,lon,lat\noak,-0.7275,52.6705\nupp,-0.7231,52.5870\n")
    assert (
        cli.main(
            [
                "traveltimes",
                "--network",
                "rutland",
                "--origins",
                str(o),
                "--destinations",
                str(d),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    od = pd.read_csv(out)
    assert list(od.columns) == ["origin_id", "destination_id", "minutes"]
    assert len(od) == 4
    assert od["minutes"].between(5, 30).all()
    assert (
        cli.main(
            [
                "traveltimes",
                "--network",
                "rutland",
                "--origins",
                str(o),
                "--destinations",
                str(d),
                "--out",
                str(out),
                "--max-minutes",
                "15",
            ]
        )
        == 0
    )
    assert len(pd.read_csv(out)) == int((od["minutes"] <= 15).sum())
    bad = tmp_path / "bad.csv"
    bad.write_text("id,lon,lat\na,52.65,-0.65\n")
    assert (
        cli.main(
            [
                "traveltimes",
                "--network",
                "rutland",
                "--origins",
                str(bad),
                "--destinations",
                str(d),
                "--out",
                str(out),
            ]
        )
        == 1
    )


def test_chunked_paths_agree(rutland: DriveGraph, monkeypatch: pytest.MonkeyPatch) -> None:
    o = _random_points(rutland, 60, 5, "o")
    d = _random_points(rutland, 9, 6, "d")
    d = pd.concat([d, d.head(2).assign(id=["d_twin0", "d_twin1"])])  # shared nodes
    ref_fwd = traveltime.od_matrix(rutland, d, o, max_minutes=20)  # from origins
    ref_rev = traveltime.od_matrix(rutland, o, d, max_minutes=20)  # from destinations
    monkeypatch.setattr(traveltime, "_MEMORY_CELLS", 1)  # blocks of one source
    pd.testing.assert_frame_equal(traveltime.od_matrix(rutland, d, o, max_minutes=20), ref_fwd)
    pd.testing.assert_frame_equal(traveltime.od_matrix(rutland, o, d, max_minutes=20), ref_rev)
    # rows come sorted by origin, then destination, in input order
    pos_o = {k: i for i, k in enumerate(o["id"])}
    pos_d = {k: i for i, k in enumerate(d["id"])}
    key = ref_rev["origin_id"].map(pos_o) * 100 + ref_rev["destination_id"].map(pos_d)
    assert key.is_monotonic_increasing
    assert {"d_twin0", "d_twin1"} <= set(ref_rev["destination_id"])


def test_od_ids_keep_the_input_dtype_and_order(rutland: DriveGraph) -> None:
    o = _random_points(rutland, 8, 7, "o").iloc[::-1]  # ids not in sorted order
    d = _random_points(rutland, 3, 8, "d")
    od = traveltime.od_matrix(rutland, o, d)
    assert len(od) == 24
    assert od["origin_id"].dtype == o["id"].dtype  # str under pandas 3
    assert od["destination_id"].dtype == d["id"].dtype
    assert od["minutes"].dtype == np.float64
    # rows by origin, then destination, both in input order
    assert od["origin_id"].tolist() == [i for i in o["id"] for _ in range(3)]
    assert od["destination_id"].tolist() == d["id"].tolist() * 8
    ints = traveltime.od_matrix(rutland, o.assign(id=range(8)), d, max_minutes=8)
    assert ints["origin_id"].dtype == np.int64
    assert 0 < len(ints) < 24
    assert ints["origin_id"].is_monotonic_increasing


def _node_points(G: DriveGraph, nodes: np.ndarray, prefix: str) -> pd.DataFrame:
    """Points exactly on the given nodes (they snap to them)."""
    return pd.DataFrame(
        {
            "id": [f"{prefix}{i}" for i in range(len(nodes))],
            "lon": G.lon[nodes],
            "lat": G.lat[nodes],
        }
    )


def _chain_and_one_way_nodes(G: DriveGraph, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Main-component nodes that pass through (two neighbours) and nodes on one-way edges."""
    A = G.csr
    both = (A + A.T).tocsr()
    deg = np.diff(both.indptr)
    asym = (A != A.T).tocsr()
    one_way = np.diff(asym.indptr) > 0
    rng = np.random.default_rng(seed)
    chain = np.flatnonzero(G.main_component & (deg == 2) & ~one_way)
    ow = np.flatnonzero(G.main_component & one_way)
    return rng.choice(chain, n, replace=False), rng.choice(ow, n, replace=False)


def test_reduced_graph_keeps_the_times(rutland: DriveGraph) -> None:
    chain, one_way = _chain_and_one_way_nodes(rutland, 15, 11)
    rng = np.random.default_rng(12)
    nodes = np.concatenate(
        [chain, one_way, rng.choice(np.flatnonzero(rutland.main_component), 10, replace=False)]
    )
    red = traveltime._reduced_graph(rutland, nodes)
    m = red.csr.shape[0]
    assert (red.pos[nodes] >= 0).all()  # every snapped node stays
    assert np.array_equal(red.nodes[red.pos[nodes]], nodes)
    assert m < rutland.n_nodes / 10  # Rutland: mostly chains and dead ends
    assert red.csr.nnz < rutland.n_edges / 10
    full = csgraph.dijkstra(rutland.csr, indices=nodes)[:, nodes]
    small = csgraph.dijkstra(red.csr, indices=red.pos[nodes])[:, red.pos[nodes]]
    assert np.isfinite(full).all()
    np.testing.assert_allclose(small, full, rtol=0, atol=1e-9)
    assert not np.allclose(full, full.T)  # one-way streets: some trips differ by direction
    # cached per node set: the same object again, rebuilt after clearing
    assert traveltime._reduced_graph(rutland, nodes[::-1]) is red
    traveltime._clear_reduced_cache(rutland)
    assert traveltime._reduced_graph(rutland, nodes) is not red


def test_reduced_graph_gives_the_same_od(
    rutland: DriveGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain, one_way = _chain_and_one_way_nodes(rutland, 12, 13)
    o = pd.concat(
        [
            _node_points(rutland, chain[:8], "oc"),
            _node_points(rutland, one_way[:8], "ow"),
            _random_points(rutland, 20, 14, "or"),
        ],
        ignore_index=True,
    )
    d = pd.concat(
        [
            _node_points(rutland, chain[8:], "dc"),
            _node_points(rutland, one_way[8:], "dw"),
            _random_points(rutland, 3, 15, "dr"),
        ],
        ignore_index=True,
    )
    assert traveltime.snap(rutland, o)["node"].head(16).tolist() == [*chain[:8], *one_way[:8]]
    runs = [
        lambda: traveltime.od_matrix(rutland, o, d),  # from destinations
        lambda: traveltime.od_matrix(rutland, d, o),  # from origins
        lambda: traveltime.od_matrix(rutland, o, d, max_minutes=12),
    ]
    reduced = [run() for run in runs]
    monkeypatch.setattr(traveltime, "_REDUCE_GRAPH", False)
    for got, run in zip(reduced, runs, strict=True):
        ref = run()
        pd.testing.assert_frame_equal(
            got[["origin_id", "destination_id"]], ref[["origin_id", "destination_id"]]
        )
        np.testing.assert_allclose(got["minutes"], ref["minutes"], rtol=0, atol=1e-9)
    assert len(reduced[0]) == len(o) * len(d)
    assert 0 < len(reduced[2]) < len(reduced[0])
