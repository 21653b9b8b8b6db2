"""Map layers of the mobile rota: one toggleable layer per unit (its week's sites in order).

:func:`add_rota_layers` draws, for every unit that works, its sites joined in visiting
order (Mon..Sat) in the unit's colour, with a popup per site listing the days, and re-adds
the layer control so the new layers are listed. Used by
:func:`netplan.report.result_map.build_map` after :func:`netplan.maps.scenario_map`.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import pandas as pd

from .._validate import check_columns
from .elements import _bind, _folium, _legend_add, _line_symbol, _popup_table

if TYPE_CHECKING:
    import folium

#: Colours of the units' layers, in turn (ColorBrewer Dark2 and Set1, colour-blind aware
#: first eight).
UNIT_COLOURS: tuple[str, ...] = (
    "#1b9e77",
    "#d95f02",
    "#7570b3",
    "#e7298a",
    "#66a61e",
    "#e6ab02",
    "#a6761d",
    "#666666",
    "#e41a1c",
    "#377eb8",
    "#4daf4a",
    "#984ea3",
)
_ORDER = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
#: Units drawn switched on; the rest are listed in the layer control, switched off.
SHOWN_UNITS = 12


def add_rota_layers(m: folium.Map, rota: pd.DataFrame, sites: pd.DataFrame) -> folium.Map:
    """Add a layer per working unit of ``rota`` to ``m``.

    Parameters
    ----------
    m
        A map (e.g. from :func:`netplan.maps.scenario_map`).
    rota
        ``unit_id, weekday, site_id, site_name, visit, relocation_minutes_from_previous``
        (``rota.csv``).
    sites
        ``id, lon, lat`` of the sites the rota names.

    Returns
    -------
    folium.Map
        ``m``, with the layers and a legend section.

    Raises
    ------
    ValidationError
        If a table lacks columns.
    """
    from .page import _finish

    folium = _folium()
    check_columns(rota, ["unit_id", "weekday", "site_id", "visit"], source="rota")
    check_columns(sites, ["id", "lon", "lat"], source="sites")
    xy = {str(r.id): (float(r.lat), float(r.lon)) for r in sites.itertuples()}
    work = rota[rota["visit"].astype(bool)].copy()
    work["day"] = work["weekday"].map(_ORDER.index)
    units = sorted(work["unit_id"].unique(), key=lambda u: int(str(u).rsplit("_", 1)[-1]))
    items: list[tuple[str, str]] = []
    for k, unit in enumerate(units):
        colour = UNIT_COLOURS[k % len(UNIT_COLOURS)]
        mine = work[work["unit_id"] == unit].sort_values("day")
        order = [
            s for i, s in enumerate(mine["site_id"]) if i == 0 or s != mine["site_id"].iloc[i - 1]
        ]
        order = [str(s) for s in order if str(s) in xy]
        days = mine.groupby("site_id", sort=False)["weekday"].apply(list)
        label = f"Rota {unit}: " + ", ".join(order)
        group = folium.FeatureGroup(name=html.escape(label[:80]), show=k < SHOWN_UNITS)
        if len(order) > 1:
            line = folium.PolyLine([xy[s] for s in order], color=colour, weight=3, opacity=0.85)
            _bind(line, tooltip=f"{unit}: " + " → ".join(order))
            line.add_to(group)
        for sid in dict.fromkeys(order):
            sub = mine[mine["site_id"].astype(str) == sid]
            name = str(sub["site_name"].iloc[0]) if "site_name" in sub else sid
            popup = _popup_table(
                f"{unit} at {name}",
                [
                    ("Site", html.escape(sid)),
                    ("Days", html.escape(", ".join(days.get(sid, [])))),
                    ("Days a week", str(len(sub))),
                ],
            )
            marker = folium.CircleMarker(
                location=xy[sid], radius=7, color=colour, weight=3, fill=False
            )
            _bind(marker, popup=popup, tooltip=f"{unit}: {name} ({', '.join(days.get(sid, []))})")
            marker.add_to(group)
        group.add_to(m)
        if k < 8:
            items.append((_line_symbol(colour), html.escape(f"{unit}")))
    if units:
        _legend_add(m, "Mobile rota (a layer per unit)", items)
    return _finish(m, None)
