"""The raster lattice and surface of :mod:`gis_planning.outputs.raster`: grid, smoothing.

Private: import these names from :mod:`gis_planning.outputs.raster`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from scipy import ndimage, sparse

from .._errors import InputError
from .._validate import require_projected, require_same_crs

__all__ = ["NODATA", "RasterGrid", "Surface", "raster_grid", "smooth_mass"]

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
                raise InputError(f"unbekanntes Band {name_or_index!r}; die Fläche hat: "
                                 f"{', '.join(map(repr, self.bands))}.")
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
        raise InputError(f"Bandbreite {bandwidth!r}: nötig ist eine Zahl von Metern, 0 oder "
                         f"größer (--bandwidth).")
    return float(bandwidth) / float(cell_size)


