"""Repair a site-level plan that falls short: add capacity where the maximum flow says.

The site decomposition's master (:mod:`netplan.optimise._decompose`) is a relaxation: most
plans it finds leave some set of sites short (the zones that can reach only those sites need
more than their capacity), and on England the first plan that passes the check can take
many rounds and cost far more than the bound. :func:`repair_plan` turns any master plan
into a feasible one deterministically: while the maximum flow names a short set of sites,
add the cheapest unit of capacity (a static scanner or a weekly mobile day, per scan of
capacity, counting a new site's installation) at a site of that set that keeps every site
rule (bounds, fleet, budget, lots, tracer). The repaired plan is an upper bound for the
decomposition (its incumbent), so every round ends with a plan close to its bound.
:func:`tracer_flows` finds flows from the cyclotrons that supply a plan's planned doses.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

if TYPE_CHECKING:
    from ._formulation import PlacementFormulation

#: A :class:`netplan.optimise._decompose.SiteDecomposition` (not imported: it imports this
#: module); its ``model, n, cuts, cost, lower, upper, A0, lo0, hi0, a_s, a_m`` are used.
SiteDecomposition = Any

logger = logging.getLogger(__name__)

_MAX_STEPS = 30  # rounds of additions at most before giving up on a plan


def tracer_flows(model: PlacementFormulation, s: np.ndarray, m: np.ndarray) -> np.ndarray | None:
    """Tracer flows (one per ``model.cyc_pairs`` row) that supply every site's planned
    doses within the cyclotrons' capacity, or None if none exist. The least
    dispatch activity is chosen (a unique LP optimum up to ties)."""
    cp = model.cyc_pairs
    if cp is None or not len(cp):
        return np.zeros(0)
    rho = model.target_utilisation
    ks = rho * model.static_scans_per_day * model.working_days_per_year
    km = rho * model.mobile_scans_per_day * model.mobile_weeks_per_year
    pos = cp["pos"].to_numpy()
    need = (ks * s + km * m) / model.working_days_per_year
    q = np.zeros(len(cp))
    use = np.flatnonzero(need[pos] > 0)
    sites, srow = np.unique(pos[use], return_inverse=True)
    if np.setdiff1d(np.flatnonzero(need > 0), sites).size:
        return None  # a site with doses to order and no cyclotron in reach
    if not len(use):
        return q
    ids = list(model.cyc_capacity)
    crow = cp["cyclotron_id"].map({c: k for k, c in enumerate(ids)}).to_numpy()[use]
    factor = cp["factor"].to_numpy()[use]
    k = len(use)
    a_eq = sp.csr_matrix((np.ones(k), (srow, np.arange(k))), shape=(len(sites), k))
    a_ub = sp.csr_matrix((factor, (crow, np.arange(k))), shape=(len(ids), k))
    cap = np.array([model.cyc_capacity[c] for c in ids])
    res = linprog(factor, A_ub=a_ub, b_ub=cap, A_eq=a_eq, b_eq=need[sites], method="highs")
    if res.status != 0:
        return None
    q[use] = np.clip(res.x, 0.0, None)
    return q


def set_plan(model: PlacementFormulation, x: np.ndarray, s: np.ndarray, m: np.ndarray) -> bool:
    """Write the plan (static scanners ``s``, mobile days ``m``) into the five site blocks
    of ``x`` (open, static, mobile flags follow); False if a column bound is broken."""
    n, off = model.n_sites, model._off
    x[off["s"] : off["s"] + n] = s
    x[off["m"] : off["m"] + n] = m
    x[off["t"] : off["t"] + n] = s > 0
    x[off["v"] : off["v"] + n] = m > 0
    x[off["y"] : off["y"] + n] = (s > 0) | (m > 0)
    site = slice(0, 5 * n)
    lower, upper = model.matrix.lower[site], model.matrix.upper[site]
    return not (np.any(x[site] < lower - 1e-9) or np.any(x[site] > upper + 1e-9))


def rows_hold(A: sp.spmatrix, lower: np.ndarray, upper: np.ndarray, x: np.ndarray) -> bool:
    """Whether ``lower <= A x <= upper`` up to round-off."""
    ax = A @ x
    tol = 1e-7 * np.maximum(1.0, np.abs(ax))
    return not (np.any(ax < lower - tol) or np.any(ax > upper + tol))


def _master_vector(dec: SiteDecomposition, x: np.ndarray, s: np.ndarray, m: np.ndarray):
    """The master vector of plan (s, m) with ``x``'s uncovered shares, or None if it
    breaks a site rule. (The master's first 5n columns are the model's site blocks.)"""
    out = x.copy()
    if not set_plan(dec.model, out, s, m):
        return None
    q = tracer_flows(dec.model, s, m)
    if q is None:
        return None
    out[dec.cuts.uend :] = q
    return out if rows_hold(dec.A0, dec.lo0, dec.hi0, out) else None


def repair_plan(dec: SiteDecomposition, x: np.ndarray) -> np.ndarray | None:
    """A feasible plan from the master plan ``x`` by adding capacity, or None."""
    model, n = dec.model, dec.n
    off = model._off
    s = np.round(x[off["s"] : off["s"] + n]).astype(np.int64)
    m = np.round(x[off["m"] : off["m"] + n]).astype(np.int64)
    cost = dec.cost
    per_scanner = cost[off["s"] : off["s"] + n]
    install = cost[off["t"] : off["t"] + n]
    per_day = cost[off["m"] : off["m"] + n]
    cur = _master_vector(dec, x, s, m)
    if cur is None:
        return None
    t0 = time.perf_counter()
    for step in range(_MAX_STEPS):
        short = dec.cuts.violated(cur)
        if not short:
            logger.info(
                "repair: %d step(s), %.1f s, cost %.6g", step, time.perf_counter() - t0,
                float(dec.cost @ cur),
            )  # fmt: skip
            return cur
        for S in short:
            # the set's shortfall in capacity units, filled at the sites the short zones
            # reach most, cheapest per unit of capacity first (one maximum flow per round)
            mask = np.zeros(n, bool)
            mask[S] = True
            inside = dec.cuts.inside(mask)
            reach = np.asarray(
                dec.cuts.B[inside].T @ model.gd[inside]
            ).ravel()  # demand of the short zones that can reach each site
            cap = dec.cuts.capacity(cur)
            deficit = float(model.gd[inside].sum()) - float(cap[S].sum())
            added = 0.0
            while deficit > added + 1e-6:
                options = []
                for j in S.tolist():
                    if reach[j] <= 0:
                        continue
                    w = reach[j]
                    options.append(
                        ((per_scanner[j] + install[j] * (s[j] == 0)) / dec.a_s / w, j, "s")
                    )
                    if dec.a_m:
                        options.append((per_day[j] / dec.a_m / w, j, "m"))
                options.sort()
                for _, j, kind in options:
                    s2, m2 = s.copy(), m.copy()
                    (s2 if kind == "s" else m2)[j] += 1
                    nxt = _master_vector(dec, cur, s2, m2)
                    if nxt is not None:
                        s, m, cur = s2, m2, nxt
                        added += dec.cuts.ks if kind == "s" else dec.cuts.km
                        break
                else:
                    return None  # no unit fits the rules in this short set
    return None
