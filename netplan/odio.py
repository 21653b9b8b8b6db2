"""Fast writers for long OD tables: CSV and Parquet through pyarrow.

pandas' ``to_csv`` formats every float in Python (about half of ``netplan traveltimes``
for 32,844 x 150 sites); here the minutes are turned into text by Arrow's compute kernels
(``round(minutes * 10**decimals)`` split into whole and fractional digits) and the table is
written by Arrow's CSV writer, which gives the same text as ``float_format="%.3f"`` except
where a value sits within a float's rounding error of a half-step. Text ids are written
unquoted; a table with a text value that needs quotes goes through pandas instead.
Parquet keeps the minutes as float64, unrounded, with the table's metadata (``od.attrs``)
in the file's key-value metadata as well as in ``<path>.meta.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ._io import atomic_path

#: Output formats of :func:`write_od` by name, and the extension each implies.
OD_FORMATS = {"csv": ".csv", "parquet": ".parquet"}


def od_format(path: str | Path, fmt: str | None = None) -> str:
    """The format to write ``path`` in: ``fmt`` if given, else by extension (CSV by default)."""
    if fmt is not None:
        return fmt
    return "parquet" if Path(path).suffix.lower() in {".parquet", ".pq"} else "csv"


def write_od(
    od: pd.DataFrame, path: str | Path, *, fmt: str | None = None, decimals: int = 3
) -> Path:
    """Write an OD table as CSV or Parquet atomically, with ``<path>.meta.json`` beside it."""
    path = Path(path)
    fmt = od_format(path, fmt)
    if fmt not in OD_FORMATS:
        msg = f"{path}: unknown OD table format {fmt!r}; use one of {sorted(OD_FORMATS)}."
        raise ValueError(msg)
    with atomic_path(path) as tmp:
        if fmt == "csv":
            _write_csv(od, tmp, decimals=decimals)
        else:
            _write_parquet(od, tmp)
    if od.attrs:
        meta = path.with_name(path.name + ".meta.json")
        with atomic_path(meta) as tmp:
            tmp.write_text(json.dumps(dict(od.attrs), indent=1, sort_keys=True) + "\n")
    return path


def _fixed_text(values: np.ndarray, decimals: int) -> object:
    """Arrow strings of ``values`` with exactly ``decimals`` decimals (empty for NaN).

    Each distinct step ``k`` of ``10**-decimals`` between the smallest and largest value is
    formatted once (90,001 strings for 0-90 min at 3 decimals) and the column is a ``take``
    from that list; a range wider than :data:`_LOOKUP_MAX` is formatted value by value.
    """
    import pyarrow as pa

    x = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(x)
    scaled = np.rint(np.where(finite, x, 0.0) * 10.0**decimals).astype(np.int64)
    lo, hi = (int(scaled.min()), int(scaled.max())) if len(scaled) else (0, 0)
    if hi - lo <= _LOOKUP_MAX:
        text = _steps_text(np.arange(lo, hi + 1, dtype=np.int64), decimals).take(
            pa.array(scaled - lo)
        )
    else:
        text = _steps_text(scaled, decimals)
    if not finite.all():
        import pyarrow.compute as pc

        text = pc.if_else(pa.array(finite), text, pa.nulls(len(x), pa.string()))
    return text


#: Widest range of steps formatted once as a lookup list (see :func:`_fixed_text`).
_LOOKUP_MAX = 4_000_000


def _steps_text(scaled: np.ndarray, decimals: int) -> object:
    """Arrow strings of the integers ``scaled`` read as multiples of ``10**-decimals``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    neg = scaled < 0
    mag = np.abs(scaled)
    whole = pa.array(mag // 10**decimals).cast(pa.string())
    if decimals > 0:
        frac = pc.utf8_lpad(pa.array(mag % 10**decimals).cast(pa.string()), decimals, "0")
        text = pc.binary_join_element_wise(whole, frac, ".")
    else:
        text = whole
    if neg.any():
        text = pc.if_else(pa.array(neg), pc.binary_join_element_wise("-", text, ""), text)
    return text


def _arrow_table(od: pd.DataFrame, *, decimals: int | None) -> object:
    import pyarrow as pa

    cols = {}
    for name in od.columns:
        col = od[name]
        if decimals is not None and pd.api.types.is_float_dtype(col.dtype):
            cols[str(name)] = _fixed_text(col.to_numpy(), decimals)
        elif pd.api.types.is_numeric_dtype(col.dtype):
            cols[str(name)] = pa.array(col.to_numpy())
        elif isinstance(col.dtype, pd.StringDtype):  # Arrow-backed under pandas 3: no copy
            cols[str(name)] = pa.array(col.array)
        else:
            cols[str(name)] = pa.array(col.astype(str).to_numpy(dtype=object), pa.string())
    return pa.table(cols)


def _write_csv(od: pd.DataFrame, path: Path, *, decimals: int) -> None:
    import csv

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    table = _arrow_table(od, decimals=decimals)
    # a text value holding a comma, quote or line break (tested on the distinct values)
    text = [
        table[str(c)]
        for c in od.columns
        if not pd.api.types.is_numeric_dtype(od[c].dtype)  # ids, not formatted minutes
    ]
    needs_quotes = any(
        pc.any(pc.match_substring_regex(pc.unique(col), r'[,"\r\n]')).as_py() for col in text
    )
    if needs_quotes:  # rare: pandas quotes just those values
        od.to_csv(path, index=False, float_format=f"%.{decimals}f")
        return
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
    with open(path, "w", newline="", encoding="utf-8") as f:  # the header as pandas writes it
        csv.writer(f, lineterminator="\n").writerow([str(c) for c in od.columns])
    with pa.OSFile(str(path), "ab") as sink:
        pacsv.write_csv(table, sink, options)


def _write_parquet(od: pd.DataFrame, path: Path) -> None:
    import pyarrow.parquet as pq

    table = _arrow_table(od, decimals=None)
    meta = {b"netplan": json.dumps(dict(od.attrs), sort_keys=True).encode()}
    pq.write_table(table.replace_schema_metadata(meta), path)
