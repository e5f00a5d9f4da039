"""Coverage models: maximal covering (MCLP) and location set covering (LSCP) cores."""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from .._errors import InputError
from .models import Method, _Coverage, _Instance
from .solver import (
    _choose_method,
    _group_matrix,
    _run_milp,
    _sets_matrix,
    _site_bounds,
    _Solved,
    _unique_rows,
)

_ONE_MINUS_INV_E = 1.0 - 1.0 / math.e

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
                           what="MCLP (LP-Relaxation)", prefer_ipm=True)
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
        raise InputError("Das MCLP mit Kapazitäten hat kein Näherungsverfahren; lassen Sie "
                         "--capacity weg oder erlauben Sie das exakte Modell.")
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
        time_limit=time_limit, mip_rel_gap=mip_rel_gap, what="MCLP mit Kapazitäten",
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
        raise InputError("Das LSCP mit Kapazitäten hat kein Näherungsverfahren; lassen Sie "
                         "--capacity weg oder erlauben Sie das exakte Modell.")
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
        time_limit=time_limit, mip_rel_gap=mip_rel_gap, what="LSCP mit Kapazitäten",
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


