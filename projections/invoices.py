"""The `invoices` read model: one row per invoice, with its attempts and status timeline.

The fold state is one account's invoices by id; `save` upserts those an event changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.types.json import Jsonb

from ledger.envelope import EventEnvelope
from projections.rows import RowTable, TableRows

_COLUMNS = (
    "account_id, invoice_id, number, status, created_at, finalized_at, due_at, paid_at,"
    " marked_uncollectible_at, voided_at, currency, total, credit_applied, amount_due,"
    " paid_out_of_band, detail, version"
)
_NAMES = [c.strip() for c in _COLUMNS.split(",")]
_TABLE = RowTable.of("invoices", _COLUMNS, keys=2)


@dataclass(frozen=True)
class InvoiceRow:
    account_id: UUID
    invoice_id: str
    number: str | None
    status: str
    created_at: datetime
    finalized_at: datetime | None
    due_at: datetime | None
    paid_at: datetime | None
    marked_uncollectible_at: datetime | None
    voided_at: datetime | None
    currency: str
    total: int
    credit_applied: int
    amount_due: int
    paid_out_of_band: bool
    detail: dict[str, Any]  # lines, credits_used, attempts, timeline, finalized_version
    version: int

    def as_params(self) -> tuple[Any, ...]:
        values = [getattr(self, n) for n in _NAMES]
        values[_NAMES.index("detail")] = Jsonb(self.detail)
        return tuple(values)


@dataclass(frozen=True)
class AccountInvoices:
    invoices: dict[str, InvoiceRow]
    changed: frozenset[str] = field(default=frozenset(), compare=False)


def _timeline(row: InvoiceRow, status: str, at: datetime) -> dict[str, Any]:
    entry = {"status": status, "at": at.isoformat()}
    return {**row.detail, "timeline": [*row.detail["timeline"], entry]}


def _moved(row: InvoiceRow, env: EventEnvelope, status: str, **changes: Any) -> InvoiceRow:
    detail = _timeline(row, status, env.occurred_at)
    return replace(row, status=status, detail=detail, version=env.stream_version, **changes)


def _drafted(env: EventEnvelope) -> InvoiceRow:
    inv = env.data["invoice"]
    at = datetime.fromisoformat(inv["created_at"])
    total = sum(int(line["amount"]["amount"]) for line in inv["lines"])
    detail = {"lines": inv["lines"], "credits_used": {}, "attempts": [], "timeline": []}
    row = InvoiceRow(
        env.account_id, inv["invoice_id"], None, "draft", at, None, None, None, None, None,
        inv["currency"], total, 0, total, False, detail, env.stream_version,
    )  # fmt: skip
    return replace(row, detail=_timeline(row, "draft", at))


def _finalized(row: InvoiceRow, env: EventEnvelope) -> InvoiceRow:
    d = env.data
    credits = {k: int(v) for k, v in d["credits_used"].items()}
    credit = sum(credits.values())
    due = datetime.fromisoformat(d["due_at"]) if d.get("due_at") else None
    moved = _moved(
        row, env, "open", number=d["number"], finalized_at=env.occurred_at, due_at=due,
        credit_applied=credit, amount_due=row.total - credit,
    )  # fmt: skip
    issued = {"credits_used": credits, "finalized_version": env.stream_version}
    return replace(moved, detail={**moved.detail, **issued})


def _paid(row: InvoiceRow, env: EventEnvelope, out_of_band: bool) -> InvoiceRow:
    oob = row.paid_out_of_band or out_of_band
    return _moved(row, env, "paid", paid_at=env.occurred_at, paid_out_of_band=oob)


def _uncollectible(row: InvoiceRow, env: EventEnvelope) -> InvoiceRow:
    return _moved(row, env, "uncollectible", marked_uncollectible_at=env.occurred_at)


def _voided(row: InvoiceRow, env: EventEnvelope) -> InvoiceRow:
    return _moved(row, env, "void", voided_at=env.occurred_at)


def _attempt_started(row: InvoiceRow, env: EventEnvelope) -> InvoiceRow:
    a = env.data["attempt"]
    attempt = {
        "attempt_id": a["attempt_id"],
        "method_id": a["method_id"],
        "processor": a["processor"],
        "amount": int(a["amount"]["amount"]),
        "purpose": a["purpose"],
        "status": "pending",
        "started_at": a["started_at"],
        "settled_at": None,
        "processor_payment_id": None,
        "decline_code": None,
        "failure": None,
        "refunds": [],
        "dispute": None,
    }
    detail = {**row.detail, "attempts": [*row.detail["attempts"], attempt]}
    return replace(row, detail=detail, version=env.stream_version)


def _with_attempt(row: InvoiceRow, env: EventEnvelope, **changes: Any) -> InvoiceRow:
    attempts = [
        {**a, **changes} if a["attempt_id"] == env.data["attempt_id"] else a
        for a in row.detail["attempts"]
    ]
    return replace(row, detail={**row.detail, "attempts": attempts}, version=env.stream_version)


def _attempt(row: InvoiceRow, attempt_id: str) -> dict[str, Any]:
    return next(a for a in row.detail["attempts"] if a["attempt_id"] == attempt_id)


def _succeeded(row: InvoiceRow, env: EventEnvelope) -> InvoiceRow:
    at = env.occurred_at.isoformat()
    pid = env.data["processor_payment_id"]
    settled = _with_attempt(row, env, status="succeeded", settled_at=at, processor_payment_id=pid)
    braintree = _attempt(row, env.data["attempt_id"])["processor"] == "braintree"
    return _paid(settled, env, out_of_band=braintree)


def _action_required(row: InvoiceRow, env: EventEnvelope) -> InvoiceRow:
    """Waiting for the customer to authenticate: the invoice stays open."""
    d = env.data
    return _with_attempt(
        row, env, status="requires_action",
        processor_payment_id=d["processor_payment_id"], action_expires_at=d["expires_at"],
    )  # fmt: skip


def _failed(row: InvoiceRow, env: EventEnvelope) -> InvoiceRow:
    d, at = env.data, env.occurred_at.isoformat()
    return _with_attempt(
        row, env, status="failed", settled_at=at,
        decline_code=d["decline_code"], failure=d.get("failure"),
    )  # fmt: skip


def _refunded(row: InvoiceRow, env: EventEnvelope) -> InvoiceRow:
    d = env.data
    refund = {"refund_id": d["refund_id"], "amount": int(d["amount"]), "at": _iso(env)}
    refunds = [*_attempt(row, d["attempt_id"])["refunds"], refund]
    return _with_attempt(row, env, refunds=refunds)


def _dispute_opened(row: InvoiceRow, env: EventEnvelope) -> InvoiceRow:
    d = env.data
    dispute = {
        "dispute_id": d["dispute_id"],
        "amount": int(d["amount"]),
        "status": "needs_response",
        "opened_at": _iso(env),
        "closed_at": None,
    }
    return _with_attempt(row, env, dispute=dispute)


def _dispute_closed(row: InvoiceRow, env: EventEnvelope) -> InvoiceRow:
    dispute = _attempt(row, env.data["attempt_id"])["dispute"]
    outcome = "won" if env.data["won"] else "lost"
    return _with_attempt(row, env, dispute={**dispute, "status": outcome, "closed_at": _iso(env)})


def _iso(env: EventEnvelope) -> str:
    return env.occurred_at.isoformat()


Step = Callable[[InvoiceRow, EventEnvelope], InvoiceRow]

_BY_INVOICE: dict[str, Step] = {
    "InvoiceFinalized": _finalized,
    "InvoiceCoveredByCredit": lambda row, env: _paid(row, env, out_of_band=False),
    "InvoicePaidOutOfBand": lambda row, env: _paid(row, env, out_of_band=True),
    "InvoiceMarkedUncollectible": _uncollectible,
    "InvoiceVoided": _voided,
}
_BY_ATTEMPT: dict[str, Step] = {
    "PaymentSucceeded": _succeeded,
    "PaymentActionRequired": _action_required,
    "PaymentFailed": _failed,
    "RefundIssued": _refunded,
    "DisputeOpened": _dispute_opened,
    "DisputeClosed": _dispute_closed,
}


# Nothing of theirs is in an invoice row.
IGNORED = frozenset(
    {
        "AccountForgotten",
        "AccountOpened",
        "AccountProfileUpdated",
        "AccountClosed",
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
        "CreditGranted",
        "CreditClosed",
    }
)


def _target(state: AccountInvoices, env: EventEnvelope) -> tuple[str | None, Step | None]:
    kind, d = env.event_type, env.data
    if kind in _BY_INVOICE:
        return d["invoice_id"], _BY_INVOICE[kind]
    if kind == "PaymentAttemptStarted":
        return d["attempt"]["invoice_id"], _attempt_started
    if kind in _BY_ATTEMPT:
        return _invoice_of_attempt(state, d["attempt_id"]), _BY_ATTEMPT[kind]
    return None, None


def _invoice_of_attempt(state: AccountInvoices, attempt_id: str) -> str | None:
    for row in state.invoices.values():
        if any(a["attempt_id"] == attempt_id for a in row.detail["attempts"]):
            return row.invoice_id
    return None


def _put(state: AccountInvoices, row: InvoiceRow) -> AccountInvoices:
    invoices = {**state.invoices, row.invoice_id: row}
    return AccountInvoices(invoices, state.changed | {row.invoice_id})


class InvoicesProjection:
    name = "invoices"
    tables: Sequence[str] = ("invoices",)
    applies = frozenset({"InvoiceDrafted", "PaymentAttemptStarted", *_BY_INVOICE, *_BY_ATTEMPT})
    ignores = IGNORED

    def fold(self, state: AccountInvoices | None, envelope: EventEnvelope) -> AccountInvoices:
        current = state or AccountInvoices({})
        if envelope.event_type == "InvoiceDrafted":
            return _put(current, _drafted(envelope))
        invoice_id, step = _target(current, envelope)
        row = current.invoices.get(invoice_id) if invoice_id else None
        if row is None or step is None:
            return current
        return _put(current, step(row, envelope))

    def load(self, cur: Cursor[Any], stream_ids: Sequence[UUID]) -> dict[UUID, AccountInvoices]:
        cur.execute(
            f"SELECT {_COLUMNS} FROM invoices WHERE account_id = ANY(%s)", (list(stream_ids),)
        )
        by_account: dict[UUID, dict[str, InvoiceRow]] = {}
        for values in cur.fetchall():
            row = InvoiceRow(*values)
            by_account.setdefault(row.account_id, {})[row.invoice_id] = row
        return {a: AccountInvoices(rows) for a, rows in by_account.items()}

    def save(self, cur: Cursor[Any], states: Mapping[UUID, AccountInvoices | None]) -> None:
        _TABLE.upsert(
            cur,
            [s.invoices[i].as_params() for s in states.values() if s for i in sorted(s.changed)],
        )

    def rows(self, states: Mapping[UUID, AccountInvoices | None]) -> TableRows:
        return [
            (_TABLE, [r.as_params() for s in states.values() if s for r in s.invoices.values()])
        ]

    def delete(self, cur: Cursor[Any], stream_ids: Sequence[UUID]) -> None:
        _TABLE.delete_accounts(cur, stream_ids)
