"""Carry request context into a background job as an explicit envelope.

The request side captures what the job needs (trace context, correlation and
causation ids, tenant, the acting user's id, an idempotency key, timing) into
a versioned, JSON-serializable :class:`JobEnvelope`. The worker validates the
envelope, drops it if it is stale, and restores the context in a fresh
:mod:`contextvars` context for the duration of the job, where the handler
checks again that the user may still do what the job asks. Nothing ambient
(globals, thread-locals, request objects) crosses the queue. The job runs in
a trace of its own whose first span links to the producer span, and the
worker ignores (and counts) envelope fields it does not know. A small static
check finds job code that reads request state from ambient sources.

Run ``python -m examples.request_context_in_jobs`` for a demonstration.
"""

from __future__ import annotations

import ast
import contextvars
import json
import logging
import re
import secrets
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from typing import Any

# -- Trace context (W3C traceparent) -------------------------------------------

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def new_trace_id() -> str:
    """A random 16-byte trace id, as 32 lowercase hex digits."""
    return secrets.token_hex(16)


def new_span_id() -> str:
    """A random 8-byte span id, as 16 lowercase hex digits."""
    return secrets.token_hex(8)


def format_traceparent(trace_id: str, span_id: str, sampled: bool = True) -> str:
    """Encode a ``traceparent`` header value (version 00)."""
    return f"00-{trace_id}-{span_id}-{'01' if sampled else '00'}"


def parse_traceparent(value: str) -> tuple[str, str, bool]:
    """Decode ``traceparent`` into (trace id, parent span id, sampled).

    Raises ValueError for anything W3C Trace Context says to reject,
    including the all-zero trace and span ids.
    """
    match = _TRACEPARENT.match(value.strip())
    if not match:
        raise ValueError(f"malformed traceparent: {value!r}")
    trace_id, span_id, flags = match.groups()
    if set(trace_id) == {"0"} or set(span_id) == {"0"}:
        raise ValueError(f"traceparent with an all-zero id: {value!r}")
    return trace_id, span_id, bool(int(flags, 16) & 1)


# -- The context a request runs with -------------------------------------------


@dataclass(frozen=True)
class RequestContext:
    """What code running for one request, or one job, may ask about its caller."""

    trace_id: str
    span_id: str
    correlation_id: str
    tenant: str
    principal: str  # the acting user's id; never a token or session
    locale: str = "en"
    # For a job: the producer span it links to, as (trace id, span id).
    link: tuple[str, str] | None = None


current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "current", default=None
)


def require_context() -> RequestContext:
    """The current context, or a clear error where none was established."""
    context = current.get()
    if context is None:
        raise LookupError("no request context: was this code started outside a request or job?")
    return context


# -- The envelope that crosses the queue -----------------------------------------

ENVELOPE_VERSION = 1
REQUIRED = (
    "version",
    "job_type",
    "payload",
    "traceparent",
    "correlation_id",
    "causation_id",
    "tenant",
    "principal",
    "idempotency_key",
    "enqueued_at",
    "stale_after_s",
)
# Keys that must never appear in a job payload: credentials and sessions expire,
# leak into logs and queues, and are replayable by whoever reads the message.
FORBIDDEN_PAYLOAD_KEYS = re.compile(r"token|password|secret|session|cookie|authorization", re.I)


class EnvelopeError(ValueError):
    """An envelope the worker must refuse, with the reason in the message."""


@dataclass(frozen=True)
class JobEnvelope:
    """Everything a job receives: its payload plus the context it runs in."""

    job_type: str
    payload: dict[str, Any]
    traceparent: str
    correlation_id: str
    causation_id: str  # what caused this job: a request id or a parent job's id
    tenant: str
    principal: str
    idempotency_key: str
    enqueued_at: float  # seconds since the epoch, on the producer's clock
    stale_after_s: float  # the job's own time budget, unrelated to the request's
    attempt: int = 1
    locale: str = "en"
    version: int = ENVELOPE_VERSION

    def to_json(self) -> str:
        """Serialize for the queue; sorted keys make equal envelopes equal bytes."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, raw: str | bytes, unknown: Counter[str] | None = None) -> JobEnvelope:
        """Parse and validate an envelope, refusing anything incomplete or unsafe.

        A tolerant reader: fields this worker does not know (added by a newer
        producer) are ignored, and counted by name in ``unknown`` if given.
        """
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as error:
            raise EnvelopeError(f"envelope is not JSON: {error}") from error
        if not isinstance(data, dict):
            raise EnvelopeError("envelope must be a JSON object")
        missing = [name for name in REQUIRED if name not in data]
        if missing:
            raise EnvelopeError(f"envelope lacks required fields: {', '.join(missing)}")
        if data["version"] != ENVELOPE_VERSION:
            raise EnvelopeError(
                f"unsupported envelope version {data['version']!r}; "
                f"this worker reads version {ENVELOPE_VERSION}"
            )
        known = set(cls.__dataclass_fields__)
        if unknown is not None:
            unknown.update(name for name in data if name not in known)
        check_payload(data["payload"])
        try:
            parse_traceparent(data["traceparent"])
        except ValueError as error:
            raise EnvelopeError(str(error)) from error
        return cls(**{name: value for name, value in data.items() if name in known})

    def retried(self) -> JobEnvelope:
        """The envelope for the next attempt: same ids and key, one more attempt."""
        return replace(self, attempt=self.attempt + 1)


def check_payload(payload: Any, path: str = "payload") -> None:
    """Refuse payload keys that look like credentials, at any depth."""
    if isinstance(payload, dict):
        for key, value in payload.items():
            if FORBIDDEN_PAYLOAD_KEYS.search(str(key)):
                raise EnvelopeError(
                    f"{path}.{key} looks like a credential; pass an id and "
                    "let the worker authorize with its own identity"
                )
            check_payload(value, f"{path}.{key}")
    elif isinstance(payload, list):
        for index, item in enumerate(payload):
            check_payload(item, f"{path}[{index}]")


# -- The producer side ------------------------------------------------------------


@dataclass
class Queue:
    """A stand-in for a message broker: it stores serialized envelopes only."""

    messages: list[str] = field(default_factory=list)

    def publish(self, message: str) -> None:
        """Append one serialized envelope."""
        self.messages.append(message)


def enqueue(
    queue: Queue,
    job_type: str,
    payload: dict[str, Any],
    *,
    now: float,
    stale_after_s: float,
    idempotency_key: str,
    request_id: str,
) -> JobEnvelope:
    """Capture the current request's context into an envelope and publish it.

    The enqueue is its own (producer) span, a child of the request's span; the
    worker links its consumer span to this one.
    """
    context = require_context()
    check_payload(payload)
    producer_span = new_span_id()
    envelope = JobEnvelope(
        job_type=job_type,
        payload=payload,
        traceparent=format_traceparent(context.trace_id, producer_span),
        correlation_id=context.correlation_id,
        causation_id=request_id,
        tenant=context.tenant,
        principal=context.principal,
        idempotency_key=idempotency_key,
        enqueued_at=now,
        stale_after_s=stale_after_s,
        locale=context.locale,
    )
    queue.publish(envelope.to_json())
    return envelope


# -- The worker side --------------------------------------------------------------

Handler = Callable[[dict[str, Any]], Any]


@dataclass
class Outcome:
    """What happened to one message, for metrics and tests."""

    status: str  # "done", "stale", "rejected" or "denied"
    detail: str = ""
    result: Any = None


class Denied(Exception):
    """The job's user may no longer do what it asks: a final outcome, never retried."""


def authorize(context: RequestContext, action: str, grants: set[tuple[str, str, str]]) -> None:
    """Check at run time that the job's user may still do ``action`` in its tenant.

    ``grants`` stands in for the authorization service the worker calls with its
    own identity, holding (tenant, user, action). A revoked grant and a deleted
    user get the same answer.
    """
    if (context.tenant, context.principal, action) not in grants:
        raise Denied(f"{context.principal} may no longer {action} in {context.tenant}")


def run_job(
    raw: str, handler: Handler, *, now: float, unknown: Counter[str] | None = None
) -> Outcome:
    """Validate an envelope, drop it if stale, and run ``handler`` in its context.

    The job gets a trace of its own whose consumer span links to the producer
    span. The handler runs inside a fresh :class:`contextvars.Context`, so no
    context variable it sets outlives the job; thread-locals and globals it
    writes are not reset. A handler that raises :class:`Denied` ends the job
    as "denied".
    """
    try:
        envelope = JobEnvelope.from_json(raw, unknown)
    except EnvelopeError as error:
        return Outcome("rejected", str(error))
    age = now - envelope.enqueued_at
    if age > envelope.stale_after_s:
        return Outcome(
            "stale",
            f"{envelope.job_type} waited {age:.0f} s, budget {envelope.stale_after_s:.0f} s",
        )
    producer_trace, producer_span, _ = parse_traceparent(envelope.traceparent)
    job_context = RequestContext(
        trace_id=new_trace_id(),  # the job's own trace, not the request's ...
        span_id=new_span_id(),  # ... whose consumer span ...
        correlation_id=envelope.correlation_id,
        tenant=envelope.tenant,
        principal=envelope.principal,
        locale=envelope.locale,
        link=(producer_trace, producer_span),  # ... links to the producer span
    )

    def in_context() -> Any:
        current.set(job_context)
        return handler(envelope.payload)

    try:
        result = contextvars.Context().run(in_context)
    except Denied as error:
        return Outcome("denied", str(error))
    return Outcome("done", result=result)


# -- Logging: every line carries the context --------------------------------------


class ContextFilter(logging.Filter):
    """Add the current context's ids to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Attach ``correlation_id``, ``trace_id`` and ``tenant`` (or "-")."""
        context = current.get()
        record.correlation_id = context.correlation_id if context else "-"
        record.trace_id = context.trace_id if context else "-"
        record.tenant = context.tenant if context else "-"
        return True


# -- Why ambient context fails in worker pools -----------------------------------


def context_in_pool(copy: bool) -> str | None:
    """Read the current tenant from a pool thread, with or without copying context.

    A ``ThreadPoolExecutor`` thread does not inherit the submitting thread's
    context variables; ``contextvars.copy_context().run`` carries them over.
    (``asyncio.to_thread`` does that copy for you; ``loop.run_in_executor``
    does not.)
    """

    def read_tenant() -> str | None:
        context = current.get()
        return context.tenant if context else None

    with ThreadPoolExecutor(max_workers=1) as pool:
        if copy:
            return pool.submit(contextvars.copy_context().run, read_tenant).result()
        return pool.submit(read_tenant).result()


_ambient = threading.local()


def thread_local_leak(requests: list[tuple[str, bool]]) -> list[str | None]:
    """Serve requests on one pooled thread that keeps the tenant in a thread-local.

    Each request is (tenant, sets_tenant). A request whose code path forgets
    to set the tenant sees whatever the previous request on that thread left.
    """

    def handle(tenant: str, sets_tenant: bool) -> str | None:
        if sets_tenant:
            _ambient.tenant = tenant
        return getattr(_ambient, "tenant", None)

    with ThreadPoolExecutor(max_workers=1) as pool:
        return [pool.submit(handle, tenant, sets).result() for tenant, sets in requests]


# -- A check for ambient reads in job code -----------------------------------------

# Modules whose names hold per-request or per-thread state, and those names.
AMBIENT = {"flask": {"g", "request", "session"}, "threading": {"local"}}


def ambient_reads(source: str) -> list[str]:
    """Where job code reads request state it was not given, as "line N: module.name".

    Flags names imported from :data:`AMBIENT`, whether imported by name
    (``from flask import g``) or used through the module (``threading.local``).
    """
    tree = ast.parse(source)
    names: dict[str, str] = {}  # local name -> "module.name"
    modules: dict[str, str] = {}  # local alias -> module
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in AMBIENT:
            for alias in node.names:
                if alias.name in AMBIENT[node.module]:
                    names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in AMBIENT:
                    modules[alias.asname or alias.name] = alias.name
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in names:
            found.append((node.lineno, names[node.id]))
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and node.attr in AMBIENT[modules[node.value.id]]
        ):
            found.append((node.lineno, f"{modules[node.value.id]}.{node.attr}"))
    return [f"line {line}: {name}" for line, name in sorted(found)]


JOB_WITH_AMBIENT_READS = """\
from flask import g
import threading

def export(payload):
    tenant = g.tenant
    cache = threading.local()
    return tenant, cache
"""


# -- Demonstration ------------------------------------------------------------------


def main() -> None:
    """Show a job crossing the queue with its context, then the two pool pitfalls."""
    logging.basicConfig(
        level=logging.INFO,
        format="%(levelname)s corr=%(correlation_id)s tenant=%(tenant)s %(message)s",
    )
    log = logging.getLogger("demo")
    log.addFilter(ContextFilter())
    queue = Queue()
    request = RequestContext(
        trace_id=new_trace_id(),
        span_id=new_span_id(),
        correlation_id="req-7f3a",
        tenant="acme",
        principal="user-42",
    )
    token = current.set(request)
    try:
        log.info("request: export invoices")
        envelope = enqueue(
            queue,
            "export-invoices",
            {"month": "2025-06"},
            now=1_000.0,
            stale_after_s=3_600,
            idempotency_key="export-acme-2025-06",
            request_id="req-7f3a",
        )
    finally:
        current.reset(token)
    producer_trace, producer_span, _ = parse_traceparent(envelope.traceparent)

    grants = {("acme", "user-42", "export-invoices")}

    def export(payload: dict[str, Any]) -> str:
        context = require_context()
        authorize(context, "export-invoices", grants)
        log.info("job: exporting %s", payload["month"])
        own_trace = context.trace_id != request.trace_id
        linked = context.link == (producer_trace, producer_span)
        return (
            f"exported {payload['month']} for {context.tenant}, "
            f"own trace: {own_trace}, linked to producer span: {linked}"
        )

    without_tenant = json.loads(queue.messages[0])
    del without_tenant["tenant"]
    from_newer_producer = json.loads(queue.messages[0])
    from_newer_producer["priority"] = "low"  # a field this worker does not know yet
    unknown: Counter[str] = Counter()
    for raw, now in [
        (queue.messages[0], 1_030.0),
        (queue.messages[0], 9_000.0),
        (json.dumps(without_tenant), 1_030.0),
        (json.dumps(from_newer_producer), 1_030.0),
    ]:
        outcome = run_job(raw, export, now=now, unknown=unknown)
        print(f"{outcome.status}: {outcome.detail or outcome.result}")
    print("unknown fields ignored:", dict(unknown))
    grants.clear()  # the user's access is revoked while the job waits
    outcome = run_job(queue.messages[0], export, now=1_030.0)
    print(f"{outcome.status}: {outcome.detail}")
    current.set(request)
    print("pool thread, no copy:", context_in_pool(copy=False))
    print("pool thread, copied:", context_in_pool(copy=True))
    print("thread-local leak:", thread_local_leak([("acme", True), ("globex", False)]))
    print("ambient reads in job code:", ambient_reads(JOB_WITH_AMBIENT_READS))


if __name__ == "__main__":
    main()
