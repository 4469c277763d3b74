"""The account page's content (read-only): what the read models say of one account,
through queries/ (accounts, account health and its open payments, the account detail:
subscriptions, methods, credits, disputes and bad debt; invoices; the latest
reconciliation), shaped for the template, with each subscription's plan from the catalogue."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from adapters.bootstrap import Container
from commands.ports import Catalogue
from ledger.invoices import DisplayStatus
from ledger.subscriptions import Plan, PlanNotFound
from queries.account_detail import AccountDetailView, account_detail
from queries.accounts import AccountView, get_account
from queries.health import AccountHealth, get_health
from queries.invoices import DateRange, InvoiceFilters, InvoicePage, list_invoices
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
DATE_FILTERS = {"issued": "Issued", "due": "Due", "paid": "Paid"}
_NO_FILTERS = InvoiceFilters()


class InvalidInvoiceFilter(ValueError):
    """A filter the form sent that cannot be used (a bad date, a range that ends first)."""


@dataclass(frozen=True)
class InvoiceQuery:
    """The invoice filters as the form sends them: a display status and, per date column,
    a first and a last day (UTC, both included); an empty field filters nothing."""

    status: str = ""
    days: dict[str, str] = field(default_factory=dict)  # e.g. "issued_from": "2026-01-31"

    @classmethod
    def of(cls, params: Mapping[str, str]) -> InvoiceQuery:
        names = [f"{n}_{side}" for n in DATE_FILTERS for side in ("from", "to")]
        days = {n: params[n].strip() for n in names if params.get(n, "").strip()}
        return cls(params.get("status", "").strip(), days)

    @property
    def kept(self) -> dict[str, str]:
        """What a page link carries so the next page keeps the same filters."""
        return {**({"status": self.status} if self.status else {}), **self.days}

    def filters(self) -> InvoiceFilters:
        try:
            status = DisplayStatus(self.status) if self.status else None
        except ValueError:
            raise InvalidInvoiceFilter(f"there is no invoice status {self.status!r}") from None
        ranges = {n: self._range(n, label) for n, label in DATE_FILTERS.items()}
        return InvoiceFilters(status=status, **ranges)

    def _range(self, name: str, label: str) -> DateRange:
        start, last = self._day(f"{name}_from", label), self._day(f"{name}_to", label)
        if start and last and last < start:
            raise InvalidInvoiceFilter(f"{label}: the first day is after the last day")
        return DateRange(start=start, end=last + timedelta(days=1) if last else None)

    def _day(self, key: str, label: str) -> datetime | None:
        value = self.days.get(key)
        if value is None:
            return None
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise InvalidInvoiceFilter(f"{label}: {value!r} is not a day (YYYY-MM-DD)") from None
        return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass(frozen=True)
class AccountPage:
    account: AccountView
    health: AccountHealth | None  # None until the health read model has the account
    invoices: InvoicePage
    facts: PaymentFacts | None  # None until the health read model has the account
    reconciliation: ReconciliationView | None  # the latest check; None: never reconciled
    detail: AccountDetailView | None = None  # None until the detail read model has it
    plans: dict[str, Plan] = field(default_factory=dict)  # of its subscriptions, if known

    @property
    def reasons(self) -> list[str]:
        return [REASONS.get(r, r) for r in self.health.reasons] if self.health else []


NO_INVOICES = InvoicePage(items=[], next_cursor=None)


def account_page(
    container: Container,
    account_id: UUID,
    invoices_cursor: str | None,
    filters: InvoiceFilters | None = _NO_FILTERS,
) -> AccountPage | None:
    """`filters` None: the filters could not be used, so no invoice is listed."""
    now = container.deps.clock.now()
    key = container.settings.cursor_secret.encode()
    with container.connection() as conn:
        account = get_account(conn, account_id)
        if account is None:
            return None
        health = get_health(conn, account_id, now)
        facts = payment_facts(conn, account_id)
        detail = account_detail(conn, account_id, now)
        reconciliation = get_reconciliation(conn, account_id)
        invoices = NO_INVOICES
        if filters is not None:
            invoices = list_invoices(
                conn, account_id, key, now, filters, INVOICES_PER_PAGE, invoices_cursor
            )
    plans = plans_of(container.deps.catalogue, detail)
    return AccountPage(account, health, invoices, facts, reconciliation, detail, plans)


def plans_of(catalogue: Catalogue, detail: AccountDetailView | None) -> dict[str, Plan]:
    """The catalogue's plans of these subscriptions (the billing run renews at them); a plan
    the catalogue no longer has is left out, and the page says so."""
    plans: dict[str, Plan] = {}
    for sub in detail.subscriptions if detail else ():
        with suppress(PlanNotFound):
            plans[sub.plan_id] = catalogue.plan(sub.plan_id)
    return plans
