"""A MIP in matrix form and the two backends that solve it.

The placement model, its site-level master problems and the assignment LP are all built
as sparse matrices (:class:`_Matrix`). ``_solve_highs`` hands them straight to HiGHS
(``highspy``), with callbacks for every MIP solution and for interrupting the search;
``_solve_cbc`` writes the same rows as a PuLP problem for the CBC binary bundled with PuLP.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pulp
import scipy.sparse as sp

from ._base import SolveInfo, Status, relative_gap, solve_pulp, status_from_gap

_SCHEDULER_THREADS: int | None = None  # threads of HiGHS's global pool (see _solve_highs)


@dataclass
class _Matrix:
    """A MIP in matrix form: minimise c'x, row_lower <= A x <= row_upper, bounds, integrality."""

    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray
    A: sp.csr_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    names: list[str]

    def with_row(self, coefs: np.ndarray, lo: float, hi: float) -> _Matrix:
        """Return a copy with one more dense row (used by the lexicographic stages)."""
        row = sp.csr_matrix(coefs.reshape(1, -1))
        return _Matrix(
            self.cost,
            self.lower,
            self.upper,
            self.integer,
            sp.vstack([self.A, row], format="csr"),
            np.append(self.row_lower, lo),
            np.append(self.row_upper, hi),
            self.names,
        )


class _Rows:
    """Accumulate COO blocks of constraint rows."""

    def __init__(self) -> None:
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.n = 0

    def add(
        self,
        rows: np.ndarray,
        cols: np.ndarray,
        vals: np.ndarray,
        lo: np.ndarray | float,
        hi: np.ndarray | float,
        count: int,
    ) -> None:
        """Add ``count`` rows; ``rows`` are local (0..count-1)."""
        if count == 0:
            return
        self.r.append(np.asarray(rows, dtype=np.int64) + self.n)
        self.c.append(np.asarray(cols, dtype=np.int64))
        self.v.append(np.asarray(vals, dtype=float))
        self.lo.append(np.broadcast_to(np.asarray(lo, dtype=float), (count,)).copy())
        self.hi.append(np.broadcast_to(np.asarray(hi, dtype=float), (count,)).copy())
        self.n += count

    def matrix(self, n_cols: int) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        if not self.r:
            return sp.csr_matrix((0, n_cols)), np.zeros(0), np.zeros(0)
        A = sp.coo_matrix(
            (np.concatenate(self.v), (np.concatenate(self.r), np.concatenate(self.c))),
            shape=(self.n, n_cols),
        ).tocsr()
        A.sum_duplicates()
        return A, np.concatenate(self.lo), np.concatenate(self.hi)


# ---------------------------------------------------------------------- backends
def _new_highs(highspy: Any, *, log: bool) -> Any:
    """Create a Highs object; its copyright banner goes to C stdout unless ``log``.

    The library never prints: with logging off, file descriptor 1 points at the null
    device while HiGHS starts (set NETPLAN_SOLVER_LOG=1 to see the solver's log).
    """
    if log:
        return highspy.Highs()
    sys.stdout.flush()
    saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)
    return h


def _set_threads(highspy: Any, h: Any, threads: int | None) -> None:
    """Ask for ``threads`` (None: HiGHS's own choice), rebuilding HiGHS's global thread
    pool when an earlier solve of this process asked for another count."""
    global _SCHEDULER_THREADS
    wanted = 0 if threads is None else int(threads)  # 0: HiGHS's own choice
    if _SCHEDULER_THREADS is not None and wanted != _SCHEDULER_THREADS:
        # HiGHS keeps one global thread pool per process and refuses to run (model status
        # "Not Set") when a later solve asks for another thread count: rebuild the pool
        highspy.Highs.resetGlobalScheduler(True)
    _SCHEDULER_THREADS = wanted
    if threads is not None:
        h.setOptionValue("threads", int(threads))


def _highs_lp(highspy: Any, mat: _Matrix) -> tuple[Any, float]:
    """The matrix as a ``HighsLp``, and the factor its objective was divided by."""
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    ncol, nrow = len(mat.cost), mat.A.shape[0]
    lp.num_col_, lp.num_row_ = ncol, nrow
    # scale the objective so its largest coefficient is about 1e6 (the uncovered penalty
    # can reach 1e10, far beyond HiGHS's dual tolerance); the gap is scale-free
    scale = max(1.0, float(np.abs(mat.cost).max(initial=0.0)) / 1e6)
    lp.col_cost_ = mat.cost / scale
    lp.col_lower_ = np.where(np.isfinite(mat.lower), mat.lower, -inf)
    lp.col_upper_ = np.where(np.isfinite(mat.upper), mat.upper, inf)
    lp.row_lower_ = np.where(np.isfinite(mat.row_lower), mat.row_lower, -inf)
    lp.row_upper_ = np.where(np.isfinite(mat.row_upper), mat.row_upper, inf)
    csc = mat.A.tocsc()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data.astype(float)
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = ncol, nrow
    if mat.integer.any():
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if k else highspy.HighsVarType.kContinuous
            for k in mat.integer
        ]
    return lp, scale


class LPSession:
    """A linear program kept in one HiGHS instance (internal): rows are added between
    solves, and each solve starts from the last optimal basis (HiGHS skips presolve when
    it has a valid basis), instead of a new model, presolve and crash every time.

    The cutting-plane loop of :meth:`netplan.optimise._decompose.SiteDecomposition.
    separate_lp` adds a few rows per LP: measured on the England default, its 18 LPs took
    1.5 s as fresh solves (0.07 s each in HiGHS plus building) and a fraction of that here.
    """

    def __init__(self, mat: _Matrix, threads: int | None) -> None:
        import highspy

        self.highspy = highspy
        self.h = h = _new_highs(highspy, log=os.environ.get("NETPLAN_SOLVER_LOG") == "1")
        _set_threads(highspy, h, threads)
        lp, self.scale = _highs_lp(highspy, mat)
        h.passModel(lp)

    def add_rows(self, A: sp.csr_matrix, lower: np.ndarray, upper: np.ndarray) -> None:
        """Add the rows ``lower <= A x <= upper``."""
        if A.shape[0] == 0:
            return
        inf = self.highspy.kHighsInf
        A = sp.csr_matrix(A)
        self.h.addRows(
            A.shape[0],
            np.where(np.isfinite(lower), lower, -inf).astype(float),
            np.where(np.isfinite(upper), upper, inf).astype(float),
            A.nnz,
            A.indptr.astype(np.int32),
            A.indices.astype(np.int32),
            A.data.astype(float),
        )

    def solve(self, time_limit_s: float) -> tuple[str, np.ndarray, float]:
        """Solve from the last basis: HiGHS's model status, the solution, the objective."""
        h = self.h
        h.setOptionValue("time_limit", float(time_limit_s))
        h.run()
        status = h.modelStatusToString(h.getModelStatus())
        x = np.asarray(h.getSolution().col_value, dtype=float)
        return status, x, float(h.getInfo().objective_function_value) * self.scale


def _solve_highs(
    mat: _Matrix,
    time_limit_s: float | None,
    mip_gap: float | None,
    threads: int | None,
    start: np.ndarray | None = None,
    options: Mapping[str, Any] | None = None,
    *,
    on_solution: Callable[[np.ndarray, float], None] | None = None,
    should_stop: Callable[[float, float], bool] | None = None,
    objective_bound: float | None = None,
) -> tuple[SolveInfo, np.ndarray, float]:
    """Solve the matrix with highspy directly (``options``: extra HiGHS options).

    ``on_solution(x, dual_bound)`` sees every MIP solution HiGHS finds;
    ``should_stop(primal_bound, dual_bound)`` may interrupt the search; with
    ``objective_bound`` HiGHS prunes every node that cannot beat it (all three in the
    model's own objective units).
    """
    import highspy

    from .. import settings

    t0 = time.perf_counter()
    h = _new_highs(highspy, log=os.environ.get("NETPLAN_SOLVER_LOG") == "1")
    h.setOptionValue(
        "time_limit", float(settings.solver_time_limit_s if time_limit_s is None else time_limit_s)
    )
    if mip_gap is not None:
        h.setOptionValue("mip_rel_gap", float(mip_gap))
    _set_threads(highspy, h, threads)
    for key, value in (options or {}).items():
        h.setOptionValue(key, value)
    lp, scale = _highs_lp(highspy, mat)
    h.passModel(lp)
    if objective_bound is not None and math.isfinite(objective_bound):
        h.setOptionValue("objective_bound", float(objective_bound) / scale)
    if on_solution is not None:
        h.cbMipSolution.subscribe(
            lambda e: on_solution(
                np.asarray(e.data_out.mip_solution, dtype=float),
                float(e.data_out.mip_dual_bound) * scale,
            )
        )
    if should_stop is not None:

        def interrupt(e: Any) -> None:
            out = e.data_out
            if should_stop(float(out.mip_primal_bound) * scale, float(out.mip_dual_bound) * scale):
                e.interrupt()

        h.cbMipInterrupt.subscribe(interrupt)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(start, dtype=float)
        sol.value_valid = True
        h.setSolution(sol)
    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    h.run()
    runtime_s = time.perf_counter() - t1
    ms = h.getModelStatus()
    info = h.getInfo()
    objective = float(info.objective_function_value) * scale
    MS = highspy.HighsModelStatus
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    gap = float(info.mip_gap) if math.isfinite(info.mip_gap) else math.inf
    if ms == MS.kOptimal:
        status = status_from_gap(gap, proven=True)
    elif ms in (MS.kInfeasible, MS.kUnboundedOrInfeasible):
        status = Status.INFEASIBLE
    elif ms == MS.kUnbounded:
        status = Status.UNBOUNDED
    elif has_solution:
        status = Status.FEASIBLE
        if not math.isfinite(gap):
            gap = relative_gap(objective, float(info.mip_dual_bound) * scale)
    else:
        status = Status.NOT_SOLVED
    values = np.asarray(h.getSolution().col_value, dtype=float)
    bound = float(info.mip_dual_bound) * scale if mat.integer.any() else objective
    return (
        SolveInfo(status, objective, gap, runtime_s, h.modelStatusToString(ms), bound),
        values,
        build_s,
    )


def _solve_cbc(
    mat: _Matrix, time_limit_s: float | None, mip_gap: float | None, threads: int | None
) -> tuple[SolveInfo, np.ndarray, float]:
    """Build the matrix as a PuLP problem and solve it with the bundled CBC."""
    t0 = time.perf_counter()
    prob = pulp.LpProblem("placement", pulp.LpMinimize)
    cols = []
    for k, name in enumerate(mat.names):
        lo = mat.lower[k] if np.isfinite(mat.lower[k]) else None
        hi = mat.upper[k] if np.isfinite(mat.upper[k]) else None
        cols.append(
            pulp.LpVariable(
                name,
                lowBound=lo,
                upBound=hi,
                cat=pulp.LpInteger if mat.integer[k] else pulp.LpContinuous,
            )
        )
    nz = np.flatnonzero(mat.cost)
    prob += pulp.LpAffineExpression([(cols[k], float(mat.cost[k])) for k in nz])
    A = mat.A
    for r in range(A.shape[0]):
        lo, hi = mat.row_lower[r], mat.row_upper[r]
        a, b = A.indptr[r], A.indptr[r + 1]
        expr = pulp.LpAffineExpression(
            [
                (cols[k], float(v))
                for k, v in zip(A.indices[a:b].tolist(), A.data[a:b].tolist(), strict=True)
            ]
        )
        if np.isfinite(lo) and np.isfinite(hi) and lo == hi:
            prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintEQ, f"r{r}", float(lo)))
            continue
        if np.isfinite(lo):
            prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintGE, f"r{r}l", float(lo)))
        if np.isfinite(hi):
            prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintLE, f"r{r}u", float(hi)))
    build_s = time.perf_counter() - t0
    info = solve_pulp(
        prob, solver="cbc", time_limit_s=time_limit_s, mip_gap=mip_gap, threads=threads
    )
    values = np.array([v.varValue if v.varValue is not None else 0.0 for v in cols])
    return info, values, build_s
