"""Billing over HTTP on real PostgreSQL, with the scripted fake gateway behind the port."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from adapters.bootstrap import Container
from adapters.cli.runtime import store_feed
from adapters.http.app import create_app
from commands import accounts
from commands.base import load_account
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
    keys = three_principals(account_id)
    with TestClient(create_app(container, keys)) as test_client:
        yield test_client


def as_(who: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {who}-key", **headers}


def test_a_customer_adds_a_card_and_subscribes_on_session(
    client: TestClient, account_id: UUID, gateway: FakeGateway
) -> None:
    base = f"/v1/accounts/{account_id}"
    added = client.post(
        f"/internal/accounts/{account_id}/payment-methods/cards", json=CARD, headers=as_("service")
    )
    assert added.status_code == 201
    raw = client.post(f"{base}/payment-methods/cards", json=CARD, headers=as_("customer"))
    assert raw.status_code == 404  # no such route: customers vault through the payment flow
    sub = client.post(
        f"{base}/subscriptions",
        json={"plan_id": "pro-monthly-usd", "on_session": False},
        headers=as_("customer"),
    )
    assert sub.status_code == 201
    body = sub.json()
    assert body["payment"]["status"] == "succeeded"
    [charge] = gateway.charges
    assert charge.on_session  # a customer is present even when the body says otherwise


def test_a_customer_cannot_reach_another_account_or_support_actions(
    client: TestClient, container: Container
) -> None:
    other = accounts.open_account(container.deps, open_cmd(), service_ctx()).account_id
    response = client.post(
        f"/v1/accounts/{other}/subscriptions",
        json={"plan_id": "pro-monthly-usd"},
        headers=as_("customer"),
    )
    assert (response.status_code, response.json()["code"]) == (404, "account_not_found")
    grant = client.post(
        f"/v1/accounts/{other}/credits",
        json={"amount": 100, "currency": "USD"},
        headers=as_("customer"),
    )
    assert grant.status_code in (404, 405)


def test_support_grants_credit_only_with_a_reason(client: TestClient, account_id: UUID) -> None:
    path = f"/support/accounts/{account_id}/credits"
    refused = client.post(path, json={"amount": 500, "currency": "USD"}, headers=as_("support"))
    assert (refused.status_code, refused.json()["code"]) == (422, "reason_required")
    granted = client.post(
        path, json={"amount": 500, "currency": "USD", "reason": "outage"}, headers=as_("support")
    )
    assert granted.status_code == 201
    service = client.post(
        f"/internal/accounts/{account_id}/credits",
        json={"amount": 1, "currency": "USD"},
        headers=as_("service"),
    )
    assert service.status_code in (404, 405)


def test_refunds_and_voids_on_the_operations_surfaces(
    client: TestClient, account_id: UUID, gateway: FakeGateway
) -> None:
    base = f"/internal/accounts/{account_id}"
    client.post(f"{base}/payment-methods/cards", json=CARD, headers=as_("service"))
    paid = client.post(
        f"{base}/subscriptions", json={"plan_id": "pro-monthly-usd"}, headers=as_("service")
    ).json()
    attempt = paid["payment"]["attempt_id"]
    refund_key = as_("service", **{"Idempotency-Key": str(uuid4())})
    refund = client.post(
        f"{base}/payments/{attempt}/refunds", json={"amount": 500}, headers=refund_key
    )
    assert refund.status_code == 201
    again = client.post(
        f"{base}/payments/{attempt}/refunds", json={"amount": 500}, headers=refund_key
    )
    assert (again.status_code, again.json()["replayed"]) == (201, True)
    assert len(gateway.refunds) == 1
    too_much = client.post(
        f"{base}/payments/{attempt}/refunds",
        json={"amount": 5000},
        headers=as_("service", **{"Idempotency-Key": str(uuid4())}),
    )
    assert (too_much.status_code, too_much.json()["code"]) == (422, "refund_exceeds_captured")
    void = client.post(
        f"{base}/invoices/{paid['invoice_id']}/void", json={}, headers=as_("service")
    )
    assert (void.status_code, void.json()["code"]) == (409, "invalid_invoice_transition")


def test_pay_bad_debt_requires_an_idempotency_key(client: TestClient, account_id: UUID) -> None:
    path = f"/v1/accounts/{account_id}/pay-bad-debt"
    missing = client.post(path, json={}, headers=as_("customer"))
    assert (missing.status_code, missing.json()["code"]) == (428, "idempotency_key_required")
    none_owed = client.post(
        path, json={}, headers=as_("customer", **{"Idempotency-Key": str(uuid4())})
    )
    assert (none_owed.status_code, none_owed.json()["code"]) == (409, "no_bad_debt")


def test_support_chooses_which_bad_debt_to_pay(client: TestClient, account_id: UUID) -> None:
    path = f"/support/accounts/{account_id}/pay-bad-debt"
    keyed = as_("support", **{"Idempotency-Key": str(uuid4())})
    unknown = {"reason": "ticket 9", "invoice_ids": ["inv-nowhere"]}
    answer = client.post(path, json=unknown, headers=keyed)
    assert (answer.status_code, answer.json()["code"]) == (404, "invoice_not_found")
    none = client.post(path, json={"reason": "ticket 9", "invoice_ids": []}, headers=keyed)
    assert none.status_code == 422


def test_the_billing_run_collects_renewals(
    client: TestClient, account_id: UUID, clock: FixedClock, gateway: FakeGateway
) -> None:
    base = f"/internal/accounts/{account_id}"
    client.post(f"{base}/payment-methods/cards", json=CARD, headers=as_("service"))
    client.post(
        f"{base}/subscriptions", json={"plan_id": "pro-monthly-usd"}, headers=as_("service")
    )
    clock.advance(days=32)
    run = client.post(
        "/internal/billing/run", json={"account_ids": [str(account_id)]}, headers=as_("service")
    )
    assert run.status_code == 200
    summary = run.json()
    assert (summary["renewed"], len(summary["attempts"])) == (1, 1)
    assert summary["attempts"][0]["status"] == "succeeded"
    assert len(gateway.charges) == 2


@pytest.fixture
def fed_client(client: TestClient, container: Container) -> Iterator[TestClient]:
    """The same client with the embedded projector running, so `min_version` reads wait."""
    with store_feed(container):
        yield client


def test_the_billing_run_answers_the_version_each_account_reached_to_read_its_writes(
    fed_client: TestClient, container: Container, account_id: UUID, clock: FixedClock
) -> None:
    base = f"/internal/accounts/{account_id}"
    fed_client.post(f"{base}/payment-methods/cards", json=CARD, headers=as_("service"))
    fed_client.post(
        f"{base}/subscriptions", json={"plan_id": "pro-monthly-usd"}, headers=as_("service")
    )
    idle = accounts.open_account(container.deps, open_cmd(), service_ctx()).account_id
    clock.advance(days=32)
    run = fed_client.post(
        "/internal/billing/run",
        json={"account_ids": [str(account_id), str(idle)]},
        headers=as_("service"),
    )
    assert run.status_code == 200
    reached = run.json()["reached"]
    account = load_account(container.deps.app, account_id)
    assert reached[str(account_id)] == {
        "version": account.version,
        "position": container.reader.head(),
    }
    assert reached[str(idle)] == {"version": 1, "position": None}  # nothing to do: no write

    version = reached[str(account_id)]["version"]
    page = fed_client.get(
        f"{base}/invoices", params={"min_version": version}, headers=as_("service")
    )
    assert page.status_code == 200
    assert sorted(i["status"] for i in page.json()["items"]) == ["paid", "paid"]
    view = fed_client.get(base, params={"min_version": version}, headers=as_("service"))
    assert view.json()["version"] == version


def test_an_unreachable_processor_is_a_503_problem(
    client: TestClient, account_id: UUID, gateway: FakeGateway
) -> None:
    base = f"/v1/accounts/{account_id}"
    client.post(
        f"/internal/accounts/{account_id}/payment-methods/cards", json=CARD, headers=as_("service")
    )
    gateway.go_down_next("pm_visa")
    response = client.post(
        f"{base}/subscriptions", json={"plan_id": "pro-monthly-usd"}, headers=as_("customer")
    )
    assert (response.status_code, response.json()["code"]) == (503, "processor_unavailable")


def test_the_openapi_document_describes_every_surface(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/v1/accounts/{account_id}/subscriptions" in paths
    assert "/support/accounts/{account_id}/invoices/{invoice_id}/write-off" in paths
    assert "/internal/billing/run" in paths
    assert "/v1/accounts/{account_id}/credits" not in paths
