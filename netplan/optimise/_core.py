"""Shared types of the placement model's solve path: constants, RawSolution, Strategy.

This small module is what the pieces of :class:`~netplan.optimise.PlacementModel` share
and may all import: the column blocks of a site and the tolerance used when reading
inputs; :class:`RawSolution`, what a solve strategy hands back (column values, bound,
status and the per-stage records the result is built from); the :class:`Strategy`
protocol every solve strategy meets; and :func:`stage_record`. It imports nothing of the
placement model itself, so the formulation, the strategies and the result builder all
depend on it and never on each other in a circle (nor on ``placement.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import numpy as np

from ._base import SolveInfo, Status

#: Objectives of the placement model (see :class:`~netplan.optimise.PlacementModel`).
OBJECTIVES = ("cost", "drive_time", "max_coverage", "cover_then_cost")
#: Tolerance on minutes and money when inputs are compared with limits.
EPS = 1e-9
#: Per-site column blocks, in column order: open, static-open, mobile-open, scanners, days.
SITE_BLOCKS = ("y", "t", "v", "s", "m")

F_contra = TypeVar("F_contra", contravariant=True)


@dataclass(frozen=True)
class RawSolution:
    """What a solve strategy returns: column values, their bound and status (internal).

    Attributes
    ----------
    values
        Column values of the formulation's matrix (every column).
    bound
        Best proven lower bound of the (last stage's) objective; NaN when unknown.
    status
        :class:`~netplan.optimise.Status` of the worst stage.
    solver
        {"cbc", "highs"}.
    infos
        One :class:`~netplan.optimise._base.SolveInfo` per stage, in order.
    stages
        One record per stage (:func:`stage_record`), as the result reports them.
    build_s
        Time spent building matrices (the formulation's and the solver's own).
    share
        Shares of each zone's demand per (zone, site) pair, or None to take them from
        the pair columns of ``values``.
    notes
        Messages to add to the result, after the formulation's own.
    travel
        The travel stage already run on ``values`` while the strategy was still proving
        them optimal, and the seconds waited for it afterwards; None: not run yet.
    """

    values: np.ndarray
    bound: float
    status: Status
    solver: str
    infos: tuple[SolveInfo, ...]
    stages: tuple[dict[str, Any], ...]
    build_s: float
    share: np.ndarray | None = None
    notes: tuple[str, ...] = ()
    travel: tuple[Any, float] | None = None


class Strategy(Protocol[F_contra]):
    """A way to solve a formulation: the monolithic MIP or the site decomposition.

    ``solve`` returns None when the strategy gives up without a plan (so the caller may
    try another one); it raises :class:`~netplan.InfeasibleError` or
    :class:`~netplan.SolverError` when the model itself cannot be solved.
    """

    def solve(
        self,
        formulation: F_contra,
        time_limit_s: float | None,
        mip_gap: float | None,
        threads: int | None,
    ) -> RawSolution | None:
        """Solve ``formulation`` within ``time_limit_s`` (per stage) to ``mip_gap``."""
        ...


def stage_record(label: str, info: SolveInfo) -> dict[str, Any]:
    """The result's record of one stage: name, status, objective, gap and runtime."""
    return {
        "stage": label,
        "status": str(info.status),
        "objective": info.objective,
        "mip_gap": info.mip_gap,
        "runtime_s": info.runtime_s,
    }
