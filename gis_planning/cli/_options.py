"""Options and state shared by the commands."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # pragma: no cover
    from ..data.catalog import Catalog

__all__ = ["CatalogState", "group_option", "overwrite_option", "pass_catalog"]


@dataclass
class CatalogState:
    """The city the commands work on (``--city``), its catalogue created on first use."""

    path: str | None = None
    verbose: bool = False
    _catalog: Catalog | None = field(default=None, repr=False)

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            from ..data.catalog import default_catalog, load_city

            self._catalog = default_catalog() if self.path is None else load_city(self.path)
        return self._catalog


pass_catalog = click.make_pass_decorator(CatalogState, ensure=True)

overwrite_option = click.option(
    "--overwrite", is_flag=True, help="Replace an existing output file (otherwise refused)."
)

group_option = click.option(
    "--group", "group", default=None, metavar="NAME",
    help="Population group of the city pack (default: its first group; "
    "`gis-planning layers list` lists them).",
)
