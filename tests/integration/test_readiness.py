"""Liveness and readiness on real PostgreSQL and Kafka: /healthz answers while the process
does; /readyz says each check (database, a configured Kafka, the projections) and answers
503 while a projection is too far behind the store or parked on a poisoned event."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.bootstrap import Container
from adapters.http.app import create_app
from adapters.http.auth import ApiKeys
from projections.health import HealthProjection
from tests.harness import KafkaServer, free_port
from tests.integration.test_projection_poison import (
    feed_all,
    open_accounts,
    raising_for,
    rename,
)


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container, ApiKeys([]))) as test_client:
        yield test_client


def ready(client: TestClient) -> tuple[int, dict[str, Any]]:
    answer = client.get("/readyz")
    return answer.status_code, answer.json()


def test_a_caught_up_ledger_is_alive_and_ready_and_says_what_it_checked(
    container: Container, client: TestClient
) -> None:
    open_accounts(container, 2)
    feed_all(container)
    assert client.get("/healthz").json() == {"status": "ok"}
    status, body = ready(client)
    assert (status, body["status"], body["database"]) == (200, "ok", "ok")
    assert body["projections"].keys() == container.projections.keys()
    assert all(p == {"lag_events": 0, "poisoned": 0} for p in body["projections"].values())
    assert "kafka" not in body


def test_a_projection_too_far_behind_is_not_ready_until_it_catches_up(
    container: Container,
) -> None:
    container.settings = container.settings.model_copy(update={"ready_max_lag_events": 2})
    with TestClient(create_app(container, ApiKeys([]))) as client:
        open_accounts(container, 3)  # three events no projection has applied
        status, body = ready(client)
        assert (status, body["status"]) == (503, "unavailable")
        assert {p["lag_events"] for p in body["projections"].values()} == {3}
        assert client.get("/healthz").status_code == 200
        feed_all(container)
        assert ready(client)[0] == 200


def test_a_poisoned_event_makes_the_ledger_not_ready(
    container: Container, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    [bad] = open_accounts(container, 1)
    rename(container, bad, "renamed@example.com")
    with monkeypatch.context() as bug:
        raising_for(bad, HealthProjection, bug)
        feed_all(container)
    status, body = ready(client)
    assert status == 503
    assert body["projections"]["health"]["poisoned"] == 1
    assert body["projections"]["accounts"]["poisoned"] == 0


def test_kafka_is_checked_when_configured(container: Container, kafka_server: KafkaServer) -> None:
    for bootstrap, expected in (
        (kafka_server.bootstrap, (200, "ok")),
        (f"127.0.0.1:{free_port()}", (503, "down")),
    ):
        container.settings = container.settings.model_copy(update={"kafka_bootstrap": bootstrap})
        with TestClient(create_app(container, ApiKeys([]))) as client:
            status, body = ready(client)
        assert (status, body["kafka"]) == expected
