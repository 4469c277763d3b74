"""The overview (/billing/): the customer's plans with their next renewal and how each is
paid (charged automatically, or invoiced and paid by PayPal), the default payment method,
and the account's state in words (bad debt with the amount and a way to pay it, a payment
past due, a payment waiting for the customer to authenticate it). Read from the read models
for the session's account, as the console's account page reads them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from psycopg import Connection

from adapters.bootstrap import Container
from adapters.http.common import wait_for
from adapters.http.console.account import plans_of
from adapters.http.portal.access import SignedIn
from adapters.http.portal.acting import as_customer
from adapters.http.portal.collection_words import PaidHow, paid_how
from adapters.http.portal.pages import Version, render
from ledger.invoices import DisplayStatus
from ledger.subscriptions import Plan
from queries.account_detail import AccountDetailView, SubscriptionView, account_detail
from queries.health import AccountHealth, HealthState, get_health
from queries.invoices import InvoiceFilters, InvoiceSummary, get_invoice, list_invoices
from queries.payment_facts import payment_facts

router = APIRouter()
READ = ("health", "account_detail", "invoices")  # the read models the overview reads
UNPAID = (DisplayStatus.OPEN, DisplayStatus.PAST_DUE)


@dataclass(frozen=True)
class Waiting:
    """A payment the customer's bank asks them to authenticate (3-D Secure)."""

    invoice_id: str
    invoice_number: str | None
    amount: int
    currency: str
    until: datetime | None


@dataclass(frozen=True)
class Renewal:
    """A subscription as the customer reads it: its plan and what comes next."""

    subscription: SubscriptionView
    plan: Plan | None  # None: the catalogue no longer has it
    paused: bool  # bad debt: not renewed until it is paid
    overdue: bool  # its period ended; the billing run has not renewed it yet

    @property
    def next_amount(self) -> int | None:
        return self.plan.price.amount if self.plan else None


@dataclass(frozen=True)
class Overview:
    health: AccountHealth | None  # None until the read models have the account
    detail: AccountDetailView | None
    renewals: list[Renewal] = field(default_factory=list)
    past_due: list[InvoiceSummary] = field(default_factory=list)
    waiting: list[Waiting] = field(default_factory=list)
    credit: int = 0  # usable credit, in the account's currency

    @property
    def renewing(self) -> bool:
        """A subscription renews (one ending at its period's end is not paid again)."""
        return any(not r.subscription.cancel_at_period_end for r in self.renewals)

    @property
    def paid(self) -> PaidHow:
        """How every renewing subscription is paid (the account's collection path)."""
        if self.detail is None:
            return paid_how("", None)
        return paid_how(self.detail.collection_path, self.detail.default_method)

    @property
    def in_bad_debt(self) -> bool:
        return self.detail is not None and self.detail.bad_debt is not None


def overview_of(container: Container, account_id: UUID, min_version: int | None = None) -> Overview:
    now = container.deps.clock.now()
    key = container.settings.cursor_secret.encode()
    with container.connection() as conn:
        for projection in READ:
            wait_for(conn, projection, account_id, min_version)
        health = get_health(conn, account_id, now)
        detail = account_detail(conn, account_id, now)
        past_due = _unpaid(conn, account_id, key, now) if _past_due(health) else []
        facts = payment_facts(conn, account_id)
        waiting = []
        for attempt in facts.attempts if facts else ():
            invoice = get_invoice(conn, account_id, attempt.invoice_id, now)
            if attempt.status == "requires_action" and invoice is not None:
                waiting.append(
                    Waiting(
                        invoice.invoice_id,
                        invoice.number,
                        invoice.amount_due,
                        invoice.currency,
                        attempt.action_expires_at,
                    )
                )
    plans = plans_of(container.deps.catalogue, detail)
    paused = health is not None and health.suspended
    renewals = [
        Renewal(s, plans.get(s.plan_id), paused, s.period_end <= now)
        for s in (detail.subscriptions if detail else ())
        if s.status == "active"
    ]
    credit = sum(c.remaining for c in detail.credits if c.status == "active") if detail else 0
    return Overview(health, detail, renewals, past_due, waiting, credit)


def _past_due(health: AccountHealth | None) -> bool:
    return health is not None and health.state == HealthState.PAST_DUE


def _unpaid(
    conn: Connection[Any], account_id: UUID, key: bytes, now: datetime
) -> list[InvoiceSummary]:
    """The open invoices a past-due account has not paid (payments failed, or due passed)."""
    listed = list_invoices(conn, account_id, key, now, InvoiceFilters(), 100).items
    return [i for i in listed if i.display_status in UNPAID and i.amount_due > 0]


@router.get("/", name="portal_overview")
def overview(request: Request, session: SignedIn, v: Version = None) -> HTMLResponse:
    """`v`: the account's version after a write the page must show (a payment just made)."""
    account = as_customer(request, session, "get_own_account")
    found = overview_of(request.app.state.container, account.account_id, v)
    return render(request, "overview.html", session, account=account, page=found)
