"""Files that ship with netplan: the curated data tables and the example scenarios.

In a wheel or sdist they are package data under ``netplan/_shipped/`` (``data/`` and
``scenarios/``). In the repository those two are links to the top-level ``data/`` and
``scenarios/`` folders, which stay where users of a checkout (and the README) find them;
where a checkout has no working links (e.g. an archive unpacked on Windows), the top-level
folders are used directly.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

KINDS = ("data", "scenarios")


def shipped_path(kind: str) -> Path:
    """The folder of shipped files of ``kind`` (``"data"`` or ``"scenarios"``).

    Examples
    --------
    >>> (shipped_path("data") / "catalogue.yaml").is_file()
    True
    """
    if kind not in KINDS:
        msg = f"unknown kind of shipped files {kind!r}; one of {list(KINDS)}"
        raise ValueError(msg)
    packaged = Path(str(resources.files("netplan"))) / "_shipped" / kind
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / kind
