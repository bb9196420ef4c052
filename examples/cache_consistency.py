"""Cache consistency without mass invalidation: versioned fills, single-flight, generations.

A cache-aside wrapper over a real SQLite source of truth. Every row carries a
version that SQLite increments on each write, and a trigger appends every
change to a change log in the same transaction. The cache stores
``(value, version, expiry, recompute time)`` and offers:

- fills that are compare-and-set on the source's version (``VersionedStore``):
  an invalidation leaves a version floor, so a fill carrying an older version
  (the "set after delete" race, a lagging replica, a late duplicate) is refused;
- single-flight per key (``SingleFlight``): concurrent misses share one read;
- generation keys: bumping a namespace's generation retires every key in it
  at once without touching the cache servers;
- XFetch early recompute (Vattani, Chierichetti and Lowenstein, VLDB 2015);
- invalidation driven by the change log (``LogInvalidator``) instead of the
  application's second write.

Two simulations on a simulated clock (deterministic for a seed, no sleeping)
measure what the article quantifies: database load after a mass flush against
a generation bump with coalescing and paced re-warming, and how many
recomputations each expiry causes with and without XFetch.

Run ``python -m examples.cache_consistency`` for the demo.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import math
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")
Clock = Callable[[], float]

# --------------------------------------------------------------------------
# Staleness budgets: the policy every TTL is derived from
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class DataClass:
    """How stale one class of data may be, and therefore how it is read."""

    name: str
    budget_s: float  # longest time a reader may see a value the source has replaced
    read_path: str  # "cache", "validate" (check the version at the source) or "bypass"

    @property
    def ttl_s(self) -> float:
        """The longest TTL the budget allows after the reserve, once jitter can add 10 %."""
        return max(0.0, (self.budget_s - RESERVE_S) / (1 + JITTER))


JITTER = 0.1
# Staleness a value can collect outside its TTL, all counted against the budget:
READ_TIMEOUT_S = 2.0  # read-to-fill time: a fill can land this long after its read
GENERATION_CACHE_S = 2.0  # how long each process caches the current generation number
LOG_LAG_S = 1.0  # the change-log tailer's delay, at its worst tolerated value
RESERVE_S = READ_TIMEOUT_S + GENERATION_CACHE_S + LOG_LAG_S
DESCRIPTIONS = DataClass("product description", budget_s=3600.0, read_path="cache")
DATA_CLASSES = (
    DESCRIPTIONS,
    DataClass("price shown on a listing", budget_s=60.0, read_path="cache"),
    DataClass("price charged at checkout", budget_s=0.0, read_path="validate"),
    DataClass("permission check", budget_s=0.0, read_path="bypass"),
)


def jittered_ttl(ttl_s: float, rng: random.Random, jitter: float = JITTER) -> float:
    """A TTL spread uniformly over ``[ttl * (1 - jitter), ttl * (1 + jitter)]``."""
    return ttl_s * (1 + jitter * (2 * rng.random() - 1))


# --------------------------------------------------------------------------
# The source of truth: SQLite with versions and a change log
# --------------------------------------------------------------------------

SCHEMA = """
CREATE TABLE items (key TEXT PRIMARY KEY, value TEXT NOT NULL, version INTEGER NOT NULL);
CREATE TABLE changelog (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, version INTEGER NOT NULL);
CREATE TRIGGER items_inserted AFTER INSERT ON items
    BEGIN INSERT INTO changelog (key, version) VALUES (NEW.key, NEW.version); END;
CREATE TRIGGER items_updated AFTER UPDATE ON items
    BEGIN INSERT INTO changelog (key, version) VALUES (NEW.key, NEW.version); END;
"""


class Source:
    """A real SQLite database that counts reads and can hold them at a gate.

    ``gate``, when set to an unset ``threading.Event``, makes every read wait
    until the event is set, so a test can line up concurrent misses exactly.
    ``after_read`` runs between the query and the return: the moment another
    writer can slip in while a reader's fill is still on its way.
    """

    def __init__(self) -> None:
        self._db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()
        self.reads = 0
        self.reads_waiting = 0
        self.gate: threading.Event | None = None
        self.after_read: Callable[[str], None] | None = None

    def put(self, key: str, value: str) -> int:
        """Insert or update ``key`` in one transaction and return its new version."""
        with self._lock:
            (version,) = self._db.execute(
                "INSERT INTO items (key, value, version) VALUES (?, ?, 1) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                "version = items.version + 1 RETURNING version",
                (key, value),
            ).fetchone()
            return int(version)

    def read(self, key: str) -> tuple[str, int] | None:
        """Return ``(value, version)`` or None, counting the read."""
        with self._lock:
            self.reads += 1
            self.reads_waiting += 1
        if self.gate is not None:
            self.gate.wait(timeout=10)
        with self._lock:
            self.reads_waiting -= 1
            row = self._db.execute(
                "SELECT value, version FROM items WHERE key = ?", (key,)
            ).fetchone()
        if self.after_read is not None:
            self.after_read(key)
        return (row[0], int(row[1])) if row else None

    def version(self, key: str) -> int | None:
        """The current version only: the cheap check a validating read makes."""
        with self._lock:
            row = self._db.execute("SELECT version FROM items WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else None

    def changes_since(self, seq: int) -> list[tuple[int, str, int]]:
        """Change-log rows after ``seq``: what a CDC tailer would read from the binlog."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, key, version FROM changelog WHERE seq > ? ORDER BY seq", (seq,)
            ).fetchall()
        return [(int(s), k, int(v)) for s, k, v in rows]


# --------------------------------------------------------------------------
# Cache storage: naive set/delete against version-checked fills
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A cached value with the source version it was read at."""

    value: str | None  # None caches "not found" (a negative entry)
    version: int
    expires_at: float
    recompute_s: float  # how long the last read took: XFetch's delta


class NaiveStore:
    """What most cache-aside code does: SET (or ADD) on fill, DEL on write."""

    def __init__(self, *, add_only: bool = False) -> None:
        self._entries: dict[str, Entry] = {}
        self._add_only = add_only  # memcached ADD / Redis SET NX: store only if absent

    def get(self, key: str) -> Entry | None:
        return self._entries.get(key)

    def fill(self, key: str, entry: Entry) -> bool:
        if self._add_only and key in self._entries:
            return False
        self._entries[key] = entry
        return True

    def invalidate(self, key: str, version: int) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()


class VersionedStore:
    """Fills are compare-and-set on the source version; invalidations leave a floor.

    The floor outlives the delete by ``floor_ttl_s``, which must exceed the
    slowest read-to-fill time; a read timeout (``READ_TIMEOUT_S``) bounds it.
    """

    def __init__(self, clock: Callable[[], float], floor_ttl_s: float = 60.0) -> None:
        self._clock = clock
        self._floor_ttl_s = floor_ttl_s
        self._entries: dict[str, Entry] = {}
        self._floors: dict[str, tuple[int, float]] = {}  # key -> (version, kept until)
        self._lock = threading.Lock()

    def get(self, key: str) -> Entry | None:
        return self._entries.get(key)

    def fill(self, key: str, entry: Entry) -> bool:
        with self._lock:
            current = self._entries.get(key)
            if current is not None and current.version > entry.version:
                return False  # a newer value is already cached
            floor = self._floors.get(key)
            if floor is not None and floor[1] > self._clock() and entry.version < floor[0]:
                return False  # read before a write whose invalidation already arrived
            self._entries[key] = entry
            return True

    def invalidate(self, key: str, version: int) -> None:
        with self._lock:
            current = self._entries.get(key)
            if current is not None and current.version < version:
                del self._entries[key]  # an older invalidation leaves a newer value alone
            kept = self._floors.get(key, (0, 0.0))[0]
            self._floors[key] = (max(kept, version), self._clock() + self._floor_ttl_s)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


Store = NaiveStore | VersionedStore


# --------------------------------------------------------------------------
# Stampede defences: single-flight and XFetch
# --------------------------------------------------------------------------


@dataclass
class _Call:
    done: threading.Event = field(default_factory=threading.Event)
    result: object = None
    error: BaseException | None = None


class SingleFlight:
    """One in-flight load per key; concurrent callers wait for it and share its result."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, _Call] = {}
        self.waiting = 0  # callers parked behind a leader right now
        self.coalesced = 0  # callers that never reached the source

    def in_flight(self, key: str) -> bool:
        with self._lock:
            return key in self._calls

    def do(self, key: str, load: Callable[[], T]) -> T:
        with self._lock:
            call = self._calls.get(key)
            leader = call is None
            if call is None:
                call = self._calls[key] = _Call()
            else:
                self.waiting += 1
                self.coalesced += 1
        if not leader:
            call.done.wait()
            with self._lock:
                self.waiting -= 1
            if call.error is not None:
                raise call.error
            return call.result  # type: ignore[return-value]
        try:
            call.result = load()
        except BaseException as error:
            call.error = error
            raise
        finally:
            with self._lock:
                del self._calls[key]
            call.done.set()
        return call.result  # type: ignore[return-value]


def xfetch_due(entry: Entry, now: float, beta: float, rng: random.Random) -> bool:
    """XFetch: recompute when ``now - delta * beta * ln(u) >= expiry``, u uniform on (0, 1]."""
    if now >= entry.expires_at:
        return True
    if beta <= 0:
        return False
    return now - entry.recompute_s * beta * math.log(1.0 - rng.random()) >= entry.expires_at


# --------------------------------------------------------------------------
# The cache-aside wrapper
# --------------------------------------------------------------------------


class Cache:
    """Cache-aside reads and dual-write invalidation over a ``Source``."""

    def __init__(
        self,
        source: Source,
        store: Store,
        *,
        clock: Clock = time.monotonic,
        ttl_s: float = 60.0,
        negative_ttl_s: float = 5.0,
        coalesce: bool = True,
        beta: float = 1.0,
        namespace: str = "items",
        seed: int = 0,
    ) -> None:
        self.source, self.store, self.clock = source, store, clock
        self.ttl_s, self.negative_ttl_s = ttl_s, negative_ttl_s
        self.coalesce, self.beta, self.namespace = coalesce, beta, namespace
        self.generation = 1
        self.flight = SingleFlight()
        self.rng = random.Random(seed)
        self.hits = self.misses = self.refused_fills = 0

    def physical_key(self, key: str) -> str:
        """The key the cache servers see: namespace and generation are part of it."""
        return f"{self.namespace}:g{self.generation}:{key}"

    def bump_generation(self) -> None:
        """Retire every key of this namespace at once; old entries age out unread."""
        self.generation += 1

    def get(self, key: str) -> str | None:
        pkey = self.physical_key(key)
        entry = self.store.get(pkey)
        if entry is not None and not xfetch_due(entry, self.clock(), self.beta, self.rng):
            self.hits += 1
            return entry.value
        if entry is not None and self.clock() < entry.expires_at and self.flight.in_flight(pkey):
            self.hits += 1  # an early refresh is already running: keep serving
            return entry.value
        self.misses += 1
        if not self.coalesce:
            return self._load(key, pkey)
        return self.flight.do(pkey, lambda: self._load(key, pkey))

    def _load(self, key: str, pkey: str) -> str | None:
        started = self.clock()
        row = self.source.read(key)
        value, version = row if row is not None else (None, 0)
        ttl = self.ttl_s if row is not None else self.negative_ttl_s
        took = self.clock() - started
        entry = Entry(value, version, self.clock() + jittered_ttl(ttl, self.rng), took)
        if not self.store.fill(pkey, entry):
            self.refused_fills += 1
        return value

    def get_validated(self, key: str) -> str | None:
        """For zero-budget reads: serve the cached value only if its version is current."""
        entry = self.store.get(self.physical_key(key))
        current = self.source.version(key) or 0
        if entry is not None and entry.version == current:
            return entry.value
        self.invalidate(key, current)
        return self.get(key)

    def write(self, key: str, value: str) -> int:
        """The application's dual write: commit to the source, then invalidate."""
        version = self.source.put(key, value)
        self.invalidate(key, version)
        return version

    def invalidate(self, key: str, version: int) -> None:
        self.store.invalidate(self.physical_key(key), version)


def stale_keys(cache: Cache, keys: list[str]) -> list[str]:
    """Read-and-verify: the sampled keys whose cached version is behind the source's."""
    behind = []
    for key in keys:
        entry = cache.store.get(cache.physical_key(key))
        if entry is not None and entry.version < (cache.source.version(key) or 0):
            behind.append(key)
    return behind


class LogInvalidator:
    """Invalidate from the source's change log: every committed change, in commit order."""

    def __init__(self, source: Source, cache: Cache) -> None:
        self.source, self.cache = source, cache
        self.last_seq = 0

    def poll(self) -> int:
        changes = self.source.changes_since(self.last_seq)
        for seq, key, version in changes:
            self.cache.invalidate(key, version)
            self.last_seq = seq
        return len(changes)


# --------------------------------------------------------------------------
# Deterministic replays of the failures the article walks through
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class RaceOutcome:
    """What the cache and the database hold after the fill/invalidate race."""

    store: str
    fill_accepted: bool
    cached: str | None
    database: str
    next_read: str | None
    steps: tuple[str, ...]


def replay_fill_invalidate_race(store_kind: str) -> RaceOutcome:
    """Reader A misses and reads v1; writer B commits v2 and deletes; A's fill lands last.

    ``store_kind`` is ``"naive"`` (SET), ``"add-only"`` (ADD) or ``"versioned"``.
    """
    clock = _ManualClock()
    source = Source()
    source.put("price:42", "10.00")
    stores: dict[str, Store] = {
        "naive": NaiveStore(),
        "add-only": NaiveStore(add_only=True),
        "versioned": VersionedStore(clock),
    }
    store = stores[store_kind]
    cache = Cache(source, store, clock=clock, ttl_s=300.0, beta=0.0)
    steps = ["1. A: cache miss on price:42", "2. A: SELECT returns 10.00 (v1)"]

    def writer_slips_in(key: str) -> None:
        source.after_read = None
        version = cache.write(key, "12.00")
        steps.append(f"3. B: UPDATE commits 12.00 (v{version})")
        steps.append(f"4. B: invalidates price:42 (v{version})")

    source.after_read = writer_slips_in
    cache.get("price:42")
    accepted = cache.refused_fills == 0
    steps.append("5. A: fill with 10.00 (v1) " + ("stored" if accepted else "refused"))
    entry = store.get(cache.physical_key("price:42"))
    next_read = cache.get("price:42")
    steps.append(f"6. C: reads {next_read}")
    database = source.read("price:42")
    assert database is not None
    return RaceOutcome(
        store=store_kind,
        fill_accepted=accepted,
        cached=entry.value if entry else None,
        database=database[0],
        next_read=next_read,
        steps=tuple(steps),
    )


def count_stampede_reads(threads: int, *, coalesce: bool) -> int:
    """Start ``threads`` concurrent gets of one cold key; return how many reached SQLite."""
    source = Source()
    source.put("hot", "value")
    cache = Cache(source, VersionedStore(time.monotonic), coalesce=coalesce, beta=0.0)
    source.gate = threading.Event()
    workers = [threading.Thread(target=cache.get, args=("hot",)) for _ in range(threads)]
    for w in workers:
        w.start()
    deadline = time.monotonic() + 10
    while source.reads_waiting + cache.flight.waiting < threads:
        if time.monotonic() > deadline:
            raise TimeoutError("the threads never lined up")
        time.sleep(0.001)
    source.gate.set()
    for w in workers:
        w.join()
    return source.reads


class _ManualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# --------------------------------------------------------------------------
# Simulation 1: database load after a mass invalidation
# --------------------------------------------------------------------------

FLUSH_NAIVE = "flush all, no coalescing"
FLUSH_COALESCED = "flush all, single-flight"
GENERATION_UNPACED = "generation bump, single-flight"
GENERATION_PACED = "generation bump, paced re-warm"
STRATEGIES = (FLUSH_NAIVE, FLUSH_COALESCED, GENERATION_UNPACED, GENERATION_PACED)


@dataclass(frozen=True)
class Workload:
    """The simulated service: Zipf-popular product descriptions in front of a fixed database.

    Key ``k`` (0-based) is read in proportion to ``1 / (k + 1) ** zipf_s``. The
    TTL is the one the description class's budget allows; the bulk change
    must be visible everywhere within ``deadline_s`` of the event.
    """

    keys: int = 50_000
    zipf_s: float = 0.9
    rate_per_s: float = 5_000.0
    duration_s: int = 75
    event_at_s: float = 5.0
    deadline_s: float = 60.0
    pace_per_s: float = 0.0  # paced re-warm's refills a second; 0 derives it from the deadline
    ttl_s: float = DESCRIPTIONS.ttl_s
    db_workers: int = 20
    db_service_s: float = 0.02
    cache_hit_s: float = 0.0005
    seed: int = 11

    @property
    def db_capacity_per_s(self) -> float:
        """Little's law: connections divided by the time each read holds one."""
        return self.db_workers / self.db_service_s

    def read_rates(self) -> list[float]:
        """Reads per second of each key."""
        weights = [1 / (k + 1) ** self.zipf_s for k in range(self.keys)]
        total = sum(weights)
        return [self.rate_per_s * w / total for w in weights]

    def distinct_keys(self, seconds: float) -> float:
        """Expected number of different keys read in a window of ``seconds``."""
        return sum(1 - math.exp(-rate * seconds) for rate in self.read_rates())

    def steady_misses_per_s(self) -> float:
        """Warm-cache miss rate: each key misses once per (TTL + wait for its next read)."""
        return sum(rate / (1 + rate * self.ttl_s) for rate in self.read_rates())

    @property
    def rewarm_per_s(self) -> float:
        """The pace the deadline demands: keys read in one deadline window, over the deadline."""
        return self.pace_per_s or self.distinct_keys(self.deadline_s) / self.deadline_s


@dataclass
class InvalidationRun:
    """Per-second database reads and user latency around the invalidation."""

    strategy: str
    workload: Workload
    reads_per_s: list[int]
    latencies_by_s: list[list[float]]
    stale_per_s: list[int] = field(default_factory=list)
    cached_at_start: int = 0

    def reads_between(self, start: int, end: int) -> int:
        return sum(self.reads_per_s[start:end])

    def stale_share(self, start: int, end: int) -> float:
        """Share of requests in ``[start, end)`` answered with the previous generation."""
        served = sum(len(self.latencies_by_s[s]) for s in range(start, end))
        return sum(self.stale_per_s[start:end]) / served

    def stale_until_s(self) -> int:
        """End of the last second in which any request got the previous generation (0: none)."""
        return max((s + 1 for s, n in enumerate(self.stale_per_s) if n), default=0)

    def p99_ms(self, second: int) -> float:
        values = sorted(self.latencies_by_s[second])
        return values[min(len(values) - 1, int(0.99 * len(values)))] * 1000 if values else 0.0

    def slow_seconds(self, limit_ms: float = 1000.0) -> int:
        """Seconds whose p99 latency exceeded ``limit_ms``."""
        return sum(self.p99_ms(s) > limit_ms for s in range(self.workload.duration_s))


PACER_BURST = 20.0  # refills the pacer lets through at once after a lull


class _TokenBucket:
    """Allows ``rate_per_s`` actions a second on average, and ``burst`` at once after a lull."""

    def __init__(self, rate_per_s: float, burst: float) -> None:
        self.rate, self.burst, self.tokens, self.at = rate_per_s, burst, burst, 0.0

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def simulate_invalidation(strategy: str, workload: Workload = Workload()) -> InvalidationRun:
    """Run seeded Zipf traffic through the cache and invalidate everything at ``event_at_s``.

    The database serves reads first-come first-served on ``db_workers``
    connections taking ``db_service_s`` each. The cache starts in its steady
    state, not freshly filled: each key is cached with probability
    ``rate * ttl / (1 + rate * ttl)`` (the share of time a key read at ``rate``
    spends cached) and a remaining life uniform over its jittered TTL.
    ``FLUSH_*`` empty the store; ``GENERATION_*`` bump the generation instead.
    ``GENERATION_PACED`` then refills at most ``rewarm_per_s`` keys a second
    and, until the deadline, serves the previous generation's value to the
    requests it defers. Keys with no previous value are read as usual.
    """
    w = workload
    rng = random.Random(w.seed)
    clock = _ManualClock()
    store = VersionedStore(clock)
    names = [[f"g{g}:{k}" for k in range(w.keys)] for g in (1, 2)]
    cached = 0
    for name, rate in zip(names[0], w.read_rates(), strict=True):
        if rng.random() < rate * w.ttl_s / (1 + rate * w.ttl_s):
            expires_at = rng.uniform(0, jittered_ttl(w.ttl_s, rng))
            store.fill(name, Entry("v", 1, expires_at, w.db_service_s))
            cached += 1
    arrivals = list(
        itertools.takewhile(
            lambda t: t < w.duration_s,
            itertools.accumulate(rng.expovariate(w.rate_per_s) for _ in itertools.count()),
        )
    )
    weights = [1 / (k + 1) ** w.zipf_s for k in range(w.keys)]
    wanted = rng.choices(range(w.keys), weights=weights, k=len(arrivals))
    coalesce = strategy != FLUSH_NAIVE
    paced = strategy == GENERATION_PACED
    stale_until = w.event_at_s + w.deadline_s
    free_at = [0.0] * w.db_workers  # when each database connection is next free
    pending: list[tuple[float, str]] = []  # (completion time, key) of reads in flight
    in_flight: dict[str, float] = {}
    pacer = _TokenBucket(w.rewarm_per_s, burst=PACER_BURST)
    generation = 0  # index into names: 0 before a generation bump, 1 after
    invalidated = False
    seconds = range(w.duration_s)
    run = InvalidationRun(strategy, w, [0 for _ in seconds], [[] for _ in seconds])
    run.stale_per_s, run.cached_at_start = [0 for _ in seconds], cached
    for now, k in zip(arrivals, wanted, strict=True):
        while pending and pending[0][0] <= now:
            done, key = heapq.heappop(pending)
            clock.now = done
            store.fill(key, Entry("v", 1, done + jittered_ttl(w.ttl_s, rng), w.db_service_s))
            in_flight.pop(key, None)
        clock.now = now
        if not invalidated and now >= w.event_at_s:
            invalidated = True
            if strategy in (GENERATION_PACED, GENERATION_UNPACED):
                generation = 1
            else:
                store.clear()
        key = names[generation][k]
        entry = store.get(key)
        second = int(now)
        if entry is not None and now < entry.expires_at:
            latency = w.cache_hit_s
        elif key in in_flight:
            latency = in_flight[key] - now
        elif (
            paced
            and generation
            and now < stale_until
            and _usable(store, names[0][k], now)
            and not pacer.take(now)
        ):
            latency = w.cache_hit_s  # deferred: serve the previous generation's value
            run.stale_per_s[second] += 1
        else:  # a read from the database
            start = max(now, heapq.heappop(free_at))
            done = start + w.db_service_s
            heapq.heappush(free_at, done)
            heapq.heappush(pending, (done, key))
            run.reads_per_s[second] += 1
            if coalesce:
                in_flight[key] = done
            latency = done - now
        run.latencies_by_s[second].append(latency)
    return run


def _usable(store: VersionedStore, key: str, now: float) -> bool:
    entry = store.get(key)
    return entry is not None and now < entry.expires_at


@functools.cache
def invalidation_runs() -> tuple[InvalidationRun, ...]:
    """Every strategy on the same seeded traffic (cached: the figure and tests reuse it)."""
    return tuple(simulate_invalidation(s) for s in STRATEGIES)


FIGURE_STRATEGIES = (FLUSH_NAIVE, FLUSH_COALESCED, GENERATION_PACED)


def load_curves() -> dict[str, list[tuple[int, int, float]]]:
    """What the figure plots, per strategy: (second, database reads issued, p99 in ms).

    A read counts in the second it is issued, whether it then waits in the
    database's queue or runs at once, so the count can exceed the capacity.
    """
    return {
        run.strategy: [(s, run.reads_per_s[s], run.p99_ms(s)) for s in range(len(run.reads_per_s))]
        for run in invalidation_runs()
        if run.strategy in FIGURE_STRATEGIES
    }


# --------------------------------------------------------------------------
# Simulation 2: recomputations per expiry, with and without XFetch
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpiryStats:
    mode: str
    readers_per_s: float
    recomputes_per_window: float
    mean_early_s: float


def simulate_expiry(
    mode: str,
    readers_per_s: float,
    *,
    ttl_s: float = 10.0,
    recompute_s: float = 0.1,
    beta: float = 1.0,
    windows: int = 40,
    seed: int = 5,
) -> ExpiryStats:
    """One hot key read at ``readers_per_s``; count recomputations per refresh.

    Modes: ``"plain"`` (recompute only once expired, no coalescing),
    ``"xfetch"`` (XFetch, no coalescing: several readers may start one each),
    ``"xfetch+single-flight"`` (XFetch, at most one recompute in flight).
    """
    rng = random.Random(seed)
    entry = Entry("v", 1, ttl_s, recompute_s)
    pending: list[tuple[float, float]] = []  # (completion, start) of recomputes in flight
    recomputes = refreshes = 0
    last_fill = 0.0
    early: list[float] = []
    now = 0.0
    horizon = 25 * recompute_s * beta if mode != "plain" else 0.0
    while refreshes < windows:
        if not pending and now < entry.expires_at - horizon:
            now = entry.expires_at - horizon  # earlier readers trigger with p < e**-25
        now += rng.expovariate(readers_per_s)
        while pending and pending[0][0] <= now:
            done, started = heapq.heappop(pending)
            refreshes += started >= last_fill  # duplicates started earlier share the window
            last_fill = done
            entry = Entry("v", 1, done + ttl_s, recompute_s)
        due = xfetch_due(entry, now, 0.0 if mode == "plain" else beta, rng)
        if not due or (mode == "xfetch+single-flight" and pending):
            continue
        if mode == "plain" and now < entry.expires_at:
            continue
        if not pending:
            early.append(max(0.0, entry.expires_at - now))
        recomputes += 1
        heapq.heappush(pending, (now + recompute_s, now))
    return ExpiryStats(mode, readers_per_s, recomputes / refreshes, sum(early) / len(early))


EXPIRY_MODES = ("plain", "xfetch", "xfetch+single-flight")
READER_RATES = (10.0, 100.0, 1000.0)


@functools.cache
def expiry_table() -> tuple[ExpiryStats, ...]:
    return tuple(simulate_expiry(m, r) for r in READER_RATES for m in EXPIRY_MODES)


# --------------------------------------------------------------------------
# Demo
# --------------------------------------------------------------------------


def main() -> None:
    """Print the replays and the two simulations the article quotes."""
    print("1. Fill/invalidate race, real SQLite, interleaving forced")
    for kind in ("naive", "add-only", "versioned"):
        r = replay_fill_invalidate_race(kind)
        print(
            f"   {kind:<10} fill {'stored ' if r.fill_accepted else 'refused'}  "
            f"db={r.database}  cache={r.cached}  next read={r.next_read}"
        )
    print("2. Stampede: 50 threads miss one cold key together")
    plain, single = (count_stampede_reads(50, coalesce=c) for c in (False, True))
    print(f"   source reads without coalescing: {plain}; with single-flight: {single}")

    print("3. The app commits 'sold out', then dies before its cache delete")
    source = Source()
    source.put("sku:7", "in stock")
    plain, checked = (Cache(source, VersionedStore(time.monotonic), beta=0.0) for _ in "ab")
    for cache in (plain, checked):
        cache.get("sku:7")
    source.put("sku:7", "sold out")  # the process dies here: no invalidation
    print(f"   plain read: {plain.get('sku:7')!r} until the TTL; ", end="")
    print(f"validated read: {checked.get_validated('sku:7')!r}")
    LogInvalidator(source, plain).poll()
    print(f"   plain read after the change-log tailer ran: {plain.get('sku:7')!r}")
    held = []
    for store in (NaiveStore(), VersionedStore(time.monotonic)):
        store.fill("k", Entry("v3", 3, math.inf, 0.0))
        store.fill("k", Entry("v2", 2, math.inf, 0.0))  # a late update, or a lagging replica
        held.append(store.get("k").value)  # type: ignore[union-attr]
    print(f"   v2 lands after v3: naive store keeps {held[0]}, versioned store keeps {held[1]}")
    coupons = Cache(source, VersionedStore(time.monotonic), beta=0.0)
    before = coupons.get("coupon:FALL")
    source.put("coupon:FALL", "10% off")  # a batch job that knows nothing of the cache
    after_insert = coupons.get("coupon:FALL")
    LogInvalidator(source, coupons).poll()
    print(
        f"   negative entry: {before!r}, after the insert {after_insert!r}, "
        f"after the tailer {coupons.get('coupon:FALL')!r}"
    )

    w = Workload()
    start, end = int(w.event_at_s), w.duration_s
    runs = invalidation_runs()
    baseline = runs[0].reads_between(0, start) / start
    print(
        f"4. Invalidate all {w.keys:,} descriptions at t={start} s ({w.rate_per_s:,.0f} req/s, "
        f"DB {w.db_capacity_per_s:,.0f} reads/s)"
    )
    print(
        f"   steady state before: {runs[0].cached_at_start:,} keys cached "
        f"(TTL {w.ttl_s:,.0f} s), DB {baseline:.0f} reads/s (model: {w.steady_misses_per_s():.0f})"
    )
    print(
        f"   pace for a {w.deadline_s:.0f} s deadline: {w.distinct_keys(w.deadline_s):,.0f} keys "
        f"read per {w.deadline_s:.0f} s / {w.deadline_s:.0f} s = {w.rewarm_per_s:.0f} refills/s"
    )
    print(f"   {'strategy':<31}{'peak/s':>7}{f'reads {end - start} s':>11}{'worst p99':>11}"
          f"{'p99>1s':>7}{'stale':>6}{'last stale':>11}")  # fmt: skip
    for run in runs:
        worst = max(run.p99_ms(s) for s in range(start, end))
        until = f"t={run.stale_until_s()} s" if run.stale_until_s() else "-"
        print(
            f"   {run.strategy:<31}{max(run.reads_per_s):>7,}{run.reads_between(start, end):>11,}"
            f"{worst:>9,.0f}ms{run.slow_seconds():>5} s{run.stale_share(start, end):>6.0%}"
            f"{until:>11}"
        )

    print("5. Recomputations per expiry (TTL 10 s, recompute 0.1 s, beta 1)")
    print(f"   {'readers/s':>9}{'plain':>8}{'xfetch':>8}{'+single-flight':>16}{'early by':>10}")
    table = {(s.mode, s.readers_per_s): s for s in expiry_table()}
    for rate in READER_RATES:
        row = [table[(m, rate)].recomputes_per_window for m in EXPIRY_MODES]
        early = table[("xfetch+single-flight", rate)].mean_early_s
        print(f"   {rate:>9,.0f}{row[0]:>8.1f}{row[1]:>8.1f}{row[2]:>16.1f}{early:>9.2f}s")


if __name__ == "__main__":
    main()
