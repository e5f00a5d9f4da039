"""Siting demand from census cells (real counts instead of the Stadtteil estimate)."""

from __future__ import annotations

import pytest

from gis_planning._errors import InputError
from gis_planning.planning import scenario


@pytest.fixture(scope="module")
def cells(zensus_catalog):
    return zensus_catalog.load("zensus2011")


def test_demand_from_cells_keeps_every_person(cells, stadtteile):
    d = scenario.demand_from_cells(cells, stadtteile, column="nichtdeutsche")
    assert d["nachfrage"].sum() == 53709 and (d["nachfrage"] > 0).all()
    assert d.crs == stadtteile.crs and d["stadtteil"].notna().all()
    assert d.attrs["nachfrage"]["spalte"] == "nichtdeutsche"
    coarse = scenario.demand_from_cells(cells, stadtteile, cell_size=500)
    assert coarse["nachfrage"].sum() == 564174 and len(coarse) == 820
    assert coarse["bezirk"].notna().all() and coarse.attrs["nachfrage"]["zellgroesse_m"] == 500
    with pytest.raises(InputError, match="Nachfrage"):
        scenario.demand_from_cells(cells, stadtteile, column="herkunft12_anzahl")


def test_site_scenario_runs_on_cell_demand(zensus_catalog, cells, stadtteile):
    demand = scenario.demand_from_cells(cells, stadtteile, column="nichtdeutsche",
                                        cell_size=500)
    res = scenario.site_scenario(demand, scenario.candidate_sites(zensus_catalog), p=9,
                                 radius=800, time_limit=60)
    table = scenario.coverage_table(res, demand)
    assert res.summary.optimal and res.summary.n_sites == 9
    assert res.summary.total_weight == 53709  # every non-German person of the cells
    city = table.iloc[-1]
    assert city["bezirk"] == "Stadt" and len(table) == 10  # nine Bezirke and the city
    assert city["covered_weight"] == res.summary.covered_weight
    assert table.iloc[:-1]["total_weight"].sum() == 53709  # every cell in one Bezirk
