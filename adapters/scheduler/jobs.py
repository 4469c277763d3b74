"""The scheduled jobs. Each goes over the accounts it concerns, one at a time, and reports
how many items succeeded and failed; one account's failure never stops the others. A job
that raises (the database gone, a bug) failed as a whole (adapters/scheduler/runner.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import structlog

from adapters.bootstrap import Container
from adapters.reconcile import reconcile_many
from commands import credits, dunning, janitor
from commands.models import CommandContext, RunBilling
from ledger.meta import ActorKind, Surface
from queries.accounts import (
    accounts_active_since,
    accounts_with_credits_expired_by,
    open_account_ids,
)
from queries.in_flight import accounts_in_flight_since

log = structlog.get_logger("scheduler")
PAGE = 500
BATCH = 10_000  # accounts a janitor, credit-expiry or reconcile run takes at most


@dataclass(frozen=True)
class JobOutcome:
    succeeded: int = 0
    failed: int = 0


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    interval_s: float
    run: Callable[[], JobOutcome]


def system_ctx(job: str) -> CommandContext:
    return CommandContext(
        actor_id=f"scheduler:{job}", actor_kind=ActorKind.SYSTEM, surface=Surface.SYSTEM
    )


def billing_run(container: Container) -> JobOutcome:
    """Renewals, credit expiry and dunning due now, on every open account."""
    succeeded = failed = 0
    for page in _open_account_pages(container):
        report = dunning.run_billing(
            container.deps, RunBilling(account_ids=page), system_ctx("billing_run")
        )
        for account_id, error in report.errors.items():
            log.warning("scheduler.billing_run.account_failed", account_id=account_id, error=error)
        failed += len(report.errors)
        succeeded += report.accounts - len(report.errors)
    return JobOutcome(succeeded, failed)


def in_flight_janitor(container: Container, older_than: timedelta) -> JobOutcome:
    """Attempts pending longer than `older_than`, and expired waits for the customer, are
    resolved by asking their processor; an attempt it could not ask about failed."""
    now = container.deps.clock.now()
    with container.connection() as conn:
        accounts = accounts_in_flight_since(conn, now - older_than, BATCH, now)
    succeeded = failed = 0
    for account_id in accounts:
        try:
            resolved = janitor.resolve_in_flight(
                container.deps, account_id, older_than, system_ctx("janitor")
            )
        except Exception as error:  # one account's failure must not stop the job
            failed += 1
            _account_failed("janitor", account_id, error)
            continue
        unreachable = sum(r.resolution is janitor.Resolution.UNREACHABLE for r in resolved)
        failed += unreachable
        succeeded += len(resolved) - unreachable
    return JobOutcome(succeeded, failed)


def credit_expiry(container: Container) -> JobOutcome:
    """Credits past their expiry (found in the account detail read model) are expired;
    an item is an account."""
    with container.connection() as conn:
        accounts = accounts_with_credits_expired_by(conn, container.deps.clock.now(), BATCH)
    succeeded = failed = 0
    for account_id in accounts:
        try:
            credits.expire_due_credits(container.deps, account_id, system_ctx("credit_expiry"))
        except Exception as error:  # one account's failure must not stop the job
            failed += 1
            _account_failed("credit_expiry", account_id, error)
        else:
            succeeded += 1
    return JobOutcome(succeeded, failed)


def reconcile_recent(container: Container, window: timedelta) -> JobOutcome:
    """Accounts with an event in the last `window` are checked against the processors (and
    the check stored); an account not checked, or a processor that did not answer, failed."""
    with container.connection() as conn:
        accounts = accounts_active_since(conn, container.deps.clock.now() - window, BATCH)
    summary = reconcile_many(container, accounts)
    failed = len(summary.failed) + sum(summary.processor_errors.values())
    return JobOutcome(summary.accounts, failed)


def _open_account_pages(container: Container) -> Iterator[list[UUID]]:
    """Every open account, a page at a time, by keyset (as `ledger billing run` does)."""
    after: UUID | None = None
    while True:
        with container.connection() as conn:
            page = open_account_ids(conn, after, PAGE)
        if not page:
            return
        yield page
        after = page[-1]


def _account_failed(job: str, account_id: UUID, error: Exception) -> None:
    log.warning(
        f"scheduler.{job}.account_failed",
        account_id=str(account_id),
        error=f"{type(error).__name__}: {error}",
    )


def configured_jobs(container: Container) -> list[ScheduledJob]:
    """The four jobs on the intervals the settings give."""
    s = container.settings
    older_than = timedelta(seconds=s.scheduler_janitor_older_than_s)
    window = timedelta(seconds=s.scheduler_reconcile_window_s)
    return [
        ScheduledJob("billing_run", s.scheduler_billing_run_s, lambda: billing_run(container)),
        ScheduledJob(
            "janitor", s.scheduler_janitor_s, lambda: in_flight_janitor(container, older_than)
        ),
        ScheduledJob(
            "credit_expiry", s.scheduler_credit_expiry_s, lambda: credit_expiry(container)
        ),
        ScheduledJob(
            "reconcile", s.scheduler_reconcile_s, lambda: reconcile_recent(container, window)
        ),
    ]
