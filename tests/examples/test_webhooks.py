"""The claims of docs/apis/webhooks.md, checked against the worked example.

Deliveries go over real HTTP to a server on 127.0.0.1, are verified with real
HMAC-SHA256, and land in a real SQLite inbox.
"""

from __future__ import annotations

import base64
import http.client
import itertools
import json
import random
import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from examples.webhooks import (
    EVENTS,
    JITTER,
    MAX_BODY_BYTES,
    MAX_PROCESSING_ATTEMPTS,
    RETRY_AFTER_S,
    RETRY_DELAYS_S,
    SENDER_TIMEOUT_S,
    TOLERANCE_S,
    Attempt,
    Clock,
    Event,
    Faults,
    Receiver,
    Rejected,
    Run,
    Sender,
    Worker,
    apply_change,
    connect,
    delivery_timeline,
    destination_problem,
    inbox_lag,
    make_secret,
    reconcile,
    retry_delay,
    run_scenario,
    secret_key,
    sequence_arrows,
    serve,
    signature_header,
    verify,
)
from tests.figures import draw, lines

OLD, NEW = make_secret("old"), make_secret("new")
V3 = Event("evt_9", "sub_1", 3, "canceled")
V1 = Event("evt_8", "sub_1", 1, "active")


@dataclass
class Endpoint:
    """A live receiver on 127.0.0.1 with its worker, clock and database."""

    receiver: Receiver
    worker: Worker
    clock: Clock
    address: tuple[str, int]
    db: Path

    def sender(self, secrets: list[str]) -> Sender:
        return Sender(self.address, secrets, self.clock)

    def post_raw(self, body: bytes, headers: dict[str, str]) -> int:
        """POST exactly these bytes and headers, as a replaying attacker would."""
        return self.post_answer(body, headers)[0]

    def post_answer(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
        """POST and return the status code and the response headers."""
        connection = http.client.HTTPConnection(*self.address, timeout=5)
        try:
            connection.request("POST", "/webhooks", body=body, headers=headers)
            response = connection.getresponse()
            return response.status, dict(response.getheaders())
        finally:
            connection.close()

    def rows(self, sql: str) -> list[tuple]:
        with closing(connect(self.db)) as conn:
            return conn.execute(sql).fetchall()


@contextmanager
def endpoint(tmp_path: Path, secrets: dict[str, str]) -> Iterator[Endpoint]:
    clock, db = Clock(), tmp_path / "inbox.sqlite3"
    receiver = Receiver(db, secrets, clock)
    with serve(receiver.handle, Faults()) as address:
        yield Endpoint(receiver, Worker(db), clock, address, db)


def outcomes(attempts: list[Attempt]) -> list[str]:
    return [a.outcome for a in attempts]


# --------------------------------------------------------------------------
# Duplicates and disorder
# --------------------------------------------------------------------------


def test_a_duplicate_delivery_is_stored_once_and_applied_once(tmp_path: Path) -> None:
    with endpoint(tmp_path, {"current": OLD}) as ep:
        sender = ep.sender([OLD])
        first = sender.attempt(V3, 1, 0.0, Faults())
        again = sender.attempt(V3, 2, 30.0, Faults())  # a retry: same webhook-id, new timestamp
        assert (first.outcome, again.outcome) == ("202", "200")
        assert ep.worker.drain() == [("evt_9", "applied")]
        assert ep.worker.drain() == []
        assert ep.rows("SELECT COUNT(*) FROM webhook_inbox") == [(1,)]
        assert ep.rows("SELECT kind FROM outbox") == [("cancellation",)]
        assert ep.receiver.metrics["duplicates"] == 1


def test_an_older_version_arriving_last_is_ignored(tmp_path: Path) -> None:
    with endpoint(tmp_path, {"current": OLD}) as ep:
        sender = ep.sender([OLD])
        assert outcomes([sender.attempt(V3, 1, 0.0, Faults())]) == ["202"]
        assert ep.worker.drain() == [("evt_9", "applied")]
        assert outcomes([sender.attempt(V1, 1, 5.0, Faults())]) == ["202"]
        assert ep.worker.drain() == [("evt_8", "stale")]
        assert ep.rows("SELECT status, version FROM subscription") == [("canceled", 3)]


def test_processing_order_does_not_change_the_result(tmp_path: Path) -> None:
    changes = [("sub_1", "active", 1), ("sub_1", "past_due", 2), ("sub_1", "canceled", 3)]
    finals = set()
    for n, order in enumerate(itertools.permutations(changes)):
        db = tmp_path / f"{n}.sqlite3"
        Receiver(db, {}, Clock())
        with closing(connect(db)) as conn:
            for change in order:
                with conn:
                    apply_change(conn, *change, cause="test")
            finals.add(conn.execute("SELECT status, version FROM subscription").fetchone())
            emails = [kind for (kind,) in conn.execute("SELECT kind FROM outbox")]
        # the newest state's email goes out once in every order; a notice about a
        # state that was already superseded when it arrived (v2 after v3) is skipped
        v2_before_v3 = order.index(changes[1]) < order.index(changes[2])
        assert sorted(emails) == (
            ["cancellation", "payment-failed"] if v2_before_v3 else ["cancellation"]
        )
    assert finals == {("canceled", 3)}


def test_two_event_ids_for_one_change_cause_one_side_effect(tmp_path: Path) -> None:
    with endpoint(tmp_path, {"current": OLD}) as ep:
        sender = ep.sender([OLD])
        twin = Event("evt_other", V3.resource_id, V3.version, V3.status)
        sender.attempt(V3, 1, 0.0, Faults())
        sender.attempt(twin, 1, 1.0, Faults())
        assert ep.worker.drain() == [("evt_9", "applied"), ("evt_other", "stale")]
        assert ep.rows("SELECT COUNT(*) FROM outbox") == [(1,)]


# --------------------------------------------------------------------------
# Authenticity
# --------------------------------------------------------------------------


def test_a_tampered_body_is_rejected_and_not_stored(tmp_path: Path) -> None:
    with endpoint(tmp_path, {"current": OLD}) as ep:
        body = V3.body()
        headers = ep.sender([OLD]).headers(V3, body)
        tampered = body.replace(b'"version":3', b'"version":4')
        assert len(tampered) == len(body) and tampered != body
        assert ep.post_raw(tampered, headers) == 401
        assert ep.post_raw(body, headers) == 202  # the genuine bytes still pass
        assert ep.receiver.metrics["signature_failures{endpoint=ep_42,reason=bad-signature}"] == 1
        assert ep.rows("SELECT event_id FROM webhook_inbox") == [("evt_9",)]


def test_reserialized_json_fails_verification() -> None:
    clock = Clock()
    body = EVENTS[2].body()
    headers = Sender(("127.0.0.1", 0), [OLD], clock).headers(EVENTS[2], body)
    reserialized = json.dumps(json.loads(body)).encode()
    assert json.loads(reserialized) == json.loads(body)  # the same data ...
    assert reserialized != body  # ... in different bytes (spaces, escaped "ë" and "ü")
    assert verify(headers, body, {"k": OLD}, clock.now()) == "k"
    with pytest.raises(Rejected, match="bad-signature"):
        verify(headers, reserialized, {"k": OLD}, clock.now())


def test_a_replay_inside_the_window_is_a_duplicate_outside_it_is_rejected(
    tmp_path: Path,
) -> None:
    with endpoint(tmp_path, {"current": OLD}) as ep:
        body = V3.body()
        captured = ep.sender([OLD]).headers(V3, body)
        assert ep.post_raw(body, captured) == 202
        ep.clock.set(TOLERANCE_S - 1)
        assert ep.post_raw(body, captured) == 200  # caught by the inbox key
        ep.clock.set(TOLERANCE_S + 1)
        assert ep.post_raw(body, captured) == 401  # caught by the timestamp
        assert ep.receiver.metrics["signature_failures{endpoint=ep_42,reason=stale-timestamp}"] == 1
        assert ep.rows("SELECT COUNT(*) FROM webhook_inbox") == [(1,)]


def test_a_clock_running_ahead_beyond_the_tolerance_rejects_everything() -> None:
    clock = Clock()
    body = V3.body()
    headers = Sender(("127.0.0.1", 0), [OLD], clock).headers(V3, body)
    stamped = int(headers["webhook-timestamp"])
    assert verify(headers, body, {"k": OLD}, stamped + TOLERANCE_S) == "k"
    with pytest.raises(Rejected, match="stale-timestamp"):
        verify(headers, body, {"k": OLD}, stamped + TOLERANCE_S + 1)  # receiver clock ahead
    with pytest.raises(Rejected, match="future-timestamp"):
        verify(headers, body, {"k": OLD}, stamped - TOLERANCE_S - 1)  # receiver clock behind


def test_a_retry_days_later_carries_a_fresh_timestamp() -> None:
    clock = Clock()
    sender = Sender(("127.0.0.1", 0), [OLD], clock)
    body = V3.body()
    first = sender.headers(V3, body)
    clock.set(3 * 24 * 3600.0)  # three days later, the same event again
    retry = sender.headers(V3, body)
    assert retry["webhook-id"] == first["webhook-id"]
    assert verify(retry, body, {"k": OLD}, clock.now()) == "k"
    with pytest.raises(Rejected, match="stale-timestamp"):
        verify(first, body, {"k": OLD}, clock.now())


def test_a_rotated_secret_is_accepted_during_the_overlap(tmp_path: Path) -> None:
    with endpoint(tmp_path, {"new": NEW, "old": OLD}) as ep:  # receiver knows both, newest first
        ep.sender([OLD]).attempt(V1, 1, 0.0, Faults())  # sender not yet switched
        ep.sender([OLD, NEW]).attempt(V3, 1, 1.0, Faults())  # sender signs with both
        assert ep.receiver.metrics["verified{endpoint=ep_42,secret=old}"] == 1
        assert ep.receiver.metrics["verified{endpoint=ep_42,secret=new}"] == 1
    body = V3.body()
    both = Sender(("127.0.0.1", 0), [OLD, NEW], Clock()).headers(V3, body)
    assert len(both["webhook-signature"].split(" ")) == 2
    assert verify(both, body, {"old": OLD}, Clock().now()) == "old"  # receiver not yet switched
    # the step-3 signal: with the new secret listed first, "new" shows as soon as it is used
    assert verify(both, body, {"new": NEW, "old": OLD}, Clock().now()) == "new"
    after = Sender(("127.0.0.1", 0), [NEW], Clock()).headers(V3, body)
    assert verify(after, body, {"old": OLD, "new": NEW}, Clock().now()) == "new"
    with pytest.raises(Rejected, match="bad-signature"):
        verify(after, body, {"old": OLD}, Clock().now())  # overlap over, receiver never switched


def test_secrets_follow_the_spec_format() -> None:
    secret = make_secret("any")
    assert secret.startswith("whsec_")
    assert 24 <= len(secret_key(secret)) <= 64
    header = signature_header([OLD, NEW], "msg_1", "1741251600", b"{}")
    scheme, value = header.split(" ")[0].split(",")
    assert scheme == "v1" and len(base64.b64decode(value)) == 32  # one SHA-256 digest


def test_an_oversized_body_is_refused_and_counted(tmp_path: Path) -> None:
    with endpoint(tmp_path, {"current": OLD}) as ep:
        huge = b'{"pad":"' + b"x" * MAX_BODY_BYTES + b'"}'
        status = ep.post_raw(huge, ep.sender([OLD]).headers(V3, huge))
        assert status == 413  # a sender retries this until its window ends: alert on it
        assert ep.receiver.metrics["too_large{endpoint=ep_42}"] == 1
        assert ep.rows("SELECT COUNT(*) FROM webhook_inbox") == [(0,)]


def test_missing_headers_are_a_client_error(tmp_path: Path) -> None:
    with endpoint(tmp_path, {"current": OLD}) as ep:
        assert ep.post_raw(V3.body(), {"Content-Type": "application/json"}) == 400


# --------------------------------------------------------------------------
# Failure of the inbox, poison events, lag
# --------------------------------------------------------------------------


def test_if_the_insert_fails_the_answer_is_503_and_a_retry_is_stored(tmp_path: Path) -> None:
    with endpoint(tmp_path, {"current": OLD}) as ep:
        locker = sqlite3.connect(ep.db, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        sender = ep.sender([OLD])
        assert sender.attempt(V3, 1, 0.0, Faults()).outcome == "503"
        locker.execute("COMMIT")
        locker.close()
        assert ep.rows("SELECT COUNT(*) FROM webhook_inbox") == [(0,)]
        assert sender.attempt(V3, 2, 8.0, Faults()).outcome == "202"


def test_a_503_tells_the_sender_when_to_retry(tmp_path: Path) -> None:
    with endpoint(tmp_path, {"current": OLD}) as ep:
        locker = sqlite3.connect(ep.db, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        body = V3.body()
        status, headers = ep.post_answer(body, ep.sender([OLD]).headers(V3, body))
        locker.execute("COMMIT")
        locker.close()
        assert status == 503
        assert headers["Retry-After"] == str(RETRY_AFTER_S)
        status, headers = ep.post_answer(body, ep.sender([OLD]).headers(V3, body))
        assert status == 202 and "Retry-After" not in headers


def test_a_busy_database_does_not_count_toward_dead_lettering(tmp_path: Path) -> None:
    with endpoint(tmp_path, {"current": OLD}) as ep:
        ep.sender([OLD]).attempt(V3, 1, 0.0, Faults())
        locker = sqlite3.connect(ep.db, isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")  # readers pass, the worker's writes time out
        for _ in range(MAX_PROCESSING_ATTEMPTS + 1):
            assert ep.worker.drain() == []
        locker.execute("COMMIT")
        locker.close()
        assert ep.rows("SELECT status, attempts FROM webhook_inbox") == [("pending", 0)]
        assert ep.worker.drain() == [("evt_9", "applied")]


def test_a_poison_event_is_dead_lettered_without_blocking_others(tmp_path: Path) -> None:
    db = tmp_path / "inbox.sqlite3"
    Receiver(db, {}, Clock())
    with closing(connect(db)) as conn, conn:
        conn.execute(
            "INSERT INTO webhook_inbox (event_id, body, received_at) VALUES ('bad', ?, 0)",
            (b'{"data": {"id": "sub_1"}}',),
        )
        conn.execute(
            "INSERT INTO webhook_inbox (event_id, body, received_at) VALUES ('good', ?, 1)",
            (V3.body(),),
        )
    worker = Worker(db)
    assert worker.drain() == [("bad", "failed"), ("good", "applied")]
    for _ in range(MAX_PROCESSING_ATTEMPTS - 1):
        assert worker.drain() == [("bad", "failed")]
    assert worker.drain() == []
    with closing(connect(db)) as conn:
        status, attempts, error = conn.execute(
            "SELECT status, attempts, last_error FROM webhook_inbox WHERE event_id = 'bad'"
        ).fetchone()
    assert (status, attempts) == ("dead", MAX_PROCESSING_ATTEMPTS)
    assert "status" in error  # the missing field is named for whoever replays it


def test_inbox_lag_is_the_age_of_the_oldest_pending_event(tmp_path: Path) -> None:
    with endpoint(tmp_path, {"current": OLD}) as ep:
        sender = ep.sender([OLD])
        sender.attempt(V1, 1, 10.0, Faults())
        sender.attempt(V3, 1, 40.0, Faults())
        assert inbox_lag(ep.db, 100.0) == pytest.approx(100.0 - 10.25)
        ep.worker.drain()
        assert inbox_lag(ep.db, 100.0) == 0.0


# --------------------------------------------------------------------------
# The scenario: naive and inbox designs on the same deliveries
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def naive() -> Run:
    return run_scenario("naive")


def test_the_scenario_delivers_late_twice_and_out_of_order() -> None:
    run = delivery_timeline()
    by_event = {e: [a for a in run.attempts if a.event_id == e] for e in ("evt_1", "evt_2")}
    assert outcomes(by_event["evt_1"]) == ["503", "202"]
    assert outcomes(by_event["evt_2"]) == ["timeout", "200"]
    late = by_event["evt_2"][0]
    assert late.answered_at - late.sent_at == SENDER_TIMEOUT_S
    evt3 = next(a for a in run.attempts if a.event_id == "evt_3")
    assert by_event["evt_1"][1].sent_at > evt3.sent_at  # v1 arrives after v3


def test_the_inbox_design_ends_with_the_providers_state() -> None:
    run = delivery_timeline()
    assert run.final == ("canceled", 3)
    assert [(e, o) for _, e, o in run.worker_steps] == [
        ("evt_2", "applied"),
        ("evt_3", "applied"),
        ("evt_1", "stale"),
    ]
    assert Counter(run.emails) == {"payment-failed": 1, "cancellation": 1}
    assert run.receiver_metrics["duplicates"] == 1
    assert run.receiver_metrics["inbox_write_failures"] == 1


def test_the_naive_design_ends_wrong_and_emails_twice(naive: Run) -> None:
    def schedule(run: Run) -> list[tuple[str, int, float]]:
        return [(a.event_id, a.number, a.sent_at) for a in run.attempts]

    assert schedule(naive) == schedule(delivery_timeline())  # the same deliveries, same faults
    assert naive.final == ("past_due", 2)
    assert Counter(naive.emails) == {"payment-failed": 2, "cancellation": 1}


def test_the_scenario_is_deterministic() -> None:
    assert run_scenario("inbox").attempts == delivery_timeline().attempts


def test_retry_delays_are_spread_by_jitter() -> None:
    rng = random.Random(1)
    delays = [retry_delay(1, rng) for _ in range(1000)]
    nominal = RETRY_DELAYS_S[0]
    assert min(delays) >= nominal * (1 - JITTER) and max(delays) <= nominal * (1 + JITTER)
    assert max(delays) - min(delays) > nominal * JITTER  # not one synchronized retry wave


# --------------------------------------------------------------------------
# Reconciliation and the sender's destination check
# --------------------------------------------------------------------------


def test_reconciliation_corrects_only_what_was_lost(tmp_path: Path) -> None:
    db = tmp_path / "inbox.sqlite3"
    Receiver(db, {}, Clock())
    with closing(connect(db)) as conn, conn:
        apply_change(conn, "sub_13", "active", 4, "evt_0")
        apply_change(conn, "sub_42", "past_due", 2, "evt_2")
    provider = [("sub_13", "active", 4), ("sub_42", "canceled", 3), ("sub_77", "active", 1)]
    assert reconcile(db, provider) == ["sub_42", "sub_77"]
    assert reconcile(db, provider) == []  # a second pass changes nothing
    with closing(connect(db)) as conn:
        assert conn.execute(
            "SELECT kind FROM outbox WHERE effect_key LIKE 'sub_42@v3%'"
        ).fetchall() == [("cancellation",)]


@pytest.mark.parametrize(
    ("addresses", "problem"),
    [
        (["1.1.1.1"], None),
        (["169.254.169.254"], "link-local"),
        (["10.0.0.7"], "private"),
        (["127.0.0.1"], "loopback"),
        (["::1"], "loopback"),
        (["fd00::1"], "private"),
        (["::ffff:192.168.1.10"], "private"),
        (["100.64.0.1"], "not globally routable"),
        (["1.1.1.1", "10.0.0.7"], "private"),  # one bad answer is enough
    ],
)
def test_the_sender_refuses_internal_destinations(
    addresses: list[str], problem: str | None
) -> None:
    found = destination_problem("https://customer.example/hook", lambda _: addresses)
    assert (found is None) if problem is None else (problem in (found or ""))


def test_the_sender_refuses_plain_http() -> None:
    assert destination_problem("http://customer.example/hook", lambda _: ["1.1.1.1"]) == "not https"


# --------------------------------------------------------------------------
# The figure
# --------------------------------------------------------------------------


def test_the_timeline_contains_each_failure_the_caption_names() -> None:
    arrows = sequence_arrows(delivery_timeline())
    kinds = Counter(a.kind for a in arrows)
    assert kinds == {"request": 5, "ok": 2, "failure": 2, "duplicate": 1, "applied": 2, "stale": 1}
    waiting = [a for a in arrows if a.source == a.target]
    assert [(a.start, a.end) for a in waiting] == [(2.0, 2.0 + SENDER_TIMEOUT_S)]
    applied_during_wait = [a for a in arrows if a.label == "evt_2: applied"]
    assert waiting[0].start < applied_during_wait[0].start < waiting[0].end


def test_the_figure_draws_exactly_the_logged_messages() -> None:
    figure = draw("apis/figures/webhook-retry-sequence.py")
    lane = {"sender": 0.0, "receiver": 1.0, "worker": 2.0}
    expected = {
        a.label: [(lane[a.source], a.start), (lane[a.target], a.end)]
        for a in sequence_arrows(delivery_timeline())
    }
    drawn = lines(figure)
    assert drawn.keys() == expected.keys()
    for label, points in expected.items():
        assert drawn[label] == [pytest.approx(p) for p in points], label
