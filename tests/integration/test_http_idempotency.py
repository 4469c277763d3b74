"""Idempotency-Key over HTTP on real PostgreSQL: a retried request gets the first answer and
only the first request's effect; the same key with another request is 409
`idempotency_key_reused`; a repeat while the first is still charging is 409
`idempotency_key_in_use` with Retry-After; keys are any 1-255 printable ASCII characters,
scoped per caller."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi.testclient import TestClient

from adapters.bootstrap import Container
from adapters.http.app import create_app
from commands import accounts, dunning
from commands.base import load_account
from commands.models import RunBilling
from tests.fakes.api_keys import three_principals
from tests.fakes.billing import CARD as CARD_REF
from tests.fakes.billing import subscribe
from tests.fakes.builders import open_cmd, service_ctx, system_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import BlockingGateway, FakeGateway

CARD = {
    "processor_ref": CARD_REF,
    "brand": "visa",
    "last4": "4242",
    "exp_month": 12,
    "exp_year": 2030,
}
PLAN = {"plan_id": "pro-monthly-usd", "on_session": False}


@pytest.fixture
def gateway(container: Container) -> FakeGateway:
    fake = BlockingGateway()
    fake.release()  # charges go through unless a test holds them
    container.deps = dataclasses.replace(container.deps, gateway=fake)
    return fake


@pytest.fixture
def account_id(container: Container) -> UUID:
    cmd = open_cmd(currency="USD")
    return accounts.open_account(container.deps, cmd, service_ctx()).account_id


@pytest.fixture
def client(container: Container, gateway: FakeGateway, account_id: UUID) -> Iterator[TestClient]:
    keys = three_principals(account_id)
    with TestClient(create_app(container, keys)) as test_client:
        yield test_client


def as_(who: str, key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {who}-key"}
    return {**headers, "Idempotency-Key": key} if key is not None else headers


def stream_length(container: Container, account_id: UUID) -> int:
    return load_account(container.app, account_id).version


def test_a_credit_key_reused_with_another_amount_is_409_and_records_nothing(
    client: TestClient, container: Container, account_id: UUID
) -> None:
    path = f"/support/accounts/{account_id}/credits"
    key = "credit-ticket-123"
    first = client.post(
        path,
        json={"amount": 11, "currency": "USD", "reason": "outage"},
        headers=as_("support", key),
    )
    assert first.status_code == 201
    version = stream_length(container, account_id)
    other = client.post(
        path,
        json={"amount": 99999, "currency": "USD", "reason": "outage"},
        headers=as_("support", key),
    )
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")
    assert stream_length(container, account_id) == version
    [credit] = load_account(container.app, account_id).credits.values()
    assert credit.granted.amount == 11
    again = client.post(
        path,
        json={"amount": 11, "currency": "USD", "reason": "outage"},
        headers=as_("support", key),
    )
    assert again.status_code == 201
    assert again.json() == {**first.json(), "replayed": True}


def test_a_card_key_reused_with_other_card_details_is_409(
    client: TestClient, container: Container, account_id: UUID
) -> None:
    path = f"/internal/accounts/{account_id}/payment-methods/cards"
    key = str(uuid4())
    assert client.post(path, json=CARD, headers=as_("service", key)).status_code == 201
    other = {**CARD, "processor_ref": "pm_other", "last4": "1881"}
    refused = client.post(path, json=other, headers=as_("service", key))
    assert (refused.status_code, refused.json()["code"]) == (409, "idempotency_key_reused")
    [method] = load_account(container.app, account_id).methods.values()
    assert (method.processor_ref, method.last4) == (CARD_REF, "4242")


def test_a_refund_key_reused_with_another_amount_is_409_and_refunds_once(
    client: TestClient, container: Container, account_id: UUID, gateway: FakeGateway
) -> None:
    base = f"/internal/accounts/{account_id}"
    client.post(f"{base}/payment-methods/cards", json=CARD, headers=as_("service"))
    paid = client.post(f"{base}/subscriptions", json=PLAN, headers=as_("service")).json()
    path = f"{base}/payments/{paid['payment']['attempt_id']}/refunds"
    key = "refund-ticket-9"
    first = client.post(path, json={"amount": 500}, headers=as_("service", key))
    assert first.status_code == 201
    other = client.post(path, json={"amount": 600}, headers=as_("service", key))
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")
    assert [r.amount.amount for r in gateway.refunds] == [500]
    [attempt] = load_account(container.app, account_id).attempts.values()
    assert attempt.refunded == 500


def open_invoice(client: TestClient, account_id: UUID, gateway: FakeGateway) -> str:
    base = f"/internal/accounts/{account_id}"
    client.post(f"{base}/payment-methods/cards", json=CARD, headers=as_("service"))
    gateway.decline_next(CARD_REF, "insufficient_funds")
    bought = client.post(f"{base}/subscriptions", json=PLAN, headers=as_("service")).json()
    assert bought["payment"]["status"] == "failed"
    invoice_id: str = bought["invoice_id"]
    return invoice_id


def test_a_repeated_payment_answers_the_first_body_and_charges_once(
    client: TestClient, account_id: UUID, gateway: FakeGateway
) -> None:
    invoice_id = open_invoice(client, account_id, gateway)
    path = f"/v1/accounts/{account_id}/invoices/{invoice_id}/pay"
    key = "pay-invoice-1"
    first = client.post(path, json={}, headers=as_("customer", key))
    assert first.status_code == 200
    assert first.json()["payment"]["status"] == "succeeded"
    again = client.post(path, json={}, headers=as_("customer", key))
    assert again.status_code == 200
    # The first answer, its version and position included, marked as a replay.
    assert again.json() == {**first.json(), "replayed": True}
    assert again.json()["position"] is not None
    assert len(gateway.charges_for(CARD_REF)) == 2  # the declined purchase and this payment
    other = client.post(path, json={"method_id": "another"}, headers=as_("customer", key))
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")


def test_a_repeated_purchase_answers_the_first_body(
    client: TestClient, account_id: UUID, gateway: FakeGateway
) -> None:
    base = f"/v1/accounts/{account_id}"
    client.post(
        f"/internal/accounts/{account_id}/payment-methods/cards", json=CARD, headers=as_("service")
    )
    key = "subscribe-pro"
    first = client.post(f"{base}/subscriptions", json=PLAN, headers=as_("customer", key))
    assert first.status_code == 201
    assert first.json()["payment"]["status"] == "succeeded"
    again = client.post(f"{base}/subscriptions", json=PLAN, headers=as_("customer", key))
    assert again.json() == {**first.json(), "replayed": True}
    assert len(gateway.charges) == 1


def test_a_repeated_bad_debt_payment_answers_the_first_body(
    client: TestClient,
    container: Container,
    account_id: UUID,
    gateway: FakeGateway,
    clock: FixedClock,
) -> None:
    client.post(
        f"/internal/accounts/{account_id}/payment-methods/cards", json=CARD, headers=as_("service")
    )
    gateway.always_decline(CARD_REF, "insufficient_funds")
    subscribe(container.deps, account_id, on_session=False)
    for _ in range(10):
        clock.advance(days=1)
        dunning.run_billing(container.deps, RunBilling(account_ids=[account_id]), system_ctx())
    assert load_account(container.app, account_id).bad_debt
    gateway._always.clear()
    path = f"/v1/accounts/{account_id}/pay-bad-debt"
    first = client.post(path, json={}, headers=as_("customer", "lift-bad-debt"))
    assert first.status_code == 200
    assert first.json()["bad_debt"] is False
    charged = len(gateway.charges)
    again = client.post(path, json={}, headers=as_("customer", "lift-bad-debt"))
    assert again.json() == first.json()
    assert len(gateway.charges) == charged


def test_a_repeat_while_the_first_is_charging_is_409_with_retry_after(
    client: TestClient, container: Container, account_id: UUID
) -> None:
    invoice_id = open_invoice(client, account_id, container.deps.gateway)  # type: ignore[arg-type]
    held = BlockingGateway()
    container.deps = dataclasses.replace(container.deps, gateway=held)
    path = f"/v1/accounts/{account_id}/invoices/{invoice_id}/pay"
    key = str(uuid4())
    answers: list[httpx.Response] = []
    first = threading.Thread(
        target=lambda: answers.append(client.post(path, json={}, headers=as_("customer", key)))
    )
    first.start()
    assert held.entered.wait(10)
    in_flight = client.post(path, json={}, headers=as_("customer", key))
    assert (in_flight.status_code, in_flight.json()["code"]) == (409, "idempotency_key_in_use")
    assert int(in_flight.headers["Retry-After"]) > 0
    held.release()
    first.join(10)
    [done] = answers
    assert done.json()["payment"]["status"] == "succeeded"
    later = client.post(path, json={}, headers=as_("customer", key))
    assert later.json() == {**done.json(), "replayed": True}
    assert len(held.charges) == 1


def test_keys_are_any_printable_string_up_to_255_scoped_per_caller(
    client: TestClient,
) -> None:
    body = {"name": "Ada", "email": "ada@example.com", "country": "GB", "currency": "GBP"}
    key = "order 42 / retry #1 ~ " + "x" * 233  # 255 printable characters
    assert len(key) == 255
    first = client.post("/internal/accounts", json=body, headers=as_("service", key))
    again = client.post("/internal/accounts", json=body, headers=as_("service", key))
    assert (first.status_code, again.json()["replayed"]) == (201, True)
    assert again.json()["account_id"] == first.json()["account_id"]
    supported = client.post(
        "/support/accounts", json={**body, "reason": "signup by phone"}, headers=as_("support", key)
    )
    assert supported.status_code == 201
    assert supported.json()["account_id"] != first.json()["account_id"]  # another caller's key
    other_reason = client.post(
        "/support/accounts", json={**body, "reason": "another ticket"}, headers=as_("support", key)
    )
    assert (other_reason.status_code, other_reason.json()["code"]) == (
        409,
        "idempotency_key_reused",
    )


@pytest.mark.parametrize("key", ["", "k" * 256, "tab\there", "bell\x07", "del\x7f"])
def test_keys_that_are_empty_too_long_or_hold_control_characters_are_422(
    client: TestClient, account_id: UUID, key: str
) -> None:
    response = client.post(
        f"/support/accounts/{account_id}/credits",
        json={"amount": 1, "currency": "USD", "reason": "outage"},
        headers=as_("support", key),
    )
    assert (response.status_code, response.json()["code"]) == (422, "invalid_request")
    assert not load_account_credits(client, account_id)


def load_account_credits(client: TestClient, account_id: UUID) -> list[object]:
    container: Container = client.app.state.container  # type: ignore[attr-defined]
    return list(load_account(container.app, account_id).credits.values())


def test_the_openapi_document_says_what_a_key_is(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"][
        "/v1/accounts/{account_id}/pay-bad-debt"
    ]
    [header] = [p for p in operation["post"]["parameters"] if p["name"] == "Idempotency-Key"]
    assert header["schema"]["anyOf"][0]["maxLength"] == 255
    assert "idempotency_key_reused" in header["description"]
    assert "500" in header["description"]
