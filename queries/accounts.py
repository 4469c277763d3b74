"""Reads over the `accounts` read model; never through the aggregate."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Connection
from pydantic import BaseModel, ConfigDict

_COLUMNS = (
    "account_id, name, email, country, currency, tax_id, status, opened_at, updated_at, closed_at,"
    " version"
)


class AccountView(BaseModel):
    model_config = ConfigDict(frozen=True)

    account_id: UUID
    name: str
    email: str
    country: str
    currency: str
    tax_id: str | None
    status: str
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    version: int


def get_account(conn: Connection[Any], account_id: UUID) -> AccountView | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM accounts WHERE account_id = %s", (account_id,)
    ).fetchone()
    return _view(row) if row else None


def list_accounts(
    conn: Connection[Any], limit: int = 50, status: str | None = None
) -> list[AccountView]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM accounts WHERE (%(status)s::text IS NULL OR status = %(status)s)"
        " ORDER BY opened_at DESC, account_id DESC LIMIT %(limit)s",
        {"status": status, "limit": limit},
    ).fetchall()
    return [_view(r) for r in rows]


def wait_for_version(
    conn: Connection[Any],
    account_id: UUID,
    version: int,
    timeout_s: float = 2.0,
    projection: str = "accounts",
) -> bool:
    """Read-your-writes: waits (bounded) until the projection has applied this version."""
    deadline = time.monotonic() + timeout_s
    while True:
        row = conn.execute(
            "SELECT version FROM projection_streams WHERE projection = %s AND stream_id = %s",
            (projection, account_id),
        ).fetchone()
        if row and row[0] >= version:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def _view(row: tuple[Any, ...]) -> AccountView:
    names = [c.strip() for c in _COLUMNS.split(",")]
    return AccountView(**dict(zip(names, row, strict=True)))


def open_account_ids(conn: Connection[Any], after: UUID | None, limit: int) -> list[UUID]:
    """Open accounts in id order, a page at a time (for batch jobs such as the billing run)."""
    rows = conn.execute(
        "SELECT account_id FROM accounts WHERE status = 'open'"
        " AND (%(after)s::uuid IS NULL OR account_id > %(after)s) ORDER BY account_id"
        " LIMIT %(limit)s",
        {"after": after, "limit": limit},
    ).fetchall()
    return [r[0] for r in rows]


def accounts_active_since(conn: Connection[Any], since: datetime, limit: int) -> list[UUID]:
    """Accounts (open or closed) whose last event happened at or after `since`, most recent
    first (the scheduler reconciles them)."""
    rows = conn.execute(
        "SELECT account_id FROM accounts WHERE updated_at >= %s"
        " ORDER BY updated_at DESC, account_id LIMIT %s",
        (since, limit),
    ).fetchall()
    return [r[0] for r in rows]


def accounts_with_credits_expired_by(
    conn: Connection[Any], now: datetime, limit: int
) -> list[UUID]:
    """Accounts holding an active credit whose expiry is at or before `now` (the account
    detail read model; the scheduler's credit-expiry job)."""
    rows = conn.execute(
        "SELECT d.account_id FROM account_detail d WHERE EXISTS ("
        " SELECT 1 FROM jsonb_each(d.credits) c WHERE c.value->>'status' = 'active'"
        " AND (c.value->>'expires_at')::timestamptz <= %s) ORDER BY d.account_id LIMIT %s",
        (now, limit),
    ).fetchall()
    return [r[0] for r in rows]
