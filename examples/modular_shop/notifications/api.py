"""Notifications' public facade: order e-mails, three ways of sending them."""

from __future__ import annotations

from collections.abc import Callable

from ..db import Database
from ..orders.api import OrderPlaced
from .internal import outbox

Send = Callable[[str, str], None]  # (recipient, subject): the mail provider's client


class Notifications:
    def __init__(self, db: Database, send: Send) -> None:
        self._db, self._send = db, send
        with db.transaction() as conn:
            outbox.create_tables(conn)

    def send_now(self, event: OrderPlaced) -> None:
        """Naive handler: calls the mail provider at once, whatever happens next."""
        self._send(event.email, f"Order {event.order_id} confirmed")

    def enqueue(self, event: OrderPlaced) -> None:
        """Outbox handler: writes the e-mail in the caller's transaction."""
        with self._db.transaction() as conn:
            outbox.add(conn, event.email, f"Order {event.order_id} confirmed")

    def relay(self) -> int:
        """Send pending outbox e-mails (at least once); return how many were sent."""
        sent = 0
        for row_id, recipient, subject in outbox.pending(self._db.conn):
            self._send(recipient, subject)  # a crash here repeats the e-mail: at-least-once
            with self._db.transaction() as conn:
                outbox.mark_sent(conn, row_id)
            sent += 1
        return sent
