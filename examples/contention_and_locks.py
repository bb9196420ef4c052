"""Reserving units of one hot SKU five ways, against a real PostgreSQL server.

Run it with a libpq connection string; it refuses to run without one:

    python -m examples.contention_and_locks "host=/tmp/pg user=postgres dbname=postgres"

Each strategy runs with 1, 4, 16 and 50 threads, each with its own connection,
until the 500 units are sold out. Every reservation does 2 ms of application work
(``WORK_S``: computing the decision in the application) between reading the stock
and writing it, which is the read-modify-write shape; the conditional UPDATE does
that work first, outside any lock, and then runs its one statement.
Then the demonstrations: two sessions interleaved by hand (a lost update, the
Repeatable Read error, the Read Committed re-check), lock_timeout and NOWAIT, a
deadlock and its fix, and a job queue claimed with SKIP LOCKED.

``--record DIR`` also writes the printout and the measured numbers to
``DIR/contention_and_locks.out`` and ``DIR/contention_and_locks.json``; the
figure is drawn from the JSON, so the site builds without a database.

psycopg is imported inside the functions that talk to the server, so the figure
can read the recorded JSON where psycopg is not installed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

STOCK = 500  # units of the hot SKU at the start of every run
WORK_S = 0.002  # application work between reading and writing, per reservation
WORKERS = (1, 4, 16, 50)
# A worker starts no new reservation once STOP_AT x STOCK have succeeded; those already
# in flight finish. Only the naive strategy, which sells units that do not exist, gets there.
STOP_AT = 2
RECORDED_JSON = Path(__file__).with_suffix(".json")

SCHEMA = """
DROP TABLE IF EXISTS inventory, jobs, accounts;
CREATE TABLE inventory (sku text PRIMARY KEY, stock int NOT NULL, version int NOT NULL);
CREATE TABLE jobs (id int PRIMARY KEY, state text NOT NULL DEFAULT 'queued',
                   runs int NOT NULL DEFAULT 0);
CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);
"""


class OutOfStock(Exception):
    """The reservation was refused: not enough units left."""


# --- the five strategies: reserve n units, return the number of retries ------------
# Each one records in `held` how long it held its lock: from the moment the locking
# statement returned to the moment COMMIT is sent. The server holds the lock a little
# longer than that, so 1 / held is an upper bound on the lock's throughput. Strategies
# without a lock record their read-to-write window instead (the conditional UPDATE: its
# one statement, waits included).


def reserve_naive(conn: psycopg.Connection, sku: str, n: int, held: list[float]) -> int:
    """Read, decide in the application, write the computed value: loses updates."""
    with conn.transaction():
        start = time.perf_counter()
        (stock,) = conn.execute("SELECT stock FROM inventory WHERE sku = %s", (sku,)).fetchone()
        if stock < n:
            raise OutOfStock
        time.sleep(WORK_S)
        conn.execute("UPDATE inventory SET stock = %s WHERE sku = %s", (stock - n, sku))
        held.append(time.perf_counter() - start)  # COMMIT is sent when the block ends
    return 0


def reserve_table_lock(conn: psycopg.Connection, sku: str, n: int, held: list[float]) -> int:
    """Lock the whole table against other writers, then read-modify-write."""
    with conn.transaction():
        conn.execute("LOCK TABLE inventory IN SHARE ROW EXCLUSIVE MODE")
        start = time.perf_counter()
        (stock,) = conn.execute("SELECT stock FROM inventory WHERE sku = %s", (sku,)).fetchone()
        if stock < n:
            raise OutOfStock
        time.sleep(WORK_S)
        conn.execute("UPDATE inventory SET stock = %s WHERE sku = %s", (stock - n, sku))
        held.append(time.perf_counter() - start)  # COMMIT is sent when the block ends
    return 0


def reserve_for_update(conn: psycopg.Connection, sku: str, n: int, held: list[float]) -> int:
    """Lock the one row with SELECT ... FOR UPDATE, then read-modify-write."""
    with conn.transaction():
        sql = "SELECT stock FROM inventory WHERE sku = %s FOR UPDATE"
        (stock,) = conn.execute(sql, (sku,)).fetchone()
        start = time.perf_counter()  # the row lock is ours from here to the end of COMMIT
        if stock < n:
            raise OutOfStock
        time.sleep(WORK_S)
        conn.execute("UPDATE inventory SET stock = %s WHERE sku = %s", (stock - n, sku))
        held.append(time.perf_counter() - start)  # COMMIT is sent when the block ends
    return 0


def reserve_conditional(conn: psycopg.Connection, sku: str, n: int, held: list[float]) -> int:
    """Do the work first, then one statement that checks and decrements atomically."""
    time.sleep(WORK_S)
    start = time.perf_counter()
    row = conn.execute(
        "UPDATE inventory SET stock = stock - %(n)s"
        " WHERE sku = %(sku)s AND stock >= %(n)s RETURNING stock",
        {"n": n, "sku": sku},
    ).fetchone()  # autocommit: the row lock lasts for this statement only
    held.append(time.perf_counter() - start)
    if row is None:
        raise OutOfStock
    return 0


def reserve_optimistic(conn: psycopg.Connection, sku: str, n: int, held: list[float]) -> int:
    """Read stock and version, work, write only if the version is unchanged; else retry."""
    retries = 0
    while True:
        start = time.perf_counter()
        stock, version = conn.execute(
            "SELECT stock, version FROM inventory WHERE sku = %s", (sku,)
        ).fetchone()
        if stock < n:
            raise OutOfStock
        time.sleep(WORK_S)
        updated = conn.execute(
            "UPDATE inventory SET stock = %s, version = version + 1"
            " WHERE sku = %s AND version = %s",
            (stock - n, sku, version),
        ).rowcount
        held.append(time.perf_counter() - start)
        if updated == 1:
            return retries
        retries += 1  # someone else wrote first: read again and redo the work


STRATEGIES: dict[str, Callable[[psycopg.Connection, str, int, list[float]], int]] = {
    "naive read-modify-write": reserve_naive,
    "LOCK TABLE": reserve_table_lock,
    "SELECT FOR UPDATE": reserve_for_update,
    "conditional UPDATE": reserve_conditional,
    "optimistic version": reserve_optimistic,
}


# --- running a strategy with concurrent workers -------------------------------------


@dataclass
class Run:
    """One strategy at one concurrency: what was sold and what it cost."""

    strategy: str
    workers: int
    sold: int  # reservations that returned success
    oversold: int  # units sold beyond the stock that existed: sold - stock
    lost_updates: int  # successful reservations the final stock does not reflect
    retries: int
    per_second: float  # sold / time from the start to the last successful sale
    # latency: one successful reservation, from its first statement to its commit,
    # including lock waits, retries and the application work
    latency_p99_ms: float
    latency_mean_ms: float
    hold_ms: float  # mean of `held`: lock held (or read-to-write window), see above


def percentile(values: list[float], q: float) -> float:
    """The q-th quantile of values by the nearest-rank method."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def connect(conninfo: str) -> psycopg.Connection:
    """An autocommit connection with a safety-net statement timeout."""
    import psycopg

    conn = psycopg.connect(conninfo, autocommit=True)
    conn.execute("SET statement_timeout = '10s'")
    return conn


@contextmanager
def connections(conninfo: str, count: int) -> Iterator[list[psycopg.Connection]]:
    """``count`` connections, opened once and shared by the strategies."""
    opened = [connect(conninfo) for _ in range(count)]
    try:
        yield opened
    finally:
        for conn in opened:
            conn.close()


def setup(conninfo: str) -> None:
    """Create the example's tables, dropping earlier copies."""
    with connect(conninfo) as conn:
        conn.execute(SCHEMA)


def run_strategy(
    name: str, conns: list[psycopg.Connection], sku: str = "hot-sku", stock: int = STOCK
) -> Run:
    """Let every connection reserve 1 unit at a time until the strategy refuses."""
    reserve = STRATEGIES[name]
    conns[0].execute("DELETE FROM inventory")
    conns[0].execute("INSERT INTO inventory VALUES (%s, %s, 0)", (sku, stock))
    latencies: list[float] = []
    held: list[float] = []
    retries: list[int] = []
    began = [0.0]  # set when every worker is ready, so thread start-up is not counted
    last_sale = [0.0]
    start_line = threading.Barrier(
        len(conns), action=lambda: began.__setitem__(0, time.perf_counter())
    )

    def worker(conn: psycopg.Connection) -> None:
        start_line.wait()
        while True:
            attempt = time.perf_counter()
            try:
                retries.append(reserve(conn, sku, 1, held))
            except OutOfStock:
                return
            finished = time.perf_counter()
            latencies.append(finished - attempt)
            last_sale[0] = max(last_sale[0], finished)
            if len(latencies) >= STOP_AT * stock:  # only a broken strategy gets here
                return

    threads = [threading.Thread(target=worker, args=(c,)) for c in conns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = last_sale[0] - began[0]  # refusals after the stock ran out are not counted
    (left,) = conns[0].execute("SELECT stock FROM inventory WHERE sku = %s", (sku,)).fetchone()
    sold = len(latencies)
    return Run(
        strategy=name,
        workers=len(conns),
        sold=sold,
        oversold=max(0, sold - stock),
        lost_updates=sold - (stock - left),
        retries=sum(retries),
        per_second=round(sold / elapsed, 1),
        latency_p99_ms=round(percentile(latencies, 0.99) * 1000, 2),
        latency_mean_ms=round(sum(latencies) / sold * 1000, 2),
        hold_ms=round(sum(held) / len(held) * 1000, 2),
    )


def lock_waits(conninfo: str, name: str, workers: int) -> dict[str, int]:
    """Run a strategy and sample pg_stat_activity and pg_locks while it runs.

    Returns the largest sample: sessions waiting on a heavyweight lock, by
    wait_event, and lock requests in pg_locks that are not granted, in total
    and by "locktype mode" as pg_locks names them. The two views are read one
    after the other, so a wait can begin between them; samples in which both
    saw it come first.
    """
    with connections(conninfo, workers) as conns, connect(conninfo) as monitor:
        done = threading.Event()
        samples: list[dict[str, int]] = []

        def sample() -> None:
            while not done.is_set():
                rows = monitor.execute(
                    "SELECT wait_event, count(*) FROM pg_stat_activity"
                    " WHERE wait_event_type = 'Lock' AND datname = current_database()"
                    " GROUP BY wait_event"
                ).fetchall()
                modes = monitor.execute(
                    "SELECT locktype || ' ' || mode, count(*) FROM pg_locks"
                    " WHERE NOT granted GROUP BY 1 ORDER BY 1 DESC"
                ).fetchall()
                found = {"transactionid": 0, "tuple": 0, **dict(rows)}
                ungranted = sum(count for _, count in modes)
                samples.append({**found, "not_granted": ungranted, **dict(modes)})
                time.sleep(0.02)

        watcher = threading.Thread(target=sample)
        watcher.start()
        try:
            run_strategy(name, conns)
        finally:
            done.set()
            watcher.join()

    def seen_by_both(s: dict[str, int]) -> bool:
        return s["not_granted"] > 0 and s["transactionid"] + s["tuple"] > 0

    return max(samples, key=lambda s: (seen_by_both(s), s["not_granted"]))


# --- two sessions interleaved by hand ---------------------------------------------


@dataclass
class Interleaving:
    """Two reservations of 1 unit, both read before either writes."""

    read_committed_stock: int  # stock left after both naive reservations committed
    repeatable_read_error: str  # SQLSTATE the second naive writer got
    recheck_rows: int  # rows the blocked conditional UPDATE changed after the re-check
    recheck_wait_ms: float  # how long it waited for the first session's row lock


def interleave(conninfo: str, stock: int = 10) -> Interleaving:
    """Replay the lost update, the Repeatable Read error and the Read Committed re-check."""
    import psycopg

    read = "SELECT stock FROM inventory WHERE sku = 'sku'"
    write = "UPDATE inventory SET stock = %s WHERE sku = 'sku'"
    with connect(conninfo) as a, connect(conninfo) as b:

        def reset(units: int) -> None:
            a.execute("DELETE FROM inventory")
            a.execute("INSERT INTO inventory VALUES ('sku', %s, 0)", (units,))

        # Read Committed: both read 10, both write 9; one reservation vanishes.
        reset(stock)
        a.execute("BEGIN")
        b.execute("BEGIN")
        (seen_a,) = a.execute(read).fetchone()
        (seen_b,) = b.execute(read).fetchone()
        a.execute(write, (seen_a - 1,))
        a.execute("COMMIT")
        b.execute(write, (seen_b - 1,))
        b.execute("COMMIT")
        (after_read_committed,) = a.execute(read).fetchone()

        # Repeatable Read: the second writer is refused instead of overwriting.
        reset(stock)
        a.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        b.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        (seen_a,) = a.execute(read).fetchone()
        (seen_b,) = b.execute(read).fetchone()
        a.execute(write, (seen_a - 1,))
        a.execute("COMMIT")
        try:
            b.execute(write, (seen_b - 1,))
            refused = "none"
        except psycopg.errors.SerializationFailure as exc:
            refused = exc.sqlstate or "?"
        b.execute("ROLLBACK")

        # Conditional UPDATE on the last unit: b waits for a's row lock, then re-checks.
        reset(1)
        conditional = "UPDATE inventory SET stock = stock - 1 WHERE sku = 'sku' AND stock >= 1"
        a.execute("BEGIN")
        a.execute(conditional)
        outcome: dict[str, float] = {}

        def blocked() -> None:
            began = time.perf_counter()
            outcome["rows"] = b.execute(conditional).rowcount
            outcome["waited"] = time.perf_counter() - began

        second = threading.Thread(target=blocked)
        second.start()
        time.sleep(0.2)  # b is now queued behind a's row lock
        a.execute("COMMIT")
        second.join()
    return Interleaving(
        read_committed_stock=after_read_committed,
        repeatable_read_error=refused,
        recheck_rows=int(outcome["rows"]),
        recheck_wait_ms=round(outcome["waited"] * 1000, 1),
    )


# --- waiting with a bound: lock_timeout and NOWAIT ----------------------------------


@dataclass
class BoundedWait:
    """What a second session gets while the first holds the row."""

    lock_timeout_error: str
    lock_timeout_ms: float
    nowait_error: str
    nowait_ms: float


def bounded_waits(conninfo: str, lock_timeout_ms: int = 100) -> BoundedWait:
    """Hold a row lock in one session; wait for it with lock_timeout, then with NOWAIT."""
    import psycopg

    with connect(conninfo) as holder, connect(conninfo) as waiter:
        holder.execute("DELETE FROM inventory")
        holder.execute("INSERT INTO inventory VALUES ('sku', 10, 0)")
        holder.execute("BEGIN")
        holder.execute("SELECT stock FROM inventory WHERE sku = 'sku' FOR UPDATE")
        results = []
        for sql, setting in (
            ("SELECT stock FROM inventory WHERE sku = 'sku' FOR UPDATE", lock_timeout_ms),
            ("SELECT stock FROM inventory WHERE sku = 'sku' FOR UPDATE NOWAIT", 0),
        ):
            waiter.execute("BEGIN")
            waiter.execute(f"SET LOCAL lock_timeout = {int(setting)}")
            began = time.perf_counter()
            try:
                waiter.execute(sql)
                error = "none"
            except psycopg.errors.LockNotAvailable as exc:
                error = exc.sqlstate or "?"
            results.append((error, round((time.perf_counter() - began) * 1000, 1)))
            waiter.execute("ROLLBACK")
        holder.execute("ROLLBACK")
    (timeout_error, timeout_ms), (nowait_error, nowait_ms) = results
    return BoundedWait(timeout_error, timeout_ms, nowait_error, nowait_ms)


# --- deadlocks: opposite order, consistent order ------------------------------------


@dataclass
class DeadlockOutcome:
    """Two transfers between accounts 1 and 2, run at the same time."""

    errors: list[str]  # SQLSTATEs raised, one per aborted attempt
    committed: int  # transactions that committed, retries included
    first_error_ms: float | None  # time from start to the deadlock error


def lock_in_order(conn: psycopg.Connection, ids: list[int]) -> None:
    """Lock these accounts' rows in ascending id order, whatever order ``ids`` is in.

    LockRows runs above the sort, so rows are locked in ORDER BY order. An
    UPDATE ... WHERE id = ANY(...) locks in whatever order its plan visits rows.
    """
    conn.execute("SELECT id FROM accounts WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (ids,))


def transfer_pair(
    conninfo: str, consistent: bool, deadlock_timeout_ms: int = 100, attempts: int = 3
) -> DeadlockOutcome:
    """Move 1 from account 1 to 2 and 1 from 2 to 1 concurrently; retry a deadlock.

    With ``consistent`` each transaction first locks both rows in id order with
    SELECT ... ORDER BY id FOR UPDATE, whatever the direction; otherwise each
    locks its source account first, by updating it, and waits until the other
    has locked its own source, so the two always meet. A transaction aborted
    by a deadlock backs off before it retries, as a caller should: retrying at
    once can race the survivor for the freed row and deadlock again.
    """
    import psycopg

    with connect(conninfo) as setup_conn:
        setup_conn.execute("DELETE FROM accounts")
        setup_conn.execute("INSERT INTO accounts VALUES (1, 100), (2, 100)")
    locked = {1: threading.Event(), 2: threading.Event()}
    errors: list[str] = []
    committed: list[int] = []
    error_at: list[float] = []
    began = time.perf_counter()

    def transfer(source: int, target: int) -> None:
        other = target
        with connect(conninfo) as conn:
            conn.execute(f"SET deadlock_timeout = {int(deadlock_timeout_ms)}")
            for attempt in range(attempts):
                try:
                    with conn.transaction():
                        if consistent:
                            lock_in_order(conn, [source, target])
                        for position, account in enumerate((source, target)):
                            delta = -1 if account == source else 1
                            conn.execute(
                                "UPDATE accounts SET balance = balance + %s WHERE id = %s",
                                (delta, account),
                            )
                            if position == 0 and attempt == 0:
                                locked[source].set()
                                # In opposite order, wait for the other's first lock, so
                                # they meet; in id order the other cannot take one, so
                                # wait only long enough to show that it does not.
                                locked[other].wait(timeout=0.3 if consistent else 10)
                    committed.append(source)
                    return
                except psycopg.errors.DeadlockDetected as exc:
                    errors.append(exc.sqlstate or "?")
                    error_at.append(time.perf_counter() - began)
                    time.sleep(0.05 * (attempt + 1))  # back off; the survivor finishes

    threads = [threading.Thread(target=transfer, args=pair) for pair in ((1, 2), (2, 1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return DeadlockOutcome(
        errors=errors,
        committed=len(committed),
        first_error_ms=round(min(error_at) * 1000, 1) if error_at else None,
    )


def deadlock_summary(errors: list[str]) -> str:
    """'none', or how many deadlock errors and their SQLSTATEs: '1 (40P01)'."""
    return f"{len(errors)} ({', '.join(sorted(set(errors)))})" if errors else "none"


# --- a job queue claimed by several workers -----------------------------------------


@dataclass
class QueueRun:
    """How often each job ran when ``workers`` workers drained the queue."""

    jobs: int
    workers: int
    runs: int  # job executions in total
    duplicates: int  # executions beyond one per job
    never_ran: int


def drain_queue(conninfo: str, skip_locked: bool, jobs: int = 120, workers: int = 8) -> QueueRun:
    """Workers claim the oldest queued job, work 1 ms, mark it done, until none is left."""
    claim = "SELECT id FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1"
    if skip_locked:
        claim += " FOR UPDATE SKIP LOCKED"
    with connect(conninfo) as conn:
        conn.execute("DELETE FROM jobs")
        conn.execute("INSERT INTO jobs (id) SELECT generate_series(1, %s)", (jobs,))
    with connections(conninfo, workers) as conns:

        def worker(conn: psycopg.Connection) -> None:
            while True:
                with conn.transaction():
                    row = conn.execute(claim).fetchone()
                    if row is None:
                        return
                    time.sleep(0.001)  # the job's work
                    conn.execute(
                        "UPDATE jobs SET state = 'done', runs = runs + 1 WHERE id = %s", row
                    )

        threads = [threading.Thread(target=worker, args=(c,)) for c in conns]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        runs, never = (
            conns[0]
            .execute("SELECT sum(runs), count(*) FILTER (WHERE runs = 0) FROM jobs")
            .fetchone()
        )
    return QueueRun(jobs, workers, int(runs), int(runs) - (jobs - never), int(never))


# --- the benchmark, the recorded data and the printout -------------------------------


def benchmark(conninfo: str, workers: tuple[int, ...] = WORKERS, stock: int = STOCK) -> list[Run]:
    """Every strategy at every concurrency, reusing one set of connections per level."""
    runs = []
    for count in workers:
        with connections(conninfo, count) as conns:
            runs.extend(run_strategy(name, conns, stock=stock) for name in STRATEGIES)
    return runs


def recorded_throughput(path: Path = RECORDED_JSON) -> dict[str, list[tuple[int, float]]]:
    """Reservations per second by strategy, as (workers, per second), from the recording."""
    data = json.loads(path.read_text(encoding="utf-8"))
    curves: dict[str, list[tuple[int, float]]] = {}
    for run in data["runs"]:
        curves.setdefault(run["strategy"], []).append((run["workers"], run["per_second"]))
    return curves


def recorded_runs(path: Path = RECORDED_JSON) -> list[Run]:
    """The recorded benchmark rows."""
    return [Run(**run) for run in json.loads(path.read_text(encoding="utf-8"))["runs"]]


def demonstrate(conninfo: str, stock: int = STOCK) -> tuple[list[str], dict]:
    """Run everything; return the printout's lines and the data the figure is drawn from.

    ``stock`` sets the units each benchmark run sells; the recording uses ``STOCK``.
    """
    setup(conninfo)
    out: list[str] = []
    with connect(conninfo) as conn:
        (version,) = conn.execute("SHOW server_version").fetchone()
    major = version.split()[0]
    out.append(f"PostgreSQL {major}, {os.cpu_count()} CPU cores; {stock} units of one SKU,")
    out.append(f"1 unit per reservation, {WORK_S * 1000:.0f} ms of work per reservation")
    out.append("")
    out.append(
        f"{'strategy':<24}{'workers':>8}{'sold':>6}{'lost':>6}"
        f"{'retries':>8}{'per s':>7}{'mean ms':>8}{'p99 ms':>8}{'hold ms':>8}"
    )
    runs = benchmark(conninfo, stock=stock)
    for r in runs:
        out.append(
            f"{r.strategy:<24}{r.workers:>8}{r.sold:>6}{r.lost_updates:>6}"
            f"{r.retries:>8}{r.per_second:>7.0f}{r.latency_mean_ms:>8.1f}"
            f"{r.latency_p99_ms:>8.1f}{r.hold_ms:>8.2f}"
        )
    waits = lock_waits(conninfo, "SELECT FOR UPDATE", 16)
    out.append("")
    out.append("while 16 workers ran SELECT FOR UPDATE (largest of the samples):")
    out.append(
        f"  pg_stat_activity wait_event_type 'Lock': transactionid {waits['transactionid']},"
        f" tuple {waits['tuple']}"
    )
    out.append(f"  pg_locks rows with granted = false: {waits['not_granted']}")
    for key in sorted(k for k in waits if " " in k):
        out.append(f"    locktype, mode = {key.replace(' ', ', ')}: {waits[key]}")

    mixed = interleave(conninfo)
    out.append("")
    out.append("two sessions, both read stock 10 before either writes 1 unit:")
    out.append(
        f"  read-modify-write, READ COMMITTED: stock {mixed.read_committed_stock} (one lost)"
    )
    out.append(
        f"  read-modify-write, REPEATABLE READ: second writer gets SQLSTATE"
        f" {mixed.repeatable_read_error}"
    )
    out.append(
        f"  conditional UPDATE on the last unit: waited {mixed.recheck_wait_ms:.0f} ms,"
        f" re-checked, updated {mixed.recheck_rows} rows"
    )

    bounded = bounded_waits(conninfo)
    out.append("")
    out.append("a second session asks for a row another transaction holds:")
    out.append(
        f"  lock_timeout = 100ms: SQLSTATE {bounded.lock_timeout_error}"
        f" after {bounded.lock_timeout_ms:.0f} ms"
    )
    out.append(
        f"  FOR UPDATE NOWAIT:   SQLSTATE {bounded.nowait_error} after {bounded.nowait_ms:.0f} ms"
    )

    out.append("")
    out.append("two transfers between accounts 1 and 2 at once (deadlock_timeout = 100ms):")
    for label, consistent in (("opposite order", False), ("ORDER BY id", True)):
        d = transfer_pair(conninfo, consistent)
        out.append(
            f"  {label:<15}: deadlock errors {deadlock_summary(d.errors)};"
            f" {len(d.errors)} retried, {d.committed} of 2 committed"
        )

    out.append("")
    out.append("8 workers drain 120 queued jobs:")
    for label, skip in (
        ("claim without a lock", False),
        ("claim FOR UPDATE SKIP LOCKED", True),
    ):
        q = drain_queue(conninfo, skip_locked=skip)
        out.append(
            f"  {label:<30}: {q.runs} runs, {q.duplicates} duplicates, {q.never_ran} never ran"
        )
    data = {
        "recorded": {
            "postgres": major,
            "cpu_cores": os.cpu_count(),
            "python": platform.python_version(),
            "stock": stock,
            "work_ms": WORK_S * 1000,
        },
        "runs": [asdict(r) for r in runs],
    }
    return out, data


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("conninfo", help="libpq connection string of a throwaway database")
    parser.add_argument("--record", type=Path, metavar="DIR", help="also write .out and .json")
    parser.add_argument(
        "--stock",
        type=int,
        default=STOCK,
        help=f"units each benchmark run sells (default {STOCK}, as the article's recording)",
    )
    args = parser.parse_args(argv)
    lines, data = demonstrate(args.conninfo, args.stock)
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.record:
        args.record.mkdir(parents=True, exist_ok=True)
        (args.record / "contention_and_locks.out").write_text(text, encoding="utf-8")
        (args.record / "contention_and_locks.json").write_text(
            json.dumps(data, indent=1) + "\n", encoding="utf-8"
        )


if __name__ == "__main__":
    main()
