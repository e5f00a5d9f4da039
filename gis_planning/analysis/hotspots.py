"""Hotspots: Getis-Ord Gi*, local Moran's I, permutation inference, FDR q-values, EB rates.

Two layers of API:

* :func:`getis_ord` and :func:`local_moran` take a GeoDataFrame (any polygon or grid layer in a
  projected CRS) and return a new GeoDataFrame with the statistics, a q-value per unit and a
  German class label (column ``klasse``) ready for maps.
* :func:`gi_star_statistics`, :func:`local_moran_statistics`, :func:`benjamini_hochberg` and
  :func:`empirical_bayes_rates` work on plain arrays and sparse weights; they live in
  :mod:`gis_planning.analysis.hotspot_statistics` and are re-exported here.

The conditional permutation test is vectorised with NumPy (no numba, no compile wait) and for
weights with equal weights within each row (binary or row-standardised contiguity, knn,
distance band) costs about as much as a handful of sparse matrix-vector products, whatever the
number of permutations; see :func:`permutation_pvalues`.

Attainable inference: with ``m`` tested units and ``R`` permutations the smallest p-value is
``1 / (R + 1)``, so the strongest unit on its own gets at best ``q = m / (R + 1)``. With 86
Stadtteile and 999 permutations that is 0.086: nothing can be significant at FDR 5 %.
``permutations="auto"`` (the default) therefore chooses ``R`` from ``m`` and ``alpha``
(:func:`auto_permutations`), a count that cannot reach ``alpha`` is refused
(:func:`minimum_permutations` names the least that can), and every result states its smallest
attainable q-value (``gi_q_min`` / ``lisa_q_min``). Where the needed count is impractical
(thousands of units) the analytical normal approximation is used and the output says so
(``gi_p_methode`` / ``lisa_p_methode``).
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

from .._errors import InputError
from .._validate import require_numeric, require_projected
from ._permutation import permutation_pvalues
from .hotspot_statistics import (
    Alternative,
    GiStarResult,
    LocalMoranResult,
    benjamini_hochberg,
    empirical_bayes_rates,
    gi_star_statistics,
    local_moran_statistics,
)
from .uncertainty import poisson_interval, wilson_interval
from .weights import SpatialWeights, WeightsKind, as_weights

__all__ = [
    "GI_LABELS",
    "LISA_LABELS",
    "MAX_AUTO_PERMUTATIONS",
    "NO_NEIGHBOURS",
    "GiStarResult",
    "LocalMoranResult",
    "auto_permutations",
    "benjamini_hochberg",
    "empirical_bayes_rates",
    "getis_ord",
    "gi_labels",
    "gi_star_statistics",
    "lisa_labels",
    "local_moran",
    "local_moran_statistics",
    "minimum_permutations",
    "permutation_pvalues",
]

logger = logging.getLogger(__name__)

#: Quadrant codes of local Moran's I (PySAL scheme) and their German labels.
LISA_LABELS: dict[int, str] = {
    1: "Hoch-Hoch",
    2: "Niedrig-Hoch",
    3: "Niedrig-Niedrig",
    4: "Hoch-Niedrig",
}

#: Keys of the Gi* classes; the labels depend on ``alpha`` and ``min_population``
#: (see :func:`gi_labels`).
GI_LABELS: tuple[str, ...] = (
    "hotspot", "kaeltepunkt", "nicht_signifikant", "keine_nachbarn", "zu_klein",
)

NOT_SIGNIFICANT = "nicht signifikant"
#: Class of units without neighbours: no local statistic exists, so nothing was tested.
NO_NEIGHBOURS = "keine Nachbarn"

#: Largest permutation count ``permutations="auto"`` chooses; beyond it the analytical
#: (normal) p-values are used.
MAX_AUTO_PERMUTATIONS = 199_999
#: ``"auto"`` makes the lone strongest unit reach ``q = alpha / AUTO_MARGIN``, so that a unit
#: whose true p-value lies well below ``alpha / m`` is found with high probability.
AUTO_MARGIN = 4
_AUTO_LADDER = (999, 1_999, 4_999, 9_999, 19_999, 49_999, 99_999, MAX_AUTO_PERMUTATIONS)
#: Work limit (units x permutations x neighbours) of the direct scheme under "auto".
_DIRECT_BUDGET = 2_000_000_000


def _pct(alpha: float) -> str:
    return f"{alpha * 100:g}".replace(".", ",")


def _too_small(min_population: float) -> str:
    num = f"{min_population:,.0f}".replace(",", ".")
    return f"zu klein (< {num} Einw.)"


def gi_labels(*, alpha: float = 0.05, min_population: float = 300) -> dict[str, str]:
    """German labels of the Gi* classes, in legend order.

    >>> gi_labels()["hotspot"]
    'Hotspot (signifikant, FDR 5 %)'
    """
    return {
        "hotspot": f"Hotspot (signifikant, FDR {_pct(alpha)} %)",
        "kaeltepunkt": f"Kältepunkt (signifikant, FDR {_pct(alpha)} %)",
        "nicht_signifikant": NOT_SIGNIFICANT,
        "keine_nachbarn": NO_NEIGHBOURS,
        "zu_klein": _too_small(min_population),
    }


def lisa_labels(*, min_population: float = 300) -> list[str]:
    """German labels of the local Moran classes, in legend order."""
    return [*LISA_LABELS.values(), NOT_SIGNIFICANT, NO_NEIGHBOURS, _too_small(min_population)]


def _fmt_int(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def minimum_permutations(n_tested: int, *, alpha: float = 0.05) -> int:
    """Fewest permutations with which one unit among ``n_tested`` can reach FDR ``alpha``.

    The smallest permutation p-value is ``1 / (R + 1)``; Benjamini-Hochberg turns the smallest
    of ``m`` p-values into ``q = m p``. A discovery needs ``m / (R + 1) <= alpha``, so
    ``R >= m / alpha - 1``.

    >>> minimum_permutations(86)
    1719
    """
    if n_tested <= 0:
        return 0
    return max(math.ceil(n_tested / alpha - 1e-9) - 1, 1)


def auto_permutations(n_tested: int, *, alpha: float = 0.05) -> int:
    """The permutation count ``permutations="auto"`` uses, or 0 for the normal approximation.

    The smallest of 999, 1,999, 4,999, 9,999, 19,999, 49,999, 99,999, 199,999 with which the
    strongest unit on its own reaches ``q = alpha / 4``; 0 (analytical p-values) when even
    199,999 is not enough (about 2,500 units at FDR 5 %).

    >>> auto_permutations(50), auto_permutations(86), auto_permutations(10_000)
    (4999, 9999, 0)
    """
    need = AUTO_MARGIN * n_tested / alpha
    for r in _AUTO_LADDER:
        if r + 1 >= need:
            return r
    return 0


def _resolve_permutations(
    permutations: int | str, n_tested: int, *, alpha: float, n: int, kmax: int,
    direct: bool,
) -> int:
    """Return the permutation count to use (0 = analytical), refusing one that cannot work."""
    if isinstance(permutations, str):
        if permutations != "auto":
            raise InputError(
                f"--permutations muss 'auto' oder eine ganze Zahl sein, nicht "
                f"{permutations!r}."
            )
        r = auto_permutations(n_tested, alpha=alpha)
        if r and direct and n * r * max(kmax, 1) > _DIRECT_BUDGET:
            r = 0
        return r
    if isinstance(permutations, bool) or not isinstance(permutations, int | np.integer):
        raise InputError(
            f"--permutations muss 'auto' oder eine ganze Zahl sein, nicht {permutations!r}."
        )
    r = int(permutations)
    if r < 0:
        raise InputError(f"--permutations darf nicht negativ sein: {r}.")
    if r and n_tested and n_tested / (r + 1) > alpha * (1 + 1e-12):
        need = minimum_permutations(n_tested, alpha=alpha)
        q = _fmt_num(n_tested / (r + 1), 3)
        raise InputError(
            f"Mit {_fmt_int(r)} Permutationen ist der kleinste mögliche p-Wert 1/{_fmt_int(r + 1)};"
            f" bei {n_tested} getesteten Einheiten erreicht die stärkste Einheit höchstens "
            f"q = {q} > FDR {_pct(alpha)} %, keine Einheit könnte signifikant werden. Nötig "
            f"sind mindestens {_fmt_int(need)} Permutationen: --permutations {need} oder "
            f"mehr, oder --permutations auto (wählt die Zahl selbst)."
        )
    return r


def _fmt_num(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}".replace(".", ",")


# ---------------------------------------------------------------------------------------------
# GeoDataFrame API
# ---------------------------------------------------------------------------------------------


@dataclass
class _Prepared:
    value: np.ndarray
    small: np.ndarray
    weights: SpatialWeights
    rate: np.ndarray | None = None
    rate_lo: np.ndarray | None = None
    rate_hi: np.ndarray | None = None
    rate_interval: str | None = None


def _prepare(
    gdf: gpd.GeoDataFrame,
    column: str,
    *,
    weights: WeightsKind | SpatialWeights | Any,
    k: int,
    distance: float | None,
    population: str | None,
    min_population: float,
    rate_denominator: str | None,
    smoothing: str | None,
) -> _Prepared:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"Die Hotspot-Analyse braucht eine Ebene mit Geometrien "
                         f"(GeoDataFrame), nicht {type(gdf).__name__}.")
    require_projected(gdf, name="gdf")
    cols = [column] + [c for c in (rate_denominator, population) if c is not None]
    require_numeric(gdf, cols, name="gdf")
    for c in cols:
        nan = gdf[c].isna().to_numpy()
        if nan.any():
            raise InputError(
                f"Die Spalte {c!r} hat {int(nan.sum())} fehlende Werte (z. B. Zeilen "
                f"{list(gdf.index[nan][:5])}); füllen Sie sie (0 bei Anzahlen) oder lassen "
                f"Sie diese Einheiten weg."
            )
    if smoothing not in (None, "eb"):
        raise InputError(f"Glättung muss keine oder 'eb' (empirisch-bayessch) sein, nicht "
                         f"{smoothing!r}.")
    x = gdf[column].to_numpy(dtype=float)
    rate = lo = hi = None
    interval = None
    if rate_denominator is not None:
        base = gdf[rate_denominator].to_numpy(dtype=float)
        zero = base <= 0
        if base.sum() <= 0:
            raise InputError(f"Die Nenner-Spalte {rate_denominator!r} ist insgesamt 0.")
        rate = np.divide(x, base, out=np.full_like(x, np.nan), where=~zero)
        if (x >= 0).all() and (x <= base).all():
            lo, hi = wilson_interval(x, base)
            interval = "Wilson (Anteil)"
        elif (x >= 0).all():
            lo, hi = poisson_interval(x, exposure=base)
            interval = "Poisson (Rate)"
        if smoothing == "eb":
            value = empirical_bayes_rates(x, base)
        else:
            value = np.where(zero, 0.0, rate)
            if zero.any():
                value[zero] = x.sum() / base.sum()
                warnings.warn(
                    f"{int(zero.sum())} Einheiten haben {rate_denominator!r} = 0; ihr Anteil "
                    f"wird auf den Gesamtanteil gesetzt. Eine empirisch-bayessche Glättung "
                    f"vermeidet das.",
                    UserWarning,
                    stacklevel=3,
                )
    else:
        if smoothing == "eb":
            raise InputError(
                "Die empirisch-bayessche Glättung glättet Anteile und braucht eine "
                "Nenner-Spalte mit der Bevölkerung (--denominator, z. B. 'einwohner')."
            )
        value = x
    pop_col = population if population is not None else rate_denominator
    if pop_col is not None:
        small = gdf[pop_col].to_numpy(dtype=float) < min_population
    else:
        small = np.zeros(len(gdf), dtype=bool)
    w = as_weights(gdf, weights, k=k, distance=distance)
    if not isinstance(weights, str) and len(w.islands):
        warnings.warn(
            f"{len(w.islands)} Einheiten haben keine Nachbarn, z. B. {list(w.islands[:5])}; "
            f"sie heißen '{NO_NEIGHBOURS}' und werden nicht getestet.",
            UserWarning,
            stacklevel=3,
        )
    return _Prepared(value=value, small=small, weights=w, rate=rate, rate_lo=lo, rate_hi=hi,
                     rate_interval=interval)


def _assemble(gdf: gpd.GeoDataFrame, new: dict[str, Any]) -> gpd.GeoDataFrame:
    out = gdf.copy()
    clash = [c for c in new if c in out.columns]
    if clash:
        warnings.warn(
            f"Die Ebene hat schon die Spalte(n) {', '.join(map(repr, clash))}; sie werden "
            f"durch die Ergebnisse ersetzt.",
            UserWarning,
            stacklevel=3,
        )
    for c, vals in new.items():
        out[c] = vals
    return out


def _check_alpha(alpha: float) -> None:
    if not (0 < alpha < 1):
        raise InputError(f"Die Fehlerrate (FDR) muss echt zwischen 0 und 1 liegen, nicht "
                         f"{alpha!r}.")


@dataclass(frozen=True)
class _Inference:
    """How the p-values of a GeoDataFrame result were obtained."""

    permutations: int  # resolved count; 0 = analytical normal approximation
    requested: int | str
    n_tested: int
    q_min: float
    method: str

    def columns(self, prefix: str, n: int) -> dict[str, Any]:
        return {f"{prefix}_q_min": np.full(n, self.q_min),
                f"{prefix}_p_methode": np.full(n, self.method, dtype=object)}

    def attrs(self) -> dict[str, Any]:
        return {"permutations": self.permutations, "permutations_requested": self.requested,
                "n_tested": self.n_tested, "q_min": self.q_min, "p_method": self.method}


def _inference(
    permutations: int | str, prep: _Prepared, *, alpha: float, row_standardised: bool
) -> _Inference:
    card = prep.weights.cardinalities
    n_tested = int((~prep.small & (card > 0)).sum())
    n = len(card)
    kmax = int(card.max(initial=0))
    m = prep.weights.sparse
    equal = bool((m.data > 0).all()) and (row_standardised or prep.weights.transform == "B"
                                          or _equal_rows(m))
    direct = not (equal and n >= 50 * kmax)
    r = _resolve_permutations(permutations, n_tested, alpha=alpha, n=n, kmax=kmax,
                              direct=direct)
    if r:
        q_min = min(1.0, n_tested / (r + 1)) if n_tested else float("nan")
        method = f"bedingte Permutation ({_fmt_int(r)} Ziehungen)"
    else:
        q_min = 0.0 if n_tested else float("nan")
        method = "Normalapproximation (analytisch)"
    if r == 0 and permutations == "auto" and n_tested:
        logger.info("%d getestete Einheiten: Permutationen zu aufwendig, "
                    "Normalapproximation verwendet", n_tested)
    return _Inference(r, permutations, n_tested, q_min, method)


def _equal_rows(m: sparse.csr_array) -> bool:
    card = np.diff(m.indptr)
    rows = card > 0
    if not rows.any():
        return True
    starts = m.indptr[:-1][rows]
    rmax = np.maximum.reduceat(m.data, starts)
    rmin = np.minimum.reduceat(m.data, starts)
    return bool(np.all(rmax - rmin <= 1e-12 * rmax))


def _rate_columns(prep: _Prepared) -> dict[str, Any]:
    if prep.rate is None:
        return {}
    out: dict[str, Any] = {"rate": prep.rate}
    if prep.rate_lo is not None:
        out["rate_ki_unten"] = prep.rate_lo
        out["rate_ki_oben"] = prep.rate_hi
    return out


def _weights_attrs(prep: _Prepared, k: int, distance: float | None) -> dict[str, Any]:
    kind = prep.weights.kind
    return {"weights": kind, "k": k if kind == "knn" else None,
            "distance_m": distance if kind == "distance" else None,
            "n_keine_nachbarn": len(prep.weights.islands),
            "rate_interval": prep.rate_interval}


_PERMUTATIONS_DOC = """permutations : "auto" or int, default "auto"
        Conditional permutations. ``"auto"`` chooses the count from the number of tested units
        (:func:`auto_permutations`) so that a unit can reach ``alpha`` after the FDR
        correction, and switches to the analytical normal approximation beyond 199,999
        permutations (about 2,500 units). An explicit count that cannot reach ``alpha`` for
        the tested units is refused with the minimum needed (:func:`minimum_permutations`);
        0 asks for the normal approximation."""


def getis_ord(
    gdf: gpd.GeoDataFrame,
    column: str,
    *,
    weights: WeightsKind | SpatialWeights | Any = "queen",
    k: int = 8,
    distance: float | None = None,
    permutations: int | Literal["auto"] = "auto",
    seed: int | None = 0,
    alpha: float = 0.05,
    alternative: Alternative = "folded",
    population: str | None = None,
    min_population: float = 300,
    rate_denominator: str | None = None,
    smoothing: Literal["eb"] | None = None,
    progress: Callable[..., Iterable] | None = None,
) -> gpd.GeoDataFrame:
    """Getis-Ord Gi* hotspots and cold spots with FDR-controlled classes.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Polygons in a projected CRS with metre units whose rows carry their own data
        (Stadtteile, real census grid cells). Do not pass a grid filled from polygon values:
        copies of one value are not independent observations and their "significance" is
        an artefact.
    column : str
        Non-negative variable: a count or share, or the event count of a rate (with
        ``rate_denominator``).
    weights : {"queen", "knn", "distance"} or SpatialWeights or sparse matrix, default "queen"
        Neighbourhood; see :mod:`gis_planning.analysis.weights`. Binarised; self included.
    k : int, default 8
        Neighbours for ``weights="knn"``.
    distance : float, optional
        Metres, for ``weights="distance"``.
    {permutations}
    seed : int or None, default 0
    alpha : float, default 0.05
        False discovery rate for the classes (Benjamini-Hochberg over the tested units).
    alternative : {{"folded", "directed"}}, default "folded"
        Two-sided folded permutation p-value (recommended) or esda's legacy directed one.
    population : str, optional
        Column with residents for the population floor; defaults to ``rate_denominator``.
    min_population : float, default 300
        Units with fewer residents are labelled "zu klein (< 300 Einw.)", get no q-value and
        are not part of the FDR family. Their values still enter their neighbours' sums.
    rate_denominator : str, optional
        Analyse ``column / rate_denominator`` (e.g. group residents / all residents).
    smoothing : {{None, "eb"}}, default None
        ``"eb"``: global empirical-Bayes smoothing of the rate (:func:`empirical_bayes_rates`).
    progress : callable, optional
        ``progress(iterable, desc=..., total=..., unit=...)`` wraps the permutation loop
        (the CLI passes a progress bar); default: plain iteration.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``gdf`` (same index, CRS and columns) plus ``value`` (analysed value),
        ``n_neighbours``, ``gi`` (G*_i), ``gi_z``, ``gi_p_norm`` (two-sided normal),
        ``gi_p_sim`` (permutation; NaN under the normal approximation), ``gi_q`` (BH q-value
        of the p used), ``gi_q_min`` (smallest q-value attainable by one unit: ``m / (R +
        1)``, 0 under the normal approximation), ``gi_p_methode`` (which p was used, German)
        and ``klasse`` (categorical: Hotspot / Kältepunkt (signifikant, FDR 5 %) / nicht
        signifikant / keine Nachbarn / zu klein (< 300 Einw.)). With ``rate_denominator``
        also ``rate`` (crude share), ``rate_ki_unten`` and ``rate_ki_oben`` (95 % Wilson
        interval of the share; Poisson for rates above 1). ``attrs["hotspots"]`` records the
        parameters, the resolved permutation count and the smallest attainable q.

    Raises
    ------
    CRSError
        Missing or geographic CRS.
    SchemaError
        Missing or non-numeric columns.
    InputError
        Invalid options, NaN values, negative values, a permutation count that cannot reach
        ``alpha``.

    Notes
    -----
    Classic binary Gi* (Ord & Getis 1995), see :func:`gi_star_statistics`; z-scores match
    ``esda.G_Local(y, w, transform="B", star=True).Zs``. A unit is a hotspot when its q-value
    (from ``gi_p_sim``, or ``gi_p_norm`` under the normal approximation) is at most ``alpha``
    and ``gi_z > 0``; a cold spot ("Kältepunkt") when ``gi_z < 0``. Units without neighbours
    have no Gi* and are classed "keine Nachbarn", not "nicht signifikant".
    """
    _check_alpha(alpha)
    prep = _prepare(
        gdf,
        column,
        weights=weights,
        k=k,
        distance=distance,
        population=population,
        min_population=min_population,
        rate_denominator=rate_denominator,
        smoothing=smoothing,
    )
    inf = _inference(permutations, prep, alpha=alpha, row_standardised=False)
    res = gi_star_statistics(
        prep.value,
        prep.weights,
        permutations=inf.permutations,
        seed=seed,
        alternative=alternative,
        progress=progress,
    )
    p = res.p_sim if inf.permutations else res.p_norm
    tested = ~prep.small & np.isfinite(p)
    q = benjamini_hochberg(np.where(tested, p, np.nan))  # untested units stay NaN
    labels = gi_labels(alpha=alpha, min_population=min_population)
    klasse = np.full(len(p), labels["nicht_signifikant"], dtype=object)
    sig = tested & (q <= alpha)
    klasse[sig & (res.z > 0)] = labels["hotspot"]
    klasse[sig & (res.z < 0)] = labels["kaeltepunkt"]
    klasse[prep.weights.cardinalities == 0] = labels["keine_nachbarn"]
    klasse[prep.small] = labels["zu_klein"]
    out = _assemble(
        gdf,
        {
            "value": prep.value,
            **_rate_columns(prep),
            "n_neighbours": prep.weights.cardinalities,
            "gi": res.g,
            "gi_z": res.z,
            "gi_p_norm": res.p_norm,
            "gi_p_sim": res.p_sim,
            "gi_q": q,
            **inf.columns("gi", len(p)),
            "klasse": pd.Categorical(klasse, categories=list(labels.values())),
        },
    )
    out.attrs["hotspots"] = {
        "method": "Getis-Ord Gi* (binär, Einheit selbst eingeschlossen)",
        "column": column,
        **_weights_attrs(prep, k, distance),
        **inf.attrs(),
        "seed": seed,
        "alternative": alternative,
        "alpha": alpha,
        "min_population": min_population,
        "rate_denominator": rate_denominator,
        "smoothing": smoothing,
        "n_hotspot": int((sig & (res.z > 0)).sum()),
        "n_kaeltepunkt": int((sig & (res.z < 0)).sum()),
    }
    logger.info(
        "Gi*: %d Hotspots, %d Kältepunkte unter %d Einheiten",
        out.attrs["hotspots"]["n_hotspot"],
        out.attrs["hotspots"]["n_kaeltepunkt"],
        len(out),
    )
    return out


def local_moran(
    gdf: gpd.GeoDataFrame,
    column: str,
    *,
    weights: WeightsKind | SpatialWeights | Any = "queen",
    k: int = 8,
    distance: float | None = None,
    permutations: int | Literal["auto"] = "auto",
    seed: int | None = 0,
    alpha: float = 0.05,
    alternative: Alternative = "folded",
    population: str | None = None,
    min_population: float = 300,
    rate_denominator: str | None = None,
    smoothing: Literal["eb"] | None = None,
    progress: Callable[..., Iterable] | None = None,
) -> gpd.GeoDataFrame:
    """Local Moran's I (LISA) clusters and outliers with FDR-controlled classes.

    Parameters are those of :func:`getis_ord` (``column`` may be negative here; weights are
    row-standardised). With ``permutations=0`` (or ``"auto"`` beyond 199,999 permutations)
    the p-values come from the normal approximation under conditional randomisation
    (:func:`local_moran_statistics`).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``gdf`` plus ``value``, ``n_neighbours``, ``lisa_i`` (I_i), ``lisa_lag``
        (lag of the standardised value), ``lisa_quadrant`` (1 HH, 2 LH, 3 LL, 4 HL),
        ``lisa_z_norm``, ``lisa_p_norm``, ``lisa_p_sim``, ``lisa_q`` (BH q-value),
        ``lisa_q_min``, ``lisa_p_methode`` and ``klasse`` (categorical: Hoch-Hoch,
        Niedrig-Hoch, Niedrig-Niedrig, Hoch-Niedrig for units with ``lisa_q <= alpha``,
        else "nicht signifikant"; "keine Nachbarn" for units without neighbours; "zu klein
        (< 300 Einw.)" below the floor). With ``rate_denominator`` also ``rate``,
        ``rate_ki_unten``, ``rate_ki_oben``.

    Notes
    -----
    See :func:`local_moran_statistics`; ``lisa_i`` and ``lisa_quadrant`` equal
    ``esda.Moran_Local(y, w, transformation="r")``'s ``Is`` and ``q``.
    """
    _check_alpha(alpha)
    prep = _prepare(
        gdf,
        column,
        weights=weights,
        k=k,
        distance=distance,
        population=population,
        min_population=min_population,
        rate_denominator=rate_denominator,
        smoothing=smoothing,
    )
    inf = _inference(permutations, prep, alpha=alpha, row_standardised=True)
    res = local_moran_statistics(
        prep.value,
        prep.weights,
        permutations=inf.permutations,
        seed=seed,
        alternative=alternative,
        progress=progress,
    )
    p = res.p_sim if inf.permutations else res.p_norm
    tested = ~prep.small & np.isfinite(p)
    q = benjamini_hochberg(np.where(tested, p, np.nan))  # untested units stay NaN
    sig = tested & (q <= alpha)
    klasse = np.full(len(q), NOT_SIGNIFICANT, dtype=object)
    for code, label in LISA_LABELS.items():
        klasse[sig & (res.quadrant == code)] = label
    klasse[prep.weights.cardinalities == 0] = NO_NEIGHBOURS
    too_small = _too_small(min_population)
    klasse[prep.small] = too_small
    out = _assemble(
        gdf,
        {
            "value": prep.value,
            **_rate_columns(prep),
            "n_neighbours": prep.weights.cardinalities,
            "lisa_i": res.i,
            "lisa_lag": res.lag,
            "lisa_quadrant": res.quadrant,
            "lisa_z_norm": res.z_norm,
            "lisa_p_norm": res.p_norm,
            "lisa_p_sim": res.p_sim,
            "lisa_q": q,
            **inf.columns("lisa", len(q)),
            "klasse": pd.Categorical(
                klasse, categories=lisa_labels(min_population=min_population)
            ),
        },
    )
    out.attrs["hotspots"] = {
        "method": "lokales Moran's I (zeilenstandardisiert)",
        "column": column,
        **_weights_attrs(prep, k, distance),
        **inf.attrs(),
        "seed": seed,
        "alternative": alternative,
        "alpha": alpha,
        "min_population": min_population,
        "rate_denominator": rate_denominator,
        "smoothing": smoothing,
        "counts": {lab: int((klasse == lab).sum()) for lab in out["klasse"].cat.categories},
    }
    return out


for _f in (getis_ord, local_moran):
    _f.__doc__ = (_f.__doc__ or "").replace("{permutations}", _PERMUTATIONS_DOC).replace(
        "{{", "{").replace("}}", "}")
