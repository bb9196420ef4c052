"""The article schema and every check a contributor's mistake can fail.

This module knows nothing about Sphinx: :mod:`handbook.articles` runs these
checks during the build and reports them as warnings with file and line,
and ``python -m commands.check FILE...`` (``nox -s check``, the pre-commit
hook) runs them on their own in a fraction of a second.

An article is a Markdown file directly inside a topic folder of ``docs/``.
Its front matter::

    ---
    date: 2025-07-17                        # publication date, YYYY-MM-DD
    category: Architecture and boundaries   # the title of its topic
    tags: [context-propagation, async-jobs] # from docs/tags.yaml
    description: One or two sentences saying what the article is about.
    reviewed: 2025-07-17                    # optional: last content review
    owner: platform-team                    # optional: who keeps it current
    keywords: [jobs lose the user, ...]     # optional: readers' words, for search
    ---
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REQUIRED = ("date", "category", "tags", "description")
OPTIONAL = ("reviewed", "owner", "draft", "keywords")
DESCRIPTION_LENGTH = (40, 300)
KEYWORDS_MAX, KEYWORD_LENGTH = 15, (2, 60)
PLACEHOLDER = "TODO"
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*(?:\n|\Z)", re.S)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_LABEL = re.compile(r"^\(([^()\s]+)\)=\s*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,}|:{3,})\s*(\S*)")
_TITLE = re.compile(r"^# (.+)$")
_YAML_LINE = re.compile(r"^([A-Za-z_][\w-]*:|[ \t]+\S|- )")  # a key, a continuation, an item

# libyaml's loader when PyYAML has it: the same result, several times faster.
_LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
Problem = tuple[int, str]  # (1-based line, message saying what is wrong and what to do)


@dataclass
class Article:
    """The parsed front matter of one article, with the line of each key."""

    docname: str
    topic: str
    fields: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    yaml_error_line: int | None = None
    unclosed_at: int | None = None  # last line of front matter whose closing '---' is missing

    @property
    def slug(self) -> str:
        """The file name without its folder and suffix."""
        return self.docname.rpartition("/")[2]

    @property
    def description(self) -> str:
        """The summary, with its white space collapsed."""
        value = self.fields.get("description")
        return " ".join(value.split()) if isinstance(value, str) else ""

    def line(self, key: str) -> int:
        """The line of ``key`` in the file, or the opening ``---`` when it is absent."""
        return self.lines.get(key, 1)


@dataclass
class SourceFacts:
    """What the checks need to know about a page's body."""

    labels: list[tuple[int, str]] = field(default_factory=list)
    post_directives: list[int] = field(default_factory=list)
    unclosed_fence: int | None = None
    titles: list[tuple[int, str]] = field(default_factory=list)  # '# ' headings outside code
    unclosed_front_matter: int | None = None  # the last line of a block that never closes


def topic_of(docname: str) -> str | None:
    """The topic folder of an article (``topic/slug``), or None for any other page."""
    folder, _, name = docname.partition("/")
    return folder if name and "/" not in name else None


def parse_front_matter(text: str) -> tuple[dict[str, Any], dict[str, int], int | None]:
    """Parse YAML front matter into (fields, line of each key, line of a syntax error).

    Scalars stay strings (``BaseLoader``), so dates and numbers are checked as
    the contributor wrote them. Lines are 1-based; the opening ``---`` is 1.
    """
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, {}, None
    try:
        root = yaml.compose(match.group(1), Loader=_LOADER)
    except yaml.YAMLError as error:
        # Where the broken construct starts (an unclosed "[" say) helps more than
        # where the parser gave up, which is often the next line.
        mark = getattr(error, "context_mark", None) or getattr(error, "problem_mark", None)
        return {}, {}, (mark.line + 2 if mark else 1)
    if not isinstance(root, yaml.MappingNode):
        return {}, {}, 1
    fields: dict[str, Any] = {}
    lines: dict[str, int] = {}
    loader = yaml.BaseLoader("")
    for key_node, value_node in root.value:
        lines[key_node.value] = key_node.start_mark.line + 2
        fields[key_node.value] = loader.construct_object(value_node, deep=True)
    return fields, lines, None


def read_article(docname: str, text: str) -> Article | None:
    """Parse an article's front matter; None when ``docname`` is not an article."""
    topic = topic_of(docname)
    if topic is None:
        return None
    fields, lines, error_line = parse_front_matter(text)
    return Article(docname, topic, fields, lines, error_line, unclosed_front_matter(text))


def scan_source(text: str) -> SourceFacts:
    """Find labels, ``{post}`` directives and a code fence that is never closed.

    Fences nest the way MyST reads them: a directive fence (``{name}``, or any
    colon fence) holds Markdown, so fences inside it open blocks of their own;
    a code block holds literal text, so nothing inside it counts.
    """
    facts = SourceFacts()
    stack: list[tuple[str, int, int, bool]] = []  # (character, length, line, is_directive)
    closed = _FRONT_MATTER.match(text)
    front_matter_end = text.count("\n", 0, closed.end()) if closed else 0
    for number, line in enumerate(text.splitlines(), start=1):
        top = stack[-1] if stack else None
        in_code = top is not None and not top[3]
        fence = _FENCE.match(line)
        if fence:
            marks, info = fence.groups()
            if top and marks[0] == top[0] and len(marks) >= top[1] and not info:
                stack.pop()
            elif not in_code:
                stack.append((marks[0], len(marks), number, marks[0] == ":" or info[:1] == "{"))
                if info == "{post}":
                    facts.post_directives.append(number)
            continue
        label = None if in_code else _LABEL.match(line)
        if label:
            facts.labels.append((number, label.group(1)))
        title = _TITLE.match(line) if not stack and number > front_matter_end else None
        if title:
            facts.titles.append((number, title.group(1).strip()))
    if stack:
        facts.unclosed_fence = stack[0][2]
    facts.unclosed_front_matter = unclosed_front_matter(text)
    return facts


def front_matter_block(text: str) -> str:
    """The front matter with its two '---' lines and the line break after them, or ''."""
    match = _FRONT_MATTER.match(text)
    return match.group(0) if match else ""


def unclosed_front_matter(text: str) -> int | None:
    """The last line of a front-matter block whose closing ``---`` is missing, else None."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---" or _FRONT_MATTER.match(text):
        return None
    last = 1
    for number, line in enumerate(lines[1:], start=2):
        if not _YAML_LINE.match(line):
            break
        last = number
    return last


def front_matter_problems(
    article: Article, topics: dict[str, str], tags: Iterable[str], today: dt.date
) -> list[Problem]:
    """Every mistake in one article's front matter, with its line and the fix."""
    if article.unclosed_at is not None:
        return [
            (
                article.unclosed_at,
                "the front matter's closing '---' line is missing; add a line with "
                "'---' right after this one, before the article's label and title",
            )
        ]
    if article.yaml_error_line is not None:
        return [
            (
                article.yaml_error_line,
                "front matter is not valid YAML; check the "
                "indentation, the colons and the quoting near this line",
            )
        ]
    title = topics.get(article.topic)
    if title is None:
        known = ", ".join(sorted(topics))
        return [
            (
                1,
                f"'{article.topic}/' is not a topic folder; move the article into one "
                f"of docs/{{{known}}}/ or add the topic to docs/topics.yaml",
            )
        ]
    fields, found = article.fields, []
    if not fields:
        return [
            (
                1,
                "the article has no front matter; start the file with a '---' block "
                "holding date, category, tags and description (see the contributor "
                "guide)",
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
    for key in fields:
        if key not in REQUIRED + OPTIONAL:
            guess = difflib.get_close_matches(key, REQUIRED + OPTIONAL, n=1)
            hint = f"did you mean '{guess[0]}'? " if guess else ""
            found.append(
                (
                    article.line(key),
                    f"unknown front-matter field '{key}'; {hint}"
                    f"the fields are {', '.join(REQUIRED + OPTIONAL)}",
                )
            )
    found += _date_problems(article, "date", today, allow_future=fields.get("draft") == "true")
    found += _date_problems(article, "reviewed", today, allow_future=False)
    found += _category_problems(article, title)
    found += _tag_problems(article, set(tags))
    if isinstance(fields.get("author"), list) or isinstance(fields.get("owner"), list):
        key = "owner" if "owner" in fields else "author"
        found.append((article.line(key), f"{key} must be one name, not a list"))
    found += _description_problems(article)
    found += _keyword_problems(article)
    return found


def is_valid_date(value: str) -> bool:
    """Whether ``value`` is a real date written YYYY-MM-DD."""
    if not _ISO_DATE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _date_problems(article: Article, key: str, today: dt.date, allow_future: bool) -> list[Problem]:
    value = article.fields.get(key)
    if value is None:
        return []
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        return [
            (
                article.line(key),
                f"{key} '{value}' is not an ISO date; write it as "
                "YYYY-MM-DD, for example 2025-07-17",
            )
        ]
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return [
            (
                article.line(key),
                f"{key} {value} is not a real date; check the month and the day (YYYY-MM-DD)",
            )
        ]
    if day > today and not allow_future:
        if key == "date":
            return [
                (
                    article.line(key),
                    f"date {value} is in the future, so ABlog would hide "
                    "the article as a draft; use today's date, or add "
                    "'draft: true' to publish it later on purpose",
                )
            ]
        return [
            (
                article.line(key),
                f"reviewed date {value} is in the future; use the date of the last review",
            )
        ]
    return []


def _category_problems(article: Article, title: str) -> list[Problem]:
    category = article.fields.get("category")
    line = article.line("category")
    if isinstance(category, list):
        return [(line, f"category must be one topic title, not a list; write 'category: {title}'")]
    if isinstance(category, str) and category != title:
        return [
            (
                line,
                f"category '{category}' does not match the topic folder "
                f"'{article.topic}/'; write 'category: {title}'",
            )
        ]
    return []


def _tag_problems(article: Article, vocabulary: set[str]) -> list[Problem]:
    if "tags" not in article.fields:
        return []
    tags, line = article.fields["tags"], article.line("tags")
    if not isinstance(tags, list) or not tags:
        return [
            (
                line,
                "tags must be a non-empty YAML list of tags from docs/tags.yaml, "
                "for example 'tags: [retries, timeouts]'",
            )
        ]
    found = []
    for tag in tags:
        if tag not in vocabulary:
            guess = difflib.get_close_matches(str(tag), vocabulary, n=1)
            hint = f"did you mean '{guess[0]}'? " if guess else ""
            found.append(
                (
                    line,
                    f"unknown tag '{tag}'; {hint}use a tag from docs/tags.yaml, "
                    "or add the new tag there with a one-line meaning",
                )
            )
    return found


def _description_problems(article: Article) -> list[Problem]:
    if "description" not in article.fields:
        return []
    line, text = article.line("description"), article.description
    low, high = DESCRIPTION_LENGTH
    if text.startswith(PLACEHOLDER):
        return [
            (
                line,
                "description is still the placeholder; write one or two sentences "
                "that say what the article is about",
            )
        ]
    if not low <= len(text) <= high:
        return [
            (
                line,
                f"description has {len(text)} characters; write one or two sentences "
                f"of {low} to {high} characters that say what the article is about",
            )
        ]
    return []


def _keyword_problems(article: Article) -> list[Problem]:
    if "keywords" not in article.fields:
        return []
    keywords, line = article.fields["keywords"], article.line("keywords")
    low, high = KEYWORD_LENGTH
    if not isinstance(keywords, list) or not keywords:
        return [
            (
                line,
                "keywords must be a non-empty YAML list of the words readers search "
                "with, for example 'keywords: [jobs run twice, duplicate charges]'",
            )
        ]
    if len(keywords) > KEYWORDS_MAX:
        count = len(keywords)
        return [(line, f"{count} keywords; keep the {KEYWORDS_MAX} a reader is likeliest to type")]
    found, seen = [], set()
    for keyword in keywords:
        text = keyword.strip() if isinstance(keyword, str) else ""
        if not low <= len(text) <= high:
            found.append(
                (
                    line,
                    f"keyword {keyword!r} must be a phrase of {low} to {high} characters, "
                    "such as a symptom in a reader's words",
                )
            )
        elif text.lower() in seen:
            found.append((line, f"keyword {text!r} is listed twice; remove one"))
        seen.add(text.lower())
    return found


def article_label(facts: SourceFacts) -> tuple[int, str] | None:
    """The line and name of the label right above an article's title, if any."""
    if not facts.titles:
        return None
    title_line = facts.titles[0][0]
    return next(((line, name) for line, name in facts.labels if line == title_line - 1), None)


def article_body_problems(
    facts: SourceFacts, docname: str, label_owners: dict[str, list[str]]
) -> list[Problem]:
    """An article's title and label: one '#' title, right below a label of its own.

    New articles use '(topic-slug)='; a renamed article keeps its old label so
    that links to it keep working. ``label_owners`` maps each article label to
    the articles that carry it: a label copied from another article would make
    links to either ambiguous, and Sphinx reports that at the other file.
    """
    expected = docname.replace("/", "-")
    if not facts.titles:
        return [(1, f"the article has no '# ' title; add one, with '({expected})=' above it")]
    found: list[Problem] = [
        (line, "an article has one '#' title; make this heading '##', a section of the article")
        for line, _ in facts.titles[1:]
    ]
    label = article_label(facts)
    if label is None:
        found.append(
            (
                facts.titles[0][0],
                f"add the label line '({expected})=' right above the title; other "
                "articles link to this one by it",
            )
        )
        return found
    line, name = label
    others = [other for other in label_owners.get(name, []) if other != docname]
    if others and name != expected:
        found.append(
            (
                line,
                f"the label '{name}' is also {others[0]}.md's, so links to either would be "
                f"ambiguous; give this article its own: '({expected})='",
            )
        )
    return found


def across_articles(
    facts: dict[str, SourceFacts],
) -> tuple[dict[str, list[str]], dict[str, list[Problem]]]:
    """What one article's checks need from all of them, by docname.

    Returns the articles carrying each label (for :func:`article_body_problems`)
    and the problems of articles that share a title. The build and
    ``python -m commands.check`` both call this, so they judge alike.
    """
    label_owners: dict[str, list[str]] = {}
    titles: dict[str, tuple[int, str]] = {}
    for docname, found in sorted(facts.items()):
        if found.titles:
            titles[docname] = found.titles[0]
        if (label := article_label(found)) is not None:
            label_owners.setdefault(label[1], []).append(docname)
    return label_owners, duplicate_title_problems(titles)


def duplicate_title_problems(titles: dict[str, tuple[int, str]]) -> dict[str, list[Problem]]:
    """Articles with the same title, which readers could not tell apart in any list.

    ``titles`` maps each article's docname to the line and text of its title.
    Every article of a group is reported, naming the others: the build cannot
    tell which of them was edited last.
    """
    groups: dict[str, list[str]] = {}
    for docname, (_line, title) in sorted(titles.items()):
        groups.setdefault(title.casefold(), []).append(docname)
    found: dict[str, list[Problem]] = {}
    for docnames in groups.values():
        for docname in docnames if len(docnames) > 1 else []:
            others = ", ".join(f"{name}.md" for name in docnames if name != docname)
            line, title = titles[docname]
            found[docname] = [
                (
                    line,
                    f"{others} has the same title, '{title}'; readers would see two "
                    "identical entries in lists, feeds and search: change one of the titles",
                )
            ]
    return found


def source_problems(facts: SourceFacts, basenames: set[str], is_article: bool) -> list[Problem]:
    """Mistakes in a page's body that the stock stack hides or misreports.

    - A label equal to a file's basename: ABlog registers every post's basename
      as a label and drops any label of that name when a file is re-read.
    - A ``{post}`` directive in an article: the front matter already makes it
      a post, and ABlog would create a second, undated one.
    - A code fence that is never closed swallows the rest of the page silently.
    """
    found = [
        (
            line,
            f"label '{label}' is also a file name, which ABlog takes over; rename the "
            f"label, for example to '<topic>-{label}'",
        )
        for line, label in facts.labels
        if label in basenames
    ]
    if is_article:
        found += [
            (
                line,
                "remove this {post} directive: the front matter already makes the "
                "file an article, and both together create a second, undated post",
            )
            for line in facts.post_directives
        ]
    if facts.unclosed_fence is not None:
        found.append(
            (
                facts.unclosed_fence,
                "this fence is never closed, so everything after "
                "it is swallowed; add a closing line with the same characters (for "
                "example ```) where the block ends",
            )
        )
    return found


def duplicate_slug_problems(articles: Iterable[Article]) -> dict[str, list[Problem]]:
    """Articles sharing a file name in different topics, which ABlog cannot tell apart."""
    first: dict[str, str] = {}
    found: dict[str, list[Problem]] = {}
    for article in sorted(articles, key=lambda a: a.docname):
        other = first.setdefault(article.slug, article.docname)
        if other != article.docname:
            found.setdefault(article.docname, []).append(
                (
                    1,
                    f"another article, {other}.md, has the file name '{article.slug}'; "
                    "rename this file (and its label) to a slug of its own",
                )
            )
    return found


def load_tags(path: Path) -> dict[str, str]:
    """The tag vocabulary (``docs/tags.yaml``): tag name -> one-line meaning."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(tag): str(meaning) for tag, meaning in data.items()}


def load_topics(path: Path) -> dict[str, str]:
    """The topics (``docs/topics.yaml``), in order: folder under docs/ -> title."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(folder): str(title) for folder, title in data.items()}
