"""The site decomposition as a solve strategy, and the travel stage started alongside it.

:class:`DecompositionStrategy` runs :class:`~netplan.optimise._decompose.SiteDecomposition`
for the placement model (a :class:`~netplan.optimise._core.Strategy`), falls back to the
MIP over the last master plan's sites when the proof is not done, assigns the zones, and,
when a travel stage follows, runs it on the incumbent while the proof goes on
(:class:`~netplan.optimise._travel.SpeculativeTravel`).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from typing import TYPE_CHECKING

import numpy as np

from .. import settings
from ._assign import assign
from ._base import SolveInfo, Status, status_from_gap
from ._core import RawSolution, stage_record
from ._decompose import _DECOMPOSE_RESERVE_S, SiteDecomposition, _gap
from ._starts import restricted_plan
from ._travel import SpeculativeTravel

if TYPE_CHECKING:
    from ._formulation import PlacementFormulation

logger = logging.getLogger(__name__)


class DecompositionStrategy:
    """Solve by :class:`SiteDecomposition` (a :class:`~netplan.optimise._core.Strategy`).

    For ``"cost"`` with hard coverage and ``"cover_then_cost"``, without cyclotron
    capacity (the caller checks). :meth:`solve` returns None when no plan serves every
    coverable zone, or none was found in time, so the caller solves the monolithic MIP.
    The zones always go to the nearest open site with room (:func:`~netplan.optimise.
    _assign.assign`).
    """

    def __init__(self, max_rounds: int | None = None, start: np.ndarray | None = None) -> None:
        self.max_rounds = max_rounds
        self.start = start  # the site blocks of a plan to start from (solve(start=))

    def solve(
        self,
        formulation: PlacementFormulation,
        time_limit_s: float | None,
        mip_gap: float | None,
        threads: int | None,
    ) -> RawSolution | None:
        """Run the decomposition; the plan, its bound and the zones' shares, or None."""
        model = formulation
        limit = float(settings.solver_time_limit_s if time_limit_s is None else time_limit_s)
        t0 = time.perf_counter()
        cost = model._cost_vector()
        dec = SiteDecomposition(model, cost)
        reserve = min(limit / 4, _DECOMPOSE_RESERVE_S)
        # with a travel stage next, it starts on each new incumbent while the proof goes on
        spec = None
        if model.travel_cost_tolerance is not None and SpeculativeTravel.useful():
            spec = SpeculativeTravel(model, model.travel_cost_tolerance)
            spec.prepare()  # the travel groups, in a thread, while the cost stage starts
        try:
            info, plan, counts = dec.solve(
                limit - reserve - (time.perf_counter() - t0),
                mip_gap,
                threads,
                self.max_rounds,
                on_incumbent=None if spec is None else lambda p, g: spec.offer(_values(dec, p), g),
                start=self.start,
            )
        except BaseException:
            if spec is not None:
                spec.cancel()
            raise
        if info.status == Status.INFEASIBLE:  # no plan serves every coverable zone
            logger.info("decomposition: hard coverage infeasible; solving the monolithic MIP")
            return None
        values = None
        if plan is not None:
            values = _values(dec, plan)
        by_rounds = info.solver_status == "round limit reached"
        if info.status != Status.OPTIMAL and dec.last_plan is not None and not by_rounds:
            # not proven in time: the MIP over the last master plan's sites often finds a
            # better plan than the master's checked ones; the master's bound still holds
            used = dec.cuts.capacity(dec.last_plan) > 0
            left = limit - (time.perf_counter() - t0)
            other = restricted_plan(model, used, dec.must_serve, cost, left, threads)
            if other is not None and (values is None or cost @ other < cost @ values):
                values = _served(dec, other)
                logger.info("decomposition: the last master plan's sites gave %.6g", cost @ other)
        if values is None:
            if spec is not None:
                spec.cancel()
            logger.info("decomposition: %s; solving the monolithic MIP", info.solver_status)
            return None
        objective = float(cost @ values)
        gap = _gap(objective, info.dual_bound) if math.isfinite(info.dual_bound) else math.inf
        info = dataclasses.replace(
            info, objective=objective, mip_gap=gap, status=status_from_gap(gap, proven=True)
        )
        u = slice(model._u0, model._u0 + model.n_groups)
        capacity = dec.cuts.capacity(values)
        # with a travel stage next, the zones are assigned once, to its plan
        share = (
            None if model.travel_cost_tolerance is not None else assign(model, capacity, values[u])
        )
        info = dataclasses.replace(info, runtime_s=time.perf_counter() - t0)
        travel = None if spec is None else spec.take(values)
        stages = [("cost", info)]
        if model.objective == "cover_then_cost":
            # every coverable zone served: the first stage's minimum (zero) is reached
            zero = SolveInfo(Status.OPTIMAL, 0.0, 0.0, 0.0, "optimal", 0.0)
            stages.insert(0, ("uncovered_scans", zero))
        note = (
            f"solved by site decomposition: {counts['rounds']} master solves, "
            f"{counts['plans']} plans checked by maximum flow, {counts['rows']} capacity rows; "
            f"bound £{info.dual_bound:,.0f}, zones sent to the nearest open site with room"
        )
        return RawSolution(
            values=values,
            bound=info.dual_bound,
            status=info.status,
            solver="highs",
            infos=tuple(i for _, i in stages),
            stages=tuple(stage_record(label, i) for label, i in stages),
            build_s=model.build_time_s,
            share=share,
            notes=(note,),
            travel=travel,
        )


def _served(dec: SiteDecomposition, values: np.ndarray) -> np.ndarray:
    """``values`` with each group's uncovered share: served iff an open site is within
    reach (zones without demand under ``"cover_then_cost"`` may be left unserved; all
    others are served in full)."""
    model, out = dec.model, values.copy()
    capacity = dec.cuts.capacity(out)
    reach = np.bincount(
        model.gp_group, weights=(capacity > 0)[model.gp_site], minlength=model.n_groups
    )
    out[model._u0 : model._u0 + model.n_groups] = np.where(reach > 0, 0.0, 1.0)
    return out


def _values(dec: SiteDecomposition, plan: np.ndarray) -> np.ndarray:
    """The full column vector of a master plan, as the strategy returns it."""
    values = np.zeros(dec.model._ncol)
    values[dec.cuts.cols] = plan
    return _served(dec, values)
