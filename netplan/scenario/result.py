"""The :class:`ScenarioResult` container: the tables and figures a run produced.

It holds data only (sites, zones, cyclotrons, coverage, totals, isochrones, provenance);
:mod:`netplan.report` writes it out, and it never imports the pipeline that made it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

#: A :class:`netplan.scenario.schema.Scenario` (not imported: the schema runs the pipeline,
#: which builds results, so a result only carries the scenario it was given).
Scenario = Any

#: Builds a Scenario from a resolved mapping and its file (``Scenario.from_dict``); set by
#: :mod:`netplan.scenario.schema` when it is imported (always, with this package), so
#: :meth:`ScenarioResult.from_folder` needs no import of the schema.
scenario_reader: Callable[[Mapping[str, Any], Path], Scenario] | None = None


def _as_points(df: Any, points: Any = None, key: str = "") -> Any:
    """``df`` as a GeoDataFrame (EPSG:4326): points at its lon/lat, or at those of the
    ``points`` row (``id, lon, lat``) its ``key`` column names; unchanged if neither."""
    import geopandas as gpd

    if df is None or isinstance(df, gpd.GeoDataFrame):
        return df
    frame = pd.DataFrame(df)
    if {"lon", "lat"} <= set(frame.columns):
        lon, lat = frame["lon"], frame["lat"]
    elif points is not None and key in frame.columns and len(points):
        xy = pd.DataFrame(points).drop_duplicates("id").set_index("id")
        lon = frame[key].map(xy["lon"])
        lat = frame[key].map(xy["lat"])
    else:
        return df
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


class ScenarioResult:
    """Everything a scenario run produced, with writers.

    Attributes
    ----------
    scenario
        The scenario that was run.
    sites
        GeoDataFrame (points, EPSG:4326), one row per candidate site: decision,
        scanners, mobile days, capacity, assigned scans, utilisation, drive times, tracer
        source, turnaround shares.
    zones
        GeoDataFrame, one row per zone: population, scans, ICB, lot, assigned site,
        minutes, nearest open and static site minutes, covered flag and reason.
    cyclotrons
        GeoDataFrame (points where the location is known), one row per cyclotron: doses
        per day, delivery minutes, activity, back-up load.
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
        self.sites = _as_points(sites)
        self.zones = zones
        self.cyclotrons = _as_points(cyclotrons, cyclotron_points, "cyclotron_id")
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

    def _repr_html_(self) -> str:
        """A notebook's view: the headline figures and the open sites."""
        from html import escape

        t = self.totals
        share = t.get("share_within_standard", float("nan"))
        rows = [
            ("Within the standard", f"{100 * float(share):.1f} % of the population"),
            ("Drive standard", f"{self.scenario.drive_minutes:g} minutes"),
            ("Sites open", f"{t.get('sites_open', 0)} ({t.get('static_sites', 0)} static, "
                           f"{t.get('mobile_sites', 0)} mobile)"),
            ("Static scanners", f"{t.get('static_scanners', 0)}"),
            ("Mobile days per week", f"{float(t.get('mobile_days_per_week', 0) or 0):g}"),
            ("Annual cost", f"£{float(t.get('annual_cost_gbp', 0) or 0):,.0f}"),
            ("Cost per scan", f"£{float(t.get('cost_per_scan_gbp', 0) or 0):,.0f}"),
            ("Solver status", str(t.get("status", "?"))),
        ]  # fmt: skip
        body = "".join(
            f"<tr><th style='text-align:left'>{escape(a)}</th><td>{escape(b)}</td></tr>"
            for a, b in rows
        )
        sites = pd.DataFrame(self.sites)
        if "open" in sites.columns:
            sites = sites[sites["open"].astype(bool)]
        wanted = ("site_id", "name", "decision", "static_scanners",
                  "mobile_days_per_week", "utilisation")  # fmt: skip
        cols = [c for c in wanted if c in sites.columns]
        table = sites[cols].head(10).to_html(index=False, border=0, float_format="{:.2f}".format)
        more = (
            f"<p>{len(sites) - 10} more open site(s) in result.sites</p>" if len(sites) > 10 else ""
        )
        return (
            f"<div><strong>ScenarioResult {escape(self.scenario.name)}</strong>"
            f"<table>{body}</table>{table}{more}</div>"
        )

    def explore(self) -> Any:
        """The interactive map of this result (a ``folium.Map``; shows itself in a notebook).

        Built as ``map.html`` is, through :func:`netplan.maps.scenario_map`.
        """
        from ..report import build_map

        return build_map(self)

    @classmethod
    def from_folder(cls, path: str | Path) -> ScenarioResult:
        """Read a folder written by :meth:`to_folder` (or ``netplan run``) back.

        The scenario, provenance, headline figures, tables and isochrones come from the
        folder's files, so saved runs can be compared (``netplan compare DIR1 DIR2``) or
        reported again without solving. Floats carry the CSVs' rounding (4 decimals).

        Raises
        ------
        ScenarioError
            When ``path`` is not a run folder or a table is missing.
        """
        from .saved import read_parts

        parts = read_parts(path)
        raw, source = parts.pop("scenario_dict"), parts.pop("source")
        if scenario_reader is None:  # pragma: no cover - the package always sets it
            msg = "netplan.scenario.schema was not imported"
            raise RuntimeError(msg)
        return cls(scenario=scenario_reader(raw, source), **parts)
