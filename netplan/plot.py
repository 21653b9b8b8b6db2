"""Static matplotlib figures for reports and notebooks.

Every function takes ``ax=None`` (a new figure is made when it is None) and returns the
:class:`matplotlib.axes.Axes` it drew on (``ax.figure`` is the figure). Figures are made
with :class:`matplotlib.figure.Figure` directly, not through ``pyplot``, so they work with
any backend (Agg on servers) and are not kept alive by pyplot's figure manager.
:func:`save_figure` writes a PNG atomically.

Examples
--------
>>> import numpy as np
>>> ax = coverage_curve(np.array([10.0, 50.0, 70.0]), np.array([100, 200, 700]))
>>> [round(v) for v in ax.lines[0].get_ydata()[-1:]]
[100]
"""

from __future__ import annotations

import logging
import os
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import settings
from ._errors import ValidationError
from ._io import atomic_path
from ._validate import check_columns

if TYPE_CHECKING:
    import geopandas as gpd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

logger = logging.getLogger(__name__)

#: Colours per site decision, matching :mod:`netplan.maps`.
DECISION_COLOURS: dict[str, str] = {
    "static": "#1f4e9c",
    "mobile": "#e07b00",
    "both": "#7b3294",
    "closed": "#8c8c8c",
}
ISOCHRONE_COLOURS: tuple[str, ...] = ("#08519c", "#3182bd", "#6baed6", "#9ecae1", "#c6dbef")
DEFAULT_STANDARDS_MINUTES: tuple[float, ...] = (30, 45, 60, 90)


def _figure_module() -> Any:
    """Import matplotlib's Figure, with an install hint when it is missing."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - matplotlib is a dependency
        msg = (
            "netplan.plot needs matplotlib: install it with `pip install matplotlib` "
            "(or `conda install -c conda-forge matplotlib`)."
        )
        raise ImportError(msg) from exc
    return Figure


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    fig = _figure_module()(figsize=figsize, layout="constrained")
    return fig.add_subplot()


def coverage_curve(
    zone_minutes: Sequence[float] | np.ndarray | pd.Series,
    population: Sequence[float] | np.ndarray | pd.Series,
    *,
    ax: Axes | None = None,
    standards_minutes: Sequence[float] = DEFAULT_STANDARDS_MINUTES,
    max_minutes: float | None = None,
    label: str | None = None,
) -> Axes:
    """Share of the population within x minutes' drive of its site.

    Parameters
    ----------
    zone_minutes
        Drive minutes from each zone to its site; NaN or inf for zones with no site in
        reach (they count in the total but are never covered).
    population
        Population (or demand) of each zone, same length.
    ax
        Axes to draw on; a new figure when None.
    standards_minutes
        Thresholds marked with a dotted line and the covered share.
    max_minutes
        Right end of the x axis; default the largest finite minutes (at least 90).
    label
        Legend label of the curve (compare scenarios by calling again with the same ax).

    Returns
    -------
    matplotlib.axes.Axes
        The axes; the curve is ``ax.lines[0]`` (x minutes, y per cent).

    Raises
    ------
    ValidationError
        If the inputs differ in length, or the population is negative or sums to zero.
    """
    minutes = np.asarray(zone_minutes, dtype=float)
    pop = np.asarray(population, dtype=float)
    if minutes.shape != pop.shape:
        msg = (
            f"coverage_curve: zone_minutes has {minutes.size} values but population has "
            f"{pop.size}; pass one value per zone in the same order."
        )
        raise ValidationError(msg)
    if np.any(pop < 0) or not np.isfinite(pop).all() or pop.sum() <= 0:
        msg = "coverage_curve: population must be finite, non-negative and not all zero."
        raise ValidationError(msg)
    total = pop.sum()
    finite = np.isfinite(minutes)
    order = np.argsort(minutes[finite], kind="stable")
    x = minutes[finite][order]
    y = 100.0 * np.cumsum(pop[finite][order]) / total
    right = max_minutes if max_minutes is not None else max(90.0, float(x.max()) if x.size else 90)
    # start at (0, 0) and extend flat to the right edge
    x = np.r_[0.0, x, right]
    y = np.r_[0.0, y, y[-1] if y.size else 0.0]
    ax = _axes(ax, (7, 4.5))
    row = len(ax.get_lines()) - sum(1 for ln in ax.get_lines() if ln.get_linestyle() == ":")
    (line,) = ax.step(x, y, where="post", lw=2, label=label)
    if ax.get_xlim()[1] > right and row > 0:  # a wider curve drawn earlier keeps its axis
        right = ax.get_xlim()[1]
    # threshold labels: one row per curve near the bottom (below the curves, which rise
    # steeply), ending at their line, so labels neither overlap nor leave the axes
    for standard in standards_minutes:
        share = 100.0 * pop[finite & (minutes <= standard)].sum() / total
        ax.axvline(standard, color="#888", lw=0.8, ls=":")
        near_left = standard < 0.2 * right
        ax.annotate(
            f"{share:.1f} % ≤ {standard:g} min",
            (standard, 0.0),
            xycoords=("data", "axes fraction"),
            xytext=(3 if near_left else -3, 6 + 13 * row),
            textcoords="offset points",
            ha="left" if near_left else "right",
            fontsize=8,
            color=line.get_color(),
            annotation_clip=False,
        )
    ax.set_xlim(0, right)
    ax.set_ylim(0, 101)
    ax.set_xlabel("Drive time to assigned site (minutes)")
    ax.set_ylabel("Population covered (%)")
    ax.set_title("Population within x minutes' drive")
    ax.grid(alpha=0.3)
    if label:
        ax.legend(loc="center right", fontsize=8)
    return ax


def utilisation_bars(
    sites_df: pd.DataFrame, *, ax: Axes | None = None, target: float | None = 0.85
) -> Axes:
    """Horizontal bars of utilisation per opened site, highest first.

    Parameters
    ----------
    sites_df
        ``name`` (or ``id``) and ``utilisation`` as a fraction (1.0 = full); optional
        ``decision`` colours the bars (:data:`DECISION_COLOURS`).
    ax
        Axes to draw on; a new figure (height grows with the number of sites) when None.
    target
        Planning utilisation drawn as a dashed line (None for none); 100 % is always drawn.

    Returns
    -------
    matplotlib.axes.Axes
        The axes; ``ax.patches`` holds one bar per site.

    Raises
    ------
    ValidationError
        If the ``utilisation`` column is missing.
    """
    check_columns(sites_df, ["utilisation"], source="sites_df")
    label_col = "name" if "name" in sites_df.columns else "id"
    check_columns(sites_df, [label_col], source="sites_df")
    df = sites_df.copy()
    if "decision" in df.columns:
        df = df[df["decision"] != "closed"]
    df["utilisation"] = pd.to_numeric(df["utilisation"], errors="coerce")
    df = df.dropna(subset=["utilisation"]).sort_values("utilisation", ascending=True)
    ax = _axes(ax, (7, max(3.0, 0.22 * len(df) + 1.2)))
    colours = (
        [DECISION_COLOURS.get(str(d), "#1f4e9c") for d in df["decision"]]
        if "decision" in df.columns
        else "#1f4e9c"
    )
    y = np.arange(len(df))
    ax.barh(y, 100 * df["utilisation"].to_numpy(), color=colours, height=0.7)
    ax.set_yticks(y, [str(v) for v in df[label_col]], fontsize=7 if len(df) > 30 else 9)
    ax.axvline(100, color="#c00", lw=1)
    if target is not None:
        ax.axvline(100 * target, color="#555", lw=1, ls="--", label=f"target {100 * target:g} %")
        ax.legend(loc="lower right", fontsize=8)
    ax.set_xlabel("Utilisation (%)")
    ax.set_title(f"Scanner utilisation, {len(df)} sites")
    ax.set_ylim(-0.6, len(df) - 0.4)
    ax.grid(axis="x", alpha=0.3)
    return ax


def demand_vs_capacity_by_lot(lot_df: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Grouped bars: annual demand and capacity (scans per year) per lot.

    Parameters
    ----------
    lot_df
        ``lot``, ``demand_scans_per_year`` and ``capacity_scans_per_year``.
    ax
        Axes to draw on; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes
        The axes; ``ax.containers`` holds the demand then the capacity bars.

    Raises
    ------
    ValidationError
        If a column is missing.
    """
    cols = ["lot", "demand_scans_per_year", "capacity_scans_per_year"]
    check_columns(lot_df, cols, source="lot_df")
    df = lot_df[cols].copy()
    x = np.arange(len(df))
    ax = _axes(ax, (max(6.0, 1.3 * len(df) + 2), 4.5))
    width = 0.38
    demand = pd.to_numeric(df["demand_scans_per_year"]).to_numpy(float)
    capacity = pd.to_numeric(df["capacity_scans_per_year"]).to_numpy(float)
    ax.bar(x - width / 2, demand, width, label="Demand", color="#fc8d59")
    ax.bar(x + width / 2, capacity, width, label="Capacity", color="#1f4e9c")
    for i, (d, c) in enumerate(zip(demand, capacity, strict=True)):
        if d > 0:
            ax.annotate(
                f"{100 * c / d:.0f} %",
                (i + width / 2, c),
                ha="center",
                xytext=(0, 2),
                textcoords="offset points",
                fontsize=8,
            )
    # long lot names ("Birmingham, East Midlands & East Anglia") wrap onto a few lines
    ax.set_xticks(x, [textwrap.fill(str(v), 18) for v in df["lot"]], fontsize=8)
    ax.set_ylabel("Scans per year")
    ax.set_title("Demand and capacity by lot (label: capacity as % of demand)")
    ax.yaxis.set_major_formatter(_thousands())
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    return ax


def _thousands() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: f"{v:,.0f}")


def plot_isochrones(
    isochrones: gpd.GeoDataFrame,
    sites: pd.DataFrame,
    *,
    ax: Axes | None = None,
    boundary: gpd.GeoDataFrame | None = None,
) -> Axes:
    """Static map of isochrones (one colour per threshold) and sites, in EPSG:27700.

    Parameters
    ----------
    isochrones
        GeoDataFrame ``site_id, minutes, geometry`` with a CRS.
    sites
        ``lon, lat`` (WGS84) and optional ``decision`` for the colours.
    ax
        Axes to draw on; a new figure when None.
    boundary
        Optional outline (e.g. England or the ICBs) drawn underneath.

    Returns
    -------
    matplotlib.axes.Axes
        The axes (British National Grid metres, equal aspect).

    Raises
    ------
    ValidationError
        If a column or the CRS is missing.
    """
    import geopandas as gpd

    check_columns(isochrones, ["minutes", "geometry"], source="isochrones")
    check_columns(sites, ["lon", "lat"], source="sites")
    if isochrones.crs is None:
        msg = "isochrones has no CRS; set it with `gdf.set_crs(...)`."
        raise ValidationError(msg)
    ax = _axes(ax, (6, 7))
    if boundary is not None:
        boundary.to_crs(settings.projected_crs).boundary.plot(ax=ax, color="#666", lw=0.5)
    iso = isochrones.to_crs(settings.projected_crs)
    values = sorted(pd.to_numeric(iso["minutes"]).unique(), reverse=True)
    from matplotlib.patches import Patch

    handles = []
    for rank, minutes in enumerate(values):
        colour = ISOCHRONE_COLOURS[min(len(values) - 1 - rank, len(ISOCHRONE_COLOURS) - 1)]
        part = iso[pd.to_numeric(iso["minutes"]) == minutes]
        part.plot(ax=ax, color=colour, alpha=0.45, edgecolor="none")
        handles.append(Patch(color=colour, alpha=0.45, label=f"≤ {minutes:g} min"))
    pts = gpd.GeoSeries(gpd.points_from_xy(sites["lon"], sites["lat"]), crs="EPSG:4326")
    xy = pts.to_crs(settings.projected_crs).get_coordinates()
    colours = (
        [DECISION_COLOURS.get(str(d), "#000") for d in sites["decision"]]
        if "decision" in sites.columns
        else "#000"
    )
    ax.scatter(xy["x"], xy["y"], s=12, c=colours, edgecolor="white", linewidth=0.4, zorder=3)
    ax.legend(handles=handles[::-1], loc="upper right", fontsize=8, title="Drive time")
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title("Drive-time isochrones")
    return ax


def save_figure(fig: Figure | Axes, path: str | os.PathLike[str], *, dpi: int = 150) -> Path:
    """Save a figure (or the figure of an axes) as PNG, atomically.

    Parameters
    ----------
    fig
        The figure, or an axes whose figure is saved.
    path
        Output ``.png`` file; its folder is created if needed.
    dpi
        Resolution.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    figure = fig.get_figure() if hasattr(fig, "get_figure") and not hasattr(fig, "savefig") else fig
    path = Path(path)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=dpi)
    logger.info("figure written: %s", path)
    return path


__all__ = [
    "coverage_curve",
    "demand_vs_capacity_by_lot",
    "plot_isochrones",
    "save_figure",
    "utilisation_bars",
]
