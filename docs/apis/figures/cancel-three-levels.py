"""The same "cancel an order" race at Richardson levels 0, 2 and 3, as the wire recorded it.

Each row is one exchange the worked example's client sent to a real server:
the request as a proxy would log it, and the response's status line with the
one fact a client acts on. The dashed rule marks the moment the warehouse
ships the order; the last line of each band is what the client concluded.
"""

from matplotlib.figure import Figure

from examples.rest_or_http_json import race_rows
from handbook.figures import COLORS

TITLES = {
    "level 0": "Level 0: one endpoint, POST /api, every answer 200",
    "level 2": "Level 2: resources, methods, status codes, If-Match",
    "level 3": "Level 3: level 2 plus a cancel link only while allowed",
}
STEP = 1.0  # vertical distance between rows
MONO = {"family": "monospace", "fontsize": 9}
QUOTE = ("\N{LEFT DOUBLE QUOTATION MARK}", "\N{RIGHT DOUBLE QUOTATION MARK}")


def draw(figure: Figure) -> None:
    rows = race_rows()
    levels = list(dict.fromkeys(level for level, *_ in rows))
    height = len(rows) + 2 * len(levels)
    figure.set_size_inches(6.8, 0.27 * height + 0.4)
    axes = figure.subplots()
    axes.set_axis_off()

    y = 0.0
    for level in levels:
        axes.text(0.0, y, TITLES[level], fontweight="bold", va="center", fontsize=10)
        y -= STEP
        for row_level, request, response, kind in rows:
            if row_level != level:
                continue
            if kind == "event":
                axes.plot([0.02, 1.0], [y, y], ls="--", lw=1, color=COLORS["muted"])
                axes.text(
                    0.5, y, f" {request} ", ha="center", va="center", fontsize=9,
                    color=COLORS["muted"], style="italic",
                    bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none"},
                )  # fmt: skip
            elif kind == "outcome":
                color = COLORS["good"] if level == "level 3" else "black"
                text = f"client shows {QUOTE[0]}{request}{QUOTE[1]} after {response}"
                axes.text(0.02, y, text, va="center", fontsize=9, color=color)
            else:
                hidden = kind == "hidden"
                axes.text(0.02, y, request, va="center", **MONO)
                axes.annotate(
                    "", xy=(0.585, y), xytext=(0.545, y),
                    arrowprops={"arrowstyle": "->", "color": COLORS["muted"], "lw": 1},
                )  # fmt: skip
                axes.text(
                    0.6, y, response, va="center", **MONO,
                    color=COLORS["bad"] if hidden else "black",
                    fontweight="bold" if hidden or not response.startswith("200") else "normal",
                )  # fmt: skip
                if hidden:
                    axes.text(
                        0.6, y - 0.55, "the failure is only in the body",
                        va="center", fontsize=8, color=COLORS["bad"],
                    )  # fmt: skip
                    y -= 0.35
            y -= STEP
        y -= STEP * 0.6
    axes.set_xlim(0, 1)
    axes.set_ylim(y + 0.4, 0.6)
