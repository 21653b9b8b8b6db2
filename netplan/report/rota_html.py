"""The mobile rota section of the capacity report: units as rows, weekdays as columns.

:func:`rota_section` reads ``result.rota``, ``result.rota_units`` and the ``rota_*`` totals
(:mod:`netplan.scenario.rota_stage`) and returns an HTML fragment ('' when the run has no
rota); :func:`netplan.report.html.render_report` puts it after the tracer section.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

_ORDER = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat")


def rota_grid(rota: pd.DataFrame) -> pd.DataFrame:
    """Units as rows, weekdays as columns: the site each unit works at ('' when idle)."""
    work = rota.assign(cell=rota["site_name"].where(rota["visit"].astype(bool), ""))
    grid = work.pivot(index="unit_id", columns="weekday", values="cell")
    days = [d for d in _ORDER if d in grid.columns]
    units = sorted(grid.index, key=lambda u: int(str(u).rsplit("_", 1)[-1]))
    return grid.loc[units, days].fillna("")


def rota_section(result: Any) -> str:
    """The report's rota section as HTML ('' without a rota)."""
    from markupsafe import escape

    rota = getattr(result, "rota", None)
    if rota is None:
        return ""
    t = result.totals
    f = result.scenario.fleet
    status = str(t.get("rota_status", "?"))
    spread = (
        ", visits spread (no site on two consecutive days when its days allow)"
        if f.spread_days
        else ""
    )
    head = (
        f'<h2 id="rota">Mobile rota</h2>\n<p>Which unit is where on which weekday: an exact '
        f"second stage after the placement (netplan.optimise.rota), {f.mobile_units} unit(s), "
        f"days {escape(', '.join(f.days))}, overnight moves within "
        f"{f.max_relocation_minutes:g} min of driving on the scenario's network"
        f"{spread}. Status: <strong>{escape(status)}</strong>; checks: "
        f"{escape(str(t.get('rota_checks')))}.</p>\n"
    )
    if status == "infeasible":
        head += (
            f'<p class="warn">No rota gives every mobile site its planned days: '
            f"{int(t.get('rota_short_days', 0))} day(s) short (the largest partial rota is shown); "
            f"see the messages at the top.</p>\n"
        )
    if int(t.get("rota_placement_resolves", 0) or 0):
        head += (
            f"<p>The placement was re-solved {int(t['rota_placement_resolves'])} time(s) with "
            f"tighter per-site mobile-day limits so that a rota exists; its optimality holds "
            f"for the model with those limits.</p>\n"
        )
    if rota.empty:
        return head + "<p>No mobile days are planned.</p>\n"
    head += (
        f"<p>{int(t.get('rota_units_used', 0))} unit(s) used; "
        f"{float(t.get('rota_relocation_minutes_per_week', 0)):,.0f} relocation minutes and "
        f"{int(t.get('rota_moves_per_week', 0))} move(s) a week "
        f"(£{float(t.get('rota_relocation_gbp_per_year', 0)):,.0f} a year at "
        f"£{f.relocation_gbp_per_move:,.0f} a move); "
        f"{int(t.get('rota_back_to_back_visits', 0))} back-to-back visit(s); "
        f"{int(t.get('rota_tracer_late_visits', 0))} visit day(s) without a cyclotron within "
        f"the primary {result.scenario.cyclotrons.primary_minutes:g} min. Rows of "
        f"<code>rota.csv</code> and <code>units.csv</code>; the map has a layer per unit.</p>\n"
    )
    grid = rota_grid(rota)
    idle = int((grid == "").all(axis=1).sum())
    grid = grid[(grid != "").any(axis=1)]
    if idle:
        head += f"<p>{idle} unit(s) idle all week are left out of the table.</p>\n"
    moved = rota.set_index(["unit_id", "weekday"])["relocation_minutes_from_previous"]
    cells = []
    for unit, row in grid.iterrows():
        tds = []
        for day, name in row.items():
            m = float(moved.get((unit, day), 0.0))
            note = f"<br><small>+{m:.0f} min</small>" if m > 0 else ""
            tds.append(f"<td>{escape(name) if name else '·'}{note}</td>")
        cells.append(f"<tr><th>{escape(str(unit))}</th>{''.join(tds)}</tr>")
    th = "".join(f"<th>{escape(str(d))}</th>" for d in grid.columns)
    table = (
        f'<table class="rota"><thead><tr><th>Unit</th>{th}</tr></thead>'
        f"<tbody>{''.join(cells)}</tbody></table>\n"
    )
    return head + table
