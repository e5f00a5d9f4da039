"""``gis-planning atlas``: build the interactive city atlas (the main job)."""

from __future__ import annotations

from pathlib import Path

import click

from ._options import CatalogState, overwrite_option, pass_catalog

__all__ = ["atlas"]


@click.command()
@click.option("--out", "-o", "out", type=click.Path(dir_okay=False),
              default="maps/essen_atlas.html", show_default=True, help="Output HTML file.")
@click.option("--offline/--cdn", default=True, show_default=True,
              help="Inline Leaflet and plugins (works without network) or link CDNs.")
@click.option("--no-basemap", is_flag=True, help="No OpenStreetMap background tiles.")
@overwrite_option
@pass_catalog
def atlas(state: CatalogState, out: str, offline: bool, no_basemap: bool,
          overwrite: bool) -> None:
    """Build the atlas HTML from the catalogue's layers.

    \b
    Example:
      gis-planning atlas --out maps/essen_atlas.html --overwrite
    """
    from ..atlas import build_atlas

    Path(out).parent.mkdir(parents=True, exist_ok=True)
    from .._atomic import check_output_path

    check_output_path(out, overwrite=overwrite)
    atl = build_atlas(state.catalog, basemap=not no_basemap)
    path = atl.save(out, mode="offline" if offline else "cdn", overwrite=overwrite)
    size = path.stat().st_size
    click.echo(f"Atlas geschrieben: {path} ({size / 1e6:.2f} MB)")
