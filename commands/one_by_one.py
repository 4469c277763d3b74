"""The billing run's steps for one account, each in its own transaction: renewals and
credit expiry, then each invoice's dunning step (a collection, or exhausting it) on the
account the step before saved. The batched run (`commands.month_end`) makes the same
domain calls in the same order, and falls back to these for an account it cannot save."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from uuid import UUID, uuid5

from commands.base import CommandResult, Deps, acted, follow_up, meta_of
from commands.collect import PaymentOutcome, collect_on
from commands.models import CommandContext
from ledger.account import Account
from ledger.dunning import Decision, Step, decide
from ledger.invoices import Invoice
from ledger.payments import AttemptPurpose

RUN_NAMESPACE = UUID("c7a0d3e2-51f4-4a8b-b2d6-0e9f1a7c3b55")


@dataclass(frozen=True)
class Reached:
    """Where the run left one account: its stream version, to read with `min_version`, and
    the global position of the last event the run recorded on it (None if none)."""

    version: int
    position: int | None


@dataclass
class RunReport:
    accounts: int = 0
    renewed: int = 0
    credits_expired: int = 0
    attempts: list[PaymentOutcome] = field(default_factory=list)
    exhausted: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    reached: dict[str, Reached] = field(default_factory=dict)  # by account id

    def saw(self, result: CommandResult) -> None:
        """Keeps the furthest version and position this run's writes reached."""
        self._reach(str(result.account_id), Reached(result.version, result.position))

    def add(self, other: RunReport) -> None:
        """Another part of the same run (other accounts, or later steps)."""
        self.accounts += other.accounts
        self.renewed += other.renewed
        self.credits_expired += other.credits_expired
        self.attempts.extend(other.attempts)
        self.exhausted.extend(other.exhausted)
        self.errors.update(other.errors)
        for key, reached in other.reached.items():
            self._reach(key, reached)

    def _reach(self, key: str, reached: Reached) -> None:
        seen = self.reached.get(key, Reached(0, None))
        positions = [p for p in (seen.position, reached.position) if p is not None]
        self.reached[key] = Reached(
            max(seen.version, reached.version), max(positions) if positions else None
        )


def at_its_time(deps: Deps, account_id: UUID) -> Deps:
    """The dependencies with the account's test clock, when it is attached to one (test
    clocks are not wired in production): its billing runs at the clock's time."""
    clock = deps.account_clocks.clock_for(account_id) if deps.account_clocks else None
    return deps if clock is None else replace(deps, clock=clock)


def attempt_id_for(invoice_id: str, number: int) -> str:
    """The id of the run's `number`th attempt on an invoice: a rerun names the same one."""
    return str(uuid5(RUN_NAMESPACE, f"{invoice_id}:attempt:{number}"))


def renew_and_expire(deps: Deps, account: Account, step: CommandContext) -> tuple[int, int]:
    """Expires the credits and renews the subscriptions due on the account, in memory;
    returns how many invoices were issued and how many credits expired."""
    meta = meta_of(deps, step)
    expired = len(account.expire_credits(meta))
    renewed = 0
    for sub in list(account.subscriptions.values()):
        # In bad debt service is suspended: no renewals, but scheduled ends still end.
        if account.bad_debt and not sub.cancel_at_period_end:
            continue
        if sub.active and sub.period_end <= meta.occurred_at:
            inv_id = str(uuid5(RUN_NAMESPACE, f"{sub.subscription_id}:{sub.period_end}"))
            plan = deps.catalogue.plan(sub.plan_id)
            renewed += account.renew(sub.subscription_id, plan, inv_id, meta)
    return renewed, expired


def bill_account(deps: Deps, account_id: UUID, ctx: CommandContext, report: RunReport) -> None:
    step = follow_up(ctx)
    counts, result, account = acted(
        deps, account_id, step, lambda current: renew_and_expire(deps, current, step)
    )
    report.saw(result)
    if counts:
        report.renewed += counts[0]
        report.credits_expired += counts[1]
    dun(deps, account, step, report)


def dun(deps: Deps, account: Account, ctx: CommandContext, report: RunReport) -> None:
    """Decides every invoice on the account as renewing left it; each step (a collection,
    exhausting an invoice) acts on the account the step before saved."""
    for invoice, decision, tried in decisions(deps, account):
        if decision.step is Step.ATTEMPT and decision.method_id:
            outcome, account = collect_on(
                deps,
                account,
                invoice.invoice_id,
                decision.method_id,
                AttemptPurpose.COLLECTION,
                attempt_id_for(invoice.invoice_id, tried + 1),
                ctx,
            )
            report.attempts.append(outcome)
            report.saw(outcome.result)
        elif decision.step is Step.EXHAUSTED:
            result, account = _exhaust(deps, account, invoice.invoice_id, ctx)
            report.saw(result)
            report.exhausted.append(invoice.invoice_id)


def decisions(deps: Deps, account: Account) -> Iterator[tuple[Invoice, Decision, int]]:
    """Each invoice of the account as renewing left it, its dunning decision and how many
    attempts it has had: decided on the account as it is now, as every billing run does."""
    now = deps.clock.now()
    attempts = list(account.attempts.values())
    methods, default_id = dict(account.methods), account.default_method_id
    path = account.collection_path
    for invoice in list(account.invoices.values()):
        decision = decide(deps.dunning, invoice, attempts, methods, default_id, path, now)
        tried = sum(1 for a in attempts if a.invoice_id == invoice.invoice_id)
        yield invoice, decision, tried


def _exhaust(
    deps: Deps, account: Account, invoice_id: str, ctx: CommandContext
) -> tuple[CommandResult, Account]:
    def act(current: Account) -> None:
        current.mark_uncollectible(invoice_id, meta_of(deps, ctx))

    _, result, saved = acted(deps, account.id, ctx, act, loaded=account)
    return result, saved
