"""The PDF: every article as a bookmarked chapter section with its text, dated by its commit."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.shared import ROOT


def flatten(outline: list) -> list:
    """All outline (bookmark) entries, depth first."""
    entries = []
    for item in outline:
        entries.extend(flatten(item) if isinstance(item, list) else [item])
    return entries


def squash(text: str) -> str:
    """Join hyphenated line breaks and collapse white space, for matching prose."""
    return " ".join(re.sub(r"-\n", "", text).split()).replace("\u2019", "'")


@pytest.fixture(scope="module")
def reader(pdf: Path) -> PdfReader:
    return PdfReader(pdf)


def test_every_article_has_a_bookmark_and_its_text(reader: PdfReader, articles) -> None:
    bookmarks = [squash(entry.title) for entry in flatten(reader.outline)]
    text = squash("\n".join(page.extract_text() for page in reader.pages))
    for article in articles:
        title = squash(article.title)
        assert title in bookmarks, f"no PDF bookmark for {article.docname}"
        assert title in text, f"no text for {article.docname}"


def test_topics_and_glossary_are_in_the_pdf(reader: PdfReader) -> None:
    # (ABlog writes its archive pages for HTML builders only, so the PDF cannot
    # hold them; nothing here checks their absence, which could never fail.)
    from tests.conftest import TOPICS

    bookmarks = [squash(entry.title) for entry in flatten(reader.outline)]
    for title in [*TOPICS.values(), "Glossary"]:
        assert title in bookmarks, f"{title} missing from the PDF outline"


def test_internal_links_work(reader: PdfReader) -> None:
    internal = 0
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A") or {}
            if action.get("/S") == "/GoTo" or "/Dest" in annotation.get_object():
                internal += 1
    assert internal > 20, "the PDF has almost no internal links"


def test_every_character_has_a_glyph(pdf: Path) -> None:
    # xelatex only logs a character the font lacks; the PDF silently shows nothing.
    log = (pdf.parent / "handbook.log").read_text(encoding="utf-8", errors="replace")
    missing = sorted(set(re.findall(r"Missing character: There is no (\S+)", log)))
    assert not missing, f"characters the PDF fonts cannot show: {missing}"


def test_pdf_creation_date_is_the_commit_time_not_the_clock(reader: PdfReader) -> None:
    # handbook/reproducible.py passes the commit time to xdvipdfmx (SOURCE_DATE_EPOCH).
    commit = subprocess.run(
        ["git", "log", "-1", "--format=%ct"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    expected = dt.datetime.fromtimestamp(int(commit.stdout), dt.UTC).strftime("D:%Y%m%d%H%M%S")
    assert reader.metadata is not None
    assert reader.metadata["/CreationDate"].startswith(expected), reader.metadata
