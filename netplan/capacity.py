"""Capacity, turnaround and tracer supply of a placement.

Three questions a commissioner asks of a placement, answered from its per-site table:

* **Utilisation**: assigned scans per year over annual capacity (static scanners plus
  mobile visit days).
* **Turnaround** (:func:`turnaround`): the share of patients whose referral-to-results time
  is within 5 and within 7 working days, from an Erlang C (M/M/c) queue per site.
* **Tracer supply** (:func:`tracer_supply`): 18F doses per day each cyclotron must make for
  the sites it serves, the activity it must dispatch once decay during delivery is allowed
  for, and the extra load it carries as the back-up of another cyclotron.

Queueing model (documented assumption)
--------------------------------------
A site is an M/M/c queue measured in *working days*. Each daily scan slot is a server that
completes one patient per working day, so the number of servers is the site's slots per
working day::

    c = floor((static_scanners x scans_per_static_day x working_days_per_year
               + mobile_days_per_week x scans_per_mobile_day x mobile_weeks_per_year)
              / working_days_per_year)

and patients arrive at ``lambda = assigned_scans_per_year / working_days_per_year`` per
working day. The Erlang C formula gives the probability ``C(c, a)`` that a patient waits
(``a = lambda``, the offered load in slots) and the waiting-time distribution
``P(W > t) = C(c, a) * exp(-(c - a) * t)``. Turnaround adds fixed working days that do not
queue (booking the patient and reporting the scan; 2 + 2 days by default, after the
InHealth PET-CT South guide: "2 days to contact the patient ... 2 days scan -> report";
abcdocz.com/doc/202606/how-to-use-the-service). The share within ``D`` working days is
``P(W <= D - fixed_days)``. The 5-day figure is comparable with Alliance Medical's target
of 5 days for 75 % of cases (alliancemedical.co.uk/case-study/nhs-trusts) and the 7-day
figure with the 67 % -> 97 % reported for its first two years (theparliamentaryreview.co.uk).

Mobile-only sites (visit cadence)
---------------------------------
A site that only a mobile unit serves is scanned on its visit days alone, so its wait is
dominated by the days until the next visit, which a daily queue rounds away. By default
(``QueueSettings.mobile_model = "visit_days"``) such a site is the exact weekly queue of
:func:`visit_queue` (module ``netplan._visits``): ``m`` visit days spread over Mon-Fri
(:func:`spread_visit_days`, or the days given per site), ``scans_per_mobile_day`` slots
each, ``assigned / (mobile_weeks_per_year x 5)`` patients ready per working day. A patient
ready (after the booking days) on a uniformly random working day waits for the next visit
day with a free slot; the reporting days follow. A queue at or over its weekly capacity is
unstable: its shares are NaN, ``queue_stable`` is False and ``turnaround_note`` says so
(never a silent 0 %). Sites with a static scanner keep the Erlang C model above (its
unstable sites keep a share of 0 and are flagged the same way). It is an estimate for
comparing plans, not a booking simulation.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._errors import ValidationError
from ._visits import WEEKDAYS as WEEKDAYS
from ._visits import VisitQueue as VisitQueue
from ._visits import parse_visit_days
from ._visits import spread_visit_days as spread_visit_days
from ._visits import visit_queue as visit_queue

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueueSettings:
    """Inputs of the turnaround model (see the module docstring).

    Parameters
    ----------
    working_days_per_year
        Working days over which annual demand arrives.
    fixed_days
        Working days of the turnaround that do not queue (contacting the patient plus
        reporting the scan).
    targets_days
        Turnaround thresholds reported, in working days.
    mobile_weeks_per_year
        Weeks a year mobile units visit (default ``working_days_per_year / 5``).
    mobile_model
        {"visit_days", "daily_queue"}: mobile-only sites as the weekly queue of their visit
        days (default), or as the Erlang C queue of their average daily slots (the model
        before visit days were modelled).
    """

    working_days_per_year: float = 250.0
    fixed_days: float = 4.0
    targets_days: tuple[float, ...] = (5.0, 7.0)
    mobile_weeks_per_year: float | None = None
    mobile_model: str = "visit_days"


def erlang_b(servers: int, offered_load: float) -> float:
    """Erlang B blocking probability, by the stable recursion.

    Parameters
    ----------
    servers
        Number of servers ``c`` (>= 0).
    offered_load
        Offered load ``a = lambda / mu`` in erlangs (>= 0).

    Returns
    -------
    float
        ``B(c, a)``.

    Examples
    --------
    >>> round(erlang_b(2, 1.0), 6)
    0.2
    """
    if servers < 0 or offered_load < 0:
        msg = f"erlang_b needs servers >= 0 and load >= 0, got {servers} and {offered_load}"
        raise ValidationError(msg)
    b = 1.0
    for k in range(1, int(servers) + 1):
        b = offered_load * b / (k + offered_load * b)
    return b


def erlang_c(servers: int, offered_load: float) -> float:
    """Erlang C: the probability that an arriving patient has to wait.

    Parameters
    ----------
    servers
        Number of servers ``c`` (>= 1).
    offered_load
        Offered load ``a = lambda / mu`` in erlangs.

    Returns
    -------
    float
        ``C(c, a)``; 1.0 when the queue is unstable (``a >= c``).

    Examples
    --------
    Two servers with one erlang: ``C = (1/2 * 2) / (1 + 1 + 1) = 1/3``.

    >>> round(erlang_c(2, 1.0), 6)
    0.333333
    """
    if servers < 1:
        return 1.0
    if offered_load >= servers:
        return 1.0
    if offered_load <= 0:
        return 0.0
    b = erlang_b(servers, offered_load)
    return servers * b / (servers - offered_load * (1.0 - b))


def share_within(
    servers: int, arrivals_per_day: float, wait_days: float, *, service_per_day: float = 1.0
) -> float:
    """Probability that the M/M/c queueing wait is at most ``wait_days``.

    Parameters
    ----------
    servers
        Number of servers ``c``.
    arrivals_per_day
        Arrival rate ``lambda`` per working day.
    wait_days
        Allowed wait in working days (negative -> 0.0).
    service_per_day
        Service rate ``mu`` per server per working day.

    Returns
    -------
    float
        ``1 - C(c, a) exp(-(c mu - lambda) t)``; 0.0 for an unstable queue.

    Examples
    --------
    >>> round(share_within(2, 1.0, 1.0), 6)  # 1 - exp(-1)/3
    0.877374
    """
    if wait_days < 0:
        return 0.0
    if arrivals_per_day <= 0:
        return 1.0
    if servers < 1:
        return 0.0
    a = arrivals_per_day / service_per_day
    if a >= servers:
        return 0.0
    c_wait = erlang_c(servers, a)
    rate = servers * service_per_day - arrivals_per_day
    return float(1.0 - c_wait * math.exp(-rate * wait_days))


def slots_per_day(
    static_scanners: float,
    mobile_days_per_week: float,
    *,
    scans_per_static_day: float,
    scans_per_mobile_day: float,
    working_days_per_year: float = 250.0,
    mobile_weeks_per_year: float | None = None,
) -> int:
    """Scan slots per working day at a site (the servers of its queue), floored.

    Annual capacity (static scanner days plus mobile visit days) spread over the working
    days of the year, so static and mobile capacity count the same way as in
    :func:`utilisation`.

    Examples
    --------
    >>> slots_per_day(1, 2, scans_per_static_day=20, scans_per_mobile_day=10)
    24
    """
    weeks = working_days_per_year / 5.0 if mobile_weeks_per_year is None else mobile_weeks_per_year
    annual = (
        static_scanners * scans_per_static_day * working_days_per_year
        + mobile_days_per_week * scans_per_mobile_day * weeks
    )
    return math.floor(annual / working_days_per_year + 1e-9)


def turnaround(
    sites: pd.DataFrame,
    *,
    scans_per_static_day: float,
    scans_per_mobile_day: float,
    settings: QueueSettings | None = None,
    visit_days: Mapping[str, Sequence[int | str]] | None = None,
) -> pd.DataFrame:
    """Turnaround estimate per site: Erlang C, or the visit-day queue of mobile-only sites.

    Parameters
    ----------
    sites
        One row per site with columns ``site_id``, ``static_scanners``,
        ``mobile_days_per_week`` and ``assigned_scans_per_year``.
    scans_per_static_day, scans_per_mobile_day
        Scans per working day of a static scanner and per mobile visit day.
    settings
        Queue settings; defaults to :class:`QueueSettings`.
    visit_days
        Visit weekdays of some mobile-only sites, by site id (``["Tue", "Fri"]`` or
        ``[1, 4]``, 0 = Monday), e.g. from a weekly rota; the others get
        :func:`spread_visit_days`. Ignored for sites with a static scanner.

    Returns
    -------
    pandas.DataFrame
        ``site_id, slots_per_day, arrivals_per_day, slot_utilisation, p_wait,
        mean_wait_days, within_5_days, within_7_days`` (one ``within_<D>_days`` column
        per target), ``turnaround_model`` ({"erlang_c", "visit_days"}), ``visit_days``
        (e.g. ``"Mon Thu"``), ``queue_stable`` and ``turnaround_note`` (why a queue is
        unstable). Sites with no demand get shares of 1.

    Raises
    ------
    ValidationError
        When a column is missing, or a site's visit days are invalid or do not match its
        mobile days per week.

    Examples
    --------
    One visit a week (Monday), light load, 2 + 2 fixed days: results within 5 working days
    when the patient is ready on Monday or Friday (2 of 5 days), within 7 unless Tuesday.

    >>> df = pd.DataFrame({"site_id": ["m"], "static_scanners": [0],
    ...                    "mobile_days_per_week": [1], "assigned_scans_per_year": [1.0]})
    >>> out = turnaround(df, scans_per_static_day=20, scans_per_mobile_day=10)
    >>> out[["visit_days", "within_5_days", "within_7_days"]].round(3).values.tolist()
    [['Mon', 0.4, 0.8]]
    """
    settings = settings or QueueSettings()
    if settings.mobile_model not in ("visit_days", "daily_queue"):
        msg = (
            f"QueueSettings.mobile_model must be 'visit_days' or 'daily_queue', "
            f"got {settings.mobile_model!r}"
        )
        raise ValidationError(msg)
    need = ["site_id", "static_scanners", "mobile_days_per_week", "assigned_scans_per_year"]
    missing = [c for c in need if c not in sites.columns]
    if missing:
        msg = f"turnaround: site table lacks columns {missing}; it needs {need}"
        raise ValidationError(msg)
    given = {str(k): v for k, v in (visit_days or {}).items()}
    rows = []
    for rec in sites[need].itertuples(index=False):
        c = slots_per_day(
            float(rec.static_scanners),
            float(rec.mobile_days_per_week),
            scans_per_static_day=scans_per_static_day,
            scans_per_mobile_day=scans_per_mobile_day,
            working_days_per_year=settings.working_days_per_year,
            mobile_weeks_per_year=settings.mobile_weeks_per_year,
        )
        mobile_only = float(rec.static_scanners) <= 0 and float(rec.mobile_days_per_week) > 0
        if mobile_only and settings.mobile_model == "visit_days":
            rows.append(
                _visit_row(rec, c, scans_per_mobile_day, settings, given.get(str(rec.site_id)))
            )
            continue
        lam = float(rec.assigned_scans_per_year) / settings.working_days_per_year
        row: dict[str, object] = {
            "site_id": rec.site_id,
            "slots_per_day": c,
            "arrivals_per_day": lam,
            "slot_utilisation": lam / c if c > 0 else (math.inf if lam > 0 else 0.0),
        }
        if lam > 0 and c > 0 and lam < c:
            p_wait = erlang_c(c, lam)
            row["p_wait"] = p_wait
            row["mean_wait_days"] = p_wait / (c - lam)
        elif lam > 0:
            row["p_wait"] = 1.0
            row["mean_wait_days"] = math.inf
        else:
            row["p_wait"] = 0.0
            row["mean_wait_days"] = 0.0
        for days in settings.targets_days:
            row[f"within_{days:g}_days"] = share_within(c, lam, days - settings.fixed_days)
        stable = lam <= 0 or lam < c
        row |= {
            "turnaround_model": "erlang_c",
            "visit_days": "",
            "queue_stable": stable,
            "turnaround_note": ""
            if stable
            else f"unstable: {lam:.1f} patients a day for {c} daily slots (share 0)",
        }
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        cols = [
            "site_id",
            "slots_per_day",
            "arrivals_per_day",
            "slot_utilisation",
            "p_wait",
            "mean_wait_days",
            *[f"within_{d:g}_days" for d in settings.targets_days],
            "turnaround_model",
            "visit_days",
            "queue_stable",
            "turnaround_note",
        ]
        out = pd.DataFrame(columns=cols)
    return out


def _visit_row(
    rec: Any,
    slots: int,
    scans_per_mobile_day: float,
    settings: QueueSettings,
    days: Sequence[int | str] | None,
) -> dict[str, object]:
    """One mobile-only site of :func:`turnaround` as the queue of its visit days."""
    m = float(rec.mobile_days_per_week)
    n_days = math.ceil(m - 1e-9)
    if days is None:
        chosen = spread_visit_days(n_days)
    else:
        chosen = parse_visit_days(days, site=rec.site_id)
        if len(chosen) != n_days:
            msg = (
                f"site {rec.site_id!r}: {len(chosen)} visit day(s) {list(days)} given for "
                f"{m:g} mobile day(s) a week; give {n_days}"
            )
            raise ValidationError(msg)
    per_visit = math.floor(scans_per_mobile_day * m / n_days + 1e-9)
    weeks = (
        settings.working_days_per_year / 5.0
        if settings.mobile_weeks_per_year is None
        else settings.mobile_weeks_per_year
    )
    lam = float(rec.assigned_scans_per_year) / (weeks * len(WEEKDAYS))
    q = visit_queue(chosen, slots_per_visit=per_visit, arrivals_per_day=lam)
    row: dict[str, object] = {
        "site_id": rec.site_id,
        "slots_per_day": slots,
        "arrivals_per_day": lam,
        "slot_utilisation": q.load,
        "p_wait": q.p_wait,
        "mean_wait_days": q.mean_wait_days,
    }
    for target in settings.targets_days:
        row[f"within_{target:g}_days"] = q.share_within(target - settings.fixed_days)
    row |= {
        "turnaround_model": "visit_days",
        "visit_days": " ".join(WEEKDAYS[d] for d in chosen),
        "queue_stable": q.stable,
        "turnaround_note": q.note,
    }
    return row


def network_share_within(turn: pd.DataFrame, weights: pd.Series, column: str) -> float:
    """Demand-weighted national share of a ``within_<D>_days`` column."""
    w = weights.reindex(turn["site_id"]).fillna(0.0).to_numpy(dtype=float)
    v = turn[column].to_numpy(dtype=float)
    if w.sum() <= 0:
        return float("nan")
    return float(np.sum(w * v) / w.sum())


def utilisation(
    sites: pd.DataFrame,
    *,
    scans_per_static_day: float,
    scans_per_mobile_day: float,
    working_days_per_year: float,
    mobile_weeks_per_year: float | None = None,
) -> pd.DataFrame:
    """Annual capacity and utilisation per site.

    Parameters
    ----------
    sites
        Columns ``site_id``, ``static_scanners``, ``mobile_days_per_week``,
        ``assigned_scans_per_year``.
    scans_per_static_day, scans_per_mobile_day
        Throughput per static scanner working day and per mobile visit day.
    working_days_per_year
        Working days of a static scanner per year.
    mobile_weeks_per_year
        Weeks a year mobile visits run (default ``working_days_per_year / 5``).

    Returns
    -------
    pandas.DataFrame
        ``site_id, capacity_scans_per_year, utilisation`` (assigned / capacity; NaN when
        the site has no capacity).

    Examples
    --------
    >>> df = pd.DataFrame({"site_id": ["a"], "static_scanners": [1],
    ...                    "mobile_days_per_week": [2], "assigned_scans_per_year": [4500]})
    >>> out = utilisation(df, scans_per_static_day=20, scans_per_mobile_day=10,
    ...                   working_days_per_year=250)
    >>> float(out["capacity_scans_per_year"].iloc[0]), float(out["utilisation"].iloc[0])
    (6000.0, 0.75)
    """
    weeks = working_days_per_year / 5.0 if mobile_weeks_per_year is None else mobile_weeks_per_year
    cap = (
        sites["static_scanners"].astype(float) * scans_per_static_day * working_days_per_year
        + sites["mobile_days_per_week"].astype(float) * scans_per_mobile_day * weeks
    )
    assigned = sites["assigned_scans_per_year"].astype(float)
    util = assigned / cap.where(cap > 0)
    return pd.DataFrame(
        {
            "site_id": sites["site_id"].to_numpy(),
            "capacity_scans_per_year": cap.to_numpy(),
            "utilisation": util.to_numpy(),
        }
    )


def _decay(minutes: np.ndarray) -> np.ndarray:
    """Decay factor ``2**(t / 109.7)`` per element (:func:`netplan.tracer.decay_factor`)."""
    from . import tracer

    return np.asarray(tracer.decay_factor(np.asarray(minutes, dtype=float)), dtype=float)


def nearest_cyclotrons(
    od: pd.DataFrame, *, primary_minutes: float, backup_minutes: float
) -> pd.DataFrame:
    """Primary and back-up cyclotron of each site from a cyclotron -> site drive table.

    Parameters
    ----------
    od
        Long form ``origin_id`` (cyclotron), ``destination_id`` (site), ``minutes``.
    primary_minutes, backup_minutes
        Delivery limits for the primary and the back-up supplier.

    Returns
    -------
    pandas.DataFrame
        ``site_id, primary_cyclotron, primary_minutes, backup_cyclotron, backup_minutes``;
        empty strings and NaN where no cyclotron is within the limit. Ties break by id.
    """
    rows = []
    if od.empty:
        return pd.DataFrame(
            columns=[
                "site_id",
                "primary_cyclotron",
                "primary_minutes",
                "backup_cyclotron",
                "backup_minutes",
            ]
        )
    ordered = od.sort_values(["destination_id", "minutes", "origin_id"], kind="mergesort")
    for site_id, grp in ordered.groupby("destination_id", sort=True):
        first = grp.iloc[0]
        row = {
            "site_id": site_id,
            "primary_cyclotron": "",
            "primary_minutes": np.nan,
            "backup_cyclotron": "",
            "backup_minutes": np.nan,
        }
        if first["minutes"] <= primary_minutes:
            row["primary_cyclotron"] = str(first["origin_id"])
            row["primary_minutes"] = float(first["minutes"])
            if len(grp) > 1 and grp.iloc[1]["minutes"] <= backup_minutes:
                row["backup_cyclotron"] = str(grp.iloc[1]["origin_id"])
                row["backup_minutes"] = float(grp.iloc[1]["minutes"])
        rows.append(row)
    return pd.DataFrame(rows)


def tracer_supply(
    sites: pd.DataFrame,
    *,
    cyclotron_ids: Iterable[str],
    doses_per_scan: float = 1.0,
    working_days_per_year: float,
    injected_mbq: float,
    uptake_wait_minutes: float = 0.0,
    capacity_doses_per_day: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Doses per day and decay-adjusted activity each cyclotron must dispatch.

    Parameters
    ----------
    sites
        One row per open site with ``site_id``, ``assigned_scans_per_year``,
        ``primary_cyclotron``, ``primary_minutes``, ``backup_cyclotron``,
        ``backup_minutes``.
    cyclotron_ids
        Every cyclotron in the scenario (each gets a row, even when idle).
    doses_per_scan
        Unit doses per scan (1 for FDG).
    working_days_per_year
        Days a year on which doses are made.
    injected_mbq
        Activity injected per patient (MBq).
    uptake_wait_minutes
        Minutes between delivery and injection, decayed too.
    capacity_doses_per_day
        Optional daily production capacity by cyclotron id.

    Returns
    -------
    pandas.DataFrame
        ``cyclotron_id, sites_primary, doses_per_day, mean_delivery_minutes,
        max_delivery_minutes, activity_gbq_per_day, sites_backup, backup_doses_per_day,
        backup_activity_gbq_per_day, worst_failure_doses_per_day, capacity_doses_per_day,
        load, load_with_backup``. ``backup_doses_per_day`` sums every site it backs up (all
        other cyclotrons down); ``worst_failure_doses_per_day`` is the largest extra load
        when any *one* other cyclotron fails, and ``load_with_backup`` is (own + that) /
        capacity.
    """
    capacity_doses_per_day = dict(capacity_doses_per_day or {})
    df = sites.copy()
    doses = df["assigned_scans_per_year"].astype(float) * doses_per_scan / working_days_per_year
    df["doses_per_day"] = doses
    prim = df["primary_minutes"].astype(float).fillna(0.0).to_numpy()
    back = df["backup_minutes"].astype(float).fillna(0.0).to_numpy()
    df["activity_primary_gbq"] = doses * injected_mbq * _decay(prim + uptake_wait_minutes) / 1000.0
    df["activity_backup_gbq"] = doses * injected_mbq * _decay(back + uptake_wait_minutes) / 1000.0
    rows = []
    for cid in cyclotron_ids:
        cid = str(cid)
        p = df[df["primary_cyclotron"].astype(str) == cid]
        b = df[df["backup_cyclotron"].astype(str) == cid]
        own = float(p["doses_per_day"].sum())
        backup = float(b["doses_per_day"].sum())
        cap = capacity_doses_per_day.get(cid)
        by_failed = b.groupby(b["primary_cyclotron"].astype(str))["doses_per_day"].sum()
        worst = float(by_failed.max()) if len(by_failed) else 0.0
        w = p["doses_per_day"].to_numpy(dtype=float)
        mins = p["primary_minutes"].astype(float).to_numpy()
        rows.append(
            {
                "cyclotron_id": cid,
                "sites_primary": len(p),
                "doses_per_day": own,
                "mean_delivery_minutes": float(np.sum(w * mins) / w.sum())
                if w.sum() > 0
                else np.nan,
                "max_delivery_minutes": float(mins.max()) if len(mins) else np.nan,
                "activity_gbq_per_day": float(p["activity_primary_gbq"].sum()),
                "sites_backup": len(b),
                "backup_doses_per_day": backup,
                "backup_activity_gbq_per_day": float(b["activity_backup_gbq"].sum()),
                "worst_failure_doses_per_day": worst,
                "capacity_doses_per_day": float(cap) if cap is not None else np.nan,
                "load": own / float(cap) if cap else np.nan,
                "load_with_backup": (own + worst) / float(cap) if cap else np.nan,
            }
        )
    return pd.DataFrame(rows)
