r"""The rota as a choice of week patterns: an exact formulation without unit symmetry.

Units differ only in their home base, so a unit's week is one of its class's feasible
*week patterns*: for each weekday the site it works at, or none (idle). A pattern is
feasible when it works at most ``max_sites_per_unit`` distinct sites and at most
``days_per_unit`` days, works a site no more days than the site's planned days, never
works a ``spread_days`` site on two consecutive weekdays, and some walk through the
unit's locations (the mobile sites and its home base) is at the pattern's site on each
working day, moving overnight only within the relocation limit and starting, with a home
base, at a location within the limit of it. Its relocation minutes ``r_p`` are those of
the shortest such walk (a dynamic programme over the days: on an idle day the unit may
wait anywhere, which is how it relocates through a site it does not work at), the drive
from the home base to the first day's location included.

With ``y_{c,p}`` the number of units of home-base class ``c`` (``N_c`` units) that work
pattern ``p`` (integer) and ``a_{p,s,d} = 1`` when ``p`` works site ``s`` on day ``d``:

.. math::

    \min \sum_{c,p} r_p y_{c,p} \quad \text{s.t.} \quad
    \sum_p y_{c,p} = N_c, \quad
    \sum_{c,p} a_{p,s,d} y_{c,p} \le 1, \quad
    \sum_{c,p,d} a_{p,s,d} y_{c,p} = m_s

and, for a ``spread_days`` site, ``\sum_{c,p} (a_{p,s,d} + a_{p,s,d+1}) y_{c,p} \le 1``.
Every rota of the time-expanded flow (:mod:`netplan.optimise.rota`) maps to one
solution here of the same relocation minutes and back-to-back visits and back, so the
two formulations have the same optimum; this one has no symmetric copies of a unit (the
flow puts each unit in a class of its own once a per-unit limit binds, and its MIP then
branches over unit permutations). The second stage (fewest back-to-back visits at least
relocation) and the largest partial rota (``= m_s`` relaxed to ``<= m_s``, most days
first) are the flow's. :func:`week_patterns` gives up (None) past ``max_patterns``
patterns, where the caller falls back to the flow.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np

from ._rota_mip import RotaMip, solve_two_stage

logger = logging.getLogger(__name__)

#: Most week patterns (all classes together) the pattern formulation enumerates; past it
#: :func:`netplan.optimise.rota.solve_rota` solves the time-expanded flow instead.
MAX_PATTERNS = 100_000

#: One unit's week: for each weekday the location index and whether it works there.
Job = tuple[list[int], list[bool]]


class _Walks:
    """Where a unit of one class may be: its locations, moves and first-day costs."""

    def __init__(self, t: np.ndarray, allowed: np.ndarray, n_sites: int, home: int | None) -> None:
        self.where = list(range(n_sites)) + ([home] if home is not None and home >= n_sites else [])
        w = np.asarray(self.where)
        self.step = np.where(allowed[np.ix_(w, w)], t[np.ix_(w, w)], np.inf)
        if home is None:
            self.start = np.zeros(len(w))
        else:
            self.start = np.where(allowed[home, w], t[home, w], np.inf)

    def relax(self, at: np.ndarray) -> np.ndarray:
        """Least minutes to each location one day later."""
        return np.min(at[:, None] + self.step, axis=0)

    def path(self, work: Sequence[int]) -> list[int]:
        """The locations (indices of ``locs``) of the pattern's shortest walk."""
        at = []
        cur = self.start
        for d, s in enumerate(work):
            if d:
                cur = self.relax(at[-1])
            if s >= 0:
                only = np.full(len(cur), np.inf)
                only[s] = cur[s]
                cur = only
            at.append(cur)
        j = int(np.argmin(at[-1]))
        out = [j]
        for d in range(len(work) - 1, 0, -1):
            best = at[d][j]
            tol = 1e-9 * max(1.0, abs(best))
            # stay put when that is as short (fewer moves); else the first that is
            if abs(at[d - 1][j] + self.step[j, j] - best) > tol:
                j = next(
                    i
                    for i in range(len(self.where))
                    if abs(at[d - 1][i] + self.step[i, j] - best) <= tol
                )
            out.append(j)
        return [self.where[i] for i in reversed(out)]


def week_patterns(
    walks: _Walks,
    need: Sequence[int],
    n_days: int,
    *,
    days_per_unit: int | None,
    max_sites_per_unit: int | None,
    spread: Sequence[bool],
    max_patterns: int,
) -> list[tuple[tuple[int, ...], float]] | None:
    """Every feasible week pattern of a class and its relocation minutes (module
    docstring); ``-1`` is an idle day. None when there are more than ``max_patterns``."""
    n_sites = len(need)
    most_days = n_days if days_per_unit is None else days_per_unit
    most_sites = n_sites if max_sites_per_unit is None else max_sites_per_unit
    out: list[tuple[tuple[int, ...], float]] = []
    work: list[int] = []
    count = [0] * n_sites

    def visit(d: int, pre: np.ndarray, worked: int, distinct: int) -> bool:
        """Extend ``work`` from day ``d`` (``pre``: least minutes to each location)."""
        for s in range(-1, n_sites):
            if s < 0:
                at = pre
            else:
                if worked >= most_days or count[s] >= need[s] or not np.isfinite(pre[s]):
                    continue
                if count[s] == 0 and distinct >= most_sites:
                    continue
                if spread[s] and work and work[-1] == s:
                    continue
                at = np.full(len(pre), np.inf)
                at[s] = pre[s]
            work.append(s)
            if s >= 0:
                count[s] += 1
            if d + 1 == n_days:
                out.append((tuple(work), float(np.min(at))))
                ok = len(out) <= max_patterns
            else:
                first = s >= 0 and count[s] == 1
                ok = visit(d + 1, walks.relax(at), worked + (s >= 0), distinct + first)
            if s >= 0:
                count[s] -= 1
            work.pop()
            if not ok:
                return False
        return True

    if not visit(0, walks.start, 0, 0):
        return None
    return out


def solve_patterns(
    need: dict[str, int],
    sites: list[str],
    classes: list[tuple[int, list[tuple[tuple[int, ...], float]]]],
    walks: list[_Walks],
    n_days: int,
    *,
    exact: bool,
    spread: Sequence[bool],
    time_limit_s: float,
) -> tuple[str, list[list[Job]] | None]:
    """Solve the pattern MIP (module docstring) for ``classes`` (units, patterns).

    ``exact``: every site gets its planned days, least relocation minutes, then fewest
    back-to-back visits; else most planned days placed, then least relocation minutes.
    Returns the status of :func:`solve_two_stage` and, with a rota, each class's jobs.
    """
    mdl = RotaMip(presolve=False)
    n_sites = len(sites)
    cols: list[list[int]] = []
    at: dict[tuple[int, int], list[int]] = {}
    reloc: list[float] = []
    visits: list[float] = []
    for size, patterns in classes:
        mine = []
        for work, minutes in patterns:
            worked = [s for s in work if s >= 0]
            k = mdl.var(upper=float(size) if not worked else 1.0)
            mine.append(k)
            reloc.append(minutes)
            visits.append(float(len(worked)))
            for d, s in enumerate(work):
                if s >= 0:
                    at.setdefault((s, d), []).append(k)
        cols.append(mine)
        mdl.row(mine, [1.0] * len(mine), float(size), float(size))
    n_y = len(reloc)
    b_cols = []
    for s in range(n_sites):
        every = []
        for d in range(n_days):
            ks = at.get((s, d), [])
            mdl.row(ks, [1.0] * len(ks), -np.inf, 1.0)
            every += ks
        m = float(need[sites[s]])
        if exact and not every:
            return "infeasible", None  # no unit can work the site at all
        mdl.row(every, [1.0] * len(every), m if exact else -np.inf, m)
        for d in range(n_days - 1):
            pair: dict[int, float] = {}
            for k in at.get((s, d), []) + at.get((s, d + 1), []):
                pair[k] = pair.get(k, 0.0) + 1.0
            if spread[s]:
                mdl.row(list(pair), list(pair.values()), -np.inf, 1.0)
            elif pair and exact:  # b >= visits on d and d+1 - 1 (back to back)
                b = mdl.var(upper=np.inf, integer=False)
                b_cols.append(b)
                mdl.row([*pair, b], [*pair.values(), -1.0], -np.inf, 1.0)
    n = len(mdl.cost)
    cost = np.zeros(n)
    cost[:n_y] = reloc
    second = np.zeros(n)
    if exact:
        second[b_cols] = 1.0
        first, later = cost, second
    else:
        second[:n_y] = visits
        first, later = -second, cost
    status, sol = solve_two_stage(mdl, first, later, time_limit_s, fix_by_reduced_cost=True)
    if status not in ("optimal", "feasible"):
        return status, None
    jobs: list[list[Job]] = []
    for c, (_, patterns) in enumerate(classes):
        mine = []
        for k, (work, _) in zip(cols[c], patterns, strict=True):
            for _ in range(round(sol[k])):
                mine.append((walks[c].path(work), [s >= 0 for s in work]))
        jobs.append(mine)
    return status, jobs


def pattern_classes(
    need: dict[str, int],
    sites: list[str],
    locs: list[str],
    t: np.ndarray,
    allowed: np.ndarray,
    homes: list[str | None],
    n_days: int,
    *,
    days_per_unit: int | None,
    max_sites_per_unit: int | None,
    spread: Sequence[bool],
    max_patterns: int = MAX_PATTERNS,
) -> tuple[list[tuple[str | None, list[int]]], list[_Walks], list[tuple[int, list]]] | None:
    """The home-base classes of the units, their walks and week patterns; None past
    ``max_patterns`` patterns (all classes)."""
    groups: dict[str | None, list[int]] = {}
    for u, h in enumerate(homes):
        groups.setdefault(h, []).append(u)
    classes = sorted(groups.items(), key=lambda kv: kv[1][0])
    walks, counted = [], []
    left = max_patterns
    days = [need[s] for s in sites]
    for home, members in classes:
        w = _Walks(t, allowed, len(sites), locs.index(home) if home else None)
        found = week_patterns(
            w,
            days,
            n_days,
            days_per_unit=days_per_unit,
            max_sites_per_unit=max_sites_per_unit,
            spread=spread,
            max_patterns=left,
        )
        if found is None:
            return None
        left -= len(found)
        walks.append(w)
        counted.append((len(members), found))
    logger.info(
        "rota: %s week pattern(s) for %d class(es) of units",
        f"{max_patterns - left:,}",
        len(classes),
    )
    return classes, walks, counted


def spread_sites(
    need: dict[str, int], sites: list[str], n_days: int, spread_days: bool
) -> list[bool]:
    """Sites never worked on two consecutive weekdays (``spread_days`` and few days)."""
    return [spread_days and need[s] <= math.ceil(n_days / 2) for s in sites]
