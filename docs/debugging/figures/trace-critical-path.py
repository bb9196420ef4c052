"""The checkout trace as a waterfall, with the latency critical path and its untraced gaps."""

from matplotlib.figure import Figure

from examples.reading_traces import (
    checkout_trace,
    correct_skew,
    critical_path,
    untraced_gaps,
    waterfall,
)
from handbook.figures import COLORS


def draw(figure: Figure) -> None:
    figure.set_size_inches(6.4, 4.2)
    axes = figure.subplots()

    spans, _ = correct_skew([s for s in checkout_trace() if s.trace_id == "t1"])
    rows = waterfall(spans)
    row_of = {span.span_id: index for index, (span, _) in enumerate(rows)}
    path = critical_path(spans)
    gaps = {(seg.span_id, seg.start) for seg, _ in untraced_gaps(path)}
    on_path = [seg for seg in path if (seg.span_id, seg.start) not in gaps]
    in_gap = [seg for seg in path if (seg.span_id, seg.start) in gaps]

    axes.barh(
        [row_of[span.span_id] for span, _ in rows],
        [span.duration for span, _ in rows],
        left=[span.start for span, _ in rows],
        height=0.7,
        color=COLORS["muted"],
        alpha=0.3,
        label="span",
    )
    axes.barh(
        [row_of[seg.span_id] for seg in on_path],
        [seg.length for seg in on_path],
        left=[seg.start for seg in on_path],
        height=0.7,
        color=COLORS["neutral"],
        label="latency critical path",
    )
    axes.barh(
        [row_of[seg.span_id] for seg in in_gap],
        [seg.length for seg in in_gap],
        left=[seg.start for seg in in_gap],
        height=0.7,
        color="none",
        edgecolor=COLORS["bad"],
        hatch="///",
        label="untraced gap on the path",
    )
    for seg in in_gap:
        axes.text(
            (seg.start + seg.end) / 2,
            row_of[seg.span_id] - 0.5,
            f"{seg.length} ms",
            ha="center",
            va="bottom",
            color=COLORS["bad"],
        )

    longest = max((span for span, depth in rows if depth > 0), key=lambda s: s.duration)
    axes.text(
        longest.end + 6,
        row_of[longest.span_id],
        f"longest: {longest.duration} ms,\nnone on the path",
        ha="left",
        va="center",
        fontsize=9,
    )

    axes.set_yticks(range(len(rows)), [f"{span.service}: {span.name}" for span, _ in rows])
    axes.invert_yaxis()
    axes.set_xlim(0, max(span.end for span, _ in rows))
    axes.set_xlabel("time since the request arrived (ms)")
    axes.grid(axis="y", visible=False)
    axes.legend(loc="lower left", ncols=1)
