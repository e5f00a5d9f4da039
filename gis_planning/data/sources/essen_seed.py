"""The seed's own tables: Stadt Essen, Vorlage 1846/2016/5 (13.12.2016), transcribed exactly.

The Vorlage "Strategiekonzept Integration von Flüchtlingen" prints the social data of the nine
Stadtbezirke (Quelle FB 12, Stand 30.09.2016), the city totals, the distribution of SGB II
recipients by origin over the JobCenter sites (Quelle FB 56, Stand 05.10.2016) and which
Stadtteile each JobCenter area serves. The transcriptions are CSV files in
``layers/essen/seed/`` (see the README there); this module loads them as DataFrames with fixed
dtypes and reports where the Vorlage contradicts itself (:func:`consistency`). Nothing is
corrected: a printed value stays as printed.

All loaders take ``path=`` (the folder holding the CSV files) for a copy elsewhere; by default
they read the folder of the source tree.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..._errors import LayerError, SchemaError

__all__ = [
    "COLUMN_LABELS",
    "HERKUNFTSLAENDER_12",
    "JOBCENTER_SPALTEN",
    "SEED_DIR",
    "SUED_GRUPPE",
    "VORLAGE",
    "WEITERE_LAENDER_JOBCENTER",
    "betroffene_stadtteile",
    "bezirk_statistik",
    "consistency",
    "herkunftslaender_12",
    "jobcenter_stadtteile",
    "jobcenter_verteilung",
    "stadt_gesamt",
]

#: Folder of the transcribed CSV files in the source tree.
SEED_DIR = Path(__file__).resolve().parents[3] / "layers" / "essen" / "seed"

#: German labels of the transcribed columns, worded as in section 3.1.1 of the Vorlage; the
#: tables carry them as ``attrs["column_labels"]`` (profiles, QGIS aliases).
COLUMN_LABELS = {
    "einwohner": "Gesamtbevölkerung",
    "nichtdeutsche_anteil_prozent": "Anteil nichtdeutscher Bevölkerung",
    "herkunft12_anteil_prozent": "Anteil der wesentlichen 12 Herkunftsländer",
    "herkunft12_anzahl": "Personen aus den wesentlichen 12 Herkunftsländern",
    "bulgarien_rumaenien_anteil_prozent": "Anteil Bulgarien/Rumänien an Nichtdeutschen (gesamt)",
    "bulgarien_anteil_prozent": "Anteil Bulgarien an Nichtdeutschen",
    "bulgarien_anzahl": "Personen aus Bulgarien",
    "rumaenien_anteil_prozent": "Anteil Rumänien an Nichtdeutschen",
    "rumaenien_anzahl": "Personen aus Rumänien",
    "projektwohnungen_anteil_prozent": "Anteil Projektwohnungen für Flüchtlinge",
    "afghanistan_prozent": "Afghanistan",
    "irak_prozent": "Irak",
    "iran_prozent": "Iran",
    "syrien_prozent": "Syrien",
    "weitere_laender_prozent": "weitere Länder (Eritrea, Nigeria, Pakistan, Somalia)",
    "bulgarien_prozent": "Bulgarien",
    "rumaenien_prozent": "Rumänien",
}


def _labelled(frame: pd.DataFrame) -> pd.DataFrame:
    frame.attrs["column_labels"] = {c: COLUMN_LABELS[c] for c in frame.columns
                                    if c in COLUMN_LABELS}
    return frame


#: Citation of the seed document.
VORLAGE = (
    'Stadt Essen, Vorlage 1846/2016/5 "Strategiekonzept Integration von Flüchtlingen", 13.12.2016'
)

#: The "wesentlichen 12 Herkunftsländer" in the printed order (footnote of section 3.1.1).
HERKUNFTSLAENDER_12 = (
    "Syrien",
    "Irak",
    "Iran",
    "Afghanistan",
    "Libanon",
    "Eritrea",
    "Nigeria",
    "Somalia",
    "Marokko",
    "Algerien",
    "Bangladesch",
    "Pakistan",
)

#: Countries behind the column "weitere Länder" of the JobCenter table (footnote of 3.1.2).
WEITERE_LAENDER_JOBCENTER = ("Eritrea", "Nigeria", "Pakistan", "Somalia")

#: Name of the one JobCenter group whose Stadtteil list is printed jointly and cut off ("...").
SUED_GRUPPE = "Süd 1 & Süd 2"

_INT = "int64"
_FLOAT = "float64"
_STR = "str"

_DTYPES: dict[str, dict[str, str]] = {
    "bezirk_statistik": {
        "bezirk": _INT,
        "bezirk_roman": _STR,
        "einwohner": _INT,
        "nichtdeutsche_anteil_prozent": _FLOAT,
        "herkunft12_anteil_prozent": _FLOAT,
        "herkunft12_anzahl": _INT,
        "bulgarien_rumaenien_anteil_prozent": _FLOAT,
        "bulgarien_anteil_prozent": _FLOAT,
        "bulgarien_anzahl": _INT,
        "rumaenien_anteil_prozent": _FLOAT,
        "rumaenien_anzahl": _INT,
        "projektwohnungen_anteil_prozent": _FLOAT,
        "quelle": _STR,
        "stand": _STR,
    },
    "betroffene_stadtteile": {
        "bezirk": _INT,
        "bezirk_roman": _STR,
        "stadtteil": _STR,
        "stadtteil_nr": _INT,
        "herkunft12_anteil_prozent": _FLOAT,
        "quelle": _STR,
        "stand": _STR,
    },
    "stadt_gesamt": {
        "kennzahl": _STR,
        "wert": _FLOAT,
        "einheit": _STR,
        "bezug": _STR,
        "wie_gedruckt": _STR,
        "quelle": _STR,
        "stand": _STR,
    },
    "herkunftslaender_12": {"reihenfolge": _INT, "land": _STR, "in_jobcenter_tabelle": _STR},
    "jobcenter_verteilung": {
        "jobcenter": _STR,
        "afghanistan_prozent": _FLOAT,
        "irak_prozent": _FLOAT,
        "iran_prozent": _FLOAT,
        "syrien_prozent": _FLOAT,
        "weitere_laender_prozent": _FLOAT,
        "bulgarien_prozent": _FLOAT,
        "rumaenien_prozent": _FLOAT,
        "quelle": _STR,
        "stand": _STR,
    },
    "jobcenter_stadtteile": {
        "jobcenter": _STR,
        "position": _INT,
        "stadtteil": _STR,
        "stadtteil_nr": _INT,
        "teilweise": "bool",
        "listed_as": _STR,
        "incomplete_list": "bool",
        "note": _STR,
    },
}

#: Columns of the JobCenter table holding percentages, with the printed column heads.
JOBCENTER_SPALTEN = {
    "afghanistan_prozent": "Afghanistan",
    "irak_prozent": "Irak",
    "iran_prozent": "Iran",
    "syrien_prozent": "Syrien",
    "weitere_laender_prozent": "weitere Länder*",
    "bulgarien_prozent": "Bulgarien",
    "rumaenien_prozent": "Rumänien",
}


def _read(table: str, path: str | os.PathLike | None) -> pd.DataFrame:
    folder = SEED_DIR if path is None else Path(path)
    file = folder / f"{table}.csv"
    if not file.is_file():
        raise LayerError(
            f"Grundtabelle {table!r} fehlt: {str(file)!r} gibt es nicht; sie gehört in den "
            f"Ordner der abgeschriebenen CSV-Dateien (layers/essen/seed im Quellbaum)."
        )
    dtypes = _DTYPES[table]
    raw = pd.read_csv(file, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [c for c in dtypes if c not in raw.columns]
    if missing:
        raise SchemaError(
            f"Grundtabelle {str(file)!r}: Spalte(n) {', '.join(map(repr, missing))} fehlen; "
            f"stellen Sie die Datei aus der Versionsverwaltung wieder her."
        )
    out = pd.DataFrame(index=raw.index)
    for col, dtype in dtypes.items():
        if dtype == "bool":
            out[col] = raw[col].map({"True": True, "False": False}).astype(bool)
        elif dtype == _STR:
            out[col] = raw[col].astype(str)
        else:
            out[col] = pd.to_numeric(raw[col]).astype(dtype)
    return out


def bezirk_statistik(*, path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Return the Bezirk statistics of section 3.1.1, one row per Stadtbezirk (9 rows).

    Parameters
    ----------
    path : path-like, optional
        Folder of the seed CSV files; default :data:`SEED_DIR`.

    Returns
    -------
    pandas.DataFrame
        Columns ``bezirk`` (1-9), ``bezirk_roman`` ("I".."IX"), ``einwohner`` (Gesamtbevölkerung),
        ``nichtdeutsche_anteil_prozent``, ``herkunft12_anteil_prozent``, ``herkunft12_anzahl``
        (the 12 main countries of origin, :data:`HERKUNFTSLAENDER_12`),
        ``bulgarien_rumaenien_anteil_prozent`` (share of Bulgarians and Romanians among the
        non-Germans, "gesamt"), ``bulgarien_anteil_prozent``, ``bulgarien_anzahl``,
        ``rumaenien_anteil_prozent``, ``rumaenien_anzahl``, ``projektwohnungen_anteil_prozent``
        (the Bezirk's share of the city's project flats for refugees), ``quelle``, ``stand``
        ("30.09.2016"). Percentages in per cent, as printed (one decimal).

    Examples
    --------
    >>> bz = bezirk_statistik()
    >>> int(bz["einwohner"].sum()), bz.loc[0, "herkunft12_anzahl"].item()
    (588875, 4795)
    """
    return _labelled(_read("bezirk_statistik", path))


def betroffene_stadtteile(*, path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Return the "besonders betroffene Stadtteile" of section 3.1.1 (8 rows).

    Bezirke II, VI, VIII and IX print "./." and have no row.

    Returns
    -------
    pandas.DataFrame
        Columns ``bezirk``, ``bezirk_roman``, ``stadtteil`` (official name), ``stadtteil_nr``,
        ``herkunft12_anteil_prozent`` (share of the 12 main countries of origin among the
        Stadtteil's inhabitants, per cent), ``quelle``, ``stand``.
    """
    return _labelled(_read("betroffene_stadtteile", path))


def stadt_gesamt(*, path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Return the city totals printed in the Vorlage, one row per figure (long format).

    Returns
    -------
    pandas.DataFrame
        Columns ``kennzahl`` (code, e.g. ``einwohner``, ``syrien_anteil_prozent``), ``wert``
        (float), ``einheit``, ``bezug`` (what a percentage refers to: ``Einwohner`` or
        ``Nichtdeutsche``), ``wie_gedruckt`` (the printed text), ``quelle``, ``stand``.
        ``herkunft12_anzahl_fast`` is the "fast 22.000" of the introduction: an upper bound,
        not a count.
    """
    return _read("stadt_gesamt", path)


def herkunftslaender_12(*, path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Return the 12 main countries of origin in printed order.

    Returns
    -------
    pandas.DataFrame
        Columns ``reihenfolge``, ``land``, ``in_jobcenter_tabelle`` (the JobCenter table's
        column that holds the country, "" if none).
    """
    return _read("herkunftslaender_12", path)


def jobcenter_verteilung(*, path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Return the distribution of SGB II recipients over the JobCenter sites (10 rows).

    Returns
    -------
    pandas.DataFrame
        Columns ``jobcenter`` (Mitte, Mitte-Nord, Nord, Nord-Ost, Nord-West, Ost, Süd 1, Süd 2,
        West, nicht zugeordnet), ``afghanistan_prozent``, ``irak_prozent``, ``iran_prozent``,
        ``syrien_prozent``, ``weitere_laender_prozent`` (Eritrea, Nigeria, Pakistan, Somalia),
        ``bulgarien_prozent``, ``rumaenien_prozent``, ``quelle``, ``stand`` ("05.10.2016").

    Notes
    -----
    Percentages are per **column**: the share of, e.g., all Syrian SGB II recipients of Essen
    who are served by the site. Each column sums to about 100 % (see :func:`consistency`).
    """
    return _labelled(_read("jobcenter_verteilung", path))


def jobcenter_stadtteile(*, path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Return the Stadtteil lists of the JobCenter areas, one row per (area, listed name).

    Returns
    -------
    pandas.DataFrame
        Columns ``jobcenter`` (Mitte, Mitte-Nord, Nord, Nord-Ost, Nord-West, Ost,
        ``"Süd 1 & Süd 2"``, West), ``position`` (order in the printed list), ``stadtteil``
        (official name), ``stadtteil_nr`` (1-50), ``teilweise`` (printed with "teilw."),
        ``listed_as`` (the text as printed, e.g. "teilw. Kray", "Kettwig..."),
        ``incomplete_list`` (True for the cut-off list of "Süd 1 & Süd 2"), ``note``.

    Notes
    -----
    "Süd 1 & Süd 2" is one printed group whose list ends with "..."; it is not split into
    Süd 1 and Süd 2 and no Stadtteil is added to it. Westviertel is printed (without "teilw.")
    under both Mitte and West and appears twice.
    :func:`gis_planning.data.sources.essen_jobcenter.jobcenter_audit`
    lists everything the lists leave open.
    """
    return _read("jobcenter_stadtteile", path)


def _row(
    pruefung: str, bezug: str, gedruckt: float, berechnet: float, toleranz: float, detail: str
) -> dict[str, object]:
    abw = float(berechnet) - float(gedruckt)
    return {
        "pruefung": pruefung,
        "bezug": bezug,
        "gedruckt": float(gedruckt),
        "berechnet": float(berechnet),
        "abweichung": abw,
        "toleranz": float(toleranz),
        "konsistent": bool(abs(abw) <= toleranz + 1e-9),
        "detail": detail,
    }


def _pct(x: float) -> str:
    return f"{x:.2f}".replace(".", ",") + " %"


def consistency(*, path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Check the Vorlage's figures against each other and report every contradiction.

    Nothing is corrected; this table documents where the printed numbers do not fit together,
    so users can judge which one to trust.

    Parameters
    ----------
    path : path-like, optional
        Folder of the seed CSV files; default :data:`SEED_DIR`.

    Returns
    -------
    pandas.DataFrame
        One row per check: ``pruefung`` (code), ``bezug`` (Bezirk "I".."IX", "Essen", or a
        JobCenter column), ``gedruckt`` (printed value), ``berechnet`` (value recomputed from
        other printed figures), ``abweichung`` (berechnet - gedruckt), ``toleranz`` (largest
        deviation explained by the printed rounding), ``konsistent`` (bool), ``detail``
        (German text).

    Notes
    -----
    A percentage printed with one decimal stands for the interval ``p ± 0.05``; a sum of
    ``k`` such values may deviate from its printed total by up to ``k * 0.05``. Checks:

    ``bezirk_herkunft12_anteil``
        ``100 * herkunft12_anzahl / einwohner`` against the printed share (tolerance 0.05).
    ``bezirk_bg_ro_summe``
        Bulgarian share + Romanian share against the printed "gesamt" (tolerance 0.1).
    ``bezirk_bulgarien_anteil``, ``bezirk_rumaenien_anteil``
        count / non-Germans, where non-Germans = ``einwohner * nichtdeutsche_anteil / 100``
        is known only to ± 0.05 %-points; tolerance = 0.05 + half the width of the resulting
        interval of the share.
    ``bezirk_betroffen_ueber_bezirk``
        a "besonders betroffener" Stadtteil's share must exceed its Bezirk's share
        (``gedruckt`` = Stadtteil share, ``berechnet`` = Bezirk share, consistent if lower).
    ``bezirk_projektwohnungen_summe``
        the nine Bezirk shares of project flats sum to 100 (tolerance 9 * 0.05).
    ``stadt_einwohner_summe``
        sum of Bezirk populations against 588.875 (tolerance 0).
    ``stadt_nichtdeutsche_summe``
        sum of ``einwohner * nichtdeutsche_anteil / 100`` against 89.289 (tolerance: the
        rounding of the nine shares, ``sum(einwohner) * 0.05 / 100``).
    ``stadt_*_anteil``
        the city shares recomputed from the printed counts (tolerance 0.05).
    ``stadt_herkunft12_fast``
        sum of the Bezirk counts of the 12 countries against "fast 22.000"; "fast" is read as
        "at most 22.000 and at least 95 % of it" (consistent if ``-1100 <= abweichung <= 0``;
        reported ``toleranz`` 1100).
    ``jobcenter_spaltensumme``
        each column of the JobCenter table sums to 100 (tolerance 10 * 0.05).

    Examples
    --------
    >>> c = consistency()
    >>> c.loc[~c["konsistent"], ["pruefung", "bezug"]].values.tolist()
    [['bezirk_herkunft12_anteil', 'II'], ['stadt_syrien_anteil', 'Essen']]
    """
    bz = bezirk_statistik(path=path)
    bt = betroffene_stadtteile(path=path)
    sg = stadt_gesamt(path=path).set_index("kennzahl")["wert"]
    jc = jobcenter_verteilung(path=path)
    rows: list[dict[str, object]] = []

    for r in bz.itertuples(index=False):
        b = str(r.bezirk_roman)
        calc = 100.0 * r.herkunft12_anzahl / r.einwohner
        rows.append(
            _row(
                "bezirk_herkunft12_anteil",
                b,
                r.herkunft12_anteil_prozent,
                calc,
                0.05,
                f"Bezirk {b}: {r.herkunft12_anzahl} von {r.einwohner} Einwohnern = {_pct(calc)}",
            )
        )
        s = r.bulgarien_anteil_prozent + r.rumaenien_anteil_prozent
        rows.append(
            _row(
                "bezirk_bg_ro_summe",
                b,
                r.bulgarien_rumaenien_anteil_prozent,
                s,
                0.1,
                f"Bezirk {b}: Bulgarien + Rumänien = {_pct(s)} der Nichtdeutschen",
            )
        )
        nd = r.einwohner * r.nichtdeutsche_anteil_prozent / 100.0
        nd_lo = r.einwohner * (r.nichtdeutsche_anteil_prozent - 0.05) / 100.0
        nd_hi = r.einwohner * (r.nichtdeutsche_anteil_prozent + 0.05) / 100.0
        for land, n, p in (
            ("bulgarien", r.bulgarien_anzahl, r.bulgarien_anteil_prozent),
            ("rumaenien", r.rumaenien_anzahl, r.rumaenien_anteil_prozent),
        ):
            calc = 100.0 * n / nd
            half = (100.0 * n / nd_lo - 100.0 * n / nd_hi) / 2.0
            rows.append(
                _row(
                    f"bezirk_{land}_anteil",
                    b,
                    p,
                    calc,
                    0.05 + half,
                    f"Bezirk {b}: {n} von ca. {nd:.0f} Nichtdeutschen = {_pct(calc)}",
                )
            )
        for t in bt[bt["bezirk"] == r.bezirk].itertuples(index=False):
            ok = t.herkunft12_anteil_prozent > r.herkunft12_anteil_prozent
            row = _row(
                "bezirk_betroffen_ueber_bezirk",
                b,
                t.herkunft12_anteil_prozent,
                r.herkunft12_anteil_prozent,
                0.0,
                f"{t.stadtteil} ({_pct(t.herkunft12_anteil_prozent)}) liegt "
                f"{'über' if ok else 'nicht über'} dem Bezirk {b} "
                f"({_pct(r.herkunft12_anteil_prozent)})",
            )
            row["konsistent"] = bool(ok)
            rows.append(row)

    pw = float(bz["projektwohnungen_anteil_prozent"].sum())
    rows.append(
        _row(
            "bezirk_projektwohnungen_summe",
            "Essen",
            100.0,
            pw,
            0.05 * len(bz),
            f"Summe der Anteile Projektwohnungen über die Bezirke = {_pct(pw)}",
        )
    )

    ew = int(bz["einwohner"].sum())
    rows.append(
        _row(
            "stadt_einwohner_summe",
            "Essen",
            sg["einwohner"],
            ew,
            0.0,
            f"Summe der Bezirke = {ew} Einwohner, Stadt gedruckt {int(sg['einwohner'])}",
        )
    )
    nd_sum = float((bz["einwohner"] * bz["nichtdeutsche_anteil_prozent"] / 100.0).sum())
    rows.append(
        _row(
            "stadt_nichtdeutsche_summe",
            "Essen",
            sg["nichtdeutsche_anzahl"],
            nd_sum,
            ew * 0.05 / 100.0,
            f"Summe Einwohner x Anteil Nichtdeutsche der Bezirke = {nd_sum:.0f}",
        )
    )
    for code, num, den, bezug in (
        ("nichtdeutsche_anteil_prozent", "nichtdeutsche_anzahl", "einwohner", "Einwohner"),
        ("tuerkei_anteil_prozent", "tuerkei_anzahl", "einwohner", "Einwohner"),
        ("syrien_anteil_prozent", "syrien_anzahl", "einwohner", "Einwohner"),
        ("irak_anteil_prozent", "irak_anzahl", "einwohner", "Einwohner"),
        (
            "syrien_anteil_an_nichtdeutschen_prozent",
            "syrien_anzahl",
            "nichtdeutsche_anzahl",
            "Nichtdeutsche",
        ),
        (
            "tuerkei_anteil_an_nichtdeutschen_prozent",
            "tuerkei_anzahl",
            "nichtdeutsche_anzahl",
            "Nichtdeutsche",
        ),
    ):
        calc = 100.0 * sg[num] / sg[den]
        rows.append(
            _row(
                "stadt_" + code.removesuffix("_prozent"),
                "Essen",
                sg[code],
                calc,
                0.05,
                f"{int(sg[num])} / {int(sg[den])} ({bezug}) = {_pct(calc)}, gedruckt "
                f"{_pct(sg[code])}",
            )
        )
    h12 = int(bz["herkunft12_anzahl"].sum())
    fast = float(sg["herkunft12_anzahl_fast"])
    row = _row(
        "stadt_herkunft12_fast",
        "Essen",
        fast,
        h12,
        0.05 * fast,
        f"Summe der Bezirke = {h12} Personen aus den 12 Herkunftsländern; gedruckt "
        f"'fast {int(fast)}' (gelesen als 95-100 % davon)",
    )
    row["konsistent"] = bool(0.95 * fast <= h12 <= fast)
    rows.append(row)

    for col, head in JOBCENTER_SPALTEN.items():
        s = float(jc[col].sum())
        rows.append(
            _row(
                "jobcenter_spaltensumme",
                head,
                100.0,
                s,
                0.05 * len(jc),
                f"Spalte {head}: Summe über {len(jc)} Standorte = {_pct(s)}",
            )
        )
    out = pd.DataFrame(rows)
    out["konsistent"] = out["konsistent"].astype(bool)
    return out
