"""Integrating an external vendor behind a boundary.

The business code talks to a port in its own vocabulary, ``PaymentProvider``.
One adapter, ``StripeLikeAdapter``, is the only code that knows a vendor's
paths, fields, statuses, error bodies and headers. It speaks a Stripe-shaped
HTTP API over ``http.client`` to ``FakeVendor``, a real ``http.server`` on
127.0.0.1 with an ephemeral port, which keeps idempotency keys (same key, same
answer, a saved 500 included; same key with other parameters, an error), answers
429 with ``Retry-After``, can commit a charge and then answer too late, renders
each response in the API version the request pins, and can report a status the
adapter has never seen.

Around the port sit a SQLite ledger with a transactional outbox, whose
executor makes each charge with a key derived from our payment-attempt id,
and a reconciliation job that compares the ledger with the vendor's list
endpoint.

Run it with ``python -m examples.vendor_integration``.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import random
import sqlite3
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Protocol

# --------------------------------------------------------------------------
# The port: what the business needs from any payment provider, in our words
# --------------------------------------------------------------------------


class PaymentState(StrEnum):
    """Our state machine for one payment attempt. The vendor's statuses map onto it."""

    # Not yet sent; sent and in progress at the provider; or sent, not answered in time,
    # and still being retried with the same key. No final answer yet, and one is coming.
    PENDING = "pending"
    ACTION_REQUIRED = "action_required"  # the customer must act (for example, 3-D Secure)
    AUTHORIZED = "authorized"  # funds held, not yet captured
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    # We cannot tell: the provider reported a status we do not understand, or the outbox
    # gave up (parked the row). Neither fulfilled nor canceled; reconciliation or a person
    # moves it on.
    UNKNOWN = "unknown"


FINAL = frozenset({PaymentState.SUCCEEDED, PaymentState.FAILED, PaymentState.CANCELED})

# Which state may follow which. Terminal states never move; UNKNOWN may become anything.
ALLOWED: dict[PaymentState, frozenset[PaymentState]] = {
    PaymentState.PENDING: frozenset(PaymentState),
    PaymentState.ACTION_REQUIRED: frozenset(PaymentState) - {PaymentState.PENDING},
    PaymentState.AUTHORIZED: frozenset(
        {PaymentState.SUCCEEDED, PaymentState.CANCELED, PaymentState.UNKNOWN}
    ),
    PaymentState.UNKNOWN: frozenset(PaymentState),
    PaymentState.SUCCEEDED: frozenset(),
    PaymentState.FAILED: frozenset(),
    PaymentState.CANCELED: frozenset(),
}


class ErrorClass(StrEnum):
    """What the caller should do about an error, whichever provider raised it."""

    RETRYABLE = "retryable"  # try again later with the same attempt (and so the same key)
    USER_FIXABLE = "user_fixable"  # the customer must change something, such as the card
    BUG = "bug"  # our integration is wrong; retrying cannot help; a person must look


class DeclineReason(StrEnum):
    """Why a payment was refused, in terms our product can explain to a customer."""

    NO_FUNDS = "no_funds"
    EXPIRED = "expired"
    OTHER = "other"


@dataclass(frozen=True)
class ChargeRequest:
    """One payment attempt, as the business describes it."""

    attempt_id: str
    amount_minor: int  # in the currency's minor unit: 1250 is 12.50
    currency: str  # ISO 4217, upper case
    payment_method_ref: str  # opaque token from the provider's browser SDK; never logged
    correlation_id: str


@dataclass(frozen=True)
class Charge:
    """A charge as our system understands it. No vendor type or vendor word crosses the port."""

    provider: str
    external_ref: str  # the provider's id: a reference we store, never a key we depend on
    attempt_id: str | None  # None when the provider holds a charge we did not make
    amount_minor: int
    currency: str
    state: PaymentState
    created: int  # when the provider created it, in Unix time (seconds)


class PaymentError(Exception):
    """Base of every error the port raises. Callers branch on ``code`` and ``error_class``."""

    code: ClassVar[str] = "PAYMENT_ERROR"
    error_class: ClassVar[ErrorClass] = ErrorClass.BUG

    def __init__(
        self, message: str, *, retry_after: float | None = None, vendor_detail: str = ""
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # seconds, when the provider told us
        self.vendor_detail = vendor_detail  # status and vendor codes, for our logs only


class ProviderUnavailable(PaymentError):
    code = "PAYMENT_PROVIDER_UNAVAILABLE"
    error_class = ErrorClass.RETRYABLE


class OutcomeUnknown(ProviderUnavailable):
    """The request may have been applied. Retry only with the same attempt, or look it up."""

    code = "PAYMENT_OUTCOME_UNKNOWN"

    def __init__(self, message: str, *, key_spent: bool = False, vendor_detail: str = "") -> None:
        super().__init__(message, vendor_detail=vendor_detail)
        # True when the provider saved this answer under our key (Stripe saves a 500): the same
        # key will only replay it, so the next try must look the charge up instead.
        self.key_spent = key_spent


class PaymentDeclined(PaymentError):
    code = "PAYMENT_DECLINED"
    error_class = ErrorClass.USER_FIXABLE

    def __init__(self, reason: DeclineReason, *, vendor_detail: str = "") -> None:
        super().__init__(f"the payment was declined ({reason})", vendor_detail=vendor_detail)
        self.reason = reason


class IntegrationBug(PaymentError):
    code = "PAYMENT_INTEGRATION_BUG"
    error_class = ErrorClass.BUG


class PaymentProvider(Protocol):
    """The port. Each provider gets one adapter that implements it."""

    name: str

    def charge(self, request: ChargeRequest) -> Charge:
        """Charge at most once per ``request.attempt_id``, however often it is called."""
        ...

    def get(self, external_ref: str) -> Charge | None:
        """The provider's current view of one charge, or None if it has no such charge."""
        ...

    def find(self, attempt_id: str, created_from: int, created_to: int) -> Charge | None:
        """The charge made for one attempt, looked up by our id rather than the provider's.

        Times are Unix seconds; keep the window narrow, because finding costs a listing of it.
        """
        ...

    def list_charges(self, created_from: int, created_to: int) -> list[Charge]:
        """Every charge the provider created in [created_from, created_to) (Unix seconds)."""
        ...


def caller_view(error: PaymentError) -> dict[str, object]:
    """What our own API tells its callers about a payment error: our codes, never the vendor's."""
    view: dict[str, object] = {
        "code": error.code,
        "retryable": error.error_class is ErrorClass.RETRYABLE,
    }
    if isinstance(error, PaymentDeclined):
        view["reason"] = str(error.reason)
    if error.retry_after is not None:
        view["retry_after_s"] = error.retry_after
    return view


# --------------------------------------------------------------------------
# The vendor: a fake, Stripe-shaped payments API on a real HTTP server
# --------------------------------------------------------------------------

API_KEY = "sk_test_demo"
# The fake vendor's two API versions, named the way Stripe names its own (a date, then the name
# of the twice-yearly major release). The breaking change between them is invented for the demo:
# in the newer one, ``amount`` is an object that also holds the currency.
PINNED_VERSION = "2024-09-30.acacia"  # the version our adapter was written and tested against
NEW_VERSION = "2025-03-31.basil"
ACCOUNT_DEFAULT_VERSION = NEW_VERSION  # someone upgraded the account in the dashboard

# Test tokens of the fake vendor and what confirming a payment with each one does.
OUTCOMES: dict[str, tuple[int, str, str]] = {
    # token: (HTTP status, status of the stored payment, decline code or "")
    "tok_ok": (200, "succeeded", ""),
    "tok_3ds": (200, "requires_action", ""),
    "tok_review": (200, "requires_review", ""),  # a status added after our pinned version
    "tok_no_funds": (402, "requires_payment_method", "insufficient_funds"),
    "tok_expired": (402, "requires_payment_method", "expired_card"),
}


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    hold: bool = False  # answer only after ``FakeVendor.let_go()``: the client will time out


@dataclass
class FakeVendor:
    """The vendor's state: payments, saved idempotent results, and scripted faults."""

    clock: Callable[[], float] = time.time
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    saved: dict[str, tuple[str, int, dict[str, Any]]] = field(default_factory=dict)
    # One per create: "", "hold", "429:<seconds>", "500" (fail before charging) or
    # "500-after-commit" (charge, then fail); a 500 is saved under the key like any result.
    faults: list[str] = field(default_factory=list)
    requests: list[tuple[str, str, str]] = field(default_factory=list)
    versions: list[str] = field(default_factory=list)  # the API version of each request
    released: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_id: int = 1
    next_request: int = 1

    def hold_next(self) -> None:
        """Make the next create commit the payment and then not answer until let_go()."""
        self.released.clear()
        self.faults.append("hold")

    def let_go(self) -> None:
        self.released.set()

    def prune_keys(self) -> None:
        """What the vendor does with keys older than its retention window (24 h at Stripe)."""
        with self.lock:
            self.saved.clear()

    def charges_for(self, attempt_id: str) -> list[str]:
        return [
            p["id"] for p in self.payments.values() if p["metadata"].get("attempt_id") == attempt_id
        ]

    def create_out_of_band(self, amount: int, currency: str) -> str:
        """A charge someone made in the vendor's dashboard: it carries none of our ids."""
        with self.lock:
            return self._store(amount, currency, "succeeded", {})["id"]

    def handle(self, method: str, path: str, params: dict[str, str], headers: Any) -> Reply:
        key = headers.get("Idempotency-Key")
        with self.lock:
            request_id = f"req_{self.next_request:04d}"
            self.next_request += 1
            self.requests.append((method, path, key or "-"))
            self.versions.append(headers.get("Stripe-Version") or "-")
            reply = self._route(method, path, params, headers, key)
        reply.headers["Request-Id"] = request_id
        return reply

    def _route(
        self, method: str, path: str, params: dict[str, str], headers: Any, key: str | None
    ) -> Reply:
        if headers.get("Authorization") != f"Bearer {API_KEY}":
            return _error(401, "invalid_request_error", "api_key_invalid")
        version = headers.get("Stripe-Version") or ACCOUNT_DEFAULT_VERSION
        if version not in (PINNED_VERSION, NEW_VERSION):
            return _error(400, "invalid_request_error", "api_version_invalid")
        if method == "POST" and path == "/v1/payment_intents":
            return self._create(params, version, key)
        if method == "GET" and path == "/v1/payment_intents":
            return self._list(params, version)
        if method == "GET" and path.startswith("/v1/payment_intents/"):
            payment = self.payments.get(path.rsplit("/", 1)[1])
            if payment is None:
                return _error(404, "invalid_request_error", "resource_missing")
            return Reply(200, _render(payment, version))
        return _error(404, "invalid_request_error", "resource_missing")

    def _create(self, params: dict[str, str], version: str, key: str | None) -> Reply:
        fault = self.faults.pop(0) if self.faults else ""
        if fault.startswith("429:"):  # the rate limiter runs before the idempotency layer
            reply = _error(429, "invalid_request_error", "rate_limit")
            reply.headers["Retry-After"] = fault.removeprefix("429:")
            return reply
        fingerprint = json.dumps(sorted(params.items()))
        if key is not None and key in self.saved:
            first_fingerprint, status, body = self.saved[key]
            if first_fingerprint != fingerprint:
                return _error(400, "idempotency_error", "idempotency_key_reused")
            return Reply(status, body, {"Idempotent-Replayed": "true"}, hold=fault == "hold")
        outcome = OUTCOMES.get(params.get("payment_method", ""))
        if outcome is None or not params.get("amount", "").isdigit():
            return _error(400, "invalid_request_error", "parameter_invalid")
        if fault == "500":  # execution began and failed before charging; the 500 is saved
            reply = _error(500, "api_error", "")
            if key is not None:
                self.saved[key] = (fingerprint, reply.status, reply.body)
            return reply
        status, payment_status, decline_code = outcome
        metadata = {
            name[len("metadata[") : -1]: value
            for name, value in params.items()
            if name.startswith("metadata[")
        }
        payment = self._store(int(params["amount"]), params["currency"], payment_status, metadata)
        if fault == "500-after-commit":  # the charge exists, but the saved answer is a 500
            status, body = 500, _error(500, "api_error", "").body
        elif status == 200:
            body = _render(payment, version)
        else:
            body = {
                "error": {
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": decline_code,
                    "payment_intent": _render(payment, version),
                }
            }
        if key is not None:  # execution began, so the result is saved, whatever it is
            self.saved[key] = (fingerprint, status, body)
        return Reply(status, body, hold=fault == "hold")

    def _store(
        self, amount: int, currency: str, status: str, metadata: dict[str, str]
    ) -> dict[str, Any]:
        payment = {
            "id": f"pi_{self.next_id:04d}",
            "amount": amount,
            "currency": currency,
            "status": status,
            "created": int(self.clock()),
            "metadata": metadata,
        }
        self.next_id += 1
        self.payments[payment["id"]] = payment
        return payment

    def _list(self, params: dict[str, str], version: str) -> Reply:
        limit = min(max(int(params.get("limit", "10")), 1), 100)
        low = int(params.get("created[gte]", "0"))
        high = int(params.get("created[lt]", str(2**62)))
        rows = sorted(
            (p for p in self.payments.values() if low <= p["created"] < high),
            key=lambda p: (p["created"], p["id"]),
            reverse=True,
        )
        after = params.get("starting_after")
        if after is not None:
            ids = [p["id"] for p in rows]
            rows = rows[ids.index(after) + 1 :] if after in ids else []
        page = rows[:limit]
        data = [_render(p, version) for p in page]
        return Reply(200, {"object": "list", "data": data, "has_more": len(rows) > limit})


def _render(payment: dict[str, Any], version: str) -> dict[str, Any]:
    """The payment as the requested API version shows it."""
    amount: object = payment["amount"]
    if version == NEW_VERSION:
        amount = {"value": payment["amount"], "currency": payment["currency"]}
    body = {"id": payment["id"], "object": "payment_intent", "amount": amount}
    if version != NEW_VERSION:
        body["currency"] = payment["currency"]
    body |= {k: payment[k] for k in ("status", "created")}
    body["metadata"] = dict(payment["metadata"])
    return body


def _error(status: int, kind: str, code: str) -> Reply:
    return Reply(status, {"error": {"type": kind, "code": code}})


class _VendorHandler(BaseHTTPRequestHandler):
    vendor: ClassVar[FakeVendor]

    def log_message(self, format: str, *args: Any) -> None:  # keep the demo output clean
        pass

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        self._answer(
            self.vendor.handle(
                "GET", url.path, dict(urllib.parse.parse_qsl(url.query)), self.headers
            )
        )

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        params = dict(urllib.parse.parse_qsl(raw))
        self._answer(self.vendor.handle("POST", self.path, params, self.headers))

    def _answer(self, reply: Reply) -> None:
        if reply.hold:  # the payment is committed and its key saved; the answer comes late
            self.vendor.released.wait(timeout=5)
        payload = json.dumps(reply.body).encode()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)


@contextlib.contextmanager
def serve_vendor(vendor: FakeVendor) -> Iterator[tuple[str, int]]:
    """Run the fake vendor on 127.0.0.1 with an ephemeral port; yield (host, port)."""
    handler = type("Handler", (_VendorHandler,), {"vendor": vendor})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield ("127.0.0.1", server.server_address[1])
    finally:
        vendor.let_go()
        server.shutdown()
        server.server_close()
        thread.join()


# --------------------------------------------------------------------------
# The adapter: the only code that knows the vendor
# --------------------------------------------------------------------------

# Parameters that may appear in our logs. Everything else is redacted, so a field added next
# year (a card number, an e-mail address) stays out of the logs until someone allows it.
LOGGED_PARAMS = frozenset(
    {
        "amount",
        "currency",
        "confirm",
        "metadata[attempt_id]",
        "metadata[correlation_id]",
        "limit",
        "created[gte]",
        "created[lt]",
        "starting_after",
    }
)


def idempotency_key_for(operation: str, our_id: str) -> str:
    """The vendor key for one operation on one of our records: recomputed, never random.

    ``charge:<attempt_id>``; a refund would use ``refund:<refund_id>`` (one per refund we
    record, since an order may be refunded in parts) and a capture ``capture:<attempt_id>``.
    """
    return f"{operation}:{our_id}"


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds (RFC 9110 also allows an HTTP date; this vendor sends seconds)."""
    if value is None or not value.strip().isdigit():
        return None
    return float(value)


@dataclass
class TokenBucket:
    """Client-side quota: spend our share of the vendor's rate limit before the vendor refuses.

    Holds up to ``burst`` tokens and refills at ``rate_per_s``; each call takes one token, and a
    call that finds none is refused here, without reaching the vendor.
    """

    rate_per_s: float
    burst: float
    clock: Callable[[], float] = time.monotonic
    tokens: float = field(init=False)
    updated: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens, self.updated = self.burst, self.clock()

    def try_take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate_per_s)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def wait_s(self) -> float:
        return max(0.0, (1 - self.tokens) / self.rate_per_s)


@dataclass
class Telemetry:
    """Per-vendor counters and request logs (a stand-in for metrics and a log pipeline)."""

    counts: Counter[str] = field(default_factory=Counter)
    lines: list[str] = field(default_factory=list)


class StripeLikeAdapter:
    """Implements ``PaymentProvider`` over the vendor's HTTP API, at pinned versions."""

    name = "stripelike"

    STATUSES: ClassVar[dict[str, PaymentState]] = {
        "requires_payment_method": PaymentState.FAILED,  # after confirming: this attempt failed
        "requires_confirmation": PaymentState.PENDING,
        "requires_action": PaymentState.ACTION_REQUIRED,
        "processing": PaymentState.PENDING,
        "requires_capture": PaymentState.AUTHORIZED,
        "canceled": PaymentState.CANCELED,
        "succeeded": PaymentState.SUCCEEDED,
    }
    DECLINES: ClassVar[dict[str, DeclineReason]] = {
        "insufficient_funds": DeclineReason.NO_FUNDS,
        "expired_card": DeclineReason.EXPIRED,
    }

    def __init__(
        self,
        address: tuple[str, int],
        *,
        api_version: str | None = PINNED_VERSION,
        canary_version: str | None = None,
        canary_percent: int = 0,
        timeout_s: float = 0.5,
        max_inline_wait_s: float = 2.0,
        max_in_flight: int = 8,
        quota: TokenBucket | None = None,
        sleep: Callable[[float], None] = time.sleep,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.address = address
        self.api_version = api_version
        self.canary_version, self.canary_percent = canary_version, canary_percent
        self.timeout_s = timeout_s
        self.max_inline_wait_s = max_inline_wait_s
        self.bulkhead = threading.BoundedSemaphore(max_in_flight)
        self.quota = quota
        self.sleep = sleep
        self.telemetry = telemetry or Telemetry()

    # The port ------------------------------------------------------------

    def charge(self, request: ChargeRequest) -> Charge:
        params = {
            "amount": str(request.amount_minor),
            "currency": request.currency.lower(),
            "payment_method": request.payment_method_ref,
            "confirm": "true",
            # Required, not decoration: find() and reconciliation match charges by it.
            "metadata[attempt_id]": request.attempt_id,
            "metadata[correlation_id]": request.correlation_id,
        }
        version = self.version_for(request.attempt_id)
        key = self.key_for("charge", request.attempt_id)
        with self._counted("charge"):
            body = self._call("POST", "/v1/payment_intents", params, key, version)
            assert body is not None
            return self._to_charge(body, version)

    def get(self, external_ref: str) -> Charge | None:
        path = "/v1/payment_intents/" + urllib.parse.quote(external_ref, safe="")
        with self._counted("get"):
            body = self._call("GET", path, {}, None, self.api_version, missing_ok=True)
            return None if body is None else self._to_charge(body, self.api_version)

    def find(self, attempt_id: str, created_from: int, created_to: int) -> Charge | None:
        """Pages the list endpoint over the window and matches the attempt id in metadata."""
        matches = [
            c for c in self.list_charges(created_from, created_to) if c.attempt_id == attempt_id
        ]
        return matches[0] if matches else None

    def list_charges(self, created_from: int, created_to: int) -> list[Charge]:
        params = {"limit": "100", "created[gte]": str(created_from), "created[lt]": str(created_to)}
        charges: list[Charge] = []
        with self._counted("list"):
            while True:
                body = self._call("GET", "/v1/payment_intents", params, None, self.api_version)
                assert body is not None
                charges += [self._to_charge(item, self.api_version) for item in body["data"]]
                if not body["has_more"]:
                    return charges
                params["starting_after"] = body["data"][-1]["id"]

    # Vendor mechanics ---------------------------------------------------------

    def key_for(self, operation: str, attempt_id: str) -> str | None:
        return idempotency_key_for(operation, attempt_id)

    def version_for(self, attempt_id: str) -> str | None:
        """The pinned version, or the canary version for a stable share of attempts."""
        if self.canary_version and int(attempt_id.encode().hex(), 16) % 100 < self.canary_percent:
            return self.canary_version
        return self.api_version

    @contextlib.contextmanager
    def _counted(self, op: str) -> Iterator[None]:
        """Count each port call by outcome: ok, or the class of the error it raised."""
        try:
            yield
        except PaymentError as exc:
            self.telemetry.counts[f"{op} {exc.error_class}"] += 1
            raise
        self.telemetry.counts[f"{op} ok"] += 1

    def _call(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        key: str | None,
        version: str | None,
        *,
        missing_ok: bool = False,
    ) -> dict[str, Any] | None:
        """One vendor call; every failure leaves as one of our errors."""
        status, body = self._send(method, path, params, key, version)
        if status == 404 and missing_ok:
            return None
        if status != 200:
            raise self._translate(method, status, body)
        return body

    def _send(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        key: str | None,
        version: str | None,
    ) -> tuple[int, dict[str, Any]]:
        if not self.bulkhead.acquire(blocking=False):
            raise ProviderUnavailable("too many calls in flight to the payment provider")
        try:
            for attempt in (1, 2):
                if self.quota is not None and not self.quota.try_take():
                    self.telemetry.counts["local_quota_refused"] += 1
                    raise ProviderUnavailable(
                        "our share of the provider's rate limit is spent",
                        retry_after=self.quota.wait_s(),
                    )
                status, headers, body = self._exchange(method, path, params, key, version)
                if status != 429:
                    return status, body
                self.telemetry.counts["rate_limited"] += 1
                wait = retry_after_seconds(headers.get("Retry-After"))
                if attempt == 1 and wait is not None and wait <= self.max_inline_wait_s:
                    self.sleep(wait)  # the vendor said when; waiting less would be refused again
                    continue
                raise ProviderUnavailable(
                    "the payment provider is rate limiting us",
                    retry_after=wait if wait is not None else 1.0,
                    vendor_detail=f"429 Retry-After={headers.get('Retry-After')}",
                )
            raise AssertionError("unreachable")
        finally:
            self.bulkhead.release()

    def _exchange(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        key: str | None,
        version: str | None,
    ) -> tuple[int, Mapping[str, str], dict[str, Any]]:
        headers = {"Authorization": f"Bearer {API_KEY}"}
        if version is not None:
            headers["Stripe-Version"] = version
        if key is not None:
            headers["Idempotency-Key"] = key
        body = None
        if method == "POST":
            body = urllib.parse.urlencode(params)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif params:
            path += "?" + urllib.parse.urlencode(params)
        connection = http.client.HTTPConnection(*self.address, timeout=self.timeout_s)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            status, raw = response.status, response.read()
            response_headers = {name: value for name, value in response.getheaders()}
        except TimeoutError as exc:
            self._log(method, path, params, key, "timeout", "-")
            if method == "POST":  # the vendor may have acted; only the same key may retry
                raise OutcomeUnknown(
                    "the payment provider did not answer in time; the charge may exist",
                    vendor_detail=f"timeout after {self.timeout_s} s",
                ) from exc
            raise ProviderUnavailable("the payment provider did not answer in time") from exc
        except ConnectionRefusedError as exc:  # nothing was sent, on any call: safe to retry
            raise ProviderUnavailable("the payment provider refused the connection") from exc
        except (OSError, http.client.HTTPException) as exc:  # sent, maybe applied
            error = OutcomeUnknown if method == "POST" else ProviderUnavailable
            raise error("the connection to the payment provider broke") from exc
        finally:
            connection.close()
        self._log(method, path, params, key, str(status), response_headers.get("Request-Id", "-"))
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise IntegrationBug("the payment provider answered with something not JSON") from exc
        return status, response_headers, data

    def _log(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        key: str | None,
        result: str,
        request_id: str,
    ) -> None:
        """One line per vendor call: our key, the vendor's request id, an allowlist of fields."""
        shown = {k: (v if k in LOGGED_PARAMS else "[redacted]") for k, v in params.items()}
        self.telemetry.lines.append(
            f"{self.name} {method} {path} key={key or '-'} -> {result}"
            f" vendor_request={request_id} {shown}"
        )

    def _translate(self, method: str, status: int, body: dict[str, Any]) -> PaymentError:
        """Vendor status and error body -> one of our error classes. Vendor codes stay in logs."""
        error = body.get("error", {}) if isinstance(body, dict) else {}
        detail = " ".join(
            str(part)
            for part in (status, error.get("type"), error.get("decline_code") or error.get("code"))
            if part
        )
        if status == 402 and error.get("type") == "card_error":
            reason = self.DECLINES.get(error.get("decline_code") or error.get("code", ""))
            return PaymentDeclined(reason or DeclineReason.OTHER, vendor_detail=detail)
        if status == 409:  # another request with this key is still running at the vendor
            return ProviderUnavailable(
                "a request for this payment is in progress", retry_after=1.0, vendor_detail=detail
            )
        if status >= 500 and method == "POST":
            # Stripe saves a 500 under the key, so the same key would only replay it.
            return OutcomeUnknown(
                "the payment provider failed; the charge may exist",
                key_spent=status == 500,
                vendor_detail=detail,
            )
        if status >= 500:
            return ProviderUnavailable("the payment provider failed", vendor_detail=detail)
        return IntegrationBug("the payment provider rejected our request", vendor_detail=detail)

    def _to_charge(self, obj: dict[str, Any], version: str | None) -> Charge:
        """Parse strictly, by the version we asked for: a shape we were not built for is our bug."""
        try:
            if version == NEW_VERSION:  # amount is {"value": ..., "currency": ...}
                amount, currency = obj["amount"]["value"], obj["amount"]["currency"]
            else:  # the pinned version, which an unpinned adapter also assumes
                amount, currency = obj["amount"], obj["currency"]
            ref, status, created = obj["id"], obj["status"], obj["created"]
            metadata = obj.get("metadata") or {}
            attempt_id = metadata.get("attempt_id")
        except (KeyError, TypeError, AttributeError) as exc:
            raise IntegrationBug(
                "unexpected payment shape", vendor_detail=f"missing {exc}"
            ) from exc
        typed = ((ref, str), (amount, int), (currency, str), (status, str), (created, int))
        if any(type(value) is not kind for value, kind in typed) or not isinstance(
            attempt_id, str | None
        ):
            raise IntegrationBug(
                "unexpected payment field types from the provider",
                vendor_detail=f"amount={amount!r} created={created!r} attempt_id={attempt_id!r}",
            )
        state = self.STATUSES.get(status)
        if state is None:  # a status we have never seen: hold it, count it, reconcile it
            state = PaymentState.UNKNOWN
            self.telemetry.counts[f"unknown_status {status}"] += 1
        return Charge(
            provider=self.name,
            external_ref=ref,
            attempt_id=attempt_id,
            amount_minor=amount,
            currency=currency.upper(),
            state=state,
            created=created,
        )


class KeylessAdapter(StripeLikeAdapter):
    """The naive integration, for comparison: the same calls without idempotency keys."""

    def key_for(self, operation: str, attempt_id: str) -> str | None:
        return None


# --------------------------------------------------------------------------
# A fake at the port, for fast tests of everything that uses the port
# --------------------------------------------------------------------------


@dataclass
class InMemoryProvider:
    """Implements the port in memory; the same contract tests run against it and the adapter."""

    name: str = "memory"
    clock: Callable[[], float] = time.time
    charges: dict[str, Charge] = field(default_factory=dict)
    fail_next: list[PaymentError] = field(default_factory=list)
    calls: int = 0

    def charge(self, request: ChargeRequest) -> Charge:
        self.calls += 1
        if self.fail_next:
            raise self.fail_next.pop(0)
        for existing in self.charges.values():
            if existing.attempt_id == request.attempt_id:
                return existing
        charge = Charge(
            provider=self.name,
            external_ref=f"mem_{len(self.charges) + 1:04d}",
            attempt_id=request.attempt_id,
            amount_minor=request.amount_minor,
            currency=request.currency,
            state=PaymentState.SUCCEEDED,
            created=int(self.clock()),
        )
        self.charges[charge.external_ref] = charge
        return charge

    def get(self, external_ref: str) -> Charge | None:
        return self.charges.get(external_ref)

    def find(self, attempt_id: str, created_from: int, created_to: int) -> Charge | None:
        return next(
            (c for c in self.list_charges(created_from, created_to) if c.attempt_id == attempt_id),
            None,
        )

    def list_charges(self, created_from: int, created_to: int) -> list[Charge]:
        return [c for c in self.charges.values() if created_from <= c.created < created_to]


# --------------------------------------------------------------------------
# Our ledger and outbox (SQLite)
# --------------------------------------------------------------------------

SCHEMA = """
CREATE TABLE payment_attempts (
    attempt_id TEXT PRIMARY KEY,          -- ours; the idempotency key is derived from it
    order_id TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    payment_method_ref TEXT NOT NULL,
    provider TEXT NOT NULL,               -- chosen once, when the attempt starts
    external_ref TEXT,                    -- the provider's id, once we learn it
    state TEXT NOT NULL,
    decline_reason TEXT,
    created_at REAL NOT NULL,             -- Unix seconds
    UNIQUE (provider, external_ref)
);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    attempt_id TEXT NOT NULL REFERENCES payment_attempts (attempt_id),
    available_at REAL NOT NULL,           -- due from then; pushed forward while a worker holds it
    tries INTEGER NOT NULL DEFAULT 0,
    first_sent_at REAL,
    last_sent_at REAL,
    key_spent INTEGER NOT NULL DEFAULT 0, -- the provider saved a 500 for our key: look up only
    status TEXT NOT NULL DEFAULT 'due',   -- due, done, parked (a person or reconciliation decides)
    last_error TEXT
);
"""

MAX_TRIES = 6  # then the row is parked: no more sends; reconciliation or a person decides
KEY_SAFE_AGE_S = 23 * 3600  # Stripe keeps keys at least 24 h; after that, look up before sending
BACKOFF_BASE_S, BACKOFF_CAP_S = 2.0, 600.0
LEASE_S = 60.0  # a claimed row is invisible to other executors this long, then due again
LOOKUP_MARGIN_S = 120  # find() lists [first send - margin, last send + margin]: clock skew


class AttemptInProgress(Exception):
    """The order already has an attempt that is not final; a second one could charge twice."""


def open_ledger() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    conn.executescript(SCHEMA)
    return conn


def start_payment(
    conn: sqlite3.Connection,
    *,
    order_id: str,
    amount_minor: int,
    currency: str,
    payment_method_ref: str,
    provider: str,
    now: float,
) -> str:
    """Record the attempt and its outbox row in one transaction; the charge happens later."""
    with conn:
        states = [
            PaymentState(state)
            for (state,) in conn.execute(
                "SELECT state FROM payment_attempts WHERE order_id = ?", (order_id,)
            )
        ]
        if any(state not in FINAL for state in states):  # pending, unknown, ...: wait for it
            raise AttemptInProgress(f"order {order_id} has a payment attempt still open")
        attempt_id = f"pa_{order_id}_{len(states) + 1}"
        conn.execute(
            "INSERT INTO payment_attempts (attempt_id, order_id, amount_minor, currency,"
            " payment_method_ref, provider, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                attempt_id,
                order_id,
                amount_minor,
                currency,
                payment_method_ref,
                provider,
                PaymentState.PENDING,
                now,
            ),
        )
        conn.execute(
            "INSERT INTO outbox (attempt_id, available_at) VALUES (?, ?)", (attempt_id, now)
        )
    return attempt_id


def record_charge(conn: sqlite3.Connection, attempt_id: str, charge: Charge) -> bool:
    """Apply the provider's view to our state machine; refuse transitions it does not allow."""
    current = PaymentState(
        conn.execute(
            "SELECT state FROM payment_attempts WHERE attempt_id = ?", (attempt_id,)
        ).fetchone()[0]
    )
    if charge.state != current and charge.state not in ALLOWED[current]:
        return False
    with conn:
        conn.execute(
            "UPDATE payment_attempts SET external_ref = ?, state = ? WHERE attempt_id = ?",
            (charge.external_ref, charge.state, attempt_id),
        )
    return True


def full_jitter(tries: int, rng: random.Random) -> float:
    """Capped exponential backoff with full jitter: a uniform wait between 0 and the cap."""
    return rng.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**tries))


def claim(conn: sqlite3.Connection, row: sqlite3.Row, now: float) -> bool:
    """Take a lease on one due row; False if another executor took it first."""
    with conn:
        taken = conn.execute(
            "UPDATE outbox SET available_at = ? WHERE id = ? AND status = 'due'"
            " AND available_at = ?",
            (now + LEASE_S, row["id"], row["available_at"]),
        ).rowcount
    return taken == 1


def run_outbox(
    conn: sqlite3.Connection,
    providers: Mapping[str, PaymentProvider],
    *,
    now: float,
    rng: random.Random,
    attempt_id: str | None = None,
) -> list[str]:
    """Make every due charge (or just ``attempt_id``'s, for the request's own fast path)."""
    done: list[str] = []
    due = conn.execute(
        "SELECT o.id, o.available_at, o.tries, o.first_sent_at, o.last_sent_at, o.key_spent,"
        " a.* FROM outbox o JOIN payment_attempts a USING (attempt_id) WHERE o.status = 'due'"
        " AND o.available_at <= ? AND (? IS NULL OR o.attempt_id = ?) ORDER BY o.id",
        (now, attempt_id, attempt_id),
    ).fetchall()
    for row in due:
        if not claim(conn, row, now):  # another executor has it; the same key makes that safe
            continue
        done.append(_try_once(conn, providers, row, now, rng))
    return done


def _try_once(
    conn: sqlite3.Connection,
    providers: Mapping[str, PaymentProvider],
    row: sqlite3.Row,
    now: float,
    rng: random.Random,
) -> str:
    provider = providers[row["provider"]]  # chosen when the attempt started, never again
    attempt, tries = row["attempt_id"], row["tries"] + 1
    first_sent = row["first_sent_at"] if row["first_sent_at"] is not None else now
    with conn:  # written before the call, so a crash mid-call leaves the evidence
        conn.execute(
            "UPDATE outbox SET tries = ?, first_sent_at = ? WHERE id = ?",
            (tries, first_sent, row["id"]),
        )
    try:
        charge, how = None, ""
        if row["key_spent"] or now - first_sent > KEY_SAFE_AGE_S:  # the key cannot answer
            last_sent = row["last_sent_at"] or first_sent
            window = (int(first_sent) - LOOKUP_MARGIN_S, int(last_sent) + LOOKUP_MARGIN_S)
            charge, how = provider.find(attempt, *window), " (found by attempt id)"
            if charge is None and row["key_spent"]:  # never a new key: it could charge twice
                raise OutcomeUnknown("no charge found for the attempt yet", key_spent=True)
        if charge is None:
            with conn:
                conn.execute("UPDATE outbox SET last_sent_at = ? WHERE id = ?", (now, row["id"]))
            charge, how = provider.charge(_request_for(row)), ""
    except PaymentDeclined as exc:
        _close(conn, row, PaymentState.FAILED, exc.reason)
        return f"{attempt}: declined ({exc.reason})"
    except ProviderUnavailable as exc:  # includes OutcomeUnknown: same key, or a lookup, later
        if tries >= MAX_TRIES:
            _park(conn, row, exc)
            return f"{attempt}: parked after {tries} tries ({exc.code})"
        spent = bool(row["key_spent"]) or getattr(exc, "key_spent", False)
        delay = exc.retry_after if exc.retry_after is not None else full_jitter(tries, rng)
        with conn:
            conn.execute(
                "UPDATE outbox SET available_at = ?, last_error = ?, key_spent = ? WHERE id = ?",
                (now + delay, exc.code, spent, row["id"]),
            )
        note = ", key spent" if spent else ""
        return f"{attempt}: {exc.code}{note}, next try in {delay:.1f} s"
    except IntegrationBug as exc:  # retrying cannot help; a person must look
        _park(conn, row, exc)
        return f"{attempt}: parked ({exc.code})"
    record_charge(conn, attempt, charge)
    _close(conn, row)
    return f"{attempt}: {charge.state} as {charge.external_ref}{how}"


def _request_for(row: sqlite3.Row) -> ChargeRequest:
    return ChargeRequest(
        attempt_id=row["attempt_id"],
        amount_minor=row["amount_minor"],
        currency=row["currency"],
        payment_method_ref=row["payment_method_ref"],
        correlation_id=f"order:{row['order_id']}",
    )


def _close(
    conn: sqlite3.Connection,
    row: sqlite3.Row,
    state: PaymentState | None = None,
    reason: DeclineReason | None = None,
) -> None:
    with conn:
        if state is not None:
            conn.execute(
                "UPDATE payment_attempts SET state = ?, decline_reason = ? WHERE attempt_id = ?",
                (state, reason, row["attempt_id"]),
            )
        conn.execute("UPDATE outbox SET status = 'done' WHERE id = ?", (row["id"],))


def _park(conn: sqlite3.Connection, row: sqlite3.Row, exc: PaymentError) -> None:
    """Stop retrying; the attempt is unknown until reconciliation or a person decides."""
    with conn:
        conn.execute(
            "UPDATE outbox SET status = 'parked', last_error = ? WHERE id = ?",
            (f"{exc.code}: {exc.vendor_detail}", row["id"]),
        )
        conn.execute(
            "UPDATE payment_attempts SET state = ? WHERE attempt_id = ?",
            (PaymentState.UNKNOWN, row["attempt_id"]),
        )


# --------------------------------------------------------------------------
# Reconciliation: our ledger against the provider's list endpoint
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Discrepancy:
    # missing_in_ledger, state_differs, unknown_status, amount_differs, orphan_at_vendor,
    # missing_at_vendor, unresolved
    kind: str
    attempt_id: str | None
    external_ref: str
    ours: str
    theirs: str
    action: str  # fixed, or alert (a person decides)


def reconcile(
    conn: sqlite3.Connection, provider: PaymentProvider, *, created_from: int, created_to: int
) -> list[Discrepancy]:
    """Compare one window of the ledger with the provider's charges; fix what is safe to fix."""
    found: list[Discrepancy] = []
    listed_refs: set[str] = set()
    listed_attempts: set[str | None] = set()
    for charge in provider.list_charges(created_from, created_to):
        listed_refs.add(charge.external_ref)
        listed_attempts.add(charge.attempt_id)
        ref, theirs = charge.external_ref, str(charge.state)
        row = conn.execute(
            "SELECT * FROM payment_attempts WHERE provider = ? AND"
            " (external_ref = ? OR (external_ref IS NULL AND attempt_id = ?))",
            (provider.name, ref, charge.attempt_id),
        ).fetchone()
        if row is None:  # an orphan: nobody here asked for it; refund or adopt it, by hand
            found.append(
                Discrepancy("orphan_at_vendor", charge.attempt_id, ref, "-", theirs, "alert")
            )
            continue
        attempt, ours = row["attempt_id"], row["state"]
        if (row["amount_minor"], row["currency"]) != (charge.amount_minor, charge.currency):
            found.append(Discrepancy("amount_differs", attempt, ref, ours, theirs, "alert"))
        elif charge.state is PaymentState.UNKNOWN:  # still unreadable: keep the ref, ask a person
            record_charge(conn, attempt, charge)
            found.append(Discrepancy("unknown_status", attempt, ref, ours, theirs, "alert"))
        elif row["external_ref"] is None or ours != charge.state:
            kind = "missing_in_ledger" if row["external_ref"] is None else "state_differs"
            action = "fixed" if record_charge(conn, attempt, charge) else "alert"
            found.append(Discrepancy(kind, attempt, ref, ours, theirs, action))
    for row in conn.execute(
        "SELECT * FROM payment_attempts WHERE provider = ? AND created_at >= ? AND created_at < ?",
        (provider.name, created_from, created_to),
    ).fetchall():
        ref, attempt = row["external_ref"], row["attempt_id"]
        if ref is not None and ref not in listed_refs and provider.get(ref) is None:  # confirm
            found.append(Discrepancy("missing_at_vendor", attempt, ref, row["state"], "-", "alert"))
        elif ref is None and row["state"] == "unknown" and attempt not in listed_attempts:
            found.append(Discrepancy("unresolved", attempt, "-", row["state"], "-", "alert"))
    return found


# --------------------------------------------------------------------------
# Demonstration
# --------------------------------------------------------------------------


@dataclass
class SimClock:
    """Wall-clock seconds for the ledger and the vendor, advanced by the demo."""

    now: float = 1_740_000_000.0

    def __call__(self) -> float:
        return self.now


def main() -> None:
    clock = SimClock()
    vendor = FakeVendor(clock=clock)
    waits: list[float] = []
    telemetry = Telemetry()
    rng = random.Random(16)
    conn = open_ledger()
    with serve_vendor(vendor) as address:
        adapter = StripeLikeAdapter(address, sleep=waits.append, telemetry=telemetry)
        providers = {adapter.name: adapter}

        def pay(order: str, token: str, amount: int = 1250) -> str:
            return start_payment(
                conn,
                order_id=order,
                amount_minor=amount,
                currency="USD",
                payment_method_ref=token,
                provider=adapter.name,
                now=clock.now,
            )

        def run(label: str) -> None:
            for line in run_outbox(conn, providers, now=clock.now, rng=rng):
                print(f"   {label:<15} {line}")

        def show(found: list[Discrepancy]) -> None:
            for d in found:
                print(
                    f"   {d.kind:<17} {d.attempt_id or '-':<8} {d.external_ref}"
                    f"  ours={d.ours:<9} theirs={d.theirs:<9} -> {d.action}"
                )

        print(f"Fake vendor on {address[0]}, adapter pinned to API version {PINNED_VERSION}")
        print("\n1. The vendor commits a charge, then answers after the client's 0.5 s timeout")
        naive = KeylessAdapter(address, sleep=waits.append)
        request = ChargeRequest("pa_A-1_1", 1250, "USD", "tok_ok", "order:A-1")
        vendor.hold_next()
        try:
            naive.charge(request)
        except OutcomeUnknown as exc:
            print(f"   keyless client, first call: {exc.code}")
        vendor.let_go()
        naive.charge(request)
        print(f"   keyless retry:  {len(vendor.charges_for('pa_A-1_1'))} charges at the vendor")
        attempt = pay("A-2", "tok_ok")
        vendor.hold_next()
        run("outbox run 1:")
        vendor.let_go()
        clock.now += 60
        run("outbox run 2:")
        key = idempotency_key_for("charge", attempt)
        print(
            f"   keyed retry:    {len(vendor.charges_for(attempt))} charge at the vendor, key {key}"
        )

        print("\n2. The vendor commits a charge, then answers 500 and saves that 500 for our key")
        attempt = pay("A-3", "tok_ok")
        vendor.faults.append("500-after-commit")
        run("outbox run 1:")
        clock.now += 60
        run("outbox run 2:")
        print(f"   {len(vendor.charges_for(attempt))} charge at the vendor; the key was sent once")

        print("\n3. Rate limits: the adapter honors Retry-After")
        pay("B-1", "tok_ok")
        vendor.faults.append("429:1")
        for line in run_outbox(conn, providers, now=clock.now, rng=rng):
            print(f"   Retry-After: 1   waited {waits[-1]:.1f} s inline; {line}")
        pay("B-2", "tok_ok")
        vendor.faults += ["429:30"]
        run("Retry-After: 30")
        clock.now += 30
        run("30 s later")

        print("\n4. A status the adapter has never seen, until the vendor moves on")
        start = int(clock.now)
        attempt = pay("C-1", "tok_review")
        for line in run_outbox(conn, providers, now=clock.now, rng=rng):
            print(f"   {line}; counted: {telemetry.counts['unknown_status requires_review']}")
        show(reconcile(conn, adapter, created_from=start, created_to=start + 1))
        vendor.payments[vendor.charges_for(attempt)[0]]["status"] = "succeeded"
        show(reconcile(conn, adapter, created_from=start, created_to=start + 1))

        print("\n5. A decline, translated")
        try:
            adapter.charge(ChargeRequest("pa_D-1_1", 1250, "USD", "tok_no_funds", "order:D-1"))
        except PaymentDeclined as exc:
            print(f"   caller sees: {caller_view(exc)}")
            print(f"   log keeps:   {exc.vendor_detail}")

        print("\n6. Versions: unpinned (the account default is the new one), then a canary")
        unpinned = StripeLikeAdapter(
            address, api_version=None, sleep=waits.append, telemetry=telemetry
        )
        try:
            unpinned.charge(ChargeRequest("pa_E-1_1", 1250, "USD", "tok_ok", "order:E-1"))
        except IntegrationBug as exc:
            print(f"   unpinned: {exc.code}: {exc} ({exc.vendor_detail})")
        canary = StripeLikeAdapter(address, canary_version=NEW_VERSION, canary_percent=50)
        sent = len(vendor.versions)
        amounts = {
            canary.charge(ChargeRequest(f"pa_E-{n}_1", 1250, "USD", "tok_ok", "-")).amount_minor
            for n in range(2, 10)
        }
        used = Counter(vendor.versions[sent:])
        print(
            f"   canary:   {used[NEW_VERSION]} charges at {NEW_VERSION},"
            f" {used[PINNED_VERSION]} at {PINNED_VERSION}; amounts read: {sorted(amounts)}"
        )

        print("\n7. Reconciliation of one window against the vendor's list endpoint")
        clock.now += 3600
        window_start = int(clock.now)
        lost = pay("F-1", "tok_ok")
        impatient = StripeLikeAdapter(address, timeout_s=0.1, telemetry=telemetry)
        for _ in range(MAX_TRIES):  # the vendor commits; we never hear back in time
            vendor.hold_next()
            run_outbox(conn, {impatient.name: impatient}, now=clock.now, rng=rng)
            vendor.let_go()
            clock.now += BACKOFF_CAP_S
        state = conn.execute("SELECT state FROM payment_attempts WHERE attempt_id = ?", (lost,))
        print(f"   {lost} after {MAX_TRIES} timeouts: {state.fetchone()[0]}, outbox row parked")
        vendor.create_out_of_band(4999, "usd")
        ghost = pay("G-1", "tok_ok")
        with conn:  # a row that claims a charge the vendor never made
            conn.execute(
                "UPDATE payment_attempts SET external_ref = 'pi_9999', state = 'succeeded'"
                " WHERE attempt_id = ?",
                (ghost,),
            )
            conn.execute("UPDATE outbox SET status = 'done' WHERE attempt_id = ?", (ghost,))
        show(reconcile(conn, adapter, created_from=window_start, created_to=int(clock.now) + 1))
        state = conn.execute("SELECT state FROM payment_attempts WHERE attempt_id = ?", (lost,))
        print(
            f"   {lost} is now {state.fetchone()[0]}; the vendor holds"
            f" {len(vendor.charges_for(lost))} charge for it"
        )

    tokens = sum("tok_" in line for line in telemetry.lines)
    print("\n8. Per-vendor signals from the adapter's telemetry: calls by our error class")
    print(
        f"   {len(telemetry.lines)} request log lines, {tokens} containing a payment token, such as"
    )
    print(f"   {telemetry.lines[1].split(' {')[0]}")
    for name, count in sorted(telemetry.counts.items()):
        print(f"   {name:<32} {count}")


if __name__ == "__main__":
    main()
