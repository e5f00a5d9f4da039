"""aggregate_cells: cell counts to any polygon layer, with the audit of unassigned persons."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis_planning._errors import InputError, SchemaError
from gis_planning.analysis.aggregate import aggregate_cells
from gis_planning.data import zensus
from gis_planning.data.sources import essen_zensus
from gis_planning.data.sources.essen import load_stadtbezirke, load_stadtteile

GROUPS = ["personen", "deutschland", "eu27", "sonstiges_europa", "sonstige_welt", "ungeklaert",
          "nichtdeutsche"]


def _hand_grid() -> gpd.GeoDataFrame:
    """4 x 1 cells of 100 m with 10, 20, 30, 40 persons, 1, 2, 3, 4 of them in the group."""
    x = np.arange(4) * 100 + 4_000_000
    return zensus.cell_frame(x, np.full(4, 3_000_000), {
        "personen": np.array([10, 20, 30, 40]), "gruppe": np.array([1, 2, 3, 4])})


def _units(crs: str = zensus.GRID_CRS) -> gpd.GeoDataFrame:
    x0, y0 = 4_000_000, 3_000_000
    geoms = [shapely.box(x0, y0, x0 + 120, y0 + 100),       # centre of cell 0 only
             shapely.box(x0 + 120, y0, x0 + 260, y0 + 100),  # centres 150 and 250
             shapely.box(x0 + 100, y0, x0 + 200, y0 + 100)]  # overlaps: centre 150
    return gpd.GeoDataFrame({"nr": [1, 2, 3], "name": ["a", "b", "c"]}, geometry=geoms,
                            crs=zensus.GRID_CRS).to_crs(crs)


def test_centre_rule_by_hand_with_audit():
    t = aggregate_cells(_hand_grid(), _units(), columns=["personen", "gruppe"], unit_id="nr",
                        keep=["name"])
    assert t.index.tolist() == [1, 2, 3] and t["name"].tolist() == ["a", "b", "c"]
    assert t["personen"].tolist() == [10, 50, 20] and t["gruppe"].tolist() == [1, 5, 2]
    assert t["n_zellen"].tolist() == [1, 2, 1]
    assert t["anteil_gruppe_prozent"].tolist() == pytest.approx([10.0, 10.0, 10.0])
    a = t.attrs["audit"]
    assert (a["zellen"], a["personen"]) == (4, 100)
    assert (a["zellen_ohne_einheit"], a["personen_ohne_einheit"]) == (1, 40)  # cell 3
    assert (a["zellen_mehrfach"], a["personen_mehrfach"]) == (1, 20)  # cell 1 in b and c
    assert a["personen_zugeordnet"] == 80
    first = aggregate_cells(_hand_grid(), _units(), columns=["personen"], unit_id="nr",
                            multiple="first")
    assert first["personen"].tolist() == [10, 50, 0]
    assert first.attrs["audit"]["personen_mehrfach"] == 0
    # units in another CRS give the same result (test made in the grid CRS)
    other = aggregate_cells(_hand_grid().to_crs("EPSG:25832"), _units("EPSG:4326"),
                            columns=["personen", "gruppe"], unit_id="nr")
    assert other["personen"].tolist() == [10, 50, 20]


def test_area_rule_splits_cells():
    t = aggregate_cells(_hand_grid(), _units(), columns=["personen"], unit_id="nr", rule="area")
    # a: cell 0 + 20 % of cell 1; b: 80 % of cell 1 + 60 % of cell 2; c: cell 1
    assert t["personen"].tolist() == pytest.approx([10 + 4, 16 + 18, 20])
    a = t.attrs["audit"]
    assert a["personen_ohne_einheit"] == pytest.approx(12 + 40)  # 40 % of cell 2, cell 3
    assert a["personen_mehrfach"] == pytest.approx(20)  # cell 1 counted 2x in total
    first = aggregate_cells(_hand_grid(), _units(), columns=["personen"], unit_id="nr",
                            rule="area", multiple="first")
    assert first["personen"].tolist() == pytest.approx([14, 34, 0])
    assert first.attrs["audit"]["personen_mehrfach"] == pytest.approx(0)


def test_plain_polygons_without_grid_centres():
    cells = gpd.GeoDataFrame({"personen": [5, 7]},
                             geometry=shapely.box([0, 10], 0, [10, 20], 10), crs="EPSG:25832")
    units = gpd.GeoDataFrame({"id": ["x"]}, geometry=[shapely.box(0, 0, 12, 10)],
                             crs="EPSG:25832")
    t = aggregate_cells(cells, units, columns=["personen"], unit_id="id", total=None)
    assert t["personen"].tolist() == [5] and t.attrs["audit"]["zellen_ohne_einheit"] == 1


def test_validation_errors():
    cells, units = _hand_grid(), _units()
    with pytest.raises(InputError, match="Zuordnungsregel"):
        aggregate_cells(cells, units, columns=["personen"], unit_id="nr", rule="nearest")
    with pytest.raises(InputError, match="Gesamtspalte"):
        aggregate_cells(cells, units, columns=["gruppe"], unit_id="nr")
    with pytest.raises(SchemaError, match="doppelte"):
        aggregate_cells(cells, units.assign(nr=1), columns=["personen"], unit_id="nr")
    with pytest.raises(SchemaError, match="fehlt|lacks"):
        aggregate_cells(cells, units, columns=["personen", "x"], unit_id="nr")
    with pytest.raises(InputError, match="Keine Zählspalten"):
        aggregate_cells(cells, units, columns=[], unit_id="nr", total=None)


# --- Essen (aggregated once per module) -----------------------------------------------------


@pytest.fixture(scope="module")
def essen_tables():
    st = load_stadtteile()
    tiles = essen_zensus.load_zensus2011_tiles()
    city = essen_zensus.load_zensus2011()
    kw = {"columns": GROUPS, "unit_id": "stadtteil_nr", "keep": ["stadtteil", "bezirk"]}
    return {
        "tiles": aggregate_cells(tiles, st, **kw),
        "city": aggregate_cells(city, st, **kw),
        "bezirke": aggregate_cells(city, load_stadtbezirke(), columns=GROUPS, unit_id="bezirk"),
    }


def test_essen_stadtteile_match_the_check_table(essen_tables):
    t = essen_tables["tiles"]
    chk = pd.read_csv(essen_zensus.ZENSUS2011_DIR / "stadtteile_2011_check.csv")
    chk = chk.set_index("stadtteil_nr")
    assert t.index.tolist() == chk.index.tolist() and (t["stadtteil"] == chk["stadtteil"]).all()
    pairs = {"n_cells": "n_zellen", "persons": "personen", "deutschland_1": "deutschland",
             "eu27_21": "eu27", "sonst_europa_22": "sonstiges_europa",
             "sonst_welt_23": "sonstige_welt", "sonstige_24": "ungeklaert",
             "nichtdeutsch": "nichtdeutsche"}
    for theirs, ours in pairs.items():
        assert t[ours].tolist() == chk[theirs].tolist(), ours
    assert t["anteil_nichtdeutsche_prozent"].round(2).tolist() == chk[
        "share_nichtdeutsch_pct"].tolist()
    assert int(t["personen"].sum()) == 564173


def test_essen_city_cells_to_stadtteile_and_bezirke(essen_tables):
    city, tiles = essen_tables["city"], essen_tables["tiles"]
    diff = (tiles["personen"] - city["personen"])
    # two cells (3 persons each) lie in OSM Stadtteile but outside the official boundary
    assert diff[diff != 0].to_dict() == {46: 3, 49: 3}
    a = city.attrs["audit"]
    assert (a["zellen"], a["personen"]) == (10010, 564174)
    assert (a["zellen_ohne_einheit"], a["personen_ohne_einheit"]) == (2, 7)
    assert a["zellen_mehrfach"] == 0 and a["personen_zugeordnet"] == 564167
    bz = essen_tables["bezirke"]
    assert len(bz) == 9 and int(bz["personen"].sum()) == 564174
    assert bz.attrs["audit"]["personen_ohne_einheit"] == 0
    assert int(bz["nichtdeutsche"].sum()) == 53709
    assert bz.attrs["quelle"] == zensus.QUELLE_2011 and bz.attrs["stand"] == "2011-05-09"
    # Bezirk I (Stadtmitte) has the highest non-German share, Ruhrhalbinsel the lowest
    share = bz["anteil_nichtdeutsche_prozent"]
    assert share.idxmax() == 1 and share.idxmin() == 8


def test_compare_shares_bezirk_change_2011_2016(essen_tables):
    from gis_planning.analysis.aggregate import compare_shares
    from gis_planning.data.sources.essen_seed import bezirk_statistik

    bz = essen_tables["bezirke"]
    printed = bezirk_statistik().set_index("bezirk")["nichtdeutsche_anteil_prozent"]
    t = compare_shares(bz["anteil_nichtdeutsche_prozent"], printed,
                       note="Zensus und Melderegister zählen verschieden")
    assert t.index.tolist() == list(range(1, 10))
    assert t.loc[1, "anteil_2016_prozent"] == 26.5
    assert t.loc[1, "veraenderung_pp"] == pytest.approx(26.5 - 17.343434, abs=1e-5)
    assert (t["veraenderung_pp"] > 0).all()  # every Bezirk had a higher share in 2016
    assert (t["hinweis"] == "Zensus und Melderegister zählen verschieden").all()
