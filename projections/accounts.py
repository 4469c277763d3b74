"""The `accounts` read model: one row per billing account with its profile and status."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Cursor

from ledger.envelope import EventEnvelope
from ledger.personal import ERASED, ERASED_EMAIL
from projections.rows import RowTable, TableRows

_COLUMNS = (
    "account_id, name, email, country, currency, tax_id, status,"
    " opened_at, updated_at, closed_at, version, events_applied"
)
_TABLE = RowTable.of("accounts", _COLUMNS)


@dataclass(frozen=True)
class AccountRow:
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
    events_applied: int

    def as_tuple(self) -> tuple[Any, ...]:
        return (
            self.account_id,
            self.name,
            self.email,
            self.country,
            self.currency,
            self.tax_id,
            self.status,
            self.opened_at,
            self.updated_at,
            self.closed_at,
            self.version,
            self.events_applied,
        )


def _opened(env: EventEnvelope) -> AccountRow:
    d = env.data
    return AccountRow(
        account_id=env.account_id,
        name=d["name"],
        email=d["email"],
        country=d["country"],
        currency=d["currency"],
        tax_id=d.get("tax_id"),
        status="open",
        opened_at=env.occurred_at,
        updated_at=env.occurred_at,
        closed_at=None,
        version=env.stream_version,
        events_applied=1,
    )


def _touched(row: AccountRow, env: EventEnvelope, **changes: Any) -> AccountRow:
    return replace(
        row,
        updated_at=env.occurred_at,
        version=env.stream_version,
        events_applied=row.events_applied + 1,
        **changes,
    )


def _profile_updated(row: AccountRow, env: EventEnvelope) -> AccountRow:
    profile = {k: env.data.get(k) for k in ("name", "email", "country", "currency", "tax_id")}
    return _touched(row, env, **profile)


def _closed(row: AccountRow, env: EventEnvelope) -> AccountRow:
    return _touched(row, env, status="closed", closed_at=env.occurred_at)


def _forgotten(row: AccountRow, env: EventEnvelope) -> AccountRow:
    return _touched(row, env, name=ERASED, email=ERASED_EMAIL, tax_id=None)


def _counted(row: AccountRow, env: EventEnvelope) -> AccountRow:
    return replace(row, version=env.stream_version, events_applied=row.events_applied + 1)


_STEPS: dict[str, Callable[[AccountRow, EventEnvelope], AccountRow]] = {
    "AccountProfileUpdated": _profile_updated,
    "AccountClosed": _closed,
    "AccountForgotten": _forgotten,
}
# Only counted (the version and `events_applied` advance): nothing of theirs is in the row.
IGNORED = frozenset(
    {
        "ProviderCustomerLinked",
        "ProviderCustomerSynced",
        "AccountRecomputeRequested",
        "ReconciliationRepaired",
        "ReconciliationRepairStarted",
        "PaymentMethodAdded",
        "DefaultPaymentMethodSet",
        "PaymentMethodRemoved",
        "PaymentMethodExpired",
        "PaymentMethodRevoked",
        "PaymentMethodTokenMigrated",
        "Subscribed",
        "SubscriptionChanged",
        "InvoiceDrafted",
        "InvoiceFinalized",
        "InvoiceCoveredByCredit",
        "InvoiceMarkedUncollectible",
        "InvoiceVoided",
        "InvoicePaidOutOfBand",
        "PaymentAttemptStarted",
        "PaymentActionRequired",
        "PaymentSucceeded",
        "PaymentFailed",
        "RefundIssued",
        "DisputeOpened",
        "DisputeClosed",
        "CreditGranted",
        "CreditClosed",
    }
)


class AccountsProjection:
    name = "accounts"
    tables: Sequence[str] = ("accounts",)
    applies = frozenset({"AccountOpened", *_STEPS})
    ignores = IGNORED

    def fold(self, state: AccountRow | None, envelope: EventEnvelope) -> AccountRow | None:
        if envelope.event_type == "AccountOpened":
            return _opened(envelope)
        if state is None:
            return None
        return _STEPS.get(envelope.event_type, _counted)(state, envelope)

    def load(self, cur: Cursor[Any], stream_ids: Sequence[UUID]) -> dict[UUID, AccountRow]:
        cur.execute(
            f"SELECT {_COLUMNS} FROM accounts WHERE account_id = ANY(%s)", (list(stream_ids),)
        )
        return {row[0]: AccountRow(*row) for row in cur.fetchall()}

    def save(self, cur: Cursor[Any], states: Mapping[UUID, AccountRow | None]) -> None:
        rows = [s.as_tuple() for s in states.values() if s is not None]
        if not rows:
            return
        cur.executemany(
            f"INSERT INTO accounts ({_COLUMNS}) VALUES ({', '.join(['%s'] * 12)})"
            " ON CONFLICT (account_id) DO UPDATE SET name = EXCLUDED.name,"
            " email = EXCLUDED.email, country = EXCLUDED.country,"
            " currency = EXCLUDED.currency, tax_id = EXCLUDED.tax_id, status = EXCLUDED.status,"
            " updated_at = EXCLUDED.updated_at, closed_at = EXCLUDED.closed_at,"
            " version = EXCLUDED.version, events_applied = EXCLUDED.events_applied",
            rows,
        )

    def rows(self, states: Mapping[UUID, AccountRow | None]) -> TableRows:
        return [(_TABLE, [s.as_tuple() for s in states.values() if s is not None])]

    def delete(self, cur: Cursor[Any], stream_ids: Sequence[UUID]) -> None:
        cur.execute("DELETE FROM accounts WHERE account_id = ANY(%s)", (list(stream_ids),))
