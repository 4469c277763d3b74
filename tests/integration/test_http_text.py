"""What a request may carry, over HTTP on real PostgreSQL: text without control characters
or card numbers, amounts as strict bounded integers, and no customer-written audit reason.
Each refusal is a 422 problem and records nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from adapters.bootstrap import Container
from adapters.cli.runtime import store_feed
from adapters.http.app import create_app
from commands import accounts
from queries.accounts import get_account
from tests.fakes.api_keys import three_principals
from tests.fakes.builders import open_cmd, service_ctx
from tests.fakes.gateway import FakeGateway

pytestmark = pytest.mark.usefixtures("container_gateway")

CARD = {"processor_ref": "pm_visa", "brand": "visa", "last4": "4242", "exp_month": 12}
CARD_NUMBERS = ["4242424242424242", "4242 4242 4242 4242", "5555-5555-5555-4444"]


@pytest.fixture
def account_id(container: Container) -> UUID:
    return accounts.open_account(container.deps, open_cmd(currency="USD"), service_ctx()).account_id


@pytest.fixture
def client(container: Container, gateway: FakeGateway, account_id: UUID) -> Iterator[TestClient]:
    keys = three_principals(account_id)
    with store_feed(container), TestClient(create_app(container, keys)) as test_client:
        yield test_client


def as_(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {who}-key"}


def recorded(container: Container) -> int:
    """The position of the last event stored, of any account."""
    return container.app.recorder.max_notification_id() or 0


def assert_refused(response: Response, code: str = "invalid_request") -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


def read_name(container: Container, account_id: UUID, version: int) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with container.connection() as conn:
            view = get_account(conn, account_id)
        if view is not None and view.version >= version:
            return view.name
        time.sleep(0.05)
    raise AssertionError("the read model did not catch up")


# --- control characters ---------------------------------------------------------------------


def test_a_nul_in_a_customers_name_is_refused_and_the_read_models_keep_flowing(
    client: TestClient, container: Container, account_id: UUID
) -> None:
    before = recorded(container)
    path = f"/v1/accounts/{account_id}"
    for name in ("Alice\u0000Acme", "Alice\nAcme\n", "Alice\u202eemcA", "Alice\x1b[2J"):
        response = client.patch(path, json={"name": name}, headers=as_("customer"))
        assert_refused(response)
        assert response.json()["errors"][0]["loc"] == ["body", "name"]
    for raw in (b'{"name": "Alice\\u0000Acme"}', b'{"name": "Alice\\ud800"}'):  # JSON escapes
        assert_refused(client.patch(path, content=raw, headers=as_("customer")))
    assert recorded(container) == before

    name = "山田商事 · شركة الأمل 🚀"
    changed = client.patch(path, json={"name": name}, headers=as_("customer"))
    assert changed.status_code == 200, changed.text
    assert read_name(container, account_id, changed.json()["version"]) == name


def test_control_characters_are_refused_in_every_kind_of_body_field(
    client: TestClient, container: Container, account_id: UUID
) -> None:
    before = recorded(container)
    base = f"/internal/accounts/{account_id}"
    cases = [
        ("/internal/accounts", {**_open(), "email": "ada\u0000@example.com"}),
        ("/internal/accounts", {**_open(), "tax_id": "DE123456789\u0000"}),
        (f"{base}/subscriptions", {"plan_id": "pro-monthly-usd\u0000"}),
        (f"{base}/payment-methods/cards", {**CARD, "exp_year": 2030, "brand": "vi\u0000sa"}),
        (f"{base}/provider-customers", {"processor": "stripe", "customer_id": "cus_1\u0000"}),
        (f"{base}/invoices/inv-1/pay", {"method_id": "m\u0000"}),
    ]
    for path, body in cases:
        assert_refused(client.post(path, json=body, headers=as_("service")))
    assert recorded(container) == before


# --- card numbers ---------------------------------------------------------------------------


def test_a_card_number_in_a_reason_is_refused_and_nothing_is_recorded(
    client: TestClient, container: Container, account_id: UUID
) -> None:
    before = recorded(container)
    for number in CARD_NUMBERS:
        reason = f"customer read their card {number} on the phone"
        closed = client.post(
            f"/support/accounts/{account_id}/close", json={"reason": reason}, headers=as_("support")
        )
        assert_refused(closed)
        credit = {"amount": 100, "currency": "USD", "reason": reason}
        granted = client.post(
            f"/support/accounts/{account_id}/credits", json=credit, headers=as_("support")
        )
        assert_refused(granted)
    assert recorded(container) == before
    with container.connection() as conn:
        view = get_account(conn, account_id)
    assert view is not None
    assert view.status == "open"


def test_a_card_number_where_a_processor_reference_belongs_is_refused(
    client: TestClient, container: Container, account_id: UUID
) -> None:
    before = recorded(container)
    base = f"/internal/accounts/{account_id}"
    for ref in ["4242424242424242", "pm_4242424242424242", "tok_visa"]:
        body = {**CARD, "exp_year": 2030, "processor_ref": ref}
        assert_refused(
            client.post(f"{base}/payment-methods/cards", json=body, headers=as_("service"))
        )
    paypal = {"token": "4242-4242-4242-4242", "payer_email": "p@example.com"}
    assert_refused(
        client.post(f"{base}/payment-methods/paypal", json=paypal, headers=as_("service"))
    )
    customer = {"processor": "stripe", "customer_id": "594019"}  # a Braintree-shaped id
    assert_refused(client.post(f"{base}/provider-customers", json=customer, headers=as_("service")))
    assert recorded(container) == before
    added = client.post(
        f"{base}/payment-methods/cards", json={**CARD, "exp_year": 2030}, headers=as_("service")
    )
    assert added.status_code == 201, added.text


# --- amounts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw_amount", ["true", '"100"', "1e2", "100.0", str(2**63), str(10**30), "100000000", "0"]
)
def test_a_credit_amount_is_a_strict_bounded_integer(
    client: TestClient, container: Container, account_id: UUID, raw_amount: str
) -> None:
    before = recorded(container)
    body = f'{{"amount": {raw_amount}, "currency": "USD", "reason": "goodwill"}}'.encode()
    response = client.post(
        f"/support/accounts/{account_id}/credits",
        content=body,
        headers={**as_("support"), "content-type": "application/json"},
    )
    assert_refused(response)
    assert response.json()["errors"][0]["loc"] == ["body", "amount"]
    assert recorded(container) == before


def test_the_largest_credit_is_the_processors_limit(
    client: TestClient, container: Container, account_id: UUID
) -> None:
    body = {"amount": 99_999_999, "currency": "USD", "reason": "goodwill"}
    granted = client.post(
        f"/support/accounts/{account_id}/credits", json=body, headers=as_("support")
    )
    assert granted.status_code == 201, granted.text
    [event] = [
        e for e in container.app.events.get(account_id) if type(e).__name__ == "CreditGranted"
    ]
    assert event.credit.granted.amount == 99_999_999  # type: ignore[attr-defined]


def test_a_cards_expiry_is_a_strict_integer(
    client: TestClient, container: Container, account_id: UUID
) -> None:
    before = recorded(container)
    path = f"/internal/accounts/{account_id}/payment-methods/cards"
    for month in (True, "12", 12.0):
        body = {**CARD, "exp_month": month, "exp_year": 2030}
        assert_refused(client.post(path, json=body, headers=as_("service")))
    assert recorded(container) == before


def test_a_refund_amount_is_a_strict_integer(
    client: TestClient, container: Container, account_id: UUID
) -> None:
    before = recorded(container)
    for amount in (True, "100", 1.5):
        refused = client.post(
            f"/internal/accounts/{account_id}/payments/a-1/refunds",
            json={"amount": amount},
            headers=as_("service"),
        )
        assert_refused(refused)
    assert recorded(container) == before


# --- the audit reason -------------------------------------------------------------------------


def test_a_customers_reason_never_becomes_the_audit_reason(
    client: TestClient, container: Container, account_id: UUID
) -> None:
    base = f"/internal/accounts/{account_id}"
    client.post(
        f"{base}/payment-methods/cards", json={**CARD, "exp_year": 2030}, headers=as_("service")
    )
    before = recorded(container)
    reason = "Refund approved by support (ticket 123)"
    body = {"plan_id": "pro-monthly-usd", "reason": reason}
    refused = client.post(
        f"/v1/accounts/{account_id}/subscriptions", json=body, headers=as_("customer")
    )
    assert_refused(refused, "customer_reason_refused")
    patched = client.patch(
        f"/v1/accounts/{account_id}", json={"name": "X", "reason": reason}, headers=as_("customer")
    )
    assert_refused(patched)
    assert recorded(container) == before

    subscribed = client.post(
        f"/v1/accounts/{account_id}/subscriptions",
        json={"plan_id": "pro-monthly-usd"},
        headers=as_("customer"),
    )
    assert subscribed.status_code == 201, subscribed.text
    new_events = list(container.app.events.get(account_id))[-3:]
    assert {e.meta.actor.kind.value for e in new_events} == {"customer"}  # type: ignore[attr-defined]
    assert {e.meta.reason for e in container.app.events.get(account_id)} == {None}  # type: ignore[attr-defined]


def _open() -> dict[str, str]:
    return {"name": "Ada", "email": "ada@example.com", "country": "GB", "currency": "GBP"}
