"""Offline pages: Leaflet's JavaScript and CSS inlined from the assets folder, CDN fallback.

:func:`leaflet_assets` reads ``settings.assets_folder / "leaflet" / "dist"`` (images inlined
as data URIs, cached per folder and mtime) and warns once per process when it is missing;
:func:`_make_offline` swaps folium's CDN scripts and styles for them.
"""

from __future__ import annotations

import base64
import re
import warnings
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .. import settings
from .elements import _raw_element_class

if TYPE_CHECKING:
    import folium

LEAFLET_CDN_VERSION = "1.9.4"

_warned_missing_assets = False


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
