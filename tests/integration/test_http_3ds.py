"""3-D Secure in the HTTP responses of change plan and pay bad debt, on real PostgreSQL with
the scripted fake gateway: `payment` carries `requires_action`, the client secret and the
attempt id; paying bad debt waits in `lifting` and the flag stays until it is paid."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from adapters.bootstrap import Container
from adapters.http.app import create_app
from adapters.http.auth import SCOPES, ApiKeyEntry, ApiKeys, hash_key
from commands import dunning
from commands.base import load_account
from commands.janitor import record_if_in_flight
from commands.models import RunBilling
from ledger.invoices import InvoiceStatus
from ledger.meta import ActorKind
from ledger.payments import AttemptPurpose, AttemptStatus
from ledger.subscriptions import SubscriptionStatus
from projections.feed import catch_up
from projections.health import HealthProjection
from tests.fakes.billing import CARD, subscribe, usd_account
from tests.fakes.builders import system_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway

pytestmark = pytest.mark.usefixtures("container_gateway")


@pytest.fixture
def account_id(container: Container, gateway: FakeGateway) -> UUID:
    return usd_account(container.deps)


@pytest.fixture
def client(container: Container, account_id: UUID) -> Iterator[TestClient]:
    entry = ApiKeyEntry(
        sha256=hash_key("customer-key"),
        id="customer-key",
        kind=ActorKind.CUSTOMER,
        scopes=frozenset(SCOPES),
        account_id=account_id,
    )
    service = ApiKeyEntry(
        sha256=hash_key("service-key"),
        id="service-key",
        kind=ActorKind.SERVICE,
        scopes=frozenset(SCOPES),
    )
    with TestClient(create_app(container, ApiKeys([entry, service]))) as test_client:
        yield test_client


def as_(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {who}-key", "Idempotency-Key": str(uuid4())}


def waiting(payment: dict[str, Any], gateway: FakeGateway) -> None:
    assert payment["status"] == "requires_action"
    assert payment["decline_code"] is None
    assert payment["client_secret"] == f"pay_{payment['attempt_id'][:8]}_secret"
    assert gateway.charges[-1].attempt_id == payment["attempt_id"]


def test_an_upgrade_waits_for_authentication_and_its_failure_rolls_the_plan_back(
    container: Container, client: TestClient, account_id: UUID, gateway: FakeGateway
) -> None:
    bought = subscribe(container.deps, account_id)
    sub_id = str(bought.subscription_id)
    gateway.require_action_next(CARD)
    answer = client.post(
        f"/v1/accounts/{account_id}/subscriptions/{sub_id}/plan",
        json={"plan_id": "business-monthly-usd"},
        headers=as_("customer"),
    )
    assert answer.status_code == 200, answer.json()
    payment = answer.json()["payment"]
    waiting(payment, gateway)
    account = load_account(container.app, account_id)
    assert account.subscriptions[sub_id].plan_id == "business-monthly-usd"
    assert account.invoices[payment["invoice_id"]].status is InvoiceStatus.OPEN

    failure = gateway.authenticate(payment["attempt_id"], success=False)
    assert record_if_in_flight(
        container.deps, account_id, payment["attempt_id"], failure, system_ctx()
    )
    account = load_account(container.app, account_id)
    assert account.subscriptions[sub_id].plan_id == "pro-monthly-usd"
    assert account.subscriptions[sub_id].status is SubscriptionStatus.ACTIVE
    assert account.invoices[payment["invoice_id"]].status is InvoiceStatus.VOID


def test_paying_bad_debt_waits_in_lifting_and_clears_the_flag_only_once_paid(
    container: Container,
    client: TestClient,
    account_id: UUID,
    gateway: FakeGateway,
    clock: FixedClock,
) -> None:
    gateway.always_decline(CARD, "insufficient_funds")
    subscribe(container.deps, account_id, on_session=False)
    for _ in range(10):
        clock.advance(days=1)
        dunning.run_billing(container.deps, RunBilling(account_ids=[account_id]), system_ctx())
    assert load_account(container.app, account_id).bad_debt
    gateway._always.clear()
    gateway.require_action_next(CARD)

    answer = client.post(
        f"/v1/accounts/{account_id}/pay-bad-debt", json={}, headers=as_("customer")
    )
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    [payment] = body["payments"]
    waiting(payment, gateway)
    assert (body["recovered"], body["bad_debt"]) == ([], True)
    assert body["still_uncollectible"] == [payment["invoice_id"]]
    attempt = load_account(container.app, account_id).attempts[payment["attempt_id"]]
    assert (attempt.purpose, attempt.status) == (
        AttemptPurpose.BAD_DEBT,
        AttemptStatus.REQUIRES_ACTION,
    )

    catch_up(container.connection, HealthProjection(), container.reader)
    health = client.get(f"/internal/accounts/{account_id}/health", headers=as_("service"))
    assert health.json()["state"] == "lifting"
    assert "awaiting_customer_action" in health.json()["reasons"]

    success = gateway.authenticate(payment["attempt_id"])
    assert record_if_in_flight(
        container.deps, account_id, payment["attempt_id"], success, system_ctx()
    )
    account = load_account(container.app, account_id)
    assert not account.bad_debt
    assert account.invoices[payment["invoice_id"]].status is InvoiceStatus.PAID
