"""Evolve an HTTP API contract with date-pinned versions and a chain of downgrade steps.

The handler always builds a response in the newest shape. Each breaking change
is one :class:`VersionChange`: the version that introduced it, a changelog line,
the resource types it touches, and a pure function that turns a body of that
version into the body of the version before it. A request pinned to an older
version runs the downgrade steps of every newer version, newest first.

Requests go the other way: a change that renamed a request parameter carries an
upgrade step, and a request pinned to an older version runs the upgrade steps of
every newer version, oldest first, so the handler only ever sees the latest names.

A standard-library HTTP server on 127.0.0.1 (ephemeral port) serves
``GET /orders/<id>`` and ``GET /orders?customer_id=...``. The version comes from
the ``Api-Version`` request header, or else from the version the account was
pinned to at its first request. Deprecated versions carry ``Deprecation``
(RFC 9745: a structured-field date, ``@<unix seconds>``), ``Sunset`` (RFC 8594:
an HTTP-date) and ``Link`` headers; during a scheduled brown-out and after the
sunset they answer 410 with a problem-details body; an unknown version gets a 400
that lists the supported ones. Every request is counted by consumer, version and
outcome. Webhook events are rendered through the same chain at each
subscription's version.

Run ``python -m examples.api_contract_evolution`` for a demonstration.
"""

from __future__ import annotations

import copy
import functools
import http.client
import json
import socket
import textwrap
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

Body = dict[str, Any]
DOCS = "https://api.example.com/versions"

# -- The contract's history ------------------------------------------------------


def _status_without_partial_refunds(order: Body) -> Body:
    # Before 2025-03-01 a partly refunded order stayed "paid"; amount_refunded
    # already said how much had gone back.
    if order["status"] == "partially_refunded":
        order["status"] = "paid"
    return order


def _amounts_as_integers(order: Body) -> Body:
    order["currency"] = order["amount"]["currency"]
    order["amount"] = order["amount"]["value"]
    order["amount_refunded"] = order["amount_refunded"]["value"]
    return order


def _customer_not_customer_id(order: Body) -> Body:
    order["customer"] = order.pop("customer_id")
    return order


def _customer_id_not_customer(params: dict[str, str]) -> dict[str, str]:
    # The request side of the same rename: ?customer= becomes ?customer_id=.
    return {("customer_id" if k == "customer" else k): v for k, v in params.items()}


@dataclass(frozen=True)
class VersionChange:
    """One breaking change, and how to undo it for clients pinned before it.

    Responses run `downgrade`; requests run `upgrade` when the change renamed an input.
    """

    version: str  # the version that introduced the change
    description: str  # one changelog line
    resources: frozenset[str]  # resource types whose bodies it changes
    downgrade: Callable[[Body], Body]  # body of `version` -> body of the version before
    # query parameters of the version before -> those of `version`, if the change renamed one
    upgrade: Callable[[dict[str, str]], dict[str, str]] | None = None


# start-changes
INITIAL_VERSION = "2024-01-15"
CHANGES = (  # newest first
    VersionChange(
        "2025-03-01",
        'status gains "partially_refunded" (older versions see "paid")',
        frozenset({"order"}),
        _status_without_partial_refunds,
    ),
    VersionChange(
        "2024-11-15",
        "amount and amount_refunded become {value, currency} objects",
        frozenset({"order"}),
        _amounts_as_integers,
    ),
    VersionChange(
        "2024-06-01",
        "customer is renamed customer_id",
        frozenset({"order"}),
        _customer_not_customer_id,
        upgrade=_customer_id_not_customer,
    ),
)
LATEST = CHANGES[0].version
VERSIONS = (*(c.version for c in CHANGES), INITIAL_VERSION)  # newest first


def render(resource: str, latest_body: Body, version: str) -> tuple[Body, list[str]]:
    """The body `version` promised, made from the latest shape; also the steps applied."""
    if version not in VERSIONS:
        raise UnknownVersion(version)
    body, applied = copy.deepcopy(latest_body), []
    for change in CHANGES:  # newest first, stopping at the client's version
        if change.version <= version:
            break
        if resource in change.resources:
            body = change.downgrade(body)
            applied.append(change.version)
    return body, applied


class UnknownVersion(ValueError):
    """A version string that names no version of this API."""


def upgrade_request(
    resource: str, params: dict[str, str], version: str
) -> tuple[dict[str, str], list[str]]:
    """Query parameters sent at `version`, renamed to the latest names; also the steps run."""
    if version not in VERSIONS:
        raise UnknownVersion(version)
    params, applied = dict(params), []
    for change in reversed(CHANGES):  # oldest first, from the first change after `version`
        if change.version > version and resource in change.resources and change.upgrade:
            params = change.upgrade(params)
            applied.append(change.version)
    return params, applied


# -- Lifecycle: deprecation, brown-outs, sunset ------------------------------------


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@dataclass(frozen=True)
class Retirement:
    """When a version is deprecated, when it is switched off, and its brown-outs."""

    deprecated_at: datetime
    sunset_at: datetime
    brownouts: tuple[tuple[datetime, timedelta], ...] = ()

    def __post_init__(self) -> None:
        # RFC 9745 section 4: the Sunset time must not be earlier than the Deprecation time.
        if self.sunset_at < self.deprecated_at:
            raise ValueError("a version cannot be switched off before it is deprecated")
        for start, length in self.brownouts:
            if not (self.deprecated_at <= start and start + length <= self.sunset_at):
                raise ValueError("brown-outs belong between deprecation and sunset")

    def in_brownout(self, now: datetime) -> bool:
        return any(start <= now < start + length for start, length in self.brownouts)


RETIREMENTS = {
    "2024-01-15": Retirement(
        deprecated_at=utc(2025, 1, 1),
        sunset_at=utc(2025, 7, 1),
        brownouts=(
            (utc(2025, 5, 1, 14), timedelta(hours=12)),
            (utc(2025, 5, 31, 14), timedelta(hours=24)),
        ),
    ),
}


def deprecation_headers(version: str) -> dict[str, str]:
    """Deprecation (RFC 9745), Sunset (RFC 8594) and Link headers for a retiring version."""
    retirement = RETIREMENTS.get(version)
    if retirement is None:
        return {}
    return {
        # A structured-field Date: "@" and integer seconds since 1970-01-01T00:00:00Z.
        "Deprecation": f"@{int(retirement.deprecated_at.timestamp())}",
        # An HTTP-date (IMF-fixdate), always written in GMT.
        "Sunset": format_datetime(retirement.sunset_at, usegmt=True),
        "Link": (f'<{DOCS}/{version}>; rel="deprecation", <{DOCS}/sunset-policy>; rel="sunset"'),
    }


# -- The service -------------------------------------------------------------------

ORDERS: dict[str, Body] = {  # stored in the latest shape
    "ord_1001": {
        "id": "ord_1001",
        "object": "order",
        "customer_id": "cus_42",
        "amount": {"value": 4200, "currency": "eur"},
        "amount_refunded": {"value": 1200, "currency": "eur"},
        "status": "partially_refunded",
        "created": 1735732800,
    },
    "ord_1002": {
        "id": "ord_1002",
        "object": "order",
        "customer_id": "cus_7",
        "amount": {"value": 990, "currency": "eur"},
        "amount_refunded": {"value": 0, "currency": "eur"},
        "status": "paid",
        "created": 1735819200,
    },
}


@dataclass
class Account:
    consumer: str
    pinned: str | None = None  # set to the latest version at the account's first request


@dataclass
class Usage:
    """Requests counted by (consumer, version, outcome); outcome is ok, brownout or gone."""

    records: list[tuple[datetime, str, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, now: datetime, consumer: str, version: str, outcome: str) -> None:
        with self.lock:
            self.records.append((now, consumer, version, outcome))

    def by_consumer(self, version: str) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for _, consumer, v, outcome in self.records:
            if v == version:
                per = counts.setdefault(consumer, {})
                per[outcome] = per.get(outcome, 0) + 1
        return counts


def problem(status: int, kind: str, title: str, detail: str, **extra: Any) -> Body:
    """An RFC 9457 problem-details body."""
    return {
        "type": f"https://api.example.com/problems/{kind}",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }


class ContractServer:
    """The versioned orders API on 127.0.0.1, with an injectable clock."""

    def __init__(self, accounts: dict[str, Account], clock: Callable[[], datetime]) -> None:
        self.accounts, self.clock, self.usage = accounts, clock, Usage()
        self.pin_lock = threading.Lock()

    def handle(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], Body]:
        """Answer one GET: (status, response headers, JSON body)."""
        key = headers.get("authorization", "").removeprefix("Bearer ")
        account = self.accounts.get(key)
        if account is None:
            return 401, {}, problem(401, "unauthenticated", "Unknown API key", "Send a key.")
        requested = headers.get("api-version")
        if requested is not None and requested not in VERSIONS:
            supported = list(VERSIONS)
            detail = (
                f"{requested!r} is not a version of this API. Supported: {', '.join(supported)}."
            )
            body = problem(400, "unknown-version", "Unknown API version", detail)
            return 400, {}, body | {"supported_versions": supported}
        with self.pin_lock:
            if account.pinned is None:
                account.pinned = LATEST  # pinned at the account's first request, as Stripe does
            version = requested or account.pinned
        now = self.clock()
        # The body depends on a request header, so caches must key on it too.
        out = {"Api-Version": version, "Vary": "Api-Version", **deprecation_headers(version)}
        retirement = RETIREMENTS.get(version)
        if retirement and (now >= retirement.sunset_at or retirement.in_brownout(now)):
            gone = now >= retirement.sunset_at
            self.usage.add(now, account.consumer, version, "gone" if gone else "brownout")
            if not gone:  # a 410 is cacheable by default; this one ends with the window
                out["Cache-Control"] = "no-store"
            what = "was removed" if gone else "is in a scheduled brown-out"
            detail = f"API version {version} {what}. Send Api-Version: {LATEST}."
            kind = "version-removed" if gone else "version-brownout"
            return 410, out, problem(410, kind, "API version unavailable", detail)
        url = urlsplit(path)
        if url.path == "/orders":
            return self.list_orders(dict(parse_qsl(url.query)), version, now, account, out)
        order = ORDERS.get(url.path.removeprefix("/orders/"))
        if not url.path.startswith("/orders/") or order is None:
            return 404, out, problem(404, "not-found", "Not found", f"No resource at {path}.")
        body, _ = render("order", order, version)
        self.usage.add(now, account.consumer, version, "ok")
        return 200, out, body

    def list_orders(
        self, query: dict[str, str], version: str, now: datetime, account: Account, out: dict
    ) -> tuple[int, dict[str, str], Body]:
        """GET /orders?customer_id=...: the handler knows only the latest parameter names."""
        params, _ = upgrade_request("order", query, version)
        unknown = sorted(set(params) - {"customer_id"})
        if unknown:
            detail = f"API version {version} has no query parameter {unknown[0]!r}."
            return 400, out, problem(400, "unknown-parameter", "Unknown parameter", detail)
        wanted = params.get("customer_id")
        found = [o for o in ORDERS.values() if wanted in (None, o["customer_id"])]
        self.usage.add(now, account.consumer, version, "ok")
        return 200, out, {"object": "list", "data": [render("order", o, version)[0] for o in found]}


# -- Webhook events --------------------------------------------------------------------

EVENT = {  # stored once, in the latest shape
    "id": "evt_501",
    "type": "order.updated",
    "created": 1741608000,
    "data": {"object": ORDERS["ord_1001"]},
}


def render_event(event: Body, version: str) -> Body:
    """The payload a subscription pinned to `version` receives: same id, that version's shape."""
    resource = event["data"]["object"]["object"]
    body, _ = render(resource, event["data"]["object"], version)
    return {**event, "api_version": version, "data": {"object": body}}


@dataclass
class Inbox:
    """A consumer moving its webhook from one version to another, Stripe's way.

    Both endpoints receive every event while the move is under way; the consumer
    handles only the version it has switched to, and each event id once.
    """

    handling: str  # the version whose payloads this consumer processes
    handled: list[Body] = field(default_factory=list)

    def receive(self, payload: Body) -> str:
        if payload["api_version"] != self.handling:
            return "skipped"
        if any(seen["id"] == payload["id"] for seen in self.handled):
            return "duplicate"
        self.handled.append(payload)
        return "handled"


def encode(body: Body) -> bytes:
    """The wire form: sorted keys, so a version's bytes change only when its content does."""
    return json.dumps(body, sort_keys=True).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the lifecycle run reuses one connection
    service: ContractServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle's algorithm
        # and the client's delayed ACK add about 40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, extra, body = self.service.handle(self.path, headers)
        payload = encode(body)
        self.send_response(status)
        media = "application/json" if status == 200 else "application/problem+json"
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(service: ContractServer) -> Iterator[str]:
    """Run the service on 127.0.0.1 with an ephemeral port; yield "host:port"."""
    handler = type("Handler", (_Handler,), {"service": service})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    raw: bytes

    def json(self) -> Body:
        return json.loads(self.raw)


def get(
    connection: http.client.HTTPConnection, path: str, key: str, version: str | None = None
) -> Reply:
    """One GET over an open connection, with an optional Api-Version header."""
    headers = {"Authorization": f"Bearer {key}"}
    if version is not None:
        headers["Api-Version"] = version
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    return Reply(response.status, dict(response.getheaders()), response.read())


# -- Clients written against 2024-01-15 ----------------------------------------------

FIELDS_2024_01_15 = {"id", "object", "customer", "amount", "currency", "amount_refunded"}
FIELDS_2024_01_15 |= {"status", "created"}
STATUSES_2024_01_15 = {"pending", "paid", "refunded"}


def strict_read(body: Body) -> tuple[str, int, str]:
    """A reader like a generated client with a closed enum and fail-on-unknown-fields.

    Returns (customer, amount in cents, status); raises ValueError otherwise.
    """
    unknown = set(body) - FIELDS_2024_01_15
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}")
    if body["status"] not in STATUSES_2024_01_15:
        raise ValueError(f"unknown status {body['status']!r}")
    if not isinstance(body["amount"], int):
        raise ValueError("amount is not an integer")
    return body["customer"], body["amount"], body["status"]


def tolerant_read(body: Body) -> tuple[str, int, str]:
    """A tolerant reader: ignores unknown fields, maps unknown statuses to "unknown"."""
    status = body["status"] if body["status"] in STATUSES_2024_01_15 else "unknown"
    return body["customer"], body["amount"], status


# -- A retirement, end to end -----------------------------------------------------------


class SimClock:
    """A settable clock, so a six-month retirement runs in a second."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class Consumer:
    """A scripted consumer of 2024-01-15 and the event that makes its team migrate."""

    name: str
    call_hours: tuple[int, ...]  # UTC hours of the day at which it calls
    migrates_after: str  # "header" (it alerts on Deprecation), "failure" or "never"
    delay_days: int = 0  # days from that event to its switch to the latest version


CONSUMERS = (
    Consumer("billing-sync", (0, 6, 12, 18), "header", delay_days=21),
    Consumer("partner-erp", (0, 6, 12, 18), "failure", delay_days=10),
    Consumer("ops-report", (6,), "never"),
)
DAY_0 = RETIREMENTS[INITIAL_VERSION].deprecated_at
DAYS = 200


@dataclass(frozen=True)
class Lifecycle:
    """Per-day calls and failures on the retiring version, per consumer, and the timeline."""

    calls: dict[str, tuple[int, ...]]  # requests per day sent with 2024-01-15
    failures: dict[str, tuple[int, ...]]  # of those, answered 410
    moved_on: dict[str, int | None]  # the day its client switched to the latest version
    events: dict[str, int]  # deprecation, brown-outs and sunset, as day numbers


def day_of(moment: datetime) -> int:
    return (moment - DAY_0) // timedelta(days=1)


@functools.cache
def lifecycle_usage() -> Lifecycle:
    """Run the scripted consumers through the real server for DAYS days.

    Each consumer's client sends Api-Version: 2024-01-15 until its team moves
    it to the latest version; the server's usage records give the daily counts.
    """
    keys = {f"key_{c.name}": Account(c.name) for c in CONSUMERS}
    clock = SimClock(DAY_0)
    service = ContractServer(keys, clock)
    switch_day: dict[str, int | None] = {c.name: None for c in CONSUMERS}
    with serve(service) as address:
        connection = http.client.HTTPConnection(address, timeout=5)
        for day in range(DAYS):
            for hour in range(24):
                clock.now = DAY_0 + timedelta(days=day, hours=hour)
                for c in CONSUMERS:
                    if hour not in c.call_hours:
                        continue
                    moved = switch_day[c.name] is not None and day >= switch_day[c.name]
                    reply = get(
                        connection,
                        "/orders/ord_1001",
                        f"key_{c.name}",
                        LATEST if moved else INITIAL_VERSION,
                    )
                    trigger = {
                        "header": "Deprecation" in reply.headers,
                        "failure": reply.status == 410,
                    }.get(c.migrates_after, False)
                    if trigger and switch_day[c.name] is None:
                        switch_day[c.name] = day + c.delay_days
        connection.close()
    calls = {c.name: [0] * DAYS for c in CONSUMERS}
    failures = {c.name: [0] * DAYS for c in CONSUMERS}
    for moment, consumer, version, outcome in service.usage.records:
        if version == INITIAL_VERSION:
            calls[consumer][day_of(moment)] += 1
            failures[consumer][day_of(moment)] += outcome != "ok"
    retirement = RETIREMENTS[INITIAL_VERSION]
    events = {"deprecation": day_of(retirement.deprecated_at)}
    for n, (start, _) in enumerate(retirement.brownouts, 1):
        events[f"brown-out {n}"] = day_of(start)
    events["sunset"] = day_of(retirement.sunset_at)
    return Lifecycle(
        {k: tuple(v) for k, v in calls.items()},
        {k: tuple(v) for k, v in failures.items()},
        switch_day,
        events,
    )


# -- Demonstration ---------------------------------------------------------------------


def main() -> None:
    """Print the version chain, the headers and the retirement the article walks through."""
    print("Versions, newest first, with the breaking change each one made:")
    for change in CHANGES:
        print(f"  {change.version}  {change.description}")
    print(f"  {INITIAL_VERSION}  initial version")

    accounts = {"key_new": Account("new-shop"), "key_old": Account("old-shop", INITIAL_VERSION)}
    clock = SimClock(utc(2025, 3, 10, 12))
    service = ContractServer(accounts, clock)
    with serve(service) as address:
        connection = http.client.HTTPConnection(address, timeout=5)
        print("\nGET /orders/ord_1001 over HTTP on 127.0.0.1, once per version:")
        for version in VERSIONS:
            reply = get(connection, "/orders/ord_1001", "key_new", version)
            body = reply.json()
            _, steps = render("order", ORDERS["ord_1001"], version)
            who = "customer_id" if "customer_id" in body else "customer"
            amount = json.dumps(body["amount"], separators=(",", ":"))
            print(f"  {version}  steps run: {', '.join(steps) or 'none'}")
            print(f"    status={body['status']}  amount={amount}  {who}={body[who]}")

        reply = get(connection, "/orders/ord_1001", "key_old")
        print(f"\nNo Api-Version header, account pinned to {INITIAL_VERSION}:")
        print(f"  {reply.status}, Api-Version: {reply.headers['Api-Version']}")
        for name in ("Deprecation", "Sunset"):
            print(f"  {name}: {reply.headers[name]}")
        first, second = reply.headers["Link"].split(", ")  # one field holding two links
        print(f"  Link: {first},\n        {second}")
        latest = get(connection, "/orders/ord_1001", "key_new", LATEST)
        print(f"  (for {LATEST}: Deprecation header present: {'Deprecation' in latest.headers})")

        print(f"\nA client written for {INITIAL_VERSION} reading ord_1001:")
        print(f"  strict reader, pinned response:  {strict_read(reply.json())}")
        try:
            strict_read(latest.json())
        except ValueError as error:
            print(f"  strict reader, latest shape:     fails: {error}")
        with_field = reply.json() | {"receipt_url": "https://example.com/r/1001"}
        try:
            strict_read(with_field)
        except ValueError as error:
            print(f"  strict reader, one added field:  fails: {error}")
        print(f"  tolerant reader, one added field: {tolerant_read(with_field)}")

        print("\nGET /orders?customer=cus_42, a parameter renamed customer_id in 2024-06-01:")
        for key, version in (("key_old", None), ("key_new", LATEST)):
            reply = get(connection, "/orders?customer=cus_42", key, version)
            body = reply.json()
            if reply.status == 200:
                found = ", ".join(f"{o['id']} with customer={o['customer']}" for o in body["data"])
            else:
                found = body["detail"]
            print(f"  at {reply.headers['Api-Version']}: {reply.status} {found}")

        bad = get(connection, "/orders/ord_1001", "key_new", "2024-02-30")
        print(f"\nApi-Version: 2024-02-30 -> {bad.status}")
        print(textwrap.fill(bad.json()["detail"], 88, initial_indent="  ", subsequent_indent="  "))
        print(f"\n{INITIAL_VERSION} requested later in its retirement:")
        for moment, label in (
            (utc(2025, 5, 1, 15), "inside brown-out 1"),
            (utc(2025, 7, 2), "after the sunset"),
        ):
            clock.now = moment
            reply = get(connection, "/orders/ord_1001", "key_old")
            kind = reply.json()["type"].rsplit("/", 1)[1]
            print(f"  request at {moment:%Y-%m-%d %H:%M} UTC, {label}: {reply.status} {kind}")
        connection.close()

    print(f"\nOne event delivered to two webhook endpoints while a consumer moves to {LATEST}:")
    old = "2024-06-01"
    inbox = Inbox(handling=old)
    for handling, version in ((old, old), (old, LATEST), (LATEST, LATEST)):
        inbox.handling = handling  # the consumer flips once its code reads the new shape
        payload = render_event(EVENT, version)
        status = payload["data"]["object"]["status"]
        outcome = inbox.receive(payload)
        print(f"  handling {handling}, {payload['id']} at {version} (status={status}): {outcome}")

    life = lifecycle_usage()
    events = ", ".join(f"{name} day {day}" for name, day in life.events.items())
    print(f"\nRetiring {INITIAL_VERSION}, {DAYS} days of scripted consumers calling the server")
    print(f"  ({events}):")
    print(
        f"  {'consumer':<14}{'moves after':<13}{'moved':>7}{'brown-out 410s':>16}"
        f"{'last old call':>15}{'410s after sunset':>19}"
    )
    sunset = life.events["sunset"]
    for c in CONSUMERS:
        last = max(d for d, n in enumerate(life.calls[c.name]) if n)
        before = sum(life.failures[c.name][:sunset])
        after = sum(life.failures[c.name][sunset:])
        moved = life.moved_on[c.name]
        print(
            f"  {c.name:<14}{c.migrates_after:<13}{'never' if moved is None else f'day {moved}':>7}"
            f"{before:>16}{f'day {last}':>15}{after:>19}"
        )


if __name__ == "__main__":
    main()
