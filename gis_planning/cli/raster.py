"""``gis-planning raster``: density, share, hotspot and distance surfaces as COG files."""

from __future__ import annotations

from pathlib import Path

import click

from .._defaults import DEFAULT_K
from ..labels import fmt_number
from ._options import (
    CatalogState,
    output_dir_option,
    output_option,
    overwrite_option,
    pass_catalog,
)

__all__ = ["raster"]

_cell_size = click.option("--cell-size", type=click.FloatRange(min=1), default=100.0,
                          show_default=True, help="Zellgröße in Metern (EPSG:25832).")
_out = output_option("GeoTIFF-Ausgabe (.tif, Cloud-Optimised GeoTIFF).", required=True)


def _no_stdout(output: str) -> None:
    if output == "-":
        raise click.BadParameter("eine Rasterfläche geht nicht auf die Standardausgabe; "
                                 "nennen Sie eine .tif-Datei.", param_hint="-o/--output")


def _write(state: CatalogState, name: str, output: str, overwrite: bool, cell_size: float,
           **options) -> None:
    from .._atomic import check_output_path
    from ..outputs.raster import catalog_surface, write_cog

    _no_stdout(output)
    check_output_path(output, overwrite=overwrite)
    surface = catalog_surface(state.catalog, name, cell_size=cell_size, **options)
    _summary(state, name, surface, write_cog(surface, output, overwrite=overwrite))


def _summary(state: CatalogState, name: str, surface, path: Path) -> None:
    """The German summary of one written surface: size, and its totals checked."""
    from ..outputs.raster import flats_audit, total_check

    h, w = surface.data.shape[1:]
    state.say(f"{name} -> {path} ({surface.data.shape[0]} Bänder, {w} x {h} "
              f"Zellen, {fmt_number(path.stat().st_size / 1e3, 0)} kB)")
    if name == "projektwohnungen_dichte":  # no count below k, no withheld share
        state.say(f"  {surface.bands[0]}: {flats_audit(surface)}")
        return
    for band, kind in enumerate(surface.kinds):
        if kind != "density":
            continue
        if surface.attrs.get("zellen"):
            # census cells: every person sits in one cell, so the band total must equal the
            # source exactly (checked here, printed as measured)
            chk = total_check(surface, band=band)
            same = abs(chk["raster"] - chk["expected"]) <= 1e-6 * max(1.0, chk["expected"])
            verdict = ("stimmt überein" if same else
                       f"weicht um {fmt_number(chk['raster'] - chk['expected'], 1)} ab")
            state.say(f"  {surface.bands[band]}: Summe Band x Zellfläche "
                      f"{fmt_number(chk['raster'], 0)}, Quelle (Summe der Zellen) "
                      f"{fmt_number(chk['expected'], 0)} – {verdict}")
            continue
        cat = state.catalog
        chk = total_check(surface, cat.load(cat.unit.layer), band=band)
        state.say(f"  {surface.bands[band]}: Summe über {cat.unit.label_plural} "
                  f"{fmt_number(chk['zonal'], 1)} (Quelle {fmt_number(chk['expected'], 1)})")
    if surface.tags.get("quelle"):
        state.say(f"  Quelle: {surface.tags['quelle']}"
                  + (f", Stand {surface.tags['stand']}" if surface.tags.get("stand") else ""))


@click.group()
def raster() -> None:
    """Rasterflächen (COG): Dichten, Anteile und Hotspots auf Zensus-Zellen, Entfernungen."""


@raster.command("flats")
@_out
@click.option("--cell-size", type=float, default=100.0, show_default=True,
              help="Zellgröße in Metern: nur 100, 250, 500 oder 1000 (feste, am "
                   "Koordinatenursprung ausgerichtete Raster).")
@click.option("--bandwidth", type=float, default=1000.0, show_default=True,
              help="Kern-Sigma in Metern, mindestens 500.")
@click.option("--k", "k", type=click.IntRange(min=DEFAULT_K), default=DEFAULT_K,
              show_default=True,
              help="1-km-Blöcke mit weniger Wohnungen werden unterdrückt (nodata).")
@overwrite_option
@pass_catalog
def flats(state: CatalogState, output: str, cell_size: float, bandwidth: float, k: int,
          overwrite: bool) -> None:
    """Kerndichte der Projektwohnungen (aus Anzahlen je 1-km-Block, kleine Zahlen unterdrückt).

    \b
    Beispiel:
      gis-planning raster flats -o maps/projektwohnungen_dichte.tif
    """
    from ..outputs.raster import check_flats_options

    _no_stdout(output)
    check_flats_options(cell_size, bandwidth, k)  # before anything is read
    _write(state, "projektwohnungen_dichte", output, overwrite, cell_size,
           bandwidth=bandwidth, k=k)


_grid_cell_size = click.option(
    "--cell-size", type=click.IntRange(min=1), default=100, show_default=True,
    help="Zellgröße in m auf dem Zensus-Gitter (EPSG:3035); größere Werte fassen Zellen "
    "zusammen.")


@raster.command("population")
@_out
@_grid_cell_size
@click.option("--bandwidth", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Gauß-Kern sigma in m (0: jede Zelle mit ihrer eigenen Zahl).")
@overwrite_option
@pass_catalog
def population(state: CatalogState, output: str, cell_size: int, bandwidth: float,
               overwrite: bool) -> None:
    """Einwohner und Nichtdeutsche je km² aus den Zensus-Gitterzellen (Summen exakt).

    \b
    Beispiel:
      gis-planning raster population -o maps/bevoelkerung_dichte.tif
    """
    _write(state, "bevoelkerung_dichte", output, overwrite, cell_size, bandwidth=bandwidth)


@raster.command("anteil")
@_out
@_grid_cell_size
@click.option("--min-population", type=click.FloatRange(min=0), default=0.0,
              show_default=True, help="Zellen mit weniger Personen ohne Anteil (nodata).")
@overwrite_option
@pass_catalog
def anteil(state: CatalogState, output: str, cell_size: int, min_population: float,
           overwrite: bool) -> None:
    """Anteil Nichtdeutsche je Zensus-Gitterzelle (%), mit den Personen je Zelle.

    \b
    Beispiel:
      gis-planning raster anteil -o maps/nichtdeutsche_anteil.tif --cell-size 250
    """
    _write(state, "nichtdeutsche_anteil", output, overwrite, cell_size,
           min_population=min_population)


@raster.command("gitter-hotspots")
@_out
@_grid_cell_size
@click.option("--min-population", type=click.FloatRange(min=0), default=30.0,
              show_default=True, help="Zellen mit weniger Personen werden nicht getestet.")
@click.option("--alpha", type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
              default=0.05, show_default=True, help="Falscherkennungsrate (FDR).")
@overwrite_option
@pass_catalog
def gitter_hotspots(state: CatalogState, output: str, cell_size: int, min_population: float,
                    alpha: float, overwrite: bool) -> None:
    """Gi*- und LISA-Klassen des Nichtdeutschen-Anteils auf echten Zensus-Zellen.

    Permutationen so viele, dass bei der Zahl getesteter Zellen eine Entdeckung erreichbar
    ist (sonst analytische p-Werte für Gi*, in den Metadaten genannt).

    \b
    Beispiel:
      gis-planning raster gitter-hotspots -o maps/gitter_hotspots_500m.tif --cell-size 500
    """
    _write(state, "gitter_hotspots", output, overwrite, cell_size,
           min_population=min_population, alpha=alpha)


@raster.command("distance")
@_out
@_cell_size
@overwrite_option
@pass_catalog
def distance(state: CatalogState, output: str, cell_size: float, overwrite: bool) -> None:
    """Entfernung zur nächsten Kita (in Betrieb) und Schule, in Metern (Luftlinie).

    \b
    Beispiel:
      gis-planning raster distance -o maps/entfernung.tif
    """
    _write(state, "entfernung", output, overwrite, cell_size)


@raster.command("all")
@output_dir_option("Ausgabeordner (neu, leer oder mit --overwrite eine frühere Ausgabe; "
                   "wird als Ganzes ersetzt).", required=True, aliases=("--dir",))
@_cell_size
@overwrite_option
@pass_catalog
def all_surfaces(state: CatalogState, output_dir: str, cell_size: float,
                 overwrite: bool) -> None:
    """Alle Flächen mit Standardoptionen, je eine <name>.tif im Ordner.

    \b
    Beispiel:
      gis-planning raster all --output-dir maps/raster --overwrite
    """
    from ..outputs.raster import available_surfaces, write_surfaces

    for name, why in available_surfaces(state.catalog).items():
        if why:
            state.say(f"übersprungen: {name} ({why})")
    written = write_surfaces(state.catalog, output_dir, cell_size=cell_size,
                             overwrite=overwrite, progress=state.progress)
    for name, (surface, path) in written.items():
        _summary(state, name, surface, path)
