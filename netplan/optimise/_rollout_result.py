"""The result of a roll-out solve: :class:`RolloutResult` and the tables built from a solution.

:func:`plan_tables` turns the column values of a solved
:class:`~netplan.optimise.rollout.RolloutModel` into its site x year plan and its year
table (capital, annual cost with the capital charge of every scanner bought, cost per
scan, share of scans served within the standard, mean drive minutes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._base import Status


@dataclass(frozen=True)
class RolloutResult:
    """The solved roll-out plan.

    Attributes
    ----------
    plan
        One row per site and year: ``year, site_id, site_name, static_scanners,
        scanners_added, scanners_removed, mobile_days_per_week, capital_gbp,
        capacity_scans, demand_scans, utilisation, annual_cost_gbp``.
    years
        One row per year: demand, scans served, ``share_within_standard``, sites,
        scanners, mobile days, capital, annual and discounted cost, cost per scan,
        mean drive minutes.
    status, mip_gap
        Of the cost stage (the MIP gap is HiGHS's relative gap).
    objective
        The plan's discounted cost (every year's annual cost, including the capital charge
        of the initial scanners, times its discount factor; no shortfall penalty).
    runtime_s
        Both stages.
    messages
        Notes on the solve (zone groups, travel stage).
    """

    plan: pd.DataFrame
    years: pd.DataFrame
    status: Status
    mip_gap: float | None
    objective: float
    runtime_s: float
    messages: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        gap = "n/a" if self.mip_gap is None else f"{self.mip_gap:.4%}"
        y = self.years
        return (
            f"RolloutResult({len(y)} years {int(y['year'].min())}-{int(y['year'].max())}, "
            f"status={self.status.value}, gap={gap}, scanners "
            f"{int(y['static_scanners'].iloc[0])} -> {int(y['static_scanners'].iloc[-1])}, "
            f"capital £{y['capital_gbp'].sum() / 1e6:,.1f} m)"
        )


def plan_tables(self: Any, x: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The plan (site x year) and year tables of a solved :class:`RolloutModel` (``self``)
    from its column values ``x``."""
    n, T, P = self._n, self._T, len(self.gp_site)
    jj, tt = np.tile(np.arange(n), T), np.repeat(np.arange(T), n)

    def val(b: str) -> np.ndarray:
        return np.round(x[self._col(b, jj, tt)])

    S, A, R, B, M = val("S"), val("A"), val("R"), val("B"), val("M")
    Bprev = np.where(
        tt > 0, np.round(x[self._col("B", jj, np.maximum(tt - 1, 0))]), (self.init[jj] > 0)
    )
    capital = self.c_cap * A + self.install[jj] * np.maximum(B - Bprev, 0)
    bought = self.init[jj] + pd.Series(A).groupby(jj).cumsum().to_numpy()
    annual = (
        self.c_run * S
        + self.c_day * M
        + (self.removal or 0) * R
        + self.c_cap / self.life * bought
        + self.install[jj] / self.life * B
    )
    xv = x[self._x0 : self._x0 + P * T]
    pt = np.repeat(np.arange(T), P)
    pg, ps = np.tile(self.gp_group, T), np.tile(self.gp_site, T)
    served = np.zeros(n * T)
    np.add.at(served, pt * n + ps, self.gd[pg, pt] * xv)
    mins = np.zeros(T)
    np.add.at(mins, pt, self.gd[pg, pt] * xv * np.tile(self.gp_minutes, T))
    cap = self.rho * (self.ks * S + self.km * M)
    plan = pd.DataFrame(
        {
            "year": np.asarray(self.years)[tt],
            "site_id": self.site_ids.to_numpy()[jj],
            "site_name": self.site_name[jj],
            "static_scanners": S.astype(int),
            "scanners_added": A.astype(int),
            "scanners_removed": R.astype(int),
            "mobile_days_per_week": M.astype(int),
            "capital_gbp": capital,
            "capacity_scans": cap,
            "demand_scans": served,
            "utilisation": np.divide(served, cap, out=np.zeros(n * T), where=cap > 0),
            "annual_cost_gbp": annual,
        }
    )
    by = plan.groupby("year", sort=True)
    demand = self.gd.sum(axis=0)
    served_t = by["demand_scans"].sum().to_numpy()
    cost_t = by["annual_cost_gbp"].sum().to_numpy()
    years = pd.DataFrame(
        {
            "year": self.years,
            "demand_scans": demand,
            "served_scans": served_t,
            "share_within_standard": np.divide(served_t, demand, out=np.ones(T), where=demand > 0),
            "sites": by.apply(
                lambda f: int(((f["static_scanners"] > 0) | (f["mobile_days_per_week"] > 0)).sum()),
                include_groups=False,
            ).to_numpy(),
            "static_sites": by.apply(
                lambda f: int((f["static_scanners"] > 0).sum()), include_groups=False
            ).to_numpy(),
            "static_scanners": by["static_scanners"].sum().to_numpy(),
            "mobile_days_per_week": by["mobile_days_per_week"].sum().to_numpy(),
            "capital_gbp": by["capital_gbp"].sum().to_numpy(),
            "annual_cost_gbp": cost_t,
            "discounted_cost_gbp": cost_t * self.discount(),
            "cost_per_scan_gbp": np.divide(
                cost_t, served_t, out=np.full(T, np.nan), where=served_t > 0
            ),
            "mean_drive_minutes": np.divide(
                mins, served_t, out=np.full(T, np.nan), where=served_t > 0
            ),
        }
    )
    return plan.sort_values(["year", "site_id"], kind="stable").reset_index(drop=True), years
