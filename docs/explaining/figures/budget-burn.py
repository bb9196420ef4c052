"""A replayed month: error budget left, the on-pace line, and when each Workbook alert fired."""

from matplotlib.figure import Figure

from examples.talking_about_reliability import PERIOD_DAYS, alert_marks, replay_month
from handbook.figures import COLORS

MARKERS = (("v", COLORS["bad"]), ("s", COLORS["bad"]), ("o", COLORS["neutral"]))


def draw(figure: Figure) -> None:
    ax = figure.subplots()
    left = replay_month().budget_left_hourly()
    ax.plot(*zip(*[(d, b * 100) for d, b in left], strict=True), color="black", label="budget left")
    pace = "burn rate 1 (on pace)"
    ax.plot([0, PERIOD_DAYS], [100, 0], color=COLORS["muted"], ls="--", label=pace)
    for (label, marks), (marker, color) in zip(alert_marks().items(), MARKERS, strict=True):
        xs, ys = zip(*[(d, b * 100) for d, b in marks], strict=True)
        ax.plot(xs, ys, ls="none", marker=marker, ms=9, color=color, label=label)
    ax.set(xlabel="day of the 30-day window", ylabel="error budget left (%)", xlim=(0, PERIOD_DAYS))
    ax.set_ylim(0, 105)
    ax.legend(loc="lower left")
