"""``gis-planning hotspots``: Gi* and local Moran hotspots with FDR q-values."""

from __future__ import annotations

import click

from ._options import CatalogState, group_option, overwrite_option, pass_catalog
from ._tables import echo_table, write_frame

__all__ = ["hotspots"]


class _Permutations(click.ParamType):
    """``auto`` or a whole number of permutations (0: normal approximation)."""

    name = "auto|ANZAHL"

    def convert(self, value, param, ctx):
        if isinstance(value, int) or value == "auto":
            return value
        try:
            number = int(str(value))
        except ValueError:
            self.fail(f"{value!r}: 'auto' oder eine ganze Zahl angeben (z. B. 9999).", param, ctx)
        if number < 0:
            self.fail(f"{value!r}: die Anzahl darf nicht negativ sein.", param, ctx)
        return number


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
@click.option("--permutations", type=_Permutations(), default="auto", show_default=True,
              help="Bedingte Permutationen; 'auto' wählt die Anzahl so, dass eine Einheit "
              "nach der FDR-Korrektur signifikant werden kann (bei sehr vielen Einheiten: "
              "Normalapproximation); 0 = Normalapproximation. Zu kleine Zahlen werden "
              "abgelehnt.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--min-population", type=float, default=300, show_default=True,
              help="Units below are reported 'zu klein' and not classified.")
@click.option("--grid", "cell_size", type=click.FloatRange(min=10), default=None,
              help="Abgelehnt: ein aus Polygonwerten gefülltes Raster hat keine "
              "unabhängigen Zellwerte. Für echte Zellen (Zensus-Gitter) --layer verwenden.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write GeoJSON, GeoPackage or CSV instead of printing.")
@overwrite_option
@pass_catalog
def hotspots(state: CatalogState, method: str, group: str | None, layer: str | None,
             column: str | None, denominator: str | None,
             weights: str, k: int, distance: float | None, permutations: int | str, seed: int,
             min_population: float, cell_size: float | None, output: str | None,
             overwrite: bool) -> None:
    """Hotspots whose significance survives multiple testing (Benjamini-Hochberg q per unit).

    Getestet werden nur Einheiten mit eigenen Daten (Stadtteile oder echte Rasterzellen);
    die Zusammenfassung nennt die Zahl der Permutationen und den kleinsten erreichbaren
    q-Wert.

    \b
    Examples:
      gis-planning hotspots
      gis-planning hotspots --method lisa -o lisa.geojson
      gis-planning hotspots --weights knn --k 6 --permutations 9999
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
    info = frame.attrs.get("hotspots", {})
    summary = _summary(info)
    if output:
        click.echo(f"geschrieben: {write_frame(frame, output, overwrite=overwrite)}")
        click.echo(summary)
        return
    stat, q = ("gi_z", "gi_q") if method == "gi" else ("lisa_i", "lisa_q")
    keep = [c for c in ("stadtteil", "cell_id", "value", "rate_ki_unten", "rate_ki_oben",
                        stat, q, "klasse") if c in frame]
    echo_table(frame.sort_values(stat, ascending=False)[keep])
    counts = frame["klasse"].value_counts()
    click.echo("; ".join(f"{k}: {v}" for k, v in counts.items()))
    click.echo(summary)


def _summary(info: dict) -> str:
    """One line: how the p-values were obtained and the smallest attainable q-value."""
    from ..labels import fmt_number

    n = info.get("n_tested", 0)
    q_min = info.get("q_min", float("nan"))
    how = info.get("p_method", "")
    if info.get("permutations"):
        bound = f"kleinster erreichbarer q-Wert {fmt_number(q_min, 4)}"
    else:
        bound = "keine Untergrenze des q-Werts (analytische p-Werte)"
    return (f"Inferenz: {how}; {n} getestete Einheiten; {bound}; "
            f"FDR {fmt_number(info.get('alpha', 0.05) * 100, 0)} %.")
