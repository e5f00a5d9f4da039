"""Printed maps for council papers: any atlas layer as a vector PDF or PNG, offline.

:func:`render_map` draws one layer of the atlas (a catalogue layer, a table joined to its
units, or an analysis result; confidential layers only as released counts) on an A4 or A3
page with a title, the layer's legend (the same classes, colours and German labels as the
atlas and the QGIS styles, :mod:`gis_planning.outputs.styles`), a scale bar with the scale,
a north arrow, the sources and licences of everything drawn, the Stand of the data and the
date of the map. No background tiles: the city boundary, the Bezirke and the analysis units
are drawn as context, so a map prints the same without network.

The drawing pieces (:func:`draw_layer`, :func:`legend_entries`, :func:`scale_bar`,
:func:`north_arrow`) take a matplotlib ``Axes`` and are shared with the profiles
(:mod:`gis_planning.outputs.steckbrief`). This module draws; it does no analysis (layers come
from :func:`gis_planning.outputs.export.export_layers`, already released and styled).
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import os
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import __version__
from .._atomic import atomic_path
from .._errors import InputError, LayerError
from ..labels import fmt_date, fmt_int
from .qml import MISSING_LABEL
from .styles import SCHEME_LABELS, LayerStyle

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..data.catalog import Catalog
    from .export import ExportLayer

__all__ = [
    "PAPER_SIZES",
    "MapLayer",
    "bezirk_code",
    "draw_context",
    "draw_layer",
    "feature_colours",
    "fit_extent",
    "legend_entries",
    "map_figure",
    "map_layer",
    "map_layer_names",
    "new_figure",
    "north_arrow",
    "render_map",
    "save_figure",
    "scale_bar",
    "sources_text",
]

log = logging.getLogger(__name__)

#: Paper sizes (width, height) in millimetres, landscape.
PAPER_SIZES = {"A4": (297.0, 210.0), "A3": (420.0, 297.0)}

_MM = 1 / 25.4  # inches per millimetre
_PX_PT = 0.75  # CSS px -> typographic points
_MISSING = "#cccccc"


@dataclass
class MapLayer:
    """A layer ready to draw: the released, styled frame with its texts."""

    name: str
    frame: gpd.GeoDataFrame
    label: str
    style: LayerStyle | None
    metadata: dict[str, str]

    @classmethod
    def from_export(cls, layer: ExportLayer) -> MapLayer:
        return cls(layer.name, layer.frame, layer.label, layer.style, dict(layer.metadata))


# ------------------------------------------------------------------------- choosing layers
def _export(cat: Catalog, names: Sequence[str]) -> list[ExportLayer]:
    from .export import export_layers

    return export_layers(cat, names=list(names))


def map_layer_names(cat: Catalog, *, check: bool = False) -> list[str]:
    """Names :func:`map_layer` accepts: layers, tables with units, results, the Bezirk map.

    With ``check`` results are computed and those without geometry (tables such as the
    budget) are left out.
    """
    import geopandas as gpd

    from .. import results
    from .export import BEZIRK_LAYER

    out = []
    for name in cat.names():
        out.append(f"{name}_anzahl" if cat.schema(name).confidential else name)
    out.append(BEZIRK_LAYER)
    for name in results.available(cat):
        if name in cat.table_names():
            if cat.table_spec(name).unit is not None:
                out.append(name)
            continue
        if check and not isinstance(results.compute(cat, name), gpd.GeoDataFrame):
            continue
        out.append(name)
    return out


def map_layer(cat: Catalog, name: str) -> MapLayer:
    """Return atlas layer ``name`` as it may be printed (confidential layers as counts).

    ``name`` is a layer (``kitas``; a confidential ``projektwohnungen`` or
    ``projektwohnungen_anzahl`` gives the suppressed counts per unit), a table with units
    (``stadtteil_statistik``), a result (``hotspots``) or ``bezirkswerte`` (the atlas's
    Bezirk choropleth).
    """
    base = name[: -len("_anzahl")] if name.endswith("_anzahl") else name
    wanted = base if base in cat.names() and cat.schema(base).confidential else name
    allowed = map_layer_names(cat)
    if wanted not in allowed and f"{wanted}_anzahl" not in allowed:
        from .._names import suggest

        close = suggest(name, allowed)
        hint = f" Meinten Sie {' oder '.join(map(repr, close))}?" if close else ""
        raise LayerError(f"LAYER {name!r}: keine Kartenebene von {cat.city}.{hint} "
                         f"Möglich: {', '.join(allowed)}.")
    layers = [x for x in _export(cat, [wanted]) if x.spatial]
    if not layers:
        raise LayerError(f"LAYER {name!r} ist eine Tabelle ohne Geometrie; sie lässt sich "
                         f"nicht als Karte drucken (gis-planning karte --liste).")
    return MapLayer.from_export(layers[0])


def bezirk_code(cat: Catalog, text: str) -> Any:
    """Return the Bezirk code for ``text``: code, Roman numeral, "Bezirk III" or name."""
    labels = cat.bezirk_labels()
    want = str(text).strip().lower()
    names: dict[str, Any] = {}
    for code, label in labels.items():
        names[str(code).lower()] = code
        names[label.lower()] = code
        names[label.lower().removeprefix("bezirk ").strip()] = code
    if "stadtbezirke" in cat.names():
        bz = cat.load("stadtbezirke")
        for col in ("bezirk_roman", "bezirk_name"):
            if col in bz:
                for code, value in zip(bz["bezirk"], bz[col], strict=True):
                    if isinstance(value, str) and value:
                        names[value.lower()] = code
    if want in names:
        return names[want]
    if want.lstrip("0").isdigit():
        for code in labels:
            if str(code).lstrip("0") == want.lstrip("0"):
                return code
    raise InputError(f"--bezirk {text!r}: unbekannter Bezirk von {cat.city}; möglich: "
                     f"{', '.join(labels.values())}.")


# ------------------------------------------------------------------------------- drawing
def _category_key(value: object) -> object:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def feature_colours(frame: pd.DataFrame, style: LayerStyle | None) -> list[str] | None:
    """Fill colour of every feature (``None``: one colour, see the style's ``fill``)."""
    if style is None or style.kind == "single" or not style.column:
        return None
    if style.column not in frame:
        return [_MISSING] * len(frame)
    if style.kind == "graduated" and style.classification is not None:
        values = pd.to_numeric(frame[style.column], errors="coerce")
        return [style.classification.color_of(v) for v in values]
    colours = {_category_key(c.value): c.color for c in style.categories}
    return [colours.get(_category_key(v), _MISSING) for v in frame[style.column]]


def _dashes(style: LayerStyle) -> Any:
    if not style.dash:
        return "solid"
    parts = [float(p) * _PX_PT for p in style.dash.replace(",", " ").split()]
    width = max(style.stroke_width * _PX_PT, 0.1)
    return (0, tuple(p / width for p in parts))


def _kind(frame: gpd.GeoDataFrame) -> str:
    types = {str(t).replace("Multi", "") for t in frame.geom_type.dropna()}
    return "point" if types <= {"Point"} else "line" if types <= {"LineString"} else "polygon"


def draw_layer(ax: Axes, layer: MapLayer, *, zorder: float = 2, scale: float = 1.0,
               labels: bool = True, alpha: float | None = None,
               label_size: float = 5.5) -> None:
    """Draw ``layer`` on ``ax`` with its style (fills, outlines, markers, labels)."""
    frame = layer.frame[layer.frame.geometry.notna() & ~layer.frame.geometry.is_empty]
    if frame.empty:
        return
    style = layer.style or LayerStyle(stroke="#444444", stroke_width=1.0, fill="#9ecae1",
                                      fill_opacity=0.35)
    colours = feature_colours(frame, style)
    kind = _kind(frame)
    if kind == "point":
        size = (max(style.point_size, 4.0) * 0.55 * scale) ** 2
        ax.scatter(frame.geometry.x, frame.geometry.y, s=size,
                   c=colours if colours is not None else (style.fill or "#2b8cbe"),
                   edgecolors="white", linewidths=0.3 * scale, zorder=zorder + 2)
        return
    fill_alpha = style.fill_opacity if alpha is None else alpha
    if colours is not None:
        frame.plot(ax=ax, color=colours, alpha=fill_alpha, linewidth=0, zorder=zorder)
    elif style.fill and style.fill_opacity > 0:
        frame.plot(ax=ax, color=style.fill, alpha=fill_alpha, linewidth=0, zorder=zorder)
    frame.boundary.plot(ax=ax, color=style.stroke,
                        linewidth=max(style.stroke_width * _PX_PT * 0.6 * scale, 0.2),
                        linestyle=_dashes(style), zorder=zorder + 0.5)
    column = style.label_column
    if labels and column and column in frame and len(frame) <= 120:
        _labels(ax, frame, column, zorder=zorder + 3, scale=scale, size=label_size)


def _labels(ax: Axes, frame: gpd.GeoDataFrame, column: str, *, zorder: float,
            scale: float = 1.0, size: float = 5.5) -> None:
    from matplotlib import patheffects

    # the halo is a stroked copy (drawn as paths); the label itself stays real text, so a
    # PDF reader finds and copies it
    halo = [patheffects.Stroke(linewidth=1.6 * scale, foreground="white")]
    points = frame.geometry.representative_point()
    for p, text in zip(points, frame[column], strict=True):
        if text is None or (isinstance(text, float) and math.isnan(text)):
            continue
        kw = {"fontsize": size * scale, "ha": "center", "va": "center"}
        ax.text(p.x, p.y, str(text), color="white", zorder=zorder, path_effects=halo, **kw)
        ax.text(p.x, p.y, str(text), color="#282828", zorder=zorder + 0.1, **kw)


def draw_context(ax: Axes, cat: Catalog, *, bezirk: Any = None, units: bool = True,
                 unit_labels: bool = False, zorder: float = 5, scale: float = 1.0) -> None:
    """The base map without tiles: city boundary, Bezirk outlines and the analysis units."""
    from .styles import style_for

    if units and cat.unit.layer in cat.names():
        st = cat.load(cat.unit.layer)
        if bezirk is not None and "bezirk" in st:
            st = st[st["bezirk"] == bezirk]
        style = style_for("stadtteile", st)
        layer = MapLayer(cat.unit.layer, st, cat.unit.label_plural, style, {})
        draw_layer(ax, layer, zorder=zorder, scale=scale, labels=unit_labels)
    if "stadtbezirke" in cat.names():
        bz = cat.load("stadtbezirke")
        if bezirk is not None:
            bz = bz[bz["bezirk"] == bezirk]
        draw_layer(ax, MapLayer("stadtbezirke", bz, "Stadtbezirke",
                                style_for("stadtbezirke", bz), {}),
                   zorder=zorder + 1, scale=scale, labels=bezirk is None, label_size=9)
    if "stadtgrenze" in cat.names() and bezirk is None:
        sg = cat.load("stadtgrenze")
        draw_layer(ax, MapLayer("stadtgrenze", sg, "Stadtgrenze",
                                style_for("stadtgrenze", sg), {}), zorder=zorder + 2,
                   scale=scale)
    elif bezirk is None and cat.unit.layer in cat.names():
        outline = cat.load(cat.unit.layer).dissolve()
        outline.boundary.plot(ax=ax, color="#000000", linewidth=1.4 * scale,
                              zorder=zorder + 2)


def legend_entries(layer: MapLayer) -> tuple[str, list[tuple[Any, str]]]:
    """Legend title and ``(handle, label)`` pairs of a layer, as in the atlas legend."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    style = layer.style or LayerStyle(stroke="#444444", fill="#9ecae1", fill_opacity=0.35)
    title = style.legend_title or layer.label
    kind = _kind(layer.frame)
    entries: list[tuple[Any, str]] = []

    def patch(colour: str | None, alpha: float) -> Any:
        if kind == "point":
            return Line2D([], [], marker="o", linestyle="none", markersize=6,
                          markerfacecolor=colour or "#2b8cbe", markeredgecolor="white")
        return Patch(facecolor=colour or "none", alpha=None, edgecolor=style.stroke,
                     linewidth=0.5, linestyle="solid" if not style.dash else "--",
                     fill=colour is not None)

    def blend(colour: str, alpha: float) -> str:
        rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
        return "#" + "".join(f"{round(alpha * c + (1 - alpha) * 255):02x}" for c in rgb)

    alpha = style.fill_opacity if kind != "point" else 1.0
    if style.kind == "graduated" and style.classification is not None:
        cls = style.classification
        for colour, label in zip(cls.colors, cls.labels, strict=True):
            entries.append((patch(blend(colour, alpha), 1.0), label))
        values = pd.to_numeric(layer.frame.get(style.column), errors="coerce")
        if values is not None and values.isna().any():
            entries.append((patch(blend(_MISSING, alpha), 1.0), MISSING_LABEL))
    elif style.kind == "categorized":
        present = {_category_key(v) for v in layer.frame[style.column]} \
            if style.column in layer.frame else set()
        for c in style.categories:
            if _category_key(c.value) in present:
                entries.append((patch(blend(c.color, alpha if kind != "point" else 1.0), 1.0),
                                c.label))
    else:
        fill = style.fill if style.fill and style.fill_opacity > 0 else None
        entries.append((patch(blend(fill, alpha) if fill else None, 1.0), layer.label))
    return title, entries


def _nice(value: float) -> float:
    if value <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    for m in (5, 2, 1):
        if m * exp <= value:
            return m * exp
    return exp


def scale_bar(ax: Axes, *, width_mm: float, scale: float = 1.0) -> tuple[float, int]:
    """Draw a scale bar in the lower left of ``ax``; return ``(length_m, scale_denominator)``.

    ``width_mm`` is the printed width of the map axes; the scale is ``map width in metres
    / printed width``, rounded to two significant digits.
    """
    from matplotlib.patches import Rectangle

    ax.apply_aspect()
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    span = x1 - x0
    denominator = span * 1000.0 / width_mm
    digits = 10 ** max(0, math.floor(math.log10(denominator)) - 1)
    denominator = int(round(denominator / digits) * digits)
    length = _nice(span / 4)
    h = (y1 - y0) * 0.012
    bx, by = x0 + span * 0.04, y0 + (y1 - y0) * 0.045
    ax.add_patch(Rectangle((bx - span * 0.015, by - h * 2.2), length + span * 0.1, h * 6.2,
                           facecolor="white", edgecolor="none", alpha=0.85, zorder=20))
    for i in range(4):
        ax.add_patch(Rectangle((bx + i * length / 4, by), length / 4, h,
                               facecolor="#000000" if i % 2 == 0 else "white",
                               edgecolor="#000000", linewidth=0.4, zorder=21))
    unit, div = ("km", 1000.0) if length >= 1000 else ("m", 1.0)
    for frac in (0.0, 0.5, 1.0):
        value = frac * length / div
        text = f"{value:g}".replace(".", ",")
        ax.text(bx + frac * length, by + h * 1.6, text + (f" {unit}" if frac == 1 else ""),
                ha="center", va="bottom", fontsize=5.5 * scale, zorder=22)
    ax.text(bx, by - h * 0.8, f"Maßstab ca. 1 : {fmt_int(denominator)}", ha="left",
            va="top", fontsize=5.5 * scale, zorder=22)
    return length, denominator


def north_arrow(ax: Axes, *, scale: float = 1.0) -> None:
    """Draw a north arrow in the upper right of ``ax`` (the CRS is north-up)."""
    from matplotlib.patches import Polygon

    x, y, w, h = 0.94, 0.86, 0.022, 0.07
    ax.add_patch(Polygon([(x, y + h), (x - w, y), (x, y + h * 0.25)], closed=True,
                         transform=ax.transAxes, facecolor="#000000", edgecolor="#000000",
                         linewidth=0.5, zorder=22))
    ax.add_patch(Polygon([(x, y + h), (x + w, y), (x, y + h * 0.25)], closed=True,
                         transform=ax.transAxes, facecolor="white", edgecolor="#000000",
                         linewidth=0.5, zorder=22))
    ax.text(x, y + h + 0.012, "N", transform=ax.transAxes, ha="center", va="bottom",
            fontsize=8 * scale, fontweight="bold", zorder=22)


def sources_text(cat: Catalog, layer: MapLayer, *, context: bool = True,
                 bezirk: bool = False) -> list[str]:
    """One line per source drawn: layer label, source, licence, Stand.

    ``context`` adds the base layers :func:`draw_context` draws (the city boundary only for
    the whole city, not for one Bezirk).
    """
    lines = []

    def line(label: str, meta: dict) -> str:
        parts = [str(meta.get(k) or "") for k in ("source", "licence")]
        date = str(meta.get("date") or "")
        text = f"{label}: " + "; ".join(p for p in parts if p and p != "nicht angegeben")
        if date and date != "nicht angegeben":
            text += f" (Stand {fmt_date(date)})"
        return text

    lines.append(line(layer.label, layer.metadata))
    if context:
        for name in (cat.unit.layer, "stadtbezirke", "stadtgrenze"):
            if name == "stadtgrenze" and bezirk:
                continue
            if name in cat.names() and name != layer.name:
                s = cat.schema(name)
                lines.append(line(s.label, {"source": s.source, "licence": s.licence,
                                            "date": s.date}))
    return list(dict.fromkeys(lines))


def _extent(cat: Catalog, frame: gpd.GeoDataFrame, code: Any) -> np.ndarray:
    """What a map shows: the Bezirk (its polygon or its units), else the whole city."""
    if code is not None:
        if "stadtbezirke" in cat.names():
            bz = cat.load("stadtbezirke")
            return bz[bz["bezirk"] == code].total_bounds
        st = cat.load(cat.unit.layer)
        return st[st["bezirk"] == code].total_bounds
    if cat.unit.layer in cat.names():
        return cat.load(cat.unit.layer).total_bounds
    return frame.total_bounds


def fit_extent(ax: Axes, bounds: Sequence[float], *, width_mm: float, height_mm: float,
               pad: float = 0.04) -> None:
    """Show ``bounds`` (plus ``pad``) on ``ax`` at equal scale in both directions.

    The limits are widened in one direction to the printed aspect of the frame, so the
    frame keeps its size (no distortion, no matplotlib aspect adjustment).
    """
    x0, y0, x1, y1 = (float(b) for b in bounds)
    w, h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    w, h = w * (1 + 2 * pad), h * (1 + 2 * pad)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    frame = width_mm / height_mm
    if w / h < frame:
        w = h * frame
    else:
        h = w / frame
    ax.set_xlim(cx - w / 2, cx + w / 2)
    ax.set_ylim(cy - h / 2, cy + h / 2)


def new_figure(paper: str = "A4", *, portrait: bool = False, dpi: float = 100) -> Figure:
    """A page of ``paper`` size (landscape unless ``portrait``), white, no pyplot state.

    ``dpi`` is the figure's resolution on screen (a notebook shows it at that size); files
    get theirs from :func:`save_figure`.
    """
    from matplotlib.figure import Figure

    if paper not in PAPER_SIZES:
        raise InputError(f"--format {paper!r}: erlaubt sind {', '.join(PAPER_SIZES)}.")
    w, h = PAPER_SIZES[paper]
    if portrait:
        w, h = h, w
    return Figure(figsize=(w * _MM, h * _MM), facecolor="white", dpi=dpi)


def save_figure(fig: Figure, path: str | os.PathLike, *, dpi: int = 200,
                overwrite: bool = False, inputs: Iterable[str | os.PathLike] = (),
                metadata: dict | None = None) -> Path:
    """Write ``fig`` atomically as PDF (vector, TrueType fonts) or PNG (``dpi``)."""
    import matplotlib

    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in ("pdf", "png"):
        raise InputError(f"{str(target)!r}: die Ausgabe endet auf .pdf oder .png.")
    meta = {"Creator": f"gis_planning {__version__}", **(metadata or {})}
    if fmt == "png":
        meta = {k: v for k, v in meta.items() if k in ("Title", "Author", "Creator",
                                                       "Description", "Copyright")}
    with matplotlib.rc_context({"pdf.fonttype": 42, "font.family": "DejaVu Sans"}), \
            atomic_path(target, overwrite=overwrite, inputs=inputs) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi, metadata=meta)
    return target


# --------------------------------------------------------------------------- the page
def _note(layer: MapLayer) -> str:
    meta = layer.metadata
    notes = []
    if meta.get("estimated"):
        notes.append("Geschätzte Werte, keine amtliche Statistik.")
    if meta.get("synthetic") or "synthetisch" in layer.label:
        notes.append("Synthetische Demonstrationsdaten, keine echten Standorte.")
    desc = str(meta.get("description") or "")
    if "unterdrückt" in desc or "Bezirkswert" in desc:
        notes.append(desc)
    return " ".join(notes)


def map_figure(
    cat: Catalog,
    name: str,
    *,
    paper: str = "A4",
    bezirk: str | None = None,
    title: str | None = None,
    today: _dt.date | None = None,
    dpi: float = 100,
) -> Figure:
    """The map page of atlas layer ``name`` as a matplotlib ``Figure`` (see :func:`render_map`).

    Shown inline in a notebook (at ``dpi``); :func:`render_map` writes it to a file.
    """
    layer = map_layer(cat, name)
    code = bezirk_code(cat, bezirk) if bezirk is not None else None
    frame = layer.frame
    if code is not None:
        if "bezirk" in frame:
            frame = frame[frame["bezirk"] == code]
        else:
            area = cat.load("stadtbezirke") if "stadtbezirke" in cat.names() else None
            if area is not None:
                area = area[area["bezirk"] == code]
                frame = frame[frame.intersects(area.union_all())]
        if frame.empty:
            raise InputError(f"--bezirk {bezirk!r}: die Ebene {name!r} hat dort keine Objekte.")
        layer = MapLayer(layer.name, frame, layer.label, layer.style, layer.metadata)
    fig = new_figure(paper, dpi=dpi)
    w_mm, h_mm = PAPER_SIZES[paper]
    k = w_mm / PAPER_SIZES["A4"][0]  # text scale for A3
    map_rect = (0.03, 0.13, 0.64, 0.74)
    ax = fig.add_axes(map_rect)
    ax.set_axis_off()
    draw_layer(ax, layer, zorder=2, scale=k)
    own_labels = layer.style is not None and layer.style.label_column == "stadtteil"
    draw_context(ax, cat, bezirk=code, zorder=6, scale=k,
                 unit_labels=code is not None and not own_labels)
    fit_extent(ax, _extent(cat, frame, code), width_mm=w_mm * map_rect[2],
               height_mm=h_mm * map_rect[3])
    from matplotlib.patches import Rectangle

    ax.add_patch(Rectangle((0, 0), 1, 1, transform=ax.transAxes, fill=False,
                           edgecolor="#555555", linewidth=0.6, zorder=30))
    scale_bar(ax, width_mm=w_mm * map_rect[2], scale=k)
    north_arrow(ax, scale=k)

    where = f"{cat.bezirk_labels().get(code, code)} · " if code is not None else ""
    heading = title or layer.label
    fig.text(0.03, 0.955, heading, fontsize=15 * k, fontweight="bold", va="top")
    date = str(layer.metadata.get("date") or "")
    stand = f"Stand {fmt_date(date)}" if date and date != "nicht angegeben" else ""
    sub = f"{where}Integrationsatlas {cat.city}" + (f" · {stand}" if stand else "")
    fig.text(0.03, 0.905, sub, fontsize=9 * k, color="#444444", va="top")

    lax = fig.add_axes((0.70, 0.13, 0.27, 0.74))
    lax.set_axis_off()
    legend_title, entries = legend_entries(layer)
    handles = [h for h, _ in entries]
    labels = ["\n".join(textwrap.wrap(lbl, 38)) for _, lbl in entries]
    leg = lax.legend(handles, labels, title="\n".join(textwrap.wrap(legend_title, 34)),
                     loc="upper left", frameon=False, fontsize=7 * k, title_fontsize=8 * k,
                     alignment="left", handlelength=1.6, handleheight=1.1)
    leg._legend_box.align = "left"
    style = layer.style
    extra = []
    if style is not None and style.kind == "graduated" and style.classification is not None:
        extra.append(f"Klassen: {SCHEME_LABELS.get(style.classification.scheme, '')}".strip())
    note = _note(layer)
    if note:
        extra.append(note)
    if code is None and "stadtbezirke" in cat.names():
        extra.append("Linien: Stadtbezirke (gestrichelt), "
                     f"{cat.unit.label_plural} (dünn)"
                     + (", Stadtgrenze (kräftig)" if "stadtgrenze" in cat.names() else ""))
    lax.text(0.0, 0.0, "\n".join("\n".join(textwrap.wrap(t, 52)) for t in extra),
             fontsize=6.2 * k, va="bottom", ha="left", color="#333333",
             transform=lax.transAxes)

    made = (today or _dt.date.today()).strftime("%d.%m.%Y")
    lines = ["Quellen: " + " | ".join(sources_text(cat, layer, bezirk=code is not None))]
    lines.append(f"Karte: gis_planning {__version__}, erstellt am {made}; ohne "
                 f"Hintergrundkarte. Koordinatensystem {cat.crs}.")
    wrapped = "\n".join("\n".join(textwrap.wrap(t, int(190 * k))) for t in lines)
    fig.text(0.03, 0.02, wrapped, fontsize=5.8 * k, va="bottom", ha="left", color="#333333")
    fig._gis_planning_meta = {"Title": heading, "Subject": sub}
    return fig


def render_map(
    cat: Catalog,
    name: str,
    path: str | os.PathLike,
    *,
    paper: str = "A4",
    bezirk: str | None = None,
    title: str | None = None,
    dpi: int = 200,
    overwrite: bool = False,
    today: _dt.date | None = None,
) -> Path:
    """Print atlas layer ``name`` of ``cat`` as a map page (PDF or PNG, by the suffix).

    Parameters
    ----------
    cat
        The catalogue.
    name
        Layer, table with units, result or ``bezirkswerte`` (:func:`map_layer_names`).
    path
        Output ``.pdf`` (vector) or ``.png``; replaced only with ``overwrite``.
    paper
        ``"A4"`` or ``"A3"``, landscape.
    bezirk
        Only this Bezirk (code, Roman numeral, "Bezirk III" or name): its features and
        units, zoomed to it.
    title
        Map title (default: the layer's German label).
    dpi
        Resolution of a PNG (PDFs are vector).
    today
        Date printed as the map's date (default: today).

    Returns
    -------
    pathlib.Path

    Notes
    -----
    Classes, colours and legend labels are the layer's shared style (as in the atlas and in
    QGIS); fills use the style's opacity over white. The scale is computed from the printed
    width of the map frame (``1 : map width in m x 1000 / frame width in mm``).
    """
    fig = map_figure(cat, name, paper=paper, bezirk=bezirk, title=title, today=today)
    meta = getattr(fig, "_gis_planning_meta", {})
    out = save_figure(fig, path, dpi=dpi, overwrite=overwrite, inputs=cat.inputs(),
                      metadata=meta)
    log.info("Karte %s geschrieben: %s", name, out)
    return out
