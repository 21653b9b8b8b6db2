"""Tests of netplan.report.timings: the stage table of a run."""

from __future__ import annotations

from netplan.report.timings import stage_table, timed


def test_stage_table_splits_the_placement() -> None:
    prov = {
        "timings_s": {"network": 1.0, "placement": 10.0, "capacity": 2.0},
        "build_time_s": 3.0,
        "placement_stages_s": [["uncovered_scans", 1.5], ["cost", 4.5]],
    }
    t = stage_table(prov, {"map": 2.0})
    assert t["stage"].tolist() == [
        "network",
        "model build",
        "solve: uncovered_scans",
        "solve: cost",
        "other",
        "capacity",
        "map",
    ]
    assert t["group"].tolist() == ["run", *["placement"] * 4, "run", "write"]
    # placement 10 s = 3 build + 1.5 + 4.5 solve + 1 other; total 1 + 10 + 2 + 2 = 15 s
    assert t["seconds"].tolist() == [1.0, 3.0, 1.5, 4.5, 1.0, 2.0, 2.0]
    assert t["share_pct"].tolist() == [6.7, 20.0, 10.0, 30.0, 6.7, 13.3, 13.3]
    # without stage records the step stays one row
    plain = stage_table({"timings_s": {"placement": 4.0}})
    assert plain[["stage", "share_pct"]].values.tolist() == [["placement", 100.0]]


def test_timed_adds_up() -> None:
    into: dict[str, float] = {}
    with timed(into, "a"):
        pass
    with timed(into, "a"):
        pass
    assert list(into) == ["a"]
    assert 0 <= into["a"] < 1
