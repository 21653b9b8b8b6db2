"""The map layers: sites, zones, isochrones, contract lots and cyclotrons with supply links.

Each ``_add_*`` checks its table (columns, ids, coordinates), adds one or more toggleable
feature groups to a map and its section of the legend. A new layer goes here (and is called
from :func:`netplan.maps.scenario_map`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import settings
from .._errors import ValidationError
from .._validate import check_columns, check_lonlat, check_unique
from .controls import _add_land
from .elements import (
    CYCLOTRON_COLOUR,
    ISOCHRONE_COLOURS,
    SITE_FIGURES,
    SITE_STYLES,
    UNCOVERED_COLOUR,
    ZONE_BINS_MINUTES,
    ZONE_COLOURS,
    _bind,
    _fmt,
    _folium,
    _legend_add,
    _line_symbol,
    _macro,
    _popup_table,
    _svg_symbol,
    _swatch,
)
from .lots import clean_lots, land
from .palette import LOT_LINE_COLOUR

if TYPE_CHECKING:
    import folium
    import geopandas as gpd


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
  var map = {{ this.map_name }};
  var search = window.netplanSearch = window.netplanSearch || [];
  var icon = d.icon === null ? null : L.divIcon({html: d.icon, iconSize: [d.size, d.size],
    iconAnchor: [d.size / 2, d.size / 2], className: "netplan-site"});
  for (var i = 0; i < d.rows.length; i++) {
    var r = d.rows[i];
    var layer = icon === null ? L.circleMarker([r[0], r[1]], d.style)
                              : L.marker([r[0], r[1]], {icon: icon});
    layer.bindTooltip(r[2]).bindPopup(r[3], {maxWidth: 360}).addTo(group);
    search.push({label: r[4], key: r[4].toLowerCase(), lat: r[0], lon: r[1],
      open: (function (l) { return function () {
        if (!map.hasLayer(group)) { map.addLayer(group); }
        l.openPopup();
      }; })(layer)});
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
        if part.empty:  # the legend lists only classes the map has
            continue
        if decision == "closed":
            legend_items.append((_svg_symbol("circle", colour, 12, hollow=True), label))
        else:
            legend_items.append((_svg_symbol(shape, colour, 14), label))
        rows = [
            [
                round(float(rec["lat"]), 5),
                round(float(rec["lon"]), 5),
                f"{rec['name']} ({label.lower()})",
                _site_popup(rec, decision, ordered),
                f"{rec['name']} ({rec['id']}), {label.lower()}",
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
        # unused candidates are off by default: the decisions are what a reader looks for
        group = folium.FeatureGroup(name=f"{label}s ({len(part):,})", show=decision != "closed")
        group.add_child(_macro(_SITES_TEMPLATE, payload=_js_json(payload), map_name=m.get_name()))
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
        group = folium.FeatureGroup(name=name, show=False)  # off by default: they overlap
        style = {"color": colour, "weight": 1, "fillColor": colour, "fillOpacity": 0.3}
        geo = folium.GeoJson(data, name=name, style_function=lambda _f, s=style: s, control=False)
        _bind(geo, tooltip=f"Within {minutes:g} min of {int(part['site_id'].nunique())} site(s)")
        geo.add_to(group)
        group.add_to(m)
        items.append((_swatch(colour, round_=False, border=colour), name))
    _legend_add(m, "Isochrones", sorted(items, key=lambda it: float(it[1].split()[-2])))


def _add_lots(m: folium.Map, lots: gpd.GeoDataFrame, *, tolerance_m: float = 500.0) -> None:
    folium = _folium()
    check_columns(lots, ["lot", "geometry"], source="lots")
    dissolved = clean_lots(lots)
    data = _simplified_geojson(dissolved, ["lot"], tolerance_m=tolerance_m)
    group = folium.FeatureGroup(name=f"Lot boundaries ({len(dissolved)})", show=True)
    style = {"color": LOT_LINE_COLOUR, "weight": 2.5, "dashArray": "6 4", "fillOpacity": 0.0}
    folium.GeoJson(
        data,
        name="lots",
        style_function=lambda _f: style,
        control=False,
        tooltip=folium.GeoJsonTooltip(fields=["lot"], aliases=["Contract lot"]),
    ).add_to(group)
    group.add_to(m)
    _add_land(m, _simplified_geojson(land(dissolved), [], tolerance_m=1000.0))
    _legend_add(
        m,
        "Contract lots",
        [(_line_symbol(LOT_LINE_COLOUR, dashed=True), f"Lot boundary ({len(dissolved)} lots)")],
    )


_ZONES_TEMPLATE = """
{% macro script(this, kwargs) %}
(function () {
  var d = {{ this.payload }};
  var group = {{ this._parent.get_name() }};
  var map = {{ this.map_name }};
  var search = window.netplanSearch = window.netplanSearch || [];
  var renderer = L.canvas({padding: 0.5});
  function colour(min) {
    if (min === null) { return "#7f7f7f"; }
    for (var k = 0; k < d.bins.length; k++) { if (min <= d.bins[k]) { return d.colours[k]; } }
    return d.colours[d.colours.length - 1];
  }
  function esc(t) {
    return String(t).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }
  function content(i) {
    var r = d.rows[i];
    var name = d.names ? d.names[i] : "";
    var site = r[4] === null ? null : d.sites[r[4]];
    var text = "<b>" + esc(name || "Zone " + d.ids[i]) + "</b>" +
      (name ? " <span class='netplan-id'>(" + esc(d.ids[i]) + ")</span>" : "") + "<br>";
    if (site !== null) {
      text += (r[2] === null ? "no drive time" : r[2] + " min drive") + " to " +
        esc(site[1] ? site[1] + " (" + site[0] + ")" : site[0]);
    } else {
      text += r[2] === null ? "no open site within reach"
                            : r[2] + " min drive to the nearest open site";
    }
    if (!r[3]) {
      text += "<br><b>Not served within the standard</b>" +
        (d.reasons && d.reasons[i] ? ": " + esc(d.reasons[i]) : "");
    }
    if (r.length > 5) { text += "<br>Population " + r[5].toLocaleString("en-GB"); }
    return text;
  }
  var layers = [];
  for (var i = 0; i < d.rows.length; i++) {
    var r = d.rows[i];
    var style = d.uncovered
      ? {radius: 4.5, color: "#222222", weight: 1, fillColor: d.highlight, fillOpacity: 1.0}
      : {radius: 2.5, stroke: false, fillColor: colour(r[2]), fillOpacity: 0.8};
    style.renderer = renderer;
    style.zoneIndex = i;
    layers.push(L.circleMarker([r[1], r[0]], style).addTo(group));
  }
  function open(i, latlng) {
    L.popup({maxWidth: 320}).setLatLng(latlng).setContent(content(i)).openOn(map);
  }
  group.on("click", function (e) { open(e.layer.options.zoneIndex, e.latlng); });
  for (var j = 0; j < d.rows.length; j++) {
    var label = (d.names && d.names[j] ? d.names[j] + " (" + d.ids[j] + ")" : d.ids[j]) +
      ", zone";
    search.push({label: label, key: label.toLowerCase(), lat: d.rows[j][1], lon: d.rows[j][0],
      open: (function (k) { return function () {
        if (!map.hasLayer(group)) { map.addLayer(group); }
        open(k, layers[k].getLatLng());
      }; })(j)});
  }
  map.getContainer().setAttribute("data-netplan-{{ this.kind }}", d.rows.length);
})();
{% endmacro %}
"""


def _zone_payload(
    zones: pd.DataFrame, *, uncovered: bool, site_names: dict[str, str] | None = None
) -> str:
    """Compact JSON for zones: rows [lon, lat, minutes, covered, site index(, population)],
    site [code, name] pairs, and the zone names and uncovered reasons when given."""
    site_names = site_names or {}
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
    payload: dict[str, Any] = {
        "bins": list(ZONE_BINS_MINUTES),
        "colours": list(ZONE_COLOURS),
        "highlight": UNCOVERED_COLOUR,
        "uncovered": uncovered,
        "sites": [[str(s), str(site_names.get(str(s), ""))] for s in site_codes],
        "ids": zones["id"].astype(str).tolist(),
        "rows": rows,
    }
    for col, key in (("name", "names"), ("uncovered_reason", "reasons")):
        if col in zones.columns:
            payload[key] = zones[col].astype("string").fillna("").astype(str).tolist()
    return _js_json(payload)


def _add_zones(
    m: folium.Map, zones: pd.DataFrame, *, site_names: dict[str, str] | None = None
) -> None:
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
                payload=_zone_payload(part, uncovered=is_uncovered, site_names=site_names),
                map_name=m.get_name(),
                kind=kind,
            )
        )
        group.add_to(m)
    # the legend lists only the bins some served zone falls in
    served = minutes[~uncovered_mask].to_numpy(float)
    edges = [0.0, *ZONE_BINS_MINUTES, np.inf]
    items = []
    for k in range(len(ZONE_COLOURS)):
        low, high = edges[k], edges[k + 1]
        if not ((served > low) & (served <= high)).any() and not (k == 0 and (served == 0).any()):
            continue
        text = f"> {low:g} min" if np.isinf(high) else f"{low:g}–{high:g} min"
        items.append((_swatch(ZONE_COLOURS[k]), text))
    if uncovered_mask.any():
        items.append((_swatch(UNCOVERED_COLOUR, border="#222"), "Not served within the standard"))
    _legend_add(m, "Zones: drive to assigned site", items)


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
    group = folium.FeatureGroup(name=f"Cyclotrons ({len(cyclotrons)})", show=True)
    links = None
    items = [(_svg_symbol("star", CYCLOTRON_COLOUR, 16), "Cyclotron (18F tracer)")]
    cyc_names = dict(zip(cyclotrons["id"], cyclotrons["name"].astype(str), strict=True))
    site_names = (
        {} if sites is None else dict(zip(sites["id"], sites["name"].astype(str), strict=True))
    )
    if supply_links is not None and len(supply_links):
        # straight supply lines criss-cross the country: off by default
        links = folium.FeatureGroup(name=f"Tracer supply links ({len(supply_links)})", show=False)
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
            cyc = cyc_names.get(rec["cyclotron_id"], rec["cyclotron_id"])
            site = site_names.get(rec["site_id"], rec["site_id"])
            _bind(line, tooltip=f"{role.capitalize()} tracer supply: {cyc} → {site}{when}")
            line.add_to(links)
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
    if links is not None:
        links.add_to(m)
    _legend_add(m, "Tracer supply", items)
