"""The shared kernel's in-process event bus: synchronous, typed, no broker."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from functools import partial
from typing import Any, Literal

from .db import Database

When = Literal["in_transaction", "after_commit"]


class EventBus:
    """Delivers each event to its handlers in the same process.

    ``in_transaction`` handlers run inside the publisher's transaction: their
    database writes commit or roll back with it, and any exception they raise
    aborts it. ``after_commit`` handlers run only once the transaction has
    committed, and are lost if the process dies first.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._handlers: dict[tuple[type, When], list[Callable[[Any], None]]] = defaultdict(list)

    def subscribe(self, event_type: type, handler: Callable[[Any], None], when: When) -> None:
        self._handlers[event_type, when].append(handler)

    def publish(self, event: object) -> None:
        for handler in self._handlers[type(event), "in_transaction"]:
            handler(event)
        for handler in self._handlers[type(event), "after_commit"]:
            self._db.after_commit(partial(handler, event))
