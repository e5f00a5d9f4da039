"""Essen's Zensus 2011 cells: the 100 m grid tiles in ``layers/essen/zensus2011``, clipped.

The tiles (gridtiler format, see ``layers/essen/zensus2011/PROVENANCE.md``) cover Essen and
parts of its neighbours; :func:`load_zensus2011` keeps the cells whose centre lies inside the
official city boundary (:func:`gis_planning.data.sources.essen.load_stadtgrenze`) and returns
them in the analysis CRS EPSG:25832.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import geopandas as gpd

from ..._validate import ANALYSIS_CRS
from ..zensus import cells_in_boundary, read_gridtiler_tiles

__all__ = ["ZENSUS2011_DIR", "load_zensus2011", "load_zensus2011_tiles"]

#: Folder of the copied tiles, one sub-folder per census attribute.
ZENSUS2011_DIR = Path(__file__).resolve().parents[3] / "layers" / "essen" / "zensus2011"


@cache
def _tiles(variable: str, folder: Path | None) -> gpd.GeoDataFrame:
    return read_gridtiler_tiles(Path(folder or ZENSUS2011_DIR) / variable, variable=variable)


def load_zensus2011_tiles(
    *, variable: str = "STAATSANGE_GRP", folder: Path | None = None
) -> gpd.GeoDataFrame:
    """All cells of the four copied tiles (Essen and neighbours), EPSG:3035."""
    out = _tiles(variable, folder)
    res = out.copy()
    res.attrs = dict(out.attrs)
    return res


def load_zensus2011(
    *,
    variable: str = "STAATSANGE_GRP",
    crs: str | None = ANALYSIS_CRS,
    folder: Path | None = None,
    raw_dir: Path | None = None,
) -> gpd.GeoDataFrame:
    """Return Essen's populated Zensus 2011 100 m cells (9 May 2011).

    Parameters
    ----------
    variable : str, default "STAATSANGE_GRP"
        Census attribute: ``"STAATSANGE_GRP"`` (nationality groups), ``"GEBURTLAND_GRP"``
        (country-of-birth groups) or ``"ALTER_KURZ"`` (five age classes). Each was perturbed
        on its own, so its ``personen`` differ slightly from the others'.
    crs : str or None, default "EPSG:25832"
        CRS of the returned squares (``None``: the grid's own EPSG:3035).
    folder : path, optional
        Folder holding one sub-folder of tiles per attribute (default
        ``layers/essen/zensus2011``).
    raw_dir : path, optional
        Folder of the raw Essen files (for the city boundary).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per populated cell whose centre lies in the official city boundary:
        ``gitter_id`` (``100mN…E…``), ``x_mp``/``y_mp`` (centre, EPSG:3035), the group counts,
        ``personen``, ``stand`` ("2011-05-09"); ``attrs`` with ``quelle``, ``lizenz`` and the
        clip record ``zuordnung``. For STAATSANGE_GRP: 10,010 cells, 564,174 persons.

    Examples
    --------
    >>> cells = load_zensus2011()
    >>> len(cells), int(cells["personen"].sum()), int(cells["nichtdeutsche"].sum())
    (10010, 564174, 53709)
    """
    from .essen import load_stadtgrenze

    tiles = _tiles(variable, folder)
    out = cells_in_boundary(tiles, load_stadtgrenze(raw_dir=raw_dir))
    attrs = dict(out.attrs)
    if crs is not None:
        out = out.to_crs(crs)
    out = out.reset_index(drop=True)
    out.attrs = attrs
    return out
