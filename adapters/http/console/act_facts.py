"""What the actions' forms offer and their pages name: an account's invoices (by display
status), its payment methods and its credits; amounts as a person types them."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from uuid import UUID

from adapters.bootstrap import Container
from adapters.http.console.acting import Unclear
from adapters.pdf.invoice import format_money
from commands.base import load_account
from ledger.credits import Credit
from ledger.invoices import DisplayStatus
from ledger.iso import minor_unit_exponent
from ledger.methods import MethodKind, PaymentMethod
from queries.invoices import InvoiceFilters, InvoiceSummary, list_invoices
from queries.payment_facts import MethodFact, payment_facts

LISTED = 100  # the most invoices a form lists


def invoices_of(
    container: Container, account_id: UUID, *statuses: DisplayStatus
) -> list[InvoiceSummary]:
    """The account's newest invoices of these display statuses (all when none given)."""
    key = container.settings.cursor_secret.encode()
    now = container.deps.clock.now()
    found: list[InvoiceSummary] = []
    with container.connection() as conn:
        for status in statuses or (None,):
            filters = InvoiceFilters(status=status)
            found += list_invoices(conn, account_id, key, now, filters, LISTED).items
    return sorted(found, key=lambda i: i.finalized_at or i.created_at)


def methods_of(container: Container, account_id: UUID) -> list[MethodFact]:
    with container.connection() as conn:
        facts = payment_facts(conn, account_id)
    return list(facts.methods) if facts else []


def invoice_words(invoice: InvoiceSummary) -> str:
    """ "invoice INV-0002 (20.00 USD)"."""
    name = invoice.number or invoice.invoice_id
    return f"invoice {name} ({format_money(invoice.amount_due, invoice.currency)})"


def method_labels(container: Container, account_id: UUID) -> dict[str, str]:
    """Each method as a person knows it ("visa ending 4242, expires 12/2030", "PayPal
    payer@example.com"), read from the account itself (the aggregate the command will check),
    not the account_detail read model, which may lag the store by a moment."""
    account = load_account(container.deps.app, account_id)
    return {m.method_id: method_label(m) for m in account.methods.values()}


def method_label(method: PaymentMethod) -> str:
    if method.kind is MethodKind.PAYPAL:
        return f"PayPal {method.payer_email or method.billing_agreement_id or method.method_id}"
    card = f"{method.brand or 'card'} ending {method.last4 or '????'}"
    if method.exp_month and method.exp_year:
        return f"{card}, expires {method.exp_month:02d}/{method.exp_year}"
    return card


def method_words(method_id: str | None, methods: list[MethodFact], labels: dict[str, str]) -> str:
    """The method a charge will use, in words: the one chosen, else the default."""
    if method_id is None:
        default = next((m for m in methods if m.default), None)
        if default is None:
            return "the default payment method (the account has none: the charge will fail)"
        return f"the default payment method ({labels.get(default.method_id, default.method_id)})"
    chosen = next((m for m in methods if m.method_id == method_id), None)
    label = labels.get(method_id, f"payment method {method_id}")
    return f"{label}{' (the default)' if chosen and chosen.default else ''}"


def credits_of(container: Container, account_id: UUID) -> list[Credit]:
    """The account's credits, newest first, read from the account itself (the aggregate
    RevokeCredit will check), not the account_detail read model, which may lag a moment."""
    account = load_account(container.deps.app, account_id)
    return sorted(account.credits.values(), key=lambda c: c.granted_at, reverse=True)


def minor_units(text: str, currency: str) -> int:
    """ "12.50" in USD -> 1250; refuses what the currency cannot hold ("12.505" USD, "1.5" JPY)."""
    try:
        amount = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        raise Unclear(f"The amount {text!r} is not a number (e.g. 12.50).") from None
    units = amount.scaleb(minor_unit_exponent(currency))
    if not amount.is_finite() or units != units.to_integral_value():
        raise Unclear(f"{text} {currency} is not an amount {currency} can hold.")
    return int(units)
