"""Every output an article shows is exactly what its example prints today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

OUTPUTS = sorted((ROOT / "examples").glob("*.out"))


def test_there_are_recorded_outputs() -> None:
    assert OUTPUTS, "no examples/*.out file: the parametrized check below would test nothing"


@pytest.mark.parametrize("recorded", OUTPUTS, ids=[p.stem for p in OUTPUTS])
def test_example_prints_its_recorded_output(recorded: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", f"examples.{recorded.stem}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout == recorded.read_text(encoding="utf-8"), (
        f"examples/{recorded.stem}.py no longer prints what the article shows; rerun it and "
        f"update examples/{recorded.name}"
    )
