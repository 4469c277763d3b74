"""Customer sync, vaulting and the one payment flow over HTTP, with the container wired
from settings to the real processors' stand-ins: localstripe (the Stripe SDK), the local
Braintree gateway (the Braintree SDK), the local Turnstile siteverify and a real Redis for
the payment sessions."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import stripe
from fastapi.testclient import TestClient
from pydantic import SecretStr

from adapters.bootstrap import Container, build
from adapters.http.app import create_app
from adapters.http.auth import SCOPES, ApiKeyEntry, ApiKeys, hash_key
from adapters.reconcile import on_customer_updated
from adapters.settings import Settings
from commands.base import load_account
from commands.reconcile import check_account
from ledger.meta import ActorKind
from ledger.methods import CollectionPath, MethodKind, VaultPath
from queries.reconciliation import get_reconciliation
from tests.braintree_gateway import LocalBraintreeGateway
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import HeldCharges
from tests.fakes.turnstile_server import TurnstileServer
from tests.harness import LocalStripeServer, RedisServer, free_port
from tests.integration.test_stripe_gateway import card, sdk_client, stripe_settings

SITE_KEY, TURNSTILE_SECRET = "0x4AAAAAAAflowsitekey", "0x4AAAAAAAflowsecret"
SERVICE, CUSTOMER, SUPPORT = "svc-flow-0123456789", "cust-flow-0123456789", "sup-flow-0123456789"
PROFILE = {"name": "Ada Lovelace", "email": "ada@example.com", "country": "GB", "currency": "USD"}
DECLINED_AT_VAULTING = "4000000000000002"
DECLINED_AT_CHARGE = "4000000000000341"
THREE_D_SECURE = "4000002500003155"


@pytest.fixture
def turnstile() -> Iterator[TurnstileServer]:
    fake = TurnstileServer()
    fake.site(SITE_KEY, TURNSTILE_SECRET)
    with fake.running():
        yield fake


@pytest.fixture
def settings(
    database_url: str,
    localstripe: LocalStripeServer,
    braintree_server: LocalBraintreeGateway,
    turnstile: TurnstileServer,
    redis_service: RedisServer,
) -> Settings:
    return stripe_settings(
        database_url,
        localstripe,
        **braintree_server.ledger_settings(),
        turnstile_site_key=SITE_KEY,
        turnstile_secret=SecretStr(TURNSTILE_SECRET),
        turnstile_url=turnstile.url,
        redis_url=redis_service.url,
    )


@pytest.fixture
def wired(settings: Settings, clock: FixedClock) -> Iterator[Container]:
    built = build(settings, clock=clock)
    yield built
    built.close()


@pytest.fixture
def stripe_down(settings: Settings, clock: FixedClock) -> Iterator[Api]:
    """The same deployment (database, Redis, Braintree) while Stripe does not answer."""
    dead = settings.model_copy(update={"stripe_api_base": f"http://127.0.0.1:{free_port()}"})
    built = build(dead, clock=clock)
    yield Api(built)
    built.close()


class Api:
    """The HTTP app with a service, a support and (once an account exists) a customer key."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.customer_of: UUID | None = None

    def client(self, account_id: UUID | None = None) -> TestClient:
        entries = [_entry(SERVICE, ActorKind.SERVICE), _entry(SUPPORT, ActorKind.SUPPORT)]
        if account_id is not None:
            entries.append(_entry(CUSTOMER, ActorKind.CUSTOMER, account_id=account_id))
        return TestClient(create_app(self.container, ApiKeys(entries)))


def _entry(key: str, kind: ActorKind, **extra: Any) -> ApiKeyEntry:
    return ApiKeyEntry(
        sha256=hash_key(key), id=f"{kind.value}-1", kind=kind, scopes=frozenset(SCOPES), **extra
    )


def as_(key: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **headers}


def open_account(client: TestClient) -> tuple[UUID, dict[str, Any]]:
    opened = client.post("/internal/accounts", json=PROFILE, headers=as_(SERVICE))
    assert opened.status_code == 201, opened.text
    return UUID(opened.json()["account_id"]), opened.json()


def event_types(container: Container, account_id: UUID) -> list[str]:
    return [type(e).__name__ for e in container.app.events.get(account_id)]


@pytest.fixture
def api(wired: Container) -> Api:
    return Api(wired)


# --- customer sync --------------------------------------------------------------------


def test_opening_an_account_creates_its_stripe_customer_and_records_it(
    api: Api, localstripe: LocalStripeServer
) -> None:
    account_id, written = open_account(api.client())
    assert written["customer_sync"] == {"stripe": "created"}
    account = load_account(api.container.app, account_id)
    customer_id = account.provider_customers["stripe"]
    at_stripe = sdk_client(localstripe).v1.customers.retrieve(customer_id)
    assert (at_stripe.name, at_stripe.email) == ("Ada Lovelace", "ada@example.com")
    assert at_stripe.to_dict()["metadata"]["account_id"] == str(account_id)
    assert account.provider_synced["stripe"] == {
        "customer_id": customer_id,
        "name": "Ada Lovelace",
        "email": "ada@example.com",
    }
    assert event_types(api.container, account_id)[-2:] == [
        "ProviderCustomerLinked",
        "ProviderCustomerSynced",
    ]


def test_a_profile_edit_is_pushed_to_stripe(api: Api, localstripe: LocalStripeServer) -> None:
    client = api.client()
    account_id, _ = open_account(client)
    edited = client.patch(
        f"/internal/accounts/{account_id}", json={"email": "ada@new.example"}, headers=as_(SERVICE)
    )
    assert edited.json()["customer_sync"] == {"stripe": "updated"}
    customer_id = load_account(api.container.app, account_id).provider_customers["stripe"]
    assert sdk_client(localstripe).v1.customers.retrieve(customer_id).email == "ada@new.example"


def test_a_customer_edited_at_stripe_is_never_overwritten_without_a_forced_repair(
    api: Api, localstripe: LocalStripeServer
) -> None:
    client = api.client()
    sdk = sdk_client(localstripe)
    account_id, _ = open_account(client)
    customer_id = load_account(api.container.app, account_id).provider_customers["stripe"]
    sdk.v1.customers.update(customer_id, {"email": "edited@stripe.example"})
    edited = client.patch(
        f"/internal/accounts/{account_id}", json={"name": "Ada King"}, headers=as_(SERVICE)
    )
    assert edited.status_code == 200
    assert edited.json()["customer_sync"] == {"stripe": "provider_customer_drifted"}
    at_stripe = sdk.v1.customers.retrieve(customer_id)
    assert (at_stripe.name, at_stripe.email) == ("Ada Lovelace", "edited@stripe.example")

    url = f"/support/accounts/{account_id}/provider-customers/sync"
    refused = client.post(url, json={"processor": "stripe"}, headers=as_(SUPPORT))
    assert (refused.status_code, refused.json()["code"]) == (409, "provider_customer_drifted")
    no_reason = client.post(url, json={"force": True}, headers=as_(SUPPORT))
    assert (no_reason.status_code, no_reason.json()["code"]) == (422, "reason_required")
    forced = client.post(
        url, json={"force": True, "reason": "customer confirmed by phone"}, headers=as_(SUPPORT)
    )
    assert forced.status_code == 200, forced.text
    assert forced.json()["action"] == "updated"
    at_stripe = sdk.v1.customers.retrieve(customer_id)
    assert (at_stripe.name, at_stripe.email) == ("Ada King", "ada@example.com")
    synced = list(api.container.app.events.get(account_id))[-1]
    assert type(synced).__name__ == "ProviderCustomerSynced"
    assert synced.meta.reason == "customer confirmed by phone"  # type: ignore[attr-defined]


def test_stripe_down_at_opening_leaves_the_sync_pending_and_a_later_sync_creates_it(
    api: Api, stripe_down: Api
) -> None:
    client = api.client()
    account_id, written = open_account(stripe_down.client())
    assert written["customer_sync"] == {"stripe": "pending"}
    assert load_account(api.container.app, account_id).provider_customers == {}
    assert "ProviderCustomerLinked" not in event_types(api.container, account_id)
    synced = client.post(
        f"/internal/accounts/{account_id}/provider-customers/sync", json={}, headers=as_(SERVICE)
    )
    assert synced.json()["action"] == "created"


# --- vaulting -------------------------------------------------------------------------


def test_a_card_is_vaulted_through_a_setup_intent_with_stripes_details(
    api: Api, localstripe: LocalStripeServer
) -> None:
    account_id, _ = open_account(api.client())
    client, sdk = api.client(account_id), sdk_client(localstripe)
    setup = client.post(
        f"/internal/accounts/{account_id}/payment-methods/cards/setup",
        json={},
        headers=as_(SERVICE),
    )
    assert setup.status_code == 201, setup.text
    pm = card(sdk)  # the browser: Stripe.js creates the card and confirms the SetupIntent
    sdk.v1.setup_intents.confirm(setup.json()["setup_id"], {"payment_method": pm})
    vaulted = client.post(
        f"/internal/accounts/{account_id}/payment-methods/cards/vaulted",
        json={"payment_method": pm},
        headers=as_(SERVICE, **{"Idempotency-Key": str(uuid4())}),
    )
    assert vaulted.status_code == 201, vaulted.text
    account = load_account(api.container.app, account_id)
    (method,) = account.methods.values()
    assert (method.kind, method.processor_ref, method.brand, method.last4) == (
        MethodKind.CARD,
        pm,
        "visa",
        "4242",
    )
    assert account.default_method_id == method.method_id
    assert account.collection_path is CollectionPath.STRIPE_AUTOMATIC
    customer = sdk.v1.customers.retrieve(setup.json()["customer_id"])
    assert customer.invoice_settings is not None
    assert customer.invoice_settings.default_payment_method == pm


def test_a_card_refused_at_vaulting_records_nothing(
    api: Api, localstripe: LocalStripeServer
) -> None:
    account_id, _ = open_account(api.client())
    client = api.client(account_id)
    before = event_types(api.container, account_id)
    refused = client.post(
        f"/internal/accounts/{account_id}/payment-methods/cards/vaulted",
        json={"payment_method": card(sdk_client(localstripe), DECLINED_AT_VAULTING)},
        headers=as_(SERVICE),
    )
    assert (refused.status_code, refused.json()["code"]) == (402, "payment_method_declined")
    assert event_types(api.container, account_id) == before


def test_removing_a_card_detaches_it_at_stripe(api: Api, localstripe: LocalStripeServer) -> None:
    account_id, _ = open_account(api.client())
    client, sdk = api.client(account_id), sdk_client(localstripe)
    pm = card(sdk)
    client.post(
        f"/internal/accounts/{account_id}/payment-methods/cards/vaulted",
        json={"payment_method": pm},
        headers=as_(SERVICE),
    )
    (method_id,) = load_account(api.container.app, account_id).methods
    removed = client.post(
        f"/v1/accounts/{account_id}/payment-methods/{method_id}/remove",
        json={},
        headers=as_(CUSTOMER),
    )
    assert removed.status_code == 200, removed.text
    assert sdk.v1.payment_methods.retrieve(pm).customer is None
    assert load_account(api.container.app, account_id).methods[method_id].usable is False


def test_paypal_is_vaulted_from_a_nonce_once_even_when_the_request_is_repeated(
    api: Api, braintree_server: LocalBraintreeGateway
) -> None:
    account_id, _ = open_account(api.client())
    client = api.client(account_id)
    token = client.post(
        f"/internal/accounts/{account_id}/payment-methods/paypal/client-token",
        json={},
        headers=as_(SERVICE),
    )
    assert token.status_code == 200
    assert token.json()["client_token"]
    key = {"Idempotency-Key": str(uuid4())}
    url = f"/internal/accounts/{account_id}/payment-methods/paypal/vaulted"
    nonce = braintree_server.mint_nonce()
    first = client.post(url, json={"nonce": nonce}, headers=as_(SERVICE, **key))
    again = client.post(url, json={"nonce": nonce}, headers=as_(SERVICE, **key))
    assert (first.status_code, again.status_code) == (201, 201), first.text
    assert (first.json()["replayed"], again.json()["replayed"]) == (False, True)
    account = load_account(api.container.app, account_id)
    (method,) = account.methods.values()
    assert (method.kind, method.vault_path) == (MethodKind.PAYPAL, VaultPath.BILLING_AGREEMENT)
    assert method.billing_agreement_id
    assert account.collection_path is CollectionPath.PAYPAL_SEND_INVOICE
    assert account.provider_customers["braintree"] == str(account_id)
    assert braintree_server.calls.count("POST", r"/payment_methods") == 1


# --- the payment flow -----------------------------------------------------------------


def subscribe_unpaid(client: TestClient, account_id: UUID, sdk: stripe.StripeClient) -> str:
    """An open invoice left unpaid: the renewal card is declined when charged."""
    client.post(
        f"/internal/accounts/{account_id}/payment-methods/cards/vaulted",
        json={"payment_method": card(sdk, DECLINED_AT_CHARGE)},
        headers=as_(SERVICE),
    )
    subscribed = client.post(
        f"/internal/accounts/{account_id}/subscriptions",
        json={"plan_id": "pro-monthly-usd", "on_session": False},
        headers=as_(SERVICE),
    )
    assert subscribed.status_code == 201, subscribed.text
    assert subscribed.json()["payment"]["status"] == "failed"
    invoice_id: str = subscribed.json()["invoice_id"]
    return invoice_id


def card_session(
    client: TestClient, account_id: UUID, sdk: stripe.StripeClient, pay_open_invoices: bool = False
) -> tuple[str, str]:
    """A card session started, and its SetupIntent confirmed with a new card as Stripe.js
    does in the browser: (session id, the card's pm_...)."""
    started = client.post(
        f"/v1/accounts/{account_id}/payment-sessions",
        json={"method": "card", "pay_open_invoices": pay_open_invoices},
        headers=as_(CUSTOMER),
    )
    assert started.status_code == 201, started.text
    return started.json()["session_id"], confirm_setup(sdk, started.json())


def confirm_setup(sdk: stripe.StripeClient, session: dict[str, Any]) -> str:
    pm = card(sdk)
    setup_id = session["stripe_client_secret"].split("_secret_")[0]
    sdk.v1.setup_intents.confirm(setup_id, {"payment_method": pm})
    return pm


def test_a_card_session_vaults_the_card_and_pays_open_invoices(
    api: Api, localstripe: LocalStripeServer, turnstile: TurnstileServer
) -> None:
    account_id, _ = open_account(api.client())
    client, sdk = api.client(account_id), sdk_client(localstripe)
    invoice_id = subscribe_unpaid(client, account_id, sdk)
    started = client.post(
        f"/v1/accounts/{account_id}/payment-sessions",
        json={"method": "card", "pay_open_invoices": True},
        headers=as_(CUSTOMER),
    )
    assert started.status_code == 201, started.text
    session = started.json()
    assert session["turnstile_site_key"] == SITE_KEY
    assert session["stripe_client_secret"].startswith("seti_")
    pm = confirm_setup(sdk, session)
    done = client.post(
        f"/v1/accounts/{account_id}/payment-sessions/{session['session_id']}/complete",
        json={"turnstile_token": turnstile.mint(SITE_KEY), "payment_method": pm},
        headers=as_(CUSTOMER),
    )
    assert done.status_code == 200, done.text
    (payment,) = done.json()["payments"]
    assert (payment["invoice_id"], payment["status"]) == (invoice_id, "succeeded")
    account = load_account(api.container.app, account_id)
    assert account.default_method_id == done.json()["method_id"]
    assert account.invoices[invoice_id].status.value == "paid"
    assert str(account.attempts[payment["attempt_id"]].processor_payment_id).startswith("pi_")


def test_a_completed_session_answers_the_same_again_and_charges_once(
    api: Api, localstripe: LocalStripeServer, turnstile: TurnstileServer
) -> None:
    account_id, _ = open_account(api.client())
    client, sdk = api.client(account_id), sdk_client(localstripe)
    subscribe_unpaid(client, account_id, sdk)
    session, pm = card_session(client, account_id, sdk, pay_open_invoices=True)
    url = f"/v1/accounts/{account_id}/payment-sessions/{session}/complete"
    body = {"turnstile_token": turnstile.mint(SITE_KEY), "payment_method": pm}
    first, second = (client.post(url, json=body, headers=as_(CUSTOMER)) for _ in range(2))
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["replayed"] is True
    assert second.json()["payments"] == first.json()["payments"]
    attempts = load_account(api.container.app, account_id).attempts.values()
    assert sorted(a.status.value for a in attempts) == ["failed", "succeeded"]
    intents = sdk.v1.payment_intents.list({"limit": 100}).data
    assert sorted(i.status for i in intents) == ["requires_payment_method", "succeeded"]


def test_a_completion_repeated_while_its_payment_is_charging_is_told_to_retry(
    api: Api, localstripe: LocalStripeServer, turnstile: TurnstileServer
) -> None:
    account_id, _ = open_account(api.client())
    client, sdk = api.client(account_id), sdk_client(localstripe)
    subscribe_unpaid(client, account_id, sdk)
    session, pm = card_session(client, account_id, sdk, pay_open_invoices=True)
    container = api.container
    assert container.checkout is not None
    held = HeldCharges(container.deps.gateway)
    container.deps = dataclasses.replace(container.deps, gateway=held)
    container.checkout = dataclasses.replace(container.checkout, deps=container.deps)
    url = f"/v1/accounts/{account_id}/payment-sessions/{session}/complete"
    body = {"turnstile_token": turnstile.mint(SITE_KEY), "payment_method": pm}
    headers = as_(CUSTOMER, **{"Idempotency-Key": "complete-1"})
    answers: list[httpx.Response] = []
    first = threading.Thread(
        target=lambda: answers.append(client.post(url, json=body, headers=headers))
    )
    first.start()
    assert held.entered.wait(30)
    in_flight = client.post(url, json=body, headers=headers)
    assert (in_flight.status_code, in_flight.json()["code"]) == (409, "idempotency_key_in_use")
    assert int(in_flight.headers["Retry-After"]) > 0
    held.release()
    first.join(30)
    [done] = answers
    assert done.status_code == 200, done.text
    [payment] = done.json()["payments"]
    assert payment["status"] == "succeeded"
    again = client.post(url, json=body, headers=headers)
    assert again.json() == {**done.json(), "replayed": True}


def test_a_reused_or_bad_turnstile_token_is_refused_and_nothing_is_vaulted(
    api: Api, localstripe: LocalStripeServer, turnstile: TurnstileServer
) -> None:
    account_id, _ = open_account(api.client())
    client, sdk = api.client(account_id), sdk_client(localstripe)
    token = turnstile.mint(SITE_KEY)
    sessions = [card_session(client, account_id, sdk) for _ in range(2)]
    url = f"/v1/accounts/{account_id}/payment-sessions/{{}}/complete"
    ok = client.post(
        url.format(sessions[0][0]),
        json={"turnstile_token": token, "payment_method": sessions[0][1]},
        headers=as_(CUSTOMER),
    )
    assert ok.status_code == 200, ok.text
    before = event_types(api.container, account_id)
    for bad in (token, "not-a-token"):
        refused = client.post(
            url.format(sessions[1][0]),
            json={"turnstile_token": bad, "payment_method": sessions[1][1]},
            headers=as_(CUSTOMER),
        )
        assert (refused.status_code, refused.json()["code"]) == (403, "human_check_failed")
    assert event_types(api.container, account_id) == before


def test_sessions_belong_to_their_account_and_need_the_right_result(
    api: Api, localstripe: LocalStripeServer, turnstile: TurnstileServer
) -> None:
    account_id, _ = open_account(api.client())
    other_id, _ = open_account(api.client())
    client = api.client(account_id)
    session = client.post(
        f"/v1/accounts/{account_id}/payment-sessions",
        json={"method": "card"},
        headers=as_(CUSTOMER),
    ).json()["session_id"]
    wrong_account = api.client().post(
        f"/internal/accounts/{other_id}/payment-sessions/{session}/complete",
        json={"turnstile_token": turnstile.mint(SITE_KEY), "payment_method": "pm_x"},
        headers=as_(SERVICE),
    )
    assert (wrong_account.status_code, wrong_account.json()["code"]) == (
        404,
        "payment_session_not_found",
    )
    wrong_result = client.post(
        f"/v1/accounts/{account_id}/payment-sessions/{session}/complete",
        json={"turnstile_token": turnstile.mint(SITE_KEY), "nonce": "fake-nonce"},
        headers=as_(CUSTOMER),
    )
    assert (wrong_result.status_code, wrong_result.json()["code"]) == (
        422,
        "payment_session_result_mismatch",
    )


def test_a_paypal_session_vaults_a_billing_agreement(
    api: Api, braintree_server: LocalBraintreeGateway, turnstile: TurnstileServer
) -> None:
    account_id, _ = open_account(api.client())
    client = api.client(account_id)
    session = client.post(
        f"/v1/accounts/{account_id}/payment-sessions",
        json={"method": "paypal"},
        headers=as_(CUSTOMER),
    ).json()
    assert session["braintree_client_token"]
    done = client.post(
        f"/v1/accounts/{account_id}/payment-sessions/{session['session_id']}/complete",
        json={
            "turnstile_token": turnstile.mint(SITE_KEY),
            "nonce": braintree_server.mint_nonce(),
        },
        headers=as_(CUSTOMER),
    )
    assert done.status_code == 200, done.text
    account = load_account(api.container.app, account_id)
    assert account.collection_path is CollectionPath.PAYPAL_SEND_INVOICE
    assert account.default_method_id == done.json()["method_id"]


def test_an_outage_during_completion_is_a_503_and_the_session_completes_later(
    api: Api, stripe_down: Api, localstripe: LocalStripeServer, turnstile: TurnstileServer
) -> None:
    account_id, _ = open_account(api.client())
    client, sdk = api.client(account_id), sdk_client(localstripe)
    invoice_id = subscribe_unpaid(client, account_id, sdk)
    session, pm = card_session(client, account_id, sdk, pay_open_invoices=True)
    url = f"/v1/accounts/{account_id}/payment-sessions/{session}/complete"
    body = {"turnstile_token": turnstile.mint(SITE_KEY), "payment_method": pm}
    before = event_types(api.container, account_id)
    down = stripe_down.client(account_id).post(url, json=body, headers=as_(CUSTOMER))
    assert (down.status_code, down.json()["code"]) == (503, "processor_unavailable")
    assert event_types(api.container, account_id) == before
    done = client.post(url, json=body, headers=as_(CUSTOMER))
    assert done.status_code == 200, done.text
    assert load_account(api.container.app, account_id).invoices[invoice_id].status.value == "paid"


def test_a_profile_edit_reaches_the_braintree_customer_once_paypal_is_added(
    api: Api, braintree_server: LocalBraintreeGateway
) -> None:
    client = api.client()
    account_id, written = open_account(client)
    assert written["customer_sync"] == {"stripe": "created"}  # no Braintree customer yet
    client.post(
        f"/internal/accounts/{account_id}/payment-methods/paypal/vaulted",
        json={"nonce": braintree_server.mint_nonce()},
        headers=as_(SERVICE),
    )
    edited = client.patch(
        f"/internal/accounts/{account_id}", json={"name": "Ada King"}, headers=as_(SERVICE)
    )
    assert edited.json()["customer_sync"] == {"stripe": "updated", "braintree": "updated"}
    vault = api.container.paypal
    assert vault is not None
    found = vault.find_customer(str(account_id))
    assert found is not None
    assert found.name == "Ada King"


def test_braintree_answering_500_while_vaulting_is_a_503_and_records_nothing(
    api: Api, braintree_server: LocalBraintreeGateway
) -> None:
    client = api.client()
    account_id, _ = open_account(client)
    before = event_types(api.container, account_id)
    braintree_server.fail(500)
    refused = client.post(
        f"/internal/accounts/{account_id}/payment-methods/paypal/vaulted",
        json={"nonce": braintree_server.mint_nonce()},
        headers=as_(SERVICE),
    )
    assert (refused.status_code, refused.json()["code"]) == (503, "processor_unavailable")
    assert event_types(api.container, account_id) == before


def test_customers_vault_only_through_the_bot_checked_flow(
    api: Api, localstripe: LocalStripeServer
) -> None:
    account_id, _ = open_account(api.client())
    client = api.client(account_id)
    base = f"/v1/accounts/{account_id}/payment-methods"
    for path in ("cards/setup", "cards/vaulted", "paypal/client-token", "paypal/vaulted"):
        response = client.post(f"{base}/{path}", json={}, headers=as_(CUSTOMER))
        assert response.status_code in (404, 405), path
    sync = client.post(
        f"/v1/accounts/{account_id}/provider-customers/sync", json={}, headers=as_(CUSTOMER)
    )
    assert sync.status_code in (404, 405)


def test_an_invoice_with_its_own_attempt_in_flight_is_left_to_it(
    api: Api, localstripe: LocalStripeServer, turnstile: TurnstileServer
) -> None:
    account_id, _ = open_account(api.client())
    client, sdk = api.client(account_id), sdk_client(localstripe)
    client.post(
        f"/internal/accounts/{account_id}/payment-methods/cards/vaulted",
        json={"payment_method": card(sdk, THREE_D_SECURE)},
        headers=as_(SERVICE),
    )
    subscribed = client.post(
        f"/internal/accounts/{account_id}/subscriptions",
        json={"plan_id": "pro-monthly-usd", "on_session": False},
        headers=as_(SERVICE),
    )
    waiting = subscribed.json()["payment"]
    assert waiting["status"] == "requires_action"
    session, pm = card_session(client, account_id, sdk, pay_open_invoices=True)
    done = client.post(
        f"/v1/accounts/{account_id}/payment-sessions/{session}/complete",
        json={"turnstile_token": turnstile.mint(SITE_KEY), "payment_method": pm},
        headers=as_(CUSTOMER),
    )
    assert done.status_code == 200, done.text
    assert done.json()["payments"] == [
        {
            "invoice_id": subscribed.json()["invoice_id"],
            "attempt_id": waiting["attempt_id"],
            "status": "in_flight",
            "decline_code": None,
            "client_secret": None,
        }
    ]
    assert len(load_account(api.container.app, account_id).attempts) == 1


def test_the_same_idempotency_key_from_two_accounts_starts_two_sessions_and_one_request(
    api: Api,
) -> None:
    first_id, _ = open_account(api.client())
    second_id, _ = open_account(api.client())
    key = {"Idempotency-Key": str(uuid4())}
    sessions = [
        api.client()
        .post(
            f"/internal/accounts/{account}/payment-sessions",
            json={"method": "card"},
            headers=as_(SERVICE, **key),
        )
        .json()["session_id"]
        for account in (first_id, second_id)
    ]
    assert sessions[0] != sessions[1]
    again = api.client().post(
        f"/internal/accounts/{first_id}/payment-sessions",
        json={"method": "card"},
        headers=as_(SERVICE, **key),
    )
    assert again.json()["session_id"] == sessions[0]
    other = api.client().post(
        f"/internal/accounts/{first_id}/payment-sessions",
        json={"method": "paypal"},
        headers=as_(SERVICE, **key),
    )
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")


def test_a_card_removed_while_stripe_is_down_is_removed_here_and_listed_for_detaching(
    api: Api, stripe_down: Api, localstripe: LocalStripeServer
) -> None:
    account_id, _ = open_account(api.client())
    sdk = sdk_client(localstripe)
    pm = card(sdk)
    api.client().post(
        f"/internal/accounts/{account_id}/payment-methods/cards/vaulted",
        json={"payment_method": pm},
        headers=as_(SERVICE),
    )
    (method_id,) = load_account(api.container.app, account_id).methods
    removed = stripe_down.client(account_id).post(
        f"/v1/accounts/{account_id}/payment-methods/{method_id}/remove",
        json={},
        headers=as_(CUSTOMER),
    )
    assert removed.status_code == 200, removed.text
    assert load_account(api.container.app, account_id).methods[method_id].usable is False
    assert sdk.v1.payment_methods.retrieve(pm).customer is not None  # still attached there
    findings = check_account(api.container.deps, account_id).findings
    assert [(f.kind.value, f.subject) for f in findings] == [("method_unknown_to_ledger", pm)]
    assert [r.action.value for r in findings[0].repairs] == ["detach-method"]


def test_the_customer_updated_echo_of_our_own_sync_runs_no_check(
    api: Api, localstripe: LocalStripeServer
) -> None:
    client = api.client()
    account_id, _ = open_account(client)
    client.patch(
        f"/internal/accounts/{account_id}", json={"name": "Ada King"}, headers=as_(SERVICE)
    )
    customer_id = load_account(api.container.app, account_id).provider_customers["stripe"]
    at_stripe = sdk_client(localstripe).v1.customers.retrieve(customer_id).to_dict()
    echo = {"type": "customer.updated", "data": {"object": at_stripe}}
    assert on_customer_updated(api.container, echo) == "in_step"
    with api.container.connection() as conn:
        assert get_reconciliation(conn, account_id) is None  # no check was run or stored
    sdk = sdk_client(localstripe)
    sdk.v1.customers.update(customer_id, {"email": "edited@stripe.example"})
    edited = sdk.v1.customers.retrieve(customer_id).to_dict()
    edit = {"type": "customer.updated", "data": {"object": edited}}
    assert on_customer_updated(api.container, edit) == "reconciled"
    with api.container.connection() as conn:
        view = get_reconciliation(conn, account_id)
    assert view is not None
    assert [f.kind for f in view.findings] == ["customer_drifted"]


def test_only_the_card_confirmed_on_the_sessions_setup_intent_is_vaulted(
    api: Api, localstripe: LocalStripeServer, turnstile: TurnstileServer
) -> None:
    account_id, _ = open_account(api.client())
    client, sdk = api.client(account_id), sdk_client(localstripe)
    started = client.post(
        f"/v1/accounts/{account_id}/payment-sessions",
        json={"method": "card"},
        headers=as_(CUSTOMER),
    ).json()
    url = f"/v1/accounts/{account_id}/payment-sessions/{started['session_id']}/complete"
    before = event_types(api.container, account_id)
    for pm in (card(sdk), "pm_never_seen"):  # not confirmed on this SetupIntent
        refused = client.post(
            url,
            json={"turnstile_token": turnstile.mint(SITE_KEY), "payment_method": pm},
            headers=as_(CUSTOMER),
        )
        assert (refused.status_code, refused.json()["code"]) == (409, "card_setup_not_confirmed")
    assert event_types(api.container, account_id) == before
    confirmed = confirm_setup(sdk, started)
    done = client.post(
        url,
        json={"turnstile_token": turnstile.mint(SITE_KEY), "payment_method": confirmed},
        headers=as_(CUSTOMER),
    )
    assert done.status_code == 200, done.text
    method = load_account(api.container.app, account_id).methods[done.json()["method_id"]]
    assert method.processor_ref == confirmed
