"""Tests for netplan.odio: the pyarrow OD table writers."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import cli
from netplan import odio, traveltime


def _table(n: int = 20_000) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    od = pd.DataFrame(
        {
            "origin_id": [f"E0{i:07d}" for i in rng.integers(0, 10**6, n)],
            "destination_id": [f"RX{i:03d}" for i in rng.integers(0, 150, n)],
            "minutes": rng.uniform(0, 90, n),
        }
    )
    od.loc[:4, "minutes"] = [0.0, 1.0, 89.9995001, 12.3, 7.0004999]
    od.attrs = {"network": "test", "profile": "free_flow"}
    return od


def test_csv_same_text_as_pandas(tmp_path: Path) -> None:
    od = _table()
    path = traveltime.to_csv(od, tmp_path / "od.csv")
    want = io.StringIO()
    od.to_csv(want, index=False, float_format="%.3f")
    assert path.read_text() == want.getvalue()
    meta = json.loads((tmp_path / "od.csv.meta.json").read_text())
    assert meta == {"network": "test", "profile": "free_flow"}


def test_csv_quotes_and_missing_values(tmp_path: Path) -> None:
    od = pd.DataFrame(
        {"origin_id": ["a", "b,c"], "destination_id": [1, 2], "minutes": [1.5, np.nan]}
    )
    text = traveltime.to_csv(od, tmp_path / "q.csv", decimals=1).read_text()
    assert text.splitlines()[1:] == ["a,1,1.5", '"b,c",2,']
    back = pd.read_csv(tmp_path / "q.csv", dtype={"origin_id": str})
    assert back["origin_id"].tolist() == ["a", "b,c"]
    assert back["minutes"].iloc[0] == 1.5
    assert np.isnan(back["minutes"].iloc[1])


def test_parquet_round_trip(tmp_path: Path) -> None:
    od = _table(1000)
    path = traveltime.to_parquet(od, tmp_path / "od.parquet")
    back = pd.read_parquet(path)
    assert back["origin_id"].tolist() == od["origin_id"].tolist()
    assert np.array_equal(back["minutes"].to_numpy(), od["minutes"].to_numpy())
    meta = pq.read_schema(path).metadata[b"netplan"]
    assert json.loads(meta) == od.attrs
    assert odio.od_format(tmp_path / "x.PARQUET") == "parquet"
    assert odio.od_format(tmp_path / "x.csv", "parquet") == "parquet"
    with pytest.raises(ValueError, match="unknown OD table format"):
        odio.write_od(od, tmp_path / "x.csv", fmt="xlsx")


def test_cli_traveltimes_parquet_equals_csv(tmp_path: Path, mirror: Path) -> None:
    pts = pd.DataFrame(
        {
            "id": ["oakham", "uppingham", "x"],
            "lon": [-0.7275, -0.7230, -0.65],
            "lat": [52.6705, 52.5880, 52.62],
        }
    )
    pts.to_csv(tmp_path / "p.csv", index=False)
    base = ["traveltimes", "--network", "rutland", "--mirror", str(mirror)]
    base += ["--origins", str(tmp_path / "p.csv"), "--destinations", str(tmp_path / "p.csv")]
    assert cli.main([*base, "--out", str(tmp_path / "od.csv")]) == 0
    assert cli.main([*base, "--out", str(tmp_path / "od.bin"), "--format", "parquet"]) == 0
    csv = pd.read_csv(tmp_path / "od.csv", dtype={"origin_id": str, "destination_id": str})
    par = pd.read_parquet(tmp_path / "od.bin")
    assert len(csv) == 9
    assert csv["origin_id"].tolist() == par["origin_id"].tolist()
    assert np.allclose(csv["minutes"], par["minutes"], atol=5e-4)
    assert (tmp_path / "od.bin.meta.json").exists()
