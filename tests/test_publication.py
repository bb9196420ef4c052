"""Every article is published everywhere a reader may look for it, with its planned date."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from ablog.blog import slugify

from handbook.checklists import checklist, link_text
from tests.conftest import Article
from tests.shared import ROOT, Build, build_html

ATOM = "{http://www.w3.org/2005/Atom}"


def test_articles_match_the_plan(articles, plan) -> None:
    from tests.conftest import TOPICS

    for article in articles:
        entry = plan.get(article.topic, {}).get(article.slug)
        assert entry, f"{article.docname} has no entry in docs/plan.yaml"
        assert article.fields["date"] == str(entry["date"]), article.docname
        assert article.fields["category"] == TOPICS[article.topic], article.docname
        assert " ".join(article.fields["description"].split()) == entry["description"]


def test_every_article_is_in_the_archive_tag_and_category_pages(html: Build, articles) -> None:
    for article in articles:
        link = f"{article.docname}.html"
        assert f'href="{link}"' in html.page("articles.html"), f"{link} not in the archive"
        year = article.fields["date"][:4]
        assert f'href="../{link}"' in html.page(f"articles/{year}.html")
        category = slugify(article.fields["category"])
        assert f'href="../../{link}"' in html.page(f"articles/category/{category}.html")
        for tag in article.fields["tags"]:
            assert f'href="../../{link}"' in html.page(f"articles/tag/{slugify(tag)}.html"), tag


def test_feed_has_one_entry_per_article_with_its_date(html: Build, articles) -> None:
    feed = ElementTree.parse(html.outdir / "articles" / "atom.xml").getroot()
    assert feed.tag == f"{ATOM}feed"
    entries = {e.find(f"{ATOM}link").get("href"): e for e in feed.iter(f"{ATOM}entry")}
    assert len(entries) == len(articles)
    for article in articles:
        url = next(u for u in entries if u.endswith(f"/{article.docname}.html"))
        entry = entries[url]
        assert entry.find(f"{ATOM}published").text.startswith(article.fields["date"])
        assert entry.find(f"{ATOM}title").text == article.title
        summary = " ".join(article.fields["description"].split())
        assert entry.find(f"{ATOM}summary").text == summary


def test_feed_updated_is_the_newest_post_not_the_build_time(html: Build, articles) -> None:
    feed = ElementTree.parse(html.outdir / "articles" / "atom.xml").getroot()
    newest = max(a.fields["date"] for a in articles)
    assert feed.find(f"{ATOM}updated").text == f"{newest}T00:00:00Z"


@pytest.mark.builds
def test_full_text_feeds_carry_each_article_when_switched_on(
    tmp_path: Path, articles: list[Article]
) -> None:
    # Summary feeds skip ABlog's copy of every page (handbook/ablog_performance.py);
    # switching full-text feeds on must bring the article bodies back.
    build = build_html(
        ROOT, tmp_path / "out", "-D", "blog_feed_fulltext=1", "-D", "blog_feed_titles="
    )
    assert build.returncode == 0, build.log
    feed = ElementTree.parse(build.outdir / "articles" / "atom.xml").getroot()
    contents = {
        entry.find(f"{ATOM}link").get("href"): entry.findtext(f"{ATOM}content") or ""
        for entry in feed.iter(f"{ATOM}entry")
    }
    for article in articles:
        link = f"{article.docname}.html"
        body = next(value for key, value in contents.items() if key.endswith(link))
        _heading, items = checklist(article.path.read_text(encoding="utf-8"))
        words = " ".join(re.sub(r"[`*]", "", link_text(items[0])).split()[:4])
        text = " ".join(body.split()).replace("\u2019", "'")
        assert words in text, f"{article.docname}: no full text in the feed"


def test_the_saved_environment_holds_no_article_body(html: Build, articles) -> None:
    # ABlog keeps a copy of every post's page for full-text feeds; summary feeds
    # need none, so the environment every rebuild loads must not carry the bodies.
    saved = (html.doctrees / "environment.pickle").read_bytes()
    for article in articles:
        sentence = body_sentence(article.path.read_text(encoding="utf-8"))
        assert sentence.encode() not in saved, f"{article.docname}: the page was kept"


def body_sentence(text: str) -> str:
    """Eight words from the middle of the longest plain line of prose.

    Prose only: outside code fences and directives (a figure's caption is kept
    in the environment for its number), and without quotes, which Sphinx curls.
    """
    lines, fence = [], None
    for line in text.splitlines():
        marker = re.match(r"(```+|:::+)", line.strip())
        if marker and fence is None:
            fence = marker.group(1)
        elif marker and line.strip() == fence:
            fence = None
        elif fence is None and re.fullmatch(r"[A-Za-z](?:[A-Za-z0-9 ,;:()]|-(?!-)){40,}", line):
            lines.append(line)
    words = max(lines, key=len).split()
    middle = len(words) // 2
    return " ".join(words[middle - 4 : middle + 4])
