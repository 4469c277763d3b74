"""What the payment page tells the customer after a session that also paid the account's open
invoices: each invoice it could not pay, in words (declined, or still being processed), so
the page does not send them back as if all were settled. No decline codes: the customer's
bank knows why (as on the billing pages)."""

from __future__ import annotations

from commands.checkout import IN_FLIGHT, InvoicePayment
from ledger.account import Account
from ledger.payments import AttemptStatus

SETTLED = {AttemptStatus.SUCCEEDED.value, AttemptStatus.REQUIRES_ACTION.value}


def unpaid_in_words(account: Account, payments: list[InvoicePayment]) -> list[str]:
    """One sentence per invoice the session did not pay (a payment waiting for 3-D Secure is
    the page's to complete, not unpaid); then what to do, when there is any."""
    said = [_sentence(account, p) for p in payments if p.status not in SETTLED]
    if said:
        said.append(
            "You can pay from your billing pages later, with this payment method or another."
        )
    return said


def _sentence(account: Account, payment: InvoicePayment) -> str:
    invoice = account.invoices[payment.invoice_id]
    name = f"Invoice {invoice.number}" if invoice.number else "An invoice"
    due = f"{invoice.amount_due.decimal_text(grouping=True)} {invoice.amount_due.currency}"
    if payment.status in (AttemptStatus.PENDING.value, IN_FLIGHT):
        return f"{name} ({due}): its payment is still being processed."
    return f"{name} ({due}) is still unpaid: the payment was declined."
