"""Let the handbook build with ``-j`` despite ABlog's declaration.

ABlog's ``setup()`` declares ``parallel_read_safe: False``, so ``sphinx-build
-j auto -W`` always fails with "the ablog extension does not declare if it is
safe for parallel reading". The only state ABlog builds while reading is
``env.ablog_posts`` (its labels live in the standard domain, which Sphinx
merges itself), so merging that dictionary from each worker makes parallel
reading correct. This module adds the merge and then marks ABlog safe.
"""

from __future__ import annotations

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment


def merge_ablog_posts(
    app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment
) -> None:
    """Copy the posts a parallel reader found into the main environment."""
    found = getattr(other, "ablog_posts", {})
    posts = env.__dict__.setdefault("ablog_posts", {})
    for docname in docnames:
        if docname in found:
            posts[docname] = found[docname]


def setup(app: Sphinx) -> None:
    """Merge ABlog's posts across parallel readers, then declare ABlog parallel-safe."""
    app.connect("env-merge-info", merge_ablog_posts)
    app.extensions["ablog"].parallel_read_safe = True
