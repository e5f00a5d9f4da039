import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

from gis_planning import InputError
from gis_planning.data.catalog import Catalog
from gis_planning.labels import fmt_int, fmt_percent
from gis_planning.outputs.simplify import max_deviation
from gis_planning.outputs.webmap import Atlas, classify, decode_polyline, encode_polyline

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
    with pytest.raises(InputError, match="keine Zahlen"):
        classify(pd.Series([None, None], dtype=float))
    with pytest.raises(InputError, match="unbekanntes Klassifikationsverfahren"):
        classify(pd.Series([1.0, 2.0, 3.0]), scheme="Magic")


def test_groups_of_the_layer_control():
    gdf = _polys(["A"])
    atlas = Atlas(title="t", bounds=gdf)
    with pytest.raises(InputError, match="Gruppe: der Name einer Gruppe"):
        atlas.add_polygons(gdf, name="x", group=" ")
    atlas.add_polygons(gdf, name="p", group="Planung")
    atlas.add_polygons(gdf, name="z", group="Zensus 2011 (100-m-Gitter)")  # a further group
    assert list(atlas._groups) == ["Grundlagen", "Analyse", "Zensus 2011 (100-m-Gitter)",
                                   "Planung"]


def test_german_formats():
    assert fmt_int(588875) == "588.875"
    assert fmt_percent(15.2) == "15,2 %"


@pytest.fixture(scope="module")
def essen_atlas():
    from gis_planning.outputs.atlas import build_atlas

    return build_atlas()


def test_essen_atlas_content(essen_atlas):
    from gis_planning.outputs.webmap import layer_group_names

    atlas = essen_atlas
    groups = layer_group_names(atlas)
    assert "Stadtteile" in groups["Grundlagen"] and "Kitas" in groups["Grundlagen"]
    assert any("Projektwohnungen" in n and "synthetisch" in n for n in groups["Analyse"])
    html = atlas.render(mode="cdn")
    assert "Bezirkswert" in html and "Quellen und Lizenzen" in html
    assert "ODbL" in html and "dl-de/by-2-0" in html and "1846/2016/5" in html
    # project flats never as points: no marker carries a flat's coordinates
    from gis_planning.data.catalog import default_catalog

    pw = default_catalog().load_confidential_points("projektwohnungen").to_crs("EPSG:4326")
    for pt in pw.geometry[:20]:
        assert f"{pt.y:.5f}, {pt.x:.5f}" not in html


def test_atlas_for_another_city(tmp_path):
    from gis_planning.outputs.atlas import build_atlas

    st = _polys(["Nord", "Süd"]).assign(stadtteil_nr=[1, 2], bezirk=[1, 1])
    st.to_file(tmp_path / "st.gpkg")
    cat = Catalog.from_paths({"stadtteile": tmp_path / "st.gpkg"}, city="Bochum")
    html = build_atlas(cat, basemap=False).render(mode="cdn")
    assert "Integrationsatlas Bochum" in html and "Nord" in html


def test_polyline_roundtrip_and_reference():
    # Google's documented example: (38.5, -120.2), (40.7, -120.95), (43.252, -126.453)
    pts = np.array([[38.5, -120.2], [40.7, -120.95], [43.252, -126.453]])
    assert encode_polyline(pts, 5) == "_p~iF~ps|U_ulLnnqC_mqNvxq`@"
    assert np.allclose(decode_polyline("_p~iF~ps|U_ulLnnqC_mqNvxq`@", 5), pts)
    rng = np.random.default_rng(0)
    xy = np.column_stack([rng.uniform(51.3, 51.6, 500), rng.uniform(6.8, 7.2, 500)])
    back = decode_polyline(encode_polyline(xy, 6), 6)
    assert np.abs(back - xy).max() <= 0.5e-6 + 1e-12


def test_stadtteil_borders_within_5_m_as_embedded(essen_atlas, stadtteile, catalog):
    drawn = essen_atlas.web_geometries["Stadtteile"].to_crs(stadtteile.crs)
    src = stadtteile.loc[drawn.index]
    dev = max_deviation(src, gpd.GeoDataFrame(geometry=drawn))
    assert dev.max() <= essen_atlas.tolerance_m == 5.0
    assert (dev > 0).any()  # something was simplified or rounded
    # shared borders stay shared: the drawn Stadtteile still form a coverage
    assert shapely.coverage_is_valid(drawn.values)
    # other layers: same area to 0.5 % (rounding may leave sub-metre self-touchings in
    # narrow Bezirk corners, which Leaflet draws as they are)
    for name, layer in (("Stadtbezirke", "stadtbezirke"), ("Stadtgrenze", "stadtgrenze"),
                        ("JobCenter-Bereiche", "jobcenter")):
        web = essen_atlas.web_geometries[name].to_crs(stadtteile.crs)
        source = catalog.load(layer).loc[web.index]
        area = shapely.area(shapely.make_valid(web.values))
        assert area == pytest.approx(source.area.to_numpy(), rel=0.005), name


def test_size_target_and_sharing(essen_atlas):
    sizes = essen_atlas.layer_sizes
    report = essen_atlas.size_report()
    assert set(report["layer"]) == set(sizes) and report["bytes"].sum() == sum(sizes.values())
    # the Stadtteil polygons are stored once: later layers drawing them add only attributes
    assert sizes["Stadtteile"] < sizes["Anteil 12 Hauptherkunftsländer (Bezirkswert)"] / 3
    html = essen_atlas.render(mode="offline")
    assert len(html.encode()) < 1_500_000
    assert len(essen_atlas.render(mode="cdn").encode()) < len(html.encode()) - 150_000


def test_template_syntax_in_values_is_inert():
    names = ["{% endraw %}{{ 7*7 }}{% raw %}", "{{ config }} 100 %"]
    gdf = _polys(names)
    atlas = Atlas(title=names[0], bounds=gdf, basemap=False)
    atlas.add_polygons(gdf, name=names[1], tooltip={"stadtteil": None})
    atlas.add_labels(gdf, "stadtteil", name="Namen")
    html = atlas.render(mode="cdn")
    assert "{{ 7*7 }}" in html.replace("\\u0025", "%") or "{{ 7*7 }}" in html
    assert ">49<" not in html and "endraw" in html


def test_points_compact_and_guarded(catalog):
    from gis_planning.privacy import ConfidentialDataError

    kitas = catalog.load("kitas")
    atlas = Atlas(title="t", bounds=catalog.load("stadtteile"), basemap=False)
    atlas.add_points(kitas, name="Kitas", tooltip={"name": None, "traeger": None})
    assert atlas.feature_counts["Kitas"] == ("points", len(kitas))
    assert atlas.layer_sizes["Kitas"] < 120 * len(kitas)  # not one folium Marker per point
    with pytest.raises(ConfidentialDataError):
        atlas.add_points(catalog.load_confidential_points("projektwohnungen"), name="nein")
    with pytest.raises(InputError, match="gibt es schon"):
        atlas.add_points(kitas, name="Kitas")


def test_cli_atlas_reports_sizes(tmp_path):
    import json

    from click.testing import CliRunner

    from gis_planning.cli import cli

    _polys(["Nord", "Süd"]).assign(stadtteil_nr=[1, 2], bezirk=[1, 1]).to_file(
        tmp_path / "st.gpkg")
    (tmp_path / "cat.json").write_text(
        json.dumps({"city": "Bochum", "layers": {"stadtteile": "st.gpkg"}}), encoding="utf-8")
    out = tmp_path / "maps" / "bochum.html"
    res = CliRunner().invoke(cli, ["--catalog", str(tmp_path / "cat.json"), "atlas",
                                   "--output", str(out), "--sizes", "--no-basemap"])
    assert res.exit_code == 0, res.output
    assert "Atlas geschrieben" in res.output and "Stadtteile" in res.output
    assert "Flächen" in res.output and "kB" in res.output
    html = out.read_text(encoding="utf-8")
    assert "Integrationsatlas Bochum" in html and "https://cdn" not in html
    res = CliRunner().invoke(cli, ["--catalog", str(tmp_path / "cat.json"), "atlas",
                                   "--output", str(out), "--cdn"])
    assert res.exit_code != 0  # exists: needs --overwrite
    res = CliRunner().invoke(cli, ["--catalog", str(tmp_path / "cat.json"), "atlas",
                                   "--output", str(out), "--cdn", "--overwrite"])
    assert res.exit_code == 0 and out.stat().st_size < 200_000
    assert "https://cdn" in out.read_text(encoding="utf-8")


def test_page_columns_keep_numbers_raw_and_texts_escaped():
    from gis_planning.labels import NumberFormat
    from gis_planning.outputs.webmap import _column, _compact

    s = pd.Series([1.23456, np.nan, 7.0], name="a")
    assert _column(s, fmt_percent) == ("n", [1, "%"], [1.2346, None, 7])
    assert _column(s, NumberFormat(2, "km²"))[:2] == ("n", [2, "km²"])
    assert _column(pd.Series([True, False]), None) == ("b", None, [True, False])
    assert _column(pd.Series([1, 2]), lambda v: f"Bezirk {v}") == ("s", None,
                                                                   ["Bezirk 1", "Bezirk 2"])
    kind, _, vals = _column(pd.Series([XSS[0], None]), None)
    assert kind == "s" and vals[0] == "&lt;img src=x onerror=alert(1)&gt;" and vals[1] is None
    coded = _compact(["a", "b", "a", "a", None, "b", "a", "a"])
    assert coded == {"u": ["a", "b"], "i": [0, 1, 0, 0, None, 1, 0, 0]}
    assert _compact(list("abcdefgh")) == list("abcdefgh")


def test_projection_for_distances_is_exact_to_a_millimetre(essen_atlas):
    assert essen_atlas.projection["err"] < 0.001
    assert len(essen_atlas.projection["cx"]) == 10


def test_every_layer_gets_a_legend_and_repr_is_an_offline_iframe():
    gdf = _polys(["Nord", "Süd"])
    atlas = Atlas(title="t <b>", bounds=gdf, basemap=False)
    atlas.add_polygons(gdf, name="Umriss", tooltip={"stadtteil": None})
    atlas.add_polygons(gdf.assign(w=[1.0, np.nan]), name="Wert", group="Analyse",
                       classification=classify(pd.Series([1.0, np.nan], name="w"), k=2,
                                               missing_label="< 5 unterdrückt"))
    atlas.add_labels(gdf, "stadtteil", name="Namen")
    pts = gpd.GeoDataFrame({"name": ["A"]}, geometry=[Point(362100, 5701100)],
                           crs="EPSG:25832")
    atlas.add_points(pts, name="Punkte", tooltip={"name": None}, search_field="name")
    assert atlas.legends == ["Umriss", "Wert", "Namen", "Punkte"]
    frame = atlas._repr_html_()
    assert frame.startswith('<iframe srcdoc="&lt;!DOCTYPE html&gt;')
    assert "https://cdn" not in frame and "t &amp;lt;b&amp;gt;" in frame
    assert "&lt; 5 unterdrückt" in frame.replace("&amp;lt;", "&lt;")
