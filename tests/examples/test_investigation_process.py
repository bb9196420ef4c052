"""Tests for the merged incident timeline example."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from itertools import permutations, product

import pytest

from examples.investigation_process import (
    APP_LOG,
    BOARD,
    DB_LOG,
    LB_LOG,
    Hypothesis,
    Source,
    SyslogClock,
    TimestampError,
    around_rollout,
    by_probability_per_minute,
    demo_sources,
    expected_minutes,
    first,
    load,
    merge,
    offset_bounds,
    order_unproven,
    parse_epoch_ms,
    parse_iso8601,
    render,
    schedules,
)
from tests.figures import draw, lines

MS = timedelta(milliseconds=1)


def test_iso8601_offsets_are_converted_to_utc() -> None:
    assert parse_iso8601("2025-03-14T09:02:07.440+01:00") == datetime(
        2025, 3, 14, 8, 2, 7, 440000, tzinfo=UTC
    )
    assert parse_iso8601("2025-03-14T08:02:07Z") == datetime(2025, 3, 14, 8, 2, 7, tzinfo=UTC)


def test_iso8601_without_offset_needs_a_stated_zone() -> None:
    with pytest.raises(TimestampError):
        parse_iso8601("2025-03-14T09:02:07")
    stated = parse_iso8601("2025-03-14T09:02:07", timezone(timedelta(hours=-4)))
    assert stated == datetime(2025, 3, 14, 13, 2, 7, tzinfo=UTC)


def test_epoch_milliseconds_are_exact() -> None:
    # 1741939327201 ms must not lose its last millisecond to float rounding.
    assert parse_epoch_ms("1741939327201") == datetime(2025, 3, 14, 8, 2, 7, 201000, tzinfo=UTC)


def test_syslog_uses_stated_year_and_zone() -> None:
    clock = SyslogClock(2025, timezone(timedelta(hours=-4)))
    assert clock.parse("Mar", 14, 4, 2, 7) == datetime(2025, 3, 14, 8, 2, 7, tzinfo=UTC)


def test_syslog_year_rolls_over_at_new_year() -> None:
    source = Source("db", "syslog", resolution=timedelta(seconds=1), year=2024, zone=UTC)
    events = load(source, ["Dec 31 23:59:59 host a: last", "Jan  1 00:00:01 host a: first"])
    assert events[0].earliest.year == 2024
    assert events[1].earliest == datetime(2025, 1, 1, 0, 0, 1, tzinfo=UTC)


def test_syslog_without_year_or_zone_is_refused() -> None:
    with pytest.raises(TimestampError):
        load(Source("db", "syslog"), ["Mar 14 04:02:07 db1 x: y"])


def test_offset_and_resolution_shape_the_interval() -> None:
    source = Source(
        "db",
        "syslog",
        clock_offset=800 * MS,
        offset_error=250 * MS,
        resolution=timedelta(seconds=1),
        year=2025,
        zone=UTC,
    )
    (event,) = load(source, ["Mar 14 08:02:07 db1 x: y"])
    base = datetime(2025, 3, 14, 8, 2, 7, tzinfo=UTC)
    assert event.earliest == base - 800 * MS - 250 * MS
    assert event.latest == base + timedelta(seconds=1) - 800 * MS + 250 * MS
    assert event.half_width == 750 * MS


def test_offset_bounds_from_one_request() -> None:
    sent = parse_epoch_ms("1741939318000")
    received = parse_epoch_ms("1741939318180")
    seen = parse_iso8601("2025-03-14T09:02:00.430+01:00")
    assert offset_bounds(sent, seen, received) == (2250 * MS, 2430 * MS)
    with pytest.raises(ValueError):
        offset_bounds(received, seen, sent)


def _timelines() -> tuple[list, list]:
    out = []
    for correct in (False, True):
        sources = demo_sources(2340 * MS, 90 * MS)
        logs = [LB_LOG, APP_LOG, DB_LOG]
        out.append(
            merge(
                [load(s, log, correct_clock=correct) for s, log in zip(sources, logs, strict=True)]
            )
        )
    return out[0], out[1]


def test_naive_merge_puts_502s_before_the_deploy() -> None:
    naive, _ = _timelines()
    assert first(naive, "502").at < first(naive, "rollout").at
    assert (first(naive, "502").at - first(naive, "rollout").at) == -240 * MS


def test_corrected_merge_restores_causal_order() -> None:
    _, fixed = _timelines()
    order = [e.message for e in fixed if "req=7f3a" not in e.message]
    assert order[0].startswith("rollout v412")
    assert order[1].startswith("connection pool resized")
    assert order[-1].startswith("502 count=210")
    assert first(fixed, "502").at - first(fixed, "rollout").at == 2100 * MS


def test_one_second_syslog_entry_is_flagged_as_unordered() -> None:
    _, fixed = _timelines()
    flagged = {fixed[i].message for i in order_unproven(fixed)}
    assert any("too many clients" in m for m in flagged)
    # The rollout and the pool resize are separated by far more than their
    # +/-90 ms, so their order is proven.
    assert not any(m.startswith(("rollout", "connection pool")) for m in flagged)


def test_same_source_events_never_conflict() -> None:
    source = Source("app", "iso8601", offset_error=500 * MS)
    events = load(source, ["2025-03-14T08:00:00.000Z a", "2025-03-14T08:00:00.100Z b"])
    assert order_unproven(merge([events])) == set()


def test_ties_keep_source_order_then_file_order() -> None:
    a = load(Source("a", "epoch_ms"), ["1000 first-a", "1000 second-a"])
    b = load(Source("b", "epoch_ms"), ["1000 only-b"])
    assert [e.message for e in merge([b, a])] == ["only-b", "first-a", "second-a"]


def test_render_marks_unproven_rows() -> None:
    _, fixed = _timelines()
    lines = render(fixed).splitlines()
    db_line = next(line for line in lines if "too many clients" in line)
    assert db_line.startswith("~")
    rollout_line = next(line for line in lines if "rollout" in line)
    assert rollout_line.startswith(" ")


def test_first_502_moves_past_the_rollout_once_clocks_are_corrected() -> None:
    naive = {p.message: p for p in around_rollout(correct_clock=False)}
    fixed = {p.message: p for p in around_rollout(correct_clock=True)}
    first_502 = "502 count=37 upstream=app-7"
    assert naive[first_502].offset_ms == -240
    assert fixed[first_502].offset_ms == 2100
    # The three req=7f3a lines that measure the offset are left out of the window.
    assert not any("req=7f3a" in m for m in (*naive, *fixed))
    # After correction the app lines carry the offset's +/-90 ms and the
    # syslog line +/-750 ms; the db line, the app error and the first 502
    # cannot be ordered by time, while the rollout and the resize can.
    unproven = {m for m, p in fixed.items() if p.order_unproven}
    assert unproven == {
        "db1 postgres[311]: FATAL: sorry, too many clients already",
        "ERROR checkout: could not acquire db connection",
        first_502,
    }
    db = fixed["db1 postgres[311]: FATAL: sorry, too many clients already"]
    assert db.half_width_ms == 750
    assert round(fixed["rollout v412 started on app-7"].half_width_ms) == 90
    assert round(db.offset_ms) == 1600


def test_the_timeline_figure_plots_the_merged_events() -> None:
    figure = draw("debugging/figures/incident-timeline-clocks.py")
    rows = {"lb": 2.0, "app": 1.0, "db": 0.0}
    for axes, correct in enumerate((False, True)):
        points = around_rollout(correct_clock=correct)
        assert lines(figure, axes=axes) == {
            label: [(p.offset_ms, rows[p.source]) for p in points if p.order_unproven is unproven]
            for label, unproven in (("order provable", False), ("order not provable", True))
        }
        (bars,) = figure.axes[axes].collections
        drawn = [((a[0] + b[0]) / 2, (b[0] - a[0]) / 2, a[1]) for a, b in bars.get_segments()]
        assert drawn == [(p.offset_ms, p.half_width_ms, rows[p.source]) for p in points]


def _minutes(lanes: list[list[str]]) -> float:
    return expected_minutes([[BOARD[key] for key in lane] for lane in lanes])


def test_the_board_is_one_belief_spread_over_its_hypotheses() -> None:
    assert sum(h.probability for h in BOARD.values()) == pytest.approx(1.0)


def test_expected_minutes_of_the_demo_schedules() -> None:
    got = {label: _minutes(lanes) for label, lanes in schedules().items()}
    assert got == pytest.approx(
        {
            "one person, most likely first": 34.5,
            "one person, by p per minute": 27.0,
            "two people, greedy by p per minute": 21.0,
            "two people, slow likely test first": 19.5,
        }
    )
    # The article's "about 22 % less" for the p-per-minute order.
    saving = 1 - got["one person, by p per minute"] / got["one person, most likely first"]
    assert round(100 * saving) == 22


def test_p_per_minute_is_the_best_order_for_one_person() -> None:
    rng = random.Random(24)
    boards = [list(BOARD.values())]
    for _ in range(200):
        weights = [rng.random() for _ in range(4)]
        boards.append(
            [
                Hypothesis(f"h{i}", w / sum(weights), rng.choice([1, 2, 5, 10, 30, 60]))
                for i, w in enumerate(weights)
            ]
        )
    for board in boards:
        best = min(expected_minutes([list(order)]) for order in permutations(board))
        assert expected_minutes([by_probability_per_minute(board)]) == pytest.approx(best)


def test_with_two_people_the_slow_likely_test_starts_at_once() -> None:
    keys = list(BOARD)
    results = {}
    for lanes_of in product((0, 1), repeat=len(keys)):
        for order in permutations(keys):
            lanes: list[list[str]] = [[], []]
            for key in order:
                lanes[lanes_of[keys.index(key)]].append(key)
            results[str(lanes)] = _minutes(lanes)
    assert min(results.values()) == pytest.approx(19.5)
    best = min(results, key=results.__getitem__)
    assert best in (str([["H1"], ["H2", "H3"]]), str([["H2", "H3"], ["H1"]]))
    # Dispatching by p per minute is not optimal once there are two lanes.
    assert _minutes(schedules()["two people, greedy by p per minute"]) > min(results.values())


def test_the_last_hypothesis_is_confirmed_not_inferred() -> None:
    # The board may lack the real cause, so ruling out H2 and H3 does not
    # prove H1: its own 30-minute test still runs, ending at minute 45.
    order = [BOARD["H2"], BOARD["H3"], BOARD["H1"]]
    assert expected_minutes([order]) == pytest.approx(0.3 * 5 + 0.2 * 15 + 0.5 * 45)
    by_elimination = 0.3 * 5 + 0.2 * 15 + 0.5 * 15
    assert expected_minutes([order]) > by_elimination
