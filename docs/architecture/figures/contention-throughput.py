"""Reservations per second against concurrent workers, from the recorded example run."""

from matplotlib.figure import Figure

from examples.contention_and_locks import recorded_runs, recorded_throughput
from handbook.figures import COLORS

STYLES = {
    "conditional UPDATE": (COLORS["good"], "o", "-"),
    "SELECT FOR UPDATE": (COLORS["neutral"], "s", "-"),
    "LOCK TABLE": ("black", "^", "--"),
    "optimistic version": (COLORS["bad"], "D", "-"),
}


LOCKS = ("SELECT FOR UPDATE", "LOCK TABLE")


def lock_ceilings() -> dict[str, list[tuple[int, float]]]:
    """1 / mean hold time of each lock, per concurrency, in reservations per second."""
    ceilings: dict[str, list[tuple[int, float]]] = {}
    for run in recorded_runs():
        if run.strategy in LOCKS:
            ceilings.setdefault(run.strategy, []).append((run.workers, 1000 / run.hold_ms))
    return ceilings


def draw(figure: Figure) -> None:
    axes = figure.subplots()
    curves = recorded_throughput()
    for strategy, (color, marker, line) in STYLES.items():
        workers, rate = zip(*curves[strategy], strict=True)
        axes.plot(workers, rate, color=color, marker=marker, ls=line, label=strategy)
    for strategy, points in lock_ceilings().items():
        workers, ceiling = zip(*points, strict=True)
        color = STYLES[strategy][0]
        # "_" labels keep the ceilings out of the legend; the annotation names them.
        axes.plot(workers, ceiling, color=color, lw=1, ls=":", label=f"_1/hold {strategy}")
    top = max(rate for points in lock_ceilings().values() for _, rate in points)
    axes.annotate(
        "dotted: 1 / hold time of each lock",
        (4, top),
        xytext=(0, 6),
        textcoords="offset points",
        color=COLORS["muted"],
    )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xticks([1, 4, 16, 50], labels=["1", "4", "16", "50"])
    axes.set_yticks(
        [100, 200, 500, 1000, 2000, 5000], labels=["100", "200", "500", "1k", "2k", "5k"]
    )
    axes.minorticks_off()
    axes.set(xlabel="concurrent workers (log scale)", ylabel="reservations per second (log)")
    axes.set_ylim(100, 12000)
    axes.set_title("One hot SKU, 2 ms of work per reservation", loc="left")
    axes.legend(loc="upper left")
