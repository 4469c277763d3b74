"""Paying bad debt (/billing/pay-bad-debt): the uncollectible invoices, their total and the
method that will be charged, confirmed explicitly; then the customer surface's guarded
`pay_bad_debt` with the confirmation page's idempotency key (a form sent twice charges
once), for exactly the invoices the customer confirmed; then each invoice's outcome in
words, a partial failure saying what is still unpaid and what to do."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from adapters.http.portal import bad_debt_words
from adapters.http.portal.access import Posted, SignedIn
from adapters.http.portal.acting import as_customer
from adapters.http.portal.forms import form_key, new_form_key
from adapters.http.portal.pages import render
from adapters.http.portal.standing import default_method_of, own_account
from adapters.http.routers.billing import BadDebtBody, BadDebtPaid
from ledger.invoices import DisplayStatus
from queries.invoices import InvoiceFilters, InvoicePage, InvoiceSummary

router = APIRouter()
MAX_INVOICES = 100  # the route's own limit on invoice_ids


def uncollectible(request: Request, session: SignedIn) -> list[InvoiceSummary]:
    filters = InvoiceFilters(status=DisplayStatus.UNCOLLECTIBLE)
    page: InvoicePage = as_customer(
        request, session, "customer_list", f=filters, limit=MAX_INVOICES, cursor=None,
        min_version=None,
    )  # fmt: skip
    return list(reversed(page.items))  # oldest first, as they are charged


@router.get("/pay-bad-debt", name="portal_bad_debt")
def confirm(request: Request, session: SignedIn) -> HTMLResponse:
    return _confirmation(request, session)


def _confirmation(
    request: Request, session: SignedIn, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    invoices = uncollectible(request, session)
    return render(
        request,
        "bad_debt.html",
        session,
        account=own_account(request, session),
        status_code=status_code,
        invoices=invoices,
        total=bad_debt_words.total_owed(invoices),
        method=default_method_of(request, session),
        method_name=bad_debt_words.method_in_words,
        key=new_form_key(),
        error=error,
    )


@router.post("/pay-bad-debt", name="portal_bad_debt_pay")
def pay(
    request: Request,
    session: Posted,
    invoice_ids: Annotated[list[str], Form(max_length=MAX_INVOICES)],
    method_id: Annotated[str, Form(min_length=1, max_length=200)],
    key: Annotated[str, Form(max_length=100)] = "",
    confirmed: Annotated[str, Form(max_length=10)] = "",
) -> HTMLResponse:
    """Charges exactly the invoices the page showed, with the method it named."""
    if confirmed != "yes":
        return _confirmation(
            request,
            session,
            "Tick the box to confirm the amount and the payment method; nothing was charged.",
            status_code=400,
        )
    shown = {i: _invoice(request, session, i) for i in invoice_ids}
    paid: BadDebtPaid = as_customer(
        request,
        session,
        "pay_bad_debt",
        form_key(key, session),
        body=BadDebtBody(method_id=method_id, invoice_ids=invoice_ids),
    )
    return render(
        request,
        "bad_debt_done.html",
        session,
        account=own_account(request, session),
        paid=paid,
        said=bad_debt_words.outcome_in_words(paid, shown),
    )


def _invoice(request: Request, session: Posted, invoice_id: str) -> InvoiceSummary:
    """The invoice as the page showed it (its number and amount due do not change)."""
    found: InvoiceSummary = as_customer(
        request, session, "customer_detail", invoice_id=invoice_id, min_version=None
    )
    return found
