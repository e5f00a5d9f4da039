"""p-median: exact by Benders cuts (uncapacitated), a checked sparse MILP (capacitated), greedy.

The textbook p-median has one assignment variable per demand-candidate pair: 3,574 demand
cells x 521 candidates are 1.9 million variables and 5.6 million nonzeros, which HiGHS does
not get through in minutes (the old code then fell back to a greedy heuristic and reported a
79.8 % gap). Two exact reformulations replace it:

* uncapacitated (:func:`_benders_pmedian`): Benders decomposition of the radius formulation.
  The master has one column per site and one per demand unit; cuts
  ``theta_i >= D - sum_{j: d_ij < D} (D - d_ij) x_j`` are added where violated, first at
  fractional, then at integer solutions. The LP relaxation is usually tight, so the sites
  of the final LP, rounded, often close the gap at once; otherwise integer rounds follow.
* capacitated (:func:`_pmedian_core`): every unit may use its ``K_i`` nearest candidates or a
  "tail" variable that stands for every farther one at the ``(K_i + 1)``-th distance, a
  relaxation whose optimum is checked and whose cut-off is widened where the check fails.

Either way the reported solution is called optimal only when its true cost equals a proven
lower bound; otherwise the gap to that bound is reported.
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from .._errors import InputError
from .models import Method, _Instance
from .solver import _choose_method, _group_matrix, _run_milp, _site_bounds, _Solved

logger = logging.getLogger("gis_planning.planning.siting")

#: Most rounds of widening the cut-off before the best solution is reported with its gap.
MAX_ROUNDS = 8
#: Relative difference of upper and lower bound taken as closed (HiGHS' own tolerances).
_CLOSE = 1e-7


# --------------------------------------------------------------------------------------------
# nearest candidates
# --------------------------------------------------------------------------------------------
def _nearest(inst: _Instance, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``(dist, idx)`` of the ``k`` nearest candidates of every unit, sorted; inf if fewer."""
    m = len(inst.cxy)
    k = min(k, m)
    if inst.cost is not None:
        C = inst.cost
        if k < m:
            part = np.argpartition(C, k - 1, axis=1)[:, :k]
        else:
            part = np.broadcast_to(np.arange(m), C.shape).copy()
        d = np.take_along_axis(C, part, axis=1)
        order = np.argsort(d, axis=1, kind="stable")
        return np.take_along_axis(d, order, axis=1), np.take_along_axis(part, order, axis=1)
    d, idx = cKDTree(inst.cxy).query(inst.dxy, k=k)
    if k == 1:
        d, idx = d[:, None], idx[:, None]
    return np.asarray(d, dtype=float), np.asarray(idx, dtype=np.int64)


def _open_distance(inst: _Instance, chosen: np.ndarray) -> np.ndarray:
    """Distance of every unit to its nearest open site."""
    sites = np.flatnonzero(chosen)
    if inst.cost is not None:
        return inst.cost[:, sites].min(axis=1)
    d, _ = cKDTree(inst.cxy[sites]).query(inst.dxy)
    return np.asarray(d, dtype=float)


# --------------------------------------------------------------------------------------------
# the truncated model
# --------------------------------------------------------------------------------------------
def _truncated_model(
    inst: _Instance, k_i: np.ndarray, dist: np.ndarray, idx: np.ndarray, *, p: int,
    max_distance: float | None, capacitated: bool,
):
    """Arrays of the p-median on the ``k_i`` nearest candidates plus a tail per unit."""
    n, m = len(inst.dxy), len(inst.cxy)
    w = inst.weights
    cols = np.arange(dist.shape[1])
    use = cols[None, :] < k_i[:, None]
    use &= np.isfinite(dist)
    if max_distance is not None:
        use &= dist <= max_distance
    ie, pos = np.nonzero(use)
    je = idx[ie, pos]
    de = dist[ie, pos]
    nz = len(ie)
    # tail of unit i: the (k_i + 1)-th nearest distance, a lower bound for every candidate
    # outside the truncated set (no more than k_i candidates can be nearer)
    kk = np.minimum(k_i, dist.shape[1] - 1)
    tail = np.where(k_i < m, dist[np.arange(n), kk], np.inf)
    if max_distance is not None:
        tail = np.where(tail <= max_distance, tail, np.inf)
    has_tail = np.isfinite(tail)
    tu = np.flatnonzero(has_tail)
    nt = len(tu)
    nvar = m + nz + nt
    e = np.arange(nz)
    c = np.concatenate([np.zeros(m), w[ie] * de, w[tu] * tail[tu]])
    assign = sp.csr_matrix(
        (np.ones(nz + nt), (np.concatenate([ie, tu]), np.concatenate([m + e, m + nz +
                                                                       np.arange(nt)]))),
        shape=(n, nvar))
    link = sp.csr_matrix((np.concatenate([np.ones(nz), -np.ones(nz)]),
                          (np.concatenate([e, e]), np.concatenate([m + e, je]))),
                         shape=(nz, nvar))
    card = sp.csr_matrix((np.ones(m), (np.zeros(m, dtype=np.int64), np.arange(m))),
                         shape=(1, nvar))
    blocks = [assign, link, card]
    lo = [np.ones(n), np.full(nz, -np.inf), np.array([p])]
    hi = [np.ones(n), np.zeros(nz), np.array([p])]
    if capacitated:
        capfin = np.where(np.isfinite(inst.capacity), inst.capacity, w.sum() + 1.0)
        load = sp.csr_matrix(
            (np.concatenate([w[ie], -capfin]), (np.concatenate([je, np.arange(m)]),
                                                np.concatenate([m + e, np.arange(m)]))),
            shape=(m, nvar))
        blocks.append(load)
        lo.append(np.full(m, -np.inf))
        hi.append(np.zeros(m))
    gm = _group_matrix(inst, nvar)
    if gm is not None:
        blocks.append(gm)
        lo.append(np.ones(gm.shape[0]))
        hi.append(np.full(gm.shape[0], np.inf))
    lbx, ubx = _site_bounds(inst)
    A = sp.vstack(blocks, format="csr")
    integrality = np.concatenate([np.ones(m), np.zeros(nz + nt)])
    lb = np.concatenate([lbx, np.zeros(nz + nt)])
    ub = np.concatenate([ubx, np.ones(nz + nt)])
    return (c, A, np.concatenate(lo), np.concatenate(hi), integrality, lb, ub,
            (ie, je, tu, tail))


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
    """Solve the p-median exactly on a checked sparse model; fall back to greedy if too big.

    Notes
    -----
    Unit ``i`` may be assigned to its ``K_i`` nearest candidates (``z_ij``) or to a tail
    ``u_i`` costing ``tau_i``, the ``(K_i + 1)``-th smallest distance of ``i``::

        min  sum_i w_i (sum_j d_ij z_ij + tau_i u_i)
        s.t. sum_j z_ij + u_i = 1,  z_ij <= x_j,  sum_j x_j = p  (+ fixed, groups, capacity)

    Any solution of the full model maps to one of this model that costs no more (an
    assignment beyond the ``K_i`` nearest becomes ``u_i``; at most ``K_i`` candidates are
    nearer than ``tau_i``, so every other one is at least ``tau_i`` away; the tail uses no
    capacity). So its optimum ``L`` is a lower bound on the true optimum. Its sites ``x*``
    are a feasible choice whose true cost ``U`` (every unit to its nearest open site;
    capacitated: the model's assignment when no tail is used) is an upper bound. ``U = L``
    proves ``x*`` optimal. Otherwise the units whose nearest open site lies beyond their
    cut-off (or that use the tail) get ``K_i`` doubled and the model is solved again; the
    best ``U``, the largest ``L`` and their gap are reported when a limit stops the rounds.
    The first cut-off is ``K = max(16, 3 m / p)`` nearest candidates per unit.
    """
    t0 = time.perf_counter()
    n, m = len(inst.dxy), len(inst.cxy)
    w = inst.weights
    capacitated = inst.capacity is not None and bool(np.isfinite(inst.capacity).any())
    if method not in ("auto", "milp", "greedy"):
        raise InputError(f"Verfahren {method!r} unbekannt; möglich: 'auto', 'milp', 'greedy'.")
    k0 = min(m, max(16, math.ceil(3 * m / max(p, 1))))
    dist, idx = _nearest(inst, k0)
    reach = np.isfinite(dist) if max_distance is None else dist <= max_distance
    if max_distance is not None and not reach.any(axis=1).all():
        full_d, _ = _nearest(inst, 1)
        lonely = full_d[:, 0] > max_distance
        if lonely.any():
            raise InputError(
                f"{int(lonely.sum())} Nachfragezelle(n) ohne Kandidaten innerhalb der "
                f"Höchstentfernung (erste an Position {int(np.flatnonzero(lonely)[0])}); "
                "vergrößern Sie die Höchstentfernung.")
    if inst.cost is not None and not np.isfinite(dist[:, 0]).all():
        bad = int(np.flatnonzero(~np.isfinite(dist[:, 0]))[0])
        raise InputError(f"Die Nachfragezelle an Position {bad} erreicht keinen Kandidaten "
                         "(alle Kosten unendlich); sie kann nicht zugeordnet werden.")
    k_i = np.full(n, k0, dtype=np.int64)
    # uncapacitated: a Benders master of m + n columns (its cuts are added as needed);
    # capacitated: the truncated assignment model
    first_nnz = 3 * int(np.minimum(k_i, m).sum()) + 2 * n + m if capacitated else n + m
    use = _choose_method(method, first_nnz, milp_limit, "p-median")
    if use == "greedy":
        if capacitated:
            raise InputError("Der p-Median mit Kapazitäten hat kein Näherungsverfahren; "
                             "lassen Sie --capacity weg oder erlauben Sie das exakte Modell.")
        chosen = _greedy_pmedian(inst, w, p, max_distance)
        lower = float((w * dist[:, 0]).sum())
        return chosen, _Solved(chosen.astype(float), "heuristic", False, lower, "greedy",
                               "nearest-candidate lower bound sum_i w_i min_j d_ij (weak)"), None
    if not capacitated:
        chosen, solved = _benders_pmedian(inst, p=p, max_distance=max_distance,
                                          time_limit=time_limit, mip_rel_gap=mip_rel_gap)
        return chosen, solved, None
    best_u, best_x, best_z = math.inf, None, None
    best_l = -math.inf
    all_optimal = True
    for rnd in range(MAX_ROUNDS):
        remaining = None
        if time_limit is not None:
            remaining = time_limit - (time.perf_counter() - t0)
            if remaining <= 0:
                break
        if dist.shape[1] < min(m, int(k_i.max()) + 1):
            dist, idx = _nearest(inst, int(k_i.max()) + 1)
        c, A, lo, hi, integ, lb, ub, (ie, je, tu, _) = _truncated_model(
            inst, k_i, dist, idx, p=p, max_distance=max_distance, capacitated=capacitated)
        if method == "auto" and A.nnz > milp_limit and best_x is not None:
            logger.info("p-Median: erweitertes Modell über der Größengrenze; Abbruch in Runde %d",
                        rnd)
            break
        solved = _run_milp(c, A, lo, hi, integrality=integ, lb=lb, ub=ub,
                           time_limit=remaining, mip_rel_gap=mip_rel_gap, what="p-median",
                           prefer_ipm=True)
        all_optimal &= solved.optimal
        best_l = max(best_l, solved.bound)
        x = solved.x[:m] > 0.5
        nz = len(ie)
        z = solved.x[m:m + nz]
        u = solved.x[m + nz:]
        model_obj = float(c @ solved.x)
        if capacitated:
            tail_used = np.zeros(n, dtype=bool)
            tail_used[tu[u > 1e-7]] = True
            if not tail_used.any():
                upper = model_obj
                zm = sp.csr_matrix((np.clip(z, 0, 1), (ie, je)), shape=(n, m))
            else:
                upper, zm = math.inf, None
            offenders = tail_used
        else:
            d_open = _open_distance(inst, x)
            upper = float((w * d_open).sum())
            zm = None
            kk = np.minimum(k_i, dist.shape[1] - 1)
            cut = np.where(k_i < m, dist[np.arange(n), kk], np.inf)
            offenders = d_open > cut * (1 + 1e-12) + 1e-9
            offenders &= w > 0
        if upper < best_u:
            best_u, best_x, best_z = upper, x, zm
        logger.info("p-Median Runde %d: K max %d, %d Variablen, untere %.6g, obere %.6g, %d "
                    "Zellen jenseits ihrer Grenze", rnd, int(k_i.max()), len(c), solved.bound,
                    upper, int(offenders.sum()))
        proven = (solved.optimal and math.isfinite(best_u)
                  and best_u - best_l <= max(mip_rel_gap, 1e-9) * max(abs(best_u), 1.0))
        if proven or (not offenders.any() and solved.optimal):
            return best_x, _Solved(best_x.astype(float), "optimal", True, best_l, "milp",
                                   f"sparse MILP with checked cut-off ({rnd + 1} round(s))"), \
                best_z
        if not offenders.any():
            break  # stopped by a limit with a clean cut-off: the gap is the solver's
        k_i = np.where(offenders, np.minimum(2 * k_i, m), k_i)
    if best_x is None:
        raise InputError("HiGHS fand im Zeitlimit keine Lösung des p-Median; erhöhen Sie das "
                         "Zeitlimit (--time-limit).")
    status = "time_limit" if time_limit is not None else "heuristic"
    return best_x, _Solved(best_x.astype(float), status, False, best_l, "milp",
                           "sparse MILP lower bound (cut-off not closed)"
                           if all_optimal else "MILP dual bound at the time limit"), best_z


# --------------------------------------------------------------------------------------------
# greedy
# --------------------------------------------------------------------------------------------
def _greedy_pmedian(
    inst: _Instance, w: np.ndarray, p: int, max_distance: float | None
) -> np.ndarray:
    """Add the site with the largest reduction of total weighted distance until ``p``."""
    m = len(inst.cxy)
    if inst.cost is not None:
        D = inst.cost
    else:
        from scipy.spatial.distance import cdist

        D = cdist(inst.dxy, inst.cxy)
    if max_distance is not None:
        D = np.where(D <= max_distance, D, np.inf)
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
# exact uncapacitated p-median: Benders cuts of the radius formulation
# --------------------------------------------------------------------------------------------
class _Master:
    """The Benders master ``min sum_i w_i theta_i`` over sites ``x`` in highspy, row by row."""

    def __init__(self, inst: _Instance, p: int, theta_lb: np.ndarray, w: np.ndarray,
                 cover_rows: list[np.ndarray]) -> None:
        import highspy

        from .solver import _quiet_stdout

        self.hs = highspy
        with _quiet_stdout():
            h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("random_seed", 0)
        m, n = len(inst.cxy), len(theta_lb)
        self.m, self.n = m, n
        lbx, ubx = _site_bounds(inst)
        inf = highspy.kHighsInf
        lp = highspy.HighsLp()
        lp.num_col_ = m + n
        lp.col_cost_ = np.concatenate([np.zeros(m), w]).astype(float)
        lp.col_lower_ = np.concatenate([lbx, theta_lb]).astype(float)
        lp.col_upper_ = np.concatenate([ubx, np.full(n, inf)]).astype(float)
        rows = [np.arange(m)]
        lo, hi = [float(p)], [float(p)]
        if inst.group_codes is not None:
            for g in range(len(inst.group_labels)):
                rows.append(np.flatnonzero(inst.group_codes == g))
                lo.append(1.0)
                hi.append(inf)
        for r in cover_rows:  # max_distance: some site within reach of every unit
            rows.append(r)
            lo.append(1.0)
            hi.append(inf)
        starts = np.concatenate([[0], np.cumsum([len(r) for r in rows])])
        M = sp.csr_matrix((np.ones(int(starts[-1])), np.concatenate(rows), starts),
                          shape=(len(rows), m + n)).tocsc()
        lp.num_row_ = len(rows)
        lp.row_lower_ = np.array(lo)
        lp.row_upper_ = np.array(hi)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = M.indptr.astype(np.int32)
        lp.a_matrix_.index_ = M.indices.astype(np.int32)
        lp.a_matrix_.value_ = M.data.astype(float)
        h.passModel(lp)
        self.h = h
        self.n_cuts = 0

    def add_cuts(self, units: np.ndarray, level: np.ndarray, cols: list[np.ndarray],
                 coef: list[np.ndarray]) -> None:
        """``theta_i + sum_j (D - d_ij) x_j >= D`` for each unit ``i`` and level ``D``."""
        k = len(units)
        if k == 0:
            return
        idx = [np.concatenate([c, [self.m + u]]) for c, u in zip(cols, units, strict=True)]
        val = [np.concatenate([v, [1.0]]) for v in coef]
        starts = np.concatenate([[0], np.cumsum([len(i) for i in idx])[:-1]]).astype(np.int32)
        self.h.addRows(k, level.astype(float), np.full(k, self.hs.kHighsInf), int(
            sum(len(i) for i in idx)), starts, np.concatenate(idx).astype(np.int32),
            np.concatenate(val).astype(float))
        self.n_cuts += k

    def solve(self, *, integer: bool, time_limit: float | None, mip_rel_gap: float,
              start: np.ndarray | None = None) -> tuple[np.ndarray, float, float, str]:
        """Solve; return ``(x, theta_values... as full vector, objective, bound, status)``."""
        h, hs = self.h, self.hs
        m = self.m
        kind = hs.HighsVarType.kInteger if integer else hs.HighsVarType.kContinuous
        h.changeColsIntegrality(m, np.arange(m, dtype=np.int32),
                                np.array([kind] * m))
        h.setOptionValue("time_limit", float(time_limit) if time_limit is not None else
                         hs.kHighsInf)
        if integer:
            h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
            if start is not None:
                sol = hs.HighsSolution()
                sol.col_value = list(start)
                sol.value_valid = True
                h.setSolution(sol)
        h.run()
        ms = h.getModelStatus()
        info = h.getInfo()
        status = {hs.HighsModelStatus.kOptimal: "optimal",
                  hs.HighsModelStatus.kTimeLimit: "time_limit"}.get(ms, h.modelStatusToString(ms))
        if info.primal_solution_status != 2:
            return np.full(m + self.n, np.nan), np.nan, -np.inf, status
        x = np.asarray(h.getSolution().col_value)
        obj = float(info.objective_function_value)
        bound = float(info.mip_dual_bound) if integer else (obj if status == "optimal"
                                                             else -np.inf)
        return x, obj, bound, status


def _round_sites(inst: _Instance, xbar: np.ndarray, p: int) -> np.ndarray:
    """``p`` sites from LP values: fixed sites, then the best of each group, then the largest."""
    m = len(xbar)
    score = np.where(inst.fixed, np.inf, xbar) + 1e-9 * np.arange(m)[::-1] / m
    chosen = inst.fixed.copy()
    if inst.group_codes is not None:
        for g in range(len(inst.group_labels)):
            members = np.flatnonzero(inst.group_codes == g)
            if not chosen[members].any():
                chosen[members[np.argmax(score[members])]] = True
    rest = np.argsort(-np.where(chosen, -np.inf, score), kind="stable")
    for j in rest[: max(p - int(chosen.sum()), 0)]:
        chosen[j] = True
    return chosen


def _cuts_at(xbar: np.ndarray, theta: np.ndarray, dist: np.ndarray, idx: np.ndarray,
             reach: np.ndarray, tol: float, complete: bool = False):
    """Most violated radius cut per unit at (fractional) sites ``xbar``.

    Level ``D_i``: the distance of the first of ``i``'s candidates (nearest first) at which the
    open share reaches 1. Returns the units, levels, columns and coefficients of the violated
    cuts and the units whose candidate list is too short to find the level.
    """
    xs = xbar[idx]  # (n, K) open share of each listed candidate
    xs = np.where(reach, xs, 0.0)
    cum = np.cumsum(xs, axis=1)
    full = cum >= 1 - 1e-6
    short = ~full.any(axis=1)
    kstar = np.argmax(full, axis=1)
    n = len(theta)
    level = dist[np.arange(n), kstar]
    if complete:  # every candidate is listed: any level is valid, take the farthest reachable
        far = np.where(reach, dist, -np.inf).max(axis=1)
        level = np.where(short, far, level)
        short = np.zeros(n, dtype=bool)
    closer = (dist < level[:, None]) & reach
    with np.errstate(invalid="ignore"):
        saving = np.where(closer, (level[:, None] - dist) * xs, 0.0)
    rhs = level - saving.sum(axis=1)
    viol = (theta < rhs - tol * np.maximum(level, 1.0)) & ~short
    units = np.flatnonzero(viol)
    cols = [idx[i, closer[i]] for i in units]
    coef = [(level[i] - dist[i, closer[i]]) for i in units]
    return units, level[units], cols, coef, np.flatnonzero(short)


def _benders_pmedian(
    inst: _Instance, *, p: int, max_distance: float | None, time_limit: float | None,
    mip_rel_gap: float,
) -> tuple[np.ndarray, _Solved]:
    """Exact uncapacitated p-median by Benders decomposition (see :func:`_pmedian_core`)."""
    t0 = time.perf_counter()
    m = len(inst.cxy)
    w = inst.weights
    active = w > 0  # units without weight do not enter the objective
    k = min(m, max(16, math.ceil(2 * m / max(p, 1))))
    dist, idx = _nearest(inst, k)

    def reach_of(d: np.ndarray) -> np.ndarray:
        r = np.isfinite(d)
        return r & (d <= max_distance) if max_distance is not None else r

    # every unit needs an open site it can reach (max_distance, or inf in a cost matrix)
    cover_rows: list[np.ndarray] = []
    if inst.cost is not None:
        within = np.isfinite(inst.cost)
        if max_distance is not None:
            within &= inst.cost <= max_distance
        sets = {tuple(np.flatnonzero(r)) for r in within if not r.all()}
        cover_rows = [np.asarray(s_, dtype=np.int64) for s_ in sets]
    elif max_distance is not None:
        tree = cKDTree(inst.cxy)
        sets = {tuple(sorted(s_)) for s_ in tree.query_ball_point(inst.dxy, r=max_distance)}
        cover_rows = [np.asarray(s_, dtype=np.int64) for s_ in sets if len(s_) < m]
    master = _Master(inst, p, np.where(active, dist[:, 0], 0.0), w, cover_rows)

    def remaining() -> float | None:
        return None if time_limit is None else max(time_limit - (time.perf_counter() - t0), 0.0)

    def extend(units: np.ndarray) -> None:
        nonlocal dist, idx
        if len(units) == 0:
            return
        new_k = min(m, 2 * dist.shape[1])
        if new_k <= dist.shape[1]:
            return
        dist, idx = _nearest(inst, new_k)

    lower = -math.inf
    best_u, best_x = math.inf, None
    # phase 1: the LP relaxation by cutting planes (strong cuts, cheap LPs)
    for _ in range(200):
        rem = remaining()
        if rem is not None and rem <= 0:
            break
        sol, obj, bound, status = master.solve(integer=False, time_limit=rem, mip_rel_gap=0.0)
        if status != "optimal":
            break
        xbar, theta = sol[:m], sol[m:]
        units, level, cols, coef, short = _cuts_at(xbar, theta, dist, idx, reach_of(dist), 1e-7,
                                                   complete=dist.shape[1] >= m)
        keep = active[units]
        if len(short[active[short]]):
            extend(short)
            continue
        logger.debug("p-Median LP-Runde: Schranke %.6g, %d verletzte Schnitte, %.2f s", obj,
                     int(keep.sum()), time.perf_counter() - t0)
        if not keep.any():
            lower = max(lower, obj)
            break
        units = units[keep]
        master.add_cuts(units, level[keep], [c for c, k_ in zip(cols, keep, strict=True) if k_],
                        [c for c, k_ in zip(coef, keep, strict=True) if k_])
    status = "optimal"
    start = None
    if np.isfinite(lower):  # round the LP sites: often they are integral and close the gap
        xr = _round_sites(inst, xbar, p)
        d_open = _open_distance(inst, xr)
        if max_distance is not None:
            d_open = np.where(d_open <= max_distance, d_open, np.inf)
        upper = float((w * d_open).sum())
        logger.debug("p-Median: LP-Standorte gerundet: obere %.12g, untere %.12g (%d gebrochen)",
                     upper, lower, int(((xbar > 1e-6) & (xbar < 1 - 1e-6)).sum()))
        if np.isfinite(upper):
            best_u, best_x = upper, xr
            start = np.concatenate([xr.astype(float), np.where(active, d_open, 0.0)])
    # phase 2: integer master, checked against the true assignment cost, until it closes
    for _ in range(100):
        if best_x is not None and best_u - lower <= max(mip_rel_gap, _CLOSE) * max(best_u, 1.0):
            break
        rem = remaining()
        if rem is not None and rem <= 0:
            status = "time_limit"
            break
        sol, obj, bound, st = master.solve(integer=True, time_limit=rem,
                                           mip_rel_gap=mip_rel_gap, start=start)
        if not np.isfinite(sol).all():
            status = "time_limit" if st == "time_limit" else st
            break
        lower = max(lower, bound)
        logger.debug("p-Median MIP-Runde: Schranke %.6g, %.2f s", bound, time.perf_counter() - t0)
        x = sol[:m] > 0.5
        d_open = _open_distance(inst, x)
        if max_distance is not None:
            d_open = np.where(d_open <= max_distance, d_open, np.inf)
        upper = float((w * d_open).sum())
        if upper < best_u:
            best_u, best_x = upper, x
            start = np.concatenate([x.astype(float), np.where(active, d_open, 0.0)])
        if st != "optimal":
            status = "time_limit"
            break
        if best_u - lower <= max(mip_rel_gap, _CLOSE) * max(abs(best_u), 1.0):
            break
        theta = sol[m:]
        units, level, cols, coef, short = _cuts_at(x.astype(float), theta, dist, idx,
                                                   reach_of(dist), 1e-9,
                                                   complete=dist.shape[1] >= m)
        if len(short[active[short]]):
            extend(short)
            continue
        keep = active[units]
        if not keep.any():
            break  # no violated cut although the gap is open: numerical; the gap is reported
        master.add_cuts(units[keep], level[keep],
                        [c for c, k_ in zip(cols, keep, strict=True) if k_],
                        [c for c, k_ in zip(coef, keep, strict=True) if k_])
    if best_x is None:  # the limit struck before any solution: greedy sites, honest bound
        best_x = _greedy_pmedian(inst, w, p, max_distance)
        lower = max(lower, float((w * np.where(active, dist[:, 0], 0.0)).sum()))
        logger.info("p-Median: Zeitlimit vor einer MILP-Lösung; Standorte des Näherungsverfahrens")
        return best_x, _Solved(best_x.astype(float), "time_limit", False, lower, "greedy",
                               "time limit: LP/nearest-candidate lower bound")
    proven = status == "optimal" and best_u - lower <= max(mip_rel_gap, _CLOSE) * max(best_u, 1.0)
    logger.info("p-Median (Benders): %d Schnitte, untere %.6g, obere %.6g, %.2f s", master.n_cuts,
                lower, best_u, time.perf_counter() - t0)
    if not proven and status == "optimal":
        status = "heuristic"  # the rounds ended without closing the gap
    return best_x, _Solved(best_x.astype(float), "optimal" if proven else status, proven,
                           lower, "milp",
                           f"Benders cuts of the radius formulation ({master.n_cuts} cuts)")
