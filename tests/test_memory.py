"""The garbage collector skips the environment while pages are written, and only then."""

from __future__ import annotations

import gc
from types import SimpleNamespace

from handbook import memory


def test_the_freeze_lasts_from_reading_to_the_end_of_the_build() -> None:
    before = gc.get_freeze_count()
    kept = [object() for _ in range(1000)]  # alive now, as the environment is after reading
    memory.freeze_environment(SimpleNamespace(), SimpleNamespace())  # type: ignore[arg-type]
    assert gc.get_freeze_count() >= before + len(kept)
    memory.thaw(SimpleNamespace(), None)  # type: ignore[arg-type]
    assert gc.get_freeze_count() == 0
