"""Refund part or all of a payment (support route `refund`): the form offers the account's
successful payments with what is left to refund on each; the amount is typed as the
currency writes it (12.50 USD, 1500 JPY); the confirmation compares it with what is left.
More than is left is refused by the ledger, in words, and nothing is refunded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from adapters.bootstrap import Container
from adapters.http.console.acting import Action, Form, Parsed, Unclear, one
from adapters.http.routers.billing import RefundBody
from adapters.pdf.invoice import format_money
from commands.base import load_account
from ledger.iso import minor_unit_exponent
from ledger.payments import AttemptStatus
from queries.accounts import AccountView


@dataclass(frozen=True)
class Refundable:
    """A successful payment and what is left to refund on it."""

    attempt_id: str
    invoice_number: str
    paid_at: datetime | None
    processor: str
    currency: str
    captured: int
    refunded: int
    left: int  # captured, not refunded, not withdrawn by a dispute

    def said(self) -> str:
        paid = format_money(self.captured, self.currency)
        left = format_money(self.left, self.currency)
        return f"{paid} for invoice {self.invoice_number} ({left} left to refund)"


def refundable_payments(container: Container, account_id: UUID) -> list[Refundable]:
    """The account's successful payments, newest first. Read from the account itself: no
    read model keeps what is left to refund, and this is the figure the ledger checks."""
    account = load_account(container.app, account_id)
    payments = [
        Refundable(
            attempt_id=a.attempt_id,
            invoice_number=account.invoices[a.invoice_id].number or a.invoice_id,
            paid_at=a.settled_at,
            processor=a.processor.value,
            currency=a.amount.currency,
            captured=a.amount.amount,
            refunded=a.refunded,
            left=a.refundable.amount,
        )
        for a in account.attempts.values()
        if a.status is AttemptStatus.SUCCEEDED
    ]
    return sorted(payments, key=lambda p: (p.paid_at is None, p.paid_at), reverse=True)


def choices(container: Container, account: AccountView) -> dict[str, Any]:
    return {"payments": refundable_payments(container, account.account_id)}


def minor_units(text: str, currency: str) -> int:
    """'12.50' USD -> 1250; '1500' JPY -> 1500; Unclear (in words) otherwise."""
    exponent = minor_unit_exponent(currency)
    try:
        value = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        raise Unclear(f"Amount: write it as {currency} does, e.g. {_example(exponent)}.") from None
    units = value.scaleb(exponent)
    if not value.is_finite() or units != units.to_integral_value() or units <= 0:
        places = f"at most {exponent} decimal places" if exponent else "no decimal places"
        raise Unclear(f"Amount: more than zero, with {places} in {currency}.")
    return int(units)


def _example(exponent: int) -> str:
    return "12." + "5" * exponent if exponent else "1500"


def parse(form: Form, reason: str) -> Parsed:
    attempt_id = one(form, "attempt_id")
    if not attempt_id:
        raise Unclear("Choose a payment to refund.")
    amount = minor_units(one(form, "amount"), one(form, "currency") or "USD")
    return Parsed(RefundBody(reason=reason, amount=amount), {"attempt_id": attempt_id})


def describe(container: Container, account: AccountView, parsed: Parsed) -> list[str]:
    attempt_id = parsed.path["attempt_id"]
    found = [
        p for p in refundable_payments(container, account.account_id) if p.attempt_id == attempt_id
    ]
    if not found:
        return ["The account has no such successful payment: the ledger will refuse."]
    payment = found[0]
    amount: int = parsed.body.model_dump()["amount"]
    asked = format_money(amount, payment.currency)
    left = format_money(payment.left, payment.currency)
    said = [f"Refund {asked} of the payment of {payment.said()}."]
    if amount > payment.left:
        said.append(
            f"That is more than the {left} left to refund: the ledger will refuse it and"
            " nothing will be refunded."
        )
        return said
    rest = format_money(payment.left - amount, payment.currency)
    return [
        *said,
        f"{payment.processor.title()} is asked to refund it to the customer first; the"
        " ledger records it once the processor has.",
        f"Afterwards {rest} of this payment is left to refund.",
        "A RefundIssued event records who refunded it and why.",
    ]


ACTION = Action(
    slug="refund",
    operation="refund",
    title="Refund a payment",
    parse=parse,
    describe=describe,
    choices=choices,
)
