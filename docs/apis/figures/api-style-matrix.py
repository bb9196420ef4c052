"""The decision matrix's weighted scores, and which single weights can change the mobile BFF."""

from matplotlib.figure import Figure

from examples.api_styles import CRITERIA, SCENARIOS, STYLES, leaders_by_weight, matrix
from handbook.figures import COLORS

LOOK = {
    "HTTP+JSON": (COLORS["neutral"], "", "o"),
    "gRPC": ("#762a83", "//", "s"),
    "GraphQL": ("black", "..", "^"),
}
"""Colour, bar hatch and grid marker per style (dark, saturated, distinct)."""

SHORT = {
    "reach": "reach",
    "caching": "caches",
    "contract": "contract",
    "bytes": "bytes, CPU",
    "shapes": "shapes",
    "streaming": "streaming",
    "deadlines": "deadlines",
    "operability": "errors seen",
}
"""Row labels for the grid, in the order of CRITERIA."""


def draw(figure: Figure) -> None:
    bars, grid = figure.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})

    scores = matrix()
    names = list(SCENARIOS)
    width = 0.26
    for i, style in enumerate(STYLES):
        color, hatch, _ = LOOK[style]
        xs = [n + (i - 1) * width for n in range(len(names))]
        heights = [scores[name][style] for name in names]
        drawn = bars.bar(
            xs, heights, width, label=style, color="none", edgecolor=color, hatch=hatch, lw=1.5
        )
        bars.bar_label(drawn, fmt="%.2f", fontsize=8, padding=2, color=color, rotation=90)
    bars.set_xticks(range(len(names)), [n.replace(" ", "\n", 1) for n in names], fontsize=9)
    bars.set(ylabel="weighted score (1 to 5)", ylim=(0, 5.6))
    bars.set_title("Weighted score per scenario", loc="left")
    bars.legend(loc="upper center", ncols=3, bbox_to_anchor=(0.5, -0.2), fontsize=8.5)
    bars.grid(axis="x", visible=False)

    # One row per criterion, one column per weight: the marker of the style that leads
    # the mobile BFF when only that weight is moved; a cross where two styles tie.
    leaders = leaders_by_weight("Mobile BFF")
    rows = {criterion: len(CRITERIA) - 1 - i for i, criterion in enumerate(CRITERIA)}
    for style in STYLES:
        color, _, marker = LOOK[style]
        cells = [
            (w, rows[c])
            for c, by_weight in leaders.items()
            for w, s in enumerate(by_weight)
            if s == style
        ]
        grid.scatter(*zip(*cells, strict=True), marker=marker, s=42, color=color, label=style)
    ties = [
        (w, rows[c])
        for c, by_weight in leaders.items()
        for w, s in enumerate(by_weight)
        if s is None
    ]
    grid.scatter(*zip(*ties, strict=True), marker="x", s=42, color=COLORS["muted"], label="tie")
    chosen = [(SCENARIOS["Mobile BFF"][c], rows[c]) for c in CRITERIA]
    grid.scatter(
        *zip(*chosen, strict=True),
        marker="o",
        s=190,
        facecolors="none",
        edgecolors=COLORS["muted"],
        lw=1.2,
        label="_chosen weight",
    )
    grid.set_yticks(list(rows.values()), [SHORT[c] for c in rows])
    grid.set_xticks(range(6))
    grid.set(xlabel="weight of that one criterion", xlim=(-0.5, 5.5), ylim=(-0.6, 7.6))
    grid.grid(False)
    grid.set_title("Mobile BFF: leader as one weight moves", loc="left")
    grid.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8.5, handletextpad=0.3)
