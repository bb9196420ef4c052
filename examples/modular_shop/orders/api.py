"""Orders' public facade: the types, errors and calls other modules may use."""

from __future__ import annotations

from dataclasses import dataclass

from ..billing.api import Billing, PaymentDeclined
from ..db import Database
from ..events import EventBus
from .internal import store


@dataclass(frozen=True)
class OrderPlaced:
    """Published when an order is written, inside the placing transaction."""

    order_id: int
    email: str
    total_cents: int


@dataclass(frozen=True)
class OrderView:
    """What other modules may know about an order (not the row, not the model)."""

    order_id: int
    email: str
    sku: str
    quantity: int
    total_cents: int


class OrderError(Exception):
    """Base class of every error orders raises on purpose."""


class OrderNotFound(OrderError):
    pass


class OrderRejected(OrderError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Orders:
    """The orders facade: plain calls, explicit types, errors as exceptions."""

    def __init__(self, db: Database, bus: EventBus, billing: Billing) -> None:
        self._db, self._bus, self._billing = db, bus, billing
        with db.transaction() as conn:
            store.create_tables(conn)

    def place(self, email: str, sku: str, quantity: int) -> OrderView:
        """Write the order and charge it in one transaction: both happen or neither does."""
        total = self._billing.price_of(sku) * quantity
        with self._db.transaction() as conn:
            order_id = store.insert(conn, email, sku, quantity, total)
            self._bus.publish(OrderPlaced(order_id, email, total))
            try:
                self._billing.charge(order_id, total)
            except PaymentDeclined as exc:
                raise OrderRejected("payment_declined") from exc
        return self.get(order_id)

    def get(self, order_id: int) -> OrderView:
        row = store.load(self._db.conn, order_id)
        if row is None:
            raise OrderNotFound(order_id)
        return OrderView(*row)

    def count(self) -> int:
        return store.count(self._db.conn)
