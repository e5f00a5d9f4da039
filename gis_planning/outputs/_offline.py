"""Self-contained HTML for folium maps: every JavaScript/CSS link replaced by packaged copies.

folium writes ``<script src="https://cdn...">`` and ``<link rel="stylesheet" href="https://...">``
tags into the page header (``folium.Map.default_js``/``default_css`` and each plugin's). In
``mode="offline"`` :func:`render_html` replaces each such tag by an inline ``<script>``/``<style>``
with the content of the copy vendored in ``gis_planning/static/`` (see its README for the exact
npm packages and versions), resolving the CSS ``url(...)`` references (images, fonts) to
``data:`` URIs, so the page needs no network except for basemap tiles. A link this module does
not know raises :class:`~gis_planning.InputError`: nothing is left online silently.

In ``mode="cdn"`` every library that is vendored from npm is linked from jsDelivr's npm mirror
(which serves the npm tarball's bytes unchanged) at the exact version and path of the vendored
copy, with a Subresource Integrity hash (``integrity="sha384-…"``, :func:`sri_hash` of the
vendored bytes) and ``crossorigin="anonymous"``; a small script shows a one-line German notice
at the top of the page when a library cannot load (no network, blocked CDN, hash mismatch).

The project's own page code (``static/gp/*.js|css``, :func:`own_asset`) is inlined in both
modes: it is not published on any CDN.

Both modes drop the libraries the page does not use (``prune=True``): folium links jQuery,
Bootstrap 5, Font Awesome, Glyphicons and Leaflet.awesome-markers into every map, but its own
templates only need jQuery for ``folium.Popup`` with HTML content, ``GeoJson(embed=False)`` and
``keep_in_front``, and Bootstrap never. See :data:`ASSETS` for the rule of each library.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import html as html_lib
import json
import logging
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .._errors import InputError

if TYPE_CHECKING:
    import branca.element
    import folium

__all__ = [
    "ASSETS",
    "CDN_NOTICE",
    "STATIC_DIR",
    "Asset",
    "cdn_url",
    "external_resources",
    "inline_assets",
    "own_asset",
    "render_html",
    "sri_hash",
    "vendored_bytes",
]

logger = logging.getLogger(__name__)

#: Folder with the vendored JavaScript/CSS (filled by ``tools/vendor_assets.py``).
STATIC_DIR = Path(__file__).resolve().parents[1] / "static"


def _uses(pattern: str) -> Callable[[str], bool]:
    rx = re.compile(pattern)
    return lambda page: rx.search(page) is not None


def _always(page: str) -> bool:
    return True


# jQuery calls in folium templates: `$(document).ready`, `$(`...`)[0]`, `$.ajax`.
_needs_jquery = _uses(r"(?<![\w$.])(?:\$|jQuery)\s*[(.]")
_needs_awesome = _uses(r"L\.AwesomeMarkers\b")
_needs_bootstrap = _uses(r"data-bs-|\bbootstrap\.(?:Modal|Tooltip|Popover|Collapse|Dropdown)\b")
# Font Awesome class names ("fa", "fas", "fa-solid", "fa-house") or an icon prefix "fa".
_needs_fontawesome = _uses(r"(?<![\w-])fa(?:[srb]|-(?!rotate-)[a-z0-9][a-z0-9-]*)?(?![\w-])")
_needs_glyphicons = _uses(r"glyphicon")


@dataclass(frozen=True)
class Asset:
    """One JavaScript or CSS file a folium page links and its vendored copy.

    Attributes
    ----------
    path
        File below :data:`STATIC_DIR`, or ``None`` when it is not vendored (the page must not
        need it in offline mode).
    kind
        ``"js"`` or ``"css"``.
    needed
        Predicate on the page text (the HTML before inlining, i.e. folium's own code): does the
        page use this library? Used when ``prune=True``.
    """

    path: str | None
    kind: Literal["js", "css"]
    needed: Callable[[str], bool]
    npm: str | None = None


_JSD = "https://cdn.jsdelivr.net/npm/"
_CFL = "https://cdnjs.cloudflare.com/ajax/libs/"

#: Every CDN URL folium 0.20 (and branca 0.8) links in the maps of this project -> vendored copy.
ASSETS: dict[str, Asset] = {
    # folium.Map default_js / default_css
    _JSD + "leaflet@1.9.3/dist/leaflet.js": Asset("leaflet-1.9.3/dist/leaflet.js", "js", _always,
                                                    "leaflet@1.9.3"),
    _JSD + "leaflet@1.9.3/dist/leaflet.css": Asset(
        "leaflet-1.9.3/dist/leaflet.css", "css", _always, "leaflet@1.9.3"
    ),
    "https://code.jquery.com/jquery-3.7.1.min.js": Asset(
        "jquery-3.7.1/dist/jquery.min.js", "js", _needs_jquery, "jquery@3.7.1"
    ),
    _JSD + "bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": Asset(None, "js", _needs_bootstrap),
    _JSD + "bootstrap@5.2.2/dist/css/bootstrap.min.css": Asset(None, "css", _needs_bootstrap),
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": Asset(
        "glyphicons-3.4.1/css/glyphicons.css", "css", _needs_glyphicons
    ),
    _CFL + "Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": Asset(
        "leaflet.awesome-markers-2.0.2/js/leaflet.awesome-markers.js", "js", _needs_awesome,
        "drmonty-leaflet-awesome-markers@2.0.2"
    ),
    _CFL + "Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": Asset(
        "leaflet.awesome-markers-2.0.2/css/leaflet.awesome-markers.css", "css", _needs_awesome,
        "drmonty-leaflet-awesome-markers@2.0.2"
    ),
    _JSD + "@fortawesome/fontawesome-free@6.2.0/css/all.min.css": Asset(
        "fontawesome-free-6.2.0/css/all.min.css", "css", _needs_fontawesome,
        "@fortawesome/fontawesome-free@6.2.0"
    ),
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/"
    "leaflet.awesome.rotate.min.css": Asset(
        "folium-rotate/leaflet.awesome.rotate.css", "css", _needs_awesome
    ),
    # folium.plugins.MarkerCluster
    _CFL + "leaflet.markercluster/1.1.0/leaflet.markercluster.js": Asset(
        "leaflet.markercluster-1.1.0/dist/leaflet.markercluster.js", "js", _always,
        "leaflet.markercluster@1.1.0"
    ),
    _CFL + "leaflet.markercluster/1.1.0/MarkerCluster.css": Asset(
        "leaflet.markercluster-1.1.0/dist/MarkerCluster.css", "css", _always,
        "leaflet.markercluster@1.1.0"
    ),
    _CFL + "leaflet.markercluster/1.1.0/MarkerCluster.Default.css": Asset(
        "leaflet.markercluster-1.1.0/dist/MarkerCluster.Default.css", "css", _always,
        "leaflet.markercluster@1.1.0"
    ),
    # folium.plugins.Search
    _JSD + "leaflet-search@2.9.7/dist/leaflet-search.min.js": Asset(
        "leaflet-search-2.9.7/dist/leaflet-search.min.js", "js", _always, "leaflet-search@2.9.7"
    ),
    _JSD + "leaflet-search@2.9.7/dist/leaflet-search.min.css": Asset(
        "leaflet-search-2.9.7/dist/leaflet-search.min.css", "css", _always,
        "leaflet-search@2.9.7"
    ),
    # folium.plugins.Fullscreen (jsDelivr minifies on the fly; npm ships the plain file)
    _JSD + "leaflet.fullscreen@3.0.0/Control.FullScreen.min.js": Asset(
        "leaflet.fullscreen-3.0.0/Control.FullScreen.js", "js", _always,
        "leaflet.fullscreen@3.0.0"
    ),
    _JSD + "leaflet.fullscreen@3.0.0/Control.FullScreen.css": Asset(
        "leaflet.fullscreen-3.0.0/Control.FullScreen.css", "css", _always,
        "leaflet.fullscreen@3.0.0"
    ),
    # branca colormaps (LinearColormap/StepColormap legends added to a map)
    _CFL + "d3/3.5.5/d3.min.js": Asset("d3-3.5.5/d3.min.js", "js", _always, "d3@3.5.5"),
}

_LEAFLET_JS = _JSD + "leaflet@1.9.3/dist/leaflet.js"

_SCRIPT_LINK = re.compile(
    r"<script\b[^>]*?\bsrc\s*=\s*(?P<q>[\"'])(?P<url>[^\"']+)(?P=q)[^>]*>\s*</script\s*>",
    re.IGNORECASE,
)
_LINK_TAG = re.compile(r"<link\b[^>]*>", re.IGNORECASE)
_HREF = re.compile(r"\bhref\s*=\s*([\"'])(?P<url>[^\"']+)\1", re.IGNORECASE)
_REL_STYLESHEET = re.compile(r"\brel\s*=\s*([\"'])[^\"']*stylesheet[^\"']*\1", re.IGNORECASE)
_CSS_URL = re.compile(r"url\(\s*(?P<q>[\"']?)(?P<url>[^\"')]+)(?P=q)\s*\)")
_CSS_IMPORT = re.compile(r"@import\s+(?:url\()?\s*[\"']?(?P<url>[^\"');\s]+)", re.IGNORECASE)
_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}", re.IGNORECASE)
_SRC_DECL = re.compile(r"(?<![\w-])src\s*:(?P<list>[^;}]*)", re.IGNORECASE)
_RESOURCE_ATTR = re.compile(
    r"<(?P<tag>script|link|img|iframe|source|video|audio|embed|object|input)\b[^>]*?"
    r"\b(?:src|href|data|poster)\s*=\s*([\"'])(?P<url>[^\"']*)\2",
    re.IGNORECASE,
)
_LOADING_REL = re.compile(
    r"\brel\s*=\s*([\"'])[^\"']*(?:stylesheet|icon|preload|modulepreload|manifest)",
    re.IGNORECASE,
)
_STYLE_BLOCK = re.compile(r"<style\b[^>]*>(?P<css>.*?)</style\s*>", re.IGNORECASE | re.DOTALL)
_EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)

_MIME = {
    ".png": "image/png",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".jpg": "image/jpeg",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
}


def _is_external(url: str) -> bool:
    return _EXTERNAL.match(url.strip()) is not None


@cache
def _data_uri(path: Path) -> str:
    mime = _MIME.get(path.suffix.lower())
    if mime is None:
        raise InputError(f"unbekannter Dateityp der mitgelieferten Datei {path.name!r}.")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _inline_css_urls(css: str, css_path: Path) -> str:
    """Replace relative ``url(...)`` in vendored CSS by ``data:`` URIs of the vendored files.

    Inside ``@font-face`` ``src`` lists, entries whose file is not vendored (ttf/eot/svg
    fallbacks of the woff2 files) are dropped; everywhere else a missing file is an error.
    """

    def resolve(url: str) -> Path | None:
        target = (css_path.parent / url.split("?")[0].split("#")[0]).resolve()
        return target if target.is_file() and STATIC_DIR in target.parents else None

    def fix_src_list(decl: re.Match[str]) -> str:
        kept = []
        for entry in re.split(r",(?![^(]*\))", decl.group("list")):
            m = _CSS_URL.search(entry)
            if m is None or m.group("url").startswith("data:"):
                kept.append(entry)
            elif resolve(m.group("url")) is not None:
                kept.append(entry)
        if not kept:
            raise InputError(f"{css_path.name}: keine mitgelieferte Schriftdatei für "
                             f"{decl.group(0)!r}.")
        return "src:" + ",".join(kept)

    emitted: set[Path] = set()

    def fix_font_face(face: re.Match[str]) -> str:
        # all.min.css declares each font file under several family names (v4/v5 aliases);
        # keep only the first @font-face per file so every font is embedded once.
        rule = _SRC_DECL.sub(fix_src_list, face.group(0))
        files = {resolve(u.group("url")) for u in _CSS_URL.finditer(rule)} - {None}
        if files and files <= emitted:
            logger.debug("dropping duplicate @font-face in %s: %s", css_path.name, rule[:80])
            return ""
        emitted.update(f for f in files if f is not None)
        return rule

    css = _FONT_FACE.sub(fix_font_face, css)

    def replace(m: re.Match[str]) -> str:
        url = m.group("url").strip()
        if url.startswith(("data:", "#")):
            return m.group(0)
        if _is_external(url):
            raise InputError(
                f"Die mitgelieferte CSS-Datei {css_path.name} lädt die externe Adresse {url!r}; "
                "liefern Sie auch diese Datei mit (tools/vendor_assets.py)."
            )
        target = resolve(url)
        if target is None:
            raise InputError(f"{css_path.name} verweist auf {url!r}, die nicht mitgeliefert "
                             f"ist.")
        return f'url("{_data_uri(target)}")'

    return _CSS_URL.sub(replace, css)


@cache
def _inline_tag(path: str, kind: str) -> str:
    """The inline ``<script>``/``<style>`` element for one vendored file (cached)."""
    file = STATIC_DIR / path
    text = file.read_text(encoding="utf-8")
    if kind == "css":
        text = _inline_css_urls(text, file)
        if re.search(r"</style", text, re.IGNORECASE):
            raise InputError(f"{path} enthält '</style' und lässt sich nicht in die Seite "
                             f"einbetten.")
        return f"<style>/* {path} */\n{text}\n</style>"
    # `</script` or `<!--` inside a script would end or confuse the HTML script element;
    # `<\/` and `<\!` mean the same in JavaScript strings, regexes and comments.
    text = re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE).replace("<!--", "<\\!--")
    return f"<script>/* {path} */\n{text}\n</script>"


def sri_hash(path: str) -> str:
    """Subresource Integrity value (``sha384-<base64>``) of the vendored file ``path``."""
    digest = hashlib.sha384((STATIC_DIR / path).read_bytes()).digest()
    return "sha384-" + base64.b64encode(digest).decode("ascii")


def cdn_url(asset: Asset) -> str | None:
    """jsDelivr URL of the npm file the vendored ``asset`` is a copy of (``None``: generated)."""
    if asset.npm is None or asset.path is None:
        return None
    return _JSD + asset.npm + "/" + asset.path.split("/", 1)[1]


#: One-line German notice of a ``--cdn`` page whose libraries did not load.
CDN_NOTICE = ("Kartenbibliotheken nicht geladen (keine Internetverbindung?): diese Fassung "
              "(--cdn) braucht das Netz; die Offline-Fassung erstellt „gis-planning atlas“ "
              "ohne --cdn.")

_NOTICE_SCRIPT = (
    "<script>/* gis_planning: notice when the CDN libraries cannot load */\n"
    "window.gpLibFailed=function(el){(window.gpFailed=window.gpFailed||[])"
    ".push(el.src||el.href);};\n"
    "document.addEventListener('DOMContentLoaded',function(){"
    "if(!(window.gpFailed||[]).length&&window.L){return;}"
    "var d=document.createElement('div');d.className='gp-libnotice';"
    "d.setAttribute('role','alert');d.textContent=%s;d.title=d.textContent;"
    "d.style.cssText='position:fixed;top:0;left:0;right:0;z-index:10000;background:#fff3cd;"
    "color:#5c4400;font:13px/1.5 system-ui,sans-serif;padding:4px 8px;"
    "border-bottom:1px solid #d6b656;white-space:nowrap;overflow:hidden;"
    "text-overflow:ellipsis';document.body.appendChild(d);});\n</script>"
)


def _cdn_tag(url: str, asset: Asset) -> str:
    """The link of ``asset`` for a cdn page: npm file on jsDelivr with SRI, failure noted."""
    src = cdn_url(asset)
    attrs = (f' integrity="{sri_hash(asset.path)}" crossorigin="anonymous"'
             if src is not None and asset.path is not None else "")
    src = src or url
    onerror = ' onerror="gpLibFailed(this)"'
    if asset.kind == "js":
        return f'<script src="{html_lib.escape(src)}"{attrs}{onerror}></script>'
    return f'<link rel="stylesheet" href="{html_lib.escape(src)}"{attrs}{onerror}/>'


def own_asset(name: str) -> str:
    """Inline ``<script>``/``<style>`` of the project's own page code ``static/gp/<name>``.

    Used in both modes (the files are on no CDN); the same escaping as for vendored files.
    """
    path = f"gp/{name}"
    if not (STATIC_DIR / path).is_file():
        raise InputError(f"{path} fehlt in {STATIC_DIR}; die Installation ist unvollständig.")
    return _inline_tag(path, "css" if name.endswith(".css") else "js")


def _default_icon_fix() -> str:
    """Point ``L.Icon.Default`` at ``data:`` URIs (Leaflet guesses image paths from its CSS URL)."""
    img = STATIC_DIR / "leaflet-1.9.3" / "dist" / "images"
    icon, retina, shadow = (
        _data_uri(img / n) for n in ("marker-icon.png", "marker-icon-2x.png", "marker-shadow.png")
    )
    return (
        "<script>L.Icon.Default.imagePath='';L.Icon.Default.mergeOptions("
        f"{{iconUrl:'{icon}',iconRetinaUrl:'{retina}',shadowUrl:'{shadow}'}});</script>"
    )


def _links(page: str) -> list[tuple[re.Match[str], str, str]]:
    """All ``(match, url, kind)`` script-src and stylesheet links of ``page``."""
    found = [(m, html_lib.unescape(m.group("url")), "js") for m in _SCRIPT_LINK.finditer(page)]
    for m in _LINK_TAG.finditer(page):
        href = _HREF.search(m.group(0))
        if href is not None and _REL_STYLESHEET.search(m.group(0)):
            found.append((m, html_lib.unescape(href.group("url")), "css"))
    return sorted(found, key=lambda t: t[0].start())


def _page_code(page: str, links: list[tuple[re.Match[str], str, str]]) -> str:
    """The page text without its link tags: the code the pruning predicates look at."""
    parts, last = [], 0
    for m, _, _ in links:
        parts.append(page[last : m.start()])
        last = m.end()
    parts.append(page[last:])
    return "".join(parts)


def inline_assets(
    page: str,
    *,
    mode: Literal["offline", "cdn"] = "offline",
    prune: bool = True,
    keep: Collection[str] = (),
) -> str:
    """Rewrite the library links of a rendered folium page.

    Parameters
    ----------
    page
        Full HTML text as written by ``folium.Map.save`` / ``Figure.render()``.
    mode
        ``"offline"``: replace each known CDN link by an inline copy of the vendored file and
        raise for any other external JavaScript/CSS/image. ``"cdn"``: keep the links (small
        file, needs the network) and only prune; vendored libraries are linked from jsDelivr's
        npm mirror with SRI hashes, and a notice script reports libraries that fail to load.
    prune
        Drop the links of libraries the page does not use (see :data:`ASSETS`).
    keep
        CDN URLs never to prune (for code the rules cannot see, e.g. jQuery called from a
        script loaded later).

    Returns
    -------
    str
        The rewritten HTML.

    Raises
    ------
    InputError
        ``mode`` is unknown; in offline mode, the page links an external resource that is not
        vendored, or needs a library that is not vendored (Bootstrap 5).
    """
    if mode not in ("offline", "cdn"):
        raise InputError(f"Modus {mode!r}: möglich sind 'offline' (--offline) und 'cdn' "
                         f"(--cdn).")
    links = _links(page)
    code = _page_code(page, links)
    out, last, seen = [], 0, set()
    for m, url, _kind in links:
        out.append(page[last : m.start()])
        last = m.end()
        asset = ASSETS.get(url)
        if asset is None:
            if mode == "offline" and _is_external(url):
                raise InputError(
                    f"Die Karte lädt {url!r}, das gis_planning nicht mitliefert; "
                    "die Seite bräuchte also das Netz. Bauen Sie sie mit --cdn, lassen Sie das "
                    "Element weg oder liefern Sie die Datei mit (tools/vendor_assets.py)."
                )
            out.append(m.group(0))
            continue
        if prune and url not in keep and not asset.needed(code):
            logger.debug("dropping unused library %s", url)
            continue
        if url in seen:
            continue
        seen.add(url)
        if mode == "cdn":
            out.append(_cdn_tag(url, asset))
            continue
        if asset.path is None:
            raise InputError(
                f"Die Karte braucht {url!r} (sie nutzt Klassen oder data-bs-Attribute von "
                "Bootstrap), das nicht mitgeliefert ist. Bauen Sie sie mit --cdn oder das "
                "Element ohne Bootstrap."
            )
        out.append(_inline_tag(asset.path, asset.kind))
        if url == _LEAFLET_JS:
            out.append(_default_icon_fix())
    out.append(page[last:])
    result = "".join(out)
    if mode == "cdn" and seen:
        notice = _NOTICE_SCRIPT % json.dumps(CDN_NOTICE, ensure_ascii=False)
        head = re.search(r"<head\b[^>]*>", result, re.IGNORECASE)
        at = head.end() if head else 0
        result = result[:at] + "\n" + notice + result[at:]
    if mode == "offline":
        remaining = external_resources(result)
        if remaining:
            raise InputError(
                "Die Offline-Karte lüde noch externe Dateien: "
                + ", ".join(sorted(set(remaining)))
                + ". Entfernen Sie sie oder bauen Sie die Karte mit --cdn."
            )
    return result


def external_resources(page: str) -> list[str]:
    """External URLs an HTML page loads by itself (not links users click, not map tiles).

    Looks at ``src``/``href``/``data`` attributes of script, link, img, iframe, source, video,
    audio, embed, object and input tags, and at ``url(...)``/``@import`` in ``<style>`` blocks.
    Tile URL templates live in JavaScript strings and are not reported.
    """
    found = []
    for m in _RESOURCE_ATTR.finditer(page):
        url = html_lib.unescape(m.group("url"))
        if not _is_external(url):
            continue
        if m.group("tag").lower() == "link" and not _LOADING_REL.search(m.group(0)):
            continue  # rel="canonical", "alternate", ...: not fetched by the browser
        found.append(url)
    for block in _STYLE_BLOCK.finditer(page):
        css = block.group("css")
        found += [u.group("url") for u in _CSS_URL.finditer(css) if _is_external(u.group("url"))]
        found += [u.group("url") for u in _CSS_IMPORT.finditer(css) if _is_external(u.group("url"))]
    return found


def render_html(
    m: folium.Map | branca.element.Figure,
    *,
    mode: Literal["offline", "cdn"] = "offline",
    prune: bool = True,
    keep: Collection[str] = (),
) -> str:
    """Render a folium map (or its branca Figure) to one HTML string.

    Parameters
    ----------
    m
        The map, built with folium's normal API.
    mode, prune, keep
        See :func:`inline_assets`. ``mode="offline"`` (default) gives a page that works
        without network (except basemap tiles); ``mode="cdn"`` a small page with CDN links.

    Returns
    -------
    str
        The HTML page; write it with :func:`gis_planning._atomic.atomic_path`.

    Raises
    ------
    InputError
        See :func:`inline_assets`.

    Notes
    -----
    A deep copy of the map's root Figure is rendered, so ``m`` is not changed and rendering
    twice gives the same page (``folium.Map.save`` twice does not: LayerControl repeats its
    ``addTo`` calls).
    """
    # folium's render() is not idempotent (LayerControl appends its addTo() calls on every
    # render), so render a copy and leave the caller's map as it was.
    root = copy.deepcopy(m.get_root())
    page = root.render()
    return inline_assets(page, mode=mode, prune=prune, keep=keep)


def vendored_bytes() -> int:
    """Total size in bytes of the files in :data:`STATIC_DIR` (licences and README included)."""
    return sum(p.stat().st_size for p in STATIC_DIR.rglob("*") if p.is_file())
