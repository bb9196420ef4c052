"""What a build of the handbook needs, for tools that work on a copy of it.

The tests change a copy before building it, and the benchmark adds synthetic
articles to one; both copy the same parts with :func:`copy_project`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

# tests/examples: an article may show a worked example's test (a regression test).
PARTS = ("conf.py", "pyproject.toml", "docs", "handbook", "commands", "examples", "tests/examples")


def copy_project(root: Path, destination: Path) -> Path:
    """Copy everything a build needs from ``root`` to ``destination``."""
    destination.mkdir(parents=True, exist_ok=True)
    for part in PARTS:
        source = root / part
        if source.is_dir():
            shutil.copytree(
                source, destination / part, ignore=shutil.ignore_patterns("__pycache__", "_build")
            )
        else:
            shutil.copy2(source, destination / part)
    return destination
