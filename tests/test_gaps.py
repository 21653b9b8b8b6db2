"""Gap repair of the derived major-road network (netplan._gaps)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from netplan import network, traveltime
from netplan._gaps import find_gaps, join_gaps

LAT = 53.8
KM_PER_DEG_LON = 111.32 * np.cos(np.radians(LAT))
KM_PER_DEG_LAT = 111.25


def _graph(xy_km: dict[int, tuple[float, float]], edges: list[tuple[int, int, float]]):
    """A two-way edge-list graph near Leeds from node offsets (km) and edge lengths (km)."""
    ids = sorted(xy_km)
    nodes = pd.DataFrame(
        {
            "node": ids,
            "lon": [-1.5 + xy_km[i][0] / KM_PER_DEG_LON for i in ids],
            "lat": [LAT + xy_km[i][1] / KM_PER_DEG_LAT for i in ids],
        }
    )
    e = pd.DataFrame(edges, columns=["u", "v", "length_km"])
    return network.graph_from_edge_list(nodes, e)  # no profile: major roads at 65 km/h


def _two_roads(arm_km: float, detour_km: float):
    """Road A ends at node 1, 100 m short of node 2 (a dead end of road B); they meet at
    the far ends through node 4, so 1 -> 2 by road is ``2 x arm_km + detour_km``.

    0 --arm-- 1 (dead end)   (dead end) 2 --arm-- 3
    0 ------------- detour_km via node 4 -------- 3
    """
    xy = {0: (0.0, 0.0), 1: (1.0, 0.0), 2: (1.1, 0.0), 3: (2.1, 0.0), 4: (1.05, -0.3)}
    half = detour_km / 2
    return _graph(xy, [(0, 1, arm_km), (2, 3, arm_km), (0, 4, half), (4, 3, half)])


def test_find_gaps_by_hand() -> None:
    x = np.array([0.0, 1000.0, 1100.0, 2100.0, 1050.0])
    y = np.array([0.0, 0.0, 0.0, 0.0, -300.0])
    u, v = np.array([0, 2, 0, 4]), np.array([1, 3, 4, 3])
    # node 1 (dead end) is 100 m from node 2, 1 + 5 + 1 = 7 km away by road: joined
    a, b, gap = find_gaps(x, y, u, v, np.array([1000.0, 1000.0, 2500.0, 2500.0]))
    assert (a.tolist(), b.tolist()) == ([1], [2])
    assert gap.tolist() == pytest.approx([100.0])
    # a 1.3 km road path (0.4 + 0.25 + 0.25 + 0.4): not a gap (the limit is 2 km)
    a, _, _ = find_gaps(x, y, u, v, np.array([400.0, 400.0, 250.0, 250.0]))
    assert len(a) == 0
    # more than 150 m apart: not a gap
    far = x.copy()
    far[2:4] += 100.0  # node 2 now 200 m from node 1
    a, _, _ = find_gaps(far, y, u, v, np.array([1000.0, 1000.0, 2500.0, 2500.0]))
    assert len(a) == 0
    # both ends dead ends facing each other: one link, not two
    a, b, _ = find_gaps(x[:4], y[:4], np.array([0, 2]), np.array([1, 3]), np.array([1e3, 1e3]))
    assert (a.tolist(), b.tolist()) == ([1], [2])


def test_join_gaps_adds_a_two_way_major_edge() -> None:
    G = _two_roads(arm_km=1.0, detour_km=5.0)
    J = join_gaps(G)
    assert J.n_nodes == G.n_nodes
    assert J.n_edges == G.n_edges + 2
    new = J.edges_frame().iloc[G.n_edges :]
    assert sorted(zip(new["u"], new["v"], strict=True)) == [(1, 2), (2, 1)]
    assert (new["highway"] == "major").all()
    assert new["length_m"].to_numpy() == pytest.approx([100.0, 100.0], rel=0.01)
    # 100 m at the major-road speed (65 km/h without a profile)
    assert new["minutes"].to_numpy() == pytest.approx([0.1 / 65 * 60] * 2, rel=0.01)
    # from node 1 to node 2 (points on them; one entry node each)
    pts = pd.DataFrame({"id": ["A", "B"], "lon": J.lon[[1, 2]], "lat": J.lat[[1, 2]]})
    kw = {"snap_nodes": 1}
    before = traveltime.od_matrix(G, pts.head(1), pts.tail(1), **kw)["minutes"].item()
    after = traveltime.od_matrix(J, pts.head(1), pts.tail(1), **kw)["minutes"].item()
    assert before == pytest.approx(7.0 / 65 * 60, abs=1e-6)  # 1 + 5 + 1 km round
    assert after == pytest.approx(0.1 / 65 * 60, rel=0.01)  # across the 100 m link


def test_join_gaps_leaves_a_graph_with_a_short_road_path() -> None:
    G = _two_roads(arm_km=0.4, detour_km=0.5)  # 1.3 km by road
    assert join_gaps(G) is G
    assert join_gaps(_two_roads(arm_km=0.4, detour_km=1.3)).n_edges == G.n_edges + 2  # 2.1 km


def test_england_gap_repair_and_cache_key() -> None:
    G = network.graph_from_name("england-major-roads")
    G0 = network.graph_from_name("england-major-roads", repair_gaps=False)
    assert G.key != G0.key  # a cached unrepaired graph is never read as a repaired one
    added = G.n_edges - G0.n_edges
    assert added == 2 * 39  # the mirror network's gaps, both directions
    # the joined pairs are within 150 m and the links are major roads
    ef = G.edges_frame()
    road_edges = 2 * 30_479
    links = ef.iloc[road_edges : road_edges + added]
    assert (links["highway"] == "major").all()
    assert links["length_m"].max() <= 150.0
    # full-detail OSM is never repaired: the option leaves its graph (and key) alone
    assert network.graph_from_name("rutland", repair_gaps=False).key == (
        network.graph_from_name("rutland").key
    )
