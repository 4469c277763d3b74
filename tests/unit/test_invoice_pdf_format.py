"""What the invoice document says in each state, and whose copy lists what."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from fpdf import FPDF
from pypdf import PdfReader

from adapters.http.routers.invoices import copy_for
from adapters.http.surfaces import CUSTOMER, SERVICE, SUPPORT
from adapters.pdf.document import (
    BilledTo,
    Copy,
    InvoiceDocument,
    Seller,
    customer_entries,
    document_text,
    format_money,
    headline_amount,
    method_words,
    state_line,
    support_entries,
)
from adapters.pdf.fonts import use_fonts
from adapters.pdf.invoice import invoice_pdf
from ledger.invoices import DisplayStatus
from queries.account_detail import MethodView
from queries.invoices import InvoiceDetail

T = datetime(2026, 3, 1, tzinfo=UTC)
SELLER = Seller("Ledger Ltd", ("1 Main St", "London"), "GB123456789")
BILLED = BilledTo("王小明", "wang@example.com", "CN", None)


def method(kind: str = "card", **fields: Any) -> MethodView:
    base: dict[str, Any] = dict.fromkeys(MethodView.model_fields)
    base.update(method_id="pm_1", kind=kind, processor_ref="x", default=True, state="active")
    base.update(added_at=T, **fields)
    return MethodView(**base)


CARD = method(brand="visa", last4="4242")


def attempt(status: str, decline: str | None = None, **more: Any) -> dict[str, Any]:
    return {
        "attempt_id": f"at_{status}", "method_id": "pm_1", "processor": "stripe",
        "amount": 2000, "status": status, "started_at": "2026-03-02T10:00:00+00:00",
        "settled_at": "2026-03-02T10:00:01+00:00", "decline_code": decline, "refunds": [],
        "dispute": None, **more,
    }  # fmt: skip


def invoice(status: DisplayStatus, attempts: list[dict[str, Any]], **dates: Any) -> InvoiceDetail:
    return InvoiceDetail(
        invoice_id="in_1", number="INV-0001", status=status.value, display_status=status,
        created_at=T, finalized_at=T, due_at=dates.get("due_at"), paid_at=dates.get("paid_at"),
        marked_uncollectible_at=dates.get("uncollectible_at"), voided_at=dates.get("voided_at"),
        currency="USD", total=2000, credit_applied=0, amount_due=2000, paid_out_of_band=False,
        lines=[{"description": "Pro plan", "amount": {"amount": 2000, "currency": "USD"}}],
        credits_used={}, attempts=attempts, timeline=[{"status": "open", "at": T.isoformat()}],
    )  # fmt: skip


def doc(inv: InvoiceDetail, copy: Copy = Copy.CUSTOMER) -> InvoiceDocument:
    return InvoiceDocument(inv, SELLER, BILLED, {"pm_1": CARD}, copy)


def pdf_text(inv: InvoiceDetail, copy: Copy = Copy.CUSTOMER) -> str:
    return text_of(invoice_pdf(doc(inv, copy)))


def text_of(content: bytes) -> str:
    """The PDF's text; pypdf reads the CJK font's two-byte codes with a NUL between the
    characters, which poppler's pdftotext does not: drop them."""
    pages = PdfReader(io.BytesIO(content)).pages
    return "\n".join(p.extract_text() for p in pages).replace("\x00", "")


FAILED_THEN_PAID = [attempt("failed", "insufficient_funds"), attempt("succeeded")]
PAID_AT = datetime(2026, 3, 2, tzinfo=UTC)
BAD_AT = datetime(2026, 2, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (123456, "USD", "1,234.56 USD"),
        (5, "EUR", "0.05 EUR"),
        (-2000, "USD", "-20.00 USD"),
        (1500, "JPY", "1,500 JPY"),
        (1234567, "KWD", "1,234.567 KWD"),
        (0, "GBP", "0.00 GBP"),
    ],
)
def test_minor_units_are_written_with_the_currency_exponent(
    amount: int, currency: str, text: str
) -> None:
    assert format_money(amount, currency) == text


def test_a_paid_invoice_says_when_and_how_it_was_paid_and_nothing_is_due() -> None:
    paid = doc(invoice(DisplayStatus.PAID, FAILED_THEN_PAID, paid_at=PAID_AT))
    assert state_line(paid) == "Paid on 2026-03-02 with Visa ending 4242"
    assert headline_amount(paid).label == "Amount paid"
    assert headline_amount(paid).text == "20.00 USD"
    text = pdf_text(paid.invoice)
    assert "Amount due" not in text
    assert "Amount paid" in text


def test_a_recovered_invoice_says_paid_once_with_the_uncollectible_date() -> None:
    inv = invoice(
        DisplayStatus.RECOVERED, FAILED_THEN_PAID, paid_at=PAID_AT, uncollectible_at=BAD_AT
    )
    assert state_line(doc(inv)) == "Paid on 2026-03-02 (was uncollectible since 2026-02-20)"
    text = pdf_text(inv)
    assert text.count("Paid on") == 1
    assert "Amount due" not in text


def test_an_open_invoice_says_what_is_due_and_by_when() -> None:
    due = datetime(2026, 3, 15, tzinfo=UTC)
    open_ = doc(invoice(DisplayStatus.OPEN, [], due_at=due))
    assert state_line(open_) == "20.00 USD due by 2026-03-15"
    assert (headline_amount(open_).label, headline_amount(open_).text) == (
        "Amount due",
        "20.00 USD",
    )
    late = doc(invoice(DisplayStatus.PAST_DUE, [], due_at=due))
    assert state_line(late) == "Past due: 20.00 USD was due on 2026-03-15"


def test_void_and_uncollectible_invoices_say_so_and_never_paid() -> None:
    void = doc(invoice(DisplayStatus.VOID, [], voided_at=PAID_AT))
    assert state_line(void) == "Void since 2026-03-02: nothing is due"
    assert headline_amount(void).text == "0.00 USD (void)"
    bad = invoice(DisplayStatus.UNCOLLECTIBLE, [attempt("failed", "card_declined")],
                  uncollectible_at=BAD_AT)  # fmt: skip
    assert state_line(doc(bad)) == "Uncollectible since 2026-02-20: 20.00 USD outstanding"
    assert headline_amount(doc(bad)).label == "Amount outstanding"
    assert "Paid" not in pdf_text(bad)
    written_off = doc(
        invoice(DisplayStatus.WRITTEN_OFF, [], voided_at=PAID_AT, uncollectible_at=BAD_AT)
    )
    assert "was uncollectible since 2026-02-20" in state_line(written_off)


def test_methods_are_named_in_words() -> None:
    assert method_words(CARD) == "Visa ending 4242"
    assert method_words(method(brand="amex", last4="0005")) == "American Express ending 0005"
    paypal = method("paypal", payer_email="payer@example.com")
    assert method_words(paypal) == "PayPal payer@example.com"
    assert method_words(None) == "a payment method"


def test_the_customers_copy_lists_payments_and_refunds_not_declined_retries() -> None:
    refunded = attempt("succeeded", refunds=[{"refund_id": "re_1", "amount": 500,
                                              "at": "2026-03-05T00:00:00+00:00"}])  # fmt: skip
    inv = invoice(DisplayStatus.PAID, [attempt("failed", "insufficient_funds"), refunded],
                  paid_at=PAID_AT)  # fmt: skip
    entries = customer_entries(doc(inv))
    assert [(e.what, e.amount, e.note) for e in entries] == [
        ("Payment", "20.00 USD", "Visa ending 4242"),
        ("Refund", "-5.00 USD", "to Visa ending 4242"),
    ]
    text = pdf_text(inv)
    assert "insufficient_funds" not in text
    assert "Payments and refunds" in text


def test_supports_copy_keeps_every_attempt_with_its_decline_code_and_the_history() -> None:
    inv = invoice(DisplayStatus.PAID, FAILED_THEN_PAID, paid_at=PAID_AT)
    entries = support_entries(doc(inv, Copy.SUPPORT))
    assert [e.what for e in entries] == ["Attempt: failed (insufficient_funds)",
                                         "Attempt: succeeded"]  # fmt: skip
    text = pdf_text(inv, Copy.SUPPORT)
    assert "insufficient_funds" in text
    assert "Status history" in text
    assert "Support copy" in text


def test_every_invoice_carries_the_seller_and_the_name_in_its_own_script() -> None:
    text = pdf_text(invoice(DisplayStatus.OPEN, []))
    for part in ("Ledger Ltd", "1 Main St", "London", "GB123456789", "王小明"):
        assert part in text


@pytest.mark.parametrize(
    ("name", "words", "fallbacks"),
    [
        ("Ada Lovelace", ["Ada", "Lovelace"], []),
        ("Γιώργος Παπαδόπουλος", ["Γιώργος", "Παπαδόπουλος"], []),
        ("Иван Петров", ["Иван", "Петров"], []),
        ("山田太郎 やまだ", ["山田太郎", "やまだ"], ["NotoSansCJK"]),
        ("王小明", ["王小明"], ["NotoSansCJK"]),
        ("محمد العلي", ["محمد", "العلي"], ["NotoSansArabic"]),
    ],
)
def test_names_in_any_script_print_as_written(
    name: str, words: list[str], fallbacks: list[str]
) -> None:
    """Shipped fonts, a fallback only where the text needs one; Arabic is shaped right to
    left (pypdf reads its words in visual order, so each word is checked on its own)."""
    billed = BilledTo(name, "x@example.com", "GB", None)
    document = replace(doc(invoice(DisplayStatus.OPEN, [])), billed_to=billed)
    assert use_fonts(FPDF(), document_text(document)) == fallbacks
    text = text_of(invoice_pdf(document))
    for word in words:
        assert word in text
    assert "?" not in text


def test_a_paid_invoice_without_a_card_or_paypal_payment_says_how_it_was_settled() -> None:
    covered = invoice(DisplayStatus.PAID, [], paid_at=PAID_AT).model_copy(
        update={"credit_applied": 2000, "amount_due": 0}
    )
    assert state_line(doc(covered)) == "Paid on 2026-03-02 with account credit"
    outside = invoice(DisplayStatus.PAID, [], paid_at=PAID_AT)
    assert state_line(doc(outside)) == "Paid on 2026-03-02 with a payment outside card and PayPal"


def test_the_surface_decides_whose_copy_a_pdf_route_serves() -> None:
    assert copy_for(CUSTOMER) is Copy.CUSTOMER  # the Dashboard
    assert copy_for(SERVICE) is Copy.CUSTOMER  # the iAPI hands documents to customers
    assert copy_for(SUPPORT) is Copy.SUPPORT  # NinjaPanel
