"""Queue depth is not load control: an unbounded FIFO against bounded, deadline-aware queues.

A server with a few workers takes requests from one queue. Each request
carries the caller's deadline (the caller gives up after 500 ms). The module
runs the same seeded arrivals through three queue policies (unbounded FIFO;
bounded and deadline-aware; the same with a CoDel-style sojourn limit and
newest-first service under a standing queue) at several offered
loads and reports goodput (answers delivered before the deadline), wasted
work, rejections and tail latency.

The simulation is a discrete-event loop on a simulated clock: exact,
deterministic for a seed, and free of real sleeping.

Run ``python -m examples.saturation_and_queues`` for the demo.
"""

from __future__ import annotations

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


def mm1_wait_factor(utilization: float) -> float:
    """Mean time in queue divided by mean service time for an M/M/1 queue: rho / (1 - rho)."""
    if not 0.0 <= utilization < 1.0:
        raise ValueError("an M/M/1 queue only has a steady state below 100 % utilization")
    return utilization / (1.0 - utilization)


def mmc_wait_factor(utilization: float, servers: int) -> float:
    """Mean time in queue divided by mean service time for ``servers`` workers sharing one queue.

    Erlang C (M/M/c): Poisson arrivals, exponential service times. With one
    server it equals :func:`mm1_wait_factor`.
    """
    if not 0.0 <= utilization < 1.0:
        raise ValueError("an M/M/c queue only has a steady state below 100 % utilization")
    offered = utilization * servers  # the load in erlangs: busy servers on average
    below = sum(offered**k / math.factorial(k) for k in range(servers))
    at_or_above = offered**servers / math.factorial(servers) / (1.0 - utilization)
    wait_probability = at_or_above / (below + at_or_above)
    return wait_probability / (servers * (1.0 - utilization))


def drain_seconds(
    overload_s: float, offered: float, capacity: float, offered_after: float
) -> float:
    """How long a backlog built during an overload takes to clear afterwards.

    The backlog grows at ``offered - capacity`` for ``overload_s`` seconds and
    shrinks at ``capacity - offered_after`` once demand falls back.
    """
    if offered_after >= capacity:
        return math.inf
    return overload_s * (offered - capacity) / (capacity - offered_after)


def seconds_until_useless(deadline_s: float, capacity: float, offered: float) -> float:
    """How long an unbounded FIFO stays useful once arrivals exceed capacity.

    The backlog grows at ``offered - capacity`` per second; once it holds
    ``deadline_s * capacity`` requests, a new arrival waits past its deadline.
    """
    return deadline_s * capacity / (offered - capacity)


def queue_limit(capacity_per_s: float, max_wait_s: float) -> int:
    """The depth at which a new arrival would wait ``max_wait_s`` before service.

    A first-in-first-out queue holding ``n`` items in front of a server that
    completes ``capacity_per_s`` per second drains in ``n / capacity_per_s``
    seconds; this is that drain time solved for ``n``. It describes one
    arrival's wait at one moment, so it holds during an overload too, unlike
    Little's law, which relates long-run averages in a steady state.
    """
    return max(1, int(capacity_per_s * max_wait_s))


def throttle_probability(requests: float, accepts: float, k: float = 2.0) -> float:
    """Google SRE client-side adaptive throttling: the chance to reject a new request locally.

    ``requests`` counts what the application attempted over the window (the
    SRE book uses the last two minutes), including requests this throttle
    rejected; ``accepts`` counts what the backend accepted. With ``k = 2``
    the client keeps sending until it attempts twice what the backend accepts.
    """
    return max(0.0, (requests - k * accepts) / (requests + 1))


# --------------------------------------------------------------------------
# Queue policies
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class QueuePolicy:
    """How the server queues work. ``None`` switches a limit off."""

    name: str
    max_depth: int | None = None  # admission control: reject when this many are waiting
    drop_expired: bool = False  # skip work whose caller has given up (or will before it ends)
    sojourn_target_s: float | None = None  # CoDel-style cap on waiting once a queue stands
    standing_after_s: float = 0.1  # a queue "stands" once not empty this long; also the loose cap
    lifo_when_standing: bool = False  # adaptive LIFO: newest first while a queue stands

    @classmethod
    def unbounded_fifo(cls) -> QueuePolicy:
        """The default in most frameworks: accept everything, serve in arrival order."""
        return cls(name="unbounded FIFO")

    @classmethod
    def bounded_deadline_aware(cls, max_depth: int = 40) -> QueuePolicy:
        """Bounded depth (reject at the door) and expired work dropped before it is served."""
        return cls(name="bounded, deadline-aware", max_depth=max_depth, drop_expired=True)

    @classmethod
    def controlled_delay(
        cls, max_depth: int = 40, target_s: float = 0.05, interval_s: float = 0.2
    ) -> QueuePolicy:
        """The bounded policy plus a CoDel-style sojourn cap and adaptive LIFO."""
        return cls(
            name="bounded + CoDel + LIFO",
            max_depth=max_depth,
            drop_expired=True,
            sojourn_target_s=target_s,
            standing_after_s=interval_s,
            lifo_when_standing=True,
        )


@dataclass
class Request:
    """One unit of work and what happened to it."""

    arrival: float
    deadline: float
    service_s: float
    fate: str = "pending"  # ok, late, rejected, dropped_expired, dropped_sojourn
    finish: float = math.nan
    waited: float = math.nan


class ServerQueue:
    """A queue in front of ``workers`` workers, applying one :class:`QueuePolicy`.

    ``offer`` is the admission decision (a rejection here is the cheap 429 or
    503 with ``Retry-After``). ``next_request`` is the dispatch decision: it
    discards work that can no longer help anyone before a worker touches it.
    """

    def __init__(self, policy: QueuePolicy, mean_service_s: float) -> None:
        self.policy = policy
        self.mean_service_s = mean_service_s
        self.items: deque[Request] = deque()
        self.last_empty = 0.0
        self.peak_depth = 0
        self.oldest_age_samples: list[float] = []

    def standing(self, now: float) -> bool:
        """True once the queue has stayed non-empty for longer than ``standing_after_s``."""
        return bool(self.items) and now - self.last_empty > self.policy.standing_after_s

    def offer(self, now: float, req: Request) -> bool:
        """Admit ``req`` or reject it at once."""
        if not self.items:
            self.last_empty = now
        if self.policy.max_depth is not None and len(self.items) >= self.policy.max_depth:
            req.fate = "rejected"
            return False
        self.items.append(req)
        self.peak_depth = max(self.peak_depth, len(self.items))
        return True

    def _hopeless(self, now: float, req: Request) -> str | None:
        p = self.policy
        if p.drop_expired and now + self.mean_service_s > req.deadline:
            return "dropped_expired"
        if p.sojourn_target_s is not None:
            # Facebook's CoDel variant: a short limit while a queue stands, a long one otherwise.
            limit = p.sojourn_target_s if self.standing(now) else p.standing_after_s
            if now - req.arrival > limit:
                return "dropped_sojourn"
        return None

    def next_request(self, now: float) -> Request | None:
        """Pop the next request worth serving, dropping hopeless ones on the way."""
        if self.items:
            self.oldest_age_samples.append(now - self.items[0].arrival)
        while self.items:
            newest_first = self.policy.lifo_when_standing and self.standing(now)
            # Old work at the head is purged even in LIFO mode, so it cannot linger.
            head_fate = self._hopeless(now, self.items[0])
            if head_fate is not None:
                self.items.popleft().fate = head_fate
                continue
            req = self.items.pop() if newest_first else self.items.popleft()
            fate = self._hopeless(now, req)
            if fate is None:
                if not self.items:
                    self.last_empty = now
                return req
            req.fate = fate
        self.last_empty = now
        return None


# --------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """Offered load relative to capacity, and the server's shape."""

    utilization: float
    workers: int = 4
    mean_service_s: float = 0.010  # 4 workers x 100/s = 400 requests/s of capacity
    deadline_s: float = 0.5
    duration_s: float = 30.0  # arrivals stop here; the workers then finish what is queued
    seed: int = 11

    @property
    def capacity_per_s(self) -> float:
        return self.workers / self.mean_service_s

    @property
    def arrival_rate(self) -> float:
        return self.utilization * self.capacity_per_s


@dataclass
class Result:
    """What one run produced."""

    policy: str
    load: Load
    requests: list[Request] = field(default_factory=list)
    peak_depth: int = 0
    oldest_age_p99_s: float = 0.0

    def count(self, fate: str) -> int:
        return sum(r.fate == fate for r in self.requests)

    @property
    def goodput_per_s(self) -> float:
        """Answers delivered before the caller's deadline, per second of arrivals."""
        return self.count("ok") / self.load.duration_s

    @property
    def on_time_share(self) -> float:
        """Share of all arrivals that got an answer in time."""
        return self.count("ok") / len(self.requests)

    def on_time_share_between(self, start: float, end: float) -> float:
        """Share of requests arriving in [start, end) that got an answer in time."""
        chosen = [r for r in self.requests if start <= r.arrival < end]
        return sum(r.fate == "ok" for r in chosen) / len(chosen)

    @property
    def wasted_share(self) -> float:
        """Share of worker time spent on answers nobody was waiting for any more."""
        late = sum(r.service_s for r in self.requests if r.fate == "late")
        busy = sum(r.service_s for r in self.requests if r.fate in ("ok", "late"))
        return late / busy if busy else 0.0

    @property
    def mean_wait_s(self) -> float:
        """Mean time served requests spent in the queue before a worker took them."""
        waits = [r.waited for r in self.requests if r.fate in ("ok", "late")]
        return sum(waits) / len(waits)

    def latency_percentile(self, q: float) -> float:
        """Percentile of arrival-to-answer time over every answer the server sent."""
        served = sorted(r.finish - r.arrival for r in self.requests if r.fate in ("ok", "late"))
        if not served:
            return math.nan
        return served[min(len(served) - 1, math.ceil(q * len(served)) - 1)]


def simulate(policy: QueuePolicy, load: Load) -> Result:
    """Run seeded Poisson arrivals with exponential service times through ``policy``.

    The queue starts empty. Arrivals stop after ``load.duration_s``; the run
    then continues until the workers have finished or dropped everything queued.
    """
    rng = random.Random(load.seed)
    queue = ServerQueue(policy, load.mean_service_s)
    result = Result(policy=policy.name, load=load)
    events: list[tuple[float, int, Callable[[float], None]]] = []
    seq = 0
    idle = load.workers

    def at(when: float, action: Callable[[float], None]) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (when, seq, action))

    def serve(now: float, req: Request) -> None:
        nonlocal idle
        idle -= 1
        req.waited = now - req.arrival
        at(now + req.service_s, lambda t: finish(t, req))

    def finish(now: float, req: Request) -> None:
        nonlocal idle
        idle += 1
        req.finish = now
        req.fate = "ok" if now <= req.deadline else "late"
        nxt = queue.next_request(now)
        if nxt is not None:
            serve(now, nxt)

    def arrive(now: float, req: Request) -> None:
        result.requests.append(req)
        if idle > 0 and not queue.items:
            serve(now, req)
        else:
            queue.offer(now, req)

    clock = 0.0
    while True:
        clock += rng.expovariate(load.arrival_rate)
        if clock >= load.duration_s:
            break
        req = Request(clock, clock + load.deadline_s, rng.expovariate(1 / load.mean_service_s))
        at(clock, lambda t, r=req: arrive(t, r))

    while events:
        when, _, action = heapq.heappop(events)
        action(when)

    result.peak_depth = queue.peak_depth
    ages = sorted(queue.oldest_age_samples) or [0.0]
    result.oldest_age_p99_s = ages[min(len(ages) - 1, math.ceil(0.99 * len(ages)) - 1)]
    return result


def compare(
    utilizations: tuple[float, ...] = (0.8, 0.95, 1.1),
    policies: tuple[QueuePolicy, ...] = (
        QueuePolicy.unbounded_fifo(),
        QueuePolicy.bounded_deadline_aware(),
        QueuePolicy.controlled_delay(),
    ),
) -> list[Result]:
    """Every policy at each offered load, on identical seeded arrivals."""
    return [simulate(p, Load(u)) for u in utilizations for p in policies]


CURVE_LOADS = (0.6, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.2)


@functools.cache
def goodput_curve(loads: tuple[float, ...] = CURVE_LOADS) -> list[tuple[str, float, float]]:
    """(policy, offered load, goodput per second) for every policy at each load.

    The article's figure plots this, and the tests assert it; cached so that one
    run serves both.
    """
    return [(r.policy, r.load.utilization, r.goodput_per_s) for r in compare(loads)]


def main() -> None:
    """Print the arithmetic and the comparison table the article walks through."""
    print(
        "M/M/1 wait / service time:",
        ", ".join(f"{u:.0%} -> {mm1_wait_factor(u):.0f}x" for u in (0.5, 0.8, 0.9, 0.95, 0.99)),
    )
    print(
        "M/M/4 (four workers, one queue) wait / service time:",
        ", ".join(f"{u:.0%} -> {mmc_wait_factor(u, 4):.1f}x" for u in (0.5, 0.8, 0.9, 0.95, 0.99)),
    )
    print(
        "Backlog from 60 s at 110 % drains at 80 % in",
        f"{drain_seconds(60, 1.1, 1.0, 0.8):.0f} s, at 95 % in",
        f"{drain_seconds(60, 1.1, 1.0, 0.95):.0f} s",
    )
    print("Depth limit for 400 req/s and 100 ms of acceptable wait:", queue_limit(400, 0.1))
    print(
        "Unbounded FIFO at 440 req/s, 500 ms deadline: useless after",
        f"{seconds_until_useless(0.5, 400, 440):.0f} s",
    )
    print("\nCapacity 400 req/s (4 workers x 10 ms), caller deadline 500 ms, 30 s of arrivals")
    print(
        f"{'load':>4} {'policy':<23}{'goodput':>7}{'on time':>8}{'p50':>7}{'p99':>7}"
        f"{'oldest':>7}{'wasted':>7}{'rejected':>9}{'dropped':>8}{'peak':>5}"
    )
    for r in compare():
        dropped = r.count("dropped_expired") + r.count("dropped_sojourn")
        print(
            f"{r.load.utilization:>4.0%} {r.policy:<23}"
            f"{r.goodput_per_s:>5.0f}/s"
            f"{r.on_time_share:>8.0%}"
            f"{r.latency_percentile(0.5) * 1000:>5.0f}ms"
            f"{r.latency_percentile(0.99) * 1000:>5.0f}ms"
            f"{r.oldest_age_p99_s * 1000:>5.0f}ms"
            f"{r.wasted_share:>7.0%}{r.count('rejected'):>9}{dropped:>8}{r.peak_depth:>5}"
        )
    verbatim = simulate(QueuePolicy.controlled_delay(target_s=0.005, interval_s=0.1), Load(0.8))
    print(
        "\nCoDel with 5 ms / 100 ms copied unscaled, at 80 % load: on time",
        f"{verbatim.on_time_share:.1%}, dropped",
        verbatim.count("dropped_sojourn") + verbatim.count("dropped_expired"),
    )
    checks = []
    for u in (0.8, 0.95):
        fifo = simulate(QueuePolicy.unbounded_fifo(), Load(u))
        theory = mmc_wait_factor(u, fifo.load.workers) * fifo.load.mean_service_s
        measured = fifo.mean_wait_s * 1000
        checks.append(f"{u:.0%} -> {measured:.1f} ms (Erlang C {theory * 1000:.1f} ms)")
    print("Mean wait, unbounded FIFO runs:", ", ".join(checks))
    window_s = 120  # the SRE book's two-minute history
    for k in (2.0, 1.1):
        p = throttle_probability(1000 * window_s, 400 * window_s, k)
        print(
            f"Client throttling, K = {k}: 1000 attempts/s, 400 accepted/s ->",
            f"reject {p:.0%} locally, send {1000 * (1 - p):.0f}/s",
        )


if __name__ == "__main__":
    main()
