"""The HTTP API on real PostgreSQL: surfaces, auth, problem+json, read-your-writes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from adapters.bootstrap import Container
from adapters.cli.runtime import store_feed
from adapters.http.app import create_app
from adapters.http.auth import SCOPES, ApiKeyEntry, ApiKeys, hash_key
from adapters.http.ratelimit import RateLimiter
from commands import accounts
from ledger.meta import ActorKind
from tests.fakes.builders import open_cmd, service_ctx
from tests.harness import RedisServer

KEYS = {
    "service": "svc-key-0123456789",
    "support": "support-key-0123456789",
    "reader": "svc-readonly-0123456789",
}
BODY = {"name": "Ada Lovelace", "email": "ada@example.com", "country": "GB", "currency": "GBP"}


def entry(key: str, kind: ActorKind, scopes: tuple[str, ...] = SCOPES, **extra: Any) -> ApiKeyEntry:
    return ApiKeyEntry(
        sha256=hash_key(key), id=f"{kind.value}-1", kind=kind, scopes=frozenset(scopes), **extra
    )


@pytest.fixture
def customer_account(container: Container) -> UUID:
    return accounts.open_account(container.deps, open_cmd("Own Account"), service_ctx()).account_id


@pytest.fixture
def client(container: Container, customer_account: UUID) -> Iterator[TestClient]:
    keys = ApiKeys(
        [
            entry(KEYS["service"], ActorKind.SERVICE),
            entry(KEYS["support"], ActorKind.SUPPORT),
            entry(KEYS["reader"], ActorKind.SERVICE, ("accounts:read",)),
            entry("customer-key-0123456789", ActorKind.CUSTOMER, account_id=customer_account),
        ]
    )
    with store_feed(container), TestClient(create_app(container, keys)) as test_client:
        yield test_client


def auth(who: str) -> dict[str, str]:
    key = KEYS.get(who, "customer-key-0123456789")
    return {"Authorization": f"Bearer {key}"}


def test_a_service_opens_an_account_and_reads_its_own_write(client: TestClient) -> None:
    created = client.post("/internal/accounts", json=BODY, headers=auth("service"))
    assert created.status_code == 201
    written = created.json()
    account = client.get(
        f"/internal/accounts/{written['account_id']}",
        params={"min_version": written["version"]},
        headers=auth("service"),
    )
    assert account.status_code == 200
    assert account.json()["name"] == "Ada Lovelace"
    assert account.json()["status"] == "open"


def test_the_correlation_id_is_echoed_and_recorded(
    client: TestClient, container: Container
) -> None:
    correlation_id = str(uuid4())
    headers = {**auth("service"), "X-Correlation-Id": correlation_id}
    created = client.post("/internal/accounts", json=BODY, headers=headers)
    assert created.headers["X-Correlation-Id"] == correlation_id
    opened = container.reader.read_after(0, 100)[-1]
    assert opened.meta["correlation_id"] == correlation_id
    assert opened.meta["actor"] == {"id": "service-1", "kind": "service"}
    assert opened.meta["surface"] == "iapi"


def test_an_idempotency_key_makes_a_retry_safe(client: TestClient, container: Container) -> None:
    headers = {**auth("service"), "Idempotency-Key": str(uuid4())}
    first = client.post("/internal/accounts", json=BODY, headers=headers).json()
    again = client.post("/internal/accounts", json=BODY, headers=headers)
    assert again.status_code == 201
    assert again.json() == {**first, "replayed": True}  # its version 1 and position too
    changed = client.post("/internal/accounts", json={**BODY, "name": "Other"}, headers=headers)
    assert changed.status_code == 409
    assert changed.json()["code"] == "idempotency_key_reused"


def test_without_a_key_the_answer_is_a_401_problem(client: TestClient) -> None:
    response = client.get("/internal/accounts")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unauthenticated"
    wrong = client.get("/internal/accounts", headers={"Authorization": "Bearer nope"})
    assert wrong.json()["code"] == "unauthenticated"


def test_a_principal_outside_a_route_gets_403(client: TestClient) -> None:
    assert client.get("/internal/accounts", headers=auth("customer")).status_code == 403
    assert client.get("/support/accounts", headers=auth("service")).status_code == 403
    missing_scope = client.post("/internal/accounts", json=BODY, headers=auth("reader"))
    assert (missing_scope.status_code, missing_scope.json()["code"]) == (403, "forbidden")


def test_a_customer_reaches_only_its_own_account(
    client: TestClient, container: Container, customer_account: UUID
) -> None:
    other = accounts.open_account(container.deps, open_cmd("Someone"), service_ctx()).account_id
    own = client.get(
        f"/v1/accounts/{customer_account}", params={"min_version": 1}, headers=auth("customer")
    )
    assert (own.status_code, own.json()["name"]) == (200, "Own Account")
    for path in (f"/v1/accounts/{other}", f"/v1/accounts/{uuid4()}"):
        response = client.get(path, headers=auth("customer"))
        assert (response.status_code, response.json()["code"]) == (404, "account_not_found")
    patch = client.patch(f"/v1/accounts/{other}", json={"name": "x"}, headers=auth("customer"))
    assert patch.status_code == 404
    assert client.post(f"/v1/accounts/{other}/close", headers=auth("customer")).status_code == 404
    assert len(container.reader.read_after(0, 100)) == 2  # nothing written to the other account


def test_a_customer_updates_and_closes_its_own_account(
    client: TestClient, customer_account: UUID
) -> None:
    path = f"/v1/accounts/{customer_account}"
    updated = client.patch(path, json={"email": "me@example.org"}, headers=auth("customer"))
    assert (updated.status_code, updated.json()["version"]) == (200, 2)
    closed = client.post(f"{path}/close", headers=auth("customer")).json()
    view = client.get(path, params={"min_version": closed["version"]}, headers=auth("customer"))
    assert (view.json()["status"], view.json()["email"]) == ("closed", "me@example.org")


def test_support_writes_need_a_reason_that_is_recorded(
    client: TestClient, container: Container, customer_account: UUID
) -> None:
    path = f"/support/accounts/{customer_account}"
    refused = client.patch(path, json={"name": "New"}, headers=auth("support"))
    assert (refused.status_code, refused.json()["code"]) == (422, "invalid_request")
    done = client.patch(path, json={"name": "New", "reason": "ticket 42"}, headers=auth("support"))
    assert done.status_code == 200
    event = container.reader.read_after(0, 100)[-1]
    assert (event.meta["reason"], event.meta["surface"]) == ("ticket 42", "ninjapanel")


def test_bad_input_is_a_typed_problem_and_changes_nothing(
    client: TestClient, container: Container, customer_account: UUID
) -> None:
    before = container.reader.head()
    bad = client.post("/internal/accounts", json={**BODY, "country": "XX"}, headers=auth("service"))
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_profile")
    lower = client.post(
        "/internal/accounts", json={**BODY, "currency": "gbp"}, headers=auth("service")
    )
    assert lower.json()["code"] == "invalid_request"
    extra = client.post("/internal/accounts", json={**BODY, "admin": True}, headers=auth("service"))
    assert extra.status_code == 422
    same = client.patch(
        f"/internal/accounts/{customer_account}",
        json={"name": "Own Account"},
        headers=auth("service"),
    )
    assert same.json()["code"] == "nothing_to_change"
    missing = client.post(f"/internal/accounts/{uuid4()}/close", headers=auth("service"))
    assert (missing.status_code, missing.json()["code"]) == (404, "account_not_found")
    assert container.reader.head() == before


def test_closed_accounts_refuse_changes_with_409(
    client: TestClient, customer_account: UUID
) -> None:
    path = f"/internal/accounts/{customer_account}"
    assert client.post(f"{path}/close", headers=auth("service")).status_code == 200
    again = client.post(f"{path}/close", headers=auth("service"))
    assert (again.status_code, again.json()["code"]) == (409, "account_closed")


def test_health_and_metrics(container: Container, customer_account: UUID) -> None:
    container.settings = container.settings.model_copy(
        update={"metrics_token": SecretStr("scrape-token-0123")}
    )
    scraper = {"Authorization": "Bearer scrape-token-0123"}
    keys = ApiKeys([entry(KEYS["service"], ActorKind.SERVICE)])
    with store_feed(container), TestClient(create_app(container, keys)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        client.get("/internal/accounts", headers=auth("service"))
        assert "billing_http_requests_total" in client.get("/metrics", headers=scraper).text
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers=auth("service")).status_code == 401
        lag = 'billing_projection_gap_events{projection="accounts"} 0.0'
        deadline = time.monotonic() + 5
        while (
            lag not in (text := client.get("/metrics", headers=scraper).text)
            and time.monotonic() < deadline
        ):
            time.sleep(0.05)
    assert lag in text
    assert 'billing_projection_last_event_timestamp_seconds{projection="accounts"}' in text


def test_rate_limits_are_shared_through_redis(
    container: Container, customer_account: UUID, redis_service: RedisServer
) -> None:
    keys = ApiKeys([entry(KEYS["service"], ActorKind.SERVICE)])
    namespace = uuid4().hex
    apps = [
        create_app(container, keys, RateLimiter("3/minute", redis_service.url, namespace))
        for _ in range(2)
    ]
    path = f"/internal/accounts/{customer_account}"
    with TestClient(apps[0]) as one, TestClient(apps[1]) as two:
        codes = [c.get(path, headers=auth("service")).status_code for c in (one, two, one)]
        limited = two.get(path, headers=auth("service"))
    assert codes == [404, 404, 404]  # allowed (the read model is not fed in this test)
    assert (limited.status_code, limited.json()["code"]) == (429, "rate_limited")
    assert int(limited.headers["Retry-After"]) >= 1
