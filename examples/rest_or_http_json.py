"""REST or just HTTP with JSON? "Cancel an order" three ways, on real HTTP.

One in-memory order store sits behind three standard-library HTTP servers on
127.0.0.1, each on an ephemeral port:

- level 0, an RPC tunnel: every call is ``POST /api`` with an ``action``
  field, and every answer is ``200 OK`` with the outcome inside the body;
- level 2, resources and HTTP semantics: ``GET`` with an ``ETag``, conditional
  ``PATCH`` and ``POST /orders/{id}:cancel`` that require ``If-Match`` (428
  without it, 412 when it is stale, 409 when the state forbids the change),
  ``304 Not Modified`` for revalidation, ``201 Created`` with ``Location``, and
  RFC 9457 problem details for every error;
- level 3, hypermedia: the same server, whose representation carries a
  ``cancel`` link only while cancelling is allowed.

A recording client (:class:`Wire`) keeps every exchange as a proxy's access
log would, so the tests and the figure can assert what was on the wire. After
a 412 the level-2 and level-3 clients read the order again and ask the user
again (``confirm``); they never resend a decision made on the old read.

Run it with ``python -m examples.rest_or_http_json``.
"""

from __future__ import annotations

import http.client
import json
import math
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

# --------------------------------------------------------------------------
# The domain: orders, versions and the one rule about cancelling
# --------------------------------------------------------------------------

CANCELLABLE = frozenset({"placed"})  # the business rule every client must not copy
PROBLEMS = "https://api.example.com/problems/"  # the base URI of problem types


@dataclass(frozen=True)
class Order:
    """One order. ``version`` grows by one with every change."""

    id: str
    status: str  # placed, shipped or cancelled
    items: tuple[str, ...]
    version: int = 1
    cancelled_from: int | None = None  # the version a cancel was applied to


class NotFound(Exception):
    """No order has this id."""


class Stale(Exception):
    """The caller's version is not the current one (the order changed since they read it)."""


class Conflict(Exception):
    """The order's current state forbids the change."""

    def __init__(self, order: Order, reason: str) -> None:
        super().__init__(reason)
        self.order = order
        self.reason = reason


class OrderStore:
    """Thread-safe orders with compare-and-set on their version."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._orders: dict[str, Order] = {}
        self._next_id = 1001

    def create(self, items: tuple[str, ...], status: str = "placed") -> Order:
        with self._lock:
            order = Order(str(self._next_id), status, tuple(items))
            self._next_id += 1
            self._orders[order.id] = order
            return order

    def get(self, order_id: str) -> Order:
        with self._lock:
            if order_id not in self._orders:
                raise NotFound(order_id)
            return self._orders[order_id]

    def ship(self, order_id: str) -> Order:
        """The warehouse ships the order: a change no API client made."""
        with self._lock:
            order = self._orders[order_id]
            shipped = replace(order, status="shipped", version=order.version + 1)
            self._orders[order_id] = shipped
            return shipped

    def replace_items(self, order_id: str, items: tuple[str, ...], expected: int | None) -> Order:
        """Set the item list; ``expected`` is the version the caller read (None skips it)."""
        with self._lock:
            order = self._current(order_id, expected)
            if order.status != "placed":
                raise Conflict(order, "order-not-editable")
            updated = replace(order, items=tuple(items), version=order.version + 1)
            self._orders[order_id] = updated
            return updated

    def cancel(self, order_id: str, expected: int | None) -> Order:
        """Cancel if allowed. ``expected``: the version the caller read (None skips the
        check, as the tunnel and the warehouse do)."""
        with self._lock:
            order = self._orders.get(order_id)
            if order is None:
                raise NotFound(order_id)
            if expected is not None and expected != order.version:
                # RFC 9110 13.1.1: a change already applied may get a 2xx.
                applied = order.cancelled_from == expected
                if order.status == "cancelled" and applied:
                    return order
                raise Stale(order_id)
            if order.status == "cancelled":
                return order
            if order.status not in CANCELLABLE:
                raise Conflict(order, "order-not-cancellable")
            cancelled = replace(
                order,
                status="cancelled",
                version=order.version + 1,
                cancelled_from=order.version,
            )
            self._orders[order_id] = cancelled
            return cancelled

    def _current(self, order_id: str, expected: int | None) -> Order:
        order = self._orders.get(order_id)
        if order is None:
            raise NotFound(order_id)
        if expected is not None and expected != order.version:
            raise Stale(order_id)
        return order


def order_json(order: Order) -> dict[str, Any]:
    return {"id": order.id, "status": order.status, "items": list(order.items)}


# --------------------------------------------------------------------------
# The servers
# --------------------------------------------------------------------------


class JsonHandler(BaseHTTPRequestHandler):
    """Shared plumbing: read a JSON body, write a JSON (or empty) response."""

    protocol_version = "HTTP/1.1"
    store: ClassVar[OrderStore]

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep the demo's output to what it prints on purpose

    def version_string(self) -> str:
        return "orders"  # the Server header, the same length on every Python version

    def read_json(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"null")

    def reply(
        self,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        media_type: str = "application/json",
    ) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != 304:
            if data:
                self.send_header("Content-Type", media_type)
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


TUNNEL_CODES = {"order-not-cancellable": "NOT_CANCELLABLE", "order-not-editable": "NOT_EDITABLE"}


class TunnelHandler(JsonHandler):
    """Level 0: one endpoint, an ``action`` field, and ``200 OK`` whatever happened."""

    def do_POST(self) -> None:
        if self.path != "/api":
            self.reply(404, {"ok": False, "error": "NO_SUCH_ENDPOINT"})
            return
        call = self.read_json()
        action, order_id = call.get("action"), str(call.get("order_id"))
        try:
            if action == "get":
                order = self.store.get(order_id)
            elif action == "update":
                order = self.store.replace_items(order_id, tuple(call["items"]), expected=None)
            elif action == "cancel":
                order = self.store.cancel(order_id, expected=None)
            else:
                self.reply(200, {"ok": False, "error": "UNKNOWN_ACTION"})
                return
        except NotFound:
            self.reply(200, {"ok": False, "error": "NOT_FOUND"})
        except Conflict as exc:
            self.reply(200, {"ok": False, "error": TUNNEL_CODES[exc.reason]})
        else:
            self.reply(200, {"ok": True, "order": order_json(order)})


ORDER = re.compile(r"^/orders/(\d+)$")
CANCEL = re.compile(r"^/orders/(\d+):cancel$")


def etag(order: Order) -> str:
    """A strong entity tag: the version, quoted as RFC 9110 8.8.3 requires."""
    return f'"{order.version}"'


def expected_version(if_match: str | None) -> int | None:
    """The version a write's ``If-Match`` names, or None when the client names none.

    ``If-Match: *`` (any current version) counts as none: it proves no read. A weak
    (``W/"1"``) or foreign tag gives 0, which matches nothing: If-Match compares strongly.
    """
    if if_match is None or if_match.strip() == "*":
        return None
    match = re.fullmatch(r'"(\d+)"', if_match.strip())
    return int(match.group(1)) if match else 0


class ResourceHandler(JsonHandler):
    """Level 2: resources, methods with their RFC 9110 meaning, status codes, validators."""

    media_type = "application/json"
    cancel_pattern: ClassVar[re.Pattern[str]] = CANCEL

    def represent(self, order: Order) -> dict[str, Any]:
        return order_json(order)

    def send_order(self, status: int, order: Order, extra: dict[str, str] | None = None) -> None:
        headers = {"ETag": etag(order), "Cache-Control": "private, no-cache", **(extra or {})}
        self.reply(status, self.represent(order), headers, self.media_type)

    def problem(self, status: int, kind: str, title: str, detail: str = "", **more: Any) -> None:
        """An RFC 9457 problem details body: the five standard members, then extensions."""
        self.server.problems += 1  # type: ignore[attr-defined]
        body = {
            "type": PROBLEMS + kind,
            "title": title,
            "status": status,
            "detail": detail or f"{title}: {self.command} {self.path}.",
            "instance": f"urn:example:request:{self.server.problems}",  # type: ignore[attr-defined]
            **more,
        }
        self.reply(status, body, media_type="application/problem+json")

    def do_GET(self) -> None:
        match = ORDER.match(self.path)
        if not match:
            return self.problem(404, "no-such-resource", "Not found")
        try:
            order = self.store.get(match[1])
        except NotFound:
            return self.problem(404, "order-not-found", "Order not found")
        # If-None-Match uses the weak comparison (RFC 9110 13.1.2): ignore any W/ prefix.
        seen = [
            t.strip().removeprefix("W/") for t in self.headers.get("If-None-Match", "").split(",")
        ]
        if etag(order) in seen:
            self.reply(304, headers={"ETag": etag(order), "Cache-Control": "private, no-cache"})
            return
        self.send_order(200, order)

    def do_POST(self) -> None:
        if self.path == "/orders":
            order = self.store.create(tuple(self.read_json()["items"]))
            self.send_order(201, order, {"Location": f"/orders/{order.id}"})
            return
        match = self.cancel_pattern.match(self.path)
        if not match:
            return self.problem(404, "no-such-resource", "Not found")
        self.cancel(match[1])

    def cancel(self, order_id: str) -> None:
        """``POST /orders/{id}:cancel``: a custom method, needs If-Match."""
        expected = expected_version(self.headers.get("If-Match"))
        if expected is None:  # no tag read, or "*": every client reads before deciding
            return self.problem(428, "precondition-required", "If-Match required")
        try:
            order = self.store.cancel(order_id, expected)
        except NotFound:
            return self.problem(404, "order-not-found", "Order not found")
        except Stale:  # changed since the client read it: read again, decide again
            return self.problem(412, "stale-order", "Order changed since read")
        except Conflict as exc:  # the state forbids it, whatever the client knew
            state = exc.order.status
            allowed = ", ".join(sorted(CANCELLABLE))
            detail = f"Order {order_id} is {state}; cancellable: {allowed}."
            title = "Order cannot be cancelled"
            return self.problem(409, exc.reason, title, detail, state=state)
        self.send_order(200, order)

    def do_PATCH(self) -> None:
        """JSON merge patch (RFC 7396) of the item list, conditional on ``If-Match``."""
        match = ORDER.match(self.path)
        if not match:
            return self.problem(404, "no-such-resource", "Not found")
        if self.headers.get("Content-Type") != "application/merge-patch+json":
            return self.reply(415, None, {"Accept-Patch": "application/merge-patch+json"})
        expected = expected_version(self.headers.get("If-Match"))
        if expected is None:
            return self.problem(428, "precondition-required", "If-Match required")
        patch = self.read_json()
        items = patch.get("items") if isinstance(patch, dict) else None
        if not (isinstance(items, list) and all(isinstance(i, str) for i in items)):
            errors = [{"pointer": "#/items", "detail": "must be a list of strings"}]
            detail = "One field is invalid; see errors."
            return self.problem(422, "invalid-items", "Invalid items", detail, errors=errors)
        try:
            order = self.store.replace_items(match[1], tuple(items), expected)
        except NotFound:
            return self.problem(404, "order-not-found", "Order not found")
        except Stale:
            return self.problem(412, "stale-order", "Order changed since read")
        except Conflict as exc:
            return self.problem(409, exc.reason, "Order cannot be edited", state=exc.order.status)
        self.send_order(200, order)


class HypermediaHandler(ResourceHandler):
    """Level 3: the representation says what the client may do next."""

    media_type = "application/hal+json"
    cancel_template: ClassVar[str] = "/orders/{id}:cancel"

    def represent(self, order: Order) -> dict[str, Any]:
        links = {"self": {"href": f"/orders/{order.id}"}}
        if order.status in CANCELLABLE:
            links["cancel"] = {"href": self.cancel_template.format(id=order.id)}
        return {**order_json(order), "_links": links}


def moved_cancel_handler() -> type[HypermediaHandler]:
    """The level-3 server after a refactoring moved cancellation to its own sub-resource."""

    class Moved(HypermediaHandler):
        cancel_template = "/orders/{id}/cancellation"
        cancel_pattern = re.compile(r"^/orders/(\d+)/cancellation$")

    return Moved


@contextmanager
def serve(handler: type[JsonHandler], store: OrderStore) -> Iterator[str]:
    """Run ``handler`` over ``store`` on 127.0.0.1 with an ephemeral port; yield host:port."""
    bound = type(handler.__name__, (handler,), {"store": store})
    server = ThreadingHTTPServer(("127.0.0.1", 0), bound)
    server.problems = 0  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# --------------------------------------------------------------------------
# A client that records the wire
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Exchange:
    """One request and its response, as an access log would record them."""

    method: str
    path: str
    request_headers: dict[str, str]
    request_body: Any
    status: int
    headers: dict[str, str]  # response headers, names in lower case
    body: Any
    body_bytes: int
    header_bytes: int  # status line and header block, as sent

    @property
    def request_line(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Wire:
    """An ``http.client`` wrapper that keeps every exchange."""

    address: str
    log: list[Exchange] = field(default_factory=list)

    def send(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Exchange:
        headers = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        connection = http.client.HTTPConnection(self.address, timeout=5)
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            raw = response.read()
            answer = Exchange(
                method=method,
                path=path,
                request_headers=headers,
                request_body=body,
                status=response.status,
                headers={k.lower(): v for k, v in response.getheaders()},
                body=json.loads(raw) if raw else None,
                body_bytes=len(raw),
                header_bytes=len(f"HTTP/1.1 {response.status} {response.reason}\r\n")
                + sum(len(f"{name}: {value}\r\n") for name, value in response.getheaders())
                + 2,
            )
        finally:
            connection.close()
        self.log.append(answer)
        return answer


@dataclass(frozen=True)
class View:
    """What a level-2 or level-3 client holds after reading an order."""

    id: str
    etag: str
    body: dict[str, Any]

    @property
    def links(self) -> dict[str, dict[str, str]]:
        return self.body.get("_links", {})


def read_order(wire: Wire, path: str) -> View:
    reply = wire.send("GET", path)
    return View(reply.body["id"], reply.headers["etag"], reply.body)


# The three clients: what each must know to cancel an order it has shown a user.
# ``view`` is the order as the user saw it when they clicked cancel; ``confirm``
# shows the user a fresher view and returns their new decision.
Confirm = Callable[[View], bool]

# client-code-start
TUNNEL_ERRORS = {"NOT_CANCELLABLE": "too late: shipped", "NOT_FOUND": "no such order"}


def cancel_level0(wire: Wire, order_id: str) -> str:
    call = {"action": "cancel", "order_id": order_id}
    reply = wire.send("POST", "/api", call)
    if reply.status != 200:
        return f"transport failure {reply.status}"
    if reply.body["ok"]:  # the status line said 200 either way
        return "cancelled"
    # The error strings are shared by hand between server and every client.
    return TUNNEL_ERRORS.get(reply.body["error"], "unknown error")


def cancel_level2(wire: Wire, view: View, confirm: Confirm) -> str:
    for _ in range(2):
        url = f"/orders/{view.id}:cancel"  # built from the documented template
        reply = wire.send("POST", url, headers={"If-Match": view.etag})
        if reply.status == 200:
            return "cancelled"
        if reply.status != 412:  # 404, 409, 428: the problem type says why
            return f"{reply.status} {reply.body['title']}"
        view = read_order(wire, f"/orders/{view.id}")  # changed since the user read it
        if not confirm(view):  # the user decided on the old order: ask again
            return "kept: the user declined after the change"
    return "gave up: the order keeps changing"


def cancel_level3(wire: Wire, view: View, confirm: Confirm) -> str:
    for _ in range(2):
        link = view.links.get("cancel")
        if link is None:  # the server decides; no business rule copied here
            return "not offered"
        url = link["href"]  # taken from the representation, never built
        reply = wire.send("POST", url, headers={"If-Match": view.etag})
        if reply.status == 200:
            return "cancelled"
        if reply.status != 412:  # the state can change between read and click
            return f"{reply.status} {reply.body['title']}"
        view = read_order(wire, view.links["self"]["href"])
        if "cancel" in view.links and not confirm(view):
            return "kept: the user declined after the change"
    return "gave up: the order keeps changing"


# client-code-end

# --------------------------------------------------------------------------
# Scenarios the article and the figure use
# --------------------------------------------------------------------------

LEVELS = ("level 0", "level 2", "level 3")
HANDLERS: dict[str, type[JsonHandler]] = {
    "level 0": TunnelHandler,
    "level 2": ResourceHandler,
    "level 3": HypermediaHandler,
}


@dataclass(frozen=True)
class Race:
    """One level's run of the race: read, the warehouse ships, the user clicks cancel."""

    level: str
    exchanges: tuple[Exchange, ...]
    shipped_after: int  # how many exchanges happened before the warehouse shipped
    outcome: str
    asked_after: tuple[int, ...] = ()  # exchanges before each time the user was asked again


def shipped_race() -> dict[str, Race]:
    """Each client reads order 1001, the warehouse ships it, then the user clicks cancel.

    Shown the order again after a 412, this user still wants it cancelled and confirms.
    """
    races = {}
    for level in LEVELS:
        store = OrderStore()
        order = store.create(("book", "lamp"))
        asked: list[int] = []
        with serve(HANDLERS[level], store) as address:
            wire = Wire(address)

            def confirm(view: View, wire: Wire = wire, asked: list[int] = asked) -> bool:
                asked.append(len(wire.log))
                return True

            if level == "level 0":
                wire.send("POST", "/api", {"action": "get", "order_id": order.id})
                store.ship(order.id)
                outcome = cancel_level0(wire, order.id)
            else:
                view = read_order(wire, f"/orders/{order.id}")
                store.ship(order.id)
                cancel = cancel_level2 if level == "level 2" else cancel_level3
                outcome = cancel(wire, view, confirm)
        races[level] = Race(level, tuple(wire.log), 1, outcome, tuple(asked))
    return races


def describe_request(exchange: Exchange) -> str:
    """The request as a proxy sees it: method, path and the header that matters."""
    text = exchange.request_line
    if isinstance(exchange.request_body, dict) and "action" in exchange.request_body:
        text += f"  action={exchange.request_body['action']}"
    if "If-Match" in exchange.request_headers:
        text += f"  If-Match: {exchange.request_headers['If-Match']}"
    return text


def describe_response(exchange: Exchange) -> str:
    """The response's status and the one fact a client acts on."""
    body = exchange.body if isinstance(exchange.body, dict) else {}
    if "ok" in body:
        return f"{exchange.status}  ok={str(body['ok']).lower()}" + (
            f" {body['error']}" if "error" in body else ""
        )
    if exchange.headers.get("content-type") == "application/problem+json":
        return f"{exchange.status}  {body['type'].removeprefix(PROBLEMS)}"
    text = f"{exchange.status}  ETag {exchange.headers.get('etag')}"
    if "_links" in body:
        text += "  links: " + ", ".join(body["_links"])
    return text


def hides_failure(exchange: Exchange) -> bool:
    """A 2xx whose body reports that the operation failed."""
    body = exchange.body if isinstance(exchange.body, dict) else {}
    return 200 <= exchange.status < 300 and body.get("ok") is False


def race_rows() -> list[tuple[str, str, str, str]]:
    """The figure's data: (level, request, response, kind) per exchange, plus markers.

    ``kind`` is ``exchange``, ``hidden`` (a 200 that reports a failure),
    ``event`` (the warehouse ships; the user, shown the new order, confirms again) or
    ``outcome`` (what the client concluded, and after how many requests).
    """
    rows = []
    for level, race in shipped_race().items():
        for index, exchange in enumerate(race.exchanges):
            if index == race.shipped_after:
                rows.append((level, "warehouse ships order 1001", "", "event"))
            if index in race.asked_after:
                rows.append((level, "user sees it shipped, clicks cancel again", "", "event"))
            kind = "hidden" if hides_failure(exchange) else "exchange"
            rows.append((level, describe_request(exchange), describe_response(exchange), kind))
        rows.append((level, race.outcome, f"{len(race.exchanges)} requests", "outcome"))
    return rows


# Five cancel attempts and the status line each one produces at levels 0 and 2.
Setup = Callable[[OrderStore], tuple[str, str | None]]


def _placed(store: OrderStore) -> tuple[str, str | None]:
    order = store.create(("book",))
    return order.id, etag(order)


def _shipped(store: OrderStore) -> tuple[str, str | None]:
    order = store.create(("book",))
    return order.id, etag(store.ship(order.id))


def _unknown(store: OrderStore) -> tuple[str, str | None]:
    return "9999", '"1"'


def _stale(store: OrderStore) -> tuple[str, str | None]:
    order = store.create(("book",))
    store.replace_items(order.id, ("book", "lamp"), expected=None)  # someone else edits
    return order.id, etag(order)


def _unconditional(store: OrderStore) -> tuple[str, str | None]:
    return store.create(("book",)).id, None


OUTCOMES: tuple[tuple[str, Setup], ...] = (
    ("placed order", _placed),
    ("shipped order", _shipped),
    ("unknown order", _unknown),
    ("edited by another client since read", _stale),
    ("no If-Match header", _unconditional),
)


def status_lines() -> list[tuple[str, Exchange, Exchange]]:
    """For each attempt: its name, the level-0 exchange and the level-2 exchange."""
    rows = []
    for name, setup in OUTCOMES:
        store0, store2 = OrderStore(), OrderStore()
        with serve(TunnelHandler, store0) as a0, serve(ResourceHandler, store2) as a2:
            order_id, _ = setup(store0)
            level0 = Wire(a0).send("POST", "/api", {"action": "cancel", "order_id": order_id})
            order_id, tag = setup(store2)
            headers = {"If-Match": tag} if tag else {}
            level2 = Wire(a2).send("POST", f"/orders/{order_id}:cancel", headers=headers)
        rows.append((name, level0, level2))
    return rows


@dataclass(frozen=True)
class CancelAfterEdit:
    status: str
    items: tuple[str, ...]
    agent_statuses: tuple[int, ...]
    asked_again: tuple[tuple[str, ...], ...]  # the items the agent was shown each time


def cancel_after_edit(level: str) -> CancelAfterEdit:
    """An agent decides to cancel because the lamp cannot be delivered; meanwhile the
    customer removes the lamp. Shown the new order, the agent no longer wants to cancel."""
    store = OrderStore()
    order = store.create(("book", "lamp"))
    shown: list[tuple[str, ...]] = []

    def agent_confirms(view: View) -> bool:
        shown.append(tuple(view.body["items"]))
        return "lamp" in view.body["items"]  # the reason for cancelling

    with serve(HANDLERS[level], store) as address:
        customer, agent = Wire(address), Wire(address)
        if level == "level 0":
            agent.send("POST", "/api", {"action": "get", "order_id": order.id})
            call = {"action": "update", "order_id": order.id, "items": ["book"]}
            customer.send("POST", "/api", call)
            cancel_level0(agent, order.id)
        else:
            path = f"/orders/{order.id}"
            view = read_order(agent, path)
            mine = read_order(customer, path)
            headers = {"Content-Type": "application/merge-patch+json", "If-Match": mine.etag}
            customer.send("PATCH", path, {"items": ["book"]}, headers)
            cancel_level2(agent, view, agent_confirms)
    final = store.get(order.id)
    statuses = tuple(e.status for e in agent.log)
    return CancelAfterEdit(final.status, final.items, statuses, tuple(shown))


@dataclass(frozen=True)
class LostUpdate:
    final_items: tuple[str, ...]
    agent_statuses: tuple[int, ...]


def lost_update(level: str) -> LostUpdate:
    """A customer removes the lamp while an agent, working from the same read, adds a mug."""
    store = OrderStore()
    order = store.create(("book", "lamp"))
    with serve(HANDLERS[level], store) as address:
        customer, agent = Wire(address), Wire(address)
        if level == "level 0":
            call = {"action": "get", "order_id": order.id}
            seen_by_agent = agent.send("POST", "/api", call).body["order"]["items"]
            customer.send("POST", "/api", {**call, "action": "update", "items": ["book"]})
            agent.send(
                "POST", "/api", {**call, "action": "update", "items": [*seen_by_agent, "mug"]}
            )
        else:
            path = f"/orders/{order.id}"
            view = read_order(agent, path)
            patch = {"Content-Type": "application/merge-patch+json"}
            mine = read_order(customer, path)
            customer.send("PATCH", path, {"items": ["book"]}, {**patch, "If-Match": mine.etag})
            for _ in range(2):  # on 412: read again, re-apply the intent, try again
                items = [*view.body["items"], "mug"]
                reply = agent.send(
                    "PATCH", path, {"items": items}, {**patch, "If-Match": view.etag}
                )
                if reply.status != 412:
                    break
                view = read_order(agent, path)
    return LostUpdate(store.get(order.id).items, tuple(e.status for e in agent.log))


@dataclass(frozen=True)
class Polling:
    statuses: tuple[int, ...]
    body_bytes: int
    header_bytes: int


def poll_unchanged(level: str, polls: int = 10) -> Polling:
    """A dashboard polls one unchanged order; level 2 revalidates with If-None-Match."""
    store = OrderStore()
    order = store.create(("book", "lamp", "mug", "desk", "chair"))
    with serve(HANDLERS[level], store) as address:
        wire = Wire(address)
        tag = None
        for _ in range(polls):
            if level == "level 0":
                wire.send("POST", "/api", {"action": "get", "order_id": order.id})
            else:
                reply = wire.send(
                    "GET", f"/orders/{order.id}", headers={"If-None-Match": tag} if tag else {}
                )
                tag = reply.headers.get("etag", tag)
    return Polling(
        tuple(e.status for e in wire.log),
        sum(e.body_bytes for e in wire.log),
        sum(e.header_bytes for e in wire.log),
    )


def links_by_state() -> dict[str, list[str]]:
    """The link relations a level-3 order carries in each state."""
    store = OrderStore()
    placed = store.create(("book",))
    shipped = store.create(("book",))
    store.ship(shipped.id)
    cancelled = store.create(("book",))
    store.cancel(cancelled.id, expected=None)
    with serve(HypermediaHandler, store) as address:
        wire = Wire(address)
        views = [read_order(wire, f"/orders/{o.id}") for o in (placed, shipped, cancelled)]
    return {view.body["status"]: list(view.links) for view in views}


def after_url_move() -> dict[str, str]:
    """Both clients against a server that moved cancellation to /orders/{id}/cancellation."""
    results = {}
    for level, cancel in (("level 2", cancel_level2), ("level 3", cancel_level3)):
        store = OrderStore()
        order = store.create(("book",))
        with serve(moved_cancel_handler(), store) as address:
            wire = Wire(address)
            view = read_order(wire, f"/orders/{order.id}")
            results[level] = cancel(wire, view, lambda fresh: True)
    return results


def stale_write_probability(other_writes_per_s: float, think_s: float) -> float:
    """Chance that a conditional write gets 412, if other writes to the same resource
    arrive as a Poisson process: at least one arrives while the client thinks."""
    return 1.0 - math.exp(-other_writes_per_s * think_s)


CONTENTION = ((1 / 3600, "1 per hour"), (1 / 600, "1 per 10 min"), (1 / 60, "1 per minute"))
THINK_TIMES = (10, 60, 300)


# --------------------------------------------------------------------------
# Demo
# --------------------------------------------------------------------------


def main() -> None:
    print("1. Read order 1001; the warehouse ships it; the user clicks cancel")
    print("   (! marks a 200 whose body reports a failure)")
    current = None
    for level, request, response, kind in race_rows():
        if level != current:
            print(f"  {level}")
            current = level
        if kind == "event":
            print(f"      -- {request}")
        elif kind == "outcome":
            print(f"      -- client shows: {request} ({response})")
        else:
            mark = "!" if kind == "hidden" else " "
            print(f"    {mark} {request:<40} {response}")

    print("\n2. The status line of each cancel attempt, as proxies and dashboards see it")
    print(f"  {'attempt':<37}{'level 0: POST /api':<20}level 2: POST .../{{id}}:cancel")
    for name, level0, level2 in status_lines():
        tunnel = f"{level0.status}  ok={str(level0.body['ok']).lower()}"
        print(f"  {name:<37}{tunnel:<20}{describe_response(level2)}")

    print("\n3. An agent cancels because of the lamp; meanwhile the customer removes it")
    for level in ("level 0", "level 2"):
        result = cancel_after_edit(level)
        asked = "".join(f"; shown {list(items)}, declines" for items in result.asked_again)
        print(
            f"  {level}: agent {list(result.agent_statuses)}{asked}; "
            f"order {result.status} {list(result.items)}"
        )

    print("\n4. Lost update: customer removes the lamp, agent adds a mug from the same read")
    for level in ("level 0", "level 2"):
        result = lost_update(level)
        print(
            f"  {level}: final items {list(result.final_items)}; agent's statuses "
            f"{list(result.agent_statuses)}"
        )

    print("\n5. Polling an unchanged order 10 times (bytes received)")
    for level in ("level 0", "level 2"):
        result = poll_unchanged(level)
        counts = {s: result.statuses.count(s) for s in sorted(set(result.statuses))}
        shown = ", ".join(f"{n} x {s}" for s, n in counts.items())
        print(
            f"  {level}: {shown}; body {result.body_bytes:,}, "
            f"status lines and headers {result.header_bytes:,}"
        )

    print("\n6. Level 3: link relations by state, then cancellation moves to a new URL")
    for state, rels in links_by_state().items():
        print(f"  {state:<10} links: {', '.join(rels)}")
    for level, outcome in after_url_move().items():
        print(f"  {level} client against /orders/{{id}}/cancellation: {outcome}")

    print("\n7. Chance that a conditional write gets 412 (others' writes arrive as Poisson)")
    header = "".join(f"{f'think {t} s':>13}" for t in THINK_TIMES)
    print(f"  {'other writes to the same order':<32}{header}")
    for rate, label in CONTENTION:
        cells = "".join(f"{stale_write_probability(rate, t):>13.1%}" for t in THINK_TIMES)
        print(f"  {label:<32}{cells}")


if __name__ == "__main__":
    main()
