"""Tests for the trace-reading example: critical path, gaps, skew, orphans, links."""

from __future__ import annotations

import itertools

import pytest

from examples.reading_traces import (
    Span,
    checkout_trace,
    correct_skew,
    critical_path,
    critical_share,
    find_orphans,
    find_root,
    queue_waits,
    untraced_gaps,
    waterfall,
)
from tests.figures import draw


def request_spans() -> list[Span]:
    return [s for s in checkout_trace() if s.trace_id == "t1"]


def fixed_path():
    fixed, _ = correct_skew(request_spans())
    return fixed, critical_path(fixed)


def test_critical_path_covers_the_root_exactly_once():
    fixed, path = fixed_path()
    root = find_root(fixed)
    assert sum(seg.length for seg in path) == root.duration
    for before, after in itertools.pairwise(path):
        assert before.end == after.start


def test_summed_span_time_exceeds_wall_time_when_work_is_parallel():
    fixed, _ = fixed_path()
    root = find_root(fixed)
    assert sum(s.duration for s in fixed if s is not root) > 2 * root.duration


def test_longest_span_is_not_on_the_critical_path():
    fixed, path = fixed_path()
    root = find_root(fixed)
    longest = max((s for s in fixed if s is not root), key=lambda s: s.duration)
    assert longest.name == "GET /recommendations"
    assert all(seg.span_id not in {"a3", "r1"} for seg in path)


def test_service_shares_of_critical_time():
    _, path = fixed_path()
    shares = critical_share(path)
    assert shares == {"payments": 160, "api": 157, "inventory": 83}
    assert "recs" not in shares


def test_gaps_are_found_in_spans_with_children_only():
    _, path = fixed_path()
    gaps = untraced_gaps(path, min_ms=20)
    found = [(seg.span_id, seg.start, seg.end) for seg, _ in gaps]
    assert found == [("a4", 30, 62), ("a1", 150, 210)]
    assert "pool" in gaps[0][1] and "GC" in gaps[1][1]
    # The 140 ms provider call and the 60 ms query are leaves: explained, not gaps.
    assert all(not seg.leaf for seg, _ in gaps)


def test_skew_is_detected_and_shifted_into_the_client_span():
    raw = request_spans()
    fixed, shifts = correct_skew(raw)
    assert shifts == {"p1": 25}
    by_id = {s.span_id: s for s in fixed}
    client, server, grandchild = by_id["a5"], by_id["p1"], by_id["p2"]
    assert client.start <= server.start and server.end <= client.end
    assert (grandchild.start, grandchild.end) == (225, 365)  # subtree moves too
    assert by_id["r1"] == next(s for s in raw if s.span_id == "r1")  # in bounds: untouched


def test_uncorrected_skew_invents_a_gap():
    raw_gaps = untraced_gaps(critical_path(request_spans()), min_ms=20)
    _, path = fixed_path()
    assert len(raw_gaps) == len(untraced_gaps(path, min_ms=20)) + 1
    assert any(seg.span_id == "a5" for seg, _ in raw_gaps)


def test_child_ending_after_parent_is_skipped_with_its_subtree():
    spans = [
        Span("root", None, "api", "GET /x", "server", 0, 100),
        Span("fire", "root", "api", "send email", "internal", 50, 900),
        Span("smtp", "fire", "api", "SMTP connect", "client", 60, 80),
    ]
    path = critical_path(spans)
    assert sum(seg.length for seg in path) == 100
    assert all(seg.span_id == "root" for seg in path)


def test_child_starting_before_parent_has_only_its_start_clipped():
    spans = [
        Span("root", None, "api", "GET /x", "server", 0, 100),
        Span("early", "root", "db", "SELECT", "server", -20, 50),
    ]
    path = critical_path(spans)
    assert [(seg.span_id, seg.start, seg.end) for seg in path] == [
        ("early", 0, 50),
        ("root", 50, 100),
    ]


def test_orphans_reveal_broken_propagation():
    spans = [*request_spans(), Span("x1", "missing", "search", "GET /q", "server", 10, 20)]
    assert [s.span_id for s in find_orphans(spans)] == ["x1"]
    assert find_orphans(request_spans()) == []


def test_two_roots_are_rejected():
    spans = [
        Span("a", None, "api", "a", "server", 0, 1),
        Span("b", None, "api", "b", "server", 0, 1),
    ]
    with pytest.raises(ValueError):
        find_root(spans)


def test_linked_consumer_reports_queue_wait():
    assert queue_waits(checkout_trace()) == {"j1": 4000}


def test_waterfall_puts_every_span_under_its_parent():
    fixed, _ = fixed_path()
    rows = waterfall(fixed)
    assert sorted(span.span_id for span, _ in rows) == sorted(s.span_id for s in fixed)
    position = {span.span_id: i for i, (span, _) in enumerate(rows)}
    depth = {span.span_id: d for span, d in rows}
    for span, d in rows:
        if span.parent_id is not None:
            assert position[span.parent_id] < position[span.span_id]
            assert depth[span.parent_id] == d - 1
    assert [span.span_id for span, _ in rows][:4] == ["a1", "a2", "a3", "r1"]


def test_the_waterfall_figure_draws_the_spans_and_highlights_the_path():
    figure = draw("debugging/figures/trace-critical-path.py")
    fixed, path = fixed_path()
    rows = waterfall(fixed)
    row_of = {span.span_id: i for i, (span, _) in enumerate(rows)}
    bars = {c.get_label(): c for c in figure.axes[0].containers}

    def drawn(label: str) -> list[tuple[float, float, float]]:
        return sorted(
            (round(p.get_y() + p.get_height() / 2), p.get_x(), p.get_x() + p.get_width())
            for p in bars[label].patches
        )

    assert drawn("span") == sorted((row_of[s.span_id], s.start, s.end) for s, _ in rows)
    highlighted = drawn("latency critical path") + drawn("untraced gap on the path")
    assert sorted(highlighted) == sorted((row_of[g.span_id], g.start, g.end) for g in path)
    gaps = untraced_gaps(path)
    assert drawn("untraced gap on the path") == sorted(
        (row_of[g.span_id], g.start, g.end) for g, _ in gaps
    )
    # The longest child span is drawn but owns none of the highlighted time.
    assert all(row != row_of["a3"] for row, _, _ in highlighted)
