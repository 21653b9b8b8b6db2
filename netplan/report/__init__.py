"""Capacity and comparison reports: HTML (self-contained), CSV, XLSX and GeoPackage outputs.

Output folder of one scenario (:func:`write_result`)::

    report.html            capacity report, charts inline (base64 PNG), no external files
    map.html               interactive map (netplan.maps)
    summary.csv            headline figures, one row
    sites.csv              one row per candidate site
    candidates.csv         every hospital of the NHS.uk list in England (and user site): its
                           eligibility status, the reason, and whether the plan opened it
    zones.csv              one row per zone
    coverage.csv           population within 30/45/60/90 min and demand served: England,
                           per lot, per ICB, per IMD 2019 quintile
    cyclotrons.csv         tracer supply per cyclotron
    uncovered.csv          clusters of zones not served within the standard: nearest
                           candidates, the rule excluding each, the smallest fix and its cost
    rota.csv, units.csv    the mobile units' weekly rota (unit x weekday) and per unit figures
    results.xlsx           the same tables as sheets
    results.gpkg           layers sites, zones, cyclotrons, isochrones, lots, supply_links
    <layer>.parquet        the same layers as GeoParquet (sites.parquet, zones.parquet, ...)
    result.json            headline figures, open sites, warnings, file names (for scripts)
    scenario.resolved.yaml the resolved scenario + provenance (data sha256s, network key,
                           package version, solver status, run times, and
                           ``stage_timings``: every stage's seconds and share)
    .netplan-output        marker: the files netplan wrote here (with their sha256)

Rules for the output folder (tested, see :mod:`netplan.report.folder`): everything is built
in a temporary sibling folder first, so a failed run changes nothing. netplan then replaces
only the files its marker lists and never touches any other file (a user's notes, the
scenario being run); a non-empty folder without a marker is refused unless ``force=True``,
which adds netplan's files and still deletes nothing. CSVs hold no timestamps or run times
and round floats to fixed decimals, so the same scenario run twice gives byte-identical CSVs;
run times live in the report and the resolved YAML only.

The package is split by what each part owns; this module writes a whole folder
(:func:`write_result`, :func:`write_comparison`) from them and re-exports their names::

    folder      the output folder: temporary sibling, atomic swap, marker
    writers     the tables and their CSV / XLSX / GeoPackage files, the comparison table
    workbook    results.xlsx: headers with units, formats, README sheet (xlsxwriter)
    gis         the geographic layers, GeoPackage, GeoParquet and result.json
    html        the capacity report and comparison pages (templates, charts)
    result_map  the folium map of a result (via netplan.maps)

It reads a result through the attributes named in ``_types.ScenarioResult`` and never
imports :mod:`netplan.scenario`.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import NetplanError as NetplanError
from .._errors import ValidationError as ValidationError
from . import gis as gis
from .folder import LEGACY_NAMES as LEGACY_NAMES
from .folder import MARKER as MARKER
from .folder import OutputFolderError as OutputFolderError
from .folder import _check_target as _check_target
from .folder import _normal_permissions as _normal_permissions
from .folder import atomic_folder as atomic_folder
from .folder import check_output_folder as check_output_folder
from .folder import read_marker as read_marker
from .gis import write_gpkg as write_gpkg
from .html import _TEMPLATES as _TEMPLATES
from .html import ATTRIBUTIONS as ATTRIBUTIONS
from .html import COMPARISON_COLUMNS as COMPARISON_COLUMNS
from .html import SITE_COLUMNS as SITE_COLUMNS
from .html import _attributions as _attributions
from .html import _cards as _cards
from .html import _charts as _charts
from .html import _cost_chart as _cost_chart
from .html import _env as _env
from .html import _fmt as _fmt
from .html import _png as _png
from .html import html_table as html_table
from .html import lot_balance as lot_balance
from .html import render_comparison as render_comparison
from .html import render_report as render_report
from .result_map import _lot_polygons as _lot_polygons
from .result_map import build_map as build_map
from .result_map import supply_links as supply_links
from .timings import stage_table as stage_table
from .timings import timed
from .workbook import write_xlsx as write_xlsx
from .writers import CONTRACT_SAVING_TARGET as CONTRACT_SAVING_TARGET
from .writers import CSV_DECIMALS as CSV_DECIMALS
from .writers import _cell as _cell
from .writers import _plain as _plain
from .writers import _stable as _stable
from .writers import _write_csv as _write_csv
from .writers import candidates_table as candidates_table
from .writers import compare as compare
from .writers import summary_table as summary_table
from .writers import uncovered_zones as uncovered_zones
from .writers import write_tables as write_tables

if TYPE_CHECKING:
    from ._types import ScenarioResult

logger = logging.getLogger(__name__)

_TABLES = ("summary.csv", "sites.csv", "zones.csv", "coverage.csv", "cyclotrons.csv")


def output_names(scenario: Any) -> list[str]:
    """The files :func:`write_result` writes for ``scenario`` (by its ``outputs`` section)."""
    outputs = scenario.outputs
    names = [*_TABLES, "scenario.resolved.yaml", gis.RESULT_JSON]
    if getattr(getattr(scenario, "fleet", None), "rota", False):
        names += ["rota.csv", "units.csv"]
    for flag, name in (
        ("xlsx", "results.xlsx"),
        ("gpkg", "results.gpkg"),
        ("map", "map.html"),
        ("report", "report.html"),
    ):
        if getattr(outputs, flag):
            names.append(name)
    if outputs.gpkg:  # GeoParquet beside the GeoPackage, one file per layer
        names += list(gis.PARQUET_FILES.values())
    return names


def comparison_names(scenarios: Sequence[Any]) -> list[str]:
    """The files :func:`write_comparison` writes for ``scenarios`` (relative paths)."""
    names = ["comparison.csv", "comparison.html"]
    for s in scenarios:
        sub = _safe_dirname(s.name)
        names += [f"{sub}/{n}" for n in (*output_names(s), MARKER)]
    return names


def input_files(scenario: Any) -> list[Path]:
    """The files a scenario was read from (never overwritten by its outputs)."""
    files = getattr(scenario, "input_files", None)
    return list(files()) if callable(files) else []


def write_result(
    result: ScenarioResult, out_dir: str | Path, *, force: bool = False
) -> dict[str, Path]:
    """Write every output of one scenario into ``out_dir`` atomically (see module doc).

    Returns
    -------
    dict
        Output name -> final path.

    Raises
    ------
    OutputFolderError
        If ``out_dir`` exists, is not empty and was not written by netplan (and not ``force``).
    """
    import time

    t0 = time.perf_counter()
    out_dir = Path(out_dir).absolute()
    outputs = result.scenario.outputs
    names: dict[str, str] = {}
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    with atomic_folder(out_dir, force=force, inputs=input_files(result.scenario)) as tmp:
        write_s: dict[str, float] = {}  # each writer's seconds, for the stage table
        with timed(write_s, "tables (CSV)"):
            for key, path in write_tables(result, tmp).items():
                names[key] = path.name
        if outputs.xlsx:
            with timed(write_s, "workbook (xlsx)"):
                names["xlsx"] = write_xlsx(result, tmp / "results.xlsx").name
        if outputs.gpkg:
            with timed(write_s, "GeoPackage and GeoParquet"):
                found = gis.layers(result)
                names["gpkg"] = write_gpkg(result, tmp / "results.gpkg", found=found).name
                for key, path in gis.write_geoparquet(result, tmp, found=found).items():
                    names[key] = path.name
        if outputs.map:
            from .. import maps

            with timed(write_s, "map"):
                names["map"] = maps.save_map(build_map(result), tmp / "map.html").name
        if outputs.report:
            with timed(write_s, "report (HTML)"):
                html = render_report(result, generated=now)
                (tmp / "report.html").write_text(html, encoding="utf-8")
            names["report"] = "report.html"
        prov = dict(result.provenance)
        prov["generated"] = now
        prov["write_timings_s"] = write_s
        # every stage and its share (not a CSV: CSVs stay byte-identical between runs)
        prov["stage_timings"] = stage_table(result.provenance, write_s).to_dict("records")
        result.scenario.to_yaml(tmp / "scenario.resolved.yaml", extra=_plain(prov))
        names["scenario"] = "scenario.resolved.yaml"
        names["json"] = gis.write_result_json(result, tmp / gis.RESULT_JSON, dict(names)).name
    paths = {k: out_dir / v for k, v in names.items()}
    logger.info("outputs: %d files in %.1f s (%s)", len(paths), time.perf_counter() - t0, out_dir)
    return paths


def write_comparison(
    results: Sequence[ScenarioResult],
    out_dir: str | Path,
    *,
    force: bool = False,
    title: str = "Scenario comparison",
) -> dict[str, Path]:
    """Write each scenario's outputs into ``out_dir/<name>/`` and the comparison on top.

    Returns
    -------
    dict
        ``comparison`` (HTML), ``comparison_csv`` and, per scenario, ``<name>/report`` and
        ``<name>/map``.
    """
    out_dir = Path(out_dir).absolute()
    compare(results)  # validates names before anything is written
    names: dict[str, str] = {}
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    inputs = [f for r in results for f in input_files(r.scenario)]
    with atomic_folder(out_dir, force=force, inputs=inputs) as tmp:
        links = []
        for r in results:
            sub = _safe_dirname(r.scenario.name)
            paths = write_result(r, tmp / sub)
            for key in ("report", "map"):
                if key in paths:
                    names[f"{r.scenario.name}/{key}"] = f"{sub}/{paths[key].name}"
            if "report" in paths:
                links.append((r.scenario.name, f"{sub}/report.html"))
        table = compare(results)
        _write_csv(table.reset_index(), tmp / "comparison.csv")
        names["comparison_csv"] = "comparison.csv"
        (tmp / "comparison.html").write_text(
            render_comparison(results, links=links, title=title, generated=now), encoding="utf-8"
        )
        names["comparison"] = "comparison.html"
    return {k: out_dir / v for k, v in names.items()}


def _safe_dirname(name: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", name).strip("._") or "scenario"
