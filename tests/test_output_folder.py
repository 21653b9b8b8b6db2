"""netplan writes only what it owns: output folders, output files, cache files.

Folder rules (netplan.report.folder) on tiny synthetic outputs, then the same rules through
a real ``netplan run``; leftover temporary folders and files; permissions; the self-healing
cache (corrupt graphs and derived files rebuilt, ``data fetch --check``).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from cli import main
from netplan import _io, data, network, report, settings
from netplan._errors import NetplanError, OutputError

SMALL = Path(__file__).resolve().parents[1] / "scenarios" / "rutland_small.yaml"


def _write(folder: Path, files: dict[str, str], **kwargs: object) -> None:
    with report.atomic_folder(folder, **kwargs) as tmp:
        for rel, text in files.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_text(text, encoding="utf-8")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ------------------------------------------------------------------------ the marker
def test_marker_lists_the_files_with_their_checksums(tmp_path: Path) -> None:
    out = tmp_path / "o"
    _write(out, {"a.csv": "1\n", "sub/b.csv": "2\n"})
    owned = report.read_marker(out)
    assert set(owned) == {"a.csv", "sub/b.csv"}
    assert all(len(sha) == 64 for sha in owned.values())
    doc = json.loads((out / report.MARKER).read_text(encoding="utf-8"))
    assert doc["written_by"] == "netplan"
    assert doc["folder"] == "o"


def test_rerun_keeps_every_file_netplan_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "o"
    _write(out, {"a.csv": "1\n", "old.csv": "x\n"})
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "mine").mkdir()
    (out / "mine" / "thesis.docx").write_text("keep", encoding="utf-8")
    _write(out, {"a.csv": "2\n", "new.csv": "3\n"})
    assert _snapshot(out) == {
        report.MARKER: (out / report.MARKER).read_bytes(),
        "a.csv": b"2\n",
        "new.csv": b"3\n",  # old.csv was netplan's and is no longer written: removed
        "notes.txt": b"mine",
        "mine/thesis.docx": b"keep",
    }
    assert set(report.read_marker(out)) == {"a.csv", "new.csv"}


def test_refuses_to_overwrite_a_users_file_even_with_force(tmp_path: Path) -> None:
    out = tmp_path / "o"
    _write(out, {"a.csv": "1\n"})
    (out / "b.csv").write_text("the user's b", encoding="utf-8")
    before = _snapshot(out)
    for force in (False, True):
        with pytest.raises(report.OutputFolderError, match=r"did not write: b\.csv"):
            _write(out, {"a.csv": "2\n", "b.csv": "netplan's b"}, force=force)
        assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]  # no temp folder left


def test_a_changed_netplan_file_is_kept_unless_forced(tmp_path: Path) -> None:
    out = tmp_path / "o"
    _write(out, {"a.csv": "1\n"})
    (out / "a.csv").write_text("edited by hand\n", encoding="utf-8")
    with pytest.raises(report.OutputFolderError, match=r"changed since: a\.csv.*--force"):
        _write(out, {"a.csv": "2\n"})
    assert (out / "a.csv").read_text(encoding="utf-8") == "edited by hand\n"
    _write(out, {"a.csv": "2\n"}, force=True)
    assert (out / "a.csv").read_text(encoding="utf-8") == "2\n"


def test_force_adds_files_to_a_foreign_folder_and_deletes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "work"
    out.mkdir()
    (out / "data.xlsx").write_text("precious", encoding="utf-8")
    with pytest.raises(report.OutputFolderError, match="--force") as info:
        _write(out, {"a.csv": "1\n"})
    assert "nothing already in it is changed or deleted" in str(info.value)
    _write(out, {"a.csv": "1\n"}, force=True)
    _write(out, {"b.csv": "1\n"}, force=True)  # a.csv now netplan's: replaced by b.csv
    assert sorted(_snapshot(out)) == [report.MARKER, "b.csv", "data.xlsx"]
    assert (out / "data.xlsx").read_text(encoding="utf-8") == "precious"


def test_an_input_inside_the_folder_is_never_touched(tmp_path: Path) -> None:
    out = tmp_path / "o"
    _write(out, {"scenario.resolved.yaml": "name: x\n", "a.csv": "1\n"})
    source = out / "scenario.resolved.yaml"  # re-running the resolved scenario of a run
    before = _snapshot(out)
    with pytest.raises(report.OutputFolderError, match="is an input of this run"):
        _write(out, {"scenario.resolved.yaml": "name: y\n"}, inputs=[source])
    with pytest.raises(report.OutputFolderError, match="is an input of this run"):
        _write(out, {"a.csv": "2\n"}, inputs=[source])  # it would be removed as stale
    assert _snapshot(out) == before


def test_an_older_marker_owns_the_names_netplan_wrote(tmp_path: Path) -> None:
    out = tmp_path / "old"
    out.mkdir()
    (out / report.MARKER).write_text('{"written_by": "netplan", "folder": "old"}\n')
    (out / "sites.csv").write_text("old sites", encoding="utf-8")
    (out / "my_notes.md").write_text("mine", encoding="utf-8")
    _write(out, {"sites.csv": "new sites"})
    assert (out / "sites.csv").read_text(encoding="utf-8") == "new sites"
    assert (out / "my_notes.md").read_text(encoding="utf-8") == "mine"


def test_a_file_where_the_folder_should_be_is_never_replaced(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.write_text("a file", encoding="utf-8")
    for force in (False, True):
        with pytest.raises(report.OutputFolderError, match="is a file"):
            report.check_output_folder(target, force=force)
    with pytest.raises(OutputError, match="is a file, not a folder"):
        report.check_output_folder(target / "sub")
    assert target.read_text(encoding="utf-8") == "a file"


def test_unwritable_location_fails_before_any_work() -> None:
    with pytest.raises(OutputError, match="not writable"):
        report.check_output_folder("/sys/netplan-test-output")  # read-only even for root
    with pytest.raises(OutputError, match="not writable"):
        _io.check_output_file(Path("/sys/netplan-test.csv"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_read_only_folder_fails_before_any_work(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(OutputError, match="not writable"):
            report.check_output_folder(ro / "out")
    finally:
        ro.chmod(0o755)


def test_leftovers_of_killed_runs_are_removed(tmp_path: Path) -> None:
    target = tmp_path / "run"
    dead = tmp_path / ".run.tmp-abcd1234"  # an older netplan's temp folder (no owner file)
    dead.mkdir()
    (dead / "report.html").write_text("half", encoding="utf-8")
    killed = tmp_path / ".run.tmp-zzzz9999"  # this netplan's, from a process that is gone
    killed.mkdir()
    (killed / ".netplan-tmp").write_text(f"999999999 {os.uname().nodename}\n")
    alive = tmp_path / ".run.tmp-live0000"  # a run in progress (this process)
    alive.mkdir()
    (alive / ".netplan-tmp").write_text(f"{os.getpid()} {os.uname().nodename}\n")
    unrelated = tmp_path / ".other.tmp-abcd1234"
    unrelated.mkdir()
    _write(target, {"a.csv": "1\n"})
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".other.tmp-abcd1234",
        ".run.tmp-live0000",
        "run",
    ]
    part = tmp_path / ".od.999999999-abcdefgh.part.csv"  # a killed file write
    part.write_text("half", encoding="utf-8")
    with _io.atomic_path(tmp_path / "od.csv") as tmp:
        tmp.write_text("whole", encoding="utf-8")
    assert not part.exists()


def test_outputs_get_the_usual_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        _write(tmp_path / "o", {"a.csv": "1\n"})
        with _io.atomic_path(tmp_path / "f.csv") as tmp:
            tmp.write_text("x", encoding="utf-8")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "o") == 0o755
    assert _mode(tmp_path / "o" / "a.csv") == 0o644
    assert _mode(tmp_path / "o" / report.MARKER) == 0o644
    assert _mode(tmp_path / "f.csv") == 0o644


# ------------------------------------------------------------------------ a real run
def test_run_into_its_own_folder_keeps_the_users_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    out.mkdir()
    scenario = out / "my.yaml"  # `netplan run run/my.yaml --out run`
    text = f"extends: {SMALL}\nname: mine\noutputs: {{map: false, xlsx: false, gpkg: false}}\n"
    scenario.write_text(text, encoding="utf-8")
    assert main(["run", str(scenario), "--out", str(out), "--force"]) == 0
    (out / "notes.txt").write_text("notes", encoding="utf-8")
    assert main(["run", str(scenario), "--out", str(out)]) == 0
    assert scenario.read_text(encoding="utf-8") == text
    assert (out / "notes.txt").read_text(encoding="utf-8") == "notes"
    assert "my.yaml" not in report.read_marker(out)
    # the resolved scenario of the run, run again into the same folder: refused, kept
    resolved = out / "scenario.resolved.yaml"
    before = resolved.read_bytes()
    capsys.readouterr()
    assert main(["run", str(resolved), "--out", str(out)]) == 1
    assert "is an input of this run" in capsys.readouterr().err
    assert resolved.read_bytes() == before


# ------------------------------------------------------------------------ the cache
@pytest.fixture
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache folder of this test only, filled from the session's (datasets only)."""
    import shutil

    cache = tmp_path / "cache"
    data.fetch(["osm-leeds", "ons-lsoa-centroids", "ons-lsoa-population"])  # in the session's
    shutil.copytree(Path(settings.cache_folder) / "datasets", cache / "datasets")
    monkeypatch.setattr(settings, "cache_folder", cache)
    data._verified.clear()
    return cache


def _corrupt(path: Path, how: str) -> None:
    raw = bytearray(path.read_bytes())
    if how == "truncate":
        path.write_bytes(bytes(raw[: len(raw) // 2]))
    elif how == "flip":
        for i in range(200, len(raw), max(1, len(raw) // 7)):
            raw[i] ^= 0xFF
        path.write_bytes(bytes(raw))
    else:
        path.write_bytes(b"not a zip file at all")


@pytest.mark.parametrize("how", ["truncate", "flip", "garbage"])
def test_corrupt_cached_graph_is_rebuilt_with_one_warning(
    private_cache: Path, how: str, caplog: pytest.LogCaptureFixture
) -> None:
    G = network.graph_from_name("leeds")
    (cached,) = (private_cache / "graphs").glob("*.npz")
    _corrupt(cached, how)
    caplog.clear()
    with caplog.at_level("WARNING"):
        again = network.graph_from_name("leeds")
    assert again.n_nodes == G.n_nodes
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert "rebuilding the cached graph" in warnings[0].getMessage()
    caplog.clear()
    with caplog.at_level("WARNING"):
        network.graph_from_name("leeds")  # repaired: loads quietly
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


def test_corrupt_derived_file_is_rebuilt(private_cache: Path) -> None:
    from netplan import profiles

    profiles._density_cached.cache_clear()
    first = profiles.density_surface()
    # the density surface's file (the parsed population table has its own, _population.py)
    (derived,) = (private_cache / "derived").glob("lsoa-population-points-*.npz")
    _corrupt(derived, "truncate")
    profiles._density_cached.cache_clear()
    again = profiles.density_surface()
    np.testing.assert_array_equal(first.integral, again.integral)
    assert data.npz_problem(derived) is None  # written again, whole
    profiles._density_cached.cache_clear()


def test_data_fetch_check_verifies_and_repairs_every_cached_file(
    private_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    network.graph_from_name("leeds")
    (graph,) = (private_cache / "graphs").glob("*.npz")
    _corrupt(graph, "flip")
    (private_cache / "derived").mkdir(exist_ok=True)
    (private_cache / "derived" / "x.npz").write_bytes(b"garbage")
    leeds = data.cache_path("osm-leeds")
    leeds.write_bytes(leeds.read_bytes()[:-10])
    leftover = leeds.parent / f".{leeds.name}.999999999-abcdefgh.part"
    leftover.write_bytes(b"half")
    assert main(["data", "fetch", "--check", "osm-leeds"]) == 0
    out = capsys.readouterr().out
    assert "osm-leeds:" in out
    assert f"graphs/{graph.name}: unreadable" in out
    assert "derived/x.npz: unreadable" in out
    assert "leftover temporary file" in out
    assert not graph.exists()
    assert not leftover.exists()
    assert data._check(data.catalogue()["osm-leeds"], leeds) == "present"


def test_cached_datasets_are_readable_by_colleagues(private_cache: Path) -> None:
    old = os.umask(0o022)
    try:
        path = data.fetch(["osm-leeds"], force=True)[0]
    finally:
        os.umask(old)
    assert _mode(path) == 0o644


@pytest.mark.parametrize("shape", ["file", "under_a_file", "read_only"])
def test_unusable_cache_folder_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: str, capsys: pytest.CaptureFixture
) -> None:
    blocker = tmp_path / "cachefile"
    blocker.write_text("x", encoding="utf-8")
    folder = {
        "file": blocker,
        "under_a_file": blocker / "netplan",
        "read_only": Path("/sys/netplan-cache"),
    }[shape]
    monkeypatch.setattr(settings, "cache_folder", folder)
    with pytest.raises(NetplanError, match=r"cache folder cannot be used.*NETPLAN_CACHE"):
        data.fetch(["osm-leeds"])
    assert main(["data", "fetch", "osm-leeds"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("netplan: error: the netplan cache folder cannot be used")
    assert "\n" not in err
    assert blocker.read_text(encoding="utf-8") == "x"
