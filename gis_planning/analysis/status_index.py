"""Social status index per unit, in the manner of Berlin's MSS and Hamburg's Sozialmonitoring.

A small, configurable pipeline: indicators (shares such as SGB II quota, unemployment, child
poverty) are z-standardised against the city, signed so that a high value always means a
disadvantaged situation, weighted and summed, the sum is standardised again and cut into four
status classes. Units with too few inhabitants are left out (their shares are noise).

The same machinery (:func:`composite_index`) serves a later *Dynamik* index: feed it the change
of each indicator between two dates (:func:`dynamik_index`) and cut it into three classes.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._errors import InputError, SchemaError
from .._validate import require_columns, require_numeric

__all__ = [
    "DYNAMIK_LABELS",
    "DYNAMIK_THRESHOLDS",
    "MSS_DYNAMIK",
    "MSS_PRESETS",
    "MSS_STATUS",
    "STATUS_LABELS",
    "STATUS_THRESHOLDS",
    "Indicator",
    "classify",
    "composite_index",
    "dynamik_index",
    "mss_dynamik_class",
    "mss_index",
    "mss_status_class",
    "standardize",
    "status_index",
]

logger = logging.getLogger(__name__)

#: Status classes from best to worst (MSS wording).
STATUS_LABELS = ("hoch", "mittel", "niedrig", "sehr niedrig")
#: Class limits on the standardised index, in standard deviations (MSS since 2013).
STATUS_THRESHOLDS = (-1.0, 1.0, 1.5)
#: Dynamik classes from best to worst.
DYNAMIK_LABELS = ("positiv", "stabil", "negativ")
#: Class limits of the standardised Dynamik index, in standard deviations.
DYNAMIK_THRESHOLDS = (-1.0, 1.0)


@dataclass(frozen=True)
class Indicator:
    """One indicator of the index.

    Attributes
    ----------
    column : str
        Column holding the indicator (a share in % or 0-1, per unit).
    direction : int, default +1
        +1 if a higher value means a *lower* social status (SGB II quota, unemployment),
        -1 if a higher value means a higher status (e.g. share of Abitur).
    weight : float, default 1.0
        Weight in the sum (MSS: equal weights).
    label : str, optional
        German label for legends and tables.
    """

    column: str
    direction: int = 1
    weight: float = 1.0
    label: str | None = None


def _indicators(spec: Mapping[str, object] | Sequence[Indicator]) -> list[Indicator]:
    items: list[Indicator] = []
    if isinstance(spec, Mapping):
        for col, val in spec.items():
            if isinstance(val, Indicator):
                items.append(val)
            elif isinstance(val, tuple):
                items.append(Indicator(col, *val))
            elif isinstance(val, int | float) and not isinstance(val, bool) and val != 0:
                items.append(Indicator(col, int(np.sign(val)), abs(float(val))))
            else:
                raise InputError(
                    f"Indikator {col!r}: Richtung (+1/-1) oder Richtung und Gewicht angeben "
                    f"(--indicator SPALTE:RICHTUNG:GEWICHT), nicht {val!r}."
                )
    else:
        items = list(spec)
    if not items:
        raise InputError("Keine Indikatoren angegeben; nennen Sie mindestens eine Spalte "
                         "(--indicator).")
    for ind in items:
        if ind.direction not in (1, -1):
            raise InputError(f"Indikator {ind.column!r}: die Richtung muss +1 oder -1 sein.")
        if not ind.weight > 0:
            raise InputError(f"Indikator {ind.column!r}: das Gewicht muss positiv sein.")
    return items


def standardize(
    values: pd.Series, *, weights: pd.Series | None = None, mask: pd.Series | None = None
) -> pd.Series:
    """z-standardise a column against the units in ``mask`` (all by default).

    Parameters
    ----------
    values : pandas.Series
        Indicator values.
    weights : pandas.Series, optional
        Population of each unit for a population-weighted mean and standard deviation.
    mask : pandas.Series of bool, optional
        Units that define the reference (the city); others get NaN.

    Returns
    -------
    pandas.Series
        :math:`z_i = (v_i - \\bar v) / s`, same index; NaN outside ``mask`` or where ``values``
        is NaN.

    Notes
    -----
    Unweighted: :math:`\\bar v` the mean, :math:`s` the standard deviation with divisor n
    (SPSS/Excel z-scores divide by n-1; the difference is a factor
    :math:`\\sqrt{n/(n-1)}`, 1 % for 50 Stadtteile). Weighted with populations
    :math:`p_i`: :math:`\\bar v = \\sum p_i v_i / \\sum p_i`,
    :math:`s^2 = \\sum p_i (v_i - \\bar v)^2 / \\sum p_i`, so the city mean is the city's own
    share rather than the mean of unit shares.
    """
    v = values.astype(float)
    ok = v.notna()
    if mask is not None:
        ok &= mask.astype(bool)
    if weights is not None:
        p = weights.astype(float).where(ok, 0.0).fillna(0.0)
        if p.sum() <= 0:
            raise InputError("Die Bevölkerung der Bezugseinheiten ist insgesamt 0; gewichtete "
                             "z-Werte sind nicht möglich.")
        mean = float((p * v.where(ok, 0.0)).sum() / p.sum())
        sd = float(np.sqrt((p * (v.where(ok, mean) - mean) ** 2).sum() / p.sum()))
    else:
        mean = float(v[ok].mean())
        sd = float(v[ok].std(ddof=0))
    if not sd > 0:
        raise InputError(
            f"Spalte {values.name!r} hat unter den Bezugseinheiten keine Streuung; lassen "
            f"Sie diesen Indikator weg."
        )
    return ((v - mean) / sd).where(ok)


def classify(
    values: pd.Series,
    *,
    thresholds: Sequence[float] = STATUS_THRESHOLDS,
    labels: Sequence[str] = STATUS_LABELS,
) -> pd.Series:
    """Cut a standardised index into ordered classes.

    Parameters
    ----------
    values : pandas.Series
        Standardised index (high = worse).
    thresholds : sequence of float
        Increasing class limits; a value equal to a limit falls into the better class
        (intervals closed on the right: ``(-inf, t1], (t1, t2], ...``).
    labels : sequence of str
        One label more than limits, from best to worst.

    Returns
    -------
    pandas.Series
        Ordered categorical with ``labels`` as categories; NaN stays NaN.
    """
    thresholds = list(thresholds)
    if len(labels) != len(thresholds) + 1:
        raise InputError("Es muss genau eine Klasse mehr als Schwellenwerte geben.")
    if any(b <= a for a, b in itertools.pairwise(thresholds)):
        raise InputError("Die Schwellenwerte müssen aufsteigen.")
    cats = pd.cut(values.astype(float), [-np.inf, *thresholds, np.inf], labels=list(labels))
    return cats.astype(pd.CategoricalDtype(list(labels), ordered=True))


def composite_index(
    data: pd.DataFrame,
    indicators: Mapping[str, object] | Sequence[Indicator],
    *,
    population: str | None = None,
    min_population: float = 300,
    weighted: bool = False,
    thresholds: Sequence[float] = STATUS_THRESHOLDS,
    labels: Sequence[str] = STATUS_LABELS,
    prefix: str = "status",
) -> pd.DataFrame:
    """Standardise, sign, weight and sum indicators; standardise the sum; classify.

    The engine behind :func:`status_index` and :func:`dynamik_index`; see
    :func:`status_index` for parameters and maths. ``prefix`` names the output columns
    (``<prefix>_sum``, ``<prefix>_index``, ``<prefix>_class``, ``<prefix>_class_code``).
    """
    inds = _indicators(indicators)
    cols = [i.column for i in inds]
    require_numeric(data, cols, name="data")
    if population is not None:
        require_numeric(data, [population], name="data")
        pop = data[population].astype(float)
        included = pop.fillna(0) >= min_population
    else:
        if weighted:
            raise InputError("Gewichtete z-Werte (--weighted) brauchen die Spalte mit der "
                             "Bevölkerung (--population).")
        pop = None
        included = pd.Series(True, index=data.index)
    included &= data[cols].notna().all(axis=1)
    if included.sum() < 2:
        raise SchemaError(
            f"nur {int(included.sum())} Einheit(en) mit allen Indikatoren und mindestens "
            f"{min_population:g} Einwohnern; ein Index braucht mindestens zwei."
        )
    w = pop if weighted else None
    out = pd.DataFrame(index=data.index)
    total = pd.Series(0.0, index=data.index)
    wsum = sum(i.weight for i in inds)
    for ind in inds:
        z = standardize(data[ind.column], weights=w, mask=included)
        out[f"z_{ind.column}"] = z
        total = total + ind.direction * ind.weight * z.fillna(0.0)
    total = (total / wsum).where(included)
    out[f"{prefix}_sum"] = total
    out[f"{prefix}_index"] = standardize(total.rename(f"{prefix}_sum"), weights=w, mask=included)
    out[f"{prefix}_class"] = classify(out[f"{prefix}_index"], thresholds=thresholds, labels=labels)
    out[f"{prefix}_class_code"] = (
        (out[f"{prefix}_class"].cat.codes + 1).where(included).astype("Int64")
    )
    out["included"] = included
    n_out = int((~included).sum())
    if n_out:
        logger.info("%s-Index: %d Einheit(en) ohne Index (zu wenige Einwohner oder Lücken)",
                    prefix.capitalize(), n_out)
    return out


def status_index(
    data: pd.DataFrame,
    indicators: Mapping[str, object] | Sequence[Indicator],
    *,
    population: str | None = None,
    min_population: float = 300,
    weighted: bool = False,
    thresholds: Sequence[float] = STATUS_THRESHOLDS,
    labels: Sequence[str] = STATUS_LABELS,
) -> pd.DataFrame:
    """Status index and status class per unit (Stadtteil, Planungsraum, grid cell).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit with the indicator columns (shares) and optionally inhabitants.
    indicators : mapping or sequence of Indicator
        ``{"sgb2_quote": +1, "abitur_quote": -1}`` (direction), ``{"col": (+1, 2.0)}``
        (direction, weight) or a list of :class:`Indicator`. Direction +1: a higher value
        means lower status.
    population : str, optional
        Inhabitants column, for the population floor and the weighted option.
    min_population : float, default 300
        Units with fewer inhabitants are excluded from the reference and get no index (MSS
        leaves out Planungsräume under 300 inhabitants). Ignored without ``population``.
    weighted : bool, default False
        Population-weighted city mean and standard deviation in the z-standardisation.
    thresholds : sequence of float, default (-1.0, 1.0, 1.5)
        Class limits on the standardised index, in standard deviations.
    labels : sequence of str, default ("hoch", "mittel", "niedrig", "sehr niedrig")
        Class labels from best to worst.

    Returns
    -------
    pandas.DataFrame
        Index of ``data``; columns ``z_<indicator>`` (unsigned z-scores), ``status_sum``
        (weighted mean of signed z-scores), ``status_index`` (``status_sum`` standardised;
        high = low status), ``status_class`` (ordered categorical ``labels``),
        ``status_class_code`` (1 = hoch ... 4 = sehr niedrig, Int64) and ``included`` (bool).
        Excluded units have NaN/<NA>.

    Raises
    ------
    SchemaError
        Missing or non-numeric columns, fewer than two usable units.
    InputError
        Bad indicator spec, ``weighted`` without ``population``, an indicator without
        variation, thresholds that do not increase.

    Notes
    -----
    For indicators :math:`k` with direction :math:`d_k \\in \\{+1,-1\\}` and weight
    :math:`g_k`, over the included units :math:`i` (inhabitants :math:`\\ge` the floor):

    .. math:: z_{ik} = (v_{ik} - \\bar v_k)/s_k, \\qquad
              S_i = \\sum_k g_k d_k z_{ik} / \\sum_k g_k, \\qquad
              I_i = (S_i - \\bar S)/s_S,

    with (optionally population-weighted) means and standard deviations
    (:func:`standardize`). Classes on :math:`I`: *hoch* :math:`I \\le -1`, *mittel*
    :math:`-1 < I \\le 1`, *niedrig* :math:`1 < I \\le 1.5`, *sehr niedrig* :math:`I > 1.5`.

    This follows the procedure of Berlin's Monitoring Soziale Stadtentwicklung (MSS, since
    2013: four status indicators - unemployment SGB II, long-term unemployment, transfer
    receipt, child poverty - equally weighted, z-standardised over the Planungsräume with at
    least 300 inhabitants, summed, the sum standardised and cut at -1, +1 and +1.5 standard
    deviations into hoch / mittel / niedrig / sehr niedrig; Dynamik cut at -1/+1 into
    positiv / stabil / negativ) and Hamburg's Sozialmonitoring (RISE; same z-score logic with
    "Aufmerksamkeitsindikatoren", Pohlan, Selk & Pohl 2010). The class limits are taken from
    the published MSS method descriptions as understood here; they are parameters, so check
    them against the report edition you compare with. Shares of small units are noisy; the
    floor and the weighted option are the two guards against that.

    References: Senatsverwaltung für Stadtentwicklung und Wohnen Berlin, Monitoring Soziale
    Stadtentwicklung (reports 2013-2023, Methodenteil). Behörde für Stadtentwicklung und
    Wohnen Hamburg, Sozialmonitoring Integrierte Stadtteilentwicklung, Berichte 2010 ff.
    """
    return composite_index(
        data,
        indicators,
        population=population,
        min_population=min_population,
        weighted=weighted,
        thresholds=thresholds,
        labels=labels,
        prefix="status",
    )


def dynamik_index(
    before: pd.DataFrame,
    after: pd.DataFrame,
    indicators: Mapping[str, object] | Sequence[Indicator],
    *,
    population: str | None = None,
    min_population: float = 300,
    weighted: bool = False,
    thresholds: Sequence[float] = DYNAMIK_THRESHOLDS,
    labels: Sequence[str] = DYNAMIK_LABELS,
) -> pd.DataFrame:
    """Dynamik index: the status pipeline applied to the change of each indicator.

    Parameters
    ----------
    before, after : pandas.DataFrame
        The same units (same index) at two dates with the indicator columns (shares).
    indicators, population, min_population, weighted
        As in :func:`status_index`; ``population`` and the floor are taken from ``after``.
    thresholds : sequence of float, default (-1.0, 1.0)
        Class limits on the standardised Dynamik index.
    labels : sequence of str, default ("positiv", "stabil", "negativ")
        Classes from best to worst.

    Returns
    -------
    pandas.DataFrame
        Columns ``z_<indicator>`` (of the changes), ``dynamik_sum``, ``dynamik_index``,
        ``dynamik_class``, ``dynamik_class_code``, ``included``.

    Notes
    -----
    Change in percentage points :math:`\\Delta v_{ik} = v^{after}_{ik} - v^{before}_{ik}`, then
    as :func:`status_index`. A unit must exist at both dates (same index value).
    """
    inds = _indicators(indicators)
    cols = [i.column for i in inds]
    require_columns(before, cols, name="before")
    require_columns(after, cols, name="after")
    if not before.index.equals(after.index):
        common = before.index.intersection(after.index)
        raise SchemaError(
            f"Die Tabellen vorher und nachher müssen dieselben Einheiten in derselben "
            f"Reihenfolge enthalten ({len(common)} von {len(after)} gemeinsam); ordnen Sie "
            f"sie gleich."
        )
    change = after[cols].astype(float) - before[cols].astype(float)
    if population is not None:
        change[population] = after[population]
    return composite_index(
        change,
        inds,
        population=population,
        min_population=min_population,
        weighted=weighted,
        thresholds=thresholds,
        labels=labels,
        prefix="dynamik",
    )


# --------------------------------------------------------------------------------------------
# Berlin Monitoring Soziale Stadtentwicklung (MSS) 2021
# --------------------------------------------------------------------------------------------

#: The MSS presets: indicator names, thresholds and class labels of each edition.
MSS_PRESETS: dict[str, dict[str, object]] = {
    "mss2021": {
        "label": "Monitoring Soziale Stadtentwicklung Berlin 2021",
        "status_indicators": ("S1", "S3", "S4"),
        "dynamik_indicators": ("D1", "D3", "D4"),
        "status_names": {"S1": "Arbeitslosigkeit", "S3": "Transferbezug",
                         "S4": "Kinderarmut"},
        "dynamik_names": {"D1": "Veränderung Arbeitslosigkeit",
                          "D3": "Veränderung Transferbezug",
                          "D4": "Veränderung Kinderarmut"},
        "min_population": 300,
    },
}

#: Status classes of the MSS, best first, and their limits on the re-standardised sum.
MSS_STATUS = ("hoch", "mittel", "niedrig", "sehr niedrig")
#: Dynamik classes of the MSS, best first.
MSS_DYNAMIK = ("positiv", "stabil", "negativ")


def mss_status_class(x: pd.Series) -> pd.Series:
    """MSS status classes: hoch x < -1, mittel -1 <= x <= 1, niedrig 1 < x <= 1.5, sehr
    niedrig x > 1.5 (x the standardised status index; NaN stays NaN).

    >>> mss_status_class(pd.Series([-1.01, -1.0, 1.0, 1.5, 1.51])).tolist()
    ['hoch', 'mittel', 'mittel', 'niedrig', 'sehr niedrig']
    """
    v = x.astype(float)
    codes = np.select([v < -1, v <= 1, v <= 1.5, v > 1.5], [0, 1, 2, 3], default=-1)
    return pd.Series(pd.Categorical.from_codes(codes, categories=list(MSS_STATUS),
                                               ordered=True), index=x.index)


def mss_dynamik_class(x: pd.Series) -> pd.Series:
    """MSS dynamics classes: positiv x < -1, stabil -1 <= x <= 1, negativ x > 1.

    >>> mss_dynamik_class(pd.Series([-1.01, -1.0, 1.0, 1.01])).tolist()
    ['positiv', 'stabil', 'stabil', 'negativ']
    """
    v = x.astype(float)
    codes = np.select([v < -1, v <= 1, v > 1], [0, 1, 2], default=-1)
    return pd.Series(pd.Categorical.from_codes(codes, categories=list(MSS_DYNAMIK),
                                               ordered=True), index=x.index)


def _zscore(v: pd.Series, mask: pd.Series) -> pd.Series:
    """z with the mean and the population standard deviation (divisor n) over ``mask``."""
    ref = v[mask]
    sd = float(ref.std(ddof=0))
    if not sd > 0:
        raise InputError(
            f"Spalte {v.name!r} hat unter den berücksichtigten Einheiten keine Streuung; "
            f"ein z-Wert ist nicht definiert."
        )
    return ((v - float(ref.mean())) / sd).where(mask)


def mss_index(
    data: pd.DataFrame,
    *,
    preset: str = "mss2021",
    status_indicators: Sequence[str] | None = None,
    dynamik_indicators: Sequence[str] | None = None,
    population: str | None = "einwohner",
    min_population: float | None = None,
    outliers: Sequence[object] = (),
    id_column: str | None = None,
) -> pd.DataFrame:
    """Status and dynamics index per unit by the Berlin MSS method (edition ``preset``).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit (Planungsraum, Stadtteil) with the indicator columns (shares in %,
        dynamics as changes in percentage points) and the inhabitants.
    preset : {"mss2021"}
        Method edition; sets the default indicator names and the population floor.
    status_indicators : sequence of str, default ("S1", "S3", "S4")
        Columns of the status indicators: S1 Arbeitslosigkeit, S3 Transferbezug, S4
        Kinderarmut (higher = lower status).
    dynamik_indicators : sequence of str or None, default ("D1", "D3", "D4")
        Columns of their changes in percentage points (higher = worse development); an
        empty sequence computes the status index only.
    population : str or None, default "einwohner"
        Inhabitants column for the floor.
    min_population : float, optional
        Units with fewer inhabitants get no index; default the preset's 300.
    outliers : sequence, default ()
        Units to leave out (values of ``id_column``, or index labels without it).
    id_column : str, optional
        Column naming the units in ``outliers``.

    Returns
    -------
    pandas.DataFrame
        Index of ``data``; ``z_<indicator>`` for every indicator, ``status_sum``,
        ``status_index``, ``status_class`` (hoch / mittel / niedrig / sehr niedrig),
        ``status_class_code`` (1-4), and with dynamics ``dynamik_sum``, ``dynamik_index``,
        ``dynamik_class`` (positiv / stabil / negativ), ``dynamik_class_code`` (1-3),
        ``mss_gruppe`` ("mittel / stabil", the 12-group overlay) and ``mss_gruppe_code``
        (1-12: ``3 * (status - 1) + dynamik``); ``included`` and ``ausschluss`` (why a unit
        has no index: "unter 300 Einwohnern", "als Ausreißer ausgeschlossen", "Indikator
        fehlt"; empty when included). ``attrs["mss"]`` records the method.

    Raises
    ------
    SchemaError
        Missing or non-numeric columns, fewer than two units to standardise over.
    InputError
        Unknown preset, an outlier that is not in the table, an indicator without
        variation.

    Notes
    -----
    The published MSS procedure (Senatsverwaltung für Stadtentwicklung, Bauen und Wohnen
    Berlin, Monitoring Soziale Stadtentwicklung 2021, Methodik): over the units considered
    (at least 300 inhabitants, not listed as outliers, all indicators present) every
    indicator is z-transformed with the mean and the population standard deviation
    (divisor n), ``z = (v - mean) / sd``; the z-values are summed with equal weights; the
    sums are z-transformed again (status index ``x``). Status classes: *hoch* ``x < -1``,
    *mittel* ``-1 <= x <= 1``, *niedrig* ``1 < x <= 1.5``, *sehr niedrig* ``x > 1.5``.
    The dynamics indicators (changes in percentage points) go through the same steps;
    classes *positiv* ``x < -1``, *stabil* ``-1 <= x <= 1``, *negativ* ``x > 1``. Status and
    dynamics combine into 12 groups. A unit left out is not part of any mean or standard
    deviation.

    Examples
    --------
    >>> t = pd.DataFrame({"S1": [1.0, 2, 3, 4, 10], "S3": [2.0, 3, 4, 5, 11],
    ...                   "S4": [5.0, 6, 7, 8, 20], "einwohner": [900, 800, 700, 600, 200]})
    >>> mss_index(t, dynamik_indicators=())["status_class"].tolist()
    ['hoch', 'mittel', 'mittel', 'niedrig', nan]
    """
    if preset not in MSS_PRESETS:
        raise InputError(
            f"Unbekanntes Verfahren {preset!r} (--preset); bekannt: {', '.join(MSS_PRESETS)}."
        )
    spec = MSS_PRESETS[preset]
    s_cols = list(status_indicators or spec["status_indicators"])  # type: ignore[arg-type]
    d_cols = list(spec["dynamik_indicators"] if dynamik_indicators is None  # type: ignore[arg-type]
                  else dynamik_indicators)
    floor = float(spec["min_population"] if min_population is None  # type: ignore[arg-type]
                  else min_population)
    cols = s_cols + d_cols
    require_numeric(data, cols + ([population] if population else []), name="data")
    reason = pd.Series("", index=data.index, dtype=object)
    missing = data[cols].isna().any(axis=1)
    reason[missing] = "Indikator fehlt"
    if population:
        small = ~(data[population].astype(float) >= floor)
        reason[small] = f"unter {floor:,.0f} Einwohnern".replace(",", ".")
    if len(outliers):
        keys = data[id_column] if id_column else pd.Series(data.index, index=data.index)
        if id_column:
            require_columns(data, [id_column], name="data")
        as_text = keys.astype(str)
        wanted = [str(o) for o in outliers]
        unknown = sorted(set(wanted) - set(as_text))
        if unknown:
            where = f"in der Spalte {id_column!r}" if id_column else "im Index der Tabelle"
            raise InputError(
                f"Ausreißer {', '.join(unknown)} nicht gefunden ({where}); prüfen Sie die "
                f"Schreibweise (--ausreisser) oder die Spalte (--id-column)."
            )
        reason[as_text.isin(wanted)] = "als Ausreißer ausgeschlossen"
    included = reason == ""
    if included.sum() < 2:
        raise SchemaError(
            f"nur {int(included.sum())} Einheit(en) mit allen Indikatoren und mindestens "
            f"{floor:g} Einwohnern; ein Index braucht mindestens zwei."
        )
    out = pd.DataFrame(index=data.index)

    def part(names: list[str], prefix: str, classify_fn, labels) -> None:
        total = pd.Series(0.0, index=data.index)
        for c in names:
            z = _zscore(data[c].astype(float).rename(c), included)
            out[f"z_{c}"] = z
            total = total + z.fillna(0.0)
        total = total.where(included).rename(f"{prefix}_sum")
        out[f"{prefix}_sum"] = total
        out[f"{prefix}_index"] = _zscore(total, included)
        cls = classify_fn(out[f"{prefix}_index"])
        out[f"{prefix}_class"] = cls
        out[f"{prefix}_class_code"] = (cls.cat.codes + 1).where(included).astype("Int64")

    part(s_cols, "status", mss_status_class, MSS_STATUS)
    if d_cols:
        part(d_cols, "dynamik", mss_dynamik_class, MSS_DYNAMIK)
        groups = [f"{s} / {d}" for s in MSS_STATUS for d in MSS_DYNAMIK]
        code = (3 * (out["status_class_code"] - 1) + out["dynamik_class_code"]).astype("Int64")
        out["mss_gruppe_code"] = code
        labels = code.map(lambda c: groups[int(c) - 1] if pd.notna(c) else None)
        out["mss_gruppe"] = pd.Categorical(labels, categories=groups, ordered=True)
    out["included"] = included
    out["ausschluss"] = reason
    out.attrs["mss"] = {
        "preset": preset, "label": spec["label"], "status_indicators": s_cols,
        "dynamik_indicators": d_cols, "min_population": floor,
        "outliers": [str(o) for o in outliers], "n_included": int(included.sum()),
        "n_excluded": int((~included).sum()),
    }
    return out
