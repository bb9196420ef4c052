"""Goodput per tick through and after the spike, per policy, from the worked example."""

from matplotlib.figure import Figure

from examples.cascading_failures import Scenario, goodput_timelines
from handbook.figures import COLORS

STYLES = {
    "retries, no protection": (COLORS["bad"], "-", 3),
    "no retries": (COLORS["muted"], "-", 2),
    "retry budget 10 %": (COLORS["neutral"], "-", 2),
    "budget + deadline check": ("black", ":", 2),
    "budget + deadline + shedding": (COLORS["good"], "--", 2),
}
"""Colour, line style and drawing order: the unprotected run on top, where all are at 0."""


def draw(figure: Figure) -> None:
    axes = figure.subplots()
    scenario = Scenario()
    axes.axvspan(scenario.spike_start, scenario.spike_end, color=COLORS["muted"], alpha=0.12)
    for name, goodput in goodput_timelines().items():
        color, line, order = STYLES[name]
        axes.plot(range(len(goodput)), goodput, color=color, ls=line, label=name, zorder=order)
    axes.annotate(
        "spike",
        (scenario.spike_start, 104),
        xytext=(3, 0),
        textcoords="offset points",
        color=COLORS["muted"],
        fontsize=9,
    )
    axes.set(xlabel="time (ticks)", ylabel="answers in time per tick", xlim=(0, scenario.ticks))
    axes.set_ylim(-3, 110)
    axes.legend(loc="center right")
