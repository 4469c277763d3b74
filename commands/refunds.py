"""Refunding a captured payment: checked against the ledger, asked of the processor, then
recorded."""

from __future__ import annotations

from commands.base import CommandResult, Deps, load_account, load_act_save, meta_of, new_id_for
from commands.errors import CommandIdRequired
from commands.models import CommandContext, RefundPayment
from commands.ports import RefundRequest
from ledger.account import Account
from ledger.money import Money


def refund_payment(deps: Deps, cmd: RefundPayment, ctx: CommandContext) -> CommandResult:
    """Checks the refund against the ledger first, then asks the processor, then records.
    The refund id (the processor's idempotency key) comes from the command id, so a retried
    request can never refund twice."""
    if ctx.command_id is None:
        raise CommandIdRequired("a refund needs an idempotency key")
    refund_id = new_id_for(deps, ctx, "refund")
    account = load_account(deps.app, cmd.account_id)
    attempt = account.attempts.get(cmd.attempt_id)
    if attempt is not None and refund_id not in account.refund_ids:
        amount = Money(cmd.amount, attempt.amount.currency)
        attempt.refund(amount)  # refuses more than captured before the processor is asked
        deps.gateway.refund(
            RefundRequest(refund_id, attempt.processor, attempt.processor_payment_id or "", amount)
        )

    def act(acc: Account) -> None:
        if refund_id in acc.refund_ids:
            return  # Stripe's refund webhook recorded it between the refund and this save
        currency = attempt_currency(acc, cmd.attempt_id)
        acc.refund(cmd.attempt_id, refund_id, Money(cmd.amount, currency), meta_of(deps, ctx))

    return load_act_save(deps, cmd.account_id, ctx, act)


def attempt_currency(account: Account, attempt_id: str) -> str:
    attempt = account.attempts.get(attempt_id)
    return attempt.amount.currency if attempt else account.profile.currency
