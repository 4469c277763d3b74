"""Logs of the HTTP edge: one access line per request with its route template (never the raw
path), status, duration and principal kind; a route that raises answers a problem with the
correlation id and is logged with it; every stdlib logger (uvicorn, the SDKs) renders as the
ledger's own lines do, JSON off a terminal."""

from __future__ import annotations

import json
import logging
from collections.abc import MutableMapping
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from adapters.bootstrap import Container
from adapters.http.app import create_app
from adapters.http.auth import SCOPES, ApiKeyEntry, ApiKeys, hash_key
from adapters.http.ratelimit import RateLimiter
from adapters.logging import configure_logging
from commands import accounts
from ledger.meta import ActorKind
from projections.feed import catch_up
from tests.fakes.builders import open_cmd, service_ctx

SERVICE = "svc-logs-0123456789"


@pytest.fixture
def client(container: Container) -> TestClient:
    entry = ApiKeyEntry(
        sha256=hash_key(SERVICE), id="svc", kind=ActorKind.SERVICE, scopes=frozenset(SCOPES)
    )
    return TestClient(create_app(container, ApiKeys([entry])))


def _access(logs: list[MutableMapping[str, Any]]) -> list[MutableMapping[str, Any]]:
    return [e for e in logs if e["event"] == "http.request"]


def test_one_access_line_per_request_with_the_route_template(
    container: Container, client: TestClient
) -> None:
    account_id = accounts.open_account(container.deps, open_cmd(), service_ctx()).account_id
    for projection in container.projections.values():
        catch_up(container.connection, projection, container.reader)
    with client, capture_logs() as logs:
        client.get(
            f"/internal/accounts/{account_id}", headers={"Authorization": f"Bearer {SERVICE}"}
        )
        client.get(f"/internal/accounts/{uuid4()}")  # no key
        client.get("/healthz")
        client.get("/pay/static/pay.css")
    lines = _access(logs)
    assert [(e["route"], e["status"], e["principal_kind"]) for e in lines] == [
        ("/internal/accounts/{account_id}", 200, "service"),
        ("/internal/accounts/{account_id}", 401, None),
        ("/healthz", 200, None),
        ("/pay/static", 200, None),
    ]
    assert [e["log_level"] for e in lines] == ["info", "info", "debug", "info"]
    assert all(isinstance(e["duration_ms"], float) for e in lines)
    assert str(account_id) not in json.dumps(lines)


def test_a_route_that_raises_answers_a_problem_with_the_correlation_id(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("adapters.http.app._live", broken)
    given = uuid4()
    with TestClient(create_app(container, ApiKeys([]))) as client, capture_logs() as logs:
        answer = client.get("/healthz", headers={"X-Correlation-Id": str(given)})
    assert (answer.status_code, answer.json()["code"]) == (500, "internal_error")
    assert UUID(answer.headers["X-Correlation-Id"]) == given
    [error] = [e for e in logs if e["event"] == "http.unexpected_error"]
    assert error["error"] == "RuntimeError"
    assert [(e["route"], e["status"]) for e in _access(logs)] == [("/healthz", 500)]


def test_the_address_limits_429_has_its_access_line_and_correlation_id(
    container: Container,
) -> None:
    """The address limit answers before any route (a security middleware): its 429 is still
    one access line, correlated like every other answer."""
    limiter = RateLimiter("1/minute", None, f"test:{uuid4().hex[:8]}:address", name="address")
    app = create_app(container, ApiKeys([]), address_limiter=limiter)
    with TestClient(app) as client, capture_logs() as logs:
        statuses = [client.get(f"/internal/accounts/{uuid4()}").status_code for _ in range(2)]
        refused = client.get("/internal/accounts", headers={"X-Correlation-Id": str(uuid4())})
    assert statuses == [401, 429]
    assert refused.status_code == 429
    assert UUID(refused.headers["X-Correlation-Id"])
    assert [(e["route"], e["status"]) for e in _access(logs)] == [
        ("/internal/accounts/{account_id}", 401),
        ("/internal/accounts/{account_id}", 429),
        ("/internal/accounts", 429),
    ]


def test_stdlib_loggers_render_as_json_with_their_name(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(json=True)
    logging.getLogger("uvicorn.error").warning("started %s", "server")
    logging.getLogger("stripe").info("request to Stripe")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(e["logger"], e["event"], e["level"]) for e in lines] == [
        ("uvicorn.error", "started server", "warning"),
        ("stripe", "request to Stripe", "info"),
    ]
    assert all("timestamp" in e for e in lines)
