"""Make ABlog's Atom feeds reproducible.

ABlog (through feedgen) stamps each feed's ``<updated>`` with the build time
and writes entry dates in the build machine's local time zone, so no two
builds agree. After the build, every feed is rewritten so that:

- entry ``<published>`` and ``<updated>`` are the post's date at midnight UTC;
- the feed's ``<updated>`` is the newest entry's ``<updated>``.

It also adds the feed-level ``<author>`` that RFC 4287 requires when entries
have none (ABlog writes an author only for posts that name one).
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

from sphinx.application import Sphinx

from handbook import incremental

ATOM = "http://www.w3.org/2005/Atom"
_OFFSET = re.compile(r"(?:[+-]\d\d:\d\d|Z)$")


def _as_utc(timestamp: str) -> str:
    """Keep the wall-clock date and time of ``timestamp``, stated in UTC."""
    return _OFFSET.sub("", timestamp.strip()) + "Z"


def normalize_feed(path: Path, author: str) -> None:
    """Rewrite one Atom feed so its content depends only on the posts, and is valid."""
    ElementTree.register_namespace("", ATOM)
    tree = ElementTree.parse(path)
    feed = tree.getroot()
    newest = ""
    for entry in feed.iter(f"{{{ATOM}}}entry"):
        for name in ("published", "updated"):
            element = entry.find(f"{{{ATOM}}}{name}")
            if element is not None and element.text:
                element.text = _as_utc(element.text)
                newest = max(newest, element.text)
    updated = feed.find(f"{{{ATOM}}}updated")
    if updated is not None:
        updated.text = newest or "1970-01-01T00:00:00Z"
    if feed.find(f"{{{ATOM}}}author") is None:
        element = ElementTree.Element(f"{{{ATOM}}}author")
        ElementTree.SubElement(element, f"{{{ATOM}}}name").text = author
        feed.insert(list(feed).index(updated) + 1 if updated is not None else 0, element)
    ElementTree.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def feed_entries(path: Path) -> list[tuple[str, ...]]:
    """What a feed reader sees of each entry: id, title, summary, dates, categories.

    The tests and the benchmark compare incremental and clean builds with it.
    """
    entries = []
    for entry in ElementTree.parse(path).getroot().iter(f"{{{ATOM}}}entry"):
        fields = [entry.findtext(f"{{{ATOM}}}{name}") or "" for name in ("id", "title", "summary")]
        fields += [entry.findtext(f"{{{ATOM}}}{name}") or "" for name in ("published", "updated")]
        fields += sorted(category.get("term", "") for category in entry.iter(f"{{{ATOM}}}category"))
        entries.append(tuple(fields))
    return entries


def normalize_feeds(app: Sphinx, exception: Exception | None) -> None:
    """After an HTML build, normalize every Atom feed ABlog wrote."""
    if exception is not None or app.builder.format != "html":
        return
    if not getattr(app, incremental.FEEDS_WRITTEN, True):
        return  # handbook.incremental kept last build's feeds, already normalized
    archive = Path(app.outdir) / app.config.blog_path
    for path in sorted(archive.rglob("atom.xml")):
        normalize_feed(path, app.config.author)


def setup(app: Sphinx) -> None:
    """Connect the feed normalizer."""
    app.connect("build-finished", normalize_feeds)
