"""JobCenter areas built from the Stadtteil lists of the seed, and an audit of what they leave open.

The Vorlage 1846/2016/5 (section 3.1.2, Quelle FB 56, Stand 05.10.2016) names the Stadtteile
each JobCenter area serves, some only partly ("teilw."), and prints the list of "Süd 1 & Süd 2"
jointly and cut off ("Kettwig..."). This module turns those lists into polygons without
resolving any gap silently:

* :func:`jobcenter_areas` dissolves the listed Stadtteile per area (8 polygons: the 9 sites of
  the distribution table, with Süd 1 and Süd 2 as **one** area "Süd 1 & Süd 2" because their
  Stadtteil list is joint). A Stadtteil listed in two areas lies in both polygons.
* :func:`jobcenter_zuordnung` gives one row per Stadtteil with a status for maps.
* :func:`jobcenter_audit` lists every open point: Stadtteile listed twice, split Stadtteile
  whose boundary is not given, partly listed Stadtteile whose other part is nowhere, Stadtteile
  listed nowhere (with the areas next to them), the cut-off Süd list.
* :func:`jobcenter_verteilung_bereiche` maps the distribution table onto the 8 map areas.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from ..._errors import InputError, NameMatchError, SchemaError
from ..._validate import require_columns, require_projected
from . import essen_seed as _seed

__all__ = [
    "STATUS_LABELS",
    "jobcenter_areas",
    "jobcenter_audit",
    "jobcenter_verteilung_bereiche",
    "jobcenter_zuordnung",
]

#: German labels of the per-Stadtteil status codes of :func:`jobcenter_zuordnung`.
STATUS_LABELS = {
    "eindeutig": "eindeutig einem Bereich zugeordnet",
    "geteilt": "auf mehrere Bereiche aufgeteilt (teilw.), Grenze nicht angegeben",
    "doppelt": "in mehreren Listen ohne 'teilw.' genannt",
    "teilweise_rest_offen": "nur teilweise zugeordnet, übriger Teil in keiner Liste",
    "nicht_gelistet": "in keiner Liste (Liste Süd 1 & Süd 2 ist abgeschnitten)",
}

_MEMBERSHIP_COLUMNS = (
    "jobcenter",
    "stadtteil",
    "stadtteil_nr",
    "teilweise",
    "listed_as",
    "incomplete_list",
)
_STADTTEIL_COLUMNS = ("stadtteil_nr", "stadtteil", "bezirk")

#: Distance (m) within which two Stadtteil polygons count as neighbours (OSM slivers).
_NEIGHBOUR_TOLERANCE_M = 5.0


def _checks(stadtteile: gpd.GeoDataFrame, membership: pd.DataFrame | None) -> pd.DataFrame:
    if not isinstance(stadtteile, gpd.GeoDataFrame):
        raise InputError(
            f"die Stadtteile müssen eine Ebene mit Geometrien sein, nicht "
            f"{type(stadtteile).__name__}; laden Sie die Ebene 'stadtteile' aus dem Katalog."
        )
    require_columns(stadtteile, _STADTTEIL_COLUMNS, name="stadtteile")
    require_projected(stadtteile, name="stadtteile")
    if stadtteile["stadtteil_nr"].duplicated().any():
        dup = sorted(stadtteile.loc[stadtteile["stadtteil_nr"].duplicated(), "stadtteil_nr"])
        raise InputError(f"Ebene 'stadtteile': Spalte 'stadtteil_nr' hat doppelte Werte "
                         f"{', '.join(map(str, dup))}; behalten Sie je eine Zeile.")
    m = _seed.jobcenter_stadtteile() if membership is None else membership
    require_columns(m, _MEMBERSHIP_COLUMNS, name="jobcenter_stadtteile")
    if not pd.api.types.is_bool_dtype(m["teilweise"]):
        raise SchemaError(
            "Tabelle 'jobcenter_stadtteile': Spalte 'teilweise' muss ja/nein (True/False) "
            "enthalten; tragen Sie für 'teilw.' True ein."
        )
    names = dict(zip(stadtteile["stadtteil_nr"], stadtteile["stadtteil"], strict=True))
    for r in m.itertuples(index=False):
        if r.stadtteil_nr not in names:
            raise NameMatchError(
                f"Tabelle 'jobcenter_stadtteile' nennt {r.stadtteil!r} mit der Nummer "
                f"{r.stadtteil_nr}, die in der Ebene 'stadtteile' fehlt; verwenden Sie die "
                f"vollständige Ebene der Stadtteile (50 Stadtteile)."
            )
        if names[r.stadtteil_nr] != r.stadtteil:
            raise NameMatchError(
                f"Tabelle 'jobcenter_stadtteile' nennt Stadtteil {r.stadtteil_nr} "
                f"{r.stadtteil!r}, die Ebene 'stadtteile' aber {names[r.stadtteil_nr]!r}; "
                f"verwenden Sie die amtlichen Namen."
            )
    return m.copy()


def _group_order(m: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(m["jobcenter"]))


def jobcenter_areas(
    stadtteile: gpd.GeoDataFrame, membership: pd.DataFrame | None = None
) -> gpd.GeoDataFrame:
    """Dissolve the listed Stadtteile into one polygon per JobCenter area.

    Parameters
    ----------
    stadtteile : geopandas.GeoDataFrame
        The 50 Stadtteile in a projected CRS (EPSG:25832) with columns ``stadtteil_nr``,
        ``stadtteil``, ``bezirk`` and geometry.
    membership : pandas.DataFrame, optional
        One row per (area, listed Stadtteil) with columns ``jobcenter``, ``stadtteil``,
        ``stadtteil_nr``, ``teilweise`` (bool), ``listed_as``, ``incomplete_list`` (bool).
        Default: the seed's lists,
        :func:`gis_planning.data.sources.essen_seed.jobcenter_stadtteile`.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per area in printed order (8 for the seed: Mitte, Mitte-Nord, Nord, Nord-Ost,
        Nord-West, Ost, Süd 1 & Süd 2, West), CRS of ``stadtteile``. Columns ``jobcenter``,
        ``standorte`` (sites of the distribution table in the area, e.g. "Süd 1, Süd 2"),
        ``stadtteile`` (the list as printed, ", "-joined, e.g. "..., teilw. Kray"),
        ``n_stadtteile``, ``n_teilweise``, ``has_partial``, ``incomplete_list`` (True for the
        cut-off Süd list), ``flaeche_km2`` (area of the polygon), ``geometry``.

    Raises
    ------
    InputError, CRSError, SchemaError, NameMatchError
        If ``stadtteile`` is not a projected GeoDataFrame with the columns above, or a listed
        Stadtteil is not in it under the same number and name.

    Notes
    -----
    A partly listed Stadtteil ("teilw.") enters the polygon of every area that lists it,
    whole, because the Vorlage does not say where the boundary runs; such polygons overlap
    (check ``has_partial`` and :func:`jobcenter_audit`). The same holds for Westviertel,
    listed whole under Mitte and under West. Stadtteile listed nowhere are in no polygon;
    nothing is added to the cut-off Süd list.
    """
    m = _checks(stadtteile, membership)
    geom = stadtteile.set_index("stadtteil_nr").geometry
    rows = []
    for jc in _group_order(m):
        g = m[m["jobcenter"] == jc]
        rows.append(
            {
                "jobcenter": jc,
                "standorte": ", ".join(s.strip() for s in jc.split("&")),
                "stadtteile": ", ".join(g["listed_as"].astype(str)),
                "n_stadtteile": len(g),
                "n_teilweise": int(g["teilweise"].sum()),
                "has_partial": bool(g["teilweise"].any()),
                "incomplete_list": bool(g["incomplete_list"].any()),
                "geometry": geom.loc[g["stadtteil_nr"].to_numpy()].union_all(),
            }
        )
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=stadtteile.crs)
    out.insert(len(out.columns) - 1, "flaeche_km2", out.geometry.area / 1e6)
    return out


def _listings(m: pd.DataFrame) -> dict[int, list[tuple[str, bool]]]:
    out: dict[int, list[tuple[str, bool]]] = {}
    for r in m.itertuples(index=False):
        out.setdefault(int(r.stadtteil_nr), []).append((str(r.jobcenter), bool(r.teilweise)))
    return out


def _status(listing: list[tuple[str, bool]]) -> str:
    if not listing:
        return "nicht_gelistet"
    full = [jc for jc, part in listing if not part]
    if len(listing) == 1:
        return "eindeutig" if full else "teilweise_rest_offen"
    return "doppelt" if full else "geteilt"


def jobcenter_zuordnung(
    stadtteile: gpd.GeoDataFrame, membership: pd.DataFrame | None = None
) -> gpd.GeoDataFrame:
    """Return one row per Stadtteil with its JobCenter area(s) and a status for maps.

    Parameters
    ----------
    stadtteile, membership
        As in :func:`jobcenter_areas`.

    Returns
    -------
    geopandas.GeoDataFrame
        Index and geometry of ``stadtteile``; columns ``stadtteil_nr``, ``stadtteil``,
        ``bezirk``, ``jobcenter`` (area names " / "-joined, "" if none), ``n_jobcenter``,
        ``teilweise`` (listed with "teilw." at least once), ``incomplete_list`` (listed in the
        cut-off Süd list), ``status`` (code: ``eindeutig``, ``geteilt``, ``doppelt``,
        ``teilweise_rest_offen``, ``nicht_gelistet``), ``status_label`` (German text from
        :data:`STATUS_LABELS`), ``geometry``.
    """
    m = _checks(stadtteile, membership)
    listings = _listings(m)
    incomplete = set(m.loc[m["incomplete_list"].astype(bool), "stadtteil_nr"].astype(int))
    nrs = stadtteile["stadtteil_nr"].astype(int)
    lst = [listings.get(n, []) for n in nrs]
    out = gpd.GeoDataFrame(
        {
            "stadtteil_nr": stadtteile["stadtteil_nr"],
            "stadtteil": stadtteile["stadtteil"],
            "bezirk": stadtteile["bezirk"],
            "jobcenter": [" / ".join(jc for jc, _ in x) for x in lst],
            "n_jobcenter": [len(x) for x in lst],
            "teilweise": [any(p for _, p in x) for x in lst],
            "incomplete_list": [n in incomplete for n in nrs],
            "status": [_status(x) for x in lst],
        },
        index=stadtteile.index,
        geometry=stadtteile.geometry,
        crs=stadtteile.crs,
    )
    out.insert(len(out.columns) - 1, "status_label", out["status"].map(STATUS_LABELS))
    return out


def _neighbour_areas(
    stadtteile: gpd.GeoDataFrame,
    nr: int,
    listings: dict[int, list[tuple[str, bool]]],
    order: list[str],
) -> list[str]:
    geom = stadtteile.set_index("stadtteil_nr").geometry
    me = geom.loc[nr]
    near = geom[geom.distance(me) <= _NEIGHBOUR_TOLERANCE_M].drop(index=nr)
    counts: dict[str, int] = {}
    for other in near.index:
        for jc, _ in listings.get(int(other), []):
            counts[jc] = counts.get(jc, 0) + 1
    return sorted(counts, key=lambda jc: (-counts[jc], order.index(jc)))


def jobcenter_audit(
    stadtteile: gpd.GeoDataFrame, membership: pd.DataFrame | None = None
) -> pd.DataFrame:
    """List everything the JobCenter lists of the seed leave open.

    Parameters
    ----------
    stadtteile, membership
        As in :func:`jobcenter_areas`.

    Returns
    -------
    pandas.DataFrame
        One row per finding, ordered by ``befund`` then ``stadtteil_nr``; columns ``befund``
        (code, below), ``stadtteil_nr`` (Int64, <NA> for list-level findings), ``stadtteil``,
        ``bezirk`` (Int64), ``jobcenter`` (areas concerned, " / "-joined), ``kandidaten``
        (areas of neighbouring Stadtteile, most frequent first; only for unlisted or partly
        listed Stadtteile), ``detail`` (German text).

    Notes
    -----
    Codes, in output order:

    ``doppelt_gelistet``
        listed in two or more areas, at least once without "teilw." (seed: Westviertel under
        Mitte and West).
    ``geteilt``
        listed with "teilw." in two or more areas; where the boundary runs is not given.
    ``teilweise_rest_fehlt``
        listed with "teilw." in one area only; the other part is in no list.
    ``nicht_gelistet``
        in no list. ``kandidaten`` are the areas of Stadtteile within 5 m; the cut-off list
        "Süd 1 & Süd 2" probably covers many of them, but this is **not** resolved here.
    ``liste_abgeschnitten``
        an area whose printed list ends with "..." (``incomplete_list``).
    ``standorte_zusammengefasst``
        a list shared by several sites of the distribution table ("Süd 1 & Süd 2").
    """
    m = _checks(stadtteile, membership)
    listings = _listings(m)
    order = _group_order(m)
    info = stadtteile.set_index("stadtteil_nr")
    rows: list[dict[str, object]] = []

    def add(befund: str, nr: int | None, jcs: str, kand: str, detail: str) -> None:
        rows.append(
            {
                "befund": befund,
                "stadtteil_nr": nr,
                "stadtteil": None if nr is None else str(info.loc[nr, "stadtteil"]),
                "bezirk": None if nr is None else int(info.loc[nr, "bezirk"]),
                "jobcenter": jcs,
                "kandidaten": kand,
                "detail": detail,
            }
        )

    unlisted: list[int] = []
    for nr in sorted(int(n) for n in info.index):
        lst = listings.get(nr, [])
        name = str(info.loc[nr, "stadtteil"])
        jcs = " / ".join(jc for jc, _ in lst)
        status = _status(lst)
        if status == "doppelt":
            parts = ", ".join(f"{jc}{' (teilw.)' if p else ''}" for jc, p in lst)
            add(
                "doppelt_gelistet",
                nr,
                jcs,
                "",
                f"{name} steht in den Listen {parts}, mindestens einmal ohne 'teilw.'; "
                f"welcher Bereich zuständig ist, bleibt offen.",
            )
        elif status == "geteilt":
            add(
                "geteilt",
                nr,
                jcs,
                "",
                f"{name} ist teilweise {' und teilweise '.join(jc for jc, _ in lst)} "
                f"zugeordnet; die Grenze innerhalb des Stadtteils ist nicht angegeben.",
            )
        elif status == "teilweise_rest_offen":
            kand = [k for k in _neighbour_areas(stadtteile, nr, listings, order) if k != jcs]
            add(
                "teilweise_rest_fehlt",
                nr,
                jcs,
                " / ".join(kand),
                f"{name} ist nur teilweise ({jcs}) zugeordnet; der übrige Teil steht in keiner "
                f"Liste. Angrenzende Bereiche: {', '.join(kand) or 'keine'}. Nicht aufgelöst.",
            )
        elif status == "nicht_gelistet":
            unlisted.append(nr)
            kand = _neighbour_areas(stadtteile, nr, listings, order)
            cut = [jc for jc in order if m.loc[m["jobcenter"] == jc, "incomplete_list"].any()]
            hint = (
                f" Die abgeschnittene Liste {', '.join(cut)} deckt ihn vermutlich ab."
                if set(cut) & set(kand)
                else ""
            )
            add(
                "nicht_gelistet",
                nr,
                "",
                " / ".join(kand),
                f"{name} (Bezirk {int(info.loc[nr, 'bezirk'])}) steht in keiner Liste. "
                + (
                    f"Angrenzende Bereiche: {', '.join(kand)}."
                    if kand
                    else "Grenzt nur an ebenfalls nicht gelistete Stadtteile."
                )
                + f"{hint} Nicht aufgelöst.",
            )

    for jc in order:
        g = m[m["jobcenter"] == jc]
        if g["incomplete_list"].astype(bool).any():
            last = str(g["listed_as"].iloc[-1])
            add(
                "liste_abgeschnitten",
                None,
                jc,
                "",
                f"Die Liste {jc} endet mit '{last}' und ist abgeschnitten; {len(unlisted)} "
                f"Stadtteile stehen in keiner Liste.",
            )
    for jc in order:
        if "&" in jc:
            sites = [s.strip() for s in jc.split("&")]
            add(
                "standorte_zusammengefasst",
                None,
                jc,
                "",
                f"Die Verteilungstabelle führt {' und '.join(sites)} getrennt, die Stadtteil-"
                f"Liste gemeinsam; die Karte zeigt sie als einen Bereich '{jc}'.",
            )

    codes = [
        "doppelt_gelistet",
        "geteilt",
        "teilweise_rest_fehlt",
        "nicht_gelistet",
        "liste_abgeschnitten",
        "standorte_zusammengefasst",
    ]
    out = pd.DataFrame(
        rows,
        columns=[
            "befund",
            "stadtteil_nr",
            "stadtteil",
            "bezirk",
            "jobcenter",
            "kandidaten",
            "detail",
        ],
    )
    out["stadtteil_nr"] = out["stadtteil_nr"].astype("Int64")
    out["bezirk"] = out["bezirk"].astype("Int64")
    out["_o"] = out["befund"].map(codes.index)
    return (
        out.sort_values(["_o", "stadtteil_nr"], kind="stable")
        .drop(columns="_o")
        .reset_index(drop=True)
    )


def jobcenter_verteilung_bereiche(verteilung: pd.DataFrame | None = None) -> pd.DataFrame:
    """Map the distribution table (9 sites + "nicht zugeordnet") onto the map areas.

    Parameters
    ----------
    verteilung : pandas.DataFrame, optional
        The table of :func:`gis_planning.data.sources.essen_seed.jobcenter_verteilung` (default).

    Returns
    -------
    pandas.DataFrame
        One row per area of :func:`jobcenter_areas` plus "nicht zugeordnet": ``jobcenter``
        (area name, joins on :func:`jobcenter_areas`), ``standorte`` (sites summed),
        the seven ``*_prozent`` columns of the seed table, ``auf_karte`` (False for
        "nicht zugeordnet").

    Notes
    -----
    The percentages are shares of a column total (e.g. of all Syrian SGB II recipients), so
    two sites' values add: Süd 1 & Süd 2 = Süd 1 + Süd 2 (sums of printed, rounded values).
    """
    v = _seed.jobcenter_verteilung() if verteilung is None else verteilung
    require_columns(v, ["jobcenter", *_seed.JOBCENTER_SPALTEN], name="verteilung")
    area = v["jobcenter"].replace({"Süd 1": _seed.SUED_GRUPPE, "Süd 2": _seed.SUED_GRUPPE})
    cols = list(_seed.JOBCENTER_SPALTEN)
    out = (
        v.assign(_area=area)
        .groupby("_area", sort=False)
        .agg(standorte=("jobcenter", ", ".join), **{c: (c, "sum") for c in cols})
        .reset_index()
        .rename(columns={"_area": "jobcenter"})
    )
    out[cols] = out[cols].round(1)
    out["auf_karte"] = out["jobcenter"] != "nicht zugeordnet"
    return out
