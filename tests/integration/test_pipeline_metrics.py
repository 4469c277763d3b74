"""The pipeline state on /metrics, read from PostgreSQL at scrape time (real PostgreSQL, and
real Kafka for the relay): events written and not applied show as lag until the projections
catch up, a parked stream counts, a rebuild shows its progress, and the relay's kept position
and lag stay true once it stops; the relay and projector processes serve them on their own
--metrics-port."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from adapters.bootstrap import Container
from adapters.http.app import create_app
from adapters.http.auth import ApiKeys
from projections import rebuild
from projections.health import HealthProjection
from tests.fakes.clock import FixedClock
from tests.harness import free_port
from tests.integration.test_kafka_flow import relay_everything
from tests.integration.test_projection_poison import (
    feed_all,
    open_accounts,
    raising_for,
    rename,
)

TOKEN = "scrape-token-0123"
LEDGER = Path(sys.executable).parent / "ledger"
RELAY = {
    "billing_relay_published_position",
    "billing_relay_lag_events",
    "billing_relay_lag_seconds",
}
Scraped = dict[str, dict[tuple[tuple[str, str], ...], float]]


def parse(text: str) -> Scraped:
    """Each sample's name -> its values by labels, as Prometheus would read them."""
    found: Scraped = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return found


def client_of(container: Container) -> TestClient:
    container.settings = container.settings.model_copy(
        update={"metrics_token": SecretStr(TOKEN), "metrics_cache_s": 0.0}
    )
    return TestClient(create_app(container, ApiKeys([])))


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with client_of(container) as test_client:
        yield test_client


def scrape(client: TestClient) -> Scraped:
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    return parse(answer.text)


def per_projection(found: Scraped, name: str) -> dict[str, float]:
    return {k[0][1]: v for k, v in found.get(name, {}).items()}


def test_events_not_applied_show_as_lag_until_the_projections_catch_up(
    container: Container, client: TestClient, clock: FixedClock
) -> None:
    open_accounts(container, 3)
    head = container.reader.head()
    clock.advance(seconds=90)  # the first event not applied has waited that long

    found = scrape(client)
    names = set(container.projections)
    assert found["billing_store_head_position"][()] == head
    assert per_projection(found, "billing_projection_position") == dict.fromkeys(names, 0)
    assert per_projection(found, "billing_projection_lag_events") == dict.fromkeys(names, head)
    lag_s = per_projection(found, "billing_projection_store_lag_seconds")
    assert lag_s == dict.fromkeys(names, 90)
    assert per_projection(found, "billing_projection_poisoned_streams") == dict.fromkeys(names, 0)
    assert RELAY & found.keys() == set()  # no relay has kept a position: the embedded default
    assert "billing_projection_rebuild_progress_ratio" not in found
    assert found["billing_pipeline_state_read_errors_total"][()] == 0

    feed_all(container)
    found = scrape(client)
    assert per_projection(found, "billing_projection_position") == dict.fromkeys(names, head)
    assert per_projection(found, "billing_projection_lag_events") == dict.fromkeys(names, 0)
    lag_s = per_projection(found, "billing_projection_store_lag_seconds")
    assert lag_s == dict.fromkeys(names, 0)


def test_a_parked_stream_counts_for_its_projection_only(
    container: Container, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    [bad] = open_accounts(container, 1)
    rename(container, bad, "renamed@example.com")
    with monkeypatch.context() as bug:
        raising_for(bad, HealthProjection, bug)
        feed_all(container)
    parked = per_projection(scrape(client), "billing_projection_poisoned_streams")
    assert parked["health"] == 1
    assert {n for n, v in parked.items() if v} == {"health"}


def test_a_rebuild_shows_its_progress_until_it_swaps(
    container: Container, client: TestClient
) -> None:
    open_accounts(container, 4)  # four events: two batches of two
    feed_all(container)
    projection = container.projections["accounts"]
    seen: list[dict[str, float]] = []

    def progress(_: int, __: int) -> None:
        seen.append(per_projection(scrape(client), "billing_projection_rebuild_progress_ratio"))

    with container.connection() as conn, rebuild.exclusive_rebuild(conn, projection.name):
        conn.commit()
        start = rebuild.prepare(conn, projection, container.reader.head(), fresh=True)
        progress(0, 0)
        rebuild.build(conn, projection, container.reader, batch_size=2, progress=progress)
        rebuild.swap(conn, projection, container.reader, start)
    assert seen == [{"accounts": 0.0}, {"accounts": 0.5}, {"accounts": 1.0}]
    assert "billing_projection_rebuild_progress_ratio" not in scrape(client)


def test_the_relays_kept_position_and_lag_stay_true_once_it_stops(
    kafka_container: Container,
) -> None:
    open_accounts(kafka_container, 2)
    published = asyncio.run(relay_everything(kafka_container))
    with client_of(kafka_container) as client:
        found = scrape(client)
        assert found["billing_relay_published_position"][()] == published
        assert (found["billing_relay_lag_events"][()], found["billing_relay_lag_seconds"][()]) == (
            0,
            0,
        )

        open_accounts(kafka_container, 3)  # written while no relay runs
        time.sleep(0.2)
        found = scrape(client)
    assert found["billing_store_head_position"][()] == published + 3
    assert found["billing_relay_published_position"][()] == published
    assert found["billing_relay_lag_events"][()] == 3
    assert found["billing_relay_lag_seconds"][()] >= 0.2


class Process:
    """A `ledger` process of this test's container serving its metrics on a port of its own."""

    def __init__(self, container: Container, command: str, log: Path) -> None:
        self.port, self.log = free_port(), log
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
        env |= {
            "LEDGER_DATABASE_URL": container.settings.database_url or "",
            "LEDGER_KAFKA_BOOTSTRAP": str(container.settings.kafka_bootstrap),
            "LEDGER_TOPIC": container.settings.topic,
            "LEDGER_LOG_JSON": "true",
            "LEDGER_METRICS_CACHE_S": "0.2",
        }
        with log.open("ab") as sink:
            self.proc = subprocess.Popen(
                [str(LEDGER), command, "--metrics-port", str(self.port)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def scrape_until(self, done: Callable[[Scraped], bool], timeout_s: float = 60) -> Scraped:
        """The process's /metrics once `done` says so."""
        deadline = time.monotonic() + timeout_s
        while True:
            tail = self.log.read_text(errors="replace")[-3000:]
            assert self.proc.poll() is None, tail
            assert time.monotonic() < deadline, tail
            try:
                found = parse(httpx.get(f"http://127.0.0.1:{self.port}/metrics", timeout=2).text)
            except httpx.TransportError:
                found = {}
            if found and done(found):
                return found
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def test_the_relay_and_projector_processes_serve_the_pipeline_state_and_it_outlives_them(
    kafka_container: Container, tmp_path: Path
) -> None:
    open_accounts(kafka_container, 2)
    head = kafka_container.reader.head()
    names = set(kafka_container.projections)
    relay = Process(kafka_container, "relay", tmp_path / "relay.log")
    try:  # the relay first: it creates the topic (a consumer first would auto-create it)
        published = relay.scrape_until(lambda f: f.get("billing_relay_lag_events") == {(): 0})
        projector = Process(kafka_container, "project", tmp_path / "project.log")
        try:
            caught_up = projector.scrape_until(
                lambda f: set(per_projection(f, "billing_projection_lag_events").values()) == {0}
            )
        finally:
            projector.stop()
    finally:
        relay.stop()
    assert published["billing_store_head_position"][()] == head
    assert published["billing_relay_published_position"][()] == head
    assert published["billing_relay_position"][()] == head  # the process's own view
    assert per_projection(caught_up, "billing_projection_position") == dict.fromkeys(names, head)

    open_accounts(kafka_container, 2)  # neither runs now: the lag is read from the store
    with client_of(kafka_container) as client:
        found = scrape(client)
    assert found["billing_store_head_position"][()] == head + 2
    assert found["billing_relay_lag_events"][()] == 2
    assert per_projection(found, "billing_projection_lag_events") == dict.fromkeys(names, 2)
