"""Test clocks from support over HTTP (the SUPPORT surface): read an account's clock, advance
it with a reason (the billing run renews on the way; its events carry the agent, the surface,
the reason and the request's correlation; the advance is kept with who and why; a repeated
Idempotency-Key answers the first advance), and every refusal: no reason, not support, no
clock on the account, production settings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from adapters.bootstrap import Container, build
from adapters.clock_walk import registry
from adapters.http.app import create_app
from adapters.http.auth import ApiKeys
from adapters.settings import Settings
from commands import accounts
from commands.base import load_account
from ledger.invoices import InvoiceStatus
from ledger.meta import ActorKind
from tests.fakes.builders import customer_ctx, open_cmd
from tests.fakes.settings import PRODUCTION
from tests.integration.test_clocks import START, clocked_account, sim  # noqa: F401
from tests.integration.test_http import KEYS, auth, entry

REASON = "Customer asked why the renewal is due (ticket 77)"


def client_of(container: Container) -> TestClient:
    keys = ApiKeys(
        [entry(KEYS["service"], ActorKind.SERVICE), entry(KEYS["support"], ActorKind.SUPPORT)]
    )
    return TestClient(create_app(container, keys))


@pytest.fixture
def client(sim: Container) -> Iterator[TestClient]:  # noqa: F811
    with client_of(sim) as test_client:
        yield test_client


def advance(client: TestClient, account_id: UUID, key: str, **body: Any) -> Any:
    headers = {**auth("support"), "Idempotency-Key": key}
    path = f"/support/accounts/{account_id}/test-clock/advance"
    return client.post(path, json=body, headers=headers)


def test_support_reads_an_accounts_clock_and_advances_it_with_a_reason(
    sim: Container,  # noqa: F811
    client: TestClient,
) -> None:
    clock = registry(sim).new("support", START)
    account_id = clocked_account(sim, clock.clock_id, "pm_card_visa")
    read = client.get(f"/support/accounts/{account_id}/test-clock", headers=auth("support"))
    assert read.status_code == 200, read.text
    assert read.json()["clock"]["clock_id"] == clock.clock_id
    assert read.json()["clock"]["frozen_at"].startswith("2026-01-01T12:00:00")
    before = load_account(sim.app, account_id).version

    moved = advance(client, account_id, "advance-1", days=35, reason=REASON)

    assert moved.status_code == 200, moved.text
    answer = moved.json()
    assert (answer["steps"], answer["renewed"], answer["errors"]) == (35, 1, 0)
    assert answer["clock"]["frozen_at"].startswith("2026-02-05T12:00:00")
    assert answer["replayed"] is False
    invoices = load_account(sim.app, account_id).invoices.values()
    assert [i.status for i in invoices] == [InvoiceStatus.PAID, InvoiceStatus.PAID]
    history = client.get(
        f"/support/accounts/{account_id}/history",
        params={"after_version": before},
        headers=auth("support"),
    ).json()["entries"]
    assert history, "the renewal recorded events"
    correlation = moved.headers["X-Correlation-Id"]
    assert {
        (e["actor_id"], e["actor_kind"], e["surface"], e["reason"], e["correlation_id"])
        for e in history
    } == {("support-1", "support", "ninjapanel", REASON, correlation)}
    [kept] = registry(sim).advances(clock.clock_id)
    assert (kept.actor_id, kept.actor_kind, kept.surface, kept.reason) == (
        "support-1",
        "support",
        "ninjapanel",
        REASON,
    )
    assert (kept.from_at, kept.to_at) == (START, START + timedelta(days=35))
    assert kept.totals is not None
    assert kept.totals["renewed"] == 1


def test_a_repeated_key_answers_the_first_advance_and_moves_nothing(
    sim: Container,  # noqa: F811
    client: TestClient,
) -> None:
    clock = registry(sim).new("keyed", START)
    account_id = clocked_account(sim, clock.clock_id, "pm_card_visa")
    first = advance(client, account_id, "same-key", days=2, reason=REASON)
    again = advance(client, account_id, "same-key", days=2, reason=REASON)
    assert again.status_code == 200, again.text
    assert again.json()["replayed"] is True
    assert again.json()["to_at"] == first.json()["to_at"]
    assert registry(sim).get(clock.clock_id).frozen_at == START + timedelta(days=2)
    other = advance(client, account_id, "same-key", days=3, reason=REASON)
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")
    assert len(registry(sim).advances(clock.clock_id)) == 1


def test_advancing_is_refused_without_a_reason_to_others_and_without_a_clock(
    sim: Container,  # noqa: F811
    client: TestClient,
) -> None:
    clock = registry(sim).new("refusals", START)
    account_id = clocked_account(sim, clock.clock_id, "pm_card_visa")
    no_reason = advance(client, account_id, "k1", days=1)
    assert no_reason.status_code == 422
    blank = advance(client, account_id, "k2", days=1, reason="   ")
    assert blank.status_code == 422
    backwards = advance(client, account_id, "k3", days=-1, reason=REASON)
    assert backwards.status_code == 422
    service = client.post(
        f"/support/accounts/{account_id}/test-clock/advance",
        json={"days": 1, "reason": REASON},
        headers=auth("service"),
    )
    assert service.status_code == 403
    assert registry(sim).get(clock.clock_id).frozen_at == START

    plain = accounts.open_account(sim.deps, open_cmd(), customer_ctx()).account_id
    none = client.get(f"/support/accounts/{plain}/test-clock", headers=auth("support"))
    assert (none.status_code, none.json()["code"]) == (404, "account_not_on_test_clock")
    refused = advance(client, plain, "k4", days=1, reason=REASON)
    assert (refused.status_code, refused.json()["code"]) == (404, "account_not_on_test_clock")
    unknown = client.get(f"/support/accounts/{UUID(int=1)}/test-clock", headers=auth("support"))
    assert (unknown.status_code, unknown.json()["code"]) == (404, "account_not_found")


def test_test_clocks_are_refused_over_http_in_production_settings(database_url: str) -> None:
    settings = Settings(database_url=database_url, pool_size=2, **PRODUCTION)
    with build(settings) as production, client_of(production) as client:
        account_id = accounts.open_account(production.deps, open_cmd(), customer_ctx()).account_id
        read = client.get(f"/support/accounts/{account_id}/test-clock", headers=auth("support"))
        moved = advance(client, account_id, "k", days=1, reason=REASON)
    for answer in (read, moved):
        assert (answer.status_code, answer.json()["code"]) == (409, "test_clocks_refused")
        assert "production settings" in answer.json()["detail"]
