"""The invoices fold, pure: domain events as public envelopes, folded into one account's rows."""

from __future__ import annotations

from typing import Any

from ledger.envelope import envelope_of
from ledger.invoices import DisplayStatus
from ledger.money import Money
from ledger.payments import AttemptPurpose
from projections.base import fold_all
from projections.invoices import AccountInvoices, InvoiceRow, InvoicesProjection
from queries.invoices import shown_status
from tests.unit.given import (
    at,
    attempt,
    card,
    failed,
    history,
    meta,
    subscribed,
    succeeded,
    uncollectible,
)

INVOICE = "inv-sub-1"


def folded(*steps: Any) -> AccountInvoices:
    envelopes = [envelope_of(e, i + 1) for i, e in enumerate(history(*steps))]
    [state] = fold_all(InvoicesProjection(), envelopes).values()
    assert state is not None
    return state


def statuses(row: InvoiceRow) -> list[str]:
    return [t["status"] for t in row.detail["timeline"]]


def test_a_subscription_invoice_is_drafted_then_finalized() -> None:
    row = folded(card(default=True), subscribed()).invoices[INVOICE]
    assert (row.status, row.total, row.credit_applied, row.amount_due) == ("open", 3000, 0, 3000)
    assert row.number is not None
    assert row.finalized_at == at()
    assert statuses(row) == ["draft", "open"]
    assert [line["amount"]["amount"] for line in row.detail["lines"]] == [3000]


def test_the_stream_version_that_issued_an_invoice_is_kept_for_its_document() -> None:
    """The PDF loads the account at this version: the billing details as issued."""
    steps = (card(default=True), subscribed())
    envelopes = [envelope_of(e, i + 1) for i, e in enumerate(history(*steps))]
    [issuing] = [e for e in envelopes if e.event_type == "InvoiceFinalized"]
    row = folded(*steps).invoices[INVOICE]
    assert row.detail["finalized_version"] == issuing.stream_version


def test_attempts_refunds_and_a_dispute_are_kept_in_the_detail() -> None:
    def money_back(a: Any) -> None:
        a.refund("a-2", "r-1", Money(500, "GBP"), meta(at(days=2)))
        a.open_dispute("a-2", "dp-1", Money(1000, "GBP"), meta(at(days=3)))
        a.close_dispute("a-2", True, meta(at(days=4)))

    row = folded(
        card(default=True),
        subscribed(),
        attempt("a-1", when=at(hours=1)),
        failed("a-1", "card_declined", when=at(hours=1)),
        attempt("a-2", when=at(days=1)),
        succeeded("a-2", when=at(days=1)),
        money_back,
    ).invoices[INVOICE]
    first, second = row.detail["attempts"]
    assert (first["status"], first["decline_code"], first["failure"]) == (
        "failed",
        "card_declined",
        "soft",
    )
    assert (second["status"], second["processor_payment_id"]) == ("succeeded", "pay_a-2")
    assert [r["amount"] for r in second["refunds"]] == [500]
    assert (second["dispute"]["status"], second["dispute"]["amount"]) == ("won", 1000)
    assert (row.status, row.paid_at, row.paid_out_of_band) == ("paid", at(days=1), False)
    assert statuses(row) == ["draft", "open", "paid"]


def test_a_recovered_bad_debt_keeps_both_dates() -> None:
    row = folded(
        card(default=True),
        subscribed(),
        uncollectible(when=at(days=20)),
        attempt("a-9", purpose=AttemptPurpose.BAD_DEBT, when=at(days=30)),
        succeeded("a-9", when=at(days=30)),
    ).invoices[INVOICE]
    assert (row.marked_uncollectible_at, row.paid_at) == (at(days=20), at(days=30))
    assert statuses(row) == ["draft", "open", "uncollectible", "paid"]
    fields = {n: getattr(row, n) for n in InvoiceRow.__dataclass_fields__}
    assert shown_status(fields, at(days=40)) is DisplayStatus.RECOVERED


def test_other_events_leave_the_invoices_unchanged() -> None:
    envelopes = [envelope_of(e, i + 1) for i, e in enumerate(history(card(), subscribed()))]
    projection = InvoicesProjection()
    state = projection.fold(None, envelopes[0])  # AccountOpened
    assert state == AccountInvoices({})
    before = fold_all(projection, envelopes)
    extra = envelope_of(history(card("card-2"))[-1], 99)
    [after] = [projection.fold(s, extra) for s in before.values()]
    assert after == next(iter(before.values()))
