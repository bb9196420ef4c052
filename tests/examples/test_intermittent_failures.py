"""Tests for the intermittent-failure example: the race, the intervals, the suspects."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from examples.intermittent_failures import (
    Z95,
    bonferroni_z,
    chance_all_pass,
    chi_square,
    clean_run_curves,
    comparisons,
    confirm_on_holdout,
    failures_to_compare,
    measure,
    rank_suspects,
    rate_ratio,
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


def test_rate_ratio_separates_a_halving_only_with_enough_runs():
    # The partial fix halves the switch probability, so the true ratio is 0.5.
    ratio, low, high = rate_ratio(
        measure(3000, switch_prob=0.02), 3000, measure(3000, seed=20_000, switch_prob=0.01), 3000
    )
    assert low < 0.5 < high < 1
    assert low < ratio < high
    _, low, high = rate_ratio(
        measure(300, switch_prob=0.02), 300, measure(300, seed=20_000, switch_prob=0.01), 300
    )
    assert low < 1 < high  # 300 runs each cannot tell a halving from no change


def test_rate_ratio_known_values():
    ratio, low, high = rate_ratio(10, 1000, 10, 1000)
    assert ratio == 1.0 and low < 1 < high
    assert low == pytest.approx(1 / high)  # symmetric on a log scale for equal counts
    ratio, low, high = rate_ratio(20, 1000, 0, 2000)
    assert ratio == 0.0 and low == 0.0 and 0 < high < 1
    with pytest.raises(ValueError):
        rate_ratio(0, 100, 0, 100)


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
    scanned = rank_suspects(requests)
    # 6 hosts + 4 hour bands + 3 idle buckets + 1 for the two versions.
    assert len(scanned) == 15 and comparisons(scanned) == 14
    strict = rank_suspects(requests, bonferroni_z(comparisons(scanned)))
    corrected = {(s.attr, s.value) for s in strict if s.separated}
    assert corrected < plain  # the correction can only remove suspects
    assert ("conn_idle", ">=5s") in corrected and ("version", "v42") not in corrected


def test_holdout_confirms_the_scan_without_the_version():
    requests = synthetic_requests()
    picked, confirmed, z = confirm_on_holdout(requests[:10_000], requests[10_000:])
    assert "conn_idle=>=5s" in confirmed
    assert set(confirmed) <= set(picked)
    assert z == pytest.approx(bonferroni_z(len(picked)))
    assert "version=v42" in picked and "version=v42" not in confirmed


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


def test_failures_to_compare_gives_about_the_planned_power():
    assert failures_to_compare(0.5) == 63
    assert failures_to_compare(0.8) == 628
    # Simulate equal exposures at a 2 % rate before and 1 % after, sized for 63 failures.
    rng = random.Random(5)
    runs = round(63 / (0.02 + 0.01))
    shown = 0
    for _ in range(300):
        before = sum(rng.random() < 0.02 for _ in range(runs))
        after = sum(rng.random() < 0.01 for _ in range(runs))
        shown += rate_ratio(before, runs, after, runs)[2] < 1
    assert 0.65 < shown / 300 < 0.9
    with pytest.raises(ValueError):
        failures_to_compare(1.0)


def test_chi_square_known_values_and_thin_bins():
    assert chi_square([(10, 100), (10, 100)]) == (0.0, 1)
    statistic, df = chi_square([(30, 100), (10, 100)])
    assert df == 1 and statistic == pytest.approx(12.5)  # the 2x2 Pearson statistic
    # A bin expecting under 5 failures is left out, whatever it holds.
    assert chi_square([(10, 100), (10, 100), (1, 1)])[1] == 1


def test_time_of_day_pattern_vanishes_within_idle_strata():
    table = rate_within(synthetic_requests(), "hours", ("conn_idle", ">=5s"))
    bands = sorted({band for _, band in table})
    overall = [
        (table[(False, b)][0] + table[(True, b)][0], table[(False, b)][1] + table[(True, b)][1])
        for b in bands
    ]
    assert chi_square(overall)[0] > 100  # far past 7.81, the 5 % point on 3 df
    exposed, df = chi_square([table[(True, b)] for b in bands])
    assert df == 2 and exposed < 5.99  # the 12-17 band saw one exposed request
    intervals = [wilson_interval(*table[(False, b)]) for b in bands]
    assert max(lo for lo, _ in intervals) < min(hi for _, hi in intervals)
