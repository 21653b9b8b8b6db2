r"""The weekly rota of the mobile units: which unit is at which site on which weekday.

An exact second stage after :class:`~netplan.optimise.PlacementModel`: the placement
chooses whole mobile days per week per site under aggregate fleet rows (total days at most
units x days per unit, sites at most units x sites per unit); :func:`solve_rota` finds,
as a small MIP solved with HiGHS, a week in which every unit is somewhere each day, works
at most one site a day, every site gets exactly its planned days, and a unit moves between
two consecutive weekdays only between sites within ``max_relocation_minutes``.

Formulation
-----------
Units of the same kind (same home base, and no per-unit limit that binds) are identical,
so they form a class ``c`` of ``N_c`` units and the model counts them (a time-expanded
integer flow; an exact flow decomposition gives each unit its path). A unit limit that
binds (``days_per_unit`` below the weekdays, ``max_sites_per_unit`` below them) puts
every unit in a class of its own. With locations ``l`` (the mobile sites and the home
bases), weekdays ``d = 0..D-1`` and pairs ``(l, k)`` within the limit (``l = k``
included, 0 minutes):

.. math::

    \min \sum_{c,d,(l,k)} t_{lk} f_{c,l,k,d} + \sum_{c,k} t_{h_c k} n_{c,k,0}

    \sum_l n_{c,l,d} = N_c, \quad x_{c,s,d} \le n_{c,s,d}, \quad
    \sum_c x_{c,s,d} \le 1, \quad \sum_{c,d} x_{c,s,d} = m_s

    \sum_k f_{c,l,k,d} = n_{c,l,d}, \quad \sum_l f_{c,l,k,d} = n_{c,k,d+1}

with ``n`` (units of class ``c`` at ``l`` on day ``d``) and ``f`` (moves overnight)
integer and ``x`` (class ``c`` works at ``s`` on ``d``) binary; a home base ``h_c``
allows on the first day only sites within the limit of it, and the Monday drive from it
counts. For a class of one unit: ``\sum_{s,d} x \le`` days per unit and ``x \le w_{s}``,
``\sum_s w_s \le`` sites per unit. ``spread_days``: a site with ``m_s \le \lceil D/2
\rceil`` days is never visited on two consecutive weekdays. A second stage keeps the
relocation minutes at their optimum and minimises back-to-back visits of one site (fewer
patients wait for a run of days). The drive back to base after the last weekday is not
counted (the weekend). An idle unit stays parked or moves like any other.

Two exact formulations share these rules and objectives (``formulation``): the
time-expanded flow above, and week patterns (:mod:`netplan.optimise._rota_patterns`:
one integer per feasible week of a unit and home-base class, no symmetric copies of a
unit). The flow is small and quick while units of one kind form one class; once a
per-unit limit binds, each unit is a class of its own, and its MIP spends its time on
unit permutations (the England default's 4 units, 3 sites each: the 120 s limit without a
proof), where the patterns prove the optimum in about 2 s. ``auto`` takes the patterns
then, and the flow otherwise or past :data:`~netplan.optimise._rota_patterns.MAX_PATTERNS`
patterns (logged); ``tests/test_rota.py`` checks on random instances that both give the
same relocation minutes, back-to-back visits and short days.

When no rota exists, :func:`solve_rota` says so (``status="infeasible"``) and solves the
largest partial rota instead (most planned days placed, same rules): ``short_days`` names
the sites and the days they lack, the input of a re-solve of the placement with tighter
per-site limits.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._errors import ValidationError
from . import _rota_patterns as patterns
from ._rota_mip import RotaMip as _Model
from ._rota_mip import solve_two_stage

logger = logging.getLogger(__name__)

#: Weekday names a rota may use, in order (``fleet.days``).
ROTA_WEEKDAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat")


@dataclass(frozen=True)
class RotaResult:
    """A weekly rota (see the module docstring).

    Attributes
    ----------
    status
        {"optimal", "feasible", "infeasible", "time_limit", "empty"}: ``optimal`` is proven;
        ``infeasible``: no rota gives every site its planned days (``rota`` is then the
        largest partial one and ``short_days`` what it lacks).
    rota
        One row per unit and weekday: ``unit_id, weekday, site_id, site_name, visit``
        (False: the unit is parked there, idle), ``relocation_minutes_from_previous``
        (drive from where it was the day before, or from its home base on the first day).
    units
        One row per unit: ``unit_id, home_base, days_used, days_available, sites_visited,
        site_ids, moves_per_week, relocation_minutes_per_week, utilisation``.
    relocation_minutes_per_week, moves_per_week, back_to_back_visits
        Totals of the rota.
    short_days
        Site id -> planned days the rota could not place (empty when ``status`` is a rota).
    runtime_s
        Solver time of every stage.
    messages
        What was checked or could not be done, in words.
    formulation
        {"patterns", "flow", ""}: the MIP solved (module docstring; "" when none was).
    """

    status: str
    rota: pd.DataFrame = field(repr=False)
    units: pd.DataFrame = field(repr=False)
    relocation_minutes_per_week: float
    moves_per_week: int
    back_to_back_visits: int
    short_days: dict[str, int]
    runtime_s: float
    messages: tuple[str, ...] = ()
    formulation: str = ""

    @property
    def ok(self) -> bool:
        """True when every site's planned days are in the rota."""
        return self.status in ("optimal", "feasible", "empty")


def _check_days(days: Sequence[str]) -> list[str]:
    out = []
    for day in days:
        key = str(day).strip()[:3].title()
        if key not in ROTA_WEEKDAYS:
            msg = f"fleet.days: unknown weekday {day!r}; use some of {list(ROTA_WEEKDAYS)}"
            raise ValidationError(msg)
        out.append(key)
    if not out or len(set(out)) != len(out):
        msg = f"fleet.days {list(days)} must be distinct weekdays and not empty"
        raise ValidationError(msg)
    return sorted(out, key=ROTA_WEEKDAYS.index)


def solve_rota(
    site_days: Mapping[str, int],
    minutes: pd.DataFrame,
    *,
    units: int,
    days: Sequence[str] = ("Mon", "Tue", "Wed", "Thu", "Fri"),
    max_relocation_minutes: float,
    home_bases: Sequence[str | None] = (),
    days_per_unit: int | None = None,
    max_sites_per_unit: int | None = None,
    spread_days: bool = False,
    site_names: Mapping[str, str] | None = None,
    time_limit_s: float = 60.0,
    formulation: str = "auto",
    max_patterns: int = patterns.MAX_PATTERNS,
) -> RotaResult:
    """The rota of least relocation minutes that gives every mobile site its planned days.

    Parameters
    ----------
    site_days
        Mobile site id -> planned mobile days per week (sites with 0 are left out).
    minutes
        ``origin_id, destination_id, minutes``: drive times between the sites and the home
        bases, on the scenario's network and profile (missing pairs are unreachable).
    units
        Mobile units in the fleet (``fleet.mobile_units``).
    days
        Weekdays of the rota (``fleet.days``; Mon..Sat).
    max_relocation_minutes
        Longest drive between the sites of two consecutive weekdays of a unit.
    home_bases
        Unit ``i``'s home base (a location in ``minutes``), or None; missing: none.
    days_per_unit, max_sites_per_unit
        Per-unit limits (``fleet.days_per_unit``, ``fleet.max_sites_per_unit``).
    spread_days
        Never visit a site on two consecutive weekdays when its days allow it.
    site_names
        Site id -> name, for the tables.
    time_limit_s
        Solver time limit of each stage.
    formulation
        {"auto", "patterns", "flow"}: ``patterns`` chooses among each unit's feasible
        week patterns (:mod:`netplan.optimise._rota_patterns`), ``flow`` solves the
        time-expanded flow; ``auto`` takes patterns when a per-unit limit binds (the flow
        then models each unit on its own and is slow to prove) and the flow otherwise.
        Both are exact and give the same optimum; patterns fall back to the flow past
        ``max_patterns`` week patterns.
    max_patterns
        Most week patterns enumerated (all classes together).

    Returns
    -------
    RotaResult

    Raises
    ------
    ValidationError
        On a negative or non-integer number of days, a site with more days than the rota
        has weekdays, or a home base without drive times.

    Examples
    --------
    One unit, two sites 30 minutes apart, two days each over four weekdays:

    >>> od = pd.DataFrame({"origin_id": ["A", "B"], "destination_id": ["B", "A"],
    ...                    "minutes": [30.0, 30.0]})
    >>> r = solve_rota({"A": 2, "B": 2}, od, units=1, days=["Mon", "Tue", "Wed", "Thu"],
    ...                max_relocation_minutes=60)
    >>> r.status, r.relocation_minutes_per_week, r.moves_per_week
    ('optimal', 30.0, 1)
    """
    t0 = time.perf_counter()
    day_names = _check_days(days)
    n_days = len(day_names)
    need = {}
    for sid, m in site_days.items():
        if int(m) != m or m < 0:
            msg = f"site {sid!r}: planned mobile days {m!r} must be a whole number >= 0"
            raise ValidationError(msg)
        if m > n_days:
            msg = f"site {sid!r}: {int(m)} mobile days a week but the rota has {n_days} weekdays"
            raise ValidationError(msg)
        if m > 0:
            need[str(sid)] = int(m)
    homes = [str(h) if h else None for h in list(home_bases)[:units]]
    homes += [None] * (units - len(homes))
    sites = sorted(need)
    locs = sites + sorted({h for h in homes if h and h not in need})
    pos = {loc: i for i, loc in enumerate(locs)}
    od = minutes.assign(
        origin_id=minutes["origin_id"].astype(str),
        destination_id=minutes["destination_id"].astype(str),
    )
    od = od[od["origin_id"].isin(pos) & od["destination_id"].isin(pos)]
    t = np.full((len(locs), len(locs)), np.inf)
    rows = od["origin_id"].map(pos).to_numpy(dtype=np.int64)
    cols = od["destination_id"].map(pos).to_numpy(dtype=np.int64)
    t[rows, cols] = od["minutes"].to_numpy(float)
    np.fill_diagonal(t, 0.0)
    for h in {h for h in homes if h}:
        if not np.isfinite(np.delete(t[pos[h]], pos[h])).any() and len(locs) > 1:
            msg = f"home base {h!r} has no drive time to any mobile site; check its id"
            raise ValidationError(msg)
    names = {str(k): str(v) for k, v in (site_names or {}).items()}
    if not need or units == 0:
        short = dict(need) if units == 0 else {}
        return _empty(units, homes, day_names, short, time.perf_counter() - t0)
    per_unit = (days_per_unit is not None and days_per_unit < n_days) or (
        max_sites_per_unit is not None and max_sites_per_unit < n_days
    )
    if per_unit:
        classes = [(h, [u]) for u, h in enumerate(homes)]
    else:
        groups: dict[str | None, list[int]] = {}
        for u, h in enumerate(homes):
            groups.setdefault(h, []).append(u)
        classes = sorted(groups.items(), key=lambda kv: kv[1][0])
    allowed = t <= max_relocation_minutes + 1e-9
    msgs: list[str] = []
    args = (need, sites, locs, t, allowed, classes, n_days)
    kw = {
        "days_per_unit": days_per_unit,
        "max_sites_per_unit": max_sites_per_unit,
        "spread_days": spread_days,
    }
    spread = patterns.spread_sites(need, sites, n_days, spread_days)
    pat = None
    if formulation == "patterns" or (formulation == "auto" and per_unit):
        pat = patterns.pattern_classes(
            need,
            sites,
            locs,
            t,
            allowed,
            homes,
            n_days,
            days_per_unit=days_per_unit,
            max_sites_per_unit=max_sites_per_unit,
            spread=spread,
            max_patterns=max_patterns,
        )
        if pat is None:
            logger.info(
                "rota: more than %s week patterns; the time-expanded flow is solved instead",
                f"{max_patterns:,}",
            )
    used = "patterns" if pat is not None else "flow"

    def solve(exact: bool) -> tuple[str, list[tuple[str | None, list[int]]], list | None]:
        if pat is not None:
            st, jobs = patterns.solve_patterns(
                need,
                sites,
                pat[2],
                pat[1],
                n_days,
                exact=exact,
                spread=spread,
                time_limit_s=time_limit_s,
            )
            return st, pat[0], jobs
        st, sol, built = _stages(*args, exact=exact, time_limit_s=time_limit_s, **kw)
        ok = st in ("optimal", "feasible")
        return st, classes, _flow_jobs(built[1], sol, classes, n_days) if ok else None

    per_day = min(n_days, days_per_unit or n_days)
    lower = _units_needed(need, sites, allowed, per_day)
    jobs: list | None = None
    if not any(homes) and lower > units:
        # proven by counting (module docstring): no MIP needed for the answer
        status = "infeasible"
        msgs.append(
            f"the mobile sites fall in groups a unit cannot leave within the "
            f"{max_relocation_minutes:g}-minute limit; they need {lower} unit(s) at least, "
            f"the fleet has {units}"
        )
    else:
        status, classes, jobs = solve(exact=True)
    short: dict[str, int] = {}
    if status == "infeasible":
        msgs.append(
            "no rota gives every mobile site its planned days under the unit, weekday and "
            f"relocation rules ({max_relocation_minutes:g} min); the largest partial rota "
            "is shown"
        )
        _, classes, jobs = solve(exact=False)
        if jobs is not None:
            placed = _placed(jobs, sites)
            short = {s: need[s] - placed[s] for s in sites if placed[s] < need[s]}
    elif status == "not_solved":
        msgs.append(
            f"the rota MIP found no rota within {time_limit_s:g} s (not proven that none "
            "exists); no rota is shown"
        )
        jobs = None
    rota, unit_table = _tables(jobs, classes, locs, t, day_names, names, homes, kw)
    moves = int((rota["relocation_minutes_from_previous"] > 0).sum()) if len(rota) else 0
    b2b = _back_to_back(rota)
    runtime = time.perf_counter() - t0
    logger.info(
        "rota: %s (%s), %d site(s), %d unit(s), %.0f relocation min/week, %d move(s), %.2f s",
        status,
        used,
        len(sites),
        units,
        float(rota["relocation_minutes_from_previous"].sum()) if len(rota) else 0.0,
        moves,
        runtime,
    )
    return RotaResult(
        status=status if status != "not_solved" else "time_limit",
        rota=rota,
        units=unit_table,
        relocation_minutes_per_week=round(float(unit_table["relocation_minutes_per_week"].sum()), 3)
        if len(unit_table)
        else 0.0,
        moves_per_week=moves,
        back_to_back_visits=b2b,
        short_days=short,
        runtime_s=runtime,
        messages=tuple(msgs),
        formulation=used,
    )


def _empty(
    units: int, homes: list[str | None], day_names: list[str], short: dict[str, int], dt: float
) -> RotaResult:
    rota = pd.DataFrame(
        columns=[
            "unit_id",
            "weekday",
            "site_id",
            "site_name",
            "visit",
            "relocation_minutes_from_previous",
        ]
    )
    table = pd.DataFrame(
        {
            "unit_id": [f"unit_{u + 1}" for u in range(units)],
            "home_base": [h or "" for h in homes],
            "days_used": 0,
            "days_available": len(day_names),
            "sites_visited": 0,
            "site_ids": "",
            "moves_per_week": 0,
            "relocation_minutes_per_week": 0.0,
            "utilisation": 0.0,
        }
    )
    status = "infeasible" if short else "empty"
    msgs = ("no mobile units for the planned mobile days",) if short else ()
    return RotaResult(status, rota, table, 0.0, 0, 0, short, dt, msgs)


def _build(
    need: dict[str, int],
    sites: list[str],
    locs: list[str],
    t: np.ndarray,
    allowed: np.ndarray,
    classes: list[tuple[str | None, list[int]]],
    n_days: int,
    *,
    exact: bool,
    days_per_unit: int | None,
    max_sites_per_unit: int | None,
    spread_days: bool,
) -> tuple[_Model, dict[str, dict[tuple[int, ...], int]], np.ndarray, np.ndarray]:
    """The rota MIP: variables by kind and key, the relocation and back-to-back costs."""
    mdl = _Model()
    comp = _components(allowed)
    var: dict[str, dict[tuple[int, ...], int]] = {"n": {}, "x": {}, "f": {}, "b": {}}
    reloc: dict[int, float] = {}
    n_sites = len(sites)
    for c, (home, members) in enumerate(classes):
        size = float(len(members))
        where = [i for i, loc in enumerate(locs) if i < n_sites or loc == home]
        h = locs.index(home) if home else None
        for d in range(n_days):
            for i in where:
                if d == 0 and h is not None and not allowed[h, i]:
                    continue
                k = mdl.var(upper=size)
                var["n"][c, i, d] = k
                if d == 0 and h is not None and t[h, i] > 0:
                    reloc[k] = float(t[h, i])
            mdl.row([var["n"][c, i, d] for i in where if (c, i, d) in var["n"]],
                    [1.0] * sum((c, i, d) in var["n"] for i in where), size, size)  # fmt: skip
            for s in range(n_sites):
                if (c, s, d) in var["n"]:
                    k = mdl.var()
                    var["x"][c, s, d] = k
                    mdl.row([k, var["n"][c, s, d]], [1.0, -1.0], -np.inf, 0.0)
        for d in range(n_days - 1):
            out: dict[int, list[int]] = {}
            inn: dict[int, list[int]] = {}
            for i in where:
                for j in where:
                    if allowed[i, j] and (c, i, d) in var["n"] and (c, j, d + 1) in var["n"]:
                        k = mdl.var(upper=size)
                        var["f"][c, i, j, d] = k
                        if t[i, j] > 0:
                            reloc[k] = float(t[i, j])
                        out.setdefault(i, []).append(k)
                        inn.setdefault(j, []).append(k)
            for i in where:
                for d2, flows in ((d, out.get(i, [])), (d + 1, inn.get(i, []))):
                    if (c, i, d2) in var["n"]:
                        mdl.row([*flows, var["n"][c, i, d2]],
                                [1.0] * len(flows) + [-1.0], 0.0, 0.0)  # fmt: skip
        # a unit never leaves its component of the relocation graph: count the class's
        # units in each component with an integer (the same every day) to branch on
        for k in sorted({int(comp[i]) for i in where}):
            v = mdl.var(upper=size)
            for d in range(n_days):
                ns = [var["n"][c, i, d] for i in where if comp[i] == k and (c, i, d) in var["n"]]
                mdl.row([*ns, v], [1.0] * len(ns) + [-1.0], 0.0, 0.0)
        if len(members) == 1:
            xs = [k for (cc, _, _), k in var["x"].items() if cc == c]
            if days_per_unit is not None and days_per_unit < n_days:
                mdl.row(xs, [1.0] * len(xs), -np.inf, float(days_per_unit))
            if max_sites_per_unit is not None and max_sites_per_unit < n_days:
                ws = []
                for s in range(n_sites):
                    w = mdl.var()
                    ws.append(w)
                    for d in range(n_days):
                        if (c, s, d) in var["x"]:
                            mdl.row([var["x"][c, s, d], w], [1.0, -1.0], -np.inf, 0.0)
                mdl.row(ws, [1.0] * len(ws), -np.inf, float(max_sites_per_unit))
    visits = np.zeros(len(mdl.cost))
    for s, sid in enumerate(sites):
        per_day = []
        for d in range(n_days):
            xs = [var["x"][c, s, d] for c in range(len(classes)) if (c, s, d) in var["x"]]
            mdl.row(xs, [1.0] * len(xs), -np.inf, 1.0)
            per_day.append(xs)
        every = [k for xs in per_day for k in xs]
        if exact:
            mdl.row(every, [1.0] * len(every), float(need[sid]), float(need[sid]))
        else:
            mdl.row(every, [1.0] * len(every), -np.inf, float(need[sid]))
            visits[every] = 1.0
        spread = spread_days and need[sid] <= math.ceil(n_days / 2)
        for d in range(n_days - 1):
            pair = per_day[d] + per_day[d + 1]
            if spread:
                mdl.row(pair, [1.0] * len(pair), -np.inf, 1.0)
            else:  # b >= visits on d and d+1 - 1 (back to back)
                b = mdl.var(integer=False)
                var["b"][s, d] = b
                mdl.row([*pair, b], [1.0] * len(pair) + [-1.0], -np.inf, 1.0)
    n = len(mdl.cost)
    cost = np.zeros(n)
    for k, v in reloc.items():
        cost[k] = v
    b2b = np.zeros(n)
    for k in var["b"].values():
        b2b[k] = 1.0
    visits = np.concatenate([visits, np.zeros(n - len(visits))])
    return mdl, var, cost, b2b if exact else visits


def _components(allowed: np.ndarray) -> np.ndarray:
    """Component label of each location in the graph of allowed moves (either way)."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    _, labels = connected_components(sp.csr_matrix(allowed | allowed.T), directed=False)
    return np.asarray(labels)


def _units_needed(
    need: dict[str, int], sites: list[str], allowed: np.ndarray, per_unit: int
) -> int:
    """Units the sites need at least: a unit stays in one component of the relocation graph
    and works at most ``per_unit`` days there, so each component needs ceil(days / per_unit)."""
    comp = _components(allowed[: len(sites), : len(sites)])
    days: dict[int, int] = {}
    for i, sid in enumerate(sites):
        days[int(comp[i])] = days.get(int(comp[i]), 0) + need[sid]
    return sum(math.ceil(v / per_unit) for v in days.values())


def _stages(
    need: dict[str, int],
    sites: list[str],
    locs: list[str],
    t: np.ndarray,
    allowed: np.ndarray,
    classes: list[tuple[str | None, list[int]]],
    n_days: int,
    *,
    exact: bool,
    time_limit_s: float,
    **kw: object,
) -> tuple[str, np.ndarray, tuple[_Model, dict[str, dict[tuple[int, ...], int]]]]:
    """Least relocation minutes, then fewest back-to-back visits at those minutes (exact);
    or (not exact) most planned days placed, then least relocation minutes."""
    mdl, var, cost, second = _build(
        need,
        sites,
        locs,
        t,
        allowed,
        classes,
        n_days,
        exact=exact,
        **kw,  # type: ignore[arg-type]
    )
    first, later = (cost, second) if exact else (-second, cost)
    status, sol = solve_two_stage(mdl, first, later, time_limit_s)
    return status, sol, (mdl, var)


def _placed(jobs: list[list[patterns.Job]], sites: list[str]) -> dict[str, int]:
    """Days the rota places at each site."""
    placed = dict.fromkeys(sites, 0)
    for class_jobs in jobs:
        for path, busy in class_jobs:
            for i, b in zip(path, busy, strict=True):
                if b:
                    placed[sites[i]] += 1
    return placed


def _flow_jobs(
    var: dict[str, dict[tuple[int, ...], int]],
    sol: np.ndarray,
    classes: list[tuple[str | None, list[int]]],
    n_days: int,
) -> list[list[patterns.Job]]:
    """Decompose each class's flow into one path per unit, with its working days."""
    out = []
    for c in range(len(classes)):
        count = {key[1:]: round(sol[k]) for key, k in var["n"].items() if key[0] == c}
        flow = {key[1:]: round(sol[k]) for key, k in var["f"].items() if key[0] == c}
        work = {key[1:] for key, k in var["x"].items() if key[0] == c and sol[k] > 0.5}
        at = [i for (i, d), v in sorted(count.items()) if d == 0 for _ in range(v)]
        paths = [[i] for i in at]
        for d in range(n_days - 1):
            for p in paths:
                i = p[-1]
                j = next(j for (a, j, dd), v in sorted(flow.items()) if a == i and dd == d and v)
                flow[i, j, d] -= 1
                p.append(j)
        jobs = []
        for p in paths:
            busy = []
            for d, i in enumerate(p):
                busy.append((i, d) in work)
                work.discard((i, d))
            jobs.append((p, busy))
        out.append(jobs)
    return out


def _tables(
    jobs_by_class: list[list[patterns.Job]] | None,
    classes: list[tuple[str | None, list[int]]],
    locs: list[str],
    t: np.ndarray,
    day_names: list[str],
    names: dict[str, str],
    homes: list[str | None],
    kw: Mapping[str, object],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rota and unit tables of one path per unit (None: no rota)."""
    n_days = len(day_names)
    rows = []
    for c, (home, members) in enumerate(classes):
        if jobs_by_class is None:
            break
        jobs = list(jobs_by_class[c])
        # working units first, by the first site they work at (a readable numbering)
        jobs.sort(key=lambda pb: (not any(pb[1]), min([i for i, b in zip(*pb, strict=True)
                                                       if b] or [0]), pb[0]))  # fmt: skip
        for u, (p, busy_days) in zip(members, jobs, strict=True):
            for d, i in enumerate(p):
                prev = (locs.index(home) if home else None) if d == 0 else p[d - 1]
                busy = busy_days[d]
                rows.append(
                    {
                        "unit_id": f"unit_{u + 1}",
                        "weekday": day_names[d],
                        "site_id": locs[i],
                        "site_name": names.get(locs[i], locs[i]),
                        "visit": busy,
                        "relocation_minutes_from_previous": 0.0
                        if prev is None
                        else round(float(t[prev, i]), 3),
                    }
                )
    rota = pd.DataFrame(
        rows,
        columns=[
            "unit_id",
            "weekday",
            "site_id",
            "site_name",
            "visit",
            "relocation_minutes_from_previous",
        ],
    )
    if len(rota):
        order = rota["unit_id"].str.slice(5).astype(int) * 10 + rota["weekday"].map(
            ROTA_WEEKDAYS.index
        )
        rota = rota.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)
    avail = n_days
    if kw.get("days_per_unit") is not None:
        avail = min(n_days, int(kw["days_per_unit"]))  # type: ignore[call-overload]
    units = []
    for u, home in enumerate(homes):
        mine = rota[rota["unit_id"] == f"unit_{u + 1}"]
        work = mine[mine["visit"].astype(bool)]
        visited = list(dict.fromkeys(work["site_id"]))
        units.append(
            {
                "unit_id": f"unit_{u + 1}",
                "home_base": home or "",
                "days_used": len(work),
                "days_available": avail,
                "sites_visited": len(visited),
                "site_ids": " ".join(visited),
                "moves_per_week": int((mine["relocation_minutes_from_previous"] > 0).sum()),
                "relocation_minutes_per_week": round(
                    float(mine["relocation_minutes_from_previous"].sum()), 3
                ),
                "utilisation": round(len(work) / avail, 4) if avail else 0.0,
            }
        )
    return rota, pd.DataFrame(units)


def _back_to_back(rota: pd.DataFrame) -> int:
    """Visits of a site on the weekday right after another visit of it."""
    if not len(rota):
        return 0
    work = rota[rota["visit"].astype(bool)]
    n = 0
    for _, g in work.groupby("site_id"):
        idx = sorted(ROTA_WEEKDAYS.index(d) for d in g["weekday"])
        n += sum(1 for a, b in itertools.pairwise(idx) if b == a + 1)
    return n


def check_rota(
    rota: pd.DataFrame,
    site_days: Mapping[str, int],
    minutes: pd.DataFrame,
    *,
    max_relocation_minutes: float,
    days: Sequence[str],
) -> list[str]:
    """Independent checks of a rota table; the problems found (empty: it holds).

    Every site's visits equal its planned days, no unit is at two places on one day, no
    site has two units working on one day, and every overnight move is within the limit
    (by the drive times given, not the rota's own figures).
    """
    problems: list[str] = []
    want = {str(k): int(v) for k, v in site_days.items() if v}
    work = rota[rota["visit"].astype(bool)]
    got = work.groupby("site_id").size().to_dict()
    for sid in sorted(set(want) | set(got)):
        if want.get(sid, 0) != got.get(sid, 0):
            problems.append(
                f"site {sid}: {got.get(sid, 0)} rota day(s), planned {want.get(sid, 0)}"
            )
    dup = rota.groupby(["unit_id", "weekday"]).size()
    problems += [f"unit {u} is at {n} places on {d}" for (u, d), n in dup.items() if n > 1]
    dup = work.groupby(["site_id", "weekday"]).size()
    problems += [f"site {s} has {n} units working on {d}" for (s, d), n in dup.items() if n > 1]
    tt = {
        (str(a), str(b)): float(m)
        for a, b, m in minutes[["origin_id", "destination_id", "minutes"]].itertuples(index=False)
    }
    order = _check_days(days)
    for uid, g in rota.groupby("unit_id"):
        g = g.set_index("weekday")
        for a, b in itertools.pairwise(order):
            if a in g.index and b in g.index:
                s, e = str(g.at[a, "site_id"]), str(g.at[b, "site_id"])
                m = 0.0 if s == e else tt.get((s, e), math.inf)
                if m > max_relocation_minutes + 1e-9:
                    problems.append(
                        f"unit {uid}: {s} ({a}) -> {e} ({b}) is {m:.0f} min, over the "
                        f"{max_relocation_minutes:g}-minute relocation limit"
                    )
    return problems
