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
              help="Spatial variant: kernel bandwidth in metres (e.g. 500).")
@click.option("--simulations", type=click.IntRange(0, 9999), default=199, show_default=True,
              help="Bootstrap draws for the intervals (0: none).")
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

    \b
    Examples:
      gis-planning segregation
      gis-planning segregation --distance 500 -o indizes.csv
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
    else:
        echo_table(frame)
