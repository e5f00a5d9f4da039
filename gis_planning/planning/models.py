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
        raise InputError(f"`how` must be 'representative' or 'centroid', not {how!r}.")
    geom = demand.geometry
    bad = geom.isna() | geom.is_empty
    if bad.any():
        raise GeometryError(
            f"`demand` has {int(bad.sum())} missing or empty geometries (first index: "
            f"{demand.index[bad.to_numpy()][0]!r}); drop them with `demand[~demand.is_empty]`."
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
            raise InputError(f"`{name}` must be a GeoDataFrame, not {type(gdf).__name__}.")
        require_projected(gdf, name=name)
        if len(gdf) == 0:
            raise InputError(f"`{name}` is empty; siting needs at least one row.")
    require_same_crs(("demand", demand), ("candidates", candidates))
    if not candidates.index.is_unique:
        raise InputError("`candidates` has a duplicated index; use `candidates.reset_index()`.")
    cgeom = candidates.geometry
    if (cgeom.isna() | cgeom.is_empty).any() or not (cgeom.geom_type == "Point").all():
        raise GeometryError(
            "`candidates` must hold non-empty Point geometries; convert buildings with "
            "`candidates.representative_point()` first."
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
                f"`demand` column {weight!r} must be finite and >= 0; fill gaps with "
                f"`demand[{weight!r}].fillna(0)`."
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
                f"`fixed` must have one boolean per candidate ({m}), got shape {fx.shape}."
            )

    cap = None
    if capacity is not None:
        require_numeric(candidates, [capacity], name="candidates")
        cap = candidates[capacity].to_numpy(dtype=float)
        cap = np.where(np.isnan(cap), np.inf, cap)
        if (cap < 0).any():
            raise SchemaError(f"`candidates` column {capacity!r} must be >= 0 (NaN = unlimited).")

    gcodes, glabels = None, []
    if group is not None:
        require_columns(candidates, [group], name="candidates")
        if candidates[group].isna().any():
            raise SchemaError(
                f"`candidates` column {group!r} has missing values; every candidate needs a "
                "group (Bezirk) for the 'one site per group' rule."
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
                    "`cost` must have the demand index as rows and the candidate index as "
                    f"columns; {len(missing_r)} demand and {len(missing_c)} candidate labels "
                    "are missing."
                )
            cmat = cost.loc[demand.index, candidates.index].to_numpy(dtype=float)
        else:
            cmat = np.asarray(cost, dtype=float)
        if cmat.shape != (n, m):
            raise InputError(f"`cost` must have shape (n_demand, n_candidates) = ({n}, {m}), "
                             f"got {cmat.shape}.")
        if np.isnan(cmat).any() or (cmat < 0).any():
            raise InputError("`cost` must be >= 0 without NaN; use np.inf for 'unreachable'.")

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
        raise InputError(f"`radius` must be a positive number of metres, got {radius!r}.")
    return float(radius)


def _check_p(p: int, inst: _Instance) -> int:
    m = len(inst.cxy)
    n_fixed = int(inst.fixed.sum())
    if not isinstance(p, int | np.integer) or p < 1:
        raise InputError(f"`p` must be a positive integer, got {p!r}.")
    if p > m:
        raise InputError(f"`p`={p} exceeds the number of candidates ({m}).")
    if p < n_fixed:
        raise InputError(
            f"`p`={p} is smaller than the number of fixed (existing) sites ({n_fixed}); `p` "
            "counts all sites including fixed ones, so raise it to at least that."
        )
    if inst.group_codes is not None and p < len(inst.group_labels):
        raise InputError(
            f"`p`={p} is smaller than the number of groups ({len(inst.group_labels)}) but the "
            "rule 'at least one site per group' needs one site in each; raise `p` or drop "
            "`group`."
        )
    if inst.group_codes is not None:
        served = set(np.asarray(inst.group_codes)[np.asarray(inst.fixed, bool)].tolist())
        needed = n_fixed + len(inst.group_labels) - len(served)
        if p < needed:
            raise InputError(
                f"`p`={p} cannot hold the {n_fixed} fixed site(s) plus one site in each of the "
                f"{len(inst.group_labels) - len(served)} group(s) without a fixed site; raise "
                f"`p` to at least {needed}."
            )
    return int(p)


