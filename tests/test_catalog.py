import geopandas as gpd
import pytest
import shapely

from gis_planning import LayerError
from gis_planning.data.catalog import Catalog, default_catalog

ESSEN_SCHEMAS = default_catalog().schemas


def test_layer_names(catalog):
    assert set(catalog.names()) >= {
        "stadtteile", "stadtbezirke", "stadtgrenze", "jobcenter", "kitas", "schulen",
        "projektwohnungen",
    }


@pytest.mark.parametrize(
    ("name", "count"),
    [("stadtteile", 50), ("stadtbezirke", 9), ("stadtgrenze", 1), ("kitas", 312),
     ("schulen", 212)],
)
def test_layer_counts(catalog, name, count):
    gdf = catalog.load(name)
    assert len(gdf) == count
    assert gdf.crs.to_epsg() == 25832


def test_stadtteile_numbers_and_bezirke(stadtteile):
    assert sorted(stadtteile["stadtteil_nr"]) == list(range(1, 51))
    assert set(stadtteile["bezirk"]) == set(range(1, 10))
    assert stadtteile.loc[stadtteile.stadtteil == "Altendorf", "bezirk"].item() == 3
    assert stadtteile.is_valid.all()


def test_stadtteile_cover_city(catalog, stadtteile):
    city = catalog.load("stadtgrenze").geometry.item()
    union = shapely.union_all(stadtteile.geometry.to_numpy())
    # 2016 OSM vs official boundary: differences of a few tenths of a percent only
    assert union.symmetric_difference(city).area / city.area < 0.01
    assert city.area / 1e6 == pytest.approx(210.27, abs=0.05)


def test_kitas_not_yet_open_kept_and_flagged(catalog):
    k = catalog.load("kitas")
    assert (~k["in_betrieb"]).sum() == 3
    assert k["kita_id"].is_unique


def test_unknown_layer_suggests(catalog):
    with pytest.raises(LayerError, match="Meinten Sie 'schulen'"):
        catalog.schema("schule")


def test_load_returns_copy(catalog):
    a = catalog.load("stadtteile")
    a["stadtteil"] = "x"
    assert catalog.load("stadtteile")["stadtteil"].iloc[0] == "Stadtkern"


def test_from_paths_validates_user_files(tmp_path, stadtteile):
    path = tmp_path / "st.gpkg"
    stadtteile.to_crs("EPSG:4326").to_file(path)
    cat = Catalog.from_paths({"stadtteile": path}, city="Teststadt")
    got = cat.load("stadtteile")
    assert len(got) == 50 and got.crs.to_epsg() == 25832
    assert cat.names() == ["stadtteile"]
    with pytest.raises(LayerError, match="die Ebene 'kitas' fehlt in den Daten von Teststadt"):
        cat.load("kitas")


def test_from_paths_unknown_layer(tmp_path):
    with pytest.raises(LayerError, match="unbekannte Ebene 'layers.strassen'"):
        Catalog.from_paths({"strassen": tmp_path / "x.gpkg"})


def test_from_json(tmp_path, stadtteile):
    stadtteile.to_file(tmp_path / "st.geojson")
    (tmp_path / "cat.json").write_text('{"city": "X", "layers": {"stadtteile": "st.geojson"}}')
    cat = Catalog.from_json(tmp_path / "cat.json")
    assert cat.city == "X" and len(cat.load("stadtteile")) == 50
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(LayerError, match="kein gültiges JSON"):
        Catalog.from_json(tmp_path / "bad.json")


def test_user_kitas_with_typo_stadtteil(tmp_path, catalog):
    pts = gpd.GeoDataFrame(
        {"name": ["A", "B"], "stadtteil": ["Altenessen Süd", "Altenesen-Nord"]},
        geometry=gpd.points_from_xy([7.01, 7.02], [51.49, 51.50]), crs="EPSG:4326",
    )
    pts.to_file(tmp_path / "k.geojson")
    # spelling variants and typos with a unique close match are read as the official name,
    # with a warning naming each replacement
    with pytest.warns(UserWarning, match="'Altenesen-Nord' -> 'Altenessen-Nord'"):
        got = catalog.load_path(tmp_path / "k.geojson", like="kitas")
    assert got["stadtteil"].tolist() == ["Altenessen-Süd", "Altenessen-Nord"]


def test_schemas_have_provenance():
    for s in ESSEN_SCHEMAS.values():
        assert s.source and s.licence and s.date and s.label
    assert ESSEN_SCHEMAS["projektwohnungen"].confidential
    assert "synthetisch" in ESSEN_SCHEMAS["projektwohnungen"].label


def test_public_api_is_lazy_and_complete():
    import gis_planning as gp

    for name in gp._LAZY:
        assert callable(getattr(gp, name)), name
    assert "build_atlas" in dir(gp)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        gp.nope  # noqa: B018


def test_import_is_light():
    """``import gis_planning`` loads no pandas or geopandas (the CLI and notebooks start fast)."""
    import subprocess
    import sys

    code = ("import sys, gis_planning; "
            "print(sorted(m for m in ('pandas', 'geopandas', 'shapely', 'folium') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
