"""Confidential layers leave the toolkit only as aggregates with small-number suppression.

The locations of project flats are personal data. :func:`aggregate_points` counts a
confidential point layer per polygon (Stadtteil, Bezirk, grid cell) and suppresses counts
below ``k`` (default 5): the count becomes missing and the label reads "< 5".
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from ._validate import require_same_crs

__all__ = ["DEFAULT_K", "aggregate_points", "suppressed_label"]

#: Counts below this are never shown as numbers.
DEFAULT_K = 5


def suppressed_label(count: float | None, *, k: int = DEFAULT_K) -> str:
    """Return the German display text of a count: the number, or ``"< k"`` when suppressed."""
    if count is None or pd.isna(count):
        return f"< {k}"
    return f"{int(count):,}".replace(",", ".")


def aggregate_points(
    points: gpd.GeoDataFrame,
    polygons: gpd.GeoDataFrame,
    *,
    k: int = DEFAULT_K,
    count_column: str = "anzahl",
) -> gpd.GeoDataFrame:
    """Count ``points`` per polygon of ``polygons`` with primary suppression below ``k``.

    Returns a copy of ``polygons`` (index kept) with ``count_column`` (nullable integer,
    missing where ``0 < count < k``), ``<count_column>_text`` (German display text, "< 5")
    and ``unterdrueckt`` (bool). Zero counts are shown as 0: an empty area reveals no one.
    No point coordinates are returned.
    """
    require_same_crs(("points", points), ("polygons", polygons))
    joined = gpd.sjoin(points[[points.geometry.name]], polygons[[polygons.geometry.name]],
                       how="inner", predicate="within")
    counts = joined.groupby("index_right").size()
    raw = polygons.index.to_series().map(counts).fillna(0).astype(np.int64)
    suppressed = (raw > 0) & (raw < k)
    out = polygons.copy()
    out[count_column] = pd.array(raw.where(~suppressed), dtype="Int64")
    out["unterdrueckt"] = suppressed.to_numpy()
    out[f"{count_column}_text"] = [suppressed_label(v, k=k) for v in out[count_column]]
    return out
