"""Location-allocation for meeting spaces (Begegnungsräume): MCLP, LSCP and p-median.

Demand is any polygon or point layer with a weight column (people, households, project flats);
candidates are any point layer (schools, Kitas, existing Begegnungsorte). Existing places can be
forced into the solution (``fixed=``), sites can carry a capacity (``capacity=``) and a rule
"at least one site per Bezirk" can be imposed (``group=``).

Every model is written as a mixed-integer programme and solved to proven optimality with HiGHS
through :func:`scipy.optimize.milp`. The coverage structure is built sparsely
(:meth:`scipy.spatial.cKDTree.query_ball_point`) and reduced before it is handed to HiGHS.
Instances above ``milp_limit`` constraint-matrix nonzeros are solved by a greedy heuristic that
reports a proven bound on the optimum (see each function's Notes).

The analysis does no I/O and draws nothing; :class:`SitingResult` holds GeoDataFrames in the CRS
of the inputs.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from .._errors import CRSError, GeometryError, InputError, SchemaError
from .._validate import require_columns, require_numeric, require_projected, require_same_crs

__all__ = [
    "SitingResult",
    "SitingSummary",
    "catchments",
    "compare_scenarios",
    "coverage_by_group",
    "coverage_curve",
    "coverage_matrix",
    "demand_points",
    "locate",
    "solve_lscp",
    "solve_mclp",
    "solve_pmedian",
]

logger = logging.getLogger(__name__)

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

_ONE_MINUS_INV_E = 1.0 - 1.0 / math.e
#: Constraint nonzeros above which HiGHS solves the (root) LP by interior point, not simplex
#: (the MCLP LP is highly degenerate: simplex took 62 s, IPM 3 s on 20,000 x 2,000).
_IPM_NNZ = 100_000


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
        ``"optimal"``, ``"time_limit"`` (best solution found, gap > 0) or ``"heuristic"``.
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


# --------------------------------------------------------------------------------------------
# MILP plumbing
# --------------------------------------------------------------------------------------------
@dataclass
class _Solved:
    x: np.ndarray
    status: str
    optimal: bool
    bound: float  # in the solver's minimisation sense
    method: str
    bound_method: str


def _run_milp(
    c: np.ndarray,
    A: sp.csr_matrix,
    lo: np.ndarray,
    hi: np.ndarray,
    *,
    integrality: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
    time_limit: float | None,
    mip_rel_gap: float,
    what: str,
    prefer_ipm: bool = False,
) -> _Solved:
    t0 = time.perf_counter()
    is_mip = bool(np.any(integrality))
    use_ipm = prefer_ipm and A.nnz > _IPM_NNZ
    highspy = None
    if use_ipm:
        try:
            import highspy
        except ImportError:  # pragma: no cover - fall back to scipy's bundled HiGHS (simplex)
            highspy = None
    if highspy is None:
        options: dict[str, Any] = {"disp": False, "presolve": True, "mip_rel_gap": mip_rel_gap}
        if time_limit is not None:
            options["time_limit"] = float(time_limit)
        res = milp(c, integrality=integrality, bounds=Bounds(lb, ub),
                   constraints=[LinearConstraint(A, lo, hi)] if A.shape[0] else [],
                   options=options)
        status_code = {0: "optimal", 1: "time_limit", 2: "infeasible"}.get(res.status, "error")
        x, message = res.x, res.message
        fun, dual = res.fun, getattr(res, "mip_dual_bound", None)
    else:
        x, status_code, message, fun, dual = _run_highs(
            highspy, c, A, lo, hi, integrality, lb, ub, is_mip=is_mip, time_limit=time_limit,
            mip_rel_gap=mip_rel_gap)
    logger.info("%s: HiGHS %s (%s) in %.3f s", what, status_code, message,
                time.perf_counter() - t0)
    if x is None:
        if status_code == "infeasible":
            raise InputError(
                f"The {what} model is infeasible: {message}. Check capacities against "
                "demand, the number of sites `p` and the fixed sites."
            )
        raise InputError(f"HiGHS found no solution for the {what} model: {message}. "
                         "Raise `time_limit` or use method='greedy'.")
    optimal = status_code == "optimal"
    bound = dual if (is_mip and dual is not None and np.isfinite(dual)) else fun
    return _Solved(np.asarray(x), "optimal" if optimal else "time_limit", optimal,
                   float(bound), "milp", "milp dual bound")


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence C-level writes to stdout (file descriptor 1) for the duration of the block."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def _run_highs(
    highspy: Any,
    c: np.ndarray,
    A: sp.csr_matrix,
    lo: np.ndarray,
    hi: np.ndarray,
    integrality: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
    *,
    is_mip: bool,
    time_limit: float | None,
    mip_rel_gap: float,
) -> tuple[np.ndarray | None, str, str, float, float | None]:
    """Solve a large model with highspy, using the interior-point method for the (root) LP."""
    with _quiet_stdout():  # HiGHS prints a banner on construction; the library never prints
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", 0)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    if is_mip:
        h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
        h.setOptionValue("mip_lp_solver", "ipm")
    else:
        h.setOptionValue("solver", "ipm")
    lp = highspy.HighsLp()
    M = A.tocsc()
    lp.num_col_, lp.num_row_ = int(M.shape[1]), int(M.shape[0])
    lp.col_cost_ = np.asarray(c, dtype=float)
    lp.col_lower_ = np.asarray(lb, dtype=float)
    lp.col_upper_ = np.asarray(ub, dtype=float)
    lp.row_lower_ = np.asarray(lo, dtype=float)
    lp.row_upper_ = np.asarray(hi, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = M.indptr.astype(np.int32)
    lp.a_matrix_.index_ = M.indices.astype(np.int32)
    lp.a_matrix_.value_ = M.data.astype(float)
    if is_mip:
        kint, kcon = highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous
        lp.integrality_ = [kint if v else kcon for v in integrality]
    h.passModel(lp)
    h.run()
    ms = h.getModelStatus()
    message = h.modelStatusToString(ms)
    info = h.getInfo()
    status = {highspy.HighsModelStatus.kOptimal: "optimal",
              highspy.HighsModelStatus.kInfeasible: "infeasible",
              highspy.HighsModelStatus.kTimeLimit: "time_limit"}.get(ms, "error")
    has_sol = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value) if has_sol else None
    fun = float(info.objective_function_value)
    dual = float(info.mip_dual_bound) if is_mip else None
    return x, status, message, fun, dual


def _group_matrix(inst: _Instance, ncols: int) -> sp.csr_matrix | None:
    if inst.group_codes is None:
        return None
    m = len(inst.cxy)
    g = len(inst.group_labels)
    return sp.csr_matrix((np.ones(m), (inst.group_codes, np.arange(m))), shape=(g, ncols))


def _site_bounds(inst: _Instance) -> tuple[np.ndarray, np.ndarray]:
    m = len(inst.cxy)
    return inst.fixed.astype(float), np.ones(m)


def _unique_rows(cov: _Coverage, rows: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Group demand rows with identical candidate sets; return label per row and the sets."""
    keys: dict[bytes, int] = {}
    label = np.empty(len(rows), dtype=np.int64)
    sets: list[np.ndarray] = []
    for k, i in enumerate(rows):
        cols = cov.indices[cov.indptr[i]:cov.indptr[i + 1]]
        key = cols.tobytes()
        j = keys.get(key)
        if j is None:
            j = keys[key] = len(sets)
            sets.append(cols)
        label[k] = j
    return label, sets


def _sets_matrix(sets: list[np.ndarray], m: int) -> sp.csr_matrix:
    lens = np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
    indptr = np.zeros(len(sets) + 1, dtype=np.int64)
    np.cumsum(lens, out=indptr[1:])
    idx = np.concatenate(sets) if len(sets) else np.zeros(0, dtype=np.int64)
    return sp.csr_matrix((np.ones(len(idx)), idx, indptr), shape=(len(sets), m))


def _choose_method(method: Method, nnz: int, milp_limit: int, what: str) -> str:
    if method not in ("auto", "milp", "greedy"):
        raise InputError(f"`method` must be 'auto', 'milp' or 'greedy', not {method!r}.")
    if method != "auto":
        return method
    if nnz > milp_limit:
        warnings.warn(
            f"The {what} model has about {nnz:,} constraint nonzeros, above `milp_limit`="
            f"{milp_limit:,}; solving it with the greedy heuristic (bound reported in the "
            "summary). Raise `milp_limit` to force the exact MILP.",
            stacklevel=3,
        )
        return "greedy"
    return "milp"


# --------------------------------------------------------------------------------------------
# MCLP
# --------------------------------------------------------------------------------------------
def _mclp_core(
    inst: _Instance,
    cov: _Coverage,
    *,
    p: int,
    method: Method,
    milp_limit: int,
    time_limit: float | None,
    mip_rel_gap: float,
    lp_bound: bool = True,
) -> tuple[np.ndarray, _Solved, np.ndarray | None]:
    """Return (chosen mask, solver info with bound as covered weight, z-fractions or None)."""
    n, m = cov.n, cov.m
    w = inst.weights
    has_row = np.diff(cov.indptr) > 0
    if inst.capacity is not None and np.isfinite(inst.capacity).any():
        return _mclp_capacitated(inst, cov, p=p, method=method, milp_limit=milp_limit,
                                 time_limit=time_limit, mip_rel_gap=mip_rel_gap)
    # demand already covered by a fixed site is a constant; the rest is merged by coverage set
    cov_mat = cov.matrix()
    by_fixed = (cov_mat @ inst.fixed.astype(float)) > 0 if inst.fixed.any() else np.zeros(n, bool)
    const = float(w[by_fixed].sum())
    rows = np.flatnonzero(has_row & ~by_fixed & (w > 0))
    label, sets = _unique_rows(cov, rows)
    wk = np.bincount(label, weights=w[rows], minlength=len(sets))
    A = _sets_matrix(sets, m)
    kk = len(sets)
    nnz = A.nnz + kk + m
    use = _choose_method(method, nnz, milp_limit, "MCLP")
    if use == "greedy":
        chosen, bound, bound_method = _greedy_mclp(inst, A, wk, p)
        if lp_bound:
            arrays = _mclp_arrays(inst, A, wk, p)
            lp = _run_milp(*arrays[:4], integrality=np.zeros_like(arrays[4]), lb=arrays[5],
                           ub=arrays[6], time_limit=time_limit, mip_rel_gap=0.0,
                           what="MCLP LP relaxation", prefer_ipm=True)
            if -lp.bound < bound:
                bound, bound_method = -lp.bound, "LP relaxation bound (HiGHS)"
        obj = const + float(wk[(A @ chosen.astype(float)) > 0].sum())
        return chosen, _Solved(chosen.astype(float), "heuristic", obj >= const + bound - 1e-9,
                               const + bound, "greedy", bound_method), None
    arrays = _mclp_arrays(inst, A, wk, p)
    solved = _run_milp(*arrays[:4], integrality=arrays[4], lb=arrays[5], ub=arrays[6],
                       time_limit=time_limit, mip_rel_gap=mip_rel_gap, what="MCLP", prefer_ipm=True)
    chosen = solved.x[:m] > 0.5
    solved.bound = const - solved.bound
    return chosen, solved, None


def _mclp_arrays(
    inst: _Instance, A: sp.csr_matrix, wk: np.ndarray, p: int
) -> tuple[np.ndarray, sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
           np.ndarray]:
    """MCLP on reduced rows: x (m, binary) then y (kk, [0,1]); minimise -wk.y."""
    kk, m = A.shape
    c = np.concatenate([np.zeros(m), -wk])
    cover = sp.hstack([-A, sp.identity(kk, format="csr")], format="csr")  # y - A x <= 0
    card = sp.csr_matrix(np.concatenate([np.ones(m), np.zeros(kk)])[None, :])
    blocks = [cover, card]
    lo = [np.full(kk, -np.inf), np.array([p])]
    hi = [np.zeros(kk), np.array([p])]
    gm = _group_matrix(inst, m + kk)
    if gm is not None:
        blocks.append(gm)
        lo.append(np.ones(gm.shape[0]))
        hi.append(np.full(gm.shape[0], np.inf))
    lbx, ubx = _site_bounds(inst)
    return (c, sp.vstack(blocks, format="csr"), np.concatenate(lo), np.concatenate(hi),
            np.concatenate([np.ones(m), np.zeros(kk)]), np.concatenate([lbx, np.zeros(kk)]),
            np.concatenate([ubx, np.ones(kk)]))


def _greedy_mclp(
    inst: _Instance, A: sp.csr_matrix, wk: np.ndarray, p: int
) -> tuple[np.ndarray, float, str]:
    """Greedy MCLP on the reduced rows; returns chosen mask and an upper bound on sum wk*y."""
    At = A.T.tocsr()
    chosen = inst.fixed.copy()
    uncovered = (A @ chosen.astype(float)) == 0
    f_fixed = float(wk[~uncovered].sum())
    gcodes = inst.group_codes
    pure = gcodes is None

    def gains() -> np.ndarray:
        g = At @ (wk * uncovered)
        g[chosen] = -np.inf
        return g

    def add(j: int) -> None:
        chosen[j] = True
        cols = At.indices[At.indptr[j]:At.indptr[j + 1]]
        uncovered[cols] = False

    if gcodes is not None:
        while True:
            have = np.zeros(len(inst.group_labels), dtype=bool)
            have[gcodes[chosen]] = True
            if have.all():
                break
            g = gains()
            g[have[gcodes]] = -np.inf
            add(int(np.argmax(g)))
    while chosen.sum() < p:
        add(int(np.argmax(gains())))
    f_s = float(wk[~uncovered].sum())
    g = gains()
    k = p - int(inst.fixed.sum())
    top = np.sort(g[np.isfinite(g)])[::-1][:k]
    online = f_s + float(np.clip(top, 0, None).sum())
    bound, how = online, "online submodular bound (Nemhauser-Wolsey): f(S) + top-k gains"
    if pure:
        e_bound = f_fixed + (f_s - f_fixed) / _ONE_MINUS_INV_E
        if e_bound < online:
            bound, how = e_bound, "(1-1/e) greedy guarantee"
    return chosen, bound, how


def _mclp_capacitated(
    inst: _Instance,
    cov: _Coverage,
    *,
    p: int,
    method: Method,
    milp_limit: int,
    time_limit: float | None,
    mip_rel_gap: float,
) -> tuple[np.ndarray, _Solved, np.ndarray | None]:
    m = cov.m
    w = inst.weights
    rows = np.flatnonzero((np.diff(cov.indptr) > 0) & (w > 0))
    label, sets = _unique_rows(cov, rows)
    wk = np.bincount(label, weights=w[rows], minlength=len(sets))
    A = _sets_matrix(sets, m).tocoo()
    nz = A.nnz
    kk = len(sets)
    use = _choose_method(method, 3 * nz + m, milp_limit, "capacitated MCLP")
    if use == "greedy":
        raise InputError("The capacitated MCLP has no greedy heuristic; raise `milp_limit` "
                         "or drop `capacity`.")
    # variables x (m) then z (nz): z_e = share of reduced row k(e) served by site j(e)
    ke, je = A.row, A.col
    e = np.arange(nz)
    c = np.concatenate([np.zeros(m), -wk[ke]])
    assign = sp.csr_matrix((np.ones(nz), (ke, m + e)), shape=(kk, m + nz))  # sum_j z <= 1
    cap = inst.capacity
    capfin = np.where(np.isfinite(cap), cap, wk.sum() + 1.0)
    load = sp.csr_matrix(
        (np.concatenate([wk[ke], -capfin]), (np.concatenate([je, np.arange(m)]),
                                             np.concatenate([m + e, np.arange(m)]))),
        shape=(m, m + nz))  # sum_i w z - c x <= 0
    link = sp.csr_matrix((np.concatenate([np.ones(nz), -np.ones(nz)]),
                          (np.concatenate([e, e]), np.concatenate([m + e, je]))),
                         shape=(nz, m + nz))  # z - x <= 0
    card = sp.csr_matrix(np.concatenate([np.ones(m), np.zeros(nz)])[None, :])
    blocks = [assign, load, link, card]
    lo = [np.full(kk, -np.inf), np.full(m, -np.inf), np.full(nz, -np.inf), np.array([p])]
    hi = [np.ones(kk), np.zeros(m), np.zeros(nz), np.array([p])]
    gm = _group_matrix(inst, m + nz)
    if gm is not None:
        blocks.append(gm)
        lo.append(np.ones(gm.shape[0]))
        hi.append(np.full(gm.shape[0], np.inf))
    lbx, ubx = _site_bounds(inst)
    solved = _run_milp(
        c, sp.vstack(blocks, format="csr"), np.concatenate(lo), np.concatenate(hi),
        integrality=np.concatenate([np.ones(m), np.zeros(nz)]),
        lb=np.concatenate([lbx, np.zeros(nz)]), ub=np.concatenate([ubx, np.ones(nz)]),
        time_limit=time_limit, mip_rel_gap=mip_rel_gap, what="capacitated MCLP",
    )
    chosen = solved.x[:m] > 0.5
    solved.bound = -solved.bound
    z = _expand_z(solved.x[m:], ke, je, label, rows, cov.n, m)
    return chosen, solved, z


def _expand_z(
    ze: np.ndarray, ke: np.ndarray, je: np.ndarray, label: np.ndarray, rows: np.ndarray,
    n: int, m: int
) -> np.ndarray:
    """Map served fractions of reduced rows back to a dense-by-pairs sparse (n x m) matrix."""
    kk = int(label.max()) + 1 if len(label) else 0
    zk = sp.csr_matrix((np.clip(ze, 0, 1), (ke, je)), shape=(kk, m))
    expand = sp.csr_matrix((np.ones(len(rows)), (rows, label)), shape=(n, kk))
    return (expand @ zk).tocsr()


# --------------------------------------------------------------------------------------------
# LSCP
# --------------------------------------------------------------------------------------------
def _lscp_core(
    inst: _Instance,
    cov: _Coverage,
    *,
    method: Method,
    milp_limit: int,
    time_limit: float | None,
    mip_rel_gap: float,
) -> tuple[np.ndarray, _Solved, np.ndarray | None]:
    m = cov.m
    has_row = np.diff(cov.indptr) > 0
    capacitated = inst.capacity is not None and np.isfinite(inst.capacity).any()
    cov_mat = cov.matrix()
    if capacitated:
        rows = np.flatnonzero(has_row)
    else:
        by_fixed = (cov_mat @ inst.fixed.astype(float)) > 0
        rows = np.flatnonzero(has_row & ~by_fixed)
    label, sets = _unique_rows(cov, rows)
    A = _sets_matrix(sets, m)
    kk = len(sets)
    lbx, ubx = _site_bounds(inst)
    if not capacitated:
        use = _choose_method(method, A.nnz + m, milp_limit, "LSCP")
        if use == "greedy":
            chosen, lower, how = _greedy_lscp(inst, A)
            return chosen, _Solved(chosen.astype(float), "heuristic",
                                   chosen.sum() <= lower, lower, "greedy", how), None
        blocks, lo, hi = [A], [np.ones(kk)], [np.full(kk, np.inf)]
        gm = _group_matrix(inst, m)
        if gm is not None:
            blocks.append(gm)
            lo.append(np.ones(gm.shape[0]))
            hi.append(np.full(gm.shape[0], np.inf))
        solved = _run_milp(np.ones(m), sp.vstack(blocks, format="csr"), np.concatenate(lo),
                           np.concatenate(hi), integrality=np.ones(m), lb=lbx, ub=ubx,
                           time_limit=time_limit, mip_rel_gap=mip_rel_gap, what="LSCP",
                           prefer_ipm=True)
        return solved.x[:m] > 0.5, solved, None
    # capacitated: every coverable unit fully assigned to open sites within the radius
    wk = np.bincount(label, weights=inst.weights[rows], minlength=kk)
    Ac = A.tocoo()
    nz, ke, je = Ac.nnz, Ac.row, Ac.col
    use = _choose_method(method, 3 * nz + m, milp_limit, "capacitated LSCP")
    if use == "greedy":
        raise InputError("The capacitated LSCP has no greedy heuristic; raise `milp_limit` "
                         "or drop `capacity`.")
    e = np.arange(nz)
    cap = inst.capacity
    capfin = np.where(np.isfinite(cap), cap, wk.sum() + 1.0)
    assign = sp.csr_matrix((np.ones(nz), (ke, m + e)), shape=(kk, m + nz))
    load = sp.csr_matrix(
        (np.concatenate([wk[ke], -capfin]), (np.concatenate([je, np.arange(m)]),
                                             np.concatenate([m + e, np.arange(m)]))),
        shape=(m, m + nz))
    link = sp.csr_matrix((np.concatenate([np.ones(nz), -np.ones(nz)]),
                          (np.concatenate([e, e]), np.concatenate([m + e, je]))),
                         shape=(nz, m + nz))
    blocks = [assign, load, link]
    lo = [np.ones(kk), np.full(m, -np.inf), np.full(nz, -np.inf)]
    hi = [np.ones(kk), np.zeros(m), np.zeros(nz)]
    gm = _group_matrix(inst, m + nz)
    if gm is not None:
        blocks.append(gm)
        lo.append(np.ones(gm.shape[0]))
        hi.append(np.full(gm.shape[0], np.inf))
    solved = _run_milp(
        np.concatenate([np.ones(m), np.zeros(nz)]), sp.vstack(blocks, format="csr"),
        np.concatenate(lo), np.concatenate(hi),
        integrality=np.concatenate([np.ones(m), np.zeros(nz)]),
        lb=np.concatenate([lbx, np.zeros(nz)]), ub=np.concatenate([ubx, np.ones(nz)]),
        time_limit=time_limit, mip_rel_gap=mip_rel_gap, what="capacitated LSCP",
    )
    z = _expand_z(solved.x[m:], ke, je, label, rows, cov.n, m)
    return solved.x[:m] > 0.5, solved, z


def _greedy_lscp(inst: _Instance, A: sp.csr_matrix) -> tuple[np.ndarray, float, str]:
    m = A.shape[1]
    At = A.T.tocsr()
    chosen = inst.fixed.copy()
    unc = np.ones(A.shape[0], dtype=bool)
    n_free = 0
    while unc.any():
        g = At @ unc.astype(float)
        g[chosen] = -1
        j = int(np.argmax(g))
        chosen[j] = True
        n_free += 1
        unc[At.indices[At.indptr[j]:At.indptr[j + 1]]] = False
    if inst.group_codes is not None:
        for gi in range(len(inst.group_labels)):
            members = np.flatnonzero(inst.group_codes == gi)
            if not chosen[members].any():
                chosen[members[0]] = True
    d = int(np.diff(At.indptr).max()) if m else 1
    harmonic = sum(1.0 / k for k in range(1, max(d, 1) + 1))
    lower = int(inst.fixed.sum()) + math.ceil(n_free / harmonic - 1e-9)
    return chosen, float(lower), "greedy set-cover guarantee: |S_free| / H(max column count)"


# --------------------------------------------------------------------------------------------
# p-median
# --------------------------------------------------------------------------------------------
def _distance_matrix(inst: _Instance) -> np.ndarray:
    if inst.cost is not None:
        return inst.cost
    from scipy.spatial.distance import cdist

    return cdist(inst.dxy, inst.cxy)


def _pmedian_core(
    inst: _Instance,
    *,
    p: int,
    max_distance: float | None,
    method: Method,
    milp_limit: int,
    time_limit: float | None,
    mip_rel_gap: float,
) -> tuple[np.ndarray, _Solved, np.ndarray | None]:
    n, m = len(inst.dxy), len(inst.cxy)
    D = _distance_matrix(inst)
    w = inst.weights
    allowed = np.isfinite(D) if max_distance is None else D <= max_distance
    lonely = ~allowed.any(axis=1)
    if lonely.any():
        raise InputError(
            f"{int(lonely.sum())} demand unit(s) have no candidate within `max_distance` "
            f"(first index position {int(np.flatnonzero(lonely)[0])}); raise `max_distance`."
        )
    ie, je = np.nonzero(allowed)
    nz = len(ie)
    use = _choose_method(method, 3 * nz + m, milp_limit, "p-median")
    if use == "greedy":
        if inst.capacity is not None and np.isfinite(inst.capacity).any():
            raise InputError("The capacitated p-median has no greedy heuristic; raise "
                             "`milp_limit` or drop `capacity`.")
        Dm = np.where(allowed, D, np.inf)
        chosen = _greedy_pmedian(inst, Dm, w, p)
        lower = float((w * Dm.min(axis=1)).sum())
        return chosen, _Solved(chosen.astype(float), "heuristic", False, lower, "greedy",
                               "nearest-candidate lower bound sum_i w_i min_j d_ij (weak)"), None
    e = np.arange(nz)
    c = np.concatenate([np.zeros(m), w[ie] * D[ie, je]])
    assign = sp.csr_matrix((np.ones(nz), (ie, m + e)), shape=(n, m + nz))
    link = sp.csr_matrix((np.concatenate([np.ones(nz), -np.ones(nz)]),
                          (np.concatenate([e, e]), np.concatenate([m + e, je]))),
                         shape=(nz, m + nz))
    card = sp.csr_matrix(np.concatenate([np.ones(m), np.zeros(nz)])[None, :])
    blocks = [assign, link, card]
    lo = [np.ones(n), np.full(nz, -np.inf), np.array([p])]
    hi = [np.ones(n), np.zeros(nz), np.array([p])]
    capacitated = inst.capacity is not None and np.isfinite(inst.capacity).any()
    if capacitated:
        capfin = np.where(np.isfinite(inst.capacity), inst.capacity, w.sum() + 1.0)
        load = sp.csr_matrix(
            (np.concatenate([w[ie], -capfin]), (np.concatenate([je, np.arange(m)]),
                                                np.concatenate([m + e, np.arange(m)]))),
            shape=(m, m + nz))
        blocks.append(load)
        lo.append(np.full(m, -np.inf))
        hi.append(np.zeros(m))
    gm = _group_matrix(inst, m + nz)
    if gm is not None:
        blocks.append(gm)
        lo.append(np.ones(gm.shape[0]))
        hi.append(np.full(gm.shape[0], np.inf))
    lbx, ubx = _site_bounds(inst)
    solved = _run_milp(
        c, sp.vstack(blocks, format="csr"), np.concatenate(lo), np.concatenate(hi),
        integrality=np.concatenate([np.ones(m), np.zeros(nz)]),
        lb=np.concatenate([lbx, np.zeros(nz)]), ub=np.concatenate([ubx, np.ones(nz)]),
        time_limit=time_limit, mip_rel_gap=mip_rel_gap, what="p-median",
    )
    chosen = solved.x[:m] > 0.5
    z = None
    if capacitated:
        z = sp.csr_matrix((np.clip(solved.x[m:], 0, 1), (ie, je)), shape=(n, m))
    return chosen, solved, z


def _greedy_pmedian(inst: _Instance, D: np.ndarray, w: np.ndarray, p: int) -> np.ndarray:
    m = D.shape[1]
    chosen = inst.fixed.copy()
    big = np.nanmax(np.where(np.isfinite(D), D, np.nan)) * 2 + 1.0
    Df = np.where(np.isfinite(D), D, big)
    cur = Df[:, chosen].min(axis=1) if chosen.any() else np.full(len(w), big * 2)

    def add(mask: np.ndarray | None) -> None:
        nonlocal cur
        gain = (w[:, None] * np.clip(cur[:, None] - Df, 0, None)).sum(axis=0)
        gain[chosen] = -np.inf
        if mask is not None:
            gain[~mask] = -np.inf
        j = int(np.argmax(gain))
        chosen[j] = True
        cur = np.minimum(cur, Df[:, j])

    if inst.group_codes is not None:
        while True:
            have = np.zeros(len(inst.group_labels), dtype=bool)
            have[inst.group_codes[chosen]] = True
            if have.all():
                break
            add(~have[inst.group_codes])
    while chosen.sum() < min(p, m):
        add(None)
    return chosen


# --------------------------------------------------------------------------------------------
# Outputs
# --------------------------------------------------------------------------------------------
def _boundary_geom(boundary: BoundaryLike, crs=None) -> BaseGeometry | None:
    if boundary is None:
        return None
    if isinstance(boundary, BaseGeometry):
        return boundary
    if crs is not None and boundary.crs is not None and not boundary.crs.equals(crs):
        raise CRSError(
            f"`boundary` is in {boundary.crs.to_string()} but the sites are in "
            f"{crs.to_string()}; use `boundary.to_crs(sites.crs)`."
        )
    return shapely.union_all(np.asarray(boundary.geometry if isinstance(
        boundary, gpd.GeoDataFrame) else boundary))


def catchments(
    sites: gpd.GeoDataFrame,
    *,
    radius: float | None = DEFAULT_RADIUS,
    how: Catchment = "buffer",
    boundary: BoundaryLike = None,
    extent: BaseGeometry | None = None,
) -> gpd.GeoDataFrame:
    """Draw one catchment polygon per site.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Chosen site points in a projected CRS.
    radius : float or None, keyword-only
        Service radius in metres; None draws unbounded Voronoi cells (p-median).
    how : {"buffer", "voronoi"}
        ``"buffer"``: the disc of ``radius`` around each site (discs of neighbouring sites
        overlap: a household may reach two sites). ``"voronoi"``: the Voronoi cell of each site
        among the chosen sites (the area whose nearest site it is, in straight-line distance),
        intersected with the radius disc when ``radius`` is given; cells do not overlap.
    boundary : GeoDataFrame, GeoSeries or geometry, optional
        Clip catchments to this area (e.g. the city boundary). Must be in the CRS of ``sites``.
    extent : shapely geometry, optional
        Area the Voronoi diagram is extended to when neither ``radius`` nor ``boundary`` bounds
        it (defaults to the sites' envelope buffered by 1 km).

    Returns
    -------
    geopandas.GeoDataFrame
        Index of ``sites``, column ``area_m2``, polygon geometry, CRS of ``sites``.

    Raises
    ------
    CRSError
        If ``sites`` is not in a projected CRS.
    InputError
        If ``how`` is unknown or ``how="buffer"`` without a radius.
    """
    require_projected(sites, name="sites")
    if how not in ("buffer", "voronoi"):
        raise InputError(f"`how` must be 'buffer' or 'voronoi', not {how!r}.")
    if how == "buffer" and radius is None:
        raise InputError("`how='buffer'` needs a `radius`; use how='voronoi' for p-median.")
    pts = sites.geometry.to_numpy()
    clip = _boundary_geom(boundary, sites.crs)
    if how == "buffer":
        geoms = shapely.buffer(pts, radius, quad_segs=16)
    else:
        if extent is None:
            pad = (radius or 0) + 1000.0
            extent = shapely.box(*shapely.bounds(shapely.union_all(pts))).buffer(pad)
            if clip is not None:
                extent = shapely.union(extent, shapely.envelope(clip))
        cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts),
                                                           extend_to=extent))
        geoms = np.empty(len(pts), dtype=object)
        if len(pts) == 1:
            geoms[0] = extent
        else:
            tree = shapely.STRtree(cells)
            idx = tree.query(pts, predicate="intersects")
            for pi, ci in zip(*idx, strict=True):
                if geoms[pi] is None:
                    geoms[pi] = cells[ci]
        if radius is not None:
            geoms = shapely.intersection(geoms, shapely.buffer(pts, radius, quad_segs=16))
    if clip is not None:
        geoms = shapely.intersection(geoms, clip)
    out = gpd.GeoDataFrame({"area_m2": shapely.area(geoms)}, geometry=list(geoms),
                           index=sites.index, crs=sites.crs)
    return out


def _assemble(
    model: str,
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    inst: _Instance,
    chosen: np.ndarray,
    solved: _Solved,
    z: sp.csr_matrix | None,
    *,
    radius: float | None,
    p: int | None,
    cov: _Coverage | None,
    catchment: Catchment,
    boundary: BoundaryLike,
    t0: float,
) -> SitingResult:
    n, m = len(inst.dxy), len(inst.cxy)
    w = inst.weights
    chosen_idx = np.flatnonzero(chosen)
    # nearest chosen site for every demand unit
    if inst.cost is not None:
        sub = inst.cost[:, chosen_idx]
        pos = np.argmin(sub, axis=1)
        near_d = sub[np.arange(n), pos]
    else:
        near_d, pos = cKDTree(inst.cxy[chosen_idx]).query(inst.dxy)
    near_j = chosen_idx[pos]
    coverable = (np.diff(cov.indptr) > 0) if cov is not None else np.ones(n, dtype=bool)
    if z is not None:
        zc = z.tocsr()
        served = np.asarray(zc.sum(axis=1)).ravel().clip(0, 1)
        best = np.asarray(zc.argmax(axis=1)).ravel()
        alloc_j = np.where(served > 1e-9, best, -1)
        dist = np.where(alloc_j >= 0, _pair_dist(inst, np.arange(n), alloc_j.clip(0)), near_d)
        covered = served > 1e-9
    else:
        if radius is not None:
            covered = near_d <= radius
            if inst.cost is None and cov is not None:
                # guard against float noise between cKDTree.query and query_ball_point
                covered = covered | _covered_by(cov, chosen)
        else:
            covered = np.ones(n, dtype=bool)
        served = covered.astype(float)
        alloc_j = np.where(covered, near_j, -1)
        dist = near_d
    cand_index = candidates.index
    site_labels = pd.Series(
        pd.array([cand_index[j] if j >= 0 else pd.NA for j in alloc_j], dtype=object),
        index=demand.index, dtype=object)
    served_w = w * served
    allocation = gpd.GeoDataFrame(
        {"weight": w, "site": site_labels, "distance_m": dist, "covered": covered,
         "served_weight": served_w, "coverable": coverable},
        geometry=inst.demand_pts.to_numpy(), index=demand.index, crs=demand.crs)

    if z is not None:
        load = np.asarray((sp.diags(w) @ z).sum(axis=0)).ravel()
        n_alloc = np.bincount(alloc_j[alloc_j >= 0], minlength=m)
    else:
        load = np.bincount(alloc_j[alloc_j >= 0], weights=served_w[alloc_j >= 0], minlength=m)
        n_alloc = np.bincount(alloc_j[alloc_j >= 0], minlength=m)
    sites = candidates.iloc[chosen_idx].copy()
    sites["fixed"] = inst.fixed[chosen_idx]
    sites["n_allocated"] = n_alloc[chosen_idx]
    sites["allocated_weight"] = load[chosen_idx]
    capv = inst.capacity[chosen_idx] if inst.capacity is not None else np.full(len(chosen_idx),
                                                                                np.nan)
    sites["capacity"] = np.where(np.isfinite(capv), capv, np.nan)
    sites["utilisation"] = sites["allocated_weight"] / sites["capacity"]
    sites = gpd.GeoDataFrame(sites, geometry=candidates.geometry.name, crs=candidates.crs)

    how: Catchment = catchment if radius is not None else "voronoi"
    catch = catchments(sites, radius=radius, how=how, boundary=boundary)
    catch.insert(0, "allocated_weight", sites["allocated_weight"].to_numpy())

    total = float(w.sum())
    covered_w = float(served_w.sum())
    alloc_mask = alloc_j >= 0
    wa = served_w[alloc_mask]
    mean_d = float((wa * dist[alloc_mask]).sum() / wa.sum()) if wa.sum() > 0 else float("nan")
    if model == "mclp":
        objective = covered_w
    elif model == "lscp":
        objective = float(chosen.sum())
    else:
        if z is not None:
            zc = z.tocoo()
            objective = float((w[zc.row] * zc.data * _pair_dist(inst, zc.row, zc.col)).sum())
        else:
            objective = float((w * near_d).sum())
    bound = solved.bound
    gap = abs(bound - objective) / max(abs(objective), 1e-9)
    optimal = solved.optimal or gap <= 1e-9
    if optimal and solved.method == "milp":
        gap = 0.0 if gap < 1e-6 else gap
    summary = SitingSummary(
        model=model, method=solved.method,
        status="optimal" if optimal else solved.status, optimal=bool(optimal),
        objective=objective, bound=float(bound), gap=float(gap),
        bound_method=solved.bound_method, p=p, radius=radius,
        n_sites=int(chosen.sum()), n_fixed=int(inst.fixed.sum()), n_demand=n, n_candidates=m,
        n_uncoverable=int((~coverable).sum()), total_weight=total, covered_weight=covered_w,
        coverage_share=covered_w / total if total > 0 else float("nan"), mean_distance=mean_d,
        runtime_s=time.perf_counter() - t0)
    logger.info("%s solved: %s", model, summary)
    return SitingResult(sites=sites, allocation=allocation, catchments=catch, summary=summary)


def _pair_dist(inst: _Instance, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    if inst.cost is not None:
        return inst.cost[i, j]
    return np.hypot(*(inst.dxy[i] - inst.cxy[j]).T)


def _covered_by(cov: _Coverage, chosen: np.ndarray) -> np.ndarray:
    return (cov.matrix() @ chosen.astype(float)) > 0


# --------------------------------------------------------------------------------------------
# Public solvers
# --------------------------------------------------------------------------------------------
_COMMON_DOC = """
    demand : geopandas.GeoDataFrame
        Demand units (points or polygons; polygons are represented by a point, see
        :func:`demand_points`) in a projected CRS in metres.
    candidates : geopandas.GeoDataFrame
        Candidate sites (points) in the same CRS, with a unique index.
    weight : str, optional, keyword-only
        Numeric column of ``demand`` (people, project flats); each unit counts 1 if None.
    fixed : str or boolean array-like, optional
        Column of ``candidates`` (e.g. ``"exists"``; missing = False) or one boolean per
        candidate: these sites are forced into the solution.
    capacity : str, optional
        Numeric column of ``candidates`` with the demand weight a site can serve (NaN =
        unlimited). Switches to the capacitated model (demand may be split between sites).
    group : str, optional
        Column of ``candidates`` (e.g. ``"bezirk"``): at least one site in every group.
    cost : numpy.ndarray or pandas.DataFrame, optional
        Cost matrix (n_demand x n_candidates, metres) replacing Euclidean distance, e.g.
        walking distance on the street network; a DataFrame is aligned on both indexes.
    demand_point : {"representative", "centroid"}
        Point used for polygon demand.
    method : {"auto", "milp", "greedy"}
        ``"auto"`` uses the exact MILP up to ``milp_limit`` constraint nonzeros, else greedy.
    milp_limit : int
        Size limit for ``method="auto"``.
    time_limit : float, optional
        HiGHS time limit in seconds; the best solution and its gap are reported when hit.
    mip_rel_gap : float
        Relative gap at which HiGHS stops; 0 (default) means proven optimality.
    catchment : {"buffer", "voronoi"}
        How catchment polygons are drawn, see :func:`catchments`.
    boundary : GeoDataFrame, GeoSeries or geometry, optional
        Clip catchments to this area."""


def solve_mclp(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    p: int,
    radius: float = DEFAULT_RADIUS,
    weight: str | None = None,
    fixed: FixedLike = None,
    capacity: str | None = None,
    group: str | None = None,
    cost: CostLike = None,
    demand_point: Literal["representative", "centroid"] = "representative",
    method: Method = "auto",
    milp_limit: int = DEFAULT_MILP_LIMIT,
    time_limit: float | None = None,
    mip_rel_gap: float = 0.0,
    catchment: Catchment = "buffer",
    boundary: BoundaryLike = None,
    lp_bound: bool = True,
) -> SitingResult:
    """Maximal covering location problem: place ``p`` sites to cover the most demand.

    Parameters
    ----------
    p : int, keyword-only
        Number of sites in the solution, fixed (existing) sites included.
    radius : float
        Service radius in metres (default 800 m, about 10 minutes' walk).
    {common}
    lp_bound : bool
        Greedy only: also solve the LP relaxation with HiGHS and report it when it is the
        tighter bound (default True).

    Returns
    -------
    SitingResult
        ``summary.objective`` is the covered demand weight.

    Raises
    ------
    CRSError
        If an input has no CRS, a geographic CRS, or the two CRSs differ.
    InputError
        If ``p`` is impossible (fewer than the fixed sites or the groups) or the model is
        infeasible.

    Notes
    -----
    Church & ReVelle (1974). With :math:`a_{{ij}} = 1` if :math:`d_{{ij}} \\le r`:

    .. math:: \\max \\sum_i w_i y_i \\quad \\text{{s.t.}}\\quad y_i \\le \\sum_j a_{{ij}} x_j,
              \\; \\sum_j x_j = p,\\; x_j = 1\\,(j \\text{{ fixed}}),\\;
              \\sum_{{j \\in g}} x_j \\ge 1\\,(g \\in \\text{{groups}}),\\; x \\in \\{{0,1\\}},\\;
              0 \\le y \\le 1.

    ``y`` can stay continuous: for binary ``x`` an optimum has ``y_i = min(1, sum_j a_ij
    x_j)``. Before solving, demand units already covered by a fixed site become a constant,
    units no candidate reaches are dropped and units with identical candidate sets are merged
    (weights summed); the optimum is unchanged. The capacitated variant adds shares
    :math:`z_{{ij}} \\in [0,1]` with :math:`\\sum_j z_{{ij}} \\le 1`,
    :math:`\\sum_i w_i z_{{ij}} \\le c_j x_j`, :math:`z_{{ij}} \\le x_j` and maximises
    :math:`\\sum_{{ij}} w_i z_{{ij}}` (demand may be split between sites).

    Greedy heuristic (``method="greedy"`` or above ``milp_limit``): add the site with the
    largest uncovered weight until ``p`` (after one site per group, if ``group``). Reported
    ``bound`` is the smaller of the online bound of Nemhauser, Wolsey & Fisher (1978),
    :math:`f(S) + \\sum` of the ``p - n_fixed`` largest marginal gains w.r.t. the final set
    :math:`S` (valid for any :math:`S`, coverage is monotone submodular), and, without groups,
    the (1 - 1/e) guarantee :math:`f(F) + (f(S) - f(F)) / (1 - 1/e)`, and (``lp_bound``)
    the LP-relaxation optimum; ``bound_method`` names the one reported (the smallest).
    """
    t0 = time.perf_counter()
    radius = _check_radius(radius)
    inst = _prepare(demand, candidates, weight=weight, fixed=fixed, capacity=capacity,
                    group=group, cost=cost, demand_point=demand_point)
    p = _check_p(p, inst)
    cov = _coverage(inst, radius)
    chosen, solved, z = _mclp_core(inst, cov, p=p, method=method, milp_limit=milp_limit,
                                   time_limit=time_limit, mip_rel_gap=mip_rel_gap,
                                   lp_bound=lp_bound)
    return _assemble("mclp", demand, candidates, inst, chosen, solved, z, radius=radius, p=p,
                     cov=cov, catchment=catchment, boundary=boundary, t0=t0)


def solve_lscp(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    radius: float = DEFAULT_RADIUS,
    weight: str | None = None,
    fixed: FixedLike = None,
    capacity: str | None = None,
    group: str | None = None,
    cost: CostLike = None,
    uncoverable: Literal["raise", "drop"] = "raise",
    demand_point: Literal["representative", "centroid"] = "representative",
    method: Method = "auto",
    milp_limit: int = DEFAULT_MILP_LIMIT,
    time_limit: float | None = None,
    mip_rel_gap: float = 0.0,
    catchment: Catchment = "buffer",
    boundary: BoundaryLike = None,
) -> SitingResult:
    """Location set covering problem: the fewest sites so that all demand is within reach.

    Parameters
    ----------
    radius : float, keyword-only
        Service radius in metres (default 800 m).
    uncoverable : {"raise", "drop"}
        Demand units that no candidate reaches within ``radius`` make the model infeasible.
        ``"raise"`` (default) raises :class:`InputError` naming how many and which;
        ``"drop"`` solves for the others and reports them as ``summary.n_uncoverable`` and
        ``allocation.coverable == False``.
    {common}

    Returns
    -------
    SitingResult
        ``summary.objective`` is the number of sites (fixed included).

    Raises
    ------
    CRSError
        If an input has no CRS or a geographic CRS.
    InputError
        If demand cannot be covered (see ``uncoverable``) or capacities are too small.

    Notes
    -----
    Toregas et al. (1971): :math:`\\min \\sum_j x_j` s.t. :math:`\\sum_j a_{{ij}} x_j \\ge 1`
    for every coverable unit, fixed sites :math:`x_j = 1`, one site per group. Units covered by
    a fixed site and duplicate rows are removed first. The capacitated variant assigns every
    coverable unit fully, :math:`\\sum_j z_{{ij}} = 1`, with :math:`\\sum_i w_i z_{{ij}} \\le c_j
    x_j` (``weight`` is the demand quantity). Greedy heuristic: pick the site covering most
    uncovered units; ``bound`` is the classical guarantee
    :math:`n_{{fixed}} + \\lceil |S_{{free}}| / H(d) \\rceil` with :math:`H` the harmonic
    number and :math:`d` the largest number of units one site covers (Chvátal 1979).
    """
    t0 = time.perf_counter()
    radius = _check_radius(radius)
    if uncoverable not in ("raise", "drop"):
        raise InputError(f"`uncoverable` must be 'raise' or 'drop', not {uncoverable!r}.")
    inst = _prepare(demand, candidates, weight=weight, fixed=fixed, capacity=capacity,
                    group=group, cost=cost, demand_point=demand_point)
    cov = _coverage(inst, radius)
    lonely = np.diff(cov.indptr) == 0
    if lonely.any():
        labels = list(demand.index[lonely][:5])
        msg = (f"{int(lonely.sum())} demand unit(s) have no candidate within {radius:g} m "
               f"(e.g. index {labels}); ")
        if uncoverable == "raise":
            raise InputError(msg + "the LSCP is infeasible. Add candidates there, raise "
                             "`radius`, or pass uncoverable='drop' to cover the rest.")
        logger.info(msg + "dropped from the LSCP (uncoverable='drop').")
    chosen, solved, z = _lscp_core(inst, cov, method=method, milp_limit=milp_limit,
                                   time_limit=time_limit, mip_rel_gap=mip_rel_gap)
    return _assemble("lscp", demand, candidates, inst, chosen, solved, z, radius=radius,
                     p=None, cov=cov, catchment=catchment, boundary=boundary, t0=t0)


def solve_pmedian(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    p: int,
    weight: str | None = None,
    fixed: FixedLike = None,
    capacity: str | None = None,
    group: str | None = None,
    cost: CostLike = None,
    max_distance: float | None = None,
    demand_point: Literal["representative", "centroid"] = "representative",
    method: Method = "auto",
    milp_limit: int = DEFAULT_MILP_LIMIT,
    time_limit: float | None = None,
    mip_rel_gap: float = 0.0,
    catchment: Catchment = "voronoi",
    boundary: BoundaryLike = None,
) -> SitingResult:
    """p-median: place ``p`` sites minimising the weighted distance of demand to its site.

    Parameters
    ----------
    p : int, keyword-only
        Number of sites, fixed sites included.
    max_distance : float, optional
        Only allow assignments up to this distance (m); shrinks the model (n x m variables
        otherwise). Every unit needs a candidate within it.
    {common}

    Returns
    -------
    SitingResult
        ``summary.objective`` is :math:`\\sum_i w_i d_{{i,s(i)}}` in weight x metres;
        catchments default to Voronoi cells (no radius).

    Raises
    ------
    CRSError
        If an input has no CRS or a geographic CRS.
    InputError
        If ``p`` is impossible or the model is infeasible.

    Notes
    -----
    Hakimi (1964), ReVelle & Swain (1970): :math:`\\min \\sum_{{ij}} w_i d_{{ij}} z_{{ij}}` s.t.
    :math:`\\sum_j z_{{ij}} = 1`, :math:`z_{{ij}} \\le x_j`, :math:`\\sum_j x_j = p`, fixed and
    group rules as in :func:`solve_mclp`, :math:`z` continuous (integral at an optimum without
    capacities). The capacitated variant adds :math:`\\sum_i w_i z_{{ij}} \\le c_j x_j` and may
    split a unit between sites. Greedy heuristic (add the site with the largest reduction of
    total weighted distance): ``bound`` is the weak lower bound
    :math:`\\sum_i w_i \\min_j d_{{ij}}`, so the reported gap overstates the true one.
    """
    t0 = time.perf_counter()
    inst = _prepare(demand, candidates, weight=weight, fixed=fixed, capacity=capacity,
                    group=group, cost=cost, demand_point=demand_point)
    p = _check_p(p, inst)
    if max_distance is not None:
        max_distance = _check_radius(max_distance)
    chosen, solved, z = _pmedian_core(inst, p=p, max_distance=max_distance, method=method,
                                      milp_limit=milp_limit, time_limit=time_limit,
                                      mip_rel_gap=mip_rel_gap)
    return _assemble("pmedian", demand, candidates, inst, chosen, solved, z, radius=None, p=p,
                     cov=None, catchment=catchment, boundary=boundary, t0=t0)


for _f in (solve_mclp, solve_lscp, solve_pmedian):
    _f.__doc__ = (_f.__doc__ or "").replace("{common}", _COMMON_DOC.strip()).replace(
        "{{", "{").replace("}}", "}")


def locate(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    model: Literal["mclp", "lscp", "pmedian"],
    **options: Any,
) -> SitingResult:
    """Dispatch to :func:`solve_mclp`, :func:`solve_lscp` or :func:`solve_pmedian`.

    Parameters
    ----------
    demand, candidates : geopandas.GeoDataFrame
        See :func:`solve_mclp`.
    model : {"mclp", "lscp", "pmedian"}, keyword-only
        Which model to solve.
    **options
        Keyword options of the chosen solver (``p``, ``radius``, ``weight``, ...).

    Returns
    -------
    SitingResult

    Raises
    ------
    InputError
        If ``model`` is unknown.
    """
    solvers = {"mclp": solve_mclp, "lscp": solve_lscp, "pmedian": solve_pmedian}
    if model not in solvers:
        raise InputError(f"`model` must be one of {sorted(solvers)}, not {model!r}.")
    return solvers[model](demand, candidates, **options)


# --------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------
def coverage_curve(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    max_p: int,
    radius: float = DEFAULT_RADIUS,
    weight: str | None = None,
    fixed: FixedLike = None,
    group: str | None = None,
    cost: CostLike = None,
    demand_point: Literal["representative", "centroid"] = "representative",
    method: Method = "auto",
    milp_limit: int = DEFAULT_MILP_LIMIT,
    time_limit: float | None = None,
) -> pd.DataFrame:
    """Optimal MCLP coverage for p = p_min .. ``max_p`` and the marginal gain per added site.

    Parameters
    ----------
    demand, candidates : geopandas.GeoDataFrame
        As in :func:`solve_mclp`.
    max_p : int, keyword-only
        Largest number of sites (fixed included).
    radius, weight, fixed, group, cost, demand_point, method, milp_limit, time_limit
        As in :func:`solve_mclp`. ``p`` starts at ``max(1, n_fixed, n_groups)``.

    Returns
    -------
    pandas.DataFrame
        Index ``p``; columns ``covered_weight``, ``coverage_share``, ``marginal_gain``
        (covered weight gained over ``p - 1``; for the first row: over the fixed sites alone),
        ``marginal_share``, ``sites`` (tuple of candidate labels), ``added`` / ``removed``
        (labels versus the row above: optimal solutions need not be nested), ``status``,
        ``gap``.

    Raises
    ------
    InputError
        If ``max_p`` is smaller than the smallest feasible ``p``.

    Notes
    -----
    Each row is a separate MCLP solved to optimality, so ``marginal_gain`` is non-increasing
    only up to the non-nestedness of optimal solutions; the coverage itself never decreases.
    The coverage structure is built once and reused.
    """
    radius = _check_radius(radius)
    inst = _prepare(demand, candidates, weight=weight, fixed=fixed, capacity=None, group=group,
                    cost=cost, demand_point=demand_point)
    cov = _coverage(inst, radius)
    p_min = max(1, int(inst.fixed.sum()), len(inst.group_labels))
    if max_p < p_min:
        raise InputError(f"`max_p`={max_p} is below the smallest feasible p ({p_min}: fixed "
                         "sites and groups).")
    total = float(inst.weights.sum())
    base = float(inst.weights[_covered_by(cov, inst.fixed)].sum()) if inst.fixed.any() else 0.0
    rows = []
    prev_sites: set[Any] = set(candidates.index[inst.fixed])
    prev = base
    for p in range(p_min, int(max_p) + 1):
        p = _check_p(p, inst)
        chosen, solved, _ = _mclp_core(inst, cov, p=p, method=method, milp_limit=milp_limit,
                                       time_limit=time_limit, mip_rel_gap=0.0)
        covw = float(inst.weights[_covered_by(cov, chosen)].sum())
        sites = set(candidates.index[chosen])
        gap = abs(solved.bound - covw) / max(covw, 1e-9)
        rows.append({
            "p": p, "covered_weight": covw,
            "coverage_share": covw / total if total else float("nan"),
            "marginal_gain": covw - prev,
            "marginal_share": (covw - prev) / total if total else float("nan"),
            "sites": tuple(candidates.index[chosen]),
            "added": tuple(sorted(sites - prev_sites, key=str)),
            "removed": tuple(sorted(prev_sites - sites, key=str)),
            "status": "optimal" if solved.optimal else solved.status,
            "gap": 0.0 if solved.optimal else gap,
        })
        prev, prev_sites = covw, sites
    return pd.DataFrame(rows).set_index("p")


def coverage_by_group(
    result: SitingResult, demand: gpd.GeoDataFrame, *, group: str
) -> pd.DataFrame:
    """Coverage of a solved model per Bezirk (or any demand group).

    Parameters
    ----------
    result : SitingResult
        A solution whose allocation has the index of ``demand``.
    demand : geopandas.GeoDataFrame
        The demand passed to the solver, with a ``group`` column.
    group : str, keyword-only
        Column of ``demand`` naming the group (e.g. ``"bezirk"``).

    Returns
    -------
    pandas.DataFrame
        Index: group values (sorted); columns ``n_demand``, ``total_weight``,
        ``covered_weight``, ``uncovered_weight``, ``coverage_share``, ``n_sites`` (chosen
        sites located in demand units of that group are not known here, so this counts the
        sites the group's demand is allocated to), ``mean_distance`` (weighted, allocated
        demand only).

    Raises
    ------
    SchemaError
        If ``group`` is not a column of ``demand``.
    InputError
        If ``demand`` does not match the allocation index.
    """
    require_columns(demand, [group], name="demand")
    alloc = result.allocation
    if not alloc.index.equals(demand.index):
        raise InputError("`demand` must be the layer the result was computed for (same index).")
    df = pd.DataFrame({
        "g": demand[group].to_numpy(), "w": alloc["weight"].to_numpy(),
        "sw": alloc["served_weight"].to_numpy(),
        "wd": (alloc["served_weight"] * alloc["distance_m"]).where(alloc["site"].notna(),
                                                                   0.0).to_numpy(),
        "site": alloc["site"].to_numpy(),
    })
    grouped = df.groupby("g", sort=True, dropna=False)
    out = pd.DataFrame({
        "n_demand": grouped.size(),
        "total_weight": grouped["w"].sum(),
        "covered_weight": grouped["sw"].sum(),
    })
    out["uncovered_weight"] = out["total_weight"] - out["covered_weight"]
    out["coverage_share"] = out["covered_weight"] / out["total_weight"].where(
        out["total_weight"] > 0)
    out["n_sites"] = grouped["site"].nunique()
    out["mean_distance"] = grouped["wd"].sum() / out["covered_weight"].where(
        out["covered_weight"] > 0)
    out.index.name = group
    return out


def compare_scenarios(
    a: SitingResult, b: SitingResult, *, labels: tuple[str, str] = ("A", "B")
) -> pd.DataFrame:
    """Put two solved scenarios side by side.

    Parameters
    ----------
    a, b : SitingResult
        Two solutions (e.g. "only existing places" versus "existing + 5 new").
    labels : tuple of two str, keyword-only
        Column names for the scenarios.

    Returns
    -------
    pandas.DataFrame
        One row per summary figure (``model``, ``n_sites``, ``objective``, ``covered_weight``,
        ``coverage_share``, ``mean_distance``, ``status``, ``gap``, ...) plus ``sites_shared``,
        ``sites_only_in_<label>``; columns the two labels and ``difference`` (b - a for numbers,
        empty otherwise).

    Raises
    ------
    InputError
        If the labels are not two distinct strings.
    """
    if len(labels) != 2 or labels[0] == labels[1]:
        raise InputError("`labels` must be two distinct names, e.g. ('bestehend', 'neu').")
    sa, sb = a.summary.to_series(), b.summary.to_series()
    ia, ib = set(a.sites.index), set(b.sites.index)
    extra = pd.DataFrame(
        {labels[0]: [len(ia & ib), len(ia - ib), len(ib - ia)],
         labels[1]: [len(ia & ib), len(ia - ib), len(ib - ia)]},
        index=["sites_shared", f"sites_only_in_{labels[0]}", f"sites_only_in_{labels[1]}"],
        dtype=object)
    out = pd.concat([pd.DataFrame({labels[0]: sa, labels[1]: sb}), extra])
    diff = []
    for x, y in zip(out[labels[0]], out[labels[1]], strict=True):
        numeric = isinstance(x, int | float | np.number) and not isinstance(x, bool)
        numeric = numeric and isinstance(y, int | float | np.number) and not isinstance(y, bool)
        diff.append(y - x if numeric else None)
    out["difference"] = pd.Series(diff, index=out.index, dtype=object)
    out.loc[out.index[-3:], "difference"] = None
    return out

