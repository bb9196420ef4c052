"""The claims of "Sharing context between requests and jobs without global hacks"."""

from __future__ import annotations

import json
import logging
from collections import Counter

import pytest

from examples.request_context_in_jobs import (
    ContextFilter,
    Denied,
    EnvelopeError,
    JobEnvelope,
    Queue,
    RequestContext,
    ambient_reads,
    authorize,
    context_in_pool,
    current,
    enqueue,
    format_traceparent,
    new_span_id,
    new_trace_id,
    parse_traceparent,
    require_context,
    run_job,
    thread_local_leak,
)

REQUEST = RequestContext(
    trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
    span_id="00f067aa0ba902b7",
    correlation_id="req-1",
    tenant="acme",
    principal="user-42",
)


@pytest.fixture
def in_request():
    """Run the test body as if inside a request."""
    token = current.set(REQUEST)
    yield REQUEST
    current.reset(token)


def publish(queue: Queue, **overrides) -> JobEnvelope:
    arguments = dict(now=100.0, stale_after_s=60.0, idempotency_key="key-1", request_id="req-1")
    arguments.update(overrides)
    return enqueue(queue, "send-report", {"report": 7}, **arguments)


def test_traceparent_round_trip() -> None:
    trace_id, span_id = new_trace_id(), new_span_id()
    assert parse_traceparent(format_traceparent(trace_id, span_id)) == (trace_id, span_id, True)


@pytest.mark.parametrize(
    "value",
    [
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",  # no flags
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # all-zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # all-zero span id
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  # upper case
    ],
)
def test_malformed_traceparent_is_rejected(value: str) -> None:
    with pytest.raises(ValueError):
        parse_traceparent(value)


def test_envelope_round_trips_through_json(in_request) -> None:
    queue = Queue()
    envelope = publish(queue)
    assert JobEnvelope.from_json(queue.messages[0]) == envelope
    assert envelope.tenant == "acme" and envelope.principal == "user-42"


def test_enqueue_outside_a_request_fails_clearly() -> None:
    with pytest.raises(LookupError, match="no request context"):
        publish(Queue())


def test_worker_starts_its_own_trace_linked_to_the_producer_span(in_request) -> None:
    queue = Queue()
    envelope = publish(queue)
    producer_trace, producer_span, _ = parse_traceparent(envelope.traceparent)
    assert producer_trace == REQUEST.trace_id  # the producer span is in the request's trace
    seen = run_job(queue.messages[0], lambda payload: require_context(), now=110.0).result
    assert seen.trace_id != REQUEST.trace_id  # a trace of its own, not the request's ...
    assert seen.span_id not in {REQUEST.span_id, producer_span}  # ... with a new span ...
    assert seen.link == (REQUEST.trace_id, producer_span)  # ... linked to the producer span
    assert (seen.correlation_id, seen.tenant, seen.principal) == ("req-1", "acme", "user-42")


def test_each_attempt_gets_its_own_trace_linked_to_the_same_producer_span(in_request) -> None:
    queue = Queue()
    envelope = publish(queue)
    first = run_job(envelope.to_json(), lambda payload: require_context(), now=110.0).result
    again = run_job(envelope.retried().to_json(), lambda payload: require_context(), now=120.0)
    assert again.result.trace_id != first.trace_id
    assert again.result.link == first.link


def test_job_context_does_not_leak_into_the_worker(in_request) -> None:
    queue = Queue()
    publish(queue)
    token = current.set(None)
    try:
        run_job(queue.messages[0], lambda payload: None, now=110.0)
        assert current.get() is None
    finally:
        current.reset(token)


def test_stale_job_is_dropped_without_running(in_request) -> None:
    queue = Queue()
    publish(queue, stale_after_s=60.0)
    calls = []
    outcome = run_job(queue.messages[0], calls.append, now=100.0 + 61)
    assert outcome.status == "stale" and not calls
    assert run_job(queue.messages[0], calls.append, now=100.0 + 59).status == "done"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda data: data.pop("tenant"), "lacks required fields: tenant"),
        (lambda data: data.update(version=2), "unsupported envelope version 2"),
        (
            lambda data: data.update(payload={"auth": {"access_token": "x"}}),
            "payload.auth.access_token",
        ),
        (lambda data: data.update(traceparent="garbage"), "malformed traceparent"),
    ],
)
def test_worker_rejects_incomplete_or_unsafe_envelopes(in_request, change, reason) -> None:
    queue = Queue()
    publish(queue)
    data = json.loads(queue.messages[0])
    change(data)
    outcome = run_job(json.dumps(data), lambda payload: None, now=110.0)
    assert outcome.status == "rejected" and reason in outcome.detail


def test_unknown_fields_are_ignored_and_counted(in_request) -> None:
    queue = Queue()
    envelope = publish(queue)
    data = json.loads(queue.messages[0])
    data.update(priority="low", region="eu")  # added by a newer producer
    unknown: Counter[str] = Counter()
    outcome = run_job(json.dumps(data), lambda payload: payload, now=110.0, unknown=unknown)
    assert outcome.status == "done" and outcome.result == envelope.payload
    assert unknown == {"priority": 1, "region": 1}
    assert JobEnvelope.from_json(json.dumps(data)) == envelope  # counting is optional


def test_credentials_are_refused_at_enqueue(in_request) -> None:
    with pytest.raises(EnvelopeError, match="session_cookie"):
        enqueue(
            Queue(),
            "x",
            {"session_cookie": "abc"},
            now=0.0,
            stale_after_s=1.0,
            idempotency_key="k",
            request_id="r",
        )


def test_retry_keeps_ids_and_key_and_counts_the_attempt(in_request) -> None:
    envelope = publish(Queue())
    again = envelope.retried()
    assert again.attempt == 2
    assert (again.correlation_id, again.idempotency_key, again.traceparent) == (
        envelope.correlation_id,
        envelope.idempotency_key,
        envelope.traceparent,
    )


def test_pool_threads_lose_context_unless_it_is_copied(in_request) -> None:
    assert context_in_pool(copy=False) is None
    assert context_in_pool(copy=True) == "acme"


def test_thread_local_leaks_the_previous_tenant() -> None:
    assert thread_local_leak([("acme", True), ("globex", False)]) == ["acme", "acme"]


def test_every_log_line_carries_the_correlation_id(in_request) -> None:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "message", None, None)
    ContextFilter().filter(record)
    assert (record.correlation_id, record.tenant) == ("req-1", "acme")


def test_revoked_access_is_denied_at_run_time_without_doing_the_work(in_request) -> None:
    queue = Queue()
    publish(queue)
    grants = {("acme", "user-42", "send-report")}
    done = []

    def send(payload):
        authorize(require_context(), "send-report", grants)
        done.append(payload)

    assert run_job(queue.messages[0], send, now=110.0).status == "done"
    grants.clear()  # revoked, or the user was deleted, while the job waited
    outcome = run_job(queue.messages[0], send, now=120.0)
    assert outcome.status == "denied" and "user-42" in outcome.detail
    assert len(done) == 1


def test_a_grant_in_another_tenant_does_not_authorize() -> None:
    job = RequestContext("a" * 32, "b" * 16, "req-1", "globex", "user-42")
    with pytest.raises(Denied, match="globex"):
        authorize(job, "send-report", {("acme", "user-42", "send-report")})


def test_ambient_reads_are_found_however_they_are_imported() -> None:
    source = (
        "import threading as th\n"
        "from flask import request as r, jsonify\n"
        "def job(payload):\n"
        "    local = th.local()\n"
        "    return r.headers, jsonify(payload)\n"
    )
    assert ambient_reads(source) == ["line 4: threading.local", "line 5: flask.request"]


def test_job_code_that_takes_its_context_explicitly_passes_the_check() -> None:
    source = "from examples.request_context_in_jobs import require_context\n"
    source += "def job(payload):\n    return require_context().tenant\n"
    assert ambient_reads(source) == []
