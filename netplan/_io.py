"""File input and output shared by netplan's readers and writers.

Reading: :func:`read_text` gives one-line errors for a missing, unreadable or non-UTF-8
file (with the byte offset and line of the first bad byte).

Writing: a file a user asked for is either the complete new version or the old one, never
half written: output goes to a temporary file in the same folder, which is renamed over the
target only when writing succeeded, and removed otherwise (:func:`atomic_path`). Temporary
files carry the writer's process id, so one left by a killed process is removed by the next
write of the same target. :func:`check_output_file` and :func:`check_writable_folder` fail
early, before any long work, when a target cannot be written.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ._errors import OutputError, ValidationError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def normal_permissions(path: str | Path, *, folder: bool = False) -> None:
    """Give ``path`` the usual permissions (``0o666``/``0o777`` less the umask).

    ``mkstemp`` and ``mkdtemp`` create 0600/0700 files and folders, which a shared cache or
    output folder must not keep.
    """
    Path(path).chmod((0o777 if folder else 0o666) & ~_umask())


# ---------------------------------------------------------------------------- reading
def read_bytes(path: str | Path, *, what: str = "file") -> bytes:
    """Return the bytes of ``path``; a missing or unreadable file is a ValidationError."""
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        msg = f"{what} {path} not found"
        if path.parent != Path() and not path.parent.exists():
            msg += f" (no folder {path.parent})"
    except IsADirectoryError:
        msg = f"{path} is a folder, not a {what}; give the path of the file"
    except PermissionError:
        msg = f"{path}: permission denied; make the {what} readable"
    except OSError as exc:
        msg = f"{path}: cannot read the {what} ({exc.strerror or exc})"
    raise ValidationError(msg)


def decode_utf8(data: bytes, *, source: str) -> str:
    """Decode UTF-8 (with or without a byte-order mark); name the first bad byte.

    Examples
    --------
    >>> decode_utf8("id\\nSt Étienne\\n".encode("latin-1"), source="sites.csv")
    Traceback (most recent call last):
    ...
    netplan._errors.ValidationError: sites.csv: not UTF-8 text: byte 0xc9 at offset 6 \
(line 2) cannot be decoded; save the file as UTF-8 (Excel: "CSV UTF-8")
    """
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        line = data.count(b"\n", 0, offset) + 1
        excel = ' (Excel: "CSV UTF-8")' if source.lower().endswith(".csv") else ""
        msg = (
            f"{source}: not UTF-8 text: byte 0x{data[offset]:02x} at offset {offset} "
            f"(line {line}) cannot be decoded; save the file as UTF-8{excel}"
        )
        raise ValidationError(msg) from None


def read_text(path: str | Path, *, what: str = "file") -> str:
    """Read a UTF-8 text file; every failure is a one-line :class:`ValidationError`."""
    return decode_utf8(read_bytes(path, what=what), source=str(path))


# ---------------------------------------------------------------------------- checks
def _nearest_existing(path: Path) -> Path:
    probe = path
    while not probe.exists() and not probe.is_symlink() and probe != probe.parent:
        probe = probe.parent
    return probe


def check_writable_folder(folder: str | Path, *, what: str = "output") -> Path:
    """Fail unless files can be created in ``folder`` (or in the folders it would be made in).

    The nearest existing folder on the way up must be a folder (not a file) in which a file
    can be created; a small probe file is made and removed there.

    Raises
    ------
    OutputError
        Naming the file that blocks the path, or the folder that is not writable.
    """
    folder = Path(folder).absolute()
    probe = _nearest_existing(folder)
    if not probe.is_dir():
        msg = (
            f"cannot write the {what} in {folder}: {probe} is a file, not a folder; "
            "choose another location or move that file"
        )
        raise OutputError(msg)
    try:
        fd, name = tempfile.mkstemp(prefix=".netplan-probe-", dir=probe)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        msg = (
            f"cannot write the {what} in {folder}: {probe} is not writable "
            f"({exc.strerror or exc}); choose another location or fix its permissions"
        )
        raise OutputError(msg) from None
    return folder


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name the same file (resolved; existing files compared by inode)."""
    a, b = Path(a), Path(b)
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.absolute().resolve() == b.absolute().resolve()


def check_output_file(
    path: str | Path,
    *,
    inputs: Iterable[tuple[str, str | Path | None]] = (),
    suffixes: Iterable[str] | None = None,
    also: Iterable[str | Path] = (),
    what: str = "output file",
) -> Path:
    """Fail early (before the work) when the output file ``path`` cannot be written safely.

    Parameters
    ----------
    path
        The file to be written.
    inputs
        ``(option, path)`` of the run's input files: writing over one of them is refused.
    suffixes
        Allowed extensions (lower case, with the dot), or None for any.
    also
        Other files written beside ``path`` (e.g. ``OD.csv.meta.json``), checked likewise.
    what
        What the file is, for messages.

    Raises
    ------
    OutputError
        ``path`` is a folder, its parent cannot be written, or it is one of the inputs.
    ValidationError
        The extension is not one of ``suffixes``.
    """
    path = Path(path)
    if suffixes is not None:
        allowed = sorted(set(suffixes))
        if path.suffix.lower() not in allowed:
            msg = f"{path}: unknown {what} format {path.suffix or '(none)'!r}; use one of {allowed}"
            raise ValidationError(msg)
    if path.is_dir():
        ext = sorted(suffixes)[0] if suffixes else ".csv"
        msg = f"{path} is a folder; give a file name for the {what}, e.g. {path / ('out' + ext)}"
        raise OutputError(msg)
    for target in (path, *map(Path, also)):
        for option, source in inputs:
            if source is not None and same_file(target, source):
                msg = (
                    f"{target} is also the input {option} and would be overwritten; "
                    "choose another output name"
                )
                raise OutputError(msg)
    check_writable_folder(path.parent, what=what)
    return path


# ---------------------------------------------------------------------------- writing
def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (True when we may not ask)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_parts(path: Path) -> None:
    """Remove temporary files of ``path`` left by writers that no longer run."""
    pattern = re.compile(
        rf"^\.{re.escape(path.stem)}\.(\d+)-[a-z0-9_]{{8}}\.part{re.escape(path.suffix)}$"
    )
    try:
        siblings = list(path.parent.iterdir())
    except OSError:
        return
    for sib in siblings:
        found = pattern.match(sib.name)
        if found and not pid_alive(int(found.group(1))):
            with contextlib.suppress(OSError):
                sib.unlink()


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    The temporary file keeps the target's extension (drivers such as GDAL choose the format
    by it) and gets the usual permissions (``0o666`` less the umask), not ``mkstemp``'s 0600.

    Raises
    ------
    OutputError
        When the folder cannot be made or the file cannot be put in place (the target is a
        folder, the folder is read-only ...).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_parts(path)
        fd, name = tempfile.mkstemp(
            prefix=f".{path.stem}.{os.getpid()}-", suffix=f".part{path.suffix}", dir=path.parent
        )
    except OSError as exc:
        check_writable_folder(path.parent, what=str(path.name))
        msg = f"cannot write {path}: {exc.strerror or exc}"
        raise OutputError(msg) from exc
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()  # writers that refuse to overwrite (GDAL) get a free name
    try:
        yield tmp
        if not tmp.exists():
            msg = f"nothing was written for {path}"
            raise FileNotFoundError(msg)
        normal_permissions(tmp)
        try:
            os.replace(tmp, path)
        except OSError as exc:
            kind = "is a folder" if path.is_dir() else f"cannot be replaced ({exc.strerror or exc})"
            msg = f"cannot write {path}: it {kind}; choose another output name"
            raise OutputError(msg) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    return Path(path)
