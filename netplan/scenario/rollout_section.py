"""The ``rollout:`` section of a scenario: the years, budgets and starting state of a roll-out.

Read by :mod:`netplan.scenario.rollout` (``netplan rollout``, :meth:`Scenario.rollout`);
ignored by ``netplan run``. Every default is documented with its source in
netplan/defaults.yaml (section ``rollout``).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from .sections import _d, _Section

_MAX_YEARS = 30


class RolloutSection(_Section):
    """A multi-year roll-out plan (see :class:`netplan.optimise.RolloutModel`).

    ``start_year``..``end_year``: the financial years planned (default the contract,
    2015/16 to 2024/25; demand of each year from the demand model). ``initial``: the
    scanners in service before the first year: ``mobile_led`` (static scanners only at
    Freeman and James Cook, ``rollout.mobile_led_static_scanners``), ``none``, a mapping
    ``{site_id: scanners}`` or the path of a CSV with columns ``site_id, static_scanners``
    (relative to the scenario file). ``capital_gbp_per_year`` (a number or ``{year: GBP}``)
    and ``capital_total_gbp`` (default the contract's £87 m) bound the capital spent.
    ``removal_gbp_per_scanner``: null keeps every installed scanner; a number allows
    removals at that cost. ``discount_rate``: Green Book 3.5 %. ``saving_target``: the
    contract's 18 % cut in the cost of a scan, the line of the report.
    ``travel_stage``: re-assign the zones of the least-cost plan for the least patient travel
    (false: off). ``time_limit_s`` and ``mip_gap`` apply to the coverage and the cost stage
    (each keeps the best plan it found, with its gap; a stage that ends on its gap gives
    the same plan however busy the machine).
    """

    start_year: int = Field(default_factory=lambda: _d("rollout.start_year"), ge=2000, le=2100)
    end_year: int = Field(default_factory=lambda: _d("rollout.end_year"), ge=2000, le=2100)
    initial: str | dict[str, Any] = Field(default_factory=lambda: _d("rollout.initial"))
    capital_gbp_per_year: float | dict[int, float] | None = Field(
        default_factory=lambda: _d("rollout.capital_gbp_per_year")
    )
    capital_total_gbp: float | None = Field(
        default_factory=lambda: _d("rollout.capital_total_gbp"), ge=0
    )
    discount_rate: float = Field(default_factory=lambda: _d("rollout.discount_rate"), ge=0, le=0.5)
    removal_gbp_per_scanner: float | None = Field(
        default_factory=lambda: _d("rollout.removal_gbp_per_scanner"), ge=0
    )
    saving_target: float = Field(default_factory=lambda: _d("rollout.saving_target"), ge=0, lt=1)
    travel_stage: bool = Field(default_factory=lambda: _d("rollout.travel_stage"))
    time_limit_s: float = Field(300.0, gt=0, le=86400)
    mip_gap: float = Field(0.001, ge=0, le=1)

    @model_validator(mode="after")
    def _check_years(self) -> RolloutSection:
        if self.end_year < self.start_year:
            msg = (
                f"end_year ({self.end_year}) is before start_year ({self.start_year}); "
                "give end_year >= start_year"
            )
            raise ValueError(msg)
        if self.end_year - self.start_year + 1 > _MAX_YEARS:
            msg = (
                f"at most {_MAX_YEARS} years can be planned, got {self.start_year}..{self.end_year}"
            )
            raise ValueError(msg)
        budget = self.capital_gbp_per_year
        if isinstance(budget, dict):
            years = set(range(self.start_year, self.end_year + 1))
            bad = sorted(set(budget) - years)
            missing = sorted(years - set(budget))
            if bad or missing:
                msg = (
                    f"capital_gbp_per_year must give one budget for each year "
                    f"{self.start_year}..{self.end_year}; "
                    + (f"years outside the roll-out: {bad}; " if bad else "")
                    + (f"missing: {missing}" if missing else "")
                )
                raise ValueError(msg.rstrip("; "))
            if any(v < 0 for v in budget.values()):
                msg = "capital_gbp_per_year budgets must be >= 0"
                raise ValueError(msg)
        elif budget is not None and budget < 0:
            msg = "capital_gbp_per_year must be >= 0"
            raise ValueError(msg)
        init = self.initial
        if isinstance(init, dict):
            bad_counts = {
                k: v
                for k, v in init.items()
                if isinstance(v, bool) or not isinstance(v, int) or v < 0
            }
            if bad_counts:
                msg = f"initial gives scanner counts that are not whole numbers >= 0: {bad_counts}"
                raise ValueError(msg)
        elif init not in ("mobile_led", "none") and not init.lower().endswith(".csv"):
            msg = (
                f"initial must be 'mobile_led', 'none', a mapping {{site_id: scanners}} or the "
                f"path of a .csv file (site_id, static_scanners), got {init!r}"
            )
            raise ValueError(msg)
        return self
