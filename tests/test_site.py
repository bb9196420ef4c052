"""The built HTML site: zero warnings, furo's layout everywhere, the pages readers expect."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

from tests.conftest import Build

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
    from conf import handbook_topics  # the topics conf.py declares

    landing = html.page("index.html")
    cards = re.findall(r'class="sd-card [^"]*".*?href="([^"]+)\.html"', landing, re.S)
    assert sorted(cards) == sorted(handbook_topics), cards
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


def test_every_article_is_in_its_topic_toctree(html: Build, articles) -> None:
    with open(html.outdir / ".doctrees" / "environment.pickle", "rb") as handle:
        env = pickle.load(handle)
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
