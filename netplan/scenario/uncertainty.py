"""Plan robustness: a fixed plan under sampled demand, and each cyclotron failing in turn.

:func:`sample_draws` samples the three demand parameters from the distributions in
``defaults.yaml`` (section ``uncertainty``, each with its source):

* **growth**: every tracer's annual growth rate times one multiplier per draw,
  ``triangular(low, mode 1, high)``;
* **rate per 1,000** (base year): ``triangular(low, mode, high)``;
* **tracer mix** (base year): ``Dirichlet(concentration x default mix)``, so the mean mix is
  the default one.

A draw changes every zone's scans by the same factor (the demand model is population x age
factor x rate x sum over tracers of share x growth, and only the last three vary), so
:func:`draw_factor` computes it with :meth:`netplan.demand.DemandParams.growth_factor`.

:func:`evaluate_plan` keeps the plan's sites, scanners and mobile days fixed and, per draw,
serves as much demand as the sites can take within the drive standard (a transportation LP:
most scans served, then least scan-minutes; HiGHS through scipy). It reports coverage
served, utilisation, turnaround (:func:`netplan.capacity.turnaround`), tracer load
(:func:`netplan.capacity.tracer_supply`) and which sites are full. The draws are
independent tasks of :func:`netplan.executors.map_tasks`; :func:`cyclotron_failures` is the
fixed-plan stress test. :func:`resolve_draws` re-solves the placement for each draw instead.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import capacity, executors
from .._errors import ValidationError

#: A :class:`netplan.scenario.schema.Scenario` (not imported: the schema is upstream).
Scenario = Any

logger = logging.getLogger("netplan.scenario")

# a site whose assigned scans reach this share of its usable capacity "binds"
_FULL = 1.0 - 1e-6
# the zone classes of the plan last evaluated in this process (the plan kept alive with it)
_CLASS_CACHE: dict[int, tuple[Any, Any]] = {}
# weight of scan-minutes against scans served in the LP (served first)
_MINUTE_WEIGHT = 1e-6


@dataclasses.dataclass(frozen=True)
class FixedPlan:
    """What :func:`evaluate_plan` needs of a plan and its scenario (plain tables only).

    ``sites``: ``site_id, static_scanners, mobile_days_per_week`` of the open sites;
    ``zones``: ``id, scans_per_year, population`` of the run; ``od``: zone -> site
    ``origin_id, destination_id, minutes``; ``cyc_od``: cyclotron -> site; ``cyclotrons``:
    ``id, daily_capacity_doses``; ``settings``: the scenario's figures (see
    :func:`plan_from_run`).
    """

    sites: pd.DataFrame
    zones: pd.DataFrame
    od: pd.DataFrame
    cyc_od: pd.DataFrame
    cyclotrons: pd.DataFrame
    settings: dict[str, Any]


def _settings(s: Scenario) -> dict[str, Any]:
    sc, cy = s.scanners, s.cyclotrons
    from .. import demand as demand_mod
    from .pipeline import _demand_params

    return {
        "drive_minutes": float(s.drive_minutes),
        "static_scans_per_day": float(sc.static_scans_per_day),
        "mobile_scans_per_day": float(sc.mobile_scans_per_day),
        "working_days_per_year": float(sc.working_days_per_year),
        "mobile_weeks_per_year": float(sc.mobile_weeks_per_year),
        "target_utilisation": float(sc.target_utilisation),
        "primary_minutes": float(cy.primary_minutes),
        "backup_minutes": float(cy.backup_minutes),
        "dose_activity_mbq": float(cy.dose_activity_mbq),
        "fixed_days": float(s.turnaround.admin_days + s.turnaround.report_days),
        "target_days": tuple(s.turnaround.target_days),
        "demand_params": _demand_params(s, demand_mod),
    }


def plan_from_run(s: Scenario, sites: pd.DataFrame, inputs: tuple[Any, ...]) -> FixedPlan:
    """The :class:`FixedPlan` of ``sites`` (a run's ``sites.csv``) on the run's inputs
    (:func:`netplan.scenario.batch.shared_inputs`).

    Raises
    ------
    ValidationError
        If ``sites`` lacks a column or names a site that is not a candidate.
    """
    need = ["site_id", "static_scanners", "mobile_days_per_week"]
    missing = [c for c in need if c not in sites.columns]
    if missing:
        msg = f"plan: sites table has no column(s) {missing}; give a run's sites.csv"
        raise ValidationError(msg)
    _, _, zone_demand, cands, cyclos, od, cyc_od, _ = inputs
    plan = pd.DataFrame(sites[need]).assign(site_id=lambda d: d["site_id"].astype(str))
    plan = plan[(plan["static_scanners"] > 0) | (plan["mobile_days_per_week"] > 0)]
    unknown = sorted(set(plan["site_id"]) - set(cands["id"].astype(str)))
    if unknown:
        msg = f"plan: site(s) {unknown[:5]} are not candidate sites of scenario {s.name!r}"
        raise ValidationError(msg)
    zones = pd.DataFrame(zone_demand[["id", "scans_per_year", "population"]])
    return FixedPlan(
        sites=plan.sort_values("site_id").reset_index(drop=True),
        zones=zones.assign(id=zones["id"].astype(str)).reset_index(drop=True),
        od=od.assign(
            origin_id=od["origin_id"].astype(str), destination_id=od["destination_id"].astype(str)
        ),
        cyc_od=cyc_od.assign(
            origin_id=cyc_od["origin_id"].astype(str),
            destination_id=cyc_od["destination_id"].astype(str),
        ),
        cyclotrons=pd.DataFrame(cyclos[["id", "daily_capacity_doses"]]).assign(
            id=lambda d: d["id"].astype(str)
        ),
        settings=_settings(s),
    )


# ---------------------------------------------------------------------------- sampling
def sample_draws(n: int, *, seed: int, base: Any) -> pd.DataFrame:
    """``n`` demand draws (reproducible from ``seed``) around the parameters ``base``.

    Returns
    -------
    pandas.DataFrame
        ``draw, growth_multiplier, rate_per_1000, mix_<tracer>...`` (draw 0 first).

    Raises
    ------
    ValidationError
        If ``n < 1``.
    """
    from ..defaults import load_defaults

    if int(n) < 1:
        msg = f"--draws must be >= 1, got {n!r}"
        raise ValidationError(msg)
    u = load_defaults()["uncertainty"]
    rng = np.random.default_rng(int(seed))
    g = u["growth_multiplier"]
    r = u["rate_per_1000"]
    growth = rng.triangular(g["low"], g["mode"], g["high"], size=n)
    rate = rng.triangular(r["low"], r["mode"], r["high"], size=n)
    tracers = list(base.tracer_mix)
    alpha = np.array([base.tracer_mix[t] for t in tracers]) * float(u["tracer_mix_concentration"])
    mix = rng.dirichlet(alpha, size=n)
    out = pd.DataFrame({"draw": np.arange(n), "growth_multiplier": growth, "rate_per_1000": rate})
    for k, t in enumerate(tracers):
        out[f"mix_{t}"] = mix[:, k]
    return out


def draw_params(base: Any, draw: pd.Series) -> Any:
    """The :class:`netplan.demand.DemandParams` of one draw."""
    m = float(draw["growth_multiplier"])
    mix = {t: float(draw[f"mix_{t}"]) for t in base.tracer_mix}
    total = sum(mix.values())
    mix = {t: v / total for t, v in mix.items()}

    def scaled(rate: Any) -> Any:
        return {y: v * m for y, v in rate.items()} if isinstance(rate, dict) else float(rate) * m

    return dataclasses.replace(
        base,
        rate_per_1000=float(draw["rate_per_1000"]),
        tracer_mix=mix,
        annual_growth=scaled(base.annual_growth),
        tracer_growth={t: scaled(v) for t, v in base.tracer_growth.items()},
    )


def _scans_per_person(p: Any) -> float:
    return p.rate_per_1000 * sum(s * p.growth_factor(t) for t, s in p.tracer_mix.items())


def draw_factor(base: Any, draw: pd.Series) -> float:
    """Every zone's scans in this draw over its scans in the scenario (one factor)."""
    return _scans_per_person(draw_params(base, draw)) / _scans_per_person(base)


# -------------------------------------------------------------------------- evaluation
def _serve(
    demand: np.ndarray, cap: np.ndarray, zi: np.ndarray, si: np.ndarray, minutes: np.ndarray
) -> np.ndarray:
    """Scans per (zone, site) pair: most served within the capacities, then least minutes."""
    import scipy.sparse as sp
    from scipy.optimize import linprog

    k = len(zi)
    if k == 0:
        return np.zeros(0)
    A = sp.csr_matrix(
        (np.ones(2 * k), (np.r_[zi, len(demand) + si], np.r_[np.arange(k), np.arange(k)])),
        shape=(len(demand) + len(cap), k),
    )
    res = linprog(
        -1.0 + _MINUTE_WEIGHT * minutes / max(1.0, float(minutes.max())),
        A_ub=A,
        b_ub=np.r_[demand, cap],
        bounds=(0, None),
        method="highs",
    )
    if res.status != 0:  # pragma: no cover - a transportation LP with x = 0 feasible
        msg = f"fixed-plan assignment LP failed: {res.message}"
        raise ValidationError(msg)
    return np.asarray(res.x)


def evaluate_plan(plan: FixedPlan, factor: float = 1.0) -> dict[str, Any]:
    """The fixed plan's figures when every zone's demand is ``factor`` times the run's.

    Returns
    -------
    dict
        ``demand_scans_per_year, served_scans_per_year, share_served_within_standard,
        unserved_scans_per_year, mean_utilisation, max_utilisation, sites_full,
        turnaround_within_<D>_days, max_cyclotron_load, cyclotrons_over_capacity`` and
        ``full_sites`` (the ids of the sites at their utilisation ceiling).
    """
    st = plan.settings
    sites = plan.sites
    raw = _raw_capacity(plan)
    usable = raw * st["target_utilisation"]
    demand = plan.zones["scans_per_year"].to_numpy(dtype=float) * float(factor)
    assigned = _assigned(plan, raw, factor)
    served, total = float(assigned.sum()), float(demand.sum())
    reach = plan.od.loc[
        (plan.od["minutes"] <= st["drive_minutes"])
        & plan.od["destination_id"].isin(sites["site_id"]),
        "origin_id",
    ]
    in_reach = float(demand[plan.zones["id"].isin(reach).to_numpy()].sum())
    full = sites.loc[assigned >= usable * _FULL, "site_id"].tolist()
    table = sites.assign(assigned_scans_per_year=assigned)
    out: dict[str, Any] = {
        "demand_scans_per_year": total,
        "served_scans_per_year": served,
        "share_served_within_standard": served / total if total else float("nan"),
        "unserved_scans_per_year": max(0.0, total - served),
        "capacity_shortfall_scans_per_year": max(0.0, in_reach - served),
        "mean_utilisation": served / float(raw.sum()) if raw.sum() else float("nan"),
        "max_utilisation": float(np.max(assigned / np.where(raw > 0, raw, np.nan))),
        "sites_full": len(full),
        "full_sites": full,
    }
    turn = capacity.turnaround(
        table,
        scans_per_static_day=st["static_scans_per_day"],
        scans_per_mobile_day=st["mobile_scans_per_day"],
        settings=capacity.QueueSettings(
            working_days_per_year=st["working_days_per_year"],
            fixed_days=st["fixed_days"],
            targets_days=st["target_days"],
            mobile_weeks_per_year=st["mobile_weeks_per_year"],
        ),
    )
    weights = pd.Series(assigned, index=sites["site_id"])
    for col in [c for c in turn.columns if c.startswith("within_")]:
        out[f"turnaround_{col}"] = capacity.network_share_within(turn, weights, col)
    tracer = _tracer_load(plan, table, plan.cyc_od)
    # doses a day over capacity (undecayed: the run's cyclotrons.csv also counts decay)
    out["max_cyclotron_load"] = float(tracer["load"].max()) if len(tracer) else float("nan")
    out["cyclotrons_over_capacity"] = int((tracer["load"] > 1.0 + 1e-9).sum())
    return out


def _tracer_load(plan: FixedPlan, table: pd.DataFrame, cyc_od: pd.DataFrame) -> pd.DataFrame:
    st = plan.settings
    links = capacity.nearest_cyclotrons(
        cyc_od[cyc_od["destination_id"].isin(table["site_id"])],
        primary_minutes=st["primary_minutes"],
        backup_minutes=st["backup_minutes"],
    )
    rows = table.merge(links, on="site_id", how="left")
    for col in ("primary_cyclotron", "backup_cyclotron"):
        rows[col] = rows[col].fillna("")
    cap = dict(zip(plan.cyclotrons["id"], plan.cyclotrons["daily_capacity_doses"], strict=True))
    return capacity.tracer_supply(
        rows,
        cyclotron_ids=sorted(cap),
        working_days_per_year=st["working_days_per_year"],
        injected_mbq=st["dose_activity_mbq"],
        capacity_doses_per_day=cap,
    ).assign(unsupplied_sites=int((rows["primary_cyclotron"] == "").sum()))


def _draw_task(draw: dict[str, Any], plan: FixedPlan) -> dict[str, Any]:
    factor = draw_factor(plan.settings["demand_params"], pd.Series(draw))
    return {**draw, "demand_factor": factor, **evaluate_plan(plan, factor)}


def evaluate_draws(plan: FixedPlan, draws: pd.DataFrame, **executor_options: Any) -> pd.DataFrame:
    """:func:`evaluate_plan` for every draw (tasks of :func:`netplan.executors.map_tasks`)."""
    rows = executors.map_tasks(
        _draw_task,
        draws.to_dict("records"),
        shared=plan,
        labels=[f"draw {int(d)}" for d in draws["draw"]],
        **executor_options,
    )
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------- stress test
def cyclotron_failures(plan: FixedPlan, factor: float = 1.0) -> pd.DataFrame:
    """Each cyclotron failing in turn, the plan and its demand (times ``factor``) fixed.

    A site the failed cyclotron supplied is resupplied by its nearest other cyclotron when
    that one is within ``cyclotrons.backup_minutes``; otherwise it is unsupplied.

    Returns
    -------
    pandas.DataFrame
        Per failed cyclotron: ``sites_affected, scans_affected_per_year,
        sites_resupplied, sites_unsupplied, scans_unsupplied_per_year``, the most loaded
        remaining cyclotron (``max_load_cyclotron``, ``max_load``: doses a day over
        capacity) and ``over_capacity`` (remaining cyclotrons above capacity).
    """
    st = plan.settings
    sites = plan.sites
    raw_table = sites.assign(assigned_scans_per_year=_assigned(plan, _raw_capacity(plan), factor))
    normal = capacity.nearest_cyclotrons(
        plan.cyc_od[plan.cyc_od["destination_id"].isin(sites["site_id"])],
        primary_minutes=st["primary_minutes"],
        backup_minutes=st["backup_minutes"],
    ).set_index("site_id")
    rows = []
    for cid in sorted(plan.cyclotrons["id"]):
        left = plan.cyc_od[plan.cyc_od["origin_id"] != cid]
        # the failed cyclotron's sites may draw on any other within the back-up minutes
        links = capacity.nearest_cyclotrons(
            left[left["destination_id"].isin(sites["site_id"])],
            primary_minutes=st["backup_minutes"],
            backup_minutes=st["backup_minutes"],
        ).set_index("site_id")
        links = links.reindex(sites["site_id"])
        table = raw_table.copy()
        primary = normal["primary_cyclotron"].reindex(table["site_id"]).fillna("").to_numpy()
        new = links["primary_cyclotron"].fillna("").to_numpy()
        affected = primary == cid
        table["primary_cyclotron"] = np.where(affected, new, primary)
        table["primary_minutes"] = np.where(
            affected,
            links["primary_minutes"].to_numpy(dtype=float),
            normal["primary_minutes"].reindex(table["site_id"]).to_numpy(dtype=float),
        )
        table["backup_cyclotron"] = ""
        table["backup_minutes"] = np.nan
        cap = dict(zip(plan.cyclotrons["id"], plan.cyclotrons["daily_capacity_doses"], strict=True))
        others = sorted(c for c in cap if c != cid)
        supply = capacity.tracer_supply(
            table,
            cyclotron_ids=others,
            working_days_per_year=st["working_days_per_year"],
            injected_mbq=st["dose_activity_mbq"],
            capacity_doses_per_day={c: cap[c] for c in others},
        )
        unsupplied = affected & (table["primary_cyclotron"].to_numpy() == "")
        top = (
            supply.sort_values(["load", "cyclotron_id"], ascending=[False, True]).head(1)
            if len(supply)
            else pd.DataFrame(columns=["cyclotron_id", "load"])
        )
        rows.append(
            {
                "failed_cyclotron": cid,
                "sites_affected": int(affected.sum()),
                "scans_affected_per_year": float(
                    table.loc[affected, "assigned_scans_per_year"].sum()
                ),
                "sites_resupplied": int((affected & ~unsupplied).sum()),
                "sites_unsupplied": int(unsupplied.sum()),
                "unsupplied_sites": " ".join(table.loc[unsupplied, "site_id"]),
                "scans_unsupplied_per_year": float(
                    table.loc[unsupplied, "assigned_scans_per_year"].sum()
                ),
                "max_load_cyclotron": str(top["cyclotron_id"].iloc[0]) if len(top) else "",
                "max_load": float(top["load"].iloc[0]) if len(top) else float("nan"),
                "over_capacity": int((supply["load"] > 1.0 + 1e-9).sum()) if len(supply) else 0,
            }
        )
    return pd.DataFrame(rows)


def _raw_capacity(plan: FixedPlan) -> np.ndarray:
    """Scans a year per site at full use (:func:`netplan.capacity.utilisation`)."""
    st = plan.settings
    return capacity.utilisation(
        plan.sites.assign(assigned_scans_per_year=0.0),
        scans_per_static_day=st["static_scans_per_day"],
        scans_per_mobile_day=st["mobile_scans_per_day"],
        working_days_per_year=st["working_days_per_year"],
        mobile_weeks_per_year=st["mobile_weeks_per_year"],
    )["capacity_scans_per_year"].to_numpy(dtype=float)


def _classes(plan: FixedPlan) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Zones grouped by the set of open sites they reach within the standard.

    Returns the demand of each class (the run's scans), and per (class, site) pair the
    class and site positions and the demand-weighted mean minutes. Serving as much as the
    sites can take is the same problem over classes as over zones (a zone's scans may go to
    any site of its set). The tie-break among the most-served assignments uses each class's
    demand-weighted mean minutes to a site, not each zone's own.
    """
    st = plan.settings
    zpos = pd.Series(np.arange(len(plan.zones)), index=plan.zones["id"])
    spos = pd.Series(np.arange(len(plan.sites)), index=plan.sites["site_id"])
    od = plan.od[
        (plan.od["minutes"] <= st["drive_minutes"])
        & plan.od["destination_id"].isin(spos.index)
        & plan.od["origin_id"].isin(zpos.index)
    ]
    pairs = pd.DataFrame(
        {
            "z": zpos.reindex(od["origin_id"]).to_numpy(),
            "s": spos.reindex(od["destination_id"]).to_numpy(),
            "minutes": od["minutes"].to_numpy(dtype=float),
        }
    ).sort_values(["z", "s"], kind="mergesort")
    sets = pairs.groupby("z")["s"].agg(lambda v: " ".join(map(str, v)))
    cls = pd.Series(pd.factorize(sets, sort=True)[0], index=sets.index)
    demand = plan.zones["scans_per_year"].to_numpy(dtype=float)
    pairs["c"] = cls.reindex(pairs["z"]).to_numpy()
    pairs["w"] = demand[pairs["z"].to_numpy()]
    pairs["wm"] = pairs["w"] * pairs["minutes"]
    agg = pairs.groupby(["c", "s"], sort=True)[["w", "wm"]].sum().reset_index()
    mean_minutes = (agg["wm"] / agg["w"].where(agg["w"] > 0)).fillna(0.0).to_numpy()
    class_demand = np.bincount(cls.to_numpy(), weights=demand[cls.index.to_numpy()])
    return class_demand, agg["c"].to_numpy(), agg["s"].to_numpy(), mean_minutes


def _assigned(plan: FixedPlan, raw: np.ndarray, factor: float) -> np.ndarray:
    """Scans a year each site serves (up to its utilisation ceiling) at ``factor`` demand."""
    usable = raw * plan.settings["target_utilisation"]
    key = id(plan)
    if key not in _CLASS_CACHE:
        _CLASS_CACHE.clear()  # one plan at a time per process
        _CLASS_CACHE[key] = (plan, _classes(plan))
    class_demand, ci, si, minutes = _CLASS_CACHE[key][1]
    x = _serve(class_demand * float(factor), usable, ci, si, minutes)
    if not len(x):
        return np.zeros(len(plan.sites))
    return np.bincount(si, weights=x, minlength=len(plan.sites))


# ------------------------------------------------------------------------- summaries
def standards(draws: pd.DataFrame) -> pd.DataFrame:
    """Per draw, whether each standard is met (columns ``meets_<standard>``).

    * ``coverage``: share of demand served within the drive standard >= the contract's
      98 % (defaults.yaml ``uncertainty.coverage_standard``);
    * ``capacity``: no capacity shortfall (every scan with an open site in reach is served);
    * ``tracer``: no cyclotron asked for more doses a day than its capacity.
    """
    from ..defaults import load_defaults

    target = float(load_defaults()["uncertainty"]["coverage_standard"])
    demand = draws["demand_scans_per_year"].clip(lower=1e-9)
    return pd.DataFrame(
        {
            "meets_coverage": draws["share_served_within_standard"] >= target - 1e-12,
            "meets_capacity": draws["capacity_shortfall_scans_per_year"] <= 1e-6 * demand,
            "meets_tracer": draws["cyclotrons_over_capacity"] == 0,
        }
    )


def summarise(draws: pd.DataFrame) -> pd.DataFrame:
    """Median and 5-95 % of every figure, and the probability each standard is met.

    Returns
    -------
    pandas.DataFrame
        ``figure, median, p5, p95, mean`` (standards: their probability as ``mean``).
    """
    skip = {"draw", "full_sites"}
    rows = []
    for col in [c for c in draws.columns if c not in skip]:
        v = draws[col].astype(float).to_numpy()
        rows.append(
            {
                "figure": col,
                "median": float(np.nanmedian(v)),
                "p5": float(np.nanpercentile(v, 5)),
                "p95": float(np.nanpercentile(v, 95)),
                "mean": float(np.nanmean(v)),
            }
        )
    for col, met in standards(draws).items():
        p = float(met.mean())
        rows.append({"figure": f"probability_{col}", "median": p, "p5": p, "p95": p, "mean": p})
    return pd.DataFrame(rows)


def binding_sites(draws: pd.DataFrame, plan: FixedPlan) -> pd.DataFrame:
    """How often each open site is at its utilisation ceiling, most often first."""
    counts = pd.Series(0, index=plan.sites["site_id"], dtype=int)
    for ids in draws["full_sites"]:
        counts[list(ids)] += 1
    out = plan.sites.assign(
        draws_full=counts.to_numpy(), share_of_draws_full=counts.to_numpy() / max(1, len(draws))
    )
    return out.sort_values(["draws_full", "site_id"], ascending=[False, True]).reset_index(
        drop=True
    )


# ---------------------------------------------------------------------------- re-solve
def _resolve_task(item: tuple[Any, dict[str, Any]], shared: tuple[Any, ...]) -> dict[str, Any]:
    from .pipeline import run_scenario

    scenario, draw = item
    result = run_scenario(scenario, inputs=shared)
    keep = ("demand_scans_per_year", "share_within_standard", "annual_cost_gbp", "sites_open",
            "static_scanners", "mobile_days_per_week", "mean_utilisation",
            "unserved_scans_per_year")  # fmt: skip
    return {"draw": draw["draw"], **{f"resolved_{k}": result.totals.get(k) for k in keep}}


def resolve_draws(
    s: Scenario, draws: pd.DataFrame, inputs: tuple[Any, ...], **executor_options: Any
) -> pd.DataFrame:
    """Re-solve the placement for each draw (zone demand scaled by the draw's factor).

    Each draw is a run of ``s`` on the shared inputs with every zone's scans multiplied by
    :func:`draw_factor`; maps and isochrones are left out.
    """
    from .. import demand as demand_mod
    from .pipeline import _demand_params

    base = _demand_params(s, demand_mod)
    quick = s.with_overrides({"outputs.map": False, "outputs.report": False})
    G, zones, zone_demand, cands, cyclos, od, cyc_od, notes = inputs
    # the zone demand differs per draw, so each draw carries its own scaled copy
    tasks = []
    for draw in draws.to_dict("records"):
        f = draw_factor(base, pd.Series(draw))
        zd = zone_demand.copy()
        scan_cols = [c for c in zd.columns if c.startswith("scans_")]
        zd[scan_cols] = zd[scan_cols] * f
        tasks.append((zd, draw))
    return pd.DataFrame(
        executors.map_tasks(
            _resolve_one,
            [(quick, zd, draw) for zd, draw in tasks],
            shared=(G, zones, cands, cyclos, od, cyc_od, notes),
            labels=[f"re-solve draw {int(d['draw'])}" for _, d in tasks],
            **executor_options,
        )
    )


def _resolve_one(item: tuple[Any, Any, dict[str, Any]], shared: tuple[Any, ...]) -> dict[str, Any]:
    scenario, zone_demand, draw = item
    G, zones, cands, cyclos, od, cyc_od, notes = shared
    return _resolve_task(
        (scenario, draw), (G, zones, zone_demand, cands, cyclos, od, cyc_od, notes)
    )


# ------------------------------------------------------------------------------ the run
@dataclasses.dataclass
class UncertaintyResult:
    """The tables of :func:`run_uncertainty` (each written as a CSV by :meth:`to_folder`)."""

    scenario_name: str
    draws: pd.DataFrame
    summary: pd.DataFrame
    sites: pd.DataFrame
    cyclotron_failures: pd.DataFrame
    settings: dict[str, Any]

    def to_folder(self, out_dir: Any, *, force: bool = False, inputs: Sequence[Any] = ()) -> Any:
        """Write the CSVs and ``uncertainty.md`` (see :func:`netplan.report.uncertainty`)."""
        from ..report.uncertainty import write_uncertainty

        return write_uncertainty(self, out_dir, force=force, inputs=inputs)


def run_uncertainty(
    s: Scenario,
    *,
    draws: int,
    seed: int = 0,
    plan_sites: pd.DataFrame | None = None,
    resolve: bool = False,
    **executor_options: Any,
) -> UncertaintyResult:
    """Sample ``draws`` demand draws and evaluate the plan of ``s`` on each.

    Parameters
    ----------
    s
        The scenario.
    draws, seed
        Number of draws and the seed of the sampler (the same seed, the same draws).
    plan_sites
        The plan (a run's ``sites.csv``); default: solve ``s`` once here.
    resolve
        Also re-solve the placement for each draw (columns ``resolved_*``).
    executor_options
        ``executor, scheduler, workers`` as :func:`netplan.executors.map_tasks`.

    Raises
    ------
    ValidationError
        For ``draws < 1`` or a plan that does not fit the scenario.
    """
    import time

    from .batch import shared_inputs
    from .pipeline import run_scenario

    t0 = time.perf_counter()
    inputs = shared_inputs(s)
    if plan_sites is None:
        plan_sites = run_scenario(
            s.with_overrides({"outputs.map": False, "outputs.report": False}), inputs=inputs
        ).sites
    plan = plan_from_run(s, plan_sites, inputs)
    t1 = time.perf_counter()
    sample = sample_draws(draws, seed=seed, base=plan.settings["demand_params"])
    table = evaluate_draws(plan, sample, **executor_options)
    if resolve:
        table = table.merge(resolve_draws(s, sample, inputs, **executor_options), on="draw")
    failures = cyclotron_failures(plan)
    t2 = time.perf_counter()
    logger.info(
        "uncertainty: %d draws of %s in %.1f s (plan %.1f s)", draws, s.name, t2 - t1, t1 - t0
    )
    out = table.assign(full_sites=table["full_sites"].map(" ".join))
    return UncertaintyResult(
        scenario_name=s.name,
        draws=pd.concat([out, standards(table)], axis=1),
        summary=summarise(table),
        sites=binding_sites(table, plan),
        cyclotron_failures=failures,
        settings={
            "draws": int(draws),
            "seed": int(seed),
            "resolve": bool(resolve),
            "drive_minutes": plan.settings["drive_minutes"],
            "plan_seconds": round(t1 - t0, 3),
            "draws_seconds": round(t2 - t1, 3),
        },
    )
