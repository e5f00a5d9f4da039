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
    to the largest fractional remainders. Ties among equal remainders go to the larger quota,
    then to the earlier position, so the result is deterministic. The parts sum exactly to
    ``total`` and each differs from its quota by less than 1. A ``total`` of 0 gives zeros.

    Raises
    ------
    InputError
        If weights are negative or not finite, or all zero while ``total`` is not 0.

    Examples
    --------
    >>> largest_remainder([1, 1, 1], 10).tolist()
    [4, 3, 3]
    """
    if isinstance(total, bool) or not isinstance(total, int | np.integer) or total < 0:
        raise InputError(f"`total` must be a non-negative whole number, got {total!r}.")
    vals = list(weights.values()) if isinstance(weights, Mapping) else weights
    w = np.asarray(vals, dtype=float)
    if w.ndim != 1 or len(w) == 0:
        raise InputError("`weights` must be a non-empty 1-D sequence.")
    if (w < 0).any() or not np.isfinite(w).all():
        raise InputError("`weights` must be finite and non-negative.")
    if total == 0:
        return np.zeros(len(w), dtype=np.int64)
    if w.sum() <= 0:
        raise InputError(f"cannot distribute {total} over weights that are all zero.")
    quota = w / w.sum() * total
    base = np.minimum(np.floor(quota + 1e-9), np.ceil(quota)).astype(np.int64)
    rest = int(total - base.sum())
    remainder = np.round(quota - base, 9)
    order = np.lexsort((np.arange(len(w)), -quota, -remainder))
    base[order[:rest]] += 1
    return base
