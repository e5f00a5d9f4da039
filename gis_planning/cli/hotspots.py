"""``gis-planning hotspots``: Gi* and local Moran hotspots with FDR q-values."""

from __future__ import annotations

import click

from ._options import CatalogState, group_option, output_option, overwrite_option, pass_catalog
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
@click.option("--method", type=click.Choice(["gi", "lisa"]), default="gi",
              help="Getis-Ord Gi* (gi, Standard) oder lokales Moran's I (lisa).")
@group_option
@click.option("--layer", default=None, metavar="EBENE",
              help="Eine andere Polygon-Tabelle, Ebene oder ein Ergebnis auswerten (Standard: "
              "die Tabelle der Gruppe).")
@click.option("--column", default=None, metavar="SPALTE",
              help="Spalte mit der Anzahl (oder dem Wert); Standard: die der Gruppe.")
@click.option("--denominator", default=None, metavar="SPALTE",
              help="Spalte mit der Bevölkerung: ausgewertet wird der Anteil Spalte/Nenner "
              "('' für keinen; Standard: die Gesamtzahl der Gruppe).")
@click.option("--weights", type=click.Choice(["queen", "knn", "distance"]), default="queen",
              help="Nachbarschaft: gemeinsame Grenze oder Ecke (queen, Standard), die k "
              "nächsten Einheiten (knn) oder alle im Umkreis (distance).")
@click.option("--k", type=click.IntRange(1, 100), default=8,
              metavar="ANZAHL", help="Zahl der Nachbarn für --weights knn (Standard: 8).")
@click.option("--distance", type=float, default=None, metavar="METER",
              help="Umkreis in Metern für --weights distance.")
@click.option("--permutations", type=_Permutations(), default="auto",
              help="Bedingte Permutationen; 'auto' wählt die Anzahl so, dass eine Einheit "
              "nach der FDR-Korrektur signifikant werden kann (bei sehr vielen Einheiten: "
              "Normalapproximation); 0 = Normalapproximation. Zu kleine Zahlen werden "
              "abgelehnt. Standard: auto.")
@click.option("--seed", type=int, default=0, metavar="ZAHL",
              help="Startwert des Zufallsgenerators der Permutationen (Standard: 0).")
@click.option("--min-population", type=float, default=300,
              metavar="EINWOHNER",
              help="Einheiten mit weniger Einwohnern heißen 'zu klein' und werden nicht "
              "eingestuft (Standard: 300).")
@click.option("--grid", "cell_size", type=click.FloatRange(min=10), default=None,
              metavar="METER",
              help="Abgelehnt: ein aus Polygonwerten gefülltes Raster hat keine "
              "unabhängigen Zellwerte. Für echte Zellen (Zensus-Gitter) --layer verwenden.")
@output_option("Ergebnis in eine Datei schreiben statt es anzuzeigen: GeoJSON, GeoPackage "
               "oder CSV nach der Endung; '-' schreibt GeoJSON auf die Standardausgabe.",
               aliases=("--out",))
@overwrite_option
@pass_catalog
def hotspots(state: CatalogState, method: str, group: str | None, layer: str | None,
             column: str | None, denominator: str | None,
             weights: str, k: int, distance: float | None, permutations: int | str, seed: int,
             min_population: float, cell_size: float | None, output: str | None,
             overwrite: bool) -> None:
    """Hotspots, deren Signifikanz den Mehrfachtest übersteht (q-Wert nach Benjamini-Hochberg).

    Getestet werden nur Einheiten mit eigenen Daten (Stadtteile oder echte Rasterzellen);
    die Zusammenfassung nennt die Zahl der Permutationen und den kleinsten erreichbaren
    q-Wert.

    \b
    Beispiele:
      gis-planning hotspots
      gis-planning hotspots --method lisa -o lisa.geojson
      gis-planning hotspots --weights knn --k 6 --permutations 9999
      gis-planning -q hotspots --group nichtdeutsche -o - > hotspots.geojson
    """
    from .. import results

    if weights == "distance" and not distance:
        raise click.BadParameter("--weights distance braucht den Umkreis: --distance METER.",
                                 param_hint="--distance")
    if output == "-":
        state.stdout_is_data()
    frame = results.hotspot_layer(
        state.catalog, method=method, group=group, source=layer, column=column,
        denominator="" if denominator is None else (denominator or None), weights=weights,
        k=k, distance=distance,
        permutations=permutations, seed=seed, min_population=min_population,
        cell_size=cell_size, progress=state.progress,
    )
    info = frame.attrs.get("hotspots", {})
    summary = _summary(info)
    if output:
        path = write_frame(frame, output, overwrite=overwrite)
        if output != "-":
            state.say(f"geschrieben: {path}")
        state.say(summary)
        return
    stat, q = ("gi_z", "gi_q") if method == "gi" else ("lisa_i", "lisa_q")
    keep = [c for c in ("stadtteil", "cell_id", "value", "rate_ki_unten", "rate_ki_oben",
                        stat, q, "klasse") if c in frame]
    echo_table(frame.sort_values(stat, ascending=False)[keep])
    counts = frame["klasse"].value_counts()
    state.say("; ".join(f"{k}: {v}" for k, v in counts.items()))
    state.say(summary)


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
