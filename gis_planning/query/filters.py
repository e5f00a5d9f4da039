"""Filters without SQL: the small condition language, compiled to SQL with parameters.

:func:`filter_layer` answers "which rows meet this condition, lie in these areas, lie within
so many metres of"; :func:`compile_filter` shows the SQL it runs (validated identifiers, the
values as ``?`` parameters).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from ..labels import fmt_number
from .engine import (
    QueryError,
    _catalog,
    _ident,
    _is_points,
    _run,
    _sql_string,
    _table_names,
    query_frames,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..data.catalog import Catalog

__all__ = ["FRAME_TABLE", "compile_filter", "filter_layer"]

#: Table name of a frame passed to :func:`filter_layer` (instead of a layer name).
FRAME_TABLE = "eingabe"

#: Polygon tables tried first when ``within`` names no table (then the pack's unit tables).
_AREA_ORDER = ("stadtteile", "stadtbezirke", "jobcenter")

_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9,
          "X": 10}

_MAX_NEAR_M = 100_000.0


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>-?\d+(?:\.\d+)?)
  | (?P<str>'(?:[^']|'')*')
  | (?P<op><=|>=|<>|!=|=|<|>)
  | (?P<punct>[(),])
  | (?P<word>[^\W\d][\w]*)
  | (?P<qident>"(?:[^"]|"")+")
""", re.X)

_KEYWORDS = {"and", "or", "not", "in", "is", "null", "like", "ilike", "true", "false",
             "between"}


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str


def _tokenize(text: str, what: str) -> list[_Tok]:
    pos, out = 0, []
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise QueryError(f"{what}: {text[pos:pos + 15]!r} in {text!r} ist nicht lesbar; "
                             "schreiben Sie Bedingungen wie anteil > 5 oder "
                             "schulform = 'Grundschule'.")
        pos = m.end()
        kind = m.lastgroup
        if kind == "ws":
            continue
        value = m.group()
        if kind == "word" and value.lower() in _KEYWORDS:
            out.append(_Tok("kw", value.lower()))
        elif kind == "qident":
            out.append(_Tok("word", value[1:-1].replace('""', '"')))
        else:
            out.append(_Tok(kind, value))
    return out


class _Condition:
    """Recursive-descent compiler of the small condition language to SQL with parameters.

    Grammar::

        expr   := term (OR term)*
        term   := factor (AND factor)*
        factor := NOT factor | "(" expr ")" | column op value
                | column [NOT] IN "(" value ("," value)* ")" | column IS [NOT] NULL
                | column [NOT] LIKE|ILIKE 'text' | column BETWEEN value AND value
        value  := number | 'text' | TRUE | FALSE
    """

    def __init__(self, text: str, *, alias: str, frame: pd.DataFrame, table: str,
                 what: str) -> None:
        self.tokens = _tokenize(text, what)
        self.pos = 0
        self.alias = alias
        self.frame = frame
        self.table = table
        self.what = what
        self.text = text
        self.params: list[Any] = []
        self.columns: list[str] = []

    # helpers
    def _peek(self, kind: str | None = None, text: str | None = None) -> bool:
        if self.pos >= len(self.tokens):
            return False
        tok = self.tokens[self.pos]
        return (kind is None or tok.kind == kind) and (text is None or tok.text == text)

    def _take(self, kind: str | None = None, text: str | None = None, *,
              expect: str = "") -> _Tok:
        if not self._peek(kind, text):
            got = self.tokens[self.pos].text if self.pos < len(self.tokens) else "Ende"
            raise QueryError(f"{self.what}: erwartet {expect or text or kind}, gefunden "
                             f"{got!r} in {self.text!r}.")
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def compile(self) -> str:
        if not self.tokens:
            raise QueryError(f"{self.what}: leere Bedingung; z. B. bezirk = 'V'.")
        sql = self._expr()
        if self.pos != len(self.tokens):
            raise QueryError(f"{self.what}: unerwartet {self.tokens[self.pos].text!r} in "
                             f"{self.text!r}; verknüpfen Sie Bedingungen mit AND / OR.")
        return sql

    def _expr(self) -> str:
        parts = [self._term()]
        while self._peek("kw", "or"):
            self.pos += 1
            parts.append(self._term())
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def _term(self) -> str:
        parts = [self._factor()]
        while self._peek("kw", "and"):
            self.pos += 1
            parts.append(self._factor())
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def _factor(self) -> str:
        if self._peek("kw", "not"):
            self.pos += 1
            return f"(NOT {self._factor()})"
        if self._peek("punct", "("):
            self.pos += 1
            inner = self._expr()
            self._take("punct", ")", expect="')'")
            return f"({inner})"
        col = self._column()
        ref = f"{self.alias}.{_ident(col)}"
        if self._peek("op"):
            op = self._take("op").text
            op = "<>" if op == "!=" else op
            return f"{ref} {op} {self._value(col)}"
        negate = ""
        if self._peek("kw", "not"):
            self.pos += 1
            negate = "NOT "
        if self._peek("kw", "in"):
            self.pos += 1
            self._take("punct", "(", expect="'(' nach IN")
            values = [self._value(col)]
            while self._peek("punct", ","):
                self.pos += 1
                values.append(self._value(col))
            self._take("punct", ")", expect="')'")
            return f"{ref} {negate}IN ({', '.join(values)})"
        if self._peek("kw", "like") or self._peek("kw", "ilike"):
            op = self._take().text.upper()
            tok = self._take("str", expect="ein 'Text'-Muster")
            self.params.append(tok.text[1:-1].replace("''", "'"))
            return f"CAST({ref} AS VARCHAR) {negate}{op} ?"
        if not negate and self._peek("kw", "between"):
            self.pos += 1
            low = self._value(col)
            self._take("kw", "and", expect="AND")
            high = self._value(col)
            return f"{ref} BETWEEN {low} AND {high}"
        if not negate and self._peek("kw", "is"):
            self.pos += 1
            neg = "NOT " if self._peek("kw", "not") else ""
            if neg:
                self.pos += 1
            self._take("kw", "null", expect="NULL")
            return f"{ref} IS {neg}NULL"
        raise QueryError(f"{self.what}: nach der Spalte {col!r} erwartet =, <, >, IN, LIKE, "
                         f"BETWEEN oder IS NULL in {self.text!r}.")

    def _column(self) -> str:
        tok = self._take("word", expect="einen Spaltennamen")
        cols = [str(c) for c in self.frame.columns]
        by_lower = {c.lower(): c for c in cols}
        if tok.text.lower() not in by_lower:
            from .._names import suggest

            close = suggest(tok.text, cols)
            hint = f" Meinten Sie {' oder '.join(map(repr, close))}?" if close else ""
            raise QueryError(f"{self.what}: Tabelle {self.table!r} hat keine Spalte "
                             f"{tok.text!r}.{hint} Spalten: {', '.join(cols)}.")
        col = by_lower[tok.text.lower()]
        self.columns.append(col)
        return col

    def _value(self, col: str) -> str:
        if self._peek("kw", "true") or self._peek("kw", "false"):
            value: Any = self._take().text == "true"
        elif self._peek("num"):
            text = self._take().text
            value = float(text) if "." in text else int(text)
        elif self._peek("str"):
            value = self._take().text[1:-1].replace("''", "'")
        else:
            got = self.tokens[self.pos].text if self.pos < len(self.tokens) else "Ende"
            raise QueryError(f"{self.what}: nach der Spalte {col!r} erwartet ein Wert (Zahl, "
                             f"'Text', true/false), gefunden {got!r} in {self.text!r}.")
        self.params.append(self._coerce(col, value))
        return "?"

    def _coerce(self, col: str, value: Any) -> Any:
        dtype = self.frame[col].dtype
        if isinstance(dtype, gpd.array.GeometryDtype):
            raise QueryError(f"{self.what}: Spalte {col!r} ist eine Geometrie; nutzen Sie "
                             "--within oder --near.")
        numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        if numeric and isinstance(value, str):
            roman = value.strip().upper()
            if col.lower().startswith("bezirk") and roman in _ROMAN:
                return _ROMAN[roman]
            try:
                return float(value.replace(",", "."))
            except ValueError:
                raise QueryError(
                    f"{self.what}: Spalte {col!r} enthält Zahlen, nicht {value!r}; schreiben "
                    f"Sie eine Zahl (Bezirke auch als I-IX)."
                ) from None
        if pd.api.types.is_bool_dtype(dtype) and isinstance(value, str):
            low = value.strip().lower()
            if low in ("ja", "true", "wahr", "1"):
                return True
            if low in ("nein", "false", "falsch", "0"):
                return False
            raise QueryError(f"{self.what}: Spalte {col!r} ist ja/nein; schreiben Sie true oder "
                             "false.")
        return value


def _split_layer(spec: str, tables: Sequence[str]) -> tuple[str | None, str]:
    """Split ``"layer: condition"`` into its parts when the prefix names a table."""
    m = re.match(r"^\s*([A-Za-z_]\w*)\s*:(?!=)\s*(.*)$", spec, re.S)
    if m and m.group(1) in tables:
        return m.group(1), m.group(2)
    return None, spec


def _has_geometry(frame: pd.DataFrame) -> bool:
    return isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame


def _is_polygonal(frame: pd.DataFrame) -> bool:
    if not _has_geometry(frame):
        return False
    kinds = set(frame.geometry.geom_type.dropna())
    return bool(kinds) and kinds <= {"Polygon", "MultiPolygon"}


def _bare_area(name: str, frames: Mapping[str, pd.DataFrame]) -> tuple[str, str] | None:
    """Find an area called ``name`` (Stadtteil, Bezirk I-IX or name, JobCenter area)."""
    probes = (("stadtteile", "stadtteil"), ("stadtbezirke", "bezirk_roman"),
              ("stadtbezirke", "bezirk_name"), ("jobcenter", "jobcenter"))
    for table, col in probes:
        frame = frames.get(table)
        if frame is not None and col in frame and (frame[col].astype(str) == name).any():
            return table, f"{col} = '{_sql_string(name)}'"
    return None


def _geometry_of(frame: pd.DataFrame) -> str:
    return frame.geometry.name


def compile_filter(
    layer: str,
    frames: Mapping[str, pd.DataFrame],
    *,
    where: str | Sequence[str] = (),
    within: str | Sequence[str] = (),
    near: str | Sequence[str] = (),
    columns: Sequence[str] | None = None,
) -> tuple[str, list[Any]]:
    """Compile a filter to one SQL ``SELECT`` with ``?`` parameters.

    Parameters
    ----------
    layer
        Table to filter (a layer or result name).
    frames
        The query tables (:func:`query_frames`), used to validate names and columns.
    where, within, near, columns
        See :func:`filter_layer`.

    Returns
    -------
    (sql, params)
        The SQL text and its parameter values. The first column ``__zeile`` is the row
        position in ``layer``.
    """
    where, within, near = (_as_list(v) for v in (where, within, near))
    names = list(frames)
    if layer not in frames:
        from .._names import suggest

        close = suggest(layer, names)
        hint = f" Meinten Sie {' oder '.join(map(repr, close))}?" if close else ""
        raise QueryError(f"Ebene: unbekannte Tabelle {layer!r}.{hint} Tabellen: "
                         f"{', '.join(names)}.")
    target = frames[layer]
    conds: list[str] = []
    params: list[Any] = []
    extra_cols: list[str] = []
    extra_params: list[Any] = []
    for text in where:
        comp = _Condition(text, alias="t", frame=target, table=layer, what=f"--where {text!r}")
        conds.append(comp.compile())
        params += comp.params
    if (within or near) and not _has_geometry(target):
        raise QueryError(f"Ebene: Tabelle {layer!r} hat keine Geometrie; --within und --near "
                         "brauchen eine Ebene mit Geometrie (z. B. kitas, schulen, stadtteile).")
    tgeom = f"t.{_ident(_geometry_of(target))}" if _has_geometry(target) else ""
    point = tgeom if _is_points(target) or not _has_geometry(target) else (
        f"ST_PointOnSurface({tgeom})")
    for i, text in enumerate(within):
        what = f"--within {text!r}"
        table, cond = _split_layer(text, names)
        if table is None and not re.search(r"[=<>()]|\b(in|like|ilike|is|between)\b", cond,
                                           re.I):
            found = _bare_area(cond.strip().strip("'"), frames)
            if found is None:
                raise QueryError(f"{what}: kein Stadtteil, Bezirk oder JobCenter-Bereich heißt "
                                 f"{cond.strip()!r}; schreiben Sie eine Bedingung wie "
                                 "bezirk = 'V' oder stadtteile: stadtteil = 'Altendorf'.")
            table, cond = found
        if table is None:
            used = {t.text.lower() for t in _tokenize(cond, what) if t.kind == "word"}
            order = [*_AREA_ORDER, *(t for t in frames if t not in _AREA_ORDER)]
            candidates = [t for t in order if t in frames
                          and _is_polygonal(frames[t]) and t != layer]
            table = next((t for t in candidates
                          if used <= {str(c).lower() for c in frames[t].columns}), None)
            if table is None:
                raise QueryError(f"{what}: keine Gebietstabelle hat alle Spalten "
                                 f"{', '.join(sorted(used))}; nennen Sie eine, z. B. "
                                 f"'TABELLE: spalte > 7'.")
        area = frames[table]
        if not _is_polygonal(area):
            raise QueryError(f"{what}: Tabelle {table!r} enthält keine Flächen; --within braucht "
                             "Gebiete (stadtteile, stadtbezirke, jobcenter, "
                             "stadtteil_statistik).")
        alias = f"a{i}"
        comp = _Condition(cond, alias=alias, frame=area, table=table, what=what)
        area_cond = comp.compile()
        ageom = f"{alias}.{_ident(_geometry_of(area))}"
        conds.append(f"EXISTS (SELECT 1 FROM {_ident(table)} {alias} WHERE {area_cond} "
                     f"AND ST_Intersects({ageom}, {point}))")
        params += comp.params
    for i, text in enumerate(near):
        what = f"--near {text!r}"
        m = re.match(r"^\s*([A-Za-z_]\w*)\s*:\s*(\d+(?:[.,]\d+)?)\s*(?::(.*))?$", text, re.S)
        if m is None:
            raise QueryError(f"{what}: schreiben Sie EBENE:METER oder EBENE:METER:BEDINGUNG, "
                             "z. B. schulen:500 oder "
                             "\"schulen:500:schulform = 'Grundschule'\".")
        table, metres, cond = m.group(1), float(m.group(2).replace(",", ".")), m.group(3)
        if table not in frames or not _has_geometry(frames[table]):
            raise QueryError(f"{what}: keine Tabelle mit Geometrie heißt {table!r}; Tabellen: "
                             f"{', '.join(n for n in names if _has_geometry(frames[n]))}.")
        if not 0 < metres <= _MAX_NEAR_M:
            raise QueryError(f"{what}: der Abstand muss zwischen 0 und "
                             f"{fmt_number(_MAX_NEAR_M, 0)} m liegen.")
        alias, dalias = f"n{i}", f"d{i}"
        ncol = _ident(_geometry_of(frames[table]))
        inner = [f"ST_DWithin({tgeom}, {alias}.{ncol}, ?)"]
        inner_params: list[Any] = [metres]
        dist_conds: list[str] = []
        dist_params: list[Any] = []
        if table == layer:
            inner.append(f"{alias}.rowid <> t.rowid")
            dist_conds.append(f"{dalias}.rowid <> t.rowid")
        if cond and cond.strip():
            for al, sink, sink_params in ((alias, inner, inner_params),
                                          (dalias, dist_conds, dist_params)):
                comp = _Condition(cond, alias=al, frame=frames[table], table=table, what=what)
                sink.append(comp.compile())
                sink_params += comp.params
        conds.append(f"EXISTS (SELECT 1 FROM {_ident(table)} {alias} WHERE "
                     f"{' AND '.join(inner)})")
        params += inner_params
        dist_where = f" WHERE {' AND '.join(dist_conds)}" if dist_conds else ""
        col_name = f"abstand_{table}_m"
        if col_name in extra_cols or col_name in target.columns:
            col_name = f"abstand_{table}_{i + 1}_m"
        extra_cols.append(
            f"(SELECT round(min(ST_Distance({tgeom}, {dalias}.{ncol})), 1) FROM "
            f"{_ident(table)} {dalias}{dist_where}) AS {_ident(col_name)}"
        )
        extra_params += dist_params
    if columns:
        by_lower = {str(c).lower(): str(c) for c in target.columns}
        chosen = []
        for c in columns:
            if c.lower() not in by_lower:
                raise QueryError(f"--columns: Tabelle {layer!r} hat keine Spalte {c!r}; Spalten: "
                                 f"{', '.join(map(str, target.columns))}.")
            chosen.append(by_lower[c.lower()])
        if _has_geometry(target) and _geometry_of(target) not in chosen:
            chosen.append(_geometry_of(target))
        select = ", ".join(f"t.{_ident(c)}" for c in chosen)
    else:
        select = "t.*"
    select = ", ".join(["t.rowid AS __zeile", select, *extra_cols])
    where_sql = f" WHERE {' AND '.join(conds)}" if conds else ""
    sql = f"SELECT {select} FROM {_ident(layer)} t{where_sql} ORDER BY t.rowid"
    return sql, extra_params + params


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [v for v in value if v is not None]


def filter_layer(
    layer: str | pd.DataFrame,
    *,
    where: str | Sequence[str] = (),
    within: str | Sequence[str] = (),
    near: str | Sequence[str] = (),
    columns: Sequence[str] | None = None,
    catalog: Catalog | None = None,
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Return the rows of ``layer`` that meet every condition, without writing SQL.

    Parameters
    ----------
    layer
        A layer or result name (``kitas``, ``schulen``, ``stadtteil_statistik`` ...), or a
        (Geo)DataFrame you loaded or built yourself, e.g. ``catalog.load("kitas")`` or a
        subset of it. A frame is filtered as the table :data:`FRAME_TABLE` (``"eingabe"``):
        ``near``/``within`` name the catalogue's tables as usual, and ``near="eingabe:300"``
        means "near another row of the frame" (distance column ``abstand_eingabe_m``). The
        result keeps the frame's index. A GeoDataFrame needs a CRS (it is reprojected
        to the catalogue's); a frame marked confidential raises
        :class:`~gis_planning._errors.ConfidentialDataError`, as every other way out does.
    where
        Condition(s) on the layer's own columns: ``column op value`` joined with AND / OR /
        NOT and parentheses; ``op`` is ``= != <> < <= > >=``, ``IN (...)``, ``LIKE 'x%'``,
        ``ILIKE``, ``BETWEEN a AND b``, ``IS [NOT] NULL``. Values are numbers, ``'text'`` or
        ``true``/``false``; Bezirke may be written as I-IX (``bezirk = 'V'``).
    within
        Area condition(s): keep features lying in an area that meets the condition. Either
        ``"table: condition"`` (``"jobcenter: jobcenter = 'Nord'"``), a condition whose columns
        pick the first fitting area table among stadtteile, stadtbezirke, jobcenter,
        stadtteil_statistik (``"bezirk = 'V'"``), or a bare area name (``"Altendorf"``,
        ``"V"``, ``"Nord"``).
    near
        ``"table:metres"`` or ``"table:metres:condition"``: keep features within that many
        metres of a feature of ``table`` (meeting the condition). Adds a column
        ``abstand_<table>_m`` with the distance in metres to the nearest such feature.
    columns
        Keep only these columns (plus the geometry); default: all.
    catalog
        Catalogue; default: the shipped Essen catalogue.

    Returns
    -------
    GeoDataFrame or DataFrame
        The matching rows with the layer's index, in the layer's order (EPSG:25832).

    Raises
    ------
    QueryError
        Unknown table or column, a condition that cannot be read, or within/near on a table
        without geometry.

    Notes
    -----
    Points lie in an area when they intersect it (boundary points count for both sides);
    polygons lie in an area when their representative point (``ST_PointOnSurface``) does.
    ``near`` uses ``ST_DWithin`` on EPSG:25832, i.e. straight-line distance in metres; a
    layer near itself ignores each feature's own position.

    Examples
    --------
    >>> from gis_planning.query import filter_layer
    >>> len(filter_layer("kitas", within="bezirk = 'V'"))
    36
    >>> from gis_planning.data.catalog import default_catalog
    >>> kitas = default_catalog().load("kitas")
    >>> len(filter_layer(kitas[kitas["in_betrieb"]], within="bezirk = 'V'"))
    36
    """
    cat = _catalog(catalog)
    where, within, near = (_as_list(v) for v in (where, within, near))
    known = _table_names(cat)
    given = None
    if isinstance(layer, pd.DataFrame):
        given = _given_frame(layer, cat)
        layer = FRAME_TABLE
    elif not isinstance(layer, str):
        raise QueryError(f"Ebene: erwartet wird ein Ebenenname (z. B. 'kitas') oder eine "
                         f"Tabelle mit Geometrie, nicht {type(layer).__name__}.")
    elif layer not in known:
        from .._names import suggest

        close = suggest(layer, known)
        hint = f" Meinten Sie {' oder '.join(map(repr, close))}?" if close else ""
        raise QueryError(f"Ebene: unbekannte Tabelle {layer!r}.{hint} Tabellen: "
                         f"{', '.join(known)}.")
    needed = {layer}
    for spec in near:
        needed.add(spec.split(":", 1)[0].strip())
    for spec in within:
        prefix, _ = _split_layer(spec, [*known, FRAME_TABLE] if given is not None else known)
        needed |= {prefix} if prefix else {*_AREA_ORDER, cat.unit.layer, *(
            n for n in cat.table_names() if cat.table_spec(n).unit)}
    frames = query_frames(cat, names=needed - {FRAME_TABLE} if given is not None else needed)
    if given is not None:
        frames[FRAME_TABLE] = given
    sql, params = compile_filter(layer, frames, where=where, within=within, near=near,
                                 columns=columns)
    out = _run(sql, params, cat, tables=frames.keys(), frames=frames)
    rows = out.pop("__zeile").to_numpy()
    out.index = frames[layer].index[rows]
    return out


def _given_frame(frame: pd.DataFrame, cat: Catalog) -> pd.DataFrame:
    """Check a frame passed to :func:`filter_layer` and bring it to the catalogue's CRS."""
    from .. import privacy

    privacy.guard(frame, what="Filter über eine übergebene Tabelle")
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame:
        if frame.crs is None:
            raise QueryError("Ebene: die übergebene Tabelle hat kein Koordinatensystem (CRS); "
                             f"setzen Sie es, z. B. auf {cat.crs} oder EPSG:4326.")
        if not frame.crs.equals(cat.crs):
            frame = frame.to_crs(cat.crs)
    return frame
