"""The city atlas: one place that decides what the main map shows.

:func:`build_atlas` runs the functions in :data:`SECTIONS` in order; each takes the
:class:`~gis_planning.webmap.Atlas` and the :class:`~gis_planning.catalog.Catalog` and adds
its layers. Later analyses add a section function here (or append to ``SECTIONS``), and every
city whose catalogue has the needed layers gets the same atlas.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from .catalog import Catalog, LayerSchema, default_catalog
from .labels import fmt_int, fmt_number, fmt_percent
from .privacy import DEFAULT_K, aggregate_points
from .synthetic import SYNTHETIC_NOTE
from .webmap import Atlas, classify

__all__ = ["SECTIONS", "build_atlas"]

log = logging.getLogger(__name__)

Section = Callable[[Atlas, Catalog], None]


def _source(atlas: Atlas, schema: LayerSchema) -> None:
    atlas.add_source(schema.label, f"{schema.source}; {schema.licence}")


def section_bezirk_statistik(atlas: Atlas, cat: Catalog) -> None:
    """Stadtteile coloured by their Bezirk's share of the 12 origin countries (seed, 2016)."""
    if cat.city != "Essen":
        return
    from . import seed

    stat = seed.bezirk_statistik()
    st = cat.load("stadtteile").merge(
        stat[["bezirk", "einwohner", "herkunft12_anteil_prozent", "herkunft12_anzahl"]],
        on="bezirk", how="left",
    )
    st["bezirk_label"] = st["bezirk"].map(lambda b: f"Bezirk {_roman(b)}")
    cls = classify(st["herkunft12_anteil_prozent"], scheme="FisherJenks", k=5, unit="%")
    atlas.add_polygons(
        st,
        name="Anteil 12 Hauptherkunftsländer (Bezirkswert)",
        group="Analyse",
        classification=cls,
        legend_title="Anteil der 12 Hauptherkunftsländer im Bezirk (Bezirkswert, 30.09.2016)",
        tooltip={
            "stadtteil": None,
            "bezirk_label": None,
            "herkunft12_anteil_prozent": fmt_percent,
            "herkunft12_anzahl": fmt_int,
            "einwohner": fmt_int,
        },
        note="Bezirkswert: gilt für den ganzen Stadtbezirk, nicht für den Stadtteil.",
        color="#666666", weight=0.6,
    )
    atlas.add_source(
        "Bezirksstatistik",
        "Stadt Essen, FB 12, Stand 30.09.2016, in Vorlage 1846/2016/5 "
        "„Strategiekonzept Integration von Flüchtlingen“ (13.12.2016)",
    )


def section_grundlagen(atlas: Atlas, cat: Catalog) -> None:
    """City boundary, Bezirke, Stadtteile with search and labels."""
    if "stadtgrenze" in cat.names():
        atlas.add_polygons(cat.load("stadtgrenze"), name="Stadtgrenze", color="#000000",
                           weight=2.5)
        _source(atlas, cat.schema("stadtgrenze"))
    if "stadtbezirke" in cat.names():
        bz = cat.load("stadtbezirke")
        if "bezirk_name" not in bz:
            bz["bezirk_name"] = ""
        atlas.add_polygons(
            bz, name="Stadtbezirke", color="#1f3b73", weight=2.2, dash_array="6 4",
            tooltip={"bezirk_roman": None, "bezirk_name": None, "flaeche_km2": _km2},
        )
        _source(atlas, cat.schema("stadtbezirke"))
    st = cat.load("stadtteile")
    atlas.add_polygons(
        st, name="Stadtteile", color="#555555", weight=0.8,
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
    tip = {c: None for c in ("jobcenter", "stadtteile") if c in jc}
    for c in ("n_teilweise",):
        if c in jc:
            tip[c] = None
    atlas.add_polygons(
        jc, name="JobCenter-Bereiche", color="#7a0177", weight=2, dash_array="2 4",
        fill_color="#7a0177", fill_opacity=0.05, show=False, tooltip=tip,
        note="Abgeleitet aus der Stadtteil-Liste der Vorlage; „teilw.“-Stadtteile ganz "
        "zugeordnet, Lücken siehe Prüfbericht.",
    )
    _source(atlas, cat.schema("jobcenter"))


KITA_STYLE = {True: ("#2b8cbe", "K"), False: ("#9e9e9e", "K")}
SCHUL_STYLE = {
    "Primarstufe": ("#31a354", "G"),
    "Sekundarstufe I": ("#e6550d", "S"),
    "Sekundarstufe I und II": ("#d62728", "S"),
    "Förderschule": ("#756bb1", "F"),
    "Berufsbildend": ("#636363", "B"),
    "Weiterbildung": ("#969696", "W"),
}


def section_einrichtungen(atlas: Atlas, cat: Catalog) -> None:
    """Kitas and schools as clustered markers with symbols by type."""
    if "kitas" in cat.names():
        k = cat.load("kitas")
        if "in_betrieb" in k:
            k["status"] = k["in_betrieb"].map({True: "in Betrieb", False: "noch nicht eröffnet"})
            styles = {"in Betrieb": KITA_STYLE[True], "noch nicht eröffnet": KITA_STYLE[False]}
        else:
            k["status"] = "Kita"
            styles = {"Kita": KITA_STYLE[True]}
        fields = {c: None for c in ("name", "traeger", "stadtteil", "status") if c in k}
        atlas.add_points(k, name="Kitas", tooltip=fields, category="status", styles=styles,
                         show=False, legend_title="Kitas")
        _source(atlas, cat.schema("kitas"))
    if "schulen" in cat.names():
        s = cat.load("schulen")
        cat_col = "schulstufe" if "schulstufe" in s else "schulform"
        fields = {c: None for c in ("name", "schulform", "stadtteil") if c in s}
        atlas.add_points(s, name="Schulen", tooltip=fields, category=cat_col,
                         styles=SCHUL_STYLE, show=False, legend_title="Schulen nach Stufe")
        _source(atlas, cat.schema("schulen"))


def section_projektwohnungen(atlas: Atlas, cat: Catalog) -> None:
    """Project flats only as counts per Stadtteil with suppression, never as points."""
    if "projektwohnungen" not in cat.names():
        return
    schema = cat.schema("projektwohnungen")
    counts = aggregate_points(cat.load("projektwohnungen"), cat.load("stadtteile"),
                              k=DEFAULT_K)
    shown = counts["anzahl"].astype("float")
    label = "Projektwohnungen je Stadtteil"
    if schema.synthetic:
        label += f" ({SYNTHETIC_NOTE})"
        atlas.add_notice(f"Projektwohnungen: {SYNTHETIC_NOTE} – keine echten Standorte.")
    cls = classify(shown.rename("anzahl_wert"), scheme="Quantiles", k=4, palette="Purples",
                   decimals=0)
    counts["anzahl_wert"] = shown
    atlas.add_polygons(
        counts, name=label, group="Analyse", classification=cls, show=False,
        legend_title=f"{label}; < {DEFAULT_K} unterdrückt (grau)",
        tooltip={"stadtteil": None, "anzahl_text": None},
        note=SYNTHETIC_NOTE if schema.synthetic else None,
        color="#666666", weight=0.5,
    )
    atlas.add_source(schema.label, f"{schema.source}; {schema.licence}")


def _roman(b: object) -> str:
    romans = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")
    try:
        return romans[int(b) - 1]
    except (ValueError, TypeError, IndexError):
        return str(b)


def _km2(v: object) -> str:
    return fmt_number(v, 2, unit="km²")


#: The atlas sections, in drawing order. Later issues append theirs.
SECTIONS: list[Section] = [
    section_bezirk_statistik,
    section_grundlagen,
    section_jobcenter,
    section_projektwohnungen,
    section_einrichtungen,
]


def build_atlas(
    catalog: Catalog | None = None,
    *,
    sections: list[Section] | None = None,
    basemap: bool = True,
) -> Atlas:
    """Build the atlas of ``catalog`` (default: the shipped Essen data).

    Returns the :class:`Atlas`; write it with ``atlas.save(path)``.
    """
    cat = catalog or default_catalog()
    st = cat.load("stadtteile")
    atlas = Atlas(
        title=f"Integrationsatlas {cat.city}",
        subtitle="Stadtteile, Bezirke, JobCenter-Bereiche, Kitas und Schulen",
        bounds=st, basemap=basemap,
    )
    for section in sections or SECTIONS:
        log.info("atlas section %s", section.__name__)
        section(atlas, cat)
    return atlas


