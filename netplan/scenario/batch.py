"""Many scenarios at once: shared inputs built once, runs spread over an executor.

A sweep or a comparison is a list of independent runs. :func:`run_scenarios` groups them by
:func:`inputs_key` (the settings steps 1-4 of a run read: network, demand, sites,
cyclotrons and the drive-time reach), builds each group's inputs once in this process
(:func:`shared_inputs`: road graph, zone demand, candidate sites, cyclotrons and the two
drive-time tables), and runs the placement and capacity steps of every scenario as one task
of :func:`netplan.executors.map_tasks`. The results come back as
:class:`~netplan.scenario.ScenarioResult` in the order given, so
:func:`netplan.report.write_comparison` writes the same bytes for every executor.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from typing import Any

from .. import executors
from .pipeline import _inputs, run_scenario
from .result import ScenarioResult
from .tables import COVERAGE_MINUTES

#: A :class:`netplan.scenario.schema.Scenario` (not imported: the schema is upstream).
Scenario = Any

logger = logging.getLogger("netplan.scenario")

# the sections steps 1-4 of a run read (pipeline._inputs)
_INPUT_SECTIONS = ("network", "demand", "sites", "cyclotrons")


def inputs_key(s: Scenario) -> str:
    """A hash of everything steps 1-4 of a run of ``s`` depend on.

    Two scenarios with the same key have the same graph, zone demand, candidate sites,
    cyclotrons and drive-time tables (the zone table reaches ``max(90, drive_minutes)``
    minutes, the cyclotron table ``cyclotrons.backup_minutes``).
    """
    data = s.to_dict()
    doc = {k: data[k] for k in _INPUT_SECTIONS}
    doc["reach_minutes"] = max(float(max(COVERAGE_MINUTES)), float(s.drive_minutes))
    doc["source"] = str(s.source or "")  # relative network / profile files resolve from it
    text = json.dumps(doc, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def shared_inputs(s: Scenario) -> tuple[Any, ...]:
    """Steps 1-4 of a run of ``s`` (``run_scenario(..., inputs=...)`` takes them).

    The scenario's own ``allow_uncovered`` check is left to each run.
    """
    lenient = s.model_copy(update={"allow_uncovered": True})
    return tuple(_inputs(lenient, {}))


def _run_task(item: tuple[Scenario, str], shared: dict[str, tuple[Any, ...]]) -> ScenarioResult:
    scenario, key = item
    return run_scenario(scenario, inputs=shared[key])


def run_scenarios(
    scenarios: Sequence[Scenario],
    *,
    executor: str = "serial",
    scheduler: str | None = None,
    workers: int | None = None,
    dask_processes: bool = True,
    on_done: executors.OnDone | None = None,
) -> list[ScenarioResult]:
    """Run every scenario, sharing inputs between those that can, on ``executor``.

    Parameters
    ----------
    scenarios
        The runs (e.g. :func:`netplan.scenario.sweep_variants`).
    executor, scheduler, workers, dask_processes, on_done
        As :func:`netplan.executors.map_tasks`.

    Returns
    -------
    list of ScenarioResult
        In the order of ``scenarios``.

    Raises
    ------
    ValidationError
        For a bad executor or scheduler.
    NetplanError
        The error of the first failing run (e.g. an :class:`InfeasibleError`).
    """
    executors.check_executor(executor, scheduler)
    keys = [inputs_key(s) for s in scenarios]
    shared: dict[str, tuple[Any, ...]] = {}
    for s, key in zip(scenarios, keys, strict=True):
        if key not in shared:
            shared[key] = shared_inputs(s)
    logger.info(
        "%d scenario(s), %d set(s) of shared inputs (graph, demand, drive times)",
        len(scenarios),
        len(shared),
    )
    return executors.map_tasks(
        _run_task,
        list(zip(scenarios, keys, strict=True)),
        shared=shared,
        executor=executor,
        scheduler=scheduler,
        workers=workers,
        dask_processes=dask_processes,
        labels=[s.name for s in scenarios],
        on_done=on_done,
    )
