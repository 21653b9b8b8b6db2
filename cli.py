"""netplan command line, run from a checkout: ``python cli.py COMMAND ...``.

The program lives in :mod:`netplan.cli` (installed as the ``netplan`` command and as
``python -m netplan``); this file only calls it, so a checkout and an installed netplan run
the same code.
"""

from __future__ import annotations

import sys

from netplan.cli import build_parser as build_parser
from netplan.cli import main as main

if __name__ == "__main__":
    sys.exit(main())
