"""``gis-planning atlas``: build the interactive city atlas (the main job)."""

from __future__ import annotations

from pathlib import Path

import click

from ._options import CatalogState, overwrite_option, pass_catalog

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
@click.option("--out", "-o", "out", type=click.Path(dir_okay=False), default=None,
              help="Output HTML file (default: maps/<city>_atlas.html).")
@click.option("--offline/--cdn", default=True, show_default=True,
              help="Inline Leaflet and plugins (works without network) or link CDNs.")
@click.option("--no-basemap", is_flag=True, help="No OpenStreetMap background tiles.")
@click.option("--sizes", is_flag=True,
              help="List the size of each layer in the page (features and kB).")
@overwrite_option
@pass_catalog
def atlas(state: CatalogState, out: str | None, offline: bool, no_basemap: bool, sizes: bool,
          overwrite: bool) -> None:
    """Build the atlas HTML from the catalogue's layers.

    Polygons are simplified (borders within 5 m of the source) and coordinates rounded
    for the web; the summary line gives the file size, --sizes the size of every layer.

    \b
    Example:
      gis-planning atlas --out maps/essen_atlas.html --overwrite --sizes
      gis-planning --city berlin atlas --overwrite
      gis-planning --city bochum.json atlas --cdn --out maps/bochum_atlas.html
    """
    from .._atomic import check_output_path
    from ..outputs.atlas import build_atlas

    if out is None:
        out = f"maps/{city_slug(state.catalog.city)}_atlas.html"
    parent = Path(out).parent
    if parent.exists() and not parent.is_dir():
        raise click.BadParameter(f"{parent} is a file, not a folder", param_hint="--out")
    parent.mkdir(parents=True, exist_ok=True)

    check_output_path(out, overwrite=overwrite)
    atl = build_atlas(state.catalog, basemap=not no_basemap, verbose=state.verbose)
    path = atl.save(out, mode="offline" if offline else "cdn", overwrite=overwrite)
    size = path.stat().st_size
    report = atl.size_report()
    data = int(report["bytes"].sum())
    click.echo(f"Atlas geschrieben: {path} ({size / 1e6:.2f} MB; Ebenen {data / 1e3:.0f} kB, "
               f"Bibliotheken und Bedienelemente {(size - data) / 1e3:.0f} kB)")
    if sizes:
        width = max(len(n) for n in report["layer"])
        for row in report.itertuples(index=False):
            click.echo(f"  {row.group:<10}  {row.layer:<{width}}  {row.features:>5} "
                       f"{_kind(row.kind):<9} {row.bytes / 1e3:>7.1f} kB")
