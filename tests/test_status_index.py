"""Tests of gis_planning.analysis.status_index with hand-computable values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gis_planning import InputError, SchemaError
from gis_planning.analysis.status_index import (
    STATUS_LABELS,
    Indicator,
    classify,
    dynamik_index,
    standardize,
    status_index,
)


@pytest.fixture
def units():
    # 6 Stadtteile; "F" is too small (below the floor of 300)
    return pd.DataFrame(
        {
            "sgb2": [5.0, 10.0, 15.0, 20.0, 25.0, 99.0],
            "alo": [2.0, 4.0, 6.0, 8.0, 10.0, 50.0],
            "abitur": [60.0, 50.0, 40.0, 30.0, 20.0, 0.0],
            "ew": [1000, 2000, 1000, 3000, 500, 100],
        },
        index=pd.Index(list("ABCDEF"), name="stadtteil"),
    )


def test_standardize_unweighted_and_weighted():
    v = pd.Series([1.0, 2.0, 3.0], name="v")
    z = standardize(v)
    assert z.tolist() == pytest.approx([-np.sqrt(1.5), 0.0, np.sqrt(1.5)])
    zw = standardize(v, weights=pd.Series([1.0, 1.0, 2.0]))
    mean = (1 + 2 + 6) / 4
    sd = np.sqrt((1 * (1 - mean) ** 2 + (2 - mean) ** 2 + 2 * (3 - mean) ** 2) / 4)
    assert zw.tolist() == pytest.approx([(x - mean) / sd for x in (1, 2, 3)])
    zm = standardize(v, mask=pd.Series([True, True, False]))
    assert zm.tolist()[:2] == pytest.approx([-1.0, 1.0])
    assert np.isnan(zm.iloc[2])


def test_status_index_by_hand(units):
    out = status_index(units, {"sgb2": +1, "alo": +1, "abitur": -1}, population="ew")
    assert list(out.columns) == [
        "z_sgb2",
        "z_alo",
        "z_abitur",
        "status_sum",
        "status_index",
        "status_class",
        "status_class_code",
        "included",
    ]
    assert out["included"].tolist() == [True] * 5 + [False]
    # the three indicators are perfectly collinear on A-E: signed z-scores are equal
    z = np.array([-2, -1, 0, 1, 2]) / np.sqrt(2)
    assert out["z_sgb2"].iloc[:5].tolist() == pytest.approx(z)
    assert out["z_abitur"].iloc[:5].tolist() == pytest.approx(-z)
    assert out["status_sum"].iloc[:5].tolist() == pytest.approx(z)
    assert out["status_index"].iloc[:5].tolist() == pytest.approx(z)
    # z = -1.414, -0.707, 0, 0.707, 1.414 -> hoch, mittel, mittel, mittel, niedrig
    assert out["status_class"].iloc[:5].tolist() == [
        "hoch",
        "mittel",
        "mittel",
        "mittel",
        "niedrig",
    ]
    assert out["status_class_code"].iloc[:5].tolist() == [1, 2, 2, 2, 3]
    assert pd.isna(out.loc["F", "status_index"])
    assert pd.isna(out.loc["F", "status_class"])
    assert pd.isna(out.loc["F", "status_class_code"])
    assert list(out["status_class"].cat.categories) == list(STATUS_LABELS)
    assert out["status_class"].cat.ordered


def test_weights_and_indicator_objects(units):
    spec = [Indicator("sgb2", 1, 3.0, "SGB-II-Quote"), Indicator("abitur", -1, 1.0)]
    out = status_index(units.iloc[:5], spec)
    z1 = standardize(units["sgb2"].iloc[:5])
    z2 = standardize(units["abitur"].iloc[:5])
    s = (3 * z1 - z2) / 4
    assert out["status_sum"].tolist() == pytest.approx(s.tolist())
    assert out["status_index"].tolist() == pytest.approx(standardize(s).tolist())
    tup = status_index(units.iloc[:5], {"sgb2": (1, 3.0), "abitur": (-1, 1.0)})
    pd.testing.assert_frame_equal(out, tup)


def test_population_weighted_changes_reference(units):
    a = status_index(units, {"sgb2": 1}, population="ew")
    b = status_index(units, {"sgb2": 1}, population="ew", weighted=True)
    pop = units["ew"].iloc[:5]
    mean = (units["sgb2"].iloc[:5] * pop).sum() / pop.sum()
    assert not np.allclose(a["z_sgb2"].iloc[:5], b["z_sgb2"].iloc[:5])
    assert (b["z_sgb2"].iloc[:5] * pop).sum() == pytest.approx(0.0, abs=1e-9)
    # the weighted city mean is the city's own quota, 15 %: C sits exactly on it
    assert mean == pytest.approx(15.0)
    assert b.loc["C", "z_sgb2"] == pytest.approx(0.0, abs=1e-12)


def test_classify_boundaries():
    s = pd.Series([-1.0, -0.99, 1.0, 1.2, 1.5, 1.51, np.nan])
    c = classify(s)
    assert c.tolist()[:6] == ["hoch", "mittel", "mittel", "niedrig", "niedrig", "sehr niedrig"]
    assert pd.isna(c.iloc[6])
    with pytest.raises(InputError, match="genau eine Klasse mehr"):
        classify(s, thresholds=[0.0], labels=["a"])
    with pytest.raises(InputError, match="aufsteigen"):
        classify(s, thresholds=[1.0, 0.0], labels=["a", "b", "c"])


def test_dynamik_index(units):
    before = units.iloc[:5]
    after = before.assign(sgb2=before["sgb2"] + [0.0, 0.0, 0.0, 0.0, 10.0])
    out = dynamik_index(before, after, {"sgb2": 1}, population="ew")
    assert out["dynamik_class"].tolist() == ["stabil"] * 4 + ["negativ"]
    assert out["dynamik_index"].iloc[4] == pytest.approx(2.0)  # one outlier of 5: z = 2
    with pytest.raises(SchemaError, match="dieselben Einheiten"):
        dynamik_index(before, after.iloc[::-1], {"sgb2": 1})


def test_validation(units):
    with pytest.raises(SchemaError, match="fehlt; vorhanden sind"):
        status_index(units, {"nope": 1})
    with pytest.raises(InputError, match="Richtung"):
        status_index(units, [Indicator("sgb2", 2)])
    with pytest.raises(InputError, match="--population"):
        status_index(units, {"sgb2": 1}, weighted=True)
    with pytest.raises(InputError, match="keine Streuung"):
        status_index(units.assign(c=1.0), {"c": 1})
    with pytest.raises(SchemaError, match="mindestens zwei"):
        status_index(units, {"sgb2": 1}, population="ew", min_population=5000)
    with pytest.raises(InputError, match="Keine Indikatoren"):
        status_index(units, {})
    with pytest.raises(InputError, match="Richtung"):
        status_index(units, {"sgb2": "hoch"})


def test_input_not_mutated(units):
    before = units.copy()
    status_index(units, {"sgb2": 1}, population="ew", weighted=True)
    pd.testing.assert_frame_equal(units, before)


# --- Berlin MSS 2021 -------------------------------------------------------------------------


@pytest.fixture
def planungsraeume():
    """7 units: F is listed as an outlier, G has too few inhabitants; A-E make the index."""
    return pd.DataFrame(
        {
            "name": list("ABCDEFG"),
            "S1": [2.0, 4.0, 6.0, 8.0, 10.0, 40.0, 1.0],
            "S3": [10.0, 10.0, 10.0, 10.0, 20.0, 60.0, 1.0],
            "S4": [5.0, 10.0, 15.0, 20.0, 50.0, 70.0, 1.0],
            "D1": [-2.0, 0.0, 0.0, 0.0, 2.0, 9.0, 0.0],
            "D3": [-1.0, 0.0, 0.0, 0.0, 1.0, 9.0, 0.0],
            "D4": [-3.0, 0.0, 0.0, 0.0, 3.0, 9.0, 0.0],
            "einwohner": [1000, 2000, 1500, 800, 300, 5000, 299],
        },
        index=pd.Index([f"pr{i}" for i in range(7)], name="pr_id"),
    )


def _z(v):
    v = np.asarray(v, dtype=float)
    return (v - v.mean()) / np.sqrt(((v - v.mean()) ** 2).mean())  # population SD


def test_mss2021_by_hand(planungsraeume):
    from gis_planning.analysis.status_index import mss_index

    out = mss_index(planungsraeume, outliers=["F"], id_column="name")
    inc = out["included"]
    assert inc.tolist() == [True] * 5 + [False, False]
    assert out.loc["pr5", "ausschluss"] == "als Ausreißer ausgeschlossen"
    assert out.loc["pr6", "ausschluss"] == "unter 300 Einwohnern"  # 299 < 300; 300 is in
    assert (out.loc[inc, "ausschluss"] == "").all()
    t = planungsraeume.iloc[:5]
    # z over A-E with the population SD: S1 = 2..10 -> mean 6, SD sqrt(8)
    assert out["z_S1"].iloc[:5].tolist() == pytest.approx(
        [(v - 6) / np.sqrt(8) for v in (2, 4, 6, 8, 10)])
    s = _z(t["S1"]) + _z(t["S3"]) + _z(t["S4"])
    assert out["status_sum"].iloc[:5].tolist() == pytest.approx(s.tolist())
    x = _z(s)
    assert out["status_index"].iloc[:5].tolist() == pytest.approx(x.tolist())
    # by hand: z(S3) = [-0.5] * 4 + [2]; z(S4) = [-15, -10, -5, 0, 30] / sqrt(250); the sums
    # [-2.8629, -1.8396, -0.8162, 0.2071, 5.3116] have mean 0 and SD 2.8462
    assert x.round(4).tolist() == [-1.0059, -0.6463, -0.2868, 0.0728, 1.8662]
    assert out["status_class"].iloc[:5].tolist() == [
        "hoch", "mittel", "mittel", "mittel", "sehr niedrig"]
    assert out["status_class_code"].iloc[:5].tolist() == [1, 2, 2, 2, 4]
    d = _z(_z(t["D1"]) + _z(t["D3"]) + _z(t["D4"]))
    assert out["dynamik_index"].iloc[:5].tolist() == pytest.approx(d.tolist())
    assert d.round(4).tolist() == [-1.5811, 0.0, 0.0, 0.0, 1.5811]
    assert out["dynamik_class"].iloc[:5].tolist() == [
        "positiv", "stabil", "stabil", "stabil", "negativ"]
    assert out["mss_gruppe"].iloc[:5].tolist() == [
        "hoch / positiv", "mittel / stabil", "mittel / stabil", "mittel / stabil",
        "sehr niedrig / negativ"]
    assert out["mss_gruppe_code"].iloc[:5].tolist() == [1, 5, 5, 5, 12]
    assert out.loc[["pr5", "pr6"], "status_index"].isna().all()
    assert out.loc[["pr5", "pr6"], "mss_gruppe"].isna().all()
    assert out.attrs["mss"]["n_included"] == 5


def test_mss_class_boundaries():
    from gis_planning.analysis.status_index import mss_dynamik_class, mss_status_class

    x = pd.Series([-1.0000001, -1.0, 1.0, 1.0000001, 1.5, 1.5000001, np.nan])
    # MSS: hoch x < -1 (so -1 is mittel, unlike classify()'s right-closed intervals)
    assert mss_status_class(x).tolist()[:6] == [
        "hoch", "mittel", "mittel", "niedrig", "niedrig", "sehr niedrig"]
    assert pd.isna(mss_status_class(x).iloc[6])
    assert classify(pd.Series([-1.0])).tolist() == ["hoch"]  # the generic classifier differs
    assert mss_dynamik_class(x).tolist()[:4] == ["positiv", "stabil", "stabil", "negativ"]


def test_mss_validation(planungsraeume):
    from gis_planning.analysis.status_index import mss_index

    with pytest.raises(InputError, match="Ausreißer X nicht gefunden"):
        mss_index(planungsraeume, outliers=["X"], id_column="name")
    with pytest.raises(InputError, match="Unbekanntes Verfahren"):
        mss_index(planungsraeume, preset="mss1999")
    with pytest.raises(SchemaError, match="fehlt; vorhanden sind"):
        mss_index(planungsraeume.drop(columns="D4"))
    only = mss_index(planungsraeume, dynamik_indicators=())
    assert "dynamik_index" not in only and "mss_gruppe" not in only


def test_mss_cli_on_a_users_table(tmp_path, planungsraeume):
    from click.testing import CliRunner

    from gis_planning.cli import cli

    path = tmp_path / "pr.csv"
    planungsraeume.reset_index().to_csv(path, index=False)
    runner = CliRunner()
    res = runner.invoke(cli, ["status", "--table", str(path), "--preset", "mss2021",
                              "--status-indicators", "S1,S3,S4", "--dynamik-indicators",
                              "D1,D3,D4", "--ausreisser", "F", "--id-column", "name"])
    assert res.exit_code == 0, res.output
    assert "sehr niedrig / negativ" in res.output and "hoch / positiv" in res.output
    assert "5 Einheiten mit Index, 2 ohne" in res.output
    out = tmp_path / "mss.csv"
    res = runner.invoke(cli, ["status", "--table", str(path), "--preset", "mss2021",
                              "--ausreisser", "F", "--id-column", "name", "-o", str(out)])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out)
    assert got.loc[got["name"] == "G", "ausschluss"].item() == "unter 300 Einwohnern"
    bad = runner.invoke(cli, ["status", "--table", str(path), "--status-indicators", "S1"])
    assert bad.exit_code == 2 and "--preset" in bad.output
