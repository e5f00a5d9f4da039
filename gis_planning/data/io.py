"""Reading and writing layer files with validation.

The CSV reading lives in :mod:`._csv`, the validation in :mod:`._validate`; this module
re-exports their public names, so ``gis_planning.data.io`` stays the one place to import from.

``read_file`` reads GeoJSON, GeoPackage, Shapefile, GeoParquet and CSV with coordinates and turns
every reading failure into a :class:`~gis_planning.LayerError` that names the file and the fix.
``validate_layer`` checks a frame against a :class:`~gis_planning.data.catalog.LayerSchema`.
``write_layer`` writes GeoJSON (RFC 7946), GeoPackage or CSV atomically.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._atomic import atomic_path, register_input
from .._errors import GISPlanningError, LayerError
from ..labels import fmt_int
from ._csv import (  # noqa: F401  (re-exported; private helpers used by other modules)
    SOURCE_ATTR,
    _csv_to_gdf,
    _row_list,
    _row_number,
    _row_text,
    _rows_of,
    parse_german_numbers,
    read_csv_table,
)
from ._validate import (  # noqa: F401  (re-exported; _coerce is used by the catalogue)
    GERMANY_LONLAT,
    OVERLAP_SLIVER_M2,
    OVERLAP_SLIVER_SHARE,
    PARTITION_IDS,
    _coerce,
    check_crs_plausible,
    is_count_column,
    validate_layer,
)

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable


__all__ = [
    "SOURCE_ATTR",
    "SUPPORTED_SUFFIXES",
    "check_city_name",
    "check_column_names",
    "check_crs_plausible",
    "is_count_column",
    "parse_german_numbers",
    "read_csv_table",
    "read_file",
    "validate_layer",
    "write_layer",
]

log = logging.getLogger(__name__)

#: Columns of a CSV layer that give its CRS (EPSG code or CRS text), not data.
CSV_CRS_COLUMNS = ("epsg", "crs")

SUPPORTED_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".parquet", ".geoparquet", ".csv")


def read_file(
    path: str | os.PathLike,
    *,
    layer: str | None = None,
    crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a layer file into a GeoDataFrame, with clear errors.

    Parameters
    ----------
    path
        GeoJSON, GeoPackage, Shapefile, GeoParquet, or CSV with coordinate columns
        (x/y, lon/lat) or a ``wkt`` column.
    layer
        Layer name inside a GeoPackage with several layers.
    crs
        CRS to assume for CSV files (lon/lat columns imply EPSG:4326). Not used to override
        the CRS stored in a spatial file.

    Raises
    ------
    LayerError
        The file does not exist, is empty, truncated or not a layer.
    """
    p = Path(path)
    if not p.exists():
        raise LayerError(f"die Datei {str(p)!r} gibt es nicht. Prüfen Sie den Pfad.")
    if p.is_dir():
        raise LayerError(f"{str(p)!r} ist ein Ordner, keine Datei einer Ebene. Nennen Sie die "
                         f"Datei darin.")
    if p.stat().st_size == 0:
        raise LayerError(f"{str(p)!r} ist leer (0 Byte). Exportieren Sie die Ebene neu.")
    suffix = p.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LayerError(
            f"{str(p)!r}: der Dateityp {suffix!r} wird nicht unterstützt; verwenden Sie "
            f"{', '.join(SUPPORTED_SUFFIXES)}."
        )
    try:
        gdf = _read_any(p, suffix, layer=layer, crs=crs)
    except GISPlanningError:
        raise
    except Exception as exc:  # GDAL, pyarrow, pyproj and pandas raise many types
        log.debug("Lesen von %s fehlgeschlagen", p, exc_info=True)
        msg = (str(exc).splitlines() or [""])[0][:200] or type(exc).__name__
        raise LayerError(
            f"{str(p)!r} lässt sich nicht als Ebene lesen ({msg}). Die Datei ist vielleicht "
            f"abgeschnitten oder keine {suffix[1:]}-Datei; exportieren Sie sie neu."
        ) from None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf:
        raise LayerError(f"{str(p)!r} enthält eine Tabelle ohne Geometrien; geben Sie eine "
                         f"Ebene mit Geometrien an.")
    check_column_names(gdf.columns, what=repr(str(p)))
    gdf = _to_2d(gdf, repr(str(p)))
    register_input(p)
    gdf.attrs.setdefault(SOURCE_ATTR, {"path": str(p), "header_lines": 0})
    return gdf


def _read_any(p: Path, suffix: str, *, layer: str | None, crs: str | None) -> gpd.GeoDataFrame:
    if suffix == ".csv":
        df = read_csv_table(p)
        gdf = _csv_to_gdf(df, p, crs)
        gdf.attrs[SOURCE_ATTR] = {"header_lines": 1, **gdf.attrs.get(SOURCE_ATTR, {}),
                                  "path": str(p)}
        return gdf
    if suffix in (".parquet", ".geoparquet"):
        gdf = gpd.read_parquet(p)
        gdf.attrs[SOURCE_ATTR] = {"path": str(p), "header_lines": 0}
        return gdf
    if suffix == ".shp":
        missing = [e for e in (".shx", ".dbf") if not _sidecar(p, e).exists()]
        if missing:
            raise LayerError(
                f"dem Shapefile {str(p)!r} fehlt die {' und die '.join(missing)}-Datei; "
                f"kopieren Sie alle Dateien des Shapefiles (.shp, .shx, .dbf, .prj) zusammen."
            )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if suffix == ".gpkg" and layer is None:
            import pyogrio

            names = [str(n) for n in pyogrio.list_layers(p)[:, 0]]
            if len(names) > 1:
                raise LayerError(
                    f"{str(p)!r} enthält {len(names)} Ebenen ({', '.join(names[:8])}); nennen "
                    f"Sie die gewünschte im Stadt-Pack (\"layer\") oder prüfen Sie alle mit "
                    f"`gis-planning check {p.name}`."
                )
        gdf = gpd.read_file(p, layer=layer, engine="pyogrio")
    measured = False
    for w in caught:
        if "Measured (M) geometry" in str(w.message):
            measured = True  # pyogrio drops M values: said once below, in German
        elif not issubclass(w.category, RuntimeWarning):  # GDAL notes (e.g. XYZM members)
            warnings.warn(w.message, w.category, stacklevel=4)
    gdf.attrs[SOURCE_ATTR] = {"path": str(p), "header_lines": 0}
    if measured:
        gdf.attrs[SOURCE_ATTR]["m_dropped"] = True
    return gdf


def check_column_names(columns: Iterable[object], *, what: str) -> None:
    """Refuse columns that differ only in upper/lower case (``name`` and ``NAME``).

    GeoPackage (SQLite), Shapefile and QGIS do not tell such columns apart, so a layer with
    them could be checked but not exported.

    Raises
    ------
    LayerError
        Two column names are equal when case is ignored.
    """
    seen: dict[str, str] = {}
    for col in map(str, columns):
        key = col.casefold()
        if key in seen and seen[key] != col:
            raise LayerError(
                f"{what}: die Spalten {seen[key]!r} und {col!r} unterscheiden sich nur in der "
                f"Groß-/Kleinschreibung; GeoPackage, Shapefile und QGIS halten sie nicht "
                f"auseinander. Benennen Sie eine um (z. B. {col + '_2'!r})."
            )
        seen[key] = col


def _to_2d(gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    """Drop Z (height) and M (measure) values with a note; the toolkit works in 2-D."""
    geoms = gdf.geometry.values
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    z = np.asarray(shapely.has_z(geoms)) & ok
    has_m = getattr(shapely, "has_m", None)
    m = (np.asarray(has_m(geoms)) & ok) if has_m is not None else np.zeros(len(gdf), bool)
    if z.any():  # a constant height of 0 (a common export artefact) carries nothing
        zs = shapely.get_coordinates(geoms[z], include_z=True)[:, 2]
        if not np.nan_to_num(zs).any():
            z[:] = False
            if not m.any():  # nothing to say: drop the zeros silently
                gdf = gdf.copy()
                gdf[gdf.geometry.name] = gpd.GeoSeries(shapely.force_2d(geoms),
                                                       index=gdf.index, crs=gdf.crs)
    src = gdf.attrs.get(SOURCE_ATTR) or {}
    if not (z.any() or m.any()):
        if src.get("m_dropped"):
            warnings.warn(f"{what}: M-Werte (Messwerte) der Geometrien verworfen; verwendet "
                          f"werden nur x und y.", UserWarning, stacklevel=3)
        return gdf
    kinds = " und ".join(k for k, on in (("Z-Werten (Höhe)", z.any()),
                                         ("M-Werten (Messwert)", m.any())) if on)
    n = int((z | m).sum())
    first = _row_number(gdf, int(np.flatnonzero(z | m)[0]))
    warnings.warn(
        f"{what}: {n} Geometrie(n) mit {kinds} auf 2-D reduziert (erste in Zeile {first}); "
        f"verwendet werden nur x und y.", UserWarning, stacklevel=3)
    out = gdf.copy()
    out[out.geometry.name] = gpd.GeoSeries(shapely.force_2d(geoms), index=gdf.index,
                                           crs=gdf.crs)
    return out


def _sidecar(p: Path, ext: str) -> Path:
    for cand in (p.with_suffix(ext), p.with_suffix(ext.upper())):
        if cand.exists():
            return cand
    return p.with_suffix(ext)


def check_city_name(value: object, *, source: str = "Katalog") -> str:
    """Return the city name of a catalogue or pack, refusing anything but non-empty text.

    Raises
    ------
    InputError
        ``"city": null``, a number or an empty text (it would title the atlas
        "Integrationsatlas None").
    """
    from .._errors import InputError

    if not isinstance(value, str) or not value.strip():
        raise InputError(
            f"{source}: der Stadtname ('city') muss ein Text sein, nicht {value!r}; "
            f'schreiben Sie z. B. "city": "Bochum".'
        )
    return value.strip()


def write_layer(
    gdf: gpd.GeoDataFrame,
    path: str | os.PathLike,
    *,
    fmt: str | None = None,
    layer: str | None = None,
    overwrite: bool = False,
    inputs: tuple[str | os.PathLike, ...] = (),
) -> Path:
    """Write ``gdf`` atomically as GeoJSON (RFC 7946, WGS84), GeoPackage or CSV.

    GeoJSON is written in CRS84 with 7 decimals and no legacy ``crs`` member; GeoPackage keeps
    the layer's CRS; CSV gets WKT geometries in WGS84 (column ``wkt``, 7 decimals) and the
    column ``epsg`` = 4326, so that :func:`read_file` and ``gis-planning check`` read it back
    in the right CRS. A column named ``epsg`` or ``crs`` of the layer is a CRS marker of an
    earlier CSV and is replaced.
    """
    from ..privacy import guard

    guard(gdf, what=f"Ausgabe {str(path)!r}")
    p = Path(path)
    fmt = (fmt or p.suffix.lstrip(".")).lower()
    if fmt == "json":
        fmt = "geojson"
    if fmt not in ("geojson", "gpkg", "csv"):
        raise LayerError(f"unbekanntes Format {fmt!r}; möglich sind geojson, gpkg und csv.")
    suffixes = {"geojson": (".geojson", ".json"), "gpkg": (".gpkg",), "csv": (".csv",)}
    if p.suffix.lower() not in suffixes[fmt]:
        raise LayerError(
            f"die Ausgabe {str(p)!r} endet nicht auf {' oder '.join(suffixes[fmt])}, das "
            f"Format ist aber {fmt}; benennen Sie die Datei passend, damit andere Programme sie "
            f"öffnen."
        )
    check_column_names(gdf.columns, what=f"Ausgabe {str(p)!r}")
    if bool(np.asarray(getattr(shapely, "has_m", shapely.has_z)(gdf.geometry.values)).any()):
        gdf = _to_2d(gdf, f"Ausgabe {str(p)!r}")  # GDAL cannot write M through pyogrio
    with atomic_path(p, overwrite=overwrite, inputs=inputs) as tmp:
        if fmt == "geojson":
            gdf.to_crs("EPSG:4326").to_file(
                tmp, driver="GeoJSON", engine="pyogrio", RFC7946="YES", COORDINATE_PRECISION=7,
                WRITE_NAME="NO",
            )
        elif fmt == "gpkg":  # GeoPackage 1.2: newer versions warn in QGIS 3.22
            gdf.to_file(tmp, driver="GPKG", layer=layer or p.stem, engine="pyogrio",
                        VERSION="1.2")
        else:
            marker = [c for c in gdf.columns if str(c).strip().casefold() in CSV_CRS_COLUMNS]
            out = pd.DataFrame(gdf.drop(columns=[gdf.geometry.name, *marker]))
            out["wkt"] = gdf.geometry.to_crs("EPSG:4326").to_wkt(rounding_precision=7)
            out["epsg"] = 4326  # read_file (and `gis-planning check`) takes it as the CRS
            out.to_csv(tmp, index=False)
    log.info("geschrieben: %s (%s Objekte)", p, fmt_int(len(gdf)))
    return p
