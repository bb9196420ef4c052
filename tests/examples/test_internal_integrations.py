"""The claims of "Evolving internal integrations without breaking consumers"."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace

import pytest

from examples.internal_integrations import (
    CONSUMERS,
    EVENTS_PER_DAY,
    MODES,
    SAMPLE,
    STEPS,
    V1,
    V2,
    V3,
    V4,
    Billing,
    Field,
    RecordingView,
    check,
    evidence_gate,
    evolve,
    migration_timeline,
    proposal,
    publish,
    quiet_window_gate,
    quiet_window_rollout,
    reads_by_day,
    resolve,
    upcast,
    verify_provider,
)
from tests.figures import draw, lines

OLD, NEW = "customer_ref", "customer_id"
WITH_CONTRACTS = {c.name for c in CONSUMERS if c.publishes_contract}


def failing(schema, consumers=CONSUMERS) -> set[str]:
    """Names of the consumers whose contract the producer's output at ``schema`` breaks."""
    return {name for name, problems in verify_provider(schema, consumers).items() if problems}


# -- Compatibility modes -------------------------------------------------------


def test_additive_v2_passes_every_mode_and_every_contract() -> None:
    for mode in MODES:
        assert check(mode, V2, [V1]) == [], mode
    assert failing(V2) == set()


def test_new_required_field_is_refused_by_backward_not_by_forward() -> None:
    history, new = proposal("add required sales_channel")
    assert any("sales_channel is required" in p for p in check("BACKWARD", new, history))
    assert check("FORWARD", new, history) == []
    assert check("FULL", new, history) != []


def test_backward_accepts_the_rename_that_breaks_every_reader() -> None:
    history, new = proposal("rename, new name has a default")
    # The default mode says yes: the new schema can read old data ...
    assert check("BACKWARD", new, history) == []
    assert check("BACKWARD_TRANSITIVE", new, history) == []
    # ... while FORWARD sees the removed field that old readers require ...
    assert any("customer_ref is required" in p for p in check("FORWARD", new, history))
    # ... and every published contract fails against what the producer would write.
    assert failing(new) == WITH_CONTRACTS == {"billing", "fulfillment", "analytics"}


def test_a_new_enum_value_breaks_old_readers_unless_they_map_unknowns() -> None:
    history, new = proposal("add enum value wallet")
    assert check("BACKWARD", new, history) == []
    assert any("does not know wallet" in p for p in check("FORWARD", new, history))
    tolerant_v2 = evolve(
        V1,
        add={
            "coupon_code": Field("string", default=""),
            "payment_method": Field("enum", symbols=("card", "invoice"), unknown_symbol="other"),
        },
    )
    assert check("FORWARD", new, [V1, tolerant_v2]) == []
    wallet = publish(replace(SAMPLE, payment_method="wallet"), new, "e")
    assert resolve(tolerant_v2, new, json.loads(wallet)["data"])["payment_method"] == "other"


def test_transitive_modes_catch_what_checking_the_latest_version_misses() -> None:
    history, new = proposal("v5: customer_id now required")
    assert check("BACKWARD", new, history) == []
    assert check("FULL", new, history) == []
    problems = check("BACKWARD_TRANSITIVE", new, history)
    assert {p.split(":")[0] for p in problems} == {"v5 reading v1", "v5 reading v2"}
    assert check("FULL_TRANSITIVE", new, history) != []


def test_type_change_fails_both_directions_and_none_checks_nothing() -> None:
    history, new = proposal("total_cents: int -> string")
    assert check("BACKWARD", new, history) != [] and check("FORWARD", new, history) != []
    assert check("NONE", new, history) == []
    assert failing(new) == {"billing", "analytics"}


# -- Consumer contracts --------------------------------------------------------


def test_removing_a_field_fails_exactly_the_contracts_that_read_it() -> None:
    assert failing(evolve(V2, drop=("placed_at",))) == {"fulfillment"}
    assert failing(evolve(V2, drop=("currency",))) == {"billing"}
    # An optional field in a contract may disappear: analytics reads coupon_code with a default.
    assert failing(V1) == set()


@pytest.mark.parametrize("step", STEPS, ids=[s[0] for s in STEPS])
def test_expand_migrate_contract_passes_at_every_step(step) -> None:
    _, schema, consumers = step
    assert failing(schema, consumers) == set()
    history = [s for s in (V1, V2, V3) if s.version < schema.version]
    assert check("BACKWARD_TRANSITIVE", schema, history) == []


def test_contracting_before_consumers_migrate_fails_their_contracts() -> None:
    assert failing(V4, CONSUMERS) == WITH_CONTRACTS


def test_provider_ci_cannot_protect_a_consumer_without_a_contract() -> None:
    finance = next(c for c in CONSUMERS if c.name == "finance-close")
    assert not finance.publishes_contract
    # Three consumers migrated, finance-close did not: provider CI passes the contract step ...
    consumers = (*(c.migrated() for c in CONSUMERS if c is not finance), finance)
    assert "finance-close" not in verify_provider(V4, consumers)
    assert failing(V4, consumers) == set()
    # ... and finance-close fails on the first v4 event it reads.
    with pytest.raises(KeyError):
        finance.handle(json.loads(publish(SAMPLE, V4, "e"))["data"])


def test_forward_and_full_subjects_need_the_old_name_optional_before_dropping_it() -> None:
    history, v4 = proposal("v4 contract: drop customer_ref")
    assert check("FORWARD", v4, history) and check("FULL", v4, history)
    history, v4 = proposal("drop customer_ref (v3 default)")
    for mode in ("BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FULL"):
        assert check(mode, v4, history) == [], mode
    # v1 and v2 required customer_ref, so the transitive forward modes never allow the drop.
    for mode in ("FORWARD_TRANSITIVE", "FULL_TRANSITIVE"):
        assert {p.split(":")[0] for p in check(mode, v4, history)} == {
            "v1 reading v4",
            "v2 reading v4",
        }, mode


@pytest.mark.parametrize("consumer", [*CONSUMERS, *(c.migrated() for c in CONSUMERS)])
def test_each_contract_lists_exactly_the_fields_the_code_reads(consumer) -> None:
    read: set[str] = set()
    consumer.handle(RecordingView(upcast(json.loads(publish(SAMPLE, V3, "e"))), read.add))
    assert read == set(consumer.contract())


def test_a_tolerant_reader_routes_an_unknown_enum_value_instead_of_failing() -> None:
    _, with_wallet = proposal("add enum value wallet")
    event = json.loads(publish(replace(SAMPLE, payment_method="wallet"), with_wallet, "e"))
    assert Billing().handle(event["data"])[-1] == "manual-review"
    # and an unknown field is simply never read
    event["data"]["loyalty_tier"] = "gold"
    assert Billing().handle(event["data"])[0] == SAMPLE.order_id


# -- Replaying old events ------------------------------------------------------


@pytest.mark.parametrize("old", [V1, V2], ids=["v1", "v2"])
def test_new_code_replays_old_events_only_through_the_upcaster(old) -> None:
    old_event = json.loads(publish(SAMPLE, old, "evt_old"))
    with pytest.raises(KeyError):
        Billing("customer_id").handle(old_event["data"])
    assert Billing("customer_id").handle(upcast(old_event))[1] == SAMPLE.customer


@pytest.mark.parametrize("old", [V1, V2], ids=["v1", "v2"])
def test_schema_resolution_reads_old_events_but_loses_the_customer(old) -> None:
    assert check("BACKWARD_TRANSITIVE", V4, [V1, V2, V3]) == []
    data = json.loads(publish(SAMPLE, old, "evt_old"))["data"]
    assert resolve(V4, old, data)["customer_id"] == ""


# -- Usage telemetry and the contract gate -------------------------------------


def test_recording_view_counts_reads_that_happen_only() -> None:
    read: list[str] = []
    view = RecordingView({"a": 1, "b": 2}, read.append)
    assert view["a"] == 1 and view.get("missing") is None
    with pytest.raises(KeyError):
        view["missing"]
    assert read == ["a"]


def test_contract_step_is_refused_while_a_consumer_reads_the_old_field() -> None:
    usage = Counter({("billing", 9, OLD): 20, ("billing", 9, NEW): 0})
    assert quiet_window_gate(usage, OLD, today=10)
    assert evidence_gate(usage, OLD, NEW, today=10)
    assert not evidence_gate(Counter({("billing", 9, NEW): 20}), OLD, NEW, today=10)


def test_silence_is_not_evidence_of_migration() -> None:
    monthly = Counter({("finance-close", -3, OLD): 40})
    assert quiet_window_gate(monthly, OLD, today=22) == []
    assert evidence_gate(monthly, OLD, NEW, today=22)
    monthly[("finance-close", 27, NEW)] = 600
    assert evidence_gate(monthly, OLD, NEW, today=28) == []


def test_a_rolling_deploy_day_with_both_names_is_not_evidence() -> None:
    usage = Counter({("billing", 3, OLD): 10, ("billing", 3, NEW): 10})
    assert evidence_gate(usage, OLD, NEW, today=11, quiet_days=7)


def test_a_declared_consumer_never_seen_blocks_the_contract_step() -> None:
    reasons = evidence_gate(Counter(), OLD, NEW, today=30, declared=("finance-close",))
    assert reasons == [f"finance-close declares {OLD} and has not been seen reading either field"]


def test_the_quiet_window_rule_contracts_early_and_dead_letters_finance() -> None:
    rollout = quiet_window_rollout()
    assert rollout.contract_day == rollout.quiet_open == 22
    # finance-close's month-end run meets five days of v4 events without customer_ref
    assert rollout.dead_letters == Counter({("finance-close", 27): 5 * EVENTS_PER_DAY})


def test_the_evidence_gate_waits_for_finance_and_loses_nothing() -> None:
    rollout = migration_timeline()
    assert rollout.quiet_open == 22 and rollout.contract_day == rollout.evidence_open == 28
    assert [r.split()[0] for r in rollout.refusals[22]] == ["finance-close"]
    assert sum(rollout.dead_letters.values()) == 0


def test_telemetry_shows_each_consumer_switching_once() -> None:
    rollout = migration_timeline()
    for consumer in CONSUMERS:
        old_days = [d for d, _ in reads_by_day(rollout, consumer.name, OLD)]
        new_days = [d for d, _ in reads_by_day(rollout, consumer.name, NEW)]
        assert max(old_days) <= min(new_days), consumer.name
    # the rolling deploy: on day 3 billing read both names, then only the new one
    assert reads_by_day(rollout, "billing", OLD)[-1] == (3, EVENTS_PER_DAY // 2)
    assert reads_by_day(rollout, "billing", NEW)[0] == (3, EVENTS_PER_DAY // 2)
    assert reads_by_day(rollout, "finance-close", OLD) == [(-3, 2 * EVENTS_PER_DAY)]
    assert reads_by_day(rollout, "finance-close", NEW) == [(27, 30 * EVENTS_PER_DAY)]


def test_the_figure_plots_the_telemetry() -> None:
    rollout = migration_timeline()
    figure = draw("apis/figures/field-migration-timeline.py")
    plotted = lines(figure)
    rows = {c.name: len(CONSUMERS) - 1 - i for i, c in enumerate(CONSUMERS)}
    for consumer in CONSUMERS:
        for field_name, offset in ((OLD, 0.15), (NEW, -0.15)):
            expected = [
                (float(d), rows[consumer.name] + offset)
                for d, _ in reads_by_day(rollout, consumer.name, field_name)
            ]
            assert plotted[f"{consumer.name}: {field_name}"] == expected
    assert plotted["7 quiet days"][0][0] == rollout.quiet_open
    assert plotted["contract (v4)"][0][0] == rollout.contract_day
