import re

import geopandas as gpd
import pytest
from click.testing import CliRunner

from gis_planning.cli import cli


@pytest.fixture
def run():
    runner = CliRunner()

    def _run(*args):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return _run


def test_layers_list(run):
    res = run("layers", "list")
    assert res.exit_code == 0
    for name in ("stadtteile", "stadtbezirke", "stadtgrenze", "jobcenter", "kitas", "schulen",
                 "projektwohnungen"):
        assert name in res.output
    assert "synthetisch" in res.output


def test_layers_show(run):
    res = run("layers", "show", "schulen")
    assert res.exit_code == 0
    assert "Objekte: 212" in res.output and "EPSG:25832" in res.output
    assert "dl-de/by-2-0" in res.output


def test_unknown_layer_one_line(run):
    res = run("layers", "show", "kita")
    assert res.exit_code == 2
    assert "Meinten Sie 'kitas'" in res.output
    assert "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "csv"])
def test_export_formats(run, tmp_path, fmt):
    out = tmp_path / f"schulen.{fmt}"
    res = run("layers", "export", "schulen", "--format", fmt, "-o", str(out))
    assert res.exit_code == 0, res.output
    if fmt == "csv":
        assert out.read_text().count("\n") == 213
    else:
        assert len(gpd.read_file(out)) == 212


def test_export_csv_reads_back_with_its_crs(run, tmp_path):
    """Issue 16: `layers export --format csv` carries its CRS; `check` and read_file take it."""
    import numpy as np
    import shapely

    from gis_planning.data.catalog import default_catalog
    from gis_planning.data.io import read_file

    out = tmp_path / "schulen.csv"
    assert run("layers", "export", "schulen", "--format", "csv", "-o", str(out)).exit_code == 0
    res = run("check", str(out))
    assert res.exit_code == 0, res.output
    assert "OK" in res.output and "212 Objekte" in res.output
    back = read_file(out)
    assert len(back) == 212 and back.crs.to_epsg() == 4326
    want = default_catalog().load("schulen").to_crs("EPSG:4326")
    diff = shapely.get_coordinates(back.geometry.values) - shapely.get_coordinates(
        want.geometry.values)
    assert np.abs(diff).max() < 1e-6


def test_export_to_stdout_is_geojson_and_quiet_prints_nothing(tmp_path):
    """`-o -` writes the GeoJSON to stdout (the note to stderr); `-q` keeps a file export silent."""
    import json

    runner = CliRunner()
    res = runner.invoke(cli, ["layers", "export", "schulen", "-o", "-"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["type"] == "FeatureCollection" and len(data["features"]) == 212
    assert "geschrieben: Standardausgabe (schulen, 212 Objekte, geojson)" in res.stderr
    res = runner.invoke(cli, ["layers", "export", "schulen", "--format", "csv", "-o", "-"])
    assert res.exit_code == 0 and res.stdout.splitlines()[0].endswith(",wkt,epsg")
    res = runner.invoke(cli, ["layers", "export", "schulen", "--format", "gpkg", "-o", "-"])
    assert res.exit_code == 2 and "Standardausgabe" in res.output
    out = tmp_path / "schulen.gpkg"  # format from the file's ending
    res = runner.invoke(cli, ["-q", "layers", "export", "schulen", "-o", str(out)])
    assert res.exit_code == 0 and res.output == "" and len(gpd.read_file(out)) == 212
    res = runner.invoke(cli, ["layers", "export", "schulen", "-o", str(tmp_path / "s.txt")])
    assert res.exit_code == 2 and "--format" in res.output and not (tmp_path / "s.txt").exists()


def test_check_quiet_prints_only_the_report(tmp_path):
    runner = CliRunner()
    out = tmp_path / "kitas.geojson"
    assert runner.invoke(cli, ["layers", "export", "kitas", "-o", str(out)]).exit_code == 0
    res = runner.invoke(cli, ["check", str(out)])
    assert res.exit_code == 0 and "1 Datei(en) geprüft: 1 in Ordnung" in res.output
    res = runner.invoke(cli, ["-q", "check", str(out)])
    assert res.exit_code == 0 and "geprüft" not in res.output and "OK" in res.output


def test_export_refuses_overwrite(run, tmp_path):
    out = tmp_path / "k.geojson"
    assert run("layers", "export", "kitas", "--format", "geojson", "-o", str(out)).exit_code == 0
    before = out.read_bytes()
    res = run("layers", "export", "kitas", "--format", "geojson", "-o", str(out))
    assert res.exit_code == 2 and "--overwrite" in res.output
    assert out.read_bytes() == before
    assert run("layers", "export", "kitas", "--format", "geojson", "-o", str(out),
               "--overwrite").exit_code == 0


def test_export_confidential_only_aggregated(run, tmp_path):
    out = tmp_path / "pw.geojson"
    res = run("layers", "export", "projektwohnungen", "--format", "geojson", "-o", str(out))
    assert res.exit_code == 0
    got = gpd.read_file(out)
    assert len(got) == 50 and set(got.geom_type) <= {"Polygon", "MultiPolygon"}
    assert (got["hinweis"] == "synthetisch / Demonstrationsdaten").all()
    assert got.loc[got["unterdrueckt"], "anzahl"].isna().all()


def test_atlas_written(run, tmp_path):
    out = tmp_path / "atlas.html"
    res = run("atlas", "-o", str(out))
    assert res.exit_code == 0, res.output
    html = out.read_text(encoding="utf-8")
    assert "Integrationsatlas Essen" in html
    assert "synthetisch / Demonstrationsdaten" in html
    res = run("atlas", "--output", str(out))
    assert res.exit_code == 2 and "--overwrite" in res.output


def test_catalog_option(run, tmp_path, stadtteile):
    stadtteile.to_file(tmp_path / "st.gpkg")
    (tmp_path / "c.json").write_text('{"city": "Teststadt", "layers": {"stadtteile": "st.gpkg"}}')
    res = run("--catalog", str(tmp_path / "c.json"), "layers", "list")
    assert res.exit_code == 0 and "Stadt: Teststadt" in res.output
    assert res.output.splitlines()[2].split()[0] == "stadtteile"
    assert "kitas" not in res.output


def test_export_suffix_must_match_format(run, tmp_path):
    res = run("layers", "export", "kitas", "--format", "gpkg", "-o", str(tmp_path / "k.geojson"))
    assert res.exit_code == 2 and "endet nicht auf .gpkg" in res.output
    assert not (tmp_path / "k.geojson").exists()


def test_catalogue_file_is_never_an_output(run, tmp_path, stadtteile):
    stadtteile.to_file(tmp_path / "st.gpkg")
    cat = tmp_path / "c.json"
    cat.write_text('{"city": "X", "layers": {"stadtteile": "st.gpkg"}}')
    before = cat.read_text()
    res = run("--catalog", str(cat), "layers", "export", "stadtteile", "--format", "csv",
              "-o", str(tmp_path / "c.csv"))
    assert res.exit_code == 0
    res = run("--catalog", str(cat), "query", "SELECT 1 AS x", "-o", str(cat), "--overwrite")
    assert res.exit_code == 2 and cat.read_text() == before


#: English words that would show an untranslated help text (issue 16: one voice).
_ENGLISH = re.compile(r"\b(the|and|with|of|write|writes|file|files|default|layer|layers|output|"
                      r"show|shows|is|are|to|from|for|or|when|without|each|every|only|by|"
                      r"catalogue|guessed|treat|warnings|errors|export)\b", re.IGNORECASE)
#: What click itself prints in every help (not this project's text).
_CLICK_TEXT = ("Diese Hilfe zeigen und beenden.", "Aufruf:", "Optionen:", "Befehle:")


def _help_words(text: str) -> list[str]:
    """English words of a --help text, leaving out click's frame, examples, options, names."""
    for t in _CLICK_TEXT:
        text = text.replace(t, "")
    lines = [ln for ln in text.splitlines() if "gis-planning " not in ln]  # usage, examples
    lines = [re.sub(r"^\s{2}(list|show|export)\s", " ", ln) for ln in lines]  # command names
    text = re.sub(r"\[[^\]]*\]|--?[\w-]+|'[^']*'|`[^`]*`", " ", "\n".join(lines))
    return _ENGLISH.findall(text)


@pytest.mark.parametrize("args", [["layers"], ["layers", "list"], ["layers", "show"],
                                  ["layers", "export"], ["check"]])
def test_layers_and_check_help_is_german(args):
    res = CliRunner().invoke(cli, [*args, "--help"], prog_name="gis-planning")
    assert res.exit_code == 0, res.output
    assert "Beispiel" in res.output
    assert _help_words(res.output) == [], res.output


def test_layers_help_lists_every_subcommand():
    from gis_planning.cli.layers import layers

    assert sorted(layers.commands) == ["export", "list", "show"]  # each has a help test above
