"""A placement solve started from a plan (``PlacementModel.solve(start=)``) and the sweeps
that start each run from the first run's plan (``run_scenarios(warm_start=True)``)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from test_decompose import SOLVE, check_plan, model, random_instance, same_cost
from test_executors import SMALL

from netplan import ValidationError
from netplan.optimise import Status
from netplan.scenario import Scenario, sweep_variants
from netplan.scenario.batch import run_scenarios

FITS = "the start plan fits"


@pytest.mark.parametrize("seed", range(10))
def test_start_from_the_optimum_keeps_the_optimum(seed: int, caplog) -> None:
    od, dem, sit, kw, reach, d = random_instance(seed)
    m = model(od, dem, sit, **kw)
    cold = m.solve(**SOLVE, time_limit_s=20)
    with caplog.at_level(logging.INFO, logger="netplan.optimise._decompose"):
        warm = m.solve(**SOLVE, time_limit_s=20, start=cold)
    assert warm.status == Status.OPTIMAL
    assert same_cost(warm.cost_gbp_per_year, cold.cost_gbp_per_year)
    assert FITS in caplog.text  # it was the first incumbent
    check_plan(warm, m, reach, d)


@pytest.mark.parametrize("seed", range(10))
def test_start_from_another_models_plan_reaches_this_models_optimum(seed: int) -> None:
    """A plan of a looser model (10 % longer standard, no fleet limit) as start: it may
    break this model's rules or leave zones short; the optimum is this model's (checked
    against the monolithic MIP) either way."""
    od, dem, sit, kw, reach, d = random_instance(seed)
    loose = {k: v for k, v in kw.items() if k not in ("mobile_units", "max_sites_per_unit")}
    loose["drive_minutes"] = kw["drive_minutes"] * 1.1
    other = model(od, dem, sit, **loose).solve(**SOLVE, time_limit_s=20)
    m = model(od, dem, sit, **kw)
    warm = m.solve(**SOLVE, time_limit_s=20, start=other)
    mono = m.solve(**SOLVE, decompose=False, time_limit_s=20, mip_gap=0)
    assert warm.status == Status.OPTIMAL
    assert same_cost(warm.cost_gbp_per_year, mono.cost_gbp_per_year)
    check_plan(warm, m, reach, d)


def test_a_start_that_breaks_a_rule_is_left_out(caplog) -> None:
    od, dem, sit, kw, _, _ = random_instance(3)
    m = model(od, dem, sit, **kw)
    cold = m.solve(**SOLVE, time_limit_s=20)
    table = cold.sites[["site_id", "static_scanners", "mobile_days_per_week"]].copy()
    table["static_scanners"] = m.max_static_per_site + 1  # more scanners than a site takes
    table = pd.concat(  # and a site the model does not have
        [table, pd.DataFrame([{"site_id": "elsewhere", "static_scanners": 1}])]
    )
    with caplog.at_level(logging.INFO, logger="netplan.optimise._decompose"):
        warm = m.solve(**SOLVE, time_limit_s=20, start=table)
    assert FITS not in caplog.text
    assert warm.status == Status.OPTIMAL
    assert same_cost(warm.cost_gbp_per_year, cold.cost_gbp_per_year)


def test_start_columns_by_hand() -> None:
    od, dem, sit, kw, _, _ = random_instance(0)
    m = model(od, dem, sit, **kw)
    n = m.n_sites
    plan = pd.DataFrame(
        {"site_id": ["S1", "S0", "nowhere"], "static_scanners": [0, 2, 5],
         "mobile_days_per_week": [3, 0, 1]}
    )  # fmt: skip
    x = m.start_columns(plan).reshape(5, n)  # y, t, v, s, m
    expect = np.zeros((5, n))
    expect[:, 0] = [1, 1, 0, 2, 0]
    expect[:, 1] = [1, 0, 1, 0, 3]
    np.testing.assert_array_equal(x, expect)


@pytest.mark.parametrize(
    ("table", "words"),
    [
        (pd.DataFrame({"site_id": ["S0"], "static_scanners": [1]}), "mobile_days_per_week"),
        (
            pd.DataFrame(
                {"site_id": ["S0", "S0"], "static_scanners": [1, 1], "mobile_days_per_week": 0}
            ),
            "site_id",
        ),
    ],
)
def test_a_bad_start_table_is_named(table: pd.DataFrame, words: str) -> None:
    od, dem, sit, kw, _, _ = random_instance(0)
    m = model(od, dem, sit, **kw)
    with pytest.raises(ValidationError, match=f"start plan.*{words}|{words}.*start plan"):
        m.solve(**SOLVE, time_limit_s=20, start=table)


def test_a_warm_sweep_matches_the_cold_one_and_reports_every_run() -> None:
    variants = sweep_variants(Scenario.from_yaml(SMALL), ["fleet.mobile_units=1,2,3"])
    seen: list[tuple[int, int, str]] = []
    warm = run_scenarios(
        variants, warm_start=True, on_done=lambda k, n, label: seen.append((k, n, label))
    )
    cold = run_scenarios(variants)
    assert [r.scenario.name for r in warm] == [v.name for v in variants]
    assert seen == [(k + 1, 3, v.name) for k, v in enumerate(variants)]
    for a, b in zip(warm, cold, strict=True):
        assert a.totals["annual_cost_gbp"] == pytest.approx(b.totals["annual_cost_gbp"])
        assert a.provenance["solver_status"] == "optimal"
