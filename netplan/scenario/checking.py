"""Check a scenario without solving it (``netplan validate``).

:func:`check_scenario` runs what can go wrong before the placement model: the schema (done
when the scenario was read), the data it needs, the study area, the site and cyclotron
rules (every id named must exist), and optionally the network and drive times with the
standard's feasibility precheck. It returns what it found, so a user learns of a typo in
seconds instead of after a solve.
"""

from __future__ import annotations

from typing import Any

from .pipeline import _filter_area, _inputs, _sites_and_cyclotrons

#: A :class:`netplan.scenario.schema.Scenario` (not imported: see pipeline.Scenario).
Scenario = Any


def check_scenario(s: Scenario, *, drive_times: bool = False) -> dict[str, Any]:
    """Check ``s`` as :meth:`Scenario.run` would, stopping before the placement model.

    Parameters
    ----------
    s
        A scenario (already schema-checked by :meth:`Scenario.from_yaml`).
    drive_times
        Also build the road network and the zone -> site drive times, and check that the
        standard can be met (``allow_uncovered: false``); slower (the England network and
        its drive times take a minute or more).

    Returns
    -------
    dict
        ``zones``, ``population``, ``candidate_sites``, ``cyclotrons`` and, with
        ``drive_times``, ``zones_within_standard`` (zones with a candidate within
        ``drive_minutes``) and ``drive_time_pairs``.

    Raises
    ------
    ScenarioError, InfeasibleError, DataError
        As :meth:`Scenario.run` would, naming the file and key.
    """
    from .. import demand as demand_mod
    from .. import sites as sites_mod

    if drive_times:
        _, _, zone_demand, cands, cyclos, od, _, _ = _inputs(s, {})
        within = od.loc[od["minutes"] <= float(s.drive_minutes), "origin_id"].nunique()
        extra = {"zones_within_standard": int(within), "drive_time_pairs": len(od)}
        zones = zone_demand
    else:
        zones = _filter_area(s, demand_mod.load_zones())
        cands, cyclos = _sites_and_cyclotrons(s, sites_mod)
        extra = {}
    return {
        "zones": len(zones),
        "population": int(zones["population"].sum()),
        "candidate_sites": len(cands),
        "cyclotrons": len(cyclos),
        **extra,
    }
