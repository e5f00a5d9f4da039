"""``gis-planning export``: one styled GeoPackage and/or RFC 7946 GeoJSON files for QGIS."""

from __future__ import annotations

import click

from ..labels import fmt_number
from ._options import (
    CatalogState,
    output_dir_option,
    output_option,
    overwrite_option,
    pass_catalog,
)

__all__ = ["export"]


@click.command()
@output_option("GeoPackage 1.2 mit jeder Ebene und jedem Ergebnis, je mit QGIS-Standardstil.",
               aliases=("--gpkg",), metavar="DATEI.gpkg")
@output_dir_option("Ordner: je Ebene eine RFC-7946-GeoJSON-Datei mit .qml, je Tabelle eine "
                   "CSV-Datei.", aliases=("--geojson",))
@click.option("--layer", "names", multiple=True, metavar="NAME",
              help="Nur diese Ebene oder dieses Ergebnis (mehrfach möglich); Standard: alle.")
@click.option("--project", "project", type=click.Path(dir_okay=False), default=None,
              metavar="DATEI.qgz",
              help="QGIS-Projekt (.qgz) zum GeoPackage; Standard: neben dem GeoPackage, "
              "gleicher Name.")
@click.option("--no-project", is_flag=True, help="Kein QGIS-Projekt schreiben.")
@overwrite_option
@pass_catalog
def export(state: CatalogState, output: str | None, output_dir: str | None,
           names: tuple[str, ...], project: str | None, no_project: bool,
           overwrite: bool) -> None:
    """Alle Ebenen und Ergebnisse für QGIS ausgeben, gestaltet wie im Atlas.

    Mit -o/--output auch ein QGIS-Projekt (.qgz) neben dem GeoPackage: Gruppen und
    Reihenfolge des Atlas, die Bezirkskarte eingeblendet, jede Ebene gestaltet, mit
    deutschen Feldnamen und Lizenz und Quelle in den Metadaten der Ebene. Vertrauliche
    Ebenen (Projektwohnungen) verlassen das Werkzeug nur als Anzahl je Stadtteil, Zahlen
    unter 5 unterdrückt.

    \b
    Beispiel:
      gis-planning export -o essen.gpkg --output-dir essen_geojson --overwrite
      gis-planning export -o out/essen.gpkg --project out/atlas.qgz
    """
    from ..outputs.export import export_layers, write_geojson_dir, write_gpkg

    gpkg, geojson = output, output_dir
    if not gpkg and not geojson:
        raise click.UsageError("nennen Sie -o/--output DATEI.gpkg und/oder --output-dir ORDNER.")
    if gpkg == "-":
        raise click.BadParameter("ein GeoPackage geht nicht auf die Standardausgabe; nennen "
                                 "Sie eine .gpkg-Datei.", param_hint="-o/--output")
    if project and (no_project or not gpkg):
        raise click.UsageError("--project braucht -o/--output und passt nicht zu --no-project.")
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
    layers = export_layers(state.catalog, names=list(names) or None, progress=state.progress)
    if geojson:  # built in a temporary folder and swapped in whole
        files = write_geojson_dir(layers, geojson, overwrite=overwrite, progress=state.progress)
        state.say(f"GeoJSON geschrieben: {geojson} ({len(files)} Dateien)")
    if gpkg:
        path = write_gpkg(layers, gpkg, overwrite=overwrite, progress=state.progress)
        styled = sum(1 for x in layers if x.spatial)
        state.say(f"GeoPackage geschrieben: {path} ({len(layers)} Ebenen/Tabellen, "
                  f"{styled} mit QGIS-Stil, {fmt_number(path.stat().st_size / 1e6, 2)} MB)")
    if qgz is not None:
        from ..outputs.qgis_project import write_qgis_project

        cat = state.catalog
        written = write_qgis_project(
            layers, gpkg, qgz, title=f"Integrationsatlas {cat.city}", crs=cat.crs,
            abstract=f"Ebenen und Ergebnisse von gis_planning für {cat.city}; Quellen und "
            f"Lizenzen in den Metadaten jeder Ebene.", overwrite=overwrite)
        state.say(f"QGIS-Projekt geschrieben: {written} (öffnet {path.name})")
