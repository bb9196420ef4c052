"""The built HTML site: zero warnings, furo's layout everywhere, the pages readers expect."""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import pytest
from docutils.utils.smartquotes import educateQuotes

from tests.conftest import copy_project, find_articles
from tests.shared import Build, build_html

# furo writes this in place of the page when a template inherits from layout.html
# instead of page.html, which is what ABlog's injected templates did.
FURO_LAYOUT_ERROR = "inheriting from layout.html"
FURO_MARKERS = ('<div class="page">', 'class="sidebar-drawer"', 'id="furo-main-content"')


def html_pages(build: Build) -> list[Path]:
    """Every HTML page of the build, excluding Sphinx's static assets."""
    return sorted(p for p in build.outdir.rglob("*.html") if "_static" not in p.parts)


def test_build_has_no_warnings(html: Build) -> None:
    assert "WARNING" not in html.log and "ERROR" not in html.log, html.log


def test_every_page_uses_furo_layout(html: Build) -> None:
    pages = html_pages(html)
    assert len(pages) > 10
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert FURO_LAYOUT_ERROR not in text, f"{page.name} shows furo's layout error page"
        for marker in FURO_MARKERS:
            assert marker in text, f"{page.relative_to(html.outdir)} lacks furo's {marker}"


def test_archive_pages_are_generated(html: Build) -> None:
    for name in (
        "articles.html",
        "articles/archive.html",
        "articles/tag.html",
        "articles/category.html",
        "articles/atom.xml",
    ):
        assert (html.outdir / name).is_file(), f"{name} was not generated"


def test_landing_page_has_a_card_per_topic_and_latest_articles(html: Build) -> None:
    from tests.conftest import TOPICS

    landing = html.page("index.html")
    cards = re.findall(r'class="sd-card [^"]*".*?href="([^"]+)\.html"', landing, re.S)
    assert sorted(cards) == sorted(TOPICS), cards
    assert 'class="postlist-style-none postlist"' in landing


def test_topic_pages_show_cards_and_planned_articles(html: Build, articles, plan) -> None:
    written = {a.docname for a in articles}
    for topic, entries in plan.items():
        page = html.page(f"{topic}.html")
        for slug in entries:
            link = f'href="{topic}/{slug}.html"'
            if f"{topic}/{slug}" in written:
                assert link in page, f"{topic}.html has no card for {slug}"
            else:
                assert entries[slug]["title"] in page, (
                    f"{topic}.html does not list {slug} as planned"
                )


CARD = re.compile(
    r'<div class="sd-card sd-sphinx-override[^"]*">\s*'
    r'<div class="sd-card-body docutils">\s*'
    r'<div class="sd-card-title sd-font-weight-bold docutils">\s*(?P<title>.*?)\s*</div>\s*'
    r'<p class="sd-card-text">(?P<description>.*?)</p>\s*</div>\s*'
    r'<div class="sd-card-footer docutils">\s*'
    r'<p class="sd-card-text">(?P<date>[^<]*)</p>\s*</div>\s*'
    r'<a class="[^"]*sd-stretched-link[^"]*" href="(?P<href>[^"]+)">',
    re.S,
)


def topic_cards(page: str) -> list[dict[str, str]]:
    """The article cards of a topic page, in page order, as plain text."""

    def plain(value: str) -> str:
        return html_lib.unescape(re.sub(r"<[^>]+>", "", value))

    return [
        {key: plain(value) for key, value in card.groupdict().items()}
        for card in CARD.finditer(page)
    ]


def smart(text: str) -> str:
    """Straight quotes and apostrophes as Sphinx's smartquotes renders them."""
    return educateQuotes(text, language="en")


def test_topic_cards_show_each_article_newest_first(html: Build, articles) -> None:
    from tests.conftest import TOPICS

    for topic in TOPICS:
        mine = [a for a in articles if a.topic == topic]
        mine.sort(key=lambda a: (a.fields["date"], a.title, a.slug), reverse=True)
        expected = [
            {
                "title": smart(a.title),
                "description": smart(" ".join(a.fields["description"].split())),
                "date": a.fields["date"],
                "href": f"{topic}/{a.slug}.html",
            }
            for a in mine
        ]
        assert topic_cards(html.page(f"{topic}.html")) == expected, topic


@pytest.mark.builds
def test_a_card_with_inline_markup_renders_it(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project")
    article = next(a for a in find_articles(root) if a.topic == "resilience")
    text = article.path.read_text(encoding="utf-8")
    article.path.write_text(text.replace(f"# {article.title}", "# Bounding `asyncio` queues", 1))
    build = build_html(root, tmp_path / "out")
    assert build.returncode == 0, build.log
    titles = [card["title"] for card in topic_cards(build.page("resilience.html"))]
    assert "Bounding asyncio queues" in titles, titles
    code = r'sd-card-title[^>]*>\s*Bounding <code[^>]*><span class="pre">asyncio<'
    assert re.search(code, build.page("resilience.html"))
    assert len(titles) == len([a for a in find_articles(root) if a.topic == "resilience"])


def test_every_article_is_in_its_topic_toctree(html: Build, articles) -> None:
    env = html.environment()
    for article in articles:
        assert article.docname in env.toctree_includes.get(article.topic, []), (
            f"{article.docname} is missing from the toctree of docs/{article.topic}.md"
        )


def test_articles_have_meta_description_from_front_matter(html: Build, articles) -> None:
    for article in articles:
        page = html.page(f"{article.docname}.html")
        description = " ".join(article.fields["description"].split())
        assert f'<meta name="description" content="{description}"' in page.replace("&#x27;", "'")


def test_articles_show_their_publication_date(html: Build, articles) -> None:
    for article in articles:
        page = html.page(f"{article.docname}.html")
        assert f'<time datetime="{article.fields["date"]}">' in page


def test_sphinx_writes_no_search_index_and_the_search_page_stays(html: Build) -> None:
    # The search page reads _search/; Sphinx's own index is not built (handbook/search.py).
    assert not (html.outdir / "searchindex.js").exists()
    page = html.page("search.html")
    assert "handbook-search.js" in page and "searchindex.js" not in page
    assert 'action="search.html"' in html.page("index.html")  # the sidebar's search box


def test_the_search_page_loads_no_code_tab_or_card_assets(html: Build) -> None:
    # It shows none; they were half of what a first visit to the page downloaded.
    article = html.page(f"{find_articles()[0].docname}.html")
    search = html.page("search.html")
    for asset in ("sphinx-design.min.css", "copybutton.js", "clipboard.min.js", "pygments.css"):
        assert asset in article, f"{asset} is no longer on articles: update the list"
        assert asset not in search, f"the search page still loads {asset}"
    assert "furo.css" in search and "handbook-search.js" in search
