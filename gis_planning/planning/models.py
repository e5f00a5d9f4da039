"""Siting inputs and results: containers, validation of demand and candidates, coverage.

Part of :mod:`gis_planning.planning.siting` (the public API); the models are solved in
:mod:`.coverage` (MCLP, LSCP) and :mod:`.pmedian`, with the HiGHS plumbing of :mod:`.solver`,
and drawn by :mod:`.catchments`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from .._errors import GeometryError, InputError, SchemaError
from .._validate import require_columns, require_numeric, require_projected, require_same_crs

__all__ = [
    "DEFAULT_MILP_LIMIT",
    "DEFAULT_RADIUS",
    "SitingResult",
    "SitingSummary",
    "coverage_matrix",
    "demand_points",
]

Method = Literal["auto", "milp", "greedy"]
Catchment = Literal["buffer", "voronoi"]
BoundaryLike = gpd.GeoDataFrame | gpd.GeoSeries | BaseGeometry | None
FixedLike = str | Sequence[bool] | np.ndarray | pd.Series | None
CostLike = np.ndarray | pd.DataFrame | None

#: Default walking radius in metres (about 10 minutes on foot).
DEFAULT_RADIUS = 800.0
#: Default size limit (nonzeros of the constraint matrix) above which ``method="auto"`` uses
#: the greedy heuristic instead of the exact MILP.
DEFAULT_MILP_LIMIT = 3_000_000

# --------------------------------------------------------------------------------------------
# Result containers
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SitingSummary:
    """Key figures of one solved siting model.

    Attributes
    ----------
    model : str
        ``"mclp"``, ``"lscp"`` or ``"pmedian"``.
    method : str
        ``"milp"`` (HiGHS branch and bound) or ``"greedy"`` (heuristic with bound).
    status : str
        ``"optimal"`` (proven), ``"time_limit"`` (best solution when the time limit stopped
        the solver, ``gap`` > 0) or ``"heuristic"`` (greedy, or not proven; see ``gap``).
    optimal : bool
        True if the solution is proven optimal (gap within HiGHS' tolerance).
    objective : float
        MCLP: covered weight; LSCP: number of sites; p-median: total weighted distance (m).
    bound : float
        Proven bound on the optimum (upper bound for MCLP, lower bound for LSCP / p-median).
    gap : float
        ``|bound - objective| / max(|objective|, 1e-9)``; 0 when proven optimal.
    bound_method : str
        How ``bound`` was obtained ("milp dual bound", "online submodular bound", ...).
    p : int or None
        Number of sites including fixed ones (None for LSCP, where it is the result).
    radius : float or None
        Service radius in metres (None for p-median).
    n_sites, n_fixed, n_demand, n_candidates, n_uncoverable : int
        Chosen sites, forced sites, demand units, candidates, demand units that no candidate
        reaches within ``radius``.
    total_weight, covered_weight, coverage_share : float
        Demand weight in total, within ``radius`` of a chosen site (served, if capacitated),
        and their ratio.
    mean_distance : float
        Weighted mean distance (m) from a demand unit to its allocated site, over allocated
        demand.
    max_distance : float
        Largest distance (m) from a demand unit with weight to its allocated site.
    uncoverable_weight : float
        Demand weight that no candidate reaches within ``radius`` (0 for p-median): no
        choice of sites can serve it.
    runtime_s : float
        Wall time of the whole call in seconds (model building and solving).
    """

    model: str
    method: str
    status: str
    optimal: bool
    objective: float
    bound: float
    gap: float
    bound_method: str
    p: int | None
    radius: float | None
    n_sites: int
    n_fixed: int
    n_demand: int
    n_candidates: int
    n_uncoverable: int
    total_weight: float
    covered_weight: float
    coverage_share: float
    mean_distance: float
    max_distance: float
    uncoverable_weight: float
    runtime_s: float

    def to_series(self) -> pd.Series:
        """Return the summary as a :class:`pandas.Series` (one entry per attribute)."""
        return pd.Series(asdict(self), dtype=object)


@dataclass(frozen=True)
class SitingResult:
    """Solution of a siting model, as GeoDataFrames in the CRS of the inputs.

    Attributes
    ----------
    sites : geopandas.GeoDataFrame
        The chosen candidates (index and columns of ``candidates`` kept) plus ``fixed`` (bool),
        ``n_allocated`` (demand units allocated), ``allocated_weight`` (demand weight served),
        ``capacity`` and ``utilisation`` (NaN when uncapacitated).
    allocation : geopandas.GeoDataFrame
        One row per demand unit (index of ``demand``): ``weight``, ``site`` (index label of the
        allocated site, missing if none), ``distance_m`` (to the allocated site or, if none, to
        the nearest chosen site), ``covered`` (bool: allocated within the radius),
        ``served_weight`` (weight times the served fraction) and ``coverable`` (some candidate
        lies within the radius). Geometry: the demand point used by the model.
    catchments : geopandas.GeoDataFrame
        One polygon per chosen site (index of ``sites``) with ``allocated_weight`` and
        ``area_m2``; see :func:`catchments` for how it is drawn.
    summary : SitingSummary
        Objective, coverage share, solver status, gap and runtime.
    """

    sites: gpd.GeoDataFrame
    allocation: gpd.GeoDataFrame
    catchments: gpd.GeoDataFrame
    summary: SitingSummary


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------
def demand_points(
    demand: gpd.GeoDataFrame, *, how: Literal["representative", "centroid"] = "representative"
) -> gpd.GeoSeries:
    """Return one point per demand unit.

    Parameters
    ----------
    demand : geopandas.GeoDataFrame
        Points or polygons in a projected CRS.
    how : {"representative", "centroid"}, keyword-only
        For non-point geometries: ``"representative"`` (default) uses
        :meth:`~geopandas.GeoSeries.representative_point`, a point guaranteed to lie inside the
        polygon (a centroid of a U-shaped Stadtteil can fall outside it); ``"centroid"`` uses
        the centroid. Points are returned unchanged.

    Returns
    -------
    geopandas.GeoSeries
        Points, same index and CRS as ``demand``.

    Raises
    ------
    GeometryError
        If a geometry is missing or empty.
    InputError
        If ``how`` is not one of the allowed values.
    """
    if how not in ("representative", "centroid"):
        raise InputError(f"Nachfragepunkt {how!r} unbekannt; möglich: 'representative' "
                         f"(Punkt in der Fläche) oder 'centroid' (Schwerpunkt).")
    geom = demand.geometry
    bad = geom.isna() | geom.is_empty
    if bad.any():
        raise GeometryError(
            f"Die Nachfrage hat {int(bad.sum())} fehlende oder leere Geometrien (erste: "
            f"{demand.index[bad.to_numpy()][0]!r}); entfernen Sie diese Zeilen."
        )
    is_point = (geom.geom_type == "Point").to_numpy()
    if is_point.all():
        return geom.copy()
    other = geom.representative_point() if how == "representative" else geom.centroid
    return gpd.GeoSeries(np.where(is_point, geom.to_numpy(), other.to_numpy()), index=demand.index,
                         crs=demand.crs)


@dataclass(frozen=True)
class _Instance:
    demand_pts: gpd.GeoSeries
    cand_pts: gpd.GeoSeries
    dxy: np.ndarray
    cxy: np.ndarray
    weights: np.ndarray
    fixed: np.ndarray
    capacity: np.ndarray | None
    group_codes: np.ndarray | None
    group_labels: list[Any]
    cost: np.ndarray | None


def _as_xy(pts: gpd.GeoSeries) -> np.ndarray:
    return np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()]).astype(float)


#: How messages name the two inputs of a siting model.
_GERMAN = {"demand": "Nachfrage", "candidates": "Kandidaten"}


def _prepare(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    weight: str | None,
    fixed: FixedLike,
    capacity: str | None,
    group: str | None,
    cost: CostLike,
    demand_point: Literal["representative", "centroid"],
) -> _Instance:
    for name, gdf in (("demand", demand), ("candidates", candidates)):
        if not isinstance(gdf, gpd.GeoDataFrame):
            raise InputError(f"{_GERMAN[name]}: erwartet wird eine Ebene mit Geometrie, nicht "
                             f"{type(gdf).__name__}.")
        require_projected(gdf, name=name)
        if len(gdf) == 0:
            raise InputError(f"{_GERMAN[name]}: leer; die Standortplanung braucht mindestens "
                             "eine Zeile.")
    require_same_crs(("demand", demand), ("candidates", candidates))
    if not candidates.index.is_unique:
        raise InputError("Die Kandidaten haben doppelte Zeilenkennungen (Index); vergeben "
                         "Sie eindeutige.")
    cgeom = candidates.geometry
    if (cgeom.isna() | cgeom.is_empty).any() or not (cgeom.geom_type == "Point").all():
        raise GeometryError(
            "Die Kandidaten müssen nicht leere Punkte sein; wandeln Sie Gebäudeflächen zuerst "
            "in Punkte um (einen Punkt in jeder Fläche)."
        )
    dpts = demand_points(demand, how=demand_point)
    n, m = len(demand), len(candidates)

    if weight is None:
        w = np.ones(n)
    else:
        require_numeric(demand, [weight], name="demand")
        w = demand[weight].to_numpy(dtype=float)
        if not np.isfinite(w).all() or (w < 0).any():
            raise SchemaError(
                f"Die Nachfrage-Spalte {weight!r} muss endlich und ≥ 0 sein; füllen Sie "
                f"Lücken mit 0."
            )

    if fixed is None:
        fx = np.zeros(m, dtype=bool)
    elif isinstance(fixed, str):
        require_columns(candidates, [fixed], name="candidates")
        fx = candidates[fixed].fillna(False).astype(bool).to_numpy()
    else:
        if isinstance(fixed, pd.Series):
            fixed = fixed.reindex(candidates.index)
            fx = fixed.fillna(False).astype(bool).to_numpy()
        else:
            fx = np.asarray(fixed, dtype=bool)
        if fx.shape != (m,):
            raise InputError(
                f"Die Angabe 'besteht' braucht einen Ja/Nein-Wert je Kandidat ({m}), nicht "
                f"die Form {fx.shape}."
            )

    cap = None
    if capacity is not None:
        require_numeric(candidates, [capacity], name="candidates")
        cap = candidates[capacity].to_numpy(dtype=float)
        cap = np.where(np.isnan(cap), np.inf, cap)
        if (cap < 0).any():
            raise SchemaError(f"Die Kandidaten-Spalte {capacity!r} muss ≥ 0 sein (leer = "
                              "unbegrenzt).")

    gcodes, glabels = None, []
    if group is not None:
        require_columns(candidates, [group], name="candidates")
        if candidates[group].isna().any():
            raise SchemaError(
                f"Der Kandidaten-Spalte {group!r} fehlen Werte; für die Regel 'ein Standort "
                "je Bezirk' braucht jeder Kandidat seinen Bezirk."
            )
        codes, uniques = pd.factorize(candidates[group], sort=True)
        gcodes, glabels = codes.astype(np.int64), list(uniques)

    cmat = None
    if cost is not None:
        if isinstance(cost, pd.DataFrame):
            missing_r = demand.index.difference(cost.index)
            missing_c = candidates.index.difference(cost.columns)
            if len(missing_r) or len(missing_c):
                raise InputError(
                    "Die Kostenmatrix braucht die Nachfragezellen als Zeilen und die "
                    f"Kandidaten als Spalten; es fehlen {len(missing_r)} Zellen und "
                    f"{len(missing_c)} Kandidaten."
                )
            cmat = cost.loc[demand.index, candidates.index].to_numpy(dtype=float)
        else:
            cmat = np.asarray(cost, dtype=float)
        if cmat.shape != (n, m):
            raise InputError(f"Die Kostenmatrix muss die Form (Zellen, Kandidaten) = ({n}, {m}) "
                             f"haben, nicht {cmat.shape}.")
        if np.isnan(cmat).any() or (cmat < 0).any():
            raise InputError("Die Kostenmatrix muss ≥ 0 und ohne Lücken sein; 'unerreichbar' "
                             "ist unendlich.")

    return _Instance(dpts, cgeom.copy(), _as_xy(dpts), _as_xy(cgeom), w, fx, cap, gcodes,
                     glabels, cmat)


@dataclass(frozen=True)
class _Coverage:
    """Row-sorted sparse pairs (demand i, candidate j) with d_ij <= radius."""

    indptr: np.ndarray
    indices: np.ndarray
    dist: np.ndarray
    n: int
    m: int

    def matrix(self) -> sp.csr_matrix:
        data = np.ones(len(self.indices), dtype=float)
        return sp.csr_matrix((data, self.indices, self.indptr), shape=(self.n, self.m))


def _coverage(inst: _Instance, radius: float) -> _Coverage:
    n, m = len(inst.dxy), len(inst.cxy)
    if inst.cost is not None:
        rows, cols = np.nonzero(inst.cost <= radius)
        dist = inst.cost[rows, cols]
    else:
        tree = cKDTree(inst.cxy)
        lists = tree.query_ball_point(inst.dxy, r=radius, return_sorted=True)
        counts = np.fromiter((len(x) for x in lists), dtype=np.int64, count=n)
        rows = np.repeat(np.arange(n), counts)
        cols = (np.concatenate([np.asarray(x, dtype=np.int64) for x in lists])
                if counts.sum() else np.zeros(0, dtype=np.int64))
        dist = np.hypot(*(inst.dxy[rows] - inst.cxy[cols]).T)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return _Coverage(indptr, cols.astype(np.int64), dist.astype(float), n, m)


def coverage_matrix(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    radius: float = DEFAULT_RADIUS,
    cost: CostLike = None,
    demand_point: Literal["representative", "centroid"] = "representative",
) -> sp.csr_matrix:
    """Return the sparse coverage matrix ``a_ij = d_ij if d_ij <= radius``.

    Parameters
    ----------
    demand, candidates : geopandas.GeoDataFrame
        Demand units and candidate points in the same projected CRS (metres).
    radius : float, keyword-only
        Service radius in metres (inclusive), default 800.
    cost : numpy.ndarray or pandas.DataFrame, optional
        Cost matrix (n_demand x n_candidates, e.g. network walking metres) used instead of
        Euclidean distances.
    demand_point : {"representative", "centroid"}
        See :func:`demand_points`.

    Returns
    -------
    scipy.sparse.csr_matrix
        Shape (n_demand, n_candidates); stored entries are the pairs within ``radius``; their
        values are the distances plus 1e-9 m (so that a distance of 0 stays a stored entry).

    Raises
    ------
    CRSError
        If an input has no CRS or a geographic CRS (degrees are not metres).
    """
    inst = _prepare(demand, candidates, weight=None, fixed=None, capacity=None, group=None,
                    cost=cost, demand_point=demand_point)
    cov = _coverage(inst, _check_radius(radius))
    return sp.csr_matrix((cov.dist + 1e-9, cov.indices, cov.indptr), shape=(cov.n, cov.m))


def _check_radius(radius: float) -> float:
    if not (isinstance(radius, int | float) and math.isfinite(radius) and radius > 0):
        raise InputError(f"Der Radius muss eine positive Zahl von Metern sein (--radius), nicht "
                         f"{radius!r}.")
    return float(radius)


def _check_p(p: int, inst: _Instance) -> int:
    m = len(inst.cxy)
    n_fixed = int(inst.fixed.sum())
    if not isinstance(p, int | np.integer) or p < 1:
        raise InputError(f"Die Zahl der Standorte (--p) muss eine ganze Zahl ab 1 sein, nicht "
                         f"{p!r}.")
    if p > m:
        raise InputError(f"--p {p} übersteigt die Zahl der Kandidaten ({m}).")
    if p < n_fixed:
        raise InputError(
            f"--p {p} ist kleiner als die Zahl der bestehenden Orte ({n_fixed}); --p zählt "
            "alle Standorte einschließlich der bestehenden, also mindestens so viele."
        )
    if inst.group_codes is not None and p < len(inst.group_labels):
        raise InputError(
            f"--p {p} ist kleiner als die Zahl der Bezirke ({len(inst.group_labels)}), die "
            "Regel 'mindestens ein Standort je Bezirk' braucht aber einen in jedem; erhöhen "
            "Sie --p oder nutzen Sie --no-per-bezirk."
        )
    if inst.group_codes is not None:
        served = set(np.asarray(inst.group_codes)[np.asarray(inst.fixed, bool)].tolist())
        needed = n_fixed + len(inst.group_labels) - len(served)
        if p < needed:
            raise InputError(
                f"--p {p} reicht nicht für die {n_fixed} bestehenden Orte und je einen "
                f"Standort in den {len(inst.group_labels) - len(served)} Bezirken ohne "
                f"bestehenden Ort; erhöhen Sie --p auf mindestens {needed}."
            )
    return int(p)


