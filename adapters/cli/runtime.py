"""Long-running processes: HTTP server, relay, Kafka projector, embedded store feed."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from uuid import UUID

import psycopg
import structlog
import uvicorn
from prometheus_client import REGISTRY, start_http_server

from adapters import heap
from adapters.bootstrap import Container, build, store_wakeups
from adapters.http.app import create_app
from adapters.http.auth import ApiKeys
from adapters.kafka import projector
from adapters.kafka.personal import published_reader
from adapters.kafka.relay import new_producer, relay_until_stopped
from adapters.kafka.topics import TopicSpec, ensure_topic
from adapters.logging import configure_logging
from adapters.metrics import record_batch
from adapters.pipeline_metrics import pipeline_metrics
from adapters.settings import Settings
from projections.feed import SupervisedFeed, follow
from projections.runtime import BatchOutcome
from queries.accounts import open_account_ids

log = structlog.get_logger("ledger")


def serve_metrics(port: int | None, container: Container | None = None) -> None:
    """The process's metrics on `port` (none without one); with a container, the pipeline
    state read from PostgreSQL at each scrape as well (adapters/pipeline_metrics.py)."""
    if not port:
        return
    if container is not None:
        REGISTRY.register(pipeline_metrics(container))
    start_http_server(port, addr="0.0.0.0")  # noqa: S104 - scraped from other hosts


@contextmanager
def store_feed(container: Container, backoff_s: float = 0.5) -> Iterator[SupervisedFeed]:
    """The embedded mode's projector: follows the event store in a background thread that
    restarts (with backoff) on whatever it raises; readiness reports its state."""
    projections = list(container.projections.values())

    def observe(name: str, outcome: BatchOutcome) -> None:
        record_batch(name, outcome, container.reader.head())

    wakeups = store_wakeups(container).start()

    def run(stop: threading.Event, caught_up: Callable[[], None]) -> None:
        follow(
            container.connection,
            projections,
            container.reader,
            stop,
            observe=observe,
            caught_up=caught_up,
            wakeups=wakeups,
        )

    feed = SupervisedFeed(run, backoff_s=backoff_s)
    feed.start()
    try:
        yield feed
    finally:
        feed.stop()
        wakeups.stop()


def serve_http(
    container: Container, keys: ApiKeys, host: str, port: int, feed: SupervisedFeed | None = None
) -> None:
    """Serves until SIGINT or SIGTERM. uvicorn shuts down gracefully, then raises the signal
    again (adapters/cli/exits.py turns it into SystemExit, so the caller's cleanup runs).
    proxy_headers off: which proxies are trusted is the app's LEDGER_TRUSTED_PROXIES."""
    app = create_app(container, keys, feed=feed)
    heap.settle()
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
    )


def run_relay(container: Container) -> None:
    heap.settle()
    asyncio.run(_relay(container))


async def _relay(container: Container) -> None:
    bootstrap = _kafka(container)
    settings = container.settings
    stop = _stop_on_signals()
    await ensure_topic(bootstrap, TopicSpec.from_settings(settings))
    producer = new_producer(bootstrap)
    await producer.start()
    wakeups = store_wakeups(container).start()
    try:
        await relay_until_stopped(
            lambda: psycopg.connect(container.db.conninfo, autocommit=True, connect_timeout=10),
            published_reader(container),
            producer,
            settings.topic,
            stop,
            max_outage_s=settings.relay_max_outage_s,
            wakeups=wakeups,
        )
    finally:
        wakeups.stop()
        await producer.stop()


def ensure_event_topic(settings: Settings) -> str:
    """Creates the event topic with its settings, or checks the existing one."""
    bootstrap = settings.kafka_bootstrap
    if not bootstrap:
        raise SystemExit("LEDGER_KAFKA_BOOTSTRAP is not set: no topic to create")
    return asyncio.run(ensure_topic(bootstrap, TopicSpec.from_settings(settings)))


def run_projector(container: Container, names: list[str]) -> None:
    _kafka(container)
    selected = (
        [container.projections[n] for n in names] if names else list(container.projections.values())
    )

    async def main() -> None:
        await projector.run(container, selected, _stop_on_signals())

    heap.settle()
    asyncio.run(main())


def _kafka(container: Container) -> str:
    bootstrap = container.settings.kafka_bootstrap
    if not bootstrap:
        raise SystemExit("LEDGER_KAFKA_BOOTSTRAP is not set: nothing to publish to or consume")
    return bootstrap


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


def open_account_pages(container: Container, size: int = 500) -> Iterator[list[UUID]]:
    """Every open account's id, a page at a time, by keyset (the accounts read model)."""
    after: UUID | None = None
    while True:
        with container.connection() as conn:
            page = open_account_ids(conn, after, size)
        if not page:
            return
        yield page
        after = page[-1]


def configured_container() -> Container:
    """The container from the environment's settings, with logging configured (the CLI's
    subcommands; nothing connects before this is called)."""
    settings = Settings()
    configure_logging(settings.wants_json_logs(), settings.log_level)
    return build(settings)
