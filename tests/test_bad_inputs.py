"""The bad-input corpus (tests/data/bad) through the library and the CLI.

Every bad file must give one of our error types whose message names the file, the row or
column and the fix; through the CLI one line on stderr, exit code 2 (``--catalog``) or a
report with exit code 1 (``check``), no traceback, nothing written. The files in ACCEPTED
must be read correctly (with a warning where data was changed).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
import shapely
from click.testing import CliRunner

from gis_planning import (
    CRSError,
    GeometryError,
    LayerError,
    NameMatchError,
    SchemaError,
)
from gis_planning.cli import cli
from gis_planning.data.catalog import default_catalog
from gis_planning.data.check import check_file
from gis_planning.data.io import read_file, validate_layer
from gis_planning.data.sources.essen import STADTTEIL_ALIASES

ESSEN_SCHEMAS = default_catalog().schemas

BAD = Path(__file__).parent / "data" / "bad"

#: file -> (catalogue layer, error class, pattern the one-line message must match)
CASES = {
    "leer.geojson": ("kitas", LayerError, r"ist leer \(0 Byte\)\. Exportieren Sie die Ebene neu"),
    "kitas_keine_objekte.geojson": (
        "kitas", LayerError, r"enthält keine Objekte\. Prüfen Sie die Datei"),
    "kitas_ohne_prj.shp": (
        "kitas", CRSError, r"hat kein Koordinatensystem\. Dem Shapefile fehlt die \.prj-Datei"),
    "kitas_latlon_vertauscht.geojson": (
        "kitas", CRSError, r"scheinen vertauscht.*Tauschen Sie die Koordinatenspalten"),
    "kitas_utm_als_wgs84.geojson": (
        "kitas", CRSError, r"das sind Meter\. Geben Sie das richtige Koordinatensystem an"),
    "kitas_ausserhalb.geojson": (
        "kitas", CRSError, r"außerhalb Deutschlands\. Prüfen Sie das angegebene "
                           r"Koordinatensystem"),
    "kitas_gemischte_geometrien.geojson": (
        "kitas", GeometryError, r"enthält aber Linien \(LineString\), Punkte \(Point\) "
                                r"\(zuerst in Zeile 3: Linien \(LineString\)\)\. Teilen Sie"),
    "kitas_doppelte_ids.geojson": (
        "kitas", SchemaError, r"'kita_id' hat doppelte Werte \(7; Zeile 1 und Zeile 3\)\. "
                              r"Kennungen müssen"),
    "kitas_spalte_fehlt.geojson": (
        "kitas", SchemaError, r"Pflichtspalte\(n\) 'name' fehlen.*Benennen Sie die Spalten um"),
    "jobcenter_text_in_anzahl.geojson": (
        "jobcenter", SchemaError, r"Zeile 2: Spalte 'n_stadtteile' muss Zahlen enthalten, "
                                  r"enthält aber 'drei'\. Tragen Sie nur Zahlen ein"),
    "jobcenter_negative_anzahl.geojson": (
        "jobcenter", SchemaError, r"Zeile 2: Spalte 'n_stadtteile' enthält die negative Anzahl "
                                  r"-2\. Anzahlen sind 0 oder mehr"),
    "jobcenter_prozent_als_anzahl.csv": (
        "jobcenter", SchemaError, r"Zeile 3: Spalte 'n_stadtteile' muss ganze Zahlen enthalten, "
                                  r"enthält aber '7,1 %'\. Das sieht nach einem Anteil"),
    "kitas_abgeschnitten.geojson": (
        "kitas", LayerError, r"vielleicht abgeschnitten.*exportieren Sie sie neu"),
    "kitas_leer.gpkg": ("kitas", LayerError, r"ist leer \(0 Byte\)"),
    "kitas_text_in_koordinaten.csv": (
        "kitas", LayerError, r"Zeile 3: die Koordinatenspalte 'lon' enthält 'sieben', keine "
                             r"Zahl\. Korrigieren oder löschen"),
    "kitas_stadtteil_unbekannt.csv": (
        "kitas", NameMatchError, r"Zeile 3: unbekannter Stadtteilname 'Altenessen' in Spalte "
                                 r"'stadtteil'\. Meinten Sie 'Altenessen-Süd' oder "
                                 r"'Altenessen-Nord'\?"),
    # issue 14: tracebacks and silently wrong values on real-world input
    "kitas_koordinate_halb.csv": (
        "kitas", LayerError, r"Zeile 3: nur eine Koordinate \('lon' = 7\.01127\), 'lat' ist "
                             r"leer\. Tragen Sie beide ein"),
    "kitas_id_zu_gross.csv": (
        "kitas", SchemaError, r"Zeile 3: Spalte 'kita_id' hält 100000000000000000000000, mehr "
                              r"als die größte erlaubte ganze Zahl"),
    "kitas_id_leer.geojson": (
        "kitas", SchemaError, r"Zeile 2: die Kennung in Spalte 'kita_id' fehlt \(1 Zeile\(n\)\); "
                              r"jede Zeile braucht einen Wert"),
    "kitas_name_leer.geojson": (
        "kitas", SchemaError, r"Zeile 3: der Pflichtwert in Spalte 'name' fehlt"),
    "kitas_doppelte_spalte.csv": (
        "kitas", LayerError, r"die Spalte 'name' kommt in der Kopfzeile zweimal vor \(Spalte 2 "
                             r"und 3\); benennen Sie eine um"),
    "kitas_name_gross_klein.geojson": (
        "kitas", LayerError, r"die Spalten 'name' und 'NAME' unterscheiden sich nur in der "
                             r"Groß-/Kleinschreibung.*Benennen Sie eine um"),
    "kitas_dezimal_gemischt.csv": (
        "kitas", LayerError, r"Zeile 3: Spalte 'lon' mischt Dezimalkomma \('6,96629'\) und "
                             r"Dezimalpunkt \('7\.01127'\)"),
    "stadtteile_ueberlappend.geojson": (
        "stadtteile", GeometryError, r"'Stadtkern' \(Zeile 1\) und 'Ostviertel' \(Zeile 2\) "
                                     r"überlappen sich auf [\d.]+ m²; Punkte dort würden doppelt"),
}

#: Read correctly, not rejected: file -> (layer, warning pattern or None)
ACCEPTED = {
    # repeated names are flagged; the unique numbers keep the areas apart (Berlin has two
    # Planungsräume "Schloßstraße")
    "stadtteile_doppelte_namen.geojson": (
        "stadtteile", r"der Name 'Stadtkern' in Spalte 'stadtteil' kommt 2-mal vor \(Zeile 1, "
                      r"2\); die Flächen sind über 'stadtteil_nr' eindeutig"),
    "kitas_semikolon_latin1.csv": ("kitas", None),
    "kitas_stadtteil_schreibweisen.csv": (
        "kitas", r"'Margaretenhöhe' -> 'Margarethenhöhe', 'Altenessen Sued' -> "
                 r"'Altenessen-Süd', 'Rüttenscheidt' -> 'Rüttenscheid'"),
    "stadtteile_selbstschnitt.geojson": (
        "stadtteile", r"1 ungültige Geometrie\(n\) repariert.*Zeile 1"),
    "kitas_koordinaten_fehlen.csv": (
        "kitas", r"2 Zeile\(n\) ohne Koordinaten ausgelassen \(Zeile 3, 5\)"),
    "kitas_tausenderpunkte.csv": ("kitas", None),
    "kitas_z_koordinaten.geojson": (
        "kitas", r"3 Geometrie\(n\) mit Z-Werten \(Höhe\) auf 2-D reduziert \(erste in Zeile 1\)"),
    "kitas_zm_wkt.csv": (
        "kitas", r"2 Geometrie\(n\) mit Z-Werten \(Höhe\) und M-Werten \(Messwert\) auf 2-D"),
    "kitas_m_werte.gpkg": ("kitas", r"M-Werte \(Messwerte\) der Geometrien verworfen"),
}

#: The Stadtteil names are checked against the catalogue's Stadtteile; a --catalog with only
#: the bad file has none, so this case goes through `check` only.
CHECK_ONLY = {"kitas_stadtteil_unbekannt.csv"}


def _load(path: Path, layer: str, catalog):
    """What the library does with a user's file: read, then validate against the schema."""
    gdf = read_file(path)
    schema = ESSEN_SCHEMAS[layer]
    if "stadtteil" in gdf.columns and layer != "stadtteile":
        schema = replace(schema, check_stadtteil=True)
    return validate_layer(gdf, schema, name=str(path), stadtteil_names=catalog.stadtteil_names,
                          stadtteil_aliases=STADTTEIL_ALIASES)


def test_corpus_is_complete_and_documented():
    readme = (BAD / "README.md").read_text(encoding="utf-8")
    files = {p.name for p in BAD.iterdir()
             if p.suffix not in (".md", ".py", ".dbf", ".shx") and not p.name.startswith(".")}
    assert files == set(CASES) | set(ACCEPTED)
    for name in files:
        assert f"`{name}`" in readme, name


@pytest.mark.parametrize("name", sorted(CASES))
def test_library_clear_error(name, catalog):
    layer, cls, pattern = CASES[name]
    path = BAD / name
    with pytest.raises(cls) as info:
        _load(path, layer, catalog)
    msg = str(info.value)
    assert re.search(pattern, msg), msg
    assert name in msg  # names the file
    assert "\n" not in msg


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_library_reads_accepted(name, catalog):
    layer, warn = ACCEPTED[name]
    if warn is None:
        gdf = _load(BAD / name, layer, catalog)
    else:
        with pytest.warns(UserWarning, match=warn):
            gdf = _load(BAD / name, layer, catalog)
    assert len(gdf) > 0
    if name == "kitas_semikolon_latin1.csv":
        assert gdf["name"].tolist()[0] == "Kita Bürgerstraße"
        assert gdf.crs.to_epsg() == 4326
        assert gdf.geometry.iloc[0].x == pytest.approx(6.96629)
        assert gdf.geometry.iloc[2].y == pytest.approx(51.38430)
        assert gdf["kita_id"].tolist() == [1, 2, 3]
    if name == "kitas_stadtteil_schreibweisen.csv":
        assert gdf["stadtteil"].tolist() == ["Margarethenhöhe", "Altenessen-Süd", "Rüttenscheid"]
    if name == "stadtteile_selbstschnitt.geojson":
        assert gdf.is_valid.all()
    if name == "kitas_koordinaten_fehlen.csv":
        assert gdf["kita_id"].tolist() == [1, 3, 5]
    if name == "kitas_tausenderpunkte.csv":  # "1.001" is 1001, "358.719,2" is 358719.2
        assert gdf["kita_id"].tolist() == [1001, 1002, 1003]
        assert gdf.crs.to_epsg() == 25832
        assert gdf.geometry.iloc[0].x == pytest.approx(358719.2)
        assert gdf.geometry.iloc[1].y == pytest.approx(5707369.7)
    if name in ("kitas_z_koordinaten.geojson", "kitas_zm_wkt.csv", "kitas_m_werte.gpkg"):
        assert not gdf.has_z.any() and not shapely.has_m(gdf.geometry.values).any()


@pytest.fixture
def runner():
    return CliRunner()


@pytest.mark.parametrize("name", sorted(set(CASES) - CHECK_ONLY))
def test_cli_catalog_one_line_exit_2_nothing_written(name, runner, tmp_path):
    layer, _cls, pattern = CASES[name]
    spec = tmp_path / "katalog.json"
    spec.write_text(json.dumps({"city": "Teststadt", "layers": {layer: str(BAD / name)}}))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    res = runner.invoke(cli, ["--catalog", str(spec), "layers", "export", layer, "--format",
                              "geojson", "-o", str(out_dir / "x.geojson")],
                        catch_exceptions=False)
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1, res.output
    assert lines[0].startswith("Fehler: ") and "Traceback" not in res.output
    assert name in lines[0] and re.search(pattern, lines[0]), lines[0]
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("name", sorted(CASES))
def test_cli_check_reports_error(name, runner):
    layer, _cls, pattern = CASES[name]
    res = runner.invoke(cli, ["check", str(BAD / name), "--as", layer], catch_exceptions=False)
    assert res.exit_code == 1, res.output
    lines = res.output.strip().splitlines()
    assert lines[0].startswith("FEHLER") and name in lines[0]
    errors = [ln for ln in lines if ln.strip().startswith("Fehler:")]
    assert len(errors) == 1 and re.search(pattern, errors[0]), res.output
    assert "Traceback" not in res.output
    assert lines[-1] == "1 Datei(en) geprüft: 0 in Ordnung, 1 mit Fehlern."


def test_cli_check_guesses_layer_from_file_name(runner):
    paths = [str(BAD / n) for n in sorted(ACCEPTED)]
    res = runner.invoke(cli, ["check", *paths], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "(als kitas, 3 Objekte)" in res.output and "(als stadtteile, 2 Objekte)" in res.output
    assert "Warnung:" in res.output and "Fehler:" not in res.output
    strict = runner.invoke(cli, ["check", "--strict", *paths], catch_exceptions=False)
    assert strict.exit_code == 1


def test_check_whole_corpus_one_call(runner):
    paths = [str(BAD / n) for n in sorted({*CASES, *ACCEPTED})]
    res = runner.invoke(cli, ["check", *paths], catch_exceptions=False)
    assert res.exit_code == 1
    assert res.output.strip().splitlines()[-1] == (
        f"{len(paths)} Datei(en) geprüft: {len(ACCEPTED)} in Ordnung, {len(CASES)} mit Fehlern."
    )


def test_check_unknown_layer_for_as(runner):
    res = runner.invoke(cli, ["check", str(BAD / "kitas_semikolon_latin1.csv"), "--as", "kita"],
                        catch_exceptions=False)
    assert res.exit_code == 1 and "Meinten Sie 'kitas'" in res.output


def test_check_file_never_raises_on_missing_file(tmp_path):
    rep = check_file(tmp_path / "fehlt.geojson")
    assert not rep.ok and "gibt es nicht" in rep.errors[0]


@pytest.mark.parametrize("content, pattern", [
    ("{not json", "kein gültiges JSON"),
    ('{"layers": ["kitas.gpkg"]}', "'layers' muss Objekt"),
    ('{"layers": {"kita": "k.gpkg"}}', "unbekannte Ebene 'layers.kita' – meinten Sie 'kitas'"),
    ('{"layers": {"kitas": "k.gpkg"}, "confidential": "kitas"}', "'confidential' muss Liste"),
])
def test_bad_catalog_json_one_line(content, pattern, runner, tmp_path):
    spec = tmp_path / "katalog.json"
    spec.write_text(content)
    res = runner.invoke(cli, ["--catalog", str(spec), "layers", "list"], catch_exceptions=False)
    assert res.exit_code == 2
    assert len(res.output.strip().splitlines()) == 1 and pattern in res.output


def test_gpkg_with_several_layers(tmp_path, runner):
    import geopandas as gpd
    from shapely.geometry import Point

    p = tmp_path / "daten.gpkg"
    pts = gpd.GeoDataFrame({"kita_id": [1], "name": ["A"]},
                           geometry=[Point(362000, 5701000)], crs="EPSG:25832")
    pts.to_file(p, layer="kitas")
    pts.assign(schulform="Grundschule", schul_id=1).to_file(p, layer="schulen")
    with pytest.raises(LayerError,
                       match="enthält 2 Ebenen \\(kitas, schulen\\); nennen Sie die gewünschte"):
        read_file(p)
    res = runner.invoke(cli, ["check", str(p)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "[kitas] (als kitas, 1 Objekte)" in res.output
    assert "[schulen] (als schulen, 1 Objekte)" in res.output
