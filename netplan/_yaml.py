"""Strict YAML for the files users write (scenarios, speed profiles, ``--set`` values).

PyYAML's ``safe_load`` quietly keeps the last of two equal keys and turns ``yes``, ``007``
and ``1.10`` into ``True``, ``7`` and ``1.1``. :func:`load` reads the same documents but

* refuses a key given twice in one mapping, naming the key and both lines;
* keeps the text of every number and boolean: its values are :class:`YamlInt`,
  :class:`YamlFloat` and :class:`YamlBool`, which behave as ``int``/``float`` but carry
  ``yaml_text`` (``"007"``, ``"1.10"``, ``"yes"``), so the scenario schema can read an id
  exactly as written and tell a YAML boolean from a number (``drive_minutes: yes``).

:func:`plain` turns such values back into built-in types (for ``yaml.safe_dump``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ._errors import ValidationError
from ._io import read_text


class _Scalar:
    """Mixin of the YAML scalar types: the source text and a readable repr."""

    yaml_text: str

    def __repr__(self) -> str:
        return self.yaml_text


class YamlInt(_Scalar, int):
    """An integer read from YAML, with the text it was written as (``yaml_text``)."""


class YamlFloat(_Scalar, float):
    """A float read from YAML, with the text it was written as (``yaml_text``)."""


class YamlBool(_Scalar, int):
    """A YAML boolean (``true``, ``yes``, ``on`` ...): an int 0/1 that keeps its text.

    Python's ``bool`` cannot be subclassed; code that wants a bool calls ``bool(value)``.
    """


def _wrap(cls: type, value: Any, text: str) -> Any:
    out = cls(value)
    out.yaml_text = text
    return out


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and keeps the text of numbers and booleans."""

    def construct_yaml_int(self, node: yaml.ScalarNode) -> Any:
        return _wrap(YamlInt, super().construct_yaml_int(node), node.value)

    def construct_yaml_float(self, node: yaml.ScalarNode) -> Any:
        return _wrap(YamlFloat, super().construct_yaml_float(node), node.value)

    def construct_yaml_bool(self, node: yaml.ScalarNode) -> Any:
        return _wrap(YamlBool, int(super().construct_yaml_bool(node)), node.value)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                continue  # SafeLoader reports unhashable keys itself
            norm = plain(key)
            line = key_node.start_mark.line + 1
            if norm in seen:
                msg = (
                    f"line {line}: key {key_node.value!r} is given twice in one mapping "
                    f"(first on line {seen[norm]}); keep one of them"
                )
                raise _DuplicateKeyError(msg)
            seen[norm] = line
        return super().construct_mapping(node, deep=deep)


class _DuplicateKeyError(yaml.YAMLError):
    pass


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _StrictLoader.construct_yaml_float)
_StrictLoader.add_constructor("tag:yaml.org,2002:bool", _StrictLoader.construct_yaml_bool)


def load(text: str, *, source: str = "YAML") -> Any:
    """Parse one YAML document strictly (see the module docstring).

    Raises
    ------
    ValidationError
        On a syntax error or a duplicate key, naming ``source`` and the line.

    Examples
    --------
    >>> doc = load("ids: [007, 1.10]\\nflag: yes\\n")
    >>> [v.yaml_text for v in doc["ids"]], int(doc["flag"])
    (['007', '1.10'], 1)
    >>> load("a: 1\\na: 2\\n", source="x.yaml")
    Traceback (most recent call last):
    ...
    netplan._errors.ValidationError: x.yaml: line 2: key 'a' is given twice in one mapping \
(first on line 1); keep one of them
    """
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except _DuplicateKeyError as exc:
        msg = f"{source}: {exc}"
        raise ValidationError(msg) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        msg = f"{source}: not valid YAML: {where}{problem}"
        raise ValidationError(" ".join(msg.split())) from None


def load_file(path: str | Path, *, what: str = "YAML file") -> Any:
    """Read a UTF-8 YAML file strictly; every failure is a one-line :class:`ValidationError`."""
    path = Path(path)
    return load(read_text(path, what=what), source=str(path))


def plain(value: Any) -> Any:
    """``value`` with YAML scalar types turned into ``int``/``float``/``bool``, recursively."""
    if isinstance(value, YamlBool):
        return bool(int(value))
    if isinstance(value, YamlInt):
        return int(value)
    if isinstance(value, YamlFloat):
        return float(value)
    if isinstance(value, Mapping):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def text_of(value: Any) -> str | None:
    """The YAML source text of a scalar read by :func:`load` (None for other values)."""
    return getattr(value, "yaml_text", None)
