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


def test_travel_lp_cutoff_rejects_exactly_the_plans_that_cannot_beat_it() -> None:
    # 8 towns x 4 sites with scattered minutes; each plan's least scan-minutes from the
    # search's LP against scipy's linprog on the same transportation problem, then the
    # same plans with a cutoff just above and just below that value
    import numpy as np
    from scipy.optimize import linprog

    from netplan.optimise import _travel

    rng = np.random.default_rng(7)
    towns, names = [f"z{k}" for k in range(8)], ["a", "b", "c", "d"]
    minutes = {(z, s): float(rng.integers(5, 59)) for z in towns for s in names}
    scans = {z: float(rng.integers(10, 40)) for z in towns}
    model = PlacementModel.from_od(
        od_table(minutes), zones(scans), sites(names), objective="cover_then_cost", **BASE
    )
    search = _travel._Search(model, np.zeros(len(model.matrix.cost)))
    d = np.array([scans[z] for z in towns])
    t = np.array([[minutes[z, s] for s in names] for z in towns])
    plans = [(2, 1, 0, 1), (1, 1, 1, 1), (0, 2, 2, 0), (4, 0, 0, 0), (1, 0, 2, 1)]
    refs = []
    for plan in plans:
        s = np.array(plan)
        # linprog: x[z, j] share of town z at site j; sum_j x = 1; sum_z d x <= 100 s_j
        a_eq = np.kron(np.eye(8), np.ones(4))
        a_ub = np.stack([np.kron(d, np.eye(4)[j]) for j in range(4)])
        ref = linprog(
            (d[:, None] * t).ravel(),
            A_ub=a_ub,
            b_ub=100.0 * s,
            A_eq=a_eq,
            b_eq=np.ones(8),
            bounds=(0, None),
            method="highs",
        )
        assert ref.status == 0
        refs.append(ref.fun)
    m = np.zeros(4, np.int64)
    # each solve starts from the last plan's basis: a cutoff below the optimum stops the
    # dual simplex on the way (None), one above lets it finish at the optimum
    for _ in range(2):
        for plan, ref in zip(plans, refs, strict=True):
            assert search.travel(np.array(plan), m, ref * (1 - 1e-6)) is None
        for plan, ref in zip(plans, refs, strict=True):
            out = search.travel(np.array(plan), m, ref * (1 + 1e-6))
            assert out is not None
            assert out[0] == pytest.approx(ref, rel=1e-9)
            exact = search.travel(np.array(plan), m)
            assert exact is not None
            assert exact[0] == pytest.approx(ref, rel=1e-9)


def test_travel_alongside_the_proof_gives_the_plan_of_the_stage_run_after_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the decomposition starts the travel stage on its incumbent while it proves it; the
    # result must be the one of running the stage afterwards, figure for figure
    from netplan.optimise import _decompose, _travel

    monkeypatch.setattr(_decompose, "_INCUMBENT_POLLS", 0)  # pass on every incumbent at once

    def solve(alongside: bool):
        monkeypatch.setattr(_travel.SpeculativeTravel, "useful", staticmethod(lambda: alongside))
        return split_towns(travel_cost_tolerance=1.0).solve(**SOLVE)

    after, beside = solve(False), solve(True)
    assert beside.travel["alongside_cost_stage"]
    assert not after.travel["alongside_cost_stage"]
    for key in ("cost_gbp_per_year", "mean_minutes", "moves", "plans_solved", "path"):
        assert beside.travel[key] == after.travel[key]
    assert beside.cost_gbp_per_year == pytest.approx(460.0)
    pd.testing.assert_frame_equal(beside.sites, after.sites)
    pd.testing.assert_frame_equal(beside.zones, after.zones)


def test_speculative_travel_is_used_only_for_the_plan_it_ran_on() -> None:
    import numpy as np

    from netplan.optimise import _travel

    model = split_towns(travel_cost_tolerance=1.0)
    off = model._off
    values = np.zeros(len(model.matrix.cost))
    values[off["s"]] = 1  # one scanner at a (the cost plan)
    values[off["y"]] = values[off["t"]] = 1
    direct = _travel.travel_stage(model, values, 1.0)
    spec = _travel.SpeculativeTravel(model, 1.0)
    spec.offer(values, 0.0)
    taken = spec.take(values)
    assert taken is not None
    out, waited = taken
    assert waited >= 0.0
    assert out.minutes == pytest.approx(direct.minutes)
    assert out.moves == direct.moves
    np.testing.assert_array_equal(out.values, direct.values)
    assert out.share is not None
    other = values.copy()
    other[off["s"]] = 2
    spec.offer(values, 0.0)
    assert spec.take(other) is None  # another plan: the caller runs the stage itself
    spec.offer(values, 0.5)  # far from the bound: not started
    assert spec.take(values) is None
