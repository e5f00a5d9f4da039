"""Rounding that keeps totals: Hamilton's largest-remainder method."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ._errors import InputError

__all__ = ["largest_remainder"]


def largest_remainder(weights: Mapping | pd.Series | np.ndarray | list, total: int) -> np.ndarray:
    """Split the integer ``total`` in proportion to ``weights`` (Hamilton's method).

    Each part gets the floor of its quota ``total * w_i / sum(w)``; the units still missing go
    to the largest fractional remainders (ties: first in order). The parts sum exactly to
    ``total`` and each differs from its quota by less than 1. A ``total`` of 0 over all-zero
    weights gives zeros.

    Raises
    ------
    InputError
        If weights are negative or not finite, or all zero while ``total`` is not 0.

    Examples
    --------
    >>> largest_remainder([1, 1, 1], 10).tolist()
    [4, 3, 3]
    """
    vals = list(weights.values()) if isinstance(weights, Mapping) else weights
    w = np.asarray(vals, dtype=float)
    if total < 0 or (w < 0).any() or not np.isfinite(w).all():
        raise InputError("`weights` must be finite and non-negative, and `total` >= 0.")
    if w.sum() <= 0:
        if total == 0:
            return np.zeros(len(w), dtype=np.int64)
        raise InputError(f"cannot distribute {total} over weights that are all zero.")
    quota = w / w.sum() * total
    base = np.floor(quota + 1e-9).astype(np.int64)
    base = np.minimum(base, np.ceil(quota).astype(np.int64))
    rest = int(total - base.sum())
    order = np.argsort(-(quota - base), kind="stable")
    base[order[:rest]] += 1
    return base
