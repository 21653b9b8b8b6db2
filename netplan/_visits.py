"""The waiting time at a site a mobile unit visits on some weekdays: an exact weekly queue.

A helper of :func:`netplan.capacity.turnaround` (re-exported there as
:func:`~netplan.capacity.visit_queue` and :func:`~netplan.capacity.spread_visit_days`).

Model (documented assumption)
-----------------------------
Time runs in working days, five to a week (Mon-Fri). Each working day ``A ~ Poisson(lam)``
patients become ready to be scanned (referred and booked), the same rate every day. On a
visit day the unit scans up to ``c`` patients, first come first served; on other days
nobody is scanned. ``X_d``, the queue at the start of weekday ``d``, is a Markov chain
with a one-week period; its stationary law is solved exactly (sparse linear system on a
truncated state space whose cut-off is doubled until the mass near it is negligible).

A patient ready on day ``d`` finds ``X_d`` waiting and ``J`` others ready the same day
before it (``P(J = i) = P(A > i) / lam`` for Poisson arrivals in random order). With
``N = X_d + J`` ahead of it, it is scanned on the ``floor(N / c)``-th visit day from ``d``
on (counting ``d`` itself), so::

    P(wait <= w | d) = P(N < c * V_d(w))

where ``V_d(w)`` is the number of visit days in ``d .. d + w``. Ready days are uniform over
the week. Under light load the wait is the distance to the next visit day (one visit on
Monday: 0, 4, 3, 2, 1 working days from Mon, Tue, Wed, Thu, Fri). With load
``rho = 5 lam / (c m) >= 1`` (``m`` visit days a week) the queue grows without bound and
no share is defined: the result says ``stable=False``. Deterministic: no random numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._errors import ValidationError

#: Working days of the visit cycle and their names (0 = Monday).
WEEKDAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri")
#: Largest truncation of the queue length tried before giving up (states).
MAX_STATES = 1 << 16
#: Probability mass allowed in the top eighth of the truncated states.
TAIL_TOLERANCE = 1e-12


@dataclass(frozen=True)
class VisitQueue:
    """The waiting-time law of a visited site (see the module docstring).

    Attributes
    ----------
    visit_days
        Visit weekdays, 0 = Monday.
    slots_per_visit
        Scans per visit day ``c``.
    arrivals_per_day
        Patients ready per working day ``lam``.
    load
        ``5 lam / (c m)``: demand over capacity of a week.
    stable
        False when ``load >= 1`` (or the queue could not be solved within
        :data:`MAX_STATES`): then ``cdf`` is empty and the shares are undefined.
    cdf
        ``cdf[w] = P(wait <= w working days)`` for ``w = 0, 1, ...`` (the last value is 1
        up to the truncation).
    mean_wait_days
        Mean wait from the ready day to the scan (inf when unstable).
    note
        Why a queue is not stable, else "".
    """

    visit_days: tuple[int, ...]
    slots_per_visit: int
    arrivals_per_day: float
    load: float
    stable: bool
    cdf: np.ndarray
    mean_wait_days: float
    note: str = ""

    def share_within(self, wait_days: float) -> float:
        """``P(wait <= wait_days)``: 0 for a negative allowance, NaN when unstable."""
        if not self.stable:
            return math.nan
        if wait_days < 0:
            return 0.0
        w = math.floor(wait_days + 1e-9)
        return float(self.cdf[min(w, len(self.cdf) - 1)])

    @property
    def p_wait(self) -> float:
        """Probability of not being scanned on the ready day (1 when unstable)."""
        return 1.0 - float(self.cdf[0]) if self.stable else 1.0


def spread_visit_days(days_per_week: int) -> tuple[int, ...]:
    """Visit weekdays spread as evenly as possible over Mon-Fri (0 = Monday).

    Day ``i`` of ``m`` falls on ``round(5 i / m)`` (halves up), so one visit is Monday, two
    Monday and Thursday, three Monday, Wednesday and Thursday (Poole's pattern, DOMAIN §1).

    Raises
    ------
    ValidationError
        Unless ``0 <= days_per_week <= 5``.

    Examples
    --------
    >>> [spread_visit_days(m) for m in (1, 2, 3)]
    [(0,), (0, 3), (0, 2, 3)]
    """
    n = len(WEEKDAYS)
    if not 0 <= days_per_week <= n:
        msg = f"a mobile site is visited 0-{n} days a week, got {days_per_week}"
        raise ValidationError(msg)
    return tuple(sorted({math.floor(i * n / days_per_week + 0.5) for i in range(days_per_week)}))


def parse_visit_days(days: Sequence[int | str], *, site: object = "") -> tuple[int, ...]:
    """Weekday names (``"Mon"``, ``"monday"``) or numbers (0 = Monday) as sorted numbers.

    Raises
    ------
    ValidationError
        On an unknown name, a number outside 0-4, a repeated day or an empty list.
    """
    out = []
    for day in days:
        if isinstance(day, str):
            key = day.strip()[:3].title()
            if key not in WEEKDAYS:
                msg = f"site {site!r}: unknown visit day {day!r}; use one of {list(WEEKDAYS)}"
                raise ValidationError(msg)
            out.append(WEEKDAYS.index(key))
        elif int(day) == day and 0 <= int(day) < len(WEEKDAYS):
            out.append(int(day))
        else:
            msg = f"site {site!r}: visit day {day!r} is not 0-4 (0 = Monday)"
            raise ValidationError(msg)
    if not out or len(set(out)) != len(out):
        msg = f"site {site!r}: visit days {list(days)} must be distinct and not empty"
        raise ValidationError(msg)
    return tuple(sorted(out))


def _poisson(lam: float) -> np.ndarray:
    """Poisson(lam) pmf on 0..L, the tail beyond L (< 1e-15) added to L."""
    top = math.ceil(lam + 12.0 * math.sqrt(lam) + 12.0)
    k = np.arange(top + 1)
    logp = k * math.log(lam) - lam - np.array([math.lgamma(i + 1.0) for i in k])
    pmf = np.exp(logp)
    pmf[-1] += max(0.0, 1.0 - pmf.sum())
    return pmf


def _day_matrix(n: int, arrivals: np.ndarray, slots: int) -> object:
    """Sparse ``n x n`` transition of one day: add arrivals, scan up to ``slots``, cap at n-1."""
    import scipy.sparse as sp

    x = np.repeat(np.arange(n), len(arrivals))
    a = np.tile(np.arange(len(arrivals)), n)
    to = np.minimum(np.maximum(x + a - slots, 0), n - 1)
    p = np.tile(arrivals, n)
    return sp.csr_matrix((p, (x, to)), shape=(n, n))


def _stationary(week: object, n: int) -> np.ndarray:
    """Stationary row vector ``pi = pi W`` of a sparse stochastic matrix (one linear solve)."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import spsolve

    a = (week.T - sp.identity(n, format="csr")).tolil()  # type: ignore[attr-defined]
    a[n - 1, :] = np.ones(n)
    b = np.zeros(n)
    b[n - 1] = 1.0
    pi = np.asarray(spsolve(a.tocsc(), b), dtype=float)
    pi = np.clip(pi, 0.0, None)
    return pi / pi.sum()


def visit_queue(
    visit_days: Sequence[int],
    *,
    slots_per_visit: int,
    arrivals_per_day: float,
) -> VisitQueue:
    """The waiting-time law at a site scanned only on its visit days (module docstring).

    Parameters
    ----------
    visit_days
        Weekdays of the visits, 0 = Monday (see :func:`spread_visit_days`).
    slots_per_visit
        Scans per visit day.
    arrivals_per_day
        Patients ready per working day (annual scans / (weeks x 5)).

    Returns
    -------
    VisitQueue
        ``stable=False`` (and NaN shares) when the load is 1 or more.

    Raises
    ------
    ValidationError
        On negative arrivals or slots.

    Examples
    --------
    One visit on Monday, almost no demand: the wait is the distance to the next Monday.

    >>> q = visit_queue([0], slots_per_visit=10, arrivals_per_day=1e-9)
    >>> [round(q.share_within(w), 6) for w in range(5)]
    [0.2, 0.4, 0.6, 0.8, 1.0]
    """
    days = tuple(sorted({int(d) for d in visit_days}))
    n_week = len(WEEKDAYS)
    if arrivals_per_day < 0 or slots_per_visit < 0:
        msg = (
            f"visit_queue needs arrivals >= 0 and slots >= 0, got {arrivals_per_day} "
            f"and {slots_per_visit}"
        )
        raise ValidationError(msg)
    capacity = slots_per_visit * len(days)
    load = n_week * arrivals_per_day / capacity if capacity else math.inf
    if arrivals_per_day == 0:
        load = 0.0
    if load >= 1.0:
        note = (
            f"unstable: {n_week * arrivals_per_day:.1f} patients a week for "
            f"{capacity} slots ({len(days)} visit day(s) x {slots_per_visit})"
        )
        return _unstable(days, slots_per_visit, arrivals_per_day, load, note)
    visit = np.zeros(n_week, bool)
    visit[list(days)] = True
    if arrivals_per_day == 0:
        # no queue: the wait is the distance to the next visit day
        pmf_n = [np.array([1.0])] * n_week
    else:
        pmf_n = _ahead(visit, slots_per_visit, arrivals_per_day)
        if pmf_n is None:
            note = f"not solved: the queue at load {load:.4f} needs over {MAX_STATES} states"
            return _unstable(days, slots_per_visit, arrivals_per_day, load, note)
    # P(wait <= w | d) = P(N_d < c V_d(w)); wait of N ahead = offset of visit floor(N / c)
    longest = max(len(p) for p in pmf_n)
    horizon = (longest // max(slots_per_visit, 1) // len(days) + 2) * n_week
    cdf = np.zeros(horizon)
    mean = 0.0
    for d in range(n_week):
        cum_visits = np.cumsum(visit[(d + np.arange(horizon)) % n_week])
        cdf_n = np.cumsum(pmf_n[d])
        idx = slots_per_visit * cum_visits - 1
        cdf += np.where(idx >= 0, cdf_n[np.clip(idx, 0, len(cdf_n) - 1)], 0.0)
        offsets = np.flatnonzero(visit[(d + np.arange(horizon)) % n_week])
        k = np.arange(len(pmf_n[d])) // max(slots_per_visit, 1)
        mean += float(np.sum(pmf_n[d] * offsets[np.minimum(k, len(offsets) - 1)]))
    cdf = np.minimum(cdf / n_week, 1.0)
    return VisitQueue(
        visit_days=days,
        slots_per_visit=int(slots_per_visit),
        arrivals_per_day=arrivals_per_day,
        load=load,
        stable=True,
        cdf=cdf,
        mean_wait_days=mean / n_week,
    )


def _unstable(days: tuple[int, ...], slots: int, lam: float, load: float, note: str) -> VisitQueue:
    """A queue with no stationary law (or none found): no shares, an infinite mean wait."""
    return VisitQueue(
        visit_days=days,
        slots_per_visit=int(slots),
        arrivals_per_day=lam,
        load=load,
        stable=False,
        cdf=np.empty(0),
        mean_wait_days=math.inf,
        note=note,
    )


def _ahead(visit: np.ndarray, slots: int, lam: float) -> list[np.ndarray] | None:
    """Per weekday, the pmf of the patients ahead of a newly ready one (None: too long)."""
    arrivals = _poisson(lam)
    # J: others ready the same day before the tagged patient, P(J = i) = P(A > i) / lam
    same_day = np.clip(1.0 - np.cumsum(arrivals), 0.0, None)
    same_day /= same_day.sum()  # sum_i P(A > i) = E[A] = lam, up to the truncation
    n = 256
    while n <= MAX_STATES:
        mats = [_day_matrix(n, arrivals, slots if visit[d] else 0) for d in range(len(visit))]
        week = mats[0]
        for m in mats[1:]:
            week = week @ m  # type: ignore[operator]
        pi = _stationary(week, n)
        starts = [pi]
        for m in mats[:-1]:
            starts.append(np.asarray(starts[-1] @ m).ravel())  # type: ignore[operator]
        tail_mass = max(float(p[-(n // 8) :].sum()) for p in starts)
        if tail_mass < TAIL_TOLERANCE:
            return [np.convolve(p, same_day) for p in starts]
        n *= 2
    return None
