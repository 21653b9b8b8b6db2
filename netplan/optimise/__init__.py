"""Optimisation models: the static + mobile placement model and the classic models.

* :class:`PlacementModel`: static scanners, mobile visit days, tracer supply, capacity and
  user rules under a drive-time standard; returns a :class:`PlacementResult`.
* :class:`LSCP`, :class:`MCLP`, :class:`PMedian`, :class:`PCenter`: classic location
  models on the same data; return a :class:`Solution`.
"""

from __future__ import annotations

from ._base import OPTIMAL_GAP as OPTIMAL_GAP
from ._base import Status as Status
from .classic import LSCP as LSCP
from .classic import MCLP as MCLP
from .classic import PCenter as PCenter
from .classic import PMedian as PMedian
from .placement import OBJECTIVES as OBJECTIVES
from .placement import PlacementModel as PlacementModel
from .result import PlacementResult as PlacementResult
from .result import Solution as Solution
from .rollout import RolloutModel as RolloutModel
from .rollout import RolloutResult as RolloutResult

__all__ = [
    "LSCP",
    "MCLP",
    "OBJECTIVES",
    "OPTIMAL_GAP",
    "PCenter",
    "PMedian",
    "PlacementModel",
    "PlacementResult",
    "RolloutModel",
    "RolloutResult",
    "Solution",
    "Status",
]
