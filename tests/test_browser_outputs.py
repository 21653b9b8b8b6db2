"""The report and map of a real run (``rutland_small``) in headless Chromium.

Screenshots at 1,280 x 720 go to ``tests/artifacts/`` (gitignored; the England ones in
``docs/img/`` are taken the same way, see README). Probe scripts appended to copies of the
pages record what a reader would see: the layers shown by default, the search box's
matches, the popup it opens, and whether the report overflows a narrow window. Uses the
Chromium helpers of ``test_browser.py``; fails (never skips) without Chromium.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from test_browser import ARTIFACTS, _run_chromium

from netplan.maps import palette
from netplan.scenario import Scenario

SMALL = Path(__file__).resolve().parents[1] / "scenarios" / "rutland_small.yaml"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    result = Scenario.from_yaml(SMALL).run()
    paths = result.to_folder(tmp_path_factory.mktemp("browser") / "rutland")
    return result, paths["report"].parent


def _screenshot(page: Path, shot: Path, profile: Path, size: str = "1280,720") -> np.ndarray:
    import matplotlib.image as mpimg

    shot.unlink(missing_ok=True)
    proc = _run_chromium(
        [
            "--virtual-time-budget=8000",
            f"--window-size={size}",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        profile,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return (mpimg.imread(shot)[..., :3] * 255).round().astype(int)


def _near(pixels: np.ndarray, colour: str, tol: int = 12) -> int:
    rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(pixels - rgb).max(axis=2) <= tol).sum())


def _probe(page: Path, script: str, tmp: Path, name: str, size: str = "1280,720") -> dict:
    """Run ``script`` (which sets ``window.probe``) at the end of a copy of ``page``."""
    copy = page.with_name(f"{name}.html")
    copy.write_text(
        page.read_text(encoding="utf-8").replace(
            "</html>",
            "<script>(function () {"
            + script
            + '})(); var out = document.createElement("pre"); out.id = "probe";'
            " out.textContent = JSON.stringify(window.probe); document.body.appendChild(out);"
            "</script></html>",
        ),
        encoding="utf-8",
    )
    proc = _run_chromium(
        [
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            f"--window-size={size}",
            "--dump-dom",
            copy.as_uri(),
        ],
        tmp / f"profile-{name}",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert [line for line in proc.stderr.splitlines() if ":CONSOLE" in line] == []
    found = re.search(r'<pre id="probe">(.*?)</pre>', proc.stdout, re.S)
    assert found, proc.stdout[-2000:]
    import html

    return json.loads(html.unescape(found.group(1)))


@pytest.mark.browser
def test_screenshots_at_1280x720(run, tmp_path: Path) -> None:
    result, folder = run
    ARTIFACTS.mkdir(exist_ok=True)
    report = _screenshot(folder / "report.html", ARTIFACTS / "report.png", tmp_path / "p1")
    assert report.shape[:2] == (720, 1280)
    # the top of the report: the summary box's blue rule and dark text on the page
    assert _near(report, "#005eb8", tol=20) > 500
    shot = _screenshot(folder / "map.html", ARTIFACTS / "map-rutland.png", tmp_path / "p2")
    assert shot.shape[:2] == (720, 1280)
    # the default layers are drawn: the open mobile site (orange triangle), zone dots in
    # the viridis ramp and the plain land background (the tiles are offline)
    decisions = set(result.sites.loc[result.sites["open"], "decision"])
    if "mobile" in decisions:
        assert _near(shot, palette.MOBILE_COLOUR) > 30
    if "static" in decisions:
        assert _near(shot, palette.STATIC_COLOUR) > 30
    zone_colours = [c for c in palette.ZONE_COLOURS if _near(shot, c, tol=16) > 20]
    assert len(zone_colours) >= 2, zone_colours
    assert _near(shot, "#fbfaf6", tol=2) > 10_000  # land of the plain background


@pytest.mark.browser
def test_map_search_box_opens_popups(run, tmp_path: Path) -> None:
    result, folder = run
    site = result.sites[result.sites["open"]].iloc[0]
    zone = result.zones.sort_values("zone_id").iloc[0]
    script = f"""
    var box = document.getElementById("netplan-search");
    var probe = {{}};
    probe.layers = Array.from(document.querySelectorAll(
      ".leaflet-control-layers-overlays label")).map(function (l) {{
        return [l.textContent.trim(), l.querySelector("input").checked]; }});
    function search(text) {{
      box.value = text;
      box.dispatchEvent(new Event("input"));
      var items = Array.from(document.querySelectorAll("#netplan-search-results li"))
        .map(function (li) {{ return li.textContent; }});
      box.dispatchEvent(new KeyboardEvent("keydown", {{key: "Enter"}}));
      // the newest popup (the one it replaced fades out for 200 ms)
      var pops = document.querySelectorAll(".leaflet-popup-content");
      var pop = pops.length ? pops[pops.length - 1].innerHTML : null;
      return {{items: items, popup: pop}};
    }}
    probe.site = search({json.dumps(str(site["name"])[:6].lower())});
    probe.zone = search({json.dumps(str(zone["zone_id"]))});
    probe.none = search("zzzz-no-such-place");
    window.probe = probe;
    """
    got = _probe(folder / "map.html", script, tmp_path, "search")
    layers = dict(got["layers"])
    assert {k.split(" (")[0] for k, v in layers.items() if not v} >= {
        "Tracer supply links",
        "Unused candidates",
    }
    assert all(v for k, v in layers.items() if k.startswith(("Zones:", "Uncovered", "Lot")))
    assert any(k.startswith("Drive time") for k in layers)
    assert not any(v for k, v in layers.items() if k.startswith("Drive time"))
    # the site: listed by name and code, Enter opens its popup with its name
    assert f"{site['name']} ({site['site_id']})" in got["site"]["items"][0]
    assert got["site"]["popup"].startswith(f"<b>{site['name']}</b>")
    # the zone: its name, minutes and the assigned site's name in the popup
    popup = got["zone"]["popup"]
    assert popup.startswith(f"<b>{zone['name']}</b>")
    assert str(zone["zone_id"]) in popup
    if bool(zone["covered"]):
        assigned = result.sites.set_index("site_id").loc[zone["assigned_site"], "name"]
        assert f"{round(float(zone['minutes']))} min drive to {assigned}" in popup
    else:
        assert "Not served within the standard" in popup
    assert got["none"]["items"] == []
    assert got["none"]["popup"] == popup  # nothing found: Enter changes nothing


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 980])
def test_report_fits_the_window_and_aligns_tables(run, tmp_path: Path, width: int) -> None:
    _, folder = run
    script = """
    var sites = document.querySelector("#sites ~ .table-wrap table");
    var head = sites.querySelectorAll("thead th");
    var probe = {scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
      align: Array.from(head).map(function (th) {
        return [th.textContent, getComputedStyle(th).textAlign]; }),
      groups: Array.from(sites.querySelectorAll("tr.group th")).map(function (th) {
        return th.textContent; }),
      links: Array.from(document.querySelectorAll("nav.links a")).map(function (a) {
        return a.getAttribute("href"); })};
    window.probe = probe;
    """
    got = _probe(folder / "report.html", script, tmp_path, f"layout{width}", f"{width},720")
    assert got["inner"] == width
    assert got["scroll"] <= got["inner"]  # no sideways scrolling of the page
    align = dict(got["align"])
    assert align["Name"] == "left"
    assert align["Code"] == "left"
    assert align["Capacity scans/yr"] == "right"
    assert align["Utilisation"] == "right"
    assert got["groups"]
    assert all(re.search(r"sites.*\(\d+\)$", g) for g in got["groups"])
    assert got["links"][:2] == ["map.html", "results.xlsx"]
