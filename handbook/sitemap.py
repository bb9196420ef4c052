"""Keep ``sitemap.xml`` complete and stable after incremental builds.

sphinx-sitemap lists the pages whose HTML was written in the current run,
so after a one-file edit the sitemap shrinks to that file. Before
sphinx-sitemap writes the file, this module adds every document and every
ABlog archive page that was not rewritten (:mod:`handbook.incremental` keeps
archives that did not change), and sorts the list so the sitemap does not
depend on the order pages were written in.

sphinx-sitemap collects the pages through a ``multiprocessing.Manager``
queue, so that parallel writers (``-j``) can add to it. Starting the manager's
server process took 0.7 s of every build, a one-article edit included, and
every put and get is a round trip to it, about 4,000 of them in a build of
1,000 articles. A serial build has no other writer, so it gets a plain
in-process queue instead, and the manager is started only for ``-j``:
sphinx-sitemap's own ``builder-inited`` handler, which always starts it, is
replaced by :func:`start_run`.
"""

from __future__ import annotations

import multiprocessing
import queue

import sphinx_sitemap
from sphinx.application import Sphinx

from handbook import incremental, upstream

WRITTEN = "_handbook_pages_written"


def remember_page(app: Sphinx, pagename: str, *_: object) -> None:
    """Record each page the HTML builder writes in this run."""
    getattr(app, WRITTEN).add(pagename)


def start_run(app: Sphinx) -> None:
    """Reset the set of written pages; make sphinx-sitemap's queue, in-process when serial.

    What ``sphinx_sitemap.record_builder_type`` does, without the manager for a serial build.
    """
    setattr(app, WRITTEN, set())
    app.builder.env.is_directory_builder = (  # type: ignore[attr-defined]
        type(app.builder).__name__ == "DirectoryHTMLBuilder"
    )
    links = queue.Queue() if app.parallel <= 1 else multiprocessing.Manager().Queue()
    app.sitemap_links = links  # type: ignore[attr-defined]


def replace_queue_setup(app: Sphinx) -> None:
    """Disconnect sphinx-sitemap's ``builder-inited`` handler; :func:`start_run` does its work."""
    own = upstream.only_listener(
        app,
        "builder-inited",
        lambda handler: handler is sphinx_sitemap.record_builder_type,
        "complete-sitemap",
    )
    app.disconnect(own.id)


def complete_sitemap(app: Sphinx, exception: Exception | None) -> None:
    """Queue the documents this run did not rewrite, then sort the queue."""
    links = getattr(app, "sitemap_links", None)
    if exception is not None or links is None or app.builder.format != "html":
        return
    pages = app.env.found_docs | set(getattr(app, incremental.ARCHIVE_PAGES, []))
    for pagename in sorted(pages - getattr(app, WRITTEN)):
        sphinx_sitemap.add_html_link(app, pagename, None, {}, None)
    entries = []
    while True:
        try:
            entries.append(links.get_nowait())
        except queue.Empty:
            break
    for entry in sorted(set(entries)):
        links.put(entry)


def setup(app: Sphinx) -> None:
    """Connect the handlers: make sphinx-sitemap's queue ourselves, and fill it before it writes."""
    upstream.confirm("sitemap")  # its queue of links, and how it fills and writes it
    replace_queue_setup(app)
    app.connect("builder-inited", start_run)
    app.connect("html-page-context", remember_page)
    app.connect("build-finished", complete_sitemap, priority=400)
