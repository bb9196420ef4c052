"""Each article has the shape the editorial guide asks for.

These checks are mechanical stand-ins for the parts of the review rubric a
program can check: length, a checklist and related reading, a tested example
included from examples/, labels, and cross-references in both directions.
They check that the elements exist, never their order or the other headings:
each article has the shape its subject needs (editorial guide).
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import Article, find_articles
from tests.shared import ROOT, Build

ARTICLES = find_articles()
WORDS = (1800, 3500)
REF = re.compile(r"\{ref\}`(?:[^`<]*<)?([^`>]+)>?`")


def prose_words(article: Article) -> int:
    """Words of prose: front matter, fenced blocks and directives excluded."""
    text = article.path.read_text(encoding="utf-8").split("\n---", 1)[1]
    text = re.sub(r"(?ms)^(`{3,}|:{3,}).*?^\1\s*$", "", text)
    # A role's explicit target, {term}`text <Target>`, is not read: count the text only.
    text = re.sub(r"(\{[a-z:]+\}`[^`<]*?)\s*<[^`>]+>`", r"\1`", text)
    return len(re.findall(r"[A-Za-z][A-Za-z'-]*", text))


def label_of(article: Article) -> str:
    """The label an article is linked by: ``<topic>-<slug>``."""
    return f"{article.topic}-{article.slug}"


def outgoing(article: Article) -> set[str]:
    """Labels of other articles this article links to."""
    labels = {label_of(a) for a in ARTICLES} - {label_of(article)}
    return set(REF.findall(article.path.read_text(encoding="utf-8"))) & labels


def section_bodies(article: Article) -> dict[str, str]:
    """Each ``##`` section's text by its heading."""
    parts = re.split(r"(?m)^## (.+)$", article.path.read_text(encoding="utf-8"))
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_there_are_articles_to_check() -> None:
    assert ARTICLES


@pytest.mark.parametrize("article", ARTICLES, ids=[a.docname for a in ARTICLES])
class TestArticle:
    def test_length_is_within_the_guide(self, article: Article) -> None:
        words = prose_words(article)
        assert WORDS[0] <= words <= WORDS[1], f"{article.docname}: {words} words of prose"

    def test_checklist_has_five_to_ten_items(self, article: Article) -> None:
        sections = section_bodies(article)
        checklists = [body for heading, body in sections.items() if "checklist" in heading.lower()]
        assert len(checklists) == 1, f"{article.docname}: one section titled '... checklist ...'"
        items = re.findall(r"(?m)^(?:[-*]|\d+[.)]) ", checklists[0])  # bulleted or numbered
        assert 5 <= len(items) <= 10, f"{article.docname}: {len(items)} checklist items"

    def test_related_reading_links_three_articles(self, article: Article) -> None:
        related = section_bodies(article).get("Related reading", "")
        labels = {label_of(a) for a in ARTICLES} - {label_of(article)}
        linked = set(REF.findall(related)) & labels
        assert len(linked) >= 3, f"{article.docname}: 'Related reading' links to {linked}"

    def test_label_precedes_the_title(self, article: Article) -> None:
        text = article.path.read_text(encoding="utf-8")
        assert re.search(rf"(?m)^\({re.escape(label_of(article))}\)=\n# ", text), (
            f"{article.docname} must start its body with ({label_of(article)})= and a # title"
        )

    def test_includes_a_tested_example(self, article: Article) -> None:
        text = article.path.read_text(encoding="utf-8")
        modules = set(re.findall(r"\{literalinclude\} \.\./\.\./examples/(\w+)\.py", text))
        assert modules, f"{article.docname} includes no example from examples/"
        for module in modules:
            test = ROOT / "tests" / "examples" / f"test_{module}.py"
            assert test.is_file(), f"{article.docname}: examples/{module}.py has no test file"
            # ... that imports the example it is named after, so it tests that code
            assert re.search(
                rf"^from examples(?:\.{module} import|\s+import .*\b{module}\b)",
                test.read_text(encoding="utf-8"),
                re.M,
            ), f"{test.name} does not import examples.{module}"

    def test_links_to_three_other_articles(self, article: Article) -> None:
        assert len(outgoing(article)) >= 3, f"{article.docname} links to {outgoing(article)}"

    def test_is_linked_from_another_article(self, article: Article) -> None:
        incoming = [a.docname for a in ARTICLES if label_of(article) in outgoing(a)]
        assert incoming, f"no article links to {article.docname}"


SHOWN_LINES = 50  # the editorial guide: show the part that carries the idea, link the rest


def test_no_code_block_shown_in_an_article_runs_past_fifty_lines(html: Build) -> None:
    too_long = []
    for article in ARTICLES:
        page = html.page(f"{article.docname}.html")
        for block in re.findall(r'<div class="highlight"><pre>(.*?)</pre>', page, re.S):
            lines = block.rstrip("\n").count("\n") + 1
            if lines > SHOWN_LINES:
                first = re.sub(r"<[^>]+>", "", block).split("\n")[0]
                too_long.append(f"{article.docname}: {lines} lines from {first!r}")
    assert not too_long, "show the essential part and link the file:\n" + "\n".join(too_long)
