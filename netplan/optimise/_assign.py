"""Send each zone to the nearest open site with room, for a fixed network.

For the ``"cost"`` and ``"cover_then_cost"`` objectives the cost depends only on the site
decisions and the uncovered demand, so the MIP's own assignment is arbitrary among the
feasible ones: a zone may be sent 55 minutes away while a site 10 minutes away has room.
:func:`assign` re-solves the assignment alone, as one linear program over the zones (not
the merged groups), minimising total scan-minutes of driving subject to the sites'
capacities and each zone's uncovered share. Cost, capacity and coverage are unchanged.
:func:`reassign` applies it to a strategy's :class:`~netplan.optimise._core.RawSolution`
(the post-step of ``PlacementModel.solve(reassign=True)``).
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from .._errors import SolverError
from ._core import RawSolution
from ._matrix import _Matrix, _solve_highs

if TYPE_CHECKING:
    from ._formulation import PlacementFormulation

_REL_TOL = 1e-6


def assign(model: PlacementFormulation, capacity: np.ndarray, u_group: np.ndarray) -> np.ndarray:
    """Shares of each zone's demand per (zone, site) pair for fixed site capacities.

    Minimises scan-minutes subject to serving ``1 - u`` of every zone within the standard
    and the capacities (relaxed by one part in a million only if round-off makes the
    exact LP infeasible).
    Zones without demand go to their nearest open site.
    """

    pz, ps, pt, d = model.pz, model.ps, model.pt, model.d
    share = np.zeros(len(pz))
    open_ = capacity > 0
    supply = np.where(model.coverable, 1.0 - u_group[model.zone_group], 0.0)
    supply[supply < 1e-9] = 0.0
    use = open_[ps] & (d[pz] > 0) & (supply[pz] > 0)
    k = np.flatnonzero(use)
    if len(k):
        zones, zrow = np.unique(pz[k], return_inverse=True)
        sites, srow = np.unique(ps[k], return_inverse=True)
        nz = len(zones)
        A = sp.csr_matrix(
            (
                np.r_[np.ones(len(k)), d[pz[k]]],
                (np.r_[zrow, nz + srow], np.r_[np.arange(len(k)), np.arange(len(k))]),
            ),
            shape=(nz + len(sites), len(k)),
        )
        for slack in (0.0, _REL_TOL):  # exact capacities; if round-off bites, 1e-6 more
            cap = capacity[sites] * (1 + slack) + slack
            lp = _Matrix(
                d[pz[k]] * pt[k],
                np.zeros(len(k)),
                np.ones(len(k)),
                np.zeros(len(k), bool),
                A,
                np.r_[supply[zones], np.full(len(sites), -np.inf)],
                np.r_[supply[zones], cap],
                [],
            )
            info, x, _ = _solve_highs(lp, None, None, None)
            if info.solver_status == "Optimal":
                break
        else:
            msg = (
                f"the assignment LP for the chosen sites ended {info.solver_status}; "
                "keep the solver's own assignment (reassign=False)"
            )
            raise SolverError(msg)
        share[k] = np.clip(x, 0.0, 1.0)
    # zones without demand: nearest open site within the standard
    free = open_[ps] & (d[pz] <= 0) & model.coverable[pz]
    f = np.flatnonzero(free)
    if len(f):
        order = f[np.lexsort((pt[f], pz[f]))]
        first = order[np.r_[True, pz[order][1:] != pz[order][:-1]]]
        share[first] = 1.0
    return share


def reassign(model: PlacementFormulation, raw: RawSolution) -> RawSolution:
    """``raw`` with every zone sent to the nearest open site with room (see :func:`assign`).

    The capacities are those of the solved scanners and mobile days, the uncovered shares
    the solved ones; the assignment LP's time is added to the last stage's runtime and a
    note says so.
    """
    t0 = time.perf_counter()
    values = raw.values
    off, n, rho = model._off, model.n_sites, model.target_utilisation
    s = np.round(values[off["s"] : off["s"] + n])
    m = np.round(values[off["m"] : off["m"] + n])
    capacity = rho * (
        model.static_scans_per_day * model.working_days_per_year * s
        + model.mobile_scans_per_day * model.mobile_weeks_per_year * m
    )
    u = np.clip(values[model._u0 : model._u0 + model.n_groups], 0.0, 1.0)
    share = assign(model, capacity, u)
    took = time.perf_counter() - t0
    last = raw.infos[-1]
    infos = (*raw.infos[:-1], dataclasses.replace(last, runtime_s=last.runtime_s + took))
    note = f"zones sent to the nearest open site with room (assignment LP, {took:.1f} s)"
    return dataclasses.replace(raw, infos=infos, share=share, notes=(*raw.notes, note))
