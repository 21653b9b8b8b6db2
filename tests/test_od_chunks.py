"""Chunked OD tables on partitioned Parquet: the same rows as one od_matrix call."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from netplan import ValidationError, network, traveltime
from netplan.od_chunks import chunk_names, chunk_size_for, od_to_parquet, read_od_parquet


@pytest.fixture(scope="module")
def rutland() -> tuple:
    G = network.graph_from_name("rutland")
    rng = np.random.default_rng(5)
    k = rng.choice(len(G.lon), size=60, replace=False)
    pts = pd.DataFrame({"id": [f"p{i}" for i in range(60)], "lon": G.lon[k], "lat": G.lat[k]})
    return G, pts.iloc[:25].reset_index(drop=True), pts.iloc[25:].reset_index(drop=True)


def _key(od: pd.DataFrame) -> pd.DataFrame:
    return od.sort_values(["origin_id", "destination_id"]).reset_index(drop=True)


@pytest.mark.parametrize(
    ("split", "executor"),
    [("destinations", "serial"), ("origins", "serial"), ("destinations", "dask")],
)
def test_chunks_hold_the_whole_table(
    rutland: tuple, tmp_path: Path, split: str, executor: str
) -> None:
    G, origins, dests = rutland
    whole = traveltime.od_matrix(G, origins, dests, max_minutes=20)
    out = tmp_path / "od"
    kw = {"workers": 2} if executor == "dask" else {}
    stats = od_to_parquet(
        G, origins, dests, out, chunk_size=8, split=split, executor=executor, max_minutes=20, **kw
    )
    n_split = len(dests) if split == "destinations" else len(origins)
    assert len(stats) == -(-n_split // 8)
    assert stats["rows"].sum() == len(whole)
    assert (stats["peak_memory_mb"] > 0).all()
    back = read_od_parquet(out)
    a, b = _key(back), _key(whole)
    assert a[["origin_id", "destination_id"]].equals(b[["origin_id", "destination_id"]])
    assert np.allclose(a["minutes"], b["minutes"], rtol=0, atol=1e-9)
    assert len(read_od_parquet(out, chunks=[0])) == stats.loc[0, "rows"]
    marker = (out / ".netplan-output").read_text()
    assert all(name in marker for name in chunk_names(len(stats)))


def test_bad_chunking_is_named(rutland: tuple, tmp_path: Path) -> None:
    G, origins, dests = rutland
    with pytest.raises(ValidationError, match="chunk_size must be"):
        od_to_parquet(G, origins, dests, tmp_path / "a", chunk_size=0)
    with pytest.raises(ValidationError, match="split must be one of"):
        od_to_parquet(G, origins, dests, tmp_path / "b", chunk_size=5, split="rows")
    with pytest.raises(ValidationError, match="no OD chunks"):
        read_od_parquet(tmp_path)


def test_chunk_size_for_a_memory_budget() -> None:
    assert chunk_size_for(1000, 2.5) == 400
    assert chunk_size_for(1, 5) == 1
