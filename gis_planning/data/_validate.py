"""Validating a layer against its schema: CRS, geometries, columns, values, ids and names.

Split from :mod:`gis_planning.data.io` (which re-exports the public names):
:func:`validate_layer`, :func:`check_crs_plausible` and the coercion of column values
(numbers with decimal comma, whole numbers, ids, true/false).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._errors import CRSError, GeometryError, LayerError, NameMatchError, SchemaError
from .._names import match_names
from ._csv import SOURCE_ATTR, _row_list, _row_number, _row_text, _rows_of, parse_german_numbers

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Mapping

    from .schema import LayerSchema


#: Rough bounds of Germany in EPSG:4326 (lon_min, lat_min, lon_max, lat_max), with a margin.
GERMANY_LONLAT = (5.5, 47.0, 15.5, 55.2)


def check_crs_plausible(gdf: gpd.GeoDataFrame, *, name: str = "Ebene") -> None:
    """Raise :class:`CRSError` if ``gdf`` has no CRS or coordinates that do not fit its CRS.

    Catches the common mix-ups: no CRS at all, EPSG:4326 declared on metre coordinates,
    latitude/longitude swapped, and data far outside Germany.
    """
    from ..labels import fmt_number

    if gdf.crs is None:
        src = str((getattr(gdf, "attrs", {}).get(SOURCE_ATTR) or {}).get("path", "")).lower()
        if src.endswith(".shp"):
            fix = ("Dem Shapefile fehlt die .prj-Datei: legen Sie sie neben die .shp, oder "
                   "setzen Sie das Koordinatensystem in QGIS (Layer > KBS zuweisen, z. B. "
                   "EPSG:25832) und exportieren Sie neu.")
        elif src.endswith(".csv"):
            fix = ("Eine CSV-Datei nennt kein Koordinatensystem: nennen Sie die "
                   "Koordinatenspalten lon/lat (Grad, WGS84) oder ergänzen Sie eine Spalte "
                   "'epsg' mit dem Code, z. B. 25832 für UTM 32N in Metern.")
        else:
            fix = ("Legen Sie es in QGIS fest (Layer > KBS zuweisen), z. B. EPSG:25832 für "
                   "UTM 32N in Metern oder EPSG:4326 für lon/lat, und exportieren Sie neu.")
        raise CRSError(f"{name} hat kein Koordinatensystem. {fix}")
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
            f"{name} hat Koordinaten, die keine Zahlen sind (NaN oder unendlich), in Zeile "
            f"{_row_list(rows)}. Korrigieren oder löschen Sie diese Objekte."
        )
    if gdf.crs.is_geographic:
        if max(abs(minx), abs(maxx)) > 180 or max(abs(miny), abs(maxy)) > 90:
            raise CRSError(
                f"{name} gibt das geographische Koordinatensystem {gdf.crs.to_string()} an, "
                f"hat aber Koordinaten bis ({fmt_number(maxx, 0)}; {fmt_number(maxy, 0)}), "
                f"das sind Meter. Geben Sie das richtige Koordinatensystem an, z. B. "
                f"EPSG:25832 (in QGIS: Layer > KBS zuweisen)."
            )
        lo_x, lo_y, hi_x, hi_y = GERMANY_LONLAT
        inside = lo_x <= minx and maxx <= hi_x and lo_y <= miny and maxy <= hi_y
        swapped = lo_x <= miny and maxy <= hi_x and lo_y <= minx and maxx <= hi_y
        if not inside and swapped:
            raise CRSError(
                f"{name}: Länge und Breite scheinen vertauscht (x von {fmt_number(minx, 2)} "
                f"bis {fmt_number(maxx, 2)} sieht wie eine Breite aus). Tauschen Sie die "
                f"Koordinatenspalten oder Achsen."
            )
        if not inside:
            raise CRSError(
                f"{name}: die Koordinaten ({fmt_number(minx, 2)}; {fmt_number(miny, 2)}) bis "
                f"({fmt_number(maxx, 2)}; {fmt_number(maxy, 2)}) liegen in "
                f"{gdf.crs.to_string()} außerhalb Deutschlands. Prüfen Sie das angegebene "
                f"Koordinatensystem."
            )
    else:
        try:
            with np.errstate(all="ignore"):
                lonlat = geoms.to_crs("EPSG:4326").total_bounds
        except Exception as exc:  # pyproj: a CRS without a transformation to WGS84
            raise CRSError(
                f"{name}: das Koordinatensystem {gdf.crs.to_string()} lässt sich nicht nach "
                f"WGS84 umrechnen ({str(exc).splitlines()[0][:120]}). Geben Sie ein "
                f"EPSG-Koordinatensystem an, z. B. EPSG:25832."
            ) from None
        lo_x, lo_y, hi_x, hi_y = GERMANY_LONLAT
        inside = lo_x <= lonlat[0] and lonlat[2] <= hi_x
        inside = inside and lo_y <= lonlat[1] and lonlat[3] <= hi_y
        if not inside:
            raise CRSError(
                f"{name}: im angegebenen Koordinatensystem {gdf.crs.to_string()} liegen die "
                f"Daten außerhalb Deutschlands. Prüfen Sie es (lon/lat in Grad: EPSG:4326; "
                f"UTM 32N in Metern: EPSG:25832; Gauß-Krüger Zone 2: EPSG:31466)."
            )


_GEOM_TEXT = {"Point": "Punkte", "MultiPoint": "Mehrfachpunkte", "Polygon": "Flächen",
              "MultiPolygon": "Mehrfachflächen", "LineString": "Linien",
              "MultiLineString": "Mehrfachlinien", "GeometryCollection": "Geometriesammlungen"}


def _geom_text(kind: str) -> str:
    """German name of a geometry type (plural), e.g. ``"Polygon"`` -> ``"Flächen (Polygon)"``."""
    return f"{_GEOM_TEXT[kind]} ({kind})" if kind in _GEOM_TEXT else str(kind)


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
        raise LayerError(f"{label} ist keine Ebene mit Geometrien, sondern eine Tabelle; "
                         f"geben Sie eine Geodatei an (GeoJSON, GeoPackage, Shapefile, CSV "
                         f"mit Koordinaten).")
    if len(gdf) == 0:
        raise LayerError(
            f"{label} enthält keine Objekte. Prüfen Sie die Datei oder den Filter, mit dem sie "
            f"exportiert wurde."
        )
    check_crs_plausible(gdf, name=label)
    out = gdf.copy()
    missing_geom = out.geometry.isna() | out.geometry.is_empty
    if missing_geom.any():
        first = _row_text(out, int(np.flatnonzero(missing_geom.to_numpy())[0]))
        raise GeometryError(
            f"{label}: {int(missing_geom.sum())} Objekt(e) ohne Geometrie (erstes in "
            f"{first}). Ergänzen oder löschen Sie sie."
        )
    if schema.geometry_type is not None:
        allowed = {schema.geometry_type, f"Multi{schema.geometry_type}"}
        gtypes = out.geom_type
        wrong = ~gtypes.isin(list(allowed))
        if wrong.any():
            pos = int(np.flatnonzero(wrong.to_numpy())[0])
            raise GeometryError(
                f"{label} muss {_geom_text(schema.geometry_type)} enthalten, enthält aber "
                f"{', '.join(_geom_text(t) for t in sorted(set(gtypes)))} (zuerst in "
                f"{_row_text(out, pos)}: {_geom_text(gtypes.iloc[pos])}). Teilen Sie die Ebene "
                f"nach Geometrietyp auf oder wandeln Sie sie um."
            )
    invalid = ~out.geometry.is_valid
    if invalid.any():
        first = _row_text(out, int(np.flatnonzero(invalid.to_numpy())[0]))
        if not repair:
            raise GeometryError(
                f"{label}: {int(invalid.sum())} ungültige Geometrie(n) (z. B. "
                f"Selbstüberschneidungen; erste in {first}). Reparieren Sie sie (in QGIS: "
                f"Vektor > Geometrie-Werkzeuge > Geometrien reparieren)."
            )
        fixed = out.geometry[invalid].make_valid()
        if schema.geometry_type == "Polygon":
            fixed = fixed.apply(_polygonal_part)
        out.loc[invalid, out.geometry.name] = fixed
        warnings.warn(
            f"{label}: {int(invalid.sum())} ungültige Geometrie(n) repariert "
            f"(Selbstüberschneidungen; erste in {first}). Prüfen Sie die reparierten Formen.",
            UserWarning,
            stacklevel=2,
        )
    missing = [c for c in schema.required_columns if c not in out.columns]
    if missing:
        raise SchemaError(
            f"{label}: Pflichtspalte(n) {', '.join(map(repr, missing))} fehlen; vorhanden "
            f"sind {', '.join(repr(str(c)) for c in out.columns if c != out.geometry.name)}. "
            f"Benennen Sie die Spalten um (Schema: `gis-planning layers show {schema.name}`)."
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
                f"{label}: die Kennungsspalte {schema.id_column!r} hat doppelte Werte "
                f"({', '.join(map(str, vals))}; {_row_text(out, int(pos[0]))} und "
                f"{_row_text(out, int(pos[1]))}). Kennungen müssen eindeutig sein: nummerieren "
                f"Sie neu oder löschen Sie die doppelten Zeilen."
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
                f"{label} {_row_text(frame, pos)}: Spalte {column!r} enthält die negative "
                f"Anzahl {val!r}. Anzahlen sind 0 oder mehr; korrigieren Sie den Wert."
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
                f"{label} {_row_text(frame, pos)}: Spalte {column!r} muss Zahlen enthalten, "
                f"enthält aber {val!r}. Tragen Sie nur Zahlen ein (Dezimalkomma ist erlaubt)."
            )
        if is_count and (num < 0).any():
            pos, val = where((num < 0).fillna(False))
            raise SchemaError(
                f"{label} {_row_text(frame, pos)}: Spalte {column!r} enthält die negative "
                f"Anzahl {val!r}. Anzahlen sind 0 oder mehr; korrigieren Sie den Wert."
            )
        if kind == "int":
            frac = (num % 1 != 0) & num.notna()
            if frac.any():
                pos, val = where(frac.fillna(False))
                hint = (
                    " Das sieht nach einem Anteil in Prozent aus; hier gehören Anzahlen hin, "
                    "Anteile in eine Spalte '*_prozent'." if bool(percent.iloc[pos]) else ""
                )
                raise SchemaError(
                    f"{label} {_row_text(frame, pos)}: Spalte {column!r} muss ganze Zahlen "
                    f"enthalten, enthält aber {val!r}.{hint} Korrigieren Sie den Wert."
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
                f"{label} {_row_text(frame, pos)}: Spalte {column!r} muss ja/nein (oder "
                f"true/false, 1/0) enthalten, enthält aber {val!r}. Korrigieren Sie den Wert."
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
            f" Meinten Sie {' oder '.join(repr(s) for s in m.suggestions)}?"
            if m.suggestions
            else " Verwenden Sie die amtlichen Namen (`gis-planning layers show stadtteile`)."
        )
        more = f" ({len(unknown) - 1} weitere unbekannt)" if len(unknown) > 1 else ""
        raise NameMatchError(
            f"{label} {_row_text(frame, pos)}: unbekannter Stadtteilname {m.given!r} in Spalte "
            f"'stadtteil'{more}.{hint}"
        )
    changed = {g: m.matched for g, m in matches.items() if m.matched != g}
    if changed:
        shown = ", ".join(f"{g!r} -> {t!r}" for g, t in list(changed.items())[:3])
        warnings.warn(
            f"{label}: {len(changed)} Stadtteilname(n) als amtlicher Name gelesen ({shown}"
            f"{', …' if len(changed) > 3 else ''}). Korrigieren Sie die Datei, dann entfällt "
            f"dieser Hinweis.",
            UserWarning,
            stacklevel=3,
        )
        return given.map(lambda v: changed.get(v, v))
    return names
