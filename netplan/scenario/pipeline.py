"""The run of a scenario: inputs -> drive times (OD) -> placement model -> capacity -> result.

:func:`run_scenario` chains public netplan calls (network, demand, sites, traveltime,
optimise, capacity, isochrones), timing each step, and builds the
:class:`~netplan.scenario.ScenarioResult` from the tables of :mod:`netplan.scenario.tables`.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InfeasibleError, ScenarioError, ValidationError
from .loading import _origin, check_ids
from .result import ScenarioResult
from .rota_stage import merge_totals, plan_rota
from .tables import (
    COVERAGE_MINUTES,
    _coverage_table,
    _cyclotron_table,
    _site_table,
    _totals,
    _uncovered_table,
    _zone_table,
)

#: The scenario the pipeline runs: a :class:`netplan.scenario.schema.Scenario`. Not imported,
#: not even for type checking: ``Scenario.run`` calls this module, and data flows one way.
Scenario = Any

# The package's name, as before the split, so log lines read "netplan.scenario: ...".
logger = logging.getLogger("netplan.scenario")


@contextmanager
def _step(name: str, timings: dict[str, float], bar: Any = None) -> Iterator[None]:
    t0 = time.perf_counter()
    if bar is not None:
        bar.set_description(name)
    yield
    dt = time.perf_counter() - t0
    timings[name] = round(dt, 3)
    logger.info("%s: %.1f s", name, dt)
    if bar is not None:
        bar.update(1)


_RUN_STEPS = (
    "network",
    "demand",
    "sites",
    "drive times",
    "placement",
    "rota",
    "capacity",
    "isochrones",
    "profile sensitivity",
)


def run_scenario(
    scenario: Scenario,
    *,
    progress: bool = False,
    inputs: tuple[Any, ...] | None = None,
    start: pd.DataFrame | None = None,
) -> ScenarioResult:
    """Run a scenario (see :meth:`Scenario.run`); every step is a public netplan call.

    ``inputs`` are steps 1-4 computed beforehand (:func:`netplan.scenario.batch.shared_inputs`
    for scenarios with the same :func:`~netplan.scenario.batch.inputs_key`), so the runs of a
    sweep build the graph, demand and drive times once. ``start`` is a plan to start the
    placement from (``PlacementModel.solve(start=)``: a sites table, e.g. another run's)."""
    import sys

    from tqdm import tqdm

    from .. import capacity, data, optimise
    from .. import isochrones as iso_mod
    from .._version import __version__

    s = scenario
    timings: dict[str, float] = {}
    bar = tqdm(
        total=len(_RUN_STEPS),
        disable=not progress,
        file=sys.stderr,
        unit="step",
        desc=s.name,
        leave=False,
    )
    t_start = time.perf_counter()
    try:
        if inputs is None:
            G, zones, zone_demand, cands, cyclos, od, cyc_od, notes = _inputs(s, timings, bar)
        else:  # shared inputs of a batch: only this scenario's own check
            G, zones, zone_demand, cands, cyclos, od, cyc_od, notes = inputs
            _precheck(s, zone_demand, od)
            bar.update(4)
        # 5. placement
        with _step("placement", timings, bar):
            model = _placement_model(s, optimise, od, zone_demand, cands, cyclos, cyc_od)
            placement = _solve(s, model, start)
        # 5b. the weekly rota of the mobile units (re-solves the placement if none exists)
        with _step("rota", timings, bar):
            rota = plan_rota(s, placement, G, cands, lambda limits: _solve(s, _placement_model(
                s, optimise, od, zone_demand, cands.assign(max_mobile_days=cands["id"].astype(
                    str).map(limits)), cyclos, cyc_od)))  # fmt: skip
            placement = rota.placement
        # 6. capacity, turnaround, tracer supply, coverage
        with _step("capacity", timings, bar):
            site_table = _site_table(s, placement, cands, capacity, rota.visit_days)
            zone_table = _zone_table(s, placement, zones, zone_demand, od, site_table)
            cyc_table = _cyclotron_table(
                s, site_table, cyclos, capacity, getattr(placement, "tracer_flows", None)
            )
            coverage = _coverage_table(zone_table)
            uncovered = _uncovered_table(s, zone_table, od, site_table, cyc_od, cyclos, cands)
        # 7. isochrones of the open sites (for the map)
        with _step("isochrones", timings, bar):
            open_sites = cands[cands["id"].isin(site_table.loc[site_table["open"], "site_id"])]
            iso = None
            if s.outputs.map and s.outputs.isochrone_minutes and len(open_sites):
                iso = iso_mod.isochrones(
                    G,
                    open_sites,
                    minutes=tuple(s.outputs.isochrone_minutes),
                    snap_nodes=s.network.snap_nodes,
                )
        with _step("profile sensitivity", timings, bar):
            sensitivity = profile_sensitivity(s, G, zone_demand, open_sites, od)
    finally:
        bar.close()
    totals = merge_totals(_totals(s, placement, site_table, zone_table, cyc_table), rota)
    provenance = {
        "netplan_version": __version__,
        "network_key": getattr(G, "key", ""),
        "network": repr(G),
        "speed_profile": G.profile.name if G.profile is not None else "",
        "speed_profile_hash": G.profile.hash if G.profile is not None else "",
        "speed_profile_source": G.profile.source if G.profile is not None else "",
        "coverage_by_profile": sensitivity,
        "data_versions": data.versions(),
        "solver_status": str(placement.status),
        "mip_gap": placement.mip_gap,
        "solve_time_s": round(float(placement.runtime_s), 3),
        "build_time_s": round(float(placement.build_time_s), 3),
        "messages": [*notes, *placement.messages, *rota.messages],
        "travel": getattr(placement, "travel", None),
        "timings_s": timings,
        "placement_stages_s": [
            [str(r.get("stage", "")), round(float(r.get("runtime_s") or 0.0), 3)]
            for r in getattr(placement, "stages", ())
        ],
        "total_time_s": round(time.perf_counter() - t_start, 3),
    }
    logger.info("scenario %s done in %.1f s", s.name, provenance["total_time_s"])
    return ScenarioResult(
        scenario=s,
        sites=site_table,
        zones=zone_table,
        cyclotrons=cyc_table,
        coverage=coverage,
        uncovered=uncovered,
        totals=totals,
        isochrones=iso,
        cyclotron_points=cyclos,
        candidates=_candidate_table(s, forbid=True),
        provenance=provenance,
        rota=rota.rota,
        rota_units=rota.units,
    )


def _inputs(s: Scenario, timings: dict[str, float], bar: Any = None) -> tuple[Any, ...]:
    """Steps 1-4 of a run: network, zone demand, sites and cyclotrons, drive times."""
    from .. import demand as demand_mod
    from .. import network as network_mod
    from .. import sites as sites_mod
    from .. import traveltime

    # 1. road network (cached on disk by source and speed settings)
    with _step("network", timings, bar):
        G = network_mod.graph_from_name(
            s.network.name, profile=scenario_profile(s), include_service=s.network.include_service
        )
    # 2. zones and their annual scans in the planning year
    with _step("demand", timings, bar):
        zones = demand_mod.load_zones()
        zones = _filter_area(s, zones)
        zone_demand = demand_mod.estimate_demand(zones, _demand_params(s, demand_mod))
    # 3. candidate sites and cyclotrons, with the user's rules checked against them
    with _step("sites", timings, bar):
        cands, cyclos = _sites_and_cyclotrons(s, sites_mod)
    # 4. drive times zone -> site (to 90 min for the coverage figures), cyclotron -> site
    with _step("drive times", timings, bar):
        reach = max(float(max(COVERAGE_MINUTES)), float(s.drive_minutes))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            od = traveltime.od_matrix(
                G,
                zone_demand,
                cands,
                max_minutes=reach,
                on_outside="drop",
                snap_nodes=s.network.snap_nodes,
            )
            cyc_od = traveltime.od_matrix(
                G,
                cyclos,
                cands,
                on_outside="drop",
                max_minutes=float(s.cyclotrons.backup_minutes),
                snap_nodes=s.network.snap_nodes,
            )
        notes = list(dict.fromkeys(str(w.message) for w in caught))
        for note in notes:
            logger.warning("%s", note)
        _precheck(s, zone_demand, od)
    return G, zones, zone_demand, cands, cyclos, od, cyc_od, notes


def scenario_profile(s: Scenario, name: str | None = None) -> Any:
    """The scenario's speed profile (or profile ``name``) with its network overrides."""
    from ..profiles import SpeedProfile, load_profile

    net = s.network
    ref = name or net.profile
    if name is None and ref and not Path(ref).is_absolute() and s._source is not None:
        local = Path(s._source).parent / ref
        if local.suffix and local.is_file():
            ref = str(local)
    prof = load_profile(ref)
    overrides = {
        "speeds_kph": dict(net.speeds_kph),
        "congestion": dict(net.congestion),
        "calibration": float(net.calibration),
        "use_maxspeed": bool(net.use_maxspeed),
    }
    osm = dict(prof.content["osm"])
    if (
        overrides["speeds_kph"]
        or overrides["congestion"]
        or overrides["calibration"] != 1.0
        or overrides["use_maxspeed"] != osm.get("use_maxspeed", True)
    ):
        osm["speeds_kph"] = {**dict(osm.get("speeds_kph") or {}), **overrides["speeds_kph"]}
        osm["congestion"] = {**dict(osm.get("congestion") or {}), **overrides["congestion"]}
        osm["calibration"] = float(osm.get("calibration", 1.0)) * overrides["calibration"]
        osm["use_maxspeed"] = overrides["use_maxspeed"]
        prof = SpeedProfile(
            prof.name + "+scenario", {**prof.content, "osm": osm}, source=f"{prof.source}, adjusted"
        )
    return prof


def profile_sensitivity(
    s: Scenario, G: Any, zone_demand: Any, open_sites: Any, od: Any
) -> dict[str, Any]:
    """Share of the population within the standard (and 60 min) of the open sites at each
    built-in profile: the plan's coverage under free-flow and daytime traffic.

    ``od`` is the run's zone -> candidate table (on ``G``, to at least 60 min and the
    standard); the scenario's own profile reads it instead of searching again."""
    from .. import network as network_mod
    from .. import traveltime
    from ..profiles import available_profiles

    out: dict[str, Any] = {}
    if not len(open_sites):
        return out
    pop = zone_demand.set_index("id")["population"] if "population" in zone_demand else None
    if pop is None:
        return out
    limits = sorted({float(s.drive_minutes), 60.0})
    for name in available_profiles():
        if G.profile is not None and name == G.profile.name:
            table = od[od["destination_id"].isin(open_sites["id"])]
        else:
            prof = scenario_profile(s, name)
            Gp = (
                G.with_profile(prof)
                if G.detail == "major"
                else network_mod.graph_from_name(
                    s.network.name, profile=prof, include_service=s.network.include_service
                )
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                table = traveltime.od_matrix(
                    Gp,
                    zone_demand[["id", "lon", "lat"]],
                    open_sites[["id", "lon", "lat"]],
                    max_minutes=max(limits),
                    on_outside="drop",
                    snap_nodes=s.network.snap_nodes,
                )
        best = table.groupby("origin_id")["minutes"].min()
        total = float(pop.sum())
        out[name] = {
            f"within_{m:g}_min": round(float(pop.reindex(best.index[best <= m]).sum()) / total, 4)
            for m in limits
        }
    return out


def _filter_area(s: Scenario, zones: Any) -> Any:
    """Keep the zones of the study area (``demand.area``)."""
    area = s.demand.area
    keep = pd.Series(True, index=zones.index)
    if area.icbs:
        col = "icb_code" if "icb_code" in zones.columns else "icb"
        known = set(zones[col].astype(str))
        names = set(zones["icb_name"].astype(str)) if "icb_name" in zones.columns else set()
        bad = [i for i in area.icbs if i not in known and i not in names]
        if bad:
            check_ids(s, "demand.area.icbs", bad, known | names, what="ICB codes or names")
        in_icb = zones[col].astype(str).isin(area.icbs)
        if names:
            in_icb |= zones["icb_name"].astype(str).isin(area.icbs)
        keep &= in_icb
    if area.lots:
        known = set(zones["lot"].dropna().astype(str))
        check_ids(s, "demand.area.lots", area.lots, known, what="contract lots")
        keep &= zones["lot"].astype(str).isin(area.lots)
    if area.bbox is not None:
        x0, y0, x1, y1 = area.bbox
        keep &= zones["lon"].between(x0, x1) & zones["lat"].between(y0, y1)
    if area.name_startswith:
        keep &= zones["name"].astype(str).str.startswith(tuple(area.name_startswith))
    out = zones[keep.to_numpy()]
    if out.empty:
        where = _origin(s._origins, "demand.area", str(s._source or "scenario"))
        msg = f"{where}: demand.area selects no zones; widen the ICB, lot, bbox or name filters"
        raise ScenarioError(msg)
    return out


def _demand_params(s: Scenario, demand_mod: Any) -> Any:
    d = s.demand
    return demand_mod.DemandParams(
        year=d.year,
        base_year=d.base_year,
        rate_per_1000=d.rate_per_1000,
        growth_mode=d.growth_mode,
        annual_growth=d.annual_growth,
        tracer_growth=d.tracer_growth,
        tracer_mix=d.tracer_mix,
        age_weights=dict(d.age_weights) if d.age_weighting else None,
    )


def _candidate_table(s: Scenario, sites_mod: Any = None, *, forbid: bool = False) -> Any:
    """Every hospital in England with its status under the scenario's eligibility rule and
    site rules (``candidates.csv``); its eligible rows are the run's candidate sites.

    ``include``, ``lock_open`` and ``lock_static`` override the rule; ``candidates`` marks the
    eligible sites it leaves out ``not_offered``; with ``forbid`` the ``sites.forbid`` ids are
    marked ``forbidden`` (the table of the result; the model keeps them as closed sites).
    Built once per scenario object (hospital list, eligibility, ICB join: about 2 s for
    England) and copied on every later call."""
    rules = s.sites.model_dump_json()  # a copy of the scenario with other rules rebuilds
    if s._candidate_table is None or s._candidate_table[0] != rules:
        s._candidate_table = (rules, _build_candidate_table(s, sites_mod))
    table = s._candidate_table[1].copy()
    return _mark_forbidden(s, table) if forbid else table


def _mark_forbidden(s: Scenario, table: pd.DataFrame) -> pd.DataFrame:
    """Mark the ``sites.forbid`` ids of the candidate table ``forbidden``."""
    hit = table["id"].isin(list(s.sites.forbid))
    table.loc[hit, "reason"] = (
        "forbidden by the scenario (sites.forbid); was: " + (table.loc[hit, "reason"])
    )
    table.loc[hit, ["eligible", "status"]] = [False, "forbidden"]
    return table


def _build_candidate_table(s: Scenario, sites_mod: Any = None) -> pd.DataFrame:
    """Uncached body of :func:`_candidate_table` (without the ``forbid`` marks)."""
    if sites_mod is None:
        from .. import sites as sites_mod
    rules = s.sites
    where = _origin(s._origins, "sites", str(s._source or "scenario"))
    extra = pd.DataFrame([e.model_dump() for e in rules.extra]) if rules.extra else None
    if rules.candidates == "none" and not rules.include and extra is None:
        msg = f"{where}: sites.candidates is 'none' and sites.include/extra are empty: no sites"
        raise ScenarioError(msg)
    from .. import data

    listed = set(data.load_hospitals()["id"])
    overrides = {i: f"sites.{key}" for key in ("lock_static", "lock_open")
                 for i in getattr(rules, key) if i in listed}  # fmt: skip
    overrides |= dict.fromkeys(rules.include, "sites.include")
    try:
        table = sites_mod.candidate_table(
            eligibility=rules.eligibility,
            include=overrides or None,
            exclude=list(rules.exclude) or None,
            extra=extra,
        )
    except ValidationError as exc:
        msg = f"{where}: sites.{exc}"
        raise ScenarioError(msg) from None
    if rules.candidates != "contract+acute":
        chosen = table["id"].isin([*overrides, *[e.id for e in rules.extra],
                                   *(rules.static_allowed or [])])  # fmt: skip
        contract = table["is_contract"].astype(bool)
        offered = {"contract": contract, "acute": ~contract}.get(rules.candidates, contract & False)
        out = table["eligible"] & ~offered & ~chosen
        table.loc[out, ["eligible", "status"]] = [False, "not_offered"]
        table.loc[out, "reason"] = (
            f"left out by sites.candidates = {rules.candidates!r}; was: "
            + (table.loc[out, "reason"])
        )
    return table


def _sites_and_cyclotrons(s: Scenario, sites_mod: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    rules = s.sites
    table = _candidate_table(s, sites_mod)
    pref = rules.contract_preference
    contract_ids = table.loc[table["is_contract"].astype(bool) & table["eligible"], "id"]
    clash = sorted(set(rules.forbid) & set(contract_ids)) if pref.lock else []
    if clash:
        where = _origin(s._origins, "sites.contract_preference.lock", str(s._source or "scenario"))
        msg = (
            f"{where}: sites.contract_preference.lock keeps every contract site open but "
            f"sites.forbid names contract site(s) {clash}; remove one rule"
        )
        raise ScenarioError(msg)
    # forbidden hospitals of the list stay in the model as closed sites (as before the rule)
    cands = sites_mod.candidate_sites_from_table(
        table,
        lock=list(contract_ids) if pref.lock else None,
        keep=[i for i in rules.forbid if i in set(table["id"])],
    )
    # a contract site already has a PET-CT suite: PlacementModel charges it the existing-site
    # installation (costs.existing_site_install_gbp) instead of costs.static_install_gbp
    cands["install_saving"] = cands["is_contract"].astype(bool) & bool(pref.install_saving)
    # the rule's verdict per site, for netplan.explain (a forbidden hospital may be ineligible)
    by_id = table.set_index("id")
    cands["eligible"] = cands["id"].map(by_id["eligible"]).fillna(True).astype(bool)
    cands["eligibility_reason"] = cands["id"].map(by_id["reason"]).fillna("")
    cands = cands.reset_index(drop=True)
    ids = set(cands["id"].astype(str))
    check_ids(s, "sites.lock_open", rules.lock_open, ids, what="candidate sites")
    check_ids(s, "sites.lock_static", rules.lock_static, ids, what="candidate sites")
    check_ids(s, "sites.forbid", rules.forbid, ids, what="candidate sites")
    if rules.static_allowed is not None:
        check_ids(s, "sites.static_allowed", rules.static_allowed, ids, what="candidate sites")
    clash = sorted(set(rules.forbid) & (set(rules.lock_open) | set(rules.lock_static)))
    if clash:
        where = _origin(s._origins, "sites.forbid", str(s._source or "scenario"))
        msg = f"{where}: site(s) {clash} are both forbidden and locked open; remove one rule"
        raise ScenarioError(msg)

    c = s.cyclotrons
    cyc = sites_mod.load_cyclotrons(include_inactive=c.ids is not None)
    if c.extra:
        cyc = pd.concat(
            [
                cyc,
                pd.DataFrame([e.model_dump() for e in c.extra]).rename(
                    columns={"capacity_doses_per_day": "daily_capacity_doses"}
                ),
            ],
            ignore_index=True,
        )
    if c.ids is not None:
        known = set(cyc["id"].astype(str))
        check_ids(s, "cyclotrons.ids", c.ids, known, what="cyclotrons")
        cyc = cyc[cyc["id"].astype(str).isin([*c.ids, *[e.id for e in c.extra]])]
    check_ids(
        s,
        "cyclotrons.capacity_doses_per_day",
        list(c.capacity_doses_per_day),
        set(cyc["id"].astype(str)),
        what="cyclotrons of this scenario",
    )
    cap = (
        cyc["daily_capacity_doses"]
        if "daily_capacity_doses" in cyc
        else pd.Series(np.nan, index=cyc.index)
    )
    cap = cap.astype(float).fillna(c.default_capacity_doses_per_day)
    cap = cyc["id"].map(c.capacity_doses_per_day).astype(float).fillna(cap)
    cyc = cyc.assign(daily_capacity_doses=cap).reset_index(drop=True)
    if cyc.empty:
        where = _origin(s._origins, "cyclotrons", str(s._source or "scenario"))
        msg = f"{where}: no cyclotrons left; list at least one under cyclotrons.ids or .extra"
        raise ScenarioError(msg)
    return cands, cyc


def _precheck(s: Scenario, zones: Any, od: pd.DataFrame) -> None:
    """Fail early, with the zones named, when the standard cannot be met and must be."""
    if s.allow_uncovered:
        return
    within = od.loc[od["minutes"] <= s.drive_minutes, "origin_id"].unique()
    lost = zones.loc[~zones["id"].isin(within)]
    if len(lost):
        names = ", ".join(f"{r.id} ({r.name})" for r in lost.head(5).itertuples())
        msg = (
            f"{s._source or 'scenario'}: drive_minutes = {s.drive_minutes:g} cannot be met: "
            f"{len(lost):,} zone(s) (population {int(lost['population'].sum()):,}) have no "
            f"candidate site within {s.drive_minutes:g} minutes, e.g. {names}. Raise "
            f"drive_minutes, add candidate sites, or set allow_uncovered: true."
        )
        raise InfeasibleError(msg, "Infeasible")


def _solve(s: Scenario, model: Any, start: pd.DataFrame | None = None) -> Any:
    """Solve the placement model with the scenario's solver settings and coverage rule."""
    result = model.solve(
        solver=s.solver.name,
        time_limit_s=s.solver.time_limit_s,
        mip_gap=s.solver.mip_gap,
        max_rounds=s.solver.max_rounds,
        start=start,
    )
    lost = float(result.totals.get("uncovered_scans_per_year", 0.0) or 0.0)
    if not s.allow_uncovered and lost > 1e-6:
        z = result.zones
        bad = z[z["uncovered_share"] > 1e-9]
        reasons = bad["uncovered_reason"].fillna("").astype(str).value_counts().head(3)
        why = "; ".join(f"{n} zone(s): {r or 'no capacity'}" for r, n in reasons.items())
        msg = (
            f"{s._source or 'scenario'}: the {s.drive_minutes:g}-minute standard cannot be met "
            f"for {lost:,.0f} scans/yr ({len(bad):,} zones): {why}. Raise drive_minutes, add "
            f"sites or capacity, or set allow_uncovered: true."
        )
        raise InfeasibleError(msg, "Infeasible")
    return result


def _placement_model(
    s: Scenario,
    optimise: Any,
    od: pd.DataFrame,
    zone_demand: Any,
    cands: pd.DataFrame,
    cyclos: pd.DataFrame,
    cyc_od: pd.DataFrame,
    **options: Any,
) -> Any:
    """The placement model with the scenario's settings (not solved); ``options``
    override PlacementModel arguments."""
    c, sc, f, cy = s.costs, s.scanners, s.fleet, s.cyclotrons
    sites = pd.DataFrame(cands.drop(columns="geometry", errors="ignore")).assign(
        allow_static=f.allow_static, allow_mobile=f.allow_mobile
    )
    if s.sites.static_allowed is not None:
        sites["allow_static"] = f.allow_static & sites["id"].isin(
            [*s.sites.static_allowed, *s.sites.lock_static]
        )
    demand = pd.DataFrame(zone_demand.drop(columns="geometry", errors="ignore"))
    cyc_minutes = cyc_od.rename(columns={"origin_id": "cyclotron_id", "destination_id": "site_id"})
    kw: dict[str, Any] = {
        "cyclotron_minutes": cyc_minutes[["site_id", "cyclotron_id", "minutes"]],
        "objective": s.objective,
        "drive_minutes": float(s.drive_minutes),
        "p_sites": s.p_sites,
        "static_scans_per_day": sc.static_scans_per_day,
        "working_days_per_year": sc.working_days_per_year,
        "mobile_scans_per_day": sc.mobile_scans_per_day,
        "mobile_weeks_per_year": sc.mobile_weeks_per_year,
        "target_utilisation": sc.target_utilisation,
        "max_static_per_site": sc.max_static_per_site,
        "max_mobile_days_per_site": f.max_visit_days_per_week,
        "mobile_units": f.mobile_units,
        "mobile_days_per_unit": f.days_per_unit,
        "max_sites_per_unit": f.max_sites_per_unit,
        "allow_static_and_mobile": f.allow_static_and_mobile,
        "static_capital_gbp": c.static_scanner_capital_gbp,
        "install_gbp": c.static_install_gbp,
        "contract_install_gbp": c.existing_site_install_gbp,
        "annualisation_years": c.annualisation_years,
        "static_running_gbp_per_year": c.static_running_gbp_per_year,
        "mobile_gbp_per_day": c.mobile_gbp_per_day,
        "tracer_primary_minutes": cy.primary_minutes,
        "tracer_backup_minutes": cy.backup_minutes,
        "require_backup": cy.require_backup,
        "cyclotron_doses_per_day": (
            dict(
                zip(
                    cyclos["id"].astype(str),
                    cyclos["daily_capacity_doses"].astype(float),
                    strict=True,
                )
            )
            if cy.enforce_capacity
            else None
        ),
        "lock_open": list(s.sites.lock_open),
        "lock_static": list(s.sites.lock_static),
        "forbid": list(s.sites.forbid),
        "capital_budget_gbp": c.capital_budget_gbp,
        "min_sites_per_lot": dict(s.sites.min_sites_per_lot) or None,
        "travel_cost_tolerance": (
            s.travel.cost_tolerance if s.objective in ("cost", "cover_then_cost") else None
        ),
    }
    kw.update(options)
    return optimise.PlacementModel.from_od(od, demand, sites, **kw)
