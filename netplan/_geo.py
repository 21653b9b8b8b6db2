"""Coordinate helpers: WGS84 <-> British National Grid transforms and great-circle distance."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from . import settings


@functools.lru_cache(maxsize=4)
def _transformer(src: str, dst: str) -> Any:
    from pyproj import Transformer

    return Transformer.from_crs(src, dst, always_xy=True)


def _to_bng(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    tr = _transformer(settings.geographic_crs, settings.projected_crs)
    x, y = tr.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def _haversine_m(
    lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray
) -> np.ndarray:
    r = 6_371_009.0  # mean Earth radius (m), as osmnx's great_circle
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dlmb = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * r * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


#: Geometry types reduced to a representative point (with a warning) by :func:`lonlat_of`.
AREA_TYPES = frozenset({"Polygon", "MultiPolygon"})


def lonlat_of(gdf: Any, *, source: str) -> Any:
    """``id, lon, lat`` (WGS84) of a GeoDataFrame of points or of areas.

    Points are taken as they are. Polygons (an LSOA, a hospital's estate, a catchment)
    are reduced to a representative point: a point guaranteed inside each polygon, found
    in British National Grid metres (EPSG:27700) so it is not distorted by degrees, and a
    warning says how many were reduced. Lines, empty or missing geometries are refused.

    Raises
    ------
    ValidationError
        On a geometry that is neither a point nor a polygon, or a missing one.
    """
    import warnings

    import pandas as pd

    from ._errors import ValidationError

    geom = gdf.geometry
    kinds = set(getattr(geom, "geom_type", pd.Series(dtype=object)).dropna())
    if kinds - {"Point"} - AREA_TYPES or geom.isna().any() or geom.is_empty.any():
        msg = (
            f"{source}: geometries must be points or polygons (polygons are reduced to a "
            f"representative point), got {sorted(kinds) or 'none'} or empty ones; use e.g. "
            "`gdf.assign(geometry=gdf.representative_point())` or give lon, lat columns."
        )
        raise ValidationError(msg)
    crs = getattr(gdf, "crs", None)
    if kinds & AREA_TYPES:
        areas = geom.geom_type.isin(list(AREA_TYPES))
        metric = gdf.to_crs(settings.projected_crs) if crs is not None else gdf
        points = metric.geometry.where(~areas.to_numpy(), metric.geometry.representative_point())
        gdf = metric.set_geometry(points)
        crs = gdf.crs
        warnings.warn(
            f"{source}: {int(areas.sum())} polygon(s) reduced to a representative point "
            "inside each (drive times start there)",
            UserWarning,
            stacklevel=3,
        )
    wgs = gdf.to_crs(settings.geographic_crs) if crs is not None else gdf
    return pd.DataFrame(
        {
            "id": gdf["id"].to_numpy() if "id" in gdf.columns else gdf.index.to_numpy(),
            "lon": wgs.geometry.x.to_numpy(),
            "lat": wgs.geometry.y.to_numpy(),
        }
    )
