"""The consumer's own view, in its own database (SQLite here): each account's country,
status, and what it owes per currency (the sum of its journal postings to `receivable`).

No personal data: names and emails arrive sealed with the account's key, which only the
ledger holds (docs/events.md, "Personal data and forgetting"); a consumer that needs them
asks the ledger's API when it needs them. On `AccountForgotten` the view marks the account
forgotten: a consumer holding personal data it fetched would delete it there.

Every message is applied at most once: `(account_id, stream_version)` is recorded in the
same transaction as the change it makes, so a redelivery, a republication by the ledger's
relay, or a rebuild overlapping what was applied changes nothing twice."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    account_id TEXT PRIMARY KEY, country TEXT NOT NULL, status TEXT NOT NULL,
    forgotten INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS owed (
    account_id TEXT NOT NULL, currency TEXT NOT NULL, amount INTEGER NOT NULL,
    PRIMARY KEY (account_id, currency));
CREATE TABLE IF NOT EXISTS applied (
    account_id TEXT NOT NULL, stream_version INTEGER NOT NULL,
    PRIMARY KEY (account_id, stream_version));
CREATE TABLE IF NOT EXISTS rejected (
    topic TEXT NOT NULL, partition INTEGER NOT NULL, "offset" INTEGER NOT NULL,
    reason TEXT NOT NULL, PRIMARY KEY (topic, partition, "offset"));
"""
VIEW_TABLES = ("accounts", "owed", "applied")


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)  # transactions explicit: BEGIN/COMMIT
    conn.executescript(SCHEMA)
    return conn


def reset(conn: sqlite3.Connection) -> None:
    """Forget the view (not the rejected messages' record) before a rebuild."""
    with transaction(conn):
        for table in VIEW_TABLES:
            conn.execute(f"DELETE FROM {table}")


class transaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self._conn.execute("BEGIN")
        return self._conn

    def __exit__(self, kind: object, *_: object) -> None:
        self._conn.execute("COMMIT" if kind is None else "ROLLBACK")


def apply(conn: sqlite3.Connection, message: dict[str, Any]) -> bool:
    """Applies one valid message; False when it was applied before."""
    account, data = message["account_id"], message["data"]
    first = conn.execute(
        "INSERT OR IGNORE INTO applied VALUES (?, ?)", (account, message["stream_version"])
    ).rowcount
    if not first:
        return False
    kind = message["event_type"]
    if kind in ("AccountOpened", "AccountProfileUpdated"):
        conn.execute(
            "INSERT INTO accounts VALUES (?, ?, 'open', 0) ON CONFLICT (account_id)"
            " DO UPDATE SET country = excluded.country",
            (account, data["country"]),
        )
    elif kind == "AccountClosed":
        conn.execute("UPDATE accounts SET status = 'closed' WHERE account_id = ?", (account,))
    elif kind == "AccountForgotten":
        conn.execute("UPDATE accounts SET forgotten = 1 WHERE account_id = ?", (account,))
    for posting in (data.get("journal") or {}).get("postings", []):
        if posting["account"] == "receivable":
            amount = posting["amount"]
            conn.execute(
                "INSERT INTO owed VALUES (?, ?, ?) ON CONFLICT (account_id, currency)"
                " DO UPDATE SET amount = amount + excluded.amount",
                (account, amount["currency"], amount["amount"]),
            )
    return True


def reject(conn: sqlite3.Connection, topic: str, partition: int, offset: int, reason: str) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO rejected VALUES (?, ?, ?, ?)", (topic, partition, offset, reason)
    )


def owed(conn: sqlite3.Connection) -> dict[str, dict[str, int]]:
    """account id -> currency -> minor units owed."""
    found: dict[str, dict[str, int]] = {}
    for account, currency, amount in conn.execute("SELECT * FROM owed ORDER BY 1, 2"):
        found.setdefault(account, {})[currency] = amount
    return found
