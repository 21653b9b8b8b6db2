"""The output folder: built in a temporary sibling, swapped in whole, guarded by a marker.

An existing folder is replaced only when it is empty or carries the ``.netplan-output``
marker (or with ``force``), and is either left as it was or fully replaced, never
half-overwritten; see :func:`atomic_folder`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .._errors import NetplanError

MARKER = ".netplan-output"


class OutputFolderError(NetplanError):
    """The output folder exists and was not written by netplan (use --force)."""


def _check_target(target: Path, *, force: bool) -> None:
    if target.exists() and not target.is_dir():
        if not force:
            msg = f"{target} exists and is a file, not an output folder; remove it or use --force"
            raise OutputFolderError(msg)
        return
    if target.is_dir() and any(target.iterdir()) and not (target / MARKER).is_file() and not force:
        msg = (
            f"{target} exists, is not empty and was not written by netplan (no {MARKER} "
            f"file); choose another --out folder or pass --force to replace it"
        )
        raise OutputFolderError(msg)


def check_output_folder(target: str | Path, *, force: bool = False) -> Path:
    """Fail early (before a long run) if ``target`` may not be written; see the module doc.

    Raises
    ------
    OutputFolderError
        If ``target`` exists, is not empty and was not written by netplan (and not ``force``).
    """
    target = Path(target).absolute()
    _check_target(target, force=force)
    return target


@contextmanager
def atomic_folder(target: str | Path, *, force: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling folder; on success swap it into ``target``.

    Parameters
    ----------
    target
        The output folder.
    force
        Replace ``target`` even if it was not written by netplan.

    Raises
    ------
    OutputFolderError
        If ``target`` exists, is not empty and has no netplan marker (and not ``force``).

    Notes
    -----
    The swap is two renames (old -> trash, new -> target) on the same file system; if the
    second fails the old folder is put back. On error inside the block the temporary folder
    is removed and ``target`` is untouched.
    """
    target = Path(target).absolute()
    _check_target(target, force=force)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
        _normal_permissions(tmp)
        (tmp / MARKER).write_text(
            json.dumps({"written_by": "netplan", "folder": target.name}) + "\n", encoding="utf-8"
        )
        _check_target(target, force=force)  # again: the folder may have appeared meanwhile
        trash = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
        moved = False
        if target.exists():
            os.replace(target, trash)
            moved = True
        try:
            os.replace(tmp, target)
        except BaseException:
            if moved:
                os.replace(trash, target)
            raise
        if moved:
            if trash.is_dir():
                shutil.rmtree(trash, ignore_errors=True)
            else:
                trash.unlink(missing_ok=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _normal_permissions(folder: Path) -> None:
    """Give the folder and its files the usual umask permissions (mkstemp makes 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    for path in [folder, *folder.rglob("*")]:
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)
