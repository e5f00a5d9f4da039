"""``gis-planning export``: one styled GeoPackage and/or RFC 7946 GeoJSON files for QGIS."""

from __future__ import annotations

import click

from ._options import CatalogState, overwrite_option, pass_catalog

__all__ = ["export"]


@click.command()
@click.option("--gpkg", "gpkg", type=click.Path(dir_okay=False), default=None,
              help="GeoPackage 1.2 with every layer and result and a QGIS default style each.")
@click.option("--geojson", "geojson", type=click.Path(file_okay=False), default=None,
              help="Folder: one RFC 7946 GeoJSON + .qml per layer, one CSV per table.")
@click.option("--layer", "names", multiple=True,
              help="Only this layer or result (repeatable); default: all.")
@overwrite_option
@pass_catalog
def export(state: CatalogState, gpkg: str | None, geojson: str | None,
           names: tuple[str, ...], overwrite: bool) -> None:
    """Export all layers and analysis results for QGIS, styled as in the atlas.

    Confidential layers (project flats) leave only as counts per Stadtteil with counts
    below 5 suppressed.

    \b
    Example:
      gis-planning export --gpkg essen.gpkg --geojson essen_geojson --overwrite
    """
    from ..outputs.export import export_layers, write_geojson_dir, write_gpkg

    if not gpkg and not geojson:
        raise click.UsageError("give --gpkg PATH and/or --geojson DIR.")
    from .._atomic import check_output_folder, check_output_path

    if gpkg:  # check before anything is written, so a refusal leaves no partial output
        check_output_path(gpkg, overwrite=overwrite)
    if geojson and not overwrite:  # with --overwrite the set is checked once its names are known
        check_output_folder(geojson)
    layers = export_layers(state.catalog, names=list(names) or None, verbose=state.verbose)
    if geojson:  # built in a temporary folder and swapped in whole
        files = write_geojson_dir(layers, geojson, overwrite=overwrite)
        click.echo(f"GeoJSON geschrieben: {geojson} ({len(files)} Dateien)")
    if gpkg:
        path = write_gpkg(layers, gpkg, overwrite=overwrite)
        styled = sum(1 for x in layers if x.spatial)
        click.echo(f"GeoPackage geschrieben: {path} ({len(layers)} Ebenen/Tabellen, "
                   f"{styled} mit QGIS-Stil, {path.stat().st_size / 1e6:.2f} MB)")
