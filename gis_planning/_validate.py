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

#: How messages name an input that callers pass under its argument name (no Python names).
_LABELS = {
    "gdf": "Eingabe", "df": "Tabelle", "frame": "Tabelle", "table": "Tabelle",
    "demand": "Nachfrage", "candidates": "Kandidaten", "sites": "Standorte",
    "boundary": "Grenze", "cells": "Zellen", "areas": "Gebiete",
    "points": "Punkte", "units": "Einheiten", "source": "Quelle",
    "target": "Ziel", "zones": "Zonen", "polygons": "Flächen", "data": "Daten",
}


def _label(name: str) -> str:
    """``"demand"`` -> ``"Nachfrage"``; any other name (a layer, a file) in quotes."""
    return _LABELS.get(name, f"'{name}'")


def require_crs(gdf: gpd.GeoDataFrame, *, name: str = "gdf") -> None:
    """Raise :class:`CRSError` if ``gdf`` has no CRS."""
    if gdf.crs is None:
        raise CRSError(
            f"{_label(name)}: kein Koordinatensystem (CRS). Setzen Sie das, in dem die "
            f"Koordinaten liegen, z. B. EPSG:25832 (oder EPSG:4326 für Länge/Breite)."
        )


def require_projected(gdf: gpd.GeoDataFrame, *, name: str = "gdf") -> None:
    """Raise :class:`CRSError` unless ``gdf`` is in a projected CRS with metre units."""
    require_crs(gdf, name=name)
    if not gdf.crs.is_projected:
        raise CRSError(
            f"{_label(name)}: geografisches Koordinatensystem {gdf.crs.to_string()} "
            f"(Grad); Abstände und Flächen brauchen Meter. Projizieren Sie zuerst nach "
            f"{ANALYSIS_CRS}."
        )
    unit = gdf.crs.axis_info[0].unit_name if gdf.crs.axis_info else "metre"
    if unit not in ("metre", "meter"):
        raise CRSError(
            f"{_label(name)}: Koordinatensystem {gdf.crs.to_string()} mit der Einheit "
            f"'{unit}'; nutzen Sie ein Koordinatensystem in Metern, z. B. {ANALYSIS_CRS}."
        )


def require_same_crs(*named: tuple[str, gpd.GeoDataFrame]) -> None:
    """Raise :class:`CRSError` if the given ``(name, gdf)`` pairs do not share one CRS."""
    for name, gdf in named:
        require_crs(gdf, name=name)
    first_name, first = named[0]
    for name, gdf in named[1:]:
        if not gdf.crs.equals(first.crs):
            raise CRSError(
                f"Koordinatensysteme passen nicht zusammen: {_label(name)} in "
                f"{gdf.crs.to_string()}, {_label(first_name)} in {first.crs.to_string()}; "
                f"projizieren Sie eines in das System des anderen."
            )


def require_columns(df: pd.DataFrame, columns: Iterable[str], *, name: str = "gdf") -> None:
    """Raise :class:`SchemaError` naming every column of ``columns`` missing from ``df``."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SchemaError(
            f"{_label(name)}: {'Spalte' if len(missing) == 1 else 'Spalten'} "
            f"{', '.join(repr(c) for c in missing)} {'fehlt' if len(missing) == 1 else 'fehlen'}; "
            f"vorhanden sind {', '.join(repr(str(c)) for c in df.columns)}. Benennen Sie "
            f"Spalten um oder ergänzen Sie sie."
        )


def require_numeric(df: pd.DataFrame, columns: Iterable[str], *, name: str = "gdf") -> None:
    """Raise :class:`SchemaError` if a column of ``columns`` is not numeric."""
    import pandas as pd

    require_columns(df, columns, name=name)
    for c in columns:
        if not pd.api.types.is_numeric_dtype(df[c]):
            raise SchemaError(
                f"{_label(name)}: Spalte {c!r} muss Zahlen enthalten, hat aber den Typ "
                f"{df[c].dtype}; wandeln Sie sie in Zahlen um (Dezimalkomma durch Punkt "
                f"ersetzen)."
            )
