"""Evolve an internal event contract without breaking the teams that consume it.

The orders service publishes ``OrderPlaced``; four services owned by other
teams read it. This module holds, with the standard library only:

- the event's schema versions, resolved the way Avro resolves a reader's
  schema against a writer's, and a checker for the seven compatibility modes
  of Confluent Schema Registry;
- the producer, which writes each payload inside a versioned envelope, and
  the upcaster that lets new code read events written by old producers;
- the consumers, each a small class with the contract it publishes (the
  fields it reads and their types), and provider verification of those
  contracts against what the producer writes;
- field-usage telemetry recorded while consumers read, two gates for the
  contract step of a rename, and a 41-day simulation of renaming
  ``customer_ref`` to ``customer_id`` under each gate.

Run ``python -m examples.internal_integrations`` for a demonstration.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

# -- Schemas and the seven compatibility modes ---------------------------------


class _Required:
    """Marker for a field with no default: a reader cannot do without it."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Field:
    """One field of a schema, as a reader or a writer declares it."""

    type: str  # "string", "int" or "enum"
    default: object = REQUIRED  # what a reader uses when the writer's schema lacks it
    symbols: tuple[str, ...] = ()  # enums: the values this schema knows
    unknown_symbol: str | None = None  # enums: what a reader maps unknown values to


@dataclass(frozen=True)
class Schema:
    """A registered version of the OrderPlaced payload."""

    version: int
    fields: Mapping[str, Field]
    label: str = ""  # how messages name it; "v<version>" unless set

    @property
    def name(self) -> str:
        return self.label or f"v{self.version}"


def evolve(
    base: Schema, add: Mapping[str, Field] | None = None, drop: tuple[str, ...] = ()
) -> Schema:
    """The next version: fields added (or redefined), fields dropped."""
    fields = {name: f for name, f in base.fields.items() if name not in drop}
    return Schema(base.version + 1, fields | dict(add or {}))


def proposed(base: Schema, **changes: Any) -> Schema:
    """A change someone proposes after ``base``, not (yet) a registered version."""
    return replace(evolve(base, **changes), label="new")


V1 = Schema(
    1,
    {
        "order_id": Field("string"),
        "customer_ref": Field("string"),
        "total_cents": Field("int"),
        "currency": Field("string"),
        "payment_method": Field("enum", symbols=("card", "invoice")),
        "placed_at": Field("string"),
    },
)
V2 = evolve(V1, add={"coupon_code": Field("string", default="")})
V3 = evolve(V2, add={"customer_id": Field("string", default="")})  # expand
V4 = evolve(V3, drop=("customer_ref",))  # contract
# The expand step for a FORWARD or FULL subject: it also gives the old name a default,
# so that the contract step deletes an optional field.
OPTIONAL_STRING = Field("string", default="")
V3_OPTIONAL_REF = evolve(V2, add={"customer_id": OPTIONAL_STRING, "customer_ref": OPTIONAL_STRING})

MODES = (
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
    "NONE",
)


def read_problems(reader: Schema, writer: Schema) -> list[str]:
    """Why data written with ``writer`` cannot be read with ``reader``.

    Avro's rules: a writer writes every field of its schema; the reader ignores
    fields it does not declare, fills the ones the writer lacks from its own
    defaults, and needs the same type (and, for an enum, every symbol the writer
    may send, unless it has a value to map unknown symbols to).
    """
    problems = []
    for name, wanted in reader.fields.items():
        written = writer.fields.get(name)
        if written is None:
            if wanted.default is REQUIRED:
                problems.append(f"{name} is required by the reader, absent from the writer")
        elif written.type != wanted.type:
            problems.append(f"{name} is written as {written.type}, read as {wanted.type}")
        else:
            unknown = [s for s in written.symbols if s not in wanted.symbols]
            if unknown and wanted.unknown_symbol is None:
                problems.append(f"{name}: the reader does not know {', '.join(unknown)}")
    return problems


def check(mode: str, new: Schema, history: list[Schema]) -> list[str]:
    """Every reason the registry would refuse ``new`` after ``history`` under ``mode``.

    BACKWARD: the new schema reads data written with the older one(s), so
    consumers upgrade first. FORWARD: the older schema(s) read data written with
    the new one, so producers upgrade first. FULL: both, in any order. The
    _TRANSITIVE forms check every earlier version; the others only the latest.
    """
    if mode == "NONE":
        return []
    against = history if mode.endswith("_TRANSITIVE") else history[-1:]
    pairs = []  # (reader, writer)
    for old in against:
        if mode.startswith(("BACKWARD", "FULL")):
            pairs.append((new, old))
        if mode.startswith(("FORWARD", "FULL")):
            pairs.append((old, new))
    return [
        f"{reader.name} reading {writer.name}: {problem}"
        for reader, writer in pairs
        for problem in read_problems(reader, writer)
    ]


def resolve(reader: Schema, writer: Schema, data: Mapping[str, Any]) -> dict[str, Any]:
    """Read a payload written with ``writer`` through ``reader``, as Avro does."""
    if problems := read_problems(reader, writer):
        raise ValueError("; ".join(problems))
    out = {}
    for name, f in reader.fields.items():
        value = data[name] if name in writer.fields else f.default
        if f.symbols and value not in f.symbols:
            value = f.unknown_symbol
        out[name] = value
    return out


# Changes someone might propose, each with the history it would be checked against.
PROPOSALS: list[tuple[str, list[Schema], Schema]] = [
    ("v2: add optional coupon_code", [V1], V2),
    ("add required sales_channel", [V1, V2], proposed(V2, add={"sales_channel": Field("string")})),
    (
        "rename customer_ref in place",
        [V1, V2],
        proposed(V2, add={"customer_id": Field("string")}, drop=("customer_ref",)),
    ),
    (
        "rename, new name has a default",
        [V1, V2],
        proposed(V2, add={"customer_id": Field("string", default="")}, drop=("customer_ref",)),
    ),
    (
        "add enum value wallet",
        [V1, V2],
        proposed(V2, add={"payment_method": Field("enum", symbols=("card", "invoice", "wallet"))}),
    ),
    ("total_cents: int -> string", [V1, V2], proposed(V2, add={"total_cents": Field("string")})),
    ("v3 expand: add customer_id", [V1, V2], V3),
    ("v4 contract: drop customer_ref", [V1, V2, V3], V4),
    ("drop customer_ref (v3 default)", [V1, V2, V3_OPTIONAL_REF], V4),
    (
        "v5: customer_id now required",
        [V1, V2, V3, V4],
        evolve(V4, add={"customer_id": Field("string")}),
    ),
]


def proposal(label: str) -> tuple[list[Schema], Schema]:
    """The history and the schema of one proposed change, by its label."""
    return next((history, new) for name, history, new in PROPOSALS if name == label)


# -- The producer and the upcaster ---------------------------------------------


@dataclass(frozen=True)
class Order:
    """What the orders service knows about an order, in its own terms."""

    order_id: str
    customer: str
    total_cents: int
    currency: str
    payment_method: str
    placed_at: str
    coupon_code: str = ""
    sales_channel: str = "web"


# During the expand step both names carry the same value.
SOURCES = {"customer_ref": "customer", "customer_id": "customer"}


def publish(order: Order, schema: Schema, event_id: str) -> str:
    """The JSON envelope the producer writes for ``order`` at ``schema``'s version."""
    data = {}
    for name, f in schema.fields.items():
        value = getattr(order, SOURCES.get(name, name))
        data[name] = str(value) if f.type == "string" else value
    envelope = {"type": "OrderPlaced", "version": schema.version, "event_id": event_id}
    return json.dumps(envelope | {"data": data}, sort_keys=True)


def upcast(envelope: Mapping[str, Any]) -> dict[str, Any]:
    """The payload of an event of any version, with every field of the newest names.

    The producer team ships this with the event's client library, so that code
    written against the new names can replay events written before they existed.
    """
    data = dict(envelope["data"])
    if envelope["version"] < 3:
        data["customer_id"] = data["customer_ref"]
    data.setdefault("coupon_code", "")
    return data


SAMPLE = Order("ord_001", "cus_042", 1999, "EUR", "card", "2025-02-03T10:00:00Z", "WINTER")


# -- Consumers and their contracts ---------------------------------------------

PY_TYPES: dict[str, type] = {"string": str, "int": int, "enum": str}


class Consumer:
    """A service another team owns that reads OrderPlaced, and what it reads."""

    name: str = ""
    team: str = ""
    contact: str = ""
    cadence: str = ""
    publishes_contract: bool = True  # False: the provider's CI never sees its expectations

    def __init__(self, customer_field: str = "customer_ref") -> None:
        self.customer_field = customer_field

    def migrated(self) -> Consumer:
        """The same service after it moves to the new field name."""
        return type(self)("customer_id")

    def contract(self) -> dict[str, str]:
        """The fields this consumer reads and their types ("?" marks optional)."""
        raise NotImplementedError

    def handle(self, data: Mapping[str, Any]) -> tuple[Any, ...]:
        raise NotImplementedError


class Billing(Consumer):
    name, team, contact, cadence = "billing", "Payments", "#payments-oncall", "stream"

    def contract(self) -> dict[str, str]:
        return {
            "order_id": "string",
            self.customer_field: "string",
            "total_cents": "int",
            "currency": "string",
            "payment_method": "enum",
        }

    def handle(self, data: Mapping[str, Any]) -> tuple[Any, ...]:
        method = data["payment_method"]
        route = method if method in ("card", "invoice") else "manual-review"
        customer = data[self.customer_field]
        return data["order_id"], customer, data["total_cents"], data["currency"], route


class Fulfillment(Consumer):
    name, team, contact, cadence = "fulfillment", "Warehouse", "#wh-platform", "stream"

    def contract(self) -> dict[str, str]:
        return {"order_id": "string", self.customer_field: "string", "placed_at": "string"}

    def handle(self, data: Mapping[str, Any]) -> tuple[Any, ...]:
        return data["order_id"], data[self.customer_field], data["placed_at"]


class Analytics(Consumer):
    name, team, contact, cadence = "analytics", "Data", "data-eng@", "nightly"

    def contract(self) -> dict[str, str]:
        return {
            "order_id": "string",
            self.customer_field: "string",
            "total_cents": "int",
            "coupon_code": "string?",
        }

    def handle(self, data: Mapping[str, Any]) -> tuple[Any, ...]:
        coupon = data.get("coupon_code", "")
        return data["order_id"], data[self.customer_field], data["total_cents"], coupon


class FinanceClose(Consumer):
    name, team, contact, cadence = "finance-close", "Finance", "fin-systems@", "monthly"
    publishes_contract = False  # a batch job nobody wrote a contract test for

    def contract(self) -> dict[str, str]:
        return {self.customer_field: "string", "total_cents": "int", "currency": "string"}

    def handle(self, data: Mapping[str, Any]) -> tuple[Any, ...]:
        return data[self.customer_field], data["currency"], data["total_cents"]


CONSUMERS: tuple[Consumer, ...] = (Billing(), Fulfillment(), Analytics(), FinanceClose())


def verify(contract: Mapping[str, str], envelope: str) -> list[str]:
    """One consumer's contract checked against one envelope the producer wrote."""
    data = json.loads(envelope)["data"]
    problems = []
    for name, wanted in contract.items():
        if name not in data:
            if not wanted.endswith("?"):
                problems.append(f"missing {name}")
        elif not isinstance(data[name], PY_TYPES[wanted.rstrip("?")]):
            problems.append(f"{name} is not {wanted.rstrip('?')}")
    return problems


def verify_provider(schema: Schema, consumers: tuple[Consumer, ...]) -> dict[str, list[str]]:
    """Provider verification: every published contract against the producer's output.

    Consumers that publish no contract are absent from the result: provider CI
    cannot fail on their behalf.
    """
    envelope = publish(SAMPLE, schema, "evt_sample")
    return {c.name: verify(c.contract(), envelope) for c in consumers if c.publishes_contract}


MIGRATED: tuple[Consumer, ...] = tuple(c.migrated() for c in CONSUMERS)

# The rename as expand, migrate, contract: (step, producer schema, consumers' contracts).
STEPS: list[tuple[str, Schema, tuple[Consumer, ...]]] = [
    ("0 before: v2", V2, CONSUMERS),
    ("1 expand: v3 has both names", V3, CONSUMERS),
    ("2 migrate: read customer_id", V3, MIGRATED),
    ("3 contract: v4 drops customer_ref", V4, MIGRATED),
]


# -- Field-usage telemetry -----------------------------------------------------


class RecordingView(Mapping[str, Any]):
    """A read-only payload that reports each field a consumer actually reads."""

    def __init__(self, data: Mapping[str, Any], record: Callable[[str], None]) -> None:
        self._data = data
        self._record = record

    def __getitem__(self, key: str) -> Any:
        value = self._data[key]  # a missing field raises and records nothing
        self._record(key)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


Usage = Counter  # (consumer, day, field) -> events in which the consumer read the field


def quiet_window_gate(usage: Usage, old: str, today: int, quiet_days: int = 7) -> list[str]:
    """The naive rule: nobody read the old field during the last ``quiet_days`` days."""
    recent = sorted({c for (c, day, f) in usage if f == old and today - quiet_days <= day < today})
    return [f"{c} read {old} in the last {quiet_days} days" for c in recent]


def evidence_gate(
    usage: Usage,
    old: str,
    new: str,
    today: int,
    declared: tuple[str, ...] = (),
    quiet_days: int = 7,
    lookback_days: int = 90,
) -> list[str]:
    """Reasons to refuse the contract step today; an empty list allows it.

    Silence is not evidence. Every consumer that declares the old field in the
    inventory, or was seen reading it in the last ``lookback_days`` (longer than
    the slowest consumer's cycle), must have been seen reading the new field
    since its last read of the old one; and nobody may have read the old field
    during the last ``quiet_days``.
    """
    reasons = quiet_window_gate(usage, old, today, quiet_days)
    seen = [(c, day, f) for (c, day, f) in usage if today - lookback_days <= day < today]
    for consumer in sorted(set(declared) | {c for (c, _, f) in seen if f == old}):
        last_old = max((d for (c, d, f) in seen if c == consumer and f == old), default=None)
        last_new = max((d for (c, d, f) in seen if c == consumer and f == new), default=None)
        if last_new is not None and (last_old is None or last_new > last_old):
            continue
        if last_old is None:
            reasons.append(f"{consumer} declares {old} and has not been seen reading either field")
        else:
            reasons.append(
                f"{consumer} read {old} on day {last_old} and has not been seen on {new} since"
            )
    return reasons


# -- A rename, day by day ------------------------------------------------------

EVENTS_PER_DAY = 20
FIRST_DAY, LAST_DAY = -5, 35
EXPAND_DAY = 0
FINANCE_RUNS = (-3, 27)  # month-end close reads every event since its previous run
# Day (fractional: a rolling deploy) each consumer starts reading customer_id.
PLANNED = {"billing": 3.5, "fulfillment": 6, "analytics": 15, "finance-close": 24}
# Without evidence nobody chases finance-close, and it never moves.
UNCHASED = PLANNED | {"finance-close": None}


@dataclass(frozen=True)
class Rollout:
    """What happened to the rename under one gate."""

    gate: str
    usage: Usage
    quiet_open: int  # first morning the quiet-window rule would allow the contract step
    evidence_open: int | None  # first morning the evidence rule would allow it
    contract_day: int | None  # first day the producer wrote v4
    dead_letters: Counter  # (consumer, day) -> events that consumer could not process
    refusals: dict[int, list[str]]  # day -> the evidence gate's reasons, while it refused


def simulate(gate: str, migrations: Mapping[str, float | None]) -> Rollout:
    """Run the rename from day FIRST_DAY to LAST_DAY, contracting when ``gate`` allows."""
    consumers = {c.name: c for c in CONSUMERS}
    log: list[tuple[int, int, str]] = []  # (day, index, envelope)
    usage: Usage = Counter()
    dead: Counter = Counter()
    refusals: dict[int, list[str]] = {}
    quiet_open = evidence_open = contract_day = None
    for day in range(FIRST_DAY, LAST_DAY + 1):
        quiet = quiet_window_gate(usage, "customer_ref", day)
        evidence = evidence_gate(usage, "customer_ref", "customer_id", day)
        if day > EXPAND_DAY:
            if not quiet and quiet_open is None:
                quiet_open = day
            if evidence:
                refusals[day] = evidence
            elif evidence_open is None:
                evidence_open = day
        allowed = not (quiet if gate == "quiet window" else evidence)
        if contract_day is None and day > EXPAND_DAY and allowed:
            contract_day = day
        schema = V2 if day < EXPAND_DAY else V4 if contract_day is not None else V3
        for i in range(EVENTS_PER_DAY):
            order = Order(
                f"ord_{day:+03d}_{i:02d}", f"cus_{(day * 7 + i) % 50:03d}", 1000 + 25 * i,
                "EUR", ("card", "invoice")[i % 2], f"day {day}",
            )  # fmt: skip
            log.append((day, i, publish(order, schema, f"evt_{day:+03d}_{i:02d}")))
        for name, consumer in consumers.items():
            if name == "finance-close":
                if day not in FINANCE_RUNS:
                    continue
                since = max([r for r in FINANCE_RUNS if r < day], default=FIRST_DAY)
                batch = [(d, i, e) for d, i, e in log if since <= d < day]
            else:
                batch = [(d, i, e) for d, i, e in log if d == day]
            moved = migrations[name]
            for d, i, envelope in batch:
                # A reader's code version is decided when it processes the event.
                when = day + (i / EVENTS_PER_DAY if d == day else 0)
                reader = consumer.migrated() if moved is not None and when >= moved else consumer
                view = RecordingView(
                    upcast(json.loads(envelope)), lambda f, n=name, d=day: usage.update([(n, d, f)])
                )
                try:
                    reader.handle(view)
                except KeyError:
                    dead[(name, day)] += 1
    assert quiet_open is not None
    return Rollout(gate, usage, quiet_open, evidence_open, contract_day, dead, refusals)


@cache
def migration_timeline() -> Rollout:
    """The rename under the evidence gate: the run the article's figure draws."""
    return simulate("evidence", PLANNED)


@cache
def quiet_window_rollout() -> Rollout:
    """The same rename contracted by the quiet-window rule, with nobody chasing finance."""
    return simulate("quiet window", UNCHASED)


def reads_by_day(rollout: Rollout, consumer: str, field_name: str) -> list[tuple[int, int]]:
    """(day, events read) for every day ``consumer`` read ``field_name``."""
    days = sorted(d for (c, d, f) in rollout.usage if c == consumer and f == field_name)
    return [(d, rollout.usage[(consumer, d, field_name)]) for d in days]


# -- Demonstration -------------------------------------------------------------


def main() -> None:
    """Print the compatibility matrix, the contract checks, a replay and the rollouts."""
    short = ("BACK", "BACK_T", "FWD", "FWD_T", "FULL", "FULL_T", "NONE")
    print("Which proposed OrderPlaced change each mode accepts (ok, or problems found)")
    print(f"{'change':<32}" + "".join(f"{s:>7}" for s in short))
    for label, history, new in PROPOSALS:
        cells = [len(check(mode, new, history)) or "ok" for mode in MODES]
        print(f"{label:<32}" + "".join(f"{c:>7}" for c in cells))
    for label, mode in (
        ("rename, new name has a default", "FORWARD"),
        ("v5: customer_id now required", "BACKWARD_TRANSITIVE"),
    ):
        print(f"\n{mode} refuses '{label}':")
        for problem in check(mode, proposal(label)[1], proposal(label)[0]):
            print("  " + problem)

    names = [c.name for c in CONSUMERS]
    print("\nConsumer contracts verified against the producer's output (provider CI)")
    print(f"{'step':<34}" + "".join(f"{n:>14}" for n in names))
    one_step = proposal("rename, new name has a default")[1]
    rows = [("rename in one step", one_step, CONSUMERS), *STEPS]
    for step, schema, consumers in rows:
        result = verify_provider(schema, consumers)
        cells = ["no contract" if n not in result else "FAIL" if result[n] else "ok" for n in names]
        print(f"{step:<34}" + "".join(f"{c:>14}" for c in cells))
    print("  one-step rename, billing:", "; ".join(verify_provider(one_step, CONSUMERS)["billing"]))

    old_event = json.loads(publish(SAMPLE, V1, "evt_old"))
    print("\nReplaying a v1 event in code written for v4")
    print("  through the upcaster:       customer_id =", repr(upcast(old_event)["customer_id"]))
    resolved = resolve(V4, V1, old_event["data"])
    print("  v4 schema resolution alone: customer_id =", repr(resolved["customer_id"]))

    print(f"\nRename customer_ref -> customer_id, {EVENTS_PER_DAY} events a day, expand on day 0")
    print(f"{'gate':<16}{'allows on':>10}{'contract':>10}{'dead letters':>14}")
    for rollout in (quiet_window_rollout(), migration_timeline()):
        opens = rollout.quiet_open if rollout.gate == "quiet window" else rollout.evidence_open
        where = ", ".join(f"{c} day {d}: {n}" for (c, d), n in sorted(rollout.dead_letters.items()))
        print(
            f"{rollout.gate:<16}{'day ' + str(opens):>10}{'day ' + str(rollout.contract_day):>10}"
            f"{sum(rollout.dead_letters.values()):>14}" + (f"  ({where})" if where else "")
        )
    timeline = migration_timeline()
    print(f"Evidence gate on day {timeline.quiet_open}, when the quiet window was already clear:")
    for reason in timeline.refusals[timeline.quiet_open]:
        print("  " + reason)


if __name__ == "__main__":
    main()
