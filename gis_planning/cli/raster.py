"""``gis-planning raster``: density, hotspot and distance surfaces as Cloud-Optimised GeoTIFF."""

from __future__ import annotations

from pathlib import Path

import click

from ..labels import fmt_number
from ..privacy import DEFAULT_K
from ._options import CatalogState, overwrite_option, pass_catalog

__all__ = ["raster"]

_cell_size = click.option("--cell-size", type=click.FloatRange(min=1), default=100.0,
                          show_default=True, help="Cell size in metres (EPSG:25832).")
_out = click.option("-o", "--output", "output", type=click.Path(dir_okay=False),
                    required=True, help="Output GeoTIFF (.tif).")


def _write(state: CatalogState, name: str, output: str, overwrite: bool, cell_size: float,
           *, shown_path: str | None = None, **options) -> None:
    from .._atomic import check_output_path
    from ..outputs.raster import catalog_surface, flats_audit, total_check, write_cog

    check_output_path(output, overwrite=overwrite)
    surface = catalog_surface(state.catalog, name, cell_size=cell_size, **options)
    path = write_cog(surface, output, overwrite=overwrite)
    h, w = surface.data.shape[1:]
    click.echo(f"{name} -> {shown_path or path} ({surface.data.shape[0]} Bänder, {w} x {h} "
               f"Zellen, {path.stat().st_size / 1e3:.0f} kB)")
    if name == "projektwohnungen_dichte":  # no count below k, no withheld share
        click.echo(f"  {surface.bands[0]}: {flats_audit(surface)}")
        return
    for band, kind in enumerate(surface.kinds):
        if kind != "density":
            continue
        chk = total_check(surface, state.catalog.load("stadtteile"), band=band)
        click.echo(f"  {surface.bands[band]}: Summe über Stadtteile "
                   f"{fmt_number(chk['zonal'], 1)} (Quelle {fmt_number(chk['expected'], 1)})")


@click.group()
def raster() -> None:
    """Raster surfaces (COG, EPSG:25832): densities, Gi* z-scores, distances."""


@raster.command("flats")
@_out
@click.option("--cell-size", type=float, default=100.0, show_default=True,
              help="Zellgröße in Metern: nur 100, 250, 500 oder 1000 (feste, am "
                   "Koordinatenursprung ausgerichtete Raster).")
@click.option("--bandwidth", type=float, default=1000.0, show_default=True,
              help="Kern-Sigma in Metern, mindestens 500.")
@click.option("--k", "k", type=click.IntRange(min=DEFAULT_K), default=DEFAULT_K,
              show_default=True,
              help="1-km-Blöcke mit weniger Wohnungen werden unterdrückt (nodata).")
@overwrite_option
@pass_catalog
def flats(state: CatalogState, output: str, cell_size: float, bandwidth: float, k: int,
          overwrite: bool) -> None:
    """Kernel density of the project flats (from counts per 1-km block, small counts withheld).

    \b
    Example:
      gis-planning raster flats -o maps/projektwohnungen_dichte.tif
    """
    from ..outputs.raster import check_flats_options

    check_flats_options(cell_size, bandwidth, k)  # before anything is read
    _write(state, "projektwohnungen_dichte", output, overwrite, cell_size,
           bandwidth=bandwidth, k=k)


@raster.command("population")
@_out
@_cell_size
@click.option("--bandwidth", type=click.FloatRange(min=0), default=300.0, show_default=True,
              help="Kernel sigma in metres (0: no smoothing).")
@overwrite_option
@pass_catalog
def population(state: CatalogState, output: str, cell_size: float, bandwidth: float,
               overwrite: bool) -> None:
    """Density of the estimated 12-origin population and of all residents.

    \b
    Example:
      gis-planning raster population -o maps/bevoelkerung_dichte.tif --cell-size 200
    """
    _write(state, "bevoelkerung_dichte", output, overwrite, cell_size, bandwidth=bandwidth)


@raster.command("hotspots")
@_out
@_cell_size
@click.option("--distance", type=click.FloatRange(min=1), default=500.0, show_default=True,
              help="Distance band of the Gi* weights in metres.")
@click.option("--permutations", type=click.IntRange(min=0), default=0, show_default=True,
              help="Permutations for the p-values (0: analytical).")
@overwrite_option
@pass_catalog
def hotspots(state: CatalogState, output: str, cell_size: float, distance: float,
             permutations: int, overwrite: bool) -> None:
    """Getis-Ord Gi* z-scores and classes of the 12-origin share on the grid.

    \b
    Example:
      gis-planning raster hotspots -o maps/gi_stern.tif
    """
    _write(state, "gi_stern", output, overwrite, cell_size, distance=distance,
           permutations=permutations)


@raster.command("distance")
@_out
@_cell_size
@overwrite_option
@pass_catalog
def distance(state: CatalogState, output: str, cell_size: float, overwrite: bool) -> None:
    """Distance to the nearest Kita (in operation) and school, in metres.

    \b
    Example:
      gis-planning raster distance -o maps/entfernung.tif
    """
    _write(state, "entfernung", output, overwrite, cell_size)


@raster.command("all")
@click.option("--dir", "directory", type=click.Path(file_okay=False), required=True,
              help="Ausgabeordner (neu, leer oder mit --overwrite eine frühere Ausgabe; "
                   "wird als Ganzes ersetzt).")
@_cell_size
@overwrite_option
@pass_catalog
def all_surfaces(state: CatalogState, directory: str, cell_size: float,
                 overwrite: bool) -> None:
    """All surfaces with default options, one <name>.tif each.

    \b
    Example:
      gis-planning raster all --dir maps/raster --overwrite
    """
    from .._atomic import atomic_folder, check_output_folder
    from ..outputs.raster import SURFACES, check_flats_options

    names = [f"{name}.tif" for name in SURFACES]
    check_output_folder(directory, overwrite=overwrite, names=names)
    if "projektwohnungen_dichte" in SURFACES and "projektwohnungen" in state.catalog.names():
        check_flats_options(cell_size)
    with atomic_folder(directory, overwrite=overwrite, names=names) as tmp:  # all or nothing
        for name, file_name in zip(SURFACES, names, strict=True):
            _write(state, name, str(tmp / file_name), False, cell_size,
                   shown_path=str(Path(directory) / file_name))
