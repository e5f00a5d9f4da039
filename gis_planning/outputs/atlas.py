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

import geopandas as gpd
from tqdm.auto import tqdm

from .. import results
from ..data.catalog import Catalog, LayerSchema, default_catalog
from ..data.synthetic import SYNTHETIC_NOTE
from ..labels import fmt_int, fmt_number, fmt_percent
from ..privacy import DEFAULT_K, release
from .styles import LayerStyle, style_for
from .webmap import Atlas

__all__ = ["SECTIONS", "add_styled", "build_atlas"]

log = logging.getLogger(__name__)

Section = Callable[[Atlas, Catalog], None]
Tooltip = Mapping[str, Callable[[object], str] | None]


def _source(atlas: Atlas, schema: LayerSchema) -> None:
    atlas.add_source(schema.label, f"{schema.source}; {schema.licence}")


def _roman(b: object) -> str:
    romans = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")
    try:
        return romans[int(b) - 1]
    except (ValueError, TypeError, IndexError):
        return str(b)


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


def section_bezirk_statistik(atlas: Atlas, cat: Catalog) -> None:
    """Stadtteile coloured by their Bezirk's share of the 12 origin countries (seed, 2016)."""
    if "bezirk_statistik" not in results.available(cat):
        return
    stat = results.compute(cat, "bezirk_statistik")
    st = cat.load("stadtteile").merge(
        stat[["bezirk", "einwohner", "herkunft12_anteil_prozent", "herkunft12_anzahl"]],
        on="bezirk", how="left",
    )
    st["bezirk_label"] = st["bezirk"].map(lambda b: f"Bezirk {_roman(b)}")
    add_styled(
        atlas, st, style_for("bezirk_herkunft12", st),
        name="Anteil 12 Hauptherkunftsländer (Bezirkswert)", group="Analyse",
        tooltip={"stadtteil": None, "bezirk_label": None,
                 "herkunft12_anteil_prozent": fmt_percent, "herkunft12_anzahl": fmt_int,
                 "einwohner": fmt_int},
        note="Bezirkswert: gilt für den ganzen Stadtbezirk, nicht für den Stadtteil.",
    )
    atlas.add_source(
        "Bezirksstatistik",
        "Stadt Essen, FB 12, Stand 30.09.2016, in Vorlage 1846/2016/5 "
        "„Strategiekonzept Integration von Flüchtlingen“ (13.12.2016)",
    )


def section_stadtteil_statistik(atlas: Atlas, cat: Catalog) -> None:
    """Stadtteil estimates (or the user's official table) of the 12-origin share."""
    if "stadtteil_statistik" not in results.available(cat):
        return
    spec = results.RESULTS["stadtteil_statistik"]
    frame = results.compute(cat, "stadtteil_statistik")
    estimated = bool(frame.get("geschaetzt", False).any()) if "geschaetzt" in frame else False
    name = "Anteil 12 Hauptherkunftsländer je Stadtteil" + (" (Schätzung)" if estimated else "")
    add_styled(
        atlas, frame, style_for("stadtteil_statistik", frame), name=name, group="Analyse",
        show=False,
        tooltip={"stadtteil": None, "herkunft12_anteil_prozent": fmt_percent,
                 "herkunft12_anzahl": fmt_int, "einwohner": fmt_int, "label": None},
        note=("Geschätzte Werte (kleinräumige Schätzung), keine amtliche Statistik."
              if estimated else None),
    )
    atlas.add_source(spec.label, f"{spec.source}. Methode: {spec.method}")


def _q(v: object) -> str:
    return fmt_number(v, 3)


def section_hotspots(atlas: Atlas, cat: Catalog) -> None:
    """Gi* hotspots and local Moran clusters with a q-value per Stadtteil."""
    for name, stat, q in (("hotspots", "gi_z", "gi_q"), ("lisa", "lisa_i", "lisa_q")):
        if name not in results.available(cat):
            continue
        spec = results.RESULTS[name]
        frame = results.compute(cat, name)
        frame["rate_prozent"] = frame["value"] * 100
        add_styled(
            atlas, frame, style_for(name, frame), name=spec.label, group="Analyse",
            show=False,
            tooltip={"stadtteil": None, "klasse": None, "rate_prozent": fmt_percent,
                     stat: lambda v: fmt_number(v, 2), q: _q, "n_neighbours": None},
            note=frame["hinweis"].iloc[0] if "hinweis" in frame else None,
        )
        atlas.add_source(spec.label, spec.method)


def _three(v: object) -> str:
    return fmt_number(v, 3)


def section_index_table(atlas: Atlas, cat: Catalog) -> None:
    """Segregation indices per city and Bezirk as a table box."""
    if "segregation_indizes" not in results.available(cat):
        return
    table = results.compute(cat, "segregation_indizes")
    table["gebiet"] = [
        "Stadt" if lvl == "stadt" else f"Bezirk {_roman(sc)}"
        for sc, lvl in zip(table["scope"], table["level"], strict=True)
    ]
    ci = [f"{fmt_number(lo, 3)}–{fmt_number(hi, 3)}" for lo, hi in
          zip(table["dissimilarity_ci_low"], table["dissimilarity_ci_high"], strict=True)]
    table["d_intervall"] = ci
    atlas.add_table(
        "Segregationsindizes (12 Hauptherkunftsländer)", table,
        {"gebiet": None, "dissimilarity": _three, "d_intervall": None, "isolation": _three,
         "exposure": _three, "theil_h": _three},
        note=f"{table['hinweis'].iloc[0]}; 95-%-Bootstrap-Intervall für D aus 199 "
        "Neuziehungen der Zählwerte (bei D nahe 0 liegt es wegen der Zufallsstreuung über "
        "dem Punktwert).",
    )


def section_grundlagen(atlas: Atlas, cat: Catalog) -> None:
    """City boundary, Bezirke, Stadtteile with search and labels."""
    if "stadtgrenze" in cat.names():
        sg = cat.load("stadtgrenze")
        add_styled(atlas, sg, style_for("stadtgrenze", sg), name="Stadtgrenze")
        _source(atlas, cat.schema("stadtgrenze"))
    if "stadtbezirke" in cat.names():
        bz = cat.load("stadtbezirke")
        add_styled(atlas, bz, style_for("stadtbezirke", bz), name="Stadtbezirke",
                   tooltip={"bezirk_roman": None, "bezirk_name": None, "flaeche_km2": _km2})
        _source(atlas, cat.schema("stadtbezirke"))
    st = cat.load("stadtteile")
    add_styled(
        atlas, st, style_for("stadtteile", st), name="Stadtteile",
        tooltip={"stadtteil": None, "stadtteil_nr": None, "bezirk": _roman,
                 "flaeche_km2": _km2},
        search_field="stadtteil",
    )
    atlas.add_labels(st, "stadtteil", name="Stadtteil-Namen")
    _source(atlas, cat.schema("stadtteile"))


def section_jobcenter(atlas: Atlas, cat: Catalog) -> None:
    """JobCenter areas derived from the seed's membership list."""
    if "jobcenter" not in cat.names():
        return
    jc = cat.load("jobcenter")
    add_styled(
        atlas, jc, style_for("jobcenter", jc), name="JobCenter-Bereiche", show=False,
        tooltip={"jobcenter": None, "stadtteile": None, "n_teilweise": None},
        note="Abgeleitet aus der Stadtteil-Liste der Vorlage; „teilw.“-Stadtteile liegen in "
        "mehreren Bereichen, Lücken siehe Prüfbericht.",
    )
    _source(atlas, cat.schema("jobcenter"))
    if "jobcenter_zuordnung" in results.available(cat):
        zu = results.compute(cat, "jobcenter_zuordnung")
        add_styled(
            atlas, zu, style_for("jobcenter_zuordnung", zu),
            name="JobCenter-Zuordnung je Stadtteil (Prüfbericht)", show=False,
            tooltip={"stadtteil": None, "jobcenter": None, "status_label": None},
            note="Offene Punkte der Vorlage werden gezeigt, nicht aufgelöst.",
        )


def section_einrichtungen(atlas: Atlas, cat: Catalog) -> None:
    """Kitas and schools as clustered markers with symbols by type."""
    for name in ("kitas", "schulen"):
        if name not in cat.names():
            continue
        frame = cat.load(name)
        style = style_for(name, frame)
        if style.column not in frame:
            style = LayerStyle(legend_title=style.legend_title)
        fields = {c: None for c in ("name", "schulform", "traeger", "stadtteil")}
        add_styled(atlas, frame, style, name=cat.schema(name).label, tooltip=fields,
                   show=False)
        _source(atlas, cat.schema(name))


def section_projektwohnungen(atlas: Atlas, cat: Catalog) -> None:
    """Project flats only as counts per Stadtteil with suppression, never as points."""
    if "projektwohnungen" not in cat.names():
        return
    schema = cat.schema("projektwohnungen")
    counts = release(cat.load("projektwohnungen"), cat.load("stadtteile"), k=DEFAULT_K)
    counts["anzahl_wert"] = counts["anzahl"].astype("float")
    label = "Projektwohnungen je Stadtteil"
    if schema.synthetic:
        label += f" ({SYNTHETIC_NOTE})"
        atlas.add_notice(f"Projektwohnungen: {SYNTHETIC_NOTE} – keine echten Standorte.")
    add_styled(
        atlas, counts, style_for("projektwohnungen_anzahl", counts), name=label,
        group="Analyse", show=False,
        tooltip={"stadtteil": None, "anzahl_text": None},
        note=SYNTHETIC_NOTE if schema.synthetic else None,
    )
    _source(atlas, schema)


def section_begegnungsraeume(atlas: Atlas, cat: Catalog) -> None:
    """Proposed meeting spaces with their catchments and a coverage summary."""
    if "standorte" not in results.available(cat):
        return
    spec = results.RESULTS["standorte"]
    sites = results.compute(cat, "standorte")
    areas = results.compute(cat, "einzugsbereiche")
    cover = results.compute(cat, "abdeckung_bezirke")
    cover = cover[cover["bezirk"] != "Stadt"]
    share = float(sites["abdeckung_anteil"].iloc[0])
    summary = (
        f"{len(sites)} Standorte erreichen {fmt_percent(share * 100)} der geschätzten "
        f"Nachfrage (Personen aus den 12 Hauptherkunftsländern) im Radius von 800 m; je Bezirk "
        + ", ".join(f"{_roman(b)}: {fmt_percent(v * 100, 0)}"
                    for b, v in zip(cover["bezirk"], cover["coverage_share"], strict=True))
    )
    add_styled(
        atlas, areas, style_for("einzugsbereiche", areas),
        name="Einzugsbereiche der Begegnungsräume (800 m)", group="Planung", show=False,
        tooltip={"name": None, "stadtteil": None, "allocated_weight": fmt_int},
    )
    sites = sites.assign(erreicht=sites["allocated_weight"])
    add_styled(
        atlas, sites, style_for("standorte", sites), name="Begegnungsräume (Vorschlag)",
        group="Planung", show=False,
        tooltip={"name": None, "art": None, "stadtteil": None, "erreicht": fmt_int},
    )
    atlas.add_source("Begegnungsräume (Vorschlag)", f"{summary}. Methode: {spec.method}")


#: The atlas sections, in drawing order. Later issues append theirs.
SECTIONS: list[Section] = [
    section_bezirk_statistik,
    section_stadtteil_statistik,
    section_hotspots,
    section_index_table,
    section_grundlagen,
    section_jobcenter,
    section_projektwohnungen,
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
    st = cat.load("stadtteile")
    atlas = Atlas(
        title=f"Integrationsatlas {city}",
        subtitle="Stadtteile, Bezirke, JobCenter-Bereiche, Kitas und Schulen",
        bounds=st, basemap=basemap,
    )
    titles = {"section_bezirk_statistik": "Bezirksstatistik",
              "section_stadtteil_statistik": "Stadtteilstatistik",
              "section_hotspots": "Hotspots", "section_index_table": "Segregationsindizes",
              "section_grundlagen": "Grundlagen", "section_jobcenter": "JobCenter-Bereiche",
              "section_projektwohnungen": "Projektwohnungen",
              "section_einrichtungen": "Kitas und Schulen",
              "section_begegnungsraeume": "Begegnungsräume"}
    for section in tqdm(sections or SECTIONS, desc="Atlas", unit="Abschnitt",
                        disable=not verbose, leave=False):
        log.info("atlas section %s", section.__name__)
        try:
            section(atlas, cat)
        except Exception as exc:  # fail soft: one section must not cost the whole atlas
            log.debug("atlas section %s failed", section.__name__, exc_info=True)
            title = titles.get(section.__name__, section.__name__)
            reason = " ".join(str(exc).split())[:300] or type(exc).__name__
            atlas.add_notice(f"Abschnitt „{title}“ fehlt: {reason}")
            warnings.warn(f"Atlas: Abschnitt „{title}“ ausgelassen ({reason})", UserWarning,
                          stacklevel=2)
    return atlas
