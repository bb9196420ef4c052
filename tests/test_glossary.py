"""Each glossary entry leads on to the article that explains its term.

Search often lands readers on a glossary entry. A definition whose term one
article treats at length ends with ``Explained in {ref}`<topic>-<slug>`.``,
so the reader can go on from the entry to that article. These checks keep
the links honest: each points to an article that discusses the term (links
it with the ``{term}`` role or names it in a heading), most terms have one,
and the built glossary page carries each link inside its entry.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest

from tests.conftest import find_articles
from tests.shared import ROOT, SOURCE, Build

GLOSSARY = ROOT / SOURCE / "glossary.md"
ARTICLES = {article.docname: article for article in find_articles()}
# A little below the share found when the links were first added (122 of 130
# terms, 94 %): a term may lose its home in a rewrite, but not a tenth of them.
MIN_SHARE = 0.90

# The article's label, topic-slug: a {ref} survives a rename, a {doc} would not.
EXPLAINED = re.compile(r"Explained in \{ref\}`([a-z]+)-([a-z0-9-]+)`\.")
TERM_ROLE = re.compile(r"\{term\}`(?:[^`<]*<)?([^`<>]+?)>?`")
FENCE = re.compile(r"(?ms)^(`{3,}|:{3,}).*?^\1\s*$")


@dataclass
class Entry:
    """One entry of the glossary: its term and the text of its definition."""

    term: str
    definition: str

    @property
    def home(self) -> str | None:
        """The docname of the article named in the definition's "Explained in" sentence."""
        found = EXPLAINED.findall(self.definition)
        return "/".join(found[-1]) if found else None


def glossary_entries() -> list[Entry]:
    """The entries of the ``{glossary}`` block in docs/glossary.md, in source order."""
    text = GLOSSARY.read_text(encoding="utf-8")
    block = text.split("```{glossary}\n", 1)[1].split("\n```", 1)[0]
    entries: list[Entry] = []
    for line in block.splitlines():
        if not line.strip() or line.startswith(":"):
            continue
        if line.startswith((" ", "\t")):
            entries[-1].definition += " " + line.strip()
        else:
            entries.append(Entry(line.strip(), ""))
    return entries


ENTRIES = glossary_entries()
LINKED = [entry for entry in ENTRIES if entry.home is not None]


def discusses(source: str, term: str) -> bool:
    """Whether Markdown source links ``term`` with the {term} role or names it in a heading.

    Both are matched case-insensitively, the role by its target, so
    ``{term}`spans <Span>``` counts for "Span"; fenced blocks are skipped, so a
    ``# comment`` inside code is not a heading.
    """
    prose = FENCE.sub("", source)
    wanted = term.casefold()
    if any(target.strip().casefold() == wanted for target in TERM_ROLE.findall(prose)):
        return True
    in_heading = re.compile(r"\b" + re.escape(wanted))
    return any(
        re.match(r"#{1,6} ", line) and in_heading.search(line.casefold())
        for line in prose.splitlines()
    )


def test_the_glossary_has_entries_and_links() -> None:
    assert len(ENTRIES) > 50, f"only {len(ENTRIES)} glossary entries parsed"
    assert LINKED, "no glossary entry links the article that explains it"


def test_an_article_link_is_one_sentence_at_the_end() -> None:
    wrong = []
    for entry in ENTRIES:
        links = re.findall(r"\{(?:doc|ref)\}`[^`]*`", entry.definition)
        sentences = EXPLAINED.findall(entry.definition)
        if len(links) != len(sentences) or len(sentences) > 1:
            wrong.append(f"{entry.term}: link once, as 'Explained in {{ref}}`topic-slug`.'")
        elif sentences and not entry.definition.endswith(f"{{ref}}`{'-'.join(sentences[0])}`."):
            wrong.append(f"{entry.term}: the 'Explained in' sentence must end the definition")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("entry", LINKED, ids=[e.term for e in LINKED])
def test_the_linked_article_discusses_the_term(entry: Entry) -> None:
    article = ARTICLES.get(entry.home)
    assert article is not None, f"{entry.term}: {entry.home} is not an article"
    source = article.path.read_text(encoding="utf-8")
    assert discusses(source, entry.term), (
        f"{entry.term}: {entry.home} neither links the term with {{term}} nor names it in a "
        "heading; link the article that explains it, or none"
    )


def test_most_terms_link_the_article_that_explains_them() -> None:
    without = [entry.term for entry in ENTRIES if entry.home is None]
    share = len(LINKED) / len(ENTRIES)
    report = f"{len(LINKED)} of {len(ENTRIES)} terms ({share:.0%}) link an article; without one: "
    print(report + (", ".join(without) or "none"))
    assert share >= MIN_SHARE, report + ", ".join(without)


class GlossaryPage(HTMLParser):
    """Each term of a built glossary page, with the links inside its definition."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: dict[str, list[tuple[str, str]]] = {}
        self._term: list[str] | None = None  # text of the <dt> being read
        self._current = ""  # the term whose <dd> is being read
        self._href: str | None = None
        self._text: list[str] = []
        self._skip = 0  # inside the <dt>'s "¶" permalink

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "dt":
            self._term = []
        elif tag == "dd":
            # Sphinx's smart quotes turn the apostrophe of "Hyrum's law" into a typographic one.
            self._current = "".join(self._term or []).strip().replace("\u2019", "'")
            self._term = None
            self.links.setdefault(self._current, [])
        elif tag == "a" and self._term is not None:
            self._skip += "headerlink" in (attributes.get("class") or "")
        elif tag == "a" and self._current:
            self._href, self._text = attributes.get("href") or "", []

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._skip:
            self._skip -= 1
        elif tag == "a" and self._href is not None:
            self.links[self._current].append((self._href, "".join(self._text).strip()))
            self._href = None
        elif tag == "dd":
            self._current = ""

    def handle_data(self, data: str) -> None:
        if self._term is not None and not self._skip:
            self._term.append(data)
        elif self._href is not None:
            self._text.append(data)


def test_the_built_glossary_links_each_entry_to_its_article(html: Build) -> None:
    page = GlossaryPage()
    page.feed(html.page("glossary.html"))
    assert page.links, "no glossary entries found in glossary.html"
    for entry in LINKED:
        assert entry.term in page.links, f"{entry.term}: no entry in glossary.html"
        targets = {
            posixpath.normpath(href.split("#", 1)[0]): text for href, text in page.links[entry.term]
        }
        target = f"{entry.home}.html"
        assert target in targets, (
            f"{entry.term}: its definition in glossary.html links {sorted(targets)}, not {target}"
        )
        title = ARTICLES[entry.home].title
        assert targets[target].replace("\u2019", "'") == title, (
            f"{entry.term}: the link to {target} reads {targets[target]!r}, not the title {title!r}"
        )
