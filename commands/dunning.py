"""The billing run: renewals, credit expiry and dunning due now, account by account."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from uuid import UUID, uuid5

from commands.base import CommandResult, Deps, acted, follow_up, meta_of
from commands.collect import PaymentOutcome, collect_on
from commands.models import CommandContext, RunBilling
from ledger.account import Account
from ledger.dunning import Step, decide
from ledger.payments import AttemptPurpose

_RUN_NAMESPACE = UUID("c7a0d3e2-51f4-4a8b-b2d6-0e9f1a7c3b55")


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
        key = str(result.account_id)
        seen = self.reached.get(key, Reached(0, None))
        positions = [p for p in (seen.position, result.position) if p is not None]
        self.reached[key] = Reached(
            max(seen.version, result.version), max(positions) if positions else None
        )


def run_billing(deps: Deps, cmd: RunBilling, ctx: CommandContext) -> RunReport:
    """Renewals, credit expiry and dunning due now, account by account. Safe to rerun: the
    invoices and attempts it creates have ids derived from what they are for."""
    report = RunReport()
    for account_id in cmd.account_ids:
        report.accounts += 1
        try:
            _bill_account(at_its_time(deps, account_id), account_id, ctx, report)
        except Exception as error:  # one account's failure must not stop the run
            report.errors[str(account_id)] = f"{type(error).__name__}: {error}"
    return report


def at_its_time(deps: Deps, account_id: UUID) -> Deps:
    """The dependencies with the account's test clock, when it is attached to one (test
    clocks are not wired in production): its billing runs at the clock's time."""
    clock = deps.account_clocks.clock_for(account_id) if deps.account_clocks else None
    return deps if clock is None else replace(deps, clock=clock)


def _bill_account(deps: Deps, account_id: UUID, ctx: CommandContext, report: RunReport) -> None:
    step = follow_up(ctx)

    def renew_and_expire(account: Account) -> tuple[int, int]:
        meta = meta_of(deps, step)
        expired = len(account.expire_credits(meta))
        renewed = 0
        for sub in list(account.subscriptions.values()):
            # In bad debt service is suspended: no renewals, but scheduled ends still end.
            if account.bad_debt and not sub.cancel_at_period_end:
                continue
            if sub.active and sub.period_end <= meta.occurred_at:
                inv_id = str(uuid5(_RUN_NAMESPACE, f"{sub.subscription_id}:{sub.period_end}"))
                plan = deps.catalogue.plan(sub.plan_id)
                renewed += account.renew(sub.subscription_id, plan, inv_id, meta)
        return renewed, expired

    counts, result, account = acted(deps, account_id, step, renew_and_expire)
    report.saw(result)
    if counts:
        report.renewed += counts[0]
        report.credits_expired += counts[1]
    _dun(deps, account, step, report)


def _dun(deps: Deps, account: Account, ctx: CommandContext, report: RunReport) -> None:
    """Decides every invoice on the account as renewing left it; each step (a collection,
    exhausting an invoice) acts on the account the step before saved."""
    now = deps.clock.now()
    attempts = list(account.attempts.values())
    methods, default_id = dict(account.methods), account.default_method_id
    path = account.collection_path
    for invoice in list(account.invoices.values()):
        decision = decide(deps.dunning, invoice, attempts, methods, default_id, path, now)
        if decision.step is Step.ATTEMPT and decision.method_id:
            n = sum(1 for a in attempts if a.invoice_id == invoice.invoice_id)
            attempt_id = str(uuid5(_RUN_NAMESPACE, f"{invoice.invoice_id}:attempt:{n + 1}"))
            outcome, account = collect_on(
                deps,
                account,
                invoice.invoice_id,
                decision.method_id,
                AttemptPurpose.COLLECTION,
                attempt_id,
                ctx,
            )
            report.attempts.append(outcome)
            report.saw(outcome.result)
        elif decision.step is Step.EXHAUSTED:
            result, account = _exhaust(deps, account, invoice.invoice_id, ctx)
            report.saw(result)
            report.exhausted.append(invoice.invoice_id)


def _exhaust(
    deps: Deps, account: Account, invoice_id: str, ctx: CommandContext
) -> tuple[CommandResult, Account]:
    def act(current: Account) -> None:
        current.mark_uncollectible(invoice_id, meta_of(deps, ctx))

    _, result, saved = acted(deps, account.id, ctx, act, loaded=account)
    return result, saved
