"""Disputes (chargebacks) recorded by hand; the processors' webhooks record theirs through
commands/processor_events.py."""

from __future__ import annotations

from commands.base import CommandResult, Deps, load_act_save, meta_of
from commands.models import CloseDispute, CommandContext, OpenDispute
from commands.refunds import attempt_currency
from ledger.account import Account
from ledger.money import Money


def open_dispute(deps: Deps, cmd: OpenDispute, ctx: CommandContext) -> CommandResult:
    def act(account: Account) -> None:
        amount = Money(cmd.amount, attempt_currency(account, cmd.attempt_id))
        account.open_dispute(cmd.attempt_id, cmd.dispute_id, amount, meta_of(deps, ctx))

    return load_act_save(deps, cmd.account_id, ctx, act)


def close_dispute(deps: Deps, cmd: CloseDispute, ctx: CommandContext) -> CommandResult:
    return load_act_save(
        deps,
        cmd.account_id,
        ctx,
        lambda a: a.close_dispute(cmd.attempt_id, cmd.won, meta_of(deps, ctx)),
    )
