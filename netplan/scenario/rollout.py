"""The roll-out of a scenario: its inputs -> demand per year -> :class:`RolloutModel` -> tables.

:func:`run_rollout` (``Scenario.rollout()``, ``netplan rollout``) takes the network,
zones, candidate sites, cyclotrons and drive times of a normal run
(:func:`netplan.scenario.pipeline._inputs`) and the placement model's costs, capacities and
tracer rules (the same :class:`~netplan.optimise.PlacementModel` a run would solve, read
but not solved), adds the demand of every roll-out year from
:func:`netplan.demand.estimate_demand`, and solves one
:class:`~netplan.optimise.RolloutModel`. It then solves the starting state alone in the
first year with no capital (the *mobile-led baseline* of the summary) and builds the two
output tables: ``rollout.csv`` (site x year) and ``rollout_summary.csv`` (year).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import ScenarioError, ValidationError
from .loading import _origin
from .pipeline import _demand_params, _inputs, _placement_model

logger = logging.getLogger("netplan.scenario")

#: Columns of ``rollout.csv`` (issue 16).
PLAN_COLUMNS = (
    "year",
    "site_id",
    "site_name",
    "static_scanners",
    "mobile_days_per_week",
    "capital_gbp",
    "capacity_scans",
    "demand_scans",
    "utilisation",
)


@dataclass
class RolloutRun:
    """A solved roll-out and its tables (see the module docstring).

    Attributes
    ----------
    scenario
        The scenario.
    result
        The :class:`~netplan.optimise.rollout.RolloutResult` of the roll-out model.
    plan
        ``rollout.csv``: one row per site (with a scanner or visit in some year) and year.
    summary
        ``rollout_summary.csv``: one row per year.
    baseline
        The starting state alone in the first year (no capital): its
        ``cost_per_scan_gbp``, ``share_within_standard`` and ``annual_cost_gbp``.
    sites
        The candidate sites (``id, name, lon, lat``) for the map.
    provenance
        Status, gap, timings and messages (written into ``scenario.resolved.yaml``).
    """

    scenario: Any
    result: Any
    plan: pd.DataFrame
    summary: pd.DataFrame
    baseline: dict[str, float]
    sites: pd.DataFrame
    provenance: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        s = self.summary
        gap = self.provenance.get("mip_gap")
        return (
            f"RolloutRun({self.scenario.name!r}: {len(s)} years, status "
            f"{self.result.status.value}, gap {'n/a' if gap is None else f'{gap:.3%}'}, "
            f"scanners {int(s['static_scanners'].iloc[0])} -> "
            f"{int(s['static_scanners'].iloc[-1])}, capital "
            f"£{s['capital_gbp'].sum() / 1e6:,.1f} m)"
        )

    def headline(self) -> pd.DataFrame:
        """The per-year figures the command prints: share within the standard, scanners,
        capital, cost per scan and its change against the first year and the mobile-led
        baseline, and whether the saving target is met (formatted text)."""
        s = self.summary
        return pd.DataFrame(
            {
                "year": s["financial_year"],
                "within standard": s["share_within_standard"].map("{:.1%}".format),
                "scanners": s["static_scanners"],
                "mobile days": s["mobile_days_per_week"],
                "capital £m": (s["capital_gbp"] / 1e6).map("{:.1f}".format),
                "cost/scan £": s["cost_per_scan_gbp"].map("{:,.0f}".format),
                "vs first year": s["cost_per_scan_change_vs_first_year"].map("{:+.1%}".format),
                "vs mobile-led": s["cost_per_scan_change_vs_mobile_led"].map("{:+.1%}".format),
                f"{self.scenario.rollout.saving_target:.0%} target": s["meets_saving_target"].map(
                    {True: "met", False: "not met"}
                ),
            }
        )

    def to_folder(self, out_dir: str | Path, *, force: bool = False) -> dict[str, Path]:
        """Write ``rollout.csv``, ``rollout_summary.csv``, the report and the map atomically
        (see :func:`netplan.report.rollout.write_rollout`)."""
        from ..report.rollout import write_rollout

        return write_rollout(self, out_dir, force=force)


def initial_scanners(s: Any, site_ids: set[str]) -> dict[str, int]:
    """The scanners in service before the first year, from ``rollout.initial``.

    Raises
    ------
    ScenarioError
        A CSV that cannot be read, a bad row, or a site that is not a candidate.
    """
    from .. import defaults

    init = s.rollout.initial
    where = _origin(s._origins, "rollout.initial", str(s._source or "scenario"))
    if isinstance(init, dict):
        table = {str(k): int(v) for k, v in init.items()}
    elif init == "none":
        table = {}
    elif init == "mobile_led":
        # the named state: its sites that this scenario offers (none in a small study area)
        named = defaults.get("rollout.mobile_led_static_scanners")
        table = {str(k): int(v) for k, v in named.items() if str(k) in site_ids}
    else:
        from .._validate import read_csv_table

        path = Path(init)
        if not path.is_absolute() and s._source is not None:
            path = Path(s._source).parent / path
        try:
            df = read_csv_table(
                path,
                what="rollout.initial CSV",
                text_columns=("site_id",),
                required=("site_id", "static_scanners"),
            )
        except ValidationError as exc:
            msg = f"{where}: {exc}"
            raise ScenarioError(msg) from None
        counts = pd.to_numeric(df["static_scanners"], errors="coerce")
        bad = df.index[~(counts.notna() & (counts >= 0) & (counts == counts.round()))]
        if len(bad):
            row = int(bad[0]) + 2
            msg = (
                f"{path}, line {row}: static_scanners must be a whole number >= 0, got "
                f"{df['static_scanners'].iloc[bad[0]]!r}"
            )
            raise ScenarioError(msg)
        twice = sorted(set(df["site_id"][df["site_id"].duplicated()]))
        if twice:
            msg = f"{path}: site_id(s) {twice} appear more than once; give one row per site"
            raise ScenarioError(msg)
        table = dict(zip(df["site_id"], counts.astype(int), strict=True))
    unknown = sorted(set(table) - site_ids)
    if unknown:
        msg = (
            f"{where}: rollout.initial names site(s) {unknown} that are not candidate sites of "
            "this scenario; add them (sites.include / sites.extra) or remove them"
        )
        raise ScenarioError(msg)
    return {k: v for k, v in table.items() if v > 0}


def demand_by_year(s: Any, zones: Any, years: list[int]) -> pd.DataFrame:
    """Scans per zone for each year (columns ``id`` and one per year)."""
    from .. import demand as demand_mod

    base = _demand_params(s, demand_mod)
    out = pd.DataFrame({"id": zones["id"].to_numpy()})
    for y in years:
        params = demand_mod.DemandParams(**{**base.to_dict(), "year": y})
        est = demand_mod.estimate_demand(zones, params)
        out[y] = est.set_index("id")["scans_per_year"].reindex(out["id"]).to_numpy(dtype=float)
    return out


def run_rollout(s: Any) -> RolloutRun:
    """Plan the scenario's roll-out (see :meth:`Scenario.rollout`)."""
    from .. import optimise
    from .._version import __version__
    from ..optimise.rollout import RolloutModel

    r = s.rollout
    years = list(range(r.start_year, r.end_year + 1))
    timings: dict[str, float] = {}
    t_start = time.perf_counter()
    _G, zones, zone_demand, cands, cyclos, od, cyc_od, notes = _inputs(s, timings)
    t0 = time.perf_counter()
    inputs = _placement_model(s, optimise, od, zone_demand, cands, cyclos, cyc_od)
    init = initial_scanners(s, set(map(str, inputs.site_ids)))
    demand = demand_by_year(s, zones, years)
    timings["demand by year"] = round(time.perf_counter() - t0, 3)
    budget = r.capital_gbp_per_year
    model = RolloutModel.from_placement_inputs(
        inputs,
        demand,
        initial_static_scanners=init,
        capital_gbp_per_year=dict(budget) if isinstance(budget, dict) else budget,
        capital_total_gbp=r.capital_total_gbp,
        removal_gbp_per_scanner=r.removal_gbp_per_scanner,
        discount_rate=r.discount_rate,
        travel=r.travel_stage,
    )
    t0 = time.perf_counter()
    result = model.solve(time_limit_s=r.time_limit_s, mip_gap=r.mip_gap)
    timings["rollout solve"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    base = model.first_year_only(capital_gbp=0.0)
    base.travel = False
    base_result = base.solve(time_limit_s=r.time_limit_s, mip_gap=r.mip_gap)
    timings["baseline solve"] = round(time.perf_counter() - t0, 3)
    by = base_result.years.iloc[0]
    baseline = {
        "year": int(by["year"]),
        "cost_per_scan_gbp": float(by["cost_per_scan_gbp"]),
        "share_within_standard": float(by["share_within_standard"]),
        "annual_cost_gbp": float(by["annual_cost_gbp"]),
        "static_scanners": int(by["static_scanners"]),
        "mobile_days_per_week": int(by["mobile_days_per_week"]),
        "status": base_result.status.value,
    }
    summary = summary_table(result.years, baseline, saving_target=r.saving_target)
    plan = result.plan
    active = plan.groupby("site_id")[["static_scanners", "mobile_days_per_week"]].transform("max")
    plan = plan[(active.sum(axis=1) > 0).to_numpy()][list(PLAN_COLUMNS)].reset_index(drop=True)
    provenance = {
        "netplan_version": __version__,
        "solver_status": result.status.value,
        "mip_gap": None if result.mip_gap is None else float(result.mip_gap),
        "discounted_cost_gbp": float(result.years["discounted_cost_gbp"].sum()),
        "baseline": baseline,
        "initial_static_scanners": init,
        "messages": [*notes, *result.messages],
        "timings_s": timings,
        "total_time_s": round(time.perf_counter() - t_start, 3),
    }
    logger.info("roll-out %s: %s (gap %s)", s.name, result.status.value, result.mip_gap)
    sites = pd.DataFrame(cands.drop(columns="geometry", errors="ignore"))[
        ["id", "name", "lon", "lat"]
    ]
    return RolloutRun(s, result, plan, summary, baseline, sites, provenance)


def summary_table(
    years: pd.DataFrame, baseline: dict[str, float], *, saving_target: float
) -> pd.DataFrame:
    """``rollout_summary.csv``: the per-year table of the model, with the changes of the cost
    per scan against the first year and the mobile-led baseline, and the saving target."""
    out = years.copy()
    out.insert(1, "financial_year", [f"{y}/{(y + 1) % 100:02d}" for y in out["year"]])
    out.insert(5, "unserved_scans", out["demand_scans"] - out["served_scans"])
    out["cumulative_capital_gbp"] = out["capital_gbp"].cumsum()
    cps = out["cost_per_scan_gbp"]
    first = float(cps.iloc[0])
    base = float(baseline["cost_per_scan_gbp"])
    out["cost_per_scan_change_vs_first_year"] = cps / first - 1 if first > 0 else np.nan
    out["baseline_cost_per_scan_gbp"] = base
    out["cost_per_scan_change_vs_mobile_led"] = cps / base - 1 if base > 0 else np.nan
    out["target_cost_per_scan_gbp"] = base * (1 - saving_target)
    for col in ("cost_per_scan_change_vs_first_year", "cost_per_scan_change_vs_mobile_led"):
        out[col] = out[col].round(6)
    out["meets_saving_target"] = cps <= out["target_cost_per_scan_gbp"] + 1e-6
    return out
