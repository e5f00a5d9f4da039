"""``gis-planning query`` and ``gis-planning filter``: questions to every layer, SQL or not."""

from __future__ import annotations

import click

from ._options import CatalogState, overwrite_option, pass_catalog

__all__ = ["filter_command", "query"]

_output_option = click.option(
    "-o", "--output", type=click.Path(dir_okay=False), default=None,
    help="Write the result to a .csv, .geojson or .gpkg file instead of printing it.",
)
_max_rows_option = click.option(
    "--max-rows", type=click.IntRange(min=1), default=50, show_default=True,
    help="Rows printed at most.",
)


def _emit(frame, output: str | None, overwrite: bool, max_rows: int) -> None:
    from ..query import format_result, write_result

    if output is None:
        click.echo(format_result(frame, max_rows=max_rows))
    else:
        path = write_result(frame, output, overwrite=overwrite)
        click.echo(f"{len(frame)} Zeilen -> {path}")


@click.command("query")
@click.argument("sql", required=False)
@click.option("--tables", "list_tables", is_flag=True,
              help="List the tables and their columns, then stop.")
@_output_option
@overwrite_option
@_max_rows_option
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=30.0,
              show_default=True, help="Zeitlimit der Abfrage in Sekunden.")
@click.option("--memory-limit", default="2GB", show_default=True,
              help="Arbeitsspeicher, den die Abfrage höchstens nutzt (z. B. 500MB, 4GB).")
@pass_catalog
def query(state: CatalogState, sql: str | None, list_tables: bool, output: str | None,
          overwrite: bool, max_rows: int, timeout: float, memory_limit: str) -> None:
    """Run one read-only SQL query (DuckDB + spatial) over every layer and result.

    Tables are named like the layers (kitas, schulen, stadtteile, stadtbezirke, jobcenter,
    projektwohnungen as counts per Stadtteil) and results (stadtteil_statistik,
    jobcenter_zuordnung, bezirk_statistik, ...). Geometry is in EPSG:25832, so ST_Distance
    and ST_Area give metres and m². Only SELECT / WITH queries run; nothing can change a layer.

    \b
    Beispiele / Examples:
      gis-planning query --tables
      gis-planning query "SELECT bezirk, count(*) AS n FROM schulen GROUP BY bezirk"
      gis-planning query "SELECT k.name FROM kitas k JOIN stadtteile s
          ON ST_Within(k.geometry, s.geometry) WHERE s.bezirk = 5"
      gis-planning query "SELECT * FROM stadtteil_statistik
          WHERE herkunft12_anteil_prozent > 7" -o stadtteile_ueber_7.geojson
    """
    from ..query import query as run_query
    from ..query import table_columns

    if list_tables:
        for name, cols in table_columns(state.catalog).items():
            click.echo(f"{name}: {', '.join(map(str, cols))}")
        return
    if not sql:
        raise click.UsageError("give an SQL query in quotes, or --tables to list the tables.")
    limits = {"timeout": timeout, "memory_limit": memory_limit}
    if output is None:  # printing reads only the rows it shows (and counts the rest)
        limits["limit"] = max_rows
    _emit(run_query(sql, state.catalog, **limits), output, overwrite, max_rows)


@click.command("filter")
@click.argument("layer")
@click.option("--where", "where", multiple=True, metavar="CONDITION",
              help="Condition on the layer's columns, e.g. \"anteil > 5\" (repeatable: AND).")
@click.option("--within", "within", multiple=True, metavar="[TABLE:]CONDITION",
              help="Keep features in areas meeting the condition, e.g. \"bezirk = 'V'\", "
                   "\"jobcenter: jobcenter = 'Nord'\" or a name like Altendorf.")
@click.option("--near", "near", multiple=True, metavar="TABLE:METRES[:CONDITION]",
              help="Keep features within METRES of a feature of TABLE, e.g. schulen:500; "
                   "adds the distance column abstand_TABLE_m.")
@click.option("--columns", default=None, metavar="A,B,...",
              help="Only these columns (comma-separated).")
@click.option("--count", "count_only", is_flag=True, help="Print only the number of hits.")
@click.option("--show-sql", is_flag=True, help="Print the SQL the filter compiles to.")
@_output_option
@overwrite_option
@_max_rows_option
@pass_catalog
def filter_command(state: CatalogState, layer: str, where: tuple[str, ...],
                   within: tuple[str, ...], near: tuple[str, ...], columns: str | None,
                   count_only: bool, show_sql: bool, output: str | None, overwrite: bool,
                   max_rows: int) -> None:
    """Filter LAYER without SQL: conditions, areas and distances.

    \b
    Conditions: column = < > <= >= != value, IN (...), LIKE 'x%', BETWEEN a AND b,
    IS NULL, joined with AND / OR / NOT; text in 'single quotes'; Bezirke as 5 or 'V'.

    \b
    Beispiele (Deutsch):
      # Welche Kitas liegen im Bezirk V?
      gis-planning filter kitas --within "bezirk = 'V'"
      # Welche Kitas sind noch nicht in Betrieb?
      gis-planning filter kitas --where "in_betrieb = false"
      # Welche Grundschulen liegen höchstens 300 m von einer Kita in Altendorf?
      gis-planning filter schulen --where "schulform = 'Grundschule'" \\
          --near kitas:300 --within Altendorf
      # Stadtteile mit geschätztem Anteil der 12 Herkunftsländer über 7 %
      gis-planning filter stadtteil_statistik --where "herkunft12_anteil_prozent > 7"

    \b
    Examples (English):
      # Kitas in the Stadtteile of JobCenter area Nord, as GeoJSON
      gis-planning filter kitas --within "jobcenter: jobcenter = 'Nord'" -o kitas_nord.geojson
      # How many schools lie within 500 m of a Kita that is not yet open?
      gis-planning filter schulen --near "kitas:500:in_betrieb = false" --count
      # Schools in Bezirk V within 500 m of another school
      gis-planning filter schulen --within V --near schulen:500 --columns name,schulform
    """
    from ..query import compile_filter, filter_layer, query_frames

    cols = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    if show_sql:
        sql, params = compile_filter(layer, query_frames(state.catalog), where=where, within=within,
                                     near=near, columns=cols)
        click.echo(f"-- SQL: {sql}\n-- Parameter: {params!r}", err=True)
    result = filter_layer(layer, where=where, within=within, near=near, columns=cols,
                          catalog=state.catalog)
    if count_only:
        click.echo(str(len(result)))
        return
    _emit(result, output, overwrite, max_rows)
