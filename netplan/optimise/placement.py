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
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pulp
import scipy.sparse as sp

from .._errors import InfeasibleError, SolverError, ValidationError
from .._validate import check_columns, check_unique
from ._base import (
    SolveInfo,
    Status,
    check_solver,
    default,
    raise_for_status,
    status_from_gap,
)
from ._matrix import _Matrix, _Rows, _solve_cbc, _solve_highs
from .result import PlacementResult

logger = logging.getLogger(__name__)

OBJECTIVES = ("cost", "drive_time", "max_coverage", "cover_then_cost")
THRESHOLDS_MINUTES = (30, 45, 60, 90)
_INFEASIBLE = pulp.LpStatus[pulp.LpStatusInfeasible]
_EPS = 1e-9
_SITE_BLOCKS = ("y", "t", "v", "s", "m")  # open, static-open, mobile-open, scanners, days
_REGION_MIN_SCANNERS = 0.5  # region cuts only for regions needing at least this many
# time kept back from the site decomposition for the MIP over its last plan's sites, in
# case the proof is not done: a quarter of the limit, at most this many seconds
_DECOMPOSE_RESERVE_S = 5.0
_WITH_START_OPTIONS = {
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_root_reduced_cost": False,
}


def _as_set(values: Iterable[Any] | None) -> set[Any]:
    return set() if values is None else set(values)


class PlacementModel:
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

    def __init__(
        self,
        od: pd.DataFrame,
        demand: pd.DataFrame,
        sites: pd.DataFrame,
        *,
        cyclotron_minutes: pd.DataFrame | None = None,
        od_all: pd.DataFrame | None = None,
        objective: str = "cost",
        drive_minutes: float | None = None,
        p_sites: int | None = None,
        static_scans_per_day: float | None = None,
        working_days_per_year: float | None = None,
        mobile_scans_per_day: float | None = None,
        mobile_weeks_per_year: float | None = None,
        target_utilisation: float | None = None,
        max_static_per_site: int | None = None,
        max_mobile_days_per_site: int | None = None,
        mobile_units: int | None = None,
        mobile_days_per_unit: int | None = None,
        max_sites_per_unit: int | None = None,
        allow_static_and_mobile: bool = True,
        static_capital_gbp: float | None = None,
        install_gbp: float | None = None,
        contract_install_gbp: float | None = None,
        annualisation_years: float | None = None,
        static_running_gbp_per_year: float | None = None,
        mobile_gbp_per_day: float | None = None,
        tracer_primary_minutes: float | None = None,
        tracer_backup_minutes: float | None = None,
        require_backup: bool = False,
        cyclotron_doses_per_day: Mapping[Any, float] | float | None = None,
        decay_factor: Callable[[Any], Any] | None = None,
        lock_open: Iterable[Any] | None = None,
        lock_static: Iterable[Any] | None = None,
        forbid: Iterable[Any] | None = None,
        capital_budget_gbp: float | None = None,
        min_sites_per_lot: Mapping[Any, int] | None = None,
        uncovered_penalty_gbp_per_scan: float | None = None,
        merge_zones: bool | str = "auto",
        strong_linking: bool = False,
        covering_cuts: bool = False,
        region_cuts: bool = True,
    ) -> None:
        start = time.perf_counter()
        if objective not in OBJECTIVES:
            msg = f"unknown objective {objective!r}; choose one of {list(OBJECTIVES)}"
            raise ValidationError(msg)
        if merge_zones not in ("auto", True, False):
            msg = f"merge_zones must be 'auto', True or False, got {merge_zones!r}"
            raise ValidationError(msg)
        self.objective = objective

        def pick(value: Any, key: str) -> float:
            out = default(key) if value is None else value
            return float(out)

        self.drive_minutes = pick(drive_minutes, "service.drive_standard_minutes")
        self.static_scans_per_day = pick(static_scans_per_day, "scanners.static_scans_per_day")
        self.working_days_per_year = pick(working_days_per_year, "scanners.working_days_per_year")
        self.mobile_scans_per_day = pick(mobile_scans_per_day, "scanners.mobile_scans_per_day")
        self.mobile_weeks_per_year = pick(mobile_weeks_per_year, "scanners.mobile_weeks_per_year")
        self.target_utilisation = pick(target_utilisation, "scanners.target_utilisation")
        self.max_static_per_site = int(
            pick(max_static_per_site, "scanners.max_static_scanners_per_site")
        )
        self.max_mobile_days_per_site = int(
            pick(max_mobile_days_per_site, "scanners.mobile_max_visit_days_per_week")
        )
        self.mobile_days_per_unit = int(pick(mobile_days_per_unit, "scanners.mobile_days_per_week"))
        self.static_capital_gbp = pick(static_capital_gbp, "costs.static_scanner_capital_gbp")
        self.install_gbp = pick(install_gbp, "costs.static_install_gbp")
        self.contract_install_gbp = pick(contract_install_gbp, "costs.existing_site_install_gbp")
        self.annualisation_years = pick(annualisation_years, "costs.annualisation_years")
        self.static_running_gbp_per_year = pick(
            static_running_gbp_per_year, "costs.static_running_gbp_per_year"
        )
        self.mobile_gbp_per_day = pick(mobile_gbp_per_day, "costs.mobile_gbp_per_day")
        self.tracer_primary_minutes = pick(
            tracer_primary_minutes, "tracer.max_delivery_minutes_primary"
        )
        self.tracer_backup_minutes = pick(
            tracer_backup_minutes, "tracer.max_delivery_minutes_backup"
        )
        self.require_backup = bool(require_backup)
        self.mobile_units = None if mobile_units is None else int(mobile_units)
        self.max_sites_per_unit = None if max_sites_per_unit is None else int(max_sites_per_unit)
        self.allow_static_and_mobile = bool(allow_static_and_mobile)
        self.capital_budget_gbp = None if capital_budget_gbp is None else float(capital_budget_gbp)
        self.p_sites = None if p_sites is None else int(p_sites)
        self.strong_linking = bool(strong_linking)
        self.covering_cuts = bool(covering_cuts)
        self.region_cuts = bool(region_cuts)
        self.n_region_cuts = 0
        self._check_numbers()
        if objective == "max_coverage" and self.p_sites is None:
            msg = "objective 'max_coverage' needs p_sites (the number of sites to open)"
            raise ValidationError(msg)
        if decay_factor is None:
            from .. import tracer

            decay_factor = tracer.decay_factor
        self._decay_factor = decay_factor
        self.messages: list[str] = []

        self._read_sites(sites, lock_open, lock_static, forbid, min_sites_per_lot)
        self._read_demand(demand)
        self._read_tracer(cyclotron_minutes, cyclotron_doses_per_day)
        self._check_rules()
        self._read_pairs(od)
        self._od_all = self._read_od_all(od if od_all is None else od_all)
        self._penalty = self._uncovered_penalty(uncovered_penalty_gbp_per_scan)
        self._group(merge_zones)
        self._presolve_checks()
        self.matrix = self._build_matrix()
        self.build_time_s = time.perf_counter() - start
        logger.info(
            "placement model: %d zones (%d groups) x %d sites, %d pairs, %d cols, %d rows, "
            "built in %.2f s",
            self.n_zones,
            self.n_groups,
            self.n_sites,
            self.n_group_pairs,
            len(self.matrix.cost),
            self.matrix.A.shape[0],
            self.build_time_s,
        )

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

    # ------------------------------------------------------------------ inputs
    def _check_numbers(self) -> None:
        positive = {
            "drive_minutes": self.drive_minutes,
            "working_days_per_year": self.working_days_per_year,
            "mobile_weeks_per_year": self.mobile_weeks_per_year,
            "annualisation_years": self.annualisation_years,
            "target_utilisation": self.target_utilisation,
            "tracer_primary_minutes": self.tracer_primary_minutes,
        }
        bad = {k: v for k, v in positive.items() if not (v > 0 and math.isfinite(v))}
        if bad:
            msg = f"these inputs must be positive and finite: {bad}"
            raise ValidationError(msg)
        if self.target_utilisation > 1:
            msg = f"target_utilisation must be in (0, 1], got {self.target_utilisation}"
            raise ValidationError(msg)
        if not 0 <= self.max_mobile_days_per_site <= 5:
            msg = f"max_mobile_days_per_site must be 0..5, got {self.max_mobile_days_per_site}"
            raise ValidationError(msg)
        for name in (
            "static_scans_per_day",
            "mobile_scans_per_day",
            "static_capital_gbp",
            "install_gbp",
            "contract_install_gbp",
            "static_running_gbp_per_year",
            "mobile_gbp_per_day",
        ):
            if getattr(self, name) < 0:
                msg = f"{name} must be >= 0, got {getattr(self, name)}"
                raise ValidationError(msg)

    def _read_sites(
        self,
        sites: pd.DataFrame,
        lock_open: Any,
        lock_static: Any,
        forbid: Any,
        min_sites_per_lot: Mapping[Any, int] | None,
    ) -> None:
        check_unique(sites, "id", source="sites")
        self.site_ids = np.asarray(sites["id"].to_numpy(), dtype=object)
        self.n_sites = len(self.site_ids)
        self._site_pos = {sid: k for k, sid in enumerate(self.site_ids)}
        n = self.n_sites
        self.site_name = (
            sites["name"].astype(str).to_numpy() if "name" in sites else self.site_ids.astype(str)
        )
        self.site_lot = (
            sites["lot"].to_numpy(dtype=object)
            if "lot" in sites
            else np.full(n, None, dtype=object)
        )
        contract = (
            sites["is_contract"].fillna(False).astype(bool).to_numpy()
            if "is_contract" in sites
            else np.zeros(n, bool)
        )
        smax = np.full(n, self.max_static_per_site, dtype=float)
        if "max_static_scanners" in sites:
            col = pd.to_numeric(sites["max_static_scanners"], errors="coerce").to_numpy()
            smax = np.where(np.isfinite(col), col, smax)
        if "allow_static" in sites:
            smax = np.where(sites["allow_static"].fillna(True).astype(bool), smax, 0)
        mmax = np.full(n, float(self.max_mobile_days_per_site))
        if "allow_mobile" in sites:
            mmax = np.where(sites["allow_mobile"].fillna(True).astype(bool), mmax, 0)
        if self.mobile_units == 0 or self.mobile_scans_per_day == 0:
            mmax[:] = 0
        self.smax, self.mmax = smax, mmax
        self.install_site_gbp = np.where(contract, self.contract_install_gbp, self.install_gbp)
        self.is_contract = contract

        def positions(ids: Any, what: str) -> np.ndarray:
            ids = _as_set(ids)
            unknown = sorted(map(str, ids - set(self._site_pos)))
            if unknown:
                msg = f"{what}: unknown site id(s) {unknown[:10]}; use ids from sites['id']"
                raise ValidationError(msg)
            return np.array(sorted(self._site_pos[s] for s in ids), dtype=np.int64)

        self.lock_open = positions(lock_open, "lock_open")
        self.lock_static = positions(lock_static, "lock_static")
        self.forbid = positions(forbid, "forbid")
        self.min_sites_per_lot = dict(min_sites_per_lot or {})
        if self.min_sites_per_lot and "lot" not in sites:
            msg = "min_sites_per_lot needs a 'lot' column in sites"
            raise ValidationError(msg)
        unknown_lots = set(self.min_sites_per_lot) - set(self.site_lot)
        if unknown_lots:
            msg = f"min_sites_per_lot names lot(s) {sorted(map(str, unknown_lots))} with no site"
            raise ValidationError(msg)

    def _read_demand(self, demand: pd.DataFrame) -> None:
        check_unique(demand, "id", source="demand")
        check_columns(demand, ["id", "scans_per_year"], source="demand")
        self.zone_ids = np.asarray(demand["id"].to_numpy(), dtype=object)
        self.n_zones = len(self.zone_ids)
        d = pd.to_numeric(demand["scans_per_year"], errors="coerce").to_numpy(dtype=float)
        if not np.all(np.isfinite(d)) or np.any(d < 0):
            bad = self.zone_ids[~(np.isfinite(d) & (d >= 0))][:10]
            msg = f"demand: scans_per_year must be finite and >= 0; bad zone(s) {list(bad)}"
            raise ValidationError(msg)
        self.d = d
        if "population" in demand:
            self.pop = (
                pd.to_numeric(demand["population"], errors="coerce").fillna(0).to_numpy(dtype=float)
            )
        else:
            self.pop = d.copy()
        self.zone_lot = (
            demand["lot"].to_numpy(dtype=object)
            if "lot" in demand
            else np.full(self.n_zones, None, dtype=object)
        )
        self._zone_pos = pd.Index(self.zone_ids)

    def _read_tracer(
        self, cyc: pd.DataFrame | None, capacity: Mapping[Any, float] | float | None
    ) -> None:
        n = self.n_sites
        self.tracer_ok = np.ones(n, bool)
        self.tracer_source = np.full(n, None, dtype=object)
        self.tracer_minutes = np.full(n, np.nan)
        self.backup_source = np.full(n, None, dtype=object)
        self.backup_minutes = np.full(n, np.nan)
        self.tracer_reason = np.full(n, "", dtype=object)
        self.cyc_pairs: pd.DataFrame | None = None
        self.cyc_capacity: dict[Any, float] = {}
        if cyc is None:
            if capacity is not None or self.require_backup:
                msg = "cyclotron capacity / require_backup need cyclotron_minutes"
                raise ValidationError(msg)
            return
        check_columns(cyc, ["site_id", "cyclotron_id", "minutes"], source="cyclotron_minutes")
        table = cyc[cyc["site_id"].isin(self._site_pos)].copy()
        table["minutes"] = pd.to_numeric(table["minutes"], errors="coerce")
        table = table.dropna(subset=["minutes"])
        table = table.groupby(["site_id", "cyclotron_id"], as_index=False)["minutes"].min()
        table["pos"] = table["site_id"].map(self._site_pos).astype(np.int64)
        table = table.sort_values(["pos", "minutes"], kind="stable")
        for pos, grp in table.groupby("pos", sort=False):
            within = grp[grp["minutes"] <= self.tracer_primary_minutes + _EPS]
            if len(within):
                self.tracer_source[pos] = within["cyclotron_id"].iloc[0]
                self.tracer_minutes[pos] = within["minutes"].iloc[0]
            others = grp[
                (grp["cyclotron_id"] != self.tracer_source[pos])
                & (grp["minutes"] <= self.tracer_backup_minutes + _EPS)
            ]
            if len(others):
                self.backup_source[pos] = others["cyclotron_id"].iloc[0]
                self.backup_minutes[pos] = others["minutes"].iloc[0]
        no_primary = pd.isna(self.tracer_minutes)
        self.tracer_reason[no_primary] = (
            f"no cyclotron within {self.tracer_primary_minutes:g} delivery minutes"
        )
        self.tracer_ok &= ~no_primary
        if self.require_backup:
            no_backup = ~no_primary & pd.isna(self.backup_minutes)
            self.tracer_reason[no_backup] = (
                f"no back-up cyclotron within {self.tracer_backup_minutes:g} delivery minutes"
            )
            self.tracer_ok &= ~no_backup
        if capacity is not None:
            cyc_ids = table["cyclotron_id"].unique()
            if isinstance(capacity, Mapping):
                missing = [c for c in cyc_ids if c not in capacity]
                if missing:
                    msg = f"cyclotron_doses_per_day: no capacity for cyclotron(s) {missing[:10]}"
                    raise ValidationError(msg)
                self.cyc_capacity = {c: float(capacity[c]) for c in cyc_ids}
            else:
                self.cyc_capacity = {c: float(capacity) for c in cyc_ids}
            flows = table[table["minutes"] <= self.tracer_primary_minutes + _EPS].copy()
            flows["factor"] = np.asarray(
                self._decay_factor(flows["minutes"].to_numpy()), dtype=float
            )
            self.cyc_pairs = flows.reset_index(drop=True)

    def _check_rules(self) -> None:
        n = self.n_sites
        available = self.tracer_ok.copy()
        available[self.forbid] = False
        available &= (self.smax + self.mmax) > 0
        self.available = available
        problems = []
        for pos in self.lock_open.tolist() + self.lock_static.tolist():
            sid = self.site_ids[pos]
            if pos in set(self.forbid.tolist()):
                problems.append(f"site {sid!r} is both locked and forbidden")
            elif not self.tracer_ok[pos]:
                problems.append(f"site {sid!r} is locked but has {self.tracer_reason[pos]}")
            elif not available[pos]:
                problems.append(f"site {sid!r} is locked but allows no service")
        for pos in self.lock_static.tolist():
            if self.smax[pos] < 1:
                problems.append(
                    f"site {self.site_ids[pos]!r} is locked static but allows no static scanner"
                )
        n_avail = int(available.sum())
        if self.p_sites is not None:
            if self.p_sites > n_avail:
                problems.append(
                    f"p_sites={self.p_sites} but only {n_avail} of {n} sites are "
                    "available (not forbidden, with tracer supply)"
                )
            locked = len(set(self.lock_open.tolist()) | set(self.lock_static.tolist()))
            if locked > self.p_sites:
                problems.append(f"{locked} sites are locked open but p_sites={self.p_sites}")
        for lot, need in self.min_sites_per_lot.items():
            have = int((available & (self.site_lot == lot)).sum())
            if need > have:
                problems.append(f"lot {lot!r} needs {need} sites but only {have} are available")
        if self.capital_budget_gbp is not None and len(self.lock_static):
            need = float(
                sum(self.static_capital_gbp + self.install_site_gbp[p] for p in self.lock_static)
            )
            if need > self.capital_budget_gbp + _EPS:
                problems.append(
                    f"the locked static sites need £{need:,.0f} of capital but the "
                    f"budget is £{self.capital_budget_gbp:,.0f}"
                )
        if self.max_sites_per_unit is not None and self.max_sites_per_unit < 0:
            problems.append("max_sites_per_unit must be >= 0")
        if problems:
            msg = (
                "placement model is infeasible before solving: "
                + "; ".join(problems)
                + ". Relax the rules (locks, forbids, p_sites, lot minimums, budget)."
            )
            raise InfeasibleError(msg, _INFEASIBLE)

    def _read_pairs(self, od: pd.DataFrame) -> None:
        check_columns(od, ["origin_id", "destination_id", "minutes"], source="od")
        zone = self._zone_pos.get_indexer(od["origin_id"])
        site = pd.Index(self.site_ids).get_indexer(od["destination_id"])
        minutes = pd.to_numeric(od["minutes"], errors="coerce").to_numpy(dtype=float)
        keep = (zone >= 0) & (site >= 0) & np.isfinite(minutes)
        keep &= minutes <= self.drive_minutes + _EPS
        zone, site, minutes = zone[keep], site[keep], minutes[keep]
        # pairs within the standard, before removing unavailable sites (for the reasons)
        any_within = np.zeros(self.n_zones, bool)
        any_within[zone] = True
        tracer_pair = self.tracer_ok[site]
        any_tracer = np.zeros(self.n_zones, bool)
        any_tracer[zone[tracer_pair]] = True
        avail = self.available[site]
        zone, site, minutes = zone[avail], site[avail], minutes[avail]
        # one row per (zone, site): the shortest time; sort by zone then site
        order = np.lexsort((minutes, site, zone))
        zone, site, minutes = zone[order], site[order], minutes[order]
        first = np.ones(len(zone), bool)
        first[1:] = (zone[1:] != zone[:-1]) | (site[1:] != site[:-1])
        self.pz, self.ps, self.pt = zone[first], site[first], minutes[first]
        has = np.zeros(self.n_zones, bool)
        has[self.pz] = True
        reason = np.full(self.n_zones, "", dtype=object)
        std = f"{self.drive_minutes:g} minutes"
        reason[~any_within] = f"no candidate within {std}"
        reason[any_within & ~any_tracer & ~has] = f"no candidate within {std} has tracer supply"
        reason[any_within & any_tracer & ~has] = (
            f"candidates within {std} are forbidden or allow no service"
        )
        self.zone_reason = reason
        self.coverable = has

    def _read_od_all(self, od_all: pd.DataFrame) -> pd.DataFrame:
        check_columns(od_all, ["origin_id", "destination_id", "minutes"], source="od_all")
        zone = self._zone_pos.get_indexer(od_all["origin_id"])
        site = pd.Index(self.site_ids).get_indexer(od_all["destination_id"])
        minutes = pd.to_numeric(od_all["minutes"], errors="coerce").to_numpy(dtype=float)
        keep = (zone >= 0) & (site >= 0) & np.isfinite(minutes)
        return pd.DataFrame({"zone": zone[keep], "site": site[keep], "minutes": minutes[keep]})

    def _uncovered_penalty(self, value: float | None) -> float:
        self._auto_penalty = value is None
        if value is not None:
            if not value >= 0:
                msg = f"uncovered_penalty_gbp_per_scan must be >= 0, got {value}"
                raise ValidationError(msg)
            return float(value)
        dearest = max(
            self.static_capital_gbp / self.annualisation_years
            + self.static_running_gbp_per_year
            + float(np.max(self.install_site_gbp, initial=0.0)) / self.annualisation_years,
            self.mobile_gbp_per_day * self.mobile_weeks_per_year,
            1.0,
        )
        return 1.5 * dearest

    # ------------------------------------------------------------------ merging
    def _group(self, merge: bool | str) -> None:
        """Group zones with identical reachable sets (and times where needed); exact."""
        nz = self.n_zones
        counts = np.bincount(self.pz, minlength=nz)
        starts = np.zeros(nz + 1, np.int64)
        np.cumsum(counts, out=starts[1:])
        self._zstart, self._zcount = starts[:-1], counts
        reason = ""
        can = True
        if self.objective == "drive_time":
            reason = (
                "drive_time weights each zone-site pair by its own minutes, so only "
                "zones with identical sites and times are merged"
            )
        if self.objective == "max_coverage":
            ratio = np.divide(self.pop, self.d, out=np.full(nz, np.nan), where=self.d > 0)
            can = "pending-ratio"  # checked after keys are known
        use = merge is True or (merge == "auto")
        if not use:
            self._set_groups(np.arange(nz), "zone merging off (merge_zones=False)")
            return
        rng = np.random.default_rng(20240607)
        h1 = rng.integers(1, 2**62, size=self.n_sites, dtype=np.int64)
        h2 = rng.integers(1, 2**62, size=self.n_sites, dtype=np.int64)
        k1 = np.zeros(nz, np.int64)
        k2 = np.zeros(nz, np.int64)
        with np.errstate(over="ignore"):
            np.add.at(k1, self.pz, h1[self.ps])
            np.bitwise_xor.at(k2, self.pz, h2[self.ps])
            if self.objective == "drive_time":
                tb = np.round(self.pt * 1e6).astype(np.int64) * h1[self.ps]
                k3 = np.zeros(nz, np.int64)
                np.add.at(k3, self.pz, tb)
            else:
                k3 = np.zeros(nz, np.int64)
        keys = pd.DataFrame({"n": counts, "k1": k1, "k2": k2, "k3": k3})
        # uncoverable zones stay on their own (no variables anyway)
        keys.loc[counts == 0, "k1"] = -np.arange(1, int((counts == 0).sum()) + 1)
        group = keys.groupby(["n", "k1", "k2", "k3"], sort=False).ngroup().to_numpy()
        group = self._verify_groups(group)
        if can == "pending-ratio":
            g_ok = (
                pd.Series(ratio)
                .groupby(group)
                .agg(lambda s: np.allclose(s, s.iloc[0], equal_nan=True))
            )
            if not bool(g_ok.all()):
                why = (
                    "max_coverage weights zones by population but capacity by demand, and "
                    "population/demand differs between zones with the same sites, so "
                    "merging would not be exact"
                )
                if merge is True:
                    msg = f"merge_zones=True is not exact here: {why}"
                    raise ValidationError(msg)
                self._set_groups(np.arange(nz), f"zone merging off: {why}")
                return
        self._set_groups(group, reason or "zones with identical reachable sites merged")

    def _verify_groups(self, group: np.ndarray) -> np.ndarray:
        """Check every zone's site list (and times) equals its group's first zone's; split
        any hash collision into its own group so merging is exact."""
        nz = self.n_zones
        first = np.full(group.max() + 1 if nz else 0, -1, np.int64)
        order = np.arange(nz)[::-1]
        first[group[order]] = order  # smallest zone index per group
        rep = first[group]
        rank = np.arange(len(self.pz)) - self._zstart[self.pz]
        rep_pair = self._zstart[rep[self.pz]] + rank
        same = self.ps[rep_pair] == self.ps
        if self.objective == "drive_time":
            same &= self.pt[rep_pair] == self.pt
        bad = np.zeros(nz, bool)
        bad[self.pz[~same]] = True
        if bad.any():  # pragma: no cover - 64-bit hash collision
            group = group.copy()
            group[bad] = group.max() + 1 + np.arange(int(bad.sum()))
        return group

    def _set_groups(self, group: np.ndarray, note: str) -> None:
        _, group = np.unique(group, return_inverse=True)
        self.zone_group = group
        self.n_groups = int(group.max() + 1) if len(group) else 0
        self.merged = self.n_groups < self.n_zones
        self.merge_note = note
        ng = self.n_groups
        self.gd = np.bincount(group, weights=self.d, minlength=ng)
        self.gpop = np.bincount(group, weights=self.pop, minlength=ng)
        # representative zone of each group, and its pairs become the group's pairs
        rep = np.full(ng, -1, np.int64)
        order = np.arange(self.n_zones)[::-1]
        rep[group[order]] = order
        self.group_rep = rep
        counts = self._zcount[rep]
        self.gcount = counts
        gstart = np.zeros(ng + 1, np.int64)
        np.cumsum(counts, out=gstart[1:])
        self.gstart = gstart[:-1]
        idx = np.repeat(self._zstart[rep], counts) + (
            np.arange(gstart[-1]) - np.repeat(gstart[:-1], counts)
        )
        self.gp_group = np.repeat(np.arange(ng), counts)
        self.gp_site = self.ps[idx]
        self.gp_minutes = self.pt[idx]
        self.n_group_pairs = len(self.gp_site)
        self.group_coverable = counts > 0
        if self.merged:
            self.messages.append(f"{note}: {self.n_zones:,} zones -> {ng:,} groups")
        elif note:
            self.messages.append(note)

    # ------------------------------------------------------------------ checks
    def _presolve_checks(self) -> None:
        lonely = ~self.coverable
        if lonely.any():
            reasons = pd.Series(self.zone_reason[lonely]).value_counts()
            for why, count in reasons.items():
                mask = lonely & (self.zone_reason == why)
                self.messages.append(
                    f"{count:,} zone(s) cannot be covered ({why}): "
                    f"{self.d[mask].sum():,.0f} scans/yr, population {self.pop[mask].sum():,.0f}; "
                    f"e.g. {list(self.zone_ids[mask][:5])}"
                )
        rho = self.target_utilisation
        cap_s = rho * self.static_scans_per_day * self.working_days_per_year
        cap_m = rho * self.mobile_scans_per_day * self.mobile_weeks_per_year
        site_cap = np.where(self.available, cap_s * self.smax + cap_m * self.mmax, 0.0)
        self.site_max_capacity = site_cap
        # zones that can reach only one lot / one site must fit in that lot / site
        gsite = self.gp_site
        glot = self.site_lot[gsite]
        checks: list[tuple[str, np.ndarray, float]] = []
        if self.n_group_pairs:
            lots = pd.Series(glot, dtype=object)
            full = np.arange(self.n_groups)
            one_lot = (
                lots.groupby(self.gp_group)
                .nunique(dropna=False)
                .reindex(full, fill_value=0)
                .to_numpy()
                == 1
            )
            lot_of = lots.groupby(self.gp_group).first().reindex(full).to_numpy()
            for lot in pd.unique(self.site_lot):
                if lot is None or (isinstance(lot, float) and math.isnan(lot)):
                    continue
                groups = one_lot & (lot_of == lot)
                cap = float(site_cap[self.site_lot == lot].sum())
                checks.append((f"lot {lot!r}", groups, cap))
            single = self.gcount == 1
            first_site = gsite[self.gstart[single]]
            for s in np.unique(first_site):
                groups = np.zeros(self.n_groups, bool)
                groups[np.flatnonzero(single)[first_site == s]] = True
                checks.append((f"site {self.site_ids[s]!r}", groups, float(site_cap[s])))
        self._shortfall = False
        for label, groups, cap in checks:
            need = float(self.gd[groups].sum())
            if need > cap + 1e-6:
                self._shortfall = True
                self.messages.append(
                    f"{label}: zones that can reach only it need {need:,.0f} scans/yr but its "
                    f"sites provide at most {cap:,.0f} at {rho:.0%} utilisation; at least "
                    f"{need - cap:,.0f} scans/yr will be uncovered"
                )
        for m in self.messages:
            logger.info("pre-solve: %s", m)

    # ------------------------------------------------------------------ matrix
    def _build_matrix(self) -> _Matrix:
        n, P, G = self.n_sites, self.n_group_pairs, self.n_groups
        off = {b: k * n for k, b in enumerate(_SITE_BLOCKS)}
        x0 = 5 * n
        u0 = x0 + P
        q0 = u0 + G
        nq = 0 if self.cyc_pairs is None else len(self.cyc_pairs)
        ncol = q0 + nq
        self._off, self._x0, self._u0, self._q0, self._ncol = off, x0, u0, q0, ncol
        lower = np.zeros(ncol)
        upper = np.ones(ncol)
        integer = np.zeros(ncol, bool)
        avail = self.available.astype(float)
        sites = np.arange(n)
        upper[off["y"] + sites] = avail
        upper[off["t"] + sites] = avail * (self.smax > 0)
        upper[off["v"] + sites] = avail * (self.mmax > 0)
        upper[off["s"] + sites] = avail * self.smax
        upper[off["m"] + sites] = avail * self.mmax
        for b in _SITE_BLOCKS:
            integer[off[b] + sites] = True
        lower[off["y"] + self.lock_open] = 1
        lower[off["y"] + self.lock_static] = 1
        lower[off["t"] + self.lock_static] = 1
        lower[off["s"] + self.lock_static] = 1
        upper[u0:q0] = 1.0
        upper[q0:] = np.inf
        names = (
            [f"{b}_{j}" for b in _SITE_BLOCKS for j in range(n)]
            + [
                f"x_{g}_{j}"
                for g, j in zip(self.gp_group.tolist(), self.gp_site.tolist(), strict=True)
            ]
            + [f"u_{g}" for g in range(G)]
            + [f"q_{k}" for k in range(nq)]
        )

        rows = _Rows()
        xc = x0 + np.arange(P)
        # coverage: sum_j x_gj + u_g = 1
        rows.add(
            np.concatenate([self.gp_group, np.arange(G)]),
            np.concatenate([xc, u0 + np.arange(G)]),
            np.ones(P + G),
            1.0,
            1.0,
            G,
        )
        # covering cuts: sum_{j in N_g} y_j + u_g >= 1. Implied by coverage + capacity in
        # integers (serving g at j needs capacity, hence y_j = 1) but not in the LP
        # relaxation, where a sliver of a scanner can serve a zone. They tighten the bound
        # to the set-covering one at the cost of one sparse row per group.
        if self.covering_cuts:
            served = self.gd > 0
            kg = np.flatnonzero(served[self.gp_group])
            gid = np.flatnonzero(served)
            local = np.full(G, -1)
            local[gid] = np.arange(len(gid))
            rows.add(
                np.concatenate([local[self.gp_group[kg]], np.arange(len(gid))]),
                np.concatenate([off["y"] + self.gp_site[kg], u0 + gid]),
                np.ones(len(kg) + len(gid)),
                1.0,
                np.inf,
                len(gid),
            )
        # capacity: sum_g d_g x_gj - rho Ks s_j - rho Km m_j <= 0
        rho = self.target_utilisation
        if self.region_cuts:
            self._add_region_cuts(rows, u0)
        ks = rho * self.static_scans_per_day * self.working_days_per_year
        km = rho * self.mobile_scans_per_day * self.mobile_weeks_per_year
        rows.add(
            np.concatenate([self.gp_site, sites, sites]),
            np.concatenate([xc, off["s"] + sites, off["m"] + sites]),
            np.concatenate([self.gd[self.gp_group], np.full(n, -ks), np.full(n, -km)]),
            -np.inf,
            0.0,
            n,
        )

        def pair_rows(a: str, ca: Any, b: str, cb: Any, lo: float, hi: float) -> None:
            rows.add(
                np.concatenate([sites, sites]),
                np.concatenate([off[a] + sites, off[b] + sites]),
                np.concatenate([np.broadcast_to(ca, n), np.broadcast_to(cb, n)]),
                lo,
                hi,
                n,
            )

        pair_rows("s", 1.0, "t", -self.smax, -np.inf, 0.0)  # s <= smax t
        pair_rows("t", 1.0, "s", -1.0, -np.inf, 0.0)  # t <= s
        pair_rows("m", 1.0, "v", -self.mmax, -np.inf, 0.0)  # m <= mmax v
        pair_rows("v", 1.0, "m", -1.0, -np.inf, 0.0)  # v <= m
        pair_rows("t", 1.0, "y", -1.0, -np.inf, 0.0)  # t <= y
        pair_rows("v", 1.0, "y", -1.0, -np.inf, 0.0)  # v <= y
        rows.add(
            np.concatenate([sites] * 3),  # y <= t + v
            np.concatenate([off["y"] + sites, off["t"] + sites, off["v"] + sites]),
            np.concatenate([np.ones(n), -np.ones(n), -np.ones(n)]),
            -np.inf,
            0.0,
            n,
        )
        if not self.allow_static_and_mobile:
            pair_rows("t", 1.0, "v", 1.0, -np.inf, 1.0)
        if self.mobile_units is not None:
            rows.add(
                np.zeros(n),
                off["m"] + sites,
                np.ones(n),
                -np.inf,
                float(self.mobile_days_per_unit * self.mobile_units),
                1,
            )
            if self.max_sites_per_unit is not None:
                rows.add(
                    np.zeros(n),
                    off["v"] + sites,
                    np.ones(n),
                    -np.inf,
                    float(self.max_sites_per_unit * self.mobile_units),
                    1,
                )
        if self.capital_budget_gbp is not None:
            rows.add(
                np.zeros(2 * n),
                np.concatenate([off["s"] + sites, off["t"] + sites]),
                np.concatenate([np.full(n, self.static_capital_gbp), self.install_site_gbp]),
                -np.inf,
                self.capital_budget_gbp,
                1,
            )
        for lot, need in self.min_sites_per_lot.items():
            members = np.flatnonzero(self.site_lot == lot)
            rows.add(
                np.zeros(len(members)),
                off["y"] + members,
                np.ones(len(members)),
                float(need),
                np.inf,
                1,
            )
        if self.p_sites is not None:
            rows.add(
                np.zeros(n),
                off["y"] + sites,
                np.ones(n),
                float(self.p_sites),
                float(self.p_sites),
                1,
            )
        link = np.ones(P, bool) if self.strong_linking else (self.gd[self.gp_group] <= 0)
        k = np.flatnonzero(link)
        rows.add(
            np.concatenate([np.arange(len(k))] * 2),
            np.concatenate([xc[k], off["y"] + self.gp_site[k]]),
            np.concatenate([np.ones(len(k)), -np.ones(len(k))]),
            -np.inf,
            0.0,
            len(k),
        )
        if nq:
            cp = self.cyc_pairs
            qs = cp["pos"].to_numpy()
            # sum_c q_jc - sum_g d_g x_gj / W = 0 for each site with flows
            rows.add(
                np.concatenate([self.gp_site, qs]),
                np.concatenate([xc, q0 + np.arange(nq)]),
                np.concatenate([-self.gd[self.gp_group] / self.working_days_per_year, np.ones(nq)]),
                0.0,
                0.0,
                n,
            )
            cyc_ids = list(self.cyc_capacity)
            cpos = cp["cyclotron_id"].map({c: k for k, c in enumerate(cyc_ids)}).to_numpy()
            rows.add(
                cpos,
                q0 + np.arange(nq),
                cp["factor"].to_numpy(),
                -np.inf,
                np.array([self.cyc_capacity[c] for c in cyc_ids]),
                len(cyc_ids),
            )
        A, rlo, rhi = rows.matrix(ncol)
        return _Matrix(np.zeros(ncol), lower, upper, integer, A, rlo, rhi, names)

    def _add_region_cuts(self, rows: _Rows, u0: int) -> None:
        """Add the region capacity inequalities (see ``region_cuts`` in the class)."""
        self.n_region_cuts = 0
        rho = self.target_utilisation
        ks = rho * self.static_scans_per_day * self.working_days_per_year
        km = rho * self.mobile_scans_per_day * self.mobile_weeks_per_year
        n, G = self.n_sites, self.n_groups
        served = (self.gd > 0) & self.group_coverable
        if ks <= 0 or not served.any():
            return
        # one region per distinct reachable set (groups may repeat sets when not merged)
        rng = np.random.default_rng(7)
        h1 = rng.integers(1, 2**62, size=n, dtype=np.int64)
        h2 = rng.integers(1, 2**62, size=n, dtype=np.int64)
        k1 = np.zeros(G, np.int64)
        k2 = np.zeros(G, np.int64)
        with np.errstate(over="ignore"):
            np.add.at(k1, self.gp_group, h1[self.gp_site])
            np.bitwise_xor.at(k2, self.gp_group, h2[self.gp_site])
        gid = np.flatnonzero(served)
        keys = pd.DataFrame({"n": self.gcount[gid], "k1": k1[gid], "k2": k2[gid]})
        kid = keys.groupby(["n", "k1", "k2"], sort=False).ngroup().to_numpy()
        first = np.flatnonzero(np.r_[True, np.diff(np.sort(kid)) > 0])
        rep = gid[np.argsort(kid, kind="stable")[first]]  # one group per distinct set
        demand = np.bincount(kid, weights=self.gd[gid])  # demand per distinct set
        B = sp.csr_matrix(
            (np.ones(self.n_group_pairs), (self.gp_group, self.gp_site)), shape=(G, n)
        )
        Br = B[rep]
        BrT = Br.T.tocsc()
        size = self.gcount[rep]
        inside_r, inside_k = [], []
        for a in range(0, len(rep), 500):
            # inter[r, k] = |N_r & N_k|; set k lies inside region r when it equals |N_k|
            inter = (Br[a : a + 500] @ BrT).toarray()
            r, k = np.nonzero(inter == size[None, :])
            inside_r.append(r + a)
            inside_k.append(k)
        ir, ik = np.concatenate(inside_r), np.concatenate(inside_k)
        need = np.bincount(ir, weights=demand[ik], minlength=len(rep))
        lift = np.ceil(need / ks - 1e-9) - need / ks
        keep = (lift > 1e-6) & (need >= _REGION_MIN_SCANNERS * ks)
        if not keep.any():
            return
        new_id = np.cumsum(keep) - 1
        sel = keep[ir]
        # expand each (region, set) pair to the groups holding that set (for u terms)
        pairs = pd.DataFrame({"r": new_id[ir[sel]], "k": ik[sel]})
        members = pd.DataFrame({"k": kid, "g": gid})
        inside = pairs.merge(members, on="k")
        off = self._off
        Bk = Br[np.flatnonzero(keep)].tocoo()
        ic = inside["g"].to_numpy()
        rows.add(
            np.concatenate([Bk.row, Bk.row, inside["r"].to_numpy()]),
            np.concatenate([off["s"] + Bk.col, off["m"] + Bk.col, u0 + ic]),
            np.concatenate([np.full(Bk.nnz, ks), np.full(Bk.nnz, km), self.gd[ic]]),
            need[keep],
            np.inf,
            int(keep.sum()),
        )
        self.n_region_cuts = int(keep.sum())
        logger.info("region cuts: %d rows", self.n_region_cuts)

    # ------------------------------------------------------------------ objectives
    def _cost_vector(self) -> np.ndarray:
        off, n = self._off, self.n_sites
        c = np.zeros(self._ncol)
        sites = np.arange(n)
        c[off["s"] + sites] = (
            self.static_capital_gbp / self.annualisation_years + self.static_running_gbp_per_year
        )
        c[off["t"] + sites] = self.install_site_gbp / self.annualisation_years
        c[off["m"] + sites] = self.mobile_gbp_per_day * self.mobile_weeks_per_year
        return c

    def _uncovered_vector(self) -> np.ndarray:
        c = np.zeros(self._ncol)
        # uncoverable groups have u = 1 whatever happens: keep that constant out of the
        # objective so the relative MIP gap measures what the model can change
        c[self._u0 : self._u0 + self.n_groups] = self.gd * self.group_coverable
        return c

    def _stages(self) -> list[tuple[str, np.ndarray]]:
        cost = self._cost_vector()
        unc = self._uncovered_vector()
        if self.objective == "cost":
            if math.isinf(self._penalty):
                return [("cost", cost)]
            return [("cost", cost + self._penalty * unc)]
        if self.objective == "cover_then_cost":
            return [("uncovered_scans", unc), ("cost", cost)]
        if self.objective == "drive_time":
            c = np.zeros(self._ncol)
            c[self._x0 : self._u0] = self.gd[self.gp_group] * self.gp_minutes
            c += 10.0 * self.drive_minutes * unc
            return [("scan_minutes", c), ("cost", cost)]
        c = np.zeros(self._ncol)  # max_coverage: minimise minus covered population
        c[self._x0 : self._u0] = -self.gpop[self.gp_group]
        return [("minus_covered_population", c), ("cost", cost)]

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

    def _only_sites(self, matrix: _Matrix, keep: np.ndarray) -> np.ndarray:
        """Column upper bounds that close every site outside ``keep`` (locked sites stay)."""
        keep = keep.copy()
        keep[self.lock_open] = True
        keep[self.lock_static] = True
        n, off = self.n_sites, self._off
        upper = matrix.upper.copy()
        for b in _SITE_BLOCKS:
            upper[off[b] : off[b] + n] *= keep
        upper[self._x0 : self._u0] *= keep[self.gp_site]
        if self.cyc_pairs is not None and len(self.cyc_pairs):
            drop = ~keep[self.cyc_pairs["pos"].to_numpy()]
            upper[self._q0 :][drop] = 0.0
        return upper

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

    def _infeasible_hint(self) -> str:
        rules = []
        if self.capital_budget_gbp is not None:
            rules.append(f"capital budget £{self.capital_budget_gbp:,.0f}")
        if self.mobile_units is not None:
            rules.append(f"fleet of {self.mobile_units} mobile unit(s)")
        if self.min_sites_per_lot:
            rules.append(f"lot minimums {self.min_sites_per_lot}")
        if self.p_sites is not None:
            rules.append(f"p_sites={self.p_sites}")
        if len(self.lock_open) or len(self.lock_static):
            rules.append("locked sites")
        if self.cyc_capacity:
            rules.append("cyclotron capacity")
        if math.isinf(self._penalty):
            return (
                "Coverage is hard (uncovered_penalty_gbp_per_scan=inf): the sites' "
                "maximum scanners and mobile days, or these rules, cannot serve every "
                "coverable zone: "
                + (", ".join(rules) or "site capacity limits")
                + ". Solve with a finite penalty to see which zones are left uncovered."
            )
        return (
            "Coverage has an uncovered slack, so these rules contradict each other: "
            + (", ".join(rules) or "none found")
            + ". Relax one of them."
        )

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
