"""What a reader sees in a real browser: layout at desktop and phone widths, both
themes, navigation, search, the theme toggle, the 404 page and printing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.browser.conftest import (
    ARTIFACTS,
    DESKTOP,
    MOBILE,
    THEMES,
    WIDTHS,
    Browse,
    Visit,
    screenshot,
    screenshot_path,
)
from tests.shared import ROOT, Build

KINDS = ("landing", "topic", "article", "archive", "tags", "search", "not-found")
# The kinds axe checks in every combination; the others are in its sweep of the site.
AXE_KINDS = ("landing", "topic", "article", "archive", "search", "not-found")
WORD = re.compile(r"[a-z]{8,}")


def background_luminance(visit: Visit) -> float:
    """Relative luminance (0 black to 1 white) of the page's background colour."""
    rgb = visit.page.evaluate(
        "getComputedStyle(document.body).backgroundColor.match(/[0-9.]+/g).slice(0, 3)"
    )
    red, green, blue = (int(float(value)) / 255 for value in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def unexpected_errors(visit: Visit, kind: str) -> list[str]:
    """Failed, blocked or error responses, and console errors, except the 404 page's own."""
    errors = visit.errors()
    errors += [f"HTTP {t.status}: {t.url}" for t in visit.transfers() if t.status >= 400]
    if kind == "not-found":  # the page itself is answered with 404, as on Read the Docs
        errors = [e for e in errors if "404" not in e or "_static" in e]
    return errors


def open_navigation_drawer(visit: Visit) -> None:
    """Tap the menu button of the phone layout and wait until the drawer is in view."""
    visit.page.locator(".mobile-header label.nav-overlay-icon").click()
    visit.page.wait_for_function(
        "document.querySelector('.sidebar-drawer').getBoundingClientRect().left >= 0"
    )


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("kind", KINDS)
def test_page_renders_in_furo_layout(browse: Browse, pages: dict, kind: str, width: str) -> None:
    for theme in THEMES:
        visit = browse.open(pages[kind], width=WIDTHS[width], theme=theme)
        page = visit.page
        screenshot(page, f"{kind}-{width}-{theme}")
        assert unexpected_errors(visit, kind) == [], f"{kind} at {width} in {theme}"
        assert visit.status == (404 if kind == "not-found" else 200)
        assert page.locator("#furo-main-content h1").first.is_visible()
        drawer = page.locator(".sidebar-drawer").bounding_box()
        assert drawer is not None
        if width == "desktop":
            assert drawer["x"] >= 0 and drawer["width"] > 150, "the sidebar is not shown"
            assert not page.locator(".mobile-header").is_visible()
        else:
            assert drawer["x"] + drawer["width"] <= 0, "the sidebar covers the phone layout"
            assert page.locator(".mobile-header").is_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{kind} scrolls sideways by {overflow}px at {width} width"
        luminance = background_luminance(visit)
        assert (luminance > 0.8) if theme == "light" else (luminance < 0.2), (kind, theme)


def test_sidebar_reaches_every_topic_and_marks_the_current_page(
    browse: Browse, pages: dict
) -> None:
    from tests.conftest import TOPICS

    visit = browse.open(pages["article"])
    navigation = visit.page.locator(".sidebar-drawer .sidebar-tree").first
    for topic, title in TOPICS.items():
        link = navigation.locator(f'a[href$="{topic}.html"]').first
        assert link.is_visible(), f"the sidebar has no visible link to {topic}"
        assert link.inner_text().strip() == title
    current = navigation.locator('a[aria-current="page"]')
    assert current.count() == 1
    assert current.is_visible()
    assert "current-page" in (current.locator("xpath=..").get_attribute("class") or "")
    heading = visit.page.locator("#furo-main-content h1").first.inner_text()
    assert current.inner_text().strip() == heading.strip().rstrip("#").strip()

    # Every topic link leads to the topic's page.
    for topic, title in TOPICS.items():
        visit.page.locator(f'.sidebar-tree a[href$="{topic}.html"]').first.click()
        visit.page.wait_for_url(re.compile(rf"/{topic}\.html$"))
        assert visit.page.locator("#furo-main-content h1").first.inner_text().startswith(title)


@pytest.mark.parametrize("theme", THEMES)
def test_phone_navigation_drawer_opens_with_every_topic(
    browse: Browse, pages: dict, theme: str
) -> None:
    from tests.conftest import TOPICS

    visit = browse.open(pages["article"], width=MOBILE, theme=theme)
    open_navigation_drawer(visit)
    screenshot(visit.page, f"article-mobile-{theme}-navigation-open")
    for topic in TOPICS:
        link = visit.page.locator(f'.sidebar-drawer a[href$="{topic}.html"]').first
        box = link.bounding_box()
        assert box is not None and 0 <= box["x"] < MOBILE, f"{topic} is not in view"
    assert visit.page.locator('.sidebar-drawer a[aria-current="page"]').is_visible()


def body_only_word(articles: list) -> tuple[str, str]:
    """A word found in exactly one article's body and nowhere else in the sources.

    Returns (word, docname). Words of the article's title and description are
    excluded, so that only the full-text index can find it.
    """
    from tests.conftest import SOURCE

    counts: dict[str, set[Path]] = {}
    for path in sorted((ROOT / SOURCE).rglob("*.md")):
        for word in set(WORD.findall(path.read_text(encoding="utf-8").lower())):
            counts.setdefault(word, set()).add(path)
    for article in sorted(articles, key=lambda a: a.docname):
        summary = f"{article.title} {article.fields.get('description', '')}".lower()
        for word in sorted(counts):
            if counts[word] == {article.path} and word not in summary:
                return word, article.docname
    raise AssertionError("no word appears in the body of exactly one article")


def test_search_finds_an_article_by_a_word_only_in_its_body(browse: Browse, articles: list) -> None:
    word, docname = body_only_word(articles)
    visit = browse.open("index.html")
    box = visit.page.locator(".sidebar-drawer input[name=q]")
    box.fill(word)
    box.press("Enter")
    visit.page.wait_for_url(re.compile(r"search\.html\?q="))
    results = visit.page.locator("#handbook-search-results ol > li > a:first-child")
    results.first.wait_for()
    links = [results.nth(i).get_attribute("href") or "" for i in range(results.count())]
    assert any(link.split("?")[0].endswith(f"{docname}.html") for link in links), (word, links)
    screenshot(visit.page, "search-results")


@pytest.mark.parametrize("width", WIDTHS)
def test_theme_toggle_switches_and_survives_a_reload(
    browse: Browse, pages: dict, width: str
) -> None:
    visit = browse.open(pages["article"], width=WIDTHS[width], theme="light")
    page = visit.page
    toggle = page.locator(".theme-toggle-content .theme-toggle, .theme-toggle-header .theme-toggle")
    toggle = toggle.filter(visible=True).first
    assert page.evaluate("document.body.dataset.theme") == "auto"
    assert background_luminance(visit) > 0.8
    # furo cycles auto -> dark -> light -> auto when the system prefers light.
    for expected in ("dark", "light"):
        toggle.click()
        assert page.evaluate("document.body.dataset.theme") == expected
        page.reload()
        assert page.evaluate("document.body.dataset.theme") == expected, "lost on reload"
        luminance = background_luminance(visit)
        assert (luminance < 0.2) if expected == "dark" else (luminance > 0.8)
        toggle = page.locator(".theme-toggle").filter(visible=True).first


@pytest.mark.parametrize("path", ["missing.html", "a/b/c/d/missing.html", "articles/tag/x/"])
def test_not_found_page_works_at_any_depth(browse: Browse, path: str) -> None:
    visit = browse.open(path)
    assert visit.status == 404
    assert visit.page.locator("h1").first.inner_text() == "Page not found"
    assert unexpected_errors(visit, "not-found") == []
    stylesheets = [t for t in visit.transfers() if ".css" in t.url]
    assert len(stylesheets) >= 4 and all(t.status == 200 for t in stylesheets)
    # Every link of the page leads somewhere that exists.
    hrefs = visit.page.eval_on_selector_all(
        "a[href]:not([href^='#']):not([href^='http'])", "links => links.map(a => a.href)"
    )
    assert len(hrefs) > 10
    for href in sorted(set(hrefs)):
        assert visit.page.request.get(href).status == 200, href
    # The search form on the page works from there too.
    visit.page.locator("#handbook-not-found-query").fill("timeout")
    visit.page.locator(".handbook-not-found-search button").click()
    visit.page.wait_for_url(re.compile(r"/search\.html\?q=timeout"))
    assert visit.page.locator("#furo-main-content h1").inner_text() == "Search"


def page_with_external_link(html: Build, articles: list) -> str:
    """The first article whose text links outside the handbook."""
    for article in sorted(articles, key=lambda a: a.docname):
        if 'class="reference external"' in html.page(f"{article.docname}.html"):
            return f"{article.docname}.html"
    raise AssertionError("no article has an external link to check printing with")


def test_printing_an_article_gives_the_article_alone_with_its_links(
    browse: Browse, html: Build, articles: list
) -> None:
    path = page_with_external_link(html, articles)
    visit = browse.open(path)
    page = visit.page
    page.emulate_media(media="print")
    for hidden in (
        ".sidebar-drawer",
        ".toc-drawer",
        ".content-icon-container",
        ".handbook-related",
    ):
        if page.locator(hidden).count():
            assert not page.locator(hidden).first.is_visible(), f"{hidden} is printed"
    article = page.locator("#furo-main-content").bounding_box()
    assert article is not None and article["width"] > 0.9 * DESKTOP
    link = page.locator("#furo-main-content a.reference.external").first
    shown = page.evaluate("a => getComputedStyle(a, '::after').content", link.element_handle())
    assert (link.get_attribute("href") or "") in shown
    target = ARTIFACTS / "print" / path.replace("/", "-").replace(".html", ".pdf")
    target.parent.mkdir(parents=True, exist_ok=True)
    page.pdf(path=str(target), format="A4")
    text = "\n".join(p.extract_text() for p in PdfReader(target).pages)
    title = page.locator("#furo-main-content h1").first.inner_text().rstrip("#").strip()
    assert title.split()[0] in text
    for chrome in ("Recent articles", "On this page", "Skip to content", "Related articles"):
        assert chrome not in text, f"the printed article shows {chrome!r}"


def test_requests_to_other_hosts_are_caught(browse: Browse) -> None:
    """The guard behind every "nothing left the machine" assertion does catch one."""
    visit = browse.open("index.html")
    assert visit.blocked == []
    # evaluate() waits for the fetch to be refused, so the guard has seen it.
    visit.page.evaluate("fetch('https://example.org/tracker.js').catch(() => null)")
    assert visit.blocked == ["https://example.org/tracker.js"]


@pytest.mark.parametrize("theme", THEMES)
def test_figures_are_drawn_for_the_theme_and_for_print(
    browse: Browse, pages: dict, theme: str
) -> None:
    # Figures are black on transparent; the dark theme inverts them, print never does.
    visit = browse.open(pages["article"], theme=theme)
    figure = visit.page.locator("figure.handbook-figure").first
    figure.scroll_into_view_if_needed()
    image = figure.locator("img")
    visit.page.wait_for_function(
        "i => i.complete && i.naturalWidth > 0", arg=image.element_handle()
    )
    drawn = "i => getComputedStyle(i).filter"
    assert ("invert" in image.evaluate(drawn)) == (theme == "dark"), image.evaluate(drawn)
    box = image.bounding_box()
    assert box is not None and box["width"] <= DESKTOP
    figure.screenshot(path=str(screenshot_path(f"figure-{theme}")))
    visit.page.emulate_media(media="print")
    assert "invert" not in image.evaluate(drawn)


def test_a_copy_button_copies_a_console_block_without_prompt_or_output(browse: Browse) -> None:
    # The contributor guide's console block: "$ command" and one line of output.
    visit = browse.open("contributing.html")
    visit.context.grant_permissions(["clipboard-read", "clipboard-write"])
    block = visit.page.locator("div.highlight-console").first
    command = block.locator("pre").inner_text().splitlines()[0]
    assert command.startswith("$ python3 -m nox -s check")
    block.hover()
    block.locator("button.copybtn").click()
    copied = visit.page.evaluate("navigator.clipboard.readText()")
    assert copied == command.removeprefix("$ ")
    assert unexpected_errors(visit, "contributing") == []
