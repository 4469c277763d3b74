"""The console's routes: sign-in by link, sign-out, the home page (search)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from adapters.http.auth import ApiKeys
from adapters.http.common import ContainerDep
from adapters.http.console.access import COOKIE, SIGN_IN_HINT, Posted, SignedIn, sessions_of
from adapters.http.console.account import account_page
from adapters.http.console.links import SIGN_IN_PATH, support_principal
from adapters.http.console.pages import STATIC_DIR, ConsoleRefused, refused_page, render
from adapters.http.console.sessions import ConsoleSessions
from adapters.http.routers.invoices import InvoiceId, pdf_response
from adapters.postgres.console_links import PostgresConsoleLinks
from adapters.settings import Settings
from ledger.invoices import DisplayStatus
from queries.invoices import InvalidCursor
from queries.search import search_accounts

PREFIX = "/console"
router = APIRouter(prefix=PREFIX, include_in_schema=False)


def install(app: FastAPI, settings: Settings) -> None:
    app.state.console_sessions = ConsoleSessions.from_settings(settings)
    app.state.console_secure_cookies = settings.console_secure_cookies
    app.add_exception_handler(ConsoleRefused, refused_page)
    app.include_router(router)
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
    response = RedirectResponse(request.url_for("console_home"), status_code=303)
    response.set_cookie(
        COOKIE,
        session.session_id,
        max_age=sessions_of(request).absolute_s,
        path=PREFIX,
        secure=request.app.state.console_secure_cookies,
        httponly=True,
        samesite="lax",
    )
    return response


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
    status: DisplayStatus | None = None,
) -> HTMLResponse:
    """The account; its invoices filtered by display status (a GET form), in keyset pages
    (`invoices`: the signed cursor of the next page)."""
    try:
        found = account_page(container, account_id, invoices, status)
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
        page=found,
        invoices_cursor=invoices,
        status=status,
        statuses=list(DisplayStatus),
    )


@router.get("/accounts/{account_id}/invoices/{invoice_id}/pdf", name="console_invoice_pdf")
def invoice_pdf(
    session: SignedIn, container: ContainerDep, account_id: UUID, invoice_id: InvoiceId
) -> Response:
    return pdf_response(container, account_id, invoice_id, None)


@router.post("/logout", name="console_logout")
def logout(request: Request, session: Posted) -> Response:
    sessions_of(request).end(session.session_id)
    response = RedirectResponse(request.url_for("console_signed_out"), status_code=303)
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


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
