"""Tests of gis_planning.analysis.uncertainty: hand values and exact coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from gis_planning import InputError
from gis_planning.analysis.uncertainty import (
    add_intervals,
    exact_binomial_interval,
    poisson_interval,
    small_units,
    wilson_interval,
)


def test_wilson_by_hand():
    # x = 8 of n = 40, z = 1.959964: centre (0.2 + z²/80) / (1 + z²/40)
    z = stats.norm.ppf(0.975)
    p, n = 0.2, 40
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    lo, hi = wilson_interval([8], [40])
    assert lo[0] == pytest.approx(centre - half, abs=1e-12)
    assert hi[0] == pytest.approx(centre + half, abs=1e-12)
    # definition: the limits are the p where the score statistic equals z
    for lim in (lo[0], hi[0]):
        assert abs(0.2 - lim) / np.sqrt(lim * (1 - lim) / 40) == pytest.approx(z, abs=1e-9)
    lo, hi = wilson_interval([0, 10, 0], [10, 10, 0])
    assert lo[0] == 0 and hi[0] == pytest.approx(0.27753, abs=1e-5)
    assert hi[1] == pytest.approx(1) and lo[1] == pytest.approx(1 - 0.27753, abs=1e-5)
    assert np.isnan(lo[2]) and np.isnan(hi[2])


def _coverage(lo, hi, n, p):
    k = np.arange(n + 1)
    inside = (lo <= p) & (p <= hi)
    return float(stats.binom.pmf(k, n, p)[inside].sum())


@pytest.mark.parametrize("n", [50, 2000])
def test_binomial_coverage_computed_exactly(n):
    k = np.arange(n + 1)
    wl, wh = wilson_interval(k, np.full(n + 1, n))
    cl, ch = exact_binomial_interval(k, np.full(n + 1, n))
    for p in (0.03, 0.1, 0.2, 0.35, 0.5):
        assert _coverage(cl, ch, n, p) >= 0.95  # Clopper-Pearson: never below nominal
        assert _coverage(wl, wh, n, p) >= 0.92  # Wilson: close to nominal
    # the naive Wald interval under-covers for small n and small p (what Wilson fixes)
    ph = k / n
    wald = 1.96 * np.sqrt(ph * (1 - ph) / n)
    if n == 50:
        assert _coverage(ph - wald, ph + wald, n, 0.03) < 0.80


def test_poisson_interval_exact_and_rate():
    lo, hi = poisson_interval([0, 1, 10])
    assert lo[0] == 0 and hi[0] == pytest.approx(3.6889, abs=1e-4)
    assert (lo[1], hi[1]) == pytest.approx((0.02532, 5.5716), abs=1e-4)
    assert (lo[2], hi[2]) == pytest.approx((4.7954, 18.390), abs=1e-3)
    k = np.arange(0, 400)
    lo, hi = poisson_interval(k)
    for mu in (0.5, 3.0, 12.0, 80.0):
        inside = (lo <= mu) & (mu <= hi)
        assert stats.poisson.pmf(k, mu)[inside].sum() >= 0.95
    rl, rh = poisson_interval([10], exposure=[2000])
    assert (rl[0], rh[0]) == pytest.approx((4.7954 / 2000, 18.390 / 2000), rel=1e-4)
    rl, _ = poisson_interval([1], exposure=[0])
    assert np.isnan(rl[0])


def test_add_intervals_columns_and_flag():
    frame = pd.DataFrame({"gruppe": [5, 120, 0], "ew": [40, 3000, 0]}, index=list("abc"))
    out = add_intervals(frame, "gruppe", base="ew", name="anteil", scale=100)
    assert list(out.columns) == ["gruppe", "ew", "anteil_ki_unten", "anteil_ki_oben",
                                 "kleine_einheit"]
    lo, _ = wilson_interval([5], [40])
    assert out.loc["a", "anteil_ki_unten"] == pytest.approx(lo[0] * 100)
    assert out["kleine_einheit"].tolist() == [True, False, True]
    assert out.attrs["konfidenzintervalle"]["anteil"]["methode"] == "Wilson"
    assert "anteil_ki_unten" not in frame  # input unchanged
    rates = pd.DataFrame({"plaetze": [30.0, 5.0], "kinder": [20.0, 100.0]})
    out = add_intervals(rates, "plaetze", base="kinder")  # 30 places for 20 children: Poisson
    assert out.attrs["konfidenzintervalle"]["plaetze"]["methode"] == "Poisson (Garwood)"
    assert small_units([299, 300, np.nan]).tolist() == [True, False, True]


def test_validation():
    with pytest.raises(InputError, match="Zähler ≤ Nenner"):
        wilson_interval([5], [4])
    with pytest.raises(InputError, match="nicht negativ"):
        poisson_interval([-1])
    with pytest.raises(InputError, match="Konfidenzniveau"):
        wilson_interval([1], [2], confidence=95)
    with pytest.raises(InputError, match="braucht die Spalte mit der Bevölkerung"):
        add_intervals(pd.DataFrame({"x": [1]}), "x", kind="wilson")
