"""The billing pages' routes: the session URL (used once), sign-out, the shell. Each page's
routes live in their own module (overview.py, methods.py, ...), included here with one
line."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from adapters.http.browser.sessions import BrowserSessions
from adapters.http.portal import (
    authenticate,
    bad_debt,
    invalid,
    invoices,
    methods,
    overview,
    plan,
)
from adapters.http.portal.access import FRONT, OPEN_AGAIN, Posted
from adapters.http.portal.acting import principal_id_for
from adapters.http.portal.links import OPEN_PATH, PREFIX
from adapters.http.portal.pages import STATIC_DIR, PortalRefused, refused_page, render
from adapters.postgres.portal_links import PostgresPortalLinks
from adapters.settings import Settings

SESSION_PREFIX = "ledger:portal-session:"
router = APIRouter(prefix=PREFIX, include_in_schema=False)
router.include_router(overview.router)
router.include_router(methods.router)
router.include_router(invoices.router)
router.include_router(plan.router)
router.include_router(bad_debt.router)
router.include_router(authenticate.router)


def install(app: FastAPI, settings: Settings) -> None:
    app.state.portal_sessions = BrowserSessions.kept(
        settings.redis_url, SESSION_PREFIX, settings.portal_idle_s, settings.portal_absolute_s
    )
    app.state.portal_secure_cookies = settings.portal_secure_cookies
    app.add_exception_handler(PortalRefused, refused_page)
    app.include_router(router)
    invalid.install(app, PREFIX)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC_DIR), name="portal_static")


@router.get(OPEN_PATH.removeprefix(PREFIX), name="portal_open")
def open_session(request: Request, token: str = "") -> Response:
    """Uses the URL (once) and starts the customer's session on its account; the token
    leaves the address bar at once (a redirect), and the page sends no referrer."""
    container = request.app.state.container
    link = PostgresPortalLinks(container.connection).use(token) if token else None
    if link is None:
        raise PortalRefused(
            403,
            "This link cannot be used",
            "It was used already, it expired, or it was never valid.",
            OPEN_AGAIN,
        )
    session = FRONT.sessions(request).start(
        principal_id_for(link.account_id), link.account_id, link.return_url
    )
    return FRONT.signed_in(request, session, str(request.url_for("portal_overview")))


@router.post("/sign-out", name="portal_sign_out")
def sign_out(request: Request, session: Posted) -> Response:
    """Ends the session; back to the Dashboard when the session came with a return URL."""
    to = session.return_url or str(request.url_for("portal_signed_out"))
    return FRONT.signed_out(request, session, to)


@router.get("/signed-out", name="portal_signed_out")
def signed_out(request: Request) -> HTMLResponse:
    return render(
        request,
        "message.html",
        None,
        heading="You are signed out",
        text="Your billing session has ended.",
        hint=OPEN_AGAIN,
        tone="good",
    )
