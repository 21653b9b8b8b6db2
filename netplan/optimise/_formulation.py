r"""The placement formulation: columns, bounds, rows and objectives from validated inputs.

:class:`PlacementFormulation` builds on :class:`~netplan.optimise._inputs.PlacementInputs`:
it merges the zones (:mod:`netplan.optimise._zones`), runs the pre-solve checks and lays
out the MIP as one sparse matrix (:class:`~netplan.optimise._matrix._Matrix`). It owns
the column layout (five blocks of site columns ``y, t, v, s, m``, then one ``x`` per group
pair, one ``u`` per group and one ``q`` per cyclotron flow; offsets ``_off``, ``_x0``,
``_u0``, ``_q0``), every constraint row including the covering and region cuts, the
objective vectors of each stage (``_stages``), the column bounds that close sites
(``_only_sites``) and the infeasibility hint. It solves nothing: the strategies take a
formulation and solve it. A new constraint is a block of rows in :meth:`_build_matrix`;
a new objective is a branch of :meth:`_stages` (and a name in ``OBJECTIVES``).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._core import SITE_BLOCKS
from ._inputs import PlacementInputs
from ._matrix import _Matrix, _Rows
from ._zones import ZoneGroups, group_zones, presolve_checks

logger = logging.getLogger(__name__)

_REGION_MIN_SCANNERS = 0.5  # region cuts only for regions needing at least this many


class PlacementFormulation(PlacementInputs):
    """The placement MIP of :class:`~netplan.optimise.PlacementModel`, built (internal).

    Takes the model's arguments (see :class:`~netplan.optimise.PlacementModel`); once
    :class:`~netplan.optimise._inputs.PlacementInputs` has read them, :meth:`_build` lays
    out the formulation. Its attributes are the model's: the inputs', the groups'
    (``zone_group``, ``gd``, ``gp_group``, ``gp_site`` ...), ``matrix`` (every row, cost
    zero), the column offsets and ``build_time_s``. Members with a leading underscore are
    internal to :mod:`netplan.optimise`, where the strategies, starts and result builder
    use them.
    """

    def _build(self, start: float) -> None:
        """Merge the zones, run the pre-solve checks and build the matrix."""
        groups = group_zones(self, self.merge_zones)
        self._use_groups(groups)
        self.site_max_capacity, self._shortfall, found = presolve_checks(self, groups)
        self.messages.extend(found)
        for m in self.messages:
            logger.info("pre-solve: %s", m)
        self.n_region_cuts = 0
        self.matrix = self._build_matrix()
        super()._build(start)
        logger.info(
            "placement model: %d zones (%d groups) x %d sites, %d pairs, %d cols, %d rows, "
            "built in %.2f s",
            self.n_zones,
            self.n_groups,
            self.n_sites,
            self.n_group_pairs,
            len(self.matrix.cost),
            self.matrix.A.shape[0],
            self.build_time_s,
        )

    def _use_groups(self, groups: ZoneGroups) -> None:
        """Keep the zone groups, and their arrays as attributes of the model."""
        self._zstart, self._zcount = groups.zstart, groups.zcount
        self.zone_group, self.n_groups, self.merged = (
            groups.zone_group,
            groups.n_groups,
            groups.merged,
        )
        self.merge_note = groups.note
        self.gd, self.gpop, self.group_rep = groups.gd, groups.gpop, groups.group_rep
        self.gcount, self.gstart = groups.gcount, groups.gstart
        self.gp_group, self.gp_site, self.gp_minutes = (
            groups.gp_group,
            groups.gp_site,
            groups.gp_minutes,
        )
        self.n_group_pairs = groups.n_group_pairs
        self.group_coverable = groups.group_coverable
        message = groups.message(self.n_zones)
        if message:
            self.messages.append(message)

    def _build_matrix(self) -> _Matrix:
        n, P, G = self.n_sites, self.n_group_pairs, self.n_groups
        off = {b: k * n for k, b in enumerate(SITE_BLOCKS)}
        x0 = 5 * n
        u0 = x0 + P
        q0 = u0 + G
        nq = 0 if self.cyc_pairs is None else len(self.cyc_pairs)
        ncol = q0 + nq
        self._off, self._x0, self._u0, self._q0, self._ncol = off, x0, u0, q0, ncol
        lower = np.zeros(ncol)
        upper = np.ones(ncol)
        integer = np.zeros(ncol, bool)
        avail = self.available.astype(float)
        sites = np.arange(n)
        upper[off["y"] + sites] = avail
        upper[off["t"] + sites] = avail * (self.smax > 0)
        upper[off["v"] + sites] = avail * (self.mmax > 0)
        upper[off["s"] + sites] = avail * self.smax
        upper[off["m"] + sites] = avail * self.mmax
        for b in SITE_BLOCKS:
            integer[off[b] + sites] = True
        lower[off["y"] + self.lock_open] = 1
        lower[off["y"] + self.lock_static] = 1
        lower[off["t"] + self.lock_static] = 1
        lower[off["s"] + self.lock_static] = 1
        upper[u0:q0] = 1.0
        upper[q0:] = np.inf
        names = (
            [f"{b}_{j}" for b in SITE_BLOCKS for j in range(n)]
            + [
                f"x_{g}_{j}"
                for g, j in zip(self.gp_group.tolist(), self.gp_site.tolist(), strict=True)
            ]
            + [f"u_{g}" for g in range(G)]
            + [f"q_{k}" for k in range(nq)]
        )

        rows = _Rows()
        xc = x0 + np.arange(P)
        # coverage: sum_j x_gj + u_g = 1
        rows.add(
            np.concatenate([self.gp_group, np.arange(G)]),
            np.concatenate([xc, u0 + np.arange(G)]),
            np.ones(P + G),
            1.0,
            1.0,
            G,
        )
        # covering cuts: sum_{j in N_g} y_j + u_g >= 1. Implied by coverage + capacity in
        # integers (serving g at j needs capacity, hence y_j = 1) but not in the LP
        # relaxation, where a sliver of a scanner can serve a zone. They tighten the bound
        # to the set-covering one at the cost of one sparse row per group.
        if self.covering_cuts:
            served = self.gd > 0
            kg = np.flatnonzero(served[self.gp_group])
            gid = np.flatnonzero(served)
            local = np.full(G, -1)
            local[gid] = np.arange(len(gid))
            rows.add(
                np.concatenate([local[self.gp_group[kg]], np.arange(len(gid))]),
                np.concatenate([off["y"] + self.gp_site[kg], u0 + gid]),
                np.ones(len(kg) + len(gid)),
                1.0,
                np.inf,
                len(gid),
            )
        # capacity: sum_g d_g x_gj - rho Ks s_j - rho Km m_j <= 0
        rho = self.target_utilisation
        if self.region_cuts:
            self._add_region_cuts(rows, u0)
        ks = rho * self.static_scans_per_day * self.working_days_per_year
        km = rho * self.mobile_scans_per_day * self.mobile_weeks_per_year
        rows.add(
            np.concatenate([self.gp_site, sites, sites]),
            np.concatenate([xc, off["s"] + sites, off["m"] + sites]),
            np.concatenate([self.gd[self.gp_group], np.full(n, -ks), np.full(n, -km)]),
            -np.inf,
            0.0,
            n,
        )

        def pair_rows(a: str, ca: Any, b: str, cb: Any, lo: float, hi: float) -> None:
            rows.add(
                np.concatenate([sites, sites]),
                np.concatenate([off[a] + sites, off[b] + sites]),
                np.concatenate([np.broadcast_to(ca, n), np.broadcast_to(cb, n)]),
                lo,
                hi,
                n,
            )

        pair_rows("s", 1.0, "t", -self.smax, -np.inf, 0.0)  # s <= smax t
        pair_rows("t", 1.0, "s", -1.0, -np.inf, 0.0)  # t <= s
        pair_rows("m", 1.0, "v", -self.mmax, -np.inf, 0.0)  # m <= mmax v
        pair_rows("v", 1.0, "m", -1.0, -np.inf, 0.0)  # v <= m
        pair_rows("t", 1.0, "y", -1.0, -np.inf, 0.0)  # t <= y
        pair_rows("v", 1.0, "y", -1.0, -np.inf, 0.0)  # v <= y
        rows.add(
            np.concatenate([sites] * 3),  # y <= t + v
            np.concatenate([off["y"] + sites, off["t"] + sites, off["v"] + sites]),
            np.concatenate([np.ones(n), -np.ones(n), -np.ones(n)]),
            -np.inf,
            0.0,
            n,
        )
        if not self.allow_static_and_mobile:
            pair_rows("t", 1.0, "v", 1.0, -np.inf, 1.0)
        if self.mobile_units is not None:
            rows.add(
                np.zeros(n),
                off["m"] + sites,
                np.ones(n),
                -np.inf,
                float(self.mobile_days_per_unit * self.mobile_units),
                1,
            )
            if self.max_sites_per_unit is not None:
                rows.add(
                    np.zeros(n),
                    off["v"] + sites,
                    np.ones(n),
                    -np.inf,
                    float(self.max_sites_per_unit * self.mobile_units),
                    1,
                )
        if self.capital_budget_gbp is not None:
            rows.add(
                np.zeros(2 * n),
                np.concatenate([off["s"] + sites, off["t"] + sites]),
                np.concatenate([np.full(n, self.static_capital_gbp), self.install_site_gbp]),
                -np.inf,
                self.capital_budget_gbp,
                1,
            )
        for lot, need in self.min_sites_per_lot.items():
            members = np.flatnonzero(self.site_lot == lot)
            rows.add(
                np.zeros(len(members)),
                off["y"] + members,
                np.ones(len(members)),
                float(need),
                np.inf,
                1,
            )
        if self.p_sites is not None:
            rows.add(
                np.zeros(n),
                off["y"] + sites,
                np.ones(n),
                float(self.p_sites),
                float(self.p_sites),
                1,
            )
        link = np.ones(P, bool) if self.strong_linking else (self.gd[self.gp_group] <= 0)
        k = np.flatnonzero(link)
        rows.add(
            np.concatenate([np.arange(len(k))] * 2),
            np.concatenate([xc[k], off["y"] + self.gp_site[k]]),
            np.concatenate([np.ones(len(k)), -np.ones(len(k))]),
            -np.inf,
            0.0,
            len(k),
        )
        if nq:
            cp = self.cyc_pairs
            qs = cp["pos"].to_numpy()
            # sum_c q_jc - (rho Ks s_j + rho Km m_j) / W = 0 for each site: a site orders
            # the doses of its planned throughput (its scanners and visit days at the
            # target utilisation), whatever share of it the zones use. The rows then
            # involve only site and flow columns, so the site decomposition keeps them in
            # its master and stays exact; the delivered doses of the plan's assignment
            # (reported) are never above this.
            W = self.working_days_per_year
            rows.add(
                np.concatenate([sites, sites, qs]),
                np.concatenate([off["s"] + sites, off["m"] + sites, q0 + np.arange(nq)]),
                np.concatenate([np.full(n, -ks / W), np.full(n, -km / W), np.ones(nq)]),
                0.0,
                0.0,
                n,
            )
            cyc_ids = list(self.cyc_capacity)
            cpos = cp["cyclotron_id"].map({c: k for k, c in enumerate(cyc_ids)}).to_numpy()
            rows.add(
                cpos,
                q0 + np.arange(nq),
                cp["factor"].to_numpy(),
                -np.inf,
                np.array([self.cyc_capacity[c] for c in cyc_ids]),
                len(cyc_ids),
            )
        A, rlo, rhi = rows.matrix(ncol)
        return _Matrix(np.zeros(ncol), lower, upper, integer, A, rlo, rhi, names)

    def _add_region_cuts(self, rows: _Rows, u0: int) -> None:
        """Add the region capacity inequalities (see ``region_cuts`` in the class)."""
        self.n_region_cuts = 0
        rho = self.target_utilisation
        ks = rho * self.static_scans_per_day * self.working_days_per_year
        km = rho * self.mobile_scans_per_day * self.mobile_weeks_per_year
        n, G = self.n_sites, self.n_groups
        served = (self.gd > 0) & self.group_coverable
        if ks <= 0 or not served.any():
            return
        # one region per distinct reachable set (groups may repeat sets when not merged)
        rng = np.random.default_rng(7)
        h1 = rng.integers(1, 2**62, size=n, dtype=np.int64)
        h2 = rng.integers(1, 2**62, size=n, dtype=np.int64)
        k1 = np.zeros(G, np.int64)
        k2 = np.zeros(G, np.int64)
        with np.errstate(over="ignore"):
            np.add.at(k1, self.gp_group, h1[self.gp_site])
            np.bitwise_xor.at(k2, self.gp_group, h2[self.gp_site])
        gid = np.flatnonzero(served)
        keys = pd.DataFrame({"n": self.gcount[gid], "k1": k1[gid], "k2": k2[gid]})
        kid = keys.groupby(["n", "k1", "k2"], sort=False).ngroup().to_numpy()
        first = np.flatnonzero(np.r_[True, np.diff(np.sort(kid)) > 0])
        rep = gid[np.argsort(kid, kind="stable")[first]]  # one group per distinct set
        demand = np.bincount(kid, weights=self.gd[gid])  # demand per distinct set
        B = sp.csr_matrix(
            (np.ones(self.n_group_pairs), (self.gp_group, self.gp_site)), shape=(G, n)
        )
        Br = B[rep]
        BrT = Br.T.tocsc()
        size = self.gcount[rep]
        inside_r, inside_k = [], []
        for a in range(0, len(rep), 500):
            # inter[r, k] = |N_r & N_k|; set k lies inside region r when it equals |N_k|
            inter = (Br[a : a + 500] @ BrT).toarray()
            r, k = np.nonzero(inter == size[None, :])
            inside_r.append(r + a)
            inside_k.append(k)
        ir, ik = np.concatenate(inside_r), np.concatenate(inside_k)
        need = np.bincount(ir, weights=demand[ik], minlength=len(rep))
        lift = np.ceil(need / ks - 1e-9) - need / ks
        keep = (lift > 1e-6) & (need >= _REGION_MIN_SCANNERS * ks)
        if not keep.any():
            return
        new_id = np.cumsum(keep) - 1
        sel = keep[ir]
        # expand each (region, set) pair to the groups holding that set (for u terms)
        pairs = pd.DataFrame({"r": new_id[ir[sel]], "k": ik[sel]})
        members = pd.DataFrame({"k": kid, "g": gid})
        inside = pairs.merge(members, on="k")
        off = self._off
        Bk = Br[np.flatnonzero(keep)].tocoo()
        ic = inside["g"].to_numpy()
        rows.add(
            np.concatenate([Bk.row, Bk.row, inside["r"].to_numpy()]),
            np.concatenate([off["s"] + Bk.col, off["m"] + Bk.col, u0 + ic]),
            np.concatenate([np.full(Bk.nnz, ks), np.full(Bk.nnz, km), self.gd[ic]]),
            need[keep],
            np.inf,
            int(keep.sum()),
        )
        self.n_region_cuts = int(keep.sum())
        logger.info("region cuts: %d rows", self.n_region_cuts)

    # ------------------------------------------------------------------ objectives
    def _cost_vector(self) -> np.ndarray:
        off, n = self._off, self.n_sites
        c = np.zeros(self._ncol)
        sites = np.arange(n)
        c[off["s"] + sites] = (
            self.static_capital_gbp / self.annualisation_years + self.static_running_gbp_per_year
        )
        c[off["t"] + sites] = self.install_site_gbp / self.annualisation_years
        c[off["m"] + sites] = self.mobile_gbp_per_day * self.mobile_weeks_per_year
        return c

    def _uncovered_vector(self) -> np.ndarray:
        c = np.zeros(self._ncol)
        # uncoverable groups have u = 1 whatever happens: keep that constant out of the
        # objective so the relative MIP gap measures what the model can change
        c[self._u0 : self._u0 + self.n_groups] = self.gd * self.group_coverable
        return c

    def _stages(self) -> list[tuple[str, np.ndarray]]:
        cost = self._cost_vector()
        unc = self._uncovered_vector()
        if self.objective == "cost":
            if math.isinf(self._penalty):
                return [("cost", cost)]
            return [("cost", cost + self._penalty * unc)]
        if self.objective == "cover_then_cost":
            return [("uncovered_scans", unc), ("cost", cost)]
        if self.objective == "drive_time":
            c = np.zeros(self._ncol)
            c[self._x0 : self._u0] = self.gd[self.gp_group] * self.gp_minutes
            c += 10.0 * self.drive_minutes * unc
            return [("scan_minutes", c), ("cost", cost)]
        c = np.zeros(self._ncol)  # max_coverage: minimise minus covered population
        c[self._x0 : self._u0] = -self.gpop[self.gp_group]
        return [("minus_covered_population", c), ("cost", cost)]

    def _only_sites(self, matrix: _Matrix, keep: np.ndarray) -> np.ndarray:
        """Column upper bounds that close every site outside ``keep`` (locked sites stay)."""
        keep = keep.copy()
        keep[self.lock_open] = True
        keep[self.lock_static] = True
        n, off = self.n_sites, self._off
        upper = matrix.upper.copy()
        for b in SITE_BLOCKS:
            upper[off[b] : off[b] + n] *= keep
        upper[self._x0 : self._u0] *= keep[self.gp_site]
        if self.cyc_pairs is not None and len(self.cyc_pairs):
            drop = ~keep[self.cyc_pairs["pos"].to_numpy()]
            upper[self._q0 :][drop] = 0.0
        return upper

    def _infeasible_hint(self) -> str:
        """Which rules may contradict each other, for the infeasibility error."""
        rules = []
        if self.capital_budget_gbp is not None:
            rules.append(f"capital budget £{self.capital_budget_gbp:,.0f}")
        if self.mobile_units is not None:
            rules.append(f"fleet of {self.mobile_units} mobile unit(s)")
        if self.min_sites_per_lot:
            rules.append(f"lot minimums {self.min_sites_per_lot}")
        if self.p_sites is not None:
            rules.append(f"p_sites={self.p_sites}")
        if len(self.lock_open) or len(self.lock_static):
            rules.append("locked sites")
        if self.cyc_capacity:
            rules.append("cyclotron capacity")
        if math.isinf(self._penalty):
            return (
                "Coverage is hard (uncovered_penalty_gbp_per_scan=inf): the sites' "
                "maximum scanners and mobile days, or these rules, cannot serve every "
                "coverable zone: "
                + (", ".join(rules) or "site capacity limits")
                + ". Solve with a finite penalty to see which zones are left uncovered."
            )
        return (
            "Coverage has an uncovered slack, so these rules contradict each other: "
            + (", ".join(rules) or "none found")
            + ". Relax one of them."
        )
