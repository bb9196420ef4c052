"""The claims the workload-affinity article makes about its worked example."""

from __future__ import annotations

import math

import pytest

from examples.workload_affinity import (
    STRATEGIES,
    BoundedRendezvousRouter,
    LRUCache,
    hot_key_threshold,
    join_movement,
    modulo_owner,
    moved_fraction,
    owner,
    preference,
    run,
    zipf_keys,
    zipf_share,
)
from tests.figures import draw, lines

WORKERS = [f"w{i}" for i in range(10)]
KEYS = [f"key-{i}" for i in range(5000)]


@pytest.fixture(scope="module")
def reports():
    """Route one Zipf workload with every strategy (shared by several tests)."""
    requests = zipf_keys(10_000, 40_000)
    return {s: run(s, requests, WORKERS) for s in STRATEGIES}


def test_adding_a_worker_moves_about_one_key_in_n_plus_one_and_only_to_it() -> None:
    grown = [*WORKERS, "w10"]
    fraction = moved_fraction(KEYS, WORKERS, grown)
    assert 0.07 < fraction < 0.115  # ideal 1/11 = 9.1 %
    for key in KEYS:
        before, after = owner(key, WORKERS), owner(key, grown)
        assert after in (before, "w10")


def test_removing_a_worker_moves_exactly_its_own_keys() -> None:
    shrunk = WORKERS[:-1]
    for key in KEYS:
        before = owner(key, WORKERS)
        if before != "w9":
            assert owner(key, shrunk) == before
    assert 0.08 < moved_fraction(KEYS, WORKERS, shrunk) < 0.12


def test_hash_mod_n_reshuffles_almost_everything() -> None:
    assert moved_fraction(KEYS, WORKERS, [*WORKERS, "w10"], modulo_owner) > 0.85


def test_replica_sets_from_the_ranking_survive_unrelated_removals() -> None:
    shrunk = WORKERS[:-1]
    for key in KEYS[:1000]:
        top3 = preference(key, WORKERS)[:3]
        if "w9" not in top3:
            assert preference(key, shrunk)[:3] == top3


def test_bounded_router_never_exceeds_its_cap() -> None:
    router = BoundedRendezvousRouter(WORKERS, balance=1.25)
    for _ in range(1000):
        router.route("one-very-hot-key")
    assert max(router.load.values()) <= math.ceil(1.25 * 1000 / 10)
    # One key alone fills its first choices in order: 1000 / 125 = 8 workers.
    assert set(router.load) == set(preference("one-very-hot-key", WORKERS)[:8])
    with pytest.raises(ValueError):
        BoundedRendezvousRouter(WORKERS, balance=0.9)


def test_zipf_skew_overloads_plain_affinity(reports) -> None:
    assert zipf_share(1, 10_000) == pytest.approx(0.102, abs=0.001)
    plain = reports["rendezvous"]
    assert plain.max_over_mean > 1.6
    assert plain.hot_key_workers == 1


def test_hot_key_line_is_where_one_key_puts_its_owner_at_the_bound() -> None:
    n, c = 10, 1.25
    k = hot_key_threshold(n, c)
    assert k == pytest.approx(0.25 / 9)  # about 2.8 %, not (c - 1) / n = 2.5 %
    # the owner's load, the key plus its 1/n slice of the rest, is exactly c x mean
    assert (k + (1 - k) / n) / (1 / n) == pytest.approx(c)
    shares = [zipf_share(i + 1, 10_000) - zipf_share(i, 10_000) for i in range(4)]
    assert [share > k for share in shares] == [True, True, True, False]
    assert 0.25 / n < shares[3] < k  # the fourth key is only over the wrong line


def test_the_bound_caps_skew_and_spreads_the_hot_key(reports) -> None:
    bounded = reports["bounded"]
    assert bounded.max_over_mean <= 1.25 + 1e-9
    assert 2 <= bounded.hot_key_workers < 10
    assert bounded.first_choice > 0.85  # cold keys keep their home


def test_affinity_keeps_most_of_the_cache_benefit(reports) -> None:
    assert reports["rendezvous"].hit_rate > reports["bounded"].hit_rate
    assert reports["bounded"].hit_rate > reports["random"].hit_rate + 0.15
    assert reports["two-choices"].hit_rate < reports["bounded"].hit_rate
    assert reports["two-choices"].hot_key_workers == 2


def test_lru_cache_evicts_the_least_recently_used_key() -> None:
    cache = LRUCache(2)
    assert not cache.access("a")
    assert not cache.access("b")
    assert cache.access("a")
    assert not cache.access("c")  # evicts b
    assert cache.access("a")
    assert not cache.access("b")


def test_everything_is_deterministic() -> None:
    assert zipf_keys(100, 500) == zipf_keys(100, 500)
    assert preference("k", WORKERS) == preference("k", list(reversed(WORKERS)))
    with pytest.raises(ValueError):
        run("round-robin", ["k"], WORKERS)


def test_join_movement_follows_one_in_n_plus_one_against_n_in_n_plus_one() -> None:
    rows = join_movement()
    assert [n for n, _, _ in rows] == list(range(2, 21))
    for n, rendezvous, modulo in rows:
        assert rendezvous == pytest.approx(1 / (n + 1), abs=0.012)
        assert modulo == pytest.approx(n / (n + 1), abs=0.012)
    at = {n: (r, m) for n, r, m in rows}
    assert at[10] == (pytest.approx(0.0958), pytest.approx(0.9126))
    assert at[2] == (pytest.approx(0.3364), pytest.approx(0.6676))
    assert at[20] == (pytest.approx(0.045), pytest.approx(0.9574))


def test_the_figure_plots_the_tested_movement() -> None:
    figure = draw("resilience/figures/rendezvous-vs-modulo.py")
    rows = join_movement()
    plotted = lines(figure)
    assert plotted["rendezvous"] == [(n, r * 100) for n, r, _ in rows]
    assert plotted["hash mod N"] == [(n, m * 100) for n, _, m in rows]
    assert plotted["expected: n/(n+1), 1/(n+1)"] == [
        (n, pytest.approx(100 * n / (n + 1))) for n, _, _ in rows
    ]
