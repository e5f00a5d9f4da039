"""Conditional permutation p-values of local statistics (the engine of :mod:`.hotspots`).

Vectorised with NumPy (no numba, no compile wait); for weights with equal weights within each
row (binary or row-standardised contiguity, knn, distance band) it costs about as much as a
handful of sparse matrix-vector products, whatever the number of permutations. See
:func:`permutation_pvalues`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import sparse

from .._errors import InputError
from .weights import SpatialWeights, clean_csr

__all__ = ["permutation_pvalues"]

Alternative = Literal["folded", "directed"]


# ---------------------------------------------------------------------------------------------
# Conditional permutation inference
# ---------------------------------------------------------------------------------------------


def _as_csr(w: SpatialWeights | Any) -> sparse.csr_array:
    """Weights as float64 CSR without diagonal or explicit zeros (no copy when already so)."""
    m = w.sparse if hasattr(w, "sparse") else w
    if not sparse.issparse(m):
        raise InputError(f"Die Nachbarschaft muss eine Gewichtsmatrix sein, nicht "
                         f"{type(w).__name__}.")
    return clean_csr(m)


def _binary(m: sparse.csr_array) -> sparse.csr_array:
    """Same pattern, all weights 1 (shares the index arrays)."""
    return sparse.csr_array((np.ones(m.nnz), m.indices, m.indptr), shape=m.shape)


def _distinct_rows(rng: np.random.Generator, n: int, rows: int, k: int) -> np.ndarray:
    """``rows`` x ``k`` integers from ``range(n)``, distinct within each row (uniform)."""
    if k == 0:
        return np.zeros((rows, 0), dtype=np.int64)
    if n < 4 * k:
        keys = rng.random((rows, n))
        return np.argsort(keys, axis=1)[:, :k].astype(np.int64)
    out = rng.integers(0, n, size=(rows, k), dtype=np.int64)
    while True:
        s = np.sort(out, axis=1)
        bad = (np.diff(s, axis=1) == 0).any(axis=1)
        if not bad.any():
            return out
        out[bad] = rng.integers(0, n, size=(int(bad.sum()), k), dtype=np.int64)


def _pvals_from_counts(count: np.ndarray, permutations: int) -> np.ndarray:
    return (count + 1.0) / (permutations + 1.0)


def _general_pvalues(
    v: np.ndarray,
    w: sparse.csr_array,
    sign: np.ndarray,
    permutations: int,
    rng: np.random.Generator,
    alternative: Alternative,
    eps: float,
    progress: Callable[..., Iterable] | None = None,
) -> np.ndarray:
    """Exact esda-style scheme: one set of draws from the n-1 others, shared by all units."""
    n = len(v)
    card = np.diff(w.indptr)
    kmax = int(card.max())
    t_obs = w @ v
    draws = _distinct_rows(rng, n - 1, permutations, kmax)
    pos = np.arange(w.nnz) - np.repeat(w.indptr[:-1], card)
    wpad = np.zeros((n, kmax))
    wpad[np.repeat(np.arange(n), card), pos] = w.data
    p = np.full(n, np.nan)
    chunk = max(1, int(4_000_000 // (permutations * kmax)))
    todo = np.flatnonzero(card > 0)
    starts = range(0, len(todo), chunk)
    if progress is not None:
        starts = progress(starts, desc="Permutationen", total=len(starts), unit="Block")
    for start in starts:
        ii = todo[start : start + chunk]
        idx = draws[None, :, :] + (draws[None, :, :] >= ii[:, None, None])
        t = np.einsum("cpk,ck->cp", v[idx], wpad[ii])
        s = sign[ii][:, None]
        to = t_obs[ii][:, None]
        if alternative == "directed":
            larger = np.where(s > 0, t >= to - eps, t <= to + eps).sum(axis=1)
            count = np.minimum(larger, permutations - larger)
        else:
            mean = t.mean(axis=1, keepdims=True)
            d = np.abs(to - mean)
            count = (np.abs(t - mean) >= d - eps).sum(axis=1)
        pp = _pvals_from_counts(count, permutations)
        pp[sign[ii] == 0] = 1.0
        p[ii] = pp
    return p


@dataclass(frozen=True)
class _ClassCounts:
    """Counts of one cardinality class's reference sums at or beyond thresholds ``t``.

    Unit ``u``'s reference set is rows ``[0, L_u)`` minus the rows containing ``u``: a sorted
    search in the first ``R`` sums, plus the extra rows ``R .. L_u - 1`` (``eu``/``er``),
    minus the rows containing ``u`` (``opos``/``op``).
    """

    s_sorted: np.ndarray
    s_all: np.ndarray
    eu: np.ndarray
    er: np.ndarray
    opos: np.ndarray
    op: np.ndarray
    size: int
    perms: int
    eps: float

    def _fix(self, c: np.ndarray, hit_extra: np.ndarray, hit_own: np.ndarray) -> np.ndarray:
        c = c + np.bincount(self.eu, weights=hit_extra, minlength=self.size)
        return c - np.bincount(self.opos, weights=hit_own, minlength=self.size)

    def ge(self, t: np.ndarray) -> np.ndarray:
        """Number of reference sums ``>= t`` (within the tie tolerance)."""
        c = self.perms - np.searchsorted(self.s_sorted, t - self.eps, side="left")
        return self._fix(
            c,
            self.s_all[self.er] >= t[self.eu] - self.eps,
            self.s_all[self.op] >= t[self.opos] - self.eps,
        )

    def le(self, t: np.ndarray) -> np.ndarray:
        """Number of reference sums ``<= t`` (within the tie tolerance)."""
        c = np.searchsorted(self.s_sorted, t + self.eps, side="right")
        return self._fix(
            c,
            self.s_all[self.er] <= t[self.eu] + self.eps,
            self.s_all[self.op] <= t[self.opos] + self.eps,
        )


def _fast_pvalues(
    v: np.ndarray,
    b: sparse.csr_array,
    sign: np.ndarray,
    permutations: int,
    rng: np.random.Generator,
    alternative: Alternative,
    eps: float,
) -> np.ndarray:
    """Conditional permutation for rows with equal weights, by sorting shared random sums.

    See the Notes of :func:`permutation_pvalues`.
    """
    n = len(v)
    perms = permutations
    card = np.diff(b.indptr).astype(np.int64)
    kmax = int(card.max())
    s_obs = b @ v  # unweighted neighbour sums
    lam = perms * kmax / n
    extra = int(np.ceil(4 * lam + 8 * np.sqrt(lam) + 20))
    while True:
        total = perms + extra
        draws = _distinct_rows(rng, n, total, kmax)
        if np.bincount(draws.ravel(), minlength=n).max() <= extra:
            break
        extra *= 2
    p = np.full(n, np.nan)
    position = np.full(n, -1, dtype=np.int64)
    for k in np.unique(card[card > 0]):
        k = int(k)
        units = np.flatnonzero(card == k)
        position[units] = np.arange(len(units))
        s_all = v[draws[:, :k]].sum(axis=1)
        s_sorted = np.sort(s_all[:perms])
        csum = np.concatenate([[0.0], np.cumsum(s_all)])
        # occurrences of this class's units among the drawn rows
        flat = draws[:, :k].ravel()
        prow = np.repeat(np.arange(total, dtype=np.int64), k)
        mine = card[flat] == k
        ou, op = flat[mine], prow[mine]
        order = np.lexsort((op, ou))
        ou, op = ou[order], op[order]
        rank = np.arange(len(ou)) - np.searchsorted(ou, ou, side="left")
        used = (op - rank) < perms  # row lies before the unit's cut-off L_i
        ou, op = ou[used], op[used]
        jstar = np.bincount(position[ou], minlength=len(units))
        cut = perms + jstar  # L_i: rows [0, L_i) minus the unit's own rows = perms rows
        # extra rows perms .. L_i - 1 of units that lost rows
        eu = np.repeat(np.arange(len(units)), jstar)
        er = perms + np.arange(len(eu)) - np.repeat(np.cumsum(jstar) - jstar, jstar)
        opos = position[ou]
        ref_sum = csum[cut] - np.bincount(opos, weights=s_all[op], minlength=len(units))
        mean = ref_sum / perms

        ctx = _ClassCounts(s_sorted, s_all, eu, er, opos, op, len(units), perms, eps)
        so = s_obs[units]
        su = sign[units]
        if alternative == "directed":
            larger = np.where(su > 0, ctx.ge(so), ctx.le(so))
            count = np.minimum(larger, perms - larger)
        else:
            d = np.abs(so - mean)
            tiny = d <= eps
            count = np.where(tiny, perms, ctx.ge(mean + d) + ctx.le(mean - d))
        pp = _pvals_from_counts(count, perms)
        pp[su == 0] = 1.0
        p[units] = pp
    return p


def permutation_pvalues(
    values: Any,
    w: SpatialWeights | Any,
    *,
    sign: Any = None,
    permutations: int = 999,
    seed: int | None = 0,
    alternative: Alternative = "folded",
    method: Literal["auto", "sorted", "direct"] = "auto",
    progress: Callable[..., Iterable] | None = None,
) -> np.ndarray:
    """Conditional permutation p-values of local statistics affine in the spatial lag.

    Covers every statistic of the form ``a_i + b_i * sum_j w_ij v_j`` (Gi*, Gi, local Moran):
    the value of unit ``i`` is held fixed and its neighbours' values are replaced by draws
    without replacement from the other ``n - 1`` units.

    Parameters
    ----------
    values : array-like
        The values ``v`` that are permuted (``y`` for Gi*, ``z`` for local Moran).
    w : SpatialWeights or sparse matrix
        Weights; the diagonal is ignored (self-weights only enter ``a_i``).
    sign : array-like, optional
        Sign of ``b_i``; ``+1`` (default) when the statistic increases with the lag, ``-1``
        when it decreases, ``0`` for a degenerate statistic (p = 1).
    permutations : int, default 999
    seed : int or None, default 0
        Seed of ``numpy.random.default_rng``.
    alternative : {"folded", "directed"}, default "folded"
        ``"folded"``: two-sided, ``p = (1 + #{|T_p - mean(T)| >= |T_obs - mean(T)|}) /
        (R + 1)``, as ``esda.significance.calculate_significance(alternative="folded")``.
        ``"directed"``: esda's legacy default (``p_sim`` of ``G_Local`` and ``Moran_Local``):
        ``(1 + min(#{T_p >= T_obs}, #{T_p < T_obs})) / (R + 1)``, the smaller tail, which is
        about half the two-sided value.
    method : {"auto", "sorted", "direct"}, default "auto"
        ``"sorted"`` needs equal weights within each row; ``"auto"`` uses it when possible and
        ``n >= 50 * max cardinality``.
    progress : callable, optional
        ``progress(iterable, desc=..., total=..., unit=...)`` wraps the blocks of the direct
        scheme (the slow one), e.g. a progress bar; the sorted scheme is fast and not wrapped.

    Returns
    -------
    numpy.ndarray
        Pseudo p-values in ``[1/(R+1), 1]``; NaN for units without neighbours.

    Notes
    -----
    As in esda, one set of ``R`` random draws is shared by all units (which makes p-values of
    different units dependent, but each unit's p-value is an exact conditional permutation
    p-value). Ties (within a relative tolerance of 1e-10) count as "as extreme".

    *direct*: ``R x k_max`` draws from ``range(n - 1)``; draw ``r`` maps to unit
    ``r + (r >= i)`` for unit ``i`` (esda's scheme), gathered in chunks of units.

    *sorted* (equal weights within a row, so the statistic is monotone in the plain sum ``S``
    of the ``k_i`` drawn values): ``R + E`` rows of ``k_max`` distinct draws from ``range(n)``
    are made once; class ``k`` uses the first ``k`` columns, and the sums ``S_p`` of the first
    ``R`` rows are sorted once per class. Unit ``i`` uses the first ``R`` rows that do not
    contain ``i`` (a uniform draw of ``k`` of the other ``n - 1`` units, so the test is exact);
    counts come from one ``searchsorted`` per unit plus a correction for the few rows that
    contain ``i``. Cost ``O(n log R + R k)`` instead of ``O(n R k)``.
    """
    v = np.asarray(values, dtype=float).ravel()
    m = _as_csr(w)
    n = len(v)
    if m.shape != (n, n):
        raise InputError(f"Die Nachbarschaftsmatrix hat {m.shape[0]} Zeilen, die Werte aber "
                         f"{n} Einheiten.")
    if alternative not in ("folded", "directed"):
        raise InputError(f"Die Alternative muss 'folded' (zweiseitig) oder 'directed' sein, "
                         f"nicht {alternative!r}.")
    if not isinstance(permutations, (int, np.integer)) or permutations < 1:
        raise InputError(f"Die Zahl der Permutationen (--permutations) muss eine positive "
                         f"ganze Zahl sein, nicht {permutations!r}.")
    sg = np.ones(n) if sign is None else np.sign(np.asarray(sign, dtype=float).ravel())
    card = np.diff(m.indptr)
    if card.max(initial=0) == 0:
        return np.full(n, np.nan)
    rng = np.random.default_rng(seed)
    kmax = int(card.max())
    equal_rows = bool((m.data > 0).all())
    if equal_rows:
        rows_nz = card > 0
        starts = m.indptr[:-1][rows_nz]
        rmax = np.maximum.reduceat(m.data, starts)
        rmin = np.minimum.reduceat(m.data, starts)
        equal_rows = bool(np.all(rmax - rmin <= 1e-12 * rmax))
    if method == "sorted" and not equal_rows:
        raise InputError("Das sortierte Verfahren braucht positive, gleiche Gewichte in jeder "
                         "Zeile der Nachbarschaft.")
    use_sorted = method == "sorted" or (method == "auto" and equal_rows and n >= 50 * kmax)
    scale = float(np.abs(v).max(initial=0.0))
    if use_sorted:
        b = _binary(m)
        eps = 1e-10 * max(scale * kmax, 1e-300)
        return _fast_pvalues(v, b, sg, permutations, rng, alternative, eps)
    rowsum = float(np.abs(m).sum(axis=1).max())
    eps = 1e-10 * max(scale * rowsum, 1e-300)
    return _general_pvalues(v, m, sg, permutations, rng, alternative, eps, progress)


