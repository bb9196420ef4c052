"""Chance that a fan-out request waits on at least one slow call, from the worked example."""

from matplotlib.figure import Figure

from examples.cascading_failures import fanout_curve, prob_any_slow
from handbook.figures import COLORS

CURVES = {
    0.01: ("1 %", COLORS["bad"]),
    0.001: ("0.1 %", COLORS["neutral"]),
    0.0001: ("0.01 %", COLORS["good"]),
}
"""Probability that one call is slow: its label and the colour of its curve."""


def draw(figure: Figure) -> None:
    axes = figure.subplots()
    for p_slow, (share, color) in CURVES.items():
        fanouts, shares = zip(*fanout_curve(p_slow), strict=True)
        label = f"each call slow {share} of the time"
        axes.plot(fanouts, [s * 100 for s in shares], color=color, label=label)
    marked = prob_any_slow(0.01, 100) * 100
    axes.plot([100], [marked], "o", color="black")
    axes.annotate(
        f"100 calls at 1 %:\n{marked:.0f} % slow",
        (100, marked),
        xytext=(14, -44),
        textcoords="offset points",
        arrowprops={"arrowstyle": "-", "color": "black", "lw": 0.8},
    )
    axes.set_xscale("log")
    axes.set_xticks([1, 10, 100, 1000], ["1", "10", "100", "1,000"])
    axes.set(
        xlabel="parallel calls the request waits for",
        ylabel="requests slow (%)",
        xlim=(1, 1000),
        ylim=(0, 102),
    )
    axes.legend(loc="upper left")
