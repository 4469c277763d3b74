"""Accounts with a payment attempt in flight since before a moment, or an expired wait for
the customer (the janitor's work)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Connection


def accounts_in_flight_since(
    conn: Connection[Any], before: datetime, limit: int, now: datetime | None = None
) -> list[UUID]:
    """From the health read model: accounts with an attempt pending since `before`, or
    waiting for the customer past its expiry (at `now`, default `before`); oldest first."""
    rows = conn.execute(
        "SELECT account_id FROM account_health"
        " WHERE attempt_in_flight_since <= %s OR action_required_until <= %s"
        " ORDER BY least(attempt_in_flight_since, action_required_until), account_id LIMIT %s",
        (before, now or before, limit),
    ).fetchall()
    return [r[0] for r in rows]
