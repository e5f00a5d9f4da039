"""Rounding that keeps totals: Hamilton's largest-remainder method, in exact arithmetic."""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from numbers import Rational

import numpy as np
import pandas as pd

from ._errors import InputError

__all__ = ["largest_remainder"]

_INT64_MAX = int(np.iinfo(np.int64).max)


def _as_fraction(value: object) -> Fraction:
    """Exact rational value of a weight (floats are binary fractions, so this is exact)."""
    if isinstance(value, bool | np.bool_):
        raise InputError(f"Die Gewichte müssen Zahlen sein, nicht der Wahrheitswert {value!r}.")
    if isinstance(value, Rational):
        return Fraction(value)
    if isinstance(value, np.integer):
        return Fraction(int(value))
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"Die Gewichte müssen Zahlen sein, nicht {value!r}.") from None
    if not math.isfinite(f):
        raise InputError("Die Gewichte müssen endlich und nicht negativ sein.")
    return Fraction(f)


def largest_remainder(
    weights: Mapping | pd.Series | np.ndarray | list, total: int
) -> np.ndarray:
    """Split the integer ``total`` in proportion to ``weights`` (Hamilton's method).

    Each part gets the floor of its quota ``total * w_i / sum(w)``; the units still missing go
    to the largest fractional remainders. Ties among equal remainders go to the larger quota,
    then to the earlier position, so the result is deterministic. The parts sum exactly to
    ``total`` and each differs from its quota by less than 1. A ``total`` of 0 gives zeros.

    Parameters
    ----------
    weights : mapping, Series, array or list
        Non-negative finite numbers: floats, integers (any size) or :class:`fractions.Fraction`.
    total : int
        Non-negative whole number of any size (a Python ``int`` may exceed 2**63).

    Returns
    -------
    numpy.ndarray
        ``int64`` parts, or an ``object`` array of Python ints when a part does not fit into
        ``int64``.

    Raises
    ------
    InputError
        If weights are negative or not finite, or all zero while ``total`` is not 0.

    Notes
    -----
    All arithmetic is exact: every weight is turned into a fraction (a float is a binary
    fraction, so this loses nothing), the weights are brought to a common denominator and
    quotas, floors and remainders are computed with Python integers. Floating-point quotas
    lose exactness once ``total`` passes about 2**53 (9·10^15); this does not.

    Examples
    --------
    >>> largest_remainder([1, 1, 1], 10).tolist()
    [4, 3, 3]
    >>> largest_remainder([1, 2], 10**18 + 1).tolist()
    [333333333333333334, 666666666666666667]
    """
    if isinstance(total, bool) or not isinstance(total, int | np.integer) or total < 0:
        raise InputError(f"Der Betrag muss eine ganze Zahl ab 0 sein, nicht {total!r}.")
    total = int(total)
    vals = list(weights.values()) if isinstance(weights, Mapping) else weights
    if isinstance(vals, pd.Series):
        vals = vals.tolist()
    arr = np.asarray(vals, dtype=object)
    if arr.ndim != 1 or len(arr) == 0:
        raise InputError("Die Gewichte müssen eine nicht leere Liste von Zahlen sein.")
    fr = [_as_fraction(v) for v in arr]
    if any(f < 0 for f in fr):
        raise InputError("Die Gewichte müssen endlich und nicht negativ sein.")
    n = len(fr)
    if total == 0:
        return np.zeros(n, dtype=np.int64)
    den = math.lcm(*(f.denominator for f in fr))
    num = [f.numerator * (den // f.denominator) for f in fr]
    big = sum(num)
    if big <= 0:
        raise InputError(f"{total} lässt sich nicht verteilen: alle Gewichte sind 0.")
    scaled = [total * k for k in num]  # quota_i = scaled_i / big
    base = [s // big for s in scaled]
    remainder = [s - b * big for s, b in zip(scaled, base, strict=True)]
    rest = total - sum(base)
    order = sorted(range(n), key=lambda i: (-remainder[i], -scaled[i], i))
    for i in order[:rest]:
        base[i] += 1
    if max(base) <= _INT64_MAX:
        return np.array(base, dtype=np.int64)
    return np.array(base, dtype=object)
