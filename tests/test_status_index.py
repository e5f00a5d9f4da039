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
    with pytest.raises(InputError, match="one entry more"):
        classify(s, thresholds=[0.0], labels=["a"])
    with pytest.raises(InputError, match="increase"):
        classify(s, thresholds=[1.0, 0.0], labels=["a", "b", "c"])


def test_dynamik_index(units):
    before = units.iloc[:5]
    after = before.assign(sgb2=before["sgb2"] + [0.0, 0.0, 0.0, 0.0, 10.0])
    out = dynamik_index(before, after, {"sgb2": 1}, population="ew")
    assert out["dynamik_class"].tolist() == ["stabil"] * 4 + ["negativ"]
    assert out["dynamik_index"].iloc[4] == pytest.approx(2.0)  # one outlier of 5: z = 2
    with pytest.raises(SchemaError, match="same units"):
        dynamik_index(before, after.iloc[::-1], {"sgb2": 1})


def test_validation(units):
    with pytest.raises(SchemaError, match="lacks the column"):
        status_index(units, {"nope": 1})
    with pytest.raises(InputError, match="direction"):
        status_index(units, [Indicator("sgb2", 2)])
    with pytest.raises(InputError, match="needs `population`"):
        status_index(units, {"sgb2": 1}, weighted=True)
    with pytest.raises(InputError, match="no variation"):
        status_index(units.assign(c=1.0), {"c": 1})
    with pytest.raises(SchemaError, match="at least two"):
        status_index(units, {"sgb2": 1}, population="ew", min_population=5000)
    with pytest.raises(InputError, match="empty"):
        status_index(units, {})
    with pytest.raises(InputError, match="direction"):
        status_index(units, {"sgb2": "hoch"})


def test_input_not_mutated(units):
    before = units.copy()
    status_index(units, {"sgb2": 1}, population="ew", weighted=True)
    pd.testing.assert_frame_equal(units, before)
