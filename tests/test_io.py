"""Every validation branch of reading and validating layers."""

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, Polygon, box

from gis_planning import CRSError, GeometryError, LayerError, NameMatchError, SchemaError
from gis_planning.data.catalog import default_catalog
from gis_planning.data.io import check_crs_plausible, read_csv_table, read_file, validate_layer
from gis_planning.data.schema import SCHEMAS

ESSEN_SCHEMAS = default_catalog().schemas

KITAS = ESSEN_SCHEMAS["kitas"]
STADTTEILE = ESSEN_SCHEMAS["stadtteile"]
ESSEN_XY = (362000, 5701000)  # EPSG:25832, Essen city centre


def _pts(n=3, crs="EPSG:25832", **cols):
    x, y = ESSEN_XY
    data = {"name": [f"K{i}" for i in range(n)], **cols}
    return gpd.GeoDataFrame(data, geometry=[Point(x + 10 * i, y) for i in range(n)], crs=crs)


def test_missing_file():
    with pytest.raises(LayerError, match="gibt es nicht"):
        read_file("/nonexistent/x.geojson")


def test_empty_file(tmp_path):
    p = tmp_path / "leer.gpkg"
    p.write_bytes(b"")
    with pytest.raises(LayerError, match=r"ist leer \(0 Byte\)"):
        read_file(p)


def test_truncated_geojson(tmp_path):
    p = tmp_path / "kaputt.geojson"
    p.write_text('{"type": "FeatureCollection", "features": [{"type": "Feat')
    with pytest.raises(LayerError, match="lässt sich nicht als Ebene lesen .*abgeschnitten"):
        read_file(p)


def test_unsupported_suffix(tmp_path):
    p = tmp_path / "x.xlsx"
    p.write_bytes(b"abc")
    with pytest.raises(LayerError, match="Dateityp '.xlsx' wird nicht unterstützt"):
        read_file(p)


def test_no_features():
    with pytest.raises(LayerError, match="enthält keine Objekte"):
        validate_layer(_pts(0), KITAS)


def test_missing_crs():
    with pytest.raises(CRSError, match="hat kein Koordinatensystem.*KBS zuweisen"):
        validate_layer(_pts(crs=None), KITAS)


def test_wgs84_declared_on_metres():
    with pytest.raises(CRSError, match="das sind Meter"):
        check_crs_plausible(_pts().set_crs("EPSG:4326", allow_override=True))


def test_swapped_lat_lon():
    gdf = gpd.GeoDataFrame(geometry=[Point(51.45, 7.01), Point(51.46, 7.02)], crs="EPSG:4326")
    with pytest.raises(CRSError, match="vertauscht"):
        check_crs_plausible(gdf)


def test_outside_germany():
    gdf = gpd.GeoDataFrame(geometry=[Point(-3.7, 40.4)], crs="EPSG:4326")
    with pytest.raises(CRSError, match="außerhalb Deutschlands"):
        check_crs_plausible(gdf)


def test_wrong_geometry_type():
    gdf = gpd.GeoDataFrame({"name": ["a"]}, geometry=[LineString([ESSEN_XY, (362100, 5701100)])],
                           crs="EPSG:25832")
    with pytest.raises(GeometryError,
                       match=r"muss Punkte \(Point\) enthalten, enthält aber Linien"):
        validate_layer(gdf, KITAS)


def test_missing_geometry():
    gdf = _pts()
    gdf.loc[1, "geometry"] = None
    with pytest.raises(GeometryError, match="1 Objekt.e. ohne Geometrie .erstes in Zeile 2"):
        validate_layer(gdf, KITAS)


def test_invalid_polygon_repaired_with_warning():
    x, y = ESSEN_XY
    bowtie = Polygon([(x, y), (x + 100, y + 100), (x + 100, y), (x, y + 100)])
    gdf = gpd.GeoDataFrame({"stadtteil_nr": [1, 2], "stadtteil": ["A", "B"], "bezirk": [1, 1]},
                           geometry=[bowtie, box(x + 200, y, x + 250, y + 50)], crs="EPSG:25832")
    with pytest.warns(UserWarning, match="1 ungültige Geometrie.n. repariert"):
        out = validate_layer(gdf, STADTTEILE)
    assert out.is_valid.all() and out.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert gdf.geometry.iloc[0].is_valid is False  # input not mutated


def test_invalid_polygon_without_repair():
    x, y = ESSEN_XY
    bowtie = Polygon([(x, y), (x + 100, y + 100), (x + 100, y), (x, y + 100)])
    gdf = gpd.GeoDataFrame({"stadtteil_nr": [1], "stadtteil": ["A"], "bezirk": [1]},
                           geometry=[bowtie], crs="EPSG:25832")
    with pytest.raises(GeometryError, match="ungültige Geometrie"):
        validate_layer(gdf, STADTTEILE, repair=False)


def test_missing_required_column():
    gdf = _pts().rename(columns={"name": "bezeichnung"})
    with pytest.raises(SchemaError, match="Pflichtspalte.n. 'name' fehlen"):
        validate_layer(gdf, KITAS)


def test_mistyped_column_text_in_numbers():
    gdf = _pts(kapazitaet=["1", "zwei", "3"])
    with pytest.raises(SchemaError,
                       match="Zeile 2: Spalte 'kapazitaet' muss Zahlen enthalten.*'zwei'"):
        validate_layer(gdf, SCHEMAS["begegnungsorte"])


def test_decimal_comma_and_percent_converted():
    gdf = gpd.GeoDataFrame(
        {"stadtteil_nr": ["1", "2"], "stadtteil": ["Stadtkern", "Ostviertel"],
         "bezirk": ["1", "1"]},
        geometry=[box(362000, 5701000, 362100, 5701100), box(362100, 5701000, 362200, 5701100)],
        crs="EPSG:25832",
    )
    out = validate_layer(gdf, STADTTEILE)
    # codes are kept as given (text stays text, so "01" keeps its zero)
    assert out["bezirk"].tolist() == ["1", "1"]


def test_negative_count():
    from gis_planning.data.io import _coerce

    with pytest.raises(SchemaError, match="negative Anzahl -1"):
        _coerce(pd.Series([3, -1]), "int", label="t", column="anzahl")


def test_duplicate_ids():
    gdf = _pts(kita_id=[1, 1, 2])
    with pytest.raises(SchemaError, match="doppelte Werte"):
        validate_layer(gdf, KITAS)


def test_unknown_stadtteil_with_suggestion():
    gdf = _pts(stadtteil=["Stadtkern", "Altenessen", "Rüttenscheid"])
    with pytest.raises(NameMatchError, match="unbekannter Stadtteilname 'Altenessen'.*"
                                             "Meinten Sie 'Altenessen-Süd' oder"):
        validate_layer(gdf, ESSEN_SCHEMAS["kitas"].__class__(
            **{**KITAS.__dict__, "check_stadtteil": True}),
            stadtteil_names=["Stadtkern", "Altenessen-Süd", "Altenessen-Nord", "Rüttenscheid"])


def test_csv_semicolon_decimal_comma_latin1(tmp_path):
    p = tmp_path / "orte.csv"
    p.write_bytes("name;lon;lat;anteil\nBürgerzentrum;7,0123;51,4567;7,1\n".encode("cp1252"))
    gdf = read_file(p)
    assert gdf.crs.to_epsg() == 4326
    assert gdf["name"].item() == "Bürgerzentrum"
    assert gdf.geometry.item().x == pytest.approx(7.0123)
    assert gdf["anteil"].item() == pytest.approx(7.1)


def test_csv_without_coordinates(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(LayerError, match="hat keine Koordinatenspalten"):
        read_file(p)


def test_csv_text_in_coordinates(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("name,x,y\nA,362000,5701000\nB,abc,5701000\n")
    with pytest.raises(LayerError, match="Zeile 3: die Koordinatenspalte 'x' enthält 'abc'"):
        read_file(p, crs="EPSG:25832")


def test_read_csv_table_utf8(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("stadtteil,wert\nÜberruhr-Hinsel,1.5\n", encoding="utf-8")
    df = read_csv_table(p)
    assert df["stadtteil"].item() == "Überruhr-Hinsel" and df["wert"].item() == 1.5


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp", ".parquet"])
def test_roundtrip_formats(tmp_path, suffix):
    gdf = _pts()
    p = tmp_path / f"k{suffix}"
    if suffix == ".parquet":
        gdf.to_parquet(p)
    else:
        gdf.to_file(p)
    assert len(read_file(p)) == 3


# -- issue 14.6/14.7: real-world input ---------------------------------------------------------


@pytest.mark.parametrize("values, expected", [
    (["1.234", "567", "12.345.678"], [1234, 567, 12345678]),  # thousands points
    (["362.015,25", "5,5", "-1.000,5"], [362015.25, 5.5, -1000.5]),
    (["6.96629", "7.012", "7"], [6.96629, 7.012, 7.0]),  # decimal points throughout
    (["0.5", "1.234"], [0.5, 1.234]),  # "0.5" cannot be grouped: decimal points
    (["1", "", None], [1.0, float("nan"), float("nan")]),
])
def test_german_numbers_by_column(values, expected):
    from gis_planning.data.io import parse_german_numbers

    got = parse_german_numbers(pd.Series(values, dtype="string"), label="t.csv", column="a")
    assert got.tolist() == pytest.approx(expected, nan_ok=True)
    assert parse_german_numbers(pd.Series(["1,5", "drei"]), label="t.csv", column="a") is None
    with pytest.raises(LayerError, match="Zeile 3: Spalte 'a' mischt Dezimalkomma .'1,5'. und "
                                         "Dezimalpunkt .'2.5'."):
        parse_german_numbers(pd.Series(["1,5", "2.5"]), label="t.csv", column="a",
                             frame=pd.DataFrame({"a": [0, 0]}).pipe(
                                 lambda f: f.attrs.update(gis_planning_source={
                                     "header_lines": 1}) or f))


def test_german_csv_counts_and_big_ids(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("id;einwohner;anteil;text\n1;1.234;7,1;a\n2;67.297;12,25;b\n",
                 encoding="utf-8")
    df = read_csv_table(p)
    assert df["einwohner"].tolist() == [1234, 67297] and df["anteil"].tolist() == [7.1, 12.25]
    assert df["id"].dtype == "int64" and df["text"].tolist() == ["a", "b"]


def test_rows_left_out_keep_the_file_row_numbers(tmp_path):
    p = tmp_path / "kitas.csv"
    p.write_text("kita_id,name,lon,lat\n1,A,6.96,51.46\n2,B,,\n1,C,7.01,51.50\n",
                 encoding="utf-8")
    with pytest.warns(UserWarning, match=r"1 Zeile\(n\) ohne Koordinaten ausgelassen \(Zeile 3\)"):
        gdf = read_file(p)
    assert len(gdf) == 2
    with pytest.raises(SchemaError, match="Zeile 2 und Zeile 4"):  # not 3: the file's rows
        validate_layer(gdf, KITAS)
    q = tmp_path / "leer.csv"
    q.write_text("kita_id,name,lon,lat\n1,A,,\n", encoding="utf-8")
    with pytest.raises(LayerError, match="keine Zeile hat Koordinaten"):
        read_file(q)
    r = tmp_path / "inf.csv"
    r.write_text("kita_id,name,lon,lat\n1,A,6.96,inf\n", encoding="utf-8")
    with pytest.raises(LayerError, match="Zeile 2: eine Koordinate ist unendlich"):
        read_file(r)


def test_nan_point_in_a_spatial_file_named_by_row():
    gdf = _pts(3)
    gdf.loc[1, "geometry"] = Point(float("nan"), float("nan"))
    with pytest.raises(CRSError, match="keine Zahlen sind .NaN oder unendlich., in Zeile 2"):
        check_crs_plausible(gdf)


def test_float_ids_beyond_exact_range_refused():
    gdf = _pts(2, kita_id=[1.0, 1e23])  # GeoJSON/GeoPackage REAL fields carry big ids so
    with pytest.raises(SchemaError, match="Zeile 2: Spalte 'kita_id' hält 1e.23, mehr als die "
                                          "größte erlaubte ganze Zahl 2.53"):
        validate_layer(gdf, KITAS)
    ok = validate_layer(_pts(2, kita_id=[1.0, 2.0**52]), KITAS)
    assert ok["kita_id"].tolist() == [1, 2**52]


def test_overlap_slivers_warn_and_real_overlaps_refuse():
    x, y = ESSEN_XY
    st = gpd.GeoDataFrame({"stadtteil_nr": [1, 2], "stadtteil": ["A", "B"], "bezirk": [1, 1]},
                          geometry=[box(x, y, x + 1000, y + 1000),
                                    box(x + 999.99, y, x + 2000, y + 1000)], crs="EPSG:25832")
    with pytest.warns(UserWarning, match=r"1 kleine Überlappung\(en\) von Flächen .zusammen "
                                         r"10 m², z. B. 'A' .Zeile 1. und 'B' .Zeile 2.."):
        validate_layer(st, STADTTEILE)
    st.loc[1, "geometry"] = box(x + 900, y, x + 2000, y + 1000)
    with pytest.raises(GeometryError, match="überlappen sich auf 100.000 m²"):
        validate_layer(st, STADTTEILE)
    jc = ESSEN_SCHEMAS["jobcenter"]  # JobCenter areas may overlap (shared Stadtteile)
    areas = st.rename(columns={"stadtteil": "jobcenter", "stadtteil_nr": "n_stadtteile"})
    assert len(validate_layer(areas.drop(columns="bezirk"), jc)) == 2


def test_writers_refuse_case_duplicate_columns_and_drop_m(tmp_path):
    import shapely

    from gis_planning.data.io import write_layer

    gdf = _pts(2, NAME=["a", "b"])
    with pytest.raises(LayerError, match="'name' und 'NAME' unterscheiden sich nur"):
        write_layer(gdf, tmp_path / "x.gpkg")
    assert list(tmp_path.iterdir()) == []
    m = _pts(2)
    m["geometry"] = shapely.from_wkt(["POINT M (362000 5701000 1)", "POINT M (362010 5701000 2)"])
    with pytest.warns(UserWarning, match="M-Werten"):
        write_layer(m, tmp_path / "m.gpkg")
    assert not shapely.has_m(read_file(tmp_path / "m.gpkg").geometry.values).any()


def test_city_name_must_be_text():
    from gis_planning import InputError
    from gis_planning.data.io import check_city_name

    assert check_city_name(" Bochum ") == "Bochum"
    for bad in (None, 3, "", "  "):
        with pytest.raises(InputError, match="Stadtname .'city'. muss ein Text sein"):
            check_city_name(bad, source="katalog.json")


def test_csv_export_carries_its_crs_and_reads_back(tmp_path):
    """Issue 16: a CSV written by write_layer names its CRS (column epsg) and reads back."""
    import numpy as np
    import shapely

    from gis_planning.data.io import write_layer

    gdf = _pts(4, kita_id=[1, 2, 3, 4])
    gdf["epsg"] = 25832  # a marker of an earlier CSV: replaced, never contradicting the file
    p = write_layer(gdf, tmp_path / "k.csv")
    header = p.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[-2:] == ["wkt", "epsg"] and header.count("epsg") == 1
    back = read_file(p)
    assert len(back) == 4 and back.crs.to_epsg() == 4326
    assert "epsg" not in back.columns and back["kita_id"].tolist() == [1, 2, 3, 4]
    want = shapely.get_coordinates(gdf.to_crs("EPSG:4326").geometry.values)
    assert np.abs(shapely.get_coordinates(back.geometry.values) - want).max() < 1e-6
