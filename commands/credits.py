"""Credits support grants and revokes (the billing run expires them: commands/dunning.py)."""

from __future__ import annotations

from commands.base import CommandResult, Deps, load_act_save, meta_of, new_id_for
from commands.models import CommandContext, GrantCredit, RevokeCredit
from ledger.account import Account
from ledger.money import Money


def grant_credit(deps: Deps, cmd: GrantCredit, ctx: CommandContext) -> CommandResult:
    credit_id = new_id_for(deps, ctx, "credit")

    def act(account: Account) -> None:
        amount = Money(cmd.amount, cmd.currency)
        account.grant_credit(credit_id, amount, cmd.expires_at, meta_of(deps, ctx))

    return load_act_save(deps, cmd.account_id, ctx, act)


def revoke_credit(deps: Deps, cmd: RevokeCredit, ctx: CommandContext) -> CommandResult:
    return load_act_save(
        deps, cmd.account_id, ctx, lambda a: a.revoke_credit(cmd.credit_id, meta_of(deps, ctx))
    )
