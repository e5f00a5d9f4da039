"""Kernel density of the (confidential) project flats, from counts per 1-km block.

Part of :mod:`gis_planning.outputs.raster` (which re-exports these names).
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._errors import InputError
from .._validate import require_same_crs
from ..privacy import DEFAULT_K
from ._raster_base import Surface, _density, _sigma, raster_grid, smooth_mass

__all__ = ["FLATS_BLOCK_M", "FLATS_CELL_SIZES", "FLATS_MIN_BANDWIDTH", "check_flats_options",
           "flats_audit", "flats_density"]


#: Cell sizes (metres) of the only grids on which confidential points are published; all are
#: anchored at the CRS origin and divide :data:`FLATS_BLOCK_M`.
FLATS_CELL_SIZES = (100.0, 250.0, 500.0, 1000.0)

#: Side (metres) of the origin-anchored blocks in which confidential points are counted and
#: released: a flats surface depends on these block counts only.
FLATS_BLOCK_M = 1000.0

#: Smallest kernel bandwidth (metres) of a flats surface (no 0: no cell-exact counts).
FLATS_MIN_BANDWIDTH = 500.0


def check_flats_options(cell_size: float, bandwidth: float = 1000, k: int = DEFAULT_K) -> None:
    """Raise :class:`InputError` unless the options are allowed for a flats surface."""
    from ..labels import fmt_number

    sizes = ", ".join(fmt_number(s, 0) for s in FLATS_CELL_SIZES)
    if not any(float(cell_size) == s for s in FLATS_CELL_SIZES):
        raise InputError(
            f"Zellgröße {fmt_number(cell_size, 4).rstrip('0').rstrip(',')} m ist für "
            f"vertrauliche Punkte nicht erlaubt: nur die festen, am Koordinatenursprung "
            f"ausgerichteten Raster {sizes} m, damit sich Läufe mit verschobenen Zellgrenzen "
            f"nicht gegeneinander verrechnen lassen. Wählen Sie eine davon (--cell-size)."
        )
    if not np.isfinite(bandwidth) or bandwidth < FLATS_MIN_BANDWIDTH:
        raise InputError(
            f"Bandbreite {bandwidth!r} m ist für vertrauliche Punkte zu klein: mindestens "
            f"{fmt_number(FLATS_MIN_BANDWIDTH, 0)} m (--bandwidth); eine kleinere würde "
            f"einzelne Wohnungen erkennbar machen."
        )
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < DEFAULT_K:
        raise InputError(
            f"Mindestzahl {k!r} je Block ist zu klein: mindestens {DEFAULT_K} (--k), sonst "
            f"wären kleine Gruppen erkennbar."
        )


def _block_suppression(counts: pd.Series, k: int) -> np.ndarray:
    """Return which blocks to withhold: primary, secondary and 'withheld sum >= k'.

    ``counts``: flats per block (all blocks of the domain, zeros included), one equation
    (the total) treated as public. Withheld blocks are those of
    :func:`gis_planning.privacy.suppress_counts` with ``k``; if their sum is below ``k``
    (e.g. three blocks of 1, 2 and 1), the smallest shown blocks are withheld too until it is
    not, so that total minus shown never reveals a count below ``k``.
    """
    from ..privacy import suppress_counts

    res = suppress_counts(counts, k=k)
    withheld = (res.cells["unterdrueckung"] != "").to_numpy().copy()
    values = counts.to_numpy().copy()
    order = np.argsort(np.where(withheld | (values == 0), np.inf, values), kind="stable")
    for i in order:
        if not 0 < values[withheld].sum() < k:
            break
        if withheld[i] or values[i] == 0:
            break
        withheld[i] = True
    return withheld


def flats_density(
    points: gpd.GeoDataFrame,
    domain: gpd.GeoDataFrame,
    *,
    cell_size: float = 100,
    bandwidth: float = 1000,
    k: int = DEFAULT_K,
) -> Surface:
    """Kernel density of project flats from counts per 1-km block, with suppression.

    Parameters
    ----------
    points
        Project flats (confidential points allowed: only their counts per block are used, no
        coordinate leaves this function).
    domain
        Area of the surface (the Stadtteile), same projected CRS.
    cell_size
        Cell side in metres, one of :data:`FLATS_CELL_SIZES` (100, 250, 500, 1000).
    bandwidth
        Gaussian kernel standard deviation in metres, at least :data:`FLATS_MIN_BANDWIDTH`
        (default 1000).
    k
        Minimum number of flats in a shown block (at least
        :data:`~gis_planning.privacy.DEFAULT_K`).

    Returns
    -------
    Surface
        One band "Projektwohnungen je km²" (density); cells of withheld blocks are nodata.
        Tags: ``summe`` (all flats in the domain, ``"< k"`` below ``k``), ``gezeigt`` (flats
        in shown blocks), ``bloecke_gezeigt``, ``bloecke_unterdrueckt``, ``block_m``, ``k``.

    Raises
    ------
    InputError
        A cell size outside :data:`FLATS_CELL_SIZES`, a bandwidth below
        :data:`FLATS_MIN_BANDWIDTH` or ``k`` below the default.

    Notes
    -----
    The surface is a function of the counts per block only, so two runs (other cell size,
    bandwidth or ``k``) can be differenced without learning anything finer than a block:

    1. Flats inside the domain polygons are counted per block of :data:`FLATS_BLOCK_M`
       metres, anchored at the CRS origin (block ``(i, j)`` spans
       ``[i B, (i+1) B) x [j B, (j+1) B)``), independent of the cell size.
    2. Blocks are released like a table whose total is public
       (:func:`gis_planning.privacy.suppress_counts`): blocks with ``0 < n < k`` are withheld
       (primary), further blocks so that no withheld count can be recomputed or pinned to an
       interval narrower than 1 (secondary), and more until the withheld blocks together
       hold 0 or at least ``k`` flats. For ``k`` above the default the blocks withheld at
       the default ``k`` are withheld too, so a run with a larger ``k`` shows a subset of what
       a default run shows and the two cannot be differenced.
    3. The count of each shown block is spread over its cells by area inside the domain and
       smoothed with :func:`smooth_mass` (Gaussian, edge-corrected, total kept) over the
       domain without the withheld blocks, whose cells are nodata. The cell value is the
       smoothed count per km² of the cell's area inside the domain.
    """
    from ..labels import fmt_int

    require_same_crs(("points", points), ("domain", domain))
    check_flats_options(cell_size, bandwidth, k)
    k = int(k)
    rgrid = raster_grid(domain, cell_size=cell_size)
    s, b = float(cell_size), FLATS_BLOCK_M
    per = round(b / s)
    xy = shapely.get_coordinates(points.geometry.values)
    if len(xy) != len(points):
        raise InputError("Die Projektwohnungen müssen genau einen Punkt je Zeile haben (keine "
                         "Multipunkte oder leeren Geometrien).")
    area = shapely.union_all(domain.geometry.values)
    shapely.prepare(area)
    inside = shapely.covers(area, shapely.points(xy)) if len(xy) else np.zeros(0, bool)
    outside = int((~inside).sum())
    if outside:
        warnings.warn(
            f"{fmt_int(outside) if outside >= k else f'weniger als {k}'} Projektwohnung(en) "
            f"liegen außerhalb der Stadtteile und werden nicht gezählt.",
            UserWarning, stacklevel=2)
    xy = xy[inside]
    # blocks of the domain: those holding at least one domain cell
    cell_bc = rgrid.cells["col"].to_numpy() // per
    cell_br = rgrid.cells["row"].to_numpy() // per
    blocks = pd.MultiIndex.from_arrays([cell_bc, cell_br]).unique().sort_values()
    pt = pd.MultiIndex.from_arrays([np.floor(xy[:, 0] / b).astype(np.int64),
                                    np.floor(xy[:, 1] / b).astype(np.int64)])
    counts = pd.Series(0, index=blocks, dtype=np.int64)
    if len(pt):
        found = pd.Series(1, index=pt).groupby(level=[0, 1]).sum()
        counts = found.reindex(blocks, fill_value=0).astype(np.int64)
    withheld = _block_suppression(counts, k)
    if k > DEFAULT_K:  # nested in the default release: no differencing between k values
        withheld |= _block_suppression(counts, DEFAULT_K)
    total = int(counts.sum())
    shown = pd.Series(np.where(withheld, 0, counts.to_numpy()), index=blocks)
    cell_block = pd.MultiIndex.from_arrays([cell_bc, cell_br])
    cell_withheld = pd.Series(withheld, index=blocks).reindex(cell_block).to_numpy()
    # spread each shown block over its cells by the area inside the domain
    cov = rgrid.cells["covered_m2"].to_numpy()
    block_area = pd.Series(cov, index=cell_block).groupby(level=[0, 1]).sum()
    share = cov / block_area.reindex(cell_block).to_numpy()
    cell_mass = shown.reindex(cell_block).to_numpy() * share
    r, c = rgrid.cells["r"].to_numpy(), rgrid.cells["c"].to_numpy()
    mass = np.zeros((rgrid.height, rgrid.width))
    mass[r, c] = cell_mass
    open_mask = rgrid.mask.copy()
    open_mask[r[cell_withheld], c[cell_withheld]] = False
    smooth = smooth_mass(mass, open_mask, sigma_cells=_sigma(bandwidth, cell_size))
    density = _density(smooth, rgrid)
    density[~open_mask] = np.nan
    n_withheld = int(withheld.sum())
    tags = {
        "title": "Kerndichte Projektwohnungen (aus Anzahlen je 1-km-Block)",
        "method": f"Anzahl je {fmt_int(b)}-m-Block (am Koordinatenursprung ausgerichtet); "
        f"Blöcke mit weniger als {k} Wohnungen und Ausgleichsblöcke unterdrückt (nodata); "
        f"gezeigte Blöcke gleichmäßig auf ihre {cell_size:g}-m-Zellen verteilt, Gauß-Kern "
        f"sigma {bandwidth:g} m mit Randkorrektur (Summe erhalten).",
        "summe": str(total) if total >= k else f"< {k}",
        "gezeigt": str(int(shown.sum())),
        "bloecke_gezeigt": str(int((~withheld & (counts.to_numpy() > 0)).sum())),
        "bloecke_unterdrueckt": str(n_withheld),
        "block_m": f"{b:g}",
        "k": str(k),
    }
    return Surface("projektwohnungen_dichte", density[None], rgrid,
                   ("Projektwohnungen je km²",), ("1/km²",), ("density",), tags)


def flats_audit(surface: Surface) -> str:
    """Return the German audit line of a flats surface: no count below ``k`` in it.

    It names the flats shown (a sum of blocks with at least ``k`` each), the total in the
    domain only when it is at least ``k`` (else "< k") and the number of withheld blocks,
    never the withheld share or count.
    """
    t = surface.tags
    k = int(t["k"])
    shown = int(t["gezeigt"])
    total = t["summe"]
    from ..labels import fmt_int

    total_text = fmt_int(int(total)) if total.isdigit() else total
    return (f"gezeigt {fmt_int(shown)} von {total_text} Projektwohnungen in "
            f"{t['bloecke_gezeigt']} Blöcken zu {fmt_int(float(t['block_m']))} m; "
            f"{t['bloecke_unterdrueckt']} Blöcke unterdrückt (weniger als {k} Wohnungen oder "
            f"zum Schutz kleiner Zahlen, nodata)")

