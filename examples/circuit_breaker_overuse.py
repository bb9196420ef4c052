"""Circuit breakers versus the slowdowns they are often aimed at.

Two deterministic simulations on a simulated clock (nothing sleeps):

1. A dependency that never returns an error but has latency spikes. A breaker
   that counts slow calls as failures opens on every spike, stays open after
   the spike has ended and rejects calls the dependency would have served.
   A concurrency limit rejects only the excess in-flight work, and only while
   the spike lasts.
2. A three-shard dependency where one shard fails. One breaker for the whole
   dependency is either nearly blind to the failure (threshold above 1/3) or
   fails every user (threshold below 1/3); a breaker per shard fails only the
   users of the broken shard. The run also counts what still reached the
   broken shard: calls sent before its breaker first opened, and probes.

It also prints how often a count window misreads a failure rate by chance.

Run it with ``python -m examples.circuit_breaker_overuse``.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

# --------------------------------------------------------------------------
# Outcomes and how to classify them
# --------------------------------------------------------------------------

TIMEOUT = 0  # status used for a call abandoned at its attempt timeout
SERVER_FAILURES = frozenset({500, 502, 503, 504})  # not 501 or 505: those are answers


@dataclass(frozen=True)
class Outcome:
    """What one call to the dependency produced, as the caller saw it."""

    status: int  # HTTP-like status; TIMEOUT (0) when the attempt timed out
    latency: float  # seconds the caller waited
    refused: bool = False  # the server marked it a deliberate refusal (shedding, open breaker)


Classifier = Callable[[Outcome], bool]
"""Returns True when an outcome counts as a failure *of the dependency*."""


def dependency_errors(outcome: Outcome) -> bool:
    """Count timeouts and server failures; a 404, a 409 or a marked refusal is an answer."""
    return outcome.status == TIMEOUT or (outcome.status in SERVER_FAILURES and not outcome.refused)


def slow_or_error(slow_seconds: float) -> Classifier:
    """Also count calls slower than ``slow_seconds`` (a slow-call threshold)."""

    def classify(outcome: Outcome) -> bool:
        return dependency_errors(outcome) or outcome.latency >= slow_seconds

    return classify


# --------------------------------------------------------------------------
# The breaker
# --------------------------------------------------------------------------


class State(StrEnum):
    """Breaker states."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class Transition:
    """One state change, emitted as an event so it can be counted and logged."""

    at: float
    key: Hashable
    old: State
    new: State
    failure_rate: float


@dataclass(frozen=True)
class BreakerConfig:
    """Thresholds of a count-based breaker.

    ``window_size`` calls are kept; the failure rate is only computed once
    ``minimum_calls`` have been recorded, so three failures out of three do
    not open it. ``open_jitter`` spreads the end of the open period by up to
    that fraction, so breakers that opened together do not probe together.
    """

    window_size: int = 50
    minimum_calls: int = 20
    failure_rate_threshold: float = 0.5
    open_seconds: float = 5.0
    open_jitter: float = 0.0
    half_open_probes: int = 5
    classifier: Classifier = dependency_errors


class CircuitBreaker:
    """A count-window breaker with a pluggable failure classifier.

    ``allow(now)`` is asked before a call; ``record(now, outcome, admitted_at)``
    is told the outcome when the call completes. In the half-open state only
    ``half_open_probes`` calls are let through; when all of them have
    completed, the breaker closes if their failure rate is under the
    threshold and opens again otherwise. An outcome counts only in the state
    that admitted its call: a straggler admitted while closed that completes
    after the breaker opened, or during half-open, is ignored.
    """

    def __init__(
        self,
        key: Hashable,
        config: BreakerConfig,
        on_transition: Callable[[Transition], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.key = key
        self.config = config
        self.state = State.CLOSED
        self._since = -math.inf  # when the current state began
        self._window: deque[bool] = deque(maxlen=config.window_size)
        self._open_until = 0.0
        self._probes_sent = 0
        self._probe_results: list[bool] = []
        self._on_transition = on_transition
        self._rng = rng or random.Random(0)

    def failure_rate(self) -> float:
        """Share of failures in the current window (0.0 when it is empty)."""
        return sum(self._window) / len(self._window) if self._window else 0.0

    def _move(self, now: float, new: State, rate: float) -> None:
        old, self.state, self._since = self.state, new, now
        if new is State.OPEN:
            spread = self.config.open_jitter * self._rng.uniform(-1.0, 1.0)
            self._open_until = now + self.config.open_seconds * (1.0 + spread)
        if new is State.HALF_OPEN:
            self._probes_sent = 0
            self._probe_results = []
        if new is State.CLOSED:
            self._window.clear()
        if self._on_transition is not None:
            self._on_transition(Transition(now, self.key, old, new, rate))

    def reopens_at(self) -> float:
        """When an open breaker will let its first probe through."""
        return self._open_until

    def allow(self, now: float) -> bool:
        """Decide whether a call may go to the dependency at time ``now``."""
        if self.state is State.OPEN and now >= self._open_until:
            self._move(now, State.HALF_OPEN, self.failure_rate())
        if self.state is State.CLOSED:
            return True
        if self.state is State.HALF_OPEN and self._probes_sent < self.config.half_open_probes:
            self._probes_sent += 1
            return True
        return False

    def record(self, now: float, outcome: Outcome, admitted_at: float | None = None) -> None:
        """Feed the outcome of a call that ``allow`` let through at ``admitted_at``
        (None: during the current state)."""
        if self.state is State.OPEN or (admitted_at is not None and admitted_at < self._since):
            return  # admitted under an earlier state: a straggler, not a probe or fresh evidence
        failed = self.config.classifier(outcome)
        if self.state is State.HALF_OPEN:
            self._probe_results.append(failed)
            if len(self._probe_results) >= self.config.half_open_probes:
                rate = sum(self._probe_results) / len(self._probe_results)
                if rate >= self.config.failure_rate_threshold:
                    self._move(now, State.OPEN, rate)
                else:
                    self._move(now, State.CLOSED, rate)
            return
        self._window.append(failed)
        if len(self._window) >= self.config.minimum_calls:
            rate = self.failure_rate()
            if rate >= self.config.failure_rate_threshold:
                self._move(now, State.OPEN, rate)


KeyFn = Callable[[str, int], Hashable]


def global_key(dependency: str, shard: int) -> Hashable:
    """One breaker for the whole dependency."""
    return dependency


def per_shard_key(dependency: str, shard: int) -> Hashable:
    """One breaker per (dependency, shard)."""
    return (dependency, shard)


@dataclass
class BreakerRegistry:
    """Creates breakers lazily, one per key, and collects their transitions."""

    config: BreakerConfig
    key_fn: KeyFn = per_shard_key
    seed: int = 7
    transitions: list[Transition] = field(default_factory=list)
    _breakers: dict[Hashable, CircuitBreaker] = field(default_factory=dict)

    def get(self, dependency: str, shard: int) -> CircuitBreaker:
        """The breaker responsible for this dependency and shard."""
        key = self.key_fn(dependency, shard)
        if key not in self._breakers:
            rng = random.Random(f"{self.seed}:{key}")
            self._breakers[key] = CircuitBreaker(key, self.config, self.transitions.append, rng)
        return self._breakers[key]

    def opens(self) -> int:
        """How many times any breaker moved to OPEN."""
        return sum(1 for t in self.transitions if t.new is State.OPEN)


# --------------------------------------------------------------------------
# The alternative for slowness: a concurrency limit
# --------------------------------------------------------------------------


class ConcurrencyLimiter:
    """Admits a call only while fewer than ``limit`` calls are in flight.

    By Little's law the in-flight count is arrival rate times latency, so a
    limit of 50 at 100 calls/s only bites once latency passes 0.5 s, and
    stops biting the moment latency falls again.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0

    def try_acquire(self) -> bool:
        """Take a slot if one is free."""
        if self.in_flight >= self.limit:
            return False
        self.in_flight += 1
        return True

    def release(self) -> None:
        """Give a slot back when a call completes."""
        self.in_flight -= 1


# --------------------------------------------------------------------------
# A small event-driven simulator
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One call the service wants to make."""

    at: float
    shard: int


class Guard(Protocol):
    """What stands between the caller and the dependency."""

    def admit(self, now: float, shard: int) -> bool: ...

    def complete(self, now: float, shard: int, outcome: Outcome, started: float) -> None: ...


class NoGuard:
    """Lets everything through."""

    def admit(self, now: float, shard: int) -> bool:
        return True

    def complete(self, now: float, shard: int, outcome: Outcome, started: float) -> None:
        return None


@dataclass
class BreakerGuard:
    """Routes each call through the breaker for its key, and notes every probe."""

    registry: BreakerRegistry
    dependency: str = "inventory"
    probes: list[tuple[float, int]] = field(default_factory=list)  # (time, shard)

    def admit(self, now: float, shard: int) -> bool:
        breaker = self.registry.get(self.dependency, shard)
        allowed = breaker.allow(now)
        if allowed and breaker.state is State.HALF_OPEN:
            self.probes.append((now, shard))
        return allowed

    def complete(self, now: float, shard: int, outcome: Outcome, started: float) -> None:
        self.registry.get(self.dependency, shard).record(now, outcome, started)


@dataclass
class LimiterGuard:
    """Routes each call through a concurrency limiter."""

    limiter: ConcurrencyLimiter

    def admit(self, now: float, shard: int) -> bool:
        return self.limiter.try_acquire()

    def complete(self, now: float, shard: int, outcome: Outcome, started: float) -> None:
        self.limiter.release()


@dataclass(frozen=True)
class Result:
    """What happened to one request."""

    request: Request
    admitted: bool
    outcome: Outcome | None  # None when the guard rejected it


Dependency = Callable[[float, int], Outcome]


def run(requests: Iterable[Request], dependency: Dependency, guard: Guard) -> list[Result]:
    """Replay ``requests`` in time order; completions are delivered on time.

    Returns one Result per request. Outcomes reach the guard only when the
    call completes, as they would in production: a breaker cannot learn that
    a call is slow before the slowness has been spent.
    """
    pending: list[tuple[float, int, float, int, Outcome]] = []
    results: list[Result] = []
    seq = 0
    for req in requests:
        while pending and pending[0][0] <= req.at:
            done_at, _, started, shard, outcome = heapq.heappop(pending)
            guard.complete(done_at, shard, outcome, started)
        if guard.admit(req.at, req.shard):
            outcome = dependency(req.at, req.shard)
            heapq.heappush(pending, (req.at + outcome.latency, seq, req.at, req.shard, outcome))
            seq += 1
            results.append(Result(req, True, outcome))
        else:
            results.append(Result(req, False, None))
    while pending:
        done_at, _, started, shard, outcome = heapq.heappop(pending)
        guard.complete(done_at, shard, outcome, started)
    return results


def max_in_flight(results: Iterable[Result]) -> int:
    """Peak number of admitted calls outstanding at once."""
    edges: list[tuple[float, int]] = []
    for r in results:
        if r.admitted and r.outcome is not None:
            edges.append((r.request.at, 1))
            edges.append((r.request.at + r.outcome.latency, -1))
    edges.sort(key=lambda e: (e[0], e[1]))
    level = peak = 0
    for _, step in edges:
        level += step
        peak = max(peak, level)
    return peak


def poisson_arrivals(rate: float, seconds: float, shards: int, seed: int) -> Iterator[Request]:
    """Seeded Poisson arrivals, each request assigned to a shard at random."""
    rng = random.Random(seed)
    t = rng.expovariate(rate)
    while t < seconds:
        yield Request(t, rng.randrange(shards))
        t += rng.expovariate(rate)


# --------------------------------------------------------------------------
# Scenario 1: latency spikes, no errors
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Spike:
    """A period during which the dependency is slow but still answers."""

    start: float
    end: float
    latency: float


def spike_schedule(seconds: float, seed: int) -> list[Spike]:
    """Seeded spikes: 1-3 s long, 200-800 ms latency, 6-14 s apart."""
    rng = random.Random(seed)
    spikes: list[Spike] = []
    t = rng.uniform(4.0, 8.0)
    while t < seconds:
        length = rng.uniform(1.0, 3.0)
        spikes.append(Spike(t, min(t + length, seconds), rng.uniform(0.2, 0.8)))
        t += length + rng.uniform(6.0, 14.0)
    return spikes


def spiky_dependency(spikes: list[Spike], seed: int, timeout: float = 1.0) -> Dependency:
    """Healthy latency about 20 ms; during a spike, the spike's latency +-10 %."""
    rng = random.Random(seed)

    def call(now: float, shard: int) -> Outcome:
        base = 0.02 * rng.lognormvariate(0.0, 0.3)
        for s in spikes:
            if s.start <= now < s.end:
                base = s.latency * rng.uniform(0.9, 1.1)
                break
        if base > timeout:
            return Outcome(TIMEOUT, timeout)
        return Outcome(200, base)

    return call


def in_spike(spikes: list[Spike], now: float, grace: float = 0.0) -> bool:
    """Whether ``now`` falls inside a spike or less than ``grace`` seconds after
    one ended (slow calls admitted at the end of a spike are still draining)."""
    return any(s.start <= now < s.end + grace for s in spikes)


@dataclass(frozen=True)
class SpikeReport:
    """Summary of one guard over the latency-spike scenario."""

    guard: str
    requests: int
    rejected: int
    rejected_outside_spikes: int  # more than one timeout after any spike ended
    failed: int
    opens: int
    transitions: int
    peak_in_flight: int
    spike_seconds: float

    @property
    def rejected_share(self) -> float:
        """Share of all requests the guard turned away."""
        return self.rejected / self.requests


def latency_spike_run(
    guard_name: str,
    *,
    seconds: float = 120.0,
    rate: float = 100.0,
    seed: int = 42,
    limit: int = 50,
    breaker: BreakerConfig | None = None,
) -> SpikeReport:
    """Run the spike scenario with ``guard_name`` in none, breaker, limiter."""
    spikes = spike_schedule(seconds, seed)
    dependency = spiky_dependency(spikes, seed)
    registry = BreakerRegistry(breaker or BreakerConfig(classifier=slow_or_error(0.25)))
    guard: Guard
    if guard_name == "breaker":
        guard = BreakerGuard(registry)
    elif guard_name == "limiter":
        guard = LimiterGuard(ConcurrencyLimiter(limit))
    else:
        guard = NoGuard()
    results = run(poisson_arrivals(rate, seconds, 1, seed), dependency, guard)
    rejected = [r for r in results if not r.admitted]
    return SpikeReport(
        guard=guard_name,
        requests=len(results),
        rejected=len(rejected),
        rejected_outside_spikes=sum(
            1 for r in rejected if not in_spike(spikes, r.request.at, grace=1.0)
        ),
        failed=sum(1 for r in results if r.outcome is not None and r.outcome.status != 200),
        opens=registry.opens(),
        transitions=len(registry.transitions),
        peak_in_flight=max_in_flight(results),
        spike_seconds=sum(s.end - s.start for s in spikes),
    )


# --------------------------------------------------------------------------
# Scenario 2: one of three shards fails
# --------------------------------------------------------------------------


def shard_outage_dependency(
    bad_shard: int, start: float, end: float, seed: int, timeout: float = 1.0
) -> Dependency:
    """Every shard answers in ~20 ms, except ``bad_shard`` between start and end,
    whose calls hang until the caller's 1 s timeout."""
    rng = random.Random(seed)

    def call(now: float, shard: int) -> Outcome:
        if shard == bad_shard and start <= now < end:
            return Outcome(TIMEOUT, timeout)
        return Outcome(200, 0.02 * rng.lognormvariate(0.0, 0.3))

    return call


@dataclass(frozen=True)
class ShardReport:
    """Summary of one breaker layout over the shard-outage scenario."""

    layout: str
    threshold: float
    failed_share: float  # requests in the incident that got no answer
    failed_share_healthy_shards: float
    calls_sent_to_bad_shard: int
    requests_to_bad_shard: int
    sent_before_first_open: int  # calls into the bad shard before its breaker first opened
    probes_to_bad_shard: int  # half-open probes into the bad shard
    opens: int


def shard_outage_run(
    key_fn: KeyFn,
    threshold: float,
    *,
    seconds: float = 60.0,
    rate: float = 150.0,
    seed: int = 3,
    bad_shard: int = 2,
    incident: tuple[float, float] = (10.0, 50.0),
) -> ShardReport:
    """Run the outage with one breaker layout and failure-rate threshold."""
    start, end = incident
    config = BreakerConfig(failure_rate_threshold=threshold, open_seconds=5.0)
    registry = BreakerRegistry(config, key_fn)
    dependency = shard_outage_dependency(bad_shard, start, end, seed)
    guard = BreakerGuard(registry)
    results = run(poisson_arrivals(rate, seconds, 3, seed), dependency, guard)
    during = [r for r in results if start <= r.request.at < end]
    healthy = [r for r in during if r.request.shard != bad_shard]
    bad = [r for r in during if r.request.shard == bad_shard]
    bad_key = key_fn(guard.dependency, bad_shard)
    first_open = min(
        (t.at for t in registry.transitions if t.key == bad_key and t.new is State.OPEN),
        default=end,
    )

    def failed(r: Result) -> bool:
        return not r.admitted or r.outcome is None or r.outcome.status != 200

    layout = "global" if key_fn is global_key else "per-shard"
    return ShardReport(
        layout=layout,
        threshold=threshold,
        failed_share=sum(map(failed, during)) / len(during),
        failed_share_healthy_shards=sum(map(failed, healthy)) / len(healthy),
        calls_sent_to_bad_shard=sum(1 for r in bad if r.admitted),
        requests_to_bad_shard=len(bad),
        sent_before_first_open=sum(1 for r in bad if r.admitted and r.request.at < first_open),
        probes_to_bad_shard=sum(
            1 for at, shard in guard.probes if shard == bad_shard and start <= at < end
        ),
        opens=registry.opens(),
    )


# --------------------------------------------------------------------------
# How noisy a count window is
# --------------------------------------------------------------------------


def window_reads_at_least(n: int, p: float, threshold: float) -> float:
    """Chance that a window of ``n`` independent calls, each failing with
    probability ``p``, shows a failure rate of at least ``threshold``
    (the binomial tail P(K >= ceil(threshold * n)))."""
    k_min = math.ceil(threshold * n - 1e-9)
    return sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(k_min, n + 1))


# --------------------------------------------------------------------------
# Synchronized probes
# --------------------------------------------------------------------------


def probe_spread(clients: int, config: BreakerConfig, seed: int = 1) -> float:
    """Trip ``clients`` breakers at t=0 and return the spread (max - min) of the
    moments they let their first probe through. Zero means a probe burst."""
    times = []
    for i in range(clients):
        b = CircuitBreaker(("client", i), config, rng=random.Random(f"{seed}:{i}"))
        for _ in range(config.minimum_calls):
            b.record(0.0, Outcome(TIMEOUT, 1.0))
        times.append(b.reopens_at())
    return max(times) - min(times)


# --------------------------------------------------------------------------
# Demo
# --------------------------------------------------------------------------


def main() -> None:
    """Print both comparisons."""
    reports = [latency_spike_run(name) for name in ("none", "breaker", "limiter")]
    print(
        f"Scenario 1: {reports[0].requests} calls over 120 s; latency spikes cover "
        f"{reports[0].spike_seconds:.0f} s;"
    )
    print("the dependency returns no errors. Breaker counts calls >= 250 ms as failures;")
    print("the limiter allows 50 calls in flight.")
    print(
        f"{'guard':<9}{'rejected':>15}{'outside spikes':>16}{'opens':>7}"
        f"{'transitions':>13}{'peak in flight':>16}"
    )
    for r in reports:
        rejected = f"{r.rejected} ({r.rejected_share:.0%})"
        print(
            f"{r.guard:<9}{rejected:>15}{r.rejected_outside_spikes:>16}"
            f"{r.opens:>7}{r.transitions:>13}{r.peak_in_flight:>16}"
        )
    print()
    print("Scenario 2: shard 2 of 3 hangs (1 s timeouts) from t=10 s to t=50 s.")
    print("Calls into the bad shard: all, those sent before its breaker first opened, probes.")
    print(
        f"{'layout':<10}{'threshold':>10}{'failed':>7}{'failed healthy':>15}"
        f"{'into bad':>11}{'before open':>12}{'probes':>7}{'opens':>6}"
    )
    for key_fn, threshold in ((global_key, 0.5), (global_key, 0.25), (per_shard_key, 0.5)):
        s = shard_outage_run(key_fn, threshold)
        sent = f"{s.calls_sent_to_bad_shard}/{s.requests_to_bad_shard}"
        print(
            f"{s.layout:<10}{s.threshold:>10.0%}{s.failed_share:>7.0%}"
            f"{s.failed_share_healthy_shards:>15.0%}{sent:>11}{s.sent_before_first_open:>12}"
            f"{s.probes_to_bad_shard:>7}{s.opens:>6}"
        )
    print()
    chances = ", ".join(
        f"{n} calls {window_reads_at_least(n, 1 / 3, 0.5):.2%}" for n in (20, 50, 100)
    )
    print("Chance that one window reads >= 50 % failures when the true rate is 33 %:")
    print(f"  {chances}.")
    print()
    flat = probe_spread(20, BreakerConfig(open_seconds=5.0))
    jittered = probe_spread(20, BreakerConfig(open_seconds=5.0, open_jitter=0.2))
    print(
        f"20 breakers opened together: first probes spread over {flat:.2f} s "
        f"without jitter,\n  {jittered:.2f} s with +-20 % jitter."
    )


if __name__ == "__main__":
    main()
