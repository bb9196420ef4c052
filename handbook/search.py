"""The handbook's search index: small files a query fetches a few of.

Sphinx's own search downloads its whole index before the first result, then
fetches every result page to cut an excerpt, and lets a glossary entry
outrank the article that explains the term. This module writes an index in
``_search/`` of the output folder that the search page
(``templates/search.html``, ``static/handbook-search.js``) reads piece by
piece:

- ``meta.json``: every indexed page's address, length and weight, the words
  the index leaves out, and the number of shards.
- ``shards/N.txt``: the postings. A word goes to shard ``FNV-1a(word) mod
  shards``; each line is one page (``id<TAB>word count word count ...``), so a
  query fetches one small file per word.
- ``pages/ID.json``: a page's title and its sections' text, fetched only for
  the results shown, to cut an excerpt and mark the query's words.
- ``stemmer.js``: the Snowball English stemmer Sphinx ships for its own search,
  the JavaScript twin of the ``snowballstemmer`` this module stems with.

What counts, and how much (:data:`WEIGHTS`): a word in the title counts more
than one in a heading, the description and the optional ``keywords`` (front
matter: the words readers use for the problem), which count more than one in
the body. Pages of ``docs/`` that are not articles (glossary, topics,
checklists, the contributor guide) rank at :data:`REFERENCE_BOOST`, so the
article that explains a subject comes before a page that lists it. Generated
pages (archives, the index, 404) are not indexed.

Each page's words are counted while Sphinx reads it and kept beside its
doctree, so an edit counts only the edited article's. After the build,
the index is updated in place: the shards holding the changed pages' old or
new words are rewritten and the rest left alone; a new or deleted page, a
change to this module, or a missing index rewrites it all. Either way the
files equal a clean build's (tests/test_incremental_equivalence.py).
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import pickle
import re
import shutil
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import snowballstemmer
from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.builders.html import StandaloneHTMLBuilder
from sphinx.config import Config
from sphinx.environment import BuildEnvironment
from sphinx.errors import ExtensionError
from sphinx.search import en as sphinx_english
from sphinx.util import logging

from handbook import upstream
from handbook.articles import articles

logger = logging.getLogger(__name__)
INDEX_FOLDER = "_search"
STORE = "handbook_search"  # environment attribute: docname -> Page
STATE_FILE = "handbook-search.pickle"  # in the doctree folder: what the index on disk holds
WORDS_FOLDER = "handbook-search"  # in the doctree folder: each page's Words
# How much one occurrence of a word counts, by where it is.
WEIGHTS = {"title": 8, "summary": 5, "heading": 3, "body": 1}
REFERENCE_BOOST = 0.3  # a page of docs/ that is not an article: glossary, topics, guides
# Words that say nothing about a subject, left out of the index and of queries.
# Sphinx's English list holds words a query needs ("before", "after", "down",
# "over", "few"); this one is short, with the filler of a reader's description
# of a problem ("my cache keeps ...").
STOP_LIST = """
    a about an and are as at be but by can do does for from get gets has have how i if in
    is it its keep keeps me my no not of on or our out so some that the their them then
    there these they this to too up us very was we what when where which who why will
    with without you your
"""
STOP_WORDS = frozenset(STOP_LIST.split())
WORD = re.compile(r"[^\W_]+")  # letters and digits; the search page splits queries alike
STEMMER_FILES = ("base-stemmer.js", sphinx_english.SearchEnglish.js_stemmer_rawcode)
TITLED_LINKS = ("ref", "doc", "numref")
NOT_INDEXED = (nodes.Invisible, nodes.raw, nodes.system_message, addnodes.toctree)
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


@dataclass(frozen=True)
class Page:
    """What the environment holds of an indexed page, made while Sphinx reads it."""

    length: int  # weighted count of all its words
    boost: float
    digest: str  # of its words, weight and text: an edit that changes none rewrites nothing


@dataclass(frozen=True)
class Words:
    """A page's words and text, kept beside its doctree until the index is written.

    Not in the environment, which every rebuild loads whole: at 1,000 articles
    the words and texts would add megabytes to it.
    """

    counts: tuple[tuple[str, int], ...]  # (stem, weighted count), by stem
    fragment: str  # pages/ID.json: the title and each section's anchor, heading and text


_stemmer = snowballstemmer.stemmer("english")


@cache
def stem(word: str) -> str:
    """The stem of a lower-case word, as the search page's stemmer gives it."""
    return _stemmer.stemWord(word)


def terms(text: str) -> list[str]:
    """The stems a text is indexed under, or a query looks for, in order."""
    words = WORD.findall(text.lower())
    return [stem(w) for w in words if len(w) > 1 and w not in STOP_WORDS]


@cache
def shard_of(term: str, shards: int) -> int:
    """The shard holding ``term``: 32-bit FNV-1a of its UTF-8, modulo ``shards``."""
    value = 0x811C9DC5
    for byte in term.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value % shards


def shard_count(pages: int) -> int:
    """Shards for an index of ``pages``: a power of two, two to four per page.

    An article has some 350 distinct stems, so an edit rewrites about as many
    shards whatever their number (312 of 4,096 at 1,000 articles); more,
    smaller shards make that and a query's download cheaper. The number
    changes only when pages come or go, which rewrites the index anyway.
    """
    count = 64
    while count < 2 * pages and count < 8192:
        count *= 2
    return count


# --- reading: a page's words and text ---------------------------------------


def texts(node: nodes.Node, keep: Any) -> Iterator[str]:
    """The visible text under ``node``, with a space after each block."""
    if isinstance(node, nodes.Text):
        yield node.astext()
        return
    if (
        isinstance(node, NOT_INDEXED)
        or (isinstance(node, addnodes.only) and not keep(node["expr"]))
        or (
            # A link like {ref}`label` shows its target's title, which is not known
            # while the page is read; its text until then is the label itself.
            isinstance(node, addnodes.pending_xref)
            and not node.get("refexplicit")
            and node.get("reftype") in TITLED_LINKS
        )
    ):
        return
    for child in node.children:
        yield from texts(child, keep)
    if not isinstance(node, nodes.Inline):
        yield " "


def sections(doctree: nodes.document, keep: Any) -> list[tuple[str, str, str]]:
    """(anchor, heading, text) of each section, in order; text excludes subsections."""
    found = []
    for section in doctree.findall(nodes.section):
        title = section.next_node(nodes.title)
        own = [
            part
            for child in section.children
            if not isinstance(child, (nodes.title, nodes.section))
            for part in texts(child, keep)
        ]
        anchor = section["ids"][0] if section["ids"] else ""
        heading = " ".join(title.astext().split()) if title else ""
        found.append((anchor, heading, " ".join("".join(own).split())))
    return found


def add_words(counts: Counter[str], text: str, weight: int) -> None:
    """Add each stem of ``text`` to ``counts``, ``weight`` per occurrence.

    The same stems as :func:`terms`, stemming each distinct word once.
    """
    for word, occurrences in Counter(WORD.findall(text.lower())).items():
        if len(word) > 1 and word not in STOP_WORDS:
            counts[stem(word)] += weight * occurrences


def make_page(parts: list[tuple[str, str, str]], summary: str, boost: float) -> tuple[Page, Words]:
    """Count a page's words by where they are, and keep its text for excerpts."""
    counts: Counter[str] = Counter()
    for index, (_anchor, heading, text) in enumerate(parts):
        add_words(counts, heading, WEIGHTS["title"] if index == 0 else WEIGHTS["heading"])
        add_words(counts, text, WEIGHTS["body"])
    add_words(counts, summary, WEIGHTS["summary"])
    title = parts[0][1] if parts else ""
    # The top of the page has no anchor of its own: a result links to the page.
    shown = [["", title, parts[0][2]], *map(list, parts[1:])] if parts else []
    fragment = json.dumps({"title": title, "sections": shown}, ensure_ascii=False)
    words = Words(tuple(sorted(counts.items())), fragment)
    digest = hashlib.sha256(repr((words, boost)).encode()).hexdigest()[:20]
    return Page(sum(counts.values()), boost, digest), words


def read_page(app: Sphinx, doctree: nodes.document) -> None:
    """Record what the index needs of a page of docs/ as Sphinx reads it."""
    docname = app.env.docname
    keep = app.builder.tags.eval_condition
    article = articles(app.env).get(docname)
    if article is None:
        summary, boost = "", REFERENCE_BOOST
    else:
        keywords = article.fields.get("keywords") or []
        summary, boost = ". ".join([article.description, *map(str, keywords)]), 1.0
    page, words = make_page(sections(doctree, keep), summary, boost)
    path = words_file(app.doctreedir, docname)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([words.counts, words.fragment], ensure_ascii=False), "utf-8")
    store(app.env)[docname] = page


def words_file(doctreedir: str | Path, docname: str) -> Path:
    """Where a page's :class:`Words` wait for the index: beside the doctrees."""
    return Path(doctreedir) / WORDS_FOLDER / f"{docname}.json"


def load_words(doctreedir: str | Path, docname: str) -> Words:
    """The :class:`Words` :func:`read_page` kept for ``docname``."""
    path = words_file(doctreedir, docname)
    try:
        counts, fragment = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as error:
        raise ExtensionError(
            f"handbook.search cannot read {path} ({error.__class__.__name__}), which the "
            f"build wrote when it last read {docname}; remove {doctreedir} (the saved "
            "state of earlier builds) and build again"
        ) from None
    return Words(tuple((term, count) for term, count in counts), fragment)


def store(env: BuildEnvironment) -> dict[str, Page]:
    """The indexed pages in the environment, by docname."""
    return env.__dict__.setdefault(STORE, {})


def purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    store(env).pop(docname, None)
    words_file(app.doctreedir, docname).unlink(missing_ok=True)


def merge(_app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment) -> None:
    theirs = store(other)
    store(env).update({name: theirs[name] for name in docnames if name in theirs})


# --- writing: the index files ---------------------------------------------


@cache
def code_key() -> str:
    """Changes with this module's code: a stored index from other code is rewritten."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:20]


def shard_lines(page_id: int, words: Words, shards: int) -> dict[int, str]:
    """The line a page adds to each shard its words fall in."""
    grouped: dict[int, list[str]] = defaultdict(list)
    for term, count in words.counts:
        grouped[shard_of(term, shards)].append(f"{term} {count}")
    return {shard: f"{page_id}\t{' '.join(words)}" for shard, words in grouped.items()}


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` unless the file holds it already; True when it wrote."""
    data = text.encode()
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def stemmer_source() -> str:
    """Sphinx's Snowball English stemmer for JavaScript, in one file."""
    folder = Path(sphinx_english.__file__).parent / "minified-js"
    missing = [name for name in STEMMER_FILES if not (folder / name).is_file()]
    if missing:
        raise ExtensionError(
            f"handbook.search needs Sphinx's JavaScript stemmer ({', '.join(missing)} in "
            f"{folder.name}/ of the sphinx package); see the 'english-stemmer' entry of "
            "handbook/upstream.py"
        )
    return "".join((folder / name).read_text(encoding="utf-8") + "\n" for name in STEMMER_FILES)


def meta(app: Sphinx, order: list[str], pages: dict[str, Page], shards: int) -> str:
    """``meta.json``: what a query needs before it fetches a shard."""
    lengths = [pages[name].length for name in order]
    average = round(sum(lengths) / len(lengths), 3) if lengths else 1.0
    return json.dumps(
        {
            "shards": shards,
            "stop_words": sorted(STOP_WORDS),
            "average_length": average,
            "pages": [
                [app.builder.get_target_uri(name), pages[name].length, pages[name].boost]
                for name in order
            ],
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


def write_all(folder: Path, order: list[str], doctreedir: Path, shards: int) -> list[bytes]:
    """Write every page's shard lines and fragment into an emptied folder.

    Returns, for each page, the shards it has a line in (:func:`packed`).
    """
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "shards").mkdir(parents=True)
    (folder / "pages").mkdir()
    lines: list[list[str]] = [[] for _ in range(shards)]
    used = []
    for page_id, name in enumerate(order):
        words = load_words(doctreedir, name)
        page_lines = shard_lines(page_id, words, shards)
        for shard, line in page_lines.items():
            lines[shard].append(line)
        used.append(packed(page_lines))
        (folder / "pages" / f"{page_id}.json").write_text(words.fragment, encoding="utf-8")
    for shard, rows in enumerate(lines):
        (folder / "shards" / f"{shard}.txt").write_text(
            "".join(row + "\n" for row in rows), encoding="utf-8"
        )
    return used


def update(
    folder: Path, changed: dict[int, Words], used: list[bytes], shards: int
) -> tuple[int, list[bytes]]:
    """Rewrite the fragments of changed pages and every shard they had or have a line in.

    Returns the number of shards rewritten and the updated :func:`packed` list.
    """
    new_rows: dict[int, dict[int, str]] = defaultdict(dict)  # shard -> page id -> line
    touched: set[int] = set()
    used = list(used)
    for page_id, words in changed.items():
        page_lines = shard_lines(page_id, words, shards)
        for shard, line in page_lines.items():
            new_rows[shard][page_id] = line
        touched |= unpacked(used[page_id]) | set(page_lines)
        used[page_id] = packed(page_lines)
        write_if_changed(folder / "pages" / f"{page_id}.json", words.fragment)
    for shard in sorted(touched):
        path = folder / "shards" / f"{shard}.txt"
        # Rows are sorted by page id: find each changed page's place by bisection.
        rows = path.read_text("utf-8").splitlines()
        added = new_rows.get(shard, {})
        for page_id in sorted(changed):
            at = bisect.bisect_left(rows, page_id, key=row_id)
            if at < len(rows) and row_id(rows[at]) == page_id:
                del rows[at]
            if page_id in added:
                rows.insert(at, added[page_id])
        path.write_text("\n".join(rows) + "\n" if rows else "", encoding="utf-8")
    return len(touched), used


def row_id(row: str) -> int:
    """The page id a shard's row starts with."""
    return int(row[: row.index("\t")])


def packed(page_lines: dict[int, str]) -> bytes:
    """The shards a page has a line in, compactly (two bytes each)."""
    return array("H", sorted(page_lines)).tobytes()


def unpacked(data: bytes) -> set[int]:
    """The shards :func:`packed` recorded."""
    shards = array("H")
    shards.frombytes(data)
    return set(shards)


def load_state(path: Path) -> dict[str, Any]:
    """What the index on disk was written from, or an empty record."""
    try:
        with path.open("rb") as stream:
            state = pickle.load(stream)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def intact(folder: Path, shards: int, pages: int) -> bool:
    """Whether the index folder still holds every file an update would keep."""
    try:
        return (folder / "meta.json").is_file() and (
            len(os.listdir(folder / "shards")),
            len(os.listdir(folder / "pages")),
        ) == (shards, pages)
    except OSError:
        return False


def write_index(app: Sphinx, exception: Exception | None) -> None:
    """Bring ``_search/`` up to date with the pages in the environment."""
    if exception is not None or not isinstance(app.builder, StandaloneHTMLBuilder):
        return
    pages = store(app.env)
    order = sorted(pages)
    shards = shard_count(len(order))
    folder = app.outdir / INDEX_FOLDER
    state_path = Path(app.doctreedir) / STATE_FILE
    digests = [pages[name].digest for name in order]
    key = {
        "code": code_key(),
        "outdir": str(app.outdir.resolve()),
        "shards": shards,
        "order": order,
    }
    state = load_state(state_path)
    if state.get("key") == key and intact(folder, shards, len(order)):
        changed = {
            i: load_words(app.doctreedir, order[i])
            for i, digest in enumerate(digests)
            if digest != state["digests"][i]
        }
        rewritten, used = (
            update(folder, changed, state["used"], shards) if changed else (0, state["used"])
        )
        logger.info(
            "search index: %d page%s changed, %d shards rewritten",
            *(len(changed), "" if len(changed) == 1 else "s", rewritten),
        )
    else:
        used = write_all(folder, order, Path(app.doctreedir), shards)
        logger.info("search index: %d pages in %d shards", len(order), shards)
    write_if_changed(folder / "meta.json", meta(app, order, pages, shards))
    write_if_changed(folder / "stemmer.js", stemmer_source())
    new_state = {"key": key, "digests": digests, "used": used}
    if new_state != state:
        with state_path.open("wb") as stream:
            pickle.dump(new_state, stream, protocol=pickle.HIGHEST_PROTOCOL)


def add_search_page(app: Sphinx, config: Config) -> None:
    """Write ``search.html`` from the handbook's template, as Sphinx would have."""
    config.html_additional_pages = {"search": "search.html", **config.html_additional_pages}


def skip_sphinx_index(app: Sphinx) -> None:
    """Stop Sphinx from building a ``searchindex.js`` that nothing reads.

    The search page reads ``_search/``. Sphinx's own index took 6.2 s of a 61 s
    full build at 1,000 articles (feeding every page to its indexer) and
    published an 880 KB file. Sphinx has no option to skip it; its builders'
    ``search`` flag, which its help builders turn off, does. Sphinx then writes
    no search page of its own, so the page is one of the additional pages
    (:func:`add_search_page`).
    """
    if getattr(app.builder, "search", False):
        app.builder.search = False  # type: ignore[attr-defined]


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


def setup(app: Sphinx) -> None:
    """Count each page's words as it is read, and write the index after the build."""
    upstream.confirm("search")
    app.connect("config-inited", add_search_page)
    app.connect("builder-inited", skip_sphinx_index)
    # After handbook.articles has read the front matter (source-read).
    app.connect("doctree-read", read_page, priority=800)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("html-page-context", lighten_search_page)
    # Last of all: after handbook.incremental has removed the pages of deleted
    # articles, so that the index holds exactly the pages a clean build writes.
    app.connect("build-finished", write_index, priority=900)
