"""Articles in the build: check them, and use their front matter.

The schema and the checks live in :mod:`handbook.frontmatter`; this module
runs them while Sphinx reads the handbook and reports each problem as a
warning that names the file and line and says what to do, so ``-W`` fails
the build. Checks run after reading (``env-check-consistency``) over every
page, so a change to the tag vocabulary or to another file re-checks all.

It also puts the front matter to use: the ``description`` becomes the post's
excerpt (archive pages, Atom feed), and the page's ``<meta name="description">``
and link-preview description (:mod:`handbook.reader`); a page without one of
its own has ``handbook_description`` (``conf.py``) there instead.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

from handbook.frontmatter import (
    Article,
    SourceFacts,
    across_articles,
    article_body_problems,
    duplicate_slug_problems,
    front_matter_block,
    front_matter_problems,
    is_valid_date,
    load_tags,
    load_topics,
    read_article,
    scan_source,
    source_problems,
)

logger = logging.getLogger(__name__)
STORES = ("handbook_articles", "handbook_sources")  # environment attributes this module owns
STAND_IN_DATE = "2000-01-01"  # replaces a refused date in what ABlog reads (defuse)


def articles(env: BuildEnvironment) -> dict[str, Article]:
    """The parsed front matter of every article read so far, by docname."""
    return env.__dict__.setdefault("handbook_articles", {})


def sources(env: BuildEnvironment) -> dict[str, SourceFacts]:
    """What the checks need from each page's body, by docname."""
    return env.__dict__.setdefault("handbook_sources", {})


def read_source(app: Sphinx, docname: str, source: list[str]) -> None:
    """Record a page's labels and fences, and an article's front matter.

    Front matter that the checks will refuse is also defused in the text the
    parsers get, line for line, so that the build ends with the checks'
    message instead of a crash or a second, misleading one: a date that is not
    YYYY-MM-DD (ABlog compares dates with and without a time zone and raises),
    an unclosed block (docutils would read its '---' as a transition), a block
    that is not YAML (MyST would report it a second time, at another line),
    and a ``{post}`` directive in an article (ABlog would log an unlocated
    warning and publish a second, undated post).
    """
    facts = scan_source(source[0])
    sources(app.env)[docname] = facts
    article = read_article(docname, source[0])
    if article is None:
        return
    articles(app.env)[docname] = article
    source[0] = defuse(source[0], article, facts.post_directives)


def defuse(text: str, article: Article, post_directives: list[int]) -> str:
    """``text`` with what the checks refuse made harmless, line numbers kept."""
    lines = text.split("\n")
    for line in post_directives:
        lines[line - 1] = lines[line - 1].replace("{post}", "text", 1)  # now a code block
    if article.unclosed_at is not None:
        lines[0] = ""  # the checks report the missing '---'; no transition, no front matter
        return "\n".join(lines)
    if article.yaml_error_line is not None:
        block = front_matter_block(text).split("\n")  # ends with '' after a line break
        span = len(block) - (block[-1] == "")
        lines[:span] = [""] * span  # the checks report the line of the YAML error
        return "\n".join(lines)
    for key in ("date", "reviewed"):
        value, line = article.fields.get(key), article.lines.get(key)
        if line is not None and not (isinstance(value, str) and is_valid_date(value)):
            # A stand-in the checks never see: they read the original text.
            lines[line - 1] = f"{key}: {STAND_IN_DATE}"
    return "\n".join(lines)


def warn(docname: str, line: int, message: str, subtype: str) -> None:
    """Report one contributor mistake at its file and line."""
    logger.warning(message, location=(docname, line), type="handbook", subtype=subtype)


def topics(srcdir: str | Path, config: Config) -> dict[str, str]:
    """The topics, from ``docs/topics.yaml``: folder -> title, in the order listed."""
    return load_topics(Path(srcdir) / config.handbook_topics_file)


def check_everything(app: Sphinx, env: BuildEnvironment) -> None:
    """Run every check over every page once reading has finished."""
    tags = load_tags(Path(env.srcdir) / app.config.handbook_tags_file)
    topic_titles = topics(env.srcdir, app.config)
    today = dt.datetime.now(dt.UTC).date()
    basenames = {name.rpartition("/")[2] for name in env.found_docs}
    found = articles(env)
    in_a_toctree = {child for children in env.toctree_includes.values() for child in children}
    for docname in sorted(env.found_docs):
        facts = sources(env).get(docname)
        if facts is not None:
            for line, message in source_problems(facts, basenames, docname in found):
                warn(docname, line, message, "source")
    duplicates = duplicate_slug_problems(found.values())
    label_owners, same_titles = across_articles(
        {docname: facts for docname in found if (facts := sources(env).get(docname))}
    )
    for docname, article in sorted(found.items()):
        problems = front_matter_problems(article, topic_titles, tags, today)
        for line, message in problems + duplicates.get(docname, []):
            warn(docname, line, message, "front-matter")
        facts = sources(env).get(docname)
        body = article_body_problems(facts, docname, label_owners) if facts is not None else []
        for line, message in body + same_titles.get(docname, []):
            warn(docname, line, message, "source")
        if docname not in in_a_toctree:
            warn(
                docname,
                1,
                f"the article is in no toctree, so readers cannot reach it; "
                f"add '{docname}' to the toctree at the end of "
                f"docs/{article.topic}.md",
                "toctree",
            )


def use_description_as_excerpt(app: Sphinx, doctree: nodes.document) -> None:
    """Make the article's description its ABlog excerpt (archives and feeds)."""
    article = articles(app.env).get(app.env.docname)
    posts = getattr(app.env, "ablog_posts", {}).get(app.env.docname)
    if article is None or not posts or not article.description:
        return
    for post in posts:
        # Inline, because ABlog wraps the excerpt in a paragraph of its own.
        post["excerpt"] = [nodes.inline(article.description, article.description)]


def page_description(app: Sphinx, pagename: str) -> str:
    """The page's own front-matter description on one line, else the handbook's."""
    own = app.env.metadata.get(pagename, {}).get("description")
    return " ".join(str(own or app.config.handbook_description).split())


def add_meta_description(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Give every page one ``<meta name="description">``."""
    description = page_description(app, pagename)
    if description:
        text = html.escape(description, quote=True)
        context["metatags"] = context.get("metatags", "") + (
            f'\n    <meta name="description" content="{text}" />'
        )


def purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    """Forget what was recorded about a page before it is read again."""
    for store in STORES:
        env.__dict__.setdefault(store, {}).pop(docname, None)


def merge(app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment) -> None:
    """Merge what parallel readers recorded."""
    for store in STORES:
        theirs = other.__dict__.get(store, {})
        mine = env.__dict__.setdefault(store, {})
        mine.update({name: theirs[name] for name in docnames if name in theirs})


def setup(app: Sphinx) -> None:
    """Register the configuration values and connect the handlers."""
    app.add_config_value("handbook_topics_file", "topics.yaml", "env", str)
    app.add_config_value("handbook_tags_file", "tags.yaml", "env", str)
    app.add_config_value("handbook_repository_url", "", "html", str)
    app.add_config_value("handbook_description", "", "html", str)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("source-read", read_source)
    app.connect("env-check-consistency", check_everything)
    # After ABlog's own doctree-read handler (priority 500) has recorded the post.
    app.connect("doctree-read", use_description_as_excerpt, priority=600)
    app.connect("html-page-context", add_meta_description)
