"""Classic models (LSCP, MCLP, p-median, p-center): hand-solved instances, brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netplan import InfeasibleError
from netplan.optimise import LSCP, MCLP, PCenter, PMedian, Status

# 4 demand points x 3 sites; the optimum of every model is worked out on paper below.
COST = pd.DataFrame(
    [[2.0, 10.0, 7.0], [3.0, 8.0, 9.0], [9.0, 2.0, 6.0], [10.0, 3.0, 4.0]],
    index=["a", "b", "c", "d"],
    columns=["S1", "S2", "S3"],
)
WEIGHTS = pd.Series({"a": 5.0, "b": 1.0, "c": 2.0, "d": 4.0})
SOLVERS = ["cbc", "highs"]


@pytest.mark.parametrize("solver", SOLVERS)
def test_lscp_hand_solved(solver: str) -> None:
    # standard 3: a, b -> S1 only; c, d -> S2 only; so {S1, S2} and 2 sites
    sol = LSCP.from_cost_matrix(COST, max_cost=3).solve(solver=solver)
    assert sol.objective == 2
    assert sol.selected_sites == ("S1", "S2")
    assert sol.is_optimal
    assert sol.status == Status.OPTIMAL
    assert sol.assignment.set_index("demand_id")["site_id"].to_dict() == {
        "a": "S1",
        "b": "S1",
        "c": "S2",
        "d": "S2",
    }
    assert sol.assignment["covered"].all()


@pytest.mark.parametrize("solver", SOLVERS)
def test_mclp_hand_solved(solver: str) -> None:
    # standard 3, weights a=5, b=2, c=2, d=4: S1 covers a+b = 7, S2 c+d = 6, S3 nothing.
    # p=1 -> S1 with 7; p=2 -> S1 + S2 with 13.
    w = WEIGHTS.copy()
    w["b"] = 2.0
    sol = MCLP.from_cost_matrix(COST, max_cost=3, p=1, weights=w).solve(solver=solver)
    assert sol.objective == 7.0
    assert sol.selected_sites == ("S1",)
    sol2 = MCLP.from_cost_matrix(COST, max_cost=3, p=2, weights=w).solve(solver=solver)
    assert sol2.objective == 13.0
    assert set(sol2.selected_sites) == {"S1", "S2"}


@pytest.mark.parametrize("solver", SOLVERS)
def test_pmedian_hand_solved(solver: str) -> None:
    # p=1: S1 5*2+1*3+2*9+4*10 = 71; S2 50+8+4+12 = 74; S3 35+9+12+16 = 72 -> S1, 71
    sol = PMedian.from_cost_matrix(COST, p=1, weights=WEIGHTS).solve(solver=solver)
    assert sol.objective == pytest.approx(71.0)
    assert sol.selected_sites == ("S1",)
    # p=2: {S1,S2} 10+3+4+12 = 29; {S1,S3} 10+3+12+16 = 41; {S2,S3} 35+8+4+12 = 59
    sol2 = PMedian.from_cost_matrix(COST, p=2, weights=WEIGHTS).solve(solver=solver)
    assert sol2.objective == pytest.approx(29.0)
    assert sol2.selected_sites == ("S1", "S2")


@pytest.mark.parametrize("solver", SOLVERS)
def test_pcenter_hand_solved(solver: str) -> None:
    # p=1: max costs S1 10, S2 10, S3 9 -> S3 with 9
    sol = PCenter.from_cost_matrix(COST, p=1).solve(solver=solver)
    assert sol.objective == pytest.approx(9.0)
    assert sol.selected_sites == ("S3",)
    # p=2: {S1,S2} max(2,3,2,3) = 3
    sol2 = PCenter.from_cost_matrix(COST, p=2).solve(solver=solver)
    assert sol2.objective == pytest.approx(3.0)
    assert sol2.selected_sites == ("S1", "S2")


def test_from_od_matches_matrix() -> None:
    od = COST.stack().reset_index()
    od.columns = ["origin_id", "destination_id", "minutes"]
    a = PMedian.from_od(od, p=2, weights=WEIGHTS).solve()
    b = PMedian.from_cost_matrix(COST, p=2, weights=WEIGHTS).solve()
    assert a.objective == b.objective
    assert a.selected_sites == b.selected_sites


def test_from_od_missing_pairs_are_not_allowed() -> None:
    od = pd.DataFrame(
        {
            "origin_id": ["a", "a", "b"],
            "destination_id": ["S1", "S2", "S2"],
            "minutes": [1.0, 5.0, 2.0],
        }
    )
    sol = PMedian.from_od(od, p=1).solve()
    assert sol.selected_sites == ("S2",)
    assert sol.objective == pytest.approx(7.0)


def test_infeasible_p_larger_than_sites() -> None:
    with pytest.raises(InfeasibleError, match="p=4") as err:
        PMedian.from_cost_matrix(COST, p=4).solve()
    assert err.value.status == "Infeasible"
    with pytest.raises(InfeasibleError):
        MCLP.from_cost_matrix(COST, max_cost=3, p=5).solve()
    with pytest.raises(InfeasibleError):
        PCenter.from_cost_matrix(COST, p=9).solve()


def test_infeasible_lscp_uncoverable_point() -> None:
    with pytest.raises(InfeasibleError, match=r"no candidate site within 2\.5") as err:
        LSCP.from_cost_matrix(COST, max_cost=2.5).solve()
    assert err.value.status == "Infeasible"


def test_solution_is_frozen_and_model_unchanged() -> None:
    model = LSCP.from_cost_matrix(COST, max_cost=3)
    first = model.solve(solver="cbc")
    second = model.solve(solver="highs")
    assert first.selected_sites == second.selected_sites
    with pytest.raises(AttributeError):
        first.objective = 0  # type: ignore[misc]
    assert "LSCP" in repr(first)
    assert "optimal" in repr(first)


def test_time_limit_result_never_presented_as_optimal() -> None:
    # a tiny instance solves instantly; a time-limited status must map through Status
    sol = MCLP.from_cost_matrix(COST, max_cost=3, p=1).solve(time_limit_s=10)
    assert sol.is_optimal == (sol.status == Status.OPTIMAL)
    assert sol.mip_gap is not None
    assert sol.mip_gap <= 1e-4


# ---------------------------------------------------------------- brute force
def _brute_lscp(a: np.ndarray) -> int:
    n = a.shape[1]
    for k in range(1, n + 1):
        for combo in itertools.combinations(range(n), k):
            if a[:, list(combo)].any(axis=1).all():
                return k
    raise AssertionError("uncoverable")


def _brute_mclp(a: np.ndarray, w: np.ndarray, p: int) -> float:
    return max(
        float(w[a[:, list(c)].any(axis=1)].sum())
        for c in itertools.combinations(range(a.shape[1]), p)
    )


def _brute_pmedian(c: np.ndarray, w: np.ndarray, p: int) -> float:
    return min(
        float((w * c[:, list(s)].min(axis=1)).sum())
        for s in itertools.combinations(range(c.shape[1]), p)
    )


instances = st.tuples(
    st.integers(2, 7),
    st.integers(2, 5),
    st.integers(0, 10_000),
)


@settings(max_examples=15, deadline=None)
@given(instances)
def test_lscp_matches_brute_force(inst: tuple[int, int, int]) -> None:
    n_demand, n_sites, seed = inst
    rng = np.random.default_rng(seed)
    cost = rng.integers(1, 20, size=(n_demand, n_sites)).astype(float)
    standard = 8.0
    a = cost <= standard
    if not a.any(axis=1).all():
        with pytest.raises(InfeasibleError):
            LSCP.from_cost_matrix(cost, max_cost=standard).solve()
        return
    sol = LSCP.from_cost_matrix(cost, max_cost=standard).solve()
    assert sol.objective == _brute_lscp(a)
    chosen = np.isin(np.arange(n_sites), sol.selected_sites)
    assert a[:, chosen].any(axis=1).all()


@settings(max_examples=15, deadline=None)
@given(instances, st.integers(1, 3))
def test_mclp_matches_brute_force(inst: tuple[int, int, int], p: int) -> None:
    n_demand, n_sites, seed = inst
    p = min(p, n_sites)
    rng = np.random.default_rng(seed)
    cost = rng.integers(1, 20, size=(n_demand, n_sites)).astype(float)
    w = rng.integers(1, 50, size=n_demand).astype(float)
    sol = MCLP.from_cost_matrix(cost, max_cost=8, p=p, weights=w).solve(solver="highs")
    assert sol.objective == pytest.approx(_brute_mclp(cost <= 8, w, p))
    assert len(sol.selected_sites) == p


@settings(max_examples=15, deadline=None)
@given(instances, st.integers(1, 3))
def test_pmedian_matches_brute_force(inst: tuple[int, int, int], p: int) -> None:
    n_demand, n_sites, seed = inst
    p = min(p, n_sites)
    rng = np.random.default_rng(seed)
    cost = rng.integers(1, 30, size=(n_demand, n_sites)).astype(float)
    w = rng.integers(1, 9, size=n_demand).astype(float)
    sol = PMedian.from_cost_matrix(cost, p=p, weights=w).solve()
    assert sol.objective == pytest.approx(_brute_pmedian(cost, w, p))
