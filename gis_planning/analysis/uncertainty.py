"""Small-area uncertainty: confidence intervals for shares, counts and rates per unit.

A share of 40 % means little in a Stadtteil of 25 residents and a lot in one of 25,000. This
module puts an interval beside every per-unit figure and flags units below a stated size:

* :func:`wilson_interval` and :func:`exact_binomial_interval` for shares ``x / n``
  (group members among residents);
* :func:`poisson_interval` for counts and rates per population (cases, places per 1,000);
* :func:`small_units` for the size flag;
* :func:`add_intervals` adds the columns ``<name>_ki_unten`` / ``<name>_ki_oben`` (and the
  flag ``kleine_einheit``) to a table, the form the analysis results use.

The intervals cover sampling noise of the counts (every resident a random draw), not the error
of an estimated input table; where counts are themselves estimates the interval is a lower
bound on the real uncertainty (see the estimate's own error).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._errors import InputError

__all__ = [
    "DEFAULT_MIN_SIZE",
    "add_intervals",
    "exact_binomial_interval",
    "poisson_interval",
    "small_units",
    "wilson_interval",
]

#: Units with fewer residents than this are flagged (MSS and the hotspot floor use 300).
DEFAULT_MIN_SIZE = 300

IntervalKind = Literal["auto", "wilson", "exact", "poisson"]


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise InputError(
            f"Das Konfidenzniveau muss zwischen 0 und 1 liegen (z. B. 0.95), nicht {confidence!r}."
        )
    return float(stats.norm.ppf(0.5 + confidence / 2))


def _counts(successes: Any, trials: Any) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    x, n = np.broadcast_arrays(x, n)
    ok = np.isfinite(x) & np.isfinite(n)
    if (x[ok] < 0).any() or (n[ok] < 0).any():
        raise InputError("Anzahlen und Grundgesamtheiten müssen nicht negativ sein.")
    if (x[ok] > n[ok] * (1 + 1e-12) + 1e-9).any():
        raise InputError(
            "Ein Anteil braucht Zähler ≤ Nenner; in mindestens einer Einheit ist die Gruppe "
            "größer als die Bevölkerung (für Raten über 1 das Poisson-Intervall verwenden)."
        )
    return x.astype(float), n.astype(float)


def wilson_interval(
    successes: Any, trials: Any, *, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a share ``successes / trials``.

    Parameters
    ----------
    successes, trials : array-like
        Group members and residents per unit (non-integer estimated counts are accepted).
    confidence : float, default 0.95

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Lower and upper limit of the share (0-1); NaN where ``trials`` is 0 or missing.

    Notes
    -----
    With :math:`\\hat p = x/n` and :math:`z` the normal quantile (Wilson 1927)::

        centre = (p + z²/(2n)) / (1 + z²/n)
        half   = z / (1 + z²/n) * sqrt(p (1 - p) / n + z² / (4 n²))

    Unlike the textbook ``p ± z sqrt(p(1-p)/n)`` it never leaves [0, 1] and does not collapse
    to a point at 0 % or 100 %; its coverage stays close to nominal for small ``n``
    (Brown, Cai & DasGupta 2001).

    Examples
    --------
    >>> lo, hi = wilson_interval(0, 10)
    >>> round(float(lo), 4), round(float(hi), 4)
    (0.0, 0.2775)
    """
    z = _z(confidence)
    x, n = _counts(successes, trials)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        z2n = z * z / n
        centre = (p + z2n / 2) / (1 + z2n)
        half = z / (1 + z2n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    bad = ~(n > 0)
    lo = np.where(bad, np.nan, np.clip(centre - half, 0.0, 1.0))
    hi = np.where(bad, np.nan, np.clip(centre + half, 0.0, 1.0))
    return lo, hi


def exact_binomial_interval(
    successes: Any, trials: Any, *, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Clopper-Pearson ("exact") interval of a share; never covers less than ``confidence``.

    Notes
    -----
    ``lo = Beta(a/2; x, n - x + 1)``, ``hi = Beta(1 - a/2; x + 1, n - x)`` with
    ``a = 1 - confidence`` (Clopper & Pearson 1934); 0 and 1 at the edges. Wider than
    :func:`wilson_interval`; use it where a guaranteed minimum coverage matters.
    """
    _z(confidence)
    x, n = _counts(successes, trials)
    a = 1 - confidence
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.where(x > 0, stats.beta.ppf(a / 2, x, n - x + 1), 0.0)
        hi = np.where(x < n, stats.beta.ppf(1 - a / 2, x + 1, n - x), 1.0)
    bad = ~(n > 0)
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


def poisson_interval(
    counts: Any, *, exposure: Any = None, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) interval of a Poisson count, or of a rate ``counts / exposure``.

    Parameters
    ----------
    counts : array-like
        Observed counts (cases, places), non-negative.
    exposure : array-like, optional
        Population at risk (or area); the limits are divided by it. NaN where it is 0.
    confidence : float, default 0.95

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)

    Notes
    -----
    ``lo = chi2(a/2; 2k) / 2`` (0 for k = 0), ``hi = chi2(1 - a/2; 2k + 2) / 2`` (Garwood 1936);
    the coverage is at least ``confidence`` for every true mean. Non-integer counts use the
    continuous (gamma) extension.

    Examples
    --------
    >>> lo, hi = poisson_interval(0)
    >>> round(float(lo), 3), round(float(hi), 3)
    (0.0, 3.689)
    """
    _z(confidence)
    k = np.asarray(counts, dtype=float)
    if (k[np.isfinite(k)] < 0).any():
        raise InputError("Zählwerte für ein Poisson-Intervall müssen nicht negativ sein.")
    a = 1 - confidence
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.where(k > 0, stats.chi2.ppf(a / 2, 2 * k) / 2, 0.0)
        hi = stats.chi2.ppf(1 - a / 2, 2 * k + 2) / 2
    lo = np.where(np.isfinite(k), lo, np.nan)
    hi = np.where(np.isfinite(k), hi, np.nan)
    if exposure is not None:
        e = np.asarray(exposure, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            lo = np.where(e > 0, lo / e, np.nan)
            hi = np.where(e > 0, hi / e, np.nan)
    return lo, hi


def small_units(sizes: Any, *, min_size: float = DEFAULT_MIN_SIZE) -> np.ndarray:
    """True for units with fewer than ``min_size`` residents (or no size)."""
    s = np.asarray(sizes, dtype=float)
    return ~(s >= min_size)


def add_intervals(
    frame: pd.DataFrame,
    column: str,
    *,
    base: str | None = None,
    kind: IntervalKind = "auto",
    name: str | None = None,
    scale: float = 1.0,
    confidence: float = 0.95,
    min_size: float | None = DEFAULT_MIN_SIZE,
) -> pd.DataFrame:
    """Return a copy of ``frame`` with an interval for ``column`` (per ``base``) in every row.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per unit.
    column : str
        Count column (group members, cases).
    base : str, optional
        Residents (or population at risk). Without it the interval is for the count itself.
    kind : {"auto", "wilson", "exact", "poisson"}, default "auto"
        ``"auto"``: Wilson for shares (``column <= base`` everywhere), Poisson otherwise.
    name : str, optional
        Stem of the new columns; default ``column``.
    scale : float, default 1.0
        Multiply the limits (100 for percent, 1000 for "per 1,000").
    confidence : float, default 0.95
    min_size : float or None, default 300
        Adds ``kleine_einheit`` (``base`` below it) unless None.

    Returns
    -------
    pandas.DataFrame
        ``frame`` plus ``<name>_ki_unten``, ``<name>_ki_oben`` and ``kleine_einheit``;
        ``attrs["konfidenzintervalle"][name]`` names the method, level and size floor.

    Raises
    ------
    SchemaError
        Missing or non-numeric columns.
    InputError
        Negative counts, a share above 1 with ``kind="wilson"``/``"exact"``.
    """
    from .._validate import require_numeric

    require_numeric(frame, [c for c in (column, base) if c], name="frame")
    if kind not in ("auto", "wilson", "exact", "poisson"):
        raise InputError(
            f"Die Intervallart muss 'auto', 'wilson', 'exact' oder 'poisson' sein, nicht "
            f"{kind!r}."
        )
    x = frame[column].to_numpy(dtype=float)
    n = frame[base].to_numpy(dtype=float) if base else None
    use = kind
    if kind == "auto":
        share = n is not None and bool(np.all((x <= n) | ~np.isfinite(x) | ~np.isfinite(n)))
        use = "wilson" if share else "poisson"
    if use in ("wilson", "exact"):
        if n is None:
            raise InputError(
                f"Ein Anteils-Intervall ({use}) braucht die Spalte mit der Bevölkerung."
            )
        fn = wilson_interval if use == "wilson" else exact_binomial_interval
        lo, hi = fn(x, n, confidence=confidence)
    else:
        lo, hi = poisson_interval(x, exposure=n, confidence=confidence)
    stem = name or column
    out = frame.copy()
    out[f"{stem}_ki_unten"] = lo * scale
    out[f"{stem}_ki_oben"] = hi * scale
    if min_size is not None and n is not None:
        out["kleine_einheit"] = small_units(n, min_size=min_size)
    method = {"wilson": "Wilson", "exact": "Clopper-Pearson", "poisson": "Poisson (Garwood)"}[use]
    out.attrs = {**frame.attrs, "konfidenzintervalle": {
        **frame.attrs.get("konfidenzintervalle", {}),
        stem: {"methode": method, "niveau": confidence, "mindestgroesse": min_size},
    }}
    return out
