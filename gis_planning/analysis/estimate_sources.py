"""Step 1 of the Stadtteil estimate: choose a published inhabitant figure per Stadtteil.

:func:`stadtteil_einwohner` chooses, per Stadtteil, the published figure nearest to the target
year from the collected sources (``stadtteil_einwohner_quellen.csv``), recording which row,
year and rule was used; :func:`quellen_pruefung` shows why each source row was used or set
aside. Split from :mod:`gis_planning.analysis.estimates` (which re-exports every name here)
to keep modules small.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from .._errors import InputError, SchemaError
from .._validate import require_columns, require_projected
from ..rounding import largest_remainder

__all__ = [
    "DEFAULT_AUSSCHLUESSE",
    "METHODEN",
    "quellen_pruefung",
    "stadtteil_einwohner",
]

logger = logging.getLogger(__name__)

#: Source rows known to be wrong (PROVENANCE.md), set aside with status and reason.
DEFAULT_AUSSCHLUESSE: tuple[dict[str, object], ...] = (
    {
        "stadtteil_nr": 19,
        "einwohner_jahr": 2022,
        "einwohner": 11933,
        "status": "kopierfehler",
        "grund": "Dellwig 2022: gleicher Wert (11.933) und falsche Stadtteilnummer 17 wie "
        "Bedingrade 2022 - Kopierfehler der Quelle",
    },
)

#: Codes of ``methode`` in :func:`stadtteil_einwohner` with their German meaning.
METHODEN = {
    "eigene_angabe": "eigene Angabe des Stadtteils, dem Zieljahr am nächsten",
    "mittel_gleich_naher_angaben": "Mittelwert mehrerer eigener Angaben desselben Jahres",
    "interpoliert": "Mittelwert der gleich weit vor und nach dem Zieljahr liegenden Angaben "
    "(lineare Interpolation)",
    "ohne_jahr": "einzige Angabe ohne Stichtag",
    "kombiniert_minus_nachbar": "kombinierte Angabe minus eigene Angabe des Nachbarn",
    "kombiniert_flaechenanteil": "kombinierte Angabe nach Flächenanteil aufgeteilt",
    "keine_angabe": "keine Angabe gefunden",
}

_QUELLEN_COLUMNS = ("stadtteil_nr", "stadtteil", "einwohner", "einwohner_jahr", "source")



# --- step 1: choose a figure per Stadtteil ---------------------------------------------------
def _parse_nr(value: object) -> tuple[int, ...]:
    text = str(value).strip()
    try:
        return tuple(int(float(p)) for p in text.split("+"))
    except ValueError as exc:
        raise SchemaError(
            f"Die Quellentabelle hat die Stadtteilnummer {text!r}; erlaubt sind Zahlen 0-50 "
            f"oder 'a+b' für eine gemeinsame Angabe."
        ) from exc


def _check_stadtteile(stadtteile: gpd.GeoDataFrame) -> None:
    if not isinstance(stadtteile, gpd.GeoDataFrame):
        raise InputError(
            f"Die Stadtteile müssen eine Ebene mit Geometrien sein, nicht "
            f"{type(stadtteile).__name__}; laden Sie die Ebene 'stadtteile' des Katalogs."
        )
    require_columns(stadtteile, ("stadtteil_nr", "stadtteil", "bezirk"), name="stadtteile")
    require_projected(stadtteile, name="stadtteile")
    if stadtteile["stadtteil_nr"].duplicated().any():
        raise InputError("Die Stadtteil-Ebene hat doppelte Stadtteilnummern; eine Zeile je "
                         "Stadtteil.")


def quellen_pruefung(
    quellen: pd.DataFrame,
    *,
    ausschluesse: tuple[Mapping[str, object], ...] = DEFAULT_AUSSCHLUESSE,
    ausreisser_schwelle: float = 0.05,
) -> pd.DataFrame:
    """Classify every source row as usable or set aside, with the reason.

    Parameters
    ----------
    quellen : pandas.DataFrame
        Collected figures, one row per Stadtteil, source and date, with columns
        ``stadtteil_nr`` (number 1-50, 0 = city total, ``"24+25"`` = combined figure),
        ``stadtteil``, ``einwohner``, ``einwohner_jahr`` (may be empty) and ``source``
        (``layers/essen/raw/stadtteil_einwohner_quellen.csv``).
    ausschluesse : tuple of mappings
        Known bad rows, each with ``stadtteil_nr``, ``einwohner_jahr``, ``einwohner``,
        ``status`` and ``grund``; default :data:`DEFAULT_AUSSCHLUESSE`.
    ausreisser_schwelle : float
        Relative deviation from the linear interpolation between the same Stadtteil's nearest
        earlier and later years above which a row is an outlier (default 0.05 = 5 %).

    Returns
    -------
    pandas.DataFrame
        ``quellen`` (same index) plus ``nr_liste`` (tuple of Stadtteil numbers), ``status``
        (``verwendbar``, ``stadt_gesamt``, ``kombiniert``, ``kein_jahr``, ``kopierfehler`` or
        the status given in ``ausschluesse``, ``ausreisser``) and ``grund`` (German text).

    Notes
    -----
    Outlier rule: for a row of year ``t`` with usable rows of the same Stadtteil at years
    ``t0 < t < t1`` (nearest on each side, means per year), the expected value is
    ``v0 + (v1 - v0) (t - t0) / (t1 - t0)``; the row is an outlier if it deviates by more than
    ``ausreisser_schwelle`` relative to that. Rows at the ends of a series are not tested.
    """
    require_columns(quellen, _QUELLEN_COLUMNS, name="quellen")
    q = quellen.copy()
    q["nr_liste"] = [_parse_nr(v) for v in q["stadtteil_nr"]]
    jahr = pd.to_numeric(q["einwohner_jahr"], errors="coerce")
    ew = pd.to_numeric(q["einwohner"], errors="coerce")
    status = pd.Series("verwendbar", index=q.index, dtype=object)
    grund = pd.Series("", index=q.index, dtype=object)

    for i in q.index:
        nrs = q.at[i, "nr_liste"]
        if nrs == (0,):
            status[i], grund[i] = "stadt_gesamt", "Angabe für die ganze Stadt"
        elif len(nrs) > 1:
            status[i] = "kombiniert"
            grund[i] = f"gemeinsame Angabe für die Stadtteile {'+'.join(map(str, nrs))}"
        elif pd.isna(ew[i]):
            status[i], grund[i] = "kein_wert", "keine Einwohnerzahl"
        elif pd.isna(jahr[i]):
            status[i], grund[i] = "kein_jahr", "Stichtag nicht angegeben"
    for a in ausschluesse:
        hit = (
            (status == "verwendbar")
            & q["nr_liste"].map(lambda t, n=int(a["stadtteil_nr"]): t == (n,))
            & (jahr == a["einwohner_jahr"])
            & (ew == a["einwohner"])
        )
        status[hit] = str(a["status"])
        grund[hit] = str(a["grund"])

    usable = status == "verwendbar"
    single = q["nr_liste"].map(lambda t: t[0])
    for nr in sorted(set(single[usable])):
        # flag the worst outlier, then judge the rest without it, until none is left, so a
        # bad figure never makes its good neighbours look like outliers
        while True:
            rows = q.index[(status == "verwendbar") & usable & (single == nr)]
            per_year = ew[rows].groupby(jahr[rows]).mean()
            worst, worst_dev, worst_text = None, 0.0, ""
            for i in rows:
                t = jahr[i]
                before = per_year[per_year.index < t]
                after = per_year[per_year.index > t]
                if before.empty or after.empty:
                    continue
                t0, v0 = before.index[-1], before.iloc[-1]
                t1, v1 = after.index[0], after.iloc[0]
                expected = v0 + (v1 - v0) * (t - t0) / (t1 - t0)
                dev = ew[i] / expected - 1.0
                if abs(dev) > ausreisser_schwelle and abs(dev) > abs(worst_dev):
                    worst, worst_dev = i, dev
                    worst_text = (
                        f"weicht {dev:+.1%} von der Interpolation {int(t0)}-{int(t1)} "
                        f"({expected:.0f}) ab"
                    ).replace(".", ",")
            if worst is None:
                break
            status[worst] = "ausreisser"
            grund[worst] = worst_text
    q["status"] = status.astype(str)
    q["grund"] = grund.astype(str)
    return q


def stadtteil_einwohner(
    quellen: pd.DataFrame,
    stadtteile: gpd.GeoDataFrame,
    *,
    target_year: int = 2016,
    ausschluesse: tuple[Mapping[str, object], ...] = DEFAULT_AUSSCHLUESSE,
    ausreisser_schwelle: float = 0.05,
) -> pd.DataFrame:
    """Choose per Stadtteil the published inhabitant figure nearest to ``target_year``.

    Parameters
    ----------
    quellen : pandas.DataFrame
        Collected figures (see :func:`quellen_pruefung`).
    stadtteile : geopandas.GeoDataFrame
        The Stadtteile in a projected CRS with ``stadtteil_nr``, ``stadtteil``, ``bezirk``;
        areas are used to split combined figures.
    target_year : int
        Year the figures should be nearest to (default 2016, the seed's Stand 30.09.2016).
    ausschluesse, ausreisser_schwelle
        Passed to :func:`quellen_pruefung`.

    Returns
    -------
    pandas.DataFrame
        One row per Stadtteil, index of ``stadtteile``: ``stadtteil_nr``, ``stadtteil``,
        ``bezirk``, ``einwohner`` (Int64, <NA> where nothing was found), ``einwohner_jahr``
        (Int64; for ``interpoliert`` the target year), ``abstand_jahre`` (Int64,
        ``abs(year - target_year)``), ``einwohner_jahre`` (years of the figures used, text),
        ``einwohner_quelle``
        (source text(s), " | "-joined), ``methode`` (code, see :data:`METHODEN`),
        ``hinweis`` (German text).

    Notes
    -----
    Rules, in order:

    1. Own usable rows (status ``verwendbar``): the smallest ``|year - target_year|`` wins;
       several rows of that year are averaged and rounded (``mittel_gleich_naher_angaben``);
       rows equally far before and after the target year are averaged, which is the linear
       interpolation to the target year (``interpoliert``).
    2. Else, if only rows without a year exist, the first of them (``ohne_jahr``).
    3. Else a combined figure (e.g. "24+25") nearest to ``target_year``: if the partner
       Stadtteile have own figures, the Stadtteil gets the combined figure minus the
       partners' own figures nearest to the combined figure's year
       (``kombiniert_minus_nachbar``); otherwise the combined figure is split by polygon area
       (``kombiniert_flaechenanteil``, areal weighting with largest-remainder rounding).
    4. Else ``keine_angabe`` (<NA>); :func:`stadtteil_schaetzung` fills it from the Bezirk
       total.
    """
    _check_stadtteile(stadtteile)
    q = quellen_pruefung(
        quellen, ausschluesse=ausschluesse, ausreisser_schwelle=ausreisser_schwelle
    )
    q["_jahr"] = pd.to_numeric(q["einwohner_jahr"], errors="coerce")
    q["_ew"] = pd.to_numeric(q["einwohner"], errors="coerce")
    q["_nr"] = q["nr_liste"].map(lambda t: t[0])
    area = dict(zip(stadtteile["stadtteil_nr"].astype(int), stadtteile.area, strict=True))
    names = dict(zip(stadtteile["stadtteil_nr"].astype(int), stadtteile["stadtteil"], strict=True))

    def own(nr: int, year: float) -> tuple[float, float, list[str], str, list[int]] | None:
        rows = q[(q["status"] == "verwendbar") & (q["_nr"] == nr)]
        if rows.empty:
            return None
        dist = (rows["_jahr"] - year).abs()
        best = rows[dist == dist.min()]
        # mean per year first, so a year with two sources does not count twice
        value = float(np.round(best.groupby("_jahr")["_ew"].mean().mean()))
        years = sorted(set(best["_jahr"].astype(int)))
        if len(years) > 1:
            meth = "interpoliert"
        else:
            meth = "eigene_angabe" if len(best) == 1 else "mittel_gleich_naher_angaben"
        yr = float(np.mean(years))
        return value, yr, best["source"].astype(str).tolist(), meth, years

    out = []
    for nr in stadtteile["stadtteil_nr"].astype(int):
        rec: dict[str, object] = {
            "einwohner": pd.NA,
            "einwohner_jahr": pd.NA,
            "jahre": "",
            "quelle": "",
        }
        hit = own(nr, target_year)
        if hit is not None:
            value, yr, src, meth, years = hit
            rec.update(einwohner=int(value), einwohner_jahr=yr, quelle=" | ".join(src))
            rec["jahre"] = ", ".join(map(str, years))
            detail = "Angabe" if len(years) == 1 else "Angaben"
            rec["methode"] = meth
            rec["hinweis"] = f"{METHODEN[meth]} ({detail} {' und '.join(map(str, years))})"
            out.append(rec)
            continue
        nojahr = q[(q["status"] == "kein_jahr") & (q["_nr"] == nr)]
        if not nojahr.empty:
            r = nojahr.iloc[0]
            rec.update(einwohner=int(r["_ew"]), quelle=str(r["source"]), methode="ohne_jahr")
            rec["hinweis"] = METHODEN["ohne_jahr"]
            out.append(rec)
            continue
        comb = q[(q["status"] == "kombiniert") & q["nr_liste"].map(lambda t, n=nr: n in t)]
        comb = comb.dropna(subset=["_jahr", "_ew"])
        if not comb.empty:
            r = comb.loc[(comb["_jahr"] - target_year).abs().idxmin()]
            partners = [p for p in r["nr_liste"] if p != nr]
            partner_hits = [own(p, r["_jahr"]) for p in partners]
            rec["einwohner_jahr"] = float(r["_jahr"])
            rec["jahre"] = str(int(r["_jahr"]))
            if partner_hits and all(h is not None for h in partner_hits):
                rest = float(r["_ew"]) - sum(h[0] for h in partner_hits)
                if rest > 0:
                    rec["einwohner"] = int(rest)
                    rec["quelle"] = " | ".join(
                        [str(r["source"])] + [s for h in partner_hits for s in h[2]]
                    )
                    rec["methode"] = "kombiniert_minus_nachbar"
                    rec["hinweis"] = (
                        f"{METHODEN['kombiniert_minus_nachbar']}: {int(r['_ew'])} "
                        f"({int(r['_jahr'])}) minus "
                        + ", ".join(
                            f"{names.get(p, p)} {int(h[0])} ({h[1]:.0f})"
                            for p, h in zip(partners, partner_hits, strict=True)
                        )
                    )
                    out.append(rec)
                    continue
            members = list(r["nr_liste"])
            shares = largest_remainder(
                np.array([area[m] for m in members])
                / sum(area[m] for m in members)
                * float(r["_ew"]),
                int(r["_ew"]),
            )
            rec["einwohner"] = int(shares[members.index(nr)])
            rec["quelle"] = str(r["source"])
            rec["methode"] = "kombiniert_flaechenanteil"
            rec["hinweis"] = (
                f"{METHODEN['kombiniert_flaechenanteil']}: {int(r['_ew'])} ({int(r['_jahr'])}) "
                f"für {'+'.join(map(str, members))}"
            )
            out.append(rec)
            continue
        rec["methode"], rec["hinweis"] = "keine_angabe", METHODEN["keine_angabe"]
        out.append(rec)

    res = pd.DataFrame(out, index=stadtteile.index)
    jahr = pd.to_numeric(res["einwohner_jahr"], errors="coerce")
    result = pd.DataFrame(
        {
            "stadtteil_nr": stadtteile["stadtteil_nr"].astype("int64"),
            "stadtteil": stadtteile["stadtteil"].astype(str),
            "bezirk": stadtteile["bezirk"].astype("int64"),
            "einwohner": pd.array(res["einwohner"].tolist(), dtype="Int64"),
            "einwohner_jahr": pd.array(
                [pd.NA if pd.isna(v) else math.floor(v) for v in jahr], dtype="Int64"
            ),
            "abstand_jahre": pd.array(
                [pd.NA if pd.isna(v) else math.ceil(abs(v - target_year)) for v in jahr],
                dtype="Int64",
            ),
            "einwohner_jahre": res["jahre"].astype(str),
            "einwohner_quelle": res["quelle"].astype(str),
            "methode": res["methode"].astype(str),
            "hinweis": res["hinweis"].astype(str),
        },
        index=stadtteile.index,
    )
    n_missing = int(result["einwohner"].isna().sum())
    if n_missing:
        logger.info("keine Einwohnerzahl für %d Stadtteile", n_missing)
    return result
