"""Who may open a console page: the browser's session cookie names a live session whose
principal the keys still know as support (a principal whose support keys were all revoked
is signed out at its next request); a form's post also carries the session's CSRF token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from adapters.http.auth import ApiKeys
from adapters.http.console.links import support_principal
from adapters.http.console.pages import ConsoleRefused
from adapters.http.console.sessions import ConsoleSession, ConsoleSessions

COOKIE = "ledger_console"
SIGN_IN_HINT = (
    "Sign in through your company's sign-in page, or ask an engineer for a link"
    " (ledger console link YOUR-PRINCIPAL-ID)."
)


def sessions_of(request: Request) -> ConsoleSessions:
    sessions: ConsoleSessions = request.app.state.console_sessions
    return sessions


def signed_in(request: Request) -> ConsoleSession:
    sessions = sessions_of(request)
    session_id = request.cookies.get(COOKIE)
    session = sessions.find(session_id) if session_id else None
    if session is None:
        raise ConsoleRefused(
            401, "Please sign in", "You are not signed in to the console.", SIGN_IN_HINT
        )
    keys: ApiKeys = request.app.state.api_keys
    if support_principal(keys, session.principal_id) is None:
        sessions.end(session.session_id)
        raise ConsoleRefused(
            403, "Not a support principal", "The console answers only to support principals."
        )
    return session


async def posted_with_csrf(
    request: Request, session: Annotated[ConsoleSession, Depends(signed_in)]
) -> ConsoleSession:
    form = await request.form()
    token = form.get("csrf_token")
    if not session.csrf_matches(token if isinstance(token, str) else None):
        raise ConsoleRefused(
            403,
            "This form was not accepted",
            "It did not carry this session's security token (CSRF), so nothing was done.",
            "Reload the page and try again.",
        )
    return session


SignedIn = Annotated[ConsoleSession, Depends(signed_in)]
Posted = Annotated[ConsoleSession, Depends(posted_with_csrf)]
