"""``gis-planning budget``: distribute the integration budget over the Bezirke."""

from __future__ import annotations

import click

from ._options import CatalogState, output_option, overwrite_option, pass_catalog
from ._tables import echo_table, write_frame

__all__ = ["budget"]


def _weights(items: tuple[str, ...]) -> dict[str, float] | None:
    if not items:
        return None
    out = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise click.BadParameter(f"{item!r}: schreiben Sie TERM=GEWICHT, z. B. "
                                     f"ungedeckt=0.25",
                                     param_hint="--weight") from None
    return out


@click.command()
@click.option("--total", type=click.IntRange(min=0), default=None,
              help="Zu verteilender Betrag in ganzen Euro (Standard: das Budget des "
              "Stadt-Packs, sonst 1.000.000).")
@click.option("--weight", "weights", multiple=True, metavar="TERM=GEWICHT",
              help="Eine Gruppe des Stadt-Packs oder 'ungedeckt' mit ihrem Gewicht "
              "(mehrfach; Standard: die Formel des Packs, sonst erste Gruppe 0,75, "
              "ungedeckt 0,25).")
@click.option("--sockel", type=click.FloatRange(0, 0.99), default=0.0, show_default=True,
              help="Anteil des Betrags, der zuerst gleichmäßig auf die Bezirke geht.")
@output_option("Tabelle als CSV-Datei schreiben; '-o -' schreibt CSV auf die "
               "Standardausgabe.")
@overwrite_option
@pass_catalog
def budget(state: CatalogState, total: int | None, weights: tuple[str, ...], sockel: float,
           output: str | None, overwrite: bool) -> None:
    """Integrationsbudget je Bezirk nach einer offenen Bedarfsformel (geht genau auf).

    \b
    Beispiele:
      gis-planning budget --total 1000000
      gis-planning budget --weight herkunft12=1 --weight ungedeckt=1 --sockel 0.2
      gis-planning --city berlin budget --weight auslaender=3 --weight ungedeckt=1
      gis-planning budget -o - > budget.csv
    """
    from ..labels import fmt_int
    from ..results import budget_table

    table = budget_table(state.catalog, total=total, weights=_weights(weights),
                         base_share=sockel)
    if output == "-":
        state.stdout_is_data()
        state.say(f"Formel: {table.attrs.get('formula', '')}")
        write_frame(table.reset_index(), "-", overwrite=False)
        return
    state.say(f"Formel: {table.attrs.get('formula', '')}")
    if output:
        state.say(f"geschrieben: {write_frame(table.reset_index(), output, overwrite=overwrite)}")
        return
    cols = ["bezirk"] + [c for c in table.reset_index().columns
                         if c.startswith(("anteil_", "beitrag_"))] + ["betrag"]
    echo_table(table.reset_index()[cols])
    state.result(f"Summe: {fmt_int(int(table['betrag'].sum()))} €")
