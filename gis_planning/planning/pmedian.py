"""p-median core: exact MILP and the greedy heuristic."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._errors import InputError
from .models import Method, _Instance
from .solver import _choose_method, _group_matrix, _run_milp, _site_bounds, _Solved


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


