"""Tests for the triage notebook: each asserts a claim the article makes."""

from __future__ import annotations

import re
from pathlib import Path

from examples.answering_troubleshooting_questions import (
    CHECKS,
    ENDPOINTS,
    HYPOTHESES,
    START,
    TIME_BOX,
    TREAT,
    Notebook,
    incident,
    investigate,
    minutes_spent,
    red,
    saturation_first,
    use,
    utilization_only,
)

DOT = Path(__file__).resolve().parents[2] / "docs/explaining/figures/troubleshooting-narrowing.dot"


def check(key: str):
    return next(c for c in (*CHECKS, TREAT) if c.key == key)


def test_p99_doubles_on_database_endpoints_while_traffic_is_flat() -> None:
    ev = incident()
    before, after = red(ev.before), red(ev.after)
    assert 1.8 <= after["all"].p99_ms / before["all"].p99_ms <= 2.6
    for ep in ENDPOINTS:
        assert abs(after[ep.name].rate / before[ep.name].rate - 1) < 0.05
        ratio = after[ep.name].p99_ms / before[ep.name].p99_ms
        assert (ratio > 1.5) == bool(ep.query_ms), ep.name
    assert after["all"].errors == before["all"].errors == 0


def test_utilization_alone_misses_the_saturated_pool() -> None:
    ev = incident()
    table = use(ev.after)
    assert utilization_only(table) == []
    assert saturation_first(table) == ["DB pool"]
    # The average hides the bursts: all 8 connections were busy most of the time.
    assert table["DB pool"].utilization < 0.9
    assert ev.after.pool_full_s / ev.after.seconds > 0.5
    # The app CPU is not saturated: vmstat's r (running + waiting) is far below the cores.
    assert (ev.after.cpu_busy_s + ev.after.cpu_wait_s) / ev.after.seconds < 8


def test_nothing_is_saturated_before_the_change() -> None:
    assert saturation_first(use(incident().before)) == []


def test_method_finds_the_cause_in_fewer_checks_and_minutes_than_streetlight() -> None:
    ev = incident()
    method = investigate("method", ev)
    street = investigate("streetlight", ev, time_box=None)
    assert method.live == street.live == ["pool"]
    assert len(method.checks_run) < len(street.checks_run)
    assert minutes_spent(method) < minutes_spent(street)
    assert {"log", "memory", "disk"} <= set(street.checks_run)
    assert not {"log", "memory", "disk"} & set(method.checks_run)


def test_streetlight_is_the_familiar_list_in_order_not_a_ranking() -> None:
    street = investigate("streetlight", incident(), time_box=None)
    listed = [c.key for c in CHECKS]
    assert street.checks_run[:-1] == listed[: len(street.checks_run) - 1]


def test_method_names_one_suspect_inside_the_time_box_streetlight_rolls_back() -> None:
    ev = incident()
    method = investigate("method", ev)
    suspect_at = START + sum(check(k).minutes for k in method.checks_run[:-1])
    assert suspect_at <= START + TIME_BOX and not method.rolled_back
    street = investigate("streetlight", ev)
    assert street.rolled_back
    assert street.entries[-1][0] == START + TIME_BOX
    assert set(street.live) == {"db", "pool", "code"}


def test_method_narrows_request_then_resource_then_code_then_treats() -> None:
    layers = [check(key).layer for key, _, _ in investigate("method", incident()).results]
    assert layers == ["request", "request", "resource", "code", "treat"]


def test_a_check_that_cannot_split_the_hypotheses_teaches_nothing() -> None:
    book = Notebook()
    assert book.gain(check("log")) == 0
    live, bits = list(book.live), book.uncertainty()
    book.run(check("log"), incident())
    assert book.live == live
    assert book.uncertainty() == bits


def test_a_saturated_resource_localizes_but_does_not_discriminate() -> None:
    book = Notebook()
    assert book.gain(check("pool")) > 0  # at the start it separates cpu
    book.run(check("duration"), incident())
    book.run(check("rate"), incident())
    # A slow database, lost packets, a small pool and a handler that holds its
    # connection longer all make requests wait for a connection.
    assert set(book.live) == {"db", "pool", "network", "code"}
    assert book.gain(check("pool")) == 0
    assert book.gain(check("trace")) > 0


def test_a_splitting_check_shrinks_the_set_and_the_uncertainty() -> None:
    book = Notebook()
    bits = book.uncertainty()
    book.run(check("duration"), incident())
    # The handler change stays in: a handler that holds its connection slows GET too.
    assert set(book.live) == {"traffic", "db", "pool", "network", "code"}
    assert book.uncertainty() < bits


def test_the_timeline_is_in_order_and_adds_up() -> None:
    book = investigate("method", incident())
    minutes = [minute for minute, _, _ in book.entries]
    assert minutes == sorted(minutes)
    assert minutes[0] == START
    assert minutes[-1] - START == sum(check(k).minutes for k in book.checks_run)


def test_negative_results_are_recorded() -> None:
    book = investigate("method", incident())
    text = "\n".join(book.timeline())
    ruled_out = [h for _, _, out in book.results for h in out]
    assert sorted(ruled_out) == sorted(h.key for h in HYPOTHESES if h.key != "pool")
    for hypothesis in ruled_out:
        assert re.search(rf"rules out [a-z, ]*\b{hypothesis}\b", text)


def test_when_the_cause_is_not_listed_the_survivor_is_tested_not_blamed() -> None:
    partial = tuple(h for h in HYPOTHESES if h.key != "pool")
    book = investigate("method", incident(), hypotheses=partial)
    assert book.live == []
    # The new handler is the last one standing after the database check ...
    assert [key for key, _, _ in book.results][-2:] == ["db-side", "trace"]
    assert book.results[-2][2] == ["db"]
    # ... and the check on which only it still predicted a longer query span clears it.
    assert book.results[-1][2] == ["code"]
    assert "not on the list" in book.timeline()[-1]


def test_the_canary_with_the_old_pool_recovers_while_its_baseline_stays_slow() -> None:
    ev = incident()
    normal = red(ev.before)["all"].p99_ms
    assert red(ev.canary)["all"].p99_ms < 1.2 * normal
    assert red(ev.baseline)["all"].p99_ms > 1.5 * normal


def test_the_figure_shows_the_example_numbers() -> None:
    ev = incident()
    source = DOT.read_text(encoding="utf-8")
    before, after = red(ev.before)["all"], red(ev.after)["all"]
    assert f"p99 {before.p99_ms:.0f} → {after.p99_ms:.0f} ms" in source
    assert f"{use(ev.after)['DB pool'].utilization:.0%}".replace("%", " %") in source
    canary, baseline = red(ev.canary)["all"].p99_ms, red(ev.baseline)["all"].p99_ms
    assert f"p99 {canary:.0f} ms vs {baseline:.0f} ms" in source
    for key, outcome, out in investigate("method", ev).results:
        assert outcome in source, key
        for hypothesis in out:
            assert f"✗ {hypothesis}" in source
