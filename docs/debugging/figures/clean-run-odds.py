"""Chance that a bug which is still there lets n runs in a row pass, from the worked example."""

from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullLocator

from examples.intermittent_failures import chance_all_pass, clean_run_curves, runs_needed
from handbook.figures import COLORS

STYLES = {0.10: ("black", ":"), 0.05: (COLORS["neutral"], "--"), 0.02: (COLORS["bad"], "-")}


def draw(figure: Figure) -> None:
    axes = figure.subplots()
    for rate, points in clean_run_curves().items():
        color, line = STYLES[rate]
        runs, chance = zip(*points, strict=True)
        axes.plot(
            runs,
            [100 * c for c in chance],
            color=color,
            ls=line,
            label=f"bug fails {100 * rate:.0f} % of runs",
        )
        needed = runs_needed(rate)
        axes.plot(needed, 100 * chance_all_pass(rate, needed), "o", color=color)
        axes.annotate(
            f"{needed}",
            (needed, 100 * chance_all_pass(rate, needed)),
            xytext=(6, 6),
            textcoords="offset points",
            color=color,
        )

    axes.axhline(5, color=COLORS["muted"], lw=1, label="5 %: 95 % sure to have seen it")

    ten = 100 * chance_all_pass(0.02, 10)
    axes.plot(10, ten, "o", color=COLORS["bad"])
    axes.annotate(
        f"10 clean runs: {ten:.0f} % of the time\nwith a 2 % bug still there",
        (10, ten),
        xytext=(30, 95),
        va="top",
        arrowprops={"arrowstyle": "-", "color": COLORS["bad"], "lw": 1},
    )

    axes.set_yscale("log")
    axes.yaxis.set_major_locator(FixedLocator([1, 2, 5, 10, 20, 50, 100]))
    axes.yaxis.set_minor_locator(NullLocator())
    axes.yaxis.set_major_formatter(lambda y, _: f"{y:g}")
    axes.set(xlabel="runs in a row", ylabel="chance that every run passes (%)")
    axes.set_xlim(0, 200)
    axes.set_ylim(1, 100)
    axes.legend(loc="upper right")
