"""The cleaning of the raw Essen files: every known defect handled visibly (PROVENANCE.md)."""

import shapely

from gis_planning.data.sources import essen


def test_stadtbezirke_drop_zm_and_names():
    bz = essen.load_stadtbezirke()
    assert not shapely.has_z(bz.geometry.to_numpy()).any()
    assert bz["bezirk_roman"].tolist() == list(essen.ROMAN)
    assert bz.loc[bz.bezirk == 3, "bezirk_name"].item() == "Essen-West"


def test_kita_stadtteil_disagreements_flagged():
    k = essen.load_kitas()
    flagged = k[k["stadtteil_abweichung"]]
    assert len(flagged) == 8
    assert (flagged["stadtteil_quelle"] == "Überruhr-Holtha.").sum() == 5
    assert (flagged["abweichung_art"] == "abgekuerzt").sum() == 5
    assert (flagged["abweichung_art"] == "anderer Stadtteil").sum() == 3
    # both values are kept
    assert set(flagged["stadtteil"]) >= {"Überruhr-Holthausen"}


def test_school_stadtteil_disagreements_flagged():
    s = essen.load_schulen()
    flagged = s[s["stadtteil_abweichung"]]
    assert len(flagged) == 11
    assert (flagged["stadtteil_quelle"] == "Borbeck").sum() == 9
    assert (flagged.loc[flagged.stadtteil_quelle == "Borbeck", "stadtteil"]
            == "Borbeck-Mitte").all()
    typo = flagged[flagged.stadtteil_quelle == "Berbeborbeck"]
    assert typo["abweichung_art"].item() == "tippfehler"
    assert typo["stadtteil"].item() == "Bergeborbeck"
    assert (flagged["abweichung_art"] == "anderer Stadtteil").sum() == 1


def test_schulform_normalised():
    s = essen.load_schulen()
    counts = s["schulform"].value_counts()
    assert counts["Grundschule"] == 104 and counts["Gymnasium"] == 28
    assert counts["Förderschule"] == 22 and counts["Berufskolleg"] == 18
    assert set(s["schulform"]) <= set(essen.SCHULFORM_STUFE)
    assert (s["schulstufe"] != "sonstige").all()


def test_no_kita_in_schuir_no_school_in_three():
    k, s = essen.load_kitas(), essen.load_schulen()
    assert "Schuir" not in set(k["stadtteil"])
    assert not {"Byfang", "Fulerum", "Schuir"} & set(s["stadtteil"])


def test_gerschede_derived_flag():
    st = essen.load_stadtteile()
    assert st.loc[st.stadtteil == "Gerschede", "abgeleitet"].item()
    assert st["abgeleitet"].sum() == 1


def test_raw_osm_custom_json_reads():
    raw = essen.load_stadtteile_osm_raw()
    assert len(raw) == 49
