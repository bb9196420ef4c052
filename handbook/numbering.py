"""Figures numbered within their article: an article's first figure is Figure 1.

Without a ``:numbered:`` toctree, Sphinx numbers figures across the whole
site in toctree order, so the first figure of the fourth article read
"Figure 9" and every number depended on all the articles before it. Articles
are read one at a time, from a link or a search, so each numbers its own.

Sphinx also pays for the site-wide count on every build, full or incremental:
its toctree collector loads every page's doctree from disk to find the
figures again (1.9 s of a 9 s one-article edit at 1,000 articles, each
synthetic article holding one diagram). Here the numbers are counted once,
when a page is read, and kept in the environment with the page; after an
edit only the edited page is counted. A page whose numbers changed is
rewritten, as Sphinx does.

Only the HTML numbers come from here. LaTeX numbers figures itself, by
chapter, and ``{numref}`` in the PDF prints LaTeX's number.
"""

from __future__ import annotations

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.domains.std import StandardDomain
from sphinx.environment import BuildEnvironment
from sphinx.environment.collectors.toctree import TocTreeCollector

from handbook import upstream

# docname -> figure type ("figure", "table", "code-block") -> node id -> number
Numbers = dict[str, dict[str, tuple[int, ...]]]
KEY = "handbook_figure_numbers"


def kept(env: BuildEnvironment) -> dict[str, Numbers]:
    """The numbers counted so far, page by page, kept in the pickled environment."""
    return env.__dict__.setdefault(KEY, {})


def figure_type(env: BuildEnvironment, node: nodes.Element) -> str | None:
    """The node's enumerable type, as Sphinx decides it: captioned nodes only."""
    for domain in env.domains.sorted():
        figtype = domain.get_enumerable_node_type(node)
        if isinstance(domain, StandardDomain) and not domain.get_numfig_title(node):
            continue  # an uncaptioned figure, table or code block gets no number
        if figtype:
            return figtype
    return None


def count(env: BuildEnvironment, doctree: nodes.document) -> Numbers:
    """Number each type of captioned node in document order, from 1."""
    numbers: Numbers = {}
    for node in doctree.findall(nodes.Element):
        if isinstance(node, nodes.section | addnodes.toctree):
            continue  # sections are numbered only under numbered toctrees
        figtype = figure_type(env, node)
        if figtype and node["ids"]:
            of_type = numbers.setdefault(figtype, {})
            of_type[node["ids"][0]] = (len(of_type) + 1,)
    return numbers


class ArticleFigureNumbers(TocTreeCollector):
    """Sphinx's toctree collector, numbering figures page by page as pages are read."""

    def clear_doc(self, app: Sphinx, env: BuildEnvironment, docname: str) -> None:
        super().clear_doc(app, env, docname)
        kept(env).pop(docname, None)

    def merge_other(
        self, app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment
    ) -> None:
        super().merge_other(app, env, docnames, other)
        for docname in docnames:
            if docname in kept(other):
                kept(env)[docname] = kept(other)[docname]

    def process_doc(self, app: Sphinx, doctree: nodes.document) -> None:
        super().process_doc(app, doctree)
        kept(app.env)[app.env.docname] = count(app.env, doctree)

    def assign_figure_numbers(self, env: BuildEnvironment) -> list[str]:
        """Publish the kept numbers; return the pages whose numbers changed."""
        if not env.config.numfig:
            return []
        old = env.toc_fignumbers
        env.toc_fignumbers = {
            docname: numbers
            for docname, numbers in kept(env).items()
            if numbers and docname in env.found_docs
        }
        changed = old.keys() | env.toc_fignumbers.keys()
        return sorted(name for name in changed if old.get(name) != env.toc_fignumbers.get(name))


def replace_sphinx_collector(app: Sphinx) -> None:
    """Swap Sphinx's toctree collector for :class:`ArticleFigureNumbers`."""
    stock = upstream.only_listener(
        app,
        "env-get-updated",
        lambda handler: type(getattr(handler, "__self__", None)) is TocTreeCollector,
        "article-figure-numbers",
    )
    stock.handler.__self__.disable(app)
    app.add_env_collector(ArticleFigureNumbers)


def setup(app: Sphinx) -> None:
    """Replace the collector; Sphinx's own is registered before any extension loads."""
    upstream.confirm("numbering")
    replace_sphinx_collector(app)
