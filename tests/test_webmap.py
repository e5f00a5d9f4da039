import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from gis_planning import InputError
from gis_planning.catalog import Catalog
from gis_planning.labels import fmt_int, fmt_percent
from gis_planning.webmap import Atlas, classify

XSS = ["<img src=x onerror=alert(1)>", "</script><script>alert(1)</script>"]


def _polys(names):
    return gpd.GeoDataFrame(
        {"stadtteil": names, "wert": [1.5, 2.5][: len(names)]},
        geometry=[box(362000 + 500 * i, 5701000, 362500 + 500 * i, 5701500)
                  for i in range(len(names))],
        crs="EPSG:25832",
    )


def test_values_are_escaped_everywhere():
    gdf = _polys(XSS)
    atlas = Atlas(title=XSS[1], subtitle=XSS[0], bounds=gdf)
    atlas.add_polygons(gdf, name=XSS[0], tooltip={"stadtteil": None},
                       classification=classify(gdf["wert"], k=2), legend_title=XSS[1],
                       search_field="stadtteil")
    atlas.add_labels(gdf, "stadtteil", name="Namen")
    pts = gpd.GeoDataFrame({"name": XSS, "art": XSS},
                           geometry=[Point(362100, 5701100), Point(362200, 5701200)],
                           crs="EPSG:25832")
    atlas.add_points(pts, name="Punkte", tooltip={"name": None}, category="art",
                     styles={XSS[0]: ("#f00", "X")})
    atlas.add_source(XSS[0], XSS[1])
    html = atlas.render(mode="cdn")
    for payload in XSS:
        assert payload not in html
    assert "<img src=x" not in html
    assert html.count("</script>") == html.count("<script")  # nothing closes a script early


def test_classify_labels_german():
    c = classify(pd.Series([1.0, 2.0, 7.1, 7.2, 10.5], name="a"), scheme="Quantiles", k=2,
                 unit="%")
    assert c.k == 2 and len(c.colors) == 2
    assert c.labels[0].startswith("1,0") and c.labels[0].endswith("%")
    assert c.color_of(1.0) == c.colors[0] and c.color_of(10.5) == c.colors[1]
    assert c.color_of(None) == "#cccccc"


def test_classify_errors():
    with pytest.raises(InputError, match="no numeric values"):
        classify(pd.Series([None, None], dtype=float))
    with pytest.raises(InputError, match="unknown classification scheme"):
        classify(pd.Series([1.0, 2.0, 3.0]), scheme="Magic")


def test_bad_group():
    gdf = _polys(["A"])
    with pytest.raises(InputError, match="`group` must be one of"):
        Atlas(title="t", bounds=gdf).add_polygons(gdf, name="x", group="Sonstiges")


def test_german_formats():
    assert fmt_int(588875) == "588.875"
    assert fmt_percent(15.2) == "15,2 %"


def test_essen_atlas_content():
    from gis_planning.atlas import build_atlas
    from gis_planning.webmap import layer_group_names

    atlas = build_atlas()
    groups = layer_group_names(atlas)
    assert "Stadtteile" in groups["Grundlagen"] and "Kitas" in groups["Grundlagen"]
    assert any("Projektwohnungen" in n and "synthetisch" in n for n in groups["Analyse"])
    html = atlas.render(mode="cdn")
    assert "Bezirkswert" in html and "Quellen und Lizenzen" in html
    assert "ODbL" in html and "dl-de/by-2-0" in html and "1846/2016/5" in html
    # project flats never as points: no marker carries a flat's coordinates
    from gis_planning.catalog import default_catalog

    pw = default_catalog().load("projektwohnungen").to_crs("EPSG:4326")
    for pt in pw.geometry[:20]:
        assert f"{pt.y:.5f}, {pt.x:.5f}" not in html


def test_atlas_for_another_city(tmp_path):
    from gis_planning.atlas import build_atlas

    st = _polys(["Nord", "Süd"]).assign(stadtteil_nr=[1, 2], bezirk=[1, 1])
    st.to_file(tmp_path / "st.gpkg")
    cat = Catalog.from_paths({"stadtteile": tmp_path / "st.gpkg"}, city="Bochum")
    html = build_atlas(cat, basemap=False).render(mode="cdn")
    assert "Integrationsatlas Bochum" in html and "Nord" in html
