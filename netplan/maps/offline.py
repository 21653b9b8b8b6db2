"""Offline pages: Leaflet's JavaScript and CSS inlined from the assets folder, CDN fallback.

:func:`leaflet_assets` reads ``leaflet/dist`` under ``settings.assets_folder`` (set up by
``make env``) or, for an installed netplan, under ``settings.cache_folder / "assets"``
(images inlined as data URIs, cached per folder and mtime) and warns once per process when
neither has it; :func:`fetch_leaflet` (``netplan data assets``) downloads the npm registry's
package and checks its sha512; :func:`_make_offline` swaps folium's CDN scripts and styles
for the inlined copies.
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
#: The npm registry's tarball of that version and its integrity (``npm view leaflet dist``).
LEAFLET_URL = f"https://registry.npmjs.org/leaflet/-/leaflet-{LEAFLET_CDN_VERSION}.tgz"
LEAFLET_SHA512 = (
    "nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA=="
)
_DIST_FILES = ("leaflet.js", "leaflet.css")

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
    for folder in asset_folders():
        dist = folder / "leaflet" / "dist"
        js, css = dist / "leaflet.js", dist / "leaflet.css"
        if js.is_file() and css.is_file():
            return _read_leaflet(str(dist), js.stat().st_mtime_ns)
    if not _warned_missing_assets:
        _warned_missing_assets = True
        msg = (
            f"Leaflet not found in {' or '.join(str(f) for f in asset_folders())}: maps will "
            f"load Leaflet {LEAFLET_CDN_VERSION} from its CDN and stay blank offline. Run "
            "`netplan data assets` (it downloads leaflet from the npm registry) or set "
            "NETPLAN_ASSETS to a folder holding leaflet/dist/leaflet.js."
        )
        warnings.warn(msg, UserWarning, stacklevel=3)
    return None


def asset_folders() -> list[Path]:
    """Where Leaflet is looked for: ``settings.assets_folder``, then the cache's ``assets``."""
    return list(
        dict.fromkeys([Path(settings.assets_folder), Path(settings.cache_folder) / "assets"])
    )


def fetch_leaflet(
    dest: str | Path | None = None, *, url: str | None = None, sha512: str = LEAFLET_SHA512
) -> Path:
    """Download Leaflet from the npm registry into ``dest/leaflet`` (sha512 checked).

    Parameters
    ----------
    dest
        The assets folder; default ``settings.assets_folder`` when it can be written, else
        ``settings.cache_folder / "assets"`` (both are searched by :func:`leaflet_assets`).
    url
        Another address (or ``file://`` path) of the same tarball.
    sha512
        The tarball's expected sha512 (base64, as npm's ``integrity``).

    Returns
    -------
    pathlib.Path
        The folder holding ``leaflet/dist``.

    Raises
    ------
    DataError
        When the download fails or the file is not the expected tarball.
    """
    import base64
    import hashlib
    import io
    import shutil
    import tarfile
    import tempfile
    import urllib.request

    from .._errors import DataError
    from .._io import check_writable_folder, normal_permissions

    candidates = asset_folders() if dest is None else [Path(dest)]
    folder = None
    error: Exception | None = None
    for candidate in candidates:
        try:
            folder = check_writable_folder(candidate, what="assets folder")
            break
        except OSError as exc:
            error = exc
    if folder is None:
        msg = f"no writable assets folder ({error}); pass --dest DIR"
        raise DataError(msg)
    address = url or LEAFLET_URL
    try:
        with urllib.request.urlopen(address, timeout=60) as resp:
            payload = resp.read()
    except (OSError, ValueError) as exc:
        msg = (
            f"could not download Leaflet from {address} ({exc}); check the connection to the "
            "npm registry, or unpack leaflet/dist into NETPLAN_ASSETS yourself"
        )
        raise DataError(msg) from exc
    digest = base64.b64encode(hashlib.sha512(payload).digest()).decode("ascii")
    if digest != sha512:
        msg = f"{address} is not leaflet {LEAFLET_CDN_VERSION} (sha512 differs); nothing written"
        raise DataError(msg)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".leaflet.tmp-", dir=folder))
    try:
        with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as tar:
            for member in tar.getmembers():
                name = member.name.split("/", 1)[-1]
                if not (member.isfile() and name.startswith("dist/")) or ".." in name:
                    continue
                out = tmp / name
                out.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                if source is not None:
                    out.write_bytes(source.read())
        if not all((tmp / "dist" / f).is_file() for f in _DIST_FILES):
            msg = f"{address} holds no dist/leaflet.js; nothing written"
            raise DataError(msg)
        final = folder / "leaflet"
        if final.exists():
            shutil.rmtree(final)
        for path in [tmp, *tmp.rglob("*")]:
            normal_permissions(path, folder=path.is_dir())
        tmp.rename(final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _read_leaflet.cache_clear()
    return folder


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
