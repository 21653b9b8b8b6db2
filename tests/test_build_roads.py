"""Deriving the major-road network from an OSM extract (netplan._build_roads)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from netplan import _build_roads
from netplan._errors import NetworkError
from netplan._geo import _haversine_m

# Seven nodes; ways: primary 1-2-3, trunk 3-4, residential 4-5 (not major), and a primary
# 6-7 that touches nothing (a smaller component, dropped).
XY = {1: (-1.50, 53.80), 2: (-1.49, 53.81), 3: (-1.48, 53.80), 4: (-1.47, 53.80),
      5: (-1.46, 53.80), 6: (-1.30, 53.90), 7: (-1.31, 53.90)}  # fmt: skip
WAYS = {10: ("primary", [1, 2, 3]), 11: ("trunk", [3, 4]), 12: ("residential", [4, 5]),
        13: ("primary", [6, 7])}  # fmt: skip


def _osm(path: Path) -> Path:
    nodes = "".join(
        f'<node id="{i}" version="1" lat="{lat}" lon="{lon}"/>\n' for i, (lon, lat) in XY.items()
    )
    ways = "".join(
        f'<way id="{w}" version="1">'
        + "".join(f'<nd ref="{n}"/>' for n in ids)
        + f'<tag k="highway" v="{cls}"/></way>\n'
        for w, (cls, ids) in WAYS.items()
    )
    path.write_text(f"<?xml version='1.0'?>\n<osm version='0.6'>\n{nodes}{ways}</osm>\n")
    return path


def _km(a: int, b: int) -> float:
    (x0, y0), (x1, y1) = XY[a], XY[b]
    return (
        float(_haversine_m(np.array([x0]), np.array([y0]), np.array([x1]), np.array([y1]))[0])
        / 1000
    )


def test_ways_split_at_junctions_with_lengths_along_the_road(tmp_path: Path) -> None:
    nodes, edges = _build_roads.major_roads(_osm(tmp_path / "tiny.osm"))
    # nodes 1, 3, 4 remain (2 is inside a way, 5 only on a residential road, 6-7 dropped)
    got = {(r.lon, r.lat) for r in nodes.itertuples()}
    assert got == {XY[1], XY[3], XY[4]}
    at = {(r.lon, r.lat): r.node for r in nodes.itertuples()}
    lengths = {frozenset((int(r.u), int(r.v))): r.length_km for r in edges.itertuples()}
    assert lengths == {
        frozenset((at[XY[1]], at[XY[3]])): pytest.approx(_km(1, 2) + _km(2, 3), abs=1e-4),
        frozenset((at[XY[3]], at[XY[4]])): pytest.approx(_km(3, 4), abs=1e-4),
    }
    assert (edges["u"] < edges["v"]).all()
    nf, ef = _build_roads.write(nodes, edges, tmp_path / "out")
    assert pd.read_csv(nf).columns.tolist() == ["node", "lat", "lon"]
    assert pd.read_csv(ef).columns.tolist() == ["u", "v", "length_km"]


def test_the_rutland_extract_gives_the_mirrors_junctions(mirror: Path, tmp_path: Path) -> None:
    nodes, edges = _build_roads.major_roads(mirror / "osm" / "rutland-2018-02-27.osm.pbf")
    assert len(edges) > 100
    # the mirror's major-road nodes well inside the Rutland extract are ours too
    ref = pd.read_csv(mirror / "roads" / "ew_major_roads_nodes.csv")
    inner = ref[ref["lon"].between(-0.78, -0.47) & ref["lat"].between(52.56, 52.72)]
    assert len(inner) >= 20
    near = [
        _haversine_m(np.full(len(nodes), r.lon), np.full(len(nodes), r.lat),
                     nodes["lon"].to_numpy(), nodes["lat"].to_numpy()).min()
        for r in inner.itertuples()
    ]  # fmt: skip
    assert np.mean(np.array(near) <= 150.0) >= 0.8, sorted(near)
    # and the CLI writes the two files
    assert _build_roads.main([str(mirror / "osm" / "rutland-2018-02-27.osm.pbf"),
                              "--out-dir", str(tmp_path)]) == 0  # fmt: skip
    assert len(pd.read_csv(tmp_path / _build_roads.EDGES_FILE)) == len(edges)


def test_a_file_without_major_roads_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "none.osm"
    path.write_text("<?xml version='1.0'?>\n<osm version='0.6'></osm>\n")
    with pytest.raises(NetworkError, match="no roads of class"):
        _build_roads.major_roads(path)
