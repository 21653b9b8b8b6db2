r"""Patient travel after cost: the plan with the least driving among the near-cheapest ones.

Once the zones within the standard are served at least cost, many plans cost the same or
nearly so (every plan of 55 single-scanner sites costs the same), and which of them the
cost stage returns is an accident of the search: London could be served from Maidstone
and Chertsey. The travel stage takes the cost stage's plan and its cost :math:`C` and looks
for the plan with the least demand-weighted drive minutes among those that

* serve every zone the cost plan serves (coverage never falls),
* cost at most :math:`(1 + \tau) C` (``travel_cost_tolerance`` :math:`\tau`),
* keep every site rule: bounds, locks, fleet, lots, budget, tracer supply and capacity.

For a fixed plan the least driving is one transportation LP over travel groups (zones that
share their reachable sites and their three nearest candidates; the cost stage's groups
share sites, not minutes), kept in one HiGHS model that re-solves from its last basis as the
plan changes; its duals price one more scan of capacity at each site (:math:`\mu_j`) and
one more scan for each group (:math:`\alpha_g`). The search moves one
unit of capacity at a time (a static scanner or a weekly mobile day) from one site to
another, or adds one while the budget allows. The duals rank the moves (the saving of
:math:`K` scans at a site :math:`b` is the best :math:`K` scans of
:math:`d_g(\alpha_g / d_g - t_{gb})^+`, the loss at :math:`a` about :math:`-\mu_a K`), and
the best few are solved exactly; the best improving one is taken, until none improves.
Every step is deterministic (ties go to the lower site index), so a scenario gives one
plan on any machine.

This is a local search: the plan it ends with is the best of its neighbourhood, not proven
the least travel of all near-cheapest plans (the exact problem is a capacitated p-median,
whose MIP at England scale does not close in minutes). The result says so in its stage
record and messages.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from ..executors import default_workers
from . import _matrix
from ._assign import assign
from ._base import SolveInfo, Status
from ._core import RawSolution, stage_record
from ._master import rows_within
from ._repair import rows_hold, set_plan, tracer_flows

if TYPE_CHECKING:
    from ._formulation import PlacementFormulation

logger = logging.getLogger(__name__)

#: Moves solved exactly per step (the best by their dual estimate). The last step of a
#: search solves all of them and finds none improving. Measured on the England default's
#: cost plan: 12 instead of 32 gave the same plan (26.48 mean minutes, 4 moves, each the
#: first candidate solved) in 13 s instead of 25 s (16 LPs instead of 36).
_EVALUATE_PER_STEP = 12
#: At most this many accepted moves (a deterministic stop; England takes about 40).
_MAX_MOVES = 250
#: A move must cut the travel by this share to count (round-off of the LP).
_MIN_GAIN = 1e-6
_EPS = 1e-9
#: Simplex iterations allowed per plan's re-solve (a deterministic limit: a move whose LP
#: needs more is skipped). The first solve of the cost plan has no limit.
_LP_ITERATIONS = 4000
#: Pairs kept per group in the search's LP: its nearest candidates (plus the cost plan's
#: open sites). A plan that would need a group's farther sites is not considered.
_NEAREST = 10
#: The travel stage starts alongside the cost stage's proof on an incumbent within this
#: relative gap of the bound (England: the first incumbent is 3.3 % above, a later one
#: 0.15 %, the optimum at the bound).
_SPECULATE_GAP = 0.01
#: Zones share a travel group when they share their cost group and this many nearest sites.
_KEY_SITES = 3


@dataclass(frozen=True)
class TravelOutcome:
    """The travel stage's plan and record (internal)."""

    values: np.ndarray  # full column vector: site columns and tracer flows of the plan
    info: SolveInfo
    start_minutes: float  # demand-weighted mean drive minutes of the cost plan
    minutes: float  # ... and of the travel stage's plan
    budget_gbp: float
    moves: int
    evaluations: int
    stopped: str
    path: tuple[tuple[float, float], ...] = ()  # (annual cost, mean minutes) per accepted move
    share: np.ndarray | None = None  # the plan's zone assignment, when already solved


@dataclass(frozen=True)
class _Groups:
    """What the search needs that does not depend on the plan: the travel groups and
    their pairs (internal; built once per model, :func:`travel_groups`)."""

    zone_unit: np.ndarray  # travel group of each zone
    nu: int  # number of travel groups
    ud: np.ndarray  # scans a year of each group
    cov: np.ndarray  # coverable zones in each group
    pg: np.ndarray  # group of each group pair
    pj: np.ndarray  # site of each group pair
    pt: np.ndarray  # the group's demand-weighted mean minutes along each pair
    rank: np.ndarray  # each pair's rank among its group's sites, nearest first
    site_rows: sp.csr_matrix  # the model's rows over site and tracer columns only
    rows_lo: np.ndarray
    rows_hi: np.ndarray


_GROUPS_LOCK = threading.Lock()


def travel_groups(model: PlacementFormulation) -> _Groups:
    """The travel groups of ``model`` and their pairs, built on first use and kept on
    the model (the decomposition starts them in a thread while the cost stage runs)."""
    with _GROUPS_LOCK:
        cached = model.__dict__.get("_travel_groups_cache")
        if cached is None:
            cached = _build_groups(model)
            model.__dict__["_travel_groups_cache"] = cached
    return cached


def _build_groups(model: PlacementFormulation) -> _Groups:
    n = model.n_sites
    # the search works on finer groups than the cost stage's: zones merged for cost
    # share their reachable sites, not their minutes (much of London reaches the same
    # hospitals within the hour). Zones are grouped here only when they also share
    # their _KEY_SITES nearest candidates; a group's minutes to a site are its zones'
    # demand-weighted mean.
    zone_unit, nu = _travel_groups(model)
    ud = np.bincount(zone_unit, weights=model.d, minlength=nu)
    cov = np.bincount(zone_unit, weights=model.coverable.astype(float), minlength=nu)
    key = zone_unit[model.pz].astype(np.int64) * n + model.ps
    ukey, inv = np.unique(key, return_inverse=True)
    w = model.d[model.pz]
    num = np.bincount(inv, weights=w * model.pt, minlength=len(ukey))
    den = np.bincount(inv, weights=w, minlength=len(ukey))
    mins = np.bincount(inv, weights=model.pt, minlength=len(ukey)) / np.bincount(inv)
    pg = (ukey // n).astype(np.int64)
    pj = (ukey % n).astype(np.int64)
    pt = np.where(den > 0, num / np.maximum(den, _EPS), mins)
    rank = np.zeros(len(pg), np.int64)
    order = np.lexsort((pt, pg))
    first = np.r_[0, np.flatnonzero(np.diff(pg[order])) + 1]
    rank[order] = np.arange(len(order)) - np.repeat(first, np.diff(np.r_[first, len(order)]))
    # site rows of the model that involve only site and tracer columns
    cols = np.r_[np.arange(5 * n), model._q0 + np.arange(len(model.matrix.cost) - model._q0)]
    rows = rows_within(model.matrix.A, cols)
    return _Groups(
        zone_unit,
        nu,
        ud,
        cov,
        pg,
        pj,
        pt,
        rank,
        model.matrix.A.tocsr()[rows],
        model.matrix.row_lower[rows],
        model.matrix.row_upper[rows],
    )


class _Search:
    """The pieces of the search that do not change between moves."""

    def __init__(self, model: PlacementFormulation, values: np.ndarray) -> None:
        self.model = model
        n, off = model.n_sites, model._off
        self.n, self.off = n, off
        rho = model.target_utilisation
        self.ks = rho * model.static_scans_per_day * model.working_days_per_year
        self.km = rho * model.mobile_scans_per_day * model.mobile_weeks_per_year
        self.cost = model._cost_vector()
        self.lower = model.matrix.lower
        self.upper = model.matrix.upper
        groups = travel_groups(model)
        zone_unit, self.nu, self.ud = groups.zone_unit, groups.nu, groups.ud
        self.pg, self.pj, self.pt = groups.pg, groups.pj, groups.pt
        self.rows_A, self.rows_lo, self.rows_hi = groups.site_rows, groups.rows_lo, groups.rows_hi
        u_zone = values[model._u0 : model._u0 + model.n_groups][model.zone_group]
        u_unit = np.zeros(self.nu)
        u_unit[zone_unit] = u_zone  # zones of a unit share their cost group's share
        self.supply = np.where((groups.cov > 0) & (self.ud > 0), 1.0 - u_unit, 0.0)
        self.supply[self.supply < 1e-9] = 0.0
        served = self.supply[self.pg] > 0
        # the LP's pairs: each served zone's _NEAREST nearest candidates, and every site
        # the cost plan opens (so the cost plan's own assignment stays possible)
        cap0 = values[off["s"] : off["s"] + n] + values[off["m"] : off["m"] + n]
        near = (groups.rank < _NEAREST) | (cap0[self.pj] > 0.5)
        self.pairs = np.flatnonzero(served & near)

    # ------------------------------------------------------------------ a plan
    def vector(self, s: np.ndarray, m: np.ndarray) -> np.ndarray | None:
        """The column vector of a plan (site blocks and tracer flows), or None if it
        breaks a site rule or a bound."""
        model = self.model
        x = np.zeros(len(self.cost))
        if not set_plan(model, x, s, m):
            return None
        if model.cyc_pairs is not None and len(model.cyc_pairs):
            q = tracer_flows(model, s, m)
            if q is None:
                return None
            x[model._q0 :] = q
        return x if rows_hold(self.rows_A, self.rows_lo, self.rows_hi, x) else None

    def _transport_lp(self) -> None:
        """Build the transportation LP once, over every pair of the served groups (closed
        sites have capacity 0); each plan then changes only site row bounds, and HiGHS
        re-solves from the last basis (a few pivots instead of a fresh solve)."""
        import highspy

        h = _matrix._new_highs(highspy, log=False)
        h.setOptionValue("time_limit", 600.0)
        # presolve would throw the basis away on every re-solve; dual simplex from the last
        # basis is what makes one more plan cost milliseconds
        h.setOptionValue("presolve", "off")
        h.setOptionValue("solver", "simplex")
        h.setOptionValue("simplex_iteration_limit", _LP_ITERATIONS)
        # join HiGHS's process-wide thread pool as it is (a serial simplex uses none of
        # it): resetting the pool could pull it from under a MIP solving in another thread
        if _matrix._SCHEDULER_THREADS is not None:
            h.setOptionValue("threads", _matrix._SCHEDULER_THREADS)
        k = self.pairs
        g, j = self.pg[k], self.pj[k]
        self.groups = np.flatnonzero(self.supply > 0)
        grow = np.searchsorted(self.groups, g)
        G, P = len(self.groups), len(k)
        d = self.ud[g]
        A = sp.csc_matrix(
            (np.r_[np.ones(P), d], (np.r_[grow, G + j], np.r_[np.arange(P), np.arange(P)])),
            shape=(G + self.n, P),
        )
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = P, G + self.n
        lp.col_cost_ = d * self.pt[k]
        lp.col_lower_ = np.zeros(P)
        lp.col_upper_ = np.full(P, highspy.kHighsInf)
        lp.row_lower_ = np.r_[self.supply[self.groups], np.full(self.n, -highspy.kHighsInf)]
        lp.row_upper_ = np.r_[self.supply[self.groups], np.zeros(self.n)]
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = A.indptr.astype(np.int32)
        lp.a_matrix_.index_ = A.indices.astype(np.int32)
        lp.a_matrix_.value_ = A.data.astype(float)
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = P, G + self.n
        h.passModel(lp)
        self.h, self.highspy, self.G = h, highspy, G
        self.caps = np.zeros(self.n)

    def travel(
        self, s: np.ndarray, m: np.ndarray, cutoff: float = np.inf
    ) -> tuple[float, np.ndarray, np.ndarray] | None:
        """Least scan-minutes of a plan (transportation LP over the groups), with the
        duals of its coverage rows (per group) and capacity rows (per site); None when
        the plan cannot serve the zones the cost plan serves, or needs at least
        ``cutoff`` scan-minutes.

        The dual simplex keeps a dual feasible basis, so its objective is a lower bound
        that only rises: HiGHS stops as soon as it passes ``cutoff``
        (``objective_bound``; with cost perturbation HiGHS confirms the bound with the
        true costs first). A move that cannot beat the current plan is rejected after a
        few pivots instead of a full solve (England: the last step's 12 rejected moves
        took 0.5 s instead of 3.1 s)."""
        cap = (self.ks * s + self.km * m) * (1 + 1e-9)
        if not hasattr(self, "h"):
            self._transport_lp()
        if not len(self.groups):
            return 0.0, np.zeros(self.nu), np.zeros(self.n)
        # a served group with no open site in reach: infeasible without a solve
        open_pairs = cap[self.pj[self.pairs]] > 0
        reached = np.bincount(self.pg[self.pairs], open_pairs, minlength=self.nu)
        if np.any(reached[self.groups] <= 0):
            return None
        diff = np.flatnonzero(cap != self.caps)
        if len(diff):
            inf = self.highspy.kHighsInf
            self.h.changeRowsBounds(
                len(diff), (self.G + diff).astype(np.int32), np.full(len(diff), -inf), cap[diff]
            )
            self.caps = cap
        self.h.setOptionValue("objective_bound", float(cutoff))
        if not hasattr(self, "solved_once"):
            self.h.setOptionValue("simplex_iteration_limit", 2**31 - 1)
            self.h.run()
            self.h.setOptionValue("simplex_iteration_limit", _LP_ITERATIONS)
            self.solved_once = True
        else:
            self.h.run()
        if self.h.getModelStatus() != self.highspy.HighsModelStatus.kOptimal:
            return None
        value = float(self.h.getInfo().objective_function_value)
        if value >= cutoff:  # (solved to optimality before the bound was checked)
            return None
        sol = self.h.getSolution()
        dual = np.asarray(sol.row_dual, dtype=float)
        alpha = np.zeros(self.nu)
        alpha[self.groups] = dual[: self.G]
        mu = np.minimum(dual[self.G :], 0.0)
        x = np.clip(np.asarray(sol.col_value, dtype=float), 0.0, None)
        self.last = (self.pairs, x, cap)
        return value, alpha, mu

    # ------------------------------------------------------------------ moves
    def losses(self, mu: np.ndarray, units: np.ndarray, scans: float) -> np.ndarray:
        r"""Estimated extra scan-minutes of taking ``scans`` of capacity from each site.

        The scans the site can no longer hold (its load above the capacity left) move to
        their next-best open site at its dual price :math:`t_{gj} - \mu_j`, the cheapest
        first; while the site keeps room the loss is :math:`-\mu_a` per scan."""
        k, x, cap = self.last
        g, j = self.pg[k], self.pj[k]
        load = np.bincount(j, weights=x * self.ud[g], minlength=self.n)
        price = self.pt[k] - mu[j]  # per scan, mu <= 0
        # best and second-best price of each group over the open sites
        order = np.lexsort((price, g))
        gs, ps, js = g[order], price[order], j[order]
        head = np.r_[True, gs[1:] != gs[:-1]]
        first = np.flatnonzero(head)
        best_p = np.full(self.nu, np.inf)
        best_j = np.full(self.nu, -1)
        best_p[gs[first]], best_j[gs[first]] = ps[first], js[first]
        second = np.full(self.nu, np.inf)
        nxt = first + 1
        ok = (nxt < len(gs)) & (nxt < np.r_[first[1:], len(gs)])
        second[gs[first[ok]]] = ps[nxt[ok]]
        alt = np.where(best_j[g] == j, second[g], best_p[g])
        # per scan moved off j (a scan with nowhere else to go: a prohibitive price)
        extra = np.where(np.isfinite(alt), np.maximum(alt - price, 0.0), 1e6)
        scans_on = x * self.ud[g]
        use = scans_on > 1e-9
        jj, ee, dd = j[use], extra[use], scans_on[use]
        order = np.lexsort((ee, jj))
        jj, ee, dd = jj[order], ee[order], dd[order]
        cum = np.cumsum(dd)
        firsts = np.r_[0, np.flatnonzero(np.diff(jj)) + 1] if len(jj) else np.zeros(0, int)
        seg = np.repeat(firsts, np.diff(np.r_[firsts, len(jj)]))
        before = cum - dd - (cum[seg] - dd[seg]) if len(jj) else cum
        displaced = np.maximum(load - np.maximum(cap - scans, 0.0), 0.0)
        take = np.clip(displaced[jj] - before, 0.0, dd)
        moved = np.bincount(jj, weights=take * ee, minlength=self.n)
        room = np.maximum(np.minimum(scans, cap - load), 0.0)
        return moved + (-mu) * room

    def gains(self, alpha: np.ndarray, scans: float) -> np.ndarray:
        """Estimated saving (scan-minutes) of ``scans`` more capacity at each site."""
        k = self.pairs
        g, j = self.pg[k], self.pj[k]
        d = self.ud[g]
        saving = alpha[g] / np.maximum(d, _EPS) - self.pt[k]
        keep = saving > 0
        g, j, d, saving = g[keep], j[keep], d[keep], saving[keep]
        order = np.lexsort((-saving, j))
        j, d, saving = j[order], d[order], saving[order]
        cum = np.cumsum(d)
        first = np.r_[0, np.flatnonzero(np.diff(j)) + 1]
        seg = np.repeat(first, np.diff(np.r_[first, len(j)]))
        before = cum - d - (cum[seg] - d[seg])
        take = np.clip(scans - before, 0.0, d)
        return np.bincount(j, weights=take * saving, minlength=self.n)


def _travel_groups(model: PlacementFormulation) -> tuple[np.ndarray, int]:
    """Each zone's travel group (its cost group and its ``_KEY_SITES`` nearest
    candidates), and the number of groups."""
    pz, ps, pt = model.pz, model.ps, model.pt
    order = np.lexsort((ps, pt, pz))
    first = np.r_[0, np.flatnonzero(np.diff(pz[order])) + 1] if len(pz) else np.zeros(0, int)
    ends = np.r_[first[1:], len(order)]
    keys = [model.zone_group.astype(np.int64)]
    for r in range(_KEY_SITES):
        idx = first + r
        ok = idx < ends
        k = np.full(model.n_zones, -1, np.int64)
        k[pz[order[first[ok]]]] = ps[order[idx[ok]]]
        keys.append(k)
    _, unit = np.unique(np.stack(keys, axis=1), axis=0, return_inverse=True)
    unit = np.asarray(unit).ravel()
    return unit, int(unit.max(initial=-1)) + 1


def travel_stage(
    model: PlacementFormulation,
    values: np.ndarray,
    tolerance: float,
    *,
    time_limit_s: float = 300.0,
    cancel: threading.Event | None = None,
) -> TravelOutcome:
    """Improve the patient travel of the plan ``values`` within ``(1 + tolerance)`` of its
    cost (see the module docstring). ``time_limit_s`` is a safety net only: the search
    stops by itself when no move improves (or after ``_MAX_MOVES`` moves). Setting
    ``cancel`` stops it after the LP it is solving (``stopped == "cancelled"``)."""
    t0 = time.perf_counter()
    search = _Search(model, values)
    off, n = search.off, search.n
    s = np.round(values[off["s"] : off["s"] + n]).astype(np.int64)
    m = np.round(values[off["m"] : off["m"] + n]).astype(np.int64)
    cost0 = float(search.cost @ values)
    budget = cost0 * (1.0 + tolerance) + 1e-6 * max(1.0, abs(cost0))
    demand = float((search.ud * search.supply).sum())
    first = search.travel(s, m)
    if first is None:  # cannot happen for a feasible plan; keep it unchanged
        info = SolveInfo(Status.FEASIBLE, float("nan"), None, 0.0, "no assignment", None)
        return TravelOutcome(values, info, np.nan, np.nan, budget, 0, 0, "no assignment")
    best, alpha, mu = first
    start = best
    path = [(cost0, best / demand if demand > 0 else 0.0)]
    moves = evaluations = 0
    stopped = "no improving move"
    upper_s = search.upper[off["s"] : off["s"] + n]
    upper_m = search.upper[off["m"] : off["m"] + n]
    lower_s = search.lower[off["s"] : off["s"] + n]
    lower_m = search.lower[off["m"] : off["m"] + n]
    while True:
        if cancel is not None and cancel.is_set():
            stopped = "cancelled"
            break
        if moves >= _MAX_MOVES:
            stopped = f"{_MAX_MOVES} moves"
            break
        if time.perf_counter() - t0 > time_limit_s:
            stopped = "time limit reached"
            break
        cand: list[tuple[float, int, str, int, int]] = []
        for kind, units, scans, up, lo in (
            ("s", s, search.ks, upper_s, lower_s),
            ("m", m, search.km, upper_m, lower_m),
        ):
            if scans <= 0:
                continue
            gain = search.gains(alpha, scans)
            room = np.flatnonzero(units < up - _EPS)
            if not len(room):
                continue
            sources = np.flatnonzero(units > lo + _EPS)
            loss = search.losses(mu, units, scans)
            if len(sources):
                # the cheapest sources to take a unit from, the best places to put it
                a_best = sources[np.argsort(loss[sources], kind="stable")[:16]]
                b_best = room[np.argsort(-gain[room], kind="stable")[:48]]
                for a in a_best.tolist():
                    for b in b_best.tolist():
                        if a != b and gain[b] - loss[a] > 0:
                            cand.append((-(gain[b] - loss[a]), len(cand), kind, a, b))
            for b in room[np.argsort(-gain[room], kind="stable")[:4]].tolist():
                if gain[b] > 0:  # add a unit, if the budget allows
                    cand.append((-gain[b], len(cand), kind, -1, b))
        cand.sort()
        # one move per destination (its best source), so a step tries many places
        seen: set[tuple[str, int]] = set()
        ranked = []
        for c in cand:
            if (c[2], c[4]) not in seen:
                seen.add((c[2], c[4]))
                ranked.append(c)
        cand = ranked
        found: tuple[float, np.ndarray, np.ndarray, tuple] | None = None
        tried = 0
        for _, _, kind, a, b in cand:
            if tried >= _EVALUATE_PER_STEP:
                break
            s2, m2 = s.copy(), m.copy()
            arr = s2 if kind == "s" else m2
            arr[b] += 1
            if a >= 0:
                arr[a] -= 1
            x = search.vector(s2, m2)
            if x is None or float(search.cost @ x) > budget:
                continue
            if cancel is not None and cancel.is_set():
                break
            tried += 1
            evaluations += 1
            # only a plan that beats the current one by the least gain is worth its LP
            out = search.travel(s2, m2, best - _MIN_GAIN * max(1.0, best))
            if out is None:
                continue
            if out[0] < best - _MIN_GAIN * max(1.0, best):
                found = (out[0], s2, m2, out)  # the first improving move in rank order
                break
        if found is None:
            break
        best, s, m, (_, alpha, mu) = found[0], found[1], found[2], found[3]
        moves += 1
        xm = search.vector(s, m)
        path.append((float(search.cost @ xm), best / demand if demand > 0 else 0.0))
    x = search.vector(s, m)
    assert x is not None
    out = values.copy()
    out[: 5 * n] = x[: 5 * n]
    out[model._q0 :] = x[model._q0 :]
    runtime = time.perf_counter() - t0
    minutes = best / demand if demand > 0 else 0.0
    info = SolveInfo(Status.FEASIBLE, best, None, runtime, f"local search: {stopped}", None)
    logger.info(
        "travel stage: %.2f -> %.2f mean minutes in %d moves (%d LPs), cost £%.6g of £%.6g "
        "allowed, %.1f s (%s)",
        start / demand if demand else 0.0,
        minutes,
        moves,
        evaluations,
        float(search.cost @ out),
        budget,
        runtime,
        stopped,
    )
    return TravelOutcome(
        out,
        info,
        start / demand if demand else 0.0,
        minutes,
        budget,
        moves,
        evaluations,
        stopped,
        tuple(path),
    )


class SpeculativeTravel:
    """The travel stage run in a background thread on the cost stage's incumbent while
    the cost stage goes on proving it (internal).

    The cost stage's last rounds mostly prove a plan it already has (England: the optimum
    is found after 6 s of 12, the rest is the proof), and HiGHS's branch and bound gains
    little from a second core (measured: 11.9 s on 2 threads, 13.0 s on 1). Each new
    incumbent is :meth:`offer`-ed: the search on the previous one is cancelled and one on
    the new one starts. :meth:`take` returns the outcome when the cost stage ends on the
    plan the search ran on, and None otherwise (then the caller runs the stage itself).
    The job also assigns the zones to its plan (the assignment LP, 1.1 s on England).
    The travel stage depends only on the plan, so the result is the same either way;
    measured on the England default (2 cores) when its optimum was found in the second of
    three masters: cost then travel 12.8 s + 6.4 s one after the other, 14.3 s side by
    side (now the last master finds it, and the search runs after the proof).
    """

    def __init__(self, model: PlacementFormulation, tolerance: float) -> None:
        self.model, self.tolerance = model, float(tolerance)
        self._job: tuple[np.ndarray, threading.Event, threading.Thread, dict] | None = None

    @staticmethod
    def useful() -> bool:
        """Whether a second CPU is there to run the search on."""
        return default_workers() >= 2

    def prepare(self) -> None:
        """Build the travel groups (:func:`travel_groups`) in a background thread."""

        def run() -> None:
            try:
                travel_groups(self.model)
            except Exception:  # the search builds them again and raises it there
                logger.debug("travel groups: built again by the search", exc_info=True)

        threading.Thread(target=run, name="netplan-travel-groups", daemon=True).start()

    def offer(self, values: np.ndarray, gap: float) -> None:
        """Start the search on the plan ``values``, proven within ``gap`` (relative) of
        the optimum, cancelling the one running; a plan further than
        ``_SPECULATE_GAP`` from the bound is likely to be beaten, and is left alone."""
        self.cancel()
        if gap > _SPECULATE_GAP:
            return
        event, box = threading.Event(), {}
        values = values.copy()

        def run() -> None:
            try:
                out = travel_stage(self.model, values, self.tolerance, cancel=event)
                if out.stopped != "cancelled" and not event.is_set():
                    share = _assign_plan(self.model, out.values)
                    box["out"] = dataclasses.replace(out, share=share)
            except Exception as exc:  # the caller runs the stage itself and raises it
                box["error"] = exc

        thread = threading.Thread(target=run, name="netplan-travel", daemon=True)
        thread.start()
        self._job = (values, event, thread, box)

    def cancel(self) -> None:
        """Stop the running search (it ends after its current LP)."""
        if self._job is not None:
            self._job[1].set()
            self._job = None

    def take(self, values: np.ndarray) -> tuple[TravelOutcome, float] | None:
        """The search's outcome and the seconds waited for it, if it ran on ``values``;
        otherwise cancel it and return None."""
        job, self._job = self._job, None
        if job is None:
            return None
        if not np.array_equal(job[0], values):
            job[1].set()
            return None
        t0 = time.perf_counter()
        job[2].join()
        out = job[3].get("out")
        if out is None or out.stopped == "cancelled":
            return None
        return out, time.perf_counter() - t0


def _assign_plan(model: PlacementFormulation, values: np.ndarray) -> np.ndarray:
    """Every zone sent to the nearest open site with room, for the plan ``values``."""
    off, n = model._off, model.n_sites
    rho = model.target_utilisation
    ks = rho * model.static_scans_per_day * model.working_days_per_year
    km = rho * model.mobile_scans_per_day * model.mobile_weeks_per_year
    capacity = ks * np.round(values[off["s"] : off["s"] + n]) + km * np.round(
        values[off["m"] : off["m"] + n]
    )
    return assign(model, capacity, values[model._u0 : model._u0 + model.n_groups])


def with_travel(model: PlacementFormulation, raw: RawSolution) -> tuple[RawSolution, dict]:
    """``raw`` after the travel stage (:func:`travel_stage` at the model's
    ``travel_cost_tolerance``, or its outcome in ``raw.travel`` when the strategy ran it
    alongside its proof): its plan, every zone sent to the nearest open site with room
    (:func:`~netplan.optimise._assign.assign`), a stage record and a note; and a summary
    of the stage for the result (``PlacementResult.travel``)."""
    tolerance = float(model.travel_cost_tolerance or 0.0)
    alongside = raw.travel is not None
    if raw.travel is not None:
        out, waited = raw.travel
        # the stage's record counts the wait after the cost stage (the job also assigned
        # the zones), so stage times add up to the solve's wall time; the summary keeps
        # the search's own time
        stage_info = dataclasses.replace(out.info, runtime_s=waited)
    else:
        out = travel_stage(model, raw.values, tolerance)
        stage_info = out.info
    values = out.values
    if out.share is not None:
        share = out.share
    else:  # the zones' assignment LP counts in the stage's time
        t0 = time.perf_counter()
        share = _assign_plan(model, values)
        stage_info = dataclasses.replace(
            stage_info, runtime_s=stage_info.runtime_s + time.perf_counter() - t0
        )
    cost = float(model._cost_vector() @ values)
    cost0 = float(model._cost_vector() @ raw.values)
    note = (
        f"patient travel: a local search moved {out.moves} scanner(s) or mobile day(s) "
        f"within {tolerance:.1%} of the cost plan's £{cost0:,.0f}/yr (£{cost:,.0f}/yr "
        f"used): mean drive {out.start_minutes:.1f} -> {out.minutes:.1f} min per scan "
        f"({out.stopped}; {out.evaluations} plans solved; not a proof of least travel"
        + ("; run alongside the cost stage's proof" if alongside else "")
        + ")"
    )
    summary = {
        "cost_tolerance": tolerance,
        "cost_plan_gbp_per_year": cost0,
        "budget_gbp_per_year": out.budget_gbp,
        "cost_gbp_per_year": cost,
        "start_mean_minutes": out.start_minutes,
        "mean_minutes": out.minutes,
        "moves": out.moves,
        "plans_solved": out.evaluations,
        "stopped": out.stopped,
        "runtime_s": out.info.runtime_s,
        "alongside_cost_stage": alongside,
        "path": [
            {"step": k, "annual_cost_gbp": c, "mean_minutes": t}
            for k, (c, t) in enumerate(out.path)
        ],
        "cost_plan_sites": _plan_sites(model, raw.values),
    }
    new = dataclasses.replace(
        raw,
        values=values,
        share=share,
        stages=(*raw.stages, stage_record("patient_minutes", stage_info)),
        notes=(*raw.notes, note),
        travel=None,
    )
    return new, summary


def _plan_sites(model: PlacementFormulation, values: np.ndarray) -> list[dict[str, Any]]:
    """The open sites of a plan (``site_id, static_scanners, mobile_days_per_week``): the
    cost plan kept beside the travel stage's, e.g. as a sweep's start
    (``PlacementModel.solve(start=)``)."""
    off, n = model._off, model.n_sites
    s = np.round(values[off["s"] : off["s"] + n]).astype(int)
    m = np.round(values[off["m"] : off["m"] + n]).astype(int)
    out = []
    for j in np.flatnonzero((s + m) > 0):
        sid = model.site_ids[j]
        sid = sid.item() if isinstance(sid, np.generic) else sid  # plain YAML
        out.append(
            {"site_id": sid, "static_scanners": int(s[j]), "mobile_days_per_week": int(m[j])}
        )
    return out
