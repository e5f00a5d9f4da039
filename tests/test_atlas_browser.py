"""The Essen atlas and a hostile catalogue in a real headless Chromium with the network blocked.

The atlas is built once per module into a temporary folder (offline mode), opened with
:func:`browser_util.open_offline` (every request except ``file:``/``data:`` aborted) and
checked: no JavaScript error, no failed request other than basemap tiles, the number of drawn
polygons and markers equals the data, the grouped layer control and the legends work (a
legend disappears and reappears with its layer), the search finds "Altendorf", labels do not
overlap. Screenshots go to ``tests/output/`` (git-ignored).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import geopandas as gpd
import pytest
from browser_util import chromium_or_skip, open_offline
from shapely.geometry import Point, box

from gis_planning.data.catalog import Catalog
from gis_planning.labels import esc
from gis_planning.outputs.atlas import build_atlas
from gis_planning.outputs.webmap import layer_group_names

pytestmark = pytest.mark.browser

OUTPUT = Path(__file__).parent / "output"
XSS = ["<img src=x onerror=alert(1)>", "</script><script>alert(1)</script>"]
SIZE_TARGET = 1_500_000
VIEWPORT = (1280, 860)

#: What the page drew, read from the runtime registry and the DOM.
JS_STATE = """() => {
  const reg = {};
  for (const [name, r] of Object.entries(gp.registry)) {
    reg[name] = {kind: r.kind, count: r.count, on: r.layer._map !== undefined
                 && r.layer._map !== null, visible: r.visible === undefined ? null : r.visible};
  }
  return {
    registry: reg,
    paths: document.querySelectorAll('.leaflet-overlay-pane svg path').length,
    interactivePaths: document.querySelectorAll('.leaflet-overlay-pane path.leaflet-interactive')
      .length,
    legends: Array.from(document.querySelectorAll('.gp-legend'))
      .filter(el => el.style.display !== 'none' && el.offsetParent !== null)
      .map(el => el.querySelector('b').textContent),
    groups: Array.from(document.querySelectorAll('.gp-layers .gp-group > b'))
      .map(b => b.textContent),
    controlRows: document.querySelectorAll('.gp-layers label').length,
    search: document.querySelectorAll('.leaflet-control-search input').length,
    fullscreen: document.querySelectorAll('.leaflet-control-zoom-fullscreen').length,
    scale: document.querySelectorAll('.leaflet-control-scale').length,
    title: (document.querySelector('.gp-titlebox') || {}).textContent || '',
    sources: (document.querySelector('.gp-sources') || {}).textContent || '',
    zoom: Object.values(window).find(v => v instanceof L.Map).getZoom(),
  };
}"""

#: Boxes of the labels shown now (for the overlap check).
JS_LABEL_BOXES = """() => Array.from(document.querySelectorAll('.gp-label'))
  .filter(el => el.parentElement.style.visibility !== 'hidden')
  .map(el => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })
"""


def _toggle(report, label: str) -> None:
    """Click the checkbox of the layer called ``label`` in the layer control."""
    row = report.page.locator(".gp-layers label", has_text=label).first
    row.locator("input").click()
    report.page.wait_for_timeout(150)


@pytest.fixture(scope="module")
def essen_atlas(tmp_path_factory):
    chromium_or_skip()
    out = tmp_path_factory.mktemp("atlas") / "maps" / "essen_atlas.html"
    out.parent.mkdir()
    atlas = build_atlas()
    atlas.save(out, mode="offline")
    return atlas, out


def test_essen_atlas_size_and_offline_text(essen_atlas):
    atlas, path = essen_atlas
    size = path.stat().st_size
    assert size < SIZE_TARGET, f"atlas is {size} bytes, target {SIZE_TARGET}"
    text = path.read_text(encoding="utf-8")
    assert "https://cdn" not in text and "jquery" not in text.lower()
    assert sum(atlas.layer_sizes.values()) < size


def test_essen_atlas_in_chromium(essen_atlas, catalog):
    atlas, path = essen_atlas
    OUTPUT.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    with open_offline(path, viewport=VIEWPORT, settle_ms=600) as report:
        state = report.evaluate(JS_STATE)
        report.screenshot(OUTPUT / "atlas_essen.png")

        # 1. nothing broke: no JS error, no request except (blocked) basemap tiles
        assert report.problems == []
        assert report.tile_requests, "the basemap should have been requested (and blocked)"

        # 2. the page drew exactly the data: polygons per layer, points per layer
        reg = state["registry"]
        expected = {esc(name): n for name, (_, n) in atlas.feature_counts.items()}
        assert {k: v["count"] for k, v in reg.items()} == expected
        assert reg["Stadtteile"]["count"] == len(catalog.load("stadtteile"))
        assert reg["Kitas"]["count"] == len(catalog.load("kitas"))
        assert reg["Schulen"]["count"] == len(catalog.load("schulen"))
        on_polys = [v for v in reg.values() if v["kind"] == "polygons" and v["on"]]
        assert state["paths"] == sum(v["count"] for v in on_polys)
        assert state["interactivePaths"] >= reg["Stadtteile"]["count"]

        # 3. controls: grouped layer control, search, fullscreen, scale, title, sources
        groups = layer_group_names(atlas)
        assert state["groups"] == [g for g in groups if groups[g]] + ["Hintergrund"]
        assert state["controlRows"] == sum(len(v) for v in groups.values()) + 1
        assert state["search"] == 1 and state["fullscreen"] == 1 and state["scale"] == 1
        assert "Integrationsatlas Essen" in state["title"]
        assert "synthetisch" in state["title"]
        for lic in ("ODbL", "dl-de/by-2-0", "1846/2016/5"):
            assert lic in state["sources"]

        # 4. legends follow their layers
        legends = state["legends"]
        bezirk = next(t for t in legends if "Bezirkswert" in t)
        _toggle(report, "Bezirkswert")
        assert bezirk not in report.evaluate(JS_STATE)["legends"]
        _toggle(report, "Bezirkswert")
        assert bezirk in report.evaluate(JS_STATE)["legends"]
        _toggle(report, "Kitas")
        after = report.evaluate(JS_STATE)
        assert "Kitas" in after["legends"] and after["registry"]["Kitas"]["on"]
        n_clustered = report.evaluate(
            "() => gp.registry['Kitas'].markers.getLayers().length")
        assert n_clustered == len(catalog.load("kitas"))
        assert report.page.locator(".gp-cluster").count() > 0
        _toggle(report, "Projektwohnungen")
        assert any("synthetisch" in t for t in report.evaluate(JS_STATE)["legends"])

        # 5. labels never overlap
        boxes = report.evaluate(JS_LABEL_BOXES)
        assert 5 <= len(boxes) <= len(catalog.load("stadtteile"))
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)

        # 6. search by Stadtteil name
        zoom0 = report.evaluate(JS_STATE)["zoom"]
        search = report.page.locator(".leaflet-control-search input.search-input")
        search.fill("")
        search.type("Altend", delay=20)
        tip = report.page.locator(".search-tip", has_text=re.compile(r"^Altendorf$"))
        tip.wait_for(timeout=3000)
        tips = report.page.locator(".search-tip").all_text_contents()
        assert "Burgaltendorf" in tips  # matches inside names too
        tip.click()
        report.page.wait_for_timeout(600)
        assert report.evaluate("() => gp.found") == "Altendorf"
        assert report.evaluate(JS_STATE)["zoom"] > zoom0
        popup = report.page.locator(".leaflet-popup-content")
        assert "Altendorf" in popup.first.text_content()
        report.screenshot(OUTPUT / "atlas_essen_search.png")
        assert report.problems == []
    print(f"\nbrowser check of the Essen atlas: {time.perf_counter() - t0:.1f} s")
    assert (OUTPUT / "atlas_essen.png").stat().st_size > 20_000


@pytest.fixture(scope="module")
def hostile_catalog(tmp_path_factory):
    d = tmp_path_factory.mktemp("xss")
    names = [XSS[0], XSS[1], "Altendorf"]
    st = gpd.GeoDataFrame(
        {"stadtteil": names, "stadtteil_nr": [1, 2, 3], "bezirk": [1, 1, 2]},
        geometry=[box(362000 + 1000 * i, 5701000, 363000 + 1000 * i, 5702000)
                  for i in range(3)],
        crs="EPSG:25832",
    )
    kitas = gpd.GeoDataFrame(
        {"name": [*XSS, "Kita Sonne"], "traeger": [XSS[1], XSS[0], "Stadt"],
         "in_betrieb": [True, False, True]},
        geometry=[Point(362300, 5701300), Point(363400, 5701500), Point(364500, 5701600)],
        crs="EPSG:25832",
    )
    st.to_file(d / "stadtteile.gpkg")
    kitas.to_file(d / "kitas.gpkg")
    cat = Catalog.from_paths({"stadtteile": d / "stadtteile.gpkg", "kitas": d / "kitas.gpkg"},
                             city=XSS[0])
    return cat, d


def test_xss_payloads_show_as_text_and_run_nothing(hostile_catalog):
    chromium_or_skip()
    cat, d = hostile_catalog
    path = d / "xss_atlas.html"
    atlas = build_atlas(cat)
    atlas.save(path, mode="offline")
    OUTPUT.mkdir(exist_ok=True)
    with open_offline(path, viewport=VIEWPORT) as report:
        _toggle(report, "Kitas")
        # open every tooltip and popup so all attribute HTML is in the DOM
        report.evaluate("""() => {
          for (const r of Object.values(gp.registry)) {
            const layers = r.markers ? r.markers.getLayers() : r.layer.getLayers();
            for (const l of layers) {
              if (l.getTooltip && l.getTooltip()) {
                l.openTooltip(l.getLatLng ? l.getLatLng() : l.getBounds().getCenter());
              }
            }
          }
        }""")
        report.page.wait_for_timeout(300)
        text = report.evaluate("() => document.body.innerText")
        injected = report.evaluate(
            "() => document.querySelectorAll('img[src=\"x\"], .leaflet-container script')"
            ".length")
        search = report.page.locator(".leaflet-control-search input.search-input")
        search.type("img", delay=20)
        report.page.locator(".search-tip").first.wait_for(timeout=3000)
        tips = report.page.locator(".search-tip").all_text_contents()
        report.screenshot(OUTPUT / "atlas_xss.png")
        assert report.dialogs == []
        assert report.problems == []
    assert injected == 0
    assert XSS[0] in text  # the payload is shown as text (title, labels, tooltips)
    assert "alert(1)</script>" in text
    assert XSS[0] in tips


def test_small_screen_keeps_the_map_visible(essen_atlas):
    _, path = essen_atlas
    with open_offline(path, viewport=(420, 760)) as report:
        state = report.evaluate("""() => ({
          open: document.querySelector('.gp-layers details').open,
          control: document.querySelector('.gp-layers').getBoundingClientRect().height,
          legends: document.querySelector('.gp-legends').getBoundingClientRect().height,
          sources: document.querySelector('.gp-sources details').open,
        })""")
        report.screenshot(OUTPUT / "atlas_essen_small.png")
        assert report.problems == []
    assert not state["open"] and state["control"] < 60  # the layer list is one button
    assert not state["sources"]
    assert state["legends"] <= 0.3 * 760 + 10
