r"""The multi-year roll-out model: which sites get static scanners in which year.

:class:`RolloutModel` plans years :math:`t = 1..T` (default the contract, 2015/16 to
2024/25) at once: static scanners installed (and, at a stated cost, removed) per site and
year, mobile visit days per site and year, and the share of each zone group's scans that
each site serves. Installed scanners stay in service, the capital spent in a year stays
within that year's budget and the capital of all years within the total; the drive
standard is met every year as far as the sites and the budget allow, and what is left is
reported as the year's shortfall. Cost is discounted at the HM Treasury Green Book rate
(3.5 % a year, ``rollout.discount_rate`` in netplan/defaults.yaml). The objective is the
least discounted cost, then the least patient travel.

The costs, capacities and rules are the placement model's (:class:`PlacementModel`):
:meth:`RolloutModel.from_placement_inputs` reads them from its validated inputs, so a
scanner costs, carries and needs tracer supply exactly as in a one-year run.

Formulation
-----------
Sets: sites :math:`j`, zone groups :math:`g` with the sites :math:`N_g` within the
standard, years :math:`t`. Integer :math:`S_{jt} \in [0, \bar S_j]` scanners in service,
:math:`A_{jt} \ge 0` installed, :math:`R_{jt} \ge 0` removed, :math:`M_{jt} \in [0,
\bar M_j]` mobile days a week, binary :math:`B_{jt}` (the site's static suite is built),
:math:`V_{jt}` (a mobile unit visits); continuous :math:`x_{gjt}, u_{gt} \in [0, 1]`.

.. math::

    \min \sum_t \delta_t \Big[\sum_j \big(c^{run} S_{jt} + c^{day} M_{jt} + c^{rem} R_{jt}
        + \tfrac{c^{cap}}{L} K_{jt} + \tfrac{c^{inst}_j}{L} B_{jt}\big)\Big]
    \quad \text{s.t.} \sum_{g,t} d_{gt} u_{gt} \le U^*
    \quad \delta_t = (1 + r)^{-(t - 1)}, \; K_{jt} = S^0_j + \textstyle\sum_{\tau \le t} A_{j\tau}

    S_{jt} = S_{j,t-1} + A_{jt} - R_{jt}, \; S_{j0} = S^0_j \qquad S_{jt} \le \bar S_j B_{jt}
    \qquad B_{jt} \ge B_{j,t-1}

    \sum_{j \in N_g} x_{gjt} + u_{gt} = 1 \qquad
    \sum_g d_{gt} x_{gjt} \le \rho (k^s S_{jt} + k^m M_{jt})

    \sum_j M_{jt} \le U D \qquad M_{jt} \le \bar M_j V_{jt} \qquad \sum_j V_{jt} \le U v

    \sum_j \big(c^{cap} A_{jt} + c^{inst}_j (B_{jt} - B_{j,t-1})\big) \le b_t, \quad
    \sum_t (\dots) \le b

The capital charge follows the scanners *bought* (:math:`K`), not those in service, so a
removal saves only the running cost and pays :math:`c^{rem}` (removal is allowed only when
``removal_gbp_per_scanner`` is given). Capital is annualised straight-line over
:math:`L` years, as in the placement's annual cost, so the cost of a year is comparable
with a one-year run and a scanner bought late is charged only for its years inside the
horizon. The objective is lexicographic (:meth:`RolloutModel.solve`): first the most
scans served within the standard, :math:`U^* = \min \sum d_{gt} u_{gt}` (to
``coverage_tolerance``); then the least
discounted cost above among the plans that serve as many; then, with that plan's
scanners and visit days fixed, the least patient travel :math:`\sum_{g,j,t} d_{gt}
\tau_{gj} x_{gjt}`.

Tractability
------------
The model is solved exactly (one MIP, HiGHS) on zone groups: zones that can reach exactly
the same sites within the standard are merged (their demand summed, their drive minutes
demand-weighted), which keeps every cost, capacity and coverage figure exact; only the
travel stage then sees a group's mean minutes. The placement merges zones the same way
(:mod:`netplan.optimise._zones`). With the 28 contract hospitals as candidates
(``scenarios/contract_rollout.yaml``) the 32,844 English zones form about a thousand
groups; a candidate set of 200 hospitals gives many more groups and site-years, so the
scenario runner restricts the roll-out to the scenario's candidate sites and the contract
scenario uses the contract hospitals, where the roll-out actually happened.
Tracer supply is the placement's rule, once a year: a site needs a cyclotron within the
delivery limit, orders the doses of its planned throughput, and each cyclotron dispatches
at most its daily capacity in dose-equivalents (decay included). ``lock_open`` and
``lock_static`` do not apply.
"""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._errors import InfeasibleError, ValidationError
from ._base import Status, default
from ._matrix import _Matrix, _Rows, _solve_highs
from ._rollout_inputs import tables_from_inputs
from ._rollout_result import RolloutResult, plan_tables

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ._inputs import PlacementInputs

logger = logging.getLogger(__name__)

_BLOCKS = ("S", "A", "R", "B", "M", "V")


class RolloutModel:
    """A year-by-year roll-out of static scanners and mobile days (see the module doc).

    Parameters
    ----------
    demand
        One row per zone: ``id``, then one column per year (an int, e.g. ``2015``) of
        scans that year; the years are the model's years, in order.
    od
        Zone -> site drive minutes (``origin_id, destination_id, minutes``); pairs above
        ``drive_minutes`` are ignored.
    sites
        ``id`` and optionally ``name``, ``max_static_scanners``, ``max_mobile_days``,
        ``install_gbp`` (site installation when its first scanner comes), ``available``
        (false: no new service), ``initial_static_scanners`` (in service before the first
        year).
    drive_minutes
        The standard (default ``service.drive_standard_minutes``).
    static_scans_per_year, mobile_scans_per_day_week
        Capacity of a scanner a year and of one mobile day a week a year, before
        ``target_utilisation``.
    static_capital_gbp, static_running_gbp_per_year, mobile_gbp_per_day,
    mobile_weeks_per_year, annualisation_years
        Costs, as in :class:`PlacementModel` (defaults from netplan/defaults.yaml).
    mobile_units, mobile_days_per_unit, max_sites_per_unit
        The fleet (None: no fleet limit / no visit limit).
    capital_gbp_per_year
        Budget each year (a number or ``{year: GBP}``); None: no yearly limit.
    capital_total_gbp
        Budget over all years; None: no limit.
    removal_gbp_per_scanner
        Cost of taking a scanner out of service; None (default): never removed.
    discount_rate
        A year (default ``rollout.discount_rate``, the Green Book 3.5 %).
    coverage_tolerance
        Share of the scans left unserved by the coverage stage that the cost stage may add
        (default 0.1 %: coverage within a few scans of the most possible, a judgement that
        keeps the cost MIP easy).
    travel
        Re-assign the zones of the least-cost plan for the least patient travel (see
        :meth:`solve`); False: no travel stage.
    cyclotron_flows, cyclotron_doses_per_day, working_days_per_year
        The placement's tracer capacity rule, every year: ``cyclotron_flows`` lists the
        ``site_id, cyclotron_id, factor`` a site may order from (within the primary delivery
        limit; ``factor`` is the decay growth of a dose on the way), each site orders the
        doses of its planned throughput a working day (its capacity at the target
        utilisation / ``working_days_per_year``) and a cyclotron dispatches at most its
        ``cyclotron_doses_per_day`` dose-equivalents. None: no tracer capacity limit.

    Raises
    ------
    ValidationError
        Bad tables or values.
    """

    def __init__(
        self,
        demand: pd.DataFrame,
        od: pd.DataFrame,
        sites: pd.DataFrame,
        *,
        drive_minutes: float | None = None,
        static_scans_per_year: float | None = None,
        mobile_scans_per_day_week: float | None = None,
        target_utilisation: float | None = None,
        static_capital_gbp: float | None = None,
        static_running_gbp_per_year: float | None = None,
        mobile_gbp_per_day: float | None = None,
        mobile_weeks_per_year: float | None = None,
        annualisation_years: float | None = None,
        mobile_units: int | None = None,
        mobile_days_per_unit: int | None = None,
        max_sites_per_unit: int | None = None,
        allow_static_and_mobile: bool = True,
        capital_gbp_per_year: float | Mapping[int, float] | None = None,
        capital_total_gbp: float | None = None,
        removal_gbp_per_scanner: float | None = None,
        discount_rate: float | None = None,
        travel: bool = True,
        coverage_tolerance: float = 1e-3,
        cyclotron_flows: pd.DataFrame | None = None,
        cyclotron_doses_per_day: Mapping[Any, float] | None = None,
        working_days_per_year: float | None = None,
    ) -> None:
        def pick(value: Any, key: str) -> float:
            out = float(default(key) if value is None else value)
            if not (math.isfinite(out) and out >= 0):
                msg = f"{key.split('.')[-1]} must be a finite number >= 0, got {value!r}"
                raise ValidationError(msg)
            return out

        self.drive_minutes = pick(drive_minutes, "service.drive_standard_minutes")
        self.weeks = pick(mobile_weeks_per_year, "scanners.mobile_weeks_per_year")
        self.rho = pick(target_utilisation, "scanners.target_utilisation")
        self.ks = pick(static_scans_per_year, "scanners.static_scans_per_year")
        km = mobile_scans_per_day_week
        self.km = (
            pick(None, "scanners.mobile_scans_per_day") * self.weeks
            if km is None
            else pick(km, "mobile_scans_per_day_week")
        )
        self.c_cap = pick(static_capital_gbp, "costs.static_scanner_capital_gbp")
        self.c_run = pick(static_running_gbp_per_year, "costs.static_running_gbp_per_year")
        self.c_day = pick(mobile_gbp_per_day, "costs.mobile_gbp_per_day") * self.weeks
        self.life = pick(annualisation_years, "costs.annualisation_years")
        self.rate = pick(discount_rate, "rollout.discount_rate")
        if self.life <= 0 or not 0 < self.rho <= 1:
            msg = "annualisation_years must be > 0 and target_utilisation in (0, 1]"
            raise ValidationError(msg)
        self.units = mobile_units
        self.days_per_unit = int(pick(mobile_days_per_unit, "scanners.mobile_days_per_week"))
        self.max_sites_per_unit = max_sites_per_unit
        self.allow_both = bool(allow_static_and_mobile)
        self.removal = (
            None
            if removal_gbp_per_scanner is None
            else pick(removal_gbp_per_scanner, "removal_gbp_per_scanner")
        )
        self.total_budget = (
            None if capital_total_gbp is None else pick(capital_total_gbp, "capital_total_gbp")
        )
        self.travel = bool(travel)
        self.coverage_tolerance = pick(coverage_tolerance, "coverage_tolerance")
        self._read_demand(demand)
        self._read_sites(sites)
        self._read_budget(capital_gbp_per_year)
        self._group(od)
        self._read_flows(
            cyclotron_flows,
            cyclotron_doses_per_day,
            pick(working_days_per_year, "scanners.working_days_per_year"),
        )

    # ------------------------------------------------------------------ inputs
    def _read_demand(self, demand: pd.DataFrame) -> None:
        if not isinstance(demand, pd.DataFrame) or "id" not in demand or len(demand) == 0:
            msg = "demand: give a DataFrame with an id column and one column of scans per year"
            raise ValidationError(msg)
        years = [c for c in demand.columns if isinstance(c, (int, np.integer))]
        if not years or sorted(years) != years or years != list(range(years[0], years[-1] + 1)):
            msg = f"demand: year columns must be consecutive whole years in order, got {years}"
            raise ValidationError(msg)
        d = demand[years].to_numpy(dtype=float)
        if not np.all(np.isfinite(d)) or (d < 0).any():
            msg = "demand: scans per year must be finite and >= 0"
            raise ValidationError(msg)
        if demand["id"].duplicated().any():
            msg = (
                f"demand: duplicate zone id(s) {list(demand['id'][demand['id'].duplicated()][:5])}"
            )
            raise ValidationError(msg)
        self.years = [int(y) for y in years]
        self.zone_ids = pd.Index(demand["id"])
        self.zone_d = d

    def _read_sites(self, sites: pd.DataFrame) -> None:
        if not isinstance(sites, pd.DataFrame) or "id" not in sites or len(sites) == 0:
            msg = "sites: give a DataFrame with one row per site (column id)"
            raise ValidationError(msg)
        if sites["id"].duplicated().any():
            msg = f"sites: duplicate id(s) {list(sites['id'][sites['id'].duplicated()][:5])}"
            raise ValidationError(msg)
        n = len(sites)

        def col(name: str, fill: float) -> np.ndarray:
            if name not in sites:
                return np.full(n, fill, dtype=float)
            v = pd.to_numeric(sites[name], errors="coerce").fillna(fill).to_numpy(dtype=float)
            if (v < 0).any():
                msg = f"sites.{name} must be >= 0; bad site(s) {list(sites['id'][v < 0][:5])}"
                raise ValidationError(msg)
            return v

        self.site_ids = pd.Index(sites["id"])
        self.site_name = (
            sites["name"].astype(str).to_numpy()
            if "name" in sites
            else self.site_ids.astype(str).to_numpy()
        )
        avail = (
            sites["available"].fillna(True).astype(bool).to_numpy()
            if "available" in sites
            else np.ones(n, bool)
        )
        self.init = np.round(col("initial_static_scanners", 0.0))
        self.smax = np.maximum(
            col("max_static_scanners", default("scanners.max_static_scanners_per_site")) * avail,
            self.init,
        )
        self.mmax = (
            col("max_mobile_days", default("scanners.mobile_max_visit_days_per_week")) * avail
        )
        if self.units == 0:
            self.mmax[:] = 0
        self.install = col("install_gbp", default("costs.static_install_gbp"))

    def _read_budget(self, per_year: float | Mapping[int, float] | None) -> None:
        T = len(self.years)
        if per_year is None:
            self.budget = np.full(T, np.inf)
            return
        if isinstance(per_year, (int, float)):
            self.budget = np.full(T, float(per_year))
        else:
            table = {int(k): float(v) for k, v in dict(per_year).items()}
            missing = [y for y in self.years if y not in table]
            if missing:
                msg = f"capital_gbp_per_year has no budget for year(s) {missing}; give every year"
                raise ValidationError(msg)
            self.budget = np.array([table[y] for y in self.years])
        if not (np.all(np.isfinite(self.budget)) and (self.budget >= 0).all()):
            msg = f"capital_gbp_per_year must be >= 0, got {per_year!r}"
            raise ValidationError(msg)

    def _read_flows(
        self, flows: pd.DataFrame | None, capacity: Mapping[Any, float] | None, days: float
    ) -> None:
        self.working_days = days
        self.q_site = np.zeros(0, dtype=np.int64)
        self.q_cyc = np.zeros(0, dtype=np.int64)
        self.q_factor = np.zeros(0)
        self.cyc_ids: list[Any] = []
        self.cyc_cap = np.zeros(0)
        if flows is None or capacity is None:
            return
        need = {"site_id", "cyclotron_id", "factor"}
        if not need <= set(flows.columns):
            msg = f"cyclotron_flows: needs columns {sorted(need)}"
            raise ValidationError(msg)
        site = self.site_ids.get_indexer(flows["site_id"])
        if (site < 0).any() or days <= 0:
            msg = "cyclotron_flows: unknown site id(s) or working_days_per_year <= 0"
            raise ValidationError(msg)
        self.cyc_ids = list(dict.fromkeys(flows["cyclotron_id"]))
        missing = [c for c in self.cyc_ids if c not in capacity]
        if missing:
            msg = f"cyclotron_doses_per_day: no capacity for cyclotron(s) {missing[:10]}"
            raise ValidationError(msg)
        self.q_site = site.astype(np.int64)
        self.q_cyc = flows["cyclotron_id"].map({c: k for k, c in enumerate(self.cyc_ids)})
        self.q_cyc = self.q_cyc.to_numpy(dtype=np.int64)
        self.q_factor = pd.to_numeric(flows["factor"]).to_numpy(dtype=float)
        self.cyc_cap = np.array([float(capacity[c]) for c in self.cyc_ids])

    def _add_tracer_rows(self, rows: _Rows) -> None:
        """Each site-year orders its planned doses; each cyclotron-year dispatches at most
        its capacity (the placement's rows, once a year)."""
        nq, n, T = len(self.q_site), self._n, self._T
        if nq == 0:
            return
        sites = np.unique(self.q_site)
        local = np.full(n, -1)
        local[sites] = np.arange(len(sites))
        ns = len(sites)
        per_day = self.rho / self.working_days
        for t in range(T):
            qc = self._q0 + t * nq + np.arange(nq)
            rows.add(
                np.concatenate([local[sites], local[sites], local[self.q_site]]),
                np.concatenate([self._col("S", sites, t), self._col("M", sites, t), qc]),
                np.concatenate(
                    [np.full(ns, -per_day * self.ks), np.full(ns, -per_day * self.km), np.ones(nq)]
                ),
                0.0,
                0.0,
                ns,
            )
            rows.add(self.q_cyc, qc, self.q_factor, -np.inf, self.cyc_cap, len(self.cyc_ids))

    def _group(self, od: pd.DataFrame) -> None:
        """Merge zones with the same sites within the standard (see *Tractability*)."""
        need = {"origin_id", "destination_id", "minutes"}
        if not isinstance(od, pd.DataFrame) or not need <= set(od.columns):
            msg = f"od: needs columns {sorted(need)}"
            raise ValidationError(msg)
        z = self.zone_ids.get_indexer(od["origin_id"])
        s = self.site_ids.get_indexer(od["destination_id"])
        m = pd.to_numeric(od["minutes"], errors="coerce").to_numpy(dtype=float)
        keep = (z >= 0) & (s >= 0) & np.isfinite(m) & (m <= self.drive_minutes + 1e-9)
        keep &= (self.smax[np.maximum(s, 0)] + self.mmax[np.maximum(s, 0)]) > 0
        pairs = pd.DataFrame({"z": z[keep], "s": s[keep], "m": m[keep]})
        pairs = pairs.groupby(["z", "s"], as_index=False)["m"].min().sort_values(["z", "s"])
        key = pairs.groupby("z")["s"].agg(lambda v: ",".join(map(str, v)))
        zkey = pd.Series("", index=range(len(self.zone_ids)))
        zkey[key.index] = key.to_numpy()
        codes, uniques = pd.factorize(zkey)
        self.zone_group = codes
        G = len(uniques)
        self.gd = np.zeros((G, len(self.years)))
        np.add.at(self.gd, codes, self.zone_d)
        w = self.zone_d.sum(axis=1) + 1e-12
        pairs["g"] = codes[pairs["z"].to_numpy()]
        pairs["w"] = w[pairs["z"].to_numpy()]
        pairs["wm"] = pairs["w"] * pairs["m"]
        gp = pairs.groupby(["g", "s"], as_index=False)[["w", "wm"]].sum()
        self.gp_group = gp["g"].to_numpy()
        self.gp_site = gp["s"].to_numpy()
        self.gp_minutes = (gp["wm"] / gp["w"]).to_numpy()
        self.coverable = np.zeros(G, bool)
        self.coverable[self.gp_group] = True
        self.n_groups = G
        self.note = f"{len(self.zone_ids):,} zones -> {G:,} groups with the same sites in reach"
        logger.info("roll-out: %s", self.note)

    # ---------------------------------------------------------------- builders
    @classmethod
    def from_placement_inputs(
        cls,
        inputs: PlacementInputs,
        demand: pd.DataFrame,
        *,
        initial_static_scanners: Mapping[Any, int] | None = None,
        **options: Any,
    ) -> RolloutModel:
        """The roll-out with the costs, capacities and rules of a placement model's inputs.

        ``inputs`` is a :class:`PlacementModel` (or its validated inputs); ``demand`` has
        ``id`` and one column per year; ``initial_static_scanners`` maps site ids to the
        scanners in service before the first year; ``options`` are the roll-out's own
        keywords (budgets, removal cost, discount rate, travel stage).

        Raises
        ------
        ValidationError
            An initial site that is not a candidate, or bad options.
        """
        od, sites, kw = tables_from_inputs(inputs, initial_static_scanners)
        kw.update(options)
        return cls(demand, od, sites, **kw)

    # ----------------------------------------------------------------- matrix
    def _layout(self) -> None:
        n, T, P, G = len(self.site_ids), len(self.years), len(self.gp_site), self.n_groups
        self._n, self._T = n, T
        self._off = {b: k * n * T for k, b in enumerate(_BLOCKS)}
        self._x0 = len(_BLOCKS) * n * T
        self._u0 = self._x0 + P * T
        self._q0 = self._u0 + G * T
        self._ncol = self._q0 + len(self.q_site) * T

    def _col(self, block: str, j: Any, t: Any) -> Any:
        return self._off[block] + np.asarray(t) * self._n + np.asarray(j)

    def discount(self) -> np.ndarray:
        """Discount factor of each year: :math:`(1 + r)^{-(t-1)}`."""
        return (1.0 + self.rate) ** -np.arange(len(self.years), dtype=float)

    def _matrix(self) -> tuple[_Matrix, np.ndarray, np.ndarray]:
        """The MIP, its stage-one cost vector and its travel vector."""
        self._layout()
        n, T, P, G = self._n, self._T, len(self.gp_site), self.n_groups
        ncol = self._ncol
        lower, upper = np.zeros(ncol), np.ones(ncol)
        integer = np.zeros(ncol, bool)
        jj, tt = np.tile(np.arange(n), T), np.repeat(np.arange(T), n)
        # A = S_t - S_t-1 + R is integer when S and R are: only S, R, M, B, V branch
        for b in ("S", "R", "M", "B", "V"):
            integer[self._col(b, jj, tt)] = True
        # a visit limit that cannot bind (units x sites per unit >= sites with days) is left
        # out with its binaries; a site whose installation costs nothing has its suite
        # (B = 1) from the start, unless a suite would keep mobile days away
        visits = self.units is not None and self.max_sites_per_unit is not None
        visits = visits and self.units * self.max_sites_per_unit < int((self.mmax > 0).sum())
        self._visits = visits
        upper[self._col("S", jj, tt)] = self.smax[jj]
        upper[self._col("A", jj, tt)] = self.smax[jj]
        upper[self._col("R", jj, tt)] = self.smax[jj] if self.removal is not None else 0.0
        upper[self._col("M", jj, tt)] = self.mmax[jj]
        upper[self._col("V", jj, tt)] = (self.mmax[jj] > 0).astype(float) if visits else 0.0
        upper[self._col("B", jj, tt)] = (self.smax[jj] > 0).astype(float)
        free_suite = (self.install[jj] == 0) & (self.smax[jj] > 0) & self.allow_both
        lower[self._col("B", jj, tt)] = ((self.init[jj] > 0) | free_suite).astype(float)
        rows = _Rows()
        nt = n * T
        r = np.arange(nt)
        # S_jt - S_j,t-1 - A_jt + R_jt = 0 (t = 0: S - A + R = initial)
        prev = tt > 0
        rows.add(
            np.concatenate([r, r, r, r[prev]]),
            np.concatenate(
                [
                    self._col("S", jj, tt),
                    self._col("A", jj, tt),
                    self._col("R", jj, tt),
                    self._col("S", jj[prev], tt[prev] - 1),
                ]
            ),
            np.concatenate([np.ones(nt), -np.ones(nt), np.ones(nt), -np.ones(int(prev.sum()))]),
            np.where(prev, 0.0, self.init[jj]),
            np.where(prev, 0.0, self.init[jj]),
            nt,
        )
        # S_jt <= smax_j B_jt ; B_j,t-1 <= B_jt
        rows.add(
            np.concatenate([r, r]),
            np.concatenate([self._col("S", jj, tt), self._col("B", jj, tt)]),
            np.concatenate([np.ones(nt), -self.smax[jj]]),
            -np.inf,
            0.0,
            nt,
        )
        k = np.flatnonzero(prev)
        rows.add(
            np.concatenate([np.arange(len(k))] * 2),
            np.concatenate([self._col("B", jj[k], tt[k] - 1), self._col("B", jj[k], tt[k])]),
            np.concatenate([np.ones(len(k)), -np.ones(len(k))]),
            -np.inf,
            0.0,
            len(k),
        )
        # M_jt <= mmax_j V_jt ; without static and mobile together: M_jt <= mmax_j (1 - B_jt)
        if visits:
            rows.add(
                np.concatenate([r, r]),
                np.concatenate([self._col("M", jj, tt), self._col("V", jj, tt)]),
                np.concatenate([np.ones(nt), -self.mmax[jj]]),
                -np.inf,
                0.0,
                nt,
            )
        if not self.allow_both:
            rows.add(
                np.concatenate([r, r]),
                np.concatenate([self._col("M", jj, tt), self._col("B", jj, tt)]),
                np.concatenate([np.ones(nt), self.mmax[jj]]),
                -np.inf,
                self.mmax[jj],
                nt,
            )
        # the fleet, each year
        ty = np.arange(T)
        if self.units is not None:
            rows.add(
                tt,
                self._col("M", jj, tt),
                np.ones(nt),
                -np.inf,
                float(self.units * self.days_per_unit),
                T,
            )
            if visits:
                rows.add(
                    tt,
                    self._col("V", jj, tt),
                    np.ones(nt),
                    -np.inf,
                    float(self.units * self.max_sites_per_unit),
                    T,
                )
        # capital: c_cap A_jt + c_inst_j (B_jt - B_j,t-1) <= b_t, and over all years <= b
        cap_cols, cap_vals, cap_rows = self._capital_terms()
        finite = np.isfinite(self.budget)
        if finite.any():
            yr = np.flatnonzero(finite)
            local = np.full(T, -1)
            local[yr] = np.arange(len(yr))
            keep = local[cap_rows] >= 0
            rows.add(
                local[cap_rows[keep]],
                cap_cols[keep],
                cap_vals[keep],
                -np.inf,
                self.budget[yr] - self._fixed_capital(yr),
                len(yr),
            )
        if self.total_budget is not None:
            rows.add(
                np.zeros(len(cap_cols)),
                cap_cols,
                cap_vals,
                -np.inf,
                self.total_budget - float(self._fixed_capital(ty).sum()),
                1,
            )
        # coverage: sum_j x_gjt + u_gt = 1 ; capacity: sum_g d_gt x_gjt <= rho (ks S + km M)
        pt = np.repeat(np.arange(T), P)
        pg, ps = np.tile(self.gp_group, T), np.tile(self.gp_site, T)
        xc = self._x0 + np.arange(P * T)
        gt = np.arange(G * T)
        rows.add(
            np.concatenate([pt * G + pg, gt]),
            np.concatenate([xc, self._u0 + gt]),
            np.ones(P * T + G * T),
            1.0,
            1.0,
            G * T,
        )
        rows.add(
            np.concatenate([pt * n + ps, r, r]),
            np.concatenate([xc, self._col("S", jj, tt), self._col("M", jj, tt)]),
            np.concatenate(
                [
                    self.gd[pg, pt],
                    np.full(nt, -self.rho * self.ks),
                    np.full(nt, -self.rho * self.km),
                ]
            ),
            -np.inf,
            0.0,
            nt,
        )
        self._add_tracer_rows(rows)
        upper[self._q0 :] = np.inf
        A, rlo, rhi = rows.matrix(ncol)
        cost = self._cost_vector()
        travel = np.zeros(ncol)
        travel[xc] = self.gd[pg, pt] * np.tile(self.gp_minutes, T)
        mat = _Matrix(
            np.zeros(ncol), lower, upper, integer, A, rlo, rhi, [f"c{i}" for i in range(ncol)]
        )
        return mat, cost, travel

    def _capital_terms(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Columns, coefficients and year of each term of the capital spent in a year.

        The install at a site is :math:`c^{inst}_j (B_{jt} - B_{j,t-1})`; in the first year
        the previous value is the initial state (a constant, see :meth:`_fixed_capital`)."""
        n, T = self._n, self._T
        jj, tt = np.tile(np.arange(n), T), np.repeat(np.arange(T), n)
        cols = [self._col("A", jj, tt), self._col("B", jj, tt)]
        vals = [np.full(n * T, self.c_cap), self.install[jj]]
        yrs = [tt, tt]
        prev = tt > 0
        cols.append(self._col("B", jj[prev], tt[prev] - 1))
        vals.append(-self.install[jj[prev]])
        yrs.append(tt[prev])
        return np.concatenate(cols), np.concatenate(vals), np.concatenate(yrs)

    def _fixed_capital(self, years: np.ndarray) -> np.ndarray:
        """Constant part of the capital of each year: minus the installs of the initial sites
        (their suite is there before the first year, so B = 1 then costs nothing)."""
        out = np.zeros(len(years))
        out[np.asarray(years) == 0] = -float(self.install[self.init > 0].sum())
        return out

    def _cost_vector(self) -> np.ndarray:
        n, T = self._n, self._T
        delta = self.discount()
        jj, tt = np.tile(np.arange(n), T), np.repeat(np.arange(T), n)
        c = np.zeros(self._ncol)
        c[self._col("S", jj, tt)] = delta[tt] * self.c_run
        c[self._col("M", jj, tt)] = delta[tt] * self.c_day
        c[self._col("R", jj, tt)] = delta[tt] * (self.removal or 0.0)
        c[self._col("B", jj, tt)] = delta[tt] * self.install[jj] / self.life
        # a scanner bought in year t is charged c_cap / L in every year from t on
        later = np.cumsum(delta[::-1])[::-1]
        c[self._col("A", jj, tt)] = later[tt] * self.c_cap / self.life
        return c

    # ------------------------------------------------------------------- solve
    def _unserved_vector(self) -> np.ndarray:
        """Scans not served within the standard (groups with no site in reach left out: they
        are unserved whatever the plan)."""
        G, T = self.n_groups, len(self.years)
        c = np.zeros(self._ncol)
        gt = np.arange(G * T)
        g, t = gt % G, gt // G
        c[self._u0 + gt] = self.gd[g, t] * self.coverable[g]
        return c

    def _stage(
        self,
        mat: _Matrix,
        name: str,
        limit: float | None,
        gap: float | None,
        threads: int | None,
        start: np.ndarray | None = None,
    ) -> tuple[Any, np.ndarray]:
        info, x, _ = _solve_highs(mat, limit, gap, threads, start=start)
        if info.status in (Status.INFEASIBLE, Status.UNBOUNDED, Status.NOT_SOLVED):
            msg = (
                f"roll-out model, {name} stage: no plan found ({info.solver_status}); check "
                "that the budgets cover the capital the rules need (e.g. the initial state) "
                "and that the time limit is long enough"
            )
            raise InfeasibleError(msg, info.solver_status)
        logger.info(
            "roll-out %s stage: %s, gap %s, %.1f s", name, info.status.value, info.mip_gap,
            info.runtime_s,
        )  # fmt: skip
        return info, x

    def solve(
        self,
        *,
        time_limit_s: float | None = None,
        mip_gap: float | None = None,
        threads: int | None = None,
    ) -> RolloutResult:
        """Solve the roll-out in three stages and return the plan.

        1. *coverage*: the most scans served within the standard over the years (a MIP
           whose objective weights each unserved scan at 1.5 times the dearest
           scanner-year, as the placement's penalty, plus the cost, so its plan is also a
           cheap start for the next stage);
        2. *cost*: the least discounted cost serving as many, less ``coverage_tolerance``
           (a MIP started from stage 1's plan; its status and gap, in pounds, are the
           result's);
        3. *travel* (``travel=True``): with the cost stage's scanners, visit days and
           installs fixed, the assignment with the least patient travel (an LP, so its
           answer does not depend on time or machine load).

        ``time_limit_s`` and ``mip_gap`` apply to each MIP stage.

        Raises
        ------
        InfeasibleError
            When no plan meets the rules (e.g. a budget below the fixed capital).
        """
        t0 = time.perf_counter()
        mat, cost, travel = self._matrix()
        unserved = self._unserved_vector()
        size = (
            f"roll-out MIP: {len(cost):,} columns ({int(mat.integer.sum()):,} integer), "
            f"{mat.A.shape[0]:,} rows, {len(self.years)} years"
        )
        logger.info("%s", size)
        messages = [self.note, size]
        # 1. coverage first: unserved scans at a penalty far above any scanner-year (as the
        # placement's), plus the cost, so the plan it ends with is also a cheap start
        dearest = max(
            self.c_cap / self.life + self.c_run + float(self.install.max(initial=0)) / self.life,
            self.c_day,
            1.0,
        )
        mat.cost = 1.5 * dearest * unserved + cost
        info1, x = self._stage(mat, "coverage", time_limit_s, mip_gap, threads)
        # the cost stage may leave up to coverage_tolerance more of the coverable scans
        # unserved than the coverage stage did (0.1 % by default): a tight row makes it hard
        slack = self.coverage_tolerance * float(unserved @ x) + 1e-7 * float(self.gd.sum()) + 1e-3
        messages.append(
            f"coverage stage: {info1.status.value} in {info1.runtime_s:.0f} s; "
            f"{unserved @ x:,.0f} coverable scans not served over the years"
        )
        # 2. least discounted cost serving as many
        staged = mat.with_row(unserved, -np.inf, float(unserved @ x) + slack)
        staged.cost = cost
        info, x = self._stage(staged, "cost", time_limit_s, mip_gap, threads, start=x)
        messages.append(
            f"cost stage: {info.status.value} in {info.runtime_s:.0f} s (gap {info.mip_gap:.4g})"
        )
        # 3. least patient travel for that network (an LP: the integers fixed)
        if self.travel and travel.any():
            # serving a scan must beat the drive it adds: weight the unserved above any drive
            weight = 10.0 * float(self.gp_minutes.max(initial=0.0)) + 1.0
            fixed = _Matrix(
                travel + weight * unserved,
                np.where(staged.integer, np.round(x), staged.lower),
                np.where(staged.integer, np.round(x), staged.upper),
                np.zeros_like(staged.integer),
                staged.A,
                staged.row_lower,
                staged.row_upper,
                staged.names,
            )
            fixed.row_upper[-1] = float(unserved @ x) + 1e-7
            info3, x3 = self._stage(fixed, "travel", time_limit_s, None, threads)
            if info3.status in (Status.OPTIMAL, Status.FEASIBLE):  # an LP has no MIP gap
                x = x3
                messages.append(
                    f"travel stage: {travel @ x / 1e6:,.3f} m scan-minutes of patient travel "
                    "over the years"
                )
        runtime = time.perf_counter() - t0
        plan, years = plan_tables(self, np.round(x, 9))
        return RolloutResult(
            plan,
            years,
            info.status,
            info.mip_gap,
            float(years["discounted_cost_gbp"].sum()),
            runtime,
            messages,
        )

    def first_year_only(self, *, capital_gbp: float = 0.0) -> RolloutModel:
        """The same model for the first year alone with ``capital_gbp`` to spend (0: the
        starting state as it is, e.g. the mobile-led baseline)."""
        clone = object.__new__(RolloutModel)
        clone.__dict__.update(self.__dict__)
        clone.years = self.years[:1]
        clone.gd = self.gd[:, :1]
        clone.zone_d = self.zone_d[:, :1]
        clone.budget = np.array([float(capital_gbp)])
        clone.total_budget = None
        return clone
