"""The claims of "Cache inconsistency without mass invalidation"."""

from __future__ import annotations

import random

import pytest

from examples.cache_consistency import (
    DATA_CLASSES,
    DESCRIPTIONS,
    EXPIRY_MODES,
    FIGURE_STRATEGIES,
    FLUSH_COALESCED,
    FLUSH_NAIVE,
    GENERATION_PACED,
    GENERATION_UNPACED,
    JITTER,
    READER_RATES,
    RESERVE_S,
    Cache,
    Entry,
    LogInvalidator,
    NaiveStore,
    SingleFlight,
    Source,
    VersionedStore,
    Workload,
    count_stampede_reads,
    expiry_table,
    invalidation_runs,
    jittered_ttl,
    load_curves,
    replay_fill_invalidate_race,
    simulate_invalidation,
    stale_keys,
)
from tests.figures import draw, lines


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def entry(version: int, value: str = "x", expires_at: float = 100.0) -> Entry:
    return Entry(value, version, expires_at, recompute_s=0.01)


# --- the fill/invalidate race ---------------------------------------------


def test_naive_cache_keeps_the_value_read_before_the_write() -> None:
    race = replay_fill_invalidate_race("naive")
    assert race.fill_accepted
    assert race.database == "12.00"
    assert race.cached == "10.00"
    assert race.next_read == "10.00"  # every reader now gets the old price until the TTL


def test_add_instead_of_set_does_not_close_the_race() -> None:
    race = replay_fill_invalidate_race("add-only")
    assert race.fill_accepted  # the delete left the key absent, so ADD succeeds
    assert race.next_read == "10.00" != race.database


def test_versioned_fill_after_the_invalidation_is_refused() -> None:
    race = replay_fill_invalidate_race("versioned")
    assert not race.fill_accepted
    assert race.cached is None
    assert race.next_read == race.database == "12.00"
    # the replay really interleaved: the write happened between A's read and A's fill
    assert [s[:2] for s in race.steps] == ["1.", "2.", "3.", "4.", "5.", "6."]
    assert "v2" in race.steps[2] and "refused" in race.steps[4]


def test_the_floor_only_protects_fills_faster_than_its_lifetime() -> None:
    clock = Clock()
    store = VersionedStore(clock, floor_ttl_s=30.0)
    store.invalidate("k", 2)
    clock.now = 29.0
    assert not store.fill("k", entry(1))
    clock.now = 31.0  # a fill that took longer than the floor lives lands stale
    assert store.fill("k", entry(1))


def test_out_of_order_updates_cannot_roll_a_value_back() -> None:
    naive, versioned = NaiveStore(), VersionedStore(Clock())
    for store in (naive, versioned):
        store.fill("k", entry(3, "new"))
        store.fill("k", entry(2, "old"))  # a late update event, or a lagging replica's read
    assert naive.get("k").value == "old"
    assert versioned.get("k").value == "new"


def test_a_late_invalidation_leaves_a_newer_value_alone() -> None:
    store = VersionedStore(Clock())
    store.fill("k", entry(3))
    store.invalidate("k", 2)
    assert store.get("k").version == 3
    store.invalidate("k", 4)
    assert store.get("k") is None
    assert not store.fill("k", entry(3))  # a read from a replica still at v3


# --- dual writes, change-log invalidation, validated reads ------------------


def primed(source: Source, key: str) -> Cache:
    cache = Cache(source, VersionedStore(Clock()), clock=Clock(), beta=0.0)
    cache.get(key)
    return cache


def test_a_crash_between_commit_and_delete_leaves_the_cache_stale() -> None:
    source = Source()
    source.put("sku", "in stock")
    cache = primed(source, "sku")
    source.put("sku", "sold out")  # commit; the process dies before invalidating
    assert cache.get("sku") == "in stock"
    assert LogInvalidator(source, cache).poll() == 2  # the insert and the update
    assert cache.get("sku") == "sold out"


def test_a_validated_read_sees_what_invalidation_missed() -> None:
    source = Source()
    source.put("sku", "in stock")
    cache = primed(source, "sku")
    source.put("sku", "sold out")
    assert cache.get("sku") == "in stock"
    before = source.reads
    assert cache.get_validated("sku") == "sold out"
    assert source.reads == before + 1  # the version check is not a read; the refill is
    assert cache.get_validated("sku") == "sold out"
    assert source.reads == before + 1  # current version: served from the cache


def test_read_and_verify_finds_the_entry_invalidation_missed() -> None:
    source = Source()
    for key, value in (("a", "1"), ("b", "1"), ("c", "1")):
        source.put(key, value)
    cache = Cache(source, VersionedStore(Clock()), clock=Clock(), beta=0.0)
    for key in "abc":
        cache.get(key)
    cache.write("a", "2")  # invalidated properly
    source.put("b", "2")  # committed, never invalidated
    assert stale_keys(cache, list("abc")) == ["b"]


def test_a_negative_entry_hides_an_insert_until_it_is_invalidated() -> None:
    source = Source()
    cache = Cache(source, VersionedStore(Clock()), clock=Clock(), beta=0.0)
    assert cache.get("coupon") is None  # "not found" is cached for negative_ttl_s
    source.put("coupon", "SAVE10")  # inserted by a batch job that knows nothing of the cache
    assert cache.get("coupon") is None
    LogInvalidator(source, cache).poll()
    assert cache.get("coupon") == "SAVE10"


# --- stampedes ----------------------------------------------------------------


def test_concurrent_misses_each_read_the_source_without_coalescing() -> None:
    assert count_stampede_reads(50, coalesce=False) == 50


def test_single_flight_lets_one_of_fifty_misses_reach_the_source() -> None:
    assert count_stampede_reads(50, coalesce=True) == 1


def test_single_flight_gives_the_leader_error_to_waiters_and_caches_nothing() -> None:
    flight = SingleFlight()

    def failing() -> str:
        raise TimeoutError("source timed out")

    with pytest.raises(TimeoutError):
        flight.do("k", failing)
    assert flight.do("k", lambda: "ok") == "ok"  # the next caller tries again


# --- bulk invalidation --------------------------------------------------------


def test_a_generation_bump_retires_only_its_own_namespace() -> None:
    source, clock = Source(), Clock()
    store = VersionedStore(clock)
    prices = Cache(source, store, clock=clock, namespace="prices", beta=0.0)
    profiles = Cache(source, store, clock=clock, namespace="profiles", beta=0.0)
    source.put("a", "1")
    for cache in (prices, profiles):
        cache.get("a")
    source.put("a", "2")  # a bulk change the application did not invalidate key by key
    prices.bump_generation()
    before = source.reads
    assert prices.get("a") == "2"
    assert profiles.get("a") == "1"  # untouched, still within its own TTL
    assert source.reads == before + 1


def test_the_simulated_cache_starts_in_its_steady_state_not_freshly_filled() -> None:
    runs = {r.strategy: r for r in invalidation_runs()}
    w = Workload()
    expected_cached = sum(r * w.ttl_s / (1 + r * w.ttl_s) for r in w.read_rates())
    assert runs[FLUSH_NAIVE].cached_at_start == pytest.approx(expected_cached, rel=0.005)
    start = int(w.event_at_s)
    baseline = runs[FLUSH_NAIVE].reads_between(0, start) / start
    assert baseline == pytest.approx(w.steady_misses_per_s(), rel=0.3)  # about 15 a second
    assert baseline < 0.05 * w.db_capacity_per_s  # the database was sized with room to spare


def test_the_simulated_keys_use_the_ttl_their_class_budget_allows() -> None:
    w = Workload()
    assert w.ttl_s == DESCRIPTIONS.ttl_s
    assert w.ttl_s * (1 + JITTER) + RESERVE_S <= DESCRIPTIONS.budget_s


def test_a_mass_flush_overloads_the_database_and_stays_slow() -> None:
    runs = {r.strategy: r for r in invalidation_runs()}
    w = Workload()
    naive = runs[FLUSH_NAIVE]
    assert max(naive.reads_per_s) > 3 * w.db_capacity_per_s
    assert naive.slow_seconds() > 60  # p99 above 1 s for over a minute after a 1-instant event
    assert naive.p99_ms(30) > 10_000


def test_coalescing_removes_duplicate_reads_but_not_the_cold_misses() -> None:
    runs = {r.strategy: r for r in invalidation_runs()}
    w = Workload()
    start, end = int(w.event_at_s), w.duration_s
    naive, coalesced = runs[FLUSH_NAIVE], runs[FLUSH_COALESCED]
    assert naive.reads_between(start, end) > 1.4 * coalesced.reads_between(start, end)
    assert max(coalesced.reads_per_s) > 2 * w.db_capacity_per_s  # still an overload
    # the first second's reads are the distinct keys read in that second
    assert max(coalesced.reads_per_s) == pytest.approx(w.distinct_keys(1.0), rel=0.03)


def test_a_generation_bump_without_pacing_is_a_flush_by_another_name() -> None:
    runs = {r.strategy: r for r in invalidation_runs()}
    flush, bump = runs[FLUSH_COALESCED], runs[GENERATION_UNPACED]
    assert bump.reads_between(0, Workload().duration_s) == pytest.approx(
        flush.reads_between(0, Workload().duration_s), rel=0.001
    )


def test_the_pace_the_deadline_demands_fits_the_spare_capacity() -> None:
    w = Workload()
    assert w.rewarm_per_s == pytest.approx(w.distinct_keys(60.0) / 60.0)
    assert round(w.rewarm_per_s) == 676
    assert w.rewarm_per_s + w.steady_misses_per_s() < w.db_capacity_per_s


def test_paced_rewarm_keeps_the_database_under_capacity_and_ends_staleness_by_the_deadline() -> (
    None
):
    runs = {r.strategy: r for r in invalidation_runs()}
    w = Workload()
    start, end = int(w.event_at_s), w.duration_s
    paced = runs[GENERATION_PACED]
    assert max(paced.reads_per_s) < 0.75 * w.db_capacity_per_s
    assert paced.slow_seconds() == 0
    assert max(paced.p99_ms(s) for s in range(end)) < 50
    assert paced.stale_share(start, start + 10) > 0.3  # the price: old values at first
    assert 0 < paced.stale_until_s() <= w.event_at_s + w.deadline_s


def test_a_pace_below_n_over_d_is_still_serving_stale_values_at_the_deadline() -> None:
    w = Workload(pace_per_s=500.0)
    slow = simulate_invalidation(GENERATION_PACED, w)
    deadline = int(w.event_at_s + w.deadline_s)
    assert slow.stale_until_s() == deadline  # cut off by the deadline, not finished
    assert slow.stale_per_s[deadline - 1] > 0
    on_time = {r.strategy: r for r in invalidation_runs()}[GENERATION_PACED]
    assert on_time.stale_until_s() < deadline - 10  # n / D finished with time to spare


# --- expiry, XFetch and TTLs --------------------------------------------------


def test_plain_expiry_recomputes_once_per_reader_in_the_recompute_window() -> None:
    table = {(s.mode, s.readers_per_s): s for s in expiry_table()}
    for rate in (100.0, 1000.0):
        expected = 1 + rate * 0.1  # the fill lands after one recompute time of 0.1 s
        assert table[("plain", rate)].recomputes_per_window == pytest.approx(expected, rel=0.15)


def test_xfetch_keeps_recomputes_per_expiry_flat_as_readers_grow() -> None:
    table = {(s.mode, s.readers_per_s): s for s in expiry_table()}
    xfetch = [table[("xfetch", r)].recomputes_per_window for r in READER_RATES]
    assert all(1.0 <= x <= 3.0 for x in xfetch)  # theory at beta = 1: about e = 2.7
    assert all(table[("xfetch+single-flight", r)].recomputes_per_window == 1 for r in READER_RATES)
    early = [table[("xfetch+single-flight", r)].mean_early_s for r in READER_RATES]
    assert early == sorted(early) and early[-1] < 1.0  # earlier with more readers, but < 1 s


def test_every_expiry_mode_was_measured() -> None:
    assert {s.mode for s in expiry_table()} == set(EXPIRY_MODES)


def test_ttl_with_jitter_and_the_reserve_never_exceeds_the_staleness_budget() -> None:
    rng = random.Random(1)
    for data_class in DATA_CLASSES:
        worst = max(jittered_ttl(data_class.ttl_s, rng) for _ in range(1000))
        if data_class.budget_s == 0:
            assert data_class.read_path in {"validate", "bypass"}
        else:
            assert worst + RESERVE_S <= data_class.budget_s
    listing = next(d for d in DATA_CLASSES if d.budget_s == 60)
    assert listing.ttl_s == pytest.approx(50.0)  # (60 s - 5 s reserve) / 1.1


def test_jitter_spreads_expiries_of_keys_refilled_together() -> None:
    rng = random.Random(2)
    ttl = DESCRIPTIONS.ttl_s
    fills = [rng.uniform(0, 60) for _ in range(10_000)]  # keys re-read in the minute after a flush
    expiries = [f + jittered_ttl(ttl, rng) for f in fills]
    assert min(expiries) >= ttl * (1 - JITTER) and max(expiries) <= 60 + ttl * (1 + JITTER)
    assert max(expiries) - min(expiries) > 11 * 60  # spread over more than 11 minutes, not 1


# --- the figure -----------------------------------------------------------------


def test_the_numbers_the_figure_cites() -> None:
    curves = load_curves()
    w = Workload()
    start = int(w.event_at_s)

    def seconds_above_capacity(strategy: str) -> int:
        return sum(n > w.db_capacity_per_s for _, n, _ in curves[strategy])

    assert all(n < 40 for _, n, _ in curves[FLUSH_NAIVE][:start])
    assert max(n for _, n, _ in curves[FLUSH_NAIVE]) == 3585
    assert max(n for _, n, _ in curves[FLUSH_COALESCED]) == 2895
    assert (seconds_above_capacity(FLUSH_NAIVE), seconds_above_capacity(FLUSH_COALESCED)) == (
        25,
        12,
    )
    paced_reads = [n for _, n, _ in curves[GENERATION_PACED][start:]]
    assert max(paced_reads) == 709 and min(paced_reads[:30]) >= 680
    assert round(max(p for _, _, p in curves[FLUSH_NAIVE]) / 1000, 1) == 18.8
    assert round(max(p for _, _, p in curves[FLUSH_COALESCED]) / 1000, 1) == 6.7
    paced_p99 = [p for _, _, p in curves[GENERATION_PACED][start:]]
    assert max(paced_p99) == pytest.approx(20.0)  # one database read, no queueing
    assert curves[FLUSH_NAIVE][0][2] == pytest.approx(0.5)  # a cache hit before the event
    naive_p99 = [p for _, _, p in curves[FLUSH_NAIVE]]
    assert max(s for s, p in enumerate(naive_p99) if p > 1000) == 70  # over 1 s until t = 71 s


def test_the_figure_plots_the_tested_simulation() -> None:
    figure = draw("architecture/figures/flush-db-load.py")
    curves = load_curves()
    assert set(curves) == set(FIGURE_STRATEGIES)
    reads = {s: [(float(t), float(n)) for t, n, _ in points] for s, points in curves.items()}
    p99 = {s: [(float(t), p) for t, _, p in points] for s, points in curves.items()}
    assert lines(figure, axes=0) == reads
    assert lines(figure, axes=1) == p99
