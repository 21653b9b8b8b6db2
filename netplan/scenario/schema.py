"""The root of the scenario schema: :class:`Scenario`, its loading, overrides and run entry.

:class:`Scenario` holds the sections of :mod:`netplan.scenario.sections`, reads and writes
YAML (via :mod:`netplan.scenario.loading`), explains validation errors by file and dotted
key, applies overrides, and hands itself to :mod:`netplan.scenario.pipeline` to be run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import Field, PrivateAttr
from pydantic import ValidationError as PydanticValidationError

from .._errors import ScenarioError
from .._io import write_text_atomic
from . import result as _result_module
from ._checks import _model_at as _model_at
from ._checks import _unwrap as _unwrap
from ._checks import explain
from .loading import _deep_merge, _load_merged, _origin, _suggest, resolve_scenario_path
from .pipeline import _inputs, _placement_model, run_scenario
from .rollout_section import RolloutSection
from .sections import (
    CostsSection,
    CyclotronsSection,
    DemandSection,
    FleetSection,
    NetworkSection,
    OutputsSection,
    ScannersSection,
    SitesSection,
    SolverSection,
    TravelSection,
    TurnaroundSection,
    _Checked,
    _d,
)

if TYPE_CHECKING:
    from .result import ScenarioResult


class Scenario(_Checked):
    """A complete, validated planning scenario.

    Build one with :meth:`from_yaml` or directly (``Scenario(drive_minutes=45)``); change
    it with :meth:`with_overrides`; run it with :meth:`run`.

    Examples
    --------
    >>> s = Scenario(name="demo", drive_minutes=45)
    >>> s.with_overrides({"fleet.mobile_units": 0}).fleet.mobile_units
    0
    """

    name: str = "scenario"
    description: str = ""
    network: NetworkSection = Field(default_factory=NetworkSection)
    demand: DemandSection = Field(default_factory=DemandSection)
    sites: SitesSection = Field(default_factory=SitesSection)
    cyclotrons: CyclotronsSection = Field(default_factory=CyclotronsSection)
    fleet: FleetSection = Field(default_factory=FleetSection)
    scanners: ScannersSection = Field(default_factory=ScannersSection)
    costs: CostsSection = Field(default_factory=CostsSection)
    turnaround: TurnaroundSection = Field(default_factory=TurnaroundSection)
    drive_minutes: float = Field(
        default_factory=lambda: _d("service.drive_standard_minutes"), gt=0, le=240
    )
    allow_uncovered: bool = True
    objective: Literal["cost", "drive_time", "max_coverage", "cover_then_cost"] = "cost"
    p_sites: int | None = Field(None, ge=1)
    travel: TravelSection = Field(default_factory=TravelSection)
    solver: SolverSection = Field(default_factory=SolverSection)
    outputs: OutputsSection = Field(default_factory=OutputsSection)
    rollout: RolloutSection = Field(default_factory=RolloutSection)

    _source: Path | None = PrivateAttr(default=None)
    _origins: dict[str, str] = PrivateAttr(default_factory=dict)
    # (sites section as JSON, candidate table): built once per run (pipeline._candidate_table)
    _candidate_table: Any = PrivateAttr(default=None)

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_yaml(cls, path: str | Path) -> Scenario:
        """Read, merge (``extends``) and validate a scenario file.

        Parameters
        ----------
        path
            The YAML file, or the name of a scenario shipped with netplan
            (``"rutland_small"``, ``"england.yaml"``; see :func:`netplan.scenario.shipped`)
            when no such file exists.

        Returns
        -------
        Scenario

        Raises
        ------
        ScenarioError
            For a missing, unreadable or non-UTF-8 file, invalid YAML or a key given twice
            (with the line), an ``extends`` cycle, an unknown key (with
            the nearest valid name), a wrong type or an out-of-range value; the message
            names the file and the dotted key.
        """
        if not isinstance(path, (str, os.PathLike)):
            msg = f"Scenario.from_yaml: expected the path of a YAML file, got {path!r}"
            raise ScenarioError(msg)
        path = resolve_scenario_path(path)
        raw, origins = _load_merged(path, chain=())
        if origins.get("name") != str(path):  # not named in this file: use its stem, so a
            raw["name"] = path.stem  # variant never inherits its base's name
            origins["name"] = str(path)
        scenario = cls.from_dict(raw, source=path, origins=origins)
        return scenario

    @classmethod
    def from_dict(
        cls,
        raw: Mapping[str, Any],
        *,
        source: str | Path | None = None,
        origins: Mapping[str, str] | None = None,
        label: str | None = None,
    ) -> Scenario:
        """Validate a scenario given as a nested mapping (``extends`` is not allowed here).

        Raises
        ------
        ScenarioError
            As :meth:`from_yaml`; ``source`` names the file in messages.
        """
        where = label or (str(source) if source is not None else "scenario")
        origins = dict(origins or {})
        try:
            scenario = cls.model_validate(dict(raw))
        except PydanticValidationError as exc:
            raise ScenarioError(_explain(exc, where, origins)) from None
        scenario._source = Path(source) if source is not None else None
        scenario._origins = origins
        if scenario.cyclotrons.backup_minutes < scenario.cyclotrons.primary_minutes:
            msg = (
                f"{_origin(origins, 'cyclotrons.backup_minutes', where)}: cyclotrons.backup_minutes"
                f" ({scenario.cyclotrons.backup_minutes:g}) must be >= cyclotrons.primary_minutes"
                f" ({scenario.cyclotrons.primary_minutes:g})"
            )
            raise ScenarioError(msg)
        if not scenario.fleet.allow_static and not scenario.fleet.allow_mobile:
            msg = f"{where}: fleet.allow_static and fleet.allow_mobile cannot both be false"
            raise ScenarioError(msg)
        return scenario

    @property
    def source(self) -> Path | None:
        """The file this scenario was read from (None when built in code)."""
        return self._source

    def input_files(self) -> list[Path]:
        """The files this scenario was read from: itself, its bases, network and profile files.

        The outputs of a run never overwrite or remove them (:func:`netplan.report.write_result`).
        """
        files = {Path(f) for f in self._origins.values() if Path(f).is_file()}
        if self._source is not None:
            files.add(Path(self._source))
        for ref in (self.network.name, self.network.profile):
            path = Path(ref)
            if not path.is_absolute() and self._source is not None:
                path = Path(self._source).parent / ref
            if path.suffix and path.is_file():
                files.add(path)
        return sorted(p.absolute() for p in files)

    def to_dict(self) -> dict[str, Any]:
        """The resolved scenario as plain Python types (every default filled in)."""
        return self.model_dump(mode="json")

    def to_yaml(self, path: str | Path, *, extra: Mapping[str, Any] | None = None) -> Path:
        """Write the resolved scenario (atomically); ``extra`` adds a ``provenance`` block."""
        doc = self.to_dict()
        if extra:
            doc["provenance"] = dict(extra)
        path = Path(path)
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
        _atomic_write_text(path, text)
        return path

    def with_overrides(self, overrides: Mapping[str, Any]) -> Scenario:
        """Return a copy with dotted keys replaced, validated again.

        Parameters
        ----------
        overrides
            ``{"drive_minutes": 45, "fleet.mobile_units": 0}``; nested mappings merge.

        Raises
        ------
        ScenarioError
            On an unknown key or a bad value (named as in :meth:`from_yaml`).
        """
        data = self.to_dict()
        for key, value in overrides.items():
            parts = str(key).split(".")
            node = data
            for i, part in enumerate(parts[:-1]):
                if not isinstance(node.get(part), dict):
                    prefix = ".".join(parts[: i + 1])
                    msg = f"override {key!r}: {prefix!r} is not a section of the scenario"
                    raise ScenarioError(msg + _suggest(part, list(node)))
                node = node[part]
            last = parts[-1]
            if isinstance(node.get(last), dict) and isinstance(value, Mapping):
                node[last] = _deep_merge(node[last], dict(value))
            else:
                node[last] = value
        label = f"{self._source or 'scenario'} (override {', '.join(map(str, overrides))})"
        new = type(self).from_dict(data, label=label)
        new._source = self._source
        return new

    # ------------------------------------------------------------------ running
    def run(self, *, progress: bool = False) -> ScenarioResult:
        """Build the network, demand and sites, solve the placement and assess capacity.

        Parameters
        ----------
        progress
            Show a tqdm progress bar on stderr for the steps.

        Returns
        -------
        ScenarioResult

        Raises
        ------
        ScenarioError
            A site id named in the scenario is not a candidate.
        InfeasibleError
            The drive standard cannot be met and ``allow_uncovered`` is false, or the
            solver proves the model infeasible.
        """
        return run_scenario(self, progress=progress)

    def run_rollout(self) -> Any:
        """Plan the multi-year roll-out of the ``rollout:`` section (``netplan rollout``).

        Returns a :class:`~netplan.scenario.rollout.RolloutRun` (plan, summary, result);
        see :mod:`netplan.scenario.rollout`.

        Raises
        ------
        ScenarioError
            A bad ``rollout`` setting (e.g. an initial site that is not a candidate).
        InfeasibleError
            No plan meets the budgets and rules.
        """
        from .rollout import run_rollout

        return run_rollout(self)

    def placement_model(self, **options: Any) -> Any:
        """The scenario's placement model, built from its inputs but not solved.

        Runs the first four steps of :meth:`run` (network, demand, sites, drive times) and
        returns the :class:`~netplan.optimise.PlacementModel` that :meth:`run` would solve,
        for trying solver settings (``model.solve(solver=..., time_limit_s=...)``) or
        benchmarking (``benchmarks/bench_optimise.py``). ``options`` are
        :class:`~netplan.optimise.PlacementModel` arguments that override the scenario's
        (e.g. ``merge_zones=False``).
        """
        from .. import optimise

        _, _, zone_demand, cands, cyclos, od, cyc_od, _ = _inputs(self, {})
        return _placement_model(self, optimise, od, zone_demand, cands, cyclos, cyc_od, **options)


def _explain(exc: PydanticValidationError, where: str, origins: Mapping[str, str]) -> str:
    """Turn pydantic errors into one message naming the file and dotted keys."""
    return explain(exc, where, origins, Scenario)


def _atomic_write_text(path: Path, text: str) -> None:
    write_text_atomic(path, text)


# ScenarioResult.from_folder builds its scenario through this (result.py cannot import the
# schema: the schema runs the pipeline that builds results).
_result_module.scenario_reader = lambda raw, source: Scenario.from_dict(raw, source=source)
