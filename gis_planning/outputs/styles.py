"""Map styles shared by the HTML atlas and the QGIS styles (QML): classes, colours, labels.

A :class:`Classification` holds class breaks, colours and German labels computed once with
mapclassify; a :class:`LayerStyle` says how a layer is drawn (single symbol, graduated by a
classification, or categorised). :data:`STYLES` gives the style of each named layer or
result, so the HTML legend and the QGIS legend show the same classes.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import mapclassify
import numpy as np
import pandas as pd

from .._defaults import DEFAULT_K
from .._errors import InputError
from ..labels import fmt_number

__all__ = [
    "BREWER",
    "MIN_DELTA_E",
    "MIN_DELTA_E_CVD",
    "MISSING_COLOR",
    "PALETTES",
    "SCHEME_LABELS",
    "STYLES",
    "Category",
    "CategoryClassification",
    "Classification",
    "LayerStyle",
    "StyleContext",
    "classify",
    "style_for",
]

#: ColorBrewer's own k-class sequential sets (Brewer, Harrower & Penn State, colorbrewer2.org,
#: Apache-2.0), name -> k -> colours. Only the sets that pass the colour-blind check of the
#: tests are kept (``tests/test_styles.py``: smallest CIEDE2000 difference between adjacent
#: classes at least :data:`MIN_DELTA_E_CVD` under simulated deuteranopia and protanopia,
#: Machado et al. 2009), so a map never has more classes than its readers can tell apart.
BREWER: dict[str, dict[int, tuple[str, ...]]] = {
    "YlOrRd": {
        3: ("#ffeda0", "#feb24c", "#f03b20"),
        4: ("#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c"),
        5: ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"),
    },
    "YlOrBr": {
        3: ("#fff7bc", "#fec44f", "#d95f0e"),
        4: ("#ffffd4", "#fed98e", "#fe9929", "#cc4c02"),
        5: ("#ffffd4", "#fed98e", "#fe9929", "#d95f0e", "#993404"),
    },
    "Purples": {
        3: ("#efedf5", "#bcbddc", "#756bb1"),
        4: ("#f2f0f7", "#cbc9e2", "#9e9ac8", "#6a51a3"),
        5: ("#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f"),
    },
    "PuBu": {
        3: ("#ece7f2", "#a6bddb", "#2b8cbe"),
        4: ("#f1eef6", "#bdc9e1", "#74a9cf", "#0570b0"),
        5: ("#f1eef6", "#bdc9e1", "#74a9cf", "#2b8cbe", "#045a8d"),
    },
}

#: Smallest CIEDE2000 difference between adjacent classes under simulated deuteranopia and
#: protanopia (Machado et al. 2009, severity 1) that every palette in :data:`BREWER` keeps;
#: normal vision keeps at least :data:`MIN_DELTA_E`.
MIN_DELTA_E_CVD = 8.0
MIN_DELTA_E = 10.0

#: The largest set of each palette (kept for code that lists the colours of a palette).
PALETTES = {name: list(sets[max(sets)]) for name, sets in BREWER.items()}

#: Colour and default legend text of missing values (no data, suppressed).
MISSING_COLOR = "#cccccc"

#: German names of the classification schemes (legend and QGIS style).
SCHEME_LABELS = {
    "NaturalBreaks": "natürliche Brüche (Fisher-Jenks)",
    "FisherJenks": "natürliche Brüche (Fisher-Jenks)",
    "Quantiles": "Quantile",
    "EqualInterval": "gleiche Intervalle",
}



@dataclass(frozen=True)
class Classification:
    """Class breaks of a choropleth, shared by the HTML legend and the QGIS style.

    ``bins`` are the upper bounds of the classes on the raw values (a value ``v`` is in the
    first class with ``v <= bins[i]``); ``labels`` say the same in the numbers users read
    (rounded to ``decimals``): ``"1,1 – 1,4 %"``, ``"über 1,4 – 2,6 %"``. ``missing_label``
    names the grey class of missing values (e.g. ``"< 5 unterdrückt"``).
    """

    column: str
    scheme: str
    k: int
    bins: tuple[float, ...]
    colors: tuple[str, ...]
    labels: tuple[str, ...]
    decimals: int = 1
    unit: str = ""
    missing_label: str = "keine Angabe"
    missing_color: str = MISSING_COLOR

    def class_of(self, value: float | None) -> int | None:
        """Index of the class of ``value`` (``None`` when it is missing)."""
        if value is None or pd.isna(value):
            return None
        idx = int(np.searchsorted(self.bins, float(value), side="left"))
        return min(idx, len(self.colors) - 1)

    def color_of(self, value: float | None) -> str:
        idx = self.class_of(value)
        return self.missing_color if idx is None else self.colors[idx]


def classify(
    values: pd.Series,
    *,
    scheme: str = "NaturalBreaks",
    k: int = 5,
    palette: str = "YlOrRd",
    decimals: int = 1,
    unit: str = "",
    missing_label: str = "keine Angabe",
) -> Classification:
    """Classify ``values`` with mapclassify and return breaks, colours and German labels.

    Parameters
    ----------
    values
        Numbers (missing values get the grey class ``missing_label``).
    scheme
        mapclassify class name: ``"NaturalBreaks"``, ``"Quantiles"``, ``"FisherJenks"``,
        ``"EqualInterval"``.
    k
        Number of classes; reduced to the number of distinct shown values and to the largest
        set of ``palette`` in :data:`BREWER` (5).
    palette
        A name in :data:`BREWER`; the classes get ColorBrewer's own ``k``-class set.
    decimals, unit
        How the values are shown (legend and tooltips): ``fmt_number(v, decimals)``.

    Notes
    -----
    The classes are computed on the values as users read them (rounded to ``decimals``), so
    a value shown as "1,4 %" is never in a class whose label starts above 1,4. Labels are
    half-open intervals in those numbers: the first class "min – b1", then "über b1 – b2",
    … ; ``bins`` are the matching bounds on the raw values (``b + 0.5 * 10**-decimals``).
    Natural breaks are computed exactly and deterministically with Fisher-Jenks
    (mapclassify's ``NaturalBreaks`` is a randomly started k-means).
    """
    vals = pd.to_numeric(values, errors="coerce").dropna().to_numpy(float)
    if vals.size == 0:
        raise InputError("Klassenbildung nicht möglich: die Spalte enthält keine Zahlen.")
    if not hasattr(mapclassify, scheme):
        raise InputError(
            f"unbekanntes Klassifikationsverfahren {scheme!r}; möglich sind NaturalBreaks, "
            "Quantiles, FisherJenks und EqualInterval."
        )
    if palette not in BREWER:
        raise InputError(f"unbekannte Farbreihe {palette!r}; möglich: {', '.join(BREWER)}.")
    shown = np.round(vals, decimals)
    k = max(1, min(k, len(np.unique(shown)), max(BREWER[palette])))
    algo = "FisherJenks" if scheme == "NaturalBreaks" else scheme
    if k > 1:
        with warnings.catch_warnings():  # mapclassify lowers k itself when values repeat
            warnings.simplefilter("ignore", UserWarning)
            upper = np.unique(np.round(getattr(mapclassify, algo)(shown, k=k).bins, decimals))
    else:
        upper = np.array([shown.max()])
    upper = upper[upper >= shown.min()]
    k = len(upper)
    half = 0.5 * 10.0**-decimals
    bins = tuple(float(b) + half for b in upper)
    colors = tuple(_palette(palette, k))
    suffix = f" {unit}" if unit else ""
    lo = float(shown.min())
    labels = []
    for i, up in enumerate(upper):
        if i == 0:
            text = (fmt_number(lo, decimals) if lo == up
                    else f"{fmt_number(lo, decimals)} – {fmt_number(up, decimals)}")
        else:
            text = f"über {fmt_number(upper[i - 1], decimals)} – {fmt_number(up, decimals)}"
        labels.append(text + suffix)
    return Classification(values.name or "", scheme, k, bins, colors, tuple(labels),
                          decimals, unit, missing_label)


def _palette(name: str, k: int) -> list[str]:
    """ColorBrewer's ``k``-class set of ``name`` (for 1 or 2 classes: from the 3-class set)."""
    sets = BREWER[name]
    if k in sets:
        return list(sets[k])
    three = sets[3]
    return [three[1]] if k == 1 else [three[0], three[2]]


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
    missing_label: str = "keine Angabe"
    missing_color: str = MISSING_COLOR

    @property
    def k(self) -> int:
        return len(self.values)

    def class_of(self, value: object) -> int | None:
        """Index of the category of ``value`` (``None``: none of them)."""
        for i, v in enumerate(self.values):
            if v == value:
                return i
        return None

    def color_of(self, value: object) -> str:
        idx = self.class_of(value)
        return self.missing_color if idx is None else self.colors[idx]


def categories_classification(column: str, cats: tuple[Category, ...]) -> CategoryClassification:
    """Return a :class:`CategoryClassification` of ``cats`` for the polygon legend."""
    return CategoryClassification(
        column, tuple(c.color for c in cats), tuple(c.label for c in cats),
        tuple(c.value for c in cats),
    )


def _single(**kw) -> Callable[[pd.DataFrame, StyleContext], LayerStyle]:
    return lambda frame, ctx: LayerStyle(**kw)


@dataclass(frozen=True)
class StyleContext:
    """What a legend says about the data: the group, the unit, the table's date and kind.

    Built from a catalogue by :func:`gis_planning.results.style_context`; the default is
    neutral (no group, unit "Stadtteil").
    """

    group_label: str = "Gruppe"
    unit_label: str = "Stadtteil"
    unit_plural: str = "Stadtteile"
    date: str = ""
    estimated: bool = False
    count_column: str = "anzahl"
    share_column: str = "anteil_prozent"
    group_tables: tuple[str, ...] = ()
    synthetic: tuple[str, ...] = ()
    cell_layers: tuple[str, ...] = ()
    cell_share: str = ""
    cell_label: str = ""

    @property
    def kind_date(self) -> str:
        """``"Schätzung 30.09.2016"`` or ``"Stand 31.12.2022"`` (empty without a date)."""
        if not self.date:
            return "Schätzung" if self.estimated else ""
        return f"{'Schätzung' if self.estimated else 'Stand'} {self.date}"


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


def _graduated(column: str | Callable[[StyleContext], str], *, scheme: str, k: int,
               palette: str, unit: str = "", decimals: int = 1,
               title: str | Callable[[StyleContext], str] = "", stroke: str = "#666666",
               width: float = 0.6, missing_label: str = "keine Angabe",
               ) -> Callable[[pd.DataFrame, StyleContext], LayerStyle]:
    def make(frame: pd.DataFrame, ctx: StyleContext) -> LayerStyle:
        col = column(ctx) if callable(column) else column
        cls = classify(frame[col].astype(float).rename(col), scheme=scheme, k=k,
                       palette=palette, unit=unit, decimals=decimals,
                       missing_label=missing_label)
        return LayerStyle(kind="graduated", column=col, classification=cls,
                          stroke=stroke, stroke_width=width, fill_opacity=0.75,
                          legend_title=title(ctx) if callable(title) else title)

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

#: Colours of the JobCenter audit status codes (labels come from the data).
JOBCENTER_STATUS_COLORS = {
    "eindeutig": "#c7e9c0",
    "geteilt": "#fdd0a2",
    "doppelt": "#fb6a4a",
    "teilweise_rest_offen": "#fdae6b",
    "nicht_gelistet": "#d9d9d9",
}

#: Status classes of a status index (MSS wording), best first; units without index last.
STATUS_CATEGORIES = (
    Category("hoch", "#1a9641", "Status hoch"),
    Category("mittel", "#d9ef8b", "Status mittel"),
    Category("niedrig", "#fdae61", "Status niedrig"),
    Category("sehr niedrig", "#d7191c", "Status sehr niedrig"),
)



def _categorized_polygons(column: str, cats: tuple[Category, ...],
                          title: str | Callable[[StyleContext], str]):
    def make(frame: pd.DataFrame, ctx: StyleContext) -> LayerStyle:
        present = set(frame[column]) if column in frame else set()
        extra = tuple(Category(v, "#cccccc", str(v)) for v in sorted(present, key=str)
                      if v not in {c.value for c in cats} and pd.notna(v))
        allc = cats + extra
        return LayerStyle(kind="categorized", column=column, categories=allc,
                          classification=categories_classification(column, allc),
                          stroke="#666666", stroke_width=0.6, fill_opacity=0.75,
                          legend_title=title(ctx) if callable(title) else title)

    return make


def _jobcenter_status(frame: pd.DataFrame, ctx: StyleContext) -> LayerStyle:
    labels = (dict(zip(frame["status"], frame["status_label"], strict=False))
              if {"status", "status_label"} <= set(frame.columns) else {})
    cats = tuple(Category(code, JOBCENTER_STATUS_COLORS.get(code, "#cccccc"),
                          labels.get(code, code))
                 for code in JOBCENTER_STATUS_COLORS if code in labels)
    return _categorized_polygons("status", cats, "JobCenter-Zuordnung (Prüfbericht)")(frame, ctx)


def _points(column: str, cats: tuple[Category, ...], title: str, single_title: str):
    """Points coloured by ``column``; one symbol (said in the legend) when it is absent."""
    def make(frame: pd.DataFrame, ctx: StyleContext) -> LayerStyle:
        if column in frame:
            return LayerStyle(kind="categorized", column=column, categories=cats,
                              legend_title=title)
        return LayerStyle(kind="single", legend_title=f"{single_title} (ein Symbol: "
                          f"Spalte '{column}' fehlt)", fill="#2b8cbe")

    return make


def _share_title(ctx: StyleContext) -> str:
    when = f" ({ctx.kind_date})" if ctx.kind_date else ""
    return f"Anteil {ctx.group_label} je {ctx.unit_label}{when}"


#: Style of each named layer or result (layer name -> function of the frame and context).
STYLES: dict[str, Callable[[pd.DataFrame, StyleContext], LayerStyle]] = {
    "stadtgrenze": _single(stroke="#000000", stroke_width=2.5, legend_title="Stadtgrenze"),
    "stadtbezirke": lambda frame, ctx: LayerStyle(
        stroke="#1f3b73", stroke_width=2.2, dash="6 4", legend_title="Stadtbezirke",
        label_column="bezirk_roman" if "bezirk_roman" in frame else
        "bezirk_name" if "bezirk_name" in frame else "bezirk"),
    "stadtteile": lambda frame, ctx: LayerStyle(
        stroke="#555555", stroke_width=0.8, legend_title=ctx.unit_plural,
        label_column="stadtteil"),
    "jobcenter": _single(stroke="#7a0177", stroke_width=2.0, dash="2 4", fill="#7a0177",
                         fill_opacity=0.05, legend_title="JobCenter-Bereiche",
                         label_column="jobcenter"),
    "kitas": _points("in_betrieb", KITA_CATEGORIES, "Kitas", "Kitas"),
    "schulen": _points("schulstufe", SCHUL_CATEGORIES, "Schulen nach Stufe", "Schulen"),
    "gruppe_anteil": _graduated(
        lambda ctx: ctx.share_column, scheme="NaturalBreaks", k=5, palette="YlOrRd",
        unit="%", title=_share_title),
    "gruppe_bezirk": _graduated(
        lambda ctx: ctx.share_column, scheme="FisherJenks", k=5, palette="YlOrRd", unit="%",
        title=lambda ctx: f"Anteil {ctx.group_label} im Bezirk (Bezirkswert"
        + (f", {ctx.date})" if ctx.date else ")")),
    "hotspots": _categorized_polygons(
        "klasse", GI_CATEGORIES, lambda ctx: f"Hotspots Gi* – Anteil {ctx.group_label} "
        "(Benjamini-Hochberg-q ≤ 0,05)"),
    "lisa": _categorized_polygons(
        "klasse", LISA_CATEGORIES, lambda ctx: f"Lokales Moran's I – Anteil "
        f"{ctx.group_label} (FDR 5 %)"),
    "status_index": _categorized_polygons(
        "status_class", STATUS_CATEGORIES, "Sozialer Status (Statusindex, ohne Index: grau)"),
    "segregation_lokal": _graduated(
        lambda ctx: f"lq_{ctx.count_column}", scheme="NaturalBreaks", k=5, palette="YlOrRd",
        decimals=2, title=lambda ctx: f"Lokationsquotient {ctx.group_label}"
        + (" (Schätzung)" if ctx.estimated else "")),
    "jobcenter_zuordnung": _jobcenter_status,
    "vergleich": _graduated(
        "veraenderung_pp", scheme="NaturalBreaks", k=4, palette="Purples", unit="Pp.",
        title=lambda ctx: "Veränderung des Anteils in Prozentpunkten"),
    "standorte": lambda frame, ctx: LayerStyle(
        kind="categorized", column="besteht", legend_title="Begegnungsräume",
        categories=(Category(False, "#006d2c", "vorgeschlagener Standort", "B"),
                    Category(True, "#41ab5d", "bestehender Begegnungsort", "B"))),
    "einzugsbereiche": _single(stroke="#006d2c", stroke_width=1.5, fill="#41ab5d",
                               fill_opacity=0.15, dash="4 3",
                               legend_title="Einzugsbereiche der Begegnungsräume"),
    "projektwohnungen_anzahl": _graduated(
        "anzahl_wert", scheme="Quantiles", k=4, palette="Purples", decimals=0,
        title=lambda ctx: f"Projektwohnungen je {ctx.unit_label}"
        + (" (synthetisch / Demonstrationsdaten)" if "projektwohnungen" in ctx.synthetic
           else ""), width=0.5, missing_label=f"< {DEFAULT_K} unterdrückt"),
}


def style_for(name: str, frame: pd.DataFrame, ctx: StyleContext | None = None
              ) -> LayerStyle | None:
    """Return the style of layer or result ``name`` for ``frame`` (None if it has none).

    A table that holds a group's counts (``ctx.group_tables``) is drawn as the group's share.
    """
    ctx = ctx or StyleContext()
    make = STYLES.get(name)
    if make is None and name in ctx.group_tables and ctx.share_column in frame:
        make = STYLES["gruppe_anteil"]
    if make is None and name in ctx.cell_layers and ctx.cell_share in frame:
        return _graduated(ctx.cell_share, scheme="Quantiles", k=5, palette="YlOrRd", unit="%",
                          title=f"Anteil {ctx.cell_label} je Gitterzelle", width=0.0)(
            frame, ctx)
    return make(frame, ctx) if make else None
