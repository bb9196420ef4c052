"""A legacy daily digest that counts orders by reading orders' table directly.

It predates the module boundaries. The boundary check records it in the
baseline (``boundary_todo.txt``) until it is rewritten against ``orders.api``.
"""

from __future__ import annotations

import sqlite3

from ...orders.internal.store import ORDERS_TABLE


def orders_today(conn: sqlite3.Connection) -> int:
    return int(conn.execute(f"SELECT COUNT(*) FROM {ORDERS_TABLE}").fetchone()[0])
