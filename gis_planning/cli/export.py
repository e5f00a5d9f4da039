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
@click.option("--project", "project", type=click.Path(dir_okay=False), default=None,
              help="QGIS-Projekt (.qgz) zum GeoPackage; Standard: neben dem GeoPackage, "
              "gleicher Name.")
@click.option("--no-project", is_flag=True, help="Kein QGIS-Projekt schreiben.")
@overwrite_option
@pass_catalog
def export(state: CatalogState, gpkg: str | None, geojson: str | None,
           names: tuple[str, ...], project: str | None, no_project: bool,
           overwrite: bool) -> None:
    """Export all layers and analysis results for QGIS, styled as in the atlas.

    With --gpkg also a QGIS project (.qgz) beside the GeoPackage: the atlas's groups and
    order, the Bezirk choropleth shown, every layer styled, with German field names and
    its licence and source in the layer metadata. Confidential layers (project flats)
    leave only as counts per Stadtteil with counts below 5 suppressed.

    \b
    Example:
      gis-planning export --gpkg essen.gpkg --geojson essen_geojson --overwrite
      gis-planning export --gpkg out/essen.gpkg --project out/atlas.qgz
    """
    from ..outputs.export import export_layers, write_geojson_dir, write_gpkg

    if not gpkg and not geojson:
        raise click.UsageError("give --gpkg PATH and/or --geojson DIR.")
    if project and (no_project or not gpkg):
        raise click.UsageError("--project braucht --gpkg und passt nicht zu --no-project.")
    from pathlib import Path

    from .._atomic import check_output_folder, check_output_path

    qgz = None
    if gpkg and not no_project:
        qgz = Path(project) if project else Path(gpkg).with_suffix(".qgz")
        if qgz.suffix.lower() not in (".qgz", ".qgs"):
            raise click.BadParameter("ein QGIS-Projekt endet auf .qgz oder .qgs.",
                                     param_hint="--project")
    if gpkg:  # check before anything is written, so a refusal leaves no partial output
        check_output_path(gpkg, overwrite=overwrite)
    if geojson and not overwrite:  # with --overwrite the set is checked once its names are known
        check_output_folder(geojson)
    if qgz is not None:
        check_output_path(qgz, overwrite=overwrite)
    layers = export_layers(state.catalog, names=list(names) or None, verbose=state.verbose)
    if geojson:  # built in a temporary folder and swapped in whole
        files = write_geojson_dir(layers, geojson, overwrite=overwrite)
        click.echo(f"GeoJSON geschrieben: {geojson} ({len(files)} Dateien)")
    if gpkg:
        path = write_gpkg(layers, gpkg, overwrite=overwrite)
        styled = sum(1 for x in layers if x.spatial)
        click.echo(f"GeoPackage geschrieben: {path} ({len(layers)} Ebenen/Tabellen, "
                   f"{styled} mit QGIS-Stil, {path.stat().st_size / 1e6:.2f} MB)")
    if qgz is not None:
        from ..outputs.qgis_project import write_qgis_project

        cat = state.catalog
        written = write_qgis_project(
            layers, gpkg, qgz, title=f"Integrationsatlas {cat.city}", crs=cat.crs,
            abstract=f"Ebenen und Ergebnisse von gis_planning für {cat.city}; Quellen und "
            f"Lizenzen in den Metadaten jeder Ebene.", overwrite=overwrite)
        click.echo(f"QGIS-Projekt geschrieben: {written} (öffnet {path.name})")
