"""The monolithic strategy: the whole placement MIP solved stage by stage by HiGHS or CBC.

:class:`MonolithicMIP` solves every stage of a formulation's objective (one for
``"cost"``, two for the lexicographic objectives: the second holds the first at its
optimum by one more row) over every column, with HiGHS (``highspy``) or CBC (PuLP). With
hard coverage every coverable group's uncovered share is fixed at zero. On HiGHS it may
first build a starting incumbent for the cost stage (:mod:`netplan.optimise._starts`),
whose time counts in that stage's runtime. It returns a
:class:`~netplan.optimise._core.RawSolution`; it never builds a result.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import settings
from ._base import SolveInfo, Status, raise_for_status
from ._core import RawSolution, stage_record
from ._matrix import _solve_cbc, _solve_highs
from ._starts import start_solution

if TYPE_CHECKING:
    from ._formulation import PlacementFormulation

logger = logging.getLogger(__name__)

# with a good start, HiGHS's own sub-MIP heuristics (RINS, RENS, root reduced cost) cost
# ~20 s of root time at England scale for little gain; the time goes to the bound instead
_WITH_START_OPTIONS = {
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_root_reduced_cost": False,
}
_COST_TYPES = ("cost", "cover_then_cost")


class MonolithicMIP:
    """Solve the full MIP, one stage after the other (a :class:`~netplan.optimise._core.
    Strategy`).

    Parameters
    ----------
    solver
        {"cbc", "highs"} (already checked).
    hard
        Serve every coverable group in full (its uncovered share fixed at zero).
    warm_start
        HiGHS only; None: on for ``"cost"`` and ``"cover_then_cost"`` (see
        :meth:`netplan.optimise.PlacementModel.solve`).
    """

    def __init__(self, solver: str, *, hard: bool, warm_start: bool | None = None) -> None:
        self.solver = solver
        self.hard = hard
        self.warm_start = warm_start

    def solve(
        self,
        formulation: PlacementFormulation,
        time_limit_s: float | None,
        mip_gap: float | None,
        threads: int | None,
    ) -> RawSolution:
        """Solve every stage; raises InfeasibleError or SolverError as the stage ends."""
        model, name, hard = formulation, self.solver, self.hard
        stages_out: list[dict[str, Any]] = []
        matrix = model.matrix
        if hard:
            upper = matrix.upper.copy()
            u = slice(model._u0, model._u0 + model.n_groups)
            upper[u] = np.where(model.group_coverable, 0.0, 1.0)
            matrix = dataclasses.replace(matrix, upper=upper)
        values: np.ndarray | None = None
        build_s = model.build_time_s
        infos: list[SolveInfo] = []
        start = None
        limit = float(settings.solver_time_limit_s if time_limit_s is None else time_limit_s)
        first_limit = limit
        heuristic_s = 0.0
        # The start is built for the cost objective; for lexicographic objectives the cost
        # stage would otherwise start from the first stage's (cost-blind) solution with
        # HiGHS's own heuristics off, which measured worse on the England scenario.
        stages = model._stages()
        if hard:
            for _, c in stages:
                c[model._u0 : model._u0 + model.n_groups] = 0.0
        use_start = name == "highs" and (
            self.warm_start is True or (self.warm_start is None and model.objective in _COST_TYPES)
        )
        # the stage the start is built for (the cost stage), which pays for its time
        start_stage = len(stages) - 1 if model.objective == "cover_then_cost" else 0
        if use_start:
            t_h = time.perf_counter()
            start = start_solution(model, matrix, hard, limit, threads, stages[start_stage][1])
            heuristic_s = time.perf_counter() - t_h
            first_limit = max(limit - heuristic_s, 1.0)
        kept_start = start
        for k, (label, c) in enumerate(stages):
            stage = dataclasses.replace(matrix, cost=c)
            t0 = time.perf_counter()
            if name == "highs":
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
                info = dataclasses.replace(info, runtime_s=info.runtime_s + heuristic_s)
            infos.append(info)
            stages_out.append(stage_record(label, info))
            raise_for_status(
                info, model=f"placement model ({label} stage)", hint=model._infeasible_hint()
            )
            if k + 1 < len(stages):
                # hold this stage's objective at the value found (incumbent) for the next
                tol = 1e-7 * max(1.0, abs(info.objective)) + 1e-6
                matrix = matrix.with_row(c, -np.inf, info.objective + tol)
        assert values is not None
        worst = Status.OPTIMAL
        if any(i.status != Status.OPTIMAL for i in infos):
            worst = Status.FEASIBLE
        return RawSolution(
            values=values,
            bound=infos[-1].dual_bound,
            status=worst,
            solver=name,
            infos=tuple(infos),
            stages=tuple(stages_out),
            build_s=build_s,
        )
