"""Interactive maps (folium / Leaflet) that open offline apart from the map tiles.

folium pages normally load Leaflet, jQuery, Bootstrap and Font Awesome from CDNs, so
without internet they are blank. Every map built here instead inlines Leaflet's own
JavaScript and CSS, read from ``settings.assets_folder / "leaflet" / "dist"`` (unpacked
from the npm registry by ``make env``), and uses only plain Leaflet features: circle
markers, ``L.divIcon`` symbols, GeoJSON, polylines, feature groups and the layer control.
Popups are bound with ``bindPopup`` (folium's ``Popup`` needs jQuery). The OpenStreetMap
tiles are the only thing fetched over the network; the vector layers show without them.

Input tables are plain (Geo)DataFrames with WGS84 ``lon``/``lat`` columns:

- ``sites``: ``id, name, lon, lat, decision`` with ``decision`` in
  {"static", "mobile", "both", "closed"}, plus optional figure columns shown in the popup
  (see :data:`SITE_FIGURES`; any other extra column is shown under its own name).
- ``zones``: ``id, lon, lat, minutes, covered, assigned_site`` (optional ``population``).
- ``isochrones``: GeoDataFrame ``site_id, minutes, geometry``.
- ``cyclotrons``: ``id, name, lon, lat``.
- ``supply_links``: ``site_id, cyclotron_id, role`` in {"primary", "backup"}, ``minutes``.
- ``lots``: GeoDataFrame ``lot, geometry`` (several rows per lot, e.g. ICBs, are dissolved).

Examples
--------
>>> import pandas as pd
>>> sites = pd.DataFrame({"id": ["A"], "name": ["Leeds"], "lon": [-1.55], "lat": [53.8],
...                       "decision": ["static"]})
>>> zones = pd.DataFrame({"id": ["z1"], "lon": [-1.6], "lat": [53.7], "minutes": [12.0],
...                       "covered": [True], "assigned_site": ["A"]})
>>> m = scenario_map(sites=sites, zones=zones)  # doctest: +SKIP
>>> save_map(m, "map.html")  # doctest: +SKIP

The package is split by what each part owns (arrows: "imports")::

    page -> layers -> elements      the page and public maps; the layers; styles, macros
      |       |  +-> lots            lot outlines without slivers
      |       v         ^
      +-> controls -----+           plain offline background, search box, report link
      +-> offline ------+           Leaflet inlined from the assets folder
    palette                         the colours (Okabe-Ito, viridis) and their CVD check

Every name is re-exported here but the warn-once flag, which lives in ``offline``.
"""

from __future__ import annotations

from .._errors import ValidationError as ValidationError
from .elements import _BIND_TEMPLATE as _BIND_TEMPLATE
from .elements import _LEGEND_TEMPLATE as _LEGEND_TEMPLATE
from .elements import CYCLOTRON_COLOUR as CYCLOTRON_COLOUR
from .elements import ISOCHRONE_COLOURS as ISOCHRONE_COLOURS
from .elements import LOT_COLOURS as LOT_COLOURS
from .elements import SITE_FIGURES as SITE_FIGURES
from .elements import SITE_STYLES as SITE_STYLES
from .elements import UNCOVERED_COLOUR as UNCOVERED_COLOUR
from .elements import ZONE_BINS_MINUTES as ZONE_BINS_MINUTES
from .elements import ZONE_COLOURS as ZONE_COLOURS
from .elements import _bind as _bind
from .elements import _fmt as _fmt
from .elements import _folium as _folium
from .elements import _legend_add as _legend_add
from .elements import _line_symbol as _line_symbol
from .elements import _macro as _macro
from .elements import _popup_table as _popup_table
from .elements import _raw_element_class as _raw_element_class
from .elements import _svg_symbol as _svg_symbol
from .elements import _swatch as _swatch
from .layers import _SITES_TEMPLATE as _SITES_TEMPLATE
from .layers import _ZONES_TEMPLATE as _ZONES_TEMPLATE
from .layers import _add_cyclotrons as _add_cyclotrons
from .layers import _add_isochrones as _add_isochrones
from .layers import _add_lots as _add_lots
from .layers import _add_sites as _add_sites
from .layers import _add_zones as _add_zones
from .layers import _check_sites as _check_sites
from .layers import _isochrone_colour as _isochrone_colour
from .layers import _js_json as _js_json
from .layers import _latlon_by_id as _latlon_by_id
from .layers import _simplified_geojson as _simplified_geojson
from .layers import _site_popup as _site_popup
from .layers import _zone_payload as _zone_payload
from .offline import LEAFLET_CDN_VERSION as LEAFLET_CDN_VERSION
from .offline import _make_offline as _make_offline
from .offline import _read_leaflet as _read_leaflet
from .offline import leaflet_assets as leaflet_assets
from .page import OGL_ATTRIBUTION as OGL_ATTRIBUTION
from .page import OSM_ATTRIBUTION as OSM_ATTRIBUTION
from .page import OSM_TILES as OSM_TILES
from .page import _bounds as _bounds
from .page import _ensure_map as _ensure_map
from .page import _finish as _finish
from .page import base_map as base_map
from .page import isochrone_map as isochrone_map
from .page import save_map as save_map
from .page import scenario_map as scenario_map

__all__ = [
    "OGL_ATTRIBUTION",
    "OSM_ATTRIBUTION",
    "SITE_FIGURES",
    "SITE_STYLES",
    "base_map",
    "isochrone_map",
    "leaflet_assets",
    "save_map",
    "scenario_map",
]
