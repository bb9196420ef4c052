"""Tests for examples.slow_dependencies: each asserts a claim the article makes."""

from __future__ import annotations

import random

import pytest

from examples.slow_dependencies import (
    DependencyGuard,
    GuardConfig,
    RetryBudget,
    Scenario,
    attempts_at_bottom,
    busy_workers,
    busy_workers_at,
    full_jitter_backoff,
    hedging_effect,
    incident_timelines,
    retry_load,
    simulate,
    timeout_for_call,
)
from tests.figures import draw, lines

INCIDENT = (20.0, 40.0)


@pytest.fixture(scope="module")
def runs() -> dict[str, object]:
    return {
        "dead_unguarded": simulate(Scenario(incident="dead"), GuardConfig.unguarded()),
        "slow_unguarded": simulate(Scenario(incident="slow"), GuardConfig.unguarded()),
        "slow_guarded": simulate(Scenario(incident="slow"), GuardConfig()),
        "blackhole_unguarded": simulate(Scenario(incident="blackhole"), GuardConfig.unguarded()),
        "blackhole_guarded": simulate(Scenario(incident="blackhole"), GuardConfig()),
    }


def test_littles_law_numbers_used_in_the_article() -> None:
    assert busy_workers(200, 0.005 + 0.5 * 0.025) == pytest.approx(3.5)
    assert busy_workers(100, 3.5) == pytest.approx(350)


def test_retries_multiply_across_layers() -> None:
    assert attempts_at_bottom(3, 5) == 243  # Brooker's five-deep stack
    assert attempts_at_bottom(4, 3) == 64  # the SRE book's three layers of 3 retries


def test_timeout_is_the_smaller_of_percentile_and_remaining_deadline() -> None:
    assert timeout_for_call(0.085, 1.0, reserve_s=0.05, padding=1.2) == pytest.approx(0.102)
    assert timeout_for_call(0.085, 0.10, reserve_s=0.05, padding=1.2) == pytest.approx(0.05)
    assert timeout_for_call(0.085, 0.04, reserve_s=0.05) == 0.0


def test_full_jitter_stays_within_the_capped_window() -> None:
    rng = random.Random(1)
    delays = [full_jitter_backoff(n, 0.1, 2.0, rng) for n in range(1, 11) for _ in range(50)]
    assert all(0.0 <= d <= 2.0 for d in delays)
    assert len({round(d, 6) for d in delays}) > 400  # spread out, not synchronized
    # retries count from 1, as in gRPC: the first waits up to base, the second up to 2 x base
    assert all(full_jitter_backoff(1, 0.1, 2.0, rng) <= 0.1 for _ in range(200))
    assert max(full_jitter_backoff(2, 0.1, 2.0, rng) for _ in range(200)) > 0.15


def test_retry_budget_caps_outage_load() -> None:
    assert retry_load(1000, 10, 3, None) == pytest.approx(4.0)
    with_budget = retry_load(1000, 10, 3, RetryBudget(ratio=0.2, min_per_s=10, window_s=10))
    assert with_budget <= 1.21 + 1e-9
    assert with_budget > 1.0  # transient failures can still be retried


def test_bulkhead_rejects_immediately_when_full() -> None:
    guard = DependencyGuard(GuardConfig(max_in_flight=2, breaker_window=None))
    assert guard.admit(0.0, 1.0) == DependencyGuard.ALLOWED
    assert guard.admit(0.0, 1.0) == DependencyGuard.ALLOWED
    assert guard.admit(0.0, 1.0) == DependencyGuard.REJECTED_FULL
    guard.finish(0.1, ok=True)
    assert guard.admit(0.1, 1.0) == DependencyGuard.ALLOWED


def test_fail_fast_opens_then_probes_once_then_closes() -> None:
    cfg = GuardConfig(
        max_in_flight=None,
        breaker_window=4,
        breaker_min_calls=4,
        breaker_failure_ratio=0.5,
        breaker_cooldown_s=2.0,
    )
    guard = DependencyGuard(cfg)
    for _ in range(4):
        assert guard.admit(0.0, 1.0) == DependencyGuard.ALLOWED
        guard.finish(0.1, ok=False)
    assert guard.admit(1.0, 1.0) == DependencyGuard.REJECTED_OPEN
    assert guard.admit(2.2, 1.0) == DependencyGuard.ALLOWED  # the single probe
    assert guard.admit(2.2, 1.0) == DependencyGuard.REJECTED_OPEN  # no second probe
    guard.finish(2.3, ok=True)
    assert guard.admit(2.4, 1.0) == DependencyGuard.ALLOWED


def test_no_call_when_the_deadline_is_already_spent() -> None:
    guard = DependencyGuard(GuardConfig())
    assert guard.admit(0.0, 0.03) == DependencyGuard.REJECTED_NO_TIME
    assert guard.in_flight == 0


@pytest.mark.parametrize(
    ("run", "checkouts", "products", "queue", "last_late"),
    [
        ("dead_unguarded", "100 %", "100 %", 0, None),
        ("blackhole_unguarded", "2 %", "0 %", 5916, "52.0 s"),
        ("slow_unguarded", "2 %", "0 %", 3489, "42.3 s"),
        ("blackhole_guarded", "100 %", "100 %", 0, None),
        ("slow_guarded", "100 %", "100 %", 0, None),
    ],
)
def test_the_incident_table_in_the_article(
    runs: dict, run: str, checkouts: str, products: str, queue: int, last_late: str | None
) -> None:
    """Every cell of the article's incident table, rounded as the article prints it."""
    report = runs[run]
    assert f"{report.on_time_share('checkout', *INCIDENT) * 100:.0f} %" == checkouts
    assert f"{report.on_time_share('product', *INCIDENT) * 100:.0f} %" == products
    assert report.peak_queue == queue
    late = report.last_late("checkout")
    assert (None if late is None else f"{late:.1f} s") == last_late


def test_dead_dependency_leaves_the_pool_healthy(runs: dict) -> None:
    report = runs["dead_unguarded"]
    assert report.on_time_share("checkout", *INCIDENT) == 1.0
    assert report.p99_seen_by_caller("product", *INCIDENT) < 0.05


def test_a_blackholed_dependency_is_not_cheap_like_a_refusing_one(runs: dict) -> None:
    """Dead is cheap only when it refuses fast; dropped connection attempts cost a full timeout."""
    assert runs["dead_unguarded"].last_late("checkout") is None
    blackhole = runs["blackhole_unguarded"]
    assert blackhole.peak_busy_workers == 40
    assert blackhole.on_time_share("checkout", *INCIDENT) == pytest.approx(0.02, abs=0.005)
    assert blackhole.on_time_share("product", *INCIDENT) == 0.0
    # held for the 30 s timeout, the last calls free their workers ten seconds after recovery
    assert blackhole.last_late("checkout") > runs["slow_unguarded"].last_late("checkout") + 5
    assert 51.0 < blackhole.last_late("checkout") < 52.5


def test_the_guard_contains_a_blackhole_as_well(runs: dict) -> None:
    report = runs["blackhole_guarded"]
    assert report.last_late("checkout") is None
    assert report.on_time_share("product", *INCIDENT) == 1.0
    assert report.peak_dependency_in_flight <= 10


def test_slow_dependency_without_guard_takes_down_unrelated_requests(runs: dict) -> None:
    report = runs["slow_unguarded"]
    assert report.peak_busy_workers == 40
    assert report.peak_queue > 1000
    assert report.on_time_share("checkout", *INCIDENT) == pytest.approx(0.02, abs=0.005)
    assert report.on_time_share("product", *INCIDENT) == 0.0
    # the damage outlives the incident while the backlog drains
    assert report.on_time_share("checkout", 40.0, 45.0) < 0.9


def test_guard_keeps_caller_latency_bounded(runs: dict) -> None:
    report = runs["slow_guarded"]
    assert report.p99_seen_by_caller("checkout", *INCIDENT) < 0.05
    assert report.p99_seen_by_caller("product", *INCIDENT) <= 0.102 + 0.05
    assert report.on_time_share("checkout", *INCIDENT) == 1.0
    assert report.on_time_share("product", *INCIDENT) == 1.0
    assert report.peak_dependency_in_flight <= 10
    assert report.peak_busy_workers < 40


def test_guard_makes_the_degradation_visible_and_recovers(runs: dict) -> None:
    report = runs["slow_guarded"]
    assert report.degraded_share("product", *INCIDENT) == 1.0
    assert report.rejections["failing_fast"] > 1000
    # outside the incident only the accepted false-timeout rate (~0.1 %) degrades
    assert report.degraded_share("product", 0.0, 20.0) < 0.002
    assert report.degraded_share("product", 45.0, 60.0) < 0.002


def test_breaker_does_not_send_only_probes(runs: dict) -> None:
    """Calls admitted before the breaker first opened reached the dependency too."""
    report = runs["slow_guarded"]
    before_open = report.calls_in_incident - report.probes_in_incident
    assert before_open >= 10  # the breaker needs 10 recorded outcomes before it can open
    # then about one probe per 2 s cooldown for the rest of the 20 s incident
    assert 5 <= report.probes_in_incident <= 10
    # still a small fraction of the ~2,000 product pages that arrived meanwhile
    products = sum(o.kind == "product" and 20.0 <= o.arrival < 40.0 for o in report.outcomes)
    assert report.calls_in_incident < 0.02 * products


def test_hedging_after_p95_cuts_the_tail_for_about_five_percent_more_requests() -> None:
    result = hedging_effect()
    assert 0.009 < result.hedge_after_s < 0.012  # the healthy p95
    assert 0.04 < result.extra_requests < 0.06
    assert result.hedged["p50"] == result.plain["p50"]
    assert result.plain["p99.9"] > 0.5 and result.hedged["p99.9"] < 0.025
    assert result.plain["p99"] > 0.2 and result.hedged["p99"] < 0.02


def test_hedging_an_overloaded_dependency_doubles_requests_for_nothing() -> None:
    """Built into the model (a copy is as slow as the first call), not found by it."""
    result = hedging_effect(overloaded=True)
    assert result.extra_requests == 1.0
    assert result.hedged == result.plain


def test_breaker_counts_and_recovery_in_the_article(runs: dict) -> None:
    report = runs["slow_guarded"]
    assert (report.calls_in_incident, report.probes_in_incident) == (26, 9)
    assert report.rejections == {"bulkhead_full": 4, "failing_fast": 2101, "no_time_left": 0}
    products_after = [o for o in report.outcomes if o.kind == "product" and o.arrival >= 40]
    recovered = min(o.arrival for o in products_after if not o.degraded)
    assert 41.0 < recovered < 41.5


def test_simulation_is_deterministic() -> None:
    a = simulate(Scenario(duration_s=10.0, incident_start_s=2.0, incident_end_s=6.0), GuardConfig())
    b = simulate(Scenario(duration_s=10.0, incident_start_s=2.0, incident_end_s=6.0), GuardConfig())
    assert [o.finish for o in a.outcomes] == [o.finish for o in b.outcomes]


def test_busy_workers_are_the_requests_inside_capped_at_the_pool(runs: dict) -> None:
    report = runs["slow_unguarded"]
    times = [10.0, 30.0]
    inside = [sum(o.arrival <= t < o.finish for o in report.outcomes) for t in times]
    assert busy_workers_at(report, times, 40) == [min(n, 40) for n in inside]
    assert inside[1] > 1000  # the rest of them wait in the pool's queue


def test_timeline_slow_dependency_fills_the_pool_and_the_guard_contains_it() -> None:
    timelines = incident_timelines()
    slow = timelines["slow dependency, unguarded"]
    full = [t for t, busy in slow.busy_workers if busy == 40]
    # The pool is full half a second into the incident and stays full past its end ...
    assert min(full) == 20.5
    assert all(busy == 40 for t, busy in slow.busy_workers if 20.5 <= t <= 43.25)
    assert max(full) == 43.25
    # ... while checkouts, which never call the dependency, time out.
    on_time = dict(slow.checkout_on_time)
    assert on_time[20.5] == pytest.approx(0.42, abs=0.01)
    assert all(on_time[s + 0.5] == 0.0 for s in range(21, 42))
    assert on_time[42.5] == pytest.approx(0.67, abs=0.01)
    assert all(on_time[s + 0.5] == 1.0 for s in range(43, 60))
    # A dead dependency and a guarded slow one leave the pool mostly idle.
    for name in ("dead dependency, unguarded", "slow dependency, guarded"):
        assert max(busy for _, busy in timelines[name].busy_workers) < 10
        assert all(share == 1.0 for _, share in timelines[name].checkout_on_time)


def test_the_figure_plots_the_tested_timelines() -> None:
    figure = draw("resilience/figures/slow-dependency-pool.py")
    timelines = incident_timelines()
    assert lines(figure, axes=0) == {
        name: [(t, float(b)) for t, b in tl.busy_workers] for name, tl in timelines.items()
    }
    assert lines(figure, axes=1) == {
        name: [(t, s * 100) for t, s in tl.checkout_on_time] for name, tl in timelines.items()
    }
