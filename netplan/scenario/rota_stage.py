"""The rota stage of a run: the placement's mobile days as a weekly rota of the fleet.

:func:`plan_rota` takes the solved placement, finds the drive times between its mobile
sites (and the units' home bases) on the scenario's network and profile, solves
:func:`netplan.optimise.rota.solve_rota` and checks the rota independently
(:func:`~netplan.optimise.rota.check_rota`: the run stops if a check fails). When no rota
exists for the plan it says so and re-solves the placement with tighter per-site limits
(the days the largest partial rota could place), at most :data:`MAX_RESOLVES` times; the
result says which limits were added, so the placement's optimality is claimed only for
the model with them.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .._errors import InfeasibleError, ScenarioError, SolverError
from .loading import _origin

logger = logging.getLogger("netplan.scenario")

#: Re-solves of the placement tried when its mobile days admit no rota.
MAX_RESOLVES = 3
#: Solver time limit of each rota stage (s), below ``solver.time_limit_s``; a rota not
#: proven optimal within it says so (status ``feasible`` or ``time_limit``).
ROTA_TIME_LIMIT_S = 120.0

Scenario = Any


@dataclass
class RotaStage:
    """What the rota stage produced: the (possibly re-solved) placement and the rota."""

    placement: Any
    rota: pd.DataFrame | None = None
    units: pd.DataFrame | None = None
    totals: dict[str, Any] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    visit_days: dict[str, list[str]] = field(default_factory=dict)


def _site_days(placement: Any) -> dict[str, int]:
    st = placement.sites
    m = pd.to_numeric(st["mobile_days_per_week"], errors="coerce").fillna(0)
    return {str(i): round(v) for i, v in zip(st["site_id"], m, strict=True) if v > 0.5}


def plan_rota(
    s: Scenario,
    placement: Any,
    G: Any,
    cands: pd.DataFrame,
    resolve: Callable[[dict[str, int]], Any],
) -> RotaStage:
    """The scenario's weekly rota (see the module docstring).

    ``resolve(limits)`` re-solves the placement with per-site mobile-day limits
    (site id -> most days a week).

    Raises
    ------
    ScenarioError
        On a home base that is not a candidate site.
    SolverError
        When the rota found fails one of its own checks (a bug, never a user's mistake).
    """
    from .. import traveltime
    from ..optimise.rota import check_rota, solve_rota

    f = s.fleet
    out = RotaStage(placement=placement)
    if not f.rota:
        return out
    ids = cands.assign(id=cands["id"].astype(str)).set_index("id")
    bad = [h for h in f.home_bases if h not in ids.index]
    if bad:
        where = _origin(s._origins, "fleet.home_bases", str(s._source or "scenario"))
        msg = f"{where}: fleet.home_bases {bad} are not candidate sites; use ids of sites.csv"
        raise ScenarioError(msg)
    if len(f.home_bases) > f.mobile_units:
        where = _origin(s._origins, "fleet.home_bases", str(s._source or "scenario"))
        msg = (
            f"{where}: {len(f.home_bases)} home bases for {f.mobile_units} mobile unit(s); "
            "give at most one per unit"
        )
        raise ScenarioError(msg)
    od = pd.DataFrame(columns=["origin_id", "destination_id", "minutes"])
    done: set[str] = set()
    limits: dict[str, int] = {}
    resolves = 0
    for attempt in range(MAX_RESOLVES + 1):
        site_days = _site_days(placement)
        locs = sorted(set(site_days) | set(f.home_bases))
        if set(locs) - done:
            pts = ids.loc[locs, ["lon", "lat"]].reset_index()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                od = traveltime.od_matrix(
                    G, pts, pts, on_outside="drop", snap_nodes=s.network.snap_nodes
                )
            od = od.assign(
                origin_id=od["origin_id"].astype(str),
                destination_id=od["destination_id"].astype(str),
            )
            done = set(locs)
        names = ids["name"].astype(str).to_dict() if "name" in ids else {}
        result = solve_rota(
            site_days,
            od,
            units=f.mobile_units,
            days=f.days,
            max_relocation_minutes=f.max_relocation_minutes,
            home_bases=f.home_bases,
            days_per_unit=f.days_per_unit,
            max_sites_per_unit=f.max_sites_per_unit,
            spread_days=f.spread_days,
            site_names=names,
            time_limit_s=min(float(s.solver.time_limit_s), ROTA_TIME_LIMIT_S),
        )
        out.messages += [f"rota: {m}" for m in result.messages]
        if result.ok or attempt == MAX_RESOLVES or not result.short_days:
            break
        for sid, short in result.short_days.items():
            limits[sid] = min(limits.get(sid, site_days[sid]), site_days[sid] - short)
        text = ", ".join(f"{k} <= {v}" for k, v in sorted(limits.items()))
        msg = (
            f"rota: no rota exists for the placement's mobile days; placement re-solved with "
            f"per-site mobile-day limits {text} (its optimality holds for the model with "
            f"these limits, chosen from the largest partial rota, not for the original model)"
        )
        logger.warning("%s", msg)
        out.messages.append(msg)
        try:
            placement = resolve(dict(limits))
        except InfeasibleError as exc:
            note = (
                f"rota: the placement with these limits is infeasible ({exc}); the first plan "
                "is kept, without a full rota"
            )
            logger.warning("%s", note)
            out.messages.append(note)
            break
        resolves += 1
    out.placement = placement
    rota = result.rota.copy()
    tracer = placement.sites.assign(site_id=placement.sites["site_id"].astype(str))
    tracer = tracer.set_index("site_id")
    rota["tracer_source"] = rota["site_id"].map(tracer.get("tracer_source", pd.Series(dtype=str)))
    rota["tracer_minutes"] = pd.to_numeric(
        rota["site_id"].map(tracer.get("tracer_minutes", pd.Series(dtype=float))),
        errors="coerce",
    ).round(1)
    limit = float(s.cyclotrons.primary_minutes)
    visit = rota["visit"].astype(bool)
    rota["tracer_ok"] = ~visit | (rota["tracer_minutes"] <= limit + 1e-9)
    late = rota[visit & ~rota["tracer_ok"]]
    if len(late):
        sites_late = ", ".join(sorted(set(late["site_id"])))
        out.messages.append(
            f"rota: {len(late)} visit day(s) have no cyclotron within the primary "
            f"{limit:g} minutes ({sites_late}); their tracer comes from further away"
        )
    checks: list[str] = []
    if result.ok:
        checks = check_rota(
            rota,
            _site_days(placement),
            od,
            max_relocation_minutes=f.max_relocation_minutes,
            days=f.days,
        )
        if checks:
            msg = "the rota fails its own checks: " + "; ".join(checks[:5])
            raise SolverError(msg)
    out.rota, out.units = rota, result.units
    work = rota[visit]
    out.visit_days = {str(sid): list(g["weekday"]) for sid, g in work.groupby("site_id", sort=True)}
    weeks = float(s.scanners.mobile_weeks_per_year)
    out.totals = {
        "rota_status": result.status,
        "rota_formulation": result.formulation,
        "rota_checks": "pass" if result.ok and not checks else "not run",
        "rota_placement_resolves": resolves,
        "rota_units_used": int((result.units["days_used"] > 0).sum()) if len(result.units) else 0,
        "rota_relocation_minutes_per_week": result.relocation_minutes_per_week,
        "rota_moves_per_week": result.moves_per_week,
        "rota_relocation_gbp_per_year": round(
            result.moves_per_week * f.relocation_gbp_per_move * weeks, 2
        ),
        "rota_back_to_back_visits": result.back_to_back_visits,
        "rota_tracer_late_visits": len(late),
        "rota_short_days": sum(result.short_days.values()),
    }
    flags = []
    if not result.ok:
        flags.append(
            f"no rota for the mobile days ({sum(result.short_days.values())} day(s) short)"
        )
    elif resolves:
        flags.append(f"placement re-solved {resolves}x for the rota")
    if result.status == "feasible":
        # the rota MIP stopped at its time limit: a valid rota, its relocation not least
        flags.append("rota relocation not proven least (rota MIP time limit)")
    if flags:
        out.totals["rota_flag"] = "; ".join(flags)
    logger.info(
        "rota: %s, %d unit(s) used, %.0f relocation min/week, checks %s",
        result.status,
        out.totals["rota_units_used"],
        result.relocation_minutes_per_week,
        out.totals["rota_checks"],
    )
    return out


def merge_totals(totals: dict[str, Any], stage: RotaStage) -> dict[str, Any]:
    """The run's totals with the rota's figures, its flag added to ``flags``."""
    out = {**totals, **stage.totals}
    flag = out.pop("rota_flag", "")
    if flag:
        out["flags"] = "; ".join(x for x in (str(out.get("flags") or ""), flag) if x)
    return out
