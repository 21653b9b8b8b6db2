"""Datasets: the catalogue, fetching (mirror or publisher) with checksums, and loaders.

Every file netplan reads is listed in ``data/catalogue.yaml`` with its publisher, licence,
size and sha256. :func:`fetch` fills the cache folder (:data:`netplan.settings.cache_folder`)
from the offline mirror (:data:`netplan.settings.data_mirror`) or from the publisher, always
through a temporary file that is checked before it is renamed into place, so the cache never
holds a partial or corrupt file. :func:`dataset_path` returns a verified cached file and
fetches it first when needed. The ``load_*`` functions read and validate each dataset.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import shutil
import tempfile
import urllib.request
import warnings
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import yaml

from . import settings
from ._errors import DataError, OutputError, ValidationError
from ._io import check_writable_folder, normal_permissions, pid_alive, write_text_atomic
from ._resources import shipped_path
from ._validate import check_columns, check_lonlat, check_positive, check_unique

if TYPE_CHECKING:  # geopandas is imported where used: `netplan traveltimes` never needs it
    import geopandas as gpd

logger = logging.getLogger(__name__)

#: Folder of the small tables the project owns (catalogue, contract sites, lots): package
#: data of an installed netplan, the repository's ``data/`` in a checkout.
PROJECT_DATA = shipped_path("data")
CATALOGUE_FILE = PROJECT_DATA / "catalogue.yaml"
_CHUNK = 1 << 20
_DOWNLOAD_TIMEOUT_S = 60


@dataclass(frozen=True)
class Dataset:
    """One catalogued file.

    Attributes
    ----------
    id
        Short identifier used by :func:`fetch` and :func:`dataset_path`.
    description
        One line on what the file is.
    file
        Path relative to the mirror and to the cache folder.
    url
        Publisher's direct download, or None where the publisher offers no single file.
    page
        Publisher's landing page.
    licence, attribution
        Licence identifier and the attribution text outputs must carry.
    bytes, sha256
        Size and checksum of the catalogued version.
    archive
        Member to extract when ``url`` serves a zip file.
    source
        Where ``url`` is None: the publisher's dataset and how the file was derived.
    pinned
        Whether ``url`` serves exactly the catalogued version.
    """

    id: str
    description: str
    file: str
    url: str | None
    page: str
    licence: str
    attribution: str
    bytes: int
    sha256: str
    archive: str | None = None
    pinned: bool = False
    source: str | None = None


@lru_cache(maxsize=1)
def _read_catalogue() -> tuple[dict[str, Dataset], dict[str, str]]:
    try:
        raw = yaml.safe_load(CATALOGUE_FILE.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        msg = f"dataset catalogue {CATALOGUE_FILE} not found; reinstall netplan from its repository"
        raise DataError(msg) from exc
    texts = raw["attributions"]
    datasets = {}
    for entry in raw["datasets"]:
        entry = dict(entry)
        entry["attribution"] = texts[entry["attribution"]]
        datasets[entry["id"]] = Dataset(**entry)
    return datasets, texts


def catalogue() -> dict[str, Dataset]:
    """Return the dataset catalogue keyed by dataset id."""
    return dict(_read_catalogue()[0])


def attributions(ids: list[str] | None = None) -> list[str]:
    """Return the distinct attribution texts for ``ids`` (all datasets if None)."""
    cat = catalogue()
    chosen = [cat[i] for i in ids] if ids else list(cat.values())
    return list(dict.fromkeys(d.attribution for d in chosen))


def _get(dataset_id: str) -> Dataset:
    cat = catalogue()
    if dataset_id not in cat:
        msg = f"unknown dataset id {dataset_id!r}; known ids: {', '.join(sorted(cat))}"
        raise DataError(msg)
    return cat[dataset_id]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def cache_path(dataset_id: str) -> Path:
    """Return where ``dataset_id`` lives in the cache (whether or not it is there)."""
    return Path(settings.cache_folder) / "datasets" / _get(dataset_id).file


def _expected_sha(ds: Dataset, path: Path) -> str:
    """Checksum a cached file must have: the catalogue's, or the one recorded at download.

    An unreadable or damaged record counts as none (the file is then checked against the
    catalogue and fetched again if it differs).
    """
    sidecar = path.with_name(path.name + ".sha256")
    if sidecar.exists():
        try:
            words = sidecar.read_text(encoding="utf-8").split()
        except (OSError, UnicodeDecodeError):
            words = []
        if words and len(words[0]) == 64 and all(c in "0123456789abcdef" for c in words[0]):
            return words[0]
    return ds.sha256


_verified: dict[tuple[str, int, int], bool] = {}


def _check(ds: Dataset, path: Path) -> str:
    """Return ``"present"``, ``"missing"`` or ``"corrupt"`` for a cached file."""
    if not path.exists():
        return "missing"
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _verified:
        _verified[key] = _sha256(path) == _expected_sha(ds, path)
    return "present" if _verified[key] else "corrupt"


def check_cache_folder() -> Path:
    """The cache folder, made if needed; a clear error when it cannot be used.

    Raises
    ------
    DataError
        When ``settings.cache_folder`` (``NETPLAN_CACHE``) is a file, lies under a file, or
        cannot be written.
    """
    folder = Path(settings.cache_folder)
    try:
        check_writable_folder(folder, what="cache")
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # OutputError is an OSError too
        detail = str(exc) if isinstance(exc, OutputError) else f"{folder}: {exc.strerror or exc}"
        msg = (
            f"the netplan cache folder cannot be used ({detail}); set NETPLAN_CACHE (or "
            "netplan.settings.cache_folder) to a writable folder"
        )
        raise DataError(msg) from None
    return folder


def _atomic_write_from(src: io.BufferedIOBase, dest: Path) -> Path:
    """Stream ``src`` into a temp file beside ``dest``; return the temp path.

    The temp file carries this process's id (a later :func:`check_cache` removes it if the
    process died) and gets the usual permissions, so a shared cache stays readable.
    """
    check_cache_folder()
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{dest.name}.{os.getpid()}-", suffix=".part", dir=dest.parent
        )
    except OSError as exc:
        msg = f"cannot write into the cache folder {dest.parent}: {exc.strerror or exc}"
        raise DataError(msg) from None
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(src, out, _CHUNK)
        normal_permissions(tmp)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _from_mirror(ds: Dataset, mirror: Path, dest: Path) -> Path:
    src = mirror / ds.file
    if not src.exists():
        msg = (
            f"dataset {ds.id!r}: {src} not found in the data mirror {mirror}; "
            f"the mirror must hold {ds.file} (see data/catalogue.yaml)"
        )
        raise DataError(msg)
    with src.open("rb") as fh:
        return _atomic_write_from(fh, dest)


def _isatty_stderr() -> bool:
    import sys

    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def _from_publisher(ds: Dataset, dest: Path) -> Path:
    if ds.url is None:
        how = f" ({' '.join(ds.source.split())})" if ds.source else ""
        msg = (
            f"dataset {ds.id!r} ({ds.file}) has no direct download: the publisher offers it at "
            f"{ds.page}{how}. Put the file in a mirror folder as {ds.file} and pass --mirror "
            "DIR or set NETPLAN_DATA_MIRROR."
        )
        raise DataError(msg)
    logger.info("downloading %s from %s", ds.id, ds.url)
    try:
        from tqdm import tqdm

        with urllib.request.urlopen(ds.url, timeout=_DOWNLOAD_TIMEOUT_S) as resp:
            size = int(resp.headers.get("Content-Length") or 0) or None
            bar = tqdm(total=size, unit="B", unit_scale=True, desc=ds.id, leave=False,
                       disable=not _isatty_stderr())  # fmt: skip
            with bar.wrapattr(resp, "read") as reader:
                tmp = _atomic_write_from(reader, dest)
    except OSError as exc:
        msg = (
            f"dataset {ds.id!r}: could not download {ds.url} ({exc}). Offline? Give the data "
            "mirror with --mirror DIR or NETPLAN_DATA_MIRROR, or copy the file into "
            f"{dest.parent}."
        )
        raise DataError(msg) from exc
    if ds.archive:
        try:
            with zipfile.ZipFile(tmp) as zf, zf.open(ds.archive) as member:
                inner = _atomic_write_from(member, dest)
        except (zipfile.BadZipFile, KeyError) as exc:
            msg = f"dataset {ds.id!r}: {ds.url} is not a zip holding {ds.archive} ({exc})"
            raise DataError(msg) from exc
        finally:
            tmp.unlink(missing_ok=True)
        tmp = inner
    return tmp


def _fetch_one(ds: Dataset, mirror: Path | None, *, force: bool) -> Path:
    dest = cache_path(ds.id)
    if not force and _check(ds, dest) == "present":
        return dest
    if dest.exists():
        logger.warning("%s in the cache is corrupt or replaced on request: fetching again", dest)
    tmp = _from_mirror(ds, mirror, dest) if mirror else _from_publisher(ds, dest)
    try:
        size, digest = tmp.stat().st_size, _sha256(tmp)
        sidecar = dest.with_name(dest.name + ".sha256")
        if (size, digest) != (ds.bytes, ds.sha256):
            if mirror or ds.pinned:
                msg = (
                    f"dataset {ds.id!r}: {'mirror' if mirror else 'downloaded'} file has "
                    f"{size:,} bytes and sha256 {digest[:12]}..., the catalogue expects "
                    f"{ds.bytes:,} bytes and {ds.sha256[:12]}...; the source file is damaged or "
                    "a different version. Replace it with the catalogued version."
                )
                raise DataError(msg)
            warnings.warn(
                f"dataset {ds.id!r}: the publisher's current file differs from the catalogued "
                "version; results may differ from the documented figures",
                stacklevel=3,
            )
            write_text_atomic(sidecar, f"{digest}  {dest.name}\n")
        else:
            sidecar.unlink(missing_ok=True)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    logger.info("fetched %s -> %s", ds.id, dest)
    return dest


def fetch(
    ids: list[str] | None = None, *, mirror: Path | str | None = None, force: bool = False
) -> list[Path]:
    """Fetch datasets into the cache, verifying size and sha256.

    Parameters
    ----------
    ids
        Dataset ids (all catalogued datasets if None).
    mirror
        Offline mirror folder; defaults to :data:`netplan.settings.data_mirror`. Without a
        mirror the files are downloaded from their publishers.
    force
        Fetch again even when the cached file is valid.

    Returns
    -------
    list of pathlib.Path
        The cached files, in the order of ``ids``.

    Raises
    ------
    DataError
        When a dataset is unknown, absent from the mirror, cannot be downloaded, or does not
        match its checksum. Nothing is left half-written in the cache.
    """
    mirror_path = Path(mirror) if mirror is not None else settings.data_mirror
    if mirror_path is not None and not Path(mirror_path).is_dir():
        msg = (
            f"data mirror folder {mirror_path} does not exist; pass an existing folder with "
            "--mirror DIR or NETPLAN_DATA_MIRROR, or unset it to download from the publishers"
        )
        raise DataError(msg)
    chosen = [_get(i) for i in (ids or list(catalogue()))]
    return [_fetch_one(ds, mirror_path, force=force) for ds in chosen]


def npz_problem(path: Path) -> str | None:
    """Why a cached ``.npz`` (graph or derived file) cannot be used, or None if it reads.

    Every member is read, so zip CRCs catch flipped bits and a truncated file fails.
    """
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as z:
            for name in z.files:
                z[name]
    except Exception as exc:
        return f"unreadable ({type(exc).__name__}: {' '.join(str(exc).split())[:120]})"
    return None


def check_cache() -> list[str]:
    """Verify every cached file; repair what can be repaired. Returns one line per finding.

    Datasets are checksummed again (not trusting this process's memo): corrupt ones are
    removed so that :func:`fetch` gets them again. Built graphs (``graphs/*.npz``) and
    derived files (``derived/*.npz``) are loaded: unreadable ones are removed and rebuilt on
    next use. Temporary files of fetches and writes that were killed are removed.

    Raises
    ------
    DataError
        When the cache folder cannot be used.
    """
    folder = check_cache_folder()
    lines: list[str] = []
    _verified.clear()
    for ds in catalogue().values():
        path = cache_path(ds.id)
        state = _check(ds, path)
        if state == "corrupt":
            path.unlink()
            lines.append(f"{ds.id}: {path} was corrupt; removed (`data fetch` gets it again)")
    for kind in ("graphs", "derived"):
        for path in sorted((folder / kind).glob("*.npz")):
            problem = npz_problem(path)
            if problem:
                path.unlink(missing_ok=True)
                lines.append(f"{kind}/{path.name}: {problem}; removed, rebuilt on next use")
    part = re.compile(r"^\..+\.(\d+)-[a-z0-9_]{8}\.part(\.\w+)?$")
    for path in sorted(folder.rglob(".*.part*")):
        found = part.match(path.name)
        if path.is_file() and (found is None or not pid_alive(int(found.group(1)))):
            path.unlink(missing_ok=True)
            lines.append(f"removed a leftover temporary file {path}")
    lines.append(f"cache {folder} checked: {len(lines)} problem(s) found and repaired")
    return lines


def dataset_path(dataset_id: str) -> Path:
    """Return the verified cached file of ``dataset_id``, fetching it first if needed.

    Raises
    ------
    DataError
        When the file is not cached and cannot be fetched (the message says how to supply it).
    """
    return fetch([dataset_id])[0]


def status(*, mirror: Path | str | None = None) -> pd.DataFrame:
    """Return one row per dataset: id, status (present / missing / corrupt), size, licence, file.

    ``in_mirror`` tells whether the mirror (if any) holds the file.
    """
    mirror_path = Path(mirror) if mirror is not None else settings.data_mirror
    rows = []
    for ds in catalogue().values():
        path = cache_path(ds.id)
        rows.append(
            {
                "id": ds.id,
                "status": _check(ds, path),
                "in_mirror": bool(mirror_path and (Path(mirror_path) / ds.file).exists()),
                "megabytes": round(ds.bytes / 1e6, 2),
                "licence": ds.licence,
                "file": ds.file,
            }
        )
    return pd.DataFrame(rows)


def versions() -> dict[str, str]:
    """Return ``{dataset id: sha256}`` of the catalogued versions (for run provenance)."""
    return {ds.id: ds.sha256 for ds in catalogue().values()}


# ----------------------------------------------------------------------------- loaders
def _read_csv(dataset_id: str, **kwargs: object) -> tuple[pd.DataFrame, str]:
    path = dataset_path(dataset_id)
    try:
        df = pd.read_csv(path, **kwargs)  # type: ignore[arg-type]
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        msg = (
            f"{path}: cannot be read as CSV ({exc}); "
            f"fetch it again with `netplan data fetch --force {dataset_id}`"
        )
        raise DataError(msg) from exc
    return df, path.name


def _points(df: pd.DataFrame) -> gpd.GeoDataFrame:
    import geopandas as gpd

    return gpd.GeoDataFrame(
        df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=settings.geographic_crs
    )


def load_lsoa_zones(country: str = "E") -> gpd.GeoDataFrame:
    """Load LSOA population-weighted centroids joined to mid-2018 population.

    Parameters
    ----------
    country
        ``"E"`` for England (32,844 LSOAs), ``"W"`` for Wales, ``"EW"`` for both.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``id`` (LSOA 2011 code), ``name``, ``population``, ``lon``, ``lat``,
        ``geometry`` (points, EPSG:4326).

    Raises
    ------
    ValidationError
        On duplicate codes, missing coordinates, zero populations, or centroids without a
        population (or the reverse).
    """
    # Reading the ONS workbook takes seconds; keep one parsed copy per cached file version.
    key = tuple(
        (str(p), p.stat().st_mtime_ns)
        for p in (dataset_path("ons-lsoa-centroids"), dataset_path("ons-lsoa-population"))
    )
    return _load_lsoa_zones_cached(country, key).copy()


@lru_cache(maxsize=4)
def _load_lsoa_zones_cached(country: str, _key: tuple[object, ...]) -> gpd.GeoDataFrame:
    """Uncached body of :func:`load_lsoa_zones`."""
    cent, cname = _read_csv("ons-lsoa-centroids", encoding="utf-8-sig")
    check_columns(cent, ["X", "Y", "lsoa11cd", "lsoa11nm"], source=cname)
    cent = cent.rename(columns={"lsoa11cd": "id", "lsoa11nm": "name", "X": "lon", "Y": "lat"})
    from ._population import lsoa_population

    pop_path = dataset_path("ons-lsoa-population")
    pop = lsoa_population(pop_path)  # the workbook parsed once, then a derived file
    prefixes = tuple(country)
    cent = cent[cent["id"].astype(str).str.startswith(prefixes)]
    pop = pop[pop["id"].astype(str).str.startswith(prefixes)]
    check_unique(cent, "id", source=cname)
    check_unique(pop, "id", source=pop_path.name)
    zones = cent.merge(pop, on="id", how="outer", indicator=True)
    unmatched = zones[zones["_merge"] != "both"]
    if len(unmatched):
        msg = (
            f"{cname} and {pop_path.name} disagree on {len(unmatched)} LSOA code(s), e.g. "
            f"{list(unmatched['id'][:5])}; both files must be the 2011 LSOA geography"
        )
        raise ValidationError(msg)
    check_positive(zones, "population", source=pop_path.name, id_column="id")
    zones = check_lonlat(zones, source=cname, id_column="id")
    zones["population"] = zones["population"].astype(np.int64)
    zones = zones[["id", "name", "population", "lon", "lat"]].sort_values("id", ignore_index=True)
    logger.info("LSOA zones: %d, population %s", len(zones), f"{zones['population'].sum():,}")
    return _points(zones)


_HOSPITAL_COLUMNS = {
    "OrganisationCode": "id",
    "OrganisationName": "name",
    "SubType": "sub_type",
    "Sector": "sector",
    "Postcode": "postcode",
    "City": "city",
    "Address1": "address1",
    "Address2": "address2",
    "Address3": "address3",
    "Website": "website",
    "ParentODSCode": "parent_ods",
    "ParentName": "parent_name",
    "Longitude": "lon",
    "Latitude": "lat",
}


def load_hospitals() -> gpd.GeoDataFrame:
    """Load the NHS.uk hospital list (NHS and independent sector).

    The published file's data rows carry one more leading field (a row index) than its
    header names, and the last header is ``"Fax,,,"``; the header is read separately and the
    extra leading field dropped, so every value lands under its own name.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``id`` (ODS organisation code), ``name``, ``sub_type``, ``sector``,
        ``postcode``, ``city``, ``address1``, ``address2``, ``address3``, ``website``,
        ``parent_ods``, ``parent_name``, ``lon``, ``lat``, ``geometry`` (EPSG:4326).

    Raises
    ------
    ValidationError
        On duplicate ODS codes, half-given or non-numeric coordinates, or coordinates
        outside Great Britain. Rows with no coordinates at all are left out (and logged).
    """
    path = dataset_path("nhs-hospitals")
    header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns.tolist()
    raw = pd.read_csv(
        path, header=None, skiprows=1, dtype=str, encoding="utf-8-sig", keep_default_na=False
    )
    if raw.shape[1] == len(header) + 1:
        raw = raw.iloc[:, 1:]  # the unnamed leading row index
    elif raw.shape[1] != len(header):
        msg = (
            f"{path.name}: rows have {raw.shape[1]} fields, the header names {len(header)}; "
            "the NHS.uk layout has changed, check the file"
        )
        raise ValidationError(msg)
    raw.columns = header
    check_columns(raw, list(_HOSPITAL_COLUMNS), source=path.name)
    df = raw[list(_HOSPITAL_COLUMNS)].rename(columns=_HOSPITAL_COLUMNS)
    df = df.replace("", np.nan)
    check_unique(df, "id", source=path.name)
    # The published list has a few rows with no coordinates at all (2 in the catalogued
    # version: a Jersey hospital and a closed Cygnet site). They cannot be placed, so they are
    # left out and named in the log; rows with coordinates are still validated strictly.
    no_coords = df["lon"].isna() & df["lat"].isna()
    if no_coords.any():
        logger.info(
            "%s: %d row(s) without coordinates left out: %s",
            path.name,
            int(no_coords.sum()),
            ", ".join(df.loc[no_coords, "id"]),
        )
        df = df[~no_coords]
    df = check_lonlat(df, source=path.name, id_column="id")
    return _points(df.reset_index(drop=True))


def load_lsoa_to_icb() -> pd.DataFrame:
    """Load the LSOA -> sub-ICB -> ICB look-up for England.

    Returns
    -------
    pandas.DataFrame
        Columns ``lsoa_code``, ``lsoa_name``, ``subicb_code``, ``subicb_name``, ``icb_code``,
        ``icb_name``; one row per English LSOA.

    Raises
    ------
    ValidationError
        When an English LSOA has no ICB or a code repeats.
    """
    lsoa, lname = _read_csv("lookup-lsoa-subicb", dtype=str)
    check_columns(lsoa, ["lsoa", "lsoa_code", "region", "region_code"], source=lname)
    sub, sname = _read_csv("lookup-subicb-icb", dtype=str)
    check_columns(sub, ["region", "region_code", "country", "icb", "icb_code"], source=sname)
    lsoa = lsoa[lsoa["lsoa_code"].str.startswith("E")]
    check_unique(lsoa, "lsoa_code", source=lname)
    sub = sub[sub["country"] == "England"]
    check_unique(sub, "region_code", source=sname)
    out = lsoa.merge(sub[["region_code", "icb", "icb_code"]], on="region_code", how="left")
    missing = out[out["icb_code"].isna()]
    if len(missing):
        msg = (
            f"{lname}: {len(missing)} LSOA(s) point to a sub-ICB missing from {sname}, e.g. "
            f"{list(missing['region_code'].unique()[:5])}"
        )
        raise ValidationError(msg)
    out = out.rename(
        columns={
            "lsoa": "lsoa_name",
            "region": "subicb_name",
            "region_code": "subicb_code",
            "icb": "icb_name",
        }
    )
    cols = ["lsoa_code", "lsoa_name", "subicb_code", "subicb_name", "icb_code", "icb_name"]
    return out[cols].sort_values("lsoa_code", ignore_index=True)


def _read_geo(dataset_id: str) -> tuple[gpd.GeoDataFrame, str]:
    path = dataset_path(dataset_id)
    import geopandas as gpd

    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        msg = (
            f"{path}: cannot be read as vector data ({exc}); "
            f"fetch it again with `netplan data fetch --force {dataset_id}`"
        )
        raise DataError(msg) from exc
    if gdf.crs is None:
        msg = f"{path.name}: no CRS; expected WGS84 (EPSG:4326)"
        raise ValidationError(msg)
    if gdf.empty or gdf.geometry.isna().any():
        msg = f"{path.name}: empty file or features without geometry"
        raise ValidationError(msg)
    return gdf.to_crs(settings.geographic_crs), path.name


def load_icb_boundaries() -> gpd.GeoDataFrame:
    """Load the 42 English ICB boundaries (simplified) with ``icb_code``, ``icb_name``."""
    gdf, name = _read_geo("boundary-icb")
    check_unique(gdf, "icb_code", source=name)
    names = load_lsoa_to_icb()[["icb_code", "icb_name"]].drop_duplicates()
    gdf = gdf[["icb_code", "geometry"]].merge(names, on="icb_code", how="left")
    return gdf[["icb_code", "icb_name", "geometry"]].sort_values("icb_code", ignore_index=True)


def load_regions() -> gpd.GeoDataFrame:
    """Load the 9 ONS regions of England (``region_code``, ``region_name``, geometry)."""
    gdf, name = _read_geo("boundary-regions")
    check_columns(gdf, ["rgn16cd", "rgn16nm"], source=name)
    gdf = gdf.rename(columns={"rgn16cd": "region_code", "rgn16nm": "region_name"})
    return gdf[["region_code", "region_name", "geometry"]]


def load_england_outline() -> gpd.GeoDataFrame:
    """Load the England and Wales outlines (two polygons, EPSG:4326)."""
    gdf, _ = _read_geo("boundary-england-wales")
    return gdf


def load_motorways() -> gpd.GeoDataFrame:
    """Load OS Open Roads motorway links (``road_classification_number``, ``length``)."""
    gdf, name = _read_geo("os-motorways")
    check_columns(gdf, ["road_classification_number"], source=name)
    return gdf


def load_major_roads() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Load the England and Wales major-road network (nodes and undirected edges).

    Returns
    -------
    nodes : pandas.DataFrame
        ``node`` (int id), ``lon``, ``lat`` (WGS84).
    edges : pandas.DataFrame
        ``u``, ``v`` (node ids), ``length_km``.

    Raises
    ------
    ValidationError
        On duplicate node ids, edges naming unknown nodes, or non-positive lengths.
    """
    nodes, nname = _read_csv("roads-major-nodes")
    check_columns(nodes, ["node", "lat", "lon"], source=nname)
    check_unique(nodes, "node", source=nname)
    nodes = check_lonlat(nodes, source=nname, id_column="node")[["node", "lon", "lat"]]
    edges, ename = _read_csv("roads-major-edges")
    check_columns(edges, ["u", "v", "length_km"], source=ename)
    known = set(nodes["node"])
    bad = ~(edges["u"].isin(known) & edges["v"].isin(known))
    if bad.any():
        msg = f"{ename}: row(s) {list(edges.index[bad][:10])} name nodes absent from {nname}"
        raise ValidationError(msg)
    check_positive(edges, "length_km", source=ename)
    return nodes, edges[["u", "v", "length_km"]]


def load_msoa_age_bands() -> pd.DataFrame:
    """Load MSOA (2011) population by age band, keyed by MSOA name.

    Returns
    -------
    pandas.DataFrame
        ``msoa_name``, ``all_persons``, ``age_0_64``, ``age_65_79``, ``age_80_plus``,
        ``country`` (``"E"`` or ``"W"``).
    """
    df, name = _read_csv("ons-msoa-age-bands")
    cols = {
        "MSOA": "msoa_name",
        "All persons": "all_persons",
        "0-64": "age_0_64",
        "65-79": "age_65_79",
        "80+": "age_80_plus",
        "country": "country",
    }
    check_columns(df, list(cols), source=name)
    df = df[list(cols)].rename(columns=cols)
    check_unique(df, "msoa_name", source=name)
    for col in ("all_persons", "age_0_64", "age_65_79", "age_80_plus"):
        check_positive(df, col, source=name, id_column="msoa_name", allow_zero=True)
    return df


def load_msoa_imd() -> pd.DataFrame:
    """Load the Index of Multiple Deprivation 2019 score of each MSOA (2011), keyed by name.

    The mirror carries IMD 2019 at MSOA level only (the ``IMD2019Score`` column of the MSOA
    age-band table, a mean of its LSOAs' scores); no LSOA-level rank or decile. A higher
    score is more deprived.

    Returns
    -------
    pandas.DataFrame
        ``msoa_name``, ``imd_2019_score``, ``country`` (``"E"`` or ``"W"``).

    Raises
    ------
    ValidationError
        If the column is missing, a name repeats or a score is negative or missing.
    """
    df, name = _read_csv("ons-msoa-age-bands")
    cols = {"MSOA": "msoa_name", "IMD2019Score": "imd_2019_score", "country": "country"}
    check_columns(df, list(cols), source=name)
    df = df[list(cols)].rename(columns=cols)
    check_unique(df, "msoa_name", source=name)
    check_positive(df, "imd_2019_score", source=name, id_column="msoa_name", allow_zero=True)
    return df.reset_index(drop=True)


_OSM_BUILTINS = {"rutland": "osm-rutland", "leeds": "osm-leeds"}


def osm_path(name_or_path: str | Path) -> Path:
    """Return an OSM extract: a built-in name (``"rutland"``, ``"leeds"``) or a file path.

    Raises
    ------
    DataError
        When the name is unknown and no such file exists.
    """
    key = str(name_or_path).lower()
    if key in _OSM_BUILTINS:
        return dataset_path(_OSM_BUILTINS[key])
    path = Path(name_or_path).expanduser()
    if not path.is_file():
        msg = (
            f"OSM extract {name_or_path!r} is neither a built-in ({', '.join(_OSM_BUILTINS)}) "
            "nor an existing file; give the path of an .osm.pbf or .osm file"
        )
        raise DataError(msg)
    return path
