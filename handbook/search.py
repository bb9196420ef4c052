"""Search with Pagefind: an index of the built pages, ranked for articles.

Sphinx's own search downloads its whole index before the first result, then
fetches every result page to cut an excerpt, and lets a glossary entry
outrank the article that explains the term. Pagefind (the ``pagefind``
package, with its binary) indexes the written HTML after the build and
splits the index into chunks, so a query downloads only the chunks of its
words and the excerpts of the results it shows.

What gets indexed and how it ranks is decided here and in the templates:

- **Articles** are indexed in full at normal weight, plus a hidden block
  holding their ``description`` and their optional ``keywords`` (front
  matter: the words readers use for the problem), weighted at
  :data:`KEYWORD_WEIGHT`. The publication line and the footer are not indexed.
- **Other pages written from docs/** (glossary, topics, checklists, the
  contributor guide, the home page) are indexed at :data:`REFERENCE_WEIGHT`,
  so the article that explains a subject ranks above a page that lists it.
- **Generated pages** (ABlog's archives, the general index, the search page,
  404) are not indexed: they only repeat titles and descriptions.

The index is written to ``pagefind/`` in the output folder at the end of
every HTML build, full or incremental, from the pages on disk: so it always
equals a clean build's. The search page (``templates/search.html``,
``static/handbook-search.js``) asks Pagefind and, when a query's words do not
all occur on one page, ranks the pages that match some of them.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError
from sphinx.util import logging

from handbook import upstream
from handbook.articles import articles

logger = logging.getLogger(__name__)
KEYWORD_WEIGHT = 3  # Pagefind weights are quadratic: 3 counts about 9 times a body word
REFERENCE_WEIGHT = 0.5  # about a quarter of an article's words
INDEX_FOLDER = "pagefind"
ROOT_SELECTOR = "article"  # furo's main content: the indexed part of every page
UNUSED_BUNDLES = ("pagefind-ui.*", "pagefind-*-ui.*", "pagefind-highlight.js")
# What the search page never uses: it shows no code, tabs or cards, and does not
# highlight its own words. 22 KB compressed of the 47 KB a first visit cost.
NOT_ON_SEARCH_PAGE = (
    "pygments.css",
    "copybutton.css",
    "copybutton.js",
    "clipboard.min.js",
    "sphinx-design.min.css",
    "design-tabs.js",
    "sphinx_highlight.js",
)


def add_search_context(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Tell ``page.html`` whether and how to mark the page for the index."""
    if app.builder.format != "html" or pagename not in app.env.found_docs:
        context["handbook_search"] = None
        return
    article = articles(app.env).get(pagename)
    if article is None:
        context["handbook_search"] = {"weight": REFERENCE_WEIGHT, "hidden": ""}
        return
    keywords = article.fields.get("keywords") or []
    context["handbook_search"] = {
        "weight": None,
        "hidden_weight": KEYWORD_WEIGHT,
        "hidden": ". ".join([article.description, *map(str, keywords)]),
    }


def lighten_search_page(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Leave out of the search page the stylesheets and scripts it has no use for."""
    if pagename != "search":
        return
    for key in ("css_files", "script_files"):
        context[key] = [
            asset
            for asset in context.get(key, [])
            if str(getattr(asset, "filename", asset)).rpartition("/")[2] not in NOT_ON_SEARCH_PAGE
        ]


def write_index(app: Sphinx, exception: Exception | None) -> None:
    """Index the written pages with Pagefind, replacing the previous index."""
    if exception is not None or app.builder.format != "html":
        return
    folder = app.outdir / INDEX_FOLDER
    # Over the previous index, not into an empty folder: Pagefind names each file
    # after a hash of its content and does not write a file that exists, so after
    # an edit it writes a handful of files instead of 1,100 (1.6 s instead of 3.5 s
    # at 1,000 articles). remove_stale_files() then deletes what the new index
    # does not use, so the folder equals a clean build's.
    command = [sys.executable, "-m", "pagefind", "--site", str(app.outdir)]
    command += ["--output-subdir", INDEX_FOLDER, "--quiet"]
    # Everything indexed is inside furo's <article>; parsing only that element gives
    # a byte-identical index in 0.35 s less at 1,000 articles (1.4 s instead of 1.75 s).
    command += ["--root-selector", ROOT_SELECTOR]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise ExtensionError(
            "Pagefind could not index the site: "
            + (detail[-1] if detail else f"exit code {result.returncode}")
            + ". Install the project's dependencies (pip install -r requirements/docs.txt "
            "brings the pagefind package with its binary)."
        )
    for line in (result.stdout + result.stderr).splitlines():
        if line.strip():  # --quiet leaves only warnings: a page Pagefind could not use
            logger.warning("Pagefind: %s", line.strip(), type="handbook", subtype="search")
    remove_stale_files(folder)
    for unused in UNUSED_BUNDLES:  # Pagefind's ready-made interfaces; the handbook has its own
        for path in folder.glob(unused):
            path.unlink()
    logger.info("search index written by Pagefind to %s/", INDEX_FOLDER)


def names_in_use(meta: bytes, language: str) -> set[str]:
    """The chunk and fragment names (``en_1a2b3c4``) that an index's metadata lists.

    The metadata is gzip-compressed CBOR in which each name is a short text
    string: a header byte (0x60 + its length, under 24) and the name.
    """
    data = gzip.decompress(meta)
    prefix = f"{language}_".encode()
    names = set()
    start = data.find(prefix, 1)
    while start > 0:
        length = data[start - 1] - 0x60
        if len(prefix) < length < 24:
            names.add(data[start : start + length].decode("ascii", "replace"))
        start = data.find(prefix, start + 1)
    return names


def remove_stale_files(folder: Path) -> None:
    """Delete the files of earlier indexes that the index just written does not use."""
    entry = json.loads((folder / "pagefind-entry.json").read_text(encoding="utf-8"))
    metas: set[Path] = set()
    names: set[str] = set()
    for language, about in entry["languages"].items():
        meta = folder / f"pagefind.{about['hash']}.pf_meta"
        metas.add(meta)
        in_use = names_in_use(meta.read_bytes(), language)
        fragments = {
            name for name in in_use if (folder / "fragment" / f"{name}.pf_fragment").is_file()
        }
        if len(fragments) != about["page_count"]:
            raise ExtensionError(
                f"handbook.search could not read which files Pagefind "
                f"{entry.get('version')} uses ({len(fragments)} pages found of "
                f"{about['page_count']}); see the 'search-index-in-place' entry of "
                f"handbook/upstream.py"
            )
        names |= in_use
    for path in folder.glob("pagefind.*.pf_meta"):
        if path not in metas:
            path.unlink()
    for sub in ("fragment", "index"):
        for path in (folder / sub).glob("*"):
            if path.stem not in names:
                path.unlink()


def skip_sphinx_index(app: Sphinx) -> None:
    """Stop Sphinx from building a ``searchindex.js`` that nothing reads.

    The search page asks Pagefind. Sphinx's own index took 6.2 s of a 61 s full
    build at 1,000 articles (feeding every page to its indexer) and published an
    880 KB file. Sphinx has no option to skip it; its builders' ``search`` flag,
    which its help builders turn off, does. Sphinx then writes no search page of
    its own, so the page is one of the additional pages (:func:`add_search_page`).
    """
    if getattr(app.builder, "search", False):
        app.builder.search = False  # type: ignore[attr-defined]


def add_search_page(app: Sphinx, config: Config) -> None:
    """Write ``search.html`` from the handbook's template, as Sphinx would have."""
    config.html_additional_pages = {"search": "search.html", **config.html_additional_pages}


def setup(app: Sphinx) -> None:
    """Connect the page marking and the indexing step."""
    upstream.confirm("search")  # Sphinx writes its search page only with the flag on
    app.connect("config-inited", add_search_page)
    app.connect("builder-inited", skip_sphinx_index)
    app.connect("html-page-context", add_search_context)
    app.connect("html-page-context", lighten_search_page)
    # Last of all: after handbook.incremental has removed the pages of deleted
    # articles, so that the index holds exactly the pages a clean build writes.
    app.connect("build-finished", write_index, priority=900)
