"""Article front matter: read it, check it, and put it to use.

An article is a Markdown file directly inside a topic folder of ``docs/``
(``conf.py``: ``handbook_topics``). Its front matter is::

    ---
    date: 2025-07-17                 # ISO date of publication
    category: Architecture and boundaries   # the title of the topic it lives in
    tags: [context-propagation, jobs]
    description: One or two sentences that say what the article is about.
    ---

Every mistake is reported as a Sphinx warning naming the file, the line and
the fix, so ``-W`` fails the build. The ``description`` becomes the post's
excerpt (archive pages, Atom feed) and the page's ``<meta name="description">``.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

logger = logging.getLogger(__name__)

REQUIRED = ("date", "category", "tags", "description")
DESCRIPTION_LENGTH = (40, 300)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*(?:\n|\Z)", re.S)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_LABEL = re.compile(r"^\(([^()\s]+)\)=\s*$")
_POST_DIRECTIVE = re.compile(r"^\s*(?:`{3,}|:{3,})\s*\{post\}")


@dataclass
class Article:
    """The checked front matter of one article."""

    docname: str
    topic: str
    fields: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)

    @property
    def description(self) -> str:
        """The one-paragraph summary of the article."""
        value = self.fields.get("description")
        return " ".join(value.split()) if isinstance(value, str) else ""


def topic_of(docname: str) -> str | None:
    """Return the topic folder of an article, or None for any other page."""
    folder, _, name = docname.partition("/")
    if not name or "/" in name:
        return None
    return folder


def parse_front_matter(text: str) -> tuple[dict[str, Any], dict[str, int], int | None]:
    """Parse YAML front matter into (fields, line of each key, line of a syntax error).

    Every scalar is kept as a string (``BaseLoader``) so that dates and
    numbers are checked as the contributor wrote them. Line numbers are
    1-based and count the opening ``---`` as line 1.
    """
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, {}, None
    try:
        root = yaml.compose(match.group(1), Loader=yaml.BaseLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        return {}, {}, (mark.line + 2 if mark else 1)
    if not isinstance(root, yaml.MappingNode):
        return {}, {}, 1
    fields: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in root.value:
        key = key_node.value
        lines[key] = key_node.start_mark.line + 2
        fields[key] = yaml.BaseLoader(match.group(1)).construct_object(value_node, deep=True)
    return fields, lines, None


def problems(article: Article, topics: dict[str, str], today: dt.date) -> list[tuple[int, str]]:
    """Return (line, message) for every front-matter mistake in ``article``."""
    found: list[tuple[int, str]] = []
    fields, lines = article.fields, article.lines
    title = topics.get(article.topic)
    if title is None:
        known = ", ".join(sorted(topics))
        return [
            (
                1,
                f"'{article.topic}/' is not a topic folder; move the article into one of "
                f"docs/{{{known}}}/ or add the topic to handbook_topics in conf.py",
            )
        ]
    for key in REQUIRED:
        if key not in fields:
            found.append(
                (
                    1,
                    f"front matter has no '{key}'; add a '{key}:' line between the "
                    "'---' lines (see the contributor guide for the schema)",
                )
            )
    date = fields.get("date")
    if isinstance(date, str):
        try:
            if not _ISO_DATE.fullmatch(date):
                raise ValueError(date)
            published = dt.date.fromisoformat(date)
        except ValueError:
            found.append(
                (
                    lines["date"],
                    f"date '{date}' is not an ISO date; write it as "
                    "YYYY-MM-DD, for example 2025-07-17",
                )
            )
        else:
            if published > today and fields.get("draft") != "true":
                found.append(
                    (
                        lines["date"],
                        f"date {date} is in the future, so ABlog would "
                        "hide the article as a draft; use today's date or "
                        "add 'draft: true'",
                    )
                )
    elif "date" in fields:
        found.append((lines["date"], "date must be a single ISO date such as 2025-07-17"))
    category = fields.get("category")
    if isinstance(category, list):
        found.append(
            (
                lines["category"],
                f"category must be one topic title, not a list; write 'category: {title}'",
            )
        )
    elif isinstance(category, str) and category != title:
        found.append(
            (
                lines["category"],
                f"category '{category}' does not match the topic "
                f"folder '{article.topic}/'; write 'category: {title}'",
            )
        )
    tags = fields.get("tags")
    if "tags" in fields and (not isinstance(tags, list) or not tags):
        found.append(
            (
                lines["tags"],
                "tags must be a non-empty YAML list, for example 'tags: [retries, timeouts]'",
            )
        )
    if isinstance(fields.get("author"), list):
        found.append(
            (
                lines["author"],
                "author must be one name, not a list; ABlog would split it into broken names",
            )
        )
    description = fields.get("description")
    if "description" in fields:
        low, high = DESCRIPTION_LENGTH
        if not isinstance(description, str) or not low <= len(article.description) <= high:
            found.append(
                (
                    lines["description"],
                    f"description must be one sentence or two of "
                    f"{low} to {high} characters saying what the "
                    "article is about",
                )
            )
    return found


def source_problems(text: str, basenames: set[str], is_article: bool) -> list[tuple[int, str]]:
    """Return (line, message) for mistakes in the body that ABlog would hide.

    - A label equal to a file's basename: ABlog registers every post's basename
      as a label and drops any label of that name when a file is re-read.
    - A ``{post}`` directive in an article: the front matter already makes it
      a post, and ABlog would create a second, undated one.
    """
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        label = _LABEL.match(line)
        if label and label.group(1) in basenames:
            found.append(
                (
                    number,
                    f"label '{label.group(1)}' is also a file name, which ABlog "
                    "takes over; rename the label, for example to "
                    f"'<topic>-{label.group(1)}'",
                )
            )
        if is_article and _POST_DIRECTIVE.match(line):
            found.append(
                (
                    number,
                    "remove this {post} directive: the front matter already "
                    "makes the file an article, and both together create a "
                    "second, undated post",
                )
            )
    return found


def read_front_matter(app: Sphinx, docname: str, source: list[str]) -> None:
    """Check a page's labels, and parse and check an article's front matter."""
    topic = topic_of(docname)
    basenames = {name.rpartition("/")[2] for name in app.env.found_docs}
    for line, message in source_problems(source[0], basenames, topic is not None):
        logger.warning(message, location=(docname, line), type="handbook", subtype="source")
    if topic is None:
        return
    fields, lines, error_line = parse_front_matter(source[0])
    if error_line is not None:
        logger.warning(
            "front matter is not valid YAML; check the indentation and quoting near this line",
            location=(docname, error_line),
            type="handbook",
            subtype="front-matter",
        )
        return
    article = Article(docname, topic, fields, lines)
    env = app.env
    env.handbook_articles[docname] = article  # type: ignore[attr-defined]
    today = dt.datetime.now(dt.UTC).date()
    for line, message in problems(article, app.config.handbook_topics, today):
        logger.warning(message, location=(docname, line), type="handbook", subtype="front-matter")


def use_description_as_excerpt(app: Sphinx, doctree: nodes.document) -> None:
    """Make the article's description its ABlog excerpt (archives and feeds)."""
    env = app.env
    article = env.handbook_articles.get(env.docname)  # type: ignore[attr-defined]
    posts = getattr(env, "ablog_posts", {}).get(env.docname)
    if article is None or not posts or not article.description:
        return
    for post in posts:
        # Inline, because ABlog wraps the excerpt in a paragraph of its own.
        post["excerpt"] = [nodes.inline(article.description, article.description)]


def add_meta_description(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Give every page with a description a ``<meta name="description">``."""
    description = app.env.metadata.get(pagename, {}).get("description")
    if description:
        text = html.escape(" ".join(str(description).split()), quote=True)
        context["metatags"] = context.get("metatags", "") + (
            f'\n    <meta name="description" content="{text}" />'
        )


def init_env(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    """Create the store of checked front matter in the environment."""
    if not hasattr(env, "handbook_articles"):
        env.handbook_articles = {}  # type: ignore[attr-defined]


def purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    """Forget a document's front matter before it is read again."""
    getattr(env, "handbook_articles", {}).pop(docname, None)


def merge(app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment) -> None:
    """Merge front matter read by parallel workers."""
    for docname in docnames:
        if docname in other.handbook_articles:  # type: ignore[attr-defined]
            env.handbook_articles[docname] = other.handbook_articles[docname]  # type: ignore[attr-defined]


def setup(app: Sphinx) -> None:
    """Register the configuration values and connect the handlers."""
    app.add_config_value("handbook_topics", {}, "env", dict)
    app.add_config_value("handbook_repository_url", "", "html", str)
    app.connect("env-before-read-docs", init_env)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("source-read", read_front_matter)
    # After ABlog's own doctree-read handler (priority 500) has recorded the post.
    app.connect("doctree-read", use_description_as_excerpt, priority=600)
    app.connect("html-page-context", add_meta_description)
