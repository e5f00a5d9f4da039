"""``gis-planning segregation``: segregation indices per city and Bezirk."""

from __future__ import annotations

import click

from ._options import CatalogState, group_option, overwrite_option, pass_catalog
from ._tables import echo_table, write_frame

__all__ = ["segregation"]


@click.command()
@click.option("--by", type=click.Choice(["bezirk", "keine"]), default="bezirk", show_default=True,
              help="Also compute the indices within each Bezirk.")
@click.option("--distance", type=float, default=None,
              help="Räumliche Variante: Kernbandbreite in Metern; sie muss größer sein als der "
              "kleinste Abstand zweier Stadtteile (sonst Abbruch mit dem Mindestwert). "
              "Bandbreite, Kern und Einheit stehen in der Ausgabe.")
@click.option("--simulations", type=click.IntRange(0, 9999), default=199, show_default=True,
              help="Simulierte Pfade für die verzerrungskorrigierten 95-%-Intervalle und den "
              "Zufallsvergleich (0: keine).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--lokal", is_flag=True, help="Local indices per Stadtteil (LQ, entropy) instead.")
@group_option
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write CSV, GeoJSON or GeoPackage instead of printing.")
@overwrite_option
@pass_catalog
def segregation(state: CatalogState, by: str, distance: float | None, simulations: int,
                seed: int, lokal: bool, group: str | None, output: str | None,
                overwrite: bool) -> None:
    """Segregation of a population group: D, isolation, exposure, Theil H.

    Where the unit values are estimates (the pack says so), the indices say so in `hinweis`.
    Beside D stands the D expected if every resident were placed at random
    (dissimilarity_random); the intervals are bias-corrected (_bc, _ci_low, _ci_high).

    \b
    Examples:
      gis-planning segregation
      gis-planning segregation --distance 3500 -o indizes.csv
      gis-planning segregation --lokal -o lq.geojson
    """
    from .. import results

    cat = state.catalog
    if lokal and (distance is not None or by != "bezirk" or simulations != 199 or seed != 0):
        raise click.UsageError("--lokal computes location quotients and entropy per Stadtteil; "
                               "--by, --distance, --simulations and --seed apply only to the "
                               "global indices.")
    if distance is not None and distance <= 0:
        raise click.BadParameter("must be a positive number of metres", param_hint="--distance")
    if lokal:
        if group is not None and group != cat.group().name:
            raise click.UsageError("--lokal gilt für die erste Gruppe des Packs; für eine "
                                   "andere Gruppe nutzen Sie die globalen Indizes.")
        frame = results.compute(cat, "segregation_lokal")
    else:
        frame = results.segregation_table(
            cat, group=group, by=None if by == "keine" else by, distance=distance,
            n_simulations=simulations, seed=seed,
        )
    if output:
        path = write_frame(frame, output, overwrite=overwrite)
        click.echo(f"geschrieben: {path}")
    elif lokal:
        echo_table(frame)
    else:
        shown = ["scope", "n_units", "total", "group_share", "dissimilarity",
                 "dissimilarity_random", "dissimilarity_bc", "dissimilarity_ci_low",
                 "dissimilarity_ci_high", "isolation", "exposure", "theil_h", "bandwidth_m",
                 "kernel"]
        echo_table(frame[[c for c in shown if c in frame]])
        click.echo("Alle Spalten (Intervalle je Index, Zufallsvergleich): mit -o in eine "
                   "CSV-Datei schreiben.")
