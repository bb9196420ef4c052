"""Rewrite every page when the site-wide parts of pages change.

Sphinx rewrites only the pages whose sources changed. But every handbook page
also shows things that depend on *other* pages: furo's navigation (the whole
toctree with every title), ABlog's "recent articles" sidebar, the landing
page's ``{postlist}``, and furo's previous/next links. Adding an article,
renaming one, or changing its date, tags or description leaves all of those
stale on pages that were not rewritten.

After reading, this module compares a signature of those site-wide inputs
with the previous build's. When it differs, every page is rewritten; when it
does not (an edit inside an article's body), Sphinx's own minimal rebuild
stands.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

SIGNATURE = "handbook_site_signature"


def site_signature(env: BuildEnvironment) -> str:
    """Hash what every page shows of the rest of the site: toctrees, titles, posts."""
    posts = {
        docname: [
            [str(post.get(key)) for key in ("title", "date", "tags", "category", "excerpt")]
            for post in posts
        ]
        for docname, posts in getattr(env, "ablog_posts", {}).items()
    }
    state = {
        "toctrees": {doc: list(children) for doc, children in sorted(env.toctree_includes.items())},
        "titles": {doc: env.titles[doc].astext() for doc in sorted(env.titles)},
        "posts": dict(sorted(posts.items())),
    }
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()


def pages_to_rewrite(app: Sphinx, env: BuildEnvironment) -> Iterable[str]:
    """Return every document when the site-wide signature changed, else nothing."""
    signature = site_signature(env)
    previous = getattr(env, SIGNATURE, None)
    setattr(env, SIGNATURE, signature)
    if previous is not None and previous != signature:
        return sorted(env.found_docs)
    return []


def setup(app: Sphinx) -> None:
    """Connect the check, which runs once all documents have been read."""
    app.connect("env-updated", pages_to_rewrite)
