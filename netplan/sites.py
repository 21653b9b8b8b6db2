"""Candidate hospitals, the 28 contract sites and the 18F cyclotrons.

* :func:`load_contract_sites`: the 28 Phase 1 contract hospitals by lot
  (``data/contract_sites.csv``, matched to the NHS.uk hospital list, see ``match_note``).
* :func:`candidate_table`: every hospital of the NHS.uk list in England (plus user sites)
  with its eligibility to host PET-CT under a documented rule (:mod:`netplan._eligibility`),
  a ``status`` and the ``reason``; contract sites flagged, duplicates within 250 m marked.
* :func:`candidate_sites`: the eligible rows of that table (:func:`candidate_sites_from_table`);
  users add, remove or lock candidates.
* :func:`load_cyclotrons`: 18F production sites (``data/cyclotrons.csv``); the default is
  Alliance Medical's Keele, Preston, Sutton and Guildford radiopharmacies.
* :func:`assign_icb_lot`: ICB and contract lot of any points (point in ICB polygon).

Every table has a unique ``id``, ``lon``/``lat`` (WGS84) and point geometry in EPSG:4326.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from . import _eligibility, data, settings
from ._errors import ValidationError
from ._validate import check_columns, check_lonlat, check_positive, check_unique
from .demand import LOTS, OUTSIDE_LOTS, load_icb_lots

logger = logging.getLogger(__name__)

CONTRACT_SITES_FILE = data.PROJECT_DATA / "contract_sites.csv"
CYCLOTRONS_FILE = data.PROJECT_DATA / "cyclotrons.csv"
CONTRACT_COLUMNS = ["id", "name", "contract_name", "lot", "lon", "lat", "approximate"]
CANDIDATE_COLUMNS = ["id", "name", "lot", "icb_code", "is_contract", "locked", "lon", "lat"]

#: The filter before the PET-CT rule (``eligibility: all_acute``); see :mod:`._eligibility`.
NON_ACUTE_TRUST_PATTERN = _eligibility.NON_ACUTE_TRUST_PATTERN
NON_ACUTE_SITE_PATTERN = _eligibility.OLD_SITE_PATTERN
ELIGIBILITY_MODES = _eligibility.ELIGIBILITY_MODES
ELIGIBILITY_RULES = _eligibility.RULES
RULE_LABELS = _eligibility.RULE_LABELS
classify_hospitals = _eligibility.classify_hospitals
load_site_roles = _eligibility.load_site_roles
#: Columns of :func:`candidate_table` (before ``geometry``).
TABLE_COLUMNS = [
    "id", "name", "parent_ods", "parent_name", "lot", "icb_code", "is_contract", "eligible",
    "status", "rule", "reason", "lon", "lat",
]  # fmt: skip
#: Values of ``status`` in :func:`candidate_table` (eligible: the first four).
STATUSES = (
    "contract", "candidate", "included", "extra", "excluded", "duplicate", "forbidden",
    "not_offered",
)  # fmt: skip
#: Sites closer than this are one site (e.g. two trusts' names for the same campus).
DEDUPLICATE_WITHIN_M = 250.0


# ----------------------------------------------------------------------------- lots
@lru_cache(maxsize=2)
def _icb_polygons(_cache: str, crs: str) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """ICB polygons in ``crs`` and the ICB -> lot mapping (read once per cache folder)."""
    icb = data.load_icb_boundaries().to_crs(crs)
    return icb, load_icb_lots().set_index("icb_code")["lot"]


def assign_icb_lot(
    points: gpd.GeoDataFrame,
    *,
    max_distance_m: float = 2000.0,
    source: str = "sites",
    on_outside: str = "raise",
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
    on_outside
        {"raise", "drop"}: what to do with points outside England; ``drop`` leaves them out
        of the result (and logs them).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``points`` with the three columns (replaced if present).

    Raises
    ------
    ValidationError
        Listing the points farther than ``max_distance_m`` from every English ICB
        (i.e. outside England), unless ``on_outside="drop"``.
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
        if on_outside != "drop":
            msg = (
                f"{source}: {len(bad)} site(s) lie outside England (more than "
                f"{max_distance_m:g} m from every English ICB): {bad[:10]}; check their "
                "coordinates or remove them."
            )
            raise ValidationError(msg)
        logger.info("%s: %d site(s) outside England left out: %s", source, len(bad),
                    ", ".join(map(str, bad)))  # fmt: skip
    inside = ~outside
    out = pts[inside].copy()
    out["icb_code"] = joined["icb_code"].to_numpy()[inside]
    out["icb_name"] = joined["icb_name"].to_numpy()[inside]
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
def _duplicates(gdf: gpd.GeoDataFrame, within_m: float) -> dict[int, int]:
    """Row position -> position of the earlier row within ``within_m`` that it duplicates
    (rows come in priority order; only rows that are kept count as earlier rows)."""
    proj = gdf.to_crs(settings.projected_crs).geometry
    xy = np.column_stack([proj.x, proj.y])
    keep: list[int] = []
    dup: dict[int, int] = {}
    for i in range(len(xy)):
        if keep:
            d = np.hypot(*(xy[keep] - xy[i]).T)
            j = int(np.argmin(d))
            if d[j] <= within_m:
                dup[i] = keep[j]
                continue
        keep.append(i)
    return dup


def nhs_acute_hospitals() -> gpd.GeoDataFrame:
    """Return the hospitals of the filter netplan used before the PET-CT rule.

    Filter (``eligibility: all_acute``; see :mod:`netplan._eligibility`):
    ``sector == "NHS Sector"``, ``sub_type == "Hospital"``, parent organisation an NHS trust
    (ODS code starting with ``R``) that is not a mental-health, community or partnership
    trust (:data:`NON_ACUTE_TRUST_PATTERN`), site name not matching
    :data:`NON_ACUTE_SITE_PATTERN`. Not restricted to England.

    Returns
    -------
    geopandas.GeoDataFrame
        The NHS.uk columns (``id``, ``name``, ``sector``, ``parent_ods`` ...).
    """
    h = data.load_hospitals()
    keep = classify_hospitals(h, "all_acute")["eligible"].astype(bool)
    return h[keep].reset_index(drop=True)


def _as_id_list(values: Iterable[str] | str | None) -> list[str]:
    if values is None:
        return []
    return [values] if isinstance(values, str) else [str(v) for v in values]


def _by_id(df: pd.DataFrame, columns: list[str]) -> gpd.GeoDataFrame:
    """``columns`` and the geometry of ``df``, sorted by id, in EPSG:4326."""
    out = df[[*columns, "geometry"]].sort_values("id", ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=settings.geographic_crs)


def _overrides(include: Iterable[str] | Mapping[str, str] | str | None) -> dict[str, str]:
    """``include`` as id -> the setting that asked for it."""
    if isinstance(include, Mapping):
        return {str(k): str(v) for k, v in include.items()}
    return dict.fromkeys(_as_id_list(include), "include")


def candidate_table(
    *,
    eligibility: str = "pet_ct_host",
    include: Iterable[str] | Mapping[str, str] | None = None,
    exclude: Iterable[str] | None = None,
    extra: pd.DataFrame | None = None,
    contract_sites: pd.DataFrame | None = None,
    deduplicate_within_m: float = DEDUPLICATE_WITHIN_M,
    roles: pd.DataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Every hospital of the NHS.uk list in England, plus user sites, with its eligibility.

    Steps: locate each hospital in an English ICB (the list also holds Welsh, Scottish and
    island sites: left out); apply the eligibility rule (:func:`classify_hospitals`, see
    :mod:`netplan._eligibility` and ``data/README.md``); the 28 contract sites are eligible
    by definition (they host the contract's scanners); ``include`` overrides the rule;
    eligible sites within ``deduplicate_within_m`` of a higher-priority eligible site are
    one campus (contract sites first, then the lowest ODS code); user sites are added;
    ``exclude`` forbids.

    Parameters
    ----------
    eligibility
        {"pet_ct_host", "all_acute", "none"}: the rule (default: acute general hospitals and
        cancer centres; ``all_acute``: the filter before the rule; ``none``: every hospital).
    include
        ODS codes from the list to keep although the rule excludes them (status
        ``included``); a mapping gives, per code, the setting that asked for it (used in the
        reason, e.g. ``{"RHW03": "sites.lock_open"}``).
    exclude
        Ids to forbid (status ``forbidden``); any id of the table.
    extra
        User sites not in the list: ``id``, ``name``, ``lon``, ``lat`` (WGS84).
    contract_sites
        Contract table (default :func:`load_contract_sites`).
    deduplicate_within_m
        Eligible sites closer than this count as one.
    roles
        Curated site roles (default :func:`load_site_roles`).

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`TABLE_COLUMNS` and ``geometry`` (EPSG:4326), one row per hospital in England
        and per user site, sorted by id. ``eligible`` is True for the statuses ``contract``,
        ``candidate``, ``included`` and ``extra``; ``rule`` is the short key of the rule
        behind ``reason`` (see :data:`RULE_LABELS`).

    Raises
    ------
    ValidationError
        On unknown ids in ``include``/``exclude``, an included hospital outside England,
        an unknown ``eligibility``, or bad ``extra`` rows (duplicate ids or ids already in
        the list, missing/swapped coordinates, outside England).

    Examples
    --------
    >>> table = candidate_table()  # doctest: +SKIP
    >>> table.groupby("status").size()  # doctest: +SKIP
    """
    contract = load_contract_sites() if contract_sites is None else contract_sites
    hospitals = data.load_hospitals()
    known = set(hospitals["id"])
    inc = _overrides(include)
    unknown = [i for i in inc if i not in known]
    if unknown:
        msg = f"include: ODS code(s) {unknown} are not in the NHS.uk hospital list"
        raise ValidationError(msg)
    # 1. the hospitals in England, with ICB and lot (contract sites: their contract lot)
    gdf = assign_icb_lot(hospitals, source="NHS hospital list", on_outside="drop")
    outside = sorted(set(inc) - set(gdf["id"]))
    if outside:
        msg = f"include: hospital(s) {outside} lie outside England; they cannot be candidates"
        raise ValidationError(msg)
    # 2. the eligibility rule
    gdf = gdf.join(classify_hospitals(gdf, eligibility, roles=roles))
    con = contract.set_index("id")
    unlisted = [i for i in con.index if i not in set(gdf["id"])]
    if unlisted:  # a contract table whose sites are not in the list (e.g. a user's own)
        rows = pd.DataFrame(contract[contract["id"].isin(unlisted)][["id", "name", "lon", "lat"]])
        rows = assign_icb_lot(_points(rows), source="contract sites")
        gdf = pd.concat([gdf, rows.assign(eligible=True)], ignore_index=True)
    is_contract = gdf["id"].isin(con.index)
    gdf["is_contract"] = is_contract
    gdf.loc[is_contract, "lot"] = gdf.loc[is_contract, "id"].map(con["lot"])
    for col in ("name", "lon", "lat"):  # the contract table's values (approximate sites)
        gdf.loc[is_contract, col] = gdf.loc[is_contract, "id"].map(con[col])
    gdf = _points(pd.DataFrame(gdf.drop(columns="geometry")))
    gdf["status"] = np.where(gdf["eligible"], "candidate", "excluded")
    gdf.loc[is_contract, ["eligible", "status", "rule"]] = [True, "contract", "contract"]
    gdf.loc[is_contract, "reason"] = "Phase 1 contract site (hosts a contract scanner)"
    # 3. overrides of the rule
    over = gdf["id"].isin(list(inc)) & ~gdf["eligible"].astype(bool)
    gdf.loc[over, "reason"] = [
        f"scenario override ({inc[i]}); the rule: {r}"
        for i, r in zip(gdf.loc[over, "id"], gdf.loc[over, "reason"], strict=True)
    ]
    gdf.loc[over, ["eligible", "status"]] = [True, "included"]
    # 4. one campus, one candidate
    gdf = gdf.sort_values(["is_contract", "id"], ascending=[False, True], ignore_index=True)
    gdf["eligible"] = gdf["eligible"].astype(bool)
    pos = np.flatnonzero(gdf["eligible"].to_numpy())
    dup = _duplicates(gdf.iloc[pos], deduplicate_within_m)
    for i, j in dup.items():
        row, kept = pos[i], gdf.iloc[pos[j]]
        gdf.loc[row, ["eligible", "status"]] = [False, "duplicate"]
        gdf.loc[row, "reason"] = (
            f"within {deduplicate_within_m:g} m of {kept['id']} ({kept['name']}): one campus"
        )
    if dup:
        logger.info("candidate sites: %d duplicate(s) within %g m: %s", len(dup),
                    deduplicate_within_m, ", ".join(gdf.loc[pos[list(dup)], "id"]))  # fmt: skip
    # 5. user sites
    if extra is not None:
        user = validate_sites(extra, source="extra sites")
        clash = sorted(set(user["id"]) & (set(gdf["id"]) | known))
        if clash:
            msg = f"extra sites: id(s) {clash} already exist among the candidates; rename them"
            raise ValidationError(msg)
        user = user.assign(is_contract=False, eligible=True, status="extra", rule="extra",
                           reason="user site (extra)")  # fmt: skip
        gdf = pd.concat([gdf, user[gdf.columns.intersection(user.columns)]], ignore_index=True)
    # 6. forbidden by the user
    drop = _as_id_list(exclude)
    missing = [i for i in drop if i not in set(gdf["id"])]
    if missing:
        msg = (
            f"exclude: id(s) {missing} are not hospitals in England or user sites; known ids "
            "are ODS codes"
        )
        raise ValidationError(msg)
    hit = gdf["id"].isin(drop)
    gdf.loc[hit, "reason"] = "forbidden by the user (exclude); was: " + gdf.loc[hit, "reason"]
    gdf.loc[hit, ["eligible", "status"]] = [False, "forbidden"]
    gdf["is_contract"] = gdf["is_contract"].astype(bool)
    gdf["eligible"] = gdf["eligible"].astype(bool)
    out = _by_id(gdf, TABLE_COLUMNS)
    counts = out["status"].value_counts().to_dict()
    n_listed = int((out["status"] != "extra").sum())
    logger.info("candidate table (%s): %d hospitals in England, %d eligible; %s", eligibility,
                n_listed, int(out["eligible"].sum()), counts)  # fmt: skip
    return out


def candidate_sites_from_table(
    table: pd.DataFrame, *, lock: Iterable[str] | None = None, keep: Iterable[str] = ()
) -> gpd.GeoDataFrame:
    """Return the candidate sites of a :func:`candidate_table`: its eligible rows.

    Parameters
    ----------
    table
        A :func:`candidate_table`.
    lock
        Ids to lock open (``locked = True``); they must be eligible.
    keep
        Ids to return although not eligible (e.g. sites a scenario forbids, which the
        placement model keeps closed).

    Returns
    -------
    geopandas.GeoDataFrame
        ``id, name, lot, icb_code, is_contract, locked, lon, lat, geometry`` (EPSG:4326),
        sorted by id.

    Raises
    ------
    ValidationError
        If a locked id is not eligible (the message gives its status and reason) or was
        also forbidden.
    """
    locked = _as_id_list(lock)
    by_id = table.set_index("id")
    forbidden = sorted(i for i in locked if by_id["status"].get(i) == "forbidden")
    if forbidden:
        msg = f"site(s) {forbidden} are both excluded and locked open; choose one"
        raise ValidationError(msg)
    bad = [i for i in locked if not bool(by_id["eligible"].get(i, False))]
    if bad:
        why = "; ".join(
            f"{i}: {by_id.loc[i, 'status']}, {by_id.loc[i, 'reason']}" if i in by_id.index
            else f"{i}: not in the NHS.uk list in England"
            for i in bad[:5]
        )  # fmt: skip
        msg = (
            f"lock: id(s) {bad} are not candidate sites ({why}); known ids are ODS codes, and "
            "a hospital the eligibility rule excludes can be added with include"
        )
        raise ValidationError(msg)
    rows = table[table["eligible"].astype(bool) | table["id"].isin(list(keep))].copy()
    rows["locked"] = rows["id"].isin(locked)
    rows["is_contract"] = rows["is_contract"].astype(bool)
    gdf = _by_id(rows, CANDIDATE_COLUMNS)
    logger.info("candidate sites: %d (%d contract, %d locked)", len(gdf),
                int(gdf["is_contract"].sum()), int(gdf["locked"].sum()))  # fmt: skip
    return gdf


def candidate_sites(
    *,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    extra: pd.DataFrame | None = None,
    lock: Iterable[str] | None = None,
    contract_sites: pd.DataFrame | None = None,
    deduplicate_within_m: float = DEDUPLICATE_WITHIN_M,
    eligibility: str = "pet_ct_host",
) -> gpd.GeoDataFrame:
    """Return candidate scanner sites: the eligible hospitals of :func:`candidate_table`.

    Parameters
    ----------
    include
        ODS codes from the full NHS.uk list to add although the eligibility rule leaves
        them out.
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
    eligibility
        {"pet_ct_host", "all_acute", "none"}: the rule (see :func:`candidate_table`).

    Returns
    -------
    geopandas.GeoDataFrame
        ``id, name, lot, icb_code, is_contract, locked, lon, lat, geometry`` (EPSG:4326),
        one row per site, sorted by id.

    Raises
    ------
    ValidationError
        On unknown ids in ``include``/``exclude``/``lock``, a locked site that is not
        eligible or also excluded, or bad ``extra`` rows (duplicate ids, missing/swapped
        coordinates, outside England).
    """
    table = candidate_table(
        eligibility=eligibility,
        include=include,
        exclude=exclude,
        extra=extra,
        contract_sites=contract_sites,
        deduplicate_within_m=deduplicate_within_m,
    )
    return candidate_sites_from_table(table, lock=lock)


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
    "ELIGIBILITY_MODES",
    "ELIGIBILITY_RULES",
    "LOTS",
    "OUTSIDE_LOTS",
    "RULE_LABELS",
    "STATUSES",
    "TABLE_COLUMNS",
    "assign_icb_lot",
    "candidate_sites",
    "candidate_sites_from_table",
    "candidate_table",
    "classify_hospitals",
    "load_contract_sites",
    "load_cyclotrons",
    "load_site_roles",
    "nhs_acute_hospitals",
    "validate_sites",
]
