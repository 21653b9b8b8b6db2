"""The tables of a result and their files: stable CSVs and the XLSX workbook.

Floats are rounded to :data:`CSV_DECIMALS` and geometry dropped (:func:`_stable`), so the
same scenario run twice gives byte-identical CSVs; :func:`compare` is the comparison table.
A new output table goes here (and into :func:`write_tables` or :mod:`.workbook`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._errors import ValidationError

if TYPE_CHECKING:
    from ._types import ScenarioResult

#: Contract target: cost per scan cut by 18 % (LGC 5082106, DOMAIN.md section 2).
CONTRACT_SAVING_TARGET = 0.18
#: Decimals kept in CSV/XLSX outputs (stable across runs and platforms).
CSV_DECIMALS = 4


def _stable(df: pd.DataFrame) -> pd.DataFrame:
    """Round floats and drop geometry so tables are stable across runs."""
    out = pd.DataFrame(df).copy()
    if "geometry" in out.columns:
        out = out.drop(columns="geometry")
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            vals = out[col].round(CSV_DECIMALS)
            out[col] = vals.where(vals != 0, 0.0)  # no "-0.0"
        elif out[col].dtype == object:
            out[col] = out[col].map(lambda v: round(v, CSV_DECIMALS) if isinstance(v, float) else v)
    return out


def _write_csv(df: pd.DataFrame, path: Path) -> Path:
    _stable(df).to_csv(path, index=False, lineterminator="\n")
    return path


def summary_table(result: ScenarioResult) -> pd.DataFrame:
    """Headline figures as one row (no run times: identical across identical runs)."""
    return pd.DataFrame([result.totals])


def uncovered_zones(result: ScenarioResult) -> pd.DataFrame:
    """Zones not served within the standard, with the optimiser's reason."""
    z = pd.DataFrame(result.zones)
    if "covered" not in z.columns:
        return z.iloc[:0]
    bad = z[~z["covered"].fillna(False).astype(bool)]
    cols = [
        c
        for c in (
            "zone_id",
            "name",
            "icb_name",
            "lot",
            "population",
            "scans_per_year",
            "nearest_open_minutes",
            "uncovered_share",
            "uncovered_reason",
        )
        if c in bad.columns
    ]
    return bad[cols].sort_values(
        ["population", "zone_id"], ascending=[False, True], kind="mergesort"
    )


def candidates_table(result: ScenarioResult) -> pd.DataFrame | None:
    """Every hospital's eligibility (``result.candidates``) with ``opened`` from the plan.

    Returns
    -------
    pandas.DataFrame or None
        The candidate table without geometry, ``opened`` (the site is open in
        ``result.sites``) after ``status``; None if the result has no candidate table.
    """
    cand = getattr(result, "candidates", None)
    if cand is None:
        return None
    out = pd.DataFrame(cand).drop(columns="geometry", errors="ignore").copy()
    sites = result.sites
    open_ids = set(sites.loc[sites["open"].astype(bool), "site_id"].astype(str))
    opened = out["id"].astype(str).isin(open_ids)
    at = out.columns.get_loc("status") + 1 if "status" in out.columns else len(out.columns)
    out.insert(int(at), "opened", opened)
    return out


def write_tables(result: ScenarioResult, folder: str | Path) -> dict[str, Path]:
    """Write the summary, sites, candidates, zones, coverage, cyclotrons and uncovered CSVs
    into ``folder``."""
    folder = Path(folder)
    out = {
        "summary": _write_csv(summary_table(result), folder / "summary.csv"),
        "sites": _write_csv(result.sites, folder / "sites.csv"),
        "zones": _write_csv(pd.DataFrame(result.zones), folder / "zones.csv"),
        "coverage": _write_csv(result.coverage, folder / "coverage.csv"),
        "cyclotrons": _write_csv(result.cyclotrons, folder / "cyclotrons.csv"),
        "uncovered": _write_csv(result.uncovered, folder / "uncovered.csv"),
    }
    candidates = candidates_table(result)
    if candidates is not None:
        out["candidates"] = _write_csv(candidates, folder / "candidates.csv")
    if getattr(result, "rota", None) is not None:
        out["rota"] = _write_csv(result.rota, folder / "rota.csv")  # type: ignore[attr-defined]
        out["units"] = _write_csv(result.rota_units, folder / "units.csv")  # type: ignore[attr-defined]
    return out


def _cell(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if not math.isfinite(float(v)) else float(v)
    if v is pd.NA or v is pd.NaT:
        return None
    return v if isinstance(v, (int, str)) else str(v)


def _plain(obj: Any) -> Any:
    """Convert numpy scalars etc. to YAML-safe Python values."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        return float(obj) if math.isfinite(float(obj)) else None
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    return obj


def compare(results: Sequence[ScenarioResult]) -> pd.DataFrame:
    """Side-by-side headline figures, with the cost-per-scan change vs the first result.

    Returns
    -------
    pandas.DataFrame
        One row per scenario (index: scenario name) with the :func:`summary` figures plus
        ``cost_per_scan_change`` (fraction; negative = cheaper than the first scenario) and
        ``meets_saving_target`` (change <= -18 %, the contract's target).

    Raises
    ------
    ValidationError
        If ``results`` is empty or two scenarios share a name.
    """
    if not results:
        msg = "compare needs at least one scenario result"
        raise ValidationError(msg)
    names = [r.scenario.name for r in results]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        msg = f"scenario names must be unique to compare them; repeated: {dup}"
        raise ValidationError(msg)
    table = pd.concat([r.summary() for r in results])
    base = float(table["cost_per_scan_gbp"].iloc[0])
    change = table["cost_per_scan_gbp"].astype(float) / base - 1.0 if base else np.nan
    table["cost_per_scan_change"] = np.round(change, 6)
    table["meets_saving_target"] = table["cost_per_scan_change"] <= -CONTRACT_SAVING_TARGET
    return table
