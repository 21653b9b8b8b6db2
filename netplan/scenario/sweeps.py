"""Sweeps: ``--set KEY=V1,V2`` settings parsed and expanded into named scenario variants."""

from __future__ import annotations

from typing import Any

from .. import _yaml
from .._errors import ScenarioError, ValidationError

#: A :class:`netplan.scenario.schema.Scenario` (not imported: the schema depends on this
#: module, and data flows one way).
Scenario = Any


def parse_set(text: str) -> tuple[str, list[Any]]:
    """Parse ``"KEY=V1,V2"`` into the key and YAML-typed values.

    Examples
    --------
    >>> parse_set("drive_minutes=45,60")
    ('drive_minutes', [45, 60])
    """
    key, sep, values = str(text).partition("=")
    key = key.strip()
    items = [v.strip() for v in values.split(",") if v.strip()]
    if not sep or not key or not items:
        msg = f"--set {text!r}: expected KEY=V1,V2,... e.g. drive_minutes=45,60,75"
        raise ScenarioError(msg)
    try:
        return key, [_yaml.load(v, source=f"--set {key}") for v in items]
    except ValidationError as exc:
        raise ScenarioError(str(exc)) from None


def sweep_variants(base: Scenario, sets: list[str]) -> list[Scenario]:
    """Scenarios for every combination of the ``KEY=V1,V2`` settings (validated first).

    Each variant is named ``<base>-<key>=<value>[-...]`` so its outputs get their own folder.

    Raises
    ------
    ScenarioError
        On a malformed setting, an unknown key (with a suggestion) or a bad value.
    """
    import itertools

    parsed = [parse_set(t) for t in sets]
    keys = [k for k, _ in parsed]
    if len(set(keys)) != len(keys):
        msg = f"--set names a key twice: {keys}; give all values in one --set"
        raise ScenarioError(msg)
    variants = []
    for combo in itertools.product(*[vals for _, vals in parsed]):
        overrides = dict(zip(keys, combo, strict=True))
        label = "-".join(f"{k.rpartition('.')[2]}={v}" for k, v in overrides.items())
        variant = base.with_overrides({**overrides, "name": f"{base.name}-{label}"})
        variants.append(variant)
    return variants


def overrides_from_sets(sets: list[str]) -> dict[str, Any]:
    """``["KEY=VALUE", ...]`` (one value each, as ``netplan run --set``) -> overrides.

    Parsed by :func:`parse_set`, so values are YAML-typed exactly as in a sweep.

    Raises
    ------
    ScenarioError
        On a malformed setting, a key given twice, or several values for one key (a sweep).
    """
    out: dict[str, Any] = {}
    for text in sets:
        key, values = parse_set(text)
        if len(values) != 1:
            msg = (
                f"--set {text!r}: run takes one value per key; to run several use "
                f"`netplan sweep SCENARIO --set {text}`"
            )
            raise ScenarioError(msg)
        if key in out:
            msg = f"--set names {key!r} twice; give it once"
            raise ScenarioError(msg)
        out[key] = values[0]
    return out
