"""Tests of the run / compare / sweep commands through ``cli.main([...])``."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cli import main

SMALL = Path(__file__).resolve().parents[1] / "scenarios" / "rutland_small.yaml"


def _variant(folder: Path, name: str, **changes: object) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(
        yaml.safe_dump({"extends": str(SMALL), "name": name, **changes}), encoding="utf-8"
    )
    return path


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "run1"
    assert main(["run", str(SMALL), "--out", str(out)]) == 0
    return out


def test_run_writes_outputs_and_prints_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert main(["run", str(SMALL), "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert f"report: {out / 'report.html'}" in stdout
    assert f"map: {out / 'map.html'}" in stdout
    assert "<ScenarioResult 'rutland_small'" in stdout
    assert (out / "report.html").is_file()
    assert (out / "map.html").is_file()


def test_same_scenario_twice_gives_identical_csvs(first_run: Path, tmp_path: Path) -> None:
    again = tmp_path / "run2"
    assert main(["run", str(SMALL), "--out", str(again)]) == 0
    csvs = sorted(p.name for p in first_run.glob("*.csv"))
    assert csvs == [
        "candidates.csv",
        "coverage.csv",
        "cyclotrons.csv",
        "rota.csv",
        "sites.csv",
        "summary.csv",
        "uncovered.csv",
        "units.csv",
        "zones.csv",
    ]
    for name in csvs:
        assert (first_run / name).read_bytes() == (again / name).read_bytes(), name


def test_rerun_replaces_netplans_files_only(first_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "again"
    assert main(["run", str(SMALL), "--out", str(out)]) == 0
    (out / "notes.txt").write_text("the user's own file", encoding="utf-8")
    scenario = _variant(out, "faster", drive_minutes=20)  # the scenario lives in --out
    assert main(["run", str(scenario), "--out", str(out)]) == 0
    assert (out / "notes.txt").read_text(encoding="utf-8") == "the user's own file"
    assert scenario.is_file()
    assert "faster" in (out / "summary.csv").read_text(encoding="utf-8")


def test_refuses_foreign_folder_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_text("keep me", encoding="utf-8")
    assert main(["run", str(SMALL), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("netplan: error: ")
    assert "--force" in err
    assert "Traceback" not in err
    assert [p.name for p in out.iterdir()] == ["thesis.docx"]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"drive_minute": 30}, "did you mean 'drive_minutes'?"),
        (
            {"fleet": {"mobile_units": "many"}},
            "fleet.mobile_units: Input should be a valid integer",
        ),
        (
            {"sites": {"forbid": ["NOWHERE1"]}},
            "sites.forbid names 1 id(s) that are not candidate sites: 'NOWHERE1'",
        ),
        ({"drive_minutes": 1, "allow_uncovered": False}, "drive_minutes = 1 cannot be met"),
        ({"network": {"name": "atlantis"}}, "unknown network 'atlantis'"),
    ],
    ids=["unknown-key", "wrong-type", "missing-site-id", "infeasible-standard", "bad-network"],
)
def test_bad_scenarios_exit_non_zero_with_one_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], changes: dict, expected: str
) -> None:
    path = _variant(tmp_path, "bad", **changes)
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    # without a terminal the steps done so far print their stage lines first
    assert err.splitlines()[-1].startswith("netplan: error: ")
    assert err.count("error:") == 1
    assert expected in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_compare(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    no_mobile = _variant(tmp_path, "no_mobile", fleet={"mobile_units": 0})
    out = tmp_path / "cmp"
    assert main(["compare", str(SMALL), str(no_mobile), "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert f"comparison: {out / 'comparison.html'}" in stdout
    assert f"no_mobile/report: {out / 'no_mobile' / 'report.html'}" in stdout
    html = (out / "comparison.html").read_text(encoding="utf-8")
    assert "<td>rutland_small</td>" in html
    assert "<td>no_mobile</td>" in html
    assert (out / "rutland_small" / "map.html").is_file()


def test_compare_validates_every_file_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _variant(tmp_path, "bad", objective="cheapest")
    assert main(["compare", str(SMALL), str(bad), "--out", str(tmp_path / "c")]) == 1
    assert "objective: Input should be" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()


def test_sweep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sweep"
    assert main(["sweep", str(SMALL), "--set", "drive_minutes=20,30", "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert "rutland_small-drive_minutes=20" in stdout
    assert (out / "rutland_small-drive_minutes=30" / "report.html").is_file()
    assert (out / "comparison.csv").is_file()
    assert main(["sweep", str(SMALL), "--set", "drive_minute=20", "--out", str(out)]) == 1
    assert "did you mean 'drive_minutes'" in capsys.readouterr().err


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for command in ("run", "compare", "sweep"):
        assert command in text
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert "netplan run scenarios/england.yaml --out outputs/england" in capsys.readouterr().out


@pytest.mark.slow
def test_england_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The default scenario from the command line (opt-in: the national solve takes minutes)."""
    england = SMALL.with_name("england.yaml")
    out = tmp_path / "england"
    assert main(["run", str(england), "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert f"report: {out / 'report.html'}" in stdout
    summary = (out / "summary.csv").read_text(encoding="utf-8").splitlines()
    row = dict(zip(summary[0].split(","), summary[1].split(","), strict=False))
    assert row["zones"] == "32844"
    assert row["population"] == "55977178"  # ONS mid-2018, every English LSOA
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "55,977,178" in html
    # At free-flow times (profile free_flow) the plan is near the contract's scale: about 30
    # sites, 98 % within an hour. Within the 120-s limit the decomposition gets within a few
    # per cent of its bound, not always to a proof (README, "Measured").
    assert row["status"] in {"optimal", "feasible"}
    assert float(row["mip_gap"]) <= 0.05
    assert float(row["share_within_60_min"]) >= 0.98
    assert 25 <= int(row["sites_open"]) <= 50
    resolved = (out / "scenario.resolved.yaml").read_text(encoding="utf-8")
    assert "speed_profile: free_flow" in resolved
