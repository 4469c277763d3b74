"""Paying bad debt in a customer's words, for the billing pages: what each charge did and
whether purchases are possible again; a partial failure says which invoices are still
unpaid and what to do. No decline codes: the customer's bank knows why."""

from __future__ import annotations

from collections.abc import Mapping

from adapters.http.portal.invoice_words import amount
from adapters.http.routers.billing import BadDebtPaid, Payment
from queries.account_detail import MethodView
from queries.invoices import InvoiceSummary


def method_in_words(method: MethodView) -> str:
    """Visa ending in 4242; PayPal (payer@example.com)."""
    if method.kind == "paypal":
        return f"PayPal ({method.payer_email})" if method.payer_email else "PayPal"
    brand = (method.brand or "card").replace("_", " ").title()
    return f"{brand} ending in {method.last4}" if method.last4 else brand


def total_owed(invoices: list[InvoiceSummary]) -> str:
    """The sum of the invoices' amounts due (one currency: the account's)."""
    if not invoices:
        return "nothing"
    return amount(sum(i.amount_due for i in invoices), invoices[0].currency)


def outcome_in_words(paid: BadDebtPaid, invoices: Mapping[str, InvoiceSummary]) -> list[str]:
    """One sentence per invoice charged, then where the account stands."""
    said = [_payment_words(p, invoices.get(p.invoice_id)) for p in paid.payments]
    if not paid.bad_debt:
        said.append("Everything is paid: you can change plans and buy again.")
        return said
    left = [invoices[i] for i in paid.still_uncollectible if i in invoices]
    names = ", ".join(_name(i) for i in left) or ", ".join(paid.still_uncollectible)
    said.append(
        f"Still unpaid: {names} ({total_owed(left)}). Purchases stay paused until it is"
        f" paid: {_what_to_do(paid)}."
    )
    return said


def _what_to_do(paid: BadDebtPaid) -> str:
    statuses = {p.status for p in paid.payments if p.invoice_id in paid.still_uncollectible}
    if "requires_action" in statuses:
        return "confirm the payment your bank asks about"
    if statuses == {"pending"}:
        return "the payment in progress will settle it; nothing more to do now"
    return "try another payment method, or contact your bank"


def _payment_words(payment: Payment, invoice: InvoiceSummary | None) -> str:
    name = _name(invoice) if invoice else f"Invoice {payment.invoice_id}"
    money = f" ({amount(invoice.amount_due, invoice.currency)})" if invoice else ""
    if payment.status == "succeeded":
        return f"{name}{money}: paid."
    if payment.status == "failed":
        return f"{name}{money}: the payment was declined; nothing was charged for it."
    if payment.status == "requires_action":
        return f"{name}{money}: your bank asks you to confirm the payment."
    return (
        f"{name}{money}: the payment is being processed; your invoices show it paid once it"
        " is done."
    )


def _name(invoice: InvoiceSummary) -> str:
    return f"Invoice {invoice.number or invoice.invoice_id}"
