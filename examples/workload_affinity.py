"""Workload affinity: rendezvous hashing with a load bound.

Rendezvous (highest-random-weight) hashing gives every key a preference order
over the workers; the key goes to the first worker in that order. Adding a
load bound sends a request to the next worker in the key's own order whenever
the preferred one already carries more than ``balance`` times the mean load of
the current window. The module also simulates a Zipf-skewed workload over
workers that each keep a small LRU cache, to compare routing strategies on
cache hit rate and load skew.

Everything is deterministic: hashing uses BLAKE2b (not Python's salted
``hash``) and the workload comes from a seeded generator. Run
``python -m examples.workload_affinity`` for a demo.
"""

from __future__ import annotations

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


def modulo_owner(key: str, workers: Sequence[str]) -> str:
    """Return the owner under ``hash(key) mod N``: the naive scheme, for contrast."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return workers[int.from_bytes(digest, "big") % len(workers)]


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


class BoundedRendezvousRouter:
    """Route requests by rendezvous hashing, capping each worker's load.

    Load is the number of requests a worker has received in the current
    window (for example one second of traffic). A worker may take a request
    only while its load is below ``ceil(balance * (window_total + 1) / n)``;
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
        raise AssertionError("unreachable: the total load is below n * cap")

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
    choice), ``two-choices`` (the less loaded of the key's first two choices)
    and ``bounded`` (:class:`BoundedRendezvousRouter`).
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


def main() -> None:
    """Print membership movement and the routing comparison."""
    workers = [f"w{i}" for i in range(10)]
    keys = [f"key-{i}" for i in range(20_000)]
    grown = [*workers, "w10"]
    shrunk = workers[:-1]
    print("Keys that change owner when membership changes (20,000 keys, 10 workers)")
    print(f"{'scheme':<14}{'add 1 worker':>14}{'remove 1 worker':>17}")
    for name, fn in (("rendezvous", owner), ("hash mod N", modulo_owner)):
        print(
            f"{name:<14}{moved_fraction(keys, workers, grown, fn):>14.1%}"
            f"{moved_fraction(keys, workers, shrunk, fn):>17.1%}"
        )
    print("(ideal: 1/11 = 9.1 % on add, 1/10 = 10.0 % on remove)\n")

    requests = zipf_keys(10_000, 100_000)
    print("100,000 Zipf(1.0) requests over 10,000 keys, 10 workers, LRU cache of 500 keys each")
    print(
        f"hottest key = {zipf_share(1, 10_000):.1%} of traffic; top 500 keys = "
        f"{zipf_share(500, 10_000):.1%}; top 5,000 = {zipf_share(5000, 10_000):.1%}"
    )
    line = hot_key_threshold(len(workers), 1.25)
    shares = [zipf_share(i + 1, 10_000) - zipf_share(i, 10_000) for i in range(4)]
    print(
        f"hot-key line (c - 1) / (n - 1) for c = 1.25: {line:.1%}; top four keys: "
        + ", ".join(f"{share:.1%}" for share in shares)
        + f"; {sum(share > line for share in shares)} above the line"
    )
    print(
        f"{'strategy':<13}{'hit rate':>10}{'max/mean':>10}{'1st choice':>12}{'hot-key workers':>17}"
    )
    for strategy in STRATEGIES:
        r = run(strategy, requests, workers)
        print(
            f"{strategy:<13}{r.hit_rate:>10.1%}{r.max_over_mean:>10.2f}"
            f"{r.first_choice:>12.1%}{r.hot_key_workers:>17}"
        )


if __name__ == "__main__":
    main()
