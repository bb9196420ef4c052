"""Calls per day on a retiring API version, one row per consumer, from the worked example.

Each row is one scripted consumer of version 2024-01-15. The line counts the
requests it sent with that version each day; red crosses mark days on which
some of them were answered 410 (a brown-out, or the version after its sunset).
Dotted lines mark the deprecation (day 0), the two brown-outs and the sunset.
"""

from matplotlib.figure import Figure

from examples.api_contract_evolution import CONSUMERS, lifecycle_usage
from handbook.figures import COLORS

ROW_TITLES = {
    "billing-sync": "billing-sync alerts on Deprecation: moved on day {moved}",
    "partner-erp": "partner-erp ignored headers and e-mail: moved on day {moved}, after a 410",
    "ops-report": "ops-report, a daily job nobody owns: never moved",
}
EVENT_LABELS = {
    "brown-out 1": "brown-out\n12 h",
    "brown-out 2": "brown-out\n24 h",
    "sunset": "sunset",
}


def draw(figure: Figure) -> None:
    figure.set_size_inches(6.4, 5.0)
    life = lifecycle_usage()
    axes = figure.subplots(len(CONSUMERS), 1, sharex=True, sharey=True)
    for ax, consumer in zip(axes, CONSUMERS, strict=True):
        calls = life.calls[consumer.name]
        failures = life.failures[consumer.name]
        ax.plot(
            range(len(calls)), calls, color="black", drawstyle="steps-post", label=consumer.name
        )
        failed = [(day, n) for day, n in enumerate(failures) if n]
        ax.plot(
            [day for day, _ in failed],
            [n for _, n in failed],
            ls="none",
            marker="x",
            ms=6,
            mew=1.6,
            color=COLORS["bad"],
            label="answered 410",
        )
        for day in life.events.values():
            ax.axvline(day, color=COLORS["muted"], ls=":", lw=1.2)
        ax.set_title(
            ROW_TITLES[consumer.name].format(moved=life.moved_on[consumer.name]), loc="left"
        )
        ax.set_ylabel("calls/day")
        ax.set_ylim(0, 5)
        ax.set_yticks([0, 2, 4])
    for name, day in life.events.items():
        if name in EVENT_LABELS:  # the deprecation is day 0, the left edge
            axes[0].text(day + 2, 4.9, EVENT_LABELS[name], va="top", color=COLORS["muted"])
    axes[-1].legend(handles=axes[-1].get_lines()[1:2], loc="center left")
    axes[-1].set_xlabel("days since version 2024-01-15 was deprecated")
    axes[-1].set_xlim(0, len(life.calls[CONSUMERS[0].name]))
