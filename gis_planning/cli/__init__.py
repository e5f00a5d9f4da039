"""The ``gis-planning`` command: a thin click group over the library.

Every command lives in its own module; shared options are in :mod:`._options`. User errors
(any :class:`~gis_planning.GISPlanningError`) end with one line on stderr and exit code 2,
never a traceback.
"""

from __future__ import annotations

import logging
import sys
import warnings
from typing import ClassVar

import click

from .. import __version__
from .._errors import GISPlanningError
from ._german import germanize_usage
from ._german import install as _german_click

_german_click()  # before any option is declared: click names its types when they are made

from ._options import CatalogState  # noqa: E402

__all__ = ["cli", "main"]


class _GermanFormatter(logging.Formatter):
    """Log lines as users read them: ``Info: …``, ``Warnung: …`` (no logger names)."""

    _LEVELS: ClassVar[dict[str, str]] = {
        "DEBUG": "Debug", "INFO": "Info", "WARNING": "Warnung", "ERROR": "Fehler",
        "CRITICAL": "Fehler",
    }

    def format(self, record: logging.LogRecord) -> str:
        return f"{self._LEVELS.get(record.levelname, record.levelname)}: {record.getMessage()}"


class _Group(click.Group):
    """A click group that turns library errors into one clear line and exit code 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GISPlanningError as exc:
            click.echo(f"Fehler: {exc}", err=True)
            ctx.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gis-planning",
                      help="Die Version zeigen und beenden.")
@click.option("-v", "--verbose", count=True,
              help="Mehr ausgeben: Fortschritt und Einzelheiten (-vv: Fehlersuche).")
@click.option("-q", "--quiet", is_flag=True,
              help="Nur Fehler ausgeben (und das Ergebnis selbst, wenn es auf die Konsole geht).")
@click.option(
    "--city", "city", default=None, metavar="NAME|PATH", envvar="GIS_PLANNING_CITY",
    help="Stadt-Pack: eine mitgelieferte Stadt (essen, berlin) oder eine Pack-Datei "
    "(JSON/TOML); Standard: essen.",
)
@click.option(
    "--catalog", "catalog_path", type=click.Path(dir_okay=False), default=None,
    help="Ältere Schreibweise von --city PFAD (eine Katalog- oder Pack-Datei, JSON).",
)
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool, city: str | None,
        catalog_path: str | None) -> None:
    """GIS-Planungswerkzeug für deutsche Städte (Stadtteile, Bezirke, Kitas, Schulen).

    \b
    Beispiele:
      gis-planning layers list
      gis-planning atlas
      gis-planning --city berlin segregation
    """
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[
        min(verbose, 2)
    ]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_GermanFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)

    def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
        # one line per warning, in the words of the message, never Python source lines
        if not quiet:
            click.echo(f"Warnung: {str(message).splitlines()[0]}", err=True)

    warnings.showwarning = show_warning
    if city and catalog_path:
        raise click.UsageError("--city und --catalog nennen beide eine Stadt; nutzen Sie nur "
                               "--city.")
    ctx.obj = CatalogState(city or catalog_path, verbose=verbose, quiet=quiet)


def _register() -> None:
    from . import atlas, layers

    cli.add_command(layers.layers)
    cli.add_command(atlas.atlas)
    from .check import check

    cli.add_command(check)
    from .segregation import segregation

    cli.add_command(segregation)
    from .hotspots import hotspots

    cli.add_command(hotspots)
    from .status import status

    cli.add_command(status)
    from .budget import budget
    from .site import site

    cli.add_command(site)
    cli.add_command(budget)
    from .query import filter_command, query

    cli.add_command(query)
    cli.add_command(filter_command)
    from .export import export

    cli.add_command(export)
    from .raster import raster

    cli.add_command(raster)
    from .karte import karte

    cli.add_command(karte)
    from .steckbrief import steckbrief

    cli.add_command(steckbrief)


_register()
germanize_usage(cli)


def main() -> None:
    """Entry point of the ``gis-planning`` console script."""
    cli(prog_name="gis-planning")
