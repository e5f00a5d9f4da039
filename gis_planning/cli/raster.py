"""``gis-planning raster``: density, hotspot and distance surfaces as Cloud-Optimised GeoTIFF."""

from __future__ import annotations

from pathlib import Path

import click

from .._defaults import DEFAULT_K
from ..labels import fmt_number
from ._options import CatalogState, overwrite_option, pass_catalog

__all__ = ["raster"]

_cell_size = click.option("--cell-size", type=click.FloatRange(min=1), default=100.0,
                          show_default=True, help="Cell size in metres (EPSG:25832).")
_out = click.option("-o", "--output", "output", type=click.Path(dir_okay=False),
                    required=True, help="Output GeoTIFF (.tif).")


def _write(state: CatalogState, name: str, output: str, overwrite: bool, cell_size: float,
           **options) -> None:
    from .._atomic import check_output_path
    from ..outputs.raster import catalog_surface, total_check, write_cog

    check_output_path(output, overwrite=overwrite)
    surface = catalog_surface(state.catalog, name, cell_size=cell_size, **options)
    path = write_cog(surface, output, overwrite=overwrite)
    h, w = surface.data.shape[1:]
    click.echo(f"{name} -> {path} ({surface.data.shape[0]} Bänder, {w} x {h} Zellen, "
               f"{path.stat().st_size / 1e3:.0f} kB)")
    for band, kind in enumerate(surface.kinds):
        if kind != "density":
            continue
        cat = state.catalog
        chk = total_check(surface, cat.load(cat.unit.layer), band=band)
        extra = (f", unterdrückt {fmt_number(100 * chk['withheld'], 1)} %"
                 if chk["withheld"] else "")
        click.echo(f"  {surface.bands[band]}: Summe über {cat.unit.label_plural} "
                   f"{fmt_number(chk['zonal'], 1)} (Quelle {fmt_number(chk['expected'], 1)}"
                   f"{extra})")


@click.group()
def raster() -> None:
    """Raster surfaces (COG, EPSG:25832): densities, Gi* z-scores, distances."""


@raster.command("flats")
@_out
@_cell_size
@click.option("--bandwidth", type=click.FloatRange(min=0), default=1000.0, show_default=True,
              help="Kernel sigma and suppression radius in metres.")
@click.option("--k", "k", type=click.IntRange(min=DEFAULT_K), default=DEFAULT_K,
              show_default=True, help="Blocks and cells with fewer flats are withheld (nodata).")
@overwrite_option
@pass_catalog
def flats(state: CatalogState, output: str, cell_size: float, bandwidth: float, k: int,
          overwrite: bool) -> None:
    """Kernel density of the project flats (from counts per cell, small counts masked).

    \b
    Example:
      gis-planning raster flats -o maps/projektwohnungen_dichte.tif
    """
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
              help="Output folder (created if missing).")
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
    from .._atomic import check_output_path
    from ..outputs.raster import SURFACES, missing_for

    out = Path(directory)
    names = []
    for name in SURFACES:
        why = missing_for(state.catalog, name)
        if why:
            click.echo(f"übersprungen: {name} ({why})")
        else:
            names.append(name)
    if not names:
        raise click.ClickException("keine Oberfläche lässt sich bilden (siehe oben).")
    if not out.exists():
        check_output_path(out)
        out.mkdir()
    targets = [out / f"{name}.tif" for name in names]
    for t in targets:
        check_output_path(t, overwrite=overwrite)
    for name, target in zip(names, targets, strict=True):
        _write(state, name, str(target), overwrite, cell_size)
