"""Translating a logistics partner's language at the boundary.

Swiftline, an invented logistics partner, reports parcel events in its own
vocabulary: three-letter codes with numbered sub-reasons (``EXC`` / ``03`` is
a weather delay), local wall-clock times at the depot that scanned the
parcel, and weights in pounds or kilograms. Our ordering code wants one
thing: a :class:`DeliveryState` in our words, with a UTC instant and grams.

Two versions of the order code are here. :func:`before_apply` is the code as
it was, branching on Swiftline's codes; it silently mishandles the codes the
partner introduced when it split ``EXC`` into ``DMG``, ``LST`` and ``DLY``.
:class:`SwiftlineTranslator` is the anti-corruption layer: a table-driven
translator that turns each event into our value object, maps every code it
does not know to an explicit ``UNKNOWN`` state, keeps the raw event in a
quarantine for replay, and counts what it could not translate.
:func:`apply_delivery` is the order code that reads only our model.

The events replayed by :func:`main` are the golden fixture file
``examples/domain_translation_events.jsonl``.

Run it with ``python -m examples.domain_translation``.
"""

from __future__ import annotations

import ast
import inspect
import json
import textwrap
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

FIXTURES = Path(__file__).with_name("domain_translation_events.jsonl")

# --------------------------------------------------------------------------
# Their language: what Swiftline documents (reference data the ACL owns)
# --------------------------------------------------------------------------

PartnerCode = tuple[str, str | None]  # (code, sub-reason or None)

#: Swiftline's published code list before June 2025. A (code, None) pair is the code sent
#: without a sub-reason; it is not a catch-all for the code's other sub-reasons.
CATALOG_V1: dict[PartnerCode, str] = {
    ("PUP", None): "picked up",
    ("ITR", None): "in transit, scanned at a hub",
    ("OFD", None): "out for delivery",
    ("DLV", None): "delivered to the addressee",
    ("DLV", "NB"): "delivered: signed for by a neighbor",
    ("ATT", None): "delivery attempted, nobody home",
    ("EXC", "01"): "exception: address incomplete",
    ("EXC", "02"): "exception: damaged",
    ("EXC", "03"): "exception: weather delay",
    ("EXC", "04"): "exception: customs hold",
    ("EXC", "05"): "exception: lost",
    ("RTS", None): "returning to sender (the return leg gets a new tracking number)",
}

#: From June 2025 Swiftline splits EXC: damaged, lost and delays get codes of their own,
#: and EXC keeps only sub-reason 01. Events recorded before the split still carry EXC/02-05.
SPLIT_EXC = frozenset({("EXC", "02"), ("EXC", "03"), ("EXC", "04"), ("EXC", "05")})
CATALOG_V2: dict[PartnerCode, str] = {
    pair: text for pair, text in CATALOG_V1.items() if pair not in SPLIT_EXC
} | {
    ("DMG", None): "damaged",
    ("LST", None): "lost",
    ("DLY", "WX"): "delayed: weather",
    ("DLY", "CU"): "delayed: customs",
}

#: Where each depot is: Swiftline stamps events with the depot's wall-clock time.
DEPOT_ZONES: dict[str, ZoneInfo] = {
    "LHR1": ZoneInfo("Europe/London"),
    "AMS1": ZoneInfo("Europe/Amsterdam"),
}

#: The fields we read. Anything else is ignored (and counted), as a tolerant reader does.
KNOWN_FIELDS = frozenset({"evt", "shp", "code", "sub", "ts", "depot", "wt", "wu"})
REQUIRED_FIELDS = ("evt", "shp", "code", "ts", "depot")

GRAMS_PER_UNIT = {"KG": Decimal(1000), "LB": Decimal("453.59237")}  # the pound is exact

# --------------------------------------------------------------------------
# Our language: the delivery model the ordering context reads
# --------------------------------------------------------------------------


class DeliveryKind(StrEnum):
    """Where a parcel is, in the words of our ordering context."""

    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    NEEDS_RECIPIENT = "needs_recipient"  # the customer must act: address, redelivery
    DELAYED = "delayed"
    DAMAGED = "damaged"
    LOST = "lost"
    RETURNING = "returning"
    UNKNOWN = "unknown"  # the partner said something we do not understand (yet)


@dataclass(frozen=True)
class DeliveryState:
    """One delivery fact, translated: our kind, our reason words, UTC, grams.

    ``at`` is the instant of the fact; it is None only for an ``UNKNOWN`` state
    whose time could not be read. ``at_latest`` is set when the depot's local
    time fell in a repeated daylight-saving hour: the fact happened at ``at``
    or at ``at_latest`` and the clock cannot say which. For ``UNKNOWN``,
    ``reason`` is why the event was quarantined. ``evidence`` is the partner's
    event id and code as one opaque string, for logs and for the people who
    investigate. No business rule may parse it.
    """

    kind: DeliveryKind
    at: datetime | None
    reason: str | None = None
    weight_g: int | None = None
    evidence: str = ""
    at_latest: datetime | None = None


@dataclass(frozen=True)
class DeliveryUpdate:
    """A translated event addressed to one of our shipments."""

    shipment_id: str
    state: DeliveryState


# --------------------------------------------------------------------------
# The translator: the heart of the anti-corruption layer
# --------------------------------------------------------------------------

Row = tuple[DeliveryKind, str | None]  # our kind and our reason word

# start-table
TABLE_V1: dict[PartnerCode, Row] = {
    ("PUP", None): (DeliveryKind.IN_TRANSIT, None),
    ("ITR", None): (DeliveryKind.IN_TRANSIT, None),
    ("OFD", None): (DeliveryKind.OUT_FOR_DELIVERY, None),
    ("DLV", None): (DeliveryKind.DELIVERED, None),
    ("DLV", "NB"): (DeliveryKind.DELIVERED, "neighbor"),
    ("ATT", None): (DeliveryKind.NEEDS_RECIPIENT, "nobody_home"),
    ("EXC", "01"): (DeliveryKind.NEEDS_RECIPIENT, "address"),
    ("EXC", "02"): (DeliveryKind.DAMAGED, None),
    ("EXC", "03"): (DeliveryKind.DELAYED, "weather"),
    ("EXC", "04"): (DeliveryKind.DELAYED, "customs"),
    ("EXC", "05"): (DeliveryKind.LOST, None),
    ("RTS", None): (DeliveryKind.RETURNING, None),
}
# The rows added when Swiftline split EXC (catalog v2). The EXC/02-05 rows stay while
# events recorded before the split can still arrive or be replayed.
SPLIT_ROWS: dict[PartnerCode, Row] = {
    ("DMG", None): (DeliveryKind.DAMAGED, None),
    ("LST", None): (DeliveryKind.LOST, None),
    ("DLY", "WX"): (DeliveryKind.DELAYED, "weather"),
    ("DLY", "CU"): (DeliveryKind.DELAYED, "customs"),
}
# end-table


class Untranslatable(Exception):
    """An event the translator cannot place at all; ``reason`` is a stable label."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def local_to_utc(wall_clock: str, zone: ZoneInfo) -> tuple[datetime, datetime | None]:
    """Convert a depot's wall-clock time to UTC: the instant, and a later one if ambiguous.

    A time inside a daylight-saving gap never happened: it is refused. A time
    in the repeated hour of a fall-back happened twice: both instants are
    returned, the earlier first, and the caller decides what the doubt means.
    Malformed input raises :class:`Untranslatable`, never anything else.
    """
    try:
        naive = datetime.strptime(wall_clock, "%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        raise Untranslatable("malformed_time", repr(wall_clock)) from None
    first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(UTC), None
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise Untranslatable("nonexistent_local_time", f"{wall_clock} in {zone.key}")
    return first.astimezone(UTC), second.astimezone(UTC)


def weight_in_grams(value: str | None, unit: str | None) -> int | None:
    """Whole grams, rounded half up. Absent stays absent: no weight is not 0 g."""
    if value is None:
        return None
    if unit not in GRAMS_PER_UNIT:
        raise Untranslatable("unknown_unit", repr(unit))
    try:
        amount = Decimal(value)
    except (TypeError, ValueError, ArithmeticError):
        raise Untranslatable("malformed_weight", repr(value)) from None
    if not amount.is_finite() or amount < 0:
        raise Untranslatable("malformed_weight", repr(value))
    grams = amount * GRAMS_PER_UNIT[unit]
    return int(grams.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _required_text(raw: Mapping[str, Any], name: str) -> str:
    """A required text field, or Untranslatable: missing and malformed are different reasons."""
    value = raw.get(name)
    if value is None or value == "":
        raise Untranslatable("missing_field", name)
    if not isinstance(value, str):
        raise Untranslatable("malformed_field", name)
    return value


@dataclass
class Telemetry:
    """The boundary's own signals, labeled by the partner's values so people can act."""

    translated: Counter[str] = field(default_factory=Counter)  # known kinds only
    unknown: Counter[str] = field(default_factory=Counter)  # by the partner's raw code
    quarantined: Counter[str] = field(default_factory=Counter)  # by our reason label
    new_fields: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    ambiguous_times: int = 0


@dataclass
class SwiftlineTranslator:
    """Swiftline events in, :class:`DeliveryUpdate` out; nothing of Swiftline's leaves.

    The contract of :meth:`translate`: it never raises. For an event about one
    of our shipments it returns an update: a known kind, or ``UNKNOWN`` when
    the event was quarantined (the order is to be held). It returns None, and
    quarantines, when the event names no shipment of ours; and it returns None
    for a redelivered event it has already translated.
    """

    table: Mapping[PartnerCode, Row]
    links: Mapping[str, str]  # Swiftline tracking number -> our shipment id
    telemetry: Telemetry = field(default_factory=Telemetry)
    quarantine: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    applied: set[str] = field(default_factory=set)  # partner event ids already translated

    # start-translate
    def translate(self, raw: dict[str, Any]) -> DeliveryUpdate | None:
        for name in raw.keys() - KNOWN_FIELDS:  # tolerant reader: ignore, but notice
            self.telemetry.new_fields[name] += 1
        tracking = raw.get("shp")
        shipment_id = self.links.get(tracking) if isinstance(tracking, str) else None
        evidence = f"swiftline {raw.get('evt')} {raw.get('code')}/{raw.get('sub') or '-'}"
        try:
            event_id = _required_text(raw, "evt")
            if shipment_id is None:  # never create a shipment from their number
                raise Untranslatable("unknown_shipment", repr(tracking))
            if event_id in self.applied:  # a redelivery: applied once already
                self.telemetry.duplicates += 1
                return None
            state = self._meaning(raw, evidence)
        except Untranslatable as error:
            self.telemetry.quarantined[error.reason] += 1
            self.quarantine.append((error.reason, raw))  # kept for a replay
            if shipment_id is None:
                return None
            state = DeliveryState(DeliveryKind.UNKNOWN, None, error.reason, evidence=evidence)
            return DeliveryUpdate(shipment_id, state)  # the order is held, not guessed
        self.applied.add(event_id)
        self.telemetry.translated[state.kind] += 1
        return DeliveryUpdate(shipment_id, state)

    def _meaning(self, raw: dict[str, Any], evidence: str) -> DeliveryState:
        code, sub = _required_text(raw, "code"), raw.get("sub")
        depot = _required_text(raw, "depot")
        if sub is not None and not isinstance(sub, str):
            raise Untranslatable("malformed_field", "sub")
        row = self.table.get((code, sub))  # exact pair: no fallback to (code, None)
        if row is None:
            self.telemetry.unknown[f"{code}/{sub}" if sub else code] += 1
            raise Untranslatable("unknown_code", f"{code}/{sub}")
        if depot not in DEPOT_ZONES:
            raise Untranslatable("unknown_depot", depot)
        at, at_latest = local_to_utc(_required_text(raw, "ts"), DEPOT_ZONES[depot])
        weight_g = weight_in_grams(raw.get("wt"), raw.get("wu"))
        self.telemetry.ambiguous_times += at_latest is not None
        kind, reason = row
        return DeliveryState(kind, at, reason, weight_g, evidence, at_latest)

    # end-translate

    def replay_quarantine(self) -> list[DeliveryUpdate]:
        """Translate the held events again (after the table or links changed).

        Returns the updates that now carry a known kind; events that still
        cannot be placed go back into the quarantine.
        """
        held, self.quarantine = self.quarantine, []
        self.telemetry.quarantined.clear()
        updates = [self.translate(raw) for _, raw in held]
        return [u for u in updates if u is not None and u.state.kind is not DeliveryKind.UNKNOWN]


# --------------------------------------------------------------------------
# Errors from their API, in our categories (evidence kept for the operator)
# --------------------------------------------------------------------------


class CarrierError(Exception):
    """A failure of the carrier boundary, in our categories; the partner's code is evidence."""

    code = "CARRIER_ERROR"
    kind = "bug"  # expected | transient | bug
    retryable = False

    def __init__(self, message: str, evidence: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.evidence = dict(evidence)


class TrackingNumberUnknown(CarrierError):
    code, kind, retryable = "CARRIER_TRACKING_UNKNOWN", "expected", False


class CarrierUnavailable(CarrierError):
    code, kind, retryable = "CARRIER_UNAVAILABLE", "transient", True


class CarrierIntegrationBug(CarrierError):
    code, kind, retryable = "CARRIER_INTEGRATION_BUG", "bug", False


# start-errors
PARTNER_ERRORS: dict[str, type[CarrierError]] = {
    "E104": TrackingNumberUnknown,  # "no such tracking number"
    "E429": CarrierUnavailable,  # their rate limit
    "E503": CarrierUnavailable,  # their maintenance window
    "E400": CarrierIntegrationBug,  # we sent something malformed
    "E401": CarrierIntegrationBug,  # our credentials are wrong
}


RETRYABLE_STATUS = frozenset({408, 429})  # timeout, rate limit: 4xx that mean "later"


def translate_partner_error(http_status: int | None, body: Mapping[str, Any]) -> CarrierError:
    """Map a Swiftline error to our class, keeping their code and request id.

    An error code we have never seen is classified by the HTTP status: 5xx,
    408 and 429 are transient, other 4xx a bug. Without a status (an error
    record in the feed) it is a bug, for a person to read. Never a success.
    """
    cls = PARTNER_ERRORS.get(str(body.get("err")))
    if cls is None:
        transient = http_status is not None and (
            http_status >= 500 or http_status in RETRYABLE_STATUS
        )
        cls = CarrierUnavailable if transient else CarrierIntegrationBug
    evidence = {
        "partner_err": body.get("err"),
        "partner_message": body.get("msg"),
        "partner_request_id": body.get("rid"),
        "http_status": http_status,
    }
    return cls(f"Swiftline answered {http_status} {body.get('err')}", evidence)


# end-errors


# --------------------------------------------------------------------------
# The ordering context, before and after
# --------------------------------------------------------------------------


# start-before
def before_apply(order: dict[str, Any], event: dict[str, Any]) -> None:
    """The order code as it was: it reads Swiftline's codes directly."""
    if event["code"] == "DLV":
        order["status"] = "delivered"
    elif event["code"] == "EXC":
        order["status"] = "delivery_problem"
        if event.get("sub") in ("02", "05"):  # damaged, lost: send a replacement
            order["replacement_due"] = True
    elif event["code"] == "RTS":
        order["status"] = "returning"
    else:  # PUP, ITR, OFD, ATT: "still moving"
        order["status"] = "in_transit"


# end-before


@dataclass
class Order:
    """The part of an order that delivery facts change."""

    status: str = "awaiting_pickup"
    replacement_due: bool = False
    needs_review: bool = False
    last_fact_at: datetime | None = None
    notices: list[str] = field(default_factory=list)


ORDER_STATUS = {
    DeliveryKind.IN_TRANSIT: "in_transit",
    DeliveryKind.OUT_FOR_DELIVERY: "out_for_delivery",
    DeliveryKind.DELIVERED: "delivered",
    DeliveryKind.NEEDS_RECIPIENT: "awaiting_customer",
    DeliveryKind.DELAYED: "delayed",
    DeliveryKind.DAMAGED: "delivery_failed",
    DeliveryKind.LOST: "delivery_failed",
    DeliveryKind.RETURNING: "returning",
}


#: Statuses that no later fact may change silently: Swiftline sends nothing after
#: DLV, and RTS ends the outbound leg (the return has its own tracking number).
SETTLED = frozenset({"delivered", "delivery_failed", "returning"})


# start-after
def apply_delivery(order: Order, state: DeliveryState) -> None:
    """The order code after: it reads only our DeliveryState."""
    if state.kind is DeliveryKind.UNKNOWN or state.at is None:
        order.needs_review = True  # keep the status; a person or a replay decides
        return
    # A fact is older only if even its latest possible instant is: when a repeated
    # daylight-saving hour leaves two scans unordered, arrival order decides.
    if order.last_fact_at is not None and (state.at_latest or state.at) < order.last_fact_at:
        return  # an older fact arriving late does not move the order back
    status = ORDER_STATUS[state.kind]
    if order.status in SETTLED and status != order.status:
        order.needs_review = True  # e.g. in transit after delivered: not our lifecycle
        return
    order.status = status
    order.last_fact_at = max(order.last_fact_at or state.at, state.at)
    order.needs_review = False
    if state.kind in (DeliveryKind.DAMAGED, DeliveryKind.LOST):
        order.replacement_due = True
    if state.reason is not None:
        order.notices.append(f"{state.kind}:{state.reason}")


# end-after

# --------------------------------------------------------------------------
# Finding the leak: a census of the partner's literals in our code
# --------------------------------------------------------------------------

PARTNER_LITERALS = frozenset(
    {code for code, _ in CATALOG_V1 | CATALOG_V2}
    | {sub for _, sub in CATALOG_V1 | CATALOG_V2 if sub is not None}
)


def partner_literals(function: Callable[..., Any]) -> list[str]:
    """The string constants in ``function``'s source that are Swiftline codes or sub-reasons.

    A fitness test can run this (or a grep, or an import rule) over every
    module outside the anti-corruption layer and require an empty list.
    """
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in PARTNER_LITERALS
    ]


# --------------------------------------------------------------------------
# Replaying the golden fixtures
# --------------------------------------------------------------------------


def load_events(path: Path = FIXTURES) -> list[dict[str, Any]]:
    """The recorded partner events, one JSON object a line, in arrival order."""
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def default_links() -> dict[str, str]:
    """Our record of which Swiftline tracking number belongs to which shipment."""
    return {f"SWL100{n}": f"shp_0{n}" for n in range(1, 10)}


def replay_before(events: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Run the old order code over the events; keyed by Swiftline tracking number."""
    orders: dict[str, dict[str, Any]] = {}
    for event in events:
        order = orders.setdefault(event["shp"], {"status": "awaiting_pickup"})
        before_apply(order, event)
    return orders


def replay_after(
    events: Iterable[dict[str, Any]], translator: SwiftlineTranslator
) -> dict[str, Order]:
    """Run the events through the translator and the new order code; keyed by our id."""
    orders = {shipment_id: Order() for shipment_id in translator.links.values()}
    for event in events:
        update = translator.translate(event)
        if update is not None:
            apply_delivery(orders[update.shipment_id], update.state)
    return orders


def codes_by_shipment(events: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
    """Each tracking number's partner codes in arrival order, for display."""
    seen: dict[str, list[str]] = {}
    for event in events:
        code = event["code"] + (f"/{event['sub']}" if event.get("sub") else "")
        seen.setdefault(event["shp"], []).append(code)
    return seen


def _describe(order: Order) -> str:
    if order.needs_review:
        return f"{order.status}, held for review"
    return order.status + (", replacement" if order.replacement_due else "")


def missed_replacements(events: list[dict[str, Any]]) -> list[str]:
    """Tracking numbers where the old code sent no replacement but the full v2 table would."""
    before = replay_before(events)
    links = default_links()
    truth = replay_after(events, SwiftlineTranslator({**TABLE_V1, **SPLIT_ROWS}, links))
    return [
        tracking
        for tracking, order in before.items()
        if tracking in links
        and truth[links[tracking]].replacement_due
        and not order.get("replacement_due")
    ]


def _counts(counter: Mapping[str, int]) -> str:
    return ", ".join(f"{key} {value}" for key, value in sorted(counter.items()))


def main() -> None:
    events = load_events()
    by_id = {event["evt"]: event for event in events}
    links = default_links()
    print(f"Replaying {len(events)} Swiftline events from {FIXTURES.name}")
    print()
    before = replay_before(events)
    translator = SwiftlineTranslator(TABLE_V1, links)
    after = replay_after(events, translator)
    print("shipment events            before (reads codes)          after (reads DeliveryState)")
    for tracking, codes in codes_by_shipment(events).items():
        if tracking not in links:
            continue
        old = before[tracking]
        old_text = old["status"] + (", replacement" if old.get("replacement_due") else "")
        new_text = _describe(after[links[tracking]])
        print(f"{links[tracking]:<8} {' '.join(codes):<18} {old_text:<29} {new_text}")
    missed = missed_replacements(events)
    shown = ", ".join(f"{links[t]} {codes_by_shipment(events)[t][-1]}" for t in missed)
    print(f"Before: {len(missed)} lost or damaged parcels got no replacement ({shown})")
    print()
    print(f"Partner literals in before_apply: {', '.join(partner_literals(before_apply))}")
    print(f"Partner literals in apply_delivery: {len(partner_literals(apply_delivery))}")
    print()
    t = translator.telemetry
    print(f"Boundary signals with the v1 table ({len(TABLE_V1)} rows):")
    print(f"  unknown codes:  {_counts(t.unknown)}")
    print(f"  quarantined:    {_counts(t.quarantined)}")
    print(f"  new fields:     {_counts(t.new_fields)} (ignored)")
    print(f"  translated to a known kind: {t.translated.total()} (unknowns not counted here)")
    print(f"  ambiguous local times (both instants kept): {t.ambiguous_times}")
    print()
    print("Meaning, not field names:")
    for evt in ("e01", "e05", "e22"):
        raw = by_id[evt]
        label = f"  {evt} {raw['ts'][:16]} at {raw['depot']}"
        try:
            at, at_latest = local_to_utc(raw["ts"], DEPOT_ZONES[raw["depot"]])
        except Untranslatable as error:
            print(f"{label} -> quarantined: {error.reason}")
            continue
        text = f"{label} -> {at:%Y-%m-%d %H:%MZ}"
        if at_latest is not None:
            text += f" or {at_latest:%H:%MZ}"
        if raw.get("wt"):
            text += f"; {raw['wt']} {raw['wu']} -> {weight_in_grams(raw['wt'], raw['wu'])} g"
        print(text)
    print()
    translator.table = {**TABLE_V1, **SPLIT_ROWS}
    for update in translator.replay_quarantine():
        apply_delivery(after[update.shipment_id], update.state)
    print(f"After adding {len(SPLIT_ROWS)} rows for the split and replaying the quarantine:")
    for shipment_id in ("shp_05", "shp_06", "shp_07", "shp_08"):
        print(f"  {shipment_id}  {_describe(after[shipment_id])}")
    print(f"  still held: {_counts(translator.telemetry.quarantined)}")
    print()
    error = translate_partner_error(404, {"err": "E104", "msg": "no such parcel", "rid": "r-77"})
    print(f"Swiftline 404 E104 -> {error.code} ({error.kind}, retryable={error.retryable})")
    kept = " ".join(f"{k}={v}" for k, v in error.evidence.items() if k != "partner_message")
    print(f"  evidence kept: {kept}")
    for status in (429, 418, None):
        error = translate_partner_error(status, {"err": "E9xx", "rid": "r-78"})
        where = "feed record" if status is None else f"HTTP {status}"
        print(f"Swiftline {where}, E9xx (a code not in our table) -> {error.code}")


if __name__ == "__main__":
    main()
