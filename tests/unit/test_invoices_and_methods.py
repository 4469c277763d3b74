from datetime import UTC, datetime, timedelta

import pytest

from ledger.invoices import (
    DisplayStatus,
    EmptyInvoice,
    InvalidTransition,
    Invoice,
    InvoiceStatus,
    LineItem,
    display_status,
    invoice_number,
)
from ledger.methods import (
    CollectionPath,
    MethodKind,
    MethodState,
    PaymentMethod,
    collection_path,
    default_after_removal,
)
from ledger.money import Money

T0 = datetime(2026, 5, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def draft() -> Invoice:
    line = LineItem("Pro plan, May", Money(2000, "USD"))
    return Invoice("inv-1", "USD", (line,), created_at=T0)


def opened() -> Invoice:
    return draft().finalized("AB12-0001", T0, T0 + 7 * DAY, {"cr-1": 500})


def test_finalizing_freezes_number_due_date_and_credit() -> None:
    inv = opened()
    assert (inv.status, inv.number, inv.amount_due) == (
        InvoiceStatus.OPEN,
        "AB12-0001",
        Money(1500, "USD"),
    )
    assert inv.outstanding == Money(1500, "USD")
    with pytest.raises(EmptyInvoice):
        Invoice("inv-2", "USD", (), created_at=T0).finalized("n", T0, T0, {})


def test_the_lifecycle_keeps_each_transition_time() -> None:
    bad = opened().marked_uncollectible(T0 + 30 * DAY)
    recovered = bad.paid(T0 + 40 * DAY, out_of_band=True)
    assert (recovered.marked_uncollectible_at, recovered.paid_at) == (T0 + 30 * DAY, T0 + 40 * DAY)
    assert recovered.outstanding == Money(0, "USD")
    assert bad.outstanding == Money(1500, "USD")


@pytest.mark.parametrize(
    ("invoice", "transition"),
    [
        (draft(), "paid"),
        (draft(), "marked_uncollectible"),
        (opened().paid(T0), "voided"),
        (opened().paid(T0), "marked_uncollectible"),
        (opened().voided(T0), "paid"),
        (opened().marked_uncollectible(T0), "marked_uncollectible"),
    ],
)
def test_final_and_impossible_transitions_are_refused(invoice: Invoice, transition: str) -> None:
    with pytest.raises(InvalidTransition):
        getattr(invoice, transition)(T0)


def test_display_status_tells_the_whole_story() -> None:
    inv = opened()
    assert display_status(inv, T0 + DAY) is DisplayStatus.OPEN
    assert display_status(inv, T0 + 8 * DAY) is DisplayStatus.PAST_DUE
    assert display_status(inv.paid(T0), T0) is DisplayStatus.PAID
    bad = inv.marked_uncollectible(T0 + 30 * DAY)
    assert display_status(bad, T0 + 31 * DAY) is DisplayStatus.UNCOLLECTIBLE
    assert display_status(bad.paid(T0 + 40 * DAY), T0 + 41 * DAY) is DisplayStatus.RECOVERED
    assert display_status(bad.voided(T0 + 40 * DAY), T0 + 41 * DAY) is DisplayStatus.WRITTEN_OFF
    assert display_status(inv.voided(T0), T0) is DisplayStatus.VOID
    assert invoice_number("AB12", 7) == "AB12-0007"


def card(mid: str, seq: int) -> PaymentMethod:
    return PaymentMethod(mid, MethodKind.CARD, f"pm_{mid}", seq, brand="visa", last4="4242")


def paypal(mid: str, seq: int) -> PaymentMethod:
    return PaymentMethod(mid, MethodKind.PAYPAL, f"bt_{mid}", seq, payer_email="p@example.com")


def test_the_default_method_decides_the_collection_path() -> None:
    methods = {"c": card("c", 1), "p": paypal("p", 2)}
    assert collection_path(methods, "c") is CollectionPath.STRIPE_AUTOMATIC
    assert collection_path(methods, "p") is CollectionPath.PAYPAL_SEND_INVOICE
    revoked = {**methods, "p": methods["p"].with_state(MethodState.REVOKED)}
    assert collection_path(revoked, "p") is CollectionPath.STRIPE_AUTOMATIC
    assert collection_path({}, None) is CollectionPath.STRIPE_AUTOMATIC


def test_removing_the_default_promotes_the_newest_usable_method() -> None:
    methods = {"a": card("a", 1), "b": card("b", 2), "p": paypal("p", 3)}
    assert default_after_removal(methods, "p", "p") == "b"
    assert default_after_removal(methods, "a", "p") == "p"
    assert default_after_removal({"p": paypal("p", 1)}, "p", "p") is None
