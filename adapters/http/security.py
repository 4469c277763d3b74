"""What every response carries and what every caller meets before a route: security
headers, the client's address (behind trusted proxies only), the per-address rate limit of
requests without a key and of webhooks, and 405 answers that say what is allowed.

* `X-Content-Type-Options: nosniff` on every response; `Cache-Control: no-store` on the
  authenticated surfaces (account data, invoice PDFs) and on every request that carried a
  key; `Strict-Transport-Security` when `LEDGER_HSTS_MAX_AGE_S` is set (served over TLS).
* The browser pages (the support console, /console/, and the customer's billing pages,
  /billing/) are never cached either, send no referrer (a sign-in link's token stays out of
  other sites' logs), cannot be framed, and run only their own scripts and styles
  (`PAGES_CSP`), unless a page sets its own Content-Security-Policy (one that must load a
  processor's script).
* Requests without a key are rate limited per client address, except a browser page's
  request that carries its session cookie: the session's check counts it against the
  signed-in person (adapters/http/browser/front.py), so a support team or a household behind
  one address does not share one budget.
* The client address is the socket peer, unless the peer is one of
  `LEDGER_TRUSTED_PROXIES` (none by default): then `X-Forwarded-For` (and
  `X-Forwarded-Proto`) are read, by uvicorn's own middleware. Everything after this
  middleware (rate limits, Turnstile's remote ip, logs) sees that address.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from adapters.http.problems import problem
from adapters.http.ratelimit import RateLimited, RateLimiter
from adapters.settings import Settings

AUTHENTICATED_PREFIXES = ("/v1/", "/internal/", "/support/", "/console/", "/billing/")
PAGES_PREFIXES = ("/console/", "/billing/")
PAGES_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
ADDRESS_LIMITED_PREFIXES = ("/webhooks/",)
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})
NOT_ADDRESS_LIMITED = frozenset({"/healthz", "/readyz"})  # probes poll them


def install(
    app: FastAPI,
    settings: Settings,
    address_limiter: RateLimiter,
    session_cookies: Mapping[str, str],
) -> None:
    """Call last in create_app (but for http_metrics.install, which counts their answers):
    the middlewares added here wrap everything else.
    `session_cookies`: each browser front end's path and the name of its session cookie."""
    app.add_exception_handler(405, _method_not_allowed)
    app.add_middleware(AddressRateLimit, limiter=address_limiter, session_cookies=session_cookies)
    app.add_middleware(SecurityHeaders, hsts_max_age_s=settings.hsts_max_age_s)
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def address_key(address: str) -> str:
    return f"address:{address}"


def _header(scope: Scope, name: bytes) -> bytes | None:
    return next((value for key, value in scope["headers"] if key == name), None)


class SecurityHeaders:
    def __init__(self, app: ASGIApp, hsts_max_age_s: int | None) -> None:
        self.app = app
        self.hsts = f"max-age={hsts_max_age_s}; includeSubDomains" if hsts_max_age_s else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        private = scope["path"].startswith(AUTHENTICATED_PREFIXES) or (
            _header(scope, b"authorization") is not None
        )
        pages = scope["path"].startswith(PAGES_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                if private:
                    headers["Cache-Control"] = "no-store"
                if self.hsts:
                    headers["Strict-Transport-Security"] = self.hsts
                if pages:
                    if "content-security-policy" not in headers:
                        headers["Content-Security-Policy"] = PAGES_CSP
                    headers["Referrer-Policy"] = "no-referrer"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class AddressRateLimit:
    """Per client address: webhooks, and requests that present no key (a key that fails
    authentication is counted by the route's `Allow`; a browser front's request with its
    session cookie by the front's session check, and its static files, with the cookie,
    not at all: they are files)."""

    def __init__(
        self, app: ASGIApp, limiter: RateLimiter, session_cookies: Mapping[str, str]
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.session_cookies = session_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and _address_limited(scope)
            and not _carries_session(scope, self.session_cookies)
        ):
            try:
                self.limiter.check(address_key(client_address(scope)), scope)
            except RateLimited as limited:
                response = problem(limited.http_status, limited.code, limited.detail)
                response.headers["Retry-After"] = str(limited.retry_after_s)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _address_limited(scope: Scope) -> bool:
    path: str = scope["path"]
    if path.startswith(ADDRESS_LIMITED_PREFIXES):
        return True
    return path not in NOT_ADDRESS_LIMITED and _header(scope, b"authorization") is None


def _carries_session(scope: Scope, session_cookies: Mapping[str, str]) -> bool:
    """Whether the request is to a browser front end and carries that front's cookie (the
    front's session check counts it, live or not)."""
    path: str = scope["path"]
    cookie = next(
        (name for prefix, name in session_cookies.items() if path.startswith(f"{prefix}/")),
        None,
    )
    header = _header(scope, b"cookie")
    return (
        cookie is not None
        and header is not None
        and cookie in cookie_parser(header.decode("latin-1"))
    )


async def _method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's 405 names only the methods of the first route matching the path; `Allow`
    names every method the API documents at that path."""
    allowed = ", ".join(sorted(_methods_at(request.app.openapi()["paths"], request.url.path)))
    if isinstance(exc, HTTPException):  # a route outside the document: Starlette's own
        allowed = allowed or (exc.headers or {}).get("Allow", "")
    detail = exc.detail if isinstance(exc, HTTPException) else "method not allowed"
    response = problem(405, "method_not_allowed", str(detail))
    response.headers["Allow"] = allowed
    return response


def _methods_at(paths: dict[str, dict[str, Any]], path: str) -> set[str]:
    return {
        method.upper()
        for template, operations in paths.items()
        if re.fullmatch(re.sub(r"\{[^}/]+\}", "[^/]+", template), path)
        for method in operations
        if method in HTTP_METHODS
    }
