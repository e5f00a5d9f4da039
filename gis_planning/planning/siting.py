"""Location-allocation for meeting spaces (Begegnungsräume): MCLP, LSCP and p-median.

Demand is any polygon or point layer with a weight column (people, households, project flats);
candidates are any point layer (schools, Kitas, existing Begegnungsorte). Existing places can be
forced into the solution (``fixed=``), sites can carry a capacity (``capacity=``) and a rule
"at least one site per Bezirk" can be imposed (``group=``).

Every model is written as a mixed-integer programme and solved with HiGHS (through
:func:`scipy.optimize.milp` or highspy). The coverage structure is built sparsely
(:meth:`scipy.spatial.cKDTree.query_ball_point`) and reduced before it is handed to HiGHS; the
p-median is solved by Benders cuts of the radius formulation (:mod:`.pmedian`), which proves
city-sized instances optimal in seconds. Coverage instances above ``milp_limit`` nonzeros are
solved by a greedy heuristic that reports a proven bound; a time limit stops HiGHS with the
best solution and its bound. ``summary.optimal``, ``summary.status`` and ``summary.gap`` say
which of these happened: a result is called optimal only when it is proven.

The analysis does no I/O and draws nothing; :class:`SitingResult` holds GeoDataFrames in the CRS
of the inputs.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from .._errors import InputError
from .._validate import require_columns
from ..labels import fmt_number
from .catchments import _assemble, _covered_by, catchments
from .coverage import _lscp_core, _mclp_core
from .models import (
    DEFAULT_MILP_LIMIT,
    DEFAULT_RADIUS,
    BoundaryLike,
    Catchment,
    CostLike,
    FixedLike,
    Method,
    SitingResult,
    SitingSummary,
    _check_p,
    _check_radius,
    _coverage,
    _prepare,
    coverage_matrix,
    demand_points,
)
from .pmedian import _pmedian_core

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
        raise InputError(f"Unerreichbare Zellen: erlaubt sind 'raise' (abbrechen) oder 'drop' "
                         f"(auslassen), nicht {uncoverable!r}.")
    inst = _prepare(demand, candidates, weight=weight, fixed=fixed, capacity=capacity,
                    group=group, cost=cost, demand_point=demand_point)
    cov = _coverage(inst, radius)
    lonely = np.diff(cov.indptr) == 0
    if lonely.any():
        labels = list(demand.index[lonely][:5])
        msg = (f"{int(lonely.sum())} Nachfragezelle(n) ohne Kandidaten im Radius "
               f"{fmt_number(radius, 0)} m (z. B. {labels}); ")
        if uncoverable == "raise":
            raise InputError(msg + "das LSCP ist unlösbar. Ergänzen Sie dort Kandidaten, "
                             "vergrößern Sie den Radius (--radius) oder lassen Sie diese "
                             "Zellen aus.")
        logger.info(msg + "im LSCP ausgelassen.")
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
    group rules as in :func:`solve_mclp`. Without capacities it is solved by Benders
    decomposition of the radius formulation (Elloumi 2010; Duran-Mateluna, Ales & Elloumi
    2023): a master over the sites ``x`` and one variable :math:`\\theta_i` per unit
    minimises :math:`\\sum_i w_i \\theta_i` subject to cuts
    :math:`\\theta_i \\ge D - \\sum_{{j: d_{{ij}} < D}} (D - d_{{ij}}) x_j`, valid for every
    level :math:`D` (if the nearest open site is at least :math:`D` away the right side is
    at most :math:`D`; otherwise it is at most that site's distance). Cuts are added at the
    fractional LP solutions first, then at integer solutions, until the true cost of the
    best sites equals the master's lower bound: that equality is the proof of optimality
    (3,574 cells x 521 candidates, p = 9: 10,084 cuts, about 10 s). The capacitated
    variant adds :math:`\\sum_i w_i z_{{ij}} \\le c_j x_j`, may split a unit between sites and
    is solved on each unit's nearest candidates with a checked tail (see
    :func:`gis_planning.planning.pmedian._pmedian_core`). Greedy heuristic (add the site with
    the largest reduction of total weighted distance): ``bound`` is the weak lower bound
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
        raise InputError(f"Modell {model!r} unbekannt; möglich: {', '.join(sorted(solvers))} "
                         f"(--model).")
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
    progress: Callable[..., Iterable] | None = None,
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
    progress : callable, optional, keyword-only
        Called as ``progress(iterable, desc=..., total=..., unit=...)`` around the loop over
        ``p`` (one MILP each; a curve to 20 takes minutes), e.g. a tqdm bar; default: none.

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
        raise InputError(f"Die Abdeckungskurve bis p = {max_p} (--curve) liegt unter dem "
                         f"kleinsten lösbaren p ({p_min}: bestehende Orte und Bezirke).")
    total = float(inst.weights.sum())
    base = float(inst.weights[_covered_by(cov, inst.fixed)].sum()) if inst.fixed.any() else 0.0
    rows = []
    prev_sites: set[Any] = set(candidates.index[inst.fixed])
    prev = base
    steps: Iterable[int] = range(p_min, int(max_p) + 1)
    if progress is not None:
        steps = progress(steps, desc="Abdeckungskurve", total=int(max_p) - p_min + 1, unit="p")
    for p in steps:
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
        raise InputError("Die Nachfrage muss die sein, für die das Ergebnis berechnet wurde "
                         "(dieselben Zellen).")
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
        raise InputError("Zwei Szenarien brauchen zwei verschiedene Namen, z. B. 'bestehend' "
                         "und 'neu'.")
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


