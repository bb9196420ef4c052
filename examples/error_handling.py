"""Error handling for the people who operate the system.

A small error hierarchy in which every class decides, once, four things:
the stable code clients match on, the HTTP status, whether a retry can
help, and what kind of problem it is (expected, transient, permanent, bug).
A boundary turns any exception into an RFC 9457 problem-details body, logs it
exactly once with its whole cause chain and a runbook link, and counts it by
code and kind. A fallback decorator makes degraded answers visible: every use
is counted and logged, bugs and permanent faults are never caught, and a
failed fallback re-raises the original error for the boundary to log.

Run it with ``python -m examples.error_handling``.
"""

from __future__ import annotations

import functools
import json
import re
import ssl
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, ParamSpec, TypeVar

# --------------------------------------------------------------------------
# The hierarchy
# --------------------------------------------------------------------------


class Kind(StrEnum):
    """What sort of problem an error is; decides logging level and alerting."""

    EXPECTED = "expected"  # the caller asked for something we rightly refuse
    TRANSIENT = "transient"  # something we depend on is unavailable for now
    PERMANENT = "permanent"  # fails until an operator acts: certificates, credentials
    BUG = "bug"  # our code or data is wrong: a developer must fix it


class AppError(Exception):
    """Base of every error the service raises on purpose.

    Subclasses set the class attributes; instances carry the detail for this
    occurrence, a next step for whoever reads it, and structured context
    (ids, names, limits) for the log.
    """

    code: ClassVar[str] = "INTERNAL"
    title: ClassVar[str] = "Internal error"
    status: ClassVar[int] = 500
    kind: ClassVar[Kind] = Kind.BUG
    retryable: ClassVar[bool] = False

    def __init__(self, detail: str, *, next_step: str = "", **context: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.next_step = next_step
        self.context: dict[str, object] = dict(context)

    def __str__(self) -> str:
        extra = " ".join(f"{k}={v!r}" for k, v in sorted(self.context.items()))
        return f"{self.code}: {self.detail}" + (f" [{extra}]" if extra else "")


@dataclass(frozen=True)
class FieldError:
    """One invalid field, located with a JSON Pointer as in RFC 9457's example."""

    pointer: str
    detail: str


class InvalidRequest(AppError):
    """The request breaks the documented contract; retrying it unchanged fails again."""

    code = "INVALID_REQUEST"
    title = "The request is not valid"
    status = 422
    kind = Kind.EXPECTED

    def __init__(self, detail: str, *, errors: list[FieldError], **kw: Any) -> None:
        super().__init__(detail, **kw)
        self.errors = errors


class NotFound(AppError):
    """The named resource does not exist (for this caller)."""

    code = "RESOURCE_NOT_FOUND"
    title = "Resource not found"
    status = 404
    kind = Kind.EXPECTED


class VersionConflict(AppError):
    """The resource changed since the caller read it; re-read, then decide."""

    code = "VERSION_CONFLICT"
    title = "The resource was changed by someone else"
    status = 409
    kind = Kind.EXPECTED


class QuotaExceeded(AppError):
    """The caller is over its rate; the same request succeeds later."""

    code = "QUOTA_EXCEEDED"
    title = "Too many requests"
    status = 429
    kind = Kind.EXPECTED
    retryable = True

    def __init__(self, detail: str, *, retry_after: int, **kw: Any) -> None:
        super().__init__(detail, **kw)
        self.retry_after = retry_after


class DependencyUnavailable(AppError):
    """A dependency failed or timed out; the same request may succeed later."""

    code = "DEPENDENCY_UNAVAILABLE"
    title = "A service this request needs is unavailable"
    status = 503
    kind = Kind.TRANSIENT
    retryable = True

    def __init__(self, detail: str, *, dependency: str, retry_after: int = 1, **kw: Any) -> None:
        super().__init__(detail, dependency=dependency, **kw)
        self.retry_after = retry_after


class DependencyMisconfigured(AppError):
    """A dependency rejects us for a reason no retry fixes; an operator must act."""

    code = "DEPENDENCY_MISCONFIGURED"
    title = "A service this request needs cannot be used"
    status = 500
    kind = Kind.PERMANENT


class InternalError(AppError):
    """An invariant was broken; only a code or data fix helps."""


def error_classes() -> Iterator[type[AppError]]:
    """AppError and every subclass, depth first."""
    stack: list[type[AppError]] = [AppError]
    while stack:
        cls = stack.pop()
        yield cls
        stack.extend(cls.__subclasses__())


def should_retry(exc: BaseException) -> bool:
    """Retry only what is marked retryable; unknown exceptions are bugs, not blips."""
    return isinstance(exc, AppError) and exc.retryable


# --------------------------------------------------------------------------
# Problem details (RFC 9457)
# --------------------------------------------------------------------------

PROBLEM_BASE = "https://errors.example.com/"
RUNBOOK_BASE = "https://runbooks.example.com/quote/"
GENERIC_BUG_DETAIL = (
    "The server hit an unexpected condition. It has been recorded; "
    "quote the instance when you report it."
)


def problem_type(code: str) -> str:
    """A stable type URI per code, e.g. .../dependency-unavailable."""
    return PROBLEM_BASE + code.lower().replace("_", "-")


def runbook(code: str) -> str:
    """The operator's page for a code: what it means and what to do next."""
    return RUNBOOK_BASE + code.lower().replace("_", "-")


def as_app_error(exc: BaseException) -> AppError:
    """The AppError that describes ``exc``; anything unplanned is a bug."""
    if isinstance(exc, AppError):
        return exc
    return InternalError(GENERIC_BUG_DETAIL)


def to_problem(exc: BaseException, instance: str) -> dict[str, Any]:
    """Render ``exc`` as an RFC 9457 problem-details object.

    Standard members: type, title, status, detail, instance. Extension
    members: code (stable, for programs), retryable, next_step, errors.
    Details of bugs never reach the client: they go to the log.
    """
    err = as_app_error(exc)
    body: dict[str, Any] = {
        "type": problem_type(err.code),
        "title": err.title,
        "status": err.status,
        "detail": GENERIC_BUG_DETAIL if err.kind is Kind.BUG else err.detail,
        "instance": instance,
        "code": err.code,
        "retryable": err.retryable,
    }
    if err.next_step and err.kind is not Kind.BUG:
        body["next_step"] = err.next_step
    if isinstance(err, InvalidRequest):
        body["errors"] = [{"pointer": e.pointer, "detail": e.detail} for e in err.errors]
    return body


# --------------------------------------------------------------------------
# Telemetry: counters and structured logs, kept in memory for the example
# --------------------------------------------------------------------------

LabelKey = tuple[str, tuple[tuple[str, str], ...]]


@dataclass
class Telemetry:
    """Counters with labels and a list of structured log records."""

    counters: Counter[LabelKey] = field(default_factory=Counter)
    records: list[dict[str, Any]] = field(default_factory=list)

    def inc(self, metric: str, /, **labels: str) -> None:
        """Add one to the counter ``metric`` with these labels."""
        self.counters[(metric, tuple(sorted(labels.items())))] += 1

    def value(self, metric: str, /, **labels: str) -> int:
        """Sum of ``metric`` over all series whose labels include ``labels``."""
        wanted = set(labels.items())
        return sum(
            n for (name, lbls), n in self.counters.items() if name == metric and wanted <= set(lbls)
        )

    def log(self, record: dict[str, Any]) -> None:
        """Keep one structured record."""
        self.records.append(record)


LEVEL = {Kind.EXPECTED: "INFO", Kind.TRANSIENT: "WARN", Kind.PERMANENT: "ERROR", Kind.BUG: "ERROR"}


def cause_chain(exc: BaseException) -> list[str]:
    """Every exception in the chain, outermost first, as 'Type: message'."""
    chain: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(f"{type(current).__name__}: {current}")
        if current.__cause__ is not None:
            current = current.__cause__
        elif current.__suppress_context__:
            current = None
        else:
            current = current.__context__
    return chain


# --------------------------------------------------------------------------
# The boundary: the one place that logs, counts and renders
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    """A minimal HTTP response."""

    status: int
    headers: dict[str, str]
    body: dict[str, Any]


def handle(
    request_id: str, operation: Callable[[], dict[str, Any]], telemetry: Telemetry
) -> Response:
    """Run ``operation``; turn any exception into problem details.

    Inner layers raise and wrap; only this function logs, so every failed
    request produces exactly one record, at a level chosen by its kind.
    """
    try:
        return Response(200, {"content-type": "application/json"}, operation())
    except Exception as exc:  # the boundary is the one place a catch-all belongs
        err = as_app_error(exc)
        instance = f"urn:example:request:{request_id}"
        problem = to_problem(exc, instance)
        telemetry.inc("errors_total", code=err.code, kind=err.kind.value)
        record: dict[str, Any] = {
            "level": LEVEL[err.kind],
            "event": "request_failed",
            "request_id": request_id,
            "code": err.code,
            "kind": err.kind.value,
            "status": err.status,
            "retryable": err.retryable,
            "context": dict(getattr(exc, "context", {})),
            "notes": list(getattr(exc, "__notes__", [])),
            "cause_chain": cause_chain(exc),
            "runbook": runbook(err.code),
        }
        if err.kind is Kind.BUG:  # the stack is for whoever fixes it, never for the client
            record["stack"] = "".join(traceback.format_exception(exc))
        telemetry.log(record)
        headers = {"content-type": "application/problem+json"}
        retry_after = getattr(err, "retry_after", None)
        if err.retryable and retry_after is not None:
            headers["retry-after"] = str(retry_after)
        return Response(err.status, headers, problem)


# --------------------------------------------------------------------------
# Deliberate, visible fallbacks
# --------------------------------------------------------------------------

P = ParamSpec("P")
R = TypeVar("R")


def counted_fallback(
    name: str,
    fallback: Callable[P, R],
    telemetry: Telemetry,
    *,
    on: tuple[type[Exception], ...] = (DependencyUnavailable,),
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a call so that the errors in ``on``, and only those, are answered by ``fallback``.

    An answer from the fallback is counted and logged once, at WARN. If the
    fallback fails too, the original error is re-raised with a note and
    nothing is logged here: the boundary logs that request once.
    """

    def decorate(primary: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(primary)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            telemetry.inc("fallback_calls_total", name=name)
            try:
                return primary(*args, **kwargs)
            except on as exc:
                failure: Exception = exc
            reason = getattr(failure, "code", type(failure).__name__)
            try:
                value = fallback(*args, **kwargs)
            except Exception as fallback_error:
                failure.add_note(f"fallback {name!r} also failed: {fallback_error!r}")
            else:
                telemetry.inc("fallback_used_total", name=name, reason=reason)
                telemetry.log(
                    {
                        "level": "WARN",
                        "event": "fallback_used",
                        "fallback": name,
                        "reason": reason,
                        "cause_chain": cause_chain(failure),
                    }
                )
                return value
            telemetry.inc("fallback_failed_total", name=name, reason=reason)
            raise failure  # to the boundary, which logs it once

        return wrapper

    return decorate


def fallback_ratio(telemetry: Telemetry, name: str) -> float:
    """Share of calls to ``name`` that were answered by the fallback."""
    calls = telemetry.value("fallback_calls_total", name=name)
    return telemetry.value("fallback_used_total", name=name) / calls if calls else 0.0


@dataclass
class LastKnown:
    """Last good values with a maximum age: the bound that keeps a fallback honest.

    ``get`` raises LookupError for a value that is missing or older than
    ``max_age`` seconds, so a long outage ends in a visible error instead of
    an ever older answer presented as current.
    """

    max_age: float
    clock: Callable[[], float]
    _values: dict[str, tuple[float, int]] = field(default_factory=dict)

    def remember(self, key: str, value: int) -> int:
        """Store a fresh value and return it unchanged."""
        self._values[key] = (self.clock(), value)
        return value

    def get(self, key: str) -> int:
        """The stored value, if it is young enough."""
        if key not in self._values:
            raise LookupError(f"no last known value for {key!r}")
        stored_at, value = self._values[key]
        age = self.clock() - stored_at
        if age > self.max_age:
            raise LookupError(f"last known value for {key!r} is {age:.0f} s old")
        return value


# --------------------------------------------------------------------------
# A small service that uses all of it
# --------------------------------------------------------------------------

SKU = re.compile(r"[A-Z]{2}-\d{4}")


@dataclass(frozen=True)
class QuoteRequest:
    """A validated quote request: past this point the fields are trustworthy."""

    sku: str
    quantity: int


def parse_quote_request(payload: Mapping[str, object]) -> QuoteRequest:
    """Validate at the boundary and report every bad field at once."""
    errors: list[FieldError] = []
    sku = payload.get("sku")
    if not isinstance(sku, str) or not SKU.fullmatch(sku):
        errors.append(FieldError("#/sku", "must be two capital letters, a hyphen and 4 digits"))
    quantity = payload.get("quantity")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= 1000:
        errors.append(FieldError("#/quantity", "must be an integer from 1 to 1000"))
    if errors:
        raise InvalidRequest(
            f"{len(errors)} field(s) are invalid.",
            errors=errors,
            next_step="Fix the fields listed in 'errors' and send the request again.",
        )
    assert isinstance(sku, str) and isinstance(quantity, int)
    return QuoteRequest(sku, quantity)


@dataclass
class PricingClient:
    """A stand-in for a remote pricing service with scripted failures."""

    prices: dict[str, int]
    script: list[str] = field(default_factory=list)  # "ok", "timeout", "refused", "expired"
    calls: int = 0

    def price(self, sku: str) -> int:
        """Unit price in cents; raises what a network client would raise."""
        self.calls += 1
        step = self.script.pop(0) if self.script else "ok"
        if step == "timeout":
            raise TimeoutError("read timed out after 800 ms (pricing-7f9c.internal:8443)")
        if step == "refused":
            raise ConnectionRefusedError("connection refused (pricing-7f9c.internal:8443)")
        if step == "expired":  # a permanent fault: retrying cannot help, a person must act
            raise ssl.SSLCertVerificationError(
                1, "certificate verify failed: certificate has expired (pricing-7f9c.internal:8443)"
            )
        return self.prices[sku]  # KeyError: a sellable SKU without a price is a data bug


def fetch_price(client: PricingClient, sku: str) -> int:
    """Translate transport failures into the service's own vocabulary."""
    try:
        return client.price(sku)
    except ssl.SSLCertVerificationError as exc:  # an OSError, but no retry will fix it
        raise DependencyMisconfigured(
            "The pricing service is failing for a reason a retry cannot fix; "
            "operators have been alerted.",
            dependency="pricing",
            sku=sku,
        ) from exc
    except (TimeoutError, ConnectionError) as exc:
        raise DependencyUnavailable(
            "The pricing service did not answer in time.",
            dependency="pricing",
            retry_after=2,
            sku=sku,
            next_step="Retry after the number of seconds in Retry-After.",
        ) from exc


def quote(
    payload: Mapping[str, object], client: PricingClient, catalog: frozenset[str]
) -> dict[str, Any]:
    """Validate, price and total a quote."""
    request = parse_quote_request(payload)
    if request.sku not in catalog:
        raise NotFound(
            f"No product with SKU {request.sku!r} is for sale.",
            sku=request.sku,
            next_step="List products with GET /products to find a valid SKU.",
        )
    try:
        unit = fetch_price(client, request.sku)
    except DependencyUnavailable as exc:
        exc.add_note(f"while quoting {request.quantity} x {request.sku}")
        raise
    total = unit * request.quantity
    return {"sku": request.sku, "quantity": request.quantity, "total_cents": total}


def main() -> None:
    """Show five failed requests at the boundary, then a counted, bounded fallback."""
    telemetry = Telemetry()
    prices = {"AB-1234": 1250}
    catalog = frozenset({"AB-1234", "CD-5678"})  # CD-5678 is sellable but has no price
    cases = [
        ("req-0001", {"sku": "ab1234", "quantity": 0}, []),
        ("req-0002", {"sku": "AB-1234", "quantity": 3}, ["timeout"]),
        ("req-0003", {"sku": "ZZ-9999", "quantity": 1}, []),
        ("req-0004", {"sku": "CD-5678", "quantity": 1}, []),
        ("req-0005", {"sku": "AB-1234", "quantity": 2}, ["expired"]),
    ]
    for request_id, payload, script in cases:
        client = PricingClient(prices, list(script))
        response = handle(request_id, lambda p=payload, c=client: quote(p, c, catalog), telemetry)
        print(f"{request_id} -> {response.status} {response.headers}")
        print("  body:", json.dumps(response.body, sort_keys=True))
        record = telemetry.records[-1]
        print(
            f"  log : level={record['level']} code={record['code']} "
            f"chain={record['cause_chain']} notes={record['notes']}"
        )
    print(
        "errors_total by kind:",
        {k.value: telemetry.value("errors_total", kind=k.value) for k in Kind},
    )

    fallback_telemetry = Telemetry()
    now = [0.0]  # a simulated clock, advanced one minute per call
    last_known = LastKnown(max_age=300.0, clock=lambda: now[0])
    client = PricingClient(
        prices, ["ok", "timeout", "ok", "refused", "ok", "ok", "timeout", "ok", "ok", "ok"]
    )

    @counted_fallback("price_from_last_known", last_known.get, fallback_telemetry)
    def price(sku: str) -> int:
        return last_known.remember(sku, fetch_price(client, sku))

    served = []
    for _ in range(10):
        used_before = fallback_telemetry.value("fallback_used_total")
        value = price("AB-1234")
        used = fallback_telemetry.value("fallback_used_total") > used_before
        served.append(f"{value}{'*' if used else ''}")
        now[0] += 60.0
    ratio = fallback_ratio(fallback_telemetry, "price_from_last_known")
    print(f"fallback (* = last known price, at most 300 s old): {' '.join(served)}")
    print(
        f"fallback_used_total={fallback_telemetry.value('fallback_used_total')} "
        f"of {fallback_telemetry.value('fallback_calls_total')} calls, ratio={ratio:.0%}; "
        f"alert at 5 %: {'FIRE' if ratio > 0.05 else 'ok'}"
    )

    # A lasting outage: every call after the first times out, one call a minute.
    outage_telemetry = Telemetry()
    now[0] = 0.0
    outage_store = LastKnown(max_age=300.0, clock=lambda: now[0])
    outage_client = PricingClient(prices, ["ok"] + ["timeout"] * 9)

    @counted_fallback("price_from_last_known", outage_store.get, outage_telemetry)
    def outage_price(sku: str) -> int:
        return outage_store.remember(sku, fetch_price(outage_client, sku))

    answers = []
    for minute in range(10):
        used_before = outage_telemetry.value("fallback_used_total")
        response = handle(
            f"out-{minute:04d}", lambda: {"unit_cents": outage_price("AB-1234")}, outage_telemetry
        )
        used = outage_telemetry.value("fallback_used_total") > used_before
        if response.status == 200:
            answers.append(f"{response.body['unit_cents']}{'*' if used else ''}")
        else:
            answers.append(str(response.status))
        now[0] += 60.0
    print(f"outage, one call a minute (* = last known price): {' '.join(answers)}")
    print(
        f"fallback_used_total={outage_telemetry.value('fallback_used_total')} "
        f"fallback_failed_total={outage_telemetry.value('fallback_failed_total')} "
        f"errors_total={outage_telemetry.value('errors_total')} of 10 calls; "
        f"log records={len(outage_telemetry.records)}"
    )


if __name__ == "__main__":
    main()
