"""The scenario map in a real headless browser (Debian ``chromium``).

Chromium loads the saved page from disk with networking effectively unavailable (no
tiles), so the test proves the page is self-contained: Leaflet runs, no JavaScript error
reaches the console, the layer control lists every layer and the vector layers are drawn.
A screenshot is kept in ``tests/artifacts/map.png``. The test fails (never skips) when
Chromium is missing: ``apt-get install chromium`` (``.ci/run`` installs it).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from test_maps import synthetic_scenario

from netplan import maps

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "Chromium not found: install it with `apt-get install -y chromium` "
        "(.ci/run does this in CI)"
    )


def _run_chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    cmd = [_chromium(), *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)


def _console(stderr: str) -> list[str]:
    """Console messages Chromium logged (``--enable-logging=stderr``): errors, logs."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def _load(page: Path, profile: Path) -> tuple[str, list[str]]:
    """Load ``page``, let it run 5 s of virtual time; return (DOM, console lines)."""
    proc = _run_chromium(
        [
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        profile,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, _console(proc.stderr)


@pytest.mark.browser
def test_console_capture_sees_errors(tmp_path: Path) -> None:
    # guards the main test against passing vacuously: a broken page must be reported
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>undefinedFunction();</script></body></html>")
    _, console = _load(bad, tmp_path / "profile")
    assert any("ReferenceError: undefinedFunction is not defined" in c for c in console)


@pytest.mark.browser
def test_scenario_map_in_chromium(tmp_path: Path) -> None:
    inputs = synthetic_scenario(zone_step=4)
    sites, zones = inputs["sites"], inputs["zones"]
    m = maps.scenario_map(**inputs, title="netplan test map")
    page = maps.save_map(m, tmp_path / "map.html")

    dom, console = _load(page, tmp_path / "profile-dom")
    assert console == []  # no JavaScript error, warning or log

    # the layer control lists the base layer and every overlay, in order
    overlays = dom[dom.index("leaflet-control-layers-overlays") :]
    labels = re.findall(r"<span> ([^<]+)</span>", overlays)
    counts = sites["decision"].value_counts()
    uncovered = int((~zones["covered"]).sum())
    assert labels == [
        "Lot boundaries (4)",
        "Drive time ≤ 60 min",
        "Drive time ≤ 30 min",
        f"Zones: drive minutes to assigned site ({len(zones) - uncovered:,})",
        f"Uncovered zones ({uncovered:,})",
        "Cyclotrons (2)",
        f"Tracer supply links ({len(inputs['supply_links'])})",
        f"Unused candidates ({counts['closed']:,})",
        f"Static scanner sites ({counts['static']})",
        f"Static + mobile sites ({counts['both']})",
        f"Mobile scanner sites ({counts['mobile']})",
    ]
    # Leaflet built the layers: zone dots on canvas, SVG paths, div-icon symbols, legend
    assert f'data-netplan-zones="{len(zones) - uncovered}"' in dom
    assert f'data-netplan-uncovered="{uncovered}"' in dom
    assert "<canvas" in dom
    opened = int((sites["decision"] != "closed").sum())
    assert len(re.findall(r'<div class="leaflet-marker-icon netplan-site', dom)) == opened
    assert len(re.findall(r'<div class="leaflet-marker-icon netplan-cyclotron', dom)) == 2
    # shown by default: lot outlines (paths); off: candidates, supply lines, isochrones
    paths = dom.count('class="leaflet-interactive"')
    assert paths == 4
    assert "Not served within the standard" in dom
    assert "OpenStreetMap</a> contributors (ODbL)" in dom
    assert "Open Government Licence v3.0" in dom

    # popups work: open one site popup and click one zone dot from a probe script
    groups = {
        child.layer_name: child.get_name()
        for child in m._children.values()
        if hasattr(child, "layer_name")
    }
    site_group = groups[f"Static scanner sites ({counts['static']})"]
    zone_group = next(v for k, v in groups.items() if k.startswith("Zones:"))
    probe = page.read_text(encoding="utf-8").replace(
        "</html>",
        f"""<script>
    var s = {site_group}.getLayers()[0];
    s.openPopup();
    var keep = document.createElement("div");
    keep.id = "probe-site";
    keep.innerHTML = document.querySelector(".leaflet-popup-content").innerHTML;
    document.body.appendChild(keep);
    var z = {zone_group}.getLayers()[0];
    {zone_group}.fire("click", {{layer: z, latlng: z.getLatLng()}});
    </script></html>""",
    )
    probe_path = tmp_path / "probe.html"
    probe_path.write_text(probe, encoding="utf-8")
    probe_dom, probe_console = _load(probe_path, tmp_path / "profile-probe")
    assert probe_console == []
    popups = re.findall(r'<div class="leaflet-popup-content"[^>]*>(.*?)</div>', probe_dom)
    assert len(popups) == 1  # the zone popup replaced the site popup (one open at a time)
    first_zone = zones[zones["covered"]].iloc[0]
    site_name = sites.set_index("id").loc[first_zone["assigned_site"], "name"]
    assert popups[0].startswith(
        f"<b>Zone {first_zone['id']}</b><br>"
        f"{round(first_zone['minutes'])} min drive to "
        f"{site_name} ({first_zone['assigned_site']})"
    )
    site = sites[sites["decision"] == "static"].iloc[0]
    shown = re.search(r'<div id="probe-site">(.*?)</div>', probe_dom).group(1)
    assert shown.startswith(f'<b>{site["name"]}</b><table class="netplan-popup">')
    assert f"<th>Site id</th><td>{site['id']}</td>" in shown
    assert "<th>Static scanners</th><td>2</td>" in shown

    # screenshot kept as a test artefact
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "map.png"
    shot.unlink(missing_ok=True)
    proc = _run_chromium(
        [
            "--virtual-time-budget=5000",
            "--window-size=1200,900",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        tmp_path / "profile-shot",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    import matplotlib.image as mpimg

    pixels = mpimg.imread(shot)
    assert pixels.shape[:2] == (900, 1200)
    # not blank: many distinct colours (zone ramp, symbols, legend)
    distinct = np.unique((pixels[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(distinct) > 50
