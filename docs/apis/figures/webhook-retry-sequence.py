"""The worked example's deliveries as a sequence diagram, from the sender's own log.

Time runs down in simulated seconds. Each attempt is an arrow from the sender
to the receiver and an answer back; the attempt whose answer came too late is
the sender waiting on its own lifeline until it gives up; the worker's
decisions are arrows from the inbox to the worker.
"""

from matplotlib.figure import Figure

from examples.webhooks import Arrow, delivery_timeline, sequence_arrows
from handbook.figures import COLORS

LANES = {"sender": 0.0, "receiver": 1.0, "worker": 2.0}
LANE_NAMES = ["sender", "receiver\n(verify + inbox)", "worker"]
STYLES = {  # colour, line style, width
    "request": ("black", "-", 1.3),
    "ok": (COLORS["good"], "-", 1.3),
    "duplicate": (COLORS["neutral"], "-", 1.3),
    "failure": (COLORS["bad"], "--", 2.2),
    "applied": (COLORS["good"], "-", 1.3),
    "stale": (COLORS["muted"], "-", 1.3),
}


def caption(arrow: Arrow, versions: dict[str, int]) -> tuple[str, float, str]:
    """The text shown next to an arrow: words, horizontal position, alignment."""
    event, _, rest = arrow.label.partition(" ")
    if arrow.kind == "request":
        return f"{event} {rest.split()[0]} ({rest.split()[1]})", 0.5, "center"
    if arrow.source == arrow.target:
        return f"no answer in\n{arrow.end - arrow.start:.0f} s: timeout", 0.04, "left"
    if arrow.target == "worker":
        event = arrow.label.split(":")[0]
        if arrow.kind == "stale":
            return f"skip v{versions[event]} (stale)", 1.5, "center"
        return f"apply v{versions[event]}", 1.5, "center"
    answer = arrow.label.split(": ")[1]
    return {"200": "200 duplicate"}.get(answer, answer), 0.5, "center"


def draw(figure: Figure) -> None:
    figure.set_size_inches(6.4, 6.4)
    ax = figure.subplots()
    run = delivery_timeline()
    versions = {a.event_id: a.version for a in run.attempts}
    arrows = sequence_arrows(run)
    bottom = max(a.end for a in arrows) + 1.0
    for x in LANES.values():
        ax.plot([x, x], [-1.0, bottom], color=COLORS["muted"], lw=1, zorder=1)
    for arrow in arrows:
        color, style, width = STYLES[arrow.kind]
        x0, x1 = LANES[arrow.source], LANES[arrow.target]
        ax.plot(
            [x0, x1],
            [arrow.start, arrow.end],
            color=color,
            ls=style,
            lw=width,
            label=arrow.label,
            zorder=3,
        )
        if arrow.source == arrow.target:
            ax.plot([x1], [arrow.end], marker="x", ms=9, mew=2.2, color=color, zorder=4)
        else:
            ax.annotate(
                "",
                xy=(x1, arrow.end),
                xytext=(x0 + 0.8 * (x1 - x0), arrow.start + 0.8 * (arrow.end - arrow.start)),
                arrowprops={"arrowstyle": "-|>", "color": color, "lw": width},
                zorder=4,
            )
        text, x, align = caption(arrow, versions)
        above = arrow.kind in {"request", "applied", "stale"} or arrow.source == arrow.target
        y = (arrow.start + arrow.end) / 2
        ax.annotate(
            text,
            (x, y),
            xytext=(0, 4 if above else -4),
            textcoords="offset points",
            ha=align,
            va="bottom" if above else "top",
            color=color,
            fontsize=9,
        )
    for retry in (a for a in run.attempts if a.number > 1):
        previous = next(
            p for p in run.attempts if p.event_id == retry.event_id and p.number == retry.number - 1
        )
        wait = retry.sent_at - previous.answered_at
        ax.annotate(
            f"backoff\n{wait:.1f} s",
            (-0.04, (previous.answered_at + retry.sent_at) / 2),
            ha="right",
            va="center",
            color=COLORS["muted"],
            fontsize=9,
        )
    ax.set_xlim(-0.42, 2.25)
    ax.set_ylim(bottom, -1.0)
    ax.set_xticks(list(LANES.values()), LANE_NAMES)
    ax.xaxis.tick_top()
    ax.tick_params(axis="x", length=0)
    ax.grid(axis="x", visible=False)
    ax.set_ylabel("simulated time (s)")
    ax.spines[["bottom", "left"]].set_visible(False)
