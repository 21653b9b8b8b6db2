"""Data layer: catalogue, fetch with checksums, atomic writes and loaders on real totals."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest

import netplan
from netplan import data, settings


def test_catalogue_matches_every_mirror_file(mirror: Path) -> None:
    cat = data.catalogue()
    mirror_files = {
        str(p.relative_to(mirror))
        for p in mirror.rglob("*")
        if p.is_file() and p.name != "README.md"
    }
    assert {ds.file for ds in cat.values()} == mirror_files
    for ds in cat.values():
        path = mirror / ds.file
        assert path.stat().st_size == ds.bytes, ds.id
        assert hashlib.sha256(path.read_bytes()).hexdigest() == ds.sha256, ds.id
        assert ds.licence in {"ODbL-1.0", "OGL-UK-3.0"}
        assert ds.url is None or ds.url.startswith("https://")
        assert ds.page.startswith("https://")


def test_fetch_all_then_status_present() -> None:
    paths = data.fetch()
    assert len(paths) == len(data.catalogue())
    table = data.status()
    assert set(table["status"]) == {"present"}
    assert table["in_mirror"].all()


@pytest.fixture
def private_cache(tmp_path: Path):
    old = settings.cache_folder
    settings.cache_folder = tmp_path / "cache"
    yield settings.cache_folder
    settings.cache_folder = old


def test_tampered_file_is_detected_and_refetched(private_cache: Path) -> None:
    path = data.dataset_path("osm-leeds")
    good = path.read_bytes()
    path.write_bytes(good[:-10] + b"tampered!!")
    assert data.status().set_index("id").loc["osm-leeds", "status"] == "corrupt"
    again = data.dataset_path("osm-leeds")
    assert again == path
    assert again.read_bytes() == good
    assert data.status().set_index("id").loc["osm-leeds", "status"] == "present"


def test_missing_mirror_gives_clear_error(private_cache: Path, tmp_path: Path) -> None:
    with pytest.raises(netplan.DataError, match=r"does not exist.*--mirror DIR"):
        data.fetch(["osm-leeds"], mirror=tmp_path / "nowhere")


def test_mirror_without_the_file_names_dataset(private_cache: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    with pytest.raises(netplan.DataError, match=r"'nhs-hospitals'.*nhs/Hospital\.csv"):
        data.fetch(["nhs-hospitals"], mirror=empty)


def test_offline_without_mirror_names_dataset_and_fix(
    private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "data_mirror", None)

    def offline(*args: object, **kwargs: object) -> None:
        raise OSError("network is unreachable")

    monkeypatch.setattr(data.urllib.request, "urlopen", offline)
    with pytest.raises(netplan.DataError, match=r"'osm-leeds'.*NETPLAN_DATA_MIRROR"):
        data.fetch(["osm-leeds"])
    # datasets the publisher offers no single file for say where to get them
    with pytest.raises(netplan.DataError, match=r"'roads-major-edges'.*no direct download"):
        data.fetch(["roads-major-edges"])


def test_corrupt_mirror_file_is_rejected_and_nothing_left(
    private_cache: Path, mirror: Path, tmp_path: Path
) -> None:
    bad_mirror = tmp_path / "bad-mirror"
    shutil.copytree(mirror / "osm", bad_mirror / "osm")
    target = bad_mirror / "osm" / "leeds-its-example.osm.pbf"
    target.chmod(0o644)
    target.write_bytes(target.read_bytes()[:1000])
    with pytest.raises(netplan.DataError, match=r"damaged or a different version"):
        data.fetch(["osm-leeds"], mirror=bad_mirror)
    folder = data.cache_path("osm-leeds").parent
    assert not data.cache_path("osm-leeds").exists()
    assert list(folder.glob("*.part")) == []


def test_interrupted_write_leaves_no_partial_file(
    private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = data.dataset_path("osm-leeds")
    before = good.read_bytes()

    def boom(src: object, dst: object, length: int = 0) -> None:
        dst.write(b"half a file")  # type: ignore[attr-defined]
        raise KeyboardInterrupt

    monkeypatch.setattr(data.shutil, "copyfileobj", boom)
    with pytest.raises(KeyboardInterrupt):
        data.fetch(["osm-leeds"], force=True)
    monkeypatch.undo()
    assert good.read_bytes() == before  # the old valid file is untouched
    assert [p.name for p in good.parent.iterdir() if p.name.endswith(".part")] == []
    monkeypatch.setattr(data.shutil, "copyfileobj", boom)
    fresh = data.cache_path("osm-rutland")
    with pytest.raises(KeyboardInterrupt):
        data.fetch(["osm-rutland"])
    assert not fresh.exists()
    assert list(fresh.parent.glob("*.part")) == []


def test_unknown_dataset_lists_known_ids() -> None:
    with pytest.raises(netplan.DataError, match=r"unknown dataset id 'nope'.*osm-rutland"):
        data.dataset_path("nope")


def test_lsoa_zones_real_totals() -> None:
    zones = data.load_lsoa_zones()
    assert len(zones) == 32_844
    assert int(zones["population"].sum()) == 55_977_178
    assert zones["id"].str.startswith("E01").all()
    assert zones.crs.to_epsg() == 4326
    both = data.load_lsoa_zones("EW")
    assert len(both) == 34_753


def test_hospitals_parse_the_shifted_rows() -> None:
    hospitals = data.load_hospitals()
    assert len(hospitals) == 1_209  # 1,211 rows, 2 without coordinates
    assert hospitals["id"].is_unique
    row = hospitals.set_index("id").loc["NDA07"]
    assert row["name"].startswith("Walton Community Hospital")
    assert row["postcode"] == "KT12 3LD"
    assert row["lat"] == pytest.approx(51.379997, abs=1e-6)
    assert row["lon"] == pytest.approx(-0.406042, abs=1e-6)
    assert set(hospitals["sector"]) == {"NHS Sector", "Independent Sector"}


def test_icb_lookup_and_boundaries() -> None:
    lookup = data.load_lsoa_to_icb()
    assert len(lookup) == 32_844
    assert lookup["icb_code"].nunique() == 42
    assert lookup["subicb_code"].nunique() == 106
    icbs = data.load_icb_boundaries()
    assert len(icbs) == 42
    assert set(icbs["icb_code"]) == set(lookup["icb_code"])
    assert icbs["icb_name"].notna().all()


def test_other_loaders() -> None:
    nodes, edges = data.load_major_roads()
    assert (len(nodes), len(edges)) == (19_973, 30_479)
    assert edges["length_km"].sum() == pytest.approx(38_790, rel=0.001)
    motorways = data.load_motorways()
    assert len(motorways) == 6_648
    assert motorways["road_classification_number"].nunique() == 59
    assert len(data.load_regions()) == 9
    ages = data.load_msoa_age_bands()
    assert len(ages) == 7_200
    assert set(ages["country"]) == {"E", "W"}
    assert data.osm_path("rutland").name == "rutland-2018-02-27.osm.pbf"
    with pytest.raises(netplan.DataError, match="neither a built-in"):
        data.osm_path("atlantis.osm.pbf")


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (pd.DataFrame({"id": ["a", "a"], "lon": [-1.0, -1.1], "lat": [52.0, 52.1]}), "duplicate"),
        (
            pd.DataFrame({"id": ["a", "b"], "lon": [-1.0, None], "lat": [52.0, 52.1]}),
            "not a number",
        ),
        (pd.DataFrame({"id": ["a", "b"], "lon": [-1.0, "x"], "lat": [52.0, 52.1]}), "not a number"),
        (pd.DataFrame({"id": ["a", "b"], "lon": [-1.0, 52.1], "lat": [52.0, -1.2]}), "swapped"),
        (pd.DataFrame({"id": ["a", "b"], "lon": [-1.0, 2.35], "lat": [52.0, 48.85]}), "outside"),
        (pd.DataFrame({"id": ["a"], "x": [1.0], "lat": [52.0]}), "missing column"),
    ],
)
def test_point_validation_table(frame: pd.DataFrame, match: str) -> None:
    from netplan._validate import check_lonlat, check_unique

    def check() -> None:
        check_unique(frame, "id", source="points.csv")
        check_lonlat(frame, source="points.csv", id_column="id")

    with pytest.raises(netplan.ValidationError, match=match):
        check()


def test_data_cli_fetch_and_list(capsys: pytest.CaptureFixture[str], private_cache: Path) -> None:
    from cli import main

    assert main(["data", "fetch", "osm-leeds", "nhs-hospitals"]) == 0
    out = capsys.readouterr().out
    assert "2 dataset(s) ready" in out
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert "osm-leeds" in out
    assert "present" in out
    assert "missing" in out
    assert main(["data", "fetch", "nope"]) == 1
    assert "unknown dataset id" in capsys.readouterr().err
