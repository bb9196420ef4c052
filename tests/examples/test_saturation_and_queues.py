"""Tests for examples.saturation_and_queues: each asserts a claim the article makes."""

from __future__ import annotations

import math

import pytest

from examples.saturation_and_queues import (
    Load,
    QueuePolicy,
    Request,
    ServerQueue,
    compare,
    drain_seconds,
    goodput_curve,
    mm1_wait_factor,
    mmc_wait_factor,
    queue_limit,
    seconds_until_useless,
    simulate,
    throttle_probability,
)
from tests.figures import draw, lines


@pytest.fixture(scope="module")
def table() -> dict[tuple[float, str], object]:
    return {(r.load.utilization, r.policy): r for r in compare()}


UNBOUNDED = "unbounded FIFO"
BOUNDED = "bounded, deadline-aware"
CODEL = "bounded + CoDel + LIFO"
POLICIES = (UNBOUNDED, BOUNDED, CODEL)


def test_mm1_waiting_grows_nonlinearly() -> None:
    assert [round(mm1_wait_factor(u)) for u in (0.8, 0.9, 0.95, 0.99)] == [4, 9, 19, 99]
    with pytest.raises(ValueError):
        mm1_wait_factor(1.0)


def test_pooled_workers_wait_less_but_the_curve_keeps_its_shape() -> None:
    assert mmc_wait_factor(0.95, 1) == pytest.approx(mm1_wait_factor(0.95))
    pooled = [mmc_wait_factor(u, 4) for u in (0.8, 0.9, 0.95, 0.99)]
    assert [round(w, 1) for w in pooled] == [0.7, 2.0, 4.5, 24.4]
    assert all(w < mm1_wait_factor(u) for w, u in zip(pooled, (0.8, 0.9, 0.95, 0.99), strict=True))
    with pytest.raises(ValueError):
        mmc_wait_factor(1.0, 4)


def test_the_simulation_agrees_with_erlang_c_below_capacity() -> None:
    for u in (0.8, 0.95):
        fifo = simulate(QueuePolicy.unbounded_fifo(), Load(u))
        theory = mmc_wait_factor(u, fifo.load.workers) * fifo.load.mean_service_s
        assert fifo.mean_wait_s == pytest.approx(theory, rel=0.05)


def test_client_throttle_keeps_sending_k_times_what_is_accepted() -> None:
    window = 120  # seconds of history
    assert throttle_probability(1000 * window, 1000 * window) == 0.0
    p = throttle_probability(1000 * window, 400 * window)
    assert p == pytest.approx(0.2, abs=1e-4)
    assert 1000 * (1 - p) == pytest.approx(2 * 400, rel=1e-3)  # K = 2: twice the accepts
    tight = throttle_probability(1000 * window, 400 * window, k=1.1)
    assert 1000 * (1 - tight) == pytest.approx(1.1 * 400, rel=1e-3)


def test_backlog_arithmetic() -> None:
    # Draining is faster than filling only while spare capacity exceeds the excess was.
    assert drain_seconds(60, 1.1, 1.0, 0.8) == pytest.approx(30)
    assert drain_seconds(60, 1.1, 1.0, 0.95) == pytest.approx(120)
    assert math.isinf(drain_seconds(60, 1.1, 1.0, 1.0))
    assert seconds_until_useless(0.5, 400, 440) == pytest.approx(5.0)
    assert queue_limit(400, 0.1) == 40


def test_at_normal_load_the_bounded_queue_costs_nothing(table: dict) -> None:
    fifo, bounded = table[(0.8, UNBOUNDED)], table[(0.8, BOUNDED)]
    assert bounded.on_time_share == pytest.approx(fifo.on_time_share, abs=0.002)
    assert bounded.count("rejected") == 0


def test_unbounded_fifo_collapses_under_overload(table: dict) -> None:
    fifo = table[(1.1, UNBOUNDED)]
    assert fifo.on_time_share < 0.2
    assert fifo.wasted_share > 0.8  # workers stay busy answering callers who left
    assert fifo.latency_percentile(0.99) > 2.0
    # useful for about 5 s (deadline * capacity / excess), useless afterwards
    assert fifo.on_time_share_between(0.0, 4.0) > 0.9
    assert fifo.on_time_share_between(6.0, 30.0) < 0.01
    # every arrival is served eventually: the workers drain the backlog after arrivals stop
    assert fifo.count("ok") + fifo.count("late") == len(fifo.requests)
    assert max(r.finish for r in fifo.requests) > fifo.load.duration_s + 2


def test_bounded_queue_keeps_goodput_at_capacity(table: dict) -> None:
    bounded = table[(1.1, BOUNDED)]
    assert bounded.goodput_per_s > 0.95 * bounded.load.capacity_per_s
    assert bounded.wasted_share < 0.01
    assert bounded.latency_percentile(0.99) < bounded.load.deadline_s
    assert bounded.peak_depth <= 40
    assert bounded.count("rejected") > 0  # excess is refused at the door, cheaply


def test_codel_and_lifo_trade_some_goodput_for_lower_latency(table: dict) -> None:
    bounded, codel = table[(1.1, BOUNDED)], table[(1.1, CODEL)]
    assert codel.latency_percentile(0.99) < bounded.latency_percentile(0.99)
    assert codel.latency_percentile(0.5) < bounded.latency_percentile(0.5)
    assert codel.goodput_per_s < bounded.goodput_per_s
    assert codel.goodput_per_s > 0.9 * codel.load.capacity_per_s


def test_depth_is_capped_but_age_is_what_tracks_latency(table: dict) -> None:
    fifo95, bounded110 = table[(0.95, UNBOUNDED)], table[(1.1, BOUNDED)]
    # depth says the 95 % run is worse; its callers nonetheless all got answers
    assert fifo95.peak_depth > bounded110.peak_depth
    assert fifo95.on_time_share > 0.99
    # the oldest item's age follows the p99 latency closely in every run
    for r in (fifo95, bounded110):
        assert abs(r.oldest_age_p99_s - r.latency_percentile(0.99)) < 0.05


def test_codel_values_need_scaling_to_the_service() -> None:
    verbatim = simulate(QueuePolicy.controlled_delay(target_s=0.005, interval_s=0.1), Load(0.8))
    scaled = simulate(QueuePolicy.controlled_delay(), Load(0.8))
    assert verbatim.on_time_share < 0.98
    assert scaled.on_time_share > verbatim.on_time_share


def test_expired_work_is_dropped_before_a_worker_touches_it() -> None:
    queue = ServerQueue(QueuePolicy.bounded_deadline_aware(), mean_service_s=0.01)
    stale = Request(arrival=0.0, deadline=0.5, service_s=0.01)
    fresh = Request(arrival=0.45, deadline=0.95, service_s=0.01)
    assert queue.offer(0.0, stale) and queue.offer(0.45, fresh)
    assert queue.next_request(0.495) is fresh
    assert stale.fate == "dropped_expired"


def test_admission_rejects_when_full() -> None:
    queue = ServerQueue(QueuePolicy.bounded_deadline_aware(max_depth=2), mean_service_s=0.01)
    reqs = [Request(0.0, 0.5, 0.01) for _ in range(3)]
    assert [queue.offer(0.0, r) for r in reqs] == [True, True, False]
    assert reqs[2].fate == "rejected"


def test_simulation_is_deterministic() -> None:
    a = simulate(QueuePolicy.controlled_delay(), Load(1.1, duration_s=5.0))
    b = simulate(QueuePolicy.controlled_delay(), Load(1.1, duration_s=5.0))
    assert [(r.fate, r.finish) for r in a.requests] == [(r.fate, r.finish) for r in b.requests]


def test_goodput_curve_collapses_only_without_a_bound() -> None:
    curve = {(policy, load): goodput for policy, load, goodput in goodput_curve()}
    capacity = Load(1.0).capacity_per_s
    # Below capacity every policy delivers nearly all that is offered.
    assert all(curve[(p, 0.6)] == pytest.approx(0.6 * capacity, rel=0.03) for p in POLICIES)
    # Past it, the unbounded queue's goodput falls away and keeps falling ...
    assert curve[(UNBOUNDED, 1.05)] < 0.35 * capacity
    assert curve[(UNBOUNDED, 1.2)] < curve[(UNBOUNDED, 1.1)] < curve[(UNBOUNDED, 1.05)]
    # ... while the bounded, deadline-aware queue stays at capacity.
    assert all(curve[(BOUNDED, u)] >= 0.97 * capacity for u in (1.0, 1.05, 1.1, 1.2))


def test_the_figure_plots_the_tested_curve() -> None:
    figure = draw("resilience/figures/queue-goodput.py")
    expected = {
        policy: [(load * 100, goodput) for p, load, goodput in goodput_curve() if p == policy]
        for policy in POLICIES
    }
    assert lines(figure, axes=1) == expected
    waits = figure.axes[0].get_lines()[0].get_xydata()
    assert all(y == pytest.approx(mm1_wait_factor(x / 100)) for x, y in waits)
