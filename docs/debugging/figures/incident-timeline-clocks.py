"""The incident timeline before and after clock correction, from the worked example.

Each event of the merged log is drawn at its best estimate, in milliseconds
after the rollout start, on its host's row, with its uncertainty interval as a
horizontal bar; hollow markers are events whose order against an earlier event
from another host cannot be proven.
"""

from datetime import timedelta

from matplotlib.figure import Figure

from examples.investigation_process import around_rollout, demo_app_offset, demo_sources
from handbook.figures import COLORS

ROWS = {"lb": 2, "app": 1, "db": 0}
ROW_NAMES = ["db (syslog)", "app", "load balancer\n(reference)"]
# Short labels for the demo's log lines, matched by the first fragment found.
SHORT = {
    "502 count=37": "first 502",
    "502 count=210": "502 \N{MULTIPLICATION SIGN}210",
    "rollout": "rollout v412",
    "pool resized": "pool 50→400",
    "could not acquire": "no db\nconnection",
    "too many clients": "too many clients",
}
# Filled markers for events whose order is provable, hollow for the others.
MARKERS = ((False, "order provable", "black"), (True, "order not provable", "white"))
MS = timedelta(milliseconds=1)


def short(message: str) -> str:
    return next(label for fragment, label in SHORT.items() if fragment in message)


def draw(figure: Figure) -> None:
    figure.set_size_inches(6.4, 4.6)
    axes = figure.subplots(2, 1, sharex=True)
    app_offset, app_error = demo_app_offset()
    db = demo_sources(app_offset, app_error)[2]
    titles = {
        False: "Naive merge: clock offsets ignored",
        True: (
            f"Corrected: app clock {app_offset / MS:,.0f} ± {app_error / MS:.0f} ms fast, "
            f"db {db.clock_offset / MS:.0f} ± {db.offset_error / MS:.0f} ms fast"
        ),
    }
    for ax, correct in zip(axes, (False, True), strict=True):
        points = around_rollout(correct_clock=correct)
        ax.errorbar(
            [p.offset_ms for p in points],
            [ROWS[p.source] for p in points],
            xerr=[p.half_width_ms for p in points],
            fmt="none",
            ecolor="black",
            elinewidth=1.5,
            capsize=4,
        )
        for unproven, label, face in MARKERS:
            chosen = [p for p in points if p.order_unproven is unproven]
            ax.plot(
                [p.offset_ms for p in chosen],
                [ROWS[p.source] for p in chosen],
                ls="none",
                marker="o",
                ms=7,
                color="black",
                mfc=face,
                label=label,
                zorder=3,
            )
        for p in points:
            is_first_502 = short(p.message) == "first 502"
            text = short(p.message)
            if is_first_502:
                text += f"\n{p.offset_ms:+,.0f} ms".replace("-", "\N{MINUS SIGN}")
            ax.annotate(
                text,
                (p.offset_ms, ROWS[p.source]),
                xytext=(0, 8),
                textcoords="offset points",
                ha="center",
                va="bottom",
                color=COLORS["bad"] if is_first_502 else "black",
            )
        ax.axvline(0, color=COLORS["muted"], ls="--", lw=1)
        ax.set_yticks(range(3), ROW_NAMES)
        ax.set_ylim(-0.5, 3.0)
        ax.set_xlim(-700, 3300)
        ax.grid(axis="y", visible=False)
        ax.set_title(titles[correct], loc="left")
    axes[0].legend(loc="upper right")
    axes[1].set_xlabel("time after rollout start (ms, reference clock)")
