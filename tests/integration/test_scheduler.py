"""The scheduled jobs on the real store, run by the scheduler (APScheduler, the advisory
lock) in a background thread on short intervals, with the test's clock for the ledger's
time; what they export, parsed from the text `/metrics` serves."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from uuid import UUID

import psycopg
import pytest
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from adapters.bootstrap import Container
from adapters.scheduler.jobs import JobOutcome, ScheduledJob, configured_jobs
from adapters.scheduler.leader import LOCK_KEY
from adapters.scheduler.runner import in_background
from commands import billing, credits
from commands.base import Deps, load_account
from commands.models import GrantCredit, Subscribe
from commands.ports import ChargeResult, ProcessorUnavailable
from ledger.credits import CreditStatus
from ledger.payments import Processor
from projections.feed import catch_up
from queries.reconciliation import get_reconciliation
from tests.fakes.billing import CARD, PLAN, subscribe, usd_account
from tests.fakes.builders import customer_ctx, support_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway

pytestmark = pytest.mark.usefixtures("container_gateway")
SHORT_S = 0.2
TIMEOUT_S = 20.0
INTERVALS = {
    "billing_run": "scheduler_billing_run_s",
    "janitor": "scheduler_janitor_s",
    "credit_expiry": "scheduler_credit_expiry_s",
    "reconcile": "scheduler_reconcile_s",
}


def samples() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the default registry (what the scheduler's /metrics serves)."""
    text = generate_latest(REGISTRY).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(name: str, **labels: str) -> float:
    return samples().get((name, tuple(sorted(labels.items()))), 0.0)


def fed(container: Container) -> None:
    for projection in container.projections.values():
        catch_up(container.connection, projection, container.reader)


def only(container: Container, *names: str) -> list[ScheduledJob]:
    """The configured jobs `names`, each on a short interval."""
    short = {INTERVALS[n]: SHORT_S for n in names}
    container.settings = container.settings.model_copy(
        update={**short, "scheduler_lock_poll_s": 0.1}
    )
    return [job for job in configured_jobs(container) if job.name in names]


def wait_until(done: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not done():
        assert time.monotonic() < deadline, f"not within {TIMEOUT_S} s: {what}"
        time.sleep(0.05)


@contextmanager
def scheduled(container: Container, jobs: Sequence[ScheduledJob]) -> Iterator[None]:
    with in_background(container, jobs) as thread:
        yield
    assert not thread.is_alive()


def succeeded_runs(job: str) -> float:
    return value("billing_scheduled_job_duration_seconds_count", scheduled_job=job)


def test_the_billing_run_renews_on_its_schedule(
    container: Container, deps: Deps, clock: FixedClock
) -> None:
    account_id = usd_account(deps)
    subscribe(deps, account_id, on_session=False)
    fed(container)
    clock.advance(days=32)

    with scheduled(container, only(container, "billing_run")):
        wait_until(lambda: len(load_account(deps.app, account_id).invoices) == 2, "renewed")

    assert all(i.status == "paid" for i in load_account(deps.app, account_id).invoices.values())


def test_the_janitor_resolves_an_attempt_left_in_flight_on_its_schedule(
    container: Container, deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    account_id = usd_account(deps)
    gateway.go_down_next(CARD)
    with pytest.raises(ProcessorUnavailable):
        billing.subscribe(
            deps, Subscribe(account_id=account_id, plan_id=PLAN, on_session=False), customer_ctx()
        )
    fed(container)
    clock.advance(minutes=16)

    with scheduled(container, only(container, "janitor")):
        wait_until(
            lambda: (
                not any(a.in_flight for a in load_account(deps.app, account_id).attempts.values())
            ),
            "the attempt resolved",
        )


def test_credits_past_their_expiry_expire_on_their_schedule(
    container: Container, deps: Deps, clock: FixedClock
) -> None:
    account_id = usd_account(deps)
    expires_at = clock.now() + timedelta(days=1)
    grant = GrantCredit(account_id=account_id, amount=500, currency="USD", expires_at=expires_at)
    credits.grant_credit(deps, grant, support_ctx())
    fed(container)

    def statuses() -> list[CreditStatus]:
        return [c.status for c in load_account(deps.app, account_id).credits.values()]

    with scheduled(container, only(container, "credit_expiry")):
        time.sleep(SHORT_S * 3)
        assert statuses() == [CreditStatus.ACTIVE]  # not yet due: left alone
        clock.advance(days=1)
        wait_until(lambda: statuses() == [CreditStatus.EXPIRED], "the credit expired")


def test_recently_active_accounts_are_reconciled_on_their_schedule(
    container: Container, deps: Deps, clock: FixedClock
) -> None:
    dormant = usd_account(deps)
    clock.advance(days=3)
    active = usd_account(deps)
    fed(container)

    with scheduled(container, only(container, "reconcile")):
        wait_until(lambda: reconciled(container, active), "the active account reconciled")

    assert not reconciled(container, dormant)


def reconciled(container: Container, account_id: UUID) -> bool:
    with container.connection() as conn:
        return get_reconciliation(conn, account_id) is not None


def test_each_run_exports_its_last_success_duration_and_outcomes(
    container: Container, deps: Deps, clock: FixedClock
) -> None:
    renewing = usd_account(deps)
    subscribe(deps, renewing, on_session=False)
    usd_account(deps)
    fed(container)
    clock.advance(days=32)
    before = {job: succeeded_runs(job) for job in INTERVALS}
    items = value(
        "billing_scheduled_job_items_total", scheduled_job="billing_run", outcome="succeeded"
    )
    started = time.time()

    with scheduled(container, only(container, *INTERVALS)):
        wait_until(
            lambda: all(succeeded_runs(job) >= before[job] + 2 for job in INTERVALS),
            "every job ran twice",
        )

    for job in INTERVALS:
        last = value("billing_scheduled_job_last_success_timestamp_seconds", scheduled_job=job)
        assert started <= last <= time.time()
        assert value("billing_scheduled_job_failures_total", scheduled_job=job) == 0
    # two open accounts a run
    assert (
        value("billing_scheduled_job_items_total", scheduled_job="billing_run", outcome="succeeded")
        >= items + 4
    )
    assert (
        value("billing_scheduled_job_items_total", scheduled_job="billing_run", outcome="failed")
        == 0
    )
    assert value("billing_scheduler_active") == 0  # stopped: the lock is let go
    assert value("billing_scheduler_active_since_timestamp_seconds") == 0


def test_a_failing_job_is_logged_counted_and_the_others_keep_running(
    container: Container,
) -> None:
    def broken() -> JobOutcome:
        raise RuntimeError("the database went away")

    def partial() -> JobOutcome:
        return JobOutcome(succeeded=3, failed=1)

    jobs = [
        ScheduledJob("test_broken", SHORT_S, broken),
        ScheduledJob("test_partial", SHORT_S, partial),
        *only(container, "janitor"),
    ]
    janitor_runs = succeeded_runs("janitor")

    with capture_logs() as logs, scheduled(container, jobs):
        wait_until(
            lambda: (
                value("billing_scheduled_job_failures_total", scheduled_job="test_broken") >= 2
                and value("billing_scheduled_job_failures_total", scheduled_job="test_partial") >= 2
                and succeeded_runs("janitor") >= janitor_runs + 2
            ),
            "failing jobs run again, and the others go on",
        )

    assert (
        value("billing_scheduled_job_last_success_timestamp_seconds", scheduled_job="test_broken")
        == 0
    )
    assert (
        value("billing_scheduled_job_last_success_timestamp_seconds", scheduled_job="test_partial")
        == 0
    )
    failed = value(
        "billing_scheduled_job_items_total", scheduled_job="test_partial", outcome="failed"
    )
    assert failed == value("billing_scheduled_job_failures_total", scheduled_job="test_partial")
    assert (
        value("billing_scheduled_job_last_success_timestamp_seconds", scheduled_job="janitor") > 0
    )
    events = [(e["event"], e.get("job")) for e in logs]
    assert ("scheduler.job_failed", "test_broken") in events
    assert ("scheduler.job_reported_failures", "test_partial") in events
    [broken_log, *_] = [e for e in logs if e["event"] == "scheduler.job_failed"]
    assert broken_log["log_level"] == "error"
    assert broken_log["exc_info"] is True


class LookupsDown(FakeGateway):
    """A processor that takes charges but, while `down`, cannot be asked about them."""

    down = False

    def find_charge(self, attempt_id: str, processor: Processor) -> ChargeResult | None:
        if self.down:
            raise ProcessorUnavailable("timed out")
        return super().find_charge(attempt_id, processor)


def test_a_janitor_that_cannot_ask_the_processor_fails_until_it_can(
    container: Container, clock: FixedClock
) -> None:
    gateway = LookupsDown()
    container.deps = dataclasses.replace(container.deps, gateway=gateway)
    account_id = usd_account(container.deps)
    gateway.go_down_next(CARD)
    with pytest.raises(ProcessorUnavailable):
        billing.subscribe(
            container.deps,
            Subscribe(account_id=account_id, plan_id=PLAN, on_session=False),
            customer_ctx(),
        )
    fed(container)
    clock.advance(minutes=16)
    gateway.down = True
    failures = value("billing_scheduled_job_failures_total", scheduled_job="janitor")
    failed = value("billing_scheduled_job_items_total", scheduled_job="janitor", outcome="failed")

    with scheduled(container, only(container, "janitor")):
        wait_until(
            lambda: (
                value("billing_scheduled_job_failures_total", scheduled_job="janitor")
                >= failures + 2
            ),
            "the janitor failed twice",
        )
        assert value(
            "billing_scheduled_job_items_total", scheduled_job="janitor", outcome="failed"
        ) >= (failed + 2)
        [attempt] = load_account(container.deps.app, account_id).attempts.values()
        assert attempt.in_flight  # left for a later run
        gateway.down = False
        recovered_after = time.time()
        wait_until(
            lambda: (
                value(
                    "billing_scheduled_job_last_success_timestamp_seconds", scheduled_job="janitor"
                )
                >= recovered_after
            ),
            "the janitor succeeded again",
        )

    [attempt] = load_account(container.deps.app, account_id).attempts.values()
    assert not attempt.in_flight


def test_a_scheduler_that_loses_its_lock_session_stops_its_jobs_and_takes_the_lock_again(
    container: Container, database_url: str
) -> None:
    jobs = only(container, "janitor")

    with capture_logs() as logs, scheduled(container, jobs):
        wait_until(lambda: value("billing_scheduler_active") == 1, "active")
        first_active_since = value("billing_scheduler_active_since_timestamp_seconds")
        assert 0 < first_active_since <= time.time()
        with psycopg.connect(database_url, autocommit=True) as conn:
            [(ended,)] = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks"
                " WHERE locktype = 'advisory' AND objid = %s AND granted",
                (LOCK_KEY,),
            ).fetchall()
        assert ended
        runs = succeeded_runs("janitor")
        wait_until(
            lambda: value("billing_scheduler_active") == 1 and succeeded_runs("janitor") > runs,
            "active again, running the jobs",
        )
        assert value("billing_scheduler_active_since_timestamp_seconds") > first_active_since
        with psycopg.connect(database_url, autocommit=True) as conn:
            holders = conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s",
                (LOCK_KEY,),
            ).fetchone()
        assert holders == (1,)
    # The leadership's own lines: a run under way when the lock went finishes (and logs) on
    # its own time, which a takeover tolerates (a job run twice at once is safe).
    leadership = {
        "scheduler.active",
        "scheduler.standby",
        "scheduler.lock_lost",
        "scheduler.stopped",
    }
    events = [e["event"] for e in logs if e["event"] in leadership]
    assert events[:1] == ["scheduler.active"]
    lost = events.index("scheduler.lock_lost")
    assert events[lost + 1 : lost + 3] == ["scheduler.stopped", "scheduler.active"]


def test_a_scheduler_that_becomes_active_runs_what_is_overdue_by_the_kept_times(
    container: Container,
) -> None:
    now = datetime.now(UTC)
    kept_success = now - timedelta(minutes=70)
    with container.connection() as conn:
        conn.execute(
            "INSERT INTO scheduled_jobs VALUES ('billing_run', %s, %s), ('reconcile', %s, %s)",
            (now - timedelta(hours=2), now - timedelta(hours=2), now - timedelta(minutes=10),
             kept_success),
        )  # fmt: skip
    container.settings = container.settings.model_copy(update={"scheduler_lock_poll_s": 0.1})
    runs = {job: succeeded_runs(job) for job in INTERVALS}

    with scheduled(container, configured_jobs(container)):  # the default intervals (hours)
        wait_until(lambda: succeeded_runs("billing_run") > runs["billing_run"], "overdue ran")
        time.sleep(0.5)
        reconcile_success = value(
            "billing_scheduled_job_last_success_timestamp_seconds", scheduled_job="reconcile"
        )

    assert reconcile_success == kept_success.timestamp()  # kept by another scheduler
    for job in ("janitor", "credit_expiry", "reconcile"):  # never ran, or not yet due
        assert succeeded_runs(job) == runs[job], job
    with container.connection() as conn:
        started, succeeded = conn.execute(
            "SELECT last_started_at, last_succeeded_at FROM scheduled_jobs"
            " WHERE job = 'billing_run'"
        ).fetchone() or (None, None)
    assert started is not None
    assert succeeded is not None
    assert now <= started <= succeeded
