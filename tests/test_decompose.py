"""Exact site decomposition of the placement model (``netplan.optimise._decompose``).

Unit economics (as in ``test_optimise_placement.py``, so optima are easy on paper): a static
scanner gives 1 scan/day x 100 days = 100 scans/yr and costs 1000/10 + 100 = 200 a year; a
weekly mobile day gives 1 scan x 10 weeks = 10 scans/yr and costs 3 x 10 = 30 a year; a new
static site costs 300/10 = 30 a year to install (contract sites nothing); utilisation 100 %
unless a test changes it. So capacity_units(100, 10) = (10, 1, 10, True): rows count
"mobile-day equivalents" of 10 scans.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
import pytest
from placement_inputs import UNIT_ECONOMICS, od_table, sites, zones

from netplan.optimise import PlacementModel, Status
from netplan.optimise._decompose import SiteDecomposition, capacity_units, cost_grain
from netplan.optimise._matrix import _solve_highs

BASE = {**UNIT_ECONOMICS, "install_gbp": 300}
DECOMPOSED = "solved by site decomposition"
SOLVE = {"solver": "highs", "threads": 1}


def model(od: pd.DataFrame, dem: pd.DataFrame, sit: pd.DataFrame, **kw) -> PlacementModel:
    return PlacementModel.from_od(od, dem, sit, **{**BASE, **kw})


def decomposed(result) -> bool:
    return any(msg.startswith(DECOMPOSED) for msg in result.messages)


def row_count(result) -> int:
    """Capacity rows the decomposition ended with (from its message)."""
    (msg,) = [m for m in result.messages if m.startswith(DECOMPOSED)]
    return int(re.search(r"(\d+) capacity rows", msg).group(1))


def same_cost(a: float, b: float) -> bool:
    return abs(a - b) < 1e-6 * abs(b) + 1.0


# ------------------------------------------------------------------ capacity_units
@pytest.mark.parametrize(
    ("ks", "km", "expected"),
    [
        (4675.0, 425.0, (11.0, 1.0, 425.0, True)),  # England: 0.85 x 20 x 275, 0.85 x 10 x 50
        (4675, 425, (11.0, 1.0, 425.0, True)),
        (100.0, 10.0, (10.0, 1.0, 10.0, True)),
        (100.0, 7.0, (100.0, 7.0, 1.0, True)),  # 100/7: unit 1 scan, still integral
        (85.0, 8.5, (10.0, 1.0, 8.5, True)),  # utilisation 0.85 of (100, 10)
        (5000.0, 0.0, (1.0, 0.0, 5000.0, True)),  # static only
        (5000, 0, (1.0, 0.0, 5000.0, True)),
        (0.0, 425.0, (0.0, 1.0, 425.0, True)),  # mobile only
        (0.0, 0.0, (0.0, 0.0, 1.0, False)),  # no capacity at all: rows in scans
    ],
)
def test_capacity_units_exact(ks: float, km: float, expected: tuple) -> None:
    a_s, a_m, unit, integral = capacity_units(ks, km)
    assert (a_s, a_m, unit, integral) == expected
    assert type(integral) is bool
    # the defining identity ks = a_s unit, km = a_m unit
    assert a_s * unit == pytest.approx(ks, rel=1e-12, abs=0)
    assert a_m * unit == pytest.approx(km, rel=1e-12, abs=0)


@pytest.mark.parametrize(
    ("ks", "km"),
    [(1000.0, 333.3333), (100.0, 10 * np.pi / 3), (4675.0, 425.0 * np.sqrt(2))],
)
def test_capacity_units_irrational_ratio_stays_in_scans(ks: float, km: float) -> None:
    # 1000 / 333.3333 = 3.0000003: close to 3 but not within 1e-9, so no integer units
    a_s, a_m, unit, integral = capacity_units(ks, km)
    assert integral is False
    assert (a_s, a_m, unit) == (ks, km, 1.0)


@pytest.mark.parametrize(
    ("costs", "grain"),
    [
        ([200.0, 30.0, 0.0], 10.0),
        ([1_100_000.0, 150_000.0, 84_975.0], 25.0),
        ([2_000_000.0 / 7, 100_000.0], 100_000.0 / 7),  # annualised over 7 years
        ([0.5, 0.75], 0.25),
        ([1.0, np.pi], None),  # no common grain
        ([0.0], None),  # nothing costs anything
    ],
)
def test_cost_grain(costs: list[float], grain: float | None) -> None:
    found = cost_grain(np.array(costs))
    if grain is None:
        assert found is None
        return
    assert found == pytest.approx(grain, rel=1e-12)
    # every cost is a whole number of grains
    ratios = np.array(costs) / found
    assert np.allclose(ratios, np.round(ratios), rtol=0, atol=1e-9)


def test_tie_break_stays_within_a_quarter_grain() -> None:
    # X (60 scans) reaches {a, b}, Y (60) {b, c}, W (101) {e}: b is reached by 120 scans,
    # a and c by 60, e by 101
    m = model(*union_args(), max_mobile_days_per_site=5)
    dec = SiteDecomposition(m, m._cost_vector())
    assert dec.grain == 10.0  # costs 200 (scanner), 30 (install), 30 (mobile day)
    reward = dec.cost - dec.search_cost
    assert (reward >= 0).all()
    # the largest plan the bounds allow is rewarded by at most a quarter grain
    most = float(reward @ dec.upper)
    assert 0 < most <= 0.25 * dec.grain
    # ... and exactly a quarter if every site were as busy as the busiest
    n, off = m.n_sites, m._off
    units = 10 * dec.upper[off["s"] : off["s"] + n].sum() + dec.upper[off["m"] : off["m"] + n].sum()
    assert reward.max() == pytest.approx(10 * 0.25 * dec.grain / units)
    pos = {sid: k for k, sid in enumerate(m.site_ids)}
    s = reward[m._off["s"] : m._off["s"] + m.n_sites]
    days = reward[m._off["m"] : m._off["m"] + m.n_sites]
    # a scanner is worth a_s = 10 mobile days, and busier sites are rewarded more
    assert s == pytest.approx(10 * days)
    assert s[pos["b"]] > s[pos["e"]] > s[pos["a"]] > 0
    assert s[pos["a"]] == pytest.approx(s[pos["c"]])
    assert s[pos["e"]] / s[pos["b"]] == pytest.approx(101 / 120)
    # bounds of the master's objective round up to the next whole grain
    assert dec.bound(657.6) == 660.0
    assert dec.bound(660.0 - 1e-9) == 660.0
    assert dec.bound(-np.inf) == -np.inf


def test_no_tie_break_without_a_cost_grain() -> None:
    m = union_instance(mobile_gbp_per_day=np.pi)
    dec = SiteDecomposition(m, m._cost_vector())
    assert dec.grain is None
    assert np.array_equal(dec.search_cost, dec.cost)
    assert dec.bound(657.6) == 657.6
    r = m.solve(**SOLVE, decompose=True)
    assert decomposed(r)
    assert r.status == Status.OPTIMAL
    assert r.cost_gbp_per_year == pytest.approx(860.0)  # days cost 10 pi: still 2 at b


# ------------------------------------------------------------------ random instances
def random_instance(seed: int, *, zero_share: float = 0.0):
    """30-60 zones, 8-14 sites in a 100 x 100 square; drive minutes ~ distance x 0.9-1.3;
    the standard is set so most zones reach 1-4 sites and some reach none."""
    rng = np.random.default_rng(seed)
    nz, ns = int(rng.integers(30, 61)), int(rng.integers(8, 15))
    zp, spos = rng.uniform(0, 100, (nz, 2)), rng.uniform(0, 100, (ns, 2))
    dist = np.linalg.norm(zp[:, None] - spos[None], axis=2)
    minutes = (dist * rng.uniform(0.9, 1.3, dist.shape)).round(1)
    standard = float(np.quantile(np.sort(minutes, axis=1)[:, 1], 0.6))
    zs, ss = [f"z{i}" for i in range(nz)], [f"S{j}" for j in range(ns)]
    od = pd.DataFrame(
        [(zs[i], ss[j], minutes[i, j]) for i in range(nz) for j in range(ns)],
        columns=["origin_id", "destination_id", "minutes"],
    )
    d = rng.integers(2, 25, nz).astype(float)  # a site takes 0-2 scanners' worth
    d[rng.random(nz) < zero_share] = 0.0
    dem = pd.DataFrame({"id": zs, "scans_per_year": d})
    sit = pd.DataFrame({"id": ss, "is_contract": rng.random(ns) < 0.4})
    kw: dict = {"drive_minutes": standard}
    if rng.random() < 0.6:
        kw["mobile_units"] = int(rng.integers(1, 3))
        kw["max_sites_per_unit"] = int(rng.integers(1, 4))
    if seed % 4 == 1:
        kw["target_utilisation"] = 0.85  # unit 8.5 scans
    if seed % 4 == 3:
        kw["mobile_scans_per_day"] = np.pi / 3  # irrational ratio: rows in scans
    return od, dem, sit, kw, minutes <= standard + 1e-9, d


def check_plan(
    result, m: PlacementModel, reach: np.ndarray, d: np.ndarray, *, zero_demand: bool = True
) -> None:
    """The plan is feasible: capacity, rules, and every coverable zone served in full
    (``zero_demand=False``: zones without demand may stay unserved, as in cover_then_cost)."""
    s = result.sites
    rho = m.target_utilisation
    assert (s["assigned_scans_per_year"] <= s["capacity_scans_per_year"] * rho + 1e-6).all()
    assert (s["static_scanners"] <= m.max_static_per_site).all()
    assert (s["mobile_days_per_week"] <= m.max_mobile_days_per_site).all()
    if m.mobile_units is not None:
        assert s["mobile_days_per_week"].sum() <= m.mobile_days_per_unit * m.mobile_units
        if m.max_sites_per_unit is not None:
            assert (s["mobile_days_per_week"] > 0).sum() <= m.max_sites_per_unit * m.mobile_units
    # cost as reported equals the cost of the sites' decisions
    scanners = s["static_scanners"].to_numpy()
    days = s["mobile_days_per_week"].to_numpy()
    install = np.where(m.is_contract, 0.0, 30.0) * (scanners > 0)
    cost = 200.0 * scanners.sum() + 30.0 * days.sum() + install.sum()
    assert result.cost_gbp_per_year == pytest.approx(cost)
    coverable = reach.any(axis=1)
    z = result.zones
    must = coverable & ((d > 0) | zero_demand)
    assert z["covered"].to_numpy()[must].all()
    assert (z["uncovered_share"].to_numpy()[must] == 0).all()
    assert not z["covered"].to_numpy()[~coverable].any()
    served = coverable & (d > 0)
    assert (z["minutes"].to_numpy()[served] <= m.drive_minutes + 1e-9).all()
    assert result.totals["assigned_scans_per_year"] == pytest.approx(d[coverable].sum())
    assert result.totals["uncovered_scans_per_year"] == pytest.approx(d[~coverable].sum())
    # zero-demand coverable zones have an open site within the standard (hard coverage)
    open_ = s["decision"].to_numpy() != "closed"
    if zero_demand:
        assert (reach[coverable & (d == 0)] & open_).any(axis=1).all()


SEEDS = list(range(20))


@pytest.mark.parametrize("seed", SEEDS)
def test_random_cost_matches_monolithic_mip(seed: int) -> None:
    # some zones have no demand: hard coverage still needs an open site within reach
    od, dem, sit, kw, reach, d = random_instance(seed, zero_share=0.1)
    m = model(od, dem, sit, **kw)
    dec = m.solve(**SOLVE, decompose=True, time_limit_s=20)
    mono = m.solve(**SOLVE, decompose=False, time_limit_s=20, mip_gap=0)
    assert decomposed(dec)
    assert not decomposed(mono)
    assert dec.status == Status.OPTIMAL
    assert mono.status == Status.OPTIMAL
    assert same_cost(dec.cost_gbp_per_year, mono.cost_gbp_per_year)
    assert dec.objective_value == pytest.approx(dec.cost_gbp_per_year)
    assert any("hard coverage" in msg for msg in dec.messages)
    check_plan(dec, m, reach, d)
    # the default (decompose=None) takes the same route
    auto = m.solve(**SOLVE, time_limit_s=20)
    assert decomposed(auto)
    assert same_cost(auto.cost_gbp_per_year, mono.cost_gbp_per_year)


@pytest.mark.parametrize("seed", SEEDS)
def test_random_cover_then_cost_matches_monolithic_mip(seed: int) -> None:
    # some zones have no demand: cover_then_cost weighs coverage by demand, so they may
    # stay unserved (see also the hand-made instance below)
    od, dem, sit, kw, reach, d = random_instance(seed, zero_share=0.1)
    m = model(od, dem, sit, objective="cover_then_cost", **kw)
    dec = m.solve(**SOLVE, decompose=True, time_limit_s=20)
    mono = m.solve(**SOLVE, decompose=False, time_limit_s=20, mip_gap=0)
    assert decomposed(dec)
    assert dec.status == Status.OPTIMAL
    assert mono.status == Status.OPTIMAL
    assert same_cost(dec.cost_gbp_per_year, mono.cost_gbp_per_year)
    assert [s["stage"] for s in dec.stages] == ["uncovered_scans", "cost"]
    assert dec.stages[0]["objective"] == 0.0
    assert mono.stages[0]["objective"] == pytest.approx(0.0, abs=1e-6)
    check_plan(dec, m, reach, d, zero_demand=False)


def test_random_instances_exercise_the_max_flow_rows() -> None:
    """Guard for the property tests: the instances are what they claim (most zones reach
    1-4 sites, most instances have uncoverable zones, both kinds of capacity units), and in
    several of them the start rows (reachable sets and the whole network) are not enough,
    so the loop really adds max-flow rows."""
    grew = uncoverable = 0
    integral = set()
    one_to_four = []
    for seed in SEEDS:
        od, dem, sit, kw, reach, _ = random_instance(seed, zero_share=0.1)
        k = reach.sum(axis=1)
        one_to_four.append(((k >= 1) & (k <= 4)).mean())
        uncoverable += bool((k == 0).any())
        m = model(od, dem, sit, **kw)
        dec = SiteDecomposition(m, m._cost_vector())
        integral.add(dec.integral)
        r = m.solve(**SOLVE, decompose=True, time_limit_s=20)
        grew += row_count(r) > len(dec.rows)
    assert min(one_to_four) >= 0.5
    assert np.mean(one_to_four) >= 0.75
    assert integral == {True, False}
    assert uncoverable >= 12
    assert grew >= 8


def test_lp_phase_bound_is_valid_and_no_weaker_than_the_start_master() -> None:
    """The LP phase's cutting planes only add valid rows: its bound lies between the start
    master's LP bound and the proven optimum, on every random instance."""
    import dataclasses

    raised = checked = 0
    for seed in SEEDS[:10]:
        od, dem, sit, kw, _, _ = random_instance(seed, zero_share=0.1)
        m = model(od, dem, sit, **kw)
        dec = SiteDecomposition(m, m._cost_vector())
        mat = dec.master()
        lp = dataclasses.replace(mat, integer=np.zeros_like(mat.integer))
        info, x, _ = _solve_highs(lp, 20, None, 1)
        start = dec.bound(float(dec.search_cost @ x)) if info.solver_status == "Optimal" else None
        bound = dec.separate_lp(20, 1)
        r = m.solve(**SOLVE, decompose=True, mip_gap=0, time_limit_s=20)
        if start is None or not decomposed(r) or r.status != Status.OPTIMAL:
            continue
        assert start - 1e-6 <= bound <= r.cost_gbp_per_year * (1 + 1e-9) + 1e-6
        raised += bound > start + 1e-6
        checked += 1
    assert checked >= 5
    assert raised >= 1


# ------------------------------------------------------------------ brute force
def brute_force(reach: np.ndarray, d: np.ndarray, contract: np.ndarray, fleet: dict) -> float:
    """Cheapest plan by enumerating every (scanners, mobile days) per site and checking Hall's
    condition over every site subset. Scanners 0..2, days 0..3; math.inf if none."""
    n = reach.shape[1]
    options = [(s, m) for s in range(3) for m in range(4)]
    plans = np.array(list(itertools.product(options, repeat=n)), dtype=float)  # (K, n, 2)
    s, m = plans[..., 0], plans[..., 1]
    cap = 100.0 * s + 10.0 * m
    ok = np.ones(len(plans), bool)
    coverable = reach.any(axis=1)
    for mask in itertools.product([False, True], repeat=n):
        S = np.array(mask)
        inside = coverable & ~(reach & ~S).any(axis=1)
        ok &= cap[:, S].sum(axis=1) >= d[inside].sum() - 1e-9
    open_ = (s > 0) | (m > 0)
    for z in np.flatnonzero(coverable & (d == 0)):
        ok &= open_[:, reach[z]].any(axis=1)
    if "mobile_units" in fleet:
        ok &= m.sum(axis=1) <= 5 * fleet["mobile_units"]
        ok &= (m > 0).sum(axis=1) <= fleet["max_sites_per_unit"] * fleet["mobile_units"]
    cost = 200.0 * s.sum(axis=1) + 30.0 * m.sum(axis=1) + (30.0 * ~contract * (s > 0)).sum(axis=1)
    return float(cost[ok].min()) if ok.any() else float("inf")


def tiny_instance(seed: int):
    """4 sites, 4-8 zones reaching 0-3 of them, demand 5-150 (some zero), one mobile unit."""
    rng = np.random.default_rng(1000 + seed)
    n, nz = 4, int(rng.integers(4, 9))
    reach = np.zeros((nz, n), bool)
    for i in range(nz):
        k = int(rng.choice([0, 1, 2, 2, 3]))
        reach[i, rng.choice(n, size=k, replace=False)] = True
    d = rng.integers(5, 150, nz).astype(float)
    d[rng.random(nz) < 0.15] = 0.0
    contract = rng.random(n) < 0.5
    fleet = {"mobile_units": 1, "max_sites_per_unit": int(rng.integers(1, 3))}
    return reach, d, contract, fleet


TINY_SEEDS = list(range(8))


@pytest.mark.parametrize("seed", TINY_SEEDS)
def test_tiny_instances_match_brute_force(seed: int) -> None:
    reach, d, contract, fleet = tiny_instance(seed)
    nz, n = reach.shape
    zs, ss = [f"z{i}" for i in range(nz)], [f"S{j}" for j in range(n)]
    od = od_table({(zs[i], ss[j]): 10.0 + j for i in range(nz) for j in range(n) if reach[i, j]})
    od = pd.concat([od, od_table({(zs[0], ss[0]): 99.0})])  # beyond the standard: ignored
    m = model(
        od,
        zones(dict(zip(zs, d, strict=True))),
        sites(ss, is_contract=list(contract)),
        max_mobile_days_per_site=3,
        **fleet,
    )
    best = brute_force(reach, d, contract, fleet)
    r = m.solve(**SOLVE, decompose=True, time_limit_s=10)
    if np.isinf(best):  # hard coverage impossible: the penalty model, never decomposed
        assert not decomposed(r)
        assert any("impossible under the rules" in msg for msg in r.messages)
        return
    assert decomposed(r)
    assert r.status == Status.OPTIMAL
    assert r.cost_gbp_per_year == pytest.approx(best)
    check_plan(r, m, reach, d)


def test_brute_force_seeds_are_mostly_feasible() -> None:
    """Guard: the brute-force comparison above really compares costs in most seeds."""
    feasible = [np.isfinite(brute_force(*tiny_instance(seed))) for seed in TINY_SEEDS]
    assert sum(feasible) >= 5


# ------------------------------------------------------------------ union Hall row
def union_args() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    # X (60 scans) reaches {a, b}; Y (60) reaches {b, c}; W (101) reaches {e} only; all
    # sites new (install 30 a year)
    return (
        od_table({("X", "a"): 10, ("X", "b"): 20, ("Y", "b"): 20, ("Y", "c"): 10, ("W", "e"): 5}),
        zones({"X": 60, "Y": 60, "W": 101}),
        sites(["a", "b", "c", "e"]),
    )


def union_instance(**kw) -> PlacementModel:
    # static only (no mobile days), at most 2 scanners a site
    return model(*union_args(), max_mobile_days_per_site=0, **kw)


def test_union_of_reachable_sets_binds() -> None:
    # By hand. Start rows (units of 10 scans, a scanner = 10 units):
    #   N_X = {a,b}: 10(s_a + s_b) >= ceil(60/10) = 6   -> s_a + s_b >= 1
    #   N_Y = {b,c}: 10(s_b + s_c) >= 6                 -> s_b + s_c >= 1
    #   N_W = {e}:   10 s_e >= ceil(101/10) = 11         -> s_e >= 2
    #   everywhere {a,b,c,e}: 10 sum s >= ceil(221/10) = 23 -> sum s >= 3
    # Master optimum on these rows alone: s_b = 1, s_e = 2 -> 3 x 200 + 2 x 30 = 660 (unique:
    # e needs 2, X and Y need at least one scanner, one scanner serving both must be at b).
    # But X + Y = 120 scans can only go to {a,b,c} = N_X u N_Y, which then has 100: the union
    # row 10(s_a + s_b + s_c) >= 12 (-> 2 scanners) is violated, and no start row is it.
    # True optimum: e = 2 scanners (430) and 2 scanners in {a,b,c}: b = 2 (400 + 30 = 430)
    # beats a = c = 1 (400 + 60 = 460) or b = 1 + a or c = 1 (460) -> 860.
    m = union_instance()
    assert capacity_units(100.0, 10.0) == (10.0, 1.0, 10.0, True)
    dec = SiteDecomposition(m, m._cost_vector())
    pos = {sid: k for k, sid in enumerate(m.site_ids)}
    abc = sorted(pos[s] for s in "abc")
    # the start rows are exactly the three reachable sets and the whole network
    assert len(dec.rows) == 4
    assert all(sorted(np.unique(c % m.n_sites).tolist()) != abc for c, _, _ in dec.rows)
    info, x, _ = _solve_highs(dec.master(), 10, 0.0, 1)
    assert info.status == Status.OPTIMAL
    # the master minimises the cost less a tie-break worth under a quarter of the grain
    assert dec.grain == 10.0
    assert 660.0 - 2.5 <= info.objective < 660.0
    assert float(dec.cost @ x) == pytest.approx(660.0)
    assert dec.bound(info.dual_bound) == pytest.approx(660.0)
    s = np.round(x[m._off["s"] : m._off["s"] + m.n_sites])
    assert s[pos["b"]] == 1
    assert s[pos["e"]] == 2
    # max flow names {a, b, c}, and the row it adds asks for 12 units there
    assert [v.tolist() for v in dec.cuts.violated(x)] == [abc]
    fits, rows = dec.check(x)
    assert not fits
    assert len(rows) == 1
    cols, vals, rhs = rows[0]
    assert sorted(set((cols % m.n_sites).tolist())) == abc
    assert rhs == 12
    assert sorted(vals.tolist()) == [1.0] * 3 + [10.0] * 3  # a_s = 10 on s, a_m = 1 on m
    # the full decomposition reaches the true optimum and proves it
    r = m.solve(**SOLVE, decompose=True)
    assert decomposed(r)
    assert r.status == Status.OPTIMAL
    assert r.cost_gbp_per_year == pytest.approx(860.0)
    assert row_count(r) == 5
    site = r.sites.set_index("site_id")
    assert site["static_scanners"].to_dict() == {"a": 0, "b": 2, "c": 0, "e": 2}
    assert site.loc["b", "assigned_scans_per_year"] == pytest.approx(120.0)
    assert site.loc["e", "assigned_scans_per_year"] == pytest.approx(101.0)
    mono = m.solve(**SOLVE, decompose=False, mip_gap=0)
    assert mono.cost_gbp_per_year == pytest.approx(860.0)
    cover = union_instance(objective="cover_then_cost").solve(**SOLVE, decompose=True)
    assert decomposed(cover)
    assert cover.cost_gbp_per_year == pytest.approx(860.0)


def test_mobile_days_fill_the_union_row_by_hand() -> None:
    # The same shape with mobile days allowed (a day: 1 unit = 10 scans for 30; mobile-only
    # sites pay no install). By hand:
    #   e (101 scans): 1 scanner + 1 day = 200 + 30 + 30 = 260 (2 scanners 430; days alone
    #     give at most 5 x 10 = 50);
    #   {a,b,c} (120 scans, 12 units): 1 scanner at b + 2 days anywhere in {a,b,c} = 200 + 30
    #     + 60 = 290 (2 scanners at b 430; 12 mobile days on three sites 360).
    #   -> 550, with 2 scanners and 3 days. The start rows alone also allow the 2 days at e
    #   (everywhere: 23 units), which leaves {a,b,c} at 10 < 12 units: max flow's union row
    #   moves them.
    m = model(*union_args())
    r = m.solve(**SOLVE, decompose=True)
    assert decomposed(r)
    assert r.status == Status.OPTIMAL
    assert r.cost_gbp_per_year == pytest.approx(550.0)
    assert r.totals["static_scanners"] == 2
    assert r.totals["mobile_days_per_week"] == 3
    site = r.sites.set_index("site_id")
    assert site.loc[["a", "b", "c"], "capacity_scans_per_year"].sum() >= 120
    assert site.loc["e", "capacity_scans_per_year"] >= 101
    assert m.solve(**SOLVE, decompose=False, mip_gap=0).cost_gbp_per_year == pytest.approx(550.0)


# ------------------------------------------------------------------ fallbacks
def short_instance(objective: str) -> PlacementModel:
    # X (160) reaches {a, b}; Y (160) reaches {b, c}; W (10) reaches {d}; one scanner a site,
    # no mobile days, no install cost. Each reachable set fits alone (160 <= 200) and the
    # pre-solve (single sites, lots) sees nothing, but {a,b,c} has 300 for 320 scans: only
    # the union row (found by max flow) shows every coverable zone cannot be served.
    return model(
        od_table({("X", "a"): 10, ("X", "b"): 20, ("Y", "b"): 20, ("Y", "c"): 10, ("W", "d"): 5}),
        zones({"X": 160, "Y": 160, "W": 10}),
        sites(["a", "b", "c", "d"]),
        max_static_per_site=1,
        max_mobile_days_per_site=0,
        install_gbp=0,
        objective=objective,
    )


def test_cover_then_cost_falls_back_when_coverage_is_impossible() -> None:
    # By hand: at most 300 of X + Y's 320 scans fit in {a,b,c} -> 20 uncovered, the least
    # possible; the cheapest plan serving the rest opens a, b, c and d with one scanner each
    # (800). The master is feasible at first (a=b=c=d=1 meets every start row) and turns
    # infeasible once max flow adds s_a + s_b + s_c >= 4: already in the LP phase (the
    # fractional capacities leave {a,b,c} short), so the first master MIP is infeasible.
    m = short_instance("cover_then_cost")
    assert not m._shortfall
    dec = SiteDecomposition(m, m._cost_vector())
    info, plan, counts = dec.solve(10, None, 1)
    assert plan is None
    assert counts["rounds"] == 1
    assert any(
        set(np.flatnonzero(np.isin(np.arange(4), c - m._off["s"]))) == {0, 1, 2}
        for c, _, _ in dec.rows
    )
    assert info.solver_status == "Infeasible"
    for decompose in (None, True):
        r = m.solve(**SOLVE, decompose=decompose)
        assert not decomposed(r)
        assert r.status == Status.OPTIMAL
        assert r.totals["uncovered_scans_per_year"] == pytest.approx(20.0, abs=1e-4)
        assert r.stages[0]["objective"] == pytest.approx(20.0, abs=1e-4)
        assert r.cost_gbp_per_year == pytest.approx(800.0)
        assert r.totals["static_scanners"] == 4
    mono = m.solve(**SOLVE, decompose=False, mip_gap=0)
    assert mono.cost_gbp_per_year == pytest.approx(800.0)
    assert mono.totals["uncovered_scans_per_year"] == pytest.approx(20.0, abs=1e-4)


def test_cost_falls_back_to_the_penalty_when_coverage_is_impossible() -> None:
    m = short_instance("cost")
    r = m.solve(**SOLVE, decompose=True)
    assert not decomposed(r)
    assert any("impossible under the rules" in msg for msg in r.messages)
    assert r.status == Status.OPTIMAL
    assert r.cost_gbp_per_year == pytest.approx(800.0)
    assert r.totals["uncovered_scans_per_year"] == pytest.approx(20.0, abs=1e-4)


# ------------------------------------------------------------------ when it applies
def test_cyclotron_capacity_is_decomposed_and_decay_weighted() -> None:
    # The union instance (optimum 860: b = 2, e = 2 scanners) with one cyclotron C. A site
    # orders the doses of its planned throughput: a scanner is 100 scans / 100 working days
    # = 1 dose a day, which costs 2**(tau / 109.7) dose-equivalents at dispatch after tau
    # delivery minutes. a, c, e are 30 min from C (x1.209), b is 220 min (x4.009).
    cyc = pd.DataFrame(
        {"site_id": list("abce"), "cyclotron_id": "C", "minutes": [30.0, 220.0, 30.0, 30.0]}
    )
    kw = {"cyclotron_minutes": cyc, "tracer_primary_minutes": 240.0}
    no_cap = union_instance(**kw)
    assert no_cap.cyc_pairs is None
    assert no_cap.solve(**SOLVE, decompose=True).cost_gbp_per_year == pytest.approx(860.0)
    # far from binding (b = 2, e = 2 need 2 x 4.009 + 2 x 1.209 = 10.4): same optimum, and
    # the tracer rows sit in the master, so it is still decomposed
    loose = union_instance(**kw, cyclotron_doses_per_day=1000.0)
    assert loose.cyc_pairs is not None
    assert loose._decomposable(True)
    r = loose.solve(**SOLVE, decompose=True)
    assert decomposed(r)
    assert r.status == Status.OPTIMAL
    assert r.cost_gbp_per_year == pytest.approx(860.0)
    # 6 dose-equivalents a day: b = 2 (10.4) and b = a = 1 (2.42 + 1.21 + 4.01 = 7.64) no
    # longer fit; a = c = 1 (4 x 1.209 = 4.84) does and costs 30 more: 890, whichever way
    # it is solved. Counted in doses delivered (4 a day) both plans would have fitted.
    tight = union_instance(**kw, cyclotron_doses_per_day=6.0)
    for decompose in (True, False):
        r = tight.solve(**SOLVE, decompose=decompose)
        assert decomposed(r) is decompose
        assert r.status == Status.OPTIMAL
        assert r.cost_gbp_per_year == pytest.approx(890.0)
        s = r.sites.set_index("site_id")["static_scanners"]
        assert s.to_dict() == {"a": 1, "b": 0, "c": 1, "e": 2}
        assert r.sites["tracer_source"].dropna().unique().tolist() == ["C"]


def test_which_objectives_and_solvers_decompose() -> None:
    m = union_instance()
    assert decomposed(m.solve(**SOLVE))
    assert not decomposed(m.solve(**SOLVE, decompose=False))
    assert not decomposed(m.solve(solver="cbc"))  # HiGHS only
    hard = union_instance(uncovered_penalty_gbp_per_scan=float("inf")).solve(**SOLVE)
    assert decomposed(hard)
    assert hard.cost_gbp_per_year == pytest.approx(860.0)
    # a finite penalty: coverage is soft, the cost depends on u, not decomposed. At 1e4 a
    # scan every zone is still worth serving: same plan
    soft = union_instance(uncovered_penalty_gbp_per_scan=1e4).solve(**SOLVE)
    assert not decomposed(soft)
    assert soft.cost_gbp_per_year == pytest.approx(860.0)
    drive = union_instance(objective="drive_time").solve(**SOLVE)
    assert not decomposed(drive)


# ------------------------------------------------------------------ known bugs
def zero_demand_instance() -> PlacementModel:
    # a (100 scans) reaches A only; z (no demand) reaches B only; no install cost
    od = od_table({("a", "A"): 10, ("z", "B"): 10})
    dem, sit = zones({"a": 100, "z": 0}), sites(["A", "B"])
    return model(od, dem, sit, install_gbp=0, objective="cover_then_cost")


def test_cover_then_cost_zero_demand_zone_monolithic() -> None:
    """The reference for the test below: by hand, a needs 1 scanner at A (200); z has
    no demand, so the least uncovered demand (0 scans) needs nothing at B -> 200."""
    mono = zero_demand_instance().solve(**SOLVE, decompose=False, mip_gap=0)
    assert mono.cost_gbp_per_year == pytest.approx(200.0)
    assert mono.open_sites == ["A"]
    assert mono.stages[0]["objective"] == pytest.approx(0.0, abs=1e-6)


def test_cover_then_cost_zero_demand_zone_decomposed() -> None:
    r = zero_demand_instance().solve(**SOLVE)
    assert decomposed(r)
    assert r.is_optimal
    assert r.cost_gbp_per_year == pytest.approx(200.0)  # gets 230: a mobile day at B


def pool_instance() -> PlacementModel:
    # One zone (333.3 scans) reaching 11 sites (> _START_SET_SITES, so its row sits in the
    # pool). Static 1000 scans for 10,100/yr; a mobile day 3.333333 x 100 = 333.3333 scans
    # for 100/yr. capacity_units(1000, 333.3333) is not integral (rows in scans).
    ss = [f"S{j}" for j in range(11)]
    return model(
        od_table({("a", s): 10.0 + j for j, s in enumerate(ss)}),
        zones({"a": 333.3}),
        sites(ss),
        static_scans_per_day=10,
        mobile_scans_per_day=3.333333,
        mobile_weeks_per_year=100,
        static_capital_gbp=100_000,
        mobile_gbp_per_day=1,
        install_gbp=0,
    )


def test_pool_instance_optimum_is_still_returned() -> None:
    # by hand: one mobile day (333.3333 >= 333.3 scans) at 100/yr
    m = pool_instance()
    assert capacity_units(1000.0, 333.3333)[3] is False
    for decompose in (None, True, False):
        r = m.solve(**SOLVE, decompose=decompose)
        assert r.status == Status.OPTIMAL
        assert r.cost_gbp_per_year == pytest.approx(100.0)
        assert r.totals["mobile_days_per_week"] == 1


def test_pool_check_accepts_a_plan_that_fits() -> None:
    m = pool_instance()
    dec = SiteDecomposition(m, m._cost_vector())
    assert len(dec.pool_sets) == 1
    x = np.zeros(len(dec.cuts.cols))
    off = m._off
    x[off["y"]] = x[off["v"]] = x[off["m"]] = 1  # one mobile day at S0: 333.3333 scans
    assert dec.cuts.capacity(x)[0] >= 333.3
    assert dec.cuts.violated(x) == []  # max flow: the assignment exists
    fits, _ = dec.check(x)
    assert fits
    assert decomposed(m.solve(**SOLVE))


def test_solves_with_changing_thread_counts_in_one_process() -> None:
    """HiGHS keeps one global thread pool: a solve asking for another thread count than the
    previous one used to stop at once with model status "Not Set"."""
    od, dem, sit, kw, _reach, _d = random_instance(3)
    m = model(od, dem, sit, **kw)
    costs = set()
    for threads in (None, 1, 2, 1):
        for decompose in (True, False):
            r = m.solve(solver="highs", threads=threads, decompose=decompose, time_limit_s=20)
            assert r.status == Status.OPTIMAL
            costs.add(round(r.cost_gbp_per_year, 6))
    assert len(costs) == 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_inside_demand_dense_and_sparse_match_brute_force(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # demand of the groups whose whole reachable set lies inside each reachable set and
    # each of a few random site sets, by the two products and by Python sets
    import scipy.sparse as sp

    from netplan.optimise import _master

    od, dem, sit, kw, _, _ = random_instance(seed)
    m = model(od, dem, sit, **kw)
    cuts = _master.CapacityCuts(m, regions=False)
    R, _ = cuts.region_sets()
    rng = np.random.default_rng(seed)
    extra = sp.csr_matrix((rng.random((5, cuts.n)) < 0.5).astype(float))
    R = sp.vstack([R, extra], format="csr")
    groups = [
        set(cuts.B.indices[cuts.B.indptr[g] : cuts.B.indptr[g + 1]].tolist()) for g in range(cuts.G)
    ]
    expected = [
        sum(
            m.gd[g]
            for g in range(cuts.G)
            if cuts.served[g] and groups[g] and groups[g] <= set(R[r].indices.tolist())
        )
        for r in range(R.shape[0])
    ]
    dense = cuts.inside_demand(R)
    monkeypatch.setattr(_master, "_DENSE_FLOPS", 0)
    sparse = cuts.inside_demand(R)
    np.testing.assert_allclose(dense, expected, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(sparse, expected, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 3, 5])
def test_pool_family_holds_each_pool_sets_rows_and_strengthened_rows(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the block-built matrix against _capacity_row + strengthened, one pool set at a time
    from netplan.optimise import _decompose

    od, dem, sit, kw, _, _ = random_instance(seed)
    m = model(od, dem, sit, **kw)
    monkeypatch.setattr(_decompose, "_START_SET_SITES", 1)  # most sets go to the pool
    dec = SiteDecomposition(m, m._cost_vector())
    assert len(dec.pool_sets) > 0
    (M, rhs), owner = dec._pool_family()
    M = M.tocsr()
    M.sort_indices()
    got = sorted(
        (
            int(owner[i]),
            tuple(M.indices[M.indptr[i] : M.indptr[i + 1]].tolist()),
            tuple(np.round(M.data[M.indptr[i] : M.indptr[i + 1]], 9).tolist()),
            round(float(rhs[i]), 9),
        )
        for i in range(M.shape[0])
    )
    want = []
    for k, sites_k in enumerate(dec.pool_sets):
        base = dec._capacity_row(sites_k, float(dec.pool_scans[k]))
        for cols, vals, b in [base, *dec.strengthened(base)]:
            order = np.argsort(cols)
            want.append(
                (
                    k,
                    tuple(cols[order].tolist()),
                    tuple(np.round(vals[order], 9).tolist()),
                    round(float(b), 9),
                )
            )
    assert got == sorted(want)
