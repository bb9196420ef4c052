"""A contributor's mistake fails the build with the file, the line and the fix.

One copy of the handbook holds every mistake below, each in a file of its
own; one build (``-W --keep-going`` reports every warning) must fail with a
message for each that names the file and line and says what to do, without
a traceback and without changing a source file. A crash gets a build of its own.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import copy_project
from tests.shared import ROOT, Build, build_html

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


def keywords(value: str) -> Callable[[str], str]:
    """A change that replaces the article's list of keywords with ``keywords: value``."""
    return lambda text: re.sub(
        r"(?m)^keywords:\n(?:  - .*\n)+", f"keywords: {value}\n", text, count=1
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
    "keywords given as one string": Mistake(
        keywords("jobs lose the user"), None, "must be a non-empty YAML list", marker="keywords:"
    ),
    "keyword listed twice": Mistake(
        keywords("[lost user, Lost user]"), None, "is listed twice", marker="keywords:"
    ),
    "invalid YAML in front matter": Mistake(
        replace("tags: [", "tags: [oops: ["), None, "check the indentation", marker="tags:"
    ),
    "broken cross-reference": Mistake(
        insert_after_title("See {ref}`tracing <debugging-reading-trace>`."),
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


@dataclass
class MatrixBuild:
    """The build of the copy that holds every mistake, and where each must be reported."""

    build: Build
    locations: dict[str, str]  # mistake -> "<file>:<line>" its message must name
    unchanged: bool  # no source file changed during the build
    project: Path  # the copy that was built


def own_copy_of_the_article(project: Path, slug: str, *, listed: bool = True) -> Path:
    """A copy of the reference article with its own name, label, title and figure names.

    ``-W --keep-going`` reports every warning of a build, so one build checks
    every mistake, as long as each sits in a file of its own and the copies do
    not collide with each other (labels, titles, figure names). ``listed``:
    add the copy to its topic's toctree, after the reference article.
    """
    text = (project / ARTICLE).read_text(encoding="utf-8")
    label = Path(ARTICLE).with_suffix("").as_posix().removeprefix("docs/").replace("/", "-")
    text = text.replace(f"({label})=", f"(architecture-{slug})=")
    text = re.sub(r"(?m)^# .+$", f"# Mistake case {slug}", text, count=1)
    text = text.replace(":name: fig-", f":name: fig-{slug}-")
    copy = project / "docs" / "architecture" / f"{slug}.md"
    copy.write_text(text, encoding="utf-8")
    if listed:
        topic_page = project / "docs" / "architecture.md"
        entry = Path(ARTICLE).relative_to("docs").with_suffix("").as_posix()
        topic_page.write_text(
            topic_page.read_text().replace(f"{entry}\n", f"{entry}\narchitecture/{slug}\n")
        )
    return copy


def twin_with_the_same_slug(project: Path) -> Path:
    """The reference article again, in another topic: one slug, two articles."""
    twin = project / "docs" / "resilience" / Path(ARTICLE).name
    text = (project / ARTICLE).read_text()
    text = text.replace("category: Architecture and boundaries", "category: Load and resilience")
    twin.write_text(text.replace("(architecture-request-", "(resilience-request-"))
    topic_page = project / "docs" / "resilience.md"
    first_entry = re.search(r"(?m)^resilience/\S+$", topic_page.read_text()).group(0)
    topic_page.write_text(
        topic_page.read_text().replace(first_entry, f"{first_entry}\nresilience/{twin.stem}")
    )
    return twin


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> MatrixBuild:
    """One build of a copy holding every mistake of this module but the crash.

    The mistakes of ``MISTAKES`` each get a copy of the reference article;
    then come an article missing from every toctree, an article with another's
    slug, and the mistakes of ``BATCH`` in other articles. Each sits in a file
    of its own, so that none hides another.
    """
    root = tmp_path_factory.mktemp("matrix")
    project = copy_project(root / "project")
    locations: dict[str, str] = {}
    for number, (name, mistake) in enumerate(MISTAKES.items(), start=1):
        target = project / mistake.file
        if mistake.file == ARTICLE:
            target = own_copy_of_the_article(project, f"mistake-{number:02d}")
        mistaken = mistake.change(target.read_text(encoding="utf-8"))
        target.write_text(mistaken, encoding="utf-8")
        locations[name] = f"{target}:{line_of(mistaken, mistake)}:"
    orphan = own_copy_of_the_article(project, "orphan", listed=False)
    locations["article missing from every toctree"] = f"{orphan}:1:"
    locations["two articles with one slug"] = f"{twin_with_the_same_slug(project)}:1:"
    make_twins(project)
    for mistake in BATCH.values():
        target = project / mistake.file
        target.write_text(mistake.change(target.read_text(encoding="utf-8")), encoding="utf-8")
    before = digest(project)
    build = build_html(project, root / "out")
    return MatrixBuild(build, locations, digest(project) == before, project)


@pytest.mark.builds
def test_the_matrix_build_fails_without_crashing_or_changing_sources(matrix: MatrixBuild) -> None:
    assert matrix.build.returncode == 1, matrix.build.log[-3000:]  # 2 would be a crash
    assert "Traceback" not in matrix.build.log, matrix.build.log[-3000:]
    assert matrix.unchanged, "the build changed a source file"


@pytest.mark.builds
@pytest.mark.parametrize("name", list(MISTAKES))
def test_mistake_fails_the_build_with_file_line_and_fix(name: str, matrix: MatrixBuild) -> None:
    location = matrix.locations[name]
    messages = [m for m in matrix.build.log.splitlines() if location in m]
    assert messages, f"no message names {location}\n{matrix.build.log[-3000:]}"
    assert any(MISTAKES[name].advice in m for m in messages), messages


@pytest.mark.builds
def test_article_missing_from_every_toctree_fails_the_build(matrix: MatrixBuild) -> None:
    location = matrix.locations["article missing from every toctree"]
    messages = [m for m in matrix.build.log.splitlines() if location in m]
    assert any("add 'architecture/orphan' to the toctree" in m for m in messages), messages


@pytest.mark.builds
def test_two_articles_with_one_slug_fail_the_build(matrix: MatrixBuild) -> None:
    location = matrix.locations["two articles with one slug"]
    messages = [m for m in matrix.build.log.splitlines() if location in m]
    assert any("rename this file" in m for m in messages), messages


def test_the_reference_article_exists() -> None:
    # The matrix above edits this article; if it moves, the matrix must follow.
    assert (ROOT / ARTICLE).is_file()


# -- Mistakes that reach Sphinx, MyST or ABlog, checked together in one build --------
# `-W --keep-going` reports every warning of a build, so one build checks all of
# these; each is made in a file of its own so that none hides another.


@dataclass
class Reported:
    """A mistake in one file, and where and how the build must report it."""

    file: str
    change: Callable[[str], str]
    marker: str  # the reported line is the first line containing this, in the changed file
    advice: str  # words the message must contain
    before: str = ""  # if set, the line is the last line above the marker that starts with this


def remove(old: str) -> Callable[[str], str]:
    return replace(old, "")


def before_first_section(snippet: str) -> Callable[[str], str]:
    return replace("\n## ", f"\n{snippet}\n\n## ")


BATCH = {
    "date with a time and a time zone (ABlog crashed on it)": Reported(
        "docs/architecture/request-context-in-jobs.md",
        replace("date: 2025-07-17", "date: 2025-07-17T10:00:00+02:00"),
        "date: 2025-07-17T10",
        "write it as YYYY-MM-DD",
    ),
    "front matter without its closing line (was: 'no front matter')": Reported(
        "docs/debugging/bug-investigation.md",
        replace("owner: Handbook editors\n---\n", "owner: Handbook editors\n"),
        "owner: Handbook editors",
        "closing '---' line is missing",
    ),
    "a new article reusing another's label (was blamed on the other)": Reported(
        "docs/resilience/twin.md",
        lambda text: text,  # written by make_twins
        "(resilience-workload-affinity)=",
        "give this article its own: '(resilience-twin)='",
    ),
    "two articles with one title (passed silently)": Reported(
        "docs/resilience/twin.md",
        lambda text: text,
        "# Error handling for the people who operate the system",
        "debugging/error-handling.md has the same title",
    ),
    "the other article with that title": Reported(
        "docs/debugging/error-handling.md",
        lambda text: text,
        "# Error handling for the people who operate the system",
        "resilience/twin.md has the same title",
    ),
    "a second '#' title in an article (passed silently)": Reported(
        "docs/debugging/intermittent-failures.md",
        before_first_section("# Another title"),
        "# Another title",
        "make this heading '##'",
    ),
    "an article without its label (reported only at the links)": Reported(
        "docs/debugging/investigation-process.md",
        remove("(debugging-investigation-process)=\n"),
        "# Investigation as an explicit process",
        "add the label line '(debugging-investigation-process)='",
    ),
    "a reference to a figure that does not exist": Reported(
        "docs/resilience/cascading-failures.md",
        before_first_section("As {numref}`fig-fanout-tails` shows."),
        "fig-fanout-tails",
        "did you mean 'fig-fanout-tail'?",
    ),
    "a toctree entry for a page that does not exist": Reported(
        "docs/architecture.md",
        replace(
            "architecture/request-context-in-jobs\n",
            "architecture/request-context-in-jobs\narchitecture/no-such-article\n",
        ),
        "architecture/no-such-article",
        "fix the spelling or remove the line",
    ),
    "a page listed twice in a toctree": Reported(
        "docs/debugging.md",
        replace("debugging/bug-investigation\n", "debugging/bug-investigation\n" * 2),
        "debugging/bug-investigation",
        "remove the repeated line",
    ),
    "an included function that does not exist (showed a Python repr)": Reported(
        "docs/debugging/reading-traces.md",
        replace(":pyobject: critical_path", ":pyobject: critical_paths"),
        ":pyobject: critical_paths",
        "check the :pyobject: name",
        before="```{literalinclude}",
    ),
    "a plot file with a syntax error (was reported at line 1)": Reported(
        "docs/apis/figures/cancel-three-levels.py",
        replace("def draw(figure: Figure) -> None:", "def draw(figure: Figure) -> None"),
        "def draw(figure: Figure) -> None",
        "python3 -m handbook.figures",
    ),
    "a misspelled role": Reported(
        "docs/resilience/slow-dependencies.md",
        before_first_section("A {trem}`bulkhead` limits concurrency."),
        "{trem}`bulkhead`",
        "check the role's name",
    ),
    "front matter that is not YAML (MyST reported it again, at line 1)": Reported(
        "docs/resilience/circuit-breaker-overuse.md",
        replace("tags: [circuit-breakers,", "tags: [circuit-breakers,,]]"),
        "tags: [circuit-breakers",
        "front matter is not valid YAML",
    ),
    "a {post} directive in an article (ABlog logged a warning without a file)": Reported(
        "docs/apis/list-endpoints.md",
        before_first_section("```{post} 2025-03-03\n```"),
        "```{post}",
        "remove this {post} directive",
    ),
    "a heading that skips levels": Reported(
        "docs/resilience/workload-affinity.md",
        replace("\n## Choosing the key", "\n#### Choosing the key"),
        "#### Choosing the key",
        "a section is '##'",
    ),
}


def make_twins(project: Path) -> None:
    """A new article that copies another's label, and takes a third one's title."""
    source = (project / "docs/resilience/workload-affinity.md").read_text(encoding="utf-8")
    twin = source.replace(
        "# Workload affinity: placing work where it belongs",
        "# Error handling for the people who operate the system",
    ).replace(":name: fig-", ":name: fig-twin-")
    (project / "docs/resilience/twin.md").write_text(twin, encoding="utf-8")
    topic_page = project / "docs/resilience.md"
    topic_page.write_text(
        topic_page.read_text().replace(
            "resilience/workload-affinity\n", "resilience/workload-affinity\nresilience/twin\n"
        )
    )


@pytest.mark.builds
def test_mistakes_sphinx_myst_and_ablog_meet_get_file_line_and_fix(matrix: MatrixBuild) -> None:
    build, project = matrix.build, matrix.project
    # One message per mistake: not MyST's as well as ours, nor ABlog's unlocated one.
    assert "[myst.topmatter]" not in build.log, build.log[-3000:]
    assert "Found blog post front-matter" not in build.log, build.log[-3000:]
    assert "_StrPath" not in build.log, build.log[-3000:]
    for name, mistake in BATCH.items():
        lines = (project / mistake.file).read_text(encoding="utf-8").splitlines()
        line = next(n for n, text in enumerate(lines, 1) if mistake.marker in text)
        if mistake.before:
            line = max(n for n in range(1, line) if lines[n - 1].startswith(mistake.before))
        location = f"{project / mistake.file}:{line}:"
        messages = [m for m in build.log.splitlines() if location in m]
        assert any(mistake.advice in m for m in messages), (name, location, messages)


# -- A crash nobody foresaw ------------------------------------------------------------

CRASH = '''

def setup(app):
    """A fault in the build's own code, set off by one page."""

    def fail(app, doctree):
        if app.env.docname == "architecture/cache-consistency":
            raise KeyError("an unforeseen fault")

    app.connect("doctree-read", fail)
'''


@pytest.mark.builds
def test_a_crash_ends_in_a_short_message_naming_the_file_and_the_log(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    with (project / "conf.py").open("a", encoding="utf-8") as conf:
        conf.write(CRASH)

    build = build_html(project, tmp_path / "out")

    assert build.returncode == 2, build.log[-3000:]
    assert "Traceback" not in build.log and "report this error" not in build.log, build.log
    crash = [line for line in build.log.splitlines() if line.startswith("handbook: ")]
    assert len(crash) == 2, build.log[-3000:]
    assert "while processing docs/architecture/cache-consistency.md" in crash[0]
    assert "an unforeseen fault" in crash[0]
    log = Path(crash[1].rpartition("full log: ")[2])
    assert log.is_file() and "KeyError" in log.read_text(encoding="utf-8")
