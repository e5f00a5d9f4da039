"""Describing and exporting catalogue layers (backs ``gis-planning layers show|export``)."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd

from ..privacy import DEFAULT_K
from .catalog import Catalog
from .io import write_layer

__all__ = ["describe_layer", "describe_schema", "describe_table", "export_layer", "exportable"]


def describe_layer(catalog: Catalog, name: str) -> dict:
    """Return schema, feature count, source, licence, CRS and extent of layer ``name``."""
    schema = catalog.schema(name)
    gdf = catalog.load_confidential_points(name) if schema.confidential else catalog.load(name)
    n_records = len(gdf)
    # the extent of a confidential point layer is made of real locations: show the city's
    extent_of = catalog.load(catalog.unit.layer) if schema.confidential else gdf
    minx, miny, maxx, maxy = extent_of.total_bounds
    lon = extent_of.to_crs("EPSG:4326").total_bounds
    info = {
        "Ebene": f"{name} ({schema.label})",
        "Beschreibung": schema.description,
        "Objekte": n_records if not schema.confidential or n_records >= DEFAULT_K
        else f"< {DEFAULT_K}",
        "Geometrie": ", ".join(sorted(gdf.geom_type.unique())),
        "Koordinatensystem": gdf.crs.to_string(),
        f"Ausdehnung ({gdf.crs.to_string()})":
        f"{minx:.0f}, {miny:.0f} – {maxx:.0f}, {maxy:.0f}"
        + (" (Stadtgebiet; die Lage der Punkte ist vertraulich)" if schema.confidential else ""),
        "Ausdehnung (WGS84)": f"{lon[0]:.4f}, {lon[1]:.4f} – {lon[2]:.4f}, {lon[3]:.4f}",
        "Quelle": schema.source,
        "Lizenz": schema.licence,
        "Stand": schema.date,
    }
    if schema.method:
        info["Methode"] = schema.method
    if schema.confidential:
        info["Vertraulich"] = (
            f"ja – Export nur als Anzahl je Stadtteil, Werte unter {DEFAULT_K} unterdrückt"
        )
    if schema.synthetic:
        info["Hinweis"] = "synthetisch / Demonstrationsdaten"
    cols = {}
    for col in gdf.columns:
        if col == gdf.geometry.name:
            continue
        req = " (Pflicht)" if col in schema.required_columns else ""
        cols[col] = f"{gdf[col].dtype}{req}"
    info["Spalten"] = cols
    info["Schema"] = describe_schema(schema)
    return info


_KIND_TEXT = {"int": "ganze Zahl", "float": "Zahl", "str": "Text", "bool": "ja/nein",
              "id": "Nummer oder Code"}


def describe_schema(schema) -> dict[str, str]:
    """Column -> German kind of a layer schema, required columns marked."""
    out = {}
    for col, kind in schema.columns.items():
        req = ", Pflicht" if col in schema.required_columns else ", optional"
        out[col] = f"{_KIND_TEXT.get(kind, kind)}{req}"
    geom = {"Polygon": "Flächen", "Point": "Punkte"}.get(schema.geometry_type or "", "")
    if geom:
        out["Geometrie"] = geom
    return out


def describe_table(catalog: Catalog, name: str) -> dict:
    """Return key, unit, dates, source, licence, estimate flag and columns of table ``name``."""
    versions = catalog.table_dates(name)
    meta = catalog.table_meta(name)
    frame = catalog.table(name)
    groups = [f"{g.name} ({g.label})" for g in catalog.pack.groups.values() if g.table == name]
    info = {
        "Tabelle": f"{name} ({meta['label']})",
        "Beschreibung": meta["description"],
        "Einheit": meta["unit"] or "keine (Tabelle ohne Raumbezug)",
        "Schlüssel": catalog.table_spec(name).unit_key or "–",
        "Zeilen": len(frame),
        "Stände": ", ".join(versions) + (" (neuester ist Standard)" if len(versions) > 1
                                          else ""),
        "Quelle": meta["source"],
        "Lizenz": meta["licence"],
        "geschätzt": "ja" if meta["estimated"] else "nein",
        "Gruppen": ", ".join(groups) or "–",
    }
    if meta["method"]:
        info["Methode"] = meta["method"]
    info["Spalten"] = {str(c): str(frame[c].dtype) for c in frame.columns}
    return info


def exportable(catalog: Catalog, name: str) -> gpd.GeoDataFrame:
    """Return layer ``name`` in the form it may leave the toolkit.

    Confidential point layers are counts per analysis unit with primary and secondary
    suppression (:meth:`gis_planning.data.catalog.Catalog.released`), which is what
    :meth:`~gis_planning.data.catalog.Catalog.load` hands out for them.
    """
    return catalog.load(name)


def export_layer(
    catalog: Catalog,
    name: str,
    path: str | os.PathLike,
    *,
    fmt: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write layer ``name`` (confidential layers only aggregated) to ``path``."""
    return write_layer(exportable(catalog, name), path, fmt=fmt, layer=name,
                       overwrite=overwrite)
