"""3-D Secure end to end through the HTTP API against a real localstripe (card
4000002500003155: every charge asks the customer to authenticate): the response carries
`requires_action` and the client secret, the read models show the wait, and the outcome
comes from localstripe's own signed webhook, or from the janitor, which cancels an expired
wait at localstripe before it voids the invoice and rolls the purchase back. A failed
authentication's webhook is recorded only after the PaymentIntent is cancelled at
localstripe (503, nothing recorded, while Stripe cannot be reached)."""

from __future__ import annotations

import dataclasses
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
import stripe
from fastapi.testclient import TestClient

from adapters.bootstrap import Container
from adapters.http.app import create_app
from adapters.http.auth import SCOPES, ApiKeyEntry, ApiKeys, hash_key
from adapters.stripe import Guard, StripeGateway
from commands.base import load_account
from commands.janitor import Resolution, resolve_in_flight
from ledger.invoices import InvoiceStatus
from ledger.meta import ActorKind
from ledger.payments import AUTHENTICATION_NOT_COMPLETED, AttemptStatus, Processor
from ledger.subscriptions import SubscriptionStatus
from projections.feed import catch_up
from projections.health import HealthProjection
from projections.invoices import InvoicesProjection
from queries.in_flight import accounts_in_flight_since
from tests.fakes.builders import system_ctx
from tests.fakes.clock import FixedClock
from tests.harness import LocalStripeServer, free_port
from tests.integration.test_stripe_gateway import (
    FAST,
    THREE_D_SECURE,
    VISA,
    charge_request,
    sdk_client,
    stripe_account,
    vaulted,
)
from tests.integration.test_stripe_webhooks import (  # noqa: F401 - the fixtures
    hooked,
    intent_event,
    register,
    served,
    signed,
)

PLAN = "pro-monthly-usd"
STALE = timedelta(minutes=15)


@pytest.fixture
def sdk(localstripe: LocalStripeServer) -> stripe.StripeClient:
    return sdk_client(localstripe)


@pytest.fixture
def account_id(hooked: Container, sdk: stripe.StripeClient) -> UUID:  # noqa: F811
    account_id, _customer, _method = stripe_account(hooked, sdk, THREE_D_SECURE)
    return account_id


@pytest.fixture
def api(hooked: Container, account_id: UUID) -> Iterator[TestClient]:  # noqa: F811
    def key(name: str, kind: ActorKind, **extra: Any) -> ApiKeyEntry:
        return ApiKeyEntry(
            sha256=hash_key(name), id=name, kind=kind, scopes=frozenset(SCOPES), **extra
        )

    keys = ApiKeys(
        [
            key("customer-key", ActorKind.CUSTOMER, account_id=account_id),
            key("service-key", ActorKind.SERVICE),
        ]
    )
    with TestClient(create_app(hooked, keys)) as client:
        yield client


def as_(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {who}-key", "Idempotency-Key": str(uuid4())}


def authenticate(
    localstripe: LocalStripeServer, intent_id: str, secret: str, *, success: bool = True
) -> int:
    """What Stripe.js does in the customer's browser (localstripe's test endpoint)."""
    outcome = "true" if success else "false"
    form = urllib.parse.urlencode({"client_secret": secret, "success": outcome}).encode()
    url = f"{localstripe.url}/v1/payment_intents/{intent_id}/_authenticate"
    request = urllib.request.Request(url, data=form, method="POST")  # noqa: S310 - loopback
    request.add_header("Authorization", f"Bearer {localstripe.api_key}")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return int(refused.code)


def project(container: Container) -> None:
    catch_up(container.connection, InvoicesProjection(), container.reader)
    catch_up(container.connection, HealthProjection(), container.reader)


def requires_action(body: dict[str, Any]) -> dict[str, Any]:
    payment = body["payment"]
    assert payment["status"] == "requires_action", payment
    assert payment["decline_code"] is None
    assert payment["client_secret"]
    assert payment["attempt_id"]
    return dict(payment)


def test_an_on_session_purchase_waits_for_authentication_and_the_webhook_pays_it(
    hooked: Container,  # noqa: F811
    served: str,  # noqa: F811
    api: TestClient,
    account_id: UUID,
    localstripe: LocalStripeServer,
    sdk: stripe.StripeClient,
) -> None:
    register(localstripe, served)
    answer = api.post(
        f"/v1/accounts/{account_id}/subscriptions",
        json={"plan_id": PLAN},
        headers=as_("customer"),
    )
    assert answer.status_code == 201
    payment = requires_action(answer.json())
    invoice_id = answer.json()["invoice_id"]
    attempt = load_account(hooked.app, account_id).attempts[payment["attempt_id"]]
    assert attempt.status is AttemptStatus.REQUIRES_ACTION
    assert attempt.processor_payment_id is not None
    intent = sdk.v1.payment_intents.retrieve(attempt.processor_payment_id)
    assert intent.status == "requires_action"
    assert payment["client_secret"] == intent.client_secret

    project(hooked)
    detail = api.get(f"/v1/accounts/{account_id}/invoices/{invoice_id}", headers=as_("customer"))
    assert detail.status_code == 200
    assert detail.json()["status"] == "open"
    [shown] = detail.json()["attempts"]
    assert (shown["status"], shown["processor_payment_id"]) == ("requires_action", intent.id)
    health = api.get(f"/internal/accounts/{account_id}/health", headers=as_("service")).json()
    assert "awaiting_customer_action" in health["reasons"]
    assert health["state"] != "stuck"
    assert health["attempt_in_flight_since"] is None

    assert authenticate(localstripe, intent.id, payment["client_secret"]) == 200
    deadline = time.monotonic() + 20
    while load_account(hooked.app, account_id).attempts[attempt.attempt_id].in_flight:
        assert time.monotonic() < deadline, "localstripe's webhook never settled the wait"
        time.sleep(0.2)
    account = load_account(hooked.app, account_id)
    settled = account.attempts[attempt.attempt_id]
    assert (settled.status, settled.processor_payment_id) == (AttemptStatus.SUCCEEDED, intent.id)
    assert account.invoices[invoice_id].status is InvoiceStatus.PAID
    project(hooked)
    paid = api.get(f"/v1/accounts/{account_id}/invoices/{invoice_id}", headers=as_("customer"))
    assert paid.json()["status"] == "paid"
    assert paid.json()["attempts"][0]["status"] == "succeeded"


def test_an_invoice_paid_on_session_whose_webhook_is_lost_is_found_paid_by_the_janitor(
    hooked: Container,  # noqa: F811
    api: TestClient,
    account_id: UUID,
    localstripe: LocalStripeServer,
    clock: FixedClock,
) -> None:
    """Off-session the card also asks for authentication: that wait expires into dunning
    (cancelled at localstripe), and the customer then pays the invoice on-session."""
    renewal = api.post(
        f"/internal/accounts/{account_id}/subscriptions",
        json={"plan_id": PLAN, "on_session": False},
        headers=as_("service"),
    )
    off_session = requires_action(renewal.json())
    invoice_id = renewal.json()["invoice_id"]
    clock.advance(days=3)
    [expired] = resolve_in_flight(hooked.deps, account_id, STALE, system_ctx())
    assert (expired.attempt_id, expired.resolution) == (
        off_session["attempt_id"],
        Resolution.EXPIRED,
    )
    account = load_account(hooked.app, account_id)
    assert account.attempts[expired.attempt_id].decline_code == AUTHENTICATION_NOT_COMPLETED
    assert account.invoices[invoice_id].status is InvoiceStatus.OPEN  # dunning goes on

    paying = api.post(
        f"/v1/accounts/{account_id}/invoices/{invoice_id}/pay", json={}, headers=as_("customer")
    )
    assert paying.status_code == 200
    payment = requires_action(paying.json())
    attempt = load_account(hooked.app, account_id).attempts[payment["attempt_id"]]
    assert attempt.processor_payment_id is not None
    assert authenticate(localstripe, attempt.processor_payment_id, payment["client_secret"]) == 200
    clock.advance(hours=23)  # no webhook is registered: the janitor finds it at expiry
    [resolved] = resolve_in_flight(hooked.deps, account_id, STALE, system_ctx())
    assert resolved.resolution is Resolution.SUCCEEDED
    account = load_account(hooked.app, account_id)
    assert account.invoices[invoice_id].status is InvoiceStatus.PAID
    assert account.attempts[attempt.attempt_id].processor_payment_id == (
        attempt.processor_payment_id
    )


def test_an_abandoned_authentication_is_cancelled_at_stripe_before_the_purchase_is_rolled_back(
    hooked: Container,  # noqa: F811
    api: TestClient,
    account_id: UUID,
    localstripe: LocalStripeServer,
    sdk: stripe.StripeClient,
    clock: FixedClock,
) -> None:
    answer = api.post(
        f"/v1/accounts/{account_id}/subscriptions",
        json={"plan_id": PLAN},
        headers=as_("customer"),
    )
    payment = requires_action(answer.json())
    invoice_id, subscription_id = answer.json()["invoice_id"], answer.json()["subscription_id"]
    attempt = load_account(hooked.app, account_id).attempts[payment["attempt_id"]]
    assert attempt.processor_payment_id is not None

    clock.advance(hours=22)
    assert resolve_in_flight(hooked.deps, account_id, STALE, system_ctx()) == []
    project(hooked)
    with hooked.connection() as conn:
        now = clock.now()
        assert accounts_in_flight_since(conn, now - STALE, 100, now) == []
        clock.advance(hours=1, minutes=16)
        now = clock.now()
        assert accounts_in_flight_since(conn, now - STALE, 100, now) == [account_id]
    stuck = api.get(f"/internal/accounts/{account_id}/health", headers=as_("service")).json()
    assert (stuck["state"], "attempt_in_flight" in stuck["reasons"]) == ("stuck", True)

    [resolved] = resolve_in_flight(hooked.deps, account_id, STALE, system_ctx())
    assert resolved.resolution is Resolution.EXPIRED
    assert sdk.v1.payment_intents.retrieve(attempt.processor_payment_id).status == "canceled"
    account = load_account(hooked.app, account_id)
    failed = account.attempts[attempt.attempt_id]
    assert (failed.status, failed.decline_code) == (
        AttemptStatus.FAILED,
        AUTHENTICATION_NOT_COMPLETED,
    )
    assert account.invoices[invoice_id].status is InvoiceStatus.VOID
    assert account.subscriptions[subscription_id].status is SubscriptionStatus.CANCELED
    assert not account.receivable.is_positive
    # A late authentication can never pay the voided invoice: Stripe refuses it.
    assert authenticate(localstripe, attempt.processor_payment_id, payment["client_secret"]) == 400
    assert resolve_in_flight(hooked.deps, account_id, STALE, system_ctx()) == []
    project(hooked)
    with hooked.connection() as conn:
        assert accounts_in_flight_since(conn, clock.now(), 100, clock.now()) == []
    kinds = [e.event_type for e in hooked.reader.stream_between(account_id, 0, None)]
    assert kinds.count("PaymentActionRequired") == 1
    assert kinds[-3:] == ["PaymentFailed", "InvoiceVoided", "SubscriptionChanged"]


def test_cancel_charge_is_safe_to_repeat_and_answers_what_stripe_holds(
    sdk: stripe.StripeClient, localstripe: LocalStripeServer
) -> None:
    gateway = StripeGateway(sdk, lookup="list", guard=Guard(retry=FAST))
    customer, method = vaulted(gateway, sdk, THREE_D_SECURE)
    waiting = gateway.charge(charge_request(method, customer, on_session=True))
    assert waiting.requires_action
    assert waiting.processor_payment_id is not None
    request_id = str(uuid4())
    for _ in range(2):  # the second cancel is refused by Stripe: the intent is read back
        cancelled = gateway.cancel_charge(
            request_id, Processor.STRIPE, waiting.processor_payment_id
        )
        assert (cancelled.succeeded, cancelled.decline_code) == (False, "payment_intent_canceled")
        assert cancelled.processor_payment_id == waiting.processor_payment_id
    assert sdk.v1.payment_intents.retrieve(waiting.processor_payment_id).status == "canceled"

    customer, method = vaulted(gateway, sdk, VISA)
    paid = gateway.charge(charge_request(method, customer))
    assert paid.succeeded
    assert paid.processor_payment_id is not None
    kept = gateway.cancel_charge(str(uuid4()), Processor.STRIPE, paid.processor_payment_id)
    assert (kept.succeeded, kept.processor_payment_id) == (True, paid.processor_payment_id)
    assert sdk.v1.payment_intents.retrieve(paid.processor_payment_id).status == "succeeded"


def test_a_failed_authentication_is_cancelled_at_stripe_before_its_webhook_is_recorded(
    hooked: Container,  # noqa: F811
    api: TestClient,
    account_id: UUID,
    localstripe: LocalStripeServer,
    sdk: stripe.StripeClient,
) -> None:
    """Stripe leaves a failed authentication in `requires_payment_method`, where the
    browser's client secret could still pay it: the webhook's failure is recorded only once
    the intent is cancelled; while Stripe cannot be reached it is 503 and nothing is
    recorded, so Stripe delivers it again."""
    answer = api.post(
        f"/v1/accounts/{account_id}/subscriptions",
        json={"plan_id": PLAN},
        headers=as_("customer"),
    )
    payment = requires_action(answer.json())
    invoice_id, subscription_id = answer.json()["invoice_id"], answer.json()["subscription_id"]
    attempt = load_account(hooked.app, account_id).attempts[payment["attempt_id"]]
    intent_id = attempt.processor_payment_id
    assert intent_id is not None
    secret = payment["client_secret"]
    assert authenticate(localstripe, intent_id, secret, success=False) == 200
    assert sdk.v1.payment_intents.retrieve(intent_id).status == "requires_payment_method"
    event = intent_event("payment_intent.payment_failed", intent_id, attempt.attempt_id, account_id)
    event["data"]["object"]["last_payment_error"] = {
        "code": "payment_intent_authentication_failure"
    }

    reachable = hooked.deps
    dead = stripe.StripeClient(
        localstripe.api_key,
        base_addresses={"api": f"http://127.0.0.1:{free_port()}"},
        max_network_retries=0,
    )
    hooked.deps = dataclasses.replace(
        reachable, gateway=StripeGateway(dead, lookup="list", guard=Guard(retry=FAST))
    )
    version = load_account(hooked.app, account_id).version
    body, headers = signed(event)
    refused = api.post("/webhooks/stripe", content=body, headers=headers)
    assert refused.status_code == 503, refused.json()
    assert refused.json()["code"] == "processor_unavailable"
    assert load_account(hooked.app, account_id).version == version
    assert sdk.v1.payment_intents.retrieve(intent_id).status == "requires_payment_method"

    hooked.deps = reachable
    body, headers = signed(event)  # Stripe's redelivery
    delivered = api.post("/webhooks/stripe", content=body, headers=headers)
    assert delivered.status_code == 200, delivered.json()
    assert delivered.json()["outcome"] == "recorded"
    # Cancelled: a cancelled PaymentIntent can no longer be confirmed with its secret.
    assert sdk.v1.payment_intents.retrieve(intent_id).status == "canceled"
    account = load_account(hooked.app, account_id)
    failed = account.attempts[attempt.attempt_id]
    assert (failed.status, failed.decline_code) == (
        AttemptStatus.FAILED,
        "payment_intent_authentication_failure",
    )
    assert account.invoices[invoice_id].status is InvoiceStatus.VOID
    assert account.subscriptions[subscription_id].status is SubscriptionStatus.CANCELED
