"""Tests for the claims of the vendor-integration article.

Every test that talks to the vendor does so over real HTTP, to the fake vendor
on 127.0.0.1, through the same adapter the article shows.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import random
import sqlite3
import typing
from collections.abc import Iterator

import pytest

from examples import vendor_integration as vi
from examples.vendor_integration import (
    FINAL,
    AttemptInProgress,
    Charge,
    ChargeRequest,
    DeclineReason,
    ErrorClass,
    FakeVendor,
    InMemoryProvider,
    IntegrationBug,
    KeylessAdapter,
    OutcomeUnknown,
    PaymentDeclined,
    PaymentProvider,
    PaymentState,
    ProviderUnavailable,
    SimClock,
    StripeLikeAdapter,
    Telemetry,
    TokenBucket,
    caller_view,
    claim,
    idempotency_key_for,
    open_ledger,
    reconcile,
    run_outbox,
    serve_vendor,
    start_payment,
)

# The seven PaymentIntent statuses in Stripe's API reference.
DOCUMENTED_STATUSES = {
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
    "processing",
    "requires_capture",
    "canceled",
    "succeeded",
}

# A response recorded from the vendor sandbox at the pinned version: the adapter's golden input.
RECORDED_AT_PINNED_VERSION = """
{"id": "pi_0042", "object": "payment_intent", "amount": 1250, "currency": "usd",
 "status": "succeeded", "created": 1740000000,
 "metadata": {"attempt_id": "pa_R-1_1", "correlation_id": "order:R-1"}}
"""


@dataclasses.dataclass
class Env:
    vendor: FakeVendor
    address: tuple[str, int]
    clock: SimClock
    conn: sqlite3.Connection
    waits: list[float]

    def adapter(self, **options: typing.Any) -> StripeLikeAdapter:
        options.setdefault("sleep", self.waits.append)
        return StripeLikeAdapter(self.address, **options)

    def pay(
        self, order: str, token: str = "tok_ok", amount: int = 1250, provider: str = "stripelike"
    ) -> str:
        return start_payment(
            self.conn,
            order_id=order,
            amount_minor=amount,
            currency="USD",
            payment_method_ref=token,
            provider=provider,
            now=self.clock.now,
        )

    def run(self, *providers: PaymentProvider) -> list[str]:
        return run_outbox(
            self.conn, {p.name: p for p in providers}, now=self.clock.now, rng=random.Random(3)
        )

    def row(self, attempt_id: str) -> sqlite3.Row:
        return self.conn.execute(
            "SELECT * FROM payment_attempts WHERE attempt_id = ?", (attempt_id,)
        ).fetchone()

    def outbox(self, attempt_id: str) -> sqlite3.Row:
        return self.conn.execute(
            "SELECT * FROM outbox WHERE attempt_id = ?", (attempt_id,)
        ).fetchone()

    def creates(self) -> list[str]:
        return [key for method, _, key in self.vendor.requests if method == "POST"]


@pytest.fixture
def env() -> Iterator[Env]:
    clock = SimClock()
    vendor = FakeVendor(clock=clock)
    with serve_vendor(vendor) as address:
        yield Env(vendor, address, clock, open_ledger(), [])


def request(attempt_id: str, token: str = "tok_ok", amount: int = 1250) -> ChargeRequest:
    return ChargeRequest(attempt_id, amount, "USD", token, f"order:{attempt_id}")


# --- Idempotency: a timeout after the vendor committed ----------------------------------


def test_a_timeout_after_the_vendor_committed_does_not_double_charge_on_retry(env: Env) -> None:
    adapter = env.adapter()
    attempt = env.pay("A-1")
    env.vendor.hold_next()
    first = env.run(adapter)
    assert "PAYMENT_OUTCOME_UNKNOWN" in first[0]
    assert len(env.vendor.charges_for(attempt)) == 1, "the vendor committed although we timed out"
    assert env.row(attempt)["state"] == PaymentState.PENDING
    env.vendor.let_go()
    env.clock.now += 600
    env.run(adapter)
    charges = env.vendor.charges_for(attempt)
    assert len(charges) == 1
    assert env.row(attempt)["external_ref"] == charges[0]
    assert env.row(attempt)["state"] == PaymentState.SUCCEEDED
    assert env.creates() == [idempotency_key_for("charge", attempt)] * 2


def test_a_keyless_retry_after_the_same_timeout_charges_twice(env: Env) -> None:
    naive = KeylessAdapter(env.address, sleep=env.waits.append)
    env.vendor.hold_next()
    with pytest.raises(OutcomeUnknown):
        naive.charge(request("pa_N-1_1"))
    env.vendor.let_go()
    naive.charge(request("pa_N-1_1"))
    assert len(env.vendor.charges_for("pa_N-1_1")) == 2


def test_the_same_key_with_different_parameters_is_refused_as_our_bug(env: Env) -> None:
    adapter = env.adapter()
    adapter.charge(request("pa_K-1_1", amount=1250))
    with pytest.raises(IntegrationBug) as caught:
        adapter.charge(request("pa_K-1_1", amount=1300))
    assert caught.value.error_class is ErrorClass.BUG
    assert "idempotency_error" in caught.value.vendor_detail
    assert len(env.vendor.charges_for("pa_K-1_1")) == 1


def test_a_repeated_charge_for_the_same_attempt_returns_the_first_outcome(env: Env) -> None:
    adapter = env.adapter()
    first = adapter.charge(request("pa_K-2_1"))
    second = adapter.charge(request("pa_K-2_1"))
    assert first == second


def test_a_key_older_than_the_vendors_retention_is_looked_up_not_resent(env: Env) -> None:
    adapter = env.adapter()
    attempt = env.pay("L-1")
    env.vendor.hold_next()
    env.run(adapter)
    env.vendor.let_go()
    env.vendor.prune_keys()  # what the vendor may do once the key is 24 h old
    env.clock.now += 25 * 3600
    env.run(adapter)
    assert len(env.vendor.charges_for(attempt)) == 1
    assert env.row(attempt)["state"] == PaymentState.SUCCEEDED


def test_without_the_lookup_a_pruned_key_charges_twice(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vi, "KEY_SAFE_AGE_S", float("inf"))
    adapter = env.adapter()
    attempt = env.pay("L-2")
    env.vendor.hold_next()
    env.run(adapter)
    env.vendor.let_go()
    env.vendor.prune_keys()
    env.clock.now += 25 * 3600
    env.run(adapter)
    assert len(env.vendor.charges_for(attempt)) == 2


def test_a_saved_500_is_looked_up_by_attempt_id_not_resent(env: Env) -> None:
    adapter = env.adapter()
    attempt = env.pay("S-1")
    env.vendor.faults.append("500-after-commit")
    first = env.run(adapter)
    assert "key spent" in first[0]
    assert env.row(attempt)["state"] == PaymentState.PENDING
    env.clock.now += 600
    second = env.run(adapter)
    assert "found by attempt id" in second[0]
    assert env.row(attempt)["state"] == PaymentState.SUCCEEDED
    assert env.row(attempt)["external_ref"] == env.vendor.charges_for(attempt)[0]
    assert env.creates() == [idempotency_key_for("charge", attempt)], "sent once, then looked up"


def test_after_a_saved_500_with_no_charge_no_new_key_is_ever_tried(env: Env) -> None:
    adapter = env.adapter()
    start = int(env.clock.now)
    attempt = env.pay("S-2")
    env.vendor.faults.append("500")  # failed before charging; the vendor holds nothing
    for _ in range(vi.MAX_TRIES):
        env.run(adapter)
        env.clock.now += vi.BACKOFF_CAP_S
    assert env.vendor.charges_for(attempt) == []
    assert env.creates() == [idempotency_key_for("charge", attempt)]
    assert env.row(attempt)["state"] == PaymentState.UNKNOWN
    assert env.outbox(attempt)["status"] == "parked"
    found = reconcile(env.conn, adapter, created_from=start, created_to=int(env.clock.now))
    assert [(d.kind, d.attempt_id, d.action) for d in found] == [("unresolved", attempt, "alert")]


def test_resending_the_same_key_after_a_500_only_replays_it(env: Env) -> None:
    class NoLookup(StripeLikeAdapter):
        def _translate(self, method: str, status: int, body: dict) -> vi.PaymentError:
            error = super()._translate(method, status, body)
            if isinstance(error, OutcomeUnknown):
                error.key_spent = False
            return error

    adapter = NoLookup(env.address, sleep=env.waits.append)
    attempt = env.pay("S-3")
    env.vendor.faults.append("500-after-commit")
    for _ in range(vi.MAX_TRIES):
        env.run(adapter)
        env.clock.now += vi.BACKOFF_CAP_S
    assert len(env.creates()) == vi.MAX_TRIES
    assert env.row(attempt)["state"] == PaymentState.UNKNOWN, "paid at the vendor, unknown here"
    assert len(env.vendor.charges_for(attempt)) == 1


def test_the_late_lookup_lists_only_the_window_in_which_we_sent(env: Env) -> None:
    adapter = env.adapter()
    attempt = env.pay("L-3")
    env.vendor.hold_next()
    env.run(adapter)
    env.vendor.let_go()
    env.clock.now += 2 * 3600
    for n in range(150):  # a busy day of other charges, outside our send window
        adapter.charge(request(f"pa_Z-{n}_1"))
    env.vendor.prune_keys()
    env.clock.now += 23 * 3600
    before = len(env.vendor.requests)
    env.run(adapter)
    lists = [r for r in env.vendor.requests[before:] if r[:2] == ("GET", "/v1/payment_intents")]
    assert len(lists) == 1, "one page: the window around our sends, not the whole day"
    assert len(env.vendor.charges_for(attempt)) == 1
    assert env.row(attempt)["state"] == PaymentState.SUCCEEDED


# --- Outbox: claims, the fast path, one open attempt per order --------------------------------


def test_a_row_claimed_by_one_executor_is_skipped_by_another(env: Env) -> None:
    attempt = env.pay("W-1")
    row = env.conn.execute(
        "SELECT * FROM outbox WHERE attempt_id = ?", (attempt,)
    ).fetchone()  # both executors read the row as due
    assert claim(env.conn, row, env.clock.now)
    assert not claim(env.conn, row, env.clock.now)


def test_a_crashed_executors_row_is_due_again_when_its_lease_ends(env: Env) -> None:
    attempt = env.pay("W-2")
    row = env.conn.execute("SELECT * FROM outbox WHERE attempt_id = ?", (attempt,)).fetchone()
    assert claim(env.conn, row, env.clock.now)  # ... and then the executor dies
    env.clock.now += vi.LEASE_S - 1
    assert env.run(env.adapter()) == []
    env.clock.now += 1
    assert env.run(env.adapter()) == [f"{attempt}: succeeded as pi_0001"]


def test_the_fast_path_runs_only_the_requests_own_row(env: Env) -> None:
    other = env.pay("W-3")
    mine = env.pay("W-4")
    done = run_outbox(
        env.conn,
        {"stripelike": env.adapter()},
        now=env.clock.now,
        rng=random.Random(1),
        attempt_id=mine,
    )
    assert done == [f"{mine}: succeeded as pi_0001"]
    assert env.row(other)["state"] == PaymentState.PENDING


def test_an_order_gets_no_second_attempt_while_one_is_open(env: Env) -> None:
    adapter = env.adapter()
    first = env.pay("O-1", token="tok_no_funds")
    with pytest.raises(AttemptInProgress):
        env.pay("O-1")  # pending: a second attempt, perhaps at another vendor, could charge twice
    env.run(adapter)
    assert env.row(first)["state"] == PaymentState.FAILED
    second = env.pay("O-1")  # a declined attempt is final: the customer may try another card
    with env.conn:
        env.conn.execute(
            "UPDATE payment_attempts SET state = 'unknown' WHERE attempt_id = ?", (second,)
        )
    with pytest.raises(AttemptInProgress):
        env.pay("O-1")


# --- Rate limits and quota ------------------------------------------------------------------


def test_429_waits_exactly_the_retry_after_the_vendor_sent(env: Env) -> None:
    adapter = env.adapter()
    env.vendor.faults.append("429:1")
    charge = adapter.charge(request("pa_R-1_1"))
    assert env.waits == [1.0]
    assert charge.state is PaymentState.SUCCEEDED
    key = idempotency_key_for("charge", "pa_R-1_1")
    assert env.creates() == [key, key], "the retry after a 429 reuses the key"


def test_a_long_retry_after_is_not_waited_inline_but_scheduled(env: Env) -> None:
    adapter = env.adapter()
    attempt = env.pay("R-2")
    env.vendor.faults.append("429:30")
    env.run(adapter)
    assert env.waits == []
    assert env.outbox(attempt)["available_at"] == env.clock.now + 30
    env.clock.now += 29
    assert env.run(adapter) == [], "nothing is sent before the vendor's Retry-After"
    env.clock.now += 1
    env.run(adapter)
    assert env.row(attempt)["state"] == PaymentState.SUCCEEDED


def test_local_quota_refuses_before_the_vendor_would(env: Env) -> None:
    bucket = TokenBucket(rate_per_s=1.0, burst=2, clock=lambda: 0.0)
    adapter = env.adapter(quota=bucket)
    assert adapter.get("pi_0404") is None
    assert adapter.get("pi_0404") is None
    with pytest.raises(ProviderUnavailable) as caught:
        adapter.get("pi_0404")
    assert caught.value.retry_after == pytest.approx(1.0)
    assert len(env.vendor.requests) == 2, "the refused call never reached the vendor"


# --- The port: our types only ---------------------------------------------------------------


ALLOWED_FIELD_TYPES = (str, int, PaymentState, type(None))


def assert_ours(charge: object) -> None:
    assert type(charge) is Charge
    for item in dataclasses.fields(Charge):
        value = getattr(charge, item.name)
        assert isinstance(value, ALLOWED_FIELD_TYPES), (item.name, type(value))
    assert charge.currency.isupper(), "currency translated to ISO 4217, not the vendor's case"


@pytest.fixture(params=["adapter", "in-memory fake"])
def provider(request: pytest.FixtureRequest, env: Env) -> PaymentProvider:
    if request.param == "adapter":
        return env.adapter()
    return InMemoryProvider(clock=env.clock)


def test_the_port_hands_back_only_our_types(provider: PaymentProvider, env: Env) -> None:
    hints = typing.get_type_hints(PaymentProvider.charge)
    assert hints["return"] is Charge
    charge = provider.charge(request("pa_P-1_1"))
    assert_ours(charge)
    assert_ours(provider.get(charge.external_ref))
    for listed in provider.list_charges(int(env.clock.now) - 10, int(env.clock.now) + 10):
        assert_ours(listed)


def test_the_adapter_and_the_fake_keep_the_same_port_contract(
    provider: PaymentProvider, env: Env
) -> None:
    window = (int(env.clock.now) - 10, int(env.clock.now) + 10)
    first = provider.charge(request("pa_P-2_1"))
    assert provider.charge(request("pa_P-2_1")).external_ref == first.external_ref
    assert provider.get(first.external_ref) == first
    assert provider.find("pa_P-2_1", *window) == first
    assert provider.get("no_such_ref") is None
    assert [c.external_ref for c in provider.list_charges(*window)] == [first.external_ref]


# --- Statuses and errors ---------------------------------------------------------------------


def test_every_documented_vendor_status_maps_to_a_known_state_of_ours() -> None:
    assert set(StripeLikeAdapter.STATUSES) == DOCUMENTED_STATUSES
    assert PaymentState.UNKNOWN not in StripeLikeAdapter.STATUSES.values()


def test_a_status_never_seen_before_maps_to_unknown_and_is_counted(env: Env) -> None:
    telemetry = Telemetry()
    adapter = env.adapter(telemetry=telemetry)
    attempt = env.pay("U-1", token="tok_review")
    env.run(adapter)
    assert env.row(attempt)["state"] == PaymentState.UNKNOWN
    assert PaymentState.UNKNOWN not in FINAL, "unknown must not be fulfilled or failed"
    assert telemetry.counts["unknown_status requires_review"] == 1


def test_a_decline_reaches_callers_in_our_words_and_logs_in_theirs(env: Env) -> None:
    with pytest.raises(PaymentDeclined) as caught:
        env.adapter().charge(request("pa_D-1_1", token="tok_no_funds"))
    error = caught.value
    assert error.reason is DeclineReason.NO_FUNDS
    assert error.error_class is ErrorClass.USER_FIXABLE
    shown = json.dumps(caller_view(error))
    for vendor_word in ("card_error", "card_declined", "insufficient_funds", "402", "decline"):
        assert vendor_word not in shown
    assert "insufficient_funds" in error.vendor_detail


def test_an_unlisted_decline_code_becomes_other() -> None:
    adapter = StripeLikeAdapter(("127.0.0.1", 9))
    body = {"error": {"type": "card_error", "code": "card_declined", "decline_code": "fraudulent"}}
    error = adapter._translate("POST", 402, body)
    assert isinstance(error, PaymentDeclined) and error.reason is DeclineReason.OTHER


@pytest.mark.parametrize(
    ("method", "status", "kind", "expected", "error_class"),
    [
        ("POST", 500, "api_error", OutcomeUnknown, ErrorClass.RETRYABLE),
        ("POST", 503, "api_error", OutcomeUnknown, ErrorClass.RETRYABLE),
        ("GET", 503, "api_error", ProviderUnavailable, ErrorClass.RETRYABLE),
        ("POST", 409, "idempotency_error", ProviderUnavailable, ErrorClass.RETRYABLE),
        ("POST", 400, "invalid_request_error", IntegrationBug, ErrorClass.BUG),
        ("GET", 401, "invalid_request_error", IntegrationBug, ErrorClass.BUG),
    ],
)
def test_vendor_errors_become_one_of_three_classes(
    method: str, status: int, kind: str, expected: type, error_class: ErrorClass
) -> None:
    adapter = StripeLikeAdapter(("127.0.0.1", 9))
    error = adapter._translate(method, status, {"error": {"type": kind}})
    assert type(error) is expected
    assert error.error_class is error_class


def test_only_a_500_on_a_charge_spends_the_key_and_a_409_waits_one_second() -> None:
    adapter = StripeLikeAdapter(("127.0.0.1", 9))
    assert adapter._translate("POST", 500, {}).key_spent  # type: ignore[attr-defined]
    assert not adapter._translate("POST", 503, {}).key_spent  # type: ignore[attr-defined]
    assert adapter._translate("POST", 409, {}).retry_after == 1.0


def test_errors_are_counted_by_our_class_not_by_the_vendors_status(env: Env) -> None:
    telemetry = Telemetry()
    adapter = env.adapter(telemetry=telemetry)
    with pytest.raises(PaymentDeclined):
        adapter.charge(request("pa_T-1_1", token="tok_no_funds"))
    adapter.charge(request("pa_T-2_1"))
    assert telemetry.counts["charge user_fixable"] == 1
    assert telemetry.counts["charge ok"] == 1
    assert not any("402" in name for name in telemetry.counts)


def test_a_dead_vendor_is_retryable_and_sends_nothing() -> None:
    adapter = StripeLikeAdapter(("127.0.0.1", 9), timeout_s=0.5)  # nothing listens on port 9
    with pytest.raises(ProviderUnavailable) as caught:
        adapter.charge(request("pa_X-1_1"))
    assert not isinstance(caught.value, OutcomeUnknown)


# --- Versions and fixtures --------------------------------------------------------------------


def test_an_unpinned_adapter_fails_loudly_instead_of_misreading(env: Env) -> None:
    with pytest.raises(IntegrationBug):
        env.adapter(api_version=None).charge(request("pa_V-1_1"))
    assert env.adapter().charge(request("pa_V-2_1")).amount_minor == 1250


def test_one_adapter_parses_each_version_it_sends_during_a_canary(env: Env) -> None:
    canary = env.adapter(canary_version=vi.NEW_VERSION, canary_percent=50)
    charges = [canary.charge(request(f"pa_C-{n}_1")) for n in range(20)]
    assert set(env.vendor.versions) == {vi.PINNED_VERSION, vi.NEW_VERSION}
    assert {(c.amount_minor, c.currency) for c in charges} == {(1250, "USD")}
    again = [canary.charge(request(f"pa_C-{n}_1")) for n in range(20)]
    assert again == charges, "an attempt keeps its version: the retry's parameters match"


@pytest.mark.parametrize(
    "change",
    [
        {"created": "yesterday"},
        {"created": 1740000000.5},
        {"amount": True},
        {"metadata": "pa_R-1_1"},
        {"metadata": {"attempt_id": 7}},
        {"amount": {"value": 1250, "currency": "usd"}},
    ],
)
def test_a_malformed_field_is_our_bug_not_a_crash(change: dict[str, object]) -> None:
    adapter = StripeLikeAdapter(("127.0.0.1", 9))
    body = json.loads(RECORDED_AT_PINNED_VERSION) | change
    with pytest.raises(IntegrationBug):
        adapter._to_charge(body, vi.PINNED_VERSION)


def test_the_recorded_fixture_parses_to_the_expected_charge() -> None:
    adapter = StripeLikeAdapter(("127.0.0.1", 9))
    charge = adapter._to_charge(json.loads(RECORDED_AT_PINNED_VERSION), vi.PINNED_VERSION)
    assert charge == Charge(
        provider="stripelike",
        external_ref="pi_0042",
        attempt_id="pa_R-1_1",
        amount_minor=1250,
        currency="USD",
        state=PaymentState.SUCCEEDED,
        created=1740000000,
    )


def test_the_sandbox_still_answers_in_the_recorded_shape_at_the_pinned_version(env: Env) -> None:
    """The contract test: run against the sandbox, it catches drift the fixture cannot."""
    env.adapter().charge(request("pa_S-1_1"))
    connection = http.client.HTTPConnection(*env.address, timeout=2)
    connection.request(
        "GET",
        "/v1/payment_intents/pi_0001",
        headers={"Authorization": f"Bearer {vi.API_KEY}", "Stripe-Version": vi.PINNED_VERSION},
    )
    live = json.loads(connection.getresponse().read())
    connection.close()
    recorded = json.loads(RECORDED_AT_PINNED_VERSION)
    assert set(live) == set(recorded)
    assert {k: type(v) for k, v in live.items()} == {k: type(v) for k, v in recorded.items()}


# --- Outbox routing and logs --------------------------------------------------------------


def test_a_retry_stays_with_the_provider_its_attempt_started_on(env: Env) -> None:
    adapter = env.adapter()
    other = InMemoryProvider(clock=env.clock)
    attempt = env.pay("M-1", provider=adapter.name)
    env.vendor.hold_next()
    env.run(adapter, other)
    env.vendor.let_go()
    env.pay("M-2", provider=other.name)  # the flag now sends new attempts to the other provider
    env.clock.now += 600
    env.run(adapter, other)
    assert len(env.vendor.charges_for(attempt)) == 1
    assert [c.attempt_id for c in other.charges.values()] == ["pa_M-2_1"]


def test_a_decline_fails_the_attempt_and_closes_its_outbox_row(env: Env) -> None:
    attempt = env.pay("D-2", token="tok_expired")
    env.run(env.adapter())
    assert env.row(attempt)["state"] == PaymentState.FAILED
    assert env.row(attempt)["decline_reason"] == DeclineReason.EXPIRED
    assert env.outbox(attempt)["status"] == "done"


def test_logs_show_only_allowlisted_fields(env: Env) -> None:
    telemetry = Telemetry()
    adapter = env.adapter(telemetry=telemetry)
    adapter._log("POST", "/x", {"amount": "1", "receipt_email": "a@example.com"}, None, "200", "-")
    (line,) = telemetry.lines
    assert "'amount': '1'" in line
    assert "a@example.com" not in line and "'receipt_email': '[redacted]'" in line


def test_logs_redact_the_payment_token_and_carry_both_request_ids(env: Env) -> None:
    telemetry = Telemetry()
    adapter = env.adapter(telemetry=telemetry)
    adapter.charge(request("pa_G-1_1"))
    adapter.get("pi_0001")
    assert telemetry.lines and all("tok_" not in line for line in telemetry.lines)
    create = telemetry.lines[0]
    assert "key=charge:pa_G-1_1" in create
    assert "vendor_request=req_" in create
    assert "'metadata[correlation_id]': 'order:pa_G-1_1'" in create


# --- Reconciliation ----------------------------------------------------------------------------


def lose(env: Env, order: str) -> str:
    """An attempt whose every try timed out after the vendor committed it."""
    impatient = env.adapter(timeout_s=0.1)
    attempt = env.pay(order)
    for _ in range(vi.MAX_TRIES):
        env.vendor.hold_next()
        env.run(impatient)
        env.vendor.let_go()
        env.clock.now += vi.BACKOFF_CAP_S
    return attempt


def test_reconciliation_finds_a_charge_our_ledger_missed_and_fixes_it(env: Env) -> None:
    start = int(env.clock.now)
    attempt = lose(env, "F-1")
    assert env.row(attempt)["state"] == PaymentState.UNKNOWN
    assert env.outbox(attempt)["status"] == "parked"
    found = reconcile(env.conn, env.adapter(), created_from=start, created_to=int(env.clock.now))
    assert [(d.kind, d.attempt_id, d.action) for d in found] == [
        ("missing_in_ledger", attempt, "fixed")
    ]
    assert env.row(attempt)["state"] == PaymentState.SUCCEEDED
    assert env.row(attempt)["external_ref"] == env.vendor.charges_for(attempt)[0]
    assert (
        reconcile(env.conn, env.adapter(), created_from=start, created_to=int(env.clock.now)) == []
    )


def test_reconciliation_reports_a_charge_the_vendor_does_not_have(env: Env) -> None:
    start = int(env.clock.now)
    attempt = env.pay("G-1")
    with env.conn:
        env.conn.execute(
            "UPDATE payment_attempts SET external_ref = 'pi_9999', state = 'succeeded'"
            " WHERE attempt_id = ?",
            (attempt,),
        )
    found = reconcile(env.conn, env.adapter(), created_from=start, created_to=start + 1)
    assert [(d.kind, d.external_ref, d.action) for d in found] == [
        ("missing_at_vendor", "pi_9999", "alert")
    ]
    assert env.row(attempt)["state"] == PaymentState.SUCCEEDED, "never auto-fixed"


def test_reconciliation_alerts_on_orphans_and_on_transitions_it_must_not_make(env: Env) -> None:
    start = int(env.clock.now)
    orphan = env.vendor.create_out_of_band(4999, "usd")
    attempt = env.pay("H-1", token="tok_no_funds")
    env.run(env.adapter())
    assert env.row(attempt)["state"] == PaymentState.FAILED
    (ref,) = env.vendor.charges_for(attempt)
    with env.conn:  # we learned the ref from the webhook; now the vendor reports a late success
        env.conn.execute(
            "UPDATE payment_attempts SET external_ref = ? WHERE attempt_id = ?", (ref, attempt)
        )
    env.vendor.payments[ref]["status"] = "succeeded"
    found = reconcile(env.conn, env.adapter(), created_from=start, created_to=start + 1)
    assert sorted((d.kind, d.external_ref, d.action) for d in found) == [
        ("orphan_at_vendor", orphan, "alert"),
        ("state_differs", ref, "alert"),
    ]
    assert env.row(attempt)["state"] == PaymentState.FAILED


def test_reconciliation_keeps_alerting_on_an_unknown_status_until_the_vendor_moves_on(
    env: Env,
) -> None:
    start = int(env.clock.now)
    adapter = env.adapter()
    attempt = env.pay("U-2", token="tok_review")
    env.run(adapter)
    for _ in range(2):  # ours and theirs are both "unknown", and it is still reported
        found = reconcile(env.conn, adapter, created_from=start, created_to=start + 1)
        assert [(d.kind, d.action) for d in found] == [("unknown_status", "alert")]
    env.vendor.payments[env.vendor.charges_for(attempt)[0]]["status"] = "succeeded"
    found = reconcile(env.conn, adapter, created_from=start, created_to=start + 1)
    assert [(d.kind, d.action) for d in found] == [("state_differs", "fixed")]
    assert env.row(attempt)["state"] == PaymentState.SUCCEEDED


def test_reconciliation_pages_through_more_than_one_page(env: Env) -> None:
    start = int(env.clock.now)
    adapter = env.adapter()
    for n in range(105):
        adapter.charge(request(f"pa_Q-{n}_1"))
    listed = adapter.list_charges(start, start + 1)
    assert len({c.external_ref for c in listed}) == 105
    assert sum(1 for _, path, _ in env.vendor.requests if path == "/v1/payment_intents") >= 2
