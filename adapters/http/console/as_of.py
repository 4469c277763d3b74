"""The account as it was at a moment, for the as-of page: the aggregate replayed up to the
last event at or before that moment (queries.audit.version_at, the same rule as the support
JSON route), laid out as the rows of readable tables."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from adapters.http.console.timeline import method_words
from ledger.account import Account
from ledger.invoices import DisplayStatus, display_status
from ledger.money import Money
from queries.audit import HistoryEntry


@dataclass(frozen=True)
class InvoiceRow:
    invoice_id: str
    number: str | None
    display_status: DisplayStatus  # as it was at the moment
    total: Money
    amount_due: Money
    finalized_at: datetime | None
    due_at: datetime | None
    paid_at: datetime | None
    marked_uncollectible_at: datetime | None
    voided_at: datetime | None


@dataclass(frozen=True)
class MethodRow:
    method_id: str
    kind: str
    description: str
    state: str
    default: bool


@dataclass(frozen=True)
class SubscriptionRow:
    subscription_id: str
    plan_id: str
    status: str
    period_start: datetime
    period_end: datetime
    cancel_at_period_end: bool


@dataclass(frozen=True)
class CreditRow:
    credit_id: str
    granted: Money
    available: Money
    status: str
    expires_at: datetime | None


@dataclass(frozen=True)
class AsOf:
    """The account at `at`, replayed from its events up to `event` (the last at or before
    that moment)."""

    at: datetime
    event: HistoryEntry
    account: Account
    invoices: list[InvoiceRow]
    methods: list[MethodRow]
    subscriptions: list[SubscriptionRow]
    credits: list[CreditRow]


def as_of(account: Account, at: datetime, event: HistoryEntry) -> AsOf:
    return AsOf(
        at=at,
        event=event,
        account=account,
        invoices=_invoices(account, at),
        methods=[
            MethodRow(
                m.method_id,
                m.kind.value,
                method_words(asdict(m)),
                m.state.value,
                m.method_id == account.default_method_id,
            )
            for m in account.methods.values()
        ],
        subscriptions=[
            SubscriptionRow(
                s.subscription_id,
                s.plan_id,
                s.status.value,
                s.period_start,
                s.period_end,
                s.cancel_at_period_end,
            )
            for s in account.subscriptions.values()
        ],
        credits=[
            CreditRow(c.credit_id, c.granted, c.available, c.status.value, c.expires_at)
            for c in account.credits.values()
        ],
    )


def _invoices(account: Account, at: datetime) -> list[InvoiceRow]:
    """Newest first, as on the account page."""
    rows = [
        InvoiceRow(
            i.invoice_id,
            i.number,
            display_status(i, at),
            i.total,
            i.amount_due,
            i.finalized_at,
            i.due_at,
            i.paid_at,
            i.marked_uncollectible_at,
            i.voided_at,
        )
        for i in account.invoices.values()
    ]
    return sorted(rows, key=lambda r: r.number or "", reverse=True)
