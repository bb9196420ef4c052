"""The claims of "Modules in a monolith without faking a network"."""

from __future__ import annotations

import sqlite3

import pytest

from examples.modular_monolith import (
    APP,
    BASELINE,
    CALLS,
    DEPENDENCIES,
    PATHS,
    SKUS,
    Delivery,
    HttpBilling,
    Violation,
    affected_modules,
    billing_server,
    boundary_cost_ms,
    change_coupling,
    check,
    copy_of_app,
    cycles,
    deliver,
    expected_share,
    fan,
    fetch_prices,
    modules,
    plant,
)
from examples.modular_shop.app import build
from examples.modular_shop.billing.api import Billing, PaymentDeclined, UnknownSku
from examples.modular_shop.db import Database
from examples.modular_shop.orders.api import OrderRejected
from tests.figures import draw

LEGACY = Violation(
    "privacy", "notifications/internal/digest.py", "orders.internal.store.ORDERS_TABLE"
)

# --- the boundary check ---------------------------------------------------------------


def test_the_shipped_tree_passes_with_one_recorded_violation() -> None:
    report = check()
    assert report.ok
    assert report.known == (LEGACY,)
    assert report.new == () and report.stale == () and report.cycles == ()
    assert report.edges == {("notifications", "orders"), ("orders", "billing")}


def test_declared_dependencies_are_acyclic_and_match_the_modules() -> None:
    assert sorted(DEPENDENCIES) == modules(APP)
    declared = {(a, b) for a, deps in DEPENDENCIES.items() for b in deps}
    assert cycles(declared) == []


@pytest.mark.parametrize(
    "line",
    [
        "from ..billing.internal import ledger",
        "from ..billing.internal.ledger import record_charge",
        "import examples.modular_shop.billing.internal.ledger",
        "from examples.modular_shop.billing.internal.ledger import PRICES",
        "from examples.modular_shop.billing import internal",
        "from ..billing import internal",
    ],
)
def test_reaching_into_another_modules_internals_fails(line: str) -> None:
    with copy_of_app() as root:
        plant(root, "orders/api.py", line)
        report = check(root)
    assert not report.ok
    assert [(v.kind, v.path) for v in report.new] == [("privacy", "orders/api.py")]


@pytest.mark.parametrize(
    "line",
    [
        # a declared import of the package, then attribute access into its internals
        "import examples.modular_shop.billing\n"
        "X = examples.modular_shop.billing.internal.ledger.PRICES",
        # a name the facade itself imported from its internals
        "from ..billing.api import ledger",
        # an import by string
        "import importlib\nX = importlib.import_module('examples.modular_shop.billing.internal')",
    ],
)
def test_the_scanner_reads_import_statements_only(line: str) -> None:
    """What the article says the check does not catch: it passes each of these."""
    with copy_of_app() as root:
        plant(root, "orders/api.py", line)
        assert check(root).ok


def test_an_undeclared_import_that_closes_a_cycle_fails_twice() -> None:
    with copy_of_app() as root:
        plant(root, "billing/api.py", "from ..orders.api import OrderView")
        report = check(root)
    assert not report.ok
    assert [(v.kind, v.target) for v in report.new] == [("dependency", "orders.api.OrderView")]
    assert report.cycles == (("billing", "orders", "billing"),)


def test_cycles_are_found_through_several_modules() -> None:
    edges = {("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")}
    assert cycles(edges) == [("a", "b", "c", "a")]
    assert cycles({("a", "b"), ("b", "c")}) == []


def test_the_baseline_excuses_only_what_it_records() -> None:
    with copy_of_app() as root:
        plant(root, "notifications/internal/digest.py", "from ...orders.internal import store")
        report = check(root)
    assert report.known == (LEGACY,)
    assert [v.target for v in report.new] == ["orders.internal.store"]
    assert not report.ok


def test_the_baseline_may_only_shrink() -> None:
    with copy_of_app() as root:
        (root / "notifications/internal/digest.py").unlink()
        fixed = check(root)
        assert fixed.stale == (str(LEGACY),) and not fixed.ok  # the line must be deleted
        (root / BASELINE).write_text("", encoding="utf-8")
        assert check(root).ok


def test_coupling_and_affected_tests_follow_the_graph() -> None:
    edges = check().edges
    assert fan(edges, modules(APP)) == {
        "billing": (1, 0),
        "notifications": (0, 1),
        "orders": (1, 1),
    }
    assert affected_modules("billing", edges) == ["billing", "notifications", "orders"]
    assert affected_modules("orders", edges) == ["notifications", "orders"]
    assert affected_modules("notifications", edges) == ["notifications"]


def test_the_saving_depends_on_where_changes_land() -> None:
    edges, names = check().edges, modules(APP)
    assert expected_share(edges, names) == pytest.approx(2 / 3)  # 6 of 9 suite runs
    assert expected_share(edges, names, {"notifications": 1.0}) == pytest.approx(1 / 3)
    assert expected_share(edges, names, {"billing": 1.0}) == 1.0  # the bottom saves nothing


def test_selection_follows_scanned_imports_including_baselined_ones() -> None:
    line = "privacy notifications/internal/digest.py -> billing.internal.ledger"
    with copy_of_app() as root:
        plant(
            root,
            "notifications/internal/digest.py",
            "from ...billing.internal import ledger",
        )
        baseline = root / BASELINE
        undeclared = line.replace("privacy", "dependency")
        baseline.write_text(f"{baseline.read_text()}\n{line}\n{undeclared}\n", encoding="utf-8")
        report = check(root)
    assert report.ok  # tolerated by the baseline...
    assert ("notifications", "billing") in report.edges  # ...but still an edge for selection
    assert "billing" not in DEPENDENCIES["notifications"]


def test_change_coupling_is_the_share_of_one_modules_changes_that_touch_another() -> None:
    shop = "examples/modular_shop"
    history = [
        [f"{shop}/orders/api.py", f"{shop}/billing/api.py"],
        [f"{shop}/orders/internal/store.py", f"{shop}/billing/internal/ledger.py"],
        [f"{shop}/orders/api.py"],
        [f"{shop}/orders/api.py", f"{shop}/db.py"],  # the shared kernel is no module
        [f"{shop}/billing/api.py", "README.md"],
    ]
    coupling = change_coupling(history)
    assert coupling == {("billing", "orders"): 2 / 3, ("orders", "billing"): 2 / 4}


# --- one transaction, typed errors, and the order e-mail -----------------------------


def test_a_declined_charge_rolls_back_the_order_as_a_typed_error() -> None:
    shop = build("outbox")
    with pytest.raises(OrderRejected) as caught:
        shop.orders.place("ana@example.com", "SKU-07", 200)
    assert isinstance(caught.value.__cause__, PaymentDeclined)
    assert shop.orders.count() == 0  # inserted before the charge, rolled back with it
    placed = shop.orders.place("ana@example.com", "SKU-07", 1)
    charges = shop.db.conn.execute("SELECT order_id, cents FROM billing_charge").fetchall()
    assert charges == [(placed.order_id, placed.total_cents)]


def test_a_price_change_after_the_read_does_not_change_the_order_or_its_charge() -> None:
    shop = build("outbox")
    read = shop.billing.price_of

    def read_then_reprice(sku: str) -> int:
        cents = read(sku)  # the price the customer was shown
        shop.db.conn.execute("UPDATE billing_price SET cents = cents * 2 WHERE sku = ?", (sku,))
        return cents

    quoted = read("SKU-07")
    shop.billing.price_of = read_then_reprice  # type: ignore[method-assign]
    placed = shop.orders.place("ana@example.com", "SKU-07", 2)
    charged = shop.db.conn.execute("SELECT cents FROM billing_charge").fetchone()[0]
    assert placed.total_cents == charged == 2 * quoted  # order and charge agree
    assert read("SKU-07") == 2 * quoted  # the next order pays the new price


def test_sending_inside_the_transaction_mails_an_order_that_does_not_exist() -> None:
    assert deliver("send_in_transaction", "declined") == Delivery(orders=0, emails=1)


def test_after_commit_handlers_skip_rollbacks_but_lose_work_in_a_crash() -> None:
    assert deliver("send_after_commit", "declined") == Delivery(orders=0, emails=0)
    assert deliver("send_after_commit", "crash") == Delivery(orders=1, emails=0)


def test_the_outbox_rolls_back_with_the_order_and_survives_a_crash() -> None:
    assert deliver("outbox", "declined") == Delivery(orders=0, emails=0)
    assert deliver("outbox", "crash") == Delivery(orders=1, emails=1)


def test_the_outbox_row_is_written_in_the_business_transaction(tmp_path) -> None:
    path = str(tmp_path / "shop.db")
    shop = build("outbox", path)
    shop.db.crash_after_next_commit = True
    with pytest.raises(Exception, match="after COMMIT"):
        shop.orders.place("ana@example.com", "SKU-07", 1)
    assert shop.mailbox == []  # nothing sent before the crash
    rows = sqlite3.connect(path).execute("SELECT recipient, sent FROM notifications_outbox")
    assert rows.fetchall() == [("ana@example.com", 0)]


# --- the fake network ----------------------------------------------------------------


def test_the_network_path_makes_one_round_trip_per_call() -> None:
    billing = Billing(Database())
    with billing_server(billing) as url:
        fresh = HttpBilling(url, timeout_s=2.0)
        pooled = HttpBilling(url, timeout_s=2.0, keep_alive=True)
        answers = [fresh.price_of(sku) for sku in SKUS]
        assert fetch_prices(pooled.price_of, SKUS) == (CALLS, None)
    assert answers == [billing.price_of(sku) for sku in SKUS]
    assert (fresh.round_trips, fresh.connections) == (CALLS, CALLS)
    assert (pooled.round_trips, pooled.connections) == (CALLS, 1)


def test_one_stalled_request_fails_the_network_path_halfway() -> None:
    billing = Billing(Database())
    with billing_server(billing, stall_on=17) as url:
        client = HttpBilling(url, timeout_s=0.2)
        assert fetch_prices(client.price_of, SKUS) == (16, "BillingUnavailable")
    assert fetch_prices(billing.price_of, SKUS) == (CALLS, None)


def test_the_network_turns_exceptions_into_status_codes_to_map_back() -> None:
    billing = Billing(Database())
    with billing_server(billing) as url, pytest.raises(UnknownSku):
        HttpBilling(url, timeout_s=2.0).price_of("SKU-99")


# --- the recorded measurement and its figure ---------------------------------------


def test_the_recorded_network_path_costs_two_orders_of_magnitude() -> None:
    cost = boundary_cost_ms()
    in_process = cost["in-process facade"]
    assert in_process < 1  # 40 calls in well under a millisecond
    assert 50 < cost["HTTP, keep-alive"] / in_process < cost["HTTP, new connection"] / in_process


def test_the_figure_draws_the_recorded_costs() -> None:
    figure = draw("architecture/figures/fake-network-cost.py")
    bars = figure.axes[0].patches
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert labels == list(PATHS)
    assert [b.get_width() for b in bars] == pytest.approx(list(boundary_cost_ms().values()))
