"""The package's shape: no import cycle between its modules, and no file over 800 lines.

Both checks apply to :data:`SCOPE`: the whole package (a folder such as
``netplan/optimise`` narrows them).

Which imports count. An edge ``a -> b`` is an import of module ``b`` written in ``a``:
at module level (also inside ``try`` or a plain ``if``) and inside functions and
methods, which run later but still need ``b`` importable from ``a``'s code. Imports under
``if TYPE_CHECKING:`` never run (annotations are strings under ``from __future__ import
annotations``), so they cannot break an import: the runtime check leaves them out. They
still state a dependency, and a circle of dependencies can hide behind them (the one
between ``placement.py`` and ``_assign``, ``_decompose`` and ``_master`` ran only through
them and imports inside functions), so a second, stricter check counts them too. The
packages Python initialises on the way to a submodule are not edges: otherwise every
``__init__`` that re-exports its submodules would close a cycle with each of them.
``from pkg import name`` is an edge to ``pkg.name`` when that is a module, else to
``pkg``. Cycles are looked for over the whole ``netplan`` package and reported when they
pass through a module in :data:`SCOPE`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "netplan"
# the part of the package both checks apply to; "netplan" for the whole package
SCOPE = "netplan"
MAX_LINES = 800


# ---------------------------------------------------------------------- modules and imports
def module_names(root: Path, package: str) -> dict[str, Path]:
    """Dotted name -> file of every module of ``package`` (a folder under ``root``)."""
    out = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    """``TYPE_CHECKING`` or ``typing.TYPE_CHECKING`` (the test of an ``if``)."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def imports(
    path: Path, name: str, known: Iterable[str], *, type_checking: bool = False
) -> set[str]:
    """Modules of the package that the module ``name`` (file ``path``) imports.

    Counts imports anywhere in the file (module level, functions, methods) except in the
    body of ``if TYPE_CHECKING:`` (unless ``type_checking``); relative imports are resolved
    against ``name``.
    """
    known = set(known)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    top = name.split(".")[0]
    found: set[str] = set()

    def resolve(base: str, names: list[str]) -> None:
        for alias in names:
            sub = f"{base}.{alias}" if base else alias
            found.add(sub if sub in known else base)

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test) and not type_checking:
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            resolve(target, [alias.name for alias in node.names])
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return {m for m in found if m == top or m.startswith(top + ".")}


def import_graph(
    modules: Mapping[str, Path], *, type_checking: bool = False
) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports (see :func:`imports`; no
    self-edges from ``from . import x`` in an ``__init__``)."""
    graph = {}
    for name, path in modules.items():
        edges = imports(path, name, modules, type_checking=type_checking) & set(modules)
        graph[name] = edges - {name} if path.name == "__init__.py" else edges
    return graph


# ---------------------------------------------------------------------- cycles
def find_cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """One cycle ``[a, b, ..., a]`` per strongly connected component that has one.

    Tarjan's algorithm, then the shortest cycle through the component's first node (in
    sorted order), so the report is stable.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    cycles = []
    for component in sorted(components):
        members = set(component)
        start = component[0]
        if len(component) == 1 and start not in set(graph.get(start, ())):
            continue
        # breadth-first from start back to start, inside the component
        previous: dict[str, str] = {}
        frontier = [start]
        while frontier and start not in previous:
            nxt = []
            for v in frontier:
                for w in sorted(graph.get(v, ())):
                    if w in members and w not in previous:
                        previous[w] = v
                        nxt.append(w)
            frontier = nxt
        path = [start]
        while len(path) == 1 or path[-1] != start:
            path.append(previous[path[-1]])
        cycles.append(path[::-1])
    return cycles


def in_scope(name: str, scope: str) -> bool:
    """Whether the dotted module ``name`` lies in the folder ``scope`` (e.g. "netplan/x")."""
    dotted = scope.replace("/", ".")
    return name == dotted or name.startswith(dotted + ".")


def long_files(folder: Path, max_lines: int) -> dict[str, int]:
    """Python files under ``folder`` (relative to its parent's parent) longer than
    ``max_lines`` lines, with their line counts."""
    out = {}
    for path in sorted(folder.rglob("*.py")):
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > max_lines:
            out[path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)] = n
    return out


# ---------------------------------------------------------------------- the checks
@pytest.mark.parametrize("type_checking", [False, True], ids=["runtime", "with_type_checking"])
@pytest.mark.parametrize("scope", [SCOPE])
def test_no_import_cycles(scope: str, type_checking: bool) -> None:
    graph = import_graph(module_names(ROOT, PACKAGE), type_checking=type_checking)
    assert any(in_scope(m, scope) for m in graph), f"no module in {scope}"
    cycles = [c for c in find_cycles(graph) if any(in_scope(m, scope) for m in c)]
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("scope", [SCOPE])
def test_no_file_over_max_lines(scope: str) -> None:
    folder = ROOT / scope
    assert any(folder.rglob("*.py")), f"no Python file in {scope}"
    too_long = long_files(folder, MAX_LINES)
    assert not too_long, f"files over {MAX_LINES} lines: " + ", ".join(
        f"{path} ({n})" for path, n in too_long.items()
    )


# ---------------------------------------------------------------------- the checkers
def test_find_cycles_on_small_graphs() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}, "f": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"], ["e", "e"]]
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": set(), "d": {"a", "c"}}) == []
    # two cycles through one node form one component: the shortest is reported
    assert find_cycles({"x": {"y", "z"}, "y": {"x"}, "z": {"y"}}) == [["x", "y", "x"]]


def write_package(root: Path, files: dict[str, str]) -> dict[str, Path]:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return module_names(root, "pkg")


def test_imports_are_resolved_and_type_checking_ones_left_out(tmp_path: Path) -> None:
    modules = write_package(
        tmp_path,
        {
            "pkg/__init__.py": "from .sub import core\nfrom . import tools\n",
            "pkg/tools.py": "import os\nimport pkg.sub.core\n",
            "pkg/sub/__init__.py": "",
            "pkg/sub/core.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from .model import Model\n"
                "else:\n    from . import helpers\n"
            ),
            "pkg/sub/helpers.py": "def f():\n    from .model import Model\n    return Model\n",
            "pkg/sub/model.py": "from .. import tools\nfrom ..tools import os\n",
        },
    )
    graph = import_graph(modules)
    assert graph == {
        "pkg": {"pkg.sub.core", "pkg.tools"},
        "pkg.tools": {"pkg.sub.core"},
        "pkg.sub": set(),
        "pkg.sub.core": {"pkg.sub.helpers"},
        "pkg.sub.helpers": {"pkg.sub.model"},
        "pkg.sub.model": {"pkg.tools"},
    }
    # the import inside helpers.f closes the cycle; without it there is none
    cycle = ["pkg.sub.core", "pkg.sub.helpers", "pkg.sub.model", "pkg.tools", "pkg.sub.core"]
    assert find_cycles(graph) == [cycle]
    assert find_cycles({**graph, "pkg.sub.helpers": set()}) == []
    # counting TYPE_CHECKING imports adds core -> model, a shorter cycle
    strict = import_graph(modules, type_checking=True)
    assert strict["pkg.sub.core"] == {"pkg.sub.helpers", "pkg.sub.model"}
    assert find_cycles(strict) == [["pkg.sub.core", "pkg.sub.model", "pkg.tools", "pkg.sub.core"]]


def test_long_files_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "short.py").write_text("x = 1\n" * MAX_LINES, encoding="utf-8")
    (tmp_path / "long.py").write_text("x = 1\n" * (MAX_LINES + 1), encoding="utf-8")
    assert long_files(tmp_path, MAX_LINES) == {str(tmp_path / "long.py"): MAX_LINES + 1}
