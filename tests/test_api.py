"""The Python API an analyst meets: names, GeoDataFrames, notebook display, the map, saved
runs read back, polygon inputs, and the GIS / JSON outputs of a run."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

import netplan
from cli import main
from netplan.scenario import Scenario, ScenarioResult

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "scenarios" / "rutland_small.yaml"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[ScenarioResult, Path]:
    result = Scenario.from_yaml(SMALL).run()
    out = tmp_path_factory.mktemp("api") / "run"
    result.to_folder(out)
    return result, out


def test_dir_and_all_show_the_public_names_lazily() -> None:
    names = dir(netplan)
    for name in ("Scenario", "ScenarioResult", "scenario", "report", "maps", "data", "defaults"):
        assert name in names
        assert name in netplan.__all__
    for name in netplan.__all__:
        assert getattr(netplan, name) is not None
    code = "import sys, netplan; dir(netplan); print('netplan.scenario' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"  # listing names imports nothing


def test_sites_and_cyclotrons_are_geodataframes(run) -> None:
    result, _ = run
    for table in (result.sites, result.zones, result.cyclotrons):
        assert isinstance(table, gpd.GeoDataFrame)
        assert table.crs.to_epsg() == 4326
    np.testing.assert_allclose(result.sites.geometry.x, result.sites["lon"])
    np.testing.assert_allclose(result.sites.geometry.y, result.sites["lat"])
    xy = pd.DataFrame(result.cyclotron_points).set_index("id")
    lon = result.cyclotrons["cyclotron_id"].map(xy["lon"])
    np.testing.assert_allclose(result.cyclotrons.geometry.x, lon)
    assert list(result.cyclotrons["cyclotron_id"]) == ["oakham_cyc"]


def test_repr_html_and_explore(run) -> None:
    import folium

    result, _ = run
    html = result._repr_html_()
    share = 100 * result.totals["share_within_standard"]
    assert f"{share:.1f} % of the population" in html
    assert "rutland_small" in html
    opened = result.sites[result.sites["open"]]
    for name in opened["site_id"]:
        assert f"<td>{name}</td>" in html
    m = result.explore()
    assert isinstance(m, folium.Map)
    page = m.get_root().render()
    for name in opened["name"]:
        assert name in page


def test_from_folder_reads_a_run_back_exactly(run, tmp_path: Path) -> None:
    result, out = run
    back = ScenarioResult.from_folder(out)
    assert back.scenario.name == result.scenario.name
    assert back.scenario.drive_minutes == result.scenario.drive_minutes
    assert back.totals["population"] == result.totals["population"]
    assert back.totals["annual_cost_gbp"] == pytest.approx(result.totals["annual_cost_gbp"])
    assert len(back.isochrones) == len(result.isochrones)
    again = tmp_path / "again"
    back.to_folder(again)
    for name in ("sites", "zones", "coverage", "summary", "cyclotrons", "uncovered", "candidates"):
        assert (again / f"{name}.csv").read_bytes() == (out / f"{name}.csv").read_bytes(), name
    with pytest.raises(netplan.ScenarioError, match=r"no scenario\.resolved\.yaml"):
        ScenarioResult.from_folder(tmp_path)


def test_compare_reuses_saved_runs(run, tmp_path: Path, capsys) -> None:
    _, out = run
    variant = tmp_path / "none.yaml"
    variant.write_text(f"extends: {SMALL}\nname: no_mobile\nfleet: {{mobile_units: 0}}\n")
    cmp = tmp_path / "cmp"
    assert main(["compare", str(out), str(variant), "--out", str(cmp), "-q"]) == 0
    table = pd.read_csv(cmp / "comparison.csv")
    assert list(table["scenario"]) == ["rutland_small", "no_mobile"]
    saved = pd.read_csv(out / "summary.csv")
    assert table.loc[0, "annual_cost_gbp"] == pytest.approx(saved.loc[0, "annual_cost_gbp"])
    assert (cmp / "rutland_small" / "sites.csv").read_bytes() == (out / "sites.csv").read_bytes()


def test_polygons_are_reduced_to_representative_points() -> None:
    import shapely

    from netplan import network, traveltime

    G = network.graph_from_name("rutland")
    boxes = [shapely.box(-0.74, 52.66, -0.71, 52.68), shapely.box(-0.735, 52.58, -0.71, 52.595)]
    areas = gpd.GeoDataFrame({"id": ["OAK", "UPP"]}, geometry=boxes, crs=4326)
    inner = areas.to_crs(27700).representative_point().to_crs(4326)
    points = pd.DataFrame({"id": ["OAK", "UPP"], "lon": inner.x, "lat": inner.y})
    site = pd.DataFrame({"id": ["EMP"], "lon": [-0.596], "lat": [52.668]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from_areas = traveltime.od_matrix(G, areas, site)
    assert any("2 polygon(s) reduced to a representative point" in str(w.message) for w in caught)
    from_points = traveltime.od_matrix(G, points, site)
    pd.testing.assert_frame_equal(from_areas, from_points)
    assert all(areas.to_crs(27700).contains(inner.to_crs(27700)))


def test_gis_layers_geoparquet_and_result_json(run) -> None:
    result, out = run
    layers = dict(pyogrio.list_layers(out / "results.gpkg"))
    assert layers == {
        "sites": "Point",
        "zones": "Point",
        "cyclotrons": "Point",
        "isochrones": "Polygon",
        "lots": "MultiPolygon",
        "supply_links": "LineString",
    }
    for name in layers:
        parquet = gpd.read_parquet(out / f"{name}.parquet")
        gpkg = gpd.read_file(out / "results.gpkg", layer=name)
        assert len(parquet) == len(gpkg), name
        assert parquet.crs.to_epsg() == 4326
    links = gpd.read_parquet(out / "supply_links.parquet")
    opened = result.sites[result.sites["open"]].set_index("site_id")
    cyc = pd.DataFrame(result.cyclotron_points).set_index("id")
    for row in links.itertuples():
        (x0, y0), (x1, y1) = row.geometry.coords
        assert (x0, y0) == pytest.approx(tuple(opened.loc[row.site_id, ["lon", "lat"]]))
        assert (x1, y1) == pytest.approx(tuple(cyc.loc[row.cyclotron_id, ["lon", "lat"]]))
    lots = gpd.read_parquet(out / "lots.parquet")
    assert lots["lot"].is_unique
    doc = json.loads((out / "result.json").read_text(encoding="utf-8"))
    summary = pd.read_csv(out / "summary.csv").iloc[0]
    assert doc["scenario"] == "rutland_small"
    assert doc["totals"]["population"] == int(summary["population"])
    assert doc["totals"]["annual_cost_gbp"] == pytest.approx(float(summary["annual_cost_gbp"]))
    assert [s["site_id"] for s in doc["open_sites"]] == list(opened.index)
    assert doc["files"]["xlsx"] == "results.xlsx"
    assert doc["files"]["sites_parquet"] == "sites.parquet"
    for name in doc["files"].values():
        assert (out / name).is_file()
