"""Tests for netplan.isochrones: reachable-edge polygons."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.sparse import csgraph

import cli
from netplan import ValidationError, isochrones, network, traveltime
from netplan._snapping import entry_nodes
from netplan.network import DriveGraph

OAKHAM = pd.DataFrame({"id": ["oakham"], "lon": [-0.7275], "lat": [52.6705]})


@pytest.fixture(scope="module")
def rutland(mirror: Path) -> DriveGraph:
    return network.graph_from_file(mirror / "osm" / "rutland-2018-02-27.osm.pbf")


def test_contains_reachable_nodes_not_beyond(rutland: DriveGraph) -> None:
    T = 10.0
    buffer_m, simplify_m = 100.0, 20.0
    gdf = isochrones.isochrones(
        rutland, OAKHAM, minutes=(T,), buffer_m=buffer_m, simplify_m=simplify_m
    )
    assert list(gdf.columns) == ["site_id", "minutes", "geometry"]
    assert gdf.crs.to_epsg() == 4326
    poly = gdf.to_crs(27700).geometry.iloc[0]
    s = traveltime.snap(rutland, OAKHAM)
    # time from every node to the site (reversed graph), plus the site's access leg
    t = csgraph.dijkstra(rutland.csr_reverse, indices=[s["node"].item()])[0]
    t = t + s["access_minutes"].item()
    pts = shapely.points(rutland.x, rutland.y)
    inside = shapely.contains(poly, pts)
    reached = t <= T
    assert reached.sum() > 500
    assert inside[reached].all()
    # Nodes beyond T that lie further than buffer + simplify from every reached
    # (part-)edge must be outside.
    u, v, w = rutland.edge_u, rutland.edge_v, rutland.edge_minutes
    ok = t[v] < T
    frac = np.clip((T - t[v][ok]) / w[ok], 0, 1)
    x1 = rutland.x[v[ok]] + (rutland.x[u[ok]] - rutland.x[v[ok]]) * frac
    y1 = rutland.y[v[ok]] + (rutland.y[u[ok]] - rutland.y[v[ok]]) * frac
    lines = shapely.linestrings(
        np.stack(
            [np.column_stack([rutland.x[v[ok]], rutland.y[v[ok]]]), np.column_stack([x1, y1])],
            axis=1,
        )
    )
    reach_lines = shapely.union_all(lines)
    beyond = np.isfinite(t) & (t > T)
    clear = beyond & (shapely.distance(reach_lines, pts) > buffer_m + simplify_m + 1)
    assert clear.sum() > 1000
    assert not inside[clear].any()
    # not a convex hull: the polygon covers much less than its hull
    assert poly.area < 0.8 * poly.convex_hull.area


def test_partial_edge_is_cut_at_threshold() -> None:
    # One 13 km major road (65 km/h: 12 min); a 6-minute budget reaches half of it.
    nodes = pd.DataFrame({"node": [1, 2], "lon": [-1.5, -1.5 + 13 / 66.0], "lat": [53.8, 53.8]})
    edges = pd.DataFrame({"u": [1], "v": [2], "length_km": [13.0]})
    G = network.graph_from_edge_list(nodes, edges)
    site = pd.DataFrame({"id": ["s"], "lon": [-1.5], "lat": [53.8]})
    gdf = isochrones.isochrones(
        G, site, minutes=(6, 12), buffer_m=50, simplify_m=0, include_access=False
    ).to_crs(27700)
    chord_m = float(np.hypot(np.diff(G.x), np.diff(G.y))[0])
    six, twelve = gdf.geometry.iloc[0], gdf.geometry.iloc[1]
    # length of the corridor ~ reached length + 2 x buffer
    width_six = six.bounds[2] - six.bounds[0]
    assert width_six == pytest.approx(chord_m / 2 + 100, rel=0.01)
    assert twelve.bounds[2] - twelve.bounds[0] == pytest.approx(chord_m + 100, rel=0.01)
    with_access = isochrones.isochrones(
        G, site, minutes=(6,), simplify_m=0, include_access=True
    ).to_crs(27700)
    # the site's node has 6 min left: disc radius 6/60 h x 25 km/h / 1.3 = 1.92 km
    assert with_access.geometry.iloc[0].area > np.pi * 1900**2 * 0.95


def test_direction_on_one_way_street() -> None:
    # 1 -> 2 is one-way (6 min); the way back 2 - 3 - 1 is two-way and 24 min long.
    nodes = pd.DataFrame({"node": [1, 2, 3], "lon": [-1.5, -1.4, -1.45], "lat": [53.8, 53.8, 53.7]})
    edges = pd.DataFrame(
        {
            "u": [1, 2, 3],
            "v": [2, 3, 1],
            "length_km": [6.5, 13.0, 13.0],
            "oneway": [True, False, False],
        }
    )
    G = network.graph_from_edge_list(nodes, edges)
    site = pd.DataFrame({"id": ["s"], "lon": [-1.5], "lat": [53.8]})
    kw = {"minutes": (10,), "simplify_m": 0, "include_access": False, "buffer_m": 50}
    out = isochrones.isochrones(G, site, direction="from_site", **kw).to_crs(27700)
    into = isochrones.isochrones(G, site, direction="to_site", **kw).to_crs(27700)
    mid = shapely.points((G.x[0] + G.x[1]) / 2, (G.y[0] + G.y[1]) / 2)
    # Driving out reaches along the one-way road; from it nobody gets back within 10 min.
    assert out.geometry.iloc[0].contains(mid)
    assert not into.geometry.iloc[0].contains(mid)
    assert into.geometry.iloc[0].area > 0


def test_major_roads_isochrone_and_export(tmp_path: Path) -> None:
    G = network.graph_from_name("england-major-roads")
    sites = pd.DataFrame(
        {"id": ["leeds", "york"], "lon": [-1.5491, -1.0815], "lat": [53.8008, 53.9600]}
    )
    gdf = isochrones.isochrones(G, sites, minutes=(30, 60))
    assert gdf["site_id"].tolist() == ["leeds", "leeds", "york", "york"]
    area = gdf.to_crs(27700).area.to_numpy() / 1e6
    assert area[1] > 2 * area[0] > 0
    assert area[3] > 2 * area[2] > 0
    # 60 min contains 30 min (up to simplification)
    assert gdf.geometry.iloc[1].buffer(0.002).contains(gdf.geometry.iloc[0])
    path = isochrones.to_file(gdf, tmp_path / "iso.geojson")
    back = gpd.read_file(path)
    assert len(back) == 4
    assert back.crs.to_epsg() == 4326
    gpkg = isochrones.to_file(gdf, tmp_path / "iso.gpkg")
    assert len(gpd.read_file(gpkg)) == 4
    with pytest.raises(ValidationError, match="unknown output format"):
        isochrones.to_file(gdf, tmp_path / "iso.txt")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"minutes": (0,)}, "positive"),
        ({"minutes": ()}, "positive"),
        ({"direction": "sideways"}, "direction"),
        ({"buffer_m": 0}, "buffer_m"),
    ],
)
def test_bad_options(rutland: DriveGraph, kwargs: dict, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        isochrones.isochrones(rutland, OAKHAM, **kwargs)


def test_cli_isochrones(tmp_path: Path) -> None:
    sites = tmp_path / "s.csv"
    sites.write_text("id,lon,lat\noak,-0.7275,52.6705\n")
    out = tmp_path / "iso.geojson"
    assert (
        cli.main(
            [
                "isochrones",
                "--network",
                "rutland",
                "--sites",
                str(sites),
                "--minutes",
                "5,10",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    gdf = gpd.read_file(out)
    assert gdf["minutes"].tolist() == [5.0, 10.0]
    assert gdf.to_crs(27700).area.iloc[1] > gdf.to_crs(27700).area.iloc[0]


def _reference_polygon(G: DriveGraph, t: np.ndarray, T: float, *, buffer_m: float, access: bool):
    """The definition drawn naively: every reachable (part-)edge buffered, every access disc."""
    u, v, w = G.edge_u, G.edge_v, G.edge_minutes
    ok = t[v] < T
    frac = np.clip((T - t[v][ok]) / np.where(w[ok] > 0, w[ok], 1.0), 0, 1)
    x0, y0 = G.x[v[ok]], G.y[v[ok]]
    x1 = x0 + (G.x[u[ok]] - x0) * frac
    y1 = y0 + (G.y[u[ok]] - y0) * frac
    lines = shapely.linestrings(
        np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], axis=1)
    )
    parts = list(shapely.buffer(lines, buffer_m, quad_segs=4))
    if access:
        reached = np.flatnonzero(t <= T)
        r = np.minimum((T - t[reached]) / 60.0 * 25.0 / 1.3, 5.0) * 1000.0
        big = r > buffer_m
        pts = shapely.points(G.x[reached[big]], G.y[reached[big]])
        parts += list(shapely.buffer(pts, r[big], quad_segs=8))
    return shapely.union_all(parts)


@pytest.mark.parametrize("graph", ["rutland", "major"])
def test_fast_union_equals_naive_union(rutland: DriveGraph, graph: str) -> None:
    # The pruned, incremental polygons (30 then 60 min) against the naive union (discs with 8
    # vertices a quarter, corridors with 4): the fast one draws small discs and corridor ends
    # with fewer vertices (powers of two, each no further than 24.1 m, the 5-km disc's own
    # chord depth, inside its circle), so it lies inside the naive union, smaller by at most
    # 24.1 m times the naive boundary's length (and by under 0.5 % here).
    G = rutland if graph == "rutland" else network.graph_from_name("england-major-roads")
    sites = pd.DataFrame({"id": ["a"], "lon": [-0.7275], "lat": [52.6705]})
    if graph == "major":
        sites = pd.DataFrame({"id": ["leeds"], "lon": [-1.5491], "lat": [53.8008]})
    access = graph == "major"
    kw = {"buffer_m": 100.0, "simplify_m": 0, "include_access": access}
    kw |= {"detour_factor": 1.3, "access_speed_kph": 25.0}
    minutes = (10, 20) if graph == "rutland" else (30, 60)
    gdf = isochrones.isochrones(G, sites, minutes=minutes, **kw).to_crs(27700)
    s = traveltime.snap(G, sites, detour_factor=1.3, access_speed_kph=25.0)
    # the site's entry nodes (snap_nodes=4): the fastest entry's road time + access leg
    e = entry_nodes(G, s, snap_nodes=4, access=lambda km, _share: km * 1.3 / 25.0 * 60.0)
    ok = e.nodes[0] >= 0
    t = csgraph.dijkstra(G.csr_reverse, indices=e.nodes[0, ok])
    t = np.min(t + e.minutes[0, ok, None], axis=0)
    pts = shapely.points(G.x, G.y)
    for k, T in enumerate(minutes):
        ref = _reference_polygon(G, t, T, buffer_m=100.0, access=access)
        got = gdf.geometry.iloc[k]
        # reprojection to WGS84 and back moves each vertex by about a millimetre
        assert got.difference(ref).area < 1e-5 * ref.area
        assert 0 <= ref.area - got.area <= 24.1 * ref.length
        assert got.area == pytest.approx(ref.area, rel=5e-3)
        assert shapely.contains(got, pts[t <= T]).all()
    # a second call is served from the graph's cache with the same polygons
    again = isochrones.isochrones(G, sites, minutes=minutes, **kw).to_crs(27700)
    assert again.geometry.iloc[1].area == pytest.approx(gdf.geometry.iloc[1].area, rel=1e-12)
    assert len(G._cache["isochrones"]) >= 2


def test_array_built_discs_and_corridors_match_shapely_buffer() -> None:
    # _discs and _capsules draw what shapely.buffer draws with the same vertices a quarter.
    rng = np.random.default_rng(3)
    x0, y0, x1, y1 = rng.uniform(0, 1000, (4, 20))
    r = rng.uniform(50, 500, 20)
    q = np.array([2, 4, 8] * 6 + [2, 4])
    discs = isochrones._discs(x0, y0, r, q)
    for k in range(20):
        ref = shapely.buffer(shapely.Point(x0[k], y0[k]), r[k], quad_segs=int(q[k]))
        assert shapely.get_num_coordinates(discs[k]) == shapely.get_num_coordinates(ref)
        assert discs[k].symmetric_difference(ref).area < 1e-9 * ref.area
    for qs in (2, 4):
        caps = isochrones._capsules(x0, y0, x1, y1, 100.0, qs)
        segments = np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], axis=1)
        ref = shapely.buffer(shapely.linestrings(segments), 100.0, quad_segs=qs)
        assert np.all(shapely.is_valid(caps))
        assert np.all(shapely.area(shapely.symmetric_difference(caps, ref)) < 1e-6 * 1e5)


def test_quad_segs_keep_chords_within_the_capped_disc_depth() -> None:
    dev_m = 5000 * (1 - np.cos(np.pi / 32))  # 24.1 m
    r = np.array([0.0, 150.0, 315.0, 320.0, 1250.0, 1300.0, 5000.0, 9000.0])
    q = isochrones._quad_segs(r, dev_m)
    assert q.tolist() == [2, 2, 2, 4, 4, 8, 8, 8]
    depth = r * (1 - np.cos(np.pi / (4 * q)))
    assert np.all(depth[r <= 5000] <= dev_m + 1e-9)


def test_simplify_returns_valid_polygons_no_larger_than_the_tolerance_allows() -> None:
    # A comb whose teeth the plain Douglas-Peucker would fold over: still valid.
    teeth = [shapely.box(i * 30.0, 0, i * 30.0 + 10, 500) for i in range(20)]
    comb = shapely.union_all([*teeth, shapely.box(0, 0, 600, 20)])
    ring = shapely.Point(0, 0).buffer(1000, quad_segs=64)
    geoms = np.array([comb, ring, shapely.Polygon()], dtype=object)
    out = isochrones._simplify(geoms, 50.0)
    assert shapely.is_valid(out).all()
    assert out[2].is_empty
    assert shapely.get_num_coordinates(out[1]) < shapely.get_num_coordinates(ring)
    assert abs(out[1].area - ring.area) <= 50.0 * ring.length


def test_core_first_union_is_the_same_union(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Leeds at 60 min on the major roads: thousands of discs, drawn core first or all at once
    # (each in its own empty isochrone disk cache, so both are built).
    G = network.graph_from_name("england-major-roads")
    sites = pd.DataFrame({"id": ["leeds"], "lon": [-1.5491], "lat": [53.8008]})
    calls = []
    core_first = isochrones._core_first
    monkeypatch.setattr(isochrones, "_core_first", lambda *a: calls.append(1) or core_first(*a))
    kw = {"minutes": (60,), "simplify_m": 0}
    G._cache.pop("isochrones", None)
    monkeypatch.setattr(isochrones, "_cache_root", lambda: tmp_path / "core-first")
    fast = isochrones.isochrones(G, sites, **kw).to_crs(27700).geometry.iloc[0]
    assert calls
    monkeypatch.setattr(isochrones, "_CORE_MIN_DISCS", 10**9)
    monkeypatch.setattr(isochrones, "_cache_root", lambda: tmp_path / "plain")
    G._cache.pop("isochrones", None)
    plain = isochrones.isochrones(G, sites, **kw).to_crs(27700).geometry.iloc[0]
    assert len(calls) == 1
    assert fast.area == pytest.approx(plain.area, rel=1e-9)
    assert fast.symmetric_difference(plain).area < 1e-7 * plain.area


def test_polygons_are_read_back_from_the_disk_cache(
    mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second process (a new graph object) reads the polygons from the cache folder bit
    for bit instead of building them; a corrupt cache file is built again; another speed
    profile (other edge minutes) does not read the first one's polygons."""
    from netplan import settings

    monkeypatch.setattr(settings, "cache_folder", tmp_path / "cache")
    src = mirror / "osm" / "rutland-2018-02-27.osm.pbf"
    first = isochrones.isochrones(network.graph_from_file(src), OAKHAM, minutes=(10, 20))
    files = sorted((tmp_path / "cache" / "isochrones").rglob("*.wkb"))
    assert len(files) == 2
    built = []
    real = isochrones._reach_polygon
    monkeypatch.setattr(
        isochrones, "_reach_polygon", lambda *a, **k: built.append(1) or real(*a, **k)
    )
    again = isochrones.isochrones(network.graph_from_file(src), OAKHAM, minutes=(10, 20))
    assert built == []
    assert [g.wkb for g in again.geometry] == [g.wkb for g in first.geometry]
    files[0].write_bytes(b"not a polygon")
    third = isochrones.isochrones(network.graph_from_file(src), OAKHAM, minutes=(10, 20))
    assert len(built) == 1
    assert [g.wkb for g in third.geometry] == [g.wkb for g in first.geometry]
    G = network.graph_from_file(src)
    G.edge_minutes = G.edge_minutes * 1.5
    slower = isochrones.isochrones(G, OAKHAM, minutes=(10, 20))
    assert len(built) == 3
    assert slower.to_crs(27700).area.sum() < first.to_crs(27700).area.sum()
