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

The flats surface lives in :mod:`~gis_planning.outputs.raster_flats`, the census-cell surfaces
in :mod:`~gis_planning.outputs.raster_cells` and the lattice in ``_raster_base``; every name
is importable from here.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from .._atomic import atomic_path
from .._errors import InputError
from .._validate import require_projected, require_same_crs
from ..privacy import guard
from ._raster_base import (
    _M2_PER_KM2,
    NODATA,
    RasterGrid,
    Surface,
    _zone_cell_areas,
    raster_grid,
    smooth_mass,
)
from .raster_cells import (
    GI_CODES,
    LISA_CODES,
    cell_raster_grid,
    grid_hotspot_surface,
    grid_share_surface,
    population_density,
)
from .raster_flats import (
    FLATS_BLOCK_M,
    FLATS_CELL_SIZES,
    FLATS_MIN_BANDWIDTH,
    check_flats_options,
    flats_audit,
    flats_density,
)

__all__ = [
    "FLATS_BLOCK_M",
    "FLATS_CELL_SIZES",
    "FLATS_MIN_BANDWIDTH",
    "GI_CODES",
    "GRID_LAYER",
    "LISA_CODES",
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
    "write_surfaces",
    "zonal_statistics",
]

log = logging.getLogger(__name__)


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
        raise InputError("keine Einrichtungen für die Entfernungsfläche: es braucht mindestens "
                         "eine Ebene mit Punkten (Kitas oder Schulen).")
    rgrid = raster_grid(domain, cell_size=cell_size)
    centres = rgrid.centres()
    bands, names = [], []
    for label, pts in facilities.items():
        require_same_crs(("domain", domain), (f"facilities[{label!r}]", pts))
        xy = shapely.get_coordinates(pts.geometry.values)
        if len(xy) == 0:
            raise InputError(f"die Ebene {label!r} hat keine Punkte; ohne sie gibt es keine "
                             f"Entfernungsfläche.")
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
        raise InputError(f"Band {band + 1} der Fläche {surface.name!r} ist keine Dichte; es hat "
                         f"keine Summe.")
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
        raise InputError(f"unbekannte Fläche {name!r}; möglich: {', '.join(SURFACES)}.")
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
        guard(frame, what=f"Entfernungsfläche zu {layer!r}")
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

    guard(surface, what=f"Rasterdatei {str(path)!r}")  # never a confidential frame
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
                raise OSError(f"{tmp.name}: die geschriebene Rasterdatei weicht von der Fläche "
                              f"ab (Datenträger voll?)")
    log.info("Rasterdatei geschrieben: %s (%d Bänder, %d x %d Zellen)", path, bands, width,
             height)
    return Path(path)


def write_surfaces(
    cat: object,
    directory: str | os.PathLike,
    *,
    cell_size: float = 100,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
    progress: Callable[..., Iterable] | None = None,
) -> dict[str, tuple[Surface, Path]]:
    """Write every surface the catalogue allows, with default options, as ``<name>.tif``.

    Parameters
    ----------
    cat
        The catalogue (:func:`available_surfaces` says which surfaces it allows).
    directory
        Output folder: new, empty or (with ``overwrite``) an earlier output. All files are
        written into a temporary folder and swapped in at the end: all or nothing.
    cell_size
        Cell side in metres; the census-grid surfaces use at least 100 m (whole cells), the
        flats surface only :data:`FLATS_CELL_SIZES`.
    overwrite
        Replace an earlier output as a whole.
    inputs
        Input paths that must not lie in the folder.
    progress
        Called as ``progress(iterable, desc=..., total=..., unit=...)`` around the loop over
        the surfaces (e.g. the CLI's progress bar); default: no progress shown.

    Returns
    -------
    dict
        Surface name -> (surface, path of the written file), in build order.
    """
    from .._atomic import atomic_folder, check_output_folder

    surfaces = [n for n, why in available_surfaces(cat).items() if not why]
    if not surfaces:
        raise InputError("keine Rasterfläche lässt sich aus diesem Katalog bilden: es fehlen "
                         "Zensus-Zellen, Projektwohnungen, Kitas und Schulen.")
    names = [f"{name}.tif" for name in surfaces]
    inputs = list(inputs)
    check_output_folder(directory, overwrite=overwrite, names=names, inputs=inputs)
    if "projektwohnungen_dichte" in surfaces:
        check_flats_options(cell_size)
    steps = zip(surfaces, names, strict=True)
    if progress is not None:
        steps = progress(steps, desc="Rasterflächen", total=len(surfaces), unit="Fläche")
    built: dict[str, Surface] = {}
    with atomic_folder(directory, overwrite=overwrite, names=names, inputs=inputs) as tmp:
        for name, file_name in steps:
            size = (max(100, int(cell_size)) if name in _GRID_SURFACES else cell_size)
            built[name] = catalog_surface(cat, name, cell_size=size)
            write_cog(built[name], tmp / file_name, overwrite=False)
    return {name: (surface, Path(directory) / f"{name}.tif") for name, surface in built.items()}
