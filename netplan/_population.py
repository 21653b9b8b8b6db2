"""The ONS mid-2018 LSOA population table, parsed once and kept as a derived file.

Parsing the ONS workbook (``ons-lsoa-population``, 35,000 rows in an .xlsx) takes 5-8 s,
which was most of a small scenario's run time (``rutland_small``): every process paid it
before any study-area filter could apply. :func:`lsoa_population` parses the workbook once,
stores the two columns it needs (code, population) as ``derived/lsoa-population-<key>.npz``
in :data:`netplan.settings.cache_folder` (keyed by the workbook's path, size and mtime, like
:func:`netplan.profiles.density_surface`) and later processes read that in milliseconds.
An unreadable derived file is rebuilt; a read-only cache only costs time.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from . import settings
from ._errors import DataError
from ._validate import check_columns

logger = logging.getLogger(__name__)

#: The sheet and header row of the ONS workbook that hold mid-2018 LSOA populations.
SHEET = "Mid-2018 Population Density"
HEADER_ROW = 4


def read_workbook(path: Path) -> pd.DataFrame:
    """Parse the ONS workbook: ``id`` (LSOA 2011 code) and ``population`` (may hold NaN)."""
    try:
        pop = pd.read_excel(path, sheet_name=SHEET, header=HEADER_ROW)
    except (ValueError, KeyError, OSError) as exc:
        msg = f"{path.name}: cannot read sheet {SHEET!r} ({exc})"
        raise DataError(msg) from exc
    check_columns(pop, ["Code", "Mid-2018 population"], source=path.name)
    pop = pop.rename(columns={"Code": "id", "Mid-2018 population": "population"})
    pop = pop.dropna(subset=["id"])[["id", "population"]]
    return pd.DataFrame(
        {"id": pop["id"].astype(str).to_numpy(), "population": pop["population"].to_numpy()}
    )


def derived_file(path: Path) -> Path:
    """Where the parsed copy of workbook ``path`` is kept."""
    st = path.stat()
    stamp = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    key = hashlib.sha1(stamp.encode()).hexdigest()[:16]
    return Path(settings.cache_folder) / "derived" / f"lsoa-population-{key}.npz"


def lsoa_population(path: Path) -> pd.DataFrame:
    """The ``id, population`` table of workbook ``path``, from its derived file if present.

    Values are exactly those :func:`read_workbook` returns (codes as text, populations as
    float64 with NaN kept), so the checks of :func:`netplan.data.load_lsoa_zones` see the
    same table either way.
    """
    cache = derived_file(path)
    if cache.is_file():
        try:
            with open(cache, "rb") as fh, np.load(fh, allow_pickle=False) as z:
                ids, population = z["id"], z["population"]
            if len(ids) != len(population) or not len(ids):
                msg = "arrays of different lengths"
                raise ValueError(msg)
            return pd.DataFrame({"id": ids.astype(str).astype(object), "population": population})
        except Exception as exc:
            logger.warning("rebuilding unreadable derived file %s (%s)", cache, exc)
    table = read_workbook(path)
    try:
        from ._io import atomic_path

        cache.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(cache) as tmp, open(tmp, "wb") as fh:
            np.savez(
                fh,
                id=table["id"].to_numpy(dtype=str),
                population=pd.to_numeric(table["population"], errors="coerce").to_numpy(float),
            )
    except (OSError, ValueError) as exc:  # a read-only cache only costs time
        logger.warning("cannot cache %s (%s)", cache, exc)
    return table
