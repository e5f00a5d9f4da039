"""``gis-planning hotspots``: Gi* and local Moran hotspots with FDR q-values."""

from __future__ import annotations

import click

from ._options import CatalogState, group_option, overwrite_option, pass_catalog
from ._tables import echo_table, write_frame

__all__ = ["hotspots"]


@click.command()
@click.option("--method", type=click.Choice(["gi", "lisa"]), default="gi", show_default=True,
              help="Getis-Ord Gi* or local Moran's I.")
@group_option
@click.option("--layer", default=None,
              help="Another polygon table, layer or result to analyse (default: the group's "
              "table).")
@click.option("--column", default=None, help="Count (or value) column (default: the group's).")
@click.option("--denominator", default=None,
              help="Population column: analyse the rate column/denominator ('' for none; "
              "default: the group's total).")
@click.option("--weights", type=click.Choice(["queen", "knn", "distance"]), default="queen",
              show_default=True)
@click.option("--k", type=click.IntRange(1, 100), default=8, show_default=True,
              help="Neighbours for --weights knn.")
@click.option("--distance", type=float, default=None, help="Metres for --weights distance.")
@click.option("--permutations", type=click.IntRange(99, 99999), default=999, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--min-population", type=float, default=300, show_default=True,
              help="Units below are reported 'zu klein' and not classified.")
@click.option("--grid", "cell_size", type=click.FloatRange(min=10), default=None,
              help="Move the counts to a square grid of this cell size (m) first.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write GeoJSON, GeoPackage or CSV instead of printing.")
@overwrite_option
@pass_catalog
def hotspots(state: CatalogState, method: str, group: str | None, layer: str | None,
             column: str | None, denominator: str | None,
             weights: str, k: int, distance: float | None, permutations: int, seed: int,
             min_population: float, cell_size: float | None, output: str | None,
             overwrite: bool) -> None:
    """Hotspots whose significance survives multiple testing (Benjamini-Hochberg q per unit).

    \b
    Examples:
      gis-planning hotspots
      gis-planning hotspots --method lisa -o lisa.geojson
      gis-planning hotspots --grid 500 --weights distance --distance 1000
    """
    from .. import results

    if weights == "distance" and not distance:
        raise click.BadParameter("--weights distance needs --distance METRES",
                                 param_hint="--distance")
    frame = results.hotspot_layer(
        state.catalog, method=method, group=group, source=layer, column=column,
        denominator="" if denominator is None else (denominator or None), weights=weights,
        k=k, distance=distance,
        permutations=permutations, seed=seed, min_population=min_population,
        cell_size=cell_size,
    )
    if output:
        click.echo(f"geschrieben: {write_frame(frame, output, overwrite=overwrite)}")
        return
    stat, q = ("gi_z", "gi_q") if method == "gi" else ("lisa_i", "lisa_q")
    keep = [c for c in ("stadtteil", "cell_id", "value", stat, q, "klasse") if c in frame]
    echo_table(frame.sort_values(stat, ascending=False)[keep])
    counts = frame["klasse"].value_counts()
    click.echo("; ".join(f"{k}: {v}" for k, v in counts.items()))
