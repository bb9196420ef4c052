"""Tests for examples.talking_about_reliability: each asserts a number the article quotes."""

from __future__ import annotations

import pytest

from examples.talking_about_reliability import (
    INCIDENTS,
    LONG_WINDOW_ONLY,
    MINUTES_PER_DAY,
    SLO,
    THRESHOLD_RULE,
    WORKBOOK_RULES,
    Component,
    alert_marks,
    availability,
    budget_consumed,
    budget_remaining,
    burn_rate,
    chain,
    downtime_curve,
    downtime_minutes,
    evaluate,
    hours_to_exhaustion,
    incident_budget_share,
    incidents_allowed,
    max_requests_where_one_failure_pages,
    minutes_until_page,
    parallel,
    redundant_pair,
    replay_month,
    serial,
    value_of_nine,
)
from tests.figures import draw, lines

FAST, STEADY, SLOW = WORKBOOK_RULES


def start_of(name: str) -> int:
    return next(start for n, start, _, _ in INCIDENTS if n.startswith(name))


# --- nines as time -----------------------------------------------------------


def test_nines_as_minutes() -> None:
    assert downtime_minutes(0.99) == pytest.approx(432.0)
    assert downtime_minutes(0.999) == pytest.approx(43.2)
    assert downtime_minutes(0.9995) == pytest.approx(21.6)
    assert downtime_minutes(0.9999) == pytest.approx(4.32)
    assert downtime_minutes(0.99999) * 60 == pytest.approx(25.92)
    assert downtime_minutes(0.9999, days=365) == pytest.approx(52.56)
    assert downtime_minutes(0.999, days=365) / 60 == pytest.approx(8.76)


def test_four_nines_leave_no_room_for_a_30_minute_incident() -> None:
    assert incidents_allowed(0.999, 30) == pytest.approx(1.44)
    # one such incident every 30 / 0.144 = 208 days
    assert 30 / incidents_allowed(0.9999, 30) == pytest.approx(208.3, abs=0.1)


def test_four_nines_budget_is_gone_before_a_human_responds() -> None:
    # the alert is not the delay: a full outage crosses both windows in its first minute
    assert burn_rate(1.0, 0.9999) == pytest.approx(10_000)
    assert minutes_until_page(FAST, 0.9999) == 0
    # the month's budget is shorter than the SRE book's typical 5-minute response time
    assert downtime_minutes(0.9999) < 5


def test_windows_average_rather_than_delay() -> None:
    # a burn just over the threshold needs most of the long window before it pages
    assert minutes_until_page(FAST, 0.999, outage_ratio=0.03) > 20
    assert minutes_until_page(FAST, 0.999, outage_ratio=1.0) == 0


# --- dependency arithmetic -----------------------------------------------------


def test_five_serial_dependencies_at_three_nines_give_99_5() -> None:
    assert availability(chain(5, 0.999)) == pytest.approx(0.99501, abs=1e-5)
    assert round(availability(chain(5, 0.999)) * 100, 2) == 99.50


def test_the_extra_nine_leaves_half_the_budget() -> None:
    deps = availability(chain(5, 0.9999))
    assert deps == pytest.approx(0.9995, abs=1e-6)
    # five dependencies at 99.99 % spend half of a 99.9 % service's budget
    assert (1 - deps) / (1 - 0.999) == pytest.approx(0.5, abs=0.001)


def test_independent_redundancy_multiplies_nines() -> None:
    assert availability(redundant_pair(0.999)) == pytest.approx(1 - 1e-6)


def test_a_pair_that_shares_a_dependency_is_no_better_than_that_dependency() -> None:
    config = Component("shared-config", 0.999)
    pair = redundant_pair(0.999, shared=config)
    assert availability(pair) <= config.availability
    assert availability(pair) == pytest.approx(0.999 * (1 - 1e-6))
    # the textbook formula counts the config service twice and promises about five nines
    assert pair.naive() > 0.99999


def test_pair_behind_the_figures_config_system() -> None:
    config = Component("shared-config", 0.9995)
    pair = redundant_pair(0.999, shared=config)
    assert availability(pair) < config.availability
    assert round(availability(pair) * 100, 4) == 99.9499
    assert round(pair.naive() * 100, 4) == 99.9998


def test_shared_component_is_one_random_variable() -> None:
    a = Component("a", 0.9)
    assert availability(parallel(a, a)) == pytest.approx(0.9)
    assert availability(serial(a, a)) == pytest.approx(0.9)
    with pytest.raises(ValueError):
        availability(parallel(a, Component("a", 0.5)))


def test_downtime_curve_claims() -> None:
    curve = downtime_curve()
    budget = downtime_minutes(0.999)
    chain_pts = dict(curve["chain of single dependencies"])
    pairs = dict(curve["each dependency a redundant pair"])
    shared = dict(curve["redundant pairs sharing one config system"])
    # a chain spends the whole 99.9 % budget with one dependency and ten times it with ten
    assert chain_pts[1] == pytest.approx(budget)
    assert chain_pts[10] == pytest.approx(430.1, abs=0.1)
    # independent pairs stay under a minute; pairs behind one 99.95 % config never go below it
    assert max(pairs.values()) < 0.5
    assert min(shared.values()) > downtime_minutes(0.9995)
    assert max(shared.values()) < 22.1


def test_dependency_figure_plots_the_curve() -> None:
    figure = draw("explaining/figures/dependency-downtime.py")
    expected = {label: [(float(n), m) for n, m in pts] for label, pts in downtime_curve().items()}
    assert lines(figure) == expected


# --- budgets and burn rates ----------------------------------------------------


def test_budget_remaining() -> None:
    assert budget_remaining(0.999, 10_000_000, 6_000) == pytest.approx(0.4)
    assert budget_remaining(0.999, 10_000_000, 12_000) < 0


def test_workbook_table_budget_consumed_at_each_threshold() -> None:
    assert [r.budget_at_fire for r in WORKBOOK_RULES] == pytest.approx([0.02, 0.05, 0.10])
    assert budget_consumed(14.4, 1) == pytest.approx(14.4 * 1 / 720)
    assert [r.short_min * 12 for r in WORKBOOK_RULES] == [r.long_min for r in WORKBOOK_RULES]
    assert [hours_to_exhaustion(r.threshold) for r in WORKBOOK_RULES] == pytest.approx(
        [50, 120, 720]
    )
    assert burn_rate(0.0144, 0.999) == pytest.approx(14.4)


def test_low_traffic_one_failure_pages() -> None:
    n = max_requests_where_one_failure_pages(0.999)
    assert n == 69
    assert burn_rate(1 / n, 0.999) > 14.4 > burn_rate(1 / (n + 1), 0.999)


# --- the replayed month ----------------------------------------------------------


@pytest.fixture(scope="module")
def month():
    return replay_month()


def test_month_average_hides_the_bad_hour(month) -> None:
    allowance = 1 - SLO
    assert month.error_ratio < allowance  # the month "meets the SLO"
    assert month.mean_ratio(8, 14) < allowance  # so does the week around the bad hour
    assert month.worst_hour_ratio() > 25 * allowance  # while one hour ran near 30x
    fast = month.fired(FAST.name)
    bad_hour = start_of("bad hour")
    assert len(fast) == 1 and bad_hour < fast[0].start < bad_hour + 30
    assert month.budget_left_hourly()[-1][1] == pytest.approx(0.5, abs=0.02)


def test_each_workbook_alert_fires_on_its_kind_of_problem(month) -> None:
    (steady,) = month.fired(STEADY.name)
    zone = start_of("half-day")
    assert zone + 4 * 60 < steady.start < zone + 5 * 60  # 6h x 6/8 = 4.5 h into a burn of 8
    tickets = month.fired(SLOW.name)
    drift = start_of("three-day")
    assert len(tickets) == 2 and drift + 40 * 60 < tickets[1].start < drift + 48 * 60
    # the zone failure opens a ticket too, before it ends
    assert zone < tickets[0].start < zone + 12 * 60
    # the drift never pages; the zone outage never trips the fast page
    assert all(e.start < drift for e in month.fired(STEADY.name) + month.fired(FAST.name))
    assert not [e for e in month.fired(FAST.name) if zone <= e.start < zone + 12 * 60]


def test_budget_left_when_each_alert_fired(month) -> None:
    marks = [b for pts in alert_marks().values() for _, b in pts]
    assert [round(b * 100) for b in marks] == [92, 81, 78, 59]


def test_bad_hour_goes_on_after_the_page(month) -> None:
    (fast,) = month.fired(FAST.name)
    assert start_of("bad hour") + 60 - fast.start == 32
    assert fast.start - start_of("bad hour") == 28


def test_short_window_shortens_reset(month) -> None:
    (fast,) = month.fired(FAST.name)
    (long_only,) = month.fired(LONG_WINDOW_ONLY.name)
    end_of_bad_hour = start_of("bad hour") + 60
    assert fast.end - end_of_bad_hour <= 5
    assert long_only.end - end_of_bad_hour >= 25


def test_threshold_alert_flaps(month) -> None:
    flaps = month.fired(THRESHOLD_RULE.name)
    drift = start_of("three-day")
    assert len([e for e in flaps if e.start >= drift]) > 100


def test_value_of_a_nine_falls_tenfold() -> None:
    assert value_of_nine(0.999, 0.9999, 2_000) == pytest.approx(77_760)
    assert value_of_nine(0.99, 0.999, 2_000) == pytest.approx(777_600)
    assert value_of_nine(0.9999, 0.99999, 2_000) == pytest.approx(7_776)


def test_evaluate_needs_both_windows() -> None:
    # 60 bad minutes then 10 clean ones: the long window still burns, the short one does not
    requests = (100,) * 70
    errors = (10,) * 60 + (0,) * 10
    episodes = evaluate(FAST, requests, errors)
    assert len(episodes) == 1 and episodes[0].end <= 65
    assert evaluate(LONG_WINDOW_ONLY, requests, errors)[0].end == 70


def test_incident_shares() -> None:
    shares = [incident_budget_share(name) for name, *_ in INCIDENTS]
    assert shares == pytest.approx([30 / 720, 96 / 720, 108 / 720])
    assert MINUTES_PER_DAY == 1440


def test_budget_figure_plots_the_replay(month) -> None:
    figure = draw("explaining/figures/budget-burn.py")
    plotted = lines(figure)
    assert plotted["budget left"] == [(d, b * 100) for d, b in month.budget_left_hourly()]
    assert plotted["burn rate 1 (on pace)"] == [(0.0, 100.0), (30.0, 0.0)]
    for label, marks in alert_marks().items():
        assert plotted[label] == [(d, b * 100) for d, b in marks]
