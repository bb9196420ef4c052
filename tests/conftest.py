"""Shared fixtures: the real handbook, built once per test run.

The builds use the same source folder and Sphinx options as ``nox -s docs``
and ``nox -s pdf`` (both read ``[tool.handbook]`` in ``pyproject.toml``), with
every extension the published site uses.

The tests run on every core (pytest-xdist, ``-n auto`` in ``pyproject.toml``).
The HTML and PDF builds and the figure cache are shared by all the workers of
a run: each build starts in the background when the run starts, if a selected
test reads it, and is made once while holding a file lock; the workers wait
for it only when a test needs it (``tests/shared.py``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from sphinx.config import eval_config_file
from sphinx.util.tags import Tags

from handbook import project
from handbook.frontmatter import load_topics, parse_front_matter
from tests.shared import (
    BUILDS,
    ROOT,
    SOURCE,
    Build,
    build_html,
    make_once,
)

# The configuration as Sphinx reads conf.py (its namespace), for tests that check
# the site against a configured value; conf.py is configuration, not a module.
CONF: dict[str, Any] = eval_config_file(ROOT / "conf.py", Tags())
TOPICS = load_topics(ROOT / SOURCE / "topics.yaml")  # folder -> title


@pytest.fixture(autouse=True, scope="session")
def plain_logs() -> Iterator[None]:
    """Keep colour codes out of the logs that tests read.

    CI services often set ``FORCE_COLOR``; Sphinx then wraps log lines such as
    ``writing output... [ 50%] index`` in escape codes, and a test that looks
    for them finds nothing. ``NO_COLOR`` wins over ``FORCE_COLOR`` in Sphinx.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NO_COLOR", "1")
        patch.delenv("FORCE_COLOR", raising=False)
        patch.delenv("FORCE_COLOUR", raising=False)
        yield


def reads(item: pytest.Item, build: str) -> bool:
    """Whether a collected test uses the shared ``build`` (a fixture of that name)."""
    return build in getattr(item, "fixturenames", ())


def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder that every worker of this test run shares (each has its own below it)."""
    base = tmp_path_factory.getbasetemp()
    # Under pytest-xdist each worker's base is <run>/popen-gw<N>; alone, it is <run> itself.
    return base.parent if base.name.startswith("popen-gw") else base


def shared(
    tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], dict]
) -> dict:
    """Make ``name`` once per test run, whichever worker asks first; return its record.

    ``make`` gets an empty folder, builds into it and returns a JSON-able
    record; the other workers wait on the lock and read that record.
    """
    return make_once(run_folder(tmp_path_factory) / name, make)


@pytest.fixture(autouse=True, scope="session")
def start_shared_builds(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    plain_logs: None,
    shared_figure_cache: None,
) -> Iterator[None]:
    """Start the shared builds that the selected tests read, in the background, at once.

    Without this, the first worker to need the HTML build spends half a minute
    building it, and the other waits on its lock, while the tests that need no
    build wait their turn. Only the first worker starts them; the builds see
    this run's environment (plain logs, the shared figure cache).
    """
    started = []
    if os.environ.get("PYTEST_XDIST_WORKER", "gw0") == "gw0":
        items = request.session.items
        for name in BUILDS:
            if any(reads(item, name) for item in items):
                folder = run_folder(tmp_path_factory) / name
                command = [sys.executable, "-m", "tests.shared", name, str(folder)]
                started.append(subprocess.Popen(command, cwd=ROOT))
    yield
    for process in started:
        process.wait()


@pytest.fixture(autouse=True, scope="session")
def shared_figure_cache() -> Iterator[None]:
    """Let every build of the run reuse the figures already drawn, as ``nox -s docs`` does.

    Figures are cached by content in ``_build/figures/`` (handbook/figures.py):
    the key covers the figure's source, the examples a plot reads, the house
    style, the drawing tool's version and the drawing code itself, so a cached
    figure is what drawing it again would give. The dozens of project copies
    the tests build share that cache with the contributor's own builds; each
    write is atomic. On a fresh clone, as in CI, the first build draws every
    figure. Tests of drawing itself give their builds an empty cache of their own.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HANDBOOK_FIGURE_CACHE", str(ROOT / "_build" / "figures"))
        yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the browser tests and the tests that need the PDF, for ``-m "not ..."``.

    Then put the files whose tests read no shared build first: the workers
    hand out whole files in this order, so they run those while the shared
    builds are made in the background (``start_shared_builds``).
    """
    waiting = set()
    for item in items:
        if "browser" in item.path.parts:
            item.add_marker(pytest.mark.browser)
        if reads(item, "pdf"):
            item.add_marker(pytest.mark.pdf)
        if any(reads(item, name) for name in BUILDS):
            waiting.add(item.path)
    items.sort(key=lambda item: item.path in waiting)


@dataclass
class Article:
    """One article source file and its front matter."""

    path: Path
    docname: str
    topic: str
    slug: str
    fields: dict

    @property
    def title(self) -> str:
        """The article's ``#`` title."""
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if line.startswith("# "):
                return line[2:].strip()
        raise AssertionError(f"{self.path} has no '# ' title")


def copy_project(destination: Path) -> Path:
    """Copy everything a build needs to ``destination``, for tests that change files."""
    return project.copy_project(ROOT, destination)


def built_copy(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A copy of the handbook, built once into its ``_build``, for tests that change it."""
    root = copy_project(tmp_path_factory.mktemp(name))
    first = build_html(root, root / "_build")
    assert first.returncode == 0, first.log
    return root


def find_articles(root: Path = ROOT) -> list[Article]:
    """Every article: a Markdown file directly inside a topic folder of docs/."""
    found = []
    for path in sorted((root / SOURCE).glob("*/*.md")):
        fields, _, _ = parse_front_matter(path.read_text(encoding="utf-8"))
        topic, slug = path.parent.name, path.stem
        found.append(Article(path, f"{topic}/{slug}", topic, slug, fields))
    return found


@pytest.fixture(scope="session")
def articles() -> list[Article]:
    """The handbook's articles; fails if there are none, so no check passes vacuously."""
    found = find_articles()
    assert found, "no article found under docs/<topic>/"
    return found


@pytest.fixture(scope="session")
def plan() -> dict:
    """docs/plan.yaml: the commissioned articles by topic and slug."""
    return yaml.safe_load((ROOT / SOURCE / "plan.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def html(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """The real handbook, built once per run as HTML with warnings as errors.

    Tests only read it; a test that changes files builds a copy of its own.
    """

    made = shared(tmp_path_factory, "html", BUILDS["html"])
    build = Build(made["returncode"], made["log"], run_folder(tmp_path_factory) / "html")
    assert build.returncode == 0, f"the HTML build failed:\n{build.log}"
    return build


@pytest.fixture(scope="session")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real handbook, built once per run as a PDF through xelatex."""

    made = shared(tmp_path_factory, "pdf", BUILDS["pdf"])
    assert made["returncode"] == 0, f"the PDF build failed:\n{made['log']}"
    return run_folder(tmp_path_factory) / "pdf" / "latex" / "handbook.pdf"
