"""The claims of "Evolving an API contract without surprises"."""

from __future__ import annotations

import http.client
import re
from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest

from examples.api_contract_evolution import (
    CHANGES,
    CONSUMERS,
    EVENT,
    INITIAL_VERSION,
    LATEST,
    ORDERS,
    RETIREMENTS,
    VERSIONS,
    Account,
    ContractServer,
    Inbox,
    Retirement,
    SimClock,
    UnknownVersion,
    deprecation_headers,
    encode,
    get,
    lifecycle_usage,
    render,
    render_event,
    serve,
    strict_read,
    tolerant_read,
    upgrade_request,
    utc,
)
from tests.figures import draw, lines

# The exact bytes each version's clients have been receiving for ord_1001. A
# change to the handler or to a downgrade step that alters any of them fails
# here; an intended additive change updates these in the same review, where the
# diff shows every version's consumers what they will see.
GOLDEN = {
    "2025-03-01": (
        b'{"amount": {"currency": "eur", "value": 4200}, "amount_refunded": {"currency": "eur",'
        b' "value": 1200}, "created": 1735732800, "customer_id": "cus_42", "id": "ord_1001",'
        b' "object": "order", "status": "partially_refunded"}'
    ),
    "2024-11-15": (
        b'{"amount": {"currency": "eur", "value": 4200}, "amount_refunded": {"currency": "eur",'
        b' "value": 1200}, "created": 1735732800, "customer_id": "cus_42", "id": "ord_1001",'
        b' "object": "order", "status": "paid"}'
    ),
    "2024-06-01": (
        b'{"amount": 4200, "amount_refunded": 1200, "created": 1735732800, "currency": "eur",'
        b' "customer_id": "cus_42", "id": "ord_1001", "object": "order", "status": "paid"}'
    ),
    "2024-01-15": (
        b'{"amount": 4200, "amount_refunded": 1200, "created": 1735732800, "currency": "eur",'
        b' "customer": "cus_42", "id": "ord_1001", "object": "order", "status": "paid"}'
    ),
}
NOW = utc(2025, 3, 10, 12)


@pytest.fixture
def api():
    """A running server, a connection to it, its clock and its accounts."""
    accounts = {
        "key_new": Account("new-shop"),
        "key_old": Account("old-shop", INITIAL_VERSION),
    }
    clock = SimClock(NOW)
    service = ContractServer(accounts, clock)
    with serve(service) as address:
        connection = http.client.HTTPConnection(address, timeout=5)
        yield connection, clock, accounts, service
        connection.close()


# -- The chain of downgrade steps --------------------------------------------------


def test_versions_are_dated_and_the_chain_runs_newest_first() -> None:
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) for v in VERSIONS)
    assert list(VERSIONS) == sorted(VERSIONS, reverse=True)
    assert VERSIONS[0] == LATEST and VERSIONS[-1] == INITIAL_VERSION


@pytest.mark.parametrize(
    ("version", "steps"),
    [
        ("2025-03-01", []),
        ("2024-11-15", ["2025-03-01"]),
        ("2024-06-01", ["2025-03-01", "2024-11-15"]),
        ("2024-01-15", ["2025-03-01", "2024-11-15", "2024-06-01"]),
    ],
)
def test_only_the_steps_newer_than_the_pinned_version_run(version, steps) -> None:
    _, applied = render("order", ORDERS["ord_1001"], version)
    assert applied == steps


def test_render_never_changes_the_stored_latest_shape() -> None:
    before = encode(ORDERS["ord_1001"])
    render("order", ORDERS["ord_1001"], INITIAL_VERSION)
    assert encode(ORDERS["ord_1001"]) == before


def test_a_step_runs_only_for_the_resources_it_declares() -> None:
    body, applied = render("invoice", {"status": "partially_refunded"}, INITIAL_VERSION)
    assert applied == [] and body == {"status": "partially_refunded"}


def test_render_rejects_a_version_that_does_not_exist() -> None:
    with pytest.raises(UnknownVersion):
        render("order", ORDERS["ord_1001"], "2024-02-30")


@pytest.mark.parametrize("version", VERSIONS)
def test_golden_fixtures_of_every_version_stay_byte_stable(api, version) -> None:
    connection, *_ = api
    reply = get(connection, "/orders/ord_1001", "key_new", version)
    assert reply.status == 200 and reply.headers["Api-Version"] == version
    assert reply.raw == GOLDEN[version]


def test_an_old_strict_client_still_gets_its_shape_from_the_new_schema(api) -> None:
    connection, *_ = api
    # ord_1001 is partially refunded, a state 2024-01-15 has no word for.
    pinned = get(connection, "/orders/ord_1001", "key_old")
    assert strict_read(pinned.json()) == ("cus_42", 4200, "paid")
    # The bad case: the same client handed the latest shape fails.
    latest = get(connection, "/orders/ord_1001", "key_old", LATEST)
    with pytest.raises(ValueError, match="unknown fields"):
        strict_read(latest.json())


def test_without_the_enum_step_a_closed_enum_client_breaks() -> None:
    body, _ = render("order", ORDERS["ord_1001"], INITIAL_VERSION)
    body["status"] = ORDERS["ord_1001"]["status"]  # as if the 2025-03-01 step were missing
    with pytest.raises(ValueError, match="unknown status 'partially_refunded'"):
        strict_read(body)
    assert tolerant_read(body)[2] == "unknown"


def test_an_additive_field_breaks_a_strict_reader_but_not_a_tolerant_one() -> None:
    body, _ = render("order", ORDERS["ord_1001"], INITIAL_VERSION)
    added = body | {"receipt_url": "https://example.com/r/1001"}
    with pytest.raises(ValueError, match="receipt_url"):
        strict_read(added)
    assert tolerant_read(added) == tolerant_read(body) == ("cus_42", 4200, "paid")


# -- Requests: upgrade steps, oldest first ------------------------------------------


def test_an_old_clients_renamed_parameter_is_upgraded_before_the_handler_sees_it(api) -> None:
    connection, *_ = api
    # key_old is pinned to 2024-01-15, when the filter was still called customer.
    old = get(connection, "/orders?customer=cus_42", "key_old")
    assert old.status == 200
    assert [o["id"] for o in old.json()["data"]] == ["ord_1001"]
    assert old.json()["data"][0]["customer"] == "cus_42"  # and the items come in its shape
    # The bad case: the handler itself knows only the latest name.
    latest = get(connection, "/orders?customer=cus_42", "key_new", LATEST)
    assert latest.status == 400 and latest.json()["type"].endswith("/unknown-parameter")
    assert get(connection, "/orders?customer_id=cus_42", "key_new", LATEST).status == 200


@pytest.mark.parametrize(
    ("version", "steps"),
    [("2024-01-15", ["2024-06-01"]), ("2024-06-01", []), ("2025-03-01", [])],
)
def test_request_upgrade_steps_run_only_for_versions_older_than_the_change(version, steps):
    params, applied = upgrade_request("order", {"customer": "cus_42", "limit": "5"}, version)
    assert applied == steps
    renamed = {"customer_id": "cus_42", "limit": "5"}
    assert params == (renamed if steps else {"customer": "cus_42", "limit": "5"})


def test_request_upgrade_rejects_a_version_that_does_not_exist() -> None:
    with pytest.raises(UnknownVersion):
        upgrade_request("order", {}, "2024-02-30")


# -- Choosing the version ----------------------------------------------------------


def test_a_new_account_is_pinned_to_the_latest_version_at_its_first_request(api) -> None:
    connection, _, accounts, _ = api
    first = get(connection, "/orders/ord_1002", "key_new", "2024-06-01")
    assert first.headers["Api-Version"] == "2024-06-01"  # the header wins for this request
    assert accounts["key_new"].pinned == LATEST  # but does not move the pin
    later = get(connection, "/orders/ord_1002", "key_new")
    assert later.headers["Api-Version"] == LATEST


def test_an_old_pin_holds_until_the_account_changes_it(api) -> None:
    connection, _, accounts, _ = api
    assert get(connection, "/orders/ord_1001", "key_old").headers["Api-Version"] == INITIAL_VERSION
    accounts["key_old"].pinned = LATEST  # the consumer upgrades on purpose
    assert get(connection, "/orders/ord_1001", "key_old").raw == GOLDEN[LATEST]


def test_an_unknown_version_is_rejected_with_a_clear_error(api) -> None:
    connection, *_, service = api
    reply = get(connection, "/orders/ord_1001", "key_new", "2024-02-30")
    assert reply.status == 400
    assert reply.headers["Content-Type"] == "application/problem+json"
    problem = reply.json()
    assert problem["type"].endswith("/unknown-version") and problem["status"] == 400
    assert "'2024-02-30'" in problem["detail"]
    assert problem["supported_versions"] == list(VERSIONS)
    assert all(v in problem["detail"] for v in VERSIONS)
    assert service.usage.records == []  # nothing was served at any version


# -- Deprecation, brown-outs and sunset on the wire ----------------------------------


def test_deprecation_and_sunset_headers_are_on_the_wire_in_their_formats(api) -> None:
    connection, *_ = api
    reply = get(connection, "/orders/ord_1001", "key_old")
    retirement = RETIREMENTS[INITIAL_VERSION]
    # RFC 9745: a structured-field Date, "@" then integer Unix seconds.
    deprecation = reply.headers["Deprecation"]
    assert re.fullmatch(r"@-?\d+", deprecation)
    assert int(deprecation[1:]) == int(retirement.deprecated_at.timestamp()) == 1735689600
    # RFC 8594: an HTTP-date, IMF-fixdate in GMT.
    sunset = reply.headers["Sunset"]
    assert re.fullmatch(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT", sunset)
    assert parsedate_to_datetime(sunset) == retirement.sunset_at
    assert parsedate_to_datetime(sunset).timestamp() >= int(deprecation[1:])
    assert 'rel="deprecation"' in reply.headers["Link"]
    assert 'rel="sunset"' in reply.headers["Link"]


def test_the_link_header_is_one_field_holding_both_links(api) -> None:
    connection, *_ = api
    connection.request("GET", "/orders/ord_1001", headers={"Authorization": "Bearer key_old"})
    response = connection.getresponse()
    response.read()
    links = response.msg.get_all("Link")
    assert len(links) == 1
    assert re.fullmatch(r'<[^>]+>; rel="deprecation", <[^>]+>; rel="sunset"', links[0])


def test_every_versioned_response_tells_caches_it_varies_with_api_version(api) -> None:
    connection, clock, *_ = api
    for version in VERSIONS:
        assert get(connection, "/orders/ord_1001", "key_new", version).headers["Vary"] == (
            "Api-Version"
        )
    clock.now = RETIREMENTS[INITIAL_VERSION].brownouts[0][0]
    assert get(connection, "/orders/ord_1001", "key_old").headers["Vary"] == "Api-Version"


def test_supported_versions_carry_no_deprecation_headers(api) -> None:
    connection, *_ = api
    for version in VERSIONS[:-1]:
        reply = get(connection, "/orders/ord_1001", "key_new", version)
        assert not {"Deprecation", "Sunset", "Link"} & set(reply.headers)
    assert deprecation_headers(LATEST) == {}


def test_a_sunset_before_the_deprecation_is_refused() -> None:
    with pytest.raises(ValueError):
        Retirement(deprecated_at=utc(2025, 7, 1), sunset_at=utc(2025, 1, 1))
    with pytest.raises(ValueError):  # a brown-out after the sunset
        Retirement(utc(2025, 1, 1), utc(2025, 7, 1), ((utc(2025, 7, 2), timedelta(hours=1)),))


def test_a_brownout_fails_the_deprecated_version_only_inside_its_window(api) -> None:
    connection, clock, _, service = api
    start, length = RETIREMENTS[INITIAL_VERSION].brownouts[0]
    outcomes = []
    for moment in (start - timedelta(minutes=1), start, start + length - timedelta(seconds=1)):
        clock.now = moment
        outcomes.append(get(connection, "/orders/ord_1001", "key_old").status)
    clock.now = start + length
    outcomes.append(get(connection, "/orders/ord_1001", "key_old").status)
    assert outcomes == [200, 410, 410, 200]
    clock.now = start
    assert get(connection, "/orders/ord_1001", "key_new", LATEST).status == 200
    failed = get(connection, "/orders/ord_1001", "key_old")
    assert failed.json()["type"].endswith("/version-brownout")
    assert LATEST in failed.json()["detail"] and "Sunset" in failed.headers
    assert service.usage.by_consumer(INITIAL_VERSION)["old-shop"] == {"ok": 2, "brownout": 3}


def test_after_the_sunset_the_old_version_is_gone(api) -> None:
    connection, clock, *_ = api
    clock.now = RETIREMENTS[INITIAL_VERSION].sunset_at
    reply = get(connection, "/orders/ord_1001", "key_old")
    assert reply.status == 410 and reply.json()["type"].endswith("/version-removed")
    assert get(connection, "/orders/ord_1001", "key_old", LATEST).status == 200


def test_a_brownout_410_forbids_caching_so_it_ends_with_its_window(api) -> None:
    # 410 is cacheable by default (RFC 9110); a cached brown-out would outlive the window.
    connection, clock, *_ = api
    clock.now = RETIREMENTS[INITIAL_VERSION].brownouts[0][0]
    assert get(connection, "/orders/ord_1001", "key_old").headers["Cache-Control"] == "no-store"
    clock.now = RETIREMENTS[INITIAL_VERSION].sunset_at  # a removal is permanent
    assert "Cache-Control" not in get(connection, "/orders/ord_1001", "key_old").headers
    clock.now = NOW
    assert "Cache-Control" not in get(connection, "/orders/ord_1001", "key_old").headers


# -- Webhook events ------------------------------------------------------------------


def test_an_event_keeps_its_id_and_takes_each_subscriptions_version_shape() -> None:
    for version in VERSIONS:
        payload = render_event(EVENT, version)
        assert payload["id"] == EVENT["id"] and payload["api_version"] == version
        assert encode(payload["data"]["object"]) == GOLDEN[version]
    assert EVENT["data"]["object"]["status"] == "partially_refunded"  # stored shape untouched


def test_a_consumer_moving_its_webhook_handles_each_event_once() -> None:
    inbox = Inbox(handling="2024-06-01")
    old, new = render_event(EVENT, "2024-06-01"), render_event(EVENT, LATEST)
    assert inbox.receive(new) == "skipped"  # the new endpoint runs before the code is ready
    assert inbox.receive(old) == "handled"
    inbox.handling = LATEST  # the flip
    assert inbox.receive(new) == "duplicate"  # a copy arriving after the flip is not redone
    assert [p["api_version"] for p in inbox.handled] == ["2024-06-01"]


# -- A retirement, end to end ----------------------------------------------------------


def test_usage_is_counted_per_consumer_and_version(api) -> None:
    connection, _, _, service = api
    for _ in range(3):
        get(connection, "/orders/ord_1001", "key_old")
    get(connection, "/orders/ord_1001", "key_new", LATEST)
    assert service.usage.by_consumer(INITIAL_VERSION) == {"old-shop": {"ok": 3}}
    assert service.usage.by_consumer(LATEST) == {"new-shop": {"ok": 1}}


def test_headers_move_only_consumers_that_watch_them_and_brownouts_find_the_rest() -> None:
    life = lifecycle_usage()
    events = life.events
    assert events == {"deprecation": 0, "brown-out 1": 120, "brown-out 2": 150, "sunset": 181}
    last_call = {name: max(d for d, n in enumerate(c) if n) for name, c in life.calls.items()}
    brownout_410s = {name: sum(f[: events["sunset"]]) for name, f in life.failures.items()}
    # The team that alerts on Deprecation left three weeks in, before any brown-out.
    assert life.moved_on["billing-sync"] == 21 and last_call["billing-sync"] < events["brown-out 1"]
    assert brownout_410s["billing-sync"] == 0
    # The team that ignored headers and e-mail moved only after its calls failed.
    assert life.failures["partner-erp"][events["brown-out 1"]] > 0
    assert life.moved_on["partner-erp"] == events["brown-out 1"] + 10
    # A once-a-day job at 06:00 slips past a 12-hour brown-out from 14:00 ...
    assert life.failures["ops-report"][events["brown-out 1"]] == 0
    assert life.failures["ops-report"][events["brown-out 1"] + 1] == 0
    # ... but not a 24-hour one; nobody owns it, so it fails every day after the sunset.
    assert brownout_410s["ops-report"] == 1
    assert life.moved_on["ops-report"] is None
    after = life.failures["ops-report"][events["sunset"] :]
    assert after == life.calls["ops-report"][events["sunset"] :] and sum(after) == 19


def test_the_consumers_are_the_ones_the_article_describes() -> None:
    assert [(c.name, c.migrates_after, c.delay_days) for c in CONSUMERS] == [
        ("billing-sync", "header", 21),
        ("partner-erp", "failure", 10),
        ("ops-report", "never", 0),
    ]
    assert [c.call_hours for c in CONSUMERS] == [(0, 6, 12, 18), (0, 6, 12, 18), (6,)]


def test_the_figure_plots_the_tested_usage() -> None:
    life = lifecycle_usage()
    figure = draw("apis/figures/version-retirement.py")
    for row, consumer in enumerate(CONSUMERS):
        plotted = lines(figure, axes=row)
        calls, failures = life.calls[consumer.name], life.failures[consumer.name]
        assert plotted[consumer.name] == [(float(d), float(n)) for d, n in enumerate(calls)]
        assert plotted["answered 410"] == [
            (float(d), float(n)) for d, n in enumerate(failures) if n
        ]
        marked = sorted(line.get_xdata()[0] for line in figure.axes[row].lines[2:])
        assert marked == sorted(life.events.values())


def test_the_changelog_lines_name_every_change_once() -> None:
    assert len({c.version for c in CHANGES}) == len(CHANGES)
    assert all(c.description and c.resources for c in CHANGES)
