"""The output folder: built in a temporary sibling, moved in file by file, owned by a marker.

netplan writes only what it owns. Its ``.netplan-output`` marker lists every file it wrote
into the folder (with their sha256). A later run into the same folder

* replaces the files the marker lists and removes those it no longer writes;
* leaves every other file alone: a user's notes, the scenario being run, anything;
* refuses, naming them, when one of its new files would land on a file it did not write, or
  on one of its own files that was changed since (``force`` allows the latter only).

An existing non-empty folder without a marker is refused unless ``force``; ``force`` then
adds netplan's files to it and still never deletes, moves or overwrites a file netplan did
not write. A file of the run's inputs is never overwritten or removed. A new folder appears
in one rename; into an existing one the files move one by one (each file whole), the marker
always naming everything netplan may have put there, so an interrupted run leaves nothing
unowned. Temporary folders of runs that were killed are removed by the next run into the
same target. Every check runs in :func:`check_output_folder` before the long work.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .._errors import OutputError
from .._io import check_writable_folder, normal_permissions, pid_alive, same_file

MARKER = ".netplan-output"
_TMP_FLAG = ".netplan-tmp"
_MARKER_VERSION = 2
#: What netplan wrote before markers listed their files: treated as its files then.
LEGACY_NAMES = frozenset(
    {
        "report.html",
        "map.html",
        "summary.csv",
        "sites.csv",
        "zones.csv",
        "coverage.csv",
        "cyclotrons.csv",
        "results.xlsx",
        "results.gpkg",
        "scenario.resolved.yaml",
        "comparison.html",
        "comparison.csv",
    }
)
_STALE_AFTER_S = 24 * 3600  # temp folders of another machine: removed after a day


class OutputFolderError(OutputError):
    """The output folder may not be written as asked (see the module docstring)."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _files(folder: Path) -> dict[str, Path]:
    """Relative posix path -> file of every file under ``folder`` (its own marker left out)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and rel not in (MARKER, _TMP_FLAG):
            out[rel] = path
    return out


def read_marker(folder: str | Path) -> dict[str, str] | None:
    """The files netplan wrote into ``folder`` (relative path -> sha256, ``""`` if unknown).

    None when the folder has no marker (netplan did not write it). A marker of an older
    netplan, which listed no files, owns the file names that version wrote and the
    subfolders that carry a marker of their own.
    """
    folder = Path(folder)
    marker = folder / MARKER
    if not marker.is_file():
        return None
    try:
        doc = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        doc = {}
    files = doc.get("files") if isinstance(doc, dict) else None
    if isinstance(files, dict):
        return {str(k): str(v) for k, v in files.items()}
    owned: dict[str, str] = {}
    for path in folder.iterdir():
        if path.is_file() and path.name in LEGACY_NAMES:
            owned[path.name] = ""
        elif path.is_dir() and not path.is_symlink() and (path / MARKER).is_file():
            owned[f"{path.name}/{MARKER}"] = ""
            for rel in read_marker(path) or {}:
                owned[f"{path.name}/{rel}"] = ""
    return owned


def _write_marker(folder: Path, files: dict[str, str], *, name: str | None = None) -> None:
    from .._io import write_text_atomic
    from .._version import __version__

    doc = {
        "written_by": "netplan",
        "marker_version": _MARKER_VERSION,
        "netplan_version": __version__,
        "folder": name or folder.name,
        "files": dict(sorted(files.items())),
    }
    write_text_atomic(folder / MARKER, json.dumps(doc, indent=1) + "\n")


@dataclass(frozen=True)
class _Plan:
    target: Path
    owned: dict[str, str]  # what netplan owns in target now (empty for a new folder)
    exists: bool


def _listing(names: Iterable[str], limit: int = 5) -> str:
    items = sorted(names)
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _plan(
    target: Path,
    names: Iterable[str] | None,
    *,
    force: bool,
    inputs: Iterable[str | Path] = (),
) -> _Plan:
    """Check that netplan may write ``names`` (relative paths) into ``target``; see the doc."""
    if target.exists() and not target.is_dir():
        msg = (
            f"{target} exists and is a file, not an output folder; netplan never replaces it "
            "(not even with --force): choose another --out folder or move the file"
        )
        raise OutputFolderError(msg)
    check_writable_folder(target if target.is_dir() else target.parent, what="output folder")
    exists = target.is_dir()
    owned = read_marker(target) if exists else {}
    if owned is None:
        if any(target.iterdir()) and not force:
            msg = (
                f"{target} exists, is not empty and was not written by netplan (no {MARKER} "
                "file); choose another --out folder, or pass --force to add netplan's files "
                "to it (nothing already in it is changed or deleted)"
            )
            raise OutputFolderError(msg)
        owned = {}
    wanted = set(names or ())
    blocked = []
    for rel in sorted(wanted):
        dest = target / rel
        parts = Path(rel).parts
        in_the_way = next(
            (target.joinpath(*parts[:i]) for i in range(1, len(parts))
             if target.joinpath(*parts[:i]).is_file()),
            None,
        )  # fmt: skip
        if in_the_way is not None:
            blocked.append(f"{in_the_way.relative_to(target).as_posix()} (a file in the way)")
        elif dest.is_dir() and not dest.is_symlink():
            blocked.append(f"{rel} (a folder)")
        elif dest.exists() and rel not in owned:
            blocked.append(rel)
    if blocked:
        msg = (
            f"{target}: netplan would overwrite file(s) it did not write: {_listing(blocked)}; "
            "move or rename them, or choose another --out folder (--force never overwrites them)"
        )
        raise OutputFolderError(msg)
    if not force:
        changed = [
            rel
            for rel, sha in owned.items()
            if sha and (target / rel).is_file() and _sha256(target / rel) != sha
        ]
        if changed:
            msg = (
                f"{target}: file(s) netplan wrote were changed since: {_listing(changed)}; "
                "move them away to keep your changes, or pass --force to replace them"
            )
            raise OutputFolderError(msg)
    touched = wanted | set(owned)
    for source in inputs:
        if source is None:
            continue
        src = Path(source)
        for rel in touched:
            if same_file(target / rel, src):
                msg = (
                    f"{src} is an input of this run and netplan would replace or remove it "
                    f"(it is {rel} of the output folder {target}); copy it elsewhere or choose "
                    "another --out folder"
                )
                raise OutputFolderError(msg)
    return _Plan(target, owned, exists)


def check_output_folder(
    target: str | Path,
    *,
    force: bool = False,
    names: Iterable[str] | None = None,
    inputs: Iterable[str | Path] = (),
) -> Path:
    """Fail early (before a long run) if ``target`` may not be written; see the module doc.

    Parameters
    ----------
    target
        The output folder.
    force
        Allow a non-empty folder netplan did not write (its files stay untouched).
    names
        Files (relative paths) the run will write, when known: clashes are reported now.
    inputs
        The run's input files: a run that would overwrite or remove one is refused.

    Raises
    ------
    OutputFolderError
        If ``target`` is a file, is not writable, belongs to someone else (and not
        ``force``), or the run would overwrite a file netplan did not write or an input.
    """
    target = Path(target).absolute()
    _plan(target, names, force=force, inputs=inputs)
    return target


def _check_target(target: Path, *, force: bool) -> None:
    """Kept for callers of the old name: :func:`check_output_folder` without names."""
    _plan(Path(target).absolute(), None, force=force)


def _remove_stale_temps(target: Path) -> None:
    """Remove temporary folders of runs into ``target`` that were killed (see module doc)."""
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(tmp-[a-z0-9_]{{8}}|old-[0-9a-f]{{8}})$")
    try:
        siblings = list(target.parent.iterdir())
    except OSError:
        return
    host = socket.gethostname()
    for sib in siblings:
        if not pattern.match(sib.name) or not sib.is_dir() or sib.is_symlink():
            continue
        try:
            pid_text, _, owner = (sib / _TMP_FLAG).read_text(encoding="utf-8").partition(" ")
            pid = int(pid_text)
        except (OSError, ValueError):
            pid, owner = 0, host  # an older netplan's folder: nobody is writing it now
        if owner.strip() == host and pid_alive(pid):
            continue
        if owner.strip() != host and time.time() - sib.stat().st_mtime < _STALE_AFTER_S:
            continue
        shutil.rmtree(sib, ignore_errors=True)


def _commit(tmp: Path, plan: _Plan) -> None:
    """Move the files of ``tmp`` into ``plan.target`` (see the module docstring)."""
    target = plan.target
    new = {rel: _sha256(path) for rel, path in _files(tmp).items()}
    if not plan.exists:
        _write_marker(tmp, new, name=target.name)
        (tmp / _TMP_FLAG).unlink(missing_ok=True)
        normal_permissions(tmp / MARKER)
        try:
            os.replace(tmp, target)
            return
        except OSError:
            if not target.is_dir():
                raise
            # the folder appeared meanwhile: fall through to the file-by-file move
    _write_marker(target, {**plan.owned, **new})  # everything netplan may now have here
    for rel in sorted(new):
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp / rel, dest)
    for rel in sorted(set(plan.owned) - set(new)):
        stale = target / rel
        if stale.is_file() or stale.is_symlink():
            stale.unlink()
        parent = stale.parent
        while parent != target and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
    _write_marker(target, new)


@contextmanager
def atomic_folder(
    target: str | Path, *, force: bool = False, inputs: Iterable[str | Path] = ()
) -> Iterator[Path]:
    """Yield a temporary sibling folder; on success move its files into ``target``.

    Parameters
    ----------
    target
        The output folder.
    force
        Write into a non-empty folder netplan did not write (its files stay untouched), and
        replace netplan's own files even when they were changed since.
    inputs
        The run's input files, which are never overwritten or removed.

    Raises
    ------
    OutputFolderError
        As :func:`check_output_folder`, checked before and again after the block.

    Notes
    -----
    On error inside the block the temporary folder is removed and ``target`` is untouched.
    """
    target = Path(target).absolute()
    inputs = list(inputs)
    _plan(target, None, force=force, inputs=inputs)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        (tmp / _TMP_FLAG).write_text(f"{os.getpid()} {socket.gethostname()}\n", encoding="utf-8")
        yield tmp
        _normal_permissions(tmp)
        # again, with the files now known: the folder may have changed meanwhile
        plan = _plan(target, _files(tmp), force=force, inputs=inputs)
        _commit(tmp, plan)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _normal_permissions(folder: Path) -> None:
    """Give the folder and its files the usual umask permissions (mkstemp makes 0600)."""
    for path in [folder, *folder.rglob("*")]:
        normal_permissions(path, folder=path.is_dir())
