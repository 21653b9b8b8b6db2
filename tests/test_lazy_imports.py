"""`netplan traveltimes` runs without the heavy stack; the outline it needs is cached."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import shapely

from netplan import data, ferries, network, settings

ROOT = Path(__file__).resolve().parents[1]


def test_traveltimes_imports_no_geopandas_folium_matplotlib_highspy(
    tmp_path: Path, mirror: Path
) -> None:
    network.graph_from_name("england-major-roads")  # built in this session's cache
    pts = pd.DataFrame(
        {
            "id": ["leeds", "york", "newport_iow"],
            "lon": [-1.5491, -1.0815, -1.2974],
            "lat": [53.8008, 53.9600, 50.7008],
        }
    )
    pts.to_csv(tmp_path / "p.csv", index=False)
    code = (
        "import sys, cli\n"
        "rc = cli.main(['traveltimes', '--origins', sys.argv[1], '--destinations', sys.argv[1],"
        " '--out', sys.argv[2]])\n"
        "heavy = [m for m in ('geopandas', 'folium', 'matplotlib', 'highspy')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy, rc)\n"
    )
    env = {**os.environ, "NETPLAN_CACHE": str(settings.cache_folder)}
    env |= {"NETPLAN_DATA_MIRROR": str(mirror), "PYTHONPATH": str(ROOT)}
    for _ in range(2):  # the first run may build the outline cache (with geopandas)
        out = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / "p.csv"), str(tmp_path / "od.csv")],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=True,
        )
    assert "HEAVY [] 0" in out.stdout, out.stdout + out.stderr
    od = pd.read_csv(tmp_path / "od.csv")
    # the Isle of Wight point reaches the mainland by ferry: every pair has a time
    assert len(od) == 9
    assert od["minutes"].notna().all()


def test_outline_parts_cached_as_wkb() -> None:
    path = data.dataset_path("boundary-england-wales")
    stat = path.stat()
    stamp = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    ferries._outline_parts_cached.cache_clear()
    built = ferries._outline_parts_cached(stamp)
    ferries._outline_parts_cached.cache_clear()
    cached = list((settings.cache_folder / "derived").glob("england-outline-parts-*.wkb"))
    assert len(cached) == 1
    read = ferries._outline_parts_cached(stamp)
    assert built is not None
    assert read is not None
    assert len(read) == len(built) > 2  # mainland and islands
    assert shapely.equals_exact(shapely.MultiPolygon(read), shapely.MultiPolygon(built), 0)


def test_version_read_from_metadata_on_first_use() -> None:
    # `import netplan` does not read the package metadata; `netplan.__version__` does.
    code = (
        "import sys, netplan\n"
        "print('BEFORE', 'netplan._version' in sys.modules)\n"
        "from importlib.metadata import version\n"
        "print('SAME', netplan.__version__ == version('netplan'))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert "BEFORE False" in out.stdout, out.stdout + out.stderr
    assert "SAME True" in out.stdout
