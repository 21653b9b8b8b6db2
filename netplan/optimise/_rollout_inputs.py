"""The tables and keywords of a :class:`~netplan.optimise.RolloutModel` read from a placement
model's validated inputs (:class:`~netplan.optimise._inputs.PlacementInputs`): the sites with
their limits and installation cost, the zone -> site pairs within the standard, the costs,
capacities and fleet, and the cyclotron flows and capacities of the tracer rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from .._errors import ValidationError


def tables_from_inputs(
    inputs: Any, initial_static_scanners: Mapping[Any, int] | None
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Return ``(od, sites, keywords)`` for :class:`RolloutModel` from placement ``inputs``.

    Raises
    ------
    ValidationError
        An initial site that is not a candidate.
    """
    ids = pd.Index(inputs.site_ids)
    init = dict(initial_static_scanners or {})
    unknown = sorted(map(str, set(init) - set(ids)))
    if unknown:
        msg = f"rollout.initial names site(s) {unknown} that are not candidate sites"
        raise ValidationError(msg)
    sites = pd.DataFrame(
        {
            "id": inputs.site_ids,
            "name": inputs.site_name,
            "available": inputs.available,
            "max_static_scanners": inputs.smax,
            "max_mobile_days": inputs.mmax,
            "install_gbp": inputs.install_site_gbp,
            "initial_static_scanners": [float(init.get(i, 0)) for i in inputs.site_ids],
        }
    )
    od = pd.DataFrame(
        {
            "origin_id": inputs.zone_ids[inputs.pz],
            "destination_id": inputs.site_ids[inputs.ps],
            "minutes": inputs.pt,
        }
    )
    kw: dict[str, Any] = {
        "drive_minutes": inputs.drive_minutes,
        "static_scans_per_year": inputs.static_scans_per_day * inputs.working_days_per_year,
        "mobile_scans_per_day_week": inputs.mobile_scans_per_day * inputs.mobile_weeks_per_year,
        "target_utilisation": inputs.target_utilisation,
        "static_capital_gbp": inputs.static_capital_gbp,
        "static_running_gbp_per_year": inputs.static_running_gbp_per_year,
        "mobile_gbp_per_day": inputs.mobile_gbp_per_day,
        "mobile_weeks_per_year": inputs.mobile_weeks_per_year,
        "annualisation_years": inputs.annualisation_years,
        "mobile_units": inputs.mobile_units,
        "mobile_days_per_unit": inputs.mobile_days_per_unit,
        "max_sites_per_unit": inputs.max_sites_per_unit,
        "allow_static_and_mobile": inputs.allow_static_and_mobile,
        "working_days_per_year": inputs.working_days_per_year,
    }
    pairs = inputs.cyc_pairs
    if pairs is not None and inputs.cyc_capacity:
        kw["cyclotron_flows"] = pd.DataFrame(
            {
                "site_id": inputs.site_ids[pairs["pos"].to_numpy()],
                "cyclotron_id": pairs["cyclotron_id"].to_numpy(),
                "factor": pairs["factor"].to_numpy(),
            }
        )
        kw["cyclotron_doses_per_day"] = dict(inputs.cyc_capacity)
    return od, sites, kw
