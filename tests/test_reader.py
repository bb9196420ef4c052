"""Reader features in the built HTML: reading time, related articles, review and
owner, "last updated" from git, edit links, link previews and the 404 page."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import math
import os
import random
import re
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser
from docutils.utils import new_document

from handbook.reader import WORDS_PER_MINUTE, RelatedIndex, reading_minutes
from tests.conftest import Article, copy_project, find_articles
from tests.shared import Build, build_html
from tests.test_content import prose_words

META = re.compile(r'<meta (name|property)="([^"]+)" content="([^"]*)"')
LAST_UPDATED = re.compile(r'<div class="last-updated">\s*Last updated on ([0-9-]+)')


def meta_tags(page: str) -> list[tuple[str, str]]:
    """(name or property, content) of every ``<meta>`` tag, content unescaped."""
    return [(key, html_lib.unescape(value)) for _, key, value in META.findall(page)]


def related_links(page: str) -> list[str]:
    """The links of an article's "Related articles" section."""
    section = re.search(r'<section class="handbook-related".*?</section>', page, re.S)
    assert section, "the article has no related-articles section"
    return re.findall(r'<li><a href="([^"]+)"', section.group(0))


def test_reading_time_counts_prose_and_not_code() -> None:
    document = new_document("<test>", get_default_settings(Parser))
    document += nodes.paragraph(text=" ".join(["word"] * 450))
    document += nodes.literal_block(text=" ".join(["code"] * 1000))
    assert reading_minutes(document) == 3  # 450 words at 200 a minute, rounded up
    assert reading_minutes(new_document("<empty>", get_default_settings(Parser))) == 1


def test_every_article_shows_a_reading_time_that_fits_its_prose(
    html: Build, articles: list[Article]
) -> None:
    # Counted independently from the source (tests/test_content.py's counter,
    # which leaves out code): the page counts tables and captions too, so it
    # may show a little more, never less, and never the code's share.
    for article in articles:
        page = html.page(f"{article.docname}.html")
        found = re.search(r'class="handbook-reading-time">(\d+) min read<', page)
        assert found, article.docname
        prose = prose_words(article) / WORDS_PER_MINUTE
        assert math.ceil(prose) <= int(found.group(1)) <= math.ceil(prose * 1.2) + 1, (
            article.docname,
            found.group(1),
            prose,
        )


def fake_env(links: dict[str, list[str]], docs: set[str] | None = None) -> SimpleNamespace:
    """Just enough of a build environment for ranking: docs and their references."""
    docs = docs or {"a/one", "a/two", "a/three", "b/four", "b/five", "b/six"}
    return SimpleNamespace(
        found_docs=docs,
        domaindata={"std": {"labels": {}, "anonlabels": {}}},
        handbook_xrefs={name: [("doc", target) for target in links.get(name, [])] for name in docs},
    )


def post(docname: str, tags: list[str], day: int) -> SimpleNamespace:
    """A published post as ABlog describes it."""
    return SimpleNamespace(docname=docname, tags=tags, date=dt.datetime(2025, 1, day))


def test_related_articles_rank_links_then_tags_then_topic_then_date() -> None:
    posts = [
        post("a/one", ["retries", "timeouts"], 1),
        post("a/two", ["timeouts"], 2),  # one shared tag
        post("a/three", [], 3),  # same topic only
        post("b/four", [], 4),  # linked from a/one
        post("b/five", [], 5),  # links to a/one
        post("b/six", [], 28),  # nothing in common, newest
    ]
    env = fake_env({"a/one": ["b/four"], "b/five": ["a/one"]})
    index = RelatedIndex.build(env, posts)  # type: ignore[arg-type]
    ranked = index.related("a/one")
    assert ranked == ["b/five", "b/four", "a/two", "a/three"]
    # With nothing in common at all, the list is still never empty.
    assert index.related("b/six")[:1] == ["b/five"]
    for docname in {p.docname for p in posts}:
        names = index.related(docname)
        assert names and docname not in names


def test_related_articles_index_matches_comparing_every_pair() -> None:
    # The index compares an article only with those it shares links or tags with;
    # the result must be what ranking every other article by the rule gives.
    generator = random.Random(7)
    names = [f"{topic}/p{number}" for topic in "abc" for number in range(40)]
    vocabulary = ["t1", "t2", "t3", "t4", "t5", "t6"]
    posts = [
        post(name, generator.sample(vocabulary, generator.randint(0, 2)), generator.randint(1, 9))
        for name in names
    ]
    links = {name: generator.sample(names, generator.choice([0, 0, 1, 3])) for name in names}
    index = RelatedIndex.build(fake_env(links, set(names)), posts)  # type: ignore[arg-type]
    for one in posts:

        def key(other: SimpleNamespace, one: SimpleNamespace = one) -> tuple:
            both = (other.docname in links[one.docname]) + (one.docname in links[other.docname])
            shared = len(set(one.tags) & set(other.tags))
            same_topic = other.docname[0] == one.docname[0]
            return (-both, -shared, not same_topic, -other.date.toordinal(), other.docname)

        others = sorted((p for p in posts if p is not one), key=key)
        assert index.related(one.docname) == [p.docname for p in others[:4]], one.docname


def test_every_article_lists_other_articles_as_related(
    html: Build, articles: list[Article]
) -> None:
    if len(articles) < 2:
        pytest.fail("related articles need at least two articles")
    pages = {f"{a.docname}.html" for a in articles}
    for article in articles:
        links = related_links(html.page(f"{article.docname}.html"))
        assert 1 <= len(links) <= 4, article.docname
        targets = {
            os.path.normpath(os.path.join(os.path.dirname(article.docname), link)) for link in links
        }
        assert f"{article.docname}.html" not in targets, f"{article.docname} lists itself"
        assert targets <= pages, f"{article.docname} lists a page that is no article: {targets}"


def cross_references(articles: list[Article]) -> dict[str, set[str]]:
    """For each article, the articles it links to with {ref} or that link to it with {ref}."""
    owner = {}
    for article in articles:
        for label in re.findall(r"^\(([^()\s]+)\)=\s*$", article.path.read_text("utf-8"), re.M):
            owner[label] = article.docname
    linked: dict[str, set[str]] = {a.docname: set() for a in articles}
    for article in articles:
        text = article.path.read_text("utf-8")
        # {ref}`text <label>` or a bare {ref}`label`, which shows the target's title
        for titled, bare in re.findall(r"\{ref\}`(?:[^`]*?<([^>`]+)>|([^`<>]+))`", text):
            target = owner.get(titled or bare)
            if target and target != article.docname:
                linked[article.docname].add(target)
                linked[target].add(article.docname)
    return linked


def test_a_cross_referenced_article_ranks_first(html: Build, articles: list[Article]) -> None:
    checked = 0
    for docname, linked in cross_references(articles).items():
        if not linked:
            continue
        first = related_links(html.page(f"{docname}.html"))[0]
        target = os.path.normpath(os.path.join(os.path.dirname(docname), first))
        assert target.removesuffix(".html") in linked, (docname, first, linked)
        checked += 1
    assert checked, "no article cross-references another, so nothing was checked"


def test_edit_link_points_to_the_source_on_articles_only(
    html: Build, articles: list[Article]
) -> None:
    from tests.conftest import CONF

    REPOSITORY_URL = CONF["REPOSITORY_URL"]

    for article in articles:
        page = html.page(f"{article.docname}.html")
        link = f'href="{REPOSITORY_URL}/edit/main/docs/{article.docname}.md" rel="edit"'
        assert link in page, article.docname
    assert 'rel="edit"' not in html.page("articles.html"), "a generated page has an edit link"


def test_link_previews_have_title_description_and_image(
    html: Build, articles: list[Article]
) -> None:
    from tests.conftest import CONF

    handbook_description = CONF["handbook_description"]
    html_baseurl, project = CONF["html_baseurl"], CONF["project"]

    for article in articles:
        tags = dict(meta_tags(html.page(f"{article.docname}.html")))
        description = " ".join(article.fields["description"].split())
        assert tags["og:site_name"] == project
        assert tags["og:title"] == tags["twitter:title"] == article.title
        assert tags["og:description"] == tags["twitter:description"] == description
        assert tags["og:type"] == "article"
        assert tags["og:url"] == f"{html_baseurl}{article.docname}.html"
        assert tags["article:published_time"] == article.fields["date"]
        assert tags["twitter:card"] == "summary_large_image"
        image = tags["og:image"]
        assert image == tags["twitter:image"] and image.startswith(html_baseurl)
        assert (html.outdir / image.removeprefix(html_baseurl)).is_file(), image
        assert tags["og:image:alt"] and tags["og:image:alt"] == tags["twitter:image:alt"]
    home = dict(meta_tags(html.page("index.html")))
    assert home["og:type"] == "website"
    assert home["og:title"] == home["twitter:title"] == project
    assert home["og:url"] == f"{html_baseurl}index.html"
    # An ABlog archive: generated, without a source of its own, yet previewed alike.
    archive = dict(meta_tags(html.page("articles.html")))
    assert archive["og:type"] == "website"
    assert archive["og:title"] == archive["twitter:title"] == "All Posts"
    assert archive["description"] == archive["og:description"] == handbook_description
    assert archive["og:image"] == home["og:image"] == archive["twitter:image"]
    assert archive["twitter:card"] == "summary_large_image"
    assert "article:published_time" not in archive


# Pages a preview is not made for: their titles are set by their templates, too
# late for the link-preview tags (handbook/reader.py); the sitemap leaves them out too.
NO_PREVIEW = {"search.html", "genindex.html"}


def test_every_page_has_one_description_and_one_preview_description(
    html: Build, articles: list[Article]
) -> None:
    # The handbook writes <meta name="description"> and sphinxext-opengraph
    # could write one too; a page with two, or with og:description different
    # from it, shows readers one description in search results and another
    # in link previews.
    own = {f"{a.docname}.html": " ".join(a.fields["description"].split()) for a in articles}
    pages = sorted(p for p in html.outdir.rglob("*.html") if "_static" not in p.parts)
    assert len(pages) > len(own)
    for path in pages:
        name = path.relative_to(html.outdir).as_posix()
        tags = meta_tags(path.read_text(encoding="utf-8"))
        keys = [key for key, _ in tags]
        assert keys.count("description") == 1, name
        previewed = [k for k in keys if k.startswith(("og:", "twitter:", "article:published"))]
        assert len(previewed) == len(set(previewed)), (name, previewed)  # each tag once
        if name in NO_PREVIEW:
            assert "og:description" not in keys, name
            continue
        assert keys.count("og:description") == 1, name
        values = dict(tags)
        assert values["og:description"] == values["description"], name
        if name in own:
            assert values["description"] == own[name], name


def test_not_found_page_links_are_absolute(html: Build) -> None:
    from tests.conftest import CONF

    notfound_urls_prefix = CONF["notfound_urls_prefix"]

    page = html.page("404.html")
    assert "<h1>Page not found</h1>" in page
    links = re.findall(r'(?:href|src|action)="([^"]+)"', page)
    assert len(links) > 10
    for link in links:
        assert link.startswith((notfound_urls_prefix, "https://", "#")), link


# -- Review, owner and "last updated": builds of a changed copy of the handbook --


def git(folder: Path, *args: str, date: str | None = None) -> str:
    """Run git in ``folder``, with a fixed identity and, if given, commit date."""
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    if date:
        env |= {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.org"]
    done = subprocess.run(
        ["git", *identity, *args], cwd=folder, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def set_front_matter(path: Path, **fields: str | None) -> None:
    """Set (or, with None, remove) top-level keys of a file's front matter."""
    text = path.read_text(encoding="utf-8")
    end = text.index("\n---", 3)
    lines = [line for line in text[:end].split("\n") if line.split(":", 1)[0].strip() not in fields]
    lines += [f"{key}: {value}" for key, value in fields.items() if value is not None]
    path.write_text("\n".join(lines) + text[end:], encoding="utf-8")


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """A git copy of the handbook where the oldest article was reviewed when it was
    published, by an owner, the newest was reviewed today, without owner, and a
    third has neither field; built with a review period of 0 days, so the first
    review is overdue and the second is not.

    Three commits: everything on 2024-01-02, the oldest article's review on
    2024-03-05, the newest article's on 2024-06-07.
    """
    project = copy_project(tmp_path_factory.mktemp("reviewed") / "project")
    found = sorted(find_articles(project), key=lambda a: (a.fields["date"], a.docname))
    old, new, other = found[0], found[-1], found[1]
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert old.fields["date"] < today, "the oldest article must be older than today"
    set_front_matter(other.path, reviewed=None, owner=None)
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "first", date="2024-01-02T12:00:00+00:00")
    set_front_matter(old.path, reviewed=old.fields["date"], owner="platform-team")
    git(project, "commit", "-q", "-am", "second", date="2024-03-05T12:00:00+00:00")
    set_front_matter(new.path, reviewed=today, owner=None)
    git(project, "commit", "-q", "-am", "third", date="2024-06-07T12:00:00+00:00")
    build = build_html(project, project / "_build", "-D", "handbook_review_period_days=0")
    assert build.returncode == 0, build.log
    return SimpleNamespace(project=project, build=build, old=old, new=new, other=other, today=today)


@pytest.mark.builds
def test_overdue_review_shows_a_notice_and_the_owner(reviewed: SimpleNamespace) -> None:
    page = reviewed.build.page(f"{reviewed.old.docname}.html")
    date = reviewed.old.fields["date"]
    assert 'class="admonition warning handbook-stale-review"' in page
    assert f'last reviewed on <time datetime="{date}">' in page
    assert "tell its owner, platform-team." in page
    assert '<span class="handbook-owner">Owner: platform-team</span>' in page
    assert "review overdue since" in page


@pytest.mark.builds
def test_current_review_shows_the_due_date_and_no_notice(reviewed: SimpleNamespace) -> None:
    page = reviewed.build.page(f"{reviewed.new.docname}.html")
    assert "handbook-stale-review" not in page
    assert f'Last reviewed <time datetime="{reviewed.today}">' in page
    assert "next review due" in page
    assert "handbook-owner" not in page  # no owner in its front matter: nothing shown


@pytest.mark.builds
def test_an_article_without_review_fields_shows_neither(reviewed: SimpleNamespace) -> None:
    page = reviewed.build.page(f"{reviewed.other.docname}.html")
    assert "handbook-review" not in page and "handbook-stale-review" not in page


@pytest.mark.builds
def test_last_updated_is_each_files_last_commit(reviewed: SimpleNamespace) -> None:
    for article, date in (
        (reviewed.other, "2024-01-02"),
        (reviewed.old, "2024-03-05"),
        (reviewed.new, "2024-06-07"),
    ):
        page = reviewed.build.page(f"{article.docname}.html")
        assert LAST_UPDATED.search(page).group(1) == date, article.docname
        assert f'<meta property="article:modified_time" content="{date}T12:00:00' in page


@pytest.mark.builds
def test_shallow_clone_builds_and_dates_only_what_it_knows(
    reviewed: SimpleNamespace, tmp_path: Path
) -> None:
    """Read the Docs clones shallowly: the build must pass, with no wrong dates."""
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "2", reviewed.project.as_uri(), str(clone))
    assert git(clone, "rev-parse", "--is-shallow-repository").strip() == "true"
    build = build_html(clone, clone / "_build")
    assert build.returncode == 0, build.log
    # The clone holds the last two commits: the third's change is dated, while
    # what the second shows may have changed earlier, before the clone starts.
    assert LAST_UPDATED.search(build.page(f"{reviewed.new.docname}.html")).group(1) == "2024-06-07"
    for article in (reviewed.old, reviewed.other):
        assert not LAST_UPDATED.search(build.page(f"{article.docname}.html")), article.docname


@pytest.mark.builds
def test_without_git_no_page_claims_a_last_update(tmp_path: Path) -> None:
    """Outside git, Sphinx would show the build date as "last updated"; it must not."""
    project = copy_project(tmp_path / "project")
    build = build_html(project, tmp_path / "out")
    assert build.returncode == 0, build.log
    for article in find_articles(project):
        assert not LAST_UPDATED.search(build.page(f"{article.docname}.html")), article.docname
