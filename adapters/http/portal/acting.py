"""How the billing pages act: as the account's customer, through the customer surface
(`/v1`), exactly as the Dashboard's own calls do.

`as_customer(request, session, operation, ...)` runs the very handler the customer route
`operation` runs (its operation name, e.g. `customer_set_default`), with a `Call` for the
session's customer: a customer principal of the session's one account, on the CUSTOMER
surface (its events record the Dashboard surface). The account is always the session's:
an id in the page's address that is not the account's (an invoice, a payment method) is
not found by the handler, a 404 page, as `/v1` answers. The route's rate limit applies; a
domain refusal becomes a page in the customer's words (words.py). A write takes the form's
idempotency key (made when the form was rendered), so a form sent twice is done once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from fastapi import Request

from adapters.http.auth import Principal
from adapters.http.browser.sessions import BrowserSession
from adapters.http.portal.pages import PortalRefused
from adapters.http.portal.words import in_words
from adapters.http.ratelimit import RateLimited
from adapters.http.surface import Call, handler_of, scope_of
from adapters.http.surfaces import CUSTOMER
from commands.base import Deps
from commands.models import CommandContext
from ledger.errors import DomainError
from ledger.meta import ActorKind

# What a customer's key may do on the customer surface (its routes' scopes).
T = TypeVar("T")
CUSTOMER_SCOPES = frozenset({"accounts:read", "accounts:write", "billing:write"})


def principal_id_for(account_id: UUID) -> str:
    """The actor the billing pages record on the account's events."""
    return f"billing-portal:{account_id}"


def customer(session: BrowserSession) -> Principal:
    """The session's customer, as a customer key of its account would be."""
    return Principal(
        id=session.principal_id,
        kind=ActorKind.CUSTOMER,
        scopes=CUSTOMER_SCOPES,
        account_id=session.account_id,
    )


def customer_call(request: Request, session: BrowserSession, key: str | None = None) -> Call:
    """The Call the customer route would get for this request."""
    container = request.app.state.container
    cid = request.state.correlation_id
    return Call(customer(session), container, CUSTOMER, cid, request, key)


def as_customer(
    request: Request,
    session: BrowserSession,
    operation: str,
    key: str | None = None,
    **arguments: Any,
) -> Any:
    """The customer route `operation`'s answer for the session's account (`arguments`: its
    other path ids, query values and `body`)."""
    handler = handler_of(CUSTOMER, operation)
    call = customer_call(request, session, key)
    if scope_of(handler) not in call.who.scopes:
        raise LookupError(f"{operation} needs a scope a customer does not have")
    return _limited_and_worded(
        request,
        session,
        call,
        lambda: handler(account_id=session.account_id, call=call, **arguments),
    )


def as_customer_command(
    request: Request,
    session: BrowserSession,
    run: Callable[[Deps, UUID, CommandContext], T],
    key: str | None = None,
) -> T:
    """A command no customer route runs (e.g. the 3-D Secure check of the billing pages),
    run for the session's account with the context the customer route would give it, under
    the same rate limit and in the same words."""
    call = customer_call(request, session, key)
    assert session.account_id is not None  # SignedIn guarantees it
    account_id = session.account_id
    return _limited_and_worded(
        request, session, call, lambda: run(call.deps, account_id, call.ctx())
    )


def _limited_and_worded(
    request: Request, session: BrowserSession, call: Call, act: Callable[[], T]
) -> T:
    """`act` under the customer's rate limit; a domain refusal in the customer's words."""
    try:
        request.app.state.rate_limiter.check(f"{call.who.kind.value}:{call.who.id}", request.scope)
    except RateLimited as limited:
        raise PortalRefused(
            429,
            "Too many requests",
            "Please wait a little before trying again; nothing was done.",
            f"Try again in {limited.retry_after_s} seconds.",
            session=session,
        ) from limited
    try:
        return act()
    except DomainError as error:
        status, heading, text = in_words(error)
        raise PortalRefused(status, heading, text, session=session) from error
