"""The claims the cascading-failures article makes about its worked example."""

from __future__ import annotations

import math

import pytest

from examples.cascading_failures import (
    DEFAULT_WAITS,
    POLICIES,
    Policy,
    RetryBudget,
    Scenario,
    after_load_cut,
    attempts_at_bottom,
    expected_attempts_at_bottom,
    fanout_curve,
    goodput_timelines,
    leaf_tail_budget,
    prob_any_slow,
    simulate,
    summarize,
)
from tests.figures import draw, lines


def test_fan_out_of_100_hits_a_1_percent_tail_63_percent_of_the_time() -> None:
    assert prob_any_slow(0.01, 1) == pytest.approx(0.01)
    assert prob_any_slow(0.01, 100) == pytest.approx(0.634, abs=0.001)
    assert prob_any_slow(0.01, 0) == 0.0


def test_leaf_tail_budget_inverts_the_fan_out_formula() -> None:
    budget = leaf_tail_budget(100, 0.05)
    assert budget == pytest.approx(0.000513, abs=0.000001)
    assert prob_any_slow(budget, 100) == pytest.approx(0.05)


def test_layered_retries_multiply() -> None:
    assert attempts_at_bottom(4, 3) == 64
    assert attempts_at_bottom(3, 3) == 27
    with pytest.raises(ValueError):
        attempts_at_bottom(0, 3)


def test_retries_multiply_most_when_failures_are_correlated() -> None:
    assert expected_attempts_at_bottom(1.0, 3, 3) == pytest.approx(attempts_at_bottom(3, 3))
    assert expected_attempts_at_bottom(0.9, 3, 3) == pytest.approx(9.42, abs=0.005)
    assert expected_attempts_at_bottom(0.5, 3, 3) == pytest.approx(2.0, abs=0.005)
    assert expected_attempts_at_bottom(0.0, 3, 3) == 1.0
    with pytest.raises(ValueError):
        expected_attempts_at_bottom(1.5, 3, 3)


def test_the_retry_budget_spends_only_what_new_requests_deposit() -> None:
    budget = RetryBudget(0.1)
    budget.deposit(80)
    assert budget.withdraw(20) == 8  # 10 % of 80 new requests
    assert budget.withdraw(1) == 0
    for _ in range(50):
        budget.deposit(80)
    assert budget.tokens == pytest.approx(80)  # capped at ten ticks of deposits


def test_the_system_is_healthy_before_the_spike_under_every_policy() -> None:
    for policy in POLICIES:
        s = summarize(simulate(policy))
        assert s["before"] == 80, policy.name


def test_unbounded_retries_keep_goodput_at_zero_after_the_trigger_is_gone() -> None:
    run = simulate(Policy("naive"))
    s = summarize(run)
    assert s["after"] == 0  # base load is 80 % of capacity, yet nothing succeeds
    assert s["recovery"] is None
    assert run.amplification(200, 240) == pytest.approx(3.0)  # every request tries 3 times
    assert sum(run.wasted[200:240]) > 0.9 * 100 * 40  # the backend is busy doing useless work


def test_cutting_new_load_ends_the_loop_only_below_a_third_of_capacity() -> None:
    for relief in (1.0, 0.6, 0.5):  # 80, 48 and 40 new requests per tick
        stuck = after_load_cut(relief)
        assert stuck.mean_goodput(360, 400) == 0, relief
        assert stuck.amplification(360, 400) == pytest.approx(3.0, abs=0.01)
    freed = after_load_cut(0.4)
    assert freed.new[-1] == 32  # 3 attempts x 32 = 96, under the capacity of 100
    assert freed.mean_goodput(360, 400) == 32
    assert freed.amplification(360, 400) == 1.0


def test_without_retries_the_same_spike_passes() -> None:
    s = summarize(simulate(Policy("no retries", max_attempts=1)))
    assert s["after"] == 80
    assert s["recovery"] is not None


def test_a_retry_budget_breaks_the_loop_and_caps_amplification() -> None:
    run = simulate(Policy("budget", retry_budget=0.1))
    s = summarize(run)
    assert s["recovery"] is not None
    assert s["after"] == 80
    # Across the incident, retries stayed near 10 % of new requests.
    assert run.amplification(20, 120) <= 1.1 + 0.01


def test_checking_deadlines_before_working_recovers_at_once() -> None:
    s = summarize(simulate(Policy("deadline", retry_budget=0.1, drop_expired=True)))
    assert s["recovery"] == 0
    assert s["during"] > 95  # the backend does useful work through the spike


def test_priority_shedding_protects_the_critical_class_during_the_spike() -> None:
    without = summarize(simulate(Policy("no shed", retry_budget=0.1, drop_expired=True)))
    with_shed = summarize(
        simulate(Policy("shed", retry_budget=0.1, drop_expired=True, max_wait=DEFAULT_WAITS))
    )
    assert with_shed["critical_during"] == 30  # every critical request served
    assert without["critical_during"] < 25
    assert with_shed["during"] == pytest.approx(100, abs=1)  # capacity stays fully used
    run = simulate(Policy("shed", retry_budget=0.1, drop_expired=True, max_wait=DEFAULT_WAITS))
    sc = run.scenario
    assert sum(run.shed[sc.spike_start : sc.spike_end]) > 0
    assert sum(run.shed[: sc.spike_start]) == 0  # nothing is shed at normal load


def test_simulation_is_deterministic_and_respects_the_queue_limit() -> None:
    sc = Scenario()
    a, b = simulate(POLICIES[0], sc), simulate(POLICIES[0], sc)
    assert a.goodput == b.goodput and a.queue == b.queue
    assert max(a.queue) <= sc.queue_limit


def test_input_validation() -> None:
    with pytest.raises(ValueError):
        prob_any_slow(1.5, 10)
    with pytest.raises(ValueError):
        leaf_tail_budget(0, 0.05)
    assert math.isclose(leaf_tail_budget(1, 0.05), 0.05)


def test_fan_out_curve_rises_with_the_number_of_calls() -> None:
    one_percent = dict(fanout_curve(0.01))
    assert one_percent[100] == pytest.approx(0.634, abs=0.001)
    assert one_percent[1000] > 0.9999
    values = list(one_percent.values())
    assert values == sorted(values)
    # Ten times rarer slow calls allow ten times the fan-out for about the same tail.
    assert dict(fanout_curve(0.001))[1000] == pytest.approx(one_percent[100], abs=0.005)
    assert dict(fanout_curve(0.0001))[1000] == pytest.approx(0.095, abs=0.001)


def test_the_fan_out_figure_plots_the_tested_curves() -> None:
    figure = draw("resilience/figures/fanout-tail.py")
    expected = {
        f"each call slow {share} of the time": [(n, p * 100) for n, p in fanout_curve(p_slow)]
        for p_slow, share in ((0.01, "1 %"), (0.001, "0.1 %"), (0.0001, "0.01 %"))
    }
    assert lines(figure) == expected
    marker = figure.axes[0].get_lines()[-1].get_xydata()
    assert marker.tolist() == [[100.0, pytest.approx(63.4, abs=0.05)]]


def test_goodput_timelines_show_the_loop_outliving_the_spike() -> None:
    timelines = goodput_timelines()
    assert set(timelines) == {p.name for p in POLICIES}
    naive = timelines["retries, no protection"]
    # Goodput falls to zero while the spike still runs, and never comes back.
    assert naive[34] == 60 and all(g == 0 for g in naive[35:])
    # Without retries, or with a budget, it returns once the backlog drains ...
    assert timelines["no retries"][59] == 0 and timelines["no retries"][64] >= 80
    assert timelines["retry budget 10 %"][70] == 0 and timelines["retry budget 10 %"][77] >= 76
    # ... and with the deadline check it never leaves capacity during the spike.
    for name in ("budget + deadline check", "budget + deadline + shedding"):
        assert min(timelines[name][20:40]) >= 98
        assert all(g == 80 for g in timelines[name][120:])


def test_the_goodput_figure_plots_the_tested_timelines() -> None:
    figure = draw("resilience/figures/retry-storm-goodput.py")
    assert lines(figure) == {
        name: [(float(t), float(g)) for t, g in enumerate(goodput)]
        for name, goodput in goodput_timelines().items()
    }
