"""Candidate hospitals, the 28 contract sites and the 18F cyclotrons.

* :func:`load_contract_sites`: the 28 Phase 1 contract hospitals by lot
  (``data/contract_sites.csv``, matched to the NHS.uk hospital list, see ``match_note``).
* :func:`candidate_sites`: NHS acute hospitals of England from the NHS.uk list, filtered and
  de-duplicated as documented in :func:`nhs_acute_hospitals`, with the contract sites flagged;
  users add, remove or lock candidates.
* :func:`load_cyclotrons`: 18F production sites (``data/cyclotrons.csv``); the default is
  Alliance Medical's Keele, Preston, Sutton and Guildford radiopharmacies.
* :func:`assign_icb_lot`: ICB and contract lot of any points (point in ICB polygon).

Every table has a unique ``id``, ``lon``/``lat`` (WGS84) and point geometry in EPSG:4326.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from . import data, settings
from ._errors import ValidationError
from ._validate import check_columns, check_lonlat, check_positive, check_unique
from .demand import LOTS, OUTSIDE_LOTS, load_icb_lots

logger = logging.getLogger(__name__)

CONTRACT_SITES_FILE = data.PROJECT_DATA / "contract_sites.csv"
CYCLOTRONS_FILE = data.PROJECT_DATA / "cyclotrons.csv"
CONTRACT_COLUMNS = ["id", "name", "contract_name", "lot", "lon", "lat", "approximate"]
CANDIDATE_COLUMNS = ["id", "name", "lot", "icb_code", "is_contract", "locked", "lon", "lat"]

#: Parent trusts whose hospitals are not acute (mental health, community, partnership trusts).
NON_ACUTE_TRUST_PATTERN = (
    r"Mental Health|Partnership|Community|Social Care|Health and Care|Care Services|"
    r"Mersey Care|Humber Teaching|Combined Healthcare|Southern Health|Berkshire Healthcare|"
    r"Nottinghamshire Healthcare|Northamptonshire Healthcare|Derbyshire Healthcare|"
    r"Dorset Healthcare|Norfolk and Suffolk|Tees, Esk and Wear|"
    r"Cumbria Northumberland Tyne and Wear|Oxleas|East London NHS|"
    r"Central and North West London|South London and Maudsley|West London NHS|"
    r"North East London NHS|Oxford Health|Pennine Care|Lancashire & South Cumbria NHS|"
    r"Rotherham Doncaster and South Humber|Cambridgeshire and Peterborough NHS"
)
#: Site names that are not plausible PET-CT hosts even within an acute trust.
NON_ACUTE_SITE_PATTERN = (
    r"Community Hospital|Mental Health|Psychiatric|Screening|Hospice|Learning Disab|"
    r"Eye Hospital|Eye Infirmary|Dental"
)
#: Sites closer than this are one site (e.g. two trusts' names for the same campus).
DEDUPLICATE_WITHIN_M = 250.0


# ----------------------------------------------------------------------------- lots
@lru_cache(maxsize=2)
def _icb_polygons(_cache: str, crs: str) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """ICB polygons in ``crs`` and the ICB -> lot mapping (read once per cache folder)."""
    icb = data.load_icb_boundaries().to_crs(crs)
    return icb, load_icb_lots().set_index("icb_code")["lot"]


def assign_icb_lot(
    points: gpd.GeoDataFrame, *, max_distance_m: float = 2000.0, source: str = "sites"
) -> gpd.GeoDataFrame:
    """Add ``icb_code``, ``icb_name`` and ``lot`` to points by point-in-ICB-polygon.

    The ICB polygons are simplified, so a point on the coast may fall just outside; such
    points take the nearest ICB within ``max_distance_m``.

    Parameters
    ----------
    points
        Points in any CRS (typically EPSG:4326), with an ``id`` column for messages.
    max_distance_m
        Tolerance for points just outside the simplified polygons.
    source
        Name used in messages.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``points`` with the three columns (replaced if present).

    Raises
    ------
    ValidationError
        Listing the points farther than ``max_distance_m`` from every English ICB
        (i.e. outside England).
    """
    icb, lots = _icb_polygons(str(settings.cache_folder), settings.projected_crs)
    pts = points.drop(columns=["icb_code", "icb_name", "lot"], errors="ignore")
    proj = pts.to_crs(settings.projected_crs)[["geometry"]].reset_index(drop=True)
    joined = gpd.sjoin_nearest(
        proj, icb, how="left", max_distance=max_distance_m, distance_col="_dist_m"
    )
    joined = joined[~joined.index.duplicated(keep="first")].sort_index()
    outside = joined["icb_code"].isna().to_numpy()
    if outside.any():
        ids = pts["id"] if "id" in pts.columns else pd.Series(pts.index)
        bad = ids.to_numpy()[outside].tolist()
        msg = (
            f"{source}: {len(bad)} site(s) lie outside England (more than {max_distance_m:g} m "
            f"from every English ICB): {bad[:10]}; check their coordinates or remove them."
        )
        raise ValidationError(msg)
    out = pts.copy()
    out["icb_code"] = joined["icb_code"].to_numpy()
    out["icb_name"] = joined["icb_name"].to_numpy()
    out["lot"] = out["icb_code"].map(lots).to_numpy()
    return out


# ----------------------------------------------------------------------------- checks
def _points(df: pd.DataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=settings.geographic_crs
    )


def _check_ods(df: pd.DataFrame, column: str, *, source: str) -> None:
    known = set(data.load_hospitals()["id"])
    unknown = df.loc[~df[column].isin(known), column].tolist()
    if unknown:
        msg = (
            f"{source}: ODS code(s) {unknown[:10]} are not in the NHS.uk hospital list; "
            "correct the code (see https://www.odsdatasearchandreports.nhs.uk) or leave "
            f"{column!r} empty and give coordinates for a site that is not in the list."
        )
        raise ValidationError(msg)


def validate_sites(df: pd.DataFrame, *, source: str = "sites") -> gpd.GeoDataFrame:
    """Check a site table (``id``, ``name``, ``lon``, ``lat``) and return it as points.

    Raises
    ------
    ValidationError
        On missing columns, duplicate or empty ids, missing or swapped coordinates,
        coordinates outside Great Britain, or sites outside England (rows listed).
    """
    check_columns(df, ["id", "name", "lon", "lat"], source=source)
    check_unique(df, "id", source=source)
    df = check_lonlat(pd.DataFrame(df.drop(columns="geometry", errors="ignore")),
                      source=source, id_column="id")  # fmt: skip
    gdf = _points(df.reset_index(drop=True))
    return assign_icb_lot(gdf, source=source)


# ----------------------------------------------------------------------------- contract
def load_contract_sites(path: str | Path | None = None) -> gpd.GeoDataFrame:
    """Load the 28 Phase 1 contract hospitals (3 / 8 / 7 / 10 per lot).

    Parameters
    ----------
    path
        Alternative CSV with the same columns; default ``data/contract_sites.csv``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``id`` (ODS code), ``name`` (NHS.uk name), ``contract_name`` (as the contract lists
        it), ``lot``, ``lon``, ``lat``, ``approximate``, ``ods_code``, ``postcode``,
        ``match_note``, ``icb_code``, ``geometry`` (EPSG:4326).

    Raises
    ------
    ValidationError
        On duplicate ids, unknown ODS codes, unknown lots, missing/swapped coordinates or
        sites outside England.
    """
    path = Path(path) if path is not None else CONTRACT_SITES_FILE
    key = (str(path.resolve()), path.stat().st_mtime_ns if path.exists() else 0)
    return _load_contract_cached(*key).copy()


@lru_cache(maxsize=4)
def _load_contract_cached(path_str: str, _mtime: int) -> gpd.GeoDataFrame:
    path = Path(path_str)
    df = pd.read_csv(path, dtype={"id": str, "ods_code": str})
    check_columns(df, CONTRACT_COLUMNS, source=path.name)
    bad_lot = df.loc[~df["lot"].isin(LOTS), "id"].tolist()
    if bad_lot:
        msg = f"{path.name}: row(s) {bad_lot} have a lot outside {list(LOTS)}"
        raise ValidationError(msg)
    if "ods_code" in df.columns:
        _check_ods(df.dropna(subset=["ods_code"]), "ods_code", source=path.name)
    gdf = validate_sites(df, source=path.name)
    gdf["lot"] = df["lot"].to_numpy()  # the contract's lot, not the ICB mapping's
    gdf["approximate"] = gdf["approximate"].astype(str).str.lower().isin({"true", "1", "yes"})
    first = [*CONTRACT_COLUMNS, "icb_code"]
    gdf = gdf[[*first, *[c for c in gdf.columns if c not in first]]]
    logger.info("contract sites: %d (%s)", len(gdf), gdf["lot"].value_counts().to_dict())
    return gdf


# ----------------------------------------------------------------------------- candidates
def _deduplicate(gdf: gpd.GeoDataFrame, within_m: float) -> gpd.GeoDataFrame:
    """Drop sites within ``within_m`` of an earlier row (rows come in priority order)."""
    xy = np.column_stack(
        [
            gdf.to_crs(settings.projected_crs).geometry.x,
            gdf.to_crs(settings.projected_crs).geometry.y,
        ]
    )
    keep: list[int] = []
    for i in range(len(xy)):
        if not keep or np.min(np.hypot(*(xy[keep] - xy[i]).T)) > within_m:
            keep.append(i)
    kept = set(keep)
    dropped = gdf.iloc[[i for i in range(len(gdf)) if i not in kept]]
    if len(dropped):
        logger.info("candidate sites: %d duplicate(s) within %g m dropped: %s",
                    len(dropped), within_m, ", ".join(dropped["id"]))  # fmt: skip
    return gdf.iloc[keep]


def nhs_acute_hospitals() -> gpd.GeoDataFrame:
    """Return the NHS acute hospitals of England from the NHS.uk hospital list.

    Filter (documented in ``data/README.md``): ``sector == "NHS Sector"``,
    ``sub_type == "Hospital"``, parent organisation an NHS trust (ODS code starting with
    ``R``) that is not a mental-health, community or partnership trust
    (:data:`NON_ACUTE_TRUST_PATTERN`), site name not matching
    :data:`NON_ACUTE_SITE_PATTERN`, inside an English ICB.

    Returns
    -------
    geopandas.GeoDataFrame
        The NHS.uk columns (``id``, ``name``, ``sector``, ``parent_ods`` ...).
    """
    h = data.load_hospitals()
    keep = (
        (h["sector"] == "NHS Sector")
        & (h["sub_type"] == "Hospital")
        & h["parent_ods"].fillna("").str.startswith("R")
        & ~h["parent_name"].fillna("").str.contains(NON_ACUTE_TRUST_PATTERN)
        & ~h["name"].fillna("").str.contains(NON_ACUTE_SITE_PATTERN, case=False)
    )
    return h[keep].reset_index(drop=True)


def _as_id_list(values: Iterable[str] | str | None) -> list[str]:
    if values is None:
        return []
    return [values] if isinstance(values, str) else [str(v) for v in values]


def candidate_sites(
    *,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    extra: pd.DataFrame | None = None,
    lock: Iterable[str] | None = None,
    contract_sites: pd.DataFrame | None = None,
    deduplicate_within_m: float = DEDUPLICATE_WITHIN_M,
) -> gpd.GeoDataFrame:
    """Return candidate scanner sites: NHS acute hospitals plus the contract sites.

    Parameters
    ----------
    include
        ODS codes from the full NHS.uk list to add although the filter leaves them out.
    exclude
        Ids to remove (forbid a site). Unknown ids raise.
    extra
        User sites not in the NHS list: ``id``, ``name``, ``lon``, ``lat`` (WGS84).
    lock
        Ids to lock open (``locked = True``); the placement model must keep them.
    contract_sites
        Contract table (default :func:`load_contract_sites`).
    deduplicate_within_m
        Sites closer than this count as one; contract sites win, then lower ODS codes.

    Returns
    -------
    geopandas.GeoDataFrame
        ``id, name, lot, icb_code, is_contract, locked, lon, lat, geometry`` (EPSG:4326),
        one row per site, sorted by id.

    Raises
    ------
    ValidationError
        On unknown ids in ``include``/``exclude``/``lock``, or bad ``extra`` rows
        (duplicate ids, missing/swapped coordinates, outside England).
    """
    contract = load_contract_sites() if contract_sites is None else contract_sites
    hospitals = data.load_hospitals()
    acute = nhs_acute_hospitals()
    inc = _as_id_list(include)
    unknown = [i for i in inc if i not in set(hospitals["id"])]
    if unknown:
        msg = f"include: ODS code(s) {unknown} are not in the NHS.uk hospital list"
        raise ValidationError(msg)
    pool = pd.concat([acute, hospitals[hospitals["id"].isin(inc)]]).drop_duplicates("id")
    base = pd.DataFrame(
        {"id": pool["id"], "name": pool["name"], "lon": pool["lon"], "lat": pool["lat"]}
    )
    base["is_contract"] = False
    con = pd.DataFrame(contract[["id", "name", "lon", "lat"]]).assign(is_contract=True)
    rows = pd.concat([con, base[~base["id"].isin(con["id"])]], ignore_index=True)
    gdf = assign_icb_lot(_points(rows), source="NHS hospital list")
    # contract sites keep their contract lot; priority order for de-duplication
    gdf.loc[gdf["is_contract"], "lot"] = gdf["id"].map(contract.set_index("id")["lot"])
    gdf = gdf.sort_values(["is_contract", "id"], ascending=[False, True], ignore_index=True)
    gdf = _deduplicate(gdf, deduplicate_within_m)
    if extra is not None:
        user = validate_sites(extra, source="extra sites").assign(is_contract=False)
        clash = sorted(set(user["id"]) & set(gdf["id"]))
        if clash:
            msg = f"extra sites: id(s) {clash} already exist among the candidates; rename them"
            raise ValidationError(msg)
        gdf = pd.concat([gdf, user[gdf.columns.intersection(user.columns)]], ignore_index=True)
    drop = _as_id_list(exclude)
    locked = _as_id_list(lock)
    for name, ids in (("exclude", drop), ("lock", locked)):
        missing = [i for i in ids if i not in set(gdf["id"])]
        if missing:
            msg = f"{name}: id(s) {missing} are not candidate sites; known ids are ODS codes"
            raise ValidationError(msg)
    both = sorted(set(drop) & set(locked))
    if both:
        msg = f"site(s) {both} are both excluded and locked open; choose one"
        raise ValidationError(msg)
    gdf = gdf[~gdf["id"].isin(drop)].copy()
    gdf["locked"] = gdf["id"].isin(locked)
    gdf = gpd.GeoDataFrame(
        gdf[[*CANDIDATE_COLUMNS, "geometry"]].sort_values("id", ignore_index=True),
        geometry="geometry", crs=settings.geographic_crs,
    )  # fmt: skip
    logger.info("candidate sites: %d (%d contract, %d locked)", len(gdf),
                int(gdf["is_contract"].sum()), int(gdf["locked"].sum()))  # fmt: skip
    return gdf


# ----------------------------------------------------------------------------- cyclotrons
def load_cyclotrons(
    *, include_inactive: bool = False, path: str | Path | None = None
) -> gpd.GeoDataFrame:
    """Load the 18F cyclotron (radiopharmacy) sites.

    Parameters
    ----------
    include_inactive
        Also return sites with ``active_default = False`` (Dinnington, NHS cyclotrons).
    path
        Alternative CSV; default ``data/cyclotrons.csv``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``id, name, operator, kind, town, lon, lat, approximate, active_default,
        daily_capacity_doses, source, note, geometry`` (EPSG:4326).

    Raises
    ------
    ValidationError
        On duplicate ids, missing/swapped coordinates, sites outside England, or a
        missing, zero or negative capacity.
    """
    path = Path(path) if path is not None else CYCLOTRONS_FILE
    df = pd.read_csv(path, dtype={"id": str})
    check_columns(df, ["id", "name", "lon", "lat", "active_default", "daily_capacity_doses"],
                  source=path.name)  # fmt: skip
    check_positive(df, "daily_capacity_doses", source=path.name, id_column="id")
    for col in ("active_default", "approximate"):
        if col in df.columns:
            df[col] = df[col].astype(str).str.lower().isin({"true", "1", "yes"})
    gdf = validate_sites(df, source=path.name)
    if not include_inactive:
        gdf = gdf[gdf["active_default"]].reset_index(drop=True)
    return gdf


__all__ = [
    "LOTS",
    "OUTSIDE_LOTS",
    "assign_icb_lot",
    "candidate_sites",
    "load_contract_sites",
    "load_cyclotrons",
    "nhs_acute_hospitals",
    "validate_sites",
]
