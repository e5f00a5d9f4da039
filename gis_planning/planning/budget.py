"""Distribute a budget (e.g. the 1,000,000 EUR Integrationsbudget) over the Bezirke.

The seed (Vorlage 1846/2016/5) gives the Bezirksstellen an Integrationsbudget of 1,000,000 EUR
and leaves the split to the Steuerungsgruppe. This module makes one transparent, configurable
needs formula: every term (12-origin population, project flats, demand not yet covered by a
meeting space, ...) is turned into shares that sum to 1, the shares are weighted, and the
amount is rounded to whole euros with the largest-remainder (Hamilton) method so that the
table sums exactly to the total.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .._errors import InputError
from .._validate import require_numeric
from ..labels import fmt_number
from ..rounding import largest_remainder

__all__ = ["allocate_budget"]


def allocate_budget(
    table: pd.DataFrame,
    *,
    total: int = 1_000_000,
    weights: Mapping[str, float],
    base_share: float = 0.0,
) -> pd.DataFrame:
    """Split ``total`` over the rows of ``table`` (Bezirke) by a weighted needs formula.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per Bezirk (the index names it), one numeric column per need term, e.g.
        ``herkunft12`` (people from the 12 main countries of origin), ``projektwohnungen``,
        ``ungedeckt`` (demand weight not within reach of a Begegnungsort, from
        :func:`gis_planning.planning.siting.coverage_by_group`).
    total : int, keyword-only
        Whole euros to distribute (default 1,000,000, the Integrationsbudget 2017/2018).
    weights : mapping of column name to float
        Weight of each term, >= 0 and not all zero; only these columns are used. Weights are
        normalised to sum to 1, so ``{"a": 2, "b": 1}`` means 2/3 and 1/3.
    base_share : float
        Share of ``total`` split equally among the rows first (a Sockelbetrag), in [0, 1).

    Returns
    -------
    pandas.DataFrame
        Index of ``table``. For every term ``t``: ``t`` (the input value), ``anteil_t`` (share
        of the city total), ``beitrag_t`` (weighted contribution to the need index); then
        ``sockel`` (equal share of ``base_share``), ``bedarfsindex`` (sum of the
        contributions), ``anteil_gesamt`` (final share), ``betrag_exakt`` (exact euros) and
        ``betrag`` (whole euros, Hamilton-rounded; sums exactly to ``total``). The formula and
        the normalised weights are in ``result.attrs["formula"]`` and ``attrs["weights"]``.

    Raises
    ------
    SchemaError
        If a weighted column is missing or not numeric.
    InputError
        If a value is negative or missing, a term sums to 0 with a positive weight, weights
        are invalid or ``base_share`` is out of range.

    Notes
    -----
    With :math:`x_{tb}` the value of term :math:`t` in Bezirk :math:`b` and normalised weights
    :math:`\\omega_t = w_t / \\sum_s w_s`:

    .. math:: s_{tb} = x_{tb} / \\sum_{b'} x_{tb'}, \\qquad
              N_b = \\sum_t \\omega_t s_{tb}, \\qquad
              A_b = T\\,(\\beta / B + (1 - \\beta) N_b),

    where :math:`T` is ``total``, :math:`\\beta` is ``base_share`` and :math:`B` the number of
    Bezirke. :math:`\\sum_b N_b = 1`, so :math:`\\sum_b A_b = T`; the amounts are then rounded
    with :func:`gis_planning.rounding.largest_remainder`.
    """
    if not isinstance(weights, Mapping) or not weights:
        raise InputError("Die Budgetformel braucht mindestens eine Spalte mit Gewicht, z. B. "
                         "--weight herkunft12=0.5 --weight ungedeckt=0.2.")
    terms = list(weights)
    require_numeric(table, terms, name="Budgettabelle")
    if len(table) == 0:
        raise InputError("Die Budgettabelle hat keine Zeilen (Bezirke).")
    w = np.array([float(weights[t]) for t in terms])
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise InputError(f"Die Gewichte müssen ≥ 0 und nicht alle 0 sein (--weight), nicht "
                         f"{dict(weights)!r}.")
    if not (0.0 <= base_share < 1.0) or math.isnan(base_share):
        raise InputError(f"Der Sockelanteil muss zwischen 0 und unter 1 liegen (--sockel), "
                         f"nicht {base_share!r}.")
    omega = w / w.sum()
    out = pd.DataFrame(index=table.index)
    need = np.zeros(len(table))
    for t, om in zip(terms, omega, strict=True):
        x = table[t].to_numpy(dtype=float)
        if not np.isfinite(x).all() or (x < 0).any():
            raise InputError(f"Spalte {t!r} der Budgettabelle muss ≥ 0 und ohne Lücken sein; "
                             "tragen Sie für fehlende Bezirke 0 ein, wenn sie nichts haben.")
        s = x.sum()
        if s <= 0:
            if om > 0:
                raise InputError(f"Spalte {t!r} der Budgettabelle ergibt in Summe 0, hat aber das "
                                 f"Gewicht {fmt_number(om, 3)}; geben Sie ihr das Gewicht 0 "
                                 "oder berichtigen Sie die Daten.")
            share = np.zeros_like(x)
        else:
            share = x / s
        out[t] = table[t]
        out[f"anteil_{t}"] = share
        out[f"beitrag_{t}"] = om * share
        need += om * share
    n = len(table)
    out["sockel"] = base_share / n
    out["bedarfsindex"] = need
    final = base_share / n + (1.0 - base_share) * need
    out["anteil_gesamt"] = final
    out["betrag_exakt"] = final * total
    out["betrag"] = largest_remainder(final, int(total))
    out.attrs["weights"] = dict(zip(terms, omega.tolist(), strict=True))
    out.attrs["total"] = int(total)
    out.attrs["formula"] = (
        f"betrag = {int(total)} * ({base_share:g} / {n} + {1 - base_share:g} * ("
        + " + ".join(f"{om:.4g} * anteil_{t}" for t, om in zip(terms, omega, strict=True))
        + ")), gerundet nach größtem Rest (Hamilton)"
    )
    return out
