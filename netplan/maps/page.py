"""Map pages: the offline-ready base map, the public scenario and isochrone maps, saving.

:func:`base_map` makes the page (tiles, attributions, title); :func:`scenario_map` and
:func:`isochrone_map` stack the layers of :mod:`netplan.maps.layers` on it and finish it with
the layer control and bounds; :func:`save_map` writes the HTML atomically.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._io import write_text_atomic
from .controls import _add_plain_background, _add_report_link, _add_search
from .elements import _folium, _macro, _raw_element_class
from .layers import (
    _add_cyclotrons,
    _add_isochrones,
    _add_lots,
    _add_sites,
    _add_zones,
    _check_sites,
)
from .offline import _make_offline

if TYPE_CHECKING:
    import folium
    import geopandas as gpd

# The package's name, as before the split, so log lines read "netplan.maps: ...".
logger = logging.getLogger("netplan.maps")

#: Attribution for the OpenStreetMap tiles (ODbL 1.0).
OSM_ATTRIBUTION = (
    '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors (ODbL)'
)
#: Attribution for the ONS, NHS and OS data drawn on the map (Open Government Licence v3).
OGL_ATTRIBUTION = (
    "Contains public sector information licensed under the "
    '<a href="https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/">'
    "Open Government Licence v3.0</a> (ONS, NHS); "
    "contains OS data © Crown copyright and database right 2024"
)
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def base_map(
    *,
    title: str | None = None,
    tiles: bool = True,
    location: tuple[float, float] = (52.8, -1.6),
    zoom_start: int = 6,
) -> folium.Map:
    """Create an offline-ready folium map of England with OSM tiles and attributions.

    Parameters
    ----------
    title
        Text shown in a box at the top of the map (and as the page title).
    tiles
        Add the OpenStreetMap tile layer (the only part fetched over the network).
    location
        Initial centre (lat, lon).
    zoom_start
        Initial zoom level.

    Returns
    -------
    folium.Map
        A map whose page inlines Leaflet (see the module docstring).
    """
    folium = _folium()
    m = folium.Map(
        location=list(location),
        zoom_start=zoom_start,
        tiles=None,
        control_scale=True,
        font_size="0.75rem",
        zoom_snap=0.25,
    )
    _make_offline(m)
    m._netplan = True  # marks maps whose page we made offline
    m.get_root().header.add_child(
        _raw_element_class()(
            "<style>.netplan-popup{font-size:12px}.netplan-popup th{text-align:left;"
            "padding-right:8px}</style>"
        ),
        name="netplan_css",
    )
    osm = None
    if tiles:
        osm = folium.TileLayer(
            tiles=OSM_TILES, attr=OSM_ATTRIBUTION, name="OpenStreetMap", max_zoom=19
        )
        osm.add_to(m)
    _add_plain_background(m, tiles=osm)
    m.add_child(
        _macro(
            """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.osm|tojson }});
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
        {% endmacro %}""",
            text=OGL_ATTRIBUTION,
            osm=OSM_ATTRIBUTION,  # the road network is OSM data, whichever background
        ),
        name="netplan_attribution",
    )
    if title:
        m.get_root().title = title
        m.add_child(
            _macro(
                """{% macro html(this, kwargs) %}
            <div class="netplan-title" style="position:fixed;top:10px;left:50%;
              transform:translateX(-50%);z-index:1000;background:rgba(255,255,255,0.9);
              padding:4px 12px;border-radius:4px;font:bold 15px sans-serif;
              box-shadow:0 1px 4px rgba(0,0,0,0.3)">{{ this.text|e }}</div>
            {% endmacro %}""",
                text=title,
            ),
            name="netplan_title",
        )
    return m


def _ensure_map(m: folium.Map | None, title: str | None) -> folium.Map:
    return base_map(title=title) if m is None else m


def _finish(m: folium.Map, bounds: list[list[float]] | None) -> folium.Map:
    """(Re)add the layer control last, so it lists every layer, and fit the bounds."""
    folium = _folium()
    m._children.pop("netplan_layer_control", None)
    _add_search(m)
    m.add_child(
        folium.LayerControl(collapsed=False, position="topright"), name="netplan_layer_control"
    )
    if bounds is not None and "netplan_fit" not in m._children:
        m.add_child(folium.FitBounds(bounds, padding=(10, 10)), name="netplan_fit")
    return m


def _bounds(*frames: pd.DataFrame | None) -> list[list[float]] | None:
    lons = np.concatenate(
        [f["lon"].to_numpy(float) for f in frames if f is not None and len(f)] or [np.array([])]
    )
    lats = np.concatenate(
        [f["lat"].to_numpy(float) for f in frames if f is not None and len(f)] or [np.array([])]
    )
    if lons.size == 0:
        return None
    return [[float(lats.min()), float(lons.min())], [float(lats.max()), float(lons.max())]]


def scenario_map(
    *,
    sites: pd.DataFrame,
    zones: pd.DataFrame,
    isochrones: gpd.GeoDataFrame | None = None,
    cyclotrons: pd.DataFrame | None = None,
    supply_links: pd.DataFrame | None = None,
    lots: gpd.GeoDataFrame | None = None,
    m: folium.Map | None = None,
    title: str | None = None,
    report_href: str | None = None,
) -> folium.Map:
    """Map one scenario: sites, zones, isochrones, tracer supply and lots.

    Zones are drawn as small dots (canvas) coloured by drive minutes to their assigned
    site; uncovered zones (``covered`` false or no drive time) are outlined in a separate
    layer. The 32,844 English LSOAs make a page of about 1.5 MB.

    Parameters
    ----------
    sites
        ``id, name, lon, lat, decision`` ({"static", "mobile", "both", "closed"}) plus
        optional figure columns for the popups (:data:`SITE_FIGURES`, e.g. ``scanners``,
        ``utilisation`` as a fraction; other columns are shown under their own names).
    zones
        ``id, lon, lat, minutes, covered, assigned_site`` (optional ``population``, and
        ``name`` and ``uncovered_reason`` shown in the popup).
    isochrones
        GeoDataFrame ``site_id, minutes, geometry``; one layer per minutes value (off by
        default).
    cyclotrons
        ``id, name, lon, lat``.
    supply_links
        ``site_id, cyclotron_id, role`` ({"primary", "backup"}) and optional ``minutes``.
    lots
        GeoDataFrame ``lot, geometry``; rows are dissolved by lot and simplified.
    m
        A map from another netplan map function to add to; None makes a new one.
    title
        Title box text.
    report_href
        Link target of a "Back to the report" box (e.g. ``"report.html"``); None for none.

    Returns
    -------
    folium.Map
        The map, with a layer control, legend, search box and attributions. Shown at
        first: lots, zones, uncovered zones, cyclotrons and the opened sites; off (in the
        layer control): isochrones, tracer supply links and unused candidates.

    Raises
    ------
    ValidationError
        If a table lacks columns, has duplicate ids, bad coordinates, an unknown decision,
        or supply links that name unknown sites or cyclotrons.
    """
    sites = _check_sites(sites)
    m = _ensure_map(m, title)
    if lots is not None:
        _add_lots(m, lots)
    if isochrones is not None and len(isochrones):
        _add_isochrones(m, isochrones)
    site_names = dict(zip(sites["id"].astype(str), sites["name"].astype(str), strict=True))
    _add_zones(m, zones, site_names=site_names)
    if cyclotrons is not None:
        _add_cyclotrons(m, cyclotrons, sites, supply_links)
    _add_sites(m, sites)
    logger.info(
        "scenario map: %d sites (%d opened), %d zones",
        len(sites),
        int((sites["decision"] != "closed").sum()),
        len(zones),
    )
    if report_href:
        _add_report_link(m, report_href)
    return _finish(m, _bounds(sites[sites["decision"] != "closed"], zones))


def isochrone_map(
    isochrones: gpd.GeoDataFrame,
    sites: pd.DataFrame,
    *,
    m: folium.Map | None = None,
    title: str | None = None,
) -> folium.Map:
    """Map drive-time isochrones (one toggleable layer per threshold) and their sites.

    Parameters
    ----------
    isochrones
        GeoDataFrame ``site_id, minutes, geometry`` (any CRS).
    sites
        ``id, name, lon, lat`` and optional ``decision`` (default "static").
    m
        A map from another netplan map function to add to; None makes a new one.
    title
        Title box text.

    Returns
    -------
    folium.Map
        The map with a layer control, legend and attributions.

    Raises
    ------
    ValidationError
        If a table lacks columns or has bad coordinates.
    """
    sites = _check_sites(sites)
    m = _ensure_map(m, title)
    _add_isochrones(m, isochrones)
    _add_sites(m, sites)
    return _finish(m, _bounds(sites))


def save_map(m: folium.Map, path: str | os.PathLike[str]) -> Path:
    """Write the map's HTML page atomically (temporary file, then rename).

    Parameters
    ----------
    m
        The map.
    path
        Output file (``.html``); its folder is created if needed.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    path = write_text_atomic(path, m.get_root().render())
    logger.info("map written: %s (%.2f MB)", path, path.stat().st_size / 1e6)
    return path
