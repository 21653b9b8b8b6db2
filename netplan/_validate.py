"""Input checks shared by the loaders and the CLI.

Each check raises :class:`netplan.ValidationError` with the source (file or table name),
the offending rows and the fix, so a user can correct the input without reading code.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from ._errors import ValidationError

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
    if values.isna().any():
        bad = df.index[values.isna()]
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
    bad = np.isnan(values) | (values < 0) | ((values == 0) & (not allow_zero))
    if bad.any():
        labels = df[id_column] if id_column else pd.Series(df.index, index=df.index)
        kind = "negative or missing" if allow_zero else "zero, negative or missing"
        msg = (
            f"{source}: {column!r} is {kind} in row(s) {_rows(labels[bad])}; "
            "correct the values or drop the rows."
        )
        raise ValidationError(msg)
