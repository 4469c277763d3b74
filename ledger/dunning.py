"""Dunning: when to retry a failed off-session collection, with which method, and when to
give up. One pure decision over the invoice, its attempts and the account's methods.

Card invoices are first charged at finalization; PayPal (send-invoice) invoices when they
fall due: PayPal enters dunning by becoming overdue, not by a failed card charge. After the
first failure, retries follow the schedule (days after that failure) on the primary method.
A hard decline never retries the same method: the next usable method is tried at once,
without using up the schedule. When the schedule is used up, each backup method never tried
for this invoice gets one attempt; then the invoice is exhausted (it becomes uncollectible).
With no usable method at all, the customer still gets the whole schedule's time to add one.
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
    candidates = _candidates(policy, failures, methods, default_id)
    start = _first_due(invoice, path) if not failures else _failed_at(failures[0])
    if not candidates:
        return _wait_or_exhaust(policy, start, now)
    if not failures:
        return _attempt_when(candidates[0], start, now)
    last = failures[-1]
    soft = [a for a in failures if a.failure is not FailureKind.HARD]
    if len(soft) <= len(policy.retry_after_days):
        if last.failure is FailureKind.HARD:
            return _attempt_when(candidates[0], _failed_at(last), now)
        due = start + timedelta(days=policy.retry_after_days[len(soft) - 1])
        return _attempt_when(candidates[0], due, now)
    tried = {a.method_id for a in failures}
    untried = [m for m in candidates if m not in tried] if policy.try_backup_methods else []
    if untried:
        return _attempt_when(untried[0], _failed_at(last), now)
    return Decision(Step.EXHAUSTED)


def _attempt_when(method_id: str, due_at: datetime, now: datetime) -> Decision:
    return Decision(Step.ATTEMPT, method_id, due_at) if now >= due_at else WAIT


def _first_due(invoice: Invoice, path: CollectionPath) -> datetime:
    first = invoice.due_at if path is CollectionPath.PAYPAL_SEND_INVOICE else None
    return first or invoice.finalized_at or invoice.created_at


def _failed_at(attempt: PaymentAttempt) -> datetime:
    return attempt.settled_at or attempt.started_at


def _candidates(
    policy: DunningPolicy,
    failures: Sequence[PaymentAttempt],
    methods: Mapping[str, PaymentMethod],
    default_id: str | None,
) -> list[str]:
    """Usable methods not hard-declined for this invoice: the default first, then backups,
    newest first (backups only when the policy allows)."""
    hard_failed = {a.method_id for a in failures if a.failure is FailureKind.HARD}
    newest_first = [m.method_id for m in sorted(methods.values(), key=lambda m: -m.added_seq)]
    ordered = [default_id] if default_id else []
    if policy.try_backup_methods or not ordered:
        ordered += [m for m in newest_first if m != default_id]
    return [m for m in ordered if m in methods and methods[m].usable and m not in hard_failed]


def _wait_or_exhaust(policy: DunningPolicy, start: datetime, now: datetime) -> Decision:
    """No usable method: give the customer the whole schedule's time to add one."""
    last_day = policy.retry_after_days[-1] if policy.retry_after_days else 0
    return Decision(Step.EXHAUSTED) if now >= start + timedelta(days=last_day) else WAIT
