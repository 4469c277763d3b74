"""What each scheduled job exports (registered in the default registry: the scheduler's
own `/metrics`, and the API's on the embedded default where it runs in process)."""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram

LAST_SUCCESS = Gauge(
    "billing_scheduled_job_last_success_timestamp_seconds",
    "When the job last finished without raising (unix seconds; 0 = not since the start)",
    ["scheduled_job"],
)
DURATION = Histogram(
    "billing_scheduled_job_duration_seconds",
    "How long a run of the job took, whatever its outcome",
    ["scheduled_job"],
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
)
ITEMS = Counter(
    "billing_scheduled_job_items_total",
    "Items (accounts, attempts) the job handled, by outcome (succeeded or failed)",
    ["scheduled_job", "outcome"],
)
FAILURES = Counter(
    "billing_scheduled_job_failures_total",
    "Runs of the job that raised or reported failed items",
    ["scheduled_job"],
)
ACTIVE = Gauge(
    "billing_scheduler_active",
    "1 while this process holds the scheduler lock and runs the jobs, 0 standing by",
)
ACTIVE_SINCE = Gauge(
    "billing_scheduler_active_since_timestamp_seconds",
    "When this process took the scheduler lock (unix seconds); 0 standing by",
)


def became_active(active: bool) -> None:
    ACTIVE.set(1 if active else 0)
    ACTIVE_SINCE.set(time.time() if active else 0)


def declare(job: str) -> None:
    """Every series of the job exists from the start (0), so a job that never succeeded
    is an alertable value instead of an absent series."""
    LAST_SUCCESS.labels(job)
    DURATION.labels(job)
    FAILURES.labels(job)
    for outcome in ("succeeded", "failed"):
        ITEMS.labels(job, outcome)
