"""Environment settings: folders and solver limits, nothing about the analysis itself.

Analysis parameters (drive standard, costs, demand rates ...) belong in a
:class:`netplan.Scenario`; this module only says where things live on this machine.
Each setting is a module attribute that can be changed at run time
(``netplan.settings.cache_folder = Path("...")``) and has an environment variable:

cache_folder : Path
    Where fetched datasets, built graphs and travel-time tables are kept.
    ``NETPLAN_CACHE``; default ``$XDG_CACHE_HOME/netplan`` (``~/.cache/netplan``).
data_mirror : Path | None
    A local folder laid out like the publishers' files (the offline mirror). When set,
    ``netplan data fetch`` copies from it instead of downloading.
    ``NETPLAN_DATA_MIRROR``; default ``None`` (download from the publishers).
assets_folder : Path
    Where the JavaScript and CSS that maps embed (Leaflet, from the npm registry) were
    unpacked at set-up time, so maps open offline.
    ``NETPLAN_ASSETS``; default ``<sys.prefix>/share/netplan/assets``.
solver_time_limit_s : float
    Default wall-clock limit for one MIP solve. ``NETPLAN_SOLVER_TIME_LIMIT_S``; default 300.
projected_crs : str
    CRS for distance work (British National Grid). Default ``"EPSG:27700"``.
geographic_crs : str
    CRS for maps and CSV inputs (WGS84). Default ``"EPSG:4326"``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "netplan"


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


cache_folder: Path = _env_path("NETPLAN_CACHE") or _default_cache()
data_mirror: Path | None = _env_path("NETPLAN_DATA_MIRROR")
assets_folder: Path = (
    _env_path("NETPLAN_ASSETS") or Path(sys.prefix) / "share" / "netplan" / "assets"
)
solver_time_limit_s: float = float(os.environ.get("NETPLAN_SOLVER_TIME_LIMIT_S", "300"))
projected_crs: str = "EPSG:27700"
geographic_crs: str = "EPSG:4326"
