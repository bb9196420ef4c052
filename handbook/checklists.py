"""The ``{review-checklists}`` directive: every article's checklist on one page.

A reviewer keeps this page open in a design review. It is built from the
articles' own checklists (the ``##`` section whose heading names a checklist),
never copied by hand: grouped by topic, an article's questions under its
title, each question a link back to the checklist in its article. In the PDF
the page is a chapter of the reference part at the end of the book.

The page is read again whenever an article's source changes (a dependency on
every article file) and when an article is added or removed.
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from myst_parser.mdit_to_docutils.base import default_slugify
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util.docutils import SphinxDirective

from handbook.frontmatter import parse_front_matter

_SECTION = re.compile(r"(?m)^## (.+)$")
_TITLE = re.compile(r"(?m)^# (.+)$")
_ITEM = re.compile(r"(?m)^[-*] (.+(?:\n(?![-*] )[ \t]+\S.*)*)")
# Inline markup that cannot sit inside a link's text: roles and links keep their text.
_ROLE = re.compile(r"\{[a-z:]+\}`([^`<]*?)(?:\s*<[^`>]+>)?`")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")
PAGES = "handbook_checklist_pages"  # environment attribute: docnames using the directive


def checklist(text: str) -> tuple[str, list[str]] | None:
    """An article's checklist heading and its items, from the Markdown source."""
    parts = _SECTION.split(text)
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        if "checklist" in heading.lower():
            items = [" ".join(item.split()) for item in _ITEM.findall(body)]
            return heading.strip(), items
    return None


def link_text(item: str) -> str:
    """An item's Markdown with roles and links reduced to their text."""
    return _LINK.sub(r"\1", _ROLE.sub(lambda m: m.group(1).strip(), item))


class ReviewChecklists(SphinxDirective):
    """Every article's checklist, grouped by topic, each item linking to its article."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        self.env.__dict__.setdefault(PAGES, set()).add(self.env.docname)
        source = Path(self.env.srcdir)
        lines: list[str] = []
        for topic, topic_title in self.config.handbook_topics.items():
            found = []
            for path in sorted((source / topic).glob("*.md")):
                self.env.note_dependency(str(path))
                text = path.read_text(encoding="utf-8")
                fields, _, _ = parse_front_matter(text)
                title, listed = _TITLE.search(text), checklist(text)
                if title and listed and isinstance(fields.get("date"), str):
                    found.append((fields["date"], title.group(1).strip(), path, *listed))
            if not found:
                continue
            lines += [f"## {topic_title}", ""]
            for _date, title, path, heading, items in sorted(found):
                link = f"/{topic}/{path.name}#{default_slugify(heading)}"
                # Not the bare title: the PDF's outline would list the article twice.
                lines += [f"### Questions from *{title}*", ""]
                lines += [f"- [{link_text(item)}]({link})" for item in items]
                lines.append("")
        if not lines:
            return [nodes.paragraph(text="No article has a checklist yet.")]
        return self.parse_text_to_nodes("\n".join(lines), allow_section_headings=True)


def reread_when_articles_come_or_go(
    app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """A new or deleted article changes the page, though no file it reads changed."""
    topics = tuple(f"{topic}/" for topic in app.config.handbook_topics)
    if any(name.startswith(topics) for name in added | removed):
        return sorted(env.__dict__.get(PAGES, set()) - removed)
    return []


def purge(_app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    env.__dict__.get(PAGES, set()).discard(docname)


def merge(_app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment) -> None:
    env.__dict__.setdefault(PAGES, set()).update(other.__dict__.get(PAGES, set()) & docnames)


def setup(app: Sphinx) -> None:
    app.add_directive("review-checklists", ReviewChecklists)
    app.connect("env-get-outdated", reread_when_articles_come_or_go)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
