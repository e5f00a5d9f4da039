"""Synthetic demonstration layers.

The locations of refugee project flats (Projektwohnungen) are confidential. The toolkit ships a
*synthetic* point layer instead, generated reproducibly, whose distribution over the Bezirke
matches published shares. Every row, the layer metadata and every map label say
"synthetisch / Demonstrationsdaten".
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from .._validate import require_columns, require_projected
from ..rounding import largest_remainder

__all__ = ["SYNTHETIC_NOTE", "largest_remainder", "synthetic_points_by_share"]

SYNTHETIC_NOTE = "synthetisch / Demonstrationsdaten"


def synthetic_points_by_share(
    areas: gpd.GeoDataFrame,
    share_column: str,
    *,
    total: int = 500,
    seed: int = 2016,
    id_column: str | None = None,
) -> gpd.GeoDataFrame:
    """Draw ``total`` random points spread over ``areas`` in proportion to ``share_column``.

    Parameters
    ----------
    areas
        Polygons in a projected CRS (e.g. Stadtbezirke, EPSG:25832).
    share_column
        Share of each area (percent or any non-negative weight); normalised to sum to 1.
    total
        Number of points, split by :func:`largest_remainder`.
    seed
        Seed of the random generator: the same inputs give the same points.
    id_column
        Column of ``areas`` copied onto each point (default: the index).

    Returns
    -------
    GeoDataFrame
        One row per point with ``id_column``, ``synthetisch = True`` and ``hinweis``.

    Notes
    -----
    Points are placed uniformly at random inside each polygon by rejection sampling in its
    bounding box. Published shares may not sum to 100 % (Essen's project-flat shares of
    30.09.2016 sum to 100.4 %); they are normalised.
    """
    require_projected(areas, name="areas")
    require_columns(areas, [share_column], name="areas")
    counts = largest_remainder(areas[share_column].to_numpy(float), total)
    rng = np.random.default_rng(seed)
    rows = []
    key = id_column or "flaeche_id"
    for (idx, area), n in zip(areas.iterrows(), counts, strict=True):
        geom = area.geometry
        prepared = shapely.prepared.prep(geom)
        minx, miny, maxx, maxy = geom.bounds
        got: list = []
        while len(got) < n:
            xs = rng.uniform(minx, maxx, size=max(16, 4 * (n - len(got))))
            ys = rng.uniform(miny, maxy, size=xs.size)
            for pt in shapely.points(xs, ys):
                if prepared.contains(pt):
                    got.append(pt)
                    if len(got) == n:
                        break
        value = area[id_column] if id_column else idx
        rows.extend({key: value, "geometry": pt} for pt in got)
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=areas.crs)
    out.insert(0, "wohnung_id", np.arange(1, len(out) + 1))
    out["synthetisch"] = True
    out["hinweis"] = SYNTHETIC_NOTE
    return out
