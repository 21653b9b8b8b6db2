"""netplan: plan diagnostic-imaging networks by road drive time, capacity and tracer supply."""

from __future__ import annotations

from . import settings as settings
from ._errors import (
    DataError as DataError,
)
from ._errors import (
    InfeasibleError as InfeasibleError,
)
from ._errors import (
    NetplanError as NetplanError,
)
from ._errors import (
    NetworkError as NetworkError,
)
from ._errors import (
    ScenarioError as ScenarioError,
)
from ._errors import (
    SolverError as SolverError,
)
from ._errors import (
    ValidationError as ValidationError,
)

# Modules are imported lazily so `import netplan` stays fast and a notebook that only
# needs the data layer does not pay for solvers or folium.
_MODULES = {
    "data",
    "network",
    "traveltime",
    "isochrones",
    "demand",
    "sites",
    "capacity",
    "explain",
    "optimise",
    "scenario",
    "report",
    "plot",
    "maps",
    "defaults",
    "profiles",
    "calibrate",
    "tracer",
}


__all__ = [
    "DataError",
    "InfeasibleError",
    "NetplanError",
    "NetworkError",
    "Scenario",
    "ScenarioError",
    "ScenarioResult",
    "SolverError",
    "ValidationError",
    "__version__",
    "settings",
    *sorted(_MODULES),
]


def __dir__() -> list[str]:
    """Tab completion shows the public names, the lazily imported modules included."""
    return sorted({*globals(), *__all__})


def __getattr__(name: str) -> object:
    if name == "__version__":
        # read from the package metadata on first use (about 40 ms a process otherwise)
        from ._version import __version__

        return __version__
    if name in _MODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    if name in {"Scenario", "ScenarioResult"}:
        from . import scenario

        return getattr(scenario, name)
    msg = f"module 'netplan' has no attribute {name!r}"
    raise AttributeError(msg)
