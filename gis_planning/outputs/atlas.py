"""The city atlas: one place that decides what the main map shows.

:func:`build_atlas` runs the functions in :data:`SECTIONS` in order; each takes the
:class:`~gis_planning.outputs.webmap.Atlas` and the :class:`~gis_planning.data.catalog.Catalog` and
adds
its layers. Later analyses add a section function here (or append to ``SECTIONS``), and every
city whose catalogue has the needed layers gets the same atlas. Colours, classes and legend
titles come from :mod:`gis_planning.outputs.styles`, shared with the QGIS styles.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Mapping
from dataclasses import replace

import geopandas as gpd
from tqdm.auto import tqdm

from .. import results
from .._errors import LayerError
from ..data.catalog import Catalog, LayerSchema, default_catalog
from ..data.synthetic import SYNTHETIC_NOTE
from ..labels import fmt_date, fmt_int, fmt_number, fmt_percent
from ..privacy import DEFAULT_K
from .styles import LayerStyle, style_for
from .webmap import Atlas

__all__ = ["SECTIONS", "add_styled", "build_atlas"]

log = logging.getLogger(__name__)

Section = Callable[[Atlas, Catalog], None]
Tooltip = Mapping[str, Callable[[object], str] | None]


def _source(atlas: Atlas, schema: LayerSchema) -> None:
    atlas.add_source(schema.label, f"{schema.source}; {schema.licence}")


def _km2(v: object) -> str:
    return fmt_number(v, 2, unit="km²")


def add_styled(
    atlas: Atlas,
    frame: gpd.GeoDataFrame,
    style: LayerStyle,
    *,
    name: str,
    group: str = "Grundlagen",
    tooltip: Tooltip | None = None,
    note: str | None = None,
    show: bool = True,
    search_field: str | None = None,
) -> None:
    """Draw ``frame`` with ``style`` (polygons or points) on ``atlas``."""
    geom_types = set(frame.geom_type.dropna())
    if geom_types <= {"Point", "MultiPoint"}:
        styles = {c.value: (c.color, c.symbol or "•") for c in style.categories}
        labels = {c.value: c.label for c in style.categories}
        shown = frame.copy()
        if style.column is not None:
            shown["_kategorie"] = shown[style.column].map(labels).fillna("sonstige")
        atlas.add_points(
            shown, name=name, group=group, tooltip=tooltip,
            category="_kategorie" if style.column is not None else None,
            styles={labels[k]: v for k, v in styles.items()},
            show=show, legend_title=style.legend_title or name,
        )
        return
    atlas.add_polygons(
        frame, name=name, group=group, tooltip=tooltip, note=note, color=style.stroke,
        weight=style.stroke_width, fill_color=style.fill, fill_opacity=style.fill_opacity,
        dash_array=style.dash, show=show, classification=style.classification,
        legend_title=style.legend_title or name, search_field=search_field,
    )


def _ctx(cat: Catalog):
    return results.style_context(cat)


def _has_group(cat: Catalog) -> bool:
    return bool(cat.pack.groups) and cat.group().name in cat.unit_groups()


def _bezirk_of(cat: Catalog) -> Callable[[object], str]:
    labels = cat.bezirk_labels()
    return lambda b: labels.get(b, str(b))


def section_bezirk_werte(atlas: Atlas, cat: Catalog) -> None:
    """Units coloured by their Bezirk's share of the first group (official Bezirk figures)."""
    if not cat.pack.groups or "bezirk" not in cat.load(cat.unit.layer):
        return
    g = cat.group()
    try:
        stat = results.bezirk_values(cat)
    except LayerError:
        return
    cols = [c for c in ("bezirk", g.share_column, g.count, g.total) if c and c in stat]
    st = cat.load(cat.unit.layer).merge(stat[cols], on="bezirk", how="left")
    st["bezirk_label"] = st["bezirk"].map(_bezirk_of(cat))
    tooltip = {"stadtteil": None, "bezirk_label": None, g.share_column: fmt_percent}
    tooltip.update({c: fmt_int for c in (g.count, g.total) if c and c in st})
    add_styled(
        atlas, st, style_for("gruppe_bezirk", st, _ctx(cat)),
        name=f"Anteil {g.label} (Bezirkswert)", group="Analyse", tooltip=tooltip,
        note=f"Bezirkswert: gilt für den ganzen Bezirk, nicht für den {cat.unit.label}.",
    )
    atlas.add_source(f"{g.label} je Bezirk", stat.attrs.get("quelle", ""))


def section_gruppe(atlas: Atlas, cat: Catalog) -> None:
    """The first group's share per unit (estimated values are said to be estimates)."""
    if not _has_group(cat):
        return
    g = cat.group()
    tm = cat.table_meta(g.table)
    frame = cat.group_frame(g.name)
    estimated = bool(tm["estimated"])
    name = f"Anteil {g.label} je {cat.unit.label}" + (" (Schätzung)" if estimated else "")
    tooltip = {"stadtteil": None, g.share_column: fmt_percent, g.count: fmt_int,
               g.total: fmt_int}
    if "label" in frame:
        tooltip["label"] = None
    add_styled(
        atlas, frame, style_for("gruppe_anteil", frame, _ctx(cat)), name=name,
        group="Analyse", show=False, tooltip=tooltip,
        note=("Geschätzte Werte (kleinräumige Schätzung), keine amtliche Statistik."
              if estimated else None),
    )
    method = f" Methode: {tm['method']}" if tm["method"] else ""
    atlas.add_source(tm["label"], f"{tm['source']}, Stand {fmt_date(tm['date'])}.{method}")


def _q(v: object) -> str:
    return fmt_number(v, 3)


def section_hotspots(atlas: Atlas, cat: Catalog) -> None:
    """Gi* hotspots and local Moran clusters with a q-value per unit."""
    for name, stat, q in (("hotspots", "gi_z", "gi_q"), ("lisa", "lisa_i", "lisa_q")):
        if name not in results.available(cat):
            continue
        info = results.meta(cat, name)
        frame = results.compute(cat, name)
        frame["rate_prozent"] = frame["value"] * 100
        add_styled(
            atlas, frame, style_for(name, frame, _ctx(cat)), name=str(info["label"]),
            group="Analyse", show=False,
            tooltip={"stadtteil": None, "klasse": None, "rate_prozent": fmt_percent,
                     stat: lambda v: fmt_number(v, 2), q: _q, "n_neighbours": None},
            note=frame["hinweis"].iloc[0] if "hinweis" in frame else None,
        )
        atlas.add_source(str(info["label"]), str(info["method"]))


def _three(v: object) -> str:
    return fmt_number(v, 3)


def section_index_table(atlas: Atlas, cat: Catalog) -> None:
    """Segregation indices per city and Bezirk as a table box."""
    if "segregation_indizes" not in results.available(cat):
        return
    table = results.compute(cat, "segregation_indizes")
    bezirk = _bezirk_of(cat)
    table["gebiet"] = [
        "Stadt" if lvl == "stadt" else bezirk(sc)
        for sc, lvl in zip(table["scope"], table["level"], strict=True)
    ]
    ci = [f"{fmt_number(lo, 3)}–{fmt_number(hi, 3)}" for lo, hi in
          zip(table["dissimilarity_ci_low"], table["dissimilarity_ci_high"], strict=True)]
    table["d_intervall"] = ci
    atlas.add_table(
        f"Segregationsindizes ({cat.group().label})", table,
        {"gebiet": None, "dissimilarity": _three, "d_intervall": None, "isolation": _three,
         "exposure": _three, "theil_h": _three},
        note=f"{table['hinweis'].iloc[0]}; 95-%-Bootstrap-Intervall für D aus 199 "
        "Neuziehungen der Zählwerte (bei D nahe 0 liegt es wegen der Zufallsstreuung über "
        "dem Punktwert).",
    )


def section_grundlagen(atlas: Atlas, cat: Catalog) -> None:
    """City boundary, Bezirke, the analysis units with search and labels."""
    ctx = _ctx(cat)
    if "stadtgrenze" in cat.names():
        sg = cat.load("stadtgrenze")
        add_styled(atlas, sg, style_for("stadtgrenze", sg, ctx),
                   name=cat.schema("stadtgrenze").label)
        _source(atlas, cat.schema("stadtgrenze"))
    if "stadtbezirke" in cat.names():
        bz = cat.load("stadtbezirke")
        fields = {c: None for c in ("bezirk_roman", "bezirk_name") if c in bz}
        if not fields:
            fields = {"bezirk": None}
        add_styled(atlas, bz, style_for("stadtbezirke", bz, ctx),
                   name=cat.schema("stadtbezirke").label, tooltip={**fields, "flaeche_km2": _km2})
        _source(atlas, cat.schema("stadtbezirke"))
    st = cat.load(cat.unit.layer)
    add_styled(
        atlas, st, style_for("stadtteile", st, ctx), name=cat.schema(cat.unit.layer).label,
        tooltip={"stadtteil": None, "stadtteil_nr": None, "bezirk": _bezirk_of(cat),
                 "flaeche_km2": _km2},
        search_field="stadtteil",
    )
    atlas.add_labels(st, "stadtteil", name=f"{cat.unit.label}-Namen")
    _source(atlas, cat.schema(cat.unit.layer))


def section_jobcenter(atlas: Atlas, cat: Catalog) -> None:
    """JobCenter areas, and the per-unit assignment audit where the pack has one."""
    if "jobcenter" not in cat.names():
        return
    jc = cat.load("jobcenter")
    schema = cat.schema("jobcenter")
    fields = {c: None for c in ("jobcenter", "stadtteile", "n_teilweise") if c in jc}
    add_styled(
        atlas, jc, style_for("jobcenter", jc, _ctx(cat)), name=schema.label, show=False,
        tooltip=fields, note=schema.description or None,
    )
    _source(atlas, schema)
    if "jobcenter_zuordnung" in cat.table_names():
        zu = cat.unit_table("jobcenter_zuordnung")
        tm = cat.table_meta("jobcenter_zuordnung")
        add_styled(
            atlas, zu, style_for("jobcenter_zuordnung", zu, _ctx(cat)),
            name=f"{tm['label']} (Prüfbericht)", show=False,
            tooltip={"stadtteil": None, "jobcenter": None, "status_label": None},
            note=tm["description"] or None,
        )


def section_einrichtungen(atlas: Atlas, cat: Catalog) -> None:
    """Kitas and schools as clustered markers with symbols by type."""
    for name in ("kitas", "schulen"):
        if name not in cat.names() or cat.schema(name).confidential:
            continue
        frame = cat.load(name)
        style = style_for(name, frame, _ctx(cat))
        fields = {c: None for c in ("name", "schulform", "traeger", "stadtteil") if c in frame}
        add_styled(atlas, frame, style, name=cat.schema(name).label, tooltip=fields,
                   show=False)
        _source(atlas, cat.schema(name))


def section_vertraulich(atlas: Atlas, cat: Catalog) -> None:
    """Confidential point layers (project flats, and any the pack marks) only as counts per
    unit with suppression, never as points."""
    for name in cat.names():
        schema = cat.schema(name)
        if not schema.confidential or schema.geometry_type != "Point":
            continue
        counts = cat.load(name)  # the released form: counts per unit, suppressed
        counts["anzahl_wert"] = counts["anzahl"].astype("float")
        base = "Projektwohnungen" if name == "projektwohnungen" else schema.label
        label = f"{base} je {cat.unit.label}"
        if schema.synthetic:
            label += f" ({SYNTHETIC_NOTE})"
            atlas.add_notice(f"{base}: {SYNTHETIC_NOTE} – keine echten Standorte.")
        style = style_for("projektwohnungen_anzahl", counts, _ctx(cat))
        if name != "projektwohnungen":
            style = replace(style, legend_title=f"{label}; vertraulich, < {DEFAULT_K} "
                                                f"unterdrückt (grau)")
        add_styled(
            atlas, counts, style, name=label, group="Analyse", show=False,
            tooltip={"stadtteil": None, "anzahl_text": None},
            note=SYNTHETIC_NOTE if schema.synthetic else
            f"vertraulich: nur Anzahlen je {cat.unit.label}",
        )
        _source(atlas, schema)


def section_begegnungsraeume(atlas: Atlas, cat: Catalog) -> None:
    """Proposed meeting spaces with their catchments and a coverage summary."""
    if "standorte" not in results.available(cat):
        return
    info = results.meta(cat, "standorte")
    sites = results.compute(cat, "standorte")
    areas = results.compute(cat, "einzugsbereiche")
    cover = results.compute(cat, "abdeckung_bezirke")
    cover = cover[cover["bezirk"] != "Stadt"]
    share = float(sites["abdeckung_anteil"].iloc[0])
    bezirk = _bezirk_of(cat)
    est = "geschätzten " if info["estimated"] else ""
    summary = (
        f"{len(sites)} Standorte erreichen {fmt_percent(share * 100)} der {est}"
        f"Nachfrage (Personen: {cat.group().label}) im Radius von 800 m; je Bezirk "
        + ", ".join(f"{bezirk(b)}: {fmt_percent(v * 100, 0)}"
                    for b, v in zip(cover["bezirk"], cover["coverage_share"], strict=True))
    )
    ctx = _ctx(cat)
    add_styled(
        atlas, areas, style_for("einzugsbereiche", areas, ctx),
        name="Einzugsbereiche der Begegnungsräume (800 m)", group="Planung", show=False,
        tooltip={"name": None, "stadtteil": None, "allocated_weight": fmt_int},
    )
    sites = sites.assign(erreicht=sites["allocated_weight"])
    hidden = sites.geometry.isna() | sites.geometry.is_empty
    if hidden.any():
        summary += (f"; {int(hidden.sum())} vertrauliche Standorte sind nur mit ihrem "
                    f"{cat.unit.label} genannt: "
                    + ", ".join(sorted(sites.loc[hidden, "stadtteil"].astype(str))))
        sites = sites[~hidden]
    add_styled(
        atlas, sites, style_for("standorte", sites, ctx), name="Begegnungsräume (Vorschlag)",
        group="Planung", show=False,
        tooltip={"name": None, "art": None, "stadtteil": None, "erreicht": fmt_int},
    )
    atlas.add_source("Begegnungsräume (Vorschlag)", f"{summary}. Methode: {info['method']}")


def section_zellen_tabellen(atlas: Atlas, cat: Catalog) -> None:
    """Unit tables summed from census grid cells (real counts, e.g. Zensus 2011 je Stadtteil)."""
    for name in cat.table_names():
        spec = cat.table_spec(name)
        if not spec.cells or spec.unit != cat.unit.layer:
            continue
        groups = [g for g in cat.pack.groups.values() if g.table == name and g.count]
        if not groups:
            continue
        g = groups[0]
        frame = cat.unit_table(name)
        tm = cat.table_meta(name)
        ctx = results.style_context(cat, g.name)
        tooltip = {"stadtteil": None, g.share_column: fmt_percent, g.count: fmt_int,
                   g.total: fmt_int}
        add_styled(atlas, frame, style_for("gruppe_anteil", frame, ctx),
                   name=f"Anteil {g.label} je {cat.unit.label}", group="Analyse",
                   show=False, tooltip=tooltip, note=tm["description"] or None)
        atlas.add_source(tm["label"], f"{tm['source']}, Stand {fmt_date(tm['date'])}; "
                                      f"Lizenz: {tm['licence']}")


def section_vergleiche(atlas: Atlas, cat: Catalog) -> None:
    """Change of a share between two dates per unit (e.g. 2011 census vs 2016 register)."""
    for name in cat.pack.comparisons:
        info = results.meta(cat, name)
        frame = results.compute(cat, name)
        c = cat.pack.comparisons[name]
        a, b = (f"anteil_{n}_prozent" for n in c.names)
        label = next((x for x in ("bezirk_roman", "bezirk_name", "stadtteil") if x in frame),
                     frame.columns[0])
        add_styled(atlas, frame, style_for("vergleich", frame, _ctx(cat)),
                   name=str(info["label"]), group="Analyse", show=False,
                   tooltip={label: None, a: fmt_percent, b: fmt_percent,
                            "veraenderung_pp": lambda v: fmt_number(v, 1, unit="Pp.")},
                   note=c.note or None)
        atlas.add_source(str(info["label"]), str(info["source"]))


#: German titles of the sections (notices when one cannot be drawn).
SECTION_TITLES = {
    "section_bezirk_werte": "Bezirkswerte", "section_gruppe": "Anteile je Einheit",
    "section_zellen_tabellen": "Zensus-Tabellen", "section_vergleiche": "Vergleiche",
    "section_hotspots": "Hotspots", "section_index_table": "Segregationsindizes",
    "section_grundlagen": "Grundlagen", "section_jobcenter": "JobCenter-Bereiche",
    "section_vertraulich": "Vertrauliche Ebenen", "section_einrichtungen": "Kitas und Schulen",
    "section_begegnungsraeume": "Begegnungsräume",
}

#: The atlas sections, in drawing order. Later issues append theirs.
SECTIONS: list[Section] = [
    section_bezirk_werte,
    section_gruppe,
    section_zellen_tabellen,
    section_vergleiche,
    section_hotspots,
    section_index_table,
    section_grundlagen,
    section_jobcenter,
    section_vertraulich,
    section_einrichtungen,
    section_begegnungsraeume,
]


def build_atlas(
    catalog: Catalog | None = None,
    *,
    sections: list[Section] | None = None,
    basemap: bool = True,
    verbose: bool = False,
) -> Atlas:
    """Build the atlas of ``catalog`` (default: the shipped Essen data).

    Every section whose layers the catalogue has draws them, so another city gets the same
    atlas from its own files (at least a ``stadtteile`` layer). Returns the
    :class:`~gis_planning.outputs.webmap.Atlas`; write it with ``atlas.save(path)`` (offline by
    default, ``mode="cdn"`` for a small file) and see ``atlas.size_report()`` for the bytes
    per layer. ``verbose`` shows a progress bar over the sections (tqdm, on stderr).

    Examples
    --------
    >>> from gis_planning.data.catalog import Catalog
    >>> cat = Catalog.from_paths({"stadtteile": "layers/bochum/stadtteile.gpkg"},
    ...                          city="Bochum")  # doctest: +SKIP
    >>> atlas = build_atlas(cat)  # doctest: +SKIP
    >>> atlas.save("maps/bochum_atlas.html")  # doctest: +SKIP
    """
    from ..data.io import check_city_name

    cat = catalog or default_catalog()
    city = check_city_name(cat.city, source="Katalog ('city')")
    st = cat.load(cat.unit.layer)
    atlas = Atlas(
        title=f"Integrationsatlas {city}",
        subtitle=_subtitle(cat),
        bounds=st, basemap=basemap,
    )
    atlas.column_labels = results.column_labels(cat)
    for section in tqdm(sections or SECTIONS, desc="Atlas", unit="Abschnitt",
                        disable=not verbose, leave=False):
        log.info("Atlas-Abschnitt %s", section.__name__)
        try:
            section(atlas, cat)
        except Exception as exc:  # fail soft: one section must not cost the whole atlas
            log.debug("atlas section %s failed", section.__name__, exc_info=True)
            title = SECTION_TITLES.get(section.__name__, section.__name__)
            reason = " ".join(str(exc).split())[:300] or type(exc).__name__
            atlas.add_notice(f"Abschnitt „{title}“ fehlt: {reason}")
            warnings.warn(f"Atlas: Abschnitt „{title}“ ausgelassen ({reason})", UserWarning,
                          stacklevel=2)
    return atlas


def _subtitle(cat: Catalog) -> str:
    """The layers really present, e.g. "Stadtteile, Stadtbezirke, Kitas und Schulen"."""
    order = [cat.unit.layer, "stadtbezirke", "jobcenter", "kitas", "schulen",
             "begegnungsorte", "projektwohnungen"]
    names = [n for n in order if n in cat.names()]
    labels = [cat.unit.label_plural if n == cat.unit.layer else
              "Projektwohnungen" if n == "projektwohnungen" else cat.schema(n).label
              for n in names]
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " und " + labels[-1]
