"""`/webhooks/braintree` through the real HTTP app and event store, the container's SDK
gateway parsing the notifications and reading disputed sales back from the local Braintree
gateway. Disputes use the SDK's own signed samples (`webhook_testing.sample_notification`:
the dispute and its transaction share the id we pass, 100.00 USD disputed); a revocation
needs the ledger's customer id, which the SDK's sample cannot carry, so it is built and
signed here as Braintree signs: HMAC-SHA1, keyed with SHA-1 of the private key, of the
base64 payload, sent as "<public key>|<hex digest>"."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from adapters.bootstrap import Container, build
from adapters.braintree.config import BraintreeConfig, sdk_gateway
from adapters.http.app import create_app
from adapters.http.auth import ApiKeys
from adapters.settings import Settings
from commands import billing
from commands.base import load_account
from commands.models import Subscribe
from ledger.envelope import EventEnvelope
from ledger.methods import CollectionPath, MethodState
from ledger.money import Money
from ledger.payments import DisputeStatus
from tests.braintree_gateway import LocalBraintreeGateway
from tests.fakes.builders import customer_ctx
from tests.fakes.clock import FixedClock
from tests.integration.test_paypal_collection import paypal_account

PLAN, PRICE = "business-monthly-usd", 20000  # 200.00 USD: the samples dispute 100.00
DISPUTED = 10000


@pytest.fixture
def client(paypal_container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(paypal_container, ApiKeys([]))) as test_client:
        yield test_client


@pytest.fixture
def testing(braintree_server: LocalBraintreeGateway) -> Any:
    """An SDK gateway with the merchant's keys, for `webhook_testing` (what Braintree signs
    with)."""
    config = BraintreeConfig(
        merchant_id=braintree_server.merchant_id,
        public_key=braintree_server.public_key,
        private_key=braintree_server.private_key,
        environment="local",
        port=braintree_server.port,
    )
    return sdk_gateway(config).webhook_testing


def sample(testing: Any, kind: str, subject_id: str) -> dict[str, str]:
    signed = testing.sample_notification(kind, subject_id)
    return {"bt_signature": signed["bt_signature"], "bt_payload": signed["bt_payload"].decode()}


def signed(server: LocalBraintreeGateway, subject: str, kind: str) -> dict[str, str]:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    xml = (
        f'<notification><timestamp type="datetime">{stamp}</timestamp><kind>{kind}</kind>'
        f"<subject>{subject}</subject></notification>"
    )
    payload = base64.encodebytes(xml.encode())
    key = hashlib.sha1(server.private_key.encode()).digest()  # noqa: S324 - Braintree's scheme
    digest = hmac.new(key, payload, hashlib.sha1).hexdigest()
    return {"bt_signature": f"{server.public_key}|{digest}", "bt_payload": payload.decode()}


def revoked_xml(customer_id: str, token: str) -> str:
    return (
        "<paypal-account><billing-agreement-id>B-1</billing-agreement-id>"
        f"<customer-id>{customer_id}</customer-id><email>payer@example.com</email>"
        f'<token>{token}</token><revoked-at type="datetime">2026-12-01T12:00:00Z</revoked-at>'
        "</paypal-account>"
    )


def deliver(client: TestClient, form: dict[str, str]) -> str:
    answer = client.post("/webhooks/braintree", data=form)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["outcome"])


def paid_by_paypal(container: Container) -> tuple[UUID, str, str]:
    """(account, attempt id, Braintree transaction id) of a subscription paid by PayPal."""
    account_id = paypal_account(container)
    cmd = Subscribe(account_id=account_id, plan_id=PLAN, on_session=True)
    result = billing.subscribe(container.deps, cmd, customer_ctx())
    assert result.payment is not None
    attempt = load_account(container.app, account_id).attempts[result.payment.attempt_id]
    assert attempt.processor_payment_id is not None
    return account_id, attempt.attempt_id, attempt.processor_payment_id


def events_of(container: Container, account_id: UUID, *kinds: str) -> list[EventEnvelope]:
    stream = container.reader.stream_between(account_id, 0, None)
    return [e for e in stream if e.event_type in kinds]


def assert_from_braintree(recorded: EventEnvelope, kind: str) -> None:
    assert recorded.meta["actor"] == {"id": "braintree", "kind": "system"}
    assert recorded.meta["surface"] == "webhook"
    assert recorded.meta["reason"].startswith(f"braintree {kind} ")


def test_a_revoked_billing_agreement_revokes_the_method_once(
    paypal_container: Container,
    client: TestClient,
    braintree_server: LocalBraintreeGateway,
    testing: Any,
) -> None:
    account_id = paypal_account(paypal_container)
    [method] = load_account(paypal_container.app, account_id).methods.values()
    kind = "payment_method_revoked_by_customer"
    # The SDK's sample names a customer "a-customer-id": not a ledger account.
    assert deliver(client, sample(testing, kind, method.processor_ref)) == "not_ours"

    revoked = signed(braintree_server, revoked_xml(str(account_id), method.processor_ref), kind)
    assert deliver(client, revoked) == "recorded"
    assert deliver(client, revoked) == "already_recorded"  # redelivered
    unknown = signed(braintree_server, revoked_xml(str(account_id), "no-such-token"), kind)
    assert deliver(client, unknown) == "refused"

    [event] = events_of(paypal_container, account_id, "PaymentMethodRevoked")
    assert event.data["method_id"] == method.method_id
    assert_from_braintree(event, kind)
    account = load_account(paypal_container.app, account_id)
    assert account.methods[method.method_id].state is MethodState.REVOKED
    assert account.collection_path is not CollectionPath.PAYPAL_SEND_INVOICE


def test_a_dispute_opens_and_closes_once_each_from_the_sdks_samples(
    paypal_container: Container, client: TestClient, testing: Any
) -> None:
    account_id, attempt_id, transaction_id = paid_by_paypal(paypal_container)
    opened = sample(testing, "dispute_opened", transaction_id)
    assert deliver(client, opened) == "recorded"
    assert deliver(client, opened) == "already_recorded"  # redelivered
    assert deliver(client, sample(testing, "dispute_won", transaction_id)) == "recorded"
    assert deliver(client, sample(testing, "dispute_lost", transaction_id)) == "already_recorded"

    [dispute_opened] = events_of(paypal_container, account_id, "DisputeOpened")
    assert (dispute_opened.data["dispute_id"], dispute_opened.data["amount"]) == (
        transaction_id,
        DISPUTED,
    )
    assert_from_braintree(dispute_opened, "dispute_opened")
    [closed] = events_of(paypal_container, account_id, "DisputeClosed")
    assert closed.data["won"] is True
    assert_from_braintree(closed, "dispute_won")
    attempt = load_account(paypal_container.app, account_id).attempts[attempt_id]
    assert attempt.dispute is DisputeStatus.WON
    assert attempt.refundable == Money(PRICE, "USD")


def test_a_dispute_lost_before_it_was_opened_records_both(
    paypal_container: Container, client: TestClient, testing: Any
) -> None:
    account_id, attempt_id, transaction_id = paid_by_paypal(paypal_container)
    assert deliver(client, sample(testing, "dispute_lost", transaction_id)) == "recorded"
    late = sample(testing, "dispute_opened", transaction_id)
    assert deliver(client, late) == "already_recorded"

    recorded = events_of(paypal_container, account_id, "DisputeOpened", "DisputeClosed")
    assert [e.event_type for e in recorded] == ["DisputeOpened", "DisputeClosed"]
    assert (recorded[0].data["amount"], recorded[1].data["won"]) == (DISPUTED, False)
    attempt = load_account(paypal_container.app, account_id).attempts[attempt_id]
    assert (attempt.dispute, attempt.disputed_amount) == (DisputeStatus.LOST, DISPUTED)
    assert attempt.refundable == Money(PRICE - DISPUTED, "USD")


def test_checks_other_kinds_and_unknown_sales_are_acknowledged_bad_signatures_refused(
    paypal_container: Container,
    client: TestClient,
    braintree_server: LocalBraintreeGateway,
    testing: Any,
) -> None:
    assert deliver(client, sample(testing, "check", "")) == "acknowledged"
    assert deliver(client, sample(testing, "transaction_settled", "tx1")) == "ignored"
    assert deliver(client, sample(testing, "dispute_opened", "unknown-sale")) == "not_ours"

    forged = sample(testing, "check", "")
    forged["bt_signature"] = f"{braintree_server.public_key}|{'0' * 40}"
    for form in (forged, {"bt_payload": forged["bt_payload"]}, {}):
        refused = client.post("/webhooks/braintree", data=form)
        assert (refused.status_code, refused.json()["code"]) == (400, "invalid_signature")


def test_without_braintree_the_endpoint_is_not_configured(
    database_url: str, clock: FixedClock
) -> None:
    settings = Settings(database_url=database_url, kafka_bootstrap=None, pool_size=2)
    with (
        build(settings, clock=clock) as container,
        TestClient(create_app(container, ApiKeys([]))) as client,
    ):
        answer = client.post("/webhooks/braintree", data={"bt_signature": "x", "bt_payload": "y"})
    assert (answer.status_code, answer.json()["code"]) == (404, "webhooks_not_configured")


def test_a_dispute_whose_sale_cannot_be_read_is_an_error_and_redelivered_later(
    paypal_container: Container,
    client: TestClient,
    braintree_server: LocalBraintreeGateway,
    testing: Any,
) -> None:
    account_id, _, transaction_id = paid_by_paypal(paypal_container)
    opened = sample(testing, "dispute_opened", transaction_id)
    braintree_server.fail(500, path=r"/transactions/[^/]+$")
    failed = client.post("/webhooks/braintree", data=opened)
    assert (failed.status_code, failed.json()["code"]) == (503, "processor_unavailable")
    assert events_of(paypal_container, account_id, "DisputeOpened") == []

    braintree_server.clear_faults()
    assert deliver(client, opened) == "recorded"  # Braintree's redelivery
    assert len(events_of(paypal_container, account_id, "DisputeOpened")) == 1
