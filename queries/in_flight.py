"""Accounts with a payment attempt in flight since before a moment (the janitor's work)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Connection


def accounts_in_flight_since(conn: Connection[Any], before: datetime, limit: int) -> list[UUID]:
    """From the health read model: oldest in-flight attempt first."""
    rows = conn.execute(
        "SELECT account_id FROM account_health WHERE attempt_in_flight_since <= %s"
        " ORDER BY attempt_in_flight_since, account_id LIMIT %s",
        (before, limit),
    ).fetchall()
    return [r[0] for r in rows]
