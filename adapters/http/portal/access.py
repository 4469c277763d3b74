"""Who may open a billing page: the browser's `ledger_billing` cookie (path /billing) names
a live session bound to one account; a form's post also carries the session's CSRF token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from adapters.http.browser.front import Front
from adapters.http.browser.sessions import BrowserSession
from adapters.http.portal.links import PREFIX
from adapters.http.portal.pages import PortalRefused

FRONT = Front(
    "ledger_billing", PREFIX, "portal_sessions", "portal_secure_cookies", PortalRefused, "customer"
)
OPEN_AGAIN = "Open your billing pages again from your account's dashboard."


def signed_in(request: Request) -> BrowserSession:
    session = FRONT.admitted(request)
    if session is None or session.account_id is None:
        raise PortalRefused(
            401,
            "Your billing session has ended",
            "For your security, billing sessions end after a while without use.",
            OPEN_AGAIN,
        )
    return session


async def posted_with_csrf(
    request: Request, session: Annotated[BrowserSession, Depends(signed_in)]
) -> BrowserSession:
    return await FRONT.csrf_checked(request, session)


SignedIn = Annotated[BrowserSession, Depends(signed_in)]
Posted = Annotated[BrowserSession, Depends(posted_with_csrf)]
