"""Input checks shared by the loaders and the CLI.

Each check raises :class:`netplan.ValidationError` with the source (file or table name),
the offending rows and the fix, so a user can correct the input without reading code.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._errors import ValidationError
from ._io import decode_utf8, read_bytes
from ._yaml import YamlBool

#: Bounding box of Great Britain and its islands in WGS84 (lon_min, lat_min, lon_max, lat_max).
GB_BOUNDS = (-8.75, 49.8, 1.9, 60.95)
_MAX_LISTED = 10


def _rows(index: Iterable[object]) -> str:
    """Format row labels for a message, at most ten of them."""
    items = list(index)
    shown = ", ".join(str(i) for i in items[:_MAX_LISTED])
    more = f" and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else ""
    return f"{shown}{more}"


def check_columns(df: pd.DataFrame, columns: Sequence[str], *, source: str) -> None:
    """Raise if any of ``columns`` is missing from ``df``.

    Raises
    ------
    ValidationError
        Naming the missing columns and those present.
    """
    missing = [c for c in columns if c not in df.columns]
    if missing:
        msg = (
            f"{source}: missing column(s) {missing}; expected {list(columns)}, "
            f"found {list(map(str, df.columns))}. Rename or add the columns."
        )
        raise ValidationError(msg)


def check_unique(df: pd.DataFrame, column: str, *, source: str) -> None:
    """Raise if ``column`` has duplicate or missing values.

    Raises
    ------
    ValidationError
        Listing the duplicated values.
    """
    check_columns(df, [column], source=source)
    values = df[column]
    empty = values.isna() | values.map(lambda v: isinstance(v, str) and not v.strip())
    if empty.any():
        bad = df.index[empty.to_numpy(dtype=bool)]
        msg = f"{source}: empty {column!r} in row(s) {_rows(bad)}; every row needs an id."
        raise ValidationError(msg)
    dup = values[values.duplicated(keep=False)]
    if len(dup):
        msg = (
            f"{source}: duplicate {column!r} value(s) {_rows(sorted(set(map(str, dup))))}; "
            "ids must be unique: remove or rename the repeated rows."
        )
        raise ValidationError(msg)


def check_lonlat(
    df: pd.DataFrame,
    *,
    source: str,
    lon: str = "lon",
    lat: str = "lat",
    id_column: str | None = None,
    bounds: tuple[float, float, float, float] = GB_BOUNDS,
) -> pd.DataFrame:
    """Check WGS84 coordinates: numeric, present, inside Great Britain, not swapped.

    Parameters
    ----------
    df
        The table to check.
    source
        File or table name used in messages.
    lon, lat
        Column names.
    id_column
        Column used to name bad rows (the index if None).
    bounds
        (lon_min, lat_min, lon_max, lat_max) accepted.

    Returns
    -------
    pandas.DataFrame
        ``df`` with ``lon``/``lat`` converted to float.

    Raises
    ------
    ValidationError
        Naming the rows with missing, non-numeric, swapped or out-of-area coordinates.
    """
    check_columns(df, [lon, lat], source=source)
    out = df.copy()
    labels = out[id_column] if id_column and id_column in out.columns else pd.Series(out.index)
    labels.index = out.index
    for col in (lon, lat):
        numeric = pd.to_numeric(out[col], errors="coerce")
        bad = numeric.isna()
        if bad.any():
            msg = (
                f"{source}: {col!r} is missing or not a number in row(s) "
                f"{_rows(labels[bad])}; give decimal degrees (WGS84), e.g. -1.55 / 53.80."
            )
            raise ValidationError(msg)
        out[col] = numeric.astype(float)
    x, y = out[lon].to_numpy(), out[lat].to_numpy()
    lon_min, lat_min, lon_max, lat_max = bounds
    inside = (x >= lon_min) & (x <= lon_max) & (y >= lat_min) & (y <= lat_max)
    swapped = (y >= lon_min) & (y <= lon_max) & (x >= lat_min) & (x <= lat_max) & ~inside
    if swapped.any():
        msg = (
            f"{source}: row(s) {_rows(labels[swapped])} look like latitude and longitude are "
            f"swapped ({lon}={x[swapped][0]:.4f}, {lat}={y[swapped][0]:.4f}); "
            f"{lon!r} is east-west (-6 to 2 in Great Britain), {lat!r} north-south (50 to 61)."
        )
        raise ValidationError(msg)
    if not inside.all():
        bad = ~inside
        msg = (
            f"{source}: row(s) {_rows(labels[bad])} lie outside Great Britain "
            f"(first: {lon}={x[bad][0]:.4f}, {lat}={y[bad][0]:.4f}); "
            "check the coordinates are WGS84 degrees, not metres or another CRS."
        )
        raise ValidationError(msg)
    return out


def check_positive(
    df: pd.DataFrame,
    column: str,
    *,
    source: str,
    id_column: str | None = None,
    allow_zero: bool = False,
) -> None:
    """Raise if ``column`` has missing, zero (unless allowed) or negative values.

    Raises
    ------
    ValidationError
        Listing the offending rows.
    """
    check_columns(df, [column], source=source)
    values = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0) | ((values == 0) & (not allow_zero))
    if bad.any():
        labels = df[id_column] if id_column else pd.Series(df.index, index=df.index)
        kind = "negative or missing" if allow_zero else "zero, negative or missing"
        msg = (
            f"{source}: {column!r} is {kind} in row(s) {_rows(labels[bad])}; "
            "correct the values (finite numbers) or drop the rows."
        )
        raise ValidationError(msg)


# ---------------------------------------------------------------------------- numbers
def check_number(
    value: Any,
    name: str,
    *,
    minimum: float | None = 0.0,
    allow_equal: bool = False,
    maximum: float | None = None,
    allow_none: bool = False,
) -> float | None:
    """Return ``value`` as a finite float, or raise naming the option ``name``.

    Booleans, text, NaN and infinities are refused; ``minimum`` (exclusive unless
    ``allow_equal``) and ``maximum`` (inclusive) bound it.

    Examples
    --------
    >>> check_number(30, "max_minutes")
    30.0
    >>> check_number(float("nan"), "max_minutes")
    Traceback (most recent call last):
    ...
    netplan._errors.ValidationError: max_minutes must be a positive finite number, got nan
    """
    if value is None and allow_none:
        return None
    if minimum is None:
        want = "a finite number"
    elif minimum == 0 and not allow_equal:
        want = "a positive finite number"
    else:
        want = f"a finite number {'>=' if allow_equal else 'greater than'} {minimum:g}"
    if maximum is not None:
        want += f" and at most {maximum:g}"
    if isinstance(value, (bool, np.bool_, YamlBool)) or not isinstance(
        value, (int, float, np.number)
    ):
        msg = f"{name} must be {want}, got {value!r}"
        raise ValidationError(msg)
    v = float(value)
    low_ok = minimum is None or (v >= minimum if allow_equal else v > minimum)
    if not (math.isfinite(v) and low_ok and (maximum is None or v <= maximum)):
        msg = f"{name} must be {want}, got {value!r}"
        raise ValidationError(msg)
    return v


# ---------------------------------------------------------------------------- tables
def read_csv_table(
    path: str | Path,
    *,
    what: str = "CSV file",
    text_columns: Sequence[str] = ("id",),
    required: Sequence[str] = (),
) -> pd.DataFrame:
    """Read a user's CSV file: UTF-8 checked, id columns kept as text exactly as written.

    ``text_columns`` are read as strings (``007`` stays ``"007"``, ``1.10`` stays
    ``"1.10"``); only empty cells count as missing (``NA`` is a valid id). Other columns
    are parsed by pandas as usual.

    Raises
    ------
    ValidationError
        A missing, unreadable, non-UTF-8, empty or malformed file (with the line), or a
        missing ``required`` column.
    """
    path = Path(path)
    text = decode_utf8(read_bytes(path, what=what), source=str(path))
    if not text.strip():
        msg = f"{path}: the {what} is empty; give a header row and at least one data row"
        raise ValidationError(msg)
    try:
        header = pd.read_csv(io.StringIO(text), nrows=0).columns
        dtype = {c: str for c in text_columns if c in header}
        df = pd.read_csv(
            io.StringIO(text),
            dtype=dtype,  # type: ignore[arg-type]
            keep_default_na=False,
            na_values={c: [""] for c in header},
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        detail = " ".join(str(exc).split())
        msg = f"{path}: cannot be read as CSV ({detail}); check the separators and quotes"
        raise ValidationError(msg) from None
    df.columns = [str(c).strip() for c in df.columns]
    if required:
        check_columns(df, required, source=str(path))
    return df


def check_od(
    od: pd.DataFrame,
    *,
    source: str = "od",
    origin_col: str = "origin_id",
    destination_col: str = "destination_id",
    value_col: str = "minutes",
    origins: Iterable[Any] | None = None,
    destinations: Iterable[Any] | None = None,
    origin_what: str = "zones",
    destination_what: str = "sites",
) -> None:
    """Check a long-form OD table: numeric, finite, non-negative minutes and known ids.

    Raises
    ------
    ValidationError
        Naming the first offending rows (index labels and values), e.g. ids that match no
        zone or site, or negative, missing or infinite minutes.
    """
    if not isinstance(od, pd.DataFrame):
        msg = f"{source}: expected a DataFrame ({origin_col}, {destination_col}, {value_col})"
        raise ValidationError(msg)
    check_columns(od, [origin_col, destination_col, value_col], source=source)
    raw = od[value_col]
    if pd.api.types.is_bool_dtype(raw) or (
        raw.dtype == object and raw.map(lambda v: isinstance(v, (bool, np.bool_))).any()
    ):
        msg = f"{source}: {value_col!r} holds true/false values; give minutes as numbers"
        raise ValidationError(msg)
    if pd.api.types.is_float_dtype(raw):
        minutes = raw.to_numpy(dtype=float)
    else:
        minutes = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(minutes) | (minutes < 0)
    if bad.any():
        rows = od.loc[bad, [origin_col, destination_col, value_col]].head(_MAX_LISTED // 2)
        shown = "; ".join(
            f"row {idx}: {r[origin_col]} -> {r[destination_col]} = {r[value_col]!r}"
            for idx, r in rows.iterrows()
        )
        msg = (
            f"{source}: {int(bad.sum()):,} row(s) have negative, missing or non-finite "
            f"{value_col!r} ({shown}); give travel times >= 0 and leave unreachable pairs out"
        )
        raise ValidationError(msg)
    for col, known, what in (
        (origin_col, origins, origin_what),
        (destination_col, destinations, destination_what),
    ):
        if known is None:
            continue
        unknown = ~od[col].isin(pd.Index(list(known)))
        if unknown.any():
            rows = od.loc[unknown, [col]].head(_MAX_LISTED // 2)
            shown = ", ".join(f"row {idx}: {v!r}" for idx, v in rows[col].items())
            msg = (
                f"{source}: {int(unknown.sum()):,} row(s) name {col} values that match no "
                f"{what} ({shown}); the ids must be those of the {what} given (same spelling "
                "and type)"
            )
            raise ValidationError(msg)
