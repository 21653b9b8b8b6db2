"""The placement model: static scanners and mobile visit days under a drive-time standard.

This module owns the public :class:`PlacementModel` only: its documentation and the
choice of solve strategy in :meth:`PlacementModel.solve` (hard coverage first; the site
decomposition where it applies, else the monolithic MIP; then the zones' reassignment
and the result). The pieces live beside it: inputs (``_inputs``), zone merging
(``_zones``), the formulation (``_formulation``), the strategies (``_monolithic``,
``_decompose``, with ``_starts``, ``_master``, ``_assign``), the result builder
(``_result_builder``) and their shared types (``_core``).

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
from typing import Any

import numpy as np
import pandas as pd

# The `name as name` imports re-export what this module held before it was split into the
# modules it imports from, so that callers' imports from here keep working.
from .._errors import InfeasibleError
from .._errors import SolverError as SolverError
from .._errors import ValidationError as ValidationError
from .._validate import check_columns as check_columns
from .._validate import check_unique as check_unique
from ._assign import reassign as reassign_zones
from ._base import SolveInfo as SolveInfo
from ._base import Status as Status
from ._base import check_solver
from ._base import default as default
from ._base import raise_for_status as raise_for_status
from ._base import status_from_gap as status_from_gap
from ._core import EPS, SITE_BLOCKS, RawSolution, Strategy
from ._core import OBJECTIVES as OBJECTIVES
from ._decompose import _DECOMPOSE_RESERVE_S as _DECOMPOSE_RESERVE_S
from ._formulation import _REGION_MIN_SCANNERS as _REGION_MIN_SCANNERS
from ._formulation import PlacementFormulation
from ._inputs import _INFEASIBLE as _INFEASIBLE
from ._inputs import _as_set as _as_set
from ._matrix import _Matrix as _Matrix
from ._matrix import _Rows as _Rows
from ._matrix import _solve_cbc as _solve_cbc
from ._matrix import _solve_highs as _solve_highs
from ._monolithic import _WITH_START_OPTIONS as _WITH_START_OPTIONS
from ._monolithic import MonolithicMIP
from ._result_builder import THRESHOLDS_MINUTES as THRESHOLDS_MINUTES
from ._result_builder import build_result
from ._site_strategy import DecompositionStrategy
from ._starts import greedy_start, rounding_start
from ._travel import with_travel
from .result import PlacementResult

logger = logging.getLogger(__name__)

_EPS, _SITE_BLOCKS = EPS, SITE_BLOCKS  # their names here before the split
_COST_TYPES = ("cost", "cover_then_cost")


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
        \textstyle\sum_{c} q_{jc} = \rho\,(K^s s_j + K^m m_j) / W,\quad
        \sum_j f(\tau_{jc})\, q_{jc} \le Q_c                              &\text{(tracer)}

    with :math:`U` mobile units of :math:`D` days/week visiting at most :math:`L` sites
    each, capital :math:`k` per scanner and :math:`k^t_j` per new static site, budget
    :math:`B`, per-lot minimum :math:`n_\ell`, :math:`W` working days/yr, decay factor
    :math:`f(\tau) = 2^{\tau / T_{1/2}}` over the delivery time :math:`\tau_{jc}` and daily
    capacity :math:`Q_c` (dose-equivalents at dispatch). A site orders the doses of its
    planned throughput (its scanners and visit days at the target utilisation), so the
    tracer rows involve only site decisions and the site decomposition covers them. Sites
    without a cyclotron within the primary delivery
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
        allow_static, allow_mobile, locked`` (True: kept open, as ``lock_open``) and
        ``install_saving`` (True: the site has a PET-CT suite and pays
        ``contract_install_gbp``; default: the ``is_contract`` sites).
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
    travel_cost_tolerance
        For ``"cost"`` and ``"cover_then_cost"``: after the cost stage, look for the plan
        with the least patient travel (demand-weighted drive minutes) among those that
        serve the same zones and cost at most ``(1 + travel_cost_tolerance)`` times the
        cost plan, by the deterministic local search of :mod:`netplan.optimise._travel`
        (moves of one scanner or mobile day at a time, each plan's assignment one LP).
        ``0`` breaks ties among equal-cost plans by travel; None (default) skips the
        stage. The result's ``travel`` holds the stage's figures and its path.
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
        return greedy_start(self)

    def rounding_start(self, lp_values: np.ndarray) -> np.ndarray | None:
        """A starting solution from the LP relaxation: keep its assignment, round capacity up.

        Each site's LP load gets the cheapest integer mix of static scanners and mobile days
        that carries it under the utilisation ceiling (demand beyond the site's maximum is
        left uncovered); if the fleet is exceeded, the sites where mobile days save least
        switch to static only. Returns None when the result breaks a row.
        """
        return rounding_start(self, lp_values)

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
        max_rounds: int | None = None,
        start: PlacementResult | pd.DataFrame | None = None,
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
            For ``"cost"`` and ``"cover_then_cost"``, whose cost
            does not depend on which open site serves a zone: after the solve, send every
            zone to the nearest open site with room (one LP minimising scan-minutes over
            the zones, :func:`netplan.optimise._assign.assign`). Cost, capacity and
            coverage are unchanged; the MIP's own assignment is arbitrary among the
            feasible ones (a zone could be sent 55 minutes away past a site with room).
        decompose
            HiGHS only (default None: on where it applies). Solve ``"cost"`` with hard
            coverage and ``"cover_then_cost"`` (when every coverable zone can be served)
            by the exact site decomposition of
            :mod:`netplan.optimise._decompose`: a site-level master with capacity rows
            for site sets, checked by maximum flow, re-solved until its bound meets the
            best plan. Same optimum, proven far faster at scale (England default: proven
            optimal in 8-10 s where the monolithic MIP ends at a 2-3 % gap in 60 s). If no
            plan serves every coverable zone, or none is found in time, the monolithic
            MIP is solved instead. ``False`` always solves the monolithic MIP.
        max_rounds
            Stop the site decomposition after this many master solves with its best plan
            and proven gap (None: only the gap or the time limit stop it). A count of
            solves, unlike the wall-clock limit, ends at the same plan on a quiet or a busy
            machine, so two runs give one plan.
        start
            A plan to start from: a :class:`PlacementResult` (e.g. of the same model with
            one value changed, as a sweep does) or a table with ``site_id,
            static_scanners, mobile_days_per_week`` (sites this model lacks are left
            out). Used by the site decomposition: when the plan keeps this model's rules
            and fits its demand, it is the first incumbent, so every master prunes by it
            from the first round. The optimum and its proof are unchanged; among plans of
            equal cost the one returned may differ from a solve without it. England
            default, the optimal plan as start: cost stage 3.0 s instead of 7.5 s.

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
            self._solve,
            name,
            time_limit_s,
            mip_gap,
            threads,
            warm_start,
            reassign=reassign,
            max_rounds=max_rounds,
            start=None if start is None else self.start_columns(start),
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
        max_rounds: int | None = None,
        start: np.ndarray | None = None,
    ) -> PlacementResult:
        """One solve: the first strategy that gives a plan, then the zones' reassignment
        (unless the strategy assigned them itself), then the result."""
        raw: RawSolution | None = None
        for strategy in self._strategies(name, hard, warm_start, decompose, max_rounds, start):
            raw = strategy.solve(self, time_limit_s, mip_gap, threads)
            if raw is not None:
                break
        assert raw is not None  # the monolithic MIP, last, gives a plan or raises
        if raw.share is not None:
            if not reassign:
                logger.info("decomposition: zones always go to the nearest site with room")
        elif reassign and self.objective in _COST_TYPES and self.travel_cost_tolerance is None:
            raw = reassign_zones(self, raw)  # (the travel stage assigns its own plan)
        if self.travel_cost_tolerance is None:
            return build_result(self, raw)
        raw, travel = with_travel(self, raw)
        return dataclasses.replace(build_result(self, raw), travel=travel)

    def _strategies(
        self,
        name: str,
        hard: bool,
        warm_start: bool | None,
        decompose: bool | None,
        max_rounds: int | None = None,
        start: np.ndarray | None = None,
    ) -> list[Strategy[PlacementFormulation]]:
        """The solve strategies to try, in order: the site decomposition where it applies
        (HiGHS only), then the monolithic MIP."""
        out: list[Strategy[PlacementFormulation]] = []
        if name == "highs" and decompose is not False and self._decomposable(hard):
            out.append(DecompositionStrategy(max_rounds=max_rounds, start=start))
        out.append(MonolithicMIP(name, hard=hard, warm_start=warm_start))
        return out

    def start_columns(self, plan: PlacementResult | pd.DataFrame) -> np.ndarray:
        """The five site blocks (``y, t, v, s, m``) of a plan given as in ``solve(start=)``.

        Raises
        ------
        ValidationError
            If the table lacks a column or repeats a site.
        """
        cols = ["site_id", "static_scanners", "mobile_days_per_week"]
        table = plan
        if isinstance(plan, PlacementResult):  # its cost plan when a travel stage followed
            cost_plan = (plan.travel or {}).get("cost_plan_sites")
            table = plan.sites if cost_plan is None else pd.DataFrame(cost_plan, columns=cols)
        check_columns(table, cols, source="start plan")
        check_unique(table, "site_id", source="start plan")
        n, out = self.n_sites, np.zeros(5 * self.n_sites)
        known = table[table["site_id"].isin(list(self._site_pos))]
        pos = known["site_id"].map(self._site_pos).to_numpy(dtype=np.int64)
        s = np.round(pd.to_numeric(known["static_scanners"], errors="coerce").fillna(0).to_numpy())
        m = pd.to_numeric(known["mobile_days_per_week"], errors="coerce").fillna(0).to_numpy()
        m = np.round(m)
        for k, value in enumerate(((s + m) > 0, s > 0, m > 0, s, m)):  # SITE_BLOCKS' order
            out[k * n + pos] = value
        return out

    def _decomposable(self, hard: bool) -> bool:
        """Whether the exact site decomposition applies (see ``solve(decompose=)``)."""
        return (self.objective == "cost" and hard) or self.objective == "cover_then_cost"

    def __repr__(self) -> str:
        return (
            f"PlacementModel({self.objective}: {self.n_zones:,} zones ({self.n_groups:,} "
            f"groups) x {self.n_sites} sites, {self.n_group_pairs:,} pairs within "
            f"{self.drive_minutes:g} min, {len(self.matrix.cost):,} columns, "
            f"{self.matrix.A.shape[0]:,} rows)"
        )


__all__ = ["OBJECTIVES", "PlacementModel", "SolverError"]
