"""Every catalogued dataset says where to get it; downloads stream through a progress bar."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from netplan import _build_roads, data


def test_every_dataset_has_a_download_or_a_source_to_rebuild_it() -> None:
    cat = data.catalogue()
    assert len(cat) == 14
    for ds in cat.values():
        assert ds.page.startswith("https://"), ds.id
        if ds.url is None:
            assert ds.source, f"{ds.id}: no url and no source"
            assert len(ds.source) > 60, ds.id
        else:
            assert ds.url.startswith("https://"), ds.id
    for did in ("roads-major-nodes", "roads-major-edges"):
        assert "python -m netplan._build_roads" in cat[did].source
        assert cat[did].file.endswith((_build_roads.NODES_FILE, _build_roads.EDGES_FILE))


def test_a_dataset_without_url_names_its_source_in_the_error() -> None:
    ds = data.catalogue()["boundary-icb"]
    with pytest.raises(data.DataError, match=r"Integrated Care Boards \(July 2022\) Boundaries"):
        data._from_publisher(ds, Path("/nonexistent/icb.geojson"))


def test_a_download_streams_into_a_checked_temporary_file(tmp_path: Path, monkeypatch) -> None:
    from dataclasses import replace

    from netplan import settings

    monkeypatch.setattr(settings, "cache_folder", tmp_path / "cache")
    src = tmp_path / "published.csv"
    body = b"id,value\n" + b"".join(f"{i},{i * i}\n".encode() for i in range(20_000))
    src.write_bytes(body)
    ds = replace(
        data.catalogue()["nhs-hospitals"],
        url=src.as_uri(),
        bytes=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
    )
    dest = tmp_path / "cache" / "datasets" / "nhs" / "x.csv"
    tmp = data._from_publisher(ds, dest)
    assert tmp.parent == dest.parent
    assert tmp.name.endswith(".part")
    assert tmp.read_bytes() == body
    assert hashlib.sha256(tmp.read_bytes()).hexdigest() == ds.sha256
