"""Billing's public facade: the only names other modules may import from billing."""

from __future__ import annotations

from ..db import Database
from .internal import ledger

# The account's credit limit: a rule billing checks against its own data. No card provider
# is called here; collecting the money leaves the database and would go through an outbox.
CARD_LIMIT_CENTS = 50_000


class BillingError(Exception):
    """Base class of every error billing raises on purpose."""


class UnknownSku(BillingError):
    def __init__(self, sku: str) -> None:
        super().__init__(f"no price for {sku}")
        self.sku = sku


class PaymentDeclined(BillingError):
    def __init__(self, order_id: int, cents: int) -> None:
        super().__init__(f"charge of {cents} cents for order {order_id} declined")
        self.order_id = order_id
        self.cents = cents


class Billing:
    """Prices and charges. Methods join the caller's transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db
        with db.transaction() as conn:
            ledger.create_tables(conn)

    def price_of(self, sku: str) -> int:
        """Unit price in cents; raises ``UnknownSku``."""
        cents = ledger.price(self._db.conn, sku)
        if cents is None:
            raise UnknownSku(sku)
        return cents

    def charge(self, order_id: int, cents: int) -> int:
        """Record a charge row for an order and return its id; raises ``PaymentDeclined``.

        Joins the caller's transaction (see ``Database.transaction``): the row commits
        or rolls back with the order. Nothing here leaves the database.
        """
        if cents > CARD_LIMIT_CENTS:
            raise PaymentDeclined(order_id, cents)
        with self._db.transaction() as conn:
            return ledger.record_charge(conn, order_id, cents)
