"""``gis-planning karte``: print an atlas layer as a map page (PDF or PNG) for council papers."""

from __future__ import annotations

import click

from ..labels import fmt_number
from ._options import CatalogState, output_option, overwrite_option, pass_catalog

__all__ = ["karte"]


@click.command("karte")
@click.argument("layer", required=False, metavar="LAYER")
@output_option("Ausgabe: .pdf (Vektor) oder .png.", aliases=("--out",))
@click.option("--format", "paper", type=click.Choice(["A4", "A3"], case_sensitive=False),
              default="A4", show_default=True, help="Papierformat (quer).")
@click.option("--bezirk", default=None, metavar="BEZIRK",
              help="Nur dieser Bezirk (Nummer, römische Ziffer, 'Bezirk III' oder Name).")
@click.option("--titel", "title", default=None, help="Kartentitel (Standard: Name der Ebene).")
@click.option("--dpi", type=click.IntRange(50, 1200), default=200, show_default=True,
              help="Auflösung einer PNG-Ausgabe.")
@click.option("--liste", "listing", is_flag=True, help="Die druckbaren Ebenen auflisten.")
@overwrite_option
@pass_catalog
def karte(state: CatalogState, layer: str | None, output: str | None, paper: str,
          bezirk: str | None, title: str | None, dpi: int, listing: bool,
          overwrite: bool) -> None:
    """Eine Ebene des Atlas als Karte drucken: Titel, Legende, Maßstab, Nordpfeil, Quellen.

    LAYER ist eine Ebene (kitas), eine Tabelle mit Einheiten (stadtteil_statistik), ein
    Ergebnis (hotspots) oder bezirkswerte (die Bezirkskarte des Atlas). Vertrauliche
    Ebenen erscheinen nur als Anzahl je Einheit. Ohne Hintergrundkarte, also offline.

    \b
    Beispiel:
      gis-planning karte bezirkswerte -o karte.pdf
      gis-planning karte kitas --bezirk V --format A3 -o kitas_v.pdf
      gis-planning karte hotspots -o hotspots.png --dpi 150
      gis-planning karte --liste
    """
    from ..outputs.karte import map_layer_names, render_map

    cat = state.catalog
    if listing:
        for name in map_layer_names(cat, check=True):
            state.result(name)
        return
    if not layer:
        raise click.UsageError("LAYER fehlt (gis-planning karte --liste zeigt die Ebenen).")
    if not output:
        raise click.UsageError("-o/--output fehlt: wohin soll die Karte (.pdf oder .png)?")
    if not output.lower().endswith((".pdf", ".png")):
        raise click.BadParameter("die Ausgabe endet auf .pdf oder .png.",
                                 param_hint="-o/--output")
    from .._atomic import check_output_path

    check_output_path(output, overwrite=overwrite, inputs=cat.inputs())
    path = render_map(cat, layer, output, paper=paper.upper(), bezirk=bezirk, title=title,
                      dpi=dpi, overwrite=overwrite)
    state.say(f"Karte geschrieben: {path} ({paper.upper()}, "
              f"{fmt_number(path.stat().st_size / 1e3, 0)} kB)")
