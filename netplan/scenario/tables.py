"""The output tables of a run: sites, zones, cyclotrons, coverage and the headline totals.

Each builder turns the solved placement and the run's inputs into one table of
:class:`~netplan.scenario.ScenarioResult`; a new output column or table starts here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..tracer import HALF_LIFE_MINUTES

#: A :class:`netplan.scenario.schema.Scenario` (not imported: the schema depends on this
#: module, and data flows one way).
Scenario = Any

#: Drive-time thresholds (minutes) of the headline population coverage figures.
COVERAGE_MINUTES = (30, 45, 60, 90)

#: Names of the IMD 2019 quintile rows of the coverage table (1 = most deprived).
IMD_LABELS = {1: "Q1 (most deprived)", 2: "Q2", 3: "Q3", 4: "Q4", 5: "Q5 (least deprived)"}


def _site_table(
    s: Scenario,
    placement: Any,
    cands: pd.DataFrame,
    capacity: Any,
    visit_days: dict[str, list[str]] | None = None,
) -> pd.DataFrame:
    """The optimiser's per-site table with coordinates, turnaround and utilisation.

    ``visit_days``: the rota's weekdays per mobile site (the queue waits for them); a site
    visited on a Saturday keeps the evenly spread Mon-Fri days (the queue has five days)."""
    sc = s.scanners
    sites = placement.sites.copy()
    sites["site_id"] = sites["site_id"].astype(str)
    coords = cands.assign(id=cands["id"].astype(str)).set_index("id")
    for col in ("name", "lot", "lon", "lat"):
        if col not in sites.columns and col in coords.columns:
            sites[col] = sites["site_id"].map(coords[col])
    if "is_contract" in coords.columns and "is_contract" not in sites.columns:
        sites["is_contract"] = (
            sites["site_id"].map(coords["is_contract"]).fillna(False).astype(bool)
        )
    sites["open"] = sites["decision"].astype(str) != "closed"
    c = s.costs
    install = np.where(
        sites["is_contract"].astype(bool) if "is_contract" in sites else False,
        c.existing_site_install_gbp,
        c.static_install_gbp,
    )
    static = sites["static_scanners"].astype(float)
    sites["capital_gbp"] = static * c.static_scanner_capital_gbp + np.where(
        static > 0, install, 0.0
    )
    turn = capacity.turnaround(
        sites[["site_id", "static_scanners", "mobile_days_per_week", "assigned_scans_per_year"]],
        scans_per_static_day=sc.static_scans_per_day,
        scans_per_mobile_day=sc.mobile_scans_per_day,
        visit_days={k: v for k, v in (visit_days or {}).items() if "Sat" not in v} or None,
        settings=capacity.QueueSettings(
            working_days_per_year=sc.working_days_per_year,
            fixed_days=s.turnaround.admin_days + s.turnaround.report_days,
            targets_days=tuple(s.turnaround.target_days),
            mobile_weeks_per_year=sc.mobile_weeks_per_year,
        ),
    )
    keep = [
        c
        for c in turn.columns
        if c.startswith("within_")
        or c
        in (
            "slots_per_day",
            "mean_wait_days",
            "p_wait",
            "visit_days",
            "queue_stable",
            "turnaround_note",
        )
    ]
    sites = sites.merge(turn[["site_id", *keep]], on="site_id", how="left")
    closed = ~sites["open"]
    for col in keep:
        if col in ("visit_days", "turnaround_note"):
            sites.loc[closed, col] = ""
            continue
        if sites[col].dtype == bool:  # queue_stable: no queue at a closed site
            sites[col] = sites[col].astype(object)
        sites.loc[closed, col] = np.nan
    return sites.sort_values("site_id", kind="mergesort").reset_index(drop=True)


def _zone_table(
    s: Scenario,
    placement: Any,
    zones: Any,
    zone_demand: Any,
    od: pd.DataFrame,
    site_table: pd.DataFrame,
) -> Any:
    """Per zone: population, scans, ICB, lot, assigned site and drive minutes."""
    import geopandas as gpd

    pz = placement.zones.copy()
    pz["zone_id"] = pz["zone_id"].astype(str)
    base_cols = [
        c
        for c in ("id", "name", "icb_code", "icb_name", "lot", "population", "lon", "lat")
        if c in zones.columns
    ]
    out = pd.DataFrame(zones[base_cols]).rename(columns={"id": "zone_id"})
    out["zone_id"] = out["zone_id"].astype(str)
    if "msoa_name" in zones.columns or "name" in zones.columns:
        from ..demand import imd_quintiles

        out.insert(out.columns.get_loc("population"), "imd_quintile", imd_quintiles(zones).array)
    keep = [c for c in pz.columns if c not in out.columns or c == "zone_id"]
    out = out.merge(pz[keep], on="zone_id", how="left")
    open_ids = set(site_table.loc[site_table["open"], "site_id"])
    static_ids = set(site_table.loc[site_table["static_scanners"] > 0, "site_id"])
    od = od.assign(
        origin_id=od["origin_id"].astype(str), destination_id=od["destination_id"].astype(str)
    )
    near_open = od[od["destination_id"].isin(open_ids)].groupby("origin_id")["minutes"].min()
    near_static = od[od["destination_id"].isin(static_ids)].groupby("origin_id")["minutes"].min()
    out["nearest_open_minutes"] = out["zone_id"].map(near_open)
    out["nearest_static_minutes"] = out["zone_id"].map(near_static)
    out = out.rename(columns={"site_id": "assigned_site"})
    out = out.sort_values("zone_id", kind="mergesort").reset_index(drop=True)
    return gpd.GeoDataFrame(
        out, geometry=gpd.points_from_xy(out["lon"], out["lat"]), crs="EPSG:4326"
    )


def _cyclotron_table(
    s: Scenario,
    site_table: pd.DataFrame,
    cyclos: pd.DataFrame,
    capacity: Any,
    flows: pd.DataFrame | None = None,
) -> pd.DataFrame:
    open_sites = site_table[site_table["open"]].copy()
    table = pd.DataFrame(
        {
            "site_id": open_sites["site_id"],
            "assigned_scans_per_year": open_sites["assigned_scans_per_year"].astype(float),
            "primary_cyclotron": open_sites["tracer_source"].fillna("").astype(str),
            "primary_minutes": open_sites["tracer_minutes"],
            "backup_cyclotron": open_sites["backup_source"].fillna("").astype(str),
            "backup_minutes": open_sites["backup_minutes"],
        }
    )
    out = capacity.tracer_supply(
        table,
        cyclotron_ids=cyclos["id"].astype(str).tolist(),
        working_days_per_year=s.scanners.working_days_per_year,
        injected_mbq=s.cyclotrons.dose_activity_mbq,
        capacity_doses_per_day=dict(
            zip(cyclos["id"].astype(str), cyclos["daily_capacity_doses"].astype(float), strict=True)
        ),
    )
    names = dict(zip(cyclos["id"].astype(str), cyclos["name"].astype(str), strict=True))
    out.insert(1, "name", out["cyclotron_id"].map(names))
    # Capacity is in dose-equivalents at dispatch: a dose delivered tau minutes away costs
    # 2**(tau / half-life) of it. Planned: the doses a site orders for its scanners and
    # visit days at the target utilisation (what the model limits); delivered: for the
    # scans the plan assigns.
    half = float(HALF_LIFE_MINUTES)
    W = float(s.scanners.working_days_per_year)
    if flows is not None and len(flows):
        planned = flows.groupby("cyclotron_id")["dispatch_doses_per_day"].sum()
    else:
        rho = float(s.scanners.target_utilisation)
        need = open_sites["capacity_scans_per_year"].astype(float) * rho / W
        grow = np.exp2(open_sites["tracer_minutes"].astype(float).fillna(0.0) / half)
        planned = (need * grow).groupby(open_sites["tracer_source"].astype(str)).sum()
    grow = np.exp2(table["primary_minutes"].astype(float).fillna(0.0) / half)
    delivered = (
        (table["assigned_scans_per_year"] / W * grow).groupby(table["primary_cyclotron"]).sum()
    )
    cid = out["cyclotron_id"].astype(str)
    out["planned_dispatch_doses_per_day"] = cid.map(planned).fillna(0.0).to_numpy()
    out["delivered_dispatch_doses_per_day"] = cid.map(delivered).fillna(0.0).to_numpy()
    cap = out["capacity_doses_per_day"].astype(float)
    out["load"] = out["planned_dispatch_doses_per_day"] / cap
    out["over_capacity"] = (out["load"] > 1 + 1e-6).fillna(False).astype(bool)
    out["capacity_enforced"] = bool(s.cyclotrons.enforce_capacity)
    return out


def _coverage_table(zones: Any) -> pd.DataFrame:
    """Population within each threshold of an open site, and demand served within the
    standard: England, per lot, per ICB and per national IMD 2019 quintile.

    ``served_scans_per_year`` is the zones' demand actually assigned to an open site
    (assignments are within the standard by construction), ``mean_assigned_minutes`` the
    population-weighted drive time to the assigned site over the zones that have one.
    """
    rows = []
    minutes = zones["nearest_open_minutes"].astype(float)
    pop = zones["population"].astype(float)
    demand = zones["scans_per_year"].astype(float) if "scans_per_year" in zones else pop * np.nan
    unserved = (
        zones["uncovered_share"].astype(float).fillna(1.0)
        if "uncovered_share" in zones
        else pd.Series(np.nan, index=zones.index)
    )
    served = demand * (1.0 - unserved)
    assigned = (
        zones["minutes"].astype(float)
        if "minutes" in zones
        else pd.Series(np.nan, index=zones.index)
    )
    everywhere = pd.Series(True, index=zones.index)
    groups: list[tuple[str, str, pd.Series]] = [("all", "England", everywhere)]
    if "lot" in zones.columns:
        for lot in sorted(zones["lot"].dropna().astype(str).unique()):
            groups.append(("lot", lot, zones["lot"].astype(str) == lot))
    if "icb_code" in zones.columns:
        names = zones.get("icb_name", zones["icb_code"])
        for code in sorted(zones["icb_code"].dropna().astype(str).unique()):
            mask = zones["icb_code"].astype(str) == code
            rows_name = str(names[mask].iloc[0])
            groups.append(("icb", f"{code} {rows_name}", mask))
    if "imd_quintile" in zones.columns:
        quintile = zones["imd_quintile"]
        for q in sorted(int(v) for v in quintile.dropna().unique()):
            label = IMD_LABELS.get(q, f"Q{q}")
            groups.append(("imd_quintile", label, (quintile == q).fillna(False).astype(bool)))
        if quintile.isna().any() and quintile.notna().any():
            groups.append(("imd_quintile", "no IMD score", quintile.isna()))
    for level, name, mask in groups:
        total = float(pop[mask].sum())
        row: dict[str, Any] = {"level": level, "name": name, "population": round(total)}
        for t in COVERAGE_MINUTES:
            within = float(pop[mask & (minutes <= t)].sum())
            row[f"within_{t}_min"] = round(within)
            row[f"share_within_{t}_min"] = round(within / total, 6) if total else np.nan
        need = float(demand[mask].sum())
        got = float(served[mask].sum())
        row["scans_per_year"] = round(need, 3)
        row["served_scans_per_year"] = round(got, 3)
        row["share_served_within_standard"] = round(got / need, 6) if need > 0 else np.nan
        has = mask & assigned.notna()
        w = float(pop[has].sum())
        row["mean_assigned_minutes"] = (
            round(float((pop[has] * assigned[has]).sum()) / w, 3) if w > 0 else np.nan
        )
        rows.append(row)
    return pd.DataFrame(rows)


def _uncovered_table(
    s: Scenario,
    zones: Any,
    od: pd.DataFrame,
    sites: pd.DataFrame,
    cyc_od: pd.DataFrame,
    cyclos: pd.DataFrame,
    cands: pd.DataFrame,
) -> pd.DataFrame:
    """Who is not served within the standard, why, and what would it take
    (:func:`netplan.explain.explain_uncovered` with the scenario's rules and prices)."""
    from .. import explain

    sc, c = s.scanners, s.costs
    costs = explain.FixCosts.from_defaults(
        static_capital_gbp=c.static_scanner_capital_gbp,
        install_gbp=c.static_install_gbp,
        contract_install_gbp=c.existing_site_install_gbp,
        static_running_gbp_per_year=c.static_running_gbp_per_year,
        annualisation_years=c.annualisation_years,
        mobile_gbp_per_day=c.mobile_gbp_per_day,
        mobile_weeks_per_year=sc.mobile_weeks_per_year,
        static_scans_per_year=sc.static_scans_per_day * sc.working_days_per_year,
        mobile_scans_per_day=sc.mobile_scans_per_day,
        target_utilisation=sc.target_utilisation,
        max_static_per_site=sc.max_static_per_site,
        max_mobile_days_per_site=s.fleet.max_visit_days_per_week,
    )
    flags = [col for col in ("eligible", "eligibility_reason") if col in cands.columns]
    if flags and not set(flags) & set(sites.columns):
        sites = sites.merge(
            cands[["id", *flags]].assign(site_id=cands["id"].astype(str)).drop(columns="id"),
            on="site_id",
            how="left",
        )
    cy = s.cyclotrons
    return explain.explain_uncovered(
        zones,
        od,
        sites,
        drive_minutes=float(s.drive_minutes),
        cyclotron_minutes=cyc_od,
        primary_minutes=float(cy.primary_minutes),
        backup_minutes=float(cy.backup_minutes),
        require_backup=bool(cy.require_backup),
        cyclotron_names=dict(
            zip(cyclos["id"].astype(str), cyclos["name"].astype(str), strict=True)
        ),
        forbid=list(s.sites.forbid),
        costs=costs,
    )


def _totals(
    s: Scenario, placement: Any, sites: pd.DataFrame, zones: Any, cyclotrons: pd.DataFrame
) -> dict[str, Any]:
    """Headline figures of a run (rounded so CSVs are stable)."""
    pt = placement.totals
    open_ = sites[sites["open"]]
    pop = zones["population"].astype(float)
    total_pop = float(pop.sum())
    minutes = zones["nearest_open_minutes"].astype(float)
    static_minutes = zones["nearest_static_minutes"].astype(float)
    assigned = float(open_["assigned_scans_per_year"].sum())
    demand = float(
        pt.get("demand_scans_per_year", zones.get("scans_per_year", pd.Series(dtype=float)).sum())
    )
    cost = float(pt["annual_cost_gbp"])
    out: dict[str, Any] = {
        "scenario": s.name,
        "drive_minutes": float(s.drive_minutes),
        "objective": s.objective,
        "status": str(placement.status),
        "mip_gap": None if placement.mip_gap is None else round(float(placement.mip_gap), 6),
        "zones": len(zones),
        "population": round(total_pop),
    }
    for t in COVERAGE_MINUTES:
        within = float(pop[minutes <= t].sum())
        out[f"population_within_{t}_min"] = round(within)
        out[f"share_within_{t}_min"] = round(within / total_pop, 6) if total_pop else np.nan
    # within the standard means served there: the zone's demand assigned to an open site
    # within the standard (not merely an open site in reach of it, which a site without
    # room gives too; that is share_in_reach_within_standard)
    served = 1.0 - zones["uncovered_share"].astype(float).fillna(1.0).clip(0.0, 1.0)
    at = zones["minutes"].astype(float)
    served_std = served.where(at <= s.drive_minutes + 1e-9, 0.0)
    scans = zones["scans_per_year"].astype(float)
    within_std = float((pop * served_std).sum())
    out["share_within_standard"] = round(within_std / total_pop, 6) if total_pop else np.nan
    out["share_in_reach_within_standard"] = (
        round(float(pop[minutes <= s.drive_minutes].sum()) / total_pop, 6) if total_pop else np.nan
    )
    out["share_of_demand_served_within_standard"] = (
        round(float((scans * served_std).sum()) / float(scans.sum()), 6) if scans.sum() else np.nan
    )
    out["unserved_population"] = round(float((pop * (1.0 - served)).sum()))
    w = scans * served
    out["mean_drive_minutes"] = (
        round(float((w * at.fillna(0.0)).sum() / w.sum()), 3) if w.sum() else np.nan
    )
    out["share_within_standard_of_static"] = (
        round(float(pop[static_minutes <= s.drive_minutes].sum()) / total_pop, 6)
        if total_pop
        else np.nan
    )
    worst = zones.assign(_m=zones["minutes"].astype(float)).sort_values(
        ["_m", "zone_id"], ascending=[False, True], kind="mergesort"
    )
    worst = worst[worst["_m"].notna()]
    if len(worst):
        w = worst.iloc[0]
        out["worst_zone"] = f"{w['zone_id']} {w.get('name', '')}".strip()
        out["worst_zone_minutes"] = round(float(w["_m"]), 1)
    else:
        out["worst_zone"], out["worst_zone_minutes"] = "", np.nan
    uncovered = (
        zones[~zones["covered"].fillna(False).astype(bool)]
        if "covered" in zones
        else zones.iloc[:0]
    )
    out["uncovered_zones"] = len(uncovered)
    out["uncovered_population"] = round(float(uncovered["population"].sum()))
    out["sites_open"] = len(open_)
    out["static_sites"] = int((open_["static_scanners"] > 0).sum())
    out["mobile_sites"] = int((open_["mobile_days_per_week"] > 0).sum())
    out["static_scanners"] = int(open_["static_scanners"].sum())
    out["mobile_days_per_week"] = round(float(open_["mobile_days_per_week"].sum()), 3)
    out["capacity_scans_per_year"] = round(float(open_["capacity_scans_per_year"].sum()), 1)
    out["demand_scans_per_year"] = round(demand, 1)
    out["assigned_scans_per_year"] = round(assigned, 1)
    out["capacity_over_demand"] = (
        round(out["capacity_scans_per_year"] / demand, 6) if demand else np.nan
    )
    out["mean_utilisation"] = (
        round(assigned / out["capacity_scans_per_year"], 6)
        if out["capacity_scans_per_year"]
        else np.nan
    )
    out["unserved_scans_per_year"] = round(max(demand - assigned, 0.0), 1)
    out["annual_cost_gbp"] = round(cost, 2)
    out["cost_per_scan_gbp"] = round(cost / assigned, 4) if assigned else np.nan
    # the mobile-led baseline on the same demand year: every scan on a mobile day at the
    # same day rate and utilisation (the service the contract replaced), so the saving is
    # like for like
    c, sc = s.costs, s.scanners
    per_mobile_scan = c.mobile_gbp_per_day / (sc.mobile_scans_per_day * sc.target_utilisation)
    out["mobile_led_cost_per_scan_gbp"] = round(per_mobile_scan, 4)
    out["saving_vs_mobile_led"] = (
        round(1.0 - out["cost_per_scan_gbp"] / per_mobile_scan, 6) if assigned else np.nan
    )
    out["capital_investment_gbp"] = round(float(open_["capital_gbp"].sum()), 2)
    out["contract_investment_gbp"] = CONTRACT_INVESTMENT_GBP
    travel = getattr(placement, "travel", None)
    if travel:
        out["travel_cost_tolerance"] = travel["cost_tolerance"]
        out["cost_plan_annual_cost_gbp"] = round(float(travel["cost_plan_gbp_per_year"]), 2)
        out["cost_plan_mean_drive_minutes"] = round(float(travel["start_mean_minutes"]), 3)
    for col in [c for c in sites.columns if c.startswith("within_") and c.endswith("_days")]:
        # over the sites whose share is modelled (an unstable visit-day queue has none)
        v = open_[col].astype(float)
        w = open_["assigned_scans_per_year"].astype(float).where(v.notna(), 0.0)
        out[f"turnaround_{col}"] = (
            round(float((w * v.fillna(0.0)).sum() / w.sum()), 6) if w.sum() else np.nan
        )
    if "queue_stable" in open_:
        out["turnaround_unstable_sites"] = int((~open_["queue_stable"].astype(bool)).sum())
    out["cyclotrons_used"] = int((cyclotrons["sites_primary"] > 0).sum())
    out["tracer_doses_per_day"] = round(float(cyclotrons["doses_per_day"].sum()), 3)
    over = cyclotrons[cyclotrons.get("over_capacity", pd.Series(False, cyclotrons.index))]
    out["tracer_over_capacity"] = ", ".join(
        f"{r.cyclotron_id} {r.load:.0%}" for r in over.itertuples()
    )
    out["flags"] = "; ".join(_flags(s, placement, out))
    return out


#: The contract's investment in sites (LGC 5082106: GBP 87 m across the 30 sites).
CONTRACT_INVESTMENT_GBP = 87_000_000.0


def _flags(s: Scenario, placement: Any, out: dict[str, Any]) -> list[str]:
    """What a headline must not hide: limits exceeded, demand unserved, proofs missing."""
    flags = []
    if out.get("tracer_over_capacity"):
        flags.append(f"tracer over capacity: {out['tracer_over_capacity']}")
    short = float(out.get("unserved_scans_per_year") or 0.0)
    if short > 0.5:
        flags.append(
            f"{short:,.0f} scans/yr not served (population {out['unserved_population']:,})"
        )
    if str(placement.status) != "optimal":
        gap = placement.mip_gap
        flags.append(
            "cost not proven optimal"
            + (f" (gap {gap:.1%})" if gap is not None and np.isfinite(gap) else "")
        )
    if getattr(placement, "travel", None):
        flags.append("patient travel by local search (not proven least)")
    return flags
