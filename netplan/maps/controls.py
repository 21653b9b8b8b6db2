"""The map's page controls: plain offline background, search box, link to the report.

- :func:`_add_plain_background` adds a base layer "Plain background (offline)" (England's
  land drawn from the lot polygons on a pale sea); when the OpenStreetMap tiles cannot be
  fetched (offline) the page switches to it by itself, so the map never sits on grey.
- :func:`_add_search` adds a search box for sites and zones (plain JavaScript, no library):
  layers register entries in ``window.netplanSearch`` as ``{label, lat, lon, open}`` and
  choosing one zooms there and opens its popup.
- :func:`_add_report_link` adds a box linking back to the report of the run.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .elements import _folium, _macro, _raw_element_class

if TYPE_CHECKING:
    import folium

PLAIN_NAME = "Plain background (offline)"
SEA_COLOUR = "#dde7ee"
LAND_COLOUR = "#fbfaf6"

_CSS = f"""<style>
.leaflet-container {{ background: {SEA_COLOUR}; }}
.netplan-search {{ position: fixed; top: 10px; left: 54px; z-index: 1001; width: 250px;
  font: 13px sans-serif; }}
.netplan-search input {{ width: 100%; box-sizing: border-box; padding: 5px 8px;
  border: 1px solid #888; border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,.3); }}
.netplan-search ul {{ list-style: none; margin: 2px 0 0; padding: 0; background: #fff;
  border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,.3); max-height: 260px;
  overflow-y: auto; }}
.netplan-search li {{ padding: 4px 8px; cursor: pointer; border-bottom: 1px solid #eee; }}
.netplan-search li:hover, .netplan-search li.active {{ background: #e8f1f8; }}
.netplan-report-link {{ position: fixed; bottom: 30px; right: 10px; z-index: 1000;
  background: #fff; padding: 4px 10px; border-radius: 4px; font: bold 13px sans-serif;
  box-shadow: 0 1px 4px rgba(0,0,0,.3); }}
</style>"""

_FALLBACK_TEMPLATE = """
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  var tiles = {{ this.tiles }};
  var plain = {{ this.plain }};
  var loaded = false;
  tiles.on("tileload", function () { loaded = true; });
  tiles.once("tileerror", function () {
    if (!loaded && map.hasLayer(tiles)) { map.removeLayer(tiles); map.addLayer(plain); }
  });
})();
{% endmacro %}
"""

_SEARCH_TEMPLATE = """
{% macro html(this, kwargs) %}
<div class="netplan-search"><input type="search" id="netplan-search"
  placeholder="Search sites and zones" aria-label="Search sites and zones"
  autocomplete="off"><ul id="netplan-search-results"></ul></div>
{% endmacro %}
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  var box = document.getElementById("netplan-search");
  var list = document.getElementById("netplan-search-results");
  var shown = [];
  L.DomEvent.disableClickPropagation(box.parentNode);
  L.DomEvent.disableScrollPropagation(box.parentNode);
  function choose(entry) {
    list.innerHTML = "";
    shown = [];
    box.value = entry.label;
    map.setView([entry.lat, entry.lon], Math.max(map.getZoom(), 11));
    entry.open();
  }
  function update() {
    var q = box.value.trim().toLowerCase();
    var all = window.netplanSearch || [];
    list.innerHTML = "";
    shown = [];
    if (q.length < 2) { return; }
    for (var i = 0; i < all.length && shown.length < {{ this.limit }}; i++) {
      if (all[i].key.indexOf(q) >= 0) { shown.push(all[i]); }
    }
    shown.forEach(function (entry, k) {
      var li = document.createElement("li");
      li.textContent = entry.label;
      if (k === 0) { li.className = "active"; }
      li.addEventListener("click", function () { choose(entry); });
      list.appendChild(li);
    });
  }
  box.addEventListener("input", update);
  box.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && shown.length) { e.preventDefault(); choose(shown[0]); }
    if (e.key === "Escape") { list.innerHTML = ""; shown = []; }
  });
})();
{% endmacro %}
"""

_LINK_TEMPLATE = """
{% macro html(this, kwargs) %}
<a class="netplan-report-link" id="netplan-report-link" href="{{ this.href|e }}">&larr; {{
  this.text|e }}</a>
{% endmacro %}
"""


def _add_plain_background(m: folium.Map, *, tiles: Any | None) -> Any:
    """Add the plain base layer (shown when ``tiles`` is None or cannot be fetched)."""
    folium = _folium()
    plain = folium.FeatureGroup(name=PLAIN_NAME, overlay=False, show=tiles is None)
    m.add_child(plain, name="netplan_plain")
    m.get_root().header.add_child(_raw_element_class()(_CSS), name="netplan_controls_css")
    if tiles is not None:
        m.add_child(
            _macro(_FALLBACK_TEMPLATE, tiles=tiles.get_name(), plain=plain.get_name()),
            name="netplan_tile_fallback",
        )
    return plain


_LAND_TEMPLATE = """
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this.map_name }};
  // a pane under the overlays (400) and over the tiles (200): the land never hides a layer
  if (!map.getPane("netplanLand")) { map.createPane("netplanLand").style.zIndex = 250; }
  L.geoJSON({{ this.data }}, {pane: "netplanLand", interactive: false,
    style: {{ this.style }}}).addTo({{ this._parent.get_name() }});
})();
{% endmacro %}
"""


def _add_land(m: folium.Map, land_geojson: dict[str, Any]) -> None:
    """Draw ``land_geojson`` (WGS84) as the land of the plain background, if the map has one."""
    plain = m._children.get("netplan_plain")
    if plain is None or "netplan_land" in plain._children:
        return
    style = {"color": "#b8b4a8", "weight": 0.8, "fillColor": LAND_COLOUR, "fillOpacity": 1.0}
    element = _macro(
        _LAND_TEMPLATE,
        data=json.dumps(land_geojson, separators=(",", ":")),
        style=json.dumps(style),
        map_name=m.get_name(),
    )
    plain.add_child(element, name="netplan_land")


def _add_search(m: folium.Map, *, limit: int = 8) -> None:
    """Add (once) the search box over the entries the layers register."""
    if "netplan_search" not in m._children:
        m.add_child(_macro(_SEARCH_TEMPLATE, limit=int(limit)), name="netplan_search")


def _add_report_link(m: folium.Map, href: str, *, text: str = "Back to the report") -> None:
    """Add a box linking to ``href`` (e.g. ``report.html`` beside the map)."""
    m.add_child(_macro(_LINK_TEMPLATE, href=href, text=text), name="netplan_report_link")
