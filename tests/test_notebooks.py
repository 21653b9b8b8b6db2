"""The analyst notebooks run top to bottom on the offline mirror and are committed clean.

Each notebook is executed with nbclient in a fresh ``python3`` kernel (the ipykernel of the
interpreter running pytest), with ``notebooks/`` as the working directory, the Agg backend,
the data mirror from the ``mirror`` fixture and a private cache folder shared by the three
notebooks (so the England graph is built once). ``make notebooks`` runs this file.
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


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> dict[str, str]:
    """Environment of the notebook kernels: no display, mirror in, a private cache."""
    env = dict(os.environ)
    path = [str(ROOT), *[p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]]
    env.update(
        {
            "MPLBACKEND": "Agg",
            "NETPLAN_CACHE": str(tmp_path_factory.mktemp("notebook-cache")),
            "NETPLAN_DATA_MIRROR": str(mirror),
            # the working tree's netplan, whether or not it is pip-installed
            "PYTHONPATH": os.pathsep.join(path),
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        }
    )
    return env


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


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_top_to_bottom(name: str, kernel_env: dict[str, str], tmp_path: Path) -> None:
    nb = _read(name)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    client.execute(env=kernel_env)  # raises CellExecutionError, naming the cell, on failure
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
    if name.startswith("01_"):
        html = [
            out["data"]["text/html"]
            for c in code
            for out in c.outputs
            if "text/html" in out.get("data", {})
        ]
        assert any("leaflet" in h.lower() for h in html), "01 shows no inline folium map"
