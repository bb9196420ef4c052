"""Triage for the question "p99 latency doubled after 14:00: what do you do?".

Two parts:

* A seeded simulation of one instance of an ``orders-api`` service: requests
  queue for 8 CPU cores, then the ones that touch the database queue for a
  connection from a pool and hold it for the query. At 13:58 a shared
  configuration library lowered the pool maximum from 40 to 8. The simulation
  produces the evidence an operator would query: RED (rate, errors, duration)
  per endpoint and USE (utilization, saturation, errors) per resource, before
  and after the change, plus a canary instance put back to the old pool size and a
  baseline instance left on the new one, over the same minutes.
* A ``Notebook`` that records observations, hypotheses (each with a prior),
  checks (each with a cost in minutes and what every hypothesis predicts it
  will show) and their outcomes, rules out hypotheses whose prediction failed,
  ranks the next check by expected information per minute, keeps to a time box,
  and prints a timeline.

Run ``python -m examples.answering_troubleshooting_questions`` for the demo,
which also compares the method with the "streetlight" order (the familiar
checks in the order they come to mind, quick host tools first).
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

APP_CORES = 8
POOL_BEFORE = 40
POOL_AFTER = 8
WINDOW_S = 120.0
ACQUIRE_TIMEOUT_MS = 1000.0
UTILIZATION_ALERT = 0.90
START = 14 * 60 + 7  # the question is asked at 14:07
TIME_BOX = 15  # minutes to name a single suspect before rolling back


@dataclass(frozen=True)
class Endpoint:
    """One endpoint's traffic and cost. ``batch`` requests arrive together (a list page)."""

    name: str
    rate: float
    batch: int
    cpu_ms: float
    query_ms: float


ENDPOINTS = (
    Endpoint("GET /orders/{id}", rate=560, batch=8, cpu_ms=2, query_ms=8),
    Endpoint("POST /orders", rate=100, batch=1, cpu_ms=4, query_ms=20),
    Endpoint("GET /catalog", rate=300, batch=1, cpu_ms=3, query_ms=0),
)


@dataclass(frozen=True)
class Served:
    """One request's outcome: where its time went, in milliseconds."""

    endpoint: str
    latency_ms: float
    cpu_wait_ms: float
    pool_wait_ms: float
    query_ms: float
    error: bool


@dataclass(frozen=True, eq=False)  # compared by identity, so red() and use() can cache
class Window:
    """Everything one simulated window produced."""

    pool_size: int
    seconds: float
    served: tuple[Served, ...]
    cpu_busy_s: float
    cpu_wait_s: float
    pool_held_s: float
    pool_wait_s: float
    pool_full_s: float


def simulate(pool_size: int, seed: int, seconds: float = WINDOW_S) -> Window:
    """Run seeded traffic through 8 cores, then a FIFO pool of ``pool_size`` connections."""
    rng = random.Random(seed)
    arrivals: list[tuple[float, int, float, float]] = []
    for index, ep in enumerate(ENDPOINTS):
        t = rng.expovariate(ep.rate / ep.batch)
        while t < seconds:
            for _ in range(ep.batch):
                cpu = rng.gammavariate(2.0, ep.cpu_ms / 2.0) / 1000
                query = rng.gammavariate(2.0, ep.query_ms / 2.0) / 1000 if ep.query_ms else 0.0
                arrivals.append((t, index, cpu, query))
            t += rng.expovariate(ep.rate / ep.batch)
    arrivals.sort()

    cores = [0.0] * APP_CORES  # FIFO multi-server queue: heap of times a core is free
    after_cpu = []
    for arrived, index, cpu, query in arrivals:
        start = max(arrived, heapq.heappop(cores))
        heapq.heappush(cores, start + cpu)
        after_cpu.append((start + cpu, arrived, index, cpu, query, start - arrived))
    after_cpu.sort()

    pool = [0.0] * pool_size
    served, holds = [], []
    for ready, arrived, index, _cpu, query, cpu_wait in after_cpu:
        name = ENDPOINTS[index].name
        if not query:
            served.append(Served(name, (ready - arrived) * 1000, cpu_wait * 1000, 0.0, 0.0, False))
            continue
        start = max(ready, heapq.heappop(pool))
        timed_out = (start - ready) * 1000 > ACQUIRE_TIMEOUT_MS
        end = start if timed_out else start + query
        heapq.heappush(pool, end)
        holds.append((start, end))
        wait_ms = (start - ready) * 1000
        served.append(
            Served(name, (end - arrived) * 1000, cpu_wait * 1000, wait_ms, query * 1000, timed_out)
        )
    cpu_busy = sum(a[2] for a in arrivals)
    return Window(
        pool_size=pool_size,
        seconds=seconds,
        served=tuple(served),
        cpu_busy_s=cpu_busy,
        cpu_wait_s=sum(s.cpu_wait_ms for s in served) / 1000,
        pool_held_s=sum(end - start for start, end in holds),
        pool_wait_s=sum(s.pool_wait_ms for s in served) / 1000,
        pool_full_s=_time_at_capacity(holds, pool_size),
    )


def _time_at_capacity(holds: Iterable[tuple[float, float]], size: int) -> float:
    """Seconds during which all ``size`` connections were held at once."""
    events = sorted([(s, 1) for s, _ in holds] + [(e, -1) for _, e in holds])
    busy, last, full = 0, 0.0, 0.0
    for t, step in events:
        if busy >= size:
            full += t - last
        busy, last = busy + step, t
    return full


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile, ``q`` in (0, 1]."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass(frozen=True)
class Red:
    """Request level: rate per second, errors per second, p50 and p99 duration in ms."""

    rate: float
    errors: float
    p50_ms: float
    p99_ms: float


@cache
def red(window: Window) -> dict[str, Red]:
    """RED per endpoint, plus the whole service under ``"all"``."""
    groups = {ep.name: [s for s in window.served if s.endpoint == ep.name] for ep in ENDPOINTS}
    groups["all"] = list(window.served)
    return {
        name: Red(
            rate=len(rows) / window.seconds,
            errors=sum(s.error for s in rows) / window.seconds,
            p50_ms=percentile([s.latency_ms for s in rows], 0.50),
            p99_ms=percentile([s.latency_ms for s in rows], 0.99),
        )
        for name, rows in groups.items()
    }


@dataclass(frozen=True)
class Use:
    """Resource level: utilization (0-1), saturation (mean work waiting), errors (count)."""

    utilization: float
    saturation: float
    errors: int


@cache
def use(window: Window) -> dict[str, Use]:
    """USE for the two resources the simulation models. Saturation is mean waiters (Little)."""
    return {
        "app CPU": Use(
            utilization=window.cpu_busy_s / (APP_CORES * window.seconds),
            saturation=window.cpu_wait_s / window.seconds,
            errors=0,
        ),
        "DB pool": Use(
            utilization=window.pool_held_s / (window.pool_size * window.seconds),
            saturation=window.pool_wait_s / window.seconds,
            errors=sum(s.error for s in window.served),
        ),
    }


def utilization_only(table: dict[str, Use], alert: float = UTILIZATION_ALERT) -> list[str]:
    """The resources a utilization alert flags."""
    return [name for name, row in table.items() if row.utilization >= alert]


def saturation_first(table: dict[str, Use], floor: float = 1.0) -> list[str]:
    """Errors and saturation first: resources with errors, or more than ``floor`` waiting."""
    return [name for name, row in table.items() if row.errors or row.saturation > floor]


@dataclass(frozen=True)
class Evidence:
    """What the checks can query: windows before and after the change, canary, baseline."""

    before: Window
    after: Window
    canary: Window  # one instance set back to pool max 40
    baseline: Window  # an instance left at pool max 8, same minutes as the canary
    # Not modeled by the simulation, so fixed inputs: nothing changed on these.
    memory_free_mb: tuple[int, int] = (5120, 5096)
    disk_util: tuple[float, float] = (0.04, 0.04)
    retransmits_per_s: tuple[float, float] = (0.2, 0.2)


@cache
def incident() -> Evidence:
    """The simulated incident: pool 40 before 14:00, 8 after; canary at 40, baseline at 8."""
    return Evidence(
        before=simulate(POOL_BEFORE, seed=1),
        after=simulate(POOL_AFTER, seed=11),
        canary=simulate(POOL_BEFORE, seed=21),
        baseline=simulate(POOL_AFTER, seed=31),
    )


@dataclass(frozen=True)
class Hypothesis:
    key: str
    text: str
    prior: float


@dataclass(frozen=True)
class Check:
    """A question, the tool that answers it, its cost, and each hypothesis's prediction."""

    key: str
    question: str
    tool: str
    layer: str
    minutes: int
    predicts: dict[str, str]
    observe: Callable[[Evidence], str]


HYPOTHESES = (
    Hypothesis("traffic", "more traffic than the service can take", 0.20),
    Hypothesis("cpu", "app short of CPU (noisy neighbor, garbage collection)", 0.15),
    Hypothesis("db", "database slower to execute queries", 0.25),
    Hypothesis("pool", "too few connections in the app's database pool", 0.15),
    Hypothesis("network", "packet loss between app and database", 0.10),
    Hypothesis("code", "v2.41's POST /orders handler holds its connection longer", 0.15),
)
KEYS = tuple(h.key for h in HYPOTHESES)


def _all(outcome: str, **exceptions: str) -> dict[str, str]:
    return {key: exceptions.get(key, outcome) for key in KEYS}


def _new_errors(ev: Evidence) -> str:
    return (
        "new errors" if red(ev.after)["all"].errors > red(ev.before)["all"].errors else "none new"
    )


def _memory(ev: Evidence) -> str:
    before, after = ev.memory_free_mb
    return "short" if after < 0.5 * before else "normal"


def _disk(ev: Evidence) -> str:
    return "saturated" if ev.disk_util[1] > 0.6 else "normal"


def _cpu(ev: Evidence) -> str:
    runnable = (ev.after.cpu_busy_s + ev.after.cpu_wait_s) / ev.after.seconds  # vmstat's r
    return "saturated" if runnable > APP_CORES else "not saturated"


def _rate(ev: Evidence) -> str:
    before, after = red(ev.before), red(ev.after)
    grew = any(after[ep.name].rate > 1.1 * before[ep.name].rate for ep in ENDPOINTS)
    return "up" if grew else "flat"


def _which_slower(ev: Evidence) -> str:
    before, after = red(ev.before), red(ev.after)
    slower = {ep.name for ep in ENDPOINTS if after[ep.name].p99_ms > 1.5 * before[ep.name].p99_ms}
    if slower == {ep.name for ep in ENDPOINTS}:
        return "all endpoints"
    if slower == {ep.name for ep in ENDPOINTS if ep.query_ms}:
        return "database endpoints"
    return ", ".join(sorted(slower)) or "none"


def _retransmits(ev: Evidence) -> str:
    before, after = ev.retransmits_per_s
    return "up" if after > 2 * before + 1 else "flat"


def _pool(ev: Evidence) -> str:
    return "saturated" if "DB pool" in saturation_first(use(ev.after)) else "not saturated"


def _span(window: Window, attr: str) -> float:
    return percentile([getattr(s, attr) for s in window.served if s.query_ms], 0.99)


def _trace(ev: Evidence) -> str:
    wait = _span(ev.after, "pool_wait_ms") - _span(ev.before, "pool_wait_ms")
    query = _span(ev.after, "query_ms") - _span(ev.before, "query_ms")
    if max(wait, query) < 5:
        return "neither"
    return "acquire span grew" if wait > query else "query span grew"


def _db_side(ev: Evidence) -> str:
    before = sum(s.query_ms for s in ev.before.served) / len(ev.before.served)
    after = sum(s.query_ms for s in ev.after.served) / len(ev.after.served)
    return "slower" if after > 1.2 * before else "same"


def _canary(ev: Evidence) -> str:
    normal = 1.2 * red(ev.before)["all"].p99_ms
    canary, baseline = red(ev.canary)["all"].p99_ms, red(ev.baseline)["all"].p99_ms
    return "recovers, baseline slow" if canary < normal <= baseline else "no difference"


# checks: begin
# Hypotheses under which database requests wait for connections: a handler that holds
# its connection longer makes GET /orders/{id} wait for one too.
DB_BOUND = {"traffic", "db", "pool", "network", "code"}
CHECKS = (
    Check("log", "new errors in the app log?", "grep ERROR", "request", 1,
          _all("none new"), _new_errors),
    Check("memory", "host short of memory?", "free -m", "resource", 1, _all("normal"), _memory),
    Check("disk", "a disk saturated?", "iostat -xz 1", "resource", 1, _all("normal"), _disk),
    Check("cpu", "threads queuing for CPU?", "vmstat 1 per host: r vs cores", "resource", 3,
          _all("not saturated", cpu="saturated"), _cpu),
    Check("rate", "did request rate change?", "RED: rate", "request", 2,
          _all("flat", traffic="up"), _rate),
    Check("duration", "which endpoints got slower?", "RED: p99 by endpoint", "request", 2,
          {k: "database endpoints" for k in DB_BOUND}
          | {"cpu": "all endpoints"}, _which_slower),
    Check("retrans", "packets retransmitted?", "sar -n TCP,ETCP 1", "resource", 2,
          _all("flat", network="up"), _retransmits),
    Check("pool", "connection pool saturated?", "USE: pool waiters", "resource", 3,
          {k: "saturated" if k in DB_BOUND else "not saturated" for k in KEYS}, _pool),
    Check("trace", "where does a slow request wait?", "trace: acquire vs query", "code", 4,
          {"traffic": "acquire span grew", "pool": "acquire span grew", "db": "query span grew",
           "network": "query span grew", "code": "query span grew", "cpu": "neither"}, _trace),
    Check("db-side", "database slower per query?", "pg_stat_statements", "resource", 5,
          _all("same", db="slower"), _db_side),
)  # fmt: skip
TREAT = Check("canary", "pool max 40 on one instance fixes it?", "canary vs baseline", "treat",
              10, _all("no difference", pool="recovers, baseline slow"), _canary)  # fmt: skip
# checks: end


def entropy(weights: Iterable[float]) -> float:
    """Shannon entropy in bits of the normalized weights."""
    ws = [w for w in weights if w > 0]
    total = sum(ws)
    return max(0.0, -sum(w / total * math.log2(w / total) for w in ws))


@dataclass
class Notebook:
    """Observations, hypotheses, checks and outcomes, on one clock."""

    hypotheses: tuple[Hypothesis, ...] = HYPOTHESES
    minute: int = START
    live: list[str] = field(default_factory=list)
    entries: list[tuple[int, str, str]] = field(default_factory=list)
    checks_run: list[str] = field(default_factory=list)
    results: list[tuple[str, str, list[str]]] = field(default_factory=list)
    rolled_back: bool = False

    def __post_init__(self) -> None:
        self.live = [h.key for h in self.hypotheses]

    def hypothesize(self) -> None:
        for h in self.hypotheses:
            self.note("hypo", f"{h.key}: {h.text} (p={h.prior:.2f})")

    def note(self, kind: str, text: str) -> None:
        self.entries.append((self.minute, kind, text))

    def prior(self, key: str) -> float:
        return next(h.prior for h in self.hypotheses if h.key == key)

    def outcomes(self, check: Check) -> dict[str, float]:
        """Probability of each outcome of ``check`` under the live hypotheses."""
        split: dict[str, float] = {}
        for key in self.live:
            split[check.predicts[key]] = split.get(check.predicts[key], 0.0) + self.prior(key)
        return split

    def gain(self, check: Check) -> float:
        """Expected bits the check removes: the entropy of its predicted outcomes."""
        return entropy(self.outcomes(check).values())

    def uncertainty(self) -> float:
        """Bits of uncertainty left about which live hypothesis is the cause."""
        return entropy(self.prior(k) for k in self.live)

    def rank(self, checks: Iterable[Check]) -> list[tuple[float, Check]]:
        """Checks by expected bits per minute, best first."""
        scored = [(self.gain(c) / c.minutes, c) for c in checks if c.key not in self.checks_run]
        return sorted(scored, key=lambda pair: -pair[0])

    def run(self, check: Check, evidence: Evidence) -> str:
        """Run a check, record its outcome, and rule out every hypothesis it contradicts."""
        self.minute += check.minutes
        self.checks_run.append(check.key)
        outcome = check.observe(evidence)
        out = [k for k in self.live if check.predicts[k] != outcome]
        self.live = [k for k in self.live if k not in out]
        self.results.append((check.key, outcome, out))
        if out:
            verdict = f"rules out {', '.join(out)}"
        elif len(self.live) == 1:
            verdict = f"as {self.live[0]} predicted"
        else:
            verdict = "rules out nothing"
        self.note(check.layer, f"{check.question} [{check.tool}]")
        self.note("", f"-> {outcome}; {verdict}")
        return outcome

    def timeline(self) -> list[str]:
        return [f"{m // 60:02d}:{m % 60:02d} {kind:<8} {text}" for m, kind, text in self.entries]


def investigate(
    order: str,
    evidence: Evidence,
    hypotheses: tuple[Hypothesis, ...] = HYPOTHESES,
    checks: Sequence[Check] = CHECKS,
    time_box: int | None = TIME_BOX,
) -> Notebook:
    """Narrow until one hypothesis is left, then test it; roll back if the box runs out.

    "method" runs the check with the most expected bits per minute, never one that
    cannot split the live hypotheses; "streetlight" runs the familiar list in order.
    """
    book = Notebook(hypotheses)
    before, after = red(evidence.before)["all"], red(evidence.after)["all"]
    book.note(
        "observe", f"p99 {before.p99_ms:.0f} -> {after.p99_ms:.0f} ms after 14:00; errors flat"
    )
    book.note("observe", "what changed: 13:58 v2.41 (POST /orders handler, config library)")
    book.hypothesize()
    deadline = START + time_box if time_box is not None else None
    while len(book.live) > 1:
        if order == "method":
            ranked = [(score, c) for score, c in book.rank(checks) if score > 0]
            check = ranked[0][1] if ranked else None
        else:
            check = next((c for c in checks if c.key not in book.checks_run), None)
        if check is None:
            break
        if deadline is not None and book.minute + check.minutes > deadline:
            book.minute = deadline
            book.note("stop", f"time box over, still live: {', '.join(book.live)}; roll back")
            book.rolled_back = True
            return book
        book.run(check, evidence)
    if len(book.live) == 1:
        book.run(confirming_check(book, [*checks, TREAT]), evidence)
    book.note("result", f"left: {', '.join(book.live) or 'none: the cause is not on the list'}")
    return book


def confirming_check(book: Notebook, checks: Sequence[Check]) -> Check:
    """The not-yet-run check whose outcome the survivor predicts most specifically."""
    (survivor,) = book.live

    def shared(check: Check) -> int:
        return sum(check.predicts[h.key] == check.predicts[survivor] for h in book.hypotheses)

    pending = [c for c in checks if c.key not in book.checks_run]
    return min(pending, key=lambda c: (shared(c), c.minutes))


def minutes_spent(book: Notebook) -> int:
    return book.minute - START


def main() -> None:
    ev = incident()
    before, after = red(ev.before), red(ev.after)
    print("RED per endpoint, 120 s windows before and after 14:00 (pool max 40 -> 8)")
    print(f"{'':<18}{'rate/s':^14}{'errors/s':^14}{'p50 ms':^14}{'p99 ms':^14}".rstrip())
    print(f"{'endpoint':<18}" + f"{'before':>7}{'after':>7}" * 4)
    for name in [ep.name for ep in ENDPOINTS] + ["all"]:
        b, a = before[name], after[name]
        print(
            f"{name:<18}{b.rate:>7.0f}{a.rate:>7.0f}{b.errors:>7.0f}{a.errors:>7.0f}"
            f"{b.p50_ms:>7.0f}{a.p50_ms:>7.0f}{b.p99_ms:>7.0f}{a.p99_ms:>7.0f}"
        )
    table = use(ev.after)
    print("\nUSE after 14:00       utilization  saturation (mean waiting)  errors")
    for name, row in table.items():
        print(f"{name:<22}{row.utilization:>10.0%}{row.saturation:>22.2f}{row.errors:>11}")
    full = ev.after.pool_full_s / ev.after.seconds
    print(f"pool p99 wait {_span(ev.after, 'pool_wait_ms'):.0f} ms; all 8 connections busy "
          f"{full:.0%} of the time")  # fmt: skip
    flagged = ", ".join(utilization_only(table)) or "nothing"
    print(f"utilization alert at {UTILIZATION_ALERT:.0%} flags: {flagged}")
    print(f"errors and saturation first flag: {', '.join(saturation_first(table))}")

    print("\nExpected bits per minute at 14:07")
    start = Notebook()
    for score, check in start.rank((*CHECKS, TREAT)):
        print(
            f"  {check.key:<9}{check.minutes:>3} min {start.gain(check):>5.2f} bits {score:>5.2f}"
        )
    method = investigate("method", ev)
    print(f"\nMethod timeline (time box {TIME_BOX} min: one suspect by 14:22 or roll back)")
    for line in method.timeline():
        print(line)
    canary, baseline = red(ev.canary)["all"].p99_ms, red(ev.baseline)["all"].p99_ms
    print(f"canary p99 {canary:.0f} ms, baseline p99 {baseline:.0f} ms, same 120 s")
    street = investigate("streetlight", ev)
    untimed = investigate("streetlight", ev, time_box=None)
    print(
        f"\nmethod: {len(method.checks_run)} checks, {minutes_spent(method)} min, "
        f"left: {', '.join(method.live)}"
    )
    verdict = "rolled back at 14:22" if street.rolled_back else "no rollback"
    print(
        f"streetlight: {len(street.checks_run)} checks in the box, "
        f"left: {', '.join(street.live)}; {verdict}"
    )
    print(f"streetlight order: {', '.join(street.checks_run)}")
    print(
        f"streetlight without a box: {len(untimed.checks_run)} checks, {minutes_spent(untimed)} min"
    )


if __name__ == "__main__":
    main()
