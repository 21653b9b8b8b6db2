"""What the scenario schema does before and after pydantic: YAML scalars read by field type,
and pydantic's errors turned into one message naming the file and dotted key.

:func:`coerce_fields` runs before each model's validation (sections and the root). By the
field's declared type it turns a YAML scalar (:mod:`netplan._yaml`) into what the user
wrote: text for text fields (``007`` stays ``"007"``, ``1.10`` stays ``"1.10"``), a bool for
flags, a plain number for numbers. A boolean given for a number (``drive_minutes: yes``)
becomes its text, so pydantic reports it at that key as "not a valid number" instead of
reading ``True`` as 1. :func:`explain` formats a pydantic ``ValidationError``.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from .._yaml import YamlBool, YamlFloat, YamlInt, plain, text_of
from .loading import _origin, _suggest

_BOOL_WORDS = {"yes", "no", "on", "off", "true", "false", "y", "n"}


def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, YamlBool))


def _coerce(ann: Any, value: Any) -> Any:
    """``value`` read as the type ``ann`` expects (see the module docstring)."""
    origin = typing.get_origin(ann)
    args = typing.get_args(ann)
    if origin is typing.Annotated:
        return _coerce(args[0], value)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        options = [a for a in args if a is not type(None)]
        if isinstance(value, Mapping):
            pick = [a for a in options if typing.get_origin(a) in (dict, Mapping)]
        elif isinstance(value, list):
            pick = [a for a in options if typing.get_origin(a) in (list, tuple)]
        else:
            pick = [a for a in options if typing.get_origin(a) not in (dict, Mapping, list)]
        return _coerce(pick[0], value) if pick else plain(value)
    if origin in (list, tuple) and isinstance(value, list):
        return [_coerce(args[0] if args else Any, v) for v in value]
    if origin in (dict, Mapping) and isinstance(value, Mapping):
        kt, vt = (*args, Any, Any)[:2]
        return {_coerce(kt, k): _coerce(vt, v) for k, v in value.items()}
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return value  # validated by its own model
    if origin is typing.Literal:
        return text_of(value) if isinstance(value, (YamlInt, YamlFloat, YamlBool)) else value
    if ann is str:
        text = text_of(value)
        if text is not None:
            return text
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)  # an integer id given in Python
        return value
    if ann in (int, float):
        if _is_bool(value):
            return text_of(value) or str(value)  # fails as "not a valid number"
        return plain(value)
    if ann is bool:
        if isinstance(value, YamlBool):
            return bool(int(value))
        if isinstance(value, (YamlInt, YamlFloat)):
            return text_of(value)  # 1 or 0.0 is not a flag: "Input should be a valid boolean"
        return value
    return plain(value)


def coerce_fields(model: type[BaseModel], data: Any) -> Any:
    """``data`` (the raw input of ``model``) with every known field read by its type."""
    if not isinstance(data, Mapping):
        return data
    out = {}
    for key, value in data.items():
        field = model.model_fields.get(key) if isinstance(key, str) else None
        out[key] = _coerce(field.annotation, value) if field is not None else plain(value)
    return out


# ---------------------------------------------------------------------------- messages
def _unwrap(ann: Any) -> Any:
    if isinstance(ann, type):
        return ann
    for arg in typing.get_args(ann):
        found = _unwrap(arg)
        if isinstance(found, type) and issubclass(found, BaseModel):
            return found
    return ann


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model class found by walking ``loc`` from ``model``."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(str(part))
        if field is None:
            return None
        current = _unwrap(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def explain(
    exc: PydanticValidationError,
    where: str,
    origins: Mapping[str, str],
    root: type[BaseModel],
) -> str:
    """Turn pydantic errors into one message naming the file and dotted keys."""
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        dotted = ".".join(str(p) for p in loc)
        file = _origin(origins, ".".join(str(p) for p in loc if not isinstance(p, int)), where)
        if err["type"] == "extra_forbidden":
            parent = _model_at(root, loc[:-1])
            allowed = list(parent.model_fields) if parent is not None else []
            lines.append(f"{file}: unknown key {dotted!r}" + _suggest(str(loc[-1]), allowed))
            continue
        got = err.get("input")
        got_txt = repr(got) if not isinstance(got, dict) else "a mapping"
        if len(got_txt) > 60:
            got_txt = got_txt[:57] + "..."
        text = str(err["msg"]).removeprefix("Value error, ")
        hint = ""
        if (
            err["type"] in ("float_parsing", "int_parsing")
            and isinstance(got, str)
            and got.strip().lower() in _BOOL_WORDS
        ):
            hint = "; YAML reads yes/no/on/off/true/false as a boolean, not a number"
        key = f"{dotted}: " if dotted else ""
        lines.append(f"{file}: {key}{text} (got {got_txt}){hint}")
    if len(lines) == 1:
        return f"invalid scenario: {lines[0]}"
    return "invalid scenario: " + "; ".join(lines)
