"""``gis-planning steckbrief``: Bezirk and Stadtteil profiles as PDF pages for council papers."""

from __future__ import annotations

import click

from ._options import CatalogState, output_option, overwrite_option, pass_catalog

__all__ = ["steckbrief"]


@click.command("steckbrief")
@click.option("--bezirk", "bezirke", multiple=True, metavar="BEZIRK",
              help="Bezirk (Nummer, römische Ziffer, 'Bezirk III' oder Name); mehrfach möglich.")
@click.option("--stadtteil", "units", multiple=True, metavar="NAME",
              help="Steckbrief einer Einheit (Stadtteil) nach Name oder Nummer; mehrfach möglich.")
@click.option("--alle", "every", is_flag=True, help="Alle Bezirke, eine Seite je Bezirk.")
@output_option("Ausgabe: .pdf (eine Seite je Steckbrief) oder .png (nur einer).", required=True,
               aliases=("--out",))
@overwrite_option
@pass_catalog
def steckbrief(state: CatalogState, bezirke: tuple[str, ...], units: tuple[str, ...],
               every: bool, output: str, overwrite: bool) -> None:
    """Steckbriefe wie in der Auswertung nach Stadtbezirken: Kennzahlen mit Stand und
    Quelle, Vergleich mit der Stadt, Lagekarte, Karte des Bezirks mit Kitas, Schulen und
    Begegnungsräumen.

    \b
    Beispiel:
      gis-planning steckbrief --bezirk III -o bezirk_iii.pdf
      gis-planning steckbrief --alle -o bezirke.pdf
      gis-planning steckbrief --stadtteil Altendorf -o altendorf.pdf
    """
    from ..outputs.steckbrief import bezirk_profile, stadtteil_profile, write_profiles

    if not (bezirke or units or every):
        raise click.UsageError("nennen Sie --bezirk, --stadtteil oder --alle.")
    if every and bezirke:
        raise click.UsageError("--alle nennt schon jeden Bezirk; lassen Sie --bezirk weg.")
    if not output.lower().endswith((".pdf", ".png")):
        raise click.BadParameter("die Ausgabe endet auf .pdf oder .png.",
                                 param_hint="-o/--output")
    cat = state.catalog
    from .._atomic import check_output_path

    check_output_path(output, overwrite=overwrite, inputs=cat.inputs())
    names = list(cat.bezirk_labels()) if every else list(bezirke)
    profiles = [bezirk_profile(cat, b) for b in names]
    profiles += [stadtteil_profile(cat, u) for u in units]
    path = write_profiles(cat, profiles, output, overwrite=overwrite)
    state.say(f"Steckbriefe geschrieben: {path} ({len(profiles)} Seite"
              f"{'n' if len(profiles) != 1 else ''}: "
              f"{', '.join(p.title for p in profiles)})")
