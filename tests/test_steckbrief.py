"""Bezirk and Stadtteil profiles: figures equal the paper's tables, pages read back by poppler."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from pdf_util import pdf_info, pdf_text, poppler

from gis_planning._errors import InputError
from gis_planning.cli import cli
from gis_planning.data.catalog import load_city
from gis_planning.labels import fmt_int, fmt_percent
from gis_planning.outputs import steckbrief

MUSTER = Path(__file__).parent / "data" / "musterstadt" / "pack.json"
TODAY = dt.date(2026, 12, 2)
NOT_OUTSIDE = "ignore:.*außerhalb von Musterstadt:UserWarning"


def _by_key(profile):
    return {f.key: f for f in profile.figures}


def test_bezirk_figures_equal_the_transcribed_tables(catalog):
    table = catalog.table("bezirk_statistik")
    named = catalog.table("betroffene_stadtteile")
    city = dict(zip(catalog.table("stadt_gesamt")["kennzahl"],
                    catalog.table("stadt_gesamt")["wert"], strict=True))
    numeric = [c for c in table.columns if c not in ("bezirk", "bezirk_roman", "quelle",
                                                     "stand")]
    for _, row in table.iterrows():
        p = steckbrief.bezirk_profile(catalog, row["bezirk_roman"])
        figs = _by_key(p)
        assert p.code == row["bezirk"] and p.title.startswith(f"Bezirk {row['bezirk_roman']}")
        for col in numeric:
            if col.endswith("_anzahl") and col.replace("_anzahl", "_anteil_prozent") in figs:
                share = figs[col.replace("_anzahl", "_anteil_prozent")]
                assert share.text.endswith(f"({fmt_int(row[col])})"), col  # beside its share
                continue
            assert figs[col].value == row[col], (row["bezirk"], col)  # exactly, not rounded
            want = fmt_int(row[col]) if col == "einwohner" else fmt_percent(row[col], 1)
            assert figs[col].text.split(" (")[0] == want, col
            assert figs[col].date == "30.09.2016" and not figs[col].estimated
        mine = named[named["bezirk"] == row["bezirk"]]
        assert p.named == [f"{n} ({fmt_percent(v, 1)})" for n, v in
                           zip(mine["stadtteil"], mine["herkunft12_anteil_prozent"],
                               strict=True)]
        assert figs["einwohner"].city_text == fmt_int(city["einwohner"])
        assert figs["nichtdeutsche_anteil_prozent"].city_text == fmt_percent(
            city["nichtdeutsche_anteil_prozent"], 1)
        assert figs["einwohner"].rank == int((table["einwohner"] > row["einwohner"]).sum()) + 1


def test_bezirk_i_and_v_as_printed(catalog):
    """The lines of section 3.1.1 as printed, typed from the seed text."""
    one = steckbrief.profile_text(steckbrief.bezirk_profile(catalog, "I"))
    for printed in ("Gesamtbevölkerung\t67.297", "Anteil nichtdeutscher Bevölkerung\t26,5 %",
                    "Anteil der wesentlichen 12 Herkunftsländer\t7,1 % (4.795)",
                    "Anteil Projektwohnungen für Flüchtlinge\t22,3 %",
                    "Stadtkern (11,7 %), Nordviertel (10,8 %), Südostviertel (10,5 %)"):
        assert printed in one, printed
    five = steckbrief.profile_text(steckbrief.bezirk_profile(catalog, "Bezirk V"))
    for printed in ("58.471", "21,4 %", "5,1 % (2.995)", "1,9 % (233)", "6,6 % (830)",
                    "8,5 %", "11,0 %", "Altenessen-Süd (6,4 %), Karnap (5,6 %)"):
        assert printed in five, printed
    two = steckbrief.profile_text(steckbrief.bezirk_profile(catalog, 2))
    assert "Besonders betroffene Stadtteile: ./." in two


def test_facilities_and_city_comparison(catalog):
    p = steckbrief.bezirk_profile(catalog, "V")
    rows = {what: (here, city) for what, here, city in p.facilities}
    kitas = catalog.load("kitas")
    open_ = kitas[kitas["in_betrieb"].astype(bool) & ~kitas["ausserhalb"].astype(bool)]
    assert rows["Kitas in Betrieb"][0].startswith(f"{int((open_['bezirk'] == 5).sum())} (")
    assert rows["Kitas in Betrieb"][1].startswith(f"{len(open_)} (")
    assert rows["Integrationsbudget (Vorschlag)"][1] == "1.000.000 €"
    assert "Begegnungsräume (Vorschlag)" in rows
    assert any("Schätzung" in n for n in p.notes)  # the unit values are estimates


def test_stadtteil_profile(catalog):
    p = steckbrief.stadtteil_profile(catalog, "altendorf")
    figs = _by_key(p)
    est = catalog.unit_table("stadtteil_statistik")
    me = est[est["stadtteil"] == "Altendorf"].iloc[0]
    assert figs["herkunft12_anteil_prozent"].text == fmt_percent(
        me["herkunft12_anteil_prozent"], 1)
    assert figs["herkunft12_anteil_prozent"].estimated
    assert figs["herkunft12_anteil_prozent"].level_text == "4,2 %"  # Bezirk III
    assert figs["einwohner"].city_text == "588.875"
    assert "klasse" in figs and p.bezirk == 3
    assert any("Altendorf (8,3 %)" in n for n in p.notes)
    with pytest.raises(InputError, match="Meinten Sie 'Altendorf'"):
        steckbrief.stadtteil_profile(catalog, "Altendorff")
    assert steckbrief.unit_code(catalog, "Ruettenscheid") == steckbrief.unit_code(
        catalog, "Rüttenscheid")


def test_profile_pdf_reads_back(catalog, tmp_path):
    profiles = [steckbrief.bezirk_profile(catalog, "III"),
                steckbrief.stadtteil_profile(catalog, "Altendorf")]
    path = steckbrief.write_profiles(catalog, profiles, tmp_path / "s.pdf", today=TODAY)
    info = pdf_info(path)
    assert info["Pages"].strip() == "2"
    w, h = (float(v) for v in info["Page size"].split("pts")[0].split("x"))
    assert (round(w), round(h)) == (595, 842)  # A4 portrait
    import subprocess

    images = subprocess.run([poppler("pdfimages"), "-list", str(path)], capture_output=True,
                            text=True, check=True).stdout.splitlines()
    assert len(images) == 2  # vector only
    flat = " ".join(pdf_text(path).split())
    for text in ("Bezirk III – Essen-West", "98.439", "18,9 %", "4,2 % (4.162)",
                 "3,8 % (707)", "4,3 % (800)", "18,6 %", "Besonders betroffene Stadtteile: "
                 "Altendorf (8,3 %)", "Lage in der Stadt", "Einrichtungen", "Kitas in Betrieb",
                 "Maßstab ca. 1 :", "Quellen:", "dl-de/by-2-0", "Stand 30.09.2016",
                 "erstellt am 02.12.2026", "Frohnhausen", "Altendorf", "(Schätzung)"):
        assert text in flat, text


@pytest.mark.filterwarnings(NOT_OUTSIDE)
def test_every_city_pack(tmp_path):
    cat = load_city(MUSTER)
    p = steckbrief.bezirk_profile(cat, "Nordbezirk")
    figs = _by_key(p)
    units = cat.group_frame("auslaender")
    nord = units[units["bezirk"] == "01"]
    assert figs["einwohner"].value == nord["einwohner"].sum()
    share = 100 * nord["auslaender"].sum() / nord["einwohner"].sum()
    assert figs["auslaender_anteil_prozent"].text == (
        f"{fmt_percent(share, 1)} ({fmt_int(nord['auslaender'].sum())})")
    assert figs["einwohner"].city_text == fmt_int(units["einwohner"].sum())
    assert p.named == []
    path = steckbrief.write_profiles(cat, [p, steckbrief.stadtteil_profile(cat, "0101")],
                                     tmp_path / "m.pdf", today=TODAY)
    flat = " ".join(pdf_text(path).split())
    assert "Nordbezirk" in flat and "Musterstadt" in flat and "Essen" not in flat
    assert "Schätzung" not in flat and "geschätzt" not in flat  # nothing is estimated here


def test_cli_steckbrief(tmp_path):
    runner = CliRunner()
    out = tmp_path / "b.pdf"
    res = runner.invoke(cli, ["steckbrief", "--bezirk", "III", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "1 Seite: Bezirk III" in res.output and out.exists()
    res = runner.invoke(cli, ["steckbrief", "--bezirk", "III", "-o", str(out)])
    assert res.exit_code == 2 and "overwrite" in res.output
    res = runner.invoke(cli, ["steckbrief", "-o", str(tmp_path / "x.pdf")])
    assert res.exit_code == 2 and "--alle" in res.output
    res = runner.invoke(cli, ["steckbrief", "--alle", "--bezirk", "I", "-o",
                              str(tmp_path / "x.pdf")])
    assert res.exit_code == 2
    res = runner.invoke(cli, ["steckbrief", "--bezirk", "I", "--bezirk", "II", "-o",
                              str(tmp_path / "x.png")])
    assert res.exit_code == 2 and "PDF" in res.output
    res = runner.invoke(cli, ["steckbrief", "--stadtteil", "Altendorff", "-o",
                              str(tmp_path / "x.pdf")])
    assert res.exit_code == 2 and "Meinten Sie 'Altendorf'" in res.output
    assert not (tmp_path / "x.pdf").exists() and not (tmp_path / "x.png").exists()


@pytest.mark.slow
def test_cli_alle_one_page_per_bezirk(tmp_path):
    out = tmp_path / "alle.pdf"
    res = CliRunner().invoke(cli, ["steckbrief", "--alle", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert pdf_info(out)["Pages"].strip() == "9"
    text = pdf_text(out)
    for roman in ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX"):
        assert f"Bezirk {roman} –" in text
