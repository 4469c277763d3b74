"""Test clocks, as Stripe has them: a clock a developer or support advances, and the
accounts attached to it, whose billing run uses the clock's time (`commands.dunning`). Kept
in the `test_clocks` side tables (migration 0015), never in the account's stream
(docs/architecture.md, "Test clocks"). Refused in production settings: the registry cannot
be made there, and the composition root does not wire it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from psycopg import Connection
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from adapters.settings import Settings
from ledger.account import Account
from ledger.errors import DomainError, ErrorKind, ReasonRequired


class TestClocksRefused(DomainError):
    """Test clocks are refused in production settings."""

    __test__ = False
    code = "test_clocks_refused"
    kind = ErrorKind.REFUSED


class ClockNotFound(DomainError):
    """No such test clock."""

    code = "test_clock_not_found"
    kind = ErrorKind.NOT_FOUND


class ClockCannotGoBack(DomainError):
    """A test clock only moves forward: what was billed at its time stays billed."""

    code = "test_clock_cannot_go_back"
    kind = ErrorKind.INVALID


class AccountHasHistory(DomainError):
    """A test clock is attached to an account before its billing history (as Stripe attaches
    one when the customer is created): this account has subscriptions or invoices already,
    or is attached to another clock."""

    code = "test_clock_account_has_history"
    kind = ErrorKind.CONFLICT


@dataclass(frozen=True)
class FrozenClock:
    """The Clock port at a test clock's time."""

    at: datetime

    def now(self) -> datetime:
        return self.at


@dataclass(frozen=True)
class TestClock:
    __test__ = False
    clock_id: str
    name: str
    started_at: datetime
    frozen_at: datetime
    accounts: int


class ClockRegistry:
    def __init__(self, pool: ConnectionPool[Connection[Any]], settings: Settings) -> None:
        if settings.environment == "production":
            raise TestClocksRefused()
        self._pool = pool

    def _rows(self, sql: str, *params: object) -> list[dict[str, Any]]:
        with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(sql, params)
            return list(cur.fetchall()) if cur.description else []

    def new(self, name: str, start: datetime) -> TestClock:
        clock_id = f"clock_{uuid4().hex[:24]}"
        self._rows(
            "INSERT INTO test_clocks (clock_id, name, started_at, frozen_at)"
            " VALUES (%s, %s, %s, %s)",
            clock_id,
            name,
            start,
            start,
        )
        return self.get(clock_id)

    def get(self, clock_id: str) -> TestClock:
        found = [c for c in self.all() if c.clock_id == clock_id]
        if not found:
            raise ClockNotFound(clock_id)
        return found[0]

    def all(self) -> list[TestClock]:
        rows = self._rows(
            "SELECT c.clock_id, c.name, c.started_at, c.frozen_at,"
            " count(a.account_id) AS accounts"
            " FROM test_clocks c LEFT JOIN test_clock_accounts a USING (clock_id)"
            " GROUP BY c.clock_id ORDER BY c.created_at, c.clock_id"
        )
        return [
            TestClock(r["clock_id"], r["name"], r["started_at"], r["frozen_at"], r["accounts"])
            for r in rows
        ]

    def named(self, name: str) -> TestClock | None:
        return next((c for c in self.all() if c.name == name), None)

    def advance(self, clock_id: str, to: datetime) -> TestClock:
        if to < self.get(clock_id).frozen_at:
            raise ClockCannotGoBack(f"{clock_id} is at {self.get(clock_id).frozen_at}")
        self._rows(
            "UPDATE test_clocks SET frozen_at = %s, advanced_at = now() WHERE clock_id = %s",
            to,
            clock_id,
        )
        return self.get(clock_id)

    def attach(self, account: Account, clock_id: str, actor: str, reason: str | None) -> None:
        """Attaches an account with no billing history yet; attaching it again to the same
        clock is safe. The reason and actor are kept beside the attachment."""
        if not reason or not reason.strip():
            raise ReasonRequired()
        self.get(clock_id)
        current = self.clock_id_of(account.id)
        if current == clock_id:
            return
        if current is not None or account.subscriptions or account.invoices:
            raise AccountHasHistory(str(account.id))
        self._rows(
            "INSERT INTO test_clock_accounts (account_id, clock_id, attached_by, reason)"
            " VALUES (%s, %s, %s, %s)",
            account.id,
            clock_id,
            actor,
            reason,
        )

    def clock_id_of(self, account_id: UUID) -> str | None:
        rows = self._rows(
            "SELECT clock_id FROM test_clock_accounts WHERE account_id = %s", account_id
        )
        return str(rows[0]["clock_id"]) if rows else None

    def accounts_on(self, clock_id: str) -> list[UUID]:
        rows = self._rows(
            "SELECT account_id FROM test_clock_accounts WHERE clock_id = %s ORDER BY account_id",
            clock_id,
        )
        return [r["account_id"] for r in rows]

    def clock_for(self, account_id: UUID) -> FrozenClock | None:
        rows = self._rows(
            "SELECT c.frozen_at FROM test_clock_accounts a JOIN test_clocks c USING (clock_id)"
            " WHERE a.account_id = %s",
            account_id,
        )
        return FrozenClock(rows[0]["frozen_at"]) if rows else None
