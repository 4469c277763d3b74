"""Payment methods (/billing/payment-methods): the account's methods (brand, last four,
expiry, PayPal email, which is the default), make one the default, remove one (after a
confirmation; refused while it is needed, with the domain's reason in words), and the way
to add one (the payment page), and how the subscriptions are paid with the default (the
collection path) and the rules that change it. The actions run the customer routes `set_default` and
`remove` for the session's account; each form carries its own idempotency key."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from adapters.bootstrap import Container
from adapters.http.browser.sessions import BrowserSession
from adapters.http.common import wait_for
from adapters.http.portal.access import Posted, SignedIn
from adapters.http.portal.acting import as_customer
from adapters.http.portal.collection_words import paid_how
from adapters.http.portal.pages import PortalRefused, Version, render
from adapters.http.portal.words import BY_KIND, WORDS
from adapters.http.routers.billing import BillingWritten, Body, EntityId
from adapters.http.routers.payment_flow import SessionBody, SessionStarted
from ledger.account import PAYPAL_DAYS_UNTIL_DUE
from ledger.errors import ErrorKind
from ledger.methods import MethodNeeded
from queries.account_detail import (
    AccountDetailView,
    MethodView,
    account_detail,
    after_removing,
    needed_for_renewals,
)

router = APIRouter()
ADD_PATH = "/billing/payment-methods/new"  # choose card or PayPal, then the payment page
DONE = {
    "added": "Your payment method was added.",
    "default": "Your default payment method was changed.",
    "removed": "The payment method was removed.",
}
Key = Annotated[str, Form(min_length=1, max_length=200)]


def detail_of(container: Container, account_id: UUID, min_version: int | None) -> AccountDetailView:
    """The account's detail, once it has applied the write that led here (bounded)."""
    with container.connection() as conn:
        wait_for(conn, "account_detail", account_id, min_version)
        detail = account_detail(conn, account_id, container.deps.clock.now())
    if detail is None:
        raise PortalRefused(404, *BY_KIND[ErrorKind.NOT_FOUND])
    return detail


def shown(detail: AccountDetailView) -> list[MethodView]:
    """The methods a customer still has (a removed one is gone from their list)."""
    return [m for m in detail.methods if m.state != "removed"]


def one_method(detail: AccountDetailView, session: BrowserSession, method_id: str) -> MethodView:
    """The account's method, or the 404 page `/v1` would answer (another account's id)."""
    found = next((m for m in shown(detail) if m.method_id == method_id), None)
    if found is None:
        heading, text = BY_KIND[ErrorKind.NOT_FOUND]
        raise PortalRefused(404, heading, text, session=session)
    return found


@router.get("/payment-methods", name="portal_methods")
def methods(
    request: Request, session: SignedIn, v: Version = None, done: str | None = None
) -> HTMLResponse:
    account = as_customer(request, session, "get_own_account")
    detail = detail_of(request.app.state.container, account.account_id, v)
    return render(
        request,
        "methods.html",
        session,
        account=account,
        methods=shown(detail),
        paid=paid_how(detail.collection_path, detail.default_method),
        renewing=detail.renewing,
        days_until_due=PAYPAL_DAYS_UNTIL_DUE,
        add_path=ADD_PATH,
        done=DONE.get(done or ""),
        new_key=lambda: str(uuid4()),
    )


@router.get("/payment-methods/{method_id}/remove", name="portal_remove_method")
def confirm_removal(request: Request, session: SignedIn, method_id: EntityId) -> HTMLResponse:
    account = as_customer(request, session, "get_own_account")
    detail = detail_of(request.app.state.container, account.account_id, None)
    method = one_method(detail, session, method_id)
    successor, path = after_removing(detail, method_id)
    return render(
        request,
        "remove_method.html",
        session,
        account=account,
        method=method,
        successor=successor,
        needed=needed_for_renewals(detail, method_id),
        needed_words=WORDS[MethodNeeded.code],
        paid_after=paid_how(path, successor) if method.default and detail.renewing else None,
        key=uuid4(),
    )


@router.post("/payment-methods/{method_id}/default", name="portal_make_default")
def make_default(
    request: Request, session: Posted, method_id: EntityId, key: Key
) -> RedirectResponse:
    written: BillingWritten = as_customer(
        request, session, "set_default", key=key, method_id=method_id, body=Body()
    )
    return _back(request, written, "default")


@router.post("/payment-methods/{method_id}/remove", name="portal_remove_method_confirmed")
def remove(request: Request, session: Posted, method_id: EntityId, key: Key) -> RedirectResponse:
    written: BillingWritten = as_customer(
        request, session, "remove", key=key, method_id=method_id, body=Body()
    )
    return _back(request, written, "removed")


def _back(request: Request, written: BillingWritten, done: str) -> RedirectResponse:
    to = request.url_for("portal_methods").include_query_params(v=written.version, done=done)
    return RedirectResponse(to, status_code=303)


@router.get("/payment-methods/new", name="portal_add_method")
def choose_kind(request: Request, session: SignedIn) -> HTMLResponse:
    account = as_customer(request, session, "get_own_account")
    return render(
        request, "add_method.html", session, account=account, days_until_due=PAYPAL_DAYS_UNTIL_DUE
    )


@router.post("/payment-methods/new", name="portal_add_method_started")
def start_adding(
    request: Request, session: Posted, method: Annotated[Literal["card", "paypal"], Form()]
) -> RedirectResponse:
    """Starts a payment session as the customer route `start` does and sends the browser to
    its payment page, which comes back to the payment methods list."""
    settings = request.app.state.container.settings
    listed = request.url_for("portal_methods").include_query_params(done="added")
    back = settings.console_url.rstrip("/") + listed.path + "?" + listed.query
    body = SessionBody(method=method, return_url=back)
    started: SessionStarted = as_customer(request, session, "start", body=body)
    if started.page_url is None:  # asked with a return_url, the route always makes one
        raise PortalRefused(503, "The payment page is not available", "Nothing was saved.")
    return RedirectResponse(started.page_url, status_code=303)
