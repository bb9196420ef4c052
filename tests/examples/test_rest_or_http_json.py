"""Tests for examples.rest_or_http_json: each asserts a claim the article makes, on the wire."""

from __future__ import annotations

import math
import random

import pytest

from examples.rest_or_http_json import (
    CANCELLABLE,
    HypermediaHandler,
    OrderStore,
    ResourceHandler,
    TunnelHandler,
    Wire,
    after_url_move,
    cancel_after_edit,
    cancel_level2,
    cancel_level3,
    links_by_state,
    lost_update,
    poll_unchanged,
    race_rows,
    read_order,
    serve,
    shipped_race,
    stale_write_probability,
    status_lines,
)
from tests.figures import draw

PROBLEM_MEMBERS = {"type", "title", "status", "detail", "instance"}
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture
def level2() -> tuple[OrderStore, Wire]:
    store = OrderStore()
    with serve(ResourceHandler, store) as address:
        yield store, Wire(address)


# --- Level 0: the tunnel hides outcomes from everything that reads the status line


def test_the_tunnel_answers_200_to_every_outcome() -> None:
    rows = status_lines()
    assert [level0.status for _, level0, _ in rows] == [200] * len(rows)
    # ... although two of the five attempts failed, which only the body says.
    assert [level0.body["ok"] for _, level0, _ in rows] == [True, False, False, True, True]


def test_the_tunnel_cancels_an_order_the_caller_has_not_seen() -> None:
    rows = {name: (level0, level2) for name, level0, level2 in status_lines()}
    level0, level2 = rows["edited by another client since read"]
    assert level0.body["ok"] is True  # the decision was made on an old read, and it went through
    assert level2.status == 412  # level 2 refuses it


def test_the_tunnel_gives_caches_no_validators() -> None:
    store = OrderStore()
    order = store.create(("book",))
    with serve(TunnelHandler, store) as address:
        reply = Wire(address).send("POST", "/api", {"action": "get", "order_id": order.id})
    assert "etag" not in reply.headers and "cache-control" not in reply.headers


# --- Level 2: status codes, problem details and headers on the wire


def test_level_2_gives_each_outcome_its_own_status_code() -> None:
    statuses = [level2.status for _, _, level2 in status_lines()]
    assert statuses == [200, 409, 404, 412, 428]


def test_every_level_2_error_is_a_complete_problem_details_body() -> None:
    for _, _, reply in status_lines():
        if reply.status < 400:
            continue
        assert reply.headers["content-type"] == "application/problem+json"
        assert reply.body.keys() >= PROBLEM_MEMBERS
        assert reply.body["status"] == reply.status
        assert reply.body["type"].startswith("https://")


def test_the_409_names_the_state_that_forbids_the_cancel(level2) -> None:
    store, wire = level2
    order = store.create(("book",))
    shipped = store.ship(order.id)
    reply = wire.send("POST", f"/orders/{order.id}:cancel", headers={"If-Match": '"2"'})
    assert shipped.version == 2
    assert reply.status == 409
    assert reply.body["state"] == "shipped" and "shipped" in reply.body["detail"]


def test_create_answers_201_with_a_location_that_resolves(level2) -> None:
    _, wire = level2
    created = wire.send("POST", "/orders", {"items": ["book"]})
    assert created.status == 201
    assert created.headers["location"] == f"/orders/{created.body['id']}"
    fetched = wire.send("GET", created.headers["location"])
    assert fetched.status == 200 and fetched.headers["etag"] == created.headers["etag"]


def test_reads_carry_a_validator_and_private_no_cache(level2) -> None:
    store, wire = level2
    order = store.create(("book",))
    reply = wire.send("GET", f"/orders/{order.id}")
    assert reply.headers["etag"] == '"1"'
    assert reply.headers["cache-control"] == "private, no-cache"


def test_unconditional_writes_are_refused_with_428(level2) -> None:
    store, wire = level2
    order = store.create(("book",))
    path = f"/orders/{order.id}"
    assert wire.send("POST", f"{path}:cancel").status == 428
    assert wire.send("PATCH", path, {"items": []}, MERGE_PATCH).status == 428
    # "If-Match: *" matches any current version, so it proves no read: refused too.
    assert wire.send("POST", f"{path}:cancel", headers={"If-Match": "*"}).status == 428
    star = {**MERGE_PATCH, "If-Match": "*"}
    assert wire.send("PATCH", path, {"items": []}, star).status == 428
    assert store.get(order.id).version == 1  # nothing changed


def test_patch_checks_media_type_then_body(level2) -> None:
    store, wire = level2
    order = store.create(("book",))
    path, if_match = f"/orders/{order.id}", {"If-Match": '"1"'}
    wrong_type = wire.send("PATCH", path, {"items": []}, if_match)  # application/json
    assert wrong_type.status == 415
    assert wrong_type.headers["accept-patch"] == "application/merge-patch+json"
    invalid = wire.send("PATCH", path, {"items": [1, 2]}, {**MERGE_PATCH, **if_match})
    assert invalid.status == 422
    # The fields to fix are named in the problem's "errors" extension, by JSON pointer.
    assert [e["pointer"] for e in invalid.body["errors"]] == ["#/items"]


def test_if_match_compares_strongly_and_if_none_match_weakly(level2) -> None:
    store, wire = level2
    order = store.create(("book",))
    path = f"/orders/{order.id}"
    # A proxy that weakened the ETag (W/"1") makes every conditional write fail ...
    assert wire.send("POST", f"{path}:cancel", headers={"If-Match": 'W/"1"'}).status == 412
    # ... while revalidation still works with the weak form.
    assert wire.send("GET", path, headers={"If-None-Match": 'W/"1"'}).status == 304
    assert wire.send("POST", f"{path}:cancel", headers={"If-Match": '"1"'}).status == 200


def test_a_retried_cancel_whose_response_was_lost_gets_200_not_412(level2) -> None:
    store, wire = level2
    order = store.create(("book",))
    path = f"/orders/{order.id}:cancel"
    first = wire.send("POST", path, headers={"If-Match": '"1"'})
    retry = wire.send("POST", path, headers={"If-Match": '"1"'})  # same request, sent again
    assert first.status == retry.status == 200
    assert store.get(order.id).version == 2  # applied once
    # A tag that was never current is still refused.
    assert wire.send("POST", path, headers={"If-Match": '"7"'}).status == 412


def test_if_match_prevents_the_lost_update() -> None:
    tunnel, level2 = lost_update("level 0"), lost_update("level 2")
    # Through the tunnel the agent's write, based on an old read, brings the lamp back.
    assert tunnel.final_items == ("book", "lamp", "mug")
    # With If-Match the agent gets 412, reads again and re-applies only its own change.
    assert level2.final_items == ("book", "mug")
    assert level2.agent_statuses == (200, 412, 200, 200)


def test_revalidation_sends_the_body_once() -> None:
    tunnel, level2 = poll_unchanged("level 0"), poll_unchanged("level 2")
    assert tunnel.statuses == (200,) * 10
    assert level2.statuses == (200,) + (304,) * 9
    single = poll_unchanged("level 2", polls=1)
    assert level2.body_bytes == single.body_bytes  # every 304 had an empty body
    assert tunnel.body_bytes == 10 * (tunnel.body_bytes // 10) > 10 * single.body_bytes
    # ... but every 304 still carries its status line and headers, so the total saving
    # is far smaller than the body saving for a small order.
    per_304 = (level2.header_bytes - single.header_bytes) / 9
    assert per_304 > 100
    tunnel_total = tunnel.body_bytes + tunnel.header_bytes
    level2_total = level2.body_bytes + level2.header_bytes
    assert level2_total < tunnel_total < 2 * level2_total


# --- Level 3: links follow the state, and URLs can move


def test_the_cancel_link_is_present_only_while_cancelling_is_allowed() -> None:
    rels = links_by_state()
    assert rels == {"placed": ["self", "cancel"], "shipped": ["self"], "cancelled": ["self"]}
    assert set(CANCELLABLE) == {state for state, links in rels.items() if "cancel" in links}


def test_after_412_the_level_2_client_asks_again_instead_of_resending() -> None:
    tunnel, level2 = cancel_after_edit("level 0"), cancel_after_edit("level 2")
    # The tunnel cancels an order the customer had just fixed: the agent's reason is gone.
    assert tunnel.status == "cancelled"
    # Level 2: 412, a fresh read shown to the agent, who declines; no second cancel.
    assert level2.agent_statuses == (200, 412, 200)
    assert level2.asked_again == (("book",),)
    assert (level2.status, level2.items) == ("placed", ("book",))


def test_a_cancel_that_succeeds_first_time_asks_nothing(level2) -> None:
    store, wire = level2
    order = store.create(("book",))

    def must_not_ask(view):
        raise AssertionError("the click was the decision")

    view = read_order(wire, f"/orders/{order.id}")
    assert cancel_level2(wire, view, must_not_ask) == "cancelled"


def test_level_3_asks_again_only_while_the_link_is_offered() -> None:
    asked = []
    store = OrderStore()
    shipped, edited = store.create(("book",)), store.create(("book", "lamp"))
    with serve(HypermediaHandler, store) as address:
        wire = Wire(address)
        shipped_view = read_order(wire, f"/orders/{shipped.id}")
        edited_view = read_order(wire, f"/orders/{edited.id}")
        store.ship(shipped.id)
        store.replace_items(edited.id, ("book",), expected=None)
        assert cancel_level3(wire, shipped_view, asked.append) == "not offered"
        assert asked == []  # no cancel link, so nothing to ask
        outcome = cancel_level3(wire, edited_view, lambda v: asked.append(v) or False)
    assert outcome == "kept: the user declined after the change"
    assert [v.body["items"] for v in asked] == [["book"]]
    assert store.get(edited.id).status == "placed"


def test_a_link_following_client_survives_a_moved_url() -> None:
    assert after_url_move() == {"level 2": "404 Not found", "level 3": "cancelled"}


def test_the_link_is_a_hint_so_the_server_still_checks(level2) -> None:
    store = OrderStore()
    order = store.create(("book",))
    with serve(HypermediaHandler, store) as address:
        wire = Wire(address)
        view = read_order(wire, f"/orders/{order.id}")
        assert "cancel" in view.links
        store.ship(order.id)  # the state changes between read and click
        href = view.links["cancel"]["href"]
        assert wire.send("POST", href, headers={"If-Match": view.etag}).status == 412
        assert wire.send("POST", href, headers={"If-Match": '"2"'}).status == 409


# --- The race of the figure


def test_the_race_reaches_the_right_answer_at_every_level() -> None:
    races = shipped_race()
    assert races["level 0"].outcome == "too late: shipped"
    assert races["level 2"].outcome == "409 Order cannot be cancelled"
    assert races["level 3"].outcome == "not offered"
    assert [len(r.exchanges) for r in races.values()] == [2, 4, 3]
    # Level 2 resends only after the user, shown the shipped order, confirmed again.
    assert races["level 2"].asked_after == (3,)
    assert races["level 2"].exchanges[2].body["status"] == "shipped"
    assert races["level 3"].asked_after == ()


def test_the_figure_claims_hold_in_its_data() -> None:
    rows = race_rows()
    hidden = [(level, response) for level, _, response, kind in rows if kind == "hidden"]
    assert hidden == [("level 0", "200  ok=false NOT_CANCELLABLE")]  # only the tunnel hides it
    cancels = {
        level: sum(1 for lv, req, _, k in rows if lv == level and ":cancel" in req)
        for level in ("level 2", "level 3")
    }
    assert cancels == {"level 2": 2, "level 3": 1}  # level 3 never sends the doomed cancel
    statuses = [resp.split()[0] for lv, _, resp, k in rows if lv == "level 2" and k == "exchange"]
    assert statuses == ["200", "412", "200", "409"]


def test_the_figure_draws_the_recorded_exchanges() -> None:
    figure = draw("apis/figures/cancel-three-levels.py")
    texts = [t.get_text() for t in figure.axes[0].texts]
    for _, request, response, kind in race_rows():
        if kind in ("exchange", "hidden"):
            assert request in texts and response in texts
        elif kind == "event":
            assert f" {request} " in texts
        else:
            assert any(request in t and response in t for t in texts)
    drawn_pairs = sum(1 for t in texts if t.startswith(("GET ", "POST ")))
    assert drawn_pairs == sum(1 for row in race_rows() if row[3] in ("exchange", "hidden"))


# --- Contention arithmetic


def test_stale_write_probability_matches_a_poisson_simulation() -> None:
    rng = random.Random(14)
    rate, think, trials = 1 / 60, 60.0, 20_000
    stale = sum(rng.expovariate(rate) < think for _ in range(trials))
    assert stale / trials == pytest.approx(stale_write_probability(rate, think), abs=0.01)
    assert stale_write_probability(rate, think) == pytest.approx(1 - math.exp(-1))


def test_level_2_client_gives_up_when_the_order_keeps_changing(level2) -> None:
    store, wire = level2
    order = store.create(("book",))
    view = read_order(wire, f"/orders/{order.id}")

    class Busy(Wire):
        def send(self, method, path, body=None, headers=None):
            if method == "POST":  # someone else edits just before each of our writes
                store.replace_items(order.id, ("book",), expected=None)
            return super().send(method, path, body, headers)

    busy = Busy(wire.address)
    shown = []
    assert cancel_level2(busy, view, lambda v: shown.append(v.etag) or True).startswith("gave up")
    # Two refused writes, each followed by a fresh read that the user decides on again.
    assert [(e.method, e.status) for e in busy.log] == [
        ("POST", 412), ("GET", 200), ("POST", 412), ("GET", 200),
    ]  # fmt: skip
    assert shown == ['"2"', '"3"']  # each fresh version, as read
