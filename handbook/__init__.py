"""The handbook's local Sphinx extension.

Everything project-specific lives here so that ``conf.py`` stays
configuration. Each module owns one concern and registers its own event
handlers:

- :mod:`handbook.articles`: checks every page with :mod:`handbook.frontmatter`
  and uses the description as excerpt, feed summary and meta description.
- :mod:`handbook.messages`: build messages that name the fix (references, hints).
- :mod:`handbook.reader`: reading time, review and owner, related articles,
  "last updated" from git, and what sphinxext-opengraph's link previews lack.
- :mod:`handbook.accessibility`: fixes to Sphinx's HTML that axe-core asks for.
- :mod:`handbook.search`: the search index in ``_search/``, ranked for articles.
- :mod:`handbook.checklists`: the ``{review-checklists}`` page built from every article's checklist.
- :mod:`handbook.figures`: diagrams and plots drawn from source, cached by content.
- :mod:`handbook.numbering`: numbers each article's figures from 1.
- :mod:`handbook.cards`: the ``{article-cards}`` directive on topic pages.
- :mod:`handbook.vocabulary`: the ``{tag-vocabulary}`` directive.
- :mod:`handbook.ablog_furo`: makes ABlog's pages render in furo's layout.
- :mod:`handbook.navigation`: furo's sidebar navigation, built once per build.
- :mod:`handbook.ablog_performance`: keeps ABlog's cost in proportion to its use.
- :mod:`handbook.incremental`: rewrites what changed and every page that shows it.
- :mod:`handbook.memory`: keeps the garbage collector off the finished environment.
- :mod:`handbook.sitemap`: keeps ``sitemap.xml`` complete after incremental builds.
- :mod:`handbook.feeds`: makes ABlog's Atom feeds reproducible and valid.
- :mod:`handbook.reproducible`: takes the build's date from the last commit.

The modules that change what a dependency does are listed, with the upstream
issue, the versions checked, their measured reason and their tests, in
:mod:`handbook.upstream`; each stops the build when the code it depends on changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sphinx.application import Sphinx

__version__ = "1.0"


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the handbook's configuration values and event handlers."""
    # Imported here, not at the top, so that importing handbook.frontmatter (the
    # article schema, which the commands in commands/ use) does not load Sphinx.
    from handbook import (
        ablog_furo,
        ablog_performance,
        accessibility,
        articles,
        cards,
        checklists,
        feeds,
        figures,
        incremental,
        memory,
        messages,
        navigation,
        numbering,
        reader,
        reproducible,
        search,
        sitemap,
        vocabulary,
    )

    app.setup_extension("ablog")
    app.setup_extension("sphinx_sitemap")
    articles.setup(app)
    messages.setup(app)
    reader.setup(app)
    accessibility.setup(app)
    cards.setup(app)
    figures.setup(app)
    numbering.setup(app)
    checklists.setup(app)
    search.setup(app)
    vocabulary.setup(app)
    ablog_furo.setup(app)
    navigation.setup(app)
    ablog_performance.setup(app)
    sitemap.setup(app)
    feeds.setup(app)
    reproducible.setup(app)
    incremental.setup(app)
    memory.setup(app)
    return {
        "version": __version__,
        # Raised when the environment's contents change shape, so that Sphinx
        # reads every page again instead of trusting an older pickle.
        # 1: figure numbers kept per page (handbook.numbering).
        "env_version": 1,
        # All of the handbook's state lives in the environment and is merged
        # (articles.merge, figures, incremental.merge). ABlog declares itself unsafe
        # for parallel reading (sunpy/ablog#327), so sphinx-build -j reads serially.
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
