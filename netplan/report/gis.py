"""GIS and script outputs of a result: GeoPackage layers, GeoParquet files, ``result.json``.

:func:`layers` is the one list of a result's geographic layers (EPSG:4326, tables rounded
as the CSVs are): ``sites``, ``zones`` and ``cyclotrons`` (points), ``isochrones`` (the
open sites' reachable areas), ``lots`` (contract-lot boundaries from the ICB boundaries)
and ``supply_links`` (site -> cyclotron lines, primary and back-up). :func:`write_gpkg`
writes them as layers of ``results.gpkg`` and :func:`write_geoparquet` as one GeoParquet
file each (``<layer>.parquet``, read with ``geopandas.read_parquet``).
:func:`result_summary` is ``result.json``: the headline figures, the open sites and the
file names, for scripts that should not parse HTML or CSV.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ._types import ScenarioResult

#: Every layer :func:`layers` can return, in order (absent ones are left out).
LAYERS = ("sites", "zones", "cyclotrons", "isochrones", "lots", "supply_links")
#: GeoParquet file of each layer (names registered in :func:`netplan.report.output_names`).
PARQUET_FILES = {name: f"{name}.parquet" for name in LAYERS}
RESULT_JSON = "result.json"


def _points(df: pd.DataFrame) -> Any:
    import geopandas as gpd

    from .writers import _stable

    df = _stable(df)
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")


def layers(result: ScenarioResult, *, lots: Any = None) -> dict[str, Any]:
    """The result's geographic layers (name -> GeoDataFrame in EPSG:4326).

    ``lots`` is a GeoDataFrame ``lot, geometry`` of lot boundaries (default: the ICB
    boundaries of the data cache dissolved by lot; left out when unavailable).
    """
    import geopandas as gpd
    import shapely

    out: dict[str, Any] = {
        "sites": _points(pd.DataFrame(result.sites)),
        "zones": _points(pd.DataFrame(result.zones)),
    }
    cyc = result.cyclotron_points
    if cyc is not None and len(cyc):
        cyc_df = pd.DataFrame(cyc)[["id", "name", "lon", "lat"]].merge(
            pd.DataFrame(result.cyclotrons).drop(columns=["name", "geometry"], errors="ignore"),
            left_on="id",
            right_on="cyclotron_id",
            how="left",
        )
        out["cyclotrons"] = _points(cyc_df)
    if result.isochrones is not None and len(result.isochrones):
        out["isochrones"] = result.isochrones.to_crs("EPSG:4326")
    lots = _lots() if lots is None else lots.dissolve("lot", as_index=False)
    if lots is not None and len(lots):
        out["lots"] = lots[["lot", "geometry"]].to_crs("EPSG:4326")
    from .result_map import supply_links

    links = supply_links(result)
    if len(links) and "cyclotrons" in out:
        site_xy = out["sites"].set_index("site_id")[["lon", "lat"]]
        cyc_xy = out["cyclotrons"].set_index("id")[["lon", "lat"]]
        links = links[
            links["site_id"].isin(site_xy.index) & links["cyclotron_id"].isin(cyc_xy.index)
        ]
        a = site_xy.loc[links["site_id"]].to_numpy(float)
        b = cyc_xy.loc[links["cyclotron_id"]].to_numpy(float)
        lines = shapely.linestrings(np.stack([a, b], axis=1))
        out["supply_links"] = gpd.GeoDataFrame(
            links.reset_index(drop=True), geometry=lines, crs="EPSG:4326"
        )
    return out


def _lots() -> Any:
    """The contract lots dissolved from the ICB boundaries, read once per cache folder."""
    from .. import settings

    found = _lots_cached(str(settings.cache_folder), str(settings.data_mirror))
    return None if found is None else found.copy()


@functools.lru_cache(maxsize=2)
def _lots_cached(_cache: str, _mirror: str) -> Any:
    from .result_map import _lot_polygons

    lots = _lot_polygons()
    return None if lots is None else lots.dissolve("lot", as_index=False)


def write_gpkg(
    result: ScenarioResult, path: str | Path, *, found: Mapping[str, Any] | None = None
) -> Path:
    """Write :func:`layers` as the layers of one GeoPackage."""
    path = Path(path)
    for i, (name, gdf) in enumerate((found or layers(result)).items()):
        gdf.to_file(path, layer=name, driver="GPKG", mode="w" if i == 0 else "a")
    return path


def write_geoparquet(
    result: ScenarioResult, folder: str | Path, *, found: Mapping[str, Any] | None = None
) -> dict[str, Path]:
    """Write each of :func:`layers` as ``folder/<layer>.parquet`` (GeoParquet, pyarrow)."""
    folder = Path(folder)
    out = {}
    for name, gdf in (found or layers(result)).items():
        path = folder / PARQUET_FILES[name]
        gdf.to_parquet(path, index=False)
        out[f"{name}_parquet"] = path
    return out


def _plain(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return round(float(v), 6) if math.isfinite(float(v)) else None
    if v is None or v is pd.NA:
        return None
    return v if isinstance(v, (int, str)) else str(v)


def result_summary(result: ScenarioResult, files: Mapping[str, str] | None = None) -> dict:
    """``result.json``: scenario, headline totals, open sites, warnings and output files."""
    from .workbook import warnings_of

    sites = pd.DataFrame(result.sites)
    wanted = ("site_id", "name", "lot", "decision", "static_scanners",
              "mobile_days_per_week", "utilisation", "annual_cost_gbp")  # fmt: skip
    keep = [c for c in wanted if c in sites]
    open_sites = sites[sites["open"].astype(bool)][keep] if "open" in sites else sites[keep]
    return _plain(
        {
            "netplan_result": 1,
            "scenario": result.scenario.name,
            "drive_minutes": result.scenario.drive_minutes,
            "totals": {k: v for k, v in result.totals.items() if k != "scenario"},
            "open_sites": open_sites.to_dict(orient="records"),
            "warnings": warnings_of(result),
            "files": dict(files or {}),
            "provenance": {
                k: result.provenance.get(k)
                for k in ("netplan_version", "network_key", "solver_status", "data_versions")
            },
        }
    )


def write_result_json(result: ScenarioResult, path: str | Path, files: Mapping[str, str]) -> Path:
    """Write :func:`result_summary` as JSON (no run times: a rerun gives the same bytes)."""
    path = Path(path)
    text = json.dumps(result_summary(result, files), indent=2, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")
    return path
