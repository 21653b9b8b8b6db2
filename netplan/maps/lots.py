"""Contract-lot outlines without the slivers a dissolve of ICB boundaries leaves behind.

ICB boundaries do not meet exactly, so dissolving them by lot keeps thin gaps as holes and
tiny detached parts along shared edges. :func:`clean_lots` closes gaps narrower than
``2 * close_m`` (a buffer out and back in EPSG:27700), repairs the result with
``make_valid``, and drops parts and holes under ``min_area_km2``; :func:`land` is the union
of the cleaned lots, drawn as England's land on the plain background.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import settings

if TYPE_CHECKING:
    import geopandas as gpd
    import shapely


def _drop_small(geom: shapely.Geometry, min_area_m2: float) -> shapely.Geometry:
    """``geom`` without polygon parts or holes smaller than ``min_area_m2``."""
    import shapely

    kept = []
    for part in shapely.get_parts(geom):
        if not isinstance(part, shapely.Polygon) or part.area < min_area_m2:
            continue
        holes = [h for h in part.interiors if shapely.Polygon(h).area >= min_area_m2]
        kept.append(shapely.Polygon(part.exterior, holes))
    return shapely.MultiPolygon(kept) if kept else shapely.Polygon()


def clean_lots(
    lots: gpd.GeoDataFrame, *, close_m: float = 100.0, min_area_km2: float = 1.0
) -> gpd.GeoDataFrame:
    """Dissolve ``lots`` by ``lot`` and remove slivers.

    Parameters
    ----------
    lots
        GeoDataFrame ``lot, geometry`` (with a CRS; several rows per lot, e.g. ICBs).
    close_m
        Gaps narrower than twice this (metres) between rows of one lot are closed.
    min_area_km2
        Parts and holes smaller than this are dropped.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per lot (``lot`` as text, sorted), EPSG:27700.
    """
    import shapely

    g = lots[["lot", "geometry"]].to_crs(settings.projected_crs)
    g["geometry"] = shapely.make_valid(g.geometry.values)
    out = g.dissolve(by="lot", as_index=False)
    out["lot"] = out["lot"].astype(str)
    closed = shapely.make_valid(
        shapely.buffer(shapely.buffer(out.geometry.values, close_m), -close_m)
    )
    min_area_m2 = min_area_km2 * 1e6
    out["geometry"] = [_drop_small(geom, min_area_m2) for geom in closed]
    out = out[~out.geometry.is_empty]
    return out.sort_values("lot").reset_index(drop=True)


def land(cleaned: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The union of the cleaned lots (one row), for the plain background."""
    import geopandas as gpd

    return gpd.GeoDataFrame({"geometry": [cleaned.geometry.union_all()]}, crs=cleaned.crs)
