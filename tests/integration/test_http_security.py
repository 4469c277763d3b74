"""Security details of every answer: headers, 405 with `Allow`, /metrics not public, the
per-address limit of keyless requests and webhooks, and which proxy is believed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from adapters.bootstrap import Container
from adapters.http.app import create_app
from adapters.http.auth import SCOPES, ApiKeyEntry, ApiKeys, hash_key
from commands import accounts
from ledger.meta import ActorKind
from tests.fakes.builders import open_cmd, service_ctx

SERVICE = "svc-security-0123456789"
AS_SERVICE = {"Authorization": f"Bearer {SERVICE}"}

AppFactory = Callable[..., FastAPI]


@pytest.fixture
def make_app(container: Container) -> AppFactory:
    def make(**settings: Any) -> FastAPI:
        container.settings = container.settings.model_copy(update=settings)
        entry = ApiKeyEntry(
            sha256=hash_key(SERVICE), id="svc", kind=ActorKind.SERVICE, scopes=frozenset(SCOPES)
        )
        return create_app(container, ApiKeys([entry]))

    return make


@pytest.fixture
def account_id(container: Container) -> UUID:
    return accounts.open_account(container.deps, open_cmd("Sec"), service_ctx()).account_id


def test_every_answer_says_nosniff_and_account_data_is_never_cached(
    make_app: AppFactory, account_id: UUID
) -> None:
    with TestClient(make_app()) as client:
        answers = [
            client.get(f"/internal/accounts/{account_id}", headers=AS_SERVICE),
            client.get("/internal/accounts", headers=AS_SERVICE),
            client.get("/v1/accounts/nope"),  # a 401 problem on a surface
            client.get("/healthz"),
        ]
        assert all(a.headers["x-content-type-options"] == "nosniff" for a in answers)
        assert [a.headers.get("cache-control") for a in answers] == [
            "no-store",
            "no-store",
            "no-store",
            None,
        ]
        assert all("strict-transport-security" not in a.headers for a in answers)


def test_hsts_is_sent_when_configured(make_app: AppFactory) -> None:
    with TestClient(make_app(hsts_max_age_s=31_536_000)) as client:
        answer = client.get("/healthz")
    assert answer.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


def test_a_405_names_every_method_served_at_the_path(
    make_app: AppFactory, account_id: UUID
) -> None:
    with TestClient(make_app()) as client:
        answer = client.delete(f"/internal/accounts/{account_id}", headers=AS_SERVICE)
        collection = client.put("/internal/accounts", headers=AS_SERVICE)
        docs = client.post("/docs")  # not in the document: Starlette's own Allow is kept
    assert answer.status_code == 405
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "method_not_allowed"
    assert answer.headers["allow"] == "GET, PATCH"
    assert (collection.status_code, collection.headers["allow"]) == (405, "GET, POST")
    assert docs.status_code == 405
    assert set(docs.headers["allow"].split(", ")) == {"GET", "HEAD"}


def test_metrics_are_not_served_on_the_api_port_by_default(make_app: AppFactory) -> None:
    with TestClient(make_app()) as client:
        assert client.get("/metrics").status_code == 404
        assert client.get("/metrics", headers=AS_SERVICE).status_code == 404


def test_keyless_requests_and_webhooks_are_limited_per_client_address(
    make_app: AppFactory,
) -> None:
    with TestClient(make_app(address_rate_limit="3/minute")) as client:
        codes = [client.get("/internal/accounts").status_code for _ in range(3)]
        limited = client.post("/webhooks/stripe", content=b"{}")
        authenticated = client.get("/internal/accounts", headers=AS_SERVICE)
        probe = client.get("/healthz")
    assert codes == [401, 401, 401]
    assert (limited.status_code, limited.json()["code"]) == (429, "rate_limited")
    assert int(limited.headers["retry-after"]) >= 1
    assert authenticated.status_code == 200  # a valid key has its own, per-principal limit
    assert probe.status_code == 200


def test_guessing_keys_is_limited_per_client_address(make_app: AppFactory) -> None:
    with TestClient(make_app(address_rate_limit="2/minute")) as client:
        guesses = [
            client.get("/internal/accounts", headers={"Authorization": f"Bearer guess-{n}"})
            for n in range(3)
        ]
    assert [g.status_code for g in guesses] == [401, 401, 429]


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(
    make_app: AppFactory,
) -> None:
    def spoofed(client: TestClient, n: int) -> int:
        forwarded = {"X-Forwarded-For": f"203.0.113.{n}"}
        status: int = client.get("/internal/accounts", headers=forwarded).status_code
        return status

    with TestClient(make_app(address_rate_limit="2/minute")) as client:
        untrusted = [spoofed(client, n) for n in range(3)]
    assert untrusted == [401, 401, 429]  # one bucket: the socket peer's
    with TestClient(
        make_app(address_rate_limit="2/minute", trusted_proxies=("testclient",))
    ) as client:
        trusted = [spoofed(client, n) for n in range(3)]
    assert trusted == [401, 401, 401]  # each forwarded address has its own bucket
