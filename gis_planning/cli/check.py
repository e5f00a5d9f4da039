"""``gis-planning check``: validate a user's layer files against the catalogue schemas.

The report (one block per file) is the command's result (:meth:`CatalogState.result`); the
closing count goes through :meth:`CatalogState.say` (not with ``-q``).
"""

from __future__ import annotations

import click

from ._options import CatalogState, pass_catalog

__all__ = ["check"]


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False),
                metavar="DATEI...")
@click.option("--as", "layer", default=None, metavar="EBENE",
              help="Ebene oder Tabelle der Stadt, die die Dateien sein sollen (Standard: aus "
              "dem Dateinamen erkannt, z. B. kitas.csv als kitas).")
@click.option("--strict", is_flag=True,
              help="Warnungen (z. B. reparierte Geometrien) wie Fehler behandeln: "
              "Rückgabewert 1.")
@pass_catalog
def check(state: CatalogState, paths: tuple[str, ...], layer: str | None, strict: bool) -> None:
    """Eigene Dateien gegen die Schemas der Stadt prüfen und sagen, was zu korrigieren ist.

    Gibt je Datei einen Block aus: OK oder FEHLER, dann eine Zeile je Befund mit Zeile oder
    Spalte und der Korrektur. Es wird nichts geschrieben. Rückgabewert 0, wenn jede Datei
    verwendbar ist, sonst 1. Gelesen werden GeoJSON, GeoPackage (jede Ebene darin),
    Shapefile, GeoParquet und CSV mit Koordinaten (x/y, lon/lat oder wkt; Spalte 'epsg'
    für das Koordinatensystem).

    \b
    Beispiele:
      gis-planning check kitas.geojson schulen.csv
      gis-planning check meine_kitas.csv --as kitas
      gis-planning --city bochum.json check daten/stadtteile.gpkg --as stadtteile
    """
    from ..data.check import check_paths, format_report

    reports = check_paths(paths, catalog=state.catalog, layer=layer)
    *blocks, summary = format_report(reports)
    for line in blocks:
        state.result(line)
    state.say(summary)
    failed = any(not r.ok or (strict and r.warnings) for r in reports)
    click.get_current_context().exit(1 if failed else 0)
