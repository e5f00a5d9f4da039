"""``gis-planning status``: a status index per Stadtteil (Berlin MSS / Hamburg style)."""

from __future__ import annotations

import click

from ._options import CatalogState, overwrite_option, pass_catalog
from ._tables import echo_table, write_frame

__all__ = ["status"]


def _parse_indicator(text: str) -> tuple[str, int, float]:
    parts = text.split(":")
    col = parts[0]
    try:
        direction = int(parts[1]) if len(parts) > 1 and parts[1] else 1
        weight = float(parts[2]) if len(parts) > 2 else 1.0
    except ValueError:
        raise click.BadParameter(f"{text}: write COLUMN[:DIRECTION[:WEIGHT]], e.g. "
                                 "herkunft12_anteil_prozent:+1:2", param_hint="--indicator"
                                 ) from None
    if direction not in (-1, 1):
        raise click.BadParameter(f"{text}: direction must be +1 or -1", param_hint="--indicator")
    if not weight > 0:
        raise click.BadParameter(f"{text}: the weight must be positive", param_hint="--indicator")
    return col, direction, weight


def _names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [t.strip() for t in text.split(",") if t.strip()]


@click.command()
@click.option("--layer", default=None,
              help="Table or layer holding the indicators (one row per unit; default: the "
              "first group's table).")
@click.option("--table", "table_path", type=click.Path(dir_okay=False, exists=True),
              default=None, help="Eigene Tabelle (CSV, GeoPackage, GeoJSON) statt --layer.")
@click.option("--indicator", "indicators", multiple=True,
              help="COLUMN[:DIRECTION[:WEIGHT]]; +1 = higher value, lower status. Repeatable "
              "(default: the first group's share).")
@click.option("--preset", type=click.Choice(["mss2021"]), default=None,
              help="Verfahren des Berliner Monitorings Soziale Stadtentwicklung 2021: "
              "z-Werte (Populations-Standardabweichung), gleiche Gewichte, erneut z, "
              "Status- und Dynamikklassen, 12 Gruppen. Ersetzt --indicator.")
@click.option("--status-indicators", default=None,
              help="Mit --preset: Spalten der Statusindikatoren S1,S3,S4 (kommagetrennt).")
@click.option("--dynamik-indicators", default=None,
              help="Mit --preset: Spalten der Dynamikindikatoren D1,D3,D4 (Veränderung in "
              "Prozentpunkten); leer ('') für nur den Status.")
@click.option("--ausreisser", default=None,
              help="Mit --preset: Einheiten ohne Index (kommagetrennt, Werte von --id-column).")
@click.option("--id-column", default=None,
              help="Spalte mit den Namen der Einheiten für --ausreisser (sonst der Index).")
@click.option("--population", default=None,
              help="Population column for the floor and the weighted z-scores (default: the "
              "group's total).")
@click.option("--min-population", type=float, default=300, show_default=True)
@click.option("--weighted", is_flag=True, help="Population-weighted mean and SD for z-scores.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write GeoJSON, GeoPackage or CSV instead of printing.")
@overwrite_option
@pass_catalog
def status(state: CatalogState, layer: str | None, table_path: str | None,
           indicators: tuple[str, ...], preset: str | None, status_indicators: str | None,
           dynamik_indicators: str | None, ausreisser: str | None, id_column: str | None,
           population: str | None, min_population: float, weighted: bool,
           output: str | None, overwrite: bool) -> None:
    """Status index: indicators z-standardised against the city, summed, 4 classes.

    Without options the index has one indicator, the first group's share; name a table of
    the city pack (--layer) or your own (--table) and its indicator columns for a real index.
    Units under --min-population (and --ausreisser) get no index; the column
    'ausschluss' says why.

    \b
    Examples:
      gis-planning status
      gis-planning status --indicator herkunft12_anteil_prozent:+1
      gis-planning status --table planungsraeume.csv --preset mss2021 \\
          --status-indicators S1,S3,S4 --dynamik-indicators D1,D3,D4
    """
    from .. import results

    if preset is None and (status_indicators or dynamik_indicators or ausreisser):
        raise click.UsageError("--status-indicators, --dynamik-indicators and --ausreisser "
                               "belong to --preset mss2021.")
    frame = None
    if table_path:
        from pathlib import Path

        from ..data.io import read_csv_table, read_file

        frame = (read_csv_table(table_path) if Path(table_path).suffix.lower() == ".csv"
                 else read_file(table_path))
    if preset:
        out = results.status_table(
            state.catalog, source=layer, population=population or None,
            min_population=min_population, preset=preset,
            status_indicators=_names(status_indicators),
            dynamik_indicators=_names(dynamik_indicators), outliers=_names(ausreisser),
            id_column=id_column, frame=frame,
        )
    else:
        out = results.status_table(
            state.catalog, source=layer,
            indicators=[_parse_indicator(t) for t in indicators] or None,
            population=population or None, min_population=min_population, weighted=weighted,
            frame=frame,
        )
    if output:
        click.echo(f"geschrieben: {write_frame(out, output, overwrite=overwrite)}")
    else:
        name = [c for c in ("stadtteil", "planungsraum", "name", id_column) if c and c in out]
        extra = ["status_index", "status_class", "dynamik_index", "dynamik_class",
                 "mss_gruppe", "ausschluss"]
        keep = name[:1] + [c for c in out.columns if c.startswith("z_")] + [
            c for c in extra if c in out]
        echo_table(out.sort_values("status_index", ascending=False)[keep])
    if preset:
        info = out.attrs.get("mss", {})
        click.echo(f"{info.get('label', preset)}: {info.get('n_included', 0)} Einheiten mit "
                   f"Index, {info.get('n_excluded', 0)} ohne (Spalte 'ausschluss').")
