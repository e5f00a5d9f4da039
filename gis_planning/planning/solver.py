"""HiGHS plumbing shared by the siting models (scipy's ``milp`` or highspy)."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from .._errors import InputError
from ..labels import fmt_int
from .models import Method, _Coverage, _Instance

logger = logging.getLogger("gis_planning.planning.siting")

#: Constraint nonzeros above which HiGHS solves the (root) LP by interior point, not simplex
#: (the MCLP LP is highly degenerate: simplex took 62 s, IPM 3 s on 20,000 x 2,000).
_IPM_NNZ = 100_000

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
                f"Das Modell {what} ist unlösbar ({message}). Prüfen Sie Kapazitäten gegen "
                "die Nachfrage, die Zahl der Standorte (--p) und die bestehenden Orte."
            )
        raise InputError(f"HiGHS fand keine Lösung des Modells {what} ({message}). Erhöhen "
                         "Sie das Zeitlimit (--time-limit).")
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
        raise InputError(f"Verfahren {method!r} unbekannt; möglich: 'auto', 'milp', 'greedy'.")
    if method != "auto":
        return method
    if nnz > milp_limit:
        warnings.warn(
            f"Das Modell {what} hat etwa {fmt_int(nnz)} Einträge in den Nebenbedingungen, "
            f"mehr als die Grenze von {fmt_int(milp_limit)}; es wird mit dem "
            "Näherungsverfahren gelöst (die Schranke steht in der Zusammenfassung). Mit "
            "einer höheren Grenze wird das exakte Modell gerechnet.",
            stacklevel=3,
        )
        return "greedy"
    return "milp"


