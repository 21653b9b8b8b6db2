"""What the report reads of a scenario result, as a typing Protocol (for annotations only).

:class:`netplan.scenario.ScenarioResult` satisfies it. The report names this structural type
instead of importing :mod:`netplan.scenario`, because ``ScenarioResult.to_folder`` calls
:func:`netplan.report.write_result`: importing back, even for type checkers, would make the
two packages a circle again.
"""

from __future__ import annotations

from typing import Any, Protocol

import pandas as pd


class ScenarioResult(Protocol):
    """The attributes of :class:`netplan.scenario.ScenarioResult` that the report uses."""

    scenario: Any  # netplan.scenario.Scenario
    sites: pd.DataFrame
    zones: Any
    cyclotrons: pd.DataFrame
    coverage: pd.DataFrame
    uncovered: pd.DataFrame
    totals: dict[str, Any]
    isochrones: Any
    cyclotron_points: Any
    provenance: dict[str, Any]
    candidates: Any  # pandas.DataFrame of every hospital's eligibility, or None

    def summary(self) -> pd.DataFrame:
        """Headline figures as a one-row DataFrame indexed by the scenario name."""
        ...
