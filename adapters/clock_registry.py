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
from commands.models import CommandContext
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


TOTALS = ("steps", "renewed", "attempts", "exhausted", "errors")


@dataclass(frozen=True)
class AdvanceAsked:
    """Move `clock_id` to `to`: who asks, through which surface, why (`ctx`)."""

    clock_id: str
    to: datetime
    ctx: CommandContext


@dataclass(frozen=True)
class RecordedAdvance:
    """One advance as recorded: who, when, from and to, why, and (once finished) what the
    billing run did on the way."""

    advance_id: int
    clock_id: str
    fingerprint: str | None
    from_at: datetime
    to_at: datetime
    actor_id: str
    actor_kind: str
    surface: str
    reason: str | None
    correlation_id: UUID
    recorded_at: datetime
    totals: dict[str, int] | None  # None while it is still walking


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

    def clock_of(self, account_id: UUID) -> TestClock | None:
        """The clock the account is attached to, if any."""
        clock_id = self.clock_id_of(account_id)
        return None if clock_id is None else self.get(clock_id)

    def begin_advance(self, asked: AdvanceAsked, from_at: datetime) -> RecordedAdvance | None:
        """Records who moves the clock, from when to when and why, before it moves. None
        when `asked.ctx`'s command id was recorded already: the earlier advance is
        `recorded_advance(command_id)` (the caller answers it, and moves nothing)."""
        ctx = asked.ctx
        rows = self._rows(
            "INSERT INTO test_clock_advances (clock_id, command_id, fingerprint, from_at, to_at,"
            " actor_id, actor_kind, surface, reason, correlation_id)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (command_id) DO NOTHING RETURNING advance_id",
            asked.clock_id,
            ctx.command_id,
            ctx.fingerprint,
            from_at,
            asked.to,
            ctx.actor_id,
            ctx.actor_kind.value,
            ctx.surface.value,
            ctx.reason,
            ctx.correlation_id,
        )
        return self._advance(int(rows[0]["advance_id"])) if rows else None

    def finish_advance(self, advance_id: int, totals: dict[str, int]) -> RecordedAdvance:
        """What the billing run did on the way (steps, renewed, attempts, exhausted, errors)."""
        self._rows(
            "UPDATE test_clock_advances SET steps = %s, renewed = %s, attempts = %s,"
            " exhausted = %s, errors = %s, finished_at = now() WHERE advance_id = %s",
            *(totals[name] for name in TOTALS),
            advance_id,
        )
        return self._advance(advance_id)

    def recorded_advance(self, command_id: UUID) -> RecordedAdvance | None:
        rows = self._rows(
            "SELECT advance_id FROM test_clock_advances WHERE command_id = %s", command_id
        )
        return self._advance(int(rows[0]["advance_id"])) if rows else None

    def advances(self, clock_id: str) -> list[RecordedAdvance]:
        """The clock's advances, latest first."""
        rows = self._rows(
            "SELECT advance_id FROM test_clock_advances WHERE clock_id = %s"
            " ORDER BY advance_id DESC",
            clock_id,
        )
        return [self._advance(int(r["advance_id"])) for r in rows]

    def _advance(self, advance_id: int) -> RecordedAdvance:
        [row] = self._rows("SELECT * FROM test_clock_advances WHERE advance_id = %s", advance_id)
        totals = {name: row[name] for name in TOTALS} if row["finished_at"] else None
        return RecordedAdvance(
            advance_id=advance_id,
            clock_id=row["clock_id"],
            fingerprint=row["fingerprint"],
            from_at=row["from_at"],
            to_at=row["to_at"],
            actor_id=row["actor_id"],
            actor_kind=row["actor_kind"],
            surface=row["surface"],
            reason=row["reason"],
            correlation_id=row["correlation_id"],
            recorded_at=row["recorded_at"],
            totals=totals,
        )

    def clock_for(self, account_id: UUID) -> FrozenClock | None:
        rows = self._rows(
            "SELECT c.frozen_at FROM test_clock_accounts a JOIN test_clocks c USING (clock_id)"
            " WHERE a.account_id = %s",
            account_id,
        )
        return FrozenClock(rows[0]["frozen_at"]) if rows else None
