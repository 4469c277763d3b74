"""An invoice as a PDF for the customer's records (fpdf2), made from the same detail view the
API serves, so the document and the screen never disagree (the display status included).

Text uses the PDF core fonts (Latin-1); characters outside it are shown as '?'.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from ledger.invoices import DisplayStatus
from ledger.money import Money
from queries.accounts import AccountView
from queries.invoices import InvoiceDetail

STATUS_LABELS = {
    DisplayStatus.DRAFT: "Draft",
    DisplayStatus.OPEN: "Open",
    DisplayStatus.PAST_DUE: "Past due",
    DisplayStatus.PAID: "Paid",
    DisplayStatus.UNCOLLECTIBLE: "Uncollectible",
    DisplayStatus.RECOVERED: "Recovered (was uncollectible, then paid)",
    DisplayStatus.VOID: "Void",
    DisplayStatus.WRITTEN_OFF: "Written off (was uncollectible, then voided)",
}


def format_money(amount: int, currency: str) -> str:
    """Minor units as the currency writes them: 123456 USD -> '1,234.56 USD'."""
    return f"{Money(amount, currency).decimal_text(grouping=True)} {currency}"


def status_label(status: DisplayStatus) -> str:
    return STATUS_LABELS[status]


def invoice_pdf(invoice: InvoiceDetail, account: AccountView) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(f"Invoice {invoice.number or invoice.invoice_id}")
    pdf.set_creator("billing-ledger")
    pdf.add_page()
    _header(pdf, invoice)
    _bill_to(pdf, account)
    _dates(pdf, invoice)
    _lines(pdf, invoice)
    _totals(pdf, invoice)
    _payments(pdf, invoice)
    _timeline(pdf, invoice)
    return bytes(pdf.output())


def _text(value: object) -> str:
    return str(value).encode("latin-1", "replace").decode("latin-1")


def _row(pdf: FPDF, label: str, value: str, bold: bool = False) -> None:
    pdf.set_font("Helvetica", "B" if bold else "", 10)
    pdf.cell(55, 6, _text(label))
    pdf.cell(0, 6, _text(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _heading(pdf: FPDF, title: str) -> None:
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, _text(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _when(at: datetime | str | None) -> str:
    if at is None:
        return "-"
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment.utcoffset() is not None else str(moment)


def _header(pdf: FPDF, invoice: InvoiceDetail) -> None:
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(
        0, 12, _text(f"Invoice {invoice.number or '(draft)'}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    _row(pdf, "Status", status_label(invoice.display_status), bold=True)
    _row(pdf, "Invoice id", invoice.invoice_id)


def _bill_to(pdf: FPDF, account: AccountView) -> None:
    _heading(pdf, "Billed to")
    _row(pdf, "Name", account.name)
    _row(pdf, "Email", account.email)
    _row(pdf, "Country", account.country)
    if account.tax_id:
        _row(pdf, "Tax id", account.tax_id)


def _dates(pdf: FPDF, invoice: InvoiceDetail) -> None:
    _heading(pdf, "Dates")
    _row(pdf, "Issued", _when(invoice.finalized_at))
    _row(pdf, "Due", _when(invoice.due_at))
    if invoice.marked_uncollectible_at:
        _row(pdf, "Marked uncollectible", _when(invoice.marked_uncollectible_at))
    if invoice.paid_at:
        _row(
            pdf,
            "Paid",
            _when(invoice.paid_at) + (" (out of band)" if invoice.paid_out_of_band else ""),
        )
    if invoice.voided_at:
        _row(pdf, "Voided", _when(invoice.voided_at))


def _lines(pdf: FPDF, invoice: InvoiceDetail) -> None:
    _heading(pdf, "Items")
    for line in invoice.lines:
        amount = line["amount"]
        period = ""
        if line.get("period_start") and line.get("period_end"):
            period = f" ({str(line['period_start'])[:10]} to {str(line['period_end'])[:10]})"
        pdf.set_font("Helvetica", "", 10)
        pdf.cell(130, 6, _text(f"{line['description']}{period}"))
        money = format_money(int(amount["amount"]), amount["currency"])
        pdf.cell(0, 6, _text(money), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _totals(pdf: FPDF, invoice: InvoiceDetail) -> None:
    _heading(pdf, "Totals")
    _row(pdf, "Total", format_money(invoice.total, invoice.currency))
    for credit_id, amount in invoice.credits_used.items():
        _row(pdf, f"Credit {credit_id[:8]}", format_money(-amount, invoice.currency))
    _row(pdf, "Credit applied", format_money(invoice.credit_applied, invoice.currency))
    _row(pdf, "Amount due", format_money(invoice.amount_due, invoice.currency), bold=True)


def _payments(pdf: FPDF, invoice: InvoiceDetail) -> None:
    if not invoice.attempts:
        return
    _heading(pdf, "Payments")
    for attempt in invoice.attempts:
        _attempt(pdf, attempt, invoice.currency)


def _attempt(pdf: FPDF, attempt: dict[str, Any], currency: str) -> None:
    outcome = attempt["status"]
    if attempt.get("decline_code"):
        outcome += f" ({attempt['decline_code']})"
    summary = (
        f"{_when(attempt['started_at'])}  {attempt['processor']}  "
        f"{format_money(int(attempt['amount']), currency)}  {outcome}"
    )
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, 6, _text(summary), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for refund in attempt.get("refunds", []):
        refunded = format_money(int(refund["amount"]), currency)
        pdf.cell(
            0,
            6,
            _text(f"    refunded {refunded} on {_when(refund['at'])}"),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    if attempt.get("dispute"):
        pdf.cell(
            0,
            6,
            _text(f"    disputed: {attempt['dispute'].get('status', '')}"),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )


def _timeline(pdf: FPDF, invoice: InvoiceDetail) -> None:
    _heading(pdf, "Status history")
    for entry in invoice.timeline:
        _row(pdf, _when(entry.get("at")), str(entry.get("status", "")))
