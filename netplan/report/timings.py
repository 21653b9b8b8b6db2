"""Stage timings of a run: where the time of ``netplan run`` went.

:func:`netplan.report.write_result` puts the table in ``scenario.resolved.yaml`` (key
``stage_timings``, beside the run's ``timings_s`` and ``write_timings_s``), not in a CSV:
a run folder's CSVs stay byte-identical between runs.

One row per stage in the order they ran: the run's steps (network, demand, sites, drive
times, placement, capacity, isochrones, profile sensitivity) from the provenance's
``timings_s``, the placement split into its model build and each solve stage (the
records the placement result carries) with what is left of the step as ``other``, then
each output writer (tables, workbook, GeoPackage, map, report) as
:func:`netplan.report.write_result` times them. ``share_pct`` is each row's share of the
rows' total. Wall-clock seconds (``time.perf_counter``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pandas as pd


@contextmanager
def timed(into: dict[str, float], name: str) -> Iterator[None]:
    """Add the wall-clock seconds of the ``with`` block to ``into[name]``."""
    t0 = time.perf_counter()
    try:
        yield
    finally:
        into[name] = round(into.get(name, 0.0) + time.perf_counter() - t0, 3)


def stage_table(
    provenance: Mapping[str, Any], write_s: Mapping[str, float] | None = None
) -> pd.DataFrame:
    """The stages of a run and their seconds: ``group, stage, seconds, share_pct``."""
    rows: list[tuple[str, str, float]] = []
    solve = list(provenance.get("placement_stages_s") or [])
    for name, seconds in dict(provenance.get("timings_s") or {}).items():
        if name == "placement" and solve:
            build = float(provenance.get("build_time_s") or 0.0)
            rows.append(("placement", "model build", build))
            rows += [("placement", f"solve: {label}", float(s)) for label, s in solve]
            rest = float(seconds) - build - sum(float(s) for _, s in solve)
            rows.append(("placement", "other", max(rest, 0.0)))
        else:
            rows.append(("run", str(name), float(seconds)))
    rows += [("write", str(name), float(s)) for name, s in dict(write_s or {}).items()]
    table = pd.DataFrame(rows, columns=["group", "stage", "seconds"])
    total = table["seconds"].sum()
    table["seconds"] = table["seconds"].round(3)
    table["share_pct"] = (100.0 * table["seconds"] / total).round(1) if total > 0 else 0.0
    return table
