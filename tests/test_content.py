"""Each article has the shape the editorial guide asks for.

These checks are mechanical stand-ins for the parts of the review rubric a
program can check: length, required sections, a tested example included
from examples/, labels, and cross-references in both directions.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT, Article, find_articles

ARTICLES = find_articles()
REQUIRED_SECTIONS = ("Worked example", "How to tell it is working", "Checklist", "Related reading")
WORDS = (1800, 3500)
REF = re.compile(r"\{ref\}`(?:[^`<]*<)?([^`>]+)>?`")


def prose_words(article: Article) -> int:
    """Words of prose: front matter, fenced blocks and directives excluded."""
    text = article.path.read_text(encoding="utf-8").split("\n---", 1)[1]
    text = re.sub(r"(?ms)^(`{3,}|:{3,}).*?^\1\s*$", "", text)
    return len(re.findall(r"[A-Za-z][A-Za-z'-]*", text))


def label_of(article: Article) -> str:
    """The label an article is linked by: ``<topic>-<slug>``."""
    return f"{article.topic}-{article.slug}"


def outgoing(article: Article) -> set[str]:
    """Labels of other articles this article links to."""
    labels = {label_of(a) for a in ARTICLES} - {label_of(article)}
    return set(REF.findall(article.path.read_text(encoding="utf-8"))) & labels


def test_there_are_articles_to_check() -> None:
    assert ARTICLES


@pytest.mark.parametrize("article", ARTICLES, ids=[a.docname for a in ARTICLES])
class TestArticle:
    def test_length_is_within_the_guide(self, article: Article) -> None:
        words = prose_words(article)
        assert WORDS[0] <= words <= WORDS[1], f"{article.docname}: {words} words of prose"

    def test_required_sections_exist_in_order(self, article: Article) -> None:
        headings = re.findall(r"(?m)^## (.+)$", article.path.read_text(encoding="utf-8"))
        found = [h for h in headings if h in REQUIRED_SECTIONS]
        assert found == list(REQUIRED_SECTIONS), f"{article.docname} has sections {headings}"

    def test_checklist_has_five_to_ten_items(self, article: Article) -> None:
        text = article.path.read_text(encoding="utf-8")
        checklist = text.split("## Checklist", 1)[1].split("\n## ", 1)[0]
        items = re.findall(r"(?m)^[-*] ", checklist)
        assert 5 <= len(items) <= 10, f"{article.docname}: {len(items)} checklist items"

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
            assert (ROOT / "tests" / "examples" / f"test_{module}.py").is_file(), module

    def test_links_to_three_other_articles(self, article: Article) -> None:
        assert len(outgoing(article)) >= 3, f"{article.docname} links to {outgoing(article)}"

    def test_is_linked_from_another_article(self, article: Article) -> None:
        incoming = [a.docname for a in ARTICLES if label_of(article) in outgoing(a)]
        assert incoming, f"no article links to {article.docname}"
