"""Handlers: load the account, act, save. Each returns where its events landed so callers can
wait for the read models to catch up (read-your-writes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from commands.application import LedgerApplication
from commands.errors import AccountNotFound, CommandIdReused, ConcurrencyConflict
from commands.models import CloseAccount, CommandContext, OpenAccount, UpdateProfile
from commands.ports import Clock, IdSource
from ledger.account import Account
from ledger.meta import Actor, EventMeta
from ledger.profile import BillingProfile

_COMMAND_NAMESPACE = UUID("0d8f3a52-8e3b-4b8e-9a0e-3c9f3c1d6a41")
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Deps:
    app: LedgerApplication
    clock: Clock
    new_id: IdSource


@dataclass(frozen=True)
class CommandResult:
    account_id: UUID
    version: int
    position: int | None
    replayed: bool = False


def open_account(deps: Deps, cmd: OpenAccount, ctx: CommandContext) -> CommandResult:
    account_id = _account_id_for(deps, ctx)
    profile = BillingProfile(cmd.name, str(cmd.email), cmd.country, cmd.currency, cmd.tax_id)
    account = Account.open(account_id, profile, _meta(deps, ctx))
    try:
        return _saved(deps, account)
    except IntegrityError:
        return _replay_of_open(deps, account_id, profile, ctx)


def update_profile(deps: Deps, cmd: UpdateProfile, ctx: CommandContext) -> CommandResult:
    def act(account: Account) -> None:
        changes = cmd.model_dump(exclude={"account_id"}, exclude_none=True, mode="json")
        account.update_profile(account.profile.with_changes(**changes), _meta(deps, ctx))

    return _load_act_save(deps, cmd.account_id, act)


def close_account(deps: Deps, cmd: CloseAccount, ctx: CommandContext) -> CommandResult:
    return _load_act_save(deps, cmd.account_id, lambda account: account.close(_meta(deps, ctx)))


def load_account(app: LedgerApplication, account_id: UUID) -> Account:
    try:
        account: object = app.repository.get(account_id)
    except AggregateNotFoundError:
        raise AccountNotFound() from None
    if not isinstance(account, Account):
        raise AccountNotFound()
    return account


def _load_act_save(deps: Deps, account_id: UUID, act: Callable[[Account], None]) -> CommandResult:
    """Optimistic concurrency: a conflicting concurrent save surfaces as IntegrityError on
    (stream, version); reload and rerun a bounded number of times."""
    for _ in range(MAX_ATTEMPTS):
        account = load_account(deps.app, account_id)
        act(account)
        try:
            return _saved(deps, account)
        except IntegrityError:
            continue
    raise ConcurrencyConflict()


def _saved(deps: Deps, account: Account) -> CommandResult:
    recordings = deps.app.save(account)
    position = recordings[-1].notification.id if recordings else None
    return CommandResult(account_id=account.id, version=account.version, position=position)


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
    if existing.opened_with != profile:
        raise CommandIdReused()
    return CommandResult(
        account_id=account_id, version=existing.version, position=None, replayed=True
    )


def _meta(deps: Deps, ctx: CommandContext) -> EventMeta:
    return EventMeta(
        actor=Actor(id=ctx.actor_id, kind=ctx.actor_kind),
        surface=ctx.surface,
        reason=ctx.reason,
        correlation_id=ctx.correlation_id,
        causation_id=ctx.causation_id,
        command_id=ctx.command_id,
        occurred_at=deps.clock.now(),
    )
