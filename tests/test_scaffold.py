"""`nox -s new`: a new article that builds once its author fills in two fields."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from handbook.figures import cache_key, examples_read
from tests.conftest import copy_project
from tests.shared import ROOT, build_html
from tests.test_contributor_mistakes import digest

TITLE = "Retry budgets in practice"


def new(project: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the scaffold against a copy of the handbook."""
    return subprocess.run(
        [sys.executable, "-m", "commands.scaffold", *args, "--root", str(project)],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project")


@pytest.mark.builds
def test_scaffolded_article_fails_only_on_what_the_author_must_write(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = new(project, TITLE, "--topic", "resilience")
    assert done.returncode == 0, done.stderr
    article = project / "docs" / "resilience" / "retry-budgets-in-practice.md"
    assert "resilience/retry-budgets-in-practice" in (project / "docs/resilience.md").read_text()
    assert (project / "examples" / "retry_budgets_in_practice.py").is_file()
    assert (project / "tests" / "examples" / "test_retry_budgets_in_practice.py").is_file()
    figures = project / "docs" / "resilience" / "figures"
    assert (figures / "retry-budgets-in-practice.dot").is_file()
    assert (figures / "retry-budgets-in-practice.py").is_file()

    # The builds below get a figure cache of their own: what the shared cache
    # holds, except the two stubs, which an earlier run may have drawn.
    examples = str(project / "examples")
    stubs = {
        cache_key(kind, figures / name, examples, examples_read(kind, examples))
        for kind, name in (
            ("graphviz", "retry-budgets-in-practice.dot"),
            ("plot", "retry-budgets-in-practice.py"),
        )
    }
    cache = tmp_path / "figure-cache"
    cache.mkdir()
    for drawn in Path(os.environ["HANDBOOK_FIGURE_CACHE"]).glob("*"):
        if drawn.name.split(".")[0] not in stubs and not drawn.name.endswith(".part"):
            shutil.copy(drawn, cache / drawn.name)
    monkeypatch.setenv("HANDBOOK_FIGURE_CACHE", str(cache))

    build = build_html(project, tmp_path / "out")
    warnings = [line for line in build.log.splitlines() if "WARNING" in line]
    assert build.returncode != 0
    assert len(warnings) == 4, warnings
    assert any(f"{article}:4:" in w and "tags must be a non-empty" in w for w in warnings)
    assert any(
        f"{article}:5:" in w and "description is still the placeholder" in w for w in warnings
    )
    text = article.read_text()
    for directive in (":::{graphviz}", ":::{plot}"):
        line = text[: text.index(directive)].count("\n") + 1
        assert any(f"{article}:{line}:" in w and "still the placeholder" in w for w in warnings)

    text = text.replace("tags: []", "tags: [retries, overload]")
    text = re.sub(
        r"(?m)^description: .*$",
        "description: How to cap retries as a share of traffic so that they "
        "cannot multiply an outage.",
        text,
    )
    text = re.sub(r"(?m)^:alt: TODO", ":alt: What the figure shows, in a sentence:", text)
    text = re.sub(r"(?m)^TODO the caption", "The caption", text)
    article.write_text(text)
    again = build_html(project, tmp_path / "again")
    assert again.returncode == 0, again.log[-3000:]
    assert "handbook: drew 2 figure(s)" in again.log  # the two stubs, drawn from their sources


def test_scaffolded_example_test_runs(project: Path) -> None:
    assert new(project, TITLE, "--topic", "debugging").returncode == 0
    # The example's test draws the figure with the helpers in tests/, as in the
    # repository; tests/examples/conftest.py starts PostgreSQL with tests/postgres.py.
    for helper in ("__init__.py", "figures.py", "postgres.py"):
        shutil.copy(ROOT / "tests" / helper, project / "tests" / helper)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/examples/test_retry_budgets_in_practice.py",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    # The figure's test passes; the claims' placeholder fails, saying what to write.
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed, 1 passed" in done.stdout, done.stdout
    assert "write the article's claims as assertions on examples.retry_budgets_in_practice" in (
        done.stdout
    )


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (
            ["Sharing context", "--topic", "architecture", "--slug", "request-context-in-jobs"],
            "an article named 'request-context-in-jobs' exists",
        ),
        ([TITLE, "--topic", "frontend"], "unknown topic 'frontend'"),
        ([TITLE, "--topic", "apis", "--slug", "Not A Slug"], "is not a valid slug"),
    ],
)
def test_scaffold_refuses_with_a_reason_and_writes_nothing(project: Path, args, reason) -> None:
    before = digest(project)
    done = new(project, *args)
    assert done.returncode == 2
    assert reason in done.stderr
    assert digest(project) == before
