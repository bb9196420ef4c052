"""The ``{tag-vocabulary}`` directive: the tag list, rendered from docs/tags.yaml.

The contributor guide shows the vocabulary with this directive, so the page
and the file the build checks against can never disagree.
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from handbook.frontmatter import load_tags


class TagVocabulary(SphinxDirective):
    """A definition list of every tag and its meaning."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        """Read the vocabulary file and render it."""
        path = Path(self.env.srcdir) / self.config.handbook_tags_file
        self.env.note_dependency(str(path))
        listing = nodes.definition_list(classes=["handbook-tags"])
        for tag, meaning in sorted(load_tags(path).items()):
            term = nodes.term("", "", nodes.literal(text=tag))
            listing += nodes.definition_list_item(
                "", term, nodes.definition("", nodes.paragraph(text=meaning))
            )
        return [listing]


def setup(app: Sphinx) -> None:
    """Register the directive."""
    app.add_directive("tag-vocabulary", TagVocabulary)
