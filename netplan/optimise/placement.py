"""The placement model: static scanners and mobile visit days under a drive-time standard.

The model is built once as sparse matrices (numpy/scipy), so its size and build time do
not depend on the solver. ``solver="highs"`` passes the matrices straight to HiGHS
(``highspy``), which is the fast path at England scale; ``solver="cbc"`` builds the same
rows as a PuLP problem and solves it with the CBC binary bundled with PuLP.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import time
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InfeasibleError, SolverError
from ._base import (
    SolveInfo,
    Status,
    check_solver,
    raise_for_status,
    status_from_gap,
)
from ._core import EPS as _EPS
from ._core import OBJECTIVES as OBJECTIVES
from ._formulation import PlacementFormulation
from ._matrix import _Matrix, _solve_cbc, _solve_highs
from .result import PlacementResult

logger = logging.getLogger(__name__)

THRESHOLDS_MINUTES = (30, 45, 60, 90)
# time kept back from the site decomposition for the MIP over its last plan's sites, in
# case the proof is not done: a quarter of the limit, at most this many seconds
_DECOMPOSE_RESERVE_S = 5.0
_WITH_START_OPTIONS = {
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_root_reduced_cost": False,
}


class PlacementModel(PlacementFormulation):
    r"""Place static PET-CT scanners and mobile visit days so every zone is served.

    Sets: zones :math:`i \in I` with demand :math:`d_i` (scans/yr) and population
    :math:`p_i`; candidate sites :math:`j \in J`; cyclotrons :math:`c \in C`.
    :math:`N_i = \{j : t_{ij} \le T\}` are the available sites within the drive standard
    :math:`T` (forbidden sites and sites without tracer supply removed). Zones with the same
    :math:`N_i` may be merged exactly into groups :math:`g` (see *Merging*); below
    :math:`i` stands for a zone or a group.

    Decision variables, per site: :math:`y_j \in \{0,1\}` open; :math:`t_j \in \{0,1\}`
    static service; :math:`v_j \in \{0,1\}` mobile service; :math:`s_j \in
    \{0..\bar s_j\}` static scanners; :math:`m_j \in \{0..\bar m\}` mobile days per week.
    Per pair: :math:`x_{ij} \in [0,1]` share of zone :math:`i`'s demand served at
    :math:`j`; per zone :math:`u_i \in [0,1]` uncovered share. Optional tracer flows
    :math:`q_{jc} \ge 0` (doses/day from cyclotron :math:`c` to site :math:`j`).

    Constants: static capacity :math:`K^s` = scans/day x working days/yr per scanner;
    mobile capacity :math:`K^m` = scans per mobile day x weeks/yr per weekly day;
    utilisation ceiling :math:`\rho`; annual costs :math:`a^s` = capital / annualisation
    years + running per scanner, :math:`a^t_j` = install / annualisation years per new
    static site (the contract-site value for ``is_contract`` sites), :math:`a^m` = cost
    per mobile day x weeks/yr per weekly day; uncovered penalty :math:`\pi` per scan.

    .. math::

        \text{cost:}\quad \min \sum_j \left(a^s s_j + a^t_j t_j + a^m m_j\right)
            + \pi \sum_i d_i u_i

    subject to

    .. math::

        \sum_{j \in N_i} x_{ij} + u_i = 1 \quad \forall i                 &\text{(coverage)}\\
        \sum_{i : j \in N_i} d_i x_{ij} \le \rho\,(K^s s_j + K^m m_j) \quad \forall j
                                                                          &\text{(capacity)}\\
        t_j \le s_j \le \bar s_j t_j,\quad v_j \le m_j \le \bar m v_j     &\text{(service)}\\
        t_j \le y_j,\quad v_j \le y_j,\quad y_j \le t_j + v_j             &\text{(open)}\\
        t_j + v_j \le 1 \ \text{if static and mobile may not share a site} &\\
        \textstyle\sum_j m_j \le D U,\quad \sum_j v_j \le U L            &\text{(fleet)}\\
        \textstyle\sum_j (k\, s_j + k^t_j t_j) \le B                      &\text{(budget)}\\
        \textstyle\sum_{j \in \text{lot } \ell} y_j \ge n_\ell,\quad \sum_j y_j = p
                                                                          &\text{(rules)}\\
        \textstyle\sum_{c} q_{jc} = \sum_i d_i x_{ij} / W,\quad
        \sum_j f(\tau_{jc})\, q_{jc} \le Q_c                              &\text{(tracer)}

    with :math:`U` mobile units of :math:`D` days/week visiting at most :math:`L` sites
    each, capital :math:`k` per scanner and :math:`k^t_j` per new static site, budget
    :math:`B`, per-lot minimum :math:`n_\ell`, :math:`W` working days/yr, decay factor
    :math:`f(\tau) = 2^{\tau / T_{1/2}}` over the delivery time :math:`\tau_{jc}` and daily
    capacity :math:`Q_c` (doses). Sites without a cyclotron within the primary delivery
    limit (and, when asked, a second one within the back-up limit) have :math:`y_j = 0`;
    forbidden sites too; locked sites have :math:`y_j = 1` (and :math:`s_j \ge 1` when
    locked static). Links :math:`x_{ij} \le y_j` are implied by the capacity rows when
    :math:`d_i > 0`; they are added for zero-demand zones (and for all pairs with
    ``strong_linking=True``). Valid region rows :math:`\sum_{j \in N_g} \rho (K^s s_j + K^m
    m_j) + \sum_{h : N_h \subseteq N_g} d_h u_h \ge \sum_{h : N_h \subseteq N_g} d_h` are added
    by default (``region_cuts``); they cut off no integer solution.

    Objectives
        ``"cost"``: as above. ``"drive_time"``: :math:`\min \sum_{ij} d_i \tau_{ij} x_{ij}
        + \pi_t \sum_i d_i u_i` (with :math:`\pi_t = 10 T` minutes), then a second stage
        minimises cost with the drive time held at its optimum. ``"max_coverage"``:
        :math:`\max \sum_{ij} p_i x_{ij}` with :math:`\sum_j y_j = p`, then the cost stage.
        ``"cover_then_cost"``: :math:`\min \sum_i d_i u_i`, then minimise cost with the
        uncovered demand held at its optimum (lexicographic).

    Merging
        For ``"cost"`` and ``"cover_then_cost"`` zones with the same :math:`N_i` are merged
        into one group with :math:`d_g = \sum d_i`: any solution maps to the group by
        demand-weighted shares and back by giving every zone its group's shares, with the
        same cost, capacity use and uncovered demand, so the optimum is unchanged.
        ``"drive_time"`` weights each pair by its own drive time, so only zones with the
        same sites *and* the same times merge (few do). ``"max_coverage"`` weights by
        population but capacity by demand, so it merges only when population / demand is
        the same in every group.

    Parameters
    ----------
    od
        Zone -> site drive times ``origin_id, destination_id, minutes`` (pairs beyond the
        standard are ignored; missing pairs mean unreachable).
    demand
        Zones: ``id, scans_per_year`` and optionally ``population``, ``lot``.
    sites
        Candidates: ``id`` and optionally ``name, lot, is_contract, max_static_scanners,
        allow_static, allow_mobile``.
    cyclotron_minutes
        Site -> cyclotron delivery times ``site_id, cyclotron_id, minutes``; None: no
        tracer constraint.
    od_all
        Zone -> site drive times with a longer cut-off (e.g. 90 min) for the population
        within 30/45/60/90 minutes; default ``od``.
    objective
        {"cost", "drive_time", "max_coverage", "cover_then_cost"}.
    drive_minutes
        Drive standard :math:`T`; default ``service.drive_standard_minutes``.
    p_sites
        Number of open sites :math:`p` (required for ``"max_coverage"``, optional else).
    static_scans_per_day, working_days_per_year, mobile_scans_per_day,
    mobile_weeks_per_year, target_utilisation
        Capacity inputs; defaults from ``scanners.*``.
    max_static_per_site
        :math:`\bar s` (``scanners.max_static_scanners_per_site``); a ``max_static_scanners``
        site column overrides it per site.
    max_mobile_days_per_site
        :math:`\bar m` (``scanners.mobile_max_visit_days_per_week``), at most 5.
    mobile_units
        Fleet size :math:`U`; None: no fleet limit. ``mobile_days_per_unit`` :math:`D`
        defaults to ``scanners.mobile_days_per_week``.
    max_sites_per_unit
        :math:`L`; None: no limit.
    allow_static_and_mobile
        Whether one site may have both static scanners and mobile days.
    static_capital_gbp, install_gbp, contract_install_gbp, annualisation_years,
    static_running_gbp_per_year, mobile_gbp_per_day
        Costs; defaults from ``costs.*``.
    tracer_primary_minutes, tracer_backup_minutes
        Delivery limits; defaults from ``tracer.max_delivery_minutes_*``.
    require_backup
        Also require a second cyclotron within ``tracer_backup_minutes``.
    cyclotron_doses_per_day
        Daily capacity :math:`Q_c` per cyclotron (mapping, or one number for all); None:
        no capacity constraint.
    decay_factor
        :math:`f(\tau)`; default :func:`netplan.tracer.decay_factor`.
    lock_open, lock_static, forbid
        Site ids opened, given at least one static scanner, or excluded.
    capital_budget_gbp
        :math:`B` (undiscounted capital of scanners and new sites); None: no limit.
    min_sites_per_lot
        ``{lot: n}``; needs a ``lot`` column in ``sites``.
    uncovered_penalty_gbp_per_scan
        :math:`\pi`; default (None): for ``"cost"``, first solve with hard coverage
        (every zone with an available candidate within the standard served in full), which
        is numerically far easier; if that is infeasible (or the pre-solve checks already
        show a shortfall), solve with :math:`\pi` = 1.5 x the dearest single addition of
        capacity (a new static site with one scanner, or one weekly mobile day) per scan,
        so leaving even one scan uncovered costs more than any one addition of capacity.
        The same value is used by the other objectives' uncovered terms. ``math.inf`` makes
        coverage hard: every zone with an available candidate within the standard must be
        served in full (the solve raises InfeasibleError when the rules prevent it); this
        is numerically easier for the solver than a very large penalty.
    merge_zones
        {"auto", True, False}: merge where exact ("auto"); True raises if not exact.
    strong_linking
        Add :math:`x_{ij} \le y_j` for every pair (tighter LP, larger model).
    covering_cuts
        Add :math:`\sum_{j \in N_i} y_j + u_i \ge 1` per zone or group with demand: valid
        for the integer model and lifts the LP bound towards the set-covering one; off by
        default: on the England benchmark it did not shorten the solve.
    region_cuts
        Add the capacity ("Hall") inequalities of the assignment for regions
        :math:`R = N_g`: :math:`\sum_{j \in R} \rho (K^s s_j + K^m m_j) + \sum_{h : N_h
        \subseteq R} d_h u_h \ge \sum_{h : N_h \subseteq R} d_h` (the zones that can only
        reach sites of :math:`R` must be served there). Valid for every solution, so the
        optimum is unchanged; implied by the LP relaxation, but as explicit rows they let
        the solver round them (a region needing 1.3 scanners needs 2, or 1 plus mobile
        days), which raises the bound. Only rows that rounding can lift (the need is not a
        whole number of scanners), for regions needing at least half a scanner, are added,
        one per distinct region. England benchmark (826 rows, HiGHS, 60 s, default start):
        gap 1.6 % with them, 4.4 % without (the restricted-MIP start is also better with
        them).

    Raises
    ------
    ValidationError
        Bad inputs (missing columns, unknown ids, bad values).
    InfeasibleError
        Rules that contradict each other (a locked site forbidden or without tracer,
        ``p_sites`` or a lot minimum above the sites available, a budget below the locks).

    Examples
    --------
    >>> import pandas as pd
    >>> od = pd.DataFrame({"origin_id": ["a", "b"], "destination_id": ["S", "S"],
    ...                    "minutes": [10.0, 20.0]})
    >>> demand = pd.DataFrame({"id": ["a", "b"], "scans_per_year": [100.0, 100.0]})
    >>> sites = pd.DataFrame({"id": ["S"]})
    >>> model = PlacementModel.from_od(od, demand, sites, static_scans_per_day=1,
    ...     working_days_per_year=250, target_utilisation=1.0, max_static_per_site=2,
    ...     static_capital_gbp=1000, install_gbp=0, annualisation_years=10,
    ...     static_running_gbp_per_year=100, mobile_gbp_per_day=1e9)
    >>> result = model.solve()
    >>> result.sites["static_scanners"].tolist(), result.totals["annual_cost_gbp"]
    ([1], 200.0)
    """

    # The constructor, with the arguments above, is PlacementInputs.__init__ (it reads and
    # checks them); PlacementFormulation._build, its last step, builds the formulation.

    @classmethod
    def from_od(
        cls,
        od: pd.DataFrame,
        demand: pd.DataFrame,
        sites: pd.DataFrame,
        **options: Any,
    ) -> PlacementModel:
        """Build the model from drive-time tables and zone/site frames (see the class)."""
        return cls(od, demand, sites, **options)

    # ------------------------------------------------------------------ warm start
    def greedy_start(self) -> np.ndarray | None:
        """A feasible starting solution: greedy capacitated covering with static scanners.

        Repeatedly opens the available site that reaches the most unserved demand, fills
        its static capacity (up to the per-site maximum) with the nearest unserved groups,
        and buys just enough scanners. Locks are honoured. The start is checked against
        every row and dropped (None) when it breaks one (budget, lot minimums, p_sites,
        cyclotron capacity ...), in which case the solver starts on its own.

        Returns
        -------
        values
            Column values, or None.
        """
        n, off = self.n_sites, self._off
        rho = self.target_utilisation
        ks = rho * self.static_scans_per_day * self.working_days_per_year
        if ks <= 0:
            return None
        cap = np.where(self.available, ks * self.smax, 0.0)
        remaining = self.gd * self.group_coverable
        taken = np.zeros(self.n_group_pairs)
        load = np.zeros(n)
        opened = np.zeros(n, bool)
        order = np.lexsort((self.gp_minutes, self.gp_site))  # by site, nearest first
        site_sorted = self.gp_site[order]
        bounds = np.searchsorted(site_sorted, np.arange(n + 1))
        must = np.zeros(n, bool)
        must[self.lock_open] = True
        must[self.lock_static] = True
        while True:
            reach = np.bincount(self.gp_site, weights=remaining[self.gp_group], minlength=n)
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
                g = self.gp_group[k]
                amount = min(remaining[g], left)
                if amount > 0:
                    taken[k] += amount
                    remaining[g] -= amount
                    left -= amount
                    load[j] += amount
        values = np.zeros(self._ncol)
        scanners = np.ceil(load / ks - 1e-9)
        scanners[opened & must] = np.maximum(scanners[opened & must], 1)
        scanners = np.minimum(scanners, self.smax)
        static = scanners > 0
        values[off["s"] : off["s"] + n] = scanners
        values[off["t"] : off["t"] + n] = static
        values[off["y"] : off["y"] + n] = static
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(self.gd[self.gp_group] > 0, taken / self.gd[self.gp_group], 0.0)
        values[self._x0 : self._u0] = share
        covered = np.bincount(self.gp_group, weights=share, minlength=self.n_groups)
        values[self._u0 : self._u0 + self.n_groups] = np.clip(1.0 - covered, 0.0, 1.0)
        if self.cyc_pairs is not None and len(self.cyc_pairs):
            cp = self.cyc_pairs
            best = cp.sort_values(["pos", "factor"]).groupby("pos").head(1)
            doses = load / self.working_days_per_year
            q = np.zeros(len(cp))
            q[best.index.to_numpy()] = doses[best["pos"].to_numpy()]
            values[self._q0 :] = q
        mat = self.matrix
        act = mat.A @ values
        ok = (
            np.all(act >= mat.row_lower - 1e-6)
            and np.all(act <= mat.row_upper + 1e-6)
            and np.all(values >= mat.lower - 1e-9)
            and np.all(values <= mat.upper + 1e-9)
        )
        if not ok:
            logger.info("greedy start breaks a rule; the solver starts without it")
            return None
        return values

    def rounding_start(self, lp_values: np.ndarray) -> np.ndarray | None:
        """A starting solution from the LP relaxation: keep its assignment, round capacity up.

        Each site's LP load gets the cheapest integer mix of static scanners and mobile days
        that carries it under the utilisation ceiling (demand beyond the site's maximum is
        left uncovered); if the fleet is exceeded, the sites where mobile days save least
        switch to static only. Returns None when the result breaks a row.
        """
        n, off = self.n_sites, self._off
        rho = self.target_utilisation
        ks = rho * self.static_scans_per_day * self.working_days_per_year
        km = rho * self.mobile_scans_per_day * self.mobile_weeks_per_year
        a_s = self.static_capital_gbp / self.annualisation_years + self.static_running_gbp_per_year
        a_m = self.mobile_gbp_per_day * self.mobile_weeks_per_year
        share = np.clip(lp_values[self._x0 : self._u0], 0.0, 1.0)
        share[share < 1e-7] = 0.0
        load = np.bincount(self.gp_site, weights=self.gd[self.gp_group] * share, minlength=n)
        s = np.zeros(n)
        m = np.zeros(n)
        saving = np.zeros(n)
        static_only = np.zeros(n)
        for j in np.flatnonzero(load > 1e-9):
            best, best_no_m = None, None
            for sj in range(int(self.smax[j]) + 1):
                for mj in range(int(self.mmax[j]) + 1):
                    if sj and mj and not self.allow_static_and_mobile:
                        continue
                    install = self.install_site_gbp[j] / self.annualisation_years if sj else 0.0
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
        if self.mobile_units is not None:
            days = self.mobile_days_per_unit * self.mobile_units
            sites_cap = (
                self.max_sites_per_unit * self.mobile_units
                if self.max_sites_per_unit is not None
                else n
            )
            for j in np.argsort(saving):
                if m.sum() <= days and (m > 0).sum() <= sites_cap:
                    break
                if m[j] > 0:
                    m[j], s[j] = 0, static_only[j]
        for j in set(self.lock_open.tolist()) | set(self.lock_static.tolist()):
            if (s[j] == 0 and m[j] == 0) or j in set(self.lock_static.tolist()):
                s[j] = max(s[j], 1)
        capacity = ks * s + km * m
        scale_down = np.where(load > capacity + 1e-9, capacity / np.maximum(load, 1e-12), 1.0)
        share = share * scale_down[self.gp_site]
        values = np.zeros(self._ncol)
        values[off["s"] : off["s"] + n] = s
        values[off["m"] : off["m"] + n] = m
        values[off["t"] : off["t"] + n] = s > 0
        values[off["v"] : off["v"] + n] = m > 0
        values[off["y"] : off["y"] + n] = (s > 0) | (m > 0)
        values[self._x0 : self._u0] = share
        covered = np.bincount(self.gp_group, weights=share, minlength=self.n_groups)
        values[self._u0 : self._u0 + self.n_groups] = np.clip(1.0 - covered, 0.0, 1.0)
        if self.cyc_pairs is not None and len(self.cyc_pairs):
            values[self._q0 :] = (
                np.clip(lp_values[self._q0 :], 0.0, None)
                * scale_down[self.cyc_pairs["pos"].to_numpy()]
            )
        mat = self.matrix
        act = mat.A @ values
        if (
            np.all(act >= mat.row_lower - 1e-6)
            and np.all(act <= mat.row_upper + 1e-6)
            and np.all(values >= mat.lower - 1e-9)
            and np.all(values <= mat.upper + 1e-9)
        ):
            return values
        logger.info("LP-rounding start breaks a rule; trying the greedy start")
        return None

    # ------------------------------------------------------------------ solving
    def solve(
        self,
        *,
        solver: str = "cbc",
        time_limit_s: float | None = None,
        mip_gap: float | None = None,
        threads: int | None = None,
        warm_start: bool | None = None,
        reassign: bool = True,
        decompose: bool | None = None,
    ) -> PlacementResult:
        """Solve the model and return a frozen :class:`PlacementResult`.

        Parameters
        ----------
        solver
            {"cbc", "highs"}: CBC via PuLP (``pulp.PULP_CBC_CMD``) or HiGHS via ``highspy``
            directly on the matrices (fast at scale).
        time_limit_s
            Wall-clock limit per stage; default ``netplan.settings.solver_time_limit_s``.
        mip_gap
            Relative MIP gap at which to stop; a result above the optimality tolerance is
            reported with status FEASIBLE and its gap, never as optimal.
        threads
            Solver threads (HiGHS, CBC); default the solver's own.
        warm_start
            HiGHS only (default None: on for ``"cost"`` and ``"cover_then_cost"``).
            Spend up to a quarter of the time limit on a starting incumbent for the cost
            stage: the plan of the site-level master problem
            (:mod:`netplan.optimise._master`, a sixth of the limit) and the MIP restricted
            to its sites; without cyclotron capacity only. Otherwise (or if that fails, for
            ``"cost"``) the MIP restricted to the sites the LP relaxation uses, falling
            back to :meth:`rounding_start` / :meth:`greedy_start`. The full model is then
            solved over every site, so the result and its gap stay exact; the start's time
            counts in the runtime of the stage it serves. England default at 60 s: £64.1M,
            gap 3.3 % with the start; £66.1-66.3M, gap 6.2-6.4 % without.
        reassign
            For ``"cost"`` and ``"cover_then_cost"`` without cyclotron capacity, whose cost
            does not depend on which open site serves a zone: after the solve, send every
            zone to the nearest open site with room (one LP minimising scan-minutes over
            the zones, :func:`netplan.optimise._assign.assign`). Cost, capacity and
            coverage are unchanged; the MIP's own assignment is arbitrary among the
            feasible ones (a zone could be sent 55 minutes away past a site with room).
        decompose
            HiGHS only (default None: on where it applies). Solve ``"cost"`` with hard
            coverage and ``"cover_then_cost"`` (when every coverable zone can be served)
            without cyclotron capacity by the exact site decomposition of
            :mod:`netplan.optimise._decompose`: a site-level master with capacity rows
            for site sets, checked by maximum flow, re-solved until its bound meets the
            best plan. Same optimum, proven far faster at scale (England default: proven
            optimal in 23-39 s where the monolithic MIP ends at a 2-3 % gap in 60 s). If no
            plan serves every coverable zone, or none is found in time, the monolithic
            MIP is solved instead. ``False`` always solves the monolithic MIP.

        Returns
        -------
        result
            Never mutates the model; solving twice gives two independent results.

        Raises
        ------
        InfeasibleError
            If the rules cannot all hold (the uncovered slack keeps coverage feasible, so
            this comes from locks, budget, lot minimums, p_sites or the fleet).
        SolverError
            If the solver stops without any solution (e.g. time limit too short).
        """
        name = check_solver(solver)
        run = functools.partial(
            self._solve, name, time_limit_s, mip_gap, threads, warm_start, reassign=reassign
        )
        if self._auto_penalty and self.objective == "cost" and not self._shortfall:
            # try hard coverage first (numerically far easier), fall back to the penalty
            try:
                result = run(hard=True, decompose=decompose)
                note = "every coverable zone served in full (hard coverage)"
                return dataclasses.replace(result, messages=(*result.messages, note))
            except InfeasibleError as exc:
                logger.info("hard coverage infeasible (%s); solving with the penalty", exc)
                note = (
                    "coverage of every coverable zone is impossible under the rules; "
                    f"solved with an uncovered penalty of £{self._penalty:,.0f} per scan"
                )
                result = run(hard=False, decompose=False)
                return dataclasses.replace(result, messages=(*result.messages, note))
        return run(hard=math.isinf(self._penalty), decompose=decompose)

    def _solve(
        self,
        name: str,
        time_limit_s: float | None,
        mip_gap: float | None,
        threads: int | None,
        warm_start: bool | None,
        *,
        hard: bool,
        reassign: bool = True,
        decompose: bool | None = None,
    ) -> PlacementResult:
        if name == "highs" and decompose is not False and self._decomposable(hard):
            result = self._solve_by_sites(time_limit_s, mip_gap, threads, reassign)
            if result is not None:
                return result
        stages_out: list[dict[str, Any]] = []
        matrix = self.matrix
        if hard:
            upper = matrix.upper.copy()
            u = slice(self._u0, self._u0 + self.n_groups)
            upper[u] = np.where(self.group_coverable, 0.0, 1.0)
            matrix = _Matrix(
                matrix.cost,
                matrix.lower,
                upper,
                matrix.integer,
                matrix.A,
                matrix.row_lower,
                matrix.row_upper,
                matrix.names,
            )
        values: np.ndarray | None = None
        build_s = self.build_time_s
        infos: list[SolveInfo] = []
        from .. import settings

        start = None
        limit = float(settings.solver_time_limit_s if time_limit_s is None else time_limit_s)
        first_limit = limit
        heuristic_s = 0.0
        # The start is built for the cost objective; for lexicographic objectives the cost
        # stage would otherwise start from the first stage's (cost-blind) solution with
        # HiGHS's own heuristics off, which measured worse on the England scenario.
        stages = self._stages()
        if hard:
            for _, c in stages:
                c[self._u0 : self._u0 + self.n_groups] = 0.0
        cost_types = ("cost", "cover_then_cost")
        use_start = name == "highs" and (
            warm_start is True or (warm_start is None and self.objective in cost_types)
        )
        # the stage the start is built for (the cost stage), which pays for its time
        start_stage = len(stages) - 1 if self.objective == "cover_then_cost" else 0
        if use_start:
            t_h = time.perf_counter()
            start = self._start_solution(matrix, hard, limit, threads, stages[start_stage][1])
            heuristic_s = time.perf_counter() - t_h
            first_limit = max(limit - heuristic_s, 1.0)
        kept_start = start
        for k, (label, c) in enumerate(stages):
            stage = _Matrix(
                c,
                matrix.lower,
                matrix.upper,
                matrix.integer,
                matrix.A,
                matrix.row_lower,
                matrix.row_upper,
                matrix.names,
            )
            t0 = time.perf_counter()
            if name == "highs":
                # with a good start, HiGHS's own sub-MIP heuristics (RINS, RENS, root
                # reduced cost) cost ~20 s of root time at England scale for little gain;
                # the time goes to the bound instead
                opts = _WITH_START_OPTIONS if start is not None else None
                info, values, extra_build = _solve_highs(
                    stage, first_limit if k == start_stage else limit, mip_gap, threads, start, opts
                )
                start = values if use_start else None  # the next stage starts from here
                if use_start and kept_start is not None and k + 1 < len(stages):
                    # a cost-stage start that keeps this stage's optimum beats this stage's
                    # (cost-blind) solution as the next stage's start
                    tol = 1e-7 * max(1.0, abs(info.objective)) + 1e-6
                    if float(c @ kept_start) <= info.objective + tol:
                        start = kept_start
            else:
                info, values, extra_build = _solve_cbc(stage, time_limit_s, mip_gap, threads)
            build_s += extra_build
            logger.info("stage %s: %s in %.2f s", label, info.status, time.perf_counter() - t0)
            if k == start_stage and heuristic_s:  # the start's own solves count too
                info = SolveInfo(
                    info.status,
                    info.objective,
                    info.mip_gap,
                    info.runtime_s + heuristic_s,
                    info.solver_status,
                )
            infos.append(info)
            stages_out.append(
                {
                    "stage": label,
                    "status": str(info.status),
                    "objective": info.objective,
                    "mip_gap": info.mip_gap,
                    "runtime_s": info.runtime_s,
                }
            )
            raise_for_status(
                info, model=f"placement model ({label} stage)", hint=self._infeasible_hint()
            )
            if k + 1 < len(stages):
                # hold this stage's objective at the value found (incumbent) for the next
                tol = 1e-7 * max(1.0, abs(info.objective)) + 1e-6
                matrix = matrix.with_row(c, -np.inf, info.objective + tol)
        assert values is not None
        worst = Status.OPTIMAL
        if any(i.status != Status.OPTIMAL for i in infos):
            worst = Status.FEASIBLE
        share, note = None, None
        if reassign and self.objective in ("cost", "cover_then_cost") and self.cyc_pairs is None:
            t0 = time.perf_counter()
            share = self._reassign(values)
            took = time.perf_counter() - t0
            last = infos[-1]
            infos[-1] = dataclasses.replace(last, runtime_s=last.runtime_s + took)
            note = f"zones sent to the nearest open site with room (assignment LP, {took:.1f} s)"
        result = self._result(values, name, infos, stages_out, worst, build_s, share=share)
        if note:
            result = dataclasses.replace(result, messages=(*result.messages, note))
        return result

    def _decomposable(self, hard: bool) -> bool:
        """Whether the exact site decomposition applies (see ``solve(decompose=)``)."""
        if self.cyc_pairs is not None:
            return False
        return (self.objective == "cost" and hard) or self.objective == "cover_then_cost"

    def _solve_by_sites(
        self,
        time_limit_s: float | None,
        mip_gap: float | None,
        threads: int | None,
        reassign: bool,
    ) -> PlacementResult | None:
        """Solve by :class:`~netplan.optimise._decompose.SiteDecomposition`; None when no
        plan serves every coverable zone (or none was found in time)."""
        from .. import settings
        from ._assign import assign
        from ._decompose import SiteDecomposition

        limit = float(settings.solver_time_limit_s if time_limit_s is None else time_limit_s)
        t0 = time.perf_counter()
        cost = self._cost_vector()
        dec = SiteDecomposition(self, cost)
        reserve = min(limit / 4, _DECOMPOSE_RESERVE_S)
        info, plan, counts = dec.solve(
            limit - reserve - (time.perf_counter() - t0), mip_gap, threads
        )
        if info.status == Status.INFEASIBLE:  # no plan serves every coverable zone
            logger.info("decomposition: hard coverage infeasible; solving the monolithic MIP")
            return None
        values = None
        if plan is not None:
            values = np.zeros(self._ncol)
            values[dec.cuts.cols] = plan
        if info.status != Status.OPTIMAL and dec.last_plan is not None:
            # not proven in time: the MIP over the last master plan's sites often finds a
            # better plan than the master's checked ones; the master's bound still holds
            used = dec.cuts.capacity(dec.last_plan) > 0
            left = limit - (time.perf_counter() - t0)
            other = self._restricted_plan(used, dec.must_serve, cost, left, threads)
            if other is not None and (values is None or cost @ other < cost @ values):
                values = other
                logger.info("decomposition: the last master plan's sites gave %.6g", cost @ other)
        if values is None:
            logger.info("decomposition: %s; solving the monolithic MIP", info.solver_status)
            return None
        objective = float(cost @ values)
        gap = math.inf
        if math.isfinite(info.dual_bound):
            gap = max(0.0, (objective - info.dual_bound) / max(abs(objective), 1e-9))
        info = dataclasses.replace(
            info, objective=objective, mip_gap=gap, status=status_from_gap(gap, proven=True)
        )
        u = slice(self._u0, self._u0 + self.n_groups)
        capacity = dec.cuts.capacity(values)
        # a group is served iff an open site is within reach (zones without demand under
        # "cover_then_cost" may be left unserved; all others are served in full)
        reach = np.bincount(
            self.gp_group, weights=(capacity > 0)[self.gp_site], minlength=self.n_groups
        )
        values[u] = np.where(reach > 0, 0.0, 1.0)
        share = assign(self, capacity, values[u])
        if not reassign:
            logger.info("decomposition: zones always go to the nearest site with room")
        runtime = time.perf_counter() - t0
        info = dataclasses.replace(info, runtime_s=runtime)
        infos, stages = [], []
        if self.objective == "cover_then_cost":
            # every coverable zone served: the first stage's minimum (zero) is reached
            infos.append(SolveInfo(Status.OPTIMAL, 0.0, 0.0, 0.0, "optimal", 0.0))
            stages.append(
                {
                    "stage": "uncovered_scans",
                    "status": str(Status.OPTIMAL),
                    "objective": 0.0,
                    "mip_gap": 0.0,
                    "runtime_s": 0.0,
                }
            )
        infos.append(info)
        stages.append(
            {
                "stage": "cost",
                "status": str(info.status),
                "objective": info.objective,
                "mip_gap": info.mip_gap,
                "runtime_s": runtime,
            }
        )
        result = self._result(
            values, "highs", infos, stages, info.status, self.build_time_s, share=share
        )
        note = (
            f"solved by site decomposition: {counts['rounds']} master solves, "
            f"{counts['plans']} plans checked by maximum flow, {counts['rows']} capacity rows; "
            f"bound £{info.dual_bound:,.0f}, zones sent to the nearest open site with room"
        )
        return dataclasses.replace(result, messages=(*result.messages, note))

    def _restricted_plan(
        self,
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
        upper = self._only_sites(self.matrix, keep)
        u = slice(self._u0, self._u0 + self.n_groups)
        upper[u] = np.where(must_serve, 0.0, upper[u])
        sub = dataclasses.replace(self.matrix, cost=cost, upper=upper)
        info, values, _ = _solve_highs(sub, time_limit_s, 0.01, threads)
        logger.info("MIP over %d sites: %s, %.6g", int(keep.sum()), info.status, info.objective)
        return values if info.status in (Status.OPTIMAL, Status.FEASIBLE) else None

    def _reassign(self, values: np.ndarray) -> np.ndarray:
        """Zone-pair shares minimising scan-minutes for the solved sites (see ``solve``)."""
        from ._assign import assign

        off, n, rho = self._off, self.n_sites, self.target_utilisation
        s = np.round(values[off["s"] : off["s"] + n])
        m = np.round(values[off["m"] : off["m"] + n])
        capacity = rho * (
            self.static_scans_per_day * self.working_days_per_year * s
            + self.mobile_scans_per_day * self.mobile_weeks_per_year * m
        )
        u = np.clip(values[self._u0 : self._u0 + self.n_groups], 0.0, 1.0)
        return assign(self, capacity, u)

    def _start_solution(
        self,
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
        :meth:`rounding_start` and :meth:`greedy_start`.
        """
        t0 = time.perf_counter()
        if (
            cost is not None
            and self.cyc_pairs is None
            and self.objective
            in (
                "cost",
                "cover_then_cost",
            )
        ):
            values = self._master_start(limit, threads, cost)
            if values is not None or self.objective == "cover_then_cost":
                return values
        first = self._stages()[0][1]
        if hard:
            first[self._u0 : self._u0 + self.n_groups] = 0.0
        relaxed = dataclasses.replace(matrix, cost=first, integer=np.zeros_like(matrix.integer))
        lp_info, lp_values, _ = _solve_highs(relaxed, limit / 6, None, threads)
        if lp_info.solver_status != "Optimal":
            return self.greedy_start()
        n, off = self.n_sites, self._off
        s = lp_values[off["s"] : off["s"] + n]
        m = lp_values[off["m"] : off["m"] + n]
        keep = (s + m > 1e-6) | (lp_values[off["y"] : off["y"] + n] > 1e-6)
        sub = dataclasses.replace(matrix, cost=first, upper=self._only_sites(matrix, keep))
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
        start = self.rounding_start(lp_values)
        return self.greedy_start() if start is None else start

    def _master_start(
        self, limit: float, threads: int | None, cost: np.ndarray
    ) -> np.ndarray | None:
        """The MIP over the sites of the master's plan, every coverable zone served."""
        from ._master import master_sites

        t0 = time.perf_counter()
        keep = master_sites(self, cost, hard=True, time_limit_s=limit / 6, threads=threads)
        if keep is None:
            return None
        left = limit / 4 - (time.perf_counter() - t0)
        return self._restricted_plan(keep, self.group_coverable, cost, left, threads)

    # ------------------------------------------------------------------ result
    def _result(
        self,
        values: np.ndarray,
        solver: str,
        infos: list[SolveInfo],
        stages: list[dict[str, Any]],
        status: Status,
        build_s: float,
        share: np.ndarray | None = None,
    ) -> PlacementResult:
        off, n = self._off, self.n_sites
        sites = np.arange(n)
        s = np.round(values[off["s"] + sites]).astype(int)
        m = np.round(values[off["m"] + sites]).astype(int)
        t = np.round(values[off["t"] + sites]).astype(int)
        if share is None:
            x = np.clip(values[self._x0 : self._u0], 0.0, 1.0)
            # original pairs: flow of zone i to site j = d_i * x_{g(i) j}
            rank = np.arange(len(self.pz)) - self._zstart[self.pz]
            gpair = self.gstart[self.zone_group[self.pz]] + rank
            share = x[gpair]
        flow = self.d[self.pz] * share
        assigned = np.bincount(self.ps, weights=flow, minlength=n)
        tmin = np.bincount(self.ps, weights=flow * self.pt, minlength=n)
        served = share > 1e-6
        max_minutes = np.full(n, np.nan)
        if served.any():
            mx = pd.Series(self.pt[served]).groupby(self.ps[served]).max()
            max_minutes[mx.index.to_numpy()] = mx.to_numpy()
        cap_s = self.static_scans_per_day * self.working_days_per_year
        cap_m = self.mobile_scans_per_day * self.mobile_weeks_per_year
        capacity = cap_s * s + cap_m * m
        decision = np.where(
            s > 0, np.where(m > 0, "both", "static"), np.where(m > 0, "mobile", "closed")
        )
        scanner_cost = self.static_capital_gbp / self.annualisation_years
        site_cost = (
            (scanner_cost + self.static_running_gbp_per_year) * s
            + self.install_site_gbp / self.annualisation_years * t
            + self.mobile_gbp_per_day * self.mobile_weeks_per_year * m
        )
        tracer_source = self.tracer_source.copy()
        tracer_minutes = self.tracer_minutes.copy()
        if self.cyc_pairs is not None and len(self.cyc_pairs):
            q = values[self._q0 : self._q0 + len(self.cyc_pairs)]
            cp = self.cyc_pairs.assign(q=q)
            main = cp.sort_values("q", ascending=False, kind="stable").groupby("pos").head(1)
            main = main[main["q"] > 1e-9]
            tracer_source[main["pos"].to_numpy()] = main["cyclotron_id"].to_numpy()
            tracer_minutes[main["pos"].to_numpy()] = main["minutes"].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            site_frame = pd.DataFrame(
                {
                    "site_id": self.site_ids,
                    "name": self.site_name,
                    "lot": self.site_lot,
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
                    "backup_source": self.backup_source,
                    "backup_minutes": self.backup_minutes,
                    "annual_cost_gbp": site_cost,
                    "available": self.available,
                }
            )
        zones = self._zone_frame(share, n)
        totals = self._totals(site_frame, zones, s, t, m, decision)
        last = infos[-1]
        return PlacementResult(
            sites=site_frame,
            zones=zones,
            totals=totals,
            objective=self.objective,
            objective_value=float(last.objective),
            status=status,
            mip_gap=last.mip_gap,
            runtime_s=float(sum(i.runtime_s for i in infos)),
            build_time_s=float(build_s),
            solver=solver,
            merged=self.merged,
            n_groups=self.n_groups,
            messages=tuple(self.messages),
            stages=tuple(stages),
        )

    def _zone_frame(self, share: np.ndarray, n: int) -> pd.DataFrame:
        nz = self.n_zones
        best_site = np.full(nz, -1, np.int64)
        best_share = np.zeros(nz)
        best_minutes = np.full(nz, np.nan)
        if len(share):
            order = np.lexsort((-share, self.pz))  # by zone, largest share first
            firsts = order[np.r_[True, self.pz[order][1:] != self.pz[order][:-1]]]
            ok = share[firsts] > 1e-6
            z = self.pz[firsts][ok]
            best_site[z] = self.ps[firsts][ok]
            best_share[z] = share[firsts][ok]
            best_minutes[z] = self.pt[firsts][ok]
        total_share = np.bincount(self.pz, weights=share, minlength=nz)
        uncovered = np.clip(1.0 - total_share, 0.0, 1.0)
        covered = uncovered <= 1e-3
        reason = self.zone_reason.copy()
        left = ~covered & (reason == "")
        reason[left] = (
            "not assigned: capacity, budget, fleet or tracer limits, or covering "
            "it costs more than the uncovered penalty"
        )
        reason[covered] = ""
        return pd.DataFrame(
            {
                "zone_id": self.zone_ids,
                "site_id": np.where(best_site >= 0, self.site_ids[np.maximum(best_site, 0)], None),
                "share": best_share,
                "minutes": best_minutes,
                "covered": covered,
                "uncovered_share": np.where(covered, 0.0, uncovered),
                "uncovered_reason": reason,
                "scans_per_year": self.d,
                "population": self.pop,
                "group": self.zone_group,
            }
        )

    def _totals(
        self,
        site_frame: pd.DataFrame,
        zones: pd.DataFrame,
        s: np.ndarray,
        t: np.ndarray,
        m: np.ndarray,
        decision: np.ndarray,
    ) -> dict[str, float]:
        capital_py = float(self.static_capital_gbp / self.annualisation_years * s.sum())
        install_py = float((self.install_site_gbp * t).sum() / self.annualisation_years)
        running_py = float(self.static_running_gbp_per_year * s.sum())
        mobile_py = float(self.mobile_gbp_per_day * self.mobile_weeks_per_year * m.sum())
        annual = capital_py + install_py + running_py + mobile_py
        assigned = float(site_frame["assigned_scans_per_year"].sum())
        demand = float(self.d.sum())
        totals: dict[str, float] = {
            "annual_cost_gbp": annual,
            "capital_gbp_per_year": capital_py,
            "install_gbp_per_year": install_py,
            "running_gbp_per_year": running_py,
            "mobile_gbp_per_year": mobile_py,
            "capital_gbp": float(
                self.static_capital_gbp * s.sum() + (self.install_site_gbp * t).sum()
            ),
            "cost_per_scan_gbp": annual / assigned if assigned > 0 else math.nan,
            "demand_scans_per_year": demand,
            "assigned_scans_per_year": assigned,
            "uncovered_scans_per_year": max(demand - assigned, 0.0),
            "covered_share_of_demand": assigned / demand if demand > 0 else math.nan,
            "population": float(self.pop.sum()),
            "open_sites": float((decision != "closed").sum()),
            "static_sites": float((s > 0).sum()),
            "mobile_sites": float((m > 0).sum()),
            "static_scanners": float(s.sum()),
            "mobile_days_per_week": float(m.sum()),
        }
        od = self._od_all
        pop_total = float(self.pop.sum())
        reach_max = float(od["minutes"].max()) if len(od) else 0.0
        for kind, open_mask in (("", decision != "closed"), ("_static", s > 0)):
            sub = od[open_mask[od["site"].to_numpy()]]
            nearest = np.full(self.n_zones, np.inf)
            if len(sub):
                mins = sub.groupby("zone")["minutes"].min()
                nearest[mins.index.to_numpy()] = mins.to_numpy()
            for limit in THRESHOLDS_MINUTES:
                within = float(self.pop[nearest <= limit + _EPS].sum())
                unknown = limit > reach_max + _EPS and within < pop_total
                value = math.nan if unknown else within
                totals[f"population_within_{limit}_minutes{kind}"] = value
                totals[f"share_within_{limit}_minutes{kind}"] = (
                    value / pop_total if pop_total > 0 else math.nan
                )
        return totals

    def __repr__(self) -> str:
        return (
            f"PlacementModel({self.objective}: {self.n_zones:,} zones ({self.n_groups:,} "
            f"groups) x {self.n_sites} sites, {self.n_group_pairs:,} pairs within "
            f"{self.drive_minutes:g} min, {len(self.matrix.cost):,} columns, "
            f"{self.matrix.A.shape[0]:,} rows)"
        )


__all__ = ["OBJECTIVES", "PlacementModel", "SolverError"]
