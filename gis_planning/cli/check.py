"""``gis-planning check``: validate a user's layer files against the catalogue schemas."""

from __future__ import annotations

import click

from ._options import CatalogState, pass_catalog

__all__ = ["check"]


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--as", "layer", default=None, metavar="LAYER",
              help="Catalogue layer the files should be (default: guessed from the file name).")
@click.option("--strict", is_flag=True, help="Treat warnings (e.g. repaired geometries) as errors.")
@pass_catalog
def check(state: CatalogState, paths: tuple[str, ...], layer: str | None, strict: bool) -> None:
    """Check layer files against the catalogue schemas and say what to fix.

    Prints one block per file: OK or FEHLER, then one line per problem naming the row or
    column and the fix. Nothing is written. Exit code 0 when every file can be used, 1 otherwise.

    \b
    Example:
      gis-planning check kitas.geojson schulen.csv
      gis-planning --catalog bochum.json check daten/stadtteile.gpkg --as stadtteile
    """
    from ..data.check import check_paths, format_report

    reports = check_paths(paths, catalog=state.catalog, layer=layer)
    for line in format_report(reports):
        click.echo(line)
    failed = any(not r.ok or (strict and r.warnings) for r in reports)
    click.get_current_context().exit(1 if failed else 0)
