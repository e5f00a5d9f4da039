"""City packs: every refusal of the reader, and a city built only from renamed-column files.

``tests/data/musterstadt`` is a synthetic city whose files use their own column names,
three CRSs (Gauss-Krüger, WGS84, lon/lat CSV with decimal commas), text codes with leading
zeros and no Bezirk column on the Stadtteile: the pack alone must make it work, and nothing
any command writes may mention Essen.
"""

from __future__ import annotations

import json
import re
import shutil
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner
from scan_util import essen_texts_in

from gis_planning import LayerError
from gis_planning.cli import cli
from gis_planning.data.catalog import Catalog, load_city
from gis_planning.data.pack import PackError, pack_from_dict, read_pack

MUSTER = Path(__file__).parent / "data" / "musterstadt"

def _pack(spec: dict, tmp_path: Path | None = None):
    return pack_from_dict(spec, folder=tmp_path or ".")


BASE = {"city": "Teststadt", "layers": {"stadtteile": "st.gpkg"}}


@pytest.mark.parametrize(("spec", "pattern"), [
    ({**BASE, "citty": "x"}, r"unbekannter Schlüssel 'citty' – meinten Sie 'city'"),
    ({**BASE, "crs": 25832}, r"'crs' muss Text sein"),
    ({**BASE, "crs": "EPSG:99999999"}, r"kein bekanntes Koordinatensystem"),
    ({**BASE, "crs": "EPSG:4326"}, r"geografisch \(Grad\)"),
    ({"city": None, "layers": BASE["layers"]}, r"'city' muss Text sein, nicht null"),
    ({"city": " ", "layers": BASE["layers"]}, r"'city' ist leer"),
    ({"city": "X"}, r"'layers' fehlt oder ist leer"),
    ({"city": "X", "layers": {"stadtteil": "a.gpkg"}},
     r"unbekannte Ebene 'layers.stadtteil' – meinten Sie 'stadtteile'"),
    ({"city": "X", "layers": {"kitas": {"path": "k.gpkg", "colums": {}}}},
     r"unbekannter Schlüssel layers.kitas.'colums' – meinten Sie 'columns'"),
    ({"city": "X", "layers": {"kitas": {"path": "k.gpkg", "columns": {"NAME": 3}}}},
     r"layers.kitas.columns.'NAME' muss ein Spaltenname"),
    ({"city": "X", "layers": {"kitas": {"path": "k.gpkg", "loader": "a:b"}}},
     r"genau eines von 'path' \(Datei\) oder 'loader'"),
    ({"city": "X", "layers": {"kitas": {"source": "x"}}}, r"genau eines von 'path'"),
    ({"city": "X", "layers": {"kitas": {"loader": "essen.load_kitas"}}},
     r"'loader' muss 'modul:funktion'"),
    ({"city": "X", "layers": {"kitas": 5}}, r"muss ein Dateipfad \(Text\) oder ein Objekt"),
    ({"city": "X", "layers": {"bezirksregionen": {"path": "b.shp", "schema": "gebite"}}},
     r"'schema' 'gebite' ist unbekannt – meinten Sie 'gebiete'"),
    ({"city": "X", "layers": {"bezirksregionen": {"path": "b.shp"}}},
     r"eine weitere Ebene braucht \"schema\""),
    ({"city": "X", "layers": {"kitas": {"path": "k.gpkg", "synthetic": "ja"}}},
     r"'synthetic' muss true/false sein"),
    ({**BASE, "tables": {"Bev": "b.csv"}}, r"Tabellenname 'Bev'"),
    ({**BASE, "tables": {"stadtteile": "b.csv"}}, r"heißt wie eine Ebene"),
    ({**BASE, "tables": {"bev": {"path": "b.csv", "unit": "stadtteil"}}},
     r"'unit' nennt die Ebene 'stadtteil', die das Pack nicht hat – meinten Sie 'stadtteile'"),
    ({**BASE, "layers": {**BASE["layers"], "bezirksregionen": {"path": "b", "schema": "gebiete"}},
      "tables": {"bev": {"path": "b.csv", "unit": "bezirksregionen"}}}, r"'key' fehlt"),
    ({**BASE, "tables": {"bev": {"path": "b.csv", "key": {"a": "stadtteil_nr", "b": "x"}}}},
     r"genau eine Spalte"),
    ({**BASE, "tables": {"bev": [{"path": "a.csv"}, {"path": "b.csv"}]}},
     r"mehrere Stände brauchen je ein eigenes 'date'"),
    ({**BASE, "tables": {"bev": []}}, r"leere Liste"),
    ({**BASE, "tables": {"bev": {"path": "b.csv", "estimated": "nein"}}},
     r"'estimated' muss true/false sein"),
    ({**BASE, "tables": {"bev": "b.csv"}, "groups": {"a": {"table": "bev", "count": "x",
                                                           "total": "y"}}},
     r"groups.a.'label' fehlt"),
    ({**BASE, "tables": {"bev": "b.csv"}, "groups": {"a": {"label": "A", "table": "bew",
                                                           "count": "x", "total": "y"}}},
     r"Tabelle 'bew', die das Pack nicht hat – meinten Sie 'bev'"),
    ({**BASE, "tables": {"bev": "b.csv"}, "groups": {"a": {"label": "A", "table": "bev",
                                                           "count": "x"}}},
     r"'total' fehlt"),
    ({**BASE, "tables": {"bev": "b.csv"}, "groups": {"a": {"label": "A", "table": "bev"}}},
     r"braucht 'count' und 'total'"),
    ({**BASE, "tables": {"bev": "b.csv"}, "groups": {"a": {"label": "A", "table": "bev",
                                                           "share": "s",
                                                           "bezirk_table": "bz"}}},
     r"'bezirk_table' nennt die Tabelle 'bz'"),
    ({**BASE, "tables": {"bev": "b.csv"}, "groups": {"A b": {"label": "A", "table": "bev",
                                                             "share": "s"}}},
     r"Gruppenname 'A b'"),
    ({**BASE, "groups": {"a": "x"}}, r"'groups.a' muss ein Objekt sein"),
    ({**BASE, "confidential": "kitas"}, r"'confidential' muss Liste"),
    ({**BASE, "confidential": ["kita"]}, r"'confidential' nennt die Ebene 'kita'"),
    ({**BASE, "confidential": [3]}, r"Liste von Ebenennamen"),
    ({**BASE, "unit": {"layer": "gebiete"}}, r"'unit.layer' nennt 'gebiete'"),
    ({**BASE, "unit": {"label": 3}}, r"unit.'label' muss Text sein"),
    ({**BASE, "budget": {"weights": {"a": -1}}}, r"budget.weights.a muss eine Zahl ≥ 0"),
    ({**BASE, "budget": {"total": 1.5}}, r"budget.'total' muss ganze Zahl sein"),
    ({**BASE, "budget": {"totl": 1}}, r"unbekannter Schlüssel budget.'totl'"),
])
def test_refusals_name_the_key_in_one_line(spec, pattern):
    with pytest.raises(PackError) as info:
        _pack(spec)
    msg = str(info.value)
    assert re.search(pattern, msg), msg
    assert "\n" not in msg


def test_plain_string_layer_and_relative_paths(tmp_path):
    pack = _pack({"city": "X", "layers": {"stadtteile": "sub/st.gpkg"}}, tmp_path)
    assert pack.layers["stadtteile"].path == tmp_path / "sub" / "st.gpkg"
    assert pack.unit.label == "Stadtteil" and pack.crs is None


def test_file_errors(tmp_path):
    (tmp_path / "a.json").write_text("{nope")
    with pytest.raises(PackError, match="kein gültiges JSON"):
        read_pack(tmp_path / "a.json")
    (tmp_path / "b.toml").write_text("city = ")
    with pytest.raises(PackError, match="kein gültiges TOML"):
        read_pack(tmp_path / "b.toml")
    (tmp_path / "c.json").write_text("[1, 2]")
    with pytest.raises(PackError, match="ein Objekt"):
        read_pack(tmp_path / "c.json")
    with pytest.raises(PackError, match="Meinten Sie 'essen'"):
        read_pack("esen")
    (tmp_path / "d.json").write_text('{"city": "X", "extends": "d.json", "layers": {}}')
    with pytest.raises(PackError, match="Kreis"):
        read_pack(tmp_path / "d.json")


def test_loader_errors(tmp_path):
    def cat_of(loader):
        return Catalog(_pack({"city": "X", "crs": "EPSG:25832",
                              "layers": {"stadtteile": {"loader": loader}}}))

    with pytest.raises(PackError, match="kein Modul 'nirgends'"):
        cat_of("nirgends:load").load("stadtteile")
    with pytest.raises(PackError, match="keine Funktion 'load_nichts'"):
        cat_of("essen:load_nichts").load("stadtteile")


def test_toml_pack_equals_json(tmp_path):
    for f in MUSTER.iterdir():
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "pack.toml").write_text(
        'city = "Musterstadt"\ncrs = "EPSG:25832"\n'
        '[layers.stadtteile]\npath = "Stadtteil.shp"\n'
        'columns = {STT_NR = "stadtteil_nr", STT_NAME = "stadtteil"}\n'
        '[layers.stadtbezirke]\npath = "bezirke.geojson"\n'
        'columns = {BEZ = "bezirk", BEZ_NAME = "bezirk_name"}\n', encoding="utf-8")
    toml = load_city(tmp_path / "pack.toml")
    assert toml.load("stadtteile")["bezirk"].tolist() == \
        load_city(MUSTER / "pack.json").load("stadtteile")["bezirk"].tolist()


@pytest.fixture(scope="module")
def muster():
    with pytest.warns(UserWarning, match="1 von 14 Punkten liegen außerhalb"):
        cat = load_city(MUSTER / "pack.json")
        cat.load("kitas")
    return cat


def test_musterstadt_from_renamed_files(muster):
    st = muster.load("stadtteile")
    assert st.crs.to_epsg() == 25832
    assert st["stadtteil_nr"].tolist()[:2] == ["0101", "0102"]  # text codes keep the zero
    # no Bezirk column in the file: derived from the Bezirk polygons (largest overlap)
    assert st["bezirk"].tolist() == ["01"] * 4 + ["02"] * 4 + ["03"] * 4
    assert any("aus den Bezirksgrenzen abgeleitet" in n for n in muster.notes)
    kitas = muster.load("kitas")
    assert kitas["name"].iloc[0] == "Kita Sonnenschein 1"  # from "tags/name"
    assert kitas["traeger"].iloc[1] == "Caritas"
    assert kitas["ausserhalb"].sum() == 1 and kitas["bezirk"].notna().sum() == 13
    schulen = muster.load("schulen")  # CSV, lon/lat with decimal commas
    assert len(schulen) == 6 and set(schulen["stadtteil"]) <= set(st["stadtteil"])
    assert muster.bezirk_labels() == {"01": "Nordbezirk", "02": "Mittelbezirk",
                                      "03": "Südbezirk"}


def test_dated_tables_latest_is_default(muster):
    assert muster.table_dates("bevoelkerung") == ["2019-12-31", "2021-12-31"]
    new, old = muster.table("bevoelkerung"), muster.table("bevoelkerung", date="2019-12-31")
    assert new["einwohner"].iloc[0] != old["einwohner"].iloc[0]
    share = new["auslaender_anteil_prozent"]  # computed from count and total
    assert share.iloc[0] == pytest.approx(100 * new["auslaender"].iloc[0]
                                          / new["einwohner"].iloc[0])
    with pytest.raises(LayerError, match="keinen Stand '2020'.*2019-12-31, 2021-12-31"):
        muster.table("bevoelkerung", date="2020")
    with pytest.raises(LayerError, match="--group 'auslaenderr'.*Meinten Sie 'auslaender'"):
        muster.group("auslaenderr")


def test_table_key_with_lost_leading_zeros(tmp_path):
    for f in MUSTER.iterdir():
        shutil.copy(f, tmp_path / f.name)
    text = (tmp_path / "bevoelkerung_2021.csv").read_text().replace("\n0", "\n")
    (tmp_path / "bevoelkerung_2021.csv").write_text(text)  # as Excel would save it
    cat = load_city(tmp_path / "pack.json")
    assert cat.table("bevoelkerung")["stadtteil_nr"].iloc[0] == "0101"


def test_missing_mapped_column_is_named(tmp_path):
    spec = json.loads((MUSTER / "pack.json").read_text())
    spec["layers"]["stadtteile"]["columns"] = {"STT_NUMMER": "stadtteil_nr",
                                               "STT_NAME": "stadtteil"}
    for f in MUSTER.iterdir():
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "pack.json").write_text(json.dumps(spec))
    with pytest.raises(PackError, match="'STT_NUMMER'.*fehlt.*Vorhanden: STT_NR, STT_NAME"):
        load_city(tmp_path / "pack.json").load("stadtteile")


@pytest.mark.slow
def test_every_command_runs_and_nothing_mentions_essen(tmp_path):
    run = CliRunner().invoke
    base = ["--city", str(MUSTER / "pack.json")]
    out = tmp_path / "out"
    out.mkdir()
    commands = [
        ["atlas", "-o", str(out / "atlas.html")],
        ["segregation", "-o", str(out / "seg.csv")],
        ["segregation", "--lokal", "-o", str(out / "lq.geojson")],
        ["hotspots", "-o", str(out / "hot.gpkg")],
        ["status", "-o", str(out / "status.csv")],
        ["site", "--out-dir", str(out / "site")],
        ["budget", "-o", str(out / "budget.csv")],
        ["export", "--gpkg", str(out / "m.gpkg"), "--geojson", str(out / "gj")],
        ["raster", "all", "--dir", str(out / "raster")],
        ["query", "SELECT stadtteil, auslaender_anteil_prozent FROM bevoelkerung", "-o",
         str(out / "q.csv")],
        ["filter", "kitas", "--within", "bezirk = '01'", "-o", str(out / "f.geojson")],
        ["layers", "export", "kitas", "--format", "geojson", "-o", str(out / "k.geojson")],
    ]
    for args in commands:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*außerhalb von Musterstadt")
            res = run(cli, [*base, *args], catch_exceptions=False)
        assert res.exit_code == 0, (args, res.output)
        assert "Traceback" not in res.output
    # distances can be drawn; densities need census cells, which Musterstadt has not
    assert (out / "raster" / "entfernung.tif").exists()
    assert not (out / "raster" / "bevoelkerung_dichte.tif").exists()
    assert not (out / "raster" / "projektwohnungen_dichte.tif").exists()
    html = (out / "atlas.html").read_text(encoding="utf-8")
    assert '<html lang="de">' in html and "<title>Integrationsatlas Musterstadt</title>" in html
    assert "Anteil Ausländerinnen und Ausländer je Stadtteil" in html
    assert essen_texts_in(out) == []
