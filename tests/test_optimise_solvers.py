"""The solver runner (``netplan.optimise._base``): CBC is stopped when it overruns its limit."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pulp
import pytest

from netplan import SolverError
from netplan.optimise import _base
from netplan.optimise._base import Status, solve_pulp, stop_children

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def market_split(seed: int = 0, rows: int = 4, cols: int = 30) -> pulp.LpProblem:
    """A market-split instance (Cornuejols and Dawande 1998): hard for branch and bound,
    CBC runs it to any time limit of a minute or less."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 100, (rows, cols))
    prob = pulp.LpProblem("market_split", pulp.LpMinimize)
    x = [pulp.LpVariable(f"x{j}", cat="Binary") for j in range(cols)]
    over = [pulp.LpVariable(f"over{i}", lowBound=0) for i in range(rows)]
    under = [pulp.LpVariable(f"under{i}", lowBound=0) for i in range(rows)]
    prob += pulp.lpSum(over) + pulp.lpSum(under)
    for i in range(rows):
        total = pulp.lpSum(int(a[i, j]) * x[j] for j in range(cols))
        prob += total + under[i] - over[i] == int(a[i].sum() // 2)
    return prob


@linux
def test_stop_children_terminates_only_that_executable() -> None:
    sleep = shutil.which("sleep")
    assert sleep is not None
    child = subprocess.Popen([sleep, "30"])
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(0.2)  # let exec finish so /proc shows the new executable
        assert stop_children(sleep) == [child.pid]
        assert child.wait(timeout=5) != 0  # terminated, not finished
        assert other.poll() is None  # a child running something else is left alone
        assert stop_children(sleep) == []
    finally:
        other.kill()
        other.wait()
        child.kill()
        child.wait()


@linux
def test_cbc_is_stopped_when_it_overruns(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # stop at 0 x limit + 1 s: well before CBC's own 30 s limit, as if it had ignored it
    monkeypatch.setattr(_base, "_CBC_STOP", (0.0, 1.0))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    start = time.perf_counter()
    with pytest.raises(SolverError, match=r"did not stop at its 30 s time limit.*'market_split'"):
        solve_pulp(market_split(), solver="cbc", time_limit_s=30, threads=1)
    assert time.perf_counter() - start < 10
    assert list(tmp_path.iterdir()) == []  # CBC's model, solution and log files removed


def test_cbc_within_its_limit_is_left_to_finish(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # the default watchdog (2 x 2 s + 30 s) never fires: CBC stops itself at 2 s
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    start = time.perf_counter()
    info = solve_pulp(market_split(), solver="cbc", time_limit_s=2, threads=1)
    assert time.perf_counter() - start < 15
    assert info.status in (Status.FEASIBLE, Status.NOT_SOLVED)
    assert info.status != Status.OPTIMAL
    assert list(tmp_path.iterdir()) == []
