"""The project's own files: dependency lists in step, console script, no mirror paths."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from PyPI's
CONDA_TO_PYPI = {"pyosmium": "osmium", "matplotlib-base": "matplotlib", "python-build": "build"}
CONDA_ONLY = {"python", "pip", "nodejs"}


def _name(spec: str) -> str:
    return re.split(r"[<>=!~\[ ;]", spec.strip(), maxsplit=1)[0].lower()


def _bounds(spec: str) -> str:
    return spec.strip()[len(_name(spec)) :].replace(" ", "")


def test_environment_yml_names_the_same_packages_as_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pypi = {_name(s): _bounds(s) for s in project["dependencies"]}
    pypi.update({_name(s): _bounds(s) for s in project["optional-dependencies"]["test"]})
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {}
    for item in env["dependencies"]:
        if isinstance(item, str):
            name = _name(item)
            if name not in CONDA_ONLY:
                conda[CONDA_TO_PYPI.get(name, name)] = _bounds(item.split("#")[0])
    assert set(conda) == set(pypi)
    for name, bounds in pypi.items():
        assert conda[name] == bounds, f"{name}: pyproject {bounds} vs environment.yml {conda[name]}"


def test_every_dependency_has_an_upper_bound() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for spec in project["dependencies"] + project["optional-dependencies"]["test"]:
        assert "<" in spec, f"{spec} has no upper bound"


def test_console_script_is_the_package_cli() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert config["project"]["scripts"]["netplan"] == "netplan.cli:main"
    assert "py-modules" not in config["tool"]["setuptools"]  # no top-level `cli` module


def test_library_never_names_the_mirror_folder() -> None:
    for path in (ROOT / "netplan").rglob("*.py"):
        text = path.read_text()
        assert "shared/data" not in text, path
        assert "/work/" not in text, path
