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
    marker: str = ""
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
}


def line_of(text: str, marker: str) -> int:
    """The 1-based number of the first line that starts with ``marker``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(marker):
            return number
    raise AssertionError(f"{marker!r} not found")


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
    line = mistake.line or line_of(mistaken, mistake.marker)
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
    assert "document isn't included in any toctree" in build.log
    assert str(project / ARTICLE) in build.log


def test_the_reference_article_exists() -> None:
    # The matrix above edits this article; if it moves, the matrix must follow.
    assert (ROOT / ARTICLE).is_file()
