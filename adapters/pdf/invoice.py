"""An invoice as a PDF (fpdf2), laid out from an `InvoiceDocument` (adapters/pdf/document.py):
the seller, the billing details as issued, one statement of the invoice's state, its items,
the amount that matters in that state, and the payments of the reader's copy.

Fonts are shipped (adapters/pdf/fonts.py): names and addresses in any script print as
written, Arabic shaped and right to left.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from adapters.pdf.document import (
    BilledTo,
    Copy,
    Entry,
    InvoiceDocument,
    Seller,
    customer_entries,
    document_text,
    format_money,
    headline_amount,
    moment,
    state_line,
    support_entries,
)
from adapters.pdf.fonts import FAMILY, use_fonts
from ledger.invoices import DisplayStatus

__all__ = ["format_money", "invoice_pdf"]

_SETTLED = (DisplayStatus.PAID, DisplayStatus.RECOVERED)
_ENDED = (DisplayStatus.VOID, DisplayStatus.WRITTEN_OFF, DisplayStatus.UNCOLLECTIBLE)
_GREEN, _RED, _GREY, _BLACK = (20, 110, 50), (170, 30, 30), (90, 90, 90), (0, 0, 0)


def invoice_pdf(doc: InvoiceDocument, cjk_font: Path | None = None) -> bytes:
    pdf = FPDF(format="A4")
    use_fonts(pdf, document_text(doc), cjk_font)
    pdf.set_title(f"Invoice {doc.invoice.number or doc.invoice.invoice_id}")
    pdf.set_creator("billing-ledger")
    pdf.add_page()
    _header(pdf, doc)
    _parties(pdf, doc.seller, doc.billed_to)
    _lines(pdf, doc)
    _amounts(pdf, doc)
    _payments(pdf, doc)
    if doc.copy is Copy.SUPPORT:
        _timeline(pdf, doc)
    return bytes(pdf.output())


def _font(pdf: FPDF, size: float, bold: bool = False) -> None:
    """Selects the font even when fpdf2 believes it is current: after text that ended in a
    fallback font (a name in CJK or Arabic script), fpdf2 2.8 would otherwise write the next
    text's glyphs under the fallback font."""
    pdf.font_family = ""
    pdf.set_font(FAMILY, "B" if bold else "", size)


def _line(pdf: FPDF, text: str, size: float = 10, bold: bool = False, h: float = 5.5) -> None:
    _font(pdf, size, bold)
    pdf.cell(0, h, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _row(pdf: FPDF, label: str, value: str, bold: bool = False) -> None:
    _font(pdf, 10, bold)
    pdf.cell(55, 6, label)
    pdf.cell(0, 6, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _heading(pdf: FPDF, title: str) -> None:
    pdf.ln(4)
    _line(pdf, title, size=12, bold=True, h=8)


def _header(pdf: FPDF, doc: InvoiceDocument) -> None:
    inv = doc.invoice
    _line(pdf, f"Invoice {inv.number or '(draft)'}", size=18, bold=True, h=11)
    status = inv.display_status
    pdf.set_text_color(*(_GREEN if status in _SETTLED else _RED if status in _ENDED else _BLACK))
    _line(pdf, state_line(doc), size=12, bold=True, h=8)
    pdf.set_text_color(*_BLACK)
    _row(pdf, "Issued", moment(inv.finalized_at))
    if doc.copy is Copy.SUPPORT:
        _row(pdf, "Invoice id", inv.invoice_id)
        pdf.set_text_color(*_GREY)
        _line(pdf, "Support copy: every payment attempt and the status history", size=9)
        pdf.set_text_color(*_BLACK)


def _parties(pdf: FPDF, seller: Seller, billed: BilledTo) -> None:
    top, half = pdf.get_y() + 4, (pdf.w - pdf.l_margin - pdf.r_margin) / 2
    pdf.set_y(top)
    _block(pdf, "From", [seller.legal_name, *seller.address, f"Tax id: {seller.tax_id}"], 0)
    left_end = pdf.get_y()
    pdf.set_y(top)
    billed_lines = [billed.name, billed.email, f"Country: {billed.country}"]
    if billed.tax_id:
        billed_lines.append(f"Tax id: {billed.tax_id}")
    _block(pdf, "Billed to", billed_lines, half)
    pdf.set_y(max(left_end, pdf.get_y()))


def _block(pdf: FPDF, title: str, lines: list[str], offset: float) -> None:
    width = (pdf.w - pdf.l_margin - pdf.r_margin) / 2 - 4
    pdf.set_x(pdf.l_margin + offset)
    _font(pdf, 11, bold=True)
    pdf.cell(width, 7, title, new_x=XPos.LEFT, new_y=YPos.NEXT)
    for text in lines:
        _font(pdf, 10)
        pdf.multi_cell(width, 5.5, text, align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)


def _lines(pdf: FPDF, doc: InvoiceDocument) -> None:
    _heading(pdf, "Items")
    for line in doc.invoice.lines:
        amount = line["amount"]
        period = ""
        if line.get("period_start") and line.get("period_end"):
            period = f" ({str(line['period_start'])[:10]} to {str(line['period_end'])[:10]})"
        _font(pdf, 10)
        pdf.cell(130, 6, f"{line['description']}{period}")
        money = format_money(int(amount["amount"]), amount["currency"])
        pdf.cell(0, 6, money, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _amounts(pdf: FPDF, doc: InvoiceDocument) -> None:
    inv = doc.invoice
    _heading(pdf, "Summary")
    _row(pdf, "Total", format_money(inv.total, inv.currency))
    if inv.credit_applied:
        _row(pdf, "Credit applied", format_money(-inv.credit_applied, inv.currency))
    headline = headline_amount(doc)
    _row(pdf, headline.label, headline.text, bold=True)


def _payments(pdf: FPDF, doc: InvoiceDocument) -> None:
    support = doc.copy is Copy.SUPPORT
    entries = support_entries(doc) if support else customer_entries(doc)
    if not entries:
        return
    _heading(pdf, "Payment attempts" if support else "Payments and refunds")
    for entry in entries:
        _entry(pdf, entry, support)


def _entry(pdf: FPDF, entry: Entry, support: bool) -> None:
    _font(pdf, 9 if support else 10)
    pdf.cell(38 if support else 28, 6, entry.at)
    pdf.cell(52 if support else 45, 6, entry.what)
    pdf.cell(32, 6, entry.amount, align="R")
    pdf.cell(0, 6, f"  {entry.note}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _timeline(pdf: FPDF, doc: InvoiceDocument) -> None:
    _heading(pdf, "Status history")
    for entry in doc.invoice.timeline:
        _row(pdf, moment(entry.get("at")), str(entry.get("status", "")))
