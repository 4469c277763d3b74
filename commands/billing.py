"""Subscriptions, invoices and the billing run (renewals, dunning, credit expiry)."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID, uuid5

from commands.base import (
    CommandResult,
    Deps,
    acting,
    follow_up,
    load_account,
    load_act_save,
    meta_of,
    new_id_for,
)
from commands.collect import PaymentOutcome, collect
from commands.models import (
    CancelSubscription,
    ChangePlan,
    CommandContext,
    PayInvoice,
    RunBilling,
    Subscribe,
    VoidInvoice,
)
from ledger.account import Account
from ledger.dunning import Step, decide
from ledger.invoices import InvoiceStatus
from ledger.methods import CollectionPath
from ledger.payments import AttemptPurpose

_RUN_NAMESPACE = UUID("c7a0d3e2-51f4-4a8b-b2d6-0e9f1a7c3b55")


@dataclass(frozen=True)
class BillingResult:
    result: CommandResult
    subscription_id: str | None = None
    invoice_id: str | None = None
    payment: PaymentOutcome | None = None


def subscribe(deps: Deps, cmd: Subscribe, ctx: CommandContext) -> BillingResult:
    sub_id, inv_id = new_id_for(deps, ctx, "subscription"), new_id_for(deps, ctx, "invoice")
    plan = deps.catalogue.plan(cmd.plan_id)

    def act(account: Account) -> CollectionPath:
        account.subscribe(sub_id, plan, inv_id, cmd.on_session, meta_of(deps, ctx))
        return account.collection_path

    path, result = acting(deps, cmd.account_id, ctx, act)
    if result.replayed:
        return BillingResult(
            result, sub_id, inv_id, _payment_again(deps, cmd.account_id, ctx, result)
        )
    payment = _collect_new(deps, cmd.account_id, inv_id, cmd.on_session, path, ctx)
    return BillingResult(_answered(result, payment), sub_id, inv_id, payment)


def change_plan(deps: Deps, cmd: ChangePlan, ctx: CommandContext) -> BillingResult:
    inv_id = new_id_for(deps, ctx, "invoice")
    new = deps.catalogue.plan(cmd.plan_id)

    def act(account: Account) -> CollectionPath | None:
        old = (
            deps.catalogue.plan(account.subscriptions[cmd.subscription_id].plan_id)
            if (cmd.subscription_id in account.subscriptions)
            else new
        )
        net = account.change_plan(
            cmd.subscription_id, old, new, inv_id, meta_of(deps, ctx), on_session=cmd.on_session
        )
        return account.collection_path if net.is_positive else None

    path, result = acting(deps, cmd.account_id, ctx, act)
    if result.replayed:
        again = _payment_again(deps, cmd.account_id, ctx, result)
        invoice_id = again.invoice_id if again else None
        return BillingResult(result, cmd.subscription_id, invoice_id, again)
    payment = _collect_new(deps, cmd.account_id, inv_id, cmd.on_session, path, ctx)
    invoice_id = inv_id if path else None
    return BillingResult(_answered(result, payment), cmd.subscription_id, invoice_id, payment)


def cancel_subscription(deps: Deps, cmd: CancelSubscription, ctx: CommandContext) -> CommandResult:
    def act(account: Account) -> None:
        account.cancel_subscription(cmd.subscription_id, cmd.at_period_end, meta_of(deps, ctx))

    return load_act_save(deps, cmd.account_id, ctx, act)


def void_invoice(deps: Deps, cmd: VoidInvoice, ctx: CommandContext) -> CommandResult:
    return load_act_save(
        deps, cmd.account_id, ctx, lambda a: a.void_invoice(cmd.invoice_id, meta_of(deps, ctx))
    )


def pay_invoice(deps: Deps, cmd: PayInvoice, ctx: CommandContext) -> PaymentOutcome:
    purpose = AttemptPurpose.ON_SESSION if cmd.on_session else AttemptPurpose.COLLECTION
    attempt_id = new_id_for(deps, ctx, "attempt")
    return collect(deps, cmd.account_id, cmd.invoice_id, cmd.method_id, purpose, attempt_id, ctx)


def _collect_new(
    deps: Deps,
    account_id: UUID,
    invoice_id: str,
    on_session: bool,
    path: CollectionPath | None,
    ctx: CommandContext,
) -> PaymentOutcome | None:
    """A new invoice is charged at once when the customer is present or the path is
    automatic; a PayPal send-invoice waits for its due date (the billing run collects it)."""
    if path is None or not _payable(deps, account_id, invoice_id):
        return None
    if on_session:
        purpose = AttemptPurpose.ON_SESSION
    elif path is CollectionPath.STRIPE_AUTOMATIC:
        purpose = AttemptPurpose.COLLECTION
    else:
        return None
    attempt_id = new_id_for(deps, ctx, "attempt")
    return collect(deps, account_id, invoice_id, None, purpose, attempt_id, ctx)


def _answered(result: CommandResult, payment: PaymentOutcome | None) -> CommandResult:
    """A purchase that charged answers where its payment's outcome landed (the account
    remembers the command there, so a repeat answers the same version)."""
    return payment.result if payment is not None else result


def _payment_again(
    deps: Deps, account_id: UUID, ctx: CommandContext, replay: CommandResult
) -> PaymentOutcome | None:
    """A repeated purchase reports the payment its first run made, through `collect`, which
    charges nothing again: a payment waiting for the customer gets its client secret again
    (3-D Secure); a payment whose outcome is still unknown is refused with a time to retry
    after (`CommandInFlight`)."""
    attempt_id = new_id_for(deps, ctx, "attempt")
    attempt = load_account(deps.app, account_id).attempts.get(attempt_id)
    if attempt is None:
        return None
    return collect(
        deps, account_id, attempt.invoice_id, attempt.method_id, attempt.purpose, attempt_id, ctx
    )


def _payable(deps: Deps, account_id: UUID, invoice_id: str) -> bool:
    invoice = load_account(deps.app, account_id).invoices.get(invoice_id)
    return bool(invoice and invoice.status is InvoiceStatus.OPEN and invoice.amount_due.is_positive)


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
            _bill_account(deps, account_id, ctx, report)
        except Exception as error:  # one account's failure must not stop the run
            report.errors[str(account_id)] = f"{type(error).__name__}: {error}"
    return report


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

    counts, result = acting(deps, account_id, step, renew_and_expire)
    report.saw(result)
    if counts:
        report.renewed += counts[0]
        report.credits_expired += counts[1]
    _dun(deps, account_id, step, report)


def _dun(deps: Deps, account_id: UUID, ctx: CommandContext, report: RunReport) -> None:
    account = load_account(deps.app, account_id)
    now = deps.clock.now()
    attempts = list(account.attempts.values())
    for invoice in list(account.invoices.values()):
        decision = decide(
            deps.dunning,
            invoice,
            attempts,
            account.methods,
            account.default_method_id,
            account.collection_path,
            now,
        )
        if decision.step is Step.ATTEMPT and decision.method_id:
            n = sum(1 for a in attempts if a.invoice_id == invoice.invoice_id)
            attempt_id = str(uuid5(_RUN_NAMESPACE, f"{invoice.invoice_id}:attempt:{n + 1}"))
            outcome = collect(
                deps,
                account_id,
                invoice.invoice_id,
                decision.method_id,
                AttemptPurpose.COLLECTION,
                attempt_id,
                ctx,
            )
            report.attempts.append(outcome)
            report.saw(outcome.result)
        elif decision.step is Step.EXHAUSTED:
            report.saw(_exhaust(deps, account_id, invoice.invoice_id, ctx))
            report.exhausted.append(invoice.invoice_id)


def _exhaust(deps: Deps, account_id: UUID, invoice_id: str, ctx: CommandContext) -> CommandResult:
    def act(account: Account) -> None:
        account.mark_uncollectible(invoice_id, meta_of(deps, ctx))

    return load_act_save(deps, account_id, ctx, act)
