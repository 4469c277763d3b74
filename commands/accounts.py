"""Opening, updating and closing an account. Each returns where its events landed so callers
can wait for the read models to catch up (read-your-writes)."""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.persistence import IntegrityError

from commands.base import (
    CommandResult,
    Deps,
    load_account,
    load_act_save,
    meta_of,
    refuse_other_request,
    replayed,
    saved,
)
from commands.errors import CommandIdReused, ConcurrencyConflict
from commands.models import CloseAccount, CommandContext, OpenAccount, UpdateProfile
from ledger.account import Account
from ledger.profile import BillingProfile

_COMMAND_NAMESPACE = UUID("0d8f3a52-8e3b-4b8e-9a0e-3c9f3c1d6a41")


def open_account(deps: Deps, cmd: OpenAccount, ctx: CommandContext) -> CommandResult:
    account_id = _account_id_for(deps, ctx)
    profile = BillingProfile(cmd.name, str(cmd.email), cmd.country, cmd.currency, cmd.tax_id)
    account = Account.open(account_id, profile, meta_of(deps, ctx))
    try:
        return saved(deps, account)
    except IntegrityError:
        return _replay_of_open(deps, account_id, profile, ctx)


def update_profile(deps: Deps, cmd: UpdateProfile, ctx: CommandContext) -> CommandResult:
    def act(account: Account) -> None:
        changes = cmd.model_dump(exclude={"account_id"}, exclude_none=True, mode="json")
        account.update_profile(account.profile.with_changes(**changes), meta_of(deps, ctx))

    return load_act_save(deps, cmd.account_id, ctx, act)


def close_account(deps: Deps, cmd: CloseAccount, ctx: CommandContext) -> CommandResult:
    return load_act_save(
        deps, cmd.account_id, ctx, lambda account: account.close(meta_of(deps, ctx))
    )


def account_id_for_command(command_id: UUID) -> UUID:
    """The id an account opened by this command gets: a repeat of the command collides."""
    return uuid5(_COMMAND_NAMESPACE, str(command_id))


def _account_id_for(deps: Deps, ctx: CommandContext) -> UUID:
    if ctx.command_id is None:
        return deps.new_id()
    return account_id_for_command(ctx.command_id)


def _replay_of_open(
    deps: Deps, account_id: UUID, profile: BillingProfile, ctx: CommandContext
) -> CommandResult:
    """The deterministic id already exists: the same command was sent again (same result,
    no new events), or its id was reused with another payload (refused)."""
    if ctx.command_id is None:
        raise ConcurrencyConflict()
    existing = load_account(deps.app, account_id)
    refuse_other_request(existing, ctx)
    if existing.opened_with != profile:
        raise CommandIdReused()
    return replayed(deps, account_id, existing.version_after_command(ctx.command_id) or 1)
