"""The console's routes: sign-in by link, sign-out, the home page (search)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from adapters.http.auth import ApiKeys
from adapters.http.common import ContainerDep
from adapters.http.console import actions, fleet, invalid
from adapters.http.console.access import FRONT, SIGN_IN_HINT, Posted, SignedIn, sessions_of
from adapters.http.console.account import (
    DATE_FILTERS,
    InvalidInvoiceFilter,
    InvoiceQuery,
    account_page,
)
from adapters.http.console.history import router as history_router
from adapters.http.console.links import SIGN_IN_PATH, support_principal
from adapters.http.console.pages import STATIC_DIR, ConsoleRefused, refused_page, render
from adapters.http.console.sessions import ConsoleSessions
from adapters.http.routers.invoices import InvoiceId, WhoseCopy, pdf_response
from adapters.pdf.document import Copy
from adapters.postgres.console_links import PostgresConsoleLinks
from adapters.settings import Settings
from ledger.invoices import DisplayStatus
from queries.invoices import InvalidCursor, InvoiceFilters
from queries.search import search_accounts

PREFIX = "/console"
router = APIRouter(prefix=PREFIX, include_in_schema=False)
router.include_router(history_router)
router.include_router(actions.router)


def install(app: FastAPI, settings: Settings) -> None:
    app.state.console_sessions = ConsoleSessions.from_settings(settings)
    app.state.console_secure_cookies = settings.console_secure_cookies
    app.add_exception_handler(ConsoleRefused, refused_page)
    app.include_router(router)
    app.include_router(fleet.router, prefix=PREFIX)
    invalid.install(app, PREFIX)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC_DIR), name="console_static")


@router.get(SIGN_IN_PATH.removeprefix(PREFIX), name="console_sign_in")
def sign_in(request: Request, token: str = "") -> Response:
    """Uses the link (once) and starts a session; the token leaves the address bar at once
    (a redirect), and the page sends no referrer."""
    container = request.app.state.container
    principal_id = PostgresConsoleLinks(container.connection).use(token) if token else None
    if principal_id is None:
        raise ConsoleRefused(
            403,
            "This sign-in link cannot be used",
            "It was used already, it expired, or it was never made.",
            SIGN_IN_HINT,
        )
    keys: ApiKeys = request.app.state.api_keys
    if support_principal(keys, principal_id) is None:
        raise ConsoleRefused(
            403, "Not a support principal", "The console answers only to support principals."
        )
    session = sessions_of(request).start(principal_id)
    return FRONT.signed_in(request, session, str(request.url_for("console_home")))


@router.get("/", name="console_home")
def home(
    request: Request,
    session: SignedIn,
    container: ContainerDep,
    q: Annotated[str, Query(max_length=200)] = "",
    after: UUID | None = None,
) -> HTMLResponse:
    """Search (a GET form: it changes nothing, so it carries no CSRF token)."""
    with container.connection() as conn:
        page = search_accounts(conn, q, after) if q.strip() else None
    return render(request, "home.html", session, page=page, after=after)


@router.get("/accounts/{account_id}", name="console_account")
def account(
    request: Request,
    session: SignedIn,
    container: ContainerDep,
    account_id: UUID,
    invoices: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    """The account; its invoices filtered by display status and issued, due and paid days
    (a GET form: `InvoiceQuery`), in keyset pages (`invoices`: the signed cursor of the next
    page) that keep the filters."""
    query, filter_error = InvoiceQuery.of(request.query_params), None
    try:
        filters: InvoiceFilters | None = query.filters()
    except InvalidInvoiceFilter as error:  # the page says why, beside the filters
        filters, filter_error = None, str(error)
    try:
        found = account_page(container, account_id, invoices, filters)
    except InvalidCursor as error:
        raise ConsoleRefused(
            400, "This page link is broken", error.detail, session=session
        ) from error
    if found is None:
        text = f"No account has the id {account_id}."
        raise ConsoleRefused(404, "No such account", text, session=session)
    return render(
        request,
        "account.html",
        session,
        status_code=400 if filter_error else 200,
        page=found,
        invoices_cursor=invoices,
        query=query,
        statuses=list(DisplayStatus),
        date_filters=DATE_FILTERS,
        filter_error=filter_error,
    )


@router.get("/accounts/{account_id}/invoices/{invoice_id}/pdf", name="console_invoice_pdf")
def invoice_pdf(
    session: SignedIn,
    container: ContainerDep,
    account_id: UUID,
    invoice_id: InvoiceId,
    copy: WhoseCopy = Copy.SUPPORT,
) -> Response:
    return pdf_response(container, account_id, invoice_id, None, copy)


@router.post("/logout", name="console_logout")
def logout(request: Request, session: Posted) -> Response:
    return FRONT.signed_out(request, session, str(request.url_for("console_signed_out")))


@router.get("/signed-out", name="console_signed_out")
def signed_out(request: Request) -> HTMLResponse:
    return render(
        request,
        "message.html",
        None,
        heading="You are signed out",
        text="Your console session has ended.",
        hint=SIGN_IN_HINT,
        tone="good",
    )
