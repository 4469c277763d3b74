"""Invoice history on the three surfaces (scope `accounts:read`). A customer reaches only its
own account's invoices: any other account answers 404, as one that does not exist."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from adapters.bootstrap import Container
from adapters.http.auth import Allow, Principal
from adapters.http.common import Instant, MinVersion, container_of, ordered, owned_by, wait_for
from adapters.pdf.invoice import invoice_pdf
from commands.models import MethodId
from ledger.invoices import DisplayStatus, InvoiceNotFound
from ledger.meta import ActorKind
from queries.accounts import get_account
from queries.invoices import (
    DateRange,
    InvoiceDetail,
    InvoiceFilters,
    InvoicePage,
    get_invoice,
    list_invoices,
)

customer = APIRouter(prefix="/v1/accounts", tags=["customer (Dashboard)"])
service = APIRouter(prefix="/internal/accounts", tags=["service (iAPI)"])
support = APIRouter(prefix="/support/accounts", tags=["support (NinjaPanel)"])

Deps = Annotated[Container, Depends(container_of)]
CustomerReader = Annotated[
    Principal, Depends(owned_by(Allow([ActorKind.CUSTOMER], ["accounts:read"])))
]
ServiceReader = Annotated[Principal, Depends(Allow([ActorKind.SERVICE], ["accounts:read"]))]
SupportReader = Annotated[Principal, Depends(Allow([ActorKind.SUPPORT], ["accounts:read"]))]
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


def _pdf(c: Container, account_id: UUID, invoice_id: str, min_version: int | None) -> Response:
    invoice = _detail(c, account_id, invoice_id, min_version)
    with c.connection() as conn:
        account = get_account(conn, account_id)
    if account is None or invoice.number is None:  # a draft has no document yet
        raise InvoiceNotFound()
    return Response(
        invoice_pdf(invoice, account),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="invoice-{invoice.number}.pdf"'},
    )


@customer.get("/{account_id}/invoices")
def customer_list(
    account_id: UUID,
    who: CustomerReader,
    c: Deps,
    f: Filters,
    limit: Size = 20,
    cursor: str | None = None,
    min_version: MinVersion = None,
) -> InvoicePage:
    return _page(c, account_id, f, limit, cursor, min_version)


@customer.get("/{account_id}/invoices/{invoice_id}")
def customer_detail(
    account_id: UUID,
    invoice_id: InvoiceId,
    who: CustomerReader,
    c: Deps,
    min_version: MinVersion = None,
) -> InvoiceDetail:
    return _detail(c, account_id, invoice_id, min_version)


@customer.get("/{account_id}/invoices/{invoice_id}/pdf", response_class=Response, responses=PDF)
def customer_pdf(
    account_id: UUID,
    invoice_id: InvoiceId,
    who: CustomerReader,
    c: Deps,
    min_version: MinVersion = None,
) -> Response:
    return _pdf(c, account_id, invoice_id, min_version)


@service.get("/{account_id}/invoices")
def service_list(
    account_id: UUID,
    who: ServiceReader,
    c: Deps,
    f: Filters,
    limit: Size = 20,
    cursor: str | None = None,
    min_version: MinVersion = None,
) -> InvoicePage:
    return _page(c, account_id, f, limit, cursor, min_version)


@service.get("/{account_id}/invoices/{invoice_id}")
def service_detail(
    account_id: UUID,
    invoice_id: InvoiceId,
    who: ServiceReader,
    c: Deps,
    min_version: MinVersion = None,
) -> InvoiceDetail:
    return _detail(c, account_id, invoice_id, min_version)


@service.get("/{account_id}/invoices/{invoice_id}/pdf", response_class=Response, responses=PDF)
def service_pdf(
    account_id: UUID,
    invoice_id: InvoiceId,
    who: ServiceReader,
    c: Deps,
    min_version: MinVersion = None,
) -> Response:
    return _pdf(c, account_id, invoice_id, min_version)


@support.get("/{account_id}/invoices")
def support_list(
    account_id: UUID,
    who: SupportReader,
    c: Deps,
    f: Filters,
    limit: Size = 20,
    cursor: str | None = None,
    min_version: MinVersion = None,
) -> InvoicePage:
    return _page(c, account_id, f, limit, cursor, min_version)


@support.get("/{account_id}/invoices/{invoice_id}")
def support_detail(
    account_id: UUID,
    invoice_id: InvoiceId,
    who: SupportReader,
    c: Deps,
    min_version: MinVersion = None,
) -> InvoiceDetail:
    return _detail(c, account_id, invoice_id, min_version)


@support.get("/{account_id}/invoices/{invoice_id}/pdf", response_class=Response, responses=PDF)
def support_pdf(
    account_id: UUID,
    invoice_id: InvoiceId,
    who: SupportReader,
    c: Deps,
    min_version: MinVersion = None,
) -> Response:
    return _pdf(c, account_id, invoice_id, min_version)
