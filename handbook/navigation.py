"""furo's sidebar navigation, built once per build and collapsed to the current branch.

furo renders its sidebar from ``toctree(collapse=False, maxdepth=-1, ...)``:
for every page it copies the whole site's toctree, then re-parses the HTML
with BeautifulSoup to add its expanders (furo's ``_compute_navigation_tree``).
Build time therefore grows with pages times articles, and every page embeds
the whole site, so output grows quadratically. Upstream has no option to
limit it; see pradyunsg/furo#674 (``navigation_depth``) and
pradyunsg/furo#748 (collapsed navigation), both open.

This module builds the navigation tree once per build from the environment
and renders, for each page, the tree Sphinx gives with ``collapse=True``:
every top-level entry, plus the children of the entries on the current
page's branch. The markup is furo's own, byte for byte (``toctree-lN``,
``current`` and ``current-page`` classes, and the checkbox and label that
expand and collapse a section, checked on the current branch).

One addition keeps pages from growing with the site: a nested toctree
longer than ``handbook_navigation_entries`` (30) shows that many entries
around the current one, then a link to the page that lists them all
("All 200 in Load and resilience").

furo's handler is kept from doing its own work by hiding Sphinx's
``toctree`` callable from the page context while it runs (it then computes
an empty tree); the callable is restored right after, before any template
is rendered. Other handlers at furo's priority (500) do not see it either;
none that the handbook uses needs it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bs4 import BeautifulSoup
from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.builders.html import StandaloneHTMLBuilder
from sphinx.domains.std import StandardDomain
from sphinx.environment import BuildEnvironment
from sphinx.util import url_re
from sphinx.util.nodes import _only_node_keep_children

from handbook import upstream

HIDDEN = "_handbook_toctree"  # where Sphinx's toctree callable waits while furo runs
CACHE = "_handbook_navigation"
FURO_PRIORITY = 500  # furo connects its html-page-context handler with the default priority
DEFAULT_ENTRIES = 30  # handbook_navigation_entries: most entries shown of a nested toctree
HREF = "HANDBOOKHREF"  # placeholder for a link target in pre-rendered markup
_MARKER = re.compile("\x00\\d+\x00")
# furo's expander (furo/navigation.py), always checked: only the current branch is open.
_EXPANDER = (
    '<input aria-label="Toggle navigation of {label}" checked="" class="toctree-checkbox" '
    'id="toctree-checkbox-{n}" name="toctree-checkbox-{n}" role="switch" type="checkbox"/>'
    '<label for="toctree-checkbox-{n}"><span class="icon"><svg><use href="#svg-arrow-right">'
    "</use></svg></span></label>"
)


@dataclass
class Entry:
    """One link of the navigation: a document (or an external URL) and its children."""

    title: str  # inner HTML of the link
    text: str  # plain text of the title
    docname: str | None = None  # None for external links
    url: str = ""  # for external links
    anchor: str = ""
    children: list[Entry] = field(default_factory=list)
    has_toctree: bool = False  # the document has a toctree, even an empty one
    documents: frozenset[str] = frozenset()  # this entry's document and all below it


@dataclass
class Section:
    """One top-level toctree of the root document: its caption and entries."""

    caption: str  # rendered HTML, empty without a caption
    entries: list[Entry]


@dataclass
class Navigation:
    """The whole navigation of a build, and the markup its links are written with."""

    sections: list[Section]
    links: dict[str, str]  # "current", "internal", "external": an <a> start tag


def _furo_html(builder: StandaloneHTMLBuilder, node: nodes.Element) -> str:
    """Render ``node`` with the builder's translator, then as furo re-serializes it."""
    return str(BeautifulSoup(builder.render_partial(node)["fragment"], "html.parser"))


def _link_tags(builder: StandaloneHTMLBuilder) -> dict[str, str]:
    """The ``<a>`` start tags the translator writes for each kind of navigation link."""
    tags = {}
    for kind, classes, uri, internal in [
        ("current", ["current"], "", True),
        ("internal", [], HREF, True),
        ("external", [], HREF, False),
    ]:
        link = nodes.reference("", "", nodes.Text("-"), internal=internal, refuri=uri)
        link["classes"] = classes
        tags[kind] = _furo_html(builder, addnodes.compact_paragraph("", "", link))[:-5]
    return tags


def _inner_html(builder: StandaloneHTMLBuilder, children: list[nodes.Node]) -> tuple[str, str]:
    """Render a title's nodes as furo shows them: (inner HTML, plain text)."""
    text = "".join(child.astext() for child in children)
    if all(isinstance(child, nodes.Text) for child in children):
        # furo re-serializes with BeautifulSoup, which escapes only &, < and >.
        return html.escape(text, quote=False), text
    copies = [child.deepcopy() for child in children]
    rendered = _furo_html(builder, addnodes.compact_paragraph("", "", *copies))
    return rendered, text


def _entries(
    builder: StandaloneHTMLBuilder, toctree: addnodes.toctree, parents: tuple[str, ...]
) -> list[Entry]:
    """The entries of one toctree node, recursively, as ``titles_only`` shows them."""
    env = builder.env
    found: list[Entry] = []
    for title, ref in toctree["entries"]:
        if url_re.match(ref):
            text = title or ref
            found.append(Entry(html.escape(text, quote=False), text, url=ref))
            continue
        if ref == "self":
            ref = toctree["parent"]
            text = title or env.titles[ref].astext()
            found.append(
                Entry(html.escape(text, quote=False), text, ref, documents=frozenset({ref}))
            )
            continue
        if ref in StandardDomain._virtual_doc_names:  # genindex, modindex, search
            docname, section = StandardDomain._virtual_doc_names[ref]
            text = title or section
            found.append(
                Entry(html.escape(text, quote=False), text, docname, documents=frozenset({docname}))
            )
            continue
        if ref in parents or ref not in env.tocs:
            continue  # Sphinx warns about these; they get no link
        items = [item for item in env.tocs[ref].children if isinstance(item, nodes.list_item)]
        for item in items:
            reference = next(item.findall(nodes.reference), None)
            if reference is None:
                continue
            children = [nodes.Text(title)] if title and len(items) == 1 else reference.children
            inner, text = _inner_html(builder, list(children))
            below: list[Entry] = []
            subtrees = _subtrees(item, builder)
            for subtree in subtrees:
                below += _entries(builder, subtree, (ref, *parents))
            documents = frozenset({ref}).union(*(child.documents for child in below))
            found.append(
                Entry(
                    inner,
                    text,
                    ref,
                    anchor=reference["anchorname"],
                    has_toctree=bool(subtrees),
                    children=below,
                    documents=documents,
                )
            )
    return found


def _subtrees(node: nodes.Element, builder: StandaloneHTMLBuilder) -> list[addnodes.toctree]:
    """The toctree nodes below ``node`` in document order, honoring ``only`` directives."""
    found = []
    for child in node.children:
        if isinstance(child, addnodes.toctree):
            found.append(child)
        elif isinstance(child, addnodes.only) and not _only_node_keep_children(child, builder.tags):
            continue
        elif isinstance(child, nodes.Element):
            found += _subtrees(child, builder)
    return found


def _caption(builder: StandaloneHTMLBuilder, toctree: addnodes.toctree) -> str:
    """A toctree's caption as the translator writes it in a global toctree."""
    caption = toctree.get("caption")
    if not caption:
        return ""
    paragraph = addnodes.compact_paragraph("", "", nodes.title(caption, caption))
    paragraph["toctree"] = True
    return _furo_html(builder, paragraph)


def navigation_tree(builder: StandaloneHTMLBuilder) -> Navigation:
    """The whole navigation: one section per toctree of the root document."""
    env = builder.env
    root = env.config.root_doc
    sections = [
        Section(_caption(builder, toctree), _entries(builder, toctree, (root,)))
        for toctree in _subtrees(env.get_doctree(root), builder)
    ]
    return Navigation(sections, _link_tags(builder))


class Renderer:
    """Render the navigation for one page, in furo's markup."""

    def __init__(self, pagename: str, pathto: Callable[[str], str], limit: int = 0) -> None:
        self.pagename = pagename
        self.pathto = pathto  # the page's own, so pages such as 404.html keep absolute links
        self.limit = limit  # most entries shown of one nested toctree; 0: all
        self.checkboxes = 0
        self.current: Entry | None = None  # the last entry on the current branch

    def link(self, navigation: Navigation, entry: Entry) -> str:
        """The ``<a>`` start tag of ``entry``, relative to the page."""
        if entry.docname is None:
            return navigation.links["external"].replace(HREF, _attribute(entry.url))
        if entry.docname == self.pagename and not entry.anchor:
            return navigation.links["current"]
        target = _attribute(self.pathto(entry.docname) + entry.anchor)
        return navigation.links["internal"].replace(HREF, target)

    def render(self, navigation: Navigation) -> str:
        """The HTML furo puts in its ``sidebar-tree``."""
        parts: list[str] = []
        for section in navigation.sections:
            if section.entries:
                parts.append(section.caption)
                self.render_list(navigation, section.entries, 1, parts)
        text = "".join(parts)
        if self.current is not None:  # furo marks the deepest entry on the current branch
            text = text.replace(_marker(self.current), " current-page", 1)
        return _MARKER.sub("", text)

    def on_branch(self, entry: Entry) -> bool:
        """Whether ``entry`` is the current page or one of its ancestors."""
        return self.pagename in entry.documents

    def window(self, entries: list[Entry]) -> list[Entry]:
        """At most ``limit`` entries, around the one on the current branch."""
        if not self.limit or len(entries) <= self.limit:
            return entries
        here = next((i for i, entry in enumerate(entries) if self.on_branch(entry)), 0)
        start = max(0, min(here - self.limit // 2, len(entries) - self.limit))
        return entries[start : start + self.limit]

    def render_list(
        self,
        navigation: Navigation,
        entries: list[Entry],
        depth: int,
        parts: list[str],
        parent: Entry | None = None,
    ) -> None:
        """Render a ``<ul>``; as with ``collapse=True``, only the current branch is open."""
        current_list = any(self.on_branch(entry) for entry in entries)
        parts.append('<ul class="current">\n' if current_list else "<ul>\n")
        shown = self.window(entries) if parent is not None else entries
        for entry in shown:
            current = self.on_branch(entry)
            open_ = current and entry.has_toctree
            classes = f"toctree-l{depth}" + (" current" if current else "")
            classes += " has-children" if open_ else ""
            if current:
                self.current = entry
            parts.append(f'<li class="{classes}{_marker(entry)}">')
            parts.append(f"{self.link(navigation, entry)}{entry.title}</a>")
            if open_:
                self.checkboxes += 1
                parts.append(_EXPANDER.format(label=_attribute(entry.text), n=self.checkboxes))
                if entry.children:
                    self.render_list(navigation, entry.children, depth + 1, parts, entry)
                else:  # as Sphinx and furo render a toctree without entries
                    parts.append('<ul class="simple">\n</ul>\n')
            parts.append("</li>\n")
        if len(shown) < len(entries) and parent is not None:
            # The rest are one click away, on the page whose toctree lists them.
            link = navigation.links["internal"].replace(
                HREF,
                "#"
                if parent.docname == self.pagename
                else _attribute(self.pathto(parent.docname or "")),
            )
            parts.append(
                f'<li class="toctree-l{depth} handbook-more">{link}'
                f"All {len(entries)} in {parent.title}</a></li>\n"
            )
        parts.append("</ul>\n")


def _attribute(value: str) -> str:
    """Escape an attribute value as furo's BeautifulSoup output does."""
    return html.escape(value, quote=False).replace('"', "&quot;")


def _marker(entry: Entry) -> str:
    """A placeholder in an entry's class list, where furo may add ``current-page``."""
    return f"\x00{id(entry)}\x00"


def cached_tree(app: Sphinx) -> Navigation:
    """The navigation tree of this build, computed on first use."""
    tree = getattr(app, CACHE, None)
    if tree is None:
        tree = navigation_tree(app.builder)  # type: ignore[arg-type]
        setattr(app, CACHE, tree)
    return tree


def forget_tree(app: Sphinx, env: BuildEnvironment) -> None:
    """Drop the previous build's tree once the documents have been read."""
    setattr(app, CACHE, None)


def hide_toctree(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Before furo's handler: hide ``toctree`` so furo skips its whole-site navigation."""
    if "toctree" in context and app.builder.name in ("html", "dirhtml"):
        context[HIDDEN] = context.pop("toctree")


def add_navigation(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """After furo's handler: restore ``toctree`` and give furo this page's navigation."""
    if HIDDEN not in context:
        return
    context["toctree"] = context.pop(HIDDEN)
    limit = app.config.handbook_navigation_entries
    renderer = Renderer(pagename, context["pathto"], limit)
    context["furo_navigation_tree"] = renderer.render(cached_tree(app))


def setup(app: Sphinx) -> None:
    """Connect the handlers around furo's own ``html-page-context`` handler."""
    upstream.confirm("navigation")  # furo's handler, and how it reads ``toctree``
    app.add_config_value("handbook_navigation_entries", DEFAULT_ENTRIES, "html", int)
    app.connect("env-updated", forget_tree)
    app.connect("html-page-context", hide_toctree, priority=FURO_PRIORITY - 1)
    app.connect("html-page-context", add_navigation, priority=FURO_PRIORITY + 1)
