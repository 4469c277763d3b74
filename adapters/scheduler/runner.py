"""Runs the scheduled jobs with APScheduler 3 (a BackgroundScheduler: one thread per job at
most, a run that is late is run once, never stacked) while this process holds the
scheduler lock; every run is timed, logged and counted (adapters/scheduler/metrics.py).
When each job last started and succeeded is kept in `scheduled_jobs`: a scheduler that
becomes active runs each job one interval after its last start (at once when overdue; one
interval from now for a job that never ran) and exports the last success kept there."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import structlog
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from psycopg import Connection

from adapters.bootstrap import Container
from adapters.postgres.scheduled_jobs import JobTimes, job_times, record_start, record_success
from adapters.scheduler.jobs import ScheduledJob, configured_jobs
from adapters.scheduler.leader import Leadership
from adapters.scheduler.metrics import (
    DURATION,
    FAILURES,
    ITEMS,
    LAST_SUCCESS,
    became_active,
    declare,
)

log = structlog.get_logger("scheduler")
logging.getLogger("apscheduler").setLevel(logging.WARNING)  # each run is logged below


Connect = Callable[[], AbstractContextManager[Connection[Any]]]


def run_job(job: ScheduledJob) -> bool:
    """One run: a job that raises, or reports failed items, is logged and counted as a
    failure; only a run with no failure is a success (True). Never raises."""
    started = time.monotonic()
    try:
        outcome = job.run()
    except Exception:
        FAILURES.labels(job.name).inc()
        log.exception("scheduler.job_failed", job=job.name)
        return False
    finally:
        DURATION.labels(job.name).observe(time.monotonic() - started)
    ITEMS.labels(job.name, "succeeded").inc(outcome.succeeded)
    ITEMS.labels(job.name, "failed").inc(outcome.failed)
    took = round(time.monotonic() - started, 3)
    if outcome.failed:
        FAILURES.labels(job.name).inc()
        log.warning(
            "scheduler.job_reported_failures",
            job=job.name,
            succeeded=outcome.succeeded,
            failed=outcome.failed,
            duration_s=took,
        )
        return False
    LAST_SUCCESS.labels(job.name).set(time.time())
    log.info("scheduler.job_succeeded", job=job.name, succeeded=outcome.succeeded, duration_s=took)
    return True


class Scheduler:
    def __init__(
        self, jobs: Sequence[ScheduledJob], conninfo: str, connect: Connect, poll_s: float
    ) -> None:
        self._jobs = list(jobs)
        self._leadership = Leadership(conninfo)
        self._connect = connect
        self._poll_s = poll_s
        for job in self._jobs:
            declare(job.name)
        became_active(False)

    def run(self, stop: threading.Event) -> None:
        """Stands by until this process holds the lock, runs the jobs while it does, and
        stands by again if it loses it; returns when `stop` is set, after the runs under
        way have finished."""
        try:
            while self._leadership.acquire(stop, self._poll_s):
                self._run_while_held(stop)
        finally:
            self._leadership.release()

    def _run_while_held(self, stop: threading.Event) -> None:
        scheduler = self._scheduler()
        scheduler.start()
        became_active(True)
        try:
            while not stop.wait(self._poll_s):
                if not self._leadership.held():
                    return
        finally:
            scheduler.shutdown(wait=True)
            became_active(False)
            log.info("scheduler.stopped")

    def _scheduler(self) -> BackgroundScheduler:
        scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=len(self._jobs) or 1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        kept = self._kept_times()
        now = datetime.now(UTC)
        for job in self._jobs:
            times = kept.get(job.name, JobTimes(None, None))
            if times.last_succeeded_at is not None:
                LAST_SUCCESS.labels(job.name).set(times.last_succeeded_at.timestamp())
            scheduler.add_job(
                self._run,
                IntervalTrigger(seconds=job.interval_s),
                args=[job],
                id=job.name,
                name=job.name,
                next_run_time=first_run(job, times, now),
            )
        return scheduler

    def _run(self, job: ScheduledJob) -> None:
        self._keep(record_start, job.name)
        if run_job(job):
            self._keep(record_success, job.name)

    def _kept_times(self) -> dict[str, JobTimes]:
        try:
            with self._connect() as conn:
                return job_times(conn)
        except psycopg.Error as error:
            log.warning("scheduler.history_unavailable", error=str(error))
            return {}

    def _keep(self, record: Callable[[Connection[Any], str, datetime], None], job: str) -> None:
        """Keeps a start or a success; a database that does not answer loses only that."""
        try:
            with self._connect() as conn:
                record(conn, job, datetime.now(UTC))
        except psycopg.Error as error:
            log.warning("scheduler.history_unavailable", job=job, error=str(error))


def first_run(job: ScheduledJob, times: JobTimes, now: datetime) -> datetime:
    """One interval after the job's last start, at once when that is past; one interval
    from now for a job that never ran."""
    interval = timedelta(seconds=job.interval_s)
    if times.last_started_at is None:
        return now + interval
    return max(now, times.last_started_at + interval)


def scheduler_for(container: Container, jobs: Sequence[ScheduledJob] | None = None) -> Scheduler:
    jobs = configured_jobs(container) if jobs is None else jobs
    return Scheduler(
        jobs, container.db.conninfo, container.connection, container.settings.scheduler_lock_poll_s
    )


def run_until_signalled(container: Container) -> None:
    """`ledger scheduler`: runs (or stands by) until SIGINT or SIGTERM."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    scheduler_for(container).run(stop)


@contextmanager
def in_background(
    container: Container, jobs: Sequence[ScheduledJob] | None = None
) -> Iterator[threading.Thread]:
    """The scheduler in a thread of this process (the embedded default's `ledger serve`);
    leaving the block stops it and waits for the runs under way."""
    stop = threading.Event()
    scheduler = scheduler_for(container, jobs)
    thread = threading.Thread(target=scheduler.run, args=(stop,), name="scheduler", daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join()
