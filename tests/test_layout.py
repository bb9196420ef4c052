"""The layout shows the architecture: extension, commands and data apart, no cycles."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.shared import ROOT

PACKAGES = ("handbook", "commands")
CODE = [
    path
    for folder in (*PACKAGES, "tests", "tools", "benchmarks")
    for path in (ROOT / folder).rglob("*.py")
    if "node_modules" not in path.parts
]
IMPORT = re.compile(r"^\s*(?:from ([\w.]+) import ([\w, ]+)|import ([\w.]+))", re.M)


def test_no_code_reads_conf_py_as_a_module() -> None:
    reading = re.compile(r"^\s*(?:from conf import|import conf\b)|run_path\([^)]*conf\.py", re.M)
    found = [str(path.relative_to(ROOT)) for path in CODE if reading.search(path.read_text())]
    assert not found, f"read conf.py with sphinx.config.eval_config_file instead: {found}"


def test_contributor_commands_load_no_sphinx() -> None:
    probe = (
        "import sys, commands.check, commands.scaffold, commands.urls, commands.build; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sphinx', 'ablog', 'furo'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout


def modules_imported_by(module: str) -> set[str]:
    """The project modules that ``module`` imports, anywhere in its file."""
    text = (ROOT / f"{module.replace('.', '/')}.py").read_text(encoding="utf-8")
    found = set()
    for source, names, plain in IMPORT.findall(text):
        if plain:
            found.add(plain)
        elif source in PACKAGES:  # from handbook import articles, cards
            found |= {f"{source}.{name.strip()}" for name in names.split(",") if name.strip()}
        else:
            found.add(source)
    return {name for name in found if name.split(".")[0] in PACKAGES and name not in PACKAGES}


def test_no_import_cycles_between_project_modules() -> None:
    graph = {
        f"{package}.{path.stem}": modules_imported_by(f"{package}.{path.stem}")
        for package in PACKAGES
        for path in (ROOT / package).glob("*.py")
        if path.stem != "__init__"
    }
    assert graph["commands.scaffold"], "the import pattern finds nothing"

    def cycle_from(start: str, path: tuple[str, ...]) -> tuple[str, ...] | None:
        for child in sorted(graph.get(start, ())):
            if child in path:
                return (*path[path.index(child) :], child)
            found = cycle_from(child, (*path, child))
            if found:
                return found
        return None

    for module in graph:
        cycle = cycle_from(module, (module,))
        assert cycle is None, " -> ".join(cycle or ())


def test_topics_live_beside_the_tags() -> None:
    assert (ROOT / "docs" / "topics.yaml").is_file()
    assert "handbook_topics" not in (ROOT / "conf.py").read_text(encoding="utf-8")
