"""Stadtteil estimate with Zensus 2011 priors, and its leave-one-out validation."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from gis_planning._errors import InputError, NameMatchError
from gis_planning.analysis import estimates as est
from gis_planning.analysis.aggregate import aggregate_cells
from gis_planning.data.sources import essen_seed as seed
from gis_planning.data.sources.essen import RAW_DIR, load_stadtteile
from gis_planning.data.sources.essen_zensus import load_zensus2011
from gis_planning.labels import fmt_number

DOC = Path(__file__).resolve().parents[1] / "docs" / "estimate_validation.md"


def _grid(n: int = 3) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"stadtteil_nr": list(range(1, n + 1)), "stadtteil": [f"S{i}" for i in range(1, n + 1)],
         "bezirk": [1] * n},
        geometry=[box(100 * i, 0, 100 * i + 100, 1) for i in range(n)], crs="EPSG:25832")


BZ = pd.DataFrame({"bezirk": [1], "einwohner": [600], "herkunft12_anzahl": [60]})
BT = pd.DataFrame({"stadtteil_nr": [1], "herkunft12_anteil_prozent": [20.0]})
W = {1: 10.0, 2: 30.0, 3: 60.0}


def _run(einwohner, **kw):
    e = pd.DataFrame({"stadtteil_nr": [1, 2, 3], "einwohner": pd.array(einwohner, "Int64")})
    return est.stadtteil_schaetzung(e, _grid(), bezirk_statistik=BZ, betroffene=BT, **kw)


def test_einwohner_rules_by_hand():
    # two Stadtteile without a figure: the remainder 500 by area (equal) or by weight 30 : 60
    assert _run([100, None, None])["einwohner"].tolist() == [100, 250, 250]
    assert _run([100, None, None], einwohner_gewicht=W, einwohner_regel="quellen_gewicht")[
        "einwohner"].tolist() == [100, 167, 333]
    # ratio: 200 / 40 = 5 persons per unit of weight, S3 -> 300, then 100:200:300 raked to 600
    ratio = _run([100, 200, None], einwohner_gewicht={1: 10, 2: 30, 3: 60},
                 einwohner_regel="quellen_verhaeltnis", gewicht_beschreibung="Zensus")
    assert ratio["einwohner"].tolist() == [80, 160, 360]
    assert "Zensus mal Verhältnis" in ratio["hinweis"].iloc[2]
    only = _run([100, 200, None], einwohner_gewicht=W, einwohner_regel="gewicht")
    assert only["einwohner"].tolist() == [60, 180, 360]
    assert only["methode"].str.startswith("gewicht+").all()
    for table in (ratio, only):
        assert table["einwohner"].sum() == 600 and table["herkunft12_anzahl"].sum() == 60
        assert table.loc[table["stadtteil_nr"] == 1, "herkunft12_anteil_prozent"].iloc[0] == 20.0
    with pytest.raises(InputError, match="braucht ein Einwohnergewicht"):
        _run([100, 200, None], einwohner_regel="gewicht")
    with pytest.raises(NameMatchError, match="keinen Wert"):
        _run([100, 200, None], einwohner_gewicht={1: 1.0}, einwohner_regel="gewicht")
    with pytest.raises(InputError, match="Einwohnerregel"):
        _run([100, 200, None], einwohner_regel="zensus")


def test_prior_spreads_the_rest_and_says_so():
    uniform = _run([100, 200, 300])
    prior = _run([100, 200, 300], prior_anteil={2: 1.0, 3: 9.0},
                 prior_beschreibung="Nichtdeutschen-Anteil Zensus 2011")
    # the rest of 40 persons: uniform 16 : 24 (by inhabitants), with priors most go to S3
    assert uniform["herkunft12_anzahl"].tolist() == [20, 16, 24]
    assert prior["herkunft12_anzahl"].iloc[2] > 24 and prior["herkunft12_anzahl"].sum() == 60
    assert prior["methode"].iloc[1].endswith("rest_bezirk_prior")
    assert "Nichtdeutschen-Anteil Zensus 2011" in prior["hinweis"].iloc[1]
    assert "gleich verteilt" in uniform["hinweis"].iloc[1]


def test_zensus_prior_and_weight_from_an_aggregate_table():
    z = pd.DataFrame({"stadtteil_nr": [1, 2, 3], "personen": [100, 0, 300],
                      "nichtdeutsche": [10, 0, 60]})
    assert est.zensus_gewicht(z) == {1: 100.0, 2: 0.0, 3: 300.0}
    prior = est.zensus_prior(z)
    assert prior[1] == pytest.approx(10.0) and prior[3] == pytest.approx(20.0)
    assert prior[2] == pytest.approx(100 * 70 / 400)  # no persons: the city-wide share


# --- Essen ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def essen():
    st = load_stadtteile()
    zensus = aggregate_cells(load_zensus2011(), st, unit_id="stadtteil_nr",
                             columns=["personen", "nichtdeutsche", "sonstige_welt"])
    quellen = pd.read_csv(RAW_DIR / "stadtteil_einwohner_quellen.csv",
                          dtype={"stadtteil_nr": str})
    ew = est.stadtteil_einwohner(quellen, st)
    varianten = est.schaetz_varianten(zensus)
    detail = est.validierung_anteile(ew, st, varianten=varianten)
    return {"st": st, "ew": ew, "varianten": varianten, "detail": detail}


def test_leave_one_out_ranks_the_zensus_priors_first(essen):
    detail = essen["detail"]
    assert len(detail) == 8 * len(est.VARIANTEN) and set(detail["variante"]) == set(
        est.VARIANTEN)
    table = est.validierung_tabelle(detail)
    assert table.index[0] in ("zensus_sonstige_welt", "zensusverhaeltnis_sonstige_welt")
    assert table.loc["gleichverteilt", "rang"] == len(table)
    assert table.loc["zensusverhaeltnis_sonstige_welt", "mae"] < 0.5 * table.loc[
        "gleichverteilt", "mae"]
    # the uniform estimate underestimates every printed share: they are the highest
    uniform = detail[detail["variante"] == "gleichverteilt"]
    assert (uniform["fehler_pp"] < 0).all()
    # each prediction is made without its own printed share (else the error would be ~0)
    assert (detail["fehler_pp"].abs() > 0.05).all()


def test_default_candidate_keeps_totals_and_printed_shares(essen):
    kw = essen["varianten"]["zensusverhaeltnis_sonstige_welt"]
    table = est.stadtteil_schaetzung(essen["ew"], essen["st"], **kw)
    est.validate_stadtteil_table(table, stadtteile=essen["st"],
                                 bezirk_statistik=seed.bezirk_statistik())
    printed = seed.betroffene_stadtteile().set_index("stadtteil_nr")["herkunft12_anteil_prozent"]
    got = table.set_index("stadtteil_nr").loc[printed.index, "herkunft12_anteil_prozent"]
    assert (got - printed).abs().max() <= 0.05 + 1e-9
    assert table["hinweis"].str.contains("Sonstige Welt").sum() == 42


def _doc_rows(header: str) -> dict[str, list[str]]:
    text = DOC.read_text(encoding="utf-8")
    block = text[text.index(header):].split("\n\n")[0].splitlines()[2:]
    rows = {}
    for line in block:
        cells = [c.strip() for c in line.strip("|").split("|")]
        code = re.search(r"`([a-z_]+)`", cells[1]).group(1)
        rows[code] = cells
    return rows


def test_docs_table_of_share_errors_is_current(essen):
    table = est.validierung_tabelle(essen["detail"])
    doc = _doc_rows("| Rang | Variante | Beschreibung | MAE (Pp.)")
    assert set(doc) == set(table.index)
    for code, r in table.iterrows():
        cells = doc[code]
        assert cells[0] == str(r["rang"]), code
        assert cells[3:7] == [fmt_number(r[c], 2) for c in ("mae", "rmse", "max_abs", "bias")]


@pytest.mark.slow
def test_docs_table_of_inhabitant_errors_is_current(essen):
    doc = _doc_rows("| Rang | Variante | MAE (Personen)")
    varianten = {k: essen["varianten"][k] for k in doc}
    detail = est.validierung_einwohner(essen["ew"], essen["st"], varianten=varianten)
    assert detail["stadtteil_nr"].nunique() == 46
    table = est.validierung_tabelle(detail, fehler="fehler")
    for code, r in table.iterrows():
        cells = doc[code]
        assert cells[0] == str(r["rang"]), code
        assert cells[2:6] == [fmt_number(r[c], 0) for c in ("mae", "rmse", "max_abs", "bias")]
    assert table.loc["zensusverhaeltnis_sonstige_welt", "mae"] < table.loc[
        "gleichverteilt", "mae"] / 2
