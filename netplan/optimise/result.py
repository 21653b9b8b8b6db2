"""Frozen result objects returned by ``solve()``: :class:`Solution` and :class:`PlacementResult`.

A result never changes after it is made and never refers back to the model, so solving a
model twice (for instance with CBC and then HiGHS) gives two independent results.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ._base import Status

logger = logging.getLogger(__name__)


def _fmt_gap(gap: float | None) -> str:
    if gap is None:
        return "unknown"
    if not math.isfinite(gap):
        return "inf"
    return f"{gap:.4%}"


@dataclass(frozen=True)
class Solution:
    """Result of a classic location model (LSCP, MCLP, p-median, p-center).

    Attributes
    ----------
    model
        Model name, e.g. ``"MCLP"``.
    selected_sites
        Ids of the chosen sites, in input order.
    assignment
        One row per demand point: ``demand_id``, ``site_id`` (nearest selected site, or the
        assigned one for p-median / p-center; missing when none serves it), ``cost``
        (the cost-matrix value of that pair) and ``covered`` (within the service standard,
        for LSCP / MCLP; always True for p-median / p-center).
    objective
        Objective value: number of sites (LSCP), covered weight (MCLP), total weighted cost
        (p-median), largest assigned cost (p-center).
    status
        :class:`Status`; ``OPTIMAL`` only when proven.
    mip_gap
        Relative MIP gap reported by the solver (None when it did not report one).
    runtime_s
        Solver wall-clock time.
    solver
        {"cbc", "highs"}.
    """

    model: str
    selected_sites: tuple[Any, ...]
    assignment: pd.DataFrame = field(repr=False)
    objective: float
    status: Status
    mip_gap: float | None
    runtime_s: float
    solver: str

    @property
    def gap(self) -> float | None:
        """Alias of :attr:`mip_gap`."""
        return self.mip_gap

    @property
    def is_optimal(self) -> bool:
        """True only when the solver proved optimality."""
        return self.status == Status.OPTIMAL

    def __repr__(self) -> str:
        return (
            f"Solution({self.model}: {len(self.selected_sites)} sites, objective "
            f"{self.objective:.6g}, {self.status} (gap {_fmt_gap(self.mip_gap)}), "
            f"{self.solver}, {self.runtime_s:.2f} s)"
        )


@dataclass(frozen=True)
class PlacementResult:
    """Result of :meth:`netplan.optimise.PlacementModel.solve`.

    Attributes
    ----------
    sites
        One row per candidate site: ``site_id, name, lot, decision`` ({"static", "mobile",
        "both", "closed"}), ``static_scanners, mobile_days_per_week,
        capacity_scans_per_year`` (nominal, before the utilisation ceiling),
        ``assigned_scans_per_year, utilisation`` (assigned / nominal capacity),
        ``mean_minutes, max_minutes`` (demand-weighted mean and largest patient drive time),
        ``tracer_source, tracer_minutes`` (primary cyclotron and delivery time),
        ``backup_source, backup_minutes``, ``annual_cost_gbp``.
    zones
        One row per zone: ``zone_id, site_id`` (the site taking the largest share),
        ``share`` (of the zone's demand at that site), ``minutes, covered`` (share served
        within the standard is at least 99.9 %), ``uncovered_share, uncovered_reason``,
        ``scans_per_year, population``.
    totals
        Headline figures (dict): ``annual_cost_gbp`` and its parts ``capital_gbp_per_year``,
        ``install_gbp_per_year``, ``running_gbp_per_year``, ``mobile_gbp_per_year``;
        ``capital_gbp`` (undiscounted, for the budget); ``cost_per_scan_gbp``;
        ``demand_scans_per_year``, ``assigned_scans_per_year``, ``uncovered_scans_per_year``;
        ``population``, ``population_within_{30,45,60,90}_minutes`` and their shares
        (NaN where the travel-time table given did not reach that far);
        ``open_sites, static_sites, mobile_sites, static_scanners, mobile_days_per_week``.
    objective
        Objective name ({"cost", "drive_time", "max_coverage", "cover_then_cost"}).
    objective_value
        Value of the (last-stage) objective the solver optimised.
    status
        :class:`Status` of the worst stage; ``OPTIMAL`` only when every stage was proven.
    mip_gap
        Relative MIP gap of the last stage (None when unknown).
    runtime_s
        Total solver time over all stages.
    build_time_s
        Time to build the matrices (and, for CBC, the PuLP problem).
    solver
        {"cbc", "highs"}.
    merged
        Whether zones were merged exactly into groups, and ``n_groups`` how many.
    messages
        Pre-solve findings and explanations (zones without a candidate, lots short of
        capacity, why merging was off ...).
    stages
        Per stage: name, status, objective, gap, runtime.
    """

    sites: pd.DataFrame = field(repr=False)
    zones: pd.DataFrame = field(repr=False)
    totals: dict[str, float] = field(repr=False)
    objective: str
    objective_value: float
    status: Status
    mip_gap: float | None
    runtime_s: float
    build_time_s: float
    solver: str
    merged: bool
    n_groups: int
    messages: tuple[str, ...] = field(repr=False)
    stages: tuple[dict[str, Any], ...] = field(repr=False)
    travel: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def is_optimal(self) -> bool:
        """True only when every stage was proven optimal."""
        return self.status == Status.OPTIMAL

    @property
    def gap(self) -> float | None:
        """Alias of :attr:`mip_gap`."""
        return self.mip_gap

    @property
    def cost_gbp_per_year(self) -> float:
        """Annualised cost of the plan."""
        return float(self.totals["annual_cost_gbp"])

    @property
    def open_sites(self) -> list[Any]:
        """Ids of the sites that get any service."""
        return self.sites.loc[self.sites["decision"] != "closed", "site_id"].tolist()

    def summary(self) -> pd.Series:
        """Headline figures plus status, gap and times, as one Series."""
        data = dict(self.totals)
        data.update(
            objective=self.objective,
            objective_value=self.objective_value,
            status=str(self.status),
            mip_gap=self.mip_gap,
            runtime_s=self.runtime_s,
            build_time_s=self.build_time_s,
            solver=self.solver,
            merged=self.merged,
            n_groups=self.n_groups,
        )
        return pd.Series(data, dtype=object)

    def sites_gdf(self, sites: pd.DataFrame) -> Any:
        """Return :attr:`sites` as a GeoDataFrame using ``lon``/``lat`` from ``sites``."""
        import geopandas as gpd

        from .. import settings

        coords = sites.set_index("id")[["lon", "lat"]]
        frame = self.sites.join(coords, on="site_id")
        return gpd.GeoDataFrame(
            frame,
            geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
            crs=settings.geographic_crs,
        )

    def __repr__(self) -> str:
        verdict = "proven optimal" if self.is_optimal else "NOT proven optimal"
        return (
            f"PlacementResult({self.objective}: {len(self.open_sites)} open sites, "
            f"cost £{self.totals.get('annual_cost_gbp', math.nan):,.0f}/yr, "
            f"{self.status} ({verdict}, gap {_fmt_gap(self.mip_gap)}), {self.solver}, "
            f"build {self.build_time_s:.2f} s, solve {self.runtime_s:.2f} s)"
        )
