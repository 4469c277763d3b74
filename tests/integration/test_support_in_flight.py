"""Resolving one account's payments in flight from support over HTTP: a charge whose answer
was lost is found at the processor and recorded paid, one the processor never received is
recorded as a soft failure, each answered in words; the events carry the agent, the surface,
the reason and the correlation; refusals: no reason, not support, unknown account."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from adapters.bootstrap import Container
from adapters.http.app import create_app
from adapters.http.auth import ApiKeys
from commands import billing
from commands.base import load_account
from commands.models import Subscribe
from commands.ports import ProcessorUnavailable
from ledger.invoices import InvoiceStatus
from ledger.meta import ActorKind
from ledger.payments import AttemptStatus
from tests.fakes.billing import CARD, PLAN, usd_account
from tests.fakes.builders import customer_ctx
from tests.fakes.clock import FixedClock
from tests.integration.test_http import KEYS, auth, entry
from tests.unit.test_janitor import LostAnswers

pytestmark = [
    pytest.mark.parametrize("gateway", [LostAnswers], indirect=True),
    pytest.mark.usefixtures("container_gateway"),
]
REASON = "Customer says the card was charged but the account is stuck (ticket 12)"


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    keys = ApiKeys(
        [entry(KEYS["service"], ActorKind.SERVICE), entry(KEYS["support"], ActorKind.SUPPORT)]
    )
    with TestClient(create_app(container, keys)) as test_client:
        yield test_client


def stuck_account(container: Container, gateway: LostAnswers, *, charged: bool) -> UUID:
    """A subscription whose first charge's answer never came back: charged at the processor
    (the answer lost) or never received by it (the processor was down)."""
    account_id = usd_account(container.deps)
    if charged:
        gateway.lose_next = True
    else:
        gateway.go_down_next(CARD)
    cmd = Subscribe(account_id=account_id, plan_id=PLAN, on_session=False)
    with pytest.raises(ProcessorUnavailable):
        billing.subscribe(container.deps, cmd, customer_ctx())
    return account_id


def resolve(client: TestClient, account_id: UUID, who: str = "support", **body: Any) -> Any:
    path = f"/support/accounts/{account_id}/payments/in-flight/resolve"
    return client.post(path, json=body, headers={**auth(who), "Idempotency-Key": "r-1"})


def test_a_lost_answer_is_found_paid_and_recorded_as_the_agent(
    container: Container, gateway: LostAnswers, client: TestClient, clock: FixedClock
) -> None:
    account_id = stuck_account(container, gateway, charged=True)
    clock.advance(hours=3)
    before = load_account(container.app, account_id).version

    answer = resolve(client, account_id, reason=REASON)

    assert answer.status_code == 200, answer.text
    [resolved] = answer.json()["resolved"]
    assert (resolved["resolution"], resolved["amount"], resolved["currency"]) == (
        "succeeded",
        2000,
        "USD",
    )
    assert resolved["meaning"] == "the processor charged it: recorded as paid"
    assert answer.json()["unresolved"] == 0
    account = load_account(container.app, account_id)
    assert answer.json()["version"] == account.version > before
    [invoice] = account.invoices.values()
    assert (invoice.invoice_id, invoice.status) == (resolved["invoice_id"], InvoiceStatus.PAID)
    history = client.get(
        f"/support/accounts/{account_id}/history",
        params={"after_version": before},
        headers=auth("support"),
    ).json()["entries"]
    assert {(e["actor_id"], e["surface"], e["reason"], e["correlation_id"]) for e in history} == {
        ("support-1", "ninjapanel", REASON, answer.headers["X-Correlation-Id"])
    }

    again = resolve(client, account_id, reason=REASON)
    assert (again.status_code, again.json()["resolved"]) == (200, [])


def test_a_charge_the_processor_never_saw_is_a_soft_failure_said_in_words(
    container: Container, gateway: LostAnswers, client: TestClient, clock: FixedClock
) -> None:
    account_id = stuck_account(container, gateway, charged=False)
    fresh = resolve(client, account_id, reason=REASON)
    assert (fresh.status_code, fresh.json()["resolved"]) == (200, [])  # not 15 minutes yet
    clock.advance(minutes=20)
    answer = resolve(client, account_id, reason=REASON, older_than_minutes=15)
    [resolved] = answer.json()["resolved"]
    assert resolved["resolution"] == "not_received"
    assert "never received it: nothing was charged" in resolved["meaning"]
    [attempt] = load_account(container.app, account_id).attempts.values()
    assert attempt.status is AttemptStatus.FAILED


def test_an_unreachable_processor_leaves_it_in_flight_and_says_so(
    container: Container, gateway: LostAnswers, client: TestClient, clock: FixedClock
) -> None:
    account_id = stuck_account(container, gateway, charged=True)
    clock.advance(hours=1)
    gateway.reachable = False
    answer = resolve(client, account_id, reason=REASON)
    [resolved] = answer.json()["resolved"]
    assert (resolved["resolution"], answer.json()["unresolved"]) == ("unreachable", 1)
    assert "could not be asked" in resolved["meaning"]
    [attempt] = load_account(container.app, account_id).attempts.values()
    assert attempt.in_flight


def test_resolving_is_refused_without_a_reason_to_others_and_for_no_account(
    container: Container, gateway: LostAnswers, client: TestClient, clock: FixedClock
) -> None:
    account_id = stuck_account(container, gateway, charged=True)
    clock.advance(hours=1)
    assert resolve(client, account_id).status_code == 422
    assert resolve(client, account_id, reason=" ").status_code == 422
    assert resolve(client, account_id, reason=REASON, older_than_minutes=0).status_code == 422
    assert resolve(client, account_id, "service", reason=REASON).status_code == 403
    unknown = resolve(client, UUID(int=3), reason=REASON)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "account_not_found")
    [attempt] = load_account(container.app, account_id).attempts.values()
    assert attempt.in_flight
