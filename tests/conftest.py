"""Shared fixtures: the real handbook, built once per test run.

The builds use the same source folder and Sphinx options as ``nox -s docs``
and ``nox -s pdf`` (both read ``[tool.handbook]`` in ``pyproject.toml``), with
every extension the published site uses.

The tests run on every core (pytest-xdist, ``-n auto`` in ``pyproject.toml``).
The HTML and PDF builds and the figure cache are shared by all the workers of
a run: the first worker that needs one makes it while holding a file lock, the
others wait for it and read it (``shared``).
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from filelock import FileLock
from sphinx.config import eval_config_file
from sphinx.util.tags import Tags

from commands.build import doctree_folder
from handbook import project
from handbook.frontmatter import load_topics, parse_front_matter

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["handbook"]
SOURCE = SETTINGS["source-dir"]
SPHINX_OPTIONS: list[str] = SETTINGS["sphinx-options"]
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
    folder = run_folder(tmp_path_factory) / name
    record = folder.with_suffix(".json")
    with FileLock(folder.with_suffix(".lock")):
        if not record.exists():
            folder.mkdir()
            record.write_text(json.dumps(make(folder)), encoding="utf-8")
    return json.loads(record.read_text(encoding="utf-8"))


@pytest.fixture(autouse=True, scope="session")
def shared_figure_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Let every build of the run reuse the figures the first one drew.

    Figures are cached by content (handbook/figures.py), so the dozens of
    project copies the tests build draw each figure once, as a contributor's
    builds do; workers share the cache (each write is atomic). Tests of
    drawing itself give their builds a cache of their own.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HANDBOOK_FIGURE_CACHE", str(run_folder(tmp_path_factory) / "figure-cache"))
        yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the browser tests and the tests that need the PDF, for ``-m "not ..."``."""
    for item in items:
        if "browser" in item.path.parts:
            item.add_marker(pytest.mark.browser)
        if "pdf" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.pdf)


@dataclass
class Build:
    """The outcome of one Sphinx run."""

    returncode: int
    log: str
    outdir: Path

    def page(self, name: str) -> str:
        """Return the text of one output file, such as ``index.html``."""
        return (self.outdir / name).read_text(encoding="utf-8")

    @property
    def doctrees(self) -> Path:
        """Where the build kept its state: beside the output folder (commands/build.py)."""
        return doctree_folder(self.outdir)

    def environment(self) -> Any:
        """The pickled build environment."""
        with open(self.doctrees / "environment.pickle", "rb") as handle:
            return pickle.load(handle)


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


def sphinx(project: Path, outdir: Path, *args: str) -> Build:
    """Run Sphinx on a project folder with the handbook's options, as ``nox -s docs`` does.

    ``args`` start with ``-b <builder>`` or, for make mode, ``-M <target>``,
    which Sphinx wants before the source and output folders.
    """
    if args[0] == "-M":
        arguments = [*args[:2], SOURCE, str(outdir), *SPHINX_OPTIONS, *args[2:]]
    else:
        arguments = [*args, *SPHINX_OPTIONS, SOURCE, str(outdir)]
    command = [sys.executable, "-m", "commands.build", *arguments]
    done = subprocess.run(command, cwd=project, capture_output=True, text=True, check=False)
    return Build(done.returncode, done.stdout + done.stderr, outdir)


def build_html(project: Path, outdir: Path, *extra: str) -> Build:
    """Build the HTML site of ``project`` into ``outdir``."""
    return sphinx(project, outdir, "-b", "html", *extra)


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

    def make(outdir: Path) -> dict:
        build = build_html(ROOT, outdir)  # as `nox -s docs` builds it
        return {"returncode": build.returncode, "log": build.log}

    made = shared(tmp_path_factory, "html", make)
    build = Build(made["returncode"], made["log"], run_folder(tmp_path_factory) / "html")
    assert build.returncode == 0, f"the HTML build failed:\n{build.log}"
    return build


@pytest.fixture(scope="session")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real handbook, built once per run as a PDF through xelatex."""

    def make(workdir: Path) -> dict:
        build = sphinx(ROOT, workdir, "-M", "latexpdf")
        return {"returncode": build.returncode, "log": build.log[-5000:]}

    made = shared(tmp_path_factory, "pdf", make)
    assert made["returncode"] == 0, f"the PDF build failed:\n{made['log']}"
    return run_folder(tmp_path_factory) / "pdf" / "latex" / "handbook.pdf"
