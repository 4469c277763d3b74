"""The account page's content (read-only): what the read models say of one account,
through queries/ (accounts, account health and its payment facts, invoices, the latest
reconciliation), shaped for the template."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from adapters.bootstrap import Container
from ledger.invoices import DisplayStatus
from queries.accounts import AccountView, get_account
from queries.health import AccountHealth, get_health
from queries.invoices import InvoiceFilters, InvoicePage, list_invoices
from queries.payment_facts import PaymentFacts, payment_facts
from queries.reconciliation import ReconciliationView, get_reconciliation

INVOICES_PER_PAGE = 20
REASONS = {
    "attempt_in_flight": "a payment attempt has been in flight too long (stuck)",
    "awaiting_customer_action": "waiting for the customer to authenticate a payment",
    "dunning_overdue": "the dunning schedule is overdue",
    "projection_behind": "the read models are behind the account's events",
    "projection_poisoned": "an event of this account could not be applied to a read model",
    "bad_debt_payment_in_flight": "a bad-debt payment is in flight",
    "uncollectible": "invoices were marked uncollectible (bad debt)",
    "due_date_passed": "an invoice is past its due date",
    "failed_attempts": "payment attempts failed",
    "no_usable_default_method": "active subscriptions but no usable default payment method",
    "recent_failed_attempt": "a payment attempt failed in the last 7 days",
}


@dataclass(frozen=True)
class AccountPage:
    account: AccountView
    health: AccountHealth | None  # None until the health read model has the account
    invoices: InvoicePage
    facts: PaymentFacts | None  # None until the health read model has the account
    reconciliation: ReconciliationView | None  # the latest check; None: never reconciled

    @property
    def reasons(self) -> list[str]:
        return [REASONS.get(r, r) for r in self.health.reasons] if self.health else []


def account_page(
    container: Container,
    account_id: UUID,
    invoices_cursor: str | None,
    invoice_status: DisplayStatus | None = None,
) -> AccountPage | None:
    now = container.deps.clock.now()
    key = container.settings.cursor_secret.encode()
    with container.connection() as conn:
        account = get_account(conn, account_id)
        if account is None:
            return None
        health = get_health(conn, account_id, now)
        facts = payment_facts(conn, account_id)
        reconciliation = get_reconciliation(conn, account_id)
        filters = InvoiceFilters(status=invoice_status)
        invoices = list_invoices(
            conn, account_id, key, now, filters, INVOICES_PER_PAGE, invoices_cursor
        )
    return AccountPage(account, health, invoices, facts, reconciliation)
