"""Cascading failures: fan-out tail arithmetic and a tick-based overload simulation.

Two small tools for reasoning about a cascade:

* closed-form helpers for fan-out tail probability and for retries at
  several layers;
* a deterministic simulation of one shared backend serving three request
  classes, where an internal spike, client timeouts and retries can leave the
  backend stuck at zero goodput after the spike has ended, and where a retry
  budget, a deadline check and priority-aware admission get it out.

Time is simulated in ticks (think of a tick as 100 ms); nothing sleeps. Run
``python -m examples.cascading_failures`` for a demo.
"""

from __future__ import annotations

import functools
from collections import defaultdict, deque
from dataclasses import dataclass, field, replace

CLASSES: tuple[str, ...] = ("critical", "default", "sheddable")
"""Request classes in priority order, most important first."""


# --- Fan-out and layered retries: closed forms --------------------------------


def prob_any_slow(p_slow: float, fanout: int) -> float:
    """Return the chance that at least one of ``fanout`` parallel calls is slow.

    Each call is slow independently with probability ``p_slow``; a request
    that waits for all of them is as slow as its slowest call.
    """
    if not 0.0 <= p_slow <= 1.0:
        raise ValueError("p_slow must be a probability")
    if fanout < 0:
        raise ValueError("fanout must be non-negative")
    return 1.0 - (1.0 - p_slow) ** fanout


def leaf_tail_budget(fanout: int, target: float) -> float:
    """Return how often each of ``fanout`` calls may be slow for the request to be
    slow at most ``target`` of the time (the inverse of :func:`prob_any_slow`)."""
    if fanout <= 0:
        raise ValueError("fanout must be positive")
    if not 0.0 <= target < 1.0:
        raise ValueError("target must be in [0, 1)")
    return 1.0 - (1.0 - target) ** (1.0 / fanout)


def attempts_at_bottom(attempts_per_layer: int, layers: int) -> int:
    """Return the worst-case attempts one user action makes on the lowest layer
    when each of ``layers`` layers makes up to ``attempts_per_layer`` attempts."""
    if attempts_per_layer < 1 or layers < 0:
        raise ValueError("need at least one attempt per layer")
    return attempts_per_layer**layers


def expected_attempts_at_bottom(p_fail: float, attempts_per_layer: int, layers: int) -> float:
    """Return the mean attempts one user action makes on the lowest layer.

    Each attempt at the bottom fails independently with probability ``p_fail``,
    and every one of ``layers`` layers makes up to ``attempts_per_layer``
    attempts. A layer's call fails only if all its attempts fail, so the layer
    above sees ``p_fail ** attempts_per_layer``. When every attempt fails, as
    in an overload, this is ``attempts_per_layer ** layers``.
    """
    if not 0.0 <= p_fail <= 1.0:
        raise ValueError("p_fail must be a probability")
    total, p = 1.0, p_fail
    for _ in range(layers):
        total *= sum(p**k for k in range(attempts_per_layer))
        p = p**attempts_per_layer
    return total


FANOUTS: tuple[int, ...] = (*(m * 10**e for e in range(3) for m in (1, 2, 3, 5, 7)), 1000)
"""Numbers of parallel calls at which the article's figure evaluates the fan-out curve:
1, 2, 3, 5, 7, 10, 20, ... 700, 1000."""


def fanout_curve(p_slow: float, fanouts: tuple[int, ...] = FANOUTS) -> list[tuple[int, float]]:
    """Return ``(fanout, chance that the request is slow)`` for each fanout, by
    :func:`prob_any_slow`, for calls that are each slow with probability ``p_slow``."""
    return [(n, prob_any_slow(p_slow, n)) for n in fanouts]


# --- Simulation --------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """How clients retry and how the server admits and serves work."""

    name: str
    max_attempts: int = 3
    """Attempts per request, the first one included (1 means no retries)."""
    retry_budget: float | None = None
    """Retries allowed as a share of new requests (0.1 = 10 %); None = unlimited."""
    drop_expired: bool = False
    """The server checks the caller's deadline and skips expired work cheaply."""
    max_wait: dict[str, float] | None = None
    """Per-class admission limit: the queued work, in ticks of capacity, above
    which that class is shed. None = admit everything the queue can hold."""


@dataclass(frozen=True)
class Scenario:
    """Capacity, traffic and the spike that triggers the incident."""

    capacity: int = 100
    """Fresh attempts the backend can serve per tick."""
    base: dict[str, int] = field(
        default_factory=lambda: {"critical": 30, "default": 30, "sheddable": 20}
    )
    """New requests per tick and class before and after the spike (80 % load)."""
    spike: dict[str, int] = field(default_factory=lambda: {"sheddable": 80})
    """Extra new requests per tick while the spike lasts (an internal batch job)."""
    spike_start: int = 20
    spike_end: int = 40
    timeout: int = 5
    """Ticks a caller waits for one attempt before giving up on it."""
    queue_limit: int = 1000
    expired_cost: float = 0.02
    """Capacity spent to recognize and skip one expired attempt (drop_expired)."""
    ticks: int = 240
    relief_start: int | None = None
    """Tick from which an operator cuts new requests to ``relief`` of the base load."""
    relief: float = 1.0


@dataclass
class _Batch:
    """Attempts of one class and attempt number that entered the queue together."""

    enqueued: int
    cls: str
    attempt: int
    count: int


@dataclass
class Result:
    """Per-tick measurements of one run."""

    scenario: Scenario
    policy: Policy
    goodput: list[dict[str, int]] = field(default_factory=list)
    """Attempts served before their caller's timeout, per tick and class."""
    offered: list[int] = field(default_factory=list)
    """Attempts arriving per tick: new requests plus retries."""
    new: list[int] = field(default_factory=list)
    shed: list[int] = field(default_factory=list)
    wasted: list[int] = field(default_factory=list)
    """Attempts served after their caller had already given up."""
    queue: list[int] = field(default_factory=list)

    def total_goodput(self, tick: int) -> int:
        """Return the goodput of all classes at ``tick``."""
        return sum(self.goodput[tick].values())

    def mean_goodput(self, start: int, end: int, cls: str | None = None) -> float:
        """Return the mean goodput per tick over ``[start, end)``, for one class or all."""
        ticks = range(start, end)
        if cls is None:
            return sum(self.total_goodput(t) for t in ticks) / len(ticks)
        return sum(self.goodput[t][cls] for t in ticks) / len(ticks)

    def amplification(self, start: int, end: int) -> float:
        """Return attempts offered per new request over ``[start, end)``."""
        return sum(self.offered[start:end]) / sum(self.new[start:end])

    def recovery_ticks(self, fraction: float = 0.95, hold: int = 5) -> int | None:
        """Return ticks from the end of the spike until goodput stays at or above
        ``fraction`` of the base load for ``hold`` ticks, or None if it never does."""
        target = fraction * sum(self.scenario.base.values())
        start = self.scenario.spike_end
        for t in range(start, len(self.goodput) - hold + 1):
            if all(self.total_goodput(u) >= target for u in range(t, t + hold)):
                return t - start
        return None


class RetryBudget:
    """Retry tokens: each new request deposits ``ratio`` of a token, each retry
    spends one, and the balance is capped at ten ticks' worth of deposits."""

    def __init__(self, ratio: float) -> None:
        self.ratio = ratio
        self.tokens = 0.0

    def deposit(self, new_requests: int) -> None:
        """Credit one tick of new requests."""
        self.tokens = min(self.tokens + self.ratio * new_requests, 10 * self.ratio * new_requests)

    def withdraw(self, wanted: int) -> int:
        """Return how many of ``wanted`` retries the budget allows, and spend them."""
        allowed = min(wanted, int(self.tokens))
        self.tokens -= allowed
        return allowed


@dataclass
class _Clients:
    """The callers: they retry failed attempts on the next tick, within the policy."""

    policy: Policy
    budget: RetryBudget | None = None
    due: dict[int, dict[tuple[str, int], int]] = field(default_factory=lambda: defaultdict(dict))

    def retry(self, tick: int, cls: str, attempt: int, failed: int) -> None:
        """Schedule retries for ``failed`` attempts number ``attempt`` of class ``cls``."""
        if attempt >= self.policy.max_attempts or failed <= 0:
            return
        allowed = failed if self.budget is None else self.budget.withdraw(failed)
        if allowed:
            due = self.due[tick + 1]
            due[(cls, attempt + 1)] = due.get((cls, attempt + 1), 0) + allowed


def _arrivals(sc: Scenario, tick: int, clients: _Clients) -> tuple[dict[tuple[str, int], int], int]:
    """Return this tick's attempts by (class, attempt number), and the new requests among them."""
    spiking = sc.spike_start <= tick < sc.spike_end
    arrivals: dict[tuple[str, int], int] = {}
    relieved = sc.relief_start is not None and tick >= sc.relief_start
    for cls in CLASSES:
        base = round(sc.base.get(cls, 0) * sc.relief) if relieved else sc.base.get(cls, 0)
        arrivals[(cls, 1)] = base + (sc.spike.get(cls, 0) if spiking else 0)
    new = sum(arrivals.values())
    for key, n in clients.due.pop(tick, {}).items():
        arrivals[key] = arrivals.get(key, 0) + n
    return arrivals, new


def admit(
    policy: Policy, sc: Scenario, queued: int, arrivals: dict[tuple[str, int], int]
) -> tuple[dict[tuple[str, int], int], int]:
    """Return the attempts admitted to the queue and how many were shed.

    With ``max_wait`` set, classes are admitted in priority order and each is
    shed above its own limit of queued work; a shed attempt is answered
    "overloaded" and not retried. Without it, everything is admitted that
    fits the queue, and :func:`simulate` turns the overflow into retries.
    """
    admitted: dict[tuple[str, int], int] = {}
    shed = 0
    if policy.max_wait is None:
        free = sc.queue_limit - queued
        total = sum(arrivals.values())
        for key, n in sorted(arrivals.items()):
            admitted[key] = n if total <= free else (n * free) // total
        return admitted, shed
    for cls in CLASSES:
        limit = min(sc.queue_limit, int(policy.max_wait[cls] * sc.capacity))
        for (c, attempt), n in sorted(arrivals.items()):
            if c == cls:
                take = max(0, min(n, limit - queued))
                admitted[(c, attempt)] = take
                queued += take
                shed += n - take
    return admitted, shed


def serve(
    queue: deque[_Batch], tick: int, sc: Scenario, policy: Policy
) -> tuple[dict[str, int], int]:
    """Serve the queue oldest first for one tick; return goodput by class and wasted attempts.

    An attempt older than the caller's timeout is one its caller has given up
    on: serving it in full is wasted work, unless the policy checks the
    deadline first and skips it for ``expired_cost`` of an attempt.
    """
    capacity = float(sc.capacity)
    good = dict.fromkeys(CLASSES, 0)
    wasted = 0
    while queue and capacity > 1e-9:
        head = queue[0]
        expired = tick - head.enqueued > sc.timeout
        cost = sc.expired_cost if (expired and policy.drop_expired) else 1.0
        n = min(head.count, int(capacity / cost + 1e-9))
        if n == 0:
            break
        capacity -= n * cost
        head.count -= n
        if not expired:
            good[head.cls] += n
        elif not policy.drop_expired:
            wasted += n
        if head.count == 0:
            queue.popleft()
    return good, wasted


def simulate(policy: Policy, scenario: Scenario | None = None) -> Result:
    """Run one scenario under one policy and return what happened at every tick.

    Each tick: new requests and due retries arrive and are admitted or
    rejected (:func:`admit`); the server works through the queue
    (:func:`serve`); callers whose attempt has waited ``timeout`` ticks give
    up and may retry on the next tick.
    """
    sc = scenario or Scenario()
    result = Result(sc, policy)
    queue: deque[_Batch] = deque()
    budget = None if policy.retry_budget is None else RetryBudget(policy.retry_budget)
    clients = _Clients(policy, budget)

    for t in range(sc.ticks):
        arrivals, new_total = _arrivals(sc, t, clients)
        if budget is not None:
            budget.deposit(new_total)

        admitted, shed = admit(policy, sc, sum(b.count for b in queue), arrivals)
        if policy.max_wait is None:
            # A full queue rejects at once; the caller may retry next tick.
            for (cls, attempt), n in sorted(arrivals.items()):
                clients.retry(t, cls, attempt, n - admitted[(cls, attempt)])
        for (cls, attempt), n in sorted(admitted.items()):
            if n:
                queue.append(_Batch(t, cls, attempt, n))

        good, wasted = serve(queue, t, sc, policy)

        # Callers of attempts that have now waited `timeout` ticks give up.
        for batch in queue:
            if batch.enqueued > t - sc.timeout:
                break
            if batch.enqueued == t - sc.timeout:
                clients.retry(t, batch.cls, batch.attempt, batch.count)

        result.goodput.append(good)
        result.offered.append(sum(arrivals.values()))
        result.new.append(new_total)
        result.shed.append(shed)
        result.wasted.append(wasted)
        result.queue.append(sum(b.count for b in queue))
    return result


DEFAULT_WAITS: dict[str, float] = {"critical": 4.0, "default": 3.0, "sheddable": 1.5}
"""Admission limits in ticks of queued work; the caller's timeout is 5 ticks."""

POLICIES: tuple[Policy, ...] = (
    Policy("retries, no protection"),
    Policy("no retries", max_attempts=1),
    Policy("retry budget 10 %", retry_budget=0.1),
    Policy("budget + deadline check", retry_budget=0.1, drop_expired=True),
    Policy(
        "budget + deadline + shedding", retry_budget=0.1, drop_expired=True, max_wait=DEFAULT_WAITS
    ),
)
"""The policies the demo compares, from naive to fully protected."""


@functools.cache
def goodput_timelines() -> dict[str, list[int]]:
    """Return the total goodput at every tick of the default scenario, per policy.

    The article's figure plots this and the tests assert it; cached so that one
    set of runs serves both.
    """
    return {
        policy.name: [run.total_goodput(t) for t in range(run.scenario.ticks)]
        for policy in POLICIES
        for run in (simulate(policy),)
    }


LOAD_CUTS: tuple[float, ...] = (1.0, 0.6, 0.5, 0.4)
"""Shares of the base load (80 new requests per tick) an operator cuts to at tick 60."""


def after_load_cut(relief: float, policy: Policy = POLICIES[0]) -> Result:
    """Run the default incident, then from tick 60, twenty ticks after the spike
    has ended, let only ``relief`` of the base load arrive, for 400 ticks in all."""
    return simulate(policy, replace(Scenario(), relief_start=60, relief=relief, ticks=400))


def summarize(result: Result) -> dict[str, float | int | None]:
    """Return the headline numbers of one run (per-tick means)."""
    sc = result.scenario
    return {
        "before": result.mean_goodput(0, sc.spike_start),
        "during": result.mean_goodput(sc.spike_start, sc.spike_end),
        "critical_during": result.mean_goodput(sc.spike_start, sc.spike_end, "critical"),
        "after": result.mean_goodput(sc.ticks - 40, sc.ticks),
        "amplification_late": result.amplification(sc.ticks - 40, sc.ticks),
        "recovery": result.recovery_ticks(),
    }


def main() -> None:
    """Print the fan-out arithmetic and the policy comparison."""
    print("Fan-out: chance that a request waits on at least one slow call (1 % each)")
    for n in (1, 10, 50, 100):
        print(f"  {n:>3} calls: {prob_any_slow(0.01, n):6.1%}")
    print(
        f"  to keep 100-call requests 95 % fast, each call may be slow "
        f"{leaf_tail_budget(100, 0.05):.3%} of the time"
    )
    print("Retries, 3 attempts at each of 3 layers: attempts at the bottom per user action")
    print(f"  every attempt fails (overload): {attempts_at_bottom(3, 3)}")
    for p_fail in (0.9, 0.5, 0.01):
        print(
            f"  each fails independently {p_fail * 100:.0f} % of the time: "
            f"{expected_attempts_at_bottom(p_fail, 3, 3):.2f}"
        )
    print()

    sc = Scenario()
    print(
        f"Backend: {sc.capacity} attempts/tick, base load {sum(sc.base.values())}/tick,\n"
        f"  +{sum(sc.spike.values())}/tick sheddable spike in ticks "
        f"{sc.spike_start}-{sc.spike_end - 1}, timeout {sc.timeout} ticks"
    )
    header = (
        f"{'policy':<30}{'before':>7}{'spike':>7}{'crit.':>7}"
        f"{'late':>7}{'attempts/req':>14}{'recovery':>10}"
    )
    print(header)
    for policy in POLICIES:
        s = summarize(simulate(policy, sc))
        recovery = "never" if s["recovery"] is None else f"{s['recovery']} ticks"
        print(
            f"{policy.name:<30}{s['before']:>7.0f}{s['during']:>7.0f}"
            f"{s['critical_during']:>7.0f}{s['after']:>7.0f}"
            f"{s['amplification_late']:>14.2f}{recovery:>10}"
        )
    print(
        "(goodput per tick; 'crit.' = critical goodput during the spike, offered 30;\n"
        " 'late' = mean of the last 40 ticks, as are attempts/req)\n"
    )

    print("Unprotected retries after the spike, new load cut at tick 60:")
    print(f"{'new requests/tick':<20}{'late':>7}{'attempts/req':>14}")
    for relief in LOAD_CUTS:
        run = after_load_cut(relief)
        late = (run.scenario.ticks - 40, run.scenario.ticks)
        print(f"{run.new[-1]:<20}{run.mean_goodput(*late):>7.0f}{run.amplification(*late):>14.2f}")
    print()

    print("Goodput every 20 ticks (the spike covers ticks 20-39):")
    marks = range(0, sc.ticks, 20)
    print(f"{'tick':<28}" + "".join(f"{t:>5}" for t in marks))
    for policy in POLICIES[:3]:
        run = simulate(policy, sc)
        print(f"{policy.name:<28}" + "".join(f"{run.total_goodput(t):>5}" for t in marks))


if __name__ == "__main__":
    main()
