"""`/webhooks/stripe` with the SDK's signature check: localstripe's own signed deliveries
settle an attempt a crash left pending; redeliveries and late or out-of-order events
change nothing; bad signatures are refused; unknown types are acknowledged."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest
import uvicorn
from fastapi.testclient import TestClient
from pydantic import SecretStr

from adapters.bootstrap import Container, build
from adapters.http.app import create_app
from adapters.http.auth import ApiKeys
from commands.base import load_account
from ledger.payments import AttemptStatus
from tests.fakes.clock import FixedClock
from tests.harness import LocalStripeServer, free_port
from tests.integration.kill_after_charge import charge_and_die
from tests.integration.test_stripe_gateway import sdk_client, stripe_account, stripe_settings

SECRET = "whsec_test_0123456789"


@pytest.fixture
def hooked(
    database_url: str, clock: FixedClock, localstripe: LocalStripeServer
) -> Iterator[Container]:
    settings = stripe_settings(database_url, localstripe, stripe_webhook_secret=SecretStr(SECRET))
    built = build(settings, clock=clock)
    yield built
    built.close()


def signed(event: dict[str, Any], secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    """A delivery signed as Stripe documents it: HMAC-SHA256 of "<t>.<payload>"."""
    payload = json.dumps(event).encode()
    t = int(time.time())
    v1 = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return payload, {"Stripe-Signature": f"t={t},v1={v1}", "Content-Type": "application/json"}


def intent_event(kind: str, intent_id: str, attempt_id: str, account_id: UUID) -> dict[str, Any]:
    return {
        "id": f"evt_{uuid4().hex[:16]}",
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {
            "object": {
                "id": intent_id,
                "object": "payment_intent",
                "metadata": {"attempt_id": attempt_id, "account_id": str(account_id)},
                "last_payment_error": {"code": "card_declined", "decline_code": "expired_card"},
            }
        },
    }


@pytest.fixture
def served(hooked: Container) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(
        create_app(hooked, ApiKeys([])), host="127.0.0.1", port=port, log_config=None
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the webhook server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/webhooks/stripe"
    server.should_exit = True
    thread.join(timeout=10)


def register(localstripe: LocalStripeServer, url: str) -> None:
    form = f"url={url}&secret={SECRET}&events[]=payment_intent.succeeded".encode()
    hook = f"{localstripe.url}/_config/webhooks/{uuid4().hex}"
    request = urllib.request.Request(hook, data=form, method="POST")  # noqa: S310 - loopback
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        assert answer.status == 200


def test_localstripes_signed_delivery_settles_an_attempt_a_crash_left_pending(
    hooked: Container, served: str, localstripe: LocalStripeServer, database_url: str
) -> None:
    register(localstripe, served)
    account_id, _, _ = stripe_account(hooked, sdk_client(localstripe))
    charge_and_die(database_url, localstripe.url, localstripe.api_key, account_id)

    deadline = time.monotonic() + 20
    while True:
        [attempt] = load_account(hooked.app, account_id).attempts.values()
        if not attempt.in_flight:
            break
        assert time.monotonic() < deadline, "localstripe's webhook never settled the attempt"
        time.sleep(0.2)
    assert attempt.status is AttemptStatus.SUCCEEDED
    assert attempt.processor_payment_id is not None
    assert attempt.processor_payment_id.startswith("pi_")

    with TestClient(create_app(hooked, ApiKeys([]))) as client:
        late = intent_event(
            "payment_intent.payment_failed",
            attempt.processor_payment_id,
            attempt.attempt_id,
            account_id,
        )
        for _ in range(2):  # out of order, and delivered twice
            body, headers = signed(late)
            answer = client.post("/webhooks/stripe", content=body, headers=headers)
            assert answer.json()["outcome"] == "already_settled"
    kinds = [e.event_type for e in hooked.reader.stream_between(account_id, 0, None)]
    assert kinds.count("PaymentSucceeded") == 1
    assert "PaymentFailed" not in kinds


def test_bad_signatures_are_refused_and_unknown_types_acknowledged(hooked: Container) -> None:
    with TestClient(create_app(hooked, ApiKeys([]))) as client:
        event = {
            "id": "evt_1",
            "object": "event",
            "type": "customer.created",
            "data": {"object": {"id": "cus_1", "object": "customer"}},
        }
        body, headers = signed(event, secret="whsec_someone_else")
        refused = client.post("/webhooks/stripe", content=body, headers=headers)
        assert (refused.status_code, refused.json()["code"]) == (400, "invalid_signature")
        unsigned = client.post("/webhooks/stripe", content=body)
        assert unsigned.status_code == 400
        body, headers = signed(event)
        ignored = client.post("/webhooks/stripe", content=body, headers=headers)
        assert (ignored.status_code, ignored.json()["outcome"]) == (200, "ignored")
        foreign = intent_event("payment_intent.succeeded", "pi_x", "att_x", uuid4())
        foreign["data"]["object"]["metadata"] = {}
        body, headers = signed(foreign)
        assert client.post("/webhooks/stripe", content=body, headers=headers).json() == {
            "received": foreign["id"],
            "outcome": "not_ours",
        }
