"""Tests for the claims of the list-endpoints article."""

from __future__ import annotations

from dataclasses import replace

import pytest

from examples.list_endpoints import (
    DEFAULT_PAGE_SIZE,
    DEPTH_PAGES,
    DEPTH_TABLE_ROWS,
    MAX_PAGE_SIZE,
    NOW,
    RESTRICTED,
    SCAN_BUDGET,
    TOKEN_TTL_S,
    Caller,
    InvalidArgument,
    ListRequest,
    TokenCodec,
    anomaly_table,
    boundary_before,
    build_orders,
    cost_by_depth,
    count_cost,
    depth_table,
    edit_token,
    filtered_page_cost,
    get,
    http_walk,
    keyset_sql,
    list_orders,
    offset_sql,
    parse_filter,
    query_plan,
    serve,
    tiebreak_skips,
    traverse_while_changing,
    vm_instructions,
    vm_steps,
    walk,
)
from tests.figures import draw, lines

PAID = 'status = "paid"'


def ids(page) -> list[str]:
    return [item["id"] for item in page.items]


def reason(call) -> str:
    with pytest.raises(InvalidArgument) as caught:
        call()
    return caught.value.reason


@pytest.fixture(scope="module")
def orders():
    return build_orders(1000)


# --- cost by depth -----------------------------------------------------------


def test_offset_reads_every_skipped_row_and_keyset_reads_one_page() -> None:
    for page, by_offset, by_keyset in cost_by_depth():
        skipped = (page - 1) * DEFAULT_PAGE_SIZE
        wanted = min(DEFAULT_PAGE_SIZE + 1, DEPTH_TABLE_ROWS - skipped)  # the page + 1 row
        # OFFSET reads every skipped row, then the page and the row that proves there is more
        assert by_offset == skipped + wanted
        # keyset seeks to the boundary on (created_at, id) and reads only what it returns
        assert by_keyset == wanted
    deep = {p: (o, k) for p, o, k in cost_by_depth()}[1000]
    assert deep[0] / deep[1] > 900


def test_plans_scan_for_offset_and_seek_for_keyset() -> None:
    db = depth_table()
    offset_plan = query_plan(db, *offset_sql(50, 50_000))
    keyset_plan = query_plan(db, *keyset_sql(50, boundary_before(db, 50_000)))
    assert offset_plan.startswith("SCAN orders USING COVERING INDEX orders_by_created")
    # the seek uses both columns of the row value, not only created_at
    assert keyset_plan == (
        "SEARCH orders USING COVERING INDEX orders_by_created ((created_at,id)<(?,?))"
    )
    assert "TEMP B-TREE" not in offset_plan + keyset_plan  # both read in index order, no sort


def test_vm_instructions_agree_with_the_row_count() -> None:
    """An independent measure: SQLite's own instruction count, without the counting function."""
    db = depth_table()
    order = "ORDER BY created_at DESC, id DESC"
    offset = vm_steps(db, f"SELECT id FROM orders {order} LIMIT 51 OFFSET 49950", [])
    boundary = boundary_before(db, 49_950)
    keyset = vm_steps(
        db, f"SELECT id FROM orders WHERE (created_at, id) < (?, ?) {order} LIMIT 51", boundary
    )
    assert offset > 200 * keyset
    # the pair the demo prints: the same gap at page 1,000
    by_offset, by_keyset = vm_instructions(db, 1000)
    assert by_offset > 200 * by_keyset


# --- traversal while data changes ---------------------------------------------


def test_inserts_during_traversal_duplicate_with_offset_only() -> None:
    table = anomaly_table()
    assert table[("offset", "insert")].duplicates >= 100
    assert table[("offset", "insert")].skipped == 0
    assert table[("keyset", "insert")].duplicates == table[("keyset", "insert")].skipped == 0


def test_deletes_during_traversal_skip_with_offset_only() -> None:
    table = anomaly_table()
    assert table[("offset", "delete")].skipped >= 80
    assert table[("keyset", "delete")].duplicates == table[("keyset", "delete")].skipped == 0


def test_each_change_between_offset_pages_costs_five_rows() -> None:
    """The article's arithmetic: 5 rows per gap between pages, and the walks' page counts."""
    table = anomaly_table()
    arrivals, deletions = table[("offset", "insert")], table[("offset", "delete")]
    # arrivals: each later page brings only 45 new rows, so 1 + ceil(950 / 45) = 23 pages
    assert arrivals.pages == 23 and arrivals.duplicates == 5 * (arrivals.pages - 1)
    # deletions: each page moves 55 rows past the reader, so 1 + ceil(950 / 55) = 19 pages
    assert deletions.pages == 19 and deletions.skipped == 5 * (deletions.pages - 1)


def test_updates_to_the_sort_key_need_an_ascending_walk() -> None:
    ascending = traverse_while_changing("keyset", "update", order_by="update_time")
    descending = traverse_while_changing("keyset", "update", order_by="update_time desc")
    # ascending: a moved row lands ahead of the reader, so nothing is missed (some twice)
    assert ascending.skipped == 0 and ascending.duplicates > 0
    # descending: a moved row jumps behind the reader and is never delivered
    assert descending.skipped > 0


def test_a_cursor_without_a_unique_tiebreaker_loses_rows() -> None:
    alone, with_id = tiebreak_skips()
    assert alone > 0
    assert with_id == 0


# --- page size ---------------------------------------------------------------


def test_page_size_defaults_is_coerced_down_and_rejects_negatives(orders) -> None:
    assert len(list_orders(orders, ListRequest()).items) == DEFAULT_PAGE_SIZE
    assert len(list_orders(orders, ListRequest(page_size=5000)).items) == MAX_PAGE_SIZE
    assert reason(lambda: list_orders(orders, ListRequest(page_size=-1))) == "INVALID_PAGE_SIZE"


def test_a_changed_page_size_is_honored_mid_traversal(orders) -> None:
    first = list_orders(orders, ListRequest(page_size=10, filter=PAID))
    second = list_orders(orders, ListRequest(25, first.next_page_token, PAID))
    assert len(second.items) == 25
    # the token's position counts rows, so depth stays right whatever the page sizes
    third = list_orders(orders, ListRequest(5, second.next_page_token, PAID))
    assert [first.depth, second.depth, third.depth] == [0, 10, 35]
    back = list_orders(orders, ListRequest(25, third.previous_page_token, PAID))
    assert ids(back) == ids(second) and back.depth == 10


# --- page tokens ---------------------------------------------------------------


def test_a_token_used_with_another_filter_or_order_is_rejected(orders) -> None:
    token = list_orders(orders, ListRequest(page_size=10, filter=PAID)).next_page_token
    other_filter = ListRequest(10, token, 'status = "open"')
    other_order = ListRequest(10, token, PAID, order_by="create_time")
    assert reason(lambda: list_orders(orders, other_filter)) == "PAGE_TOKEN_MISMATCH"
    assert reason(lambda: list_orders(orders, other_order)) == "PAGE_TOKEN_MISMATCH"


def test_the_same_filter_written_in_another_order_is_the_same_list(orders) -> None:
    one = 'customer = "cus_0001" AND status = "paid"'
    two = 'status = "paid"   AND customer = "cus_0001"'
    token = list_orders(orders, ListRequest(page_size=1, filter=one)).next_page_token
    assert token
    assert list_orders(orders, ListRequest(1, token, two)).items


def test_an_edited_or_forged_token_is_rejected(orders) -> None:
    token = list_orders(orders, ListRequest(page_size=10)).next_page_token
    for bad in (edit_token(token, 40), token[:-4], "not-a-token", token + "AA"):
        assert reason(lambda bad=bad: list_orders(orders, ListRequest(10, bad))) == (
            "INVALID_PAGE_TOKEN"
        )
    stranger = TokenCodec({1: b"another service's key"}, active=1)
    foreign = list_orders(orders, ListRequest(page_size=10), codec=stranger).next_page_token
    assert reason(lambda: list_orders(orders, ListRequest(10, foreign))) == "INVALID_PAGE_TOKEN"


def test_keys_rotate_without_breaking_tokens_in_flight(orders) -> None:
    old, new = b"key one", b"key two"
    token = list_orders(
        orders, ListRequest(page_size=10), codec=TokenCodec({1: old}, 1)
    ).next_page_token
    rotating = TokenCodec({1: old, 2: new}, active=2)
    assert list_orders(orders, ListRequest(10, token), codec=rotating).items
    retired = TokenCodec({2: new}, active=2)
    request = ListRequest(10, token)
    assert reason(lambda: list_orders(orders, request, codec=retired)) == "INVALID_PAGE_TOKEN"


def test_tokens_expire(orders) -> None:
    token = list_orders(orders, ListRequest(page_size=10)).next_page_token
    assert list_orders(orders, ListRequest(10, token), now=NOW + TOKEN_TTL_S).items
    late = NOW + TOKEN_TTL_S + 1
    assert reason(lambda: list_orders(orders, ListRequest(10, token), now=late)) == (
        "EXPIRED_PAGE_TOKEN"
    )


def test_a_token_grants_no_authorization() -> None:
    db = build_orders(2000, restricted=RESTRICTED)
    request = ListRequest(page_size=200)
    admin_pages = walk(db, request, Caller(admin=True))
    # replay each of the administrator's tokens as an ordinary caller
    shown = []
    for page in admin_pages[:-1]:
        replayed = list_orders(db, replace(request, page_token=page.next_page_token), Caller())
        shown += [int(i[4:]) for i in ids(replayed)]
    assert shown, "the replayed tokens work"
    assert not set(shown) & set(RESTRICTED), "but show nothing the caller may not see"


# --- the end of the list -------------------------------------------------------


def test_the_end_is_signalled_only_by_an_empty_token() -> None:
    db = build_orders(2000, restricted=RESTRICTED)
    pages = walk(db, ListRequest(), Caller())
    delivered = [i for p in pages for i in ids(p)]
    # an empty page that is not the end: the scan budget ran out inside hidden rows
    assert any(not p.items and p.next_page_token for p in pages)
    assert all(p.rows_read <= SCAN_BUDGET for p in pages)
    # following the tokens delivers every visible order exactly once
    assert len(delivered) == len(set(delivered)) == 2000 - len(RESTRICTED)
    # a client that treats the first short page as the end stops early
    first_short = next(n for n, p in enumerate(pages) if len(p.items) < DEFAULT_PAGE_SIZE)
    assert sum(len(p.items) for p in pages[: first_short + 1]) < len(delivered)


def test_the_extra_row_ends_the_list_on_its_last_full_page() -> None:
    db = build_orders(100)
    pages = walk(db, ListRequest(page_size=50))
    assert [len(p.items) for p in pages] == [50, 50]
    assert pages[-1].next_page_token == ""


# --- navigation and orders -------------------------------------------------------


def test_previous_tokens_walk_back_through_the_same_pages(orders) -> None:
    forward = walk(orders, ListRequest(page_size=7, filter=PAID))[:4]
    assert forward[0].previous_page_token == ""  # the first page has nothing before it
    page = forward[-1]
    for expected in reversed(forward[:-1]):
        page = list_orders(orders, ListRequest(7, page.previous_page_token, PAID))
        assert ids(page) == ids(expected) and page.depth == expected.depth
    assert page.previous_page_token == ""  # back at the first page
    assert [p.depth for p in forward] == [0, 7, 14, 21]


def test_a_mixed_direction_order_walks_every_row_once(orders) -> None:
    pages = walk(orders, ListRequest(page_size=37, order_by="total_cents   desc"))
    got = [(item["total_cents"], item["id"]) for p in pages for item in p.items]
    rows = orders.execute("SELECT total_cents, id FROM orders").fetchall()
    expected = sorted(((t, i) for t, i in rows), key=lambda r: (-r[0], r[1]))
    assert got == expected


def test_an_order_not_offered_is_rejected(orders) -> None:
    request = ListRequest(order_by="customer")
    assert reason(lambda: list_orders(orders, request)) == "UNSUPPORTED_ORDER_BY"


# --- filters ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('status = "paid" OR status = "open"', "UNSUPPORTED_FILTER"),
        ('NOT status = "paid"', "UNSUPPORTED_FILTER"),
        ('(status = "paid")', "UNSUPPORTED_FILTER"),
        ('status < "paid"', "UNSUPPORTED_FILTER"),
        ('note = "gift"', "UNKNOWN_FILTER_FIELD"),
        ('status = "lost"', "INVALID_FILTER"),
        ('create_time > "yesterday"', "INVALID_FILTER"),
        ('create_time > "2025-02-01T00:00:00"', "INVALID_FILTER"),  # no offset: ambiguous
        (" AND ".join(['status = "paid"'] * 5), "FILTER_TOO_COMPLEX"),
    ],
)
def test_unsupported_filters_are_rejected_not_ignored(text: str, expected: str) -> None:
    assert reason(lambda: parse_filter(text)) == expected


def test_a_supported_filter_selects_exactly_its_rows(orders) -> None:
    text = 'status = "refunded" AND create_time >= "2025-01-01T00:10:00Z"'
    got = {i for p in walk(orders, ListRequest(filter=text)) for i in ids(p)}
    expected = {
        r[0]
        for r in orders.execute(
            "SELECT id FROM orders WHERE status = 'refunded' AND created_at >= ?",
            (1_735_689_600 + 600,),
        )
    }
    assert got == expected and got


def test_a_filter_needs_an_index_that_leads_with_it() -> None:
    cost = filtered_page_cost(depth_table(), "refunded")
    assert cost["orders_by_status"] == DEFAULT_PAGE_SIZE + 1
    assert cost["orders_by_created"] > 40 * cost["orders_by_status"]


def test_an_exact_count_reads_every_matching_row() -> None:
    total, read = count_cost(depth_table(), "paid")
    assert total > 0.85 * DEPTH_TABLE_ROWS
    assert read == total


# --- HTTP ----------------------------------------------------------------------


def test_http_pages_carry_a_link_header_and_errors_are_problem_details() -> None:
    with serve(build_orders(300)) as base:
        first = get(base, page_size=10)
        token = first.body["next_page_token"]
        assert first.status == 200 and len(first.body["orders"]) == 10
        assert 'rel="next"' in first.link and token in first.link.replace("%3D", "=")
        bad = get(base, page_size="ten")
        assert bad.status == 400 and bad.body["reason"] == "INVALID_PAGE_SIZE"
        mismatch = get(base, page_size=10, page_token=token, filter=PAID)
        assert mismatch.status == 400 and mismatch.body["status"] == 400
        assert mismatch.body["reason"] == "PAGE_TOKEN_MISMATCH"


def test_http_clients_must_follow_tokens_past_empty_pages() -> None:
    with serve(build_orders(2000, restricted=RESTRICTED)) as base:
        _, empty, received = http_walk(base, role="", stop_on_short_page=False)
        _, _, naive = http_walk(base, role="", stop_on_short_page=True)
        _, admin_empty, everything = http_walk(base, role="admin", stop_on_short_page=False)
    assert empty >= 1 and received == 2000 - len(RESTRICTED)
    assert naive < received
    assert admin_empty == 0 and everything == 2000


# --- the figure -------------------------------------------------------------------


def test_the_figure_plots_the_measured_data() -> None:
    figure = draw("apis/figures/offset-vs-keyset.py")
    pages = list(DEPTH_PAGES)
    measured = cost_by_depth()
    assert lines(figure, axes=0) == {
        "OFFSET": [(float(p), float(o)) for p, (_, o, _) in zip(pages, measured, strict=True)],
        "keyset": [(float(p), float(k)) for p, (_, _, k) in zip(pages, measured, strict=True)],
    }
    table = anomaly_table()
    bars = {c.get_label(): [p.get_height() for p in c] for c in figure.axes[1].containers}
    assert bars == {
        "OFFSET": [table[("offset", "insert")].duplicates, table[("offset", "delete")].skipped],
        "keyset": [table[("keyset", "insert")].duplicates, table[("keyset", "delete")].skipped],
    }
