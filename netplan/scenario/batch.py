"""Many scenarios at once: shared inputs built once, runs spread over an executor.

A sweep or a comparison is a list of independent runs. :func:`run_scenarios` groups them by
:func:`inputs_key` (the settings steps 1-4 of a run read: network, demand, sites,
cyclotrons and the drive-time reach), builds each group's inputs once in this process
(:func:`shared_inputs`: road graph, zone demand, candidate sites, cyclotrons and the two
drive-time tables), and runs the placement and capacity steps of every scenario as one task
of :func:`netplan.executors.map_tasks` (with ``warm_start``, the first scenario of each
group first, then the others, whose placement starts from the first's plan). The results
come back as
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


def _run_task(
    item: tuple[Scenario, str, Any], shared: dict[str, tuple[Any, ...]]
) -> ScenarioResult:
    scenario, key, start = item
    return run_scenario(scenario, inputs=shared[key], start=start)


def _plan(result: ScenarioResult) -> Any:
    """A run's plan as a start for the next runs (``PlacementModel.solve(start=)``): its
    cost plan when a travel stage followed, else its sites."""
    import pandas as pd

    cols = ["site_id", "static_scanners", "mobile_days_per_week"]
    cost_plan = ((result.provenance or {}).get("travel") or {}).get("cost_plan_sites")
    if cost_plan is not None:
        return pd.DataFrame(cost_plan, columns=cols)
    return pd.DataFrame(result.sites[cols])


def run_scenarios(
    scenarios: Sequence[Scenario],
    *,
    executor: str = "serial",
    scheduler: str | None = None,
    workers: int | None = None,
    dask_processes: bool = True,
    on_done: executors.OnDone | None = None,
    warm_start: bool = False,
) -> list[ScenarioResult]:
    """Run every scenario, sharing inputs between those that can, on ``executor``.

    Parameters
    ----------
    scenarios
        The runs (e.g. :func:`netplan.scenario.sweep_variants`).
    executor, scheduler, workers, dask_processes, on_done
        As :func:`netplan.executors.map_tasks`.
    warm_start
        Run the first scenario of each set of shared inputs first and start the others'
        placement from its plan (``PlacementModel.solve(start=)``): same optima, proven
        sooner when the plans are close (``benchmarks/bench_warm_start.py``). The start is
        always the first run's plan, so every executor gives the same results, but among
        plans of equal cost a run may return another one than on its own (Rutland at 30
        minutes keeps the 20-minute plan, mean drive 6.6 min, where on its own it gets
        another of the same cost, 9.1 min). False (default): every run from scratch, all
        at once, each the same as on its own.

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
    n = len(scenarios)
    lead = sorted({k: i for i, k in reversed(list(enumerate(keys)))}.values())
    if not warm_start or len(lead) == n:
        lead = list(range(n))
    rest = sorted(set(range(n)) - set(lead))
    out: list[Any] = [None] * n
    starts: dict[str, Any] = {}
    for batch in (lead, rest):
        if not batch:
            continue
        done = n - len(batch) if batch is rest else 0

        def report(k: int, _total: int, label: str, done: int = done) -> None:
            if on_done is not None:
                on_done(done + k, n, label)

        items = [(scenarios[i], keys[i], starts.get(keys[i])) for i in batch]
        results = executors.map_tasks(
            _run_task,
            items,
            shared=shared,
            executor=executor,
            scheduler=scheduler,
            workers=workers,
            dask_processes=dask_processes,
            labels=[scenarios[i].name for i in batch],
            on_done=report,
        )
        for i, res in zip(batch, results, strict=True):
            out[i] = res
            if warm_start:
                starts.setdefault(keys[i], _plan(res))
    return out
