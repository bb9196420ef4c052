"""Keep ABlog's cost in proportion to what the handbook uses of it.

Two upstream behaviors make ABlog's cost grow faster than the handbook:

- ABlog keeps a deep copy of every post's whole doctree in
  ``env.ablog_posts`` (``ablog.post.process_posts``), only for full-text
  feeds and ``Post.to_html(fulltext=True)``. With ``blog_feed_fulltext =
  False`` nothing reads it, yet it is most of the pickled environment that
  every incremental build loads and saves again (40 of 46 MB at 1,000
  articles). When feeds are not full text, the copy is not made (copying
  every page took about 1 s of the build at 1,000 articles), and what ABlog
  stores is an empty section.
- ``Post.to_html`` renders a post's excerpt for every archive page that
  lists the post (the list of all articles, its year, topic and each of its
  tags), building and resolving a new docutils document each time. An
  excerpt without links or images renders the same on every page, so it is
  rendered once per post and build; others once per folder.

Both are registered in :mod:`handbook.upstream` with their measurements and
tests; setup stops the build when ABlog's code they depend on has changed.
"""

from __future__ import annotations

import posixpath
from typing import Any

import ablog.blog
from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx

from handbook import upstream

CACHE = "_handbook_excerpts"  # on the app: rendered excerpts of this build
_upstream_to_html = ablog.blog.Post.to_html


def skip_post_doctree_copy(app: Sphinx, doctree: nodes.document) -> None:
    """Before ABlog reads a page, make its copy of the page an empty section.

    For a post that is a whole page, ``ablog.post.process_posts`` stores
    ``doctree.deepcopy()``. For that one call, an instance attribute shadows
    the method; the first call removes it, and :func:`drop_post_doctrees`
    removes it if ABlog did not call it.
    """
    if app.config.blog_feed_fulltext:
        return

    def empty_copy() -> nodes.section:
        del doctree.deepcopy  # type: ignore[method-assign]
        return nodes.section()

    doctree.deepcopy = empty_copy  # type: ignore[method-assign]


def drop_post_doctrees(app: Sphinx, doctree: nodes.document) -> None:
    """Forget the doctree copies ABlog keeps for full-text feeds, when there are none.

    A page that is one post and still has the shadowing ``deepcopy`` was copied
    some other way: ABlog changed, and the copy is no longer skipped. That stops
    the build rather than costing every build the time silently.
    """
    not_asked = doctree.__dict__.pop("deepcopy", None) is not None
    if app.config.blog_feed_fulltext:
        return
    posts = getattr(app.env, "ablog_posts", {}).get(app.env.docname, [])
    if not_asked and any(not post["section"] for post in posts):
        raise upstream.UpstreamChanged(
            f"ablog {upstream.version('ablog')} no longer copies a post's page with "
            f"doctree.deepcopy() ({app.env.docname}), so handbook/ablog_performance.py "
            "no longer skips the copy. See its entry no-doctree-copies in "
            "handbook/upstream.py."
        )
    for post in posts:
        post["doctree"] = nodes.section()  # a post that is a section of its page


def _depends_on_page(post: ablog.blog.Post) -> bool:
    """Whether the excerpt holds anything written relative to the page (links, images)."""
    kinds = (addnodes.pending_xref, nodes.reference, nodes.image)
    return any(isinstance(node, kinds) for excerpt in post.excerpt for node in excerpt.findall())


def cached_to_html(
    self: ablog.blog.Post,
    pagename: str,
    fulltext: bool = False,
    drop_h1: bool = True,
    img_url: bool = False,
) -> str:
    """ABlog's ``Post.to_html``, rendered once per post (or folder) in each build."""
    app = self._blog.app
    cache: dict[tuple[Any, ...], str] = app.__dict__.setdefault(CACHE, {})
    place = posixpath.dirname(pagename) if fulltext or _depends_on_page(self) else None
    key = (self.docname, self.section, place, fulltext, drop_h1, img_url)
    if key not in cache:
        cache[key] = _upstream_to_html(self, pagename, fulltext, drop_h1, img_url)
    return cache[key]


def start_build(app: Sphinx) -> None:
    """Forget the excerpts of a previous build in the same process."""
    app.__dict__[CACHE] = {}


def setup(app: Sphinx) -> None:
    """Install the changes around ABlog's doctree handler (priority 500)."""
    # Hash ABlog's own to_html, not ours, if this setup runs twice in one process.
    upstream.confirm("ablog_performance", {"ablog.blog.Post.to_html": _upstream_to_html})
    ablog.blog.Post.to_html = cached_to_html  # type: ignore[method-assign]
    app.connect("builder-inited", start_build)
    app.connect("doctree-read", skip_post_doctree_copy, priority=400)
    app.connect("doctree-read", drop_post_doctrees, priority=700)
