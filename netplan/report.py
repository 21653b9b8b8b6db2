"""Capacity and comparison reports: HTML (self-contained), CSV, XLSX and GeoPackage outputs.

Output folder of one scenario (:func:`write_result`)::

    report.html            capacity report, charts inline (base64 PNG), no external files
    map.html               interactive map (netplan.maps)
    summary.csv            headline figures, one row
    sites.csv              one row per candidate site
    zones.csv              one row per zone
    coverage.csv           population within 30/45/60/90 min: England, per lot, per ICB
    cyclotrons.csv         tracer supply per cyclotron
    results.xlsx           the same tables as sheets
    results.gpkg           layers sites, zones, cyclotrons, isochrones
    scenario.resolved.yaml the resolved scenario + provenance (data sha256s, network key,
                           package version, solver status, run times)
    .netplan-output        marker: this folder was written by netplan

Rules for the output folder (tested): everything is built in a temporary sibling folder and
swapped into place with renames, so an existing folder is either left as it was or fully
replaced, never half-overwritten. An existing folder is replaced only when it is empty or
carries the ``.netplan-output`` marker; any other existing folder (or file) is refused
unless ``force=True``. CSVs hold no timestamps or run times and round floats to fixed
decimals, so the same scenario run twice gives byte-identical CSVs; run times live in the
report and the resolved YAML only.
"""

from __future__ import annotations

import base64
import datetime as _dt
import io
import json
import logging
import math
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._errors import NetplanError, ValidationError

if TYPE_CHECKING:
    from .scenario import ScenarioResult

logger = logging.getLogger(__name__)

MARKER = ".netplan-output"
#: Contract target: cost per scan cut by 18 % (LGC 5082106, DOMAIN.md section 2).
CONTRACT_SAVING_TARGET = 0.18
ATTRIBUTIONS = (
    "© OpenStreetMap contributors, ODbL",
    "Contains public sector information licensed under the Open Government Licence v3.0",
    "Contains OS data © Crown copyright and database right 2024",
)
_TEMPLATES = Path(__file__).with_name("templates")
#: Decimals kept in CSV/XLSX outputs (stable across runs and platforms).
CSV_DECIMALS = 4


# ----------------------------------------------------------------------- folder handling
class OutputFolderError(NetplanError):
    """The output folder exists and was not written by netplan (use --force)."""


def _check_target(target: Path, *, force: bool) -> None:
    if target.exists() and not target.is_dir():
        if not force:
            msg = f"{target} exists and is a file, not an output folder; remove it or use --force"
            raise OutputFolderError(msg)
        return
    if target.is_dir() and any(target.iterdir()) and not (target / MARKER).is_file() and not force:
        msg = (
            f"{target} exists, is not empty and was not written by netplan (no {MARKER} "
            f"file); choose another --out folder or pass --force to replace it"
        )
        raise OutputFolderError(msg)


def check_output_folder(target: str | Path, *, force: bool = False) -> Path:
    """Fail early (before a long run) if ``target`` may not be written; see the module doc.

    Raises
    ------
    OutputFolderError
        If ``target`` exists, is not empty and was not written by netplan (and not ``force``).
    """
    target = Path(target).absolute()
    _check_target(target, force=force)
    return target


@contextmanager
def atomic_folder(target: str | Path, *, force: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling folder; on success swap it into ``target``.

    Parameters
    ----------
    target
        The output folder.
    force
        Replace ``target`` even if it was not written by netplan.

    Raises
    ------
    OutputFolderError
        If ``target`` exists, is not empty and has no netplan marker (and not ``force``).

    Notes
    -----
    The swap is two renames (old -> trash, new -> target) on the same file system; if the
    second fails the old folder is put back. On error inside the block the temporary folder
    is removed and ``target`` is untouched.
    """
    target = Path(target).absolute()
    _check_target(target, force=force)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
        _normal_permissions(tmp)
        (tmp / MARKER).write_text(
            json.dumps({"written_by": "netplan", "folder": target.name}) + "\n", encoding="utf-8"
        )
        _check_target(target, force=force)  # again: the folder may have appeared meanwhile
        trash = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
        moved = False
        if target.exists():
            os.replace(target, trash)
            moved = True
        try:
            os.replace(tmp, target)
        except BaseException:
            if moved:
                os.replace(trash, target)
            raise
        if moved:
            if trash.is_dir():
                shutil.rmtree(trash, ignore_errors=True)
            else:
                trash.unlink(missing_ok=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _normal_permissions(folder: Path) -> None:
    """Give the folder and its files the usual umask permissions (mkstemp makes 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    for path in [folder, *folder.rglob("*")]:
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


# ----------------------------------------------------------------------------- tables
def _stable(df: pd.DataFrame) -> pd.DataFrame:
    """Round floats and drop geometry so tables are stable across runs."""
    out = pd.DataFrame(df).copy()
    if "geometry" in out.columns:
        out = out.drop(columns="geometry")
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            vals = out[col].round(CSV_DECIMALS)
            out[col] = vals.where(vals != 0, 0.0)  # no "-0.0"
        elif out[col].dtype == object:
            out[col] = out[col].map(lambda v: round(v, CSV_DECIMALS) if isinstance(v, float) else v)
    return out


def _write_csv(df: pd.DataFrame, path: Path) -> Path:
    _stable(df).to_csv(path, index=False, lineterminator="\n")
    return path


def summary_table(result: ScenarioResult) -> pd.DataFrame:
    """Headline figures as one row (no run times: identical across identical runs)."""
    return pd.DataFrame([result.totals])


def uncovered_zones(result: ScenarioResult) -> pd.DataFrame:
    """Zones not served within the standard, with the optimiser's reason."""
    z = pd.DataFrame(result.zones)
    if "covered" not in z.columns:
        return z.iloc[:0]
    bad = z[~z["covered"].fillna(False).astype(bool)]
    cols = [
        c
        for c in (
            "zone_id",
            "name",
            "icb_name",
            "lot",
            "population",
            "scans_per_year",
            "nearest_open_minutes",
            "uncovered_share",
            "uncovered_reason",
        )
        if c in bad.columns
    ]
    return bad[cols].sort_values(
        ["population", "zone_id"], ascending=[False, True], kind="mergesort"
    )


def supply_links(result: ScenarioResult) -> pd.DataFrame:
    """Site -> cyclotron links (primary and back-up) of the open sites."""
    s = result.sites[result.sites["open"]]
    rows = []
    for rec in s.itertuples(index=False):
        src = getattr(rec, "tracer_source", None)
        if isinstance(src, str) and src:
            rows.append(
                {
                    "site_id": rec.site_id,
                    "cyclotron_id": src,
                    "role": "primary",
                    "minutes": getattr(rec, "tracer_minutes", np.nan),
                }
            )
        bsrc = getattr(rec, "backup_source", None)
        if isinstance(bsrc, str) and bsrc:
            rows.append(
                {
                    "site_id": rec.site_id,
                    "cyclotron_id": bsrc,
                    "role": "backup",
                    "minutes": getattr(rec, "backup_minutes", np.nan),
                }
            )
    return pd.DataFrame(rows, columns=["site_id", "cyclotron_id", "role", "minutes"])


def write_tables(result: ScenarioResult, folder: str | Path) -> dict[str, Path]:
    """Write summary, sites, zones, coverage and cyclotron CSVs into ``folder``."""
    folder = Path(folder)
    return {
        "summary": _write_csv(summary_table(result), folder / "summary.csv"),
        "sites": _write_csv(result.sites, folder / "sites.csv"),
        "zones": _write_csv(pd.DataFrame(result.zones), folder / "zones.csv"),
        "coverage": _write_csv(result.coverage, folder / "coverage.csv"),
        "cyclotrons": _write_csv(result.cyclotrons, folder / "cyclotrons.csv"),
    }


def write_xlsx(result: ScenarioResult, path: str | Path) -> Path:
    """Write the tables as sheets of one workbook (openpyxl, write-only for speed)."""
    from openpyxl import Workbook

    sheets = {
        "Summary": summary_table(result).T.reset_index().set_axis(["figure", "value"], axis=1),
        "Sites": result.sites,
        "Coverage": result.coverage,
        "Cyclotrons": result.cyclotrons,
        "Uncovered": uncovered_zones(result),
        "Zones": pd.DataFrame(result.zones),
    }
    wb = Workbook(write_only=True)
    for name, df in sheets.items():
        ws = wb.create_sheet(name)
        df = _stable(df)
        ws.append([str(c) for c in df.columns])
        for row in df.itertuples(index=False):
            ws.append([_cell(v) for v in row])
    path = Path(path)
    wb.save(path)
    return path


def _cell(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if not math.isfinite(float(v)) else float(v)
    if v is pd.NA or v is pd.NaT:
        return None
    return v if isinstance(v, (int, str)) else str(v)


def write_gpkg(result: ScenarioResult, path: str | Path) -> Path:
    """Write sites, zones, cyclotrons and isochrones as layers of one GeoPackage."""
    import geopandas as gpd

    path = Path(path)

    def points(df: pd.DataFrame) -> gpd.GeoDataFrame:
        df = _stable(df)
        return gpd.GeoDataFrame(
            df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326"
        )

    layers: list[tuple[str, gpd.GeoDataFrame]] = [
        ("sites", points(result.sites)),
        ("zones", points(pd.DataFrame(result.zones))),
    ]
    cyc = result.cyclotron_points
    if cyc is not None and len(cyc):
        cyc_df = pd.DataFrame(cyc)[["id", "name", "lon", "lat"]].merge(
            result.cyclotrons.drop(columns=["name"], errors="ignore"),
            left_on="id",
            right_on="cyclotron_id",
            how="left",
        )
        layers.append(("cyclotrons", points(cyc_df)))
    if result.isochrones is not None and len(result.isochrones):
        layers.append(("isochrones", result.isochrones.to_crs("EPSG:4326")))
    for i, (name, gdf) in enumerate(layers):
        gdf.to_file(path, layer=name, driver="GPKG", mode="w" if i == 0 else "a")
    return path


# ----------------------------------------------------------------------------- charts
def _png(obj: Any) -> str:
    """Encode a matplotlib Figure (or the figure of an Axes) as a base64 PNG."""
    fig = getattr(obj, "figure", obj)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, metadata={"Software": None})
    if fig.canvas.manager is not None:  # a pyplot figure: release it
        import matplotlib.pyplot as plt

        plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _charts(result: ScenarioResult) -> dict[str, str]:
    """The report's charts as base64 PNGs (drawn by :mod:`netplan.plot`)."""
    from . import plot

    zones = pd.DataFrame(result.zones)
    open_sites = result.sites[result.sites["open"]]
    standards = sorted({30.0, 60.0, float(result.scenario.drive_minutes)})
    charts = {
        "coverage": _png(
            plot.coverage_curve(
                zones["nearest_open_minutes"].astype(float).fillna(np.inf),
                zones["population"].astype(float),
                standards_minutes=standards,
                label=result.scenario.name,
            )
        ),
        "utilisation": "",
        "lots": _png(plot.demand_vs_capacity_by_lot(lot_balance(result))),
    }
    if len(open_sites):
        charts["utilisation"] = _png(
            plot.utilisation_bars(open_sites, target=result.scenario.scanners.target_utilisation)
        )
    return charts


def lot_balance(result: ScenarioResult) -> pd.DataFrame:
    """Annual demand (zones) and capacity (open sites) per contract lot."""
    zones = pd.DataFrame(result.zones)
    dem = zones.groupby("lot")["scans_per_year"].sum() if "lot" in zones else pd.Series(dtype=float)
    sites = result.sites[result.sites["open"]]
    cap = (
        sites.groupby("lot")["capacity_scans_per_year"].sum()
        if "lot" in sites
        else pd.Series(dtype=float)
    )
    assigned = (
        sites.groupby("lot")["assigned_scans_per_year"].sum()
        if "lot" in sites
        else (pd.Series(dtype=float))
    )
    lots = sorted(set(dem.index.astype(str)) | set(cap.index.astype(str)))
    return pd.DataFrame(
        {
            "lot": lots,
            "demand_scans_per_year": [float(dem.get(lot, 0.0)) for lot in lots],
            "capacity_scans_per_year": [float(cap.get(lot, 0.0)) for lot in lots],
            "assigned_scans_per_year": [float(assigned.get(lot, 0.0)) for lot in lots],
        }
    )


# ----------------------------------------------------------------------------- HTML
def _fmt(v: Any, kind: str = "") -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if isinstance(v, (np.bool_, bool)):
        return "yes" if v else "no"
    if kind == "pct":
        return f"{100 * float(v):.1f} %"
    if kind == "gbp":
        return f"£{float(v):,.0f}"
    if kind == "int":
        return f"{round(float(v)):,}"
    if kind == "1":
        return f"{float(v):,.1f}"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        return f"{float(v):,.2f}"
    return str(v)


def html_table(
    df: pd.DataFrame,
    formats: Mapping[str, str] | None = None,
    *,
    labels: Mapping[str, str] | None = None,
    row_class: Sequence[str] | None = None,
) -> str:
    """Render a DataFrame as an HTML table with per-column formats (escaped)."""
    from markupsafe import escape

    formats = dict(formats or {})
    labels = dict(labels or {})
    head = "".join(f"<th>{escape(labels.get(c, c))}</th>" for c in df.columns)
    body = []
    for i, row in enumerate(df.itertuples(index=False)):
        cls = f' class="{row_class[i]}"' if row_class is not None and row_class[i] else ""
        cells = "".join(
            f"<td>{escape(_fmt(v, formats.get(c, '')))}</td>"
            for c, v in zip(df.columns, row, strict=True)
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    rows = "".join(body)
    return f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def _env() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def _attributions() -> list[str]:
    try:
        from . import data

        found = [a for a in data.attributions() if a]
    except Exception:  # pragma: no cover - data layer unavailable
        found = []
    out = list(ATTRIBUTIONS)
    for a in found:
        if a not in out and not any(a.split("(")[0].strip() in b for b in out):
            out.append(a)
    return out


def _cards(t: Mapping[str, Any], drive_minutes: float) -> list[dict[str, str]]:
    cards = [
        (
            _fmt(t.get(f"share_within_{m}_min"), "pct"),
            f"population within {m} min ({_fmt(t.get(f'population_within_{m}_min'), 'int')})",
        )
        for m in (30, 45, 60, 90)
    ]
    cards += [
        (
            _fmt(t.get("share_within_standard"), "pct"),
            f"within the {drive_minutes:g}-minute standard",
        ),
        (f"{_fmt(t.get('worst_zone_minutes'), '1')} min", f"worst zone: {t.get('worst_zone', '')}"),
        (
            _fmt(t.get("sites_open")),
            f"sites open ({_fmt(t.get('static_sites'))} static, "
            f"{_fmt(t.get('mobile_sites'))} mobile)",
        ),
        (_fmt(t.get("static_scanners")), "static scanners"),
        (_fmt(t.get("mobile_days_per_week"), "1"), "mobile days per week"),
        (_fmt(t.get("capacity_scans_per_year"), "int"), "annual capacity (scans)"),
        (_fmt(t.get("demand_scans_per_year"), "int"), "annual demand (scans)"),
        (_fmt(t.get("capacity_over_demand"), "pct"), "capacity / demand"),
        (_fmt(t.get("mean_utilisation"), "pct"), "mean utilisation"),
        (_fmt(t.get("annual_cost_gbp"), "gbp"), "annual cost"),
        (
            f"£{float(t.get('cost_per_scan_gbp', math.nan)):,.0f}"
            if math.isfinite(float(t.get("cost_per_scan_gbp", math.nan)))
            else "–",
            "cost per scan",
        ),
        (
            _fmt(t.get("uncovered_zones")),
            f"zones not served within the standard "
            f"(population {_fmt(t.get('uncovered_population'), 'int')})",
        ),
    ]
    for key, val in t.items():
        if key.startswith("turnaround_within_"):
            days = key.removeprefix("turnaround_within_").removesuffix("_days")
            cards.append((_fmt(val, "pct"), f"results within {days} working days (model)"))
    return [{"value": v, "label": k} for v, k in cards]


SITE_COLUMNS = {
    "site_id": ("Site", ""),
    "name": ("Name", ""),
    "lot": ("Lot", ""),
    "decision": ("Decision", ""),
    "static_scanners": ("Static", "int"),
    "mobile_days_per_week": ("Mobile d/wk", "1"),
    "capacity_scans_per_year": ("Capacity /yr", "int"),
    "assigned_scans_per_year": ("Assigned /yr", "int"),
    "utilisation": ("Utilisation", "pct"),
    "mean_minutes": ("Mean drive", "1"),
    "max_minutes": ("Max drive", "1"),
    "tracer_source": ("Tracer", ""),
    "tracer_minutes": ("Delivery min", "1"),
    "backup_source": ("Back-up", ""),
    "backup_minutes": ("Back-up min", "1"),
}


def render_report(result: ScenarioResult, *, generated: str | None = None) -> str:
    """Return the capacity report of one result as a self-contained HTML page."""
    from markupsafe import Markup, escape

    from . import __version__

    s = result.scenario
    t = result.totals
    cov = result.coverage
    cov_cols = ["name", "population"] + [f"share_within_{m}_min" for m in (30, 45, 60, 90)]
    cov_fmt = dict.fromkeys(cov_cols[2:], "pct") | {"population": "int"}
    cov_labels = {"name": "Area", "population": "Population"} | {
        f"share_within_{m}_min": f"≤ {m} min" for m in (30, 45, 60, 90)
    }
    lots = cov[cov["level"].isin(["all", "lot"])][cov_cols]
    icbs = cov[cov["level"] == "icb"][cov_cols]

    sites = result.sites[result.sites["open"]].copy()
    turn_cols = [c for c in sites.columns if c.startswith("within_") and c.endswith("_days")]
    cols = [c for c in SITE_COLUMNS if c in sites.columns] + turn_cols
    fmts = {c: SITE_COLUMNS[c][1] for c in cols if c in SITE_COLUMNS}
    fmts |= dict.fromkeys(turn_cols, "pct")
    labels = {c: SITE_COLUMNS[c][0] for c in cols if c in SITE_COLUMNS} | {
        c: f"≤ {c.removeprefix('within_').removesuffix('_days')} d" for c in turn_cols
    }
    sites_table = html_table(sites[cols], fmts, labels=labels)

    # turnaround: network figures against the contract targets
    parts = []
    targets = {5.0: 0.75, 7.0: 0.97}  # Alliance 75 % in 5 days; 97 % in 7 days (DOMAIN §5)
    for key, val in t.items():
        if key.startswith("turnaround_within_"):
            days = float(key.removeprefix("turnaround_within_").removesuffix("_days"))
            goal = targets.get(days)
            verdict = ""
            if goal is not None and isinstance(val, float) and math.isfinite(val):
                ok = val >= goal
                verdict = (
                    f' — <span class="{"good" if ok else "bad"}">'
                    f"{'meets' if ok else 'misses'} the {goal:.0%} benchmark</span>"
                )
            parts.append(
                f"<li>{_fmt(val, 'pct')} of patients (demand-weighted) have results "
                f"within {days:g} working days{verdict}</li>"
            )
    slow = sites[sites[turn_cols[0]] < 0.75] if turn_cols else sites.iloc[:0]
    turnaround_text = Markup(
        "<ul>"
        + "".join(parts)
        + "</ul>"
        + (
            f"<p class='warn'>{len(slow)} site(s) below 75 % within {turn_cols[0][7:-5]} days: "
            + ", ".join(str(x) for x in slow["site_id"].head(15))
            + "</p>"
            if len(slow)
            else "<p class='ok'>Every open site reaches 75 % within the first threshold.</p>"
        )
    )

    tracer = result.cyclotrons
    tr_cols = [
        "cyclotron_id",
        "name",
        "sites_primary",
        "doses_per_day",
        "mean_delivery_minutes",
        "max_delivery_minutes",
        "activity_gbq_per_day",
        "sites_backup",
        "backup_doses_per_day",
        "worst_failure_doses_per_day",
        "capacity_doses_per_day",
        "load",
        "load_with_backup",
    ]
    tr_cols = [c for c in tr_cols if c in tracer.columns]
    tracer_table = html_table(
        tracer[tr_cols],
        {
            "doses_per_day": "1",
            "mean_delivery_minutes": "1",
            "max_delivery_minutes": "1",
            "activity_gbq_per_day": "1",
            "backup_doses_per_day": "1",
            "worst_failure_doses_per_day": "1",
            "capacity_doses_per_day": "int",
            "load": "pct",
            "load_with_backup": "pct",
        },
        labels={
            "cyclotron_id": "Cyclotron",
            "name": "Name",
            "sites_primary": "Sites",
            "doses_per_day": "Doses/day",
            "mean_delivery_minutes": "Mean delivery min",
            "max_delivery_minutes": "Max delivery min",
            "activity_gbq_per_day": "Activity GBq/day (decay-adjusted)",
            "sites_backup": "Back-up sites",
            "backup_doses_per_day": "Back-up doses/day",
            "worst_failure_doses_per_day": "Extra if one other fails",
            "capacity_doses_per_day": "Capacity doses/day",
            "load": "Load",
            "load_with_backup": "Load if one other fails",
        },
    )

    over = tracer[tracer["load"].astype(float) > 1.0] if "load" in tracer else tracer.iloc[:0]
    if len(over):
        items = ", ".join(f"{r.cyclotron_id} ({100 * r.load:.0f} %)" for r in over.itertuples())
        tracer_table += (
            f"<p class='warn'>Above the assumed daily capacity: {escape(items)}. "
            f"Raise the capacity, add cyclotrons or set "
            f"cyclotrons.enforce_capacity: true.</p>"
        )
    unc = uncovered_zones(result)
    if len(unc):
        reasons = unc.groupby(
            unc.get("uncovered_reason", pd.Series("", index=unc.index)).fillna("").astype(str)
        )["population"].agg(["size", "sum"])
        reason_items = "".join(
            f"<li>{Markup.escape(r or 'not served within the standard')}: {n:,} zone(s), "
            f"population {int(p):,}</li>"
            for r, (n, p) in reasons.iterrows()
        )
        uncovered_text = Markup(
            f"<p>{len(unc):,} zone(s), population {int(unc['population'].sum()):,}, are not "
            f"served within {s.drive_minutes:g} minutes. Why:</p><ul>{reason_items}</ul>"
            f"<p>The 50 most populous:</p>"
        )
        uncovered_table = html_table(
            unc.head(50),
            {
                "population": "int",
                "scans_per_year": "1",
                "nearest_open_minutes": "1",
                "uncovered_share": "pct",
            },
            labels={
                "zone_id": "Zone",
                "name": "Name",
                "icb_name": "ICB",
                "lot": "Lot",
                "population": "Population",
                "scans_per_year": "Scans/yr",
                "nearest_open_minutes": "Nearest open site (min)",
                "uncovered_share": "Share unserved",
                "uncovered_reason": "Why",
            },
        )
    else:
        uncovered_text = Markup(
            f"<p class='ok'>Every zone is served within {s.drive_minutes:g} minutes.</p>"
        )
        uncovered_table = ""

    gap = result.provenance.get("mip_gap")
    charts = _charts(result)
    ctx = {
        "css": Markup((_TEMPLATES / "_base.css").read_text(encoding="utf-8")),
        "version": __version__,
        "name": s.name,
        "description": s.description,
        "drive_minutes": f"{s.drive_minutes:g}",
        "year": s.demand.year,
        "network": s.network.name if len(s.network.name) < 60 else Path(s.network.name).name,
        "objective": s.objective,
        "solver": s.solver.name,
        "status": t.get("status", "?"),
        "optimal": t.get("status") == "optimal",
        "gap_text": "" if gap is None else f"{100 * float(gap):.3f} %",
        "messages": result.provenance.get("messages", []),
        "cards": _cards(t, float(s.drive_minutes)),
        "coverage_lots": Markup(html_table(lots, cov_fmt, labels=cov_labels)),
        "coverage_icbs": Markup(html_table(icbs, cov_fmt, labels=cov_labels)),
        "n_icbs": len(icbs),
        "charts": charts,
        "n_open": int(t.get("sites_open", 0)),
        "n_candidates": len(result.sites),
        "static_per_day": f"{s.scanners.static_scans_per_day:g}",
        "working_days": f"{s.scanners.working_days_per_year:g}",
        "mobile_per_day": f"{s.scanners.mobile_scans_per_day:g}",
        "target_days_text": " and ".join(f"{d:g}" for d in s.turnaround.target_days),
        "sites_table": Markup(sites_table),
        "target_utilisation": f"{s.scanners.target_utilisation:.0%}",
        "turnaround_text": turnaround_text,
        "dose_mbq": f"{s.cyclotrons.dose_activity_mbq:g}",
        "half_life": "109.7",
        "primary_minutes": f"{s.cyclotrons.primary_minutes:g}",
        "backup_minutes": f"{s.cyclotrons.backup_minutes:g}",
        "tracer_table": Markup(tracer_table),
        "uncovered_text": uncovered_text,
        "uncovered_table": Markup(uncovered_table),
        "n_zones": f"{t.get('zones', 0):,}",
        "population": _fmt(t.get("population"), "int"),
        "demand_text": (
            f"{_fmt(t.get('demand_scans_per_year'), 'int')} scans/yr in "
            f"{s.demand.year} (base {s.demand.rate_per_1000:g} per 1,000 in "
            f"{s.demand.base_year}, growth {s.demand.growth_mode})"
        ),
        "calibration": f"{s.network.calibration:g}",
        "speed_profile": result.provenance.get("speed_profile", ""),
        "speed_profile_hash": result.provenance.get("speed_profile_hash", ""),
        "profile_sensitivity": _profile_sensitivity_text(result),
        "mobile_units": s.fleet.mobile_units,
        "fixed_days": f"{s.turnaround.admin_days + s.turnaround.report_days:g}",
        "total_time": result.provenance.get("total_time_s", "?"),
        "attributions": _attributions(),
        "generated": generated,
    }
    return _env().get_template("report.html.j2").render(**ctx)


def _profile_sensitivity_text(result: ScenarioResult) -> str:
    """'within 60 min: 93 % at free flow, 70 % in daytime traffic' for the open sites."""
    by = result.provenance.get("coverage_by_profile") or {}
    if not by:
        return ""
    names = {"free_flow": "at free flow", "daytime": "in daytime traffic"}
    keys = sorted({k for v in by.values() for k in v}, key=lambda k: float(k.split("_")[1]))
    parts = []
    for k in keys:
        mins = k.split("_")[1]
        vals = ", ".join(
            f"{100 * v[k]:.1f} % {names.get(n, 'with profile ' + n)}"
            for n, v in by.items()
            if k in v
        )
        parts.append(f"within {mins} min: {vals}")
    return "; ".join(parts)


# ----------------------------------------------------------------------------- the map
def build_map(result: ScenarioResult) -> Any:
    """The scenario's folium map (via :func:`netplan.maps.scenario_map`)."""
    from . import maps

    sites = result.sites.rename(columns={"site_id": "id", "static_scanners": "scanners"})
    keep = [
        c
        for c in (
            "id",
            "name",
            "lon",
            "lat",
            "decision",
            "scanners",
            "mobile_days_per_week",
            "capacity_scans_per_year",
            "assigned_scans_per_year",
            "utilisation",
            "mean_minutes",
            "max_minutes",
            "tracer_source",
        )
        if c in sites.columns
    ]
    zones = pd.DataFrame(result.zones).rename(columns={"zone_id": "id"})
    zcols = [
        c
        for c in ("id", "lon", "lat", "minutes", "covered", "assigned_site", "population")
        if c in zones.columns
    ]
    cyc = None
    if result.cyclotron_points is not None:
        cyc = pd.DataFrame(result.cyclotron_points)[["id", "name", "lon", "lat"]]
    lots = _lot_polygons()
    return maps.scenario_map(
        sites=sites[keep],
        zones=zones[zcols],
        isochrones=result.isochrones,
        cyclotrons=cyc,
        supply_links=supply_links(result),
        lots=lots,
        title=f"{result.scenario.name}: {result.scenario.drive_minutes:g}-minute standard",
    )


def _lot_polygons() -> Any:
    """ICB boundaries tagged with their contract lot (None when unavailable)."""
    try:
        from . import data, demand

        icb = data.load_icb_boundaries()
        lots = demand.load_icb_lots()
    except (NetplanError, OSError, AttributeError) as exc:  # pragma: no cover
        logger.warning("lot boundaries not drawn: %s", exc)
        return None
    return icb.merge(lots[["icb_code", "lot"]], on="icb_code", how="inner")[["lot", "geometry"]]


# ----------------------------------------------------------------------------- writers
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
    out_dir = Path(out_dir).absolute()
    outputs = result.scenario.outputs
    names: dict[str, str] = {}
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    with atomic_folder(out_dir, force=force) as tmp:
        for key, path in write_tables(result, tmp).items():
            names[key] = path.name
        if outputs.xlsx:
            names["xlsx"] = write_xlsx(result, tmp / "results.xlsx").name
        if outputs.gpkg:
            names["gpkg"] = write_gpkg(result, tmp / "results.gpkg").name
        if outputs.map:
            from . import maps

            names["map"] = maps.save_map(build_map(result), tmp / "map.html").name
        if outputs.report:
            html = render_report(result, generated=now)
            (tmp / "report.html").write_text(html, encoding="utf-8")
            names["report"] = "report.html"
        prov = dict(result.provenance)
        prov["generated"] = now
        result.scenario.to_yaml(tmp / "scenario.resolved.yaml", extra=_plain(prov))
        names["scenario"] = "scenario.resolved.yaml"
    paths = {k: out_dir / v for k, v in names.items()}
    logger.info("wrote %d outputs to %s", len(paths), out_dir)
    return paths


def _plain(obj: Any) -> Any:
    """Convert numpy scalars etc. to YAML-safe Python values."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        return float(obj) if math.isfinite(float(obj)) else None
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    return obj


# ----------------------------------------------------------------------------- comparison
COMPARISON_COLUMNS = {
    "share_within_30_min": ("≤ 30 min", "pct"),
    "share_within_60_min": ("≤ 60 min", "pct"),
    "share_within_90_min": ("≤ 90 min", "pct"),
    "share_within_standard": ("within standard", "pct"),
    "uncovered_population": ("uncovered pop.", "int"),
    "annual_cost_gbp": ("annual cost", "gbp"),
    "cost_per_scan_gbp": ("cost / scan", "gbp"),
    "cost_per_scan_change": ("Δ cost / scan", "pct"),
    "sites_open": ("sites", "int"),
    "static_scanners": ("static scanners", "int"),
    "mobile_days_per_week": ("mobile d/wk", "1"),
    "mean_utilisation": ("utilisation", "pct"),
    "capacity_over_demand": ("capacity / demand", "pct"),
    "turnaround_within_5_days": ("≤ 5 d", "pct"),
    "turnaround_within_7_days": ("≤ 7 d", "pct"),
    "status": ("status", ""),
}


def compare(results: Sequence[ScenarioResult]) -> pd.DataFrame:
    """Side-by-side headline figures, with the cost-per-scan change vs the first result.

    Returns
    -------
    pandas.DataFrame
        One row per scenario (index: scenario name) with the :func:`summary` figures plus
        ``cost_per_scan_change`` (fraction; negative = cheaper than the first scenario) and
        ``meets_saving_target`` (change <= -18 %, the contract's target).

    Raises
    ------
    ValidationError
        If ``results`` is empty or two scenarios share a name.
    """
    if not results:
        msg = "compare needs at least one scenario result"
        raise ValidationError(msg)
    names = [r.scenario.name for r in results]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        msg = f"scenario names must be unique to compare them; repeated: {dup}"
        raise ValidationError(msg)
    table = pd.concat([r.summary() for r in results])
    base = float(table["cost_per_scan_gbp"].iloc[0])
    change = table["cost_per_scan_gbp"].astype(float) / base - 1.0 if base else np.nan
    table["cost_per_scan_change"] = np.round(change, 6)
    table["meets_saving_target"] = table["cost_per_scan_change"] <= -CONTRACT_SAVING_TARGET
    return table


def render_comparison(
    results: Sequence[ScenarioResult],
    *,
    links: Sequence[tuple[str, str]] = (),
    title: str = "Scenario comparison",
    generated: str | None = None,
) -> str:
    """Return the comparison report (self-contained HTML)."""
    from markupsafe import Markup

    from . import __version__

    table = compare(results)
    cols = [c for c in COMPARISON_COLUMNS if c in table.columns]
    shown = table[cols].copy()
    shown.insert(0, "scenario", table.index)
    fmts = {c: COMPARISON_COLUMNS[c][1] for c in cols}
    labels = {c: COMPARISON_COLUMNS[c][0] for c in cols}
    row_class = [
        "target" if i > 0 and bool(v) else "" for i, v in enumerate(table["meets_saving_target"])
    ]
    warnings = [
        f"{n}: not proven optimal ({st})"
        for n, st in zip(table.index, table["status"], strict=True)
        if st != "optimal"
    ]
    from . import plot

    ax = None
    for r in results:
        z = pd.DataFrame(r.zones)
        ax = plot.coverage_curve(
            z["nearest_open_minutes"].astype(float).fillna(np.inf),
            z["population"].astype(float),
            ax=ax,
            label=r.scenario.name,
        )
    charts = [("Coverage curves", _png(ax)), ("Cost per scan", _png(_cost_chart(table)))]
    ctx = {
        "css": Markup((_TEMPLATES / "_base.css").read_text(encoding="utf-8")),
        "version": __version__,
        "title": title,
        "n": len(results),
        "baseline": table.index[0],
        "target_pct": f"{100 * CONTRACT_SAVING_TARGET:g}",
        "table": Markup(html_table(shown, fmts, labels=labels, row_class=row_class)),
        "charts": charts,
        "warnings": warnings,
        "links": [{"name": n, "href": h} for n, h in links],
        "attributions": _attributions(),
        "generated": generated,
    }
    return _env().get_template("comparison.html.j2").render(**ctx)


def _cost_chart(table: pd.DataFrame) -> Any:
    """Bar chart: cost per scan per scenario, with the 18 % target line (matplotlib)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3.2), layout="constrained")
    ax = fig.add_subplot()
    names = [str(n) for n in table.index]
    vals = table["cost_per_scan_gbp"].astype(float).to_numpy()
    ax.bar(names, vals, color="#005eb8")
    if len(vals) and math.isfinite(vals[0]):
        ax.axhline(
            vals[0] * (1 - CONTRACT_SAVING_TARGET),
            color="#d5281b",
            ls="--",
            label=f"−{100 * CONTRACT_SAVING_TARGET:g} % vs {names[0]}",
        )
        ax.legend(loc="lower right", fontsize=8)
    ax.set_ylabel("£ per scan")
    ax.tick_params(axis="x", labelrotation=20, labelsize=8)
    return fig


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
    with atomic_folder(out_dir, force=force) as tmp:
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
