"""What a refused customer action says, in a customer's words: no internal codes, no
processor decline codes. `WORDS` is looked up by the error's code (add a line for a
refusal a page can meet); anything else is worded by its kind."""

from __future__ import annotations

from adapters.http.problems import status_of
from ledger.errors import DomainError, ErrorKind

Words = tuple[str, str]  # heading, text

WORDS: dict[str, Words] = {
    "account_closed": ("This account is closed", "A closed account can no longer be changed."),
    "payment_method_not_usable": (
        "This payment method cannot be used",
        "It has expired, was revoked, or was removed.",
    ),
    "payment_method_needed": (
        "This payment method is still needed",
        "It is the only payment method for a subscription that renews. Add another payment"
        " method first, or cancel the subscription. Nothing was changed.",
    ),
    "payment_attempt_in_flight": (
        "A payment is in progress",
        "A payment with this method is being processed right now. Try again in a few minutes.",
    ),
    "nothing_to_change": ("Nothing to change", "It is already so."),
    "payment_not_waiting": (
        "No payment is waiting for you",
        "This invoice has no payment waiting for your bank's confirmation: it may be paid"
        " already, or the wait has ended. Your invoices say where each one stands.",
    ),
    "bad_debt_blocked": (
        "Please settle your unpaid invoices first",
        "New purchases are paused while invoices are unpaid.",
    ),
}

BY_KIND: dict[ErrorKind, Words] = {
    ErrorKind.NOT_FOUND: ("Not found", "There is no such page for your account."),
    ErrorKind.DECLINED: (
        "The payment was declined",
        "Your bank or card issuer declined it; nothing was charged. Try another payment"
        " method, or contact your bank.",
    ),
    ErrorKind.UNAVAILABLE: (
        "Please try again in a moment",
        "We could not reach a service we need; nothing was changed.",
    ),
}
NOTHING_CHANGED = "Nothing was changed."


def in_words(error: DomainError) -> tuple[int, str, str]:
    """(status, heading, text) for the customer's page."""
    heading, text = WORDS.get(error.code) or BY_KIND.get(error.kind) or _said(error)
    return status_of(error), heading, text


def _said(error: DomainError) -> Words:
    """The domain's own reason (a sentence written for the API's callers), which says why
    without codes."""
    reason = error.detail.rstrip(".")
    return "This could not be done", f"{reason[:1].upper()}{reason[1:]}. {NOTHING_CHANGED}"
