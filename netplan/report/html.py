"""The HTML pages: the capacity report of one result and the comparison of several.

Pages are rendered from the Jinja templates in ``netplan/templates`` with the charts of
:mod:`netplan.plot` inlined as base64 PNGs, so each page is one self-contained file.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .rota_html import rota_section
from .sections import (
    _candidates_text,
    _cards,
    _equity_table,
    _profile_sensitivity_text,
    _travel_text,
    _what_it_takes,
)
from .summary import cost_basis, headline_warnings, plain_name, plan_summary
from .tables import _fmt, html_table
from .writers import CONTRACT_SAVING_TARGET, compare, uncovered_zones

if TYPE_CHECKING:
    from ._types import ScenarioResult

ATTRIBUTIONS = (
    "© OpenStreetMap contributors, ODbL",
    "Contains public sector information licensed under the Open Government Licence v3.0",
    "Contains OS data © Crown copyright and database right 2024",
)
_TEMPLATES = Path(__file__).parent.with_name("templates")


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
    from .. import plot

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
        from .. import data

        found = [a for a in data.attributions() if a]
    except Exception:  # pragma: no cover - data layer unavailable
        found = []
    out = list(ATTRIBUTIONS)
    for a in found:
        if a not in out and not any(a.split("(")[0].strip() in b for b in out):
            out.append(a)
    return out


SITE_COLUMNS = {
    "name": ("Name", ""),
    "site_id": ("Code", ""),
    "lot": ("Lot", ""),
    "decision": ("Decision", ""),
    "static_scanners": ("Static", "int"),
    "mobile_days_per_week": ("Mobile days/wk", "1"),
    "visit_days": ("Visit days", ""),
    "capacity_scans_per_year": ("Capacity scans/yr", "int"),
    "assigned_scans_per_year": ("Assigned scans/yr", "int"),
    "utilisation": ("Utilisation", "pct"),
    "mean_minutes": ("Mean drive min", "1"),
    "max_minutes": ("Max drive min", "1"),
    "tracer_source": ("Tracer from", ""),
    "tracer_minutes": ("Delivery min", "1"),
    "backup_source": ("Back-up from", ""),
    "backup_minutes": ("Back-up min", "1"),
}


def render_report(result: ScenarioResult, *, generated: str | None = None) -> str:
    """Return the capacity report of one result as a self-contained HTML page."""
    from markupsafe import Markup, escape

    from .._version import __version__

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
    equity_table = _equity_table(cov)

    sites = result.sites[result.sites["open"]].copy()
    turn_cols = [c for c in sites.columns if c.startswith("within_") and c.endswith("_days")]
    cols = [c for c in SITE_COLUMNS if c in sites.columns] + turn_cols
    fmts = {c: SITE_COLUMNS[c][1] for c in cols if c in SITE_COLUMNS}
    fmts |= dict.fromkeys(turn_cols, "pct")
    labels = {c: SITE_COLUMNS[c][0] for c in cols if c in SITE_COLUMNS} | {
        c: f"≤ {c.removeprefix('within_').removesuffix('_days')} d" for c in turn_cols
    }
    # grouped by decision (static, static + mobile, mobile), by name within a group
    order = {"static": 0, "both": 1, "mobile": 2}
    sites = sites.assign(_order=sites["decision"].map(order).fillna(3)).sort_values(
        ["_order", "name"], kind="mergesort"
    )
    cyc_names = dict(zip(result.cyclotrons["cyclotron_id"], result.cyclotrons["name"], strict=True))
    shown = sites[cols].copy()
    for col in ("tracer_source", "backup_source"):
        if col in shown:
            shown[col] = shown[col].map(lambda v: cyc_names.get(v, v))
    if "decision" in shown:
        shown["decision"] = shown["decision"].map(plain_name)
    counts = sites["decision"].value_counts()
    group_label = {
        "static": "Static scanner sites",
        "both": "Static + mobile sites",
        "mobile": "Mobile-only sites (visited by a mobile unit)",
    }
    groups = [f"{group_label.get(d, d)} ({counts[d]})" for d in sites["decision"]]
    sites_table = html_table(shown, fmts, labels=labels, groups=groups)

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
    unstable = (
        sites[~sites["queue_stable"].astype(bool)] if "queue_stable" in sites else sites.iloc[:0]
    )
    if len(unstable):
        items = "; ".join(
            f"{r.site_id} ({r.turnaround_note})"
            for r in unstable[["site_id", "turnaround_note"]].itertuples()
        )
        parts.append(
            f"<li class='warn'>{len(unstable)} site(s) have more patients than scan slots, so "
            f"their queue grows without bound and no share is modelled: {escape(items)}. The "
            f"network figures above leave them out.</li>"
        )
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
            "name": "Cyclotron",
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
        items = ", ".join(f"{r.name} ({100 * r.load:.0f} %)" for r in over.itertuples())
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

    what_it_takes = _what_it_takes(result)
    travel_text = _travel_text(result)
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
        "objective": plain_name(s.objective),
        "solver": plain_name(s.solver.name),
        "status": t.get("status", "?"),
        "optimal": t.get("status") == "optimal",
        "gap_text": "" if gap is None else f"{100 * float(gap):.3f} %",
        "messages": result.provenance.get("messages", []),
        "cards": _cards(
            t, float(s.drive_minutes), target_utilisation=float(s.scanners.target_utilisation)
        ),
        "flags": headline_warnings(result),
        "summary": Markup(plan_summary(result)),
        "cost_basis": Markup(cost_basis(result)),
        "links": [("map.html", "Interactive map"), ("results.xlsx", "Workbook (results.xlsx)")],
        "travel_text": Markup(travel_text),
        "coverage_lots": Markup(html_table(lots, cov_fmt, labels=cov_labels)),
        "coverage_icbs": Markup(html_table(icbs, cov_fmt, labels=cov_labels)),
        "n_icbs": len(icbs),
        "equity_table": Markup(equity_table),
        "charts": charts,
        "n_open": int(t.get("sites_open", 0)),
        "n_candidates": len(result.sites),
        "static_per_day": f"{s.scanners.static_scans_per_day:g}",
        "working_days": f"{s.scanners.working_days_per_year:g}",
        "mobile_per_day": f"{s.scanners.mobile_scans_per_day:g}",
        "target_days_text": " and ".join(f"{d:g}" for d in s.turnaround.target_days),
        "sites_table": Markup(sites_table),
        "candidates_text": Markup(_candidates_text(result)),
        "target_utilisation": f"{s.scanners.target_utilisation:.0%}",
        "turnaround_text": turnaround_text,
        "dose_mbq": f"{s.cyclotrons.dose_activity_mbq:g}",
        "half_life": "109.7",
        "primary_minutes": f"{s.cyclotrons.primary_minutes:g}",
        "backup_minutes": f"{s.cyclotrons.backup_minutes:g}",
        "tracer_table": Markup(tracer_table),
        "rota_section": Markup(rota_section(result)),  # the mobile rota (report/rota_html.py)
        "uncovered_text": uncovered_text,
        "what_it_takes": Markup(what_it_takes),
        "uncovered_table": Markup(uncovered_table),
        "n_zones": f"{t.get('zones', 0):,}",
        "population": _fmt(t.get("population"), "int"),
        "demand_text": (
            f"{_fmt(t.get('demand_scans_per_year'), 'int')} scans/yr in "
            f"{s.demand.year} (base {s.demand.rate_per_1000:g} per 1,000 in "
            f"{s.demand.base_year}, {plain_name(s.demand.growth_mode)})"
        ),
        "calibration": f"{s.network.calibration:g}",
        "speed_profile": plain_name(result.provenance.get("speed_profile", "")),
        "speed_profile_hash": result.provenance.get("speed_profile_hash", ""),
        "profile_sensitivity": _profile_sensitivity_text(result),
        "mobile_units": s.fleet.mobile_units,
        "fixed_days": f"{s.turnaround.admin_days + s.turnaround.report_days:g}",
        "total_time": result.provenance.get("total_time_s", "?"),
        "attributions": _attributions(),
        "generated": generated,
    }
    return _env().get_template("report.html.j2").render(**ctx)


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
    "rota_status": ("rota", ""),
    "rota_units_used": ("units used", "int"),
    "rota_relocation_minutes_per_week": ("relocation min/wk", "int"),
    "rota_short_days": ("rota days short", "int"),
    "status": ("status", ""),
}


def render_comparison(
    results: Sequence[ScenarioResult],
    *,
    links: Sequence[tuple[str, str]] = (),
    title: str = "Scenario comparison",
    generated: str | None = None,
) -> str:
    """Return the comparison report (self-contained HTML)."""
    from markupsafe import Markup

    from .._version import __version__

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
    from .. import plot

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
