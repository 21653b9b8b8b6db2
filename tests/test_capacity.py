"""Tests of netplan.capacity: Erlang B/C against hand-computed values, turnaround, tracer."""

from __future__ import annotations

import itertools
import math

import pandas as pd
import pytest

from netplan import capacity


def _erlang_c_direct(c: int, a: float) -> float:
    """Textbook Erlang C: (a^c/c! * c/(c-a)) / (sum_{k<c} a^k/k! + a^c/c! * c/(c-a))."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


@pytest.mark.parametrize(
    ("servers", "load", "expected"),
    [
        (1, 0.5, 0.5),  # M/M/1: P(wait) = rho
        (2, 1.0, 1 / 3),  # (1/2 * 2) / (1 + 1 + 1) by hand
        (3, 2.0, 4 / 9),  # (8/6 * 3) / (1 + 2 + 2 + 4) by hand
        (1, 0.0, 0.0),
        (2, 2.0, 1.0),  # unstable: everyone waits
        (2, 5.0, 1.0),
    ],
)
def test_erlang_c_hand_values(servers: int, load: float, expected: float) -> None:
    assert capacity.erlang_c(servers, load) == pytest.approx(expected, abs=1e-12)


def test_erlang_b_hand_value() -> None:
    # B(2, 1) = (1/2) / (1 + 1 + 1/2) = 0.2
    assert capacity.erlang_b(2, 1.0) == pytest.approx(0.2)
    assert capacity.erlang_b(0, 3.0) == 1.0


@pytest.mark.parametrize(("servers", "load"), [(20, 16.0), (30, 25.0), (48, 40.8), (5, 4.9)])
def test_erlang_c_matches_textbook_formula(servers: int, load: float) -> None:
    assert capacity.erlang_c(servers, load) == pytest.approx(
        _erlang_c_direct(servers, load), rel=1e-10
    )


def test_erlang_c_is_stable_for_large_sites() -> None:
    # 2 scanners x 37 scans/day = 74 slots: factorials overflow floats, the recursion does not
    value = capacity.erlang_c(400, 380.0)
    assert 0.0 < value < 1.0


def test_share_within_hand_value() -> None:
    # c = 2, lambda = 1, mu = 1: P(W <= 1) = 1 - (1/3) exp(-(2 - 1) * 1)
    assert capacity.share_within(2, 1.0, 1.0) == pytest.approx(1 - math.exp(-1) / 3)
    assert capacity.share_within(2, 1.0, 0.0) == pytest.approx(2 / 3)  # P(no wait)
    assert capacity.share_within(2, 1.0, -1.0) == 0.0  # fixed days exceed the target
    assert capacity.share_within(2, 3.0, 10.0) == 0.0  # overloaded
    assert capacity.share_within(2, 0.0, 0.0) == 1.0  # no demand


def test_slots_per_day_counts_static_and_mobile() -> None:
    # 1 scanner x 20/day + 2 mobile days/week x 10 scans x 50 weeks / 250 days = 24 slots
    assert (
        capacity.slots_per_day(
            1, 2, scans_per_static_day=20, scans_per_mobile_day=10, working_days_per_year=250
        )
        == 24
    )
    # 5.5-day weeks: 2 x 10 x 50 / 275 = 3.63 -> 20 + 3 = 23
    assert (
        capacity.slots_per_day(
            1,
            2,
            scans_per_static_day=20,
            scans_per_mobile_day=10,
            working_days_per_year=275,
            mobile_weeks_per_year=50,
        )
        == 23
    )


def test_turnaround_per_site_hand_computed() -> None:
    sites = pd.DataFrame(
        {
            "site_id": ["a", "b", "c", "d"],
            "static_scanners": [1, 1, 0, 0],
            "mobile_days_per_week": [0, 0, 2, 0],
            "assigned_scans_per_year": [4000.0, 5200.0, 500.0, 0.0],
        }
    )
    # the daily-queue model of mobile sites (before visit days), kept as an option
    settings = capacity.QueueSettings(
        working_days_per_year=250, fixed_days=4, targets_days=(5.0, 7.0), mobile_model="daily_queue"
    )
    out = capacity.turnaround(
        sites, scans_per_static_day=20, scans_per_mobile_day=10, settings=settings
    ).set_index("site_id")
    # site a: c = 20 slots, lambda = 16/day; P(W <= 1) and P(W <= 3)
    c_a = _erlang_c_direct(20, 16.0)
    assert out.loc["a", "slots_per_day"] == 20
    assert out.loc["a", "arrivals_per_day"] == pytest.approx(16.0)
    assert out.loc["a", "p_wait"] == pytest.approx(c_a)
    assert out.loc["a", "mean_wait_days"] == pytest.approx(c_a / 4.0)
    assert out.loc["a", "within_5_days"] == pytest.approx(1 - c_a * math.exp(-4.0))
    assert out.loc["a", "within_7_days"] == pytest.approx(1 - c_a * math.exp(-12.0))
    # site b is overloaded (20.8 arrivals/day for 20 slots): nobody is sure of a slot
    assert out.loc["b", "within_5_days"] == 0.0
    assert not out.loc["b", "queue_stable"]
    assert out.loc["b", "turnaround_note"].startswith("unstable")
    assert out.loc["a", "queue_stable"]
    assert math.isinf(out.loc["b", "mean_wait_days"])
    # site c: mobile only, 2 days x 10 scans x 50 weeks / 250 = 4 slots, lambda 2/day
    c_c = _erlang_c_direct(4, 2.0)
    assert out.loc["c", "slots_per_day"] == 4
    assert out.loc["c", "within_5_days"] == pytest.approx(1 - c_c * math.exp(-2.0))
    # site d: no demand -> everyone (nobody) on time
    assert out.loc["d", "within_5_days"] == 1.0


def _mobile(days_per_week: float, scans: float, site: str = "m") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "site_id": [site],
            "static_scanners": [0],
            "mobile_days_per_week": [days_per_week],
            "assigned_scans_per_year": [scans],
        }
    )


@pytest.mark.parametrize(
    ("days", "expected"),
    [(1, (0,)), (2, (0, 3)), (3, (0, 2, 3)), (4, (0, 1, 3, 4)), (5, (0, 1, 2, 3, 4))],
)
def test_visit_days_spread_over_the_week(days: int, expected: tuple[int, ...]) -> None:
    assert capacity.spread_visit_days(days) == expected


def test_one_visit_day_light_load_is_the_distance_to_the_visit() -> None:
    # Monday visits, next to no demand: ready Mon/Tue/Wed/Thu/Fri waits 0/4/3/2/1 days
    q = capacity.visit_queue([0], slots_per_visit=10, arrivals_per_day=1e-6)
    assert [q.share_within(w) for w in range(6)] == pytest.approx(
        [1 / 5, 2 / 5, 3 / 5, 4 / 5, 1.0, 1.0], abs=1e-5
    )
    assert q.mean_wait_days == pytest.approx((0 + 4 + 3 + 2 + 1) / 5, abs=1e-5)
    assert q.stable
    # in turnaround: 2 + 2 fixed days leave 1 day of wait for 5 days, 3 for 7
    out = capacity.turnaround(
        _mobile(1, 1.0), scans_per_static_day=20, scans_per_mobile_day=10
    ).iloc[0]
    assert out["turnaround_model"] == "visit_days"
    assert out["visit_days"] == "Mon"
    assert out["within_5_days"] == pytest.approx(2 / 5, abs=1e-5)
    assert out["within_7_days"] == pytest.approx(4 / 5, abs=1e-5)


def test_given_visit_days_are_used() -> None:
    # Tue + Fri, light load: ready Mon 1, Tue 0, Wed 2, Thu 1, Fri 0 days
    out = capacity.turnaround(
        _mobile(2, 1.0),
        scans_per_static_day=20,
        scans_per_mobile_day=10,
        visit_days={"m": ["Tue", "fri"]},
    ).iloc[0]
    assert out["visit_days"] == "Tue Fri"
    assert out["within_5_days"] == pytest.approx(4 / 5, abs=1e-5)  # wait <= 1
    assert out["mean_wait_days"] == pytest.approx(4 / 5, abs=1e-5)
    with pytest.raises(capacity.ValidationError, match="give 2"):
        capacity.turnaround(
            _mobile(2, 1.0),
            scans_per_static_day=20,
            scans_per_mobile_day=10,
            visit_days={"m": ["Tue"]},
        )
    with pytest.raises(capacity.ValidationError, match="unknown visit day"):
        capacity.turnaround(
            _mobile(2, 1.0),
            scans_per_static_day=20,
            scans_per_mobile_day=10,
            visit_days={"m": ["Tue", "Sat"]},
        )


def test_a_loaded_visit_queue_waits_longer_than_the_cadence() -> None:
    # one slot a week (Mon) at 75 % load: patients queue behind others, so fewer are seen
    # within a day than under light load; the wait law is a distribution function
    light = capacity.visit_queue([0], slots_per_visit=1, arrivals_per_day=1e-6)
    busy = capacity.visit_queue([0], slots_per_visit=1, arrivals_per_day=0.15)
    assert busy.load == pytest.approx(0.75)
    assert busy.share_within(1) < light.share_within(1)
    assert busy.cdf[-1] == pytest.approx(1.0, abs=1e-9)
    assert (busy.cdf[1:] >= busy.cdf[:-1] - 1e-12).all()


@pytest.mark.parametrize("load", [0.3, 0.6, 0.85, 0.95])
def test_more_visit_days_never_give_a_worse_share(load: float) -> None:
    scans = load * 10 * 50  # one visit day's yearly capacity at this load
    shares = []
    for days in (1, 2, 3, 4, 5):
        out = capacity.turnaround(
            _mobile(days, scans),  # the same demand, more visits
            scans_per_static_day=20,
            scans_per_mobile_day=10,
            settings=capacity.QueueSettings(working_days_per_year=250, mobile_weeks_per_year=50),
        ).iloc[0]
        shares.append((out["within_5_days"], out["within_7_days"]))
    for (a5, a7), (b5, b7) in itertools.pairwise(shares):
        assert b5 >= a5 - 1e-9
        assert b7 >= a7 - 1e-9


def test_unstable_visit_queue_is_flagged_not_zero() -> None:
    def two_days(scans: float) -> pd.Series:
        return capacity.turnaround(
            _mobile(2, scans),
            scans_per_static_day=20,
            scans_per_mobile_day=10,
            settings=capacity.QueueSettings(working_days_per_year=250, mobile_weeks_per_year=50),
        ).iloc[0]

    # 2 days x 10 scans x 50 weeks = 1,000 slots a year for 1,000 scans: load 1
    out = two_days(1000.0)
    assert out["slot_utilisation"] == pytest.approx(1.0)
    assert not out["queue_stable"]
    assert math.isnan(out["within_5_days"])
    assert math.isnan(out["within_7_days"])
    assert math.isinf(out["mean_wait_days"])
    assert "unstable" in out["turnaround_note"]
    # just under the capacity it is modelled, and poor
    near = two_days(900.0)
    assert near["queue_stable"]
    assert 0.0 < near["within_5_days"] < near["within_7_days"] < 1.0


def test_visit_queue_is_deterministic() -> None:
    a = capacity.visit_queue([0, 3], slots_per_visit=10, arrivals_per_day=3.0)
    b = capacity.visit_queue([0, 3], slots_per_visit=10, arrivals_per_day=3.0)
    assert a.cdf.tolist() == b.cdf.tolist()
    assert a.mean_wait_days == b.mean_wait_days


def test_turnaround_names_missing_columns() -> None:
    with pytest.raises(capacity.ValidationError, match="assigned_scans_per_year"):
        capacity.turnaround(
            pd.DataFrame({"site_id": ["a"]}), scans_per_static_day=20, scans_per_mobile_day=10
        )


def test_utilisation() -> None:
    sites = pd.DataFrame(
        {
            "site_id": ["a", "b"],
            "static_scanners": [2, 0],
            "mobile_days_per_week": [0, 0],
            "assigned_scans_per_year": [8250, 0],
        }
    )
    out = capacity.utilisation(
        sites, scans_per_static_day=20, scans_per_mobile_day=10, working_days_per_year=275
    )
    assert out["capacity_scans_per_year"].tolist() == [11000.0, 0.0]
    assert out["utilisation"].iloc[0] == pytest.approx(0.75)
    assert math.isnan(out["utilisation"].iloc[1])


def test_tracer_supply_doses_decay_and_backup() -> None:
    sites = pd.DataFrame(
        {
            "site_id": ["s1", "s2", "s3"],
            "assigned_scans_per_year": [5000.0, 2500.0, 2500.0],
            "primary_cyclotron": ["k", "k", "p"],
            "primary_minutes": [60.0, 120.0, 30.0],
            "backup_cyclotron": ["p", "", "k"],
            "backup_minutes": [90.0, float("nan"), 100.0],
        }
    )
    out = capacity.tracer_supply(
        sites,
        cyclotron_ids=["k", "p", "idle"],
        working_days_per_year=250,
        injected_mbq=370,
        capacity_doses_per_day={"k": 50, "p": 40},
    ).set_index("cyclotron_id")
    # k makes 20 + 10 doses/day; mean delivery weighted by doses (20*60 + 10*120) / 30 = 80
    assert out.loc["k", "doses_per_day"] == pytest.approx(30.0)
    assert out.loc["k", "mean_delivery_minutes"] == pytest.approx(80.0)
    assert out.loc["k", "max_delivery_minutes"] == pytest.approx(120.0)
    # activity: 370 MBq x 2^(t/109.7) per dose, in GBq (decay factors 1.46 at 60, 2.13 at 120)
    expected = (20 * 370 * 2 ** (60 / 109.7) + 10 * 370 * 2 ** (120 / 109.7)) / 1000
    assert out.loc["k", "activity_gbq_per_day"] == pytest.approx(expected)
    # k backs up s3 (10 doses/day) if p fails: load (30 + 10) / 50
    assert out.loc["k", "worst_failure_doses_per_day"] == pytest.approx(10.0)
    assert out.loc["k", "load_with_backup"] == pytest.approx(0.8)
    assert out.loc["p", "backup_doses_per_day"] == pytest.approx(20.0)
    assert out.loc["p", "load_with_backup"] == pytest.approx((10 + 20) / 40)
    assert out.loc["idle", "doses_per_day"] == 0.0
    assert out.loc["idle", "sites_primary"] == 0


def test_nearest_cyclotrons_respects_limits() -> None:
    od = pd.DataFrame(
        {
            "origin_id": ["k", "p", "k", "p"],
            "destination_id": ["a", "a", "b", "b"],
            "minutes": [50.0, 70.0, 130.0, 200.0],
        }
    )
    out = capacity.nearest_cyclotrons(od, primary_minutes=120, backup_minutes=240).set_index(
        "site_id"
    )
    assert out.loc["a", "primary_cyclotron"] == "k"
    assert out.loc["a", "backup_cyclotron"] == "p"
    assert out.loc["b", "primary_cyclotron"] == ""  # 130 min > 120: no primary supply
