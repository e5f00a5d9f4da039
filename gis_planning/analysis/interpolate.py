"""Move numbers between units that do not nest (areal interpolation) with an audit trail.

Bezirk -> Stadtteil, Stadtteil <-> JobCenter area, polygons -> grid: counts (extensive variables)
are split by the share of each source unit that falls into each target unit, either by area or by
an auxiliary weight layer (e.g. residents per 100 m cell or per building); rates (intensive
variables) are averaged. :func:`area_interpolate` returns, like ``tobler.area_weighted
.area_interpolate``, the target GeoDataFrame with the interpolated columns; with ``audit=True``
it also returns its audit, the crosswalk it used and the part of each source that no target
received, so totals can be checked:

``sum(result[v]) + sum(unallocated[v]) == sum(source[v])`` for every extensive ``v``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Literal, overload

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._errors import GeometryError, InputError, SchemaError
from .._validate import require_columns, require_numeric, require_projected, require_same_crs

__all__ = [
    "InterpolationResult",
    "apply_crosswalk",
    "area_interpolate",
    "crosswalk_from_membership",
]

logger = logging.getLogger(__name__)

_TOL = 1e-9
#: How messages name the layers of an interpolation.
_WHAT = {"source": "Quell-Ebene", "target": "Ziel-Ebene", "weights": "Gewichtsebene"}


@dataclass(frozen=True)
class InterpolationResult:
    """Result of an interpolation with its audit.

    Attributes
    ----------
    result : geopandas.GeoDataFrame or pandas.DataFrame
        The targets (index and columns kept) with one new column per interpolated variable.
        A GeoDataFrame for :func:`area_interpolate` (the same frame it returns first with
        ``audit=True``), a DataFrame indexed by target id for :func:`apply_crosswalk`.
    crosswalk : pandas.DataFrame
        One row per (source, target) pair with a positive share: ``source_id``, ``target_id``,
        ``share`` (fraction of the source's measure that lies in the target, 0-1),
        ``target_share`` (fraction of the target's covered measure that comes from the source),
        ``measure`` (area in m² or auxiliary weight of the intersection) and, for geometric
        interpolation, ``area_m2``.
    unallocated : pandas.DataFrame
        One row per source, indexed by source id: ``share_unallocated`` (fraction of the
        source's measure not covered by any target) and, per extensive variable, the amount
        that was not allocated.
    """

    result: gpd.GeoDataFrame | pd.DataFrame
    crosswalk: pd.DataFrame
    unallocated: pd.DataFrame

    def check_totals(self, source_totals: pd.Series, *, rtol: float = 1e-9) -> pd.DataFrame:
        """Compare source totals with allocated + unallocated totals per extensive variable.

        Parameters
        ----------
        source_totals : pandas.Series
            Sum of each extensive variable over the sources (``source[cols].sum()``).
        rtol : float, default 1e-9
            Relative tolerance of the ``ok`` column.

        Returns
        -------
        pandas.DataFrame
            Index = variable; columns ``source``, ``allocated``, ``unallocated``, ``ok``.
        """
        rows = {}
        for col, total in source_totals.items():
            alloc = float(self.result[col].sum())
            unall = float(self.unallocated[col].sum())
            ok = bool(np.isclose(alloc + unall, total, rtol=rtol, atol=1e-9))
            rows[col] = {"source": float(total), "allocated": alloc, "unallocated": unall, "ok": ok}
        return pd.DataFrame.from_dict(rows, orient="index")


def _ids(df: pd.DataFrame, column: str | None, *, name: str) -> pd.Index:
    if column is None:
        ids = df.index
    else:
        require_columns(df, [column], name=name)
        ids = pd.Index(df[column])
    if not ids.is_unique:
        dup = ids[ids.duplicated()].unique()[:5].tolist()
        which = f"Spalte {column!r}" if column else "Zeilenkennung"
        raise SchemaError(
            f"{_WHAT.get(name, name)}: {which} muss jede Einheit eindeutig benennen; doppelt: "
            f"{dup}. Fassen Sie die doppelten Einheiten zusammen oder nennen Sie eine andere "
            f"Kennspalte."
        )
    return ids


def _as_lists(extensive: Sequence[str], intensive: Sequence[str]) -> tuple[list[str], list[str]]:
    if isinstance(extensive, str) or isinstance(intensive, str):
        raise InputError("Anzahl- und Anteilsspalten müssen als Listen von Spaltennamen "
                         "angegeben werden, nicht als ein Text.")
    return list(extensive), list(intensive)


def _check_variables(
    source: pd.DataFrame, extensive: Sequence[str], intensive: Sequence[str], *, name: str
) -> None:
    both = set(extensive) & set(intensive)
    if both:
        raise InputError(f"Spalte(n) {sorted(both)} sind zugleich als Anzahl und als Anteil "
                         f"angegeben; wählen Sie eins.")
    require_numeric(source, [*extensive, *intensive], name=name)
    for col in extensive:
        values = source[col].to_numpy(dtype=float)
        if np.isnan(values).any():
            raise SchemaError(
                f"{_WHAT.get(name, name)}: Spalte {col!r} hat {int(np.isnan(values).sum())} "
                f"fehlende(n) Wert(e); Anzahlen lassen sich so nicht aufteilen. Füllen Sie sie "
                f"(0) oder lassen Sie diese Einheiten weg."
            )


def _aux_measure(
    pieces: np.ndarray,
    piece_src: np.ndarray,
    piece_tgt: np.ndarray,
    src_geoms: np.ndarray,
    weights: gpd.GeoDataFrame,
    weight_column: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Auxiliary weight of each (source, target) piece and of each whole source."""
    w = weights[weight_column].to_numpy(dtype=float)
    geoms = weights.geometry.values
    n_src = len(src_geoms)
    kinds = set(shapely.get_type_id(geoms).tolist())
    if kinds <= {0, 4}:  # points / multipoints: each point counted once, in its first unit
        pts = shapely.centroid(geoms)
        src_tree = shapely.STRtree(src_geoms)
        p_idx, s_idx = src_tree.query(pts, predicate="intersects")
        first = pd.Series(s_idx).groupby(p_idx).first()
        point_src = np.full(len(pts), -1)
        point_src[first.index.to_numpy()] = first.to_numpy()
        src_measure = np.bincount(
            point_src[point_src >= 0], weights=w[point_src >= 0], minlength=n_src
        )
        piece_tree = shapely.STRtree(pieces)
        p_idx, k_idx = piece_tree.query(pts, predicate="intersects")
        # a point is counted in a piece of its own source only, once
        ok = piece_src[k_idx] == point_src[p_idx]
        p_idx, k_idx = p_idx[ok], k_idx[ok]
        firstk = pd.Series(k_idx).groupby(p_idx).first()
        piece_measure = np.bincount(
            firstk.to_numpy(), weights=w[firstk.index.to_numpy()], minlength=len(pieces)
        )
        return piece_measure, src_measure
    if not kinds <= {3, 6}:
        raise GeometryError(
            "Die Gewichtsebene muss nur Punkte oder nur Polygone enthalten (z. B. ein Gitter "
            f"mit Einwohnern); gefunden: Geometrietypen {sorted(kinds)}."
        )
    cell_area = shapely.area(geoms)
    density = np.divide(w, cell_area, out=np.zeros_like(w), where=cell_area > 0)
    tree = shapely.STRtree(geoms)

    def _measure(parts: np.ndarray) -> np.ndarray:
        k_idx, c_idx = tree.query(parts, predicate="intersects")
        inter = shapely.area(shapely.intersection(parts[k_idx], geoms[c_idx]))
        return np.bincount(k_idx, weights=inter * density[c_idx], minlength=len(parts))

    return _measure(pieces), _measure(src_geoms)


@overload
def area_interpolate(
    source: gpd.GeoDataFrame, target: gpd.GeoDataFrame, *, extensive: Sequence[str] = ...,
    intensive: Sequence[str] = ..., weights: gpd.GeoDataFrame | None = ...,
    weight_column: str | None = ..., source_id: str | None = ..., target_id: str | None = ...,
    renormalize: bool = ..., audit: Literal[False] = ...,
) -> gpd.GeoDataFrame: ...


@overload
def area_interpolate(
    source: gpd.GeoDataFrame, target: gpd.GeoDataFrame, *, extensive: Sequence[str] = ...,
    intensive: Sequence[str] = ..., weights: gpd.GeoDataFrame | None = ...,
    weight_column: str | None = ..., source_id: str | None = ..., target_id: str | None = ...,
    renormalize: bool = ..., audit: Literal[True],
) -> tuple[gpd.GeoDataFrame, InterpolationResult]: ...


def area_interpolate(
    source: gpd.GeoDataFrame,
    target: gpd.GeoDataFrame,
    *,
    extensive: Sequence[str] = (),
    intensive: Sequence[str] = (),
    weights: gpd.GeoDataFrame | None = None,
    weight_column: str | None = None,
    source_id: str | None = None,
    target_id: str | None = None,
    renormalize: bool = False,
    audit: bool = False,
) -> gpd.GeoDataFrame | tuple[gpd.GeoDataFrame, InterpolationResult]:
    """Interpolate counts and rates from source polygons to target polygons.

    Parameters
    ----------
    source : geopandas.GeoDataFrame
        Units that carry the numbers (e.g. Bezirke), projected CRS in metres (EPSG:25832).
    target : geopandas.GeoDataFrame
        Units to move the numbers to (e.g. Stadtteile, JobCenter areas, a :func:`grid`),
        same CRS as ``source``.
    extensive : sequence of str
        Count columns of ``source`` (residents, SGB II recipients). Split by share, summed.
    intensive : sequence of str
        Rate columns of ``source`` (shares, densities). Averaged, weighted by the measure of
        each source's intersection with the target.
    weights : geopandas.GeoDataFrame, optional
        Auxiliary layer for population-weighted (dasymetric) interpolation: polygons (e.g. a
        100 m grid with residents, assumed uniform within each polygon) or points (e.g.
        addresses with residents). Same CRS. Without it, interpolation is by area.
    weight_column : str, optional
        Column of ``weights`` with the auxiliary weight; required with ``weights``.
    source_id, target_id : str, optional
        Id columns; default: the index. Used in the crosswalk and the unallocated table.
    renormalize : bool, default False
        If True, a source only partly covered by the targets gives all of its count to the
        covered part (shares divided by the covered share), so nothing is unallocated.
    audit : bool, default False
        If True, return ``(result, audit)``: the audit is an :class:`InterpolationResult`
        with the crosswalk, the unallocated totals and :meth:`~InterpolationResult.check_totals`.

    Returns
    -------
    geopandas.GeoDataFrame or (geopandas.GeoDataFrame, InterpolationResult)
        A copy of ``target`` (index, columns, CRS kept) plus one column per variable; targets
        not touched get 0 for counts and NaN for rates (as ``tobler``'s
        ``area_interpolate``). With ``audit=True`` also the audit (``.crosswalk``,
        ``.unallocated``, ``.result`` is the same frame).

    Raises
    ------
    CRSError
        If a layer has no CRS, a geographic CRS, or the layers' CRSs differ.
    SchemaError
        If a column is missing, not numeric, a count has missing values, ids are not unique or
        a variable already exists in ``target``.
    InputError
        If ``weights`` is given without ``weight_column`` or a variable is listed twice.

    Notes
    -----
    Let :math:`m(\\cdot)` be the measure: area, or auxiliary weight
    :math:`m(A) = \\sum_c w_c\\,|A \\cap c| / |c|` for polygon cells :math:`c` (points count
    fully in the one unit they fall in). For source :math:`s` and target :math:`t`

    .. math:: a_{st} = m(s \\cap t) / m(s), \\qquad
              \\hat v_t = \\sum_s a_{st} v_s \\quad (\\text{extensive}),

    .. math:: \\hat r_t = \\sum_s m(s \\cap t)\\, r_s / \\sum_s m(s \\cap t)
              \\quad (\\text{intensive}).

    The unallocated share of a source is :math:`u_s = 1 - \\sum_t a_{st}` and its unallocated
    count :math:`u_s v_s`; hence :math:`\\sum_t \\hat v_t + \\sum_s u_s v_s = \\sum_s v_s`
    exactly (totals are preserved), provided the targets do not overlap each other. With
    ``renormalize=True``, :math:`a_{st}` is divided by :math:`1-u_s`. A source with counts but
    zero auxiliary weight falls back to area shares (a warning names it). This is the areal
    weighting of Goodchild & Lam (1980) and the dasymetric variant of Mennis (2003), as in
    PySAL's ``tobler.area_weighted`` (which prints and returns ``None`` on a CRS mismatch;
    we raise instead).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> src = gpd.GeoDataFrame({"ew": [100.0]}, geometry=[shapely.box(0, 0, 200, 100)],
    ...                        crs="EPSG:25832")
    >>> tgt = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 100, 100),
    ...                                  shapely.box(100, 0, 300, 100)], crs="EPSG:25832")
    >>> area_interpolate(src, tgt, extensive=["ew"])["ew"].tolist()
    [50.0, 50.0]
    >>> out, audit = area_interpolate(src, tgt.iloc[:1], extensive=["ew"], audit=True)
    >>> audit.unallocated["ew"].tolist()
    [50.0]
    """
    for name, gdf in (("source", source), ("target", target)):
        if not isinstance(gdf, gpd.GeoDataFrame):
            raise InputError(f"{_WHAT[name]}: eine Ebene mit Geometrien (GeoDataFrame) "
                             f"nötig, nicht {type(gdf).__name__}.")
        require_projected(gdf, name=name)
    require_same_crs(("source", source), ("target", target))
    extensive, intensive = _as_lists(extensive, intensive)
    _check_variables(source, extensive, intensive, name="source")
    clash = [c for c in [*extensive, *intensive] if c in target.columns]
    if clash:
        raise SchemaError(
            f"Die Ziel-Ebene hat schon die Spalte(n) {clash}; entfernen oder benennen Sie sie "
            f"vor der Übertragung um."
        )
    if weights is not None:
        if weight_column is None:
            raise InputError("Zur Gewichtsebene fehlt die Spalte mit dem Gewicht (z. B. "
                             "'einwohner').")
        require_projected(weights, name="weights")
        require_same_crs(("source", source), ("weights", weights))
        require_numeric(weights, [weight_column], name="weights")
        wv = weights[weight_column].to_numpy(dtype=float)
        if not np.isfinite(wv).all() or (wv < 0).any():
            raise SchemaError(
                f"Die Gewichtsspalte {weight_column!r} hat fehlende, unendliche oder negative "
                f"Werte (zuerst in Zeile "
                f"{int(np.flatnonzero(~np.isfinite(wv) | (wv < 0))[0]) + 1}); füllen oder "
                f"entfernen Sie sie: ein fehlendes Gewicht ließe Anzahlen stillschweigend "
                f"verschwinden."
            )
    src_ids = _ids(source, source_id, name="source")
    tgt_ids = _ids(target, target_id, name="target")

    src_geoms = np.asarray(source.geometry.array, dtype=object)
    tgt_geoms = np.asarray(target.geometry.array, dtype=object)
    if shapely.is_missing(src_geoms).any() or shapely.is_missing(tgt_geoms).any():
        raise GeometryError("Quell- und Ziel-Ebene dürfen keine fehlenden Geometrien "
                            "enthalten.")
    tree = shapely.STRtree(tgt_geoms)
    s_idx, t_idx = tree.query(src_geoms, predicate="intersects")
    pieces = shapely.intersection(src_geoms[s_idx], tgt_geoms[t_idx])
    piece_area = shapely.area(pieces)
    keep = piece_area > 0
    s_idx, t_idx, pieces, piece_area = s_idx[keep], t_idx[keep], pieces[keep], piece_area[keep]
    src_area = shapely.area(src_geoms)

    if weights is None:
        measure, src_measure = piece_area, src_area
    else:
        measure, src_measure = _aux_measure(pieces, s_idx, t_idx, src_geoms, weights, weight_column)
        values = (
            source[extensive].to_numpy(dtype=float) if extensive else np.zeros((len(source), 0))
        )
        empty = (src_measure <= 0) & (np.abs(values).sum(axis=1) > 0) & (src_area > 0)
        if empty.any():
            warnings.warn(
                f"{int(empty.sum())} Quelleinheit(en) haben Anzahlen, aber das Hilfsgewicht "
                f"0 ({list(src_ids[empty][:5])}); sie werden stattdessen nach Fläche "
                f"aufgeteilt.",
                stacklevel=2,
            )
            fallback = empty[s_idx]
            scale = np.where(src_area > 0, 1.0, 0.0)
            measure = np.where(fallback, piece_area * scale[s_idx], measure)
            src_measure = np.where(empty, src_area, src_measure)

    share = np.divide(
        measure, src_measure[s_idx], out=np.zeros_like(measure), where=src_measure[s_idx] > 0
    )
    covered = np.bincount(s_idx, weights=share, minlength=len(source))
    if (covered > 1 + 1e-6).any():
        bad = list(src_ids[covered > 1 + 1e-6][:5])
        warnings.warn(
            f"Die Zieleinheiten überlappen: Quelleinheit(en) {bad} werden mehrfach verteilt "
            f"(bis {covered.max():.4f} ihres Maßes); die Summen bleiben nicht erhalten.",
            stacklevel=2,
        )
    unalloc_share = np.clip(1.0 - covered, 0.0, None)
    unalloc_share[unalloc_share < _TOL] = 0.0
    if renormalize:
        denom = covered[s_idx]
        share = np.divide(share, denom, out=np.zeros_like(share), where=denom > 0)
        unalloc_share = np.where(covered > 0, 0.0, np.where(src_measure > 0, 1.0, 0.0))

    tgt_measure = np.bincount(t_idx, weights=measure, minlength=len(target))
    target_share = np.divide(
        measure, tgt_measure[t_idx], out=np.zeros_like(measure), where=tgt_measure[t_idx] > 0
    )
    crosswalk = pd.DataFrame(
        {
            "source_id": src_ids[s_idx],
            "target_id": tgt_ids[t_idx],
            "share": share,
            "target_share": target_share,
            "measure": measure,
            "area_m2": piece_area,
        }
    )
    crosswalk = crosswalk[crosswalk["share"] > 0].reset_index(drop=True)

    result = target.copy()
    for col in extensive:
        v = source[col].to_numpy(dtype=float)
        result[col] = np.bincount(t_idx, weights=share * v[s_idx], minlength=len(target))
    for col in intensive:
        r = source[col].to_numpy(dtype=float)
        ok = ~np.isnan(r[s_idx])
        num = np.bincount(t_idx[ok], weights=measure[ok] * r[s_idx][ok], minlength=len(target))
        den = np.bincount(t_idx[ok], weights=measure[ok], minlength=len(target))
        result[col] = np.divide(num, den, out=np.full(len(target), np.nan), where=den > 0)

    unallocated = pd.DataFrame({"share_unallocated": unalloc_share}, index=src_ids)
    unallocated.index.name = source_id or source.index.name or "source_id"
    for col in extensive:
        unallocated[col] = unalloc_share * source[col].to_numpy(dtype=float)
    if (unalloc_share > 0).any():
        logger.info(
            "Flächenübertragung: %d Quelleinheit(en) nicht ganz von Zieleinheiten bedeckt",
            int((unalloc_share > 0).sum()),
        )
    if not audit:
        return result
    return result, InterpolationResult(result=result, crosswalk=crosswalk,
                                       unallocated=unallocated)


def crosswalk_from_membership(
    membership: pd.DataFrame,
    *,
    source_id: str | None = None,
    target_id: str | None = None,
    share: str | None = None,
    partial: str | None = None,
    partial_share: float = 0.5,
) -> pd.DataFrame:
    """Build a crosswalk from a membership list or matrix (no geometry needed).

    Parameters
    ----------
    membership : pandas.DataFrame
        Either a long table with one row per (source, target) pair (give ``source_id`` and
        ``target_id``), e.g. the seed's list of Stadtteile per JobCenter area, or a wide matrix
        with sources as index, targets as columns and shares (0-1) as values (give neither).
    source_id, target_id : str, optional
        Columns of the long table naming the source and target unit.
    share : str, optional
        Column with the numeric share of the source that lies in the target (0-1).
    partial : str, optional
        Boolean column: True marks a partial membership ("teilw.") that gets ``partial_share``,
        False a full one (share 1). Used when ``share`` is not given.
    partial_share : float, default 0.5
        Share given to partial memberships.

    Returns
    -------
    pandas.DataFrame
        Columns ``source_id``, ``target_id``, ``share``, ``target_share`` (NaN here: no measure
        is known without geometry; :func:`apply_crosswalk` fills it with the share-based
        fraction) sorted by source and target, ready for :func:`apply_crosswalk`.

    Raises
    ------
    SchemaError
        If a column is missing, a share is outside [0, 1] or a pair occurs twice.
    InputError
        If a source's shares sum to more than 1.

    Notes
    -----
    In the long form without ``share`` and ``partial`` every listed pair gets share 1. A
    source listed "teilweise" in only one area keeps ``1 - partial_share`` unallocated, which
    :func:`apply_crosswalk` reports instead of hiding it.
    """
    if source_id is None and target_id is None:
        wide = membership.copy()
        wide.index.name = "source_id"
        long = wide.stack(future_stack=True).rename("share").reset_index()
        long.columns = ["source_id", "target_id", "share"]
        long = long[long["share"].notna() & (long["share"] != 0)]
    else:
        if source_id is None or target_id is None:
            raise InputError(
                "Für die lange Form beide Kennspalten (Quelle und Ziel) nennen, für die "
                "Matrixform keine."
            )
        require_columns(membership, [source_id, target_id], name="membership")
        long = pd.DataFrame(
            {
                "source_id": membership[source_id].to_numpy(),
                "target_id": membership[target_id].to_numpy(),
            }
        )
        if share is not None:
            require_numeric(membership, [share], name="membership")
            long["share"] = membership[share].to_numpy(dtype=float)
        elif partial is not None:
            require_columns(membership, [partial], name="membership")
            flags = membership[partial].fillna(False).astype(bool).to_numpy()
            long["share"] = np.where(flags, float(partial_share), 1.0)
        else:
            long["share"] = 1.0
    long["share"] = pd.to_numeric(long["share"], errors="raise").astype(float)
    if ((long["share"] < 0) | (long["share"] > 1)).any():
        raise SchemaError("Die Anteile der Zuordnung müssen zwischen 0 und 1 liegen.")
    dup = long.duplicated(["source_id", "target_id"])
    if dup.any():
        pairs = long.loc[dup, ["source_id", "target_id"]].to_numpy().tolist()[:5]
        raise SchemaError(f"Die Zuordnung nennt Paare doppelt: {pairs}.")
    total = long.groupby("source_id")["share"].sum()
    over = total[total > 1 + 1e-9]
    if len(over):
        raise InputError(
            f"Die Anteile der Quelleinheit(en) {over.index.tolist()[:5]} ergeben mehr als 1 "
            f"(bis {over.max():.3f}); eine Einheit lässt sich nicht in mehr als ihr Ganzes "
            f"teilen."
        )
    long["target_share"] = np.nan
    return long.sort_values(["source_id", "target_id"]).reset_index(drop=True)


def apply_crosswalk(
    source: pd.DataFrame,
    crosswalk: pd.DataFrame,
    *,
    extensive: Sequence[str] = (),
    intensive: Sequence[str] = (),
    source_id: str | None = None,
    targets: Sequence[Hashable] | None = None,
) -> InterpolationResult:
    """Apply a crosswalk (from :func:`crosswalk_from_membership` or an earlier interpolation).

    Parameters
    ----------
    source : pandas.DataFrame
        Source table with the variables; ids in ``source_id`` or the index.
    crosswalk : pandas.DataFrame
        Columns ``source_id``, ``target_id``, ``share``.
    extensive, intensive : sequence of str
        As in :func:`area_interpolate`. Without geometry or population, intensive values are
        averaged with the crosswalk ``share`` as weight (a rough approximation).
    source_id : str, optional
        Id column of ``source``; default the index.
    targets : sequence, optional
        Full list of target ids (so targets without any source appear with 0); default the
        targets in the crosswalk.

    Returns
    -------
    InterpolationResult
        ``.result`` is a DataFrame indexed by ``target_id``.

    Raises
    ------
    SchemaError
        If columns are missing or the crosswalk names sources that are not in ``source``.

    Notes
    -----
    :math:`\\hat v_t = \\sum_s a_{st} v_s`; unallocated :math:`(1 - \\sum_t a_{st}) v_s`;
    intensive :math:`\\hat r_t = \\sum_s a_{st} r_s / \\sum_s a_{st}`.
    """
    extensive, intensive = _as_lists(extensive, intensive)
    _check_variables(source, extensive, intensive, name="source")
    require_columns(crosswalk, ["source_id", "target_id", "share"], name="crosswalk")
    ids = _ids(source, source_id, name="source")
    unknown = sorted(set(crosswalk["source_id"]) - set(ids), key=str)
    if unknown:
        raise SchemaError(
            f"Die Zuordnung nennt Quelleinheiten, die es nicht gibt: {unknown[:5]}; prüfen "
            f"Sie die Schreibweise."
        )
    pos = pd.Series(np.arange(len(ids)), index=ids)
    s_idx = pos.loc[crosswalk["source_id"].to_numpy()].to_numpy()
    tgt_index = pd.Index(targets if targets is not None else pd.unique(crosswalk["target_id"]))
    tgt_index.name = "target_id"
    t_pos = pd.Series(np.arange(len(tgt_index)), index=tgt_index)
    missing = set(crosswalk["target_id"]) - set(tgt_index)
    if missing:
        raise SchemaError(
            f"Die Zuordnung nennt Zieleinheiten, die es nicht gibt: "
            f"{sorted(missing, key=str)[:5]}."
        )
    t_idx = t_pos.loc[crosswalk["target_id"].to_numpy()].to_numpy()
    share = crosswalk["share"].to_numpy(dtype=float)
    result = pd.DataFrame(index=tgt_index)
    for col in extensive:
        v = source[col].to_numpy(dtype=float)
        result[col] = np.bincount(t_idx, weights=share * v[s_idx], minlength=len(tgt_index))
    for col in intensive:
        r = source[col].to_numpy(dtype=float)
        ok = ~np.isnan(r[s_idx])
        num = np.bincount(t_idx[ok], weights=share[ok] * r[s_idx][ok], minlength=len(tgt_index))
        den = np.bincount(t_idx[ok], weights=share[ok], minlength=len(tgt_index))
        result[col] = np.divide(num, den, out=np.full(len(tgt_index), np.nan), where=den > 0)
    covered = np.bincount(s_idx, weights=share, minlength=len(ids))
    unalloc_share = np.clip(1.0 - covered, 0.0, None)
    unalloc_share[unalloc_share < _TOL] = 0.0
    unallocated = pd.DataFrame({"share_unallocated": unalloc_share}, index=ids)
    unallocated.index.name = source_id or source.index.name or "source_id"
    for col in extensive:
        unallocated[col] = unalloc_share * source[col].to_numpy(dtype=float)
    cw = crosswalk.copy()
    if "target_share" not in cw.columns or cw["target_share"].isna().all():
        tot = np.bincount(t_idx, weights=share, minlength=len(tgt_index))
        cw["target_share"] = np.divide(
            share, tot[t_idx], out=np.zeros_like(share), where=tot[t_idx] > 0
        )
    return InterpolationResult(result=result, crosswalk=cw, unallocated=unallocated)
