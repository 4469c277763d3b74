"""What every handler shares: dependencies, load-act-save with optimistic concurrency and
idempotent command ids, and the audit metadata of the events it records."""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from commands.application import LedgerApplication
from commands.catalogue import StaticCatalogue
from commands.errors import AccountNotFound, CommandIdReused, ConcurrencyConflict
from commands.models import CommandContext
from commands.paypal_ports import PayPalVault
from commands.ports import (
    AccountClocks,
    CardVault,
    Catalogue,
    ChargeRequest,
    ChargeResult,
    Clock,
    CustomerDirectory,
    EventPositions,
    IdSource,
    OneByOne,
    PageLoader,
    PaymentGateway,
    PaymentLookup,
    ProcessorUnavailable,
    RefundRequest,
)
from ledger.account import Account
from ledger.dunning import DunningPolicy
from ledger.errors import DomainError
from ledger.meta import Actor, EventMeta
from ledger.payments import ActionPolicy, Processor

PROCESSOR_NOT_CONFIGURED = "processor_not_configured"
MAX_ATTEMPTS = 5
BACKOFF_S = 0.005  # first retry waits up to 5 ms, doubling: rivals fall out of step
T = TypeVar("T")


class NoProcessor:
    """The gateway when no processor is configured. A charge is declined outright (nothing
    could have been charged, so the outcome is known: no attempt is left pending); a refund
    is refused before anything is recorded."""

    def charge(self, request: ChargeRequest) -> ChargeResult:
        return ChargeResult(succeeded=False, decline_code=PROCESSOR_NOT_CONFIGURED)

    def refund(self, request: RefundRequest) -> str:
        raise ProcessorUnavailable("no payment processor is configured")

    def find_charge(self, attempt_id: str, processor: Processor) -> ChargeResult | None:
        # Never "not seen": an attempt pending from when a processor WAS configured may
        # have been charged, and only that processor can say.
        raise ProcessorUnavailable("no payment processor is configured")

    def cancel_charge(
        self, attempt_id: str, processor: Processor, processor_payment_id: str
    ) -> ChargeResult:
        # Only a configured processor can have asked for customer action, and only it can
        # cancel: the attempt keeps waiting until that processor is configured again.
        raise ProcessorUnavailable("no payment processor is configured")


@dataclass(frozen=True)
class ProcessorAccounts:
    """Customers and vaults at the processors; None where a processor is not configured."""

    stripe_customers: CustomerDirectory | None = None
    cards: CardVault | None = None
    paypal: PayPalVault | None = None
    payments: Mapping[Processor, PaymentLookup] = field(default_factory=dict)  # reconciliation


@dataclass(frozen=True)
class Deps:
    app: LedgerApplication
    clock: Clock
    new_id: IdSource
    positions: EventPositions
    gateway: PaymentGateway = field(default_factory=NoProcessor)
    catalogue: Catalogue = field(default_factory=StaticCatalogue)
    dunning: DunningPolicy = field(default_factory=DunningPolicy)
    actions: ActionPolicy = field(default_factory=ActionPolicy)
    processors: ProcessorAccounts = field(default_factory=ProcessorAccounts)
    account_clocks: AccountClocks | None = None  # test clocks; None in production
    pages: PageLoader = field(default_factory=OneByOne)  # the billing run's page loads
    charge_concurrency: int = 1  # the billing run's processor calls at a time, per page


@dataclass(frozen=True)
class CommandResult:
    account_id: UUID
    version: int
    position: int | None
    replayed: bool = False


def load_account(app: LedgerApplication, account_id: UUID) -> Account:
    try:
        account: object = app.repository.get(account_id)
    except AggregateNotFoundError:
        raise AccountNotFound() from None
    if not isinstance(account, Account):
        raise AccountNotFound()
    return account


def load_act_save(
    deps: Deps, account_id: UUID, ctx: CommandContext, act: Callable[[Account], object]
) -> CommandResult:
    """Optimistic concurrency: a concurrent save surfaces as IntegrityError on (stream,
    version); reload and rerun, a bounded number of times. A command id the account has
    already seen returns the same result and records nothing."""
    return acting(deps, account_id, ctx, act)[1]


def acting(
    deps: Deps, account_id: UUID, ctx: CommandContext, act: Callable[[Account], T]
) -> tuple[T | None, CommandResult]:
    """load_act_save that also returns what `act` returned (None for a replayed command)."""
    value, result, _ = acted(deps, account_id, ctx, act)
    return value, result


def acted(
    deps: Deps,
    account_id: UUID,
    ctx: CommandContext,
    act: Callable[[Account], T],
    loaded: Account | None = None,
) -> tuple[T | None, CommandResult, Account]:
    """`acting` that also returns the account as it saved it (or found it, for a replay), so
    the next step of the same command acts on it instead of loading it again. `loaded` is
    such an account from the step before: the first try acts on it; a conflict reloads, and
    so does a refusal when the store has moved on since (a webhook recorded meanwhile): a
    command decides on the stored account, as if it had loaded it."""
    for attempt in range(MAX_ATTEMPTS):
        if attempt == 0 and loaded is not None:
            account = loaded
        else:
            account = load_account(deps.app, account_id)
        if (replay := replay_of(deps, account, ctx)) is not None:
            return None, replay, account
        version = account.version
        try:
            value = act(account)
        except DomainError:
            if account is loaded and stored_version(deps.app, account_id) != version:
                loaded = None
                continue
            raise
        try:
            return value, saved(deps, account), account
        except IntegrityError:
            time.sleep(random.uniform(0, BACKOFF_S * 2**attempt))  # noqa: S311 - jitter
    raise ConcurrencyConflict()


def stored_version(app: LedgerApplication, account_id: UUID) -> int | None:
    """The account's last stored version, read without loading the account."""
    last = app.recorder.select_events(account_id, desc=True, limit=1)
    return last[0].originator_version if last else None


def replay_of(deps: Deps, account: Account, ctx: CommandContext) -> CommandResult | None:
    """The answer to a command the account has already seen (same version, nothing
    recorded), or None for a new one. The same command id with another request is refused
    (`CommandIdReused`); a command remembered without a fingerprint (recorded before
    fingerprints existed) is answered as a replay."""
    if ctx.command_id is None:
        return None
    seen = account.version_after_command(ctx.command_id)
    if seen is None:
        return None
    refuse_other_request(account, ctx)
    return replayed(deps, account.id, seen)


def replayed(deps: Deps, account_id: UUID, version: int) -> CommandResult:
    """What a command that brought the account to `version` answered the first time: that
    version and its event's position, marked as a replay (nothing new was recorded)."""
    position = deps.positions.position_of(account_id, version)
    return CommandResult(account_id, version, position, replayed=True)


def refuse_other_request(account: Account, ctx: CommandContext) -> None:
    if ctx.command_id is None or ctx.fingerprint is None:
        return
    first = account.fingerprint_of_command(ctx.command_id)
    if first is not None and first != ctx.fingerprint:
        raise CommandIdReused()


def fingerprint(kind: str, request: object) -> str:
    """SHA-256 of what a request asked: its kind (route, command) and its parameters as
    canonical JSON (sorted keys, no whitespace), so equal requests hash equal."""
    canonical = json.dumps(
        [kind, request], sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def follow_up(ctx: CommandContext) -> CommandContext:
    """The context of a later step of the same command (e.g. recording a charge's outcome):
    caused by the command, but not a repeat of it."""
    cause = ctx.command_id or ctx.causation_id
    return ctx.model_copy(update={"command_id": None, "causation_id": cause})


def saved(deps: Deps, account: Account) -> CommandResult:
    recordings = deps.app.save_command(account)
    position = recordings[-1].notification.id if recordings else None
    return CommandResult(account_id=account.id, version=account.version, position=position)


def meta_of(deps: Deps, ctx: CommandContext) -> EventMeta:
    return EventMeta(
        actor=Actor(id=ctx.actor_id, kind=ctx.actor_kind),
        surface=ctx.surface,
        reason=ctx.reason,
        correlation_id=ctx.correlation_id,
        causation_id=ctx.causation_id,
        command_id=ctx.command_id,
        fingerprint=ctx.fingerprint if ctx.command_id else None,
        occurred_at=deps.clock.now(),
    )


_ID_NAMESPACE = UUID("6c1f5e8a-2b7d-4a6f-8e2d-9b4c3a1f0e77")


def new_id_for(deps: Deps, ctx: CommandContext, kind: str) -> str:
    """Ids of things a command creates: derived from the command id when there is one, so a
    repeated command names (and finds) the same method, invoice or attempt."""
    if ctx.command_id is None:
        return str(deps.new_id())
    return str(uuid5(_ID_NAMESPACE, f"{kind}:{ctx.command_id}"))
