"""Tests of gis_planning.outputs._offline: offline HTML, checked as text and in a real Chromium."""

from __future__ import annotations

import html
import re
from pathlib import Path

import branca
import folium
import pytest
from branca.element import JavascriptLink
from browser_util import chromium_or_skip, open_offline
from folium import plugins

from gis_planning import InputError
from gis_planning.outputs._offline import (
    ASSETS,
    CDN_NOTICE,
    STATIC_DIR,
    cdn_url,
    external_resources,
    inline_assets,
    render_html,
    sri_hash,
    vendored_bytes,
)

NAMES = ["Altendorf", "Frohnhausen", "Holsterhausen"]


def _geojson(names: list[str]) -> dict:
    """Three side-by-side squares in Essen, one per name."""
    feats = []
    for i, name in enumerate(names):
        x0 = 6.95 + 0.03 * i
        ring = [[x0, 51.44], [x0 + 0.03, 51.44], [x0 + 0.03, 51.46], [x0, 51.46], [x0, 51.44]]
        feats.append(
            {
                "type": "Feature",
                "properties": {"name": name, "wert": i},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    return {"type": "FeatureCollection", "features": feats}


def _atlas_like_map(names: list[str] = NAMES) -> tuple[folium.Map, folium.GeoJson]:
    """GeoJson + tooltip/popup + MarkerCluster + Search + Fullscreen + branca legend."""
    m = folium.Map(location=[51.45, 7.0], zoom_start=12)
    gj = folium.GeoJson(
        _geojson(names),
        name="Stadtteile",
        tooltip=folium.GeoJsonTooltip(["name", "wert"], aliases=["Stadtteil", "Wert"]),
        popup=folium.GeoJsonPopup(["name"]),
    ).add_to(m)
    cluster = plugins.MarkerCluster(name="Kitas").add_to(m)
    for i in range(6):
        folium.Marker([51.45 + 0.002 * i, 7.05], tooltip=f"Kita {i}").add_to(cluster)
    folium.CircleMarker([51.47, 7.0], radius=6, tooltip="Schule").add_to(m)
    plugins.Search(gj, search_label="name", placeholder="Stadtteil suchen").add_to(m)
    plugins.Fullscreen().add_to(m)
    branca.colormap.LinearColormap(["white", "red"], vmin=0, vmax=2, caption="Wert").add_to(m)
    folium.LayerControl().add_to(m)
    return m, gj


# --- text-level checks (no browser) ------------------------------------------------------


def test_every_folium_url_used_by_the_atlas_is_mapped() -> None:
    urls = [u for _, u in folium.Map.default_js + folium.Map.default_css]
    for cls in (plugins.MarkerCluster, plugins.Search, plugins.Fullscreen):
        urls += [u for _, u in cls.default_js + cls.default_css]
    m = folium.Map()
    branca.colormap.LinearColormap(["white", "red"]).add_to(m)
    urls += re.findall(r'<script src="([^"]+)"', m.get_root().render())
    missing = sorted(set(urls) - set(ASSETS))
    assert not missing, f"folium links URLs not in ASSETS (folium upgraded?): {missing}"


def test_vendored_files_exist_with_licences() -> None:
    for url, asset in ASSETS.items():
        if asset.path is not None:
            assert (STATIC_DIR / asset.path).is_file(), url
    for folder in (p for p in STATIC_DIR.iterdir() if p.is_dir()):
        assert any(re.match(r"(?i)(mit-)?licen[cs]e", f.name) for f in folder.iterdir()), folder
    assert (STATIC_DIR / "README.md").is_file()
    assert 500_000 < vendored_bytes() < 2_000_000


def test_offline_page_has_no_external_resources() -> None:
    m, _ = _atlas_like_map()
    page = render_html(m, mode="offline")
    assert external_resources(page) == []
    assert "<script src=" not in page and 'rel="stylesheet"' not in page
    # images and fonts referenced by vendored CSS are data: URIs
    assert "images/layers.png" not in page and "data:image/png;base64," in page


def test_cdn_mode_keeps_links_and_prunes_unused() -> None:
    m, _ = _atlas_like_map()
    page = render_html(m, mode="cdn")
    assert "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js" in page
    assert len(page) < 60_000
    # folium's templates for this map use neither jQuery nor Bootstrap nor icon fonts
    for gone in ("jquery", "bootstrap", "fontawesome", "awesome-markers"):
        assert gone not in page, gone
    full = render_html(m, mode="cdn", prune=False)
    assert "jquery@3.7.1" in full and "bootstrap@5.2.2" in full


def test_cdn_links_carry_sri_hashes_of_the_vendored_bytes() -> None:
    import base64
    import hashlib

    m, _ = _atlas_like_map()
    page = render_html(m, mode="cdn")
    by_url = {cdn_url(a): a for a in ASSETS.values() if cdn_url(a)}
    tags = re.findall(r"<(?:script|link)\b[^>]*(?:src|href)=\"https://[^>]*>", page)
    assert len(tags) >= 6
    for tag in tags:
        url = re.search(r'(?:src|href)="([^"]+)"', tag).group(1)
        assert url in by_url, f"{url} is not the jsDelivr copy of a vendored npm file"
        integrity = re.search(r'integrity="(sha384-[^"]+)"', tag).group(1)
        data = (STATIC_DIR / by_url[url].path).read_bytes()
        expected = "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()
        assert integrity == expected == sri_hash(by_url[url].path)
        assert 'crossorigin="anonymous"' in tag and "gpLibFailed(this)" in tag
    # folium's cdnjs / minify-on-the-fly URLs are replaced by the npm files we vendored
    assert "cdnjs.cloudflare.com" not in page and "Control.FullScreen.min.js" not in page
    assert json_string(CDN_NOTICE) in page


def json_string(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)


def test_vendored_leaflet_is_the_published_release() -> None:
    """The SRI values leafletjs.com publishes for 1.9.3 (unpkg, i.e. the npm files)."""
    import base64
    import hashlib

    published = {
        "leaflet-1.9.3/dist/leaflet.js": "WBkoXOwTeyKclOHuWtc+i2uENFpDZ9YPdf5Hf+D7ewM=",
        "leaflet-1.9.3/dist/leaflet.css": "kLaT2GOSpHechhsozzB+flnD+zUyjE2LlfWPgU04xyI=",
    }
    for path, digest in published.items():
        data = (STATIC_DIR / path).read_bytes()
        assert base64.b64encode(hashlib.sha256(data).digest()).decode() == digest, path


def test_pruning_keeps_what_the_page_uses() -> None:
    m = folium.Map()
    folium.Marker([51.45, 7.0], popup=folium.Popup("<b>Kita</b>"), icon=folium.Icon()).add_to(m)
    page = render_html(m)
    assert "jquery-3.7.1/dist/jquery.min.js" in page  # Popup html uses $(`...`)
    assert "glyphicons-3.4.1/css/glyphicons.css" in page  # folium.Icon default prefix
    assert "leaflet.awesome-markers.js" in page
    assert "fontawesome-free" not in page
    m2 = folium.Map()
    folium.Marker([51.45, 7.0], icon=folium.Icon(icon="house", prefix="fa")).add_to(m2)
    page2 = render_html(m2)
    assert "fontawesome-free-6.2.0/css/all.min.css" in page2 and "glyphicons.css" not in page2
    # each Font Awesome font embedded once although all.min.css names it under 3 families
    assert page2.count("data:font/woff2") == 4


def test_unknown_external_url_raises_in_offline_mode_only() -> None:
    m = folium.Map()
    m.get_root().header.add_child(JavascriptLink("https://example.org/lib.js"), name="x")
    with pytest.raises(InputError, match=r"example\.org/lib\.js.*nicht mitliefert"):
        render_html(m, mode="offline")
    assert "https://example.org/lib.js" in render_html(m, mode="cdn")
    with pytest.raises(InputError, match="Modus 'online': möglich sind"):
        render_html(m, mode="online")  # type: ignore[arg-type]


def test_external_image_is_detected() -> None:
    page = '<html><body><img src="https://example.org/logo.png"><a href="https://x.org">x</a>'
    assert external_resources(page) == ["https://example.org/logo.png"]
    with pytest.raises(InputError, match=r"logo\.png"):
        inline_assets(page, mode="offline")
    css = (
        "<style>@import url('https://fonts.example/a.css');"
        " a{background:url(//x.org/b.png)}</style>"
    )
    assert set(external_resources(css)) == {"https://fonts.example/a.css", "//x.org/b.png"}


def test_bootstrap_need_raises_offline() -> None:
    m = folium.Map()
    m.get_root().html.add_child(branca.element.Element('<button data-bs-toggle="x">b</button>'))
    with pytest.raises(InputError, match="Bootstrap"):
        render_html(m, mode="offline")


def test_render_does_not_change_the_map_output() -> None:
    m, _ = _atlas_like_map()
    assert render_html(m, mode="offline") == render_html(m, mode="offline")


# --- real browser ------------------------------------------------------------------------

JS_COUNTS = """() => ({
  paths: document.querySelectorAll('path.leaflet-interactive').length,
  markers: document.querySelectorAll('.leaflet-marker-icon').length,
  layerControl: !!document.querySelector('.leaflet-control-layers'),
  search: !!document.querySelector('.leaflet-control-search input'),
  fullscreen: !!document.querySelector('.leaflet-control-zoom-fullscreen'),
  legend: !!document.querySelector('.legend svg, svg .legend, .legend'),
  markerImg: Array.from(document.querySelectorAll('img.leaflet-marker-icon'))
      .map(i => i.complete && i.naturalWidth > 0),
})"""


@pytest.mark.browser
def test_offline_map_works_in_chromium_without_network(tmp_path: Path) -> None:
    chromium_or_skip()
    m, _ = _atlas_like_map()
    out = tmp_path / "karte.html"
    out.write_text(render_html(m, mode="offline"), encoding="utf-8")
    with open_offline(out) as report:
        counts = report.evaluate(JS_COUNTS)
        report.screenshot(tmp_path / "karte.png")
        assert report.problems == []
        assert report.tile_requests  # the basemap was asked for and blocked
    assert counts["paths"] >= len(NAMES) + 1  # 3 polygons + circle marker
    assert counts["markers"] >= 1  # a cluster icon (6 markers clustered)
    assert counts["layerControl"] and counts["search"] and counts["fullscreen"]
    assert counts["legend"]
    assert (tmp_path / "karte.png").stat().st_size > 5_000


@pytest.mark.browser
def test_default_marker_icon_loads_offline(tmp_path: Path) -> None:
    chromium_or_skip()
    m = folium.Map(location=[51.45, 7.0], zoom_start=12, tiles=None)
    folium.Marker([51.45, 7.0]).add_to(m)
    out = tmp_path / "marker.html"
    out.write_text(render_html(m), encoding="utf-8")
    with open_offline(out) as report:
        loaded = report.evaluate(JS_COUNTS)["markerImg"]
        assert report.problems == []
    assert loaded == [True]


@pytest.mark.browser
def test_cdn_page_fails_offline_so_the_harness_can_fail(tmp_path: Path) -> None:
    chromium_or_skip()
    m, _ = _atlas_like_map()
    out = tmp_path / "cdn.html"
    out.write_text(render_html(m, mode="cdn"), encoding="utf-8")
    with open_offline(out) as report:
        assert any("leaflet" in u for u in report.blocked_requests)
        assert any("L is not defined" in e for e in report.page_errors)
        notice = report.page.locator(".gp-libnotice")
        assert notice.count() == 1 and notice.is_visible()
        assert notice.text_content() == CDN_NOTICE
        box = notice.bounding_box()
        assert box["height"] < 30  # one line


@pytest.mark.browser
def test_search_finds_a_stadtteil(tmp_path: Path) -> None:
    chromium_or_skip()
    m, _ = _atlas_like_map()
    out = tmp_path / "suche.html"
    out.write_text(render_html(m), encoding="utf-8")
    name = m.get_name()
    with open_offline(out) as report:
        page = report.page
        before = report.evaluate(f"() => {name}.getCenter()")
        box = page.locator(".leaflet-control-search input.search-input")
        if not box.is_visible():
            page.locator(".leaflet-control-search .search-button").click()
        box.click()
        box.press_sequentially("Holster", delay=50)
        tip = page.locator(".search-tooltip .search-tip", has_text="Holsterhausen")
        tip.first.wait_for(state="visible", timeout=3000)
        tip.first.click()
        page.wait_for_timeout(800)
        after = report.evaluate(f"() => {name}.getCenter()")
        assert report.problems == []
    # Holsterhausen is the eastern square: centre lng 7.025
    assert after["lng"] == pytest.approx(7.025, abs=0.01)
    assert abs(after["lng"] - before["lng"]) > 0.01


XSS_NAMES = ["<img src=x onerror=alert(1)>", "</script><script>alert(2)</script>"]


def _hover_all_paths(report) -> list[str]:
    """Hover every vector feature; return the tooltip texts seen."""
    page, texts = report.page, []
    for i in range(page.locator("path.leaflet-interactive").count()):
        page.locator("path.leaflet-interactive").nth(i).hover(force=True)
        page.wait_for_timeout(150)
        texts += report.evaluate(
            "() => Array.from(document.querySelectorAll('.leaflet-tooltip')).map(t => t.innerText)"
        )
    return texts


@pytest.mark.browser
def test_escaped_hostile_names_open_no_dialog(tmp_path: Path) -> None:
    chromium_or_skip()
    m, _ = _atlas_like_map([html.escape(n) for n in XSS_NAMES] + ["Altendorf"])
    out = tmp_path / "xss.html"
    out.write_text(render_html(m), encoding="utf-8")
    with open_offline(out) as report:
        tooltip = _hover_all_paths(report)
        assert report.dialogs == []
        assert report.page_errors == []
    assert any("<img src=x" in t for t in tooltip)  # shown as text, not run
    assert any("</script><script>alert(2)" in t for t in tooltip)


@pytest.mark.browser
def test_positive_control_unescaped_name_opens_a_dialog(tmp_path: Path) -> None:
    """The harness must see an alert when one fires: an unescaped name in a tooltip runs."""
    chromium_or_skip()
    m, _ = _atlas_like_map([XSS_NAMES[0], "Altendorf"])
    out = tmp_path / "xss_raw.html"
    out.write_text(render_html(m), encoding="utf-8")
    with open_offline(out) as report:
        _hover_all_paths(report)
        report.page.wait_for_timeout(300)
        assert report.dialogs == ["alert: 1"]
        assert report.problems  # and the page is reported as broken
