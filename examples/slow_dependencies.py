"""Containing a slow dependency: timeout, bulkhead and fail-fast around one call.

The module simulates a service with a fixed pool of worker threads. Half of its
requests (product pages) call a recommendations dependency; the other half
(checkouts) never touch it. For twenty seconds of a sixty-second run the
dependency misbehaves: it is *dead* (refuses connections in 1 ms), *blackholed*
(drops connection attempts, so each call waits for its timeout) or *slow*
(answers after about 3.5 s). The same traffic runs through the same
pool with and without a :class:`DependencyGuard` in front of the dependency.

Everything runs on a simulated clock driven by an event heap, so the results
are exact, deterministic for a given seed, and take no real time.

Run ``python -m examples.slow_dependencies`` for the demo.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

# --------------------------------------------------------------------------
# Arithmetic the article uses
# --------------------------------------------------------------------------


def busy_workers(rate_per_s: float, seconds_per_request: float) -> float:
    """Little's law: the average number of requests in flight is L = lambda * W."""
    return rate_per_s * seconds_per_request


def attempts_at_bottom(attempts_per_layer: int, layers: int) -> int:
    """Calls that reach the lowest layer when every layer retries independently."""
    return attempts_per_layer**layers


def timeout_for_call(
    latency_percentile_s: float,
    remaining_deadline_s: float,
    reserve_s: float = 0.0,
    padding: float = 1.0,
) -> float:
    """Per-attempt timeout: the smaller of a latency-derived value and the time left.

    ``latency_percentile_s`` is the dependency's measured latency at the
    percentile matching the false-timeout rate you accept (p99.9 for 0.1 %).
    ``reserve_s`` is kept back for the work the caller still has to do after
    the call returns. A result of 0 means there is no time left: do not call.
    """
    budget = remaining_deadline_s - reserve_s
    return max(0.0, min(latency_percentile_s * padding, budget))


def full_jitter_backoff(retry: int, base_s: float, cap_s: float, rng: random.Random) -> float:
    """Sleep before retry number ``retry`` (1 for the first), with full jitter.

    Uniform in [0, min(cap, base * 2**(retry - 1))]: capped exponential backoff
    indexed as gRPC's retry policy is, so the first retry waits up to ``base_s``
    and each later ceiling is twice the one before, until ``cap_s``.
    """
    return rng.uniform(0.0, min(cap_s, base_s * 2 ** (retry - 1)))


class RetryBudget:
    """Allow retries only up to a share of recent requests, plus a small floor.

    Over any ``window_s`` seconds, retries may not exceed
    ``ratio * requests + min_per_s * window_s``. With ``ratio=0.2``,
    ``min_per_s=10`` and ``window_s=10`` this matches the defaults Finagle
    documents for its retry budget.
    """

    def __init__(self, ratio: float = 0.2, min_per_s: float = 10.0, window_s: float = 10.0) -> None:
        self.ratio = ratio
        self.min_per_s = min_per_s
        self.window_s = window_s
        self._requests: deque[float] = deque()
        self._retries: deque[float] = deque()

    def _expire(self, now: float) -> None:
        for stamps in (self._requests, self._retries):
            while stamps and stamps[0] <= now - self.window_s:
                stamps.popleft()

    def record_request(self, now: float) -> None:
        """Count one first attempt."""
        self._requests.append(now)

    def try_spend(self, now: float) -> bool:
        """Return True and count a retry if the budget allows one now."""
        self._expire(now)
        allowed = self.ratio * len(self._requests) + self.min_per_s * self.window_s
        if len(self._retries) + 1 > allowed:
            return False
        self._retries.append(now)
        return True


def retry_load(
    requests_per_s: int, seconds: int, max_retries: int, budget: RetryBudget | None
) -> float:
    """Attempts sent per first attempt when *every* call fails (a full outage)."""
    attempts = 0
    for tick in range(requests_per_s * seconds):
        now = tick / requests_per_s
        attempts += 1
        if budget is not None:
            budget.record_request(now)
        for _ in range(max_retries):
            if budget is not None and not budget.try_spend(now):
                break
            attempts += 1
    return attempts / (requests_per_s * seconds)


# --------------------------------------------------------------------------
# Hedged requests against a replicated dependency
# --------------------------------------------------------------------------


def replica_latency(rng: random.Random, overloaded: bool = False) -> float:
    """One call to one replica: 4 ms plus an exponential 2 ms, and on 1 % of calls a stall.

    A stall (a pause, a compaction, a noisy neighbor) adds 0.2 to 1 s, uniform,
    drawn independently for every call, so a hedge to another replica usually
    misses it. ``overloaded`` models a dependency slow for everyone (replicas
    waiting on one saturated database): 0.2 s plus an exponential 50 ms.
    """
    if overloaded:
        return 0.2 + rng.expovariate(1 / 0.05)
    latency = 0.004 + rng.expovariate(1 / 0.002)
    if rng.random() < 0.01:
        latency += rng.uniform(0.2, 1.0)
    return latency


def percentile(values: list[float], q: float) -> float:
    """The q-quantile of ``values`` by the nearest-rank rule."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass(frozen=True)
class HedgeResult:
    """Latency percentiles of the same calls without and with a hedge."""

    hedge_after_s: float
    plain: dict[str, float]
    hedged: dict[str, float]
    extra_requests: float  # hedges sent, as a share of first requests


def hedging_effect(calls: int = 100_000, overloaded: bool = False, seed: int = 3) -> HedgeResult:
    """Send a second copy of a read to another replica once the first exceeds the healthy p95."""
    rng = random.Random(seed)
    hedge_after = percentile([replica_latency(rng) for _ in range(calls)], 0.95)
    plain, hedged, hedges = [], [], 0
    for _ in range(calls):
        first = replica_latency(rng, overloaded)
        plain.append(first)
        if first <= hedge_after:
            hedged.append(first)
            continue
        hedges += 1
        # Assumed, not derived: a stall is one call's bad luck, while under
        # overload the copy is exactly as slow as the first call.
        second = first if overloaded else replica_latency(rng)
        hedged.append(min(first, hedge_after + second))  # first answer wins, loser cancelled
    quantiles = {"p50": 0.50, "p99": 0.99, "p99.9": 0.999}
    return HedgeResult(
        hedge_after_s=hedge_after,
        plain={name: percentile(plain, q) for name, q in quantiles.items()},
        hedged={name: percentile(hedged, q) for name, q in quantiles.items()},
        extra_requests=hedges / calls,
    )


# --------------------------------------------------------------------------
# The guard: timeout, bulkhead and fail-fast for one dependency
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class GuardConfig:
    """Limits for one dependency. ``None`` switches a mechanism off."""

    latency_p999_s: float = 0.085  # measured p99.9 of the dependency when healthy
    timeout_padding: float = 1.2  # headroom above p99.9
    reserve_s: float = 0.05  # time kept for the caller's own work afterwards
    max_in_flight: int | None = 10  # bulkhead size
    breaker_window: int | None = 20  # outcomes remembered for fail-fast
    breaker_min_calls: int = 10
    breaker_failure_ratio: float = 0.5
    breaker_cooldown_s: float = 2.0
    fixed_timeout_s: float | None = None  # a library default instead of a derived timeout

    @classmethod
    def unguarded(cls) -> GuardConfig:
        """What many clients ship with: a 30 s timeout, no bulkhead, no fail-fast."""
        return cls(fixed_timeout_s=30.0, max_in_flight=None, breaker_window=None)


class DependencyGuard:
    """Decides, before each call, whether to call the dependency and for how long.

    Rejections are immediate: a full bulkhead or an open breaker costs the
    caller no waiting time and no extra worker time, so the caller can serve
    its fallback at once.
    """

    ALLOWED = "allowed"
    REJECTED_FULL = "bulkhead_full"
    REJECTED_OPEN = "failing_fast"
    REJECTED_NO_TIME = "no_time_left"

    def __init__(self, config: GuardConfig) -> None:
        self.config = config
        self.in_flight = 0
        self.peak_in_flight = 0
        self._outcomes: deque[bool] = deque(maxlen=config.breaker_window or 1)
        self._open_until: float | None = None
        self._probe_in_flight = False
        self.rejections: dict[str, int] = {
            self.REJECTED_FULL: 0,
            self.REJECTED_OPEN: 0,
            self.REJECTED_NO_TIME: 0,
        }

    @property
    def probing(self) -> bool:
        """Whether the call in flight, if admitted last, is a half-open probe."""
        return self._probe_in_flight

    def timeout(self, remaining_deadline_s: float) -> float:
        """Timeout for the next attempt, given the caller's remaining deadline."""
        if self.config.fixed_timeout_s is not None:
            return self.config.fixed_timeout_s
        return timeout_for_call(
            self.config.latency_p999_s,
            remaining_deadline_s,
            self.config.reserve_s,
            self.config.timeout_padding,
        )

    def admit(self, now: float, remaining_deadline_s: float) -> str:
        """Return ALLOWED and take a slot, or the reason the call is refused."""
        cfg = self.config
        if self._open_until is not None:
            if now < self._open_until or self._probe_in_flight:
                return self._reject(self.REJECTED_OPEN)
            self._probe_in_flight = True  # half-open: exactly one trial call
        if self.timeout(remaining_deadline_s) <= 0.0:
            self._probe_in_flight = False
            return self._reject(self.REJECTED_NO_TIME)
        if cfg.max_in_flight is not None and self.in_flight >= cfg.max_in_flight:
            self._probe_in_flight = False
            return self._reject(self.REJECTED_FULL)
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        return self.ALLOWED

    def finish(self, now: float, ok: bool) -> None:
        """Release the slot and record whether the call succeeded in time."""
        self.in_flight -= 1
        cfg = self.config
        if cfg.breaker_window is None:
            return
        if self._probe_in_flight:
            self._probe_in_flight = False
            if ok:
                self._open_until = None
                self._outcomes.clear()
            else:
                self._open_until = now + cfg.breaker_cooldown_s
            return
        self._outcomes.append(ok)
        failures = self._outcomes.count(False)
        if (
            len(self._outcomes) >= cfg.breaker_min_calls
            and failures / len(self._outcomes) >= cfg.breaker_failure_ratio
        ):
            self._open_until = now + cfg.breaker_cooldown_s
            self._outcomes.clear()

    def _reject(self, reason: str) -> str:
        self.rejections[reason] += 1
        return reason


# --------------------------------------------------------------------------
# The simulated world
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """Traffic, pool size and the dependency's behavior over time."""

    rate_per_s: float = 200.0
    duration_s: float = 60.0
    product_share: float = 0.5  # share of requests that call the dependency
    workers: int = 40
    local_work_s: float = 0.005  # mean of the request's own work
    client_deadline_s: float = 1.0  # the caller gives up after this
    incident_start_s: float = 20.0
    incident_end_s: float = 40.0
    incident: str = "slow"  # "slow", "dead", "blackhole" or "none"
    seed: int = 7

    def dependency_latency(self, now: float, rng: random.Random) -> tuple[float, bool]:
        """Latency of a call started at ``now`` and whether it returns an answer."""
        in_incident = self.incident_start_s <= now < self.incident_end_s
        if in_incident and self.incident == "dead":
            return 0.001, False  # connection refused, immediately
        if in_incident and self.incident == "blackhole":
            return math.inf, False  # connection attempts dropped: no answer, ever
        if in_incident and self.incident == "slow":
            return 3.0 + rng.expovariate(1 / 0.5), True
        return 0.015 + rng.expovariate(1 / 0.010), True


@dataclass
class Outcome:
    """What one caller experienced."""

    kind: str
    arrival: float
    finish: float = math.inf
    degraded: bool = False

    @property
    def latency(self) -> float:
        return self.finish - self.arrival


@dataclass
class Report:
    """Summary of one run, per request kind."""

    outcomes: list[Outcome] = field(default_factory=list)
    peak_busy_workers: int = 0
    peak_queue: int = 0
    peak_dependency_in_flight: int = 0
    calls_in_incident: int = 0  # calls that reached the dependency during the incident
    probes_in_incident: int = 0  # of which half-open probes
    rejections: dict[str, int] = field(default_factory=dict)
    deadline_s: float = 1.0

    def _select(self, kind: str, start: float, end: float) -> list[Outcome]:
        return [o for o in self.outcomes if o.kind == kind and start <= o.arrival < end]

    def p99_seen_by_caller(self, kind: str, start: float = 0.0, end: float = math.inf) -> float:
        """p99 latency as the caller sees it: a late answer counts as the deadline."""
        seen = [min(o.latency, self.deadline_s) for o in self._select(kind, start, end)]
        return percentile(seen, 0.99)

    def on_time_share(self, kind: str, start: float = 0.0, end: float = math.inf) -> float:
        """Share of requests answered (fully or degraded) before the caller gave up."""
        chosen = self._select(kind, start, end)
        return sum(o.latency <= self.deadline_s for o in chosen) / len(chosen)

    def degraded_share(self, kind: str, start: float = 0.0, end: float = math.inf) -> float:
        """Share of requests answered with the fallback instead of the dependency's data."""
        chosen = self._select(kind, start, end)
        return sum(o.degraded for o in chosen) / len(chosen)

    def last_late(self, kind: str) -> float | None:
        """Arrival time of the last request of ``kind`` not answered in time, if any."""
        late = [o.arrival for o in self.outcomes if o.kind == kind and o.latency > self.deadline_s]
        return max(late, default=None)


def simulate(scenario: Scenario, config: GuardConfig) -> Report:
    """Run the scenario through a worker pool with ``config`` guarding the dependency."""
    rng = random.Random(scenario.seed)
    guard = DependencyGuard(config)
    report = Report(deadline_s=scenario.client_deadline_s)
    events: list[tuple[float, int, Callable[[float], None]]] = []
    seq = 0

    def at(when: float, action: Callable[[float], None]) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (when, seq, action))

    waiting: deque[Outcome] = deque()  # the pool's queue, unbounded
    busy = 0

    def start(now: float, req: Outcome) -> None:
        nonlocal busy
        busy += 1
        report.peak_busy_workers = max(report.peak_busy_workers, busy)
        local = rng.expovariate(1 / scenario.local_work_s)
        if req.kind == "checkout":
            at(now + local, lambda t: done(t, req))
            return
        remaining = scenario.client_deadline_s - (now - req.arrival)
        if guard.admit(now, remaining) != DependencyGuard.ALLOWED:
            req.degraded = True  # fallback: the page without recommendations
            at(now + local, lambda t: done(t, req))
            return
        if scenario.incident_start_s <= now < scenario.incident_end_s:
            report.calls_in_incident += 1
            report.probes_in_incident += guard.probing
        latency, answered = scenario.dependency_latency(now, rng)
        limit = guard.timeout(remaining)
        ok = answered and latency <= limit
        spent = min(latency, limit)
        req.degraded = not ok

        def dependency_returned(t: float) -> None:
            guard.finish(t, ok)
            at(t + local, lambda t2: done(t2, req))

        at(now + spent, dependency_returned)

    def done(now: float, req: Outcome) -> None:
        nonlocal busy
        busy -= 1
        req.finish = now
        if waiting:
            start(now, waiting.popleft())

    def arrive(now: float, req: Outcome) -> None:
        report.outcomes.append(req)
        if busy < scenario.workers:
            start(now, req)
        else:
            waiting.append(req)
            report.peak_queue = max(report.peak_queue, len(waiting))

    clock = 0.0
    while True:
        clock += rng.expovariate(scenario.rate_per_s)
        if clock >= scenario.duration_s:
            break
        kind = "product" if rng.random() < scenario.product_share else "checkout"
        req = Outcome(kind=kind, arrival=clock)
        at(clock, lambda t, r=req: arrive(t, r))

    while events:
        when, _, action = heapq.heappop(events)
        action(when)

    report.peak_dependency_in_flight = guard.peak_in_flight
    report.rejections = dict(guard.rejections)
    return report


INCIDENT_RUNS: tuple[tuple[str, str, bool], ...] = (
    ("dead dependency, unguarded", "dead", False),
    ("slow dependency, unguarded", "slow", False),
    ("slow dependency, guarded", "slow", True),
)
"""The demo's three runs: (name, the dependency's incident, whether the guard is on)."""


@dataclass(frozen=True)
class Timeline:
    """One run over time: what the pool and an unrelated caller experienced."""

    busy_workers: list[tuple[float, int]]
    """(time in s, workers busy at that instant), sampled every ``step_s``."""
    checkout_on_time: list[tuple[float, float]]
    """(middle of a 1 s bin, share of the checkouts arriving in it answered in time)."""


def busy_workers_at(report: Report, times: list[float], workers: int) -> list[int]:
    """Workers busy at each instant of ``times``, from the run's arrivals and finishes.

    The pool serves its queue as soon as a worker frees up, so a request waits only
    while every worker is busy: busy workers = min(requests in the service, pool size).
    """
    arrivals = sorted(o.arrival for o in report.outcomes)
    finishes = sorted(o.finish for o in report.outcomes)
    inside = [bisect.bisect_right(arrivals, t) - bisect.bisect_right(finishes, t) for t in times]
    return [min(n, workers) for n in inside]


@functools.cache
def incident_timelines(step_s: float = 0.25) -> dict[str, Timeline]:
    """Busy workers and checkouts answered in time, over the run, for each demo run.

    The article's figure plots this and the tests assert it; cached so that one
    simulation serves both.
    """
    timelines = {}
    for name, incident, guarded in INCIDENT_RUNS:
        scenario = Scenario(incident=incident)
        config = GuardConfig() if guarded else GuardConfig.unguarded()
        report = simulate(scenario, config)
        times = [i * step_s for i in range(round(scenario.duration_s / step_s) + 1)]
        busy = busy_workers_at(report, times, scenario.workers)
        seconds = range(math.ceil(scenario.duration_s))
        timelines[name] = Timeline(
            busy_workers=list(zip(times, busy, strict=True)),
            checkout_on_time=[
                (s + 0.5, report.on_time_share("checkout", s, s + 1)) for s in seconds
            ],
        )
    return timelines


def main() -> None:
    """Print the runs the article discusses, the hedging comparison and the retry arithmetic."""
    base = Scenario()
    print(
        "Little's law, healthy:",
        round(busy_workers(base.rate_per_s, 0.005 + 0.5 * 0.025), 1),
        "busy workers of",
        base.workers,
    )
    print(
        "Little's law, slow dependency:",
        round(busy_workers(100, 3.5)),
        "workers needed for product pages alone",
    )
    runs = [
        ("dead, unguarded", Scenario(incident="dead"), GuardConfig.unguarded()),
        ("blackholed, unguarded", Scenario(incident="blackhole"), GuardConfig.unguarded()),
        ("blackholed, guarded", Scenario(incident="blackhole"), GuardConfig()),
        ("slow, unguarded", Scenario(incident="slow"), GuardConfig.unguarded()),
        ("slow, guarded", Scenario(incident="slow"), GuardConfig()),
    ]
    window = (base.incident_start_s, base.incident_end_s)
    print(f"\nDuring the incident ({window[0]:.0f}-{window[1]:.0f} s), client deadline 1 s:")
    header = (
        f"{'run':<22}{'checkout p99':>13}{'checkout ok':>12}"
        f"{'product p99':>12}{'product ok':>11}{'busy':>6}{'queue':>7}{'last late checkout':>20}"
    )
    print(header)
    for name, scenario, config in runs:
        r = simulate(scenario, config)
        last = r.last_late("checkout")
        print(
            f"{name:<22}"
            f"{r.p99_seen_by_caller('checkout', *window) * 1000:>10.0f} ms"
            f"{r.on_time_share('checkout', *window):>12.0%}"
            f"{r.p99_seen_by_caller('product', *window) * 1000:>9.0f} ms"
            f"{r.on_time_share('product', *window):>11.0%}"
            f"{r.peak_busy_workers:>6}{r.peak_queue:>7}"
            f"{'none' if last is None else f'{last:.1f} s':>20}"
        )
    guarded = simulate(Scenario(incident="slow"), GuardConfig())
    in_flight = guarded.peak_dependency_in_flight
    print("\nSlow, guarded: peak calls in flight to the dependency =", in_flight)
    print("  rejections:", guarded.rejections)
    probes = guarded.probes_in_incident
    print(
        f"  calls that reached the dependency during the incident: {guarded.calls_in_incident}",
        f"({guarded.calls_in_incident - probes} before the breaker first opened, {probes} probes)",
    )
    recovered = min(
        o.arrival
        for o in guarded.outcomes
        if o.kind == "product" and o.arrival >= base.incident_end_s and not o.degraded
    )
    print(f"  first product page with real data after the incident: {recovered:.1f} s")
    print("\nHedged reads, hedge sent after the healthy p95:")
    for label, overloaded in (("stalls on one replica", False), ("dependency overloaded", True)):
        h = hedging_effect(overloaded=overloaded)
        print(
            f"  {label}: hedge after {h.hedge_after_s * 1000:.1f} ms,",
            f"p99 {h.plain['p99'] * 1000:.0f} -> {h.hedged['p99'] * 1000:.0f} ms,",
            f"p99.9 {h.plain['p99.9'] * 1000:.0f} -> {h.hedged['p99.9'] * 1000:.0f} ms,",
            f"{h.extra_requests:.1%} more requests",
        )
    print("\nRetries during a full outage, 1,000 requests/s for 10 s, up to 3 retries each:")
    print("  no budget:", f"{retry_load(1000, 10, 3, None):.2f}", "attempts per request")
    print(
        "  20 % budget + 10/s floor:",
        f"{retry_load(1000, 10, 3, RetryBudget()):.2f}",
        "attempts per request",
    )
    print("  3 attempts at each of 5 layers:", attempts_at_bottom(3, 5), "calls at the bottom")


if __name__ == "__main__":
    main()
