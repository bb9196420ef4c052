"""The composition root: builds the modules and wires their events. Not a module itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .billing.api import Billing
from .db import Database
from .events import EventBus
from .notifications.api import Notifications
from .orders.api import OrderPlaced, Orders

Strategy = Literal["send_in_transaction", "send_after_commit", "outbox"]


@dataclass
class Shop:
    db: Database
    billing: Billing
    orders: Orders
    notifications: Notifications
    mailbox: list[tuple[str, str]] = field(default_factory=list)


def build(
    strategy: Strategy, path: str = ":memory:", mailbox: list[tuple[str, str]] | None = None
) -> Shop:
    """A shop whose order e-mails are sent with ``strategy`` (into ``mailbox``, if given)."""
    db = Database(path)
    bus = EventBus(db)
    mailbox = [] if mailbox is None else mailbox
    billing = Billing(db)
    orders = Orders(db, bus, billing)
    notifications = Notifications(db, lambda to, subject: mailbox.append((to, subject)))
    if strategy == "send_in_transaction":
        bus.subscribe(OrderPlaced, notifications.send_now, when="in_transaction")
    elif strategy == "send_after_commit":
        bus.subscribe(OrderPlaced, notifications.send_now, when="after_commit")
    else:
        bus.subscribe(OrderPlaced, notifications.enqueue, when="in_transaction")
    return Shop(db, billing, orders, notifications, mailbox)
