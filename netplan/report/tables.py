"""HTML tables of the report pages: value formats, text left and numbers right, groups.

:func:`html_table` renders a DataFrame with a format per column (``pct``, ``gbp``, ``int``,
``1`` for one decimal), aligns number columns right and text columns left, can split the
rows into labelled groups (e.g. static and mobile sites) and wraps the table in a box that
scrolls sideways on a narrow screen, so the page itself never overflows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

#: Formats that hold numbers (right-aligned).
NUMBER_FORMATS = frozenset({"pct", "gbp", "int", "1"})


def _pct(share: float) -> str:
    """A share as a percentage with one decimal, or two where one would round a shortfall
    away (99.96 % is not "100.0 %", 0.04 % is not "0.0 %").

    >>> _pct(0.9996), _pct(1.0), _pct(0.4), _pct(0.0004), _pct(0.99999)
    ('99.96 %', '100.0 %', '40.0 %', '0.04 %', '> 99.99 %')
    """
    p = 100 * share
    text = f"{p:.1f}"
    if (text == "100.0" and p < 100) or (text in ("0.0", "-0.0") and p > 0):
        text = f"{p:.2f}"
        if text == "100.00":
            return "> 99.99 %"
    return f"{text} %"


def _fmt(v: Any, kind: str = "") -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if isinstance(v, (np.bool_, bool)):
        return "yes" if v else "no"
    if kind == "pct":
        return _pct(float(v))
    if kind == "gbp":
        return f"£{float(v):,.0f}"
    if kind == "int":
        return f"{round(float(v)):,}"
    if kind == "1":
        return f"{float(v):,.1f}"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        return f"{float(v):,.2f}"
    return str(v)


def _is_number_column(df: pd.DataFrame, column: str, kind: str) -> bool:
    if kind:
        return kind in NUMBER_FORMATS
    dtype = df[column].dtype
    return bool(pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype))


def html_table(
    df: pd.DataFrame,
    formats: Mapping[str, str] | None = None,
    *,
    labels: Mapping[str, str] | None = None,
    row_class: Sequence[str] | None = None,
    groups: Sequence[str] | None = None,
    numeric: Sequence[str] = (),
) -> str:
    """Render a DataFrame as an HTML table with per-column formats (escaped).

    Parameters
    ----------
    df
        The rows to show, in order.
    formats
        Column -> {"pct", "gbp", "int", "1", ""}; number formats are right-aligned.
    labels
        Column -> header text.
    row_class
        A CSS class per row ("" for none).
    groups
        A group label per row: a heading row is put before each run of equal labels.
    numeric
        Columns of preformatted numbers (text) to right-align as well.

    Returns
    -------
    str
        ``<div class="table-wrap"><table class="data">...</table></div>``.
    """
    from markupsafe import escape

    formats = dict(formats or {})
    labels = dict(labels or {})
    # number cells carry class "n" (right-aligned); text cells none (left-aligned)
    align = {
        c: ' class="n"' if c in numeric or _is_number_column(df, c, formats.get(c, "")) else ""
        for c in df.columns
    }
    head = "".join(f"<th{align[c]}>{escape(labels.get(c, c))}</th>" for c in df.columns)
    body = []
    previous = None
    for i, row in enumerate(df.itertuples(index=False)):
        if groups is not None and groups[i] != previous:
            previous = groups[i]
            body.append(
                f'<tr class="group"><th colspan="{len(df.columns)}">{escape(groups[i])}</th></tr>'
            )
        cls = f' class="{row_class[i]}"' if row_class is not None and row_class[i] else ""
        cells = "".join(
            f"<td{align[c]}>{escape(_fmt(v, formats.get(c, '')))}</td>"
            for c, v in zip(df.columns, row, strict=True)
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    rows = "".join(body)
    return (
        f'<div class="table-wrap"><table class="data"><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )
