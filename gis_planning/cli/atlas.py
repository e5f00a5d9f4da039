"""``gis-planning atlas``: build the interactive city atlas (the main job)."""

from __future__ import annotations

from pathlib import Path

import click

from ..labels import fmt_number
from ._options import CatalogState, output_option, overwrite_option, pass_catalog

__all__ = ["atlas", "city_slug"]


def city_slug(city: str) -> str:
    """File-name form of a city name: ``"Mülheim an der Ruhr" -> "muelheim_an_der_ruhr"``."""
    import re

    text = city.lower().translate(str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}))
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_") or "stadt"

_KINDS = {"polygons": "Flächen", "points": "Punkte", "labels": "Namen"}


def _kind(kind: str) -> str:
    return _KINDS.get(kind, kind)


@click.command()
@output_option("HTML-Datei des Atlas (Standard: maps/<stadt>_atlas.html).", aliases=("--out",))
@click.option("--offline/--cdn", default=True, show_default=True,
              help="Leaflet und Erweiterungen einbetten (ohne Netz nutzbar) oder von CDNs "
              "laden (kleine Datei).")
@click.option("--no-basemap", is_flag=True, help="Ohne OpenStreetMap-Hintergrundkarte.")
@click.option("--sizes", is_flag=True,
              help="Die Größe jeder Ebene in der Seite auflisten (Objekte und kB).")
@overwrite_option
@pass_catalog
def atlas(state: CatalogState, output: str | None, offline: bool, no_basemap: bool,
          sizes: bool, overwrite: bool) -> None:
    """Den Atlas als HTML-Seite aus den Ebenen des Katalogs bauen.

    Flächen werden vereinfacht (Grenzen höchstens 5 m von der Quelle entfernt) und
    Koordinaten für das Web gerundet; die Zusammenfassung nennt die Dateigröße, --sizes
    die Größe jeder Ebene.

    \b
    Beispiel:
      gis-planning atlas -o maps/essen_atlas.html --overwrite --sizes
      gis-planning --city berlin atlas --overwrite
      gis-planning --city bochum.json atlas --cdn -o maps/bochum_atlas.html
    """
    from .._atomic import check_output_path
    from ..outputs.atlas import build_atlas

    if output == "-":
        raise click.BadParameter("der Atlas ist eine HTML-Datei und geht nicht auf die "
                                 "Standardausgabe; nennen Sie eine .html-Datei.",
                                 param_hint="-o/--output")
    if output is None:
        output = f"maps/{city_slug(state.catalog.city)}_atlas.html"
    parent = Path(output).parent
    if parent.exists() and not parent.is_dir():
        raise click.BadParameter(f"{parent} ist eine Datei, kein Ordner.",
                                 param_hint="-o/--output")
    parent.mkdir(parents=True, exist_ok=True)

    check_output_path(output, overwrite=overwrite)
    atl = build_atlas(state.catalog, basemap=not no_basemap, progress=state.progress)
    path = atl.save(output, mode="offline" if offline else "cdn", overwrite=overwrite)
    size = path.stat().st_size
    report = atl.size_report()
    data = int(report["bytes"].sum())
    state.say(f"Atlas geschrieben: {path} ({fmt_number(size / 1e6, 2)} MB; Ebenen "
              f"{fmt_number(data / 1e3, 0)} kB, Bibliotheken und Bedienelemente "
              f"{fmt_number((size - data) / 1e3, 0)} kB)")
    if sizes:  # asked for: the result itself, also with -q
        width = max(len(n) for n in report["layer"])
        for row in report.itertuples(index=False):
            state.result(f"  {row.group:<10}  {row.layer:<{width}}  {row.features:>5} "
                         f"{_kind(row.kind):<9} {fmt_number(row.bytes / 1e3, 1):>7} kB")
