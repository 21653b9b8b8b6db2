"""Bad inputs at the command line, as an analyst would stumble: one table, every command.

Each case writes its files into a fresh folder, runs ``netplan ...`` (``cli.main``) there
and asserts the exit status (1 for every user mistake, a malformed command line included), exactly
one error line that names the file, row, key or option, no traceback, and that nothing in
the folder changed (no file written, removed or modified; no output folder created).
A few cases run as a real process (``python -m netplan``) to prove the same on stderr.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cli import main
from netplan import report, settings

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "scenarios" / "rutland_small.yaml"

POINTS = "id,lon,lat\nOAK,-0.727,52.670\nUPP,-0.723,52.587\n"
SITES = "id,lon,lat\nEMP,-0.596,52.668\n"
OBSERVED = (
    "origin_lon,origin_lat,destination_lon,destination_lat,minutes\n"
    "-0.727,52.670,-0.596,52.668,12\n"
)
REF = "origin_id,destination_id,minutes\nOAK,EMP,12\n"
MARKER = report.MARKER


def scen(body: str = "") -> str:
    """A scenario file that extends the shipped Rutland one."""
    return f"extends: {SMALL}\n{body}"


@dataclass(frozen=True)
class Case:
    id: str
    argv: list[str]
    expect: str  # must appear in the one error line
    files: dict[str, str | bytes] = field(default_factory=dict)
    status: int = 1
    prepare: Callable[[Path], None] | None = None


def _tt(*extra: str) -> list[str]:
    return ["traveltimes", "--network", "rutland", "--origins", "o.csv",
            "--destinations", "d.csv", "--out", "od.csv", *extra]  # fmt: skip


def _iso(*extra: str) -> list[str]:
    return ["isochrones", "--network", "rutland", "--sites", "s.csv", *extra]


def _run(scenario: str = "s.yaml", out: str = "out", *extra: str) -> list[str]:
    return ["run", scenario, "--out", out, *extra]


PTS = {"o.csv": POINTS, "d.csv": SITES}


def _marked(folder: str, files: dict[str, str]) -> Callable[[Path], None]:
    """Make ``folder`` look like a netplan output folder owning ``files`` (given sha256s)."""

    def make(root: Path) -> None:
        import hashlib
        import json

        out = root / folder
        out.mkdir()
        owned = {}
        for rel, text in files.items():
            (out / rel).write_text(text, encoding="utf-8")
            owned[rel] = hashlib.sha256(text.encode()).hexdigest()
        doc = {"written_by": "netplan", "marker_version": 2, "folder": folder, "files": owned}
        (out / MARKER).write_text(json.dumps(doc), encoding="utf-8")

    return make


def _foreign(folder: str) -> Callable[[Path], None]:
    def make(root: Path) -> None:
        (root / folder).mkdir()
        (root / folder / "thesis.docx").write_text("keep me", encoding="utf-8")

    return make


CASES = [
    # ---------------------------------------------------------------- scenario values
    Case("yaml-bool-yes-for-number", _run(), "drive_minutes: Input should be a valid number",
         {"s.yaml": scen("drive_minutes: yes\n")}),
    Case("yaml-bool-no-for-number", _run(), "YAML reads yes/no/on/off/true/false as a boolean",
         {"s.yaml": scen("drive_minutes: no\n")}),
    Case("yaml-bool-on-for-integer", _run(), "fleet.mobile_units: Input should be a valid integer",
         {"s.yaml": scen("fleet: {mobile_units: on}\n")}),
    Case("yaml-bool-for-cost", _run(), "costs.mobile_gbp_per_day: Input should be a valid number",
         {"s.yaml": scen("costs: {mobile_gbp_per_day: true}\n")}),
    Case("duplicate-key", _run(), "line 4: key 'drive_minutes' is given twice",
         {"s.yaml": scen("drive_minutes: 30\nname: x\ndrive_minutes: 45\n")}),
    Case("duplicate-nested-key", _run(), "key 'mobile_units' is given twice",
         {"s.yaml": scen("fleet:\n  mobile_units: 1\n  mobile_units: 2\n")}),
    Case("duplicate-key-in-base", _run(), "base.yaml: line 3: key 'name' is given twice",
         {"base.yaml": scen("name: a\nname: b\n"), "s.yaml": "extends: base.yaml\n"}),
    Case("nan-standard", _run(), "drive_minutes: Input should be a finite number",
         {"s.yaml": scen("drive_minutes: .nan\n")}),
    Case("inf-standard", _run(), "drive_minutes: Input should be a finite number",
         {"s.yaml": scen("drive_minutes: .inf\n")}),
    Case("negative-standard", _run(), "drive_minutes: Input should be greater than 0",
         {"s.yaml": scen("drive_minutes: -5\n")}),
    Case("zero-standard", _run(), "drive_minutes: Input should be greater than 0",
         {"s.yaml": scen("drive_minutes: 0\n")}),
    Case("text-standard", _run(), "drive_minutes: Input should be a valid number",
         {"s.yaml": scen("drive_minutes: thirty\n")}),
    Case("list-standard", _run(), "drive_minutes: Input should be a valid number",
         {"s.yaml": scen("drive_minutes: [30, 60]\n")}),
    Case("negative-fleet", _run(), "fleet.mobile_units: Input should be greater than or equal to 0",
         {"s.yaml": scen("fleet: {mobile_units: -1}\n")}),
    Case("fractional-fleet", _run(), "fleet.mobile_units: Input should be a valid integer",
         {"s.yaml": scen("fleet: {mobile_units: 2.5}\n")}),
    Case("utilisation-over-one", _run(), "scanners.target_utilisation: Input should be less than",
         {"s.yaml": scen("scanners: {target_utilisation: 1.5}\n")}),
    Case("negative-running-cost", _run(), "costs.static_running_gbp_per_year: Input should be",
         {"s.yaml": scen("costs: {static_running_gbp_per_year: -1}\n")}),
    Case("nan-capital", _run(), "costs.static_scanner_capital_gbp: Input should be a finite",
         {"s.yaml": scen("costs: {static_scanner_capital_gbp: .nan}\n")}),
    Case("negative-speed", _run(), "network.speeds_kph.primary: Input should be greater than 0",
         {"s.yaml": scen("network: {speeds_kph: {primary: -5}}\n")}),
    Case("zero-congestion", _run(), "network.congestion.motorway: Input should be greater than 0",
         {"s.yaml": scen("network: {congestion: {motorway: 0}}\n")}),
    Case("negative-calibration", _run(), "network.calibration: Input should be greater than 0",
         {"s.yaml": scen("network: {calibration: -1}\n")}),
    Case("negative-tracer-share", _run(), "demand.tracer_mix.FDG: Input should be greater than",
         {"s.yaml": scen("demand: {tracer_mix: {FDG: -0.1}}\n")}),
    Case("nan-cyclotron-capacity", _run(), "cyclotrons.capacity_doses_per_day.oakham_cyc",
         {"s.yaml": scen("cyclotrons: {capacity_doses_per_day: {oakham_cyc: .nan}}\n")}),
    Case("negative-target-days", _run(), "turnaround.target_days.0: Input should be greater",
         {"s.yaml": scen("turnaround: {target_days: [-1]}\n")}),
    Case("zero-isochrone", _run(), "outputs.isochrone_minutes: every isochrone threshold",
         {"s.yaml": scen("outputs: {isochrone_minutes: [0]}\n")}),
    Case("zero-time-limit", _run(), "solver.time_limit_s: Input should be greater than 0",
         {"s.yaml": scen("solver: {time_limit_s: 0}\n")}),
    Case("unknown-solver", _run(), "solver.name: Input should be 'highs' or 'cbc'",
         {"s.yaml": scen("solver: {name: gurobi}\n")}),
    Case("unknown-objective", _run(), "objective: Input should be",
         {"s.yaml": scen("objective: cheapest\n")}),
    Case("year-out-of-range", _run(), "demand.year: Input should be greater than or equal to 2000",
         {"s.yaml": scen("demand: {year: 1800}\n")}),
    Case("zero-rate", _run(), "demand.rate_per_1000: Input should be greater than 0",
         {"s.yaml": scen("demand: {rate_per_1000: 0}\n")}),
    Case("bbox-three-numbers", _run(), "demand.area.bbox: List should have at least 4 items",
         {"s.yaml": scen("demand: {area: {bbox: [-1, 52, 0]}}\n")}),
    Case("p-sites-zero", _run(), "p_sites: Input should be greater than or equal to 1",
         {"s.yaml": scen("p_sites: 0\n")}),
    Case("flag-not-a-flag", _run(), "allow_uncovered: Input should be a valid boolean",
         {"s.yaml": scen("allow_uncovered: maybe\n")}),
    Case("name-is-a-list", _run(), "name: Input should be a valid string",
         {"s.yaml": scen("name: [a, b]\n")}),
    Case("extra-site-off-the-map", _run(), "sites.extra.0.lon: Input should be less than",
         {"s.yaml": scen("sites: {extra: [{id: X, name: X, lon: 12, lat: 52.6}]}\n")}),
    Case("extra-site-without-name", _run(), "sites.extra.0.name: Field required",
         {"s.yaml": scen("sites: {extra: [{id: X, lon: -0.7, lat: 52.6}]}\n")}),
    Case("backup-before-primary", _run(), "cyclotrons.backup_minutes (100) must be >=",
         {"s.yaml": scen("cyclotrons: {primary_minutes: 200, backup_minutes: 100}\n")}),
    Case("no-static-no-mobile", _run(), "fleet.allow_static and fleet.allow_mobile cannot both",
         {"s.yaml": scen("fleet: {allow_static: false, allow_mobile: false}\n")}),
    Case("forbid-and-lock", _run(), "are both forbidden and locked open",
         {"s.yaml": scen("sites: {lock_open: [OAKHAM], forbid: [OAKHAM]}\n")}),
    Case("lock-unknown-site", _run(), "sites.lock_open names 1 id(s) that are not candidate",
         {"s.yaml": scen("sites: {lock_open: [OAKHAMM]}\n")}),
    Case("lock-id-keeps-its-zeros", _run(), "'007'",
         {"s.yaml": scen("sites: {lock_open: [007]}\n")}),
    # ---------------------------------------------------------------- scenario files
    Case("unknown-key", _run(), "unknown key 'drive_minute'; did you mean 'drive_minutes'?",
         {"s.yaml": scen("drive_minute: 30\n")}),
    Case("unknown-nested-key", _run(), "unknown key 'fleet.mobile_unit'",
         {"s.yaml": scen("fleet: {mobile_unit: 2}\n")}),
    Case("section-not-a-mapping", _run(), "fleet: Input should be a valid dictionary",
         {"s.yaml": scen("fleet: 4\n")}),
    Case("extends-missing", _run(), "named by `extends`", {"s.yaml": "extends: nowhere.yaml\n"}),
    Case("extends-cycle", _run(), "`extends` makes a cycle",
         {"s.yaml": "extends: t.yaml\n", "t.yaml": "extends: s.yaml\n"}),
    Case("extends-not-a-name", _run(), "`extends` must be a file name", {"s.yaml": "extends: 123\n"}),
    Case("scenario-is-a-list", _run(), "a scenario must be a mapping of sections",
         {"s.yaml": "- a\n- b\n"}),
    Case("scenario-is-text", _run(), "a scenario must be a mapping of sections",
         {"s.yaml": "just some words\n"}),
    Case("invalid-yaml", _run(), "s.yaml: not valid YAML: line 3", {"s.yaml": scen("a: [1,\n")}),
    Case("tab-indent", _run(), "s.yaml: not valid YAML", {"s.yaml": scen("fleet:\n\tmobile_units: 1\n")}),
    Case("latin-1-scenario", _run(), "s.yaml: not UTF-8 text: byte 0xe9 at offset",
         {"s.yaml": scen("description: caf\xe9\n").encode("latin-1")}),
    Case("utf-16-scenario", _run(), "s.yaml: not UTF-8 text: byte 0xff at offset 0 (line 1)",
         {"s.yaml": scen("name: x\n").encode("utf-16")}),
    Case("latin-1-base", _run(), "base.yaml: not UTF-8 text",
         {"base.yaml": "description: caf\xe9\n".encode("latin-1"), "s.yaml": "extends: base.yaml\n"}),
    Case("scenario-missing", _run("nope.yaml"), "scenario file nope.yaml not found"),
    Case("scenario-is-a-folder", _run("folder"), "folder is a folder, not a scenario file",
         prepare=lambda root: (root / "folder").mkdir()),
    Case("unknown-network", _run(), "unknown network 'atlantis'",
         {"s.yaml": scen("network: {name: atlantis}\n")}),
    Case("unknown-profile", _run(), "unknown speed profile 'rush_hour'",
         {"s.yaml": scen("network: {profile: rush_hour}\n")}),
    Case("profile-file-duplicate-key", _run(), "p.yaml: line 2: key 'name' is given twice",
         {"s.yaml": scen("network: {profile: p.yaml}\n"), "p.yaml": "name: a\nname: b\n"}),
    Case("profile-file-latin-1", _run(), "p.yaml: not UTF-8 text",
         {"s.yaml": scen("network: {profile: p.yaml}\n"), "p.yaml": "name: caf\xe9\n".encode("latin-1")}),
    # ---------------------------------------------------------------- output folders
    Case("out-is-a-file", _run(out="taken"), "taken exists and is a file",
         {"s.yaml": scen(), "taken": "a file"}),
    Case("out-is-a-file-force", _run("s.yaml", "taken", "--force"), "not even with --force",
         {"s.yaml": scen(), "taken": "a file"}),
    Case("out-under-a-file", _run(out="taken/out"), "taken is a file, not a folder",
         {"s.yaml": scen(), "taken": "a file"}),
    Case("out-not-netplans", _run(out="mine"), "was not written by netplan",
         {"s.yaml": scen()}, prepare=_foreign("mine")),
    Case("out-is-the-working-folder", _run(out="."), "was not written by netplan",
         {"s.yaml": scen()}),
    Case("out-read-only", _run(out="/sys/netplan-out"), "/sys is not writable", {"s.yaml": scen()}),
    Case("out-would-overwrite-users-file", _run(out="run"), "did not write: sites.csv",
         {"s.yaml": scen()},
         prepare=lambda root: _marked("run", {"summary.csv": "old"})(root)
         or (root / "run" / "sites.csv").write_text("the user's own sites")),
    Case("force-would-overwrite-users-file", _run("s.yaml", "mine", "--force"),
         "--force never overwrites them", {"s.yaml": scen()},
         prepare=lambda root: (root / "mine").mkdir() or (root / "mine" / "report.html").write_text("x")),
    Case("out-holds-the-input", _run("run/scenario.resolved.yaml", "run"),
         "is an input of this run", prepare=_marked("run", {"scenario.resolved.yaml": scen()})),
    Case("out-changed-netplan-file", _run(out="run"), "were changed since: sites.csv",
         {"s.yaml": scen()},
         prepare=lambda root: _marked("run", {"sites.csv": "x"})(root)
         or (root / "run" / "sites.csv").write_text("edited")),
    # ---------------------------------------------------------------- compare / sweep
    Case("compare-same-name-twice", ["compare", "s.yaml", "s.yaml", "--out", "c"],
         "scenario name(s) ['s'] given more than once", {"s.yaml": scen("name: s\n")}),
    Case("compare-one-bad", ["compare", "s.yaml", "t.yaml", "--out", "c"], "t.yaml: drive_minutes",
         {"s.yaml": scen(), "t.yaml": scen("drive_minutes: yes\n")}),
    Case("compare-out-is-a-file", ["compare", "s.yaml", "--out", "s.yaml"], "is a file",
         {"s.yaml": scen()}),
    Case("sweep-no-equals", ["sweep", "s.yaml", "--set", "drive_minutes", "--out", "w"],
         "expected KEY=V1,V2", {"s.yaml": scen()}),
    Case("sweep-unknown-key", ["sweep", "s.yaml", "--set", "drive_minute=20", "--out", "w"],
         "did you mean 'drive_minutes'", {"s.yaml": scen()}),
    Case("sweep-bool-value", ["sweep", "s.yaml", "--set", "drive_minutes=yes", "--out", "w"],
         "drive_minutes: Input should be a valid number", {"s.yaml": scen()}),
    Case("sweep-nan-value", ["sweep", "s.yaml", "--set", "drive_minutes=.nan", "--out", "w"],
         "Input should be a finite number", {"s.yaml": scen()}),
    Case("sweep-key-twice", ["sweep", "s.yaml", "--set", "drive_minutes=20",
                             "--set", "drive_minutes=30", "--out", "w"],
         "--set names a key twice", {"s.yaml": scen()}),
    Case("sweep-not-a-section", ["sweep", "s.yaml", "--set", "name.x=1", "--out", "w"],
         "'name' is not a section", {"s.yaml": scen()}),
    Case("sweep-bad-yaml", ["sweep", "s.yaml", "--set", "drive_minutes=[1", "--out", "w"],
         "--set drive_minutes: not valid YAML", {"s.yaml": scen()}),
    # ---------------------------------------------------------------- traveltimes
    Case("tt-negative-max", _tt("--max-minutes", "-5"), "--max-minutes: expected a positive", PTS, 1),
    Case("tt-nan-max", _tt("--max-minutes", "nan"), "--max-minutes: expected a positive", PTS, 1),
    Case("tt-inf-max", _tt("--max-minutes", "inf"), "--max-minutes: expected a positive", PTS, 1),
    Case("tt-zero-max", _tt("--max-minutes", "0"), "--max-minutes: expected a positive", PTS, 1),
    Case("tt-text-max", _tt("--max-minutes", "thirty"), "got 'thirty'", PTS, 1),
    Case("tt-bad-choice", _tt("--on-outside", "ignore"), "argument --on-outside: invalid choice",
         PTS, 1),
    Case("tt-unknown-option", _tt("--max-minuets", "30"), "unrecognized arguments", PTS, 1),
    Case("tt-missing-option", ["traveltimes", "--origins", "o.csv"], "arguments are required", PTS, 1),
    Case("tt-out-is-a-folder", [*_tt()[:-1], "outdir"], "outdir is a folder; give a file name",
         PTS, prepare=lambda root: (root / "outdir").mkdir()),
    Case("tt-out-under-a-file", [*_tt()[:-1], "o.csv/od.csv"], "o.csv is a file, not a folder", PTS),
    Case("tt-out-is-the-input", [*_tt()[:-1], "o.csv"], "is also the input --origins", PTS),
    Case("tt-out-read-only", [*_tt()[:-1], "/sys/od.csv"], "/sys is not writable", PTS),
    Case("tt-origins-missing", _tt(), "--origins file o.csv not found", {"d.csv": SITES}),
    Case("tt-origins-folder", _tt(), "o.csv is a folder, not a --origins file", {"d.csv": SITES},
         prepare=lambda root: (root / "o.csv").mkdir()),
    Case("tt-origins-latin-1", _tt(), "o.csv: not UTF-8 text: byte 0xc9 at offset 14 (line 2)",
         {"o.csv": "id,lon,lat\nSt \xc9tienne,-0.72,52.67\n".encode("latin-1"), "d.csv": SITES}),
    Case("tt-origins-empty", _tt(), "o.csv: the --origins file is empty", {"o.csv": "", "d.csv": SITES}),
    Case("tt-origins-header-only", _tt(), "origins: no points", {"o.csv": "id,lon,lat\n", "d.csv": SITES}),
    Case("tt-origins-no-lat", _tt(), "missing column(s) ['lat']",
         {"o.csv": "id,lon\nA,-0.7\n", "d.csv": SITES}),
    Case("tt-origins-duplicate-id", _tt(), "duplicate 'id' value(s) A",
         {"o.csv": "id,lon,lat\nA,-0.72,52.67\nA,-0.6,52.6\n", "d.csv": SITES}),
    Case("tt-origins-empty-id", _tt(), "empty 'id' in row(s) 1",
         {"o.csv": "id,lon,lat\nA,-0.72,52.67\n,-0.6,52.6\n", "d.csv": SITES}),
    Case("tt-origins-swapped", _tt(), "look like latitude and longitude are swapped",
         {"o.csv": "id,lon,lat\nA,52.67,-0.72\n", "d.csv": SITES}),
    Case("tt-origins-abroad", _tt(), "row(s) A lie outside Great Britain",
         {"o.csv": "id,lon,lat\nA,2.35,48.85\n", "d.csv": SITES}),
    Case("tt-origins-metres", _tt(), "lie outside Great Britain",
         {"o.csv": "id,lon,lat\nA,491000,310000\n", "d.csv": SITES}),
    Case("tt-origins-text-coordinate", _tt(), "'lon' is missing or not a number in row(s) A",
         {"o.csv": "id,lon,lat\nA,west,52.67\n", "d.csv": SITES}),
    Case("tt-origins-missing-coordinate", _tt(), "'lat' is missing or not a number in row(s) A",
         {"o.csv": "id,lon,lat\nA,-0.72,\n", "d.csv": SITES}),
    Case("tt-origins-bad-quotes", _tt(), "o.csv: cannot be read as CSV",
         {"o.csv": 'id,lon,lat\n"A,-0.72,52.67\nB,1,2,3,4\n', "d.csv": SITES}),
    Case("tt-destinations-latin-1", _tt(), "d.csv: not UTF-8 text",
         {"o.csv": POINTS, "d.csv": "id,lon,lat\n\xc9,-0.6,52.6\n".encode("latin-1")}),
    Case("tt-unknown-network", [*_tt()[:1], "--network", "atlantis", *_tt()[3:]],
         "unknown network 'atlantis'", PTS),
    Case("tt-unknown-profile", _tt("--profile", "rush_hour"), "unknown speed profile 'rush_hour'", PTS),
    Case("tt-profile-duplicate-key", _tt("--profile", "p.yaml"), "p.yaml: line 2: key 'name'",
         {**PTS, "p.yaml": "name: a\nname: b\n"}),
    Case("tt-profile-not-a-mapping", _tt("--profile", "p.yaml"), "a speed profile must be a mapping",
         {**PTS, "p.yaml": "- 1\n"}),
    # ---------------------------------------------------------------- isochrones
    Case("iso-nan", _iso("--minutes", "nan", "--out", "i.geojson"), "--minutes: expected a positive",
         {"s.csv": SITES}, 1),
    Case("iso-text", _iso("--minutes", "thirty", "--out", "i.geojson"), "got 'thirty'", {"s.csv": SITES}, 1),
    Case("iso-negative", _iso("--minutes", "30,-10", "--out", "i.geojson"), "got '-10'",
         {"s.csv": SITES}, 1),
    Case("iso-empty", _iso("--minutes", ",", "--out", "i.geojson"), "expected minutes such as 30,60",
         {"s.csv": SITES}, 1),
    Case("iso-inf", _iso("--minutes", "inf", "--out", "i.geojson"), "--minutes", {"s.csv": SITES}, 1),
    Case("iso-zero-buffer", _iso("--buffer-m", "0", "--out", "i.geojson"), "--buffer-m", {"s.csv": SITES}, 1),
    Case("iso-nan-simplify", _iso("--simplify-m", "nan", "--out", "i.geojson"), "--simplify-m",
         {"s.csv": SITES}, 1),
    Case("iso-bad-format", _iso("--out", "i.txt"), "unknown isochrone file format '.txt'", {"s.csv": SITES}),
    Case("iso-out-is-a-folder", _iso("--out", "iso.gpkg"), "iso.gpkg is a folder", {"s.csv": SITES},
         prepare=lambda root: (root / "iso.gpkg").mkdir()),
    Case("iso-out-is-the-input", ["isochrones", "--sites", "s.geojson", "--out", "s.geojson"],
         "is also the input --sites", {"s.geojson": SITES}),
    Case("iso-sites-latin-1", _iso("--out", "i.geojson"), "s.csv: not UTF-8 text",
         {"s.csv": "id,lon,lat\n\xc9,-0.6,52.6\n".encode("latin-1")}),
    Case("iso-sites-no-columns", _iso("--out", "i.geojson"), "missing column(s) ['lon', 'lat']",
         {"s.csv": "id\nA\n"}),
    # ---------------------------------------------------------------- calibrate / validate
    Case("cal-one-fold", ["calibrate", "--network", "rutland", "--observed", "t.csv", "--folds", "1",
                          "--out", "p.yaml"], "--folds: expected a whole number", {"t.csv": OBSERVED}, 1),
    Case("cal-text-folds", ["calibrate", "--observed", "t.csv", "--folds", "x", "--out", "p.yaml"],
         "got 'x'", {"t.csv": OBSERVED}, 1),
    Case("cal-out-format", ["calibrate", "--network", "rutland", "--observed", "t.csv", "--out", "p.txt"],
         "unknown profile format '.txt'", {"t.csv": OBSERVED}),
    Case("cal-observed-missing", ["calibrate", "--network", "rutland", "--observed", "t.csv",
                                  "--out", "p.yaml"], "observed-trips file t.csv not found"),
    Case("cal-negative-minutes", ["calibrate", "--network", "rutland", "--observed", "t.csv",
                                  "--out", "p.yaml"], "'minutes' must be positive numbers; bad at line(s) [2]",
         {"t.csv": OBSERVED.replace(",12\n", ",-12\n")}),
    Case("val-negative-minutes", ["validate-times", "--network", "rutland", "--reference", "r.csv",
                                  "--origins", "o.csv", "--destinations", "d.csv"],
         "r.csv: 1 row(s) have negative, missing or non-finite 'minutes' (row 0: OAK -> EMP",
         {**PTS, "r.csv": REF.replace(",12\n", ",-12\n")}),
    Case("val-nan-minutes", ["validate-times", "--network", "rutland", "--reference", "r.csv",
                             "--origins", "o.csv", "--destinations", "d.csv"],
         "non-finite 'minutes'", {**PTS, "r.csv": REF.replace(",12\n", ",nan\n")}),
    Case("val-missing-columns", ["validate-times", "--network", "rutland", "--reference", "r.csv",
                                 "--origins", "o.csv", "--destinations", "d.csv"],
         "missing column(s) ['minutes']", {**PTS, "r.csv": "origin_id,destination_id\nOAK,EMP\n"}),
    Case("val-unknown-id", ["validate-times", "--network", "rutland", "--reference", "r.csv",
                            "--origins", "o.csv", "--destinations", "d.csv"],
         "destination_id names 1 id(s) not in the destinations: ['XYZ']",
         {**PTS, "r.csv": "origin_id,destination_id,minutes\nOAK,XYZ,12\n"}),
    # ---------------------------------------------------------------- data
    Case("data-unknown-id", ["data", "fetch", "osm-atlantis"], "unknown dataset id 'osm-atlantis'"),
    Case("data-mirror-missing", ["data", "fetch", "osm-leeds", "--mirror", "nowhere"],
         "data mirror folder nowhere does not exist"),
    Case("data-unknown-subcommand", ["data", "refresh"], "invalid choice: 'refresh'", status=1),
    Case("data-assets-bad-url", ["data", "assets", "--dest", "assets", "--url", "file:///nonexistent.tgz"],
         "could not download Leaflet from file:///nonexistent.tgz"),
    Case("data-assets-wrong-file", ["data", "assets", "--dest", "assets", "--url", "file://{root}/l.tgz"],
         "is not leaflet 1.9.4 (sha512 differs); nothing written", {"l.tgz": b"not leaflet"}),
    Case("no-command", [], "the following arguments are required: COMMAND", status=1),
    Case("unknown-command", ["plan"], "invalid choice: 'plan'", status=1),
]  # fmt: skip


def _snapshot(root: Path) -> dict[str, tuple[bytes | None, int]]:
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        out[rel] = (path.read_bytes() if path.is_file() else None, path.stat().st_mode)
    return out


@pytest.fixture
def in_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    monkeypatch.chdir(root)
    return root


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, in_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = in_folder
    for name, content in case.files.items():
        if isinstance(content, bytes):
            (root / name).write_bytes(content)
        else:
            (root / name).write_text(content, encoding="utf-8")
    if case.prepare is not None:
        case.prepare(root)
    before = _snapshot(root)
    argv = [a.replace("{root}", str(root)) for a in case.argv]
    status = main(argv)
    err = capsys.readouterr().err
    assert status == case.status, err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1, err
    assert errors[0].startswith("netplan")
    assert case.expect in errors[0]
    assert _snapshot(root) == before  # nothing the user made changed, nothing written
    assert not [p for p in root.parent.iterdir() if p.name.startswith(".")]  # no temp folders


def test_cases_cover_every_command() -> None:
    commands = {c.argv[0] for c in CASES if c.argv}
    assert commands >= {"run", "compare", "sweep", "traveltimes", "isochrones", "calibrate",
                        "validate-times", "data"}  # fmt: skip
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize(
    ("files", "argv", "status", "expect"),
    [
        ({"s.yaml": scen("drive_minutes: yes\n")}, ["run", "s.yaml", "--out", "o"], 1,
         "drive_minutes: Input should be a valid number"),
        ({"s.yaml": scen("a: 1\na: 2\n").encode()}, ["run", "s.yaml", "--out", "o"], 1,
         "key 'a' is given twice"),
        ({}, ["isochrones", "--sites", "s.csv", "--minutes", "thirty", "--out", "i.gpkg"], 1,
         "got 'thirty'"),
        ({"o.csv": b"id,lon,lat\n\xff,1,2\n"},
         ["traveltimes", "--origins", "o.csv", "--destinations", "o.csv", "--out", "x.csv"], 1,
         "o.csv: not UTF-8 text: byte 0xff at offset 11 (line 2)"),
    ],
    ids=["yaml-bool", "duplicate-key", "minutes-text", "non-utf8-csv"],
)  # fmt: skip
def test_a_real_process_prints_one_line_and_no_traceback(
    tmp_path: Path, files: dict[str, str | bytes], argv: list[str], status: int, expect: str
) -> None:
    for name, content in files.items():
        path = tmp_path / name
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NETPLAN_CACHE": str(settings.cache_folder)}
    proc = subprocess.run(
        [sys.executable, "-m", "netplan", *argv],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == status
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert expect in lines[0]
    assert proc.stdout == ""


def test_ids_come_back_exactly_as_written(in_folder: Path) -> None:
    (in_folder / "o.csv").write_text(
        "id,lon,lat\n007,-0.727,52.670\n1.10,-0.723,52.587\nNA,-0.70,52.60\n", encoding="utf-8"
    )
    (in_folder / "d.csv").write_text("id,lon,lat\n0042,-0.596,52.668\n", encoding="utf-8")
    argv = ["traveltimes", "--network", "rutland", "--origins", "o.csv", "--destinations"]
    assert main([*argv, "d.csv", "--out", "od.csv"]) == 0
    rows = (in_folder / "od.csv").read_text(encoding="utf-8").splitlines()
    assert [r.split(",")[:2] for r in rows[1:]] == [
        ["007", "0042"],
        ["1.10", "0042"],
        ["NA", "0042"],
    ]
    assert main(["isochrones", "--network", "rutland", "--sites", "d.csv", "--minutes", "10",
                 "--out", "iso.geojson"]) == 0  # fmt: skip
    assert '"site_id": "0042"' in (in_folder / "iso.geojson").read_text(encoding="utf-8")
