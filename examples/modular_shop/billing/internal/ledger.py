"""Billing's tables. Only billing's own code reads or writes them."""

from __future__ import annotations

import sqlite3

PRICES = {f"SKU-{n:02d}": 500 + 25 * n for n in range(1, 41)}  # 40 products, in cents


def create_tables(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS billing_price (sku TEXT PRIMARY KEY, cents INTEGER NOT NULL)"
    )
    conn.execute(
        "CREATE TABLE IF NOT EXISTS billing_charge"
        " (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, cents INTEGER NOT NULL)"
    )
    conn.executemany("INSERT OR IGNORE INTO billing_price VALUES (?, ?)", sorted(PRICES.items()))


def price(conn: sqlite3.Connection, sku: str) -> int | None:
    row = conn.execute("SELECT cents FROM billing_price WHERE sku = ?", (sku,)).fetchone()
    return None if row is None else int(row[0])


def record_charge(conn: sqlite3.Connection, order_id: int, cents: int) -> int:
    cursor = conn.execute(
        "INSERT INTO billing_charge (order_id, cents) VALUES (?, ?)", (order_id, cents)
    )
    return int(cursor.lastrowid or 0)
