"""The plan-change preview over HTTP on real PostgreSQL: the customer's /v1 and support's
/support answer what the change then charges; bad debt refuses it with the way out; another
account's path is 404."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from adapters.bootstrap import Container
from adapters.http.app import create_app
from commands import accounts
from tests.fakes.api_keys import three_principals
from tests.fakes.builders import open_cmd, service_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway

pytestmark = pytest.mark.usefixtures("container_gateway")

CARD = {
    "processor_ref": "pm_visa",
    "brand": "visa",
    "last4": "4242",
    "exp_month": 12,
    "exp_year": 2030,
}


@pytest.fixture
def account_id(container: Container) -> UUID:
    cmd = open_cmd(currency="USD")
    return accounts.open_account(container.deps, cmd, service_ctx()).account_id


@pytest.fixture
def client(container: Container, gateway: FakeGateway, account_id: UUID) -> Iterator[TestClient]:
    with TestClient(create_app(container, three_principals(account_id))) as test_client:
        yield test_client


def as_(who: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {who}-key", **headers}


def subscribed(client: TestClient, account_id: UUID) -> str:
    base = f"/internal/accounts/{account_id}"
    client.post(f"{base}/payment-methods/cards", json=CARD, headers=as_("service"))
    sub = client.post(
        f"{base}/subscriptions", json={"plan_id": "pro-monthly-usd"}, headers=as_("service")
    )
    return str(sub.json()["subscription_id"])


def preview(client: TestClient, prefix: str, who: str, path: str, plan: str) -> Any:
    return client.get(f"{prefix}{path}/plan-preview", params={"plan_id": plan}, headers=as_(who))


@pytest.mark.parametrize(("prefix", "who"), [("/v1", "customer"), ("/support", "support")])
def test_the_preview_is_what_the_change_then_charges(
    client: TestClient,
    account_id: UUID,
    clock: FixedClock,
    gateway: FakeGateway,
    prefix: str,
    who: str,
) -> None:
    sub_id = subscribed(client, account_id)
    clock.advance(days=12, hours=5)
    path = f"/accounts/{account_id}/subscriptions/{sub_id}"
    seen = preview(client, prefix, who, path, "business-monthly-usd")
    assert seen.status_code == 200
    body = seen.json()
    assert body["currency"] == "USD"
    assert [line["amount"] < 0 for line in body["lines"]] == [True, False]
    assert body["amount_due_now"] == body["net"] > 0
    assert body["next_renewal"]["price"] == 20000
    changed = client.post(
        f"{prefix}{path}/plan",
        json={"plan_id": "business-monthly-usd"}
        | ({"reason": "customer asked"} if who == "support" else {}),
        headers=as_(who, **{"Idempotency-Key": str(uuid4())}),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["payment"]["status"] == "succeeded"
    assert gateway.charges[-1].amount.amount == body["amount_due_now"]


def test_bad_debt_refuses_the_preview_with_the_way_out(
    client: TestClient, account_id: UUID, gateway: FakeGateway
) -> None:
    sub_id = subscribed(client, account_id)
    gateway.decline_next("pm_visa", "insufficient_funds")
    later = client.post(
        f"/internal/accounts/{account_id}/subscriptions",
        json={"plan_id": "pro-monthly-usd", "on_session": False},
        headers=as_("service"),
    ).json()
    marked = client.post(
        f"/support/accounts/{account_id}/invoices/{later['invoice_id']}/mark-uncollectible",
        json={"reason": "ticket 12"},
        headers=as_("support"),
    )
    assert marked.status_code == 200, marked.text
    path = f"/accounts/{account_id}/subscriptions/{sub_id}"
    refused = preview(client, "/v1", "customer", path, "business-monthly-usd")
    assert (refused.status_code, refused.json()["code"]) == (409, "bad_debt_blocked")
    assert "unpaid bad debt of 20.00 USD" in refused.json()["detail"]
    assert "pay bad debt" in refused.json()["detail"]


def test_a_customer_cannot_preview_another_accounts_change(
    client: TestClient, container: Container
) -> None:
    other = accounts.open_account(container.deps, open_cmd(), service_ctx()).account_id
    path = f"/accounts/{other}/subscriptions/sub-1"
    answer = preview(client, "/v1", "customer", path, "business-monthly-usd")
    assert (answer.status_code, answer.json()["code"]) == (404, "account_not_found")
