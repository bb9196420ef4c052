"""Every output an article shows is exactly what its example prints today.

Examples in ``RECORDED`` measure a real PostgreSQL server, so their numbers
change from run to run and machine to machine. Their ``.out`` and ``.json``
files are one recorded run (the example's ``--record`` option writes both).
For those, the test runs the example against the ``postgres`` fixture and
compares shape only: the same lines with every number replaced by ``#``, and
a JSON file with the same keys in the same structure. The shape does not depend
on how many units each benchmark run sells, so the test sells 40 where the
recording sold 500 (``QUICK_STOCK``): the run takes about 6 seconds instead of
27; ``test_contention_and_locks.py`` checks what each strategy sells.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.shared import ROOT

OUTPUTS = sorted((ROOT / "examples").glob("*.out"))
RECORDED = {"contention_and_locks"}
QUICK_STOCK = 40
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def test_there_are_recorded_outputs() -> None:
    assert OUTPUTS, "no examples/*.out file: the parametrized check below would test nothing"


def shape(text: str) -> list[str]:
    """The lines of a printout with every number replaced by ``#`` and spacing ignored.

    Columns are right-aligned, so a wider number moves the spaces before it.
    """
    return [" ".join(NUMBER.sub("#", line).split()) for line in text.splitlines()]


def keys(value: Any) -> Any:
    """A JSON value's structure: keys of objects, items of arrays, no scalar values."""
    if isinstance(value, dict):
        return {key: keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [keys(item) for item in value]
    return None


def test_shape_hides_numbers_but_not_labels() -> None:
    assert shape("LOCK TABLE    4   200  1342\n") == shape("LOCK TABLE   16    20  364.5\n")
    assert shape("LOCK TABLE    4\n") != shape("SELECT FOR UPDATE    4\n")
    assert shape("a\nb\n") != shape("a\n")
    assert keys({"runs": [{"a": 1}]}) != keys({"runs": [{"b": 1}]})


@pytest.mark.parametrize("recorded", OUTPUTS, ids=[p.stem for p in OUTPUTS])
def test_example_prints_its_recorded_output(
    recorded: Path, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    extra: list[str] = []
    if recorded.stem in RECORDED:
        extra = [request.getfixturevalue("postgres"), "--record", str(tmp_path)]
        extra += ["--stock", str(QUICK_STOCK)]
    done = subprocess.run(
        [sys.executable, "-m", f"examples.{recorded.stem}", *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120 if extra else 60,
    )
    expected = recorded.read_text(encoding="utf-8")
    if recorded.stem not in RECORDED:
        assert done.stdout == expected, (
            f"examples/{recorded.stem}.py no longer prints what the article shows; rerun it and "
            f"update examples/{recorded.name}"
        )
        return
    assert shape(done.stdout) == shape(expected), (
        f"examples/{recorded.stem}.py prints lines of another shape than the recorded run; "
        f"record it again with --record examples"
    )
    data = recorded.with_suffix(".json")
    fresh = json.loads((tmp_path / data.name).read_text(encoding="utf-8"))
    assert keys(fresh) == keys(json.loads(data.read_text(encoding="utf-8")))
