"""Small validation helpers called at the top of public functions (geopandas' ``_basic_checks``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ._errors import CRSError, SchemaError

if TYPE_CHECKING:  # pragma: no cover - only for annotations; keeps `import gis_planning` light
    import geopandas as gpd
    import pandas as pd

__all__ = [
    "ANALYSIS_CRS",
    "require_columns",
    "require_crs",
    "require_numeric",
    "require_projected",
    "require_same_crs",
]

#: Working CRS for analysis in NRW: ETRS89 / UTM zone 32N.
ANALYSIS_CRS = "EPSG:25832"


def require_crs(gdf: gpd.GeoDataFrame, *, name: str = "gdf") -> None:
    """Raise :class:`CRSError` if ``gdf`` has no CRS."""
    if gdf.crs is None:
        raise CRSError(
            f"`{name}` has no CRS. Set the CRS the coordinates are in, e.g. "
            f"`{name}.set_crs('EPSG:25832')` (or EPSG:4326 for longitude/latitude)."
        )


def require_projected(gdf: gpd.GeoDataFrame, *, name: str = "gdf") -> None:
    """Raise :class:`CRSError` unless ``gdf`` is in a projected CRS with metre units."""
    require_crs(gdf, name=name)
    if not gdf.crs.is_projected:
        raise CRSError(
            f"`{name}` is in the geographic CRS {gdf.crs.to_string()}; distances and areas "
            f"need metres. Use `{name}.to_crs('{ANALYSIS_CRS}')` first."
        )
    unit = gdf.crs.axis_info[0].unit_name if gdf.crs.axis_info else "metre"
    if unit not in ("metre", "meter"):
        raise CRSError(
            f"`{name}` is in {gdf.crs.to_string()} with units '{unit}'; use a metre-based CRS "
            f"such as `{name}.to_crs('{ANALYSIS_CRS}')`."
        )


def require_same_crs(*named: tuple[str, gpd.GeoDataFrame]) -> None:
    """Raise :class:`CRSError` if the given ``(name, gdf)`` pairs do not share one CRS."""
    for name, gdf in named:
        require_crs(gdf, name=name)
    first_name, first = named[0]
    for name, gdf in named[1:]:
        if not gdf.crs.equals(first.crs):
            raise CRSError(
                f"`{name}` is in {gdf.crs.to_string()} but `{first_name}` is in "
                f"{first.crs.to_string()}. Reproject one, e.g. `{name}.to_crs({first_name}.crs)`."
            )


def require_columns(df: pd.DataFrame, columns: Iterable[str], *, name: str = "gdf") -> None:
    """Raise :class:`SchemaError` naming every column of ``columns`` missing from ``df``."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SchemaError(
            f"`{name}` lacks the column(s) {', '.join(repr(c) for c in missing)}; "
            f"it has {', '.join(repr(str(c)) for c in df.columns)}. Rename or add them."
        )


def require_numeric(df: pd.DataFrame, columns: Iterable[str], *, name: str = "gdf") -> None:
    """Raise :class:`SchemaError` if a column of ``columns`` is not numeric."""
    import pandas as pd

    require_columns(df, columns, name=name)
    for c in columns:
        if not pd.api.types.is_numeric_dtype(df[c]):
            raise SchemaError(
                f"`{name}` column {c!r} must be numeric but has dtype {df[c].dtype}; "
                f"convert it with `pd.to_numeric(...)` (decimal commas: replace ',' by '.')."
            )
