"""``python -m netplan``: the netplan command line (:mod:`netplan.cli`)."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
