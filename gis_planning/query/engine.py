"""The query engine: a fresh, locked in-memory DuckDB per call, the read-only check, SQL runs.

See :mod:`gis_planning.query` for the three read-only layers and the privacy rule.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._errors import InputError
from .._validate import ANALYSIS_CRS

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

    from ..data.catalog import Catalog

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "DEFAULT_TIMEOUT_S",
    "MAX_RESULT_ROWS",
    "TOTAL_ROWS_ATTR",
    "QueryError",
    "check_read_only",
    "query",
    "query_frames",
    "spatial_extension_path",
    "table_columns",
]

log = logging.getLogger("gis_planning.query")

#: First keywords of statements that only read.
_READING_KEYWORDS = ("select", "with", "from", "values", "table", "describe", "summarize",
                     "show", "explain", "(")



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
            f"Abfragen brauchen die Pakete duckdb und duckdb-extension-spatial ({exc}); "
            "installieren Sie beide in gleicher Version: "
            "`pip install duckdb duckdb-extension-spatial`."
        ) from None
    base = Path(duckdb_extension_spatial.__file__).resolve().parent / "extensions"
    path = base / f"v{duckdb.__version__}" / "spatial.duckdb_extension"
    if not path.is_file():
        found = sorted(p.parent.name for p in base.glob("v*/spatial.duckdb_extension"))
        raise ImportError(
            f"duckdb-extension-spatial hat keine Erweiterung für duckdb {duckdb.__version__} "
            f"(vorhanden: {', '.join(found) or 'keine'}); installieren Sie passende Versionen, "
            f"z. B. `pip install duckdb-extension-spatial=={duckdb.__version__}`."
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
    return text.replace("LINE 1: ", "bei: ")


# --------------------------------------------------------------------------- frames


def _is_points(frame: pd.DataFrame) -> bool:
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        return False
    kinds = set(frame.geometry.geom_type.dropna())
    return bool(kinds) and kinds <= {"Point", "MultiPoint"}


def _releasable(name: str, frame: pd.DataFrame, cat: Catalog,
                confidential: bool) -> pd.DataFrame | None:
    """Return the frame as it may be queried, or ``None`` if it cannot be released."""
    from .. import privacy

    if confidential and not privacy.is_confidential(frame):
        frame = privacy.mark_confidential(frame.copy(), name)
    if privacy.is_confidential(frame):
        if not _is_points(frame) or cat.unit.layer not in cat.names():
            log.warning("Abfrage: vertrauliche Tabelle %s ausgelassen (keine freigebbare "
                        "Zusammenfassung)", name)
            return None
        frame = privacy.release(frame, cat.load(cat.unit.layer))
        log.info("Abfrage: %s als Anzahlen je Stadtteil (kleine unterdrückt) geladen", name)
    privacy.guard(frame, what=f"Abfrage-Tabelle {name!r}")
    return frame


def _table_names(cat: Catalog) -> list[str]:
    from .. import results

    names = list(cat.names())
    names += [n for n in results.available(cat) if n not in names]
    return names


def _frame(cat: Catalog, name: str) -> pd.DataFrame | None:
    from .. import results

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
    from ..data import catalog as catalog_mod

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
        raise QueryError("SQL-Abfrage: leer; schreiben Sie ein SELECT, z. B. "
                         "SELECT name FROM kitas.")
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(f"SQL-Abfrage: nicht lesbar (DuckDB: {_one_line(exc)})") from None
    if len(statements) != 1:
        raise QueryError(
            f"SQL-Abfrage: {len(statements)} Anweisungen; erlaubt ist genau eine lesende "
            "Abfrage (SELECT …) je Aufruf."
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
            f"SQL-Abfrage: {kind}-Anweisungen werden abgelehnt; Abfragen lesen nur (ein SELECT "
            "oder WITH … SELECT, kein DROP/DELETE/UPDATE/CREATE/COPY/ATTACH/INSTALL/LOAD/SET/"
            "PRAGMA)."
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
    extra = f" Spalten: {cols}." if cols else ""
    return f" Tabellen: {names}.{extra}"


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
        from ..labels import fmt_int

        raise QueryError(
            f"Das Ergebnis hat mehr als {fmt_int(MAX_RESULT_ROWS)} Zeilen; grenzen Sie die "
            f"Abfrage ein (WHERE, GROUP BY oder LIMIT)."
        )
    df = pd.concat(parts, ignore_index=True) if parts else first.iloc[:0]
    return df, total


def _run(sql: str, params: Sequence[Any] | None, cat: Catalog,
         tables: Iterable[str] | None, *, timeout: float = DEFAULT_TIMEOUT_S,
         memory_limit: str = DEFAULT_MEMORY_LIMIT,
         limit: int | None = None,
         frames: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    import threading

    import duckdb

    _check_limits(timeout, memory_limit)
    if frames is None:
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
                f"SQL-Abfrage: nach {float(timeout):g} s abgebrochen (Zeitlimit). "
                f"Vereinfachen Sie sie (z. B. eine rekursive Abfrage mit Abbruchbedingung, "
                f"WHERE oder LIMIT) oder erlauben Sie mehr Zeit mit --timeout."
            ) from None
        except duckdb.OutOfMemoryException:
            raise QueryError(
                f"SQL-Abfrage: braucht mehr Arbeitsspeicher als die Grenze von "
                f"{memory_limit.strip()}. Vereinfachen Sie sie (weniger Zeilen oder Spalten, "
                f"WHERE, LIMIT) oder erhöhen Sie die Grenze mit --memory-limit."
            ) from None
        except duckdb.Error as exc:
            everything = query_frames(cat) if tables is not None else frames
            shown = [t for t in everything if re.search(rf"\b{re.escape(t)}\b", sql, re.I)]
            msg = _one_line(exc).rstrip(".")
            missing = re.search(r"Table with name (\S+) does not exist", str(exc))
            if missing:
                from .._names import suggest

                close = suggest(missing.group(1), everything)
                msg = f"keine Tabelle {missing.group(1)!r}" + (
                    f"; meinten Sie {' oder '.join(map(repr, close))}?" if close else "")
            else:
                msg = f"DuckDB lehnt sie ab: {msg}"
            end = "" if msg.endswith("?") else "."
            raise QueryError(f"SQL-Abfrage: {msg}{end}{_error_help(everything, shown)}") from None
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
        raise QueryError(f"Zeilenzahl {limit!r} ungültig: eine ganze Zahl ab 0 (--max-rows).")
    cat = _catalog(catalog)
    return _run(text, params, cat, _referenced(text, _table_names(cat)), timeout=timeout,
                memory_limit=memory_limit, limit=limit)
