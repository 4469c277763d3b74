"""The customer's invoices (/billing/invoices): the list, filtered by status and by issued,
due and paid days, in keyset pages that keep the filters; one invoice with its lines,
credit, payments and refunds in words (an open one on the send-invoice path: when it will
be collected from PayPal); its PDF. Each runs the customer surface's own
invoice handlers (`customer_list`, `customer_detail`, `customer_pdf`) for the session's
account, so another account's invoice is not found, as on /v1."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from adapters.http.console.account import DATE_FILTERS, InvalidInvoiceFilter, InvoiceQuery
from adapters.http.portal import invoice_words
from adapters.http.portal.access import SignedIn
from adapters.http.portal.acting import as_customer
from adapters.http.portal.collection_words import collected_when
from adapters.http.portal.pages import Version, render
from adapters.http.portal.standing import collection_of, own_account
from queries.invoices import InvoiceDetail, InvoiceFilters, InvoicePage

router = APIRouter()
PER_PAGE = 20
NO_INVOICES = InvoicePage(items=[], next_cursor=None)
Cursor = Annotated[str | None, Query(max_length=500)]
InvoiceId = Annotated[str, Path(min_length=1, max_length=200)]


def invoice_page(
    request: Request,
    session: SignedIn,
    filters: InvoiceFilters,
    cursor: str | None,
    min_version: int | None = None,
) -> InvoicePage:
    page: InvoicePage = as_customer(
        request, session, "customer_list", f=filters, limit=PER_PAGE, cursor=cursor,
        min_version=min_version,
    )  # fmt: skip
    return page


@router.get("/invoices", name="portal_invoices")
def invoices(
    request: Request, session: SignedIn, cursor: Cursor = None, v: Version = None
) -> HTMLResponse:
    """Newest first; a filter that cannot be used is said beside the form, nothing listed.
    `v`: the account's version after a write the list must show (a payment just made)."""
    query, filter_error = InvoiceQuery.of(request.query_params), None
    try:
        page = invoice_page(request, session, query.filters(), cursor, v)
    except InvalidInvoiceFilter as error:
        page, filter_error = NO_INVOICES, str(error)
    return render(
        request,
        "invoices.html",
        session,
        account=own_account(request, session),
        status_code=400 if filter_error else 200,
        page=page,
        cursor=cursor,
        query=query,
        statuses=invoice_words.FILTER_NAMES,
        date_filters=DATE_FILTERS,
        filter_error=filter_error,
        standing=invoice_words.standing,
    )


@router.get("/invoices/{invoice_id}", name="portal_invoice")
def invoice(request: Request, session: SignedIn, invoice_id: InvoiceId) -> HTMLResponse:
    found: InvoiceDetail = as_customer(
        request, session, "customer_detail", invoice_id=invoice_id, min_version=None
    )
    return render(
        request,
        "invoice.html",
        session,
        account=own_account(request, session),
        invoice=found,
        standing=invoice_words.standing(found),
        collected=collected_when(found, *collection_of(request, session)),
        owes=invoice_words.owes(found),
        payments=invoice_words.payments(found),
        lines=invoice_words.lines(found),
    )


@router.get("/invoices/{invoice_id}/pdf", name="portal_invoice_pdf")
def invoice_pdf(request: Request, session: SignedIn, invoice_id: InvoiceId) -> Response:
    """The document the /v1 PDF route answers (never cached: the /billing/ pages are
    no-store)."""
    document: Response = as_customer(
        request, session, "customer_pdf", invoice_id=invoice_id, min_version=None
    )
    return document
