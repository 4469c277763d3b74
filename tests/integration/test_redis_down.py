"""Redis stops under a running API: authenticated requests still succeed (the rate limits
fail open, logged and counted), payment sessions answer 503 `session_store_unavailable`,
and readiness reports Redis down. A private redis-server of this test's own is stopped
mid-test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from pydantic import SecretStr

from adapters.bootstrap import Container, build
from adapters.http.app import create_app
from adapters.http.auth import SCOPES, ApiKeyEntry, ApiKeys, hash_key
from adapters.settings import Settings
from commands import accounts
from ledger.meta import ActorKind
from tests.fakes.builders import open_cmd, service_ctx
from tests.fakes.clock import FixedClock
from tests.harness import free_port, running_redis

SERVICE, CUSTOMER = "svc-redis-0123456789", "cust-redis-0123456789"


def _unavailable_count() -> float:
    return REGISTRY.get_sample_value("billing_rate_limit_unavailable_total") or 0.0


@pytest.fixture
def redis_stack(tmp_path: Path) -> Iterator[tuple[ExitStack, str]]:
    with ExitStack() as stack:
        server = stack.enter_context(running_redis(tmp_path / "redis"))
        yield stack, server.url


@pytest.fixture
def wired(
    database_url: str, clock: FixedClock, redis_stack: tuple[ExitStack, str]
) -> Iterator[Container]:
    settings = Settings(
        database_url=database_url,
        pool_size=4,
        redis_url=redis_stack[1],
        turnstile_site_key="0x4AAAAAAAredis",
        turnstile_secret=SecretStr("0x4AAAAAAAredis-secret"),
        turnstile_url=f"http://127.0.0.1:{free_port()}/siteverify",
    )
    built = build(settings, clock=clock)
    yield built
    built.close()


def _client(container: Container) -> tuple[TestClient, UUID]:
    account_id = accounts.open_account(container.deps, open_cmd("Own"), service_ctx()).account_id
    entries = [
        ApiKeyEntry(sha256=hash_key(SERVICE), id="svc", kind=ActorKind.SERVICE, scopes=SCOPES),
        ApiKeyEntry(
            sha256=hash_key(CUSTOMER),
            id="cust",
            kind=ActorKind.CUSTOMER,
            scopes=SCOPES,
            account_id=account_id,
        ),
    ]
    return TestClient(create_app(container, ApiKeys(entries))), account_id


def _complete(client: TestClient, account_id: UUID) -> tuple[int, str]:
    response = client.post(
        f"/v1/accounts/{account_id}/payment-sessions/{uuid4()}/complete",
        json={"turnstile_token": "token", "payment_method": "pm_card_visa"},
        headers={"Authorization": f"Bearer {CUSTOMER}"},
    )
    return response.status_code, response.json()["code"]


def test_redis_stopping_mid_test_degrades_instead_of_failing(
    wired: Container, redis_stack: tuple[ExitStack, str]
) -> None:
    client, account_id = _client(wired)
    service = {"Authorization": f"Bearer {SERVICE}"}
    with client:
        ready = client.get("/readyz").json()
        assert (ready["status"], ready["redis"]) == ("ok", "ok")
        assert client.get("/internal/accounts", headers=service).status_code == 200
        assert _complete(client, account_id)[0] == 404  # Redis answered: no such session

        redis_stack[0].close()  # Redis stops under the running app
        before = _unavailable_count()

        for _ in range(5):  # past the breaker's threshold: it then stops asking
            assert client.get("/internal/accounts", headers=service).status_code == 200
        assert _unavailable_count() == before + 5
        assert _complete(client, account_id) == (503, "session_store_unavailable")
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert (ready.json()["status"], ready.json()["redis"]) == ("unavailable", "down")
        assert ready.json()["database"] == "ok"
        assert client.get("/healthz").status_code == 200  # alive: nothing to restart


def test_without_redis_configured_readiness_does_not_mention_it(container: Container) -> None:
    with TestClient(create_app(container, ApiKeys([]))) as client:
        ready = client.get("/readyz").json()
        assert ready["status"] == "ok"
        assert "redis" not in ready
