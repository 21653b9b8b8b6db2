"""The scenario YAML schema below the root: one validated pydantic model per section.

Each section (``network``, ``demand``, ``sites``, ``cyclotrons``, ``fleet``, ``scanners``,
``costs``, ``turnaround``, ``solver``, ``outputs``) rejects unknown keys and takes its
defaults from :mod:`netplan.defaults`; :class:`netplan.scenario.Scenario` puts them together.
A new setting goes in its section here (and is read by :mod:`netplan.scenario.pipeline`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from .. import defaults as _defaults
from .._errors import ScenarioError
from ._checks import coerce_fields, explain

_Pos = Annotated[float, Field(gt=0)]
_NonNeg = Annotated[float, Field(ge=0)]


def _d(key: str) -> Any:
    """Default value from ``netplan/defaults.yaml`` (dotted key)."""
    return _defaults.get(key)


def _df(key: str) -> Any:
    return Field(default_factory=lambda: _d(key))


class _CheckedMeta(type(BaseModel)):  # type: ignore[misc]
    """Building a model in code raises netplan's error, not pydantic's.

    Done in the metaclass, not ``__init__``: pydantic calls a custom ``__init__`` for nested
    sections too, which would hide the dotted key of the error.
    """

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except PydanticValidationError as exc:
            raise ScenarioError(explain(exc, cls.__name__, {}, cls)) from None


class _Checked(BaseModel, metaclass=_CheckedMeta):
    """A model whose YAML scalars are read by field type and whose errors are netplan's.

    Booleans are not numbers, NaN and infinities are refused, and building or assigning a
    bad value raises :class:`~netplan.ScenarioError` (a ``ValueError``), never pydantic's
    own error (see :mod:`netplan.scenario._checks`).
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _read_scalars(cls, data: Any) -> Any:
        return coerce_fields(cls, data)

    def __setattr__(self, name: str, value: Any) -> None:
        try:
            super().__setattr__(name, value)
        except PydanticValidationError as exc:
            raise ScenarioError(explain(exc, type(self).__name__, {}, type(self))) from None


class _Section(_Checked):
    """A scenario section (see the module docstring)."""


class NetworkSection(_Section):
    """Road network: a built-in name or an OSM file, and speed settings.

    ``profile`` names the speed profile (``free_flow``, the planning standard, or
    ``daytime``; or a profile file from ``netplan calibrate``; see netplan/profiles.yaml).
    The other speed fields adjust it: ``speeds_kph`` overrides OSM class speeds one by one,
    ``congestion`` multiplies a class's speed (``motorway`` and ``major`` included on the
    major-road network) and ``calibration`` every road speed. ``snap_nodes`` is the number
    of entry nodes each zone and site joins the graph at (default 4; 1 = the nearest node
    only; see netplan/defaults.yaml ``network``).
    """

    name: str = "england-major-roads"
    profile: str = "free_flow"
    snap_nodes: int = Field(default_factory=lambda: _d("network.snap_nodes"), ge=1, le=16)
    speeds_kph: dict[str, _Pos] = Field(default_factory=dict)
    maxspeed_factor: float = Field(0.8, gt=0, le=2)
    use_maxspeed: bool = True
    congestion: dict[str, _Pos] = Field(default_factory=dict)
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
    tracer_mix: dict[str, _NonNeg] = _df("demand.tracer_mix")
    age_weighting: bool = _df("demand.age_weighting")
    age_weights: dict[str, _NonNeg] = _df("demand.age_weights")
    area: AreaSection = Field(default_factory=AreaSection)


class ExtraSite(_Section):
    """A candidate site that is not in the NHS hospital list."""

    id: str
    name: str
    lon: float = Field(ge=-8.75, le=1.9)
    lat: float = Field(ge=49.8, le=60.95)
    lot: str | None = None


class ContractPreference(_Section):
    """How the plan treats the 28 contract sites (``sites.contract_preference``).

    ``install_saving`` (default true): a contract site already has a PET-CT suite, so its
    site installation (``costs.static_install_gbp``) is not paid again; it pays
    ``costs.existing_site_install_gbp`` (default 0) instead. False charges it like any other
    site. ``lock`` (default false): true keeps every contract site open (``lock_open``).
    Defaults and reasoning: netplan/defaults.yaml ``sites``.
    """

    install_saving: bool = Field(default_factory=lambda: _d("sites.contract_install_saving"))
    lock: bool = Field(default_factory=lambda: _d("sites.contract_lock"))


class SitesSection(_Section):
    """Candidate sites and user rules.

    ``eligibility`` is the rule that decides which hospitals of the NHS.uk list may host
    PET-CT (see :mod:`netplan._eligibility` and data/README.md): ``pet_ct_host`` (default)
    keeps acute general hospitals and specialist cancer centres and excludes eye,
    orthopaedic, rehabilitation, mental-health, maternity, children's, dental and community
    hospitals, hospices, treatment centres, minor-injury units and the like; ``all_acute``
    is the filter before that rule (NHS acute-trust hospitals); ``none`` keeps every
    hospital. The 28 contract sites are always eligible. ``candidates`` then chooses among
    the eligible sites (``contract``, ``acute``: the others, ``contract+acute``, ``none``).
    ``include`` adds hospitals the rule excludes (so do ``lock_open`` and ``lock_static``),
    ``exclude`` removes sites, ``forbid`` keeps them closed, ``extra`` adds sites that are
    not in the list. Every hospital's status and reason is written to ``candidates.csv``.
    ``contract_preference``: see :class:`ContractPreference`.
    """

    eligibility: Literal["pet_ct_host", "all_acute", "none"] = Field(
        default_factory=lambda: _d("sites.eligibility")
    )
    contract_preference: ContractPreference = Field(default_factory=ContractPreference)
    candidates: Literal["contract+acute", "contract", "acute", "none"] = "contract+acute"
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    extra: list[ExtraSite] = Field(default_factory=list)
    lock_open: list[str] = Field(default_factory=list)
    lock_static: list[str] = Field(default_factory=list)
    forbid: list[str] = Field(default_factory=list)
    static_allowed: list[str] | None = None
    min_sites_per_lot: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)


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
    capacity_doses_per_day: dict[str, _Pos] = Field(default_factory=dict)
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
    #: the weekly rota (netplan.optimise.rota): weekdays, relocation limit and cost, per-unit
    #: home bases (site ids, unit i gets the i-th), spread visits; ``rota: false`` skips it
    rota: bool = True
    days: list[Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]] = Field(
        default_factory=lambda: ["Mon", "Tue", "Wed", "Thu", "Fri"], min_length=1
    )
    max_relocation_minutes: float = Field(
        default_factory=lambda: _d("scanners.mobile_max_relocation_minutes"), gt=0, le=1440
    )
    relocation_gbp_per_move: float = Field(
        default_factory=lambda: _d("costs.mobile_relocation_gbp_per_move"), ge=0
    )
    home_bases: list[str] = Field(default_factory=list)
    spread_days: bool = False


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
    target_days: list[_Pos] = Field(
        default_factory=lambda: [
            float(_d("service.turnaround_target_days")),
            float(_d("service.turnaround_secondary_days")),
        ],
        min_length=1,
    )


class TravelSection(_Section):
    """Patient travel after cost (``cost`` and ``cover_then_cost`` objectives).

    ``cost_tolerance``: the plan with the least patient travel among those that serve the
    same zones and cost at most this share more than the cost stage's plan (0.02: within
    2 %, a judgement: small against the contract's 18 % saving, enough to move scanners
    to where patients live). 0 only breaks ties between equal-cost plans; null turns the
    stage off (where the cost stage leaves the scanners is then an accident of the search).
    """

    cost_tolerance: float | None = Field(0.02, ge=0, le=1)


class SolverSection(_Section):
    """MIP solver settings."""

    name: Literal["highs", "cbc"] = "highs"
    time_limit_s: float = Field(300.0, gt=0, le=86400)
    mip_gap: float = Field(0.0, ge=0, le=1)
    #: stop the site decomposition after this many master solves (a deterministic limit:
    #: the same plan on a quiet or a busy machine); null: the gap or time limit only
    max_rounds: int | None = Field(None, ge=1)


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
