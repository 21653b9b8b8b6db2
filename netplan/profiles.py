"""Named, sourced speed profiles and the population-density surface they use.

A :class:`SpeedProfile` is everything that turns road geometry into minutes: speeds of the
class-less major-road network (motorway / other major road, each rural and urban), an urban
slow-down by settlement density, an access-leg model (detour, rural and urban speed, fixed
minutes at each end), full-detail OSM class speeds and ``maxspeed`` handling, and ferry
crossings to islands. Profiles are data (``netplan/profiles.yaml``, every value with its
source, or a file written by ``netplan calibrate``); each has a content hash that OD tables,
reports and ``scenario.resolved.yaml`` record. :class:`DensitySurface` gives the population
density (people per km²) around any point from the ONS LSOA centroids and mid-2018
populations; a road's or point's *urban share* rises from 0 to 1 with log density.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import settings
from ._errors import DataError, ValidationError
from .speeds import SpeedModel

logger = logging.getLogger(__name__)

PROFILES_FILE = Path(__file__).with_name("profiles.yaml")
#: The profile used when none is named: the planning standard (free flow).
DEFAULT_PROFILE = "free_flow"
#: Road groups of the major-road network whose speeds a profile sets.
MAJOR_GROUPS = ("motorway", "major")
_ACCESS_KEYS = {"detour_factor", "rural_kph", "urban_kph", "terminal_minutes"}
_PROFILE_KEYS = {"description", "checkin_minutes", "major_roads", "access", "osm"}


@functools.lru_cache(maxsize=1)
def _builtin() -> dict[str, Any]:
    import yaml

    with open(PROFILES_FILE, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def available_profiles() -> list[str]:
    """Names of the built-in profiles (``netplan/profiles.yaml``)."""
    return sorted(_builtin()["profiles"])


def _positive(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        msg = f"{where} must be a number, got {value!r}."
        raise ValidationError(msg)
    v = float(value)
    if not (math.isfinite(v) and v > 0):
        msg = f"{where} must be a positive finite number, got {value!r}."
        raise ValidationError(msg)
    return v


@dataclass(frozen=True, eq=False)
class SpeedProfile:
    """A named speed profile (see the module docstring and ``netplan/profiles.yaml``).

    Build one with :func:`load_profile`; ``content`` is the resolved profile (with the shared
    ``urban`` and ``ferries`` sections folded in), which is what :attr:`hash` covers.
    """

    name: str
    content: Mapping[str, Any]
    source: str = "built-in"

    def __post_init__(self) -> None:
        c = self.content
        where = f"speed profile {self.name!r} ({self.source})"
        missing = sorted({"major_roads", "access", "osm", "urban"} - set(c))
        if missing:
            msg = f"{where}: missing section(s) {missing}; see netplan/profiles.yaml."
            raise ValidationError(msg)
        unknown = sorted(set(c) - _PROFILE_KEYS - {"urban", "ferries", "version", "name"})
        if unknown:
            msg = f"{where}: unknown key(s) {unknown}; allowed: {sorted(_PROFILE_KEYS)}."
            raise ValidationError(msg)
        for group in MAJOR_GROUPS:
            g = c["major_roads"].get(group)
            if not isinstance(g, Mapping):
                msg = f"{where}: major_roads.{group} must give rural_kph and urban_kph."
                raise ValidationError(msg)
            for k in ("rural_kph", "urban_kph"):
                _positive(g.get(k), f"{where}: major_roads.{group}.{k}")
        acc = c["access"]
        unknown = sorted(set(acc) - _ACCESS_KEYS)
        if unknown:
            msg = f"{where}: access: unknown key(s) {unknown}; allowed {sorted(_ACCESS_KEYS)}."
            raise ValidationError(msg)
        for k in ("rural_kph", "urban_kph", "detour_factor"):
            _positive(acc.get(k), f"{where}: access.{k}")
        if float(acc["detour_factor"]) < 1:
            msg = f"{where}: access.detour_factor must be >= 1, got {acc['detour_factor']}."
            raise ValidationError(msg)
        term = acc.get("terminal_minutes", 0.0)
        if isinstance(term, bool) or not (isinstance(term, (int, float)) and term >= 0):
            msg = f"{where}: access.terminal_minutes must be >= 0, got {term!r}."
            raise ValidationError(msg)
        u = c["urban"]
        lo = _positive(u.get("rural_people_per_km2"), f"{where}: urban.rural_people_per_km2")
        hi = _positive(u.get("urban_people_per_km2"), f"{where}: urban.urban_people_per_km2")
        _positive(u.get("radius_km"), f"{where}: urban.radius_km")
        if hi <= lo:
            msg = f"{where}: urban.urban_people_per_km2 must exceed rural_people_per_km2."
            raise ValidationError(msg)
        self.speed_model()  # validates the osm section

    # ------------------------------------------------------------------ identity
    @property
    def hash(self) -> str:
        """First 12 hex digits of the sha256 of the resolved content (canonical JSON)."""
        text = json.dumps(_plain(self.content), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def label(self) -> str:
        """``name@hash``, as written in reports and OD metadata."""
        return f"{self.name}@{self.hash}"

    def __repr__(self) -> str:
        return f"SpeedProfile({self.label}, {self.source})"

    def to_dict(self) -> dict[str, Any]:
        """The resolved profile as plain data (round-trips through :func:`load_profile`)."""
        return {"name": self.name, **_plain(self.content)}

    def to_yaml(self, path: str | Path) -> Path:
        """Write the profile as a YAML file that :func:`load_profile` reads, atomically."""
        import yaml

        from ._io import atomic_path

        path = Path(path)
        with atomic_path(path) as tmp:
            tmp.write_text(
                f"# netplan speed profile {self.label}\n"
                + yaml.safe_dump(self.to_dict(), sort_keys=False),
                encoding="utf-8",
            )
        return path

    # ------------------------------------------------------------------ speeds
    def speed_model(self) -> SpeedModel:
        """Class speeds and ``maxspeed`` handling for full-detail OSM graphs."""
        osm = dict(self.content["osm"])
        return SpeedModel(
            speeds_kph=osm.get("speeds_kph", {}),
            use_maxspeed=bool(osm.get("use_maxspeed", True)),
            maxspeed_curve=osm.get("maxspeed_curve", ()),
            congestion=osm.get("congestion", {}),
            calibration=float(osm.get("calibration", 1.0)),
        )

    def urban_share(self, density: np.ndarray) -> np.ndarray:
        """0 (rural) .. 1 (urban), linear in log density between the two thresholds."""
        u = self.content["urban"]
        lo, hi = math.log(u["rural_people_per_km2"]), math.log(u["urban_people_per_km2"])
        d = np.log(np.maximum(np.asarray(density, dtype=float), 1e-9))
        return np.clip((d - lo) / (hi - lo), 0.0, 1.0)

    def major_speed_kph(self, group: str, share: np.ndarray) -> np.ndarray:
        """Speed of major-road edges of ``group`` at urban ``share``, interpolated in pace."""
        g = self.content["major_roads"][group]
        return _pace_mix(float(g["rural_kph"]), float(g["urban_kph"]), share)

    @property
    def detour_factor(self) -> float:
        return float(self.content["access"]["detour_factor"])

    @property
    def terminal_minutes(self) -> float:
        return float(self.content["access"].get("terminal_minutes", 0.0))

    @property
    def checkin_minutes(self) -> float:
        return float(self.content.get("checkin_minutes", 0.0))

    def access_speed_kph(self, share: np.ndarray) -> np.ndarray:
        """Access-leg speed at urban ``share`` (interpolated in pace)."""
        a = self.content["access"]
        return _pace_mix(float(a["rural_kph"]), float(a["urban_kph"]), share)

    def access_minutes(self, straight_km: np.ndarray, share: np.ndarray) -> np.ndarray:
        """Minutes of the leg between a point and its snapped node (plus terminal minutes)."""
        km = np.asarray(straight_km, dtype=float) * self.detour_factor
        return km / self.access_speed_kph(share) * 60.0 + self.terminal_minutes

    @property
    def ferries(self) -> list[dict[str, Any]]:
        return list(self.content.get("ferries", []))

    # ------------------------------------------------------------------ changes
    def with_values(self, name: str, changes: Mapping[str, float]) -> SpeedProfile:
        """A copy under ``name`` with dotted keys changed (``{"access.rural_kph": 45}``)."""
        content = copy.deepcopy(_plain(self.content))
        for dotted, value in changes.items():
            node = content
            *parents, last = dotted.split(".")
            for p in parents:
                node = node[p]
            node[last] = float(value)
        return SpeedProfile(name, content, source=f"derived from {self.label}")


def _pace_mix(rural_kph: float, urban_kph: float, share: np.ndarray) -> np.ndarray:
    s = np.asarray(share, dtype=float)
    pace = (1.0 - s) / rural_kph + s / urban_kph
    return 1.0 / pace


def _plain(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    return obj


def load_profile(name_or_path: str | Path | SpeedProfile | None = None) -> SpeedProfile:
    """Return a built-in profile by name, or read a profile file.

    Parameters
    ----------
    name_or_path
        ``"free_flow"`` (default) or ``"daytime"``, the path of a YAML profile file (as
        ``netplan calibrate`` writes), or a :class:`SpeedProfile` (returned as is).

    Raises
    ------
    ValidationError
        Unknown name, unreadable file or an invalid profile (the message names the key).
    """
    if isinstance(name_or_path, SpeedProfile):
        return name_or_path
    builtin = _builtin()
    shared = {"urban": builtin["urban"], "ferries": builtin.get("ferries", [])}
    name = DEFAULT_PROFILE if name_or_path is None else str(name_or_path)
    if name in builtin["profiles"]:
        content = {**shared, **copy.deepcopy(builtin["profiles"][name])}
        return SpeedProfile(name, content, source=f"netplan/profiles.yaml v{builtin['version']}")
    path = Path(name)
    if not path.suffix or not path.exists():
        msg = (
            f"unknown speed profile {name!r}: give one of {available_profiles()} or the path "
            "of a profile YAML file (as written by `netplan calibrate`)."
        )
        raise ValidationError(msg)
    from ._yaml import load_file, plain

    raw = plain(load_file(path, what="speed profile"))
    if not isinstance(raw, Mapping):
        msg = f"{path}: a speed profile must be a mapping (see netplan/profiles.yaml)."
        raise ValidationError(msg)
    raw = dict(raw)
    pname = str(raw.pop("name", path.stem))
    content = {**shared, **raw}
    return SpeedProfile(pname, content, source=str(path))


# ---------------------------------------------------------------------- density surface
@dataclass(frozen=True, eq=False)
class DensitySurface:
    """Population density (people per km²) around points, from LSOA centroids.

    The population of every LSOA whose population-weighted centroid lies in the square of
    side ``2 x radius_km`` centred on a point, divided by the square's area; computed on a
    500-m grid with a summed-area table (O(1) a point).
    """

    x0: float
    y0: float
    cell_m: float
    integral: np.ndarray  # summed-area table of population per cell, shape (ny + 1, nx + 1)
    label: str = ""

    @classmethod
    def from_points(
        cls,
        x: np.ndarray,
        y: np.ndarray,
        population: np.ndarray,
        *,
        cell_m: float = 500.0,
        label: str = "",
    ) -> DensitySurface:
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        x0, y0 = x.min() - 50_000.0, y.min() - 50_000.0
        nx = int((x.max() + 50_000.0 - x0) // cell_m) + 1
        ny = int((y.max() + 50_000.0 - y0) // cell_m) + 1
        grid = np.zeros((ny, nx))
        ix = ((x - x0) // cell_m).astype(np.int64)
        iy = ((y - y0) // cell_m).astype(np.int64)
        np.add.at(grid, (iy, ix), np.asarray(population, dtype=float))
        integral = np.zeros((ny + 1, nx + 1))
        integral[1:, 1:] = grid.cumsum(0).cumsum(1)
        return cls(x0, y0, cell_m, integral, label)

    def density(self, x: np.ndarray, y: np.ndarray, radius_km: float) -> np.ndarray:
        """People per km² in the square of half-side ``radius_km`` around each point."""
        r = max(1, round(radius_km * 1000.0 / self.cell_m))
        ny, nx = self.integral.shape[0] - 1, self.integral.shape[1] - 1
        ix = ((np.asarray(x, dtype=float) - self.x0) // self.cell_m).astype(np.int64)
        iy = ((np.asarray(y, dtype=float) - self.y0) // self.cell_m).astype(np.int64)
        a0, a1 = np.clip(ix - r + 1, 0, nx), np.clip(ix + r + 1, 0, nx)
        b0, b1 = np.clip(iy - r + 1, 0, ny), np.clip(iy + r + 1, 0, ny)
        s = self.integral
        total = s[b1, a1] - s[b0, a1] - s[b1, a0] + s[b0, a0]
        side_km = 2 * r * self.cell_m / 1000.0
        return total / side_km**2

    def urban_share(self, profile: SpeedProfile, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The profile's urban share at BNG points ``x, y``."""
        return profile.urban_share(self.density(x, y, float(profile.content["urban"]["radius_km"])))


def density_surface() -> DensitySurface | None:
    """England and Wales density surface from the data cache (None when the data is absent).

    Built once from ``ons-lsoa-centroids`` and ``ons-lsoa-population`` and kept as a small
    derived file in ``settings.cache_folder/derived`` (keyed by the two files' sizes and
    times), so later processes skip the ONS workbook.
    """
    from . import data

    try:
        paths = [data.dataset_path(d) for d in ("ons-lsoa-centroids", "ons-lsoa-population")]
    except DataError as exc:
        logger.warning("population density unavailable (%s): access legs use suburban speeds", exc)
        return None
    stamp = "|".join(f"{p.resolve()}|{p.stat().st_size}|{p.stat().st_mtime_ns}" for p in paths)
    return _density_cached(stamp)


@functools.lru_cache(maxsize=2)
def _density_cached(stamp: str) -> DensitySurface:
    from ._io import atomic_path

    key = hashlib.sha1(stamp.encode()).hexdigest()[:16]
    cache = Path(settings.cache_folder) / "derived" / f"lsoa-population-points-{key}.npz"
    arrays = None
    if cache.is_file():
        try:
            with open(cache, "rb") as fh, np.load(fh, allow_pickle=False) as z:
                arrays = (z["x"], z["y"], z["population"])
            if not (len(arrays[0]) == len(arrays[1]) == len(arrays[2]) > 0) or not all(
                np.all(np.isfinite(a)) for a in arrays
            ):
                msg = "arrays of different lengths or non-finite values"
                raise ValueError(msg)
        except Exception as exc:
            logger.warning("rebuilding unreadable derived file %s (%s)", cache, exc)
            arrays = None
    if arrays is None:
        from . import data
        from ._geo import _to_bng

        zones = data.load_lsoa_zones("EW")
        x, y = _to_bng(zones["lon"].to_numpy(), zones["lat"].to_numpy())
        arrays = (x, y, zones["population"].to_numpy(dtype=float))
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(cache) as tmp, open(tmp, "wb") as fh:
                np.savez(fh, x=arrays[0], y=arrays[1], population=arrays[2])
        except OSError as exc:  # a read-only cache only costs time
            logger.warning("cannot cache %s (%s)", cache, exc)
    return DensitySurface.from_points(*arrays, label="ONS LSOA mid-2018")
