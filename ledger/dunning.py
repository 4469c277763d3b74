"""Dunning: when to retry a failed off-session collection, with which method, and when to
give up. One pure decision over the invoice, its attempts and the account's methods.

Card invoices are first charged at finalization; PayPal (send-invoice) invoices when they
fall due: PayPal enters dunning by becoming overdue, not by a failed card charge. After the
first failure, retries follow the schedule (days after that failure). A hard decline never
retries the same method: the next usable backup method is tried at once. When the schedule
or the usable methods run out, the invoice is exhausted (it becomes uncollectible).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from ledger.invoices import Invoice, InvoiceStatus
from ledger.methods import CollectionPath, PaymentMethod
from ledger.payments import AttemptPurpose, AttemptStatus, FailureKind, PaymentAttempt


@dataclass(frozen=True)
class DunningPolicy:
    retry_after_days: tuple[int, ...] = (1, 3, 5, 7)
    try_backup_methods: bool = True

    def __post_init__(self) -> None:
        days = list(self.retry_after_days)
        if days != sorted(days) or any(d < 0 for d in days):
            raise ValueError("retry days must be non-negative and ascending")


class Step(StrEnum):
    WAIT = "wait"  # nothing due yet (or an attempt is in flight, or not collectable)
    ATTEMPT = "attempt"
    EXHAUSTED = "exhausted"


@dataclass(frozen=True)
class Decision:
    step: Step
    method_id: str | None = None
    due_at: datetime | None = None


WAIT = Decision(Step.WAIT)


def decide(
    policy: DunningPolicy,
    invoice: Invoice,
    attempts: Sequence[PaymentAttempt],
    methods: Mapping[str, PaymentMethod],
    default_id: str | None,
    path: CollectionPath,
    now: datetime,
) -> Decision:
    if invoice.status is not InvoiceStatus.OPEN or not invoice.amount_due.is_positive:
        return WAIT
    own = [a for a in attempts if a.invoice_id == invoice.invoice_id]
    if any(a.in_flight for a in own):
        return WAIT
    failures = [
        a
        for a in own
        if a.status is AttemptStatus.FAILED and a.purpose is AttemptPurpose.COLLECTION
    ]
    due_at = _next_due(policy, invoice, failures, path)
    if due_at is None:
        return Decision(Step.EXHAUSTED)
    method_id = _next_method(policy, failures, methods, default_id)
    if method_id is None:
        return Decision(Step.EXHAUSTED) if failures else _wait_or_exhaust(policy, due_at, now)
    if (
        failures
        and failures[-1].failure is FailureKind.HARD
        and failures[-1].method_id != method_id
    ):
        due_at = failures[-1].settled_at or due_at
    return Decision(Step.ATTEMPT, method_id, due_at) if now >= due_at else WAIT


def _next_due(
    policy: DunningPolicy,
    invoice: Invoice,
    failures: Sequence[PaymentAttempt],
    path: CollectionPath,
) -> datetime | None:
    if not failures:
        first = invoice.due_at if path is CollectionPath.PAYPAL_SEND_INVOICE else None
        return first or invoice.finalized_at
    if len(failures) > len(policy.retry_after_days):
        return None
    first_failure = failures[0].settled_at or failures[0].started_at
    return first_failure + timedelta(days=policy.retry_after_days[len(failures) - 1])


def _next_method(
    policy: DunningPolicy,
    failures: Sequence[PaymentAttempt],
    methods: Mapping[str, PaymentMethod],
    default_id: str | None,
) -> str | None:
    hard_failed = {a.method_id for a in failures if a.failure is FailureKind.HARD}
    backups = sorted(methods.values(), key=lambda m: -m.added_seq)
    ordered = [default_id] if default_id else []
    if policy.try_backup_methods or not ordered:
        ordered += [m.method_id for m in backups]
    for method_id in ordered:
        method = methods.get(method_id)
        if method is not None and method.usable and method_id not in hard_failed:
            return method_id
    return None


def _wait_or_exhaust(policy: DunningPolicy, first_due: datetime, now: datetime) -> Decision:
    """No usable method at all: give the customer the whole schedule to add one."""
    horizon = first_due + timedelta(
        days=policy.retry_after_days[-1] if policy.retry_after_days else 0
    )
    return Decision(Step.EXHAUSTED) if now >= horizon else WAIT
