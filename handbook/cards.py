"""The ``{article-cards}`` directive: a card for each article of a topic.

Placed on a topic page (``docs/<topic>.md``), it reads the front matter and
title of every article in ``docs/<topic>/`` and renders them as
sphinx-design cards, newest first, followed by the topic's planned articles
from ``docs/plan.yaml`` that are not written yet. Topic pages therefore never
list an article by hand. The page is re-read whenever an article changes.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from docutils import nodes
from docutils.statemachine import StringList
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from handbook.frontmatter import parse_front_matter

_TITLE = re.compile(r"^# (.+)$", re.M)


class ArticleCards(SphinxDirective):
    """Render one sphinx-design card per article in the current topic folder."""

    has_content = False
    optional_arguments = 1  # the topic folder; defaults to the page's own name

    def run(self) -> list[nodes.Node]:
        """Build the grid of cards as MyST and parse it in place."""
        topic = self.arguments[0] if self.arguments else self.env.docname
        folder = Path(self.env.srcdir) / topic
        cards = []
        for path in sorted(folder.glob("*.md")):
            self.env.note_dependency(str(path))
            text = path.read_text(encoding="utf-8")
            fields, _, _ = parse_front_matter(text)
            title = _TITLE.search(text)
            date, description = fields.get("date"), fields.get("description")
            if not (title and isinstance(date, str) and isinstance(description, str)):
                continue  # the article's own checks report what is missing
            cards.append((date, title.group(1).strip(), " ".join(description.split()), path.stem))
        result = (
            self.card_grid(topic, cards)
            if cards
            else [nodes.paragraph(text="No articles have been published in this topic yet.")]
        )
        return result + self.planned(topic, {stem for *_, stem in cards})

    def planned(self, topic: str, written: set[str]) -> list[nodes.Node]:
        """List the topic's entries in docs/plan.yaml that have no article yet."""
        plan_file = Path(self.env.srcdir) / "plan.yaml"
        self.env.note_dependency(str(plan_file))
        plan = yaml.safe_load(plan_file.read_text(encoding="utf-8")) or {}
        entries = [
            (slug, entry) for slug, entry in (plan.get(topic) or {}).items() if slug not in written
        ]
        if not entries:
            return []
        items = nodes.bullet_list()
        for _slug, entry in entries:
            paragraph = nodes.paragraph()
            paragraph += nodes.strong(text=entry["title"])
            paragraph += nodes.Text(f": {entry['description']}")
            items += nodes.list_item("", paragraph)
        return [nodes.rubric(text="Planned articles"), items]

    def card_grid(self, topic: str, cards: list[tuple[str, str, str, str]]) -> list[nodes.Node]:
        """Render (date, title, description, file stem) tuples as a sphinx-design grid.

        sphinx-design's directives build the markup. Parsing one card through
        MyST per article took about 2 ms each, and a topic page is re-read
        whenever one of its articles changes; so one card is parsed with
        placeholders and copied for each article whose title and description
        are plain text. A card with inline markup is parsed on its own.
        """
        template = self.parse_grid(topic, [SLOTS])
        slotted = _grid_item(template)
        row = slotted.parent
        row.children = []
        for card in sorted(cards, reverse=True):
            if _MARKUP.search(card[1] + card[2]):
                item = _grid_item(self.parse_grid(topic, [card]))
            else:
                item = slotted.deepcopy()
                _fill(item, dict(zip(SLOTS, card, strict=True)))
            row.append(item)
        return template

    def parse_grid(self, topic: str, cards: list[tuple[str, str, str, str]]) -> list[nodes.Node]:
        """Parse a grid of cards written in MyST, as a page author would write it."""
        lines = ["::::::{grid} 1 1 2 2", ":gutter: 3", ""]
        for date, title, description, stem in cards:
            lines += [
                f":::::{{grid-item-card}} {title}",
                f":link: /{topic}/{stem}",
                ":link-type: doc",
                "",
                description,
                "",
                ":::{card-footer}",
                date,
                ":::",
                ":::::",
                "",
            ]
        lines.append("::::::")
        container = nodes.container(classes=["handbook-article-cards"])
        self.state.nested_parse(StringList(lines, source=self.env.docname), 0, container)
        return container.children


# Placeholders for (date, title, description, stem) in the parsed template card.
SLOTS = ("handbookslotdate", "handbookslottitle", "handbookslotdescription", "handbookslotstem")
_MARKUP = re.compile(r"[`*_\\[\]<>{}$~|&]")  # anything MyST could read as inline markup


def _grid_item(parsed: list[nodes.Node]) -> nodes.Element:
    """The first card (sphinx-design's grid item) in a parsed grid."""
    for top in parsed:
        for node in top.findall(nodes.Element):
            if node.get("design_component") == "grid-item":
                return node
    raise ValueError("the parsed grid has no card")


def _fill(card: nodes.Element, values: dict[str, str]) -> None:
    """Replace the placeholders in a copy of the template card with one article's values."""
    for text in list(card.findall(nodes.Text)):
        for slot, value in values.items():
            if slot in text:
                text.parent.replace(text, nodes.Text(text.replace(slot, value)))
                break
    for xref in card.findall(addnodes.pending_xref):
        for slot, value in values.items():
            xref["reftarget"] = xref["reftarget"].replace(slot, value)


def setup(app: Sphinx) -> None:
    """Register the directive."""
    app.add_directive("article-cards", ArticleCards)
