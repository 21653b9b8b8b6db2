"""The project's own files: dependency lists in step, console script, no mirror paths."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tomllib
import yaml

from netplan import DataError

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


def test_shipped_files_are_the_repository_folders() -> None:
    from netplan._resources import shipped_path

    for kind in ("data", "scenarios"):
        link = ROOT / "netplan" / "_shipped" / kind
        assert link.is_symlink(), link
        assert link.resolve() == (ROOT / kind).resolve()
        assert shipped_path(kind).resolve() == (ROOT / kind).resolve()
    from netplan.scenario import shipped

    assert set(shipped()) >= {"england", "rutland_small"}


def test_leaflet_is_fetched_into_the_cache_for_an_installed_netplan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64
    import hashlib
    import io
    import tarfile

    from netplan import settings
    from netplan.maps import offline

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in {"leaflet.js": "var L = {};", "leaflet.css": ".leaflet{}"}.items():
            info = tarfile.TarInfo(f"package/dist/{name}")
            info.size = len(text)
            tar.addfile(info, io.BytesIO(text.encode()))
        evil = tarfile.TarInfo("package/../../evil.txt")
        evil.size = 1
        tar.addfile(evil, io.BytesIO(b"x"))
    tgz = tmp_path / "leaflet.tgz"
    tgz.write_bytes(buf.getvalue())
    sha = base64.b64encode(hashlib.sha512(buf.getvalue()).digest()).decode()
    monkeypatch.setattr(settings, "assets_folder", Path("/sys/netplan-assets"))  # not writable
    monkeypatch.setattr(settings, "cache_folder", tmp_path / "cache")
    folder = offline.fetch_leaflet(url=tgz.as_uri(), sha512=sha)
    assert folder == tmp_path / "cache" / "assets"
    assert offline.leaflet_assets() == ("var L = {};", ".leaflet{}")
    assert not (tmp_path / "evil.txt").exists()
    with pytest.raises(DataError, match="sha512 differs"):
        offline.fetch_leaflet(url=tgz.as_uri())
