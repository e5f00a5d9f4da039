"""Analyses on census grid cells: neighbours from cell ids, coarser cells, grid hotspots, profile.

Everything here works on the **official cell ids** (``100mN31556E41137`` or
``CRS3035RES100mN3155600E4113700``, see :mod:`gis_planning.data.zensus`) and on integer
lattice arithmetic, never on geometry operations, so it scales to the 3.1 million populated
cells of Germany's 100 m grid:

* :func:`lattice_weights` - rook or queen neighbours (any order) from the ids;
* :func:`coarsen_cells` - counts of 100 m cells summed to 250 m / 500 m / 1 km cells (cells
  that straddle a coarser border are split by area);
* :func:`grid_hotspots` - Getis-Ord Gi* and local Moran's I of a group share on real cells at
  several cell sizes, with empirical-Bayes smoothing, a population floor and FDR q-values with
  enough permutations that a discovery is attainable
  (:func:`gis_planning.analysis.hotspots.getis_ord` / ``local_moran``);
* :func:`segregation_profile` - spatial dissimilarity and isolation for kernel bandwidths
  from 100 m to 4 km (the indices of :func:`gis_planning.analysis.segregation.global_indices`
  on kernel-smoothed counts; the smoothing is done on the lattice by direct sums for small
  kernels and by FFT convolution for large ones).

It stays one module (about 830 lines) because all four parts rest on the same integer
lattice positions decoded from the cell ids; splitting them would scatter that arithmetic.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import fft as sfft
from scipy import sparse

from .._errors import InputError, SchemaError
from .._validate import require_numeric
from .weights import SpatialWeights

__all__ = [
    "DEFAULT_BANDWIDTHS",
    "DEFAULT_CELL_SIZES",
    "coarsen_cells",
    "fdr_permutations",
    "grid_hotspot_summary",
    "grid_hotspots",
    "lattice_positions",
    "lattice_weights",
    "segregation_profile",
]

logger = logging.getLogger(__name__)

_GRID_CRS = "EPSG:3035"

#: Cell sizes of :func:`grid_hotspots` (metres).
DEFAULT_CELL_SIZES = (100, 250, 500, 1000)

#: Kernel bandwidths of :func:`segregation_profile` (metres).
DEFAULT_BANDWIDTHS = (100, 200, 500, 1000, 2000, 4000)

Contiguity = Literal["queen", "rook"]


# --------------------------------------------------------------------------- positions


def lattice_positions(
    cells: pd.DataFrame | Sequence[str] | np.ndarray, *, id_column: str = "gitter_id"
) -> tuple[np.ndarray, np.ndarray, int]:
    """Lattice column and row (lower-left corner / cell size) and cell size from cell ids.

    Parameters
    ----------
    cells : DataFrame or sequence of str
        A frame with ``id_column`` or the ids themselves.
    id_column : str, default "gitter_id"

    Returns
    -------
    col, row : numpy.ndarray of int64
        ``X / cell_size`` and ``Y / cell_size`` of each cell's lower-left corner (EPSG:3035).
    cell_size : int
    """
    from ..data.zensus import parse_cell_ids

    if isinstance(cells, pd.DataFrame):
        if id_column not in cells.columns:
            raise SchemaError(
                f"Die Zellen brauchen die Spalte {id_column!r} mit den Gitterzellen-IDs "
                f"(z. B. 100mN31556E41137)."
            )
        ids = cells[id_column]
    else:
        ids = cells if isinstance(cells, np.ndarray | pd.Series) else np.asarray(
            list(cells), dtype=object)
    x, y, s = parse_cell_ids(ids)
    return x // s, y // s, s


def _offsets(contiguity: str, order: int) -> list[tuple[int, int]]:
    if contiguity not in ("queen", "rook"):
        raise InputError(f"Die Nachbarschaft (contiguity) muss 'queen' (mit Ecken) oder "
                         f"'rook' (nur Kanten) sein, nicht {contiguity!r}.")
    if not isinstance(order, int | np.integer) or order < 1:
        raise InputError(f"Die Ordnung der Nachbarschaft muss eine ganze Zahl ab 1 sein, "
                         f"nicht {order!r}.")
    out = []
    for dr in range(-order, order + 1):
        for dc in range(-order, order + 1):
            if dr == 0 and dc == 0:
                continue
            if contiguity == "rook" and abs(dr) + abs(dc) > order:
                continue
            out.append((dr, dc))
    return out


def _neighbour_csr(col: np.ndarray, row: np.ndarray, offsets: list[tuple[int, int]]
                   ) -> sparse.csr_array:
    """Binary CSR of the cells at the given (row, col) offsets, indices sorted per row.

    Cell positions are looked up in a dense raster of cell numbers when the lattice's bounding
    box is at most 40 times the number of cells (a national 100 m grid: 56 million positions
    for 3.1 million cells, 220 MB), else by ``searchsorted`` on sorted keys.
    """
    n = len(col)
    reach = max(max(abs(dr), abs(dc)) for dr, dc in offsets)
    c = col - int(col.min()) + reach
    r = row - int(row.min()) + reach
    width = int(c.max()) + reach + 1
    height = int(r.max()) + reach + 1
    keys = r * width + c
    in_order = bool(n < 2 or (np.diff(keys) > 0).all())
    sentinel = np.iinfo(np.int64).max
    nb = np.full((n, len(offsets)), sentinel, dtype=np.int64)
    if height * width <= 40 * n + 1_000_000:
        lookup = np.full(height * width, -1, dtype=np.int64 if n >= 2**31 else np.int32)
        lookup[keys] = np.arange(n, dtype=lookup.dtype)
        if not (lookup[keys] == np.arange(n)).all():  # a later duplicate overwrote one
            raise InputError("Zell-IDs kommen mehrfach vor; jede Zelle nur einmal.")
        for j, (dr, dc) in enumerate(offsets):
            hit = lookup[keys + dr * width + dc]
            ok = hit >= 0
            nb[ok, j] = hit[ok]
        del lookup
    else:
        order = np.argsort(keys, kind="stable")
        skeys = keys[order]
        if n > 1 and (np.diff(skeys) == 0).any():
            raise InputError("Zell-IDs kommen mehrfach vor; jede Zelle nur einmal.")
        for j, (dr, dc) in enumerate(offsets):
            target = keys + dr * width + dc
            pos = np.minimum(np.searchsorted(skeys, target), n - 1)
            ok = skeys[pos] == target
            nb[ok, j] = order[pos[ok]]
    if not in_order:  # offsets ascend in key order, so sorted input gives sorted rows
        nb.sort(axis=1)
    valid = nb != sentinel
    counts = valid.sum(axis=1)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = nb[valid]
    del nb, valid
    m = sparse.csr_array((np.ones(len(indices)), indices, indptr), shape=(n, n))
    m.has_sorted_indices = True
    return m


def lattice_weights(
    cells: pd.DataFrame | Sequence[str] | np.ndarray,
    *,
    contiguity: Contiguity = "queen",
    order: int = 1,
    id_column: str = "gitter_id",
) -> SpatialWeights:
    """Rook or queen neighbours of grid cells from their ids (no geometry operations).

    Parameters
    ----------
    cells : DataFrame or sequence of str
        Cells with official ids (``id_column``) or the ids; one cell size.
    contiguity : {"queen", "rook"}, default "queen"
        ``"queen"``: cells within ``order`` steps in both directions (8 neighbours for
        ``order=1``); ``"rook"``: cells within ``order`` steps counted along rows plus columns
        (4 neighbours for ``order=1``).
    order : int, default 1
        Neighbourhood order (2 gives 24 queen / 12 rook neighbours).
    id_column : str, default "gitter_id"

    Returns
    -------
    SpatialWeights
        Binary, symmetric, zero diagonal, aligned to ``cells.index`` (or 0..n-1 for ids);
        ``kind`` is e.g. ``"queen (Zell-IDs)"``. Only listed cells are neighbours: on a census
        grid, unpopulated cells are absent, so a cell surrounded by empty cells has no
        neighbour (an island).

    Notes
    -----
    Each id gives the lattice position ``(row, col) = (Y, X) / cell size``; positions are
    packed into one integer key ``row * W + col`` (padded width ``W``), sorted once, and the
    neighbours at each offset are found with one ``searchsorted`` over all cells:
    ``O(n log n)`` time and ``O(n k)`` memory for ``k`` offsets (about 2 s and 0.5 GB for 3.1
    million cells, queen order 1). The result equals
    :func:`gis_planning.analysis.weights.queen_weights` on the cell squares.

    Examples
    --------
    >>> w = lattice_weights(["100mN1E1", "100mN1E2", "100mN2E2", "100mN5E5"])
    >>> w.cardinalities.tolist()
    [2, 2, 2, 0]
    >>> rook = lattice_weights(["100mN1E1", "100mN1E2", "100mN2E2"], contiguity="rook")
    >>> rook.cardinalities.tolist()
    [1, 2, 1]
    """
    offsets = _offsets(contiguity, order)
    col, row, _ = lattice_positions(cells, id_column=id_column)
    index = cells.index if isinstance(cells, pd.DataFrame) else pd.RangeIndex(len(col))
    if len(col) == 0:
        raise InputError("Die Zellen-Ebene ist leer.")
    m = _neighbour_csr(col, row, offsets)
    kind = f"{contiguity} (Zell-IDs)" if order == 1 else f"{contiguity} Ordnung {order} (Zell-IDs)"
    return SpatialWeights(m, pd.Index(index), kind, "B")


# ----------------------------------------------------------------------------- coarsen


def _coarsen_arrays(
    x: np.ndarray, y: np.ndarray, s0: int, values: np.ndarray, s: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    """Corners, source-cell counts and summed values of the coarse cells (sorted y, x)."""
    if s < s0:
        raise InputError(
            f"Die Zellgröße {s} m ist kleiner als die der Zellen ({s0} m); Zellen lassen "
            f"sich nur vergröbern."
        )
    nested = s % s0 == 0
    if nested:
        kx, ky, frac = x // s, y // s, None
        src = None
    else:
        def split(v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
            k0 = v // s
            k1 = (v + s0 - 1) // s
            f0 = (np.minimum(v + s0, (k0 + 1) * s) - v) / s0
            return k0, k1, f0, 1.0 - f0

        ax0, ax1, fx0, fx1 = split(x)
        ay0, ay1, fy0, fy1 = split(y)
        parts = [(ax0, ay0, fx0 * fy0), (ax1, ay0, fx1 * fy0), (ax0, ay1, fx0 * fy1),
                 (ax1, ay1, fx1 * fy1)]
        kx = np.concatenate([p[0] for p in parts])
        ky = np.concatenate([p[1] for p in parts])
        frac = np.concatenate([p[2] for p in parts])
        src = np.tile(np.arange(len(x)), 4)
        keep = frac > 0
        kx, ky, frac, src = kx[keep], ky[keep], frac[keep], src[keep]
    kx0, ky0 = int(kx.min()), int(ky.min())
    width = int(kx.max()) - kx0 + 1
    key = (ky - ky0) * width + (kx - kx0)
    span = int(key.max()) + 1
    if span <= 20 * len(key) + 1_000_000:
        # dense lattice: count per key without sorting (national grids, sub-second)
        n_all = np.bincount(key, minlength=span)
        uniq = np.flatnonzero(n_all)
        slot = np.full(span, -1, dtype=np.int64)
        slot[uniq] = np.arange(len(uniq))
        inv = slot[key]
        n_src = n_all[uniq]
    else:
        uniq, inv = np.unique(key, return_inverse=True)  # sorted by key: y, then x
        n_src = np.bincount(inv, minlength=len(uniq))
    vals = values if src is None else values[src] * frac[:, None]
    sums = np.column_stack([np.bincount(inv, weights=vals[:, j], minlength=len(uniq))
                            for j in range(values.shape[1])])
    cy = (uniq // width + ky0) * s
    cx = (uniq % width + kx0) * s
    return cx, cy, n_src, sums, nested


def coarsen_cells(
    cells: pd.DataFrame,
    cell_size: int,
    *,
    columns: Sequence[str],
    id_column: str = "gitter_id",
    geometry: bool = True,
) -> gpd.GeoDataFrame:
    """Sum the counts of grid cells to coarser cells of the same grid (e.g. 100 m -> 500 m).

    Parameters
    ----------
    cells : DataFrame
        Cells with official ids (``id_column``) and count columns.
    cell_size : int
        Target cell side in metres, at least the source cell size (250, 500, 1000, ...).
    columns : sequence of str
        Count columns to sum.
    id_column : str, default "gitter_id"
    geometry : bool, default True
        Give the coarse cells their squares (EPSG:3035); ``False`` gives a GeoDataFrame with
        empty geometries (for national-scale runs where only the ids are needed).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per coarse cell that receives counts (CRS EPSG:3035): ``gitter_id``
        (``CRS3035RES500mN…E…``), ``x_mp``/``y_mp`` (centre), ``n_quellzellen`` (source
        cells overlapping it), the summed ``columns`` (integers when the sizes nest, else
        floats), sorted by ``y`` then ``x``; ``attrs`` of ``cells`` plus ``zellgroesse_m`` and
        ``aufteilung`` (the rule).

    Notes
    -----
    The coarse cells are those of the INSPIRE grid anchored at the EPSG:3035 origin, so a
    500 m cell holds exactly 5 x 5 cells of 100 m. When the target size is not a multiple of
    the source size (250 m from 100 m), a source cell that straddles a coarse border is split
    by area, separately along x and y (halves, or quarters at corners): every person is kept
    (the sum is preserved exactly) but counts become fractional.

    Examples
    --------
    >>> import pandas as pd
    >>> cells = pd.DataFrame({"gitter_id": ["100mN10E10", "100mN10E11", "100mN14E14"],
    ...                       "personen": [3, 4, 5]})
    >>> c = coarsen_cells(cells, 500, columns=["personen"], geometry=False)
    >>> c["gitter_id"].tolist(), c["personen"].tolist()
    (['CRS3035RES500mN1000E1000'], [12])
    """
    from ..data.zensus import cell_ids, parse_cell_ids

    columns = list(columns)
    require_numeric(cells, columns, name="cells")
    if id_column not in cells.columns:
        raise SchemaError(f"Die Zellen brauchen die Spalte {id_column!r} mit den Zell-IDs.")
    x, y, s0 = parse_cell_ids(cells[id_column])
    s = int(cell_size)
    values = cells[columns].to_numpy(dtype=float)
    cx, cy, n_src, sums, nested = _coarsen_arrays(x, y, s0, values, s)
    data: dict[str, object] = {
        "gitter_id": cell_ids(cx, cy, cell_size=s),
        "x_mp": cx + s // 2,
        "y_mp": cy + s // 2,
        "n_quellzellen": n_src,
    }
    integer = nested and all(pd.api.types.is_integer_dtype(cells[c]) for c in columns)
    for j, c in enumerate(columns):
        data[c] = np.round(sums[:, j]).astype(np.int64) if integer else sums[:, j]
    geom = (shapely.box(cx, cy, cx + s, cy + s) if geometry
            else np.full(len(cx), None, dtype=object))
    out = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geom, crs=_GRID_CRS), crs=_GRID_CRS)
    out.attrs = {k: v for k, v in cells.attrs.items() if k in ("quelle", "lizenz", "stand",
                                                                "merkmal")}
    out.attrs["zellgroesse_m"] = s
    out.attrs["aufteilung"] = (
        f"{s0}-m-Zellen zu {s}-m-Zellen summiert" if nested else
        f"{s0}-m-Zellen zu {s}-m-Zellen summiert; Zellen auf einer {s}-m-Grenze nach "
        f"Flächenanteil aufgeteilt (Anzahlen mit Nachkommastellen)"
    )
    return out


# ---------------------------------------------------------------------------- hotspots


def fdr_permutations(n_tested: int, *, alpha: float = 0.05) -> int:
    """Smallest permutation count with which one unit can be an FDR discovery.

    With ``R`` permutations the smallest p-value is ``1 / (R + 1)``; Benjamini-Hochberg over
    ``m`` tests rejects a lone unit only if ``m p <= alpha``. So ``R = ceil(m / alpha) - 1``
    (at least 999).

    >>> fdr_permutations(86), fdr_permutations(10_000)
    (1719, 199999)
    """
    if n_tested < 0 or not 0 < alpha < 1:
        raise InputError("Die Zahl der getesteten Zellen darf nicht negativ sein und die "
                         "Fehlerrate (FDR) muss zwischen 0 und 1 liegen.")
    return max(999, math.ceil(n_tested / alpha) - 1)


def _quiet(fn, *args, **kwargs):
    """Call a hotspot function; islands are reported in attrs instead of a warning."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*haben keine Nachbarn.*")
        return fn(*args, **kwargs)


def _hotspots_one(
    x: np.ndarray,
    y: np.ndarray,
    s: int,
    pop: np.ndarray,
    grp: np.ndarray,
    *,
    group: str,
    total: str,
    contiguity: Contiguity,
    order: int,
    min_population: float,
    alpha: float,
    permutations: int | Literal["fdr"],
    max_permutations: int,
    seed: int | None,
    smoothing: Literal["eb"] | None,
    statistics: Sequence[str],
) -> tuple[dict[str, np.ndarray], dict[str, object]]:
    """Gi* / local Moran columns and the attrs record for one cell size (arrays only)."""
    from .hotspots import getis_ord, local_moran

    n = len(x)
    index = pd.RangeIndex(n)
    m_w = _neighbour_csr(x // s, y // s, _offsets(contiguity, order))
    kind = (f"{contiguity} (Zell-IDs)" if order == 1
            else f"{contiguity} Ordnung {order} (Zell-IDs)")
    w = SpatialWeights(m_w, index, kind, "B")
    frame = gpd.GeoDataFrame({total: pop, group: grp},
                             geometry=gpd.GeoSeries(np.full(n, None, dtype=object),
                                                    crs=_GRID_CRS), crs=_GRID_CRS)
    card = w.cardinalities
    tested = (pop >= min_population) & (card > 0)
    m = int(tested.sum())
    needed = fdr_permutations(m, alpha=alpha)
    if permutations == "fdr":
        perms = needed
    elif isinstance(permutations, int | np.integer) and permutations >= 0:
        perms = int(permutations)
    else:
        raise InputError(f"Die Permutationen (--permutations) müssen 'fdr' oder eine ganze "
                         f"Zahl ab 0 sein, nicht {permutations!r}.")
    note = ""
    gi_perms, lisa_perms = perms, max(perms, 1)
    if perms == 0:
        lisa_perms = min(needed, int(max_permutations))
    if perms > max_permutations:
        gi_perms, lisa_perms = 0, int(max_permutations)
        note = (f"Für {m:,} getestete Zellen wären {needed:,} Permutationen nötig; Gi* mit "
                f"analytischen p-Werten (Normalverteilung), lokales Moran's I mit "
                f"{lisa_perms:,} Permutationen.").replace(",", ".")
    opts = {"weights": w, "alpha": alpha, "population": total, "min_population": min_population,
            "rate_denominator": total, "smoothing": smoothing, "seed": seed}
    cols: dict[str, np.ndarray] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        cols["anteil_prozent"] = np.where(pop > 0, 100.0 * grp / pop, np.nan)
    attrs: dict[str, object] = {
        "zellgroesse_m": s, "gruppe": group, "gesamt": total, "nachbarschaft": w.kind,
        "mindestbevoelkerung": min_population, "alpha": alpha, "glaettung": smoothing,
        "zellen": n, "getestet": m, "ohne_nachbarn": int((card == 0).sum()),
        "permutationen_fdr": needed, "hinweis": note,
    }
    if "gi" in statistics:
        gi = _quiet(getis_ord, frame, group, permutations=gi_perms, **opts)
        cols["rate_prozent"] = 100.0 * gi["value"].to_numpy()
        cols["n_neighbours"] = card
        cols["gi_z"] = gi["gi_z"].to_numpy()
        cols["gi_p"] = (gi["gi_p_sim"] if gi_perms else gi["gi_p_norm"]).to_numpy()
        cols["gi_q"] = gi["gi_q"].to_numpy()
        cols["gi_klasse"] = gi["klasse"].array
        q = cols["gi_q"]
        attrs.update(
            gi_permutationen=gi_perms,
            gi_p_werte="Permutation" if gi_perms else "analytisch (Normalverteilung)",
            n_hotspot=gi.attrs["hotspots"]["n_hotspot"],
            n_kaeltepunkt=gi.attrs["hotspots"]["n_kaeltepunkt"],
            gi_kleinstes_q=(min(1.0, m / (gi_perms + 1)) if gi_perms
                            else float(np.nanmin(q)) if np.isfinite(q).any() else float("nan")),
        )
        del gi
    if "lisa" in statistics:
        lm = _quiet(local_moran, frame, group, permutations=lisa_perms, **opts)
        cols.setdefault("rate_prozent", 100.0 * lm["value"].to_numpy())
        cols.setdefault("n_neighbours", card)
        cols["lisa_i"] = lm["lisa_i"].to_numpy()
        cols["lisa_quadrant"] = lm["lisa_quadrant"].to_numpy()
        cols["lisa_p"] = lm["lisa_p_sim"].to_numpy()
        cols["lisa_q"] = lm["lisa_q"].to_numpy()
        cols["lisa_klasse"] = lm["klasse"].array
        attrs.update(lisa_permutationen=lisa_perms,
                     lisa_klassen=lm.attrs["hotspots"]["counts"],
                     lisa_kleinstes_q=min(1.0, m / (lisa_perms + 1)) if m else float("nan"))
    return cols, attrs


def grid_hotspots(
    cells: pd.DataFrame,
    *,
    group: str = "nichtdeutsche",
    total: str = "personen",
    cell_sizes: Sequence[int] = DEFAULT_CELL_SIZES,
    contiguity: Contiguity = "queen",
    order: int = 1,
    min_population: float | Mapping[int, float] = 30,
    alpha: float = 0.05,
    permutations: int | Literal["fdr"] = "fdr",
    max_permutations: int = 1_000_000,
    seed: int | None = 0,
    smoothing: Literal["eb"] | None = "eb",
    geometry: bool = True,
    statistics: Sequence[Literal["gi", "lisa"]] = ("gi", "lisa"),
    id_column: str = "gitter_id",
    progress: Callable[..., Iterable] | None = None,
) -> dict[int, gpd.GeoDataFrame]:
    """Gi* and local Moran's I of a group share on real grid cells, at several cell sizes.

    Parameters
    ----------
    cells : DataFrame
        Census cells with official ids (``gitter_id``) and the counts ``group`` and ``total``
        (e.g. a city's ``zensus2011`` layer); no geometry needed.
    group, total : str, default "nichtdeutsche", "personen"
        Count columns; the analysed value is the share ``group / total``.
    cell_sizes : sequence of int, default (100, 250, 500, 1000)
        Cell sizes in metres, each at least the cells' own size; coarser cells are built with
        :func:`coarsen_cells`.
    contiguity, order : default "queen", 1
        Neighbours on the lattice (:func:`lattice_weights`), at every cell size.
    min_population : float or mapping, default 30
        Cells with fewer persons are not tested (labelled "zu klein"); their values still
        enter their neighbours' sums. A mapping gives one floor per cell size.
    alpha : float, default 0.05
        False discovery rate (Benjamini-Hochberg over the tested cells of one cell size).
    permutations : int or "fdr", default "fdr"
        ``"fdr"``: :func:`fdr_permutations` of the number of tested cells, so that a single
        cell can be a discovery. ``0``: analytic (normal) p-values for Gi*; local Moran then
        uses the FDR count. More than ``max_permutations`` needed: Gi* falls back to analytic
        p-values and local Moran uses ``max_permutations`` (said in ``attrs``).
    max_permutations : int, default 1,000,000
    seed : int or None, default 0
    smoothing : {"eb", None}, default "eb"
        Global empirical-Bayes smoothing of the share (small cells pulled to the city share).
    geometry : bool, default True
        Give the result the cell squares (EPSG:3035); ``False`` leaves the geometry empty
        (national runs).
    statistics : sequence, default ("gi", "lisa")
    id_column : str, default "gitter_id"
    progress : callable, optional
        ``progress(iterable, desc=..., total=..., unit=...)`` wraps the loop over the cell
        sizes (the CLI passes a progress bar).

    Returns
    -------
    dict of int to geopandas.GeoDataFrame
        Per cell size (CRS EPSG:3035): ``gitter_id``, ``x_mp``, ``y_mp``, ``total``,
        ``group``, ``anteil_prozent`` (raw share), ``rate_prozent`` (analysed, EB-smoothed
        share), ``n_neighbours``, ``gi_z``, ``gi_p``, ``gi_q``, ``gi_klasse``, ``lisa_i``,
        ``lisa_quadrant``, ``lisa_p``, ``lisa_q``, ``lisa_klasse``; the cells' own size keeps
        the index of ``cells``. ``attrs["hotspots"]`` records the cell size, neighbourhood,
        floor, cells tested, permutations, the smallest attainable q and class counts;
        ``attrs`` also carries the cells' ``quelle``, ``lizenz``, ``stand``.

    Notes
    -----
    Census cells are real observations (each cell's own count), unlike a grid filled with
    polygon values, so testing them is valid; they are perturbed (SAFE) and small, which the
    EB smoothing and the floor address. Permutation counts: the smallest attainable
    permutation p-value is ``1 / (R + 1)``, so ``R >= m / alpha - 1`` lets a single one of
    ``m`` tested cells pass BH at level ``alpha``. Gi* is binary with the cell itself
    included; local Moran's I uses row-standardised weights (see
    :mod:`gis_planning.analysis.hotspots`, called with explicit ``permutations``).
    """
    from ..data.zensus import cell_ids, parse_cell_ids

    cell_sizes = [int(c) for c in cell_sizes]
    if not cell_sizes:
        raise InputError("Keine Zellgröße angegeben.")
    require_numeric(cells, [group, total], name="cells")
    if id_column not in cells.columns:
        raise SchemaError(f"Die Zellen brauchen die Spalte {id_column!r} mit den Zell-IDs.")
    if len(cells) == 0:
        raise InputError("Die Zellen-Ebene ist leer.")
    x0, y0, s0 = parse_cell_ids(cells[id_column])
    values = cells[[total, group]].to_numpy(dtype=float)
    keep_attrs = {k: v for k, v in cells.attrs.items() if k in ("quelle", "lizenz", "stand")}
    results: dict[int, gpd.GeoDataFrame] = {}
    sizes: Iterable[int] = cell_sizes
    if progress is not None:
        sizes = progress(cell_sizes, desc="Gitter-Hotspots", total=len(cell_sizes),
                         unit="Zellgröße")
    for size in sizes:
        if size == s0:
            x, y, pop, grp = x0, y0, values[:, 0], values[:, 1]
            ids, index, rule = cells[id_column].array, cells.index, ""
        else:
            x, y, _, sums, nested = _coarsen_arrays(x0, y0, s0, values, size)
            pop, grp = sums[:, 0], sums[:, 1]
            ids, index = cell_ids(x, y, cell_size=size), pd.RangeIndex(len(x))
            rule = ("" if nested else
                    f"{s0}-m-Zellen auf einer {size}-m-Grenze nach Flächenanteil aufgeteilt")
        floor = (float(min_population.get(size, 0)) if isinstance(min_population, Mapping)
                 else float(min_population))
        cols, attrs = _hotspots_one(
            x, y, size, pop, grp, group=group, total=total, contiguity=contiguity,
            order=order, min_population=floor, alpha=alpha, permutations=permutations,
            max_permutations=max_permutations, seed=seed, smoothing=smoothing,
            statistics=statistics,
        )
        attrs["aufteilung"] = rule
        data = {"gitter_id": ids, "x_mp": x + size // 2, "y_mp": y + size // 2,
                total: pop, group: grp, **cols}
        geom = (shapely.box(x, y, x + size, y + size) if geometry
                else np.full(len(x), None, dtype=object))
        out = gpd.GeoDataFrame(pd.DataFrame(data, index=index),
                               geometry=gpd.GeoSeries(geom, index=index, crs=_GRID_CRS),
                               crs=_GRID_CRS)
        out.attrs = dict(keep_attrs)
        out.attrs["hotspots"] = attrs
        results[size] = out
        logger.info("Gitter-Hotspots %d m: %d Zellen, %d getestet", size, attrs["zellen"],
                    attrs["getestet"])
    return results


def grid_hotspot_summary(results: Mapping[int, gpd.GeoDataFrame]) -> pd.DataFrame:
    """One row per cell size: cells, tested cells, permutations, classes, smallest q.

    Columns (German): ``zellgroesse_m``, ``zellen``, ``getestet``, ``ohne_nachbarn``,
    ``gi_p_werte``, ``gi_permutationen``, ``gi_kleinstes_q``, ``hotspots``,
    ``kaeltepunkte``, ``lisa_permutationen``, ``lisa_kleinstes_q``, ``hoch_hoch``,
    ``niedrig_niedrig``, ``hoch_niedrig``, ``niedrig_hoch``, ``hinweis``.
    """
    rows = []
    for size, gdf in results.items():
        a = gdf.attrs["hotspots"]
        lk = a.get("lisa_klassen", {})
        rows.append({
            "zellgroesse_m": size, "zellen": a["zellen"], "getestet": a["getestet"],
            "ohne_nachbarn": a["ohne_nachbarn"], "gi_p_werte": a.get("gi_p_werte", ""),
            "gi_permutationen": a.get("gi_permutationen"),
            "gi_kleinstes_q": a.get("gi_kleinstes_q"), "hotspots": a.get("n_hotspot"),
            "kaeltepunkte": a.get("n_kaeltepunkt"),
            "lisa_permutationen": a.get("lisa_permutationen"),
            "lisa_kleinstes_q": a.get("lisa_kleinstes_q"),
            "hoch_hoch": lk.get("Hoch-Hoch"), "niedrig_niedrig": lk.get("Niedrig-Niedrig"),
            "hoch_niedrig": lk.get("Hoch-Niedrig"), "niedrig_hoch": lk.get("Niedrig-Hoch"),
            "hinweis": a["hinweis"],
        })
    return pd.DataFrame(rows).set_index("zellgroesse_m")


# ------------------------------------------------------------------- segregation profile


def _stencil(distance: float, s: float, kernel: str) -> np.ndarray:
    """Kernel weights on the lattice, as segregation.py's lattice smoother builds them."""
    from .segregation import _kernel_values

    r = int(np.floor(distance / s + 1e-9))
    off = np.arange(-r, r + 1)
    dx, dy = np.meshgrid(off, off)
    d = s * np.hypot(dx, dy)
    inside = d <= distance * (1 + 1e-12)
    st = np.where(inside, _kernel_values(np.minimum(d / distance, 1.0), kernel), 0.0)
    st[r, r] = 1.0
    return st


class _LatticeSmoother:
    """Kernel sums of several count columns at several bandwidths on one lattice."""

    def __init__(self, col: np.ndarray, row: np.ndarray, values: np.ndarray, *,
                 max_radius: int, precision: str) -> None:
        self.dtype = np.float64 if precision == "double" else np.float32
        pad = max_radius
        c = (col - col.min() + pad).astype(np.int64)
        r = (row - row.min() + pad).astype(np.int64)
        self.shape = (int(r.max()) + pad + 1, int(c.max()) + pad + 1)
        self.flat = r * self.shape[1] + c
        self.values = values
        self.fshape = (sfft.next_fast_len(self.shape[0], real=True),
                       sfft.next_fast_len(self.shape[1], real=True))
        self._spectra: list[np.ndarray] | None = None
        self._rasters: list[np.ndarray] | None = None

    def _raster(self, k: int, dtype: type) -> np.ndarray:
        out = np.zeros(self.shape[0] * self.shape[1], dtype=dtype)
        out[self.flat] = self.values[:, k]
        return out

    def _ensure_rasters(self) -> list[np.ndarray]:
        if self._rasters is None:
            self._rasters = [self._raster(k, self.dtype) for k in range(self.values.shape[1])]
        return self._rasters

    def direct(self, stencil: np.ndarray) -> np.ndarray:
        """Sum over the stencil's offsets by gathering from a flat raster (small kernels).

        The rasters hold whole counts, exact in float32 too; sums are taken in float64.
        """
        self._ensure_rasters()
        rad = stencil.shape[0] // 2
        width = self.shape[1]
        out = np.zeros((len(self.flat), len(self._rasters)))
        for dy in range(-rad, rad + 1):
            for dx in range(-rad, rad + 1):
                wgt = stencil[dy + rad, dx + rad]
                if wgt == 0.0:
                    continue
                pos = self.flat + (dy * width + dx)
                for k, ras in enumerate(self._rasters):
                    out[:, k] += wgt * ras[pos]
        return out

    def release(self) -> None:
        """Free the rasters of the direct method."""
        self._rasters = None

    def fft(self, stencil: np.ndarray) -> np.ndarray:
        """Circular convolution by FFT on a padded raster (no wrap-around: padding >= radius)."""
        h, w = self.shape
        if self._spectra is None:
            rasters = self._ensure_rasters()
            self._spectra = [sfft.rfft2(ras.reshape(h, w), s=self.fshape, workers=-1)
                             for ras in rasters]
        rad = stencil.shape[0] // 2
        # the flipped stencil with its centre at (0, 0), wrapped around the corners
        ker = np.zeros(self.fshape, dtype=self.dtype)
        flipped = stencil[::-1, ::-1].astype(self.dtype)
        idx = np.arange(-rad, rad + 1)
        ker[np.ix_(idx % self.fshape[0], idx % self.fshape[1])] = flipped
        kspec = sfft.rfft2(ker, workers=-1)
        del ker
        rr, cc = np.divmod(self.flat, w)
        flat_f = rr * self.fshape[1] + cc
        out = np.zeros((len(self.flat), len(self._spectra)))
        for k, spec in enumerate(self._spectra):
            prod = spec * kspec
            sm = sfft.irfft2(prod, s=self.fshape, workers=-1, overwrite_x=True)
            del prod
            out[:, k] = sm.ravel()[flat_f]
            del sm
        del kspec
        return out


def segregation_profile(
    cells: pd.DataFrame,
    *,
    group: str = "nichtdeutsche",
    total: str = "personen",
    distances: Sequence[float] = DEFAULT_BANDWIDTHS,
    kernel: Literal["triangular", "uniform", "quadratic", "quartic", "gaussian"] = "triangular",
    method: Literal["auto", "direct", "fft"] = "auto",
    precision: Literal["double", "single"] = "double",
) -> pd.DataFrame:
    """Multiscale segregation profile: spatial dissimilarity and isolation per kernel bandwidth.

    Parameters
    ----------
    cells : DataFrame
        Grid cells with official ids (``gitter_id``) and the counts ``group`` and ``total``.
    group, total : str, default "nichtdeutsche", "personen"
    distances : sequence of float, default (100, 200, 500, 1000, 2000, 4000)
        Kernel bandwidths in metres, each at least the cell size.
    kernel : str, default "triangular"
        Kernel shape, as in :func:`gis_planning.analysis.segregation.kernel_smooth`.
    method : {"auto", "direct", "fft"}, default "auto"
        Lattice smoothing by direct sums over the stencil (``"direct"``, for small kernels) or
        by FFT convolution (``"fft"``); ``"auto"`` takes direct sums for stencils of at most
        49 cells.
    precision : {"double", "single"}, default "double"
        Floating point of the FFT; ``"single"`` is about twice as fast and needs half the
        memory (for national grids); the indices then differ by about 1e-6.

    Returns
    -------
    pandas.DataFrame
        One row per bandwidth, index ``bandbreite_m``: ``kernel``, ``zellen_im_kern`` (cells
        with positive weight, the cell itself included), ``n_units``, ``total``,
        ``group_total``, ``group_share``, ``dissimilarity`` (spatial D), ``isolation`` (spatial
        xPx), ``exposure``; ``attrs`` with ``aspatial`` (D and isolation of the cells
        themselves), the cell size, method and the cells' ``quelle``/``stand``.

    Raises
    ------
    InputError
        A bandwidth below the cell size (it would only repeat the aspatial value).

    Notes
    -----
    Spatial ("egohood") indices after Reardon & O'Sullivan (2004), as
    :func:`gis_planning.analysis.segregation.global_indices` with ``distance=`` computes
    them: every cell's counts are replaced by their kernel-weighted sums over the cells within
    the bandwidth (weight ``k(d / h)``, the cell itself weight 1), and D, isolation and
    exposure are computed from the smoothed counts by the same single-group formulas
    (``segregation._single``, Massey & Denton 1988). The smoothing is done
    here on the lattice of cell ids (the kernel sums of the group and the total; the other
    group follows by linearity), by direct sums or one FFT per column and bandwidth, which
    makes 4 km kernels feasible on millions of cells; the values equal ``global_indices(cells,
    distance=h)`` to rounding (tested). With the triangular kernel a bandwidth equal to the
    cell size gives the neighbours (100 m away) weight 0: that row is the aspatial index.
    """
    from .segregation import _single

    require_numeric(cells, [group, total], name="cells")
    if precision not in ("double", "single"):
        raise InputError(f"Die Rechengenauigkeit muss 'double' oder 'single' sein, nicht "
                         f"{precision!r}.")
    if method not in ("auto", "direct", "fft"):
        raise InputError(f"Das Glättungsverfahren muss 'auto', 'direct' oder 'fft' sein, "
                         f"nicht {method!r}.")
    col, row, s = lattice_positions(cells)
    distances = [float(d) for d in distances]
    small = [d for d in distances if not d >= s]
    if small:
        raise InputError(
            f"Bandbreiten unter der Zellgröße ({s} m) wiederholen nur den nicht-räumlichen "
            f"Wert: {small}; kleinste sinnvolle Bandbreite {s} m."
        )
    x = cells[group].to_numpy(dtype=float)
    t = cells[total].to_numpy(dtype=float)
    if (x < 0).any() or (t < x).any() or np.isnan(x).any() or np.isnan(t).any():
        raise SchemaError(f"Die Spalte {group!r} muss in jeder Zelle zwischen 0 und {total!r} "
                          f"liegen.")
    max_rad = int(np.floor(max(distances) / s + 1e-9)) if distances else 0
    smoother = _LatticeSmoother(col, row, np.column_stack([x, t]), max_radius=max_rad,
                                precision=precision)
    aspatial = _single(x, t)
    rows = []
    for d in distances:
        st = _stencil(d, s, kernel)
        use_direct = method == "direct" or (method == "auto" and st.size <= 49)
        sm = smoother.direct(st) if use_direct else smoother.fft(st)
        xs, ts = sm[:, 0], sm[:, 1]
        xs = np.clip(xs, 0.0, None)
        ts = np.maximum(ts, xs)  # FFT rounding must not make the group exceed the total
        dissim, iso, expo = _single(xs, ts)
        rows.append({
            "bandbreite_m": d, "kernel": kernel, "zellen_im_kern": int((st > 0).sum()),
            "n_units": len(x), "total": float(t.sum()),
            "group_total": float(x.sum()), "group_share": float(x.sum() / t.sum()),
            "dissimilarity": float(dissim), "isolation": float(iso), "exposure": float(expo),
            "verfahren": "direkt" if use_direct else f"FFT ({precision})",
        })
    out = pd.DataFrame(rows).set_index("bandbreite_m")
    out.attrs = {k: v for k, v in cells.attrs.items() if k in ("quelle", "lizenz", "stand")}
    out.attrs.update(
        zellgroesse_m=s, gruppe=group, gesamt=total,
        aspatial={"dissimilarity": float(aspatial[0]), "isolation": float(aspatial[1])},
    )
    return out
