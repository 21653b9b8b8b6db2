"""Tests of netplan.report: HTML content, tables, workbook, GeoPackage, atomic folders."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pyogrio
import pytest

from netplan import report
from netplan.scenario import Scenario

SMALL = Path(__file__).resolve().parents[1] / "scenarios" / "rutland_small.yaml"


@pytest.fixture(scope="module")
def result():
    return Scenario.from_yaml(SMALL).run()


@pytest.fixture(scope="module")
def written(result, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return result.to_folder(tmp_path_factory.mktemp("out") / "rutland")


def test_folder_has_every_output(written: dict[str, Path]) -> None:
    folder = written["report"].parent
    names = {p.name for p in folder.iterdir()}
    assert names == {
        "report.html",
        "map.html",
        "summary.csv",
        "sites.csv",
        "candidates.csv",
        "zones.csv",
        "coverage.csv",
        "cyclotrons.csv",
        "uncovered.csv",
        "rota.csv",
        "units.csv",
        "results.xlsx",
        "results.gpkg",
        "scenario.resolved.yaml",
        "result.json",
        *report.gis.PARQUET_FILES.values(),
        report.MARKER,
    }
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".rutland.")]


def test_report_shows_the_headline_numbers(result, written: dict[str, Path]) -> None:
    html = written["report"].read_text(encoding="utf-8")
    t = result.totals
    for m in (30, 45, 60, 90):
        assert f"{100 * t[f'share_within_{m}_min']:.1f} %" in html
        label = f"population within {m} min of an open site"
        if m == result.scenario.drive_minutes:  # folded into the served card, not repeated
            assert label not in html
            assert f"live within {m} min of an open site" in html
        else:
            assert f"{label} ({t[f'population_within_{m}_min']:,})" in html
    assert f"£{t['annual_cost_gbp']:,.0f}" in html
    assert f"£{t['cost_per_scan_gbp']:,.0f}" in html
    assert f"{round(t['demand_scans_per_year']):,}" in html
    assert f"worst served zone: {t['worst_zone']}" in html
    # honest headlines: served within the standard, unserved demand, capital, baseline
    assert f"{100 * t['share_within_standard']:.1f} %" in html
    assert "served within the" in html
    assert "scans/yr not served" in html
    assert "capital in scanners and new sites" in html
    assert "against an all-mobile service on the same demand" in html
    assert "sites open" in html
    assert "static scanners" in html
    assert "mobile days per week" in html
    for section in (
        "Coverage by drive time",
        "Sites",
        "Turnaround",
        "Tracer supply (18F)",
        "Uncovered zones",
    ):
        assert f">{section}</h2>" in html
    for name in result.sites.loc[result.sites["open"], "name"]:
        assert name in html


def test_report_is_self_contained_with_attributions(written: dict[str, Path]) -> None:
    html = written["report"].read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']https?://""", html)
    assert "<link" not in html
    assert len(re.findall(r'src="data:image/png;base64,[A-Za-z0-9+/=]{200,}"', html)) == 3
    for text in (
        "© OpenStreetMap contributors, ODbL",
        "Contains public sector information licensed under the Open Government Licence v3.0",
        "Contains OS data © Crown copyright and database right 2024",
    ):
        assert text in html.split("<footer>")[1]


def test_tables_match_the_result(result, written: dict[str, Path]) -> None:
    summary = pd.read_csv(written["summary"])
    assert summary.loc[0, "population"] == result.totals["population"]
    assert summary.loc[0, "sites_open"] == result.totals["sites_open"]
    sites = pd.read_csv(written["sites"])
    assert len(sites) == len(result.sites)
    assert "geometry" not in sites.columns
    zones = pd.read_csv(written["zones"])
    assert zones["population"].sum() == result.totals["population"]
    wb = openpyxl.load_workbook(written["xlsx"], read_only=True)
    assert wb.sheetnames == [
        "README",
        "Summary",
        "Sites",
        "Coverage",
        "Cyclotrons",
        "Uncovered",
        "Zones",
    ]
    assert sum(1 for _ in wb["Zones"].iter_rows()) == len(zones) + 1
    layers = {name for name, _ in pyogrio.list_layers(written["gpkg"])}
    assert layers == {"sites", "zones", "cyclotrons", "isochrones", "lots", "supply_links"}
    resolved = written["scenario"].read_text(encoding="utf-8")
    assert "provenance:" in resolved
    assert "network_key:" in resolved
    assert "osm-rutland:" in resolved
    assert "netplan_version:" in resolved


def test_csvs_have_no_run_noise(written: dict[str, Path]) -> None:
    text = "".join(p.read_text(encoding="utf-8") for p in written["report"].parent.glob("*.csv"))
    assert "UTC" not in text
    assert "time_s" not in text
    assert "-0.0," not in text


# --------------------------------------------------------------------------- folders
def test_refuses_a_folder_not_written_by_netplan(result, tmp_path: Path) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("precious", encoding="utf-8")
    with pytest.raises(report.OutputFolderError, match="--force"):
        result.to_folder(target)
    assert (target / "notes.txt").read_text(encoding="utf-8") == "precious"
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    with pytest.raises(report.OutputFolderError, match="is a file"):
        result.to_folder(tmp_path / "afile")
    paths = result.to_folder(target, force=True)  # forced: netplan's files added
    assert (target / "notes.txt").read_text(encoding="utf-8") == "precious"
    assert paths["sites"].is_file()
    assert sorted(report.read_marker(target)) == sorted(p.name for p in paths.values())


def test_failure_midway_leaves_the_old_folder_whole(
    result, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out"
    first = result.to_folder(target)
    before = {p.name: p.read_bytes() for p in target.iterdir()}

    def boom(*args, **kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(report, "write_gpkg", boom)
    with pytest.raises(OSError, match="simulated"):
        result.to_folder(target)
    after = {p.name: p.read_bytes() for p in target.iterdir()}
    assert after == before  # untouched, not half-overwritten
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temp folder left
    assert first["report"].is_file()


def test_atomic_folder_replaces_a_netplan_folder(tmp_path: Path) -> None:
    target = tmp_path / "o"
    with report.atomic_folder(target) as tmp:
        (tmp / "a.csv").write_text("1\n", encoding="utf-8")
    with report.atomic_folder(target) as tmp:
        (tmp / "b.csv").write_text("2\n", encoding="utf-8")
    assert sorted(p.name for p in target.iterdir()) == [report.MARKER, "b.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


# --------------------------------------------------------------------------- comparison
def _variant(result, name: str, cost_factor: float):
    other = copy.copy(result)
    other.scenario = result.scenario.with_overrides({"name": name})
    other.totals = dict(
        result.totals,
        scenario=name,
        annual_cost_gbp=result.totals["annual_cost_gbp"] * cost_factor,
        cost_per_scan_gbp=result.totals["cost_per_scan_gbp"] * cost_factor,
    )
    return other


def test_compare_computes_change_against_the_first(result) -> None:
    results = [result, _variant(result, "cheaper", 0.80), _variant(result, "dearer", 1.1)]
    table = report.compare(results)
    assert table.index.tolist() == ["rutland_small", "cheaper", "dearer"]
    assert table["cost_per_scan_change"].tolist() == pytest.approx([0.0, -0.2, 0.1], abs=1e-6)
    assert table["meets_saving_target"].tolist() == [False, True, False]
    with pytest.raises(report.ValidationError, match="unique"):
        report.compare([result, result])


def test_comparison_report(result, tmp_path: Path) -> None:
    results = [result, _variant(result, "cheaper", 0.80)]
    paths = report.write_comparison(results, tmp_path / "cmp")
    html = paths["comparison"].read_text(encoding="utf-8")
    assert "18 % cut in the cost per scan" in html
    assert '<tr class="target"><td>cheaper</td>' in html
    assert "−20.0 %" in html or "-20.0 %" in html
    assert html.count('src="data:image/png;base64,') == 2
    assert (tmp_path / "cmp" / "cheaper" / "report.html").is_file()
    assert pd.read_csv(paths["comparison_csv"])["scenario"].tolist() == ["rutland_small", "cheaper"]


def test_run_folder_records_every_stage(written: dict[str, Path]) -> None:
    import yaml

    paths = written
    doc = yaml.safe_load(paths["scenario"].read_text(encoding="utf-8"))
    prov = doc["provenance"]
    rows = prov["stage_timings"]
    stages = [r["stage"] for r in rows]
    for name in ("network", "demand", "drive times", "model build", "capacity", "isochrones"):
        assert name in stages
    assert any(s.startswith("solve: ") for s in stages)
    assert {"tables (CSV)", "map", "report (HTML)"} <= set(prov["write_timings_s"])
    assert sum(r["share_pct"] for r in rows) == pytest.approx(100.0, abs=0.1 * len(rows))
    # the rows add up to the run's steps and the writers
    run_s = sum(prov["timings_s"].values()) + sum(prov["write_timings_s"].values())
    assert sum(r["seconds"] for r in rows) == pytest.approx(run_s, abs=0.002 * len(rows) + 0.01)
    assert not any(p.name == "timings.csv" for p in paths.values())


def test_report_reads_in_plain_words(result, written: dict[str, Path]) -> None:
    html = written["report"].read_text(encoding="utf-8")
    t = result.totals
    top = html[: html.index('id="headline"')]
    # the summary in words comes first, with the figures it states
    assert "What this plan does" in top
    summary = re.search(r'<section id="summary".*?</section>', html, re.S).group(0)
    assert f"<b>{t['sites_open']} site" in summary
    assert f"<b>{100 * t['share_within_standard']:.1f} %</b>" in summary
    assert f"£{t['annual_cost_gbp']:,.0f} a year" in summary
    # links to the map and the workbook beside the report
    assert '<a href="map.html">' in top
    assert '<a href="results.xlsx">' in top
    # plain names, not internal keys
    assert "objective <code>" not in html
    assert "growth by_tracer" not in html
    assert "aim: least annual cost" in html  # rutland_small's objective is "cost"
    # no card repeated
    cards = re.findall(
        r'<div class="card"><div class="v">(.*?)</div><div class="k">(.*?)</div>', html
    )
    assert len(cards) == len(set(cards))
    labels = [k for _, k in cards]
    assert "annual demand (scans)" not in labels
    assert "annual capacity (scans)" not in labels
    assert any(k.startswith("capacity / demand: ") and "headroom" in k for k in labels)
    # text left, numbers right: number cells carry class "n"
    assert '<th class="n">Capacity scans/yr</th>' in html
    assert "<th>Name</th><th>Code</th>" in html


def test_cost_basis_lists_the_resolved_prices_with_sources(result, written) -> None:
    from netplan import defaults

    html = written["report"].read_text(encoding="utf-8")
    basis = html[html.index('id="cost-basis"') : html.index('id="turnaround"')]
    c = result.scenario.costs
    table = defaults.describe().set_index("key")
    for key, words in (
        ("static_scanner_capital_gbp", "Capital"),
        ("static_install_gbp", "Installation"),
        ("static_running_gbp_per_year", "Running"),
        ("mobile_gbp_per_day", "GBP per mobile day"),
        ("annualisation_years", "Annualisation"),
    ):
        assert words in basis
        value = getattr(c, key)
        shown = f"{value:,.1f}" if key == "annualisation_years" else f"£{value:,.0f}"
        assert f'<td class="n">{shown}</td>' in basis, key
        source = str(table.loc[f"costs.{key}", "source"])
        import html as _html

        assert _html.escape(source.split(";")[0][:40], quote=False) in basis, key


def test_far_snapped_points_reach_the_headline(result) -> None:
    from netplan.report.summary import headline_warnings

    r = copy.copy(result)
    r.provenance = dict(result.provenance) | {
        "messages": [
            "origins: 1495 point(s) snapped more than 5 km to the road network: E01000656, "
            "E01000657 and 1493 more (max 20.1 km); their access legs are estimates.",
            "zones with identical reachable sites merged: 32,844 zones -> 5,630 groups",
        ]
    }
    found = headline_warnings(r)
    assert (
        "1,495 zones lie more than 5 km from the road network (up to 20.1 km): their drive "
        "times include an estimated straight-line access leg (details in the notes from the run)"
    ) in found
    assert not any("merged" in w for w in found)
