"""Executors: serial, local processes and dask.distributed give the same results in order."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import pytest

from netplan import ValidationError, executors, report
from netplan.scenario import Scenario, sweep_variants
from netplan.scenario.batch import inputs_key, run_scenarios

SMALL = Path(__file__).resolve().parents[1] / "scenarios" / "rutland_small.yaml"


def _power(item: int, shared: dict[str, int]) -> int:
    """A task: ``item ** p + offset`` (module level, so workers can unpickle it)."""
    return item ** shared["p"] + shared["offset"]


def _fail_on_three(item: int, shared: None) -> int:
    if item == 3:
        msg = f"task {item} is bad on purpose"
        raise ValidationError(msg)
    return item


def _cache_folder(item: int, shared: None) -> str:
    from netplan import settings

    return str(settings.cache_folder)


@pytest.mark.parametrize(
    ("executor", "options"),
    [("serial", {}), ("processes", {"workers": 2}), ("dask", {"dask_processes": False})],
)
def test_results_come_back_in_item_order_with_progress(executor: str, options: dict) -> None:
    done: list[tuple[int, int, str]] = []
    items = [5, 1, 4, 2, 3, 0]
    out = executors.map_tasks(
        _power,
        items,
        shared={"p": 3, "offset": 7},
        executor=executor,
        labels=[f"n={i}" for i in items],
        on_done=lambda d, n, label: done.append((d, n, label)),
        **options,
    )
    assert out == [132, 8, 71, 15, 34, 7]
    assert [d for d, _, _ in done] == [1, 2, 3, 4, 5, 6]
    assert {n for _, n, _ in done} == {6}
    assert sorted(label for _, _, label in done) == sorted(f"n={i}" for i in items)


@pytest.mark.parametrize(
    ("executor", "options"),
    [("serial", {}), ("processes", {"workers": 2}), ("dask", {"dask_processes": False})],
)
def test_a_failing_task_raises_its_own_error(executor: str, options: dict) -> None:
    with pytest.raises(ValidationError, match="task 3 is bad on purpose"):
        executors.map_tasks(_fail_on_three, [1, 2, 3, 4], executor=executor, **options)


def test_local_workers_use_this_process_cache_folder() -> None:
    from netplan import settings

    out = executors.map_tasks(_cache_folder, [0, 1], executor="processes", workers=2)
    assert out == [str(settings.cache_folder)] * 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"executor": "threads"}, "executor must be one of"),
        ({"executor": "serial", "scheduler": "tcp://x:8786"}, "needs --executor dask"),
        ({"executor": "serial", "workers": 0}, "workers must be >= 1"),
    ],
)
def test_bad_executor_options_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        executors.map_tasks(_power, [1], shared={"p": 1, "offset": 0}, **kwargs)


def test_no_items_no_work() -> None:
    assert executors.map_tasks(_power, [], executor="dask") == []


def test_inputs_key_separates_what_changes_the_inputs() -> None:
    base = Scenario.from_yaml(SMALL)
    changes = [("drive_minutes", 45), ("fleet.mobile_units", 3), ("costs.mobile_gbp_per_day", 1)]
    same = [base.with_overrides({k: v}) for k, v in changes]
    assert {inputs_key(s) for s in same} == {inputs_key(base)}
    other = [base.with_overrides({k: v}) for k, v in
             [("drive_minutes", 120), ("demand.rate_per_1000", 3.0),
              ("cyclotrons.backup_minutes", 300), ("network.calibration", 0.9)]]  # fmt: skip
    keys = {inputs_key(s) for s in other}
    assert len(keys) == 4
    assert inputs_key(base) not in keys


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_dask_local_cluster_writes_the_serial_comparison_byte_for_byte(tmp_path: Path) -> None:
    """The must-show check: a LocalCluster of 2 workers (threads: processes=False, as the
    machine is small; the processes executor is checked in the slow test below)."""
    variants = sweep_variants(Scenario.from_yaml(SMALL), ["drive_minutes=20,30"])
    plain = [v.run() for v in variants]
    serial = run_scenarios(variants, executor="serial")
    dask = run_scenarios(variants, executor="dask", workers=2, dask_processes=False)
    files = {}
    for name, results in (("plain", plain), ("serial", serial), ("dask", dask)):
        paths = report.write_comparison(results, tmp_path / name, title="Sweep")
        files[name] = paths["comparison_csv"]
    table = files["serial"].read_bytes()
    assert files["dask"].read_bytes() == table
    assert files["plain"].read_bytes() == table
    for sub in [v.name for v in variants]:
        for f in ("sites.csv", "zones.csv", "summary.csv", "cyclotrons.csv"):
            assert _sha(tmp_path / "dask" / sub / f) == _sha(tmp_path / "plain" / sub / f)
    # real figures, not just equal ones: every Rutland resident within the 30-min standard
    summary = report.compare(dask)
    assert summary.loc["rutland_small-drive_minutes=30", "share_within_standard"] == 1.0
    assert math.isclose(
        float(summary["demand_scans_per_year"].iloc[0]),
        float(plain[0].zones["scans_per_year"].sum()),
        rel_tol=1e-3,
    )


@pytest.mark.slow
def test_process_executors_write_the_serial_comparison(tmp_path: Path) -> None:
    variants = sweep_variants(Scenario.from_yaml(SMALL), ["drive_minutes=20,30"])
    tables = []
    for executor, kw in (("serial", {}), ("processes", {}), ("dask", {"dask_processes": True})):
        results = run_scenarios(variants, executor=executor, workers=2, **kw)
        paths = report.write_comparison(results, tmp_path / executor)
        tables.append(paths["comparison_csv"].read_bytes())
    assert tables[0] == tables[1] == tables[2]
