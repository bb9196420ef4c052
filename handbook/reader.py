"""What a reader sees around an article, and what a link preview shows.

- **Reading time**: the words of the article's prose (code blocks left out)
  at :data:`WORDS_PER_MINUTE`, shown in the publication line.
- **Review and owner**: the optional front-matter fields ``reviewed``
  (``YYYY-MM-DD``) and ``owner`` are shown at the foot of the article; when
  the review is older than ``handbook_review_period_days`` (``conf.py``), a
  notice at the top says the article may be out of date. A field that is
  absent shows nothing.
- **Related articles**: up to :data:`RELATED_COUNT` other articles, ranked by
  explicit cross-references between the two (either direction), then shared
  tags, then same topic, then newest; never the article itself, never empty
  while the handbook has another article.
- **Last updated**: from git, through sphinx-last-updated-by-git, when the
  sources are in a git work tree; a copy of the sources without git shows no
  date rather than the build date (see :func:`setup`).
- **Link previews**: OpenGraph and Twitter-card ``<meta>`` tags (title,
  description, site image) on every page, and a ``<meta name="description">``
  from ``handbook_description`` on pages that have no description of their
  own (articles and topic pages have one, see :mod:`handbook.articles`).

The templates are ``templates/handbook/article-meta.html`` (top of an
article) and ``templates/handbook/article-footer.html`` (foot of an article).
"""

from __future__ import annotations

import datetime as dt
import heapq
import html
import math
import subprocess
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docutils import nodes
from markupsafe import Markup
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.environment import BuildEnvironment

from handbook import incremental

WORDS_PER_MINUTE = 200  # a careful reading pace for technical prose
RELATED_COUNT = 4


@dataclass(frozen=True)
class Review:
    """The review state of one article."""

    reviewed: dt.date
    due: dt.date
    stale: bool
    period_days: int


@dataclass(frozen=True)
class RelatedArticle:
    """One entry of an article's "Related articles" list."""

    title: str
    link: str
    description: str


def reading_minutes(doctree: nodes.Node) -> int:
    """Minutes to read a page's prose, at least one; code blocks are not counted."""
    words = 0
    for text in doctree.findall(nodes.Text):
        if not any(isinstance(parent, nodes.literal_block) for parent in _ancestors(text)):
            words += len(text.astext().split())
    return max(1, math.ceil(words / WORDS_PER_MINUTE))


def _ancestors(node: nodes.Node) -> list[nodes.Node]:
    """The parents of a node, nearest first."""
    found = []
    parent = node.parent
    while parent is not None:
        found.append(parent)
        parent = parent.parent
    return found


def review_state(fields: dict[str, Any], period_days: int, today: dt.date) -> Review | None:
    """The review state from front matter, or None when ``reviewed`` is absent or invalid."""
    value = fields.get("reviewed")
    if not isinstance(value, str):
        return None
    try:
        reviewed = dt.date.fromisoformat(value.strip())
    except ValueError:
        return None  # the front-matter checks report the mistake
    due = reviewed + dt.timedelta(days=period_days)
    return Review(reviewed, due, today > due, period_days)


RELATED = "_handbook_related"  # this build's RelatedIndex, kept on the app, never pickled


@dataclass
class RelatedIndex:
    """What ranking related articles needs, computed once per build.

    Ranking compared every article with every other one, which is quadratic
    in the number of articles; with this index an article is compared only
    with the articles it links to, that link to it, or that share a tag with
    it, and the rest are taken newest first when those are too few.
    """

    topics: dict[str, str]
    tags: dict[str, set[str]]
    by_tag: dict[str, list[str]]
    outgoing: dict[str, set[str]]
    incoming: dict[str, set[str]]
    newest: list[str]  # every article, newest first, ties by name
    position: dict[str, int]  # each article's place in ``newest``

    @classmethod
    def build(cls, env: BuildEnvironment, posts: Iterable[Any]) -> RelatedIndex:
        """Index ABlog's published ``posts`` (with ``docname``, ``tags`` and ``date``)."""
        posts = list(posts)
        names = {post.docname for post in posts}
        tags: dict[str, set[str]] = {name: set() for name in names}
        by_tag: dict[str, list[str]] = {}
        for post in posts:
            for tag in {str(tag) for tag in post.tags} - tags[post.docname]:
                tags[post.docname].add(tag)
                by_tag.setdefault(tag, []).append(post.docname)
        xrefs = getattr(env, incremental.XREFS, {})
        outgoing = {
            name: incremental.resolve(env, xrefs.get(name, [])) & names - {name} for name in names
        }
        incoming: dict[str, set[str]] = {name: set() for name in names}
        for name, targets in outgoing.items():
            for target in targets:
                incoming[target].add(name)
        dates = {post.docname: post.date.toordinal() for post in posts}
        newest = sorted(names, key=lambda name: (-dates[name], name))
        return cls(
            topics={name: name.partition("/")[0] for name in names},
            tags=tags,
            by_tag=by_tag,
            outgoing=outgoing,
            incoming=incoming,
            newest=newest,
            position={name: place for place, name in enumerate(newest)},
        )

    def related(self, docname: str, count: int = RELATED_COUNT) -> list[str]:
        """The ``count`` articles most related to ``docname``, best first.

        Ranked by the cross-references between the two (one for each
        direction), then by the number of tags they share, then those of the
        same topic first, then the newest first.
        """
        if docname not in self.topics:
            return []
        out, into, topic = self.outgoing[docname], self.incoming[docname], self.topics[docname]
        shared = Counter(other for tag in self.tags[docname] for other in self.by_tag[tag])

        def rank(other: str) -> tuple[int, int, bool, int]:
            links = (other in out) + (other in into)
            return (-links, -shared[other], self.topics[other] != topic, self.position[other])

        candidates = (out | into | shared.keys()) - {docname}
        best = heapq.nsmallest(count, candidates, key=rank)
        if len(best) < count:  # too few in common: the same topic, then any, newest first
            taken = {docname, *best}
            rest = [name for name in self.newest if self.topics[name] == topic] + [
                name for name in self.newest if self.topics[name] != topic
            ]
            best += [name for name in rest if name not in taken][: count - len(best)]
        return best


def reset_related(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """Start each build's write phase without a related-articles index."""
    setattr(app, RELATED, None)
    return []


def related_index(app: Sphinx, posts: Iterable[Any]) -> RelatedIndex:
    """This build's index, made on first use (``posts`` is read only then)."""
    index = getattr(app, RELATED, None)
    if index is None:
        index = RelatedIndex.build(app.env, posts)
        setattr(app, RELATED, index)
    return index


def plain_title(env: BuildEnvironment, pagename: str, context: dict[str, Any]) -> str:
    """The page's title as plain text."""
    if pagename in env.titles:
        return env.titles[pagename].astext()
    return Markup(context.get("title") or "").striptags()


def social_meta(app: Sphinx, pagename: str, context: dict[str, Any]) -> str:
    """OpenGraph and Twitter-card tags, and a fallback ``<meta name="description">``."""
    config = app.config
    env = app.env
    own_description = env.metadata.get(pagename, {}).get("description")
    description = " ".join(str(own_description or config.handbook_description).split())
    is_article = pagename in getattr(env, "handbook_articles", {})
    properties = {
        "og:site_name": config.project,
        "og:type": "article" if is_article else "website",
        "og:title": plain_title(env, pagename, context),
        "og:description": description,
    }
    if context.get("pageurl"):
        properties["og:url"] = context["pageurl"]
    if config.html_baseurl and config.handbook_social_image:
        image = config.html_baseurl.rstrip("/") + "/_static/" + config.handbook_social_image
        properties["og:image"] = image
        properties["og:image:alt"] = config.handbook_social_image_alt
    if is_article:
        fields = env.handbook_articles[pagename].fields  # type: ignore[attr-defined]
        if isinstance(fields.get("date"), str):
            properties["article:published_time"] = fields["date"]
    names = {
        "twitter:card": "summary_large_image" if "og:image" in properties else "summary",
        "twitter:title": properties["og:title"],
        "twitter:description": description,
    }
    if "og:image" in properties:
        names["twitter:image"] = properties["og:image"]
        names["twitter:image:alt"] = properties["og:image:alt"]
    if not own_description and description:
        names["description"] = description
    lines = [
        f'<meta property="{key}" content="{html.escape(value, quote=True)}" />'
        for key, value in properties.items()
    ]
    lines += [
        f'<meta name="{key}" content="{html.escape(value, quote=True)}" />'
        for key, value in names.items()
    ]
    return "".join(f"\n    {line}" for line in lines)


def add_reader_context(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Add link previews to every page and the reader features to articles."""
    context["metatags"] = context.get("metatags", "") + social_meta(app, pagename, context)
    env = app.env
    article = getattr(env, "handbook_articles", {}).get(pagename)
    blog = context.get("ablog")
    if article is None or doctree is None or blog is None:
        return
    today = dt.datetime.now(dt.UTC).date()
    related = []
    for docname in related_index(app, blog.posts).related(pagename):
        other = env.handbook_articles.get(docname)  # type: ignore[attr-defined]
        related.append(
            RelatedArticle(
                title=env.titles[docname].astext(),
                link=app.builder.get_relative_uri(pagename, docname),
                description=other.description if other else "",
            )
        )
    owner = article.fields.get("owner")
    context["handbook_article"] = {
        "reading_minutes": reading_minutes(doctree),
        "review": review_state(article.fields, app.config.handbook_review_period_days, today),
        "owner": " ".join(owner.split()) if isinstance(owner, str) and owner.strip() else None,
        "related": related,
    }


def in_git_work_tree(folder: Path) -> bool:
    """Whether ``folder`` is inside a git work tree that git can read."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--is-inside-work-tree"],
            cwd=folder,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:  # git is not installed
        return False
    return done.returncode == 0 and done.stdout.strip() == "true"


def no_build_date_as_last_updated(app: Sphinx, config: Config) -> None:
    """Without git, show no "last updated" date instead of Sphinx's build date."""
    config.html_last_updated_fmt = None


def setup(app: Sphinx) -> None:
    """Register the configuration values, the git dates and the handlers."""
    app.add_config_value("handbook_review_period_days", 365, "env", int)
    app.add_config_value("handbook_description", "", "html", str)
    app.add_config_value("handbook_social_image", "", "html", str)
    app.add_config_value("handbook_social_image_alt", "", "html", str)
    # "Last updated" from each source file's last commit. sphinx-last-updated-by-git
    # fails the build (a warning under -W) when the sources are not in a git work
    # tree, as in a copied project; there the dates are left out instead.
    if in_git_work_tree(Path(app.srcdir)):
        app.setup_extension("sphinx_last_updated_by_git")
    else:
        app.connect("config-inited", no_build_date_as_last_updated)
    app.connect("env-updated", reset_related)
    app.connect("html-page-context", add_reader_context)
