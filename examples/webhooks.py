"""Webhooks are asynchronous integration: a receiver built for duplicates, disorder and loss.

A sender delivers signed events about one subscription to a real HTTP server
on 127.0.0.1. Deliveries are signed the Standard Webhooks way: HMAC-SHA256
over ``webhook-id.webhook-timestamp.body`` with a ``whsec_`` secret, sent as
``v1,<base64>`` in a space-separated list so that a secret can be rotated.

The inbox receiver does three things and answers: it verifies the signature
over the raw bytes in constant time, inserts the delivery into a SQLite inbox
keyed by the event id (``ON CONFLICT DO NOTHING``), and returns 202. A worker
applies each event later, and only if its resource version is newer than the
stored one, in one transaction with the side effect it causes. A naive
receiver that applies every delivery inline, in arrival order, gets the same
deliveries for comparison.

Time is simulated so that the printout is deterministic; the HTTP, the HMAC
and the SQLite transactions are real. One delivery is answered too late: the
receiver holds its answer until the sender's real socket timeout has fired,
which stands for a garbage-collection pause, a slow disk or a proxy.

Run it with ``python -m examples.webhooks``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
import hmac
import http.client
import ipaddress
import json
import random
import sqlite3
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

# --------------------------------------------------------------------------
# Numbers the example uses, and where they come from
# --------------------------------------------------------------------------

# start: numbers
START = 1_741_251_600  # 2025-03-06 09:00:00 UTC, the simulated clock's zero
TOLERANCE_S = 300  # timestamp tolerance of the Standard Webhooks reference libraries and Stripe's
SENDER_TIMEOUT_S = 10.0  # GitHub.com's limit; unlike GitHub, this sender retries
RETRY_DELAYS_S = (8.0, 60.0, 600.0)  # this example's compressed schedule, before jitter
JITTER = 0.2  # each delay is drawn from +/- 20 % of its nominal value
NETWORK_S = 0.25  # simulated one-way network delay
WORKER_LAG_S = 0.5  # the worker polls the inbox this long after a delivery
MAX_PROCESSING_ATTEMPTS = 5  # failed applications (not busy databases) before dead-lettering
MAX_BODY_BYTES = 256 * 1024  # far above the spec's advice of < 20 kB: a 413 is retried for days
RETRY_AFTER_S = 5  # sent with a 503, so the sender waits at least this long
DB_BUSY_TIMEOUT_S = 0.2  # give up on a locked inbox long before the sender's timeout
REAL_TIMEOUT_S = 1.0  # the real socket timeout that stands for SENDER_TIMEOUT_S

SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_inbox (
    event_id    TEXT PRIMARY KEY,            -- webhook-id: the same on every retry
    body        BLOB NOT NULL,               -- the raw bytes that were signed
    received_at REAL NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'applied', 'stale', 'dead')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT
);
CREATE INDEX IF NOT EXISTS webhook_inbox_pending
    ON webhook_inbox (received_at) WHERE status = 'pending';
CREATE TABLE IF NOT EXISTS subscription (
    id      TEXT PRIMARY KEY,
    status  TEXT NOT NULL,
    version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (             -- side effects, keyed by the change
    effect_key TEXT PRIMARY KEY,
    event_id   TEXT NOT NULL,
    kind       TEXT NOT NULL
);
"""

# The email each new subscription status causes (sent later from the outbox).
EMAILS = {"past_due": "payment-failed", "canceled": "cancellation"}
# end: numbers


# --------------------------------------------------------------------------
# Signing and verifying (Standard Webhooks, symmetric scheme)
# --------------------------------------------------------------------------


def make_secret(label: str) -> str:
    """A deterministic 32-byte secret in the ``whsec_<base64>`` form the spec uses."""
    return "whsec_" + base64.b64encode(hashlib.sha256(label.encode()).digest()).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key: the base64 part of a ``whsec_`` secret, decoded."""
    return base64.b64decode(secret.removeprefix("whsec_"))


def sign(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    """One ``v1,<base64>`` signature over ``msg_id.timestamp.body``."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets: Sequence[str], msg_id: str, timestamp: str, body: bytes) -> str:
    """The ``webhook-signature`` value: one signature per active secret, space-separated."""
    return " ".join(sign(s, msg_id, timestamp, body) for s in secrets)


class Rejected(Exception):
    """A delivery that failed verification; ``reason`` is a metric label."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def verify(
    headers: Mapping[str, str],
    body: bytes,
    secrets: Mapping[str, str],
    now: float,
    tolerance_s: int = TOLERANCE_S,
) -> str:
    """Check one delivery and return the name of the secret that signed it.

    ``body`` must be the bytes exactly as received. ``secrets`` maps a name
    (for metrics) to every secret accepted right now, newest first: during a
    rotation, the new one and then the old one. The first match is returned,
    so the matched-secret metric shows "new" as soon as the sender signs with
    it, even while it still signs with the old one too.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id = lower.get("webhook-id", "")
    timestamp = lower.get("webhook-timestamp", "")
    offered = lower.get("webhook-signature", "")
    if not (msg_id and timestamp and offered):
        raise Rejected("missing-header")
    if not timestamp.isdigit():
        raise Rejected("bad-timestamp")
    if int(timestamp) < now - tolerance_s:
        raise Rejected("stale-timestamp")
    if int(timestamp) > now + tolerance_s:
        raise Rejected("future-timestamp")
    signed = f"{msg_id}.{timestamp}.".encode() + body
    for name, secret in secrets.items():
        expected = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
        for candidate in offered.split(" "):
            scheme, _, value = candidate.partition(",")
            try:
                received = base64.b64decode(value, validate=True)
            except binascii.Error:
                continue
            if scheme == "v1" and hmac.compare_digest(expected, received):
                return name
    raise Rejected("bad-signature")


# --------------------------------------------------------------------------
# Simulated time, faults and metrics shared by sender and receivers
# --------------------------------------------------------------------------


class Clock:
    """Simulated seconds since START; the sender moves it, everyone reads it."""

    def __init__(self) -> None:
        self._t = 0.0
        self._lock = threading.Lock()

    def set(self, t: float) -> None:
        with self._lock:
            self._t = t

    def elapsed(self) -> float:
        with self._lock:
            return self._t

    def now(self) -> float:
        """Unix time, for signature timestamps."""
        return START + self.elapsed()


@dataclass
class Faults:
    """Injected failures: answers held back past the sender's timeout."""

    late_answers: set[str] = field(default_factory=set)  # event ids whose next answer is late
    released: threading.Event = field(default_factory=threading.Event)

    def hold_answer(self, event_id: str) -> None:
        """Block the answer to this delivery until the sender has given up on it."""
        if event_id in self.late_answers:
            self.late_answers.discard(event_id)
            self.released.wait(timeout=5 * REAL_TIMEOUT_S)
            self.released.clear()


@dataclass(frozen=True)
class Response:
    """What a receiver answers: the status code, a note, the event, a Retry-After."""

    status: int
    note: str
    event_id: str = ""
    retry_after: int | None = None  # seconds, sent as the Retry-After header


# --------------------------------------------------------------------------
# The inbox receiver and its worker
# --------------------------------------------------------------------------


def connect(path: Path) -> sqlite3.Connection:
    """A connection that fails within 200 ms instead of queueing behind a lock."""
    return sqlite3.connect(path, timeout=DB_BUSY_TIMEOUT_S, check_same_thread=False)


class Receiver:
    """Verify, insert into the inbox, answer. Nothing else happens in the request."""

    def __init__(
        self, db: Path, secrets: Mapping[str, str], clock: Clock, endpoint: str = "ep_42"
    ) -> None:
        self.db, self.secrets, self.clock, self.endpoint = db, dict(secrets), clock, endpoint
        self.metrics: Counter[str] = Counter()
        with closing(connect(db)) as conn:
            conn.executescript(SCHEMA)

    def handle(self, headers: Mapping[str, str], body: bytes) -> Response:
        if len(body) > MAX_BODY_BYTES:
            self.metrics[f"too_large{{endpoint={self.endpoint}}}"] += 1
            return Response(413, "too large")
        try:
            key = verify(headers, body, self.secrets, self.clock.now())
        except Rejected as rejected:
            label = f"endpoint={self.endpoint},reason={rejected.reason}"
            self.metrics[f"signature_failures{{{label}}}"] += 1
            return Response(400 if rejected.reason == "missing-header" else 401, rejected.reason)
        self.metrics[f"verified{{endpoint={self.endpoint},secret={key}}}"] += 1
        event_id = {k.lower(): v for k, v in headers.items()}["webhook-id"]
        try:
            with closing(connect(self.db)) as conn, conn:  # one transaction, committed here
                inserted = conn.execute(
                    "INSERT INTO webhook_inbox (event_id, body, received_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (event_id) DO NOTHING",
                    (event_id, body, self.clock.elapsed()),
                ).rowcount
        except sqlite3.OperationalError as error:  # not stored: the sender must retry
            self.metrics["inbox_write_failures"] += 1
            return Response(503, f"inbox unavailable ({error})", event_id, RETRY_AFTER_S)
        if not inserted:
            self.metrics["duplicates"] += 1
            return Response(200, "duplicate", event_id)
        self.metrics["stored"] += 1
        return Response(202, "stored", event_id)


def apply_change(
    conn: sqlite3.Connection, resource_id: str, status: str, version: int, cause: str
) -> bool:
    """Write a newer version and queue its side effect; ignore anything not newer.

    Runs inside the caller's transaction. The conditional upsert (insert, or
    update on a key conflict, but only when the version is higher) is the only
    ordering rule: whatever order events arrive in, the highest version wins.
    It is also what stops a second event id for the same change: that change is
    not newer, so nothing is queued. The effect key names the change
    (``sub_42@v3:cancellation``); the email call sends it as its idempotency
    key, and the conflict clause only guards a row restored or reset by hand.
    """
    newer = conn.execute(
        "INSERT INTO subscription (id, status, version) VALUES (?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET status = excluded.status, version = excluded.version"
        " WHERE excluded.version > subscription.version",
        (resource_id, status, version),
    ).rowcount
    if newer and status in EMAILS:
        conn.execute(
            "INSERT INTO outbox (effect_key, event_id, kind) VALUES (?, ?, ?)"
            " ON CONFLICT (effect_key) DO NOTHING",
            (f"{resource_id}@v{version}:{EMAILS[status]}", cause, EMAILS[status]),
        )
    return bool(newer)


class Worker:
    """Apply pending inbox rows; retry failures; dead-letter an event after five."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.metrics: Counter[str] = Counter()

    def drain(self) -> list[tuple[str, str]]:
        """Process every pending event once; return ``(event_id, outcome)`` pairs."""
        done = []
        with closing(connect(self.db)) as conn:
            try:
                pending = conn.execute(
                    "SELECT event_id, body FROM webhook_inbox WHERE status = 'pending'"
                    " ORDER BY received_at, event_id"
                ).fetchall()
            except sqlite3.OperationalError:
                self.metrics["poll_failures"] += 1  # try again at the next poll
                return done
            for event_id, body in pending:
                try:
                    with conn:  # the state change, its side effect and the status: one commit
                        data = json.loads(body)["data"]
                        applied = apply_change(
                            conn, data["id"], data["status"], int(data["version"]), event_id
                        )
                        outcome = "applied" if applied else "stale"
                        conn.execute(
                            "UPDATE webhook_inbox SET status = ? WHERE event_id = ?",
                            (outcome, event_id),
                        )
                except sqlite3.OperationalError:
                    self.metrics["poll_failures"] += 1  # the database is busy: next poll
                    break
                except (ValueError, KeyError, TypeError) as error:
                    with conn:
                        conn.execute(
                            "UPDATE webhook_inbox SET attempts = attempts + 1, last_error = ?,"
                            " status = CASE WHEN attempts + 1 >= ? THEN 'dead' ELSE status END"
                            " WHERE event_id = ?",
                            (repr(error), MAX_PROCESSING_ATTEMPTS, event_id),
                        )
                    outcome = "failed"
                self.metrics[outcome] += 1
                done.append((event_id, outcome))
        return done


def inbox_lag(db: Path, elapsed: float) -> float:
    """Age in seconds of the oldest pending event: the number to alert on."""
    with closing(connect(db)) as conn:
        (oldest,) = conn.execute(
            "SELECT MIN(received_at) FROM webhook_inbox WHERE status = 'pending'"
        ).fetchone()
    return 0.0 if oldest is None else elapsed - oldest


# --------------------------------------------------------------------------
# The naive receiver, for comparison
# --------------------------------------------------------------------------


class NaiveReceiver:
    """Verifies correctly, then applies each delivery inline, in arrival order."""

    def __init__(self, db: Path, secrets: Mapping[str, str], clock: Clock) -> None:
        self.db, self.secrets, self.clock = db, dict(secrets), clock
        self.emails: list[str] = []
        with closing(connect(db)) as conn:
            conn.executescript(SCHEMA)

    def handle(self, headers: Mapping[str, str], body: bytes) -> Response:
        try:
            verify(headers, body, self.secrets, self.clock.now())
        except Rejected as rejected:
            return Response(401, rejected.reason)
        data = json.loads(body)["data"]
        try:
            with closing(connect(self.db)) as conn, conn:
                conn.execute(
                    "INSERT INTO subscription (id, status, version) VALUES (?, ?, ?)"
                    " ON CONFLICT (id) DO UPDATE SET status = excluded.status,"
                    " version = excluded.version",
                    (data["id"], data["status"], data["version"]),
                )
        except sqlite3.OperationalError as error:
            return Response(503, f"database unavailable ({error})")
        if data["status"] in EMAILS:
            self.emails.append(EMAILS[data["status"]])
        return Response(
            200, "processed inline", {k.lower(): v for k, v in headers.items()}["webhook-id"]
        )


# --------------------------------------------------------------------------
# A real HTTP server around a receiver
# --------------------------------------------------------------------------


Handler = Callable[[Mapping[str, str], bytes], Response]


@contextmanager
def serve(handle: Handler, faults: Faults) -> Iterator[tuple[str, int]]:
    """Serve ``handle`` on 127.0.0.1 at an ephemeral port; yield ``(host, port)``."""

    class Endpoint(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(min(length, MAX_BODY_BYTES + 1))
            response = handle(dict(self.headers.items()), body)
            faults.hold_answer(response.event_id)
            payload = json.dumps({"result": response.note}).encode()
            try:
                self.send_response(response.status)
                if response.retry_after is not None:
                    self.send_header("Retry-After", str(response.retry_after))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender stopped waiting; it will retry

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.server_address[0], server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# --------------------------------------------------------------------------
# The sender
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One change to one subscription, as the provider records it."""

    event_id: str
    resource_id: str
    version: int
    status: str
    customer: str = "Zoë Müller"

    def body(self) -> bytes:
        """Compact JSON with UTF-8 text, as many senders serialize it."""
        payload = {
            "type": "subscription.updated",
            "timestamp": datetime.fromtimestamp(START, UTC).isoformat(),
            "data": {
                "id": self.resource_id,
                "status": self.status,
                "version": self.version,
                "customer": self.customer,
            },
        }
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Attempt:
    """One delivery attempt in the sender's log, in simulated seconds."""

    event_id: str
    number: int
    version: int
    sent_at: float
    received_at: float  # when the request reached the receiver
    outcome: str  # "202", "200", "503", "401" or "timeout"
    answered_at: float  # when the sender learned the outcome (the timeout included)


def retry_delay(attempt: int, rng: random.Random) -> float:
    """Delay before the next attempt after ``attempt`` failed: exponential, +/- 20 %."""
    nominal = RETRY_DELAYS_S[min(attempt, len(RETRY_DELAYS_S)) - 1]
    return round(nominal * rng.uniform(1 - JITTER, 1 + JITTER), 2)


class Sender:
    """Signs and posts deliveries, with a timeout, and logs every attempt."""

    def __init__(self, address: tuple[str, int], secrets: Sequence[str], clock: Clock) -> None:
        self.address, self.secrets, self.clock = address, list(secrets), clock
        self.log: list[Attempt] = []

    def headers(self, event: Event, body: bytes) -> dict[str, str]:
        timestamp = str(int(self.clock.now()))  # the time of this attempt, not of the event
        return {
            "Content-Type": "application/json",
            "webhook-id": event.event_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": signature_header(self.secrets, event.event_id, timestamp, body),
        }

    def post(self, body: bytes, headers: Mapping[str, str]) -> str:
        """One real POST; the status code as text, or ``"timeout"``."""
        connection = http.client.HTTPConnection(*self.address, timeout=REAL_TIMEOUT_S)
        try:
            connection.request("POST", "/webhooks", body=body, headers=dict(headers))
            return str(connection.getresponse().status)
        except TimeoutError:
            return "timeout"
        finally:
            connection.close()

    def attempt(self, event: Event, number: int, at: float, faults: Faults) -> Attempt:
        """Deliver ``event`` at simulated time ``at``."""
        body = event.body()
        self.clock.set(at)
        headers = self.headers(event, body)
        self.clock.set(at + NETWORK_S)  # the request is in flight
        outcome = self.post(body, headers)
        if outcome == "timeout":
            faults.released.set()  # let the late answer go; nobody is listening
            answered = at + SENDER_TIMEOUT_S
        else:
            answered = at + 2 * NETWORK_S
        record = Attempt(
            event.event_id, number, event.version, at, at + NETWORK_S, outcome, answered
        )
        self.log.append(record)
        return record


# --------------------------------------------------------------------------
# The scenario: three changes to one subscription, two faults
# --------------------------------------------------------------------------

EVENTS = (
    Event("evt_1", "sub_42", 1, "active"),
    Event("evt_2", "sub_42", 2, "past_due"),
    Event("evt_3", "sub_42", 3, "canceled"),
)
FIRST_ATTEMPTS = {"evt_1": 0.0, "evt_2": 2.0, "evt_3": 4.0}
LOCKED_UNTIL = 1.0  # the inbox database refuses writes until this simulated second
LATE_ANSWER = "evt_2"  # its first answer arrives after the sender's timeout


@dataclass
class Run:
    """What one receiver design made of the scenario."""

    attempts: list[Attempt]
    worker_steps: list[tuple[float, str, str]]  # (simulated time, event id, outcome)
    final: tuple[str, int]  # (status, version) of sub_42
    emails: list[str]
    receiver_metrics: Counter[str]


def run_scenario(design: str, seed: int = 7) -> Run:
    """Deliver EVENTS to a receiver of ``design`` ("inbox" or "naive")."""
    rng = random.Random(seed)
    clock, faults = Clock(), Faults(late_answers={LATE_ANSWER})
    secrets = {"current": make_secret("endpoint-42")}
    by_id = {e.event_id: e for e in EVENTS}
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "receiver.sqlite3"
        receiver: Receiver | NaiveReceiver
        receiver = (Receiver if design == "inbox" else NaiveReceiver)(db, secrets, clock)
        worker = Worker(db)
        locker = sqlite3.connect(db, isolation_level=None)  # e.g. a migration holding a lock
        locker.execute("BEGIN EXCLUSIVE")
        worker_steps: list[tuple[float, str, str]] = []
        # A queue of (simulated time, order, action, event id, attempt number).
        queue = [
            (t, i, "send", event_id, 1) for i, (event_id, t) in enumerate(FIRST_ATTEMPTS.items())
        ]
        heapq.heapify(queue)
        order = len(queue)
        with serve(receiver.handle, faults) as address:
            sender = Sender(address, list(secrets.values()), clock)
            while queue:
                at, _, action, event_id, number = heapq.heappop(queue)
                if locker.in_transaction and at >= LOCKED_UNTIL:
                    locker.execute("COMMIT")
                if action == "drain":
                    clock.set(at)
                    worker_steps += [(at, eid, outcome) for eid, outcome in worker.drain()]
                    continue
                result = sender.attempt(by_id[event_id], number, at, faults)
                order += 1
                if design == "inbox":
                    heapq.heappush(
                        queue, (result.received_at + WORKER_LAG_S, order, "drain", "", 0)
                    )
                if result.outcome not in {"200", "202"}:
                    delay = retry_delay(number, rng)
                    order += 1
                    heapq.heappush(
                        queue, (result.answered_at + delay, order, "send", event_id, number + 1)
                    )
        locker.close()
        with closing(connect(db)) as conn:
            final = conn.execute(
                "SELECT status, version FROM subscription WHERE id = 'sub_42'"
            ).fetchone()
            outbox = [kind for (kind,) in conn.execute("SELECT kind FROM outbox ORDER BY rowid")]
    emails = outbox if design == "inbox" else receiver.emails  # type: ignore[union-attr]
    metrics = receiver.metrics if isinstance(receiver, Receiver) else Counter()
    return Run(sender.log, worker_steps, tuple(final), emails, metrics)


@cache
def delivery_timeline() -> Run:
    """The inbox receiver's run, recorded once for the figure and its tests."""
    return run_scenario("inbox")


@dataclass(frozen=True)
class Arrow:
    """One message of the sequence diagram: lanes, simulated times, a unique label."""

    label: str
    source: str  # "sender", "receiver" or "worker"
    target: str
    start: float
    end: float
    kind: str  # "request", "ok", "duplicate", "failure", "applied" or "stale"


def sequence_arrows(run: Run) -> list[Arrow]:
    """Every message of a run, as the figure draws it.

    A timed-out attempt has no answer to draw: it is the sender waiting on
    its own lifeline from the send to the moment it gives up.
    """
    arrows = []
    for a in run.attempts:
        tag = f"{a.event_id} #{a.number}"
        arrows.append(
            Arrow(f"{tag} v{a.version}", "sender", "receiver", a.sent_at, a.received_at, "request")
        )
        if a.outcome == "timeout":
            wait = a.answered_at - a.sent_at
            arrows.append(
                Arrow(
                    f"{tag}: no answer in {wait:.0f} s",
                    "sender",
                    "sender",
                    a.sent_at,
                    a.answered_at,
                    "failure",
                )
            )
            continue
        kind = {"202": "ok", "200": "duplicate"}.get(a.outcome, "failure")
        arrows.append(
            Arrow(f"{tag}: {a.outcome}", "receiver", "sender", a.received_at, a.answered_at, kind)
        )
    for at, event_id, outcome in run.worker_steps:
        arrows.append(Arrow(f"{event_id}: {outcome}", "receiver", "worker", at, at, outcome))
    return arrows


# --------------------------------------------------------------------------
# Sender-side protection against server-side request forgery
# --------------------------------------------------------------------------


def destination_problem(url: str, resolve: Callable[[str], list[str]]) -> str | None:
    """Why the sender must not connect to ``url``, or None if every address is public.

    Check every address the name resolves to, then connect to the address you
    checked (not to the name again), so that a second DNS answer cannot point
    somewhere else.
    """
    parts = urlsplit(url)
    if parts.scheme != "https":
        return "not https"
    for text in resolve(parts.hostname or ""):
        address = ipaddress.ip_address(text)
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        for problem in ("loopback", "link_local", "private", "reserved", "multicast"):
            if getattr(address, f"is_{problem}"):
                return f"{text} is {problem.replace('_', '-')}"
        if not address.is_global:
            return f"{text} is not globally routable"
    return None


# --------------------------------------------------------------------------
# Reconciliation: walk the provider's list endpoint and correct what was lost
# --------------------------------------------------------------------------


def list_page(
    objects: Sequence[tuple[str, str, int]], after: str | None, limit: int = 2
) -> tuple[list[tuple[str, str, int]], str | None]:
    """One page of the provider's ``GET /subscriptions``, ordered by id, with a cursor."""
    rows = sorted(o for o in objects if after is None or o[0] > after)
    page = rows[:limit]
    return page, (page[-1][0] if len(rows) > limit else None)


def reconcile(db: Path, objects: Sequence[tuple[str, str, int]]) -> list[str]:
    """Apply every listed object newer than ours; return the ids corrected."""
    corrected, cursor = [], None
    with closing(connect(db)) as conn:
        while True:
            page, cursor = list_page(objects, cursor)
            for resource_id, status, version in page:
                with conn:
                    if apply_change(conn, resource_id, status, version, "reconciliation"):
                        corrected.append(resource_id)
            if cursor is None:
                return corrected


# --------------------------------------------------------------------------
# Demonstration
# --------------------------------------------------------------------------


def main() -> None:
    inbox, naive = run_scenario("inbox"), run_scenario("naive")
    print(f"Deliveries, simulated seconds (sender timeout {SENDER_TIMEOUT_S:.0f} s):")
    for a in inbox.attempts:
        result = {
            "202": "202 stored",
            "200": "200 duplicate",
            "503": f"503 inbox locked, answered at t={a.answered_at:.1f}",
        }
        said = result.get(a.outcome, f"answer held back; gave up at t={a.answered_at:.1f}")
        print(f"  t={a.sent_at:5.2f}  {a.event_id} #{a.number}  v{a.version}  -> {said}")
    print("Worker (inbox design):")
    for at, event_id, outcome in inbox.worker_steps:
        print(f"  t={at:5.2f}  {event_id} {outcome}")
    print("Outcome        sub_42 (provider has canceled v3)  emails sent or queued")
    for name, run in (("inbox design", inbox), ("naive design", naive)):
        state = f"{run.final[0]} v{run.final[1]}" + (" (wrong)" if run.final[1] != 3 else "")
        sent = ", ".join(f"{kind} x{n}" for kind, n in Counter(run.emails).items())
        print(f"  {name:<13}{state:<22}{sent}")
    print("Inbox receiver counters:")
    for name, value in sorted(inbox.receiver_metrics.items()):
        print(f"  {name} {value}")

    clock, old, new = Clock(), make_secret("endpoint-42"), make_secret("endpoint-42-rotated")
    event = EVENTS[2]
    body = event.body()
    stamped = Sender(("127.0.0.1", 0), [old, new], clock).headers(event, body)
    old_only = Sender(("127.0.0.1", 0), [old], clock).headers(event, body)
    print(f"Verification ({len(secret_key(old))}-byte secrets, tolerance {TOLERANCE_S} s):")
    reserialized = json.dumps(json.loads(body)).encode()
    tampered = body.replace(b'"version":3', b'"version":4')
    cases = {
        "signed old+new, receiver checks new, old": (stamped, body, {"new": new, "old": old}, 0),
        "signed old only, receiver checks new, old": (old_only, body, {"new": new, "old": old}, 0),
        "signed old+new, receiver checks old, new": (stamped, body, {"old": old, "new": new}, 0),
        "version 3 changed to 4 in the body": (stamped, tampered, {"old": old}, 0),
        f"re-serialized JSON ({len(body)} -> {len(reserialized)} bytes)": (
            stamped,
            reserialized,
            {"old": old},
            0,
        ),
        "same delivery replayed 301 s later": (stamped, body, {"old": old}, 301),
    }
    for label, (headers, raw, accepted, late) in cases.items():
        try:
            outcome = f"ok, matched {verify(headers, raw, accepted, clock.now() + late)!r}"
        except Rejected as rejected:
            outcome = f"rejected: {rejected.reason}"
        print(f"  {label:<42} {outcome}")

    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "r.sqlite3"
        Receiver(db, {}, clock)
        with closing(connect(db)) as conn, conn:  # what the inbox design ended with, plus one
            apply_change(conn, "sub_13", "active", 4, "evt_0")
            apply_change(conn, "sub_42", "canceled", 3, "evt_3")
        provider_objects = [
            ("sub_13", "active", 4),
            ("sub_42", "canceled", 3),
            ("sub_77", "active", 1),
        ]
        fixed = reconcile(db, provider_objects)
    print(f"Reconciliation: {len(provider_objects)} objects listed, corrected {fixed}")

    names = {
        "hooks.example.com": ["1.1.1.1"],
        "169.254.169.254": ["169.254.169.254"],
        "rebind.example": ["1.1.1.1", "10.0.0.7"],
    }
    print("Sender's destination check:")
    for url in (
        "https://hooks.example.com/in",
        "https://169.254.169.254/latest",
        "https://rebind.example/hook",
        "http://hooks.example.com/in",
    ):
        print(f"  {url:<32} {destination_problem(url, names.__getitem__) or 'allowed'}")


if __name__ == "__main__":
    main()
