"""The output as a whole: reproducible, link-complete, self-contained, conserved."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit
from xml.etree import ElementTree

import pytest
from pypdf import PdfReader

from commands.urls import read_manifest
from tests.conftest import copy_project
from tests.shared import ROOT, Build, build_html
from tests.test_incremental import sitemap_paths
from tests.test_pdf import flatten, squash

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")
# What a reproducible build must reproduce byte for byte.
REPRODUCED = (
    *("*.html", "*.xml", "*.svg", "objects.inv"),
    *("_search/*.json", "_search/shards/*.txt", "_search/pages/*.json"),  # the search index
)


class PageParser(HTMLParser):
    """Collect a page's ids, links and the resources it loads."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.loads: list[tuple[str, str]] = []  # (tag, URL) of resources fetched on load

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        for name in ("id", "name") if tag in {"a", "span", "section", "div"} else ("id",):
            if values.get(name):
                self.ids.add(values[name])
        if tag == "a" and "href" in values:
            self.links.append(values["href"])
        if tag == "link" and "href" in values:
            self.links.append(values["href"])
            if {"stylesheet", "preload", "icon", "modulepreload", "manifest"} & set(
                values.get("rel", "").split()
            ):
                self.loads.append((tag, values["href"]))
        if tag in {"script", "img", "iframe", "source", "audio", "video"} and values.get("src"):
            self.loads.append((tag, values["src"]))
            self.links.append(values["src"])


def parse(path: Path) -> PageParser:
    """Parse one HTML file."""
    parser = PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def pages(build: Build) -> list[Path]:
    """Every HTML page, Sphinx's static assets excepted."""
    return sorted(p for p in build.outdir.rglob("*.html") if "_static" not in p.parts)


def is_external(url: str) -> bool:
    """Whether ``url`` leaves the site (a scheme or a protocol-relative URL)."""
    return bool(urlsplit(url).scheme) or url.startswith("//")


# -- Reproducible builds ---------------------------------------------------------


def reproduced_files(outdir: Path) -> dict[str, Path]:
    """The files a reproducible build must match, by path relative to ``outdir``."""
    found = {}
    for pattern in REPRODUCED:
        for path in outdir.rglob(pattern):
            if ".doctrees" not in path.parts:
                found[path.relative_to(outdir).as_posix()] = path
    return found


def first_difference(left: Path, right: Path) -> str:
    """The first line at which two files differ, for the failure message."""
    a = left.read_text(encoding="utf-8", errors="replace").splitlines()
    b = right.read_text(encoding="utf-8", errors="replace").splitlines()
    for number, (x, y) in enumerate(zip(a, b, strict=False), start=1):
        if x != y:
            return f"line {number}:\n  - {x[:300]}\n  + {y[:300]}"
    return f"lengths differ: {len(a)} and {len(b)} lines"


@pytest.mark.builds
def test_two_clean_builds_are_byte_identical(tmp_path: Path) -> None:
    builds = []
    for name in ("first", "second"):
        project = copy_project(tmp_path / name / "handbook")
        # Each build draws its own figures, so that drawing is shown to be reproducible too.
        figures = str(tmp_path / name / "figures")
        env = {**os.environ, "SOURCE_DATE_EPOCH": "1752710400", "HANDBOOK_FIGURE_CACHE": figures}
        command = [sys.executable, "-m", "sphinx", "-b", "html", "-c", ".", "docs", "out"]
        done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        builds.append(reproduced_files(project / "out"))
    first, second = builds
    assert first.keys() == second.keys()
    for name in sorted(first):
        if first[name].read_bytes() != second[name].read_bytes():
            pytest.fail(
                f"{name} differs between two builds, first at "
                f"{first_difference(first[name], second[name])}"
            )


@pytest.mark.builds
def test_pdf_date_is_the_commit_date_not_the_clock(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "handbook")
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1752710400"}  # 2025-07-17 00:00 UTC
    command = [sys.executable, "-m", "sphinx", "-b", "latex", "-c", ".", "docs", "latex"]
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert r"\date{July 17, 2025}" in (project / "latex" / "handbook.tex").read_text()


def test_the_published_folder_holds_the_site_alone(html: Build) -> None:
    # Read the Docs copies the HTML folder whole (.readthedocs.yaml): build
    # state there would be published. Sphinx's own .buildinfo is the exception.
    leaked = sorted(
        path.relative_to(html.outdir).as_posix()
        for path in html.outdir.rglob("*")
        if path.is_file()
        and (
            any(part.startswith(".") for part in path.relative_to(html.outdir).parts)
            or path.suffix in {".pickle", ".doctree"}
        )
        and path.relative_to(html.outdir).as_posix() != ".buildinfo"
    )
    assert not leaked, f"build state in the published folder: {leaked[:10]}"
    # ... and it is kept beside it instead, where the next build finds it.
    assert (html.doctrees / "environment.pickle").is_file()
    assert (html.doctrees / "handbook-archives.json").is_file()


# -- Link integrity ----------------------------------------------------------------


def test_every_internal_link_and_fragment_resolves(html: Build) -> None:
    from tests.conftest import CONF

    html_baseurl = CONF["html_baseurl"]

    site_root = urlsplit(html_baseurl).path  # where root-relative links (the 404 page) start
    parsed = {path: parse(path) for path in pages(html)}
    ids = {path: result.ids for path, result in parsed.items()}
    broken = []
    for page, result in parsed.items():
        for link in result.links:
            if is_external(link) or link.startswith(("mailto:", "javascript:", "data:")):
                continue
            if link.startswith(site_root):
                link = os.path.relpath(
                    link.removeprefix(site_root) or ".",
                    page.parent.relative_to(html.outdir).as_posix() or ".",
                )
            target_url = urljoin(page.relative_to(html.outdir).as_posix(), link)
            path_part, _, fragment = target_url.partition("#")
            target = html.outdir / unquote(path_part.split("?")[0]) if path_part else page
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{page.relative_to(html.outdir)}: {link} (no such file)")
            elif fragment and target.suffix == ".html":
                known = ids.get(target) or parse(target).ids
                if unquote(fragment) not in known:
                    broken.append(f"{page.relative_to(html.outdir)}: {link} (no such id)")
    assert not broken, "\n".join(broken[:40])


def absolute_urls_in_feeds(build: Build) -> list[tuple[str, str]]:
    """(feed, URL) for every link and entry id in every Atom feed."""
    urls = []
    for feed in sorted(build.outdir.rglob("atom.xml")):
        root = ElementTree.parse(feed).getroot()
        for link in root.iter(f"{ATOM}link"):
            urls.append((feed.relative_to(build.outdir).as_posix(), link.get("href")))
        for entry_id in root.iter(f"{ATOM}id"):
            urls.append((feed.relative_to(build.outdir).as_posix(), entry_id.text))
    return urls


def test_feed_and_sitemap_urls_point_at_built_files(html: Build) -> None:
    from tests.conftest import CONF

    html_baseurl = CONF["html_baseurl"]

    missing = []
    for feed, url in absolute_urls_in_feeds(html):
        assert url.startswith(html_baseurl), f"{feed}: {url} is not under the base URL"
        path = url.removeprefix(html_baseurl).partition("#")[0] or "index.html"
        if not (html.outdir / path).is_file():
            missing.append(f"{feed}: {url}")
    for path in sitemap_paths(html):
        if not (html.outdir / path).is_file():
            missing.append(f"sitemap.xml: {path}")
    assert not missing, "\n".join(missing)


# -- No third-party requests -------------------------------------------------------


def test_no_page_loads_anything_from_another_origin(html: Build) -> None:
    outside = [
        f"{page.relative_to(html.outdir)}: <{tag}> {url}"
        for page in pages(html)
        for tag, url in parse(page).loads
        if is_external(url)
    ]
    for stylesheet in sorted((html.outdir / "_static").rglob("*.css")):
        for url in re.findall(
            r"(?:@import\s+|url\()\s*['\"]?((?:https?:)?//[^'\")\s]+)",
            stylesheet.read_text(encoding="utf-8", errors="replace"),
        ):
            outside.append(f"{stylesheet.relative_to(html.outdir)}: {url}")
    assert not outside, "\n".join(outside)


# -- Conservation --------------------------------------------------------------------


def postlist_links(page: Path) -> list[str]:
    """Links inside the archive list of an archive page (not its sidebar)."""
    text = page.read_text(encoding="utf-8")
    lists = re.findall(r'<ul class="handbook-postlist">(.*?)</ul>', text, re.S)
    return [href for block in lists for href in re.findall(r'href="([^"]+)"', block)]


def test_every_article_is_published_exactly_once_everywhere(
    html: Build, pdf: Path, articles
) -> None:
    from ablog.blog import slugify

    sitemap = Counter(sitemap_paths(html))
    feed = ElementTree.parse(html.outdir / "articles" / "atom.xml").getroot()
    entries = Counter(e.find(f"{ATOM}link").get("href") for e in feed.iter(f"{ATOM}entry"))
    bookmarks = Counter(squash(e.title) for e in flatten(PdfReader(pdf).outline))
    from tests.conftest import CONF

    html_baseurl = CONF["html_baseurl"]

    for article in articles:
        page = f"{article.docname}.html"
        assert (html.outdir / page).is_file()
        assert sitemap[page] == 1, f"{page} appears {sitemap[page]} times in the sitemap"
        assert entries[html_baseurl + page] == 1, f"{page}: {entries[html_baseurl + page]} entries"
        archives = [f"articles/category/{slugify(article.fields['category'])}.html"]
        archives += [f"articles/tag/{slugify(tag)}.html" for tag in article.fields["tags"]]
        for archive in archives:
            links = Counter(
                urljoin(archive, href) for href in postlist_links(html.outdir / archive)
            )
            assert links[page] == 1, f"{page} is listed {links[page]} times in {archive}"
        assert bookmarks[squash(article.title)] == 1, f"{article.docname} in the PDF outline"


def test_nothing_else_claims_to_be_an_article(html: Build, articles) -> None:
    from tests.conftest import CONF

    html_baseurl = CONF["html_baseurl"]

    expected = {a.docname for a in articles}
    env = html.environment()
    assert set(env.ablog_posts) == expected
    feed = ElementTree.parse(html.outdir / "articles" / "atom.xml").getroot()
    in_feed = {
        e.find(f"{ATOM}link").get("href").removeprefix(html_baseurl).removesuffix(".html")
        for e in feed.iter(f"{ATOM}entry")
    }
    assert in_feed == expected
    # An article page opens its main content with the publication line.
    opening = re.compile(r'id="furo-main-content">\s*<p class="handbook-article-meta">')
    with_meta = {
        p.relative_to(html.outdir).with_suffix("").as_posix()
        for p in pages(html)
        if opening.search(p.read_text(encoding="utf-8"))
    }
    assert with_meta == expected


# -- Published URLs never vanish -----------------------------------------------------


def test_every_published_url_still_has_a_page_or_a_redirect(html: Build) -> None:
    missing = [path for path in read_manifest(ROOT) if not (html.outdir / path).is_file()]
    assert not missing, (
        "published URLs with neither a page nor a redirect; add a redirect in "
        f"docs/redirects.yaml (or use `nox -s rename`): {missing}"
    )


def test_every_page_is_in_the_manifest(html: Build) -> None:
    unrecorded = sorted(set(sitemap_paths(html)) - set(read_manifest(ROOT)))
    assert not unrecorded, f"run `python3 -m nox -s urls` to record: {unrecorded}"


@pytest.mark.builds
def test_renaming_an_article_keeps_its_old_url(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "handbook")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "commands.urls",
            "--root",
            str(project),
            "rename",
            "resilience/slow-dependencies",
            "resilience/containing-slow-dependencies",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    build = build_html(project, tmp_path / "out")
    assert build.returncode == 0, build.log[-3000:]
    old = (build.outdir / "resilience" / "slow-dependencies.html").read_text()
    assert 'url=containing-slow-dependencies.html"' in old.replace("'", '"')
    assert (build.outdir / "resilience" / "containing-slow-dependencies.html").is_file()
    assert "resilience/containing-slow-dependencies.html" in read_manifest(project)


# -- Valid feeds ---------------------------------------------------------------------


def test_feeds_are_valid_atom(html: Build) -> None:
    feeds = sorted(html.outdir.rglob("atom.xml"))
    assert len(feeds) > 5
    for path in feeds:
        feed = ElementTree.parse(path).getroot()
        name = path.relative_to(html.outdir)
        assert feed.tag == f"{ATOM}feed", name
        for required in ("id", "title", "updated"):
            assert feed.find(f"{ATOM}{required}") is not None, f"{name} lacks <{required}>"
        assert RFC3339.fullmatch(feed.find(f"{ATOM}updated").text), name
        assert feed.find(f"{ATOM}author/{ATOM}name") is not None, f"{name} has no author"
        assert any(link.get("rel") == "self" for link in feed.findall(f"{ATOM}link")), name
        ids = []
        for entry in feed.findall(f"{ATOM}entry"):
            for required in ("id", "title", "updated"):
                assert entry.find(f"{ATOM}{required}") is not None, f"{name}: <{required}>"
            for stamp in ("updated", "published"):
                element = entry.find(f"{ATOM}{stamp}")
                assert element is None or RFC3339.fullmatch(element.text), f"{name}: {stamp}"
            ids.append(entry.find(f"{ATOM}id").text)
            for link in entry.findall(f"{ATOM}link"):
                assert urlsplit(link.get("href")).scheme in {"http", "https"}, name
        assert all(urlsplit(i).scheme for i in ids) and len(ids) == len(set(ids)), name
