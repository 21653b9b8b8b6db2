"""Tests for netplan.tracer: 18F decay factors, decay budgets and dose supply."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from netplan import ValidationError, defaults, tracer


@pytest.mark.parametrize(
    ("minutes", "expected"),
    # DOMAIN.md section 4 table (derived from 2**(t/109.7)), quoted to 2-3 significant figures
    [
        (0, 1.0),
        (30, 1.21),
        (60, 1.46),
        (90, 1.77),
        (120, 2.13),
        (180, 3.12),
        (240, 4.56),
        (480, 20.8),
    ],
)
def test_decay_factor_matches_domain_table(minutes, expected):
    assert tracer.decay_factor(minutes) == pytest.approx(expected, abs=0.006 * expected)


def test_decay_factor_60_and_120_minutes():
    assert tracer.decay_factor(60) == pytest.approx(1.4610, abs=1e-4)
    assert tracer.decay_factor(120) == pytest.approx(2.1345, abs=1e-4)
    assert tracer.decay_factor(tracer.HALF_LIFE_MINUTES) == 2.0


def test_decay_factor_vectorised_and_half_life_option():
    out = tracer.decay_factor(np.array([0.0, 109.7, 219.4]))
    np.testing.assert_allclose(out, [1.0, 2.0, 4.0])
    assert tracer.decay_factor(20, half_life_minutes=20) == 2.0


def test_half_life_matches_defaults():
    assert tracer.HALF_LIFE_MINUTES == defaults.get("tracer.half_life_minutes") == 109.7


def test_activity_to_dispatch_and_back():
    # DOMAIN.md: 370 MBq at injection +60 min needs about 541 MBq at dispatch
    assert tracer.activity_to_dispatch(370, 60) == pytest.approx(540.5, abs=0.5)
    sent = tracer.activity_to_dispatch(np.array([100.0, 200.0]), 45)
    np.testing.assert_allclose(tracer.activity_remaining(sent, 45), [100.0, 200.0])


@pytest.mark.parametrize(("factor", "minutes"), [(1.0, 0.0), (2.0, 109.7), (4.0, 219.4)])
def test_max_delivery_minutes_exact(factor, minutes):
    assert tracer.max_delivery_minutes(factor) == pytest.approx(minutes)


def test_decay_budget_defaults_consistent():
    d = defaults.load_defaults()["tracer"]
    for role in ("primary", "backup"):
        minutes = d[f"max_delivery_minutes_{role}"]
        factor = d[f"max_decay_factor_{role}"]
        assert tracer.decay_factor(minutes) == pytest.approx(factor, abs=0.01)
        assert tracer.max_delivery_minutes(factor) == pytest.approx(minutes, abs=0.5)


def test_doses_to_produce_hand_solved():
    # A: 10 doses on site (factor 1); B: 20 doses one half-life away (factor 2) -> 10 + 40
    out = tracer.doses_to_produce({"A": 10, "B": 20}, {"A": 0.0, "B": 109.7, "C": 5.0})
    assert out["site_id"].tolist() == ["A", "B"]
    assert out["doses_at_dispatch"].sum() == pytest.approx(50.0)
    assert out["within_limit"].all()
    # waiting time adds to transport: one more half-life doubles everything
    waited = tracer.doses_to_produce({"B": 20}, {"B": 0.0}, wait_minutes=109.7)
    assert waited["doses_at_dispatch"].iloc[0] == pytest.approx(40.0)


def test_doses_to_produce_warns_listing_far_sites():
    with pytest.warns(UserWarning, match=r"more than 120 min.*'far'"):
        out = tracer.doses_to_produce(
            pd.Series({"near": 5.0, "far": 5.0}),
            {"near": 30, "far": 150},
            max_delivery_minutes=120,
        )
    assert out.set_index("site_id")["within_limit"].to_dict() == {"near": True, "far": False}


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("fdg", "fdg"),
        ("18F-FDG", "fdg"),
        ("Florbetaben", "fbb"),
        ("sodium_fluoride", "naf"),
        ("18F-fluoroethylcholine", "fec"),
    ],
)
def test_tracer_aliases(name, key):
    assert tracer.tracer_key(name) == key


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: tracer.decay_factor(-5), "must be >= 0"),
        (lambda: tracer.decay_factor(float("nan")), "must be >= 0"),
        (lambda: tracer.decay_factor(60, half_life_minutes=0), "half_life_minutes"),
        (lambda: tracer.activity_to_dispatch(-1, 60), "activity_at_injection"),
        (lambda: tracer.max_delivery_minutes(0.5), "max_factor must be"),
        (lambda: tracer.tracer_key("11C-choline"), "unknown tracer '11C-choline'.*fdg"),
        (lambda: tracer.check_tracer_names(["fdg", "psma", "x"]), r"\['psma', 'x'\]"),
        (lambda: tracer.check_tracer_names(["fdg", "18F-FDG"]), "more than once"),
        (lambda: tracer.doses_to_produce({"A": 1}, {"A": 1}, tracer="gallium"), "unknown tracer"),
        (lambda: tracer.doses_to_produce({"A": 1, "B": 2}, {"A": 1}), r"site\(s\) \['B'\]"),
        (lambda: tracer.doses_to_produce({"A": -1}, {"A": 1}), "negative value"),
        (
            lambda: tracer.doses_to_produce(pd.Series([1, 2], index=["A", "A"]), {"A": 1}),
            "duplicate site id",
        ),
    ],
)
def test_bad_input_raises(call, match):
    with pytest.raises(ValidationError, match=match):
        call()


def test_max_delivery_minutes_log_formula():
    assert tracer.max_delivery_minutes(3.0) == pytest.approx(109.7 * math.log2(3.0))


@given(
    a=st.floats(min_value=0, max_value=600, allow_nan=False),
    b=st.floats(min_value=0, max_value=600, allow_nan=False),
)
def test_decay_factor_is_multiplicative(a, b):
    assert tracer.decay_factor(a + b) == pytest.approx(
        tracer.decay_factor(a) * tracer.decay_factor(b), rel=1e-9
    )
    assert tracer.max_delivery_minutes(tracer.decay_factor(a)) == pytest.approx(a, abs=1e-6)
