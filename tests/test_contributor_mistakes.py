"""A contributor's mistake fails the build with the file, the line and the fix.

Each case copies the handbook, makes one mistake in the reference article,
builds, and checks that the build fails with a message that names the file
and line and says what to do, and that no other source file changed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, build_html, copy_project

ARTICLE = "docs/architecture/request-context-in-jobs.md"


@dataclass
class Mistake:
    """One way a contributor can get an article wrong."""

    change: Callable[[str], str]  # the article's text -> the mistaken text
    line: int | None  # the line the message must name; None: the line of `marker`
    advice: str  # words the message must contain, telling what to do
    marker: str = ""  # the message's line is the first line that starts with this ...
    marker_search: str = ""  # ... or the first line that contains this
    file: str = ARTICLE


def replace(old: str, new: str) -> Callable[[str], str]:
    """A change that replaces the first ``old`` with ``new``."""

    def change(text: str) -> str:
        assert old in text, f"{old!r} not in the article"
        return text.replace(old, new, 1)

    return change


def insert_after_title(snippet: str) -> Callable[[str], str]:
    """A change that puts ``snippet`` right after the article's ``#`` title."""
    return lambda text: re.sub(
        r"(?m)^(# .+\n)", lambda m: m.group(1) + "\n" + snippet + "\n", text, count=1
    )


MISTAKES = {
    "category given as a YAML list": Mistake(
        replace("category: Architecture and boundaries", "category: [Architecture, boundaries]"),
        None,
        "category: Architecture and boundaries",
        marker="category:",
    ),
    "category of another topic": Mistake(
        replace("category: Architecture and boundaries", "category: Load and resilience"),
        None,
        "write 'category: Architecture and boundaries'",
        marker="category:",
    ),
    "label equal to a file's basename": Mistake(
        insert_after_title("(glossary)=\n## A section"),
        None,
        "rename the label",
        marker="(glossary)=",
    ),
    "post directive beside front matter": Mistake(
        insert_after_title("```{post} 2025-07-17\n```"),
        None,
        "remove this {post} directive",
        marker="```{post}",
    ),
    "malformed date": Mistake(
        replace("date: 2025-07-17", "date: 17/07/2025"), None, "YYYY-MM-DD", marker="date:"
    ),
    "date in the future": Mistake(
        replace("date: 2025-07-17", "date: 2999-01-01"), None, "draft: true", marker="date:"
    ),
    "missing required field": Mistake(
        lambda text: re.sub(r"(?m)^description: .*\n", "", text, count=1),
        1,
        "add a 'description:' line",
    ),
    "misspelled field": Mistake(
        replace("tags:", "tag:"), None, "did you mean 'tags'?", marker="tag:"
    ),
    "tag outside the vocabulary": Mistake(
        replace("tags: [", "tags: [retry, "), None, "did you mean 'retries'?", marker="tags:"
    ),
    "description left as the placeholder": Mistake(
        lambda text: re.sub(
            r"(?m)^description: .*$",
            "description: TODO say what the article is about.",
            text,
            count=1,
        ),
        None,
        "write one or two sentences",
        marker="description:",
    ),
    "invalid YAML in front matter": Mistake(
        replace("tags: [", "tags: [oops: ["), None, "check the indentation", marker="tags:"
    ),
    "broken cross-reference": Mistake(
        replace("<debugging-reading-traces>", "<debugging-reading-trace>"),
        None,
        "did you mean 'debugging-reading-traces'?",
        marker_search="debugging-reading-trace>",
    ),
    "unknown glossary term": Mistake(
        replace("{term}`correlation id`", "{term}`corelation id`"),
        None,
        "did you mean 'Correlation id'?",
        marker_search="{term}`corelation id`",
    ),
    "literalinclude of a missing file": Mistake(
        replace("../../examples/request_context_in_jobs.py", "../examples/request_context.py"),
        None,
        "'../../examples/<module>.py'",
        marker_search="../examples/request_context.py",
    ),
    "malformed directive": Mistake(
        insert_after_title("```{literalinclude}\n:language: python\n```"),
        None,
        "check the text after the directive's name",
        marker="```{literalinclude}\n:language",
    ),
    "unknown directive": Mistake(
        insert_after_title("```{warnings}\nCareful.\n```"),
        None,
        "check the directive's name",
        marker="```{warnings}",
    ),
    "unclosed code fence": Mistake(
        lambda text: text + "\n```python\nprint('never closed')\n",
        None,
        "this fence is never closed",
        marker="```python\nprint('never closed')",
    ),
    "diagram with a syntax error": Mistake(
        replace("open -> half_open ", "open -> -> half_open "),
        None,
        "fix the diagram source",
        marker_search="open -> -> half_open",
        file="docs/resilience/figures/breaker-states.dot",
    ),
    "plot whose code fails": Mistake(
        replace("curve = goodput_curve()", "curve = goodput_curv()"),
        None,
        "python3 -m handbook.figures",
        marker_search="goodput_curv()",
        file="docs/resilience/figures/queue-goodput.py",
    ),
    "figure without alternative text": Mistake(
        insert_after_title(
            ":::{graphviz} ../resilience/figures/breaker-states.dot\n\nA caption.\n:::"
        ),
        None,
        "':alt:'",
        marker=":::{graphviz}",
    ),
    "figure whose source file is missing": Mistake(
        insert_after_title(
            ":::{plot} figures/envelope-size.py\n:alt: Envelope size against the number of"
            " fields.\n\nA caption.\n:::"
        ),
        None,
        "create docs/<topic>/figures/envelope-size.py or fix the path",
        marker=":::{plot}",
    ),
}


def line_of(text: str, mistake: Mistake) -> int:
    """The 1-based line the message must name, found from the mistake's marker."""
    if mistake.line:
        return mistake.line
    if mistake.marker_search:
        offset = text.index(mistake.marker_search)
    else:
        offset = re.search(rf"(?m)^{re.escape(mistake.marker)}", text).start()
    return text.count("\n", 0, offset) + 1


def digest(root: Path) -> dict[str, str]:
    """A hash of every source file, to prove a build changed none of them."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((root / "docs").rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("name", list(MISTAKES))
def test_mistake_fails_the_build_with_file_line_and_fix(name: str, tmp_path: Path) -> None:
    mistake = MISTAKES[name]
    project = copy_project(tmp_path / "project")
    target = project / mistake.file
    mistaken = mistake.change(target.read_text(encoding="utf-8"))
    target.write_text(mistaken, encoding="utf-8")
    line = line_of(mistaken, mistake)
    before = digest(project)

    build = build_html(project, tmp_path / "out")

    assert build.returncode != 0, f"the build accepted: {name}"
    location = f"{target}:{line}"
    messages = [m for m in build.log.splitlines() if location in m]
    assert messages, f"no message names {mistake.file}:{line}:\n{build.log[-3000:]}"
    assert any(mistake.advice in m for m in messages), messages
    assert digest(project) == before, "the build changed a source file"


def test_article_missing_from_every_toctree_fails_the_build(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    topic_page = project / "docs" / "architecture.md"
    docname = Path(ARTICLE).relative_to("docs").with_suffix("").as_posix()
    topic_page.write_text(topic_page.read_text().replace(f"{docname}\n", ""))
    build = build_html(project, tmp_path / "out")
    assert build.returncode != 0
    messages = [m for m in build.log.splitlines() if f"{project / ARTICLE}:1:" in m]
    assert any("add 'architecture/request-context-in-jobs' to the toctree" in m for m in messages)


def test_two_articles_with_one_slug_fail_the_build(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    twin = project / "docs" / "resilience" / "request-context-in-jobs.md"
    text = (project / ARTICLE).read_text()
    text = text.replace("category: Architecture and boundaries", "category: Load and resilience")
    twin.write_text(text.replace("(architecture-request-", "(resilience-request-"))
    topic_page = project / "docs" / "resilience.md"
    first_entry = re.search(r"(?m)^resilience/\S+$", topic_page.read_text()).group(0)
    topic_page.write_text(
        topic_page.read_text().replace(
            first_entry, f"{first_entry}\nresilience/request-context-in-jobs"
        )
    )
    build = build_html(project, tmp_path / "out")
    assert build.returncode != 0
    messages = [m for m in build.log.splitlines() if f"{twin}:1:" in m]
    assert any("rename this file" in m for m in messages), build.log[-3000:]


def test_the_reference_article_exists() -> None:
    # The matrix above edits this article; if it moves, the matrix must follow.
    assert (ROOT / ARTICLE).is_file()
