"""Invoice history over HTTP: the three surfaces, a customer confined to its own account, and
a tampered cursor answered with a clear problem."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from adapters.bootstrap import Container
from adapters.http.app import create_app
from adapters.http.auth import SCOPES, ApiKeyEntry, ApiKeys, hash_key
from commands import billing
from commands.base import Deps
from commands.models import Subscribe
from ledger.meta import ActorKind
from projections.feed import catch_up
from projections.invoices import InvoicesProjection
from tests.fakes.billing import PLAN, usd_account
from tests.fakes.builders import customer_ctx
from tests.fakes.clock import FixedClock

CUSTOMER, SERVICE, SUPPORT = "cust-key-0123456789", "svc-key-0123456789", "sup-key-0123456789"


@pytest.fixture
def accounts(container: Container, deps: Deps, clock: FixedClock) -> tuple[UUID, UUID]:
    own, other = usd_account(deps), usd_account(deps)
    for account_id in (own, other, own, own):
        clock.advance(minutes=1)
        cmd = Subscribe(account_id=account_id, plan_id=PLAN, on_session=True)
        billing.subscribe(deps, cmd, customer_ctx())
    catch_up(container.connection, InvoicesProjection(), container.reader)
    return own, other


@pytest.fixture
def client(container: Container, accounts: tuple[UUID, UUID]) -> Iterator[TestClient]:
    def entry(key: str, kind: ActorKind, **extra: UUID) -> ApiKeyEntry:
        return ApiKeyEntry(
            sha256=hash_key(key), id=f"{kind.value}-1", kind=kind, scopes=frozenset(SCOPES), **extra
        )

    keys = ApiKeys(
        [
            entry(CUSTOMER, ActorKind.CUSTOMER, account_id=accounts[0]),
            entry(SERVICE, ActorKind.SERVICE),
            entry(SUPPORT, ActorKind.SUPPORT),
        ]
    )
    with TestClient(create_app(container, keys)) as test_client:
        yield test_client


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_customer_pages_through_its_own_invoices(
    client: TestClient, accounts: tuple[UUID, UUID]
) -> None:
    own, _ = accounts
    url = f"/v1/accounts/{own}/invoices"
    first = client.get(url, params={"limit": 2}, headers=auth(CUSTOMER)).json()
    rest = client.get(
        url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth(CUSTOMER)
    ).json()
    listed = [i["invoice_id"] for i in first["items"] + rest["items"]]
    assert (len(listed), len(set(listed)), rest["next_cursor"]) == (3, 3, None)
    detail = client.get(f"{url}/{listed[0]}", headers=auth(CUSTOMER))
    assert detail.status_code == 200
    assert detail.json()["display_status"] == "paid"
    assert [t["status"] for t in detail.json()["timeline"]] == ["draft", "open", "paid"]


def test_another_accounts_invoices_are_not_found_for_a_customer(
    client: TestClient, accounts: tuple[UUID, UUID]
) -> None:
    _, other = accounts
    url = f"/v1/accounts/{other}/invoices"
    assert client.get(url, headers=auth(CUSTOMER)).status_code == 404
    invoice_id = client.get(f"/internal/accounts/{other}/invoices", headers=auth(SERVICE)).json()[
        "items"
    ][0]["invoice_id"]
    assert client.get(f"{url}/{invoice_id}", headers=auth(CUSTOMER)).status_code == 404
    assert (
        client.get(f"/support/accounts/{other}/invoices", headers=auth(SUPPORT)).status_code == 200
    )
    assert client.get(
        f"/internal/accounts/{other}/invoices", headers=auth(CUSTOMER)
    ).status_code in (
        401,
        403,
    )


def test_a_tampered_cursor_is_a_clear_400(client: TestClient, accounts: tuple[UUID, UUID]) -> None:
    own, _ = accounts
    url = f"/internal/accounts/{own}/invoices"
    cursor = client.get(url, params={"limit": 1}, headers=auth(SERVICE)).json()["next_cursor"]
    tampered = ("A" if cursor[0] != "A" else "B") + cursor[1:]
    refused = client.get(url, params={"cursor": tampered}, headers=auth(SERVICE))
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid_cursor"
    assert client.get(url, params={"limit": 101}, headers=auth(SERVICE)).status_code == 422
    missing = client.get(f"{url}/no-such-invoice", headers=auth(SERVICE))
    assert (missing.status_code, missing.json()["code"]) == (404, "invoice_not_found")
