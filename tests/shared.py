"""The builds every worker of a test run shares, each made once.

The HTML site and the PDF take the longest of anything the tests do, and most
test files read one of them. Each is made once per run, into the run's shared
folder, by whichever process takes its lock first (``make_once``); the others
wait on the lock and read the record it leaves.

At the start of a run, the first worker also starts the builds its tests need
in the background (``python -m tests.shared html FOLDER``, from the
``start_shared_builds`` fixture in conftest.py), so that the workers go on with
tests that need no build, such as the examples', instead of one building while
the other waits for it. Whoever takes the lock first builds; the record is the
same either way.
"""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

from commands.build import doctree_folder

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["handbook"]
SOURCE = SETTINGS["source-dir"]
SPHINX_OPTIONS: list[str] = SETTINGS["sphinx-options"]


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


def make_html(outdir: Path) -> dict:
    """The real handbook as HTML, built as ``nox -s docs`` builds it."""
    build = build_html(ROOT, outdir)
    return {"returncode": build.returncode, "log": build.log}


def make_pdf(workdir: Path) -> dict:
    """The real handbook as a PDF, through xelatex, as ``nox -s pdf`` builds it."""
    build = sphinx(ROOT, workdir, "-M", "latexpdf")
    return {"returncode": build.returncode, "log": build.log[-5000:]}


BUILDS: dict[str, Callable[[Path], dict]] = {"html": make_html, "pdf": make_pdf}


def make_once(folder: Path, make: Callable[[Path], dict]) -> dict:
    """Make ``folder`` once, whichever process asks first; return its record.

    ``make`` gets an empty folder, builds into it and returns a JSON-able
    record, saved beside the folder. A process that died before writing the
    record leaves only a folder, which the next one empties and builds again.
    """
    record = folder.with_suffix(".json")
    with FileLock(folder.with_suffix(".lock")):
        if not record.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            record.write_text(json.dumps(make(folder)), encoding="utf-8")
    return json.loads(record.read_text(encoding="utf-8"))


if __name__ == "__main__":
    name, folder = sys.argv[1:]
    make_once(Path(folder), BUILDS[name])
