"""Demand zones and the annual PET/CT scan model.

Zones are English LSOAs (ONS 2011 population-weighted centroids, mid-2018 population), each
tagged with its MSOA, sub-ICB, ICB and Phase 1 contract lot (``data/icb_lots.csv``).

The demand model for a planning year ``Y`` and tracer ``t`` is::

    scans_t(zone) = population * rate_per_1000 / 1000 * age_factor(zone)
                    * mix_t * growth_t(base_year -> Y)

* ``rate_per_1000``: base-year scans per 1,000 people (defaults.yaml ``demand``).
* ``age_factor``: 1 unless age weighting is on. With weights ``w`` for the MSOA age bands
  0-64 / 65-79 / 80+, a zone's raw factor is its MSOA's population-weighted mean ``w``; the
  factors are then divided by their population-weighted national mean, so **age weighting
  moves demand between zones but keeps the national total equal to rate x population**.
* ``mix_t``: base-year tracer share (sums to 1).
* ``growth_t``: compound growth from the base year, one rate for all tracers
  (``growth_mode="total"``) or one per tracer (``"by_tracer"``, the default, from the
  contract's production volumes). ``annual_growth`` may also be a ``{year: rate}`` table.

Examples
--------
>>> import geopandas as gpd
>>> zones = gpd.GeoDataFrame({"id": ["a", "b"], "population": [1000, 3000],
...     "lon": [-1.5, -1.4], "lat": [53.8, 53.7]},
...     geometry=gpd.points_from_xy([-1.5, -1.4], [53.8, 53.7]), crs="EPSG:4326")
>>> p = DemandParams(year=2017, base_year=2017, rate_per_1000=2.0)
>>> estimate_demand(zones, p)["scans_per_year"].tolist()
[2.0, 6.0]
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from . import data, defaults, settings
from ._errors import ValidationError
from ._validate import check_columns, check_lonlat, check_positive, check_unique
from .tracer import check_tracer_names

logger = logging.getLogger(__name__)

#: The four Phase 1 contract lots (as the contract summary names them).
LOTS: tuple[str, ...] = (
    "North West",
    "North East, Yorkshire & the Humber",
    "Birmingham, East Midlands & East Anglia",
    "South & South West",
)
#: Lot label of ICBs outside the four Phase 1 lots (e.g. London).
OUTSIDE_LOTS = "Outside Phase 1"
ICB_LOTS_FILE = data.PROJECT_DATA / "icb_lots.csv"
AGE_BANDS: tuple[str, ...] = ("age_0_64", "age_65_79", "age_80_plus")
LEVELS: tuple[str, ...] = ("zone", "msoa", "subicb", "icb", "lot", "england")
ZONE_COLUMNS = [
    "id", "name", "population", "lon", "lat", "msoa_name",
    "subicb_code", "icb_code", "icb_name", "lot", "geometry",
]  # fmt: skip


# ----------------------------------------------------------------------------- zones
def load_icb_lots(path: str | Path | None = None) -> pd.DataFrame:
    """Load the ICB -> contract lot mapping (``data/icb_lots.csv``).

    Parameters
    ----------
    path
        A CSV with at least ``icb_code`` and ``lot``; default: the project's file.

    Returns
    -------
    pandas.DataFrame
        ``icb_code, icb_name, lot, in_phase1, basis, population_2018, reasoning``.

    Raises
    ------
    ValidationError
        On duplicate ICB codes or lots outside :data:`LOTS` and :data:`OUTSIDE_LOTS`.
    """
    path = Path(path) if path is not None else ICB_LOTS_FILE
    df = pd.read_csv(path, dtype={"icb_code": str, "lot": str})
    check_columns(df, ["icb_code", "lot"], source=path.name)
    check_unique(df, "icb_code", source=path.name)
    allowed = {*LOTS, OUTSIDE_LOTS}
    bad = df[~df["lot"].isin(allowed)]
    if len(bad):
        msg = (
            f"{path.name}: unknown lot(s) {sorted(bad['lot'].astype(str).unique())} for ICB(s) "
            f"{bad['icb_code'].tolist()[:10]}; allowed: {sorted(allowed)}"
        )
        raise ValidationError(msg)
    return df


def msoa_name_of(lsoa_name: pd.Series) -> pd.Series:
    """Return the 2011 MSOA name of LSOA names (``"Adur 001A"`` -> ``"Adur 001"``)."""
    return lsoa_name.astype(str).str.strip().str[:-1]


def load_zones(*, lots_path: str | Path | None = None) -> gpd.GeoDataFrame:
    """Load the English LSOA demand zones tagged with MSOA, sub-ICB, ICB and lot.

    Parameters
    ----------
    lots_path
        Alternative ICB -> lot CSV (see :func:`load_icb_lots`).

    Returns
    -------
    geopandas.GeoDataFrame
        ``id, name, population, lon, lat, msoa_name, subicb_code, icb_code, icb_name, lot,
        geometry`` (EPSG:4326); 32,844 rows, population 55,977,178, 42 ICBs with the
        default data.

    Raises
    ------
    ValidationError
        If an LSOA has no ICB or an ICB has no lot.
    """
    key = str(Path(lots_path).resolve()) if lots_path is not None else ""
    return _load_zones_cached(key, str(settings.cache_folder)).copy()


@lru_cache(maxsize=2)
def _load_zones_cached(lots_key: str, _cache: str) -> gpd.GeoDataFrame:
    zones = data.load_lsoa_zones("E")
    look = data.load_lsoa_to_icb()
    lots = load_icb_lots(lots_key or None)
    zones = zones.merge(
        look[["lsoa_code", "subicb_code", "icb_code", "icb_name"]],
        left_on="id", right_on="lsoa_code", how="left",
    ).drop(columns="lsoa_code")  # fmt: skip
    if zones["icb_code"].isna().any():
        bad = zones.loc[zones["icb_code"].isna(), "id"].tolist()
        msg = f"{len(bad)} LSOA(s) have no ICB in the look-up, e.g. {bad[:10]}"
        raise ValidationError(msg)
    zones["lot"] = zones["icb_code"].map(lots.set_index("icb_code")["lot"])
    if zones["lot"].isna().any():
        bad = sorted(zones.loc[zones["lot"].isna(), "icb_code"].unique())
        msg = (
            f"ICB(s) {bad} have no contract lot in {ICB_LOTS_FILE.name}; add a row for each "
            f"(lot one of {[*LOTS, OUTSIDE_LOTS]})"
        )
        raise ValidationError(msg)
    zones["msoa_name"] = msoa_name_of(zones["name"])
    zones = gpd.GeoDataFrame(zones[ZONE_COLUMNS], geometry="geometry", crs=zones.crs)
    logger.info(
        "zones: %d LSOAs, population %s, %d ICBs",
        len(zones), f"{zones['population'].sum():,}", zones["icb_code"].nunique(),
    )  # fmt: skip
    return zones


#: Number of deprivation groups of :func:`imd_quintiles`.
IMD_GROUPS = 5


def imd_quintiles(
    zones: pd.DataFrame,
    *,
    imd: pd.DataFrame | None = None,
    reference: pd.DataFrame | None = None,
) -> pd.Series:
    """Return each zone's national IMD 2019 quintile, 1 = most deprived, 5 = least.

    Each LSOA zone takes its MSOA's IMD 2019 score (the mirror has no LSOA-level ranks).
    Quintiles are **population-weighted** over the reference zones (all of England by
    default, so a study area keeps national quintiles): zones sorted from the highest score
    down, quintile ``q`` holds the zones whose cumulative population share, at the middle of
    their score, falls in ``((q-1)/5, q/5]``. Each quintile then holds about a fifth of
    England's people (the official IMD quintiles count LSOAs instead, a fifth of areas
    each); zones of one MSOA share a score and so a quintile, hence "about".

    Parameters
    ----------
    zones
        Needs ``msoa_name`` (or ``name``, an LSOA name such as ``"Adur 001A"``).
    imd
        MSOA scores ``msoa_name, imd_2019_score`` (default :func:`netplan.data.load_msoa_imd`).
    reference
        Zones that define the cut points, with ``population`` and ``msoa_name`` or ``name``
        (default :func:`load_zones`, England's 32,844 LSOAs).

    Returns
    -------
    pandas.Series
        ``Int64``, indexed like ``zones``; ``<NA>`` where the MSOA has no score (the Isles
        of Scilly in the ONS table). ``attrs["thresholds"]`` holds the lowest score of
        quintiles 1-4.

    Examples
    --------
    >>> imd = pd.DataFrame({"msoa_name": list("abcde"), "imd_2019_score": [50, 40, 30, 20, 10]})
    >>> ref = pd.DataFrame({"msoa_name": list("abcde"), "population": [1, 1, 1, 1, 1]})
    >>> imd_quintiles(ref, imd=imd, reference=ref).tolist()
    [1, 2, 3, 4, 5]
    """
    imd = data.load_msoa_imd() if imd is None else imd
    ref = load_zones() if reference is None else reference
    check_columns(imd, ["msoa_name", "imd_2019_score"], source="imd")
    check_columns(ref, ["population"], source="reference zones")
    lookup = pd.Series(imd["imd_2019_score"].astype(float).to_numpy(), index=imd["msoa_name"])

    def scores(df: pd.DataFrame) -> pd.Series:
        msoa = df["msoa_name"] if "msoa_name" in df else msoa_name_of(df["name"])
        return msoa.map(lookup).astype(float)

    # population per distinct score, most deprived first; midpoint cumulative share
    by_score = (
        pd.DataFrame({"score": scores(ref), "pop": ref["population"].astype(float)})
        .dropna()
        .groupby("score")["pop"]
        .sum()
        .sort_index(ascending=False)
    )
    total = float(by_score.sum())
    if total <= 0:
        msg = "imd_quintiles: the reference zones have no population with an IMD score"
        raise ValidationError(msg)
    mid = (by_score.cumsum() - by_score / 2) / total
    group = np.minimum(np.floor(mid.to_numpy() * IMD_GROUPS).astype(int) + 1, IMD_GROUPS)
    levels = by_score.index.to_numpy()
    thresholds = [
        float(levels[group <= q].min()) if (group <= q).any() else np.inf
        for q in range(1, IMD_GROUPS)
    ]
    s = scores(zones)
    q = 1 + sum((s < t).astype(int) for t in thresholds)
    out = pd.Series(q, index=zones.index).astype("Int64").where(s.notna(), pd.NA)
    out.attrs["thresholds"] = thresholds
    return out


def zones_from_points(df: pd.DataFrame, *, source: str = "zones") -> gpd.GeoDataFrame:
    """Validate a user table of demand points and return it as a GeoDataFrame.

    Parameters
    ----------
    df
        Needs ``id``, ``population``, ``lon``, ``lat`` (WGS84); other columns are kept.
    source
        Name used in error messages (e.g. the file name).

    Returns
    -------
    geopandas.GeoDataFrame
        Point geometry in EPSG:4326.

    Raises
    ------
    ValidationError
        On missing columns, duplicate ids, zero/negative/missing population, or missing,
        swapped or out-of-Britain coordinates (the message lists the rows).
    """
    check_columns(df, ["id", "population", "lon", "lat"], source=source)
    check_unique(df, "id", source=source)
    check_positive(df, "population", source=source, id_column="id")
    out = check_lonlat(pd.DataFrame(df.drop(columns="geometry", errors="ignore")),
                       source=source, id_column="id")  # fmt: skip
    return gpd.GeoDataFrame(
        out, geometry=gpd.points_from_xy(out["lon"], out["lat"]), crs=settings.geographic_crs
    )


# ----------------------------------------------------------------------------- parameters
def _growth_value(value: Any, *, name: str) -> float | dict[int, float]:
    if isinstance(value, Mapping):
        table = {int(k): float(v) for k, v in value.items()}
        bad = {k: v for k, v in table.items() if not (v > -1 and np.isfinite(v))}
        if bad:
            msg = f"{name}: growth rates must be > -1, got {bad}"
            raise ValidationError(msg)
        return table
    if isinstance(value, bool):
        msg = f"{name} must be a number (a fraction per year), got {value!r}"
        raise ValidationError(msg)
    rate = float(value)
    if not (rate > -1 and np.isfinite(rate)):
        msg = f"{name} must be > -1 (a fraction per year, e.g. 0.1 for 10 %), got {value!r}"
        raise ValidationError(msg)
    return rate


@dataclass(frozen=True)
class DemandParams:
    """Parameters of the demand model.

    Build it with :meth:`from_defaults` to take every value from ``defaults.yaml`` (section
    ``demand``); the plain constructor needs ``year``, ``base_year`` and ``rate_per_1000``
    and otherwise means no growth, all FDG and no age weighting.

    Parameters
    ----------
    year
        Planning year.
    base_year
        Year of ``rate_per_1000`` and ``tracer_mix``.
    rate_per_1000
        Scans per 1,000 population per year in the base year.
    growth_mode
        ``"total"`` (``annual_growth`` for all tracers) or ``"by_tracer"`` (``tracer_growth``).
    annual_growth
        Compound growth per year, or a ``{year: rate}`` table covering every year from
        ``base_year + 1`` to ``year``.
    tracer_growth
        ``{tracer: rate}`` (each a float or a ``{year: rate}`` table) for ``"by_tracer"``.
    tracer_mix
        ``{tracer: share}`` of base-year scans; must sum to 1 (within 0.1 %).
    age_weights
        ``{"age_0_64": w, "age_65_79": w, "age_80_plus": w}`` relative rates, or None for
        no age weighting.
    """

    year: int
    base_year: int
    rate_per_1000: float
    growth_mode: str = "total"
    annual_growth: float | Mapping[int, float] = 0.0
    tracer_growth: Mapping[str, Any] = field(default_factory=dict)
    tracer_mix: Mapping[str, float] = field(default_factory=lambda: {"fdg": 1.0})
    age_weights: Mapping[str, float] | None = None

    def __post_init__(self) -> None:
        """Validate and normalise the values (tracer names to their keys)."""
        set_ = object.__setattr__
        for name in ("year", "base_year"):
            value = getattr(self, name)
            if isinstance(value, bool) or not float(value).is_integer():
                msg = f"demand.{name} must be a whole year such as 2025, got {value!r}"
                raise ValidationError(msg)
            set_(self, name, int(value))
        if not (np.isfinite(self.rate_per_1000) and self.rate_per_1000 >= 0):
            msg = f"demand.rate_per_1000 must be >= 0, got {self.rate_per_1000!r}"
            raise ValidationError(msg)
        if self.growth_mode not in {"total", "by_tracer"}:
            msg = f"demand.growth_mode must be 'total' or 'by_tracer', got {self.growth_mode!r}"
            raise ValidationError(msg)
        set_(self, "annual_growth", _growth_value(self.annual_growth, name="demand.annual_growth"))
        keys = check_tracer_names(self.tracer_mix, source="demand.tracer_mix")
        shares = [float(v) for v in self.tracer_mix.values()]
        if any(not s >= 0 for s in shares) or abs(sum(shares) - 1) > 1e-3:
            msg = f"demand.tracer_mix shares must be >= 0 and sum to 1, got {dict(self.tracer_mix)}"
            raise ValidationError(msg)
        set_(self, "tracer_mix", dict(zip(keys, shares, strict=True)))
        gkeys = check_tracer_names(self.tracer_growth, source="demand.tracer_growth")
        growth = {
            k: _growth_value(v, name=f"demand.tracer_growth.{k}")
            for k, v in zip(gkeys, self.tracer_growth.values(), strict=True)
        }
        set_(self, "tracer_growth", growth)
        if self.growth_mode == "by_tracer":
            missing = [k for k in keys if k not in growth]
            if missing:
                msg = (
                    f"demand.tracer_growth has no rate for tracer(s) {missing} of tracer_mix; "
                    "give one per tracer or use growth_mode='total'"
                )
                raise ValidationError(msg)
        if self.age_weights is not None:
            weights = dict(self.age_weights)
            if set(weights) != set(AGE_BANDS) or any(not float(w) >= 0 for w in weights.values()):
                msg = (
                    f"demand.age_weights must give a weight >= 0 for exactly {list(AGE_BANDS)}, "
                    f"got {weights}"
                )
                raise ValidationError(msg)
            if sum(float(w) for w in weights.values()) == 0:
                msg = "demand.age_weights are all zero; give at least one positive weight"
                raise ValidationError(msg)
            set_(self, "age_weights", {k: float(weights[k]) for k in AGE_BANDS})

    @classmethod
    def from_defaults(cls, **overrides: Any) -> DemandParams:
        """Build from ``defaults.yaml`` (section ``demand``) with keyword overrides.

        ``age_weighting`` (bool) in the defaults decides whether ``age_weights`` is used;
        pass ``age_weights=None`` or a mapping to override.

        Raises
        ------
        ValidationError
            On an unknown override key (the message lists the allowed ones).
        """
        allowed = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(overrides) - allowed - {"age_weighting"})
        if unknown:
            msg = f"unknown demand parameter(s) {unknown}; allowed: {sorted(allowed)}"
            raise ValidationError(msg)
        d = defaults.load_defaults()["demand"]
        values: dict[str, Any] = {k: d[k] for k in allowed if k in d}
        weighting = overrides.pop("age_weighting", d.get("age_weighting", False))
        values["age_weights"] = d["age_weights"] if weighting else None
        values.update(overrides)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Return the parameters as plain (YAML-serialisable) values."""
        return {
            f.name: (dict(v) if isinstance(v := getattr(self, f.name), Mapping) else v)
            for f in dataclasses.fields(self)
        }

    def growth_factor(self, tracer: str | None = None, year: int | None = None) -> float:
        """Return the compound growth factor from ``base_year`` to ``year`` for one tracer.

        Raises
        ------
        ValidationError
            If a ``{year: rate}`` table misses a year in the range.
        """
        year = self.year if year is None else int(year)
        rate: Any = self.annual_growth
        if self.growth_mode == "by_tracer" and tracer is not None:
            rate = self.tracer_growth[tracer]
        lo, hi = sorted((self.base_year, year))
        years = range(lo + 1, hi + 1)
        if isinstance(rate, Mapping):
            missing = [y for y in years if y not in rate]
            if missing:
                msg = (
                    f"growth table has no rate for year(s) {missing}; give every year {lo + 1}-{hi}"
                )
                raise ValidationError(msg)
            factor = float(np.prod([1 + rate[y] for y in years]))
        else:
            factor = (1 + float(rate)) ** len(years)
        return factor if year >= self.base_year else 1 / factor


# ----------------------------------------------------------------------------- model
def age_factors(
    zones: pd.DataFrame, age_weights: Mapping[str, float], *, age_bands: pd.DataFrame | None = None
) -> pd.Series:
    """Return each zone's age factor, normalised to a population-weighted mean of 1.

    Parameters
    ----------
    zones
        Needs ``population`` and ``msoa_name`` (or ``name``, an LSOA name).
    age_weights
        Relative scan rates for ``age_0_64``, ``age_65_79``, ``age_80_plus``.
    age_bands
        MSOA age-band table (default :func:`netplan.data.load_msoa_age_bands`).

    Returns
    -------
    pandas.Series
        Indexed like ``zones``. Zones whose MSOA is not in the table get the national
        mean factor and a logged warning names them (the Isles of Scilly in the ONS data).
    """
    bands = data.load_msoa_age_bands() if age_bands is None else age_bands
    msoa = zones["msoa_name"] if "msoa_name" in zones else msoa_name_of(zones["name"])
    tot = bands[list(AGE_BANDS)].sum(axis=1).replace(0, np.nan)
    raw = sum(bands[b] * float(age_weights[b]) for b in AGE_BANDS) / tot
    national = float(
        sum(bands[b].sum() * float(age_weights[b]) for b in AGE_BANDS)
        / bands[list(AGE_BANDS)].to_numpy().sum()
    )
    lookup = pd.Series(raw.to_numpy(), index=bands["msoa_name"])
    factor = msoa.map(lookup)
    if factor.isna().any():
        n = int(factor.isna().sum())
        logger.warning(
            "%d zone(s) have no MSOA age bands (e.g. %s); they get the national mean age factor",
            n,
            msoa[factor.isna()].iloc[:5].tolist(),
        )
        factor = factor.fillna(national)
    pop = zones["population"].astype(float)
    factor = factor.astype(float) / float((factor * pop).sum() / pop.sum())
    return factor


def estimate_demand(
    zones: pd.DataFrame,
    params: DemandParams | None = None,
    *,
    year: int | None = None,
    age_bands: pd.DataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Estimate annual PET/CT scans per zone and tracer for a planning year.

    Parameters
    ----------
    zones
        Demand zones (``id``, ``population`` and, for maps, ``lon``/``lat``), e.g. from
        :func:`load_zones` or :func:`zones_from_points`.
    params
        Model parameters; default :meth:`DemandParams.from_defaults`.
    year
        Planning year, overriding ``params.year``.
    age_bands
        MSOA age bands for age weighting (default: the ONS table from the data layer).

    Returns
    -------
    geopandas.GeoDataFrame
        ``zones`` plus ``age_factor``, ``scans_<tracer>`` per tracer and ``scans_per_year``
        (their sum). ``attrs["demand"]`` holds the parameters used.

    Raises
    ------
    ValidationError
        On duplicate ids, zero/negative/missing population, or bad coordinates.
    """
    params = DemandParams.from_defaults() if params is None else params
    if year is not None:
        params = dataclasses.replace(params, year=year)
    check_columns(zones, ["id", "population"], source="zones")
    check_unique(zones, "id", source="zones")
    check_positive(zones, "population", source="zones", id_column="id")
    if {"lon", "lat"} <= set(zones.columns):
        check_lonlat(zones, source="zones", id_column="id")
    out = zones.copy()
    base = out["population"].astype(float) * params.rate_per_1000 / 1000.0
    if params.age_weights is not None:
        out["age_factor"] = age_factors(out, params.age_weights, age_bands=age_bands)
    else:
        out["age_factor"] = 1.0
    base = base * out["age_factor"]
    cols = []
    for tracer, share in params.tracer_mix.items():
        col = f"scans_{tracer}"
        out[col] = base * share * params.growth_factor(tracer)
        cols.append(col)
    out["scans_per_year"] = out[cols].sum(axis=1)
    if not isinstance(out, gpd.GeoDataFrame) and {"lon", "lat"} <= set(out.columns):
        out = gpd.GeoDataFrame(
            out, geometry=gpd.points_from_xy(out["lon"], out["lat"]), crs=settings.geographic_crs
        )
    out.attrs["demand"] = params.to_dict()
    logger.info(
        "demand %d: %s scans/yr over %d zones (population %s)",
        params.year, f"{out['scans_per_year'].sum():,.0f}", len(out),
        f"{int(out['population'].sum()):,}",
    )  # fmt: skip
    return out


_LEVEL_KEYS: dict[str, list[str]] = {
    "zone": ["id"],
    "msoa": ["msoa_name"],
    "subicb": ["subicb_code"],
    "icb": ["icb_code", "icb_name", "lot"],
    "lot": ["lot"],
    "england": [],
}


def aggregate(zones_or_demand: pd.DataFrame, level: str = "icb") -> gpd.GeoDataFrame:
    """Sum population and scans to MSOA, sub-ICB, ICB, lot or England level.

    Parameters
    ----------
    zones_or_demand
        Output of :func:`load_zones` or :func:`estimate_demand`.
    level
        One of {"zone", "msoa", "subicb", "icb", "lot", "england"}.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per unit: the key column(s) (``id`` is set to the key), ``n_zones``,
        ``population``, every ``scans_*`` column, and ``lon``/``lat``/geometry at the
        population-weighted centroid (EPSG:4326), so MSOAs can serve as demand points.

    Raises
    ------
    ValidationError
        On an unknown level or a missing key column.
    """
    if level not in _LEVEL_KEYS:
        msg = f"unknown aggregation level {level!r}; use one of {list(_LEVEL_KEYS)}"
        raise ValidationError(msg)
    keys = _LEVEL_KEYS[level]
    check_columns(zones_or_demand, [*keys, "population", "lon", "lat"], source="zones")
    df = pd.DataFrame(zones_or_demand.drop(columns="geometry", errors="ignore"))
    sums = ["population", *[c for c in df.columns if c.startswith("scans_")]]
    df["_wlon"] = df["lon"] * df["population"]
    df["_wlat"] = df["lat"] * df["population"]
    df["n_zones"] = 1
    group = df.groupby(keys, sort=True) if keys else df.assign(_all="England").groupby("_all")
    agg = group[["n_zones", *sums, "_wlon", "_wlat"]].sum().reset_index()
    agg["lon"] = agg.pop("_wlon") / agg["population"]
    agg["lat"] = agg.pop("_wlat") / agg["population"]
    agg["id"] = agg[keys[0]] if keys else "England"
    agg = agg.drop(columns="_all", errors="ignore")
    agg = agg[["id", *[k for k in keys if k != "id"], "n_zones", *sums, "lon", "lat"]]
    return gpd.GeoDataFrame(
        agg, geometry=gpd.points_from_xy(agg["lon"], agg["lat"]), crs=settings.geographic_crs
    )
