"""Outputs of a roll-out (``netplan rollout``): two tables, a report page and a map.

:func:`write_rollout` writes, atomically into an output folder owned through its
``.netplan-output`` marker (:mod:`netplan.report.folder`):

* ``rollout.csv``: one row per site and year (:data:`netplan.scenario.rollout.PLAN_COLUMNS`);
* ``rollout_summary.csv``: one row per year (share within the standard, sites, scanners,
  capital, annual cost, cost per scan and its change against the first year and against the
  mobile-led baseline, the saving target);
* ``rollout_report.html``: a self-contained page with the timeline chart
  (:func:`timeline_figure`: scanners, capital and cost per scan against the target line) and
  both tables;
* ``rollout_map.html``: one toggleable layer per year (:mod:`netplan.report.rollout_map`);
* ``scenario.resolved.yaml``: the scenario with every default and the solve's provenance.

The run is read through its attributes only (``scenario``, ``plan``, ``summary``,
``baseline``, ``sites``, ``provenance``); nothing here imports :mod:`netplan.scenario`.
"""

from __future__ import annotations

import datetime as _dt
import html
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from .folder import atomic_folder
from .html import ATTRIBUTIONS, _png

logger = logging.getLogger(__name__)

#: The files of a roll-out folder (besides the marker).
ROLLOUT_FILES = (
    "rollout.csv",
    "rollout_summary.csv",
    "rollout_report.html",
    "rollout_map.html",
    "scenario.resolved.yaml",
)


#: Decimals of the CSV columns (pounds to the penny, scans to 0.01, shares to 6 places).
_DECIMALS = {
    "capital_gbp": 2,
    "cumulative_capital_gbp": 2,
    "annual_cost_gbp": 2,
    "discounted_cost_gbp": 2,
    "cost_per_scan_gbp": 4,
    "baseline_cost_per_scan_gbp": 4,
    "target_cost_per_scan_gbp": 4,
    "capacity_scans": 2,
    "demand_scans": 2,
    "served_scans": 2,
    "unserved_scans": 2,
    "utilisation": 6,
    "share_within_standard": 6,
    "mean_drive_minutes": 3,
}


def rollout_output_names(scenario: Any) -> list[str]:
    """The files :func:`write_rollout` writes for ``scenario`` (``outputs.map`` and
    ``outputs.report`` switch the map and the page)."""
    out = scenario.outputs
    skip = set()
    if not out.map:
        skip.add("rollout_map.html")
    if not out.report:
        skip.add("rollout_report.html")
    return [n for n in ROLLOUT_FILES if n not in skip]


def timeline_figure(
    summary: pd.DataFrame, *, saving_target: float, capital_total_gbp: float | None = None
) -> Any:
    """The roll-out timeline: static scanners and mobile days, capital, and cost per scan
    against the mobile-led baseline's cost less ``saving_target`` (the contract's 18 %), and
    the capital against ``capital_total_gbp`` (the contract's £87 m) when given.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ..plot import _figure_module

    Figure = _figure_module()
    fig = Figure(figsize=(11, 3.4), layout="constrained")
    ax1, ax2, ax3 = fig.subplots(1, 3)
    years = summary["year"].astype(int).to_numpy()
    labels = summary.get("financial_year", summary["year"]).astype(str).to_numpy()
    ax1.bar(years, summary["static_scanners"], color="#1f5fa8", label="static scanners")
    ax1b = ax1.twinx()
    ax1b.plot(years, summary["mobile_days_per_week"], "o-", color="#e07b00", label="mobile days/wk")
    ax1.set_title("Static scanners and mobile days a week")
    ax1.set_ylabel("static scanners")
    ax1b.set_ylabel("mobile days a week")
    handles = ax1.get_legend_handles_labels()
    more = ax1b.get_legend_handles_labels()
    ax1.legend(handles[0] + more[0], handles[1] + more[1], loc="upper left", fontsize=8)
    ax2.bar(years, summary["capital_gbp"] / 1e6, color="#4a8c3a", label="capital in the year")
    ax2.plot(years, summary["capital_gbp"].cumsum() / 1e6, "k.-", label="cumulative capital")
    if capital_total_gbp is not None:
        ax2.axhline(
            capital_total_gbp / 1e6,
            color="#c0392b",
            ls="--",
            label=f"total budget £{capital_total_gbp / 1e6:,.0f} m",
        )
    ax2.set_title("Capital (GBP m)")
    ax2.legend(loc="upper left", fontsize=8)
    ax3.plot(years, summary["cost_per_scan_gbp"], "o-", color="#1f5fa8", label="cost per scan")
    base = float(summary["baseline_cost_per_scan_gbp"].iloc[0])
    ax3.axhline(base, color="#888", ls=":", label=f"mobile-led baseline £{base:,.0f}")
    ax3.axhline(
        base * (1 - saving_target),
        color="#c0392b",
        ls="--",
        label=f"{saving_target:.0%} saving target £{base * (1 - saving_target):,.0f}",
    )
    ax3.set_title("Cost per scan (GBP)")
    ax3.set_ylim(bottom=0)
    ax3.legend(loc="lower left", fontsize=8)
    for ax in (ax1, ax2, ax3):
        ax.set_xticks(years, labels, rotation=45, fontsize=7)
    return fig


def _table_html(df: pd.DataFrame, formats: dict[str, str]) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = []
    for rec in df.itertuples(index=False):
        cells = []
        for col, value in zip(df.columns, rec, strict=True):
            fmt = formats.get(col)
            text = format(value, fmt) if fmt and pd.notna(value) else str(value)
            cells.append(f"<td>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


_SUMMARY_VIEW = {
    "financial_year": ("year", None),
    "share_within_standard": ("within standard", ".1%"),
    "unserved_scans": ("scans not served", ",.0f"),
    "sites": ("sites", None),
    "static_scanners": ("static scanners", None),
    "mobile_days_per_week": ("mobile days/wk", None),
    "capital_gbp": ("capital £", ",.0f"),
    "annual_cost_gbp": ("annual cost £", ",.0f"),
    "cost_per_scan_gbp": ("cost per scan £", ",.0f"),
    "cost_per_scan_change_vs_first_year": ("vs first year", "+.1%"),
    "cost_per_scan_change_vs_mobile_led": ("vs mobile-led", "+.1%"),
    "meets_saving_target": ("meets target", None),
}


def render_rollout_report(run: Any, *, generated: str = "") -> str:
    """The roll-out report page (self-contained HTML)."""
    s, summary, prov = run.scenario, run.summary, run.provenance
    target = float(s.rollout.saving_target)
    chart = _png(
        timeline_figure(
            summary, saving_target=target, capital_total_gbp=s.rollout.capital_total_gbp
        )
    )
    view = summary[list(_SUMMARY_VIEW)].rename(columns={k: v[0] for k, v in _SUMMARY_VIEW.items()})
    formats = {v[0]: v[1] for v in _SUMMARY_VIEW.values() if v[1]}
    pivot = run.plan.pivot_table(
        index=["site_id", "site_name"],
        columns="year",
        values=["static_scanners", "mobile_days_per_week"],
        aggfunc="sum",
    )
    cells = pd.DataFrame(index=pivot.index)
    for y in sorted(run.plan["year"].unique()):
        st = pivot[("static_scanners", y)].astype(int).astype(str)
        mo = pivot[("mobile_days_per_week", y)].astype(int)
        cells[str(y)] = st.where(mo == 0, st + " + " + mo.astype(str) + "d")
    cells = cells.reset_index().rename(columns={"site_id": "site", "site_name": "name"})
    last = summary.iloc[-1]
    base = run.baseline
    gap = prov.get("mip_gap")
    gap_text = "n/a" if gap is None else f"{gap:.3%}"
    capital = float(summary["capital_gbp"].sum())
    budget = s.rollout.capital_total_gbp
    budget_text = "no total" if budget is None else f"£{budget / 1e6:,.1f} m"
    headline = [
        f"Years {html.escape(str(summary['financial_year'].iloc[0]))} to "
        f"{html.escape(str(last['financial_year']))}; solver status "
        f"<b>{html.escape(str(prov.get('solver_status')))}</b>, MIP gap {gap_text}.",
        f"Static scanners {int(summary['static_scanners'].iloc[0])} in the first year, "
        f"{int(last['static_scanners'])} in the last, at {int(last['static_sites'])} sites; "
        f"capital £{capital / 1e6:,.1f} m (budget {budget_text}).",
        f"Share of scans served within {s.drive_minutes:g} minutes: "
        f"{summary['share_within_standard'].min():.1%} to "
        f"{summary['share_within_standard'].max():.1%} over the years.",
        f"Cost per scan £{float(summary['cost_per_scan_gbp'].iloc[0]):,.0f} in the first year, "
        f"£{float(last['cost_per_scan_gbp']):,.0f} in the last "
        f"({float(last['cost_per_scan_change_vs_first_year']):+.1%}); the mobile-led baseline "
        f"(the starting state alone, {base['year']}, no new capital) costs "
        f"£{base['cost_per_scan_gbp']:,.0f} a scan and serves "
        f"{base['share_within_standard']:.1%} within the standard; the {target:.0%} target is "
        f"£{base['cost_per_scan_gbp'] * (1 - target):,.0f}.",
        f"Cost discounted at {s.rollout.discount_rate:.1%} a year (HM Treasury Green Book): "
        f"£{float(prov.get('discounted_cost_gbp', 0)) / 1e6:,.1f} m over the years.",
    ]
    notes = "".join(f"<li>{html.escape(str(m))}</li>" for m in prov.get("messages", []))
    attributions = "<br>".join(html.escape(a) for a in ATTRIBUTIONS)
    version = str(prov.get("netplan_version", ""))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(s.name)}: roll-out plan</title>
<style>
body{{font-family:sans-serif;margin:1.5em auto;max-width:1150px;color:#222}}
table{{border-collapse:collapse;font-size:12px;margin:0.5em 0 1.5em}}
th,td{{border:1px solid #ccc;padding:3px 6px;text-align:right}}
th{{background:#eef2f7}} td:first-child,td:nth-child(2){{text-align:left}}
footer{{font-size:11px;color:#555;margin-top:2em}}
</style></head><body>
<h1>{html.escape(s.name)}: year-by-year roll-out</h1>
<p>{html.escape(s.description)}</p>
<ul>{"".join(f"<li>{h}</li>" for h in headline)}</ul>
<h2>Timeline</h2>
<img alt="Scanners, capital and cost per scan by year" src="data:image/png;base64,{chart}">
<h2>By year</h2>
{_table_html(view, formats)}
<h2>By site (static scanners + mobile days a week)</h2>
{_table_html(cells, {})}
<h2>Notes</h2><ul>{notes}</ul>
<footer>Generated {html.escape(generated)} by netplan {html.escape(version)}.
<br>{attributions}</footer>
</body></html>
"""


def write_rollout(run: Any, out_dir: str | Path, *, force: bool = False) -> dict[str, Path]:
    """Write a roll-out's files into ``out_dir`` atomically (see the module docstring).

    Returns
    -------
    dict
        ``plan``, ``summary``, ``report``, ``map``, ``scenario`` -> path.

    Raises
    ------
    OutputFolderError
        As :func:`netplan.report.write_result` (files netplan did not write are never
        overwritten).
    """
    out_dir = Path(out_dir).absolute()
    s = run.scenario
    files = getattr(s, "input_files", None)
    inputs = list(files()) if callable(files) else []
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    names: dict[str, str] = {}
    with atomic_folder(out_dir, force=force, inputs=inputs) as tmp:
        run.plan.round(_DECIMALS).to_csv(tmp / "rollout.csv", index=False)
        names["plan"] = "rollout.csv"
        run.summary.round(_DECIMALS).to_csv(tmp / "rollout_summary.csv", index=False)
        names["summary"] = "rollout_summary.csv"
        if s.outputs.report:
            page = render_rollout_report(run, generated=now)
            (tmp / "rollout_report.html").write_text(page, encoding="utf-8")
            names["report"] = "rollout_report.html"
        if s.outputs.map:
            from .. import maps
            from .rollout_map import rollout_map

            maps.save_map(
                rollout_map(run.plan, run.sites, title=f"{s.name}: roll-out"),
                tmp / "rollout_map.html",
            )
            names["map"] = "rollout_map.html"
        prov = {**run.provenance, "generated": now}
        s.to_yaml(tmp / "scenario.resolved.yaml", extra=_plain(prov))
        names["scenario"] = "scenario.resolved.yaml"
    logger.info("wrote %d roll-out outputs to %s", len(names), out_dir)
    return {k: out_dir / v for k, v in names.items()}


def _plain(value: Any) -> Any:
    """YAML-safe plain values (numpy scalars to Python)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    return value
