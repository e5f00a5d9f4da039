"""GeoPackage (1.2, layer_styles, metadata) and RFC 7946 GeoJSON exports, atomic writes."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from xml.etree import ElementTree as ET

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from gis_planning import results
from gis_planning._atomic import MANIFEST
from gis_planning._errors import (
    ConfidentialDataError,
    InputError,
    OutputExistsError,
    OutputWriteError,
)
from gis_planning.outputs import export
from gis_planning.privacy import mark_confidential


@pytest.fixture(scope="module")
def layers(catalog):
    return export.export_layers(catalog)


@pytest.fixture(scope="module")
def gpkg(layers, tmp_path_factory):
    path = tmp_path_factory.mktemp("gpkg") / "essen.gpkg"
    export.write_gpkg(layers, path)
    return path


@pytest.fixture(scope="module")
def geojson_dir(layers, tmp_path_factory):
    out = tmp_path_factory.mktemp("gj") / "geojson"
    export.write_geojson_dir(layers, out)
    return out


def test_export_layers_cover_catalogue_and_results(catalog, layers):
    names = [layer.name for layer in layers]
    expected = [n for n in catalog.names() if n != "projektwohnungen"]
    expected += ["projektwohnungen_anzahl", export.BEZIRK_LAYER, *results.available(catalog)]
    assert sorted(names) == sorted(expected)
    flats = next(x for x in layers if x.name == "projektwohnungen_anzahl")
    assert set(flats.frame.geom_type) <= {"Polygon", "MultiPolygon"}
    assert len(flats.frame) == len(catalog.load("stadtteile"))
    small = flats.frame["unterdrueckt"]
    assert flats.frame.loc[small, "anzahl"].isna().all()
    assert int(flats.frame["anzahl"].sum()) + int(small.sum()) <= 500


def test_export_layers_unknown_name(catalog):
    with pytest.raises(InputError, match="unbekannt oder nicht verfügbar"):
        export.export_layers(catalog, names=["kitas", "kitaz"])
    assert [x.name for x in export.export_layers(catalog, names=["kitas"])] == ["kitas"]


def test_gpkg_version_layers_and_tables(gpkg, layers):
    con = sqlite3.connect(gpkg)
    try:
        assert con.execute("PRAGMA user_version").fetchone()[0] == 10200
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47  # "GPKG"
        contents = {r[0]: r[1:] for r in con.execute(
            "SELECT table_name, data_type, identifier, description FROM gpkg_contents")}
        geom_cols = dict(con.execute(
            "SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall())
        styles = con.execute(
            "SELECT f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
            "useAsDefault, styleQML FROM layer_styles").fetchall()
    finally:
        con.close()
    for layer in layers:
        kind, identifier, _ = contents[layer.name]
        assert kind == ("features" if layer.spatial else "attributes")
        assert identifier.startswith(layer.label)
    assert contents["layer_styles"][0] == "attributes"
    spatial = {x.name for x in layers if x.spatial}
    assert {s[2] for s in styles} == spatial and len(styles) == len(spatial)
    for catalog_, schema, table, geom_col, default, qml_text in styles:
        assert (catalog_, schema, default) == ("", "", 1)
        assert geom_col == geom_cols[table]
        ET.fromstring(qml_text.split("\n", 1)[1])  # well-formed


def test_gpkg_metadata_and_no_points_of_flats(gpkg, catalog):
    info = pyogrio.read_info(gpkg, layer="kitas")
    meta = info["layer_metadata"]
    schema = catalog.schema("kitas")
    assert meta["source"] == schema.source
    assert meta["licence"] == schema.licence
    assert meta["date"] == schema.date
    assert meta["IDENTIFIER"] == "Kitas"
    stat = pyogrio.read_info(gpkg, layer="stadtteil_statistik")["layer_metadata"]
    assert stat["method"] == results.meta(catalog, "stadtteil_statistik")["method"]
    assert "geschätzt" in stat["estimated"]
    listed = dict(pyogrio.list_layers(gpkg))
    assert "projektwohnungen" not in listed
    assert listed["projektwohnungen_anzahl"] in ("MultiPolygon", "Polygon")
    flats = gpd.read_file(gpkg, layer="projektwohnungen_anzahl")
    assert "wohnung_id" not in flats.columns
    assert flats.loc[flats["unterdrueckt"], "anzahl"].isna().all()


def test_gpkg_roundtrip_values(gpkg, catalog):
    got = gpd.read_file(gpkg, layer="stadtteile")
    src = catalog.load("stadtteile")
    assert got.crs.to_epsg() == 25832
    assert len(got) == len(src)
    assert np.allclose(got.area.sum(), src.area.sum())
    assert list(got["stadtteil"]) == list(src["stadtteil"])


def test_guard_refuses_confidential_frame(tmp_path, catalog):
    pts = catalog.load_confidential_points("projektwohnungen")
    assert pts.attrs
    bad = export.ExportLayer("punkte", mark_confidential(pts.copy(), "projektwohnungen"), "x")
    with pytest.raises(ConfidentialDataError):
        export.write_gpkg([bad], tmp_path / "x.gpkg")
    with pytest.raises(ConfidentialDataError):
        export.write_geojson_dir([bad], tmp_path / "gj")
    assert not list(tmp_path.iterdir())


def test_gpkg_overwrite_and_interrupted_write(tmp_path, layers, monkeypatch):
    path = tmp_path / "a.gpkg"
    small = [x for x in layers if x.name in ("stadtgrenze", "kitas", "stadt_gesamt")]
    export.write_gpkg(small, path)
    before = path.read_bytes()
    with pytest.raises(OutputExistsError, match="overwrite"):
        export.write_gpkg(small, path)
    calls = {"n": 0}
    real = pyogrio.write_dataframe

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(export.pyogrio, "write_dataframe", flaky)
    with pytest.raises(OutputWriteError, match="Kein Platz mehr .*bisherige Ausgabe ist "
                                               "unverändert"):
        export.write_gpkg(small, path, overwrite=True)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.gpkg"]  # no temporary file left
    monkeypatch.setattr(export.pyogrio, "write_dataframe", real)
    export.write_gpkg(small[:1], path, overwrite=True)
    assert [n for n, _ in pyogrio.list_layers(path)] == ["stadtgrenze", "layer_styles"]


def _decimals(x: float) -> int:
    text = repr(float(x))
    return 0 if "." not in text or "e" in text else len(text.split(".")[1].rstrip("0"))


def test_geojson_rfc7946(geojson_dir, layers):
    for layer in layers:
        if not layer.spatial:
            assert (geojson_dir / f"{layer.name}.csv").exists()
            continue
        path = geojson_dir / f"{layer.name}.geojson"
        assert (geojson_dir / f"{layer.name}.qml").read_text(encoding="utf-8") == layer.qml()
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert "crs" not in doc
        assert doc["type"] == "FeatureCollection"
        assert len(doc["features"]) == len(layer.frame)
        coords = np.array(shapely.get_coordinates(
            [shapely.geometry.shape(f["geometry"]) for f in doc["features"]]))
        assert max(_decimals(v) for v in coords.ravel()) <= 7
        assert 5.5 < coords[:, 0].min() and coords[:, 0].max() < 8  # lon first, Essen
        assert 51 < coords[:, 1].min() and coords[:, 1].max() < 52
        for f in doc["features"]:
            g = f["geometry"]
            polys = {"Polygon": [g["coordinates"]],
                     "MultiPolygon": g["coordinates"]}.get(g["type"], [])
            for rings in polys:
                assert shapely.is_ccw(shapely.LinearRing(rings[0]))
                assert all(not shapely.is_ccw(shapely.LinearRing(r)) for r in rings[1:])
        info = pyogrio.read_info(path)
        assert info["crs"] in ("EPSG:4326", "OGC:CRS84")
        assert info["features"] == len(layer.frame)


def test_geojson_dir_overwrite_checks_every_file(tmp_path, layers):
    small = [x for x in layers if x.name in ("stadtgrenze", "kitas", "stadt_gesamt")]
    out = tmp_path / "gj"
    out.mkdir()
    (out / "kitas.qml").write_text("alt", encoding="utf-8")
    with pytest.raises(OutputExistsError, match="existiert bereits und ist nicht leer"):
        export.write_geojson_dir(small, out)
    assert sorted(p.name for p in out.iterdir()) == ["kitas.qml"]  # nothing written
    written = export.write_geojson_dir(small, out, overwrite=True)
    assert sorted(p.name for p in written) == sorted(
        ["stadtgrenze.geojson", "stadtgrenze.qml", "stadtgrenze.qmd", "kitas.geojson",
         "kitas.qml", "kitas.qmd", "stadt_gesamt.csv", "stadt_gesamt.csvt",
         "stadt_gesamt.qmd"])
    assert (out / "kitas.qml").read_text(encoding="utf-8").startswith("<!DOCTYPE qgis")
    with pytest.raises(InputError, match="existiert nicht"):
        export.write_geojson_dir(small, tmp_path / "a" / "b")


def test_geojson_dir_overwrite_replaces_the_set(tmp_path, layers):
    """Issue 14.6: --overwrite into a folder kept stale files of an earlier export."""
    small = [x for x in layers if x.name in ("stadtgrenze", "kitas", "stadt_gesamt")]
    out = tmp_path / "gj"
    export.write_geojson_dir(small, out)
    export.write_geojson_dir(small[:1], out, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "stadtgrenze.geojson",
                                                     "stadtgrenze.qmd", "stadtgrenze.qml"]
    assert [p.name for p in tmp_path.iterdir()] == ["gj"]  # no temporary folder left
    (out / "notizen.txt").write_text("meins", encoding="utf-8")
    with pytest.raises(OutputExistsError, match="nicht von gis-planning stammen .notizen.txt"):
        export.write_geojson_dir(small, out, overwrite=True)
    assert (out / "notizen.txt").read_text(encoding="utf-8") == "meins"


def test_geojson_dir_error_mid_way_keeps_old_set(tmp_path, layers, monkeypatch):
    """An error while writing the third file leaves the old folder exactly as it was."""
    small = [x for x in layers if x.name in ("stadtgrenze", "kitas", "stadt_gesamt")]
    out = tmp_path / "gj"
    export.write_geojson_dir(small[:1], out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = pyogrio.write_dataframe
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("GDAL: Abbruch")
        return real(*args, **kwargs)

    monkeypatch.setattr(export.pyogrio, "write_dataframe", flaky)
    with pytest.raises(RuntimeError, match="Abbruch"):
        export.write_geojson_dir(small, out, overwrite=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["gj"]
    with pytest.raises(RuntimeError, match="Abbruch"):
        calls["n"] = 0
        export.write_geojson_dir(small, tmp_path / "neu")
    assert [p.name for p in tmp_path.iterdir()] == ["gj"]  # no partial new folder


def test_cli_export(tmp_path):
    from click.testing import CliRunner

    from gis_planning.cli import cli

    runner = CliRunner()
    gpkg, gj = tmp_path / "e.gpkg", tmp_path / "gj"
    args = ["export", "-o", str(gpkg), "--output-dir", str(gj), "--layer", "kitas",
            "--layer", "projektwohnungen", "--layer", "stadt_gesamt"]
    res = runner.invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert "3 Ebenen/Tabellen, 2 mit QGIS-Stil" in res.output
    assert sorted(n for n, _ in pyogrio.list_layers(gpkg)) == [
        "kitas", "layer_styles", "projektwohnungen_anzahl", "stadt_gesamt"]
    assert (gj / "projektwohnungen_anzahl.qml").exists()
    qgz = tmp_path / "e.qgz"
    assert "QGIS-Projekt geschrieben" in res.output and qgz.exists()
    with zipfile.ZipFile(qgz) as zf:
        assert zf.namelist() == ["e.qgs"]
        assert "./e.gpkg|layername=kitas" in zf.read("e.qgs").decode("utf-8")
    res = runner.invoke(cli, args)
    assert res.exit_code == 2 and "overwrite" in res.output
    assert runner.invoke(cli, [*args, "--overwrite"]).exit_code == 0
    res = runner.invoke(cli, ["export"])
    assert res.exit_code == 2 and "-o/--output DATEI.gpkg" in res.output
    other = tmp_path / "o.gpkg"
    res = runner.invoke(cli, ["export", "-o", str(other), "--layer", "kitas",
                              "--no-project"])
    assert res.exit_code == 0 and not other.with_suffix(".qgz").exists()
    res = runner.invoke(cli, ["export", "-o", str(tmp_path / "p.gpkg"), "--project",
                              str(tmp_path / "p.qgis")])
    assert res.exit_code == 2 and "--project" in res.output
    assert not (tmp_path / "p.gpkg").exists()
    sub = tmp_path / "projekt"
    sub.mkdir()
    res = runner.invoke(cli, ["export", "-o", str(tmp_path / "q.gpkg"), "--layer",
                              "kitas", "--project", str(sub / "atlas.qgz")])
    assert res.exit_code == 0, res.output
    with zipfile.ZipFile(sub / "atlas.qgz") as zf:
        assert "../q.gpkg|layername=kitas" in zf.read("atlas.qgs").decode("utf-8")


def test_every_field_is_german_and_has_an_alias(layers):
    english = set(export.FIELD_RENAMES)
    for layer in layers:
        geom = layer.frame.geometry.name if layer.spatial else None
        fields = [str(c) for c in layer.frame.columns if c != geom]
        assert not english & set(fields), layer.name
        assert not [f for f in fields if "dissimilarity" in f or "_ci_" in f], layer.name
        aliases = layer.aliases()
        assert sorted(aliases) == sorted(fields), layer.name
        for name, alias in aliases.items():
            assert alias and alias != name, (layer.name, name)
    sites = next(x for x in layers if x.name == "standorte")
    assert sites.aliases()["erreichte_nachfrage"] == "erreichte Nachfrage (Personen)"
    seg = next(x for x in layers if x.name == "segregation_indizes")
    assert seg.aliases()["dissimilaritaet_ki_unten"] == (
        "Dissimilarität D: 95-%-Intervall, untere Grenze")
    assert "gebiet" in seg.frame and "scope" not in seg.frame


def test_field_label_patterns():
    assert export.field_label("afghanistan_prozent") == "Afghanistan (%)"
    assert export.field_label("xyz_anteil_prozent") == "Anteil Xyz (%)"
    assert export.field_label("lq_uebrige_anzahl") == "Lokationsquotient (übrige Personen)"
    assert export.field_label("einwohner", {"einwohner": "Bevölkerung"}) == "Bevölkerung"
    assert export.field_label("LON") == "geographische Länge (°)"
    frame = gpd.GeoDataFrame({"value": [1.0], "erreicht": [2.0], "covered_weight": [3.0]},
                             geometry=[shapely.Point(0, 0)], crs="EPSG:25832")
    out, _ = export.german_columns(frame)
    # a German name already taken is not overwritten
    assert list(out.columns) == ["rate_analysiert", "erreicht", "covered_weight", "geometry"]


def test_demand_cells_styled_by_coverage(layers):
    cells = next(x for x in layers if x.name == "standort_zuordnung")
    assert cells.style is not None and cells.style.kind == "categorized"
    assert cells.style.column == "abgedeckt"
    assert {c.value for c in cells.style.categories} == set(cells.frame["abgedeckt"])
    assert not cells.visible and cells.group == "Planung"
    root = ET.fromstring(cells.qml().split("\n", 1)[1])
    assert root.find("renderer-v2").get("type") == "categorizedSymbol"
    colours = {c.color for c in cells.style.categories}
    assert len(colours) == 2 and "#cccccc" not in colours


def test_bezirk_choropleth_layer(layers, catalog):
    layer = next(x for x in layers if x.name == export.BEZIRK_LAYER)
    stat = results.bezirk_values(catalog)
    g = catalog.group()
    got = layer.frame.set_index("bezirk")[g.share_column]
    want = stat.set_index("bezirk")[g.share_column]
    assert np.allclose(got.sort_index(), want.sort_index())
    assert len(layer.frame) == len(catalog.load("stadtbezirke"))
    assert layer.style.kind == "graduated" and layer.visible and layer.group == "Analyse"
    assert layer.label == f"Anteil {g.label} (Bezirkswert)"
    assert layer.metadata["licence"] and layer.metadata["source"]


def test_atlas_groups_and_order(layers, catalog):
    groups = [x.group for x in layers]
    order = ["Grundlagen", "Analyse", "Planung", "Tabellen"]
    assert groups == sorted(groups, key=order.index)
    shown = [x.name for x in layers if x.visible]
    assert shown == ["stadtgrenze", "stadtbezirke", "stadtteile", export.BEZIRK_LAYER]
    assert all(not x.spatial for x in layers if x.group == "Tabellen")
    flats = next(x for x in layers if x.name == "projektwohnungen_anzahl")
    assert flats.group == "Analyse"  # as in the atlas


def test_gpkg_qgis_metadata_documents(gpkg, layers, catalog):
    con = sqlite3.connect(gpkg)
    try:
        rows = con.execute(
            "SELECT r.table_name, m.metadata FROM gpkg_metadata m JOIN gpkg_metadata_reference"
            " r ON r.md_file_id = m.id WHERE m.md_standard_uri = 'http://mrcc.com/qgis.dtd'"
        ).fetchall()
    finally:
        con.close()
    docs = dict(rows)
    assert sorted(docs) == sorted(x.name for x in layers) and len(rows) == len(layers)
    root = ET.fromstring(docs["kitas"].split("\n", 1)[1])
    schema = catalog.schema("kitas")
    assert root.findtext("title") == "Kitas"
    assert root.findtext("license") == schema.licence
    assert root.findtext("rights") == f"Quelle: {schema.source}"
    assert f"Stand: {schema.date}" in [h.text for h in root.findall("history")]
    assert root.find("extent/temporal/period/start").text.startswith("2024-01-01")
    osm = ET.fromstring(docs["stadtteile"].split("\n", 1)[1])
    assert "© OpenStreetMap-Mitwirkende, ODbL 1.0" in [r.text for r in osm.findall("rights")]


def test_geojson_sidecars_qmd_and_csvt(geojson_dir, layers):
    for layer in layers:
        qmd = (geojson_dir / f"{layer.name}.qmd").read_text(encoding="utf-8")
        assert qmd == layer.qmd() and "<license>" in qmd
        if layer.spatial:
            continue
        header = (geojson_dir / f"{layer.name}.csv").read_text(encoding="utf-8").splitlines()[0]
        types = (geojson_dir / f"{layer.name}.csvt").read_text(encoding="utf-8").split(",")
        assert len(types) == len(header.split(",")) or '"' in header, layer.name
        assert all(t.startswith('"') and t.endswith('"') for t in types)
    types = (geojson_dir / "budget.csvt").read_text(encoding="utf-8")
    assert types.startswith('"Integer64","Real"')
    assert export.csvt_types(
        __import__("pandas").DataFrame({"a": [True], "b": ["x"]})) == [
        "Integer(Boolean)", "String"]


def test_project_xml_groups_order_and_sources(layers, tmp_path):
    from gis_planning.outputs import qgis_project

    gpkg = tmp_path / "stadt.gpkg"
    text = qgis_project.project_xml(layers, gpkg, title="Integrationsatlas Essen",
                                    crs="EPSG:25832")
    root = ET.fromstring(text.split("\n", 1)[1])
    tree = root.find("layer-tree-group")
    assert [g.get("name") for g in tree.findall("layer-tree-group")] == [
        "Grundlagen", "Analyse", "Planung", "Tabellen"]
    ids = [x.text for x in tree.find("custom-order").findall("item")]
    by_id = {qgis_project.layer_id(x.name): x for x in layers}
    ranks = [qgis_project.draw_rank(by_id[i]) for i in ids]
    assert ranks == sorted(ranks) and ranks[0] == 0  # points on top, choropleths below
    assert len(ids) == sum(x.spatial for x in layers)
    sources = [m.findtext("datasource") for m in root.iter("maplayer")]
    assert sources == [f"./stadt.gpkg|layername={x.name}" for g in
                       qgis_project.PROJECT_GROUPS for x in layers if x.group == g]
    kitas = next(m for m in root.iter("maplayer") if m.findtext("id") == "kitas_gis_planning")
    assert kitas.find("renderer-v2").get("type") == "categorizedSymbol"
    assert kitas.find("resourceMetadata/license").text
    assert kitas.findtext("attribution").startswith("Quelle: ")
    assert root.findtext("properties/Paths/Absolute") == "false"
    with pytest.raises(InputError, match="ohne Ebenen"):
        qgis_project.project_xml([], gpkg, title="x", crs="EPSG:25832")
