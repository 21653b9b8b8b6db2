"""Tests of the mobile units' weekly rota (netplan.optimise.rota, netplan.scenario.rota_stage)."""

from __future__ import annotations

import itertools
import math
import random
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from netplan import traveltime
from netplan.optimise.rota import check_rota, solve_rota
from netplan.scenario import Scenario
from netplan.scenario.rota_stage import plan_rota

SMALL = Path(__file__).resolve().parents[1] / "scenarios" / "rutland_small.yaml"


def _od(times: dict[tuple[str, str], float]) -> pd.DataFrame:
    rows = [(a, b, m) for (a, b), m in times.items()]
    rows += [(b, a, m) for (a, b), m in times.items()]
    return pd.DataFrame(rows, columns=["origin_id", "destination_id", "minutes"])


def _grid(rota: pd.DataFrame) -> dict[str, list[str]]:
    """unit -> the site of each weekday it works, '' when idle."""
    out: dict[str, list[str]] = {}
    for r in rota.itertuples():
        out.setdefault(r.unit_id, []).append(r.site_id if r.visit else "")
    return out


# Two units, Mon-Fri, five sites: A 3 days, B 2, C 3, D 1, E 1 (10 days = the whole fleet).
# Drive times: every pair 40 min except A-B 50, C-D 10, D-E 10.
# Every split of the sites between the units needs 3 moves at least; without a limit the
# best is {A, B} (A A A B B: one move, 50) and {C, D, E} (C C C D E: 10 + 10) = 70 min.
# A 45-minute limit forbids exactly the pairing A-B. Then the best is {B, C} (B B C C C:
# 40) and {A, D, E} (A A A D E or A A A E D: 40 + 10) = 90 min (any split of a site's
# days costs a fourth move: at least 40 + 40 + 10 + 10 = 100).
HAND = {"A": 3, "B": 2, "C": 3, "D": 1, "E": 1}
HAND_OD = _od(
    dict.fromkeys(itertools.combinations("ABCDE", 2), 40.0)
    | {("A", "B"): 50.0, ("C", "D"): 10.0, ("D", "E"): 10.0}
)


def test_hand_instance_without_limit() -> None:
    r = solve_rota(HAND, HAND_OD, units=2, max_relocation_minutes=1000)
    assert r.status == "optimal"
    assert r.relocation_minutes_per_week == pytest.approx(70.0)
    assert r.moves_per_week == 3
    sets = sorted(sorted(set(days) - {""}) for days in _grid(r.rota).values())
    assert sets == [["A", "B"], ["C", "D", "E"]]


def test_hand_instance_relocation_limit_forbids_one_pairing() -> None:
    r = solve_rota(HAND, HAND_OD, units=2, max_relocation_minutes=45)
    assert r.status == "optimal"
    assert r.ok
    assert r.relocation_minutes_per_week == pytest.approx(90.0)
    assert r.moves_per_week == 3
    grid = _grid(r.rota)
    assert sorted(sorted(set(d) - {""}) for d in grid.values()) == [["A", "D", "E"], ["B", "C"]]
    for days in grid.values():  # A A A then D and E; B B then C C C (in some order)
        assert days.count("A") in (0, 3)
        assert days.count("C") in (0, 3)
    days = ["Mon", "Tue", "Wed", "Thu", "Fri"]
    assert check_rota(r.rota, HAND, HAND_OD, max_relocation_minutes=45, days=days) == []
    units = r.units.set_index("unit_id")
    assert units["days_used"].tolist() == [5, 5]
    assert units["utilisation"].tolist() == [1.0, 1.0]
    assert units["relocation_minutes_per_week"].sum() == pytest.approx(90.0)


def _brute(need: dict[str, int], t: dict[tuple[str, str], float], units: int, n_days: int,
           limit: float, max_sites: int | None = None) -> float | None:  # fmt: skip
    """Least relocation minutes over every set of unit paths with no idle day (brute force),
    each unit at ``max_sites`` sites at most."""

    def cost(p: tuple[str, ...]) -> float | None:
        c = 0.0
        for a, b in itertools.pairwise(p):
            if a != b:
                if t[a, b] > limit:
                    return None
                c += t[a, b]
        return c

    paths = {p: c for p in itertools.product(sorted(need), repeat=n_days)
             if (c := cost(p)) is not None and len(set(p)) <= (max_sites or n_days)}  # fmt: skip
    best = None
    for combo in itertools.combinations_with_replacement(sorted(paths), units):
        if any(len({p[d] for p in combo}) < units for d in range(n_days)):
            continue
        count: dict[str, int] = {}
        for p in combo:
            for s in p:
                count[s] = count.get(s, 0) + 1
        if count == need:
            c = sum(paths[p] for p in combo)
            best = c if best is None else min(best, c)
    return best


def _assert_matches_brute(r, expected, need, times, limit, days) -> None:
    """The rota is infeasible with short days when brute force finds none, else optimal
    at brute force's relocation minutes and passing every check."""
    if expected is None:
        assert r.status == "infeasible"
        assert sum(r.short_days.values()) > 0
    else:
        assert r.status == "optimal"
        assert r.relocation_minutes_per_week == pytest.approx(expected)
        assert check_rota(r.rota, need, _od(times), max_relocation_minutes=limit, days=days) == []


@pytest.mark.parametrize("formulation", ["flow", "patterns"])
@pytest.mark.parametrize("seed", range(6))
def test_small_instances_match_brute_force(seed: int, formulation: str) -> None:
    rnd = random.Random(seed)
    sites = ["P", "Q", "R"]
    times = {
        (a, b): float(rnd.choice([10, 25, 40, 70])) for a, b in itertools.combinations(sites, 2)
    }
    t = times | {(b, a): m for (a, b), m in times.items()}
    days = ["Mon", "Tue", "Wed", "Thu"]
    split = sorted(rnd.sample(range(1, 8), 2))
    need = dict(zip(sites, [split[0], split[1] - split[0], 8 - split[1]], strict=True))
    if max(need.values()) > 4:
        need = {"P": 3, "Q": 3, "R": 2}
    limit = 50.0
    expected = _brute(need, t, 2, 4, limit)
    r = solve_rota(need, _od(times), units=2, days=days, max_relocation_minutes=limit,
                   formulation=formulation)  # fmt: skip
    assert r.formulation == formulation
    _assert_matches_brute(r, expected, need, times, limit, days)


@pytest.mark.parametrize("formulation", ["flow", "patterns"])
@pytest.mark.parametrize("seed", range(8))
def test_site_limit_per_unit_matches_brute_force(seed: int, formulation: str) -> None:
    # four sites, two units, four days, at most two sites a unit (it binds: the four
    # sites split two and two); brute force over every pair of unit paths
    rnd = random.Random(100 + seed)
    sites = ["P", "Q", "R", "S"]
    times = {
        (a, b): float(rnd.choice([10, 25, 40, 70])) for a, b in itertools.combinations(sites, 2)
    }
    t = times | {(b, a): m for (a, b), m in times.items()}
    need = dict(zip(sites, rnd.choice([[2, 2, 2, 2], [3, 1, 2, 2], [1, 3, 1, 3]]), strict=True))
    days = ["Mon", "Tue", "Wed", "Thu"]
    expected = _brute(need, t, 2, 4, 50.0, max_sites=2)
    r = solve_rota(need, _od(times), units=2, days=days, max_relocation_minutes=50.0,
                   max_sites_per_unit=2, formulation=formulation)  # fmt: skip
    assert r.formulation == formulation
    _assert_matches_brute(r, expected, need, times, 50.0, days)
    assert (r.units["sites_visited"] <= 2).all()


def _random_instance(seed: int) -> tuple[dict[str, int], pd.DataFrame, dict]:
    """Sites and two bases on a 100 x 100 plane (minutes = distance), random rules."""
    rnd = random.Random(seed)
    sites = [f"S{i}" for i in range(rnd.randint(2, 5))]
    xy = {p: (rnd.random() * 100, rnd.random() * 100) for p in [*sites, "H1", "H2"]}
    od = pd.DataFrame(
        [(a, b, round(math.dist(xy[a], xy[b]), 1)) for a, b in itertools.permutations(xy, 2)],
        columns=["origin_id", "destination_id", "minutes"],
    )
    n_days = rnd.choice([3, 4, 5])
    units = rnd.randint(1, 3)
    kw = {
        "units": units,
        "days": ["Mon", "Tue", "Wed", "Thu", "Fri"][:n_days],
        "max_relocation_minutes": rnd.choice([30, 50, 80, 200]),
        "home_bases": rnd.choice([[], ["H1"], ["H1", "H2"], ["S0"], ["H1", "H1"]])[:units],
        "days_per_unit": rnd.choice([None, n_days - 1, 2]),
        "max_sites_per_unit": rnd.choice([None, 1, 2]),
        "spread_days": rnd.random() < 0.3,
    }
    return {s: rnd.randint(0, n_days) for s in sites}, od, kw


@pytest.mark.parametrize("block", range(4))
def test_patterns_and_flow_agree_on_random_instances(block: int) -> None:
    # home bases, per-unit limits, spread days, partial rotas: the two exact formulations
    # reach the same optimum of both stages (their rotas may differ)
    statuses = set()
    for seed in range(block * 15, block * 15 + 15):
        need, od, kw = _random_instance(seed)
        a = solve_rota(need, od, formulation="patterns", **kw)
        b = solve_rota(need, od, formulation="flow", **kw)
        if any(need.values()):  # else nothing to solve ("empty")
            assert (a.formulation, b.formulation) == ("patterns", "flow")
        assert a.status == b.status, seed
        assert a.relocation_minutes_per_week == pytest.approx(b.relocation_minutes_per_week)
        assert sum(a.short_days.values()) == sum(b.short_days.values()), seed
        if a.status == "optimal":
            assert a.back_to_back_visits == b.back_to_back_visits, seed
            for r in (a, b):
                limit = kw["max_relocation_minutes"]
                assert check_rota(r.rota, need, od, max_relocation_minutes=limit,
                                  days=kw["days"]) == []  # fmt: skip
        statuses.add(a.status)
    assert statuses >= {"optimal", "infeasible"}


def test_a_unit_relocates_through_its_base_on_an_idle_day() -> None:
    # A-C is 100 min (over the 60-minute limit), A-B and B-C 40, B the unit's home base:
    # A on one day and C on another is possible only as A, (idle at B), C or the reverse:
    # 40 from the base, 40 + 40 overnight = 120 min, 3 moves
    od = _od({("A", "B"): 40.0, ("B", "C"): 40.0, ("A", "C"): 100.0})
    days = ["Mon", "Tue", "Wed"]
    for form in ("patterns", "flow"):
        r = solve_rota({"A": 1, "C": 1}, od, units=1, days=days, max_relocation_minutes=60,
                       home_bases=["B"], max_sites_per_unit=2, formulation=form)  # fmt: skip
        assert r.formulation == form
        assert r.status == "optimal"
        assert r.rota["site_id"].tolist() in (["A", "B", "C"], ["C", "B", "A"])
        assert r.rota["visit"].tolist() == [True, False, True]
        assert r.relocation_minutes_per_week == pytest.approx(120.0)
        assert r.moves_per_week == 3
        assert r.units.loc[0, "sites_visited"] == 2
        # one site a unit: one of the two days is short
        one = solve_rota({"A": 1, "C": 1}, od, units=1, days=days, max_relocation_minutes=60,
                         home_bases=["B"], max_sites_per_unit=1, formulation=form)  # fmt: skip
        assert one.status == "infeasible"
        assert sum(one.short_days.values()) == 1


def test_too_many_patterns_fall_back_to_the_flow() -> None:
    r = solve_rota(HAND, HAND_OD, units=2, max_relocation_minutes=45, max_sites_per_unit=3,
                   max_patterns=10)  # fmt: skip
    assert r.formulation == "flow"
    full = solve_rota(HAND, HAND_OD, units=2, max_relocation_minutes=45, max_sites_per_unit=3)
    assert full.formulation == "patterns"  # a per-unit limit binds: auto takes patterns
    assert r.status == full.status == "optimal"
    assert r.relocation_minutes_per_week == pytest.approx(90.0)
    assert full.relocation_minutes_per_week == pytest.approx(90.0)


def test_patterns_prove_an_england_sized_rota() -> None:
    # 11 sites over 450 x 250 km (minutes = km), 13 days, 4 units of 3 sites each, 270-min
    # limit: the England default's shape, where the flow MIP could not prove its rota in
    # 120 s. The patterns prove it; the flow's best rota in 2 s is no better.
    rnd = random.Random(15)
    sites = [f"S{i:02d}" for i in range(11)]
    xy = {s: (rnd.uniform(0, 450), rnd.uniform(0, 250)) for s in sites}
    od = pd.DataFrame(
        [(a, b, round(math.dist(xy[a], xy[b]), 1)) for a, b in itertools.permutations(xy, 2)],
        columns=["origin_id", "destination_id", "minutes"],
    )
    need = dict(zip(sites, [2, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1], strict=True))
    kw = {"units": 4, "max_relocation_minutes": 270.0, "max_sites_per_unit": 3}
    r = solve_rota(need, od, time_limit_s=60, **kw)
    assert r.formulation == "patterns"
    assert r.status == "optimal"
    days = ["Mon", "Tue", "Wed", "Thu", "Fri"]
    assert check_rota(r.rota, need, od, max_relocation_minutes=270.0, days=days) == []
    assert (r.units["sites_visited"] <= 3).all()
    flow = solve_rota(need, od, formulation="flow", time_limit_s=2, **kw)
    if flow.status in ("optimal", "feasible"):
        assert r.relocation_minutes_per_week <= flow.relocation_minutes_per_week + 1e-6


def test_no_rota_although_the_aggregate_limits_hold() -> None:
    # 2 units x 5 days = 10 >= 9 days, 3 sites <= 2 units x 3 sites: the placement's rows
    # hold; but every pair is 200 min apart (limit 120), so a unit never moves and three
    # sites need three units. The largest partial rota places 6 of the 9 days.
    need = {"A": 3, "B": 3, "C": 3}
    od = _od(dict.fromkeys(itertools.combinations("ABC", 2), 200.0))
    r = solve_rota(need, od, units=2, max_relocation_minutes=120, max_sites_per_unit=3)
    assert r.status == "infeasible"
    assert not r.ok
    assert sum(r.short_days.values()) == 3
    assert len(r.short_days) == 1
    assert int(r.rota["visit"].sum()) == 6
    assert r.moves_per_week == 0
    assert any("no rota" in m for m in r.messages)


def test_spread_days_and_its_price() -> None:
    need = {"A": 2, "B": 2, "C": 1}
    od = _od(dict.fromkeys(itertools.combinations("ABC", 2), 10.0))
    packed = solve_rota(need, od, units=1, max_relocation_minutes=60)
    assert packed.relocation_minutes_per_week == pytest.approx(20.0)  # A A B B C: 2 moves
    assert packed.back_to_back_visits == 2
    spread = solve_rota(need, od, units=1, max_relocation_minutes=60, spread_days=True)
    assert spread.status == "optimal"
    assert spread.back_to_back_visits == 0
    assert spread.relocation_minutes_per_week == pytest.approx(40.0)  # every day a move
    days = _grid(spread.rota)["unit_1"]
    assert all(a != b for a, b in itertools.pairwise(days))


def test_home_base_limits_and_counts_the_monday_drive() -> None:
    # home H: A is 30 min away, B 100 (over the 60-minute limit); A-B 50
    need = {"A": 2, "B": 3}
    od = _od({("H", "A"): 30.0, ("H", "B"): 100.0, ("A", "B"): 50.0})
    r = solve_rota(need, od, units=1, max_relocation_minutes=60, home_bases=["H"])
    assert r.status == "optimal"
    assert _grid(r.rota)["unit_1"] == ["A", "A", "B", "B", "B"]
    assert r.relocation_minutes_per_week == pytest.approx(80.0)  # H->A 30, A->B 50
    assert r.units.loc[0, "home_base"] == "H"
    # without the base the unit may start anywhere: one move only
    free = solve_rota(need, od, units=1, max_relocation_minutes=60)
    assert free.relocation_minutes_per_week == pytest.approx(50.0)


def test_per_unit_limits_bind() -> None:
    need = {"A": 3, "B": 3}
    od = _od({("A", "B"): 10.0})
    r = solve_rota(need, od, units=2, max_relocation_minutes=60, days_per_unit=3)
    assert r.status == "optimal"
    assert r.units["days_used"].tolist() == [3, 3]
    assert (r.units["utilisation"] == 1.0).all()
    assert (r.units["days_available"] == 3).all()
    one_site = solve_rota({"A": 2, "B": 2, "C": 1}, _od({("A", "B"): 5.0, ("B", "C"): 5.0,
                          ("A", "C"): 5.0}), units=3, max_relocation_minutes=60,
                          max_sites_per_unit=1)  # fmt: skip
    assert one_site.status == "optimal"
    assert (one_site.units["sites_visited"] <= 1).all()
    assert one_site.relocation_minutes_per_week == 0.0


def test_saturday_and_bad_days() -> None:
    r = solve_rota({"A": 6}, _od({("A", "B"): 5.0}), units=1, max_relocation_minutes=60,
                   days=["Sat", "Mon", "Tue", "Wed", "Thu", "Fri"])  # fmt: skip
    assert r.rota["weekday"].tolist() == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    assert r.rota["visit"].all()
    with pytest.raises(ValueError, match="unknown weekday 'Sun'"):
        solve_rota({"A": 1}, _od({("A", "B"): 5.0}), units=1, max_relocation_minutes=60,
                   days=["Sun"])  # fmt: skip
    with pytest.raises(ValueError, match="6 mobile days a week but the rota has 5"):
        solve_rota({"A": 6}, _od({("A", "B"): 5.0}), units=1, max_relocation_minutes=60)


def test_check_rota_finds_broken_rotas() -> None:
    r = solve_rota(HAND, HAND_OD, units=2, max_relocation_minutes=45)
    days = ["Mon", "Tue", "Wed", "Thu", "Fri"]
    bad = r.rota.copy()
    # put the B unit's first day at A: A gains a day, B loses one, and B -> A is over 45?
    i = bad.index[bad["site_id"].eq("B")][0]
    bad.loc[i, "site_id"] = "A"
    problems = check_rota(bad, HAND, HAND_OD, max_relocation_minutes=45, days=days)
    assert any("site A: 4 rota day(s), planned 3" in p for p in problems)
    assert any("site B: 1 rota day(s), planned 2" in p for p in problems)
    assert any("over the 45-minute relocation limit" in p for p in problems)
    twice = pd.concat([r.rota, r.rota.iloc[[0]]], ignore_index=True)
    assert any("at 2 places on" in p for p in check_rota(twice, HAND, HAND_OD,
               max_relocation_minutes=45, days=days))  # fmt: skip


def _line_graph():
    from netplan.network import graph_from_edge_list

    nodes = pd.DataFrame({"node": [1, 2, 3], "lon": [-1.50, -1.40, -1.30], "lat": [53.8] * 3})
    edges = pd.DataFrame({"u": [1, 2], "v": [2, 3], "length_km": [6.5, 6.5]})
    return graph_from_edge_list(nodes, edges), nodes.rename(columns={"node": "id"})


def test_plan_rota_resolves_the_placement_when_no_rota_exists() -> None:
    G, nodes = _line_graph()
    cands = nodes.assign(id=["S1", "S2", "S3"], name=["One", "Two", "Three"])
    od = traveltime.od_matrix(G, cands, cands)
    gap = float(od.loc[(od.origin_id == "S1") & (od.destination_id == "S2"), "minutes"].iloc[0])
    s = Scenario().with_overrides({"fleet": {"mobile_units": 1, "max_relocation_minutes": gap / 2}})

    def placement(days: dict[str, int]) -> SimpleNamespace:
        sites = pd.DataFrame({"site_id": list(days), "mobile_days_per_week": list(days.values()),
                              "tracer_source": "cyc", "tracer_minutes": 30.0})  # fmt: skip
        return SimpleNamespace(sites=sites)

    asked: list[dict[str, int]] = []

    def resolve(limits: dict[str, int]) -> SimpleNamespace:
        asked.append(limits)
        return placement({"S1": 3, "S2": 0, "S3": 0})

    out = plan_rota(s, placement({"S1": 3, "S2": 2, "S3": 0}), G, cands, resolve)
    # a unit cannot move S1 <-> S2 within the limit: S2's 2 days do not fit, re-solved
    assert asked == [{"S2": 0}]
    assert out.totals["rota_status"] == "optimal"
    assert out.totals["rota_placement_resolves"] == 1
    assert out.totals["rota_checks"] == "pass"
    assert any("re-solved with per-site mobile-day limits S2 <= 0" in m for m in out.messages)
    assert out.visit_days == {"S1": ["Mon", "Tue", "Wed"]} or len(out.visit_days["S1"]) == 3
    assert out.rota["tracer_ok"].all()


@pytest.fixture(scope="module")
def rutland_rota():
    s = Scenario.from_yaml(SMALL).with_overrides(
        {
            "sites": {"lock_open": ["OAKHAM", "UPPINGHAM", "EMPINGHAM"]},
            "fleet": {"mobile_units": 1, "allow_static": False, "max_sites_per_unit": 3},
            "outputs": {"map": False},
        }
    )
    return s.run()


def test_rutland_run_rota_holds(rutland_rota, tmp_path: Path) -> None:
    r = rutland_rota
    t = r.totals
    assert t["rota_status"] == "optimal"
    assert t["rota_checks"] == "pass"
    planned = dict(zip(r.sites["site_id"], r.sites["mobile_days_per_week"].astype(int),
                       strict=True))  # fmt: skip
    planned = {k: v for k, v in planned.items() if v}
    assert set(planned) == {"OAKHAM", "UPPINGHAM", "EMPINGHAM"}
    rota = r.rota
    work = rota[rota["visit"]]
    # every mobile site's weekly days equal its rota entries
    assert work.groupby("site_id").size().to_dict() == planned
    # no unit at two sites on one day
    assert not rota.duplicated(["unit_id", "weekday"]).any()
    # every overnight move within the limit, by drive times computed here on the same graph
    from netplan.network import graph_from_name
    from netplan.scenario.pipeline import scenario_profile

    G = graph_from_name("rutland", profile=scenario_profile(r.scenario))
    pts = r.sites[["site_id", "lon", "lat"]].rename(columns={"site_id": "id"})
    od = traveltime.od_matrix(G, pts, pts)
    limit = r.scenario.fleet.max_relocation_minutes
    assert (
        check_rota(rota, planned, od, max_relocation_minutes=limit, days=r.scenario.fleet.days)
        == []
    )
    moves = rota["relocation_minutes_from_previous"]
    assert t["rota_relocation_minutes_per_week"] == pytest.approx(moves.sum())
    assert t["rota_moves_per_week"] == int((moves > 0).sum()) >= 2  # three sites, one unit
    # the turnaround queue waits for the rota's own weekdays
    for sid, g in work.groupby("site_id"):
        row = r.sites.set_index("site_id").loc[sid]
        assert row["visit_days"].split() == list(g["weekday"]) or row["visit_days"].replace(
            ",", " ").split() == list(g["weekday"])  # fmt: skip
    paths = r.to_folder(tmp_path / "out")
    assert {"rota", "units"} <= set(paths)
    written = pd.read_csv(paths["rota"])
    assert list(written.columns[:6]) == ["unit_id", "weekday", "site_id", "site_name", "visit",
                                         "relocation_minutes_from_previous"]  # fmt: skip
    units = pd.read_csv(paths["units"])
    assert units.loc[0, "days_used"] == sum(planned.values())
    assert units.loc[0, "sites_visited"] == 3


def test_rutland_no_rota_is_reported(tmp_path: Path) -> None:
    # three locked mobile sites, one unit that may not move at all: no rota, and the
    # re-solve with per-site limits cannot keep the three sites open
    s = Scenario.from_yaml(SMALL).with_overrides(
        {
            "sites": {"lock_open": ["OAKHAM", "UPPINGHAM", "EMPINGHAM"]},
            "fleet": {"mobile_units": 1, "allow_static": False, "max_relocation_minutes": 0.5},
            "outputs": {"map": False, "report": False, "xlsx": False, "gpkg": False},
        }
    )
    r = s.run()
    t = r.totals
    assert t["rota_status"] == "infeasible"
    assert t["rota_short_days"] >= 2
    assert "no rota" in " ".join(r.provenance["messages"])
    assert "rota" in t["flags"]


def test_report_and_map_show_the_rota(rutland_rota, tmp_path: Path) -> None:
    from netplan.maps import base_map
    from netplan.maps.rota_layers import add_rota_layers
    from netplan.report.rota_html import rota_grid, rota_section

    r = rutland_rota
    grid = rota_grid(r.rota)
    assert list(grid.columns) == ["Mon", "Tue", "Wed", "Thu", "Fri"]
    work = r.rota[r.rota["visit"]]
    assert (grid.loc["unit_1"] != "").sum() == len(work)
    html = rota_section(r)
    assert '<h2 id="rota">' in html
    assert html.count("<tr><th>unit_1</th>") == 1
    for name in set(work["site_name"]):
        assert name in html
    sites = r.sites.rename(columns={"site_id": "id"})[["id", "lon", "lat"]]
    page = add_rota_layers(base_map(), r.rota, sites).get_root().render()
    order = [s for i, s in enumerate(work["site_id"]) if i == 0 or s != work["site_id"].iloc[i - 1]]
    assert f"Rota unit_1: {', '.join(order)}" in page
    assert "unit_1: " + " \\u2192 ".join(order) in page or "unit_1: " + " → ".join(order) in page


def test_comparison_shows_the_rota(rutland_rota) -> None:
    from netplan.report import render_comparison

    page = render_comparison([rutland_rota])
    for label in ("rota", "units used", "relocation min/wk", "rota days short"):
        assert f">{label}<" in page
    assert ">optimal<" in page
