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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import results
from .._errors import LayerError
from ..data.catalog import Catalog, LayerSchema, default_catalog
from ..data.pack import NOT_GIVEN
from ..data.synthetic import SYNTHETIC_NOTE
from ..labels import NumberFormat, column_label, fmt_date, fmt_int, fmt_number, fmt_percent
from ..privacy import DEFAULT_K
from .styles import LayerStyle, style_for
from .webmap import Atlas

__all__ = ["SECTIONS", "add_styled", "build_atlas"]

log = logging.getLogger(__name__)

Section = Callable[[Atlas, Catalog], None]
Tooltip = Mapping[str, Callable[[object], str] | None]


def _source(atlas: Atlas, schema: LayerSchema) -> None:
    atlas.add_source(schema.label, f"{schema.source}; {schema.licence}")


_km2 = NumberFormat(2, "km²")
_q = NumberFormat(3)
_three = NumberFormat(3)


def _given(value: object) -> str:
    text = "" if value is None else str(value)
    return "" if text in ("", NOT_GIVEN) else text


def _meta(*, basis: str = "", date: object = None, source: str = "",
          licence: str = "") -> dict[str, str]:
    """The lines under a tooltip: Bezugsraum, Stand, Quelle (missing ones left out)."""
    src = "; ".join(t for t in (_given(source), _given(licence)) if t)
    return {k: v for k, v in (("Bezugsraum", basis), ("Stand", fmt_date(_given(date))),
                              ("Quelle", src)) if v}


def _schema_meta(schema: LayerSchema, basis: str = "") -> dict[str, str]:
    return _meta(basis=basis, date=schema.date, source=schema.source, licence=schema.licence)


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
    **extra: Any,
) -> None:
    """Draw ``frame`` with ``style`` (polygons or points) on ``atlas``.

    ``extra`` goes to :meth:`Atlas.add_polygons` / :meth:`Atlas.add_points` (``attributes``,
    ``meta``, ``search_kind``, …).
    """
    geom_types = set(frame.geom_type.dropna())
    if geom_types <= {"Point", "MultiPoint"}:
        styles = {c.value: (c.color, c.symbol or "•") for c in style.categories}
        labels = {c.value: c.label for c in style.categories}
        shown = frame.copy()
        if style.column is not None:
            shown["_kategorie"] = shown[style.column].map(labels).fillna("sonstige")
        for key in ("search_aliases", "key", "unit_layer", "row_note", "legend_note",
                    "thematic"):
            extra.pop(key, None)
        atlas.add_points(
            shown, name=name, group=group, tooltip=tooltip,
            category="_kategorie" if style.column is not None else None,
            styles={labels[k]: v for k, v in styles.items()},
            default_style=((style.fill or "#555555"), "•"),
            show=show, legend_title=style.legend_title or name, note=note,
            search_field=search_field, **extra,
        )
        return
    atlas.add_polygons(
        frame, name=name, group=group, tooltip=tooltip, note=note, color=style.stroke,
        weight=style.stroke_width, fill_color=style.fill, fill_opacity=style.fill_opacity,
        dash_array=style.dash, show=show, classification=style.classification,
        legend_title=style.legend_title or name, search_field=search_field, **extra,
    )


def _ctx(cat: Catalog):
    return results.style_context(cat)


def _has_group(cat: Catalog) -> bool:
    return bool(cat.pack.groups) and cat.group().name in cat.unit_groups()


def _bezirk_of(cat: Catalog) -> Callable[[object], str]:
    labels = cat.bezirk_labels()
    return lambda b: labels.get(b, str(b))


def _with_bezirk_label(cat: Catalog, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if "bezirk" in frame and "bezirk_label" not in frame:
        frame = frame.copy()
        frame["bezirk_label"] = frame["bezirk"].map(_bezirk_of(cat))
    return frame


def _named_units(cat: Catalog) -> list[str]:
    """Units named in the pack's city-level tables (e.g. a council paper's list), in order."""
    names: list[str] = []
    for table in cat.table_names():
        try:
            if cat.table_meta(table)["unit"] is not None:
                continue
            frame = cat.table(table)
        except (LayerError, KeyError, ValueError, OSError):
            continue
        if "stadtteil" in frame:
            names += [v for v in frame["stadtteil"].dropna().astype(str) if v not in names]
    return names


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
    st = _with_bezirk_label(cat, st)
    tooltip = {"stadtteil": None, "bezirk_label": None, g.share_column: fmt_percent}
    tooltip.update({c: fmt_int for c in (g.count, g.total) if c and c in st})
    add_styled(
        atlas, st, style_for("gruppe_bezirk", st, _ctx(cat)),
        name=f"Anteil {g.label} (Bezirkswert)", group="Analyse", tooltip=tooltip,
        note=f"Bezirkswert: gilt für den ganzen Bezirk, nicht für den {cat.unit.label}.",
        meta={"Bezugsraum": cat.pack.bezirk_label,
              "Quelle": str(stat.attrs.get("quelle", ""))},
    )
    atlas.add_source(f"{g.label} je Bezirk", stat.attrs.get("quelle", ""))


def section_gruppe(atlas: Atlas, cat: Catalog) -> None:
    """The first group's share per unit (estimated values are said to be estimates)."""
    if not _has_group(cat):
        return
    g = cat.group()
    tm = cat.table_meta(g.table)
    frame = _with_bezirk_label(cat, cat.group_frame(g.name))
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
        attributes={"bezirk_label": None},
        meta=_meta(basis=cat.unit.label, date=tm["date"], source=tm["source"]),
        row_note="hinweis" if "hinweis" in frame else None,
    )
    method = f" Methode: {tm['method']}" if tm["method"] else ""
    atlas.add_source(tm["label"], f"{tm['source']}, Stand {fmt_date(tm['date'])}.{method}")


def section_hotspots(atlas: Atlas, cat: Catalog) -> None:
    """Gi* hotspots and local Moran clusters with a q-value per unit."""
    tm = cat.table_meta(cat.group().table) if cat.pack.groups else None
    for name, stat, q in (("hotspots", "gi_z", "gi_q"), ("lisa", "lisa_i", "lisa_q")):
        if name not in results.available(cat):
            continue
        info = results.meta(cat, name)
        frame = _with_bezirk_label(cat, results.compute(cat, name))
        frame["rate_prozent"] = frame["value"] * 100
        meta = _meta(basis=cat.unit.label, date=info["date"],
                     source=f"{info['source']}; Daten: {tm['label']}" if tm else
                     str(info["source"]))
        add_styled(
            atlas, frame, style_for(name, frame, _ctx(cat)), name=str(info["label"]),
            group="Analyse", show=False,
            tooltip={"stadtteil": None, "klasse": None, "rate_prozent": fmt_percent,
                     stat: NumberFormat(2), q: _q, "n_neighbours": None},
            note=frame["hinweis"].iloc[0] if "hinweis" in frame else None,
            attributes={"bezirk_label": None}, meta=meta,
        )
        atlas.add_source(str(info["label"]), str(info["method"]))


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
    def interval(lo: object, hi: object) -> str:
        if pd.isna(lo) or pd.isna(hi):
            return "–"  # D below its random value: no interval can be given (see the note)
        return f"{fmt_number(lo, 3)}–{fmt_number(hi, 3)}"

    table["d_intervall"] = [interval(lo, hi) for lo, hi in
                            zip(table["dissimilarity_ci_low"], table["dissimilarity_ci_high"],
                                strict=True)]
    cols = {"gebiet": None, "dissimilarity": _three, "dissimilarity_random": _three,
            "d_intervall": None, "isolation": _three, "exposure": _three, "theil_h": _three}
    atlas.add_table(
        f"Segregationsindizes ({cat.group().label})", table,
        {c: f for c, f in cols.items() if c in table},
        note=f"{table['hinweis'].iloc[0]}; D zufällig = erwartetes D, wenn jede Person "
        "zufällig verteilt wäre (kleine Einheiten haben auch dann D > 0). 95-%-Intervall für "
        "D verzerrungskorrigiert durch Testinversion (Überdeckung per Simulation geprüft); "
        "„–“: D liegt unter dem Zufallswert, ein Intervall lässt sich dann nicht angeben.",
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
        bz = _with_bezirk_label(cat, cat.load("stadtbezirke"))
        schema = cat.schema("stadtbezirke")
        fields = {c: None for c in ("bezirk_label", "bezirk_name") if c in bz}
        add_styled(atlas, bz, style_for("stadtbezirke", bz, ctx), name=schema.label,
                   tooltip={**fields, "flaeche_km2": _km2}, search_field="bezirk_label",
                   search_kind=cat.pack.bezirk_label,
                   search_aliases=["bezirk_name"] if "bezirk_name" in bz else [],
                   key="bezirk", meta=_schema_meta(schema))
        _source(atlas, schema)
    st = cat.load(cat.unit.layer)
    schema = cat.schema(cat.unit.layer)
    add_styled(
        atlas, st, style_for("stadtteile", st, ctx), name=schema.label,
        tooltip={"stadtteil": None, "stadtteil_nr": None, "bezirk": _bezirk_of(cat),
                 "flaeche_km2": _km2},
        search_field="stadtteil", search_kind=cat.unit.label, key="stadtteil_nr",
        unit_layer=True, meta=_schema_meta(schema),
    )
    atlas.add_labels(st, "stadtteil", name=f"{cat.unit.label}-Namen",
                     priority=_named_units(cat))
    _source(atlas, schema)


def section_jobcenter(atlas: Atlas, cat: Catalog) -> None:
    """JobCenter areas (named on the map and in the legend), and the per-unit assignment
    audit where the pack has one."""
    if "jobcenter" not in cat.names():
        return
    jc = cat.load("jobcenter")
    schema = cat.schema("jobcenter")
    fields = {c: None for c in ("jobcenter", "stadtteile", "n_stadtteile", "n_teilweise")
              if c in jc}
    names = sorted(jc["jobcenter"].dropna().astype(str)) if "jobcenter" in jc else []
    fg = atlas.add_polygons(
        jc, name=schema.label, show=False, tooltip=fields, note=schema.description or None,
        **_style_kwargs(style_for("jobcenter", jc, _ctx(cat))),
        search_field="jobcenter" if names else None, search_kind=column_label("jobcenter"),
        meta=_schema_meta(schema),
        legend_note=f"{len(names)} Bereiche: {', '.join(names)}" if names else None,
    )
    if names:
        atlas.add_labels(jc, "jobcenter", name=f"{schema.label} (Namen)", layer=fg,
                         css_class="gp-label gp-label-area")
    _source(atlas, schema)
    if "jobcenter_zuordnung" in cat.table_names():
        zu = _with_bezirk_label(cat, cat.unit_table("jobcenter_zuordnung"))
        tm = cat.table_meta("jobcenter_zuordnung")
        add_styled(
            atlas, zu, style_for("jobcenter_zuordnung", zu, _ctx(cat)),
            name=f"{tm['label']} (Prüfbericht)", show=False,
            tooltip={"stadtteil": None, "jobcenter": None, "status_label": None},
            note=tm["description"] or None, attributes={"bezirk_label": None},
            meta=_meta(basis=cat.unit.label, date=tm["date"], source=tm["source"]),
        )


def _style_kwargs(style: LayerStyle) -> dict[str, Any]:
    return {"color": style.stroke, "weight": style.stroke_width, "fill_color": style.fill,
            "fill_opacity": style.fill_opacity, "dash_array": style.dash,
            "classification": style.classification,
            "legend_title": style.legend_title or None}


def _address(frame: pd.DataFrame, city: str) -> pd.Series | None:
    """"Straße Nr., PLZ Stadt" from the columns a facility layer has (``None``: no street)."""
    if "strasse" not in frame:
        return None

    def text(v: object) -> str:
        return "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v).strip()

    out = []
    for _, row in frame.iterrows():
        street = " ".join(t for t in (text(row.get("strasse")), text(row.get("hausnummer")))
                          if t)
        place = " ".join(t for t in (text(row.get("plz")), city if text(row.get("plz")) else "")
                         if t)
        out.append(", ".join(t for t in (street, place) if t) or None)
    return pd.Series(out, index=frame.index, dtype=object)


#: What one feature of a facility layer is called in the search box.
_SINGULAR = {"kitas": "Kita", "schulen": "Schule", "begegnungsorte": "Begegnungsort"}


def section_einrichtungen(atlas: Atlas, cat: Catalog) -> None:
    """Kitas and schools as clustered markers with symbols by type; popups with address,
    status, Träger or Schulform and source."""
    for name in ("kitas", "schulen"):
        if name not in cat.names() or cat.schema(name).confidential:
            continue
        schema = cat.schema(name)
        frame = _with_bezirk_label(cat, cat.load(name))
        style = style_for(name, frame, _ctx(cat))
        address = _address(frame, cat.city)
        if address is not None:
            frame["adresse"] = address
        if style.column == "in_betrieb" and "in_betrieb" in frame:
            frame["betriebsstatus"] = frame["in_betrieb"].map(
                {c.value: c.label for c in style.categories})
        order = ("name", "adresse", "betriebsstatus", "schulform", "schulstufe", "traeger",
                 "betreuung", "stadtteil", "bezirk_label")
        fields = {c: None for c in order if c in frame}
        attributes = {c: None for c in ("in_betrieb", "plz") if c in frame}
        add_styled(atlas, frame, style, name=schema.label, tooltip=fields, show=False,
                   attributes=attributes, meta=_schema_meta(schema),
                   search_field="name" if "name" in frame else None,
                   search_kind=_SINGULAR.get(name, schema.label))
        _source(atlas, schema)


def section_vertraulich(atlas: Atlas, cat: Catalog) -> None:
    """Confidential point layers (project flats, and any the pack marks) only as counts per
    unit with suppression, never as points."""
    for name in cat.names():
        schema = cat.schema(name)
        if not schema.confidential or schema.geometry_type != "Point":
            continue
        counts = _with_bezirk_label(cat, cat.load(name))  # released: counts per unit
        counts["anzahl_wert"] = counts["anzahl"].astype("float")
        base = "Projektwohnungen" if name == "projektwohnungen" else schema.label
        label = f"{base} je {cat.unit.label}"
        if schema.synthetic:
            label += f" ({SYNTHETIC_NOTE})"
            atlas.add_notice(f"{base}: {SYNTHETIC_NOTE} – keine echten Standorte.")
        style = style_for("projektwohnungen_anzahl", counts, _ctx(cat))
        if name != "projektwohnungen":
            style = replace(style, legend_title=f"{label}; vertraulich")
        add_styled(
            atlas, counts, style, name=label, group="Analyse", show=False,
            tooltip={"stadtteil": None, "anzahl_text": None},
            note=SYNTHETIC_NOTE if schema.synthetic else
            f"vertraulich: nur Anzahlen je {cat.unit.label}, unter {DEFAULT_K} unterdrückt",
            attributes={"anzahl_wert": fmt_int, "bezirk_label": None},
            meta=_schema_meta(schema, basis=cat.unit.label),
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
    meta = _meta(basis="Radius 800 m", date=info["date"], source=str(info["source"]))
    add_styled(
        atlas, areas, style_for("einzugsbereiche", areas, ctx),
        name="Einzugsbereiche der Begegnungsräume (800 m)", group="Planung", show=False,
        tooltip={"name": None, "stadtteil": None, "allocated_weight": fmt_int}, meta=meta,
        note=("Nachfrage geschätzt" if info["estimated"] else None),
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
        meta=meta, search_field="name" if "name" in sites else None,
        search_kind="Begegnungsraum (Vorschlag)",
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


def section_zensus(atlas: Atlas, cat: Catalog) -> None:
    """Census grid cells as image overlays: a group's share per cell and the grid hotspots.

    Real cell values, one image per surface (not one vector per cell), in a group named
    after the cell layer (e.g. "Zensus 2011 (100-m-Gitter)"); the unit sums of the same
    cells are drawn by :func:`section_zellen_tabellen`.
    """
    from . import raster
    from .imagery import surface_image
    from .styles import GI_CATEGORIES, classify

    layers = [n for n in cat.names() if cat.kind(n) == "zellen"]
    if not layers:
        return
    layer = layers[0]
    schema = cat.schema(layer)
    group_name = schema.label
    source = f"{schema.source}; Lizenz: {schema.licence}; Stand {fmt_date(schema.date)}"
    share = raster.catalog_surface(cat, "nichtdeutsche_anteil", cells_layer=layer)
    values = share.data[0][np.isfinite(share.data[0])]
    cls = classify(pd.Series(values, name="anteil"), scheme="Quantiles", k=5, unit="%")
    uri, bounds = surface_image(share, band=0, classification=cls)
    title = share.bands[0].replace(" (%)", "") + " je 100-m-Zelle"
    atlas.add_image(
        uri, bounds, name=title, group=group_name, legend_title=f"{title} (Quantile)",
        legend_items=list(zip(cls.colors, cls.labels, strict=True)),
        note="echte Zellwerte (leicht verändert durch die Geheimhaltung); leere Zellen: "
             "unbewohnt",
    )
    atlas.add_source(title, source)
    hot = raster.catalog_surface(cat, "gitter_hotspots", cell_size=250, cells_layer=layer)
    colors = {1.0: GI_CATEGORIES[0].color, -1.0: GI_CATEGORIES[1].color,
              0.0: GI_CATEGORIES[2].color}
    uri, bounds = surface_image(hot, band=1, categories=colors)
    hot_title = "Hotspots Gi* der 250-m-Zellen"
    atlas.add_image(
        uri, bounds, name=hot_title, group=group_name, legend_title=hot_title,
        legend_items=[(GI_CATEGORIES[0].color, GI_CATEGORIES[0].label),
                      (GI_CATEGORIES[1].color, GI_CATEGORIES[1].label),
                      (GI_CATEGORIES[2].color, GI_CATEGORIES[2].label)],
        note=str(hot.tags.get("method", ""))[:300] or None,
    )
    atlas.add_source(hot_title, f"{hot.tags.get('method', '')} {source}".strip())


#: German titles of the sections (notices when one cannot be drawn).
SECTION_TITLES = {
    "section_bezirk_werte": "Bezirkswerte", "section_gruppe": "Anteile je Einheit",
    "section_zellen_tabellen": "Zensus-Tabellen", "section_vergleiche": "Vergleiche",
    "section_hotspots": "Hotspots", "section_index_table": "Segregationsindizes",
    "section_grundlagen": "Grundlagen", "section_jobcenter": "JobCenter-Bereiche",
    "section_vertraulich": "Vertrauliche Ebenen", "section_zensus": "Zensus-Gitter",
    "section_einrichtungen": "Kitas und Schulen",
    "section_begegnungsraeume": "Begegnungsräume",
}

#: The atlas sections, in drawing order. Later issues append theirs.
SECTIONS: list[Section] = [
    section_bezirk_werte,
    section_gruppe,
    section_zellen_tabellen,
    section_zensus,
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
    progress: Callable[..., Iterable] | None = None,
) -> Atlas:
    """Build the atlas of ``catalog`` (default: the shipped Essen data).

    Every section whose layers the catalogue has draws them, so another city gets the same
    atlas from its own files (at least a ``stadtteile`` layer). Returns the
    :class:`~gis_planning.outputs.webmap.Atlas`; write it with ``atlas.save(path)`` (offline by
    default, ``mode="cdn"`` for a small file) and see ``atlas.size_report()`` for the bytes
    per layer. ``progress``, if given, is called as ``progress(iterable, desc=..., total=...,
    unit=...)`` around the loop over the sections (the CLI passes its progress bar).

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
        bounds=st, basemap=basemap, search_placeholder=_search_placeholder(cat),
    )
    atlas.column_labels = results.column_labels(cat)
    steps = list(sections or SECTIONS)
    loop = (steps if progress is None else
            progress(steps, desc="Atlas-Abschnitte", total=len(steps), unit="Abschnitt"))
    for section in loop:
        log.info("Atlas-Abschnitt „%s“", SECTION_TITLES.get(section.__name__, section.__name__))
        try:
            section(atlas, cat)
        except Exception as exc:  # fail soft: one section must not cost the whole atlas
            log.debug("Atlas-Abschnitt %s fehlgeschlagen", section.__name__, exc_info=True)
            title = SECTION_TITLES.get(section.__name__, section.__name__)
            reason = " ".join(str(exc).split())[:300] or type(exc).__name__
            atlas.add_notice(f"Abschnitt „{title}“ fehlt: {reason}")
            warnings.warn(f"Atlas: Abschnitt „{title}“ ausgelassen ({reason})", UserWarning,
                          stacklevel=2)
    return atlas


def _search_placeholder(cat: Catalog) -> str:
    """"Suchen: Stadtteil, Stadtbezirk, Kita, Schule …" for the layers the search covers."""
    kinds = [cat.unit.label]
    if "stadtbezirke" in cat.names():
        kinds.append(cat.pack.bezirk_label)
    kinds += [_SINGULAR[n] for n in ("kitas", "schulen") if n in cat.names()
              and not cat.schema(n).confidential]
    return f"Suchen: {', '.join(kinds)} …"


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
