"""netplan as users install it: build the sdist and wheel, install the wheel in a fresh
virtualenv outside the repository and run the shipped Rutland scenario from there.

The fresh environment gets netplan only from the wheel; its dependencies (numpy, geopandas,
...) are those of the environment running the tests, reached through a ``.pth`` line, so
the test needs no download beyond the build backend (PyPI, cached by pip after the first
run). Every check runs from a folder outside the repository with ``PYTHONPATH`` unset.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

from netplan import settings

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = [
    "netplan/_shipped/data/catalogue.yaml",
    "netplan/_shipped/data/contract_sites.csv",
    "netplan/_shipped/data/cyclotrons.csv",
    "netplan/_shipped/data/icb_lots.csv",
    "netplan/_shipped/data/README.md",
    "netplan/_shipped/scenarios/rutland_small.yaml",
    "netplan/_shipped/scenarios/england.yaml",
    "netplan/defaults.yaml",
    "netplan/profiles.yaml",
    "netplan/templates/report.html.j2",
    "netplan/templates/comparison.html.j2",
    "netplan/templates/_base.css",
    "netplan/py.typed",
    "netplan/__main__.py",
    "netplan/cli.py",
]
_SKIP = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "outputs", "artifacts",
    ".pytest_cache", ".ruff_cache", "notebooks",
)  # fmt: skip


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: int = 300) -> str:
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert proc.returncode == 0, f"{cmd} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sdist and the wheel built from it (``python -m build``), from a copy of the tree."""
    base = tmp_path_factory.mktemp("build")
    src = base / "src"
    shutil.copytree(ROOT, src, symlinks=True, ignore=_SKIP)
    out = base / "dist"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(src)], cwd=base, env=env)
    return {
        "sdist": next(out.glob("netplan-*.tar.gz")),
        "wheel": next(out.glob("netplan-*.whl")),
    }


def test_wheel_and_sdist_hold_everything_a_run_needs(dists: dict[str, Path]) -> None:
    names = set(zipfile.ZipFile(dists["wheel"]).namelist())
    missing = [n for n in SHIPPED if n not in names]
    assert not missing, f"wheel lacks {missing}"
    assert "cli.py" not in names  # no top-level module called `cli`
    assert not [n for n in names if n.startswith("tests/")]
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "netplan = netplan.cli:main" in zipfile.ZipFile(dists["wheel"]).read(entry).decode()
    with tarfile.open(dists["sdist"]) as tar:
        members = {m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name}
        links = [m.name for m in tar.getmembers() if m.issym()]
    missing = [n for n in SHIPPED if n not in members]
    assert not missing, f"sdist lacks {missing}"
    assert not links, f"sdist keeps symbolic links {links}"


@pytest.fixture(scope="module")
def venv(dists: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv outside the repository with the wheel installed (no netplan else)."""
    home = tmp_path_factory.mktemp("user")
    env_dir = home / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    purelib = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    )  # fmt: skip
    # the dependencies of the test environment, after the venv's own packages
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (purelib / "_netplan_test_deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    env = _env(home)
    _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "--quiet", str(dists["wheel"])],
        cwd=home, env=env,
    )  # fmt: skip
    return env_dir


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env.update(
        HOME=str(home),
        NETPLAN_CACHE=str(settings.cache_folder),
        NETPLAN_DATA_MIRROR=str(settings.data_mirror),
        NETPLAN_ASSETS=str(settings.assets_folder),
        MPLBACKEND="Agg",
    )
    return env


def test_installed_netplan_is_the_wheel(venv: Path) -> None:
    home = venv.parent
    out = _run(
        [str(venv / "bin" / "python"), "-c",
         "import netplan, netplan.data as d; print(netplan.__file__); print(d.CATALOGUE_FILE)"],
        cwd=home, env=_env(home),
    )  # fmt: skip
    module, catalogue = out.split()
    assert Path(module).is_relative_to(venv)
    assert Path(catalogue).is_relative_to(venv)
    assert Path(catalogue).is_file()
    proc = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import cli"],
        cwd=home, env=_env(home), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode != 0
    assert "No module named 'cli'" in proc.stderr


def test_python_m_netplan_help(venv: Path) -> None:
    home = venv.parent
    text = _run([str(venv / "bin" / "python"), "-m", "netplan", "--help"], cwd=home, env=_env(home))
    for command in ("run", "compare", "sweep", "traveltimes", "isochrones", "data"):
        assert command in text
    assert "netplan" in _run([str(venv / "bin" / "netplan"), "--version"], cwd=home, env=_env(home))


def test_installed_netplan_runs_the_shipped_rutland_scenario(venv: Path) -> None:
    home = venv.parent
    env = _env(home)
    shipped = _run(
        [str(venv / "bin" / "python"), "-c",
         "from netplan.scenario import shipped; print(shipped()['rutland_small'])"],
        cwd=home, env=env,
    ).strip()  # fmt: skip
    assert Path(shipped).is_relative_to(venv)
    out = home / "my-first-run"
    stdout = _run(
        [str(venv / "bin" / "netplan"), "run", shipped, "--out", str(out)], cwd=home, env=env
    )
    assert f"report: {out / 'report.html'}" in stdout
    for name in ("report.html", "map.html", "sites.csv", "summary.csv", "scenario.resolved.yaml"):
        assert (out / name).is_file(), name
    # a shipped scenario is also found by its name alone
    source = _run(
        [str(venv / "bin" / "python"), "-c",
         "import netplan; print(netplan.Scenario.from_yaml('rutland_small').source)"],
        cwd=home, env=env,
    ).strip()  # fmt: skip
    assert source == shipped
