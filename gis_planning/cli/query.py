"""``gis-planning query`` and ``gis-planning filter``: questions to every layer, SQL or not."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ._options import CatalogState, output_option, overwrite_option, pass_catalog
from ._tables import write_frame

if TYPE_CHECKING:  # pragma: no cover
    pass

__all__ = ["filter_command", "query"]

_output_option = output_option(
    "Ergebnis in eine Datei (.csv, .geojson oder .gpkg) schreiben statt es als Tabelle "
    "auszugeben; '-o -' schreibt CSV (Tabellen) oder GeoJSON (mit Geometrie) auf die "
    "Standardausgabe."
)
_max_rows_option = click.option(
    "--max-rows", type=click.IntRange(min=1), default=50, show_default=True,
    help="Höchstens so viele Zeilen ausgeben.",
)


def _emit(state: CatalogState, frame, output: str | None, overwrite: bool,
          max_rows: int) -> None:
    from ..labels import fmt_int
    from ..query import format_result, write_result

    if output is None:
        state.result(format_result(frame, max_rows=max_rows))
    elif output == "-":
        state.stdout_is_data()
        write_frame(frame, "-", overwrite=False)
        state.say(f"{fmt_int(len(frame))} Zeilen -> Standardausgabe")
    else:
        path = write_result(frame, output, overwrite=overwrite)
        state.say(f"{fmt_int(len(frame))} Zeilen -> {path}")


@click.command("query")
@click.argument("sql", required=False)
@click.option("--tables", "list_tables", is_flag=True,
              help="Die Tabellen und ihre Spalten auflisten, dann aufhören.")
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
    """Eine lesende SQL-Abfrage (DuckDB mit Geo-Funktionen) über alle Ebenen und Ergebnisse.

    Die Tabellen heißen wie die Ebenen (kitas, schulen, stadtteile, stadtbezirke, jobcenter,
    projektwohnungen als Anzahlen je Stadtteil) und die Ergebnisse (stadtteil_statistik,
    jobcenter_zuordnung, bezirk_statistik, …). Geometrien liegen in EPSG:25832, also geben
    ST_Distance und ST_Area Meter und m². Nur SELECT- und WITH-Abfragen laufen; keine
    Abfrage kann eine Ebene ändern.

    \b
    Beispiele:
      gis-planning query --tables
      gis-planning query "SELECT bezirk, count(*) AS n FROM schulen GROUP BY bezirk"
      gis-planning query "SELECT k.name FROM kitas k JOIN stadtteile s
          ON ST_Within(k.geometry, s.geometry) WHERE s.bezirk = 5"
      gis-planning query "SELECT * FROM stadtteil_statistik
          WHERE herkunft12_anteil_prozent > 7" -o stadtteile_ueber_7.geojson
      gis-planning query "SELECT name, bezirk FROM kitas" -o - > kitas.csv
    """
    from ..query import query as run_query
    from ..query import table_columns

    if list_tables:
        for name, cols in table_columns(state.catalog).items():
            state.result(f"{name}: {', '.join(map(str, cols))}")
        return
    if not sql:
        raise click.UsageError("Geben Sie eine SQL-Abfrage in Anführungszeichen an, oder "
                               "--tables, um die Tabellen aufzulisten.")
    limits = {"timeout": timeout, "memory_limit": memory_limit}
    if output is None:  # printing reads only the rows it shows (and counts the rest)
        limits["limit"] = max_rows
    _emit(state, run_query(sql, state.catalog, **limits), output, overwrite, max_rows)


@click.command("filter")
@click.argument("layer")
@click.option("--where", "where", multiple=True, metavar="BEDINGUNG",
              help="Bedingung an die Spalten der Ebene, z. B. \"anteil > 5\" (mehrfach: "
                   "alle müssen gelten).")
@click.option("--within", "within", multiple=True, metavar="[TABELLE:]BEDINGUNG",
              help="Nur Objekte in Gebieten, die die Bedingung erfüllen, z. B. "
                   "\"bezirk = 'V'\", \"jobcenter: jobcenter = 'Nord'\" oder ein Name wie "
                   "Altendorf.")
@click.option("--near", "near", multiple=True, metavar="TABELLE:METER[:BEDINGUNG]",
              help="Nur Objekte höchstens METER von einem Objekt der TABELLE, z. B. "
                   "schulen:500; fügt die Spalte abstand_TABELLE_m hinzu.")
@click.option("--columns", default=None, metavar="A,B,…",
              help="Nur diese Spalten (durch Kommas getrennt).")
@click.option("--count", "count_only", is_flag=True, help="Nur die Zahl der Treffer ausgeben.")
@click.option("--show-sql", is_flag=True,
              help="Das SQL, in das der Filter übersetzt wird, zusätzlich ausgeben.")
@_output_option
@overwrite_option
@_max_rows_option
@pass_catalog
def filter_command(state: CatalogState, layer: str, where: tuple[str, ...],
                   within: tuple[str, ...], near: tuple[str, ...], columns: str | None,
                   count_only: bool, show_sql: bool, output: str | None, overwrite: bool,
                   max_rows: int) -> None:
    """Die Ebene LAYER ohne SQL filtern: Bedingungen, Gebiete und Abstände.

    \b
    Bedingungen: spalte = < > <= >= != wert, IN (…), LIKE 'x%', BETWEEN a AND b,
    IS NULL, verknüpft mit AND / OR / NOT; Text in 'einfachen Anführungszeichen';
    Bezirke als 5 oder 'V'.

    \b
    Beispiele:
      # Welche Kitas liegen im Bezirk V?
      gis-planning filter kitas --within "bezirk = 'V'"
      # Welche Kitas sind noch nicht in Betrieb?
      gis-planning filter kitas --where "in_betrieb = false"
      # Welche Grundschulen liegen höchstens 300 m von einer Kita in Altendorf?
      gis-planning filter schulen --where "schulform = 'Grundschule'" \\
          --near kitas:300 --within Altendorf
      # Stadtteile mit geschätztem Anteil der 12 Herkunftsländer über 7 %
      gis-planning filter stadtteil_statistik --where "herkunft12_anteil_prozent > 7"
      # Kitas in den Stadtteilen des JobCenter-Bereichs Nord, als GeoJSON
      gis-planning filter kitas --within "jobcenter: jobcenter = 'Nord'" -o kitas_nord.geojson
      # Wie viele Schulen liegen höchstens 500 m von einer Kita, die noch nicht offen ist?
      gis-planning filter schulen --near "kitas:500:in_betrieb = false" --count
      # Schulen im Bezirk V höchstens 500 m von einer anderen Schule, als CSV
      gis-planning filter schulen --within V --near schulen:500 --columns name -o -
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
        state.result(str(len(result)))
        return
    _emit(state, result, output, overwrite, max_rows)
