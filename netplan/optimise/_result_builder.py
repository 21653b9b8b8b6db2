"""The result builder: a strategy's raw solution turned into a :class:`PlacementResult`.

:func:`build_result` owns everything the caller reads: the site table (decisions rounded
from the site columns, assigned demand, utilisation, drive times, tracer source from the
solved flows, cost), the zone table (each zone's main site and share, why a zone is not
covered), the totals (cost parts, coverage, population within 30/45/60/90 minutes of an
open and of a static site, from the long travel-time table) and the run's figures (status,
gap, runtimes, stages, messages). It reads a formulation and a
:class:`~netplan.optimise._core.RawSolution`, and solves nothing.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._core import EPS, RawSolution
from .result import PlacementResult

if TYPE_CHECKING:
    from ._formulation import PlacementFormulation

THRESHOLDS_MINUTES = (30, 45, 60, 90)


def build_result(model: PlacementFormulation, raw: RawSolution) -> PlacementResult:
    """The frozen :class:`~netplan.optimise.PlacementResult` of a strategy's solution.

    Site decisions are the rounded site columns of ``raw.values``; each zone's shares are
    ``raw.share`` (from the assignment LP) or, when None, its group's pair columns. The
    messages are the model's, then ``raw.notes``.
    """
    values, share, infos = raw.values, raw.share, raw.infos
    off, n = model._off, model.n_sites
    sites = np.arange(n)
    s = np.round(values[off["s"] + sites]).astype(int)
    m = np.round(values[off["m"] + sites]).astype(int)
    t = np.round(values[off["t"] + sites]).astype(int)
    if share is None:
        x = np.clip(values[model._x0 : model._u0], 0.0, 1.0)
        # original pairs: flow of zone i to site j = d_i * x_{g(i) j}
        rank = np.arange(len(model.pz)) - model._zstart[model.pz]
        gpair = model.gstart[model.zone_group[model.pz]] + rank
        share = x[gpair]
    flow = model.d[model.pz] * share
    assigned = np.bincount(model.ps, weights=flow, minlength=n)
    tmin = np.bincount(model.ps, weights=flow * model.pt, minlength=n)
    served = share > 1e-6
    max_minutes = np.full(n, np.nan)
    if served.any():
        mx = pd.Series(model.pt[served]).groupby(model.ps[served]).max()
        max_minutes[mx.index.to_numpy()] = mx.to_numpy()
    cap_s = model.static_scans_per_day * model.working_days_per_year
    cap_m = model.mobile_scans_per_day * model.mobile_weeks_per_year
    capacity = cap_s * s + cap_m * m
    decision = np.where(
        s > 0, np.where(m > 0, "both", "static"), np.where(m > 0, "mobile", "closed")
    )
    scanner_cost = model.static_capital_gbp / model.annualisation_years
    site_cost = (
        (scanner_cost + model.static_running_gbp_per_year) * s
        + model.install_site_gbp / model.annualisation_years * t
        + model.mobile_gbp_per_day * model.mobile_weeks_per_year * m
    )
    tracer_flows: pd.DataFrame | None = None
    tracer_source = model.tracer_source.copy()
    tracer_minutes = model.tracer_minutes.copy()
    if model.cyc_pairs is not None and len(model.cyc_pairs):
        q = values[model._q0 : model._q0 + len(model.cyc_pairs)]
        cp = model.cyc_pairs.assign(q=q)
        main = cp.sort_values("q", ascending=False, kind="stable").groupby("pos").head(1)
        main = main[main["q"] > 1e-9]
        tracer_source[main["pos"].to_numpy()] = main["cyclotron_id"].to_numpy()
        tracer_minutes[main["pos"].to_numpy()] = main["minutes"].to_numpy()
        used = cp[cp["q"] > 1e-9]
        tracer_flows = pd.DataFrame(
            {
                "site_id": model.site_ids[used["pos"].to_numpy()],
                "cyclotron_id": used["cyclotron_id"].to_numpy(),
                "minutes": used["minutes"].to_numpy(dtype=float),
                "doses_per_day": used["q"].to_numpy(dtype=float),
                "dispatch_doses_per_day": (used["q"] * used["factor"]).to_numpy(dtype=float),
            }
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        site_frame = pd.DataFrame(
            {
                "site_id": model.site_ids,
                "name": model.site_name,
                "lot": model.site_lot,
                "decision": decision,
                "static_scanners": s,
                "mobile_days_per_week": m,
                "capacity_scans_per_year": capacity.astype(float),
                "assigned_scans_per_year": assigned,
                "utilisation": np.where(capacity > 0, assigned / capacity, np.nan),
                "mean_minutes": np.where(assigned > 0, tmin / assigned, np.nan),
                "max_minutes": max_minutes,
                "tracer_source": tracer_source,
                "tracer_minutes": tracer_minutes,
                "backup_source": model.backup_source,
                "backup_minutes": model.backup_minutes,
                "annual_cost_gbp": site_cost,
                "available": model.available,
            }
        )
    zones = _zone_frame(model, share)
    totals = _totals(model, site_frame, zones, s, t, m, decision)
    last = infos[-1]
    return PlacementResult(
        sites=site_frame,
        zones=zones,
        totals=totals,
        objective=model.objective,
        objective_value=float(last.objective),
        status=raw.status,
        mip_gap=last.mip_gap,
        runtime_s=float(sum(i.runtime_s for i in infos)),
        build_time_s=float(raw.build_s),
        solver=raw.solver,
        merged=model.merged,
        n_groups=model.n_groups,
        messages=(*model.messages, *raw.notes),
        stages=raw.stages,
        tracer_flows=tracer_flows,
    )


def _zone_frame(model: PlacementFormulation, share: np.ndarray) -> pd.DataFrame:
    nz = model.n_zones
    best_site = np.full(nz, -1, np.int64)
    best_share = np.zeros(nz)
    best_minutes = np.full(nz, np.nan)
    if len(share):
        order = np.lexsort((-share, model.pz))  # by zone, largest share first
        firsts = order[np.r_[True, model.pz[order][1:] != model.pz[order][:-1]]]
        ok = share[firsts] > 1e-6
        z = model.pz[firsts][ok]
        best_site[z] = model.ps[firsts][ok]
        best_share[z] = share[firsts][ok]
        best_minutes[z] = model.pt[firsts][ok]
    total_share = np.bincount(model.pz, weights=share, minlength=nz)
    uncovered = np.clip(1.0 - total_share, 0.0, 1.0)
    covered = uncovered <= 1e-3
    reason = model.zone_reason.copy()
    left = ~covered & (reason == "")
    reason[left] = (
        "not assigned: capacity, budget, fleet or tracer limits, or covering "
        "it costs more than the uncovered penalty"
    )
    reason[covered] = ""
    return pd.DataFrame(
        {
            "zone_id": model.zone_ids,
            "site_id": np.where(best_site >= 0, model.site_ids[np.maximum(best_site, 0)], None),
            "share": best_share,
            "minutes": best_minutes,
            "covered": covered,
            "uncovered_share": np.where(covered, 0.0, uncovered),
            "uncovered_reason": reason,
            "scans_per_year": model.d,
            "population": model.pop,
            "group": model.zone_group,
        }
    )


def _totals(
    model: PlacementFormulation,
    site_frame: pd.DataFrame,
    zones: pd.DataFrame,
    s: np.ndarray,
    t: np.ndarray,
    m: np.ndarray,
    decision: np.ndarray,
) -> dict[str, float]:
    capital_py = float(model.static_capital_gbp / model.annualisation_years * s.sum())
    install_py = float((model.install_site_gbp * t).sum() / model.annualisation_years)
    running_py = float(model.static_running_gbp_per_year * s.sum())
    mobile_py = float(model.mobile_gbp_per_day * model.mobile_weeks_per_year * m.sum())
    annual = capital_py + install_py + running_py + mobile_py
    assigned = float(site_frame["assigned_scans_per_year"].sum())
    demand = float(model.d.sum())
    totals: dict[str, float] = {
        "annual_cost_gbp": annual,
        "capital_gbp_per_year": capital_py,
        "install_gbp_per_year": install_py,
        "running_gbp_per_year": running_py,
        "mobile_gbp_per_year": mobile_py,
        "capital_gbp": float(
            model.static_capital_gbp * s.sum() + (model.install_site_gbp * t).sum()
        ),
        "cost_per_scan_gbp": annual / assigned if assigned > 0 else math.nan,
        "demand_scans_per_year": demand,
        "assigned_scans_per_year": assigned,
        "uncovered_scans_per_year": max(demand - assigned, 0.0),
        "covered_share_of_demand": assigned / demand if demand > 0 else math.nan,
        "population": float(model.pop.sum()),
        "open_sites": float((decision != "closed").sum()),
        "static_sites": float((s > 0).sum()),
        "mobile_sites": float((m > 0).sum()),
        "static_scanners": float(s.sum()),
        "mobile_days_per_week": float(m.sum()),
    }
    od = model._od_all
    pop_total = float(model.pop.sum())
    reach_max = float(od["minutes"].max()) if len(od) else 0.0
    for kind, open_mask in (("", decision != "closed"), ("_static", s > 0)):
        sub = od[open_mask[od["site"].to_numpy()]]
        nearest = np.full(model.n_zones, np.inf)
        if len(sub):
            mins = sub.groupby("zone")["minutes"].min()
            nearest[mins.index.to_numpy()] = mins.to_numpy()
        for limit in THRESHOLDS_MINUTES:
            within = float(model.pop[nearest <= limit + EPS].sum())
            unknown = limit > reach_max + EPS and within < pop_total
            value = math.nan if unknown else within
            totals[f"population_within_{limit}_minutes{kind}"] = value
            totals[f"share_within_{limit}_minutes{kind}"] = (
                value / pop_total if pop_total > 0 else math.nan
            )
    return totals
