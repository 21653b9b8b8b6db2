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
"""

from __future__ import annotations

import base64
import html
import json
import logging
import os
import re
import warnings
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import settings
from ._errors import ValidationError
from ._io import write_text_atomic
from ._validate import check_columns, check_lonlat, check_unique

if TYPE_CHECKING:
    import folium
    import geopandas as gpd

logger = logging.getLogger(__name__)

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
LEAFLET_CDN_VERSION = "1.9.4"

#: Site decisions and how they are drawn: (legend label, colour, SVG shape).
SITE_STYLES: dict[str, tuple[str, str, str]] = {
    "static": ("Static scanner site", "#1f4e9c", "square"),
    "mobile": ("Mobile scanner site", "#e07b00", "triangle"),
    "both": ("Static + mobile site", "#7b3294", "diamond"),
    "closed": ("Unused candidate", "#8c8c8c", "circle"),
}
#: Optional site columns shown in popups, with their labels (other columns keep their name).
SITE_FIGURES: dict[str, str] = {
    "scanners": "Static scanners",
    "mobile_days_per_week": "Mobile days / week",
    "capacity_scans_per_year": "Capacity (scans / year)",
    "assigned_scans_per_year": "Assigned scans / year",
    "utilisation": "Utilisation",
    "mean_minutes": "Mean drive (min)",
    "max_minutes": "Max drive (min)",
    "tracer_source": "Tracer source",
}
#: Drive-minute bins for zones and their colours (ColorBrewer RdYlGn, reversed).
ZONE_BINS_MINUTES: tuple[float, ...] = (15, 30, 45, 60, 90)
ZONE_COLOURS: tuple[str, ...] = ("#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59", "#d73027")
UNCOVERED_COLOUR = "#e7298a"
CYCLOTRON_COLOUR = "#c51b7d"
ISOCHRONE_COLOURS: tuple[str, ...] = ("#08519c", "#3182bd", "#6baed6", "#9ecae1", "#c6dbef")
LOT_COLOURS: tuple[str, ...] = (
    "#1b9e77",
    "#d95f02",
    "#7570b3",
    "#e7298a",
    "#66a61e",
    "#e6ab02",
    "#a6761d",
    "#666666",
)

_warned_missing_assets = False


# --------------------------------------------------------------------------------------
# folium import, offline assets and small Leaflet elements
# --------------------------------------------------------------------------------------
def _folium() -> Any:
    """Import folium, with an install hint when it is missing."""
    try:
        import folium
    except ImportError as exc:  # pragma: no cover - folium is a dependency
        msg = (
            "netplan.maps needs folium: install it with `pip install folium branca` "
            "(or `conda install -c conda-forge folium`)."
        )
        raise ImportError(msg) from exc
    return folium


@lru_cache(maxsize=4)
def _read_leaflet(folder: str, mtime_ns: int) -> tuple[str, str]:
    """Read Leaflet's JS and CSS (images inlined as data URIs); cached per folder+mtime."""
    dist = Path(folder)
    js = (dist / "leaflet.js").read_text(encoding="utf-8")
    js = re.sub(r"//# sourceMappingURL=\S+\s*$", "", js).replace("</script", "<\\/script")
    css = (dist / "leaflet.css").read_text(encoding="utf-8")

    def _inline(match: re.Match[str]) -> str:
        image = dist / match.group(1)
        if not image.exists():
            return "url()"
        data = base64.b64encode(image.read_bytes()).decode("ascii")
        return f'url("data:image/png;base64,{data}")'

    css = re.sub(r"url\((?:['\"])?(images/[\w.-]+\.png)(?:['\"])?\)", _inline, css)
    return js, css.replace("</style", "<\\/style")


def leaflet_assets() -> tuple[str, str] | None:
    """Return Leaflet's JavaScript and CSS text from the assets folder, or None.

    Returns
    -------
    tuple of str or None
        ``(javascript, css)`` with the CSS images inlined as data URIs, or None (after
        one warning per process) when ``settings.assets_folder`` has no Leaflet.
    """
    global _warned_missing_assets
    dist = Path(settings.assets_folder) / "leaflet" / "dist"
    js, css = dist / "leaflet.js", dist / "leaflet.css"
    if js.is_file() and css.is_file():
        return _read_leaflet(str(dist), js.stat().st_mtime_ns)
    if not _warned_missing_assets:
        _warned_missing_assets = True
        msg = (
            f"Leaflet not found in {dist}: maps will load Leaflet {LEAFLET_CDN_VERSION} from "
            "its CDN and stay blank offline. Run `make env` (it unpacks leaflet from the npm "
            "registry) or set NETPLAN_ASSETS to a folder holding leaflet/dist/leaflet.js."
        )
        warnings.warn(msg, UserWarning, stacklevel=3)
    return None


@lru_cache(maxsize=1)
def _raw_element_class() -> type:
    from branca.element import Element

    class _Raw(Element):  # type: ignore[misc]
        """Literal HTML for the page header, not parsed as a Jinja template."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self._name = "NetplanRaw"
            self._text = text

        def render(self, **kwargs: Any) -> str:
            return self._text

    return _Raw


def _make_offline(m: folium.Map) -> folium.Map:
    """Replace folium's CDN scripts and styles by inlined Leaflet (CDN fallback if absent)."""
    assets = leaflet_assets()
    if assets is None:
        cdn = f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_CDN_VERSION}/dist/leaflet"
        m.default_js = [("leaflet", f"{cdn}.js")]
        m.default_css = [("leaflet_css", f"{cdn}.css")]
        return m
    js, css = assets
    m.default_js = []  # instance attributes: folium's class lists stay untouched
    m.default_css = []
    raw = _raw_element_class()
    header = m.get_root().header
    header.add_child(raw(f"<style>{css}</style>"), name="netplan_leaflet_css")
    header.add_child(raw(f"<script>{js}</script>"), name="netplan_leaflet_js")
    return m


def _macro(template: str, **attrs: Any) -> Any:
    """A branca MacroElement rendering ``template`` with ``this`` = the element."""
    from branca.element import MacroElement
    from jinja2 import Template

    element = MacroElement()
    element._name = "NetplanElement"
    element._template = Template(template)
    for key, value in attrs.items():
        setattr(element, key, value)
    return element


_BIND_TEMPLATE = """
{% macro script(this, kwargs) %}
{%- if this.popup %}{{ this._parent.get_name() }}.bindPopup({{ this.popup|tojson }},
    {maxWidth: 360});{% endif %}
{%- if this.tooltip %}{{ this._parent.get_name() }}.bindTooltip({{ this.tooltip|tojson }});
{%- endif %}
{% endmacro %}
"""


def _bind(layer: Any, *, popup: str | None = None, tooltip: str | None = None) -> Any:
    """Bind a popup (HTML) and tooltip (text) with plain Leaflet (no jQuery)."""
    layer.add_child(_macro(_BIND_TEMPLATE, popup=popup, tooltip=tooltip))
    return layer


def _svg_symbol(shape: str, colour: str, size_px: int = 16, *, hollow: bool = False) -> str:
    """Inline SVG for a site or cyclotron symbol (no external namespace URL needed)."""
    s = size_px
    fill = "none" if hollow else colour
    common = f'fill="{fill}" stroke="{"#222" if not hollow else colour}" stroke-width="1.5"'
    if shape == "square":
        body = f'<rect x="2" y="2" width="{s - 4}" height="{s - 4}" {common}/>'
    elif shape == "triangle":
        body = f'<polygon points="{s / 2},1 {s - 1},{s - 2} 1,{s - 2}" {common}/>'
    elif shape == "diamond":
        body = f'<polygon points="{s / 2},1 {s - 1},{s / 2} {s / 2},{s - 1} 1,{s / 2}" {common}/>'
    elif shape == "star":
        r_out, r_in, c = s / 2 - 0.5, s / 5, s / 2
        pts = []
        for k in range(10):
            r = r_out if k % 2 == 0 else r_in
            a = np.pi / 2 + k * np.pi / 5
            pts.append(f"{c + r * np.cos(a):.1f},{c - r * np.sin(a):.1f}")
        body = f'<polygon points="{" ".join(pts)}" {common}/>'
    else:
        body = f'<circle cx="{s / 2}" cy="{s / 2}" r="{s / 2 - 2}" {common}/>'
    return f'<svg width="{s}" height="{s}" viewBox="0 0 {s} {s}">{body}</svg>'


def _fmt(value: Any) -> str:
    """Format a popup value: thousands separators, 1 decimal, percentages for ratios."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"
    return html.escape(str(value))


def _popup_table(title: str, rows: Sequence[tuple[str, str]]) -> str:
    cells = "".join(f"<tr><th>{html.escape(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f"<b>{html.escape(title)}</b><table class='netplan-popup'>{cells}</table>"


# --------------------------------------------------------------------------------------
# base map, legend, attribution, layer control
# --------------------------------------------------------------------------------------
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
    if tiles:
        folium.TileLayer(
            tiles=OSM_TILES, attr=OSM_ATTRIBUTION, name="OpenStreetMap", max_zoom=19
        ).add_to(m)
    m.add_child(
        _macro(
            """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
        {% endmacro %}""",
            text=OGL_ATTRIBUTION,
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


_LEGEND_TEMPLATE = """
{% macro html(this, kwargs) %}
<div class="netplan-legend" style="position:fixed;bottom:64px;left:10px;z-index:1000;
  background:rgba(255,255,255,0.92);padding:6px 10px;border-radius:4px;max-width:240px;
  max-height:calc(100vh - 160px);overflow-y:auto;
  font:11px sans-serif;box-shadow:0 1px 4px rgba(0,0,0,0.3);line-height:18px">
{% for heading, items in this.sections %}
  <div style="font-weight:bold;margin-top:3px">{{ heading|e }}</div>
  {% for symbol, label in items %}
  <div><span style="display:inline-block;width:18px;vertical-align:middle">{{ symbol }}</span>
    {{ label|e }}</div>
  {% endfor %}
{% endfor %}
</div>
{% endmacro %}
"""


def _legend_add(m: folium.Map, heading: str, items: list[tuple[str, str]]) -> None:
    """Add (or extend) the legend box with a section of (symbol HTML, label) items."""
    legend = m._children.get("netplan_legend")
    if legend is None:
        legend = _macro(_LEGEND_TEMPLATE, sections=[])
        m.add_child(legend, name="netplan_legend")
    legend.sections = [s for s in legend.sections if s[0] != heading] + [(heading, items)]


def _swatch(colour: str, *, round_: bool = True, border: str = "#333") -> str:
    radius = "50%" if round_ else "2px"
    return (
        f'<span style="display:inline-block;width:11px;height:11px;background:{colour};'
        f'border:1px solid {border};border-radius:{radius}"></span>'
    )


def _line_symbol(colour: str, *, dashed: bool = False) -> str:
    dash = ' stroke-dasharray="4 3"' if dashed else ""
    return (
        f'<svg width="18" height="10"><line x1="0" y1="5" x2="18" y2="5" stroke="{colour}"'
        f' stroke-width="2.5"{dash}/></svg>'
    )


def _finish(m: folium.Map, bounds: list[list[float]] | None) -> folium.Map:
    """(Re)add the layer control last, so it lists every layer, and fit the bounds."""
    folium = _folium()
    m._children.pop("netplan_layer_control", None)
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


# --------------------------------------------------------------------------------------
# geometry helpers
# --------------------------------------------------------------------------------------
def _simplified_geojson(
    gdf: gpd.GeoDataFrame, properties: list[str], *, tolerance_m: float, decimals: int = 4
) -> dict[str, Any]:
    """Simplify in EPSG:27700, round WGS84 coordinates, keep only ``properties``."""
    import shapely

    if gdf.crs is None:
        msg = (
            "GeoDataFrame has no CRS; set it, e.g. `gdf.set_crs('EPSG:4326')` for "
            "longitude/latitude geometries."
        )
        raise ValidationError(msg)
    g = gdf[[*properties, "geometry"]].to_crs(settings.projected_crs)
    g["geometry"] = g.geometry.simplify(tolerance_m, preserve_topology=True)
    g = g.to_crs(settings.geographic_crs)
    g["geometry"] = shapely.set_precision(g.geometry.values, 10.0**-decimals, mode="pointwise")
    g = g[~g.geometry.is_empty & g.geometry.notna()]
    return json.loads(g.to_json(drop_id=True))


def _latlon_by_id(df: pd.DataFrame) -> dict[Any, tuple[float, float]]:
    return {rec["id"]: (float(rec["lat"]), float(rec["lon"])) for rec in df.to_dict("records")}


def _isochrone_colour(index: int) -> str:
    return ISOCHRONE_COLOURS[min(index, len(ISOCHRONE_COLOURS) - 1)]


# --------------------------------------------------------------------------------------
# layers
# --------------------------------------------------------------------------------------
def _check_sites(sites: pd.DataFrame) -> pd.DataFrame:
    source = "sites"
    check_columns(sites, ["id", "name", "lon", "lat"], source=source)
    check_unique(sites, "id", source=source)
    out = check_lonlat(sites, source=source, id_column="id")
    if "decision" not in out.columns:
        out["decision"] = "static"
    bad = ~out["decision"].isin(list(SITE_STYLES))
    if bad.any():
        msg = (
            f"sites: unknown decision {sorted(set(map(str, out.loc[bad, 'decision'])))} "
            f"for site(s) {list(out.loc[bad, 'id'])[:10]}; use one of {list(SITE_STYLES)}."
        )
        raise ValidationError(msg)
    return out


_SITES_TEMPLATE = """
{% macro script(this, kwargs) %}
(function () {
  var d = {{ this.payload }};
  var group = {{ this._parent.get_name() }};
  var icon = d.icon === null ? null : L.divIcon({html: d.icon, iconSize: [d.size, d.size],
    iconAnchor: [d.size / 2, d.size / 2], className: "netplan-site"});
  for (var i = 0; i < d.rows.length; i++) {
    var r = d.rows[i];
    var layer = icon === null ? L.circleMarker([r[0], r[1]], d.style)
                              : L.marker([r[0], r[1]], {icon: icon});
    layer.bindTooltip(r[2]).bindPopup(r[3], {maxWidth: 360}).addTo(group);
  }
})();
{% endmacro %}
"""


def _js_json(value: Any) -> str:
    """JSON for inlining in a <script> (only ``</`` needs escaping)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/")


def _site_popup(rec: dict[str, Any], decision: str, columns: list[str]) -> str:
    figures = [("Site id", _fmt(rec["id"])), ("Decision", SITE_STYLES[decision][0])]
    for col in columns:
        value = rec[col]
        if col == "utilisation" and isinstance(value, (int, float)) and not pd.isna(value):
            shown = f"{100 * value:.0f} %"
        else:
            shown = _fmt(value)
        figures.append((SITE_FIGURES.get(col, col), shown))
    return _popup_table(str(rec["name"]), figures)


def _add_sites(m: folium.Map, sites: pd.DataFrame) -> None:
    folium = _folium()
    extra = [
        c for c in sites.columns if c not in {"id", "name", "lon", "lat", "decision", "geometry"}
    ]
    ordered = [c for c in SITE_FIGURES if c in extra] + [c for c in extra if c not in SITE_FIGURES]
    legend_items = []
    for decision in ("closed", "static", "both", "mobile"):  # unused drawn first, underneath
        part = sites[sites["decision"] == decision]
        label, colour, shape = SITE_STYLES[decision]
        if decision == "closed":
            legend_items.append((_svg_symbol("circle", colour, 12, hollow=True), label))
        else:
            legend_items.append((_svg_symbol(shape, colour, 14), label))
        if part.empty:
            continue
        rows = [
            [
                round(float(rec["lat"]), 5),
                round(float(rec["lon"]), 5),
                f"{rec['name']} ({label.lower()})",
                _site_popup(rec, decision, ordered),
            ]
            for rec in part.to_dict("records")
        ]
        payload = {
            "icon": None if decision == "closed" else _svg_symbol(shape, colour, 16),
            "size": 16,
            "rows": rows,
            "style": {
                "radius": 3,
                "color": colour,
                "weight": 1.5,
                "fillColor": "#ffffff",
                "fillOpacity": 0.8,
            },
        }
        group = folium.FeatureGroup(name=f"{label}s ({len(part):,})", show=True)
        group.add_child(_macro(_SITES_TEMPLATE, payload=_js_json(payload)))
        group.add_to(m)
    _legend_add(m, "Sites", legend_items)


def _add_isochrones(
    m: folium.Map, isochrones: gpd.GeoDataFrame, *, tolerance_m: float = 250.0
) -> None:
    folium = _folium()
    check_columns(isochrones, ["site_id", "minutes", "geometry"], source="isochrones")
    minutes_values = sorted(pd.to_numeric(isochrones["minutes"]).unique())
    items = []
    # largest threshold first so smaller (darker) ones are drawn on top
    for rank, minutes in enumerate(sorted(minutes_values, reverse=True)):
        colour = _isochrone_colour(len(minutes_values) - 1 - rank)
        part = isochrones[pd.to_numeric(isochrones["minutes"]) == minutes]
        dissolved = part.dissolve()[["geometry"]]
        dissolved["minutes"] = float(minutes)
        dissolved["sites"] = int(part["site_id"].nunique())
        data = _simplified_geojson(dissolved, ["minutes", "sites"], tolerance_m=tolerance_m)
        name = f"Drive time ≤ {minutes:g} min"
        group = folium.FeatureGroup(name=name, show=True)
        style = {"color": colour, "weight": 1, "fillColor": colour, "fillOpacity": 0.18}
        geo = folium.GeoJson(data, name=name, style_function=lambda _f, s=style: s, control=False)
        _bind(geo, tooltip=f"Within {minutes:g} min of {int(part['site_id'].nunique())} site(s)")
        geo.add_to(group)
        group.add_to(m)
        items.append((_swatch(colour, round_=False, border=colour), name))
    _legend_add(m, "Isochrones", sorted(items, key=lambda it: float(it[1].split()[-2])))


def _add_lots(m: folium.Map, lots: gpd.GeoDataFrame, *, tolerance_m: float = 500.0) -> None:
    folium = _folium()
    check_columns(lots, ["lot", "geometry"], source="lots")
    dissolved = lots[["lot", "geometry"]].dissolve(by="lot", as_index=False)
    dissolved["lot"] = dissolved["lot"].astype(str)
    data = _simplified_geojson(dissolved, ["lot"], tolerance_m=tolerance_m)
    colours = {lot: LOT_COLOURS[i % len(LOT_COLOURS)] for i, lot in enumerate(dissolved["lot"])}
    group = folium.FeatureGroup(name=f"Lot boundaries ({len(dissolved)})", show=True)

    def style(feature: dict[str, Any]) -> dict[str, Any]:
        colour = colours[feature["properties"]["lot"]]
        return {"color": colour, "weight": 2.5, "dashArray": "6 4", "fillOpacity": 0.0}

    folium.GeoJson(
        data,
        name="lots",
        style_function=style,
        control=False,
        tooltip=folium.GeoJsonTooltip(fields=["lot"], aliases=["Lot"]),
    ).add_to(group)
    group.add_to(m)
    _legend_add(
        m, "Lots", [(_line_symbol(c, dashed=True), f"Lot {lot}") for lot, c in colours.items()]
    )


_ZONES_TEMPLATE = """
{% macro script(this, kwargs) %}
(function () {
  var d = {{ this.payload }};
  var group = {{ this._parent.get_name() }};
  var map = {{ this.map_name }};
  var renderer = L.canvas({padding: 0.5});
  function colour(min) {
    if (min === null) { return "#7f7f7f"; }
    for (var k = 0; k < d.bins.length; k++) { if (min <= d.bins[k]) { return d.colours[k]; } }
    return d.colours[d.colours.length - 1];
  }
  for (var i = 0; i < d.rows.length; i++) {
    var r = d.rows[i];
    var style = d.uncovered
      ? {radius: 3.5, color: d.highlight, weight: 1, fillColor: colour(r[2]), fillOpacity: 0.9}
      : {radius: 2.5, stroke: false, fillColor: colour(r[2]), fillOpacity: 0.75};
    style.renderer = renderer;
    style.zoneIndex = i;
    L.circleMarker([r[1], r[0]], style).addTo(group);
  }
  group.on("click", function (e) {
    var r = d.rows[e.layer.options.zoneIndex];
    var site = r[4] === null ? "none" : d.sites[r[4]];
    var text = "<b>Zone " + d.ids[e.layer.options.zoneIndex] + "</b><br>" +
      (r[2] === null ? "no drive time" : r[2] + " min") + " to site " + site +
      (r[3] ? "" : "<br><b>not covered</b>") +
      (r.length > 5 ? "<br>population " + r[5].toLocaleString() : "");
    L.popup().setLatLng(e.latlng).setContent(text).openOn(map);
  });
  map.getContainer().setAttribute("data-netplan-{{ this.kind }}", d.rows.length);
})();
{% endmacro %}
"""


def _zone_payload(zones: pd.DataFrame, *, uncovered: bool) -> str:
    """Compact JSON for zones: rows [lon, lat, minutes, covered, site index(, population)]."""
    site_codes, site_index = np.unique(
        zones["assigned_site"].astype("string").fillna(""), return_inverse=True
    )
    minutes = pd.to_numeric(zones["minutes"], errors="coerce").to_numpy(float)
    has_pop = "population" in zones.columns
    pop = (
        pd.to_numeric(zones["population"], errors="coerce").fillna(0).to_numpy()
        if has_pop
        else None
    )
    lon = np.round(zones["lon"].to_numpy(float), 4)
    lat = np.round(zones["lat"].to_numpy(float), 4)
    covered = zones["covered"].fillna(False).astype(bool).to_numpy()
    assigned = zones["assigned_site"].notna().to_numpy()
    rows = []
    for i in range(len(zones)):
        row: list[Any] = [
            float(lon[i]),
            float(lat[i]),
            None if np.isnan(minutes[i]) else round(float(minutes[i])),
            int(covered[i]),
            int(site_index[i]) if assigned[i] else None,
        ]
        if pop is not None:
            row.append(int(pop[i]))
        rows.append(row)
    payload = {
        "bins": list(ZONE_BINS_MINUTES),
        "colours": list(ZONE_COLOURS),
        "highlight": UNCOVERED_COLOUR,
        "uncovered": uncovered,
        "sites": [str(s) for s in site_codes],
        "ids": zones["id"].astype(str).tolist(),
        "rows": rows,
    }
    return _js_json(payload)


def _add_zones(m: folium.Map, zones: pd.DataFrame) -> None:
    folium = _folium()
    source = "zones"
    check_columns(zones, ["id", "lon", "lat", "minutes", "covered", "assigned_site"], source=source)
    zones = check_lonlat(zones, source=source, id_column="id")
    minutes = pd.to_numeric(zones["minutes"], errors="coerce")
    uncovered_mask = ~zones["covered"].fillna(False).astype(bool) | minutes.isna()
    layers = [
        ("zones", "Zones: drive minutes to assigned site", zones[~uncovered_mask], False),
        ("uncovered", "Uncovered zones", zones[uncovered_mask], True),
    ]
    for kind, label, part, is_uncovered in layers:
        group = folium.FeatureGroup(name=f"{label} ({len(part):,})", show=True)
        group.add_child(
            _macro(
                _ZONES_TEMPLATE,
                payload=_zone_payload(part, uncovered=is_uncovered),
                map_name=m.get_name(),
                kind=kind,
            )
        )
        group.add_to(m)
    edges = [0, *ZONE_BINS_MINUTES]
    items = [
        (_swatch(ZONE_COLOURS[k]), f"{edges[k]:g}–{edges[k + 1]:g} min")
        for k in range(len(ZONE_BINS_MINUTES))
    ]
    items.append((_swatch(ZONE_COLOURS[-1]), f"> {ZONE_BINS_MINUTES[-1]:g} min"))
    items.append((_swatch("#ffffff", border=UNCOVERED_COLOUR), "Uncovered zone (outlined)"))
    _legend_add(m, "Zones (drive minutes)", items)


def _add_cyclotrons(
    m: folium.Map,
    cyclotrons: pd.DataFrame,
    sites: pd.DataFrame | None,
    supply_links: pd.DataFrame | None,
) -> None:
    folium = _folium()
    check_columns(cyclotrons, ["id", "name", "lon", "lat"], source="cyclotrons")
    check_unique(cyclotrons, "id", source="cyclotrons")
    cyclotrons = check_lonlat(cyclotrons, source="cyclotrons", id_column="id")
    group = folium.FeatureGroup(name=f"Cyclotrons and tracer supply ({len(cyclotrons)})", show=True)
    items = [(_svg_symbol("star", CYCLOTRON_COLOUR, 16), "Cyclotron (18F tracer)")]
    if supply_links is not None and len(supply_links):
        check_columns(supply_links, ["site_id", "cyclotron_id", "role"], source="supply_links")
        site_xy = {} if sites is None else _latlon_by_id(sites)
        cyc_xy = _latlon_by_id(cyclotrons)
        missing = sorted(
            {str(s) for s in supply_links["site_id"] if s not in site_xy}
            | {str(c) for c in supply_links["cyclotron_id"] if c not in cyc_xy}
        )
        if missing:
            msg = (
                f"supply_links: id(s) {missing[:10]} are not in sites/cyclotrons; pass the "
                "sites and cyclotrons tables that the links refer to."
            )
            raise ValidationError(msg)
        for rec in supply_links.to_dict("records"):
            role = str(rec["role"])
            if role not in {"primary", "backup"}:
                msg = f"supply_links: role {role!r} for site {rec['site_id']}; use primary/backup."
                raise ValidationError(msg)
            line = folium.PolyLine(
                [site_xy[rec["site_id"]], cyc_xy[rec["cyclotron_id"]]],
                color=CYCLOTRON_COLOUR,
                weight=2 if role == "primary" else 1.5,
                opacity=0.8 if role == "primary" else 0.6,
                dash_array=None if role == "primary" else "6 4",
            )
            minutes = rec.get("minutes")
            when = "" if minutes is None or pd.isna(minutes) else f", {float(minutes):.0f} min"
            _bind(line, tooltip=f"{role}: {rec['cyclotron_id']} → {rec['site_id']}{when}")
            line.add_to(group)
        items += [
            (_line_symbol(CYCLOTRON_COLOUR), "Primary tracer supply"),
            (_line_symbol(CYCLOTRON_COLOUR, dashed=True), "Back-up tracer supply"),
        ]
    for rec in cyclotrons.to_dict("records"):
        marker = folium.Marker(
            location=[rec["lat"], rec["lon"]],
            icon=folium.DivIcon(
                html=_svg_symbol("star", CYCLOTRON_COLOUR, 20),
                icon_size=(20, 20),
                icon_anchor=(10, 10),
                class_name="netplan-cyclotron",
            ),
        )
        served = (
            []
            if supply_links is None
            else supply_links.loc[supply_links["cyclotron_id"] == rec["id"], "site_id"]
            .astype(str)
            .tolist()
        )
        _bind(
            marker,
            tooltip=f"Cyclotron {rec['name']}",
            popup=_popup_table(
                f"Cyclotron {rec['name']}",
                [("Id", _fmt(rec["id"])), ("Sites served", f"{len(served)}")],
            ),
        )
        marker.add_to(group)
    group.add_to(m)
    _legend_add(m, "Tracer supply", items)


# --------------------------------------------------------------------------------------
# public maps
# --------------------------------------------------------------------------------------
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
        ``id, lon, lat, minutes, covered, assigned_site`` (optional ``population``).
    isochrones
        GeoDataFrame ``site_id, minutes, geometry``; one toggleable layer per minutes value.
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

    Returns
    -------
    folium.Map
        The map, with a layer control, legend and attributions.

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
    _add_zones(m, zones)
    if cyclotrons is not None:
        _add_cyclotrons(m, cyclotrons, sites, supply_links)
    _add_sites(m, sites)
    logger.info(
        "scenario map: %d sites (%d opened), %d zones",
        len(sites),
        int((sites["decision"] != "closed").sum()),
        len(zones),
    )
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
