"""The atlas in a real headless Chromium with the network blocked.

The Essen atlas is built once per module into a temporary folder (offline mode), opened with
:func:`browser_util.open_offline` (every request except ``file:``/``data:`` aborted) and
checked: no JavaScript error, no request other than basemap tiles, the number of drawn
polygons and markers equals the data; hover and click show the topmost visible thematic
layer in one tooltip/popup with German labels, date and source; every layer has a legend;
labels never overlap each other or markers; no control covers the city at 1366 x 768 and
390 x 844; the search folds umlauts and tolerates typos; the query panel answers the README's
"Fragen und Antworten" 1, 2, 4 and 5 and downloads them as CSV; the notebook view
(``_repr_html_``) draws; a ``--cdn`` page shows its notice offline. Screenshots go to
``tests/output/`` (git-ignored).
"""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path

import geopandas as gpd
import pytest
from browser_util import chromium_or_skip, open_offline
from shapely.geometry import Point, box

from gis_planning.data.catalog import Catalog
from gis_planning.labels import COLUMN_LABELS, esc, fmt_number
from gis_planning.outputs._offline import CDN_NOTICE
from gis_planning.outputs.atlas import build_atlas
from gis_planning.outputs.webmap import layer_group_names

pytestmark = pytest.mark.browser

OUTPUT = Path(__file__).parent / "output"
XSS = ["<img src=x onerror=alert(1)>", "</script><script>alert(1)</script>"]
SIZE_TARGET = 600_000
VIEWPORT = (1366, 768)
PHONE = (390, 844)
BEZIRKSWERT = "Anteil 12 Hauptherkunftsländer (Bezirkswert)"

#: What the page drew, read from the runtime registry and the DOM.
JS_STATE = """() => {
  const reg = {};
  for (const [name, r] of Object.entries(gp.registry)) {
    reg[name] = {kind: r.kind, count: r.count, on: gp.map.hasLayer(r.layer),
                 visible: r.visible === undefined ? null : r.visible};
  }
  return {
    registry: reg,
    paths: document.querySelectorAll('.leaflet-overlay-pane svg path').length,
    interactivePaths: document.querySelectorAll('.leaflet-overlay-pane path.leaflet-interactive')
      .length,
    legends: Array.from(document.querySelectorAll('.gp-legend'))
      .filter(el => el.style.display !== 'none').map(el => el.gpName),
    groups: Array.from(document.querySelectorAll('.gp-layers .gp-group > b'))
      .map(b => b.textContent),
    controlRows: document.querySelectorAll('.gp-layers label').length,
    search: document.querySelectorAll('.gp-search-input').length,
    fullscreen: document.querySelectorAll('.leaflet-control-zoom-fullscreen').length,
    scale: document.querySelectorAll('.leaflet-control-scale').length,
    title: (document.querySelector('.gp-titlebox') || {}).textContent || '',
    sources: (document.querySelector('.gp-sources') || {}).textContent || '',
    zoom: gp.map.getZoom(),
  };
}"""

#: Boxes of the labels shown now and of the visible markers (for the overlap checks).
JS_BOXES = """() => {
  const c = gp.map.getContainer().getBoundingClientRect();
  const inView = r => r.right > c.left && r.left < c.right && r.bottom > c.top && r.top < c.bottom;
  const box = el => {
    const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  return {
    labels: Array.from(document.querySelectorAll('.gp-label'))
      .filter(el => el.closest('.leaflet-marker-icon')
              && el.closest('.leaflet-marker-icon').style.visibility !== 'hidden'
              && el.offsetParent !== null && inView(el.getBoundingClientRect())).map(box),
    texts: Array.from(document.querySelectorAll('.gp-label'))
      .filter(el => el.closest('.leaflet-marker-icon')
              && el.closest('.leaflet-marker-icon').style.visibility !== 'hidden'
              && el.offsetParent !== null).map(el => el.textContent),
    markers: Array.from(document.querySelectorAll('.leaflet-marker-pane .leaflet-marker-icon'))
      .filter(el => el.getBoundingClientRect().width > 0).map(box),
  };
}"""

#: Screen position of the representative point of a unit of a polygon layer.
JS_UNIT_POINT = """([layer, name]) => {
  const r = gp.registry[layer], col = r.d.cols.findIndex(c => c[0] === 'stadtteil');
  const i = r.d.vals[col].indexOf(name), ll = gp.reps[r.d.g[i]];
  const p = gp.map.latLngToContainerPoint(ll), b = gp.map.getContainer().getBoundingClientRect();
  return [p.x + b.left, p.y + b.top];
}"""


def _overlap(a, b, eps=0.5) -> bool:
    return not (a[2] <= b[0] + eps or b[2] <= a[0] + eps or a[3] <= b[1] + eps
                or b[3] <= a[1] + eps)


def _toggle(report, label: str) -> None:
    """Click the checkbox of the layer called ``label`` in the layer control."""
    row = report.page.locator(".gp-layers label", has_text=label).first
    row.locator("input").click()
    report.page.wait_for_timeout(200)


def _set_layer(report, name: str, on: bool) -> None:
    report.evaluate("([n, on]) => { const l = gp.registry[n].layer; "
                    "on ? gp.map.addLayer(l) : gp.map.removeLayer(l); }", [esc(name), on])
    report.page.wait_for_timeout(150)


@pytest.fixture(scope="module")
def essen_atlas(tmp_path_factory):
    chromium_or_skip()
    out = tmp_path_factory.mktemp("atlas") / "maps" / "essen_atlas.html"
    out.parent.mkdir()
    atlas = build_atlas()
    atlas.save(out, mode="offline")
    OUTPUT.mkdir(exist_ok=True)
    return atlas, out


def test_essen_atlas_size_and_offline_text(essen_atlas):
    atlas, path = essen_atlas
    size = path.stat().st_size
    assert size < SIZE_TARGET, f"atlas is {size} bytes, target {SIZE_TARGET}"
    text = path.read_text(encoding="utf-8")
    assert "https://cdn" not in text and "jquery" not in text.lower()
    assert "leaflet-search" not in text  # the page has its own search
    assert "gp/atlas.js" in text and "gp/atlas.css" in text  # inlined from static/gp
    assert sum(atlas.layer_sizes.values()) < size


def test_essen_atlas_in_chromium(essen_atlas, catalog):
    atlas, path = essen_atlas
    t0 = time.perf_counter()
    with open_offline(path, viewport=VIEWPORT, settle_ms=600) as report:
        state = report.evaluate(JS_STATE)
        report.screenshot(OUTPUT / "atlas_essen.png")
        # 1. nothing broke: no JS error, no request except (blocked) basemap tiles
        assert report.problems == []
        assert report.tile_requests, "the basemap should have been requested (and blocked)"
        # 2. the page drew exactly the data
        reg = state["registry"]
        expected = {esc(name): n for name, (_, n) in atlas.feature_counts.items()}
        assert {k: v["count"] for k, v in reg.items()} == expected
        assert reg["Stadtteile"]["count"] == len(catalog.load("stadtteile"))
        assert reg["Kitas"]["count"] == len(catalog.load("kitas"))
        assert reg["Schulen"]["count"] == len(catalog.load("schulen"))
        on_polys = [v for v in reg.values() if v["kind"] == "polygons" and v["on"]]
        assert state["paths"] == sum(v["count"] for v in on_polys)
        assert state["interactivePaths"] == 0  # one map-level hit test, not one per path
        # 3. controls
        groups = layer_group_names(atlas)
        assert state["groups"] == [g for g in groups if groups[g]] + ["Hintergrund"]
        assert state["controlRows"] == sum(len(v) for v in groups.values()) + 1
        assert state["search"] == 1 and state["fullscreen"] == 1 and state["scale"] == 1
        assert "Integrationsatlas Essen" in state["title"]
        assert "synthetisch" in state["title"]
        for lic in ("ODbL", "dl-de/by-2-0", "1846/2016/5"):
            assert lic in state["sources"]
        # 4. clustered markers
        _toggle(report, "Kitas")
        n_clustered = report.evaluate("() => gp.registry['Kitas'].target.getLayers().length")
        assert n_clustered == len(catalog.load("kitas"))
        assert report.page.locator(".gp-cluster").count() > 0
        assert report.problems == []
    print(f"\nbrowser check of the Essen atlas: {time.perf_counter() - t0:.1f} s")
    assert (OUTPUT / "atlas_essen.png").stat().st_size > 20_000


def test_hover_and_click_show_the_topmost_thematic_layer(essen_atlas, catalog):
    _, path = essen_atlas
    with open_offline(path, viewport=VIEWPORT, settle_ms=600) as report:
        page = report.page
        x, y = report.evaluate(JS_UNIT_POINT, ["Stadtteile", "Altendorf"])
        page.mouse.move(x, y)
        page.wait_for_timeout(250)
        tips = page.locator(".leaflet-tooltip")
        assert tips.count() == 1
        tip = tips.first.text_content()
        # the default layer (Bezirk values) although the Stadtteil outlines lie on top
        assert tip.startswith(BEZIRKSWERT)
        assert "Altendorf" in tip and "Bezirk III" in tip and "4,2 %" in tip
        assert "Stand 30.09.2016" in tip and "Quelle:" in tip and "Bezugsraum:" in tip
        assert "Bezirkswert: gilt für den ganzen Bezirk" in tip
        page.mouse.click(x, y)
        page.wait_for_timeout(250)
        assert page.locator(".leaflet-popup").count() == 1
        assert page.locator(".leaflet-tooltip").count() == 0  # no duplicate tooltip
        popup = page.locator(".leaflet-popup-content").text_content()
        assert popup.startswith(BEZIRKSWERT) and "Altendorf" in popup
        report.screenshot(OUTPUT / "atlas_popup_default.png")
        page.mouse.move(x + 3, y + 2)  # hovering the same unit: still one box
        page.wait_for_timeout(200)
        assert page.locator(".leaflet-tooltip").count() == 0
        # the layer switched on last is on top: the estimate per Stadtteil
        _toggle(report, "je Stadtteil (Schätzung)")
        page.mouse.move(x, y - 2)
        page.wait_for_timeout(250)
        tip = page.locator(".leaflet-tooltip").first.text_content()
        assert tip.startswith("Anteil 12 Hauptherkunftsländer je Stadtteil (Schätzung)")
        assert "8,3 %" in tip and "Geschätzte Werte" in tip and "Stand: 30.09.2016" in tip
        # no thematic layer shown: the Stadtteil itself
        _toggle(report, "je Stadtteil (Schätzung)")
        _toggle(report, "Bezirkswert")
        page.mouse.move(x, y + 1)
        page.wait_for_timeout(250)
        tip = page.locator(".leaflet-tooltip").first.text_content()
        assert tip.startswith("Stadtteile") and "Stadtteil-Nr." in tip and "km²" in tip
        assert report.problems == []


def test_every_popup_has_german_labels_and_facility_details(essen_atlas):
    _, path = essen_atlas
    with open_offline(path, viewport=VIEWPORT, settle_ms=400) as report:
        infos = report.evaluate("""() => Object.values(gp.registry)
          .filter(r => r.kind !== 'labels' && r.d.cols && r.d.cols.length)
          .map(r => { const div = document.createElement('div');
                      div.innerHTML = gp.info(r, 0, true);
                      return [r.name, Array.from(div.querySelectorAll('th'))
                        .map(th => th.textContent), div.textContent]; })""")
        kita = report.evaluate("""() => { const r = gp.registry['Kitas'];
          gp.map.addLayer(r.layer); gp.map.setView(r.xy[0], 16, {animate: false});
          return true; }""")
        report.page.wait_for_timeout(500)
        report.evaluate("() => gp.registry['Kitas'].markers[0].fire('click')")
        report.page.wait_for_timeout(200)
        popup = report.page.locator(".leaflet-popup-content").text_content()
        report.screenshot(OUTPUT / "atlas_popup_kita.png")
        assert report.problems == []
    assert kita
    raw = set(COLUMN_LABELS) | {"bezirk_label", "stadtteile", "n_teilweise"}
    assert len(infos) >= 12
    for name, headers, _ in infos:
        assert headers, name
        for h in headers:
            assert h not in raw and "_" not in h, (name, h)
    for label in ("Name", "Adresse", "Status", "Träger", "Stadtteil", "Stadtbezirk",
                  "Quelle:", "Stand:", "45143 Essen", "in Betrieb", "Bezirk III",
                  "dl-de/by-2-0"):
        assert label in popup, label
    schools = next(text for name, _, text in infos if name == "Schulen")
    assert "Schulform" in schools and "Adresse" in schools and "Quelle:" in schools
    jc = next(h for name, h, _ in infos if name == "JobCenter-Bereiche")
    assert jc[:4] == ["JobCenter-Bereich", "Stadtteile", "Anzahl Stadtteile",
                      "davon teilweise"]


def test_every_layer_has_a_legend(essen_atlas, catalog):
    atlas, path = essen_atlas
    names = [n for items in layer_group_names(atlas).values() for n in items]
    with open_offline(path, viewport=VIEWPORT, settle_ms=400) as report:
        report.evaluate("() => Object.values(gp.registry).forEach(r => gp.map.addLayer(r.layer))")
        report.page.wait_for_timeout(300)
        state = report.evaluate(JS_STATE)
        legends = report.evaluate("""() => Object.fromEntries(Array.from(
          document.querySelectorAll('.gp-legend')).map(el => [el.gpName, el.textContent]))""")
        _set_layer(report, BEZIRKSWERT, False)
        assert esc(BEZIRKSWERT) not in report.evaluate(JS_STATE)["legends"]
        _set_layer(report, BEZIRKSWERT, True)
        first = report.evaluate(JS_STATE)["legends"][0]
        report.screenshot(OUTPUT / "atlas_legends.png")
        assert report.problems == []
    assert set(state["legends"]) == {esc(n) for n in names}
    assert first == esc(BEZIRKSWERT)  # the layer shown last is first in the legend
    flats = next(t for n, t in legends.items() if n.startswith("Projektwohnungen"))
    assert "< 5 unterdrückt" in flats and "synthetisch" in flats
    jc_names = sorted(catalog.load("jobcenter")["jobcenter"])
    assert all(n in legends["JobCenter-Bereiche"] for n in jc_names)
    catch = next(t for n, t in legends.items() if n.startswith("Einzugsbereiche"))
    assert "Einzugsbereiche" in catch
    bez = legends[esc(BEZIRKSWERT)]
    assert "über " in bez and "5 Klassen" in bez


@pytest.mark.slow
def test_labels_avoid_each_other_and_markers(essen_atlas, catalog):
    _, path = essen_atlas
    named = list(catalog.table("betroffene_stadtteile")["stadtteil"])
    with open_offline(path, viewport=VIEWPORT, settle_ms=600) as report:
        boxes = report.evaluate(JS_BOXES)
        assert "Stadtkern" in boxes["texts"]  # named in the paper: placed first
        assert set(named) <= set(boxes["texts"])
        for name in ("Kitas", "Schulen", "JobCenter-Bereiche"):
            _set_layer(report, name, True)
        for zoom in (11.5, 12.5):
            report.evaluate(f"() => gp.map.setZoom({zoom}, {{animate: false}})")
            report.page.wait_for_timeout(1600)  # cluster animation, then the late placement
            boxes = report.evaluate(JS_BOXES)
            labels, markers = boxes["labels"], boxes["markers"]
            assert len(labels) >= 5
            for i, a in enumerate(labels):
                for b in labels[i + 1:]:
                    assert not _overlap(a, b), (a, b)
                for m in markers:
                    assert not _overlap(a, m), (a, m)
        jc = [t for t in boxes["texts"] if t in set(catalog.load("jobcenter")["jobcenter"])]
        assert jc, "JobCenter areas are named on the map"
        report.screenshot(OUTPUT / "atlas_labels_markers.png")
        assert report.problems == []


@pytest.mark.parametrize("viewport", [VIEWPORT, PHONE], ids=["1366x768", "390x844"])
def test_no_control_covers_the_city(essen_atlas, viewport):
    _, path = essen_atlas
    with open_offline(path, viewport=viewport, settle_ms=600) as report:
        state = report.evaluate("""() => {
          const c = gp.map.getContainer().getBoundingClientRect(), b = gp.cityBounds;
          const p1 = gp.map.latLngToContainerPoint(b.getNorthWest()),
                p2 = gp.map.latLngToContainerPoint(b.getSouthEast());
          const sel = ['.gp-titlebox', '.gp-search', '.gp-legends', '.gp-layers', '.gp-query',
                       '.gp-sources', '.gp-tablebox', '.leaflet-control-zoom'];
          return {city: [p1.x + c.left, p1.y + c.top, p2.x + c.left, p2.y + c.top],
                  width: c.width, height: c.height,
                  boxes: sel.map(s => { const r = document.querySelector(s).closest(
                    '.leaflet-control').getBoundingClientRect();
                    return [s, [r.left, r.top, r.right, r.bottom]]; })};
        }""")
        report.screenshot(OUTPUT / f"atlas_layout_{viewport[0]}x{viewport[1]}.png")
        assert report.problems == []
    x0, y0, x1, y1 = state["city"]
    assert x0 >= 0 and y0 >= 0 and x1 <= state["width"] and y1 <= state["height"]
    # the city uses a fair part of the screen
    assert (x1 - x0) * (y1 - y0) > 0.25 * state["width"] * state["height"]
    for sel, b in state["boxes"]:
        assert not _overlap(state["city"], b), (sel, b, state["city"])


def test_search_folds_umlauts_and_tolerates_typos(essen_atlas, catalog):
    _, path = essen_atlas
    kita = catalog.load("kitas")["name"].iloc[0]  # 'Kath. Kita & Familienzentrum ...'
    typo = kita.replace("Mercatorstr", "Merkatorstr").replace("Familienzentrum", "Familenzentrum")
    cases = {"Altendorff": "Altendorf", "Ruettenscheid": "Rüttenscheid",
             "Rüttenscheid": "Rüttenscheid", "Bezirk V": "Bezirk V", "Bezrik V": "Bezirk V",
             "ueberruhr-hinsel": "Überruhr-Hinsel", typo: kita,
             "Altenessen Sued": "Altenessen-Süd"}
    with open_offline(path, viewport=VIEWPORT, settle_ms=400) as report:
        first = {q: report.evaluate("q => (gp.find(q, 3)[0] || {}).html || null", q)
                 for q in cases}
        page = report.page
        search = page.locator(".gp-search-input")
        search.fill("")
        search.type("Altend", delay=15)
        tips = page.locator(".gp-search-list li").all_text_contents()
        search.fill("")
        search.type("Altendorff", delay=15)
        page.locator(".gp-search-list li").first.wait_for(timeout=3000)
        zoom0 = report.evaluate("() => gp.map.getZoom()")
        search.press("Enter")
        page.wait_for_timeout(600)
        found = report.evaluate("() => gp.found")
        zoom1 = report.evaluate("() => gp.map.getZoom()")
        popup = page.locator(".leaflet-popup-content").first.text_content()
        search.fill("")
        search.type("xyzqwv", delay=10)
        none = page.locator(".gp-search-list li").all_text_contents()
        report.screenshot(OUTPUT / "atlas_essen_search.png")
        assert report.problems == []
    assert {q: v and re.sub("&amp;", "&", v).replace("&quot;", '"')
            for q, v in first.items()} == cases
    assert any(t.startswith("Altendorf") for t in tips)
    assert any(t.startswith("Burgaltendorf") for t in tips)  # matches inside names too
    assert found == "Altendorf" and zoom1 > zoom0
    assert "Altendorf" in popup and popup.startswith(BEZIRKSWERT)  # the value at the unit
    assert none == ["Nicht gefunden"]


# ------------------------------------------------------------------ querying without SQL
def _query(report, layer: str, conds: list[dict], *, csv_name: str | None = None):
    """Build a query in the panel like a user: layer, conditions, "Anzeigen"."""
    page = report.page
    panel = page.locator(".gp-query")
    if not panel.locator("details").evaluate("d => d.open"):
        panel.locator("summary").click()
    panel.locator(".gp-q-clear").click()
    panel.locator(".gp-q-layer").select_option(label=layer)
    for k, c in enumerate(conds):
        panel.locator(".gp-q-add").click()
        row = panel.locator(".gp-q-cond").nth(k)
        row.locator(".gp-q-field").select_option(label=c["field"])
        if c["field"] == "liegt in …":
            row.locator(".gp-q-area").select_option(label=c["area"])
            row.locator(".gp-q-value").select_option(label=c["value"])
        elif c["field"] == "Entfernung zu …":
            row.locator(".gp-q-op").first.select_option(label=c["op"])
            row.locator(".gp-q-m").fill(str(c["m"]))
            row.locator(".gp-q-target").select_option(label=c["target"])
            if "sub" in c:
                row.locator(".gp-q-tfield").select_option(label=c["sub"][0])
                row.locator(".gp-q-op.gp-q-sub").select_option(label=c["sub"][1])
                row.locator(".gp-q-value.gp-q-sub").select_option(label=c["sub"][2])
        else:
            row.locator(".gp-q-op").select_option(label=c["op"])
            value = row.locator(".gp-q-value")
            if value.evaluate("e => e.tagName") == "SELECT":
                value.select_option(label=c["value"])
            else:
                value.fill(c["value"])
    panel.locator(".gp-q-run").click()
    page.wait_for_timeout(300)
    count = panel.locator(".gp-q-count").text_content()
    headers = panel.locator(".gp-q-table th").all_text_contents()
    rows = [[td.text_content() for td in tr.locator("td").all()]
            for tr in panel.locator(".gp-q-table tr").all()[1:]]
    marked = report.evaluate("() => gp.hl.getLayers().length")
    out = {"count": int(count.split(" ")[0].replace(".", "")), "text": count,
           "headers": headers, "rows": rows, "marked": marked}
    if csv_name is not None:
        with page.expect_download() as dl:
            panel.locator(".gp-q-csv").click()
        out["file"] = dl.value.suggested_filename
        text = Path(dl.value.path()).read_text(encoding="utf-8")
        assert text.startswith("\ufeff")
        out["csv"] = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    return out


@pytest.mark.slow
def test_query_panel_answers_the_readme_questions(essen_atlas, catalog):
    _, path = essen_atlas
    kitas, schulen = catalog.load("kitas"), catalog.load("schulen")
    with open_offline(path, viewport=VIEWPORT, settle_ms=400) as report:
        # 1. Welche Kitas liegen in den Stadtteilen des Bezirks V? (36)
        q1 = _query(report, "Kitas", [{"field": "Stadtbezirk", "op": "=", "value": "Bezirk V"}],
                    csv_name="q1")
        report.screenshot(OUTPUT / "atlas_query_q1.png")
        q1b = _query(report, "Kitas", [{"field": "liegt in …", "area": "Stadtbezirke",
                                        "value": "Bezirk V"}])
        # 2. Schulen höchstens 500 m von einer noch nicht eröffneten Kita (10)
        q2 = _query(report, "Schulen", [{"field": "Entfernung zu …", "op": "höchstens",
                                         "m": 500, "target": "Kitas",
                                         "sub": ("Status", "=", "noch nicht eröffnet")}],
                    csv_name="q2")
        report.screenshot(OUTPUT / "atlas_query_q2.png")
        # 4. Stadtteile mit geschätztem Anteil über 7 % (5)
        q4 = _query(report, "Anteil 12 Hauptherkunftsländer je Stadtteil (Schätzung)",
                    [{"field": "Anteil 12 Hauptherkunftsländer (%)", "op": ">", "value": "7"}],
                    csv_name="q4")
        # 5. Kitas noch nicht in Betrieb (3)
        q5 = _query(report, "Kitas", [{"field": "in Betrieb", "op": "=", "value": "nein"}])
        # Kitas, Träger = AWO, in Bezirk V (two conditions, all must hold)
        traeger = kitas["traeger"].value_counts().index[0]
        q6 = _query(report, "Kitas", [{"field": "Träger", "op": "=", "value": traeger},
                                      {"field": "Stadtbezirk", "op": "=",
                                       "value": "Bezirk V"}])
        # confidential layer only as released: counts per unit, suppressed ones as "< 5"
        q8 = _query(report, "Projektwohnungen je Stadtteil (synthetisch / "
                    "Demonstrationsdaten)", [{"field": "Stadtbezirk", "op": "=",
                                              "value": "Bezirk IV"}])
        assert report.problems == []

    names_v = set(kitas.loc[kitas["bezirk"] == 5, "name"])
    assert q1["count"] == q1b["count"] == 36 == len(names_v)
    assert q1["marked"] == 36 and len(q1["rows"]) == 36
    assert q1["file"] == "abfrage_kitas.csv"
    head, *body = q1["csv"]
    assert head[:3] == ["Name", "Adresse", "Status"] and "Breite (WGS84)" in head
    assert len(body) == 36 and {r[0] for r in body} == names_v
    assert {r[head.index("Stadtteil")] for r in body} == {
        "Altenessen-Nord", "Altenessen-Süd", "Karnap", "Vogelheim"}
    assert q2["count"] == 10
    assert "Abstand zu Kitas (m)" in q2["headers"]
    di = q2["csv"][0].index("Abstand zu Kitas (m)")
    dist = [float(r[di].replace(",", ".")) for r in q2["csv"][1:]]
    assert len(dist) == 10 and max(dist) <= 500
    closed = kitas[~kitas["in_betrieb"]]
    near = schulen[[closed.distance(p).min() <= 500 for p in schulen.geometry]]
    assert {r[0] for r in q2["csv"][1:]} == set(near["name"])
    for name, d in zip((r[0] for r in q2["csv"][1:]), dist, strict=True):
        exact = closed.distance(schulen.loc[schulen["name"] == name].geometry.iloc[0]).min()
        assert d == pytest.approx(exact, abs=0.2)  # the city's CRS, as the CLI measures
    assert q4["count"] == 7  # the README's answer: the five printed and two estimated
    assert {r[0] for r in q4["rows"]} == {"Stadtkern", "Nordviertel", "Südostviertel",
                                          "Altendorf", "Horst", "Ostviertel", "Westviertel"}
    shares = {r[0]: r[1] for r in q4["rows"]}
    assert shares["Stadtkern"] == "11,7 %" and shares["Horst"] == "7,4 %"
    assert q4["file"].startswith("abfrage_anteil_12")
    assert q5["count"] == 3
    assert sorted(r[-2] for r in q5["rows"]) == ["Frohnhausen", "Katernberg", "Schonnebeck"]
    assert q6["count"] == int(((kitas["traeger"] == traeger) & (kitas["bezirk"] == 5)).sum())
    released = catalog.load("projektwohnungen")
    iv = released[released["bezirk"] == 4]
    assert q8["count"] == len(iv)
    assert sorted(r[1] for r in q8["rows"]) == sorted(iv["anzahl_text"])
    assert "< 5" in {r[1] for r in q8["rows"]}


def test_query_panel_works_on_a_phone(essen_atlas):
    _, path = essen_atlas
    with open_offline(path, viewport=PHONE, settle_ms=400) as report:
        q5 = _query(report, "Kitas", [{"field": "in Betrieb", "op": "=", "value": "nein"}])
        sheet = report.page.locator(".gp-q-panel").bounding_box()
        report.screenshot(OUTPUT / "atlas_query_phone.png")
        assert report.problems == []
    assert q5["count"] == 3
    assert sheet["width"] >= PHONE[0] - 1 and sheet["y"] + sheet["height"] <= PHONE[1] + 1


def test_page_number_format_equals_fmt_number(essen_atlas):
    _, path = essen_atlas
    cases = [(0.125, 2), (2.5, 0), (3.5, 0), (12.5, 0), (1234.5, 1), (-0.04, 1),
             (7.1449, 1), (1234567.891, 2), (0.0, 0), (98439, 0), (11.698379, 1)]
    with open_offline(path, viewport=(800, 600), settle_ms=200) as report:
        got = report.evaluate("cs => cs.map(c => gp.fmtNum(c[0], c[1]))", cases)
    assert got == [fmt_number(v, d) for v, d in cases]


def test_notebook_view_draws_the_offline_page(essen_atlas, tmp_path):
    atlas, _ = essen_atlas
    frame = atlas._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and "https://cdn" not in frame
    host = tmp_path / "notebook.html"
    host.write_text(f"<!DOCTYPE html><html><body>{frame}</body></html>", encoding="utf-8")
    with open_offline(host, viewport=VIEWPORT, settle_ms=1500) as report:
        inner = report.page.frames[1]
        n = inner.evaluate("() => Object.keys(gp.registry).length")
        paths = inner.evaluate("() => document.querySelectorAll('svg path').length")
        report.screenshot(OUTPUT / "atlas_notebook.png")
        assert report.problems == []
    assert n == len(atlas.feature_counts) and paths > 50


def test_cdn_atlas_shows_a_notice_without_network(essen_atlas, tmp_path):
    atlas, _ = essen_atlas
    out = tmp_path / "cdn.html"
    out.write_text(atlas.render(mode="cdn"), encoding="utf-8")
    text = out.read_text(encoding="utf-8")
    assert text.count('integrity="sha384-') >= 4
    with open_offline(out, viewport=PHONE) as report:
        notice = report.page.locator(".gp-libnotice")
        assert notice.is_visible() and notice.text_content() == CDN_NOTICE
        assert notice.bounding_box()["height"] < 30
        report.screenshot(OUTPUT / "atlas_cdn_offline.png")


@pytest.mark.filterwarnings("ignore:.*außerhalb von Musterstadt")
def test_musterstadt_atlas_reads_its_own_pack(tmp_path):
    chromium_or_skip()
    pack = Path(__file__).parent / "data" / "musterstadt" / "pack.json"
    cat = Catalog.from_file(pack)
    atlas = build_atlas(cat, basemap=False)
    out = tmp_path / "muster.html"
    atlas.save(out)
    text = out.read_text(encoding="utf-8")
    assert "Essen" not in text and "Integrationsatlas Musterstadt" in text
    with open_offline(out, viewport=VIEWPORT, settle_ms=400) as report:
        hit = report.evaluate("() => (gp.find('Muster-Nord 1')[0] || {}).html")
        name = cat.load("stadtteile")["stadtteil"].iloc[0]
        x, y = report.evaluate(JS_UNIT_POINT, ["Stadtteile", name])
        report.page.mouse.move(x, y)
        report.page.wait_for_timeout(250)
        tip = report.page.locator(".leaflet-tooltip").first.text_content()
        report.screenshot(OUTPUT / "atlas_musterstadt.png")
        assert report.problems == []
    assert hit == "Muster-Nord 1"
    g = cat.group()
    assert tip.startswith(f"Anteil {g.label} (Bezirkswert)") and "Stand 31.12.2021" in tip


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
    with open_offline(path, viewport=VIEWPORT) as report:
        _toggle(report, "Kitas")
        # every info box, the search list and the query panel with its value lists
        html = report.evaluate("""() => Object.values(gp.registry)
          .filter(r => r.kind !== 'labels' && r.d.cols && r.d.cols.length)
          .map(r => { let h = ''; for (let i = 0; i < r.count; i++) { h += gp.info(r, i, true); }
                      return h; }).join('')""")
        report.evaluate("h => { const d = document.createElement('div'); d.innerHTML = h; "
                        "document.body.appendChild(d); }", html)
        search = report.page.locator(".gp-search-input")
        search.type("img", delay=20)
        report.page.locator(".gp-search-list li").first.wait_for(timeout=3000)
        tips = report.page.locator(".gp-search-list li").all_text_contents()
        report.page.locator(".gp-query summary").click()
        report.page.locator(".gp-q-layer").select_option(label="Kitas")
        report.page.locator(".gp-q-add").click()
        report.page.locator(".gp-q-field").select_option(label="Träger")
        options = report.page.locator(".gp-q-value option").all_text_contents()
        report.page.locator(".gp-q-run").click()
        text = report.evaluate("() => document.body.innerText")
        injected = report.evaluate(
            "() => document.querySelectorAll('img[src=\"x\"], .leaflet-container script')"
            ".length")
        report.screenshot(OUTPUT / "atlas_xss.png")
        assert report.dialogs == []
        assert report.problems == []
    assert injected == 0
    assert XSS[0] in text  # the payload is shown as text (title, labels, tooltips)
    assert "alert(1)</script>" in text
    assert any(XSS[0] in t for t in tips)
    assert set(XSS) <= set(options)
