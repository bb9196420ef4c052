"""Commands for building, previewing and checking the handbook.

Run ``nox --list`` to see every session. The most used:

- ``nox -s docs``: build the HTML into ``_build/html/``.
- ``nox -s pdf``: build the PDF into ``_build/pdf/handbook.pdf`` (needs TeX; see README).
- ``nox -s serve``: live preview at http://127.0.0.1:8000 while you edit.
- ``nox -s tests``: build everything and run every check.

Every session installs its tools from the hashed lock files in
``requirements/``; ``nox -s lock`` regenerates them from ``pyproject.toml``.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import nox
from packaging.requirements import Requirement  # nox depends on packaging
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).parent
BUILD = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["handbook"]
SOURCE = BUILD["source-dir"]
SPHINX_OPTIONS = BUILD["sphinx-options"]
# Sessions run on the Python that runs nox (3.11 to 3.13); the lock files resolve for all three.
PYTHON = None
LOCK_PYTHON = "3.11"  # the oldest supported version, for resolving the lock files

nox.options.sessions = ["docs", "pdf", "tests", "lint"]
nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True


def install(session: nox.Session, lock: str) -> None:
    """Install one hashed lock file from requirements/ into the session."""
    session.install("--require-hashes", "--no-deps", "-r", f"requirements/{lock}.txt")


def build_html(session: nox.Session, *, serve: bool = False) -> None:
    """Build the HTML once, or keep rebuilding it on every change when ``serve``."""
    if serve:
        install(session, "serve")
        session.run(
            "sphinx-autobuild",
            *SPHINX_OPTIONS,
            "--host",
            "127.0.0.1",  # only this machine can reach the preview
            "--port",
            "8000",
            "--watch",
            "conf.py",  # a configuration change rebuilds too
            "--watch",
            "handbook",  # and so does a change to the local extension
            "--watch",
            "examples",  # and to an included example
            "-d",  # build state beside the output: commands.build.doctree_folder, as `nox -s docs`
            f"{BUILD['html-dir']}.doctrees",
            SOURCE,
            BUILD["html-dir"],
            *session.posargs,
        )
        return
    install(session, "docs")
    session.run(
        "python",
        "-m",
        "commands.build",  # sphinx-build, with a short message if it ever crashes
        "-b",
        "html",
        *SPHINX_OPTIONS,
        SOURCE,
        BUILD["html-dir"],
        *session.posargs,
    )


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the HTML handbook into _build/html/."""
    build_html(session)


@nox.session(python=PYTHON)
def serve(session: nox.Session) -> None:
    """Preview the handbook at http://127.0.0.1:8000, rebuilt on every save."""
    build_html(session, serve=True)


@nox.session(python=PYTHON)
def pdf(session: nox.Session) -> None:
    """Build the PDF handbook into _build/pdf/handbook.pdf (needs xelatex and latexmk)."""
    install(session, "docs")
    workdir = "_build/latex-work"
    # -M latexpdf: write LaTeX, then run latexmk with xelatex (conf.py: latex_engine).
    session.run(
        "python",
        "-m",
        "commands.build",  # sphinx-build, with a short message if it ever crashes
        "-M",
        "latexpdf",
        SOURCE,
        workdir,
        *SPHINX_OPTIONS,
        *session.posargs,
    )
    target = ROOT / BUILD["pdf"]
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / workdir / "latex" / "handbook.pdf", target)
    session.log(f"PDF written to {target.relative_to(ROOT)}")


@nox.session(python=PYTHON)
def new(session: nox.Session) -> None:
    """Start an article: nox -s new -- "Title in sentence case" --topic resilience."""
    install(session, "docs")
    session.run("python", "-m", "commands.scaffold", *session.posargs)


@nox.session(python=PYTHON)
def check(session: nox.Session) -> None:
    """Check article files without a build (no links, toctrees or figures: -- --help says)."""
    install(session, "docs")
    files = session.posargs or sorted(str(p) for p in Path(SOURCE).rglob("*.md"))
    session.run("python", "-m", "commands.check", *files)


@nox.session(python=PYTHON)
def urls(session: nox.Session) -> None:
    """Build the HTML and add its new URLs to docs/urls.txt, the manifest of published URLs."""
    build_html(session)
    session.run("python", "-m", "commands.urls", "record", BUILD["html-dir"])


@nox.session(python=PYTHON)
def rename(session: nox.Session) -> None:
    """Move an article and redirect its old URL: nox -s rename -- topic/old-slug topic/new-slug."""
    install(session, "docs")
    session.run("python", "-m", "commands.urls", "rename", *session.posargs)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Time builds at scale against the stock stack: nox -s bench -- --articles 1000."""
    install(session, "test")  # the docs stack, and Playwright to measure the first search
    session.run("python", "benchmarks/bench.py", *session.posargs)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Build the real handbook (HTML and PDF) and run every test against it."""
    install(session, "test")
    install_npm_tools(session)
    session.run("python", "-m", "pytest", *session.posargs)


def install_npm_tools(session: nox.Session) -> None:
    """axe-core, Lighthouse and the Nu HTML Checker for the browser and HTML checks.

    Pinned by tools/package-lock.json; reinstalled when the lock changes.
    """
    installed = ROOT / "tools" / "node_modules" / ".package-lock.json"
    lock_file = ROOT / "tools" / "package-lock.json"
    if not installed.is_file() or installed.stat().st_mtime < lock_file.stat().st_mtime:
        session.run("npm", "ci", "--prefix", "tools", "--no-audit", "--no-fund", external=True)


UPSTREAM_PYTHON = "3.13"  # the newest Python pyproject.toml supports


def unpinned(requirements: list[str]) -> list[str]:
    """The requirements with every version bound dropped (names, extras and markers kept)."""
    loose = []
    for line in requirements:
        requirement = Requirement(line)
        requirement.specifier = SpecifierSet()
        loose.append(str(requirement))
    return loose


@nox.session(python=UPSTREAM_PYTHON)
def upstream(session: nox.Session) -> None:
    """Run the tests on the newest release of every dependency, ignoring the lock and pins.

    Reports what breaks before an upgrade does: the versions installed go to
    artifacts/upstream-versions.txt, and the tests run as `nox -s tests` runs them.
    The weekly workflow .github/workflows/upstream.yml runs it.
    """
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = project["project"]["dependencies"] + project["dependency-groups"]["test"]
    session.install("--upgrade", *unpinned(wanted))
    versions = session.run("python", "-m", "pip", "freeze", silent=True)
    (ROOT / "artifacts").mkdir(exist_ok=True)
    (ROOT / "artifacts" / "upstream-versions.txt").write_text(str(versions), encoding="utf-8")
    install_npm_tools(session)
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session(python=PYTHON)
def lighthouse(session: nox.Session) -> None:
    """Score the built site with Lighthouse; reports in artifacts/lighthouse/ (README)."""
    build_html(session)
    # Lighthouse and axe-core, pinned by tools/package-lock.json; needs Node.js and Chromium.
    session.run("npm", "ci", "--prefix", "tools", "--no-audit", "--no-fund", external=True)
    session.run("python", "tools/lighthouse.py", BUILD["html-dir"])


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Check the Python with ruff and the prose with codespell."""
    install(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("codespell", "docs", "README.md")


@nox.session(python=PYTHON)
def linkcheck(session: nox.Session) -> None:
    """Check every external link (needs the internet; not part of the tests)."""
    install(session, "docs")
    session.run(
        "python",
        "-m",
        "commands.build",  # sphinx-build, with a short message if it ever crashes
        "-b",
        "linkcheck",
        *SPHINX_OPTIONS,
        SOURCE,
        "_build/linkcheck",
        *session.posargs,
    )


@nox.session(python=PYTHON)
def lock(session: nox.Session) -> None:
    """Regenerate the hashed lock files in requirements/ from pyproject.toml."""
    session.install("uv>=0.9")
    compile_ = [
        "uv",
        "pip",
        "compile",
        "--universal",
        "--python-version",
        LOCK_PYTHON,
        "--generate-hashes",
        "--quiet",
        "--custom-compile-command",
        "nox -s lock",
        *session.posargs,
    ]  # e.g. --upgrade, or --upgrade-package sphinx
    session.run(*compile_, "pyproject.toml", "-o", "requirements/docs.txt")
    session.run(*compile_, "pyproject.toml", "--group", "test", "-o", "requirements/test.txt")
    session.run(*compile_, "pyproject.toml", "--group", "serve", "-o", "requirements/serve.txt")
    session.run(*compile_, "--group", "pyproject.toml:lint", "-o", "requirements/lint.txt")
    session.run(*compile_, "--group", "pyproject.toml:nox", "-o", "requirements/nox.txt")
