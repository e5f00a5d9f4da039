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
    with pytest.raises(LayerError, match="does not exist"):
        read_file("/nonexistent/x.geojson")


def test_empty_file(tmp_path):
    p = tmp_path / "leer.gpkg"
    p.write_bytes(b"")
    with pytest.raises(LayerError, match="empty"):
        read_file(p)


def test_truncated_geojson(tmp_path):
    p = tmp_path / "kaputt.geojson"
    p.write_text('{"type": "FeatureCollection", "features": [{"type": "Feat')
    with pytest.raises(LayerError, match="cannot read .*truncated"):
        read_file(p)


def test_unsupported_suffix(tmp_path):
    p = tmp_path / "x.xlsx"
    p.write_bytes(b"abc")
    with pytest.raises(LayerError, match="unsupported file type"):
        read_file(p)


def test_no_features():
    with pytest.raises(LayerError, match="no features"):
        validate_layer(_pts(0), KITAS)


def test_missing_crs():
    with pytest.raises(CRSError, match="no CRS.*set_crs"):
        validate_layer(_pts(crs=None), KITAS)


def test_wgs84_declared_on_metres():
    with pytest.raises(CRSError, match="metres"):
        check_crs_plausible(_pts().set_crs("EPSG:4326", allow_override=True))


def test_swapped_lat_lon():
    gdf = gpd.GeoDataFrame(geometry=[Point(51.45, 7.01), Point(51.46, 7.02)], crs="EPSG:4326")
    with pytest.raises(CRSError, match="swapped"):
        check_crs_plausible(gdf)


def test_outside_germany():
    gdf = gpd.GeoDataFrame(geometry=[Point(-3.7, 40.4)], crs="EPSG:4326")
    with pytest.raises(CRSError, match="outside Germany"):
        check_crs_plausible(gdf)


def test_wrong_geometry_type():
    gdf = gpd.GeoDataFrame({"name": ["a"]}, geometry=[LineString([ESSEN_XY, (362100, 5701100)])],
                           crs="EPSG:25832")
    with pytest.raises(GeometryError, match="must hold Point"):
        validate_layer(gdf, KITAS)


def test_missing_geometry():
    gdf = _pts()
    gdf.loc[1, "geometry"] = None
    with pytest.raises(GeometryError, match="no geometry"):
        validate_layer(gdf, KITAS)


def test_invalid_polygon_repaired_with_warning():
    x, y = ESSEN_XY
    bowtie = Polygon([(x, y), (x + 100, y + 100), (x + 100, y), (x, y + 100)])
    gdf = gpd.GeoDataFrame({"stadtteil_nr": [1, 2], "stadtteil": ["A", "B"], "bezirk": [1, 1]},
                           geometry=[bowtie, box(x, y, x + 50, y + 50)], crs="EPSG:25832")
    with pytest.warns(UserWarning, match="repaired 1 invalid geometry"):
        out = validate_layer(gdf, STADTTEILE)
    assert out.is_valid.all() and out.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert gdf.geometry.iloc[0].is_valid is False  # input not mutated


def test_invalid_polygon_without_repair():
    x, y = ESSEN_XY
    bowtie = Polygon([(x, y), (x + 100, y + 100), (x + 100, y), (x, y + 100)])
    gdf = gpd.GeoDataFrame({"stadtteil_nr": [1], "stadtteil": ["A"], "bezirk": [1]},
                           geometry=[bowtie], crs="EPSG:25832")
    with pytest.raises(GeometryError, match="invalid geometries"):
        validate_layer(gdf, STADTTEILE, repair=False)


def test_missing_required_column():
    gdf = _pts().rename(columns={"name": "bezeichnung"})
    with pytest.raises(SchemaError, match="lacks the required column.*'name'"):
        validate_layer(gdf, KITAS)


def test_mistyped_column_text_in_numbers():
    gdf = _pts(kapazitaet=["1", "zwei", "3"])
    with pytest.raises(SchemaError, match="row 2: column 'kapazitaet' must be numeric.*'zwei'"):
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

    with pytest.raises(SchemaError, match="negative count"):
        _coerce(pd.Series([3, -1]), "int", label="t", column="anzahl")


def test_duplicate_ids():
    gdf = _pts(kita_id=[1, 1, 2])
    with pytest.raises(SchemaError, match="duplicates"):
        validate_layer(gdf, KITAS)


def test_unknown_stadtteil_with_suggestion():
    gdf = _pts(stadtteil=["Stadtkern", "Altenessen", "Rüttenscheid"])
    with pytest.raises(NameMatchError, match="'Altenessen'.*Did you mean 'Altenessen-Süd' or"):
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
    with pytest.raises(LayerError, match="no coordinate columns"):
        read_file(p)


def test_csv_text_in_coordinates(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("name,x,y\nA,362000,5701000\nB,abc,5701000\n")
    with pytest.raises(LayerError, match="row 3: coordinate column 'x'"):
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
