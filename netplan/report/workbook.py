"""``results.xlsx``: the result's tables as a workbook a commissioner can read (xlsxwriter).

Each sheet has human headers with units (``Annual cost (GBP)``, ``Share within 60 min
(%)``), number formats (percentages, GBP with thousands separators, minutes to one
decimal), column widths fitted to the text, the header row (and the id column) frozen and
an autofilter. A ``README`` sheet comes first: what each sheet holds, the definition and
unit of the main columns, the data sources and licences, and the run's warnings (the
report's flags and the data notes, e.g. zones snapped far from the road network).

England's zone table (32,844 rows) is left to ``zones.csv`` and ``results.gpkg`` (the
README sheet says so): with it the workbook took 18 s to open in openpyxl; without it well
under 3 s (``tests/test_workbook.py`` measures an England-size result). Study areas of at
most :data:`ZONE_SHEET_MAX_ROWS` zones keep their ``Zones`` sheet.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ._types import ScenarioResult

#: Largest zone table written as a sheet (bigger ones: zones.csv / results.gpkg).
ZONE_SHEET_MAX_ROWS = 5000
#: Widest column, in characters (long reasons wrap in the cell instead).
MAX_WIDTH = 60

#: Headers (with units) and definitions of the main columns; others get a header derived
#: from their name by :func:`header` (``_gbp`` -> ``(GBP)``, ``share_`` -> ``(%)`` ...).
COLUMNS: dict[str, tuple[str, str]] = {
    "site_id": ("Site code", "ODS code of the hospital, or the id of a user site"),
    "zone_id": ("Zone (LSOA 2011)", "Lower-layer super output area code, ONS 2011"),
    "name": ("Name", "Site, zone or cyclotron name"),
    "lot": ("Contract lot", "Phase 1 contract lot of the ICB (data/icb_lots.csv)"),
    "decision": ("Decision", "static = fixed scanner(s); mobile = mobile unit days; closed"),
    "static_scanners": ("Static scanners", "Fixed PET-CT scanners placed at the site"),
    "mobile_days_per_week": ("Mobile days per week", "Days per week a mobile unit visits"),
    "capacity_scans_per_year": ("Capacity (scans/yr)", "Scans the site can do in a year"),
    "assigned_scans_per_year": ("Assigned scans (scans/yr)", "Demand the plan sends there"),
    "utilisation": ("Utilisation (%)", "Assigned scans / capacity"),
    "mean_minutes": ("Mean drive (min)", "Mean drive time of its patients (demand-weighted)"),
    "max_minutes": ("Longest drive (min)", "Longest drive time of a zone it serves"),
    "annual_cost_gbp": ("Annual cost (GBP)", "Annualised capital + installation + running"),
    "capital_gbp": ("Capital (GBP)", "Scanner capital and installation (not annualised)"),
    "population": ("Population", "ONS mid-2018 population"),
    "scans_per_year": ("Scans per year", "Planning-year demand (scans/yr)"),
    "minutes": ("Drive (min)", "Drive time to the assigned site"),
    "covered": ("Within standard", "Served within the scenario's drive standard"),
    "uncovered_reason": ("Why not covered", "The optimiser's reason (see README)"),
    "share_within_standard": ("Share within standard (%)", "Population within the standard"),
    "cost_per_scan_gbp": ("Cost per scan (GBP)", "Annual cost / assigned scans"),
    "tracer_source": ("Tracer from", "Cyclotron supplying the site's FDG"),
    "tracer_minutes": ("Tracer delivery (min)", "Drive time from the cyclotron"),
    "doses_per_day": ("Doses per day", "FDG doses the cyclotron sends per working day"),
    "capacity_over_demand": ("Capacity / demand (%)", "Capacity over planning-year demand"),
    "level": ("Level", "all (the study area), lot, icb or imd_quintile (1 = most deprived)"),
    "drive_minutes": ("Drive standard (min)", "The scenario's drive-time standard"),
}

_PCT = re.compile(r"(^share$|^share_|_share$|^utilisation$|^load|within_\d+_days$|saving)")
_UNITS = (
    ("_scans_per_year", " (scans/yr)"),
    ("_gbp_per_year", " (GBP/yr)"),
    ("_gbp", " (GBP)"),
    ("_minutes", " (min)"),
    ("_km", " (km)"),
    ("_doses_per_day", " (doses/day)"),
    ("_gbq_per_day", " (GBq/day)"),
)


def kind(column: str, values: pd.Series) -> str:
    """Number format of a column: ``pct``, ``gbp``, ``minutes``, ``int``, ``float``, ``text``."""
    col = column.lower()
    if not (pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)):
        return "text"
    if "_gbp" in col or col.endswith("gbp"):
        return "gbp"
    if col == "capacity_over_demand" or _PCT.search(col):
        return "pct"
    if "minutes" in col:
        return "minutes"
    if pd.api.types.is_integer_dtype(values) or col in ("population",):
        return "int"
    return "float"


def header(column: str, kind_: str = "") -> str:
    """The human header of ``column`` (with its unit)."""
    if column in COLUMNS:
        return COLUMNS[column][0]
    text, unit = column, ""
    for suffix, label in _UNITS:
        if text.endswith(suffix):
            text, unit = text[: -len(suffix)], label
            break
    if kind_ == "pct" and not unit:
        unit = " (%)"
    words = text.replace("_", " ").strip()
    words = re.sub(r"\bimd\b", "IMD", re.sub(r"\bicb\b", "ICB", words))
    return (words[:1].upper() + words[1:] + unit) if words else column


_FORMATS = {
    "pct": "0.0%",
    "gbp": "£#,##0",
    "minutes": "0.0",
    "int": "#,##0",
    "float": "#,##0.0",
    "text": "@",
}


def _cell(v: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(float(v)) else None
    return v if isinstance(v, (int, str)) else str(v)


def _sheet(wb: Any, name: str, df: pd.DataFrame, formats: Mapping[str, Any]) -> None:
    ws = wb.add_worksheet(name)
    df = pd.DataFrame(df).drop(columns="geometry", errors="ignore").reset_index(drop=True)
    kinds = [kind(str(c), df[c]) for c in df.columns]
    heads = [header(str(c), k) for c, k in zip(df.columns, kinds, strict=True)]
    ws.write_row(0, 0, heads, formats["header"])
    for j, (col, k) in enumerate(zip(df.columns, kinds, strict=True)):
        values = [_cell(v) for v in df[col].tolist()]
        for i, v in enumerate(values, start=1):
            if v is None:
                continue
            if isinstance(v, str):
                ws.write_string(i, j, v, formats["text"])
            elif isinstance(v, bool):
                ws.write_boolean(i, j, v)
            else:
                ws.write_number(i, j, v, formats[k])
        longest = max([len(heads[j])] + [len(str(v)) for v in values[:500] if v is not None])
        if k != "text":
            longest = max(len(heads[j]), 10)
        ws.set_column(j, j, min(MAX_WIDTH, longest + 2))
    ws.freeze_panes(1, 1 if len(df.columns) > 3 else 0)
    if len(df.columns):
        ws.autofilter(0, 0, max(len(df), 1), len(df.columns) - 1)


def _summary_sheet(wb: Any, totals: Mapping[str, Any], formats: Mapping[str, Any]) -> None:
    """The headline figures, one per row, each with its own number format."""
    ws = wb.add_worksheet("Summary")
    ws.write_row(0, 0, ["Figure", "Value", "Key"], formats["header"])
    for i, (key, value) in enumerate(totals.items(), start=1):
        v = _cell(value)
        k = kind(str(key), pd.Series([v])) if not isinstance(v, (bool, str)) else "text"
        ws.write_string(i, 0, header(str(key), k), formats["text"])
        if isinstance(v, str):
            ws.write_string(i, 1, v, formats["wrap"])
        elif isinstance(v, bool):
            ws.write_boolean(i, 1, v)
        elif v is not None:
            ws.write_number(i, 1, v, formats[k])
        ws.write_string(i, 2, str(key), formats["text"])
    ws.set_column(0, 0, 44)
    ws.set_column(1, 1, 24)
    ws.set_column(2, 2, 36)
    ws.freeze_panes(1, 1)
    ws.autofilter(0, 0, max(len(totals), 1), 2)


def warnings_of(result: ScenarioResult) -> list[str]:
    """The report's flags and the run's data notes, one line each."""
    flags = [f for f in str(result.totals.get("flags") or "").split("; ") if f]
    notes = [str(m) for m in result.provenance.get("messages", []) or []]
    return list(dict.fromkeys([*flags, *notes]))


def _sources() -> list[str]:
    from .html import ATTRIBUTIONS

    try:
        from .. import data

        found = [a for a in data.attributions() if a]
    except Exception:  # the data layer is unavailable: the fixed attributions only
        found = []
    return list(dict.fromkeys([*ATTRIBUTIONS, *found]))


def _readme(
    wb: Any, result: ScenarioResult, sheets: Mapping[str, pd.DataFrame], formats: Any, note: str
) -> None:
    ws = wb.add_worksheet("README")
    bold, wrap = formats["header"], formats["wrap"]
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 100)
    s = result.scenario
    rows: list[tuple[str, str, Any]] = [
        (f"netplan results: {s.name}", "", formats["title"]),
        ("Scenario", str(getattr(s, "description", "") or s.name), None),
        ("Drive standard", f"{s.drive_minutes:g} minutes by road", None),
        ("Generated by", f"netplan {result.provenance.get('netplan_version', '')}", None),
        ("", "", None),
        ("Sheets", "", bold),
    ]
    for name, df in sheets.items():
        rows.append((name, f"{len(df):,} row(s)", None))
    if note:
        rows.append(("Zones", note, None))
    rows += [("", "", None), ("Warnings", "", bold)]
    warns = warnings_of(result)
    rows += [("!", w, None) for w in warns] or [("", "none", None)]
    rows += [("", "", None), ("Column", "Definition", bold)]
    shown = {str(c) for df in sheets.values() for c in df.columns}
    for col, (head, meaning) in COLUMNS.items():
        if col in shown:
            rows.append((head, meaning, None))
    rows += [
        (
            "Formats",
            "%: a share of 1 shown as a percentage; GBP: pounds (per year unless marked "
            "capital); min: minutes by road",
            None,
        ),
        ("", "", None),
        ("Sources and licences", "", bold),
    ]
    rows += [("", a, None) for a in _sources()]
    assumptions = (
        "`netplan defaults` lists every default with its source; "
        "scenario.resolved.yaml holds this run's values and data versions"
    )
    rows.append(("Assumptions", assumptions, None))
    for i, (a, b, fmt) in enumerate(rows):
        ws.write_string(i, 0, a, fmt or bold)
        ws.write_string(i, 1, b, fmt if fmt is not None else wrap)
    ws.freeze_panes(1, 0)


def write_workbook(result: ScenarioResult, path: str | Path, sheets: Mapping[str, Any]) -> Path:
    """Write ``result`` to ``path``: README, Summary (the totals), then ``sheets``."""
    import xlsxwriter

    path = Path(path)
    sheets = {k: pd.DataFrame(v) for k, v in sheets.items()}
    note = ""
    zones = sheets.get("Zones")
    if zones is not None and len(zones) > ZONE_SHEET_MAX_ROWS:
        del sheets["Zones"]
        note = (
            f"{len(zones):,} zones: see zones.csv and results.gpkg (left out of the workbook "
            "so it opens in seconds)"
        )
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_urls": False})
    formats = {k: wb.add_format({"num_format": v}) for k, v in _FORMATS.items()}
    formats["header"] = wb.add_format({"bold": True, "bg_color": "#DCE6F1", "text_wrap": True})
    formats["wrap"] = wb.add_format({"text_wrap": True, "valign": "top"})
    formats["title"] = wb.add_format({"bold": True, "font_size": 14})
    _readme(wb, result, {"Summary": pd.DataFrame([result.totals]).T, **sheets}, formats, note)
    _summary_sheet(wb, result.totals, formats)
    for name, df in sheets.items():
        _sheet(wb, name, df, formats)
    wb.close()
    return path


def write_xlsx(result: ScenarioResult, path: str | Path) -> Path:
    """Write the workbook: README (definitions, sources, warnings), Summary, Sites,
    Coverage, Cyclotrons, Uncovered (zones) and, for study areas, Zones."""
    from .writers import _stable, uncovered_zones

    sheets = {
        "Sites": _stable(result.sites),
        "Coverage": _stable(result.coverage),
        "Cyclotrons": _stable(result.cyclotrons),
        "Uncovered": _stable(uncovered_zones(result)),
        "Zones": _stable(pd.DataFrame(result.zones)),
    }
    return write_workbook(result, path, sheets)
