"""Share of keys that move when one worker joins, rendezvous hashing against hash mod n."""

from matplotlib.figure import Figure

from examples.workload_affinity import join_movement
from handbook.figures import COLORS


def draw(figure: Figure) -> None:
    axes = figure.subplots()
    sizes, rendezvous, modulo = zip(*join_movement(), strict=True)
    axes.plot(sizes, [m * 100 for m in modulo], "o-", color=COLORS["bad"], ms=4, label="hash mod n")
    axes.plot(
        sizes, [r * 100 for r in rendezvous], "s-", color=COLORS["good"], ms=4, label="rendezvous"
    )
    # What each scheme should move: the new worker's fair share 1/(n+1), and
    # all but the one key in n+1 whose hash mod n and mod n+1 agree.
    share = [100 / (n + 1) for n in sizes]
    expected = {"color": "black", "lw": 1, "ls": ":", "zorder": 3}
    axes.plot(sizes, [100 - s for s in share], label="expected: n/(n+1), 1/(n+1)", **expected)
    axes.plot(sizes, share, **expected)
    axes.set(
        xlabel="workers before one more joins (n)",
        ylabel="keys that change owner (%)",
        xlim=(sizes[0] - 0.5, sizes[-1] + 0.5),
        ylim=(0, 100),
    )
    axes.set_xticks(range(sizes[0], sizes[-1] + 1, 2))
    axes.legend(loc="center right")
