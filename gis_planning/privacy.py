"""Confidential layers leave the toolkit only as aggregates with small-number suppression.

The locations of project flats are personal data. :func:`aggregate_points` counts a
confidential point layer per polygon (Stadtteil, Bezirk, grid cell) and suppresses counts
below ``k`` (default 5): the count becomes missing and the label reads "< 5".
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from ._errors import ConfidentialDataError
from ._validate import require_same_crs

__all__ = [
    "CONFIDENTIAL_ATTR",
    "DEFAULT_K",
    "aggregate_points",
    "guard",
    "is_confidential",
    "mark_confidential",
    "release",
    "suppressed_label",
]

#: Key in ``GeoDataFrame.attrs`` that marks data derived from a confidential layer.
CONFIDENTIAL_ATTR = "gis_planning_confidential"

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


def mark_confidential(gdf: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    """Mark ``gdf`` (in place, via ``attrs``) as holding the confidential layer ``layer``."""
    gdf.attrs[CONFIDENTIAL_ATTR] = layer
    return gdf


def is_confidential(gdf: pd.DataFrame) -> bool:
    """Return whether ``gdf`` is marked as holding confidential records."""
    return bool(getattr(gdf, "attrs", {}).get(CONFIDENTIAL_ATTR))


def guard(gdf: pd.DataFrame, *, what: str = "output") -> None:
    """Raise :class:`ConfidentialDataError` if ``gdf`` would reveal confidential records.

    Every exporter (HTML, GeoJSON, GeoPackage, CSV, GeoTIFF, query results) calls this before
    writing. A frame marked confidential may leave only as the result of :func:`release`.
    """
    if is_confidential(gdf):
        layer = gdf.attrs[CONFIDENTIAL_ATTR]
        raise ConfidentialDataError(
            f"{what}: layer {layer!r} is confidential and cannot be written as records or "
            f"points. Export it aggregated (counts per Stadtteil, Bezirk or grid cell with "
            f"suppression below {DEFAULT_K}), e.g. `gis-planning layers export {layer} ...`."
        )


def release(
    gdf: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    k: int = DEFAULT_K,
    keep: tuple[str, ...] = ("stadtteil_nr", "stadtteil", "bezirk"),
) -> gpd.GeoDataFrame:
    """Return the releasable form of ``gdf``: counts per polygon of ``areas``, suppressed.

    Non-confidential frames are returned unchanged. A confidential point layer becomes
    :func:`aggregate_points` over ``areas`` (only the ``keep`` columns of ``areas`` plus the
    counts), unmarked so that writers accept it.
    """
    if not is_confidential(gdf):
        return gdf
    counts = aggregate_points(gdf, areas, k=k)
    cols = [c for c in keep if c in counts]
    out = counts[[*cols, "anzahl", "anzahl_text", "unterdrueckt", counts.geometry.name]].copy()
    out.attrs = {}
    return out
