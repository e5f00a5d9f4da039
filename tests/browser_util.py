"""Open HTML files in a real headless Chromium with every network request blocked.

Used by the browser tests (``@pytest.mark.browser``). :func:`open_offline` loads a file through
Playwright, aborts every request that is not ``file:`` or ``data:`` (so a page that still needs
a CDN fails visibly), and records console errors, page errors, blocked/failed requests (basemap
tiles apart) and dialogs (``alert``/``confirm``/``prompt``, auto-dismissed) for the assertions.

Set ``GIS_PLANNING_REQUIRE_REAL_CLIENTS=1`` (CI does) to turn a missing browser into a failure.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "CHROMIUM_ARGS",
    "BrowserReport",
    "chromium_or_skip",
    "open_offline",
    "require_real_clients",
]

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

#: Requests for basemap tiles: ``.../{z}/{x}/{y}.png`` or known tile hosts.
TILE_PATTERN = re.compile(
    r"/\d+/\d+/\d+(?:@2x)?\.(?:png|jpe?g|webp|pbf)(?:\?|$)|tile\.openstreetmap|basemaps\.cartocdn"
    r"|arcgisonline|tiles?\.",
    re.IGNORECASE,
)


def require_real_clients() -> bool:
    """True if real-client tests must run (environment ``GIS_PLANNING_REQUIRE_REAL_CLIENTS=1``)."""
    return os.environ.get("GIS_PLANNING_REQUIRE_REAL_CLIENTS", "") == "1"


def chromium_or_skip() -> str:
    """Path of a Chromium executable usable by Playwright, else skip (or fail on CI).

    Looks at ``$GIS_PLANNING_CHROMIUM``, ``/usr/bin/chromium``, ``chromium`` and
    ``chromium-browser`` on ``PATH``; Playwright for Python must be importable.
    """
    missing = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = "the Python package playwright is not installed (pip install playwright)"
    exe = None
    for cand in (os.environ.get("GIS_PLANNING_CHROMIUM"), "/usr/bin/chromium"):
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            exe = cand
            break
    exe = exe or shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None and missing is None:
        missing = "no Chromium found (apt-get install chromium, or set GIS_PLANNING_CHROMIUM)"
    if missing is not None:
        if require_real_clients():
            pytest.fail(f"GIS_PLANNING_REQUIRE_REAL_CLIENTS=1 but {missing}.")
        pytest.skip(missing)
    assert exe is not None
    return exe


@dataclass
class BrowserReport:
    """What happened while a page was open. ``page`` is the live Playwright page."""

    page: Any
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)
    tile_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """Everything that should not happen on a working offline page (tiles excepted)."""
        return (
            [f"console error: {m}" for m in self.console_errors]
            + [f"page error: {m}" for m in self.page_errors]
            + [f"blocked request: {u}" for u in self.blocked_requests]
            + [f"failed request: {u}" for u in self.failed_requests]
            + [f"dialog: {m}" for m in self.dialogs]
        )

    def evaluate(self, script: str, arg: Any = None) -> Any:
        """Run JavaScript in the page and return its JSON-able result."""
        return self.page.evaluate(script, arg)

    def screenshot(self, path: str | Path) -> Path:
        """Save a PNG screenshot of the viewport to ``path``."""
        self.page.screenshot(path=str(path))
        return Path(path)


@contextmanager
def open_offline(
    html_path: str | Path,
    *,
    executable: str | None = None,
    viewport: tuple[int, int] = (1024, 768),
    settle_ms: int = 500,
) -> Iterator[BrowserReport]:
    """Open ``html_path`` in headless Chromium with the network blocked.

    Parameters
    ----------
    html_path
        Local HTML file.
    executable
        Chromium binary; default :func:`chromium_or_skip`.
    viewport
        Window size in CSS pixels.
    settle_ms
        Wait after the ``load`` event so late errors and requests are recorded.

    Yields
    ------
    BrowserReport
        Live record; the browser closes when the ``with`` block ends.
    """
    from playwright.sync_api import sync_playwright

    exe = executable or chromium_or_skip()
    url = Path(html_path).resolve().as_uri()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(
                viewport={"width": viewport[0], "height": viewport[1]}, service_workers="block"
            )
            page = context.new_page()
            report = BrowserReport(page=page)

            def route(r: Any) -> None:
                req_url = r.request.url
                if req_url.startswith(("file:", "data:", "blob:", "about:")):
                    r.continue_()
                    return
                if TILE_PATTERN.search(req_url):
                    report.tile_requests.append(req_url)
                else:
                    report.blocked_requests.append(req_url)
                r.abort("internetdisconnected")

            def on_failed(req: Any) -> None:
                # Blocked requests are recorded by route(); file: requests that fail (a
                # relative image path resolved against the HTML file) land here.
                if req.url.startswith(("file:", "data:", "blob:")):
                    report.failed_requests.append(req.url)

            def on_console(msg: Any) -> None:
                if msg.type == "error":
                    text = msg.text
                    # Chromium also logs the requests we blocked on purpose; they are in the
                    # request lists already.
                    if "net::ERR_INTERNET_DISCONNECTED" in text:
                        return
                    report.console_errors.append(text)

            def on_dialog(dialog: Any) -> None:
                report.dialogs.append(f"{dialog.type}: {dialog.message}")
                dialog.dismiss()

            context.route("**/*", route)
            page.on("requestfailed", on_failed)
            page.on("console", on_console)
            page.on("pageerror", lambda exc: report.page_errors.append(str(exc)))
            page.on("dialog", on_dialog)
            page.goto(url, wait_until="load")
            page.wait_for_timeout(settle_ms)
            yield report
        finally:
            browser.close()
