"""The report's sections built in Python: headline cards, travel path, what it would take to
serve the unserved, coverage by deprivation, traffic sensitivity and the candidate list.

Each returns HTML (or card dicts) for ``report.html.j2``; :mod:`netplan.report.html` puts them
together. A new section of the capacity report goes here (or in :mod:`.summary` for the
plain-words summary, cost basis and headline warnings).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from .tables import _fmt, _pct, html_table

if TYPE_CHECKING:
    from ._types import ScenarioResult


def _cards(
    t: Mapping[str, Any], drive_minutes: float, *, target_utilisation: float = math.nan
) -> list[dict[str, str]]:
    """The headline cards: one figure each, with its unit and definition beside it."""
    reach = [m for m in (30, 45, 60, 90) if float(m) != float(drive_minutes)]
    standard_key = f"share_within_{drive_minutes:g}_min"
    in_reach = (
        f"; {_fmt(t.get(standard_key), 'pct')} live within {drive_minutes:g} min of an open site"
        if standard_key in t
        else ""
    )
    cards = [
        (
            _fmt(t.get("share_within_standard"), "pct"),
            f"of the population served within the {drive_minutes:g}-minute standard "
            f"(assigned to a site with room, not merely in reach{in_reach})",
        ),
        (
            _fmt(t.get("unserved_scans_per_year"), "int"),
            f"scans/yr not served: {_fmt(t.get('uncovered_zones'))} zone(s), population "
            f"{_fmt(t.get('unserved_population'), 'int')} (see Uncovered zones)",
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
        for m in reach
    ]
    cards += [
        (
            f"{_fmt(t.get('worst_zone_minutes'), '1')} min",
            f"worst served zone: {t.get('worst_zone', '')}",
        ),
        (
            _fmt(t.get("sites_open")),
            f"sites open ({_fmt(t.get('static_sites'))} static, "
            f"{_fmt(t.get('mobile_sites'))} mobile): {_fmt(t.get('static_scanners'))} "
            f"static scanners, {_fmt(t.get('mobile_days_per_week'), '1')} mobile days per week",
        ),
        (
            _fmt(t.get("capacity_over_demand"), "pct"),
            f"capacity / demand: {_fmt(t.get('capacity_scans_per_year'), 'int')} scans/yr of "
            f"nominal capacity at the open sites for {_fmt(t.get('demand_scans_per_year'), 'int')}"
            f" scans/yr of demand. Above 100 % is headroom: sites are planned to run at most "
            f"{_fmt(target_utilisation, 'pct')} full, and a scanner placed for reach "
            f"is not filled where demand is thin",
        ),
        (
            _fmt(t.get("mean_utilisation"), "pct"),
            "mean utilisation: assigned scans over nominal capacity, open sites",
        ),
        (
            _fmt(t.get("annual_cost_gbp"), "gbp"),
            "annual cost: capital spread over the annualisation period plus running costs "
            "(see Cost basis)",
        ),
        (
            f"£{float(t.get('cost_per_scan_gbp', math.nan)):,.0f}"
            if math.isfinite(float(t.get("cost_per_scan_gbp", math.nan)))
            else "–",
            "cost per scan: annual cost over the scans served",
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
    ]
    for key, val in t.items():
        if key.startswith("turnaround_within_"):
            days = key.removeprefix("turnaround_within_").removesuffix("_days")
            cards.append((_fmt(val, "pct"), f"results within {days} working days (model)"))
    return [{"value": v, "label": k} for v, k in cards]


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
            f"{_pct(v[k])} {names.get(n, 'with profile ' + n)}" for n, v in by.items() if k in v
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
