"""Who may open a console page: the browser's session cookie names a live session whose
principal the keys still know as support (a principal whose support keys were all revoked
is signed out at its next request); a form's post also carries the session's CSRF token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from adapters.http.auth import ApiKeys
from adapters.http.browser.front import Front
from adapters.http.console.links import support_principal
from adapters.http.console.pages import ConsoleRefused
from adapters.http.console.sessions import ConsoleSession, ConsoleSessions

COOKIE = "ledger_console"
FRONT = Front(
    COOKIE, "/console", "console_sessions", "console_secure_cookies", ConsoleRefused, "support"
)
SIGN_IN_HINT = (
    "Sign in through your company's sign-in page, or ask an engineer for a link"
    " (ledger console link YOUR-PRINCIPAL-ID)."
)


def sessions_of(request: Request) -> ConsoleSessions:
    sessions: ConsoleSessions = request.app.state.console_sessions
    return sessions


def signed_in(request: Request) -> ConsoleSession:
    session = FRONT.admitted(request)
    if session is None:
        raise ConsoleRefused(
            401, "Please sign in", "You are not signed in to the console.", SIGN_IN_HINT
        )
    keys: ApiKeys = request.app.state.api_keys
    if support_principal(keys, session.principal_id) is None:
        sessions_of(request).end(session.session_id)
        raise ConsoleRefused(
            403, "Not a support principal", "The console answers only to support principals."
        )
    return session


async def posted_with_csrf(
    request: Request, session: Annotated[ConsoleSession, Depends(signed_in)]
) -> ConsoleSession:
    return await FRONT.csrf_checked(request, session)


SignedIn = Annotated[ConsoleSession, Depends(signed_in)]
Posted = Annotated[ConsoleSession, Depends(posted_with_csrf)]
