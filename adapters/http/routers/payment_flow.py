"""The payment flow over HTTP: payment sessions (Dashboard and iAPI), and the vaulting steps
they are made of, usable on their own by trusted services only (iAPI: no bot check there).
Customer sync is a repair route (iAPI, NinjaPanel).

    POST /{account}/payment-sessions                 start: client secret / token, site key
    POST /{account}/payment-sessions/{id}/complete   Turnstile token + card or PayPal result
    POST /{account}/payment-methods/cards/setup      a SetupIntent client secret
    POST /{account}/payment-methods/cards/vaulted    the confirmed pm_... -> method
    POST /{account}/payment-methods/paypal/client-token
    POST /{account}/payment-methods/paypal/vaulted   the drop-in's nonce -> method
    POST /{account}/provider-customers/sync          (iAPI, NinjaPanel) push the profile
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from adapters.http.routers.billing import BillingWritten, Body, Call, _caller, _written
from commands import checkout, customers, vaulting
from commands.checkout import Checkout
from commands.models import (
    AddVaultedCard,
    CompletePaymentSession,
    MethodId,
    Nonce,
    PaymentMethodId,
    StartCardSetup,
    StartPaymentSession,
    SyncProviderCustomer,
    TurnstileToken,
    VaultPayPal,
)
from ledger.errors import DomainError, ErrorKind
from ledger.meta import ActorKind, Surface
from ledger.payments import Processor


class PaymentFlowNotConfigured(DomainError):
    """Payment sessions need Turnstile (LEDGER_TURNSTILE_SITE_KEY and _SECRET)."""

    code = "payment_flow_not_configured"
    kind = ErrorKind.UNAVAILABLE


class SessionBody(Body):
    method: Literal["card", "paypal"]
    pay_open_invoices: bool = False


class CompleteBody(Body):
    turnstile_token: TurnstileToken
    payment_method: PaymentMethodId | None = None
    nonce: Nonce | None = None


class VaultedCardBody(Body):
    payment_method: PaymentMethodId
    make_default: bool = True


class NonceBody(Body):
    nonce: Nonce
    make_default: bool = True


class SyncBody(Body):
    processor: Processor = Processor.STRIPE
    force: bool = False


class SessionStarted(BaseModel):
    session_id: str
    account_id: UUID
    method: str
    expires_at: datetime
    turnstile_site_key: str
    stripe_client_secret: str | None
    braintree_client_token: str | None


class SessionPayment(BaseModel):
    invoice_id: str
    attempt_id: str
    status: str
    decline_code: str | None
    client_secret: str | None


class SessionCompleted(BaseModel):
    session_id: str
    account_id: UUID
    method_id: str
    version: int
    payments: list[SessionPayment]
    replayed: bool


class CardSetupStarted(BaseModel):
    setup_id: str
    client_secret: str
    customer_id: str


class ClientToken(BaseModel):
    client_token: str


class CustomerSynced(BaseModel):
    customer_id: str
    action: str
    version: int


def payment_flow_router(
    prefix: str, surface: Surface, kinds: list[ActorKind], *, flow: bool, vaults: bool
) -> APIRouter:
    """`flow`: the payment sessions (bot-checked); `vaults`: the vaulting steps without the
    flow's bot check, for trusted services only (a customer reaching them could test stolen
    cards without passing Turnstile). Every surface but the customer's gets the customer
    sync repair."""
    router = APIRouter(prefix=prefix, tags=[f"payment flow ({surface.value})"])
    caller = _caller(surface, kinds)
    if flow:
        _sessions(router, caller)
    if vaults:
        _vaulting(router, caller)
    if kinds != [ActorKind.CUSTOMER]:
        _sync(router, caller)
    return router


def _sessions(router: APIRouter, caller: Callable[..., Call]) -> None:
    @router.post("/{account_id}/payment-sessions", status_code=201)
    def start(account_id: UUID, body: SessionBody, call: Call = Depends(caller)) -> SessionStarted:
        cmd = StartPaymentSession(
            account_id=account_id, method=body.method, pay_open_invoices=body.pay_open_invoices
        )
        started = checkout.start_session(_checkout(call), cmd, call.ctx(body))
        return SessionStarted.model_validate(started, from_attributes=True)

    @router.post("/{account_id}/payment-sessions/{session_id}/complete")
    def complete(
        account_id: UUID,
        session_id: MethodId,
        body: CompleteBody,
        request: Request,
        call: Call = Depends(caller),
    ) -> SessionCompleted:
        cmd = CompletePaymentSession(
            account_id=account_id,
            session_id=session_id,
            **body.model_dump(exclude={"reason"}),
        )
        ip = request.client.host if request.client else None
        done = checkout.complete_session(_checkout(call), cmd, call.ctx(body), ip)
        return SessionCompleted.model_validate(done, from_attributes=True)


def _vaulting(router: APIRouter, caller: Callable[..., Call]) -> None:
    @router.post("/{account_id}/payment-methods/cards/setup", status_code=201)
    def card_setup(account_id: UUID, body: Body, call: Call = Depends(caller)) -> CardSetupStarted:
        cmd = StartCardSetup(account_id=account_id)
        started = vaulting.start_card_setup(call.deps, cmd, call.ctx(body))
        return CardSetupStarted(
            setup_id=started.setup.setup_id,
            client_secret=started.setup.client_secret,
            customer_id=started.customer_id,
        )

    @router.post("/{account_id}/payment-methods/cards/vaulted", status_code=201)
    def card_vaulted(
        account_id: UUID, body: VaultedCardBody, call: Call = Depends(caller)
    ) -> BillingWritten:
        cmd = AddVaultedCard(account_id=account_id, **body.model_dump(exclude={"reason"}))
        return _written(vaulting.add_vaulted_card(call.deps, cmd, call.ctx(body)))

    @router.post("/{account_id}/payment-methods/paypal/client-token")
    def paypal_token(account_id: UUID, body: Body, call: Call = Depends(caller)) -> ClientToken:
        token = vaulting.paypal_client_token(call.deps, account_id, call.ctx(body))
        return ClientToken(client_token=token)

    @router.post("/{account_id}/payment-methods/paypal/vaulted", status_code=201)
    def paypal_vaulted(
        account_id: UUID, body: NonceBody, call: Call = Depends(caller)
    ) -> BillingWritten:
        cmd = VaultPayPal(account_id=account_id, **body.model_dump(exclude={"reason"}))
        return _written(vaulting.vault_paypal(call.deps, cmd, call.ctx(body)))


def _sync(router: APIRouter, caller: Callable[..., Call]) -> None:
    @router.post("/{account_id}/provider-customers/sync")
    def sync(account_id: UUID, body: SyncBody, call: Call = Depends(caller)) -> CustomerSynced:
        cmd = SyncProviderCustomer(
            account_id=account_id, processor=body.processor, force=body.force
        )
        out = customers.sync_customer(call.deps, cmd, call.ctx(body))
        return CustomerSynced(
            customer_id=out.customer_id, action=out.action, version=out.result.version
        )


def _checkout(call: Call) -> Checkout:
    if call.container.checkout is None:
        raise PaymentFlowNotConfigured()
    return call.container.checkout


customer = payment_flow_router(
    "/v1/accounts", Surface.DASHBOARD, [ActorKind.CUSTOMER], flow=True, vaults=False
)
service = payment_flow_router(
    "/internal/accounts", Surface.IAPI, [ActorKind.SERVICE], flow=True, vaults=True
)
support = payment_flow_router(
    "/support/accounts", Surface.NINJAPANEL, [ActorKind.SUPPORT], flow=False, vaults=False
)
