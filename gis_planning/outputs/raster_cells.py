"""Surfaces on census grid cells (Zensus, EPSG:3035): density, share, hotspot classes.

Part of :mod:`gis_planning.outputs.raster` (which re-exports these names).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine

from .._errors import InputError
from .._validate import require_columns, require_crs, require_numeric
from ._raster_base import _M2_PER_KM2, RasterGrid, Surface, _sigma, smooth_mass

__all__ = ["GI_CODES", "LISA_CODES", "cell_raster_grid", "grid_hotspot_surface",
           "grid_share_surface", "population_density"]


def cell_raster_grid(
    cells: pd.DataFrame,
    *,
    domain: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    id_column: str = "gitter_id",
) -> tuple[RasterGrid, np.ndarray]:
    """The raster lattice of census cells (EPSG:3035), from their official ids.

    Parameters
    ----------
    cells : DataFrame
        Cells with official ids (``100mN…E…`` or ``CRS3035RES100mN…E…``).
    domain : GeoDataFrame or GeoSeries, optional
        Area of the surface (e.g. the city boundary, any CRS): lattice cells whose centre lies
        in it are part of the surface even without persons (value 0); without ``domain`` only
        the listed cells are (all others nodata).

    Returns
    -------
    (RasterGrid, numpy.ndarray)
        The grid (``covered_m2`` = the full cell area for every cell of the surface) and, for
        each row of ``cells``, its position in ``grid.cells``.
    """
    from ..analysis.lattice import lattice_positions
    from ..data.zensus import GRID_CRS, cell_ids

    col, row, s = lattice_positions(cells, id_column=id_column)
    if len(col) == 0:
        raise InputError("keine Zensus-Zellen: die Ebene der Gitterzellen ist leer, es gibt "
                         "keine Rasterfläche.")
    cols, rows = col, row
    if domain is not None:
        require_crs(domain, name="domain")
        area = shapely.union_all(domain.to_crs(GRID_CRS).geometry.make_valid().to_numpy())
        x0, y0, x1, y1 = area.bounds
        cc, rr = np.meshgrid(np.arange(math.floor(x0 / s), math.ceil(x1 / s)),
                             np.arange(math.floor(y0 / s), math.ceil(y1 / s)))
        cc, rr = cc.ravel(), rr.ravel()
        shapely.prepare(area)
        inside = shapely.intersects_xy(area, (cc + 0.5) * s, (rr + 0.5) * s)
        cols = np.concatenate([col, cc[inside]])
        rows = np.concatenate([row, rr[inside]])
    c0, r1 = int(cols.min()), int(rows.max())
    width = int(cols.max()) - c0 + 1
    height = r1 - int(rows.min()) + 1
    key = (r1 - rows) * width + (cols - c0)
    uniq, first = np.unique(key, return_index=True)
    pos = np.searchsorted(uniq, key[: len(col)])
    ucol, urow = cols[first], rows[first]
    ids = cell_ids(ucol * s, urow * s, cell_size=s)
    grid_cells = gpd.GeoDataFrame(
        {"cell_id": ids, "col": ucol, "row": urow, "r": (r1 - urow).astype(np.int64),
         "c": (ucol - c0).astype(np.int64), "covered_m2": float(s * s)},
        geometry=shapely.box(ucol * s, urow * s, (ucol + 1) * s, (urow + 1) * s), crs=GRID_CRS)
    mask = np.zeros((height, width), dtype=bool)
    mask[grid_cells["r"], grid_cells["c"]] = True
    covered = np.where(mask, float(s * s), 0.0)
    transform = Affine(float(s), 0.0, c0 * float(s), 0.0, -float(s), (r1 + 1) * float(s))
    return RasterGrid(transform, width, height, float(s), GRID_CRS, grid_cells, mask,
                      covered), pos


def _source_tags(cells: pd.DataFrame, quelle: str | None) -> dict[str, str]:
    tags = {}
    q = quelle or cells.attrs.get("quelle")
    if q:
        tags["quelle"] = str(q)
    if cells.attrs.get("lizenz"):
        tags["lizenz"] = str(cells.attrs["lizenz"])
    if "stand" in cells.columns and len(cells):
        tags["stand"] = str(cells["stand"].iloc[0])
    elif cells.attrs.get("stand"):
        tags["stand"] = str(cells.attrs["stand"])
    return tags


def population_density(
    cells: pd.DataFrame,
    *,
    columns: Sequence[str] = ("personen", "nichtdeutsche"),
    labels: Sequence[str] | None = None,
    domain: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    bandwidth: float = 0.0,
    quelle: str | None = None,
) -> Surface:
    """Persons per km² from census grid cells, over full cell areas (sums exact).

    Parameters
    ----------
    cells : DataFrame
        Census cells with official ids (``gitter_id``) and count columns, e.g. a city's
        ``zensus2011`` layer (any CRS: the raster is built on the cells' own EPSG:3035 lattice).
    columns : sequence of str, default ("personen", "nichtdeutsche")
        Count columns, one band each.
    labels : sequence of str, optional
        German band descriptions; default from
        :data:`gis_planning.data.zensus.GROUP_LABELS` ("… je km²").
    domain : GeoDataFrame or GeoSeries, optional
        City boundary: unpopulated cells inside get 0 instead of nodata
        (see :func:`cell_raster_grid`).
    bandwidth : float, default 0
        Gaussian kernel sigma in metres; 0 shows each cell's own count. Smoothing keeps the
        total inside the surface (:func:`smooth_mass`).
    quelle : str, optional
        Attribution (default: the cells' ``attrs["quelle"]``).

    Returns
    -------
    Surface
        One density band per column (persons per km² of the **full** cell area), EPSG:3035,
        ``tags["summe_<column>"]`` = the source total, ``attrs["zellen"] = True``.

    Notes
    -----
    Value of cell ``i``: ``d_i = n_i / a`` with ``a`` the full cell area (0.01 km² for 100 m
    cells), never the part of the cell inside a boundary, so ``sum_i d_i a = sum_i n_i``
    exactly (:meth:`Surface.total`). For 100 m cells ``d_i = 100 n_i`` is an integer and is
    stored exactly in float32.
    """
    from ..data.zensus import GROUP_LABELS

    columns = list(columns)
    require_numeric(cells, columns, name="cells")
    if labels is None:
        labels = [f"{GROUP_LABELS.get(c, c)} je km²" for c in columns]
    if len(labels) != len(columns):
        raise InputError(f"die Bandnamen passen nicht zu den Spalten: {len(labels)} Namen für "
                         f"{len(columns)} Spalten ({', '.join(columns)}).")
    rgrid, pos = cell_raster_grid(cells, domain=domain)
    r = rgrid.cells["r"].to_numpy()[pos]
    c = rgrid.cells["c"].to_numpy()[pos]
    per_km2 = _M2_PER_KM2 / (rgrid.cell_size ** 2)
    sigma = _sigma(bandwidth, rgrid.cell_size)
    bands = []
    for col in columns:
        mass = np.zeros((rgrid.height, rgrid.width))
        np.add.at(mass, (r, c), cells[col].to_numpy(dtype=float))
        if sigma > 0:
            mass = smooth_mass(mass, rgrid.mask, sigma_cells=sigma)
        bands.append(np.where(rgrid.mask, mass * per_km2, np.nan))
    s = rgrid.cell_size
    tags = {
        "title": "Bevölkerungsdichte aus Zensus-Gitterzellen",
        "method": f"Anzahl je {s:g}-m-Zelle geteilt durch die volle Zellfläche "
        f"({s * s / _M2_PER_KM2:g} km²); Summe Band x Zellfläche = Summe der Zellen"
        + (f"; Gauß-Kern sigma {bandwidth:g} m mit Randkorrektur (Summe erhalten)"
           if sigma > 0 else ""),
        "geschaetzt": "nein",
        **_source_tags(cells, quelle),
    }
    for col in columns:
        tags[f"summe_{col}"] = f"{float(cells[col].sum()):.10g}"
    return Surface("bevoelkerung_dichte", np.stack(bands), rgrid, tuple(labels),
                   tuple("Personen/km²" for _ in columns), tuple("density" for _ in columns),
                   tags, attrs={"zellen": True})


def grid_share_surface(
    cells: pd.DataFrame,
    *,
    group: str = "nichtdeutsche",
    total: str = "personen",
    min_population: float = 0,
    domain: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    quelle: str | None = None,
) -> Surface:
    """Share of a group per census cell (per cent), with the persons of the cell.

    Parameters
    ----------
    cells : DataFrame
        Census cells with ids and the counts ``group`` and ``total``.
    group, total : str, default "nichtdeutsche", "personen"
    min_population : float, default 0
        Cells with fewer persons get no share (nodata); their persons stay in band 2.
    domain : optional
        As for :func:`population_density` (unpopulated cells: share nodata, persons 0).
    quelle : str, optional

    Returns
    -------
    Surface
        Band 1 "Anteil <Gruppe> (%)" (``100 * group / total``), band 2 "Personen in der Zelle";
        EPSG:3035, both ``"value"`` bands.

    Notes
    -----
    The raw share of each real cell; census cells are small and perturbed, so single values
    are approximate (use :func:`grid_hotspot_surface` for tested patterns).
    """
    from ..data.zensus import GROUP_LABELS

    require_numeric(cells, [group, total], name="cells")
    rgrid, pos = cell_raster_grid(cells, domain=domain)
    r = rgrid.cells["r"].to_numpy()[pos]
    c = rgrid.cells["c"].to_numpy()[pos]
    g = cells[group].to_numpy(dtype=float)
    t = cells[total].to_numpy(dtype=float)
    persons = np.where(rgrid.mask, 0.0, np.nan)
    persons[r, c] = t
    share = np.full((rgrid.height, rgrid.width), np.nan)
    ok = (t > 0) & (t >= min_population)
    share[r[ok], c[ok]] = 100.0 * g[ok] / t[ok]
    label = GROUP_LABELS.get(group, group)
    tags = {
        "title": f"Anteil {label} je Zensus-Gitterzelle",
        "method": f"100 x {group} / {total} je {rgrid.cell_size:g}-m-Zelle (echte Zellwerte)"
        + (f"; Zellen unter {min_population:g} Personen ohne Anteil" if min_population else ""),
        **_source_tags(cells, quelle),
    }
    return Surface(f"{group}_anteil", np.stack([share, persons]), rgrid,
                   (f"Anteil {label} (%)", "Personen in der Zelle"), ("%", "Personen"),
                   ("value", "value"), tags, attrs={"zellen": True})


#: Codes of the Gi* class band of :func:`grid_hotspot_surface`.
GI_CODES = {"Hotspot": 1.0, "Kältepunkt": -1.0, "nicht signifikant": 0.0}
#: Codes of the local Moran class band (PySAL quadrants; 0 = not significant).
LISA_CODES = {"Hoch-Hoch": 1.0, "Niedrig-Hoch": 2.0, "Niedrig-Niedrig": 3.0,
              "Hoch-Niedrig": 4.0, "nicht signifikant": 0.0}


def grid_hotspot_surface(result: gpd.GeoDataFrame) -> Surface:
    """Gi* and local Moran classes of census cells as a raster (one cell size).

    Parameters
    ----------
    result : geopandas.GeoDataFrame
        One cell size of :func:`gis_planning.analysis.lattice.grid_hotspots` (columns
        ``gitter_id``, ``gi_z``, ``gi_klasse``, ``rate_prozent`` and, if computed,
        ``lisa_klasse``; ``attrs["hotspots"]``).

    Returns
    -------
    Surface
        Bands "Gi*-z-Wert", "Gi*-Klasse" (1 Hotspot, -1 Kältepunkt, 0 nicht signifikant;
        nodata: zu klein or no neighbours), "LISA-Klasse" (1 Hoch-Hoch, 2 Niedrig-Hoch,
        3 Niedrig-Niedrig, 4 Hoch-Niedrig, 0 nicht signifikant; if computed) and "Anteil
        EB-geglättet (%)"; EPSG:3035 at the result's cell size; the method, permutations and
        class counts in ``tags``.
    """
    require_columns(result, ("gitter_id", "gi_z", "gi_klasse", "rate_prozent"), name="result")
    a = result.attrs.get("hotspots", {})
    rgrid, pos = cell_raster_grid(result)
    r = rgrid.cells["r"].to_numpy()[pos]
    c = rgrid.cells["c"].to_numpy()[pos]

    def band(values: np.ndarray) -> np.ndarray:
        out = np.full((rgrid.height, rgrid.width), np.nan)
        out[r, c] = values
        return out

    def codes(klasse: pd.Series, table: Mapping[str, float]) -> np.ndarray:
        text = klasse.astype(str)
        out = np.full(len(text), np.nan)
        for prefix, value in table.items():
            out[text.str.startswith(prefix).to_numpy()] = value
        no_nb = result["n_neighbours"].to_numpy() == 0 if "n_neighbours" in result else False
        out[no_nb] = np.nan
        return out

    names = ["Gi*-z-Wert", "Gi*-Klasse"]
    data = [band(result["gi_z"].to_numpy(dtype=float)), band(codes(result["gi_klasse"],
                                                                   GI_CODES))]
    units = ["z", "Klasse"]
    if "lisa_klasse" in result.columns:
        names.append("LISA-Klasse")
        data.append(band(codes(result["lisa_klasse"], LISA_CODES)))
        units.append("Klasse")
    names.append("Anteil EB-geglättet (%)")
    data.append(band(result["rate_prozent"].to_numpy(dtype=float)))
    units.append("%")
    s = rgrid.cell_size
    tags = {
        "title": f"Hotspots {a.get('gruppe', '')}-Anteil auf {s:g}-m-Zensuszellen".replace(
            " -Anteil", " Anteil"),
        "method": (
            f"Gi* (binär, mit Zelle selbst) und lokales Moran's I auf echten Zensus-Zellen; "
            f"Nachbarn {a.get('nachbarschaft', '')}; Anteil EB-geglättet; Zellen unter "
            f"{a.get('mindestbevoelkerung', 0):g} Personen nicht getestet; Benjamini-Hochberg "
            f"FDR {a.get('alpha', 0.05):g}; Gi*-p-Werte {a.get('gi_p_werte', '')}"
            + (f" ({a['gi_permutationen']} Permutationen)" if a.get("gi_permutationen") else "")
            + (f"; LISA {a['lisa_permutationen']} Permutationen"
               if a.get("lisa_permutationen") else "")
            + (f". {a['hinweis']}" if a.get("hinweis") else "")
        ),
        "klassen_gi": "1=Hotspot; -1=Kältepunkt; 0=nicht signifikant; nodata=zu klein oder "
        "ohne Nachbarn",
        "klassen_lisa": "1=Hoch-Hoch; 2=Niedrig-Hoch; 3=Niedrig-Niedrig; 4=Hoch-Niedrig; "
        "0=nicht signifikant",
        "n_hotspot": str(a.get("n_hotspot", "")),
        "n_kaeltepunkt": str(a.get("n_kaeltepunkt", "")),
        "getestet": str(a.get("getestet", "")),
        **_source_tags(result, None),
    }
    return Surface(f"gitter_hotspots_{s:g}m", np.stack(data), rgrid, tuple(names),
                   tuple(units), tuple("value" for _ in names), tags, attrs={"zellen": True})

