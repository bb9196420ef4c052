"""Tests for the claims of the error-handling article."""

from __future__ import annotations

import json
import re
import ssl

import pytest

from examples.error_handling import (
    GENERIC_BUG_DETAIL,
    AppError,
    DependencyMisconfigured,
    DependencyUnavailable,
    FieldError,
    InternalError,
    InvalidRequest,
    Kind,
    LastKnown,
    PricingClient,
    QuotaExceeded,
    Telemetry,
    cause_chain,
    counted_fallback,
    error_classes,
    fallback_ratio,
    fetch_price,
    handle,
    parse_quote_request,
    problem_type,
    quote,
    runbook,
    should_retry,
    to_problem,
)

PRICES = {"AB-1234": 1250}
CATALOG = frozenset({"AB-1234", "CD-5678"})
UPPER_SNAKE = re.compile(r"[A-Z][A-Z0-9_]+[A-Z0-9]")  # the reason format of Google AIP-193


def run_quote(payload: dict[str, object], script: list[str], telemetry: Telemetry):
    client = PricingClient(dict(PRICES), list(script))
    response = handle("req-1", lambda: quote(payload, client, CATALOG), telemetry)
    return response, client


def test_every_error_class_has_a_complete_mapping() -> None:
    classes = list(error_classes())
    assert len(classes) >= 6
    codes = [cls.code for cls in classes if cls is not InternalError]
    assert len(codes) == len(set(codes)), "each code names one class"
    for cls in classes:
        assert UPPER_SNAKE.fullmatch(cls.code) and len(cls.code) <= 63
        assert cls.title
        assert 400 <= cls.status <= 599
        assert isinstance(cls.kind, Kind)
        if cls.kind is Kind.EXPECTED:
            assert cls.status < 500, cls
        else:
            assert cls.status >= 500, cls
        if cls.retryable:
            assert cls.status in {429, 503, 504}, cls


def test_problem_details_have_the_rfc_9457_members_and_extensions() -> None:
    exc = DependencyUnavailable("pricing is down", dependency="pricing", retry_after=3)
    body = to_problem(exc, "urn:example:request:r1")
    assert set(body) >= {"type", "title", "status", "detail", "instance", "code", "retryable"}
    assert body["type"] == problem_type("DEPENDENCY_UNAVAILABLE")
    assert body["status"] == 503 and body["retryable"] is True
    json.dumps(body)  # serializable as-is


def test_validation_reports_every_bad_field_and_calls_nothing() -> None:
    telemetry = Telemetry()
    response, client = run_quote({"sku": "ab1234", "quantity": 0}, [], telemetry)
    assert response.status == 422
    assert response.headers["content-type"] == "application/problem+json"
    pointers = [e["pointer"] for e in response.body["errors"]]
    assert pointers == ["#/sku", "#/quantity"]
    assert client.calls == 0
    assert telemetry.records[0]["level"] == "INFO"


def test_booleans_are_not_quantities() -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_quote_request({"sku": "AB-1234", "quantity": True})
    assert info.value.errors == [FieldError("#/quantity", "must be an integer from 1 to 1000")]


def test_wrapping_preserves_the_cause() -> None:
    client = PricingClient(dict(PRICES), ["timeout"])
    with pytest.raises(DependencyUnavailable) as info:
        fetch_price(client, "AB-1234")
    assert isinstance(info.value.__cause__, TimeoutError)
    assert info.value.context == {"dependency": "pricing", "sku": "AB-1234"}
    chain = cause_chain(info.value)
    assert chain[0].startswith("DependencyUnavailable")
    assert chain[1].startswith("TimeoutError")


def test_transient_failure_is_logged_once_with_chain_and_hidden_from_client() -> None:
    telemetry = Telemetry()
    response, _ = run_quote({"sku": "AB-1234", "quantity": 3}, ["timeout"], telemetry)
    assert response.status == 503
    assert response.headers["retry-after"] == "2"
    assert response.body["retryable"] is True
    assert "TimeoutError" not in json.dumps(response.body)
    assert "pricing-7f9c.internal" not in json.dumps(response.body)
    assert len(telemetry.records) == 1
    record = telemetry.records[0]
    assert record["level"] == "WARN"
    assert record["runbook"] == runbook("DEPENDENCY_UNAVAILABLE")
    assert any("TimeoutError" in link for link in record["cause_chain"])
    assert record["notes"] == ["while quoting 3 x AB-1234"]
    assert telemetry.value("errors_total", code="DEPENDENCY_UNAVAILABLE", kind="transient") == 1


def test_unknown_exception_is_a_bug_with_a_generic_body_and_a_full_log() -> None:
    telemetry = Telemetry()
    response, _ = run_quote({"sku": "CD-5678", "quantity": 1}, [], telemetry)
    assert response.status == 500
    assert response.body["detail"] == GENERIC_BUG_DETAIL
    assert "CD-5678" not in json.dumps(response.body)
    record = telemetry.records[0]
    assert record["level"] == "ERROR" and record["kind"] == "bug"
    assert "KeyError" in record["stack"]
    assert telemetry.value("errors_total", kind="bug") == 1


def test_expected_errors_are_info_level_and_not_retryable() -> None:
    telemetry = Telemetry()
    response, _ = run_quote({"sku": "ZZ-9999", "quantity": 1}, [], telemetry)
    assert response.status == 404
    assert response.body["next_step"]
    assert telemetry.records[0]["level"] == "INFO"
    assert "stack" not in telemetry.records[0]


def test_retry_decision_follows_the_flag() -> None:
    assert should_retry(DependencyUnavailable("x", dependency="d"))
    assert should_retry(QuotaExceeded("slow down", retry_after=10))
    assert not should_retry(InvalidRequest("bad", errors=[]))
    assert not should_retry(KeyError("boom"))  # unknown means bug, not blip
    assert not should_retry(AppError("x"))


def make_counted_price(script: list[str], last_known: dict[str, int], telemetry: Telemetry):
    client = PricingClient(dict(PRICES), script)

    @counted_fallback("last_known_price", lambda sku: last_known[sku], telemetry)
    def price(sku: str) -> int:
        return fetch_price(client, sku)

    return price


def test_fallback_is_counted_and_logged() -> None:
    telemetry = Telemetry()
    price = make_counted_price(["ok", "timeout", "ok", "refused"], {"AB-1234": 1200}, telemetry)
    assert [price("AB-1234") for _ in range(4)] == [1250, 1200, 1250, 1200]
    assert telemetry.value("fallback_used_total", name="last_known_price") == 2
    assert telemetry.value("fallback_used_total", reason="DEPENDENCY_UNAVAILABLE") == 2
    assert fallback_ratio(telemetry, "last_known_price") == pytest.approx(0.5)
    assert [r["event"] for r in telemetry.records] == ["fallback_used", "fallback_used"]
    assert {r["level"] for r in telemetry.records} == {"WARN"}
    assert "ConnectionRefusedError" in telemetry.records[1]["cause_chain"][-1]


def test_fallback_never_hides_a_bug() -> None:
    telemetry = Telemetry()
    price = make_counted_price([], {"CD-5678": 1}, telemetry)
    with pytest.raises(KeyError):
        price("CD-5678")  # missing price is a data bug: no fallback
    assert telemetry.value("fallback_used_total") == 0


def test_failed_fallback_reraises_the_original_with_a_note() -> None:
    telemetry = Telemetry()
    price = make_counted_price(["timeout"], {}, telemetry)
    with pytest.raises(DependencyUnavailable) as info:
        price("AB-1234")
    assert isinstance(info.value.__cause__, TimeoutError)
    assert any("also failed" in note for note in info.value.__notes__)
    assert telemetry.value("fallback_failed_total", name="last_known_price") == 1
    assert telemetry.value("fallback_used_total") == 0
    assert telemetry.records == []  # the boundary, not the decorator, logs a failed request


def test_last_known_fallback_is_bounded_by_age() -> None:
    now = [0.0]
    telemetry = Telemetry()
    last_known = LastKnown(max_age=300.0, clock=lambda: now[0])
    client = PricingClient(dict(PRICES), ["ok", "timeout", "timeout"])

    @counted_fallback("last_known_price", last_known.get, telemetry)
    def price(sku: str) -> int:
        return last_known.remember(sku, fetch_price(client, sku))

    assert price("AB-1234") == 1250
    now[0] = 299.0
    assert price("AB-1234") == 1250  # young enough: served, and counted
    now[0] = 301.0
    with pytest.raises(DependencyUnavailable) as info:
        price("AB-1234")  # too old: the outage becomes visible
    assert any("301 s old" in note for note in info.value.__notes__)
    assert telemetry.value("fallback_used_total") == 1  # only answers the fallback gave
    assert telemetry.value("fallback_failed_total") == 1


def test_expired_certificate_is_a_permanent_fault_for_an_operator() -> None:
    client = PricingClient(dict(PRICES), ["expired"])
    with pytest.raises(DependencyMisconfigured) as info:
        fetch_price(client, "AB-1234")  # its own code, not a blip and not a bug
    assert isinstance(info.value.__cause__, ssl.SSLCertVerificationError)
    assert not should_retry(info.value)
    telemetry = Telemetry()
    response, _ = run_quote({"sku": "AB-1234", "quantity": 2}, ["expired"], telemetry)
    assert response.status == 500 and response.body["retryable"] is False
    assert response.body["code"] == "DEPENDENCY_MISCONFIGURED"
    assert "retry-after" not in response.headers
    assert "pricing-7f9c.internal" not in json.dumps(response.body)
    record = telemetry.records[0]
    assert record["level"] == "ERROR" and record["kind"] == "permanent"
    assert record["runbook"] == runbook("DEPENDENCY_MISCONFIGURED")
    assert record["cause_chain"][1].startswith("SSLCertVerificationError")
    assert telemetry.value("errors_total", code="DEPENDENCY_MISCONFIGURED", kind="permanent") == 1


def test_fallback_does_not_answer_a_permanent_fault() -> None:
    telemetry = Telemetry()
    price = make_counted_price(["expired"], {"AB-1234": 1200}, telemetry)
    with pytest.raises(DependencyMisconfigured):
        price("AB-1234")
    assert telemetry.value("fallback_used_total") == 0


def test_an_outage_is_answered_from_last_known_for_at_most_its_bound() -> None:
    now = [0.0]
    telemetry = Telemetry()
    last_known = LastKnown(max_age=300.0, clock=lambda: now[0])
    client = PricingClient(dict(PRICES), ["ok"] + ["timeout"] * 9)

    @counted_fallback("last_known_price", last_known.get, telemetry)
    def price(sku: str) -> int:
        return last_known.remember(sku, fetch_price(client, sku))

    statuses = []
    for minute in range(10):
        response = handle(f"r{minute}", lambda: {"unit": price("AB-1234")}, telemetry)
        statuses.append(response.status)
        now[0] += 60.0
    assert statuses == [200] * 6 + [503] * 4  # one fresh answer, five at most 300 s old
    assert telemetry.value("fallback_used_total") == 5
    assert telemetry.value("fallback_failed_total") == 4
    assert telemetry.value("errors_total", code="DEPENDENCY_UNAVAILABLE") == 4
    # one record per degraded or failed request: five fallback answers, four failures
    events = [r["event"] for r in telemetry.records]
    assert events == ["fallback_used"] * 5 + ["request_failed"] * 4
