"""No coordinate of a confidential layer leaves through any export path of the CLI.

The test discovers the commands via ``cli.commands``: every command must either have a recipe
below (how to make it export the confidential layer ``projektwohnungen``) or be listed as
reading only. A new command without a recipe fails this test until it is added here.
"""

from __future__ import annotations

import itertools
import json
import re
import warnings
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from gis_planning.cli import cli

PW = "projektwohnungen"

#: Commands that write nothing a user could take away (they only read and report).
READ_ONLY = {"check"}

#: Commands whose recipes must be refused with a confidentiality error (they would otherwise
#: return one row per flat).
REFUSED = {"hotspots", "status"}

#: Sub-commands that never read the confidential layer (``raster all`` covers them anyway).
SUB_SAFE = {"raster": {"distance", "population", "anteil", "gitter-hotspots"},
            "layers": {"list"}}


def _recipes(out: Path) -> dict[str, list[list[str]]]:
    """Command name -> argument lists that try to get the confidential layer out."""
    return {
        "layers": [
            ["layers", "export", PW, "--format", "geojson", "-o", str(out / "pw.geojson")],
            ["layers", "export", PW, "--format", "gpkg", "-o", str(out / "pw.gpkg")],
            ["layers", "export", PW, "--format", "csv", "-o", str(out / "pw.csv")],
            ["layers", "show", PW],
        ],
        "atlas": [["atlas", "--out", str(out / "atlas.html"), "--no-basemap", "--cdn"]],
        "export": [["export", "--gpkg", str(out / "alles.gpkg")],
                   ["export", "--geojson", str(out / "geojson")]],
        "raster": [["raster", "flats", "-o", str(out / "flats.tif")],
                   ["raster", "flats", "--k", "1", "--bandwidth", "0", "--cell-size", "50",
                    "-o", str(out / "flats_k1.tif")],
                   ["raster", "all", "--dir", str(out / "raster"), "--cell-size", "500"]],
        "query": [
            ["query", f"SELECT * FROM {PW}", "-o", str(out / "q.geojson")],
            ["query", f"SELECT * FROM {PW}"],
            ["query", f"SELECT ST_X(geometry) AS x, ST_Y(geometry) AS y FROM {PW}"],
            ["query", f"SELECT ST_AsText(geometry) AS w FROM {PW}", "-o", str(out / "q.csv")],
            ["query", f"SELECT s.stadtteil, p.* FROM stadtteile s JOIN {PW} p "
                      f"ON ST_Within(p.geometry, s.geometry)", "-o", str(out / "j.gpkg")],
            ["query", f"SELECT ST_AsText(ST_Centroid(ST_Buffer(geometry, 1))) FROM {PW}"],
        ],
        "filter": [["filter", PW], ["filter", PW, "--where", "bezirk = 1"]],
        "segregation": [["segregation", "-o", str(out / "seg.csv")]],
        "budget": [["budget", "-o", str(out / "budget.csv")]],
        "site": [["site", "--p", "9", "--cell-size", "500", "--out-dir", str(out / "site")]],
        "hotspots": [["hotspots", "--layer", PW, "--column", "wohnung_id", "--denominator", "",
                      "--weights", "knn", "--permutations", "99", "-o", str(out / "hs.geojson")]],
        "karte": [["karte", PW, "-o", str(out / "pw_karte.pdf")],
                  ["karte", PW, "--bezirk", "IV", "-o", str(out / "pw_karte.png"), "--dpi", "60"]],
        "steckbrief": [["steckbrief", "--bezirk", "IV", "--stadtteil", "Bochold", "-o",
                        str(out / "pw_steckbrief.pdf")]],
        "status": [["status", "--layer", PW, "--indicator", "wohnung_id:+1", "--population", "",
                    "-o", str(out / "status.geojson")],
                   ["status", "--layer", PW, "--indicator", "wohnung_id:+1", "--population", ""]],
    }


@pytest.fixture(scope="module")
def flat_keys(catalog):
    pw = catalog.load_confidential_points(PW)
    lonlat = shapely.get_coordinates(pw.to_crs("EPSG:4326").geometry.array)
    metres = shapely.get_coordinates(pw.geometry.array)
    return {
        5: {(round(x, 5), round(y, 5)) for x, y in lonlat},
        6: {(round(x, 6), round(y, 6)) for x, y in lonlat},
        "m": {(round(x), round(y)) for x, y in metres},
    }


_NUM = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def _leaks_in_numbers(nums: list[float], keys) -> list[tuple[float, float]]:
    hits = []
    for a, b in itertools.pairwise(nums):
        for x, y in ((a, b), (b, a)):
            if 5 < x < 16 and 47 < y < 56:
                if (round(x, 5), round(y, 5)) in keys[5] or (round(x, 6), round(y, 6)) in keys[6]:
                    hits.append((x, y))
            elif 250_000 < x < 500_000 and 5_600_000 < y < 5_800_000:
                if (round(x), round(y)) in keys["m"]:
                    hits.append((x, y))
    return hits


def _scan_text(text: str, keys) -> list[tuple[float, float]]:
    nums = [float(m) for m in _NUM.findall(text.replace(",", " , "))]
    return _leaks_in_numbers(nums, keys)


def _scan_file(path: Path, keys) -> list[tuple[float, float]]:
    raw = path.read_bytes()
    hits = []
    try:
        hits += _scan_text(raw.decode("utf-8"), keys)
    except UnicodeDecodeError:
        pass
    if raw[:16].startswith(b"SQLite format 3"):
        import pyogrio

        for name in pyogrio.list_layers(path)[:, 0]:
            gdf = gpd.read_file(path, layer=name)
            if isinstance(gdf, gpd.GeoDataFrame) and gdf.crs is not None:
                for crs in ("EPSG:4326", "EPSG:25832"):
                    xy = shapely.get_coordinates(gdf.to_crs(crs).geometry.array)
                    hits += _leaks_in_numbers([v for p in xy for v in p], keys)
            hits += _scan_text(gdf.drop(columns="geometry", errors="ignore").to_csv(), keys)
    if path.suffix.lower() in (".tif", ".tiff"):
        import rasterio

        with rasterio.open(path) as src:
            hits += _scan_text(json.dumps(src.tags(), default=str), keys)
    return hits


def test_the_scanner_finds_raw_points(tmp_path, catalog, flat_keys):
    """The check itself can fail: raw points written without the guard are found."""
    pw = catalog.load_confidential_points(PW)
    pw.attrs = {}
    pw.to_crs("EPSG:4326").to_file(tmp_path / "roh.geojson")
    pw.to_file(tmp_path / "roh.gpkg")
    assert _scan_file(tmp_path / "roh.geojson", flat_keys)
    assert _scan_file(tmp_path / "roh.gpkg", flat_keys)


def test_no_export_path_leaks_confidential_coordinates(tmp_path, flat_keys):
    out = tmp_path / "out"
    out.mkdir()
    recipes = _recipes(out)
    commands = set(cli.commands)
    missing = commands - set(recipes) - READ_ONLY
    assert not missing, f"add a recipe for the new command(s) {sorted(missing)} here"
    for name in commands - READ_ONLY:  # every sub-command of a group is covered too
        group = cli.commands[name]
        subs = set(getattr(group, "commands", {}))
        covered = {a[1] for a in recipes[name] if len(a) > 1}
        assert subs <= covered | SUB_SAFE.get(name, set()), (
            f"add a recipe for `{name} {sorted(subs - covered)}` here")
    runner = CliRunner()
    ran = []
    for name in sorted(commands - READ_ONLY):
        for args in recipes[name]:
            res = runner.invoke(cli, args)
            assert not isinstance(res.exception, AssertionError)
            if name in REFUSED:  # record-level analyses must refuse, not fail by accident
                assert res.exit_code == 2 and "vertraulich" in res.output, (args, res.output)
            hits = _scan_text(res.output, flat_keys)
            assert not hits, f"{' '.join(args)} printed flat coordinates {hits[:3]}"
            ran.append((args, res.exit_code))
    files = [p for p in out.rglob("*") if p.is_file()]
    for f in files:
        hits = _scan_file(f, flat_keys)
        assert not hits, f"{f.name} holds flat coordinates {hits[:3]}"
    names = {f.name for f in files}
    # the paths that exist today did write something (so the scan is not empty)
    assert {"pw.geojson", "pw.gpkg", "pw.csv", "atlas.html"} <= names, (names, ran)


def test_user_marked_confidential_layer(tmp_path, catalog):
    st = catalog.load("stadtteile")
    kitas = catalog.load("kitas")[["kita_id", "name", "geometry"]]
    st.to_file(tmp_path / "stadtteile.gpkg")
    kitas.to_file(tmp_path / "kitas.gpkg")
    spec = tmp_path / "katalog.json"
    spec.write_text(json.dumps({"city": "Teststadt", "confidential": ["kitas"],
                                "layers": {"stadtteile": "stadtteile.gpkg",
                                           "kitas": "kitas.gpkg"}}))
    runner = CliRunner()
    res = runner.invoke(cli, ["--catalog", str(spec), "layers", "list"], catch_exceptions=False)
    assert "kitas" in res.output and "vertraulich" in res.output
    out = tmp_path / "k.geojson"
    res = runner.invoke(cli, ["--catalog", str(spec), "layers", "export", "kitas", "--format",
                              "geojson", "-o", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    got = gpd.read_file(out)
    assert len(got) == 50 and set(got.geom_type) <= {"Polygon", "MultiPolygon"}
    assert got["anzahl"].sum() + 0 <= len(kitas)
    keys = {(round(x), round(y)) for x, y in shapely.get_coordinates(kitas.geometry.array)}
    assert not _leaks_in_numbers(
        [v for p in shapely.get_coordinates(got.to_crs("EPSG:25832").geometry.array) for v in p],
        {5: set(), 6: set(), "m": keys})


def test_distance_raster_refuses_confidential_facilities(tmp_path, catalog):
    """A distance surface pinpoints every facility, so a confidential one is refused."""
    import json

    for name in ("stadtteile", "kitas", "schulen"):
        catalog.load(name).to_file(tmp_path / f"{name}.gpkg")
    (tmp_path / "c.json").write_text(json.dumps({
        "city": "Essen", "confidential": ["kitas"],
        "layers": {n: f"{n}.gpkg" for n in ("stadtteile", "kitas", "schulen")}}))
    res = CliRunner().invoke(cli, ["--catalog", str(tmp_path / "c.json"), "raster", "distance",
                                   "-o", str(tmp_path / "d.tif")])
    assert res.exit_code == 2 and "vertraulich" in res.output
    assert not (tmp_path / "d.tif").exists()


# -- issue 14.8: fail soft where a reader wants a result ---------------------------------------


def _city(tmp_path, catalog, *, n_stadtteile=None, confidential=(), city="Teststadt",
          kitas=True):
    """A catalogue file with the first ``n_stadtteile`` Stadtteile (and their statistics)."""
    import pandas as pd

    from gis_planning import results

    st = catalog.load("stadtteile")
    stat = results.compute(catalog, "stadtteil_statistik")
    if n_stadtteile is not None:
        st, stat = st.iloc[:n_stadtteile], stat.iloc[:n_stadtteile]
    st.to_file(tmp_path / "stadtteile.gpkg")
    pd.DataFrame(stat.drop(columns="geometry")).to_csv(tmp_path / "statistik.csv", index=False)
    layers = {"stadtteile": "stadtteile.gpkg"}
    if kitas:
        k = catalog.load("kitas")[["kita_id", "name", "geometry"]]
        k[k.within(st.union_all())].to_file(tmp_path / "kitas.gpkg")
        layers["kitas"] = "kitas.gpkg"
    spec = {"city": city, "confidential": list(confidential), "layers": layers,
            "tables": {"stadtteil_statistik": "statistik.csv"}}
    (tmp_path / "katalog.json").write_text(json.dumps(spec))
    return tmp_path / "katalog.json"


@pytest.mark.slow
def test_atlas_leaves_out_a_failing_section_with_a_note(tmp_path, catalog, monkeypatch):
    from gis_planning.data.catalog import Catalog
    from gis_planning.outputs import atlas as atlas_mod

    cat = Catalog.from_json(_city(tmp_path, catalog, confidential=["kitas"]))

    def broken(atlas, cat):
        raise atlas_mod.LayerError("die Kita-Tabelle ist beschädigt")

    broken.__name__ = "section_einrichtungen"
    sections = [broken if s.__name__ == "section_einrichtungen" else s
                for s in atlas_mod.SECTIONS]
    with pytest.warns(UserWarning, match="Atlas: Abschnitt „Kitas und Schulen“ ausgelassen"):
        atlas = atlas_mod.build_atlas(cat, basemap=False, sections=sections)
    html = atlas.render(mode="cdn")
    assert "Abschnitt „Kitas und Schulen“ fehlt: die Kita-Tabelle ist beschädigt" in html
    assert "Stadtteile" in atlas.feature_counts  # the rest of the atlas is there
    # the confidential Kitas themselves appear only as counts per Stadtteil
    assert "Kitas je Stadtteil" in atlas.feature_counts and "Kitas" not in atlas.feature_counts


@pytest.mark.slow
def test_cli_prints_a_left_out_section_as_one_line(tmp_path, catalog):
    import subprocess
    import sys

    spec = _city(tmp_path, catalog, n_stadtteile=1)
    res = subprocess.run(
        [sys.executable, "-c", "from gis_planning.cli import main; main()", "--catalog",
         str(spec), "atlas", "--out", str(tmp_path / "a.html"), "--no-basemap", "--cdn"],
        capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    lines = res.stderr.strip().splitlines()
    assert lines and all(line.startswith("Warnung: ") for line in lines), lines
    assert any("Atlas: Abschnitt" in line and "ausgelassen" in line for line in lines), lines
    assert "fehlt" in (tmp_path / "a.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("n", [1, 2])
def test_tiny_cities_get_an_atlas(tmp_path, catalog, n):
    from gis_planning.data.catalog import Catalog
    from gis_planning.outputs.atlas import build_atlas

    cat = Catalog.from_json(_city(tmp_path, catalog, n_stadtteile=n))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        atlas = build_atlas(cat, basemap=False)
    left_out = [str(w.message) for w in caught if "ausgelassen" in str(w.message)]
    assert atlas.feature_counts["Stadtteile"][1] == n
    # what cannot be computed for so few Stadtteile is left out with a note, not a crash
    assert ("fehlt:" in atlas.render(mode="cdn")) == bool(left_out)


def test_city_name_must_be_text(tmp_path, catalog):
    spec = _city(tmp_path, catalog, city=None, kitas=False)
    res = CliRunner().invoke(cli, ["--catalog", str(spec), "atlas", "--out",
                                   str(tmp_path / "a.html"), "--no-basemap", "--cdn"])
    assert res.exit_code == 2 and "'city' muss Text sein, nicht null" in res.output
    assert not (tmp_path / "a.html").exists()


def test_placeholders_in_user_text_stay_text(catalog):
    from gis_planning.outputs.webmap import Atlas

    st = catalog.load("stadtteile").head(3).copy()
    st["stadtteil"] = ["{map}", "{layer}", "x{map}y"]
    atlas = Atlas(title="Karte {map}", subtitle="{layer} und {map}", bounds=st, basemap=False)
    atlas.add_polygons(st, name="Teile {layer}", tooltip={"stadtteil": None},
                       note="Hinweis {map}")
    atlas.add_notice("Achtung {layer}")
    atlas.add_source("Quelle {map}", "Text {layer}")
    html = atlas.render(mode="cdn")
    for text in ("Karte \\u007bmap}", "\\u007blayer} und \\u007bmap}", "Achtung \\u007blayer}",
                 "Hinweis \\u007bmap}"):
        assert text in html, text
    map_name = atlas.map.get_name()
    assert f"Karte {map_name}" not in html and f"x{map_name}y" not in html
