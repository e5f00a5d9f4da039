"""Options and state shared by the commands: one option vocabulary, one voice.

Every command spells its options the same way:

* ``-o/--output PATH`` for one output file (``-o -``: standard output where the command
  says so), ``--output-dir DIR`` for a folder of outputs, ``--overwrite`` to replace;
* ``--group NAME`` for a population group of the city pack.

Older spellings (``--out``, ``--dir``, ``--out-dir``, ``--gpkg``) still work but are hidden
from ``--help``: :class:`AliasOption`.

What a command prints goes through :class:`CatalogState`: :meth:`~CatalogState.result` for
the result itself (always), :meth:`~CatalogState.say` for summaries and notes (not with
``-q``), :meth:`~CatalogState.detail` for detail (only with ``-v``) and
:meth:`~CatalogState.progress` for progress bars (tqdm on stderr, on a terminal or with
``-v``; never with ``-q``). The library never prints: it takes ``progress=state.progress``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:  # pragma: no cover
    from ..data.catalog import Catalog

__all__ = [
    "AliasOption",
    "CatalogState",
    "group_option",
    "output_dir_option",
    "output_option",
    "overwrite_option",
    "pass_catalog",
]

T = TypeVar("T")


class AliasOption(click.Option):
    """A click option whose older spellings (``aliases``) work but do not show in ``--help``."""

    def __init__(self, *args: Any, aliases: tuple[str, ...] = (), **kwargs: Any) -> None:
        decls = list(args[0]) if args else []
        super().__init__(decls + list(aliases), *args[1:], **kwargs)
        self.aliases = tuple(aliases)

    def get_help_record(self, ctx: click.Context):
        shown, self.opts = self.opts, [o for o in self.opts if o not in self.aliases]
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = shown


@dataclass
class CatalogState:
    """The city the commands work on (``--city``) and how loudly they speak (``-q``/``-v``).

    The catalogue is created on first use.
    """

    path: str | None = None
    verbose: int = 0
    quiet: bool = False
    _catalog: Catalog | None = field(default=None, repr=False)

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            from ..data.catalog import default_catalog, load_city

            self._catalog = default_catalog() if self.path is None else load_city(self.path)
        return self._catalog

    # ------------------------------------------------------------------ the voice
    def result(self, text: str = "") -> None:
        """Print the result itself (a table, a report): always, on standard output."""
        click.echo(text)

    def say(self, text: str = "") -> None:
        """Print a summary or note (``geschrieben: …``): not with ``-q``.

        Goes to stderr when standard output carries data (``-o -``).
        """
        if not self.quiet:
            click.echo(text, err=self._stdout_is_data)

    def detail(self, text: str) -> None:
        """Print detail only with ``-v`` (on stderr)."""
        if self.verbose and not self.quiet:
            click.echo(text, err=True)

    _stdout_is_data: bool = field(default=False, repr=False)

    def stdout_is_data(self) -> None:
        """Mark standard output as data (``-o -``): summaries then go to stderr."""
        self._stdout_is_data = True

    @property
    def show_progress(self) -> bool:
        """Progress bars on stderr: on a terminal or with ``-v``; never with ``-q``."""
        if self.quiet:
            return False
        return bool(self.verbose) or sys.stderr.isatty()

    def progress(self, iterable: Iterable[T], *, desc: str = "", total: int | None = None,
                 unit: str = "Schritt") -> Iterator[T]:
        """Wrap ``iterable`` in a German tqdm bar on stderr (or return it unchanged)."""
        if not self.show_progress:
            return iter(iterable)
        from tqdm.auto import tqdm

        return iter(tqdm(iterable, desc=desc, total=total, unit=unit, file=sys.stderr,
                         leave=False, dynamic_ncols=True))


pass_catalog = click.make_pass_decorator(CatalogState, ensure=True)

overwrite_option = click.option(
    "--overwrite", is_flag=True,
    help="Eine vorhandene Ausgabe ersetzen (sonst wird abgebrochen).",
)

group_option = click.option(
    "--group", "group", default=None, metavar="NAME",
    help="Bevölkerungsgruppe des Stadt-Packs (Standard: seine erste Gruppe; "
    "`gis-planning layers list` nennt sie).",
)


def output_option(help: str, *, required: bool = False, aliases: tuple[str, ...] = (),
                  metavar: str = "DATEI"):
    """``-o/--output DATEI``: one output file (the command's help says what ``-`` does)."""
    return click.option("-o", "--output", "output", cls=AliasOption, aliases=aliases,
                        type=click.Path(dir_okay=False, allow_dash=True), default=None,
                        required=required, metavar=metavar, help=help)


def output_dir_option(help: str, *, required: bool = False, aliases: tuple[str, ...] = ()):
    """``--output-dir ORDNER``: a folder of outputs, replaced as a whole with ``--overwrite``."""
    return click.option("--output-dir", "output_dir", cls=AliasOption, aliases=aliases,
                        type=click.Path(file_okay=False), default=None, required=required,
                        metavar="ORDNER", help=help)
