"""Ledger pipeline: the store's append rate, the relay's and the projections' lag, the Kafka
consumer lag, poisoned events, rebuilds and the scheduled jobs.

The pipeline state (head, positions, lag, poisoned, rebuilds) is read from PostgreSQL at
scrape time by the API, the relay and the projector alike: `max without (instance, job)`.
The per-process counters (published, applied, parked) are summed; the consumer group's lag,
which each projector reports for the whole group, is the `max` by projection."""

from __future__ import annotations

from adapters.grafana.panels import Dashboard, Query, Section, panel

SAME = "max without (instance, job)"


def dashboard() -> Dashboard:
    return Dashboard(
        uid="billing-pipeline",
        title="Billing: ledger pipeline",
        description="Event store, relay, projections, Kafka consumers and scheduled jobs "
        "(docs/observability.md, Dashboards).",
        sections=(_store_and_relay(), _projections(), _scheduled()),
    )


def _store_and_relay() -> Section:
    return Section(
        "Event store and relay",
        (
            panel(
                "Append rate",
                "Events appended to the store per second (the rate of its head position).",
                "ops",
                Query(f"{SAME} (rate(billing_store_head_position[$__rate_interval]))", "appended"),
                Query(
                    "sum(rate(billing_relay_published_events_total[$__rate_interval]))",
                    "published to Kafka",
                ),
            ),
            panel(
                "Relay lag (events)",
                "Events in the store the relay has not published to Kafka.",
                "short",
                Query(f"{SAME} (billing_relay_lag_events)", "events"),
            ),
            panel(
                "Relay lag (seconds)",
                "How long the first unpublished event has waited; grows while the relay is "
                "stopped.",
                "s",
                Query(f"{SAME} (billing_relay_lag_seconds)", "seconds"),
                width=24,
            ),
        ),
    )


def _projections() -> Section:
    return Section(
        "Projections",
        (
            panel(
                "Projection lag (events)",
                "The store's head minus each projection's applied position (read from "
                "PostgreSQL: true while the projector is stopped).",
                "short",
                Query(f"{SAME} (billing_projection_lag_events)", "{{projection}}"),
            ),
            panel(
                "Projection lag (seconds)",
                "How long the first event each projection has not applied has waited.",
                "s",
                Query(f"{SAME} (billing_projection_store_lag_seconds)", "{{projection}}"),
            ),
            panel(
                "Kafka consumer lag (messages)",
                "Messages of the topic each projection's consumer group has not committed.",
                "short",
                Query(
                    "max by (projection) (billing_projection_consumer_lag_messages)",
                    "{{projection}}",
                ),
            ),
            panel(
                "Applied events per second",
                "Events applied to each read model, over every projector process.",
                "ops",
                Query(
                    "sum by (projection) "
                    "(rate(billing_projection_applied_events_total[$__rate_interval]))",
                    "{{projection}}",
                ),
            ),
            panel(
                "Poisoned streams and parked events",
                "Streams parked on an event the projection could not apply, and events not "
                "applied because of them (ledger projections poisoned list).",
                "short",
                Query(f"{SAME} (billing_projection_poisoned_streams)", "{{projection}} parked"),
                Query(
                    "sum by (projection) "
                    "(increase(billing_projection_parked_events_total[$__rate_interval]))",
                    "{{projection}} events parked",
                ),
            ),
            panel(
                "Rebuild progress",
                "A rebuild under way (running, or interrupted and resumable): its shadow's "
                "position over the store's head. The series ends when the rebuild swaps.",
                "percentunit",
                Query(f"{SAME} (billing_projection_rebuild_progress_ratio)", "{{projection}}"),
            ),
        ),
    )


def _scheduled() -> Section:
    return Section(
        "Scheduled jobs",
        (
            panel(
                "Time since each job's last success",
                "Over every scheduler (a standby reports 0). Alert BillingScheduledJobLate "
                "fires past three intervals.",
                "s",
                Query(
                    "time() - max by (scheduled_job) "
                    "(billing_scheduled_job_last_success_timestamp_seconds)",
                    "{{scheduled_job}}",
                ),
            ),
            panel(
                "Runs and failures per hour",
                "Runs of each job, and those that raised or reported failed items.",
                "short",
                Query(
                    "sum by (scheduled_job) "
                    "(increase(billing_scheduled_job_duration_seconds_count[1h]))",
                    "{{scheduled_job}} runs",
                ),
                Query(
                    "sum by (scheduled_job) (increase(billing_scheduled_job_failures_total[1h]))",
                    "{{scheduled_job}} failures",
                ),
            ),
            panel(
                "Items handled per hour",
                "Accounts (billing run, credit expiry, reconcile) or attempts (janitor) by "
                "outcome.",
                "short",
                Query(
                    "sum by (scheduled_job, outcome) "
                    "(increase(billing_scheduled_job_items_total[1h]))",
                    "{{scheduled_job}} {{outcome}}",
                ),
            ),
            panel(
                "Active schedulers",
                "Schedulers holding the lock: exactly one should.",
                "short",
                Query("sum(billing_scheduler_active)", "active"),
            ),
        ),
    )
