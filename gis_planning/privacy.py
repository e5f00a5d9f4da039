"""Confidential layers leave the toolkit only as aggregates with small-number suppression.

The locations of project flats are personal data. A confidential point layer may leave the
toolkit only

* as counts per area (Stadtteil, Bezirk, grid cell) with **primary suppression** (counts
  ``0 < n < k``, default ``k = 5``, are shown as "< 5", never as a number) and **secondary
  suppression** (further cells are withheld so that no suppressed cell can be recomputed from
  the Bezirk and city totals that are shown): :func:`release`, :func:`release_table`,
  :func:`suppress_counts`;
* as density surfaces whose cells supported by fewer than ``k`` points are masked:
  :func:`mask_density` with :func:`support_counts`.

Every exporter calls :func:`guard`, which refuses any frame marked confidential
(:func:`mark_confidential`, set by :meth:`gis_planning.data.catalog.Catalog.load`).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from ._errors import ConfidentialDataError, InputError
from ._validate import require_same_crs

__all__ = [
    "CONFIDENTIAL_ATTR",
    "DEFAULT_K",
    "SECONDARY_LABEL",
    "SuppressionResult",
    "aggregate_points",
    "audit_suppression",
    "guard",
    "is_confidential",
    "mark_confidential",
    "mask_density",
    "release",
    "release_table",
    "support_counts",
    "suppress_counts",
    "suppressed_label",
]

#: Key in ``GeoDataFrame.attrs`` that marks data derived from a confidential layer.
CONFIDENTIAL_ATTR = "gis_planning_confidential"

from ._defaults import DEFAULT_K  # noqa: E402 - counts below it are never shown as numbers

#: Display text of a cell withheld by secondary suppression (its count may be any size).
SECONDARY_LABEL = "geheim"

PRIMARY = "primär"
SECONDARY = "sekundär"
_STATUS_TEXT = {0: "", 1: PRIMARY, 2: SECONDARY, 3: SECONDARY}


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise InputError(f"Mindestzahl k muss eine ganze Zahl ab 1 sein, nicht {k!r}; "
                         f"Standard ist {DEFAULT_K}.")
    return int(k)


def suppressed_label(count: float | None, *, k: int = DEFAULT_K) -> str:
    """Return the German display text of a count: the number, or ``"< k"`` when suppressed."""
    if count is None or pd.isna(count):
        return f"< {k}"
    return f"{int(count):,}".replace(",", ".")


def _count_points(points: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame) -> pd.Series:
    require_same_crs(("points", points), ("polygons", polygons))
    joined = gpd.sjoin(points[[points.geometry.name]], polygons[[polygons.geometry.name]],
                       how="inner", predicate="within")
    counts = joined.groupby("index_right").size()
    return polygons.index.to_series().map(counts).fillna(0).astype(np.int64)


def aggregate_points(
    points: gpd.GeoDataFrame,
    polygons: gpd.GeoDataFrame,
    *,
    k: int = DEFAULT_K,
    count_column: str = "anzahl",
) -> gpd.GeoDataFrame:
    """Count ``points`` per polygon of ``polygons`` with primary suppression below ``k``.

    Returns a copy of ``polygons`` (index kept) with ``count_column`` (nullable integer,
    missing where ``0 < count < k``), ``<count_column>_text`` (German display text, "< 5")
    and ``unterdrueckt`` (bool). Zero counts are shown as 0: an empty area reveals no one.
    No point coordinates are returned.

    This applies primary suppression only; use :func:`release` (or :func:`suppress_counts`)
    when totals are shown beside the counts.
    """
    k = _check_k(k)
    raw = _count_points(points, polygons)
    suppressed = (raw > 0) & (raw < k)
    out = polygons.copy()
    out[count_column] = pd.array(raw.where(~suppressed), dtype="Int64")
    out["unterdrueckt"] = suppressed.to_numpy()
    out[f"{count_column}_text"] = [suppressed_label(v, k=k) for v in out[count_column]]
    return out


# --------------------------------------------------------------------------------------
# Secondary suppression in a two-level hierarchy (cells within groups within one total)
# --------------------------------------------------------------------------------------


@dataclass
class SuppressionResult:
    """Counts of a hierarchical table after primary and secondary suppression.

    Attributes
    ----------
    cells : pandas.DataFrame
        One row per cell (index of the input counts): ``gruppe``, ``anzahl`` (nullable
        integer, missing when suppressed), ``anzahl_text`` ("< 5", "geheim" or the number)
        and ``unterdrueckung`` ("", "primär" or "sekundär").
    groups : pandas.DataFrame
        One row per group (Bezirk), same columns without ``gruppe``.
    total : pandas.DataFrame
        One row (index ``"gesamt"``) with the city total, same columns.
    k : int
        The threshold used.
    """

    cells: pd.DataFrame
    groups: pd.DataFrame
    total: pd.DataFrame
    k: int
    _lower: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    _upper: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    _public_groups: bool = field(repr=False, default=False)

    def table(self, *, cell_level: str = "Stadtteil", group_level: str = "Bezirk") -> pd.DataFrame:
        """Return one long table: the cells, then the group totals, then the city total."""
        parts = []
        c = self.cells.reset_index(names="name").assign(ebene=cell_level)
        parts.append(c)
        g = self.groups.reset_index(names="name").assign(ebene=group_level)
        g["gruppe"] = g["name"]
        parts.append(g)
        t = self.total.reset_index(names="name").assign(ebene="Stadt", gruppe=None)
        parts.append(t)
        out = pd.concat(parts, ignore_index=True)
        return out[["ebene", "name", "gruppe", "anzahl", "anzahl_text", "unterdrueckung"]]


class _Table:
    """Internal state: variables 0..n-1 cells, n..n+m-1 group totals, n+m the city total."""

    def __init__(
        self, values: np.ndarray, group_codes: np.ndarray, m: int, k: int, *,
        public_groups: bool = False,
    ):
        self.n, self.m, self.k = len(values), m, k
        gtot = np.bincount(group_codes, weights=values, minlength=m).astype(np.int64)
        self.values = np.concatenate([values, gtot, [values.sum()]]).astype(np.int64)
        self.status = np.zeros(len(self.values), dtype=np.int8)  # 0 shown, 1 prim, 2 sec
        self.status[(self.values > 0) & (self.values < k)] = 1
        members = [np.flatnonzero(group_codes == g) for g in range(m)]
        # equations: (parent, children)
        self.equations = [(self.n + g, members[g]) for g in range(m)]
        self.equations.append((self.n + m, np.arange(self.n, self.n + m)))
        self.parent_eq = np.empty(len(self.values), dtype=np.int64)
        for e, (_, ch) in enumerate(self.equations):
            self.parent_eq[ch] = e
        self.parent_eq[self.n + m] = -1
        self.public_groups = public_groups
        self.public = {self.n + m} | (set(range(self.n, self.n + m)) if public_groups else set())

    @property
    def city(self) -> int:
        return self.n + self.m

    def unknown(self, v: int) -> bool:
        return self.status[v] != 0

    def eq_unknowns(self, e: int) -> list[int]:
        parent, children = self.equations[e]
        vs = [int(c) for c in children if self.unknown(c)]
        if self.unknown(parent):
            vs.append(parent)
        return vs

    def complement(self, e: int) -> bool:
        """Suppress one more variable of equation ``e``; return whether one was found."""
        parent, children = self.equations[e]
        shown = [int(c) for c in children if not self.unknown(c)]
        pos = sorted((c for c in shown if self.values[c] >= self.k),
                     key=lambda c: (self.values[c], c))
        if pos:
            self.status[pos[0]] = 2
            return True
        if not self.unknown(parent) and parent not in self.public and self.values[parent] >= self.k:
            self.status[parent] = 2
            return True
        zeros = [c for c in shown if self.values[c] == 0]
        if zeros:
            self.status[zeros[0]] = 2
            return True
        return False

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo = np.where(self.status == 1, 1.0,
                      np.where((self.status == 2) & (self.values >= self.k), float(self.k), 0.0))
        hi = np.where(self.status == 1, float(self.k - 1), np.inf)
        return lo, hi

    def intervals(self) -> dict[int, tuple[float, float]]:
        """Return the feasible (min, max) of every suppressed variable given what is shown."""
        from scipy.optimize import linprog

        unk = np.flatnonzero(self.status != 0)
        if unk.size == 0:
            return {}
        col = {int(v): j for j, v in enumerate(unk)}
        rows, rhs = [], []
        for parent, children in self.equations:
            a = np.zeros(unk.size)
            b = 0.0
            for v, sign in [(parent, 1.0), *[(int(c), -1.0) for c in children]]:
                if v in col:
                    a[col[v]] += sign
                else:
                    b -= sign * self.values[v]
            if a.any():
                rows.append(a)
                rhs.append(b)
        lo, hi = self.bounds()
        bnds = [(lo[v], None if np.isinf(hi[v]) else hi[v]) for v in unk]
        a_eq = np.array(rows) if rows else None
        b_eq = np.array(rhs) if rows else None
        out = {}
        for v, j in col.items():
            c = np.zeros(unk.size)
            c[j] = 1.0
            res_min = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bnds, method="highs")
            res_max = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=bnds, method="highs")
            vmin = res_min.fun if res_min.status == 0 else float(self.values[v])
            vmax = -res_max.fun if res_max.status == 0 else (
                np.inf if res_max.status == 3 else float(self.values[v])
            )
            out[v] = (float(vmin), float(vmax))
        return out

    def solve(self) -> None:
        for _ in range(4 * len(self.values) + 4):
            single = next((e for e in range(len(self.equations))
                           if len(self.eq_unknowns(e)) == 1), None)
            if single is not None:
                if self.complement(single):
                    continue
                # Nothing left to withhold beside it: the term is recomputable anyway. A
                # withheld complement is then shown (and kept public); the cells it was
                # protecting are handled by the audit below.
                u = self.eq_unknowns(single)[0]
                if self.status[u] != 2:  # pragma: no cover - a small count cannot get here
                    break
                self.status[u] = 0
                self.public.add(u)
                continue
            fixed = [v for v, (a, b) in self.intervals().items() if b - a < 0.5]
            if not fixed:
                return
            v = fixed[0]
            eqs = [int(self.parent_eq[v])] if self.parent_eq[v] >= 0 else []
            if v >= self.n and v < self.city:
                eqs.append(v - self.n)  # its own group equation
            if any(self.complement(e) for e in eqs):
                continue
            # Nothing left to withhold around v: drop the "< k" bound of the withheld cells of
            # its equations (they are shown as "geheim"), then of all cells.
            around = {u for e in eqs for u in self.eq_unknowns(e)}
            relabel = [u for u in around if self.status[u] == 1]
            if not relabel:
                relabel = list(np.flatnonzero(self.status == 1))
            if not relabel:  # pragma: no cover - no bound left to drop
                return
            self.status[relabel] = 3
            if self.public_groups:  # the one group total is the city total
                both = max(self.status[self.n], self.status[self.city])
                self.status[self.n] = self.status[self.city] = both


def suppress_counts(
    counts: pd.Series,
    *,
    groups: pd.Series | None = None,
    k: int = DEFAULT_K,
) -> SuppressionResult:
    """Apply primary and secondary suppression to counts per cell, grouped into totals.

    Parameters
    ----------
    counts : pandas.Series
        Non-negative whole counts per cell (e.g. project flats per Stadtteil); index = cell.
    groups : pandas.Series, optional
        Group of each cell (e.g. the Bezirk of each Stadtteil), aligned to ``counts``. The
        group totals and the overall total are assumed to be **shown** (published). Without
        ``groups``, all cells form one group whose total (the city total) is shown.
    k : int, default 5
        Counts ``0 < n < k`` are suppressed (primary).

    Returns
    -------
    SuppressionResult

    Raises
    ------
    InputError
        If counts are negative, not whole or missing, or ``groups`` does not align.

    Notes
    -----
    The table is a tree of sums: every group total :math:`T_b = \\sum_{i \\in b} c_i` and the
    city total :math:`T = \\sum_b T_b`. Each sum is an *equation*. The algorithm:

    1. **Primary**: suppress every cell and every group total with :math:`0 < n < k`. Zeros
       are shown (an empty area reveals no one). The city total is public and never withheld
       as a complement (only when it is itself below ``k``).
    2. **Singleton rule**: while some equation has exactly one withheld term (which would be
       recomputable by subtraction), withhold one more term of that equation: the smallest
       shown cell with count :math:`\\ge k` (ties: first in order); if there is none, the
       group total (which moves the problem one level up, to the city equation, where the
       smallest other group total is withheld, and so on); as a last resort a zero cell.
       In a tree of sums, "no equation with exactly one withheld term" implies that no
       withheld value is determined by the shown values alone: a +1/-1 change can always be
       routed through two withheld terms of each equation it touches.
    3. **Interval audit**: an attacker also knows that a cell shown as "< 5" lies in
       :math:`1..k-1` and that an unsuppressed count is 0 or :math:`\\ge k`. For every withheld
       term the audit solves two linear programs (HiGHS) for its smallest and largest value
       consistent with the shown values, the sums and these bounds (withheld counts
       :math:`\\ge k` get the lower bound :math:`k`, withheld zeros 0). Because the sum
       constraints of a tree are totally unimodular and the bounds are whole numbers, the LP
       optima are whole numbers, so an interval of width :math:`< 1` means the value is
       exactly determined. For the first such term, one more term of its equation is
       withheld as in step 2, and steps 2-3 repeat. If no term is left to withhold (e.g. two
       cells of 4 and a public total of 8), the "< k" label of the withheld cells around it is
       replaced by "geheim", which drops their upper bound.

    The result is the usual hypercube-free heuristic of statistical offices for hierarchical
    tables (cf. τ-ARGUS "modular" method, Hundepool et al. 2012, *Statistical Disclosure
    Control*, ch. 4), small enough for 50 Stadtteile in 9 Bezirke. It minimises neither the
    number nor the sum of withheld cells.
    """
    k = _check_k(k)
    if not isinstance(counts, pd.Series):
        counts = pd.Series(counts)
    num = pd.to_numeric(counts, errors="coerce")
    if num.isna().any() or (num < 0).any() or (num % 1 != 0).any():
        raise InputError("Die Anzahlen müssen ganze Zahlen ab 0 ohne Lücken sein.")
    values = num.to_numpy(dtype=np.int64)
    if groups is None:
        codes = np.zeros(len(values), dtype=np.int64)
        uniques = pd.Index(["gesamt"])
    else:
        if not isinstance(groups, pd.Series) or not groups.index.equals(counts.index):
            raise InputError("Die Gruppen müssen dieselben Zeilen (denselben Index) wie die "
                             "Anzahlen haben.")
        if groups.isna().any():
            raise InputError("Den Gruppen fehlen Werte; jede Zelle braucht ihre Gruppe.")
        codes_arr, uniques = pd.factorize(groups, sort=True)
        codes = np.asarray(codes_arr, dtype=np.int64)
        uniques = pd.Index(uniques)
    tab = _Table(values, codes, len(uniques), k, public_groups=groups is None)
    tab.solve()

    def text(v: int, s: int) -> str:
        if s == 0:
            return suppressed_label(v, k=k)
        return f"< {k}" if s == 1 else SECONDARY_LABEL

    def frame(idx: Sequence[Hashable] | pd.Index, vs: np.ndarray, st: np.ndarray) -> pd.DataFrame:
        shown = st == 0
        return pd.DataFrame(
            {
                "anzahl": pd.array(np.where(shown, vs, 0), dtype="Int64"),
                "anzahl_text": [text(v, s) for v, s in zip(vs, st, strict=True)],
                "unterdrueckung": [_STATUS_TEXT[s] for s in st],
            },
            index=idx,
        ).pipe(lambda f: f.assign(anzahl=f["anzahl"].where(shown)))

    n, m = tab.n, tab.m
    cells = frame(counts.index, tab.values[:n], tab.status[:n])
    cells.insert(0, "gruppe", uniques[codes] if groups is not None else "gesamt")
    grp = frame(uniques, tab.values[n:n + m], tab.status[n:n + m])
    tot = frame(pd.Index(["gesamt"]), tab.values[n + m:], tab.status[n + m:])
    lo, hi = tab.bounds()
    return SuppressionResult(cells=cells, groups=grp, total=tot, k=k, _lower=lo, _upper=hi,
                             _public_groups=groups is None)


def audit_suppression(result: SuppressionResult) -> pd.DataFrame:
    """Return, for every withheld term of ``result``, the interval an attacker can infer.

    Uses only what is shown (the numbers of ``result``), the sums of the hierarchy and the
    bounds of :func:`suppress_counts` (Notes, step 3). Columns: ``ebene`` ("Zelle",
    "Gruppe", "Stadt"), ``name``, ``min``, ``max``. A release is safe when ``max - min >= 1``
    on every row.
    """
    cells, groups = result.cells, result.groups
    n, m = len(cells), len(groups)
    codes = pd.Index(groups.index).get_indexer(cells["gruppe"])
    tab = _Table(np.zeros(n, dtype=np.int64), codes, m, result.k,
                 public_groups=result._public_groups)
    shown_vals = np.concatenate([
        cells["anzahl"].fillna(0).to_numpy(dtype=np.int64),
        groups["anzahl"].fillna(0).to_numpy(dtype=np.int64),
        result.total["anzahl"].fillna(0).to_numpy(dtype=np.int64),
    ])
    status_txt = np.concatenate([cells["unterdrueckung"], groups["unterdrueckung"],
                                 result.total["unterdrueckung"]])
    tab.values = shown_vals
    tab.status = np.array([0 if s == "" else (1 if s == PRIMARY else 2) for s in status_txt],
                          dtype=np.int8)
    tab.values = np.where(tab.status == 0, tab.values, 0)
    lo, hi = result._lower, result._upper
    tab.bounds = lambda: (lo, hi)  # type: ignore[method-assign]
    names = [*cells.index, *groups.index, "gesamt"]
    levels = ["Zelle"] * n + ["Gruppe"] * m + ["Stadt"]
    rows = [
        {"ebene": levels[v], "name": names[v], "min": a, "max": b}
        for v, (a, b) in sorted(tab.intervals().items())
    ]
    return pd.DataFrame(rows, columns=["ebene", "name", "min", "max"])


def mark_confidential(gdf: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    """Mark ``gdf`` (in place, via ``attrs``) as holding the confidential layer ``layer``."""
    gdf.attrs[CONFIDENTIAL_ATTR] = layer
    return gdf


def is_confidential(gdf: pd.DataFrame) -> bool:
    """Return whether ``gdf`` is marked as holding confidential records."""
    return bool(getattr(gdf, "attrs", {}).get(CONFIDENTIAL_ATTR))


def guard(gdf: pd.DataFrame, *, what: str = "Ausgabe") -> None:
    """Raise :class:`ConfidentialDataError` if ``gdf`` would reveal confidential records.

    Every exporter (HTML, GeoJSON, GeoPackage, CSV, GeoTIFF, query results) calls this before
    writing. A frame marked confidential may leave only as the result of :func:`release`.
    """
    if is_confidential(gdf):
        layer = gdf.attrs[CONFIDENTIAL_ATTR]
        raise ConfidentialDataError(
            f"{what}: die Ebene {layer!r} ist vertraulich und darf nicht als Datensätze oder "
            f"Punkte hinaus. Geben Sie sie zusammengefasst aus (Anzahlen je Stadtteil, Bezirk "
            f"oder Gitterzelle, unter {DEFAULT_K} unterdrückt), z. B. "
            f"`gis-planning layers export {layer} ...`."
        )


def release(
    gdf: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    k: int = DEFAULT_K,
    keep: tuple[str, ...] = ("stadtteil_nr", "stadtteil", "bezirk"),
    group: str | None = "bezirk",
) -> gpd.GeoDataFrame:
    """Return the releasable form of ``gdf``: counts per polygon of ``areas``, suppressed.

    Non-confidential frames are returned unchanged. A confidential point layer becomes counts
    per polygon of ``areas`` (only the ``keep`` columns of ``areas`` plus ``anzahl``,
    ``anzahl_text``, ``unterdrueckt`` and ``unterdrueckung``), unmarked so that writers accept
    it. Primary and secondary suppression (:func:`suppress_counts`) are applied: if ``areas``
    has the column ``group`` (default ``"bezirk"``: Stadtteile within Bezirke), the group
    totals and the city total are treated as shown; otherwise the total over all areas.
    """
    if not is_confidential(gdf):
        return gdf
    k = _check_k(k)
    raw = _count_points(gdf, areas)
    groups = areas[group] if group is not None and group in areas.columns else None
    res = suppress_counts(raw, groups=groups, k=k)
    cols = [c for c in keep if c in areas.columns]
    out = areas[[*cols, areas.geometry.name]].copy()
    out["anzahl"] = res.cells["anzahl"].to_numpy()
    out["anzahl_text"] = res.cells["anzahl_text"].to_numpy()
    out["unterdrueckt"] = (res.cells["unterdrueckung"] != "").to_numpy()
    out["unterdrueckung"] = res.cells["unterdrueckung"].to_numpy()
    out = out[[*cols, "anzahl", "anzahl_text", "unterdrueckt", "unterdrueckung",
               areas.geometry.name]]
    out.attrs = {}
    return out


def release_table(
    gdf: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    k: int = DEFAULT_K,
    group: str = "bezirk",
    name_column: str = "stadtteil",
) -> pd.DataFrame:
    """Return counts per area, per group and for the city as one suppressed table (no geometry).

    Rows: one per area (``ebene`` "Stadtteil"), one per group ("Bezirk"), one for the city
    ("Stadt"); columns ``ebene``, ``name``, ``gruppe``, ``anzahl``, ``anzahl_text``,
    ``unterdrueckung``. Works for confidential and non-confidential point layers alike.
    """
    k = _check_k(k)
    raw = _count_points(gdf, areas)
    if name_column in areas.columns:
        raw.index = pd.Index(areas[name_column].to_numpy())
    groups = None
    if group in areas.columns:
        groups = pd.Series(areas[group].to_numpy(), index=raw.index)
    res = suppress_counts(raw, groups=groups, k=k)
    return res.table()


# --------------------------------------------------------------------------------------
# Density surfaces
# --------------------------------------------------------------------------------------


def support_counts(points_xy: np.ndarray, centres_xy: np.ndarray, *, radius: float) -> np.ndarray:
    """Return, for every cell centre, the number of points within ``radius`` (metres).

    For a kernel density with a kernel of bounded support (quartic, Epanechnikov, uniform) and
    bandwidth ``radius`` this is the number of distinct points that contribute to the cell;
    pass it to :func:`mask_density`. ``centres_xy`` may have any leading shape ``(..., 2)``;
    the result has that shape without the last axis.
    """
    from scipy.spatial import cKDTree

    pts = np.asarray(points_xy, dtype=float).reshape(-1, 2)
    centres = np.asarray(centres_xy, dtype=float)
    if centres.shape[-1] != 2:
        raise InputError("Die Zellmittelpunkte brauchen je zwei Koordinaten (x, y).")
    if not radius > 0:
        raise InputError(f"Der Radius muss größer als 0 Meter sein, nicht {radius!r}.")
    flat = centres.reshape(-1, 2)
    if pts.size == 0:
        return np.zeros(centres.shape[:-1], dtype=np.int64)
    tree = cKDTree(pts)
    n = tree.query_ball_point(flat, r=radius, return_length=True)
    return np.asarray(n, dtype=np.int64).reshape(centres.shape[:-1])


def mask_density(
    counts: np.ndarray,
    density: np.ndarray,
    *,
    k: int = DEFAULT_K,
    nodata: float = np.nan,
) -> np.ndarray:
    """Return a copy of ``density`` with the cells supported by fewer than ``k`` points masked.

    Parameters
    ----------
    counts : numpy.ndarray
        Number of distinct points that contribute to each cell (same shape as ``density``):
        for a kernel with bounded support, the points within the bandwidth
        (:func:`support_counts`); for a plain count raster, the points in the cell.
    density : numpy.ndarray
        The surface (e.g. a kernel density of project flats).
    k : int, default 5
        Cells with ``0 < counts < k`` are set to ``nodata``. Cells with no supporting point
        and density 0 stay 0 (an empty area reveals no one); cells with no supporting point
        but a non-zero density (a kernel wider than the counting radius) are masked too.
    nodata : float, default NaN
        Value written into masked cells (use the raster's nodata value).

    Returns
    -------
    numpy.ndarray
        Float array, ``density``'s shape.

    Notes
    -----
    The raster exporter must count support with the same radius as the kernel; otherwise a
    single flat can be located from the shape of the unmasked neighbouring cells.
    """
    k = _check_k(k)
    c = np.asarray(counts)
    d = np.asarray(density, dtype=float)
    if c.shape != d.shape:
        raise InputError(
            f"Anzahlen ({c.shape}) und Dichte ({d.shape}) liegen auf verschiedenen Rastern; "
            f"berechnen Sie beide auf einem Raster."
        )
    empty = (c == 0) & (d == 0)
    masked = (c < k) & ~empty
    out = d.copy()
    out[masked] = nodata
    return out
