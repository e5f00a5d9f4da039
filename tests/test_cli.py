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
    res = run("atlas", "--out", str(out))
    assert res.exit_code == 0, res.output
    html = out.read_text(encoding="utf-8")
    assert "Integrationsatlas Essen" in html
    assert "synthetisch / Demonstrationsdaten" in html
    res = run("atlas", "--out", str(out))
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
    assert res.exit_code == 2 and "does not end in .gpkg" in res.output
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
