"""The claims the workload-affinity article makes about its worked example."""

from __future__ import annotations

import math

import pytest

from examples.workload_affinity import (
    STRATEGIES,
    BoundedRendezvousRouter,
    HashRing,
    LRUCache,
    MaglevTable,
    affinity_ceiling,
    compare_schemes,
    hot_key_threshold,
    join_movement,
    jump_hash,
    key_hash,
    keys_above,
    modulo_owner,
    moved_fraction,
    owner,
    preference,
    requests_moved_on_join,
    run,
    shuffle_shard_overlap,
    zipf_key_share,
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
    assert router.capacity() == 1  # the first request of a window counts itself
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
    assert plotted["hash mod n"] == [(n, m * 100) for n, _, m in rows]
    assert plotted["expected: n/(n+1), 1/(n+1)"] == [
        (n, pytest.approx(100 * n / (n + 1))) for n, _, _ in rows
    ]


def test_stable_schemes_move_about_their_share_and_modulo_moves_almost_all() -> None:
    rows = {row.scheme: row for row in compare_schemes()}
    assert rows["hash mod n"].moved_on_add > 0.85
    for name in ("ring, 100 points", "rendezvous", "jump", "maglev, 65,537"):
        assert 0.07 < rows[name].moved_on_add < 0.12, name  # ideal 1/11 = 9.1 %
        assert 0.08 < rows[name].moved_on_remove < 0.12, name  # ideal 1/10
    # One point per worker leaves arcs, and so shares, very unequal; 100 points even them out.
    assert rows["ring, 1 point"].max_over_mean > 2
    assert rows["ring, 100 points"].max_over_mean < 1.25
    for name in ("rendezvous", "jump", "maglev, 65,537"):
        assert rows[name].max_over_mean < 1.1, name


def test_only_maglev_and_modulo_move_keys_between_workers_that_stayed() -> None:
    rows = {row.scheme: row for row in compare_schemes()}
    for name in ("ring, 1 point", "ring, 100 points", "rendezvous", "jump"):
        assert rows[name].moved_elsewhere_on_add == 0, name
    assert 0 < rows["maglev, 65,537"].moved_elsewhere_on_add < 0.01
    assert rows["hash mod n"].moved_elsewhere_on_add > 0.75


def test_the_figure_and_the_table_use_disjoint_key_sets() -> None:
    rows = {row.scheme: row for row in compare_schemes()}
    figure = {n: m for n, _, m in join_movement()}
    assert rows["hash mod n"].moved_on_add == pytest.approx(0.909, abs=0.001)
    assert figure[10] == pytest.approx(0.9126)


def test_a_bound_moves_more_requests_on_a_join_and_a_tighter_one_more_still() -> None:
    requests = zipf_keys(10_000, 40_000)
    plain, plain_elsewhere = requests_moved_on_join(requests, WORKERS)
    assert plain_elsewhere == 0  # without a bound, keys move only to the newcomer
    moved = {c: requests_moved_on_join(requests, WORKERS, c) for c in (1.1, 1.25, 2.0)}
    assert moved[1.1][0] > moved[1.25][0] > moved[2.0][0] >= plain
    assert moved[1.25][1] > 0  # the spill reshuffles among workers that stayed


def test_the_affinity_ceiling_is_about_the_top_five_thousand_keys() -> None:
    ceiling = affinity_ceiling(10_000, WORKERS, 500)
    assert ceiling <= zipf_share(5000, 10_000) + 1e-12
    assert ceiling == pytest.approx(0.929, abs=0.001)


def test_ring_and_jump_move_keys_only_to_the_newcomer() -> None:
    before, after = HashRing(WORKERS, 100), HashRing([*WORKERS, "w10"], 100)
    for key in KEYS[:2000]:
        assert after.owner(key) in (before.owner(key), "w10")
        h = key_hash(key)
        assert jump_hash(h, 11) in (jump_hash(h, 10), 10)


def test_maglev_gives_every_worker_an_equal_share_of_slots_to_within_one() -> None:
    table = MaglevTable(WORKERS, size=65537)
    counts = [table.table.count(i) for i in range(len(WORKERS))]
    assert sum(counts) == 65537
    assert max(counts) - min(counts) <= 1


def test_how_many_keys_are_hot_depends_on_the_exponent_and_the_fleet() -> None:
    line = hot_key_threshold(10, 1.25)
    assert [keys_above(line, 10_000, s) for s in (0.8, 1.0, 1.2)] == [1, 3, 5]
    assert zipf_key_share(1, 10_000) == pytest.approx(zipf_share(1, 10_000))
    assert hot_key_threshold(100, 1.25) == pytest.approx(0.25 / 99)
    assert keys_above(hot_key_threshold(100, 1.25), 10_000) == 40


def test_shuffle_sharding_eight_workers_in_pairs() -> None:
    shards, overlap = shuffle_shard_overlap(8, 2)
    assert shards == 28
    assert overlap == [pytest.approx(15 / 28), pytest.approx(12 / 28), pytest.approx(1 / 28)]
