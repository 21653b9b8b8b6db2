"""Every command line the notebooks show exists: its options parse and its --help runs.

Commands are taken from code cells (``!netplan ...``, ``%sx netplan ...``), fenced blocks
of markdown cells and inline code of markdown cells (```netplan run ... --set ...```).
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
_INLINE = re.compile(r"`([^`\n]*\bnetplan\s+[a-z][^`\n]*)`")
_FENCE = re.compile(r"```[a-z]*\n(.*?)```", re.DOTALL)
_LAUNCHERS = ("python -m netplan", "python cli.py", "netplan")


def _command(line: str) -> list[str] | None:
    """``["run", "x.yaml", ...]`` of a shell line that calls netplan, else None."""
    line = line.strip().lstrip("!$ ").removeprefix("%sx ").strip()
    for launcher in _LAUNCHERS:
        if line.startswith(launcher + " "):
            words = shlex.split(line[len(launcher) :], comments=True)
            return words or None
    return None


def shown_commands(path: Path) -> list[list[str]]:
    """The netplan command lines a notebook shows, in order."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    found = []
    for cell in cells:
        text = "".join(cell["source"])
        if cell["cell_type"] == "code":
            lines = [ln for ln in text.splitlines() if ln.lstrip().startswith(("!", "%sx"))]
        else:
            lines = [ln for block in _FENCE.findall(text) for ln in block.splitlines()]
            lines += _INLINE.findall(_FENCE.sub("", text))
        found += [c for c in map(_command, lines) if c]
    return found


def _subcommand_path(words: list[str]) -> list[str]:
    """The leading subcommand words of ``words`` (``data fetch``), options skipped."""
    parser, path = build_parser(), []
    for word in words:
        if word.startswith("-"):
            continue
        subs = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
        if not subs or word not in subs[0].choices:
            break
        parser = subs[0].choices[word]
        path.append(word)
    return path


def test_the_notebooks_show_commands() -> None:
    shown = {p.name: shown_commands(p) for p in NOTEBOOKS}
    assert len(NOTEBOOKS) == 3
    # notebook 02 shows `netplan run ... --set` (issue 17: it must exist)
    assert [
        "run",
        "scenarios/england.yaml",
        "--set",
        "drive_minutes=45",
        "--out",
        "outputs/england-45",
    ] in shown["02_placement_scenarios.ipynb"]


@pytest.mark.parametrize(
    "words",
    [pytest.param(c, id=f"{p.stem}:{' '.join(c)}") for p in NOTEBOOKS for c in shown_commands(p)],
)
def test_each_shown_command_parses_and_its_help_runs(
    words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    args = build_parser().parse_args(words)  # unknown options and bad values fail here
    assert callable(args.func)
    path = _subcommand_path(words)
    assert path, words
    with pytest.raises(SystemExit) as done:
        main([*path, "--help"])
    assert done.value.code == 0
    assert f"usage: netplan {' '.join(path)}" in capsys.readouterr().out


def test_a_missing_option_is_caught() -> None:
    """The check would catch a notebook that shows an option netplan does not have."""
    from netplan.cli import _UsageError

    with pytest.raises(_UsageError, match="unrecognized arguments: --sett"):
        build_parser().parse_args(["run", "england", "--out", "o", "--sett", "a=1"])
    assert _command("!netplan run x.yaml --out o  # run it") == ["run", "x.yaml", "--out", "o"]
    assert _command("print('netplan run')") is None
