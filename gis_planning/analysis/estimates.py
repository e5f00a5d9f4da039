"""Stadtteil estimates for 2016: inhabitants and people from the 12 main countries of origin.

No complete official table of inhabitants per Stadtteil was found (see PROVENANCE.md). This
module builds a documented estimate in two steps, and says so in every row:

1. :func:`stadtteil_einwohner` chooses, per Stadtteil, the published figure nearest to the
   target year from the collected sources (``stadtteil_einwohner_quellen.csv``), recording
   which row, year and rule was used; :func:`quellen_pruefung` shows why each source row was
   used or set aside (no year, combined Stadtteile, known copy error, outlier, city total).
2. :func:`stadtteil_schaetzung` rakes those figures to the Bezirk totals of the seed
   (Vorlage 1846/2016/5, Stand 30.09.2016) and distributes each Bezirk's count of people from
   the 12 main countries of origin so that the Bezirk counts are met exactly (integers) and
   every Stadtteil share the seed names is reproduced to its printed 0.1 %.

Step 1 lives in :mod:`gis_planning.analysis.estimate_sources` (re-exported here).

An official table can replace the estimate: :func:`validate_stadtteil_table` checks that it
has the same schema (:data:`STADTTEIL_SCHEMA`).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from .._errors import InputError, NameMatchError, SchemaError
from .._validate import require_columns
from ..data.sources import essen_seed as _seed
from ..rounding import largest_remainder
from .estimate_sources import (
    DEFAULT_AUSSCHLUESSE,
    METHODEN,
    _check_stadtteile,
    quellen_pruefung,
    stadtteil_einwohner,
)

__all__ = [
    "DEFAULT_AUSSCHLUESSE",
    "METHODEN",
    "SCHAETZUNG_LABEL",
    "STADTTEIL_SCHEMA",
    "VARIANTEN",
    "quellen_pruefung",
    "schaetz_varianten",
    "stadtteil_einwohner",
    "stadtteil_schaetzung",
    "validate_stadtteil_table",
    "validierung_anteile",
    "validierung_einwohner",
    "validierung_tabelle",
    "zensus_gewicht",
    "zensus_prior",
]

logger = logging.getLogger(__name__)

#: Label shown on maps for every estimated value.
SCHAETZUNG_LABEL = "Schätzung"

#: Columns (and kinds) of a Stadtteil table that can replace :func:`stadtteil_schaetzung`.
STADTTEIL_SCHEMA = {
    "stadtteil_nr": "int",
    "stadtteil": "str",
    "bezirk": "int",
    "einwohner": "int",
    "herkunft12_anzahl": "int",
    "herkunft12_anteil_prozent": "float",
    "geschaetzt": "bool",
    "methode": "str",
    "label": "str",
}




# --- step 2: rake to the seed's Bezirk totals --------------------------------------------------
def _ipf_two_columns(
    row_totals: np.ndarray, prior_rate: np.ndarray, col_total: float, *, tol: float = 1e-9
) -> np.ndarray:
    """Fit counts ``x`` with ``0 <= x <= row_totals`` and ``sum(x) = col_total`` by IPF.

    The table has one row per Stadtteil and two columns (12 countries / others); the seed of
    the iteration is ``row_totals * prior_rate``. Returns the first column.
    """
    e = row_totals.astype(float)
    x1 = e * prior_rate
    x0 = e - x1
    rest = e.sum() - col_total
    for _ in range(1000):
        if x1.sum() > 0:
            x1 *= col_total / x1.sum()
        if x0.sum() > 0:
            x0 *= rest / x0.sum()
        s = x1 + x0
        scale = np.divide(e, s, out=np.zeros_like(e), where=s > 0)
        x1 *= scale
        x0 *= scale
        if abs(x1.sum() - col_total) <= tol * max(col_total, 1.0):
            break
    return x1


def stadtteil_schaetzung(
    einwohner: pd.DataFrame,
    stadtteile: gpd.GeoDataFrame,
    *,
    bezirk_statistik: pd.DataFrame | None = None,
    betroffene: pd.DataFrame | None = None,
    prior_anteil: Mapping[int, float] | pd.Series | None = None,
    einwohner_gewicht: Mapping[int, float] | pd.Series | None = None,
    einwohner_regel: Literal["quellen", "quellen_gewicht", "quellen_verhaeltnis",
                             "gewicht"] = "quellen",
    prior_beschreibung: str | None = None,
    gewicht_beschreibung: str | None = None,
) -> pd.DataFrame:
    """Estimate inhabitants and the 12-origin population per Stadtteil for 30.09.2016.

    Parameters
    ----------
    einwohner : pandas.DataFrame
        Result of :func:`stadtteil_einwohner` (columns ``stadtteil_nr``, ``einwohner``,
        ``einwohner_jahr``, ``einwohner_quelle``, ``methode``).
    stadtteile : geopandas.GeoDataFrame
        The Stadtteile in a projected CRS with ``stadtteil_nr``, ``stadtteil``, ``bezirk``
        (and optionally ``bezirk_roman``); every Bezirk of ``bezirk_statistik`` must be covered.
    bezirk_statistik : pandas.DataFrame, optional
        Bezirk totals with ``bezirk``, ``einwohner``, ``herkunft12_anzahl``; default
        :func:`gis_planning.data.sources.essen_seed.bezirk_statistik`.
    betroffene : pandas.DataFrame, optional
        Printed Stadtteil shares with ``stadtteil_nr``, ``herkunft12_anteil_prozent``; default
        :func:`gis_planning.data.sources.essen_seed.betroffene_stadtteile`.
    prior_anteil : mapping or Series, optional
        Stadtteil number -> prior guess of the 12-origin share (per cent) for Stadtteile
        without a printed share (e.g. the share of non-Germans). Default: equal within the
        Bezirk. :func:`zensus_prior` builds it from Zensus 2011 Stadtteil counts.
    einwohner_gewicht : mapping or Series, optional
        Stadtteil number -> weight for spreading the Bezirk's inhabitants (e.g. the Zensus
        2011 persons of each Stadtteil); used as ``einwohner_regel`` says.
    einwohner_regel : {"quellen", "quellen_gewicht", "quellen_verhaeltnis", "gewicht"}
        ``"quellen"`` (default): each Stadtteil's published figure (``einwohner``), Stadtteile
        without one share the Bezirk remainder by area (the estimate before Zensus cells
        existed). ``"quellen_gewicht"``: published figures, the remainder shared by
        ``einwohner_gewicht`` instead of area. ``"quellen_verhaeltnis"``: published figures;
        a Stadtteil without one gets its weight times the Bezirk's ratio of published figures
        to weights (ratio estimator, no remainder). ``"gewicht"``: the Bezirk total spread in
        proportion to ``einwohner_gewicht`` alone (published figures ignored).
    prior_beschreibung, gewicht_beschreibung : str, optional
        German text naming what ``prior_anteil`` / ``einwohner_gewicht`` are (e.g.
        "Nichtdeutschen-Anteil Zensus 2011"), written into ``hinweis``.

    Returns
    -------
    pandas.DataFrame
        One row per Stadtteil, index of ``stadtteile``:

        - ``stadtteil_nr`` (int): official number 1-50
        - ``stadtteil`` (str): official name
        - ``bezirk`` (int): Stadtbezirk 1-9
        - ``einwohner`` (int): estimated inhabitants on 30.09.2016
        - ``herkunft12_anzahl`` (int): estimated people from the 12 countries
        - ``herkunft12_anteil_prozent`` (float): ``100 * herkunft12_anzahl / einwohner``
        - ``herkunft12_anteil_gedruckt`` (float): the seed's printed share, NaN if none
        - ``geschaetzt`` (bool): always True
        - ``label`` (str): "Schätzung" (for map legends and tooltips)
        - ``hinweis`` (str): German text, how the row was estimated
        - ``methode`` (str): code of the estimate (see Notes)
        - ``einwohner_ausgang`` (Int64): figure chosen by :func:`stadtteil_einwohner`
        - ``einwohner_jahr`` (Int64): its year
        - ``einwohner_quelle`` (str): its source(s)
        - ``stand`` (str): "30.09.2016"

    Raises
    ------
    InputError, SchemaError, NameMatchError
        On missing columns, Stadtteile not in ``stadtteile``, or totals that cannot be met
        (printed shares already exceed a Bezirk count).

    Notes
    -----
    **Inhabitants** (one margin per Bezirk ``b`` with seed total ``T_b``): each Stadtteil
    starts from its chosen figure ``p_i`` (any year). Stadtteile without a figure get the
    Bezirk remainder ``T_b - sum(p_known)`` split by area, or, if the remainder is not
    positive, ``area_i`` times the Bezirk's known density. Then ``e_i = p_i T_b / sum(p)``
    (proportional raking, the one-margin case of IPF) rounded by largest remainder, so
    ``sum(e_i) = T_b`` exactly.

    **12 countries**: a Stadtteil with a printed share ``s_i`` gets ``h_i = round(s_i e_i /
    100)``, adjusted by ±1 until ``|100 h_i / e_i - s_i| <= 0.05``. The rest
    ``R_b = H_b - sum(h_named)`` is fitted over the other Stadtteile of the Bezirk by
    iterative proportional fitting of the two-column table (12 countries / others) with row
    margins ``e_i`` and column margins ``R_b`` and ``sum(e) - R_b``, seeded with
    ``e_i * prior_i`` (equal priors give ``h_i = e_i R_b / sum(e)``), then rounded by largest
    remainder. Bezirk counts ``H_b`` are met exactly; a warning is issued if an unnamed
    Stadtteil's share comes out above the lowest printed share of its Bezirk (the seed names
    the "besonders betroffene" ones).

    With ``einwohner_regel="gewicht"`` every Stadtteil starts from ``p_i = g_i`` (its weight,
    e.g. Zensus 2011 persons); with ``"quellen_gewicht"`` the remainder goes to the Stadtteile
    without a figure in proportion to ``g_i`` (if it is not positive: ``g_i`` times the
    Bezirk's known figures per unit of weight); with ``"quellen_verhaeltnis"`` always
    ``p_i = g_i sum(p_known) / sum(g_known)``. The raking step is the same.

    ``methode`` codes: ``anteil_gedruckt`` (share from the seed), ``rest_bezirk`` (share from
    the Bezirk remainder, equal prior), ``rest_bezirk_prior`` (remainder spread by
    ``prior_anteil``); prefixed by how inhabitants were obtained: ``skaliert`` (own figure
    scaled), ``bezirksrest`` (no figure, from the Bezirk remainder) or ``gewicht`` (Bezirk total
    spread by ``einwohner_gewicht``), e.g. ``skaliert+anteil_gedruckt``.
    """
    _check_stadtteile(stadtteile)
    require_columns(einwohner, ("stadtteil_nr", "einwohner"), name="einwohner")
    bz = _seed.bezirk_statistik() if bezirk_statistik is None else bezirk_statistik
    bt = _seed.betroffene_stadtteile() if betroffene is None else betroffene
    require_columns(bz, ("bezirk", "einwohner", "herkunft12_anzahl"), name="bezirk_statistik")
    require_columns(bt, ("stadtteil_nr", "herkunft12_anteil_prozent"), name="betroffene")

    st = stadtteile[["stadtteil_nr", "stadtteil", "bezirk"]].copy()
    st["stadtteil_nr"] = st["stadtteil_nr"].astype(int)
    st["bezirk"] = st["bezirk"].astype(int)
    st["_area"] = stadtteile.area.to_numpy()
    ew = einwohner.set_index(einwohner["stadtteil_nr"].astype(int))
    unknown = sorted(set(ew.index) - set(st["stadtteil_nr"]))
    if unknown:
        raise NameMatchError(
            f"Die Einwohnertabelle nennt Stadtteilnummern, die es in den Stadtteilen nicht "
            f"gibt: {unknown}; bilden Sie sie aus derselben Stadtteil-Ebene."
        )
    for c in ("einwohner_jahr", "einwohner_quelle"):
        if c not in ew.columns:
            ew[c] = pd.NA
    st["_prior"] = st["stadtteil_nr"].map(ew["einwohner"]).astype("Float64")
    shares = dict(zip(bt["stadtteil_nr"].astype(int), bt["herkunft12_anteil_prozent"], strict=True))
    bad = sorted(set(shares) - set(st["stadtteil_nr"]))
    if bad:
        raise NameMatchError(f"Die Tabelle der besonders betroffenen Stadtteile nennt "
                             f"Stadtteilnummern, die es nicht gibt: {bad}.")
    prior = {} if prior_anteil is None else {int(k): float(v) for k, v in prior_anteil.items()}
    if einwohner_regel not in ("quellen", "quellen_gewicht", "quellen_verhaeltnis", "gewicht"):
        raise InputError(
            f"Die Einwohnerregel muss 'quellen', 'quellen_gewicht', 'quellen_verhaeltnis' "
            f"oder 'gewicht' sein, nicht {einwohner_regel!r}."
        )
    gewicht: dict[int, float] = {}
    if einwohner_regel != "quellen":
        if einwohner_gewicht is None:
            raise InputError(
                f"Die Einwohnerregel {einwohner_regel!r} braucht ein Einwohnergewicht je "
                f"Stadtteil (z. B. die Einwohner des Zensus 2011)."
            )
        gewicht = {int(k): float(v) for k, v in einwohner_gewicht.items()}
        lacking = sorted(set(st["stadtteil_nr"]) - set(gewicht))
        if lacking:
            raise NameMatchError(
                f"Das Einwohnergewicht hat keinen Wert für die Stadtteile {lacking}; geben "
                f"Sie jedem Stadtteil ein Gewicht (0 erlaubt)."
            )
        if any(v < 0 or not np.isfinite(v) for v in gewicht.values()):
            raise InputError("Das Einwohnergewicht muss endlich und nicht negativ sein.")

    e_out = pd.Series(0, index=st.index, dtype="int64")
    h_out = pd.Series(0, index=st.index, dtype="int64")
    ew_meth = pd.Series("skaliert", index=st.index, dtype=object)
    missing_bz = sorted(set(st["bezirk"]) - set(bz["bezirk"].astype(int)))
    if missing_bz:
        raise InputError(f"Die Bezirksstatistik hat keine Zeile für Bezirk(e) {missing_bz}.")
    for b in bz.itertuples(index=False):
        idx = st.index[st["bezirk"] == int(b.bezirk)]
        if len(idx) == 0:
            raise InputError(
                f"Die Stadtteil-Ebene hat keinen Stadtteil in Bezirk {b.bezirk}; nutzen Sie "
                f"die vollständige Ebene."
            )
        total_e, total_h = int(b.einwohner), int(b.herkunft12_anzahl)
        p = st.loc[idx, "_prior"].astype(float).to_numpy().copy()
        area = st.loc[idx, "_area"].to_numpy()
        share_by = area
        if gewicht:
            g = np.array([gewicht[int(n)] for n in st.loc[idx, "stadtteil_nr"]])
            if g.sum() <= 0:
                raise InputError(
                    f"Bezirk {b.bezirk}: das Einwohnergewicht ist in Summe 0; keine "
                    f"Grundlage, die Einwohner zu verteilen."
                )
            if einwohner_regel == "gewicht":
                p = g.astype(float).copy()
                ew_meth[idx] = "gewicht"
            else:
                share_by = g
        miss = np.isnan(p)
        if miss.any():
            ew_meth[idx[miss]] = "bezirksrest"
            rest = total_e - np.nansum(p)
            if share_by[miss].sum() <= 0:
                share_by = area
            if (einwohner_regel == "quellen_verhaeltnis" and (~miss).any()
                    and share_by[~miss].sum() > 0):
                p[miss] = share_by[miss] * np.nansum(p) / share_by[~miss].sum()
            elif rest > 0:
                p[miss] = rest * share_by[miss] / share_by[miss].sum()
            elif (~miss).any() and share_by[~miss].sum() > 0:
                p[miss] = share_by[miss] * np.nansum(p) / share_by[~miss].sum()
            else:
                p[miss] = share_by[miss]
        e = largest_remainder(p, total_e)
        e_out[idx] = e

        nrs = st.loc[idx, "stadtteil_nr"].to_numpy()
        named = np.array([n in shares for n in nrs])
        h = np.zeros(len(idx), dtype="int64")
        for k in np.flatnonzero(named):
            s = float(shares[nrs[k]])
            hk = int(np.floor(s * e[k] / 100.0 + 0.5))
            for cand in (hk, hk - 1, hk + 1):
                if e[k] > 0 and abs(100.0 * cand / e[k] - s) <= 0.05 + 1e-9:
                    hk = cand
                    break
            else:
                raise InputError(
                    f"Der gedruckte Anteil {s} % von Stadtteil {nrs[k]} ist mit {e[k]} "
                    f"geschätzten Einwohnern nicht zu erreichen."
                )
            h[k] = hk
        rest_h = total_h - int(h[named].sum())
        if rest_h < 0:
            raise InputError(
                f"Bezirk {b.bezirk}: die gedruckten Stadtteil-Anteile ergeben schon "
                f"{int(h[named].sum())} Menschen aus den 12 Ländern, mehr als die Zahl des "
                f"Bezirks ({total_h})."
            )
        others = np.flatnonzero(~named)
        if len(others) == 0:
            if rest_h:
                raise InputError(
                    f"Bezirk {b.bezirk}: {rest_h} Menschen bleiben übrig, aber jeder "
                    f"Stadtteil hat einen gedruckten Anteil."
                )
        else:
            e_o = e[others].astype(float)
            if rest_h > e_o.sum():
                raise InputError(
                    f"Bezirk {b.bezirk}: {rest_h} Menschen aus den 12 Ländern bleiben für "
                    f"Stadtteile mit nur {int(e_o.sum())} geschätzten Einwohnern; prüfen Sie "
                    f"die Einwohnerzahlen oder die gedruckten Anteile."
                )
            base = rest_h / e_o.sum() if e_o.sum() else 0.0
            rate = np.array([prior.get(int(nrs[k]), 100.0 * base) / 100.0 for k in others])
            fitted = _ipf_two_columns(e_o, np.clip(rate, 0.0, 1.0), float(rest_h))
            h[others] = largest_remainder(fitted, rest_h)
            if named.any():
                low = min(float(shares[n]) for n in nrs[named])
                share_o = 100.0 * h[others] / np.maximum(e[others], 1)
                if (share_o > low).any():
                    warnings.warn(
                        f"Bezirk {b.bezirk}: ein geschätzter Anteil eines in der Vorlage "
                        f"nicht genannten Stadtteils ({share_o.max():.1f} %) übersteigt den "
                        f"kleinsten gedruckten Anteil ({low} %).",
                        stacklevel=2,
                    )
        h_out[idx] = h

    named_all = st["stadtteil_nr"].map(lambda n: n in shares)
    rest_code = "+rest_bezirk_prior" if prior else "+rest_bezirk"
    methode = ew_meth + np.where(named_all, "+anteil_gedruckt", rest_code)
    anteil = 100.0 * h_out / e_out.where(e_out > 0)
    g_text = gewicht_beschreibung or "Gewicht je Stadtteil"
    ew_text = {
        "skaliert": "aus eigener Angabe auf die Bezirkssumme skaliert",
        "bezirksrest": (
            f"ohne eigene Angabe: {g_text} mal Verhältnis der Angaben zu {g_text} im Bezirk"
            if einwohner_regel == "quellen_verhaeltnis" else
            "aus dem Rest der Bezirkssumme (keine eigene Angabe"
            + (f", nach {g_text} verteilt)" if einwohner_regel == "quellen_gewicht"
               else ", nach Fläche verteilt)")),
        "gewicht": f"Bezirkssumme nach {g_text} verteilt",
    }
    rest_text = ("aus dem Rest des Bezirks, verteilt nach "
                 f"{prior_beschreibung or 'Vorabanteil je Stadtteil'}" if prior
                 else "aus dem Rest des Bezirks, gleich verteilt")
    hinweis = [
        f"{SCHAETZUNG_LABEL}: Einwohner {ew_text[em]}; Anteil 12 Herkunftsländer "
        + ("wie in der Vorlage 1846/2016/5 gedruckt" if nm else rest_text)
        + " (Bezirkssummen FB 12, Stand 30.09.2016)"
        for em, nm in zip(ew_meth, named_all, strict=True)
    ]
    return pd.DataFrame(
        {
            "stadtteil_nr": st["stadtteil_nr"].astype("int64"),
            "stadtteil": st["stadtteil"].astype(str),
            "bezirk": st["bezirk"].astype("int64"),
            "einwohner": e_out,
            "herkunft12_anzahl": h_out,
            "herkunft12_anteil_prozent": anteil.astype(float),
            "herkunft12_anteil_gedruckt": st["stadtteil_nr"].map(shares).astype(float),
            "geschaetzt": True,
            "label": SCHAETZUNG_LABEL,
            "hinweis": hinweis,
            "methode": methode.astype(str),
            "einwohner_ausgang": pd.array(
                st["stadtteil_nr"].map(ew["einwohner"]).tolist(), dtype="Int64"
            ),
            "einwohner_jahr": pd.array(
                st["stadtteil_nr"].map(ew["einwohner_jahr"]).tolist(), dtype="Int64"
            ),
            "einwohner_quelle": st["stadtteil_nr"]
            .map(ew["einwohner_quelle"])
            .fillna("")
            .astype(str),
            "stand": "30.09.2016",
        },
        index=stadtteile.index,
    )


# --- Zensus 2011 as prior, and leave-one-out validation ------------------------------------

#: The estimate variants compared by :func:`validierung_anteile` (code -> German description).
VARIANTEN = {
    "gleichverteilt": "Einwohner aus eigenen Angaben; Rest des Bezirks gleich verteilt "
    "(bisherige Schätzung)",
    "zensus_nichtdeutsche": "Einwohner aus eigenen Angaben; Rest des Bezirks nach "
    "Nichtdeutschen-Anteil Zensus 2011",
    "zensus_sonstige_welt": "Einwohner aus eigenen Angaben; Rest des Bezirks nach Anteil "
    "„Sonstige Welt“ Zensus 2011",
    "zensus_einwohner_gleich": "Einwohner nach Zensus 2011; Rest des Bezirks gleich verteilt",
    "zensus_einwohner_nichtdeutsche": "Einwohner nach Zensus 2011; Rest des Bezirks nach "
    "Nichtdeutschen-Anteil Zensus 2011",
    "zensus_einwohner_sonstige_welt": "Einwohner nach Zensus 2011; Rest des Bezirks nach "
    "Anteil „Sonstige Welt“ Zensus 2011",
    "zensusrest_nichtdeutsche": "Einwohner aus eigenen Angaben, Stadtteile ohne Angabe nach "
    "Zensus 2011; Rest des Bezirks nach Nichtdeutschen-Anteil Zensus 2011",
    "zensusverhaeltnis_sonstige_welt": "Einwohner aus eigenen Angaben, Stadtteile ohne Angabe "
    "Zensus 2011 mal Verhältnis im Bezirk; Rest des Bezirks nach Anteil „Sonstige Welt“ "
    "Zensus 2011",
}


def _by_stadtteil(table: pd.DataFrame) -> pd.DataFrame:
    if "stadtteil_nr" in table.columns:
        table = table.set_index("stadtteil_nr")
    if table.index.name != "stadtteil_nr" and not pd.api.types.is_integer_dtype(table.index):
        raise SchemaError(
            "Die Zensus-Tabelle braucht die Stadtteilnummer als Index oder als Spalte "
            "'stadtteil_nr' (Zensus-Zellen je Stadtteil summiert)."
        )
    out = table.copy()
    out.index = out.index.astype(int)
    return out


def zensus_gewicht(zensus: pd.DataFrame, *, spalte: str = "personen") -> dict[int, float]:
    """Stadtteil number -> Zensus 2011 persons (for ``einwohner_gewicht``).

    Parameters
    ----------
    zensus : pandas.DataFrame
        Zensus counts per Stadtteil, indexed by (or with a column) ``stadtteil_nr``, e.g.
        ``aggregate_cells(cells, stadtteile, columns=[...], unit_id="stadtteil_nr")``.
    spalte : str, default "personen"
    """
    z = _by_stadtteil(zensus)
    require_columns(z, (spalte,), name="zensus")
    return {int(k): float(v) for k, v in z[spalte].items()}


def zensus_prior(
    zensus: pd.DataFrame, *, gruppe: str = "nichtdeutsche", gesamt: str = "personen"
) -> dict[int, float]:
    """Stadtteil number -> Zensus 2011 share of ``gruppe`` in per cent (for ``prior_anteil``).

    Stadtteile without Zensus persons get the city-wide share.
    """
    z = _by_stadtteil(zensus)
    require_columns(z, (gruppe, gesamt), name="zensus")
    g, t = z[gruppe].astype(float), z[gesamt].astype(float)
    city = 100.0 * g.sum() / t.sum()
    share = (100.0 * g / t.where(t > 0)).fillna(city)
    return {int(k): float(v) for k, v in share.items()}


def schaetz_varianten(zensus: pd.DataFrame) -> dict[str, dict[str, object]]:
    """Keyword arguments of :func:`stadtteil_schaetzung` for each of :data:`VARIANTEN`.

    Parameters
    ----------
    zensus : pandas.DataFrame
        Zensus 2011 counts per Stadtteil with ``personen``, ``nichtdeutsche`` and
        ``sonstige_welt`` (see :func:`zensus_gewicht`).
    """
    ew = zensus_gewicht(zensus)
    nd = zensus_prior(zensus, gruppe="nichtdeutsche")
    sw = zensus_prior(zensus, gruppe="sonstige_welt")
    g_text = "Einwohnern laut Zensus 2011"
    nd_text = "Nichtdeutschen-Anteil Zensus 2011"
    sw_text = "Anteil Staatsangehörigkeit „Sonstige Welt“ Zensus 2011"
    zen = {"einwohner_gewicht": ew, "einwohner_regel": "gewicht",
           "gewicht_beschreibung": g_text}
    return {
        "gleichverteilt": {},
        "zensus_nichtdeutsche": {"prior_anteil": nd, "prior_beschreibung": nd_text},
        "zensus_sonstige_welt": {"prior_anteil": sw, "prior_beschreibung": sw_text},
        "zensus_einwohner_gleich": dict(zen),
        "zensus_einwohner_nichtdeutsche": {**zen, "prior_anteil": nd,
                                           "prior_beschreibung": nd_text},
        "zensus_einwohner_sonstige_welt": {**zen, "prior_anteil": sw,
                                           "prior_beschreibung": sw_text},
        "zensusrest_nichtdeutsche": {"einwohner_gewicht": ew,
                                     "einwohner_regel": "quellen_gewicht",
                                     "gewicht_beschreibung": g_text, "prior_anteil": nd,
                                     "prior_beschreibung": nd_text},
        "zensusverhaeltnis_sonstige_welt": {"einwohner_gewicht": ew,
                                            "einwohner_regel": "quellen_verhaeltnis",
                                            "gewicht_beschreibung": g_text,
                                            "prior_anteil": sw, "prior_beschreibung": sw_text},
    }


def _schaetzung_quiet(*args: object, **kwargs: object) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*übersteigt den kleinsten gedruckten Anteil.*")
        return stadtteil_schaetzung(*args, **kwargs)


def validierung_anteile(
    einwohner: pd.DataFrame,
    stadtteile: gpd.GeoDataFrame,
    *,
    varianten: Mapping[str, Mapping[str, object]],
    bezirk_statistik: pd.DataFrame | None = None,
    betroffene: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Leave-one-out errors of the 12-origin share for every printed Stadtteil share.

    Parameters
    ----------
    einwohner, stadtteile, bezirk_statistik, betroffene
        As for :func:`stadtteil_schaetzung`.
    varianten : mapping
        Variant code -> keyword arguments of :func:`stadtteil_schaetzung` (e.g.
        :func:`schaetz_varianten`).

    Returns
    -------
    pandas.DataFrame
        One row per variant and printed Stadtteil: ``variante``, ``stadtteil_nr``,
        ``stadtteil``, ``bezirk``, ``gedruckt`` (printed share, %), ``vorhersage`` (share the
        variant estimates when that printed share is left out, %), ``fehler_pp``
        (``vorhersage - gedruckt``, percentage points), ``fehler_relativ``
        (``fehler_pp / gedruckt``), ``bezirk_anteil`` (the Bezirk's printed share, %).

    Notes
    -----
    For each printed share ``s_i`` the estimate is fitted again with all other printed shares
    and the Bezirk totals, but without ``s_i``: Stadtteil ``i`` then receives its part of the
    Bezirk remainder like any Stadtteil without a printed share, and its estimated share is
    compared with the printed one. This is an honest out-of-sample check of how well the rule
    for unnamed Stadtteile works, on the only Stadtteil shares that exist (eight, all among the
    "besonders betroffene" ones, so the check leans towards high-share Stadtteile).
    """
    bz = _seed.bezirk_statistik() if bezirk_statistik is None else bezirk_statistik
    bt = _seed.betroffene_stadtteile() if betroffene is None else betroffene
    require_columns(bt, ("stadtteil_nr", "herkunft12_anteil_prozent"), name="betroffene")
    share_bz = dict(zip(bz["bezirk"].astype(int), bz["herkunft12_anzahl"] / bz["einwohner"],
                        strict=True))
    names = dict(zip(stadtteile["stadtteil_nr"].astype(int), stadtteile["stadtteil"],
                     strict=True))
    bezirk = dict(zip(stadtteile["stadtteil_nr"].astype(int), stadtteile["bezirk"].astype(int),
                      strict=True))
    rows = []
    for code, kwargs in varianten.items():
        for r in bt.itertuples(index=False):
            nr = int(r.stadtteil_nr)
            rest = bt[bt["stadtteil_nr"].astype(int) != nr]
            est = _schaetzung_quiet(einwohner, stadtteile, bezirk_statistik=bz,
                                    betroffene=rest, **kwargs)
            pred = float(est.loc[est["stadtteil_nr"] == nr, "herkunft12_anteil_prozent"].iloc[0])
            printed = float(r.herkunft12_anteil_prozent)
            rows.append({
                "variante": code, "stadtteil_nr": nr, "stadtteil": names.get(nr, str(nr)),
                "bezirk": bezirk.get(nr), "gedruckt": printed, "vorhersage": pred,
                "fehler_pp": pred - printed, "fehler_relativ": (pred - printed) / printed,
                "bezirk_anteil": 100.0 * share_bz[bezirk[nr]],
            })
    return pd.DataFrame(rows)


def validierung_einwohner(
    einwohner: pd.DataFrame,
    stadtteile: gpd.GeoDataFrame,
    *,
    varianten: Mapping[str, Mapping[str, object]],
    bezirk_statistik: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Leave-one-out errors of the inhabitants of every Stadtteil with its own figure.

    For each Stadtteil whose figure comes from its own source, the figure is removed and the
    variant's estimate of its inhabitants is compared with the estimate that uses the figure
    (the figure scaled to the 2016 Bezirk total).

    Returns
    -------
    pandas.DataFrame
        ``variante``, ``stadtteil_nr``, ``stadtteil``, ``bezirk``, ``referenz`` (with the
        figure), ``vorhersage`` (without it), ``fehler`` (persons), ``fehler_relativ``.
    """
    bz = _seed.bezirk_statistik() if bezirk_statistik is None else bezirk_statistik
    base = _schaetzung_quiet(einwohner, stadtteile, bezirk_statistik=bz)
    ref = dict(zip(base["stadtteil_nr"], base["einwohner"], strict=True))
    own = einwohner[einwohner["methode"].isin(("eigene_angabe", "mittel_gleich_naher_angaben",
                                               "interpoliert"))]
    rows = []
    for code, kwargs in varianten.items():
        for r in own.itertuples(index=False):
            nr = int(r.stadtteil_nr)
            ew = einwohner.copy()
            ew["einwohner"] = ew["einwohner"].astype("Int64")
            ew.loc[ew["stadtteil_nr"] == nr, "einwohner"] = pd.NA
            est = _schaetzung_quiet(ew, stadtteile, bezirk_statistik=bz, **kwargs)
            pred = int(est.loc[est["stadtteil_nr"] == nr, "einwohner"].iloc[0])
            rows.append({
                "variante": code, "stadtteil_nr": nr, "stadtteil": str(r.stadtteil),
                "bezirk": int(r.bezirk), "referenz": int(ref[nr]), "vorhersage": pred,
                "fehler": pred - int(ref[nr]),
                "fehler_relativ": (pred - ref[nr]) / ref[nr] if ref[nr] else np.nan,
            })
    return pd.DataFrame(rows)


def validierung_tabelle(detail: pd.DataFrame, *, fehler: str = "fehler_pp") -> pd.DataFrame:
    """Summary of a leave-one-out table: one row per variant, best (lowest MAE) first.

    Columns: ``beschreibung`` (from :data:`VARIANTEN`), ``n``, ``mae`` (mean absolute
    error), ``rmse``, ``max_abs``, ``bias`` (mean error), ``mae_relativ`` (mean absolute
    relative error), ``rang``. Units are those of ``fehler`` (percentage points for
    :func:`validierung_anteile`, persons for :func:`validierung_einwohner`).
    """
    require_columns(detail, ("variante", fehler, "fehler_relativ"), name="detail")
    g = detail.groupby("variante", sort=False)
    out = pd.DataFrame({
        "beschreibung": [VARIANTEN.get(v, v) for v in g.groups],
        "n": g[fehler].size().to_numpy(),
        "mae": g[fehler].apply(lambda e: e.abs().mean()).to_numpy(),
        "rmse": g[fehler].apply(lambda e: float(np.sqrt((e ** 2).mean()))).to_numpy(),
        "max_abs": g[fehler].apply(lambda e: e.abs().max()).to_numpy(),
        "bias": g[fehler].mean().to_numpy(),
        "mae_relativ": g["fehler_relativ"].apply(lambda e: e.abs().mean()).to_numpy(),
    }, index=pd.Index(list(g.groups), name="variante"))
    out = out.sort_values(["mae", "rmse"])
    out["rang"] = np.arange(1, len(out) + 1)
    return out




def validate_stadtteil_table(
    df: pd.DataFrame,
    *,
    stadtteile: pd.DataFrame | None = None,
    bezirk_statistik: pd.DataFrame | None = None,
) -> None:
    """Check that a Stadtteil table has the schema of :func:`stadtteil_schaetzung`.

    Use it before replacing the estimate by an official table.

    Parameters
    ----------
    df : pandas.DataFrame
        The table; columns of :data:`STADTTEIL_SCHEMA` are required.
    stadtteile : DataFrame, optional
        If given, ``df`` must hold exactly its ``stadtteil_nr`` with the same ``stadtteil``
        and ``bezirk``.
    bezirk_statistik : DataFrame, optional
        If given, ``einwohner`` and ``herkunft12_anzahl`` must sum exactly to its Bezirk
        totals.

    Raises
    ------
    SchemaError
        Naming the first problem found: missing columns, wrong types, missing or negative
        values, duplicate numbers, ``herkunft12_anzahl > einwohner``, a share that does not
        match ``100 * herkunft12_anzahl / einwohner`` (tolerance 0.05 %-points), an estimated
        row without the label "Schätzung", or sums/Stadtteile that differ from the references.
    """
    require_columns(df, STADTTEIL_SCHEMA, name="df")
    for col, kind in STADTTEIL_SCHEMA.items():
        s = df[col]
        if s.isna().any():
            raise SchemaError(f"Spalte {col!r} hat fehlende Werte; füllen Sie jede Zeile.")
        if kind == "int" and not pd.api.types.is_integer_dtype(s):
            raise SchemaError(
                f"Spalte {col!r} muss ganze Zahlen enthalten, hat aber {s.dtype}."
            )
        if kind == "float" and not pd.api.types.is_numeric_dtype(s):
            raise SchemaError(f"Spalte {col!r} muss Zahlen enthalten, hat aber {s.dtype}.")
        if kind == "bool" and not pd.api.types.is_bool_dtype(s):
            raise SchemaError(f"Spalte {col!r} muss Wahrheitswerte (True/False) enthalten, "
                              f"hat aber {s.dtype}.")
        if kind == "str" and not s.map(lambda v: isinstance(v, str) and v != "").all():
            raise SchemaError(f"Spalte {col!r} braucht in jeder Zeile einen nicht leeren Text.")
    for col in ("einwohner", "herkunft12_anzahl", "herkunft12_anteil_prozent"):
        if (df[col] < 0).any():
            raise SchemaError(f"Spalte {col!r} hat negative Werte.")
    if df["stadtteil_nr"].duplicated().any():
        raise SchemaError("Die Tabelle hat doppelte Stadtteilnummern (stadtteil_nr); eine "
                          "Zeile je Stadtteil.")
    if (df["herkunft12_anzahl"] > df["einwohner"]).any():
        raise SchemaError("In der Tabelle ist herkunft12_anzahl größer als einwohner.")
    calc = 100.0 * df["herkunft12_anzahl"] / df["einwohner"].where(df["einwohner"] > 0)
    off = (calc - df["herkunft12_anteil_prozent"]).abs() > 0.05 + 1e-9
    if off.any():
        nr = df.loc[off, "stadtteil_nr"].tolist()
        raise SchemaError(
            f"Spalte herkunft12_anteil_prozent stimmt nicht mit 100 * herkunft12_anzahl / "
            f"einwohner überein für die Stadtteile {nr}."
        )
    est = df["geschaetzt"].astype(bool)
    if (est & ~df["label"].astype(str).str.contains(SCHAETZUNG_LABEL)).any():
        raise SchemaError(
            f"Geschätzte Zeilen (geschaetzt=True) müssen in 'label' {SCHAETZUNG_LABEL!r} "
            f"tragen."
        )
    if stadtteile is not None:
        ref = stadtteile.set_index(stadtteile["stadtteil_nr"].astype(int))
        got = df.set_index(df["stadtteil_nr"].astype(int))
        if set(ref.index) != set(got.index):
            raise SchemaError(
                f"Die Stadtteile der Tabelle weichen von der Stadtteil-Ebene ab: es fehlen "
                f"{sorted(set(ref.index) - set(got.index))}, zusätzlich sind "
                f"{sorted(set(got.index) - set(ref.index))}."
            )
        for col in ("stadtteil", "bezirk"):
            diff = got[col].astype(str) != ref.loc[got.index, col].astype(str)
            if diff.any():
                raise SchemaError(
                    f"Spalte {col!r} weicht von der Stadtteil-Ebene ab für die Stadtteile "
                    f"{sorted(got.index[diff])}."
                )
    if bezirk_statistik is not None:
        ref = bezirk_statistik.set_index(bezirk_statistik["bezirk"].astype(int))
        sums = df.groupby(df["bezirk"].astype(int))[["einwohner", "herkunft12_anzahl"]].sum()
        for col in ("einwohner", "herkunft12_anzahl"):
            diff = sums[col].reindex(ref.index, fill_value=0) != ref[col]
            if diff.any():
                raise SchemaError(
                    f"Spalte {col!r} ergibt in Summe nicht die Bezirkswerte für Bezirk(e) "
                    f"{sorted(ref.index[diff])}."
                )
