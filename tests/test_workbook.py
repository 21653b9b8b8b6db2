"""``results.xlsx``: formats, headers, freeze panes, filters, README; opens in < 3 s."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import openpyxl
import pandas as pd
import pytest

from netplan import report
from netplan.report import workbook
from netplan.scenario import Scenario

#: England's zone count and roughly its candidate-site count (the England scenario).
ENGLAND_ZONES = 32_844
ENGLAND_SITES = 211


@pytest.fixture(scope="module")
def small():
    return Scenario.from_yaml("rutland_small").run()


@pytest.fixture(scope="module")
def england_size(small):
    """The Rutland result's tables repeated to England's size (same columns and types)."""
    rng = np.random.default_rng(17)

    def grow(df: pd.DataFrame, n: int, id_col: str) -> pd.DataFrame:
        out = pd.DataFrame(df).drop(columns="geometry", errors="ignore")
        out = out.iloc[np.arange(n) % len(out)].reset_index(drop=True)
        out[id_col] = [f"{v}-{i}" for i, v in enumerate(out[id_col])]
        for col in out.select_dtypes("float").columns:
            out[col] = out[col] * rng.uniform(0.5, 1.5, n)
        return out

    zones = grow(small.zones, ENGLAND_ZONES, "zone_id")
    zones["covered"] = rng.random(ENGLAND_ZONES) > 0.05  # ~1,600 uncovered zones
    zones["uncovered_reason"] = np.where(zones["covered"], None, "no candidate within 60 min")
    return SimpleNamespace(
        scenario=small.scenario,
        sites=grow(small.sites, ENGLAND_SITES, "site_id"),
        zones=zones,
        coverage=grow(small.coverage, 60, "name"),
        cyclotrons=grow(small.cyclotrons, 4, "cyclotron_id"),
        totals=dict(small.totals),
        provenance={**small.provenance, "messages": ["1,534 zone(s) snapped more than 5 km"]},
    )


def test_an_england_size_workbook_opens_in_under_3_s(england_size, tmp_path: Path) -> None:
    path = report.write_xlsx(england_size, tmp_path / "results.xlsx")
    t0 = time.perf_counter()
    wb = openpyxl.load_workbook(path)  # the full (not read-only) load Excel users wait for
    seconds = time.perf_counter() - t0
    assert seconds < 3.0, f"results.xlsx took {seconds:.1f} s to open"
    assert wb.sheetnames == ["README", "Summary", "Sites", "Coverage", "Cyclotrons", "Uncovered"]
    n_uncovered = int((~england_size.zones["covered"]).sum())
    assert wb["Uncovered"].max_row == n_uncovered + 1
    assert wb["Sites"].max_row == ENGLAND_SITES + 1
    readme = list(wb["README"].iter_rows(values_only=True))
    text = "\n".join(" ".join(str(v) for v in r if v) for r in readme)
    assert f"{ENGLAND_ZONES:,} zones: see zones.csv and results.gpkg" in text
    assert "1,534 zone(s) snapped more than 5 km" in text
    assert "OpenStreetMap contributors" in text
    assert "Open Government Licence v3.0" in text


def test_sheets_have_human_headers_formats_freeze_panes_and_filters(small, tmp_path: Path) -> None:
    path = report.write_xlsx(small, tmp_path / "results.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "README"
    assert "Zones" in wb.sheetnames  # a study area keeps its zone sheet
    ws = wb["Sites"]
    heads = [c.value for c in ws[1]]
    assert heads == [workbook.header(str(c), workbook.kind(str(c), small.sites[c]))
                     for c in small.sites.columns if c != "geometry"]  # fmt: skip
    col = {h: i for i, h in enumerate(heads)}
    row = {h: ws.cell(row=2, column=i + 1) for h, i in col.items()}
    assert row["Utilisation (%)"].number_format == "0.0%"
    assert row["Annual cost (GBP)"].number_format == "£#,##0"
    assert row["Mean drive (min)"].number_format == "0.0"
    assert row["Site code"].number_format == "@"
    assert ws.freeze_panes == "B2"
    assert ws.auto_filter.ref == f"A1:{ws.cell(row=1, column=len(heads)).column_letter}4"
    assert ws.column_dimensions["B"].width > 10
    # values are the result's (rounded to the CSV decimals), not text
    first = small.sites.iloc[0]
    assert row["Annual cost (GBP)"].value == pytest.approx(float(first["annual_cost_gbp"]))
    assert row["Utilisation (%)"].value == pytest.approx(float(first["utilisation"]), abs=1e-4)
    # the Summary sheet: one figure per row, each with its own format
    summary = {r[2].value: r[1] for r in wb["Summary"].iter_rows(min_row=2)}
    assert summary["share_within_standard"].number_format == "0.0%"
    assert summary["annual_cost_gbp"].number_format == "£#,##0"
    assert summary["population"].value == small.totals["population"]
    zones = wb["Zones"]
    assert zones.max_row == len(small.zones) + 1
    total = sum(r[0] for r in zones.iter_rows(min_row=2, values_only=True, min_col=7, max_col=7))
    assert [c.value for c in zones[1]][6] == "Population"
    assert total == int(small.zones["population"].sum())


def test_headers_carry_units() -> None:
    num = pd.Series([1.0])
    assert workbook.header("backup_minutes", workbook.kind("backup_minutes", num)) == "Backup (min)"
    assert workbook.header("share_within_60_min", "pct") == "Share within 60 min (%)"
    assert workbook.header("fix_annual_cost_gbp", "gbp") == "Fix annual cost (GBP)"
    assert workbook.kind("fix_annual_cost_gbp", num) == "gbp"
    assert workbook.kind("turnaround_within_5_days", num) == "pct"
    assert workbook.kind("mean_wait_days", num) == "float"
    assert workbook.kind("name", pd.Series(["a"])) == "text"
