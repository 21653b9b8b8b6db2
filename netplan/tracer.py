"""18F radiotracer decay and dose-supply helpers.

All four contract tracers (FDG, fluoroethylcholine, florbetaben, sodium fluoride) are
labelled with fluorine-18, so they share one half-life. A dose that must still hold
activity ``A`` at injection has to leave the cyclotron with ``A * 2**(minutes / 109.7)``,
where ``minutes`` is the time from dispatch to injection (drive plus waiting):

====== ==============
minutes decay factor
====== ==============
30      1.21
60      1.46
120     2.13
240     4.56
====== ==============

Defaults (half-life, primary and back-up delivery limits) come from ``defaults.yaml``
section ``tracer``; every function takes them as keyword options.

Supply chain: :func:`doses_to_produce` converts one cyclotron's site doses into doses at
dispatch. Choosing each site's primary and back-up cyclotron and totalling the doses per
cyclotron on a normal day and when another cyclotron fails is done on plan results by
:func:`netplan.capacity.nearest_cyclotrons` and :func:`netplan.capacity.tracer_supply`.

Examples
--------
>>> round(decay_factor(60), 2)
1.46
>>> round(activity_to_dispatch(370, 60))
541
>>> round(max_delivery_minutes(2.0), 1)
109.7
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ._errors import ValidationError

logger = logging.getLogger(__name__)

#: 18F half-life in minutes (NIST 1.8288 h = 109.73 min; see defaults.yaml ``tracer``).
HALF_LIFE_MINUTES = 109.7

#: Canonical tracer keys and their names; all are 18F-labelled.
TRACERS: dict[str, str] = {
    "fdg": "18F-fluorodeoxyglucose (FDG)",
    "fec": "18F-fluoroethylcholine (FEC)",
    "fbb": "18F-florbetaben (FBB)",
    "naf": "18F-sodium fluoride (NaF)",
}

_ALIASES: dict[str, str] = {
    "fdg": "fdg",
    "18f-fdg": "fdg",
    "fluorodeoxyglucose": "fdg",
    "18f-fluorodeoxyglucose": "fdg",
    "fec": "fec",
    "18f-fec": "fec",
    "fluoroethylcholine": "fec",
    "18f-fluoroethylcholine": "fec",
    "choline": "fec",
    "fbb": "fbb",
    "18f-fbb": "fbb",
    "florbetaben": "fbb",
    "18f-florbetaben": "fbb",
    "naf": "naf",
    "18f-naf": "naf",
    "sodium fluoride": "naf",
    "18f-sodium fluoride": "naf",
}


def tracer_key(name: str) -> str:
    """Return the canonical key (``"fdg"``, ``"fec"``, ``"fbb"``, ``"naf"``) of a tracer name.

    Accepts the keys, ``"18F-FDG"``-style names and the chemical names, case-insensitive.

    Raises
    ------
    ValidationError
        If the name is not a known tracer (the message lists the known ones).
    """
    key = _ALIASES.get(str(name).strip().lower().replace("_", " "))
    if key is None:
        msg = (
            f"unknown tracer {name!r}; known tracers: "
            + ", ".join(f"{k} ({v})" for k, v in TRACERS.items())
            + ". Add a new 18F tracer to netplan.tracer.TRACERS or use one of these keys."
        )
        raise ValidationError(msg)
    return key


def check_tracer_names(names: Any, *, source: str = "tracer mix") -> list[str]:
    """Validate several tracer names at once and return their canonical keys.

    Raises
    ------
    ValidationError
        Listing every unknown name (not only the first) and the known keys.
    """
    names = list(names)
    unknown = [n for n in names if str(n).strip().lower().replace("_", " ") not in _ALIASES]
    if unknown:
        msg = (
            f"{source}: unknown tracer name(s) {unknown}; "
            f"known tracers: {', '.join(TRACERS)} (e.g. 'fdg' or '18F-FDG')."
        )
        raise ValidationError(msg)
    keys = [tracer_key(n) for n in names]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        msg = f"{source}: tracer(s) {dup} given more than once (names {names})."
        raise ValidationError(msg)
    return keys


def _as_minutes(minutes: Any, *, name: str = "minutes") -> Any:
    arr = np.asarray(minutes, dtype=float)
    if np.isnan(arr).any() or (arr < 0).any():
        msg = f"{name} must be >= 0 and not missing, got {minutes!r}"
        raise ValidationError(msg)
    return arr


def _check_half_life(half_life_minutes: float) -> None:
    if not half_life_minutes > 0:
        msg = f"half_life_minutes must be positive, got {half_life_minutes!r}"
        raise ValidationError(msg)


def decay_factor(minutes: Any, *, half_life_minutes: float = HALF_LIFE_MINUTES) -> Any:
    """Return ``2 ** (minutes / half_life_minutes)``: activity dispatched per unit injected.

    Parameters
    ----------
    minutes
        Time from dispatch (or end of production) to injection; a scalar or array.
    half_life_minutes
        Half-life of the isotope; 18F by default.

    Returns
    -------
    factor
        A float for scalar input, else a numpy array of the same shape.

    Raises
    ------
    ValidationError
        On negative or missing minutes, or a non-positive half-life.
    """
    _check_half_life(half_life_minutes)
    arr = _as_minutes(minutes)
    out = np.exp2(arr / half_life_minutes)
    return float(out) if out.ndim == 0 else out


def activity_remaining(
    activity_at_dispatch: Any, minutes: Any, *, half_life_minutes: float = HALF_LIFE_MINUTES
) -> Any:
    """Return the activity left after ``minutes``: ``A0 * 2 ** (-minutes / half_life)``."""
    out = np.asarray(activity_at_dispatch, dtype=float) / decay_factor(
        minutes, half_life_minutes=half_life_minutes
    )
    return float(out) if np.ndim(out) == 0 else out


def activity_to_dispatch(
    activity_at_injection: Any, minutes: Any, *, half_life_minutes: float = HALF_LIFE_MINUTES
) -> Any:
    """Return the activity to dispatch so ``activity_at_injection`` remains after ``minutes``.

    Parameters
    ----------
    activity_at_injection
        Activity wanted at injection (any unit, e.g. MBq); scalar or array.
    minutes
        Dispatch-to-injection time (transport plus waiting).
    half_life_minutes
        Half-life; 18F by default.

    Returns
    -------
    activity
        ``activity_at_injection * 2 ** (minutes / half_life_minutes)``, same unit.

    Raises
    ------
    ValidationError
        On negative activity or negative/missing minutes.
    """
    act = np.asarray(activity_at_injection, dtype=float)
    if np.isnan(act).any() or (act < 0).any():
        msg = f"activity_at_injection must be >= 0, got {activity_at_injection!r}"
        raise ValidationError(msg)
    out = act * decay_factor(minutes, half_life_minutes=half_life_minutes)
    return float(out) if np.ndim(out) == 0 else out


def max_delivery_minutes(
    max_factor: float, *, half_life_minutes: float = HALF_LIFE_MINUTES
) -> float:
    """Return the longest dispatch-to-injection time a decay budget allows.

    Parameters
    ----------
    max_factor
        The largest acceptable ratio of dispatched to injected activity (>= 1), e.g. 2.13
        for the default primary supply budget.
    half_life_minutes
        Half-life; 18F by default.

    Returns
    -------
    minutes
        ``half_life_minutes * log2(max_factor)``.

    Raises
    ------
    ValidationError
        If ``max_factor`` < 1 (a dose cannot gain activity).
    """
    _check_half_life(half_life_minutes)
    if not (isinstance(max_factor, (int, float)) and max_factor >= 1):
        msg = f"max_factor must be a number >= 1 (dispatched / injected), got {max_factor!r}"
        raise ValidationError(msg)
    return half_life_minutes * math.log2(max_factor)


def _as_series(values: Mapping[Any, float] | pd.Series, *, name: str) -> pd.Series:
    s = values.copy() if isinstance(values, pd.Series) else pd.Series(dict(values), dtype=float)
    s = pd.to_numeric(s, errors="coerce")
    if s.index.has_duplicates:
        dup = sorted(map(str, s.index[s.index.duplicated()].unique()))
        msg = f"{name}: duplicate site id(s) {dup}; give one value per site."
        raise ValidationError(msg)
    bad = s.isna() | (s < 0)
    if bad.any():
        msg = f"{name}: missing or negative value(s) for site(s) {list(s.index[bad])[:10]}"
        raise ValidationError(msg)
    return s.astype(float)


def doses_to_produce(
    doses_needed_by_site: Mapping[Any, float] | pd.Series,
    delivery_minutes_by_site: Mapping[Any, float] | pd.Series,
    *,
    tracer: str = "fdg",
    max_delivery_minutes: float | None = None,
    wait_minutes: float = 0.0,
    half_life_minutes: float = HALF_LIFE_MINUTES,
) -> pd.DataFrame:
    """Return the dose-equivalents a cyclotron must produce to serve its sites.

    A site needing ``n`` doses at injection, ``t`` minutes from the cyclotron, consumes
    ``n * 2**((t + wait) / half_life)`` doses' worth of activity at dispatch. Use it once with
    each cyclotron's primary sites, and again with the sites it backs up to size the back-up.

    Parameters
    ----------
    doses_needed_by_site
        Doses needed at injection per site id (per day or per year; the unit carries over).
    delivery_minutes_by_site
        Dispatch-to-site time per site id (e.g. drive minutes from the OD table).
    tracer
        Tracer name (validated; all 18F tracers decay alike).
    max_delivery_minutes
        When given, sites farther than this are flagged ``within_limit = False`` and a
        warning lists them (they should be served from another cyclotron).
    wait_minutes
        Extra time between arrival and injection (queueing at the site).
    half_life_minutes
        Half-life; 18F by default.

    Returns
    -------
    table
        One row per site: ``site_id, tracer, doses, delivery_minutes, decay_factor,
        doses_at_dispatch, within_limit``. Sum ``doses_at_dispatch`` for the cyclotron total.

    Raises
    ------
    ValidationError
        On an unknown tracer, negative values, or sites missing a delivery time.
    """
    key = tracer_key(tracer)
    doses = _as_series(doses_needed_by_site, name="doses_needed_by_site")
    minutes = _as_series(delivery_minutes_by_site, name="delivery_minutes_by_site")
    missing = [s for s in doses.index if s not in minutes.index]
    if missing:
        msg = (
            f"delivery_minutes_by_site has no time for site(s) {missing[:10]}; "
            "give a delivery time for every site that needs doses."
        )
        raise ValidationError(msg)
    _as_minutes(wait_minutes, name="wait_minutes")
    t = minutes.reindex(doses.index) + float(wait_minutes)
    factor = decay_factor(t.to_numpy(), half_life_minutes=half_life_minutes)
    out = pd.DataFrame(
        {
            "site_id": doses.index,
            "tracer": key,
            "doses": doses.to_numpy(),
            "delivery_minutes": t.to_numpy(),
            "decay_factor": factor,
            "doses_at_dispatch": doses.to_numpy() * factor,
        }
    )
    limit = math.inf if max_delivery_minutes is None else float(max_delivery_minutes)
    out["within_limit"] = out["delivery_minutes"] <= limit
    if not out["within_limit"].all():
        far = out.loc[~out["within_limit"], "site_id"].tolist()
        warnings.warn(
            f"{len(far)} site(s) are more than {limit:g} min from the cyclotron: {far[:10]}; "
            "serve them from a nearer cyclotron or raise the decay budget.",
            stacklevel=2,
        )
    return out
