"""Talking about reliability with numbers: a calculator for the claims people make.

Four tools, each for one kind of sentence heard in a design review:

* ``downtime_minutes``: "we target 99.99 %" as minutes per window;
* ``Component``/``Serial``/``Parallel``: "we depend on five services" and
  "it is redundant" as composite availability, computed exactly over the
  distinct components, so a dependency shared by two replicas is counted once
  (the naive formula counts it twice and overstates the pair);
* ``burn_rate``/``budget_consumed``/``WORKBOOK_RULES``: the SRE Workbook's
  multiwindow, multi-burn-rate alerts and the share of budget each one spends
  before it fires;
* ``replay_month``: a deterministic month of per-minute traffic with three
  injected problems, replayed through those alerts and through a plain
  threshold alert, to show which fires, when, and for how long.

Run ``python -m examples.talking_about_reliability`` for the demo.
"""

from __future__ import annotations

import functools
import itertools
import math
import random
from dataclasses import dataclass

MINUTES_PER_DAY = 24 * 60
PERIOD_DAYS = 30
PERIOD_HOURS = PERIOD_DAYS * 24  # the SLO period the Workbook's table assumes: 720 h

# --------------------------------------------------------------------------
# Nines as time
# --------------------------------------------------------------------------


def downtime_minutes(slo: float, days: float = PERIOD_DAYS) -> float:
    """Minutes of full unavailability an SLO allows over ``days`` (time-based reading)."""
    return (1.0 - slo) * days * MINUTES_PER_DAY


def incidents_allowed(slo: float, minutes_per_incident: float, days: float = PERIOD_DAYS) -> float:
    """How many full outages of a given length (time to detect + time to recover) fit the budget."""
    return downtime_minutes(slo, days) / minutes_per_incident


# --------------------------------------------------------------------------
# Dependency arithmetic
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Component:
    """One thing that is up or down, independently of every other *distinct* component."""

    name: str
    availability: float

    def occurrences(self) -> list[Component]:
        return [self]

    def naive(self, fixed: dict[str, bool] | None = None) -> float:
        if fixed and self.name in fixed:
            return 1.0 if fixed[self.name] else 0.0
        return self.availability


@dataclass(frozen=True)
class Serial:
    """Works only if every part works: critical dependencies called in sequence or fan-out."""

    parts: tuple[Node, ...]

    def occurrences(self) -> list[Component]:
        return [c for p in self.parts for c in p.occurrences()]

    def naive(self, fixed: dict[str, bool] | None = None) -> float:
        """Textbook product, treating every appearance of a component as independent."""
        return math.prod(p.naive(fixed) for p in self.parts)


@dataclass(frozen=True)
class Parallel:
    """Works if any part works: replicas with instant, perfect failover between them."""

    parts: tuple[Node, ...]

    def occurrences(self) -> list[Component]:
        return [c for p in self.parts for c in p.occurrences()]

    def naive(self, fixed: dict[str, bool] | None = None) -> float:
        """Textbook 1 - prod(1 - a): right only if the parts share nothing."""
        return 1.0 - math.prod(1.0 - p.naive(fixed) for p in self.parts)


Node = Component | Serial | Parallel


def serial(*parts: Node) -> Serial:
    return Serial(tuple(parts))


def parallel(*parts: Node) -> Parallel:
    return Parallel(tuple(parts))


def availability(graph: Node) -> float:
    """Exact probability that ``graph`` works, with shared components counted once.

    A component that appears in two branches (a shared config service, one
    deploy pipeline, the same region) is one random variable, not two: that is
    the correlation the naive formula ignores. The function conditions on
    every shared component being up or down, and in each case applies the
    textbook formulas, which are exact once nothing is shared.
    """
    seen: dict[str, Component] = {}
    shared: dict[str, Component] = {}
    for c in graph.occurrences():
        if c.name in seen and seen[c.name] != c:
            raise ValueError(f"two different components are both called {c.name!r}")
        (shared if c.name in seen else seen)[c.name] = c
    total = 0.0
    for states in itertools.product((True, False), repeat=len(shared)):
        fixed = dict(zip(shared, states, strict=True))
        weight = math.prod(
            c.availability if fixed[n] else 1.0 - c.availability for n, c in shared.items()
        )
        total += weight * graph.naive(fixed)
    return total


def chain(n: int, each: float) -> Serial:
    """``n`` distinct critical dependencies, each with availability ``each``."""
    return serial(*(Component(f"dep{i}", each) for i in range(n)))


def redundant_pair(each: float, shared: Component | None = None, name: str = "app") -> Parallel:
    """Two replicas of one component; with ``shared``, both also need the same dependency."""
    a, b = Component(f"{name}-a", each), Component(f"{name}-b", each)
    if shared is None:
        return parallel(a, b)
    return parallel(serial(a, shared), serial(b, shared))


def downtime_curve(max_n: int = 10, each: float = 0.999, shared: float = 0.9995) -> dict:
    """Expected minutes of unavailability per 30 days against the number of critical dependencies.

    Three designs for ``n`` dependencies at ``each``: a plain chain; every
    dependency made a redundant pair with independent failures; and the same
    pairs, all relying on one shared component (a config or deploy system)
    at ``shared``. Returns ``{label: [(n, minutes), ...]}``.
    """
    config = Component("shared-config", shared)
    designs = {
        "chain of single dependencies": lambda n: chain(n, each),
        "each dependency a redundant pair": lambda n: serial(
            *(redundant_pair(each, name=f"dep{i}") for i in range(n))
        ),
        "redundant pairs sharing one config system": lambda n: serial(
            config, *(redundant_pair(each, name=f"dep{i}") for i in range(n))
        ),
    }
    return {
        label: [(n, downtime_minutes(availability(build(n)))) for n in range(1, max_n + 1)]
        for label, build in designs.items()
    }


# --------------------------------------------------------------------------
# Error budgets and burn rate
# --------------------------------------------------------------------------


def budget_remaining(slo: float, total: int, failed: int) -> float:
    """Share of a request-based error budget left: 1 - failed / allowed (below 0 if overspent)."""
    allowed = (1.0 - slo) * total
    return 1.0 - failed / allowed


def burn_rate(error_ratio: float, slo: float) -> float:
    """How many times faster than "exactly on budget" errors are arriving."""
    return error_ratio / (1.0 - slo)


def budget_consumed(rate: float, window_hours: float, period_hours: float = PERIOD_HOURS) -> float:
    """Share of the period's budget spent by burning at ``rate`` for ``window_hours``."""
    return rate * window_hours / period_hours


def hours_to_exhaustion(rate: float, period_hours: float = PERIOD_HOURS) -> float:
    return period_hours / rate


def max_requests_where_one_failure_pages(slo: float, threshold: float = 14.4) -> int:
    """At or below this many requests per hour, one failure in the hour crosses ``threshold``."""
    return math.floor(1.0 / (threshold * (1.0 - slo)))


@dataclass(frozen=True)
class AlertRule:
    """Fire when the burn rate exceeds ``threshold`` over both windows (minutes)."""

    name: str
    severity: str
    long_min: int
    short_min: int | None
    threshold: float

    @property
    def budget_at_fire(self) -> float:
        return budget_consumed(self.threshold, self.long_min / 60)


# The SRE Workbook's recommended starting point (chapter "Alerting on SLOs").
WORKBOOK_RULES = (
    AlertRule("fast burn", "page", 60, 5, 14.4),
    AlertRule("steady burn", "page", 6 * 60, 30, 6.0),
    AlertRule("slow burn", "ticket", 3 * MINUTES_PER_DAY, 6 * 60, 1.0),
)
# Approach 1 of the six: alert whenever the last 10 minutes miss the SLO.
THRESHOLD_RULE = AlertRule("error ratio above SLO, 10 min", "page", 10, None, 1.0)
# The fast-burn page without its short window, to show why the short window exists.
LONG_WINDOW_ONLY = AlertRule("fast burn, 1 h window only", "page", 60, None, 14.4)


# --------------------------------------------------------------------------
# A month, replayed
# --------------------------------------------------------------------------

SLO = 0.999
REQUESTS_PER_MINUTE = 1_000
BASELINE_ERROR_RATIO = 0.0002  # burn 0.2: the ordinary trickle of failures

# (name, first minute, length in minutes, error ratio)
INCIDENTS = (
    ("bad hour: a bad deploy, rolled back", 8 * MINUTES_PER_DAY + 14 * 60, 60, 0.03),
    ("half-day partial outage: one zone", 15 * MINUTES_PER_DAY + 2 * 60, 12 * 60, 0.008),
    ("three-day drift: a slow leak", 22 * MINUTES_PER_DAY, 3 * MINUTES_PER_DAY, 0.0015),
)


def _poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method; fine for the small means used here."""
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def error_ratio_at(minute: int) -> float:
    for _, start, length, ratio in INCIDENTS:
        if start <= minute < start + length:
            return ratio
    return BASELINE_ERROR_RATIO


@dataclass(frozen=True)
class Episode:
    """One continuous stretch during which a rule's condition held."""

    rule: str
    start: int  # minute of the month
    end: int  # first minute it no longer held

    @property
    def minutes(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Month:
    requests: tuple[int, ...]
    errors: tuple[int, ...]
    episodes: tuple[Episode, ...]

    @property
    def error_ratio(self) -> float:
        return sum(self.errors) / sum(self.requests)

    def budget_left_hourly(self) -> list[tuple[float, float]]:
        """(day, share of the month's budget left) at the end of every hour."""
        allowed = (1.0 - SLO) * sum(self.requests)
        points, spent = [(0.0, 1.0)], 0
        for hour in range(PERIOD_HOURS):
            spent += sum(self.errors[hour * 60 : (hour + 1) * 60])
            points.append(((hour + 1) / 24, 1.0 - spent / allowed))
        return points

    def budget_left_at(self, minute: int) -> float:
        """Share of the month's budget left at the start of ``minute``."""
        allowed = (1.0 - SLO) * sum(self.requests)
        return 1.0 - sum(self.errors[:minute]) / allowed

    def mean_ratio(self, first_day: int, last_day: int) -> float:
        """Error ratio over whole days ``first_day``..``last_day`` (1-based, inclusive)."""
        a, b = (first_day - 1) * MINUTES_PER_DAY, last_day * MINUTES_PER_DAY
        return sum(self.errors[a:b]) / sum(self.requests[a:b])

    def worst_hour_ratio(self) -> float:
        return max(
            sum(self.errors[h * 60 : (h + 1) * 60]) / sum(self.requests[h * 60 : (h + 1) * 60])
            for h in range(PERIOD_HOURS)
        )

    def fired(self, rule: str) -> list[Episode]:
        return [e for e in self.episodes if e.rule == rule]


def _prefix(xs: tuple[int, ...]) -> list[int]:
    out = [0]
    for x in xs:
        out.append(out[-1] + x)
    return out


def evaluate(
    rule: AlertRule, requests: tuple[int, ...], errors: tuple[int, ...], slo: float = SLO
) -> list[Episode]:
    """Evaluate ``rule`` at the end of every minute; return its firing episodes."""
    req, err = _prefix(requests), _prefix(errors)

    def burn(end: int, window: int) -> float:
        start = max(0, end - window)
        n = req[end] - req[start]
        return burn_rate((err[end] - err[start]) / n, slo) if n else 0.0

    episodes, since = [], None
    for end in range(1, len(requests) + 1):
        on = burn(end, rule.long_min) > rule.threshold and (
            rule.short_min is None or burn(end, rule.short_min) > rule.threshold
        )
        if on and since is None:
            since = end - 1
        elif not on and since is not None:
            episodes.append(Episode(rule.name, since, end - 1))
            since = None
    if since is not None:
        episodes.append(Episode(rule.name, since, len(requests)))
    return episodes


def minutes_until_page(
    rule: AlertRule, slo: float, outage_ratio: float = 1.0, per_minute: int = 1_000
) -> int:
    """Minutes from the start of a sudden outage to the first minute ``rule`` holds.

    Two clean hours, then the outage; the rule is evaluated at the end of every
    minute, so 0 means it already holds at the end of the outage's first minute.
    The windows average, they do not delay: a large burn crosses both at once.
    """
    clean, bad = 120, 60
    requests = (per_minute,) * (clean + bad)
    errors = (0,) * clean + (round(per_minute * outage_ratio),) * bad
    episodes = evaluate(rule, requests, errors, slo)
    return episodes[0].start - clean


@functools.cache
def replay_month(seed: int = 18) -> Month:
    """Thirty days of per-minute traffic, seeded, with the three ``INCIDENTS`` injected."""
    rng = random.Random(seed)
    minutes = PERIOD_DAYS * MINUTES_PER_DAY
    requests = tuple(REQUESTS_PER_MINUTE for _ in range(minutes))
    errors = tuple(_poisson(rng, n * error_ratio_at(m)) for m, n in enumerate(requests))
    rules = (*WORKBOOK_RULES, THRESHOLD_RULE, LONG_WINDOW_ONLY)
    episodes = tuple(e for rule in rules for e in evaluate(rule, requests, errors))
    return Month(requests, errors, episodes)


def alert_marks() -> dict[str, list[tuple[float, float]]]:
    """For each Workbook rule, (day, budget left) at the moment each of its episodes starts."""
    month = replay_month()
    return {
        f"{r.severity}: {r.threshold:g}x over {r.long_min // 60} h": [
            (e.start / MINUTES_PER_DAY, month.budget_left_at(e.start)) for e in month.fired(r.name)
        ]
        for r in WORKBOOK_RULES
    }


def incident_budget_share(name: str) -> float:
    """Share of the month's budget an injected incident spends (its excess over nothing)."""
    _, _, length, ratio = next(i for i in INCIDENTS if i[0] == name)
    return burn_rate(ratio, SLO) * (length / 60) / PERIOD_HOURS


def value_of_nine(slo_from: float, slo_to: float, cost_per_minute: float) -> float:
    """Monthly value of the full-outage minutes a tighter SLO takes out of the budget.

    Assumes the service spends its whole budget at either level; a service that
    spends half its budget saves half of this.
    """
    return (downtime_minutes(slo_from) - downtime_minutes(slo_to)) * cost_per_minute


# Illustrative input for pricing a nine: 1,000 checkouts a minute at $2 of margin each.
COST_PER_OUTAGE_MINUTE = 2_000


def span(minutes: float) -> str:
    """Minutes as a reader says them: seconds below one minute, hours above 100 minutes."""
    if minutes < 1:
        return f"{minutes * 60:.0f} s"
    if minutes >= 100:
        return f"{minutes / 60:.1f} h"
    return f"{minutes:.1f} min"


def clock(minute: int) -> str:
    day, rest = divmod(minute, MINUTES_PER_DAY)
    return f"day {day + 1:>2} {rest // 60:02d}:{rest % 60:02d}"


# --------------------------------------------------------------------------
# Demo
# --------------------------------------------------------------------------


def main() -> None:
    """Print the numbers the article quotes from this example."""
    print("Allowed downtime   per 30 days  per 365 days  30-min incidents per 30 days")
    for slo in (0.99, 0.999, 0.9995, 0.9999, 0.99999):
        month, year = downtime_minutes(slo), downtime_minutes(slo, 365)
        fits = incidents_allowed(slo, 30)
        print(f"  {slo:8.3%}  {span(month):>13}  {span(year):>12}  {fits:>9.2f}")
    every = PERIOD_DAYS / incidents_allowed(0.9999, 30)
    print(f"  at 99.99 %, one 30-minute incident every {every:.0f} days")
    fast = WORKBOOK_RULES[0]
    print(
        f"  full outage at 99.99 %: burn rate {burn_rate(1.0, 0.9999):,.0f}, fast-burn page "
        f"holds from minute {minutes_until_page(fast, 0.9999) + 1}"
    )

    print("\nComposite availability")
    five = availability(chain(5, 0.999))
    print(f"  five critical deps at 99.9 %:   {five:.4%} ({span(downtime_minutes(five))} down)")
    print(f"  five critical deps at 99.99 %:  {availability(chain(5, 0.9999)):.4%}")
    config = Component("shared-config", 0.9995)
    pair, shared_pair = redundant_pair(0.999), redundant_pair(0.999, shared=config)
    print(f"  redundant pair, independent:    {availability(pair):.4%}")
    print(f"  pair sharing a 99.95 % config:  {availability(shared_pair):.4%}", end="")
    print(f"  (naive formula says {shared_pair.naive():.4%})")

    print(f"\nValue of a nine at ${COST_PER_OUTAGE_MINUTE:,} per full-outage minute (illustrative)")
    for a, b in ((0.99, 0.999), (0.999, 0.9999), (0.9999, 0.99999)):
        saved = downtime_minutes(a) - downtime_minutes(b)
        value = value_of_nine(a, b, COST_PER_OUTAGE_MINUTE)
        print(f"  {a:.3%} -> {b:.3%}: {saved:6.1f} min a month, ${value:>9,.0f}")

    print(
        f"\nError budget at 99.9 %, 10M requests, 6,000 failed: "
        f"{budget_remaining(0.999, 10_000_000, 6_000):.0%} left"
    )
    print("Workbook alerts (30-day SLO period)")
    for r in WORKBOOK_RULES:
        print(
            f"  {r.severity:<6} {r.threshold:>4}x over {r.long_min / 60:>3.0f} h "
            f"(short {r.short_min} min): {r.budget_at_fire:.0%} of budget; "
            f"empty in {hours_to_exhaustion(r.threshold):.0f} h"
        )
    n = max_requests_where_one_failure_pages(0.999)
    print(f"  one failure pages at or below {n} requests/h")

    m = replay_month()
    print(
        f"\nReplayed month at 99.9 %: error ratio {m.error_ratio:.3%}, "
        f"budget left {m.budget_left_hourly()[-1][1]:.0%}"
    )
    for name, start, length, ratio in INCIDENTS:
        print(
            f"  {clock(start)} {name} ({ratio:.2%} for {length / 60:.0f} h, "
            f"{incident_budget_share(name):.0%} of budget)"
        )
    print(
        f"  mean error ratio: day 9 {m.mean_ratio(9, 9):.3%}, days 8-14 "
        f"{m.mean_ratio(8, 14):.3%}, worst hour {m.worst_hour_ratio():.2%}"
    )
    print("  Workbook alert episodes: start, time into the incident, budget left")
    for rule in WORKBOOK_RULES:
        for e in m.fired(rule.name):
            name, start, length, _ = max(i for i in INCIDENTS if i[1] <= e.start)
            into = span(e.start - start)
            late = " (after it ended)" if e.start >= start + length else ""
            print(
                f"    {rule.name:<12} {clock(e.start)}  {into:>8} into {name.split(':')[0]}"
                f"{late}, {m.budget_left_at(e.start):.0%} left"
            )
    (page,) = m.fired(WORKBOOK_RULES[0].name)
    _, start, length, _ = INCIDENTS[0]
    print(f"  bad hour: failure went on {start + length - page.start} min after the page")
    for rule in (*WORKBOOK_RULES, LONG_WINDOW_ONLY, THRESHOLD_RULE):
        eps = m.fired(rule.name)
        first = f"first at {clock(eps[0].start)}" if eps else "never"
        longest = max((e.minutes for e in eps), default=0)
        print(f"  {rule.name:<30} fired {len(eps):>3}x, {first}, longest {longest} min")
    drift = INCIDENTS[2][1]
    in_drift = [e for e in m.fired(THRESHOLD_RULE.name) if e.start >= drift]
    print(f"  {len(in_drift)} of the 10-minute threshold's episodes came during the slow leak")


if __name__ == "__main__":
    main()
