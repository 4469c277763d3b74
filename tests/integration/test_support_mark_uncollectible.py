"""Support marks an open invoice uncollectible over HTTP (before dunning gives up): the
account is in bad debt, the event carries the agent and the reason; refused without a
reason, to the service surface (it does not offer it), for a paid invoice, and to anyone
but support in the domain."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from adapters.bootstrap import Container
from adapters.http.app import create_app
from adapters.http.auth import ApiKeys
from commands import bad_debt, billing
from commands.base import load_account
from commands.models import MarkUncollectible, Subscribe
from ledger.errors import SupportOnly
from ledger.invoices import InvoiceStatus
from ledger.meta import ActorKind
from tests.fakes.billing import CARD, PLAN, usd_account
from tests.fakes.builders import customer_ctx, system_ctx
from tests.fakes.gateway import FakeGateway
from tests.integration.test_http import KEYS, auth, entry

pytestmark = pytest.mark.usefixtures("container_gateway")
REASON = "Customer's company went bust (ticket 31)"


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    keys = ApiKeys(
        [entry(KEYS["service"], ActorKind.SERVICE), entry(KEYS["support"], ActorKind.SUPPORT)]
    )
    with TestClient(create_app(container, keys)) as test_client:
        yield test_client


def test_support_marks_an_open_invoice_uncollectible_and_the_account_is_in_bad_debt(
    container: Container, gateway: FakeGateway, client: TestClient
) -> None:
    account_id = usd_account(container.deps)
    gateway.decline_next(CARD, "card_declined")
    cmd = Subscribe(account_id=account_id, plan_id=PLAN, on_session=False)
    invoice_id = billing.subscribe(container.deps, cmd, customer_ctx()).invoice_id
    path = f"/accounts/{account_id}/invoices/{invoice_id}/mark-uncollectible"

    no_reason = client.post(f"/support{path}", json={}, headers=auth("support"))
    assert (no_reason.status_code, no_reason.json()["code"]) == (422, "reason_required")
    service = client.post(f"/internal{path}", json={}, headers=auth("service"))
    assert service.status_code == 404  # the service surface does not offer it
    marked = client.post(f"/support{path}", json={"reason": REASON}, headers=auth("support"))

    assert marked.status_code == 200, marked.text
    account = load_account(container.app, account_id)
    assert account.invoices[str(invoice_id)].status is InvoiceStatus.UNCOLLECTIBLE
    assert account.bad_debt
    history = client.get(
        f"/support/accounts/{account_id}/history",
        params={"type": "InvoiceMarkedUncollectible"},
        headers=auth("support"),
    ).json()["entries"]
    assert [(e["actor_id"], e["surface"], e["reason"]) for e in history] == [
        ("support-1", "ninjapanel", REASON)
    ]
    again = client.post(f"/support{path}", json={"reason": REASON}, headers=auth("support"))
    assert (again.status_code, again.json()["code"]) == (409, "invalid_invoice_transition")


def test_only_support_marks_an_invoice_uncollectible_by_hand(container: Container) -> None:
    account_id = usd_account(container.deps)
    cmd = Subscribe(account_id=account_id, plan_id=PLAN, on_session=False)
    invoice_id = billing.subscribe(container.deps, cmd, customer_ctx()).invoice_id
    mark = MarkUncollectible(account_id=account_id, invoice_id=str(invoice_id))
    with pytest.raises(SupportOnly):
        bad_debt.mark_uncollectible(container.deps, mark, system_ctx())
