"""Residential segregation indices: global (per city and per Bezirk), local and spatial.

The formulas are those of PySAL's ``segregation`` package (Cortes et al. 2020) and agree with
it to 1e-9 on the same data (see ``tests/test_segregation.py``), but are written as vectorised
numpy, need no libpysal weights object and scale to 10^6 grid cells: the spatial
("egohood") versions smooth counts with a kernel of given bandwidth by a convolution when the
units lie on a regular lattice (a :func:`gis_planning.analysis.grid.grid`) and by a sparse
distance-band matrix otherwise.

It stays one module (about 840 lines) because global, local and spatial indices share the
kernel smoother and the scope logic; the interval machinery already lives in
:mod:`gis_planning.analysis._segregation_ci`.

Typical use (counts per 100 m cell or per Stadtteil)::

    glob = global_indices(cells, group="nichtdeutsch", total="ew", by="bezirk",
                          distance=500, n_simulations=199, seed=1)
    loc = local_indices(cells, groups=["nichtdeutsch", "deutsch"], distance=500)
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage, sparse
from scipy.spatial import cKDTree

from .._errors import InputError, SchemaError
from .._validate import require_numeric, require_projected
from ._segregation_ci import (
    correction_spread,
    dissimilarity_random,
    indices_multi,
    indices_single,
    path_inference,
)
from .uncertainty import DEFAULT_MIN_SIZE, small_units, wilson_interval

__all__ = [
    "GLOBAL_INDICES",
    "check_bandwidth",
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

#: Up to this many units the aspatial intervals are widened by the spread of the correction.
_SPREAD_MAX_UNITS = 20_000


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
        Kernel bandwidth in metres (e.g. 500); units farther apart get weight 0. A bandwidth
        that does not exceed the closest spacing of two units is refused
        (:func:`check_bandwidth`): nothing would be smoothed.
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
        raise InputError(f"Unbekannter Kern {kernel!r}; möglich sind {', '.join(_KERNELS)}.")
    if not np.isfinite(distance) or distance <= 0:
        raise InputError(f"Die Bandbreite muss eine positive Zahl von Metern sein, nicht "
                         f"{distance!r}.")
    check_bandwidth(data, distance)
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
    D, xpx, xpy = indices_single(x, t)
    return float(D), float(xpx), float(xpy)


def _multi(G: np.ndarray) -> tuple[float, float]:
    """Theil's H (information theory) and multigroup dissimilarity (Reardon & Firebaugh 2002)."""
    H, MD = indices_multi(G)
    return float(H), float(MD)


def _prepare(
    data: pd.DataFrame, group: str, total: str, groups: Sequence[str] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    cols = [group, total, *(groups or [])]
    require_numeric(data, cols, name="data")
    x = data[group].to_numpy(dtype=float)
    t = data[total].to_numpy(dtype=float)
    if np.isnan(x).any() or np.isnan(t).any():
        raise SchemaError(
            f"Die Spalten {group!r}/{total!r} haben fehlende Werte; füllen Sie sie oder "
            f"lassen Sie diese Einheiten weg."
        )
    if (x < 0).any() or (t < x).any():
        raise SchemaError(
            f"Die Spalte {group!r} muss in jeder Einheit zwischen 0 und {total!r} liegen "
            f"({int((t < x).sum())} Einheit(en) haben mehr Gruppenmitglieder als Einwohner)."
        )
    if groups:
        G = data[list(groups)].to_numpy(dtype=float)
        names = list(groups)
    else:
        G = np.column_stack([x, t - x])
        names = [group, f"not_{group}"]
    if np.isnan(G).any() or (G < 0).any():
        raise SchemaError("Die Gruppenspalten müssen nicht negative Anzahlen ohne Lücken "
                          "enthalten.")
    return x, t, G, names


def _smooth_batch(smoother: _Smoother, values: np.ndarray) -> np.ndarray:
    """Smooth ``(b, n, c)`` counts unit-wise (each draw and column separately)."""
    b, n, c = values.shape
    flat = values.transpose(1, 0, 2).reshape(n, b * c)
    return smoother(flat).reshape(n, b, c).transpose(1, 0, 2)


def _smoothed(x, t, G, smoother, round_counts, two_group):
    """Counts as the indices see them: smoothed (and rounded) when spatial.

    ``x`` ``(..., n)``, ``t`` ``(..., n)``, ``G`` ``(..., n, K)``. With ``two_group`` the
    multigroup indices use ``[x, t - x]`` of the smoothed ``x`` and ``t`` (as
    ``segregation``'s single-group ``Entropy``); otherwise every group is smoothed on its own
    (as ``MultiInfoTheory``).
    """
    if smoother is not None:
        lead = x.shape[:-1]
        xt = np.stack([x, t], axis=-1).reshape(-1, x.shape[-1], 2)
        xt = _smooth_batch(smoother, xt).reshape(*lead, x.shape[-1], 2)
        if round_counts:
            xt = np.round(xt, 0)
        x, t = xt[..., 0], xt[..., 1]
        if not two_group:
            Gs = _smooth_batch(smoother, G.reshape(-1, *G.shape[-2:])).reshape(G.shape)
            G = np.round(Gs, 0) if round_counts else Gs
    if two_group:
        G = np.stack([x, t - x], axis=-1)
    return x, t, G


def _scope_indices(
    x: np.ndarray,
    t: np.ndarray,
    G: np.ndarray,
    smoother: _Smoother | None,
    round_counts: bool,
    two_group: bool = False,
) -> np.ndarray:
    x, t, G = _smoothed(x, t, G, smoother, round_counts, two_group)
    return np.concatenate([indices_single(x, t), indices_multi(G)])


def check_bandwidth(
    data: gpd.GeoDataFrame, distance: float, *, option: str = "--distance"
) -> dict[str, float]:
    """Refuse a kernel bandwidth under which no unit reaches another; report the spacing.

    Parameters
    ----------
    data : geopandas.GeoDataFrame
        Units (projected CRS, metres); distances are between centroids.
    distance : float
        Bandwidth in metres.
    option : str
        Name of the CLI option to cite in the message.

    Returns
    -------
    dict
        ``min_spacing_m`` (closest pair of units), ``all_neighbours_m`` (the distance at which
        every unit reaches at least one other) and ``n_without_neighbour`` (units that reach
        no other unit at ``distance``).

    Raises
    ------
    InputError
        If ``distance`` does not exceed the closest spacing: the smoothed counts would equal
        the raw counts and the "spatial" index the aspatial one (on one city's 50 Stadtteile no
        centroid lies within 500 m of another).
    """
    xy = _centroids(data)
    if len(xy) < 2:
        raise InputError("Räumliche Indizes brauchen mindestens zwei Einheiten.")
    d, _ = cKDTree(xy).query(xy, k=2)
    nn = d[:, 1]
    min_nn, max_nn = float(nn.min()), float(nn.max())
    if not distance > min_nn:
        useful = math.floor(min_nn / 10.0) * 10 + 10
        raise InputError(
            f"Die Bandbreite {option} {distance:g} m ist nicht größer als der kleinste Abstand "
            f"zweier Einheiten ({_m(min_nn)} m zwischen den Schwerpunkten): keine Einheit "
            f"bezöge eine andere ein, das Ergebnis wäre das nicht-räumliche. Sinnvoll ist "
            f"mindestens {option} {useful:g}; damit jede Einheit mindestens einen Nachbarn "
            f"einbezieht, {option} {math.ceil(max_nn / 10.0) * 10:g}."
        )
    lonely = int((nn >= distance).sum())
    if lonely:
        warnings.warn(
            f"Bei der Bandbreite {distance:g} m erreichen {lonely} von {len(nn)} Einheiten "
            f"keine andere; ihre Werte bleiben ungeglättet. Ab {_m(max_nn)} m hat jede Einheit "
            f"einen Nachbarn.",
            UserWarning,
            stacklevel=3,
        )
    return {"min_spacing_m": min_nn, "all_neighbours_m": max_nn, "n_without_neighbour": lonely}


def _m(value: float) -> str:
    return f"{value:,.0f}".replace(",", ".")


def _spatial_record(data, distance, kernel) -> dict[str, object]:
    crs = getattr(data, "crs", None)
    return {
        "distance_m": distance, "kernel": kernel if distance is not None else None,
        "unit": "m", "crs": crs.to_string() if crs is not None else None,
    }


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
    progress: Callable[..., Iterable] | None = None,
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
        this bandwidth in metres (Reardon & O'Sullivan 2004), e.g. 2000 for Stadtteile.
        It must exceed the closest spacing of two units (:func:`check_bandwidth`), else the
        spatial index would silently equal the aspatial one.
    kernel : {"triangular", "uniform", "quadratic", "quartic", "gaussian"}
        Kernel for ``distance``.
    round_counts : bool, default False
        Round smoothed counts as ``segregation`` 2.5 does (only to reproduce its values).
    w : scipy.sparse matrix, optional
        n x n contiguity (row order of ``data``); if given, adds Morrill's spatial
        dissimilarity (see :func:`spatial_dissimilarity`, :func:`queen_contiguity`).
    n_simulations : int, default 0
        Number of simulated paths for the intervals and the evenness null (0: none); 199 or
        more for a 95 % interval.
    confidence : float, default 0.95
        Level of the intervals.
    seed : int, optional
        Seed of the random generator (``numpy.random.default_rng``).
    city_label : str, default "Stadt"
        Label of the whole-city row.
    progress : callable, optional
        With ``n_simulations``, ``progress(iterable, desc=..., total=..., unit=...)`` wraps
        the loop over the city and the ``by`` areas (the CLI passes a progress bar).

    Returns
    -------
    pandas.DataFrame
        Index ``scope`` (``city_label``, then each ``by`` value in sorted order). Columns
        ``level`` ("stadt" or the ``by`` name), ``n_units``, ``total``, ``group_total``,
        ``group_share``, ``dissimilarity``, ``dissimilarity_random`` (expected D if every
        resident were placed at random), ``isolation``, ``exposure``, ``theil_h``,
        ``multi_dissimilarity`` (+ ``spatial_dissimilarity`` with ``w``), ``bandwidth_m`` and
        ``kernel`` (the spatial setting; NaN and "ohne (nicht räumlich)" for the aspatial
        indices); with ``n_simulations > 0`` per index also ``<index>_bc`` (bias-corrected
        estimate), ``<index>_ci_low``, ``<index>_ci_high`` (interval of the true index),
        ``<index>_null_mean`` (mean under random allocation), ``<index>_p`` and
        ``intervall_hinweis`` (why an interval is empty, else ""). ``attrs["segregation"]``
        records bandwidth, kernel, unit ("m"), CRS and method.

    Raises
    ------
    SchemaError
        Missing or non-numeric columns, missing counts, group larger than total.
    CRSError
        ``distance`` with a geographic or missing CRS.
    InputError
        Bad ``distance`` (also one not above the closest unit spacing), ``kernel``,
        ``confidence`` or ``n_simulations``.

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
    within the area only, as running ``segregation`` on the subset would. Without ``groups``
    the two-group Theil's H uses the smoothed ``group`` and ``total`` (``t - x`` after
    smoothing), as ``segregation.singlegroup.Entropy``; with ``groups`` every group is smoothed
    on its own, as ``segregation.multigroup.MultiInfoTheory``. The two differ only when
    smoothed counts are rounded (by up to about 1e-5 on 150 units); both are reproduced to
    1e-9.

    Small-unit bias: :math:`D` adds up absolute deviations, so chance alone makes it positive.
    If every resident were placed at random with the city share, :math:`x_i \\sim
    \\mathrm{Bin}(t_i, P)` and :math:`E[D] = \\sum_i E|x_i - t_i P| / (2TP(1-P))` (de
    Moivre's closed form, ``dissimilarity_random``): about 0.14 for units of 50 residents and
    a 20 % share, 0.02 for 2,000 residents. A D near this value shows no segregation beyond
    chance. For the spatial indices ``dissimilarity_random`` is the simulated null mean
    (NaN without simulations).

    Intervals (``n_simulations > 0``): test inversion along the family of compositions from
    random allocation to the observed one, with coupled multinomial paths
    (:mod:`gis_planning.analysis._segregation_ci`). ``<index>_bc`` is the median-unbiased
    estimate within the family; the interval covers the true index (the index of the units'
    expected composition) in at least 90 % of simulations for a nominal 95 % on units of 50
    and of 2,000 residents (``tests/test_segregation.py``), where the old percentile
    bootstrap of the observed shares covered 0 of 60 for small units. It includes 0 when
    the data are compatible with random allocation. The evenness null (``_null_mean``,
    ``_p``) places every resident at random with the city composition, unit sizes kept;
    ``<index>_p = (1 + #\\{null \\ge observed\\}) / (n + 1)`` (exposure: :math:`\\le`).

    References: Massey, D. S., Denton, N. A. (1988) The dimensions of residential segregation.
    Social Forces 67(2). Reardon, S. F., Firebaugh, G. (2002) Measures of multigroup
    segregation. Sociological Methodology 32. Reardon, S. F., O'Sullivan, D. (2004) Measures
    of spatial segregation. Sociological Methodology 34. Allen, R., Burgess, S., Davidson,
    R., Windmeijer, F. (2015) More reliable inference for the dissimilarity index of
    segregation. Econometrics Journal 18. Cortes, R. X., Rey, S., Knaap, E., Wolf, L. J.
    (2020) An open-source framework for non-spatial and spatial segregation measures: the
    PySAL segregation module. J. Comput. Soc. Sci. 3.
    """
    if n_simulations < 0 or int(n_simulations) != n_simulations:
        raise InputError(f"Die Zahl der Simulationen (--simulations) muss eine ganze Zahl "
                         f"ab 0 sein, nicht {n_simulations!r}.")
    if not 0 < confidence < 1:
        raise InputError(f"Das Konfidenzniveau muss zwischen 0 und 1 liegen, nicht "
                         f"{confidence!r}.")
    if distance is not None:
        if not isinstance(data, gpd.GeoDataFrame):
            raise InputError("Die räumliche Variante (--distance) braucht die Geometrien der "
                             "Einheiten (eine GeoDataFrame-Tabelle).")
        require_projected(data, name="data")
        if kernel not in _KERNELS:
            raise InputError(f"Unbekannter Kern {kernel!r}; möglich sind {', '.join(_KERNELS)}.")
        if not np.isfinite(distance) or distance <= 0:
            raise InputError(f"Die Bandbreite (--distance) muss eine positive Zahl von Metern "
                             f"sein, nicht {distance!r}.")
        check_bandwidth(data, distance)
    x, t, G, _ = _prepare(data, group, total, groups)
    two_group = not groups
    if w is not None:
        w = sparse.csr_matrix(w)
        if w.shape != (len(data), len(data)):
            raise InputError(f"Die Nachbarschaftsmatrix muss {len(data)} x {len(data)} groß "
                             f"sein (eine Zeile je Einheit), nicht {w.shape[0]} x {w.shape[1]}.")
    xy = _centroids(data) if distance is not None else None

    scopes: list[tuple[str, str, np.ndarray]] = [(city_label, "stadt", np.arange(len(data)))]
    if by is not None:
        if by not in data.columns:
            raise SchemaError(f"Die Spalte {by!r} für die Gliederung (--by) fehlt in der "
                              f"Tabelle.")
        codes = data[by].to_numpy()
        values = pd.unique(codes[pd.notna(codes)])
        numeric = all(isinstance(v, int | float | np.number) for v in values)
        for value in sorted(values, key=None if numeric else str):
            scopes.append((value, by, np.flatnonzero(codes == value)))
    rng = np.random.default_rng(seed)
    rows = []
    loop: Iterable[tuple[str, str, np.ndarray]] = scopes
    if progress is not None and n_simulations:
        loop = progress(scopes, desc="Simulationen", total=len(scopes), unit="Gebiet")
    for label, level, idx in loop:
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
        obs = _scope_indices(xs, ts, Gs, smoother, round_counts, two_group)
        row.update(dict(zip(GLOBAL_INDICES, obs, strict=True)))
        row["dissimilarity_random"] = (
            dissimilarity_random(xs, ts) if smoother is None else np.nan
        )
        if w is not None:
            row["spatial_dissimilarity"] = _spatial_dissim(xs, ts, w[idx][:, idx], False)
        if n_simulations:
            inf = _intervals(xs, ts, Gs, smoother, round_counts, two_group, int(n_simulations),
                             rng, confidence)
            row["intervall_hinweis"] = inf.pop("_note")
            for name, vals in inf.items():
                row.update({f"{name}_{k}": v for k, v in vals.items()})
            if smoother is not None:
                row["dissimilarity_random"] = row["dissimilarity_null_mean"]
        row["bandwidth_m"] = float(distance) if distance is not None else np.nan
        row["kernel"] = kernel if distance is not None else "ohne (nicht räumlich)"
        rows.append(row)
    out = pd.DataFrame(rows).set_index("scope")
    lead = ["level", "n_units", "total", "group_total", "group_share", "dissimilarity",
            "dissimilarity_random"]
    out = out[lead + [c for c in out.columns if c not in lead]]
    out.attrs["segregation"] = {
        **_spatial_record(data, distance, kernel),
        "round_counts": round_counts, "n_simulations": int(n_simulations),
        "confidence": confidence, "seed": seed,
        "interval_method": "Testinversion entlang der Zusammensetzungen von Zufallsverteilung "
                           "bis beobachtet (verzerrungskorrigiert)" if n_simulations else None,
    }
    return out


def _intervals(
    x: np.ndarray,
    t: np.ndarray,
    G: np.ndarray,
    smoother: _Smoother | None,
    round_counts: bool,
    two_group: bool,
    n: int,
    rng: np.random.Generator,
    confidence: float,
) -> dict[str, Any]:
    """Bias-calibrated intervals of the five indices (see :mod:`._segregation_ci`).

    Isolation is inverted as its excess over the city share (``xPx - P``, zero under random
    allocation) and the Wilson interval of the city share is added: the family keeps the
    observed city share, whose own sampling error matters for isolation when segregation is
    weak. Exposure is ``1 - isolation`` for two groups.
    """
    xi = np.rint(x).astype(np.int64)
    ti = np.rint(t).astype(np.int64)
    pair = np.column_stack([xi, ti - xi])
    cols = ["bc", "ci_low", "ci_high", "null_mean", "p"]

    def single_eval(C: np.ndarray, exact: bool = False) -> np.ndarray:
        xx, tt = C[..., 0], C.sum(axis=-1)
        xs, ts, Gs = _smoothed(xx, tt, C, smoother, round_counts and not exact, True)
        D, iso, _ = np.moveaxis(indices_single(xs, ts), -1, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = xs.sum(axis=-1) / ts.sum(axis=-1)
        vals = np.stack([D, iso - share], axis=-1)
        return np.concatenate([vals, indices_multi(Gs)], axis=-1) if two_group else vals

    observed = single_eval(pair[None].astype(float))[0]
    res = path_inference(pair, single_eval, lambda E: single_eval(E[None], exact=True)[0],
                         observed, np.zeros(len(observed), dtype=bool), n_draws=n, rng=rng,
                         confidence=confidence)
    parts = [res]
    if not two_group:
        Gi = np.rint(G).astype(np.int64)

        def multi_eval(C: np.ndarray, exact: bool = False) -> np.ndarray:
            if smoother is not None:
                C = _smooth_batch(smoother, C.reshape(-1, *C.shape[-2:])).reshape(C.shape)
                if round_counts and not exact:
                    C = np.round(C, 0)
            return indices_multi(C)

        obs_m = multi_eval(Gi[None].astype(float))[0]
        parts.append(path_inference(Gi, multi_eval, lambda E: multi_eval(E[None], True)[0],
                                    obs_m, np.array([False, False]), n_draws=n, rng=rng,
                                    confidence=confidence))
    got = {c: np.concatenate([getattr(p, a) for p in parts]) for c, a in
           zip(cols, ["estimate", "ci_low", "ci_high", "null_mean", "p_value"], strict=True)}
    censored = np.concatenate([p.upper_censored for p in parts])
    below = np.concatenate([p.below_random for p in parts])
    # rows of got: D, isolation excess, H, MD
    xs, ts, _ = _smoothed(pair[:, 0].astype(float), pair.sum(axis=1).astype(float), pair,
                          smoother, round_counts, True)
    share = float(xs.sum() / ts.sum())
    p_lo, p_hi = (float(v) for v in wilson_interval(xs.sum(), ts.sum(),
                                                      confidence=confidence))
    iso = {"bc": share + got["bc"][1], "ci_low": p_lo + got["ci_low"][1],
           "ci_high": p_hi + got["ci_high"][1], "null_mean": share + got["null_mean"][1],
           "p": got["p"][1]}
    expo = {"bc": 1 - iso["bc"], "ci_low": 1 - iso["ci_high"], "ci_high": 1 - iso["ci_low"],
            "null_mean": 1 - iso["null_mean"], "p": iso["p"]}
    out: dict[str, Any] = {
        "dissimilarity": {c: float(got[c][0]) for c in cols},
        "isolation": iso,
        "exposure": expo,
        "theil_h": {c: float(got[c][2]) for c in cols},
        "multi_dissimilarity": {c: float(got[c][3]) for c in cols},
    }
    inverted = ["dissimilarity", "isolation", "theil_h", "multi_dissimilarity"]
    labels = {"dissimilarity": "D", "isolation": "Isolation", "theil_h": "Theil H",
              "multi_dissimilarity": "multigruppen-D"}
    note = ""
    if below.any():
        names = [labels[inverted[k]] for k in np.flatnonzero(below)]
        note = (f"{', '.join(names)} unter dem Wert bei Zufallsverteilung: die Zählwerte "
                f"streuen weniger als zufällig (oft geschätzte Werte); kein Intervall")
    if censored.any():
        names = [inverted[k] for k in np.flatnonzero(censored)]
        # recorded in the output's note column, not as a warning on every atlas or export
        censored_note = (f"Obergrenze des Intervalls für {', '.join(names)} nicht "
                         f"bestimmbar (der beobachtete Wert liegt jenseits dessen, was die "
                         f"Modellfamilie erzeugt); sie bleibt leer")
        note = f"{note}; {censored_note}" if note else censored_note
    # the family is itself estimated: widen D-type intervals by the spread of the correction
    small_enough = smoother is None and len(xi) <= _SPREAD_MAX_UNITS
    if small_enough and np.isfinite(out["dissimilarity"]["bc"]):
        ratio = correction_spread(xi, ti, out["dissimilarity"]["bc"], rng=rng)
        for name in ("dissimilarity", "theil_h", "multi_dissimilarity"):
            vals = out[name]
            if np.isfinite(vals["ci_low"]) and np.isfinite(vals["ci_high"]):
                vals["ci_low"] = vals["bc"] - (vals["bc"] - vals["ci_low"]) * ratio
                vals["ci_high"] = vals["bc"] + (vals["ci_high"] - vals["bc"]) * ratio
    out["_note"] = note
    for name, vals in out.items():  # indices live in [0, 1]; remove float dust like -1e-17
        if name == "_note":
            continue
        for c in ("bc", "ci_low", "ci_high"):
            if np.isfinite(vals[c]):
                v = float(min(max(vals[c], 0.0), 1.0))
                vals[c] = 0.0 if v < 1e-12 else v
    return out


def local_indices(
    data: pd.DataFrame | gpd.GeoDataFrame,
    *,
    groups: Sequence[str],
    distance: float | None = None,
    kernel: Kernel = "triangular",
    round_counts: bool = False,
    confidence: float = 0.95,
    min_size: float = DEFAULT_MIN_SIZE,
) -> pd.DataFrame:
    """Location quotients and local entropy per unit, with an interval for every LQ.

    Parameters
    ----------
    data : pandas.DataFrame or geopandas.GeoDataFrame
        Units with one count column per group (groups mutually exclusive, e.g. ``deutsch`` and
        ``nichtdeutsch``). GeoDataFrame in a projected CRS when ``distance`` is given.
    groups : sequence of str
        Group count columns (at least 2).
    distance : float, optional
        Kernel bandwidth in metres for the spatial (egohood) version; it must exceed the
        closest spacing of two units (:func:`check_bandwidth`).
    kernel : str, default "triangular"
        Kernel for ``distance`` (see :func:`kernel_smooth`).
    round_counts : bool, default False
        Round smoothed counts as ``segregation`` 2.5 does.
    confidence : float, default 0.95
        Level of the LQ intervals.
    min_size : float, default 300
        Units with fewer residents are flagged ``kleine_einheit``.

    Returns
    -------
    pandas.DataFrame
        Index of ``data``; columns ``lq_<group>`` with ``lq_<group>_ki_unten`` and
        ``lq_<group>_ki_oben`` for each group, ``entropy`` (0-1), ``kleine_einheit`` (bool),
        ``bandwidth_m`` and ``kernel`` (the spatial setting). Units without residents get NaN.
        ``attrs["segregation"]`` records bandwidth, kernel, unit and CRS.

    Notes
    -----
    Location quotient (Isard 1960): :math:`LQ_{ik} = (x_{ik}/t_i) / (X_k/T)`; 1 means the
    group's city share, 2 twice it. Local entropy (Reardon & O'Sullivan 2004, eq. 6):
    :math:`E_i = -\\sum_k p_{ik}\\ln p_{ik} / \\ln K`, 1 for an even mix of all K groups, 0 for
    one group only. Equal to ``segregation.local.MultiLocationQuotient`` and
    ``MultiLocalEntropy``.

    Interval of the LQ: the Wilson interval of the unit's share :math:`x_{ik}/t_i`
    (:func:`gis_planning.analysis.uncertainty.wilson_interval`) divided by the city share,
    which is treated as known (it rests on the whole city). For the spatial version the
    smoothed counts are used as if they were counts; a kernel-weighted sum varies less than
    a count of the same size, so the interval is on the safe (wide) side.
    """
    groups = list(groups)
    if len(groups) < 2:
        raise InputError("Lokale Indizes brauchen mindestens zwei Gruppenspalten.")
    require_numeric(data, groups, name="data")
    G = data[groups].to_numpy(dtype=float)
    if np.isnan(G).any() or (G < 0).any():
        raise SchemaError("Die Gruppenspalten müssen nicht negative Anzahlen ohne Lücken "
                          "enthalten.")
    if distance is not None:
        G = kernel_smooth(
            data, groups, distance=distance, kernel=kernel, round_counts=round_counts
        ).to_numpy()
    K = G.shape[1]
    ti = G.sum(axis=1)
    city = G.sum(axis=0) / G.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        pik = G / ti[:, None]
        lq = pik / city
        ent = -np.nansum(pik * np.log(pik) / np.log(K), axis=1)
    ent = np.where(ti > 0, ent, np.nan)
    out = pd.DataFrame(index=data.index)
    for k, g in enumerate(groups):
        lo, hi = wilson_interval(G[:, k], ti, confidence=confidence)
        out[f"lq_{g}"] = lq[:, k]
        out[f"lq_{g}_ki_unten"] = lo / city[k]
        out[f"lq_{g}_ki_oben"] = hi / city[k]
    out["entropy"] = ent
    out["kleine_einheit"] = small_units(ti, min_size=min_size)
    out["bandwidth_m"] = float(distance) if distance is not None else np.nan
    out["kernel"] = kernel if distance is not None else "ohne (nicht räumlich)"
    out.attrs["segregation"] = {**_spatial_record(data, distance, kernel),
                                "confidence": confidence, "min_size": min_size,
                                "interval": "Wilson (Anteil) / Stadtanteil"}
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
