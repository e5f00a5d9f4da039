"""``gis-planning budget``: distribute the integration budget over the Bezirke."""

from __future__ import annotations

import click

from ._options import CatalogState, overwrite_option, pass_catalog
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
              help="Whole euros to distribute (default: the city pack's budget, else "
              "1,000,000).")
@click.option("--weight", "weights", multiple=True,
              help="TERM=WEIGHT: a group of the city pack or 'ungedeckt' (repeatable; "
              "default: the pack's formula, else first group 0.75, ungedeckt 0.25).")
@click.option("--sockel", type=click.FloatRange(0, 0.99), default=0.0, show_default=True,
              help="Share of the total split equally over the Bezirke first.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the table as CSV.")
@overwrite_option
@pass_catalog
def budget(state: CatalogState, total: int | None, weights: tuple[str, ...], sockel: float,
           output: str | None, overwrite: bool) -> None:
    """Integration budget per Bezirk by a transparent needs formula (sums exactly).

    \b
    Examples:
      gis-planning budget --total 1000000
      gis-planning budget --weight herkunft12=1 --weight ungedeckt=1 --sockel 0.2
      gis-planning --city berlin budget --weight auslaender=3 --weight ungedeckt=1
    """
    from ..results import budget_table

    table = budget_table(state.catalog, total=total, weights=_weights(weights),
                         base_share=sockel)
    click.echo(f"Formel: {table.attrs.get('formula', '')}")
    if output:
        click.echo(f"geschrieben: {write_frame(table.reset_index(), output, overwrite=overwrite)}")
        return
    cols = ["bezirk"] + [c for c in table.reset_index().columns
                         if c.startswith(("anteil_", "beitrag_"))] + ["betrag"]
    echo_table(table.reset_index()[cols])
    click.echo(f"Summe: {int(table['betrag'].sum()):,} €".replace(",", "."))
