"""The one payment page, served by the ledger for one payment session.

    GET  /pay/{session_id}?to=&until=&sig=     the page (a link from adapters/http/pay/links.py)
    POST /pay/{session_id}/complete            the page's script: Turnstile token + card or
                                               PayPal result; answers where to go next

The page is the session's browser half: Stripe.js confirms the session's SetupIntent (3-D
Secure included) or Braintree's client tokenizes a PayPal account on the session's client
token, the Turnstile widget gives a token, and the completion runs the same
`checkout.complete_session` as the JSON routes (the Turnstile check first: nothing is
vaulted or charged without it). The link is the only credential; no API key reaches the
browser. Its script is static/pay.js (no inline script, under `csp.page_csp`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID, uuid4

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict

from adapters.bootstrap import Container
from adapters.http.pay import simulated
from adapters.http.pay.csp import page_csp, script_urls
from adapters.http.pay.links import PAY_PREFIX, PageLink, PaymentLinkInvalid, back_to, checked
from adapters.http.pay.unpaid import unpaid_in_words
from adapters.http.routers.payment_flow import PaymentFlowNotConfigured
from commands import checkout
from commands.base import load_account
from commands.checkout import Checkout, PaymentSessionNotFound
from commands.models import CommandContext, CompletePaymentSession, CompletionFields
from ledger.meta import ActorKind, Surface
from ledger.payments import AttemptStatus

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
ACTOR = "payment-page"  # the customer holding the link (no principal of its own)
router = APIRouter(prefix=PAY_PREFIX, include_in_schema=False)


class Completion(CompletionFields):
    """What the page's script posts: the link's own fields and the session's result."""

    model_config = ConfigDict(extra="forbid")
    to: str
    until: int
    sig: str


class Completed(BaseModel):
    return_url: str
    # the client secrets of the session's payments waiting for 3-D Secure (sessions that pay
    # the open invoices): the page's Stripe.js completes them before going back
    authenticate: list[str]
    # the open invoices the session could not pay, in words: the page shows them before
    # going back
    unpaid: list[str]


def install(app: FastAPI) -> None:
    simulated.install(app)  # before the page's routes: /pay/simulated/... is not a session
    app.include_router(router)
    app.mount(f"{PAY_PREFIX}/static", StaticFiles(directory=HERE / "static"), name="pay_static")


@router.get("/{session_id}", name="payment_page")
def payment_page(
    request: Request, session_id: str, to: str = "", until: int = 0, sig: str = ""
) -> HTMLResponse:
    container: Container = request.app.state.container
    try:
        link = checked(container.settings, session_id, to, until, sig, container.deps.clock.now())
        session = _open_session(container, session_id)
    except PaymentLinkInvalid:
        return _message(
            request,
            403,
            "This payment link cannot be used",
            "It expired, or it was not made by us. Ask for a new one where you started.",
        )
    except PaymentSessionNotFound:
        return _message(
            request, 404, "This payment page has expired", "Start again where you came from."
        )
    if session.get("status") == "completed":
        return _message(
            request, 200, "Already done", "This payment method was saved.", link.return_url
        )
    return _page(request, "pay.html", 200, **_context(container, session, link))


@router.post("/{session_id}/complete", name="payment_page_complete")
def complete(request: Request, session_id: str, body: Completion) -> JSONResponse:
    container: Container = request.app.state.container
    link = checked(
        container.settings, session_id, body.to, body.until, body.sig, container.deps.clock.now()
    )
    session = _open_session(container, session_id)
    cmd = CompletePaymentSession(
        account_id=UUID(session["account_id"]),
        session_id=session_id,
        turnstile_token=body.turnstile_token,
        payment_method=body.payment_method,
        nonce=body.nonce,
    )
    client = request.client
    ip = client.host if client else None
    done = checkout.complete_session(_checkout(container), cmd, _ctx(), ip)
    waiting = [
        p.client_secret
        for p in done.payments
        if p.status == AttemptStatus.REQUIRES_ACTION and p.client_secret
    ]
    account = load_account(container.deps.app, cmd.account_id)
    unpaid = unpaid_in_words(account, done.payments)
    back = back_to(container.settings, link.return_url, done.version)
    completed = Completed(return_url=back, authenticate=waiting, unpaid=unpaid)
    answer = JSONResponse(completed.model_dump())
    return _private(answer, container)


def _open_session(container: Container, session_id: str) -> dict[str, Any]:
    session = _checkout(container).sessions.get(session_id)
    if session is None:
        raise PaymentSessionNotFound()
    return session


def _checkout(container: Container) -> Checkout:
    if container.checkout is None:
        raise PaymentFlowNotConfigured()
    return container.checkout


def _ctx() -> CommandContext:
    return CommandContext(
        actor_id=ACTOR,
        actor_kind=ActorKind.CUSTOMER,
        surface=Surface.DASHBOARD,
        correlation_id=uuid4(),
    )


def _context(container: Container, session: dict[str, Any], link: PageLink) -> dict[str, Any]:
    settings = container.settings
    stripe_js, braintree_client_js, braintree_paypal_js, turnstile_js = script_urls(settings)
    card = session["method"] == "card"
    scripts: tuple[str, ...] = (
        (stripe_js, turnstile_js)
        if card
        else (braintree_client_js, braintree_paypal_js, turnstile_js)
    )
    if container.simulated is not None:
        scripts = simulated.CARD_SCRIPTS if card else simulated.PAYPAL_SCRIPTS
    return {
        "method": session["method"],
        "link": link,
        "site_key": _checkout(container).human_check.site_key,
        "stripe_key": settings.stripe_publishable_key or "",
        "client_secret": session.get("stripe_client_secret") or "",
        "client_token": session.get("braintree_client_token") or "",
        "scripts": scripts,
        "simulated": container.simulated is not None,
    }


def _message(
    request: Request, status: int, heading: str, text: str, return_url: str | None = None
) -> HTMLResponse:
    return _page(request, "message.html", status, heading=heading, text=text, return_url=return_url)


def _page(request: Request, template: str, status: int, **context: Any) -> HTMLResponse:
    container: Container = request.app.state.container
    response = TEMPLATES.TemplateResponse(request, template, context, status_code=status)
    return _private(response, container)


R = TypeVar("R", bound=Response)


def _private(response: R, container: Container) -> R:
    response.headers["Content-Security-Policy"] = page_csp(
        container.settings, simulated=container.simulated is not None
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response
