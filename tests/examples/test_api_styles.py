"""Tests for the claims of the API-styles article (docs/apis/api-styles.md)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from examples.api_styles import (
    CRITERIA,
    GRAPHQL_RESPONSE,
    MAX_NODES,
    ORDER_HISTORY,
    SCENARIOS,
    STYLES,
    App,
    CachingClient,
    Context,
    Loyalty,
    RequestError,
    Store,
    break_even,
    check_limits,
    document_id,
    etag_matches,
    execute,
    f_int,
    f_str,
    fetch,
    flips,
    graphql_screen,
    grpc_frame,
    leader,
    leaders_by_weight,
    matrix,
    parse,
    payload_sizes,
    ranking,
    render_matrix,
    resolver_queries,
    rest_screen,
    screen_contents,
    serve,
    varint,
    weighted_scores,
)
from tests.figures import draw

ROOT = Path(__file__).resolve().parents[2]
ORDERS = "/v1/customers/c-1/orders?page_size=5"


@pytest.fixture
def server() -> Iterator[tuple[int, App]]:
    app = App(Store(), Loyalty())
    with serve(app) as port:
        yield port, app


# --- HTTP caching: the resource-oriented GET ----------------------------------------------


def test_a_get_with_the_current_etag_is_answered_304_without_a_body(server) -> None:
    port, _ = server
    first = fetch(port, "GET", ORDERS)
    assert first.status == 200 and len(first.body) > 1000
    again = fetch(port, "GET", ORDERS, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status == 304
    assert again.body == b""
    assert again.headers["ETag"] == first.headers["ETag"]


def test_a_stale_etag_gets_the_new_representation(server) -> None:
    port, app = server
    first = fetch(port, "GET", ORDERS)
    app.store.add_order("c-1", [("BEAN-01", 2)], create_time=1_800_000_000)
    after = fetch(port, "GET", ORDERS, headers={"If-None-Match": first.headers["ETag"]})
    assert after.status == 200 and after.body
    assert after.headers["ETag"] != first.headers["ETag"]
    assert json.loads(after.body)["orders"][0]["name"] == "customers/c-1/orders/1021"


def test_if_none_match_uses_weak_comparison_and_lists() -> None:
    assert etag_matches('W/"abc"', '"abc"')
    assert etag_matches('"x", "abc"', '"abc"')
    assert etag_matches("*", '"abc"')
    assert not etag_matches('"abz"', '"abc"')
    assert not etag_matches(None, '"abc"')


def test_customer_data_is_private_and_revalidated_products_are_shared_and_fresh(server) -> None:
    port, _ = server
    orders = fetch(port, "GET", ORDERS).headers["Cache-Control"]
    product = fetch(port, "GET", "/v1/products/BEAN-01").headers["Cache-Control"]
    assert "private" in orders and "no-cache" in orders
    assert "public" in product and "max-age=3600" in product


def test_a_second_visit_costs_one_empty_revalidation_with_http_resources(server) -> None:
    port, app = server
    client = CachingClient(port)
    first = rest_screen(client, app.store)
    again = rest_screen(client, app.store)
    assert first.requests == 7 and first.round_trips == 2
    assert (again.requests, again.round_trips, again.body_bytes) == (1, 1, 0)
    # The 304 saves bytes, not work: this server builds the page to hash it.
    assert again.queries == 3


def test_graphql_post_is_never_reused_but_a_get_by_document_id_is(server) -> None:
    port, app = server
    post, get = CachingClient(port), CachingClient(port)
    first_post = graphql_screen(post, app.store, "post")
    second_post = graphql_screen(post, app.store, "post")
    assert second_post.body_bytes == first_post.body_bytes > 1000
    graphql_screen(get, app.store, "get", get=True)
    second_get = graphql_screen(get, app.store, "get", get=True)
    assert second_get.requests == 1 and second_get.body_bytes == 0


def test_get_serves_only_allow_listed_documents(server) -> None:
    port, _ = server
    known = fetch(
        port,
        "GET",
        f"/graphql?doc={document_id(ORDER_HISTORY)}&variables=%7B%22id%22%3A%22c-1%22%7D",
    )
    unknown = fetch(port, "GET", f"/graphql?doc={document_id('{ customer(id: 1) { id } }')}")
    assert known.status == 200 and "ETag" in known.headers
    assert unknown.status == 404


# --- Over-fetching, round trips and N+1 -----------------------------------------------------


def test_the_screen_asks_for_nothing_the_resources_do_not_carry() -> None:
    (customer,) = parse(ORDER_HISTORY, {"id": "c-1"})
    (orders,) = customer.selections
    assert orders.name == "orders", "no customer name: the orders page does not embed one"
    page = json.loads(App(Store()).handle("GET", ORDERS, {}, b"").body)
    order = page["orders"][0]
    carried = {*order, "id"}  # the id is the last segment of the resource name
    assert {f.name for f in orders.selections} - {"lineItems"} <= carried
    items = next(f for f in orders.selections if f.name == "lineItems")
    assert {f.name for f in items.selections} == {"quantity", "product"}
    assert "quantity" in order["lineItems"][0] and "sku" in order["lineItems"][0]


def test_the_screen_shows_5_orders_12_line_items_and_6_products() -> None:
    assert screen_contents(Store()) == (5, 12, 6)


def test_the_resources_move_three_times_the_bytes_the_screen_needs(server) -> None:
    port, app = server
    rest = rest_screen(CachingClient(port), app.store)
    graphql = graphql_screen(CachingClient(port), app.store, "post")
    assert rest.requests > graphql.requests == 1
    assert rest.round_trips == 2 > graphql.round_trips
    assert rest.body_bytes / graphql.body_bytes >= 3


def order_history(store: Store, *, batched: bool, orders: int = 5) -> tuple[dict, int]:
    before = store.queries
    document = ORDER_HISTORY.replace("orders(first: 5)", f"orders(first: {orders})")
    result = execute(document, {"id": "c-1"}, Context(store, Loyalty(), batched=batched))
    return result, store.queries - before


@pytest.mark.parametrize("orders", [3, 5, 8])
def test_naive_resolvers_query_once_per_parent_and_the_loader_once_per_level(orders) -> None:
    store = Store()
    naive, naive_queries = order_history(store, batched=False, orders=orders)
    batched, batched_queries = order_history(store, batched=True, orders=orders)
    shown = naive["data"]["customer"]["orders"]
    items = sum(len(order["lineItems"]) for order in shown)
    assert len(shown) == orders
    # customer + orders + one query per order (line items) + one per line item (product)
    assert naive_queries == 2 + orders + items
    # customer + orders + one batch of line items + one batch of products
    assert batched_queries == 4
    assert batched == naive, "batching changes the cost, never the answer"


def test_naive_queries_grow_with_the_page_and_batched_ones_do_not() -> None:
    store = Store()
    naive = [resolver_queries(store, n, batched=False) for n in (3, 5, 8)]
    batched = [resolver_queries(store, n, batched=True) for n in (3, 5, 8)]
    assert naive == [15, 19, 29] and batched == [4, 4, 4]


def test_the_loader_fetches_a_repeated_key_once() -> None:
    store = Store()
    result, queries = order_history(store, batched=True, orders=20)
    names = [
        item["product"]["name"]
        for order in result["data"]["customer"]["orders"]
        for item in order["lineItems"]
    ]
    assert len(names) > len(set(names)), "the data repeats products across orders"
    assert queries == 4


# --- Errors: what a status-code dashboard sees ------------------------------------------------


def test_an_outage_is_a_503_in_http_json_and_a_200_with_partial_data_in_graphql(server) -> None:
    port, app = server
    app.loyalty.available = False
    rest = fetch(port, "GET", "/v1/customers/c-1/loyalty")
    query = '{ customer(id: "c-1") { displayName loyaltyPoints } }'
    graphql = fetch(port, "POST", "/graphql", {"query": query}, {"Accept": GRAPHQL_RESPONSE})
    assert rest.status == 503 and rest.headers["Retry-After"] == "5"
    assert rest.headers["Content-Type"] == "application/problem+json"
    body = json.loads(graphql.body)
    assert graphql.status == 200, "even the newer media type keeps partial data at 200"
    assert body["data"]["customer"] == {"displayName": "Northwind Cafe", "loyaltyPoints": None}
    assert body["errors"][0]["path"] == ["customer", "loyaltyPoints"]
    # The code, not the message, is what a client decides a retry by.
    assert body["errors"][0]["extensions"] == {"code": "UNAVAILABLE"}


def test_a_missing_object_is_404_in_http_json_and_null_without_error_in_graphql(server) -> None:
    port, _ = server
    rest = fetch(port, "GET", "/v1/customers/c-9/orders")
    graphql = fetch(port, "POST", "/graphql", {"query": '{ customer(id: "c-9") { id } }'})
    assert rest.status == 404
    assert graphql.status == 200 and json.loads(graphql.body) == {"data": {"customer": None}}


def test_request_errors_are_400_only_with_the_graphql_response_media_type(server) -> None:
    port, _ = server
    bad = {"query": "{ customer(id: 1) { nope } }"}
    legacy = fetch(port, "POST", "/graphql", bad)
    modern = fetch(port, "POST", "/graphql", bad, {"Accept": GRAPHQL_RESPONSE})
    assert legacy.status == 200 and legacy.headers["Content-Type"] == "application/json"
    assert modern.status == 400 and modern.headers["Content-Type"] == GRAPHQL_RESPONSE
    assert "data" not in json.loads(modern.body)


# --- Demand control ---------------------------------------------------------------------


def test_the_screen_query_costs_55_nodes() -> None:
    assert check_limits(parse(ORDER_HISTORY, {"id": "c-1"})) == 5 + 5 * 10


def test_a_costly_query_is_rejected_before_any_backend_call() -> None:
    store = Store()
    greedy = '{ customer(id: "c-1") { orders(first: 100) { lineItems(first: 100) { sku } } } }'
    before = store.queries
    result = execute(greedy, {}, Context(store, Loyalty()))
    assert "data" not in result
    assert "10,100 nodes" in result["errors"][0]["message"] and MAX_NODES < 10_100
    assert store.queries == before


@pytest.mark.parametrize(
    "document",
    [
        '{ customer(id: "c-1") { orders { id } } }',  # an unbounded list
        '{ customer(id: "c-1") { orders(first: 500) { id } } }',  # above 100
        '{ customer(id: "c-1") { password } }',  # not in the schema
        '{ customer(id: "c-1") { orders(first: 1) ',  # truncated
    ],
)
def test_unbounded_unknown_or_broken_documents_are_request_errors(document) -> None:
    with pytest.raises(RequestError):
        check_limits(parse(document, {}))


# --- Payload size -----------------------------------------------------------------------


def test_the_wire_format_matches_the_protobuf_documentation() -> None:
    # The protobuf encoding guide's examples: field 1 = 150, field 2 = "testing".
    assert f_int(1, 150) == bytes.fromhex("089601")
    assert f_str(2, "testing") == bytes.fromhex("120774657374696e67")
    assert varint(300) == bytes.fromhex("ac02")
    assert f_int(5, 0) == b"", "proto3 does not send a scalar equal to its default"
    assert grpc_frame(b"abc") == b"\x00\x00\x00\x00\x03abc"


def top_level_fields(message: bytes) -> list[int]:
    """Field numbers of a message's top-level fields (varint and length-delimited only)."""

    def read_varint(pos: int) -> tuple[int, int]:
        value = shift = 0
        while True:
            byte = message[pos]
            value |= (byte & 0x7F) << shift
            pos, shift = pos + 1, shift + 7
            if not byte & 0x80:
                return value, pos

    numbers, pos = [], 0
    while pos < len(message):
        tag, pos = read_varint(pos)
        numbers.append(tag >> 3)
        if tag & 7 == 0:
            _, pos = read_varint(pos)
        elif tag & 7 == 2:
            length, pos = read_varint(pos)
            pos += length
        else:
            raise AssertionError(f"unexpected wire type {tag & 7}")
    return numbers


def test_the_encoder_uses_the_field_numbers_of_the_proto_file() -> None:
    from examples.api_styles import App, encode_order

    proto = (ROOT / "examples" / "api_styles.proto").read_text()
    order_block = re.search(r"message Order \{(.*?)\n\}", proto, re.S).group(1)
    declared = {int(n) for n in re.findall(r"^\s+\S+(?: \S+)? \w+ = (\d+);", order_block, re.M)}
    reserved = {int(n) for n in re.findall(r"reserved (\d+);", order_block)}
    page = json.loads(App(Store()).handle("GET", ORDERS, {}, b"").body)
    sent = set(top_level_fields(encode_order(page["orders"][0])))
    assert declared == {1, 2, 3, 4, 5, 6, 7} and reserved == {8}
    assert sent <= declared and not sent & reserved
    assert sent >= {1, 2, 3, 4, 5, 6, 7}


def test_protobuf_is_a_third_of_json_raw_but_gzip_narrows_the_gap() -> None:
    sizes = payload_sizes(Store())
    assert sizes.orders == 20
    assert sizes.protobuf / sizes.json < 0.40
    assert sizes.protobuf_gzip / sizes.json_gzip > 0.65
    assert sizes.json_gzip < sizes.protobuf, "gzipped JSON is smaller than raw protobuf"


# --- The decision matrix ------------------------------------------------------------------


def test_scores_and_weights_stay_on_their_scales() -> None:
    for _, scores in CRITERIA.values():
        assert set(scores) == set(STYLES) and all(1 <= s <= 5 for s in scores.values())
    for weights in SCENARIOS.values():
        assert set(weights) == set(CRITERIA) and all(0 <= w <= 5 for w in weights.values())


def test_each_scenario_ranks_as_the_article_says() -> None:
    scores = matrix()
    assert ranking(scores["Partner API"])[0] == "HTTP+JSON"
    assert ranking(scores["Internal fan-out"])[0] == "gRPC"
    assert ranking(scores["Mobile BFF"])[0] == "GraphQL"
    lead = {name: sorted(s.values())[-1] - sorted(s.values())[-2] for name, s in scores.items()}
    assert lead["Partner API"] > 0.8 and lead["Internal fan-out"] > 1.2
    assert lead["Mobile BFF"] < 0.15


def test_a_tie_is_not_a_leader() -> None:
    assert leader({"HTTP+JSON": 3.0, "gRPC": 2.0, "GraphQL": 3.0}) is None
    assert leader({"HTTP+JSON": 3.0, "gRPC": 2.0, "GraphQL": 3.1}) == "GraphQL"


def test_partner_and_fan_out_answers_survive_any_single_weight() -> None:
    for scenario, chosen in (("Partner API", "HTTP+JSON"), ("Internal fan-out", "gRPC")):
        for by_weight in leaders_by_weight(scenario).values():
            assert by_weight == [chosen] * 6
        assert flips(scenario) == {}


def test_six_mobile_weights_change_the_leader_and_two_only_tie() -> None:
    assert flips("Mobile BFF") == {
        "reach": (0, "gRPC"),
        "caching": (4, "HTTP+JSON"),
        "shapes": (3, "HTTP+JSON"),
        "streaming": (5, "gRPC"),
        "deadlines": (3, "gRPC"),
        "operability": (5, "HTTP+JSON"),
    }
    leaders = leaders_by_weight("Mobile BFF")
    assert leaders["contract"] == [None] + ["GraphQL"] * 5
    assert leaders["bytes"] == [None] + ["GraphQL"] * 4 + [None]


def test_one_step_down_on_shapes_is_a_tie_and_two_steps_hand_it_to_http_json() -> None:
    assert break_even("Mobile BFF", "shapes", "GraphQL", "HTTP+JSON") == pytest.approx(4.0)
    weights = SCENARIOS["Mobile BFF"]
    assert leader(weighted_scores({**weights, "shapes": 5})) == "GraphQL"
    assert leader(weighted_scores({**weights, "shapes": 4})) is None
    one_team = weighted_scores({**weights, "shapes": 3})
    assert ranking(one_team) == ["HTTP+JSON", "gRPC", "GraphQL"]
    assert one_team["HTTP+JSON"] == pytest.approx(69 / 20)


def test_the_article_shows_the_matrix_the_code_computes() -> None:
    article = (ROOT / "docs" / "apis" / "api-styles.md").read_text(encoding="utf-8")
    assert render_matrix() in article


def test_the_figure_plots_the_matrix_and_the_leader_grid() -> None:
    figure = draw("apis/figures/api-style-matrix.py")
    scores = matrix()
    bars = {
        c.get_label(): [patch.get_height() for patch in c.patches]
        for c in figure.axes[0].containers
    }
    assert bars == {style: [scores[name][style] for name in SCENARIOS] for style in STYLES}
    leaders = leaders_by_weight("Mobile BFF")
    row = {c: len(CRITERIA) - 1 - i for i, c in enumerate(CRITERIA)}
    drawn = {
        c.get_label(): sorted(map(tuple, c.get_offsets().tolist()))
        for c in figure.axes[1].collections
    }
    for label, style in [*((s, s) for s in STYLES), ("tie", None)]:
        expected = sorted(
            (float(w), float(row[c]))
            for c, ws in leaders.items()
            for w, s in enumerate(ws)
            if s == style
        )
        assert drawn[label] == expected
    assert drawn["_chosen weight"] == sorted(
        (float(SCENARIOS["Mobile BFF"][c]), float(row[c])) for c in CRITERIA
    )
