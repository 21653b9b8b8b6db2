"""The map of a result: its sites, zones, isochrones, tracer links and lots for netplan.maps.

:func:`build_map` renames the result's tables to the columns :func:`netplan.maps.scenario_map`
takes, adds the site -> cyclotron :func:`supply_links` and the contract-lot boundaries.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._errors import NetplanError

if TYPE_CHECKING:
    from ._types import ScenarioResult

# The package's name, as before the split, so log lines read "netplan.report: ...".
logger = logging.getLogger("netplan.report")


def supply_links(result: ScenarioResult) -> pd.DataFrame:
    """Site -> cyclotron links (primary and back-up) of the open sites."""
    s = result.sites[result.sites["open"]]
    rows = []
    for rec in s.itertuples(index=False):
        src = getattr(rec, "tracer_source", None)
        if isinstance(src, str) and src:
            rows.append(
                {
                    "site_id": rec.site_id,
                    "cyclotron_id": src,
                    "role": "primary",
                    "minutes": getattr(rec, "tracer_minutes", np.nan),
                }
            )
        bsrc = getattr(rec, "backup_source", None)
        if isinstance(bsrc, str) and bsrc:
            rows.append(
                {
                    "site_id": rec.site_id,
                    "cyclotron_id": bsrc,
                    "role": "backup",
                    "minutes": getattr(rec, "backup_minutes", np.nan),
                }
            )
    return pd.DataFrame(rows, columns=["site_id", "cyclotron_id", "role", "minutes"])


def build_map(result: ScenarioResult) -> Any:
    """The scenario's folium map (via :func:`netplan.maps.scenario_map`)."""
    from .. import maps

    sites = result.sites.rename(columns={"site_id": "id", "static_scanners": "scanners"})
    keep = [
        c
        for c in (
            "id",
            "name",
            "lon",
            "lat",
            "decision",
            "scanners",
            "mobile_days_per_week",
            "capacity_scans_per_year",
            "assigned_scans_per_year",
            "utilisation",
            "mean_minutes",
            "max_minutes",
            "tracer_source",
        )
        if c in sites.columns
    ]
    zones = pd.DataFrame(result.zones).rename(columns={"zone_id": "id"})
    zcols = [
        c
        for c in (
            "id",
            "name",
            "lon",
            "lat",
            "minutes",
            "covered",
            "assigned_site",
            "population",
            "uncovered_reason",
        )
        if c in zones.columns
    ]
    zones = zones[zcols].copy()
    cyc = None
    if result.cyclotron_points is not None:
        cyc = pd.DataFrame(result.cyclotron_points)[["id", "name", "lon", "lat"]]
        if "tracer_source" in sites.columns:  # the cyclotron's name, not its key
            names = dict(zip(cyc["id"], cyc["name"], strict=True))
            sites["tracer_source"] = sites["tracer_source"].map(lambda v: names.get(v, v))
    lots = _lot_polygons()
    m = maps.scenario_map(
        sites=sites[keep],
        zones=zones,
        isochrones=result.isochrones,
        cyclotrons=cyc,
        supply_links=supply_links(result),
        lots=lots,
        title=f"{result.scenario.name}: {result.scenario.drive_minutes:g}-minute standard",
        report_href="report.html",
    )
    rota = getattr(result, "rota", None)
    if rota is not None and len(rota):  # a layer per mobile unit (maps/rota_layers.py)
        from ..maps.rota_layers import add_rota_layers

        add_rota_layers(m, rota, sites[["id", "lon", "lat"]])
    return m


def _lot_polygons() -> Any:
    """ICB boundaries tagged with their contract lot (None when unavailable).

    Read once per data cache and mirror (the map and the GIS layers both draw them); each
    caller gets its own copy."""
    from .. import settings

    found = _lot_polygons_cached(str(settings.cache_folder), str(settings.data_mirror))
    return None if found is None else found.copy()


@functools.lru_cache(maxsize=2)
def _lot_polygons_cached(_cache: str, _mirror: str) -> Any:
    try:
        from .. import data, demand

        icb = data.load_icb_boundaries()
        lots = demand.load_icb_lots()
    except (NetplanError, OSError, AttributeError) as exc:  # pragma: no cover
        logger.warning("lot boundaries not drawn: %s", exc)
        return None
    return icb.merge(lots[["icb_code", "lot"]], on="icb_code", how="inner")[["lot", "geometry"]]
