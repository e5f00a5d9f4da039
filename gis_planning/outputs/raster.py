"""Raster surfaces on a regular grid, written as Cloud-Optimised GeoTIFF with rasterio.

Surfaces for planning maps in EPSG:25832 (cell size a parameter, default 100 m), on the
same lattice as :func:`gis_planning.analysis.grid.grid` (cells anchored at the CRS origin):

* :func:`flats_density` - kernel density of the (confidential) project flats, computed only
  from counts per cell and masked where fewer than ``k`` flats lie within the bandwidth;
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

import logging
import math
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
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
    "NODATA",
    "SURFACES",
    "RasterGrid",
    "Surface",
    "catalog_surface",
    "distance_surface",
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


def _point_counts(points: gpd.GeoDataFrame, rgrid: RasterGrid) -> tuple[np.ndarray, int]:
    """Counts of points per raster cell (domain cells only) and the number left out."""
    xy = shapely.get_coordinates(points.geometry.values)
    if len(xy) != len(points):
        raise InputError("`points` must hold one point per row (no multipoints or empties).")
    t = rgrid.transform
    c = np.floor((xy[:, 0] - t.c) / rgrid.cell_size).astype(np.int64)
    r = np.floor((t.f - xy[:, 1]) / rgrid.cell_size).astype(np.int64)
    ok = (c >= 0) & (c < rgrid.width) & (r >= 0) & (r < rgrid.height)
    ok[ok] &= rgrid.mask[r[ok], c[ok]]
    counts = np.zeros((rgrid.height, rgrid.width))
    np.add.at(counts, (r[ok], c[ok]), 1.0)
    return counts, int((~ok).sum())


def _disk(radius_cells: float) -> np.ndarray:
    n = math.floor(radius_cells)
    y, x = np.mgrid[-n:n + 1, -n:n + 1]
    return (x * x + y * y <= radius_cells * radius_cells).astype(float)


def flats_density(
    points: gpd.GeoDataFrame,
    domain: gpd.GeoDataFrame,
    *,
    cell_size: float = 100,
    bandwidth: float = 1000,
    k: int = DEFAULT_K,
) -> Surface:
    """Kernel density of project flats from counts per cell, with small-number masking.

    Parameters
    ----------
    points
        Project flats (confidential points allowed: only their counts per cell are used, no
        coordinate leaves this function).
    domain
        Area of the surface (the Stadtteile), same projected CRS.
    cell_size
        Cell side in metres (default 100).
    bandwidth
        Gaussian kernel standard deviation in metres (default 1000); also the radius of the
        suppression neighbourhood.
    k
        Minimum group size (at least :data:`~gis_planning.privacy.DEFAULT_K`): blocks and
        cells with fewer than ``k`` flats are withheld (see Notes).

    Returns
    -------
    Surface
        One band "Projektwohnungen je km²" (density). ``tags["unterdrueckt_anteil"]`` gives the
        share of the smoothed total withheld by the mask.

    Notes
    -----
    Aggregate first: points are counted per cell, then per block of
    ``max(cell_size, bandwidth)`` metres; blocks holding fewer than ``k`` flats are withheld
    *before* smoothing, so a small group never contributes to any shown cell, however far
    the kernel reaches. The kept counts are smoothed with :func:`smooth_mass` (total
    preserved) and the cell value is the smoothed count per km². The neighbourhood count
    :math:`n_i = \\sum_{j: \\|x_j - x_i\\| \\le h} m_j` (disk of radius ``bandwidth`` on the
    kept cell counts) then masks cells with :math:`n_i < k` (nodata).
    ``tags["unterdrueckt_anteil"]`` is the withheld share of all flats (blocks and mask).
    """
    require_same_crs(("points", points), ("domain", domain))
    if k < DEFAULT_K:
        raise InputError(f"`k` must be at least {DEFAULT_K} (smaller groups would be "
                         f"identifiable), got {k}.")
    rgrid = raster_grid(domain, cell_size=cell_size)
    counts, outside = _point_counts(points, rgrid)
    if outside:
        warnings.warn(f"{outside} point(s) lie outside the domain and are not counted.",
                      UserWarning, stacklevel=2)
    all_flats = float(counts.sum())
    counts = _withhold_small_blocks(counts, max(1, round(bandwidth / cell_size)), k)
    sigma = _sigma(bandwidth, cell_size)
    mass = smooth_mass(counts, rgrid.mask, sigma_cells=sigma)
    local = ndimage.convolve(counts, _disk(max(sigma, 0.5)), mode="constant")
    suppressed = rgrid.mask & (local < k)
    kept = np.where(suppressed, 0.0, mass)
    density = _density(kept, rgrid)
    density[suppressed] = np.nan
    total = all_flats
    withheld = all_flats - float(kept.sum())
    tags = {
        "title": "Kerndichte Projektwohnungen (aus Anzahlen je Rasterzelle)",
        "method": f"Anzahl je {cell_size:g}-m-Zelle, Gauß-Kern sigma {bandwidth:g} m mit "
        f"Randkorrektur (Summe erhalten); Zellen mit weniger als {k} Wohnungen im Umkreis von "
        f"{bandwidth:g} m unterdrückt (nodata).",
        "summe": f"{total:.6g}",
        "unterdrueckt_anteil": f"{(withheld / total if total else 0.0):.4f}",
        "k": str(k),
    }
    return Surface("projektwohnungen_dichte", density[None], rgrid,
                   ("Projektwohnungen je km²",), ("1/km²",), ("density",), tags)


def _withhold_small_blocks(counts: np.ndarray, block: int, k: int) -> np.ndarray:
    """Zero the cell counts of every ``block`` x ``block`` block holding fewer than ``k``."""
    h, w = counts.shape
    bh, bw = -(-h // block), -(-w // block)
    padded = np.zeros((bh * block, bw * block))
    padded[:h, :w] = counts
    sums = padded.reshape(bh, block, bw, block).sum(axis=(1, 3))
    small = np.kron(sums < k, np.ones((block, block), dtype=bool))[:h, :w]
    return np.where(small, 0.0, counts)


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
    title: str = "Bevölkerungsdichte (aus Werten je Stadtteil, geglättet)",
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
        "title": title,
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
    (:meth:`Surface.total`), ``expected`` (``expected`` or, if the surface records it, the
    source total) and ``withheld`` (share masked for privacy, flats only).
    """
    if surface.kinds[band] != "density":
        raise InputError(f"band {band} of {surface.name!r} is not a density; no total.")
    zonal = float(zonal_statistics(surface, zones, band=band)["summe"].sum())
    if expected is None:
        keys = [k for k in surface.tags if k.startswith("summe")]
        key = keys[band] if len(keys) > band else None
        expected = float(surface.tags[key]) if key else float("nan")
    return {
        "zonal": zonal,
        "raster": surface.total(band),
        "expected": float(expected),
        "withheld": float(surface.tags.get("unterdrueckt_anteil", 0.0)),
    }


#: Surfaces :func:`catalog_surface` can build, in build order (Gi* last: the slowest).
SURFACES = ("projektwohnungen_dichte", "bevoelkerung_dichte", "entfernung", "gi_stern")


def missing_for(cat: object, name: str) -> str | None:
    """Return why surface ``name`` cannot be built for ``cat`` (``None`` if it can)."""
    names = cat.names()
    if name == "projektwohnungen_dichte":
        return None if "projektwohnungen" in names else "keine Ebene projektwohnungen"
    if name == "entfernung":
        have = [n for n in ("kitas", "schulen") if n in names]
        if not have:
            return "weder Kitas noch Schulen"
        secret = [n for n in have if cat.schema(n).confidential]
        return f"vertrauliche Ebene(n) {', '.join(secret)}" if secret else None
    if not cat.unit_groups():
        return f"keine Gruppe mit Anzahlen je {cat.unit.label}"
    return None


def catalog_surface(cat: object, name: str, *, cell_size: float = 100, **options: object
                    ) -> Surface:
    """Build surface ``name`` (see :data:`SURFACES`) from a catalogue's layers and tables.

    ``options`` go to the surface function (``bandwidth``, ``k``, ``distance``,
    ``permutations``, ...). Project flats enter only as counts per cell; population figures
    come from the first group's table (``cat.group_frame()``).
    """
    if name not in SURFACES:
        raise InputError(f"unbekannte Oberfläche {name!r}; wählen Sie eine von "
                         f"{', '.join(SURFACES)}.")
    why = missing_for(cat, name)
    if why:
        raise InputError(f"die Oberfläche {name!r} lässt sich für {cat.city} nicht bilden: "
                         f"{why}.")
    st = cat.load(cat.unit.layer)
    if name == "projektwohnungen_dichte":
        return flats_density(cat.load_confidential_points("projektwohnungen"), st,
                             cell_size=cell_size, **options)
    if name == "entfernung":
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
    g = cat.group()
    table = cat.group_frame(g.name)
    est = " (geschätzt)" if cat.table_meta(g.table)["estimated"] else ""
    if name == "bevoelkerung_dichte":
        options.setdefault("columns", (g.count, g.total))
        options.setdefault("labels", (f"Personen ({g.label}) je km²{est}",
                                      f"Einwohner je km²{est}"))
        options.setdefault("title", f"{'Geschätzte ' if est else ''}Bevölkerungsdichte (aus "
                           f"Werten je {cat.unit.label}, geglättet)")
        return population_density(table, cell_size=cell_size, **options)
    return gi_surface(table, cell_size=cell_size, column=g.count, denominator=g.total,
                      **options)


# ------------------------------------------------------------------------------- write


def _overview_count(width: int, height: int, *, min_size: int = 32) -> int:
    return max(1, math.floor(math.log2(max(width, height) / min_size)))


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
    with atomic_path(path, overwrite=overwrite, inputs=inputs) as tmp, MemoryFile() as mem:
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
    log.info("wrote %s (%d bands, %d x %d)", path, bands, width, height)
    return Path(path)
