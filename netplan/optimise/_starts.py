"""Starting solutions for the placement MIP, and the MIP restricted to a few sites.

HiGHS solves the full model faster from a good incumbent. This module owns the ways to
get one, each feasible for the full model so the start changes where the search begins,
never the optimum or the gap: :func:`master_start` (the MIP over the sites of the
site-level master's plan, :mod:`netplan.optimise._master`), the MIP over the sites the LP
relaxation uses (:func:`start_solution`), :func:`rounding_start` (the LP's assignment with
capacity rounded up) and :func:`greedy_start` (greedy capacitated covering). It also owns
:func:`restricted_plan`, the full MIP with every site outside a set closed, which the site
decomposition uses too. A new start heuristic goes here and is tried from
:func:`start_solution`.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import TYPE_CHECKING

import numpy as np

from ._base import Status
from ._master import master_sites
from ._matrix import _Matrix, _solve_highs
from ._repair import tracer_flows

if TYPE_CHECKING:
    from ._formulation import PlacementFormulation

logger = logging.getLogger(__name__)


def _fits(matrix: _Matrix, values: np.ndarray) -> bool:
    """Whether ``values`` keeps every row and column bound of ``matrix`` (to round-off)."""
    act = matrix.A @ values
    return bool(
        np.all(act >= matrix.row_lower - 1e-6)
        and np.all(act <= matrix.row_upper + 1e-6)
        and np.all(values >= matrix.lower - 1e-9)
        and np.all(values <= matrix.upper + 1e-9)
    )


def greedy_start(model: PlacementFormulation) -> np.ndarray | None:
    """Greedy capacitated covering with static scanners, or None when it breaks a row.

    See :meth:`netplan.optimise.PlacementModel.greedy_start`.
    """
    n, off = model.n_sites, model._off
    rho = model.target_utilisation
    ks = rho * model.static_scans_per_day * model.working_days_per_year
    if ks <= 0:
        return None
    cap = np.where(model.available, ks * model.smax, 0.0)
    remaining = model.gd * model.group_coverable
    taken = np.zeros(model.n_group_pairs)
    load = np.zeros(n)
    opened = np.zeros(n, bool)
    order = np.lexsort((model.gp_minutes, model.gp_site))  # by site, nearest first
    site_sorted = model.gp_site[order]
    bounds = np.searchsorted(site_sorted, np.arange(n + 1))
    must = np.zeros(n, bool)
    must[model.lock_open] = True
    must[model.lock_static] = True
    while True:
        reach = np.bincount(model.gp_site, weights=remaining[model.gp_group], minlength=n)
        reach[opened | (cap <= 0)] = -1.0
        if must.any() and not (opened[must]).all():
            j = int(np.flatnonzero(must & ~opened)[0])
        else:
            j = int(np.argmax(reach))
            if reach[j] <= 1e-9:
                break
        opened[j] = True
        left = cap[j]
        for k in order[bounds[j] : bounds[j + 1]]:
            if left <= 1e-9:
                break
            g = model.gp_group[k]
            amount = min(remaining[g], left)
            if amount > 0:
                taken[k] += amount
                remaining[g] -= amount
                left -= amount
                load[j] += amount
    values = np.zeros(model._ncol)
    scanners = np.ceil(load / ks - 1e-9)
    scanners[opened & must] = np.maximum(scanners[opened & must], 1)
    scanners = np.minimum(scanners, model.smax)
    static = scanners > 0
    values[off["s"] : off["s"] + n] = scanners
    values[off["t"] : off["t"] + n] = static
    values[off["y"] : off["y"] + n] = static
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(model.gd[model.gp_group] > 0, taken / model.gd[model.gp_group], 0.0)
    values[model._x0 : model._u0] = share
    covered = np.bincount(model.gp_group, weights=share, minlength=model.n_groups)
    values[model._u0 : model._u0 + model.n_groups] = np.clip(1.0 - covered, 0.0, 1.0)
    if model.cyc_pairs is not None and len(model.cyc_pairs):
        # tracer flows for the planned doses (the tracer rows follow the site decisions)
        q = tracer_flows(model, scanners, np.zeros(n))
        if q is None:
            logger.info("greedy start exceeds a cyclotron; the solver starts without it")
            return None
        values[model._q0 :] = q
    if not _fits(model.matrix, values):
        logger.info("greedy start breaks a rule; the solver starts without it")
        return None
    return values


def rounding_start(model: PlacementFormulation, lp_values: np.ndarray) -> np.ndarray | None:
    """The LP's assignment with each site's capacity rounded up, or None when it breaks
    a row. See :meth:`netplan.optimise.PlacementModel.rounding_start`.
    """
    n, off = model.n_sites, model._off
    rho = model.target_utilisation
    ks = rho * model.static_scans_per_day * model.working_days_per_year
    km = rho * model.mobile_scans_per_day * model.mobile_weeks_per_year
    a_s = model.static_capital_gbp / model.annualisation_years + model.static_running_gbp_per_year
    a_m = model.mobile_gbp_per_day * model.mobile_weeks_per_year
    share = np.clip(lp_values[model._x0 : model._u0], 0.0, 1.0)
    share[share < 1e-7] = 0.0
    load = np.bincount(model.gp_site, weights=model.gd[model.gp_group] * share, minlength=n)
    s = np.zeros(n)
    m = np.zeros(n)
    saving = np.zeros(n)
    static_only = np.zeros(n)
    for j in np.flatnonzero(load > 1e-9):
        best, best_no_m = None, None
        for sj in range(int(model.smax[j]) + 1):
            for mj in range(int(model.mmax[j]) + 1):
                if sj and mj and not model.allow_static_and_mobile:
                    continue
                install = model.install_site_gbp[j] / model.annualisation_years if sj else 0.0
                cost = a_s * sj + a_m * mj + install
                short = max(load[j] - ks * sj - km * mj, 0.0)
                key = (short > 1e-6, short, cost)
                if best is None or key < best[0]:
                    best = (key, sj, mj)
                if mj == 0 and (best_no_m is None or key < best_no_m[0]):
                    best_no_m = (key, sj, mj)
        s[j], m[j] = best[1], best[2]
        static_only[j] = best_no_m[1]
        saving[j] = best_no_m[0][2] - best[0][2] if best_no_m[0][0] == best[0][0] else 1e18
    if model.mobile_units is not None:
        days = model.mobile_days_per_unit * model.mobile_units
        sites_cap = (
            model.max_sites_per_unit * model.mobile_units
            if model.max_sites_per_unit is not None
            else n
        )
        for j in np.argsort(saving):
            if m.sum() <= days and (m > 0).sum() <= sites_cap:
                break
            if m[j] > 0:
                m[j], s[j] = 0, static_only[j]
    for j in set(model.lock_open.tolist()) | set(model.lock_static.tolist()):
        if (s[j] == 0 and m[j] == 0) or j in set(model.lock_static.tolist()):
            s[j] = max(s[j], 1)
    capacity = ks * s + km * m
    scale_down = np.where(load > capacity + 1e-9, capacity / np.maximum(load, 1e-12), 1.0)
    share = share * scale_down[model.gp_site]
    values = np.zeros(model._ncol)
    values[off["s"] : off["s"] + n] = s
    values[off["m"] : off["m"] + n] = m
    values[off["t"] : off["t"] + n] = s > 0
    values[off["v"] : off["v"] + n] = m > 0
    values[off["y"] : off["y"] + n] = (s > 0) | (m > 0)
    values[model._x0 : model._u0] = share
    covered = np.bincount(model.gp_group, weights=share, minlength=model.n_groups)
    values[model._u0 : model._u0 + model.n_groups] = np.clip(1.0 - covered, 0.0, 1.0)
    if model.cyc_pairs is not None and len(model.cyc_pairs):
        q = tracer_flows(model, s, m)  # for the planned doses of the rounded plan
        if q is not None:
            values[model._q0 :] = q
    if _fits(model.matrix, values):
        return values
    logger.info("LP-rounding start breaks a rule; trying the greedy start")
    return None


def restricted_plan(
    model: PlacementFormulation,
    keep: np.ndarray,
    must_serve: np.ndarray,
    cost: np.ndarray,
    time_limit_s: float,
    threads: int | None,
) -> np.ndarray | None:
    """The full MIP over the sites ``keep`` only, groups ``must_serve`` served in full,
    solved to 1 % for at most ``time_limit_s``; None if it finds no plan."""
    if time_limit_s < 1.0:
        return None
    upper = model._only_sites(model.matrix, keep)
    u = slice(model._u0, model._u0 + model.n_groups)
    upper[u] = np.where(must_serve, 0.0, upper[u])
    sub = dataclasses.replace(model.matrix, cost=cost, upper=upper)
    info, values, _ = _solve_highs(sub, time_limit_s, 0.01, threads)
    logger.info("MIP over %d sites: %s, %.6g", int(keep.sum()), info.status, info.objective)
    return values if info.status in (Status.OPTIMAL, Status.FEASIBLE) else None


def start_solution(
    model: PlacementFormulation,
    matrix: _Matrix,
    hard: bool,
    limit: float,
    threads: int | None,
    cost: np.ndarray | None = None,
) -> np.ndarray | None:
    """A starting incumbent for HiGHS: the MIP restricted to a few sites.

    For ``"cost"`` and ``"cover_then_cost"`` without cyclotron capacity, the sites are
    those of the best plan of the site-level master problem
    (:func:`netplan.optimise._master.master_sites`, at most a sixth of ``limit``),
    and the restricted MIP minimises ``cost`` (the cost stage's objective) with every
    coverable zone served. Otherwise, or when that fails, as follows.

    Solves the LP relaxation of the first stage, keeps the sites where it buys
    capacity (plus locked sites), and solves the MIP over those sites only for at most
    a quarter of ``limit`` (stopping within 1 % of its optimum). Any solution of that
    restricted MIP is feasible for the full model, so it is a valid start; the full
    solve that follows still proves its own bound over every site (the result stays
    exact). Falls back to
    :func:`rounding_start` and :func:`greedy_start`.
    """
    t0 = time.perf_counter()
    if (
        cost is not None
        and model.cyc_pairs is None
        and model.objective
        in (
            "cost",
            "cover_then_cost",
        )
    ):
        values = master_start(model, limit, threads, cost)
        if values is not None or model.objective == "cover_then_cost":
            return values
    first = model._stages()[0][1]
    if hard:
        first[model._u0 : model._u0 + model.n_groups] = 0.0
    relaxed = dataclasses.replace(matrix, cost=first, integer=np.zeros_like(matrix.integer))
    lp_info, lp_values, _ = _solve_highs(relaxed, limit / 6, None, threads)
    if lp_info.solver_status != "Optimal":
        return greedy_start(model)
    n, off = model.n_sites, model._off
    s = lp_values[off["s"] : off["s"] + n]
    m = lp_values[off["m"] : off["m"] + n]
    keep = (s + m > 1e-6) | (lp_values[off["y"] : off["y"] + n] > 1e-6)
    sub = dataclasses.replace(matrix, cost=first, upper=model._only_sites(matrix, keep))
    left = limit / 4 - (time.perf_counter() - t0)
    if left > 1.0:
        # a start within 1 % of the restricted optimum is enough: the full solve
        # spends the rest of the time on the bound
        info, values, _ = _solve_highs(sub, left, 0.01, threads)
        logger.info(
            "start: MIP over the %d LP sites: %s, objective %.6g",
            int(keep.sum()),
            info.status,
            info.objective,
        )
        if info.status in (Status.OPTIMAL, Status.FEASIBLE):
            return values
    start = rounding_start(model, lp_values)
    return greedy_start(model) if start is None else start


def master_start(
    model: PlacementFormulation, limit: float, threads: int | None, cost: np.ndarray
) -> np.ndarray | None:
    """The MIP over the sites of the master's plan, every coverable zone served."""
    t0 = time.perf_counter()
    keep = master_sites(model, cost, hard=True, time_limit_s=limit / 6, threads=threads)
    if keep is None:
        return None
    left = limit / 4 - (time.perf_counter() - t0)
    return restricted_plan(model, keep, model.group_coverable, cost, left, threads)
