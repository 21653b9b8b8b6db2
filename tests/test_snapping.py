"""Multi-node snapping (netplan._snapping): od_matrix against networkx with virtual nodes."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from netplan import ValidationError, network, traveltime
from netplan._geo import _to_bng
from netplan._snapping import candidate_radius_km, entry_nodes
from netplan.network import DriveGraph


@pytest.fixture(scope="module")
def rutland() -> DriveGraph:
    return network.graph_from_name("rutland")  # full detail, free_flow profile


def _random_graph(seed: int, n: int = 40) -> DriveGraph:
    """A random road graph near Leeds: a spanning path, extra edges, a third of them one-way."""
    rng = np.random.default_rng(seed)
    nodes = pd.DataFrame(
        {
            "node": np.arange(n) + 100,
            "lon": -1.6 + rng.uniform(0, 0.3, n),
            "lat": 53.7 + rng.uniform(0, 0.2, n),
        }
    )
    u = np.r_[np.arange(n - 1), rng.integers(0, n, 2 * n)]
    v = np.r_[np.arange(1, n), rng.integers(0, n, 2 * n)]
    keep = u != v
    u, v = u[keep], v[keep]
    x, y = _to_bng(nodes["lon"].to_numpy(), nodes["lat"].to_numpy())
    km = np.hypot(x[u] - x[v], y[u] - y[v]) / 1000 * rng.uniform(1.0, 1.6, len(u))
    edges = pd.DataFrame(
        {
            "u": u + 100,
            "v": v + 100,
            "length_km": np.maximum(km, 0.01),
            "highway": rng.choice(["major", "motorway"], len(u)),
            "oneway": rng.random(len(u)) < 0.33,
        }
    )
    return network.graph_from_edge_list(nodes, edges)  # no profile: 1.3 x at 25 km/h


def _points(G: DriveGraph, n: int, seed: int, prefix: str, spread: float = 0.03) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lon0, lat0 = G.lon.mean(), G.lat.mean()
    return pd.DataFrame(
        {
            "id": [f"{prefix}{i}" for i in range(n)],
            "lon": lon0 + rng.uniform(-1, 1, n) * spread * 3,
            "lat": lat0 + rng.uniform(-1, 1, n) * spread,
        }
    )


def _brute_entries(G: DriveGraph, pts: pd.DataFrame, k: int) -> list[list[tuple[int, float]]]:
    """By hand: the k nearest snappable nodes within max(2 d1, d1 + 3 km), access minutes."""
    s = traveltime.snap(G, pts)
    x, y = _to_bng(pts["lon"].to_numpy(), pts["lat"].to_numpy())
    cand = np.flatnonzero(G.main_component)
    out = []
    for i in range(len(pts)):
        d_km = np.hypot(G.x[cand] - x[i], G.y[cand] - y[i]) / 1000
        order = np.argsort(d_km, kind="stable")[:k]
        radius = max(2 * d_km[order[0]], d_km[order[0]] + 3)
        km = d_km[order][d_km[order] <= radius]
        if G.profile is not None:
            minutes = G.profile.access_minutes(km, np.full(len(km), s["urban_share"].iloc[i]))
        else:
            minutes = km * 1.3 / 25 * 60
        out.append(list(zip(cand[order][: len(km)].tolist(), minutes.tolist(), strict=True)))
    return out


def _networkx_od(
    G: DriveGraph, o: pd.DataFrame, d: pd.DataFrame, k: int, cap: float = np.inf
) -> pd.DataFrame:
    """Reference: a virtual node per point joined to its entry nodes, networkx Dijkstra."""
    Gx = nx.DiGraph()
    for u, v, w in zip(G.edge_u.tolist(), G.edge_v.tolist(), G.edge_minutes.tolist(), strict=True):
        if not Gx.has_edge(u, v) or Gx[u][v]["w"] > w:
            Gx.add_edge(u, v, w=w)
    for pid, entries in zip(o["id"], _brute_entries(G, o, k), strict=True):
        for node, minutes in entries:
            Gx.add_edge(("o", pid), node, w=minutes)
    for pid, entries in zip(d["id"], _brute_entries(G, d, k), strict=True):
        for node, minutes in entries:
            Gx.add_edge(node, ("d", pid), w=minutes)
    rows = []
    for oid in o["id"]:
        dist = nx.single_source_dijkstra_path_length(Gx, ("o", oid), weight="w")
        rows += [
            (oid, did, dist[("d", did)])
            for did in d["id"]
            if ("d", did) in dist and dist[("d", did)] <= cap
        ]
    return pd.DataFrame(rows, columns=["origin_id", "destination_id", "minutes"])


def _assert_same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        got[["origin_id", "destination_id"]].reset_index(drop=True),
        expected[["origin_id", "destination_id"]].reset_index(drop=True),
        check_dtype=False,
    )
    np.testing.assert_allclose(got["minutes"], expected["minutes"], rtol=0, atol=1e-7)


# ----------------------------------------------------------------------- exact times
@pytest.mark.filterwarnings("ignore:.*snapped more than")
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("k", [1, 2, 4])
def test_random_graphs_equal_networkx_with_virtual_nodes(seed: int, k: int) -> None:
    G = _random_graph(seed)
    o = _points(G, 9, seed + 10, "o")
    d = _points(G, 4, seed + 20, "d")
    # from destinations (fewer), from origins (fewer), and within a cap
    _assert_same(traveltime.od_matrix(G, o, d, snap_nodes=k), _networkx_od(G, o, d, k))
    _assert_same(traveltime.od_matrix(G, d, o, snap_nodes=k), _networkx_od(G, d, o, k))
    cap = 12.0
    _assert_same(
        traveltime.od_matrix(G, o, d, snap_nodes=k, max_minutes=cap),
        _networkx_od(G, o, d, k, cap),
    )


@pytest.mark.filterwarnings("ignore:.*snapped more than")
def test_rutland_equals_networkx_with_virtual_nodes(rutland: DriveGraph) -> None:
    o = _points(rutland, 25, 5, "o", spread=0.05)
    d = _points(rutland, 5, 6, "d", spread=0.05)
    expected = _networkx_od(rutland, o, d, 4)
    assert len(expected) == 125
    _assert_same(traveltime.od_matrix(rutland, o, d), expected)  # snap_nodes=4 by default
    _assert_same(traveltime.od_matrix(rutland, d, o), _networkx_od(rutland, d, o, 4))


@pytest.mark.filterwarnings("ignore:.*snapped more than")
def test_blocks_of_one_source_agree(rutland: DriveGraph, monkeypatch: pytest.MonkeyPatch) -> None:
    o = _points(rutland, 30, 7, "o", spread=0.05)
    d = _points(rutland, 6, 8, "d", spread=0.05)
    ref = [traveltime.od_matrix(rutland, o, d), traveltime.od_matrix(rutland, d, o)]
    monkeypatch.setattr(traveltime, "_MEMORY_CELLS", 1)
    pd.testing.assert_frame_equal(traveltime.od_matrix(rutland, o, d), ref[0])
    pd.testing.assert_frame_equal(traveltime.od_matrix(rutland, d, o), ref[1])


@pytest.mark.filterwarnings("ignore:.*snapped more than")
def test_one_snap_node_is_the_nearest_node_only(rutland: DriveGraph) -> None:
    """snap_nodes=1: nearest node + network + nearest node, as before multi-node snapping."""
    o = _points(rutland, 12, 9, "o", spread=0.05)
    d = _points(rutland, 4, 10, "d", spread=0.05)
    so, sd = traveltime.snap(rutland, o), traveltime.snap(rutland, d)
    road = traveltime.node_times(rutland, so["node"].to_numpy())[:, sd["node"].to_numpy()]
    expected = so["access_minutes"].to_numpy()[:, None] + road + sd["access_minutes"].to_numpy()
    one = traveltime.od_matrix(rutland, o, d, snap_nodes=1)
    np.testing.assert_allclose(one["minutes"], expected.ravel(), rtol=0, atol=1e-9)
    assert one.attrs["snap_nodes"] == "1"
    four = traveltime.od_matrix(rutland, o, d)
    assert four.attrs["snap_nodes"] == "4"
    # more entry nodes never make a trip longer, and here they shorten some
    assert (four["minutes"].to_numpy() <= one["minutes"].to_numpy() + 1e-12).all()
    assert (four["minutes"].to_numpy() < one["minutes"].to_numpy() - 0.01).any()


@pytest.mark.parametrize("bad", [0, 17, 2.5, True, "4"])
def test_bad_snap_nodes(rutland: DriveGraph, bad: object) -> None:
    pts = _points(rutland, 2, 1, "p")
    with pytest.raises(ValidationError, match="snap_nodes must be a whole number from 1 to 16"):
        traveltime.od_matrix(rutland, pts, pts, snap_nodes=bad)  # type: ignore[arg-type]


# ----------------------------------------------------------------------- candidates
def test_candidate_radius_rule_by_hand() -> None:
    """Nodes 1, 1.5, 2.5, 4.6 and 6 km east of a point: radius max(2, 1 + 3) = 4 km."""
    assert candidate_radius_km(np.array([0.0, 1.0, 2.5, 10.0])).tolist() == [3, 4, 5.5, 20]
    lat = 53.8
    km_per_deg = 111.32 * np.cos(np.radians(lat))
    east_km = np.array([1.0, 1.5, 2.5, 4.6, 6.0])
    nodes = pd.DataFrame(
        {"node": np.arange(5), "lon": -1.5 + east_km / km_per_deg, "lat": np.full(5, lat)}
    )
    edges = pd.DataFrame({"u": [0, 1, 2, 3], "v": [1, 2, 3, 4], "length_km": [1.0] * 4})
    G = network.graph_from_edge_list(nodes, edges)
    pts = pd.DataFrame({"id": ["p", "q"], "lon": [-1.5, -1.5 + 4.6 / km_per_deg], "lat": lat})
    s = traveltime.snap(G, pts)
    e = entry_nodes(G, s, snap_nodes=5, access=lambda km, _s: km * 1.3 / 25 * 60)
    # p: 1, 1.5 and 2.5 km in (<= 4 km), 4.6 and 6 km out; q sits on node 3: radius 3 km
    # takes node 4 (1.4 km) and node 2 (2.1 km), not node 1 (3.1 km)
    assert e.nodes[0].tolist() == [0, 1, 2, -1, -1]
    assert e.nodes[1].tolist() == [3, 4, 2, -1, -1]
    np.testing.assert_allclose(e.km[0, :3], [1.0, 1.5, 2.5], atol=0.01)
    np.testing.assert_allclose(e.minutes[0, :3], e.km[0, :3] * 1.3 / 25 * 60)
    assert e.minutes[0, 0] == s["access_minutes"].iloc[0]  # column 0 is snap()'s, bit for bit
    assert np.isinf(e.minutes[0, 3:]).all()
    # at most snap_nodes entries
    two = entry_nodes(G, s, snap_nodes=2, access=lambda km, _s: km)
    assert two.nodes.tolist() == [[0, 1], [3, 4]]


@pytest.mark.filterwarnings("ignore:.*snapped more than")
def test_island_points_enter_at_island_nodes_only() -> None:
    G = network.graph_from_name("england-major-roads")
    pts = pd.DataFrame(
        {
            "id": ["ryde", "newport", "southampton", "lymington"],
            "lon": [-1.16, -1.30, -1.4341, -1.545],
            "lat": [50.73, 50.70, 50.9329, 50.758],
        }
    )
    s = traveltime.snap(G, pts)
    e = entry_nodes(G, s, snap_nodes=4, access=G.profile.access_minutes)
    wight = set(G.islands["Isle of Wight"])
    for i, name in enumerate(pts["id"]):
        got = {int(n) for n in e.nodes[i] if n >= 0}
        if name in {"ryde", "newport"}:
            assert got <= wight
            # Newport (inland) can take more than one terminal within its radius
            assert len(got) >= (2 if name == "newport" else 1)
        else:
            assert not got & wight  # mainland points never enter on the island
    # the island is still reached by ferry only: Ryde -> Southampton over 40 min + check-in
    od = traveltime.od_matrix(G, pts.head(1), pts.iloc[[2]]).set_index("destination_id")
    assert od.loc["southampton", "minutes"] > 40 + G.profile.checkin_minutes


def test_od_metadata_names_snap_nodes(rutland: DriveGraph, tmp_path: Path) -> None:
    import json

    pts = _points(rutland, 2, 3, "p")
    od = traveltime.od_matrix(rutland, pts, pts, snap_nodes=3)
    traveltime.to_csv(od, tmp_path / "od.csv")
    meta = json.loads((tmp_path / "od.csv.meta.json").read_text())
    assert meta["snap_nodes"] == "3"
    assert meta["profile"] == "free_flow"


# ----------------------------------------------------------------------- where it is set
def test_cli_snap_nodes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    import cli

    o, d = tmp_path / "o.csv", tmp_path / "d.csv"
    o.write_text("id,lon,lat\na,-0.65,52.65\nb,-0.55,52.62\nc,-0.60,52.70\n")
    d.write_text("id,lon,lat\noak,-0.7275,52.6705\nupp,-0.7231,52.5870\n")
    base = ["traveltimes", "--network", "rutland", "--origins", str(o), "--destinations", str(d)]
    tables = {}
    for k in ("1", "4", None):
        out = tmp_path / f"od{k}.csv"
        assert cli.main([*base, "--out", str(out), *(["--snap-nodes", k] if k else [])]) == 0
        meta = json.loads(out.with_name(out.name + ".meta.json").read_text())
        assert meta["snap_nodes"] == (k or "4")  # the default is defaults.yaml's 4
        tables[k] = pd.read_csv(out)
    pd.testing.assert_frame_equal(tables["4"], tables[None])
    assert (tables["4"]["minutes"] <= tables["1"]["minutes"] + 1e-3).all()
    capsys.readouterr()
    assert cli.main([*base, "--out", str(tmp_path / "x.csv"), "--snap-nodes", "0"]) != 0
    assert "entry nodes from 1 to 16" in capsys.readouterr().err


def test_scenario_network_snap_nodes(tmp_path: Path) -> None:
    from netplan import ScenarioError, defaults
    from netplan.scenario import Scenario

    assert defaults.get("network.snap_nodes") == 4
    assert Scenario().network.snap_nodes == 4
    root = Path(__file__).resolve().parents[1]
    path = tmp_path / "one.yaml"
    path.write_text(
        f"extends: {root / 'scenarios' / 'rutland_small.yaml'}\nnetwork: {{snap_nodes: 1}}\n"
    )
    s = Scenario.from_yaml(path)
    assert s.network.snap_nodes == 1
    assert s.to_dict()["network"]["snap_nodes"] == 1  # written to scenario.resolved.yaml
    path.write_text("network: {snap_nodes: 0}\n")
    with pytest.raises(ScenarioError, match="snap_nodes"):
        Scenario.from_yaml(path)


@pytest.mark.filterwarnings("ignore:.*snapped more than")
def test_one_snap_node_reproduces_the_previous_times_exactly() -> None:
    """Golden times written by netplan before multi-node snapping (nearest node only).

    ``tests/data/od_nearest_node_golden.csv``: Rutland LSOAs to three sites on full-detail
    OSM and 15 English LSOAs to the 28 contract sites on ``england-major-roads`` (without gap
    repair, which is new), written at full float precision; snap_nodes=1 gives them bit for
    bit.
    """
    from netplan import data

    golden = pd.read_csv(Path(__file__).parent / "data" / "od_nearest_node_golden.csv")
    zones = data.load_lsoa_zones("E").set_index("id")[["lon", "lat"]]
    root = Path(__file__).resolve().parents[1]
    contract = pd.read_csv(root / "data" / "contract_sites.csv")[["id", "lon", "lat"]]
    rutland_sites = pd.DataFrame(
        {
            "id": ["OAKHAM", "UPPINGHAM", "EMPINGHAM"],
            "lon": [-0.7270, -0.7230, -0.5960],
            "lat": [52.6700, 52.5870, 52.6680],
        }
    )
    graphs = {
        "rutland": (network.graph_from_name("rutland"), rutland_sites, {}),
        "england-major-roads": (
            network.graph_from_name("england-major-roads", repair_gaps=False),
            contract,
            {"max_minutes": 120, "on_outside": "warn"},
        ),
    }
    for name, (G, sites, kw) in graphs.items():
        want = golden[golden["network"] == name].reset_index(drop=True)
        ids = list(dict.fromkeys(want["origin_id"]))
        pts = zones.loc[ids].reset_index()
        got = traveltime.od_matrix(G, pts, sites, snap_nodes=1, **kw)
        got = got[got["origin_id"].isin(ids)].reset_index(drop=True)
        pd.testing.assert_frame_equal(
            got, want[["origin_id", "destination_id", "minutes"]], check_exact=True
        )
