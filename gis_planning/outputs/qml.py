"""QGIS layer styles (QML) from the shared map styles of :mod:`gis_planning.outputs.styles`.

:func:`style_qml` turns a :class:`~gis_planning.outputs.styles.LayerStyle` into the XML of a QGIS
``.qml`` file: a ``singleSymbol``, ``graduatedSymbol`` (the exact class bounds, colours and
German labels of the HTML legend) or ``categorizedSymbol`` renderer, optional labels, German
field aliases and the layer's provenance as QGIS resource metadata. The same text goes into
the ``layer_styles`` table of a GeoPackage and into a sidecar ``.qml`` beside a GeoJSON file.

This module builds text only; it does no I/O.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from xml.etree import ElementTree as ET

import pandas as pd

from .._errors import InputError
from .styles import Category, LayerStyle

__all__ = [
    "MISSING_LABEL",
    "PX_TO_MM",
    "default_style",
    "geometry_kind",
    "metadata_qmd",
    "qgis_color",
    "resource_metadata",
    "style_qml",
]

#: CSS pixels to QGIS millimetres (96 dpi: 25.4 / 96).
PX_TO_MM = 0.26

#: Legend label of features whose classified value is missing (grey, as in the atlas).
MISSING_LABEL = "ohne Wert (fehlend oder < 5 unterdrückt)"

#: Sentinel for missing values in the graduated renderer's expression (below any class).
_MISSING_SENTINEL = -999999999.0

_QGIS_VERSION = "3.22.0-Białowieża"

_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"

_SCHEME_MODES = {
    "NaturalBreaks": "jenks",
    "FisherJenks": "jenks",
    "Quantiles": "quantile",
    "EqualInterval": "equal",
}


def qgis_color(color: str, opacity: float = 1.0) -> str:
    """Return a CSS hex colour as the ``"r,g,b,a"`` text QGIS stores.

    >>> qgis_color("#ff8000", 0.75)
    '255,128,0,191'
    """
    text = color.lstrip("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    if len(text) != 6 or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise InputError(f"Farbe {color!r}: nötig ist eine Hex-Farbe wie '#1f3b73'.")
    r, g, b = (int(text[i:i + 2], 16) for i in (0, 2, 4))
    a = round(max(0.0, min(1.0, opacity)) * 255)
    return f"{r},{g},{b},{a}"


def geometry_kind(geom_types: set[str] | list[str] | tuple[str, ...]) -> str:
    """Return ``"point"``, ``"line"`` or ``"polygon"`` for a set of shapely geometry types."""
    kinds = set()
    for t in geom_types:
        if t is None:
            continue
        t = str(t).replace("Multi", "")
        kinds.add({"Point": "point", "LineString": "line", "Polygon": "polygon",
                   "LinearRing": "line"}.get(t, "other"))
    if len(kinds) != 1 or "other" in kinds:
        raise InputError(
            f"eine Ebene mit den Geometrietypen {sorted(map(str, geom_types))} lässt sich nicht "
            "gestalten; eine Ebene enthält nur Punkte, nur Linien oder nur Flächen."
        )
    return kinds.pop()


def default_style(kind: str, *, title: str = "") -> LayerStyle:
    """Return a neutral single-symbol style for layers without an entry in ``STYLES``.

    Polygons: dark grey outline with a light transparent fill; points: grey circles.
    """
    if kind == "point":
        return LayerStyle(kind="single", stroke="#ffffff", fill="#555555", fill_opacity=1.0,
                          legend_title=title)
    return LayerStyle(kind="single", stroke="#444444", stroke_width=1.0, fill="#9ecae1",
                      fill_opacity=0.35, legend_title=title)


# --------------------------------------------------------------------------------- XML bits


def _options(parent: ET.Element, values: Mapping[str, object]) -> ET.Element:
    opt = ET.SubElement(parent, "Option", type="Map")
    for key, value in values.items():
        ET.SubElement(opt, "Option", name=key, type="QString", value=str(value))
    return opt


def _mm(px: float) -> str:
    return f"{px * PX_TO_MM:.3g}"


def _dash_mm(dash: str) -> str:
    parts = [float(p) for p in dash.replace(",", " ").split()]
    return ";".join(f"{p * PX_TO_MM:.3g}" for p in parts)


def _line_layer(parent: ET.Element, *, color: str, width: float, dash: str | None) -> None:
    layer = ET.SubElement(parent, "layer", attrib={"class": "SimpleLine", "enabled": "1",
                                                   "locked": "0", "pass": "0"})
    _options(layer, {
        "line_color": qgis_color(color),
        "line_width": _mm(width),
        "line_width_unit": "MM",
        "line_style": "solid",
        "use_custom_dash": "1" if dash else "0",
        "customdash": _dash_mm(dash) if dash else "5;2",
        "customdash_unit": "MM",
        "capstyle": "square",
        "joinstyle": "bevel",
        "offset": "0,0",
        "offset_unit": "MM",
    })


def _symbol(
    kind: str,
    name: str,
    *,
    fill: str | None,
    fill_opacity: float,
    stroke: str,
    stroke_width: float,
    dash: str | None = None,
    letter: str = "",
    size_px: float = 14.0,
) -> ET.Element:
    """Return a ``<symbol>`` element: fill (polygons), line or marker (points)."""
    qtype = {"polygon": "fill", "line": "line", "point": "marker"}[kind]
    sym = ET.Element("symbol", attrib={"type": qtype, "name": name, "alpha": "1",
                                       "clip_to_extent": "1", "force_rhr": "0"})
    if kind == "polygon":
        layer = ET.SubElement(sym, "layer", attrib={"class": "SimpleFill", "enabled": "1",
                                                    "locked": "0", "pass": "0"})
        has_fill = fill is not None and fill_opacity > 0
        _options(layer, {
            "color": qgis_color(fill or "#ffffff", fill_opacity if has_fill else 0.0),
            "style": "solid" if has_fill else "no",
            "outline_color": qgis_color(stroke),
            "outline_style": "no" if dash else "solid",
            "outline_width": _mm(stroke_width),
            "outline_width_unit": "MM",
            "joinstyle": "bevel",
            "offset": "0,0",
            "offset_unit": "MM",
        })
        if dash:  # a dashed outline needs a line symbol layer (SimpleFill has no custom dash)
            _line_layer(sym, color=stroke, width=stroke_width, dash=dash)
    elif kind == "line":
        _line_layer(sym, color=stroke, width=stroke_width, dash=dash)
    else:
        layer = ET.SubElement(sym, "layer", attrib={"class": "SimpleMarker", "enabled": "1",
                                                    "locked": "0", "pass": "0"})
        _options(layer, {
            "name": "circle",
            "color": qgis_color(fill or stroke),
            "outline_color": "255,255,255,255",
            "outline_style": "solid",
            "outline_width": "0.3",
            "outline_width_unit": "MM",
            "size": _mm(size_px),
            "size_unit": "MM",
            "angle": "0",
            "offset": "0,0",
            "offset_unit": "MM",
            "scale_method": "diameter",
            "horizontal_anchor_point": "1",
            "vertical_anchor_point": "1",
        })
        if letter:
            font = ET.SubElement(sym, "layer", attrib={"class": "FontMarker", "enabled": "1",
                                                       "locked": "0", "pass": "0"})
            _options(font, {
                "chr": letter,
                "font": "Sans Serif",
                "font_style": "Bold",
                "color": "255,255,255,255",
                "outline_color": "0,0,0,0",
                "outline_width": "0",
                "size": _mm(size_px * 0.7),
                "size_unit": "MM",
                "angle": "0",
                "offset": "0,0",
                "offset_unit": "MM",
                "horizontal_anchor_point": "1",
                "vertical_anchor_point": "1",
            })
    return sym


def _category_value(value: object) -> str:
    """Category value as QGIS compares it (``QVariant::toString``: booleans are true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _fmt_bound(value: float) -> str:
    return repr(float(value))


def _renderer(style: LayerStyle, kind: str, frame: pd.DataFrame | None) -> ET.Element:
    if style.kind == "graduated":
        return _graduated(style, kind, frame)
    if style.kind == "categorized":
        return _categorized(style, kind)
    if style.kind != "single":
        raise InputError(f"unbekannte Stilart {style.kind!r}; möglich: single (einheitlich), "
                         f"graduated (Klassen), categorized (Kategorien).")
    rend = ET.Element("renderer-v2", attrib={"type": "singleSymbol", "forceraster": "0",
                                              "symbollevels": "0", "enableorderby": "0"})
    symbols = ET.SubElement(rend, "symbols")
    symbols.append(_symbol(kind, "0", fill=style.fill, fill_opacity=style.fill_opacity,
                           stroke=style.stroke, stroke_width=style.stroke_width,
                           dash=style.dash, size_px=style.point_size))
    ET.SubElement(rend, "rotation")
    ET.SubElement(rend, "sizescale")
    return rend


def _graduated(style: LayerStyle, kind: str, frame: pd.DataFrame | None) -> ET.Element:
    cls = style.classification
    if cls is None or not style.column:
        raise InputError("ein Stil mit Klassen braucht eine Spalte und eine Klasseneinteilung.")
    column = style.column
    lower = None
    has_missing = False
    if frame is not None and column in frame.columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        has_missing = bool(values.isna().any())
        if values.notna().any():
            lower = float(values.min())
    if lower is None or lower > cls.bins[0]:
        lower = cls.bins[0]
    # QGIS tests lower <= value <= upper, first match wins: the same classes as mapclassify
    # (value <= bin) for every value from the minimum up.
    attr = f'coalesce("{column}", {_MISSING_SENTINEL:.1f})' if has_missing else column
    rend = ET.Element("renderer-v2", attrib={
        "type": "graduatedSymbol", "attr": attr, "graduatedMethod": "GraduatedColor",
        "forceraster": "0", "symbollevels": "0", "enableorderby": "0",
    })
    ranges = ET.SubElement(rend, "ranges")
    symbols = ET.SubElement(rend, "symbols")
    n = 0
    if has_missing:
        ET.SubElement(ranges, "range", attrib={
            "lower": _fmt_bound(_MISSING_SENTINEL), "upper": _fmt_bound(_MISSING_SENTINEL),
            "symbol": str(n), "label": MISSING_LABEL, "render": "true",
            "uuid": "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"{column}/missing")) + "}",
        })
        symbols.append(_symbol(kind, str(n), fill="#cccccc", fill_opacity=style.fill_opacity,
                               stroke=style.stroke, stroke_width=style.stroke_width,
                               dash=style.dash, size_px=style.point_size))
        n += 1
    lo = lower
    for upper, color, label in zip(cls.bins, cls.colors, cls.labels, strict=True):
        ET.SubElement(ranges, "range", attrib={
            "lower": _fmt_bound(lo), "upper": _fmt_bound(upper), "symbol": str(n),
            "label": label, "render": "true",
            "uuid": "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"{column}/{n}")) + "}",
        })
        symbols.append(_symbol(kind, str(n), fill=color, fill_opacity=style.fill_opacity,
                               stroke=style.stroke, stroke_width=style.stroke_width,
                               dash=style.dash, size_px=style.point_size))
        lo = upper
        n += 1
    ET.SubElement(rend, "mode", name=_SCHEME_MODES.get(cls.scheme, "equal"))
    ET.SubElement(rend, "symmetricMode", enabled="0", symmetryPoint="0", astride="0")
    ET.SubElement(rend, "rotation")
    ET.SubElement(rend, "sizescale")
    ET.SubElement(rend, "labelformat", format="%1 – %2", trimtrailingzeroes="false",
                  decimalplaces=str(cls.decimals))
    return rend


def _categorized(style: LayerStyle, kind: str) -> ET.Element:
    if not style.column or not style.categories:
        raise InputError("ein Stil mit Kategorien braucht eine Spalte und Kategorien.")
    rend = ET.Element("renderer-v2", attrib={
        "type": "categorizedSymbol", "attr": style.column, "forceraster": "0",
        "symbollevels": "0", "enableorderby": "0",
    })
    cats = ET.SubElement(rend, "categories")
    symbols = ET.SubElement(rend, "symbols")
    cat: Category
    for i, cat in enumerate(style.categories):
        ET.SubElement(cats, "category", attrib={
            "value": _category_value(cat.value), "symbol": str(i), "label": cat.label,
            "render": "true",
        })
        symbols.append(_symbol(kind, str(i), fill=cat.color, fill_opacity=1.0 if kind ==
                               "point" else max(style.fill_opacity, 0.75),
                               stroke=style.stroke, stroke_width=style.stroke_width,
                               dash=style.dash, letter=cat.symbol, size_px=style.point_size))
    ET.SubElement(rend, "rotation")
    ET.SubElement(rend, "sizescale")
    return rend


def _labeling(column: str, kind: str) -> ET.Element:
    lab = ET.Element("labeling", type="simple")
    settings = ET.SubElement(lab, "settings", calloutType="simple")
    ET.SubElement(settings, "text-style", attrib={
        "fieldName": column, "isExpression": "0", "fontFamily": "Sans Serif",
        "fontSize": "8", "fontSizeUnit": "Point", "fontWeight": "50", "fontItalic": "0",
        "textColor": "40,40,40,255", "textOpacity": "1", "namedStyle": "Regular",
        "multilineHeight": "1", "blendMode": "0", "previewBkgrdColor": "255,255,255,255",
    })
    ET.SubElement(settings, "text-format", attrib={"wrapChar": "", "multilineAlign": "3",
                                                   "autoWrapLength": "0"})
    buffer = ET.SubElement(settings, "text-buffer", attrib={
        "bufferDraw": "1", "bufferSize": "0.8", "bufferSizeUnits": "MM",
        "bufferColor": "255,255,255,255", "bufferOpacity": "0.8", "bufferNoFill": "1",
        "bufferJoinStyle": "128", "bufferBlendMode": "0",
    })
    del buffer
    # placement 1 = OverPoint (centroid inside polygon), 0 = AroundPoint for points
    ET.SubElement(settings, "placement", attrib={
        "placement": "1" if kind == "polygon" else "0", "centroidInside": "1",
        "centroidWhole": "0", "fitInPolygonOnly": "0", "dist": "0", "priority": "5",
    })
    ET.SubElement(settings, "rendering", attrib={
        "obstacle": "1", "displayAll": "0", "scaleVisibility": "0", "upsidedownLabels": "0",
        "labelPerPart": "0", "mergeLines": "0", "drawLabels": "1", "limitNumLabels": "0",
    })
    return lab


def _iso_period(date: str) -> tuple[str, str] | None:
    """Start and end (ISO date-times) of a date text: ``2016-09-30``, ``2016-09``, ``2016``."""
    import calendar
    import re

    text = (date or "").strip()
    if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text):
        day = f"{m[1]}-{m[2]}-{m[3]}"
        return f"{day}T00:00:00", f"{day}T23:59:59"
    if m := re.fullmatch(r"(\d{2})\.(\d{2})\.(\d{4})", text):
        day = f"{m[3]}-{m[2]}-{m[1]}"
        return f"{day}T00:00:00", f"{day}T23:59:59"
    if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
        last = calendar.monthrange(int(m[1]), int(m[2]))[1]
        return f"{m[1]}-{m[2]}-01T00:00:00", f"{m[1]}-{m[2]}-{last:02d}T23:59:59"
    if m := re.fullmatch(r"(\d{4})(?:/(\d{4}))?", text):
        return f"{m[1]}-01-01T00:00:00", f"{m[2] or m[1]}-12-31T23:59:59"
    return None


def _rights(meta: Mapping[str, str]) -> list[str]:
    """Attribution statements: the source, and a copyright notice inside the licence text."""
    out = []
    if meta.get("attribution"):
        out.append(str(meta["attribution"]))
    elif meta.get("source"):
        out.append(f"Quelle: {meta['source']}")
    licence = str(meta.get("licence") or "")
    for part in licence.split(";"):
        if "©" in part and part.strip() not in out:
            out.append(part.strip())
    return out


def resource_metadata(meta: Mapping[str, str], *, tag: str = "resourceMetadata"
                      ) -> ET.Element:
    """QGIS layer metadata (the QMD elements) as QGIS 3.22 reads them.

    ``title``, ``abstract`` (the description), ``rights`` (attribution: the source and any
    © notice), ``license`` (the licence text), ``history`` (source, method, Stand, estimate
    note), keywords (the map group and the Stand) and the Stand as temporal extent.
    ``tag`` is ``"resourceMetadata"`` (inside a ``.qgs`` layer or a QML) or ``"qgis"`` (a
    ``.qmd`` document, also stored in a GeoPackage's ``gpkg_metadata``).
    """
    res = ET.Element(tag)
    if tag == "qgis":
        res.set("version", _QGIS_VERSION)
    ET.SubElement(res, "identifier").text = meta.get("identifier", "")
    ET.SubElement(res, "parentidentifier")
    ET.SubElement(res, "language").text = "ger"
    ET.SubElement(res, "type").text = meta.get("type", "dataset")
    ET.SubElement(res, "title").text = meta.get("title", "")
    ET.SubElement(res, "abstract").text = meta.get("abstract", "")
    keywords = {"gis_planning": [meta["group"]] if meta.get("group") else []}
    if meta.get("date"):
        keywords["Stand"] = [str(meta["date"])]
    for vocabulary, words in keywords.items():
        if words:
            kw = ET.SubElement(res, "keywords", vocabulary=vocabulary)
            for word in words:
                ET.SubElement(kw, "keyword").text = word
    ET.SubElement(res, "links")
    ET.SubElement(res, "fees")
    for text in _rights(meta):
        ET.SubElement(res, "rights").text = text
    if meta.get("licence"):
        ET.SubElement(res, "license").text = str(meta["licence"])
    history = [("Quelle", "source"), ("Methode", "method"), ("Stand", "date"),
               ("Hinweis", "estimated"), ("Hinweis", "synthetic"), ("Erzeugt mit", "generator")]
    for word, key in history:
        if meta.get(key):
            ET.SubElement(res, "history").text = f"{word}: {meta[key]}"
    ET.SubElement(res, "encoding")
    period = _iso_period(str(meta.get("date_iso") or meta.get("date") or ""))
    extent = ET.SubElement(res, "extent")
    if period is not None:
        temporal = ET.SubElement(ET.SubElement(extent, "temporal"), "period")
        ET.SubElement(temporal, "start").text = period[0]
        ET.SubElement(temporal, "end").text = period[1]
    return res


def metadata_qmd(meta: Mapping[str, str]) -> str:
    """Return a complete QGIS metadata document (``.qmd`` text) for a layer.

    QGIS 3.22 reads it from a GeoPackage's ``gpkg_metadata`` table (``md_standard_uri``
    ``http://mrcc.com/qgis.dtd``) when the layer is opened, and from a ``<name>.qmd``
    sidecar beside a file layer as its default metadata; the ``<resourceMetadata>`` of a
    style (QML) is not read as layer metadata.
    """
    root = resource_metadata(meta, tag="qgis")
    ET.indent(root)
    return (_DOCTYPE + "\n" + ET.tostring(root, encoding="unicode") + "\n")


def style_qml(
    style: LayerStyle | None,
    *,
    geometry_types: set[str] | list[str] | tuple[str, ...],
    frame: pd.DataFrame | None = None,
    aliases: Mapping[str, str] | None = None,
    metadata: Mapping[str, str] | None = None,
) -> str:
    """Return the QML text of a QGIS default style for a layer.

    Parameters
    ----------
    style
        The shared style (:func:`gis_planning.outputs.styles.style_for`); ``None`` uses
        :func:`default_style`.
    geometry_types
        Shapely geometry types of the layer (``{"Polygon", "MultiPolygon"}``).
    frame
        The layer's data: the lowest class bound of a graduated style is the column minimum,
        and missing values get a grey class (as in the atlas).
    aliases
        Field name -> German alias shown in QGIS forms and the attribute table.
    metadata
        ``title``, ``abstract``, ``identifier``, ``source``, ``date``, ``licence``,
        ``method``: stored as QGIS resource metadata.

    Returns
    -------
    str
        A complete QML document (``<!DOCTYPE qgis ...>``), UTF-8 text.

    Notes
    -----
    Graduated classes: QGIS puts a value in the first range with ``lower <= v <= upper``;
    the ranges are ``[min, b_1], [b_1, b_2], ...`` with the mapclassify upper bounds
    ``b_i``, so a value equal to a bound falls in the lower class, as in mapclassify
    (``v <= b_i``) and the HTML legend. Widths: CSS px x 0.26 = mm.
    """
    kind = geometry_kind(geometry_types)
    if style is None:
        style = default_style(kind, title=(metadata or {}).get("title", ""))
    root = ET.Element("qgis", attrib={
        "version": _QGIS_VERSION, "styleCategories": "AllStyleCategories",
        "labelsEnabled": "1" if style.label_column else "0",
        "hasScaleBasedVisibilityFlag": "0", "simplifyDrawingHints": "1" if kind != "point"
        else "0", "simplifyMaxScale": "1", "simplifyAlgorithm": "0",
        "simplifyDrawingTol": "1", "simplifyLocal": "1", "readOnly": "0",
    })
    if metadata:
        root.append(resource_metadata(metadata))
    root.append(_renderer(style, kind, frame))
    if style.label_column and (frame is None or style.label_column in frame.columns):
        root.append(_labeling(style.label_column, kind))
    else:
        root.set("labelsEnabled", "0")
    ET.SubElement(root, "blendMode").text = "0"
    ET.SubElement(root, "featureBlendMode").text = "0"
    ET.SubElement(root, "layerOpacity").text = "1"
    if aliases:
        al = ET.SubElement(root, "aliases")
        for i, (field, alias) in enumerate(aliases.items()):
            ET.SubElement(al, "alias", field=str(field), index=str(i), name=str(alias))
    if style.legend_title:
        ET.SubElement(root, "legend", type="default-vector")
    ET.SubElement(root, "layerGeometryType").text = {"point": "0", "line": "1",
                                                     "polygon": "2"}[kind]
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return _DOCTYPE + "\n" + body + "\n"
