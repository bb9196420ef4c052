"""The review checklists page: every article's checklist, built from the articles."""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from handbook.checklists import checklist, link_text
from tests.conftest import built_copy, find_articles
from tests.shared import Build, build_html

ITEM = re.compile(r'<li><p><a class="reference internal" href="([^"]+)">(.*?)</a></p></li>', re.S)


def text_of(markup: str) -> str:
    """Visible text of some markup, without the heading's permalink sign."""
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", "", markup)).split()).rstrip("¶")


def items_on_page(page: str) -> dict[str, list[str]]:
    """The page's questions, by the article page they link to."""
    found: dict[str, list[str]] = {}
    for href, label in ITEM.findall(page):
        found.setdefault(href.split("#")[0], []).append(text_of(label))
    return found


def test_every_checklist_item_of_every_article_is_on_the_page(html: Build, articles) -> None:
    page = html.page("checklists.html")
    listed = items_on_page(page)
    for article in articles:
        _heading, items = checklist(article.path.read_text(encoding="utf-8"))
        shown = listed.get(f"{article.docname}.html", [])
        assert len(shown) == len(items) >= 5, f"{article.docname}: {len(shown)} of {len(items)}"
        for item, text in zip(items, shown, strict=True):
            # The item's words, with roles and links reduced to their text.
            words = re.sub(r"[`*]", "", link_text(item)).split()[:6]
            assert text.replace("\u2019", "'").startswith(" ".join(words).replace("\u2019", "'"))
        assert f'href="{article.docname}.html#' in page


def test_items_are_grouped_by_topic_in_the_configured_order(html: Build, articles) -> None:
    from tests.conftest import TOPICS

    page = html.page("checklists.html")
    headings = [text_of(h) for h in re.findall(r"<h2>(.*?)</h2>", page)]
    topics = {a.topic for a in articles}
    used = [title for topic, title in TOPICS.items() if topic in topics]
    assert headings == used
    for article in articles:  # each article's questions sit under its topic
        topic_at = page.index(f"<h2>{TOPICS[article.topic]}")
        assert page.index(f'href="{article.docname}.html#') > topic_at


def test_the_pdf_has_the_checklists_chapter(pdf: Path, articles) -> None:
    reader = PdfReader(pdf)
    titles = [
        getattr(entry, "title", "") for entry in reader.outline if not isinstance(entry, list)
    ]
    assert "Review checklists" in titles
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    first = checklist(articles[0].path.read_text(encoding="utf-8"))[1][0]
    assert " ".join(re.sub(r"[`*]", "", link_text(first)).split()[:5]) in text.replace(
        "\u2019", "'"
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_copy(tmp_path_factory, "checklists")


@pytest.mark.builds
def test_adding_or_editing_an_article_updates_the_page(project: Path) -> None:
    source = next(a for a in find_articles(project) if a.topic == "resilience")
    text = source.path.read_text(encoding="utf-8")
    twin = source.path.with_name("twin-article.md")
    twin.write_text(
        text.replace(f"({source.topic}-{source.slug})=", "(resilience-twin-article)=")
        .replace(f"# {source.title}", "# A twin article for the checklist page", 1)
        .replace(":name: fig-", ":name: fig-twin-"),
        encoding="utf-8",
    )
    topic_page = project / "docs" / "resilience.md"
    topic_page.write_text(
        topic_page.read_text().replace(
            f"resilience/{source.slug}\n", f"resilience/{source.slug}\nresilience/twin-article\n"
        )
    )
    build = build_html(project, project / "_build")
    assert build.returncode == 0, build.log[-3000:]
    page = (project / "_build" / "checklists.html").read_text(encoding="utf-8")
    assert "A twin article for the checklist page" in page
    assert "resilience/twin-article.html#" in page

    heading, items = checklist(text)
    start = text.index(f"## {heading}")
    edited = text[:start] + text[start:].replace(f"- {items[0].split()[0]}", "- Reworded", 1)
    source.path.write_text(edited, encoding="utf-8")
    build = build_html(project, project / "_build")
    assert build.returncode == 0, build.log[-3000:]
    page = (project / "_build" / "checklists.html").read_text(encoding="utf-8")
    assert f"{source.docname}.html#" in page
    assert any(t.startswith("Reworded") for t in items_on_page(page)[f"{source.docname}.html"])
    assert re.search(r"(?m)^reading sources\.\.\. .*\bchecklists$", build.log), build.log[-3000:]

    # An edit outside the checklist leaves the page alone: it is not read again.
    added = edited.replace("\n## ", "\nA sentence added.\n\n## ", 1)
    source.path.write_text(added, encoding="utf-8")
    build = build_html(project, project / "_build")
    assert build.returncode == 0, build.log[-3000:]
    assert re.search(rf"(?m)^reading sources\.\.\. .*\b{source.docname}$", build.log)
    assert not re.search(r"(?m)^reading sources\.\.\. .*\bchecklists$", build.log), build.log


def test_a_numbered_checklist_is_read_like_a_bulleted_one() -> None:
    text = "# T\n\n## Review checklist\n\n1. First question?\n2. Second\n   continues?\n\n## Next\n"
    assert checklist(text) == ("Review checklist", ["First question?", "Second continues?"])
    bulleted = text.replace("1. ", "- ").replace("2. ", "- ")
    assert checklist(bulleted) == checklist(text)
