"""Read back what a plot drew, so tests can compare it with the data they assert."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from handbook.figures import render_plot

DOCS = Path(__file__).resolve().parents[1] / "docs"


def draw(path: str) -> Any:
    """Draw the plot file ``docs/<path>`` as the build does, and return the matplotlib figure."""
    return render_plot(DOCS / path)


def lines(figure: Any, axes: int = 0) -> dict[str, list[tuple[float, float]]]:
    """The labelled lines of one axes: ``{label: [(x, y), ...]}`` (unlabelled ones skipped)."""
    return {
        line.get_label(): [(float(x), float(y)) for x, y in line.get_xydata()]
        for line in figure.axes[axes].get_lines()
        if not line.get_label().startswith("_")
    }
