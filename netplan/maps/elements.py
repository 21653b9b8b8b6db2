"""The small pieces every map layer is drawn with: styles, Leaflet macros, popups, legend.

Colours and symbols of sites, zones, isochrones, cyclotrons and lots; the folium import;
branca elements that render plain Leaflet script (no jQuery); SVG symbols, popup tables and
the legend box. A new style or legend symbol goes here.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from .palette import (
    BOTH_COLOUR,
    CYCLOTRON_COLOUR,
    ISOCHRONE_COLOURS,
    LOT_LINE_COLOUR,
    MOBILE_COLOUR,
    STATIC_COLOUR,
    UNCOVERED_COLOUR,
    UNUSED_COLOUR,
    ZONE_BINS_MINUTES,
    ZONE_COLOURS,
)

if TYPE_CHECKING:
    import folium

__all__ = [
    "CYCLOTRON_COLOUR",
    "ISOCHRONE_COLOURS",
    "LOT_COLOURS",
    "SITE_FIGURES",
    "SITE_STYLES",
    "UNCOVERED_COLOUR",
    "ZONE_BINS_MINUTES",
    "ZONE_COLOURS",
]

#: Site decisions and how they are drawn: (legend label, colour, SVG shape).
SITE_STYLES: dict[str, tuple[str, str, str]] = {
    "static": ("Static scanner site", STATIC_COLOUR, "square"),
    "mobile": ("Mobile scanner site", MOBILE_COLOUR, "triangle"),
    "both": ("Static + mobile site", BOTH_COLOUR, "diamond"),
    "closed": ("Unused candidate", UNUSED_COLOUR, "circle"),
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
#: Lot boundaries share one line colour (the lot is named in the tooltip and legend).
LOT_COLOURS: tuple[str, ...] = (LOT_LINE_COLOUR,)


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


_LEGEND_TEMPLATE = """
{% macro html(this, kwargs) %}
<details class="netplan-legend" open style="position:fixed;bottom:40px;left:10px;z-index:1000;
  background:rgba(255,255,255,0.95);padding:4px 10px;border-radius:4px;max-width:250px;
  max-height:calc(100vh - 120px);overflow-y:auto;
  font:12px sans-serif;box-shadow:0 1px 4px rgba(0,0,0,0.3);line-height:18px">
<summary style="font-weight:bold;cursor:pointer">Legend</summary>
{% for heading, items in this.sections if items %}
  <div style="font-weight:bold;margin-top:3px">{{ heading|e }}</div>
  {% for symbol, label in items %}
  <div><span style="display:inline-block;width:18px;vertical-align:middle">{{ symbol }}</span>
    {{ label|e }}</div>
  {% endfor %}
{% endfor %}
</details>
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
