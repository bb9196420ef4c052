"""Tests for the claims of the circuit-breaker-overuse article."""

from __future__ import annotations

import pytest

from examples.circuit_breaker_overuse import (
    TIMEOUT,
    BreakerConfig,
    BreakerRegistry,
    CircuitBreaker,
    ConcurrencyLimiter,
    Outcome,
    State,
    dependency_errors,
    global_key,
    latency_spike_run,
    per_shard_key,
    probe_spread,
    shard_outage_run,
    slow_or_error,
    window_reads_at_least,
)

OK = Outcome(200, 0.02)
HUNG = Outcome(TIMEOUT, 1.0)


def test_minimum_calls_keep_a_few_failures_from_opening() -> None:
    breaker = CircuitBreaker("dep", BreakerConfig(minimum_calls=20))
    for _ in range(19):
        breaker.record(0.0, HUNG)
    assert breaker.state is State.CLOSED
    breaker.record(0.0, HUNG)
    assert breaker.state is State.OPEN
    assert not breaker.allow(1.0)


def test_client_errors_are_answers_not_dependency_failures() -> None:
    assert not dependency_errors(Outcome(404, 0.01))
    assert not dependency_errors(Outcome(409, 0.01))
    assert not dependency_errors(Outcome(501, 0.01))  # "not implemented" is an answer
    assert dependency_errors(Outcome(503, 0.01))
    # A 503 the server marks as a deliberate refusal (shedding, or its own open breaker)
    # says "not now" about one request, not "down" about the whole dependency.
    assert not dependency_errors(Outcome(503, 0.01, refused=True))
    assert dependency_errors(HUNG)
    breaker = CircuitBreaker("dep", BreakerConfig(minimum_calls=5))
    for _ in range(50):
        breaker.record(0.0, Outcome(404, 0.01))
    assert breaker.state is State.CLOSED


def test_slow_call_classifier_counts_latency_as_failure() -> None:
    classify = slow_or_error(0.25)
    assert classify(Outcome(200, 0.3))
    assert not classify(Outcome(200, 0.1))


def test_half_open_admits_only_probes_then_closes_and_emits_events() -> None:
    events = []
    config = BreakerConfig(minimum_calls=5, open_seconds=5.0, half_open_probes=3)
    breaker = CircuitBreaker("dep", config, on_transition=events.append)
    for _ in range(5):
        breaker.record(0.0, HUNG)
    assert not breaker.allow(4.9)
    assert [breaker.allow(5.0) for _ in range(4)] == [True, True, True, False]
    for _ in range(3):
        breaker.record(5.1, OK)
    assert breaker.state is State.CLOSED
    assert [(e.old, e.new) for e in events] == [
        (State.CLOSED, State.OPEN),
        (State.OPEN, State.HALF_OPEN),
        (State.HALF_OPEN, State.CLOSED),
    ]
    assert events[0].failure_rate == 1.0


def test_failed_probes_reopen_the_breaker() -> None:
    config = BreakerConfig(minimum_calls=5, open_seconds=5.0, half_open_probes=2)
    breaker = CircuitBreaker("dep", config)
    for _ in range(5):
        breaker.record(0.0, HUNG)
    assert breaker.allow(5.0) and breaker.allow(5.0)
    breaker.record(6.0, HUNG)
    breaker.record(6.0, HUNG)
    assert breaker.state is State.OPEN
    assert breaker.reopens_at() == pytest.approx(11.0)


def test_a_straggler_admitted_while_closed_is_not_a_probe() -> None:
    # Attempt timeout (1 s) longer than the open period (0.5 s): a call admitted while
    # closed completes during half-open. It must neither count as a probe nor close it.
    config = BreakerConfig(minimum_calls=5, open_seconds=0.5, half_open_probes=1)
    breaker = CircuitBreaker("dep", config)
    assert breaker.allow(0.0)  # the straggler
    for _ in range(5):
        breaker.record(0.1, HUNG, admitted_at=0.0)
    assert breaker.state is State.OPEN
    assert breaker.allow(0.6)  # the one probe; the breaker is half-open
    breaker.record(1.0, OK, admitted_at=0.0)  # the straggler completes, and succeeded
    assert breaker.state is State.HALF_OPEN
    breaker.record(1.6, HUNG, admitted_at=0.6)  # the probe fails
    assert breaker.state is State.OPEN


def test_half_open_closes_when_the_probes_failure_rate_is_under_the_threshold() -> None:
    # Probes are judged as a group, like resilience4j: 2 failures of 5 (40 %) is under
    # a 50 % threshold, so the breaker closes even though two probes failed.
    config = BreakerConfig(minimum_calls=5, open_seconds=5.0, half_open_probes=5)
    breaker = CircuitBreaker("dep", config)
    for _ in range(5):
        breaker.record(0.0, HUNG)
    assert all(breaker.allow(5.0) for _ in range(5))
    for outcome in (HUNG, HUNG, OK, OK, OK):
        breaker.record(6.0, outcome, admitted_at=5.0)
    assert breaker.state is State.CLOSED


def test_registry_keys_decide_blast_radius() -> None:
    per_shard = BreakerRegistry(BreakerConfig(), per_shard_key)
    assert per_shard.get("db", 0) is not per_shard.get("db", 1)
    single = BreakerRegistry(BreakerConfig(), global_key)
    assert single.get("db", 0) is single.get("db", 1)


def test_concurrency_limiter_caps_in_flight() -> None:
    limiter = ConcurrencyLimiter(2)
    assert limiter.try_acquire() and limiter.try_acquire()
    assert not limiter.try_acquire()
    limiter.release()
    assert limiter.try_acquire()


def test_slow_call_breaker_flaps_and_rejects_healthy_traffic() -> None:
    breaker = latency_spike_run("breaker")
    limiter = latency_spike_run("limiter")
    assert breaker.failed == 0 and limiter.failed == 0  # the dependency never errored
    assert breaker.opens >= 8  # roughly one open per spike
    assert breaker.transitions == 3 * breaker.opens  # open, half-open, closed each time
    assert breaker.rejected_share > 0.3
    assert breaker.rejected_outside_spikes > 0.5 * breaker.rejected
    assert limiter.rejected_outside_spikes == 0
    assert limiter.rejected_share < 0.05
    assert limiter.opens == 0


def test_limiter_bounds_in_flight_work_and_breaker_does_not() -> None:
    unguarded = latency_spike_run("none")
    breaker = latency_spike_run("breaker")
    limiter = latency_spike_run("limiter", limit=50)
    assert unguarded.peak_in_flight > 50
    assert limiter.peak_in_flight <= 50
    assert breaker.peak_in_flight > 50  # it learns of slowness only after paying for it


def test_error_only_breaker_ignores_pure_slowness() -> None:
    report = latency_spike_run("breaker", breaker=BreakerConfig(classifier=dependency_errors))
    assert report.opens == 0
    assert report.rejected == 0


def test_per_shard_breaker_confines_a_shard_outage() -> None:
    report = shard_outage_run(per_shard_key, 0.5)
    assert report.failed_share_healthy_shards == 0.0
    assert 0.28 < report.failed_share < 0.38
    assert report.calls_sent_to_bad_shard < 0.1 * report.requests_to_bad_shard


def test_what_reached_the_broken_shard_is_the_calls_before_opening_plus_probes() -> None:
    report = shard_outage_run(per_shard_key, 0.5)
    # The breaker learns of a hang only when its 1 s timeout fires, so calls keep going
    # in until then; after the first opening only half-open probes reach the shard.
    assert report.sent_before_first_open > 0
    assert report.probes_to_bad_shard > 0
    assert report.calls_sent_to_bad_shard == (
        report.sent_before_first_open + report.probes_to_bad_shard
    )
    assert report.probes_to_bad_shard % BreakerConfig().half_open_probes == 0


def test_a_small_window_misreads_a_one_in_three_failure_rate_as_one_in_two() -> None:
    chances = [window_reads_at_least(n, 1 / 3, 0.5) for n in (20, 50, 100)]
    assert chances == sorted(chances, reverse=True)  # more calls, less noise
    assert 0.08 < chances[0] < 0.10
    assert 0.010 < chances[1] < 0.012
    assert window_reads_at_least(10, 0.0, 0.5) == 0.0
    assert window_reads_at_least(10, 1.0, 0.5) == pytest.approx(1.0)


def test_sensitive_global_breaker_turns_one_shard_into_a_full_outage() -> None:
    report = shard_outage_run(global_key, 0.25)
    assert report.failed_share > 0.9
    assert report.failed_share_healthy_shards > 0.85


def test_insensitive_global_breaker_still_flaps_and_still_sends_to_bad_shard() -> None:
    report = shard_outage_run(global_key, 0.5)
    assert report.opens >= 1  # a 33 % failure rate crosses 50 % by noise in a 50-call window
    assert report.failed_share_healthy_shards > 0.1
    assert report.calls_sent_to_bad_shard > 0.5 * report.requests_to_bad_shard


def test_jitter_spreads_synchronized_probes() -> None:
    assert probe_spread(20, BreakerConfig(open_seconds=5.0)) == 0.0
    spread = probe_spread(20, BreakerConfig(open_seconds=5.0, open_jitter=0.2))
    assert 1.0 < spread <= 2.0
