"""Expected downtime per 30 days against the number of critical dependencies, three designs."""

from matplotlib.figure import Figure

from examples.talking_about_reliability import downtime_curve, downtime_minutes
from handbook.figures import COLORS

STYLES = {
    "chain of single dependencies": (COLORS["bad"], "o", "-"),
    "each dependency a redundant pair": (COLORS["good"], "s", "-"),
    "redundant pairs sharing one config system": (COLORS["neutral"], "^", "--"),
}


def draw(figure: Figure) -> None:
    ax = figure.subplots()
    for label, points in downtime_curve().items():
        color, marker, line = STYLES[label]
        ax.plot(*zip(*points, strict=True), color=color, marker=marker, ls=line, label=label)
    budget = downtime_minutes(0.999)
    ax.axhline(budget, color="black", lw=1, ls=":")
    ax.annotate(
        f"99.9 % budget: {budget:.1f} min",
        (10, budget),
        xytext=(0, 4),
        textcoords="offset points",
        ha="right",
        va="bottom",
    )
    ax.set_yscale("log")
    ax.set(
        xlabel="critical dependencies, each 99.9 % available",
        ylabel="expected downtime per 30 days (min)",
        xticks=range(1, 11),
    )
    ax.legend(loc="center right")
