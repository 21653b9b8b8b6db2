"""The analyst notebooks run top to bottom on the offline mirror and are committed clean.

Each notebook is executed with nbclient in a fresh ``python3`` kernel (the ipykernel of the
interpreter running pytest), with ``notebooks/`` as the working directory, the Agg backend,
the data mirror from the ``mirror`` fixture, a private cache folder shared by the three
notebooks (so the England graph is built once) and no network beyond this machine.
``make notebooks`` runs this file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = [
    "01_networks_and_isochrones.ipynb",
    "02_placement_scenarios.ipynb",
    "03_capacity_and_tracer_supply.ipynb",
]
#: Notebooks that show an interactive (folium) map inline.
WITH_MAP = {"01_networks_and_isochrones.ipynb", "02_placement_scenarios.ipynb"}
CELL_TIMEOUT_S = 600
#: A netplan module followed by a private name (``capacity._decay``) or a private module.
PRIVATE_API = re.compile(
    r"\b(?:npn|netplan|capacity|data|defaults|demand|isochrones|maps|network|optimise|plot"
    r"|report|scenario|settings|sites|tracer|traveltime)\._(?!_)\w|\bnetplan\._(?!_)"
)

#: Functions and classes belong in the library, not in a notebook.
DEFINITION = re.compile(r"^\s*(?:async\s+)?(?:def|class)\s", re.MULTILINE)

#: A code line (not an import) that draws with matplotlib, pandas or netplan.plot.
PLOTS = re.compile(r"^(?!\s*(?:from|import)\b).*\b(?:plt|plot)\.", re.MULTILINE)


def _read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOK_DIR / name, as_version=4)


#: Loaded by the kernels (``sitecustomize``): refuses connections beyond this machine, so a
#: notebook that reaches for the internet fails instead of passing on a connected laptop.
#: The kernel's own ZeroMQ sockets are not Python sockets and are unaffected.
NO_NETWORK = """
import socket

_LOCAL = {"127.0.0.1", "::1", "localhost"}
_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex
_getaddrinfo = socket.getaddrinfo


def _check(host):
    if str(host) not in _LOCAL:
        raise OSError(f"network access is blocked in the notebook tests (asked for {host!r})")


def _guarded_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check(address[0])
    return _connect(self, address)


def _guarded_connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check(address[0])
    return _connect_ex(self, address)


def _guarded_getaddrinfo(host, *args, **kwargs):
    if host is not None:
        _check(host)
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect = _guarded_connect
socket.socket.connect_ex = _guarded_connect_ex
socket.getaddrinfo = _guarded_getaddrinfo
"""


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> dict[str, str]:
    """Environment of the notebook kernels: no display, no network, mirror in, own cache."""
    guard = tmp_path_factory.mktemp("no-network")
    (guard / "sitecustomize.py").write_text(NO_NETWORK, encoding="utf-8")
    env = dict(os.environ)
    # the working tree's netplan, whether or not it is pip-installed
    path = [str(guard), str(ROOT), *[p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]]
    env.update(
        {
            "MPLBACKEND": "Agg",
            "NETPLAN_CACHE": str(tmp_path_factory.mktemp("notebook-cache")),
            "NETPLAN_DATA_MIRROR": str(mirror),
            "PYTHONPATH": os.pathsep.join(path),
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        }
    )
    return env


def _run(nb: nbformat.NotebookNode, env: dict[str, str]) -> nbformat.NotebookNode:
    """Execute a notebook in a fresh python3 kernel with notebooks/ as working directory."""
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    return client.execute(env=env)  # raises CellExecutionError, naming the cell, on failure


def test_kernels_have_no_network(kernel_env: dict[str, str]) -> None:
    probe = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "import socket\n"
                "try:\n"
                "    socket.create_connection(('pypi.org', 443), timeout=5)\n"
                "    outcome = 'connected'\n"
                "except OSError as exc:\n"
                "    outcome = str(exc)\n"
                "print(outcome)"
            )
        ]
    )
    _run(probe, kernel_env)
    assert "network access is blocked" in probe.cells[0].outputs[0]["text"]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_committed_without_outputs(name: str) -> None:
    nb = _read(name)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{name} has no code cells"
    dirty = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.outputs or c.execution_count is not None)
    ]
    assert dirty == [], f"{name}: cells {dirty} keep outputs; strip them before committing"
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_opens_with_question_and_ends_with_findings(name: str) -> None:
    nb = _read(name)
    first, last = nb.cells[0], nb.cells[-1]
    assert first.cell_type == "markdown"
    assert first.source.startswith("# ")
    assert "question" in first.source.lower()
    assert last.cell_type == "markdown"
    assert last.source.startswith("## What we found")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_uses_only_the_public_api(name: str) -> None:
    nb = _read(name)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            hit = PRIVATE_API.search(cell.source)
            assert hit is None, f"{name} cell {i} uses a private name: {hit.group(0)!r}"
            assert not DEFINITION.search(cell.source), f"{name} cell {i} defines library logic"


def test_notebooks_readme_links_every_notebook() -> None:
    text = (NOTEBOOK_DIR / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)]+\.ipynb)\)", text)
    assert sorted(links) == NOTEBOOKS
    assert sorted(p.name for p in NOTEBOOK_DIR.glob("*.ipynb")) == NOTEBOOKS


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_top_to_bottom(name: str, kernel_env: dict[str, str], tmp_path: Path) -> None:
    nb = _read(name)
    _run(nb, kernel_env)
    # keep the executed copy for a look when something is off
    nbformat.write(nb, tmp_path / name)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    drawing = [i for i, c in enumerate(code) if PLOTS.search(c.source)]
    assert drawing, f"{name} draws no figure"
    blank = [
        i for i in drawing if not any("image/png" in o.get("data", {}) for o in code[i].outputs)
    ]
    assert blank == [], f"{name}: code cells {blank} draw a figure that is not shown"
    errors = [out for c in code for out in c.outputs if out.output_type == "error"]
    assert errors == []
    if name in WITH_MAP:
        html = [
            out["data"]["text/html"]
            for c in code
            for out in c.outputs
            if "text/html" in out.get("data", {})
        ]
        assert any("leaflet" in h.lower() for h in html), f"{name} shows no inline folium map"
