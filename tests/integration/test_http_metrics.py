"""HTTP metrics on real PostgreSQL: every answer is counted by surface, route template, method
and status, and timed by surface and route template; a route that raises is a counted 500,
an answer of the address limit a counted 429. The counters are the process's, shared by the
tests: each test compares a scrape after its requests with one before."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from structlog.testing import capture_logs

from adapters.bootstrap import Container
from adapters.http.app import create_app
from adapters.http.auth import SCOPES, ApiKeyEntry, ApiKeys, hash_key
from adapters.http.ratelimit import RateLimiter
from adapters.http.routers import health as health_routes
from ledger.meta import ActorKind

TOKEN, SERVICE = "scrape-token-0123", "svc-key-0123456789"
SCRAPER = {"Authorization": f"Bearer {TOKEN}"}
HEALTH = "/internal/accounts/{account_id}/health"

Series = dict[frozenset[tuple[str, str]], float]


def series(client: TestClient, sample: str) -> Series:
    text = client.get("/metrics", headers=SCRAPER).text
    return {
        frozenset(s.labels.items()): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == sample
    }


def labels(**given: str) -> frozenset[tuple[str, str]]:
    return frozenset(given.items())


def counted(before: Series, after: Series) -> Series:
    """What the requests between two scrapes added, series by series."""
    grown = {k: v - before.get(k, 0.0) for k, v in after.items()}
    return {k: v for k, v in grown.items() if v}


def client_for(
    container: Container, address_limit: str = "600/minute", raise_errors: bool = True
) -> TestClient:
    container.settings = container.settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})
    service = ApiKeyEntry(
        sha256=hash_key(SERVICE), id="svc-1", kind=ActorKind.SERVICE, scopes=frozenset(SCOPES)
    )
    limiter = RateLimiter(address_limit, None, f"test:{uuid4().hex[:8]}", name="address")
    app = create_app(container, ApiKeys([service]), address_limiter=limiter)
    return TestClient(app, raise_server_exceptions=raise_errors)


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with client_for(container) as test_client:
        yield test_client


def health(client: TestClient, account_id: UUID) -> int:
    auth = {"Authorization": f"Bearer {SERVICE}"}
    answer = client.get(f"/internal/accounts/{account_id}/health", headers=auth)
    return int(answer.status_code)


def test_requests_are_counted_by_route_template_never_the_raw_path(client: TestClient) -> None:
    before = series(client, "billing_http_requests_total")
    assert [health(client, uuid4()) for _ in range(3)] == [404, 404, 404]
    assert client.get("/no/such/path").status_code == 404
    assert client.get("/healthz").status_code == 200
    found = counted(before, series(client, "billing_http_requests_total"))
    ops = {"surface": "ops", "method": "GET"}
    assert found == {
        labels(surface="iapi", route=HEALTH, method="GET", status="404"): 3,
        labels(**ops, route="none", status="404"): 1,
        labels(**ops, route="/healthz", status="200"): 1,
        labels(**ops, route="/metrics", status="200"): 1,  # the first scrape
    }


def test_a_static_file_is_counted_under_its_mount_path(client: TestClient) -> None:
    before = series(client, "billing_http_requests_total")
    assert client.get("/pay/static/pay.css").status_code == 200
    found = counted(before, series(client, "billing_http_requests_total"))
    assert found[labels(surface="pay", route="/pay/static", method="GET", status="200")] == 1


def test_latency_is_observed_by_surface_route_template_method_and_status(
    client: TestClient,
) -> None:
    before = series(client, "billing_http_request_duration_seconds_count")
    health(client, uuid4())
    found = counted(before, series(client, "billing_http_request_duration_seconds_count"))
    assert found[labels(surface="iapi", route=HEALTH, method="GET", status="404")] == 1


def test_a_route_that_raises_is_a_counted_500_with_its_route_template(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> Callable[..., object]:
        raise RuntimeError("a bug in the route")

    with client_for(container, raise_errors=False) as client:
        before = series(client, "billing_http_requests_total")
        monkeypatch.setattr(health_routes, "get_health", broken)
        with capture_logs() as logs:  # and not the console's slow rendering of a traceback
            answer_status = health(client, uuid4())
        monkeypatch.undo()
        found = counted(before, series(client, "billing_http_requests_total"))
    assert answer_status == 500
    assert [e["event"] for e in logs] == ["http.unexpected_error", "http.request"]
    assert found[labels(surface="iapi", route=HEALTH, method="GET", status="500")] == 1


def test_an_answer_of_the_address_limit_is_a_counted_429(container: Container) -> None:
    with client_for(container, address_limit="2/minute") as client:
        before = series(client, "billing_http_requests_total")
        statuses = [client.get("/internal/accounts").status_code for _ in range(3)]
        found = counted(before, series(client, "billing_http_requests_total"))
    assert statuses == [401, 401, 429]
    route = {"surface": "iapi", "route": "/internal/accounts", "method": "GET"}
    assert found[labels(**route, status="401")] == 2
    assert found[labels(**route, status="429")] == 1
