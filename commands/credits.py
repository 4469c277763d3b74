"""Credits support grants and revokes; credits past their expiry are expired by the billing
run (commands/dunning.py) and by the scheduler's credit-expiry job (`expire_due_credits`)."""

from __future__ import annotations

from uuid import UUID

from commands.base import CommandResult, Deps, acting, load_act_save, meta_of, new_id_for
from commands.dunning import at_its_time
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


def expire_due_credits(deps: Deps, account_id: UUID, ctx: CommandContext) -> list[str]:
    """Expires the account's credits whose expiry has passed (at the account's own clock
    when it is on a test clock); returns their ids (none: nothing is recorded)."""
    timed = at_its_time(deps, account_id)
    expired, _ = acting(timed, account_id, ctx, lambda a: a.expire_credits(meta_of(timed, ctx)))
    return expired or []
