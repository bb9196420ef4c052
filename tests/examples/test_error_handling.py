"""Tests for the claims of the error-handling article."""

from __future__ import annotations

import json
import re

import pytest

from examples.error_handling import (
    GENERIC_BUG_DETAIL,
    AppError,
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
    assert telemetry.records[0]["level"] == "info"


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
    assert record["level"] == "warning"
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
    assert record["level"] == "error" and record["kind"] == "bug"
    assert "KeyError" in record["stack"]
    assert telemetry.value("errors_total", kind="bug") == 1


def test_expected_errors_are_info_level_and_not_retryable() -> None:
    telemetry = Telemetry()
    response, _ = run_quote({"sku": "ZZ-9999", "quantity": 1}, [], telemetry)
    assert response.status == 404
    assert response.body["next_step"]
    assert telemetry.records[0]["level"] == "info"
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
    assert telemetry.value("fallback_used_total") == 2
    assert telemetry.value("fallback_failed_total") == 1
