"""``gis-planning status``: a status index per Stadtteil (Berlin MSS / Hamburg style)."""

from __future__ import annotations

import click

from ._options import CatalogState, group_option, output_option, overwrite_option, pass_catalog
from ._tables import echo_table, write_frame

__all__ = ["status"]


def _parse_indicator(text: str) -> tuple[str, int, float]:
    parts = text.split(":")
    col = parts[0]
    try:
        direction = int(parts[1]) if len(parts) > 1 and parts[1] else 1
        weight = float(parts[2]) if len(parts) > 2 else 1.0
    except ValueError:
        raise click.BadParameter(f"{text}: SPALTE[:RICHTUNG[:GEWICHT]] angeben, z. B. "
                                 "herkunft12_anteil_prozent:+1:2", param_hint="--indicator"
                                 ) from None
    if direction not in (-1, 1):
        raise click.BadParameter(f"{text}: die Richtung muss +1 oder -1 sein.",
                                 param_hint="--indicator")
    if not weight > 0:
        raise click.BadParameter(f"{text}: das Gewicht muss positiv sein.",
                                 param_hint="--indicator")
    return col, direction, weight


def _names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [t.strip() for t in text.split(",") if t.strip()]


@click.command()
@click.option("--layer", default=None, metavar="EBENE",
              help="Tabelle oder Ebene mit den Indikatoren (eine Zeile je Einheit; Standard: "
              "die Tabelle der Gruppe).")
@group_option
@click.option("--table", "table_path", type=click.Path(dir_okay=False, exists=True),
              default=None, metavar="DATEI",
              help="Eigene Tabelle (CSV, GeoPackage, GeoJSON) statt --layer.")
@click.option("--indicator", "indicators", multiple=True,
              metavar="SPALTE[:RICHTUNG[:GEWICHT]]",
              help="Indikator; Richtung +1 = höherer Wert, niedrigerer Status. Mehrfach "
              "angebbar (Standard: der Anteil der Gruppe).")
@click.option("--preset", type=click.Choice(["mss2021"]), default=None,
              help="Verfahren des Berliner Monitorings Soziale Stadtentwicklung 2021: "
              "z-Werte (Populations-Standardabweichung), gleiche Gewichte, erneut z, "
              "Status- und Dynamikklassen, 12 Gruppen. Ersetzt --indicator.")
@click.option("--status-indicators", default=None, metavar="SPALTEN",
              help="Mit --preset: Spalten der Statusindikatoren S1,S3,S4 (kommagetrennt).")
@click.option("--dynamik-indicators", default=None, metavar="SPALTEN",
              help="Mit --preset: Spalten der Dynamikindikatoren D1,D3,D4 (Veränderung in "
              "Prozentpunkten); leer ('') für nur den Status.")
@click.option("--ausreisser", default=None, metavar="NAMEN",
              help="Mit --preset: Einheiten ohne Index (kommagetrennt, Werte von --id-column).")
@click.option("--id-column", default=None, metavar="SPALTE",
              help="Spalte mit den Namen der Einheiten für --ausreisser (sonst der Index).")
@click.option("--population", default=None, metavar="SPALTE",
              help="Spalte mit der Bevölkerung für die Mindestgröße und die gewichteten "
              "z-Werte (Standard: die Gesamtzahl der Gruppe).")
@click.option("--min-population", type=float, default=300,
              metavar="EINWOHNER",
              help="Einheiten mit weniger Einwohnern erhalten keinen Index (Standard: 300).")
@click.option("--weighted", is_flag=True,
              help="Mittelwert und Standardabweichung der z-Werte nach Bevölkerung gewichten.")
@output_option("Ergebnis in eine Datei schreiben statt es anzuzeigen: GeoJSON, GeoPackage "
               "oder CSV nach der Endung; '-' schreibt GeoJSON (Tabellen ohne Geometrie: "
               "CSV) auf die Standardausgabe.", aliases=("--out",))
@overwrite_option
@pass_catalog
def status(state: CatalogState, layer: str | None, group: str | None, table_path: str | None,
           indicators: tuple[str, ...], preset: str | None, status_indicators: str | None,
           dynamik_indicators: str | None, ausreisser: str | None, id_column: str | None,
           population: str | None, min_population: float, weighted: bool,
           output: str | None, overwrite: bool) -> None:
    """Statusindex: Indikatoren gegen die Stadt z-standardisiert, summiert, 4 Klassen.

    Ohne Optionen hat der Index einen Indikator, den Anteil der Gruppe (--group, sonst die
    erste des Packs); für einen echten Index eine Tabelle des Stadt-Packs (--layer) oder
    eine eigene (--table) und ihre Indikatorspalten nennen. Einheiten unter
    --min-population (und in --ausreisser) erhalten keinen Index; die Spalte 'ausschluss'
    nennt den Grund.

    \b
    Beispiele:
      gis-planning status
      gis-planning status --group nichtdeutsche -o status.geojson
      gis-planning status --indicator herkunft12_anteil_prozent:+1
      gis-planning status --table planungsraeume.csv --preset mss2021 \\
          --status-indicators S1,S3,S4 --dynamik-indicators D1,D3,D4
    """
    from .. import results

    if preset is None and (status_indicators or dynamik_indicators or ausreisser):
        raise click.UsageError("--status-indicators, --dynamik-indicators und --ausreisser "
                               "gehören zu --preset mss2021.")
    if group is not None and (layer or table_path or preset):
        raise click.UsageError("--group wählt die Tabelle und den Anteil der Gruppe; mit "
                               "--layer, --table oder --preset nennen Sie die Spalten selbst "
                               "(--indicator, --population).")
    if output == "-":
        state.stdout_is_data()
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
            frame=frame, group=group,
        )
    if output:
        path = write_frame(out, output, overwrite=overwrite)
        if output != "-":
            state.say(f"geschrieben: {path}")
    else:
        name = [c for c in ("stadtteil", "planungsraum", "name", id_column) if c and c in out]
        extra = ["status_index", "status_class", "dynamik_index", "dynamik_class",
                 "mss_gruppe", "ausschluss"]
        keep = name[:1] + [c for c in out.columns if c.startswith("z_")] + [
            c for c in extra if c in out]
        echo_table(out.sort_values("status_index", ascending=False)[keep])
    if preset:
        info = out.attrs.get("mss", {})
        state.say(f"{info.get('label', preset)}: {info.get('n_included', 0)} Einheiten mit "
                  f"Index, {info.get('n_excluded', 0)} ohne (Spalte 'ausschluss').")
