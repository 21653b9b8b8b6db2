"""Scenarios: validated, serialisable analysis settings, and the run that turns one into results.

A scenario file is YAML with these sections (every value has a documented default from
:mod:`netplan.defaults`; see ``scenarios/england.yaml`` for a commented example)::

    name: england               # default: the file name
    description: ...
    extends: base.yaml          # optional: a base scenario, relative to this file
    network: {name: england-major-roads, calibration: 1.0, congestion: {primary: 0.8}}
    demand: {year: 2025, rate_per_1000: 2.22, age_weighting: true,
             area: {icbs: [E54000015], lots: [...], bbox: [...], name_startswith: [...]}}
    sites: {candidates: contract+acute, include: [...], exclude: [...], extra: [...],
            lock_open: [...], lock_static: [...], forbid: [...], static_allowed: [...],
            min_sites_per_lot: {North West: 3}}
    cyclotrons: {ids: [...], extra: [...], capacity_doses_per_day: {keele: 200},
                 primary_minutes: 120, backup_minutes: 240, require_backup: false,
                 enforce_capacity: true}
    fleet: {mobile_units: 4, max_sites_per_unit: 3, max_visit_days_per_week: 3}
    scanners: {static_scans_per_day: 20, working_days_per_year: 275, target_utilisation: 0.85}
    costs: {static_running_gbp_per_year: 875000, mobile_gbp_per_day: 4000}
    turnaround: {admin_days: 2, report_days: 2, target_days: [5, 7]}
    drive_minutes: 60
    allow_uncovered: true       # false: an unreachable standard is an error
    objective: cost             # cost | drive_time | max_coverage (needs p_sites) | cover_then_cost
    solver: {name: highs, time_limit_s: 300, mip_gap: 0.0}
    outputs: {report: true, map: true, xlsx: true, gpkg: true, isochrone_minutes: [30, 60]}

``sites.candidates``: ``contract+acute`` (the 28 contract hospitals and the other NHS acute
hospitals), ``contract`` (contract hospitals only), ``acute`` (the non-contract acute
hospitals only) or ``none`` (only ``include``/``extra``); sites named in ``include``,
``extra``, the locks or ``static_allowed`` are always kept.

Unknown keys are rejected with the nearest valid name; wrong types and out-of-range
values are reported with the file and the dotted key. ``extends`` deep-merges the file
over its base (mappings merge key by key, anything else is replaced).

:meth:`Scenario.run` only chains public building blocks (network, traveltime, demand,
sites, optimise, capacity, isochrones), so a notebook can do each step by hand.
"""

from __future__ import annotations

import copy
import difflib
import logging
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator
from pydantic import ValidationError as PydanticValidationError

from . import defaults as _defaults
from ._errors import InfeasibleError, NetplanError, ScenarioError, ValidationError
from ._io import write_text_atomic

logger = logging.getLogger(__name__)

#: Drive-time thresholds (minutes) of the headline population coverage figures.
COVERAGE_MINUTES = (30, 45, 60, 90)


def _d(key: str) -> Any:
    """Default value from ``netplan/defaults.yaml`` (dotted key)."""
    return _defaults.get(key)


def _df(key: str) -> Any:
    return Field(default_factory=lambda: _d(key))


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class NetworkSection(_Section):
    """Road network: a built-in name or an OSM file, and speed settings.

    ``profile`` names the speed profile (``free_flow``, the planning standard, or
    ``daytime``; or a profile file from ``netplan calibrate``; see netplan/profiles.yaml).
    The other speed fields adjust it: ``speeds_kph`` overrides OSM class speeds one by one,
    ``congestion`` multiplies a class's speed (``motorway`` and ``major`` included on the
    major-road network) and ``calibration`` every road speed.
    """

    name: str = "england-major-roads"
    profile: str = "free_flow"
    speeds_kph: dict[str, float] = Field(default_factory=dict)
    maxspeed_factor: float = Field(0.8, gt=0, le=2)
    use_maxspeed: bool = True
    congestion: dict[str, float] = Field(default_factory=dict)
    calibration: float = Field(1.0, gt=0, le=3)
    include_service: bool = False


class AreaSection(_Section):
    """Restrict the study area (all filters combine with AND; empty means England)."""

    icbs: list[str] = Field(default_factory=list)
    lots: list[str] = Field(default_factory=list)
    bbox: list[float] | None = Field(None, min_length=4, max_length=4)
    name_startswith: list[str] = Field(default_factory=list)


class DemandSection(_Section):
    """Demand model: planning year, base rate, growth and age weighting."""

    year: int = Field(default_factory=lambda: _d("demand.year"), ge=2000, le=2100)
    base_year: int = Field(default_factory=lambda: _d("demand.base_year"), ge=2000, le=2100)
    rate_per_1000: float = Field(default_factory=lambda: _d("demand.rate_per_1000"), gt=0, le=100)
    annual_growth: float | dict[int, float] = _df("demand.annual_growth")
    growth_mode: Literal["total", "by_tracer"] = _df("demand.growth_mode")
    tracer_growth: dict[str, float | dict[int, float]] = _df("demand.tracer_growth")
    tracer_mix: dict[str, float] = _df("demand.tracer_mix")
    age_weighting: bool = _df("demand.age_weighting")
    age_weights: dict[str, float] = _df("demand.age_weights")
    area: AreaSection = Field(default_factory=AreaSection)


class ExtraSite(_Section):
    """A candidate site that is not in the NHS hospital list."""

    id: str
    name: str
    lon: float = Field(ge=-8.75, le=1.9)
    lat: float = Field(ge=49.8, le=60.95)
    lot: str | None = None


class SitesSection(_Section):
    """Candidate sites and user rules."""

    candidates: Literal["contract+acute", "contract", "acute", "none"] = "contract+acute"
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    extra: list[ExtraSite] = Field(default_factory=list)
    lock_open: list[str] = Field(default_factory=list)
    lock_static: list[str] = Field(default_factory=list)
    forbid: list[str] = Field(default_factory=list)
    static_allowed: list[str] | None = None
    min_sites_per_lot: dict[str, int] = Field(default_factory=dict)


class ExtraCyclotron(_Section):
    """A cyclotron that is not in the default table."""

    id: str
    name: str
    lon: float = Field(ge=-8.75, le=1.9)
    lat: float = Field(ge=49.8, le=60.95)
    capacity_doses_per_day: float | None = Field(None, gt=0)


class CyclotronsSection(_Section):
    """18F supply: which cyclotrons, their capacity and delivery limits."""

    ids: list[str] | None = None
    extra: list[ExtraCyclotron] = Field(default_factory=list)
    capacity_doses_per_day: dict[str, float] = Field(default_factory=dict)
    default_capacity_doses_per_day: float = Field(
        default_factory=lambda: _d("tracer.cyclotron_daily_capacity_doses"), gt=0
    )
    primary_minutes: float = Field(
        default_factory=lambda: _d("tracer.max_delivery_minutes_primary"), gt=0, le=480
    )
    backup_minutes: float = Field(
        default_factory=lambda: _d("tracer.max_delivery_minutes_backup"), gt=0, le=480
    )
    require_backup: bool = False
    enforce_capacity: bool = True
    dose_activity_mbq: float = Field(default_factory=lambda: _d("tracer.dose_activity_mbq"), gt=0)


class FleetSection(_Section):
    """Mobile units."""

    mobile_units: int = Field(4, ge=0, le=100)
    max_sites_per_unit: int | None = Field(None, ge=1, le=5)
    max_visit_days_per_week: int = Field(
        default_factory=lambda: _d("scanners.mobile_max_visit_days_per_week"), ge=0, le=5
    )
    days_per_unit: int = Field(
        default_factory=lambda: _d("scanners.mobile_days_per_week"), ge=1, le=7
    )
    allow_static: bool = True
    allow_mobile: bool = True
    allow_static_and_mobile: bool = True


class ScannersSection(_Section):
    """Throughput and capacity planning of scanners."""

    static_scans_per_day: float = Field(
        default_factory=lambda: _d("scanners.static_scans_per_day"), gt=0, le=100
    )
    mobile_scans_per_day: float = Field(
        default_factory=lambda: _d("scanners.mobile_scans_per_day"), gt=0, le=100
    )
    working_days_per_year: float = Field(
        default_factory=lambda: _d("scanners.working_days_per_year"), gt=0, le=366
    )
    mobile_weeks_per_year: float = Field(
        default_factory=lambda: _d("scanners.mobile_weeks_per_year"), gt=0, le=53
    )
    target_utilisation: float = Field(
        default_factory=lambda: _d("scanners.target_utilisation"), gt=0, le=1
    )
    max_static_per_site: int = Field(
        default_factory=lambda: _d("scanners.max_static_scanners_per_site"), ge=1, le=10
    )


class CostsSection(_Section):
    """Costs in GBP (annualised by the optimiser)."""

    static_scanner_capital_gbp: float = Field(
        default_factory=lambda: _d("costs.static_scanner_capital_gbp"), ge=0
    )
    static_install_gbp: float = Field(default_factory=lambda: _d("costs.static_install_gbp"), ge=0)
    existing_site_install_gbp: float = Field(
        default_factory=lambda: _d("costs.existing_site_install_gbp"), ge=0
    )
    static_running_gbp_per_year: float = Field(
        default_factory=lambda: _d("costs.static_running_gbp_per_year"), ge=0
    )
    mobile_gbp_per_day: float = Field(default_factory=lambda: _d("costs.mobile_gbp_per_day"), ge=0)
    annualisation_years: float = Field(
        default_factory=lambda: _d("costs.annualisation_years"), gt=0, le=50
    )
    capital_budget_gbp: float | None = Field(None, ge=0)


class TurnaroundSection(_Section):
    """Queueing estimate of referral-to-results turnaround (see :mod:`netplan.capacity`)."""

    admin_days: float = Field(
        default_factory=lambda: _d("service.referral_to_scan_admin_days"), ge=0, le=30
    )
    report_days: float = Field(
        default_factory=lambda: _d("service.scan_to_report_days"), ge=0, le=30
    )
    target_days: list[float] = Field(
        default_factory=lambda: [
            float(_d("service.turnaround_target_days")),
            float(_d("service.turnaround_secondary_days")),
        ],
        min_length=1,
    )


class SolverSection(_Section):
    """MIP solver settings."""

    name: Literal["highs", "cbc"] = "highs"
    time_limit_s: float = Field(300.0, gt=0, le=86400)
    mip_gap: float = Field(0.0, ge=0, le=1)


class OutputsSection(_Section):
    """Which files ``to_folder`` writes (CSVs and the resolved scenario are always written)."""

    report: bool = True
    map: bool = True
    xlsx: bool = True
    gpkg: bool = True
    isochrone_minutes: list[int] = Field(default_factory=lambda: [30, 45, 60])

    @field_validator("isochrone_minutes")
    @classmethod
    def _positive(cls, v: list[int]) -> list[int]:
        if any(m <= 0 or m > 240 for m in v):
            msg = "every isochrone threshold must be in 1..240 minutes"
            raise ValueError(msg)
        return sorted(set(v))


class Scenario(BaseModel):
    """A complete, validated planning scenario.

    Build one with :meth:`from_yaml` or directly (``Scenario(drive_minutes=45)``); change
    it with :meth:`with_overrides`; run it with :meth:`run`.

    Examples
    --------
    >>> s = Scenario(name="demo", drive_minutes=45)
    >>> s.with_overrides({"fleet.mobile_units": 0}).fleet.mobile_units
    0
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

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
    solver: SolverSection = Field(default_factory=SolverSection)
    outputs: OutputsSection = Field(default_factory=OutputsSection)

    _source: Path | None = PrivateAttr(default=None)
    _origins: dict[str, str] = PrivateAttr(default_factory=dict)

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_yaml(cls, path: str | Path) -> Scenario:
        """Read, merge (``extends``) and validate a scenario file.

        Parameters
        ----------
        path
            The YAML file.

        Returns
        -------
        Scenario

        Raises
        ------
        ScenarioError
            For a missing or unreadable file, an ``extends`` cycle, an unknown key (with
            the nearest valid name), a wrong type or an out-of-range value; the message
            names the file and the dotted key.
        """
        path = Path(path)
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

    def placement_model(self, **options: Any) -> Any:
        """The scenario's placement model, built from its inputs but not solved.

        Runs the first four steps of :meth:`run` (network, demand, sites, drive times) and
        returns the :class:`~netplan.optimise.PlacementModel` that :meth:`run` would solve,
        for trying solver settings (``model.solve(solver=..., time_limit_s=...)``) or
        benchmarking (``benchmarks/bench_optimise.py``). ``options`` are
        :class:`~netplan.optimise.PlacementModel` arguments that override the scenario's
        (e.g. ``merge_zones=False``).
        """
        from . import optimise

        _, _, zone_demand, cands, cyclos, od, cyc_od, _ = _inputs(self, {})
        return _placement_model(self, optimise, od, zone_demand, cands, cyclos, cyc_od, **options)


# ---------------------------------------------------------------------------- results
class ScenarioResult:
    """Everything a scenario run produced, with writers.

    Attributes
    ----------
    scenario
        The scenario that was run.
    sites
        One row per candidate site: decision, scanners, mobile days, capacity, assigned
        scans, utilisation, drive times, tracer source, turnaround shares.
    zones
        GeoDataFrame, one row per zone: population, scans, ICB, lot, assigned site,
        minutes, nearest open and static site minutes, covered flag and reason.
    cyclotrons
        One row per cyclotron: doses per day, delivery minutes, activity, back-up load.
    coverage
        Population within each threshold, nationally, per lot and per ICB (long form).
    totals
        Headline figures (dict).
    isochrones
        GeoDataFrame ``site_id, minutes, geometry`` of the open sites (may be empty).
    provenance
        Data versions, network key, package version, solver status, run times.
    """

    def __init__(
        self,
        *,
        scenario: Scenario,
        sites: pd.DataFrame,
        zones: Any,
        cyclotrons: pd.DataFrame,
        coverage: pd.DataFrame,
        totals: dict[str, Any],
        isochrones: Any = None,
        cyclotron_points: Any = None,
        provenance: dict[str, Any] | None = None,
    ) -> None:
        self.scenario = scenario
        self.sites = sites
        self.zones = zones
        self.cyclotrons = cyclotrons
        self.coverage = coverage
        self.totals = totals
        self.isochrones = isochrones
        self.cyclotron_points = cyclotron_points
        self.provenance = dict(provenance or {})

    def __repr__(self) -> str:
        t = self.totals
        return (
            f"<ScenarioResult {self.scenario.name!r}: {t.get('sites_open', 0)} sites, "
            f"{t.get('static_scanners', 0)} static scanners, {t.get('mobile_days_per_week', 0)} "
            f"mobile days/week, {100 * t.get('share_within_standard', float('nan')):.1f} % within "
            f"{self.scenario.drive_minutes:g} min, status {t.get('status', '?')}>"
        )

    def summary(self) -> pd.DataFrame:
        """Headline figures as a one-row DataFrame indexed by the scenario name."""
        data = {k: v for k, v in self.totals.items() if k != "scenario"}
        return pd.DataFrame([data], index=pd.Index([self.scenario.name], name="scenario"))

    def to_folder(self, out_dir: str | Path, *, force: bool = False) -> dict[str, Path]:
        """Write the report, map, tables and resolved scenario into ``out_dir`` atomically.

        See :func:`netplan.report.write_result` for the rules on existing folders.

        Returns
        -------
        dict
            Output name -> path (``report``, ``map``, ``sites``, ``zones``, ``summary``,
            ``xlsx``, ``gpkg``, ``scenario``).
        """
        from . import report

        return report.write_result(self, out_dir, force=force)


# ---------------------------------------------------------------------------- sweeps
def parse_set(text: str) -> tuple[str, list[Any]]:
    """Parse ``"KEY=V1,V2"`` into the key and YAML-typed values.

    Examples
    --------
    >>> parse_set("drive_minutes=45,60")
    ('drive_minutes', [45, 60])
    """
    key, sep, values = str(text).partition("=")
    key = key.strip()
    items = [v.strip() for v in values.split(",") if v.strip()]
    if not sep or not key or not items:
        msg = f"--set {text!r}: expected KEY=V1,V2,... e.g. drive_minutes=45,60,75"
        raise ScenarioError(msg)
    return key, [yaml.safe_load(v) for v in items]


def sweep_variants(base: Scenario, sets: list[str]) -> list[Scenario]:
    """Scenarios for every combination of the ``KEY=V1,V2`` settings (validated first).

    Each variant is named ``<base>-<key>=<value>[-...]`` so its outputs get their own folder.

    Raises
    ------
    ScenarioError
        On a malformed setting, an unknown key (with a suggestion) or a bad value.
    """
    import itertools

    parsed = [parse_set(t) for t in sets]
    keys = [k for k, _ in parsed]
    if len(set(keys)) != len(keys):
        msg = f"--set names a key twice: {keys}; give all values in one --set"
        raise ScenarioError(msg)
    variants = []
    for combo in itertools.product(*[vals for _, vals in parsed]):
        overrides = dict(zip(keys, combo, strict=True))
        label = "-".join(f"{k.rpartition('.')[2]}={v}" for k, v in overrides.items())
        variant = base.with_overrides({**overrides, "name": f"{base.name}-{label}"})
        variants.append(variant)
    return variants


# ---------------------------------------------------------------------------- helpers
def _load_merged(path: Path, *, chain: tuple[Path, ...]) -> tuple[dict[str, Any], dict[str, str]]:
    """Read ``path``, follow ``extends`` and return the merged dict and key origins."""
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(str(p) for p in (*chain, resolved))
        msg = f"{path}: `extends` makes a cycle: {cycle}"
        raise ScenarioError(msg)
    if not path.is_file():
        msg = f"scenario file {path} not found"
        if chain:
            msg += f" (named by `extends` in {chain[-1]})"
        raise ScenarioError(msg)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        msg = f"{path} is not valid YAML: {exc}"
        raise ScenarioError(msg) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        msg = f"{path}: a scenario must be a mapping of sections, got {type(raw).__name__}"
        raise ScenarioError(msg)
    base_name = raw.pop("extends", None)
    merged: dict[str, Any] = {}
    origins: dict[str, str] = {}
    if base_name is not None:
        if not isinstance(base_name, str):
            msg = f"{path}: `extends` must be a file name, got {base_name!r}"
            raise ScenarioError(msg)
        base_path = path.parent / base_name
        merged, origins = _load_merged(base_path, chain=(*chain, resolved))
    # relative network files are relative to the scenario that names them
    net = raw.get("network")
    if isinstance(net, dict) and isinstance(net.get("name"), str):
        candidate = path.parent / net["name"]
        if candidate.suffix and candidate.exists():
            net["name"] = str(candidate.resolve())
    for key in _dotted_keys(raw):
        origins[key] = str(path)
    merged = _deep_merge(merged, raw)
    return merged, origins


def _dotted_keys(d: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for k, v in d.items():
        key = f"{prefix}{k}"
        yield key
        if isinstance(v, Mapping):
            yield from _dotted_keys(v, key + ".")


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _origin(origins: Mapping[str, str], key: str, default: str) -> str:
    while key:
        if key in origins:
            return origins[key]
        key = key.rpartition(".")[0]
    return default


def _suggest(name: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(str(name), allowed, n=1, cutoff=0.5)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; valid keys here: {', '.join(sorted(allowed))}"


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model class found by walking ``loc`` from ``model``."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(str(part))
        if field is None:
            return None
        ann = field.annotation
        current = _unwrap(ann)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(ann: Any) -> Any:
    import typing

    if isinstance(ann, type):
        return ann
    for arg in typing.get_args(ann):
        found = _unwrap(arg)
        if isinstance(found, type) and issubclass(found, BaseModel):
            return found
    return ann


def _explain(exc: PydanticValidationError, where: str, origins: Mapping[str, str]) -> str:
    """Turn pydantic errors into one message naming the file and dotted keys."""
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        dotted = ".".join(str(p) for p in loc)
        file = _origin(origins, ".".join(str(p) for p in loc if not isinstance(p, int)), where)
        if err["type"] == "extra_forbidden":
            parent = _model_at(Scenario, loc[:-1])
            allowed = list(parent.model_fields) if parent is not None else []
            lines.append(f"{file}: unknown key {dotted!r}" + _suggest(str(loc[-1]), allowed))
        else:
            got = err.get("input")
            got_txt = repr(got) if not isinstance(got, dict) else "a mapping"
            if len(got_txt) > 60:
                got_txt = got_txt[:57] + "..."
            lines.append(f"{file}: {dotted}: {err['msg']} (got {got_txt})")
    if len(lines) == 1:
        return f"invalid scenario: {lines[0]}"
    return "invalid scenario:\n  " + "\n  ".join(lines)


def check_ids(
    scenario: Scenario, key: str, ids: list[str], known: list[str] | set[str], *, what: str
) -> None:
    """Raise a :class:`ScenarioError` if any of ``ids`` (from ``key``) is not in ``known``."""
    known_list = sorted(str(k) for k in known)
    known_set = set(known_list)
    bad = [i for i in ids if str(i) not in known_set]
    if not bad:
        return
    where = _origin(scenario._origins, key, str(scenario._source or "scenario"))
    hints = []
    for b in bad[:5]:
        close = difflib.get_close_matches(str(b), known_list, n=1, cutoff=0.6)
        hints.append(f"{b!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    msg = (
        f"{where}: {key} names {len(bad)} id(s) that are not {what}: {', '.join(hints)}"
        f"{' ...' if len(bad) > 5 else ''}. Use ODS codes of the candidate sites "
        f"(add new ones under sites.include or sites.extra)."
    )
    raise ScenarioError(msg)


def _atomic_write_text(path: Path, text: str) -> None:
    write_text_atomic(path, text)


@contextmanager
def _step(name: str, timings: dict[str, float], bar: Any = None) -> Iterator[None]:
    t0 = time.perf_counter()
    if bar is not None:
        bar.set_description(name)
    yield
    dt = time.perf_counter() - t0
    timings[name] = round(dt, 3)
    logger.info("%s: %.1f s", name, dt)
    if bar is not None:
        bar.update(1)


__all__ = [
    "COVERAGE_MINUTES",
    "InfeasibleError",
    "NetplanError",
    "Scenario",
    "ScenarioResult",
    "check_ids",
]


# ---------------------------------------------------------------------------- the run
_RUN_STEPS = (
    "network",
    "demand",
    "sites",
    "drive times",
    "placement",
    "capacity",
    "isochrones",
    "profile sensitivity",
)


def run_scenario(scenario: Scenario, *, progress: bool = False) -> ScenarioResult:
    """Run a scenario (see :meth:`Scenario.run`); every step is a public netplan call."""
    import sys

    from tqdm import tqdm

    from . import __version__, capacity, data, optimise
    from . import isochrones as iso_mod

    s = scenario
    timings: dict[str, float] = {}
    bar = tqdm(
        total=len(_RUN_STEPS),
        disable=not progress,
        file=sys.stderr,
        unit="step",
        desc=s.name,
        leave=False,
    )
    t_start = time.perf_counter()
    try:
        G, zones, zone_demand, cands, cyclos, od, cyc_od, notes = _inputs(s, timings, bar)
        # 5. placement
        with _step("placement", timings, bar):
            model = _placement_model(s, optimise, od, zone_demand, cands, cyclos, cyc_od)
            placement = _solve(s, model)
        # 6. capacity, turnaround, tracer supply, coverage
        with _step("capacity", timings, bar):
            site_table = _site_table(s, placement, cands, capacity)
            zone_table = _zone_table(s, placement, zones, zone_demand, od, site_table)
            cyc_table = _cyclotron_table(s, site_table, cyclos, capacity)
            coverage = _coverage_table(zone_table)
        # 7. isochrones of the open sites (for the map)
        with _step("isochrones", timings, bar):
            open_sites = cands[cands["id"].isin(site_table.loc[site_table["open"], "site_id"])]
            iso = None
            if s.outputs.map and s.outputs.isochrone_minutes and len(open_sites):
                iso = iso_mod.isochrones(G, open_sites, minutes=tuple(s.outputs.isochrone_minutes))
        with _step("profile sensitivity", timings, bar):
            sensitivity = profile_sensitivity(s, G, zone_demand, open_sites)
    finally:
        bar.close()
    totals = _totals(s, placement, site_table, zone_table, cyc_table)
    provenance = {
        "netplan_version": __version__,
        "network_key": getattr(G, "key", ""),
        "network": repr(G),
        "speed_profile": G.profile.name if G.profile is not None else "",
        "speed_profile_hash": G.profile.hash if G.profile is not None else "",
        "speed_profile_source": G.profile.source if G.profile is not None else "",
        "coverage_by_profile": sensitivity,
        "data_versions": data.versions(),
        "solver_status": str(placement.status),
        "mip_gap": placement.mip_gap,
        "solve_time_s": round(float(placement.runtime_s), 3),
        "build_time_s": round(float(placement.build_time_s), 3),
        "messages": [*notes, *placement.messages],
        "timings_s": timings,
        "total_time_s": round(time.perf_counter() - t_start, 3),
    }
    logger.info("scenario %s done in %.1f s", s.name, provenance["total_time_s"])
    return ScenarioResult(
        scenario=s,
        sites=site_table,
        zones=zone_table,
        cyclotrons=cyc_table,
        coverage=coverage,
        totals=totals,
        isochrones=iso,
        cyclotron_points=cyclos,
        provenance=provenance,
    )


def _inputs(s: Scenario, timings: dict[str, float], bar: Any = None) -> tuple[Any, ...]:
    """Steps 1-4 of a run: network, zone demand, sites and cyclotrons, drive times."""
    from . import demand as demand_mod
    from . import network as network_mod
    from . import sites as sites_mod
    from . import traveltime

    # 1. road network (cached on disk by source and speed settings)
    with _step("network", timings, bar):
        G = network_mod.graph_from_name(
            s.network.name, profile=scenario_profile(s), include_service=s.network.include_service
        )
    # 2. zones and their annual scans in the planning year
    with _step("demand", timings, bar):
        zones = demand_mod.load_zones()
        zones = _filter_area(s, zones)
        zone_demand = demand_mod.estimate_demand(zones, _demand_params(s, demand_mod))
    # 3. candidate sites and cyclotrons, with the user's rules checked against them
    with _step("sites", timings, bar):
        cands, cyclos = _sites_and_cyclotrons(s, sites_mod)
    # 4. drive times zone -> site (to 90 min for the coverage figures), cyclotron -> site
    with _step("drive times", timings, bar):
        reach = max(float(max(COVERAGE_MINUTES)), float(s.drive_minutes))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            od = traveltime.od_matrix(G, zone_demand, cands, max_minutes=reach, on_outside="drop")
            cyc_od = traveltime.od_matrix(
                G,
                cyclos,
                cands,
                on_outside="drop",
                max_minutes=float(s.cyclotrons.backup_minutes),
            )
        notes = list(dict.fromkeys(str(w.message) for w in caught))
        for note in notes:
            logger.warning("%s", note)
        _precheck(s, zone_demand, od)
    return G, zones, zone_demand, cands, cyclos, od, cyc_od, notes


def scenario_profile(s: Scenario, name: str | None = None) -> Any:
    """The scenario's speed profile (or profile ``name``) with its network overrides."""
    from .profiles import SpeedProfile, load_profile

    net = s.network
    ref = name or net.profile
    if name is None and ref and not Path(ref).is_absolute() and s._source is not None:
        local = Path(s._source).parent / ref
        if local.suffix and local.is_file():
            ref = str(local)
    prof = load_profile(ref)
    overrides = {
        "speeds_kph": dict(net.speeds_kph),
        "congestion": dict(net.congestion),
        "calibration": float(net.calibration),
        "use_maxspeed": bool(net.use_maxspeed),
    }
    osm = dict(prof.content["osm"])
    if (
        overrides["speeds_kph"]
        or overrides["congestion"]
        or overrides["calibration"] != 1.0
        or overrides["use_maxspeed"] != osm.get("use_maxspeed", True)
    ):
        osm["speeds_kph"] = {**dict(osm.get("speeds_kph") or {}), **overrides["speeds_kph"]}
        osm["congestion"] = {**dict(osm.get("congestion") or {}), **overrides["congestion"]}
        osm["calibration"] = float(osm.get("calibration", 1.0)) * overrides["calibration"]
        osm["use_maxspeed"] = overrides["use_maxspeed"]
        prof = SpeedProfile(
            prof.name + "+scenario", {**prof.content, "osm": osm}, source=f"{prof.source}, adjusted"
        )
    return prof


def profile_sensitivity(s: Scenario, G: Any, zone_demand: Any, open_sites: Any) -> dict[str, Any]:
    """Share of the population within the standard (and 60 min) of the open sites at each
    built-in profile: the plan's coverage under free-flow and daytime traffic."""
    from . import network as network_mod
    from . import traveltime
    from .profiles import available_profiles

    out: dict[str, Any] = {}
    if not len(open_sites):
        return out
    pop = zone_demand.set_index("id")["population"] if "population" in zone_demand else None
    if pop is None:
        return out
    limits = sorted({float(s.drive_minutes), 60.0})
    for name in available_profiles():
        if G.profile is not None and name == G.profile.name:
            Gp = G
        else:
            prof = scenario_profile(s, name)
            Gp = (
                G.with_profile(prof)
                if G.detail == "major"
                else network_mod.graph_from_name(
                    s.network.name, profile=prof, include_service=s.network.include_service
                )
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            od = traveltime.od_matrix(
                Gp,
                zone_demand[["id", "lon", "lat"]],
                open_sites[["id", "lon", "lat"]],
                max_minutes=max(limits),
                on_outside="drop",
            )
        best = od.groupby("origin_id")["minutes"].min()
        total = float(pop.sum())
        out[name] = {
            f"within_{m:g}_min": round(float(pop.reindex(best.index[best <= m]).sum()) / total, 4)
            for m in limits
        }
    return out


def _filter_area(s: Scenario, zones: Any) -> Any:
    """Keep the zones of the study area (``demand.area``)."""
    area = s.demand.area
    keep = pd.Series(True, index=zones.index)
    if area.icbs:
        col = "icb_code" if "icb_code" in zones.columns else "icb"
        known = set(zones[col].astype(str))
        names = set(zones["icb_name"].astype(str)) if "icb_name" in zones.columns else set()
        bad = [i for i in area.icbs if i not in known and i not in names]
        if bad:
            check_ids(s, "demand.area.icbs", bad, known | names, what="ICB codes or names")
        in_icb = zones[col].astype(str).isin(area.icbs)
        if names:
            in_icb |= zones["icb_name"].astype(str).isin(area.icbs)
        keep &= in_icb
    if area.lots:
        known = set(zones["lot"].dropna().astype(str))
        check_ids(s, "demand.area.lots", area.lots, known, what="contract lots")
        keep &= zones["lot"].astype(str).isin(area.lots)
    if area.bbox is not None:
        x0, y0, x1, y1 = area.bbox
        keep &= zones["lon"].between(x0, x1) & zones["lat"].between(y0, y1)
    if area.name_startswith:
        keep &= zones["name"].astype(str).str.startswith(tuple(area.name_startswith))
    out = zones[keep.to_numpy()]
    if out.empty:
        where = _origin(s._origins, "demand.area", str(s._source or "scenario"))
        msg = f"{where}: demand.area selects no zones; widen the ICB, lot, bbox or name filters"
        raise ScenarioError(msg)
    return out


def _demand_params(s: Scenario, demand_mod: Any) -> Any:
    d = s.demand
    return demand_mod.DemandParams(
        year=d.year,
        base_year=d.base_year,
        rate_per_1000=d.rate_per_1000,
        growth_mode=d.growth_mode,
        annual_growth=d.annual_growth,
        tracer_growth=d.tracer_growth,
        tracer_mix=d.tracer_mix,
        age_weights=dict(d.age_weights) if d.age_weighting else None,
    )


def _sites_and_cyclotrons(s: Scenario, sites_mod: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    rules = s.sites
    extra = None
    if rules.extra:
        extra = pd.DataFrame([e.model_dump() for e in rules.extra])
    if rules.candidates == "none" and not rules.include and extra is None:
        where = _origin(s._origins, "sites", str(s._source or "scenario"))
        msg = f"{where}: sites.candidates is 'none' and sites.include/extra are empty: no sites"
        raise ScenarioError(msg)
    try:
        cands = sites_mod.candidate_sites(
            include=list(rules.include) or None,
            exclude=list(rules.exclude) or None,
            extra=extra,
        )
    except ValidationError as exc:
        where = _origin(s._origins, "sites", str(s._source or "scenario"))
        msg = f"{where}: sites.{exc}"
        raise ScenarioError(msg) from None
    if rules.candidates != "contract+acute" and len(cands):
        contract = cands["is_contract"].astype(bool)
        chosen_extra = cands["id"].isin(
            [
                *rules.include,
                *[e.id for e in rules.extra],
                *rules.lock_open,
                *rules.lock_static,
                *(rules.static_allowed or []),
            ]
        )
        if rules.candidates == "contract":
            cands = cands[contract | chosen_extra]
        elif rules.candidates == "acute":
            cands = cands[~contract | chosen_extra]
        else:  # none
            cands = cands[chosen_extra]
    cands = cands.reset_index(drop=True)
    ids = set(cands["id"].astype(str))
    check_ids(s, "sites.lock_open", rules.lock_open, ids, what="candidate sites")
    check_ids(s, "sites.lock_static", rules.lock_static, ids, what="candidate sites")
    check_ids(s, "sites.forbid", rules.forbid, ids, what="candidate sites")
    if rules.static_allowed is not None:
        check_ids(s, "sites.static_allowed", rules.static_allowed, ids, what="candidate sites")
    clash = sorted(set(rules.forbid) & (set(rules.lock_open) | set(rules.lock_static)))
    if clash:
        where = _origin(s._origins, "sites.forbid", str(s._source or "scenario"))
        msg = f"{where}: site(s) {clash} are both forbidden and locked open; remove one rule"
        raise ScenarioError(msg)

    c = s.cyclotrons
    cyc = sites_mod.load_cyclotrons(include_inactive=c.ids is not None)
    if c.extra:
        cyc = pd.concat(
            [
                cyc,
                pd.DataFrame([e.model_dump() for e in c.extra]).rename(
                    columns={"capacity_doses_per_day": "daily_capacity_doses"}
                ),
            ],
            ignore_index=True,
        )
    if c.ids is not None:
        known = set(cyc["id"].astype(str))
        check_ids(s, "cyclotrons.ids", c.ids, known, what="cyclotrons")
        cyc = cyc[cyc["id"].astype(str).isin([*c.ids, *[e.id for e in c.extra]])]
    check_ids(
        s,
        "cyclotrons.capacity_doses_per_day",
        list(c.capacity_doses_per_day),
        set(cyc["id"].astype(str)),
        what="cyclotrons of this scenario",
    )
    cap = (
        cyc["daily_capacity_doses"]
        if "daily_capacity_doses" in cyc
        else pd.Series(np.nan, index=cyc.index)
    )
    cap = cap.astype(float).fillna(c.default_capacity_doses_per_day)
    cap = cyc["id"].map(c.capacity_doses_per_day).astype(float).fillna(cap)
    cyc = cyc.assign(daily_capacity_doses=cap).reset_index(drop=True)
    if cyc.empty:
        where = _origin(s._origins, "cyclotrons", str(s._source or "scenario"))
        msg = f"{where}: no cyclotrons left; list at least one under cyclotrons.ids or .extra"
        raise ScenarioError(msg)
    return cands, cyc


def _precheck(s: Scenario, zones: Any, od: pd.DataFrame) -> None:
    """Fail early, with the zones named, when the standard cannot be met and must be."""
    if s.allow_uncovered:
        return
    within = od.loc[od["minutes"] <= s.drive_minutes, "origin_id"].unique()
    lost = zones.loc[~zones["id"].isin(within)]
    if len(lost):
        names = ", ".join(f"{r.id} ({r.name})" for r in lost.head(5).itertuples())
        msg = (
            f"{s._source or 'scenario'}: drive_minutes = {s.drive_minutes:g} cannot be met: "
            f"{len(lost):,} zone(s) (population {int(lost['population'].sum()):,}) have no "
            f"candidate site within {s.drive_minutes:g} minutes, e.g. {names}. Raise "
            f"drive_minutes, add candidate sites, or set allow_uncovered: true."
        )
        raise InfeasibleError(msg, "Infeasible")


def _solve(s: Scenario, model: Any) -> Any:
    """Solve the placement model with the scenario's solver settings and coverage rule."""
    result = model.solve(
        solver=s.solver.name, time_limit_s=s.solver.time_limit_s, mip_gap=s.solver.mip_gap
    )
    lost = float(result.totals.get("uncovered_scans_per_year", 0.0) or 0.0)
    if not s.allow_uncovered and lost > 1e-6:
        z = result.zones
        bad = z[z["uncovered_share"] > 1e-9]
        reasons = bad["uncovered_reason"].fillna("").astype(str).value_counts().head(3)
        why = "; ".join(f"{n} zone(s): {r or 'no capacity'}" for r, n in reasons.items())
        msg = (
            f"{s._source or 'scenario'}: the {s.drive_minutes:g}-minute standard cannot be met "
            f"for {lost:,.0f} scans/yr ({len(bad):,} zones): {why}. Raise drive_minutes, add "
            f"sites or capacity, or set allow_uncovered: true."
        )
        raise InfeasibleError(msg, "Infeasible")
    return result


def _placement_model(
    s: Scenario,
    optimise: Any,
    od: pd.DataFrame,
    zone_demand: Any,
    cands: pd.DataFrame,
    cyclos: pd.DataFrame,
    cyc_od: pd.DataFrame,
    **options: Any,
) -> Any:
    """The placement model with the scenario's settings (not solved); ``options``
    override PlacementModel arguments."""
    c, sc, f, cy = s.costs, s.scanners, s.fleet, s.cyclotrons
    sites = pd.DataFrame(cands.drop(columns="geometry", errors="ignore")).assign(
        allow_static=f.allow_static, allow_mobile=f.allow_mobile
    )
    if s.sites.static_allowed is not None:
        sites["allow_static"] = f.allow_static & sites["id"].isin(
            [*s.sites.static_allowed, *s.sites.lock_static]
        )
    demand = pd.DataFrame(zone_demand.drop(columns="geometry", errors="ignore"))
    cyc_minutes = cyc_od.rename(columns={"origin_id": "cyclotron_id", "destination_id": "site_id"})
    kw: dict[str, Any] = {
        "cyclotron_minutes": cyc_minutes[["site_id", "cyclotron_id", "minutes"]],
        "objective": s.objective,
        "drive_minutes": float(s.drive_minutes),
        "p_sites": s.p_sites,
        "static_scans_per_day": sc.static_scans_per_day,
        "working_days_per_year": sc.working_days_per_year,
        "mobile_scans_per_day": sc.mobile_scans_per_day,
        "mobile_weeks_per_year": sc.mobile_weeks_per_year,
        "target_utilisation": sc.target_utilisation,
        "max_static_per_site": sc.max_static_per_site,
        "max_mobile_days_per_site": f.max_visit_days_per_week,
        "mobile_units": f.mobile_units,
        "mobile_days_per_unit": f.days_per_unit,
        "max_sites_per_unit": f.max_sites_per_unit,
        "allow_static_and_mobile": f.allow_static_and_mobile,
        "static_capital_gbp": c.static_scanner_capital_gbp,
        "install_gbp": c.static_install_gbp,
        "contract_install_gbp": c.existing_site_install_gbp,
        "annualisation_years": c.annualisation_years,
        "static_running_gbp_per_year": c.static_running_gbp_per_year,
        "mobile_gbp_per_day": c.mobile_gbp_per_day,
        "tracer_primary_minutes": cy.primary_minutes,
        "tracer_backup_minutes": cy.backup_minutes,
        "require_backup": cy.require_backup,
        "cyclotron_doses_per_day": (
            dict(
                zip(
                    cyclos["id"].astype(str),
                    cyclos["daily_capacity_doses"].astype(float),
                    strict=True,
                )
            )
            if cy.enforce_capacity
            else None
        ),
        "lock_open": list(s.sites.lock_open),
        "lock_static": list(s.sites.lock_static),
        "forbid": list(s.sites.forbid),
        "capital_budget_gbp": c.capital_budget_gbp,
        "min_sites_per_lot": dict(s.sites.min_sites_per_lot) or None,
    }
    kw.update(options)
    return optimise.PlacementModel.from_od(od, demand, sites, **kw)


def _site_table(s: Scenario, placement: Any, cands: pd.DataFrame, capacity: Any) -> pd.DataFrame:
    """The optimiser's per-site table with coordinates, turnaround and utilisation."""
    sc = s.scanners
    sites = placement.sites.copy()
    sites["site_id"] = sites["site_id"].astype(str)
    coords = cands.assign(id=cands["id"].astype(str)).set_index("id")
    for col in ("name", "lot", "lon", "lat"):
        if col not in sites.columns and col in coords.columns:
            sites[col] = sites["site_id"].map(coords[col])
    if "is_contract" in coords.columns and "is_contract" not in sites.columns:
        sites["is_contract"] = (
            sites["site_id"].map(coords["is_contract"]).fillna(False).astype(bool)
        )
    sites["open"] = sites["decision"].astype(str) != "closed"
    turn = capacity.turnaround(
        sites[["site_id", "static_scanners", "mobile_days_per_week", "assigned_scans_per_year"]],
        scans_per_static_day=sc.static_scans_per_day,
        scans_per_mobile_day=sc.mobile_scans_per_day,
        settings=capacity.QueueSettings(
            working_days_per_year=sc.working_days_per_year,
            fixed_days=s.turnaround.admin_days + s.turnaround.report_days,
            targets_days=tuple(s.turnaround.target_days),
            mobile_weeks_per_year=sc.mobile_weeks_per_year,
        ),
    )
    keep = [
        c
        for c in turn.columns
        if c.startswith("within_") or c in ("slots_per_day", "mean_wait_days", "p_wait")
    ]
    sites = sites.merge(turn[["site_id", *keep]], on="site_id", how="left")
    closed = ~sites["open"]
    for col in keep:
        sites.loc[closed, col] = np.nan
    return sites.sort_values("site_id", kind="mergesort").reset_index(drop=True)


def _zone_table(
    s: Scenario,
    placement: Any,
    zones: Any,
    zone_demand: Any,
    od: pd.DataFrame,
    site_table: pd.DataFrame,
) -> Any:
    """Per zone: population, scans, ICB, lot, assigned site and drive minutes."""
    import geopandas as gpd

    pz = placement.zones.copy()
    pz["zone_id"] = pz["zone_id"].astype(str)
    base_cols = [
        c
        for c in ("id", "name", "icb_code", "icb_name", "lot", "population", "lon", "lat")
        if c in zones.columns
    ]
    out = pd.DataFrame(zones[base_cols]).rename(columns={"id": "zone_id"})
    out["zone_id"] = out["zone_id"].astype(str)
    keep = [c for c in pz.columns if c not in out.columns or c == "zone_id"]
    out = out.merge(pz[keep], on="zone_id", how="left")
    open_ids = set(site_table.loc[site_table["open"], "site_id"])
    static_ids = set(site_table.loc[site_table["static_scanners"] > 0, "site_id"])
    od = od.assign(
        origin_id=od["origin_id"].astype(str), destination_id=od["destination_id"].astype(str)
    )
    near_open = od[od["destination_id"].isin(open_ids)].groupby("origin_id")["minutes"].min()
    near_static = od[od["destination_id"].isin(static_ids)].groupby("origin_id")["minutes"].min()
    out["nearest_open_minutes"] = out["zone_id"].map(near_open)
    out["nearest_static_minutes"] = out["zone_id"].map(near_static)
    out = out.rename(columns={"site_id": "assigned_site"})
    out = out.sort_values("zone_id", kind="mergesort").reset_index(drop=True)
    return gpd.GeoDataFrame(
        out, geometry=gpd.points_from_xy(out["lon"], out["lat"]), crs="EPSG:4326"
    )


def _cyclotron_table(
    s: Scenario, site_table: pd.DataFrame, cyclos: pd.DataFrame, capacity: Any
) -> pd.DataFrame:
    open_sites = site_table[site_table["open"]].copy()
    table = pd.DataFrame(
        {
            "site_id": open_sites["site_id"],
            "assigned_scans_per_year": open_sites["assigned_scans_per_year"].astype(float),
            "primary_cyclotron": open_sites["tracer_source"].fillna("").astype(str),
            "primary_minutes": open_sites["tracer_minutes"],
            "backup_cyclotron": open_sites["backup_source"].fillna("").astype(str),
            "backup_minutes": open_sites["backup_minutes"],
        }
    )
    out = capacity.tracer_supply(
        table,
        cyclotron_ids=cyclos["id"].astype(str).tolist(),
        working_days_per_year=s.scanners.working_days_per_year,
        injected_mbq=s.cyclotrons.dose_activity_mbq,
        capacity_doses_per_day=dict(
            zip(cyclos["id"].astype(str), cyclos["daily_capacity_doses"].astype(float), strict=True)
        ),
    )
    names = dict(zip(cyclos["id"].astype(str), cyclos["name"].astype(str), strict=True))
    out.insert(1, "name", out["cyclotron_id"].map(names))
    return out


def _coverage_table(zones: Any) -> pd.DataFrame:
    """Population within each threshold of an open site: England, per lot, per ICB."""
    rows = []
    minutes = zones["nearest_open_minutes"].astype(float)
    pop = zones["population"].astype(float)
    everywhere = pd.Series(True, index=zones.index)
    groups: list[tuple[str, str, pd.Series]] = [("all", "England", everywhere)]
    if "lot" in zones.columns:
        for lot in sorted(zones["lot"].dropna().astype(str).unique()):
            groups.append(("lot", lot, zones["lot"].astype(str) == lot))
    if "icb_code" in zones.columns:
        names = zones.get("icb_name", zones["icb_code"])
        for code in sorted(zones["icb_code"].dropna().astype(str).unique()):
            mask = zones["icb_code"].astype(str) == code
            rows_name = str(names[mask].iloc[0])
            groups.append(("icb", f"{code} {rows_name}", mask))
    for level, name, mask in groups:
        total = float(pop[mask].sum())
        row: dict[str, Any] = {"level": level, "name": name, "population": round(total)}
        for t in COVERAGE_MINUTES:
            within = float(pop[mask & (minutes <= t)].sum())
            row[f"within_{t}_min"] = round(within)
            row[f"share_within_{t}_min"] = round(within / total, 6) if total else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def _totals(
    s: Scenario, placement: Any, sites: pd.DataFrame, zones: Any, cyclotrons: pd.DataFrame
) -> dict[str, Any]:
    """Headline figures of a run (rounded so CSVs are stable)."""
    pt = placement.totals
    open_ = sites[sites["open"]]
    pop = zones["population"].astype(float)
    total_pop = float(pop.sum())
    minutes = zones["nearest_open_minutes"].astype(float)
    static_minutes = zones["nearest_static_minutes"].astype(float)
    assigned = float(open_["assigned_scans_per_year"].sum())
    demand = float(
        pt.get("demand_scans_per_year", zones.get("scans_per_year", pd.Series(dtype=float)).sum())
    )
    cost = float(pt["annual_cost_gbp"])
    out: dict[str, Any] = {
        "scenario": s.name,
        "drive_minutes": float(s.drive_minutes),
        "objective": s.objective,
        "status": str(placement.status),
        "mip_gap": None if placement.mip_gap is None else round(float(placement.mip_gap), 6),
        "zones": len(zones),
        "population": round(total_pop),
    }
    for t in COVERAGE_MINUTES:
        within = float(pop[minutes <= t].sum())
        out[f"population_within_{t}_min"] = round(within)
        out[f"share_within_{t}_min"] = round(within / total_pop, 6) if total_pop else np.nan
    within_std = float(pop[minutes <= s.drive_minutes].sum())
    out["share_within_standard"] = round(within_std / total_pop, 6) if total_pop else np.nan
    out["share_within_standard_of_static"] = (
        round(float(pop[static_minutes <= s.drive_minutes].sum()) / total_pop, 6)
        if total_pop
        else np.nan
    )
    worst = zones.assign(_m=zones["minutes"].astype(float)).sort_values(
        ["_m", "zone_id"], ascending=[False, True], kind="mergesort"
    )
    worst = worst[worst["_m"].notna()]
    if len(worst):
        w = worst.iloc[0]
        out["worst_zone"] = f"{w['zone_id']} {w.get('name', '')}".strip()
        out["worst_zone_minutes"] = round(float(w["_m"]), 1)
    else:
        out["worst_zone"], out["worst_zone_minutes"] = "", np.nan
    uncovered = (
        zones[~zones["covered"].fillna(False).astype(bool)]
        if "covered" in zones
        else zones.iloc[:0]
    )
    out["uncovered_zones"] = len(uncovered)
    out["uncovered_population"] = round(float(uncovered["population"].sum()))
    out["sites_open"] = len(open_)
    out["static_sites"] = int((open_["static_scanners"] > 0).sum())
    out["mobile_sites"] = int((open_["mobile_days_per_week"] > 0).sum())
    out["static_scanners"] = int(open_["static_scanners"].sum())
    out["mobile_days_per_week"] = round(float(open_["mobile_days_per_week"].sum()), 3)
    out["capacity_scans_per_year"] = round(float(open_["capacity_scans_per_year"].sum()), 1)
    out["demand_scans_per_year"] = round(demand, 1)
    out["assigned_scans_per_year"] = round(assigned, 1)
    out["capacity_over_demand"] = (
        round(out["capacity_scans_per_year"] / demand, 6) if demand else np.nan
    )
    out["mean_utilisation"] = (
        round(assigned / out["capacity_scans_per_year"], 6)
        if out["capacity_scans_per_year"]
        else np.nan
    )
    out["annual_cost_gbp"] = round(cost, 2)
    out["cost_per_scan_gbp"] = round(cost / assigned, 4) if assigned else np.nan
    for col in [c for c in sites.columns if c.startswith("within_") and c.endswith("_days")]:
        w = open_["assigned_scans_per_year"].astype(float)
        v = open_[col].astype(float)
        out[f"turnaround_{col}"] = round(float((w * v).sum() / w.sum()), 6) if w.sum() else np.nan
    out["cyclotrons_used"] = int((cyclotrons["sites_primary"] > 0).sum())
    out["tracer_doses_per_day"] = round(float(cyclotrons["doses_per_day"].sum()), 3)
    return out
