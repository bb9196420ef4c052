"""The ``{review-checklists}`` directive: every article's checklist on one page.

A reviewer keeps this page open in a design review. It is built from the
articles' own checklists (the ``##`` section whose heading names a checklist),
never copied by hand: grouped by topic, an article's questions under its
title, each question a link back to the checklist in its article. In the PDF
the page is a chapter of the reference part at the end of the book.

The page is read again when an article is added or removed, and when an edit
changes what the page shows of an article (its date, title or checklist).
Other edits leave it alone: at a thousand articles, re-reading every article
for each edit of one would cost a second per rebuild.
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from myst_parser.mdit_to_docutils.base import default_slugify
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util.docutils import SphinxDirective

from handbook.articles import topics
from handbook.frontmatter import parse_front_matter

_SECTION = re.compile(r"(?m)^## (.+)$")
_TITLE = re.compile(r"(?m)^# (.+)$")
# A list item, bulleted or numbered, with the indented lines that continue it.
_ITEM = re.compile(r"(?m)^(?:[-*]|\d+[.)]) (.+(?:\n(?!(?:[-*]|\d+[.)]) )[ \t]+\S.*)*)")
# Inline markup that cannot sit inside a link's text: roles and links keep their text.
_ROLE = re.compile(r"\{[a-z:]+\}`([^`<]*?)(?:\s*<[^`>]+>)?`")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")
PAGES = "handbook_checklist_pages"  # environment attribute: docnames using the directive
SHOWN = "handbook_checklists_shown"  # environment attribute: what the page shows, by article

Entry = tuple[str, str, str, tuple[str, ...]]  # date, title, checklist heading, items


def checklist(text: str) -> tuple[str, list[str]] | None:
    """An article's checklist heading and its items, from the Markdown source."""
    parts = _SECTION.split(text)
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        if "checklist" in heading.lower():
            items = [" ".join(item.split()) for item in _ITEM.findall(body)]
            return heading.strip(), items
    return None


def entry(text: str) -> Entry | None:
    """What the page shows of one article, from its source; None if it shows nothing."""
    fields, _, _ = parse_front_matter(text)
    title, listed = _TITLE.search(text), checklist(text)
    if not (title and listed and isinstance(fields.get("date"), str)):
        return None
    return fields["date"], title.group(1).strip(), listed[0], tuple(listed[1])


def link_text(item: str) -> str:
    """An item's Markdown with roles and links reduced to their text."""
    return _LINK.sub(r"\1", _ROLE.sub(lambda m: m.group(1).strip(), item))


class ReviewChecklists(SphinxDirective):
    """Every article's checklist, grouped by topic, each item linking to its article."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        self.env.__dict__.setdefault(PAGES, set()).add(self.env.docname)
        source = Path(self.env.srcdir)
        shown: dict[str, Entry | None] = {}
        lines: list[str] = []
        for topic, topic_title in topics(self.env.srcdir, self.config).items():
            found = []
            for path in sorted((source / topic).glob("*.md")):
                docname = f"{topic}/{path.stem}"
                shown[docname] = entry(path.read_text(encoding="utf-8"))
                if shown[docname] is not None:
                    found.append((*shown[docname], path))
            if not found:
                continue
            lines += [f"## {topic_title}", ""]
            for _date, title, heading, items, path in sorted(found):
                link = f"/{topic}/{path.name}#{default_slugify(heading)}"
                # Not the bare title: the PDF's outline would list the article twice.
                lines += [f"### Questions from *{title}*", ""]
                lines += [f"- [{link_text(item)}]({link})" for item in items]
                lines.append("")
        self.env.__dict__[SHOWN] = shown
        if not lines:
            return [nodes.paragraph(text="No article has a checklist yet.")]
        return self.parse_text_to_nodes("\n".join(lines), allow_section_headings=True)


def reread_when_articles_come_or_go(
    app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """The page, when an article came or went or an edit changed what it shows of one."""
    pages = env.__dict__.get(PAGES, set()) - removed
    shown: dict[str, Entry | None] = env.__dict__.get(SHOWN, {})
    folders = tuple(f"{topic}/" for topic in topics(env.srcdir, app.config))
    articles = [name for name in added | changed | removed if name.startswith(folders)]
    if any(name in added or name in removed for name in articles):
        return sorted(pages)
    for name in articles:
        text = Path(env.doc2path(name)).read_text(encoding="utf-8")
        if entry(text) != shown.get(name):
            return sorted(pages)
    return []


def purge(_app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    env.__dict__.get(PAGES, set()).discard(docname)


def merge(_app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment) -> None:
    pages = other.__dict__.get(PAGES, set()) & docnames
    env.__dict__.setdefault(PAGES, set()).update(pages)
    if pages:  # the page was read in that worker: what it shows comes from there
        env.__dict__[SHOWN] = other.__dict__.get(SHOWN, {})


def setup(app: Sphinx) -> None:
    app.add_directive("review-checklists", ReviewChecklists)
    app.connect("env-get-outdated", reread_when_articles_come_or_go)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
