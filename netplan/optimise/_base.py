"""Shared machinery of the optimisation models: status values, solvers, defaults.

Every model in :mod:`netplan.optimise` solves through the helpers here so that status,
MIP gap and run time mean the same thing for every model and solver:

* ``Status.OPTIMAL``: the solver proved optimality (relative gap at most
  :data:`OPTIMAL_GAP`, HiGHS's default tolerance);
* ``Status.FEASIBLE``: a solution was found but not proven optimal (time limit, or a MIP
  gap above :data:`OPTIMAL_GAP` was accepted); the gap is reported;
* ``Status.INFEASIBLE``, ``Status.UNBOUNDED``, ``Status.NOT_SOLVED`` (no solution in time)
  and ``Status.ERROR``.
"""

from __future__ import annotations

import logging
import math
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import pulp

from .. import settings
from .._errors import InfeasibleError, SolverError, ValidationError

logger = logging.getLogger(__name__)

#: Largest relative MIP gap still reported as optimal (HiGHS's default ``mip_rel_gap``).
OPTIMAL_GAP = 1e-4

SOLVERS = ("cbc", "highs")


class Status(str, Enum):
    """Outcome of a solve (string valued, so ``status == "optimal"`` works)."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    NOT_SOLVED = "not_solved"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class SolveInfo:
    """What a solver call returned (internal)."""

    status: Status
    objective: float
    mip_gap: float | None
    runtime_s: float
    solver_status: str
    dual_bound: float = math.nan


def default(key: str) -> Any:
    """Return a documented default from ``netplan/defaults.yaml`` (dotted key)."""
    from .. import defaults

    return defaults.get(key)


def check_solver(solver: str) -> str:
    """Normalise a solver name; raise ValidationError listing the allowed names."""
    name = str(solver).lower().strip()
    if name not in SOLVERS:
        msg = f"unknown solver {solver!r}; choose one of {list(SOLVERS)}"
        raise ValidationError(msg)
    return name


def relative_gap(objective: float, bound: float) -> float:
    """Relative gap |obj - bound| / max(|obj|, 1e-10) as HiGHS and CBC define it."""
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return math.inf
    return abs(objective - bound) / max(abs(objective), 1e-10)


def status_from_gap(gap: float | None, *, proven: bool) -> Status:
    """OPTIMAL when the solver proved optimality within OPTIMAL_GAP, else FEASIBLE."""
    if proven and (gap is None or gap <= OPTIMAL_GAP + 1e-12):
        return Status.OPTIMAL
    return Status.FEASIBLE


def _parse_cbc_log(text: str) -> tuple[float | None, float | None, float | None]:
    """Return (objective, best bound, gap) from a CBC log, None where not printed."""

    def grab(pattern: str) -> float | None:
        found = re.findall(pattern, text)
        if not found:
            return None
        try:
            return float(found[-1])
        except ValueError:
            return None

    objective = grab(r"Objective value:\s*(\S+)")
    bound = grab(r"Lower bound:\s*(\S+)")
    gap = grab(r"Gap:\s*(\S+)")
    return objective, bound, gap


_CBC_STOP = (2.0, 30.0)  # CBC is stopped at 2 x its time limit + 30 s


def solve_pulp(
    prob: pulp.LpProblem,
    *,
    solver: str = "cbc",
    time_limit_s: float | None = None,
    mip_gap: float | None = None,
    threads: int | None = None,
) -> SolveInfo:
    """Solve a PuLP problem with CBC or HiGHS and map the outcome to :class:`Status`.

    Parameters
    ----------
    prob
        The PuLP problem.
    solver
        {"cbc", "highs"}: CBC through ``pulp.PULP_CBC_CMD``, HiGHS through ``pulp.HiGHS``.
    time_limit_s
        Wall-clock limit; default ``netplan.settings.solver_time_limit_s``. CBC does not
        check it during presolve and the root LP, so a CBC still running at twice the
        limit plus 30 s is stopped (:class:`SolverError`).
    mip_gap
        Relative MIP gap at which the solver may stop; default the solver's own.
    threads
        Solver threads; default the solver's own.

    Returns
    -------
    info
        Status, objective value, relative MIP gap (None when unknown), run time.

    Raises
    ------
    SolverError
        If the solver cannot be run, or CBC had to be stopped past its time limit.
    """
    name = check_solver(solver)
    limit = settings.solver_time_limit_s if time_limit_s is None else float(time_limit_s)
    log_path = workdir = None
    if name == "cbc":
        # CBC's files (model, solution, log) in a folder of our own, removed whatever
        # happens: a stopped CBC would leave PuLP's files behind
        workdir = tempfile.mkdtemp(prefix="netplan-cbc-")
        log_path = os.path.join(workdir, "cbc.log")
        kwargs: dict[str, Any] = {"msg": False, "timeLimit": limit, "logPath": log_path}
        if mip_gap is not None:
            kwargs["gapRel"] = float(mip_gap)
        if threads is not None:
            kwargs["threads"] = int(threads)
        cmd: Any = pulp.PULP_CBC_CMD(**kwargs)
        cmd.tmpDir = workdir
    else:
        cmd = pulp.HiGHS(msg=False, timeLimit=limit, gapRel=mip_gap, threads=threads)
    start = time.perf_counter()
    stopped: list[int] = []
    firing = threading.Event()
    watchdog = None
    if name == "cbc":
        # CBC checks its limit only between nodes: on a large model its presolve and root
        # LP can run for many times the limit (England unmerged: 12 min on a 60 s limit)
        grace = _CBC_STOP[0] * limit + _CBC_STOP[1]

        def stop() -> None:
            firing.set()  # before the kill: CBC's failure may reach prob.solve first
            stopped.extend(stop_children(cmd.path))

        watchdog = threading.Timer(grace, stop)
        watchdog.daemon = True
        watchdog.start()
    try:
        prob.solve(cmd)
    except pulp.PulpSolverError as exc:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
        if watchdog is not None and firing.is_set():
            watchdog.join(timeout=10.0)  # let it record what it stopped
        if stopped:
            msg = (
                f"cbc did not stop at its {limit:g} s time limit on model {prob.name!r} and "
                f"was stopped after {time.perf_counter() - start:.0f} s, without a solution "
                "(CBC does not check the limit during presolve and the root LP); use "
                "solver='highs' or a longer time limit."
            )
            raise SolverError(msg) from exc
        msg = f"{name} failed on model {prob.name!r}: {exc}"  # pragma: no cover - no binary
        raise SolverError(msg) from exc
    finally:
        runtime_s = time.perf_counter() - start
        if watchdog is not None:
            watchdog.cancel()
    solver_status = pulp.LpStatus.get(prob.status, str(prob.status))
    objective = pulp.value(prob.objective)
    objective = float(objective) if objective is not None else math.nan
    gap: float | None = None
    if name == "cbc" and log_path is not None and workdir is not None:
        try:
            with open(log_path, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        _, bound, gap = _parse_cbc_log(text)
        if gap is None and bound is not None:
            gap = relative_gap(objective, bound)
    elif name == "highs":
        highs = getattr(prob, "solverModel", None)
        if highs is not None and prob.isMIP():
            info = highs.getInfo()
            gap = float(info.mip_gap) if math.isfinite(info.mip_gap) else math.inf
    if prob.sol_status == pulp.LpSolutionOptimal:
        status = status_from_gap(gap, proven=True)
        if gap is None:
            gap = 0.0
    elif prob.sol_status == pulp.LpSolutionIntegerFeasible:
        status = Status.FEASIBLE
    elif prob.status == pulp.LpStatusInfeasible:
        status = Status.INFEASIBLE
    elif prob.status == pulp.LpStatusUnbounded:
        status = Status.UNBOUNDED
    elif prob.status == pulp.LpStatusNotSolved:
        status = Status.NOT_SOLVED
    else:
        status = Status.ERROR
    logger.info(
        "%s: %s with %s in %.2f s (objective %s, gap %s)",
        prob.name,
        status,
        name,
        runtime_s,
        objective,
        gap,
    )
    return SolveInfo(status, objective, gap, runtime_s, solver_status)


def stop_children(executable: str) -> list[int]:
    """Terminate this process's child processes running ``executable``; their pids.

    Reads ``/proc`` (Linux); elsewhere nothing is stopped.
    """
    target = os.path.realpath(executable)
    me = os.getpid()
    out: list[int] = []
    proc = Path("/proc")
    if not proc.is_dir():  # pragma: no cover - not Linux
        return out
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # "pid (command) state ppid ...": the command may hold spaces and brackets
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid != me or os.path.realpath(entry / "exe") != target:
                continue
            os.kill(int(entry.name), signal.SIGTERM)
        except (OSError, ValueError, IndexError):  # gone meanwhile, or not ours to read
            continue
        out.append(int(entry.name))
    if out:
        logger.warning("stopped %s (pid %s): past its time limit", executable, out)
    return out


def raise_for_status(info: SolveInfo, *, model: str, hint: str) -> None:
    """Raise InfeasibleError / SolverError when a solve produced no usable solution."""
    if info.status in (Status.OPTIMAL, Status.FEASIBLE):
        return
    if info.status == Status.INFEASIBLE:
        msg = f"{model} is infeasible (solver status {info.solver_status!r}). {hint}"
        raise InfeasibleError(msg, info.solver_status)
    msg = (
        f"{model}: solver stopped without a solution (status {info.status}, solver status "
        f"{info.solver_status!r}); raise the time limit or relax the model."
    )
    raise SolverError(msg)


def safe_name(prefix: str, position: int, label: object) -> str:
    """A PuLP-safe, unique variable name built from an id."""
    text = re.sub(r"[^A-Za-z0-9_]", "_", str(label))[:40]
    return f"{prefix}_{position}_{text}"
