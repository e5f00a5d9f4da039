"""Read-only SQL and simple filters over every layer and analysis result.

Every catalogue layer and every result of :func:`gis_planning.results.available` becomes a table
of an in-memory DuckDB database, named like the layer, with its geometry as a ``GEOMETRY``
column in EPSG:25832 (metres). DuckDB's spatial extension is loaded from the installed
``duckdb-extension-spatial`` package (never from the internet), so queries work offline.

:func:`query` runs one ``SELECT`` (or ``WITH ... SELECT``) and returns a GeoDataFrame when the
result has a geometry column, otherwise a DataFrame. :func:`filter_layer` answers the common
questions without SQL: a condition on the layer's columns (``where``), "lies in these areas"
(``within``) and "within so many metres of" (``near``); it compiles them to SQL with validated
identifiers and the values as parameters. It takes a layer name or a (Geo)DataFrame you
already hold (``filter_layer(kitas_subset, near="schulen:300")``).

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

from .engine import (
    DEFAULT_MEMORY_LIMIT,
    DEFAULT_TIMEOUT_S,
    MAX_RESULT_ROWS,
    TOTAL_ROWS_ATTR,
    QueryError,
    _run,  # noqa: F401  (used by the tests)
    check_read_only,
    query,
    query_frames,
    spatial_extension_path,
    table_columns,
)
from .filters import FRAME_TABLE, compile_filter, filter_layer
from .output import format_result, write_result

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "DEFAULT_TIMEOUT_S",
    "FRAME_TABLE",
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
