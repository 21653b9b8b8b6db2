"""Exceptions raised by netplan.

Every error a user can cause derives from :class:`NetplanError`; the command line prints
its message (no traceback) and exits with status 1. Errors about bad values also derive
from :class:`ValueError` so generic handlers keep working.
"""

from __future__ import annotations


class NetplanError(Exception):
    """Base class of every netplan error."""


class ValidationError(NetplanError, ValueError):
    """Input data or options are invalid; the message says where and how to fix them."""


class DataError(NetplanError):
    """A dataset is missing, corrupt or cannot be fetched."""


class NetworkError(NetplanError, ValueError):
    """A road network cannot be built or used (no roads, points off the network ...)."""


class InfeasibleError(NetplanError):
    """An optimisation model has no feasible solution.

    Parameters
    ----------
    message
        What makes the model infeasible and how to relax it.
    status
        The solver status string (PuLP's ``LpStatus``), when a solver reported it.
    """

    def __init__(self, message: str, status: str | None = None) -> None:
        super().__init__(message)
        self.status = status


class SolverError(NetplanError):
    """The solver failed, is not installed, or stopped without a usable solution."""


class ScenarioError(ValidationError):
    """A scenario file is invalid (unknown key, wrong type, value out of range)."""


class OutputError(NetplanError, OSError):
    """An output cannot be written: read-only folder, a file in the way, an input in the way.

    Also an :class:`OSError`, so code that tolerates unwritable folders keeps working.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
