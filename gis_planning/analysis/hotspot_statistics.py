"""Local statistics on plain arrays: Gi*, local Moran's I, FDR q-values, empirical-Bayes rates.

The array layer of :mod:`gis_planning.analysis.hotspots` (which re-exports every name here);
split from it to keep modules small. The GeoDataFrame API (:func:`~.hotspots.getis_ord`,
:func:`~.hotspots.local_moran`) builds on these functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._errors import InputError
from ._permutation import _as_csr, _binary, permutation_pvalues
from .weights import SpatialWeights

__all__ = [
    "Alternative",
    "GiStarResult",
    "LocalMoranResult",
    "benjamini_hochberg",
    "empirical_bayes_rates",
    "gi_star_statistics",
    "local_moran_statistics",
]

Alternative = Literal["folded", "directed"]

# ---------------------------------------------------------------------------------------------
# Result containers
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GiStarResult:
    """Arrays of :func:`gi_star_statistics` (all of length n, NaN for islands).

    Attributes
    ----------
    g : G*_i statistic, ``sum_j w*_ij y_j / sum_j y_j`` (self included).
    z : analytical z-score (normality assumption), identical to ``esda.G_Local(...).Zs``.
    p_norm : two-sided normal p-value ``2 * (1 - Phi(|z|))``.
    p_sim : conditional permutation pseudo p-value (NaN if ``permutations=0``).
    """

    g: np.ndarray
    z: np.ndarray
    p_norm: np.ndarray
    p_sim: np.ndarray


@dataclass(frozen=True)
class LocalMoranResult:
    """Arrays of :func:`local_moran_statistics` (all of length n).

    Attributes
    ----------
    i : local Moran's I_i, identical to ``esda.Moran_Local(...).Is``.
    quadrant : 1 HH, 2 LH, 3 LL, 4 HL (PySAL scheme, ``esda.Moran_Local(...).q``).
    lag : spatial lag of the standardised value (row-standardised weights).
    p_sim : conditional permutation pseudo p-value (NaN for islands or ``permutations=0``).
    z_norm : z-score of I_i under conditional randomisation (normal approximation).
    p_norm : two-sided normal p-value ``2 * (1 - Phi(|z_norm|))`` (NaN for islands).
    """

    i: np.ndarray
    quadrant: np.ndarray
    lag: np.ndarray
    p_sim: np.ndarray
    z_norm: np.ndarray | None = None
    p_norm: np.ndarray | None = None


# ---------------------------------------------------------------------------------------------
# Multiple testing and smoothing
# ---------------------------------------------------------------------------------------------


def benjamini_hochberg(p: Any) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values), one per unit.

    Parameters
    ----------
    p : array-like of float
        p-values; NaN entries are not part of the family and stay NaN.

    Returns
    -------
    numpy.ndarray
        ``q`` with ``q_i <= alpha`` exactly for the units the BH step-up procedure rejects at
        false discovery rate ``alpha``.

    Notes
    -----
    With the ``m`` finite p-values sorted, ``p_(1) <= ... <= p_(m)``::

        q_(i) = min(1, min_{j >= i} m * p_(j) / j)

    (the step-up minimum makes ``q`` monotone in ``p``). This is the ``fdr_bh`` method of
    ``statsmodels.stats.multitest.multipletests`` and R's ``p.adjust(p, "BH")``. Unlike
    ``esda.fdr`` (one cut-off for the whole map) every unit gets its own q-value.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03, 0.2]).round(4).tolist()
    [0.04, 0.0533, 0.0533, 0.2]
    """
    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return q
    pv = p[ok]
    if (pv < 0).any() or (pv > 1).any():
        raise InputError("p-Werte müssen zwischen 0 und 1 liegen.")
    order = np.argsort(pv, kind="stable")
    ranked = pv[order] * m / np.arange(1, m + 1)
    stepped = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    q[ok] = out
    return q


def empirical_bayes_rates(events: Any, base: Any) -> np.ndarray:
    """Global empirical-Bayes smoothed rates (Marshall 1991).

    Parameters
    ----------
    events : array-like
        Event counts ``e_i`` (e.g. residents of a group).
    base : array-like
        Population at risk ``b_i`` (e.g. all residents), non-negative.

    Returns
    -------
    numpy.ndarray
        Smoothed rates; units with ``b_i = 0`` get the global rate.

    Notes
    -----
    Method-of-moments estimator of Marshall (1991), as in ``esda.smoothing.Empirical_Bayes``::

        r_i = e_i / b_i,   m = sum e / sum b,   bbar = sum b / n
        s2  = sum b_i (r_i - m)^2 / sum b  -  m / bbar
        w_i = s2 / (s2 + m / b_i)
        EB_i = w_i r_i + (1 - w_i) m

    Small units are pulled strongly towards the global rate ``m``, large ones keep their
    crude rate. Unlike esda, a negative variance estimate ``s2`` is set to 0 (Marshall's rule;
    every unit then gets ``m``) instead of giving weights outside [0, 1].

    References
    ----------
    Marshall, R. J. (1991). Mapping disease and mortality rates using empirical Bayes
    estimators. Applied Statistics 40(2), 283-294.
    """
    e = np.asarray(events, dtype=float).ravel()
    b = np.asarray(base, dtype=float).ravel()
    if e.shape != b.shape:
        raise InputError(f"Anzahlen ({e.size}) und Bevölkerung ({b.size}) müssen gleich "
                         f"viele Einheiten haben.")
    if not (np.isfinite(e).all() and np.isfinite(b).all()):
        raise InputError("Anzahlen und Bevölkerung dürfen keine fehlenden Werte haben; "
                         "füllen Sie sie oder lassen Sie diese Einheiten weg.")
    if (b < 0).any() or (e < 0).any():
        raise InputError("Anzahlen und Bevölkerung dürfen nicht negativ sein.")
    if b.sum() <= 0:
        raise InputError("Die Bevölkerung ist insgesamt 0; ein Gesamtanteil lässt sich nicht "
                         "berechnen.")
    m = e.sum() / b.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(b > 0, e / b, m)
        s2 = (b * (r - m) ** 2).sum() / b.sum() - m / b.mean()
        s2 = max(s2, 0.0)
        w = np.where(b > 0, s2 / (s2 + m / b), 0.0) if (s2 > 0 or m > 0) else np.ones_like(b)
    w = np.nan_to_num(w, nan=1.0)
    return w * r + (1.0 - w) * m


# ---------------------------------------------------------------------------------------------
# Statistics on arrays
# ---------------------------------------------------------------------------------------------


def gi_star_statistics(
    y: Any,
    w: SpatialWeights | Any,
    *,
    permutations: int = 999,
    seed: int | None = 0,
    alternative: Alternative = "folded",
    progress: Callable[..., Iterable] | None = None,
) -> GiStarResult:
    """Classic binary Getis-Ord Gi* (self included) with analytical and permutation inference.

    Parameters
    ----------
    y : array-like
        Non-negative values (counts, shares, rates), one per unit.
    w : SpatialWeights or sparse matrix
        Contiguity/neighbour structure; it is binarised and the self-weight set to 1.
    permutations : int, default 999
        0 skips the permutation test.
    seed : int or None, default 0
    alternative : {"folded", "directed"}, default "folded"
        See :func:`permutation_pvalues`.
    progress : callable, optional
        Wraps the permutation loop (``progress(iterable, desc=..., total=..., unit=...)``).

    Returns
    -------
    GiStarResult

    Notes
    -----
    With binary ``w*_ij`` (``w*_ii = 1``), ``W_i = sum_j w*_ij`` (neighbours + 1),
    ``ybar = sum y / n`` and ``s^2 = sum y^2 / n - ybar^2`` (Getis & Ord 1992; Ord & Getis
    1995)::

        G*_i  = sum_j w*_ij y_j / sum_j y_j
        E     = W_i / n
        Var   = W_i (n - W_i) / (n - 1) / n^2 * s^2 / ybar^2
        z_i   = (G*_i - E) / sqrt(Var)

    which equals the textbook ``(sum_j w*_ij y_j - ybar W_i) / (s sqrt((n W_i - W_i^2) /
    (n - 1)))`` and ``esda.G_Local(y, w, transform="B", star=True).Zs``. A unit whose window
    contains every unit has Var = 0: its z is set to 0 (p = 1). Islands get NaN.
    The permutation statistic keeps ``y_i`` and permutes the neighbours' values (esda's
    ``_g_local_star_crand``).
    """
    y = np.asarray(y, dtype=float).ravel()
    m = _as_csr(w)
    n = len(y)
    if m.shape != (n, n):
        raise InputError(f"Die Nachbarschaftsmatrix hat {m.shape[0]} Zeilen, die Werte aber "
                         f"{n} Einheiten.")
    if not np.isfinite(y).all():
        raise InputError("Die Werte enthalten fehlende oder unendliche Werte; füllen Sie sie "
                         "oder lassen Sie diese Einheiten weg.")
    if (y < 0).any():
        raise InputError(
            "Gi* braucht nicht negative Werte (Anzahlen, Anteile, Raten); für Werte, die "
            "negativ sein können, das lokale Moran's I verwenden (--method lisa)."
        )
    total = y.sum()
    if total <= 0:
        raise InputError("Die Werte sind alle 0; Gi* ist dann nicht definiert.")
    b = _binary(m)
    card = np.diff(b.indptr)
    wi = card + 1.0
    g = (y + b @ y) / total
    ybar = total / n
    s2 = (y**2).sum() / n - ybar**2
    expected = wi / n
    var = wi * (n - wi) / (n - 1) / n**2 * s2 / ybar**2
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, (g - expected) / np.sqrt(var), 0.0)
    p_norm = 2.0 * stats.norm.sf(np.abs(z))
    if permutations:
        p_sim = permutation_pvalues(
            y, b, permutations=permutations, seed=seed, alternative=alternative,
            progress=progress,
        )
        p_sim = np.where(var > 0, p_sim, 1.0)
    else:
        p_sim = np.full(n, np.nan)
    island = card == 0
    for arr in (g, z, p_norm, p_sim):
        arr[island] = np.nan
    return GiStarResult(g=g, z=z, p_norm=p_norm, p_sim=p_sim)


def local_moran_statistics(
    y: Any,
    w: SpatialWeights | Any,
    *,
    permutations: int = 999,
    seed: int | None = 0,
    alternative: Alternative = "folded",
    progress: Callable[..., Iterable] | None = None,
) -> LocalMoranResult:
    """Local Moran's I with row-standardised weights and conditional permutation inference.

    Parameters
    ----------
    y : array-like
        Values, one per unit.
    w : SpatialWeights or sparse matrix
        Weights; they are row-standardised (each row sums to 1).
    permutations : int, default 999
        0 skips the permutation test (``p_norm`` is always computed).
    seed : int or None, default 0
    alternative : {"folded", "directed"}, default "folded"
    progress : callable, optional
        Wraps the permutation loop (``progress(iterable, desc=..., total=..., unit=...)``).

    Returns
    -------
    LocalMoranResult

    Notes
    -----
    Anselin (1995), in esda's scaling: ``z = (y - ybar) / sd(y)`` (population sd),
    ``lag_i = sum_j w_ij z_j`` with row-standardised ``w``::

        I_i = (n - 1) z_i lag_i / sum_j z_j^2

    Quadrants (PySAL, ``esda.Moran_Local(...).q``): 1 HH (z > 0, lag > 0), 2 LH
    (z <= 0, lag > 0), 3 LL (z <= 0, lag <= 0), 4 HL (z > 0, lag <= 0). Islands have lag 0,
    I = 0 and no p-value.

    Normal approximation (``z_norm``, ``p_norm``): under conditional randomisation (``z_i``
    fixed, the others a random permutation) the lag is a weighted sample without replacement
    from the ``N = n - 1`` other values, with mean ``mu_i = -z_i / N`` and population variance
    ``s_i^2 = (sum z^2 - z_i^2) / N - mu_i^2``::

        E[lag_i]   = W_i mu_i,         W_i = sum_j w_ij
        Var[lag_i] = s_i^2 N / (N - 1) (sum_j w_ij^2 - W_i^2 / N)

    (Sokal, Oden & Thomson 1998, eq. A7-A8, written for the lag), and ``z_norm = sign(z_i)
    (lag_i - E) / sd``. It is the z of I_i itself, since I_i is ``z_i`` times the lag.
    The permutation distribution is skewed for units with few neighbours, so the normal
    p-value is an approximation, used only where enough permutations are impractical.
    """
    y = np.asarray(y, dtype=float).ravel()
    m = _as_csr(w)
    n = len(y)
    if m.shape != (n, n):
        raise InputError(f"Die Nachbarschaftsmatrix hat {m.shape[0]} Zeilen, die Werte aber "
                         f"{n} Einheiten.")
    if not np.isfinite(y).all():
        raise InputError("Die Werte enthalten fehlende oder unendliche Werte; füllen Sie sie "
                         "oder lassen Sie diese Einheiten weg.")
    sd = y.std()
    if not sd > 0:
        raise InputError("Die Werte sind überall gleich; das lokale Moran's I ist dann nicht "
                         "definiert.")
    z = (y - y.mean()) / sd
    card = np.diff(m.indptr)
    r = SpatialWeights(m, pd.RangeIndex(n), "custom", "custom").row_standardised().sparse
    lag = r @ z
    den = (z * z).sum()
    li = (n - 1) * z * lag / den
    zp, lp = z > 0, lag > 0
    quadrant = np.select([zp & lp, ~zp & lp, ~zp & ~lp], [1, 2, 3], default=4).astype(np.int64)
    if permutations:
        p_sim = permutation_pvalues(
            z, r, sign=z, permutations=permutations, seed=seed, alternative=alternative,
            progress=progress,
        )
    else:
        p_sim = np.full(n, np.nan)
    p_sim[card == 0] = np.nan
    # conditional randomisation moments of the lag (normal approximation)
    big_n = n - 1
    wi = np.asarray(r.sum(axis=1)).ravel()
    wi2 = np.asarray(r.multiply(r).sum(axis=1)).ravel()
    mu = -z / big_n
    s2 = (den - z * z) / big_n - mu * mu
    var = s2 * big_n / max(big_n - 1, 1) * (wi2 - wi * wi / big_n)
    with np.errstate(divide="ignore", invalid="ignore"):
        z_norm = np.where(var > 0, np.sign(z) * (lag - wi * mu) / np.sqrt(var), 0.0)
    p_norm = 2.0 * stats.norm.sf(np.abs(z_norm))
    z_norm[card == 0] = np.nan
    p_norm[card == 0] = np.nan
    return LocalMoranResult(i=li, quadrant=quadrant, lag=lag, p_sim=p_sim, z_norm=z_norm,
                            p_norm=p_norm)
