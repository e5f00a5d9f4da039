"""Reading and writing layer files with validation.

``read_file`` reads GeoJSON, GeoPackage, Shapefile, GeoParquet and CSV with coordinates and turns
every reading failure into a :class:`~gis_planning.LayerError` that names the file and the fix.
``validate_layer`` checks a frame against a :class:`~gis_planning.catalog.LayerSchema`.
``write_layer`` writes GeoJSON (RFC 7946), GeoPackage or CSV atomically.
"""

from __future__ import annotations

import csv
import io as _io
import logging
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._atomic import atomic_path
from ._errors import CRSError, GeometryError, LayerError, NameMatchError, SchemaError
from ._names import match_names

if TYPE_CHECKING:  # pragma: no cover
    from .catalog import LayerSchema

__all__ = [
    "SUPPORTED_SUFFIXES",
    "check_crs_plausible",
    "read_csv_table",
    "read_file",
    "validate_layer",
    "write_layer",
]

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".parquet", ".geoparquet", ".csv")

_X_NAMES = ("x", "lon", "lng", "longitude", "laenge", "rechtswert", "easting")
_Y_NAMES = ("y", "lat", "latitude", "breite", "hochwert", "northing")

#: Rough bounds of Germany in EPSG:4326 (lon_min, lat_min, lon_max, lat_max), with a margin.
GERMANY_LONLAT = (5.5, 47.0, 15.5, 55.2)


def _sniff_csv(raw: bytes) -> tuple[str, str, str]:
    """Return (text, delimiter, decimal) for CSV bytes in UTF-8 or Latin-1/cp1252."""
    for enc in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    head = "\n".join(text.splitlines()[:20])
    try:
        delim = csv.Sniffer().sniff(head, delimiters=",;\t|").delimiter
    except csv.Error:
        delim = ";" if head.count(";") > head.count(",") else ","
    decimal = "," if delim != "," and any(
        c.isdigit() for c in head.split(",")[0][-1:]
    ) else "."
    if delim == ";":
        decimal = ","
    return text, delim, decimal


def read_csv_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a CSV table in UTF-8 or Latin-1/cp1252, comma or semicolon separated.

    Semicolon files are read with decimal commas (the German Excel export).
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise LayerError(f"cannot read {str(p)!r}: {exc.strerror}. Check the path.") from None
    if not raw.strip():
        raise LayerError(f"{str(p)!r} is empty (0 bytes of data). Export the table again.")
    text, delim, decimal = _sniff_csv(raw)
    try:
        return pd.read_csv(_io.StringIO(text), sep=delim, decimal=decimal, thousands=None)
    except (pd.errors.ParserError, ValueError) as exc:
        first = str(exc).splitlines()[0]
        raise LayerError(f"cannot parse CSV {str(p)!r}: {first}. Check the delimiter.") from None


def _csv_to_gdf(df: pd.DataFrame, path: Path, crs: str | None) -> gpd.GeoDataFrame:
    cols = {c.lower().strip(): c for c in df.columns}
    if "wkt" in cols or "geometry" in cols:
        col = cols.get("wkt") or cols["geometry"]
        try:
            geom = gpd.GeoSeries.from_wkt(df[col])
        except shapely.errors.GEOSException as exc:
            raise LayerError(f"{str(path)!r}: column {col!r} is not valid WKT ({exc}).") from None
        return gpd.GeoDataFrame(df.drop(columns=[col]), geometry=geom, crs=crs)
    xcol = next((cols[n] for n in _X_NAMES if n in cols), None)
    ycol = next((cols[n] for n in _Y_NAMES if n in cols), None)
    if xcol is None or ycol is None:
        raise LayerError(
            f"{str(path)!r} has no coordinate columns; name them x/y, lon/lat or add a 'wkt' "
            f"column. Columns found: {', '.join(map(str, df.columns))}."
        )
    for c in (xcol, ycol):
        if not pd.api.types.is_numeric_dtype(df[c]):
            converted = pd.to_numeric(
                df[c].astype(str).str.replace(",", ".", regex=False), errors="coerce"
            )
            bad = converted.isna() & df[c].notna()
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
                raise LayerError(
                    f"{str(path)!r} row {row}: coordinate column {c!r} holds "
                    f"{df[c][bad].iloc[0]!r}, not a number. Fix or remove that row."
                )
            df = df.assign(**{c: converted})
    if crs is None and xcol.lower() in ("lon", "lng", "longitude", "laenge"):
        crs = "EPSG:4326"
    geom = gpd.points_from_xy(df[xcol], df[ycol])
    return gpd.GeoDataFrame(df, geometry=geom, crs=crs)


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
        raise LayerError(f"file {str(p)!r} does not exist. Check the path.")
    if p.is_file() and p.stat().st_size == 0:
        raise LayerError(f"{str(p)!r} is empty (0 bytes). Export the layer again.")
    suffix = p.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LayerError(
            f"{str(p)!r}: unsupported file type {suffix!r}; use one of "
            f"{', '.join(SUPPORTED_SUFFIXES)}."
        )
    if suffix == ".csv":
        return _csv_to_gdf(read_csv_table(p), p, crs)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # GDAL notes (e.g. XYZM members)
            if suffix in (".parquet", ".geoparquet"):
                gdf = gpd.read_parquet(p)
            else:
                gdf = gpd.read_file(p, layer=layer)
    except Exception as exc:  # pyogrio/GDAL raise many types; we report one line
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise LayerError(
            f"cannot read {str(p)!r} as a layer ({msg}). The file may be truncated or not "
            f"a {suffix[1:]} file; export it again."
        ) from None
    if not isinstance(gdf, gpd.GeoDataFrame) or "geometry" not in gdf:
        raise LayerError(f"{str(p)!r} holds a table without geometries; use a spatial layer.")
    return gdf


def check_crs_plausible(gdf: gpd.GeoDataFrame, *, name: str = "layer") -> None:
    """Raise :class:`CRSError` if ``gdf`` has no CRS or coordinates that do not fit its CRS.

    Catches the common mix-ups: no CRS at all, EPSG:4326 declared on metre coordinates,
    latitude/longitude swapped, and data far outside Germany.
    """
    if gdf.crs is None:
        raise CRSError(
            f"{name} has no CRS (a shapefile without .prj?). Set it when loading, e.g. "
            f"`gdf.set_crs('EPSG:25832')` for UTM 32N metres or 'EPSG:4326' for lon/lat."
        )
    geoms = gdf.geometry[~gdf.geometry.is_empty & gdf.geometry.notna()]
    if geoms.empty:
        return
    minx, miny, maxx, maxy = geoms.total_bounds
    if gdf.crs.is_geographic:
        if max(abs(minx), abs(maxx)) > 180 or max(abs(miny), abs(maxy)) > 90:
            raise CRSError(
                f"{name} declares the geographic CRS {gdf.crs.to_string()} but has "
                f"coordinates up to ({maxx:.0f}, {maxy:.0f}), which are metres. Declare the "
                f"real CRS, e.g. `set_crs('EPSG:25832', allow_override=True)`."
            )
        lo_x, lo_y, hi_x, hi_y = GERMANY_LONLAT
        inside = lo_x <= minx and maxx <= hi_x and lo_y <= miny and maxy <= hi_y
        swapped = lo_x <= miny and maxy <= hi_x and lo_y <= minx and maxx <= hi_y
        if not inside and swapped:
            raise CRSError(
                f"{name}: longitude and latitude look swapped (x from {minx:.2f} to {maxx:.2f} "
                f"looks like latitude). Swap the coordinate columns or axes."
            )
        if not inside:
            raise CRSError(
                f"{name}: coordinates ({minx:.2f}, {miny:.2f}) to ({maxx:.2f}, {maxy:.2f}) lie "
                f"outside Germany in {gdf.crs.to_string()}. Check the declared CRS."
            )
    else:
        lonlat = geoms.to_crs("EPSG:4326").total_bounds
        lo_x, lo_y, hi_x, hi_y = GERMANY_LONLAT
        inside = lo_x <= lonlat[0] and lonlat[2] <= hi_x
        inside = inside and lo_y <= lonlat[1] and lonlat[3] <= hi_y
        if not inside:
            raise CRSError(
                f"{name}: in its declared CRS {gdf.crs.to_string()} the data lies outside "
                f"Germany. Check the CRS (lon/lat degrees need EPSG:4326; UTM 32N metres "
                f"EPSG:25832; Gauss-Krüger zone 2 EPSG:31466)."
            )


_KINDS = {
    "int": pd.api.types.is_integer_dtype,
    "float": pd.api.types.is_numeric_dtype,
    "str": lambda s: pd.api.types.is_string_dtype(s) or pd.api.types.is_object_dtype(s),
    "bool": pd.api.types.is_bool_dtype,
}


def validate_layer(
    gdf: gpd.GeoDataFrame,
    schema: LayerSchema,
    *,
    name: str | None = None,
    stadtteil_names: list[str] | None = None,
    repair: bool = True,
) -> gpd.GeoDataFrame:
    """Check ``gdf`` against ``schema`` and return a validated copy.

    Checks, in order: at least one feature; CRS present and plausible; geometry type;
    invalid geometries (repaired with ``make_valid`` and a warning that says how many, if
    ``repair``); required columns and their types (numeric text such as ``"7,1"`` is converted);
    Stadtteil names against ``stadtteil_names`` (unknown names raise with close matches).

    Raises
    ------
    LayerError, CRSError, GeometryError, SchemaError, NameMatchError
    """
    label = name or schema.name
    if len(gdf) == 0:
        raise LayerError(
            f"{label} has no features. Check the file or the filter used to export it."
        )
    check_crs_plausible(gdf, name=label)
    out = gdf.copy()
    missing_geom = out.geometry.isna() | out.geometry.is_empty
    if missing_geom.any():
        raise GeometryError(
            f"{label}: {int(missing_geom.sum())} feature(s) have no geometry (first at row "
            f"{int(np.flatnonzero(missing_geom.to_numpy())[0]) + 1}). Remove or fix them."
        )
    if schema.geometry_type is not None:
        allowed = {schema.geometry_type, f"Multi{schema.geometry_type}"}
        types = set(out.geom_type.unique())
        if not types <= allowed:
            raise GeometryError(
                f"{label} must hold {schema.geometry_type} geometries but holds "
                f"{', '.join(sorted(types))}. Split or convert the layer."
            )
    invalid = ~out.geometry.is_valid
    if invalid.any():
        if not repair:
            raise GeometryError(
                f"{label}: {int(invalid.sum())} invalid geometries (e.g. self-intersections). "
                f"Repair them with `make_valid()` or load with repair=True."
            )
        fixed = out.geometry[invalid].make_valid()
        if schema.geometry_type == "Polygon":
            fixed = fixed.apply(_polygonal_part)
        out.loc[invalid, out.geometry.name] = fixed
        warnings.warn(
            f"{label}: repaired {int(invalid.sum())} invalid geometr"
            f"{'y' if invalid.sum() == 1 else 'ies'} with make_valid (self-intersections).",
            UserWarning,
            stacklevel=2,
        )
    missing = [c for c in schema.required_columns if c not in out.columns]
    if missing:
        raise SchemaError(
            f"{label} lacks the required column(s) {', '.join(map(repr, missing))}; it has "
            f"{', '.join(repr(str(c)) for c in out.columns if c != out.geometry.name)}. "
            f"Rename the columns (schema: `gis-planning layers show {schema.name}`)."
        )
    for col, kind in schema.columns.items():
        if col not in out.columns:
            continue
        out[col] = _coerce(out[col], kind, label=label, column=col)
    if schema.id_column and schema.id_column in out.columns:
        dup = out[schema.id_column].duplicated(keep=False)
        if dup.any():
            vals = out.loc[dup, schema.id_column].unique()[:3]
            raise SchemaError(
                f"{label}: id column {schema.id_column!r} has duplicates "
                f"({', '.join(map(str, vals))}). Ids must be unique."
            )
    if stadtteil_names is not None and "stadtteil" in out.columns and schema.check_stadtteil:
        _check_names(out["stadtteil"], stadtteil_names, label=label)
    return out


def _polygonal_part(geom):
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [
        g for g in getattr(geom, "geoms", [geom]) if g.geom_type in ("Polygon", "MultiPolygon")
    ]
    return shapely.union_all(parts) if parts else geom


def _coerce(series: pd.Series, kind: str, *, label: str, column: str) -> pd.Series:
    check = _KINDS[kind]
    if check(series) and not (kind in ("int", "float") and pd.api.types.is_bool_dtype(series)):
        is_count = column.endswith(("anzahl", "einwohner"))
        if kind in ("int", "float") and is_count and (series < 0).any():
            row = int(np.flatnonzero((series < 0).to_numpy())[0]) + 1
            raise SchemaError(f"{label} row {row}: column {column!r} has a negative count.")
        return series
    if kind in ("int", "float"):
        text = series.astype("string").str.strip()
        text = text.str.replace("%", "", regex=False).str.replace(" ", "", regex=False)
        text = text.str.replace(".", "", regex=False).where(text.str.contains(","), text)
        text = text.str.replace(",", ".", regex=False)
        num = pd.to_numeric(text, errors="coerce")
        bad = num.isna() & series.notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
            raise SchemaError(
                f"{label} row {row}: column {column!r} must be numeric but holds "
                f"{series[bad].iloc[0]!r}. Write numbers only (decimal comma is fine)."
            )
        if kind == "int":
            if (num.dropna() % 1 != 0).any():
                raise SchemaError(f"{label}: column {column!r} must hold whole numbers.")
            return num.astype("Int64")
        return num.astype(float)
    if kind == "bool":
        mapping = {"true": True, "false": False, "1": True, "0": False, "ja": True, "nein": False}
        mapped = series.astype(str).str.strip().str.lower().map(mapping)
        if mapped.isna().any():
            raise SchemaError(f"{label}: column {column!r} must be true/false (ja/nein).")
        return mapped.astype(bool)
    return series.astype(str)


def _check_names(names: pd.Series, reference: list[str], *, label: str) -> None:
    unknown = [m for m in match_names(names.dropna().unique(), reference) if m.matched is None]
    if unknown:
        m = unknown[0]
        hint = (
            f" Did you mean {' or '.join(repr(s) for s in m.suggestions)}?"
            if m.suggestions
            else " Use the official names (`gis-planning layers show stadtteile`)."
        )
        more = f" ({len(unknown) - 1} more unknown)" if len(unknown) > 1 else ""
        raise NameMatchError(f"{label}: unknown Stadtteil name {m.given!r}{more}.{hint}")


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
    the layer's CRS; CSV gets WKT geometries in WGS84.
    """
    from .privacy import guard

    guard(gdf, what=f"writing {str(path)!r}")
    p = Path(path)
    fmt = (fmt or p.suffix.lstrip(".")).lower()
    if fmt == "json":
        fmt = "geojson"
    if fmt not in ("geojson", "gpkg", "csv"):
        raise LayerError(f"unknown format {fmt!r}; use geojson, gpkg or csv.")
    with atomic_path(p, overwrite=overwrite, inputs=inputs) as tmp:
        if fmt == "geojson":
            gdf.to_crs("EPSG:4326").to_file(
                tmp, driver="GeoJSON", engine="pyogrio", RFC7946="YES", COORDINATE_PRECISION=7,
                WRITE_NAME="NO",
            )
        elif fmt == "gpkg":
            gdf.to_file(tmp, driver="GPKG", layer=layer or p.stem, engine="pyogrio")
        else:
            out = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
            out["wkt"] = gdf.geometry.to_crs("EPSG:4326").to_wkt(rounding_precision=7)
            out.to_csv(tmp, index=False)
    log.info("wrote %s (%d features)", p, len(gdf))
    return p
