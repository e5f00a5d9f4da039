"""Bezirk and Stadtteil profiles (Steckbriefe) for council papers, as in the strategy paper.

A profile is one A4 page per Bezirk (or per analysis unit) in the manner of section 3.1.1 of
a strategy paper ("Auswertung nach Stadtbezirken"): the key figures with their Stand, source
and estimate notes, how the Bezirk compares with the city (city value and rank), the units the
city's own tables name for it, a locator map, the thematic map of the Bezirk with its Kitas,
schools and proposed meeting spaces, their numbers against the city, and the sources.

Everything comes from the city pack and the results, nothing from a city's name:

* **key figures**: every numeric column of the pack's tables given per Bezirk (``"unit":
  "stadtbezirke"``), a share beside its count (``x_anteil_prozent`` with ``x_anzahl``:
  "7,1 % (4.795)"), labelled by the table's own labels (``attrs["column_labels"]`` of the
  city's loader) or the group labels; groups given only per unit are summed per Bezirk
  (:func:`gis_planning.results.bezirk_values`);
* **city value**: from a city table in long form (a table without unit with columns
  ``kennzahl`` and ``wert``), else the sum over the Bezirke (counts), the ratio of sums (a
  group's share with count and total), 100 % for a distribution over the Bezirke, else "–";
* **named units**: tables without unit that list ``stadtteil`` per ``bezirk`` (with their
  share), "./." where a Bezirk has none, as printed.

:func:`bezirk_profile` and :func:`stadtteil_profile` return the profile as data (tested
against the transcribed tables); :func:`write_profiles` draws them into one PDF, a page each.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import os
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import __version__, results
from .._atomic import atomic_path
from .._errors import GISPlanningError, InputError
from ..labels import fmt_date, fmt_int, fmt_number, fmt_percent
from . import karte

if TYPE_CHECKING:  # pragma: no cover
    from ..data.catalog import Catalog

__all__ = [
    "Kennzahl",
    "Profile",
    "bezirk_profile",
    "profile_text",
    "stadtteil_profile",
    "unit_code",
    "write_profiles",
]

log = logging.getLogger(__name__)

_BEZIRK_LAYER = "stadtbezirke"


@dataclass(frozen=True)
class Kennzahl:
    """One key figure of a profile, with the city's value and the Bezirk's rank."""

    key: str
    label: str
    value: float | None
    text: str
    city_text: str = "–"
    city_note: str = ""
    rank: int | None = None
    of: int = 0
    source: str = ""
    date: str = ""
    estimated: bool = False
    level_text: str = ""  # the Bezirk's value in a unit profile


@dataclass
class Profile:
    """A Bezirk or unit profile as data; :func:`write_profiles` draws it."""

    kind: str  # "bezirk" or "einheit"
    code: Any
    title: str
    subtitle: str
    figures: list[Kennzahl]
    named_label: str = ""
    named: list[str] = field(default_factory=list)
    units: pd.DataFrame | None = None
    facilities: list[tuple[str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    bezirk: Any = None
    unit_name: str | None = None


# ------------------------------------------------------------------------------ figures
def _fmt(column: str, value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return "–"
    if column.endswith("_prozent"):
        return fmt_percent(float(value), 1)
    v = float(value)
    if v.is_integer() or column.endswith("_anzahl") or column in ("einwohner",):
        return fmt_int(v)
    return fmt_number(v, 1)


def _labels(cat: Catalog, frame: pd.DataFrame) -> dict[str, str]:
    from .export import field_label

    own = dict(frame.attrs.get("column_labels") or {})
    city = results.column_labels(cat)
    return {str(c): own.get(str(c)) or field_label(str(c), city).removesuffix(" (%)")
            for c in frame.columns}


def _city_table(cat: Catalog) -> dict[str, float]:
    """City values by column name from tables without unit in long form (kennzahl, wert)."""
    out: dict[str, float] = {}
    for name in cat.table_names():
        if cat.table_spec(name).unit is not None:
            continue
        t = cat.table(name)
        if {"kennzahl", "wert"} <= set(t.columns):
            for k, v in zip(t["kennzahl"], pd.to_numeric(t["wert"], errors="coerce"),
                            strict=True):
                if pd.notna(v):
                    out.setdefault(str(k), float(v))
    return out


def _numeric(frame: pd.DataFrame, skip: Iterable[str]) -> list[str]:
    skip = set(skip)
    return [c for c in frame.columns if c not in skip and pd.api.types.is_numeric_dtype(
        frame[c]) and not pd.api.types.is_bool_dtype(frame[c])]


def _rank(values: pd.Series, value: float | None) -> int | None:
    if value is None or pd.isna(value):
        return None
    vals = pd.to_numeric(values, errors="coerce").dropna()
    return int((vals > value).sum()) + 1


def _table_figures(cat: Catalog, table: pd.DataFrame, code: Any, *, source: str, date: str,
                   estimated: bool, key: str, city: dict[str, float],
                   groups: Sequence[Any]) -> list[Kennzahl]:
    """Key figures of one row (``key == code``) of a table, shares beside their counts."""
    row = table[table[key] == code]
    if row.empty:
        return []
    row = row.iloc[0]
    labels = _labels(cat, table)
    skip = {key, "bezirk", "stadtteil_nr", "geometry", "flaeche_km2"}
    cols = _numeric(table, skip)
    paired = {f"{c[: -len('_anteil_prozent')]}_anzahl" for c in cols
              if c.endswith("_anteil_prozent")} & set(cols)
    out = []
    n = int(table[key].nunique())
    for col in cols:
        if col in paired:
            continue
        value = row[col]
        text = _fmt(col, value)
        count_col = f"{col[: -len('_anteil_prozent')]}_anzahl" \
            if col.endswith("_anteil_prozent") else None
        if count_col in paired:
            text += f" ({_fmt(count_col, row[count_col])})"
        city_text, note = _city_value(table, col, count_col if count_col in paired else None,
                                      city, groups)
        out.append(Kennzahl(col, labels.get(col, col), None if pd.isna(value) else
                            float(value), text, city_text, note, _rank(table[col], value), n,
                            source, date, estimated))
    return out


def _city_value(table: pd.DataFrame, col: str, count_col: str | None,
                city: dict[str, float], groups: Sequence[Any]) -> tuple[str, str]:
    if col in city:
        text = _fmt(col, city[col])
        if count_col and count_col in city:
            text += f" ({_fmt(count_col, city[count_col])})"
        return text, "amtlich"
    values = pd.to_numeric(table[col], errors="coerce")
    if not col.endswith("_prozent"):
        if values.notna().all():
            return _fmt(col, values.sum()), "Summe der Bezirke"
        return "–", ""
    for g in groups:
        if g.share_column == col and g.count in table and g.total in table:
            count, total = table[g.count].sum(), table[g.total].sum()
            share = 100.0 * count / total if total else float("nan")
            return f"{fmt_percent(share, 1)} ({fmt_int(count)})", "aus den Bezirkswerten"
    if values.notna().all() and abs(values.sum() - 100.0) <= 1.5:
        return fmt_percent(100.0, 0), "Verteilung auf die Bezirke"
    return "–", ""


def _bezirk_figures(cat: Catalog, code: Any) -> tuple[list[Kennzahl], list[str]]:
    city = _city_table(cat)
    groups = list(cat.pack.groups.values())
    figures: list[Kennzahl] = []
    sources: list[str] = []
    covered: set[str] = set()
    for name in cat.table_names():
        spec = cat.table_spec(name)
        if spec.unit != _BEZIRK_LAYER:
            continue
        tm = cat.table_meta(name)
        t = cat.table(name)
        date = fmt_date(tm["date"])
        figs = _table_figures(cat, t, code, source=str(tm["label"]), date=date,
                              estimated=bool(tm["estimated"]), key=spec.unit_key, city=city,
                              groups=groups)
        seen = {f.key for f in figures}
        # the same column in a second table (a census share beside the register's) is kept,
        # under its table's name, so both figures show with their own source and date
        figures += [f if f.key not in seen else replace(f, key=f"{name}.{f.key}") for f in figs]
        covered |= set(t.columns)
        sources.append(_source_line(tm))
    for g in groups:
        if g.share_column in covered or (g.count and g.count in covered):
            continue
        try:
            vals = results.bezirk_values(cat, g.name)
        except GISPlanningError:
            continue
        vals.attrs["column_labels"] = {
            g.share_column: f"Anteil {g.label}",
            **({g.count: f"Personen ({g.label})"} if g.count else {}),
            **({g.total: _labels(cat, vals).get(g.total, g.total)} if g.total else {})}
        if g.count and g.share_column and g.count != f"{g.share_column[:-15]}_anzahl":
            vals = vals.rename(columns={g.count: f"{g.share_column[:-15]}_anzahl"})
            vals.attrs["column_labels"][f"{g.share_column[:-15]}_anzahl"] = (
                f"Personen ({g.label})")
        tm = cat.table_meta(g.table)
        figs = _table_figures(cat, vals, code, source=str(vals.attrs.get("quelle", "")),
                              date=fmt_date(tm["date"]), estimated=bool(
                                  vals.attrs.get("estimated")), key="bezirk", city=city,
                              groups=[_renamed(g)])
        figures += [f for f in figs if f.key not in {x.key for x in figures}]
        covered |= set(vals.columns)
        sources.append(_source_line(tm, prefix=f"Summe je Bezirk aus „{tm['label']}“"))
    return figures, list(dict.fromkeys(sources))


@dataclass(frozen=True)
class _G:
    share_column: str
    count: str
    total: str


def _renamed(g: Any) -> _G:
    count = f"{g.share_column[:-15]}_anzahl" if g.count else ""
    return _G(g.share_column, count, g.total or "")


def _source_line(tm: dict, prefix: str | None = None) -> str:
    parts = [prefix or str(tm["label"]), str(tm["source"])]
    if tm.get("licence") and tm["licence"] != "nicht angegeben":
        parts.append(str(tm["licence"]))
    text = ": ".join(parts[:2]) + (f"; {parts[2]}" if len(parts) > 2 else "")
    if tm.get("date") and tm["date"] != "nicht angegeben":
        text += f" (Stand {fmt_date(tm['date'])})"
    return text


def _named_units(cat: Catalog, code: Any) -> tuple[str, list[str]]:
    for name in cat.table_names():
        if cat.table_spec(name).unit is not None:
            continue
        t = cat.table(name)
        if not {"bezirk", "stadtteil"} <= set(t.columns):
            continue
        rows = t[t["bezirk"] == code]
        share = next((c for c in _numeric(t, {"bezirk", "stadtteil_nr"})
                      if c.endswith("_prozent")), None)
        names = [f"{r['stadtteil']} ({_fmt(share, r[share])})" if share else str(r["stadtteil"])
                 for _, r in rows.iterrows()]
        return str(cat.table_meta(name)["label"]), names
    return "", []


def unit_code(cat: Catalog, text: str) -> Any:
    """Return the ``stadtteil_nr`` of the unit named ``text`` (case and umlauts folded)."""
    from .._names import suggest

    st = cat.load(cat.unit.layer)

    def fold(s: str) -> str:
        return (s.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
                .replace("ß", "ss").strip())

    want = fold(str(text))
    hit = st[st["stadtteil"].astype(str).map(fold) == want]
    if hit.empty:
        hit = st[st["stadtteil_nr"].astype(str) == str(text).strip()]
    if hit.empty:
        close = suggest(str(text), st["stadtteil"].astype(str).tolist())
        hint = f" Meinten Sie {' oder '.join(map(repr, close))}?" if close else ""
        raise InputError(f"--stadtteil {text!r}: kein {cat.unit.label} von {cat.city}.{hint}")
    return hit["stadtteil_nr"].iloc[0]


def _points(cat: Catalog, name: str) -> pd.DataFrame | None:
    if name in cat.names() and not cat.schema(name).confidential:
        frame = cat.load(name)
        if "ausserhalb" in frame:
            frame = frame[~frame["ausserhalb"].astype(bool)]
        return frame
    if name in results.RESULTS and name in results.available(cat):
        frame = results.compute(cat, name)
        return frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    return None


def _facilities(cat: Catalog, where: str, value: Any, population: float | None,
                city_population: float | None) -> list[tuple[str, str, str]]:
    """(what, here, city) rows: Kitas, schools, meeting spaces, coverage and budget."""
    rows = []
    for name, label in (("kitas", "Kitas"), ("schulen", "Schulen"),
                        ("begegnungsorte", "Begegnungsorte (bestehend)"),
                        ("standorte", "Begegnungsräume (Vorschlag)")):
        frame = _points(cat, name)
        if frame is None or where not in frame:
            continue
        if name == "kitas" and "in_betrieb" in frame:
            frame = frame[frame["in_betrieb"].astype(bool)]
            label = "Kitas in Betrieb"
        here = int((frame[where] == value).sum())
        total = len(frame)
        text_here, text_city = fmt_int(here), fmt_int(total)
        if population and city_population and name in ("kitas", "schulen"):
            text_here += f" ({fmt_number(1000 * here / population, 2)} je 1.000 Einw.)"
            text_city += f" ({fmt_number(1000 * total / city_population, 2)} je 1.000 Einw.)"
        rows.append((label, text_here, text_city))
    if where == "bezirk" and "abdeckung_bezirke" in results.available(cat):
        cover = results.compute(cat, "abdeckung_bezirke")
        here = cover[cover["bezirk"].astype(str) == str(value)]
        city = cover[cover["bezirk"].astype(str) == "Stadt"]
        if not here.empty and not city.empty:
            rows.append(("Nachfrage im Radius eines Begegnungsraums",
                         fmt_percent(100 * float(here["coverage_share"].iloc[0]), 0),
                         fmt_percent(100 * float(city["coverage_share"].iloc[0]), 0)))
    if where == "bezirk" and "budget" in results.available(cat):
        budget = results.compute(cat, "budget")
        here = budget[budget["bezirk"].astype(str) == str(value)]
        if not here.empty:
            rows.append(("Integrationsbudget (Vorschlag)",
                         f"{fmt_int(here['betrag'].iloc[0])} €",
                         f"{fmt_int(budget['betrag'].sum())} €"))
    return rows


def _group_units(cat: Catalog) -> tuple[Any, pd.DataFrame] | None:
    if not cat.unit_groups():
        return None
    g = cat.group(cat.unit_groups()[0])
    return g, cat.group_frame(g.name)


def bezirk_profile(cat: Catalog, bezirk: str | Any) -> Profile:
    """The profile of one Bezirk (code, Roman numeral, "Bezirk III" or name) as data."""
    code = karte.bezirk_code(cat, str(bezirk))
    label = cat.bezirk_labels()[code]
    figures, sources = _bezirk_figures(cat, code)
    named_label, named = _named_units(cat, code)
    units = None
    notes = []
    grouped = _group_units(cat)
    population = city_population = None
    if grouped is not None:
        g, frame = grouped
        tm = cat.table_meta(g.table)
        sub = frame[frame["bezirk"] == code].sort_values(g.share_column, ascending=False)
        units = sub[["stadtteil", g.total, g.count, g.share_column]].reset_index(drop=True)
        units.attrs["labels"] = {"stadtteil": cat.unit.label, g.total: "Einwohner"
                                 if g.total == "einwohner" else g.total,
                                 g.count: f"Personen ({g.label})",
                                 g.share_column: f"Anteil {g.label}"}
        units.attrs["estimated"] = bool(tm["estimated"])
        population = float(sub[g.total].sum())
        city_population = float(frame[g.total].sum())
        if tm["estimated"]:
            notes.append(f"Werte je {cat.unit.label}: Schätzung ({tm['label']}); "
                         + (str(tm["method"]).rstrip(".") if tm["method"]
                            else "keine amtliche Statistik") + ".")
        sources.append(_source_line(tm))
    for f in figures:
        if f.key in ("einwohner",) or f.key.endswith("einwohner"):
            population = population or f.value
    if any(f.estimated for f in figures):
        notes.append("Geschätzte Kennzahlen sind als Schätzung markiert.")
    facilities = _facilities(cat, "bezirk", code, population, city_population)
    dates = sorted({f.date for f in figures if f.date})
    subtitle = (f"Steckbrief · Integrationsatlas {cat.city}"
                + (f" · Stand {', '.join(dates)}" if dates else ""))
    names = cat.load(_BEZIRK_LAYER) if _BEZIRK_LAYER in cat.names() else None
    title = label
    if names is not None and "bezirk_name" in names:
        name = names.loc[names["bezirk"] == code, "bezirk_name"]
        if len(name) and isinstance(name.iloc[0], str) and name.iloc[0] not in label:
            title = f"{label} – {name.iloc[0]}"
    for layer in (cat.unit.layer, _BEZIRK_LAYER, "kitas", "schulen"):
        if layer in cat.names():
            s = cat.schema(layer)
            sources.append(_source_line({"label": s.label, "source": s.source,
                                         "licence": s.licence, "date": s.date}))
    return Profile("bezirk", code, title, subtitle, figures, named_label, named, units,
                   facilities, notes, list(dict.fromkeys(sources)), bezirk=code)


def stadtteil_profile(cat: Catalog, name: str) -> Profile:
    """The profile of one analysis unit (by name or number) as data."""
    nr = unit_code(cat, name)
    st = cat.load(cat.unit.layer)
    row = st[st["stadtteil_nr"] == nr].iloc[0]
    code = row["bezirk"]
    blabel = cat.bezirk_labels().get(code, str(code))
    figures: list[Kennzahl] = []
    sources: list[str] = []
    notes: list[str] = []
    for gname in cat.unit_groups():
        g = cat.group(gname)
        frame = cat.group_frame(g.name)
        try:
            bz = results.bezirk_values(cat, g.name)
            bz = bz[bz["bezirk"] == code]
        except GISPlanningError:
            bz = pd.DataFrame()
        tm = cat.table_meta(g.table)
        labels = _labels(cat, frame)
        me = frame[frame["stadtteil_nr"] == nr]
        if me.empty:
            continue
        me = me.iloc[0]
        n = len(frame)
        city_total = frame[g.total].sum()
        city_count = frame[g.count].sum()
        for col, city_text in ((g.total, fmt_int(city_total)),
                               (g.count, fmt_int(city_count)),
                               (g.share_column, fmt_percent(100 * city_count / city_total, 1)
                                if city_total else "–")):
            if any(f.key == col for f in figures):
                continue
            text = _fmt(col, me[col])
            lo, hi = f"{col}_ki_unten", f"{col}_ki_oben"
            if lo in frame and hi in frame and pd.notna(me[lo]) and pd.notna(me[hi]):
                text += f" (95-%-Intervall {_fmt(col, me[lo])} – {_fmt(col, me[hi])})"
            level = _fmt(col, bz[col].iloc[0]) if col in bz and len(bz) else ""
            label = labels.get(col, col)
            if col == g.share_column:
                label = f"Anteil {g.label}"
            elif col == g.count:
                label = f"Personen ({g.label})"
            figures.append(Kennzahl(col, label, float(me[col]), text, city_text,
                                    "Summe der Einheiten" if col != g.share_column
                                    else "aus den Einheiten", _rank(frame[col], me[col]), n,
                                    str(tm["label"]), fmt_date(tm["date"]),
                                    bool(tm["estimated"]), level))
        if tm["estimated"]:
            notes.append(f"Schätzung: {tm['label']}"
                         + (f" – {str(tm['method']).rstrip('.')}" if tm["method"] else "")
                         + ".")
        sources.append(_source_line(tm))
    if "hotspots" in results.available(cat):
        hs = results.compute(cat, "hotspots")
        me = hs[hs["stadtteil_nr"] == nr]
        if not me.empty:
            q = me["gi_q"].iloc[0]
            figures.append(Kennzahl("klasse", "Hotspot-Analyse (Gi*)",
                                    None, f"{me['klasse'].iloc[0]}"
                                    + (f" (q = {fmt_number(q, 3)})" if pd.notna(q) else ""),
                                    source=str(results.meta(cat, "hotspots")["label"]),
                                    estimated=bool(results.meta(cat, "hotspots")["estimated"])))
    named_label, named = _named_units(cat, code)
    mine = [x for x in named if x.split(" (")[0] == row["stadtteil"]]
    if named_label:
        notes.append(f"{named_label}: " + (mine[0] if mine else f"nicht genannt ({blabel})"))
    grouped = _group_units(cat)
    population = city_population = None
    if grouped is not None:
        g, frame = grouped
        me = frame[frame["stadtteil_nr"] == nr]
        population = float(me[g.total].iloc[0]) if len(me) else None
        city_population = float(frame[g.total].sum())
    facilities = _facilities(cat, "stadtteil", row["stadtteil"], population, city_population)
    for layer in (cat.unit.layer, "kitas", "schulen"):
        if layer in cat.names():
            s = cat.schema(layer)
            sources.append(_source_line({"label": s.label, "source": s.source,
                                         "licence": s.licence, "date": s.date}))
    dates = sorted({f.date for f in figures if f.date})
    subtitle = (f"{blabel} · Steckbrief · Integrationsatlas {cat.city}"
                + (f" · Stand {', '.join(dates)}" if dates else ""))
    return Profile("einheit", nr, str(row["stadtteil"]), subtitle, figures, "", [], None,
                   facilities, notes, list(dict.fromkeys(sources)), bezirk=code,
                   unit_name=str(row["stadtteil"]))


def profile_text(profile: Profile) -> str:
    """The profile as plain text (the lines of section 3.1.1: figure, value, city)."""
    lines = [profile.title, profile.subtitle]
    for f in profile.figures:
        extra = f" | Stadt {f.city_text}" if f.city_text != "–" else ""
        lines.append(f"{f.label}\t{f.text}{extra}")
    if profile.kind == "bezirk":
        lines.append(f"{profile.named_label or 'Genannte Einheiten'}: "
                     + (", ".join(profile.named) if profile.named else "./."))
    return "\n".join(lines)


# ------------------------------------------------------------------------------ drawing
def _ink(fig: Any, x: float, y: float, text: str, **kw: Any) -> Any:
    return fig.text(x, y, text, **{"fontsize": 7, "va": "top", "ha": "left", **kw})


def _figure_table(fig: Any, profile: Profile, top: float, *, level: str) -> float:
    """Draw the key figures as rows; return the y below the table."""
    x = (0.06, 0.38, 0.52, 0.63) if profile.kind == "einheit" else (0.06, 0.40, 0.53, 0.66)
    short = profile.unit_name if profile.kind == "einheit" else level
    heads = (("Kennzahl", short, level, "Stadt") if profile.kind == "einheit"
             else ("Kennzahl", short, "Stadt", "Rang"))
    for xi, head in zip(x, heads, strict=True):
        _ink(fig, xi, top, head, fontweight="bold", fontsize=7.5)
    y = top - 0.02
    for f in profile.figures:
        label = "\n".join(textwrap.wrap(f.label + (" (Schätzung)" if f.estimated else ""),
                                        48 if profile.kind == "bezirk" else 44))
        n_lines = label.count("\n") + 1
        _ink(fig, x[0], y, label)
        _ink(fig, x[1], y, f.text, fontweight="bold")
        if profile.kind == "einheit":
            _ink(fig, x[2], y, f.level_text or "–")
            _ink(fig, x[3], y, f.city_text)
        else:
            _ink(fig, x[2], y, f.city_text)
            if f.rank is not None and f.of > 1:
                _ink(fig, x[3], y, f"{f.rank} von {f.of}")
        y -= 0.0135 * n_lines + 0.004
    return y


def _locator(ax: Any, cat: Catalog, profile: Profile) -> None:
    from matplotlib.patches import Rectangle

    ax.set_axis_off()
    st = cat.load(cat.unit.layer)
    st.plot(ax=ax, color="#f0f0f0", edgecolor="#bbbbbb", linewidth=0.2)
    if profile.kind == "bezirk":
        mine = st[st["bezirk"] == profile.bezirk]
    else:
        mine = st[st["stadtteil_nr"] == profile.code]
    mine.plot(ax=ax, color="#b10026", edgecolor="#b10026", linewidth=0.3)
    if _BEZIRK_LAYER in cat.names():
        cat.load(_BEZIRK_LAYER).boundary.plot(ax=ax, color="#1f3b73", linewidth=0.5)
    b = st.total_bounds
    ax.set_xlim(b[0], b[2])
    ax.set_ylim(b[1], b[3])
    ax.set_aspect("equal", adjustable="box")
    ax.add_patch(Rectangle((0, 0), 1, 1, transform=ax.transAxes, fill=False,
                           edgecolor="#999999", linewidth=0.4))
    ax.set_title("Lage in der Stadt", fontsize=7, loc="left")


def _thematic(fig: Any, rect: Sequence[float], legend_rect: Sequence[float], cat: Catalog,
              profile: Profile, page_mm: tuple[float, float]) -> list[str]:
    """The Bezirk (or unit) map: units by the group's share, Kitas, schools, sites."""
    from .styles import style_for

    ax = fig.add_axes(rect)
    ax.set_axis_off()
    st = cat.load(cat.unit.layer)
    area = st[st["bezirk"] == profile.bezirk]
    drawn_sources: list[str] = []
    layers: list[karte.MapLayer] = []
    grouped = _group_units(cat)
    if grouped is not None:
        g, frame = grouped
        style = style_for("gruppe_anteil", frame, results.style_context(cat))
        sub = frame[frame["bezirk"] == profile.bezirk]
        layers.append(karte.MapLayer("gruppe", sub, f"Anteil {g.label}", style, {}))
    for name in ("kitas", "schulen", "standorte"):
        frame = _points(cat, name)
        if frame is None or "bezirk" not in frame:
            continue
        sub = frame[frame["bezirk"] == profile.bezirk]
        if sub.empty:
            continue
        label = cat.schema(name).label if name in cat.names() else \
            str(results.meta(cat, name)["label"])
        style = style_for(name, frame, results.style_context(cat))
        layers.append(karte.MapLayer(name, sub, label, style, {}))
    for i, layer in enumerate(layers):
        karte.draw_layer(ax, layer, zorder=2 + 3 * i, scale=0.8,
                         labels=False)
    karte.draw_context(ax, cat, bezirk=profile.bezirk, zorder=20, scale=0.8,
                       unit_labels=True)
    if profile.kind == "einheit":
        mine = st[st["stadtteil_nr"] == profile.code]
        mine.boundary.plot(ax=ax, color="#000000", linewidth=1.6, zorder=30)
    w_mm, h_mm = page_mm
    karte.fit_extent(ax, area.total_bounds, width_mm=w_mm * rect[2],
                     height_mm=h_mm * rect[3])
    karte.scale_bar(ax, width_mm=w_mm * rect[2], scale=0.9)
    karte.north_arrow(ax, scale=0.9)
    lax = fig.add_axes(legend_rect)
    lax.set_axis_off()
    from matplotlib.patches import Rectangle

    handles, texts, heads = [], [], []
    for layer in layers:
        title, entries = karte.legend_entries(layer)
        if handles:
            handles.append(Rectangle((0, 0), 0, 0, visible=False))
            texts.append(" ")
        for line in textwrap.wrap(title, 42):
            heads.append(len(texts))
            handles.append(Rectangle((0, 0), 0, 0, visible=False))
            texts.append(line)
        for h, lbl in entries:
            handles.append(h)
            texts.append(lbl)
        drawn_sources.append(layer.label)
    if handles:
        leg = lax.legend(handles, texts, loc="upper left", frameon=False, fontsize=6,
                         handlelength=1.4, borderaxespad=0, labelspacing=0.35)
        for i in heads:
            leg.get_texts()[i].set_fontweight("bold")
    return drawn_sources


def _comparison(ax: Any, cat: Catalog, profile: Profile) -> None:
    """Bars of the first group's share: each Bezirk (or each unit of the Bezirk) vs city."""
    g = cat.group() if cat.pack.groups else None
    if g is None:
        ax.set_axis_off()
        return
    if profile.kind == "bezirk":
        try:
            vals = results.bezirk_values(cat)
        except GISPlanningError:
            ax.set_axis_off()
            return
        labels = cat.bezirk_labels()
        names = [labels.get(b, str(b)).removeprefix("Bezirk ") for b in vals["bezirk"]]
        values = vals[g.share_column].to_numpy(float)
        mine = (vals["bezirk"] == profile.bezirk).to_numpy()
        what = "je Bezirk"
        city = (100.0 * vals[g.count].sum() / vals[g.total].sum()
                if g.count and g.total and g.count in vals else None)
    else:
        grouped = _group_units(cat)
        if grouped is None:
            ax.set_axis_off()
            return
        gg, frame = grouped
        g = gg
        sub = frame[frame["bezirk"] == profile.bezirk].sort_values(g.share_column)
        names = sub["stadtteil"].astype(str).tolist()
        values = sub[g.share_column].to_numpy(float)
        mine = (sub["stadtteil_nr"] == profile.code).to_numpy()
        what = f"je {cat.unit.label} im Bezirk"
        city = 100.0 * frame[g.count].sum() / frame[g.total].sum()
    colours = np.where(mine, "#b10026", "#bdbdbd")
    y = np.arange(len(values))
    ax.barh(y, np.nan_to_num(values), color=colours, height=0.7)
    ax.set_yticks(y, names, fontsize=5.5)
    ax.tick_params(axis="x", labelsize=5.5)
    if city is not None and np.isfinite(city):
        ax.axvline(city, color="#1f3b73", linewidth=0.8, linestyle="--")
        ax.text(city, -0.9, f" Stadt {fmt_percent(city, 1)}", fontsize=5.5,
                color="#1f3b73", va="top")
    ax.set_title(f"Anteil {g.label} {what} (%)", fontsize=7, loc="left")
    ax.xaxis.set_major_formatter(
        __import__("matplotlib.ticker", fromlist=["FuncFormatter"]).FuncFormatter(
            lambda v, _: fmt_number(v, 0)))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _page(cat: Catalog, profile: Profile, today: _dt.date) -> Any:
    fig = karte.new_figure("A4", portrait=True)
    page_mm = (210.0, 297.0)
    _ink(fig, 0.06, 0.965, profile.title, fontsize=17, fontweight="bold")
    _ink(fig, 0.06, 0.935, profile.subtitle, fontsize=8, color="#444444")
    level = cat.bezirk_labels().get(profile.bezirk, "Bezirk")
    y = _figure_table(fig, profile, 0.905, level=str(level))
    if profile.kind == "bezirk":
        text = (f"{profile.named_label or 'Genannte ' + cat.unit.label_plural}: "
                + (", ".join(profile.named) if profile.named else "./."))
        _ink(fig, 0.06, y - 0.004, "\n".join(textwrap.wrap(text, 105)), fontsize=7)
        y -= 0.012 * (text.count("\n") + 1 + len(text) // 105) + 0.01
    loc = fig.add_axes((0.76, 0.80, 0.20, 0.13))
    _locator(loc, cat, profile)
    map_top = min(y - 0.01, 0.74)
    map_rect = (0.06, 0.33, 0.58, map_top - 0.33)
    _thematic(fig, map_rect, (0.66, 0.33, 0.32, map_top - 0.33), cat, profile, page_mm)
    cax = fig.add_axes((0.12, 0.135, 0.36, 0.15))
    _comparison(cax, cat, profile)
    x0 = 0.56
    _ink(fig, x0, 0.29, "Einrichtungen", fontweight="bold", fontsize=7.5)
    _ink(fig, x0 + 0.25, 0.29, "hier", fontweight="bold", fontsize=7)
    _ink(fig, x0 + 0.36, 0.29, "Stadt", fontweight="bold", fontsize=7)
    yy = 0.272
    for what, here, city in profile.facilities:
        _ink(fig, x0, yy, "\n".join(textwrap.wrap(what, 30)), fontsize=6.3)
        _ink(fig, x0 + 0.25, yy, "\n".join(textwrap.wrap(here, 14)), fontsize=6.3)
        _ink(fig, x0 + 0.36, yy, "\n".join(textwrap.wrap(city, 14)), fontsize=6.3)
        yy -= 0.011 * max(1, len(textwrap.wrap(here, 14)), len(textwrap.wrap(what, 30)),
                          len(textwrap.wrap(city, 14))) + 0.004
    notes = list(profile.notes)
    made = today.strftime("%d.%m.%Y")
    foot = [*(f"Hinweis: {n}" for n in notes),
            "Quellen: " + " | ".join(profile.sources),
            f"Steckbrief: gis_planning {__version__}, erstellt am {made}; Karten ohne "
            f"Hintergrundkarte, {cat.crs}."]
    wrapped = "\n".join("\n".join(textwrap.wrap(t, 150)) for t in foot)
    _ink(fig, 0.06, 0.105, wrapped, fontsize=5.2, color="#333333")
    return fig


def write_profiles(
    cat: Catalog,
    profiles: Sequence[Profile],
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    today: _dt.date | None = None,
) -> Path:
    """Draw ``profiles`` into one PDF, one A4 page each (vector, fonts embedded).

    Parameters
    ----------
    cat
        The catalogue the profiles come from.
    profiles
        From :func:`bezirk_profile` / :func:`stadtteil_profile`.
    path
        Output ``.pdf`` (or ``.png`` for a single profile); replaced only with
        ``overwrite``.
    today
        The date printed as the profile's date (default: today).

    Returns
    -------
    pathlib.Path
    """
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    if not profiles:
        raise InputError("kein Steckbrief: nennen Sie --bezirk, --stadtteil oder --alle.")
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".pdf", ".png"):
        raise InputError(f"{str(target)!r}: ein Steckbrief endet auf .pdf (oder .png für "
                         f"einen einzelnen).")
    if suffix == ".png" and len(profiles) > 1:
        raise InputError("mehrere Steckbriefe passen nur in eine PDF-Datei (.pdf).")
    day = today or _dt.date.today()
    with matplotlib.rc_context({"pdf.fonttype": 42, "font.family": "DejaVu Sans"}), \
            atomic_path(target, overwrite=overwrite, inputs=cat.inputs()) as tmp:
        if suffix == ".png":
            _page(cat, profiles[0], day).savefig(tmp, format="png", dpi=150)
        else:
            meta = {"Title": f"Steckbriefe {cat.city}", "Creator": f"gis_planning {__version__}"}
            with PdfPages(tmp, metadata=meta) as pdf:
                for profile in profiles:
                    pdf.savefig(_page(cat, profile, day))
    log.info("Steckbriefe geschrieben: %s (%d Seiten)", target, len(profiles))
    return target
