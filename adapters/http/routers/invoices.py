"""Invoice history (scope `accounts:read`): a page of invoices, one invoice, its PDF. On the
customer surface only the customer's own account (adapters/http/surface.py)."""

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Query, Response

from adapters.bootstrap import Container
from adapters.http.common import Instant, MinVersion, ordered, wait_for
from adapters.http.invoice_document import invoice_document
from adapters.http.surface import Call, Feature, HttpSurface, Route
from adapters.pdf.document import Copy
from adapters.pdf.invoice import invoice_pdf
from commands.models import MethodId
from ledger.invoices import DisplayStatus, InvoiceNotFound
from ledger.meta import Surface
from queries.invoices import (
    DateRange,
    InvoiceDetail,
    InvoiceFilters,
    InvoicePage,
    get_invoice,
    list_invoices,
)

READ = "accounts:read"
InvoiceId = MethodId  # the commands' type for an invoice id
When = Annotated[
    Instant | None, Query(description="ISO 8601 date and time; without an offset, UTC")
]


def invoice_filters(
    status: DisplayStatus | None = None,
    issued_from: When = None,
    issued_to: When = None,
    due_from: When = None,
    due_to: When = None,
    paid_from: When = None,
    paid_to: When = None,
) -> InvoiceFilters:
    """Date ranges are [from, to): from inclusive, to exclusive; from after to is a 422."""
    ordered("issued_from", issued_from, "issued_to", issued_to)
    ordered("due_from", due_from, "due_to", due_to)
    ordered("paid_from", paid_from, "paid_to", paid_to)
    return InvoiceFilters(
        status=status,
        issued=DateRange(start=issued_from, end=issued_to),
        due=DateRange(start=due_from, end=due_to),
        paid=DateRange(start=paid_from, end=paid_to),
    )


Filters = Annotated[InvoiceFilters, Depends(invoice_filters)]
WhoseCopy = Annotated[
    Copy,
    Query(description="support's copy (every attempt), or the customer's, to see what they see"),
]
Size = Annotated[int, Query(ge=1, le=100)]
PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "the invoice as a PDF"}
}


def _page(
    c: Container,
    account_id: UUID,
    f: InvoiceFilters,
    size: int,
    cursor: str | None,
    min_version: int | None,
) -> InvoicePage:
    key, now = c.settings.cursor_secret.encode(), c.deps.clock.now()
    with c.connection() as conn:
        wait_for(conn, "invoices", account_id, min_version)
        return list_invoices(conn, account_id, key, now, f, size, cursor)


def _detail(
    c: Container, account_id: UUID, invoice_id: str, min_version: int | None = None
) -> InvoiceDetail:
    with c.connection() as conn:
        wait_for(conn, "invoices", account_id, min_version)
        found = get_invoice(conn, account_id, invoice_id, c.deps.clock.now())
    if found is None:
        raise InvoiceNotFound()
    return found


def pdf_response(
    c: Container, account_id: UUID, invoice_id: str, min_version: int | None, copy: Copy
) -> Response:
    """The invoice as a document: the customer's copy (payments and refunds) or support's
    (every attempt, decline codes, status history)."""
    invoice = _detail(c, account_id, invoice_id, min_version)
    document = invoice_document(c, account_id, invoice, copy)
    return Response(
        invoice_pdf(document, c.settings.pdf_cjk_font),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="invoice-{invoice.number}.pdf"'},
    )


def copy_for(s: HttpSurface) -> Copy:
    """NinjaPanel (support) reads support's copy; the Dashboard and the iAPI, which hand the
    document to the customer, the customer's."""
    return Copy.SUPPORT if s.surface is Surface.NINJAPANEL else Copy.CUSTOMER


def _list(s: HttpSurface) -> Callable[..., InvoicePage]:
    caller = s.caller(READ)

    def list_page(
        account_id: UUID,
        call: Annotated[Call, Depends(caller)],  # first: who may ask, then filters
        f: Filters,
        limit: Size = 20,
        cursor: str | None = None,
        min_version: MinVersion = None,
    ) -> InvoicePage:
        return _page(call.container, account_id, f, limit, cursor, min_version)

    return list_page


def _one(s: HttpSurface) -> Callable[..., InvoiceDetail]:
    caller = s.caller(READ)

    def detail(
        account_id: UUID,
        invoice_id: InvoiceId,
        call: Call = Depends(caller),
        min_version: MinVersion = None,
    ) -> InvoiceDetail:
        return _detail(call.container, account_id, invoice_id, min_version)

    return detail


def _document(s: HttpSurface) -> Callable[..., Response]:
    caller, copy = s.caller(READ), copy_for(s)

    def pdf(
        account_id: UUID,
        invoice_id: InvoiceId,
        call: Call = Depends(caller),
        min_version: MinVersion = None,
    ) -> Response:
        return pdf_response(call.container, account_id, invoice_id, min_version, copy)

    def support_pdf(
        account_id: UUID,
        invoice_id: InvoiceId,
        call: Call = Depends(caller),
        min_version: MinVersion = None,
        copy: WhoseCopy = Copy.SUPPORT,
    ) -> Response:
        return pdf_response(call.container, account_id, invoice_id, min_version, copy)

    return support_pdf if copy is Copy.SUPPORT else pdf


INV = "/accounts/{account_id}/invoices"
READS = Feature(
    (
        Route(
            "GET",
            INV,
            _list,
            "{surface}_list",
            "List invoices",
            "The account's invoices, newest first, "
            "filtered by status and dates; keyset pages (`cursor`).",
        ),
        Route(
            "GET",
            f"{INV}/{{invoice_id}}",
            _one,
            "{surface}_detail",
            "Get an invoice",
            "Lines, amounts, display status and payment attempts.",
        ),
        Route(
            "GET",
            f"{INV}/{{invoice_id}}/pdf",
            _document,
            "{surface}_pdf",
            "Download an invoice PDF",
            "The invoice as a PDF (never cached): the customer's copy lists payments and "
            "refunds; the support surface's every attempt and the status history.",
            response_class=Response,
            responses=PDF,
        ),
    )
)
