"""Tests for the intermittent-failure example: the race, the intervals, the suspects."""

from __future__ import annotations

import itertools
import math

import pytest

from examples.intermittent_failures import (
    Z95,
    bonferroni_z,
    chance_all_pass,
    clean_run_curves,
    measure,
    rank_suspects,
    rate_within,
    run_interleaving,
    runs_needed,
    synthetic_requests,
    upper_bound_after_clean_runs,
    wilson_interval,
)
from tests.figures import draw, lines


def test_same_seed_same_interleaving():
    outcomes = [run_interleaving(s, 0.3) for s in range(50)]
    assert outcomes == [run_interleaving(s, 0.3) for s in range(50)]
    assert not all(outcomes) and any(outcomes)


def test_shipped_race_fails_rarely_and_its_interval_contains_the_true_rate():
    runs = 3000
    failures = measure(runs, switch_prob=0.02)
    low, high = wilson_interval(failures, runs)
    # One switch between read and write loses an update: the true rate is 2 %.
    assert low < 0.02 < high
    assert 0.01 < failures / runs < 0.04


def test_widening_the_window_amplifies_the_failure():
    failures = measure(200, switch_prob=0.02, window_steps=49)
    predicted = 1 - 0.98**50
    assert abs(failures / 200 - predicted) < 0.1
    assert failures / 200 > 20 * measure(1000, switch_prob=0.02) / 1000


def test_more_workers_fail_more_often():
    assert measure(1000, switch_prob=0.05, workers=4) > measure(1000, switch_prob=0.05)


def test_atomic_increment_never_loses_an_update():
    assert measure(500, switch_prob=0.5, window_steps=49, workers=4, atomic=True) == 0


def test_a_few_clean_runs_prove_nothing():
    # With a 2 % failure rate, ten passes in a row happen most of the time.
    assert 0.98**10 > 0.8
    streaks = []
    seed = 0
    while len(streaks) < 20:
        streak = 0
        while run_interleaving(seed, 0.02):
            streak += 1
            seed += 1
        streaks.append(streak)
        seed += 1
    assert sum(s >= 10 for s in streaks) >= 10


def test_wilson_interval_known_values():
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    low, high = wilson_interval(5, 10)
    assert (low, high) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))
    with pytest.raises(ValueError):
        wilson_interval(0, 0)


def test_runs_needed_matches_the_rule_of_three():
    assert runs_needed(0.02) == 149
    assert runs_needed(0.001) == 2995
    for rate in (0.05, 0.01, 0.001):
        assert abs(runs_needed(rate) - 3 / rate) / (3 / rate) < 0.05
    assert runs_needed(0.02, confidence=0.99) == 228
    with pytest.raises(ValueError):
        runs_needed(0.0)


def test_upper_bound_after_clean_runs_is_about_three_over_n():
    assert upper_bound_after_clean_runs(149) <= 0.02
    assert upper_bound_after_clean_runs(300) == pytest.approx(3 / 300, rel=0.01)
    assert math.isclose(upper_bound_after_clean_runs(1), 0.95)


def test_real_cause_ranks_first_and_hosts_are_cleared():
    suspects = rank_suspects(synthetic_requests())
    top = suspects[0]
    assert (top.attr, top.value) == ("conn_idle", ">=5s")
    assert top.separated and top.lift > 50
    assert not any(s.separated for s in suspects if s.attr == "host")


def test_bonferroni_correction_for_the_values_scanned():
    assert bonferroni_z(1) == pytest.approx(Z95, abs=1e-4)  # one comparison: plain 95 %
    assert bonferroni_z(15) == pytest.approx(2.935, abs=1e-3)
    assert bonferroni_z(100) > bonferroni_z(15)  # more values scanned, stricter bar
    requests = synthetic_requests()
    plain = {(s.attr, s.value) for s in rank_suspects(requests) if s.separated}
    values = len(rank_suspects(requests))
    strict = rank_suspects(requests, bonferroni_z(values))
    corrected = {(s.attr, s.value) for s in strict if s.separated}
    assert values == 15
    assert corrected < plain  # the correction can only remove suspects
    assert ("conn_idle", ">=5s") in corrected and ("version", "v42") not in corrected


def test_confounded_suspect_vanishes_when_stratified():
    requests = synthetic_requests()
    v42 = next(s for s in rank_suspects(requests) if (s.attr, s.value) == ("version", "v42"))
    assert v42.separated  # looks guilty on its own
    table = rate_within(requests, "version", ("conn_idle", ">=5s"))
    for inside in (False, True):
        k41, n41 = table[(inside, "v41")]
        k42, n42 = table[(inside, "v42")]
        lo41, hi41 = wilson_interval(k41, n41)
        lo42, hi42 = wilson_interval(k42, n42)
        assert lo42 <= hi41 and lo41 <= hi42  # intervals overlap within each stratum


def test_clean_runs_mislead_until_about_three_over_p():
    curves = clean_run_curves()
    assert set(curves) == {0.10, 0.05, 0.02}
    # Ten clean runs are the usual outcome while a 2 % bug is still there.
    assert chance_all_pass(0.02, 10) == pytest.approx(0.817, abs=5e-4)
    for rate, points in curves.items():
        chance = dict(points)
        assert chance[0] == 1.0
        assert all(a > b for (_, a), (_, b) in itertools.pairwise(points))
        # The curve crosses 5 % exactly at runs_needed, which is close to 3 / p.
        needed = runs_needed(rate)
        assert chance[needed] <= 0.05 < chance[needed - 1]
        assert abs(needed - 3 / rate) / (3 / rate) < 0.05
    assert [runs_needed(r) for r in (0.10, 0.05, 0.02)] == [29, 59, 149]


def test_the_figure_plots_the_clean_run_curves():
    figure = draw("debugging/figures/clean-run-odds.py")
    drawn = lines(figure)
    expected = {
        f"bug fails {100 * rate:.0f} % of runs": [(n, 100 * c) for n, c in points]
        for rate, points in clean_run_curves().items()
    }
    assert {k: v for k, v in drawn.items() if k.startswith("bug fails")} == expected
    markers = sorted(
        (x, y)
        for line in figure.axes[0].get_lines()
        if line.get_label().startswith("_")
        for x, y in line.get_xydata()
    )
    assert markers == sorted(
        [(runs_needed(r), 100 * chance_all_pass(r, runs_needed(r))) for r in (0.1, 0.05, 0.02)]
        + [(10, 100 * chance_all_pass(0.02, 10))]
    )
