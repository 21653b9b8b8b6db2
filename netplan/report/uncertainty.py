"""Outputs of ``netplan uncertainty``: four CSV tables and a short markdown summary.

The files are written through :func:`netplan.report.folder.atomic_folder`, so the
``.netplan-output`` marker owns them exactly as it owns a run's files.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .folder import atomic_folder
from .tables import _pct

#: The files :func:`write_uncertainty` writes.
UNCERTAINTY_FILES = (
    "uncertainty_draws.csv",
    "uncertainty_summary.csv",
    "uncertainty_sites.csv",
    "cyclotron_failures.csv",
    "uncertainty.md",
)

ATTRIBUTION = (
    "Road data (c) OpenStreetMap contributors (ODbL). Contains public sector information "
    "licensed under the Open Government Licence v3.0."
)


def uncertainty_names() -> list[str]:
    """The files an uncertainty run writes (for ``check_output_folder(names=...)``)."""
    return list(UNCERTAINTY_FILES)


def summary_markdown(result: Any) -> str:
    """A short markdown summary of an uncertainty result (plain tables in, text out)."""
    st = result.settings
    summ = result.summary.set_index("figure")
    lines = [
        f"# Plan robustness: {result.scenario_name}",
        "",
        f"{st['draws']} demand draws (seed {st['seed']}) of a fixed plan; drive standard "
        f"{st['drive_minutes']:g} min. Distributions: defaults.yaml section `uncertainty`.",
        "",
        "| figure | median | 5 % | 95 % |",
        "|---|---|---|---|",
    ]
    for fig in (
        "demand_factor",
        "demand_scans_per_year",
        "share_served_within_standard",
        "unserved_scans_per_year",
        "mean_utilisation",
        "max_utilisation",
        "sites_full",
        "turnaround_within_7_days",
        "max_cyclotron_load",
    ):
        if fig in summ.index:
            r = summ.loc[fig]
            lines.append(f"| {fig} | {r['median']:.4g} | {r['p5']:.4g} | {r['p95']:.4g} |")
    lines += ["", "| standard | probability met |", "|---|---|"]
    for fig in [f for f in summ.index if f.startswith("probability_")]:
        lines.append(
            f"| {fig.removeprefix('probability_meets_')} | {_pct(summ.loc[fig, 'mean'])} |"
        )
    top = result.sites[result.sites["draws_full"] > 0].head(10)
    lines += ["", "Sites at their utilisation ceiling most often:", ""]
    lines += [f"- {r.site_id}: {_pct(r.share_of_draws_full)} of draws" for r in top.itertuples()]
    if top.empty:
        lines.append("- none")
    lines += ["", "Each cyclotron failing in turn (demand as planned):", ""]
    lines += ["| failed | sites affected | resupplied | unsupplied | scans unsupplied/yr |",
              "|---|---|---|---|---|"]  # fmt: skip
    for r in result.cyclotron_failures.itertuples():
        lines.append(
            f"| {r.failed_cyclotron} | {r.sites_affected} | {r.sites_resupplied} | "
            f"{r.sites_unsupplied} | {r.scans_unsupplied_per_year:,.0f} |"
        )
    lines += ["", ATTRIBUTION, ""]
    return "\n".join(lines)


def write_uncertainty(
    result: Any, out_dir: str | Path, *, force: bool = False, inputs: Sequence[Any] = ()
) -> dict[str, Path]:
    """Write the tables of an uncertainty result into ``out_dir`` atomically.

    Returns
    -------
    dict
        ``draws, summary, sites, cyclotron_failures, markdown`` -> path.
    """
    out_dir = Path(out_dir).absolute()
    tables = {
        "draws": ("uncertainty_draws.csv", result.draws),
        "summary": ("uncertainty_summary.csv", result.summary),
        "sites": ("uncertainty_sites.csv", result.sites),
        "cyclotron_failures": ("cyclotron_failures.csv", result.cyclotron_failures),
    }
    with atomic_folder(out_dir, force=force, inputs=inputs) as tmp:
        for name, df in tables.values():
            df.to_csv(tmp / name, index=False, float_format="%.6g", lineterminator="\n")
        (tmp / "uncertainty.md").write_text(summary_markdown(result), encoding="utf-8")
    paths = {k: out_dir / name for k, (name, _) in tables.items()}
    paths["markdown"] = out_dir / "uncertainty.md"
    return paths
