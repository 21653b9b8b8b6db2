"""The command line as a person meets it: -v/-q anywhere, exit statuses, help defaults,
stage lines without a terminal, quiet third-party loggers, ``run --set``, ``validate``,
``defaults`` and shell completion."""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import yaml

from cli import build_parser, main
from netplan import _cli_support, defaults, settings
from netplan.scenario import _RUN_STEPS

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "scenarios" / "rutland_small.yaml"


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "NETPLAN_CACHE": str(settings.cache_folder),
        "NETPLAN_DATA_MIRROR": str(settings.data_mirror),
    }


def test_verbosity_is_accepted_before_and_after_the_command() -> None:
    parser = build_parser()
    for argv, level in [
        (["-v", "run", "x.yaml", "--out", "o"], 1),
        (["run", "x.yaml", "--out", "o", "-v"], 1),
        (["-v", "run", "x.yaml", "-v", "--out", "o"], 2),
        (["run", "x.yaml", "--out", "o", "-q"], -1),
        (["data", "fetch", "-vv"], 2),
        (["run", "x.yaml", "--out", "o"], 0),
    ]:
        assert _cli_support.verbosity(parser.parse_args(argv)) == level, argv


def test_a_malformed_command_line_exits_1_with_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", "--frobnicate"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("netplan run: error: ")
    assert main([]) == 1
    assert "COMMAND" in capsys.readouterr().err


def test_help_shows_defaults_and_a_plain_percent(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["isochrones", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "simplify tolerance (m) (default: 50.0)" in text
    assert "corridor half-width (m) (default: 100.0)" in text
    # an option whose text already names its default is not told twice
    assert "fail (default), keep or drop them (default" not in text
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "18 % saving" in text
    assert "%%" not in text


def test_run_set_overrides_one_key_and_refuses_a_sweep(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    argv = ["run", str(SMALL), "--out", str(out), "--set", "drive_minutes=25", "-q"]
    assert main(argv) == 0
    resolved = yaml.safe_load((out / "scenario.resolved.yaml").read_text(encoding="utf-8"))
    assert resolved["drive_minutes"] == 25
    assert "within 25 min" in capsys.readouterr().out
    bad = ["run", str(SMALL), "--out", str(tmp_path / "x"), "--set", "drive_minutes=20,30"]
    assert main(bad) == 1
    err = capsys.readouterr().err
    assert "netplan sweep" in err
    assert not (tmp_path / "x").exists()
    assert main(["run", str(SMALL), "--out", str(tmp_path / "y"), "--set", "drive_minute=2"]) == 1
    assert "did you mean 'drive_minutes'" in capsys.readouterr().err


def test_validate_counts_the_study_area_without_solving(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from netplan import data

    lsoas = data.load_lsoa_zones("E")
    rutland = lsoas[lsoas["name"].str.startswith("Rutland")]
    assert main(["validate", str(SMALL)]) == 0
    out = capsys.readouterr().out
    assert f"{len(rutland):,} zones, population {int(rutland['population'].sum()):,}" in out
    assert "3 candidate sites, 1 cyclotron(s)" in out
    assert main(["validate", str(SMALL), "--set", "sites.forbid=[NOWHERE1]"]) == 1
    assert "'NOWHERE1'" in capsys.readouterr().err
    assert (
        main(
            [
                "validate",
                str(SMALL),
                "--drive-times",
                "--set",
                "drive_minutes=1",
                "--set",
                "allow_uncovered=false",
            ]
        )
        == 1
    )
    assert "drive_minutes = 1 cannot be met" in capsys.readouterr().err


def test_defaults_prints_every_documented_assumption(capsys: pytest.CaptureFixture[str]) -> None:
    table = defaults.describe()
    assert main(["defaults"]) == 0
    out = capsys.readouterr().out
    for row in table.itertuples(index=False):
        assert f"{row.key} = {row.value}" in out
    assert f"{len(table)} default(s)" in out
    capital = defaults.get("costs.static_scanner_capital_gbp")
    assert main(["defaults", "--section", "costs", "--csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("section,key,value,unit,source")
    assert len(lines) == 1 + int((table["section"] == "costs").sum())
    assert any(
        line.startswith(f"costs,costs.static_scanner_capital_gbp,{capital},") for line in lines
    )


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completion_completes_commands_and_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["completion", "bash"]) == 0
    script = tmp_path / "netplan.bash"
    script.write_text(capsys.readouterr().out, encoding="utf-8")
    probe = (
        f"source {script}\n"
        't() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); COMPREPLY=(); '
        '_netplan_complete; echo "${COMPREPLY[*]}"; }\n'
        "t netplan va\nt netplan data f\nt netplan run x --fo\nt netplan -v sweep x --se\n"
    )
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True)
    got = [sorted(line.split()) for line in done.stdout.splitlines()]
    assert got == [["validate", "validate-times"], ["fetch"], ["--force"], ["--set"]]


def test_without_a_terminal_each_stage_prints_one_line_with_its_time(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "netplan", "run", str(SMALL), "--out", str(out)],
        capture_output=True,  # stdout and stderr are pipes, as with `| cat`
        text=True,
        env=_env(),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    for step in _RUN_STEPS:
        found = [
            ln for ln in lines if re.fullmatch(rf"\d\d:\d\d:\d\d netplan: {step}: \d+\.\d s", ln)
        ]
        assert len(found) == 1, (step, proc.stderr)
    assert any(re.search(r"netplan: outputs: \d+ files in \d+\.\d s", ln) for ln in lines)
    assert not any(ln.startswith(("INFO", "DEBUG")) or " INFO " in ln for ln in lines)
    assert "\r" not in proc.stderr  # no progress bar
    quiet = subprocess.run(
        [sys.executable, "-m", "netplan", "run", str(SMALL), "--out", str(out), "-q"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
    )
    assert quiet.returncode == 0
    assert quiet.stderr == ""


def test_logging_quiets_third_parties_and_rewords_the_highs_interrupt(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with _cli_support.logging_for(1, stage_lines=True, bar=False):
        logging.getLogger("pyogrio._io").info("Created 23 records")
        logging.getLogger("netplan.demo").info("netplan detail")
        logging.getLogger("netplan.optimise._decompose").info(
            "decomposition round %d: %s, bound", 3, "Interrupted by user"
        )
        with warnings.catch_warnings():  # pytest turns warnings into errors otherwise
            warnings.simplefilter("default")
            warnings.warn("sites: 1 point(s) snapped more than 5 km", UserWarning, stacklevel=1)
    err = capsys.readouterr().err
    assert " WARNING netplan: sites: 1 point(s) snapped more than 5 km\n" in err
    assert "UserWarning" not in err
    assert "Created 23 records" not in err
    assert "netplan detail" in err
    assert "decomposition round 3: stopped by netplan's callback to add cuts, bound" in err
    assert "Interrupted by user" not in err
    # everything is restored afterwards
    assert logging.getLogger("netplan").level == logging.NOTSET
    assert not logging.getLogger("netplan.optimise._decompose").filters


def test_progress_mode() -> None:
    assert _cli_support.progress_mode(0, tty=True) == (True, False)
    assert _cli_support.progress_mode(0, tty=False) == (False, True)
    assert _cli_support.progress_mode(1, tty=True) == (True, True)
    assert _cli_support.progress_mode(-1, tty=False) == (False, False)
