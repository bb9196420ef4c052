"""The sidebar navigation: furo's markup, collapsed to the current page's branch.

handbook/navigation.py builds the navigation once per build instead of
letting furo copy the whole site's toctree into every page. These checks
hold it to what readers had: on every page the current page is highlighted
and its topic is expanded, with furo's own expander, and the markup is
exactly what furo renders from Sphinx's collapsed toctree.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from handbook.navigation import DEFAULT_ENTRIES as NAVIGATION_ENTRIES
from tests.conftest import find_articles
from tests.shared import ROOT, SOURCE, SPHINX_OPTIONS, Build

# A Sphinx extension, loaded into one build, that renders each page's
# navigation the way stock furo does from Sphinx's collapsed toctree, and
# records it next to the navigation the handbook wrote.
REFERENCE_EXTENSION = """
import json
import os

from furo.navigation import get_navigation_tree


def record(app, pagename, templatename, context, doctree):
    toctree = context.get("toctree")
    if toctree is None:
        return
    expected = get_navigation_tree(
        toctree(collapse=True, titles_only=True, maxdepth=-1, includehidden=True)
    )
    with open(os.environ["NAVIGATION_REPORT"], "a", encoding="utf-8") as report:
        line = [pagename, expected, context["furo_navigation_tree"]]
        report.write(json.dumps(line) + "\\n")


def setup(app):
    app.connect("html-page-context", record, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
"""


class SidebarParser(HTMLParser):
    """Collect the list items of furo's ``sidebar-tree`` navigation."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0  # nesting of <div> inside the sidebar tree; 0 when outside
        self.items: list[dict] = []  # one per <li>: classes, href, text, checkbox, nesting
        self.open_items: list[dict] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "div" and (self.depth or classes == ["sidebar-tree"]):
            self.depth += 1
        if not self.depth:
            return
        if tag == "li":
            item = {"classes": classes, "parent": self.open_items[-1] if self.open_items else None}
            item.update(href=None, text="", checkbox=None, link_classes=[])
            self.items.append(item)
            self.open_items.append(item)
        elif tag == "a" and self.open_items and self.open_items[-1]["href"] is None:
            self.open_items[-1]["href"] = attributes.get("href")
            self.open_items[-1]["link_classes"] = classes
        elif tag == "input" and self.open_items:
            self.open_items[-1]["checkbox"] = "checked" in attributes

    def handle_endtag(self, tag: str) -> None:
        if not self.depth:
            return
        if tag == "div":
            self.depth -= 1
        elif tag == "li":
            self.open_items.pop()

    def handle_data(self, data: str) -> None:
        if self.depth and self.open_items and self.open_items[-1]["checkbox"] is None:
            self.open_items[-1]["text"] += data


def sidebar(build: Build, page: str) -> list[dict]:
    """The list items of one page's sidebar navigation."""
    parser = SidebarParser()
    parser.feed(build.page(page))
    return parser.items


def plain(text: str) -> str:
    """Text with Sphinx's curly quotes made straight, for comparison with the source."""
    return text.strip().translate(str.maketrans("\u2018\u2019\u201c\u201d", "''\"\""))


def toctree_entries(topic: str) -> list[str]:
    """The documents listed in the toctree of ``docs/<topic>.md``, in order."""
    text = (ROOT / SOURCE / f"{topic}.md").read_text(encoding="utf-8")
    block = re.search(r"```\{toctree\}\n(.*?)```", text, re.S)
    assert block, f"docs/{topic}.md has no toctree"
    return [
        line.strip()
        for line in block.group(1).splitlines()
        if line.strip() and not line.startswith(":")
    ]


def test_every_article_shows_itself_current_inside_its_expanded_topic(html: Build) -> None:
    articles = find_articles()
    assert articles
    for article in articles:
        page = f"{article.docname}.html"
        items = sidebar(html, page)
        current = [item for item in items if "current-page" in item["classes"]]
        assert len(current) == 1, f"{page}: {len(current)} entries marked as the current page"
        (own,) = current
        assert own["href"] == "#", page
        assert "current" in own["link_classes"], page
        assert plain(own["text"]) == plain(article.title), page
        topic = own["parent"]
        assert topic is not None, f"{page}: the current entry is not inside its topic"
        assert topic["href"] == f"../{article.topic}.html", page
        assert {"current", "has-children"} <= set(topic["classes"]), page
        assert topic["checkbox"] is True, f"{page}: the topic's expander is not open"
        siblings = [item["href"] for item in items if item["parent"] is topic]
        expected = [
            "#" if entry == article.docname else f"{entry.split('/')[1]}.html"
            for entry in toctree_entries(article.topic)
        ]
        if len(expected) > NAVIGATION_ENTRIES:  # a window around the page, then a link to all
            assert siblings[-1] == f"../{article.topic}.html", page
            siblings = siblings[:-1]
            start = expected.index(siblings[0])
            expected = expected[start : start + NAVIGATION_ENTRIES]
        assert siblings == expected, f"{page}: the topic does not list its articles"


def test_pages_outside_topics_show_every_topic_collapsed(html: Build) -> None:
    from tests.conftest import TOPICS

    tag_page = sorted(html.outdir.glob("articles/tag/*.html"))[0].relative_to(html.outdir)
    for page in ("index.html", "glossary.html", "articles.html", tag_page.as_posix()):
        items = sidebar(html, page)
        top_level = [item["href"] for item in items if item["parent"] is None]
        prefix = "../" * page.count("/")
        for topic in TOPICS:
            assert f"{prefix}{topic}.html" in top_level, f"{page}: no link to {topic}"
        expanded = [item["href"] for item in items if item["parent"] is not None]
        assert not expanded, f"{page}: a topic is expanded: {expanded}"


@pytest.mark.builds  # a build of its own, with furo's code beside ours
def test_navigation_is_furos_own_markup_for_the_collapsed_toctree(tmp_path: Path) -> None:
    from tests.conftest import CONF

    extensions = CONF["extensions"]

    (tmp_path / "navigation_reference.py").write_text(REFERENCE_EXTENSION, encoding="utf-8")
    report = tmp_path / "navigation.jsonl"
    environment = dict(os.environ, NAVIGATION_REPORT=str(report))
    environment["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(ROOT)])
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-b",
        "html",
        *SPHINX_OPTIONS,
        "-D",
        "extensions=" + ",".join([*extensions, "navigation_reference"]),
        SOURCE,
        str(tmp_path / "html"),
    ]
    done = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    pages = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    assert len(pages) >= len(find_articles()) + 5, "too few pages recorded"
    different = [page for page, expected, written in pages if expected != written]
    assert not different, f"navigation differs from furo's on {different}"
    assert any('checked=""' in written for _, _, written in pages)


@pytest.mark.parametrize("page", ["index.html", "glossary.html"])
def test_navigation_does_not_embed_every_article(html: Build, page: str) -> None:
    # Collapsed: articles appear in the navigation of their own topic's pages only.
    hrefs = [item["href"] for item in sidebar(html, page)]
    for article in find_articles():
        assert f"{article.docname}.html" not in hrefs, page


def test_long_toctrees_show_a_window_around_the_current_page_and_a_link_to_all() -> None:
    from handbook.navigation import HREF, Entry, Navigation, Renderer, Section

    pages = [f"topic/article-{number}" for number in range(100)]
    articles = [
        Entry(f"Article {n}", f"Article {n}", page, documents=frozenset({page}))
        for n, page in enumerate(pages)
    ]
    topic = Entry("Topic", "Topic", "topic", children=articles, has_toctree=True)
    topic.documents = frozenset({"topic", *pages})
    links = {
        "current": '<a class="current reference internal" href="#">',
        "internal": f'<a class="reference internal" href="{HREF}">',
        "external": f'<a class="reference external" href="{HREF}">',
    }
    navigation = Navigation([Section("", [topic])], links)

    def render(page: str, limit: int) -> str:
        return Renderer(page, lambda docname: f"/{docname}.html", limit).render(navigation)

    windowed = render("topic/article-50", 10)
    shown = re.findall(r'href="/topic/(article-\d+)\.html"', windowed)
    assert len(shown) == 9 and "article-0" not in shown, shown
    assert '<li class="toctree-l2 current current-page"><a class="current' in windowed
    assert 'href="/topic.html">All 100 in Topic</a>' in windowed
    assert windowed.count('<li class="toctree-l2') == 11  # ten articles and the link to all
    on_topic_page = render("topic", 10)
    assert 'href="#">All 100 in Topic</a>' in on_topic_page
    assert "All 100" not in render("topic/article-50", 0)
    assert render("topic/article-50", 0).count('<li class="toctree-l2') == 100
