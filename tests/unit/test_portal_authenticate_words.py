"""The 3-D Secure outcome in the customer's words (adapters/http/portal/authenticate_words):
paid (a bad debt lifted, or not yet wholly), not confirmed with what happens next for each
kind of invoice, and still waiting; never a decline code."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from adapters.http.portal.authenticate_words import outcome_in_words
from commands.authentication import PaymentState
from ledger.invoices import InvoiceStatus
from ledger.money import Money
from ledger.payments import AttemptStatus

PAID = PaymentState(
    attempt_id="att-1",
    status=AttemptStatus.SUCCEEDED,
    invoice_id="inv-1",
    invoice_number="ABC-0002",
    invoice_status=InvoiceStatus.PAID,
    amount=Money(2000, "USD"),
    paid_at=datetime(2026, 3, 4, 12, tzinfo=UTC),
    was_uncollectible=False,
    bad_debt=False,
)


def test_a_paid_renewal_says_when_and_how_much() -> None:
    said = outcome_in_words(PAID)
    assert (said.heading, said.tone, said.waiting) == (
        "Thank you: your payment is confirmed",
        "good",
        False,
    )
    assert said.lines == ["Invoice ABC-0002 is paid: 20.00 USD on 4 March 2026."]


def test_a_paid_bad_debt_says_whether_anything_is_still_unpaid() -> None:
    lifted = outcome_in_words(replace(PAID, was_uncollectible=True))
    assert lifted.lines[-1] == (
        "Nothing is unpaid any more: your subscriptions continue and you can buy again."
    )
    still = outcome_in_words(replace(PAID, was_uncollectible=True, bad_debt=True))
    assert still.lines[-1].startswith("Other invoices are still unpaid")


@pytest.mark.parametrize(
    ("invoice_status", "next_step"),
    [
        (InvoiceStatus.OPEN, "Invoice ABC-0002 (20.00 USD) is still unpaid. We will try"),
        (InvoiceStatus.UNCOLLECTIBLE, "Invoice ABC-0002 (20.00 USD) is still unpaid. Pay it"),
        (InvoiceStatus.VOID, "The purchase was not made: invoice ABC-0002 is cancelled"),
        (InvoiceStatus.PAID, "Invoice ABC-0002 is paid already."),
    ],
)
def test_a_failed_authentication_says_nothing_was_charged_and_what_comes_next(
    invoice_status: InvoiceStatus, next_step: str
) -> None:
    failed = replace(PAID, status=AttemptStatus.FAILED, invoice_status=invoice_status)
    said = outcome_in_words(failed)
    assert (said.heading, said.tone) == ("Your bank did not confirm the payment", "bad")
    assert said.lines[0] == "Nothing was charged."
    assert said.lines[1].startswith(next_step)
    assert "failure" not in " ".join(said.lines)  # no decline code


def test_a_payment_still_waiting_offers_to_authenticate_again() -> None:
    waiting = replace(PAID, status=AttemptStatus.REQUIRES_ACTION, invoice_number=None)
    said = outcome_in_words(waiting)
    assert (said.tone, said.waiting) == ("warn", True)
    assert said.lines == [
        "The payment of 20.00 USD for the invoice still waits for you to authenticate it."
        " Nothing was charged yet."
    ]


def test_a_failed_on_session_purchase_says_what_was_not_made() -> None:
    void = replace(PAID, status=AttemptStatus.FAILED, invoice_status=InvoiceStatus.VOID)
    plan = outcome_in_words(replace(void, purchase="plan")).lines[1]
    assert (
        plan
        == "Your plan was not changed: invoice ABC-0002 is cancelled and nothing is owed for it."
    )
    started = outcome_in_words(replace(void, purchase="subscribe")).lines[1]
    assert started.startswith("The subscription was not started: invoice ABC-0002 is cancelled")
