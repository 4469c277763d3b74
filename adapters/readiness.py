"""Readiness (`/readyz`): whether this API process can serve, with what it checked. The
database answers; a configured Redis answers (without it rate limits fail open and payment
sessions answer 503); a configured Kafka accepts connections; in the embedded mode the store
feed runs; and no projection is poisoned or further behind the store's head than
LEDGER_READY_MAX_LAG_EVENTS (the read models the pages and reads answer from). Liveness
(`/healthz`) checks none of this: a database outage must not get every replica restarted."""

from __future__ import annotations

import socket
from datetime import datetime
from typing import Any

import psycopg
from psycopg_pool import PoolTimeout

from adapters.bootstrap import Container
from adapters.http.ratelimit import RateLimiter
from projections.feed import SupervisedFeed
from queries.projections import ProjectionStatus, projection_statuses

KAFKA_CONNECT_TIMEOUT_S = 1.0
DATABASE_WAIT_S = 2.0  # a probe that waits longer than its own timeout tells nothing


def statuses(
    container: Container, now: datetime, names: list[str] | None = None
) -> list[ProjectionStatus]:
    """Each projection's (or each named one's) position against the store's head; the lag in
    seconds is how long the first event it has not applied has waited."""

    def event_time(position: int) -> datetime | None:
        after = container.reader.read_after(position, 1)
        return after[0].occurred_at if after else None

    head = container.reader.head()
    with container.connection() as conn:
        chosen = list(container.projections) if names is None else names
        return projection_statuses(conn, chosen, head, event_time, now)


def readiness(
    container: Container, limiter: RateLimiter, feed: SupervisedFeed | None, now: datetime
) -> tuple[bool, dict[str, Any]]:
    """Whether the process is ready, and the details (each check's own answer)."""
    if not _database_answers(container):
        return False, {"status": "unavailable", "database": "down"}
    checks: dict[str, tuple[bool, Any]] = {"database": (True, "ok")}
    if limiter.shared:
        up = limiter.reachable()
        checks["redis"] = (up, "ok" if up else "down")
    bootstrap = container.settings.kafka_bootstrap
    if bootstrap:
        up = kafka_reachable(bootstrap)
        checks["kafka"] = (up, "ok" if up else "down")
    if feed is not None:
        state = feed.health()
        checks["store_feed"] = (state.ready, _feed(feed))
    checks["projections"] = _projections(container, now)
    ready = all(ok for ok, _ in checks.values())
    body = {"status": "ok" if ready else "unavailable"}
    return ready, body | {name: said for name, (_, said) in checks.items()}


def _database_answers(container: Container) -> bool:
    try:
        with container.pool.connection(timeout=DATABASE_WAIT_S) as conn:
            conn.execute("SELECT 1")
    except (psycopg.Error, PoolTimeout):
        return False
    return True


def kafka_reachable(bootstrap: str) -> bool:
    """Whether one of the bootstrap brokers accepts a connection (the relay and consumers
    hold the real sessions; this proves the brokers are there)."""
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            with socket.create_connection((host, int(port)), KAFKA_CONNECT_TIMEOUT_S):
                return True
        except (OSError, ValueError):
            continue
    return False


def _feed(feed: SupervisedFeed) -> dict[str, Any]:
    state = feed.health()
    return {
        "state": state.state.value,
        "since": state.since.isoformat(),
        "restarts": state.restarts,
        "last_error": state.last_error,
    }


def _projections(container: Container, now: datetime) -> tuple[bool, dict[str, Any]]:
    limit = container.settings.ready_max_lag_events
    found = statuses(container, now)
    said = {s.projection: {"lag_events": s.lag_events, "poisoned": s.poisoned} for s in found}
    return all(s.poisoned == 0 and s.lag_events <= limit for s in found), said
