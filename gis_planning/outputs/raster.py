"""Raster surfaces on a regular grid, written as Cloud-Optimised GeoTIFF with rasterio.

Surfaces for planning maps in EPSG:25832 (cell size a parameter, default 100 m), on the
same lattice as :func:`gis_planning.analysis.grid.grid` (cells anchored at the CRS origin):

* :func:`flats_density` - kernel density of the (confidential) project flats, computed only
  from counts per origin-anchored 1-km block with small-number suppression, on the fixed
  published grids :data:`FLATS_CELL_SIZES`;
* :func:`population_density` - the estimated residents and 12-origin population of each
  Stadtteil spread over its area, then smoothed;
* :func:`gi_surface` - Getis-Ord Gi* z-scores (and FDR classes) of the 12-origin share on the
  grid (:func:`gis_planning.analysis.hotspots.getis_ord`);
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
from .._validate import require_columns, require_numeric, require_projected, require_same_crs
from ..privacy import DEFAULT_K, guard

__all__ = [
    "FLATS_BLOCK_M",
    "FLATS_CELL_SIZES",
    "FLATS_MIN_BANDWIDTH",
    "NODATA",
    "SURFACES",
    "RasterGrid",
    "Surface",
    "catalog_surface",
    "check_flats_options",
    "distance_surface",
    "flats_audit",
    "flats_density",
    "gi_surface",
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


def _distribute(table: gpd.GeoDataFrame, columns: Sequence[str], rgrid: RasterGrid
                ) -> np.ndarray:
    """Spread each zone's amounts over its area: ``(len(columns), height, width)`` amounts."""
    a = _zone_cell_areas(table, rgrid)
    zone_area = np.asarray(a.sum(axis=1)).ravel()
    out = np.zeros((len(columns), rgrid.height, rgrid.width))
    r, c = rgrid.cells["r"].to_numpy(), rgrid.cells["c"].to_numpy()
    for i, col in enumerate(columns):
        v = table[col].to_numpy(dtype=float)
        per_m2 = np.divide(v, zone_area, out=np.zeros_like(v), where=zone_area > 0)
        out[i, r, c] = a.T @ per_m2
    return out


def population_density(
    table: gpd.GeoDataFrame,
    *,
    columns: Sequence[str] = ("herkunft12_anzahl", "einwohner"),
    labels: Sequence[str] = ("Personen aus den 12 Hauptherkunftsländern je km² (geschätzt)",
                             "Einwohner je km² (geschätzt)"),
    cell_size: float = 100,
    bandwidth: float = 300,
) -> Surface:
    """Density surface of counts per zone (Stadtteil estimates), spread by area, smoothed.

    Parameters
    ----------
    table
        Zones with count columns, e.g. ``results.compute(cat, "stadtteil_statistik")``.
    columns, labels
        Count columns and the German band descriptions.
    cell_size
        Cell side in metres (default 100).
    bandwidth
        Gaussian kernel sigma in metres (0: no smoothing, zone totals exactly kept).

    Notes
    -----
    Each zone's count is spread uniformly over its area (area-weighted: cell ``i`` gets
    :math:`\\sum_z v_z |c_i \\cap z| / |z|`), then smoothed with :func:`smooth_mass`, which
    keeps the city total. The value is persons per km² of the cell area inside the zones.
    """
    require_columns(table, list(columns), name="table")
    require_numeric(table, list(columns), name="table")
    if len(labels) != len(columns):
        raise InputError("`labels` needs one German label per column.")
    rgrid = raster_grid(table, cell_size=cell_size)
    mass = _distribute(table, columns, rgrid)
    sigma = _sigma(bandwidth, cell_size)
    data = np.stack([_density(smooth_mass(m, rgrid.mask, sigma_cells=sigma), rgrid)
                     for m in mass])
    tags = {
        "title": "Geschätzte Bevölkerungsdichte (Stadtteil-Schätzung, geglättet)",
        "method": f"Stadtteilwerte flächengewichtet auf {cell_size:g}-m-Zellen verteilt, "
        f"Gauß-Kern sigma {bandwidth:g} m mit Randkorrektur (Summe erhalten).",
        "geschaetzt": "ja",
    }
    for col in columns:
        tags[f"summe_{col}"] = f"{float(table[col].sum()):.6g}"
    return Surface("bevoelkerung_dichte", data, rgrid, tuple(labels),
                   tuple("Personen/km²" for _ in columns), tuple("density" for _ in columns),
                   tags)


#: Codes of the Gi* class band.
GI_CODES = {"Hotspot": 1.0, "Kältepunkt": -1.0, "nicht signifikant": 0.0}


def gi_surface(
    table: gpd.GeoDataFrame,
    *,
    column: str = "herkunft12_anzahl",
    denominator: str | None = "einwohner",
    cell_size: float = 100,
    distance: float = 500,
    permutations: int = 0,
    alpha: float = 0.05,
    min_population: float = 0,
    seed: int | None = 0,
) -> Surface:
    """Getis-Ord Gi* z-scores and FDR classes of a zone variable on the raster grid.

    Parameters
    ----------
    table
        Zones with counts (Stadtteil estimates).
    column, denominator
        Counts spread to the cells by area; Gi* of ``column / denominator`` (the share), or
        of ``column`` if ``denominator`` is None.
    cell_size
        Cell side in metres.
    distance
        Distance band of the binary weights in metres (cell centres).
    permutations, alpha, min_population, seed
        Passed to :func:`gis_planning.analysis.hotspots.getis_ord` (``permutations=0``: analytical
        p-values; the z-scores do not depend on it).

    Returns
    -------
    Surface
        Band 1 "Gi*-z-Wert" (value), band 2 class code 1 Hotspot / -1 Kältepunkt /
        0 nicht signifikant (nodata: too few residents).

    Notes
    -----
    The cell values come from Stadtteil figures spread by area, so the surface shows where
    Stadtteile with high shares cluster, at grid resolution; it adds no information below the
    Stadtteil level.
    """
    from ..analysis.hotspots import getis_ord

    cols = [column] + ([denominator] if denominator else [])
    require_columns(table, cols, name="table")
    rgrid = raster_grid(table, cell_size=cell_size)
    mass = _distribute(table, cols, rgrid)
    cells = rgrid.cells.copy()
    r, c = cells["r"].to_numpy(), cells["c"].to_numpy()
    for i, col in enumerate(cols):
        cells[col] = mass[i, r, c]
    res = getis_ord(
        cells, column, weights="distance", distance=distance, permutations=permutations,
        seed=seed, alpha=alpha, rate_denominator=denominator,
        population=denominator, min_population=min_population,
    )
    klasse = res["klasse"].astype(str)
    code = np.full(len(res), np.nan)
    for prefix, value in GI_CODES.items():
        code[klasse.str.startswith(prefix).to_numpy()] = value
    data = np.stack([rgrid.to_array(res["gi_z"].to_numpy()), rgrid.to_array(code)])
    what = f"{column}/{denominator}" if denominator else column
    tags = {
        "title": f"Getis-Ord Gi* ({what}) auf {cell_size:g}-m-Zellen",
        "method": f"Gi* binär, Distanzband {distance:g} m, "
        f"{'analytische ' if not permutations else f'{permutations} Permutations-'}"
        f"p-Werte, Benjamini-Hochberg FDR {alpha:g}; Zellwerte flächengewichtet aus "
        "Stadtteilwerten (keine Information unterhalb der Stadtteilebene).",
        "klassen": "1=Hotspot; -1=Kältepunkt; 0=nicht signifikant; nodata=zu klein",
        "n_hotspot": str(res.attrs["hotspots"]["n_hotspot"]),
        "n_kaeltepunkt": str(res.attrs["hotspots"]["n_kaeltepunkt"]),
    }
    return Surface("gi_stern", data, rgrid, ("Gi*-z-Wert", "Gi*-Klasse"),
                   ("z", "Klasse"), ("value", "value"), tags)


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


def total_check(surface: Surface, zones: gpd.GeoDataFrame, *, band: int = 0,
                expected: float | None = None) -> dict[str, float]:
    """Compare the zonal sum of a density band over ``zones`` with the surface total.

    Returns ``zonal`` (sum of :func:`zonal_statistics` over the zones), ``raster``
    (:meth:`Surface.total`) and ``expected`` (``expected`` or, if the surface records it, the
    source total; NaN when it is withheld, e.g. ``"< 5"`` flats).
    """
    if surface.kinds[band] != "density":
        raise InputError(f"band {band} of {surface.name!r} is not a density; no total.")
    zonal = float(zonal_statistics(surface, zones, band=band)["summe"].sum())
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


#: Surfaces :func:`catalog_surface` can build, in build order (Gi* last: the slowest).
SURFACES = ("projektwohnungen_dichte", "bevoelkerung_dichte", "entfernung", "gi_stern")


def catalog_surface(cat: object, name: str, *, cell_size: float = 100, **options: object
                    ) -> Surface:
    """Build surface ``name`` (see :data:`SURFACES`) from a catalogue's layers and results.

    ``options`` go to the surface function (``bandwidth``, ``k``, ``distance``,
    ``permutations``, ...). Project flats enter only as counts per cell; population figures
    come from ``results.compute(cat, "stadtteil_statistik")``.
    """
    from .. import results

    if name not in SURFACES:
        raise InputError(f"unknown surface {name!r}; choose one of {', '.join(SURFACES)}.")
    st = cat.load("stadtteile")
    if name == "projektwohnungen_dichte":
        return flats_density(cat.load("projektwohnungen"), st, cell_size=cell_size, **options)
    if name == "entfernung":
        kitas, schulen = cat.load("kitas"), cat.load("schulen")
        for layer, frame in (("kitas", kitas), ("schulen", schulen)):
            # a distance surface pinpoints every facility: never for confidential layers
            guard(frame, what=f"distance surface to {layer}")
        if "in_betrieb" in kitas.columns:
            kitas = kitas[kitas["in_betrieb"].astype(bool)]
        return distance_surface(st, {"Kita": kitas, "Schule": schulen}, cell_size=cell_size)
    table = results.compute(cat, "stadtteil_statistik")
    if name == "bevoelkerung_dichte":
        return population_density(table, cell_size=cell_size, **options)
    return gi_surface(table, cell_size=cell_size, **options)


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
