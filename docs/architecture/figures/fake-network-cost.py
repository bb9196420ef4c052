"""What 40 price look-ups cost one request, in process and over loopback HTTP (recorded)."""

from matplotlib.figure import Figure

from examples.modular_monolith import CALLS, boundary_cost_ms
from handbook.figures import COLORS


def draw(figure: Figure) -> None:
    axes = figure.subplots()
    costs = boundary_cost_ms()
    labels = list(costs)
    colors = [COLORS["good"], COLORS["bad"], COLORS["bad"]]
    axes.barh(labels, [costs[k] for k in labels], color=colors, height=0.55)
    for y, label in enumerate(labels):
        value = costs[label]  # the digits the article's table shows
        axes.text(
            value * 1.15, y, f"{value:.3f} ms" if value < 1 else f"{value:.2f} ms", va="center"
        )
    axes.set_xscale("log")
    axes.set_xlim(0.05, 200)
    axes.invert_yaxis()
    axes.set_xlabel(f"time for {CALLS} sequential look-ups (ms, log scale)")
    axes.set_title("Same function, same machine: only the boundary differs", loc="left")
