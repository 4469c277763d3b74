"""A payment the customer authenticated (or did not), in their words: paid (and the bad
debt lifted, if it was that), or not confirmed and what happens next. No decline codes:
the customer's bank knows why."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.http.portal.invoice_words import amount
from adapters.http.portal.pages import day
from commands.authentication import PaymentState
from ledger.invoices import InvoiceStatus
from ledger.payments import AttemptStatus

# A failed on-session purchase is rolled back: what did not happen, by its kind.
NOT_MADE = {
    "plan": "Your plan was not changed",
    "subscribe": "The subscription was not started",
}


@dataclass(frozen=True)
class Said:
    heading: str
    lines: list[str]
    tone: str  # good, bad, warn
    waiting: bool = False  # the payment still waits: offer to authenticate again


def outcome_in_words(state: PaymentState) -> Said:
    if state.status is AttemptStatus.SUCCEEDED:
        return Said("Thank you: your payment is confirmed", _paid(state), "good")
    if state.status is AttemptStatus.FAILED:
        lines = ["Nothing was charged.", _unpaid(state)]
        return Said("Your bank did not confirm the payment", lines, "bad")
    still = (
        f"The payment of {_amount(state)} for {_invoice(state)} still waits for you to"
        " authenticate it. Nothing was charged yet."
    )
    return Said("Your bank has not confirmed the payment yet", [still], "warn", waiting=True)


def _paid(state: PaymentState) -> list[str]:
    said = [f"{_sentence_start(state)} is paid: {_amount(state)} on {day(state.paid_at)}."]
    if state.was_uncollectible and state.bad_debt:
        said.append(
            "Other invoices are still unpaid: pay them from the billing overview to resume"
            " your subscriptions."
        )
    elif state.was_uncollectible:
        said.append(
            "Nothing is unpaid any more: your subscriptions continue and you can buy again."
        )
    return said


def _unpaid(state: PaymentState) -> str:
    invoice = _invoice(state)
    if state.invoice_status is InvoiceStatus.VOID:
        undone = NOT_MADE.get(state.purchase or "", "The purchase was not made")
        return f"{undone}: {invoice} is cancelled and nothing is owed for it."
    if state.invoice_status is InvoiceStatus.PAID:
        return f"{_sentence_start(state)} is paid already."
    if state.invoice_status is InvoiceStatus.UNCOLLECTIBLE:
        return (
            f"{_sentence_start(state)} ({_amount(state)}) is still unpaid. Pay it from the"
            " billing overview when you are ready, with this card or another payment method."
        )
    return (
        f"{_sentence_start(state)} ({_amount(state)}) is still unpaid. We will try your payment"
        " method again; you can also add another payment method."
    )


def _invoice(state: PaymentState) -> str:
    return f"invoice {state.invoice_number}" if state.invoice_number else "the invoice"


def _amount(state: PaymentState) -> str:
    return amount(state.amount.amount, state.amount.currency)


def _sentence_start(state: PaymentState) -> str:
    """`_invoice` opening a sentence."""
    text = _invoice(state)
    return text[:1].upper() + text[1:]
