"""Census grid cells (Zensus 2011 and 2022, 100 m INSPIRE grid): readers, cell ids, city clip.

The German census publishes counts per 100 m cell of the INSPIRE grid in ETRS89-LAEA
(EPSG:3035). This module reads three formats into one shape of table:

* **gridtiler tiles** (eurostat's ``gridtiler``, e.g. the repository
  ``jgaffuri/tiled-grid-germany-zensus2011``): one CSV per tile named ``<tx>_<ty>.csv`` with
  header ``x,y,<code>,...``; ``x``/``y`` (0-127) are the cell's column and row inside the tile,
  the code columns the census attribute's ``Auspraegung_Code`` values
  (:func:`read_gridtiler_tiles`);
* the **official Zensus 2011 CSV files** (:func:`read_zensus2011_csv`): the long
  "Demographie" file ``Bevoelkerung100M.csv`` (``Gitter_ID_100m;Gitter_ID_100m_neu;Merkmal;
  Auspraegung_Code;Auspraegung_Text;Anzahl;Anzahl_q``) and the population file
  ``Zensus_Bevoelkerung_100m-Gitter.csv`` (``Gitter_ID_100m;x_mp_100m;y_mp_100m;Einwohner``,
  ``-1`` = secret);
* the **official Zensus 2022 CSV files** (:func:`read_zensus2022_csv`), e.g.
  ``Zensus2022_Staatsangehoerigkeit_Gruppen_100m-Gitter.csv`` (``GITTER_ID_100m;x_mp_100m;
  y_mp_100m;Insgesamt_Bevoelkerung;Deutschland;Ausland_Sonstige;EU27_Land;Sonstiges_Europa;
  Sonstige_Welt;Sonstige;werterlaeuternde_Zeichen``, ``–`` = secret) or the population file
  ``Zensus2022_Bevoelkerungszahl_100m-Gitter.csv`` (``...;Einwohner``).

Every reader returns a :class:`geopandas.GeoDataFrame` of the populated cells in EPSG:3035
(cell squares) with the official cell id ``gitter_id`` (``100mN31556E41137`` for 2011,
``CRS3035RES100mN3155600E4113700`` for 2022), the cell centre ``x_mp``/``y_mp`` (EPSG:3035,
metres), one count column per group with German-rooted names (:data:`GROUP_LABELS`), the total
``personen`` and the reference date ``stand``. :func:`cells_in_boundary` keeps the cells of a
city by a stated rule (cell centre inside the boundary).

The module stays one piece (about 900 lines): the three readers share the cell-id code
(:func:`cell_ids`, :func:`parse_cell_ids`), the group columns and :func:`cell_frame`, and
each reader is short; split up, every part would import the others.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._errors import InputError, LayerError, SchemaError
from .._validate import require_crs
from ..labels import fmt_int
from .schema import LayerSchema

__all__ = [
    "GRID_CRS",
    "GROUPS",
    "GROUP_LABELS",
    "LIZENZ_2011",
    "LIZENZ_2022",
    "QUELLE_2011",
    "QUELLE_2022",
    "STAND_2011",
    "STAND_2022",
    "TABLE_COLUMNS",
    "VARIABLES",
    "ZensusVariable",
    "cell_frame",
    "cell_ids",
    "cells_in_boundary",
    "parse_cell_ids",
    "read_gridtiler_tiles",
    "read_zensus2011_csv",
    "read_zensus2022_csv",
    "zensus_schema",
]

logger = logging.getLogger(__name__)

#: CRS of the census grid: ETRS89-extended / LAEA Europe.
GRID_CRS = "EPSG:3035"

#: Reference dates (Zensusgesetz 2011 § 1 (1): "Stand vom 9. Mai 2011"; Zensus 2022: 15 May 2022).
STAND_2011 = "2011-05-09"
STAND_2022 = "2022-05-15"

#: Attribution to show wherever Zensus 2011 cells or figures derived from them appear.
QUELLE_2011 = "Zensus 2011, © Statistisches Bundesamt (Destatis)"
#: Licence of the Zensus 2011 grid data as the source repository states it (README, "Copyright").
LIZENZ_2011 = (
    "Data is ©Statistisches Bundesamt, Wiesbaden 2018. Reproduction and distribution, also of "
    "parts, are permitted provided that the source is mentioned."
)
#: Attribution and licence of the Zensus 2022 grid data (Destatis publishes it under dl-de/by-2-0).
QUELLE_2022 = "Zensus 2022, © Statistische Ämter des Bundes und der Länder"
LIZENZ_2022 = "Datenlizenz Deutschland – Namensnennung – Version 2.0 (dl-de/by-2-0)"

#: Column name -> German label (legends, table headers).
GROUP_LABELS: dict[str, str] = {
    "personen": "Personen insgesamt",
    "deutschland": "Deutsche Staatsangehörigkeit",
    "eu27": "Staatsangehörigkeit EU27-Land",
    "sonstiges_europa": "Staatsangehörigkeit Sonstiges Europa",
    "sonstige_welt": "Staatsangehörigkeit Sonstige Welt",
    "ungeklaert": "Staatsangehörigkeit sonstige / ungeklärt",
    "nichtdeutsche": "Nichtdeutsche",
    "geboren_deutschland": "Geburtsland Deutschland",
    "geboren_eu27": "Geburtsland EU27-Land",
    "geboren_sonstiges_europa": "Geburtsland Sonstiges Europa",
    "geboren_sonstige_welt": "Geburtsland Sonstige Welt",
    "geboren_ungeklaert": "Geburtsland sonstige / ungeklärt",
    "im_ausland_geboren": "Im Ausland geboren (EU27, Sonstiges Europa, Sonstige Welt)",
    "unter_18": "Unter 18 Jahre",
    "alter_18_29": "18 bis 29 Jahre",
    "alter_30_49": "30 bis 49 Jahre",
    "alter_50_64": "50 bis 64 Jahre",
    "ab_65": "65 Jahre und älter",
}


#: Count columns of the unit tables aggregated from STAATSANGE_GRP cells
#: (``aggregate_cells(cells, units, columns=TABLE_COLUMNS, ...)``).
TABLE_COLUMNS = ("personen", "deutschland", "eu27", "sonstiges_europa", "sonstige_welt",
                 "ungeklaert", "nichtdeutsche")

#: Groups for analyses (``--group``): German name -> count column; the total is ``personen``.
GROUPS = {"Nichtdeutsche": "nichtdeutsche", "Sonstige Welt": "sonstige_welt"}


@dataclass(frozen=True)
class ZensusVariable:
    """A census attribute (``Merkmal``): its category codes and derived sums.

    Attributes
    ----------
    merkmal
        Official name of the attribute (``STAATSANGE_GRP``, ...).
    codes
        ``Auspraegung_Code`` -> column name.
    derived
        Column name -> the code columns it sums (e.g. ``nichtdeutsche``).
    columns_2022
        Column of the Zensus 2022 wide CSV (lower case) -> column name.
    """

    merkmal: str
    codes: Mapping[int, str]
    derived: Mapping[str, tuple[str, ...]]
    columns_2022: Mapping[str, str]

    @property
    def count_columns(self) -> tuple[str, ...]:
        """Code columns, then derived columns, then ``personen``."""
        return (*self.codes.values(), *self.derived, "personen")


#: The attributes this module knows, by official name (codes verified in the category table
#: of the R package z22, ``data-raw/categories.R``; see layers/essen/zensus2011/PROVENANCE.md).
VARIABLES: dict[str, ZensusVariable] = {
    "STAATSANGE_GRP": ZensusVariable(
        "STAATSANGE_GRP",
        {1: "deutschland", 21: "eu27", 22: "sonstiges_europa", 23: "sonstige_welt",
         24: "ungeklaert"},
        {"nichtdeutsche": ("eu27", "sonstiges_europa", "sonstige_welt", "ungeklaert")},
        {"deutschland": "deutschland", "eu27_land": "eu27",
         "sonstiges_europa": "sonstiges_europa", "sonstige_welt": "sonstige_welt",
         "sonstige": "ungeklaert", "ausland_sonstige": "nichtdeutsche",
         "insgesamt_bevoelkerung": "personen"},
    ),
    "GEBURTLAND_GRP": ZensusVariable(
        "GEBURTLAND_GRP",
        {1: "geboren_deutschland", 21: "geboren_eu27", 22: "geboren_sonstiges_europa",
         23: "geboren_sonstige_welt", 24: "geboren_ungeklaert"},
        {"im_ausland_geboren": ("geboren_eu27", "geboren_sonstiges_europa",
                                "geboren_sonstige_welt")},
        {"deutschland": "geboren_deutschland", "eu27_land": "geboren_eu27",
         "sonstiges_europa": "geboren_sonstiges_europa",
         "sonstige_welt": "geboren_sonstige_welt", "sonstige": "geboren_ungeklaert",
         "insgesamt_bevoelkerung": "personen"},
    ),
    "ALTER_KURZ": ZensusVariable(
        "ALTER_KURZ",
        {1: "unter_18", 2: "alter_18_29", 3: "alter_30_49", 4: "alter_50_64", 5: "ab_65"},
        {},
        {"unter18": "unter_18", "a18bis29": "alter_18_29", "a30bis49": "alter_30_49",
         "a50bis64": "alter_50_64", "a65undaelter": "ab_65",
         "insgesamt_bevoelkerung": "personen"},
    ),
    "INSGESAMT": ZensusVariable("INSGESAMT", {0: "personen"}, {}, {"einwohner": "personen"}),
}


def _variable(variable: str) -> ZensusVariable:
    key = str(variable).strip().upper()
    if key not in VARIABLES:
        raise InputError(
            f"unbekanntes Zensus-Merkmal {variable!r}; bekannt sind {', '.join(VARIABLES)}."
        )
    return VARIABLES[key]


# ----------------------------------------------------------------------------- cell ids


def _size_text(cell_size: int) -> str:
    return f"{cell_size // 1000}km" if cell_size >= 1000 and cell_size % 1000 == 0 else (
        f"{cell_size}m")


def _digits(v: np.ndarray) -> int:
    """Number of decimal digits of every value if they all have the same count, else -1."""
    lo, hi = int(v.min()), int(v.max())
    if lo < 0:
        return -1
    n_lo, n_hi = len(str(lo)), len(str(hi))
    return n_lo if n_lo == n_hi else -1


def _digit_bytes(v: np.ndarray, width: int) -> np.ndarray:
    out = np.empty((len(v), width), dtype=np.uint8)
    rest = v.copy()
    for k in range(width - 1, -1, -1):
        rest, d = np.divmod(rest, 10)
        out[:, k] = d + 48
    return out


def _strings_from_bytes(mat: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Rows of an ``(n, L)`` uint8 matrix as a pandas string array (no Python objects)."""
    import pyarrow as pa

    n, width = mat.shape
    offsets = np.arange(0, width * (n + 1), width, dtype=np.int64)
    arr = pa.Array.from_buffers(pa.large_string(), n,
                                [None, pa.py_buffer(offsets), pa.py_buffer(mat.tobytes())])
    return pd.array(arr.to_pandas(), dtype="str")


def cell_ids(
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    *,
    cell_size: int = 100,
    style: Literal["2011", "inspire"] = "inspire",
) -> pd.api.extensions.ExtensionArray:
    """Official ids of the grid cells with lower-left corners ``x``, ``y`` (EPSG:3035, m).

    Parameters
    ----------
    x, y : array-like of int
        Lower-left (south-west) corner of each cell in EPSG:3035, metres, multiples of
        ``cell_size``.
    cell_size : int, default 100
        Cell side in metres (100, 250, 500, 1000, ...).
    style : {"2011", "inspire"}
        ``"2011"``: the Zensus 2011 ``Gitter_ID_100m`` style ``100mN31556E41137`` (``N`` =
        Y / cell size, ``E`` = X / cell size; ``1kmN3155E4113`` for 1 km);
        ``"inspire"``: ``CRS3035RES100mN3155600E4113700`` (corner in metres, Zensus 2022
        ``GITTER_ID_100m`` and 2011 ``Gitter_ID_100m_neu``).

    Returns
    -------
    pandas string array
        One id per cell (built from bytes without Python string objects when all ``N`` and
        all ``E`` parts have the same number of digits, as on any national grid).

    Examples
    --------
    >>> cell_ids([4113700], [3155600], style="2011").tolist()
    ['100mN31556E41137']
    >>> cell_ids([4113500], [3155500], cell_size=500).tolist()
    ['CRS3035RES500mN3155500E4113500']
    """
    x = np.asarray(x, dtype=np.int64).ravel()
    y = np.asarray(y, dtype=np.int64).ravel()
    s = int(cell_size)
    if s <= 0:
        raise InputError(f"Zellgröße muss positiv sein, nicht {cell_size!r}.")
    if ((x % s) != 0).any() or ((y % s) != 0).any():
        raise InputError(
            f"Zellecken müssen Vielfache der Zellgröße {s} m sein (untere linke Ecke in "
            f"EPSG:3035)."
        )
    size = _size_text(s)
    if style == "2011":
        n, e = y // s, x // s
        prefix = size
    elif style == "inspire":
        n, e = y, x
        prefix = f"CRS3035RES{size}"
    else:
        raise InputError(f"die Schreibweise der Zellkennung muss '2011' oder 'inspire' sein, "
                         f"nicht {style!r}.")
    if len(x) == 0:
        return pd.array([], dtype="str")
    dn, de = _digits(n), _digits(e)
    if dn > 0 and de > 0:
        head = np.frombuffer((prefix + "N").encode(), dtype=np.uint8)
        mat = np.concatenate([
            np.broadcast_to(head, (len(n), len(head))), _digit_bytes(n, dn),
            np.full((len(n), 1), ord("E"), dtype=np.uint8), _digit_bytes(e, de)], axis=1)
        return _strings_from_bytes(np.ascontiguousarray(mat))
    text = np.char.add(np.char.add(np.char.add(prefix + "N", n.astype(str)), "E"),
                       e.astype(str))
    return pd.array(text.astype(object), dtype="str")


_ID_RE = re.compile(r"^(CRS3035RES)?(\d+)(m|km)N(\d+)E(\d+)$")


def _id_bytes(ids: object) -> tuple[np.ndarray, str] | None:
    """Ids of one length as an ``(n, L)`` uint8 matrix (from Arrow buffers when possible)."""
    arr = getattr(ids, "array", ids)
    pa_arr = getattr(arr, "_pa_array", None)
    if pa_arr is not None:
        import pyarrow as pa

        chunk = pa_arr.combine_chunks() if isinstance(pa_arr, pa.ChunkedArray) else pa_arr
        if chunk.null_count or chunk.type not in (pa.string(), pa.large_string()):
            return None
        bufs = chunk.buffers()
        off = np.frombuffer(bufs[1], dtype=np.int32 if chunk.type == pa.string() else np.int64)
        off = off[chunk.offset: chunk.offset + len(chunk) + 1]
        width = int(off[1] - off[0]) if len(off) > 1 else 0
        if width == 0 or not (np.diff(off) == width).all():
            return None
        data = np.frombuffer(bufs[2], dtype=np.uint8)[off[0]: off[-1]]
        mat = data.reshape(len(chunk), width)
        return mat, bytes(mat[0]).decode("ascii", errors="replace")
    obj = np.asarray(arr, dtype=object)
    first = str(obj[0])
    try:
        raw = obj.astype("S")
    except (UnicodeEncodeError, ValueError):
        return None
    if raw.dtype.itemsize != len(first):
        return None
    return raw.view(np.uint8).reshape(len(obj), raw.dtype.itemsize), first


def _parse_fixed(ids: object) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Fast path: every id has the same length and layout; digits read as bytes."""
    got = _id_bytes(ids)
    if got is None:
        return None
    b, first = got
    m = _ID_RE.match(first)
    if m is None or b.shape[1] != len(first):
        return None
    n_start, n_end = m.span(4)
    e_start, e_end = m.span(5)
    head = np.frombuffer(first[:n_start].encode(), dtype=np.uint8)
    mid = np.frombuffer(first[n_end:e_start].encode(), dtype=np.uint8)
    if not ((b[:, :n_start] == head).all() and (b[:, n_end:e_start] == mid).all()):
        return None
    digits_n = b[:, n_start:n_end].astype(np.int64) - 48
    digits_e = b[:, e_start:e_end].astype(np.int64) - 48
    if (digits_n < 0).any() or (digits_n > 9).any() or (digits_e < 0).any() or (
            digits_e > 9).any():
        return None
    pn = 10 ** np.arange(n_end - n_start - 1, -1, -1, dtype=np.int64)
    pe = 10 ** np.arange(e_end - e_start - 1, -1, -1, dtype=np.int64)
    n, e = digits_n @ pn, digits_e @ pe
    size = int(m.group(2)) * (1000 if m.group(3) == "km" else 1)
    if m.group(1):
        return e, n, size
    return e * size, n * size, size


def parse_cell_ids(ids: Iterable[str] | pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                        int]:
    """Lower-left corners (EPSG:3035, m) and cell size of official grid cell ids.

    Parameters
    ----------
    ids : iterable of str
        Ids in either style of :func:`cell_ids` (``100mN31556E41137`` or
        ``CRS3035RES100mN3155600E4113700``); all of one cell size.

    Returns
    -------
    x, y : numpy.ndarray of int64
        Lower-left corner of each cell.
    cell_size : int
        Cell side in metres.

    Raises
    ------
    InputError
        An id that is not a grid cell id, or ids of different cell sizes.

    Notes
    -----
    Ids of equal length and layout (the usual case) are read as bytes without regular
    expressions (straight from the Arrow buffer of a pandas string column: about 0.2 s for 3
    million ids); others go through a regular expression.

    Examples
    --------
    >>> x, y, s = parse_cell_ids(["100mN31556E41137", "100mN31557E41137"])
    >>> x.tolist(), y.tolist(), s
    ([4113700, 4113700], [3155600, 3155700], 100)
    """
    if not isinstance(ids, pd.Series | np.ndarray | pd.api.extensions.ExtensionArray):
        ids = np.asarray(list(ids), dtype=object)
    if len(ids) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), 100
    fast = _parse_fixed(ids)
    if fast is not None:
        return fast
    arr = np.asarray(ids, dtype=object)
    parts = pd.Series(arr.astype(str)).str.extract(_ID_RE)
    bad = parts[1].isna().to_numpy()
    if bad.any():
        raise InputError(
            f"{int(bad.sum())} Zell-IDs sind keine Gitterzellen-IDs (z. B. {arr[bad][0]!r}); "
            f"erwartet 100mN31556E41137 oder CRS3035RES100mN3155600E4113700."
        )
    size = parts[1].astype(np.int64) * np.where(parts[2] == "km", 1000, 1)
    if size.nunique() != 1:
        raise InputError(
            f"Zell-IDs verschiedener Zellgrößen gemischt ({sorted(size.unique())} m); "
            f"eine Tabelle je Zellgröße."
        )
    s = int(size.iloc[0])
    inspire = parts[0].notna().to_numpy()
    n = parts[3].astype(np.int64).to_numpy()
    e = parts[4].astype(np.int64).to_numpy()
    x = np.where(inspire, e, e * s)
    y = np.where(inspire, n, n * s)
    return x.astype(np.int64), y.astype(np.int64), s


# --------------------------------------------------------------------------- cell frames


def cell_frame(
    x: np.ndarray,
    y: np.ndarray,
    counts: Mapping[str, np.ndarray],
    *,
    cell_size: int = 100,
    id_style: Literal["2011", "inspire"] = "2011",
    stand: str = STAND_2011,
    quelle: str = QUELLE_2011,
    lizenz: str = LIZENZ_2011,
) -> gpd.GeoDataFrame:
    """Build the cell layer (EPSG:3035 squares) from corners and count columns.

    Parameters
    ----------
    x, y : numpy.ndarray of int
        Lower-left corners in EPSG:3035 (m).
    counts : mapping of str to array
        Column name -> counts per cell (same length as ``x``).
    cell_size : int, default 100
    id_style : {"2011", "inspire"}
        Style of ``gitter_id`` (see :func:`cell_ids`).
    stand, quelle, lizenz : str
        Reference date (ISO), attribution and licence; ``stand`` becomes a column, all three
        go to ``attrs``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``gitter_id``, ``x_mp``, ``y_mp`` (cell centre, EPSG:3035, m), the count columns,
        ``stand``; geometry = the cell squares; sorted by ``y`` then ``x``; ``attrs`` with
        ``quelle``, ``lizenz``, ``stand``, ``zellgroesse_m``.
    """
    x = np.asarray(x, dtype=np.int64)
    y = np.asarray(y, dtype=np.int64)
    order = np.lexsort((x, y))
    x, y = x[order], y[order]
    s = int(cell_size)
    data: dict[str, object] = {
        "gitter_id": cell_ids(x, y, cell_size=s, style=id_style),
        "x_mp": x + s // 2,
        "y_mp": y + s // 2,
    }
    for name, values in counts.items():
        v = np.asarray(values)[order]
        data[name] = v
    data["stand"] = stand
    out = gpd.GeoDataFrame(data, geometry=shapely.box(x, y, x + s, y + s), crs=GRID_CRS)
    if out["gitter_id"].duplicated().any():
        dup = out.loc[out["gitter_id"].duplicated(), "gitter_id"].iloc[0]
        raise InputError(f"Zelle {dup} kommt mehrfach vor; jede Zelle nur einmal.")
    out.attrs.update(quelle=quelle, lizenz=lizenz, stand=stand, zellgroesse_m=s)
    return out


def _finish_counts(raw: Mapping[str, np.ndarray], var: ZensusVariable) -> dict[str, np.ndarray]:
    """Code columns (0 where absent), derived sums and ``personen``, as int64."""
    n = len(next(iter(raw.values())))
    out = {c: np.asarray(raw.get(c, np.zeros(n)), dtype=np.int64) for c in var.codes.values()}
    for name, parts in var.derived.items():
        out[name] = sum((out[p] for p in parts), np.zeros(n, dtype=np.int64))
    if "personen" not in out:
        out["personen"] = sum((out[c] for c in var.codes.values()), np.zeros(n, dtype=np.int64))
    return out


# ------------------------------------------------------------------------ gridtiler tiles

_TILE_RE = re.compile(r"^(\d+)_(\d+)\.csv$")


def read_gridtiler_tiles(
    source: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    variable: str = "STAATSANGE_GRP",
    origin: tuple[float, float] = (3_900_000, 2_600_000),
    tile_cells: int = 128,
    cell_size: int = 100,
    stand: str = STAND_2011,
    quelle: str = QUELLE_2011,
    lizenz: str = LIZENZ_2011,
) -> gpd.GeoDataFrame:
    """Read gridtiler CSV tiles (``<tx>_<ty>.csv``) into the cell layer.

    Parameters
    ----------
    source : path or iterable of paths
        A folder (every ``<tx>_<ty>.csv`` in it is read) or the tile files.
    variable : str, default "STAATSANGE_GRP"
        Census attribute of the tiles (:data:`VARIABLES`): names the code columns.
    origin : (float, float), default (3900000, 2600000)
        Origin of the tiling in EPSG:3035 (gridtiler ``-x``/``-y``).
    tile_cells : int, default 128
        Tile size in cells (gridtiler ``-t``).
    cell_size : int, default 100
        Resolution in metres (gridtiler ``-r``).
    stand, quelle, lizenz : str
        See :func:`cell_frame`.

    Returns
    -------
    geopandas.GeoDataFrame
        See :func:`cell_frame`; ids in the 2011 style.

    Raises
    ------
    LayerError
        No tile found, a file that is not a tile, or a header without ``x``, ``y``.
    SchemaError
        Negative or non-integer counts, ``x``/``y`` outside the tile, unknown codes.

    Notes
    -----
    Cell lower-left corner: ``X = origin_x + (tx * tile_cells + x) * cell_size`` and
    ``Y = origin_y + (ty * tile_cells + y) * cell_size``; cell centre ``X + cell_size/2``.
    Code columns missing from a file are 0 (gridtiler fills missing codes with 0); the derived
    sums (``nichtdeutsche`` = codes 21-24 of STAATSANGE_GRP) and ``personen`` (sum of all
    codes) are computed here.
    """
    var = _variable(variable)
    if isinstance(source, str | os.PathLike):
        p = Path(source)
        if not p.exists():
            raise LayerError(
                f"keine Kacheln in {str(p)!r} gefunden: der Ordner existiert nicht; geben Sie den "
                f"Ordner mit den gridtiler-Dateien <tx>_<ty>.csv an."
            )
        files = sorted(f for f in p.glob("*.csv") if _TILE_RE.match(f.name)) if p.is_dir() else [p]
    else:
        files = [Path(f) for f in source]
    if not files:
        raise LayerError(
            f"keine Kacheln <tx>_<ty>.csv in {str(source)!r} gefunden; geben Sie den Ordner mit "
            f"den gridtiler-Dateien an."
        )
    xs, ys, cols = [], [], {c: [] for c in var.codes.values()}
    for f in files:
        m = _TILE_RE.match(f.name)
        if m is None:
            raise LayerError(f"{str(f)!r} ist keine gridtiler-Kachel (Name <tx>_<ty>.csv).")
        tx, ty = int(m.group(1)), int(m.group(2))
        try:
            df = pd.read_csv(f, dtype=str)
        except (OSError, ValueError) as exc:
            raise LayerError(f"Kachel {str(f)!r} nicht lesbar: {exc}") from None
        if not {"x", "y"} <= set(df.columns):
            raise LayerError(f"Kachel {str(f)!r} hat keine Spalten x, y (Kopf {list(df.columns)}).")
        try:
            num = df.apply(pd.to_numeric, errors="raise").astype(np.int64)
        except (ValueError, TypeError):
            raise SchemaError(
                f"Kachel {str(f)!r} enthält Werte, die keine ganzen Zahlen sind."
            ) from None
        if (num < 0).any().any():
            raise SchemaError(f"Kachel {str(f)!r} enthält negative Werte.")
        if ((num["x"] >= tile_cells) | (num["y"] >= tile_cells)).any():
            raise SchemaError(f"Kachel {str(f)!r}: x oder y außerhalb 0-{tile_cells - 1}.")
        unknown = [c for c in df.columns if c not in ("x", "y") and int(c) not in var.codes]
        if unknown:
            raise SchemaError(
                f"Kachel {str(f)!r} hat Codes {unknown}, die {var.merkmal} nicht kennt "
                f"({sorted(var.codes)}); falsches Merkmal angegeben?"
            )
        xs.append(origin[0] + (tx * tile_cells + num["x"].to_numpy()) * cell_size)
        ys.append(origin[1] + (ty * tile_cells + num["y"].to_numpy()) * cell_size)
        for code, name in var.codes.items():
            key = str(code)
            cols[name].append(num[key].to_numpy() if key in num.columns
                              else np.zeros(len(num), np.int64))
    counts = _finish_counts({k: np.concatenate(v) for k, v in cols.items()}, var)
    out = cell_frame(np.concatenate(xs).astype(np.int64), np.concatenate(ys).astype(np.int64),
                     counts, cell_size=cell_size, id_style="2011", stand=stand, quelle=quelle,
                     lizenz=lizenz)
    out.attrs["merkmal"] = var.merkmal
    logger.info("%s Zellen (%s Personen) aus %s Kacheln gelesen", fmt_int(len(out)),
                fmt_int(out["personen"].sum()), fmt_int(len(files)))
    return out


# --------------------------------------------------------------------- official CSV files


def _read_semicolon(path: str | os.PathLike) -> pd.DataFrame:
    p = Path(path)
    if not p.is_file():
        raise LayerError(f"Zensus-Datei {str(p)!r} nicht gefunden.")
    last: Exception | None = None
    for enc in ("utf-8", "latin-1"):
        try:
            with open(p, encoding=enc) as fh:
                head = fh.readline()
            sep = ";" if head.count(";") >= head.count(",") else ","
            return pd.read_csv(p, sep=sep, dtype=str, encoding=enc, keep_default_na=False)
        except UnicodeDecodeError as exc:
            last = exc
        except (OSError, ValueError) as exc:
            raise LayerError(f"Zensus-Datei {str(p)!r} nicht lesbar: {exc}") from None
    raise LayerError(f"Zensus-Datei {str(p)!r}: unbekannte Zeichenkodierung ({last}).")


def _lower_columns(df: pd.DataFrame) -> dict[str, str]:
    return {c.strip().lower(): c for c in df.columns}


def read_zensus2011_csv(
    path: str | os.PathLike,
    *,
    variable: str = "STAATSANGE_GRP",
) -> gpd.GeoDataFrame:
    """Read an official Zensus 2011 100 m CSV file into the cell layer.

    Parameters
    ----------
    path : path-like
        ``Bevoelkerung100M.csv`` (long format with ``Gitter_ID_100m``, ``Merkmal``,
        ``Auspraegung_Code``, ``Anzahl``; the rows of ``variable`` are used) or
        ``Zensus_Bevoelkerung_100m-Gitter.csv`` (``Gitter_ID_100m``, ``x_mp_100m``,
        ``y_mp_100m``, ``Einwohner``; ``-1`` = secret, those cells are dropped with a warning).
        Semicolon or comma separated, UTF-8 or Latin-1 (as Destatis ships it).
    variable : str, default "STAATSANGE_GRP"
        Attribute to read from the long format (ignored for the population file, which gives
        ``personen`` only).

    Returns
    -------
    geopandas.GeoDataFrame
        See :func:`cell_frame` (2011-style ids, ``stand`` 2011-05-09).

    Raises
    ------
    SchemaError
        Neither format recognised, or no row of ``variable``.
    """
    df = _read_semicolon(path)
    cols = _lower_columns(df)
    if "gitter_id_100m" not in cols:
        raise SchemaError(
            f"{str(path)!r} hat keine Spalte Gitter_ID_100m; erwartet eine Zensus-2011-Datei "
            f"(Bevoelkerung100M.csv oder Zensus_Bevoelkerung_100m-Gitter.csv)."
        )
    ids = df[cols["gitter_id_100m"]].str.strip()
    if "merkmal" in cols:
        var = _variable(variable)
        merkmal = df[cols["merkmal"]].str.strip().str.upper()
        sel = merkmal == var.merkmal
        if not sel.any():
            found = sorted(merkmal.unique())[:10]
            raise SchemaError(
                f"{str(path)!r} enthält kein Merkmal {var.merkmal} (gefunden: {found})."
            )
        code = pd.to_numeric(df.loc[sel, cols["auspraegung_code"]]).astype(np.int64)
        anzahl = pd.to_numeric(df.loc[sel, cols["anzahl"]]).astype(np.int64)
        unknown = sorted(set(code) - set(var.codes))
        if unknown:
            raise SchemaError(f"{str(path)!r}: unbekannte Codes {unknown} für {var.merkmal}.")
        wide = (pd.DataFrame({"id": ids[sel].to_numpy(), "code": code.to_numpy(),
                              "n": anzahl.to_numpy()})
                .pivot_table(index="id", columns="code", values="n", aggfunc="sum",
                             fill_value=0))
        raw = {name: wide[c].to_numpy() if c in wide.columns else np.zeros(len(wide))
               for c, name in var.codes.items()}
        counts = _finish_counts(raw, var)
        x, y, s = parse_cell_ids(wide.index.to_numpy(dtype=object))
    elif "einwohner" in cols:
        var = VARIABLES["INSGESAMT"]
        ew = pd.to_numeric(df[cols["einwohner"]]).astype(np.int64).to_numpy()
        secret = ew < 0
        if secret.any():
            warnings.warn(
                f"{int(secret.sum())} Zellen in {str(path)!r} sind geheim (-1) und werden "
                f"weggelassen.",
                UserWarning,
                stacklevel=2,
            )
        keep = ~secret & (ew > 0)
        x, y, s = parse_cell_ids(ids[keep].to_numpy(dtype=object))
        counts = {"personen": ew[keep]}
    else:
        raise SchemaError(
            f"{str(path)!r}: weder Merkmal/Auspraegung_Code/Anzahl noch Einwohner gefunden."
        )
    out = cell_frame(x, y, counts, cell_size=s, id_style="2011")
    out.attrs["merkmal"] = var.merkmal
    return out


_SUPPRESSED = {"–", "-", "—", "", "."}


def read_zensus2022_csv(
    path: str | os.PathLike,
    *,
    variable: str = "STAATSANGE_GRP",
) -> gpd.GeoDataFrame:
    """Read an official Zensus 2022 100 m CSV file (wide format) into the cell layer.

    Parameters
    ----------
    path : path-like
        E.g. ``Zensus2022_Staatsangehoerigkeit_Gruppen_100m-Gitter.csv`` with
        ``GITTER_ID_100m;x_mp_100m;y_mp_100m;Insgesamt_Bevoelkerung;Deutschland;
        Ausland_Sonstige;EU27_Land;Sonstiges_Europa;Sonstige_Welt;Sonstige;
        werterlaeuternde_Zeichen`` or ``Zensus2022_Bevoelkerungszahl_100m-Gitter.csv`` with
        ``Einwohner``.
    variable : str, default "STAATSANGE_GRP"
        Which group columns to expect (:data:`VARIABLES`, ``columns_2022``); the population
        file is recognised by its ``Einwohner`` column.

    Returns
    -------
    geopandas.GeoDataFrame
        See :func:`cell_frame` (INSPIRE-style ids ``CRS3035RES100mN…E…``, ``stand``
        2022-05-15, :data:`QUELLE_2022`, :data:`LIZENZ_2022`), plus ``geheimhaltung`` (bool):
        a value of the row was secret ("–") and is counted as 0.

    Notes
    -----
    Column names are matched without regard to case. Where the file gives the totals
    (``Insgesamt_Bevoelkerung``, ``Ausland_Sonstige``) they are used as published; otherwise
    they are summed from the groups. The cell is checked against ``x_mp_100m``/``y_mp_100m``
    (centre = corner + 50 m).
    """
    df = _read_semicolon(path)
    cols = _lower_columns(df)
    if "gitter_id_100m" not in cols:
        raise SchemaError(
            f"{str(path)!r} hat keine Spalte GITTER_ID_100m; erwartet eine Zensus-2022-Datei "
            f"im 100-m-Gitter."
        )
    var = VARIABLES["INSGESAMT"] if "einwohner" in cols else _variable(variable)
    mapping = {src: dst for src, dst in var.columns_2022.items() if src in cols}
    if not mapping:
        raise SchemaError(
            f"{str(path)!r}: keine Spalte für {var.merkmal} gefunden (erwartet "
            f"{', '.join(var.columns_2022)}; vorhanden {', '.join(df.columns)})."
        )
    secret = np.zeros(len(df), dtype=bool)
    raw: dict[str, np.ndarray] = {}
    for src, dst in mapping.items():
        text = df[cols[src]].str.strip()
        sup = text.isin(_SUPPRESSED).to_numpy()
        secret |= sup
        vals = pd.to_numeric(text.where(~sup, "0"), errors="coerce")
        if vals.isna().any() or (vals < 0).any():
            bad = text[vals.isna() | (vals < 0)].iloc[0]
            raise SchemaError(
                f"{str(path)!r} Spalte {cols[src]!r}: Wert {bad!r} ist keine Anzahl."
            )
        raw[dst] = vals.astype(np.int64).to_numpy()
    counts = _finish_counts(raw, var)
    for published in ("nichtdeutsche", "personen"):
        if published in raw:
            counts[published] = raw[published]
    x, y, s = parse_cell_ids(df[cols["gitter_id_100m"]].str.strip().to_numpy(dtype=object))
    if "x_mp_100m" in cols and "y_mp_100m" in cols:
        xm = pd.to_numeric(df[cols["x_mp_100m"]], errors="coerce").to_numpy()
        ym = pd.to_numeric(df[cols["y_mp_100m"]], errors="coerce").to_numpy()
        off = (np.abs(xm - (x + s / 2)) > 1) | (np.abs(ym - (y + s / 2)) > 1)
        if off.any():
            raise SchemaError(
                f"{str(path)!r}: {int(off.sum())} Zeilen, deren x_mp_100m/y_mp_100m nicht der "
                f"Mittelpunkt der Zelle GITTER_ID_100m sind."
            )
    keep = counts["personen"] > 0
    if secret.any():
        logger.info("%s Zeilen mit geheimen Werten ('–') als 0 gezählt",
                    fmt_int(int(secret.sum())))
    counts = {k: v[keep] for k, v in counts.items()}
    counts["geheimhaltung"] = secret[keep]
    out = cell_frame(x[keep], y[keep], counts, cell_size=s, id_style="inspire",
                     stand=STAND_2022, quelle=QUELLE_2022, lizenz=LIZENZ_2022)
    out.attrs["merkmal"] = var.merkmal
    return out


# ---------------------------------------------------------------------------- city clip


def cells_in_boundary(
    cells: gpd.GeoDataFrame,
    boundary: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    rule: Literal["centre"] = "centre",
) -> gpd.GeoDataFrame:
    """Keep the cells of a city (or any area): those whose centre lies in the boundary.

    Parameters
    ----------
    cells : geopandas.GeoDataFrame
        Cell layer with ``x_mp``/``y_mp`` (cell centre in EPSG:3035, as the readers give it),
        in any CRS.
    boundary : geopandas.GeoDataFrame or GeoSeries
        The area (e.g. the official city boundary), any CRS; dissolved.
    rule : {"centre"}
        The only rule: a cell belongs to the area if its centre lies in the area or on its
        boundary line. Every cell is kept whole or dropped whole.

    Returns
    -------
    geopandas.GeoDataFrame
        The kept cells (same columns, CRS and index); ``attrs["zuordnung"]`` records the rule,
        the cells and persons kept and the cells (persons) that touch the boundary with their
        centre outside (dropped).

    Notes
    -----
    The boundary is reprojected to EPSG:3035 and the test is made there on the exact cell
    centres (``x_mp``, ``y_mp``), so the result does not depend on the cells' display CRS.
    Cells cut by the boundary are counted wholly on the side of their centre: persons of the
    neighbouring town in such cells are counted in, the city's own persons in cells centred
    outside are left out; both are reported. The boundary line itself counts as inside
    (``covers``), so a cell whose centre lies exactly on a shared border belongs to both
    areas.
    """
    if rule != "centre":
        raise InputError(f"die Zuordnungsregel der Zellen muss 'centre' sein "
                         f"(Zellmittelpunkt), nicht {rule!r}.")
    for c in ("x_mp", "y_mp"):
        if c not in cells.columns:
            raise SchemaError(
                f"den Zensus-Zellen fehlt die Spalte {c!r} (Zellmittelpunkt in EPSG:3035); "
                f"lesen Sie die Zellen mit den Zensus-Lesern des Werkzeugs ein (Zensus 2011 "
                f"oder 2022, gridtiler-Kacheln)."
            )
    require_crs(boundary, name="boundary")
    area = shapely.union_all(boundary.to_crs(GRID_CRS).geometry.make_valid().to_numpy())
    shapely.prepare(area)
    x = cells["x_mp"].to_numpy(dtype=float)
    y = cells["y_mp"].to_numpy(dtype=float)
    inside = shapely.intersects_xy(area, x, y)
    out = cells.loc[inside].copy()
    half = float(cells.attrs.get("zellgroesse_m", 100)) / 2
    sq = shapely.box(x - half, y - half, x + half, y + half)
    touching = ~inside & shapely.intersects(area, sq)
    pers = cells["personen"].to_numpy() if "personen" in cells.columns else np.zeros(len(cells))
    out.attrs = dict(cells.attrs)
    out.attrs["zuordnung"] = {
        "regel": "Zellmittelpunkt in der Grenze (Rand zählt dazu); Zellen ganz oder gar nicht",
        "zellen": int(inside.sum()),
        "personen": int(pers[inside].sum()),
        "randzellen_aussen": int(touching.sum()),
        "personen_randzellen_aussen": int(pers[touching].sum()),
    }
    return out


# ------------------------------------------------------------------------------ schema


def zensus_schema(
    name: str = "zensus2011",
    *,
    variable: str = "STAATSANGE_GRP",
    stand: str = STAND_2011,
    quelle: str = QUELLE_2011,
    lizenz: str = LIZENZ_2011,
) -> LayerSchema:
    """Catalogue schema of a cell layer (for a city pack).

    >>> zensus_schema().columns["nichtdeutsche"]
    'int'
    """
    var = _variable(variable)
    columns = {"gitter_id": "str", **{c: "int" for c in var.count_columns}, "stand": "str"}
    year = stand[:4]
    return LayerSchema(
        name, f"Zensus {year} (100-m-Gitter)", "Polygon", columns,
        source=f"{quelle}; 100-m-Gitterzellen ({var.merkmal})",
        licence=lizenz, date=stand, id_column="gitter_id", group="Grundlagen",
        method="Zellen mit Mittelpunkt in der Stadtgrenze (ganz oder gar nicht); Werte durch "
        "das Geheimhaltungsverfahren leicht verändert (keine 1 und 2), einzelne Zellen sind "
        "ungefähr - für Aussagen zusammenfassen.",
        description=f"Bewohnte 100-m-Zellen mit Personen nach {var.merkmal}, Stand {stand}.",
    )
