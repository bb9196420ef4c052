"""What each ddmin test ran on, for the two reductions in the worked example."""

from matplotlib.figure import Figure

from examples.bug_investigation import shrink_traces
from handbook.figures import COLORS


def draw(figure: Figure) -> None:
    figure.set_size_inches(6.4, 4.6)
    traces = shrink_traces()
    panels = figure.subplots(len(traces), 1, sharex=True, sharey=True)
    for axes, (strategy, trace) in zip(panels, traces.items(), strict=True):
        tests = range(1, len(trace) + 1)
        current, left = None, []
        for size, failed in trace:
            current = size if failed else current
            left.append(current)
        axes.step(
            tests, left, where="post", color="black", label="input left (last failing candidate)"
        )
        kept = [(t, size) for t, (size, failed) in zip(tests, trace, strict=True) if failed]
        passed = [(t, size) for t, (size, failed) in zip(tests, trace, strict=True) if not failed]
        axes.plot(
            *zip(*passed, strict=True),
            "o",
            ms=4,
            mfc="none",
            color=COLORS["muted"],
            label="candidate passed",
        )
        axes.plot(
            *zip(*kept, strict=True), "o", ms=5, color=COLORS["bad"], label="candidate failed"
        )
        axes.set_yscale("log")
        axes.yaxis.set_major_formatter(lambda y, _: f"{y:,.0f}")
        axes.set_title(f"{strategy}: {len(trace)} tests to {left[-1]} characters", loc="left")
        axes.set_ylabel("characters")
    panels[0].legend(loc="upper right")
    first, *_ = traces.values()
    panels[-1].axvline(len(first), color=COLORS["neutral"], lw=1, ls="--")
    panels[-1].text(
        len(first) + 2,
        2000,
        f"the run above was done\nafter {len(first)} tests",
        color=COLORS["neutral"],
        va="center",
    )
    panels[-1].set_xlabel("test run")
    panels[-1].set_xlim(0, len(max(traces.values(), key=len)) + 1)
