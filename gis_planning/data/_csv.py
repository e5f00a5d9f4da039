"""CSV tables: encoding and delimiter sniffing, German numbers, coordinates and row numbers.

Split from :mod:`gis_planning.data.io` (which re-exports the public names): reading a CSV
table (:func:`read_csv_table`), the German number rule (:func:`parse_german_numbers`), the
points or WKT geometries of a CSV layer, and how a record's row is named in messages (as a
spreadsheet counts it).
"""

from __future__ import annotations

import csv
import io as _io
import os
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._atomic import register_input
from .._errors import CRSError, LayerError

_X_NAMES = ("x", "lon", "lng", "longitude", "laenge", "rechtswert", "easting")
_Y_NAMES = ("y", "lat", "latitude", "breite", "hochwert", "northing")

#: ``attrs`` key: number of lines before the first record in the source file (CSV header: 1),
#: so that messages can name the line a user sees in an editor.
SOURCE_ATTR = "gis_planning_source"


def os_reason(exc: OSError) -> str:
    """The reason of an operating-system error in German (``strerror`` is English)."""
    if isinstance(exc, FileNotFoundError):
        return "die Datei gibt es nicht"
    if isinstance(exc, IsADirectoryError):
        return "das ist ein Ordner, keine Datei"
    if isinstance(exc, PermissionError):
        return "keine Leseberechtigung"
    return f"Betriebssystemfehler {exc.errno}" if exc.errno else "Lesefehler"


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
        raise LayerError(f"{str(p)!r} lässt sich nicht lesen: {os_reason(exc)}. Prüfen Sie "
                         f"den Pfad.") from None
    if not raw.strip():
        raise LayerError(f"{str(p)!r} ist leer (keine Daten). Exportieren Sie die Tabelle neu.")
    if b"\x00" in raw[:65536]:
        raise LayerError(
            f"{str(p)!r} ist keine Texttabelle (die Datei enthält Binärdaten). Exportieren Sie "
            f"sie als CSV (UTF-8 oder Latin-1, getrennt durch ';' oder ',')."
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
            f"CSV-Datei {str(p)!r} lässt sich nicht lesen: {first}. Prüfen Sie das "
            f"Trennzeichen (';' oder ',') und dass jede Zeile so viele Felder hat wie die "
            f"Kopfzeile."
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
    an infinite number in a coordinate, is refused with its row. A column ``epsg`` (or ``crs``)
    gives the CRS of the coordinates (as :func:`~gis_planning.data.io.write_layer` writes it);
    it is taken as the layer's CRS, not kept as a column.
    """
    cols = {str(c).lower().strip(): c for c in df.columns}
    if crs is None and ("epsg" in cols or "crs" in cols):
        codes = df[cols.get("epsg") or cols["crs"]].dropna().astype(str).str.strip().unique()
        if len(codes) != 1:
            raise CRSError(
                f"{str(path)!r}: Spalte {cols.get('epsg') or cols['crs']!r} muss für alle "
                f"Zeilen denselben Code des Koordinatensystems enthalten (z. B. 25832), "
                f"gefunden: {len(codes)} verschiedene."
            )
        code = codes[0].removesuffix(".0")
        crs = f"EPSG:{code}" if code.isdigit() else code
        attrs = df.attrs  # the CRS column says the file's CRS: it is not data of the layer
        df = df.drop(columns=[cols.get("epsg") or cols["crs"]])
        df.attrs = attrs
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
                f"{str(path)!r}: Spalte {col!r} enthält kein gültiges WKT ({first}); schreiben "
                f"Sie Geometrien wie 'POINT (362000 5701000)'."
            ) from None
        out = gpd.GeoDataFrame(df.drop(columns=[col]), geometry=geom, crs=crs)
        out.attrs = df.attrs
        return out
    xcol = next((cols[n] for n in _X_NAMES if n in cols), None)
    ycol = next((cols[n] for n in _Y_NAMES if n in cols), None)
    if xcol is None or ycol is None:
        raise LayerError(
            f"{str(path)!r} hat keine Koordinatenspalten; nennen Sie sie x/y oder lon/lat, oder "
            f"ergänzen Sie eine Spalte 'wkt'. Vorhandene Spalten: "
            f"{', '.join(map(str, df.columns))}."
        )
    for c in (xcol, ycol):
        if not pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]):
            raw = df[c].astype("string").str.strip()
            converted = pd.to_numeric(raw.str.replace(",", ".", regex=False), errors="coerce")
            bad = converted.isna() & raw.notna() & (raw != "")
            if bad.any():
                row = _row_text(df, int(np.flatnonzero(bad.to_numpy())[0]))
                raise LayerError(
                    f"{str(path)!r} {row}: die Koordinatenspalte {c!r} enthält "
                    f"{df[c][bad].iloc[0]!r}, keine Zahl. Korrigieren oder löschen Sie die "
                    f"Zeile."
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
            f"{str(path)!r}: das Koordinatensystem {crs!r} ist unbekannt "
            f"({str(exc).splitlines()[0][:120]}). Geben Sie einen EPSG-Code an, z. B. "
            f"'EPSG:25832'."
        ) from None
    out.attrs = df.attrs
    return out


def _row_text(gdf: pd.DataFrame, pos: int) -> str:
    """Return how a user finds record ``pos`` (0-based): 'Zeile N' as a spreadsheet counts it.

    For CSV files the header is row 1, so the first record is row 2. Rows left out on reading
    (no coordinates) keep the numbering of the file.
    """
    return f"Zeile {_row_number(gdf, pos)}"


def _row_number(gdf: pd.DataFrame, pos: int) -> int:
    """The row number of record ``pos`` as a spreadsheet counts it (see :func:`_row_text`)."""
    src = getattr(gdf, "attrs", {}).get(SOURCE_ATTR) or {}
    rows = src.get("rows")
    if rows is not None and 0 <= pos < len(rows) and len(rows) == len(gdf):
        return int(rows[pos])
    return pos + 1 + int(src.get("header_lines") or 0)
