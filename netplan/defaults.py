"""Documented default assumptions (``defaults.yaml``): values, units, sources, confidence.

``defaults.yaml`` next to this module is the one place where planning assumptions live
(demand rate, growth, tracer mix, decay budget, scanner throughput, costs, service
standards). Each entry records its value, unit, source and confidence (H/M/L) and whether
it is *derived* here rather than read from a source. Scenarios override values; this module
only reads the file.

Examples
--------
>>> from netplan import defaults
>>> defaults.load_defaults()["tracer"]["half_life_minutes"]
109.7
>>> defaults.get("demand.base_year")
2017
"""

from __future__ import annotations

import copy
import functools
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ._errors import ValidationError

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

DEFAULTS_PATH = Path(__file__).with_name("defaults.yaml")
SECTIONS = (
    "network",
    "demand",
    "tracer",
    "scanners",
    "costs",
    "service",
    "sites",
    "rollout",
    "uncertainty",
)
_ENTRY_KEYS = {"value", "unit", "source", "confidence", "derived", "note"}
_CONFIDENCE = {"H", "M", "L"}


@functools.lru_cache(maxsize=4)
def _read(path: str) -> dict[str, dict[str, dict[str, Any]]]:
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    _check(raw, path)
    return raw


def _check(raw: object, path: str) -> None:
    """Validate the structure of a defaults file; raise listing every bad entry."""
    if not isinstance(raw, dict):
        msg = f"{path}: expected a mapping of sections {SECTIONS}, got {type(raw).__name__}"
        raise ValidationError(msg)
    problems: list[str] = []
    missing = [s for s in SECTIONS if s not in raw]
    if missing:
        problems.append(f"missing sections {missing}")
    for section, entries in raw.items():
        if not isinstance(entries, dict):
            problems.append(f"{section}: expected a mapping of entries")
            continue
        for key, entry in entries.items():
            where = f"{section}.{key}"
            if not isinstance(entry, dict) or "value" not in entry:
                problems.append(f"{where}: expected {{value, unit, source, confidence}}")
                continue
            unknown = set(entry) - _ENTRY_KEYS
            if unknown:
                problems.append(f"{where}: unknown fields {sorted(unknown)}")
            if not entry.get("source"):
                problems.append(f"{where}: no source")
            if entry.get("confidence") not in _CONFIDENCE:
                problems.append(f"{where}: confidence must be one of H, M, L")
    if problems:
        msg = f"{path} is not a valid defaults file:\n  " + "\n  ".join(problems)
        raise ValidationError(msg)


def load_defaults(path: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """Return the default values, ``{section: {key: value}}``.

    Parameters
    ----------
    path
        A defaults file with the same layout; default: the packaged ``defaults.yaml``.

    Returns
    -------
    values
        A fresh (deep-copied) nested dict, safe to modify.

    Raises
    ------
    ValidationError
        If the file lacks a section or an entry lacks a value, source or confidence.
    """
    raw = _read(str(path or DEFAULTS_PATH))
    return {
        section: {key: copy.deepcopy(entry["value"]) for key, entry in entries.items()}
        for section, entries in raw.items()
    }


def get(key: str, *, path: str | Path | None = None) -> Any:
    """Return one default value by dotted key, e.g. ``"tracer.half_life_minutes"``.

    Raises
    ------
    ValidationError
        If the key does not exist (the message lists the keys of that section).
    """
    values = load_defaults(path)
    section, _, name = key.partition(".")
    if section not in values or name not in values[section]:
        allowed = sorted(values.get(section, {})) or sorted(values)
        msg = f"unknown default {key!r}; known keys here: {allowed}"
        raise ValidationError(msg)
    return values[section][name]


def describe(path: str | Path | None = None) -> pd.DataFrame:
    """Return one row per default: key, value, unit, source, confidence, derived.

    Returns
    -------
    table
        Columns ``section, key, value, unit, source, confidence, derived``; ``key`` is the
        dotted name (``"demand.rate_per_1000"``) used by :func:`get` and scenarios.
    """
    raw = _read(str(path or DEFAULTS_PATH))
    rows = [
        {
            "section": section,
            "key": f"{section}.{key}",
            "value": copy.deepcopy(entry["value"]),
            "unit": entry.get("unit", ""),
            "source": " ".join(str(entry.get("source", "")).split()),
            "confidence": entry["confidence"],
            "derived": bool(entry.get("derived", False)),
        }
        for section, entries in raw.items()
        for key, entry in entries.items()
    ]
    import pandas as pd

    return pd.DataFrame(rows)
