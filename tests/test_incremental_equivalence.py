"""An incremental build writes the same site as a clean build of the same sources.

handbook/incremental.py rewrites only what changed (and ABlog's archive pages
and feeds only when posts changed). These checks edit, add and delete
articles in a copy of the handbook, rebuild incrementally, build the same
sources again from scratch, and compare the two outputs: the set of files,
the sitemap, every feed entry, every archive page, and the text of every
page (navigation, recent and related articles, post lists, previous/next).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from commands.build import doctree_folder
from commands.urls import sitemap_paths
from handbook.feeds import feed_entries
from tests.conftest import built_copy
from tests.shared import SOURCE, Build, build_html

pytestmark = pytest.mark.builds

IGNORED = {".buildinfo", ".buildinfo.bak"}


def output_files(outdir: Path) -> dict[str, Path]:
    """Every file a build wrote, by path relative to the output folder."""
    return {
        path.relative_to(outdir).as_posix(): path
        for path in outdir.rglob("*")
        if path.is_file() and path.name not in IGNORED
    }


def assert_same_site(incremental: Path, clean: Path) -> None:
    """Fail with what differs between an incremental and a clean output folder."""
    new, old = output_files(incremental), output_files(clean)
    assert sorted(new) == sorted(old), "the incremental build wrote a different set of files"
    assert sitemap_paths(incremental, "") == sitemap_paths(clean, "")
    feeds = [name for name in old if name.endswith("atom.xml")]
    assert feeds, "no Atom feed written"
    for name in feeds:
        assert feed_entries(new[name]) == feed_entries(old[name]), f"{name}: entries differ"
    pages = [name for name in old if name.endswith(".html")]
    archives = [name for name in pages if name.startswith("articles")]
    assert archives, "no archive page written"
    stale = [
        name
        for name in pages
        if new[name].read_text(encoding="utf-8") != old[name].read_text(encoding="utf-8")
    ]
    assert not stale, f"pages differ from a clean build: {stale}"
    index = [name for name in old if name.startswith("_search/")]
    assert index, "no search index written"
    differing = [name for name in index if new[name].read_bytes() != old[name].read_bytes()]
    assert not differing, f"the search index differs from a clean build's: {differing}"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of the handbook built once, and a snapshot of it (sources and output)."""
    project = built_copy(tmp_path_factory, "equivalence")
    snapshot = tmp_path_factory.mktemp("equivalence-snapshot") / "project"
    shutil.copytree(project, snapshot, symlinks=True)  # copy2 keeps the times Sphinx compares
    return project, snapshot


@pytest.fixture
def project(pristine: tuple[Path, Path]) -> Iterator[Path]:
    """The built copy as the first build left it; each test changes it and rebuilds.

    After each test the copy is put back from the snapshot, at the same path,
    so no test depends on what another changed.
    """
    project, snapshot = pristine
    yield project
    shutil.rmtree(project)
    shutil.copytree(snapshot, project, symlinks=True)


def rebuild_and_compare(project: Path, clean_dir: Path) -> Build:
    """Rebuild ``project`` incrementally and from scratch; compare the outputs."""
    incremental = build_html(project, project / "_build")
    assert incremental.returncode == 0, incremental.log
    clean = build_html(project, clean_dir)
    assert clean.returncode == 0, clean.log
    assert_same_site(project / "_build", clean_dir)
    return incremental


def topic_toctree(project: Path, topic: str) -> tuple[Path, str, list[str]]:
    """A topic page, its text and the entries of its toctree."""
    page = project / SOURCE / f"{topic}.md"
    text = page.read_text(encoding="utf-8")
    block = re.search(r"```\{toctree\}\n(.*?)```", text, re.S)
    assert block, f"{page} has no toctree"
    entries = [line for line in block.group(1).splitlines() if line and not line.startswith(":")]
    return page, text, entries


def vocabulary(project: Path) -> list[str]:
    """The tags articles may use, from docs/tags.yaml."""
    return sorted(yaml.safe_load((project / SOURCE / "tags.yaml").read_text(encoding="utf-8")))


def add_article(
    project: Path, topic: str, slug: str, title: str, date: str, tags: list[str]
) -> Path:
    """Write a new article and list it last in its topic's toctree."""
    from tests.conftest import TOPICS

    path = project / SOURCE / topic / f"{slug}.md"
    path.write_text(
        "---\n"
        f"date: {date}\n"
        f"category: {TOPICS[topic]}\n"
        f"tags: [{', '.join(tags)}]\n"
        "description: An article added by the incremental-build checks, to compare the "
        "incremental output with a clean build.\n"
        "---\n\n"
        f"({topic}-{slug})=\n"
        f"# {title}\n\n"
        "This article exists only in the checks' copy of the handbook.\n",
        encoding="utf-8",
    )
    page, text, _ = topic_toctree(project, topic)
    block_end = text.index("```", text.index("```{toctree}") + 3)
    page.write_text(text[:block_end] + f"{topic}/{slug}\n" + text[block_end:], encoding="utf-8")
    return path


def test_editing_an_article_matches_a_clean_build(project: Path, tmp_path: Path) -> None:
    articles = sorted((project / SOURCE).glob("*/*.md"))
    assert len(articles) >= 2, "the checks need two articles"
    edited, other = articles[0], articles[-1]
    label = re.search(r"^\(([^()\s]+)\)=$", other.read_text(encoding="utf-8"), re.M)
    assert label, f"{other} has no label"
    text = edited.read_text(encoding="utf-8")
    tags = vocabulary(project)
    text = re.sub(r"^tags: .*$", f"tags: [{tags[1]}, {tags[2]}]", text, count=1, flags=re.M)
    text = re.sub(
        r"^description: .*$",
        "description: A description changed by the incremental-build checks, which the "
        "archives, feeds and related articles show.",
        text,
        count=1,
        flags=re.M,
    )
    text += f"\nA sentence and a link to {{ref}}`{label.group(1)}`, added by the checks.\n"
    edited.write_text(text, encoding="utf-8")
    rebuild_and_compare(project, tmp_path / "clean")


def pages_written(build: Build) -> set[str]:
    """The documents a build wrote, from its log."""
    return set(re.findall(r"writing output\.\.\. \[[ \d]+%\] (\S+)", build.log))


def test_a_body_edit_rewrites_only_the_article_and_its_topic(project: Path, tmp_path: Path) -> None:
    article = sorted((project / SOURCE).glob("*/*.md"))[-1]
    article.write_text(article.read_text(encoding="utf-8") + "\nOne more sentence.\n")
    build = rebuild_and_compare(project, tmp_path / "clean")
    docname, topic = f"{article.parent.name}/{article.stem}", article.parent.name
    written = pages_written(build)
    assert docname in written
    # Sphinx also rewrites the pages whose toctree lists a changed page, and the
    # review checklists page reads every article (handbook/checklists.py).
    assert written <= {docname, topic, "index", "checklists"}, written
    # The search index is updated in place, from the one page whose words changed
    # (and rebuild_and_compare found it equal to a clean build's).
    update = re.search(r"search index: (\d+) pages? changed", build.log)
    assert update, "the search index was rewritten whole"
    assert update.group(1) == "1", update[0]


def test_a_new_link_rewrites_the_page_it_points_to(project: Path, tmp_path: Path) -> None:
    # The target's related articles count links in both directions.
    source, target = sorted((project / SOURCE).glob("*/*.md"))[1:3]
    text = source.read_text(encoding="utf-8")
    target_doc = f"{target.parent.name}/{target.stem}"
    source.write_text(text + f"\nSee also {{doc}}`/{target_doc}`.\n", encoding="utf-8")
    build = rebuild_and_compare(project, tmp_path / "clean")
    assert target_doc in pages_written(build)


def test_adding_an_article_matches_a_clean_build(project: Path, tmp_path: Path) -> None:
    tags = vocabulary(project)[:2]
    add_article(
        project, "architecture", "equivalence-added", "Added by the checks", "2025-12-01", tags
    )
    rebuild_and_compare(project, tmp_path / "clean")


def test_deleting_an_article_matches_a_clean_build(project: Path, tmp_path: Path) -> None:
    # A tag only this article has, so that deleting it leaves the tag without articles.
    with (project / SOURCE / "tags.yaml").open("a", encoding="utf-8") as tags:
        tags.write("equivalence-check: A tag that only the incremental-build checks use.\n")
    path = add_article(
        project,
        "resilience",
        "equivalence-deleted",
        "Deleted by the checks",
        "2023-02-01",
        ["equivalence-check"],
    )
    added = build_html(project, project / "_build")
    assert added.returncode == 0, added.log
    tag_page = project / "_build" / "articles" / "tag" / "equivalence-check.html"
    assert tag_page.exists(), "the article's own tag has no archive page"
    path.unlink()
    page = project / SOURCE / "resilience.md"
    page.write_text(
        page.read_text(encoding="utf-8").replace("resilience/equivalence-deleted\n", "")
    )
    rebuild_and_compare(project, tmp_path / "clean")
    assert not tag_page.exists(), "the archive page of a tag without articles is left behind"
    assert not (project / "_build" / "resilience" / "equivalence-deleted.html").exists()


def test_a_damaged_search_index_is_rewritten_whole(project: Path, tmp_path: Path) -> None:
    # An edit updates the index in place; when a file of it has gone missing,
    # the build writes the whole index again instead of stopping on the gap.
    (project / "_build" / "_search" / "shards" / "0.txt").unlink()
    article = sorted((project / SOURCE).glob("*/*.md"))[0]
    article.write_text(article.read_text(encoding="utf-8") + "\nA sentence for the index.\n")
    build = rebuild_and_compare(project, tmp_path / "clean")
    assert re.search(r"search index: \d+ pages in \d+ shards", build.log), build.log[-2000:]


def test_a_lost_word_list_stops_the_build_with_what_to_do(project: Path) -> None:
    # Each page's words wait beside the doctrees for the index (handbook/search.py);
    # when one is gone the index cannot be updated, and the build says what to remove.
    article = sorted((project / SOURCE).glob("*/*.md"))[0]
    docname = f"{article.parent.name}/{article.stem}"
    doctrees = doctree_folder(project / "_build")
    (doctrees / "handbook-search" / f"{docname}.json").unlink()
    (project / "_build" / "_search" / "shards" / "0.txt").unlink()  # forces a whole rewrite
    build = build_html(project, project / "_build")
    assert build.returncode != 0
    assert f"handbook-search/{docname}.json" in build.log and f"remove {doctrees}" in build.log
    assert "Traceback" not in build.log
