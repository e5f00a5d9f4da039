"""Zensus grid readers: cell ids, gridtiler tiles, official 2011/2022 CSV files, city clip."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis_planning._errors import InputError, LayerError, SchemaError
from gis_planning.data import zensus
from gis_planning.data.sources import essen_zensus


def test_cell_ids_both_styles_and_parse_roundtrip():
    x = np.array([4113700, 4113800, 3900000])
    y = np.array([3155600, 3155600, 2600000])
    old = zensus.cell_ids(x, y, style="2011")
    new = zensus.cell_ids(x, y)
    assert old.tolist() == ["100mN31556E41137", "100mN31556E41138", "100mN26000E39000"]
    assert new[0] == "CRS3035RES100mN3155600E4113700"
    for ids in (old, new):
        px, py, s = zensus.parse_cell_ids(ids)
        assert s == 100 and px.tolist() == x.tolist() and py.tolist() == y.tolist()
    # ids of different lengths take the regular-expression path
    mixed = ["100mN31556E41137", "CRS3035RES100mN900E1000"]
    px, py, s = zensus.parse_cell_ids(mixed)
    assert px.tolist() == [4113700, 1000] and py.tolist() == [3155600, 900]
    km = zensus.cell_ids([4113000], [3155000], cell_size=1000, style="2011")
    assert km.tolist() == ["1kmN3155E4113"]
    assert zensus.parse_cell_ids(km)[2] == 1000
    assert zensus.parse_cell_ids(zensus.cell_ids([4113500], [3155500], cell_size=500))[:2] == (
        [4113500], [3155500])
    with pytest.raises(InputError, match="keine Gitterzellen-IDs"):
        zensus.parse_cell_ids(["100mN31556E41137", "Essen"])
    with pytest.raises(InputError, match="Zellgrößen gemischt"):
        zensus.parse_cell_ids(["100mN31556E41137", "1kmN3155E4113"])
    with pytest.raises(InputError, match="Vielfache"):
        zensus.cell_ids([4113750], [3155600])


def _write_tile(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


def test_read_gridtiler_tiles_hand_computed(tmp_path):
    # tile 16_43, row "89,52": X = 3900000 + (16*128 + 89)*100 = 4113700, Y = 3155600
    _write_tile(tmp_path, "16_43.csv", "x,y,1,21,22,23,24\n89,52,10,3,0,4,0\n0,0,5,0,0,0,3")
    _write_tile(tmp_path, "17_43.csv", "x,y,1,23\n1,2,7,3")  # missing codes are 0
    cells = zensus.read_gridtiler_tiles(tmp_path)
    assert cells.crs == zensus.GRID_CRS and len(cells) == 3
    row = cells.set_index("gitter_id").loc["100mN31556E41137"]
    assert (row["x_mp"], row["y_mp"]) == (4113750, 3155650)
    assert row[["deutschland", "eu27", "sonstige_welt", "nichtdeutsche", "personen"]].tolist() == [
        10, 3, 4, 7, 17]
    other = cells.set_index("gitter_id").loc["100mN31506E41177"]  # (16+1)*128+1, 43*128+2
    assert other["sonstige_welt"] == 3 and other["eu27"] == 0 and other["personen"] == 10
    assert cells.geometry.iloc[0].equals(shapely.box(4104800, 3150400, 4104900, 3150500))
    assert (cells["stand"] == "2011-05-09").all()
    assert cells.attrs["quelle"] == zensus.QUELLE_2011
    assert set(cells.columns) >= {"gitter_id", "ungeklaert", "sonstiges_europa"}
    _write_tile(tmp_path / "bad", "1_1.csv", "x,y,1,99\n0,0,3,3")
    with pytest.raises(SchemaError, match="Codes"):
        zensus.read_gridtiler_tiles(tmp_path / "bad")
    _write_tile(tmp_path / "neg", "1_1.csv", "x,y,1\n0,0,-3")
    with pytest.raises(SchemaError, match="negative"):
        zensus.read_gridtiler_tiles(tmp_path / "neg")
    with pytest.raises(LayerError, match="keine Kacheln"):
        zensus.read_gridtiler_tiles(tmp_path / "leer")
    with pytest.raises(InputError, match="Merkmal"):
        zensus.read_gridtiler_tiles(tmp_path, variable="RELIGION")


def test_read_zensus2011_official_files(tmp_path):
    long = tmp_path / "Bevoelkerung100M.csv"
    long.write_text(
        "Gitter_ID_100m;Gitter_ID_100m_neu;Merkmal;Auspraegung_Code;Auspraegung_Text;Anzahl;"
        "Anzahl_q\n"
        "100mN31556E41137;CRS3035RES100mN3155600E4113700; INSGESAMT;0;Einheiten insgesamt;17;0\n"
        "100mN31556E41137;CRS3035RES100mN3155600E4113700;STAATSANGE_GRP;1;Deutschland;10;0\n"
        "100mN31556E41137;CRS3035RES100mN3155600E4113700;STAATSANGE_GRP;21;EU27-Land;3;0\n"
        "100mN31556E41137;CRS3035RES100mN3155600E4113700;STAATSANGE_GRP;23;Sonstige Welt;4;0\n"
        "100mN31557E41137;CRS3035RES100mN3155700E4113700;STAATSANGE_GRP;1;Deutschland;6;0\n"
        "100mN31557E41137;CRS3035RES100mN3155700E4113700;ALTER_KURZ;1;Unter 18;6;0\n",
        encoding="latin-1",
    )
    cells = zensus.read_zensus2011_csv(long)
    assert cells["gitter_id"].tolist() == ["100mN31556E41137", "100mN31557E41137"]
    assert cells["nichtdeutsche"].tolist() == [7, 0] and cells["personen"].tolist() == [17, 6]
    age = zensus.read_zensus2011_csv(long, variable="ALTER_KURZ")
    assert age["unter_18"].tolist() == [6] and age["personen"].tolist() == [6]
    with pytest.raises(SchemaError, match="GEBURTLAND_GRP"):
        zensus.read_zensus2011_csv(long, variable="GEBURTLAND_GRP")
    pop = tmp_path / "Zensus_Bevoelkerung_100m-Gitter.csv"
    pop.write_text("Gitter_ID_100m;x_mp_100m;y_mp_100m;Einwohner\n"
                   "100mN31556E41137;4113750;3155650;17\n100mN31557E41137;4113750;3155750;-1\n")
    with pytest.warns(UserWarning, match="geheim"):
        p = zensus.read_zensus2011_csv(pop)
    assert p["personen"].tolist() == [17] and "nichtdeutsche" not in p.columns
    bad = tmp_path / "x.csv"
    bad.write_text("id;wert\na;1\n")
    with pytest.raises(SchemaError, match="Gitter_ID_100m"):
        zensus.read_zensus2011_csv(bad)


def test_read_zensus2022_groups_with_secret_values(tmp_path):
    f = tmp_path / "Zensus2022_Staatsangehoerigkeit_Gruppen_100m-Gitter.csv"
    f.write_text(
        "GITTER_ID_100m;x_mp_100m;y_mp_100m;Insgesamt_Bevoelkerung;Deutschland;"
        "Ausland_Sonstige;EU27_Land;Sonstiges_Europa;Sonstige_Welt;Sonstige;"
        "werterlaeuternde_Zeichen\n"
        "CRS3035RES100mN3155600E4113700;4113750;3155650;40;30;10;4;3;3;–;\n"
        "CRS3035RES100mN3155700E4113700;4113750;3155750;12;12;–;–;–;–;–;\n",
        encoding="utf-8",
    )
    cells = zensus.read_zensus2022_csv(f)
    assert cells["gitter_id"].tolist() == ["CRS3035RES100mN3155600E4113700",
                                           "CRS3035RES100mN3155700E4113700"]
    assert cells["personen"].tolist() == [40, 12]  # published totals kept
    assert cells["nichtdeutsche"].tolist() == [10, 0]
    assert cells["geheimhaltung"].tolist() == [True, True]
    assert (cells["stand"] == "2022-05-15").all() and cells.attrs["lizenz"] == zensus.LIZENZ_2022
    f.write_text("GITTER_ID_100m;x_mp_100m;y_mp_100m;Einwohner\n"
                 "CRS3035RES100mN3155600E4113700;4113750;3155950;5\n")
    with pytest.raises(SchemaError, match="Mittelpunkt"):
        zensus.read_zensus2022_csv(f)


def test_cells_in_boundary_centre_rule():
    x = np.arange(5) * 100
    counts = {"personen": np.array([3, 4, 5, 6, 7])}
    cells = zensus.cell_frame(x, np.zeros(5, int), counts)
    # boundary from 0 to 250 m: centres 50, 150, 250 (on the line: inside), not 350, 450
    city = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 250, 100)], crs=zensus.GRID_CRS)
    kept = zensus.cells_in_boundary(cells.to_crs("EPSG:25832"), city)
    assert kept["personen"].tolist() == [3, 4, 5] and kept.crs == "EPSG:25832"
    z = kept.attrs["zuordnung"]
    assert (z["zellen"], z["personen"], z["randzellen_aussen"]) == (3, 12, 0)
    # a boundary in another CRS is reprojected to the grid CRS for the test
    wide = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 260, 100)], crs=zensus.GRID_CRS)
    assert len(zensus.cells_in_boundary(cells, wide.to_crs("EPSG:4326"))) == 3
    city2 = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 240, 100)], crs=zensus.GRID_CRS)
    z2 = zensus.cells_in_boundary(cells, city2).attrs["zuordnung"]
    assert (z2["zellen"], z2["randzellen_aussen"], z2["personen_randzellen_aussen"]) == (2, 1, 5)
    with pytest.raises(SchemaError, match="x_mp"):
        zensus.cells_in_boundary(cells.drop(columns="x_mp"), city)


# --- the shipped Essen cells ----------------------------------------------------------------

_CHECK_SIZES = {  # characters per file as measured in layers/essen/zensus2011/CHECK.md
    "STAATSANGE_GRP/16_42.csv": 89932, "STAATSANGE_GRP/17_42.csv": 81507,
    "STAATSANGE_GRP/16_43.csv": 158763, "STAATSANGE_GRP/17_43.csv": 159020,
    "ALTER_KURZ/16_42.csv": 89821, "ALTER_KURZ/17_42.csv": 79865,
    "ALTER_KURZ/16_43.csv": 168119, "ALTER_KURZ/17_43.csv": 167323,
    "GEBURTLAND_GRP/16_42.csv": 89455, "GEBURTLAND_GRP/17_42.csv": 81018,
    "GEBURTLAND_GRP/16_43.csv": 158912, "GEBURTLAND_GRP/17_43.csv": 159222,
}


def test_essen_tiles_are_the_checked_copies():
    folder = essen_zensus.ZENSUS2011_DIR
    for name, size in _CHECK_SIZES.items():
        data = (folder / name).read_bytes()
        assert len(data) == size, name
        assert not data.endswith(b"\n")  # gridtiler writes no trailing newline
    text = (folder / "PROVENANCE.md").read_text(encoding="utf-8")
    assert "Zensus 2011, © Statistisches Bundesamt (Destatis)" in text
    assert zensus.LIZENZ_2011 in text
    assert re.search(r"centre|Mittelpunkt", text)


def test_essen_zensus2011_cells():
    tiles = essen_zensus.load_zensus2011_tiles()
    assert (len(tiles), int(tiles["personen"].sum())) == (28210, 1438009)
    cells = essen_zensus.load_zensus2011()
    assert cells.crs == "EPSG:25832"
    assert len(cells) == 10010 and int(cells["personen"].sum()) == 564174
    sums = cells[["deutschland", "eu27", "sonstiges_europa", "sonstige_welt", "ungeklaert",
                  "nichtdeutsche"]].sum().tolist()
    assert sums == [510465, 13666, 25191, 14497, 355, 53709]  # CHECK.md section 6
    assert cells["gitter_id"].str.fullmatch(r"100mN\d{5}E\d{5}").all()
    assert cells["gitter_id"].is_unique and (cells["stand"] == "2011-05-09").all()
    assert cells.attrs["zuordnung"]["randzellen_aussen"] == 125
    assert cells.attrs["zuordnung"]["personen_randzellen_aussen"] == 2944
    assert cells.attrs["quelle"] == zensus.QUELLE_2011
    assert (cells["personen"] >= 3).all()  # no 1 or 2 (SAFE)
    age = essen_zensus.load_zensus2011(variable="ALTER_KURZ")
    born = essen_zensus.load_zensus2011(variable="GEBURTLAND_GRP", crs=None)
    assert int(age["personen"].sum()) == 566361 and int(born["personen"].sum()) == 563294
    assert int(born["geboren_ungeklaert"].sum()) == 10468 and born.crs == zensus.GRID_CRS


def test_zensus_schema_validates_the_layer():
    from gis_planning.data.io import validate_layer

    schema = zensus.zensus_schema()
    assert schema.date == "2011-05-09" and schema.id_column == "gitter_id"
    assert schema.licence == zensus.LIZENZ_2011
    out = validate_layer(essen_zensus.load_zensus2011(), schema, name="zensus2011")
    assert len(out) == 10010
