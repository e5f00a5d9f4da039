"""Read-only SQL and simple filters over every layer and analysis result.

Every catalogue layer and every result of :func:`gis_planning.results.available` becomes a table
of an in-memory DuckDB database, named like the layer, with its geometry as a ``GEOMETRY``
column in EPSG:25832 (metres). DuckDB's spatial extension is loaded from the installed
``duckdb-extension-spatial`` package (never from the internet), so queries work offline.

:func:`query` runs one ``SELECT`` (or ``WITH ... SELECT``) and returns a GeoDataFrame when the
result has a geometry column, otherwise a DataFrame. :func:`filter_layer` answers the common
questions without SQL: a condition on the layer's columns (``where``), "lies in these areas"
(``within``) and "within so many metres of" (``near``); it compiles them to SQL with validated
identifiers and the values as parameters.

Notes
-----
Read-only in three layers:

1. The statement is split with DuckDB's own parser (:func:`duckdb.extract_statements`):
   exactly one statement of type ``SELECT`` (or ``EXPLAIN`` of one) is accepted, and its
   first keyword must be a reading one (``SELECT``, ``WITH``, ``FROM``, ``VALUES``, ``TABLE``,
   ``DESCRIBE``, ``SUMMARIZE``, ``SHOW``, ``EXPLAIN``); ``PRAGMA``, ``SET``, ``COPY``,
   ``ATTACH``, ``INSTALL``, ``LOAD``, DDL and DML are refused before anything runs.
2. Each call opens a fresh in-memory database holding *copies* of the frames, so even a write
   could not reach a layer file or another query.
3. After loading, the connection runs with ``enable_external_access = false`` (no file,
   ``read_csv``, ``read_text``, ``glob``, ``COPY``, ``ATTACH``, ``INSTALL``) and
   ``lock_configuration = true`` (no ``SET`` can undo it); extension autoloading and
   autoinstalling are off.

Privacy: a confidential layer (the project flats) is never loaded as points. It is registered
only as :func:`gis_planning.privacy.release` over the Stadtteile (counts per Stadtteil,
suppressed below :data:`~gis_planning.privacy.DEFAULT_K`), under the layer's own name. No
query, join, ``ST_X`` or buffer can reach a location that is not in the database. Every other
frame passes :func:`gis_planning.privacy.guard` before registration.

Examples
--------
>>> from gis_planning.query import query, filter_layer
>>> int(query("SELECT count(*) AS n FROM kitas WHERE NOT in_betrieb")["n"].iloc[0])
3
>>> len(filter_layer("kitas", where="in_betrieb = false"))
3
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._errors import InputError
from ._validate import ANALYSIS_CRS

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

    from .data.catalog import Catalog

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "DEFAULT_TIMEOUT_S",
    "MAX_RESULT_ROWS",
    "TOTAL_ROWS_ATTR",
    "QueryError",
    "check_read_only",
    "compile_filter",
    "filter_layer",
    "format_result",
    "query",
    "query_frames",
    "spatial_extension_path",
    "table_columns",
    "write_result",
]

log = logging.getLogger(__name__)

#: First keywords of statements that only read.
_READING_KEYWORDS = ("select", "with", "from", "values", "table", "describe", "summarize",
                     "show", "explain", "(")

#: Polygon tables tried first when ``within`` names no table (then the pack's unit tables).
_AREA_ORDER = ("stadtteile", "stadtbezirke", "jobcenter")

_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9,
          "X": 10}

_MAX_NEAR_M = 100_000.0


class QueryError(InputError):
    """A query or filter cannot run: not read-only, wrong SQL, unknown table or column."""


# --------------------------------------------------------------------------- engine


def spatial_extension_path() -> Path:
    """Return the path of DuckDB's spatial extension file shipped by ``duckdb-extension-spatial``.

    Raises
    ------
    ImportError
        If ``duckdb`` or ``duckdb-extension-spatial`` is missing, or the extension was built for
        another DuckDB version (their versions must be equal).
    """
    try:
        import duckdb
        import duckdb_extension_spatial
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"queries need duckdb and duckdb-extension-spatial ({exc}); install them with "
            "`pip install duckdb duckdb-extension-spatial` (equal versions)."
        ) from None
    base = Path(duckdb_extension_spatial.__file__).resolve().parent / "extensions"
    path = base / f"v{duckdb.__version__}" / "spatial.duckdb_extension"
    if not path.is_file():
        found = sorted(p.parent.name for p in base.glob("v*/spatial.duckdb_extension"))
        raise ImportError(
            f"duckdb-extension-spatial has no extension for duckdb {duckdb.__version__} "
            f"(found: {', '.join(found) or 'none'}); install matching versions, e.g. "
            f"`pip install duckdb-extension-spatial=={duckdb.__version__}`."
        )
    return path


#: Seconds a query may run before it is stopped (CLI: ``--timeout``).
DEFAULT_TIMEOUT_S = 30.0

#: Memory a query may use, in DuckDB's notation (CLI: ``--memory-limit``).
DEFAULT_MEMORY_LIMIT = "2GB"

#: Rows a result returned whole may have; printing reads only the rows it shows.
MAX_RESULT_ROWS = 1_000_000

_MEMORY = re.compile(r"^\s*\d+(?:\.\d+)?\s*(?:KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.I)


def _check_limits(timeout: float, memory_limit: str) -> None:
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not (
            0 < float(timeout) < float("inf")):
        raise QueryError(f"Zeitlimit {timeout!r} ungültig: geben Sie Sekunden größer als 0 an "
                         f"(--timeout, z. B. 60).")
    if not isinstance(memory_limit, str) or not _MEMORY.match(memory_limit):
        raise QueryError(f"Speichergrenze {memory_limit!r} ungültig: schreiben Sie z. B. "
                         f"'500MB' oder '4GB' (--memory-limit).")


def _connect(memory_limit: str = DEFAULT_MEMORY_LIMIT) -> duckdb.DuckDBPyConnection:
    """Open a fresh in-memory database with the spatial extension loaded from the package."""
    import duckdb

    con = duckdb.connect(":memory:", config={
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_community_extensions": False,
        "memory_limit": memory_limit.replace(" ", ""),
    })
    con.execute(f"LOAD '{_sql_string(str(spatial_extension_path()))}'")
    return con


def _lock(con: duckdb.DuckDBPyConnection) -> None:
    """Forbid file access and further configuration changes on ``con``."""
    con.execute("SET temp_directory = ''")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def _sql_string(text: str) -> str:
    return text.replace("'", "''")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text.replace("LINE 1: ", "at: ")


# --------------------------------------------------------------------------- frames


def _is_points(frame: pd.DataFrame) -> bool:
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        return False
    kinds = set(frame.geometry.geom_type.dropna())
    return bool(kinds) and kinds <= {"Point", "MultiPoint"}


def _releasable(name: str, frame: pd.DataFrame, cat: Catalog,
                confidential: bool) -> pd.DataFrame | None:
    """Return the frame as it may be queried, or ``None`` if it cannot be released."""
    from . import privacy

    if confidential and not privacy.is_confidential(frame):
        frame = privacy.mark_confidential(frame.copy(), name)
    if privacy.is_confidential(frame):
        if not _is_points(frame) or cat.unit.layer not in cat.names():
            log.warning("query: confidential table %s left out (no releasable aggregate)", name)
            return None
        frame = privacy.release(frame, cat.load(cat.unit.layer))
        log.info("query: %s registered as suppressed counts per Stadtteil", name)
    privacy.guard(frame, what=f"query table {name!r}")
    return frame


def _table_names(cat: Catalog) -> list[str]:
    from . import results

    names = list(cat.names())
    names += [n for n in results.available(cat) if n not in names]
    return names


def _frame(cat: Catalog, name: str) -> pd.DataFrame | None:
    from . import results

    if name in cat.names():
        frame = cat.load(name)  # a confidential layer comes as released counts
        confidential = False
    else:
        frame = results.compute(cat, name)
        confidential = False
    return _releasable(name, frame, cat, confidential)


def query_frames(catalog: Catalog | None = None, *,
                 names: Iterable[str] | None = None) -> dict[str, pd.DataFrame]:
    """Return the frames a query sees, by table name (confidential layers released).

    Parameters
    ----------
    catalog
        Catalogue to read; default: the shipped Essen catalogue.
    names
        Only these tables (unknown names are ignored); default: every layer and result.

    Returns
    -------
    dict
        Table name -> GeoDataFrame (EPSG:25832) or DataFrame. A confidential point layer
        appears as suppressed counts per Stadtteil; one that cannot be released is left out.
    """
    cat = _catalog(catalog)
    wanted = None if names is None else set(names)
    out: dict[str, pd.DataFrame] = {}
    for name in _table_names(cat):
        if wanted is not None and name not in wanted:
            continue
        frame = _frame(cat, name)
        if frame is not None:
            out[name] = frame
    return out


def table_columns(catalog: Catalog | None = None) -> dict[str, list[str]]:
    """Return table name -> column names of every table a query can use."""
    return {name: list(frame.columns) for name, frame in query_frames(catalog).items()}


def _catalog(catalog: Catalog | None) -> Catalog:
    if catalog is not None:
        return catalog
    from .data import catalog as catalog_mod

    global _DEFAULT_CATALOG
    if _DEFAULT_CATALOG is None:
        _DEFAULT_CATALOG = catalog_mod.default_catalog()
    return _DEFAULT_CATALOG


_DEFAULT_CATALOG: Catalog | None = None


def _register(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame,
              crs: str = ANALYSIS_CRS) -> None:
    """Copy ``frame`` into table ``name``; geometry becomes GEOMETRY in EPSG:25832."""
    geom = None
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame:
        geom = frame.geometry.name
        if frame.crs is not None and not frame.crs.equals(crs):
            frame = frame.to_crs(crs)
    plain = pd.DataFrame({c: frame[c] for c in frame.columns if c != geom})
    for col in [c for c in plain.columns
                if isinstance(frame, gpd.GeoDataFrame) and c in frame
                and isinstance(frame[c].dtype, gpd.array.GeometryDtype)]:
        plain[col] = shapely.to_wkb(np.asarray(frame[col].values))  # extra geometry columns
    if geom is not None:
        plain[geom] = shapely.to_wkb(np.asarray(frame.geometry.values))
    plain = plain.reset_index(drop=True)
    view = f"__src_{name}"
    con.register(view, plain)
    try:
        wkb_cols = [geom] if geom is not None else []
        select = "*"
        if wkb_cols:
            repl = ", ".join(f"ST_GeomFromWKB({_ident(c)}) AS {_ident(c)}" for c in wkb_cols)
            select = f"* REPLACE ({repl})"
        con.execute(f"CREATE TABLE {_ident(name)} AS SELECT {select} FROM {_ident(view)}")
    finally:
        con.unregister(view)


def _referenced(sql: str, known: Sequence[str]) -> list[str] | None:
    """Return the known tables ``sql`` names, or ``None`` when unsure (then load all)."""
    import duckdb

    try:
        refs = {r.lower() for r in duckdb.get_table_names(sql)}
    except duckdb.Error:
        return None
    found = [n for n in known if n.lower() in refs]
    return found or None  # no layer named (SHOW TABLES, duckdb_tables()...): load all


# --------------------------------------------------------------------------- read-only check


def _strip_comments(sql: str) -> str:
    sql = re.sub(r"/\*.*?\*/", " ", sql, flags=re.S)
    return re.sub(r"--[^\n]*", " ", sql).strip()


def check_read_only(sql: str) -> str:
    """Return ``sql`` as one read-only statement, or raise :class:`QueryError`.

    Parameters
    ----------
    sql
        The SQL text.

    Returns
    -------
    str
        The single statement (without a trailing semicolon).

    Raises
    ------
    QueryError
        Empty text, more than one statement, or a statement that is not a read query.
    """
    import duckdb

    if not isinstance(sql, str) or not sql.strip():
        raise QueryError("sql: empty query; write one SELECT, e.g. SELECT name FROM kitas.")
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(f"sql: cannot parse the query: {_one_line(exc)}") from None
    if len(statements) != 1:
        raise QueryError(
            f"sql: {len(statements)} statements given; only one read query (SELECT ...) is "
            "allowed per call."
        )
    stmt = statements[0]
    text = _strip_comments(stmt.query).rstrip().rstrip(";").rstrip()
    written = _strip_comments(sql).lstrip("(")  # PRAGMA is rewritten to SELECT by the parser
    first = written.split(None, 1)[0].lower() if written else ""
    allowed = stmt.type == duckdb.StatementType.SELECT
    if stmt.type == duckdb.StatementType.EXPLAIN:
        inner = re.sub(r"^\s*explain\s+(analy[sz]e\s+)?", "", text, flags=re.I)
        check_read_only(inner)
        allowed = True
    if not allowed or (first not in _READING_KEYWORDS and not text.startswith("(")):
        kind = stmt.type.name if stmt.type != duckdb.StatementType.SELECT else first.upper()
        raise QueryError(
            f"sql: {kind} statements are refused; queries are read-only (one SELECT or "
            "WITH ... SELECT, no DROP/DELETE/UPDATE/CREATE/COPY/ATTACH/INSTALL/LOAD/SET/PRAGMA)."
        )
    return text


# --------------------------------------------------------------------------- run


def _to_frame(df: pd.DataFrame, types: Sequence[str], crs: str = ANALYSIS_CRS) -> pd.DataFrame:
    """Turn DuckDB's WKB geometry columns into shapely; return a GeoDataFrame if any."""
    geo = [c for c, t in zip(df.columns, types, strict=True) if t.upper().startswith("GEOMETRY")]
    if not geo:
        return df
    out = pd.DataFrame(df)
    for col in geo:
        values = [None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))
                  else bytes(v) for v in df[col]]
        out[col] = gpd.GeoSeries(shapely.from_wkb(values), index=df.index, crs=crs)
    return gpd.GeoDataFrame(out, geometry=geo[0], crs=crs)


def _error_help(frames: Mapping[str, pd.DataFrame], tables: Iterable[str]) -> str:
    names = ", ".join(frames)
    cols = "; ".join(f"{t}({', '.join(map(str, frames[t].columns))})"
                     for t in tables if t in frames)
    extra = f" Columns: {cols}." if cols else ""
    return f" Tables: {names}.{extra}"


def _fetch(cur: Any, limit: int | None) -> tuple[pd.DataFrame, int]:
    """Read the result in chunks: the first ``limit`` rows and the number of all rows.

    Without ``limit`` at most :data:`MAX_RESULT_ROWS` rows are read; more are refused.
    """
    parts: list[pd.DataFrame] = []
    kept = total = 0
    cap = limit if limit is not None else MAX_RESULT_ROWS + 1
    first = None
    while True:
        chunk = cur.fetch_df_chunk()
        if first is None:
            first = chunk
        if len(chunk) == 0:
            break
        total += len(chunk)
        if kept < cap:
            take = chunk.iloc[:cap - kept]
            parts.append(take)
            kept += len(take)
        elif limit is None:
            break
    if limit is None and total > MAX_RESULT_ROWS:
        from .labels import fmt_int

        raise QueryError(
            f"Das Ergebnis hat mehr als {fmt_int(MAX_RESULT_ROWS)} Zeilen; grenzen Sie die "
            f"Abfrage ein (WHERE, GROUP BY oder LIMIT)."
        )
    df = pd.concat(parts, ignore_index=True) if parts else first.iloc[:0]
    return df, total


def _run(sql: str, params: Sequence[Any] | None, cat: Catalog,
         tables: Iterable[str] | None, *, timeout: float = DEFAULT_TIMEOUT_S,
         memory_limit: str = DEFAULT_MEMORY_LIMIT,
         limit: int | None = None) -> pd.DataFrame:
    import threading

    import duckdb

    _check_limits(timeout, memory_limit)
    known = _table_names(cat)
    wanted = list(known) if tables is None else [t for t in known if t in set(tables)]
    frames = query_frames(cat, names=wanted)
    con = _connect(memory_limit)
    timer = threading.Timer(float(timeout), con.interrupt)
    timer.daemon = True
    try:
        for name, frame in frames.items():
            _register(con, name, frame, cat.crs)
        _lock(con)
        try:
            timer.start()
            cur = con.execute(sql, list(params) if params else None)
            types = [str(d[1]) for d in cur.description]
            df, total = _fetch(cur, limit)
        except duckdb.InterruptException:
            raise QueryError(
                f"sql: die Abfrage wurde nach {float(timeout):g} s abgebrochen (Zeitlimit). "
                f"Vereinfachen Sie sie (z. B. eine rekursive Abfrage mit Abbruchbedingung, "
                f"WHERE oder LIMIT) oder erlauben Sie mehr Zeit mit --timeout."
            ) from None
        except duckdb.OutOfMemoryException:
            raise QueryError(
                f"sql: die Abfrage braucht mehr Arbeitsspeicher als die Grenze von "
                f"{memory_limit.strip()}. Vereinfachen Sie sie (weniger Zeilen oder Spalten, "
                f"WHERE, LIMIT) oder erhöhen Sie die Grenze mit --memory-limit."
            ) from None
        except duckdb.Error as exc:
            everything = query_frames(cat) if tables is not None else frames
            shown = [t for t in everything if re.search(rf"\b{re.escape(t)}\b", sql, re.I)]
            msg = _one_line(exc).rstrip(".")
            missing = re.search(r"Table with name (\S+) does not exist", str(exc))
            if missing:
                from ._names import suggest

                close = suggest(missing.group(1), everything)
                msg = f"Catalog Error: no table {missing.group(1)!r}" + (
                    f"; did you mean {' or '.join(map(repr, close))}?" if close else "")
            end = "" if msg.endswith("?") else "."
            raise QueryError(f"sql: {msg}{end}{_error_help(everything, shown)}") from None
    finally:
        timer.cancel()
        con.close()
    out = _to_frame(df, types, cat.crs)
    if total > len(out):
        out.attrs[TOTAL_ROWS_ATTR] = total
    return out


#: ``attrs`` key of a result read with ``limit``: the number of rows of the whole result.
TOTAL_ROWS_ATTR = "zeilen_gesamt"


def query(sql: str, catalog: Catalog | None = None, *,
          params: Sequence[Any] | None = None, timeout: float = DEFAULT_TIMEOUT_S,
          memory_limit: str = DEFAULT_MEMORY_LIMIT,
          limit: int | None = None) -> gpd.GeoDataFrame | pd.DataFrame:
    """Run one read-only SQL query over every layer and result of ``catalog``.

    Parameters
    ----------
    sql
        One ``SELECT`` / ``WITH ... SELECT`` in DuckDB's dialect with the spatial functions
        (``ST_Within``, ``ST_DWithin``, ``ST_Distance``, ``ST_Area``, ``ST_Buffer`` ...). Tables
        are named like the layers (``kitas``, ``schulen``, ``stadtteile``, ...) and results
        (``stadtteil_statistik``, ``jobcenter_zuordnung``, ...); geometry columns are in
        EPSG:25832, so distances and areas are metres and m².
    catalog
        Catalogue to query; default: the shipped Essen catalogue.
    params
        Values for ``?`` placeholders in ``sql``.
    timeout
        Seconds the query may run (default :data:`DEFAULT_TIMEOUT_S`); then it is stopped.
    memory_limit
        Memory DuckDB may use, e.g. ``"500MB"`` (default :data:`DEFAULT_MEMORY_LIMIT`).
    limit
        Return only the first ``limit`` rows (for printing); the number of all rows is then
        in ``result.attrs["zeilen_gesamt"]`` when more were left out. Without ``limit`` a
        result of more than :data:`MAX_RESULT_ROWS` rows is refused.

    Returns
    -------
    GeoDataFrame or DataFrame
        A GeoDataFrame (EPSG:25832, active geometry = first geometry column) when the result
        has a geometry column, else a DataFrame. A geometry you transform with
        ``ST_Transform`` is still labelled EPSG:25832: keep results in the analysis CRS.

    Raises
    ------
    QueryError
        The statement is not a single read query, or DuckDB rejects it; the message is one line
        with the available tables and the columns of the tables the query names. Also when
        the query runs longer than ``timeout``, needs more than ``memory_limit`` or returns
        too many rows (German message naming ``--timeout`` / ``--memory-limit``).

    Notes
    -----
    See the module docstring for the three read-only layers and the privacy rule: the
    confidential project flats exist only as suppressed counts per Stadtteil.

    Examples
    --------
    >>> from gis_planning.query import query
    >>> query("SELECT bezirk, count(*) AS n FROM schulen GROUP BY bezirk ORDER BY bezirk")[
    ...     "n"].sum()
    np.int64(212)
    """
    text = check_read_only(sql)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                              or limit < 0):
        raise QueryError(f"limit {limit!r} ungültig: eine ganze Zahl ab 0 (--max-rows).")
    cat = _catalog(catalog)
    return _run(text, params, cat, _referenced(text, _table_names(cat)), timeout=timeout,
                memory_limit=memory_limit, limit=limit)


# --------------------------------------------------------------------------- filter

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
            raise QueryError(f"{what}: cannot read {text[pos:pos + 15]!r} in {text!r}; write "
                             "conditions like anteil > 5 or schulform = 'Grundschule'.")
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
            got = self.tokens[self.pos].text if self.pos < len(self.tokens) else "end"
            raise QueryError(f"{self.what}: expected {expect or text or kind} but found "
                             f"{got!r} in {self.text!r}.")
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def compile(self) -> str:
        if not self.tokens:
            raise QueryError(f"{self.what}: empty condition; e.g. bezirk = 'V'.")
        sql = self._expr()
        if self.pos != len(self.tokens):
            raise QueryError(f"{self.what}: unexpected {self.tokens[self.pos].text!r} in "
                             f"{self.text!r}; join conditions with AND / OR.")
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
            self._take("punct", "(", expect="'(' after IN")
            values = [self._value(col)]
            while self._peek("punct", ","):
                self.pos += 1
                values.append(self._value(col))
            self._take("punct", ")", expect="')'")
            return f"{ref} {negate}IN ({', '.join(values)})"
        if self._peek("kw", "like") or self._peek("kw", "ilike"):
            op = self._take().text.upper()
            tok = self._take("str", expect="a 'text' pattern")
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
        raise QueryError(f"{self.what}: after column {col!r} expected =, <, >, IN, LIKE, "
                         f"BETWEEN or IS NULL in {self.text!r}.")

    def _column(self) -> str:
        tok = self._take("word", expect="a column name")
        cols = [str(c) for c in self.frame.columns]
        by_lower = {c.lower(): c for c in cols}
        if tok.text.lower() not in by_lower:
            from ._names import suggest

            close = suggest(tok.text, cols)
            hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
            raise QueryError(f"{self.what}: table {self.table!r} has no column {tok.text!r}."
                             f"{hint} Columns: {', '.join(cols)}.")
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
            got = self.tokens[self.pos].text if self.pos < len(self.tokens) else "end"
            raise QueryError(f"{self.what}: expected a value (number, 'text', true/false) after "
                             f"column {col!r}, found {got!r} in {self.text!r}.")
        self.params.append(self._coerce(col, value))
        return "?"

    def _coerce(self, col: str, value: Any) -> Any:
        dtype = self.frame[col].dtype
        if isinstance(dtype, gpd.array.GeometryDtype):
            raise QueryError(f"{self.what}: column {col!r} is a geometry; use within/near.")
        numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        if numeric and isinstance(value, str):
            roman = value.strip().upper()
            if col.lower().startswith("bezirk") and roman in _ROMAN:
                return _ROMAN[roman]
            try:
                return float(value.replace(",", "."))
            except ValueError:
                raise QueryError(
                    f"{self.what}: column {col!r} holds numbers, not {value!r}; write a "
                    f"number (Bezirke also as I-IX)."
                ) from None
        if pd.api.types.is_bool_dtype(dtype) and isinstance(value, str):
            low = value.strip().lower()
            if low in ("ja", "true", "wahr", "1"):
                return True
            if low in ("nein", "false", "falsch", "0"):
                return False
            raise QueryError(f"{self.what}: column {col!r} is yes/no; write true or false.")
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
        from ._names import suggest

        close = suggest(layer, names)
        hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise QueryError(f"layer: unknown table {layer!r}.{hint} Tables: {', '.join(names)}.")
    target = frames[layer]
    conds: list[str] = []
    params: list[Any] = []
    extra_cols: list[str] = []
    extra_params: list[Any] = []
    for text in where:
        comp = _Condition(text, alias="t", frame=target, table=layer, what=f"where {text!r}")
        conds.append(comp.compile())
        params += comp.params
    if (within or near) and not _has_geometry(target):
        raise QueryError(f"layer: table {layer!r} has no geometry; within/near need a layer "
                         "with geometry (e.g. kitas, schulen, stadtteile).")
    tgeom = f"t.{_ident(_geometry_of(target))}" if _has_geometry(target) else ""
    point = tgeom if _is_points(target) or not _has_geometry(target) else (
        f"ST_PointOnSurface({tgeom})")
    for i, text in enumerate(within):
        what = f"within {text!r}"
        table, cond = _split_layer(text, names)
        if table is None and not re.search(r"[=<>()]|\b(in|like|ilike|is|between)\b", cond,
                                           re.I):
            found = _bare_area(cond.strip().strip("'"), frames)
            if found is None:
                raise QueryError(f"{what}: no Stadtteil, Bezirk or JobCenter area called "
                                 f"{cond.strip()!r}; write a condition like bezirk = 'V' or "
                                 "stadtteile: stadtteil = 'Altendorf'.")
            table, cond = found
        if table is None:
            used = {t.text.lower() for t in _tokenize(cond, what) if t.kind == "word"}
            order = [*_AREA_ORDER, *(t for t in frames if t not in _AREA_ORDER)]
            candidates = [t for t in order if t in frames
                          and _is_polygonal(frames[t]) and t != layer]
            table = next((t for t in candidates
                          if used <= {str(c).lower() for c in frames[t].columns}), None)
            if table is None:
                raise QueryError(f"{what}: no area table has all columns "
                                 f"{', '.join(sorted(used))}; name one, e.g. "
                                 f"'TABELLE: spalte > 7'.")
        area = frames[table]
        if not _is_polygonal(area):
            raise QueryError(f"{what}: table {table!r} holds no polygons; within needs areas "
                             "(stadtteile, stadtbezirke, jobcenter, stadtteil_statistik).")
        alias = f"a{i}"
        comp = _Condition(cond, alias=alias, frame=area, table=table, what=what)
        area_cond = comp.compile()
        ageom = f"{alias}.{_ident(_geometry_of(area))}"
        conds.append(f"EXISTS (SELECT 1 FROM {_ident(table)} {alias} WHERE {area_cond} "
                     f"AND ST_Intersects({ageom}, {point}))")
        params += comp.params
    for i, text in enumerate(near):
        what = f"near {text!r}"
        m = re.match(r"^\s*([A-Za-z_]\w*)\s*:\s*(\d+(?:[.,]\d+)?)\s*(?::(.*))?$", text, re.S)
        if m is None:
            raise QueryError(f"{what}: write LAYER:METRES or LAYER:METRES:CONDITION, e.g. "
                             "schulen:500 or \"schulen:500:schulform = 'Grundschule'\".")
        table, metres, cond = m.group(1), float(m.group(2).replace(",", ".")), m.group(3)
        if table not in frames or not _has_geometry(frames[table]):
            raise QueryError(f"{what}: no table with geometry called {table!r}; tables: "
                             f"{', '.join(n for n in names if _has_geometry(frames[n]))}.")
        if not 0 < metres <= _MAX_NEAR_M:
            raise QueryError(f"{what}: distance must be between 0 and {_MAX_NEAR_M:.0f} m.")
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
                raise QueryError(f"columns: table {layer!r} has no column {c!r}; columns: "
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
    layer: str,
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
        A layer or result name (``kitas``, ``schulen``, ``stadtteil_statistik`` ...).
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
    """
    cat = _catalog(catalog)
    where, within, near = (_as_list(v) for v in (where, within, near))
    known = _table_names(cat)
    if layer not in known:
        from ._names import suggest

        close = suggest(layer, known)
        hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise QueryError(f"layer: unknown table {layer!r}.{hint} Tables: {', '.join(known)}.")
    needed = {layer}
    for spec in near:
        needed.add(spec.split(":", 1)[0].strip())
    for spec in within:
        prefix, _ = _split_layer(spec, known)
        needed |= {prefix} if prefix else {*_AREA_ORDER, cat.unit.layer, *(
            n for n in cat.table_names() if cat.table_spec(n).unit)}
    frames = query_frames(cat, names=needed)
    sql, params = compile_filter(layer, frames, where=where, within=within, near=near,
                                 columns=columns)
    out = _run(sql, params, cat, tables=frames.keys())
    rows = out.pop("__zeile").to_numpy()
    out.index = frames[layer].index[rows]
    return out


# --------------------------------------------------------------------------- output


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
    from .labels import fmt_number

    if value is None or value is pd.NA:
        return "–"
    return fmt_number(value, 0) if abs(int(value)) >= 10_000 else str(int(value))


def _german_float(value: float) -> str:
    """German number format for result tables: decimal comma, thousands point."""
    from .labels import fmt_number

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
    from . import privacy
    from ._atomic import atomic_path
    from .data.io import write_layer

    p = Path(path)
    privacy.guard(frame, what=f"writing {str(p)!r}")
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
        raise QueryError(f"output: the result has no geometry column, so only CSV can be "
                         f"written; use a .csv file instead of {p.name!r}.")
    with atomic_path(p, overwrite=overwrite) as tmp:
        pd.DataFrame(frame).to_csv(tmp, index=False)
    return p
