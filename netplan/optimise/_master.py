r"""Which sites a good plan uses, from the placement model's site-level "master" problem.

The cost of the ``"cost"`` and ``"cover_then_cost"`` objectives depends only on the site
decisions (and uncovered demand); the assignment only has to exist. By the supply-demand
theorem for bipartite flows (Gale 1957, the flow form of Hall's theorem), capacities
:math:`C_j = \rho (K^s s_j + K^m m_j)` admit an assignment of the demand of the zones that
must be served iff for every set :math:`S` of sites the zones that can reach only sites of
:math:`S` fit in :math:`C(S)`. The *master* keeps the model's site rows (fleet, budget,
locks, lots) and one such row per distinct reachable set :math:`N_g` plus one for the whole
network: ~6,000 rows over the ~1,500 site variables instead of 183,000 columns, so HiGHS
finds good site plans in seconds. It is a relaxation (unions of regions are not checked;
:meth:`CapacityCuts.violated` finds the sets a plan leaves short with one maximum flow,
``scipy.sparse.csgraph.maximum_flow``). :func:`netplan.optimise._starts.master_start` then
solves the full MIP restricted to the plan's sites, whose solution is feasible for the full
model and becomes HiGHS's start: it changes where the search begins, never the optimum or
the gap.

Measured on the England default (``benchmarks/bench_optimise.py``, 60 s): the start reaches
£64.1 m/yr (gap 3.3 %) where HiGHS alone ends at £66.1-66.3 m (gap 6.2-6.4 %).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from ._base import Status
from ._matrix import _Matrix, _solve_highs

if TYPE_CHECKING:
    from ._formulation import PlacementFormulation

logger = logging.getLogger(__name__)

_REL_TOL = 1e-6  # a capacity row counts as violated above this relative shortfall
_INT_MAX = 2**31 - 1  # scipy's maximum_flow works on int32 capacities
_FLOW_UNITS = 1e9  # total supply in integer flow units (resolution ~1e-4 scans/yr)
_DENSE_FLOPS = 2e10  # inside_demand: dense block products up to this many multiply-adds
_DENSE_BLOCK = 1024  # ... this many rows at a time (England: 23 MB a block)


def rows_within(A: sp.spmatrix, cols: np.ndarray) -> np.ndarray:
    """The rows of ``A`` whose nonzeros all lie in the columns ``cols``."""
    other = np.ones(A.shape[1], bool)
    other[cols] = False
    touches = np.asarray(abs(A.tocsc()[:, other]).sum(axis=1)).ravel() > 0
    return np.flatnonzero(~touches)


class CapacityCuts:
    """The site-level master problem and the check of its capacity rows (internal).

    Parameters
    ----------
    model
        A built :class:`~netplan.optimise.PlacementModel` without cyclotron capacity (its
        tracer flows depend on the assignment).
    regions
        Add the capacity rows of every distinct reachable set now (the warm start's
        master); :mod:`netplan.optimise._decompose` adds its own rows as it goes.
    """

    def __init__(self, model: PlacementFormulation, *, regions: bool = True) -> None:
        self.model = model
        n, G = model.n_sites, model.n_groups
        self.n, self.G = n, G
        rho = model.target_utilisation
        self.ks = rho * model.static_scans_per_day * model.working_days_per_year
        self.km = rho * model.mobile_scans_per_day * model.mobile_weeks_per_year
        self.served = (model.gd > 0) & model.group_coverable
        keep = self.served[model.gp_group]
        self.B = sp.csr_matrix(
            (np.ones(int(keep.sum())), (model.gp_group[keep], model.gp_site[keep])),
            shape=(G, n),
        )
        self.size = np.diff(self.B.indptr)
        # master columns: the five site blocks, one uncovered share per group, then the
        # tracer flows (their rows involve only site and flow columns)
        nq = len(model.matrix.cost) - model._q0
        self.cols = np.r_[np.arange(5 * n), model._u0 + np.arange(G), model._q0 + np.arange(nq)]
        self.u0 = 5 * n
        self.uend = 5 * n + G  # end of the uncovered shares (then the flows)
        mat = model.matrix
        site_rows = rows_within(mat.A, self.cols)
        self.A = mat.A.tocsr()[site_rows][:, self.cols].tocsr()
        self.row_lower = mat.row_lower[site_rows]
        self.row_upper = mat.row_upper[site_rows]
        self.n_regions = 0
        if regions:
            self._add_regions()

    def region_sets(self) -> tuple[sp.csr_matrix, np.ndarray]:
        """The distinct reachable sets :math:`N_g` of the groups with demand, one 0/1 row
        per set (sites as columns), and the demand of the groups whose whole reachable set
        lies inside each (served in full)."""
        B = self.B
        first: dict[bytes, int] = {}
        for g in np.flatnonzero(self.served & (self.size > 0)):
            first.setdefault(B.indices[B.indptr[g] : B.indptr[g + 1]].tobytes(), int(g))
        R = B[np.fromiter(first.values(), np.int64, len(first))]
        return R, self.inside_demand(R)

    def inside_demand(self, R: sp.csr_matrix) -> np.ndarray:
        """Demand of the served groups whose reachable set lies inside each 0/1 row of R.

        A group lies inside a row when the row holds all its sites: the row's
        intersection count with the group equals the group's size. The counts come from
        a dense product in blocks of rows when that is cheap (float32 counts of up to
        2^24 sites are exact): England's 5,693 x 5,708 counts over 208 sites take 0.13 s
        against 0.46 s for the sparse product, whose 15 M nonzeros dominate."""
        served = np.flatnonzero(self.served & (self.size > 0))
        if R.shape[0] * len(served) * self.n <= _DENSE_FLOPS:
            Bd = self.B[served].toarray().astype(np.float32).T.copy()  # sites x groups
            size = self.size[served].astype(np.float32)
            gd = self.model.gd[served]
            out = np.zeros(R.shape[0])
            for a in range(0, R.shape[0], _DENSE_BLOCK):
                inter = R[a : a + _DENSE_BLOCK].toarray().astype(np.float32) @ Bd
                out[a : a + _DENSE_BLOCK] = (inter >= size - 0.5) @ gd
            return out
        inter = (R @ self.B.T).tocoo()
        ok = (inter.data == self.size[inter.col]) & self.served[inter.col]
        return np.bincount(inter.row[ok], self.model.gd[inter.col[ok]], minlength=R.shape[0])

    def _add_regions(self) -> None:
        """Add one capacity row per distinct reachable set :math:`N_g`, and one for the
        whole network."""
        B, gd = self.B, self.model.gd
        R, _ = self.region_sets()
        reach = np.asarray(B.sum(axis=0)).ravel() > 0
        R = sp.vstack([R, sp.csr_matrix(reach.astype(float)[None, :])], format="csr")
        inter = (R @ B.T).tocoo()
        ok = (inter.data == self.size[inter.col]) & self.served[inter.col]
        rows, groups = inter.row[ok], inter.col[ok]
        k = R.shape[0]
        off = self.model._off
        Rc = R.tocoo()
        block = sp.csr_matrix(
            (
                np.r_[np.full(Rc.nnz, self.ks), np.full(Rc.nnz, self.km), gd[groups]],
                (
                    np.r_[Rc.row, Rc.row, rows],
                    np.r_[off["s"] + Rc.col, off["m"] + Rc.col, self.u0 + groups],
                ),
            ),
            shape=(k, len(self.cols)),
        )
        self.A = sp.vstack([self.A, block], format="csr")
        self.row_lower = np.r_[self.row_lower, np.bincount(rows, gd[groups], minlength=k)]
        self.row_upper = np.r_[self.row_upper, np.full(k, np.inf)]
        self.n_regions = k

    # ------------------------------------------------------------------ rows
    def inside(self, S: np.ndarray) -> np.ndarray:
        """Groups with demand whose reachable sites all lie in the site mask ``S``."""
        out = self.B @ (~S).astype(float)
        return np.flatnonzero((out == 0) & self.served & (self.size > 0))

    # ------------------------------------------------------------------ separation
    def capacity(self, x: np.ndarray, *, fractional: bool = False) -> np.ndarray:
        """Scans a year of each site's capacity in ``x`` (its scanners and mobile days
        rounded to whole ones unless ``fractional``)."""
        off, n = self.model._off, self.n
        s = x[off["s"] : off["s"] + n]
        m = x[off["m"] : off["m"] + n]
        if not fractional:
            s, m = np.round(s), np.round(m)
        return self.ks * s + self.km * m

    def violated(self, x: np.ndarray, *, fractional: bool = False) -> list[np.ndarray]:
        """Site sets whose capacity row the master solution ``x`` violates (max-flow);
        ``fractional`` takes the capacities of an LP solution as they are."""
        model, n, G = self.model, self.n, self.G
        cap = self.capacity(x, fractional=fractional)
        u = np.clip(x[self.u0 : self.u0 + G], 0.0, 1.0)
        supply = np.where(self.served, model.gd * (1.0 - u), 0.0)
        total = float(supply.sum())
        if total <= 0:
            return []
        scale = _FLOW_UNITS / total
        # conservative rounding: supplies up, capacities down; a flow that carries all the
        # rounded supply is a feasible assignment of the real one
        a = np.ceil(supply * scale - 1e-9).astype(np.int64)
        c = np.minimum(np.floor(cap * scale + 1e-9), _INT_MAX).astype(np.int64)
        gi = np.flatnonzero(a > 0)
        pair = np.isin(model.gp_group, gi) & self.served[model.gp_group]
        N = G + n + 2
        rows = np.r_[np.zeros(len(gi), np.int64), 1 + model.gp_group[pair], G + 1 + np.arange(n)]
        cols = np.r_[1 + gi, G + 1 + model.gp_site[pair], np.full(n, N - 1)]
        caps = np.r_[a[gi], np.full(int(pair.sum()), _INT_MAX), c].astype(np.int32)
        graph = sp.csr_matrix((caps, (rows, cols)), shape=(N, N))
        flow = csgraph.maximum_flow(graph, 0, N - 1)
        if flow.flow_value >= int(a[gi].sum()):
            return []
        # source side of a minimum cut: nodes reachable in the residual graph
        residual = (graph - flow.flow).tocsr()
        residual.data = (residual.data > 0).astype(np.int8)
        residual.eliminate_zeros()
        reach = np.zeros(N, bool)
        reach[csgraph.breadth_first_order(residual, 0, return_predecessors=False)] = True
        S = reach[G + 1 : G + 1 + n]
        gg = self.inside(S)
        sub = self.B[gg][:, S]
        ncomp, label = csgraph.connected_components(
            sp.bmat([[None, sub], [sub.T, None]]).tocsr(), directed=False
        )
        sites = np.flatnonzero(S)
        out = []
        for k in range(ncomp):
            ss = sites[label[len(gg) :] == k]
            need = float(supply[gg[label[: len(gg)] == k]].sum())
            if need > float(cap[ss].sum()) + _REL_TOL * max(need, 1.0):
                out.append(ss)
        return out

    def master(self, cost: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> _Matrix:
        integer = np.zeros(len(self.cols), bool)
        integer[: self.u0] = True
        names = [self.model.matrix.names[k] for k in self.cols]
        return _Matrix(cost, lower, upper, integer, self.A, self.row_lower, self.row_upper, names)


def master_sites(
    model: PlacementFormulation,
    cost: np.ndarray,
    *,
    hard: bool,
    time_limit_s: float,
    threads: int | None,
) -> np.ndarray | None:
    """Sites (boolean mask) the master's best plan uses, or None.

    ``cost`` is the full model's objective vector; ``hard`` fixes the uncovered share of
    every coverable zone at zero. The master is solved for at most ``time_limit_s`` to a
    0.5 % gap.
    """
    t0 = time.perf_counter()
    cuts = CapacityCuts(model)
    lower = model.matrix.lower[cuts.cols].copy()
    upper = model.matrix.upper[cuts.cols].copy()
    if hard:
        upper[cuts.u0 : cuts.uend] = np.where(model.group_coverable, 0.0, 1.0)
    left = time_limit_s - (time.perf_counter() - t0)
    if left < 1.0:
        return None
    info, x, _ = _solve_highs(cuts.master(cost[cuts.cols], lower, upper), left, 0.005, threads)
    if info.status not in (Status.OPTIMAL, Status.FEASIBLE):
        logger.info("master: %s", info.solver_status)
        return None
    used = cuts.capacity(x) > 0
    logger.info(
        "master: %s %.6g over %d sites (%d region rows) in %.1f s; %d capacity rows short",
        info.status,
        info.objective,
        int(used.sum()),
        cuts.n_regions,
        time.perf_counter() - t0,
        len(cuts.violated(x)),
    )
    return used
