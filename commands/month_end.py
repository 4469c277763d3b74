"""The billing run a page at a time: the page's accounts are loaded (`Deps.pages`: two
queries for the page on PostgreSQL), each account's
renewals, credit expiry and dunning steps are decided in memory (the same domain calls, in
the same order, as `one_by_one.bill_account`), and the page's events are saved in one
transaction per round.

A round ends where an account must call the processor: the attempt it started is saved
with the page's other events (committed before the processor is called, as `collect`
does, so a crash leaves a visible pending attempt, never an unrecorded charge); the page's
charges are then made, and the next round records their outcomes (and the steps that come
next) in one transaction again. Each account's events keep the order the one-by-one run
records them in.

One bad account never rolls back the others. An account whose step is refused keeps the
steps before the refusal and reports the error, as the one-by-one run does. A save that
fails is retried by halves until the failing accounts are alone; each of those is then
billed one by one from where its last committed round left it (`bill_account`; or the
outcome of the charge it made recorded, then its dunning decided again), which reloads the
account, retries conflicts and reports what fails as the one-by-one run does."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.persistence import Recording

from commands.base import CommandResult, Deps, follow_up, load_account, meta_of
from commands.collect import PaymentOutcome, apply_charge, outcome_of, record_outcome, request_for
from commands.models import CommandContext
from commands.one_by_one import (
    RunReport,
    attempt_id_for,
    bill_account,
    decisions,
    dun,
    renew_and_expire,
)
from commands.outcomes import cancelled_first
from commands.ports import ChargeRequest, ChargeResult
from ledger.account import Account
from ledger.dunning import Step
from ledger.payments import AttemptPurpose, AttemptStatus

log = structlog.get_logger("billing_run")


@dataclass(frozen=True)
class Charge:
    """A charge an account's steps wait for: made once its attempt is committed."""

    attempt_id: str
    request: ChargeRequest


Steps = Generator[Charge, ChargeResult, None]


class OneByOne(Exception):
    """The account needs the one-by-one path (an attempt id it already holds)."""


@dataclass
class Tally:
    """What one round of one account adds to its report, kept until the round commits."""

    renewed: int = 0
    credits_expired: int = 0
    outcomes: list[PaymentOutcome] = field(default_factory=list)
    exhausted: list[str] = field(default_factory=list)


@dataclass(eq=False)  # compared by identity: a page holds each account once
class Billing:
    """One account of the page: the account as its steps left it, its committed report,
    the round in progress and the charges around it."""

    account_id: UUID
    report: RunReport
    account: Account | None = None
    version: int = 0  # the stored version as far as this run knows
    steps: Steps | None = None
    tally: Tally = field(default_factory=Tally)
    events: list[Any] = field(default_factory=list)  # the round's events, to save
    safe: int = 0  # pending events that end a completed step
    error: str | None = None  # a refusal met in memory, reported once the round commits
    rebill: bool = False  # leave the batch: the one-by-one path bills it
    committed: bool = False  # a round of the account's has committed
    charge: Charge | None = None  # started this round, to make after the commit
    answer: ChargeResult | None = None  # the processor's answer, for the next round
    recording: tuple[Charge, ChargeResult] | None = None  # answer this round records

    def checkpoint(self) -> None:
        assert self.account is not None
        self.safe = len(self.account.pending_events)


def bill_page(deps: Deps, account_ids: Sequence[UUID], ctx: CommandContext) -> list[RunReport]:
    """Bills distinct accounts (none on a test clock); one report per account, in order."""
    step = follow_up(ctx)
    bills = [Billing(account_id, RunReport(accounts=1)) for account_id in account_ids]
    loaded = deps.pages.load_page(account_ids)
    active = [b for b in bills if _load(deps, b, step, loaded.get(b.account_id))]
    for bill in bills:
        if bill.account is None:
            _one_by_one(deps, bill, ctx)
    while active:
        for bill in active:
            _advance(bill)
        failed = _save_isolated(deps, active)
        for bill in failed:
            _one_by_one(deps, bill, ctx)
        waiting = [b for b in active if b not in failed and b.charge is not None]
        active = _charge_all(deps, waiting)
    return [b.report for b in bills]


def _load(deps: Deps, bill: Billing, step: CommandContext, loaded: Account | None) -> bool:
    try:
        bill.account = loaded or load_account(deps.app, bill.account_id)
    except Exception:  # the one-by-one path loads it again and reports what fails
        return False
    bill.version = bill.account.version
    bill.steps = _steps(deps, bill.account, step, bill)
    return True


def _steps(deps: Deps, account: Account, step: CommandContext, bill: Billing) -> Steps:
    """`bill_account` in memory: the same domain calls in the same order; yields where the
    processor must be called (the attempt started) and gets the processor's answer."""
    renewed, expired = renew_and_expire(deps, account, step)
    bill.checkpoint()
    bill.tally.renewed += renewed
    bill.tally.credits_expired += expired
    for invoice, decision, tried in decisions(deps, account):
        if decision.step is Step.ATTEMPT and decision.method_id:
            attempt_id = attempt_id_for(invoice.invoice_id, tried + 1)
            if attempt_id in account.attempts:
                raise OneByOne()
            start = (invoice.invoice_id, decision.method_id, attempt_id)
            yield from _collect(deps, account, start, step, bill)
        elif decision.step is Step.EXHAUSTED:
            account.mark_uncollectible(invoice.invoice_id, meta_of(deps, step))
            bill.checkpoint()
            bill.tally.exhausted.append(invoice.invoice_id)


def _collect(
    deps: Deps,
    account: Account,
    start: tuple[str, str, str],
    step: CommandContext,
    bill: Billing,
) -> Steps:
    """`collect_on` for the run: start the attempt, wait for the commit and the charge,
    record the outcome."""
    invoice_id, method_id, attempt_id = start
    purpose = AttemptPurpose.COLLECTION
    meta = meta_of(deps, step)
    attempt = account.start_attempt(attempt_id, invoice_id, method_id, purpose, meta)
    bill.checkpoint()
    charge = yield Charge(attempt_id, request_for(account, attempt, purpose))
    outcome = cancelled_first(deps, account, attempt_id, charge)
    apply_charge(deps, account, attempt_id, outcome, meta_of(deps, step))
    bill.checkpoint()
    result = CommandResult(account.id, account.version, None)
    bill.tally.outcomes.append(outcome_of(account, attempt_id, result, charge.client_secret))
    if account.attempts[attempt_id].status is AttemptStatus.REQUIRES_ACTION:
        log.info("payment.requires_action", account_id=str(account.id), attempt_id=attempt_id)


def _advance(bill: Billing) -> None:
    """Runs the account's steps to its next charge or its end. A refusal ends them, the
    steps completed before it kept (its pending events past the last step dropped)."""
    assert bill.steps is not None
    assert bill.account is not None
    answer = bill.answer
    bill.recording = (bill.charge, answer) if bill.charge and answer else None
    bill.charge, bill.answer, bill.safe = None, None, 0
    try:
        bill.charge = bill.steps.send(answer) if answer is not None else next(bill.steps)
    except StopIteration:
        bill.steps = None
    except OneByOne:
        bill.steps, bill.rebill = None, True
    except Exception as error:
        bill.steps, bill.error = None, f"{type(error).__name__}: {error}"
    events = list(bill.account.collect_events())
    bill.events = [] if bill.rebill else events[: bill.safe]


def _save_isolated(deps: Deps, bills: list[Billing]) -> list[Billing]:
    """Saves the round's events of `bills` in one transaction; when that fails, by halves
    until the failing accounts are alone. Commits the round of each saved account; returns
    the accounts for the one-by-one path (their save failed on its own, or they need it)."""
    return [b for b in bills if b.rebill] + _save_halves(deps, [b for b in bills if not b.rebill])


def _save_halves(deps: Deps, bills: list[Billing]) -> list[Billing]:
    if not bills:
        return []
    try:
        recordings = _save(deps, bills)
    except Exception as error:
        if len(bills) > 1:
            half = len(bills) // 2
            return _save_halves(deps, bills[:half]) + _save_halves(deps, bills[half:])
        log.warning(
            "billing_run.save_failed",
            account_id=str(bills[0].account_id),
            error=f"{type(error).__name__}: {error}",
        )
        return bills
    positions = {
        (r.domain_event.originator_id, r.domain_event.originator_version): r.notification.id
        for r in recordings
    }
    for bill in bills:
        _commit(bill, positions)
    return []


def _save(deps: Deps, bills: list[Billing]) -> list[Recording[UUID]]:
    """One transaction for the events; the accounts go along (their pending events already
    collected) so that the application takes their snapshots as `save(account)` does."""
    events = [e for b in bills for e in b.events]
    if not events:
        return []
    return deps.app.save(*events, *(b.account for b in bills if b.events))


def _commit(bill: Billing, positions: dict[tuple[UUID, int], int]) -> None:
    """The round is stored: its tally joins the account's report."""
    report, tally = bill.report, bill.tally
    if bill.events:
        bill.version = bill.events[-1].originator_version
    position = positions.get((bill.account_id, bill.version)) if bill.events else None
    report.saw(CommandResult(bill.account_id, bill.version, position))
    report.renewed += tally.renewed
    report.credits_expired += tally.credits_expired
    report.exhausted.extend(tally.exhausted)
    for outcome in tally.outcomes:
        at = positions.get((bill.account_id, outcome.result.version))
        report.attempts.append(replace(outcome, result=replace(outcome.result, position=at)))
    if bill.error is not None:
        report.errors[str(bill.account_id)] = bill.error
    bill.tally, bill.events, bill.committed = Tally(), [], True


def _charge_all(deps: Deps, bills: list[Billing]) -> list[Billing]:
    """Calls the processor for each committed attempt, at most `deps.charge_concurrency`
    calls at a time (a real processor answers in a few hundred ms: one at a time, a page of
    500 would take minutes); returns the accounts that got an answer to record, in page
    order. A call that raises leaves the attempt pending (the janitor asks the processor
    later) and is the account's error, as in `collect`."""
    if deps.charge_concurrency > 1 and len(bills) > 1:
        with ThreadPoolExecutor(min(deps.charge_concurrency, len(bills))) as calls:
            answers = list(calls.map(lambda bill: _charged(deps, bill), bills))
    else:
        answers = [_charged(deps, bill) for bill in bills]
    answered = []
    for bill, (answer, error) in zip(bills, answers, strict=True):
        if error is not None:
            bill.report.errors[str(bill.account_id)] = f"{type(error).__name__}: {error}"
            if bill.steps is not None:
                bill.steps.close()
            continue
        bill.answer = answer
        answered.append(bill)
    return answered


def _charged(deps: Deps, bill: Billing) -> tuple[ChargeResult | None, Exception | None]:
    assert bill.charge is not None
    try:
        return deps.gateway.charge(bill.charge.request), None
    except Exception as error:
        return None, error


def _one_by_one(deps: Deps, bill: Billing, ctx: CommandContext) -> None:
    """The account from where its last committed round left it, a step per transaction:
    from the start when nothing of it committed; else the answer this round was recording
    is recorded on the reloaded account and its dunning decided again."""
    recording, report, step = bill.recording, bill.report, follow_up(ctx)
    bill.steps, bill.charge, bill.tally, bill.events, bill.error = None, None, Tally(), [], None
    try:
        if not bill.committed:
            bill_account(deps, bill.account_id, ctx, report)
            return
        account = load_account(deps.app, bill.account_id)
        if recording is not None:
            charge, answer = recording
            result, account = record_outcome(deps, account, charge.attempt_id, answer, step)
            report.saw(result)
            secret = answer.client_secret
            report.attempts.append(outcome_of(account, charge.attempt_id, result, secret))
        dun(deps, account, step, report)
    except Exception as error:  # one account's failure must not stop the run
        report.errors[str(bill.account_id)] = f"{type(error).__name__}: {error}"
