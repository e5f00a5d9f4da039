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


@click.command()
@click.option("--layer", default=None,
              help="Table or layer holding the indicators (one row per unit; default: the "
              "first group's table).")
@click.option("--indicator", "indicators", multiple=True,
              help="COLUMN[:DIRECTION[:WEIGHT]]; +1 = higher value, lower status. Repeatable "
              "(default: the first group's share).")
@click.option("--population", default=None,
              help="Population column for the floor and the weighted z-scores (default: the "
              "group's total).")
@click.option("--min-population", type=float, default=300, show_default=True)
@click.option("--weighted", is_flag=True, help="Population-weighted mean and SD for z-scores.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write GeoJSON, GeoPackage or CSV instead of printing.")
@overwrite_option
@pass_catalog
def status(state: CatalogState, layer: str | None, indicators: tuple[str, ...],
           population: str | None,
           min_population: float, weighted: bool, output: str | None, overwrite: bool) -> None:
    """Status index: indicators z-standardised against the city, summed, 4 classes.

    Without options the index has one indicator, the first group's share; name a table of
    the city pack (--layer) and its indicator columns for a real index.

    \b
    Examples:
      gis-planning status
      gis-planning status --indicator herkunft12_anteil_prozent:+1
    """
    from .. import results

    frame = results.status_table(
        state.catalog, source=layer,
        indicators=[_parse_indicator(t) for t in indicators] or None,
        population=population or None, min_population=min_population, weighted=weighted,
    )
    if output:
        click.echo(f"geschrieben: {write_frame(frame, output, overwrite=overwrite)}")
        return
    keep = [c for c in frame.columns if c in ("stadtteil", "status_index", "status_class")
            or c.startswith("z_")]
    echo_table(frame.sort_values("status_index", ascending=False)[keep])
