"""Zone merging and the pre-solve checks of what the merged zones can reach.

Zones with the same reachable sites (and, for ``"drive_time"``, the same minutes) are
merged exactly into groups (see *Merging* in :class:`~netplan.optimise.PlacementModel`):
:func:`group_zones` finds the groups of a :class:`~netplan.optimise._inputs.
PlacementInputs` by hashing each zone's site list, verifies every group against its first
zone (so a hash collision can never merge two different lists) and returns them as a
:class:`ZoneGroups` with each group's demand, population and pairs. :func:`presolve_checks`
then reports the zones without a candidate and the lots or single sites that cannot carry
the demand only they can serve. Nothing here builds a row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._errors import ValidationError

if TYPE_CHECKING:
    from ._inputs import PlacementInputs


@dataclass(frozen=True)
class ZoneGroups:
    """Zones merged into groups, and each group's demand and pairs (internal).

    Attributes
    ----------
    zone_group
        Group of each zone (0..n_groups-1).
    n_groups
        Number of groups; ``merged`` whether it is below the number of zones.
    note
        Why zones were (or were not) merged.
    gd, gpop
        Demand (scans/yr) and population of each group.
    group_rep
        Representative zone of each group (its smallest zone index), whose pairs are the
        group's pairs.
    gcount, gstart
        Number of pairs of each group and its first pair's position.
    gp_group, gp_site, gp_minutes
        The group pairs: group, site and minutes (sorted by group then site).
    group_coverable
        Whether a group has any pair.
    zstart, zcount
        First pair and number of pairs of each zone (in the zone pairs of the inputs).
    """

    zone_group: np.ndarray
    n_groups: int
    merged: bool
    note: str
    gd: np.ndarray
    gpop: np.ndarray
    group_rep: np.ndarray
    gcount: np.ndarray
    gstart: np.ndarray
    gp_group: np.ndarray
    gp_site: np.ndarray
    gp_minutes: np.ndarray
    group_coverable: np.ndarray
    zstart: np.ndarray
    zcount: np.ndarray

    @property
    def n_group_pairs(self) -> int:
        """Number of group pairs (columns ``x``)."""
        return len(self.gp_site)

    def message(self, n_zones: int) -> str:
        """The message the model reports about merging ("" for none)."""
        if self.merged:
            return f"{self.note}: {n_zones:,} zones -> {self.n_groups:,} groups"
        return self.note


def group_zones(inputs: PlacementInputs, merge: bool | str) -> ZoneGroups:
    """Group zones with identical reachable sets (and times where needed); exact.

    ``merge`` is the model's ``merge_zones`` ({"auto", True, False}); with True a merge
    that would not be exact raises ValidationError.
    """
    nz = inputs.n_zones
    counts = np.bincount(inputs.pz, minlength=nz)
    starts = np.zeros(nz + 1, np.int64)
    np.cumsum(counts, out=starts[1:])
    zstart, zcount = starts[:-1], counts
    reason = ""
    can = True
    if inputs.objective == "drive_time":
        reason = (
            "drive_time weights each zone-site pair by its own minutes, so only "
            "zones with identical sites and times are merged"
        )
    if inputs.objective == "max_coverage":
        ratio = np.divide(inputs.pop, inputs.d, out=np.full(nz, np.nan), where=inputs.d > 0)
        can = "pending-ratio"  # checked after keys are known
    use = merge is True or (merge == "auto")
    if not use:
        return _groups(
            inputs, zstart, zcount, np.arange(nz), "zone merging off (merge_zones=False)"
        )
    rng = np.random.default_rng(20240607)
    h1 = rng.integers(1, 2**62, size=inputs.n_sites, dtype=np.int64)
    h2 = rng.integers(1, 2**62, size=inputs.n_sites, dtype=np.int64)
    k1 = np.zeros(nz, np.int64)
    k2 = np.zeros(nz, np.int64)
    with np.errstate(over="ignore"):
        np.add.at(k1, inputs.pz, h1[inputs.ps])
        np.bitwise_xor.at(k2, inputs.pz, h2[inputs.ps])
        if inputs.objective == "drive_time":
            tb = np.round(inputs.pt * 1e6).astype(np.int64) * h1[inputs.ps]
            k3 = np.zeros(nz, np.int64)
            np.add.at(k3, inputs.pz, tb)
        else:
            k3 = np.zeros(nz, np.int64)
    keys = pd.DataFrame({"n": counts, "k1": k1, "k2": k2, "k3": k3})
    # uncoverable zones stay on their own (no variables anyway)
    keys.loc[counts == 0, "k1"] = -np.arange(1, int((counts == 0).sum()) + 1)
    group = keys.groupby(["n", "k1", "k2", "k3"], sort=False).ngroup().to_numpy()
    group = _verify_groups(inputs, zstart, group)
    if can == "pending-ratio":
        g_ok = (
            pd.Series(ratio).groupby(group).agg(lambda s: np.allclose(s, s.iloc[0], equal_nan=True))
        )
        if not bool(g_ok.all()):
            why = (
                "max_coverage weights zones by population but capacity by demand, and "
                "population/demand differs between zones with the same sites, so "
                "merging would not be exact"
            )
            if merge is True:
                msg = f"merge_zones=True is not exact here: {why}"
                raise ValidationError(msg)
            return _groups(inputs, zstart, zcount, np.arange(nz), f"zone merging off: {why}")
    return _groups(
        inputs, zstart, zcount, group, reason or "zones with identical reachable sites merged"
    )


def _verify_groups(inputs: PlacementInputs, zstart: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Check every zone's site list (and times) equals its group's first zone's; split
    any hash collision into its own group so merging is exact."""
    nz = inputs.n_zones
    first = np.full(group.max() + 1 if nz else 0, -1, np.int64)
    order = np.arange(nz)[::-1]
    first[group[order]] = order  # smallest zone index per group
    rep = first[group]
    rank = np.arange(len(inputs.pz)) - zstart[inputs.pz]
    rep_pair = zstart[rep[inputs.pz]] + rank
    same = inputs.ps[rep_pair] == inputs.ps
    if inputs.objective == "drive_time":
        same &= inputs.pt[rep_pair] == inputs.pt
    bad = np.zeros(nz, bool)
    bad[inputs.pz[~same]] = True
    if bad.any():  # pragma: no cover - 64-bit hash collision
        group = group.copy()
        group[bad] = group.max() + 1 + np.arange(int(bad.sum()))
    return group


def _groups(
    inputs: PlacementInputs,
    zstart: np.ndarray,
    zcount: np.ndarray,
    group: np.ndarray,
    note: str,
) -> ZoneGroups:
    """The groups of the labels ``group``: demand, population, representative and pairs."""
    _, group = np.unique(group, return_inverse=True)
    ng = int(group.max() + 1) if len(group) else 0
    # representative zone of each group, and its pairs become the group's pairs
    rep = np.full(ng, -1, np.int64)
    order = np.arange(inputs.n_zones)[::-1]
    rep[group[order]] = order
    counts = zcount[rep]
    gstart = np.zeros(ng + 1, np.int64)
    np.cumsum(counts, out=gstart[1:])
    idx = np.repeat(zstart[rep], counts) + (np.arange(gstart[-1]) - np.repeat(gstart[:-1], counts))
    return ZoneGroups(
        zone_group=group,
        n_groups=ng,
        merged=ng < inputs.n_zones,
        note=note,
        gd=np.bincount(group, weights=inputs.d, minlength=ng),
        gpop=np.bincount(group, weights=inputs.pop, minlength=ng),
        group_rep=rep,
        gcount=counts,
        gstart=gstart[:-1],
        gp_group=np.repeat(np.arange(ng), counts),
        gp_site=inputs.ps[idx],
        gp_minutes=inputs.pt[idx],
        group_coverable=counts > 0,
        zstart=zstart,
        zcount=zcount,
    )


def presolve_checks(
    inputs: PlacementInputs, groups: ZoneGroups
) -> tuple[np.ndarray, bool, list[str]]:
    """What can be told before solving: ``(site_max_capacity, shortfall, messages)``.

    ``site_max_capacity`` is each site's largest capacity (scans/yr at the utilisation
    ceiling, 0 where unavailable); ``shortfall`` whether some zones that can reach only
    one lot or one site need more than it can provide (so some demand will be
    uncovered); ``messages`` say which zones cannot be covered and which lots or sites
    fall short.
    """
    messages: list[str] = []
    lonely = ~inputs.coverable
    if lonely.any():
        reasons = pd.Series(inputs.zone_reason[lonely]).value_counts()
        for why, count in reasons.items():
            mask = lonely & (inputs.zone_reason == why)
            messages.append(
                f"{count:,} zone(s) cannot be covered ({why}): "
                f"{inputs.d[mask].sum():,.0f} scans/yr, population {inputs.pop[mask].sum():,.0f}; "
                f"e.g. {list(inputs.zone_ids[mask][:5])}"
            )
    rho = inputs.target_utilisation
    cap_s = rho * inputs.static_scans_per_day * inputs.working_days_per_year
    cap_m = rho * inputs.mobile_scans_per_day * inputs.mobile_weeks_per_year
    site_cap = np.where(inputs.available, cap_s * inputs.smax + cap_m * inputs.mmax, 0.0)
    # zones that can reach only one lot / one site must fit in that lot / site
    gsite = groups.gp_site
    glot = inputs.site_lot[gsite]
    checks: list[tuple[str, np.ndarray, float]] = []
    if groups.n_group_pairs:
        lots = pd.Series(glot, dtype=object)
        full = np.arange(groups.n_groups)
        one_lot = (
            lots.groupby(groups.gp_group)
            .nunique(dropna=False)
            .reindex(full, fill_value=0)
            .to_numpy()
            == 1
        )
        lot_of = lots.groupby(groups.gp_group).first().reindex(full).to_numpy()
        for lot in pd.unique(inputs.site_lot):
            if lot is None or (isinstance(lot, float) and math.isnan(lot)):
                continue
            in_lot = one_lot & (lot_of == lot)
            cap = float(site_cap[inputs.site_lot == lot].sum())
            checks.append((f"lot {lot!r}", in_lot, cap))
        single = groups.gcount == 1
        first_site = gsite[groups.gstart[single]]
        for s in np.unique(first_site):
            at_site = np.zeros(groups.n_groups, bool)
            at_site[np.flatnonzero(single)[first_site == s]] = True
            checks.append((f"site {inputs.site_ids[s]!r}", at_site, float(site_cap[s])))
    shortfall = False
    for label, members, cap in checks:
        need = float(groups.gd[members].sum())
        if need > cap + 1e-6:
            shortfall = True
            messages.append(
                f"{label}: zones that can reach only it need {need:,.0f} scans/yr but its "
                f"sites provide at most {cap:,.0f} at {rho:.0%} utilisation; at least "
                f"{need - cap:,.0f} scans/yr will be uncovered"
            )
    return site_cap, shortfall, messages
