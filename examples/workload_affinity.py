"""Workload affinity: rendezvous hashing with a load bound.

Rendezvous (highest-random-weight) hashing gives every key a preference order
over the workers; the key goes to the first worker in that order. Adding a
load bound sends a request to the next worker in the key's own order whenever
the preferred one already carries more than ``balance`` times the mean load of
the current window. The module also simulates a Zipf-skewed workload over
workers that each keep a small LRU cache, to compare routing strategies on
cache hit rate and load skew. For comparison it also implements the other
common mappings (hash mod n, a hash ring with virtual nodes, jump consistent
hash and a Maglev lookup table) and measures what each moves when a worker
joins or leaves.

Everything is deterministic: hashing uses BLAKE2b (not Python's salted
``hash``) and the workload comes from a seeded generator. Run
``python -m examples.workload_affinity`` for a demo.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import math
import random
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field


def score(key: str, worker: str) -> int:
    """Return the pseudo-random weight of ``worker`` for ``key`` (64 bits, stable)."""
    digest = hashlib.blake2b(f"{worker}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def preference(key: str, workers: Iterable[str]) -> list[str]:
    """Return ``workers`` ordered from most to least preferred for ``key``."""
    return sorted(workers, key=lambda w: (score(key, w), w), reverse=True)


def owner(key: str, workers: Iterable[str]) -> str:
    """Return the worker that owns ``key`` under plain rendezvous hashing."""
    return max(workers, key=lambda w: (score(key, w), w))


def key_hash(key: str) -> int:
    """Return a stable 64-bit hash of ``key`` (the input of every non-rendezvous scheme)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")


def modulo_owner(key: str, workers: Sequence[str]) -> str:
    """Return the owner under ``hash(key) mod n``: the naive scheme, for contrast."""
    return workers[key_hash(key) % len(workers)]


class HashRing:
    """Consistent hashing (Karger et al.): each worker owns ``points`` positions on a ring.

    A key belongs to the first worker point at or after its own hash, going
    clockwise. More points per worker ("virtual nodes") even out the arcs.
    """

    def __init__(self, workers: Sequence[str], points: int = 100) -> None:
        ring = sorted((key_hash(f"{w}#{i}"), w) for w in workers for i in range(points))
        self._hashes = [h for h, _ in ring]
        self._owners = [w for _, w in ring]

    def owner(self, key: str) -> str:
        """Return the worker whose next point follows ``key`` on the ring."""
        i = bisect.bisect_left(self._hashes, key_hash(key)) % len(self._hashes)
        return self._owners[i]


def jump_hash(key: int, buckets: int) -> int:
    """Jump consistent hash (Lamping and Veach, 2014): a bucket in ``range(buckets)``.

    No table and no weights; growing from n to n + 1 buckets moves keys only
    into bucket n, so workers can be added or removed only at the end.
    """
    b, j = -1, 0
    while j < buckets:
        b = j
        key = (key * 2862933555777941757 + 1) % 2**64
        j = int((b + 1) * ((1 << 31) / ((key >> 33) + 1)))
    return b


def jump_owner(key: str, workers: Sequence[str]) -> str:
    """Return the owner of ``key`` under jump hashing over the numbered ``workers``."""
    return workers[jump_hash(key_hash(key), len(workers))]


class MaglevTable:
    """Maglev hashing (Eisenbud et al., 2016): a lookup table of prime ``size``.

    Each worker walks its own permutation of the slots (an offset and a skip
    from its name) and the workers take turns claiming the next free slot in
    theirs, so every worker ends with ``size // n`` or one more slots. A key
    is looked up by ``hash mod size``.
    """

    def __init__(self, workers: Sequence[str], size: int = 65537) -> None:
        self.workers = list(workers)
        self.size = size
        walks = []
        for w in self.workers:
            digest = hashlib.blake2b(w.encode(), digest_size=16).digest()
            offset = int.from_bytes(digest[:8], "big") % size
            skip = int.from_bytes(digest[8:], "big") % (size - 1) + 1
            walks.append((offset, skip))
        table = [-1] * size
        tried = [0] * len(self.workers)
        filled = 0
        while filled < size:
            for i, (offset, skip) in enumerate(walks):
                slot = (offset + tried[i] * skip) % size
                while table[slot] >= 0:
                    tried[i] += 1
                    slot = (offset + tried[i] * skip) % size
                table[slot] = i
                tried[i] += 1
                filled += 1
                if filled == size:
                    break
        self.table = table

    def owner(self, key: str) -> str:
        """Return the worker in the slot ``key`` hashes to."""
        return self.workers[self.table[key_hash(key) % self.size]]


def moved_fraction(
    keys: Sequence[str],
    before: Sequence[str],
    after: Sequence[str],
    assign: Callable[[str, Sequence[str]], str] = owner,
) -> float:
    """Return the share of ``keys`` whose owner changes when membership changes."""
    moved = sum(assign(k, before) != assign(k, after) for k in keys)
    return moved / len(keys)


@functools.cache
def join_movement(
    fleet_sizes: tuple[int, ...] = tuple(range(2, 21)), n_keys: int = 5000
) -> list[tuple[int, float, float]]:
    """Return ``(n, rendezvous moved, modulo moved)`` when a worker joins ``n`` workers.

    Each share is :func:`moved_fraction` over ``n_keys`` keys for the fleet
    ``w0 .. w{n-1}`` growing to ``w0 .. w{n}``. The article's figure plots
    this and the tests assert it; cached because it hashes millions of pairs.
    """
    keys = [f"key-{i}" for i in range(n_keys)]
    rows = []
    for n in fleet_sizes:
        before = [f"w{i}" for i in range(n)]
        after = [*before, f"w{n}"]
        rows.append(
            (
                n,
                moved_fraction(keys, before, after, owner),
                moved_fraction(keys, before, after, modulo_owner),
            )
        )
    return rows


SCHEMES: dict[str, Callable[[Sequence[str]], Callable[[str], str]]] = {
    "hash mod n": lambda ws: lambda k: modulo_owner(k, ws),
    "ring, 1 point": lambda ws: HashRing(ws, 1).owner,
    "ring, 100 points": lambda ws: HashRing(ws, 100).owner,
    "rendezvous": lambda ws: lambda k: owner(k, ws),
    "jump": lambda ws: lambda k: jump_owner(k, ws),
    "maglev, 65,537": lambda ws: MaglevTable(ws).owner,
}
"""Each mapping scheme, as a function from a membership list to a key-to-owner function."""


@dataclass(frozen=True)
class SchemeRow:
    """What one mapping scheme does with ``n`` workers and uniform keys."""

    scheme: str
    moved_on_add: float
    """Share of keys whose owner changes when worker ``n`` joins."""
    moved_elsewhere_on_add: float
    """Share of keys that move on that join to a worker other than the newcomer."""
    moved_on_remove: float
    """Share of keys whose owner changes when the last worker leaves."""
    max_over_mean: float
    """Keys on the fullest worker divided by the mean, before any change."""


@functools.cache
def compare_schemes(n_keys: int = 20_000, n_workers: int = 10) -> tuple[SchemeRow, ...]:
    """Measure movement and balance of every scheme in :data:`SCHEMES`.

    The keys are ``tenant-0 ..``, a set of its own, disjoint from the
    ``key-0 ..`` of :func:`join_movement`. The leaving worker is the last one,
    the only one jump hashing can remove without renumbering the others.
    """
    keys = [f"tenant-{i}" for i in range(n_keys)]
    newcomer = f"w{n_workers}"
    workers = [f"w{i}" for i in range(n_workers)]
    grown, shrunk = [*workers, f"w{n_workers}"], workers[:-1]
    rows = []
    for name, build in SCHEMES.items():
        before = build(workers)
        base = [before(k) for k in keys]
        added = build(grown)
        removed = build(shrunk)
        counts = Counter(base)
        rows.append(
            SchemeRow(
                name,
                sum(added(k) != b for k, b in zip(keys, base, strict=True)) / n_keys,
                sum(added(k) not in (b, newcomer) for k, b in zip(keys, base, strict=True))
                / n_keys,
                sum(removed(k) != b for k, b in zip(keys, base, strict=True)) / n_keys,
                max(counts[w] for w in workers) / (n_keys / n_workers),
            )
        )
    return tuple(rows)


class BoundedRendezvousRouter:
    """Route requests by rendezvous hashing, capping each worker's load.

    Load is the number of requests a worker has received in the current
    window; the window stands in for the requests in flight, as if each
    request lasted one window. A worker may take a request only while its
    load is below ``ceil(balance * (window_total + 1) / n)``, a cap that
    counts the request being placed;
    otherwise the request goes to the next worker in the key's preference
    order. Cold keys therefore stay on their first choice and a hot key
    spills over to a few workers of its own, not to a fixed ring neighbor.
    """

    def __init__(self, workers: Sequence[str], balance: float = 1.25) -> None:
        if balance < 1.0:
            raise ValueError("balance must be at least 1.0")
        if not workers:
            raise ValueError("need at least one worker")
        self.workers = list(workers)
        self.balance = balance
        self.load: Counter[str] = Counter()
        self._order: dict[str, list[str]] = {}

    def preference_for(self, key: str) -> list[str]:
        """Return the preference order of ``key`` over this router's workers (cached)."""
        order = self._order.get(key)
        if order is None:
            order = self._order[key] = preference(key, self.workers)
        return order

    def capacity(self) -> int:
        """Return the most requests any worker may hold in this window, counting
        the request about to be placed."""
        total = sum(self.load.values()) + 1
        return math.ceil(self.balance * total / len(self.workers))

    def route(self, key: str) -> tuple[str, int]:
        """Place one request for ``key``; return the worker and its rank (0 = first choice)."""
        cap = self.capacity()
        for rank, worker in enumerate(self.preference_for(key)):
            if self.load[worker] < cap:
                self.load[worker] += 1
                return worker, rank
        # n * cap >= balance * (placed + 1) > placed = sum(load), so some worker is below cap.
        raise AssertionError("unreachable: the window holds fewer than n * cap requests")

    def new_window(self) -> None:
        """Start a new load window (call once per second of traffic, say)."""
        self.load.clear()


class LRUCache:
    """A fixed-size least-recently-used set of keys, standing in for a worker's cache."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._keys: OrderedDict[str, None] = OrderedDict()

    def access(self, key: str) -> bool:
        """Touch ``key``; return True on a hit, False on a miss (which fills it)."""
        if key in self._keys:
            self._keys.move_to_end(key)
            return True
        self._keys[key] = None
        if len(self._keys) > self.size:
            self._keys.popitem(last=False)
        return False


def zipf_keys(n_keys: int, n_requests: int, s: float = 1.0, seed: int = 7) -> list[str]:
    """Return ``n_requests`` keys drawn from a Zipf(``s``) popularity over ``n_keys``.

    ``key-0`` is the most popular; key ``i`` has weight ``1 / (i + 1) ** s``.
    """
    rng = random.Random(seed)
    population = [f"key-{i}" for i in range(n_keys)]
    weights = [1.0 / (i + 1) ** s for i in range(n_keys)]
    return rng.choices(population, weights=weights, k=n_requests)


@dataclass
class RoutingReport:
    """What one routing strategy did with one workload."""

    strategy: str
    hit_rate: float
    max_over_mean: float
    """Highest per-window worker load divided by the mean, worst window."""
    first_choice: float
    """Share of requests served by the key's preferred worker."""
    hot_key_workers: int
    """Distinct workers that served the most popular key."""
    per_worker: Counter[str] = field(default_factory=Counter)


STRATEGIES: tuple[str, ...] = ("random", "rendezvous", "two-choices", "bounded")


def run(
    strategy: str,
    requests: Sequence[str],
    workers: Sequence[str],
    cache_size: int = 500,
    window: int = 1000,
    balance: float = 1.25,
    seed: int = 11,
) -> RoutingReport:
    """Route ``requests`` with one strategy and measure hit rate and load skew.

    Strategies: ``random`` (no affinity), ``rendezvous`` (always the first
    choice), ``two-choices`` (the less loaded of the key's first two choices,
    read from exact current loads) and ``bounded``
    (:class:`BoundedRendezvousRouter`). Caches start empty, so the first
    request for each key on each worker counts as a miss.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}")
    rng = random.Random(seed)
    caches = {w: LRUCache(cache_size) for w in workers}
    router = BoundedRendezvousRouter(workers, balance)
    hits = first = 0
    worst = 0.0
    per_worker: Counter[str] = Counter()
    hot_workers: set[str] = set()
    hottest = Counter(requests).most_common(1)[0][0]
    for i, key in enumerate(requests):
        if i % window == 0:
            if router.load:
                loads = [router.load[w] for w in workers]
                worst = max(worst, max(loads) / (sum(loads) / len(workers)))
            router.new_window()
        order = router.preference_for(key)
        if strategy == "bounded":
            worker, rank = router.route(key)
        else:
            if strategy == "random":
                worker = rng.choice(workers)
            elif strategy == "rendezvous":
                worker = order[0]
            else:  # two-choices among the key's own top two
                worker = min(order[:2], key=lambda w: (router.load[w], order.index(w)))
            rank = order.index(worker)
            router.load[worker] += 1
        first += rank == 0
        hits += caches[worker].access(key)
        per_worker[worker] += 1
        if key == hottest:
            hot_workers.add(worker)
    loads = [router.load[w] for w in workers]
    worst = max(worst, max(loads) / (sum(loads) / len(workers)))
    n = len(requests)
    return RoutingReport(strategy, hits / n, worst, first / n, len(hot_workers), per_worker)


def requests_moved_on_join(
    requests: Sequence[str],
    workers: Sequence[str],
    balance: float | None = None,
    window: int = 1000,
) -> tuple[float, float]:
    """Return the share of ``requests`` served elsewhere once one more worker joins.

    The same requests are routed over ``workers`` and over ``workers`` plus a
    newcomer, by plain rendezvous (``balance=None``) or with the load bound.
    The pair is (moved at all, moved to a worker other than the newcomer).
    """
    grown = [*workers, f"w{len(workers)}"]

    def placement(fleet: Sequence[str]) -> list[str]:
        router = BoundedRendezvousRouter(fleet, balance or 1.0)
        placed = []
        for i, key in enumerate(requests):
            if i % window == 0:
                router.new_window()
            if balance is None:
                placed.append(router.preference_for(key)[0])
            else:
                placed.append(router.route(key)[0])
        return placed

    before, after = placement(workers), placement(grown)
    pairs = list(zip(before, after, strict=True))
    moved = sum(b != a for b, a in pairs) / len(pairs)
    elsewhere = sum(b != a and a != grown[-1] for b, a in pairs) / len(pairs)
    return moved, elsewhere


def affinity_ceiling(n_keys: int, workers: Sequence[str], cache_size: int, s: float = 1.0) -> float:
    """Return the hit-rate ceiling of plain rendezvous affinity with warm caches.

    Each worker can at best hold the ``cache_size`` most popular of its own
    keys; the ceiling is the share of traffic those keys carry, fleet-wide.
    """
    weights = [1.0 / (i + 1) ** s for i in range(n_keys)]
    own: dict[str, list[float]] = {w: [] for w in workers}
    for i, weight in enumerate(weights):  # in popularity order
        own[owner(f"key-{i}", workers)].append(weight)
    return sum(sum(ws[:cache_size]) for ws in own.values()) / sum(weights)


def zipf_share(top: int, n_keys: int, s: float = 1.0) -> float:
    """Return the share of requests that go to the ``top`` most popular keys."""
    weights = [1.0 / (i + 1) ** s for i in range(n_keys)]
    return sum(weights[:top]) / sum(weights)


def hot_key_threshold(workers: int, balance: float) -> float:
    """Share of all traffic above which one key alone puts its owner over the bound.

    The owner carries the key's share k plus its 1/n slice of everything else,
    k + (1 - k) / n, and the bound is c / n: the owner is over it once
    k > (c - 1) / (n - 1).
    """
    return (balance - 1) / (workers - 1)


def zipf_key_share(rank: int, n_keys: int, s: float = 1.0) -> float:
    """Return the share of requests for the key of popularity ``rank`` (1 = hottest)."""
    return zipf_share(rank, n_keys, s) - zipf_share(rank - 1, n_keys, s)


def keys_above(line: float, n_keys: int, s: float = 1.0) -> int:
    """Count the keys whose own share of traffic exceeds ``line`` (shares fall with rank)."""
    total = sum(1.0 / (i + 1) ** s for i in range(n_keys))
    return sum(1 for i in range(n_keys) if 1.0 / (i + 1) ** s / total > line)


def shuffle_shard_overlap(workers: int = 8, shard: int = 2) -> tuple[int, list[float]]:
    """Return how many distinct shards exist, and the overlap of two random tenants.

    Item ``j`` of the list is the probability that another tenant's shard
    shares exactly ``j`` workers with a given tenant's shard (hypergeometric).
    """
    shards = math.comb(workers, shard)
    overlap = [
        math.comb(shard, j) * math.comb(workers - shard, shard - j) / shards
        for j in range(shard + 1)
    ]
    return shards, overlap


def main() -> None:
    """Print membership movement and the routing comparison."""
    workers = [f"w{i}" for i in range(10)]
    print("Keys that change owner when membership changes (20,000 keys, 10 workers)")
    print(
        f"{'scheme':<18}{'add 1 worker':>14}{'not to it':>11}{'remove 1 worker':>17}"
        f"{'max/mean keys':>15}"
    )
    for row in compare_schemes():
        print(
            f"{row.scheme:<18}{row.moved_on_add:>14.1%}{row.moved_elsewhere_on_add:>11.1%}"
            f"{row.moved_on_remove:>17.1%}{row.max_over_mean:>15.2f}"
        )
    print("(ideal: 1/11 = 9.1 % on add, 1/10 = 10.0 % on remove, max/mean 1.00)\n")

    requests = zipf_keys(10_000, 100_000)
    print("100,000 Zipf(1.0) requests over 10,000 keys, 10 workers, LRU cache of 500 keys each")
    print(
        f"hottest key = {zipf_share(1, 10_000):.1%} of traffic; top 500 keys = "
        f"{zipf_share(500, 10_000):.1%}; top 5,000 = {zipf_share(5000, 10_000):.1%}; "
        f"affinity ceiling (each worker's own top 500) = "
        f"{affinity_ceiling(10_000, workers, 500):.1%}"
    )
    line = hot_key_threshold(len(workers), 1.25)
    shares = [zipf_key_share(i + 1, 10_000) for i in range(4)]
    print(
        f"hot-key line (c - 1) / (n - 1) for c = 1.25: {line:.1%}; top four keys: "
        + ", ".join(f"{share:.1%}" for share in shares)
        + f"; {sum(share > line for share in shares)} above the line"
    )
    print(
        "keys above that line by Zipf exponent: "
        + "; ".join(
            f"s = {s}: {keys_above(line, 10_000, s)} (hottest {zipf_share(1, 10_000, s):.1%})"
            for s in (0.8, 1.0, 1.2)
        )
    )
    wide = hot_key_threshold(100, 1.25)
    print(f"with 100 workers the line is {wide:.2%}: {keys_above(wide, 10_000)} keys above it")
    print(
        f"{'strategy':<13}{'hit rate':>10}{'max/mean':>10}{'1st choice':>12}{'hot-key workers':>17}"
    )
    for strategy in STRATEGIES:
        r = run(strategy, requests, workers)
        print(
            f"{strategy:<13}{r.hit_rate:>10.1%}{r.max_over_mean:>10.2f}"
            f"{r.first_choice:>12.1%}{r.hot_key_workers:>17}"
        )
    print("requests served elsewhere when an 11th worker joins (moved at all / not to it):")
    for balance in (None, 1.1, 1.25, 2.0):
        moved, elsewhere = requests_moved_on_join(requests, workers, balance)
        label = "no bound" if balance is None else f"bound {balance}"
        print(f"  {label:<12}{moved:>8.1%}{elsewhere:>8.1%}")
    shards, overlap = shuffle_shard_overlap(8, 2)
    none, one, both = overlap
    print(f"\nShuffle sharding, 8 workers, shards of 2: {shards} distinct shards")
    print(
        f"another tenant's shard shares with a bad tenant's: both workers {both:.1%}, "
        f"one {one:.1%}, none {none:.1%}"
    )


if __name__ == "__main__":
    main()
