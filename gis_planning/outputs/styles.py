"""Map styles shared by the HTML atlas and the QGIS styles (QML): classes, colours, labels.

A :class:`Classification` holds class breaks, colours and German labels computed once with
mapclassify; a :class:`LayerStyle` says how a layer is drawn (single symbol, graduated by a
classification, or categorised). :data:`STYLES` gives the style of each named layer or
result, so the HTML legend and the QGIS legend show the same classes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import mapclassify
import numpy as np
import pandas as pd

from .._errors import InputError
from ..labels import fmt_number

__all__ = [
    "PALETTES",
    "SCHEME_LABELS",
    "STYLES",
    "Category",
    "CategoryClassification",
    "Classification",
    "LayerStyle",
    "classify",
    "style_for",
]

#: ColorBrewer sequential palettes (3 to 7 classes), colour-blind safe.
PALETTES = {
    "YlOrRd": ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"],
    "Blues": ["#eff3ff", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#084594"],
    "Purples": ["#f2f0f7", "#dadaeb", "#bcbddc", "#9e9ac8", "#807dba", "#6a51a3", "#4a1486"],
}

#: German names of the classification schemes (legend and QGIS style).
SCHEME_LABELS = {
    "NaturalBreaks": "natürliche Brüche (Fisher-Jenks)",
    "FisherJenks": "natürliche Brüche (Fisher-Jenks)",
    "Quantiles": "Quantile",
    "EqualInterval": "gleiche Intervalle",
}



@dataclass(frozen=True)
class Classification:
    """Class breaks of a choropleth, shared by the HTML legend and the QGIS style."""

    column: str
    scheme: str
    k: int
    bins: tuple[float, ...]
    colors: tuple[str, ...]
    labels: tuple[str, ...]
    decimals: int = 1
    unit: str = ""

    def color_of(self, value: float | None) -> str:
        if value is None or pd.isna(value):
            return "#cccccc"
        idx = int(np.searchsorted(self.bins, value, side="left"))
        return self.colors[min(idx, len(self.colors) - 1)]


def classify(
    values: pd.Series,
    *,
    scheme: str = "NaturalBreaks",
    k: int = 5,
    palette: str = "YlOrRd",
    decimals: int = 1,
    unit: str = "",
) -> Classification:
    """Classify ``values`` with mapclassify and return breaks, colours and German labels.

    ``scheme`` is a mapclassify class name (``"NaturalBreaks"``, ``"Quantiles"``,
    ``"FisherJenks"``, ``"EqualInterval"``). ``k`` is reduced to the number of distinct values
    when there are fewer.
    """
    vals = pd.to_numeric(values, errors="coerce").dropna().to_numpy(float)
    if vals.size == 0:
        raise InputError("cannot classify: the column has no numeric values.")
    k = max(1, min(k, len(np.unique(vals)), len(PALETTES[palette])))
    if not hasattr(mapclassify, scheme):
        raise InputError(
            f"unknown classification scheme {scheme!r}; use NaturalBreaks, Quantiles, "
            f"FisherJenks or EqualInterval."
        )
    # Natural breaks are computed exactly and deterministically with Fisher-Jenks
    # (mapclassify's NaturalBreaks is a randomly started k-means).
    algo = "FisherJenks" if scheme == "NaturalBreaks" else scheme
    cls = getattr(mapclassify, algo)(vals, k=k) if k > 1 else None
    bins = tuple(float(b) for b in cls.bins) if cls is not None else (float(vals.max()),)
    k = len(bins)
    colors = tuple(_palette(palette, k))
    lower = float(vals.min())
    labels = []
    for i, upper in enumerate(bins):
        lo = lower if i == 0 else bins[i - 1]
        sep = "–"
        labels.append(
            f"{fmt_number(lo, decimals)} {sep} {fmt_number(upper, decimals)}"
            + (f" {unit}" if unit else "")
        )
    return Classification(values.name or "", scheme, k, bins, colors, tuple(labels),
                          decimals, unit)


def _palette(name: str, k: int) -> list[str]:
    full = PALETTES[name]
    if k >= len(full):
        return full[:k]
    idx = np.round(np.linspace(0, len(full) - 1, k)).astype(int)
    return [full[i] for i in idx]




@dataclass(frozen=True)
class Category:
    """One class of a categorised style: value, fill colour, German label, marker symbol."""

    value: object
    color: str
    label: str
    symbol: str = ""


@dataclass(frozen=True)
class LayerStyle:
    """How a layer is drawn, in the HTML atlas and in QGIS.

    ``kind`` is ``"single"`` (one symbol), ``"graduated"`` (fill by ``classification``) or
    ``"categorized"`` (fill or marker colour by ``column`` value, see ``categories``).
    Widths are in CSS pixels (QGIS: millimetres = px * 0.26).
    """

    kind: str = "single"
    column: str | None = None
    classification: Classification | None = None
    categories: tuple[Category, ...] = ()
    stroke: str = "#333333"
    stroke_width: float = 1.0
    fill: str | None = None
    fill_opacity: float = 0.0
    dash: str | None = None
    legend_title: str = ""
    label_column: str | None = None
    point_size: float = 14.0
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CategoryClassification:
    """Categories drawn like a :class:`Classification` (same interface for legends)."""

    column: str
    colors: tuple[str, ...]
    labels: tuple[str, ...]
    values: tuple[object, ...]
    scheme: str = "Kategorien"
    unit: str = ""

    @property
    def k(self) -> int:
        return len(self.values)

    def color_of(self, value: object) -> str:
        for v, c in zip(self.values, self.colors, strict=True):
            if v == value:
                return c
        return "#cccccc"


def categories_classification(column: str, cats: tuple[Category, ...]) -> CategoryClassification:
    """Return a :class:`CategoryClassification` of ``cats`` for the polygon legend."""
    return CategoryClassification(
        column, tuple(c.color for c in cats), tuple(c.label for c in cats),
        tuple(c.value for c in cats),
    )


def _single(**kw) -> Callable[[pd.DataFrame], LayerStyle]:
    return lambda frame: LayerStyle(**kw)


KITA_CATEGORIES = (
    Category(True, "#2b8cbe", "in Betrieb", "K"),
    Category(False, "#9e9e9e", "noch nicht eröffnet", "K"),
)
SCHUL_CATEGORIES = (
    Category("Primarstufe", "#31a354", "Primarstufe", "G"),
    Category("Sekundarstufe I", "#e6550d", "Sekundarstufe I", "S"),
    Category("Sekundarstufe I und II", "#d62728", "Sekundarstufe I und II", "S"),
    Category("Förderschule", "#756bb1", "Förderschule", "F"),
    Category("Berufsbildend", "#636363", "Berufsbildend", "B"),
    Category("Weiterbildung", "#969696", "Weiterbildung", "W"),
)


def _graduated(column: str, *, scheme: str, k: int, palette: str, unit: str = "",
               decimals: int = 1, title: str = "", stroke: str = "#666666",
               width: float = 0.6) -> Callable[[pd.DataFrame], LayerStyle]:
    def make(frame: pd.DataFrame) -> LayerStyle:
        cls = classify(frame[column].astype(float).rename(column), scheme=scheme, k=k,
                       palette=palette, unit=unit, decimals=decimals)
        return LayerStyle(kind="graduated", column=column, classification=cls,
                          stroke=stroke, stroke_width=width, fill_opacity=0.75,
                          legend_title=title)

    return make


GI_CATEGORIES = (
    Category("Hotspot (signifikant, FDR 5 %)", "#d7301f", "Hotspot (signifikant, FDR 5 %)"),
    Category("Kältepunkt (signifikant, FDR 5 %)", "#2c7fb8",
             "Kältepunkt (signifikant, FDR 5 %)"),
    Category("nicht signifikant", "#f0f0f0", "nicht signifikant"),
    Category("keine Nachbarn", "#ffffff", "keine Nachbarn (nicht getestet)"),
    Category("zu klein (< 300 Einw.)", "#bdbdbd", "zu klein (< 300 Einw.)"),
)
LISA_CATEGORIES = (
    Category("Hoch-Hoch", "#d7191c", "Hoch-Hoch"),
    Category("Niedrig-Niedrig", "#2c7bb6", "Niedrig-Niedrig"),
    Category("Hoch-Niedrig", "#fdae61", "Hoch-Niedrig"),
    Category("Niedrig-Hoch", "#abd9e9", "Niedrig-Hoch"),
    Category("nicht signifikant", "#f0f0f0", "nicht signifikant"),
    Category("keine Nachbarn", "#ffffff", "keine Nachbarn (nicht getestet)"),
    Category("zu klein (< 300 Einw.)", "#bdbdbd", "zu klein (< 300 Einw.)"),
)

#: Status classes of a status index (MSS wording), best first; units without index last.
STATUS_CATEGORIES = (
    Category("hoch", "#1a9641", "Status hoch"),
    Category("mittel", "#d9ef8b", "Status mittel"),
    Category("niedrig", "#fdae61", "Status niedrig"),
    Category("sehr niedrig", "#d7191c", "Status sehr niedrig"),
)


def _categorized_polygons(column: str, cats: tuple[Category, ...], title: str):
    def make(frame: pd.DataFrame) -> LayerStyle:
        present = set(frame[column]) if column in frame else set()
        extra = tuple(Category(v, "#cccccc", str(v)) for v in sorted(present, key=str)
                      if v not in {c.value for c in cats} and pd.notna(v))
        allc = cats + extra
        return LayerStyle(kind="categorized", column=column, categories=allc,
                          classification=categories_classification(column, allc),
                          stroke="#666666", stroke_width=0.6, fill_opacity=0.75,
                          legend_title=title)

    return make


#: Style of each named layer or result (layer name -> function of the frame).
STYLES: dict[str, Callable[[pd.DataFrame], LayerStyle]] = {
    "stadtgrenze": _single(stroke="#000000", stroke_width=2.5, legend_title="Stadtgrenze"),
    "stadtbezirke": _single(stroke="#1f3b73", stroke_width=2.2, dash="6 4",
                            legend_title="Stadtbezirke", label_column="bezirk_roman"),
    "stadtteile": _single(stroke="#555555", stroke_width=0.8, legend_title="Stadtteile",
                          label_column="stadtteil"),
    "jobcenter": _single(stroke="#7a0177", stroke_width=2.0, dash="2 4", fill="#7a0177",
                         fill_opacity=0.05, legend_title="JobCenter-Bereiche",
                         label_column="jobcenter"),
    "kitas": lambda frame: LayerStyle(kind="categorized", column="in_betrieb",
                                      categories=KITA_CATEGORIES, legend_title="Kitas"),
    "schulen": lambda frame: LayerStyle(kind="categorized", column="schulstufe",
                                        categories=SCHUL_CATEGORIES,
                                        legend_title="Schulen nach Stufe"),
    "stadtteil_statistik": _graduated(
        "herkunft12_anteil_prozent", scheme="NaturalBreaks", k=5, palette="YlOrRd", unit="%",
        title="Anteil 12 Hauptherkunftsländer je Stadtteil (Schätzung 30.09.2016)"),
    "bezirk_herkunft12": _graduated(
        "herkunft12_anteil_prozent", scheme="FisherJenks", k=5, palette="YlOrRd", unit="%",
        title="Anteil der 12 Hauptherkunftsländer im Bezirk (Bezirkswert, 30.09.2016)"),
    "hotspots": _categorized_polygons(
        "klasse", GI_CATEGORIES, "Hotspots Gi* – Anteil 12 Hauptherkunftsländer "
        "(Benjamini-Hochberg-q ≤ 0,05)"),
    "lisa": _categorized_polygons(
        "klasse", LISA_CATEGORIES, "Lokales Moran's I – Anteil 12 Hauptherkunftsländer "
        "(FDR 5 %)"),
    "status_index": _categorized_polygons(
        "status_class", STATUS_CATEGORIES, "Sozialer Status (Statusindex, ohne Index: grau)"),
    "segregation_lokal": _graduated(
        "lq_herkunft12_anzahl", scheme="NaturalBreaks", k=5, palette="YlOrRd", decimals=2,
        title="Lokationsquotient 12 Hauptherkunftsländer (Schätzung)"),
    "jobcenter_zuordnung": _categorized_polygons(
        "status_label", tuple(
            Category(label, color, label) for label, color in (
                ("eindeutig einem Bereich zugeordnet", "#c7e9c0"),
                ("auf mehrere Bereiche aufgeteilt (teilw.), Grenze nicht angegeben",
                 "#fdd0a2"),
                ("in mehreren Listen ohne 'teilw.' genannt", "#fb6a4a"),
                ("nur teilweise zugeordnet, übriger Teil in keiner Liste", "#fdae6b"),
                ("in keiner Liste (Liste Süd 1 & Süd 2 ist abgeschnitten)", "#d9d9d9"),
            )
        ), "JobCenter-Zuordnung je Stadtteil (Prüfbericht)"),
    "standorte": lambda frame: LayerStyle(
        kind="categorized", column="besteht", legend_title="Begegnungsräume",
        categories=(Category(False, "#006d2c", "vorgeschlagener Standort", "B"),
                    Category(True, "#41ab5d", "bestehender Begegnungsort", "B"))),
    "einzugsbereiche": _single(stroke="#006d2c", stroke_width=1.5, fill="#41ab5d",
                               fill_opacity=0.15, dash="4 3",
                               legend_title="Einzugsbereiche der Begegnungsräume"),
    "projektwohnungen_anzahl": _graduated(
        "anzahl_wert", scheme="Quantiles", k=4, palette="Purples", decimals=0,
        title="Projektwohnungen je Stadtteil (synthetisch / Demonstrationsdaten); "
        "< 5 unterdrückt (grau)", width=0.5),
}


def style_for(name: str, frame: pd.DataFrame) -> LayerStyle | None:
    """Return the style of layer or result ``name`` for ``frame`` (None if it has none)."""
    make = STYLES.get(name)
    return make(frame) if make else None
