"""Tests for netplan.plot: values drawn are the values computed, files saved atomically."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from shapely.geometry import Point

from netplan import ValidationError, data, plot


def test_coverage_curve_hand_checked() -> None:
    minutes = np.array([70.0, 10.0, 50.0, np.nan])
    pop = np.array([300, 100, 200, 400])
    ax = plot.coverage_curve(minutes, pop, standards_minutes=(30, 60))
    x, y = ax.lines[0].get_data()
    # 1,000 people: 100 within 10 min, +200 by 50, +300 by 70; 400 never reached
    assert list(x) == [0, 10, 50, 70, 90]
    assert list(y) == pytest.approx([0, 10, 30, 60, 60])
    notes = [t.get_text() for t in ax.texts]
    assert notes == ["10.0 % ≤ 30 min", "30.0 % ≤ 60 min"]
    assert isinstance(ax.figure, Figure)


def test_coverage_curve_real_population() -> None:
    zones = data.load_lsoa_zones()
    # minutes proportional to distance from Birmingham, a smooth synthetic field
    minutes = np.hypot(zones["lon"] + 1.9, zones["lat"] - 52.48) * 60
    ax = plot.coverage_curve(minutes, zones["population"])
    _, y = ax.lines[0].get_data()
    assert y[-1] == pytest.approx(100.0)
    within_60 = zones.loc[minutes <= 60, "population"].sum() / 55_977_178 * 100
    assert f"{within_60:.1f} % ≤ 60 min" in [t.get_text() for t in ax.texts]


def test_coverage_curve_rejects_mismatch() -> None:
    with pytest.raises(ValidationError, match="one value per zone"):
        plot.coverage_curve([1.0, 2.0], [1.0])


def test_utilisation_bars() -> None:
    sites = pd.DataFrame(
        {
            "name": ["A", "B", "C", "D"],
            "utilisation": [0.5, 1.1, 0.8, 0.0],
            "decision": ["static", "mobile", "both", "closed"],
        }
    )
    ax = plot.utilisation_bars(sites)
    widths = [p.get_width() for p in ax.patches]
    assert widths == pytest.approx([50, 80, 110])  # closed dropped, sorted ascending
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "C", "B"]
    assert ax.get_title() == "Scanner utilisation, 3 sites"


def test_demand_vs_capacity_by_lot() -> None:
    lots = pd.DataFrame(
        {
            "lot": ["NW", "S"],
            "demand_scans_per_year": [10_000, 20_000],
            "capacity_scans_per_year": [12_000, 15_000],
        }
    )
    ax = plot.demand_vs_capacity_by_lot(lots)
    heights = [p.get_height() for p in ax.patches]
    assert heights == [10_000, 20_000, 12_000, 15_000]
    assert [t.get_text() for t in ax.texts] == ["120 %", "75 %"]
    with pytest.raises(ValidationError, match="capacity_scans_per_year"):
        plot.demand_vs_capacity_by_lot(lots.drop(columns="capacity_scans_per_year"))


def test_plot_isochrones_and_save(tmp_path: Path) -> None:
    icb = data.load_icb_boundaries()
    sites = pd.DataFrame(
        {"lon": [-1.55, -0.12], "lat": [53.80, 51.51], "decision": ["static", "mobile"]}
    )
    pts = gpd.GeoSeries([Point(-1.55, 53.80), Point(-0.12, 51.51)], crs="EPSG:4326")
    pts = pts.to_crs("EPSG:27700")
    iso = gpd.GeoDataFrame(
        {"site_id": ["A", "B", "A", "B"], "minutes": [30, 30, 60, 60]},
        geometry=list(pts.buffer(20_000)) + list(pts.buffer(40_000)),
        crs="EPSG:27700",
    )
    ax = plot.plot_isochrones(iso, sites, ax=None, boundary=icb)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["≤ 30 min", "≤ 60 min"]
    x0, x1 = ax.get_xlim()
    assert 100_000 < x0 < x1 < 700_000  # British National Grid metres
    out = plot.save_figure(ax, tmp_path / "figs" / "iso.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in out.parent.iterdir()] == ["iso.png"]


def test_save_figure_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "curve.png"
    ax = plot.coverage_curve([10.0], [1.0])
    plot.save_figure(ax.figure, target)
    before = target.read_bytes()

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        plot.save_figure(plot.coverage_curve([20.0], [1.0]), target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["curve.png"]


def test_threshold_labels_neither_overlap_nor_leave_the_axes() -> None:
    # three curves on one axes (as in the comparison page), thresholds up to the right edge
    rng = np.random.default_rng(7)
    ax = None
    for k, scale in enumerate((20.0, 25.0, 30.0)):
        minutes = rng.gamma(2.0, scale / 2, 500)
        ax = plot.coverage_curve(
            minutes,
            np.ones(500),
            standards_minutes=(30, 45, 60, 90),
            max_minutes=90,
            ax=ax,
            label=f"plan {k}",
        )
    fig = ax.figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    axes_box = ax.get_window_extent(renderer)
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    assert len(boxes) == 12
    for box in boxes:
        assert axes_box.x0 <= box.x0
        assert box.x1 <= axes_box.x1
        assert axes_box.y0 <= box.y0
        assert box.y1 <= axes_box.y1
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), (a, b)
