"""Folium maps: the only module that knows about HTML.

:class:`Atlas` builds an interactive map from GeoDataFrames in any projected CRS: layers in
groups (Grundlagen / Analyse / Planung) with a layer control, classified choropleths with a
legend that hides with its layer, German tooltips, clustered point markers, a title block and
a sources box. Every attribute value shown is HTML-escaped. Coordinates are reprojected to
WGS84 here, at the web-map boundary, and rounded to the precision the zoom range needs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import branca
import folium
import geopandas as gpd
import pandas as pd
import shapely
from folium import plugins

from ._atomic import atomic_path
from ._errors import InputError
from ._validate import require_crs
from .labels import column_label, esc
from .privacy import guard
from .styles import PALETTES, SCHEME_LABELS, Classification, classify

__all__ = [
    "GROUPS",
    "PALETTES",
    "Atlas",
    "Classification",
    "classify",
]

#: Layer groups in the layer control, in order.
GROUPS = ("Grundlagen", "Analyse", "Planung")

#: Decimal places of WGS84 coordinates in the HTML (5 decimals = about 1 m).
COORD_DECIMALS = 5


def _round_coords(geojson: dict, decimals: int) -> dict:
    def rnd(obj):
        if isinstance(obj, list):
            if obj and isinstance(obj[0], float | int) and not isinstance(obj[0], bool):
                return [round(float(v), decimals) for v in obj]
            return [rnd(o) for o in obj]
        return obj

    for feat in geojson["features"]:
        geom = feat.get("geometry")
        if geom:
            geom["coordinates"] = rnd(geom["coordinates"])
    return geojson


def _to_web(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    guard(gdf, what="web map layer")
    require_crs(gdf, name="layer")
    return gdf.to_crs("EPSG:4326")


class _Legend(folium.MacroElement):
    """A legend control that is shown only while its layer is on the map."""

    _template = branca.element.Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var legend = L.control({position: "bottomright"});
            legend.onAdd = function () {
                var div = L.DomUtil.create("div", "gp-legend");
                div.innerHTML = {{ this.html_json }};
                return div;
            };
            var map = {{ this._parent.get_name() }};
            var layer = {{ this.layer_name }};
            if (map.hasLayer(layer)) { legend.addTo(map); }
            map.on("overlayadd", function (e) { if (e.layer === layer) legend.addTo(map); });
            map.on("overlayremove", function (e) { if (e.layer === layer) legend.remove(); });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, layer: folium.FeatureGroup, html_text: str):
        super().__init__()
        self._name = "Legend"
        self.layer_name = layer.get_name()
        # JSON-encode and neutralise "</" so no value can close the script element.
        self.html_json = json.dumps(html_text).replace("</", "<\\/")


class _FixedBox(folium.MacroElement):
    """A fixed HTML box (title block, sources) as a Leaflet control."""

    _template = branca.element.Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var box = L.control({position: {{ this.position_json }}});
            box.onAdd = function () {
                var div = L.DomUtil.create("div", {{ this.css_class_json }});
                div.innerHTML = {{ this.html_json }};
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            box.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str, *, position: str, css_class: str):
        super().__init__()
        self._name = "FixedBox"
        self.html_json = json.dumps(html_text).replace("</", "<\\/")
        self.position_json = json.dumps(position)
        self.css_class_json = json.dumps(css_class)


_CSS = """
<style>
.gp-legend, .gp-box {background: rgba(255,255,255,0.92); padding: 6px 9px;
  font: 12px/1.35 system-ui, sans-serif; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,.3); max-width: 320px;}
.gp-legend i {display: inline-block; width: 14px; height: 12px; margin-right: 6px;
  vertical-align: middle; border: 1px solid #777;}
.gp-legend b, .gp-box b {display: block; margin-bottom: 3px;}
.gp-title {font-size: 15px;} .gp-title small {display: block; font-size: 11px; color: #444;}
.gp-sources {font-size: 10.5px; max-height: 160px; overflow-y: auto;}
.gp-label {font: 600 10px system-ui, sans-serif; color: #333; white-space: nowrap;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff; pointer-events: none; transform: translate(-50%,-50%);}
.gp-pin {border-radius: 50%; border: 1.5px solid #fff; box-shadow: 0 0 2px rgba(0,0,0,.6);
  color: #fff; font: 700 9px/14px system-ui, sans-serif; text-align: center;}
.gp-tip table td {padding: 0 4px;} .gp-note {color: #a00; font-weight: 600;}
.leaflet-container {background: #f4f3ef;}
</style>
"""


@dataclass
class Atlas:
    """An interactive map assembled from layers, with legends, tooltips and sources.

    Parameters
    ----------
    title, subtitle
        Text of the title block.
    bounds
        A layer whose extent the map opens on (any CRS).
    basemap
        Show OpenStreetMap tiles when online; offline the map still reads (plain background,
        outlines, labels).
    """

    title: str
    bounds: gpd.GeoDataFrame
    subtitle: str = ""
    basemap: bool = True
    sources: list[tuple[str, str]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    layer_sizes: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        web = _to_web(self.bounds)
        minx, miny, maxx, maxy = web.total_bounds
        self.map = folium.Map(
            location=[(miny + maxy) / 2, (minx + maxx) / 2],
            zoom_start=11,
            min_zoom=9,
            max_zoom=18,
            tiles=None,
            control_scale=True,
            prefer_canvas=False,
        )
        self.map.fit_bounds([[miny, minx], [maxy, maxx]])
        if self.basemap:
            folium.TileLayer(
                "OpenStreetMap",
                name="Hintergrund: OpenStreetMap (nur online)",
                attr='&copy; <a href="https://www.openstreetmap.org/copyright">'
                "OpenStreetMap</a>-Mitwirkende",
                overlay=False,
                control=True,
            ).add_to(self.map)
        self.map.get_root().header.add_child(branca.element.Element(_CSS))
        self._groups: dict[str, list[tuple[str, folium.FeatureGroup]]] = {g: [] for g in GROUPS}

    # ------------------------------------------------------------------ layers
    def _group(self, name: str, group: str, *, show: bool) -> folium.FeatureGroup:
        if group not in GROUPS:
            raise InputError(f"`group` must be one of {', '.join(GROUPS)}, not {group!r}.")
        fg = folium.FeatureGroup(name=f"{group}: {name}", show=show, overlay=True)
        fg.add_to(self.map)
        self._groups[group].append((name, fg))
        return fg

    def _geojson_data(
        self, gdf: gpd.GeoDataFrame, props: pd.DataFrame, name: str
    ) -> dict:
        web = _to_web(gdf)
        data = {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": p,
                 "geometry": shapely.geometry.mapping(g) if g is not None else None}
                for p, g in zip(props.to_dict("records"), web.geometry, strict=True)
            ],
        }
        data = json.loads(json.dumps(data))  # tuples -> lists
        data = _round_coords(data, COORD_DECIMALS)
        self.layer_sizes[name] = len(json.dumps(data, separators=(",", ":")))
        return data

    @staticmethod
    def tooltip_table(
        gdf: pd.DataFrame,
        fields: Mapping[str, Callable[[object], str] | None],
        *,
        note: str | None = None,
    ) -> pd.Series:
        """Return one escaped HTML table per row: German label | formatted value."""
        rows = []
        for _, rec in gdf.iterrows():
            cells = "".join(
                f"<tr><th>{esc(column_label(col))}</th>"
                f"<td>{esc(fmt(rec[col]) if fmt else rec[col])}</td></tr>"
                for col, fmt in fields.items()
            )
            extra = f'<div class="gp-note">{esc(note)}</div>' if note else ""
            rows.append(f'<table class="gp-tip">{cells}</table>{extra}')
        return pd.Series(rows, index=gdf.index)

    def add_polygons(
        self,
        gdf: gpd.GeoDataFrame,
        *,
        name: str,
        group: str = "Grundlagen",
        tooltip: Mapping[str, Callable[[object], str] | None] | None = None,
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
    ) -> folium.FeatureGroup:
        """Add a polygon layer (outline or choropleth) with an escaped German tooltip.

        With ``classification``, polygons are filled by class colour and a legend is shown
        while the layer is visible. ``search_field`` adds a search box over that column.
        """
        fg = self._group(name, group, show=show)
        props = pd.DataFrame(index=gdf.index)
        tooltip = {c: f for c, f in (tooltip or {}).items() if c in gdf.columns}
        if tooltip:
            props["_tip"] = self.tooltip_table(gdf, tooltip, note=note)
        if classification is not None:
            props["_fill"] = [classification.color_of(v) for v in gdf[classification.column]]
        if search_field:
            props["_search"] = gdf[search_field].map(esc)
        data = self._geojson_data(gdf, props, name)

        def style(feature, _c=color, _w=weight, _f=fill_color, _o=fill_opacity, _d=dash_array):
            fill = feature["properties"].get("_fill", _f)
            return {
                "color": _c, "weight": _w, "fillColor": fill or _c,
                "fillOpacity": 0.75 if "_fill" in feature["properties"] else _o,
                "dashArray": _d,
            }

        layer = folium.GeoJson(
            data,
            name=name,
            style_function=style,
            highlight_function=lambda f: {"weight": 3, "color": "#000"},
            tooltip=folium.GeoJsonTooltip(fields=["_tip"], labels=False) if tooltip else None,
            smooth_factor=0.5,
        )
        layer.add_to(fg)
        if classification is not None:
            self.add_legend(fg, classification, title=legend_title or name)
        if search_field:
            plugins.Search(
                layer=layer, search_label="_search", placeholder="Stadtteil suchen …",
                collapsed=False, search_zoom=13, position="topleft",
            ).add_to(self.map)
        return fg

    def add_labels(
        self, gdf: gpd.GeoDataFrame, column: str, *, name: str, group: str = "Grundlagen",
        show: bool = True,
    ) -> folium.FeatureGroup:
        """Add text labels (e.g. Stadtteil names) at representative points."""
        fg = self._group(name, group, show=show)
        pts = _to_web(gdf.set_geometry(gdf.representative_point()))
        for text, pt in zip(gdf[column], pts.geometry, strict=True):
            folium.Marker(
                [round(pt.y, COORD_DECIMALS), round(pt.x, COORD_DECIMALS)],
                icon=folium.DivIcon(html=f'<div class="gp-label">{esc(text)}</div>',
                                    icon_size=(0, 0)),
                interactive=False,
            ).add_to(fg)
        return fg

    def add_points(
        self,
        gdf: gpd.GeoDataFrame,
        *,
        name: str,
        group: str = "Grundlagen",
        tooltip: Mapping[str, Callable[[object], str] | None] | None = None,
        category: str | None = None,
        styles: Mapping[str, tuple[str, str]] | None = None,
        default_style: tuple[str, str] = ("#555555", "•"),
        cluster: bool = True,
        show: bool = True,
        legend_title: str | None = None,
    ) -> folium.FeatureGroup:
        """Add point markers, clustered, with a symbol and colour per ``category`` value.

        ``styles`` maps category values to ``(colour, one-letter symbol)``. Markers are
        pure HTML (no icon fonts), so they work offline.
        """
        fg = self._group(name, group, show=show)
        target = plugins.MarkerCluster(
            name=name, options={"disableClusteringAtZoom": 15, "showCoverageOnHover": False}
        ).add_to(fg) if cluster else fg
        tooltip = {c: f for c, f in (tooltip or {}).items() if c in gdf.columns}
        tips = self.tooltip_table(gdf, tooltip) if tooltip else None
        web = _to_web(gdf)
        styles = dict(styles or {})
        for i, (idx, pt) in enumerate(zip(gdf.index, web.geometry, strict=True)):
            key = gdf.at[idx, category] if category else None
            colour, symbol = styles.get(key, default_style)
            folium.Marker(
                [round(pt.y, COORD_DECIMALS), round(pt.x, COORD_DECIMALS)],
                icon=folium.DivIcon(
                    html=f'<div class="gp-pin" style="background:{esc(colour)};width:14px;'
                    f'height:14px">{esc(symbol)}</div>',
                    icon_size=(16, 16), icon_anchor=(8, 8), class_name="gp-marker",
                ),
                tooltip=folium.Tooltip(tips.iloc[i]) if tips is not None else None,
            ).add_to(target)
        if category and styles:
            used = [k for k in styles if k in set(gdf[category])]
            items = "".join(
                f'<div><i style="background:{esc(styles[k][0])};border-radius:50%"></i>'
                f"{esc(k)}</div>"
                for k in used
            )
            self._legend_html(fg, f"<b>{esc(legend_title or name)}</b>{items}")
        return fg

    # ------------------------------------------------------------------ legends and boxes
    def add_legend(
        self, layer: folium.FeatureGroup, classification: Classification, *, title: str
    ) -> None:
        """Add a class legend that hides with ``layer``; the class count is stated."""
        c = classification
        scheme = SCHEME_LABELS.get(c.scheme, c.scheme)
        items = "".join(
            f'<div><i style="background:{esc(col)}"></i>{esc(lab)}</div>'
            for col, lab in zip(c.colors, c.labels, strict=True)
        )
        self._legend_html(
            layer,
            f"<b>{esc(title)}</b>{items}<small>{c.k} Klassen, {esc(scheme)}</small>",
        )

    def _legend_html(self, layer: folium.FeatureGroup, html_text: str) -> None:
        self.map.add_child(_Legend(layer, html_text))

    def add_source(self, what: str, text: str) -> None:
        """Record a source / licence line for the sources box."""
        if (what, text) not in self.sources:
            self.sources.append((what, text))

    def add_notice(self, text: str) -> None:
        """Record a notice shown prominently in the title block (e.g. synthetic data)."""
        if text not in self.notices:
            self.notices.append(text)

    def _finish(self) -> None:
        notices = "".join(f'<div class="gp-note">{esc(n)}</div>' for n in self.notices)
        self.map.add_child(_FixedBox(
            f'<b class="gp-title">{esc(self.title)}<small>{esc(self.subtitle)}</small></b>'
            f"{notices}",
            position="topright", css_class="gp-box gp-titlebox",
        ))
        src = "".join(f"<div><b>{esc(w)}</b>{esc(t)}</div>" for w, t in self.sources)
        self.map.add_child(_FixedBox(
            f"<b>Quellen und Lizenzen</b>{src}", position="bottomleft",
            css_class="gp-box gp-sources",
        ))
        plugins.Fullscreen(position="topleft", title="Vollbild", title_cancel="Vollbild beenden",
                           force_separate_button=True).add_to(self.map)
        folium.LayerControl(collapsed=False, position="topright").add_to(self.map)

    def render(self, *, mode: str = "offline") -> str:
        """Return the map as one HTML document.

        ``mode="offline"`` inlines Leaflet and every plugin (no network needed);
        ``mode="cdn"`` links them from CDNs for a smaller file.
        """
        if mode not in ("offline", "cdn"):
            raise InputError(f"`mode` must be 'offline' or 'cdn', not {mode!r}.")
        if not getattr(self, "_finished", False):
            self._finish()
            self._finished = True
        if mode == "offline":
            try:
                from . import _offline
            except ImportError:  # pragma: no cover - vendored assets missing
                _offline = None
            if _offline is not None:
                return _offline.render_html(self.map, mode="offline")
        return self.map.get_root().render()

    def save(
        self, path: str | os.PathLike, *, mode: str = "offline", overwrite: bool = True
    ) -> Path:
        """Write the map atomically to ``path`` and return it."""
        html_text = self.render(mode=mode)
        with atomic_path(path, overwrite=overwrite) as tmp:
            tmp.write_text(html_text, encoding="utf-8")
        return Path(path)


def layer_group_names(atlas: Atlas) -> dict[str, Sequence[str]]:
    """Return the layer names per group (for reports and tests)."""
    return {g: [n for n, _ in items] for g, items in atlas._groups.items()}
