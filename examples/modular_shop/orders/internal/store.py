"""Orders' tables. Only orders' own code reads or writes them."""

from __future__ import annotations

import sqlite3

ORDERS_TABLE = "orders_order"


def create_tables(conn: sqlite3.Connection) -> None:
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {ORDERS_TABLE} (id INTEGER PRIMARY KEY, email TEXT NOT NULL,"
        " sku TEXT NOT NULL, quantity INTEGER NOT NULL, total_cents INTEGER NOT NULL)"
    )


def insert(conn: sqlite3.Connection, email: str, sku: str, quantity: int, total: int) -> int:
    cursor = conn.execute(
        f"INSERT INTO {ORDERS_TABLE} (email, sku, quantity, total_cents) VALUES (?, ?, ?, ?)",
        (email, sku, quantity, total),
    )
    return int(cursor.lastrowid or 0)


def load(conn: sqlite3.Connection, order_id: int) -> tuple[int, str, str, int, int] | None:
    return conn.execute(
        f"SELECT id, email, sku, quantity, total_cents FROM {ORDERS_TABLE} WHERE id = ?",
        (order_id,),
    ).fetchone()


def count(conn: sqlite3.Connection) -> int:
    return int(conn.execute(f"SELECT COUNT(*) FROM {ORDERS_TABLE}").fetchone()[0])
