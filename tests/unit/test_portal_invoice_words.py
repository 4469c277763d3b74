"""An invoice in a customer's words: a recovered invoice says Paid once, with both dates;
an open one its amount due and by when; payments and refunds, never a declined retry."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.http.portal.invoice_words import (
    FILTER_NAMES,
    amount,
    day,
    lines,
    owes,
    payments,
    standing,
)
from ledger.invoices import DisplayStatus
from queries.invoices import InvoiceDetail

MAR_3 = datetime(2026, 3, 3, 9, 30, tzinfo=UTC)
APR_9 = datetime(2026, 4, 9, 23, 59, tzinfo=UTC)


def invoice(status: DisplayStatus, **fields: Any) -> InvoiceDetail:
    base: dict[str, Any] = {
        "invoice_id": "inv-1",
        "number": "ABCD-0001",
        "status": "open",
        "display_status": status,
        "created_at": MAR_3,
        "finalized_at": MAR_3,
        "due_at": None,
        "paid_at": None,
        "marked_uncollectible_at": None,
        "voided_at": None,
        "currency": "USD",
        "total": 2000,
        "credit_applied": 0,
        "amount_due": 2000,
        "paid_out_of_band": False,
        "lines": [],
        "credits_used": {},
        "attempts": [],
        "timeline": [],
    }
    return InvoiceDetail(**(base | fields))


def attempt(status: str, amount_: int = 2000, **fields: Any) -> dict[str, Any]:
    return {
        "attempt_id": f"att-{status}",
        "processor": "stripe",
        "amount": amount_,
        "status": status,
        "settled_at": APR_9.isoformat(),
        "decline_code": "insufficient_funds" if status == "failed" else None,
        "refunds": [],
        "dispute": None,
    } | fields


def test_a_recovered_invoice_says_paid_once_with_both_dates() -> None:
    recovered = invoice(DisplayStatus.RECOVERED, paid_at=APR_9, marked_uncollectible_at=MAR_3)
    said = standing(recovered)
    assert said == "Paid on 9 April 2026 (was uncollectible since 3 March 2026)"
    assert said.count("Paid") == 1
    assert not owes(recovered)


def test_a_paid_invoice_says_when() -> None:
    assert standing(invoice(DisplayStatus.PAID, paid_at=MAR_3)) == "Paid on 3 March 2026"


def test_an_open_invoice_says_its_amount_due_and_by_when() -> None:
    by_date = invoice(DisplayStatus.OPEN, due_at=APR_9, amount_due=123456)
    assert standing(by_date) == "Amount due 1,234.56 USD, by 9 April 2026"
    assert standing(invoice(DisplayStatus.OPEN)) == "Amount due 20.00 USD, now"
    assert owes(by_date)


def test_a_yen_amount_has_no_minor_digits() -> None:
    assert amount(2500, "JPY") == "2,500 JPY"
    past = invoice(DisplayStatus.PAST_DUE, currency="JPY", amount_due=2500, due_at=MAR_3)
    assert standing(past) == "Past due: 2,500 JPY was due by 3 March 2026"


@pytest.mark.parametrize(
    ("status", "fields", "said"),
    [
        (
            DisplayStatus.UNCOLLECTIBLE,
            {"marked_uncollectible_at": MAR_3},
            "Unpaid: 20.00 USD, uncollectible since 3 March 2026",
        ),
        (DisplayStatus.VOID, {"voided_at": MAR_3}, "Void since 3 March 2026: nothing is due"),
        (
            DisplayStatus.WRITTEN_OFF,
            {"voided_at": APR_9},
            "Written off on 9 April 2026: nothing is due",
        ),
        (DisplayStatus.DRAFT, {}, "Draft: not issued yet"),
    ],
)
def test_every_other_status_in_one_sentence(
    status: DisplayStatus, fields: dict[str, Any], said: str
) -> None:
    assert standing(invoice(status, **fields)) == said


def test_days_are_utc_days() -> None:
    late = datetime.fromisoformat("2026-04-10T01:30:00+03:00")
    assert (day(late), day(None)) == ("9 April 2026", "\u2014")


def test_payments_list_what_went_through_and_refunds_never_a_declined_retry() -> None:
    paid = invoice(
        DisplayStatus.PAID,
        paid_at=APR_9,
        attempts=[
            attempt("failed"),
            attempt("failed"),
            attempt(
                "succeeded",
                refunds=[{"refund_id": "re-1", "amount": 500, "at": APR_9.isoformat()}],
            ),
        ],
    )
    said = payments(paid)
    assert said == ["Paid 20.00 USD by card on 9 April 2026", "Refunded 5.00 USD on 9 April 2026"]
    assert not any("insufficient" in s or "declin" in s for s in said)


def test_credit_paypal_authentication_and_payments_by_other_means() -> None:
    waiting = invoice(
        DisplayStatus.OPEN,
        credit_applied=500,
        amount_due=1500,
        attempts=[attempt("requires_action", 1500)],
    )
    assert payments(waiting) == [
        "Your credit paid 5.00 USD",
        "A payment of 15.00 USD by card is waiting for you to authenticate it",
    ]
    paypal = invoice(
        DisplayStatus.PAID, paid_at=APR_9, attempts=[attempt("succeeded", processor="braintree")]
    )
    assert payments(paypal) == ["Paid 20.00 USD with PayPal on 9 April 2026"]
    by_hand = invoice(DisplayStatus.RECOVERED, paid_at=APR_9, marked_uncollectible_at=MAR_3)
    assert payments(by_hand) == ["Paid 20.00 USD by other means on 9 April 2026"]
    by_credit = invoice(DisplayStatus.PAID, paid_at=MAR_3, credit_applied=2000, amount_due=0)
    assert payments(by_credit) == ["Your credit paid 20.00 USD"]


def test_a_dispute_says_how_it_stands() -> None:
    dispute = {"amount": 2000, "status": "lost", "opened_at": APR_9.isoformat()}
    paid = invoice(
        DisplayStatus.PAID, paid_at=MAR_3, attempts=[attempt("succeeded", dispute=dispute)]
    )
    assert payments(paid)[-1] == (
        "20.00 USD disputed on 9 April 2026; the dispute was closed in your favour"
    )


def test_a_customer_filters_by_every_status_but_draft() -> None:
    assert set(FILTER_NAMES) == set(DisplayStatus) - {DisplayStatus.DRAFT}
    assert len(set(FILTER_NAMES.values())) == len(FILTER_NAMES)


def test_lines_say_their_period_and_amount() -> None:
    line = {
        "description": "Unused time on Pro (pro-monthly-usd)",
        "amount": {"amount": -1290, "currency": "USD"},
        "period_start": MAR_3.isoformat(),
        "period_end": APR_9.isoformat(),
    }
    plain = {"description": "Setup", "amount": {"amount": 500, "currency": "USD"}}
    assert lines(invoice(DisplayStatus.PAID, lines=[line, plain])) == [
        ("Unused time on Pro (pro-monthly-usd)", "3 March 2026 to 9 April 2026", "-12.90 USD"),
        ("Setup", "", "5.00 USD"),
    ]
