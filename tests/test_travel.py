"""The travel stage of the placement model (``netplan.optimise._travel``): after the cost,
the least patient travel among plans within a cost tolerance. Hand-solved instances with
the unit economics of ``placement_inputs`` (a static scanner: 100 scans/yr for 200 a year,
a new static site 30 a year to install), static scanners only."""

from __future__ import annotations

import pandas as pd
import pytest
from placement_inputs import UNIT_ECONOMICS, od_table, sites, zones

from netplan import ValidationError
from netplan.optimise import PlacementModel, Status

BASE = {**UNIT_ECONOMICS, "install_gbp": 300, "max_mobile_days_per_site": 0}
SOLVE = {"solver": "highs", "threads": 1}


def two_towns(minutes_a: float, minutes_b: float, **kw) -> PlacementModel:
    # one town X (50 scans) that reaches a and b; one scanner anywhere serves it, and a or b
    # cost the same (230 a year): only the drive tells them apart
    od = od_table({("X", "a"): minutes_a, ("X", "b"): minutes_b})
    return PlacementModel.from_od(
        od, zones({"X": 50}), sites(["a", "b"]), objective="cover_then_cost", **BASE, **kw
    )


@pytest.mark.parametrize(("minutes_a", "minutes_b", "nearer"), [(10, 40, "a"), (40, 10, "b")])
def test_travel_tie_break_picks_the_nearer_of_two_equal_cost_sites(
    minutes_a: float, minutes_b: float, nearer: str
) -> None:
    r = two_towns(minutes_a, minutes_b, travel_cost_tolerance=0.0).solve(**SOLVE)
    assert r.status == Status.OPTIMAL  # the cost stage's proof stands
    assert r.cost_gbp_per_year == pytest.approx(230.0)
    opened = r.sites.loc[r.sites["static_scanners"] > 0, "site_id"].tolist()
    assert opened == [nearer]
    assert r.zones.set_index("zone_id").loc["X", "site_id"] == nearer
    assert r.travel["mean_minutes"] == pytest.approx(10.0)
    assert r.travel["cost_gbp_per_year"] == pytest.approx(230.0)
    assert [s["stage"] for s in r.stages][-1] == "patient_minutes"


def split_towns(**kw) -> PlacementModel:
    # X (40 scans) is 5 min from a and 50 from b; Y (40) the other way round. One scanner
    # (80 of its 100 scans) at a or b costs 230 and drives a mean (40x5 + 40x50)/80 = 27.5
    # min; a scanner at each costs 460 (+100 %) and drives 5 min.
    od = od_table({("X", "a"): 5, ("X", "b"): 50, ("Y", "a"): 50, ("Y", "b"): 5})
    return PlacementModel.from_od(
        od, zones({"X": 40, "Y": 40}), sites(["a", "b"]), objective="cover_then_cost", **BASE, **kw
    )


@pytest.mark.parametrize(
    ("tolerance", "cost", "minutes"), [(0.0, 230.0, 27.5), (0.5, 230.0, 27.5), (1.0, 460.0, 5.0)]
)
def test_cost_tolerance_buys_travel_only_within_it(
    tolerance: float, cost: float, minutes: float
) -> None:
    r = split_towns(travel_cost_tolerance=tolerance).solve(**SOLVE)
    assert r.cost_gbp_per_year == pytest.approx(cost)
    assert r.travel["mean_minutes"] == pytest.approx(minutes)
    assert r.travel["budget_gbp_per_year"] == pytest.approx(230.0 * (1 + tolerance), rel=1e-6)
    # the path starts at the cost plan and never drives more
    path = pd.DataFrame(r.travel["path"])
    assert path["annual_cost_gbp"].iloc[0] == pytest.approx(230.0)
    assert path["mean_minutes"].iloc[0] == pytest.approx(27.5)
    assert path["mean_minutes"].is_monotonic_decreasing
    assert (path["annual_cost_gbp"] <= 230.0 * (1 + tolerance) + 1e-6).all()


def test_no_travel_stage_by_default_and_bad_tolerances_are_named() -> None:
    r = split_towns().solve(**SOLVE)
    assert r.travel is None
    for bad in (-0.1, 1.5, True, "2%"):
        with pytest.raises(ValidationError, match="travel_cost_tolerance"):
            split_towns(travel_cost_tolerance=bad)
    with pytest.raises(ValidationError, match="drive_time already"):
        PlacementModel.from_od(
            od_table({("X", "a"): 5}),
            zones({"X": 1}),
            sites(["a"]),
            objective="drive_time",
            travel_cost_tolerance=0.02,
            **BASE,
        )


def test_travel_stage_keeps_tracer_capacity() -> None:
    # a (5 min from both towns' ... ) is 220 min from the only cyclotron (x4.01 a dose),
    # b is 30 min (x1.21). Travel alone would keep a scanner at a for X; with 6 doses a
    # day at dispatch, a scanner at a (1 dose a day x 4.01) plus one at b (x 1.21) = 5.2
    # fits, two at a (8.0) would not.
    cyc = pd.DataFrame({"site_id": ["a", "b"], "cyclotron_id": "C", "minutes": [220.0, 30.0]})
    r = split_towns(
        travel_cost_tolerance=1.0,
        cyclotron_minutes=cyc,
        tracer_primary_minutes=240.0,
        cyclotron_doses_per_day=6.0,
    ).solve(**SOLVE)
    assert r.cost_gbp_per_year == pytest.approx(460.0)
    assert r.sites.set_index("site_id")["static_scanners"].to_dict() == {"a": 1, "b": 1}
    tight = split_towns(
        travel_cost_tolerance=1.0,
        cyclotron_minutes=cyc,
        tracer_primary_minutes=240.0,
        cyclotron_doses_per_day=5.0,
    ).solve(**SOLVE)
    # 5.2 no longer fits: one scanner, at b (1.21); a alone (4.01) fits too but b is chosen
    # or kept only if it drives no more: both drive 27.5, so the cost plan's site stays
    assert tight.cost_gbp_per_year == pytest.approx(230.0)
    assert tight.travel["mean_minutes"] == pytest.approx(27.5)
