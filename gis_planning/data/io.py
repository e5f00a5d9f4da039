"""Reading and writing layer files with validation.

``read_file`` reads GeoJSON, GeoPackage, Shapefile, GeoParquet and CSV with coordinates and turns
every reading failure into a :class:`~gis_planning.LayerError` that names the file and the fix.
``validate_layer`` checks a frame against a :class:`~gis_planning.data.catalog.LayerSchema`.
``write_layer`` writes GeoJSON (RFC 7946), GeoPackage or CSV atomically.
"""

from __future__ import annotations

import csv
import io as _io
import logging
import os
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._atomic import atomic_path, register_input
from .._errors import (
    CRSError,
    GeometryError,
    GISPlanningError,
    LayerError,
    NameMatchError,
    SchemaError,
)
from .._names import match_names

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable, Mapping

    from .schema import LayerSchema

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

SUPPORTED_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".parquet", ".geoparquet", ".csv")

_X_NAMES = ("x", "lon", "lng", "longitude", "laenge", "rechtswert", "easting")
_Y_NAMES = ("y", "lat", "latitude", "breite", "hochwert", "northing")

#: ``attrs`` key: number of lines before the first record in the source file (CSV header: 1),
#: so that messages can name the line a user sees in an editor.
SOURCE_ATTR = "gis_planning_source"

#: Rough bounds of Germany in EPSG:4326 (lon_min, lat_min, lon_max, lat_max), with a margin.
GERMANY_LONLAT = (5.5, 47.0, 15.5, 55.2)


def _sniff_csv(raw: bytes) -> tuple[str, str, str]:
    """Return (text, delimiter, decimal) for CSV bytes in UTF-8 or Latin-1/cp1252."""
    text = raw.decode("latin-1")
    for enc in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    head = "\n".join(text[:65536].splitlines()[:20])
    try:
        delim = csv.Sniffer().sniff(head, delimiters=",;\t|").delimiter
    except (csv.Error, ValueError, TypeError):
        delim = ";" if head.count(";") > head.count(",") else ","
    decimal = "," if delim != "," and any(
        c.isdigit() for c in head.split(",")[0][-1:]
    ) else "."
    if delim == ";":
        decimal = ","
    return text, delim, decimal


#: Number formats of a CSV value: plain whole number, decimal comma, German thousands points
#: (optionally with a decimal comma), decimal point.
_NUM_INT = re.compile(r"^[+-]?\d+$")
_NUM_COMMA = re.compile(r"^[+-]?\d*,\d+$")
_NUM_GROUPED = re.compile(r"^[+-]?[1-9]\d{0,2}(?:\.\d{3})+(?:,\d+)?$")
_NUM_DOT = re.compile(r"^[+-]?\d*\.\d+$")


def _number_kinds(values: pd.Series) -> pd.Series:
    """Classify text values: "int", "comma", "grouped", "dot" or None (not a number)."""
    def kind(v: str) -> str | None:
        if _NUM_INT.match(v):
            return "int"
        if _NUM_GROUPED.match(v):
            return "grouped"  # 1.234 / 362.015,25 (a German thousands point)
        if _NUM_COMMA.match(v):
            return "comma"
        if _NUM_DOT.match(v):
            return "dot"
        return None

    return values.map(kind)


def parse_german_numbers(
    values: pd.Series, *, label: str, column: str, frame: pd.DataFrame | None = None,
) -> pd.Series | None:
    """Read a text column of a German file (``;`` and decimal comma) as numbers.

    Returns the numbers (float, or int64 when all are whole and none is missing) or ``None``
    when some value is not a number at all (then the column is text).

    Notes
    -----
    The rule, per column: a decimal comma makes the point a thousands separator
    (``"1.234"`` is 1234, ``"362.015,25"`` is 362015.25). If the column has no comma but a
    value whose point cannot be a thousands separator (``"6.96629"``), the whole column is
    read with decimal points. A column holding both a decimal comma and such a value is
    ambiguous and refused with the row of the first point.

    Raises
    ------
    LayerError
        The column mixes decimal commas and decimal points.
    """
    frame = values.to_frame() if frame is None else frame
    text = values.astype("string").str.strip()
    filled = text.notna() & (text != "")
    kinds = _number_kinds(text[filled].astype(str))
    if kinds.isna().any() or not filled.any():
        return None
    has = set(kinds)
    grouped = text[filled][(kinds == "grouped").to_numpy()]
    german = "comma" in has or grouped.str.contains(",", regex=False).any()
    if german and "dot" in has:
        pos = int(np.flatnonzero(filled.to_numpy())[np.flatnonzero(
            (kinds == "dot").to_numpy())[0]])
        comma = text[filled][kinds.isin(["comma", "grouped"]).to_numpy()].iloc[0]
        raise LayerError(
            f"{label} Zeile {_row_number(frame, pos)}: Spalte {column!r} mischt Dezimalkomma "
            f"({comma!r}) und Dezimalpunkt ({text.iloc[pos]!r}). In einer deutschen Datei "
            f"(Semikolon, Dezimalkomma) ist der Punkt das Tausender-Trennzeichen; schreiben Sie "
            f"die Zahlen einheitlich, z. B. {text.iloc[pos].replace('.', ',')!r}."
        )
    if "dot" in has:  # no comma anywhere: a column with decimal points throughout
        clean, whole = text, has <= {"int"}
    else:
        clean = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        whole = has <= {"int", "grouped"} and not german
    if whole and filled.all():
        ints = [int(v) for v in clean]  # exact, also beyond float precision
        if all(-(2**63) <= v < 2**63 for v in ints):
            return pd.Series(ints, index=values.index, dtype=np.int64)
        return pd.Series(ints, index=values.index, dtype=object)
    out = pd.Series(np.nan, index=values.index, dtype=float)
    out[filled] = pd.to_numeric(clean[filled], errors="coerce").astype(float)
    return out


def _check_header(text: str, delim: str, p: Path) -> None:
    """Refuse a CSV whose header names a column twice (pandas would rename it ``name.1``)."""
    try:
        header = next(csv.reader(_io.StringIO(text[:65536]), delimiter=delim))
    except (StopIteration, csv.Error):
        return
    seen: dict[str, int] = {}
    for i, name in enumerate(header, start=1):
        key = name.strip()
        if key in seen and key:
            raise LayerError(
                f"{str(p)!r}: die Spalte {key!r} kommt in der Kopfzeile zweimal vor (Spalte "
                f"{seen[key]} und {i}); benennen Sie eine um oder löschen Sie sie."
            )
        seen[key] = i


def read_csv_table(path: str | os.PathLike, *, text_columns: tuple[str, ...] | list[str] = ()
                   ) -> pd.DataFrame:
    """Read a CSV table in UTF-8 or Latin-1/cp1252, comma or semicolon separated.

    Semicolon files are German (Excel): numbers with a decimal comma and thousands points
    are read as such (``"1.234"`` is 1234, ``"362.015,25"`` is 362015.25), see
    :func:`parse_german_numbers` for the rule and the ambiguous case that is refused. A header
    naming a column twice is refused. Columns in ``text_columns`` are read as text (codes such
    as ``"01100101"`` keep their leading zero).
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise LayerError(f"cannot read {str(p)!r}: {exc.strerror}. Check the path.") from None
    if not raw.strip():
        raise LayerError(f"{str(p)!r} is empty (0 bytes of data). Export the table again.")
    if b"\x00" in raw[:65536]:
        raise LayerError(
            f"{str(p)!r} is not a text table (it holds binary data). Export it as CSV "
            f"(UTF-8 or Latin-1, separated by ';' or ',')."
        )
    text, delim, decimal = _sniff_csv(raw)
    _check_header(text, delim, p)
    german = decimal == ","
    try:
        if german:  # numbers parsed by our own rule (thousands points, decimal comma)
            df = pd.read_csv(_io.StringIO(text), sep=delim, dtype=str)
        else:
            df = pd.read_csv(_io.StringIO(text), sep=delim, decimal=decimal, thousands=None,
                             dtype={c: str for c in text_columns} or None)
    except (pd.errors.ParserError, ValueError, csv.Error, UnicodeError, OverflowError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise LayerError(
            f"cannot parse CSV {str(p)!r}: {first}. Check the delimiter (';' or ',') and that "
            f"every line has as many fields as the header."
        ) from None
    df.attrs[SOURCE_ATTR] = {"path": str(p), "header_lines": 1, "decimal": decimal}
    if german:
        for col in df.columns:
            if col in text_columns:
                continue
            if df[col].isna().all():
                df[col] = df[col].astype(float)
                continue
            num = parse_german_numbers(df[col], label=repr(str(p)), column=str(col), frame=df)
            if num is not None:
                df[col] = num
            elif df[col].dropna().str.strip().isin(["True", "False", "TRUE", "FALSE", "true",
                                                    "false"]).all():  # as pandas reads them
                df[col] = df[col].str.strip().str.lower().eq("true").where(df[col].notna())
    register_input(p)
    return df


def _rows_of(df: pd.DataFrame, mask: np.ndarray) -> list[int]:
    return [_row_number(df, int(i)) for i in np.flatnonzero(mask)]


def _row_list(rows: list[int]) -> str:
    shown = ", ".join(map(str, rows[:10]))
    return shown + (f" und {len(rows) - 10} weitere" if len(rows) > 10 else "")


def _drop_rows_without_geometry(df: pd.DataFrame, missing: np.ndarray, path: Path,
                                what: str) -> pd.DataFrame:
    """Leave out the rows without coordinates (warning with their row numbers)."""
    if not missing.any():
        return df
    if missing.all():
        raise LayerError(
            f"{str(path)!r}: keine Zeile hat {what}; tragen Sie die Koordinaten ein "
            f"(Spalten x/y, lon/lat oder wkt)."
        )
    rows = _rows_of(df, missing)
    warnings.warn(
        f"{str(path)!r}: {len(rows)} Zeile(n) ohne {what} ausgelassen (Zeile "
        f"{_row_list(rows)}); tragen Sie sie nach, damit diese Objekte mitzählen.",
        UserWarning, stacklevel=4,
    )
    keep = ~missing
    numbers = _rows_of(df, keep)
    out = df[keep]
    out.attrs = {**df.attrs, SOURCE_ATTR: {**df.attrs.get(SOURCE_ATTR, {}), "rows": numbers}}
    return out


def _csv_to_gdf(df: pd.DataFrame, path: Path, crs: str | None) -> gpd.GeoDataFrame:
    """Build the points (or WKT geometries) of a CSV table.

    Rows with no coordinates at all (both empty, or an empty ``wkt``) are left out with a
    warning naming their rows; a row with only one of the two coordinates, or with text or
    an infinite number in a coordinate, is refused with its row.
    """
    cols = {str(c).lower().strip(): c for c in df.columns}
    if crs is None and ("epsg" in cols or "crs" in cols):
        codes = df[cols.get("epsg") or cols["crs"]].dropna().astype(str).str.strip().unique()
        if len(codes) != 1:
            raise CRSError(
                f"{str(path)!r}: column {cols.get('epsg') or cols['crs']!r} must hold one CRS "
                f"code for all rows (e.g. 25832), found {len(codes)}."
            )
        code = codes[0].removesuffix(".0")
        crs = f"EPSG:{code}" if code.isdigit() else code
    if "wkt" in cols or "geometry" in cols:
        col = cols.get("wkt") or cols["geometry"]
        text = df[col].astype("string").str.strip()
        empty = (text.isna() | (text == "")).to_numpy()
        df = _drop_rows_without_geometry(df, empty, path, "Geometrie (leere Spalte "
                                                          f"{str(col)!r})")
        try:
            geom = gpd.GeoSeries.from_wkt(df[col].astype("string").astype(object), index=df.index)
        except (shapely.errors.GEOSException, TypeError, ValueError) as exc:
            first = (str(exc).splitlines() or [""])[0][:120]
            raise LayerError(
                f"{str(path)!r}: column {col!r} is not valid WKT ({first}); write geometries "
                f"like 'POINT (362000 5701000)'."
            ) from None
        out = gpd.GeoDataFrame(df.drop(columns=[col]), geometry=geom, crs=crs)
        out.attrs = df.attrs
        return out
    xcol = next((cols[n] for n in _X_NAMES if n in cols), None)
    ycol = next((cols[n] for n in _Y_NAMES if n in cols), None)
    if xcol is None or ycol is None:
        raise LayerError(
            f"{str(path)!r} has no coordinate columns; name them x/y, lon/lat or add a 'wkt' "
            f"column. Columns found: {', '.join(map(str, df.columns))}."
        )
    for c in (xcol, ycol):
        if not pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]):
            raw = df[c].astype("string").str.strip()
            converted = pd.to_numeric(raw.str.replace(",", ".", regex=False), errors="coerce")
            bad = converted.isna() & raw.notna() & (raw != "")
            if bad.any():
                row = _row_text(df, int(np.flatnonzero(bad.to_numpy())[0]))
                raise LayerError(
                    f"{str(path)!r} {row}: coordinate column {c!r} holds "
                    f"{df[c][bad].iloc[0]!r}, not a number. Fix or remove that row."
                )
            df = df.assign(**{c: converted.astype(float)})
    x, y = df[xcol].to_numpy(dtype=float), df[ycol].to_numpy(dtype=float)
    half = np.isnan(x) ^ np.isnan(y)
    if half.any():
        pos = int(np.flatnonzero(half)[0])
        have, lack = (xcol, ycol) if np.isnan(y[pos]) else (ycol, xcol)
        raise LayerError(
            f"{str(path)!r} Zeile {_row_number(df, pos)}: nur eine Koordinate ({str(have)!r} = "
            f"{df[have].iloc[pos]:g}), {str(lack)!r} ist leer. Tragen Sie beide ein, oder lassen "
            f"Sie beide leer (die Zeile wird dann ausgelassen)."
        )
    inf = np.isinf(x) | np.isinf(y)
    if inf.any():
        pos = int(np.flatnonzero(inf)[0])
        raise LayerError(
            f"{str(path)!r} Zeile {_row_number(df, pos)}: eine Koordinate ist unendlich groß; "
            f"korrigieren Sie den Wert."
        )
    df = _drop_rows_without_geometry(df, np.isnan(x) & np.isnan(y), path, "Koordinaten")
    if crs is None and xcol.lower() in ("lon", "lng", "longitude", "laenge"):
        crs = "EPSG:4326"
    try:
        geom = gpd.points_from_xy(df[xcol], df[ycol])
        out = gpd.GeoDataFrame(df, geometry=geom, crs=crs)
    except Exception as exc:  # pyproj raises its own CRSError for an unknown crs=
        raise CRSError(
            f"{str(path)!r}: cannot use the CRS {crs!r} ({str(exc).splitlines()[0][:120]}). "
            f"Give an EPSG code such as 'EPSG:25832'."
        ) from None
    out.attrs = df.attrs
    return out


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
    if p.is_dir():
        raise LayerError(f"{str(p)!r} is a folder, not a layer file. Name the file inside it.")
    if p.stat().st_size == 0:
        raise LayerError(f"{str(p)!r} is empty (0 bytes). Export the layer again.")
    suffix = p.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LayerError(
            f"{str(p)!r}: unsupported file type {suffix!r}; use one of "
            f"{', '.join(SUPPORTED_SUFFIXES)}."
        )
    try:
        gdf = _read_any(p, suffix, layer=layer, crs=crs)
    except GISPlanningError:
        raise
    except Exception as exc:  # GDAL, pyarrow, pyproj and pandas raise many types
        log.debug("reading %s failed", p, exc_info=True)
        msg = (str(exc).splitlines() or [""])[0][:200] or type(exc).__name__
        raise LayerError(
            f"cannot read {str(p)!r} as a layer ({msg}). The file may be truncated or not "
            f"a {suffix[1:]} file; export it again."
        ) from None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf:
        raise LayerError(f"{str(p)!r} holds a table without geometries; use a spatial layer.")
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
                f"shapefile {str(p)!r} lacks its {' and '.join(missing)} file; copy all files "
                f"of the shapefile (.shp, .shx, .dbf, .prj) together."
            )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if suffix == ".gpkg" and layer is None:
            import pyogrio

            names = [str(n) for n in pyogrio.list_layers(p)[:, 0]]
            if len(names) > 1:
                raise LayerError(
                    f"{str(p)!r} holds {len(names)} layers ({', '.join(names[:8])}); name the "
                    f"one to read (layer=..., or check it with `gis-planning check {p.name}`)."
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


def _row_text(gdf: pd.DataFrame, pos: int) -> str:
    """Return how a user finds record ``pos`` (0-based): 'row N' as a spreadsheet counts it.

    For CSV files the header is row 1, so the first record is row 2. Rows left out on reading
    (no coordinates) keep the numbering of the file.
    """
    return f"row {_row_number(gdf, pos)}"


def _row_number(gdf: pd.DataFrame, pos: int) -> int:
    """The row number of record ``pos`` as a spreadsheet counts it (see :func:`_row_text`)."""
    src = getattr(gdf, "attrs", {}).get(SOURCE_ATTR) or {}
    rows = src.get("rows")
    if rows is not None and 0 <= pos < len(rows) and len(rows) == len(gdf):
        return int(rows[pos])
    return pos + 1 + int(src.get("header_lines") or 0)


def check_crs_plausible(gdf: gpd.GeoDataFrame, *, name: str = "layer") -> None:
    """Raise :class:`CRSError` if ``gdf`` has no CRS or coordinates that do not fit its CRS.

    Catches the common mix-ups: no CRS at all, EPSG:4326 declared on metre coordinates,
    latitude/longitude swapped, and data far outside Germany.
    """
    if gdf.crs is None:
        src = str((getattr(gdf, "attrs", {}).get(SOURCE_ATTR) or {}).get("path", "")).lower()
        if src.endswith(".shp"):
            fix = ("The shapefile has no .prj file: copy it next to the .shp, or set the CRS "
                   "in QGIS (Layer > Set CRS, e.g. EPSG:25832) and export again.")
        elif src.endswith(".csv"):
            fix = ("A CSV carries no CRS: name the coordinate columns lon/lat (degrees, WGS84) "
                   "or add a column 'epsg' with the code, e.g. 25832 for UTM 32N metres.")
        else:
            fix = ("Set it when loading, e.g. `gdf.set_crs('EPSG:25832')` for UTM 32N metres "
                   "or 'EPSG:4326' for lon/lat.")
        raise CRSError(f"{name} has no CRS. {fix}")
    geoms = gdf.geometry[~gdf.geometry.is_empty & gdf.geometry.notna()]
    if geoms.empty:
        return
    arr = gdf.geometry.values
    with np.errstate(all="ignore"):
        minx, miny, maxx, maxy = geoms.total_bounds
        per = shapely.bounds(arr)  # total_bounds skips NaN: look at every geometry
    bad = ~(shapely.is_missing(arr) | shapely.is_empty(arr)) & ~np.isfinite(per).all(axis=1)
    if bad.any() or not np.isfinite([minx, miny, maxx, maxy]).all():
        rows = _rows_of(gdf, bad)
        raise CRSError(
            f"{name} has coordinates that are not numbers (NaN or infinite) in Zeile "
            f"{_row_list(rows)}. Remove or fix those features."
        )
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
        try:
            with np.errstate(all="ignore"):
                lonlat = geoms.to_crs("EPSG:4326").total_bounds
        except Exception as exc:  # pyproj: a CRS without a transformation to WGS84
            raise CRSError(
                f"{name}: its CRS {gdf.crs.to_string()} cannot be transformed to WGS84 "
                f"({str(exc).splitlines()[0][:120]}). Declare an EPSG CRS such as EPSG:25832."
            ) from None
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
    "id": lambda s: False,  # always normalised by _coerce_id
}


def validate_layer(
    gdf: gpd.GeoDataFrame,
    schema: LayerSchema,
    *,
    name: str | None = None,
    stadtteil_names: list[str] | None = None,
    repair: bool = True,
    stadtteil_aliases: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Check ``gdf`` against ``schema`` and return a validated copy.

    Checks, in order: at least one feature; CRS present and plausible; geometry type;
    invalid geometries (repaired with ``make_valid`` and a warning that says how many, if
    ``repair``); required columns and their types (numeric text such as ``"7,1"`` or
    ``"7,1 %"`` is converted; text, fractions in whole-number columns and negative counts
    raise); unique ids; Stadtteil names against ``stadtteil_names`` when the schema asks for
    it (unknown names raise with close matches; spelling variants, known old names
    ``stadtteil_aliases`` and clear typos are replaced by the official name with a warning).

    Every message names the layer (``name``, e.g. the file), the row (as a spreadsheet
    counts it: for CSV files the header is row 1) or the column, and the fix.

    Raises
    ------
    LayerError, CRSError, GeometryError, SchemaError, NameMatchError
    """
    label = name or schema.name
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise LayerError(f"{label} is not a layer with geometries; read it with read_file().")
    if len(gdf) == 0:
        raise LayerError(
            f"{label} has no features. Check the file or the filter used to export it."
        )
    check_crs_plausible(gdf, name=label)
    out = gdf.copy()
    missing_geom = out.geometry.isna() | out.geometry.is_empty
    if missing_geom.any():
        first = _row_text(out, int(np.flatnonzero(missing_geom.to_numpy())[0]))
        raise GeometryError(
            f"{label}: {int(missing_geom.sum())} feature(s) have no geometry (first at "
            f"{first}). Remove or fix them."
        )
    if schema.geometry_type is not None:
        allowed = {schema.geometry_type, f"Multi{schema.geometry_type}"}
        gtypes = out.geom_type
        wrong = ~gtypes.isin(list(allowed))
        if wrong.any():
            pos = int(np.flatnonzero(wrong.to_numpy())[0])
            raise GeometryError(
                f"{label} must hold {schema.geometry_type} geometries but holds "
                f"{', '.join(sorted(set(gtypes)))} (first {gtypes.iloc[pos]} at "
                f"{_row_text(out, pos)}). Split the layer by geometry type or convert it."
            )
    invalid = ~out.geometry.is_valid
    if invalid.any():
        first = _row_text(out, int(np.flatnonzero(invalid.to_numpy())[0]))
        if not repair:
            raise GeometryError(
                f"{label}: {int(invalid.sum())} invalid geometries (e.g. self-intersections; "
                f"first at {first}). Repair them with `make_valid()` or load with repair=True."
            )
        fixed = out.geometry[invalid].make_valid()
        if schema.geometry_type == "Polygon":
            fixed = fixed.apply(_polygonal_part)
        out.loc[invalid, out.geometry.name] = fixed
        warnings.warn(
            f"{label}: repaired {int(invalid.sum())} invalid geometr"
            f"{'y' if invalid.sum() == 1 else 'ies'} with make_valid (self-intersections; "
            f"first at {first}). Check the repaired shapes.",
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
        out[col] = _coerce(out[col], kind, label=label, column=col, frame=out)
    _check_required_values(out, schema, label=label)
    if schema.id_column and schema.id_column in out.columns:
        dup = out[schema.id_column].duplicated(keep=False)
        if dup.any():
            pos = np.flatnonzero(dup.to_numpy())
            vals = out[schema.id_column].iloc[pos].unique()[:3]
            raise SchemaError(
                f"{label}: id column {schema.id_column!r} has duplicates "
                f"({', '.join(map(str, vals))}; {_row_text(out, int(pos[0]))} and "
                f"{_row_text(out, int(pos[1]))}). Ids must be unique: renumber or remove "
                f"the double rows."
            )
    if schema.geometry_type == "Polygon" and "stadtteil" in out.columns:
        _check_unique_names(out, "stadtteil", label=label, id_column=schema.id_column)
    if schema.geometry_type == "Polygon" and schema.id_column in PARTITION_IDS:
        _check_overlaps(out, schema, label=label)
    if stadtteil_names is not None and "stadtteil" in out.columns and schema.check_stadtteil:
        out["stadtteil"] = _check_names(out["stadtteil"], stadtteil_names, label=label,
                                        aliases=stadtteil_aliases, frame=out)
    return out


#: Id columns of area layers that partition the city (Stadtteile, Bezirke): their polygons
#: must not overlap, or points there would be counted twice. (JobCenter areas overlap on
#: purpose: a Stadtteil can belong to two.)
PARTITION_IDS = ("stadtteil_nr", "bezirk")

#: Overlaps up to this area (m², or this share of the smaller polygon) are digitising slivers:
#: a warning. Larger ones are refused.
OVERLAP_SLIVER_M2 = 100.0
OVERLAP_SLIVER_SHARE = 0.001


def _empty(series: pd.Series) -> np.ndarray:
    text = series.astype("string").str.strip()
    return (series.isna() | (text == "").fillna(False)).to_numpy(dtype=bool)


def _check_required_values(out: pd.DataFrame, schema: LayerSchema, *, label: str) -> None:
    """Refuse empty ids and empty values in required text columns (``name``), with the row."""
    cols = []
    if schema.id_column and schema.id_column in out.columns:
        cols.append((schema.id_column, "die Kennung"))
    cols += [(c, "der Pflichtwert") for c in schema.required_columns
             if schema.columns.get(c) == "str" and c in out.columns and c != schema.id_column]
    for col, what in cols:
        empty = _empty(out[col])
        if empty.any():
            rows = _rows_of(out, empty)
            raise SchemaError(
                f"{label} Zeile {_row_list(rows)}: {what} in Spalte {col!r} fehlt "
                f"({len(rows)} Zeile(n)); jede Zeile braucht einen Wert. Tragen Sie ihn nach oder "
                f"löschen Sie die Zeile."
            )


def _check_unique_names(out: pd.DataFrame, column: str, *, label: str,
                        id_column: str | None = None) -> None:
    """Area names that repeat: refused without unique ids, flagged when ids keep them apart.

    Without a unique id two areas called alike would be merged in every table; with one
    (Berlin has two Planungsräume "Schloßstraße") tables join on the id, and only a user's
    file that names its areas instead of numbering them would be ambiguous.
    """
    names = out[column].astype("string").str.strip()
    dup = names.duplicated(keep=False).fillna(False).to_numpy(dtype=bool) & ~_empty(out[column])
    if dup.any():
        first = names[dup].iloc[0]
        rows = _rows_of(out, (names == first).fillna(False).to_numpy(dtype=bool))
        ids_ok = (id_column is not None and id_column in out.columns
                  and not out[id_column].duplicated().any() and not _empty(out[id_column]).any())
        text = (f"{label}: der Name {first!r} in Spalte {column!r} kommt {len(rows)}-mal vor "
                f"(Zeile {_row_list(rows)})")
        if ids_ok:
            warnings.warn(f"{text}; die Flächen sind über {id_column!r} eindeutig, Dateien "
                          f"mit Namen statt Nummern wären hier mehrdeutig.", UserWarning,
                          stacklevel=3)
            return
        raise SchemaError(
            f"{text}; jede Fläche braucht einen eigenen Namen oder eine eindeutige Nummer, "
            f"sonst werden ihre Zahlen vermischt. Benennen Sie sie eindeutig oder legen Sie sie "
            f"zusammen."
        )


def _check_overlaps(out: gpd.GeoDataFrame, schema: LayerSchema, *, label: str) -> None:
    """Refuse overlapping areas of a partition (points would be counted twice).

    Overlaps of at most :data:`OVERLAP_SLIVER_M2` m² or :data:`OVERLAP_SLIVER_SHARE` of the
    smaller polygon are slivers from digitising: a warning. Areas are measured in metres
    (geographic layers in EPSG:25832).
    """
    from ..labels import fmt_number

    g = out.geometry
    if g.crs is not None and g.crs.is_geographic:
        g = g.to_crs("EPSG:25832")
    geoms = g.values
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    if not len(i):
        return
    area = shapely.area(shapely.intersection(geoms[i], geoms[j]))
    smaller = np.minimum(shapely.area(geoms[i]), shapely.area(geoms[j]))
    big = area > np.maximum(OVERLAP_SLIVER_M2, OVERLAP_SLIVER_SHARE * smaller)
    names = out["stadtteil"] if "stadtteil" in out.columns else out[schema.id_column]

    def who(k: int) -> str:
        return f"{names.iloc[k]!r} (Zeile {_row_number(out, k)})"

    if big.any():
        k = int(np.flatnonzero(big)[np.argmax(area[big])])
        raise GeometryError(
            f"{label}: die Flächen {who(int(i[k]))} und {who(int(j[k]))} überlappen sich auf "
            f"{fmt_number(area[k], 0)} m²; Punkte dort würden doppelt gezählt "
            f"({int(big.sum())} solche Überlappung(en)). Bereinigen Sie die Grenzen (in QGIS: "
            f"Vektor > Geometrie-Werkzeuge > Geometrien prüfen)."
        )
    sliver = area > 1.0
    if sliver.any():
        k = int(np.flatnonzero(sliver)[0])
        warnings.warn(
            f"{label}: {int(sliver.sum())} kleine Überlappung(en) von Flächen (zusammen "
            f"{fmt_number(area[sliver].sum(), 0)} m², z. B. {who(int(i[k]))} und "
            f"{who(int(j[k]))}); Punkte genau dort würden doppelt gezählt.",
            UserWarning, stacklevel=3,
        )


def _polygonal_part(geom):
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [
        g for g in getattr(geom, "geoms", [geom]) if g.geom_type in ("Polygon", "MultiPolygon")
    ]
    return shapely.union_all(parts) if parts else geom


def is_count_column(column: str) -> bool:
    """Return whether ``column`` holds counts (must not be negative): ``*anzahl``, ``n_*``..."""
    c = str(column).lower()
    return c.endswith(("anzahl", "einwohner")) or c.startswith(("n_", "anzahl"))


def _coerce(
    series: pd.Series,
    kind: str,
    *,
    label: str,
    column: str,
    frame: pd.DataFrame | None = None,
) -> pd.Series:
    frame = series.to_frame() if frame is None else frame
    if kind == "id":
        return _coerce_id(series, label=label, column=column, frame=frame)

    def where(mask: pd.Series) -> tuple[int, object]:
        pos = int(np.flatnonzero(mask.to_numpy())[0])
        val = series.iloc[pos]
        return pos, val.item() if isinstance(val, np.generic) else val

    check = _KINDS[kind]
    is_count = is_count_column(column)
    if kind == "int":
        _check_int_range(series, label=label, column=column, frame=frame)
    if check(series) and not (kind in ("int", "float") and pd.api.types.is_bool_dtype(series)):
        if kind in ("int", "float") and is_count and (series < 0).any():
            pos, val = where(series < 0)
            raise SchemaError(
                f"{label} {_row_text(frame, pos)}: column {column!r} has the negative count "
                f"{val!r}. Counts must be 0 or more; correct the value."
            )
        if kind == "str":
            odd = series.notna() & ~series.map(lambda v: isinstance(v, str))
            if odd.any():
                return series.where(~odd, series[odd].map(str))
        return series
    if kind in ("int", "float"):
        text = series.astype("string").str.strip()
        percent = text.str.endswith("%").fillna(False)
        text = text.str.replace("%", "", regex=False).str.replace(" ", "", regex=False)
        text = text.str.replace("\u00a0", "", regex=False)
        src = getattr(frame, "attrs", {}).get(SOURCE_ATTR) or {}
        german = src.get("decimal") == "," and parse_german_numbers(
            text, label=label, column=column, frame=frame) is not None
        if german:  # a German file: the point separates thousands ("1.234" is 1234)
            text = text.str.replace(".", "", regex=False)
        else:
            text = text.str.replace(".", "", regex=False).where(text.str.contains(","), text)
        text = text.str.replace(",", ".", regex=False)
        num = pd.to_numeric(text, errors="coerce")
        bad = num.isna() & series.notna() & (series.astype("string").str.strip() != "")
        if bad.any():
            pos, val = where(bad)
            raise SchemaError(
                f"{label} {_row_text(frame, pos)}: column {column!r} must be numeric but holds "
                f"{val!r}. Write numbers only (decimal comma is fine)."
            )
        if is_count and (num < 0).any():
            pos, val = where((num < 0).fillna(False))
            raise SchemaError(
                f"{label} {_row_text(frame, pos)}: column {column!r} has the negative count "
                f"{val!r}. Counts must be 0 or more; correct the value."
            )
        if kind == "int":
            frac = (num % 1 != 0) & num.notna()
            if frac.any():
                pos, val = where(frac.fillna(False))
                hint = (
                    " It looks like a percentage; counts belong here, shares in a "
                    "'*_prozent' column." if bool(percent.iloc[pos]) else ""
                )
                raise SchemaError(
                    f"{label} {_row_text(frame, pos)}: column {column!r} must hold whole "
                    f"numbers but holds {val!r}.{hint} Correct the value."
                )
            return num.astype("Int64")
        return num.astype(float)
    if kind == "bool":
        mapping = {"true": True, "false": False, "1": True, "0": False, "ja": True, "nein": False,
                   "wahr": True, "falsch": False, "1.0": True, "0.0": False}
        mapped = series.astype(str).str.strip().str.lower().map(mapping)
        if mapped.isna().any():
            pos, val = where(mapped.isna())
            raise SchemaError(
                f"{label} {_row_text(frame, pos)}: column {column!r} must be true/false "
                f"(ja/nein) but holds {val!r}. Correct the value."
            )
        return mapped.astype(bool)
    return series.where(series.isna(), series.map(str))


def _coerce_id(series: pd.Series, *, label: str, column: str, frame: pd.DataFrame
               ) -> pd.Series:
    """Return an id column as whole numbers (int64) or as text, never changing a code.

    Whole numbers stay numbers (floats without fraction become int64); text stays text, so a
    code such as ``"01100101"`` keeps its leading zero.
    """
    if pd.api.types.is_bool_dtype(series):
        raise SchemaError(f"{label}: Spalte {column!r} ist ein Schlüssel, enthält aber "
                          f"wahr/falsch-Werte; geben Sie Nummern oder Codes an.")
    if not pd.api.types.is_string_dtype(series) or series.map(
            lambda v: isinstance(v, int | float) and not isinstance(v, bool)).any():
        _check_int_range(series, label=label, column=column, frame=frame)
    if pd.api.types.is_integer_dtype(series):
        return series
    if pd.api.types.is_float_dtype(series):
        whole = series.dropna() % 1 == 0
        if whole.all() and series.notna().all():
            return series.astype("int64")
        return series
    text = series.map(lambda v: v if pd.isna(v) else str(v).strip())
    return text
#: Largest whole number an id column can hold (int64), and the largest a decimal number
#: (float, as GeoJSON and GeoPackage REAL fields carry them) holds exactly.
_INT_MAX = 2**63 - 1
_FLOAT_EXACT = 2**53


def _check_int_range(series: pd.Series, *, label: str, column: str,
                     frame: pd.DataFrame) -> None:
    """Refuse whole numbers outside int64 (10^23 would wrap to -2^63) or beyond float precision."""
    if pd.api.types.is_integer_dtype(series) or pd.api.types.is_bool_dtype(series):
        return
    if pd.api.types.is_float_dtype(series):
        big = (series.abs() > _FLOAT_EXACT).fillna(False).to_numpy()
        limit = "2^53 (größer sind Dezimalzahlen nicht mehr exakt)"
    else:
        def too_big(v: object) -> bool:
            try:
                return abs(int(str(v).strip().replace(".", "") if isinstance(v, str)
                               else int(v))) > _INT_MAX
            except (TypeError, ValueError, OverflowError):
                try:
                    return abs(float(str(v).replace(",", "."))) > _INT_MAX
                except (TypeError, ValueError):
                    return False

        big = series.map(lambda v: False if v is None or v is pd.NA or v != v
                         else too_big(v)).to_numpy(dtype=bool)
        limit = "9.223.372.036.854.775.807 (2^63 - 1)"
    if big.any():
        pos = int(np.flatnonzero(big)[0])
        val = series.iloc[pos]
        val = val.item() if isinstance(val, np.generic) else val
        raise SchemaError(
            f"{label} Zeile {_row_number(frame, pos)}: Spalte {column!r} hält {val!r}, mehr "
            f"als die größte erlaubte ganze Zahl {limit}. Prüfen Sie den Wert (Kennungen dieser "
            f"Länge als kürzere Nummer vergeben)."
        )


def _check_names(
    names: pd.Series,
    reference: list[str],
    *,
    label: str,
    aliases: Mapping[str, str] | None = None,
    frame: pd.DataFrame | None = None,
) -> pd.Series:
    """Return ``names`` with matched variants replaced by the official name; raise on unknown."""
    frame = names.to_frame() if frame is None else frame
    given = names.map(lambda v: v if pd.isna(v) else str(v))
    uniq = list(dict.fromkeys(given.dropna()))
    matches = dict(zip(uniq, match_names(uniq, reference, aliases=aliases), strict=True))
    unknown = [m for m in matches.values() if m.matched is None]
    if unknown:
        m = unknown[0]
        pos = int(np.flatnonzero((given == m.given).fillna(False).to_numpy())[0])
        hint = (
            f" Did you mean {' or '.join(repr(s) for s in m.suggestions)}?"
            if m.suggestions
            else " Use the official names (`gis-planning layers show stadtteile`)."
        )
        more = f" ({len(unknown) - 1} more unknown)" if len(unknown) > 1 else ""
        raise NameMatchError(
            f"{label} {_row_text(frame, pos)}: unknown Stadtteil name {m.given!r} in column "
            f"'stadtteil'{more}.{hint}"
        )
    changed = {g: m.matched for g, m in matches.items() if m.matched != g}
    if changed:
        shown = ", ".join(f"{g!r} -> {t!r}" for g, t in list(changed.items())[:3])
        warnings.warn(
            f"{label}: read {len(changed)} Stadtteil name(s) as the official name ({shown}"
            f"{', ...' if len(changed) > 3 else ''}). Correct the file to silence this.",
            UserWarning,
            stacklevel=3,
        )
        return given.map(lambda v: changed.get(v, v))
    return names


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
    the layer's CRS; CSV gets WKT geometries in WGS84.
    """
    from ..privacy import guard

    guard(gdf, what=f"writing {str(path)!r}")
    p = Path(path)
    fmt = (fmt or p.suffix.lstrip(".")).lower()
    if fmt == "json":
        fmt = "geojson"
    if fmt not in ("geojson", "gpkg", "csv"):
        raise LayerError(f"unknown format {fmt!r}; use geojson, gpkg or csv.")
    suffixes = {"geojson": (".geojson", ".json"), "gpkg": (".gpkg",), "csv": (".csv",)}
    if p.suffix.lower() not in suffixes[fmt]:
        raise LayerError(
            f"output {str(p)!r} does not end in {' or '.join(suffixes[fmt])} but the format is "
            f"{fmt}; name the file accordingly so other programs open it."
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
            out = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
            out["wkt"] = gdf.geometry.to_crs("EPSG:4326").to_wkt(rounding_precision=7)
            out.to_csv(tmp, index=False)
    log.info("wrote %s (%d features)", p, len(gdf))
    return p
