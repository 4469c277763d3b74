"""One browser front end's cookie and form check: the console's `ledger_console` on
/console, the billing pages' `ledger_billing` on /billing. The cookie names a live session
(HttpOnly, SameSite=Lax, Secure unless configured off, on the front end's path only); every
form posts the session's CSRF token back.

A request carrying the cookie is not counted against its address (adapters/http/security.py);
`admitted` counts it against the signed-in person instead, and a cookie that names no live
session against the address, as a key that fails authentication is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import RedirectResponse

from adapters.http.access_log import principal_kind_is
from adapters.http.browser.refusals import Refused
from adapters.http.browser.sessions import BrowserSession, BrowserSessions
from adapters.http.ratelimit import RateLimited, RateLimiter
from adapters.http.security import address_key, client_address

NOT_ACCEPTED = (
    "This form was not accepted",
    "It did not carry this session's security token (CSRF), so nothing was done.",
    "Reload the page and try again.",
)


@dataclass(frozen=True)
class Front:
    cookie: str
    path: str  # the cookie's path: the front end's prefix
    state: str  # the app.state attribute holding its BrowserSessions
    secure_state: str  # the app.state attribute saying whether its cookie is Secure
    refused: Callable[..., Refused]  # its refusal: (status, heading, text, hint, session)
    principal_kind: str  # whom its sessions are for (the access log says it)

    def sessions(self, request: Request) -> BrowserSessions:
        sessions: BrowserSessions = getattr(request.app.state, self.state)
        return sessions

    def session(self, request: Request) -> BrowserSession | None:
        """The live session the request's cookie names, if any."""
        session_id = request.cookies.get(self.cookie)
        return self.sessions(request).find(session_id) if session_id else None

    def admitted(self, request: Request) -> BrowserSession | None:
        """The live session, as `session`, with the request counted against a rate limit:
        the session's principal's, or the address's when the cookie names no live session."""
        session = self.session(request)
        state = request.app.state
        if session is not None:
            principal_kind_is(request, self.principal_kind)
            key = f"{self.cookie}:{session.principal_id}"
            self._count(request, state.rate_limiter, key, session)
        elif self.cookie in request.cookies:
            address = address_key(client_address(request.scope))
            self._count(request, state.address_limiter, address, None)
        return session

    def _count(
        self,
        request: Request,
        limiter: RateLimiter,
        key: str,
        session: BrowserSession | None,
    ) -> None:
        """Against the session's own limit, or (none live) the address's."""
        try:
            limiter.check(key, request.scope, "session" if session else None)
        except RateLimited as limited:
            raise self.refused(
                429,
                "Too many requests",
                "This browser has made too many requests in a short time; nothing was done.",
                f"Try again in {limited.retry_after_s} s.",
                session=session,
            ) from limited

    def signed_in(self, request: Request, session: BrowserSession, to: str) -> RedirectResponse:
        """A redirect to `to` that sets the new session's cookie."""
        response = RedirectResponse(to, status_code=303)
        response.set_cookie(
            self.cookie,
            session.session_id,
            max_age=self.sessions(request).absolute_s,
            path=self.path,
            secure=getattr(request.app.state, self.secure_state),
            httponly=True,
            samesite="lax",
        )
        return response

    def signed_out(self, request: Request, session: BrowserSession, to: str) -> RedirectResponse:
        self.sessions(request).end(session.session_id)
        response = RedirectResponse(to, status_code=303)
        response.delete_cookie(self.cookie, path=self.path)
        return response

    async def csrf_checked(self, request: Request, session: BrowserSession) -> BrowserSession:
        """The session, if the posted form carries its CSRF token; else refused (403)."""
        form = await request.form()
        token = form.get("csrf_token")
        if not session.csrf_matches(token if isinstance(token, str) else None):
            raise self.refused(403, *NOT_ACCEPTED, session=session)
        return session
