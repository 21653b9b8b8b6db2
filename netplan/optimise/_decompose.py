r"""Solve the placement model exactly by its site decisions: a Benders-style decomposition.

With every coverable zone served in full (hard coverage, or the first stage of
``"cover_then_cost"`` at zero) and no cyclotron capacity, the cost of a plan depends only
on the site decisions; the assignment only has to exist. By the supply-demand theorem for
bipartite flows (Gale 1957, the flow form of Hall's theorem) it exists iff, for every set
:math:`S` of sites, the demand :math:`D(S)` of the zones that can reach only sites of
:math:`S` fits in :math:`S`'s capacity. So the placement model equals the *master*
problem over the ~1,500 site variables (fleet, budget, locks, lots, covering rows) plus
one capacity row per site set, of which only a few hundred ever matter:

.. math::

    \sum_{j \in S} (a^s s_j + a^m m_j) \ge \lceil D(S) / \kappa \rceil

where :math:`\rho K^s = a^s \kappa` and :math:`\rho K^m = a^m \kappa` with integers
:math:`a^s, a^m` (England: :math:`\kappa` = 425 scans, :math:`a^s` = 11 mobile-day
equivalents per static scanner). Rounding the right-hand side up is valid because the
left is an integer: it is what makes the master's bound tight.

The loop (branch-and-check, Hooker 2000; here with HiGHS, which has no lazy-constraint
callback, as solve-and-add rounds):

1. The master starts with the rows of the reachable sets :math:`N_g` of up to
   ``_START_SET_SITES`` sites and the whole network; the larger reachable sets wait in a
   pool. An LP phase (:meth:`SiteDecomposition.separate_lp`) then adds the pool rows and
   the max-flow rows that the master's LP relaxation violates, a few LPs of a fraction of
   a second each.
2. HiGHS solves the master. Every plan it finds is checked at once (a callback): pool rows
   it violates are queued; if none, one maximum flow (``scipy``) decides whether the
   assignment exists and, if not, names the short site sets (the source side of a minimum
   cut), whose rows are queued. A plan that passes is feasible for the full model: the
   best such plan is the incumbent and bounds the next masters (``objective_bound``).
3. While HiGHS's incumbent is a plan that fits (or none), its pruning holds for the full
   model and the master runs on to its proof. Once it is a plan that does not fit, the
   round stops when ``_ROUND_CUTS`` rows are queued and the master is within
   ``_ROUND_GAP`` of its own bound, or ``_ROUND_POLLS`` polls later, or once a plan at
   the proven bound is found; the queued rows are added and the master solved again.
4. Every master is a relaxation of the full model, and adding rows only raises its
   optimum, so the best bound any round proves is a lower bound for the full model. The
   loop ends when the incumbent meets it (within the MIP gap): that plan is optimal for
   the full model. At the time limit the incumbent is returned with its gap.

Costs are per scanner, per static site and per mobile day, so many plans cost the same
(England: any 55 single-scanner static sites and 12 mobile days), and most of them leave a
city short. The master therefore minimises the cost less a tie-break worth under a quarter
of the cost grain (:func:`cost_grain`), which prefers capacity where the demand can reach
it; its bounds are rounded up to whole grains (:meth:`SiteDecomposition.bound`).

The zones are then assigned to the open sites by one LP (:func:`netplan.optimise._assign.
assign`). :class:`netplan.optimise._site_strategy.DecompositionStrategy` wraps the loop as
a solve strategy: it runs it, tries the MIP over the last master plan's sites when the
proof is not done, and returns the plan with its bound. Measured on the England default
(``benchmarks/bench_optimise.py``, quiet 2-core machine, HiGHS 1.16): proven optimal at
£40.71 m/yr in 8.2 s (set-up 0.3 s, the LP phase 0.8 s and 3 master solves); with masters
that stopped for rows while their incumbent fitted it took 12-14 s, before the LP phase
12 master solves and 80-150 s, and the monolithic MIP ends at a 2-3 % gap in 60 s.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from ._base import SolveInfo, Status, status_from_gap
from ._master import CapacityCuts
from ._matrix import LPSession, _Matrix, _solve_highs
from ._repair import repair_plan

if TYPE_CHECKING:
    from ._formulation import PlacementFormulation

logger = logging.getLogger(__name__)

_START_SET_SITES = 10  # reachable sets up to this many sites start in the master
_POOL_ROWS_PER_PLAN = 200  # at most this many pool rows queued per plan checked
_ROUND_CUTS = 10  # a round may stop once this many rows are queued ...
_ROUND_GAP = 0.02  # ... and the master's incumbent is within this of its bound,
#: ... or once HiGHS has polled the interrupt callback this many times since the first row was
#: queued: a count of search steps, not seconds, so a round ends at the same point of the
#: search on a quiet or a busy machine (a 5-s timer did not). About 5 s on England (measured:
#: 20-22 polls in 2.7-11 s a round).
_ROUND_POLLS = 20
_DEFAULT_GAP = 1e-4  # HiGHS's default relative MIP gap
_TIE_SHARE = 0.25  # the tie-break may lower a plan's cost by at most this share of a grain
#: A master prunes what cannot beat the incumbent by a whole grain: a plan that costs a
#: grain less has a master objective at most that (the tie-break only lowers it), so the
#: cutoff may sit this share of a grain below the incumbent (was a half: the proof of the
#: 1/4-of-England benchmark's master fell from 18 s to 9 s; England's unchanged).
_CUTOFF_SHARE = 0.875
#: A new best plan is passed to ``on_incumbent`` once it has stood this many polls (about
#: a second): England's cost stage found a plan 0.15 % above the optimum 1 s before the
#: optimum, and the travel stage started on it only slowed the proof.
_INCUMBENT_POLLS = 4
_TIE_MIN = 1e-8  # ... and is left out when its unit weight is below this share of the costs
_LP_ROUNDS = 30  # at most this many LP relaxations separated before the first master MIP
_LP_ROWS_PER_ROUND = 200  # ... each adding at most this many pool sets
# time kept back from the site decomposition for the MIP over its last plan's sites, in
# case the proof is not done: a quarter of the limit, at most this many seconds
_DECOMPOSE_RESERVE_S = 5.0


def cost_grain(cost: np.ndarray) -> float | None:
    """The largest ``g`` such that every cost is an integer multiple of ``g``, or None.

    Every plan's cost is then a multiple of ``g`` too, so a lower bound may be rounded up
    to the next multiple. Costs are read as fractions with denominators up to 10,000
    (annualised capital such as £2 m over 7 years is 2,000,000/7).

    >>> cost_grain(np.array([0.0, 150_000.0, 1_005_000.0, 2_000_000.0 / 8]))
    5000.0
    >>> cost_grain(np.array([1.0, np.pi])) is None
    True
    """
    values = [float(c) for c in np.unique(np.abs(cost)) if c > 0]
    if not values:
        return None
    grain = Fraction(0)
    for c in values:
        f = Fraction(c).limit_denominator(10_000)
        if abs(float(f) - c) > 1e-12 * c:
            return None
        grain = Fraction(
            math.gcd(grain.numerator * f.denominator, f.numerator * grain.denominator),
            grain.denominator * f.denominator,
        )
    return float(grain)


def capacity_units(ks: float, km: float) -> tuple[float, float, float, bool]:
    """``(a_s, a_m, unit, integral)`` with ``ks = a_s unit`` and ``km = a_m unit``.

    ``integral`` is True when ``a_s`` and ``a_m`` are small integers, so capacity rows in
    ``unit`` may round their right-hand side up; otherwise the rows stay in scans.

    >>> capacity_units(4675.0, 425.0)
    (11.0, 1.0, 425.0, True)
    """
    if ks <= 0 or km <= 0:
        unit = max(ks, km)
        if unit <= 0:
            return 0.0, 0.0, 1.0, False
        return float(ks > 0), float(km > 0), float(unit), True
    f = Fraction(ks / km).limit_denominator(1000)
    if abs(f.numerator * km - f.denominator * ks) > 1e-9 * f.denominator * ks:
        return float(ks), float(km), 1.0, False
    unit = km / f.denominator
    return float(f.numerator), float(f.denominator), unit, True


@dataclass
class _Round:
    """What one master solve collected through the callback."""

    lower: float
    polls_since_queued: int = 0
    queued: list[tuple[np.ndarray, np.ndarray, float]] = field(default_factory=list)
    plans: int = 0
    repaired: int = 0
    stop: bool = False
    #: HiGHS's incumbent, if any, fits (or costs no less than the best plan that does):
    #: its pruning then holds for the full model, and the solve may run to its proof
    valid: bool = True


def _rows_matrix(
    rows: list[tuple[np.ndarray, np.ndarray, float]], ncol: int
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Rows ``(cols, values, rhs)`` as one sparse matrix and the right-hand sides."""
    sizes = [len(c) for c, _, _ in rows]
    M = sp.csr_matrix(
        (
            np.concatenate([v for _, v, _ in rows]) if rows else np.zeros(0),
            (
                np.repeat(np.arange(len(rows)), sizes),
                np.concatenate([c for c, _, _ in rows]) if rows else np.zeros(0, np.int64),
            ),
        ),
        shape=(len(rows), ncol),
    )
    return M, np.array([b for _, _, b in rows], dtype=float)


class SiteDecomposition:
    """The exact decomposition of a placement model by its site decisions (internal).

    Parameters
    ----------
    model
        A built :class:`~netplan.optimise.PlacementModel` without cyclotron capacity.
    cost
        The full model's objective vector (the cost stage's).
    """

    def __init__(self, model: PlacementFormulation, cost: np.ndarray) -> None:
        self.model = model
        self.cuts = cuts = CapacityCuts(model, regions=False)
        self.cost = cost[cuts.cols]
        self.n = model.n_sites
        self.a_s, self.a_m, self.unit, self.integral = capacity_units(cuts.ks, cuts.km)
        self.lower = model.matrix.lower[cuts.cols].copy()
        self.upper = model.matrix.upper[cuts.cols].copy()
        # hard coverage: every coverable group with demand served in full; for "cost"
        # (hard) coverable zones without demand need an open site in reach too, while
        # "cover_then_cost" weighs coverage by demand and leaves them free
        self.cover_all = model.objective == "cost"
        must = model.group_coverable & ((model.gd > 0) | self.cover_all)
        self.upper[cuts.u0 : cuts.uend] = np.where(must, 0.0, 1.0)
        self.lower[cuts.u0 : cuts.uend] = 0.0
        self._base_rows()
        self.rows: list[tuple[np.ndarray, np.ndarray, float]] = []
        self._strong: list[list[tuple[np.ndarray, np.ndarray, float]]] = []
        self._seen: set[bytes] = set()
        self.last_plan: np.ndarray | None = None  # the last master plan checked
        self.must_serve = must
        self._start_rows()
        self.grain, self.search_cost = self._tie_break()

    def _tie_break(self) -> tuple[float | None, np.ndarray]:
        """The cost grain and the master's objective: the cost less a tie-break.

        Many plans cost the same (England: every plan of 55 single-scanner static sites
        and 12 mobile days), and the master would pick any of them; most leave some city
        short and cost a round each. The tie-break rewards each unit of capacity by the
        demand of the zones that reach its site, so among equal-cost plans the master
        prefers capacity where the demand is. It lowers any plan's cost by less than
        ``_TIE_SHARE`` of the cost grain :func:`cost_grain`, so rounding the master's
        bound up to the next multiple of the grain gives a bound on the true cost, and a
        plan that beats the incumbent by one grain still beats the cutoff. Measured on
        the England default: 5-6 master solves instead of 13-15. Without a grain (costs
        that are not multiples of one number) there is no tie-break.
        """
        grain = cost_grain(self.cost)
        cuts, n, off = self.cuts, self.n, self.model._off
        reach = np.asarray(cuts.B.T @ np.where(cuts.served, self.model.gd, 0.0)).ravel()
        units = float(
            (self.upper[off["s"] : off["s"] + n] * self.a_s).sum()
            + (self.upper[off["m"] : off["m"] + n] * self.a_m).sum()
        )
        if grain is None or reach.max(initial=0.0) <= 0 or units <= 0:
            return None, self.cost
        step = _TIE_SHARE * grain / units  # the reward of one capacity unit at most
        if step < _TIE_MIN * float(np.abs(self.cost).max()):
            return None, self.cost
        weight = step * reach / reach.max()
        search = self.cost.copy()
        search[off["s"] : off["s"] + n] -= self.a_s * weight
        search[off["m"] : off["m"] + n] -= self.a_m * weight
        return grain, search

    def bound(self, value: float) -> float:
        """A bound of the master's objective as a bound of the true cost: rounded up to
        the next multiple of the grain (less a hair for round-off)."""
        if self.grain is None or not math.isfinite(value):
            return value
        return math.ceil(value / self.grain - 1e-6) * self.grain

    # ------------------------------------------------------------------ rows
    def _base_rows(self) -> None:
        """The model's site rows, plus (for ``"cost"``) covering rows for coverable zones
        without demand: hard coverage needs an open site within reach of them too."""
        cuts, model = self.cuts, self.model
        A, lo, hi = cuts.A, cuts.row_lower, cuts.row_upper
        free = np.flatnonzero((model.gd <= 0) & model.group_coverable & self.cover_all)
        if len(free):
            keep = np.isin(model.gp_group, free)
            local = np.searchsorted(free, model.gp_group[keep])
            extra = sp.csr_matrix(
                (np.ones(int(keep.sum())), (local, model._off["y"] + model.gp_site[keep])),
                shape=(len(free), A.shape[1]),
            )
            A = sp.vstack([A, extra], format="csr")
            lo = np.r_[lo, np.ones(len(free))]
            hi = np.r_[hi, np.full(len(free), np.inf)]
        self.A0, self.lo0, self.hi0 = A, lo, hi

    def row(
        self, S: np.ndarray, need: float | None = None
    ) -> tuple[np.ndarray, np.ndarray, float] | None:
        """The capacity row of the site mask ``S`` (None if it is already in); ``need``,
        the demand inside ``S``, is computed when not given."""
        key = np.flatnonzero(S).tobytes()
        if key in self._seen:
            return None
        self._seen.add(key)
        if need is None:
            need = float(self.model.gd[self.cuts.inside(S)].sum())
        return self._capacity_row(np.flatnonzero(S), need)

    def _capacity_row(self, sites: np.ndarray, need: float) -> tuple[np.ndarray, np.ndarray, float]:
        """The capacity row of the site positions ``sites`` with demand ``need`` inside."""
        off = self.model._off
        cols = np.r_[off["s"] + sites, off["m"] + sites]
        vals = np.r_[np.full(len(sites), self.a_s), np.full(len(sites), self.a_m)]
        return cols, vals, float(self._units(np.array([need]))[0])

    def _start_rows(self) -> None:
        cuts, n = self.cuts, self.n
        R, need = cuts.region_sets()
        sizes = np.diff(R.indptr)
        for k in np.flatnonzero(sizes <= _START_SET_SITES):
            S = np.zeros(n, bool)
            S[R.indices[R.indptr[k] : R.indptr[k + 1]]] = True
            self._append(self.rows, self.row(S, need[k]))
        groups = np.flatnonzero(cuts.served & (cuts.size > 0))
        everywhere = np.asarray(cuts.B[groups].sum(axis=0)).ravel() > 0
        self._append(self.rows, self.row(everywhere))
        # the pool: one row per larger reachable set, checked against every plan
        big = np.flatnonzero(sizes > _START_SET_SITES)
        self.pool = R[big]
        self.pool_sets = [R.indices[R.indptr[k] : R.indptr[k + 1]] for k in big]
        self.pool_scans = need[big]
        self.pool_need = self._units(self.pool_scans)
        self.pool_added = np.zeros(len(big), bool)

    def _units(self, need: np.ndarray) -> np.ndarray:
        """Right-hand sides in capacity units: rounded up when the left side is an integer
        (less a hair, so round-off never cuts off a plan that fits exactly)."""
        rhs = np.asarray(need, dtype=float) / self.unit
        return np.ceil(rhs - 1e-6) if self.integral else rhs

    def strengthened(
        self, row: tuple[np.ndarray, np.ndarray, float]
    ) -> list[tuple[np.ndarray, np.ndarray, float]]:
        r"""Two valid rows implied by a capacity row, that its LP relaxation lacks.

        For :math:`\sum_{j \in S} (a^s s_j + a^m m_j) \ge b` (in capacity units):

        * the mixed-integer rounding (MIR) row (Nemhauser and Wolsey 1988, II.1.7;
          Marchand and Wolsey 2001): with :math:`r = b \bmod a^s > 0`,
          :math:`\sum_j s_j + \sum_j a^m m_j / r \ge \lceil b / a^s \rceil`. Valid
          because the scanners are whole; it stops the LP meeting a small need with a
          sliver of a scanner (3 units of need: 3/11 of a scanner for £271 k in the LP,
          against 3 mobile days for £600 k or a scanner for £995 k in integers);
        * the static-site row: :math:`\sum_j t_j + \sum_j a^m m_j / b \ge 1`, since
          either a site of :math:`S` is static or the mobile days alone give :math:`b`.
          It charges a static site's installation in full where the LP halved it
          (:math:`s_j \le 2 t_j`).

        Measured on the England default (pickled model, 2 threads): the master's LP
        bound rises from £38.87 m to £40.18 m (the optimum is £40.99 m), and the loop
        proves the optimum in 11 master solves and 87 s, where without them it ended 13
        solves at a 1.0 % gap.
        """
        cols, vals, b = row
        if b < 0.5 or not self.integral:
            return []
        off, a_s = self.model._off, self.a_s
        is_s = (cols >= off["s"]) & (cols < off["s"] + self.n)
        out = []
        rem = b % a_s
        if a_s > 1 and rem > 0.5 and np.all(vals[~is_s] <= a_s):
            out.append((cols, np.where(is_s, 1.0, vals / rem), float(math.ceil(b / a_s))))
        t_cols = cols[is_s] - off["s"] + off["t"]
        out.append(
            (
                np.r_[t_cols, cols[~is_s]],
                np.r_[np.ones(len(t_cols)), np.minimum(vals[~is_s] / b, 1.0)],
                1.0,
            )
        )
        return out

    def master_rows(self, start: int = 0) -> tuple[sp.csr_matrix, np.ndarray]:
        """The rows from ``start`` on, each with its :meth:`strengthened` rows, as one
        matrix and their right-hand sides (every row is ``>=``)."""
        while len(self._strong) < len(self.rows):
            self._strong.append(self.strengthened(self.rows[len(self._strong)]))
        rows = self.rows[start:] + [r for rs in self._strong[start:] for r in rs]
        return _rows_matrix(rows, self.A0.shape[1])

    def master(self) -> _Matrix:
        """The current master problem: the rows, each with its :meth:`strengthened` rows."""
        R, rhs = self.master_rows()
        k = R.shape[0]
        integer = np.zeros(self.A0.shape[1], bool)
        integer[: self.cuts.u0] = True
        return _Matrix(
            self.search_cost,
            self.lower,
            self.upper,
            integer,
            sp.vstack([self.A0, R], format="csr"),
            np.r_[self.lo0, rhs],
            np.r_[self.hi0, np.full(k, np.inf)],
            [""] * self.A0.shape[1],
        )

    # ------------------------------------------------------------------ LP phase
    def separate_lp(self, time_limit_s: float, threads: int | None) -> float:
        r"""Add the capacity rows the master's LP relaxation violates, before any MIP.

        Repeats: solve the master as an LP; queue the pool sets whose capacity row, MIR row
        or static-site row (:meth:`strengthened`) the LP solution violates (the most
        violated first), and the sets one maximum flow finds short at the LP's fractional
        capacities (the source side of a minimum cut, as for a plan); until nothing is
        violated, ``_LP_ROUNDS`` LPs or the time limit. A cutting-plane loop on LPs of
        a fraction of a second each, where a round of the MIP loop costs a whole MIP
        solve: measured on the England default (one entry node per point), the master's LP
        bound rises from £40.18 m to £40.75 m (optimum £40.99 m) in 9 LPs and 2-4 s, and
        the MIP loop then needs 4 master solves instead of 12 (3 with four entry nodes).
        Returns the last LP's bound (as :meth:`bound`), a lower bound for the full model.
        """
        t0 = time.perf_counter()
        fam, owner = self._pool_family()
        bound = -math.inf
        # one LP, rows added between solves, each solve from the last basis
        session = LPSession(
            dataclasses.replace(self.master(), integer=np.zeros(self.A0.shape[1], bool)), threads
        )
        done = len(self.rows)
        for k in range(_LP_ROUNDS):
            left = time_limit_s - (time.perf_counter() - t0)
            if left < 0.5:
                break
            if done < len(self.rows):
                R, rhs = self.master_rows(done)
                session.add_rows(R, rhs, np.full(len(rhs), np.inf))
                done = len(self.rows)
            status, x, _ = session.solve(left)
            if status != "Optimal":
                break
            bound = max(bound, self.bound(float(self.search_cost @ x)))
            M, rhs = fam
            short = rhs - M @ x
            bad = (short > 1e-6) & ~self.pool_added[owner]
            score = np.zeros(len(self.pool_sets))
            np.maximum.at(score, owner[bad], short[bad])
            cand = np.flatnonzero(score > 0)
            cand = cand[np.argsort(-score[cand], kind="stable")][:_LP_ROWS_PER_ROUND]
            added = 0
            for j in cand:
                self.pool_added[j] = True
                S = np.zeros(self.n, bool)
                S[self.pool_sets[j]] = True
                row = self.row(S, self.pool_scans[j])
                added += row is not None
                self._append(self.rows, row)
            for sites in self.cuts.violated(x, fractional=True):
                S = np.zeros(self.n, bool)
                S[sites] = True
                row = self.row(S)
                added += row is not None
                self._append(self.rows, row)
            logger.debug("LP phase %d: bound %.6g, %d rows added", k + 1, bound, added)
            if not added:
                break
        logger.info(
            "decomposition LP phase: bound %.6g, %d rows, %.1f s",
            bound,
            len(self.rows),
            time.perf_counter() - t0,
        )
        return bound

    def _pool_family(self) -> tuple[tuple[sp.csr_matrix, np.ndarray], np.ndarray]:
        """The capacity, MIR and static-site rows (:meth:`strengthened`) of every pool set
        as one matrix, and the pool set of each row; built a kind of row at a time
        (England's 5,817 sets one by one took 0.23 s, this 0.04 s)."""
        P, off = self.pool.tocsr(), self.model._off
        b = np.asarray(self.pool_need, dtype=float)
        k_of = np.repeat(np.arange(P.shape[0]), np.diff(P.indptr))  # set of each entry
        sites = P.indices.astype(np.int64)
        ones = np.ones(len(b))
        # (sets kept, first block's column offset, its value, the m value, rhs) per kind
        kinds = [(np.ones(len(b), bool), off["s"], self.a_s * ones, self.a_m * ones, b)]
        if self.integral:
            big = b >= 0.5
            rem = np.where(big, b % self.a_s, 0.0)
            if self.a_s > 1 and self.a_m <= self.a_s:
                mir = big & (rem > 0.5)
                a_m = self.a_m / np.where(mir, rem, 1.0)
                kinds.append((mir, off["s"], ones, a_m, np.ceil(b / self.a_s)))
            static = np.minimum(self.a_m / np.where(big, b, 1.0), 1.0)
            kinds.append((big, off["t"], ones, static, ones))
        rows, cols, vals, rhs, owner = [], [], [], [], []
        start = 0
        for keep, first, v_first, v_m, right in kinds:
            kept = np.flatnonzero(keep)
            on = keep[k_of]
            ks, ss = k_of[on], sites[on]
            local = start + np.searchsorted(kept, ks)
            rows += [local, local]
            cols += [first + ss, off["m"] + ss]
            vals += [v_first[ks], v_m[ks]]
            rhs.append(right[kept])
            owner.append(kept)
            start += len(kept)
        M = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(start, self.A0.shape[1]),
        )
        return (M, np.concatenate(rhs)), np.concatenate(owner).astype(np.int64)

    # ------------------------------------------------------------------ checks
    def check(self, x: np.ndarray) -> tuple[bool, list[tuple[np.ndarray, np.ndarray, float]]]:
        """Whether the plan ``x`` admits an assignment, and the new rows it violates.

        Pool rows are checked first (one sparse product); if none is short, one maximum
        flow decides. A violated row may already be queued this round: the plan is then
        rejected with no new row.
        """
        units = self.cuts.capacity(x) / self.unit
        if self.integral:
            units = np.round(units)  # a_s s + a_m m: integers up to round-off
        short = self.pool_need - self.pool @ units
        tol = 0.5 if self.integral else 1e-6 * np.maximum(self.pool_need, 1.0)
        violated = short > tol
        cand = np.flatnonzero(violated & ~self.pool_added)
        cand = cand[np.argsort(-short[cand], kind="stable")][:_POOL_ROWS_PER_PLAN]
        out = []
        for k in cand:
            self.pool_added[k] = True
            S = np.zeros(self.n, bool)
            S[self.pool_sets[k]] = True
            self._append(out, self.row(S, self.pool_scans[k]))
        if violated.any():
            return False, out
        short_sets = self.cuts.violated(x)
        for sites in short_sets:
            S = np.zeros(self.n, bool)
            S[sites] = True
            self._append(out, self.row(S))
        return not short_sets, out

    def start_plan(self, sites: np.ndarray, threads: int | None) -> np.ndarray | None:
        """A master plan with the site columns ``sites`` (the five site blocks), or None
        when those break a site row (fleet, budget, locks, lots) or a bound."""
        k = 5 * self.n
        lower, upper = self.lower.copy(), self.upper.copy()
        fixed = np.round(np.asarray(sites, dtype=float))
        if np.any(fixed < lower[:k] - 1e-9) or np.any(fixed > upper[:k] + 1e-9):
            return None
        lower[:k] = upper[:k] = fixed
        mat = dataclasses.replace(
            self.master(), lower=lower, upper=upper, integer=np.zeros(len(lower), bool)
        )
        info, x, _ = _solve_highs(mat, 10.0, None, threads)
        if info.solver_status != "Optimal":  # an LP: "Infeasible" when a site row breaks
            return None
        return np.r_[fixed, x[k:]]

    @staticmethod
    def _append(out: list, row: tuple[np.ndarray, np.ndarray, float] | None) -> None:
        if row is not None:
            out.append(row)

    # ------------------------------------------------------------------ solve
    def solve(
        self,
        time_limit_s: float,
        mip_gap: float | None,
        threads: int | None,
        max_rounds: int | None = None,
        on_incumbent: Callable[[np.ndarray, float], None] | None = None,
        start: np.ndarray | None = None,
    ) -> tuple[SolveInfo, np.ndarray | None, dict[str, float]]:
        """Run the loop; returns the info, the best plan (master columns) and counts.
        ``max_rounds`` stops it after that many master solves (deterministic);
        ``on_incumbent(plan, gap)`` sees a new best plan (master columns), with its
        relative gap to the bound proven so far, once it has stood for
        ``_INCUMBENT_POLLS`` polls of the search or a round ends on it (a plan beaten
        at once is not passed on); ``start`` (the five site blocks of a plan) is the
        first incumbent when it keeps the site rows and fits (:meth:`start_plan`)."""
        t0 = time.perf_counter()
        rel = _DEFAULT_GAP if mip_gap is None else float(mip_gap)
        best: np.ndarray | None = None
        upper_bound = math.inf
        rounds = plans = 0
        status_text = "not solved"
        lower_bound = self.separate_lp(time_limit_s / 4, threads)
        if start is not None:
            x = self.start_plan(start, threads)
            if x is not None:
                fits, rows = self.check(x)
                self.rows.extend(rows)
                if fits:
                    best, upper_bound = x, float(self.cost @ x)
                fit = "fits" if fits else "does not fit"
                logger.info("decomposition: the start plan %s (%.6g)", fit, self.cost @ x)

        def tolerance(value: float) -> float:
            return max(rel * abs(value), 1e-9 * max(1.0, abs(value)))

        pending: list = []  # [plan, gap, polls since found]: the best plan, not yet passed on

        def announce() -> None:
            if pending and on_incumbent is not None:
                on_incumbent(pending[0], pending[1])
            pending.clear()

        while True:
            left = time_limit_s - (time.perf_counter() - t0)
            if left < 0.5:
                status_text = "time limit reached"
                break
            rounds += 1
            state = _Round(lower=lower_bound)
            announce()  # a plan that stood to the end of the last round

            def on_solution(x: np.ndarray, dual_bound: float, state: _Round = state) -> None:
                nonlocal best, upper_bound
                x = np.r_[np.round(x[: self.cuts.u0]), x[self.cuts.u0 :]]  # no round-off
                objective = float(self.cost @ x)
                if objective >= upper_bound - tolerance(upper_bound):
                    state.valid = True  # HiGHS prunes by a plan no better than ours
                    return
                state.plans += 1
                self.last_plan = x.copy()
                fits, rows = self.check(x)
                bound = max(state.lower, self.bound(dual_bound))
                at_bound = objective <= bound + tolerance(objective)
                state.queued.extend(rows)
                state.valid = fits
                if fits:  # the assignment exists: a plan for the full model
                    upper_bound, best = objective, x.copy()
                    pending[:] = [best, _gap(upper_bound, bound), 0]
                    if _INCUMBENT_POLLS <= 0:
                        announce()
                elif state.repaired == 0:
                    # add capacity where the flow is short: a plan near this one (once a
                    # round: each repair costs a few maximum flows)
                    state.repaired = 1
                    fixed = repair_plan(self, x)
                    if fixed is not None:
                        value = float(self.cost @ fixed)
                        if value < upper_bound - tolerance(upper_bound):
                            upper_bound, best = value, fixed
                            pending[:] = [best, _gap(upper_bound, bound), 0]
                            if _INCUMBENT_POLLS <= 0:
                                announce()
                state.stop |= at_bound

            def should_stop(primal: float, dual: float, state: _Round = state) -> bool:
                if pending:
                    pending[2] += 1
                    if pending[2] >= _INCUMBENT_POLLS:
                        announce()
                if state.stop:
                    return True
                if state.valid:
                    # the plan HiGHS prunes by fits: the rows queued only cut off plans it
                    # prunes anyway, and finishing this solve proves it (England: the
                    # optimum's round went on to its proof instead of one more master)
                    return False
                if state.queued:
                    state.polls_since_queued += 1
                    if state.polls_since_queued > _ROUND_POLLS:
                        return True
                return (
                    len(state.queued) >= _ROUND_CUTS
                    and math.isfinite(primal)
                    and primal - self.bound(dual) <= _ROUND_GAP * abs(primal)
                )

            # prune what cannot beat the incumbent by a grain (see _CUTOFF_SHARE)
            cutoff = None
            if best is not None:
                cutoff = upper_bound - max(
                    tolerance(upper_bound), _CUTOFF_SHARE * (self.grain or 0.0)
                )
            info, x, _ = _solve_highs(
                self.master(),
                left,
                rel,
                threads,
                on_solution=on_solution,
                should_stop=should_stop,
                objective_bound=cutoff,
            )
            status_text = info.solver_status
            if info.solver_status in ("Infeasible", "Bound on objective reached"):
                if best is None or cutoff is None:  # no plan serves every coverable zone
                    return info, None, {"rounds": rounds, "plans": plans, "rows": len(self.rows)}
                lower_bound = max(lower_bound, self.bound(cutoff))
            elif math.isfinite(info.dual_bound):
                lower_bound = max(lower_bound, self.bound(info.dual_bound))
            if info.status in (Status.OPTIMAL, Status.FEASIBLE) and not state.queued:
                # the callback saw every plan; make sure of the last one
                on_solution(x, info.dual_bound)
            plans += state.plans
            self.rows.extend(state.queued)
            # HiGHS calls a stop asked by the callback "Interrupted by user": here it is the
            # round's own end (enough rows queued), not Ctrl-C
            ended = "round ended" if status_text == "Interrupted by user" else status_text
            logger.info(
                "decomposition round %d: %s, master bound %.6g, best plan %.6g, "
                "%d plans checked, %d rows added (%d in all), %d polls after the first, %.1f s",
                rounds,
                ended,
                lower_bound,
                upper_bound,
                state.plans,
                len(state.queued),
                len(self.rows),
                state.polls_since_queued,
                time.perf_counter() - t0,
            )
            if best is not None and upper_bound - lower_bound <= tolerance(upper_bound):
                break
            if not state.queued and best is None:
                break  # no plan and nothing learnt (e.g. the solver stopped without one)
            if max_rounds is not None and rounds >= max_rounds and best is not None:
                status_text = "round limit reached"
                break
        runtime = time.perf_counter() - t0
        counts = {"rounds": rounds, "plans": plans, "rows": len(self.rows)}
        if best is None:
            info = SolveInfo(Status.NOT_SOLVED, math.nan, None, runtime, status_text, lower_bound)
            return info, None, counts
        gap = max(0.0, (upper_bound - lower_bound) / max(abs(upper_bound), 1e-9))
        proven = upper_bound - lower_bound <= tolerance(upper_bound)
        status = status_from_gap(gap, proven=proven)
        text = "optimal" if proven else status_text
        info = SolveInfo(status, upper_bound, gap, runtime, text, lower_bound)
        return info, best, counts


def _gap(upper: float, lower: float) -> float:
    """Relative gap of a plan's cost ``upper`` to the bound ``lower``."""
    return max(0.0, (upper - lower) / max(abs(upper), 1e-9))
