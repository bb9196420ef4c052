"""Fixtures for the real-browser tests: the built site served on 127.0.0.1, and Chromium.

The site is the ``html`` build of ``tests/conftest.py``, served the way Read
the Docs serves it (``tools/siteserver.py``): under the path of
``html_baseurl`` (``/en/latest/``), with ``404.html`` answering every missing
address. Chromium is Debian's package
(``apt-get install chromium``; ``CHROME_PATH`` may point elsewhere), driven by
Playwright without Playwright's own browser download. axe-core comes from
``tools/node_modules`` (``npm ci --prefix tools``). When either is missing the
tests fail and say what to install: they never skip.

Every page is loaded in a fresh browser context that refuses any request not
addressed to 127.0.0.1 and records it, so a test can assert that nothing left
the machine. Screenshots go to ``artifacts/`` at the repository root.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Request,
    Route,
    sync_playwright,
)

from tests.conftest import CONF, shared
from tests.shared import ROOT, Build
from tools.siteserver import sent_size, serve

ARTIFACTS = ROOT / "artifacts"
AXE = ROOT / "tools" / "node_modules" / "axe-core" / "axe.min.js"
# Debian's Chromium, headless, offline: without the resolver rule Chromium still
# looks up Google's hosts at start, even with background networking disabled.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
DESKTOP, MOBILE = 1280, 375
WIDTHS = {"desktop": DESKTOP, "mobile": MOBILE}
THEMES = ("light", "dark")
HEIGHT = 900


def chromium_path() -> Path:
    """The Chromium to drive: ``CHROME_PATH``, else ``chromium`` on the PATH."""
    configured = os.environ.get("CHROME_PATH") or shutil.which("chromium")
    if not configured or not Path(configured).is_file():
        pytest.fail(
            "Chromium not found: install Debian's package (apt-get install chromium; "
            ".ci/run does) or set CHROME_PATH to a Chromium or Chrome binary",
            pytrace=False,
        )
    return Path(configured)


def base_path() -> str:
    """The URL path the site is published under, from ``html_baseurl`` (``/en/latest/``)."""
    return urlsplit(CONF["html_baseurl"]).path or "/"


@pytest.fixture(scope="session", autouse=True)
def fresh_artifacts(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Remove the previous run's screenshots and reports, so none is stale.

    Once per run: a worker that starts its browser tests later must not
    delete what another worker has already written.
    """

    def remove(_: Path) -> dict:
        for folder in ("screenshots", "axe", "print"):
            shutil.rmtree(ARTIFACTS / folder, ignore_errors=True)
        return {}

    shared(tmp_path_factory, "fresh-artifacts", remove)


@pytest.fixture(scope="session")
def site(html: Build) -> Iterator[str]:
    """The built handbook served on 127.0.0.1; yields the base URL of its root."""
    server = serve(html.outdir, base_path())
    yield f"http://127.0.0.1:{server.server_port}{base_path()}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """Playwright's driver (no browser of its own is used)."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless and offline."""
    chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's script, to inject into pages."""
    if not AXE.is_file():
        pytest.fail(
            f"axe-core not found at {AXE.relative_to(ROOT)}: run 'npm ci --prefix tools' "
            "(.ci/run does)",
            pytrace=False,
        )
    return AXE.read_text(encoding="utf-8")


@dataclass
class Transfer:
    """One response the page received, with its body's size raw and gzip-compressed."""

    url: str
    status: int
    raw_bytes: int
    gzip_bytes: int


@dataclass
class Visit:
    """A page loaded in its own browser context, with what it requested."""

    page: Page
    context: BrowserContext
    status: int = 0  # of the page itself
    blocked: list[str] = field(default_factory=list)  # requests that tried to leave 127.0.0.1
    finished: list[Request] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # requests that got no response
    console_errors: list[str] = field(default_factory=list)

    def transfers(self) -> list[Transfer]:
        """Every response so far; gzip at level 6, as a compressing web server sends it.

        A body that gzip cannot shrink (the search index's chunks are stored
        compressed) counts at its own size: a server sends those as they are.
        """
        found = []
        for request in self.finished:
            response = request.response()
            if response is not None:
                body = response.body()
                found.append(Transfer(request.url, response.status, len(body), sent_size(body)))
        return found

    def errors(self) -> list[str]:
        """Requests that failed or were answered with an error, and console errors."""
        return (
            [f"blocked: {url}" for url in self.blocked]
            + [f"failed: {url}" for url in self.failed]
            + [f"console: {text}" for text in self.console_errors]
        )


class Browse:
    """Open pages of the served site in fresh, offline browser contexts."""

    def __init__(self, browser: Browser, site: str) -> None:
        self.browser = browser
        self.site = site
        self.visits: list[Visit] = []

    def open(self, path: str, *, width: int = DESKTOP, theme: str = "light") -> Visit:
        """Load ``path`` (relative to the site root) at ``width`` in the ``theme`` colour scheme."""
        context = self.browser.new_context(
            viewport={"width": width, "height": HEIGHT},
            color_scheme=theme,  # type: ignore[arg-type]
            device_scale_factor=1,
        )
        page = context.new_page()
        visit = Visit(page, context)
        self.visits.append(visit)

        def guard(route: Route) -> None:
            host = urlsplit(route.request.url).hostname
            if host == "127.0.0.1":
                route.continue_()
            else:
                visit.blocked.append(route.request.url)
                route.abort()

        context.route("**/*", guard)
        page.on("requestfinished", lambda request: visit.finished.append(request))
        page.on("requestfailed", lambda request: visit.failed.append(request.url))
        page.on(
            "console",
            lambda message: message.type == "error" and visit.console_errors.append(message.text),
        )
        response = page.goto(self.site + path, wait_until="load")
        visit.status = response.status if response else 0
        return visit

    def close(self) -> None:
        """Close every context opened."""
        for visit in self.visits:
            visit.context.close()
        self.visits.clear()


@pytest.fixture
def browse(browser: Browser, site: str) -> Iterator[Browse]:
    """Open pages for one test; their contexts close after it."""
    opened = Browse(browser, site)
    yield opened
    opened.close()


def screenshot_path(name: str) -> Path:
    """``artifacts/screenshots/<name>.png``, its folder created."""
    target = ARTIFACTS / "screenshots" / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def screenshot(page: Page, name: str) -> Path:
    """Save what the page shows to ``artifacts/screenshots/<name>.png``."""
    target = screenshot_path(name)
    page.screenshot(path=str(target))
    return target


@pytest.fixture(scope="session")
def pages(articles: list) -> dict[str, str]:
    """One page of each kind a reader meets, by kind: path relative to the site root.

    The article is the longest, so that code blocks and tables are exercised;
    the topic page is that article's topic.
    """
    article = max(articles, key=lambda a: (a.path.stat().st_size, a.docname))
    return {
        "landing": "index.html",
        "topic": f"{article.topic}.html",
        "article": f"{article.docname}.html",
        "archive": "articles.html",
        "tags": "articles/tag.html",
        "search": "search.html",
        "not-found": "no/such/page/at/any/depth.html",
    }
