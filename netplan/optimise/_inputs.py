"""The placement model's inputs: the constructor's arguments read, defaulted and checked.

:class:`PlacementInputs` owns everything between the caller's frames and a validated
model: defaults from ``netplan/defaults.yaml``, number checks, the site table (locks,
forbids, lots, per-site maxima), zone demand, tracer supply (primary and back-up
cyclotrons, decay-weighted flows), the rules that contradict each other before any solve,
the zone-site pairs within the drive standard (with the reason a zone has none), the long
travel-time table for the population thresholds, and the uncovered penalty. It builds no
rows and merges no zones: :class:`~netplan.optimise._formulation.PlacementFormulation`
builds on it, and :class:`~netplan.optimise.PlacementModel` documents the arguments.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pulp

from .._errors import InfeasibleError, ValidationError
from .._validate import check_columns, check_od, check_unique
from ._base import default
from ._core import EPS, OBJECTIVES

_INFEASIBLE = pulp.LpStatus[pulp.LpStatusInfeasible]


def _as_set(values: Iterable[Any] | None) -> set[Any]:
    return set() if values is None else set(values)


class PlacementInputs:
    """The validated inputs of a placement model (internal).

    Its constructor is :class:`~netplan.optimise.PlacementModel`'s (the arguments are
    documented there): it reads and checks every argument, including the ones that shape
    the formulation (``merge_zones``, ``strong_linking``, ``covering_cuts``,
    ``region_cuts``), then calls :meth:`_build`, which subclasses extend.

    Raises
    ------
    ValidationError
        Bad inputs (missing columns, unknown ids, bad values).
    InfeasibleError
        Rules that contradict each other before any solve.
    """

    def __init__(
        self,
        od: pd.DataFrame,
        demand: pd.DataFrame,
        sites: pd.DataFrame,
        *,
        cyclotron_minutes: pd.DataFrame | None = None,
        od_all: pd.DataFrame | None = None,
        objective: str = "cost",
        drive_minutes: float | None = None,
        p_sites: int | None = None,
        static_scans_per_day: float | None = None,
        working_days_per_year: float | None = None,
        mobile_scans_per_day: float | None = None,
        mobile_weeks_per_year: float | None = None,
        target_utilisation: float | None = None,
        max_static_per_site: int | None = None,
        max_mobile_days_per_site: int | None = None,
        mobile_units: int | None = None,
        mobile_days_per_unit: int | None = None,
        max_sites_per_unit: int | None = None,
        allow_static_and_mobile: bool = True,
        static_capital_gbp: float | None = None,
        install_gbp: float | None = None,
        contract_install_gbp: float | None = None,
        annualisation_years: float | None = None,
        static_running_gbp_per_year: float | None = None,
        mobile_gbp_per_day: float | None = None,
        tracer_primary_minutes: float | None = None,
        tracer_backup_minutes: float | None = None,
        require_backup: bool = False,
        cyclotron_doses_per_day: Mapping[Any, float] | float | None = None,
        decay_factor: Callable[[Any], Any] | None = None,
        lock_open: Iterable[Any] | None = None,
        lock_static: Iterable[Any] | None = None,
        forbid: Iterable[Any] | None = None,
        capital_budget_gbp: float | None = None,
        min_sites_per_lot: Mapping[Any, int] | None = None,
        uncovered_penalty_gbp_per_scan: float | None = None,
        merge_zones: bool | str = "auto",
        strong_linking: bool = False,
        covering_cuts: bool = False,
        region_cuts: bool = True,
        travel_cost_tolerance: float | None = None,
    ) -> None:
        start = time.perf_counter()
        self.travel_cost_tolerance = _tolerance(travel_cost_tolerance, objective)
        if objective not in OBJECTIVES:
            msg = f"unknown objective {objective!r}; choose one of {list(OBJECTIVES)}"
            raise ValidationError(msg)
        if merge_zones not in ("auto", True, False):
            msg = f"merge_zones must be 'auto', True or False, got {merge_zones!r}"
            raise ValidationError(msg)
        self.objective = objective
        self.merge_zones = merge_zones

        def pick(value: Any, key: str) -> float:
            out = default(key) if value is None else value
            return float(out)

        self.drive_minutes = pick(drive_minutes, "service.drive_standard_minutes")
        self.static_scans_per_day = pick(static_scans_per_day, "scanners.static_scans_per_day")
        self.working_days_per_year = pick(working_days_per_year, "scanners.working_days_per_year")
        self.mobile_scans_per_day = pick(mobile_scans_per_day, "scanners.mobile_scans_per_day")
        self.mobile_weeks_per_year = pick(mobile_weeks_per_year, "scanners.mobile_weeks_per_year")
        self.target_utilisation = pick(target_utilisation, "scanners.target_utilisation")
        self.max_static_per_site = int(
            pick(max_static_per_site, "scanners.max_static_scanners_per_site")
        )
        self.max_mobile_days_per_site = int(
            pick(max_mobile_days_per_site, "scanners.mobile_max_visit_days_per_week")
        )
        self.mobile_days_per_unit = int(pick(mobile_days_per_unit, "scanners.mobile_days_per_week"))
        self.static_capital_gbp = pick(static_capital_gbp, "costs.static_scanner_capital_gbp")
        self.install_gbp = pick(install_gbp, "costs.static_install_gbp")
        self.contract_install_gbp = pick(contract_install_gbp, "costs.existing_site_install_gbp")
        self.annualisation_years = pick(annualisation_years, "costs.annualisation_years")
        self.static_running_gbp_per_year = pick(
            static_running_gbp_per_year, "costs.static_running_gbp_per_year"
        )
        self.mobile_gbp_per_day = pick(mobile_gbp_per_day, "costs.mobile_gbp_per_day")
        self.tracer_primary_minutes = pick(
            tracer_primary_minutes, "tracer.max_delivery_minutes_primary"
        )
        self.tracer_backup_minutes = pick(
            tracer_backup_minutes, "tracer.max_delivery_minutes_backup"
        )
        self.require_backup = bool(require_backup)
        self.mobile_units = None if mobile_units is None else int(mobile_units)
        self.max_sites_per_unit = None if max_sites_per_unit is None else int(max_sites_per_unit)
        self.allow_static_and_mobile = bool(allow_static_and_mobile)
        self.capital_budget_gbp = None if capital_budget_gbp is None else float(capital_budget_gbp)
        self.p_sites = None if p_sites is None else int(p_sites)
        self.strong_linking = bool(strong_linking)
        self.covering_cuts = bool(covering_cuts)
        self.region_cuts = bool(region_cuts)
        self._check_numbers()
        if objective == "max_coverage" and self.p_sites is None:
            msg = "objective 'max_coverage' needs p_sites (the number of sites to open)"
            raise ValidationError(msg)
        if decay_factor is None:
            from .. import tracer

            decay_factor = tracer.decay_factor
        self._decay_factor = decay_factor
        self.messages: list[str] = []

        self._read_sites(sites, lock_open, lock_static, forbid, min_sites_per_lot)
        self._read_demand(demand)
        self._read_tracer(cyclotron_minutes, cyclotron_doses_per_day)
        self._check_rules()
        self._read_pairs(od)
        self._od_all = self._read_od_all(od if od_all is None else od_all)
        self._penalty = self._uncovered_penalty(uncovered_penalty_gbp_per_scan)
        self._build(start)

    def _build(self, start: float) -> None:
        """Build on the inputs just read; here only ``build_time_s`` is set.

        The constructor's last step: :class:`~netplan.optimise._formulation.
        PlacementFormulation` extends it to merge the zones and lay out the matrix.
        ``start`` is when the constructor began, so ``build_time_s`` covers the reading.
        """
        self.build_time_s = time.perf_counter() - start

    def _check_numbers(self) -> None:
        positive = {
            "drive_minutes": self.drive_minutes,
            "working_days_per_year": self.working_days_per_year,
            "mobile_weeks_per_year": self.mobile_weeks_per_year,
            "annualisation_years": self.annualisation_years,
            "target_utilisation": self.target_utilisation,
            "tracer_primary_minutes": self.tracer_primary_minutes,
        }
        bad = {k: v for k, v in positive.items() if not (v > 0 and math.isfinite(v))}
        if bad:
            msg = f"these inputs must be positive and finite: {bad}"
            raise ValidationError(msg)
        if self.target_utilisation > 1:
            msg = f"target_utilisation must be in (0, 1], got {self.target_utilisation}"
            raise ValidationError(msg)
        if not 0 <= self.max_mobile_days_per_site <= 5:
            msg = f"max_mobile_days_per_site must be 0..5, got {self.max_mobile_days_per_site}"
            raise ValidationError(msg)
        for name in (
            "static_scans_per_day",
            "mobile_scans_per_day",
            "static_capital_gbp",
            "install_gbp",
            "contract_install_gbp",
            "static_running_gbp_per_year",
            "mobile_gbp_per_day",
        ):
            if getattr(self, name) < 0:
                msg = f"{name} must be >= 0, got {getattr(self, name)}"
                raise ValidationError(msg)

    def _read_sites(
        self,
        sites: pd.DataFrame,
        lock_open: Any,
        lock_static: Any,
        forbid: Any,
        min_sites_per_lot: Mapping[Any, int] | None,
    ) -> None:
        if not isinstance(sites, pd.DataFrame) or len(sites) == 0:
            msg = "sites: no candidate sites; give a DataFrame with one row per site (column id)"
            raise ValidationError(msg)
        check_unique(sites, "id", source="sites")
        self.site_ids = np.asarray(sites["id"].to_numpy(), dtype=object)
        self.n_sites = len(self.site_ids)
        self._site_pos = {sid: k for k, sid in enumerate(self.site_ids)}
        n = self.n_sites
        self.site_name = (
            sites["name"].astype(str).to_numpy() if "name" in sites else self.site_ids.astype(str)
        )
        self.site_lot = (
            sites["lot"].to_numpy(dtype=object)
            if "lot" in sites
            else np.full(n, None, dtype=object)
        )
        contract = (
            sites["is_contract"].fillna(False).astype(bool).to_numpy()
            if "is_contract" in sites
            else np.zeros(n, bool)
        )
        smax = np.full(n, self.max_static_per_site, dtype=float)
        if "max_static_scanners" in sites:
            col = pd.to_numeric(sites["max_static_scanners"], errors="coerce").to_numpy()
            smax = np.where(np.isfinite(col), col, smax)
        if "allow_static" in sites:
            smax = np.where(sites["allow_static"].fillna(True).astype(bool), smax, 0)
        mmax = np.full(n, float(self.max_mobile_days_per_site))
        if "max_mobile_days" in sites:  # per-site limits (a re-solve after the rota)
            col = pd.to_numeric(sites["max_mobile_days"], errors="coerce").to_numpy(float)
            mmax = np.where(np.isfinite(col), np.minimum(col, mmax), mmax)
        if "allow_mobile" in sites:
            mmax = np.where(sites["allow_mobile"].fillna(True).astype(bool), mmax, 0)
        if self.mobile_units == 0 or self.mobile_scans_per_day == 0:
            mmax[:] = 0
        self.smax, self.mmax = smax, mmax
        # a site with an existing PET-CT suite (column install_saving, default: the contract
        # sites) pays contract_install_gbp instead of install_gbp
        saving = (
            sites["install_saving"].fillna(False).astype(bool).to_numpy()
            if "install_saving" in sites
            else contract
        )
        self.install_site_gbp = np.where(saving, self.contract_install_gbp, self.install_gbp)
        self.is_contract = contract

        def positions(ids: Any, what: str) -> np.ndarray:
            ids = _as_set(ids)
            unknown = sorted(map(str, ids - set(self._site_pos)))
            if unknown:
                msg = f"{what}: unknown site id(s) {unknown[:10]}; use ids from sites['id']"
                raise ValidationError(msg)
            return np.array(sorted(self._site_pos[s] for s in ids), dtype=np.int64)

        if "locked" in sites:  # sites.candidate_sites(lock=...) marks sites to keep open
            marked = self.site_ids[sites["locked"].fillna(False).astype(bool).to_numpy()]
            lock_open = [*_as_set(lock_open), *marked]
        self.lock_open = positions(lock_open, "lock_open")
        self.lock_static = positions(lock_static, "lock_static")
        self.forbid = positions(forbid, "forbid")
        self.min_sites_per_lot = dict(min_sites_per_lot or {})
        if self.min_sites_per_lot and "lot" not in sites:
            msg = "min_sites_per_lot needs a 'lot' column in sites"
            raise ValidationError(msg)
        unknown_lots = set(self.min_sites_per_lot) - set(self.site_lot)
        if unknown_lots:
            msg = f"min_sites_per_lot names lot(s) {sorted(map(str, unknown_lots))} with no site"
            raise ValidationError(msg)

    def _read_demand(self, demand: pd.DataFrame) -> None:
        if not isinstance(demand, pd.DataFrame) or len(demand) == 0:
            msg = "demand: no zones; give a DataFrame with one row per zone (id, scans_per_year)"
            raise ValidationError(msg)
        check_unique(demand, "id", source="demand")
        check_columns(demand, ["id", "scans_per_year"], source="demand")
        self.zone_ids = np.asarray(demand["id"].to_numpy(), dtype=object)
        self.n_zones = len(self.zone_ids)
        d = pd.to_numeric(demand["scans_per_year"], errors="coerce").to_numpy(dtype=float)
        if not np.all(np.isfinite(d)) or np.any(d < 0):
            bad = self.zone_ids[~(np.isfinite(d) & (d >= 0))][:10]
            msg = f"demand: scans_per_year must be finite and >= 0; bad zone(s) {list(bad)}"
            raise ValidationError(msg)
        self.d = d
        if "population" in demand:
            self.pop = (
                pd.to_numeric(demand["population"], errors="coerce").fillna(0).to_numpy(dtype=float)
            )
        else:
            self.pop = d.copy()
        self.zone_lot = (
            demand["lot"].to_numpy(dtype=object)
            if "lot" in demand
            else np.full(self.n_zones, None, dtype=object)
        )
        self._zone_pos = pd.Index(self.zone_ids)

    def _read_tracer(
        self, cyc: pd.DataFrame | None, capacity: Mapping[Any, float] | float | None
    ) -> None:
        n = self.n_sites
        self.tracer_ok = np.ones(n, bool)
        self.tracer_source = np.full(n, None, dtype=object)
        self.tracer_minutes = np.full(n, np.nan)
        self.backup_source = np.full(n, None, dtype=object)
        self.backup_minutes = np.full(n, np.nan)
        self.tracer_reason = np.full(n, "", dtype=object)
        self.cyc_pairs: pd.DataFrame | None = None
        self.cyc_capacity: dict[Any, float] = {}
        if cyc is None:
            if capacity is not None or self.require_backup:
                msg = "cyclotron capacity / require_backup need cyclotron_minutes"
                raise ValidationError(msg)
            return
        check_od(
            cyc,
            source="cyclotron_minutes",
            origin_col="site_id",
            destination_col="cyclotron_id",
            origins=self.site_ids,
            origin_what="sites",
        )
        table = cyc[cyc["site_id"].isin(self._site_pos)].copy()
        table["minutes"] = pd.to_numeric(table["minutes"], errors="coerce")
        table = table.dropna(subset=["minutes"])
        table = table.groupby(["site_id", "cyclotron_id"], as_index=False)["minutes"].min()
        table["pos"] = table["site_id"].map(self._site_pos).astype(np.int64)
        table = table.sort_values(["pos", "minutes"], kind="stable")
        for pos, grp in table.groupby("pos", sort=False):
            within = grp[grp["minutes"] <= self.tracer_primary_minutes + EPS]
            if len(within):
                self.tracer_source[pos] = within["cyclotron_id"].iloc[0]
                self.tracer_minutes[pos] = within["minutes"].iloc[0]
            others = grp[
                (grp["cyclotron_id"] != self.tracer_source[pos])
                & (grp["minutes"] <= self.tracer_backup_minutes + EPS)
            ]
            if len(others):
                self.backup_source[pos] = others["cyclotron_id"].iloc[0]
                self.backup_minutes[pos] = others["minutes"].iloc[0]
        no_primary = pd.isna(self.tracer_minutes)
        self.tracer_reason[no_primary] = (
            f"no cyclotron within {self.tracer_primary_minutes:g} delivery minutes"
        )
        self.tracer_ok &= ~no_primary
        if self.require_backup:
            no_backup = ~no_primary & pd.isna(self.backup_minutes)
            self.tracer_reason[no_backup] = (
                f"no back-up cyclotron within {self.tracer_backup_minutes:g} delivery minutes"
            )
            self.tracer_ok &= ~no_backup
        if capacity is not None:
            cyc_ids = table["cyclotron_id"].unique()
            if isinstance(capacity, Mapping):
                missing = [c for c in cyc_ids if c not in capacity]
                if missing:
                    msg = f"cyclotron_doses_per_day: no capacity for cyclotron(s) {missing[:10]}"
                    raise ValidationError(msg)
                self.cyc_capacity = {c: float(capacity[c]) for c in cyc_ids}
            else:
                self.cyc_capacity = {c: float(capacity) for c in cyc_ids}
            flows = table[table["minutes"] <= self.tracer_primary_minutes + EPS].copy()
            flows["factor"] = np.asarray(
                self._decay_factor(flows["minutes"].to_numpy()), dtype=float
            )
            self.cyc_pairs = flows.reset_index(drop=True)

    def _check_rules(self) -> None:
        n = self.n_sites
        available = self.tracer_ok.copy()
        available[self.forbid] = False
        available &= (self.smax + self.mmax) > 0
        self.available = available
        problems = []
        for pos in self.lock_open.tolist() + self.lock_static.tolist():
            sid = self.site_ids[pos]
            if pos in set(self.forbid.tolist()):
                problems.append(f"site {sid!r} is both locked and forbidden")
            elif not self.tracer_ok[pos]:
                problems.append(f"site {sid!r} is locked but has {self.tracer_reason[pos]}")
            elif not available[pos]:
                problems.append(f"site {sid!r} is locked but allows no service")
        for pos in self.lock_static.tolist():
            if self.smax[pos] < 1:
                problems.append(
                    f"site {self.site_ids[pos]!r} is locked static but allows no static scanner"
                )
        n_avail = int(available.sum())
        if self.p_sites is not None:
            if self.p_sites > n_avail:
                problems.append(
                    f"p_sites={self.p_sites} but only {n_avail} of {n} sites are "
                    "available (not forbidden, with tracer supply)"
                )
            locked = len(set(self.lock_open.tolist()) | set(self.lock_static.tolist()))
            if locked > self.p_sites:
                problems.append(f"{locked} sites are locked open but p_sites={self.p_sites}")
        for lot, need in self.min_sites_per_lot.items():
            have = int((available & (self.site_lot == lot)).sum())
            if need > have:
                problems.append(f"lot {lot!r} needs {need} sites but only {have} are available")
        if self.capital_budget_gbp is not None and len(self.lock_static):
            need = float(
                sum(self.static_capital_gbp + self.install_site_gbp[p] for p in self.lock_static)
            )
            if need > self.capital_budget_gbp + EPS:
                problems.append(
                    f"the locked static sites need £{need:,.0f} of capital but the "
                    f"budget is £{self.capital_budget_gbp:,.0f}"
                )
        if self.max_sites_per_unit is not None and self.max_sites_per_unit < 0:
            problems.append("max_sites_per_unit must be >= 0")
        if problems:
            msg = (
                "placement model is infeasible before solving: "
                + "; ".join(problems)
                + ". Relax the rules (locks, forbids, p_sites, lot minimums, budget)."
            )
            raise InfeasibleError(msg, _INFEASIBLE)

    def _read_pairs(self, od: pd.DataFrame) -> None:
        check_od(od, source="od", origins=self.zone_ids, destinations=self.site_ids)
        zone = _positions(self._zone_pos, od["origin_id"])
        site = _positions(pd.Index(self.site_ids), od["destination_id"])
        minutes = pd.to_numeric(od["minutes"], errors="coerce").to_numpy(dtype=float)
        keep = (zone >= 0) & (site >= 0) & np.isfinite(minutes)
        keep &= minutes <= self.drive_minutes + EPS
        zone, site, minutes = zone[keep], site[keep], minutes[keep]
        # pairs within the standard, before removing unavailable sites (for the reasons)
        any_within = np.zeros(self.n_zones, bool)
        any_within[zone] = True
        tracer_pair = self.tracer_ok[site]
        any_tracer = np.zeros(self.n_zones, bool)
        any_tracer[zone[tracer_pair]] = True
        avail = self.available[site]
        zone, site, minutes = zone[avail], site[avail], minutes[avail]
        # one row per (zone, site): the shortest time; sort by zone then site
        order = np.lexsort((minutes, site, zone))
        zone, site, minutes = zone[order], site[order], minutes[order]
        first = np.ones(len(zone), bool)
        first[1:] = (zone[1:] != zone[:-1]) | (site[1:] != site[:-1])
        self.pz, self.ps, self.pt = zone[first], site[first], minutes[first]
        has = np.zeros(self.n_zones, bool)
        has[self.pz] = True
        reason = np.full(self.n_zones, "", dtype=object)
        std = f"{self.drive_minutes:g} minutes"
        reason[~any_within] = f"no candidate within {std}"
        reason[any_within & ~any_tracer & ~has] = f"no candidate within {std} has tracer supply"
        reason[any_within & any_tracer & ~has] = (
            f"candidates within {std} are forbidden or allow no service"
        )
        self.zone_reason = reason
        self.coverable = has

    def _read_od_all(self, od_all: pd.DataFrame) -> pd.DataFrame:
        check_od(od_all, source="od_all", origins=self.zone_ids, destinations=self.site_ids)
        zone = _positions(self._zone_pos, od_all["origin_id"])
        site = _positions(pd.Index(self.site_ids), od_all["destination_id"])
        minutes = pd.to_numeric(od_all["minutes"], errors="coerce").to_numpy(dtype=float)
        keep = (zone >= 0) & (site >= 0) & np.isfinite(minutes)
        return pd.DataFrame({"zone": zone[keep], "site": site[keep], "minutes": minutes[keep]})

    def _uncovered_penalty(self, value: float | None) -> float:
        self._auto_penalty = value is None
        if value is not None:
            if not value >= 0:
                msg = f"uncovered_penalty_gbp_per_scan must be >= 0, got {value}"
                raise ValidationError(msg)
            return float(value)
        dearest = max(
            self.static_capital_gbp / self.annualisation_years
            + self.static_running_gbp_per_year
            + float(np.max(self.install_site_gbp, initial=0.0)) / self.annualisation_years,
            self.mobile_gbp_per_day * self.mobile_weeks_per_year,
            1.0,
        )
        return 1.5 * dearest


def _positions(index: pd.Index, values: pd.Series) -> np.ndarray:
    """``index.get_indexer(values)`` (-1 where absent), looking up each distinct value once:
    an OD table repeats every id thousands of times (England: 2 M rows, 32,844 origins).

    >>> _positions(pd.Index(["a", "b"]), pd.Series(["b", "x", "b", "a"])).tolist()
    [1, -1, 1, 0]
    """
    codes, uniques = pd.factorize(values)
    if not len(uniques):
        return np.full(len(codes), -1, dtype=np.intp)
    pos = index.get_indexer(uniques)
    return np.where(codes >= 0, pos[np.maximum(codes, 0)], -1)


def _tolerance(value: Any, objective: str) -> float | None:
    """The travel stage's cost tolerance, checked (None: no travel stage)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        msg = f"travel_cost_tolerance must be a number such as 0.02 (2 %), got {value!r}"
        raise ValidationError(msg)
    value = float(value)
    if not (0.0 <= value <= 1.0):
        msg = f"travel_cost_tolerance must be between 0 and 1 (a share of the cost), got {value:g}"
        raise ValidationError(msg)
    if objective not in ("cost", "cover_then_cost"):
        msg = (
            f"travel_cost_tolerance applies to the 'cost' and 'cover_then_cost' objectives, "
            f"not {objective!r} (drive_time already minimises the drive minutes)"
        )
        raise ValidationError(msg)
    return value
