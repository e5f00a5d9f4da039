"""Residential segregation indices: global (per city and per Bezirk), local and spatial.

The formulas are those of PySAL's ``segregation`` package (Cortes et al. 2020) and agree with
it to 1e-9 on the same data (see ``tests/test_segregation.py``), but are written as vectorised
numpy, need no libpysal weights object and scale to 10^6 grid cells: the spatial
("egohood") versions smooth counts with a kernel of given bandwidth by a convolution when the
units lie on a regular lattice (a :func:`gis_planning.analysis.grid.grid`) and by a sparse
distance-band matrix otherwise.

Typical use (counts per 100 m cell or per Stadtteil)::

    glob = global_indices(cells, group="nichtdeutsch", total="ew", by="bezirk",
                          distance=500, n_simulations=199, seed=1)
    loc = local_indices(cells, groups=["nichtdeutsch", "deutsch"], distance=500)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage, sparse
from scipy.spatial import cKDTree

from .._errors import InputError, SchemaError
from .._validate import require_numeric, require_projected

__all__ = [
    "GLOBAL_INDICES",
    "global_indices",
    "kernel_smooth",
    "local_indices",
    "queen_contiguity",
    "spatial_dissimilarity",
]

logger = logging.getLogger(__name__)

Kernel = Literal["triangular", "uniform", "quadratic", "quartic", "gaussian"]

#: Names of the global indices, in the column order of :func:`global_indices`.
GLOBAL_INDICES = ("dissimilarity", "isolation", "exposure", "theil_h", "multi_dissimilarity")

_KERNELS = ("triangular", "uniform", "quadratic", "quartic", "gaussian")


# ----------------------------------------------------------------------------- kernels


def _kernel_values(z: np.ndarray, kernel: str) -> np.ndarray:
    # as libpysal.weights.Kernel (Anselin & Rey 2014, p. 78), z = d / bandwidth in [0, 1]
    if kernel == "triangular":
        return 1.0 - z
    if kernel == "uniform":
        return np.full_like(z, 0.5)
    if kernel == "quadratic":
        return 0.75 * (1.0 - z**2)
    if kernel == "quartic":
        return (15.0 / 16.0) * (1.0 - z**2) ** 2
    return (2.0 * np.pi) ** -0.5 * np.exp(-(z**2) / 2.0)


def _lattice(xy: np.ndarray) -> tuple[float, np.ndarray, np.ndarray] | None:
    """Return (spacing, col, row) if the points lie on a square lattice, else None."""
    if len(xy) < 4:
        return None
    ux = np.unique(xy[:, 0])
    uy = np.unique(xy[:, 1])
    if len(ux) < 2 or len(uy) < 2:
        return None
    s = min(np.diff(ux).min(), np.diff(uy).min())
    if s <= 0:
        return None
    col = (xy[:, 0] - ux[0]) / s
    row = (xy[:, 1] - uy[0]) / s
    ci, ri = np.rint(col), np.rint(row)
    if np.abs(col - ci).max() > 1e-6 or np.abs(row - ri).max() > 1e-6:
        return None
    ci, ri = ci.astype(np.int64), ri.astype(np.int64)
    if (ci.max() + 1) * (ri.max() + 1) > 50 * len(xy) + 10_000:
        return None  # too sparse for a raster
    if len(np.unique(ri * (ci.max() + 1) + ci)) != len(xy):
        return None  # duplicated positions
    return float(s), ci, ri


def _centroids(data: gpd.GeoDataFrame) -> np.ndarray:
    geoms = np.asarray(data.geometry.array, dtype=object)
    pts = shapely.centroid(geoms)
    return shapely.get_coordinates(pts)


def kernel_smooth(
    data: gpd.GeoDataFrame,
    columns: Sequence[str],
    *,
    distance: float,
    kernel: Kernel = "triangular",
    round_counts: bool = False,
) -> pd.DataFrame:
    """Kernel-weighted sums of counts around each unit (the unit's "local environment").

    Parameters
    ----------
    data : geopandas.GeoDataFrame
        Units with count columns, projected CRS in metres. Distances are between centroids.
    columns : sequence of str
        Count columns to smooth.
    distance : float
        Kernel bandwidth in metres (e.g. 500); units farther apart get weight 0.
    kernel : {"triangular", "uniform", "quadratic", "quartic", "gaussian"}
        Kernel shape, as in ``libpysal.weights.Kernel``.
    round_counts : bool, default False
        Round the smoothed counts to whole numbers, as ``segregation`` 2.5 does; set True to
        reproduce its spatial index values exactly.

    Returns
    -------
    pandas.DataFrame
        Same index as ``data``, one float column per count column.

    Notes
    -----
    :math:`\\tilde x_i = \\sum_j k(d_{ij}/h)\\, x_j` over :math:`d_{ij} \\le h`, with
    :math:`k(0)` replaced by 1 for the unit itself (libpysal's ``fill_diagonal``). On a regular
    square lattice the sum is a 2-D correlation with a :math:`(2r+1)^2` stencil
    (``scipy.ndimage``), O(n r²); otherwise a k-d tree builds the sparse distance band.
    """
    require_projected(data, name="data")
    if kernel not in _KERNELS:
        raise InputError(f"`kernel` must be one of {_KERNELS}, got {kernel!r}.")
    if not np.isfinite(distance) or distance <= 0:
        raise InputError(f"`distance` must be a positive number of metres, got {distance!r}.")
    columns = list(columns)
    require_numeric(data, columns, name="data")
    values = data[columns].to_numpy(dtype=float)
    out = _smooth_array(_centroids(data), values, distance=distance, kernel=kernel)
    if round_counts:
        out = np.round(out, 0)
    return pd.DataFrame(out, index=data.index, columns=columns)


class _Smoother:
    """Precomputed kernel operator for repeated smoothing (simulations)."""

    def __init__(self, xy: np.ndarray, *, distance: float, kernel: str) -> None:
        self.n = len(xy)
        lat = _lattice(xy)
        if lat is not None:
            s, col, row = lat
            r = int(np.floor(distance / s + 1e-9))
            off = np.arange(-r, r + 1)
            dx, dy = np.meshgrid(off, off)
            d = s * np.hypot(dx, dy)
            inside = d <= distance * (1 + 1e-12)
            stencil = np.where(inside, _kernel_values(np.minimum(d / distance, 1.0), kernel), 0.0)
            stencil[r, r] = 1.0
            self.mode = "lattice"
            self.stencil = stencil
            self.col, self.row = col, row
            self.shape = (int(row.max()) + 1, int(col.max()) + 1)
        else:
            tree = cKDTree(xy)
            pairs = tree.sparse_distance_matrix(tree, distance, output_type="ndarray")
            i, j, d = pairs["i"], pairs["j"], pairs["v"]
            off = i != j
            i, j, d = i[off], j[off], d[off]
            w = _kernel_values(d / distance, kernel)
            ii = np.concatenate([i, np.arange(self.n)])
            jj = np.concatenate([j, np.arange(self.n)])
            ww = np.concatenate([w, np.ones(self.n)])
            self.mode = "sparse"
            self.matrix = sparse.csr_matrix((ww, (ii, jj)), shape=(self.n, self.n))

    def __call__(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        if self.mode == "sparse":
            return np.asarray(self.matrix @ values)
        out = np.empty_like(values)
        raster = np.zeros(self.shape)
        for k in range(values.shape[1]):
            raster[:] = 0.0
            raster[self.row, self.col] = values[:, k]
            sm = ndimage.correlate(raster, self.stencil, mode="constant", cval=0.0)
            out[:, k] = sm[self.row, self.col]
        return out


def _smooth_array(xy: np.ndarray, values: np.ndarray, *, distance: float, kernel: str):
    return _Smoother(xy, distance=distance, kernel=kernel)(values)


# ----------------------------------------------------------------------------- indices


def _single(x: np.ndarray, t: np.ndarray) -> tuple[float, float, float]:
    """Dissimilarity, isolation, exposure of one group (Massey & Denton 1988)."""
    T = t.sum()
    X = x.sum()
    P = X / T
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(t == 0, 0.0, x / t)
        D = float(((t * np.abs(p - P)) / (2.0 * T * P * (1.0 - P))).sum())
        xpx = float(np.nansum((x / X) * (x / t)))
        xpy = float(np.nansum((x / X) * ((t - x) / t)))
    return D, xpx, xpy


def _multi(G: np.ndarray) -> tuple[float, float]:
    """Theil's H (information theory) and multigroup dissimilarity (Reardon & Firebaugh 2002)."""
    T = G.sum()
    ti = G.sum(axis=1)
    Pk = G.sum(axis=0) / T
    with np.errstate(divide="ignore", invalid="ignore"):
        pik = G / ti[:, None]
        present = Pk > 0  # 0 * ln(1/0) = 0: an absent group adds no entropy
        E = (Pk[present] * np.log(1.0 / Pk[present])).sum()
        H = float(np.nansum(ti[:, None] * pik * np.log(pik / Pk)) / (T * E))
        I_ = (Pk * (1.0 - Pk)).sum()
        MD = float((np.abs(np.nan_to_num(pik) - Pk) * ti[:, None]).sum() / (2.0 * T * I_))
    return H, MD


def _all_indices(x: np.ndarray, t: np.ndarray, G: np.ndarray) -> np.ndarray:
    return np.array([*_single(x, t), *_multi(G)])


def _prepare(
    data: pd.DataFrame, group: str, total: str, groups: Sequence[str] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    cols = [group, total, *(groups or [])]
    require_numeric(data, cols, name="data")
    x = data[group].to_numpy(dtype=float)
    t = data[total].to_numpy(dtype=float)
    if np.isnan(x).any() or np.isnan(t).any():
        raise SchemaError(
            f"`data` columns {group!r}/{total!r} have missing values; fill or drop those units."
        )
    if (x < 0).any() or (t < x).any():
        raise SchemaError(
            f"`data` column {group!r} must lie between 0 and {total!r} in every unit "
            f"({int((t < x).sum())} unit(s) have more group members than inhabitants)."
        )
    if groups:
        G = data[list(groups)].to_numpy(dtype=float)
        names = list(groups)
    else:
        G = np.column_stack([x, t - x])
        names = [group, f"not_{group}"]
    if np.isnan(G).any() or (G < 0).any():
        raise SchemaError("`data` group columns must be non-negative counts without gaps.")
    return x, t, G, names


def _scope_indices(
    x: np.ndarray,
    t: np.ndarray,
    G: np.ndarray,
    smoother: _Smoother | None,
    round_counts: bool,
) -> np.ndarray:
    if smoother is not None:
        xt = smoother(np.column_stack([x, t]))
        Gs = smoother(G)
        if round_counts:
            xt, Gs = np.round(xt, 0), np.round(Gs, 0)
        x, t, G = xt[:, 0], xt[:, 1], Gs
    return _all_indices(x, t, G)


def global_indices(
    data: pd.DataFrame | gpd.GeoDataFrame,
    *,
    group: str,
    total: str,
    groups: Sequence[str] | None = None,
    by: str | None = None,
    distance: float | None = None,
    kernel: Kernel = "triangular",
    round_counts: bool = False,
    w: sparse.spmatrix | None = None,
    n_simulations: int = 0,
    confidence: float = 0.95,
    seed: int | None = None,
    city_label: str = "Stadt",
) -> pd.DataFrame:
    """Global segregation indices for the whole city and for each ``by`` area (e.g. Bezirk).

    Parameters
    ----------
    data : pandas.DataFrame or geopandas.GeoDataFrame
        One row per unit (Stadtteil, grid cell) with counts. A GeoDataFrame in a projected CRS
        is required when ``distance`` is given.
    group : str
        Count column of the focal group (e.g. non-German residents).
    total : str
        Count column of all residents of the unit.
    groups : sequence of str, optional
        Count columns of mutually exclusive groups that add up to the total, for the
        multigroup indices (Theil's H, multigroup D). Default: ``group`` and ``total - group``.
    by : str, optional
        Column naming a larger area (e.g. ``"bezirk"``); one extra row per area, computed on
        the units of that area only.
    distance : float, optional
        If given, spatial ("egohood") versions: counts are first smoothed with a kernel of
        this bandwidth in metres (Reardon & O'Sullivan 2004), e.g. 500.
    kernel : {"triangular", "uniform", "quadratic", "quartic", "gaussian"}
        Kernel for ``distance``.
    round_counts : bool, default False
        Round smoothed counts as ``segregation`` 2.5 does (only to reproduce its values).
    w : scipy.sparse matrix, optional
        n x n contiguity (row order of ``data``); if given, adds Morrill's spatial
        dissimilarity (see :func:`spatial_dissimilarity`, :func:`queen_contiguity`).
    n_simulations : int, default 0
        Number of random draws for the bootstrap interval and the evenness null (0: none).
    confidence : float, default 0.95
        Coverage of the bootstrap percentile interval.
    seed : int, optional
        Seed of the random generator (``numpy.random.default_rng``).
    city_label : str, default "Stadt"
        Label of the whole-city row.

    Returns
    -------
    pandas.DataFrame
        Index ``scope`` (``city_label``, then each ``by`` value in sorted order). Columns
        ``level`` ("stadt" or the ``by`` name), ``n_units``, ``total``, ``group_total``,
        ``group_share``, ``dissimilarity``, ``isolation``, ``exposure``, ``theil_h``,
        ``multi_dissimilarity`` (+ ``spatial_dissimilarity`` with ``w``); with
        ``n_simulations > 0`` per index also ``<index>_ci_low``, ``<index>_ci_high``,
        ``<index>_null_mean`` and ``<index>_p``.

    Raises
    ------
    SchemaError
        Missing or non-numeric columns, missing counts, group larger than total.
    CRSError
        ``distance`` with a geographic or missing CRS.
    InputError
        Bad ``distance``, ``kernel``, ``confidence`` or ``n_simulations``.

    Notes
    -----
    With :math:`x_i` group members, :math:`t_i` residents, :math:`p_i = x_i/t_i`,
    :math:`X=\\sum x_i`, :math:`T=\\sum t_i`, :math:`P=X/T` (Massey & Denton 1988):

    .. math:: D = \\sum_i \\frac{t_i |p_i - P|}{2 T P (1-P)}, \\quad
              {}_xP_x = \\sum_i \\frac{x_i}{X}\\frac{x_i}{t_i}, \\quad
              {}_xP_y = \\sum_i \\frac{x_i}{X}\\frac{t_i - x_i}{t_i}.

    Multigroup with shares :math:`p_{ik}` and city shares :math:`P_k` (Reardon & Firebaugh
    2002): entropy :math:`E = \\sum_k P_k \\ln(1/P_k)`, Theil's
    :math:`H = \\sum_i\\sum_k t_i p_{ik} \\ln(p_{ik}/P_k) / (T E)`, multigroup dissimilarity
    :math:`D_m = \\sum_i\\sum_k t_i |p_{ik}-P_k| / (2 T I)` with :math:`I = \\sum_k P_k(1-P_k)`.
    Units without residents contribute 0.

    Spatial versions replace every count by its kernel-weighted sum over the units within
    ``distance`` (:func:`kernel_smooth`), as ``segregation``'s ``distance=`` option does
    (which also rounds them; ``round_counts=True`` reproduces that). Per-``by`` rows smooth
    within the area only, as running ``segregation`` on the subset would.

    Inference (``n_simulations > 0``), counts rounded to whole persons for the draws:

    * bootstrap interval: each unit's counts are redrawn as
      :math:`\\mathrm{Multinomial}(t_i, p_{i\\cdot})` (its own composition; for the single-group
      indices the two groups ``group`` and ``total - group``); the interval is the
      percentile interval of the index over the draws. It shows sampling noise of small units
      (and the upward bias of D in small units).
    * evenness null: counts redrawn as :math:`\\mathrm{Multinomial}(t_i, P_\\cdot)`, i.e. every
      resident placed independently with the city-wide composition, unit sizes kept
      (``segregation``'s "evenness" null). ``<index>_null_mean`` is the index expected without
      segregation, ``<index>_p = (1 + #\\{null \\ge observed\\}) / (n + 1)`` (for ``exposure``,
      where less means more segregated, :math:`\\le`): a one-sided permutation-style p-value.

    References: Massey, D. S., Denton, N. A. (1988) The dimensions of residential segregation.
    Social Forces 67(2). Reardon, S. F., Firebaugh, G. (2002) Measures of multigroup
    segregation. Sociological Methodology 32. Reardon, S. F., O'Sullivan, D. (2004) Measures
    of spatial segregation. Sociological Methodology 34. Cortes, R. X., Rey, S., Knaap, E.,
    Wolf, L. J. (2020) An open-source framework for non-spatial and spatial segregation
    measures: the PySAL segregation module. J. Comput. Soc. Sci. 3.
    """
    if n_simulations < 0 or int(n_simulations) != n_simulations:
        raise InputError(f"`n_simulations` must be a whole number >= 0, got {n_simulations!r}.")
    if not 0 < confidence < 1:
        raise InputError(f"`confidence` must lie between 0 and 1, got {confidence!r}.")
    if distance is not None:
        if not isinstance(data, gpd.GeoDataFrame):
            raise InputError("`distance` needs a GeoDataFrame (unit geometries) as `data`.")
        require_projected(data, name="data")
        if kernel not in _KERNELS:
            raise InputError(f"`kernel` must be one of {_KERNELS}, got {kernel!r}.")
        if not np.isfinite(distance) or distance <= 0:
            raise InputError(f"`distance` must be positive metres, got {distance!r}.")
    x, t, G, _ = _prepare(data, group, total, groups)
    if w is not None:
        w = sparse.csr_matrix(w)
        if w.shape != (len(data), len(data)):
            raise InputError(f"`w` must be {len(data)} x {len(data)}, got {w.shape}.")
    xy = _centroids(data) if distance is not None else None

    scopes: list[tuple[str, str, np.ndarray]] = [(city_label, "stadt", np.arange(len(data)))]
    if by is not None:
        if by not in data.columns:
            raise SchemaError(f"`data` lacks the `by` column {by!r}.")
        codes = data[by].to_numpy()
        values = pd.unique(codes[pd.notna(codes)])
        numeric = all(isinstance(v, int | float | np.number) for v in values)
        for value in sorted(values, key=None if numeric else str):
            scopes.append((value, by, np.flatnonzero(codes == value)))
    rng = np.random.default_rng(seed)
    rows = []
    for label, level, idx in scopes:
        xs, ts, Gs = x[idx], t[idx], G[idx]
        smoother = (
            _Smoother(xy[idx], distance=distance, kernel=kernel) if distance is not None else None
        )
        row: dict[str, object] = {
            "scope": label,
            "level": level,
            "n_units": len(idx),
            "total": float(ts.sum()),
            "group_total": float(xs.sum()),
            "group_share": float(xs.sum() / ts.sum()) if ts.sum() > 0 else np.nan,
        }
        obs = _scope_indices(xs, ts, Gs, smoother, round_counts)
        row.update(dict(zip(GLOBAL_INDICES, obs, strict=True)))
        if w is not None:
            row["spatial_dissimilarity"] = _spatial_dissim(xs, ts, w[idx][:, idx], False)
        if n_simulations:
            boot, null = _simulate(xs, ts, Gs, smoother, round_counts, int(n_simulations), rng)
            alpha = (1 - confidence) / 2
            for k, name in enumerate(GLOBAL_INDICES):
                row[f"{name}_ci_low"] = float(np.nanquantile(boot[:, k], alpha))
                row[f"{name}_ci_high"] = float(np.nanquantile(boot[:, k], 1 - alpha))
                row[f"{name}_null_mean"] = float(np.nanmean(null[:, k]))
                # one-sided towards "more segregated": lower exposure, higher anything else
                more = (
                    null[:, k] <= obs[k] + 1e-12
                    if name == "exposure"
                    else null[:, k] >= obs[k] - 1e-12
                )
                row[f"{name}_p"] = float((1 + more.sum()) / (1 + len(null)))
        rows.append(row)
    return pd.DataFrame(rows).set_index("scope")


def _simulate(
    x: np.ndarray,
    t: np.ndarray,
    G: np.ndarray,
    smoother: _Smoother | None,
    round_counts: bool,
    n: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    ti = np.rint(t).astype(np.int64)
    Gi = np.rint(G).astype(np.int64)
    gsum = Gi.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_single = np.where(ti > 0, np.rint(x) / np.maximum(ti, 1), 0.0).clip(0, 1)
        p_multi = np.where(gsum[:, None] > 0, Gi / np.maximum(gsum, 1)[:, None], 1.0 / G.shape[1])
    P = float(np.rint(x).sum() / max(ti.sum(), 1))
    Pk = Gi.sum(axis=0) / max(Gi.sum(), 1)
    boot = np.empty((n, len(GLOBAL_INDICES)))
    null = np.empty((n, len(GLOBAL_INDICES)))
    for s in range(n):
        xb = rng.binomial(ti, p_single).astype(float)
        Gb = rng.multinomial(gsum, p_multi).astype(float)
        boot[s] = _scope_indices(xb, ti.astype(float), Gb, smoother, round_counts)
        xn = rng.binomial(ti, P).astype(float)
        Gn = rng.multinomial(gsum, Pk).astype(float)
        null[s] = _scope_indices(xn, ti.astype(float), Gn, smoother, round_counts)
    return boot, null


def local_indices(
    data: pd.DataFrame | gpd.GeoDataFrame,
    *,
    groups: Sequence[str],
    distance: float | None = None,
    kernel: Kernel = "triangular",
    round_counts: bool = False,
) -> pd.DataFrame:
    """Location quotients and local entropy per unit.

    Parameters
    ----------
    data : pandas.DataFrame or geopandas.GeoDataFrame
        Units with one count column per group (groups mutually exclusive, e.g. ``deutsch`` and
        ``nichtdeutsch``). GeoDataFrame in a projected CRS when ``distance`` is given.
    groups : sequence of str
        Group count columns (at least 2).
    distance : float, optional
        Kernel bandwidth in metres for the spatial (egohood) version.
    kernel : str, default "triangular"
        Kernel for ``distance`` (see :func:`kernel_smooth`).
    round_counts : bool, default False
        Round smoothed counts as ``segregation`` 2.5 does.

    Returns
    -------
    pandas.DataFrame
        Index of ``data``; columns ``lq_<group>`` for each group and ``entropy`` (0-1).
        Units without residents get NaN.

    Notes
    -----
    Location quotient (Isard 1960): :math:`LQ_{ik} = (x_{ik}/t_i) / (X_k/T)`; 1 means the
    group's city share, 2 twice it. Local entropy (Reardon & O'Sullivan 2004, eq. 6):
    :math:`E_i = -\\sum_k p_{ik}\\ln p_{ik} / \\ln K`, 1 for an even mix of all K groups, 0 for
    one group only. Equal to ``segregation.local.MultiLocationQuotient`` and
    ``MultiLocalEntropy``.
    """
    groups = list(groups)
    if len(groups) < 2:
        raise InputError("`groups` needs at least two group columns.")
    require_numeric(data, groups, name="data")
    G = data[groups].to_numpy(dtype=float)
    if np.isnan(G).any() or (G < 0).any():
        raise SchemaError("`data` group columns must be non-negative counts without gaps.")
    if distance is not None:
        G = kernel_smooth(
            data, groups, distance=distance, kernel=kernel, round_counts=round_counts
        ).to_numpy()
    K = G.shape[1]
    ti = G.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        pik = G / ti[:, None]
        lq = pik / (G.sum(axis=0) / G.sum())
        ent = -np.nansum(pik * np.log(pik) / np.log(K), axis=1)
    ent = np.where(ti > 0, ent, np.nan)
    out = pd.DataFrame(lq, index=data.index, columns=[f"lq_{g}" for g in groups])
    out["entropy"] = ent
    return out


def queen_contiguity(data: gpd.GeoDataFrame) -> sparse.csr_matrix:
    """Binary queen contiguity (units sharing a boundary point) as a sparse n x n matrix.

    Parameters
    ----------
    data : geopandas.GeoDataFrame
        Polygons forming a tessellation (Stadtteile, grid cells).

    Returns
    -------
    scipy.sparse.csr_matrix
        Symmetric 0/1 matrix in the row order of ``data``, zero diagonal.

    Notes
    -----
    The binary form of :func:`gis_planning.analysis.weights.queen_weights` (one contiguity
    builder for the package): polygons whose boundaries meet are neighbours; on a clean
    tessellation this equals ``libpysal.weights.Queen``.
    """
    from .weights import queen_weights

    return sparse.csr_matrix(queen_weights(data).binary().sparse)


def _spatial_dissim(x: np.ndarray, t: np.ndarray, w: sparse.csr_matrix, standardize: bool):
    D = _single(x, t)[0]
    p = np.where(t == 0, 0.0, x / np.where(t == 0, 1.0, t))
    c = sparse.coo_matrix(w)
    vals = c.data.astype(float)
    if standardize:
        rs = np.asarray(w.sum(axis=1)).ravel()
        vals = vals / rs[c.row]
    num = (vals * np.abs(p[c.row] - p[c.col])).sum()
    return float(D - num / vals.sum())


def spatial_dissimilarity(
    data: gpd.GeoDataFrame,
    *,
    group: str,
    total: str,
    w: sparse.spmatrix | None = None,
    standardize: bool = False,
) -> float:
    """Morrill's spatial dissimilarity: D minus the mean group-share gap between neighbours.

    Parameters
    ----------
    data : geopandas.GeoDataFrame
        Units with counts.
    group, total : str
        Count columns (focal group, all residents).
    w : scipy.sparse matrix, optional
        n x n contiguity weights in the row order of ``data``; default
        :func:`queen_contiguity`.
    standardize : bool, default False
        Row-standardise ``w`` first (as the R package ``seg`` does).

    Returns
    -------
    float

    Notes
    -----
    :math:`SD = D - \\sum_{ij} c_{ij}|p_i - p_j| / \\sum_{ij} c_{ij}` (Morrill 1991). Same as
    ``segregation.singlegroup.SpatialDissim`` but sparse: ``segregation`` densifies the
    weights (``w.sparse.toarray()``), O(n²) memory, impossible at 10^5 cells.
    """
    x, t, _, _ = _prepare(data, group, total, None)
    w = queen_contiguity(data) if w is None else sparse.csr_matrix(w)
    return _spatial_dissim(x, t, w, standardize)
