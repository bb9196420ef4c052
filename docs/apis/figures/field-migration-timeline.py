"""Who read customer_ref and who read customer_id, day by day, in the worked example's rename.

One row per consumer; on each day a consumer processed events, a red circle in
the row's upper lane if it read the old name and a green square in the lower
lane if it read the new one. Vertical lines: the expand deploy, the first day
the seven-day quiet window was clear, and the contract deploy the evidence
gate allowed.
"""

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from examples.internal_integrations import CONSUMERS, EXPAND_DAY, migration_timeline, reads_by_day
from handbook.figures import COLORS

# Upper lane: the old field; lower lane: the new one.
LANES = {
    "customer_ref": (0.15, COLORS["bad"], "o"),
    "customer_id": (-0.15, COLORS["good"], "s"),
}


def draw(figure: Figure) -> None:
    figure.set_size_inches(6.4, 3.6)
    ax = figure.subplots()
    rollout = migration_timeline()
    names = [c.name for c in CONSUMERS]
    rows = {name: len(names) - 1 - i for i, name in enumerate(names)}
    for name in names:
        for field_name, (offset, color, marker) in LANES.items():
            days = [day for day, _ in reads_by_day(rollout, name, field_name)]
            ax.plot(
                days,
                [rows[name] + offset] * len(days),
                ls="none",
                marker=marker,
                ms=4.5,
                color=color,
                label=f"{name}: {field_name}",
            )
    marks = (
        (EXPAND_DAY, "expand\n(v3)", COLORS["muted"], "--", "left"),
        (rollout.quiet_open, "7 quiet\ndays", COLORS["bad"], ":", "right"),
        (rollout.contract_day, "contract\n(v4)", COLORS["good"], "-", "left"),
    )
    for day, text, color, style, side in marks:
        ax.axvline(day, color=color, ls=style, lw=1.2, label=text.replace("\n", " "))
        nudge = 0.4 if side == "left" else -0.4
        ax.text(day + nudge, len(names) - 0.45, text, ha=side, va="bottom", color=color)
    cadence = {c.name: c.cadence for c in CONSUMERS}
    ax.set_yticks([rows[n] for n in names], [f"{n}\n({cadence[n]})" for n in names])
    ax.set_ylim(-0.55, len(names) + 0.35)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("day (expand deployed on day 0)")
    ax.set_title("Fields each consumer read, from usage telemetry", loc="left")
    proxies = [
        Line2D([], [], ls="none", marker=marker, color=color, label=f"read {field_name}")
        for field_name, (_, color, marker) in LANES.items()
    ]
    figure.legend(handles=proxies, loc="outside lower center", ncols=2)
