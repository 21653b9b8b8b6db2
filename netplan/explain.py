"""What would it take: who is not served within the standard, why, and the smallest fix.

:func:`explain_uncovered` reads a plan as plain tables (zones with their unserved share,
zone -> candidate drive minutes, the candidate sites with their decisions, cyclotron ->
site delivery minutes) and returns one row per **cluster** of unserved zones: its people,
its demand, the nearest candidate sites with the rule that keeps each from serving it, and
the smallest change that would serve it, with its cost. It never imports
:mod:`netplan.scenario` (data flows one way); the scenario pipeline calls it.

Clusters
--------
Unserved zones (demand not assigned to a site within the standard) are joined to their two
nearest candidates; zones linked through shared candidates form one cluster (connected
components of that zone-candidate graph). A cluster spanning more than ``max_icbs`` ICBs
is split by ICB, so a plan short of capacity everywhere does not give one national blob.
Zones with no candidate in reach at all form one cluster per ICB. A cluster is named by its
largest local authorities (from the LSOA names) and its ICBs.

Rules, per candidate and in this order
--------------------------------------
``not eligible`` (an ``eligible`` column of the sites says so, with its reason) or
``forbidden``; ``drive``: no unserved zone of the cluster within the standard;
``tracer``: the nearest cyclotron is beyond the primary delivery limit (or there is no
back-up when one is required); ``full``: open, and its capacity is taken; ``not opened``:
reachable and supplied but closed in the plan (capacity, fleet or budget went elsewhere).

Fixes, smallest first
---------------------
1. ``open_site`` / ``add_capacity``: open a reachable, supplied, eligible candidate (static
   scanners or mobile days, whichever is cheaper a year) or add capacity to an open one.
2. ``tracer_limit``: raise the primary delivery limit at one candidate to its nearest
   cyclotron's minutes (only up to the 8 hours after production within which a dose must
   be given, CMA 2014), with the decay factor it costs, and open it if closed.
3. ``new_cyclotron``: a cyclotron near that candidate (capital and running cost from
   ``defaults.yaml`` ``costs.cyclotron_*``, low confidence), and open the candidate.
4. ``standard``: the drive standard (rounded up to 5 minutes) at which every unserved zone
   of the cluster has a supplied, eligible candidate, opening closed ones.

The first kind that applies is the fix; the others are listed as alternatives. Costs are
annual (capital straight-line over ``annualisation_years``, plus running) and capital.
Policy changes (2 and 4) cost only the sites they open: their price is the rule relaxed.

Examples
--------
>>> zones = pd.DataFrame({"zone_id": ["z1"], "name": ["Truro 001A"], "population": [1000],
...     "scans_per_year": [3.0], "covered": [False], "uncovered_share": [1.0]})
>>> od = pd.DataFrame({"origin_id": ["z1"], "destination_id": ["S"], "minutes": [20.0]})
>>> sites = pd.DataFrame({"site_id": ["S"], "name": ["Site S"], "decision": ["closed"]})
>>> cyc = pd.DataFrame({"cyclotron_id": ["C"], "site_id": ["S"], "minutes": [300.0]})
>>> out = explain_uncovered(zones, od, sites, drive_minutes=60, cyclotron_minutes=cyc,
...                         primary_minutes=240)
>>> out.loc[0, "site_1_rule"]
'tracer: 300 min from C, over the 240-min primary limit'
>>> out.loc[0, "fix_kind"]
'tracer_limit'
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import defaults
from ._errors import ValidationError
from ._validate import check_columns

logger = logging.getLogger(__name__)

#: Order of the fix kinds: the first that applies is the smallest change.
FIX_KINDS = ("open_site", "add_capacity", "tracer_limit", "new_cyclotron", "standard")


@dataclass(frozen=True)
class FixCosts:
    """Costs and limits the fixes are priced with (defaults from ``defaults.yaml``).

    Parameters
    ----------
    static_capital_gbp, install_gbp, contract_install_gbp
        Capital per static scanner, per new site, and per site that already hosts one.
    static_running_gbp_per_year
        Running cost per static scanner.
    annualisation_years
        Straight-line life of capital.
    mobile_gbp_per_day, mobile_weeks_per_year
        Cost of a mobile day and the weeks a year mobile units visit.
    static_scans_per_year, mobile_scans_per_day
        Throughput of a static scanner and of a mobile day.
    target_utilisation
        Share of nominal capacity a plan may use.
    max_static_per_site, max_mobile_days_per_site
        Largest static scanners and mobile days per week at one site.
    cyclotron_capital_gbp, cyclotron_running_gbp_per_year
        A new cyclotron (low confidence: see ``defaults.yaml``).
    max_tracer_minutes
        Longest dispatch-to-injection time any limit may be raised to (8 h, CMA 2014).
    half_life_minutes
        18F half-life, for the decay factor of a longer delivery.
    """

    static_capital_gbp: float
    install_gbp: float
    contract_install_gbp: float
    static_running_gbp_per_year: float
    annualisation_years: float
    mobile_gbp_per_day: float
    mobile_weeks_per_year: float
    static_scans_per_year: float
    mobile_scans_per_day: float
    target_utilisation: float
    max_static_per_site: int
    max_mobile_days_per_site: int
    cyclotron_capital_gbp: float
    cyclotron_running_gbp_per_year: float
    max_tracer_minutes: float
    half_life_minutes: float

    @classmethod
    def from_defaults(cls, **overrides: Any) -> FixCosts:
        """The documented defaults of ``defaults.yaml``, with ``overrides`` by field name.

        Raises
        ------
        TypeError
            On an unknown field name.
        """
        d = defaults.load_defaults()
        c, sc, t = d["costs"], d["scanners"], d["tracer"]
        values = {
            "static_capital_gbp": c["static_scanner_capital_gbp"],
            "install_gbp": c["static_install_gbp"],
            "contract_install_gbp": c["existing_site_install_gbp"],
            "static_running_gbp_per_year": c["static_running_gbp_per_year"],
            "annualisation_years": c["annualisation_years"],
            "mobile_gbp_per_day": c["mobile_gbp_per_day"],
            "mobile_weeks_per_year": sc["mobile_weeks_per_year"],
            "static_scans_per_year": sc["static_scans_per_day"] * sc["working_days_per_year"],
            "mobile_scans_per_day": sc["mobile_scans_per_day"],
            "target_utilisation": sc["target_utilisation"],
            "max_static_per_site": sc["max_static_scanners_per_site"],
            "max_mobile_days_per_site": sc["mobile_max_visit_days_per_week"],
            "cyclotron_capital_gbp": c["cyclotron_capital_gbp"],
            "cyclotron_running_gbp_per_year": c["cyclotron_running_gbp_per_year"],
            "max_tracer_minutes": 60.0 * t["max_hours_after_production"],
            "half_life_minutes": t["half_life_minutes"],
        }
        return dataclasses.replace(cls(**values), **overrides)


@dataclass(frozen=True)
class _Fix:
    kind: str
    site: str
    text: str
    annual_gbp: float
    capital_gbp: float


def _gbp(v: float) -> str:
    if v >= 1e6:
        return f"£{v / 1e6:.2f}m"
    return f"£{v / 1e3:.0f}k" if v >= 1e3 else f"£{v:.0f}"


def _article(minutes: float) -> str:
    """'an' before 8, 11, 18, 80-89 and 800-899 minutes, else 'a'."""
    digits = f"{minutes:.0f}"
    return "an" if digits.startswith("8") or digits in ("11", "18") else "a"


def _columns(n_sites: int) -> list[str]:
    per_site = [
        f"site_{k}_{c}"
        for k in range(1, n_sites + 1)
        for c in ("id", "name", "minutes", "within_standard", "rule")
    ]
    return [
        "cluster", "place", "icbs", "zones", "population", "scans_per_year",
        "unserved_scans_per_year", "reason", *per_site,
        "fix", "fix_kind", "fix_site", "fix_annual_cost_gbp", "fix_capital_gbp", "alternatives",
    ]  # fmt: skip


def _clusters(z: pd.DataFrame, od: pd.DataFrame, max_icbs: int) -> np.ndarray:
    """Cluster label per unserved zone (rows of ``z``): shared nearest-two candidates."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    n = len(z)
    pos = pd.Series(np.arange(n), index=z["zone_id"].to_numpy())
    near = od.sort_values(["origin_id", "minutes", "destination_id"], kind="mergesort")
    near = near.groupby("origin_id", sort=False).head(2)
    site_ids = pd.Index(sorted(near["destination_id"].unique()))
    rows = pos.reindex(near["origin_id"]).to_numpy()
    cols = n + site_ids.get_indexer(near["destination_id"])
    size = n + len(site_ids)
    graph = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(size, size))
    _, labels = connected_components(graph, directed=False)
    labels = labels[:n]
    icb = z["icb_code"].astype(str).to_numpy() if "icb_code" in z.columns else np.full(n, "")
    # zones with no candidate in reach: one cluster per ICB, not one per zone
    alone = ~np.isin(np.arange(n), rows)
    if alone.any():
        labels[alone] = labels.max() + 1 + pd.factorize(icb[alone])[0]
    if "icb_code" in z.columns:
        for lab in np.unique(labels):
            mask = labels == lab
            if len(set(icb[mask])) > max_icbs:
                codes = pd.factorize(icb[mask])[0]
                labels[mask] = labels.max() + 1 + codes
    return labels


def _site_facts(
    sites: pd.DataFrame,
    cyclotron_minutes: pd.DataFrame | None,
    *,
    primary_minutes: float,
    backup_minutes: float | None,
    require_backup: bool,
    forbid: set[str],
    names: Mapping[str, str],
    costs: FixCosts,
) -> pd.DataFrame:
    """Per candidate: open, eligibility, spare capacity, nearest cyclotron and tracer rule."""
    s = sites.copy()
    s["site_id"] = s["site_id"].astype(str)
    s = s.set_index("site_id")
    if "open" in s:
        s["_open"] = s["open"].fillna(False).astype(bool)
    elif "decision" in s:
        s["_open"] = s["decision"].astype(str) != "closed"
    else:
        s["_open"] = False
    for col in (
        "static_scanners",
        "mobile_days_per_week",
        "capacity_scans_per_year",
        "assigned_scans_per_year",
    ):
        values = s[col] if col in s else pd.Series(0.0, index=s.index)
        s[col] = pd.to_numeric(values, errors="coerce").fillna(0.0)
    s["_spare"] = np.where(
        s["_open"],
        np.maximum(
            s["capacity_scans_per_year"] * costs.target_utilisation - s["assigned_scans_per_year"],
            0.0,
        ),
        0.0,
    )
    s["_eligible"] = s["eligible"].fillna(True).astype(bool) if "eligible" in s else True
    s["_why_not"] = (
        s["eligibility_reason"].fillna("").astype(str) if "eligibility_reason" in s else ""
    )
    s["_forbidden"] = s.index.isin(list(forbid))
    s["_contract"] = s["is_contract"].fillna(False).astype(bool) if "is_contract" in s else False
    s["_cyc"], s["_cyc_minutes"], s["_backup_minutes"] = "", np.nan, np.nan
    if cyclotron_minutes is not None and len(cyclotron_minutes):
        cyc = cyclotron_minutes.rename(
            columns={"origin_id": "cyclotron_id", "destination_id": "site_id"}
        )
        check_columns(cyc, ["cyclotron_id", "site_id", "minutes"], source="cyclotron_minutes")
        cyc = cyc.assign(site_id=cyc["site_id"].astype(str)).sort_values(
            ["site_id", "minutes", "cyclotron_id"], kind="mergesort"
        )
        first = cyc.groupby("site_id").head(1).set_index("site_id")
        second = cyc.groupby("site_id").nth(1).set_index("site_id")
        s["_cyc"] = first["cyclotron_id"].astype(str).reindex(s.index).fillna("")
        s["_cyc_minutes"] = first["minutes"].astype(float).reindex(s.index)
        s["_backup_minutes"] = second["minutes"].astype(float).reindex(s.index)
        s["_cyc_name"] = s["_cyc"].map(lambda c: names.get(c, c))
        limit_ok = s["_cyc_minutes"] <= primary_minutes + 1e-9
        if require_backup and backup_minutes is not None:
            limit_ok &= s["_backup_minutes"] <= backup_minutes + 1e-9
        s["_tracer_ok"] = limit_ok
    else:
        s["_cyc_name"] = ""
        s["_tracer_ok"] = cyclotron_minutes is None
    return s


def _rule(site: pd.Series, reach: float, minutes: float, std: float, **limits: Any) -> str:
    """Why this candidate does not serve the cluster (see the module docstring)."""
    if not site["_eligible"]:
        why = str(site["_why_not"]).strip()
        return f"not eligible: {why}" if why else "not eligible (candidate list)"
    if site["_forbidden"]:
        return "forbidden by the scenario"
    if reach <= 0:
        return f"drive {minutes:.0f} min, over the {std:g}-min standard"
    if not site["_tracer_ok"]:
        primary = limits["primary_minutes"]
        if pd.isna(site["_cyc_minutes"]):
            return f"tracer: no cyclotron within {limits['cyc_reach']:g} min"
        if site["_cyc_minutes"] > primary + 1e-9:
            return (
                f"tracer: {site['_cyc_minutes']:.0f} min from {site['_cyc_name']}, over the "
                f"{primary:g}-min primary limit"
            )
        return f"tracer: no back-up cyclotron within {limits['backup_minutes']:g} min"
    if site["_open"]:
        used = (
            site["assigned_scans_per_year"] / site["capacity_scans_per_year"]
            if site["capacity_scans_per_year"] > 0
            else math.nan
        )
        return f"open, capacity taken (utilisation {100 * used:.0f} %)"
    return "reachable and supplied but not opened: capacity, fleet or budget went elsewhere"


def _capacity_option(site: pd.Series, need: float, costs: FixCosts) -> tuple[str, float, float]:
    """The cheaper of static scanners and mobile days for ``need`` scans/yr at a site:
    (text, annual GBP, capital GBP); a site already open adds to what it has."""
    util = costs.target_utilisation
    options = []
    have_s = int(site["static_scanners"])
    n_s = max(1, math.ceil(need / (costs.static_scans_per_year * util) - 1e-9))
    if have_s + n_s <= costs.max_static_per_site:
        new_site = have_s == 0 and not site["_open"]
        install = (costs.contract_install_gbp if site["_contract"] else costs.install_gbp) * (
            1 if have_s == 0 else 0
        )
        capital = n_s * costs.static_capital_gbp + install
        annual = capital / costs.annualisation_years + n_s * costs.static_running_gbp_per_year
        what = f"{n_s} static scanner{'s' if n_s > 1 else ''}"
        options.append(
            (f"open it as a static site ({what})" if new_site else f"add {what}", annual, capital)
        )
    have_m = float(site["mobile_days_per_week"])
    per_day = costs.mobile_scans_per_day * costs.mobile_weeks_per_year * util
    n_m = max(1, math.ceil(need / per_day - 1e-9))
    if have_s == 0 and have_m + n_m <= costs.max_mobile_days_per_site:
        annual = n_m * costs.mobile_gbp_per_day * costs.mobile_weeks_per_year
        verb = "add" if site["_open"] else "open it for"
        options.append((f"{verb} {n_m} mobile day{'s' if n_m > 1 else ''} a week", annual, 0.0))
    if not options:
        return "", math.inf, math.inf
    return min(options, key=lambda o: (o[1], o[0]))


def _priced(text: str, annual: float, capital: float) -> str:
    return f"{text} ({_gbp(annual)}/yr, capital {_gbp(capital)})"


def _fixes(
    cand: pd.DataFrame, facts: pd.DataFrame, zmin: pd.DataFrame, costs: FixCosts, **lim: Any
) -> list[_Fix]:
    """Every fix kind that applies to one cluster, smallest first (module docstring)."""
    out: list[_Fix] = []
    ok = cand[cand["_eligible"] & ~cand["_forbidden"] & (cand["reach"] > 0)]
    label = {
        sid: f"{sid} {facts.at[sid, 'name']}" if "name" in facts else sid for sid in cand.index
    }
    # 1. open a supplied candidate within the standard, or add capacity: most reach, cheapest
    options: list[tuple[float, float, str, _Fix]] = []
    for sid, c in ok[ok["_tracer_ok"]].iterrows():
        need = max(float(c["need"]) - float(facts.at[sid, "_spare"]), 0.0)
        if need <= 0:
            text = f"assign the zones to {label[sid]}, which has spare capacity"
            fix = _Fix("add_capacity", sid, text, 0.0, 0.0)
        else:
            what, annual, capital = _capacity_option(facts.loc[sid], need, costs)
            if not what:
                continue
            kind = "add_capacity" if facts.at[sid, "_open"] else "open_site"
            fix = _Fix(
                kind, sid, _priced(f"{label[sid]}: {what}", annual, capital), annual, capital
            )
        options.append((-float(c["reach"]), fix.annual_gbp, sid, fix))
    if options:
        out.append(min(options, key=lambda x: x[:3])[3])
    # 2. and 3. a candidate within the standard whose tracer is too far
    far = ok[~ok["_tracer_ok"]].sort_values(["reach", "minutes"], ascending=[False, True])
    if len(far):
        sid = far.index[0]
        site = facts.loc[sid]
        open_text, o_annual, o_capital = "", 0.0, 0.0
        if not site["_open"] or site["_spare"] < far.at[sid, "need"]:
            need = max(float(far.at[sid, "need"]) - float(site["_spare"]), 0.0)
            open_text, o_annual, o_capital = _capacity_option(site, need, costs)
        tail = f" and {open_text}" if open_text else ""
        minutes = site["_cyc_minutes"]
        if pd.notna(minutes) and minutes <= costs.max_tracer_minutes:
            limit = math.ceil(minutes)
            factor = 2.0 ** (limit / costs.half_life_minutes)
            text = (
                f"raise the primary tracer limit from {lim['primary_minutes']:g} to {limit} min "
                f"at {label[sid]} (decay factor {factor:.1f}: activity at dispatch per dose, "
                f"from {site['_cyc_name']}){tail}"
            )
            out.append(
                _Fix("tracer_limit", sid, _priced(text, o_annual, o_capital), o_annual, o_capital)
            )
        capital = costs.cyclotron_capital_gbp + o_capital
        annual = (
            costs.cyclotron_capital_gbp / costs.annualisation_years
            + costs.cyclotron_running_gbp_per_year
            + o_annual
        )
        text = (
            f"a new cyclotron near {label[sid]} (capital {_gbp(costs.cyclotron_capital_gbp)}, "
            f"running {_gbp(costs.cyclotron_running_gbp_per_year)}/yr: defaults.yaml "
            f"costs.cyclotron_*, low confidence){tail}"
        )
        out.append(_Fix("new_cyclotron", sid, _priced(text, annual, capital), annual, capital))
    # 4. a wider standard: every unserved zone reaches a supplied, eligible candidate
    if len(zmin) and zmin["minutes"].notna().all():
        std = 5.0 * math.ceil(float(zmin["minutes"].max()) / 5.0 - 1e-9)
        if std > lim["drive_minutes"]:
            use = zmin.groupby("site")["unserved"].sum().sort_values(ascending=False)
            annual = capital = 0.0
            parts = []
            for sid, need in use.items():
                site = facts.loc[sid]
                extra = max(float(need) - float(site["_spare"]), 0.0)
                what = ""
                if extra > 0:
                    what, a, k = _capacity_option(site, extra, costs)
                    if what:
                        annual, capital = annual + a, capital + k
                parts.append(f"{label[sid]} ({what})" if what else label[sid])
            via = ", ".join(parts[:3]) + (f" and {len(parts) - 3} more" if len(parts) > 3 else "")
            text = (
                f"{_article(std)} {std:.0f}-minute standard (from {lim['drive_minutes']:g}), "
                f"served from {via}"
            )
            out.append(
                _Fix("standard", str(use.index[0]), _priced(text, annual, capital), annual, capital)
            )
    return sorted(out, key=lambda f: FIX_KINDS.index(f.kind) if f.kind != "add_capacity" else 0)


def explain_uncovered(
    zones: pd.DataFrame,
    od: pd.DataFrame,
    sites: pd.DataFrame,
    *,
    drive_minutes: float,
    cyclotron_minutes: pd.DataFrame | None = None,
    primary_minutes: float = math.inf,
    backup_minutes: float | None = None,
    require_backup: bool = False,
    cyclotron_names: Mapping[str, str] | None = None,
    forbid: Iterable[str] = (),
    costs: FixCosts | None = None,
    n_sites: int = 3,
    max_icbs: int = 3,
) -> pd.DataFrame:
    """Clusters of zones not served within the standard, why, and what would serve them.

    Parameters
    ----------
    zones
        One row per zone: ``zone_id`` (or ``id``), ``population``, ``scans_per_year`` and
        ``uncovered_share`` (or ``covered``); optional ``name`` (LSOA name),
        ``icb_code``, ``icb_name``, ``uncovered_reason``.
    od
        Zone -> candidate drive times, long form ``origin_id, destination_id, minutes``.
    sites
        One row per candidate: ``site_id`` (or ``id``), optional ``name``, ``decision``
        or ``open``, ``static_scanners``, ``mobile_days_per_week``,
        ``capacity_scans_per_year``, ``assigned_scans_per_year``, ``is_contract``,
        ``eligible`` and ``eligibility_reason``.
    drive_minutes
        The drive standard.
    cyclotron_minutes
        Cyclotron -> site delivery minutes, ``cyclotron_id, site_id, minutes`` (or
        ``origin_id, destination_id, minutes``); None: tracer is not a constraint.
    primary_minutes, backup_minutes, require_backup
        The delivery limits of the plan.
    cyclotron_names
        Cyclotron id -> name, for the messages.
    forbid
        Candidate ids the scenario forbids.
    costs
        Prices of the fixes (default :meth:`FixCosts.from_defaults`).
    n_sites
        Nearest candidates listed per cluster.
    max_icbs
        A cluster over more ICBs is split by ICB.

    Returns
    -------
    pandas.DataFrame
        One row per cluster, most people first: ``cluster, place, icbs, zones,
        population, scans_per_year, unserved_scans_per_year, reason``, then per nearest
        candidate ``site_<k>_id, _name, _minutes`` (demand-weighted mean drive),
        ``_within_standard`` (share of the unserved demand within the standard of it) and
        ``_rule``, then ``fix, fix_kind, fix_site, fix_annual_cost_gbp, fix_capital_gbp,
        alternatives``. Empty (with these columns) when every zone is served.

    Raises
    ------
    ValidationError
        When a required column is missing.
    """
    costs = FixCosts.from_defaults() if costs is None else costs
    names = dict(cyclotron_names or {})
    z = pd.DataFrame(zones.drop(columns="geometry", errors="ignore"))
    z = z.rename(columns={"id": "zone_id"}) if "zone_id" not in z else z
    check_columns(z, ["zone_id", "population", "scans_per_year"], source="zones")
    check_columns(od, ["origin_id", "destination_id", "minutes"], source="od")
    sites = sites.rename(columns={"id": "site_id"}) if "site_id" not in sites else sites
    check_columns(sites, ["site_id"], source="sites")
    if "uncovered_share" in z:
        share = z["uncovered_share"].astype(float).fillna(1.0)
    elif "covered" in z:
        share = (~z["covered"].fillna(False).astype(bool)).astype(float)
    else:
        msg = "zones need 'uncovered_share' or 'covered' (the plan's zone table)"
        raise ValidationError(msg)
    z = z.assign(zone_id=z["zone_id"].astype(str), unserved=z["scans_per_year"] * share)
    z = z[(share > 1e-3) & (z["population"].astype(float) > 0)].reset_index(drop=True)
    if z.empty:
        return pd.DataFrame(columns=_columns(n_sites))
    facts = _site_facts(
        sites,
        cyclotron_minutes,
        primary_minutes=primary_minutes,
        backup_minutes=backup_minutes,
        require_backup=require_backup,
        forbid={str(f) for f in forbid},
        names=names,
        costs=costs,
    )
    cyc_reach = (
        float(cyclotron_minutes["minutes"].max())
        if cyclotron_minutes is not None and len(cyclotron_minutes)
        else math.inf
    )
    o = od.assign(
        origin_id=od["origin_id"].astype(str), destination_id=od["destination_id"].astype(str)
    )
    o = o[o["origin_id"].isin(z["zone_id"]) & o["destination_id"].isin(facts.index)]
    o = o.groupby(["origin_id", "destination_id"], as_index=False)["minutes"].min()
    z["cluster"] = _clusters(z, o, max_icbs)
    w = z.set_index("zone_id")["unserved"]
    o = o.assign(unserved=o["origin_id"].map(w).to_numpy())
    o["within"] = o["minutes"] <= drive_minutes + 1e-9
    usable = facts["_eligible"] & ~facts["_forbidden"] & facts["_tracer_ok"]
    lim = {
        "primary_minutes": primary_minutes,
        "backup_minutes": backup_minutes if backup_minutes is not None else math.inf,
        "cyc_reach": cyc_reach,
        "drive_minutes": drive_minutes,
    }
    rows = []
    for _, zc in z.groupby("cluster", sort=False):
        rows.append(_cluster_row(zc, o, facts, usable, costs, n_sites, lim))
    out = pd.DataFrame(rows)
    out = out.sort_values(["population", "place"], ascending=[False, True], kind="mergesort")
    out["cluster"] = np.arange(1, len(out) + 1)
    out = out.reindex(columns=_columns(n_sites)).reset_index(drop=True)
    logger.info(
        "uncovered: %d cluster(s), population %s, %s unserved scans/yr",
        len(out),
        f"{int(out['population'].sum()):,}",
        f"{out['unserved_scans_per_year'].sum():,.0f}",
    )
    return out


def _place(zc: pd.DataFrame) -> tuple[str, str]:
    """'Cornwall, Plymouth' (largest local authorities) and the ICB names, by population."""
    place = ""
    if "name" in zc:
        district = zc["name"].astype(str).str.replace(r"\s+\S+$", "", regex=True)
        by = zc.groupby(district)["population"].sum().sort_values(ascending=False)
        top = by.index[:2].tolist()
        place = ", ".join(top) + (f" and {len(by) - 2} more" if len(by) > 2 else "")
    icbs = ""
    col = "icb_name" if "icb_name" in zc else ("icb_code" if "icb_code" in zc else None)
    if col is not None:
        by = zc.groupby(zc[col].astype(str))["population"].sum().sort_values(ascending=False)
        icbs = " / ".join(by.index)
    return place, icbs


def _cluster_row(
    zc: pd.DataFrame,
    o: pd.DataFrame,
    facts: pd.DataFrame,
    usable: pd.Series,
    costs: FixCosts,
    n_sites: int,
    lim: dict[str, float],
) -> dict[str, Any]:
    ids = set(zc["zone_id"])
    oc = o[o["origin_id"].isin(ids)]
    unserved = float(zc["unserved"].sum())
    place, icbs = _place(zc)
    row: dict[str, Any] = {
        "place": place,
        "icbs": icbs,
        "zones": len(zc),
        "population": round(float(zc["population"].sum())),
        "scans_per_year": round(float(zc["scans_per_year"].sum()), 3),
        "unserved_scans_per_year": round(unserved, 3),
        "reason": (
            zc["uncovered_reason"].fillna("").astype(str).value_counts().index[0]
            if "uncovered_reason" in zc
            else ""
        ),
    }
    # per candidate: demand within the standard, demand-weighted mean minutes
    g = oc.assign(wm=oc["minutes"] * oc["unserved"], wn=oc["unserved"] * oc["within"])
    cand = g.groupby("destination_id").agg(
        wm=("wm", "sum"), w=("unserved", "sum"), need=("wn", "sum")
    )
    cand["minutes"] = cand["wm"] / cand["w"].where(cand["w"] > 0)
    cand["reach"] = cand["need"] / unserved if unserved > 0 else 0.0
    cand = cand.join(facts[["_eligible", "_forbidden", "_tracer_ok"]])
    order = sorted(cand.index, key=lambda s: (-cand.at[s, "reach"], cand.at[s, "minutes"], s))
    cand = cand.loc[order]
    for k, (sid, c) in enumerate(cand.head(n_sites).iterrows(), start=1):
        row[f"site_{k}_id"] = sid
        row[f"site_{k}_name"] = facts.at[sid, "name"] if "name" in facts else ""
        row[f"site_{k}_minutes"] = round(float(c["minutes"]), 1)
        row[f"site_{k}_within_standard"] = round(float(c["reach"]), 4)
        row[f"site_{k}_rule"] = _rule(
            facts.loc[sid], float(c["reach"]), float(c["minutes"]), lim["drive_minutes"], **lim
        )
    # per zone: the nearest supplied, eligible candidate (for a wider standard)
    ok = oc[oc["destination_id"].map(usable).fillna(False).astype(bool)]
    ok = ok.sort_values(["origin_id", "minutes", "destination_id"], kind="mergesort")
    first = ok.groupby("origin_id").head(1).set_index("origin_id")
    zmin = pd.DataFrame(
        {
            "minutes": zc["zone_id"].map(first["minutes"]).to_numpy(),
            "site": zc["zone_id"].map(first["destination_id"]).to_numpy(),
            "unserved": zc["unserved"].to_numpy(),
        }
    )
    fixes = _fixes(cand, facts, zmin, costs, **lim)
    if fixes:
        f = fixes[0]
        row |= {
            "fix": f.text,
            "fix_kind": f.kind,
            "fix_site": f.site,
            "fix_annual_cost_gbp": round(f.annual_gbp, 2),
            "fix_capital_gbp": round(f.capital_gbp, 2),
            "alternatives": "; ".join(x.text for x in fixes[1:]),
        }
    else:
        row |= {
            "fix": (
                f"no candidate within the {max(o['minutes'].max(), 0):.0f} minutes searched: "
                "add a candidate site near these zones"
                if len(o)
                else "no candidate site within the drive times searched: add one near these zones"
            ),
            "fix_kind": "",
            "fix_site": "",
            "fix_annual_cost_gbp": np.nan,
            "fix_capital_gbp": np.nan,
            "alternatives": "",
        }
    return row
