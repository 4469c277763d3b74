"""The payment page on the embedded default: SIMULATED Stripe.js, Braintree client and
Turnstile (adapters/http/pay/simulated/*.js), served by the ledger itself, and only while
the simulated processor is on; the simulated Stripe.js confirms a simulated SetupIntent
here with the typed test card number, as Stripe.js confirms one at api.stripe.com.

    GET  /pay/simulated/js/{stripe,braintree,turnstile}.js
    POST /pay/simulated/setup_intents/{setup_id}/confirm   {client_secret, number, authenticated}
    POST /pay/simulated/payment_intents/{id}/authenticate  {client_secret, success}: 3-D Secure
                                                           completed (or failed)
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from adapters.http.pay.links import PAY_PREFIX
from adapters.simulated.cards import Behaviour, SimulatedCards, magic_card
from commands.ports import MethodDeclined, ProcessorRefused

SCRIPTS = f"{PAY_PREFIX}/simulated/js"
CARD_SCRIPTS = (f"{SCRIPTS}/stripe.js", f"{SCRIPTS}/turnstile.js")
PAYPAL_SCRIPTS = (f"{SCRIPTS}/braintree.js", f"{SCRIPTS}/turnstile.js")
router = APIRouter(prefix=f"{PAY_PREFIX}/simulated", include_in_schema=False)
DECLINES = {
    "insufficient_funds": "Your card has insufficient funds.",
    "incorrect_number": "Your card number is incorrect (use a test card).",
}


class Confirmation(BaseModel):
    client_secret: str = Field(max_length=200)
    number: str = Field(max_length=30)
    authenticated: bool = False  # the person completed the simulated 3-D Secure


def install(app: FastAPI) -> None:
    """Only when the app's container simulates the processors."""
    if getattr(app.state.container, "simulated", None) is None:
        return
    app.include_router(router)
    app.mount(SCRIPTS, StaticFiles(directory=Path(__file__).parent / "simulated"), name="pay_sim")


@router.post("/setup_intents/{setup_id}/confirm")
def confirm_setup(request: Request, setup_id: str, body: Confirmation) -> JSONResponse:
    cards = request.app.state.container.deps.processors.cards
    if not isinstance(cards, SimulatedCards) or body.client_secret != f"{setup_id}_secret":
        return _error(401, "invalid_client_secret", "This card setup cannot be confirmed.")
    card = magic_card(body.number)
    if card is not None and card.behaviour is Behaviour.AUTHENTICATES and not body.authenticated:
        return JSONResponse({"id": setup_id, "status": "requires_action"})
    try:
        method = cards.confirm_setup(setup_id, body.number)
    except MethodDeclined as declined:
        message = DECLINES.get(declined.decline_code or "", "Your card was declined.")
        return _error(402, declined.decline_code or "card_declined", message)
    return JSONResponse({"id": setup_id, "status": "succeeded", "payment_method": method})


class Authentication(BaseModel):
    client_secret: str = Field(max_length=200)
    success: bool = True  # False: the person failed the simulated 3-D Secure


@router.post("/payment_intents/{payment_id}/authenticate")
def authenticate_payment(request: Request, payment_id: str, body: Authentication) -> JSONResponse:
    """The customer completed (or failed) the simulated 3-D Secure of a payment: the
    simulated processor settles it, or leaves it failed to be cancelled, as Stripe does (the
    ledger hears of it as from Stripe: the janitor's look, or the billing pages' check)."""
    gateway = request.app.state.container.simulated
    if body.client_secret != f"{payment_id}_secret":
        return _error(401, "invalid_client_secret", "This payment cannot be confirmed.")
    try:
        gateway.authenticate_payment(payment_id, success=body.success)
    except ProcessorRefused:
        return _error(
            400, "payment_intent_unexpected_state", "This payment is not waiting for you."
        )
    status = "succeeded" if body.success else "requires_payment_method"
    return JSONResponse({"id": payment_id, "status": status})


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
