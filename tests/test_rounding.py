"""Tests of gis_planning.rounding.largest_remainder: exact for any integer total."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from gis_planning import InputError
from gis_planning.rounding import largest_remainder


def test_hand_cases_and_ties():
    assert largest_remainder([1, 1, 1], 10).tolist() == [4, 3, 3]
    assert largest_remainder([1, 3], 10).tolist() == [2, 8]
    assert largest_remainder({"a": 0.5, "b": 0.25, "c": 0.25}, 3).tolist() == [1, 1, 1]
    assert largest_remainder([0.0, 2.0], 0).tolist() == [0, 0]


def test_exact_above_1e15():
    total = 10**16 + 1
    assert largest_remainder([1, 2], total).tolist() == [3333333333333334, 6666666666666667]
    total = 3 * 10**17 + 2
    parts = largest_remainder([1, 1, 1], total)
    assert parts.dtype == np.int64 and parts.tolist() == [10**17 + 1, 10**17 + 1, 10**17]
    assert sum(int(v) for v in parts) == total
    # weights whose float sum is not exact: 0.1 + 0.2 != 0.3
    parts = largest_remainder([0.1, 0.2, 0.3], 6 * 10**15 + 3)
    exact = [Fraction(0.1), Fraction(0.2), Fraction(0.3)]
    quotas = [(6 * 10**15 + 3) * f / sum(exact) for f in exact]
    assert all(abs(int(p) - q) < 1 for p, q in zip(parts, quotas, strict=True))
    assert sum(int(v) for v in parts) == 6 * 10**15 + 3


def test_totals_beyond_int64_and_fractions():
    total = 10**30 + 7
    parts = largest_remainder([Fraction(1, 3), Fraction(2, 3)], total)
    assert parts.dtype == object and sum(parts) == total
    assert parts.tolist() == [(10**30 + 7) // 3 + 1, 2 * (10**30 + 7) // 3]
    assert largest_remainder([10**40, 10**40], 5).tolist() == [3, 2]


def test_float_quotas_were_wrong_above_1e15():
    # the float version gave [18272560430098892, 73090241720395568]: 4 too many in total
    total = 91_362_802_150_494_456
    parts = largest_remainder([2, 8], total)
    assert parts.tolist() == [18_272_560_430_098_891, 73_090_241_720_395_565]
    assert int(parts.sum()) == total


def test_validation():
    with pytest.raises(InputError, match="ganze Zahl ab 0"):
        largest_remainder([1, 2], -1)
    with pytest.raises(InputError, match="ganze Zahl ab 0"):
        largest_remainder([1, 2], 2.0)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="endlich und nicht negativ"):
        largest_remainder([1, -2], 3)
    with pytest.raises(InputError, match="endlich und nicht negativ"):
        largest_remainder([1, float("nan")], 3)
    with pytest.raises(InputError, match="alle Gewichte sind 0"):
        largest_remainder([0, 0], 3)
    with pytest.raises(InputError, match="nicht leere Liste"):
        largest_remainder([], 3)
