"""Scenario files and the messages that name them: YAML reading, ``extends`` and key origins.

:func:`_load_merged` reads a file, follows its ``extends`` chain and deep-merges it over its
base, recording which file set each dotted key; :func:`_origin`, :func:`_suggest` and
:func:`check_ids` turn a bad key or id into a message naming that file and the nearest name.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

from .. import _yaml
from .._errors import ScenarioError, ValidationError


def shipped() -> dict[str, Path]:
    """The scenarios shipped with netplan: name -> file (``rutland_small`` -> ...yaml)."""
    from .._resources import shipped_path

    folder = shipped_path("scenarios")
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


def resolve_scenario_path(path: str | Path) -> Path:
    """``path`` itself, or the shipped scenario of that name when no such file exists."""
    path = Path(path)
    if not path.exists() and path.parent == Path():
        found = shipped().get(path.stem if path.suffix in (".yaml", ".yml") else path.name)
        if found is not None:
            return found
    return path


def _load_merged(path: Path, *, chain: tuple[Path, ...]) -> tuple[dict[str, Any], dict[str, str]]:
    """Read ``path``, follow ``extends`` and return the merged dict and key origins."""
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(str(p) for p in (*chain, resolved))
        msg = f"{path}: `extends` makes a cycle: {cycle}"
        raise ScenarioError(msg)
    if not path.is_file():
        if path.is_dir():
            msg = f"{path} is a folder, not a scenario file; give a .yaml file"
        else:
            msg = f"scenario file {path} not found"
            if not chain:
                msg += f" (shipped scenarios: {', '.join(shipped())})"
        if chain:
            msg += f" (named by `extends` in {chain[-1]})"
        raise ScenarioError(msg)
    try:
        raw = _yaml.load_file(path, what="scenario file")
    except ValidationError as exc:
        raise ScenarioError(str(exc)) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        msg = f"{path}: a scenario must be a mapping of sections, got {type(raw).__name__}"
        raise ScenarioError(msg)
    raw.pop("provenance", None)  # written by a run (scenario.resolved.yaml): not a setting
    base_name = raw.pop("extends", None)
    merged: dict[str, Any] = {}
    origins: dict[str, str] = {}
    if base_name is not None:
        if not isinstance(base_name, str):
            msg = f"{path}: `extends` must be a file name, got {base_name!r}"
            raise ScenarioError(msg)
        base_path = path.parent / base_name
        merged, origins = _load_merged(base_path, chain=(*chain, resolved))
    # relative network files are relative to the scenario that names them
    net = raw.get("network")
    if isinstance(net, dict) and isinstance(net.get("name"), str):
        candidate = path.parent / net["name"]
        if candidate.suffix and candidate.exists():
            net["name"] = str(candidate.resolve())
    for key in _dotted_keys(raw):
        origins[key] = str(path)
    merged = _deep_merge(merged, raw)
    return merged, origins


def _dotted_keys(d: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for k, v in d.items():
        key = f"{prefix}{k}"
        yield key
        if isinstance(v, Mapping):
            yield from _dotted_keys(v, key + ".")


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _origin(origins: Mapping[str, str], key: str, default: str) -> str:
    while key:
        if key in origins:
            return origins[key]
        key = key.rpartition(".")[0]
    return default


def _suggest(name: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(str(name), allowed, n=1, cutoff=0.5)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; valid keys here: {', '.join(sorted(allowed))}"


class _Origins(Protocol):
    """What :func:`check_ids` reads of a :class:`~netplan.scenario.Scenario`."""

    _origins: Mapping[str, str]
    _source: Any


def check_ids(
    scenario: _Origins, key: str, ids: list[str], known: list[str] | set[str], *, what: str
) -> None:
    """Raise a :class:`ScenarioError` if any of ``ids`` (from ``key``) is not in ``known``."""
    known_list = sorted(str(k) for k in known)
    known_set = set(known_list)
    bad = [i for i in ids if str(i) not in known_set]
    if not bad:
        return
    where = _origin(scenario._origins, key, str(scenario._source or "scenario"))
    hints = []
    for b in bad[:5]:
        close = difflib.get_close_matches(str(b), known_list, n=1, cutoff=0.6)
        hints.append(f"{b!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    msg = (
        f"{where}: {key} names {len(bad)} id(s) that are not {what}: {', '.join(hints)}"
        f"{' ...' if len(bad) > 5 else ''}. Use ODS codes of the candidate sites "
        f"(add new ones under sites.include or sites.extra)."
    )
    raise ScenarioError(msg)
