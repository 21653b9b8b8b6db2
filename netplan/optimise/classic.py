"""Classic facility-location models: LSCP, MCLP, p-median and p-center.

They share one shape (after spopt's ``locate`` models, with its rough edges fixed):
``from_cost_matrix`` and ``from_od`` constructors with keyword-only options, and a
``solve()`` that returns a frozen :class:`~netplan.optimise.result.Solution` instead of
setting attributes on the model. Infeasible instances raise
:class:`~netplan.InfeasibleError` carrying the PuLP status. PuLP variables are named from
the site and demand ids.

Examples
--------
>>> import numpy as np
>>> cost = np.array([[1.0, 9.0], [9.0, 1.0], [2.0, 2.0]])
>>> LSCP.from_cost_matrix(cost, max_cost=3).solve().selected_sites
(0, 1)
>>> PMedian.from_cost_matrix(cost, p=1).solve().objective
12.0
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pulp

from .._errors import InfeasibleError, ValidationError
from .._validate import check_od
from ._base import Status, raise_for_status, safe_name, solve_pulp
from .result import Solution

logger = logging.getLogger(__name__)

_INFEASIBLE = pulp.LpStatus[pulp.LpStatusInfeasible]


#: What a model's ``_formulate`` returns: problem, site variables, hint, objective function.
_Formulation = tuple[
    pulp.LpProblem, list[pulp.LpVariable], str, Callable[[pd.DataFrame], float] | None
]


class _ClassicModel:
    """Common state: a demand x site cost matrix (NaN = pair not allowed) and weights."""

    name: ClassVar[str] = "model"

    def __init__(
        self,
        cost: pd.DataFrame,
        *,
        weights: pd.Series | None = None,
        max_cost: float | None = None,
        p: int | None = None,
    ) -> None:
        if not isinstance(cost, pd.DataFrame):
            msg = f"{self.name}: cost must be a DataFrame (demand x sites); use from_cost_matrix"
            raise ValidationError(msg)
        if cost.index.has_duplicates or cost.columns.has_duplicates:
            msg = f"{self.name}: demand ids (index) and site ids (columns) must be unique"
            raise ValidationError(msg)
        values = cost.to_numpy(dtype=float)
        if np.any(values < 0):
            msg = f"{self.name}: negative costs in the matrix; costs must be >= 0"
            raise ValidationError(msg)
        values = np.where(np.isfinite(values), values, np.nan)
        self.cost = pd.DataFrame(values, index=cost.index, columns=cost.columns)
        if weights is None:
            weights = pd.Series(1.0, index=cost.index)
        weights = pd.Series(weights, dtype=float)
        missing = cost.index.difference(weights.index)
        if len(missing):
            msg = f"{self.name}: no weight for demand ids {list(missing[:10])}"
            raise ValidationError(msg)
        self.weights = weights.reindex(cost.index)
        if (self.weights < 0).any() or self.weights.isna().any():
            msg = f"{self.name}: weights must be finite and >= 0"
            raise ValidationError(msg)
        self.max_cost = None if max_cost is None else float(max_cost)
        self.p = None if p is None else int(p)

    # ----------------------------------------------------------------- constructors
    @classmethod
    def from_cost_matrix(
        cls,
        cost: pd.DataFrame | np.ndarray,
        *,
        demand_ids: Sequence[Any] | None = None,
        site_ids: Sequence[Any] | None = None,
        weights: pd.Series | Sequence[float] | np.ndarray | None = None,
        **options: Any,
    ) -> Any:
        """Build the model from a demand x site cost matrix.

        Parameters
        ----------
        cost
            Rows are demand points, columns candidate sites; NaN or inf marks a pair
            that may not be used. A DataFrame supplies the ids from its index/columns.
        demand_ids, site_ids
            Ids for an array matrix; default ``0..n-1``.
        weights
            Demand weights (population, scans ...); default 1 each.
        **options
            Model options (``max_cost``, ``p``) passed to the class.

        Returns
        -------
        model
        """
        if isinstance(cost, pd.DataFrame):
            frame = cost.astype(float)
        else:
            arr = np.asarray(cost, dtype=float)
            if arr.ndim != 2:
                msg = f"{cls.name}: cost must be 2-D (demand x sites), got shape {arr.shape}"
                raise ValidationError(msg)
            rows = list(demand_ids) if demand_ids is not None else list(range(arr.shape[0]))
            cols = list(site_ids) if site_ids is not None else list(range(arr.shape[1]))
            frame = pd.DataFrame(arr, index=rows, columns=cols)
        w = None
        if weights is not None:
            w = (
                weights
                if isinstance(weights, pd.Series)
                else pd.Series(np.asarray(weights, dtype=float), index=frame.index)
            )
        return cls(frame, weights=w, **options)

    @classmethod
    def from_od(
        cls,
        od: pd.DataFrame,
        *,
        weights: pd.Series | None = None,
        demand_ids: Sequence[Any] | None = None,
        site_ids: Sequence[Any] | None = None,
        origin_col: str = "origin_id",
        destination_col: str = "destination_id",
        value_col: str = "minutes",
        **options: Any,
    ) -> Any:
        """Build the model from a long-form OD table (``origin_id, destination_id, minutes``).

        Pairs absent from the table are not allowed (for instance beyond the cut-off the
        table was computed with). Pass ``demand_ids`` / ``site_ids`` to keep demand points
        or sites that have no row at all.

        Returns
        -------
        model
        """
        check_od(
            od,
            source=f"{cls.name} od",
            origin_col=origin_col,
            destination_col=destination_col,
            value_col=value_col,
            origins=demand_ids,
            destinations=site_ids,
            origin_what="demand ids",
            destination_what="site ids",
        )
        table = od.pivot_table(
            index=origin_col, columns=destination_col, values=value_col, aggfunc="min"
        )
        if demand_ids is not None:
            table = table.reindex(index=list(demand_ids))
        if site_ids is not None:
            table = table.reindex(columns=list(site_ids))
        table.index.name = None
        table.columns.name = None
        return cls.from_cost_matrix(table, weights=weights, **options)

    # ---------------------------------------------------------------- helpers
    @property
    def demand_ids(self) -> list[Any]:
        return list(self.cost.index)

    @property
    def site_ids(self) -> list[Any]:
        return list(self.cost.columns)

    def _site_vars(self) -> list[pulp.LpVariable]:
        return [
            pulp.LpVariable(safe_name("y", j, sid), cat=pulp.LpBinary)
            for j, sid in enumerate(self.site_ids)
        ]

    def _check_p(self) -> int:
        n = len(self.site_ids)
        if self.p is None or self.p < 1:
            msg = f"{self.name}: p (number of sites to choose) must be a positive integer"
            raise ValidationError(msg)
        if self.p > n:
            msg = (
                f"{self.name} is infeasible: p={self.p} sites asked for but only {n} "
                f"candidate site(s) exist; lower p to at most {n}."
            )
            raise InfeasibleError(msg, _INFEASIBLE)
        return self.p

    def _covering(self) -> np.ndarray:
        if self.max_cost is None:
            msg = f"{self.name}: max_cost (service standard, matrix units) is required"
            raise ValidationError(msg)
        values = self.cost.to_numpy()
        return np.nan_to_num(values, nan=np.inf) <= self.max_cost + 1e-9

    def _nearest_assignment(self, selected: np.ndarray) -> pd.DataFrame:
        values = np.nan_to_num(self.cost.to_numpy(), nan=np.inf)
        masked = np.where(selected[None, :], values, np.inf)
        best = masked.argmin(axis=1) if masked.shape[1] else np.zeros(len(masked), int)
        best_cost = masked[np.arange(len(masked)), best] if masked.shape[1] else np.inf
        has = np.isfinite(best_cost)
        sites = np.array(self.site_ids, dtype=object)
        frame = pd.DataFrame(
            {
                "demand_id": self.demand_ids,
                "site_id": np.where(has, sites[best] if len(sites) else None, None),
                "cost": np.where(has, best_cost, np.nan),
            }
        )
        limit = np.inf if self.max_cost is None else self.max_cost + 1e-9
        frame["covered"] = has & (frame["cost"].to_numpy() <= limit)
        return frame

    def _formulate(self) -> _Formulation:
        """Build the PuLP problem: (problem, site variables, infeasibility hint, objective).

        The objective is a function of the nearest-site assignment that recomputes the
        model's objective exactly, or None to take the solver's value.
        """
        raise NotImplementedError

    def solve(
        self,
        *,
        solver: str = "cbc",
        time_limit_s: float | None = None,
        mip_gap: float | None = None,
    ) -> Solution:
        """Solve with CBC (PuLP) or HiGHS and return a frozen :class:`Solution`.

        The model is not changed: solving twice gives two independent solutions.

        Parameters
        ----------
        solver
            {"cbc", "highs"}.
        time_limit_s
            Wall-clock limit; default ``settings.solver_time_limit_s``.
        mip_gap
            Relative MIP gap at which the solver may stop.

        Returns
        -------
        Solution
            Selected sites, nearest-site assignment, objective, status, gap, run time.

        Raises
        ------
        InfeasibleError
            When the instance has no solution (e.g. ``p`` above the number of sites, or a
            demand point with no site within ``max_cost`` for LSCP), with the PuLP status.
        """
        prob, y, hint, objective = self._formulate()
        return self._solution(
            prob,
            y,
            solver=solver,
            time_limit_s=time_limit_s,
            mip_gap=mip_gap,
            hint=hint,
            objective=objective,
        )

    def _solution(
        self,
        prob: pulp.LpProblem,
        y: list[pulp.LpVariable],
        *,
        solver: str,
        time_limit_s: float | None,
        mip_gap: float | None,
        hint: str,
        objective: Any = None,
    ) -> Solution:
        info = solve_pulp(prob, solver=solver, time_limit_s=time_limit_s, mip_gap=mip_gap)
        raise_for_status(info, model=self.name, hint=hint)
        selected = np.array([(v.varValue or 0.0) > 0.5 for v in y], dtype=bool)
        assignment = self._nearest_assignment(selected)
        value = info.objective if objective is None else float(objective(assignment))
        return Solution(
            model=self.name,
            selected_sites=tuple(s for s, k in zip(self.site_ids, selected, strict=False) if k),
            assignment=assignment,
            objective=value,
            status=info.status,
            mip_gap=info.mip_gap,
            runtime_s=info.runtime_s,
            solver=solver,
        )

    def __repr__(self) -> str:
        extra = []
        if self.max_cost is not None:
            extra.append(f"max_cost={self.max_cost:g}")
        if self.p is not None:
            extra.append(f"p={self.p}")
        return (
            f"{self.name}({len(self.demand_ids)} demand x {len(self.site_ids)} sites"
            + (", " + ", ".join(extra) if extra else "")
            + ")"
        )


class LSCP(_ClassicModel):
    r"""Location set covering problem: fewest sites so every demand point is covered.

    .. math::

        \min \sum_{j \in J} y_j
        \quad \text{s.t.} \quad \sum_{j \in N_i} y_j \ge 1 \;\; \forall i \in I,
        \qquad y_j \in \{0, 1\},

    where :math:`N_i = \{j : c_{ij} \le S\}` is the set of sites within the standard
    :math:`S` (``max_cost``) of demand point :math:`i`.

    Parameters
    ----------
    cost
        Demand x site cost matrix (DataFrame; NaN = not allowed).
    max_cost
        Service standard, in the matrix's unit (minutes for :meth:`from_od`).
    weights
        Ignored by the objective; kept for a common signature.

    Raises
    ------
    InfeasibleError
        From :meth:`solve` when a demand point has no site within the standard.
    """

    name = "LSCP"

    def __init__(self, cost: pd.DataFrame, *, max_cost: float, weights: pd.Series | None = None):
        super().__init__(cost, weights=weights, max_cost=max_cost)

    def _formulate(self) -> _Formulation:
        """Build the problem; the objective is the number of sites.

        Raises
        ------
        InfeasibleError
            If a demand point has no candidate within ``max_cost``.
        """
        a = self._covering()
        lonely = ~a.any(axis=1)
        if lonely.any():
            ids = [d for d, k in zip(self.demand_ids, lonely, strict=False) if k]
            msg = (
                f"LSCP is infeasible: {int(lonely.sum())} demand point(s) have no candidate "
                f"site within {self.max_cost:g}: {ids[:10]}. Add candidates, raise max_cost, "
                "or use MCLP to cover as much as possible."
            )
            raise InfeasibleError(msg, _INFEASIBLE)
        prob = pulp.LpProblem("LSCP", pulp.LpMinimize)
        y = self._site_vars()
        prob += pulp.lpSum(y)
        for i, did in enumerate(self.demand_ids):
            cols = np.flatnonzero(a[i])
            prob += pulp.lpSum(y[j] for j in cols) >= 1, safe_name("cover", i, did)
        return prob, y, "Add candidate sites or raise max_cost.", None


class MCLP(_ClassicModel):
    r"""Maximal covering location problem: ``p`` sites covering the most demand weight.

    .. math::

        \max \sum_{i \in I} w_i z_i
        \quad \text{s.t.} \quad z_i \le \sum_{j \in N_i} y_j \;\; \forall i,
        \qquad \sum_{j} y_j = p, \qquad y_j \in \{0,1\},\; 0 \le z_i \le 1,

    with :math:`N_i = \{j : c_{ij} \le S\}` (``max_cost`` = :math:`S`). :math:`z_i` is
    continuous: at an optimum it is 0 or 1 because :math:`y` is integral.

    Parameters
    ----------
    cost
        Demand x site cost matrix.
    max_cost
        Service standard :math:`S`.
    p
        Number of sites to open.
    weights
        Demand weights :math:`w_i` (default 1).
    """

    name = "MCLP"

    def __init__(
        self,
        cost: pd.DataFrame,
        *,
        max_cost: float,
        p: int,
        weights: pd.Series | None = None,
    ) -> None:
        super().__init__(cost, weights=weights, max_cost=max_cost, p=p)

    def _formulate(self) -> _Formulation:
        """Build the problem; the objective is the covered weight.

        Raises
        ------
        InfeasibleError
            If ``p`` exceeds the number of candidate sites.
        """
        p = self._check_p()
        a = self._covering()
        prob = pulp.LpProblem("MCLP", pulp.LpMaximize)
        y = self._site_vars()
        z = [
            pulp.LpVariable(safe_name("z", i, did), lowBound=0, upBound=1)
            for i, did in enumerate(self.demand_ids)
        ]
        w = self.weights.to_numpy()
        prob += pulp.lpSum(float(w[i]) * z[i] for i in range(len(z)))
        for i, did in enumerate(self.demand_ids):
            cols = np.flatnonzero(a[i])
            prob += z[i] <= pulp.lpSum(y[j] for j in cols), safe_name("cover", i, did)
        prob += pulp.lpSum(y) == p, "p_sites"

        def covered_weight(assignment: pd.DataFrame) -> float:
            return float((w * assignment["covered"].to_numpy()).sum())

        return prob, y, "Check p and the candidate sites.", covered_weight


class _AssignmentModel(_ClassicModel):
    """p-median / p-center: every demand point assigned to one open site."""

    def __init__(self, cost: pd.DataFrame, *, p: int, weights: pd.Series | None = None):
        super().__init__(cost, weights=weights, p=p)

    def _build(self) -> tuple[pulp.LpProblem, list[pulp.LpVariable], dict, np.ndarray]:
        p = self._check_p()
        values = self.cost.to_numpy()
        allowed = np.isfinite(values)
        lonely = ~allowed.any(axis=1)
        if lonely.any():
            ids = [d for d, k in zip(self.demand_ids, lonely, strict=False) if k]
            msg = (
                f"{self.name} is infeasible: {int(lonely.sum())} demand point(s) have no "
                f"allowed site (all costs missing): {ids[:10]}. Compute the OD table with a "
                "larger cut-off or drop those points."
            )
            raise InfeasibleError(msg, _INFEASIBLE)
        sense = pulp.LpMinimize
        prob = pulp.LpProblem(self.name.replace("-", "_"), sense)
        y = self._site_vars()
        x: dict[tuple[int, int], pulp.LpVariable] = {}
        rows, cols = np.nonzero(allowed)
        for i, j in zip(rows.tolist(), cols.tolist(), strict=False):
            x[i, j] = pulp.LpVariable(f"x_{i}_{j}", lowBound=0, upBound=1)
        by_row: dict[int, list[int]] = {}
        for i, j in x:
            by_row.setdefault(i, []).append(j)
        for i, did in enumerate(self.demand_ids):
            prob += pulp.lpSum(x[i, j] for j in by_row[i]) == 1, safe_name("assign", i, did)
        for (i, j), var in x.items():
            prob += var <= y[j], f"open_{i}_{j}"
        prob += pulp.lpSum(y) == p, "p_sites"
        return prob, y, x, values


class PMedian(_AssignmentModel):
    r"""p-median: open ``p`` sites minimising the total weighted cost of assignment.

    .. math::

        \min \sum_{i}\sum_{j} w_i c_{ij} x_{ij}
        \quad \text{s.t.} \quad \sum_j x_{ij} = 1 \;\; \forall i,
        \qquad x_{ij} \le y_j, \qquad \sum_j y_j = p,
        \qquad y_j \in \{0,1\},\; x_{ij} \ge 0,

    over the allowed pairs (finite :math:`c_{ij}`).

    Parameters
    ----------
    cost
        Demand x site cost matrix.
    p
        Number of sites to open.
    weights
        Demand weights :math:`w_i`.
    """

    name = "PMedian"

    def _formulate(self) -> _Formulation:
        """Build the problem; the objective is the total weighted cost.

        Raises
        ------
        InfeasibleError
            If ``p`` exceeds the number of sites or a demand point has no allowed site.
        """
        prob, y, x, values = self._build()
        w = self.weights.to_numpy()
        prob += pulp.lpSum(float(w[i] * values[i, j]) * v for (i, j), v in x.items())

        def total(assignment: pd.DataFrame) -> float:
            return float((w * assignment["cost"].to_numpy()).sum())

        return prob, y, "Check p and the cost matrix.", total


class PCenter(_AssignmentModel):
    r"""p-center: open ``p`` sites minimising the largest assignment cost.

    .. math::

        \min W
        \quad \text{s.t.} \quad \sum_j c_{ij} x_{ij} \le W \;\; \forall i,
        \qquad \sum_j x_{ij} = 1, \qquad x_{ij} \le y_j, \qquad \sum_j y_j = p,
        \qquad y_j \in \{0,1\},\; x_{ij} \ge 0.

    Continuous :math:`x` is exact: a split assignment costs at least the cost to the
    nearest open site. Weights are ignored.

    Parameters
    ----------
    cost
        Demand x site cost matrix.
    p
        Number of sites to open.
    """

    name = "PCenter"

    def _formulate(self) -> _Formulation:
        """Build the problem; the objective is the largest cost from a demand point to its site.

        Raises
        ------
        InfeasibleError
            If ``p`` exceeds the number of sites or a demand point has no allowed site.
        """
        prob, y, x, values = self._build()
        W = pulp.LpVariable("max_cost", lowBound=0)
        prob += W
        by_row: dict[int, list[tuple[int, pulp.LpVariable]]] = {}
        for (i, j), v in x.items():
            by_row.setdefault(i, []).append((j, v))
        for i, pairs in by_row.items():
            prob += pulp.lpSum(float(values[i, j]) * v for j, v in pairs) <= W, f"center_{i}"

        def largest(assignment: pd.DataFrame) -> float:
            return float(assignment["cost"].max())

        return prob, y, "Check p and the cost matrix.", largest


__all__ = ["LSCP", "MCLP", "PCenter", "PMedian", "Status"]
