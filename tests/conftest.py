"""Session fixtures: a private cache folder and the offline data mirror.

The mirror comes from NETPLAN_DATA_MIRROR (the Makefile points it at ../shared/data).
Tests never touch the network unless marked ``network`` and asked for with ``-m network``.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

from netplan import settings


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect opt-in tests (network, slow) unless the -m expression asks for them."""
    markexpr = config.getoption("-m") or ""
    for name in ("network", "slow"):
        if name in markexpr:
            continue
        selected = [i for i in items if name not in i.keywords]
        deselected = [i for i in items if name in i.keywords]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = selected


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The offline data mirror folder (fails, never skips, when it is missing)."""
    value = os.environ.get("NETPLAN_DATA_MIRROR", "")
    path = Path(value) if value else Path(__file__).resolve().parents[2] / "shared" / "data"
    if not (path / "README.md").exists():
        pytest.fail(f"data mirror not found at {path}; set NETPLAN_DATA_MIRROR or run `make test`")
    return path


@pytest.fixture(scope="session", autouse=True)
def _netplan_folders(tmp_path_factory: pytest.TempPathFactory, mirror: Path):
    """Point the cache at a session temp folder and the mirror at the shared data."""
    old = (settings.cache_folder, settings.data_mirror)
    settings.cache_folder = tmp_path_factory.mktemp("netplan-cache")
    settings.data_mirror = mirror
    yield
    settings.cache_folder, settings.data_mirror = old
