"""The report in plain words: what the plan does, its cost basis, the warnings that matter.

- :func:`plan_summary` is the short paragraph at the top of the report.
- :func:`cost_basis` is the table of prices the plan was costed with (capital,
  installation, running, GBP per mobile day, annualisation), each read from the resolved
  scenario with its unit and source from ``netplan/defaults.yaml``.
- :func:`headline_warnings` lifts the run notes a reader must see (e.g. zones snapped far
  from the road network) out of the collapsed notes into the headline.
- :func:`plain_name` turns internal keys (``cover_then_cost``, ``by_tracer``...) into words.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pandas as pd

from .tables import _fmt, html_table

if TYPE_CHECKING:
    from ._types import ScenarioResult

#: Internal keys of the scenario and result, in words.
PLAIN_NAMES: dict[str, str] = {
    "cost": "least annual cost",
    "drive_time": "least patient drive time",
    "max_coverage": "most people within the standard",
    "cover_then_cost": "serve everyone the standard allows, then at least cost",
    "by_tracer": "growth per tracer",
    "total": "one growth rate for all scans",
    "free_flow": "free-flow speeds",
    "daytime": "daytime traffic speeds",
    "highs": "HiGHS",
    "cbc": "CBC",
    "pet_ct_host": "hospitals able to host PET-CT",
    "all_acute": "all NHS acute hospitals",
    "none": "every hospital",
    "static": "static",
    "mobile": "mobile",
    "both": "static + mobile",
    "closed": "not used",
}

#: The cost items of the basis table: scenario key, label, format.
COST_ITEMS: tuple[tuple[str, str, str], ...] = (
    ("static_scanner_capital_gbp", "Capital: one static PET-CT scanner", "gbp"),
    ("static_install_gbp", "Installation: a new scanner site (building, fit-out)", "gbp"),
    ("existing_site_install_gbp", "Installation at a contract site that has a scanner", "gbp"),
    ("static_running_gbp_per_year", "Running: one static scanner a year", "gbp"),
    ("mobile_gbp_per_day", "Mobile unit: one visit day (GBP per mobile day)", "gbp"),
    ("annualisation_years", "Annualisation: capital spread straight-line over (years)", "1"),
)


def plain_name(key: Any) -> str:
    """``key`` in words (unknown keys are returned as they are)."""
    return PLAIN_NAMES.get(str(key), str(key))


def _n(value: Any, kind: str = "int") -> str:
    return _fmt(value, kind)


def plan_summary(result: ScenarioResult) -> str:
    """A short paragraph (HTML) saying what the plan does, in words."""
    s, t = result.scenario, result.totals
    sites = result.sites
    n_cand = len(sites)
    served = _n(t.get("share_within_standard"), "pct")
    unserved = float(t.get("unserved_scans_per_year") or 0.0)
    parts = [
        f"This plan opens <b>{_n(t.get('sites_open'))} site"
        f"{'' if t.get('sites_open') == 1 else 's'}</b> of {n_cand:,} candidate "
        f"hospitals: {_n(t.get('static_sites'))} with static scanners "
        f"({_n(t.get('static_scanners'))} scanners) and {_n(t.get('mobile_sites'))} visited by "
        f"mobile units ({_n(t.get('mobile_days_per_week'), '1')} visit days a week).",
        f"It serves <b>{served}</b> of the {_n(t.get('population'))} people in the "
        f"{_n(t.get('zones'))} zones within a {s.drive_minutes:g}-minute drive of the site "
        f"they are assigned to, {_n(t.get('mean_drive_minutes'), '1')} minutes on average "
        f"per scan.",
    ]
    if unserved > 0:
        parts.append(
            f"{_n(unserved)} scans a year (population {_n(t.get('unserved_population'))}, "
            f"{_n(t.get('uncovered_zones'))} zones) are not served within the standard; "
            f'<a href="#uncovered">Uncovered zones</a> says why and what it would take.'
        )
    else:
        parts.append("Every zone is served within the standard.")
    parts.append(
        f"It costs <b>{_n(t.get('annual_cost_gbp'), 'gbp')} a year</b> "
        f"({_n(t.get('cost_per_scan_gbp'), 'gbp')} per scan for "
        f"{_n(t.get('demand_scans_per_year'))} scans a year in {s.demand.year}), with "
        f"{_n(t.get('capital_investment_gbp'), 'gbp')} of capital; "
        f'<a href="#cost-basis">Cost basis</a> lists the prices.'
    )
    status = str(t.get("status", ""))
    gap = result.provenance.get("mip_gap")
    aim = plain_name(s.objective)
    if status == "optimal":
        parts.append(f"The plan is the best the solver can find for its aim ({aim}).")
    else:
        gap_text = "" if gap is None else f", within {100 * float(gap):.1f} % of the best cost"
        parts.append(
            f"The aim is to {aim}; the solver found a good plan but did not prove it the "
            f"best ({status}{gap_text})."
        )
    return " ".join(parts)


def _sources() -> dict[str, tuple[Any, str, str]]:
    """Defaults by key: (value, unit, source)."""
    from .. import defaults

    table = defaults.describe()
    return {
        str(r.key): (r.value, str(r.unit), str(r.source)) for r in table.itertuples(index=False)
    }


def cost_basis(result: ScenarioResult) -> str:
    """The cost basis (HTML): each price the plan was costed with, its unit and source."""
    costs = result.scenario.costs
    sources = _sources()
    rows = []
    for key, label, kind in COST_ITEMS:
        value = getattr(costs, key)
        default, unit, source = sources.get(f"costs.{key}", (None, "", ""))
        if default is not None and float(default) != float(value):
            source = f"set in the scenario (default {_fmt(default, kind)}: {source})"
        rows.append({"item": label, "value": value, "unit": unit, "source": source})
    budget = getattr(costs, "capital_budget_gbp", None)
    if budget is not None:
        rows.append(
            {
                "item": "Capital budget (a limit on the plan)",
                "value": budget,
                "unit": "GBP",
                "source": "set in the scenario",
            }
        )
    table = pd.DataFrame(rows)
    years = float(costs.annualisation_years)
    intro = (
        f"<p>Annual cost = capital (scanners {_fmt(costs.static_scanner_capital_gbp, 'gbp')} "
        f"each, plus installation at each new site) divided by {years:g} years, plus "
        f"{_fmt(costs.static_running_gbp_per_year, 'gbp')} running per static scanner a year, "
        f"plus {_fmt(costs.mobile_gbp_per_day, 'gbp')} per mobile visit day "
        f"({_fmt(result.scenario.scanners.mobile_weeks_per_year, '1')} weeks a year). "
        f"Cost per scan is the annual cost over the scans served. Values come from the "
        f"resolved scenario (<code>scenario.resolved.yaml</code>); sources from "
        f"<code>netplan/defaults.yaml</code>.</p>"
    )
    kinds = [kind for _, _, kind in COST_ITEMS] + ["gbp"] * (len(rows) - len(COST_ITEMS))
    table["value"] = [_fmt(v, k) for v, k in zip(table["value"], kinds, strict=True)]
    return intro + html_table(
        table,
        labels={"item": "Cost item", "value": "Value", "unit": "Unit", "source": "Source"},
        numeric=("value",),
    )


_SNAP = re.compile(
    r"^(origins|destinations): (\d+) point\(s\) snapped more than ([\d.]+) km.*?"
    r"\(max ([\d.]+) km\)"
)


def headline_warnings(result: ScenarioResult) -> list[str]:
    """Warnings for the headline (plain text): the result's flags and far-snapped points."""
    t = result.totals
    out = [f for f in str(t.get("flags") or "").split("; ") if f]
    for message in result.provenance.get("messages", []):
        m = _SNAP.match(str(message))
        if not m:
            continue
        what = "zones" if m.group(1) == "origins" else "candidate sites"
        out.append(
            f"{int(m.group(2)):,} {what} lie more than {m.group(3)} km from the road network "
            f"(up to {m.group(4)} km): their drive times include an estimated straight-line "
            f"access leg (details in the notes from the run)"
        )
    return out
