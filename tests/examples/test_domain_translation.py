"""The claims of "When domains leak: translation at the boundary"."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from examples.domain_translation import (
    CATALOG_V1,
    CATALOG_V2,
    DEPOT_ZONES,
    SPLIT_ROWS,
    TABLE_V1,
    CarrierIntegrationBug,
    CarrierUnavailable,
    DeliveryKind,
    DeliveryState,
    DeliveryUpdate,
    Order,
    SwiftlineTranslator,
    TrackingNumberUnknown,
    Untranslatable,
    apply_delivery,
    before_apply,
    default_links,
    load_events,
    local_to_utc,
    missed_replacements,
    partner_literals,
    replay_after,
    replay_before,
    translate_partner_error,
    weight_in_grams,
)

K = DeliveryKind
TABLE_V2 = {**TABLE_V1, **SPLIT_ROWS}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# The golden translations of the recorded fixture file, with the v1 table: event id ->
# (shipment, kind, reason, UTC instant, grams). None: quarantined, no shipment of ours.
# An UNKNOWN state carries the quarantine reason and no instant.
GOLDEN_V1 = {
    "e01": ("shp_01", K.IN_TRANSIT, None, "2025-05-12 08:12", 1089),  # BST, UTC+1
    "e02": ("shp_01", K.IN_TRANSIT, None, "2025-05-12 19:40", None),  # CEST, UTC+2
    "e03": ("shp_01", K.OUT_FOR_DELIVERY, None, "2025-05-13 05:55", None),
    "e04": ("shp_01", K.DELIVERED, None, "2025-05-13 08:02", None),
    "e05": ("shp_02", K.IN_TRANSIT, None, "2024-10-27 00:30", 1250),  # repeated hour
    "e06": ("shp_02", K.DELAYED, "weather", "2024-10-28 13:05", None),  # CET, UTC+1
    "e07": ("shp_02", K.DELIVERED, "neighbor", "2024-10-29 10:30", None),  # DLV/NB
    "e08": ("shp_03", K.IN_TRANSIT, None, "2025-05-20 07:00", 363),
    "e09": ("shp_03", K.LOST, None, "2025-05-26 15:45", None),
    "e10": ("shp_04", K.IN_TRANSIT, None, "2025-05-21 08:10", None),
    "e11": ("shp_04", K.NEEDS_RECIPIENT, "nobody_home", "2025-05-22 11:20", None),
    "e12": ("shp_04", K.RETURNING, None, "2025-05-29 07:00", None),
    "e13": ("shp_05", K.IN_TRANSIT, None, "2025-06-03 07:30", 2268),
    "e14": ("shp_05", K.UNKNOWN, "unknown_code", None, None),  # LST
    "e15": ("shp_06", K.IN_TRANSIT, None, "2025-06-04 09:00", 3100),
    "e16": ("shp_06", K.UNKNOWN, "unknown_code", None, None),  # DMG
    "e17": ("shp_07", K.IN_TRANSIT, None, "2025-06-05 07:00", None),
    "e18": ("shp_07", K.UNKNOWN, "unknown_code", None, None),  # DLY/WX
    "e19": ("shp_08", K.IN_TRANSIT, None, "2025-06-06 08:00", None),
    "e20": ("shp_08", K.UNKNOWN, "unknown_code", None, None),  # EXC/07
    "e21": None,  # SWL9999: no shipment of ours
    "e22": ("shp_09", K.UNKNOWN, "nonexistent_local_time", None, None),  # 02:30 30 Mar AMS
}


def test_the_fixture_file_is_the_one_the_golden_table_describes() -> None:
    assert [event["evt"] for event in load_events()] == list(GOLDEN_V1)


@pytest.mark.parametrize("event", load_events(), ids=lambda event: event["evt"])
def test_golden_translation_of_each_recorded_event(event: dict) -> None:
    update = SwiftlineTranslator(TABLE_V1, default_links()).translate(event)
    expected = GOLDEN_V1[event["evt"]]
    if expected is None:
        assert update is None
        return
    shipment, kind, reason, at, grams = expected
    assert update is not None
    assert (update.shipment_id, update.state.kind, update.state.reason) == (shipment, kind, reason)
    assert update.state.at == (utc(at) if at else None)
    assert update.state.weight_g == grams
    assert event["evt"] in update.state.evidence and event["code"] in update.state.evidence


# -- The leak: the "before" code and a partner that splits a code --------------


def test_before_code_handled_the_old_catalog() -> None:
    """Not a straw man: with EXC/05 the old code did order a replacement."""
    orders = replay_before(e for e in load_events() if e["shp"] == "SWL1003")
    assert orders["SWL1003"] == {"status": "delivery_problem", "replacement_due": True}


def test_before_code_silently_mishandles_the_split_codes() -> None:
    orders = replay_before(load_events())
    for tracking in ("SWL1005", "SWL1006"):  # LST (lost) and DMG (damaged)
        assert orders[tracking]["status"] == "in_transit"
        assert not orders[tracking].get("replacement_due")
    assert missed_replacements(load_events()) == ["SWL1005", "SWL1006"]


def test_translator_routes_new_codes_to_unknown_counts_and_quarantines_them() -> None:
    translator = SwiftlineTranslator(TABLE_V1, default_links())
    orders = replay_after(load_events(), translator)
    assert dict(translator.telemetry.unknown) == {"LST": 1, "DMG": 1, "DLY/WX": 1, "EXC/07": 1}
    assert translator.telemetry.quarantined["unknown_code"] == 4
    for shipment in ("shp_05", "shp_06", "shp_07", "shp_08"):
        assert orders[shipment].needs_review
        assert orders[shipment].status == "in_transit"  # unchanged, not guessed
        assert not orders[shipment].replacement_due
    assert K.UNKNOWN not in translator.telemetry.translated  # the count means what it says
    assert translator.telemetry.translated.total() == 16


def test_an_event_that_fails_for_any_reason_still_holds_its_order() -> None:
    """Not only unknown codes: a bad time, depot, unit or field must not leave a stale status."""
    orders = replay_after(load_events(), SwiftlineTranslator(TABLE_V1, default_links()))
    assert (orders["shp_09"].status, orders["shp_09"].needs_review) == ("awaiting_pickup", True)
    translator = SwiftlineTranslator(TABLE_V1, {"T": "shp"})
    raw = {"evt": "x", "shp": "T", "code": "ITR", "ts": "2025-01-15 12:00:00", "depot": "AMS1"}
    for extra in ({"wu": "OZ", "wt": "3"}, {"depot": "CDG1"}, {"ts": "15/01/2025"}, {"code": ""}):
        update = translator.translate(raw | extra | {"evt": str(extra)})
        assert update is not None and update.state.kind is K.UNKNOWN, extra
        order = Order(status="in_transit")
        apply_delivery(order, update.state)
        assert (order.status, order.needs_review) == ("in_transit", True)


def test_replaying_the_quarantine_after_adding_rows_resolves_the_split() -> None:
    translator = SwiftlineTranslator(TABLE_V1, default_links())
    orders = replay_after(load_events(), translator)
    translator.table = TABLE_V2
    for update in translator.replay_quarantine():
        apply_delivery(orders[update.shipment_id], update.state)
    assert (orders["shp_05"].status, orders["shp_05"].replacement_due) == ("delivery_failed", True)
    assert (orders["shp_06"].status, orders["shp_06"].replacement_due) == ("delivery_failed", True)
    assert orders["shp_07"].status == "delayed" and not orders["shp_07"].needs_review
    assert orders["shp_08"].needs_review  # EXC/07 is in no catalog: still a question
    assert orders["shp_09"].needs_review  # a time that never happened: still a question
    assert dict(translator.telemetry.quarantined) == {
        "unknown_code": 1,
        "unknown_shipment": 1,
        "nonexistent_local_time": 1,
    }


# -- Coverage of the partner's catalog (the property the table must keep) ------


@pytest.mark.parametrize(
    ("catalog", "table"),
    [(CATALOG_V1, TABLE_V1), (CATALOG_V1 | CATALOG_V2, TABLE_V2)],
    ids=["v1", "v1+v2 (old events still arrive)"],
)
def test_every_documented_code_maps_to_exactly_one_known_state(catalog, table) -> None:
    assert set(table) == set(catalog)  # no documented code without a row, no invented row
    translator = SwiftlineTranslator(table, {"T": "shp"})
    for code, sub in catalog:
        raw = {"evt": f"{code}/{sub}", "shp": "T", "code": code, "depot": "AMS1"}
        raw["ts"] = "2025-01-15 12:00:00"
        if sub is not None:
            raw["sub"] = sub
        update = translator.translate(raw)
        assert update is not None and update.state.kind is not K.UNKNOWN, (code, sub)
    assert not translator.telemetry.unknown


def test_the_v1_table_fails_the_coverage_check_against_the_v2_catalog() -> None:
    """The contract test that would have caught the split before production did."""
    assert set(CATALOG_V2) - set(TABLE_V1) == set(SPLIT_ROWS)


def test_v2_keeps_only_the_address_sub_reason_of_exc() -> None:
    assert {pair for pair in CATALOG_V2 if pair[0] == "EXC"} == {("EXC", "01")}


@pytest.mark.parametrize(
    ("code", "sub"), [("EXC", "07"), ("EXC", None), ("ATT", "09"), ("RTS", "X"), ("DLV", "ZZ")]
)
def test_an_undocumented_sub_reason_is_unknown_not_the_codes_generic_meaning(code, sub) -> None:
    """A (code, None) row is the code without a sub-reason, never a catch-all for new ones."""
    translator = SwiftlineTranslator(TABLE_V2, {"T": "shp"})
    raw = {"evt": "x", "shp": "T", "code": code, "ts": "2025-01-15 12:00:00", "depot": "AMS1"}
    update = translator.translate(raw | ({"sub": sub} if sub else {}))
    assert update is not None and update.state.kind is K.UNKNOWN
    assert translator.telemetry.unknown == {f"{code}/{sub}" if sub else code: 1}


def test_a_neighbor_signature_is_translated_not_flattened() -> None:
    translator = SwiftlineTranslator(TABLE_V1, {"T": "shp"})
    raw = {"evt": "x", "shp": "T", "code": "DLV", "sub": "NB", "ts": "2025-01-15 12:00:00"}
    update = translator.translate(raw | {"depot": "AMS1"})
    assert update is not None
    assert (update.state.kind, update.state.reason) == (K.DELIVERED, "neighbor")


# -- Meaning beyond field names: time, units, absence -------------------------


def test_local_times_become_utc_instants_with_each_depots_rules() -> None:
    assert local_to_utc("2025-01-15 12:00:00", DEPOT_ZONES["LHR1"]) == (
        utc("2025-01-15 12:00"),
        None,
    )
    assert local_to_utc("2025-07-15 12:00:00", DEPOT_ZONES["AMS1"]) == (
        utc("2025-07-15 10:00"),
        None,
    )


def test_repeated_hour_keeps_both_instants() -> None:
    assert local_to_utc("2024-10-27 02:30:00", DEPOT_ZONES["AMS1"]) == (
        utc("2024-10-27 00:30"),
        utc("2024-10-27 01:30"),
    )


def test_a_later_scan_in_the_repeated_hour_is_not_discarded_as_older() -> None:
    """02:40 in summer time, then 02:10 in winter time: the wall clock runs backwards."""
    translator = SwiftlineTranslator(TABLE_V1, {"T": "shp"})
    order = Order()
    for evt, code, wall in (("a", "OFD", "02:40"), ("b", "DLV", "02:10")):
        raw = {"evt": evt, "shp": "T", "code": code, "ts": f"2024-10-27 {wall}:00"}
        update = translator.translate(raw | {"depot": "AMS1"})
        assert update is not None
        apply_delivery(order, update.state)
    assert order.status == "delivered"
    assert translator.telemetry.ambiguous_times == 2


def test_a_time_in_the_spring_gap_is_refused() -> None:
    with pytest.raises(Untranslatable) as refused:
        local_to_utc("2025-03-30 02:30:00", DEPOT_ZONES["AMS1"])
    assert refused.value.reason == "nonexistent_local_time"


@pytest.mark.parametrize("text", ["2025-13-01 00:00:00", "yesterday", None, 20250115])
def test_a_malformed_time_is_untranslatable_not_a_crash(text) -> None:
    with pytest.raises(Untranslatable) as refused:
        local_to_utc(text, DEPOT_ZONES["AMS1"])
    assert refused.value.reason == "malformed_time"


@pytest.mark.parametrize("value", ["two", "NaN", "-1", "Infinity", 2.5j])
def test_a_malformed_weight_is_untranslatable_not_a_crash(value) -> None:
    with pytest.raises(Untranslatable) as refused:
        weight_in_grams(value, "KG")
    assert refused.value.reason == "malformed_weight"


def test_weights_convert_exactly_and_absence_is_not_zero() -> None:
    assert weight_in_grams("2.4", "LB") == 1089  # 1,088.6 g
    assert weight_in_grams("0.8", "LB") == 363  # 362.87 g
    assert weight_in_grams("1.25", "KG") == 1250
    assert weight_in_grams(None, None) is None


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"wt": "3", "wu": "OZ"}, "unknown_unit"),
        ({"wt": "3"}, "unknown_unit"),
        ({"depot": "CDG1"}, "unknown_depot"),
        ({"ts": ""}, "missing_field"),
        ({"ts": "noon"}, "malformed_time"),
        ({"code": ["ITR"]}, "malformed_field"),
    ],
)
def test_untranslatable_events_are_quarantined_with_a_reason(extra: dict, reason: str) -> None:
    translator = SwiftlineTranslator(TABLE_V1, {"T": "shp"})
    raw = {"evt": "x", "shp": "T", "code": "ITR", "ts": "2025-01-15 12:00:00", "depot": "AMS1"}
    update = translator.translate(raw | extra)
    assert update is not None
    assert (update.state.kind, update.state.reason) == (K.UNKNOWN, reason)
    assert translator.quarantine == [(reason, raw | extra)]
    assert translator.telemetry.quarantined == {reason: 1}
    assert not translator.telemetry.translated


def test_translate_never_raises_and_keeps_its_contract_for_any_payload() -> None:
    """A seeded property test: random payloads of random types, the contract always holds."""
    rng = random.Random(20250604)
    values = [
        None,
        "",
        "SWL1001",
        "SWL9999",
        "EXC",
        "DLV",
        "NB",
        "07",
        "AMS1",
        "XX",
        "LB",
        "2025-03-30 02:30:00",
        "2024-10-27 02:30:00",
        "2025-01-15 12:00:00",
        "1e999",
        "-3",
        "nan",
        0,
        1.5,
        [],
        {},
        ["ITR"],
        True,
    ]
    names = ["evt", "shp", "code", "sub", "ts", "depot", "wt", "wu", "extra"]
    translator = SwiftlineTranslator(TABLE_V2, default_links())
    for n in range(3000):
        raw = {name: rng.choice(values) for name in names if rng.random() < 0.8}
        raw["evt"] = f"p{n}" if rng.random() < 0.9 else raw.get("evt")
        update = translator.translate(raw)
        assert update is None or isinstance(update, DeliveryUpdate)
        if update is not None and update.state.kind is K.UNKNOWN:
            assert translator.quarantine[-1] == (update.state.reason, raw)
    assert sum(translator.telemetry.quarantined.values()) == len(translator.quarantine)


def test_a_redelivered_event_is_applied_once() -> None:
    translator = SwiftlineTranslator(TABLE_V1, {"T": "shp"})
    raw = {"evt": "e1", "shp": "T", "code": "ITR", "ts": "2025-01-15 12:00:00", "depot": "AMS1"}
    assert translator.translate(raw) is not None
    assert translator.translate(dict(raw)) is None
    assert translator.telemetry.duplicates == 1


def test_a_replayed_fact_fills_a_gap_but_never_overrides_a_newer_one() -> None:
    translator = SwiftlineTranslator(TABLE_V1, {"T": "shp"})
    order = Order()
    base = {"shp": "T", "depot": "AMS1"}
    for evt, code, day in (("a", "PUP", "03"), ("b", "DMG", "04"), ("c", "DLV", "05")):
        ts = f"2025-06-{day} 12:00:00"
        update = translator.translate(base | {"evt": evt, "code": code, "ts": ts})
        assert update is not None
        apply_delivery(order, update.state)
    translator.table = TABLE_V2
    for update in translator.replay_quarantine():
        apply_delivery(order, update.state)  # DMG of 4 June arrives after DLV of 5 June
    assert (order.status, order.replacement_due, order.needs_review) == ("delivered", False, False)


def test_tolerant_reader_ignores_new_fields_but_counts_them() -> None:
    translator = SwiftlineTranslator(TABLE_V1, {"T": "shp"})
    raw = {"evt": "x", "shp": "T", "code": "DLV", "ts": "2025-01-15 12:00:00", "depot": "AMS1"}
    update = translator.translate(raw | {"co2_g": 412, "eta_window": "09-12"})
    assert update is not None and update.state.kind is K.DELIVERED
    assert translator.telemetry.new_fields == {"co2_g": 1, "eta_window": 1}


# -- Our side: the order reads only our model ---------------------------------


def test_order_code_contains_no_partner_literals_and_the_old_code_did() -> None:
    assert partner_literals(apply_delivery) == []
    assert sorted(partner_literals(before_apply)) == ["02", "05", "DLV", "EXC", "RTS"]


def test_an_older_fact_arriving_late_does_not_move_the_order_back() -> None:
    order = Order()
    apply_delivery(order, DeliveryState(K.DELIVERED, utc("2025-05-13 08:02")))
    apply_delivery(order, DeliveryState(K.IN_TRANSIT, utc("2025-05-12 19:40")))
    assert order.status == "delivered"


@pytest.mark.parametrize(
    ("first", "then"),
    [(K.DELIVERED, K.IN_TRANSIT), (K.RETURNING, K.DELIVERED), (K.LOST, K.DELIVERED)],
)
def test_a_newer_fact_that_leaves_a_settled_status_holds_the_order(first, then) -> None:
    order = Order()
    apply_delivery(order, DeliveryState(first, utc("2025-05-13 08:00")))
    settled = order.status
    apply_delivery(order, DeliveryState(then, utc("2025-05-14 08:00")))
    assert (order.status, order.needs_review) == (settled, True)


def test_unknown_state_holds_the_order_instead_of_guessing() -> None:
    order = Order(status="out_for_delivery")
    apply_delivery(order, DeliveryState(K.UNKNOWN, utc("2025-06-10 16:00")))
    assert (order.status, order.needs_review, order.replacement_due) == (
        "out_for_delivery",
        True,
        False,
    )


# -- Their errors, our categories, their evidence kept ------------------------


def test_partner_error_is_translated_and_keeps_its_evidence() -> None:
    error = translate_partner_error(404, {"err": "E104", "msg": "no such parcel", "rid": "r-77"})
    assert isinstance(error, TrackingNumberUnknown)
    assert (error.kind, error.retryable) == ("expected", False)
    assert error.evidence["partner_err"] == "E104"
    assert error.evidence["partner_request_id"] == "r-77"
    assert error.evidence["http_status"] == 404


def test_unknown_partner_errors_are_never_treated_as_success_or_blindly_retried() -> None:
    server_side = translate_partner_error(502, {"err": "E777"})
    client_side = translate_partner_error(422, {"err": "E778"})
    assert isinstance(server_side, CarrierUnavailable) and server_side.retryable
    assert isinstance(client_side, CarrierIntegrationBug) and not client_side.retryable


def test_an_unknown_rate_limit_code_is_transient_not_a_bug() -> None:
    error = translate_partner_error(429, {"err": "E430", "rid": "r-9"})
    assert isinstance(error, CarrierUnavailable) and error.retryable
    assert error.evidence["partner_request_id"] == "r-9"


def test_an_error_record_without_http_status_is_a_bug_for_a_person() -> None:
    error = translate_partner_error(None, {"err": "E900", "msg": "label void"})
    assert isinstance(error, CarrierIntegrationBug)
    assert error.evidence["partner_err"] == "E900" and error.evidence["http_status"] is None
