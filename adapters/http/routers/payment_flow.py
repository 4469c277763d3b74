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

The sessions (`SESSIONS`) are bot-checked; the vaulting steps (`VAULTING`) are not, so a
surface offers them to trusted services only (a customer reaching them could test stolen
cards without passing Turnstile). Every surface but the customer's offers the sync repair.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends
from pydantic import BaseModel, Field, StringConstraints

from adapters.http.pay import links
from adapters.http.return_urls import require_allowed
from adapters.http.routers.billing import BillingWritten, Body
from adapters.http.surface import Call, Feature, HttpSurface, Route
from commands import checkout, customers, vaulting
from commands.checkout import Checkout
from commands.models import (
    AddVaultedCard,
    CompletePaymentSession,
    CompletionFields,
    MethodId,
    NonceFields,
    SafeText,
    SessionFields,
    StartCardSetup,
    StartPaymentSession,
    SyncFields,
    SyncProviderCustomer,
    VaultedCardFields,
    VaultPayPal,
)
from ledger.errors import DomainError, ErrorKind


class PaymentFlowNotConfigured(DomainError):
    """Payment sessions need Turnstile (LEDGER_TURNSTILE_SITE_KEY and _SECRET)."""

    code = "payment_flow_not_configured"
    kind = ErrorKind.UNAVAILABLE


# Where the payment page sends the customer back: an absolute http(s) URL, checked against
# the allow-list by the route (adapters/http/return_urls.py).
ReturnUrl = Annotated[
    str,
    StringConstraints(min_length=1, max_length=2000, pattern=r"^https?://[^\s\\]+$"),
    SafeText,
]


# A body is its command's own fields (commands/models.py), with the surface's reason.
class SessionBody(Body, SessionFields):
    """The body of StartPaymentSession: the command's own fields, and where the payment
    page sends the customer back (the page is offered only with a return URL)."""

    return_url: ReturnUrl | None = Field(
        default=None,
        description="after success the payment page sends the customer here; it must be on"
        " the allow-list (LEDGER_RETURN_URLS), else 422 `return_url_not_allowed`",
    )

    def command_fields(self) -> dict[str, Any]:
        return self.model_dump(exclude={"reason", "return_url"})


class CompleteBody(Body, CompletionFields):
    """The body of CompletePaymentSession: the command's own fields."""


class VaultedCardBody(Body, VaultedCardFields):
    """The body of AddVaultedCard: the command's own fields."""


class NonceBody(Body, NonceFields):
    """The body of VaultPayPal: the command's own fields."""


class SyncBody(Body, SyncFields):
    """The body of SyncProviderCustomer: the command's own fields."""


class SessionStarted(BaseModel):
    session_id: str
    account_id: UUID
    method: str
    expires_at: datetime
    turnstile_site_key: str
    stripe_client_secret: str | None
    braintree_client_token: str | None
    page_url: str | None = None  # the payment page for this session (asked with a return_url)


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


def _caller(s: HttpSurface) -> Callable[..., Call]:
    return s.caller("billing:write", keyed=True)


def _start(s: HttpSurface) -> Callable[..., SessionStarted]:
    caller = _caller(s)

    def start(account_id: UUID, body: SessionBody, call: Call = Depends(caller)) -> SessionStarted:
        settings = call.container.settings
        if body.return_url is not None:
            require_allowed(settings, body.return_url)  # before anything is started
        cmd = StartPaymentSession(account_id=account_id, **body.command_fields())
        started = checkout.start_session(_checkout(call), cmd, call.ctx(body))
        answer = SessionStarted.model_validate(started, from_attributes=True)
        if body.return_url is not None:
            link = links.make_link(
                settings, started.session_id, body.return_url, started.expires_at
            )
            answer.page_url = links.page_url(settings, link)
        return answer

    return start


def _complete(s: HttpSurface) -> Callable[..., SessionCompleted]:
    caller = _caller(s)

    def complete(
        account_id: UUID,
        session_id: MethodId,
        body: CompleteBody,
        call: Call = Depends(caller),
    ) -> SessionCompleted:
        cmd = CompletePaymentSession(
            account_id=account_id,
            session_id=session_id,
            **body.command_fields(),
        )
        client = call.request.client
        ip = client.host if client else None
        done = checkout.complete_session(_checkout(call), cmd, call.ctx(body), ip)
        return SessionCompleted.model_validate(done, from_attributes=True)

    return complete


def _card_setup(s: HttpSurface) -> Callable[..., CardSetupStarted]:
    caller = _caller(s)

    def card_setup(account_id: UUID, body: Body, call: Call = Depends(caller)) -> CardSetupStarted:
        cmd = StartCardSetup(account_id=account_id)
        started = vaulting.start_card_setup(call.deps, cmd, call.ctx(body))
        return CardSetupStarted(
            setup_id=started.setup.setup_id,
            client_secret=started.setup.client_secret,
            customer_id=started.customer_id,
        )

    return card_setup


def _card_vaulted(s: HttpSurface) -> Callable[..., BillingWritten]:
    caller = _caller(s)

    def card_vaulted(
        account_id: UUID, body: VaultedCardBody, call: Call = Depends(caller)
    ) -> BillingWritten:
        cmd = AddVaultedCard(account_id=account_id, **body.command_fields())
        return BillingWritten.of(vaulting.add_vaulted_card(call.deps, cmd, call.ctx(body)))

    return card_vaulted


def _paypal_token(s: HttpSurface) -> Callable[..., ClientToken]:
    caller = _caller(s)

    def paypal_token(account_id: UUID, body: Body, call: Call = Depends(caller)) -> ClientToken:
        token = vaulting.paypal_client_token(call.deps, account_id, call.ctx(body))
        return ClientToken(client_token=token)

    return paypal_token


def _paypal_vaulted(s: HttpSurface) -> Callable[..., BillingWritten]:
    caller = _caller(s)

    def paypal_vaulted(
        account_id: UUID, body: NonceBody, call: Call = Depends(caller)
    ) -> BillingWritten:
        cmd = VaultPayPal(account_id=account_id, **body.command_fields())
        return BillingWritten.of(vaulting.vault_paypal(call.deps, cmd, call.ctx(body)))

    return paypal_vaulted


def _sync(s: HttpSurface) -> Callable[..., CustomerSynced]:
    caller = _caller(s)

    def sync(account_id: UUID, body: SyncBody, call: Call = Depends(caller)) -> CustomerSynced:
        cmd = SyncProviderCustomer(account_id=account_id, **body.command_fields())
        out = customers.sync_customer(call.deps, cmd, call.ctx(body))
        return CustomerSynced(
            customer_id=out.customer_id, action=out.action, version=out.result.version
        )

    return sync


def _checkout(call: Call) -> Checkout:
    if call.container.checkout is None:
        raise PaymentFlowNotConfigured()
    return call.container.checkout


ACC = "/accounts/{account_id}"
SESSIONS = Feature(
    (
        Route(
            "POST",
            f"{ACC}/payment-sessions",
            _start,
            "start",
            "Start a payment session",
            "Starts adding a card or PayPal account: answers the "
            "client secret or token for the browser and the Turnstile site key.",
            status_code=201,
        ),
        Route(
            "POST",
            f"{ACC}/payment-sessions/{{session_id}}/complete",
            _complete,
            "complete",
            "Complete a payment session",
            "Checks the Turnstile token, vaults the method and, if "
            "asked, pays the open invoices. 503 `session_store_unavailable` when Redis is down.",
        ),
    ),
    tag="payment flow",
)
VAULTING = Feature(
    (
        Route(
            "POST",
            f"{ACC}/payment-methods/cards/setup",
            _card_setup,
            "card_setup",
            "Start a card setup",
            "A Stripe SetupIntent client secret for the browser.",
            status_code=201,
        ),
        Route(
            "POST",
            f"{ACC}/payment-methods/cards/vaulted",
            _card_vaulted,
            "card_vaulted",
            "Record a vaulted card",
            "Records the card the browser confirmed (`pm_...`).",
            status_code=201,
        ),
        Route(
            "POST",
            f"{ACC}/payment-methods/paypal/client-token",
            _paypal_token,
            "paypal_token",
            "Get a PayPal client token",
            "A Braintree client token for the PayPal drop-in.",
        ),
        Route(
            "POST",
            f"{ACC}/payment-methods/paypal/vaulted",
            _paypal_vaulted,
            "paypal_vaulted",
            "Vault a PayPal account",
            "Vaults the drop-in's nonce and records the method.",
            status_code=201,
        ),
    ),
    tag="payment flow",
)
SYNC = Feature(
    (
        Route(
            "POST",
            f"{ACC}/provider-customers/sync",
            _sync,
            "sync",
            "Sync the processor customer",
            "Pushes the billing profile to the processor's customer (a repair).",
        ),
    ),
    tag="payment flow",
)
