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

The package is split by what each part owns (arrows: imports at run time)::

    schema --> sections, loading         Scenario; the sections; files, extends, messages
      | Scenario.run
      v
    pipeline --> loading, tables, result the run; its output tables; the result container
    sweeps                               --set KEY=V1,V2 variants (via with_overrides)
    checking --> pipeline                check without solving (netplan validate)

:func:`shipped` lists the scenarios that ship with netplan (package data; the repository's
``scenarios/``); :meth:`Scenario.from_yaml` finds one by its name alone.

``ScenarioResult.to_folder`` calls :func:`netplan.report.write_result`; ``netplan.report``,
``netplan.maps`` and ``netplan.plot`` never import this package. Every name is re-exported
here.
"""

from __future__ import annotations

from .._errors import InfeasibleError as InfeasibleError
from .._errors import NetplanError as NetplanError
from .._errors import ScenarioError as ScenarioError
from .._errors import ValidationError as ValidationError
from .checking import check_scenario as check_scenario
from .loading import _deep_merge as _deep_merge
from .loading import _dotted_keys as _dotted_keys
from .loading import _load_merged as _load_merged
from .loading import _origin as _origin
from .loading import _suggest as _suggest
from .loading import check_ids as check_ids
from .loading import resolve_scenario_path as resolve_scenario_path
from .loading import shipped as shipped
from .pipeline import _RUN_STEPS as _RUN_STEPS
from .pipeline import _demand_params as _demand_params
from .pipeline import _filter_area as _filter_area
from .pipeline import _inputs as _inputs
from .pipeline import _placement_model as _placement_model
from .pipeline import _precheck as _precheck
from .pipeline import _sites_and_cyclotrons as _sites_and_cyclotrons
from .pipeline import _solve as _solve
from .pipeline import _step as _step
from .pipeline import run_scenario as run_scenario
from .result import ScenarioResult as ScenarioResult
from .schema import Scenario as Scenario
from .schema import _atomic_write_text as _atomic_write_text
from .schema import _explain as _explain
from .schema import _model_at as _model_at
from .schema import _unwrap as _unwrap
from .sections import AreaSection as AreaSection
from .sections import CostsSection as CostsSection
from .sections import CyclotronsSection as CyclotronsSection
from .sections import DemandSection as DemandSection
from .sections import ExtraCyclotron as ExtraCyclotron
from .sections import ExtraSite as ExtraSite
from .sections import FleetSection as FleetSection
from .sections import NetworkSection as NetworkSection
from .sections import OutputsSection as OutputsSection
from .sections import ScannersSection as ScannersSection
from .sections import SitesSection as SitesSection
from .sections import SolverSection as SolverSection
from .sections import TurnaroundSection as TurnaroundSection
from .sections import _d as _d
from .sections import _df as _df
from .sections import _Section as _Section
from .sweeps import overrides_from_sets as overrides_from_sets
from .sweeps import parse_set as parse_set
from .sweeps import sweep_variants as sweep_variants
from .tables import COVERAGE_MINUTES as COVERAGE_MINUTES
from .tables import _coverage_table as _coverage_table
from .tables import _cyclotron_table as _cyclotron_table
from .tables import _site_table as _site_table
from .tables import _totals as _totals
from .tables import _zone_table as _zone_table

__all__ = [
    "COVERAGE_MINUTES",
    "InfeasibleError",
    "NetplanError",
    "Scenario",
    "ScenarioResult",
    "check_ids",
    "check_scenario",
    "shipped",
]
