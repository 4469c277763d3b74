"""Prometheus metrics: one `billing_` prefix, base units, no ids as labels."""

from __future__ import annotations

from datetime import UTC, datetime

import pybreaker
from prometheus_client import Counter, Gauge, Histogram

from projections.runtime import BatchOutcome

RELAY_PUBLISHED = Counter(
    "billing_relay_published_events_total", "Events the relay published to Kafka"
)
RELAY_POSITION = Gauge("billing_relay_position", "Global position the relay has published up to")
PROJECTION_APPLIED = Counter(
    "billing_projection_applied_events_total", "Events applied to a read model", ["projection"]
)
PROJECTION_SKIPPED = Counter(
    "billing_projection_skipped_events_total",
    "Events skipped as already applied (redeliveries, replays)",
    ["projection"],
)
PROJECTION_PARKED = Counter(
    "billing_projection_parked_events_total",
    "Events not applied because their stream is parked on a poisoned event (projection_poisoned)",
    ["projection"],
)
PROJECTION_GAP = Gauge(
    "billing_projection_gap_events",
    "Event-store head minus the highest position the projection applied",
    ["projection"],
)
PROJECTION_LAST_EVENT = Gauge(
    "billing_projection_last_event_timestamp_seconds",
    "When the last event the projection applied happened",
    ["projection"],
)
PROJECTION_LAG_SECONDS = Gauge(
    "billing_projection_lag_seconds",
    "How long before it was applied the projection's latest applied event happened",
    ["projection"],
)
CONSUMER_LAG = Gauge(
    "billing_projection_consumer_lag_messages",
    "Kafka messages of the topic the projection's consumer group has not committed yet",
    ["projection"],
)
CONSUMER_MEMBERS = Gauge(
    "billing_projection_consumer_members",
    "Members of the projection's consumer group",
    ["projection"],
)
HTTP_REQUESTS = Counter(
    "billing_http_requests_total",
    "HTTP responses by surface, route template, method and status (5xx included)",
    ["surface", "route", "method", "status"],
)
WEBHOOKS_REJECTED = Counter(
    "billing_webhooks_rejected_total",
    "Processor deliveries refused with a 400: invalid_signature, malformed_webhook (signed"
    " but unreadable) or stale_webhook (older than the accepted window)",
    ["provider", "reason"],
)
HTTP_LATENCY = Histogram(
    "billing_http_request_duration_seconds",
    "HTTP request latency, from the request to the end of its response, by surface, route"
    " template, method and status",
    ["surface", "route", "method", "status"],
)
RATE_LIMIT_UNAVAILABLE = Counter(
    "billing_rate_limit_unavailable_total",
    "Requests let through without a rate-limit check because Redis could not be reached",
)
RATE_LIMITED = Counter(
    "billing_rate_limited_requests_total",
    "Requests refused with a 429 by surface and by the limit that refused them (address,"
    " principal, session)",
    ["surface", "limit"],
)
WEBHOOKS_RECEIVED = Counter(
    "billing_webhooks_received_total",
    "Processor deliveries acknowledged (200) by provider and event type (the types the ledger"
    " handles, else other)",
    ["provider", "type"],
)
WEBHOOKS_DUPLICATE = Counter(
    "billing_webhooks_duplicate_total",
    "Acknowledged deliveries that told what the ledger had recorded already (a redelivery, a"
    " second event about one fact, an outcome the janitor recorded first)",
    ["provider", "type"],
)
TURNSTILE_VERIFICATIONS = Counter(
    "billing_turnstile_verifications_total",
    "Turnstile siteverify checks by outcome: passed, failed (a bad, reused or expired token),"
    " unavailable (siteverify could not be asked)",
    ["outcome"],
)
TURNSTILE_OUTCOMES = ("passed", "failed", "unavailable")
BREAKER_STATE = Gauge(
    "billing_processor_breaker_state",
    "1 for the current state of the processor's circuit breaker (closed, open, half_open), 0"
    " for the others",
    ["processor", "state"],
)
BREAKER_OPENED = Counter(
    "billing_processor_breaker_opened_total",
    "Times the processor's circuit breaker opened (after consecutive failures, or a failed"
    " trial call)",
    ["processor"],
)
BREAKER_STATES = {
    pybreaker.STATE_CLOSED: "closed",
    pybreaker.STATE_OPEN: "open",
    pybreaker.STATE_HALF_OPEN: "half_open",
}


class BreakerMetrics(pybreaker.CircuitBreakerListener):
    """Exports one processor's breaker: its state and its openings, as they change."""

    def __init__(self, processor: str) -> None:
        self.processor = processor

    def state_change(
        self,
        cb: pybreaker.CircuitBreaker,
        old_state: pybreaker.CircuitBreakerState | None,
        new_state: pybreaker.CircuitBreakerState,
    ) -> None:
        self.show(new_state.name)
        if new_state.name == pybreaker.STATE_OPEN:
            BREAKER_OPENED.labels(self.processor).inc()

    def show(self, state: str) -> None:
        for name, label in BREAKER_STATES.items():
            BREAKER_STATE.labels(self.processor, label).set(1 if name == state else 0)


def watch_breaker(processor: str, breaker: pybreaker.CircuitBreaker) -> None:
    """Exports `breaker`'s state from now on: every series of the processor exists at once
    (the current state 1, the others 0; no opening yet), then follows each change."""
    metrics = BreakerMetrics(processor)
    metrics.show(str(breaker.current_state))
    BREAKER_OPENED.labels(processor)
    breaker.add_listener(metrics)


def show_turnstile_outcomes() -> None:
    """Every outcome's series, at 0 until one is counted (a rate over an absent series is
    nothing, not 0)."""
    for outcome in TURNSTILE_OUTCOMES:
        TURNSTILE_VERIFICATIONS.labels(outcome)


def record_batch(projection: str, outcome: BatchOutcome, store_head: int) -> None:
    PROJECTION_APPLIED.labels(projection).inc(outcome.applied)
    PROJECTION_SKIPPED.labels(projection).inc(outcome.skipped)
    PROJECTION_PARKED.labels(projection).inc(outcome.parked)
    if outcome.max_position:
        PROJECTION_GAP.labels(projection).set(max(0, store_head - outcome.max_position))
    if outcome.last_event_at:
        PROJECTION_LAST_EVENT.labels(projection).set(outcome.last_event_at.timestamp())
        lag = datetime.now(UTC) - outcome.last_event_at
        PROJECTION_LAG_SECONDS.labels(projection).set(max(0.0, lag.total_seconds()))


def record_group(projection: str, lag: int, members: int) -> None:
    CONSUMER_LAG.labels(projection).set(lag)
    CONSUMER_MEMBERS.labels(projection).set(members)
