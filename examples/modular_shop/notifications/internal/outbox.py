"""Notifications' outbox table: e-mails to send, written in the business transaction."""

from __future__ import annotations

import sqlite3


def create_tables(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS notifications_outbox (id INTEGER PRIMARY KEY,"
        " recipient TEXT NOT NULL, subject TEXT NOT NULL, sent INTEGER NOT NULL DEFAULT 0)"
    )


def add(conn: sqlite3.Connection, recipient: str, subject: str) -> None:
    conn.execute(
        "INSERT INTO notifications_outbox (recipient, subject) VALUES (?, ?)", (recipient, subject)
    )


def pending(conn: sqlite3.Connection) -> list[tuple[int, str, str]]:
    return conn.execute(
        "SELECT id, recipient, subject FROM notifications_outbox WHERE sent = 0 ORDER BY id"
    ).fetchall()


def mark_sent(conn: sqlite3.Connection, row_id: int) -> None:
    conn.execute("UPDATE notifications_outbox SET sent = 1 WHERE id = ?", (row_id,))
