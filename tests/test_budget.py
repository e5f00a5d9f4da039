"""Tests of gis_planning.planning.budget: exact sums, hand-computed cases, seed figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gis_planning._errors import InputError, SchemaError
from gis_planning.planning import budget
from gis_planning.rounding import largest_remainder

# Vorlage 1846/2016/5, 3.1.1: people from the 12 main countries of origin per Bezirk
# (FB 12, 30.09.2016) and the share of project flats for refugees (%).
SEED = pd.DataFrame(
    {
        "herkunft12": [4795, 677, 4162, 2158, 2995, 2206, 2981, 736, 577],
        "projektwohnungen_pct": [22.3, 1.8, 18.6, 10.4, 11.0, 10.4, 19.0, 4.5, 2.4],
    },
    index=pd.Index(["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX"], name="bezirk"),
)


def test_hamilton_hand_case():
    # quotas 12.5, 37.5, 50 -> floors 12, 37, 50; one euro left, tie of remainders 0.5 goes
    # to the larger quota (37.5)
    assert largest_remainder([12.5, 37.5, 50.0], 100).tolist() == [12, 38, 50]
    assert largest_remainder([1, 1, 1], 100).tolist() == [34, 33, 33]
    assert largest_remainder([0, 5], 0).tolist() == [0, 0]


def test_allocate_hand_case():
    table = pd.DataFrame({"a": [1.0, 1.0, 2.0], "b": [0.0, 1.0, 1.0]}, index=["X", "Y", "Z"])
    out = budget.allocate_budget(table, total=100, weights={"a": 1, "b": 1})
    assert out["anteil_a"].tolist() == pytest.approx([0.25, 0.25, 0.5])
    assert out["beitrag_b"].tolist() == pytest.approx([0.0, 0.25, 0.25])
    assert out["bedarfsindex"].tolist() == pytest.approx([0.125, 0.375, 0.5])
    assert out["betrag_exakt"].tolist() == pytest.approx([12.5, 37.5, 50.0])
    assert out["betrag"].tolist() == [12, 38, 50]
    assert out.attrs["weights"] == {"a": 0.5, "b": 0.5}
    # base share: 40 % split equally (13.33 each), 60 % by need
    out = budget.allocate_budget(table, total=100, weights={"a": 1, "b": 1}, base_share=0.4)
    assert out["betrag_exakt"].tolist() == pytest.approx([40 / 3 + 7.5, 40 / 3 + 22.5,
                                                          40 / 3 + 30])
    assert out["betrag"].sum() == 100


def test_seed_figures_by_origin_only():
    out = budget.allocate_budget(SEED, total=1_000_000, weights={"herkunft12": 1.0})
    # by hand: 1e6 * x / 21287, floors, the 4 euros left go to I (.85), IX (.745),
    # VII (.521), II (.448)
    assert out["betrag"].tolist() == [225255, 31804, 195518, 101376, 140696, 103631, 140039,
                                      34575, 27106]
    assert out["betrag"].sum() == 1_000_000
    assert out.index.equals(SEED.index)


def test_seed_two_terms_sum_and_order():
    out = budget.allocate_budget(SEED, weights={"herkunft12": 0.6, "projektwohnungen_pct": 0.4})
    assert out["betrag"].sum() == 1_000_000
    assert out["betrag"].idxmax() == "I" and out["betrag"].idxmin() == "IX"
    assert (out["betrag"] - out["betrag_exakt"]).abs().max() < 1
    assert "0.6 * anteil_herkunft12" in out.attrs["formula"]


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.floats(min_value=0, max_value=1e7, allow_nan=False), min_size=1,
                    max_size=30).filter(lambda v: sum(v) > 0),
    total=st.integers(min_value=0, max_value=10**9),
)
def test_hamilton_sum_is_exact(values, total):
    out = largest_remainder(values, total)
    assert int(out.sum()) == total
    quota = np.asarray(values) / np.sum(values) * total
    assert np.all(np.abs(out - quota) < 1 + 1e-6 * max(total, 1))
    assert (out >= 0).all()


@settings(max_examples=100, deadline=None)
@given(
    data=st.lists(st.tuples(st.integers(0, 10**6), st.floats(0, 100, allow_nan=False)),
                  min_size=1, max_size=12).filter(
        lambda r: sum(a for a, _ in r) > 0 and sum(b for _, b in r) > 0),
    wa=st.floats(0.01, 10),
    total=st.integers(1, 10**8),
)
def test_allocate_sum_is_exact(data, wa, total):
    table = pd.DataFrame(data, columns=["a", "b"])
    out = budget.allocate_budget(table, total=total, weights={"a": wa, "b": 1.0})
    assert int(out["betrag"].sum()) == total
    assert out["bedarfsindex"].sum() == pytest.approx(1.0)


def test_validation():
    with pytest.raises(SchemaError, match="'x'"):
        budget.allocate_budget(SEED, weights={"x": 1})
    with pytest.raises(InputError, match="Gewichte müssen ≥ 0"):
        budget.allocate_budget(SEED, weights={"herkunft12": -1})
    with pytest.raises(InputError, match="mindestens eine Spalte mit Gewicht"):
        budget.allocate_budget(SEED, weights={})
    with pytest.raises(InputError, match="Sockelanteil.*--sockel"):
        budget.allocate_budget(SEED, weights={"herkunft12": 1}, base_share=1.0)
    with pytest.raises(InputError, match="ergibt in Summe 0"):
        budget.allocate_budget(SEED.assign(z=0), weights={"z": 1})
    with pytest.raises(InputError, match="ohne Lücken"):
        budget.allocate_budget(SEED.assign(z=np.nan), weights={"z": 1})
    with pytest.raises(InputError, match="Betrag muss eine ganze Zahl"):
        largest_remainder([1, 2], -5)
    with pytest.raises(InputError, match="Betrag muss eine ganze Zahl"):
        largest_remainder([1, 2], 2.5)
