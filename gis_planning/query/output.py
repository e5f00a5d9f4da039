"""Query results for people and files: a readable text table, CSV/GeoJSON/GeoPackage files."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from .engine import TOTAL_ROWS_ATTR, QueryError

__all__ = ["format_result", "write_result"]


def format_result(frame: pd.DataFrame, *, max_rows: int = 50, wkt_width: int = 40) -> str:
    """Return ``frame`` as a readable text table (geometry as shortened WKT).

    Parameters
    ----------
    frame
        A query or filter result.
    max_rows
        Show at most this many rows, then a line with the number left out.
    wkt_width
        Characters of WKT shown per geometry.
    """
    shown = pd.DataFrame(frame.head(max_rows)).copy()
    for col in shown.columns:
        if isinstance(shown[col].dtype, gpd.array.GeometryDtype):
            wkt = gpd.GeoSeries(shown[col]).to_wkt(rounding_precision=1)
            shown[col] = [w if w is None or len(w) <= wkt_width else w[:wkt_width - 1] + "…"
                          for w in wkt]
    if shown.empty:
        total = int(getattr(frame, "attrs", {}).get(TOTAL_ROWS_ATTR, len(frame)))
        text = "(keine Treffer)" if total == 0 else f"({total} Zeilen, keine gezeigt)"
        cols = ", ".join(map(str, frame.columns))
        return f"{text}\nSpalten: {cols}" if cols else text
    ints = {c: _german_int for c in shown.columns
            if pd.api.types.is_integer_dtype(shown[c]) and not pd.api.types.is_bool_dtype(shown[c])}
    body = shown.to_string(index=False, float_format=_german_float, na_rep="–",
                           formatters=ints)
    n = max(len(frame), int(getattr(frame, "attrs", {}).get(TOTAL_ROWS_ATTR, 0)))
    tail = f"\n… {n - max_rows} weitere Zeilen (insgesamt {n})" if n > max_rows else ""
    return f"{body}{tail}\n({n} Zeile{'n' if n != 1 else ''})"


def _german_int(value: object) -> str:
    """Counts of 10.000 and more get a thousands point; smaller numbers (ids, years) not."""
    from ..labels import fmt_number

    if value is None or value is pd.NA:
        return "–"
    return fmt_number(value, 0) if abs(int(value)) >= 10_000 else str(int(value))


def _german_float(value: float) -> str:
    """German number format for result tables: decimal comma, thousands point."""
    from ..labels import fmt_number

    if value == value and float(value).is_integer():
        return fmt_number(value, 0)
    text = fmt_number(value, 3 if abs(value) < 100 else 1)
    return text.rstrip("0").rstrip(",") if "," in text else text


def write_result(frame: pd.DataFrame, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write a query result atomically as CSV, GeoJSON or GeoPackage (by file suffix).

    A GeoDataFrame goes through :func:`gis_planning.data.io.write_layer` (GeoJSON in WGS84, CSV with
    WKT in WGS84); a table without geometry can only be written as CSV.

    Raises
    ------
    QueryError
        A table without geometry and a GeoJSON/GeoPackage file name.
    OutputExistsError
        The file exists and ``overwrite`` is false.
    """
    from .. import privacy
    from .._atomic import atomic_path
    from ..data.io import write_layer

    p = Path(path)
    privacy.guard(frame, what=f"Ausgabe {str(p)!r}")
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame:
        out = frame
        extra = [c for c in out.columns if c != out.geometry.name
                 and isinstance(out[c].dtype, gpd.array.GeometryDtype)]
        if extra:  # files hold one geometry column: the others as WKT
            out = out.copy()
            for c in extra:
                out[c] = gpd.GeoSeries(out[c]).to_wkt()
        return write_layer(out, p, overwrite=overwrite)
    if p.suffix.lower() != ".csv":
        raise QueryError(f"Ausgabe: das Ergebnis hat keine Geometriespalte und kann nur als "
                         f"CSV geschrieben werden; nehmen Sie eine .csv-Datei statt {p.name!r}.")
    with atomic_path(p, overwrite=overwrite) as tmp:
        pd.DataFrame(frame).to_csv(tmp, index=False)
    return p
