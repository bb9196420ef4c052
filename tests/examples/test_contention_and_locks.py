"""The claims of 'Organizing contention instead of spreading locks', against a real PostgreSQL.

The ``postgres`` fixture (tests/examples/conftest.py) starts a throwaway server.
Nothing here asserts a time or an ordering of throughputs measured now: those
depend on the machine. The last tests read the recorded run the figure draws.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from examples.contention_and_locks import (
    STOP_AT,
    STRATEGIES,
    WORKERS,
    bounded_waits,
    connect,
    connections,
    drain_queue,
    interleave,
    lock_waits,
    recorded_runs,
    recorded_throughput,
    run_strategy,
    setup,
    transfer_pair,
)
from tests.figures import draw, lines
from tests.shared import ROOT

NAIVE = "naive read-modify-write"
SAFE = [name for name in STRATEGIES if name != NAIVE]
STOCK = 40


@pytest.fixture(scope="module")
def db(postgres: str) -> Iterator[str]:
    setup(postgres)
    yield postgres


def test_refuses_to_run_without_a_connection_string() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "examples.contention_and_locks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode != 0
    assert "conninfo" in done.stderr
    assert done.stdout == ""


def test_naive_read_modify_write_is_correct_with_one_worker(db: str) -> None:
    # Why it survives review and tests: alone, it never loses an update.
    with connections(db, 1) as conns:
        run = run_strategy(NAIVE, conns, stock=STOCK)
    assert (run.sold, run.oversold, run.lost_updates) == (STOCK, 0, 0)


def test_naive_read_modify_write_oversells_under_concurrency(db: str) -> None:
    with connections(db, 8) as conns:
        run = run_strategy(NAIVE, conns, stock=STOCK)
    assert run.lost_updates > 0
    assert run.oversold > 0


@pytest.mark.parametrize("name", SAFE)
def test_every_other_strategy_sells_exactly_the_stock(db: str, name: str) -> None:
    with connections(db, 8) as conns:
        run = run_strategy(name, conns, stock=STOCK)
    assert (run.sold, run.oversold, run.lost_updates) == (STOCK, 0, 0)


def test_optimistic_version_check_retries_under_contention(db: str) -> None:
    with connections(db, 8) as conns:
        run = run_strategy("optimistic version", conns, stock=STOCK)
    assert run.retries > 0


def blocked_second_writer(db: str, first: str, second: str) -> tuple[int, int]:
    """Session a runs ``first`` and holds its row lock; b runs ``second``; a commits.

    Returns the rows b's statement changed and the stock left. Both sessions
    read version 0 before a writes, as two concurrent requests would.
    """
    with connect(db) as a, connect(db) as b:
        a.execute("DELETE FROM inventory")
        a.execute("INSERT INTO inventory VALUES ('sku', 10, 0)")
        a.execute("BEGIN")
        a.execute(first)
        result: dict[str, int] = {}
        waiting = threading.Thread(target=lambda: result.update(rows=b.execute(second).rowcount))
        waiting.start()
        time.sleep(0.2)
        a.execute("COMMIT")
        waiting.join()
        (stock,) = a.execute("SELECT stock FROM inventory").fetchone()
    return result["rows"], stock


CONDITIONAL = "UPDATE inventory SET stock = stock - 1 WHERE sku = 'sku' AND stock >= 1"
VERSIONED = (
    "UPDATE inventory SET stock = 9, version = version + 1 WHERE sku = 'sku' AND version = 0"
)


def test_conditional_update_waits_rechecks_and_succeeds_without_a_retry(db: str) -> None:
    assert blocked_second_writer(db, CONDITIONAL, CONDITIONAL) == (1, 8)


def test_versioned_update_in_the_same_race_must_retry(db: str) -> None:
    # The same interleaving with a version check: b's write is refused (0 rows).
    assert blocked_second_writer(db, VERSIONED, VERSIONED) == (0, 9)


def test_interleavings_lose_refuse_or_recheck(db: str) -> None:
    mixed = interleave(db)
    assert mixed.read_committed_stock == 9  # two reservations, one decrement
    assert mixed.repeatable_read_error == "40001"  # serialization failure: retry
    assert mixed.recheck_rows == 0  # the last unit is not sold twice


def test_lock_timeout_and_nowait_turn_a_wait_into_an_error(db: str) -> None:
    bounded = bounded_waits(db)
    assert bounded.lock_timeout_error == "55P03"
    assert bounded.nowait_error == "55P03"


def test_opposite_lock_order_deadlocks_and_a_retry_completes_it(db: str) -> None:
    outcome = transfer_pair(db, consistent=False)
    assert outcome.errors, "the opposite-order transfers met and neither was aborted"
    assert set(outcome.errors) == {"40P01"}
    assert outcome.committed == 2
    with connect(db) as conn:
        balances = conn.execute("SELECT balance FROM accounts ORDER BY id").fetchall()
    assert balances == [(100,), (100,)]


def test_consistent_lock_order_never_deadlocks(db: str) -> None:
    outcome = transfer_pair(db, consistent=True)
    assert outcome.errors == []
    assert outcome.committed == 2


def test_skip_locked_runs_each_job_exactly_once(db: str) -> None:
    run = drain_queue(db, skip_locked=True, jobs=60, workers=6)
    assert (run.runs, run.duplicates, run.never_ran) == (60, 0, 0)


def test_claiming_without_a_lock_runs_jobs_twice(db: str) -> None:
    run = drain_queue(db, skip_locked=False, jobs=60, workers=6)
    assert run.duplicates > 0


def test_row_lock_waits_show_in_pg_stat_activity_and_pg_locks(db: str) -> None:
    waits = lock_waits(db, "SELECT FOR UPDATE", 8)
    assert waits["not_granted"] > 0
    assert waits["transactionid"] + waits["tuple"] > 0
    # As pg_locks names them: the first waiter waits for the holder's transaction id,
    # the rest queue for the row version's tuple lock (FOR UPDATE: AccessExclusiveLock).
    modes = {key for key in waits if " " in key}
    assert modes <= {"transactionid ShareLock", "tuple AccessExclusiveLock"}
    assert waits["not_granted"] == sum(waits[key] for key in modes)


# --- the recorded run the article and the figure use ---------------------------------


def test_recorded_run_supports_the_article() -> None:
    runs = {(r.strategy, r.workers): r for r in recorded_runs()}
    stock = runs[("SELECT FOR UPDATE", 1)].sold
    for (strategy, workers), run in runs.items():
        if strategy == NAIVE and workers > 1:
            assert run.oversold > 0 and run.lost_updates > 0
            # the cap: no new reservation after STOP_AT x stock, in-flight ones finish
            assert run.sold <= STOP_AT * stock + workers - 1
        else:
            assert (run.sold, run.oversold, run.lost_updates) == (stock, 0, 0)
        if strategy != "optimistic version":
            assert run.retries == 0
    assert all(runs[("optimistic version", w)].retries > 0 for w in (4, 16, 50))
    for strategy in ("SELECT FOR UPDATE", "LOCK TABLE"):
        for workers in WORKERS:
            run = runs[(strategy, workers)]
            # The measured hold is a lower bound on the server's, so the lock was busy
            # rate x hold of the time: never more than all of it.
            assert run.per_second * run.hold_ms / 1000 <= 1
            if workers >= 16:
                # Little's law with everyone queued: mean latency close to workers / rate.
                assert run.latency_mean_ms == pytest.approx(
                    1000 * workers / run.per_second, rel=0.25
                )
    # Locks stay under one over the hold time, however many workers wait ...
    ceiling = 1000 / runs[("SELECT FOR UPDATE", 1)].hold_ms
    for strategy in ("SELECT FOR UPDATE", "LOCK TABLE"):
        assert all(runs[(strategy, w)].per_second < ceiling for w in WORKERS)
    # ... while the conditional UPDATE, which holds its lock for one statement, passes it.
    conditional = [runs[("conditional UPDATE", w)].per_second for w in (4, 16, 50)]
    assert min(conditional) > ceiling and max(conditional) > 3 * ceiling
    assert runs[("optimistic version", 50)].per_second < runs[("optimistic version", 4)].per_second


def test_the_figure_plots_the_recorded_run() -> None:
    figure = draw("architecture/figures/contention-throughput.py")
    recorded = recorded_throughput()
    expected = {
        name: [(float(w), float(rate)) for w, rate in recorded[name]]
        for name in ("conditional UPDATE", "SELECT FOR UPDATE", "LOCK TABLE", "optimistic version")
    }
    assert lines(figure) == expected
    ceilings = {
        ln.get_label(): list(zip(ln.get_xdata(), ln.get_ydata(), strict=True))
        for ln in figure.axes[0].get_lines()
        if ln.get_label().startswith("_1/hold")
    }
    for strategy in ("SELECT FOR UPDATE", "LOCK TABLE"):
        holds = [(r.workers, r.hold_ms) for r in recorded_runs() if r.strategy == strategy]
        plotted = ceilings[f"_1/hold {strategy}"]
        assert [w for w, _ in plotted] == [w for w, _ in holds]
        assert [c for _, c in plotted] == pytest.approx([1000 / h for _, h in holds])
