"""Incremental builds that rewrite what changed, and everything that shows it.

Sphinx rewrites only the pages whose sources changed, while ABlog rewrites
every archive page and Atom feed on every build (its ``html-collect-pages``
handlers, ``generate_archive_pages`` and ``generate_atom_feeds``, have no
notion of what changed). Both are wrong for the handbook, in opposite
directions:

- Every page shows parts of *other* pages: the sidebar navigation (toctrees
  and titles), the recent articles and the archive by year, the landing
  page's ``{postlist}``, previous/next links, cross-reference texts, and on
  articles the related articles (ranked by tags, dates and links). When
  any of these inputs changes (the *site signature*: toctrees, titles,
  labels, and every post's metadata), every page is rewritten.
- An edit that only changes which pages an article links to changes the
  related articles of the pages it starts or stops linking to; those are
  rewritten.
- Archive pages and feeds depend on post metadata, the navigation and the
  templates. They are regenerated only when the site signature, the HTML
  configuration or a template changed since they were written (a key stored
  with the doctrees, in ``handbook-archives.json``, naming the output folder
  it describes, so nothing of it is published), or when one is missing.
- Pages a clean build would not write are deleted: the HTML of a deleted
  source (Sphinx keeps it) and the page and feed of a tag or year that no
  longer has articles.

An edit inside an article's body therefore rewrites that article and its
topic page (whose cards read every article), and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import ablog.post
from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.builders.html import StandaloneHTMLBuilder
from sphinx.environment import CONFIG_OK, BuildEnvironment

from handbook import upstream

SIGNATURE = "handbook_site_signature"  # in the environment: the last build's site signature
XREFS = "handbook_xrefs"  # in the environment: docname -> the targets it refers to
PREVIOUS_XREFS = "_handbook_previous_xrefs"  # on the app: targets of documents read again
SITE_CHANGED = "_handbook_site_changed"  # on the app: whether the site or configuration changed
ARCHIVE_PAGES = "_handbook_archive_pages"  # on the app: every archive page, written or not
ARCHIVES_WRITTEN = "_handbook_archives"  # on the app: this build's key and the stored one
FEEDS_WRITTEN = "handbook_feeds_written"  # on the app: whether this build wrote the feeds
REMOVED = "_handbook_removed_docs"  # on the app: documents whose sources were deleted
# Beside the doctrees, never in the published output folder: the output folder
# this record describes, and the key and pages of the archives written there.
KEY_FILE = "handbook-archives.json"
POST_FIELDS = ("title", "date", "update", "tags", "category", "author", "location", "language")


def _text(value: Any) -> Any:
    """A JSON-able form of a post field: node lists become their text."""
    if isinstance(value, list):
        return [_text(item) for item in value]
    if isinstance(value, nodes.Node):
        return value.astext()
    return str(value) if value is not None else None


def site_signature(env: BuildEnvironment) -> str:
    """Hash what pages show of other pages: toctrees, titles, labels and posts."""
    labels = env.domaindata["std"]["labels"]
    posts = {
        docname: [
            [_text(post.get(key)) for key in (*POST_FIELDS, "excerpt", "redirect")]
            for post in posts
        ]
        for docname, posts in getattr(env, "ablog_posts", {}).items()
    }
    state = {
        "toctrees": {doc: list(children) for doc, children in env.toctree_includes.items()},
        "titles": {doc: title.astext() for doc, title in env.titles.items()},
        "labels": {name: [value[0], str(value[2])] for name, value in labels.items()},
        "posts": posts,
    }
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()


def collect_xrefs(app: Sphinx, doctree: nodes.document) -> None:
    """Remember the documents and labels a page refers to."""
    env = app.env
    targets = set()
    for xref in doctree.findall(addnodes.pending_xref):
        kind, target = xref.get("reftype"), xref.get("reftarget")
        if not target:
            continue
        if xref.get("refdomain") == "doc" or kind == "doc":
            if kind == "doc" and not target.startswith("/"):
                target = posixpath.join(posixpath.dirname(env.docname), target)
            targets.add(("doc", posixpath.normpath(target).lstrip("/")))
        else:
            targets.add(("label", target.lower()))
    env.__dict__.setdefault(XREFS, {})[env.docname] = sorted(targets)


def resolve(env: BuildEnvironment, targets: Iterable[tuple[str, str]]) -> set[str]:
    """The documents that (kind, target) references point to, where they still exist."""
    std = env.domaindata["std"]
    labels, anonlabels, existing = std["labels"], std["anonlabels"], env.found_docs
    found = set()
    for kind, target in targets:
        if kind == "doc":
            docname = target
        elif target in labels:
            docname = labels[target][0]
        elif target in anonlabels:
            docname = anonlabels[target][0]
        else:
            continue
        if docname in existing:
            found.add(docname)
    return found


def start_build(app: Sphinx) -> None:
    """Start this build's records of old references and deleted sources."""
    setattr(app, PREVIOUS_XREFS, {})
    setattr(app, REMOVED, set())
    setattr(app, ARCHIVES_WRITTEN, None)
    setattr(app, FEEDS_WRITTEN, False)


def init_env(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    """Create the store of references in a new environment."""
    if not hasattr(env, XREFS):
        setattr(env, XREFS, {})


def purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    """Keep a document's old references for comparison, then forget them."""
    old = getattr(env, XREFS, {}).pop(docname, None)
    if old is not None:
        getattr(app, PREVIOUS_XREFS).setdefault(docname, old)


def merge(app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment) -> None:
    """Merge the references found by parallel readers."""
    found = getattr(other, XREFS, {})
    for docname in docnames:
        if docname in found:
            env.__dict__.setdefault(XREFS, {})[docname] = found[docname]


def pages_to_rewrite(app: Sphinx, env: BuildEnvironment) -> Iterable[str]:
    """After reading: every page if the site changed, else pages whose links changed."""
    signature = site_signature(env)
    previous = getattr(env, SIGNATURE, None)
    setattr(env, SIGNATURE, signature)
    # A changed configuration makes Sphinx read every document again; archive
    # pages and feeds may show it too (ABlog's options, for example).
    setattr(app, SITE_CHANGED, signature != previous or env.config_status != CONFIG_OK)
    if previous is not None and previous != signature:
        return sorted(env.found_docs)
    current = getattr(env, XREFS, {})
    changed: set[str] = set()
    for docname, old in getattr(app, PREVIOUS_XREFS).items():
        changed |= resolve(env, set(old) ^ set(current.get(docname, [])))
    return sorted(changed)


def archives_key(app: Sphinx) -> str:
    """What archive pages and feeds depend on: the site, the configuration, the templates."""
    builder = app.builder
    assert isinstance(builder, StandaloneHTMLBuilder)
    state = [
        getattr(app.env, SIGNATURE, None),
        builder.build_info.config_hash,
        builder.build_info.tags_hash,
        builder.templates.newest_template_mtime() if builder.templates else 0,
    ]
    return hashlib.sha256(json.dumps(state).encode()).hexdigest()


def stored_archives(app: Sphinx) -> dict[str, Any]:
    """What the output folder holds: the key its archives were written with, and their pages.

    The record lives beside the doctrees, so it only counts for the output
    folder it names; a page missing from that folder is written again anyway
    (:func:`archive_pages`).
    """
    nothing: dict[str, Any] = {"key": None, "pages": []}
    try:
        stored = json.loads((Path(app.doctreedir) / KEY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return nothing
    if not isinstance(stored, dict) or stored.get("outdir") != str(Path(app.outdir).resolve()):
        return nothing
    return stored


def archives_outdated(app: Sphinx) -> bool:
    """Whether the archive pages and feeds in the output folder are out of date."""
    state = getattr(app, ARCHIVES_WRITTEN, None)
    if state is None:
        state = {"key": archives_key(app), "stored": stored_archives(app)}
        setattr(app, ARCHIVES_WRITTEN, state)
    return getattr(app, SITE_CHANGED, True) or state["key"] != state["stored"].get("key")


def archive_pages(app: Sphinx) -> Iterator[tuple[str, dict[str, Any], str]]:
    """ABlog's archive pages, those out of date or missing only."""
    pages = list(ablog.post.generate_archive_pages(app))
    setattr(app, ARCHIVE_PAGES, [name for name, _, _ in pages])
    outdated = archives_outdated(app)
    for page in pages:
        if outdated or not app.builder.get_output_path(page[0]).exists():  # type: ignore[attr-defined]
            yield page


def atom_feeds(app: Sphinx) -> Iterator[None]:
    """ABlog's Atom feeds, when out of date or missing."""
    if not ablog.builder_support(app) or not app.config.blog_baseurl:
        return
    main_feed = Path(app.outdir) / app.config.blog_path / "atom.xml"
    if archives_outdated(app) or not main_feed.exists():
        setattr(app, FEEDS_WRITTEN, True)
        yield from ablog.post.generate_atom_feeds(app)


def note_removed(
    app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """Remember the documents whose sources were deleted; nothing more to read."""
    getattr(app, REMOVED).update(removed)
    return []


def _unlink(path: Path) -> None:
    """Delete a file if it exists, and its folder if that is left empty."""
    if path.is_file():
        path.unlink()
        if path.parent.is_dir() and not any(path.parent.iterdir()):
            path.parent.rmdir()


def finish_outputs(app: Sphinx, exception: Exception | None) -> None:
    """Delete pages and feeds that a clean build would not write; record the archives.

    Sphinx keeps the HTML of a deleted source, and ABlog the page and feed of
    a tag or year that no longer has articles; a clean build has neither.
    """
    state = getattr(app, ARCHIVES_WRITTEN, None)
    if exception is not None or state is None or not isinstance(app.builder, StandaloneHTMLBuilder):
        return
    outdir = Path(app.outdir)
    for docname in sorted(getattr(app, REMOVED)):
        _unlink(app.builder.get_output_path(docname))
    pages = getattr(app, ARCHIVE_PAGES, [])
    for page in sorted(set(state["stored"].get("pages", [])) - set(pages)):
        _unlink(outdir / page / "atom.xml")
        _unlink(app.builder.get_output_path(page))
    stored = {"outdir": str(outdir.resolve()), "key": state["key"], "pages": sorted(pages)}
    if stored != state["stored"]:
        record = Path(app.doctreedir) / KEY_FILE
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(stored, indent=1) + "\n", encoding="utf-8")


def replace_ablog_generators(app: Sphinx) -> None:
    """Swap ABlog's archive and feed generators for the ones above.

    Fails when ABlog no longer connects both: then its archives would be
    written twice, or not be incremental, with no test run to notice.
    """
    replaced = {ablog.post.generate_archive_pages, ablog.post.generate_atom_feeds}
    found = set()
    for listener in list(app.events.listeners.get("html-collect-pages", [])):
        if listener.handler in replaced:
            found.add(listener.handler)
            app.disconnect(listener.id)
    if found != replaced:
        raise upstream.UpstreamChanged(
            f"ablog {upstream.version('ablog')} no longer connects generate_archive_pages "
            "and generate_atom_feeds to html-collect-pages, which handbook/incremental.py "
            "replaces. See its entry incremental-archives in handbook/upstream.py."
        )
    app.connect("html-collect-pages", archive_pages)
    app.connect("html-collect-pages", atom_feeds)


def setup(app: Sphinx) -> None:
    """Connect the handlers; ABlog must be set up before."""
    upstream.confirm("incremental")  # the generators replaced below
    app.connect("builder-inited", start_build)
    app.connect("env-before-read-docs", init_env)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("doctree-read", collect_xrefs)
    app.connect("env-updated", pages_to_rewrite)
    app.connect("env-get-outdated", note_removed)
    app.connect("build-finished", finish_outputs)
    replace_ablog_generators(app)
