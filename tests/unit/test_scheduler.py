"""The scheduler without a database: where it runs, and how one run is counted."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from prometheus_client import REGISTRY

from adapters.cli.main import _scheduled
from adapters.postgres.scheduled_jobs import JobTimes
from adapters.scheduler.jobs import JobOutcome, ScheduledJob
from adapters.scheduler.runner import first_run, run_job
from adapters.settings import Settings


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def container_with(settings: Settings) -> Any:
    return SimpleNamespace(settings=settings)


def test_serve_runs_the_jobs_in_process_only_on_the_embedded_default(tmp_path: Path) -> None:
    configured = Settings(database_url="postgresql://db/ledger", data_dir=tmp_path)
    disabled = Settings(database_url=None, data_dir=tmp_path, scheduler_in_process=False)
    embedded = Settings(database_url=None, data_dir=tmp_path)

    assert not isinstance(_scheduled(container_with(embedded)), nullcontext)  # not entered

    assert isinstance(_scheduled(container_with(configured)), nullcontext)
    assert isinstance(_scheduled(container_with(disabled)), nullcontext)


def test_a_run_that_succeeds_sets_its_last_success_and_counts_its_items() -> None:
    job = ScheduledJob("unit_ok", 1.0, lambda: JobOutcome(succeeded=2))

    assert run_job(job) is True

    assert (
        value("billing_scheduled_job_last_success_timestamp_seconds", scheduled_job="unit_ok") > 0
    )
    assert (
        value("billing_scheduled_job_items_total", scheduled_job="unit_ok", outcome="succeeded")
        == 2
    )
    assert value("billing_scheduled_job_duration_seconds_count", scheduled_job="unit_ok") == 1
    assert value("billing_scheduled_job_failures_total", scheduled_job="unit_ok") == 0


def test_a_run_that_raises_is_a_failure_and_never_raises_itself() -> None:
    def broken() -> JobOutcome:
        raise ValueError("bug")

    assert run_job(ScheduledJob("unit_raises", 1.0, broken)) is False

    assert value("billing_scheduled_job_failures_total", scheduled_job="unit_raises") == 1
    assert value("billing_scheduled_job_duration_seconds_count", scheduled_job="unit_raises") == 1
    assert (
        value("billing_scheduled_job_last_success_timestamp_seconds", scheduled_job="unit_raises")
        == 0
    )


def test_a_run_with_failed_items_is_a_failure_not_a_success() -> None:
    assert (
        run_job(ScheduledJob("unit_partial", 1.0, lambda: JobOutcome(succeeded=5, failed=1)))
        is False
    )

    assert value("billing_scheduled_job_failures_total", scheduled_job="unit_partial") == 1
    assert (
        value("billing_scheduled_job_items_total", scheduled_job="unit_partial", outcome="failed")
        == 1
    )
    assert (
        value("billing_scheduled_job_last_success_timestamp_seconds", scheduled_job="unit_partial")
        == 0
    )


NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOURLY = ScheduledJob("hourly", 3600.0, lambda: JobOutcome())


def test_a_job_that_never_ran_runs_first_one_interval_from_now() -> None:
    assert first_run(HOURLY, JobTimes(None, None), NOW) == NOW + timedelta(hours=1)


def test_a_job_runs_one_interval_after_its_last_start_whoever_started_it() -> None:
    started = NOW - timedelta(minutes=20)
    assert first_run(HOURLY, JobTimes(started, None), NOW) == NOW + timedelta(minutes=40)


def test_an_overdue_job_runs_at_once() -> None:
    started = NOW - timedelta(hours=5)
    assert first_run(HOURLY, JobTimes(started, started), NOW) == NOW
