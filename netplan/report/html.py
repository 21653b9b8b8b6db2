"""The HTML pages: the capacity report of one result and the comparison of several.

Pages are rendered from the Jinja templates in ``netplan/templates`` with the charts of
:mod:`netplan.plot` inlined as base64 PNGs, so each page is one self-contained file.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .rota_html import rota_section
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
        from .. import data

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
            _fmt(t.get("share_within_standard"), "pct"),
            f"of the population served within the {drive_minutes:g}-minute standard "
            f"(assigned to a site with room, not merely in reach)",
        ),
        (
            _fmt(t.get("unserved_scans_per_year"), "int"),
            f"scans/yr not served (population {_fmt(t.get('unserved_population'), 'int')})",
        ),
        (
            f"{_fmt(t.get('mean_drive_minutes'), '1')} min",
            "mean drive to the assigned site, per scan"
            + (
                f" ({_fmt(t.get('cost_plan_mean_drive_minutes'), '1')} min in the cheapest "
                f"plan found)"
                if t.get("cost_plan_mean_drive_minutes") is not None
                else ""
            ),
        ),
    ]
    cards += [
        (
            _fmt(t.get(f"share_within_{m}_min"), "pct"),
            f"population within {m} min of an open site "
            f"({_fmt(t.get(f'population_within_{m}_min'), 'int')})",
        )
        for m in (30, 45, 60, 90)
    ]
    cards += [
        (
            f"{_fmt(t.get('worst_zone_minutes'), '1')} min",
            f"worst served zone: {t.get('worst_zone', '')}",
        ),
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
            _fmt(t.get("saving_vs_mobile_led"), "pct"),
            f"saving per scan against an all-mobile service on the same demand "
            f"(£{float(t.get('mobile_led_cost_per_scan_gbp', math.nan)):,.0f}/scan; "
            f"the contract: 18 %)",
        ),
        (
            _fmt(t.get("capital_investment_gbp"), "gbp"),
            f"capital in scanners and new sites (the contract: "
            f"£{float(t.get('contract_investment_gbp', 87e6)) / 1e6:,.0f}m across 30 sites)",
        ),
        (
            t.get("tracer_over_capacity") or "none",
            "cyclotrons above their dispatch capacity",
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
    "visit_days": ("Visit days", ""),
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
        "objective": s.objective,
        "solver": s.solver.name,
        "status": t.get("status", "?"),
        "optimal": t.get("status") == "optimal",
        "gap_text": "" if gap is None else f"{100 * float(gap):.3f} %",
        "messages": result.provenance.get("messages", []),
        "cards": _cards(t, float(s.drive_minutes)),
        "flags": [f for f in str(t.get("flags") or "").split("; ") if f],
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


def _travel_text(result: ScenarioResult) -> str:
    """The cost-against-travel path of the travel stage, as a short table."""
    path = (result.provenance.get("travel") or {}).get("path") or []
    if len(path) < 1:
        return ""
    table = pd.DataFrame(path)
    tol = float(result.provenance["travel"]["cost_tolerance"])
    head = (
        f"<p>Among the plans that serve the same zones and cost at most {tol:.0%} more than "
        f"the cheapest plan found, the one with the least patient travel (a deterministic "
        f"local search, one scanner or mobile day moved at a time). Each row is one step: "
        f"what a little more money buys in drive minutes.</p>"
    )
    return head + html_table(
        table,
        {"annual_cost_gbp": "gbp", "mean_minutes": "1"},
        labels={"step": "Step", "annual_cost_gbp": "Annual cost", "mean_minutes": "Mean drive min"},
    )


def _what_it_takes(result: ScenarioResult) -> str:
    """The clusters of unserved zones, the rule excluding each nearby candidate and the
    smallest fix (``result.uncovered``), as HTML ('' when every zone is served)."""
    table = getattr(result, "uncovered", None)
    if table is None or not len(table) or "fix" not in table.columns:
        return ""
    n = len([c for c in table.columns if c.startswith("site_") and c.endswith("_rule")])

    def nearby(r: pd.Series) -> str:
        parts = []
        for k in range(1, n + 1):
            sid = r.get(f"site_{k}_id")
            if not isinstance(sid, str) or not sid:
                continue
            parts.append(
                f"{sid} {r.get(f'site_{k}_name', '')} ({_fmt(r.get(f'site_{k}_minutes'), '1')} "
                f"min): {r.get(f'site_{k}_rule', '')}"
            )
        return "; ".join(parts) or "no candidate within the drive times searched"

    shown = pd.DataFrame(
        {
            "place": [
                f"{r['place']} (near {r['site_1_name']})"
                if isinstance(r.get("site_1_name"), str) and r["site_1_name"]
                else str(r["place"])
                for _, r in table.iterrows()
            ],
            "icbs": table["icbs"].fillna("").astype(str),
            "population": table["population"],
            "unserved": table["unserved_scans_per_year"],
            "nearby": [nearby(r) for _, r in table.iterrows()],
            "fix": table["fix"].fillna("").astype(str),
            "annual": table["fix_annual_cost_gbp"],
            "capital": table["fix_capital_gbp"],
            "alternatives": table["alternatives"].fillna("").astype(str),
        }
    )
    intro = (
        f"<p>{len(table)} cluster(s) of zones, population "
        f"{int(table['population'].sum()):,}, are not served within the standard. For each, "
        f"the nearest candidate sites with the rule that keeps them from serving it, and the "
        f"smallest change that would: opening or extending a site within today's rules first, "
        f"then a longer tracer delivery at one site, a new cyclotron, and last a wider drive "
        f"standard. Costs are a year (capital over the annualisation period plus running) "
        f"and capital; in <code>uncovered.csv</code>.</p>"
    )
    return intro + html_table(
        shown,
        {"population": "int", "unserved": "int", "annual": "gbp", "capital": "gbp"},
        labels={
            "place": "Where",
            "icbs": "ICB",
            "population": "Population",
            "unserved": "Unserved scans/yr",
            "nearby": "Nearest candidates: why not",
            "fix": "Smallest change",
            "annual": "Cost a year",
            "capital": "Capital",
            "alternatives": "Other changes",
        },
    )


#: Columns of the coverage-by-deprivation table: label, format.
EQUITY_COLUMNS = {
    "name": ("IMD 2019 quintile", ""),
    "population": ("Population", "int"),
    "scans_per_year": ("Demand (scans/yr)", "int"),
    "share_served_within_standard": ("Demand served within the standard", "pct"),
    "mean_assigned_minutes": ("Mean drive to assigned site (min)", "1"),
}


def _equity_table(coverage: pd.DataFrame) -> str:
    """The IMD quintile rows of the coverage table, then England ('' without quintiles)."""
    rows = coverage[coverage["level"].isin(["imd_quintile", "all"])]
    cols = [c for c in EQUITY_COLUMNS if c in rows.columns]
    if "imd_quintile" not in set(rows["level"]) or len(cols) < len(EQUITY_COLUMNS):
        return ""
    rows = pd.concat([rows[rows["level"] == "imd_quintile"], rows[rows["level"] == "all"]])
    return html_table(
        rows[cols],
        {c: EQUITY_COLUMNS[c][1] for c in cols},
        labels={c: EQUITY_COLUMNS[c][0] for c in cols},
    )


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


#: What each eligibility rule keeps (the report's candidates paragraph).
_RULE_TEXT = {
    "pet_ct_host": "acute general hospitals and specialist cancer centres",
    "all_acute": "NHS acute-trust hospitals, the filter before the PET-CT rule",
    "none": "no rule: every hospital",
}


def _candidates_text(result: ScenarioResult, *, top: int = 6) -> str:
    """One paragraph on the candidate hospitals: list size, eligible, excluded by reason,
    contract sites and their preference ('' without a candidate table)."""
    from markupsafe import escape

    from .._eligibility import RULE_LABELS

    cand = getattr(result, "candidates", None)
    if cand is None or not len(cand):
        return ""
    s = result.scenario
    status = cand["status"].astype(str)
    listed = int((status != "extra").sum())
    eligible = int(cand["eligible"].astype(bool).sum())
    contract = cand["is_contract"].astype(bool)
    open_ids = set(result.sites.loc[result.sites["open"].astype(bool), "site_id"].astype(str))
    n_open_contract = int(cand.loc[contract, "id"].astype(str).isin(open_ids).sum())
    excluded = cand[status == "excluded"]
    by_rule = excluded["rule"].astype(str).map(lambda k: RULE_LABELS.get(k, k)).value_counts()
    reasons = ", ".join(f"{escape(r)} {n:,}" for r, n in by_rule.head(top).items())
    if len(by_rule) > top:
        reasons += f", other reasons {int(by_rule.iloc[top:].sum()):,}"
    others = ", ".join(
        f"{int((status == k).sum()):,} {label}"
        for k, label in (
            ("duplicate", "duplicate(s) of a campus within 250 m"),
            ("included", "included by a scenario override of the rule"),
            ("forbidden", "forbidden by the scenario"),
            ("not_offered", f"eligible but left out by sites.candidates = {s.sites.candidates!r}"),
            ("extra", "user site(s)"),
        )
        if (status == k).any()
    )
    pref = s.sites.contract_preference
    saving = (
        f"the installation saving is on (a contract site pays "
        f"{_fmt(s.costs.existing_site_install_gbp, 'gbp')} for its site instead of "
        f"{_fmt(s.costs.static_install_gbp, 'gbp')})"
        if pref.install_saving
        else "the installation saving is off (contract sites pay the full site installation)"
    )
    lock = "every contract site is locked open" if pref.lock else "no contract site is locked"
    return (
        f"<p id='candidates'>Candidate hospitals: the NHS.uk list holds {listed:,} hospitals "
        f"in England; <b>{eligible:,}</b> may host PET-CT under the eligibility rule "
        f"<code>{escape(s.sites.eligibility)}</code> ({_RULE_TEXT.get(s.sites.eligibility, '')}; "
        f"the {int(contract.sum())} contract sites always). "
        f"{len(excluded):,} are excluded: {reasons}."
        f"{(' Also ' + others + '.') if others else ''} "
        f"Contract sites: {int(contract.sum())}, {n_open_contract} open; {saving}; {lock}. "
        f"Every hospital's status and reason is in <code>candidates.csv</code>.</p>"
    )


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
