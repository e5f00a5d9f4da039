"""Folium maps: the only module that knows about HTML.

:class:`Atlas` builds an interactive map from GeoDataFrames in any projected CRS: layers in
groups (Grundlagen / Analyse / Planung) with a compact grouped layer control, classified
choropleths, a legend for every layer (shown while its layer is), one German info tooltip and
popup for the topmost visible thematic layer (with unit, date, source and notes), clustered
point markers with symbols by type, labels placed by priority around markers, a search over
units, Bezirke and facilities that folds umlauts and tolerates typos, a query panel
(conditions on attributes, areas and distances; count, table, CSV), fullscreen, a scale bar,
a title block and a sources box; the city stays clear of the controls on phones and desktops.
Every attribute value shown is HTML-escaped in Python (:func:`gis_planning.labels.esc`)
before it reaches the page. The page code is ``gis_planning/static/gp/atlas.js|css``, inlined
by :func:`gis_planning.outputs._offline.own_asset`; :meth:`Atlas._repr_html_` shows the
offline page in notebooks.

The page stays light: polygon layers are simplified topology-preservingly at this boundary
(:func:`gis_planning.outputs.simplify.simplify_coverage`, shared borders stay shared, each border
within ``Atlas.tolerance_m`` of the source), reprojected to WGS84, rounded to the decimals
the zoom range needs (:func:`gis_planning.outputs.simplify.decimals_for_zoom`) and written once as
Google-polyline strings (:mod:`gis_planning.outputs._webgeom`); layers drawing the same
polygons (the Stadtteile under several choropleths) share one copy. Points are one compact
array per layer. Attribute columns are written once per layer, repeated texts
dictionary-encoded. :attr:`Atlas.layer_sizes` records the bytes each layer adds to the page.

The module stays one piece although it is long: nearly all of it is the one class
:class:`Atlas`, whose methods share the page state (layers, legends, stores, search index);
the parts that stand alone already live in :mod:`~gis_planning.outputs._webgeom`,
:mod:`~gis_planning.outputs._webdata` and :mod:`~gis_planning.outputs._offline`.

Examples
--------
Any catalogue (any city) gives the same atlas with :func:`gis_planning.outputs.atlas.build_atlas`;
layers can also be drawn by hand:

>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> from gis_planning.outputs.webmap import Atlas, classify
>>> st = gpd.GeoDataFrame({"stadtteil": ["Nord", "Süd"], "wert": [1.5, 4.0]},
...     geometry=[box(362000, 5701000, 363000, 5702000), box(362000, 5700000, 363000, 5701000)],
...     crs="EPSG:25832")
>>> atlas = Atlas(title="Atlas Beispielstadt", bounds=st, basemap=False)
>>> _ = atlas.add_polygons(st, name="Wert", group="Analyse", tooltip={"stadtteil": None},
...     classification=classify(st["wert"], k=2), search_field="stadtteil")
>>> atlas.add_source("Stadtteile", "Beispiel; dl-de/by-2-0")
>>> html = atlas.render(mode="offline")   # or atlas.save("maps/beispiel.html")
>>> "Atlas Beispielstadt" in html and "https://cdn" not in html
True
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import branca
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium import plugins
from folium.elements import JSCSSMixin

from .._atomic import atomic_path
from .._errors import InputError
from .._validate import require_crs
from ..labels import column_label, esc, fmt_number
from ..privacy import guard
from ._webdata import _column, _compact, _plain, _swatch
from ._webdata import projection_fit as _projection_fit
from ._webgeom import (
    bounded_coverage_simplify,
    decode_polygon,
    decode_polyline,
    encode_polygon,
    encode_polyline,
    rounding_error_m,
)
from .simplify import decimals_for_zoom
from .styles import PALETTES, SCHEME_LABELS, Classification, classify

__all__ = [
    "GROUPS",
    "PALETTES",
    "Atlas",
    "Classification",
    "classify",
    "decode_polyline",
    "encode_polyline",
    "layer_group_names",
]

#: Layer groups in the layer control, in order.
GROUPS = ("Grundlagen", "Analyse", "Planung")

_CFL = "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/"


# ---------------------------------------------------------------------- encoding
def _js_json(obj: object) -> str:
    """JSON for a ``<script>`` element: nothing inside can close or comment out the element.

    folium renders each script snippet once more as a Jinja template; the snippets are wrapped
    in ``{% raw %}`` and this JSON never contains ``{%`` or ``%}`` (``%`` is escaped there),
    so no value can end the raw block and reach the template engine.
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    # "%" occurs in JSON only inside strings; written as \u0025 next to a brace, no "{%"
    # can end the Jinja raw block the snippet is wrapped in.
    text = (text.replace("</", "<\\/").replace("<!--", "<\\!--")
            .replace("{%", "{\\u0025").replace("%}", "\\u0025}"))
    # "{map}" / "{layer}" in user text must stay text: _Script fills these placeholders in
    # the code around the JSON. A structural "{" is never followed by a letter in compact
    # JSON, so every such brace is inside a string and can be written as \u007b.
    return _PLACEHOLDER_BRACE.sub(r"\\u007b", text)


_PLACEHOLDER_BRACE = re.compile(r"\{(?=[A-Za-z_])")



def _to_web(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    guard(gdf, what="Ebene der Webkarte")
    require_crs(gdf, name="layer")
    return gdf.to_crs("EPSG:4326")



# ---------------------------------------------------------------------- page elements
class _Script(JSCSSMixin, folium.MacroElement):
    """A piece of script: ``code`` with ``{map}`` / ``{layer}`` replaced by variable names."""

    _template = branca.element.Template(
        "{% macro script(this, kwargs) %}{{ '{% raw %}' }}{{ this.js() }}{{ '{% endraw %}' }}"
        "{% endmacro %}"
    )

    def __init__(self, code: str, *, layer: folium.MacroElement | None = None,
                 js: Sequence[tuple[str, str]] = (), css: Sequence[tuple[str, str]] = ()):
        super().__init__()
        self._name = "GpScript"
        self.code = code
        self.layer = layer
        self.default_js = list(js)
        self.default_css = list(css)

    def js(self) -> str:
        root = self._parent
        while root is not None and not isinstance(root, folium.Map):
            root = root._parent
        names = {"map": root.get_name() if root is not None else "map"}
        if self.layer is not None:
            names["layer"] = self.layer.get_name()
        out = self.code
        for key, value in names.items():
            out = out.replace("{" + key + "}", value)
        return out


class _Store(folium.MacroElement):
    """The shared polygon store, filled while layers are added, written once."""

    _template = branca.element.Template(
        "{% macro script(this, kwargs) %}{{ '{% raw %}' }}gp.store({{ this.payload() }});"
        "{{ '{% endraw %}' }}{% endmacro %}"
    )

    def __init__(self, decimals: int):
        super().__init__()
        self._name = "GpStore"
        self.decimals = decimals
        self.geoms: dict[str, list[list[str]]] = {}
        self.reps: dict[str, list[int]] = {}

    def payload(self) -> str:
        return _js_json({"d": self.decimals, "g": self.geoms, "r": self.reps})


# ---------------------------------------------------------------------- the atlas
Tooltip = Mapping[str, Callable[[object], str] | None]


@dataclass
class Atlas:
    """An interactive map assembled from layers, with legends, tooltips and sources.

    Parameters
    ----------
    title, subtitle
        Text of the title block.
    bounds
        A layer whose extent the map opens on (any CRS). Its CRS (if projected, else the UTM
        zone of the extent) is the one distances in the query panel are measured in.
    basemap
        Show OpenStreetMap tiles when online; offline the map still reads (plain background,
        outlines, labels).
    tolerance_m
        Largest distance in metres between a drawn polygon border and the source border
        (simplification plus coordinate rounding), checked per layer.
    detail_zoom
        Zoom level up to which borders are drawn exactly (to half a pixel); sets the decimals
        of the coordinates (:func:`~gis_planning.outputs.simplify.decimals_for_zoom`: 5 up to zoom
        15). Points get one decimal more (about 0.1 m).
    sources, notices
        Lines of the sources box and notices of the title block (see :meth:`add_source`,
        :meth:`add_notice`).
    layer_sizes
        Filled while layers are added: bytes of each layer's data in the page (shared
        polygons count for the first layer that draws them).
    max_zoom
        Highest zoom level of the map.
    column_labels
        Column -> German label, looked up before :data:`gis_planning.labels.COLUMN_LABELS`.
    search_placeholder
        Text of the empty search box.
    join_keys
        Columns that identify areas in every layer (codes, kept raw in the page): the query
        panel's "liegt in" uses them instead of geometry where both layers have them.

    Notes
    -----
    Polygons are simplified with :func:`~gis_planning.outputs.simplify.simplify_coverage` when the
    layer is a valid coverage (shared borders simplified once: no gaps, no slivers), else each
    polygon with Douglas-Peucker (``shapely.simplify(preserve_topology=True)``, Hausdorff
    distance at most the tolerance). The simplification bound is ``tolerance_m`` minus the
    largest rounding displacement ``0.5 * 10**-d`` degrees in both axes (0.66 m for ``d = 5``
    at 51.45° N), so the drawn border stays within ``tolerance_m`` of the source.

    The page (``static/gp/atlas.js``) shows, on hover and on click, the value of the topmost
    visible thematic layer at that point (base outlines only where no thematic layer is
    shown), in one tooltip and one popup. Attribute values are kept raw where they are
    numbers or yes/no (formatted in the page like :func:`gis_planning.labels.fmt_number`) so
    the query panel can compare them; distances there are computed in the CRS of ``bounds``
    through a degree-3 polynomial of longitude/latitude (residual in ``Atlas.projection``).
    """

    title: str
    bounds: gpd.GeoDataFrame
    subtitle: str = ""
    basemap: bool = True
    tolerance_m: float = 5.0
    detail_zoom: int = 15
    max_zoom: int = 18
    sources: list[tuple[str, str]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    tables: list[tuple[str, str]] = field(default_factory=list)
    layer_sizes: dict[str, int] = field(default_factory=dict)
    column_labels: dict[str, str] = field(default_factory=dict)
    search_placeholder: str = "Suchen …"
    join_keys: tuple[str, ...] = ("stadtteil_nr", "bezirk")

    def __post_init__(self) -> None:
        if not (self.tolerance_m > 0 and math.isfinite(self.tolerance_m)):
            raise InputError(f"Toleranz der Vereinfachung: eine positive Zahl von Metern nötig, "
                             f"nicht {self.tolerance_m!r}.")
        self.decimals = decimals_for_zoom(self.detail_zoom)
        web = _to_web(self.bounds)
        minx, miny, maxx, maxy = web.total_bounds
        self._latitude = float((miny + maxy) / 2)
        if rounding_error_m(self.decimals, self._latitude) >= self.tolerance_m:
            raise InputError(f"Toleranz {self.tolerance_m} m liegt unter dem Rundungsfehler bei "
                             f"Zoomstufe {self.detail_zoom}; wählen Sie eine höhere Zoomstufe.")
        self._web_bounds = [[float(miny), float(minx)], [float(maxy), float(maxx)]]
        crs = self.bounds.crs if self.bounds.crs.is_projected else web.estimate_utm_crs()
        #: Longitude/latitude -> CRS polynomial of the query panel (``err`` in metres).
        self.projection = _projection_fit(web.total_bounds, crs)
        self.map = folium.Map(
            location=[(miny + maxy) / 2, (minx + maxx) / 2],
            zoom_start=11, min_zoom=9, max_zoom=self.max_zoom, tiles=None,
            control_scale=True, prefer_canvas=False, zoom_snap=0.25, zoom_delta=0.5,
        )
        # the page opens on the city itself (gp.fit, with room for the controls); a folium
        # fit_bounds here would start a zoom animation that ends after gp.fit and undoes it
        self._tiles: folium.TileLayer | None = None
        if self.basemap:
            self._tiles = folium.TileLayer(
                "OpenStreetMap",
                name="OpenStreetMap (nur online)",
                attr='&copy; <a href="https://www.openstreetmap.org/copyright">'
                "OpenStreetMap</a>-Mitwirkende",
                overlay=True, control=False, opacity=0.55,
            )
            self._tiles.add_to(self.map)
        from . import _offline

        root = self.map.get_root()
        for name in ("atlas.css", "atlas.js"):
            tag = _offline.own_asset(name)
            if "{%" in tag or "%}" in tag:
                raise InputError(f"static/gp/{name} enthält '{{%' oder '%}}'.")
            root.header.add_child(branca.element.Element("{% raw %}" + tag + "{% endraw %}"),
                                  name=f"gp_{name.replace('.', '_')}")
        self._store = _Store(self.decimals)
        self.map.add_child(self._store)
        self.map.add_child(_Script(
            f"gp.proj = {_js_json(self.projection)}; gp.init({{map}});"))
        self._groups: dict[str, list[tuple[str, folium.FeatureGroup]]] = {g: [] for g in GROUPS}
        self._simplified: dict[str, np.ndarray] = {}
        #: Embedded geometries per polygon layer (EPSG:4326, as drawn), for checks.
        self.web_geometries: dict[str, gpd.GeoSeries] = {}
        self.feature_counts: dict[str, tuple[str, int]] = {}
        #: Names of the layers whose legend is in the page.
        self.legends: list[str] = []

    # ------------------------------------------------------------------ layers
    def _group(self, name: str, group: str, *, show: bool) -> folium.FeatureGroup:
        if not isinstance(group, str) or not group.strip():
            raise InputError(f"Gruppe: der Name einer Gruppe der Ebenenliste (z. B. "
                             f"{', '.join(GROUPS)}), nicht {group!r}.")
        if group not in self._groups:  # a further group (e.g. a census grid) after Analyse
            self._groups[group] = []
            order = [g for g in ("Grundlagen", "Analyse") if g in self._groups]
            order += [g for g in self._groups if g not in (*GROUPS, group)] + [group]
            order += [g for g in self._groups if g not in order]
            self._groups = {g: self._groups[g] for g in order}
        if any(name == n for items in self._groups.values() for n, _ in items):
            raise InputError(f"eine Ebene {name!r} gibt es schon; wählen Sie einen anderen "
                             f"Namen.")
        fg = folium.FeatureGroup(name=name, show=show, overlay=True)
        fg.add_to(self.map)
        self._groups[group].append((name, fg))
        return fg

    @staticmethod
    def _values(gdf: pd.DataFrame, fields: Tooltip) -> list[list[str]]:
        """Formatted, HTML-escaped values, one list per row."""

        def show(value: object, fmt: Callable[[object], str] | None) -> str:
            if fmt is not None:
                return esc(fmt(value))
            if value is None or (isinstance(value, float) and math.isnan(value)):
                return "–"
            if value is pd.NA or value is pd.NaT:
                return "–"
            if isinstance(value, bool | np.bool_):
                return "ja" if value else "nein"
            if isinstance(value, float | np.floating):
                return fmt_number(float(value), 0 if float(value).is_integer() else 2)
            if isinstance(value, int | np.integer):
                return fmt_number(int(value), 0)
            return esc(value)

        cols = list(fields)
        return [[show(v, fields[c]) for c, v in zip(cols, row, strict=True)]
                for row in gdf[cols].itertuples(index=False, name=None)]

    @staticmethod
    def tooltip_table(
        gdf: pd.DataFrame,
        fields: Tooltip,
        *,
        note: str | None = None,
        column_labels: Mapping[str, str] | None = None,
    ) -> pd.Series:
        """Return one escaped HTML table per row: German label | formatted value."""
        labels = [esc(column_label(c, column_labels)) for c in fields]
        rows = []
        for values in Atlas._values(gdf, fields):
            cells = "".join(f"<tr><th>{lab}</th><td>{v}</td></tr>"
                            for lab, v in zip(labels, values, strict=True))
            extra = f'<div class="gp-note">{esc(note)}</div>' if note else ""
            rows.append(f'<table class="gp-tip">{cells}</table>{extra}')
        return pd.Series(rows, index=gdf.index)

    def _simplify(self, gdf: gpd.GeoDataFrame) -> np.ndarray:
        """Simplified polygons in the layer's projected CRS (cached per distinct input)."""
        geoms = gdf.geometry.values
        key = hashlib.sha1(b"".join(shapely.to_wkb(geoms, hex=False)) + str(gdf.crs).encode())
        digest = key.hexdigest()
        if digest in self._simplified:
            return self._simplified[digest]
        bound = self.tolerance_m - rounding_error_m(self.decimals, self._latitude)
        polygonal = np.isin(shapely.get_type_id(geoms), [3, 6]) & ~shapely.is_empty(geoms)
        if not gdf.crs.is_projected or not polygonal.all():
            out = np.asarray(geoms)
        elif shapely.coverage_is_valid(np.asarray(geoms)):
            out = bounded_coverage_simplify(np.asarray(geoms), bound)
        else:
            out = shapely.simplify(np.asarray(geoms), bound, preserve_topology=True)
        self._simplified[digest] = np.asarray(out)
        return self._simplified[digest]

    def _size(self, name: str, payload: str, geom_bytes: int = 0) -> None:
        self.layer_sizes[name] = self.layer_sizes.get(name, 0) + len(payload.encode("utf-8")) \
            + geom_bytes

    def _attributes(
        self,
        frame: pd.DataFrame,
        tooltip: Tooltip,
        attributes: Tooltip,
        *,
        search: Sequence[str] = (),
        row_note: str | None = None,
    ) -> dict[str, object]:
        """Columns of a layer for the page: labels, types, formats, values, raw join keys."""
        fields: dict[str, tuple[Callable[[object], str] | None, bool]] = {}
        for c, f in tooltip.items():
            if c in frame.columns:
                fields[c] = (f, True)
        for c, f in attributes.items():
            if c in frame.columns and c not in fields:
                fields[c] = (f, False)
        for c in (*search, *([row_note] if row_note else [])):
            if c in frame.columns and c not in fields:
                fields[c] = (None, False)
        cols, vals = [], []
        for c, (f, tip) in fields.items():
            kind, spec, values = _column(frame[c], f)
            cols.append([c, esc(column_label(c, self.column_labels)), kind, spec, int(tip)])
            vals.append(_compact(values))
        keys = {k: [_plain(v) for v in frame[k]] for k in self.join_keys if k in frame.columns}
        names = list(fields)
        return {"cols": cols, "vals": vals, "keys": keys or None,
                "index": {c: i for i, c in enumerate(names)}}

    def add_polygons(
        self,
        gdf: gpd.GeoDataFrame,
        *,
        name: str,
        group: str = "Grundlagen",
        tooltip: Tooltip | None = None,
        note: str | None = None,
        color: str = "#333333",
        weight: float = 1.0,
        fill_color: str | None = None,
        fill_opacity: float = 0.0,
        dash_array: str | None = None,
        show: bool = True,
        classification: Classification | None = None,
        legend_title: str | None = None,
        search_field: str | None = None,
        attributes: Tooltip | None = None,
        meta: Mapping[str, str] | None = None,
        thematic: bool | None = None,
        search_kind: str | None = None,
        search_aliases: Sequence[str] = (),
        key: str | None = None,
        unit_layer: bool = False,
        row_note: str | None = None,
        legend_note: str | None = None,
    ) -> folium.FeatureGroup:
        """Add a polygon layer (outline or choropleth) with an escaped German tooltip and popup.

        Parameters
        ----------
        gdf
            Polygons in a projected CRS (metres); simplified and rounded here (see Notes of
            :class:`Atlas`).
        name, group
            Name in the layer control and its group (:data:`GROUPS`).
        tooltip
            Column -> formatter (``None``: the value as it is, numbers in German format);
            labels from :func:`gis_planning.labels.column_label`. Shown on hover and on click.
            Formatters :func:`~gis_planning.labels.fmt_int`,
            :func:`~gis_planning.labels.fmt_percent` and
            :class:`~gis_planning.labels.NumberFormat` keep the raw number in the page.
        note
            Text under every tooltip (e.g. "Schätzung").
        color, weight, fill_color, fill_opacity, dash_array
            Outline and fill (CSS colours, pixels).
        show
            Layer visible when the page opens.
        classification
            Fill polygons by class colour (:func:`classify`); the legend lists the classes, a
            grey class for missing values (its ``missing_label``) and the scheme.
        legend_title
            Title of the legend (default ``name``); every layer has a legend.
        search_field, search_kind, search_aliases
            Column the search box finds features by, the kind shown beside a hit ("Stadtteil")
            and columns also searched (e.g. a Bezirk's name).
        attributes
            More columns for the query panel and its CSV (not shown in the tooltip).
        meta
            Lines under the values in tooltip and popup, e.g. ``{"Stand": "30.09.2016",
            "Quelle": "…"}``.
        thematic
            Whether the layer is a thematic layer (its values win on hover over base outlines);
            default: it is classified or filled.
        key
            Column identifying the areas (in :attr:`join_keys`), so the query panel's
            "liegt in" compares that code where the other layer has it.
        unit_layer
            The analysis units: a search hit opens the value of the topmost thematic layer
            at the unit.
        row_note
            Column with a note per feature, shown in the popup.
        legend_note
            Text under the legend title (e.g. the names of the areas).

        Returns
        -------
        folium.FeatureGroup
            The layer's group on the map.
        """
        if not isinstance(gdf, gpd.GeoDataFrame):
            raise InputError(f"Ebene {name!r}: eine Geodatentabelle nötig, nicht "
                             f"{type(gdf).__name__}.")
        web_src = _to_web(gdf)  # guard + CRS check first
        if search_field is not None and search_field not in gdf.columns:
            raise InputError(f"Suchfeld {search_field!r} ist keine Spalte der Ebene {name!r}.")
        keep = ~(gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy()
        gdf, web_src = gdf[keep], web_src[keep]
        fg = self._group(name, group, show=show)
        simplified = gpd.GeoSeries(self._simplify(gdf), index=gdf.index, crs=gdf.crs)
        web = simplified.to_crs("EPSG:4326") if gdf.crs.is_projected else web_src.geometry
        reps = shapely.point_on_surface(web.values)
        scale = 10**self.decimals
        ids, new_bytes, drawn = [], 0, []
        for geom, rep in zip(web.values, reps, strict=True):
            parts = encode_polygon(geom, self.decimals)
            gkey = hashlib.sha1(json.dumps(parts).encode()).hexdigest()[:10]
            if gkey not in self._store.geoms:
                self._store.geoms[gkey] = parts
                self._store.reps[gkey] = [round(rep.y * scale), round(rep.x * scale)]
                new_bytes += len(_js_json(parts)) + 14 + 30
            ids.append(gkey)
            drawn.append(decode_polygon(parts, self.decimals))
        self.web_geometries[name] = gpd.GeoSeries(drawn, index=gdf.index, crs="EPSG:4326")
        aliases = [a for a in search_aliases if a in gdf.columns]
        table = self._attributes(gdf, tooltip or {}, attributes or {},
                                 search=[*([search_field] if search_field else []), *aliases],
                                 row_note=row_note)
        index = table.pop("index")
        if thematic is None:
            thematic = classification is not None or fill_opacity > 0
        data: dict[str, object] = {
            "name": esc(name), "g": ids,
            "style": {"color": color, "weight": weight, "fill": fill_color,
                      "opacity": fill_opacity, "dash": dash_array},
            "role": "t" if thematic else "b",
            "n": esc(note) if note else None,
            "meta": [[esc(k), esc(v)] for k, v in (meta or {}).items() if v] or None,
            "c": None, "pal": None, **table,
        }
        if classification is not None:
            pal = [*classification.colors, classification.missing_color]
            data["pal"] = [esc(c) for c in pal]
            data["c"] = [len(pal) - 1 if (i := classification.class_of(v)) is None else i
                         for v in gdf[classification.column]]
        if search_field:
            data["s"] = {"c": index[search_field], "k": esc(search_kind or name),
                         "a": [index[a] for a in aliases], "r": 0}
        if key and key in gdf.columns:
            data["key"] = key
        if unit_layer:
            data["unit"] = 1
        if row_note and row_note in index:
            data["rn"] = index[row_note]
        payload = _js_json(data)
        self._size(name, payload, new_bytes)
        self.feature_counts[name] = ("polygons", len(ids))
        fg.add_child(_Script(f"gp.polys({{layer}}, {payload});", layer=fg))
        title = legend_title or name
        if classification is not None:
            missing = bool(gdf[classification.column].isna().any())
            self.add_legend(fg, classification, title=title, missing=missing, name=name,
                            note=legend_note)
        else:
            sw = _swatch(color, weight, dash_array, fill_color, fill_opacity)
            extra = f'<small class="gp-names">{esc(legend_note)}</small>' if legend_note else ""
            self._legend_html(fg, f"<div>{sw}<b style='display:inline'>{esc(title)}</b></div>"
                              f"{extra}", name)
        return fg

    def add_labels(
        self, gdf: gpd.GeoDataFrame, column: str, *, name: str, group: str = "Grundlagen",
        show: bool = True, priority: Sequence[object] = (), layer: folium.FeatureGroup
        | None = None, css_class: str = "gp-label",
    ) -> folium.FeatureGroup:
        """Add text labels (e.g. Stadtteil names) at representative points.

        Labels are placed in priority order: the values of ``column`` listed in ``priority``
        first (e.g. the units a council paper names), then by area, larger first. In the
        page a label that would overlap a marker or a label already placed tries four
        positions around its point and is hidden at this zoom if none is free. With
        ``layer``, the labels belong to that layer (shown and hidden with it, no entry of
        their own in the layer control).
        """
        require_crs(gdf, name="gdf")
        fg = layer if layer is not None else self._group(name, group, show=show)
        rank = {v: i for i, v in enumerate(priority)}
        area = gdf.area if gdf.crs.is_projected else pd.Series(0.0, index=gdf.index)
        order = sorted(gdf.index, key=lambda i: (rank.get(gdf.at[i, column], len(rank)),
                                                 -float(area[i])))
        ordered = gdf.loc[order]
        pts = _to_web(ordered.set_geometry(ordered.representative_point()))
        scale = 10**self.decimals
        data = {
            "name": esc(name), "d": self.decimals, "cls": esc(css_class),
            "t": [esc(v) for v in ordered[column]],
            "x": np.round(pts.geometry.x.to_numpy() * scale).astype(int).tolist(),
            "y": np.round(pts.geometry.y.to_numpy() * scale).astype(int).tolist(),
        }
        payload = _js_json(data)
        self.feature_counts[name] = ("labels", len(ordered))
        if layer is None:
            self._size(name, payload)
            sample = f'<span class="{esc(css_class)}" style="transform:none">Name</span>'
            self._legend_html(fg, f"<div>{sample} <b style='display:inline'>{esc(name)}</b>"
                              "</div>", name)
        else:
            owner = next((n for items in self._groups.values() for n, g in items if g is layer),
                         name)
            self._size(owner, payload)
        fg.add_child(_Script(f"gp.labels({{map}}, {{layer}}, {payload});", layer=fg))
        return fg

    def add_points(
        self,
        gdf: gpd.GeoDataFrame,
        *,
        name: str,
        group: str = "Grundlagen",
        tooltip: Tooltip | None = None,
        category: str | None = None,
        styles: Mapping[str, tuple[str, str]] | None = None,
        default_style: tuple[str, str] = ("#555555", "•"),
        cluster: bool = True,
        show: bool = True,
        legend_title: str | None = None,
        attributes: Tooltip | None = None,
        meta: Mapping[str, str] | None = None,
        note: str | None = None,
        search_field: str | None = None,
        search_kind: str | None = None,
        hover: int = 2,
    ) -> folium.FeatureGroup:
        """Add point markers, clustered, with a symbol and colour per ``category`` value.

        ``styles`` maps category values to ``(colour, one-letter symbol)``. Markers are
        pure HTML (no icon fonts), so they work offline; a legend lists the categories used.
        Hover shows the first ``hover`` tooltip fields, a click all of them with ``meta``
        (source, date). ``attributes``, ``search_field`` and ``search_kind`` as in
        :meth:`add_polygons`. Confidential layers are refused
        (:func:`gis_planning.privacy.guard`).
        """
        web = _to_web(gdf)
        fg = self._group(name, group, show=show)
        keep = ~(web.geometry.isna() | web.geometry.is_empty)
        web, gdf = web[keep], gdf[keep.to_numpy()]
        if not set(web.geom_type) <= {"Point"}:
            web = web.set_geometry(web.geometry.representative_point())
        styles = dict(styles or {})
        keys = list(styles)
        cats = [*(styles[k] for k in keys), default_style]
        if category:
            k = [keys.index(v) if v in styles else len(keys) for v in web[category]]
        else:
            k = None
        table = self._attributes(gdf, tooltip or {}, attributes or {},
                                 search=[search_field] if search_field else [])
        index = table.pop("index")
        dec = self.decimals + 1
        latlng = np.column_stack([web.geometry.y.to_numpy(), web.geometry.x.to_numpy()])
        data: dict[str, object] = {
            "name": esc(name), "d": dec, "cluster": bool(cluster),
            "xy": encode_polyline(latlng, dec) if len(latlng) else "",
            "cats": [[esc(c), esc(s)] for c, s in cats], "k": k,
            "cc": esc(cats[max(set(k), key=k.count)][0] if k else cats[-1][0]),
            "n": esc(note) if note else None, "hover": int(hover),
            "meta": [[esc(a), esc(b)] for a, b in (meta or {}).items() if b] or None,
            **table,
        }
        if search_field and search_field in index:
            data["s"] = {"c": index[search_field], "k": esc(search_kind or name), "a": [],
                         "r": 1}
        payload = _js_json(data)
        self._size(name, payload)
        self.feature_counts[name] = ("points", len(web))
        js = [("markerclusterjs", _CFL + "leaflet.markercluster.js")] if cluster else []
        css = [("markerclustercss", _CFL + "MarkerCluster.css")] if cluster else []
        fg.add_child(_Script(f"gp.points({{layer}}, {payload});", layer=fg, js=js, css=css))
        title = f"<b>{esc(legend_title or name)}</b>"
        if category and styles:
            present = set(web[category])
            items = "".join(
                f'<div><i style="background:{esc(styles[v][0])};border-radius:50%"></i>'
                f"{esc(v)}</div>"
                for v in keys if v in present
            )
            if any(v not in styles for v in present):
                items += (f'<div><i style="background:{esc(default_style[0])};'
                          'border-radius:50%"></i>sonstige</div>')
            self._legend_html(fg, f"{title}{items}", name)
        else:
            self._legend_html(
                fg, f'<div><i style="background:{esc(default_style[0])};border-radius:50%">'
                f"</i><b style='display:inline'>{esc(legend_title or name)}</b></div>", name)
        return fg

    # ------------------------------------------------------------------ legends and boxes
    def add_image(
        self,
        uri: str,
        bounds: tuple[float, float, float, float],
        *,
        name: str,
        group: str = "Analyse",
        show: bool = False,
        legend_title: str,
        legend_items: Sequence[tuple[str, str]],
        note: str | None = None,
    ) -> folium.FeatureGroup:
        """Add a raster surface as one image overlay (``uri``: PNG data URI) with a legend.

        ``bounds`` are ``(south, west, north, east)`` in degrees (see
        :func:`gis_planning.outputs.imagery.surface_image`); ``legend_items`` are
        ``(colour, label)`` pairs.
        """
        fg = self._group(name, group, show=show)
        if not getattr(self, "_image_pane", False):  # images above the choropleths
            folium.map.CustomPane("gp-bilder", z_index=450, pointer_events=False).add_to(
                self.map)
            self._image_pane = True
        s, w, n, e = bounds
        folium.raster_layers.ImageOverlay(image=uri, bounds=[[s, w], [n, e]], opacity=1.0,
                                          interactive=False, pane="gp-bilder").add_to(fg)
        self._size(name, uri)
        self.feature_counts[name] = ("image", 1)
        fg.add_child(_Script(f"gp.image({{layer}}, {_js_json({'name': esc(name)})});",
                             layer=fg))
        items = "".join(f'<div><i style="background:{esc(c)}"></i>{esc(lab)}</div>'
                        for c, lab in legend_items)
        extra = f'<small class="gp-names">{esc(note)}</small>' if note else ""
        self._legend_html(fg, f"<b>{esc(legend_title)}</b>{extra}{items}", name)
        return fg

    def add_legend(
        self, layer: folium.FeatureGroup, classification: Classification, *, title: str,
        missing: bool = False, name: str | None = None, note: str | None = None,
    ) -> None:
        """Add a class legend that hides with ``layer``; the class count is stated.

        With ``missing``, a grey swatch names the missing values
        (``classification.missing_label``, e.g. "< 5 unterdrückt").
        """
        c = classification
        scheme = SCHEME_LABELS.get(c.scheme, c.scheme)
        items = "".join(
            f'<div><i style="background:{esc(col)}"></i>{esc(lab)}</div>'
            for col, lab in zip(c.colors, c.labels, strict=True)
        )
        if missing:
            items += (f'<div><i style="background:{esc(c.missing_color)}"></i>'
                      f"{esc(c.missing_label)}</div>")
        extra = f'<small class="gp-names">{esc(note)}</small>' if note else ""
        self._legend_html(
            layer,
            f"<b>{esc(title)}</b>{extra}{items}<small>{c.k} Klassen, {esc(scheme)}</small>",
            name or title,
        )

    def _legend_html(self, layer: folium.FeatureGroup, html_text: str, name: str) -> None:
        self.legends.append(name)
        self.map.add_child(_Script(
            f"gp.legend({{map}}, {{layer}}, {_js_json(html_text)}, {_js_json(esc(name))});",
            layer=layer))

    def add_source(self, what: str, text: str) -> None:
        """Record a source / licence line for the sources box."""
        if (what, text) not in self.sources:
            self.sources.append((what, text))

    def add_notice(self, text: str) -> None:
        """Record a notice shown prominently in the title block (e.g. synthetic data)."""
        if text not in self.notices:
            self.notices.append(text)

    def add_table(
        self,
        title: str,
        frame: pd.DataFrame,
        columns: Tooltip,
        *,
        note: str | None = None,
    ) -> None:
        """Add a collapsible table box (e.g. segregation indices) with escaped German cells.

        ``columns`` maps column names to formatters; headers come from the label table.
        """
        cols = [c for c in columns if c in frame.columns]
        head = "".join(f"<th>{esc(column_label(c, self.column_labels))}</th>" for c in cols)
        rows = "".join(
            "<tr>" + "".join(
                f"<td>{esc(columns[c](rec[c]) if columns[c] else rec[c])}</td>" for c in cols
            ) + "</tr>"
            for _, rec in frame.iterrows()
        )
        foot = f'<div class="gp-note">{esc(note)}</div>' if note else ""
        self.tables.append((title, f'<table class="gp-table"><tr>{head}</tr>{rows}</table>'
                                   f"{foot}"))

    def _finish(self) -> None:
        notices = "".join(f'<div class="gp-note">{esc(n)}</div>' for n in self.notices)
        title = (f'<b class="gp-title">{esc(self.title)}<small>{esc(self.subtitle)}</small></b>'
                 f"{notices}")
        self.map.add_child(_Script(
            f"gp.box({{map}}, {_js_json(title)}, 'topright', 'gp-box gp-titlebox', 0);"))
        self.map.add_child(_Script(
            f"gp.search({{map}}, {_js_json(esc(self.search_placeholder))});"))
        plugins.Fullscreen(position="topleft", title="Vollbild", title_cancel="Vollbild beenden",
                           force_separate_button=True).add_to(self.map)
        self.map.add_child(_Script("gp.query({map});"))
        src = "".join(f"<div><b>{esc(w)}</b>{esc(t)}</div>" for w, t in self.sources)
        licences = [lic for lic in ("ODbL", "dl-de/by-2-0", "CC BY 4.0")
                    if any(lic in t for _, t in self.sources)]
        summary = "Quellen und Lizenzen" + (f" ({', '.join(licences)})" if licences else "")
        box = _js_json(f"<details><summary>{esc(summary)}</summary>{src}</details>")
        self.map.add_child(_Script(
            f"gp.box({{map}}, {box}, 'bottomleft', 'gp-box gp-sources', 1400);"
            "gp.raiseLegends({map});"))
        for title_text, table_html in self.tables:
            box = _js_json(f"<details><summary>{esc(title_text)}</summary>{table_html}"
                           "</details>")
            self.map.add_child(_Script(
                f"gp.box({{map}}, {box}, 'bottomright', 'gp-box gp-tablebox', 1900);"))
        groups = [
            f"[{_js_json(esc(g))}, ["
            + ",".join(f"[{_js_json(esc(n))}, {fg.get_name()}]" for n, fg in items)
            + "]]"
            for g, items in self._groups.items() if items
        ]
        base = (f"[{_js_json(esc(self._tiles.layer_name))}, {self._tiles.get_name()}]"
                if self._tiles is not None else "null")
        self.map.add_child(_Script(f"gp.control({{map}}, [{','.join(groups)}], {base});"
                                   f"gp.fit({{map}}, {_js_json(self._web_bounds)});"))

    def render(self, *, mode: str = "offline") -> str:
        """Return the map as one HTML document.

        ``mode="offline"`` inlines Leaflet and every plugin (no network needed);
        ``mode="cdn"`` links them from jsDelivr with integrity hashes for a smaller file
        (a notice says when they cannot load).
        """
        if mode not in ("offline", "cdn"):
            raise InputError(f"Modus {mode!r}: möglich sind 'offline' (--offline) und 'cdn' "
                             f"(--cdn).")
        if not getattr(self, "_finished", False):
            self._finish()
            self._finished = True
        from . import _offline

        page = _offline.render_html(self.map, mode=mode)
        page = re.sub(r"<html\b[^>]*>", '<html lang="de">', page, count=1)
        if "<title>" not in page[:4000]:
            page = page.replace("<head>", f"<head>\n<title>{esc(self.title)}</title>", 1)
        return page

    def _repr_html_(self) -> str:
        """The offline page in an ``<iframe srcdoc>``, for notebooks (no CDN, no server)."""
        page = self.render(mode="offline")
        return (f'<iframe srcdoc="{esc(page)}" title="{esc(self.title)}" '
                'style="width:100%;height:640px;border:1px solid #ccc" '
                'sandbox="allow-scripts allow-downloads allow-popups"></iframe>')

    def save(
        self, path: str | os.PathLike, *, mode: str = "offline", overwrite: bool = False
    ) -> Path:
        """Write the map atomically to ``path``; an existing file only with ``overwrite``."""
        html_text = self.render(mode=mode)
        with atomic_path(path, overwrite=overwrite) as tmp:
            tmp.write_text(html_text, encoding="utf-8")
        return Path(path)

    def size_report(self) -> pd.DataFrame:
        """Bytes per layer in the page: ``layer``, ``group``, ``kind``, ``features``, ``bytes``."""
        rows = []
        for group, items in self._groups.items():
            for name, _ in items:
                kind, n = self.feature_counts.get(name, ("", 0))
                rows.append({"layer": name, "group": group, "kind": kind, "features": n,
                             "bytes": self.layer_sizes.get(name, 0)})
        return pd.DataFrame(rows, columns=["layer", "group", "kind", "features", "bytes"])


def layer_group_names(atlas: Atlas) -> dict[str, Sequence[str]]:
    """Return the layer names per group (for reports and tests)."""
    return {g: [n for n, _ in items] for g, items in atlas._groups.items()}
