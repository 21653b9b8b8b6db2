"""The small HiGHS model both rota formulations build, and their two-stage solve.

:class:`RotaMip` collects columns and rows in blocks (index lists) and solves with HiGHS
at a zero relative gap; :func:`solve_two_stage` solves a first objective to optimality,
keeps it at its optimum (a tolerance for the float sum) and solves a second one. The
time-expanded flow (:mod:`netplan.optimise.rota`) and the week patterns
(:mod:`netplan.optimise._rota_patterns`) share both, so their statuses mean the same.
"""

from __future__ import annotations

import math

import numpy as np


class RotaMip:
    """Columns and rows of a HiGHS model, added in blocks (index arrays).

    ``presolve=False`` skips HiGHS's presolve: on the pattern MIP (thousands of columns
    over a hundred rows) it took 2-5 s of a solve whose branch and bound takes under one.
    """

    def __init__(self, *, presolve: bool = True) -> None:
        self.presolve = presolve
        self.cost: list[float] = []
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.integer: list[bool] = []
        self.rows: list[tuple[list[int], list[float], float, float]] = []

    def var(self, *, cost: float = 0.0, upper: float = 1.0, integer: bool = True) -> int:
        """A new column (lower bound 0); its index."""
        self.cost.append(cost)
        self.lower.append(0.0)
        self.upper.append(upper)
        self.integer.append(integer)
        return len(self.cost) - 1

    def row(self, cols: list[int], vals: list[float], lo: float, hi: float) -> None:
        """``lo <= sum(vals * x[cols]) <= hi`` (an empty row is left out)."""
        if cols:
            self.rows.append((cols, vals, lo, hi))

    def solve(
        self, cost: np.ndarray, time_limit_s: float, *, relax: bool = False
    ) -> tuple[str, np.ndarray, float]:
        """Minimise ``cost``: {"optimal", "infeasible", "time_limit", "not_solved"}, the
        column values and the objective (``time_limit``: the best rota found).

        ``relax``: the LP relaxation, and the columns' reduced costs instead of values.
        """
        import highspy
        import scipy.sparse as sp

        n = len(self.lower)
        r_idx = [i for i, (cols, _, _, _) in enumerate(self.rows) for _ in cols]
        c_idx = [c for cols, _, _, _ in self.rows for c in cols]
        vals = [v for _, vs, _, _ in self.rows for v in vs]
        a = sp.csc_matrix((vals, (r_idx, c_idx)), shape=(len(self.rows), n))
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, len(self.rows)
        lp.col_cost_ = np.asarray(cost, float)
        lp.col_lower_ = np.asarray(self.lower, float)
        lp.col_upper_ = np.asarray(self.upper, float)
        lp.row_lower_ = np.array([r[2] for r in self.rows], float)
        lp.row_upper_ = np.array([r[3] for r in self.rows], float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr
        lp.a_matrix_.index_ = a.indices
        lp.a_matrix_.value_ = a.data
        if relax:
            lp.integrality_ = [highspy.HighsVarType.kContinuous] * n
        else:
            lp.integrality_ = [
                highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                for i in self.integer
            ]
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", float(max(time_limit_s, 1.0)))
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("mip_abs_gap", 1e-7)
        if not self.presolve:
            h.setOptionValue("presolve", "off")
        h.passModel(lp)
        h.run()
        st = h.getModelStatus()
        ok = highspy.HighsModelStatus
        sol = np.asarray(h.getSolution().col_value, float)
        has = h.getInfo().primal_solution_status == 2 and len(sol) == n
        if st == ok.kOptimal:
            if relax:
                sol = np.asarray(h.getSolution().col_dual, float)
            return "optimal", sol, float(h.getInfo().objective_function_value)
        if st == ok.kInfeasible:
            return "infeasible", np.zeros(n), math.nan
        if has:
            return "time_limit", sol, float(h.getInfo().objective_function_value)
        return "not_solved", np.zeros(n), math.nan


def solve_two_stage(
    mdl: RotaMip,
    first: np.ndarray,
    later: np.ndarray,
    time_limit_s: float,
    *,
    fix_by_reduced_cost: bool = False,
) -> tuple[str, np.ndarray]:
    """Minimise ``first``, then ``later`` with ``first`` kept at its optimum.

    Returns {"optimal", "feasible", "infeasible", "not_solved"} and the column values:
    ``feasible`` when a stage stopped at its time limit with a rota (the first stage's
    optimum is then not proven, or the second's).

    ``fix_by_reduced_cost``: before the second stage, solve the first's LP relaxation
    (bound ``z_LP``, reduced costs ``d_j``) and fix to 0 every integer column with
    ``z_LP + d_j`` above the first stage's optimum ``z*``: for any solution,
    ``first . x >= z_LP + d_j x_j`` (LP duality, every other term is >= 0), so such a
    column is 0 in every solution that keeps ``z*``. Exact, and it leaves the second
    stage the few columns that can still be in an optimal rota.
    """
    status, sol, obj = mdl.solve(first, time_limit_s)
    if status not in ("optimal", "time_limit"):
        return status, sol
    if status == "optimal" and later.any():
        keep = np.flatnonzero(first)
        tol = 1e-6 * max(1.0, abs(obj))
        upper = list(mdl.upper)
        if fix_by_reduced_cost:
            st_lp, reduced, z_lp = mdl.solve(first, time_limit_s, relax=True)
            if st_lp == "optimal":
                slack = obj + tol - z_lp + 1e-6 * max(1.0, abs(obj))
                out = (reduced > slack) & np.asarray(mdl.integer)
                mdl.upper = [0.0 if o else u for o, u in zip(out, upper, strict=True)]
        mdl.row(list(map(int, keep)), list(first[keep]), -np.inf, obj + tol)
        st2, sol2, _ = mdl.solve(later, time_limit_s)
        if st2 in ("optimal", "time_limit"):
            sol = sol2
            status = "optimal" if st2 == "optimal" else "feasible"
        mdl.rows.pop()
        mdl.upper = upper
    elif status == "time_limit":
        status = "feasible"
    return status, sol
