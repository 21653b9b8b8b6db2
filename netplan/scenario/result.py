"""The :class:`ScenarioResult` container: the tables and figures a run produced.

It holds data only (sites, zones, cyclotrons, coverage, totals, isochrones, provenance);
:mod:`netplan.report` writes it out, and it never imports the pipeline that made it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

#: A :class:`netplan.scenario.schema.Scenario` (not imported: the schema runs the pipeline,
#: which builds results, so a result only carries the scenario it was given).
Scenario = Any


class ScenarioResult:
    """Everything a scenario run produced, with writers.

    Attributes
    ----------
    scenario
        The scenario that was run.
    sites
        One row per candidate site: decision, scanners, mobile days, capacity, assigned
        scans, utilisation, drive times, tracer source, turnaround shares.
    zones
        GeoDataFrame, one row per zone: population, scans, ICB, lot, assigned site,
        minutes, nearest open and static site minutes, covered flag and reason.
    cyclotrons
        One row per cyclotron: doses per day, delivery minutes, activity, back-up load.
    coverage
        Population within each threshold, nationally, per lot, per ICB and per IMD 2019
        quintile (long form), with the demand served within the standard.
    uncovered
        One row per cluster of zones not served within the standard: nearest candidates,
        the rule that excludes each, the smallest fix and its cost
        (:func:`netplan.explain.explain_uncovered`).
    totals
        Headline figures (dict).
    isochrones
        GeoDataFrame ``site_id, minutes, geometry`` of the open sites (may be empty).
    provenance
        Data versions, network key, package version, solver status, run times.
    candidates
        Every hospital of the NHS.uk list in England and every user site, with
        ``eligible``, ``status`` and ``reason`` under the scenario's eligibility rule and site
        rules (:func:`netplan.sites.candidate_table`); None if not built.
    rota, rota_units
        The mobile units' weekly rota (one row per unit and weekday) and one row per unit
        (:func:`netplan.optimise.rota.solve_rota`); None when the rota stage was off.
    """

    def __init__(
        self,
        *,
        scenario: Scenario,
        sites: pd.DataFrame,
        zones: Any,
        cyclotrons: pd.DataFrame,
        coverage: pd.DataFrame,
        totals: dict[str, Any],
        uncovered: pd.DataFrame | None = None,
        isochrones: Any = None,
        cyclotron_points: Any = None,
        provenance: dict[str, Any] | None = None,
        candidates: Any = None,
        rota: pd.DataFrame | None = None,
        rota_units: pd.DataFrame | None = None,
    ) -> None:
        self.scenario = scenario
        self.sites = sites
        self.zones = zones
        self.cyclotrons = cyclotrons
        self.coverage = coverage
        self.uncovered = uncovered if uncovered is not None else pd.DataFrame()
        self.totals = totals
        self.isochrones = isochrones
        self.cyclotron_points = cyclotron_points
        self.provenance = dict(provenance or {})
        self.candidates = candidates
        self.rota = rota
        self.rota_units = rota_units

    def __repr__(self) -> str:
        t = self.totals
        return (
            f"<ScenarioResult {self.scenario.name!r}: {t.get('sites_open', 0)} sites, "
            f"{t.get('static_scanners', 0)} static scanners, {t.get('mobile_days_per_week', 0)} "
            f"mobile days/week, {100 * t.get('share_within_standard', float('nan')):.1f} % within "
            f"{self.scenario.drive_minutes:g} min, status {t.get('status', '?')}>"
        )

    def summary(self) -> pd.DataFrame:
        """Headline figures as a one-row DataFrame indexed by the scenario name."""
        data = {k: v for k, v in self.totals.items() if k != "scenario"}
        return pd.DataFrame([data], index=pd.Index([self.scenario.name], name="scenario"))

    def to_folder(self, out_dir: str | Path, *, force: bool = False) -> dict[str, Path]:
        """Write the report, map, tables and resolved scenario into ``out_dir`` atomically.

        See :func:`netplan.report.write_result` for the rules on existing folders.

        Returns
        -------
        dict
            Output name -> path (``report``, ``map``, ``sites``, ``candidates``, ``zones``,
            ``summary``, ``xlsx``, ``gpkg``, ``scenario``).
        """
        from .. import report

        return report.write_result(self, out_dir, force=force)
