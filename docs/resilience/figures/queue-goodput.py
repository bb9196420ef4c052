"""Goodput against offered load for the three queue policies, from the worked example."""

from matplotlib.figure import Figure

from examples.saturation_and_queues import Load, goodput_curve, mm1_wait_factor
from handbook.figures import COLORS

STYLES = {
    "unbounded FIFO": (COLORS["bad"], "o", "-"),
    "bounded, deadline-aware": (COLORS["good"], "s", "-"),
    "bounded + CoDel + LIFO": (COLORS["neutral"], "^", "--"),
}


def draw(figure: Figure) -> None:
    waits, goodput = figure.subplots(1, 2, gridspec_kw={"width_ratios": [2, 3]})

    loads = [u / 100 for u in range(0, 96)]
    waits.plot([u * 100 for u in loads], [mm1_wait_factor(u) for u in loads], color="black")
    waits.set(xlabel="utilization (%)", ylabel="mean wait / service time", ylim=(0, 20))
    waits.set_title("M/M/1: waiting explodes near 100 %", loc="left")

    curve = goodput_curve()
    for policy, (color, marker, line) in STYLES.items():
        points = [(u * 100, g) for p, u, g in curve if p == policy]
        goodput.plot(*zip(*points, strict=True), color=color, marker=marker, ls=line, label=policy)
    goodput.axhline(Load(1.0).capacity_per_s, color=COLORS["muted"], lw=1, ls=":")
    goodput.set(xlabel="offered load (% of capacity)", ylabel="answers in time per second")
    goodput.set_ylim(bottom=0)
    goodput.set_title("Goodput in the simulation", loc="left")
    goodput.legend(loc="lower left")
