"""Signed but malformed processor deliveries answer 400 and are counted, never 500; Braintree
notifications older than the accepted window are refused (issue 10, item 2). Signed with
the real schemes: Stripe's HMAC-SHA256 header, Braintree's HMAC-SHA1 of the base64 payload."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from pydantic import SecretStr

from adapters.bootstrap import Container, build
from adapters.http.app import create_app
from adapters.http.auth import ApiKeys
from adapters.settings import Settings
from tests.braintree_gateway import LocalBraintreeGateway
from tests.fakes.clock import FixedClock
from tests.integration.test_stripe_webhooks import SECRET, intent_event, signed

REJECTED = "billing_webhooks_rejected_total"


def rejections(provider: str, reason: str) -> float:
    return REGISTRY.get_sample_value(REJECTED, {"provider": provider, "reason": reason}) or 0.0


@pytest.fixture
def stripe_client(database_url: str, clock: FixedClock) -> Iterator[TestClient]:
    settings = Settings(
        database_url=database_url,
        kafka_bootstrap=None,
        pool_size=2,
        stripe_webhook_secret=SecretStr(SECRET),
    )
    container = build(settings, clock=clock)
    with TestClient(create_app(container, ApiKeys([]))) as client:
        yield client
    container.close()


def _not_a_uuid() -> dict[str, Any]:
    event = intent_event("payment_intent.succeeded", "pi_1", "att_1", uuid4())
    event["data"]["object"]["metadata"]["account_id"] = "not-a-uuid"
    return event


def _without(field: str) -> dict[str, Any]:
    event = intent_event("payment_intent.payment_failed", "pi_1", "att_1", uuid4())
    event.pop(field)
    return event


STRIPE_MALFORMED: dict[str, Any] = {
    "an array": [],
    "null": None,
    "a string": "evt_1",
    "no data": _without("data"),
    "no id": _without("id"),
    "data without object": {"id": "evt_1", "type": "refund.created", "data": {}},
    "an object that is not one": {"id": "evt_1", "type": "refund.created", "data": {"object": []}},
    "a metadata id that is not a UUID": _not_a_uuid(),
}


@pytest.mark.parametrize("event", STRIPE_MALFORMED.values(), ids=STRIPE_MALFORMED)
def test_a_signed_but_malformed_stripe_event_is_a_counted_400(
    stripe_client: TestClient, event: Any
) -> None:
    before = rejections("stripe", "malformed_webhook")
    body, headers = signed(event)
    response = stripe_client.post("/webhooks/stripe", content=body, headers=headers)
    assert (response.status_code, response.json()["code"]) == (400, "malformed_webhook")
    assert rejections("stripe", "malformed_webhook") == before + 1


def test_a_signed_body_that_is_not_json_is_a_counted_400(stripe_client: TestClient) -> None:
    before = rejections("stripe", "malformed_webhook")
    body, headers = signed({})
    body = b"{not json"
    t = headers["Stripe-Signature"].split(",")[0].removeprefix("t=")
    v1 = hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    headers["Stripe-Signature"] = f"t={t},v1={v1}"
    response = stripe_client.post("/webhooks/stripe", content=body, headers=headers)
    assert (response.status_code, response.json()["code"]) == (400, "malformed_webhook")
    assert rejections("stripe", "malformed_webhook") == before + 1


def test_a_bad_stripe_signature_is_counted_too(stripe_client: TestClient) -> None:
    before = rejections("stripe", "invalid_signature")
    body, headers = signed({"id": "evt_1"}, secret="whsec_someone_else")
    response = stripe_client.post("/webhooks/stripe", content=body, headers=headers)
    assert (response.status_code, response.json()["code"]) == (400, "invalid_signature")
    assert rejections("stripe", "invalid_signature") == before + 1


def braintree_signed(server: LocalBraintreeGateway, document: bytes) -> dict[str, str]:
    """Any document, signed as Braintree signs a payload."""
    payload = base64.encodebytes(document)
    key = hashlib.sha1(server.private_key.encode()).digest()  # noqa: S324 - Braintree's scheme
    digest = hmac.new(key, payload, hashlib.sha1).hexdigest()
    return {"bt_signature": f"{server.public_key}|{digest}", "bt_payload": payload.decode()}


def notification(kind: str, subject: str, at: datetime) -> bytes:
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f'<notification><timestamp type="datetime">{stamp}</timestamp><kind>{kind}</kind>'
        f"<subject>{subject}</subject></notification>"
    ).encode()


@pytest.fixture
def braintree_client(paypal_container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(paypal_container, ApiKeys([]))) as client:
        yield client


BRAINTREE_MALFORMED = {
    "not XML": lambda now: b"this is not xml at all",
    "no notification": lambda now: b"<other><kind>check</kind></other>",
    "no timestamp": lambda now: b"<notification><kind>check</kind><subject/></notification>",
    "empty subject": lambda now: notification("payment_method_revoked_by_customer", "", now),
    "a dispute without dispute": lambda now: notification(
        "dispute_opened", "<transaction><id>tx_1</id></transaction>", now
    ),
    "a revocation without metadata": lambda now: notification(
        "payment_method_revoked_by_customer", "<other>1</other>", now
    ),
}


@pytest.mark.parametrize("document", BRAINTREE_MALFORMED.values(), ids=BRAINTREE_MALFORMED)
def test_a_signed_but_malformed_braintree_notification_is_a_counted_400(
    braintree_client: TestClient,
    braintree_server: LocalBraintreeGateway,
    clock: FixedClock,
    document: Any,
) -> None:
    before = rejections("braintree", "malformed_webhook")
    form = braintree_signed(braintree_server, document(clock.now()))
    response = braintree_client.post("/webhooks/braintree", data=form)
    assert (response.status_code, response.json()["code"]) == (400, "malformed_webhook")
    assert rejections("braintree", "malformed_webhook") == before + 1


def test_a_braintree_notification_older_than_the_window_is_refused(
    braintree_client: TestClient,
    braintree_server: LocalBraintreeGateway,
    clock: FixedClock,
    paypal_container: Container,
) -> None:
    window = timedelta(seconds=paypal_container.settings.braintree_webhook_max_age_s)
    assert window == timedelta(hours=26)
    before = rejections("braintree", "stale_webhook")
    for at in (datetime(2001, 1, 1), clock.now() - window - timedelta(seconds=1)):
        form = braintree_signed(braintree_server, notification("check", "", at))
        response = braintree_client.post("/webhooks/braintree", data=form)
        assert (response.status_code, response.json()["code"]) == (400, "stale_webhook")
    assert rejections("braintree", "stale_webhook") == before + 2
    recent = notification("check", "", clock.now() - window + timedelta(minutes=1))
    answer = braintree_client.post(
        "/webhooks/braintree", data=braintree_signed(braintree_server, recent)
    )
    assert (answer.status_code, answer.json()["outcome"]) == (200, "acknowledged")


def test_the_window_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGER_BRAINTREE_WEBHOOK_MAX_AGE_S", "600")
    assert Settings().braintree_webhook_max_age_s == 600
