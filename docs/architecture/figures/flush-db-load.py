"""Database load and p99 latency after invalidating every key, from the worked example."""

from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter

from examples.cache_consistency import (
    FLUSH_COALESCED,
    FLUSH_NAIVE,
    GENERATION_PACED,
    Workload,
    load_curves,
)
from handbook.figures import COLORS

STYLES = {
    FLUSH_NAIVE: (COLORS["bad"], "-"),
    FLUSH_COALESCED: (COLORS["neutral"], "--"),
    GENERATION_PACED: (COLORS["good"], "-"),
}


def _milliseconds(value: float, _position: int) -> str:
    return f"{value / 1000:g} s" if value >= 1000 else f"{value:g} ms"


def draw(figure: Figure) -> None:
    reads, latency = figure.subplots(1, 2)
    workload = Workload()
    for strategy, points in load_curves().items():
        color, line = STYLES[strategy]
        seconds = [t for t, _, _ in points]
        reads.plot(seconds, [n for _, n, _ in points], color=color, ls=line, label=strategy)
        latency.plot(seconds, [p for _, _, p in points], color=color, ls=line, label=strategy)
    for axes in (reads, latency):
        axes.axvline(workload.event_at_s, color=COLORS["muted"], lw=1, ls=":")
        axes.set_xlabel("time (s); all invalidated at 5 s")
    deadline = workload.event_at_s + workload.deadline_s
    reads.axvline(deadline, color=COLORS["muted"], lw=1, ls=":")
    reads.text(deadline - 1, 3000, "deadline", color=COLORS["muted"], ha="right")
    reads.axhline(workload.db_capacity_per_s, color=COLORS["muted"], lw=1, ls=":")
    reads.text(42, workload.db_capacity_per_s + 50, "capacity", color=COLORS["muted"], va="bottom")
    reads.set(ylabel="database reads issued per second", ylim=(0, None))
    reads.set_title("Load on the database", loc="left")
    latency.set_yscale("log")
    latency.yaxis.set_major_locator(FixedLocator([1, 10, 100, 1000, 10_000]))
    latency.yaxis.set_major_formatter(FuncFormatter(_milliseconds))
    latency.set(ylabel="p99 request latency")
    latency.set_title("What users wait", loc="left")
    figure.legend(*reads.get_legend_handles_labels(), loc="outside lower center", ncols=2)
