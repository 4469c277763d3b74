"""A payment waiting for the customer's bank (3-D Secure), authenticated from the billing
pages: the overview's "Authenticate" leads here.

    GET  /billing/pay/invoices/{invoice}                        the payment, and Stripe.js
    POST /billing/pay/invoices/{invoice}                        the browser is done: ask the
                                                                processor, record, then 303
    GET  /billing/pay/invoices/{invoice}/payments/{attempt}     the outcome in words

The page loads the configured Stripe.js (the payment page's setting, or the simulated one on
the embedded default) under the payment page's CSP builder, and its own script
(static/authenticate.js) calls `handleNextAction({clientSecret})` with the client secret the
processor gives again (it is never stored). Whatever the browser says, the ledger asks the
processor (commands/authentication.py) as the session's customer; a webhook or the janitor
recording it first is fine, and a reload or a second post records nothing twice. Another
account's invoice, or one with no payment waiting, is not found (404), as on /v1."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from adapters.bootstrap import Container
from adapters.http.pay import simulated
from adapters.http.pay.csp import page_csp
from adapters.http.portal import authenticate_words, pages
from adapters.http.portal.access import Posted, SignedIn
from adapters.http.portal.acting import as_customer_command
from adapters.http.portal.pages import render
from adapters.http.portal.standing import own_account
from commands.authentication import (
    PaymentState,
    WaitingPayment,
    check_authentication,
    payment_state,
    waiting_payment,
)
from commands.base import Deps
from commands.models import CheckAuthentication, CommandContext, LedgerId

router = APIRouter()
InvoiceId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]
AttemptId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]


@router.get("/pay/invoices/{invoice_id}", name="portal_authenticate")
def authenticate(request: Request, session: SignedIn, invoice_id: InvoiceId) -> HTMLResponse:
    def find(deps: Deps, account_id: UUID, _ctx: CommandContext) -> WaitingPayment:
        return waiting_payment(deps, account_id, invoice_id)

    waiting = as_customer_command(request, session, find)
    container: Container = request.app.state.container
    response = render(
        request,
        "authenticate.html",
        session,
        account=own_account(request, session),
        waiting=waiting,
        stripe_js=_stripe_js(container),
        stripe_key=container.settings.stripe_publishable_key or "",
        simulated=container.simulated is not None,
    )
    response.headers["Content-Security-Policy"] = _csp(request, container)
    return response


@router.post("/pay/invoices/{invoice_id}", name="portal_authenticated")
def authenticated(
    request: Request,
    session: Posted,
    invoice_id: InvoiceId,
    attempt_id: Annotated[LedgerId, Form()],
) -> RedirectResponse:
    """The browser is done with Stripe.js (whatever it says): the processor decides."""

    def check(deps: Deps, account_id: UUID, ctx: CommandContext) -> PaymentState:
        cmd = CheckAuthentication(
            account_id=account_id, invoice_id=invoice_id, attempt_id=attempt_id
        )
        return check_authentication(deps, cmd, ctx)

    as_customer_command(request, session, check)
    to = request.url_for("portal_authentication", invoice_id=invoice_id, attempt_id=attempt_id)
    return RedirectResponse(str(to), status_code=303)


@router.get("/pay/invoices/{invoice_id}/payments/{attempt_id}", name="portal_authentication")
def outcome(
    request: Request, session: SignedIn, invoice_id: InvoiceId, attempt_id: AttemptId
) -> HTMLResponse:
    def read(deps: Deps, account_id: UUID, _ctx: CommandContext) -> PaymentState:
        return payment_state(deps, account_id, invoice_id, attempt_id)

    state = as_customer_command(request, session, read)
    said = authenticate_words.outcome_in_words(state)
    return render(
        request,
        "authenticate_done.html",
        session,
        account=own_account(request, session),
        state=state,
        said=said,
    )


def _stripe_js(container: Container) -> str:
    """The Stripe.js the payment page loads: the setting, or the simulated one."""
    if container.simulated is not None:
        return simulated.CARD_SCRIPTS[0]
    return container.settings.pay_stripe_js_url


def _csp(request: Request, container: Container) -> str:
    """The payment page's policy (its script origins), whose forms may lead where the
    billing pages' may (sign-out to the Dashboard)."""
    portal = pages.csp(request)
    form_action = next(d for d in portal.split("; ") if d.startswith("form-action"))
    policy = page_csp(container.settings, simulated=container.simulated is not None)
    return policy.replace("form-action 'self'", form_action)
