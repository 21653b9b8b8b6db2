"""The ONS population workbook is parsed once into a derived file; nothing else changes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from netplan import _population, data, demand


def test_the_derived_file_holds_exactly_the_workbook_table() -> None:
    path = data.dataset_path("ons-lsoa-population")
    direct = _population.read_workbook(path)
    first = _population.lsoa_population(path)  # builds the derived file (or reads it)
    derived = _population.derived_file(path)
    assert derived.is_file()
    again = _population.lsoa_population(path)  # from the derived file
    for table in (first, again):
        assert table["id"].tolist() == direct["id"].tolist()
        np.testing.assert_array_equal(
            table["population"].to_numpy(float), direct["population"].to_numpy(float)
        )
    # England and Wales LSOAs of the mid-2018 table: 34,753 codes
    assert len(direct[direct["id"].str.match(r"^[EW]01")]) == 34_753


def test_an_unreadable_derived_file_is_rebuilt() -> None:
    path = data.dataset_path("ons-lsoa-population")
    _population.lsoa_population(path)
    derived = _population.derived_file(path)
    derived.write_bytes(b"not a zip")
    table = _population.lsoa_population(path)
    assert len(table) > 34_000
    assert _population.lsoa_population(path)["id"].tolist() == table["id"].tolist()


def test_demand_of_a_small_area_is_unchanged(monkeypatch) -> None:
    """Rutland's zones and scans are the same whether the workbook or the derived file is read."""
    from netplan.scenario import Scenario
    from netplan.scenario.pipeline import _demand_params, _filter_area

    s = Scenario.from_yaml("rutland_small")
    params = _demand_params(s, demand)

    def rutland() -> pd.DataFrame:
        data._load_lsoa_zones_cached.cache_clear()
        demand._load_zones_cached.cache_clear()
        return demand.estimate_demand(_filter_area(s, demand.load_zones()), params)

    cached = rutland()
    monkeypatch.setattr(_population, "lsoa_population", _population.read_workbook)
    direct = rutland()
    data._load_lsoa_zones_cached.cache_clear()
    demand._load_zones_cached.cache_clear()
    assert cached["id"].tolist() == direct["id"].tolist()
    assert int(cached["population"].sum()) == int(direct["population"].sum())
    # the zones of Rutland in the ONS table, summed independently of netplan's loaders
    table = _population.read_workbook(data.dataset_path("ons-lsoa-population"))
    assert int(cached["population"].sum()) == int(
        table.set_index("id").loc[cached["id"], "population"].sum()
    )
    for col in ("scans_per_year", "population"):
        np.testing.assert_allclose(cached[col].to_numpy(float), direct[col].to_numpy(float))
