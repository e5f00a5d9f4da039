"""Folium maps: the only module that knows about HTML.

:class:`Atlas` builds an interactive map from GeoDataFrames in any projected CRS: layers in
groups (Grundlagen / Analyse / Planung) with a compact grouped layer control, classified
choropleths with a legend that hides with its layer, German tooltips and popups, clustered
point markers with symbols by type, Stadtteil labels placed without overlaps, a search box,
fullscreen, a scale bar, a title block and a sources box. Every attribute value shown is
HTML-escaped in Python (:func:`gis_planning.labels.esc`) before it reaches the page.

The page stays light: polygon layers are simplified topology-preservingly at this boundary
(:func:`gis_planning.outputs.simplify.simplify_coverage`, shared borders stay shared, each border
within ``Atlas.tolerance_m`` of the source), reprojected to WGS84, rounded to the decimals
the zoom range needs (:func:`gis_planning.outputs.simplify.decimals_for_zoom`) and written once as
Google-polyline strings; layers drawing the same polygons (the Stadtteile under several
choropleths) share one copy. Points are one compact array per layer, drawn by a small
runtime script instead of one folium ``Marker`` per point. :attr:`Atlas.layer_sizes` records
the bytes each layer adds to the page.

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
from ..labels import column_label, esc
from ..privacy import guard
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

_SEARCH_JS = "https://cdn.jsdelivr.net/npm/leaflet-search@2.9.7/dist/leaflet-search.min.js"
_SEARCH_CSS = "https://cdn.jsdelivr.net/npm/leaflet-search@2.9.7/dist/leaflet-search.min.css"
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


def encode_polyline(latlng: np.ndarray, decimals: int) -> str:
    """Encode ``(n, 2)`` latitude/longitude pairs as a Google polyline string.

    Parameters
    ----------
    latlng
        Coordinates in degrees, latitude first.
    decimals
        Decimal places kept (5 = about 1 m).

    Returns
    -------
    str
        ASCII characters 63-126.

    Notes
    -----
    Each coordinate is rounded to an integer ``v = round(x * 10**decimals)``; the differences
    to the previous vertex are zig-zag encoded (``2v`` or ``-2v - 1``) and written in 5-bit
    groups, lowest first, each group plus 63, with bit 32 set on all but the last group.
    Rounding moves a vertex by at most half a unit per axis.
    """
    ints = np.round(np.asarray(latlng, dtype=float) * 10**decimals).astype(np.int64)
    deltas = np.diff(ints, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)).ravel()
    out = []
    for v in deltas.tolist():
        v = ~(v << 1) if v < 0 else v << 1
        while v >= 0x20:
            out.append(chr((0x20 | (v & 0x1F)) + 63))
            v >>= 5
        out.append(chr(v + 63))
    return "".join(out)


def decode_polyline(text: str, decimals: int) -> np.ndarray:
    """Decode a Google polyline string into ``(n, 2)`` latitude/longitude pairs."""
    vals, i, n = [], 0, len(text)
    while i < n:
        shift = result = 0
        while True:
            b = ord(text[i]) - 63
            i += 1
            result |= (b & 0x1F) << shift
            shift += 5
            if b < 0x20:
                break
        vals.append(~(result >> 1) if result & 1 else result >> 1)
    arr = np.cumsum(np.asarray(vals, dtype=np.int64).reshape(-1, 2), axis=0)
    return arr / 10**decimals


def _polygon_parts(geom: shapely.Geometry) -> list[shapely.Polygon]:
    if geom is None or geom.is_empty:
        return []
    if geom.geom_type == "Polygon":
        return [geom]
    if geom.geom_type == "MultiPolygon":
        return list(geom.geoms)
    if geom.geom_type == "GeometryCollection":
        return [p for g in geom.geoms for p in _polygon_parts(g)]
    return []


def _encode_polygon(geom: shapely.Geometry, decimals: int) -> list[list[str]]:
    """Polygons -> rings -> polyline strings (latitude first, closing vertex dropped)."""
    out = []
    for poly in _polygon_parts(geom):
        rings = [poly.exterior, *poly.interiors]
        out.append([encode_polyline(np.asarray(r.coords)[:-1, ::-1], decimals) for r in rings])
    return out


def _decode_polygon(parts: list[list[str]], decimals: int) -> shapely.Geometry:
    polys = []
    for rings in parts:
        coords = [decode_polyline(r, decimals)[:, ::-1] for r in rings]
        polys.append(shapely.Polygon(coords[0], coords[1:]))
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def _to_web(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    guard(gdf, what="web map layer")
    require_crs(gdf, name="layer")
    return gdf.to_crs("EPSG:4326")


def _rounding_error_m(decimals: int, latitude: float = 51.45) -> float:
    """Largest ground distance in metres that rounding to ``decimals`` moves a vertex."""
    half = 0.5 * 10.0**-decimals * 111_320.0
    return math.hypot(half, half * math.cos(math.radians(latitude)))


def _vertex_deviation(original: np.ndarray, simplified: np.ndarray) -> float:
    """Largest distance of an original vertex from its simplified polygon's border.

    Equal to :func:`gis_planning.outputs.simplify.max_deviation` (discrete Hausdorff distance) when
    the simplified vertices are a subset of the original ones, as with
    ``shapely.coverage_simplify``; computed with an STRtree of border segments per polygon
    (``O(n log m)`` instead of GEOS's ``O(n m)``).
    """
    worst = 0.0
    for a, b in zip(original, simplified, strict=True):
        rings = shapely.get_rings(shapely.get_parts(b))
        coords, idx = shapely.get_coordinates(rings, return_index=True)
        same = idx[:-1] == idx[1:]
        segs = shapely.linestrings(np.stack([coords[:-1][same], coords[1:][same]], axis=1))
        _, dist = shapely.STRtree(segs).query_nearest(
            shapely.points(shapely.get_coordinates(a)), return_distance=True
        )
        worst = max(worst, float(dist.max(initial=0.0)))
    return worst


def _bounded_coverage_simplify(geoms: np.ndarray, bound: float, *, steps: int = 8) -> np.ndarray:
    """``shapely.coverage_simplify`` with the largest tolerance found whose deviation <= bound.

    The tolerance (an area threshold of Visvalingam-Whyatt, not a distance) is bisected on a
    log scale between ``bound / 256`` and ``bound``; the deviation is not monotone in the
    tolerance, so the search keeps the largest tolerance seen to pass. With none passing, the
    polygons stay as they are.
    """
    best = geoms.copy()
    cand = shapely.coverage_simplify(geoms, bound)
    if _vertex_deviation(geoms, cand) <= bound:
        return cand
    lo, hi = math.log(bound / 256), math.log(bound)
    for _ in range(steps):
        mid = (lo + hi) / 2
        cand = shapely.coverage_simplify(geoms, math.exp(mid))
        if _vertex_deviation(geoms, cand) <= bound:
            best, lo = cand, mid
        else:
            hi = mid
    return best


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

    def payload(self) -> str:
        return _js_json({"d": self.decimals, "g": self.geoms})


_CSS = """
<style>
.gp-legend, .gp-box, .gp-layers {background: rgba(255,255,255,0.94); padding: 5px 8px;
  font: 12px/1.35 system-ui, sans-serif; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,.3); max-width: 300px;}
.gp-legends {max-height: 45vh; overflow-y: auto; display: flex; flex-direction: column;
  gap: 6px; padding: 2px;}
.gp-legend i {display: inline-block; width: 14px; height: 12px; margin-right: 6px;
  vertical-align: middle; border: 1px solid #777;}
.gp-legend b, .gp-box b {display: block; margin-bottom: 2px;}
.gp-legend small {display: block; color: #444;}
.gp-title {font-size: 14px;} .gp-title small {display: block; font-size: 11px; color: #444;
  font-weight: normal;}
.gp-sources {font-size: 10.5px; max-height: 35vh; overflow-y: auto; max-width: 340px;}
.gp-sources summary, .gp-layers summary, .gp-tablebox summary {cursor: pointer;
  font-weight: 600;}
.gp-tablebox {font-size: 11px; max-height: 40vh; overflow-y: auto; max-width: 460px;}
.gp-table th, .gp-table td {padding: 1px 5px; text-align: right; white-space: nowrap;}
.gp-table th:first-child, .gp-table td:first-child {text-align: left;}
.gp-layers {max-height: 55vh; overflow-y: auto; padding: 4px 8px;}
.gp-layers label {display: flex; gap: 4px; align-items: baseline; margin: 1px 0;
  cursor: pointer;}
.gp-layers label input {margin: 0;}
.gp-group {margin-top: 4px;} .gp-group > b {display: block; color: #1f3b73; font-size: 11px;
  text-transform: uppercase; letter-spacing: .04em;}
.gp-label {font: 600 10.5px system-ui, sans-serif; color: #222; white-space: nowrap;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 2px #fff; pointer-events: none;
  transform: translate(-50%,-50%); display: inline-block;}
.gp-pin {border-radius: 50%; border: 1.5px solid #fff; box-shadow: 0 0 2px rgba(0,0,0,.6);
  color: #fff; font: 700 9px/13px system-ui, sans-serif; text-align: center; width: 13px;
  height: 13px;}
.gp-cluster div {border-radius: 50%; border: 2px solid #fff; color: #fff; opacity: .92;
  box-shadow: 0 0 3px rgba(0,0,0,.55); font: 700 11px/24px system-ui, sans-serif;
  text-align: center; width: 24px; height: 24px;}
.gp-tip {border-collapse: collapse;} .gp-tip th {text-align: left; font-weight: 600;
  padding: 0 6px 0 0; color: #444;} .gp-tip td {padding: 0;}
.gp-note {color: #a00; font-weight: 600; max-width: 280px; white-space: normal;}
html body .leaflet-container {background: #f4f3ef;}
@media (max-width: 700px) {.gp-box, .gp-legend {max-width: 200px;}
  .gp-title small {display: none;} .gp-legends {max-height: 30vh;}}
</style>
"""

_RUNTIME_JS = r"""
(function () {
  var gp = window.gp = {registry: {}, geoms: {}};
  gp.dec = function (s, f) {
    var i = 0, lat = 0, lng = 0, out = [], n = s.length;
    while (i < n) {
      var r = 0, sh = 0, b;
      do { b = s.charCodeAt(i++) - 63; r |= (b & 31) << sh; sh += 5; } while (b >= 32);
      lat += (r & 1) ? ~(r >> 1) : (r >> 1);
      r = 0; sh = 0;
      do { b = s.charCodeAt(i++) - 63; r |= (b & 31) << sh; sh += 5; } while (b >= 32);
      lng += (r & 1) ? ~(r >> 1) : (r >> 1);
      out.push([lat / f, lng / f]);
    }
    return out;
  };
  gp.store = function (d) {
    var f = Math.pow(10, d.d);
    Object.keys(d.g).forEach(function (k) {
      gp.geoms[k] = d.g[k].map(function (poly) {
        return poly.map(function (ring) { return gp.dec(ring, f); });
      });
    });
  };
  function table(fields, values, note) {
    var h = '<table class="gp-tip">';
    for (var i = 0; i < fields.length; i++) {
      h += '<tr><th>' + fields[i] + '</th><td>' + values[i] + '</td></tr>';
    }
    h += '</table>';
    if (note) { h += '<div class="gp-note">' + note + '</div>'; }
    return h;
  }
  function reg(name, fg, kind, n) { gp.registry[name] = {layer: fg, kind: kind, count: n}; }
  gp.polys = function (fg, d) {
    var st = d.style, n = 0;
    d.g.forEach(function (gid, i) {
      var classed = d.c !== null;
      var opts = {color: st.color, weight: st.weight, dashArray: st.dash,
                  fillColor: classed ? d.pal[d.c[i]] : (st.fill || st.color),
                  fillOpacity: classed ? 0.75 : st.opacity, smoothFactor: 0.5,
                  interactive: !!d.f};
      if (d.q) { opts.gpName = d.q[i]; }
      var p = L.polygon(gp.geoms[gid], opts);
      if (d.f) {
        var h = table(d.f, d.v[i], d.n);
        p.bindTooltip(h, {sticky: true});
        p.bindPopup(h);
        p.on('mouseover', function () { p.setStyle({weight: st.weight + 2, color: '#000'}); });
        p.on('mouseout', function () { p.setStyle({weight: st.weight, color: st.color}); });
      }
      p.addTo(fg);
      n++;
    });
    reg(d.name, fg, 'polygons', n);
  };
  gp.points = function (fg, d) {
    // clusters in the colour of the layer's most frequent category, with the count
    var target = d.cluster ? L.markerClusterGroup({disableClusteringAtZoom: 15,
      showCoverageOnHover: false, maxClusterRadius: 45,
      iconCreateFunction: function (cl) {
        return L.divIcon({className: 'gp-cluster', iconSize: [28, 28],
          html: '<div style="background:' + d.cc + '">' + cl.getChildCount() + '</div>'});
      }}) : fg;
    var xy = gp.dec(d.xy, Math.pow(10, d.d)), icons = d.cats.map(function (c) {
      return L.divIcon({className: 'gp-marker', iconSize: [16, 16], iconAnchor: [8, 8],
        html: '<div class="gp-pin" style="background:' + c[0] + '">' + c[1] + '</div>'});
    });
    xy.forEach(function (ll, i) {
      var m = L.marker(ll, {icon: icons[d.k ? d.k[i] : 0]});
      if (d.f) { var h = table(d.f, d.v[i], d.n); m.bindTooltip(h); m.bindPopup(h); }
      m.addTo(target);
    });
    if (d.cluster) { target.addTo(fg); }
    reg(d.name, fg, 'points', xy.length);
    gp.registry[d.name].markers = target;
  };
  gp.labels = function (map, fg, d) {
    var f = Math.pow(10, d.d), ms = d.t.map(function (t, i) {
      return L.marker([d.y[i] / f, d.x[i] / f], {interactive: false, keyboard: false,
        icon: L.divIcon({className: 'gp-label-icon', iconSize: [0, 0],
                         html: '<div class="gp-label">' + t + '</div>'})}).addTo(fg);
    });
    reg(d.name, fg, 'labels', ms.length);
    // Collision-free placement: labels in the given priority order (larger areas first);
    // a label whose box overlaps one already shown is hidden at this zoom.
    function place() {
      if (!map.hasLayer(fg)) { return; }
      var shown = [];
      ms.forEach(function (m) {
        var el = m.getElement();
        if (!el) { return; }
        var inner = el.firstChild, p = map.latLngToContainerPoint(m.getLatLng());
        var w = (inner && inner.offsetWidth) || 60, h = (inner && inner.offsetHeight) || 13;
        var box = [p.x - w / 2 - 2, p.y - h / 2, p.x + w / 2 + 2, p.y + h / 2];
        var free = shown.every(function (b) {
          return box[2] < b[0] || box[0] > b[2] || box[3] < b[1] || box[1] > b[3];
        });
        el.style.visibility = free ? '' : 'hidden';
        if (free) { shown.push(box); }
      });
      gp.registry[d.name].visible = shown.length;
    }
    map.on('zoomend', place);
    fg.on('add', function () { setTimeout(place, 0); });
    setTimeout(place, 0);
  };
  // All legends live in one scrollable box (bottom left); each shows while its layer does.
  gp.legend = function (map, fg, html) {
    if (!gp.legends) {
      gp.legends = L.control({position: 'bottomleft'});
      gp.legends.onAdd = function () {
        var div = L.DomUtil.create('div', 'gp-legends');
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
      };
      gp.legends.addTo(map);
    }
    var div = L.DomUtil.create('div', 'gp-legend', gp.legends.getContainer());
    div.innerHTML = html;
    div.style.display = map.hasLayer(fg) ? '' : 'none';
    fg.on('add', function () { div.style.display = ''; });
    fg.on('remove', function () { div.style.display = 'none'; });
  };
  gp.raiseLegends = function (map) {
    // bottom corners stack upwards: re-adding puts the legends above the sources box
    if (gp.legends) {
      var kids = Array.from(gp.legends.getContainer().childNodes);
      gp.legends.remove(); gp.legends.addTo(map);
      kids.forEach(function (k) { gp.legends.getContainer().appendChild(k); });
    }
  };
  gp.box = function (map, html, pos, cls, openWidth) {
    var c = L.control({position: pos});
    c.onAdd = function () {
      var div = L.DomUtil.create('div', cls);
      div.innerHTML = html;
      var det = div.querySelector('details');
      if (det && window.innerWidth >= openWidth) { det.open = true; }
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    c.addTo(map);
  };
  // A compact layer control with group headings; collapsed to a button on small screens.
  gp.control = function (map, groups, base) {
    var c = L.control({position: 'topright'});
    c.onAdd = function () {
      var div = L.DomUtil.create('div', 'gp-layers');
      var det = L.DomUtil.create('details', '', div);
      if (window.innerWidth >= 700) { det.open = true; }
      L.DomUtil.create('summary', '', det).innerHTML = 'Ebenen';
      function row(parent, label, layer) {
        var lab = L.DomUtil.create('label', '', parent);
        var cb = L.DomUtil.create('input', '', lab);
        cb.type = 'checkbox';
        cb.checked = map.hasLayer(layer);
        L.DomUtil.create('span', '', lab).innerHTML = label;
        cb.addEventListener('change', function () {
          if (cb.checked) { map.addLayer(layer); } else { map.removeLayer(layer); }
        });
        layer.on('add', function () { cb.checked = true; });
        layer.on('remove', function () { cb.checked = false; });
      }
      groups.concat(base ? [['Hintergrund', [base]]] : []).forEach(function (g) {
        var box = L.DomUtil.create('div', 'gp-group', det);
        L.DomUtil.create('b', '', box).innerHTML = g[0];
        g[1].forEach(function (it) { row(box, it[0], it[1]); });
      });
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    c.addTo(map);
  };
})();
"""


# ---------------------------------------------------------------------- the atlas
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
    tolerance_m
        Largest distance in metres between a drawn polygon border and the source border
        (simplification plus coordinate rounding), checked per layer.
    detail_zoom
        Zoom level up to which borders are drawn exactly (to half a pixel); sets the decimals
        of the coordinates (:func:`~gis_planning.outputs.simplify.decimals_for_zoom`: 5 up to zoom
        15).
    sources, notices
        Lines of the sources box and notices of the title block (see :meth:`add_source`,
        :meth:`add_notice`).
    layer_sizes
        Filled while layers are added: bytes of each layer's data in the page (shared
        polygons count for the first layer that draws them).
    max_zoom
        Highest zoom level of the map.

    Notes
    -----
    Polygons are simplified with :func:`~gis_planning.outputs.simplify.simplify_coverage` when the
    layer is a valid coverage (shared borders simplified once: no gaps, no slivers), else each
    polygon with Douglas-Peucker (``shapely.simplify(preserve_topology=True)``, Hausdorff
    distance at most the tolerance). The simplification bound is ``tolerance_m`` minus the
    largest rounding displacement ``0.5 * 10**-d`` degrees in both axes (0.66 m for ``d = 5``
    at 51.45° N), so the drawn border stays within ``tolerance_m`` of the source.
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

    def __post_init__(self) -> None:
        if not (self.tolerance_m > 0 and math.isfinite(self.tolerance_m)):
            raise InputError(f"`tolerance_m` must be a positive number of metres, not "
                             f"{self.tolerance_m!r}.")
        self.decimals = decimals_for_zoom(self.detail_zoom)
        if _rounding_error_m(self.decimals) >= self.tolerance_m:
            raise InputError(f"`tolerance_m`={self.tolerance_m} m is below the rounding error "
                             f"of zoom {self.detail_zoom}; raise `detail_zoom`.")
        web = _to_web(self.bounds)
        minx, miny, maxx, maxy = web.total_bounds
        self.map = folium.Map(
            location=[(miny + maxy) / 2, (minx + maxx) / 2],
            zoom_start=11, min_zoom=9, max_zoom=self.max_zoom, tiles=None,
            control_scale=True, prefer_canvas=False, zoom_snap=0.25, zoom_delta=0.5,
        )
        self.map.fit_bounds([[miny, minx], [maxy, maxx]])
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
        root = self.map.get_root()
        root.header.add_child(
            branca.element.Element("{% raw %}" + _CSS + "{% endraw %}"), name="gp_css")
        root.header.add_child(
            branca.element.Element(
                "{% raw %}<script>" + _RUNTIME_JS + "</script>{% endraw %}"), name="gp_runtime"
        )
        self._store = _Store(self.decimals)
        self.map.add_child(self._store)
        self._groups: dict[str, list[tuple[str, folium.FeatureGroup]]] = {g: [] for g in GROUPS}
        self._simplified: dict[str, np.ndarray] = {}
        #: Embedded geometries per polygon layer (EPSG:4326, as drawn), for checks.
        self.web_geometries: dict[str, gpd.GeoSeries] = {}
        self.feature_counts: dict[str, tuple[str, int]] = {}

    # ------------------------------------------------------------------ layers
    def _group(self, name: str, group: str, *, show: bool) -> folium.FeatureGroup:
        if group not in GROUPS:
            raise InputError(f"`group` must be one of {', '.join(GROUPS)}, not {group!r}.")
        if any(name == n for items in self._groups.values() for n, _ in items):
            raise InputError(f"a layer named {name!r} exists already; give `name` a new value.")
        fg = folium.FeatureGroup(name=name, show=show, overlay=True)
        fg.add_to(self.map)
        self._groups[group].append((name, fg))
        return fg

    @staticmethod
    def _values(
        gdf: pd.DataFrame, fields: Mapping[str, Callable[[object], str] | None]
    ) -> list[list[str]]:
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
            return esc(value)

        cols = list(fields)
        return [[show(v, fields[c]) for c, v in zip(cols, row, strict=True)]
                for row in gdf[cols].itertuples(index=False, name=None)]

    @staticmethod
    def tooltip_table(
        gdf: pd.DataFrame,
        fields: Mapping[str, Callable[[object], str] | None],
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
        bound = self.tolerance_m - _rounding_error_m(self.decimals)
        polygonal = np.isin(shapely.get_type_id(geoms), [3, 6]) & ~shapely.is_empty(geoms)
        if not gdf.crs.is_projected or not polygonal.all():
            out = np.asarray(geoms)
        elif shapely.coverage_is_valid(np.asarray(geoms)):
            out = _bounded_coverage_simplify(np.asarray(geoms), bound)
        else:
            out = shapely.simplify(np.asarray(geoms), bound, preserve_topology=True)
        self._simplified[digest] = np.asarray(out)
        return self._simplified[digest]

    def _size(self, name: str, payload: str, geom_bytes: int = 0) -> None:
        self.layer_sizes[name] = len(payload.encode("utf-8")) + geom_bytes

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
        """Add a polygon layer (outline or choropleth) with an escaped German tooltip and popup.

        Parameters
        ----------
        gdf
            Polygons in a projected CRS (metres); simplified and rounded here (see Notes of
            :class:`Atlas`).
        name, group
            Name in the layer control and its group (:data:`GROUPS`).
        tooltip
            Column -> formatter (``None``: the value as text); labels from
            :func:`gis_planning.labels.column_label`. Shown on hover and as popup on click.
        note
            Text under every tooltip (e.g. "Schätzung").
        color, weight, fill_color, fill_opacity, dash_array
            Outline and fill (CSS colours, pixels).
        show
            Layer visible when the page opens.
        classification
            Fill polygons by class colour (:func:`classify`); a legend stating the class count
            and scheme is shown while the layer is visible.
        legend_title
            Title of that legend (default ``name``).
        search_field
            Column searched by the search box ("Stadtteil suchen …").

        Returns
        -------
        folium.FeatureGroup
            The layer's group on the map.
        """
        if not isinstance(gdf, gpd.GeoDataFrame):
            raise InputError(f"`gdf` must be a GeoDataFrame, not {type(gdf).__name__}.")
        web_src = _to_web(gdf)  # guard + CRS check first
        if search_field is not None and search_field not in gdf.columns:
            raise InputError(f"`search_field` {search_field!r} is not a column of the layer.")
        keep = ~(gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy()
        gdf, web_src = gdf[keep], web_src[keep]
        fg = self._group(name, group, show=show)
        simplified = gpd.GeoSeries(self._simplify(gdf), index=gdf.index, crs=gdf.crs)
        web = simplified.to_crs("EPSG:4326") if gdf.crs.is_projected else web_src.geometry
        ids, new_bytes, drawn = [], 0, []
        for geom in web.values:
            parts = _encode_polygon(geom, self.decimals)
            key = hashlib.sha1(json.dumps(parts).encode()).hexdigest()[:10]
            if key not in self._store.geoms:
                self._store.geoms[key] = parts
                new_bytes += len(_js_json(parts)) + 14
            ids.append(key)
            drawn.append(_decode_polygon(parts, self.decimals))
        self.web_geometries[name] = gpd.GeoSeries(drawn, index=gdf.index, crs="EPSG:4326")
        tooltip = {c: f for c, f in (tooltip or {}).items() if c in gdf.columns}
        data: dict[str, object] = {
            "name": esc(name), "g": ids,
            "style": {"color": color, "weight": weight, "fill": fill_color,
                      "opacity": fill_opacity, "dash": dash_array},
            "f": [esc(column_label(c, self.column_labels)) for c in tooltip] or None,
            "v": self._values(gdf, tooltip) if tooltip else None,
            "n": esc(note) if note else None,
            "c": None, "pal": None, "q": None,
        }
        if classification is not None:
            pal = [*classification.colors, "#cccccc"]
            data["pal"] = [esc(c) for c in pal]
            data["c"] = [pal.index(classification.color_of(v))
                         for v in gdf[classification.column]]
        if search_field:
            data["q"] = [esc(v) for v in gdf[search_field]]
        payload = _js_json(data)
        self._size(name, payload, new_bytes)
        self.feature_counts[name] = ("polygons", len(ids))
        fg.add_child(_Script(f"gp.polys({{layer}}, {payload});", layer=fg))
        if classification is not None:
            self.add_legend(fg, classification, title=legend_title or name)
        if search_field:
            self._add_search(fg)
        return fg

    def _add_search(self, fg: folium.FeatureGroup) -> None:
        code = (
            "(function () { var map = {map};"
            "var sc = new L.Control.Search({layer: {layer}, propertyName: 'gpName',"
            " initial: false, collapsed: false, marker: false, position: 'topleft',"
            " textPlaceholder: 'Stadtteil suchen …', textErr: 'Nicht gefunden',"
            " textCancel: 'Abbrechen',"
            " moveToLocation: function (ll, title, m) { m.fitBounds(ll.layer.getBounds()); }});"
            "sc.on('search:locationfound', function (e) {"
            " if (e.layer) { e.layer.setStyle({weight: 4, color: '#d7191c'});"
            "  e.layer.openPopup(); gp.found = e.text; } });"
            "map.addControl(sc); })();"
        )
        self.map.add_child(_Script(code, layer=fg, js=[("leaflet_search", _SEARCH_JS)],
                                   css=[("leaflet_search_css", _SEARCH_CSS)]))

    def add_labels(
        self, gdf: gpd.GeoDataFrame, column: str, *, name: str, group: str = "Grundlagen",
        show: bool = True,
    ) -> folium.FeatureGroup:
        """Add text labels (e.g. Stadtteil names) at representative points.

        Labels of larger polygons win: at every zoom a label overlapping one already placed
        is hidden, so the names never pile up.
        """
        require_crs(gdf, name="gdf")
        fg = self._group(name, group, show=show)
        order = gdf.area.sort_values(ascending=False).index if gdf.crs.is_projected \
            else gdf.index
        ordered = gdf.loc[order]
        pts = _to_web(ordered.set_geometry(ordered.representative_point()))
        scale = 10**self.decimals
        data = {
            "name": esc(name), "d": self.decimals,
            "t": [esc(v) for v in ordered[column]],
            "x": np.round(pts.geometry.x.to_numpy() * scale).astype(int).tolist(),
            "y": np.round(pts.geometry.y.to_numpy() * scale).astype(int).tolist(),
        }
        payload = _js_json(data)
        self._size(name, payload)
        self.feature_counts[name] = ("labels", len(ordered))
        fg.add_child(_Script(f"gp.labels({{map}}, {{layer}}, {payload});", layer=fg))
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
        pure HTML (no icon fonts), so they work offline; a legend lists the categories used.
        Confidential layers are refused (:func:`gis_planning.privacy.guard`).
        """
        web = _to_web(gdf)
        fg = self._group(name, group, show=show)
        web = web[~(web.geometry.isna() | web.geometry.is_empty)]
        if not set(web.geom_type) <= {"Point"}:
            web = web.set_geometry(web.geometry.representative_point())
        tooltip = {c: f for c, f in (tooltip or {}).items() if c in gdf.columns}
        styles = dict(styles or {})
        keys = list(styles)
        cats = [*(styles[k] for k in keys), default_style]
        if category:
            k = [keys.index(v) if v in styles else len(keys) for v in web[category]]
        else:
            k = None
        latlng = np.column_stack([web.geometry.y.to_numpy(), web.geometry.x.to_numpy()])
        data = {
            "name": esc(name), "d": self.decimals, "cluster": bool(cluster),
            "xy": encode_polyline(latlng, self.decimals) if len(latlng) else "",
            "cats": [[esc(c), esc(s)] for c, s in cats], "k": k,
            "cc": esc(cats[max(set(k), key=k.count)][0] if k else cats[-1][0]),
            "f": [esc(column_label(c, self.column_labels)) for c in tooltip] or None,
            "v": self._values(web, tooltip) if tooltip else None, "n": None,
        }
        payload = _js_json(data)
        self._size(name, payload)
        self.feature_counts[name] = ("points", len(web))
        js = [("markerclusterjs", _CFL + "leaflet.markercluster.js")] if cluster else []
        css = [("markerclustercss", _CFL + "MarkerCluster.css")] if cluster else []
        fg.add_child(_Script(f"gp.points({{layer}}, {payload});", layer=fg, js=js, css=css))
        if category and styles:
            present = set(web[category])
            items = "".join(
                f'<div><i style="background:{esc(styles[v][0])};border-radius:50%"></i>'
                f"{esc(v)}</div>"
                for v in keys if v in present
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
        self.map.add_child(
            _Script(f"gp.legend({{map}}, {{layer}}, {_js_json(html_text)});", layer=layer)
        )

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
        columns: Mapping[str, Callable[[object], str] | None],
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
        plugins.Fullscreen(position="topleft", title="Vollbild", title_cancel="Vollbild beenden",
                           force_separate_button=True).add_to(self.map)
        groups = [
            f"[{_js_json(esc(g))}, ["
            + ",".join(f"[{_js_json(esc(n))}, {fg.get_name()}]" for n, fg in items)
            + "]]"
            for g, items in self._groups.items() if items
        ]
        base = (f"[{_js_json(esc(self._tiles.layer_name))}, {self._tiles.get_name()}]"
                if self._tiles is not None else "null")
        self.map.add_child(_Script(f"gp.control({{map}}, [{','.join(groups)}], {base});"))

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
        from . import _offline

        page = _offline.render_html(self.map, mode=mode)
        page = re.sub(r"<html\b[^>]*>", '<html lang="de">', page, count=1)
        if "<title>" not in page[:4000]:
            page = page.replace("<head>", f"<head>\n<title>{esc(self.title)}</title>", 1)
        return page

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
