"""A database that stops while Prometheus scrapes: /metrics still answers, without the business
state, pipeline and business flow families, counting each read that failed, /readyz says the
database is down and /healthz that the process lives; once the database is back the families
return. On a PostgreSQL of this test's own (the session's is shared by every test)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from structlog.testing import capture_logs

from adapters.bootstrap import Container, build
from adapters.http.app import create_app
from adapters.http.auth import ApiKeys
from adapters.postgres.database import configured
from adapters.postgres.migrate import migrate
from adapters.settings import Settings
from commands import accounts
from projections.feed import catch_up
from projections.health import HealthProjection
from tests.fakes.builders import customer_ctx, open_cmd
from tests.fakes.clock import FixedClock
from tests.harness import PostgresServer, outside_pytest_tmp, running_postgres
from tests.harness.postgres import postgres_stopped

TOKEN = "scrape-token-0123"
BUSINESS = {
    "billing_accounts",
    "billing_stuck_accounts",
    "billing_bad_debt_minor_units",
    "billing_open_receivable_minor_units",
    "billing_oldest_attempt_in_flight_age_seconds",
    "billing_payments_waiting_for_customer",
    "billing_business_state_read_duration_seconds",
}
PIPELINE = {
    "billing_store_head_position",
    "billing_projection_position",
    "billing_projection_lag_events",
    "billing_projection_store_lag_seconds",
    "billing_projection_poisoned_streams",
    "billing_pipeline_state_read_duration_seconds",
}
FLOW = {  # sample names: a counter's `_total`
    "billing_payment_attempts_total",
    "billing_invoice_transitions_total",
    "billing_reconciliation_findings_total",
    "billing_business_flow_read_duration_seconds",
}


@pytest.fixture
def own_postgres() -> Iterator[tuple[PostgresServer, Path]]:
    with outside_pytest_tmp() as work_dir, running_postgres(work_dir) as server:
        yield server, work_dir


@pytest.fixture
def container(own_postgres: tuple[PostgresServer, Path], clock: FixedClock) -> Iterator[Container]:
    server, _ = own_postgres
    name = f"metrics_{uuid4().hex[:10]}"
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = f"postgresql://{server.user}@{server.host}:{server.port}/{name}"
    migrate(configured(url))
    settings = Settings(
        database_url=url,
        kafka_bootstrap=None,
        pool_size=2,
        metrics_token=SecretStr(TOKEN),
        metrics_cache_s=0.0,
    )
    with build(settings, clock=clock) as built:
        yield built


Scraped = dict[str, dict[tuple[tuple[str, str], ...], float]]


def scrape(client: TestClient) -> Scraped:
    """Each sample's name (a counter's `_total`) -> its values by labels."""
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    found: Scraped = {}
    for family in text_string_to_metric_families(answer.text):
        for s in family.samples:
            found.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return found


def read_errors(found: Scraped) -> float:
    return found["billing_business_state_read_errors_total"][()]


def pipeline_errors(found: Scraped) -> float:
    return found["billing_pipeline_state_read_errors_total"][()]


def flow_errors(found: Scraped) -> float:
    return found["billing_business_flow_read_errors_total"][()]


def test_a_stopped_database_leaves_the_business_families_out_and_counts_it(
    container: Container, own_postgres: tuple[PostgresServer, Path]
) -> None:
    _, pg_dir = own_postgres
    accounts.open_account(container.deps, open_cmd(currency="USD"), customer_ctx())
    catch_up(container.connection, HealthProjection(), container.reader)
    with TestClient(create_app(container, ApiKeys([]))) as client:
        found = scrape(client)
        assert found.keys() >= BUSINESS | PIPELINE | FLOW
        assert found["billing_accounts"][(("state", "healthy"),)] == 1
        assert (read_errors(found), pipeline_errors(found), flow_errors(found)) == (0, 0, 0)

        with postgres_stopped(pg_dir), capture_logs() as logs:
            down = [scrape(client), scrape(client)]  # a broken connection, then none at all
            readiness = client.get("/readyz")
            liveness = client.get("/healthz")
        assert (readiness.status_code, readiness.json()) == (
            503,
            {"status": "unavailable", "database": "down"},
        )
        assert liveness.status_code == 200  # alive: a restart would not bring PostgreSQL back
        assert [(BUSINESS | PIPELINE | FLOW) & found.keys() for found in down] == [set(), set()]
        assert [read_errors(found) for found in down] == [1, 2]
        assert [pipeline_errors(found) for found in down] == [1, 2]
        assert [flow_errors(found) for found in down] == [1, 2]
        assert all("billing_http_requests_total" in found for found in down)
        events = sorted(e["event"] for e in logs if e["log_level"] == "warning")
        assert events == [
            *["metrics.business_flow_unavailable"] * 2,
            *["metrics.business_state_unavailable"] * 2,
            *["metrics.pipeline_state_unavailable"] * 2,
        ]

        deadline = time.monotonic() + 30  # the pool reconnects with a backoff
        while (BUSINESS | PIPELINE | FLOW) - (found := scrape(client)).keys():
            assert time.monotonic() < deadline, "the families did not return"
            time.sleep(0.5)
    assert found["billing_accounts"][(("state", "healthy"),)] == 1
    assert found["billing_projection_lag_events"][(("projection", "health"),)] == 0
    assert read_errors(found) >= 2
