"""Generated mistakes: the checks never crash, and every problem has a line.

Hypothesis takes the handbook's real articles and breaks them the ways a
contributor's editor can: lines deleted, duplicated, cut short or replaced,
stray front-matter and Markdown syntax (``---``, fences, labels, titles,
brackets, tabs, dates), arbitrary Unicode. Thousands of such files go
through the checker that ``nox -s check`` and the build share; a handful go
through a real build, which must report each problem as ``file:line:`` and
never end in a traceback.

The examples are derived from a fixed seed (``derandomize``), so CI sees the
same inputs on every run and a failure can be replayed.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands.check import Checker
from tests.conftest import TOPICS, copy_project, find_articles
from tests.shared import ROOT, build_html

DOCS = ROOT / "docs"
ARTICLES = {a.docname: a.path.read_text(encoding="utf-8") for a in find_articles()}
CHECKER = Checker.for_docs(DOCS, TOPICS)
EXAMPLES = 3000

# Fragments a slip of the keyboard or a bad merge leaves in a page.
FRAGMENTS = [
    "---",
    "```",
    "````",
    ":::",
    "```{post} 2025-01-01",
    "```{literalinclude}",
    "(label)=",
    "(resilience-slow-dependencies)=",
    "# A second title",
    "#",
    "[",
    "{",
    "tags: [overload,",
    "tags: []",
    "date: 2025-13-45",
    "date: 2025-07-17T10:00:00+02:00",
    "date:",
    "category:",
    "description: |",
    "- -",
    ": :",
    "\t",
    "  indented: value",
    "<<<<<<< HEAD",
    "=======",
    ">>>>>>> branch",
    "\ufeff",
    "\x00",
]


@st.composite
def broken_article(draw: st.DrawFn) -> tuple[str, str]:
    """One real article with one to four edits applied."""
    docname = draw(st.sampled_from(sorted(ARTICLES)))
    lines = ARTICLES[docname].split("\n")
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(len(lines) - 1, 0)))
        edit = draw(st.sampled_from(["delete", "duplicate", "cut", "insert", "replace"]))
        new = draw(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=40)))
        if edit == "delete" and lines:
            del lines[at]
        elif edit == "duplicate" and lines:
            lines.insert(at, lines[at])
        elif edit == "cut":
            lines = lines[:at]
        elif edit == "insert":
            lines.insert(at, new)
        elif lines:
            lines[at] = new
    return docname, "\n".join(lines)


tried: list[bool] = []  # one entry per generated input: whether the checker reported it


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(broken_article())
def check_generated(case: tuple[str, str]) -> None:
    docname, text = case
    problems = CHECKER.problems(docname, text)  # must not raise
    tried.append(bool(problems))
    last = text.count("\n") + 1
    for line, message in problems:
        assert isinstance(line, int) and 1 <= line <= last, (docname, line, last, message)
        assert message.strip(), (docname, line)


def test_the_checker_never_crashes_and_always_gives_a_line() -> None:
    tried.clear()
    check_generated()
    # Hypothesis may stop early when it runs out of new inputs; it must not here.
    assert len(tried) >= EXAMPLES * 0.9, f"only {len(tried)} generated inputs were checked"
    # Most edits leave a valid page (a deleted paragraph is no mistake), but the
    # generator must produce real mistakes too, or the check above proves little.
    assert sum(tried) >= len(tried) / 4, f"only {sum(tried)} of {len(tried)} inputs had a problem"


def test_the_checker_finds_a_deleted_closing_line() -> None:
    """A sanity check that generated breakage is seen, not only survived."""
    docname, text = next(iter(sorted(ARTICLES.items())))
    broken = re.sub(r"(?m)^---\n(?=\n*\()", "", text, count=1)
    assert broken != text
    assert any("closing '---'" in message for _, message in CHECKER.problems(docname, broken))


# -- A sample through a real build ---------------------------------------------------

SAMPLE = 6
LOCATION = re.compile(r"^(?P<path>/\S+?):(?P<line>\d+): (?:WARNING|ERROR|CRITICAL)")


def sample_breakage(seed: int) -> dict[str, str]:
    """``SAMPLE`` articles, each broken by a few of the edits above, from a fixed seed."""
    rng = random.Random(seed)
    chosen = rng.sample(sorted(ARTICLES), SAMPLE)
    broken = {}
    for docname in chosen:
        lines = ARTICLES[docname].split("\n")
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(lines))
            fragment = rng.choice(FRAGMENTS[:-2])  # printable ones: the log must stay readable
            lines.insert(at, fragment) if rng.random() < 0.5 else lines.__setitem__(at, fragment)
        broken[docname] = "\n".join(lines)
    return broken


@pytest.mark.builds
@pytest.mark.parametrize("seed", [1, 2])
def test_a_real_build_reports_generated_mistakes_by_file_and_line(
    seed: int, tmp_path: Path
) -> None:
    project = copy_project(tmp_path / "project")
    for docname, text in sample_breakage(seed).items():
        (project / "docs" / f"{docname}.md").write_text(text, encoding="utf-8")

    build = build_html(project, tmp_path / "out")

    assert build.returncode in (0, 1), build.log[-4000:]  # 2 would be a crash
    assert "Traceback" not in build.log, build.log[-4000:]
    problems = [line for line in build.log.splitlines() if re.search(r"WARNING|ERROR", line)]
    assert problems or build.returncode == 0
    for message in problems:
        where = LOCATION.match(message)
        assert where, f"a message without file and line: {message}"
        assert Path(where["path"]).is_file(), f"a message naming no real file: {message}"
    # One mistake, one message: MyST does not repeat what the handbook's check says.
    ours = {LOCATION.match(m)["path"] for m in problems if "[handbook.front-matter]" in m}
    repeated = [
        m for m in problems if "[myst.topmatter]" in m and LOCATION.match(m)["path"] in ours
    ]
    assert not repeated, repeated
