"""The installed package's version (one place, imported by modules that stamp outputs)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("netplan")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"
