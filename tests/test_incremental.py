"""Incremental builds: after an edit, the output is as complete as a clean build's.

Stock sphinx-sitemap forgets the pages that were not rewritten, and stock
Sphinx leaves navigation, recent-article lists, postlists and previous/next
links stale on pages whose own source did not change.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.conftest import built_copy
from tests.shared import Build, build_html

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NOT_IN_SITEMAP = {"search.html", "genindex.html", "articles/drafts.html", "404.html"}
NEW_ARTICLE = """---
date: 2025-12-01
category: Architecture and boundaries
tags: [boundaries]
description: A short article added by the incremental-build test, newer than every other.
---

(architecture-incremental-probe)=
# Incremental probe

This article exists only inside the test's copy of the handbook.
"""


def sitemap_paths(build: Build) -> set[str]:
    """The page paths listed in sitemap.xml, relative to the base URL."""
    from tests.conftest import CONF

    html_baseurl = CONF["html_baseurl"]

    root = ElementTree.parse(build.outdir / "sitemap.xml").getroot()
    locations = [loc.text for loc in root.iter(f"{SITEMAP}loc")]
    assert all(loc.startswith(html_baseurl) for loc in locations), locations[:3]
    return {loc.removeprefix(html_baseurl) for loc in locations}


def html_paths(build: Build) -> set[str]:
    """Every HTML page written, relative to the output folder."""
    return {
        p.relative_to(build.outdir).as_posix()
        for p in build.outdir.rglob("*.html")
        if "_static" not in p.parts
    }


def links_by_page(build: Build) -> dict[str, list[str]]:
    """Every page's links, which is where stale navigation shows."""
    return {
        path: sorted(re.findall(r'href="([^"#]+)', (build.outdir / path).read_text("utf-8")))
        for path in html_paths(build)
    }


def test_sitemap_lists_every_page_at_the_base_url(html: Build) -> None:
    assert sitemap_paths(html) == html_paths(html) - NOT_IN_SITEMAP


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the handbook, built once, for tests that change it."""
    return built_copy(tmp_path_factory, "project")


@pytest.mark.builds
def test_sitemap_stays_complete_after_a_one_file_edit(project: Path) -> None:
    before = sitemap_paths(Build(0, "", project / "_build"))
    article = next((project / "docs").glob("*/*.md"))
    article.write_text(article.read_text() + "\nOne more sentence.\n")
    after = build_html(project, project / "_build")
    assert after.returncode == 0, after.log
    assert sitemap_paths(after) == before


@pytest.mark.builds
def test_archive_pages_deleted_from_the_output_are_written_again(project: Path) -> None:
    # The record of written archives lives with the doctrees, outside the output
    # folder; deleting output (but not doctrees) must not leave the archives gone.
    tag_pages = sorted((project / "_build" / "articles" / "tag").glob("*.html"))
    assert tag_pages, "no tag archive page was written"
    for page in tag_pages:
        page.unlink()
    again = build_html(project, project / "_build")
    assert again.returncode == 0, again.log
    assert all(page.is_file() for page in tag_pages), "a deleted archive page was not rewritten"


@pytest.mark.builds
def test_adding_an_article_updates_every_page_like_a_clean_build(
    project: Path, tmp_path: Path
) -> None:
    topic_page = project / "docs" / "architecture.md"
    (project / "docs" / "architecture" / "incremental-probe.md").write_text(NEW_ARTICLE)
    text = topic_page.read_text()
    entries = re.search(r"```\{toctree\}\n(?:.*\n)*?\n((?:.*\n)*?)```", text)
    assert entries, "no toctree in docs/architecture.md"
    last = entries.group(1).strip().splitlines()[-1]
    topic_page.write_text(
        text.replace(f"{last}\n```", f"{last}\narchitecture/incremental-probe\n```")
    )

    incremental = build_html(project, project / "_build")
    assert incremental.returncode == 0, incremental.log
    clean = build_html(project, tmp_path / "clean")
    assert clean.returncode == 0, clean.log

    assert "incremental-probe" in incremental.page("index.html"), "postlist is stale"
    assert "Incremental probe" in incremental.page("glossary.html"), "navigation is stale"
    previous = project / "_build" / f"{last}.html"
    assert "incremental-probe.html" in previous.read_text(), "previous/next link is stale"
    assert links_by_page(incremental) == links_by_page(clean)
    assert sitemap_paths(incremental) == sitemap_paths(clean)
