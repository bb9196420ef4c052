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
- **Link previews**: sphinxext-opengraph (configured in ``conf.py``) writes
  the OpenGraph tags (``og:title``, ``og:url``, ``og:site_name``, ``og:image``
  and its alt text) and, from ``ogp_custom_meta_tags``, ``twitter:card``.
  What it lacks is added here:

  - a description from front matter: it takes the first words of the page's
    text instead. The page's description (:func:`handbook.articles.page_description`,
    also its ``<meta name="description">``) goes in as its per-page
    ``og:description`` override, see :func:`link_preview_overrides`;
  - a type per page: it has one ``ogp_type`` for all pages; ``og:type`` is
    ``article`` on articles through the same overrides, ``website`` elsewhere;
  - pages without a doctree (ABlog's archives, the 404 page): it writes
    nothing on them, so its handler is run for them with an empty one. Search
    and the general index get no OpenGraph tags: their titles are set by their
    templates, after the handlers run, so neither could give one;
  - Twitter's names: it never writes ``twitter:title``,
    ``twitter:description``, ``twitter:image`` or ``twitter:image:alt``
    (and ``twitter:card`` only for the card images it draws, which the
    handbook does not use); they are copied from its ``og:`` tags
    (:func:`link_preview_extras`);
  - ``article:published_time``: it has no option for it; it comes from the
    article's front-matter ``date``.

The templates are ``templates/handbook/article-meta.html`` (top of an
article) and ``templates/handbook/article-footer.html`` (foot of an article).
"""

from __future__ import annotations

import datetime as dt
import heapq
import html
import math
import re
import subprocess
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.environment import BuildEnvironment
from sphinx.util.docutils import new_document
from sphinxext import opengraph

from handbook import articles, incremental, upstream

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


def link_preview_overrides(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Give sphinxext-opengraph the description and type it cannot find itself.

    They go in as its per-page ``og:`` overrides, the keys it reads from the
    page's metadata; a copy, so the environment is left as it was read.
    """
    context["meta"] = {
        **(context.get("meta") or {}),
        "og:description": articles.page_description(app, pagename),
        "og:type": "article" if pagename in articles.articles(app.env) else "website",
    }
    # Without a doctree (ABlog's archives, the 404 page) it would write nothing.
    # Search and the general index are left so: their title is set later, by
    # their templates, and a preview without one is no better than none.
    if doctree is None and "title" in context:
        context.setdefault("metatags", "")
        opengraph.html_page_context(app, pagename, templatename, context, new_document(pagename))


# sphinxext-opengraph's tags that Twitter's cards also have a name for, matched
# as the extension writes them (its content escaped: no double quote inside).
FOR_TWITTER = re.compile(
    r'<meta property="og:(title|description|image|image:alt)" content="([^"]*)" />'
)


def link_preview_extras(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Add what sphinxext-opengraph has no option for, after its tags.

    Twitter's names for its title, description and image (copied from its
    ``og:`` tags, so they cannot differ) and an article's ``article:published_time``.
    """
    tags = "".join(
        f'\n<meta name="twitter:{key}" content="{content}" />'
        for key, content in FOR_TWITTER.findall(context.get("metatags", ""))
    )
    article = articles.articles(app.env).get(pagename)
    if article is not None and isinstance(article.fields.get("date"), str):
        date = html.escape(article.fields["date"], quote=True)
        tags += f'\n<meta property="article:published_time" content="{date}" />'
    context["metatags"] = context.get("metatags", "") + tags


def add_reader_context(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Add the reader features to articles."""
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
    upstream.confirm("reader")  # sphinxext-opengraph's handler, which it calls for more pages
    app.add_config_value("handbook_review_period_days", 365, "env", int)
    # "Last updated" from each source file's last commit. sphinx-last-updated-by-git
    # fails the build (a warning under -W) when the sources are not in a git work
    # tree, as in a copied project; there the dates are left out instead.
    if in_git_work_tree(Path(app.srcdir)):
        app.setup_extension("sphinx_last_updated_by_git")
    else:
        app.connect("config-inited", no_build_date_as_last_updated)
    app.connect("env-updated", reset_related)
    app.connect("html-page-context", add_reader_context)
    # sphinxext-opengraph writes its tags at the default priority, 500: the
    # overrides go in before it, Twitter's names are copied after it.
    app.setup_extension("sphinxext.opengraph")
    app.connect("html-page-context", link_preview_overrides, priority=400)
    app.connect("html-page-context", link_preview_extras, priority=600)
