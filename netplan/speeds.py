"""Car speeds of road classes: OSM ``maxspeed`` parsing and the per-class speed model.

Owns how a way's class and ``maxspeed`` tag become a routing speed (:class:`SpeedModel`,
:func:`parse_maxspeed`), with the OSRM car-profile class speeds (DOMAIN.md 7b) and the UK
implicit limits (gov.uk/speed-limits, DOMAIN.md 7a) as reference tables. Named, sourced
speed *profiles* built on top of it live in :mod:`netplan.profiles`; graphs that use them
in :mod:`netplan.network`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._errors import ValidationError

_MPH_TO_KPH = 1.609344
_KNOT_TO_KPH = 1.852

#: Free-flow speeds (km/h) by OSM highway class: OSRM car profile (Project-OSRM/osrm-backend
#: ``profiles/car.lua`` at commit 5230a87, DOMAIN.md section 7b). ``major`` is not an OSM
#: class: it is used by :func:`graph_from_edge_list` for the mirror's non-motorway major roads
#: (trunk and primary, which the mirror does not tell apart) and takes OSRM's primary speed.
OSRM_SPEEDS_KPH: dict[str, float] = {
    "motorway": 90.0,
    "motorway_link": 45.0,
    "trunk": 85.0,
    "trunk_link": 40.0,
    "primary": 65.0,
    "primary_link": 30.0,
    "secondary": 55.0,
    "secondary_link": 25.0,
    "tertiary": 40.0,
    "tertiary_link": 20.0,
    "unclassified": 25.0,
    "residential": 25.0,
    "living_street": 10.0,
    "service": 15.0,
    "major": 65.0,
}


#: UK implicit ``maxspeed`` values (km/h): gov.uk/speed-limits (DOMAIN.md 7a) -- 30 mph
#: built-up, 60 mph single carriageway, 70 mph dual carriageway and motorway.
UK_IMPLICIT_KPH: dict[str, float] = {
    "nsl_single": 60 * _MPH_TO_KPH,
    "nsl_dual": 70 * _MPH_TO_KPH,
    "motorway": 70 * _MPH_TO_KPH,
    "nsl_restricted": 30 * _MPH_TO_KPH,
    "urban": 30 * _MPH_TO_KPH,
    "national": 60 * _MPH_TO_KPH,
    "walk": 6.0,
    "living_street": 20 * _MPH_TO_KPH,
}


_NUMBER_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph|kmph|knots?)?\s*$")
_ZONE_RE = re.compile(r"^(?:gb|uk):zone(\d+)$")


def parse_maxspeed(value: object) -> float | None:
    """Parse an OSM ``maxspeed`` value to km/h.

    Understands plain numbers (km/h), ``mph``/``km/h``/``knots`` units, the UK implicit
    values (``GB:nsl_single`` 60 mph, ``GB:nsl_dual`` and ``GB:motorway`` 70 mph,
    ``GB:nsl_restricted``/``GB:urban`` 30 mph, ``GB:zone20`` 20 mph; ``UK:`` prefixes too),
    ``national`` (taken as NSL single, 60 mph), ``walk`` (6 km/h), and lists (``"30;40"``,
    ``"30|40"`` or a Python list, as osmnx gives them), of which the lowest is kept.

    Parameters
    ----------
    value
        The tag value (str, number, list or None).

    Returns
    -------
    float or None
        Speed in km/h; None for missing, ``none``, ``signals``, ``variable``, zero or junk.

    Examples
    --------
    >>> round(parse_maxspeed("30 mph"), 2)
    48.28
    >>> round(parse_maxspeed("GB:nsl_dual"), 2)
    112.65
    >>> parse_maxspeed("signals") is None
    True
    """
    if value is None:
        return None
    if isinstance(value, (list, tuple, set)):
        parts = [parse_maxspeed(v) for v in value]
    elif isinstance(value, (int, float, np.integer, np.floating)):
        v = float(value)
        return v if math.isfinite(v) and v > 0 else None
    else:
        text = str(value).strip().lower()
        if not text:
            return None
        if ";" in text or "|" in text:
            parts = [parse_maxspeed(v) for v in re.split(r"[;|]", text)]
        else:
            return _parse_one(text)
    speeds = [p for p in parts if p is not None]
    return min(speeds) if speeds else None


def _parse_one(text: str) -> float | None:
    match = _NUMBER_RE.match(text)
    if match:
        speed = float(match.group(1))
        unit = match.group(2) or "km/h"
        if unit == "mph":
            speed *= _MPH_TO_KPH
        elif unit.startswith("knot"):
            speed *= _KNOT_TO_KPH
        return speed if speed > 0 else None
    zone = _ZONE_RE.match(text)
    if zone:
        return float(zone.group(1)) * _MPH_TO_KPH
    key = text.split(":", 1)[1] if ":" in text else text
    if ":" in text and text.split(":", 1)[0] not in {"gb", "uk"}:
        return None  # another country's implicit value (e.g. "de:urban"): unknown here
    return UK_IMPLICIT_KPH.get(key)


@dataclass(frozen=True)
class SpeedModel:
    """Free-flow car speeds for OSM highway classes (all settable from a scenario).

    Speed of an edge (km/h) = ``base x congestion[class] x calibration`` where ``base`` is
    ``parse_maxspeed(maxspeed) x maxspeed_factor`` when the way has a usable ``maxspeed`` tag
    (and ``use_maxspeed``), else ``speeds_kph[class]``.

    Parameters
    ----------
    speeds_kph
        Speed by highway class. Default: OSRM car profile (``car.lua``, commit 5230a87;
        DOMAIN.md 7b): motorway 90, trunk 85, primary 65, secondary 55, tertiary 40,
        unclassified/residential 25, living_street 10, service 15, links 20-45 km/h.
    maxspeed_factor
        Multiplier on tagged ``maxspeed``. Default 0.8: OSRM's ``speed_reduction``
        (``way_handlers.lua``; DOMAIN.md 7b), so a 70 mph motorway routes at about 90 km/h.
        Use 1.0 for legal limits (gov.uk/speed-limits; DOMAIN.md 7a), the most optimistic case.
    use_maxspeed
        Use ``maxspeed`` tags at all (False: class speeds only).
    congestion
        Per-class speed multipliers (e.g. ``{"primary": 0.7}`` for peak traffic; DfT 2017
        AM-peak speeds in DOMAIN.md 7d give A roads 43 km/h). Default: none (1.0).
    calibration
        Global speed multiplier applied last (0.9 makes every trip about 11 % longer).
    default_speed_kph
        Speed for a class missing from ``speeds_kph`` (OSRM ``default_speed`` 10).
    maxspeed_curve
        Optional ``[[limit_kph, speed_kph], ...]`` (limits increasing): a tagged limit routes
        at the speed interpolated on this curve instead of ``limit x maxspeed_factor`` (a
        free-flow profile takes measured free-flow speeds per limit, DfT speed statistics).

    Examples
    --------
    >>> m = SpeedModel(calibration=0.9)
    >>> round(m.speed_kph("motorway", "70 mph"), 2)
    81.11
    >>> SpeedModel.from_dict(m.to_dict()) == m
    True
    """

    speeds_kph: Mapping[str, float] = field(default_factory=lambda: dict(OSRM_SPEEDS_KPH))
    maxspeed_factor: float = 0.8
    use_maxspeed: bool = True
    congestion: Mapping[str, float] = field(default_factory=dict)
    calibration: float = 1.0
    default_speed_kph: float = 10.0
    maxspeed_curve: Sequence[Sequence[float]] = ()

    def __post_init__(self) -> None:
        speeds = {**OSRM_SPEEDS_KPH, **dict(self.speeds_kph)}
        for name, value in [*speeds.items(), *dict(self.congestion).items()]:
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                msg = (
                    f"SpeedModel: speed or factor for {name!r} must be a positive number, "
                    f"got {value!r}."
                )
                raise ValidationError(msg)
        for name in ("maxspeed_factor", "calibration", "default_speed_kph"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                msg = f"SpeedModel: {name} must be a positive number, got {value!r}."
                raise ValidationError(msg)
        curve = tuple((float(a), float(b)) for a, b in self.maxspeed_curve)
        limits = [a for a, _ in curve]
        if any(not (math.isfinite(v) and v > 0) for pair in curve for v in pair) or any(
            b <= a for a, b in itertools.pairwise(limits)
        ):
            msg = (
                "SpeedModel: maxspeed_curve must be [[limit_kph, speed_kph], ...] with positive "
                f"values and increasing limits, got {list(self.maxspeed_curve)!r}."
            )
            raise ValidationError(msg)
        object.__setattr__(self, "maxspeed_curve", curve)
        object.__setattr__(self, "speeds_kph", speeds)
        object.__setattr__(self, "congestion", dict(self.congestion))

    def __hash__(self) -> int:
        return hash(self.key())

    def speed_kph(self, highway: str, maxspeed: object = None) -> float:
        """Return the routing speed (km/h) of a way of class ``highway``."""
        base = None
        if self.use_maxspeed and maxspeed is not None:
            tagged = parse_maxspeed(maxspeed)
            if tagged is not None and self.maxspeed_curve:
                lim, spd = zip(*self.maxspeed_curve, strict=True)
                base = float(np.interp(tagged, lim, spd))
            elif tagged is not None:
                base = tagged * self.maxspeed_factor
        if base is None:
            base = self.speeds_kph.get(highway, self.default_speed_kph)
        return base * self.congestion.get(highway, 1.0) * self.calibration

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON/YAML-serialisable dict (inverse of :meth:`from_dict`)."""
        return {
            "speeds_kph": dict(sorted(self.speeds_kph.items())),
            "maxspeed_factor": float(self.maxspeed_factor),
            "use_maxspeed": bool(self.use_maxspeed),
            "congestion": dict(sorted(self.congestion.items())),
            "calibration": float(self.calibration),
            "default_speed_kph": float(self.default_speed_kph),
            **(
                {"maxspeed_curve": [list(p) for p in self.maxspeed_curve]}
                if self.maxspeed_curve
                else {}
            ),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> SpeedModel:
        """Build a model from a (scenario) dict; unknown keys raise ValidationError.

        ``speeds_kph`` entries override the defaults class by class.
        """
        d = dict(d or {})
        allowed = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - allowed)
        if unknown:
            msg = f"speed model: unknown key(s) {unknown}; allowed: {sorted(allowed)}."
            raise ValidationError(msg)
        return cls(**d)

    def key(self) -> str:
        """Short hash of the settings (part of the graph cache key)."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:12]
