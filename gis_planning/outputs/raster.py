"""Raster surfaces on a regular grid, written as Cloud-Optimised GeoTIFF with rasterio.

Surfaces for planning maps:

* :func:`flats_density` - kernel density of the (confidential) project flats, computed only
  from counts per origin-anchored 1-km block with small-number suppression, on the fixed
  published grids :data:`FLATS_CELL_SIZES`;
* :func:`population_density` - persons per km² from census grid cells (Zensus 100 m cells):
  each cell's count over its full cell area, on the cells' own lattice (EPSG:3035), so the band
  sum times the cell area equals the source total exactly;
* :func:`grid_share_surface` - the share of a group (e.g. non-Germans) per census cell;
* :func:`grid_hotspot_surface` - Gi* z-scores and classes and local Moran classes of the
  census cells (:func:`gis_planning.analysis.lattice.grid_hotspots`: real cells, not copies of
  polygon values);
* :func:`distance_surface` - distance from each cell centre to the nearest Kita / school.

:func:`zonal_statistics` sums a density surface back to polygons (Stadtteile) to check that
totals are preserved; :func:`write_cog` writes a surface atomically as a COG with nodata,
band descriptions, units and overviews.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from scipy import ndimage, sparse
from scipy.spatial import cKDTree

from .._atomic import atomic_path
from .._errors import InputError
from .._validate import (
    require_columns,
    require_crs,
    require_numeric,
    require_projected,
    require_same_crs,
)
from ..privacy import DEFAULT_K, guard

__all__ = [
    "FLATS_BLOCK_M",
    "FLATS_CELL_SIZES",
    "FLATS_MIN_BANDWIDTH",
    "GRID_LAYER",
    "NODATA",
    "SURFACES",
    "RasterGrid",
    "Surface",
    "available_surfaces",
    "catalog_surface",
    "cell_raster_grid",
    "check_flats_options",
    "distance_surface",
    "flats_audit",
    "flats_density",
    "grid_hotspot_surface",
    "grid_share_surface",
    "population_density",
    "raster_grid",
    "smooth_mass",
    "total_check",
    "write_cog",
    "zonal_statistics",
]

log = logging.getLogger(__name__)

#: Nodata value of the written GeoTIFFs (float32).
NODATA = -9999.0

_M2_PER_KM2 = 1.0e6


@dataclass(frozen=True)
class RasterGrid:
    """A north-up raster lattice over a domain (cells anchored at the CRS origin).

    Attributes
    ----------
    transform
        Affine transform of the top-left corner (rasterio convention).
    width, height
        Columns and rows.
    cell_size
        Cell side in metres.
    crs
        CRS of the domain (projected, metres).
    cells
        One row per cell that intersects the domain: ``cell_id``, ``col``, ``row`` (lattice),
        ``r``, ``c`` (array row and column), ``covered_m2`` (area inside the domain) and the
        whole square cell as geometry.
    mask
        ``(height, width)`` bool: cell intersects the domain.
    covered_m2
        ``(height, width)`` area of each cell inside the domain (0 outside).
    """

    transform: Affine
    width: int
    height: int
    cell_size: float
    crs: object
    cells: gpd.GeoDataFrame
    mask: np.ndarray
    covered_m2: np.ndarray

    def to_array(self, values: np.ndarray | pd.Series) -> np.ndarray:
        """Return a ``(height, width)`` array with ``values`` (one per cell) and NaN elsewhere."""
        out = np.full((self.height, self.width), np.nan)
        out[self.cells["r"].to_numpy(), self.cells["c"].to_numpy()] = np.asarray(values, float)
        return out

    def centres(self) -> np.ndarray:
        """Return the ``(n, 2)`` cell-centre coordinates of :attr:`cells`."""
        s = self.cell_size
        return np.column_stack([(self.cells["col"].to_numpy() + 0.5) * s,
                                (self.cells["row"].to_numpy() + 0.5) * s])


@dataclass(frozen=True)
class Surface:
    """A multi-band raster surface with German band descriptions and units.

    ``data`` is ``(bands, height, width)`` float64 with NaN for nodata. A band whose
    ``kinds`` entry is ``"density"`` holds an amount per km² of the cell's area inside the
    domain, so ``value * covered_km2`` summed over cells gives the amount (see
    :func:`zonal_statistics`); ``"value"`` bands hold values (z-scores, metres, codes).
    ``attrs`` is checked by :func:`gis_planning.privacy.guard` before writing.
    """

    name: str
    data: np.ndarray
    grid: RasterGrid
    bands: tuple[str, ...]
    units: tuple[str, ...]
    kinds: tuple[str, ...]
    tags: dict[str, str] = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)

    def band(self, name_or_index: str | int) -> np.ndarray:
        """Return one band as a ``(height, width)`` array (by index or description)."""
        if isinstance(name_or_index, str):
            if name_or_index not in self.bands:
                raise InputError(f"unknown band {name_or_index!r}; bands: {list(self.bands)}.")
            name_or_index = self.bands.index(name_or_index)
        return self.data[name_or_index]

    def total(self, band: int = 0) -> float:
        """Amount of a density band: ``sum(value * covered km²)`` over non-nodata cells."""
        return float(np.nansum(self.data[band] * self.grid.covered_m2) / _M2_PER_KM2)


# --------------------------------------------------------------------------------- grid


def raster_grid(domain: gpd.GeoDataFrame | gpd.GeoSeries, *, cell_size: float = 100
                ) -> RasterGrid:
    """Return the raster lattice of ``cell_size`` metres covering ``domain``.

    Parameters
    ----------
    domain
        Polygons (e.g. the Stadtteile) in a projected CRS with metre units; dissolved.
    cell_size
        Cell side in metres (default 100).

    Notes
    -----
    Cells are those of :func:`gis_planning.analysis.grid.grid` (square, anchored at the CRS origin,
    so ids match other grids of the same size); ``covered_m2`` is the exact area of each
    cell inside the domain (shapely intersection of the boundary cells).
    """
    from ..analysis.grid import grid

    require_projected(domain, name="domain")
    clipped = grid(domain, cell_size=cell_size, clip=True)
    s = float(cell_size)
    c0, r1 = int(clipped["col"].min()), int(clipped["row"].max())
    width = int(clipped["col"].max()) - c0 + 1
    height = r1 - int(clipped["row"].min()) + 1
    cells = clipped[["cell_id", "col", "row"]].copy()
    cells["r"] = (r1 - cells["row"]).to_numpy()
    cells["c"] = (cells["col"] - c0).to_numpy()
    cells["covered_m2"] = clipped["area_m2"].to_numpy()
    x0 = cells["col"].to_numpy() * s
    y0 = cells["row"].to_numpy() * s
    cells = gpd.GeoDataFrame(cells, geometry=shapely.box(x0, y0, x0 + s, y0 + s),
                             crs=clipped.crs)
    mask = np.zeros((height, width), dtype=bool)
    mask[cells["r"], cells["c"]] = True
    covered = np.zeros((height, width))
    covered[cells["r"], cells["c"]] = cells["covered_m2"].to_numpy()
    transform = Affine(s, 0.0, c0 * s, 0.0, -s, (r1 + 1) * s)
    return RasterGrid(transform, width, height, s, clipped.crs, cells, mask, covered)


def _zone_cell_areas(zones: gpd.GeoDataFrame, rgrid: RasterGrid) -> sparse.csr_array:
    """Sparse ``(zones, cells)`` matrix of intersection areas in m²."""
    require_same_crs(("zones", zones), ("raster grid", rgrid.cells))
    cells = rgrid.cells.geometry.values
    zgeo = zones.geometry.values
    tree = shapely.STRtree(cells)
    zi, ci = tree.query(zgeo, predicate="intersects")
    inside = shapely.contains_properly(zgeo[zi], cells[ci])
    area = np.full(len(zi), rgrid.cell_size ** 2)
    if (~inside).any():
        area[~inside] = shapely.area(shapely.intersection(zgeo[zi[~inside]], cells[ci[~inside]]))
    keep = area > 0
    return sparse.csr_array((area[keep], (zi[keep], ci[keep])),
                            shape=(len(zones), len(cells)))


# ----------------------------------------------------------------------------- smoothing


def smooth_mass(mass: np.ndarray, mask: np.ndarray, *, sigma_cells: float) -> np.ndarray:
    """Smooth amounts per cell with a Gaussian kernel, keeping the total inside ``mask``.

    Parameters
    ----------
    mass
        ``(height, width)`` amounts per cell (0 outside the mask).
    mask
        Cells of the domain.
    sigma_cells
        Kernel standard deviation in cells (0: no smoothing).

    Returns
    -------
    numpy.ndarray
        Smoothed amounts, 0 outside ``mask``; ``out.sum() == mass[mask].sum()``.

    Notes
    -----
    Edge-corrected (source-normalised) kernel smoothing: with the truncated Gaussian kernel
    :math:`K` (``scipy.ndimage.gaussian_filter``, weights summing to 1) and
    :math:`c_j = \\sum_{i \\in D} K(i - j)` the part of source cell :math:`j`'s kernel that
    lies inside the domain :math:`D`,

    .. math:: \\hat m_i = 1_D(i) \\sum_j K(i - j)\\, m_j / c_j ,

    so every source cell hands out exactly its amount inside the domain and
    :math:`\\sum_i \\hat m_i = \\sum_j m_j`: nothing leaks across the city boundary.
    """
    m = np.where(mask, np.nan_to_num(np.asarray(mass, float)), 0.0)
    if sigma_cells <= 0:
        return m
    pad = math.ceil(4.0 * sigma_cells) + 1
    mp = np.pad(m, pad)
    maskp = np.pad(mask.astype(float), pad)
    c = ndimage.gaussian_filter(maskp, sigma_cells, mode="constant", truncate=4.0)
    src = np.divide(mp, c, out=np.zeros_like(mp), where=c > 0)
    out = ndimage.gaussian_filter(src, sigma_cells, mode="constant", truncate=4.0) * maskp
    return out[pad:-pad, pad:-pad]


def _density(mass: np.ndarray, rgrid: RasterGrid) -> np.ndarray:
    """Amount per cell -> amount per km² of the cell's area inside the domain (NaN outside)."""
    km2 = rgrid.covered_m2 / _M2_PER_KM2
    return np.where(rgrid.mask, np.divide(mass, km2, out=np.zeros_like(mass), where=km2 > 0),
                    np.nan)


def _sigma(bandwidth: float, cell_size: float) -> float:
    if not np.isfinite(bandwidth) or bandwidth < 0:
        raise InputError(f"`bandwidth` must be a non-negative number of metres, got "
                         f"{bandwidth!r}.")
    return float(bandwidth) / float(cell_size)


# ---------------------------------------------------------------------------- surfaces


#: Cell sizes (metres) of the only grids on which confidential points are published; all are
#: anchored at the CRS origin and divide :data:`FLATS_BLOCK_M`.
FLATS_CELL_SIZES = (100.0, 250.0, 500.0, 1000.0)

#: Side (metres) of the origin-anchored blocks in which confidential points are counted and
#: released: a flats surface depends on these block counts only.
FLATS_BLOCK_M = 1000.0

#: Smallest kernel bandwidth (metres) of a flats surface (no 0: no cell-exact counts).
FLATS_MIN_BANDWIDTH = 500.0


def check_flats_options(cell_size: float, bandwidth: float = 1000, k: int = DEFAULT_K) -> None:
    """Raise :class:`InputError` unless the options are allowed for a flats surface."""
    from ..labels import fmt_number

    sizes = ", ".join(fmt_number(s, 0) for s in FLATS_CELL_SIZES)
    if not any(float(cell_size) == s for s in FLATS_CELL_SIZES):
        raise InputError(
            f"Zellgröße {fmt_number(cell_size, 4).rstrip('0').rstrip(',')} m ist für "
            f"vertrauliche Punkte nicht erlaubt: nur die festen, am Koordinatenursprung "
            f"ausgerichteten Raster {sizes} m, damit sich Läufe mit verschobenen Zellgrenzen "
            f"nicht gegeneinander verrechnen lassen. Wählen Sie eine davon (--cell-size)."
        )
    if not np.isfinite(bandwidth) or bandwidth < FLATS_MIN_BANDWIDTH:
        raise InputError(
            f"Bandbreite {bandwidth!r} m ist für vertrauliche Punkte zu klein: mindestens "
            f"{fmt_number(FLATS_MIN_BANDWIDTH, 0)} m (--bandwidth); eine kleinere würde "
            f"einzelne Wohnungen erkennbar machen."
        )
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < DEFAULT_K:
        raise InputError(
            f"Mindestzahl {k!r} je Block ist zu klein: mindestens {DEFAULT_K} (--k), sonst "
            f"wären kleine Gruppen erkennbar."
        )


def _block_suppression(counts: pd.Series, k: int) -> np.ndarray:
    """Return which blocks to withhold: primary, secondary and 'withheld sum >= k'.

    ``counts``: flats per block (all blocks of the domain, zeros included), one equation
    (the total) treated as public. Withheld blocks are those of
    :func:`gis_planning.privacy.suppress_counts` with ``k``; if their sum is below ``k``
    (e.g. three blocks of 1, 2 and 1), the smallest shown blocks are withheld too until it is
    not, so that total minus shown never reveals a count below ``k``.
    """
    from ..privacy import suppress_counts

    res = suppress_counts(counts, k=k)
    withheld = (res.cells["unterdrueckung"] != "").to_numpy().copy()
    values = counts.to_numpy().copy()
    order = np.argsort(np.where(withheld | (values == 0), np.inf, values), kind="stable")
    for i in order:
        if not 0 < values[withheld].sum() < k:
            break
        if withheld[i] or values[i] == 0:
            break
        withheld[i] = True
    return withheld


def flats_density(
    points: gpd.GeoDataFrame,
    domain: gpd.GeoDataFrame,
    *,
    cell_size: float = 100,
    bandwidth: float = 1000,
    k: int = DEFAULT_K,
) -> Surface:
    """Kernel density of project flats from counts per 1-km block, with suppression.

    Parameters
    ----------
    points
        Project flats (confidential points allowed: only their counts per block are used, no
        coordinate leaves this function).
    domain
        Area of the surface (the Stadtteile), same projected CRS.
    cell_size
        Cell side in metres, one of :data:`FLATS_CELL_SIZES` (100, 250, 500, 1000).
    bandwidth
        Gaussian kernel standard deviation in metres, at least :data:`FLATS_MIN_BANDWIDTH`
        (default 1000).
    k
        Minimum number of flats in a shown block (at least
        :data:`~gis_planning.privacy.DEFAULT_K`).

    Returns
    -------
    Surface
        One band "Projektwohnungen je km²" (density); cells of withheld blocks are nodata.
        Tags: ``summe`` (all flats in the domain, ``"< k"`` below ``k``), ``gezeigt`` (flats
        in shown blocks), ``bloecke_gezeigt``, ``bloecke_unterdrueckt``, ``block_m``, ``k``.

    Raises
    ------
    InputError
        A cell size outside :data:`FLATS_CELL_SIZES`, a bandwidth below
        :data:`FLATS_MIN_BANDWIDTH` or ``k`` below the default.

    Notes
    -----
    The surface is a function of the counts per block only, so two runs (other cell size,
    bandwidth or ``k``) can be differenced without learning anything finer than a block:

    1. Flats inside the domain polygons are counted per block of :data:`FLATS_BLOCK_M`
       metres, anchored at the CRS origin (block ``(i, j)`` spans
       ``[i B, (i+1) B) x [j B, (j+1) B)``), independent of the cell size.
    2. Blocks are released like a table whose total is public
       (:func:`gis_planning.privacy.suppress_counts`): blocks with ``0 < n < k`` are withheld
       (primary), further blocks so that no withheld count can be recomputed or pinned to an
       interval narrower than 1 (secondary), and more until the withheld blocks together
       hold 0 or at least ``k`` flats. For ``k`` above the default the blocks withheld at
       the default ``k`` are withheld too, so a run with a larger ``k`` shows a subset of what
       a default run shows and the two cannot be differenced.
    3. The count of each shown block is spread over its cells by area inside the domain and
       smoothed with :func:`smooth_mass` (Gaussian, edge-corrected, total kept) over the
       domain without the withheld blocks, whose cells are nodata. The cell value is the
       smoothed count per km² of the cell's area inside the domain.
    """
    from ..labels import fmt_int

    require_same_crs(("points", points), ("domain", domain))
    check_flats_options(cell_size, bandwidth, k)
    k = int(k)
    rgrid = raster_grid(domain, cell_size=cell_size)
    s, b = float(cell_size), FLATS_BLOCK_M
    per = round(b / s)
    xy = shapely.get_coordinates(points.geometry.values)
    if len(xy) != len(points):
        raise InputError("Die Projektwohnungen müssen genau einen Punkt je Zeile haben (keine "
                         "Multipunkte oder leeren Geometrien).")
    area = shapely.union_all(domain.geometry.values)
    shapely.prepare(area)
    inside = shapely.covers(area, shapely.points(xy)) if len(xy) else np.zeros(0, bool)
    outside = int((~inside).sum())
    if outside:
        warnings.warn(
            f"{fmt_int(outside) if outside >= k else f'weniger als {k}'} Projektwohnung(en) "
            f"liegen außerhalb der Stadtteile und werden nicht gezählt.",
            UserWarning, stacklevel=2)
    xy = xy[inside]
    # blocks of the domain: those holding at least one domain cell
    cell_bc = rgrid.cells["col"].to_numpy() // per
    cell_br = rgrid.cells["row"].to_numpy() // per
    blocks = pd.MultiIndex.from_arrays([cell_bc, cell_br]).unique().sort_values()
    pt = pd.MultiIndex.from_arrays([np.floor(xy[:, 0] / b).astype(np.int64),
                                    np.floor(xy[:, 1] / b).astype(np.int64)])
    counts = pd.Series(0, index=blocks, dtype=np.int64)
    if len(pt):
        found = pd.Series(1, index=pt).groupby(level=[0, 1]).sum()
        counts = found.reindex(blocks, fill_value=0).astype(np.int64)
    withheld = _block_suppression(counts, k)
    if k > DEFAULT_K:  # nested in the default release: no differencing between k values
        withheld |= _block_suppression(counts, DEFAULT_K)
    total = int(counts.sum())
    shown = pd.Series(np.where(withheld, 0, counts.to_numpy()), index=blocks)
    cell_block = pd.MultiIndex.from_arrays([cell_bc, cell_br])
    cell_withheld = pd.Series(withheld, index=blocks).reindex(cell_block).to_numpy()
    # spread each shown block over its cells by the area inside the domain
    cov = rgrid.cells["covered_m2"].to_numpy()
    block_area = pd.Series(cov, index=cell_block).groupby(level=[0, 1]).sum()
    share = cov / block_area.reindex(cell_block).to_numpy()
    cell_mass = shown.reindex(cell_block).to_numpy() * share
    r, c = rgrid.cells["r"].to_numpy(), rgrid.cells["c"].to_numpy()
    mass = np.zeros((rgrid.height, rgrid.width))
    mass[r, c] = cell_mass
    open_mask = rgrid.mask.copy()
    open_mask[r[cell_withheld], c[cell_withheld]] = False
    smooth = smooth_mass(mass, open_mask, sigma_cells=_sigma(bandwidth, cell_size))
    density = _density(smooth, rgrid)
    density[~open_mask] = np.nan
    n_withheld = int(withheld.sum())
    tags = {
        "title": "Kerndichte Projektwohnungen (aus Anzahlen je 1-km-Block)",
        "method": f"Anzahl je {fmt_int(b)}-m-Block (am Koordinatenursprung ausgerichtet); "
        f"Blöcke mit weniger als {k} Wohnungen und Ausgleichsblöcke unterdrückt (nodata); "
        f"gezeigte Blöcke gleichmäßig auf ihre {cell_size:g}-m-Zellen verteilt, Gauß-Kern "
        f"sigma {bandwidth:g} m mit Randkorrektur (Summe erhalten).",
        "summe": str(total) if total >= k else f"< {k}",
        "gezeigt": str(int(shown.sum())),
        "bloecke_gezeigt": str(int((~withheld & (counts.to_numpy() > 0)).sum())),
        "bloecke_unterdrueckt": str(n_withheld),
        "block_m": f"{b:g}",
        "k": str(k),
    }
    return Surface("projektwohnungen_dichte", density[None], rgrid,
                   ("Projektwohnungen je km²",), ("1/km²",), ("density",), tags)


def flats_audit(surface: Surface) -> str:
    """Return the German audit line of a flats surface: no count below ``k`` in it.

    It names the flats shown (a sum of blocks with at least ``k`` each), the total in the
    domain only when it is at least ``k`` (else "< k") and the number of withheld blocks,
    never the withheld share or count.
    """
    t = surface.tags
    k = int(t["k"])
    shown = int(t["gezeigt"])
    total = t["summe"]
    from ..labels import fmt_int

    total_text = fmt_int(int(total)) if total.isdigit() else total
    return (f"gezeigt {fmt_int(shown)} von {total_text} Projektwohnungen in "
            f"{t['bloecke_gezeigt']} Blöcken zu {fmt_int(float(t['block_m']))} m; "
            f"{t['bloecke_unterdrueckt']} Blöcke unterdrückt (weniger als {k} Wohnungen oder "
            f"zum Schutz kleiner Zahlen, nodata)")


# ------------------------------------------------------------------ census grid cells


def cell_raster_grid(
    cells: pd.DataFrame,
    *,
    domain: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    id_column: str = "gitter_id",
) -> tuple[RasterGrid, np.ndarray]:
    """The raster lattice of census cells (EPSG:3035), from their official ids.

    Parameters
    ----------
    cells : DataFrame
        Cells with official ids (``100mN…E…`` or ``CRS3035RES100mN…E…``).
    domain : GeoDataFrame or GeoSeries, optional
        Area of the surface (e.g. the city boundary, any CRS): lattice cells whose centre lies
        in it are part of the surface even without persons (value 0); without ``domain`` only
        the listed cells are (all others nodata).

    Returns
    -------
    (RasterGrid, numpy.ndarray)
        The grid (``covered_m2`` = the full cell area for every cell of the surface) and, for
        each row of ``cells``, its position in ``grid.cells``.
    """
    from ..analysis.lattice import lattice_positions
    from ..data.zensus import GRID_CRS, cell_ids

    col, row, s = lattice_positions(cells, id_column=id_column)
    if len(col) == 0:
        raise InputError("`cells` ist leer; keine Zellen für die Rasterfläche.")
    cols, rows = col, row
    if domain is not None:
        require_crs(domain, name="domain")
        area = shapely.union_all(domain.to_crs(GRID_CRS).geometry.make_valid().to_numpy())
        x0, y0, x1, y1 = area.bounds
        cc, rr = np.meshgrid(np.arange(math.floor(x0 / s), math.ceil(x1 / s)),
                             np.arange(math.floor(y0 / s), math.ceil(y1 / s)))
        cc, rr = cc.ravel(), rr.ravel()
        shapely.prepare(area)
        inside = shapely.intersects_xy(area, (cc + 0.5) * s, (rr + 0.5) * s)
        cols = np.concatenate([col, cc[inside]])
        rows = np.concatenate([row, rr[inside]])
    c0, r1 = int(cols.min()), int(rows.max())
    width = int(cols.max()) - c0 + 1
    height = r1 - int(rows.min()) + 1
    key = (r1 - rows) * width + (cols - c0)
    uniq, first = np.unique(key, return_index=True)
    pos = np.searchsorted(uniq, key[: len(col)])
    ucol, urow = cols[first], rows[first]
    ids = cell_ids(ucol * s, urow * s, cell_size=s)
    grid_cells = gpd.GeoDataFrame(
        {"cell_id": ids, "col": ucol, "row": urow, "r": (r1 - urow).astype(np.int64),
         "c": (ucol - c0).astype(np.int64), "covered_m2": float(s * s)},
        geometry=shapely.box(ucol * s, urow * s, (ucol + 1) * s, (urow + 1) * s), crs=GRID_CRS)
    mask = np.zeros((height, width), dtype=bool)
    mask[grid_cells["r"], grid_cells["c"]] = True
    covered = np.where(mask, float(s * s), 0.0)
    transform = Affine(float(s), 0.0, c0 * float(s), 0.0, -float(s), (r1 + 1) * float(s))
    return RasterGrid(transform, width, height, float(s), GRID_CRS, grid_cells, mask,
                      covered), pos


def _source_tags(cells: pd.DataFrame, quelle: str | None) -> dict[str, str]:
    tags = {}
    q = quelle or cells.attrs.get("quelle")
    if q:
        tags["quelle"] = str(q)
    if cells.attrs.get("lizenz"):
        tags["lizenz"] = str(cells.attrs["lizenz"])
    if "stand" in cells.columns and len(cells):
        tags["stand"] = str(cells["stand"].iloc[0])
    elif cells.attrs.get("stand"):
        tags["stand"] = str(cells.attrs["stand"])
    return tags


def population_density(
    cells: pd.DataFrame,
    *,
    columns: Sequence[str] = ("personen", "nichtdeutsche"),
    labels: Sequence[str] | None = None,
    domain: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    bandwidth: float = 0.0,
    quelle: str | None = None,
) -> Surface:
    """Persons per km² from census grid cells, over full cell areas (sums exact).

    Parameters
    ----------
    cells : DataFrame
        Census cells with official ids (``gitter_id``) and count columns, e.g. a city's
        ``zensus2011`` layer (any CRS: the raster is built on the cells' own EPSG:3035 lattice).
    columns : sequence of str, default ("personen", "nichtdeutsche")
        Count columns, one band each.
    labels : sequence of str, optional
        German band descriptions; default from
        :data:`gis_planning.data.zensus.GROUP_LABELS` ("… je km²").
    domain : GeoDataFrame or GeoSeries, optional
        City boundary: unpopulated cells inside get 0 instead of nodata
        (see :func:`cell_raster_grid`).
    bandwidth : float, default 0
        Gaussian kernel sigma in metres; 0 shows each cell's own count. Smoothing keeps the
        total inside the surface (:func:`smooth_mass`).
    quelle : str, optional
        Attribution (default: the cells' ``attrs["quelle"]``).

    Returns
    -------
    Surface
        One density band per column (persons per km² of the **full** cell area), EPSG:3035,
        ``tags["summe_<column>"]`` = the source total, ``attrs["zellen"] = True``.

    Notes
    -----
    Value of cell ``i``: ``d_i = n_i / a`` with ``a`` the full cell area (0.01 km² for 100 m
    cells), never the part of the cell inside a boundary, so ``sum_i d_i a = sum_i n_i``
    exactly (:meth:`Surface.total`). For 100 m cells ``d_i = 100 n_i`` is an integer and is
    stored exactly in float32.
    """
    from ..data.zensus import GROUP_LABELS

    columns = list(columns)
    require_numeric(cells, columns, name="cells")
    if labels is None:
        labels = [f"{GROUP_LABELS.get(c, c)} je km²" for c in columns]
    if len(labels) != len(columns):
        raise InputError("`labels` braucht eine deutsche Bezeichnung je Spalte.")
    rgrid, pos = cell_raster_grid(cells, domain=domain)
    r = rgrid.cells["r"].to_numpy()[pos]
    c = rgrid.cells["c"].to_numpy()[pos]
    per_km2 = _M2_PER_KM2 / (rgrid.cell_size ** 2)
    sigma = _sigma(bandwidth, rgrid.cell_size)
    bands = []
    for col in columns:
        mass = np.zeros((rgrid.height, rgrid.width))
        np.add.at(mass, (r, c), cells[col].to_numpy(dtype=float))
        if sigma > 0:
            mass = smooth_mass(mass, rgrid.mask, sigma_cells=sigma)
        bands.append(np.where(rgrid.mask, mass * per_km2, np.nan))
    s = rgrid.cell_size
    tags = {
        "title": "Bevölkerungsdichte aus Zensus-Gitterzellen",
        "method": f"Anzahl je {s:g}-m-Zelle geteilt durch die volle Zellfläche "
        f"({s * s / _M2_PER_KM2:g} km²); Summe Band x Zellfläche = Summe der Zellen"
        + (f"; Gauß-Kern sigma {bandwidth:g} m mit Randkorrektur (Summe erhalten)"
           if sigma > 0 else ""),
        "geschaetzt": "nein",
        **_source_tags(cells, quelle),
    }
    for col in columns:
        tags[f"summe_{col}"] = f"{float(cells[col].sum()):.10g}"
    return Surface("bevoelkerung_dichte", np.stack(bands), rgrid, tuple(labels),
                   tuple("Personen/km²" for _ in columns), tuple("density" for _ in columns),
                   tags, attrs={"zellen": True})


def grid_share_surface(
    cells: pd.DataFrame,
    *,
    group: str = "nichtdeutsche",
    total: str = "personen",
    min_population: float = 0,
    domain: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    quelle: str | None = None,
) -> Surface:
    """Share of a group per census cell (per cent), with the persons of the cell.

    Parameters
    ----------
    cells : DataFrame
        Census cells with ids and the counts ``group`` and ``total``.
    group, total : str, default "nichtdeutsche", "personen"
    min_population : float, default 0
        Cells with fewer persons get no share (nodata); their persons stay in band 2.
    domain : optional
        As for :func:`population_density` (unpopulated cells: share nodata, persons 0).
    quelle : str, optional

    Returns
    -------
    Surface
        Band 1 "Anteil <Gruppe> (%)" (``100 * group / total``), band 2 "Personen in der Zelle";
        EPSG:3035, both ``"value"`` bands.

    Notes
    -----
    The raw share of each real cell; census cells are small and perturbed, so single values
    are approximate (use :func:`grid_hotspot_surface` for tested patterns).
    """
    from ..data.zensus import GROUP_LABELS

    require_numeric(cells, [group, total], name="cells")
    rgrid, pos = cell_raster_grid(cells, domain=domain)
    r = rgrid.cells["r"].to_numpy()[pos]
    c = rgrid.cells["c"].to_numpy()[pos]
    g = cells[group].to_numpy(dtype=float)
    t = cells[total].to_numpy(dtype=float)
    persons = np.where(rgrid.mask, 0.0, np.nan)
    persons[r, c] = t
    share = np.full((rgrid.height, rgrid.width), np.nan)
    ok = (t > 0) & (t >= min_population)
    share[r[ok], c[ok]] = 100.0 * g[ok] / t[ok]
    label = GROUP_LABELS.get(group, group)
    tags = {
        "title": f"Anteil {label} je Zensus-Gitterzelle",
        "method": f"100 x {group} / {total} je {rgrid.cell_size:g}-m-Zelle (echte Zellwerte)"
        + (f"; Zellen unter {min_population:g} Personen ohne Anteil" if min_population else ""),
        **_source_tags(cells, quelle),
    }
    return Surface(f"{group}_anteil", np.stack([share, persons]), rgrid,
                   (f"Anteil {label} (%)", "Personen in der Zelle"), ("%", "Personen"),
                   ("value", "value"), tags, attrs={"zellen": True})


#: Codes of the Gi* class band of :func:`grid_hotspot_surface`.
GI_CODES = {"Hotspot": 1.0, "Kältepunkt": -1.0, "nicht signifikant": 0.0}
#: Codes of the local Moran class band (PySAL quadrants; 0 = not significant).
LISA_CODES = {"Hoch-Hoch": 1.0, "Niedrig-Hoch": 2.0, "Niedrig-Niedrig": 3.0,
              "Hoch-Niedrig": 4.0, "nicht signifikant": 0.0}


def grid_hotspot_surface(result: gpd.GeoDataFrame) -> Surface:
    """Gi* and local Moran classes of census cells as a raster (one cell size).

    Parameters
    ----------
    result : geopandas.GeoDataFrame
        One cell size of :func:`gis_planning.analysis.lattice.grid_hotspots` (columns
        ``gitter_id``, ``gi_z``, ``gi_klasse``, ``rate_prozent`` and, if computed,
        ``lisa_klasse``; ``attrs["hotspots"]``).

    Returns
    -------
    Surface
        Bands "Gi*-z-Wert", "Gi*-Klasse" (1 Hotspot, -1 Kältepunkt, 0 nicht signifikant;
        nodata: zu klein or no neighbours), "LISA-Klasse" (1 Hoch-Hoch, 2 Niedrig-Hoch,
        3 Niedrig-Niedrig, 4 Hoch-Niedrig, 0 nicht signifikant; if computed) and "Anteil
        EB-geglättet (%)"; EPSG:3035 at the result's cell size; the method, permutations and
        class counts in ``tags``.
    """
    require_columns(result, ("gitter_id", "gi_z", "gi_klasse", "rate_prozent"), name="result")
    a = result.attrs.get("hotspots", {})
    rgrid, pos = cell_raster_grid(result)
    r = rgrid.cells["r"].to_numpy()[pos]
    c = rgrid.cells["c"].to_numpy()[pos]

    def band(values: np.ndarray) -> np.ndarray:
        out = np.full((rgrid.height, rgrid.width), np.nan)
        out[r, c] = values
        return out

    def codes(klasse: pd.Series, table: Mapping[str, float]) -> np.ndarray:
        text = klasse.astype(str)
        out = np.full(len(text), np.nan)
        for prefix, value in table.items():
            out[text.str.startswith(prefix).to_numpy()] = value
        no_nb = result["n_neighbours"].to_numpy() == 0 if "n_neighbours" in result else False
        out[no_nb] = np.nan
        return out

    names = ["Gi*-z-Wert", "Gi*-Klasse"]
    data = [band(result["gi_z"].to_numpy(dtype=float)), band(codes(result["gi_klasse"],
                                                                   GI_CODES))]
    units = ["z", "Klasse"]
    if "lisa_klasse" in result.columns:
        names.append("LISA-Klasse")
        data.append(band(codes(result["lisa_klasse"], LISA_CODES)))
        units.append("Klasse")
    names.append("Anteil EB-geglättet (%)")
    data.append(band(result["rate_prozent"].to_numpy(dtype=float)))
    units.append("%")
    s = rgrid.cell_size
    tags = {
        "title": f"Hotspots {a.get('gruppe', '')}-Anteil auf {s:g}-m-Zensuszellen".replace(
            " -Anteil", " Anteil"),
        "method": (
            f"Gi* (binär, mit Zelle selbst) und lokales Moran's I auf echten Zensus-Zellen; "
            f"Nachbarn {a.get('nachbarschaft', '')}; Anteil EB-geglättet; Zellen unter "
            f"{a.get('mindestbevoelkerung', 0):g} Personen nicht getestet; Benjamini-Hochberg "
            f"FDR {a.get('alpha', 0.05):g}; Gi*-p-Werte {a.get('gi_p_werte', '')}"
            + (f" ({a['gi_permutationen']} Permutationen)" if a.get("gi_permutationen") else "")
            + (f"; LISA {a['lisa_permutationen']} Permutationen"
               if a.get("lisa_permutationen") else "")
            + (f". {a['hinweis']}" if a.get("hinweis") else "")
        ),
        "klassen_gi": "1=Hotspot; -1=Kältepunkt; 0=nicht signifikant; nodata=zu klein oder "
        "ohne Nachbarn",
        "klassen_lisa": "1=Hoch-Hoch; 2=Niedrig-Hoch; 3=Niedrig-Niedrig; 4=Hoch-Niedrig; "
        "0=nicht signifikant",
        "n_hotspot": str(a.get("n_hotspot", "")),
        "n_kaeltepunkt": str(a.get("n_kaeltepunkt", "")),
        "getestet": str(a.get("getestet", "")),
        **_source_tags(result, None),
    }
    return Surface(f"gitter_hotspots_{s:g}m", np.stack(data), rgrid, tuple(names),
                   tuple(units), tuple("value" for _ in names), tags, attrs={"zellen": True})


def distance_surface(
    domain: gpd.GeoDataFrame,
    facilities: Mapping[str, gpd.GeoDataFrame],
    *,
    cell_size: float = 100,
) -> Surface:
    """Distance in metres from each cell centre to the nearest facility of each kind.

    Parameters
    ----------
    domain
        Area of the surface (Stadtteile), projected CRS.
    facilities
        German name -> points, e.g. ``{"Kita": kitas, "Schule": schulen}``; one band each.
    cell_size
        Cell side in metres.

    Notes
    -----
    Straight-line (Euclidean) distance in the projected CRS from the cell centre, with a
    KD-tree (``scipy.spatial.cKDTree``); facilities outside the data (beyond the city
    boundary) are not seen, so edge cells may overstate the distance.
    """
    if not facilities:
        raise InputError("`facilities` is empty; pass e.g. {'Kita': kitas}.")
    rgrid = raster_grid(domain, cell_size=cell_size)
    centres = rgrid.centres()
    bands, names = [], []
    for label, pts in facilities.items():
        require_same_crs(("domain", domain), (f"facilities[{label!r}]", pts))
        xy = shapely.get_coordinates(pts.geometry.values)
        if len(xy) == 0:
            raise InputError(f"facilities[{label!r}] has no points.")
        dist, _ = cKDTree(xy).query(centres)
        bands.append(rgrid.to_array(dist))
        names.append(f"Entfernung zur nächsten {label} (m)")
    tags = {
        "title": "Entfernung zur nächsten Einrichtung (Luftlinie)",
        "method": "Luftlinie vom Zellmittelpunkt zur nächsten Einrichtung (cKDTree); "
        "Einrichtungen außerhalb der Stadt nicht enthalten.",
    }
    return Surface("entfernung", np.stack(bands), rgrid, tuple(names),
                   tuple("m" for _ in names), tuple("value" for _ in names), tags)


# ------------------------------------------------------------------------------- zonal


def zonal_statistics(surface: Surface, zones: gpd.GeoDataFrame, *, band: int = 0
                     ) -> pd.DataFrame:
    """Sum (density bands) or area-weighted mean of a surface band per zone.

    Parameters
    ----------
    surface
        A :class:`Surface`.
    zones
        Polygons (Stadtteile) in the surface's CRS.
    band
        Band index (0-based).

    Returns
    -------
    pandas.DataFrame
        Index of ``zones``; ``flaeche_km2`` (area covered by non-nodata cells), ``mittel``
        (area-weighted mean value) and, for density bands, ``summe`` (amount).

    Notes
    -----
    With :math:`a_{zi} = |z \\cap c_i|` (exact polygon-cell intersection areas) and the
    band value :math:`d_i` per km², :math:`S_z = \\sum_i d_i a_{zi}`: for zones that
    partition the surface's domain, :math:`\\sum_z S_z` equals :meth:`Surface.total`.
    """
    require_projected(zones, name="zones")
    values = surface.data[band][surface.grid.cells["r"].to_numpy(),
                                surface.grid.cells["c"].to_numpy()]
    valid = np.isfinite(values)
    a = _zone_cell_areas(zones, surface.grid)
    v0 = np.where(valid, values, 0.0)
    area_valid = a @ valid.astype(float)
    out = pd.DataFrame(index=zones.index)
    out["flaeche_km2"] = area_valid / _M2_PER_KM2
    with np.errstate(invalid="ignore", divide="ignore"):
        out["mittel"] = np.where(area_valid > 0, (a @ v0) / area_valid, np.nan)
    if surface.kinds[band] == "density":
        out["summe"] = (a @ v0) / _M2_PER_KM2
    return out


def total_check(surface: Surface, zones: gpd.GeoDataFrame | None = None, *, band: int = 0,
                expected: float | None = None) -> dict[str, float]:
    """Compare the zonal sum of a density band over ``zones`` with the surface total.

    Returns ``zonal`` (sum of :func:`zonal_statistics` over the zones; NaN without ``zones``),
    ``raster`` (:meth:`Surface.total`) and ``expected`` (``expected`` or, if the surface
    records it, the source total; NaN when it is withheld, e.g. ``"< 5"`` flats). Zones in
    another CRS are reprojected to the surface's CRS.
    """
    if surface.kinds[band] != "density":
        raise InputError(f"band {band} of {surface.name!r} is not a density; no total.")
    if zones is not None and zones.crs is not None and not zones.crs.equals(surface.grid.crs):
        zones = zones.to_crs(surface.grid.crs)
    zonal = (float(zonal_statistics(surface, zones, band=band)["summe"].sum())
             if zones is not None else float("nan"))
    if expected is None:
        keys = [k for k in surface.tags if k.startswith("summe")]
        key = keys[band] if len(keys) > band else None
        try:
            expected = float(surface.tags[key]) if key else float("nan")
        except ValueError:  # a withheld total ("< 5")
            expected = float("nan")
    return {
        "zonal": zonal,
        "raster": surface.total(band),
        "expected": float(expected),
    }


#: Surfaces :func:`catalog_surface` can build, in build order (grid hotspots last: the
#: slowest).
SURFACES = ("projektwohnungen_dichte", "bevoelkerung_dichte", "entfernung", "nichtdeutsche_anteil",
            "gitter_hotspots")

#: Catalogue layer holding the census grid cells used by the grid surfaces.
GRID_LAYER = "zensus2011"

_GRID_SURFACES = ("bevoelkerung_dichte", "nichtdeutsche_anteil", "gitter_hotspots")


def available_surfaces(cat: object, *, cells_layer: str = GRID_LAYER) -> dict[str, str]:
    """Surface name -> "" if :func:`catalog_surface` can build it, else the German reason."""
    names = set(cat.names())
    out = {}
    for name in SURFACES:
        if name in _GRID_SURFACES and cells_layer not in names:
            out[name] = (f"der Katalog hat keine Zensus-Gitterzellen (Ebene {cells_layer!r})")
        elif name == "projektwohnungen_dichte" and "projektwohnungen" not in names:
            out[name] = "der Katalog hat keine Ebene 'projektwohnungen'"
        elif name == "entfernung" and not {"kitas", "schulen"} & names:
            out[name] = "der Katalog hat weder 'kitas' noch 'schulen'"
        elif name == "entfernung" and any(cat.schema(n).confidential
                                          for n in ("kitas", "schulen") if n in names):
            out[name] = ("eine Entfernungsfläche zeigte die Lage jeder Einrichtung, und "
                         "Kitas oder Schulen sind vertraulich")
        else:
            out[name] = ""
    return out


def catalog_surface(cat: object, name: str, *, cell_size: float = 100,
                    cells_layer: str = GRID_LAYER, **options: object) -> Surface:
    """Build surface ``name`` (see :data:`SURFACES`) from a catalogue's layers.

    ``options`` go to the surface function (``bandwidth``, ``k``, ``min_population``, ...;
    for ``gitter_hotspots`` to :func:`gis_planning.analysis.lattice.grid_hotspots`). Project
    flats enter only as counts per cell. The grid surfaces use the census cells of layer
    ``cells_layer`` (default ``zensus2011``); ``cell_size`` above the cells' size sums them to
    coarser cells (:func:`gis_planning.analysis.lattice.coarsen_cells`), and the city
    boundary (``stadtgrenze``, else the dissolved Stadtteile) marks unpopulated cells as 0.
    """
    if name not in SURFACES:
        raise InputError(f"unbekannte Fläche {name!r}; wähle eine von {', '.join(SURFACES)}.")
    reason = available_surfaces(cat, cells_layer=cells_layer)[name]
    if reason:
        raise InputError(f"Fläche {name!r} nicht möglich: {reason}.")
    if name in _GRID_SURFACES:
        from ..analysis.lattice import coarsen_cells, grid_hotspots, lattice_positions

        cells = cat.load(cells_layer)
        schema = cat.schema(cells_layer)
        quelle = getattr(schema, "source", None)
        size = int(cell_size)
        own = lattice_positions(cells.iloc[:1])[2]
        if name == "gitter_hotspots":
            res = grid_hotspots(cells, cell_sizes=(size,), **options)[size]
            return grid_hotspot_surface(res)
        columns = ["personen", "nichtdeutsche"]
        if size != own:
            attrs = dict(cells.attrs)
            cells = coarsen_cells(cells, size, columns=columns)
            cells.attrs.update({k: v for k, v in attrs.items() if k in ("quelle", "lizenz")})
            cells["stand"] = attrs.get("stand", "")
        domain = cat.load("stadtgrenze") if "stadtgrenze" in cat.names() else cat.load(
            cat.unit.layer)
        if name == "bevoelkerung_dichte":
            return population_density(cells, columns=columns, domain=domain, quelle=quelle,
                                      **options)
        return grid_share_surface(cells, domain=domain, quelle=quelle, **options)
    st = cat.load(cat.unit.layer)
    if name == "projektwohnungen_dichte":
        return flats_density(cat.load_confidential_points("projektwohnungen"), st,
                             cell_size=cell_size, **options)
    layers = {}
    for layer, label in (("kitas", "Kita"), ("schulen", "Schule")):
        if layer not in cat.names():
            continue
        frame = cat.load(layer)
        # a distance surface pinpoints every facility: never for confidential layers
        guard(frame, what=f"distance surface to {layer}")
        if "in_betrieb" in frame.columns:
            frame = frame[frame["in_betrieb"].astype(bool)]
        if "ausserhalb" in frame.columns:
            frame = frame[~frame["ausserhalb"].astype(bool)]
        layers[label] = frame
    return distance_surface(st, layers, cell_size=cell_size)


# ------------------------------------------------------------------------------- write


def _overview_count(width: int, height: int, *, min_size: int = 32) -> int:
    return max(1, math.floor(math.log2(max(width, height) / min_size)))


@contextlib.contextmanager
def _c_stderr_to_log() -> Iterator[None]:
    """Send what C libraries print on stderr (libtiff: "_tiffWriteProc: No space left on
    device.") to the debug log instead; the error itself is raised by the read-back check."""
    import tempfile

    try:
        sys.stderr.flush()
        saved = os.dup(2)
        sink = tempfile.TemporaryFile()
    except (OSError, ValueError, AttributeError):  # no fd 2 or no temporary file
        yield
        return
    try:
        os.dup2(sink.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        with contextlib.suppress(OSError):
            sink.seek(0)
            text = sink.read().decode("utf-8", "replace").strip()
            if text:
                log.debug("GDAL/libtiff: %s", text)
        sink.close()


def write_cog(
    surface: Surface,
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
) -> Path:
    """Write ``surface`` atomically as a Cloud-Optimised GeoTIFF (float32, DEFLATE).

    Nodata :data:`NODATA`; band descriptions and units (also as band tags ``units``);
    dataset tags from ``surface.tags``; internal overviews (average) down to about 32 cells.
    Uses GDAL's COG driver through rasterio (GTiff tiled with copied overviews if missing).
    """
    import rasterio
    import rasterio.shutil
    from rasterio.io import MemoryFile

    guard(surface, what=f"raster {str(path)!r}")  # never a confidential frame
    from .raster_style import write_raster_style  # QGIS .qml/.qmd, class GeoTIFFs (15.3)

    write_raster_style(surface, path, overwrite=overwrite, inputs=inputs)
    data = np.where(np.isfinite(surface.data), surface.data, NODATA).astype("float32")
    bands, height, width = data.shape
    profile = {
        "driver": "GTiff", "width": width, "height": height, "count": bands,
        "dtype": "float32", "crs": surface.grid.crs, "transform": surface.grid.transform,
        "nodata": NODATA,
    }
    n_ov = _overview_count(width, height)
    with rasterio.Env() as env:
        has_cog = "COG" in env.drivers()
    with (atomic_path(path, overwrite=overwrite, inputs=inputs) as tmp, MemoryFile() as mem,
          _c_stderr_to_log()):
        with mem.open(**profile) as ds:
            ds.write(data)
            for i, (desc, unit) in enumerate(zip(surface.bands, surface.units, strict=True),
                                             start=1):
                ds.set_band_description(i, desc)
                ds.update_tags(i, units=unit)
            ds.units = tuple(surface.units)
            ds.update_tags(**{k: str(v) for k, v in surface.tags.items()},
                           layer=surface.name, crs="EPSG:25832" if surface.grid.crs ==
                           "EPSG:25832" else str(surface.grid.crs))
            if has_cog:
                rasterio.shutil.copy(
                    ds, tmp, driver="COG", COMPRESS="DEFLATE", PREDICTOR="YES",
                    BLOCKSIZE="256", OVERVIEW_COUNT=str(n_ov), OVERVIEW_RESAMPLING="AVERAGE",
                    RESAMPLING="AVERAGE",
                )
            else:  # pragma: no cover - GDAL < 3.1
                ds.build_overviews([2 ** (i + 1) for i in range(n_ov)],
                                   rasterio.enums.Resampling.average)
                rasterio.shutil.copy(ds, tmp, driver="GTiff", TILED="YES", COMPRESS="DEFLATE",
                                     COPY_SRC_OVERVIEWS="YES", BLOCKXSIZE="256",
                                     BLOCKYSIZE="256")
        with rasterio.open(tmp) as check:  # libtiff only prints write errors: read it back
            if not np.array_equal(check.read(), data):
                raise OSError(f"{tmp.name}: the written raster differs from the surface")
    log.info("wrote %s (%d bands, %d x %d)", path, bands, width, height)
    return Path(path)
