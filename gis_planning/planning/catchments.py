"""Catchment polygons and the assembly of a solved model into a :class:`SitingResult`."""

from __future__ import annotations

import logging
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from .._errors import CRSError, InputError
from .._validate import require_projected
from .models import (
    DEFAULT_RADIUS,
    BoundaryLike,
    Catchment,
    SitingResult,
    SitingSummary,
    _Coverage,
    _Instance,
)
from .solver import _Solved

__all__ = ["catchments"]

logger = logging.getLogger("gis_planning.planning.siting")

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
            f"Die Grenze liegt in {boundary.crs.to_string()}, die Standorte in "
            f"{crs.to_string()}; projizieren Sie die Grenze in das System der Standorte."
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
        raise InputError(f"Einzugsbereiche: Art {how!r} unbekannt; möglich: 'buffer' (Radius) "
                         f"oder 'voronoi' (nächster Standort).")
    if how == "buffer" and radius is None:
        raise InputError("Einzugsbereiche als Puffer brauchen einen Radius; für den p-Median "
                         "gelten die Bereiche des nächsten Standorts (voronoi).")
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
    reached = alloc_mask & (w > 0)
    max_d = float(dist[reached].max()) if reached.any() else float("nan")
    uncoverable_w = float(w[~coverable].sum())
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
        max_distance=max_d, uncoverable_weight=uncoverable_w,
        runtime_s=time.perf_counter() - t0)
    logger.info("%s gelöst: %s", model, summary)
    return SitingResult(sites=sites, allocation=allocation, catchments=catch, summary=summary)


def _pair_dist(inst: _Instance, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    if inst.cost is not None:
        return inst.cost[i, j]
    return np.hypot(*(inst.dxy[i] - inst.cxy[j]).T)


def _covered_by(cov: _Coverage, chosen: np.ndarray) -> np.ndarray:
    return (cov.matrix() @ chosen.astype(float)) > 0


