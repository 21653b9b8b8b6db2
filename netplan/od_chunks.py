"""Drive-time tables too big for one process: chunks of destinations (or origins) as tasks.

:func:`od_to_parquet` splits the destinations (or the origins) into chunks of
``chunk_size`` points, runs :func:`netplan.traveltime.od_matrix` for each chunk as one task
of :func:`netplan.executors.map_tasks` (serially, in local processes or on a Dask cluster;
the graph is the shared input, sent once per worker) and writes each chunk's rows to a
partition of a Parquet dataset::

    OUT/chunk=00000/part.parquet
    OUT/chunk=00001/part.parquet
    ...

so no process ever holds the whole table. :func:`read_od_parquet` reads it back (whole, or
the chunks asked for) in the long form of ``od_matrix`` (``origin_id, destination_id,
minutes``). Each task measures its own peak memory (``tracemalloc``: the Python and NumPy
allocations of the chunk, the graph excluded) and time; the returned table lists them.

The folder is written atomically and owned by netplan's ``.netplan-output`` marker
(:func:`netplan.report.folder.atomic_folder`). Workers write their chunk straight into the
folder's temporary sibling, so the workers of an existing cluster need the same file system
(a shared disk) at the same path.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import executors
from ._errors import ValidationError

logger = logging.getLogger(__name__)

_SPLITS = ("destinations", "origins")


def chunk_names(n_chunks: int) -> list[str]:
    """The relative paths of the partitions of ``n_chunks`` chunks."""
    return [f"chunk={i:05d}/part.parquet" for i in range(n_chunks)]


def _chunk_task(item: dict[str, Any], G: Any) -> dict[str, Any]:
    import tracemalloc

    from . import traveltime

    t0 = time.perf_counter()
    tracemalloc.start()
    try:
        od = traveltime.od_matrix(G, item["origins"], item["destinations"], **item["options"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    path = Path(item["path"])
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(od).to_parquet(path, index=False)
    return {
        "chunk": item["chunk"],
        "origins": len(item["origins"]),
        "destinations": len(item["destinations"]),
        "rows": len(od),
        "seconds": round(time.perf_counter() - t0, 3),
        "peak_memory_mb": round(peak / 2**20, 1),
    }


def od_to_parquet(
    G: Any,
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    out_dir: str | Path,
    *,
    chunk_size: int,
    split: str = "destinations",
    force: bool = False,
    executor: str = "serial",
    scheduler: str | None = None,
    workers: int | None = None,
    **od_options: Any,
) -> pd.DataFrame:
    """Write the drive-time table of ``origins`` x ``destinations`` as partitioned Parquet.

    Parameters
    ----------
    G
        The drive graph.
    origins, destinations
        ``id, lon, lat`` tables, as :func:`netplan.traveltime.od_matrix` takes.
    out_dir
        The dataset folder (created; netplan's marker owns its files).
    chunk_size
        Points of the split side per chunk (task).
    split
        {"destinations", "origins"}: the side cut into chunks.
    force
        As :func:`netplan.report.folder.atomic_folder`.
    executor, scheduler, workers
        As :func:`netplan.executors.map_tasks`.
    od_options
        ``max_minutes``, ``on_outside``, ... passed to ``od_matrix``.

    Returns
    -------
    pandas.DataFrame
        One row per chunk: ``chunk, origins, destinations, rows, seconds,
        peak_memory_mb``.

    Raises
    ------
    ValidationError
        For a bad ``split`` or ``chunk_size``; as ``od_matrix`` for bad points.
    """
    from .report.folder import atomic_folder, check_output_folder

    if split not in _SPLITS:
        msg = f"split must be one of {list(_SPLITS)}, got {split!r}"
        raise ValidationError(msg)
    if isinstance(chunk_size, bool) or int(chunk_size) != chunk_size or chunk_size < 1:
        msg = f"chunk_size must be a whole number >= 1, got {chunk_size!r}"
        raise ValidationError(msg)
    side = destinations if split == "destinations" else origins
    starts = range(0, len(side), int(chunk_size))
    names = chunk_names(len(starts))
    check_output_folder(out_dir, force=force, names=names)
    t0 = time.perf_counter()
    with atomic_folder(out_dir, force=force) as tmp:
        items = []
        for i, start in enumerate(starts):
            part = pd.DataFrame(side.iloc[start : start + int(chunk_size)])
            items.append(
                {
                    "chunk": i,
                    "origins": origins if split == "destinations" else part,
                    "destinations": part if split == "destinations" else destinations,
                    "options": od_options,
                    "path": str(tmp / names[i]),
                }
            )
        stats = executors.map_tasks(
            _chunk_task,
            items,
            shared=G,
            executor=executor,
            scheduler=scheduler,
            workers=workers,
            labels=[f"OD chunk {i}" for i in range(len(items))],
        )
    table = pd.DataFrame(stats)
    logger.info(
        "OD to Parquet: %d x %d points in %d chunk(s), %s rows, %.1f s (peak %.0f MB a chunk)",
        len(origins),
        len(destinations),
        len(table),
        f"{int(table['rows'].sum()):,}" if len(table) else "0",
        time.perf_counter() - t0,
        float(table["peak_memory_mb"].max()) if len(table) else 0.0,
    )
    return table


def read_od_parquet(folder: str | Path, *, chunks: list[int] | None = None) -> pd.DataFrame:
    """Read a dataset of :func:`od_to_parquet` (all chunks, or those in ``chunks``).

    Returns
    -------
    pandas.DataFrame
        ``origin_id, destination_id, minutes`` (chunk by chunk, each in ``od_matrix``
        order).

    Raises
    ------
    ValidationError
        If the folder has no chunk files.
    """
    folder = Path(folder)
    files = sorted(folder.glob("chunk=*/part.parquet"))
    if chunks is not None:
        want = {f"chunk={int(i):05d}" for i in chunks}
        files = [f for f in files if f.parent.name in want]
    if not files:
        msg = f"{folder}: no OD chunks (chunk=NNNNN/part.parquet); write them with od_to_parquet"
        raise ValidationError(msg)
    parts = [pd.read_parquet(f) for f in files]
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def chunk_size_for(memory_mb: float, per_point_mb: float) -> int:
    """The chunk size that keeps a task under ``memory_mb``, given a measured
    ``per_point_mb`` (a chunk's ``peak_memory_mb`` over its points)."""
    return max(1, int(np.floor(float(memory_mb) / max(float(per_point_mb), 1e-9))))
