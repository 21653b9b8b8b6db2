"""Run independent tasks serially, in local processes, or on a Dask cluster.

:func:`map_tasks` is the one engine behind every multi-run command (``sweep``, ``compare``,
``uncertainty``; a later ``rollout`` can use it the same way): it calls ``fn(item, shared)``
for every item and returns the results **in the order of the items**, whatever order the
tasks finish in, so the outputs written from them are the same bytes for every executor.

``shared`` is computed once by the caller (for a sweep: the road graph, the zone demand, the
candidate sites and the drive-time tables) and sent once to each worker:

``serial``
    One task after another in this process (the default; nothing is copied).
``processes``
    A :class:`concurrent.futures.ProcessPoolExecutor` of ``workers`` processes (default: the
    CPU count); ``shared`` is pickled once per worker through the pool's initializer.
``dask``
    A ``dask.distributed`` client: to the scheduler at ``scheduler`` (``tcp://host:8786``,
    an existing cluster) or, without one, a ``LocalCluster`` of ``workers`` single-threaded
    worker processes (``dask_processes=False``: threads in this process). ``shared`` is
    scattered to every worker once (``Client.scatter(..., broadcast=True)``) and each task
    receives the future, not a copy. Local workers (processes, a ``LocalCluster``) use this
process's :mod:`netplan.settings` (cache folder, data mirror); the workers of an existing
cluster use their own (``NETPLAN_CACHE``, ``NETPLAN_DATA_MIRROR`` on each machine).
Install with ``pip install "netplan[dask]"``.

The library logs one INFO line per finished task (``task 3/12 done: <label> (12.3 s)``) and
calls ``on_done(done, total, label)`` when given, which the command line uses for its
progress bar. An exception in a task (a :class:`netplan.NetplanError` for a user's mistake)
is raised here, as in a serial run.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from ._errors import ValidationError

logger = logging.getLogger(__name__)

#: The executors :func:`map_tasks` accepts.
EXECUTORS = ("serial", "processes", "dask")

OnDone = Callable[[int, int, str], None]

# the shared inputs of a worker process (set once by the pool's initializer)
_WORKER_SHARED: Any = None


def check_executor(executor: str, scheduler: str | None = None) -> str:
    """Return ``executor`` if it is known (and dask is importable when asked for).

    Raises
    ------
    ValidationError
        For an unknown executor, a ``scheduler`` without ``executor="dask"``, or
        ``"dask"`` when ``dask.distributed`` is not installed (with the install command).
    """
    if executor not in EXECUTORS:
        msg = f"executor must be one of {list(EXECUTORS)}, got {executor!r}"
        raise ValidationError(msg)
    if scheduler is not None and executor != "dask":
        msg = f"--scheduler {scheduler} needs --executor dask (got --executor {executor})"
        raise ValidationError(msg)
    if executor == "dask":
        try:
            import distributed  # noqa: F401
        except ImportError:
            msg = (
                "--executor dask needs dask.distributed; install it with "
                '`pip install "netplan[dask]"` (or `pip install "dask[distributed]"`)'
            )
            raise ValidationError(msg) from None
    return executor


def default_workers() -> int:
    """Workers used when none are given: the CPUs this process may use (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


_SETTINGS = ("cache_folder", "data_mirror", "assets_folder", "solver_time_limit_s")


def _local_settings() -> dict[str, Any]:
    """This process's :mod:`netplan.settings` (a local worker uses the same folders)."""
    from . import settings

    return {name: getattr(settings, name) for name in _SETTINGS}


def _apply_settings(values: dict[str, Any] | None) -> None:
    if values:
        from . import settings

        for name, value in values.items():
            setattr(settings, name, value)


def _init_worker(shared: Any, values: dict[str, Any]) -> None:
    global _WORKER_SHARED
    _WORKER_SHARED = shared
    _apply_settings(values)


def _call_in_worker(fn: Callable[[Any, Any], Any], item: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(item, _WORKER_SHARED)
    return out, time.perf_counter() - t0


def _timed(
    fn: Callable[[Any, Any], Any], item: Any, shared: Any, values: dict[str, Any] | None = None
) -> tuple[Any, float]:
    _apply_settings(values)
    t0 = time.perf_counter()
    out = fn(item, shared)
    return out, time.perf_counter() - t0


def map_tasks(
    fn: Callable[[Any, Any], Any],
    items: Sequence[Any],
    *,
    shared: Any = None,
    executor: str = "serial",
    scheduler: str | None = None,
    workers: int | None = None,
    dask_processes: bool = True,
    labels: Sequence[str] | None = None,
    on_done: OnDone | None = None,
) -> list[Any]:
    """Return ``[fn(item, shared) for item in items]``, run on the chosen executor.

    Parameters
    ----------
    fn
        A module-level function (it is pickled for ``processes`` and ``dask``).
    items
        One task each; the results keep their order.
    shared
        Inputs every task reads, computed once by the caller and sent once per worker.
    executor
        {"serial", "processes", "dask"}.
    scheduler
        Address of an existing ``dask.distributed`` scheduler (only with ``"dask"``).
    workers
        Worker processes for ``processes`` and for the local Dask cluster (default:
        :func:`default_workers`, never more than the tasks).
    dask_processes
        With a local Dask cluster: worker processes (True) or threads in this process.
    labels
        A name per item for the progress log (default: its index).
    on_done
        Called as ``on_done(done, total, label)`` after each task finishes.

    Returns
    -------
    list
        The results in the order of ``items``.

    Raises
    ------
    ValidationError
        For a bad executor (see :func:`check_executor`) or ``workers < 1``.
    """
    check_executor(executor, scheduler)
    items = list(items)
    labels = [str(i) for i in range(len(items))] if labels is None else list(labels)
    if len(labels) != len(items):
        msg = f"map_tasks: {len(labels)} labels for {len(items)} items"
        raise ValidationError(msg)
    if workers is not None and int(workers) < 1:
        msg = f"workers must be >= 1, got {workers!r}"
        raise ValidationError(msg)
    n = len(items)
    if n == 0:
        return []
    nworkers = min(n, int(workers) if workers is not None else default_workers())
    done = 0

    def finished(i: int, seconds: float) -> None:
        nonlocal done
        done += 1
        logger.info("task %d/%d done: %s (%.1f s)", done, n, labels[i], seconds)
        if on_done is not None:
            on_done(done, n, labels[i])

    t0 = time.perf_counter()
    results: list[Any] = [None] * n
    if executor == "serial":
        for i, item in enumerate(items):
            results[i], dt = _timed(fn, item, shared)
            finished(i, dt)
    elif executor == "processes":
        results = _run_processes(fn, items, shared, nworkers, finished)
    else:
        results = _run_dask(fn, items, shared, scheduler, nworkers, dask_processes, finished)
    logger.info(
        "%d task(s) on %s%s in %.1f s",
        n,
        executor,
        "" if executor == "serial" else f" ({scheduler or f'{nworkers} workers'})",
        time.perf_counter() - t0,
    )
    return results


def _run_processes(
    fn: Callable[[Any, Any], Any],
    items: list[Any],
    shared: Any,
    nworkers: int,
    finished: Callable[[int, float], None],
) -> list[Any]:
    import multiprocessing as mp
    from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait

    # forkserver (spawn where it does not exist): never fork a process that runs threads
    method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
    results: list[Any] = [None] * len(items)
    with ProcessPoolExecutor(
        max_workers=nworkers,
        mp_context=mp.get_context(method),
        initializer=_init_worker,
        initargs=(shared, _local_settings()),
    ) as pool:
        futures = {pool.submit(_call_in_worker, fn, item): i for i, item in enumerate(items)}
        pending = set(futures)
        while pending:
            ready, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for fut in ready:
                i = futures[fut]
                exc = fut.exception()
                if exc is not None:
                    for other in pending:
                        other.cancel()
                    raise exc
                results[i], dt = fut.result()
                finished(i, dt)
    return results


def _run_dask(
    fn: Callable[[Any, Any], Any],
    items: list[Any],
    shared: Any,
    scheduler: str | None,
    nworkers: int,
    processes: bool,
    finished: Callable[[int, float], None],
) -> list[Any]:
    import uuid

    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=nworkers,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=None,
        )
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout="30s")
        except OSError as exc:
            msg = f"--scheduler {scheduler}: cannot reach a dask scheduler there ({exc})"
            raise ValidationError(msg) from None
    token = uuid.uuid4().hex[:8]  # keys unique on a cluster other clients use too
    try:
        shared_future = client.scatter(shared, broadcast=True) if shared is not None else None
        # a local cluster uses this process's folders; a remote one its own environment
        values = _local_settings() if cluster is not None else None
        futures = [
            client.submit(
                _timed, fn, item, shared_future, values, pure=False, key=f"netplan-{token}-{i}"
            )
            for i, item in enumerate(items)
        ]
        index = {f.key: i for i, f in enumerate(futures)}
        results: list[Any] = [None] * len(items)
        for fut in as_completed(futures):
            i = index[fut.key]
            results[i], dt = fut.result()
            finished(i, dt)
            fut.release()
        return results
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
