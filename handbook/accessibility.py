"""Accessibility fixes to the HTML that Sphinx writes.

The browser tests (``tests/browser/``) run axe-core on every kind of page;
these are the fixes to Sphinx's own markup that they need. Each is made in
the HTML translator, so it holds on every page, with or without JavaScript:

- Toctree captions ("Topics" in the sidebar) are written as
  ``<p class="caption" role="heading">`` without the ``aria-level`` that the
  heading role requires, a critical axe violation on every page
  (sphinx-doc/sphinx#14030, fixed upstream but not in Sphinx 9.0). They get
  ``aria-level="2"``.
- Code blocks and furo's table wrappers scroll sideways when their content is
  wider than the screen, but a keyboard user cannot reach them to scroll
  (axe: ``scrollable-region-focusable``). They get ``tabindex="0"``.
- The link to the current page in the navigation is only styled as current;
  it also gets ``aria-current="page"`` so that screen readers announce it.

The landmark fixes to furo's page layout live in ``templates/page.html``.
"""

from __future__ import annotations

import sphinx_design.extension
from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.writers.html5 import HTML5Translator

from handbook import upstream

# Classes of furo's wrappers around tables and display math (furo's
# WrapTableAndMathInAContainerTransform), which scroll when too wide.
SCROLLING_WRAPPERS = {"table-wrapper", "math-wrapper"}


class AccessibleHTMLTranslator(HTML5Translator):
    """Sphinx's HTML5 translator with the accessibility fixes above."""

    def visit_title(self, node: nodes.title) -> None:
        """Give toctree captions the heading level their role requires."""
        if isinstance(node.parent, addnodes.compact_paragraph) and node.parent.get("toctree"):
            # sphinx-doc/sphinx#14030: Sphinx 9.0 writes role="heading" alone.
            self.body.append(
                self.starttag(node, "p", "", CLASS="caption", ROLE="heading", **{"aria-level": "2"})
            )
            self.body.append('<span class="caption-text">')
            self.context.append("</span></p>\n")
        else:
            super().visit_title(node)

    def visit_literal_block(self, node: nodes.literal_block) -> None:
        """Make highlighted code blocks reachable by keyboard, so they can be scrolled."""
        try:
            super().visit_literal_block(node)  # raises SkipNode once it wrote the block
        finally:
            self.body[-1] = self.body[-1].replace("<pre>", '<pre tabindex="0">', 1)

    def visit_reference(self, node: nodes.reference) -> None:
        """Mark the navigation's link to the page itself with ``aria-current``."""
        super().visit_reference(node)
        if "current" in node["classes"] and node.get("refuri") in ("#", ""):
            for index in range(len(self.body) - 1, -1, -1):
                if self.body[index].startswith("<a "):
                    self.body[index] = '<a aria-current="page" ' + self.body[index][3:]
                    break


def visit_container(self: HTML5Translator, node: nodes.container) -> None:
    """Make furo's scrolling table and math wrappers reachable by keyboard.

    sphinx-design replaces the container visitor of every translator (with
    ``app.add_node(..., override=True)``, which wins over a translator's own
    method); every other container is still handed to sphinx-design's.
    """
    if SCROLLING_WRAPPERS.intersection(node["classes"]):
        self.body.append(self.starttag(node, "div", CLASS="docutils container", tabindex="0"))
    else:
        sphinx_design.extension.visit_container(self, node)


def setup(app: Sphinx) -> None:
    """Use the accessible translator and container visitor for the HTML builders."""
    upstream.confirm("accessibility")  # Sphinx's visit_title, whose caption branch is redone
    app.setup_extension("sphinx_design")  # so that its container visitor is replaced, not ours
    for builder in ("html", "dirhtml", "singlehtml"):
        app.set_translator(builder, AccessibleHTMLTranslator, override=True)
    app.add_node(
        nodes.container,
        override=True,
        html=(visit_container, sphinx_design.extension.depart_container),
    )
