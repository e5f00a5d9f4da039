"""``gis-planning segregation``: segregation indices per city and Bezirk."""

from __future__ import annotations

import click

from ._options import CatalogState, group_option, output_option, overwrite_option, pass_catalog
from ._tables import echo_table, write_frame

__all__ = ["segregation"]


@click.command()
@click.option("--by", type=click.Choice(["bezirk", "keine"]), default="bezirk",
              help="Die Indizes zusätzlich innerhalb jedes Bezirks berechnen ('keine': nur "
              "für die ganze Stadt; Standard: bezirk).")
@click.option("--distance", type=float, default=None, metavar="METER",
              help="Räumliche Variante: Kernbandbreite in Metern; sie muss größer sein als der "
              "kleinste Abstand zweier Stadtteile (sonst Abbruch mit dem Mindestwert). "
              "Bandbreite, Kern und Einheit stehen in der Ausgabe.")
@click.option("--simulations", type=click.IntRange(0, 9999), default=199,
              metavar="ANZAHL",
              help="Simulierte Pfade für die verzerrungskorrigierten 95-%-Intervalle und den "
              "Zufallsvergleich (0: keine; Standard: 199).")
@click.option("--seed", type=int, default=0, metavar="ZAHL",
              help="Startwert des Zufallsgenerators (gleicher Wert, gleiche Intervalle; "
              "Standard: 0).")
@click.option("--lokal", is_flag=True,
              help="Stattdessen lokale Indizes je Stadtteil (Standortquotient, Entropie).")
@group_option
@output_option("Ergebnis in eine Datei schreiben statt es anzuzeigen: CSV, GeoJSON oder "
               "GeoPackage nach der Endung; '-' schreibt CSV (mit --lokal GeoJSON) auf die "
               "Standardausgabe.", aliases=("--out",))
@overwrite_option
@pass_catalog
def segregation(state: CatalogState, by: str, distance: float | None, simulations: int,
                seed: int, lokal: bool, group: str | None, output: str | None,
                overwrite: bool) -> None:
    """Segregation einer Bevölkerungsgruppe: D, Isolation, Exposition, Theils H.

    Sind die Werte der Einheiten geschätzt (das Pack sagt es), steht das in der Spalte
    `hinweis`. Neben D steht das D, das bei zufälliger Verteilung aller Einwohner zu
    erwarten wäre (dissimilarity_random); die Intervalle sind verzerrungskorrigiert
    (_bc, _ci_low, _ci_high).

    \b
    Beispiele:
      gis-planning segregation
      gis-planning segregation --distance 3500 -o indizes.csv
      gis-planning segregation --lokal -o lq.geojson
      gis-planning -q segregation -o - > indizes.csv
    """
    from .. import results

    cat = state.catalog
    if lokal and (distance is not None or by != "bezirk" or simulations != 199 or seed != 0):
        raise click.UsageError("--lokal berechnet Standortquotienten und Entropie je "
                               "Stadtteil; --by, --distance, --simulations und --seed gelten "
                               "nur für die globalen Indizes.")
    if distance is not None and distance <= 0:
        raise click.BadParameter("die Bandbreite muss eine positive Zahl von Metern sein.",
                                 param_hint="--distance")
    if output == "-":
        state.stdout_is_data()
    if lokal:
        if group is not None and group != cat.group().name:
            raise click.UsageError("--lokal gilt für die erste Gruppe des Packs; für eine "
                                   "andere Gruppe nutzen Sie die globalen Indizes.")
        frame = results.compute(cat, "segregation_lokal")
    else:
        frame = results.segregation_table(
            cat, group=group, by=None if by == "keine" else by, distance=distance,
            n_simulations=simulations, seed=seed, progress=state.progress,
        )
    if output:
        path = write_frame(frame, output, overwrite=overwrite)
        if output != "-":
            state.say(f"geschrieben: {path}")
    elif lokal:
        echo_table(frame)
    else:
        shown = ["scope", "n_units", "total", "group_share", "dissimilarity",
                 "dissimilarity_random", "dissimilarity_bc", "dissimilarity_ci_low",
                 "dissimilarity_ci_high", "isolation", "exposure", "theil_h", "bandwidth_m",
                 "kernel"]
        echo_table(frame[[c for c in shown if c in frame]])
        state.say("Alle Spalten (Intervalle je Index, Zufallsvergleich): mit -o in eine "
                  "CSV-Datei schreiben.")
