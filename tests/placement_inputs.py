"""Inputs shared by the placement tests: unit economics that make optima easy on paper, and
small builders for the drive-time table, zones and sites.

A static scanner gives 1 scan/day x 100 days = 100 scans/yr and costs 1000/10 + 100 = 200 a
year; a weekly mobile day gives 1 scan x 10 weeks = 10 scans/yr and costs 3 x 10 = 30 a
year; utilisation ceiling 100 %. Each test file adds its install and tracer settings.
"""

from __future__ import annotations

import pandas as pd

UNIT_ECONOMICS = {
    "drive_minutes": 60,
    "static_scans_per_day": 1,
    "working_days_per_year": 100,
    "mobile_scans_per_day": 1,
    "mobile_weeks_per_year": 10,
    "target_utilisation": 1.0,
    "max_static_per_site": 2,
    "max_mobile_days_per_site": 5,
    "mobile_days_per_unit": 5,
    "static_capital_gbp": 1000,
    "contract_install_gbp": 0,
    "annualisation_years": 10,
    "static_running_gbp_per_year": 100,
    "mobile_gbp_per_day": 3,
}


def od_table(pairs: dict[tuple[str, str], float]) -> pd.DataFrame:
    """A long drive-time table from ``{(zone, site): minutes}``."""
    return pd.DataFrame(
        [(z, s, t) for (z, s), t in pairs.items()],
        columns=["origin_id", "destination_id", "minutes"],
    )


def zones(scans: dict[str, float], population: dict[str, float] | None = None) -> pd.DataFrame:
    """Zones with their scans a year (and population when given)."""
    frame = pd.DataFrame({"id": list(scans), "scans_per_year": list(scans.values())})
    if population is not None:
        frame["population"] = [population[z] for z in scans]
    return frame


def sites(ids: list[str], **cols: list) -> pd.DataFrame:
    """Candidate sites with optional extra columns."""
    return pd.DataFrame({"id": ids, **cols})
