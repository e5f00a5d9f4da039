"""Tests of gis_planning.data.sources.essen_seed: every transcribed number is checked against the
seed text.

The seed text is parsed here independently of the CSV transcription (regular expressions on
the printed lines), so a typo in a CSV file fails a test.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from gis_planning._errors import LayerError
from gis_planning.data.sources import essen_seed as seed

ROOT = Path(__file__).resolve().parent.parent
SEED_TXT = ROOT / "layers" / "essen" / "raw" / "seed_vorlage_1846_2016_5.txt"
STADTTEILE = ROOT / "layers" / "essen" / "raw" / "stadtteile_50.geojson"
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX"]


def _num(text: str) -> float:
    """German number as printed -> float ('67.297' -> 67297, '26,5' -> 26.5)."""
    return float(text.replace(".", "").replace(",", "."))


@pytest.fixture(scope="module")
def text() -> str:
    return SEED_TXT.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def bezirk_blocks(text: str) -> dict[str, str]:
    part = text[text.index("3.1.1 Auswertung nach Stadtbezirken") : text.index("Quelle: FB 12")]
    pieces = re.split(r"^#+ Bezirk ([IVX]+)\s*$", part, flags=re.M)
    blocks = dict(zip(pieces[1::2], pieces[2::2], strict=True))
    assert list(blocks) == ROMAN
    return blocks


@pytest.fixture(scope="module")
def official_names() -> dict[str, int]:
    data = json.loads(STADTTEILE.read_text(encoding="utf-8"))
    return {f["properties"]["name"]: f["properties"]["stadtteil_nr"] for f in data["features"]}


def test_bezirk_statistik_matches_seed_text(bezirk_blocks: dict[str, str]) -> None:
    df = seed.bezirk_statistik()
    assert len(df) == 9
    assert df["bezirk"].tolist() == list(range(1, 10))
    assert df["bezirk_roman"].tolist() == ROMAN
    for roman, block in bezirk_blocks.items():
        row = df.set_index("bezirk_roman").loc[roman]
        ew = re.search(r"Gesamtbevölkerung\t([\d.]+)", block)
        nd = re.search(r"Anteil nichtdeutscher Bevölkerung\t([\d,]+) %", block)
        h12 = re.search(r"Herkunftsländer\*</b>\t<b>([\d,]+) % \(([\d.]+)\)</b>", block)
        bgro = re.search(
            r"gesamt ([\d,]+) % \(([\d,]+) % \((\d+)\) bzw\. ([\d,]+) % \((\d+)\)\)", block
        )
        pw = re.search(r"Projektwohnungen für Flüchtlinge\t([\d,]+) %", block)
        assert all(m is not None for m in (ew, nd, h12, bgro, pw)), roman
        assert row["einwohner"] == _num(ew.group(1))
        assert row["nichtdeutsche_anteil_prozent"] == _num(nd.group(1))
        assert row["herkunft12_anteil_prozent"] == _num(h12.group(1))
        assert row["herkunft12_anzahl"] == _num(h12.group(2))
        assert row["bulgarien_rumaenien_anteil_prozent"] == _num(bgro.group(1))
        assert row["bulgarien_anteil_prozent"] == _num(bgro.group(2))
        assert row["bulgarien_anzahl"] == int(bgro.group(3))
        assert row["rumaenien_anteil_prozent"] == _num(bgro.group(4))
        assert row["rumaenien_anzahl"] == int(bgro.group(5))
        assert row["projektwohnungen_anteil_prozent"] == _num(pw.group(1))
    assert set(df["stand"]) == {"30.09.2016"}
    assert all("FB 12" in q for q in df["quelle"])


def test_bezirk_statistik_hand_typed_spot_values() -> None:
    df = seed.bezirk_statistik().set_index("bezirk")
    assert df.loc[1, "einwohner"] == 67297
    assert df.loc[3, "herkunft12_anzahl"] == 4162
    assert df.loc[8, "bulgarien_anzahl"] == 16
    assert df.loc[9, "projektwohnungen_anteil_prozent"] == pytest.approx(2.4)
    assert df["einwohner"].dtype == "int64"


def test_betroffene_stadtteile_match_seed_text(
    bezirk_blocks: dict[str, str], official_names: dict[str, int]
) -> None:
    expected = []
    for i, (roman, block) in enumerate(bezirk_blocks.items(), start=1):
        line = re.search(r"Besonders betroffene Stadtteile: (.*)", block).group(1).strip()
        if line == "./.":
            continue
        for name, pct in re.findall(r"\s*([^,(]+?) \(([\d,]+) ?%\)", line):
            expected.append((i, roman, name, _num(pct)))
    df = seed.betroffene_stadtteile()
    got = list(
        df[["bezirk", "bezirk_roman", "stadtteil", "herkunft12_anteil_prozent"]].itertuples(
            index=False, name=None
        )
    )
    assert got == expected
    assert len(df) == 8
    assert set(df["bezirk"]) == {1, 3, 4, 5, 7}
    for name, nr in zip(df["stadtteil"], df["stadtteil_nr"], strict=True):
        assert official_names[name] == nr


def test_stadt_gesamt_matches_seed_text(text: str) -> None:
    sg = seed.stadt_gesamt().set_index("kennzahl")
    para = re.search(
        r"leben in Essen ([\d.]+) Menschen, davon sind ([\d.]+) bzw\. ([\d,]+) % Nichtdeutsche"
        r".*?türkische mit ([\d.]+) \(([\d,]+) %\).*?syrischen Staatsangehörigkeit mit "
        r"([\d.]+) \(([\d,]+) %\).*?aus dem Irak \(([\d.]+), ([\d,]+) %\)",
        text,
        flags=re.S,
    )
    assert para is not None
    keys = [
        "einwohner",
        "nichtdeutsche_anzahl",
        "nichtdeutsche_anteil_prozent",
        "tuerkei_anzahl",
        "tuerkei_anteil_prozent",
        "syrien_anzahl",
        "syrien_anteil_prozent",
        "irak_anzahl",
        "irak_anteil_prozent",
    ]
    for key, printed in zip(keys, para.groups(), strict=True):
        assert sg.loc[key, "wert"] == _num(printed), key
        assert printed in sg.loc[key, "wie_gedruckt"]
    nd = re.search(
        r"einen Anteil von ([\d,]+) % der Nichtdeutschen in Essen \(Türkei ([\d,]+) %\)", text
    )
    assert sg.loc["syrien_anteil_an_nichtdeutschen_prozent", "wert"] == _num(nd.group(1))
    assert sg.loc["tuerkei_anteil_an_nichtdeutschen_prozent", "wert"] == _num(nd.group(2))
    fast = re.search(r"fast ([\d.]+) Menschen aus den wesentlichen 12 Fluchtländern", text)
    assert sg.loc["herkunft12_anzahl_fast", "wert"] == _num(fast.group(1)) == 22000
    for w in sg["wie_gedruckt"]:
        assert w.replace("fast ", "") in text


def test_herkunftslaender_match_seed_text(text: str) -> None:
    foot = re.search(r"^\\\* (Syrien, .*)$", text, flags=re.M).group(1)
    printed = [x.strip() for x in re.split(r",| und ", foot)]
    assert list(seed.HERKUNFTSLAENDER_12) == printed
    intro = re.search(r"Sie kommen aus (.*)\.", text).group(1)
    assert [x.strip() for x in re.split(r",| und ", intro)] == printed
    df = seed.herkunftslaender_12()
    assert df["land"].tolist() == printed
    jc_foot = re.search(r"^\\\* (Eritrea, .*)$", text, flags=re.M).group(1)
    assert list(seed.WEITERE_LAENDER_JOBCENTER) == [x.strip() for x in jc_foot.split(",")]
    weitere = df.loc[df["in_jobcenter_tabelle"] == "weitere Länder", "land"]
    assert sorted(weitere) == sorted(seed.WEITERE_LAENDER_JOBCENTER)


def test_jobcenter_verteilung_matches_seed_text(text: str) -> None:
    part = text[text.index("JC-Verteilung") : text.index("\\* Eritrea")]
    lines = [ln for ln in part.splitlines()[2:] if ln.strip()]
    parsed = {}
    for ln in lines:
        cells = ln.split("\t")
        parsed[cells[0]] = [_num(c.rstrip("%")) for c in cells[1:]]
    df = seed.jobcenter_verteilung()
    assert df["jobcenter"].tolist() == list(parsed)
    assert len(df) == 10
    cols = list(seed.JOBCENTER_SPALTEN)
    head = part.splitlines()[1].split("\t")[1:]
    assert [h.strip() for h in head] == list(seed.JOBCENTER_SPALTEN.values())
    for row in df.itertuples(index=False):
        assert [getattr(row, c) for c in cols] == parsed[row.jobcenter]
    assert set(df["stand"]) == {"05.10.2016"}


def test_jobcenter_stadtteile_match_seed_text(text: str, official_names: dict[str, int]) -> None:
    part = text[text.index("Mitte: Stadtkern") : text.index("Quelle: FB 56")]
    expected = []
    for ln in part.splitlines():
        if ":" not in ln:
            continue
        group, lst = ln.strip().split(": ", 1)
        for pos, item in enumerate(lst.strip().split(", "), start=1):
            expected.append((group, pos, item))
    df = seed.jobcenter_stadtteile()
    got = list(df[["jobcenter", "position", "listed_as"]].itertuples(index=False, name=None))
    assert got == expected
    for r in df.itertuples(index=False):
        assert r.teilweise == r.listed_as.startswith("teilw. ")
        name = r.listed_as.removeprefix("teilw. ").removesuffix("...")
        assert r.stadtteil == name
        assert official_names[r.stadtteil] == r.stadtteil_nr
        assert r.incomplete_list == (r.jobcenter == seed.SUED_GRUPPE)
    assert df.loc[df["listed_as"] == "Kettwig...", "jobcenter"].tolist() == ["Süd 1 & Süd 2"]
    assert df["jobcenter"].nunique() == 8
    assert df["teilweise"].sum() == 11
    assert df["teilweise"].dtype == bool


def test_consistency_reports_the_known_contradictions() -> None:
    c = seed.consistency()
    bad = c.loc[~c["konsistent"], ["pruefung", "bezug"]]
    # 8.228 / 588.875 = 1,397 % (printed 2,0 %); 677 / 54.409 = 1,244 % (printed 1,3 %).
    assert sorted(map(tuple, bad.to_numpy())) == [
        ("bezirk_herkunft12_anteil", "II"),
        ("stadt_syrien_anteil", "Essen"),
    ]
    syr = c[c["pruefung"] == "stadt_syrien_anteil"].iloc[0]
    assert syr["gedruckt"] == 2.0
    assert syr["berechnet"] == pytest.approx(100 * 8228 / 588875)
    # the Bezirke add up to the city exactly
    ew = c[c["pruefung"] == "stadt_einwohner_summe"].iloc[0]
    assert ew["berechnet"] == ew["gedruckt"] == 588875
    h12 = c[c["pruefung"] == "stadt_herkunft12_fast"].iloc[0]
    assert h12["berechnet"] == 21287
    assert set(c.columns) == {
        "pruefung",
        "bezug",
        "gedruckt",
        "berechnet",
        "abweichung",
        "toleranz",
        "konsistent",
        "detail",
    }


def test_consistency_detects_a_changed_value(tmp_path: Path) -> None:
    for f in seed.SEED_DIR.glob("*.csv"):
        (tmp_path / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    df = pd.read_csv(tmp_path / "bezirk_statistik.csv")
    df.loc[0, "einwohner"] = 67298
    df.to_csv(tmp_path / "bezirk_statistik.csv", index=False)
    c = seed.consistency(path=tmp_path)
    row = c[c["pruefung"] == "stadt_einwohner_summe"].iloc[0]
    assert not row["konsistent"]
    assert row["abweichung"] == 1


def test_missing_seed_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(LayerError, match="Grundtabelle .bezirk_statistik. fehlt.*essen/seed"):
        seed.bezirk_statistik(path=tmp_path)
