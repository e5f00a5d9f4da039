"""``gis-planning layers``: list, show and export catalogue layers."""

from __future__ import annotations

import click

from ..labels import fmt_date, fmt_number
from ._options import CatalogState, overwrite_option, pass_catalog

__all__ = ["layers"]


@click.group()
def layers() -> None:
    """List, describe and export the layers of the catalogue."""


@layers.command("list")
@pass_catalog
def list_layers(state: CatalogState) -> None:
    """List the layers with their German label.

    \b
    Example:
      gis-planning layers list
    """
    cat = state.catalog
    click.echo(f"Stadt: {cat.city} (Koordinatensystem {cat.crs}, Einheit: "
               f"{cat.unit.label_plural})")
    width = max(len(n) for n in [*cat.names(), *cat.table_names(), *cat.group_names()])
    click.echo("Ebenen:")
    for name in cat.names():
        s = cat.schema(name)
        flags = []
        if s.confidential:
            flags.append("vertraulich")
        if s.synthetic:
            flags.append("synthetisch")
        extra = f"  [{', '.join(flags)}]" if flags else ""
        click.echo(f"  {name:<{width}}  {s.label}{extra}")
    if cat.table_names():
        click.echo("Tabellen:")
        for name in cat.table_names():
            m = cat.table_meta(name)
            est = ", geschätzt" if m["estimated"] else ""
            dates = ", ".join(fmt_date(d) for d in cat.table_dates(name))
            click.echo(f"  {name:<{width}}  {m['label']} (Stand {dates}{est})")
    if cat.group_names():
        click.echo("Gruppen (--group):")
        for name in cat.group_names():
            g = cat.group(name)
            click.echo(f"  {name:<{width}}  {g.label} (Tabelle {g.table})")


@layers.command("show")
@click.argument("name", required=False)
@pass_catalog
def show_layer(state: CatalogState, name: str | None) -> None:
    """Show schema, counts, source, licence, CRS and extent of layer or table NAME.

    Without NAME: the schema of every layer kind a city pack can name.

    \b
    Examples:
      gis-planning layers show kitas
      gis-planning layers show stadtteil_statistik
      gis-planning layers show
    """
    cat = state.catalog
    if name is None:
        from ..data.layer_info import describe_schema
        from ..data.schema import SCHEMAS

        for kind, schema in SCHEMAS.items():
            click.echo(f"{kind} ({schema.label}):")
            for k, v in describe_schema(schema).items():
                click.echo(f"  {k}: {v}")
        click.echo("Tabellen (\"tables\" in der Pack-Datei): eine Zeile je Einheit, Schlüssel "
                   "\"key\" zur Spalte der Einheit (z. B. stadtteil_nr), Anzahlen der Gruppen "
                   "als Zahlen; Anteile werden aus Anzahl und Gesamtzahl berechnet.")
        return
    if name in cat.table_names():
        from ..data.layer_info import describe_table

        info = describe_table(cat, name)
    else:
        from ..data.layer_info import describe_layer

        info = describe_layer(cat, name)
    for key, value in info.items():
        if isinstance(value, dict):
            click.echo(f"{key}:")
            for k, v in value.items():
                click.echo(f"  {k}: {v}")
        elif isinstance(value, float):
            click.echo(f"{key}: {fmt_number(value, 1)}")
        else:
            click.echo(f"{key}: {value}")


@layers.command("export")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["geojson", "gpkg", "csv"]), required=True,
              help="Output format (GeoJSON is RFC 7946 in WGS84).")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False), required=True,
              help="Output file.")
@overwrite_option
@pass_catalog
def export_layer(state: CatalogState, name: str, fmt: str, output: str, overwrite: bool) -> None:
    """Export layer NAME to a GeoJSON, GeoPackage or CSV file.

    Confidential layers (project flats) are exported only as counts per Stadtteil with
    small counts suppressed.

    \b
    Example:
      gis-planning layers export schulen --format geojson -o schulen.geojson
    """
    from ..data.layer_info import export_layer as do_export

    path = do_export(state.catalog, name, output, fmt=fmt, overwrite=overwrite)
    click.echo(f"{name} -> {path}")
