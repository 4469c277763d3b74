"""Subscriptions and invoices: subscribe, change plan, cancel, void, pay an invoice. The billing
run (renewals, dunning, credit expiry) is commands/dunning.py."""

from __future__ import annotations

from dataclasses import dataclass

from commands.base import (
    CommandResult,
    Deps,
    acted,
    load_act_save,
    meta_of,
    new_id_for,
)
from commands.collect import PaymentOutcome, collect, collect_on
from commands.models import (
    CancelSubscription,
    ChangePlan,
    CommandContext,
    PayInvoice,
    Subscribe,
    VoidInvoice,
)
from ledger.account import Account
from ledger.invoices import InvoiceStatus
from ledger.methods import CollectionPath
from ledger.payments import AttemptPurpose


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

    path, result, account = acted(deps, cmd.account_id, ctx, act)
    if result.replayed:
        return BillingResult(result, sub_id, inv_id, _payment_again(deps, account, ctx))
    payment = _collect_new(deps, account, inv_id, cmd.on_session, path, ctx)
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
            cmd.subscription_id,
            old,
            new,
            inv_id,
            meta_of(deps, ctx),
            on_session=cmd.on_session,
            quoted_at=cmd.quoted_at,
        )
        return account.collection_path if net.is_positive else None

    path, result, account = acted(deps, cmd.account_id, ctx, act)
    if result.replayed:
        again = _payment_again(deps, account, ctx)
        invoice_id = again.invoice_id if again else None
        return BillingResult(result, cmd.subscription_id, invoice_id, again)
    payment = _collect_new(deps, account, inv_id, cmd.on_session, path, ctx)
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
    account: Account,
    invoice_id: str,
    on_session: bool,
    path: CollectionPath | None,
    ctx: CommandContext,
) -> PaymentOutcome | None:
    """A new invoice is charged at once when the customer is present or the path is
    automatic; a PayPal send-invoice waits for its due date (the billing run collects it).
    `account` is as the purchase saved it."""
    if path is None or not _payable(account, invoice_id):
        return None
    if on_session:
        purpose = AttemptPurpose.ON_SESSION
    elif path is CollectionPath.STRIPE_AUTOMATIC:
        purpose = AttemptPurpose.COLLECTION
    else:
        return None
    attempt_id = new_id_for(deps, ctx, "attempt")
    return collect_on(deps, account, invoice_id, None, purpose, attempt_id, ctx)[0]


def _answered(result: CommandResult, payment: PaymentOutcome | None) -> CommandResult:
    """A purchase that charged answers where its payment's outcome landed (the account
    remembers the command there, so a repeat answers the same version)."""
    return payment.result if payment is not None else result


def _payment_again(deps: Deps, account: Account, ctx: CommandContext) -> PaymentOutcome | None:
    """A repeated purchase reports the payment its first run made, through `collect`, which
    charges nothing again: a payment waiting for the customer gets its client secret again
    (3-D Secure); a payment whose outcome is still unknown is refused with a time to retry
    after (`CommandInFlight`)."""
    attempt_id = new_id_for(deps, ctx, "attempt")
    attempt = account.attempts.get(attempt_id)
    if attempt is None:
        return None
    return collect_on(
        deps, account, attempt.invoice_id, attempt.method_id, attempt.purpose, attempt_id, ctx
    )[0]


def _payable(account: Account, invoice_id: str) -> bool:
    invoice = account.invoices.get(invoice_id)
    return bool(invoice and invoice.status is InvoiceStatus.OPEN and invoice.amount_due.is_positive)
