"""The cleaning of the raw Berlin files: every figure of layers/berlin/PROVENANCE.md's
"Checks run" asserted from the loaders, every known defect handled visibly."""

from __future__ import annotations

import hashlib
import importlib
import json
import re
import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest

from gis_planning._errors import InputError, LayerError
from gis_planning.data.sources import berlin

LAYER_DIR = berlin.RAW_DIR.parent
LEVELS = {"Primarstufe", "Sekundarstufe I", "Sekundarstufe I und II", "Förderschule",
          "Berufsbildend", "Weiterbildung", "sonstige"}


def _load(fn, **kwargs):
    """Call a loader, returning (result, warning messages)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(**kwargs)
    return out, [str(w.message) for w in caught]


@pytest.fixture(scope="module")
def stadtteile():
    return _load(berlin.load_stadtteile)


@pytest.fixture(scope="module")
def bezirksregionen():
    return _load(berlin.load_bezirksregionen)


@pytest.fixture(scope="module")
def prognoseraeume():
    return _load(berlin.load_prognoseraeume)


@pytest.fixture(scope="module")
def bezirke():
    return _load(berlin.load_stadtbezirke)


@pytest.fixture(scope="module")
def stadtgrenze():
    return _load(berlin.load_stadtgrenze)


@pytest.fixture(scope="module")
def bev_12():
    return _load(berlin.load_bevoelkerung, stand="2022-12-31")


@pytest.fixture(scope="module")
def bev_06():
    return _load(berlin.load_bevoelkerung, stand="2022-06-30")


@pytest.fixture(scope="module")
def kitas():
    return _load(berlin.load_kitas)


@pytest.fixture(scope="module")
def schulen():
    return _load(berlin.load_schulen)


# --- raw files --------------------------------------------------------------------------------

def test_raw_files_match_the_checksums_in_provenance():
    text = (LAYER_DIR / "PROVENANCE.md").read_text(encoding="utf-8")
    sums = dict((p, h) for h, p in re.findall(r"^([0-9a-f]{64})  (raw/\S+)$", text, re.M))
    assert len(sums) == 24
    on_disk = {f"raw/{p.name}" for p in berlin.RAW_DIR.iterdir()}
    assert on_disk == set(sums)
    for rel, expected in sums.items():
        assert hashlib.sha256((LAYER_DIR / rel).read_bytes()).hexdigest() == expected, rel


# --- LOR polygons -------------------------------------------------------------------------

def test_planungsraeume(stadtteile, stadtgrenze):
    st, msgs = stadtteile
    assert len(st) == 542 and st.crs.to_epsg() == 25833
    assert list(st.columns) == ["stadtteil_nr", "stadtteil", "bezirk", "bezirksregion_nr",
                                "bezirksregion", "prognoseraum_nr", "prognoseraum",
                                "flaeche_km2", "geometry"]
    assert st.is_valid.all() and (st.geom_type == "Polygon").all()
    assert st["stadtteil_nr"].is_unique
    assert st["stadtteil_nr"].str.fullmatch(r"\d{8}").all()
    assert pd.api.types.is_string_dtype(st["stadtteil_nr"])
    assert st["stadtteil_nr"].iloc[0] == "01100101"  # leading zero kept
    assert st.area.sum() / 1e6 == pytest.approx(890.665, abs=5e-4)
    assert st["flaeche_km2"].sum() == pytest.approx(890.665, abs=0.01)  # not GROESSE_M2's 891.118
    union = stadtgrenze[0].geometry.item()  # the dissolved PLR
    assert union.area == pytest.approx(st.area.sum(), rel=1e-9)  # no overlaps
    assert sorted(st["bezirk"].unique()) == [f"{i:02d}" for i in range(1, 13)]
    assert msgs == ["lor_planungsraeume_2021.shp: Planungsraum-Namen mehrfach vergeben "
                    "(„Schloßstraße“ 2-mal); über den Schlüssel verknüpfen, nicht über den Namen."]


def test_hierarchy_prefixes(stadtteile, bezirksregionen, prognoseraeume):
    st, bzr, pgr = stadtteile[0], bezirksregionen[0], prognoseraeume[0]
    assert (st["stadtteil_nr"].str[:2] == st["bezirk"]).all()
    assert (st["stadtteil_nr"].str[:6] == st["bezirksregion_nr"]).all()
    assert (st["stadtteil_nr"].str[:4] == st["prognoseraum_nr"]).all()
    assert set(st["bezirksregion_nr"]) == set(bzr["bezirksregion_nr"])  # 143/143
    assert set(st["prognoseraum_nr"]) == set(pgr["prognoseraum_nr"])  # 58/58
    row = st.set_index("stadtteil_nr").loc["01100101"]
    assert (row["bezirk"], row["prognoseraum_nr"], row["bezirksregion_nr"]) == ("01", "0110",
                                                                                "011001")
    names = dict(zip(bzr["bezirksregion_nr"], bzr["bezirksregion"], strict=True))
    assert (st["bezirksregion"] == st["bezirksregion_nr"].map(names)).all()
    # dissolving the PLR by their prefix reproduces the BZR polygons exactly
    diss = st.dissolve("bezirksregion_nr").geometry
    for nr, geom in bzr.set_index("bezirksregion_nr").geometry.items():
        assert diss[nr].symmetric_difference(geom).area < 1.0, nr


def test_bezirksregionen_and_prognoseraeume(bezirksregionen, prognoseraeume):
    bzr, msgs = bezirksregionen
    pgr, pmsgs = prognoseraeume
    assert len(bzr) == 143 and len(pgr) == 58
    assert bzr.crs.to_epsg() == pgr.crs.to_epsg() == 25833
    assert bzr["bezirksregion_nr"].str.fullmatch(r"\d{6}").all()
    assert pgr["prognoseraum_nr"].str.fullmatch(r"\d{4}").all()
    assert bzr.area.sum() / 1e6 == pytest.approx(890.665, abs=5e-4)
    assert pgr.area.sum() / 1e6 == pytest.approx(890.665, abs=5e-4)
    heer = bzr[bzr["bezirksregion"] == "Heerstraße"]
    assert sorted(heer["bezirksregion_nr"]) == ["042002", "052005"]
    assert bzr["bezirksregion_nr"].is_unique
    assert len(msgs) == 1 and "„Heerstraße“ 2-mal" in msgs[0]
    assert pmsgs == []
    assert pgr.set_index("prognoseraum_nr").loc["0930", "prognoseraum"] == "Treptow-Köpenick 3"


def test_duplicate_names_but_unique_codes(stadtteile):
    st = stadtteile[0]
    dup = st[st["stadtteil"] == "Schloßstraße"]
    assert sorted(dup["stadtteil_nr"]) == ["04300414", "06100102"]
    assert not st["stadtteil"].is_unique and st["stadtteil_nr"].is_unique


def test_stadtbezirke(bezirke, stadtteile):
    bz, msgs = bezirke
    assert msgs == []
    assert bz["bezirk"].tolist() == [f"{i:02d}" for i in range(1, 13)]
    assert bz.crs.to_epsg() == 25833  # reprojected from EPSG:4326
    assert bz.is_valid.all()
    assert dict(zip(bz["bezirk"], bz["bezirk_name"], strict=True)) == berlin.BEZIRK_NAMES
    assert bz.set_index("bezirk").loc["08", "bezirk_name"] == "Neukölln"  # cp1252 decoded
    assert bz.area.sum() / 1e6 == pytest.approx(890.665, abs=0.003)
    diss = stadtteile[0].dissolve("bezirk").geometry
    for nr, geom in bz.set_index("bezirk").geometry.items():
        assert diss[nr].symmetric_difference(geom).area / 1e6 <= 0.003, nr


def test_stadtgrenze(stadtgrenze):
    g, msgs = stadtgrenze
    assert msgs == [] and len(g) == 1
    assert g.geom_type.item() == "Polygon" and len(g.geometry.item().interiors) == 0
    assert g["flaeche_km2"].item() == pytest.approx(890.665)
    assert g.crs.to_epsg() == 25833


# --- population ---------------------------------------------------------------------------

COUNTS_12 = ["einwohner", "auslaender", "deutsche", "migrationshintergrund",
             "deutsche_mit_migrationshintergrund", "alter_unter_6", "alter_6_15",
             "alter_15_18", "alter_18_27", "alter_27_45", "alter_45_55", "alter_55_65",
             "alter_65_plus", "weiblich"]
AGE = [c for c in COUNTS_12 if c.startswith("alter_")]
SHARES_BY_BEZIRK = {"01": 36.7, "02": 30.0, "03": 18.0, "04": 26.1, "05": 24.6, "06": 17.2,
                    "07": 22.2, "08": 27.6, "09": 14.8, "10": 16.4, "11": 22.6, "12": 21.4}


def test_bevoelkerung_2022_12_31(bev_12, stadtteile):
    b, msgs = bev_12
    assert list(b.columns) == ["stadtteil_nr", *COUNTS_12]  # no *_percentage
    assert all(str(b[c].dtype) == "Int64" for c in COUNTS_12)
    assert set(b["stadtteil_nr"]) == set(stadtteile[0]["stadtteil_nr"])  # 542/542
    assert len(b) == 542 and b["stadtteil_nr"].iloc[0] == "01100101"
    assert b["einwohner"].sum() == 3_850_809
    assert b["auslaender"].sum() == 900_144
    assert b["migrationshintergrund"].sum() == 1_486_913
    assert round(100 * 900_144 / 3_850_809, 1) == 23.4
    assert round(100 * b["migrationshintergrund"].sum() / b["einwohner"].sum(), 1) == 38.6
    assert (b["deutsche"] + b["auslaender"] == b["einwohner"]).all()
    assert (b["migrationshintergrund"]
            == b["auslaender"] + b["deutsche_mit_migrationshintergrund"]).all()
    assert (b[AGE].sum(axis=1) == b["einwohner"]).all()
    assert msgs == ["Bevölkerung 2022-12-31: 5 Planungsräume haben weniger als 300 Einwohner, "
                    "davon 2 keine (03400831, 06200418); Anteile dort nur mit "
                    "Mindestbevölkerung auswerten."]


def test_foreigner_share_per_bezirk(bev_12):
    b = bev_12[0]
    by = b.groupby(b["stadtteil_nr"].str[:2])[["auslaender", "einwohner"]].sum()
    shares = (100 * by["auslaender"] / by["einwohner"]).astype(float).round(1).to_dict()
    assert shares == SHARES_BY_BEZIRK


def test_empty_and_tiny_planungsraeume(bev_12, bev_06):
    b = bev_12[0].set_index("stadtteil_nr")
    for nr in ("03400831", "06200418"):  # real zeros, not missing
        assert (b.loc[nr] == 0).all() and b.loc[nr].notna().all()
    assert b.loc["03300515", "einwohner"] == 50
    assert b.loc["05300838", "einwohner"] == 32
    assert b.loc["04400725", "einwohner"] == 98
    assert (b["einwohner"] < 300).sum() == 5
    j = bev_06[0].set_index("stadtteil_nr")
    assert (j.loc[["03400831", "06200418"]] == 0).all().all()


def test_bevoelkerung_2022_06_30(bev_06, stadtteile):
    b, msgs = bev_06
    counts = [c for c in COUNTS_12 if "migration" not in c]
    assert list(b.columns) == ["stadtteil_nr", *counts]  # no migration background that day
    assert all(str(b[c].dtype) == "Int64" for c in counts)
    assert set(b["stadtteil_nr"]) == set(stadtteile[0]["stadtteil_nr"])  # 542/542
    assert b["einwohner"].sum() == 3_821_881
    assert b["auslaender"].sum() == 863_095
    assert round(100 * 863_095 / 3_821_881, 1) == 22.6
    assert b["weiblich"].sum() == 1_936_247 and b["alter_unter_6"].sum() == 225_097
    assert (b[AGE].sum(axis=1) == b["einwohner"]).all()  # "–" read as 0 keeps the sums
    row = b.set_index("stadtteil_nr").loc["03300515"]  # "52;4;6;3;–;9;–;18;12;22;6"
    assert (row["einwohner"], row["alter_18_27"], row["alter_45_55"]) == (52, 0, 0)
    assert len(msgs) == 1 and msgs[0].startswith("Bevölkerung 2022-06-30: 5 Planungsräume")


def test_bevoelkerung_unknown_stand():
    assert berlin.BEVOELKERUNG_STAENDE == ("2022-06-30", "2022-12-31")
    with pytest.raises(InputError, match=r"^Bevölkerungsstand '2021-12-31' gibt es für "
                                         r"Berlin nicht; vorhanden sind 2022-06-30 und "
                                         r"2022-12-31\.$"):
        berlin.load_bevoelkerung(stand="2021-12-31")


# --- points -------------------------------------------------------------------------------

def test_kitas(kitas, stadtteile):
    k, msgs = kitas
    assert len(k) == 2880 and k.crs.to_epsg() == 25833
    assert list(k.columns) == ["kita_id", "name", "traeger", "traeger_art", "art", "plaetze",
                               "strasse", "plz", "ort", "bezirk_quelle", "bezirk_nr_quelle",
                               "stadtteil_nr", "stadtteil", "bezirk", "bezirk_abweichung",
                               "abweichung_art", "gleiche_lage", "geometry"]
    assert k["kita_id"].is_unique and k["kita_id"].str.fullmatch(r"\d{8}").all()
    assert k["kita_id"].iloc[0] == "01010010"
    assert k["stadtteil_nr"].notna().all()  # all inside a PLR
    assert k["stadtteil_nr"].nunique() == 526
    assert str(k["plaetze"].dtype) == "Int64" and k["plaetze"].sum() == 194_979
    assert (k["art"] == "Tageseinrichtung/Kita").all()
    # the legacy crs member is honoured: the points are Berlin's metres, not "degrees"
    x0, y0, x1, y1 = k.total_bounds
    assert 370_000 < x0 < x1 < 416_000 and 5_799_000 < y0 < y1 < 5_838_000
    assert k.loc[k["kita_id"] == "01010020", "strasse"].item() == "An der Kolonnade 3"
    assert len(msgs) == 2


def test_kita_bezirk_conflict_flagged(kitas):
    k, msgs = kitas
    flagged = k[k["bezirk_abweichung"]]
    assert flagged["kita_id"].tolist() == ["02051140"]
    row = flagged.iloc[0]
    assert row["name"] == "Kita Hausburg" and row["abweichung_art"] == "anderer Bezirk"
    assert (row["bezirk_nr_quelle"], row["bezirk_quelle"]) == ("02", "Friedrichshain-Kreuzberg")
    assert row["bezirk"] == "03"
    assert (k.loc[~k["bezirk_abweichung"], "abweichung_art"] == "").all()
    assert any("02051140 Kita Hausburg: Friedrichshain-Kreuzberg, liegt in Pankow" in m
               for m in msgs)


def test_kita_shared_coordinates_flagged(kitas):
    k, msgs = kitas
    same = k[k["gleiche_lage"]]
    locations = set(zip(same.geometry.x, same.geometry.y, strict=True))
    assert len(same) == 93 and len(locations) == 46
    assert len(same) - len(locations) == 47  # PROVENANCE's "47 points share coordinates"
    assert "93 Kitas an 46 Standorten teilen sich exakt die Koordinaten" in msgs[-1]


def test_schulen(schulen):
    s, msgs = schulen
    assert len(s) == 902 and s.crs.to_epsg() == 25833
    assert list(s.columns) == ["schul_id", "name", "schulform", "schulstufe", "traeger",
                               "schulart", "schultyp", "strasse", "plz", "bezirk_quelle",
                               "stadtteil_nr", "stadtteil", "bezirk", "abweichung_art",
                               "bezirk_abweichung", "geometry"]
    assert s["schul_id"].is_unique and s["schul_id"].iloc[0] == "01B01"
    assert s["stadtteil_nr"].notna().all() and s["stadtteil_nr"].nunique() == 426
    assert s["traeger"].value_counts().to_dict() == {"öffentlich": 694, "privat": 208}
    assert set(s["schulform"]) <= set(berlin.SCHULFORM_STUFE)
    assert set(s["schulstufe"]) <= LEVELS
    assert (s["schulstufe"] == s["schulform"].map(berlin.SCHULFORM_STUFE)).all()
    counts = s["schulform"].value_counts()
    assert counts["Grundschule"] == 376 + 54  # public + private Grundschulen
    assert counts["Gymnasium"] == 92 + 9
    assert counts["Förderschule"] == 62 and counts["sonstige"] == 13
    # a private school's type comes from schulart, not from schultyp "Privatschule"
    priv = s[s["schultyp"] == "Privatschule"]
    assert len(priv) == 208 and (priv["schulform"] != "sonstige").sum() == 208 - 13
    assert len(msgs) == 2


def test_school_conflicts_flagged(schulen):
    s, msgs = schulen
    flagged = s[s["bezirk_abweichung"]].set_index("schul_id")
    assert sorted(flagged.index) == ["08B05", "08K09"]
    assert flagged.loc["08K09", "abweichung_art"] == "anderer Bezirk"
    assert (flagged.loc["08K09", "bezirk_quelle"], flagged.loc["08K09", "bezirk"]) == (
        "Neukölln", "09")
    assert flagged.loc["08B05", "abweichung_art"] == "Schulnummer aus anderem Bezirk"
    assert (flagged.loc["08B05", "bezirk_quelle"], flagged.loc["08B05", "bezirk"]) == (
        "Mitte", "01")
    # otherwise the first two characters of the school number are the Bezirk
    rest = s[~s["bezirk_abweichung"]]
    assert (rest["schul_id"].str[:2] == rest["bezirk"]).all()
    assert any("08K09 Röntgen-Schule: Neukölln, liegt in Treptow-Köpenick" in m for m in msgs)


# --- defect branches on small copies --------------------------------------------------------

def _copy(names, dst: Path) -> Path:
    for name in names:
        for p in berlin.RAW_DIR.glob(f"{Path(name).stem}.*"):
            shutil.copy(p, dst / p.name)
    return dst


LOR = ("lor_planungsraeume_2021.shp", "lor_bezirksregionen_2021.shp",
       "lor_prognoseraeume_2021.shp")


def _geojson(path: Path, props: list[dict], coords: list[tuple[float, float]]) -> None:
    feats = [{"type": "Feature", "properties": p,
              "geometry": {"type": "Point", "coordinates": list(c)}}
             for p, c in zip(props, coords, strict=True)]
    path.write_text(json.dumps({
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25833"}},
        "features": feats}), encoding="utf-8")


def _kita(nr: str, platz: str) -> dict:
    return {"e_nr": nr, "e_name": f"Kita {nr}", "e_bez_nr": "01", "e_bez": "Mitte",
            "e_plz": "10117", "e_ort": "Berlin", "e_strasse": "Albrechtstr.", "e_hnr": "20",
            "e_zusatz": None, "e_platz": platz, "e_art": "Tageseinrichtung/Kita",
            "t_name": "Träger", "t_art": "EKT"}


def test_unparsable_places_become_na_and_are_reported(tmp_path):
    raw = _copy(LOR, tmp_path)
    _geojson(raw / "kindertagesstaetten.geojson",
             [_kita("01000001", "69"), _kita("01000002", "ca. 40")],
             [(390387.4, 5820383.1), (390206.3, 5819189.1)])
    k, msgs = _load(berlin.load_kitas, raw_dir=raw)
    assert k["plaetze"].tolist() == [69, pd.NA]
    assert k["stadtteil_nr"].notna().all() and not k["gleiche_lage"].any()
    assert msgs == ["kindertagesstaetten.geojson: 1 Platzzahlen (e_platz) sind keine ganze "
                    "Zahl (z. B. 'ca. 40'); plaetze bleibt dort leer."]


def test_legacy_crs_member_used_when_a_reader_ignores_it(tmp_path, monkeypatch):
    raw = _copy(LOR, tmp_path)
    _geojson(raw / "kindertagesstaetten.geojson", [_kita("01000001", "69")],
             [(390387.4, 5820383.1)])
    real = berlin.read_file

    def rfc7946_reader(path, **kw):  # what a reader that assumes WGS84 does
        gdf = real(path, **kw)
        return gdf.set_crs("EPSG:4326", allow_override=True) if path.suffix == ".geojson" else gdf

    monkeypatch.setattr(berlin, "read_file", rfc7946_reader)
    k, msgs = _load(berlin.load_kitas, raw_dir=raw)
    assert msgs == ["kindertagesstaetten.geojson: das crs-Element der Datei "
                    "(urn:ogc:def:crs:EPSG::25833) wurde beim Lesen übergangen; die "
                    "Koordinaten werden als EPSG:25833 gelesen."]
    assert k.crs.to_epsg() == 25833
    assert k.geometry.x.item() == pytest.approx(390387.4)
    assert k["stadtteil_nr"].item().startswith("01")


def test_points_in_degrees_declared_as_metres_refused(tmp_path):
    _geojson(tmp_path / "kindertagesstaetten.geojson", [_kita("01000001", "69")],
             [(13.38, 52.52)])
    with pytest.raises(LayerError, match=r"^kindertagesstaetten\.geojson: keine der 1 "
                                         r"Koordinaten liegt in Berlin"):
        berlin.load_kitas(raw_dir=tmp_path)


def test_point_outside_every_planungsraum_kept_and_reported(tmp_path):
    raw = _copy(LOR, tmp_path)
    _geojson(raw / "kindertagesstaetten.geojson",
             [_kita("01000001", "69"), _kita("01000002", "10")],
             [(390387.4, 5820383.1), (366000.0, 5796000.0)])  # 2nd: inside the box, not Berlin
    k, msgs = _load(berlin.load_kitas, raw_dir=raw)
    assert k["stadtteil_nr"].isna().tolist() == [False, True]
    assert not k["bezirk_abweichung"].iloc[1]
    assert msgs == ["kindertagesstaetten.geojson: 1 Punkte liegen in keinem Planungsraum "
                    "(außerhalb Berlins); sie bleiben ohne stadtteil_nr erhalten."]


def test_bezirk_names_decoded_wrongly_are_refused(tmp_path):
    raw = _copy(["bezirksgrenzen.shp"], tmp_path)
    (raw / "bezirksgrenzen.cpg").write_text("850")  # a wrong encoding hint: "Neuk÷lln"
    with pytest.raises(LayerError, match=r"^bezirksgrenzen\.shp: Bezirksname '\S+÷\S+' zu "
                                         r"Schlüssel 0\d\d .* cp1252 kodiert"):
        berlin.load_stadtbezirke(raw_dir=raw)


def test_codes_without_leading_zero_are_refused(tmp_path):
    raw = _copy(LOR, tmp_path)
    for name in ("berlin-lor-population-2022-02-t1-planning-areas.csv",
                 "berlin-lor-population-2022-02-t2-planning-areas.csv"):
        text = (berlin.RAW_DIR / name).read_text(encoding="utf-8")
        (raw / name).write_text(re.sub(r"^0(\d{7}),", r"\1,", text, flags=re.M),
                                encoding="utf-8")  # what a spreadsheet does to 01100101
    with pytest.raises(LayerError, match=r"Spalte id muss 8-stellige Schlüssel als Text"):
        berlin.load_bevoelkerung(raw_dir=raw)


def test_dash_that_is_not_a_count_elsewhere_refused(tmp_path):
    raw = _copy(LOR, tmp_path)
    name = "einwohnerbestand_06-2022_plr.csv"
    data = (berlin.RAW_DIR / name).read_bytes().replace(b"3503;169;", b"3503;x;", 1)
    (raw / name).write_bytes(data)
    with pytest.raises(LayerError, match=r"Spalte 'unter6' enthält 'x', keine Anzahl"):
        berlin.load_bevoelkerung(stand="2022-06-30", raw_dir=raw)


# --- the pack file ------------------------------------------------------------------------

def _resolve(loader: str):
    module, _, func = loader.partition(":")
    return getattr(importlib.import_module(f"gis_planning.data.sources.{module}"), func)


def test_pack_file_is_consistent_with_the_loaders(stadtteile, bev_06, bev_12):
    pack = json.loads((LAYER_DIR / "pack.json").read_text(encoding="utf-8"))
    assert pack["city"] == "Berlin" and pack["crs"] == berlin.CRS == "EPSG:25833"
    assert "Essen" not in json.dumps(pack, ensure_ascii=False)
    assert pack["unit"]["layer"] in pack["layers"]
    for name, layer in pack["layers"].items():
        fn = _resolve(layer["loader"])
        assert fn.__module__ == berlin.__name__, name
        assert all(layer[k] for k in ("label", "source", "licence", "date", "description"))
    assert pack["layers"]["stadtteile"]["loader"] == "berlin:load_stadtteile"
    tables = {t["date"]: t for t in pack["tables"]["bevoelkerung"]}
    assert sorted(tables) == list(berlin.BEVOELKERUNG_STAENDE)
    frames = {"2022-06-30": bev_06[0], "2022-12-31": bev_12[0]}
    for date, t in tables.items():
        assert _resolve(t["loader"]) is berlin.load_bevoelkerung
        assert t["options"] == {"stand": date} and t["estimated"] is False
        assert t["unit"] == "stadtteile" and t["key"] == {"stadtteil_nr": "stadtteil_nr"}
        assert set(t["key"]) <= set(frames[date].columns)
    for g in pack["groups"].values():
        assert g["table"] == "bevoelkerung" and g["total"] == "einwohner"
        assert g["count"] in frames["2022-12-31"].columns
    assert "migrationshintergrund" not in frames["2022-06-30"].columns
    assert "nur im Stand 31.12.2022" in tables["2022-06-30"]["description"]
    assert list(pack["groups"]) == ["auslaender", "migrationshintergrund"]
    assert pack["confidential"] == []
