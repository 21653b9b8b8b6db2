"""Read a saved run folder back (:meth:`ScenarioResult.from_folder`).

A folder written by :func:`netplan.report.write_result` holds everything a result needs:
the resolved scenario and its provenance (``scenario.resolved.yaml``), the tables (CSV),
the headline figures (``summary.csv``) and the isochrones (``results.gpkg`` or
``isochrones.parquet``). :func:`read_parts` returns them as the keyword arguments of
:class:`~netplan.scenario.result.ScenarioResult` (the scenario still a mapping: the
result module turns it into a Scenario through the schema's reader), so ``netplan
compare`` can compare saved runs without solving them again.

Tables are read with ids as text (``007`` stays ``007``); floats carry the CSVs' rounding
(:data:`netplan.report.writers.CSV_DECIMALS`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import ScenarioError

RESOLVED = "scenario.resolved.yaml"
#: Columns read as text in each table.
_TEXT = {
    "sites": ["site_id", "name", "lot", "decision", "tracer_source", "backup_source"],
    "zones": ["zone_id", "name", "icb_code", "icb_name", "lot", "assigned_site"],
    "cyclotrons": ["cyclotron_id", "name"],
    "coverage": ["level", "name"],
    "uncovered": ["cluster", "place"],
    "candidates": ["id", "name", "status", "reason"],
}


def is_run_folder(path: str | Path) -> bool:
    """Whether ``path`` is a folder written by ``netplan run`` (it holds the resolved YAML)."""
    return (Path(path) / RESOLVED).is_file()


def _table(folder: Path, name: str, *, required: bool = True) -> pd.DataFrame | None:
    path = folder / f"{name}.csv"
    if not path.is_file():
        if not required:
            return None
        msg = f"{folder}: {path.name} is missing; is this a folder written by `netplan run`?"
        raise ScenarioError(msg)
    cols = pd.read_csv(path, nrows=0).columns
    dtype = {c: str for c in _TEXT.get(name, []) if c in cols}
    return pd.read_csv(path, dtype=dtype, keep_default_na=True)


def _value(v: Any) -> Any:
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def read_parts(folder: str | Path) -> dict[str, Any]:
    """The parts of a saved result: ``scenario_dict``, ``provenance`` and the tables.

    Raises
    ------
    ScenarioError
        When ``folder`` is not a run folder (no ``scenario.resolved.yaml``) or a table is
        missing; the message names the folder and the file.
    """
    import geopandas as gpd
    import yaml

    folder = Path(folder)
    resolved = folder / RESOLVED
    if not resolved.is_file():
        msg = f"{folder}: no {RESOLVED}; give a folder written by `netplan run`"
        raise ScenarioError(msg)
    raw = yaml.safe_load(resolved.read_text(encoding="utf-8")) or {}
    provenance = dict(raw.pop("provenance", {}) or {})
    summary = _table(folder, "summary")
    totals = {str(k): _value(v) for k, v in summary.iloc[0].to_dict().items()}
    isochrones = None
    if (folder / "isochrones.parquet").is_file():
        isochrones = gpd.read_parquet(folder / "isochrones.parquet")
    elif (folder / "results.gpkg").is_file():
        import pyogrio

        if "isochrones" in {n for n, _ in pyogrio.list_layers(folder / "results.gpkg")}:
            isochrones = gpd.read_file(folder / "results.gpkg", layer="isochrones")
    cyc_points = None
    if (folder / "cyclotrons.parquet").is_file():
        cyc = gpd.read_parquet(folder / "cyclotrons.parquet")
        cyc_points = pd.DataFrame(cyc[["id", "name", "lon", "lat"]])
    candidates = _table(folder, "candidates", required=False)
    if candidates is not None:  # "opened" is derived from the sites when written again
        candidates = candidates.drop(columns="opened", errors="ignore")
    zones = _table(folder, "zones")
    zones = gpd.GeoDataFrame(
        zones, geometry=gpd.points_from_xy(zones["lon"], zones["lat"]), crs="EPSG:4326"
    )
    return {
        "scenario_dict": raw,
        "source": resolved,
        "provenance": {**provenance, "read_from": str(folder)},
        "totals": totals,
        "sites": _table(folder, "sites"),
        "zones": zones,
        "cyclotrons": _table(folder, "cyclotrons"),
        "coverage": _table(folder, "coverage"),
        "uncovered": _table(folder, "uncovered", required=False),
        "candidates": candidates,
        "isochrones": isochrones,
        "cyclotron_points": cyc_points,
    }
