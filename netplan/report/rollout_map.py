"""The roll-out map: one toggleable layer per year (``rollout_map.html``).

Each year's layer shows the sites in service that year: a blue circle sized by its static
scanners, an orange one for a site served by mobile days only, with a tooltip of the
scanners and days. The last year's layer is shown when the page opens; the layer control
(top right) switches years. The page is built on :func:`netplan.maps.base_map`, so it
inlines Leaflet (opens offline apart from the tiles) and carries the OpenStreetMap (ODbL)
and Open Government Licence v3 attributions.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..maps import base_map
from ..maps.elements import _bind, _folium
from ..maps.page import _bounds, _finish

_STATIC, _MOBILE = "#1f5fa8", "#e07b00"


def rollout_map(plan: pd.DataFrame, sites: pd.DataFrame, *, title: str | None = None) -> Any:
    """A folium map of the roll-out ``plan`` (``rollout.csv``), one layer per year.

    ``sites`` gives ``id, lon, lat`` (WGS84) of the sites in ``plan``.

    Returns
    -------
    folium.Map
    """
    folium = _folium()
    m = base_map(title=title)
    where = sites.drop_duplicates("id").set_index("id")[["lon", "lat"]]
    table = plan.join(where, on="site_id", how="inner")
    years = sorted(table["year"].unique())
    for year in years:
        part = table[
            (table["year"] == year)
            & ((table["static_scanners"] > 0) | (table["mobile_days_per_week"] > 0))
        ]
        n_static = int(part["static_scanners"].sum())
        group = folium.FeatureGroup(
            name=f"{year}/{(int(year) + 1) % 100:02d}: {len(part)} sites, {n_static} scanners",
            show=bool(year == years[-1]),
        )
        for rec in part.itertuples(index=False):
            static = int(rec.static_scanners)
            days = int(rec.mobile_days_per_week)
            colour = _STATIC if static else _MOBILE
            marker = folium.CircleMarker(
                location=[float(rec.lat), float(rec.lon)],
                radius=5 + 3 * static if static else 4 + days,
                color=colour,
                weight=1.5,
                fill=True,
                fill_color=colour,
                fill_opacity=0.6,
            )
            text = (
                f"{rec.site_name} ({rec.site_id}), {year}: {static} static scanner(s), "
                f"{days} mobile day(s) a week, {rec.demand_scans:,.0f} scans, "
                f"capital £{rec.capital_gbp:,.0f}"
            )
            _bind(marker, tooltip=text)
            group.add_child(marker)
        group.add_to(m)
    return _finish(m, _bounds(table))
