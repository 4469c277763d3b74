"""Support reconciles a stuck account now with a reason (a check records no event: the
reason goes to the log line), sees the unresolved attempt with its repair, runs that repair
with a reason and gets the re-check: in step. The same check with no body still works."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from adapters.bootstrap import Container
from adapters.http.app import create_app
from adapters.http.auth import ApiKeys
from commands import billing
from commands.models import Subscribe
from commands.ports import ProcessorUnavailable
from ledger.meta import ActorKind
from tests.fakes.billing import CARD, PLAN, usd_account
from tests.fakes.builders import customer_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway
from tests.integration.test_http import KEYS, auth, entry

pytestmark = pytest.mark.usefixtures("container_gateway")
REASON = "Customer says a payment hangs (ticket 9)"


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    keys = ApiKeys([entry(KEYS["support"], ActorKind.SUPPORT)])
    with TestClient(create_app(container, keys)) as test_client:
        yield test_client


def test_support_reconciles_now_with_a_reason_and_repairs_what_it_found(
    container: Container, gateway: FakeGateway, client: TestClient, clock: FixedClock
) -> None:
    account_id = usd_account(container.deps)
    gateway.go_down_next(CARD)
    cmd = Subscribe(account_id=account_id, plan_id=PLAN, on_session=False)
    with pytest.raises(ProcessorUnavailable):
        billing.subscribe(container.deps, cmd, customer_ctx())
    clock.advance(hours=3)
    path = f"/support/accounts/{account_id}/reconciliation"

    checked = client.post(path, json={"reason": REASON}, headers=auth("support"))

    assert checked.status_code == 200, checked.text
    [finding] = checked.json()["findings"]
    [repair] = finding["repairs"]
    assert (finding["kind"], repair["action"]) == ("attempt_unresolved", "resolve-attempt")
    repaired = client.post(
        f"{path}/repairs",
        json={**{k: v for k, v in repair.items() if v is not None}, "reason": REASON},
        headers={**auth("support"), "Idempotency-Key": "repair-1"},
    )
    assert repaired.status_code == 200, repaired.text
    assert repaired.json()["detail"] == "recorded as failed (not_received_by_processor)"
    assert repaired.json()["reconciliation"]["in_step"] is True
    bare = client.post(path, headers=auth("support"))
    assert (bare.status_code, bare.json()["in_step"]) == (200, True)
